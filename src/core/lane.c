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
 * counts as an object. A spot whose class the lane does not count (people, by
 * default) stays silent; if a counted spot turns out to be a person before its
 * alarm, it is vacated.
 */
#include "lane.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fl.h"
#include "geom.h"

/* Sightings that overlap a spot this much (of the smaller box) are it. */
#define SAME_PLACE 0.5

void fl_lane_init(fl_lane *lane, const fl_lane_conf *conf, const char *camera,
		  const char *id_prefix)
{
	memset(lane, 0, sizeof(*lane));
	lane->conf = conf;
	lane->camera = camera;
	snprintf(lane->id_prefix, sizeof(lane->id_prefix), "%s", id_prefix);
	lane->next_seq = 1;
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

/* Is the sighting in this lane: mostly inside, or standing in it (its
 * bottom-centre, where a vehicle meets the ground, inside the polygon)? */
static int in_lane(const fl_lane *lane, const fl_sighting *s)
{
	const fl_lane_conf *c = lane->conf;
	double foot_x = s->box[0] + s->box[2] / 2,
	       foot_y = s->box[1] + s->box[3];

	if (s->box[2] < c->min_size_px || s->box[3] < c->min_size_px)
		return 0;
	return s->inside >= 0.5 ||
	       (s->inside > 0 &&
		fl_poly_contains(c->points, c->npoints, foot_x, foot_y - 1));
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
 * The incident id: <device>-<start>-<lane>-<n>. The hub takes an incident
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
	sp->counted = counts(lane, s->cls);
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

		/* A class learnt late: people are not obstructions. */
		if (!sp->alarmed)
			sp->counted = counts(lane, sp->cls);
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
