/*
 * lane.c - the incident state machine of one lane.
 *
 * A note on dwell, hysteresis and occlusion.
 *
 * A property manager cares about a place: "the lane outside building 3 has
 * been blocked for two minutes". So the dwell clock here belongs to a *spot*,
 * a box in the lane where an object came to rest, and not to whatever id a
 * tracker or detector gave it. Detection tells us every tick what it sees at
 * rest (fl_sighting): where, since when (the time the object stopped moving,
 * back-dated by detection, so confirming rest costs no dwell time), and
 * whether the object itself is visible (PRESENT), hidden behind something
 * passing in front (HIDDEN) or gone, the clear lane showing again (GONE).
 *
 * Each spot then runs this small machine:
 *
 *   (new sighting) -> occupied --(t - rest_since >= dwell_s, lane active)-->
 *   alarm --(clear lane seen for clear_s)--> cleared
 *   occupied --(clear lane seen for clear_s)--> vacated (no alarm was due)
 *
 * Hysteresis: entering needs the object at rest for detect.rest_s (done by
 * detection, which back-dates rest_since); leaving needs clear_s of clear
 * lane, so one noisy tick neither opens nor closes anything. Occlusion: a
 * HIDDEN spot keeps its clock and its incident for up to occlusion_s, so a
 * truck passing in front of a parked car, or people standing in front of it,
 * neither restart the clock nor end the incident. A spot that detection stops
 * reporting at all counts as clear, since detection holds what it cannot see.
 *
 * One incident per obstruction: a spot carries one incident id from occupied
 * to cleared, however often detection re-segments or loses it. A second
 * vehicle in the same place after the first left is a new incident: either
 * the first spot closed (clear_s passed) before it came, or detection reports
 * a rest start later than the spot's object was last seen, which can only be
 * a new object.
 *
 * Classes: a sighting may carry a class (vehicle, object, person); unknown
 * counts as an object, and so does an object, unless it has a person's
 * shape (judged_class()). A
 * spot whose class the lane does not count (people, by default) stays
 * silent; if a counted spot turns out to be a person before its alarm, it is
 * vacated.
 */
#include "lane.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fl.h"
#include "geom.h"

/* Sightings that overlap a spot this much (of the smaller box) are it. */
#define SAME_PLACE 0.5

/* Least-squares line x = a + b y through n points. */
static void fit_line(const double *y, const double *x, int n, double *a,
		     double *b)
{
	double sy = 0, sx = 0, syy = 0, sxy = 0, d;

	for (int i = 0; i < n; i++) {
		sy += y[i];
		sx += x[i];
		syy += y[i] * y[i];
		sxy += x[i] * y[i];
	}
	d = n * syy - sy * sy;
	*b = n > 1 && fabs(d) > 1e-9 ? (n * sxy - sx * sy) / d : 0;
	*a = n ? (sx - *b * sy) / n : 0;
}

/* The lane's edges as lines, for its span and scale beyond its rows. */
static void fit_edges(fl_lane *lane)
{
	const fl_lane_conf *c = lane->conf;
	double ys[32], xl[32], xr[32];
	int n = 0;

	lane->ymin = lane->ymax = c->points[0].y;
	for (int i = 1; i < c->npoints; i++) {
		lane->ymin = FL_MIN(lane->ymin, c->points[i].y);
		lane->ymax = FL_MAX(lane->ymax, c->points[i].y);
	}
	for (int i = 0; i < 32; i++) {
		double y = lane->ymin +
			   (lane->ymax - lane->ymin) * (i + 0.5) / 32;
		if (fl_poly_span(c->points, c->npoints, y, &xl[n], &xr[n]))
			ys[n++] = y;
	}
	fit_line(ys, xl, n, &lane->la, &lane->lb);
	fit_line(ys, xr, n, &lane->ra, &lane->rb);
}

void fl_lane_init(fl_lane *lane, const fl_lane_conf *conf, const char *camera,
		  const char *id_prefix)
{
	memset(lane, 0, sizeof(*lane));
	lane->conf = conf;
	lane->camera = camera;
	snprintf(lane->id_prefix, sizeof(lane->id_prefix), "%s", id_prefix);
	lane->next_seq = 1;
	fit_edges(lane);
}

double fl_lane_span(const fl_lane *lane, double y, double *x0, double *x1)
{
	const fl_lane_conf *c = lane->conf;

	if (y < lane->ymin || y > lane->ymax ||
	    !fl_poly_span(c->points, c->npoints, y, x0, x1)) {
		*x0 = lane->la + lane->lb * y;
		*x1 = lane->ra + lane->rb * y;
	}
	if (*x1 - *x0 < 1) { /* beyond where the edges meet: no lane */
		double m = (*x0 + *x1) / 2;
		*x0 = m - 0.5;
		*x1 = m + 0.5;
	}
	return *x1 - *x0;
}

const char *fl_lane_state(const fl_lane *lane)
{
	const char *state = "clear";

	for (int i = 0; i < FL_LANE_SPOTS; i++) {
		const fl_spot *sp = &lane->spots[i];
		if (!sp->used || !sp->counted)
			continue;
		if (sp->alarmed)
			return "blocked";
		state = "occupied";
	}
	return state;
}

/* Does the lane count objects of class cls as obstructions? */
static int counts(const fl_lane *lane, int cls)
{
	return (lane->conf->classes & (cls ? cls : FL_CLASS_OBJECT)) != 0;
}

/*
 * The class of a sighting or spot as the lane judges it: a vehicle or a
 * person where a detector named one, else its shape where it stands. A
 * thing at most PERSON_W_M wide and at least PERSON_TALL times as tall as
 * wide (metres at the lane's scale on its bottom row, width_m across the
 * polygon) is a person's shape: someone standing or sitting in the lane,
 * whom no property manager fines, not clutter (docs/config.md,
 * `obstructions`; a site that wants people alarmed lists person). The
 * shape follows the box as detection reports it, until the alarm.
 *
 * An object (a detector's name that is neither a vehicle nor a person:
 * the COCO rest) does not outweigh the shape. A small model names the
 * things the lane sees at 20-60 pixels tall, and there it calls a person
 * standing in the lane a bench or a television at a confidence of 0.3-0.7
 * (docs/eval.md, the model setting); the shape is the better witness. So
 * a tall narrow thing that is truly an object (an upright suitcase) is
 * judged a person with a model as without one.
 */
#define PERSON_W_M 0.8 /* wider: not one person */
#define PERSON_TALL 2.0

static int judged_class(const fl_lane *lane, const double box[4], int cls)
{
	double x0, x1, m_per_px;

	if ((cls && cls != FL_CLASS_OBJECT) || box[2] <= 0 ||
	    box[3] < PERSON_TALL * box[2])
		return cls;
	m_per_px = lane->conf->width_m /
		   fl_lane_span(lane, box[1] + box[3], &x0, &x1);
	return box[2] * m_per_px <= PERSON_W_M ? FL_CLASS_PERSON : cls;
}

/*
 * Does the sighting obstruct this lane? A note on the policy.
 *
 * What blocks a fire engine is what stands on the lane's ground, not what
 * covers its pixels: a van in the bay beside it covers lane pixels with its
 * body, a car with two wheels on the footway stands a little in it. So an
 * object counts by its footprint: `foot`, the fraction of where it meets
 * the ground (its lowest pixels, column by column) that lies across the
 * lane at that row, must reach min_overlap (0.3 by default: a car a third
 * of whose width is in the lane blocks it; one with a wheel over the line
 * does not). Along the lane, the object must stand in it: its bottom
 * inside the polygon, or most of it inside. With clear_width_m, an
 * object with less overlap still counts when the lane left clear beside it
 * is narrower than that (at width_m for the polygon's width at its row).
 *
 * Size is judged in metres where the object stands: the polygon's width at
 * its bottom row is width_m, so a speck at the far end is as small as it
 * really is, and a near object as large (min_size_m; min_size_px is a floor
 * in pixels against noise).
 */
static int in_lane(const fl_lane *lane, const fl_sighting *s)
{
	const fl_lane_conf *c = lane->conf;
	double foot_x = s->box[0] + s->box[2] / 2,
	       foot_y = s->box[1] + s->box[3];
	double x0, x1, m_per_px, free_m;

	if (s->box[2] < c->min_size_px || s->box[3] < c->min_size_px)
		return 0;
	m_per_px = c->width_m / fl_lane_span(lane, foot_y, &x0, &x1);
	if (s->box[2] * m_per_px < c->min_size_m ||
	    s->box[3] * m_per_px < c->min_size_m)
		return 0;
	/* along the lane: its bottom (moved across into the lane's span)
	 * inside the polygon, or most of it inside */
	foot_x = FL_MIN(x1 - 0.5, FL_MAX(x0 + 0.5, foot_x));
	if (!(s->inside >= 0.5 ||
	      (s->inside > 0 &&
	       fl_poly_contains(c->points, c->npoints, foot_x, foot_y - 1))))
		return 0;
	if (s->foot >= c->min_overlap)
		return 1;
	if (c->clear_width_m <= 0 || s->foot <= 0)
		return 0;
	/* the widest strip left beside it, metres */
	free_m = FL_MAX(FL_MAX(0, s->box[0] - x0),
			FL_MAX(0, x1 - (s->box[0] + s->box[2]))) *
		 m_per_px;
	return free_m < c->clear_width_m;
}

static void emit_event(fl_lane *lane, const fl_spot *sp,
		       enum fl_event_type type, double t, fl_event_fn emit,
		       void *user)
{
	fl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.camera = lane->camera;
	ev.lane = lane->conf->id;
	memcpy(ev.incident_id, sp->incident_id, sizeof(ev.incident_id));
	ev.t = t;
	ev.rest_since = sp->rest_since;
	ev.left_at = sp->gone_since >= 0 ? sp->gone_since : t;
	memcpy(ev.bbox, sp->box, sizeof(ev.bbox));
	ev.cls = sp->cls;
	if (emit)
		emit(&ev, user);
}

/*
 * The incident id: <device>-<start>-<lane>-<n>, or on a device with several
 * cameras <device>-<start>-<camera>-<lane>-<n> (the prefix is the camera's:
 * camera.c). The hub takes an incident
 * as the device's only when it starts with the whole device id, so that part
 * is never cut; a lane id too long to fit beside a long device id is
 * replaced by its FNV-1a hash, which keeps ids of different lanes apart.
 */
static void incident_id(const fl_lane *lane, unsigned seq, char *out, size_t n)
{
	const char *lid = lane->conf->id;
	uint32_t h = 2166136261u;

	if ((size_t)snprintf(out, n, "%s-%s-%u", lane->id_prefix, lid, seq) < n)
		return;
	for (const char *p = lid; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(out, n, "%s-%08x-%u", lane->id_prefix, (unsigned)h, seq);
}

static fl_spot *spot_open(fl_lane *lane, const fl_sighting *s, double t,
			  fl_event_fn emit, void *user)
{
	fl_spot *sp = NULL;

	for (int i = 0; i < FL_LANE_SPOTS && !sp; i++)
		if (!lane->spots[i].used)
			sp = &lane->spots[i];
	if (!sp)
		return NULL; /* more objects than spots: the lane is blocked anyway */
	memset(sp, 0, sizeof(*sp));
	sp->used = 1;
	sp->seq = lane->next_seq++;
	incident_id(lane, sp->seq, sp->incident_id, sizeof(sp->incident_id));
	memcpy(sp->box, s->box, sizeof(sp->box));
	sp->rest_since = s->rest_since;
	sp->last_present = t;
	sp->hidden_since = -1;
	sp->gone_since = -1;
	sp->cls = s->cls;
	sp->counted = counts(lane, judged_class(lane, s->box, s->cls));
	return sp;
}

/* Close a spot: cleared if it alarmed, vacated if it was only occupied. */
static void spot_close(fl_lane *lane, fl_spot *sp, double t, fl_event_fn emit,
		       void *user)
{
	if (sp->alarmed)
		emit_event(lane, sp, FL_EV_CLEARED, t, emit, user);
	else if (sp->announced)
		emit_event(lane, sp, FL_EV_VACATED, t, emit, user);
	sp->used = 0;
}

static void box_union(double *a, const double *b)
{
	double x1 = FL_MAX(a[0] + a[2], b[0] + b[2]);
	double y1 = FL_MAX(a[1] + a[3], b[1] + b[3]);

	a[0] = FL_MIN(a[0], b[0]);
	a[1] = FL_MIN(a[1], b[1]);
	a[2] = x1 - a[0];
	a[3] = y1 - a[1];
}

/* Best status a set of sightings gives a spot: PRESENT beats HIDDEN beats
 * GONE. -1 when nothing matched. */
static int merge_seen(int a, enum fl_seen b)
{
	static const int rank[] = {
		[FL_SEEN_PRESENT] = 2, [FL_SEEN_HIDDEN] = 1, [FL_SEEN_GONE] = 0
	};
	if (a < 0 || rank[b] > rank[a])
		return (int)b;
	return a;
}

/*
 * Two spots that have come to cover one place are one object seen in pieces
 * (a car whose roof and bumper settled apart): the younger joins the older,
 * which keeps its incident. One already alarmed is never merged away.
 */
static void merge_spots(fl_lane *lane, fl_event_fn emit, void *user)
{
	for (int i = 0; i < FL_LANE_SPOTS; i++) {
		fl_spot *a = &lane->spots[i];
		if (!a->used)
			continue;
		for (int j = 0; j < FL_LANE_SPOTS; j++) {
			fl_spot *b = &lane->spots[j];
			double grown[4];
			if (j == i || !b->used || b->alarmed || b->seq < a->seq)
				continue;
			/* Pieces side by side touch once grown by a fifth. */
			grown[0] = b->box[0] - b->box[2] / 10;
			grown[1] = b->box[1] - b->box[3] / 10;
			grown[2] = b->box[2] * 1.2;
			grown[3] = b->box[3] * 1.2;
			if (fl_box_overlap_min(a->box, grown) <= 0 ||
			    (fl_box_overlap_min(a->box, b->box) < SAME_PLACE &&
			     b->rest_since - a->rest_since > 3.0))
				continue;
			/* The older spot keeps its own clock: a younger piece
			 * claiming an older rest start is left over from
			 * something that has gone. */
			box_union(a->box, b->box);
			a->counted |= b->counted;
			if (b->announced)
				emit_event(lane, b, FL_EV_VACATED,
					   b->last_present, emit, user);
			b->used = 0;
		}
	}
}

int fl_lane_memos(const fl_lane *lane, fl_lane_memo *out, int max)
{
	int n = 0;

	for (int i = 0; i < FL_LANE_SPOTS && n < max; i++) {
		const fl_spot *sp = &lane->spots[i];
		if (!sp->used || !sp->counted ||
		    !(sp->announced || sp->alarmed))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		memcpy(out[n].incident_id, sp->incident_id,
		       sizeof(out[n].incident_id));
		memcpy(out[n].box, sp->box, sizeof(out[n].box));
		out[n].rest_since = sp->rest_since;
		out[n].cls = sp->cls;
		out[n].alarmed = sp->alarmed;
		out[n].announced = sp->announced;
		n++;
	}
	/* still expected: kept as they were until seen or given up */
	for (int i = 0; i < lane->nexpect && n < max; i++)
		if (lane->expect[i].incident_id[0])
			out[n++] = lane->expect[i];
	return n;
}

void fl_lane_expect(fl_lane *lane, const fl_lane_memo *m, int n, double t,
		    double grace_s)
{
	lane->nexpect = FL_MIN(n, FL_LANE_SPOTS);
	memcpy(lane->expect, m, (size_t)lane->nexpect * sizeof(*m));
	lane->expect_t = t;
	lane->expect_until = t + grace_s;
}

/* An expected incident is back: its spot, as it was before the restart. */
static void spot_resume(fl_lane *lane, int e, const fl_sighting *s, double t)
{
	const fl_lane_memo *m = &lane->expect[e];
	fl_spot *sp = NULL;

	for (int i = 0; i < FL_LANE_SPOTS && !sp; i++)
		if (!lane->spots[i].used)
			sp = &lane->spots[i];
	if (sp) {
		memset(sp, 0, sizeof(*sp));
		sp->used = 1;
		sp->seq = 0; /* older than anything opened in this run */
		memcpy(sp->incident_id, m->incident_id,
		       sizeof(sp->incident_id));
		memcpy(sp->box, s->box, sizeof(sp->box));
		sp->rest_since = m->rest_since;
		sp->last_present = t;
		sp->hidden_since = -1;
		sp->gone_since = -1;
		sp->cls = s->cls ? s->cls : m->cls;
		sp->counted = counts(lane, sp->cls) || m->alarmed;
		sp->alarmed = m->alarmed;
		sp->announced = m->announced;
		sp->hold_until = lane->expect_until;
	}
	lane->expect[e].incident_id[0] = '\0'; /* taken */
}

/* Expected incidents not seen in time went while the edge was down. */
static void expect_expire(fl_lane *lane, double t, fl_event_fn emit, void *user)
{
	if (!lane->nexpect || t < lane->expect_until)
		return;
	for (int i = 0; i < lane->nexpect; i++) {
		const fl_lane_memo *m = &lane->expect[i];
		fl_spot sp;

		if (!m->incident_id[0])
			continue;
		memset(&sp, 0, sizeof(sp));
		memcpy(sp.incident_id, m->incident_id, sizeof(sp.incident_id));
		memcpy(sp.box, m->box, sizeof(sp.box));
		sp.rest_since = m->rest_since;
		sp.gone_since = lane->expect_t;
		sp.cls = m->cls;
		sp.alarmed = m->alarmed;
		sp.announced = m->announced;
		spot_close(lane, &sp, t, emit, user);
	}
	lane->nexpect = 0;
}

void fl_lane_update(fl_lane *lane, double t, int active, const fl_sighting *s,
		    size_t n, fl_event_fn emit, void *user)
{
	const fl_lane_conf *c = lane->conf;
	int seen[FL_LANE_SPOTS];
	double box[FL_LANE_SPOTS][4]; /* union of this tick's pieces */
	double since[FL_LANE_SPOTS];  /* their earliest rest start */

	for (int i = 0; i < FL_LANE_SPOTS; i++)
		seen[i] = -1;

	/* Match sightings to spots; a sighting matching none opens a spot. */
	for (size_t k = 0; k < n; k++) {
		int matched = 0;

		if (!in_lane(lane, &s[k]))
			continue;
		if (s[k].memo > 0 && s[k].memo <= lane->nexpect &&
		    lane->expect[s[k].memo - 1].incident_id[0])
			spot_resume(lane, s[k].memo - 1, &s[k], t);
		for (int i = 0; i < FL_LANE_SPOTS; i++) {
			fl_spot *sp = &lane->spots[i];
			if (!sp->used ||
			    fl_box_overlap_min(sp->box, s[k].box) < SAME_PLACE)
				continue;
			matched = 1;
			if (s[k].seen == FL_SEEN_PRESENT &&
			    s[k].rest_since > sp->last_present + 1.0) {
				/* Came to rest after the old object was last
				 * seen: a new obstruction in the same place. */
				if (sp->gone_since < 0)
					sp->gone_since = s[k].rest_since;
				spot_close(lane, sp, t, emit, user);
				seen[i] = -1;
				matched = 0;
				continue;
			}
			if (s[k].seen == FL_SEEN_PRESENT) {
				/* Pieces of one object may come apart; the
				 * spot's place is matched as it was last tick
				 * and becomes the union of what is seen now. */
				if (seen[i] == FL_SEEN_PRESENT) {
					box_union(box[i], s[k].box);
					since[i] = FL_MIN(since[i],
							  s[k].rest_since);
				} else {
					memcpy(box[i], s[k].box,
					       sizeof(box[i]));
					since[i] = s[k].rest_since;
				}
				if (s[k].cls)
					sp->cls = s[k].cls;
			}
			seen[i] = merge_seen(seen[i], s[k].seen);
		}
		if (!matched && s[k].seen == FL_SEEN_PRESENT) {
			fl_spot *sp = spot_open(lane, &s[k], t, emit, user);
			if (sp) {
				seen[sp - lane->spots] = FL_SEEN_PRESENT;
				memcpy(box[sp - lane->spots], s[k].box,
				       sizeof(box[0]));
				since[sp - lane->spots] = s[k].rest_since;
			}
		}
	}

	merge_spots(lane, emit, user);
	expect_expire(lane, t, emit, user);

	/* A resumed incident's object is at rest since the restart, as far
	 * as this run can tell: it keeps the rest start it had. */
	for (int i = 0; i < FL_LANE_SPOTS; i++)
		if (lane->spots[i].used && seen[i] == FL_SEEN_PRESENT &&
		    since[i] <= lane->spots[i].hold_until)
			since[i] = lane->spots[i].rest_since;

	/* An alarmed obstruction whose rest start jumps ahead has gone, and
	 * what rests in its place now is another (same spot, new car). */
	for (int i = 0; i < FL_LANE_SPOTS; i++) {
		fl_spot *sp = &lane->spots[i];
		fl_sighting fresh;

		/* half a dwell: renewed pixels mixed with held ones move the
		 * estimate by less (a truck that stood in front a while) */
		if (!sp->used || !sp->alarmed || seen[i] != FL_SEEN_PRESENT ||
		    since[i] <=
			    sp->rest_since + FL_MAX(c->clear_s, c->dwell_s / 2))
			continue;
		sp->gone_since = since[i];
		spot_close(lane, sp, t, emit, user);
		memset(&fresh, 0, sizeof(fresh));
		memcpy(fresh.box, box[i], sizeof(fresh.box));
		fresh.rest_since = since[i];
		fresh.cls = sp->cls;
		sp = spot_open(lane, &fresh, t, emit, user);
		if (sp) {
			long j = sp - lane->spots;
			seen[j] = FL_SEEN_PRESENT;
			memcpy(box[j], fresh.box, sizeof(box[j]));
			since[j] = fresh.rest_since;
		}
	}

	/* Advance each spot's clocks. */
	for (int i = 0; i < FL_LANE_SPOTS; i++) {
		fl_spot *sp = &lane->spots[i];

		if (!sp->used)
			continue;
		switch (seen[i]) {
		case FL_SEEN_PRESENT:
			memcpy(sp->box, box[i], sizeof(sp->box));
			/* Detection renews the rest start of something that
			 * keeps creeping (a truck crawling through): its
			 * clock follows. Held pixels never move it back. */
			sp->rest_since = FL_MAX(sp->rest_since, since[i]);
			sp->last_present = t;
			sp->hidden_since = -1;
			sp->gone_since = -1;
			break;
		case FL_SEEN_HIDDEN:
			if (sp->hidden_since < 0)
				sp->hidden_since = t;
			/* Hidden too long: we can no longer vouch for it. */
			sp->gone_since = t - sp->hidden_since >= c->occlusion_s
						 ? sp->hidden_since +
							   c->occlusion_s
						 : -1;
			break;
		default: /* GONE, or no longer reported */
			sp->hidden_since = -1;
			if (sp->gone_since < 0)
				sp->gone_since = t;
			break;
		}

		/* A class learnt late, or a shape: people are not
		 * obstructions. */
		if (!sp->alarmed)
			sp->counted = counts(lane, judged_class(lane, sp->box,
								sp->cls));
		if (sp->announced && !sp->counted) {
			emit_event(lane, sp, FL_EV_VACATED, t, emit, user);
			sp->announced = 0;
		}

		if (sp->gone_since >= 0 && t - sp->gone_since >= c->clear_s) {
			spot_close(lane, sp, t, emit, user);
			continue;
		}
		/* Announced once it has survived a tick's merging: pieces of
		 * one object seen apart never make an incident of their own. */
		if (sp->counted && !sp->announced && sp->gone_since < 0) {
			sp->announced = 1;
			emit_event(lane, sp, FL_EV_OCCUPIED, t, emit, user);
		}
		if (sp->counted && !sp->alarmed && active &&
		    sp->gone_since < 0 && t - sp->rest_since >= c->dwell_s) {
			sp->alarmed = 1;
			emit_event(lane, sp, FL_EV_ALARM, t, emit, user);
		}
	}
}
