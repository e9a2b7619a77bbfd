/*
 * evidence.c - the evidence plan of one incident (see evidence.h).
 *
 * A note on what a reviewer needs, and when.
 *
 * An enforcement officer fines or tows on evidence shaped after GA/T 832 and
 * the local illegal-parking rules: several scene images taken while the
 * object stood in the lane, the first and the last far enough apart to show
 * it *stayed* (at least max(10 s, dwell_s)), a close-up, a composite and a
 * clip from before it came to rest to after the alarm. The plan decides the
 * *when* of all that from the lane's events and video time; the evidence
 * writer (src/evidence/writer.c) does the pixels and the files.
 *
 * Scene images. The first is taken when the occupied event arrives (the
 * object has just been confirmed at rest; rest_since is a little earlier, so
 * this picture shows it standing). The second at the alarm. From there one
 * every interval (interval_s, or by default a third of max(10, dwell_s),
 * between 2 and 10 s) until the bundle is complete, never more than
 * max_images. When only one image is left in the budget and the spacing is
 * not yet met, that last image waits until first + span, so a small budget
 * still gives a valid series. Two images are never asked for less than a
 * second apart (an object present from start-up may be occupied and alarmed
 * in the same tick).
 *
 * The clip. Its window is [rest_since - pre_roll_s, alarm + post_roll_s],
 * clamped to the start of the video. The writer starts it as soon as the
 * incident is occupied (the pre-roll ring would otherwise forget the start)
 * and stops it at the window's end.
 *
 * Completion. The bundle is complete when it has at least three scene
 * images, the first and last at least span apart, and the clip window is
 * over. The plan then says SEAL at once: the evidence goes out tens of
 * seconds after the alarm, not hours later when the car finally leaves. Its
 * later history (cleared) belongs to the incident's events, not to the
 * signed bundle.
 *
 * Leaving early. An object that leaves before its alarm (vacated) was never
 * an offence: the plan says DISCARD and nothing is kept, as a parking camera
 * throws away its first photo when the car goes within the grace time. One
 * that leaves after the alarm but before the bundle is complete (cleared), or
 * whose video ends first, is sealed with what exists and a note that names
 * what is missing; the clip is cut at that moment.
 *
 * Each action is returned once and acknowledged by the state change it
 * causes, so a caller that loops on fl_evidence_plan_tick() cannot spin: a
 * SHOOT moves the schedule on whether or not the picture could be written
 * (a full disk must not turn into a picture per frame), SEAL and DISCARD
 * end the plan.
 */
#include "evidence.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fl.h"

#define EPS 1e-6
#define MIN_GAP_S 1.0 /* two scene images are at least this far apart */

double fl_evidence_interval(const fl_evidence_params *prm)
{
	double span;

	if (prm->interval_s > 0)
		return prm->interval_s;
	span = FL_MAX(FL_EVIDENCE_MIN_SPAN_S, prm->dwell_s);
	return FL_MIN(10.0, FL_MAX(2.0, span / 3));
}

void fl_evidence_plan_init(fl_evidence_plan *p, const fl_evidence_params *prm)
{
	memset(p, 0, sizeof(*p));
	p->prm = *prm;
	if (p->prm.max_images < FL_EVIDENCE_MIN_IMAGES)
		p->prm.max_images = FL_EVIDENCE_MIN_IMAGES;
	p->phase = FL_EVP_IDLE;
	p->interval = fl_evidence_interval(prm);
	p->span = FL_MAX(FL_EVIDENCE_MIN_SPAN_S, prm->dwell_s);
	p->alarm_t = -1;
	p->end_t = -1;
	p->first_t = -1;
	p->last_t = -1;
	p->next_t = -1;
	p->end_why = "";
}

void fl_evidence_plan_deinit(fl_evidence_plan *p)
{
	/* Nothing on the heap; clear it so a stale plan is visibly dead. */
	memset(p, 0, sizeof(*p));
	p->phase = FL_EVP_DONE;
}

const char *fl_evidence_shot_name(int kind)
{
	switch (kind) {
	case FL_SHOT_REST:
		return "rest";
	case FL_SHOT_ALARM:
		return "alarm";
	}
	return "periodic";
}

static void close_plan(fl_evidence_plan *p, double t, const char *why)
{
	p->phase = FL_EVP_CLOSING;
	p->end_t = t;
	p->end_why = why;
	p->next_t = -1;
}

int fl_evidence_plan_event(fl_evidence_plan *p, const fl_event *ev)
{
	if (!p->incident_id[0])
		snprintf(p->incident_id, sizeof(p->incident_id), "%s",
			 ev->incident_id);
	else if (strcmp(p->incident_id, ev->incident_id) != 0)
		return FL_EINVAL;

	switch (ev->type) {
	case FL_EV_OCCUPIED:
		if (p->phase != FL_EVP_IDLE)
			break;
		p->phase = FL_EVP_RESTING;
		p->rest_since = ev->rest_since;
		p->occupied_t = ev->t;
		p->next_t = ev->t;
		p->next_kind = FL_SHOT_REST;
		break;
	case FL_EV_ALARM:
		if (p->phase == FL_EVP_IDLE) {
			/* No occupied seen (should not happen): start here. */
			p->rest_since = ev->rest_since;
			p->occupied_t = ev->t;
		} else if (p->phase != FL_EVP_RESTING) {
			break;
		}
		p->phase = FL_EVP_ALARMED;
		p->alarm_t = ev->t;
		if (p->attempts == 0 && p->next_t >= 0) {
			/* The rest image is still due: it goes first. */
			p->alarm_pending = 1;
			break;
		}
		p->next_t = p->attempts ? FL_MAX(ev->t, p->last_t + MIN_GAP_S)
					: ev->t;
		p->next_kind = FL_SHOT_ALARM;
		break;
	case FL_EV_CLEARED:
	case FL_EV_VACATED:
		if (p->phase == FL_EVP_ALARMED)
			close_plan(p, ev->t,
				   ev->type == FL_EV_CLEARED ? "cleared"
							     : "vacated");
		else if (p->phase == FL_EVP_IDLE ||
			 p->phase == FL_EVP_RESTING) {
			p->phase = FL_EVP_LEAVING;
			p->end_t = ev->t;
			p->end_why = "vacated";
		}
		break;
	case FL_EV_WARNED:
	case FL_EV_ESCALATED:
	case FL_EV_CAMERA_OFFLINE: /* camera events: not an incident's */
	case FL_EV_CAMERA_ONLINE:
	case FL_EV_HEALTH:
		break;
	}
	return 0;
}

void fl_evidence_plan_clip(const fl_evidence_plan *p, double *from, double *to)
{
	double a = FL_MAX(p->prm.video_start,
			  p->rest_since - p->prm.pre_roll_s);
	double b = p->alarm_t < 0 ? INFINITY : p->alarm_t + p->prm.post_roll_s;

	if (p->end_t >= 0 && p->end_t < b && p->phase != FL_EVP_LEAVING)
		b = p->end_t;
	if (from)
		*from = a;
	if (to)
		*to = b;
}

static int spaced(const fl_evidence_plan *p)
{
	return p->nimages >= 2 && p->last_t - p->first_t >= p->span - EPS;
}

int fl_evidence_plan_complete(const fl_evidence_plan *p, double t)
{
	return p->alarm_t >= 0 && p->nimages >= FL_EVIDENCE_MIN_IMAGES &&
	       spaced(p) && t >= p->alarm_t + p->prm.post_roll_s - EPS;
}

/*
 * After a SHOOT at t in the alarmed phase: the next image is due one
 * interval later, unless it is the last of the budget and the spacing still
 * needs a later one.
 */
static void schedule_next(fl_evidence_plan *p, double t)
{
	double first = p->nimages ? p->first_t : t;
	double due = t + p->interval;
	int left = p->prm.max_images - p->attempts;

	if (left <= 0) {
		p->next_t = -1;
		return;
	}
	if (left == 1 && first + p->span > due)
		due = first + p->span;
	p->next_t = due;
	p->next_kind = FL_SHOT_PERIODIC;
}

static unsigned gaps_at_seal(const fl_evidence_plan *p)
{
	unsigned g = 0;

	if (p->nimages < FL_EVIDENCE_MIN_IMAGES)
		g |= FL_EVG_FEW_IMAGES;
	if (!spaced(p))
		g |= FL_EVG_SPAN;
	if (p->alarm_t >= 0 && p->end_t >= 0 &&
	    p->end_t < p->alarm_t + p->prm.post_roll_s - EPS)
		g |= FL_EVG_CLIP_SHORT;
	return g;
}

enum fl_evidence_action fl_evidence_plan_tick(fl_evidence_plan *p, double t)
{
	double clip_to;

	switch (p->phase) {
	case FL_EVP_IDLE:
	case FL_EVP_DONE:
		return FL_EVP_NONE;
	case FL_EVP_LEAVING:
		p->phase = FL_EVP_DONE;
		return FL_EVP_DISCARD;
	case FL_EVP_CLOSING:
		p->gaps = gaps_at_seal(p);
		p->phase = FL_EVP_DONE;
		return FL_EVP_SEAL;
	case FL_EVP_RESTING:
	case FL_EVP_ALARMED:
		break;
	}
	if (p->next_t >= 0 && t >= p->next_t - EPS &&
	    p->attempts < p->prm.max_images) {
		p->shot_kind = p->next_kind;
		p->attempts++;
		if (p->alarm_pending) {
			p->alarm_pending = 0;
			p->next_t = t + MIN_GAP_S;
			p->next_kind = FL_SHOT_ALARM;
		} else if (p->phase == FL_EVP_ALARMED)
			schedule_next(p, t);
		else
			p->next_t = -1; /* the next one comes with the alarm */
		return FL_EVP_SHOOT;
	}
	if (p->phase != FL_EVP_ALARMED)
		return FL_EVP_NONE;
	fl_evidence_plan_clip(p, NULL, &clip_to);
	/* Complete, or nothing more to come (the budget went on failed
	 * shots) and the clip is over: seal. */
	if (fl_evidence_plan_complete(p, t) ||
	    (p->next_t < 0 && t >= clip_to - EPS)) {
		p->gaps = gaps_at_seal(p);
		p->phase = FL_EVP_DONE;
		return FL_EVP_SEAL;
	}
	return FL_EVP_NONE;
}

void fl_evidence_plan_taken(fl_evidence_plan *p, double t)
{
	if (p->nimages == 0)
		p->first_t = t;
	p->last_t = t;
	p->nimages++;
}

void fl_evidence_plan_end(fl_evidence_plan *p, double t)
{
	if (p->phase == FL_EVP_ALARMED)
		close_plan(p, t, "input ended");
	else if (p->phase == FL_EVP_IDLE)
		p->phase = FL_EVP_DONE; /* nothing was ever started */
	else if (p->phase == FL_EVP_RESTING) {
		p->phase = FL_EVP_LEAVING;
		p->end_t = t;
		p->end_why = "input ended before the alarm";
	}
}

/* snprintf-style appender. */
static void put(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	char *dst = NULL;
	size_t room = 0;
	int n;

	if (buf && *pos < len) {
		dst = buf + *pos;
		room = len - *pos;
	}
	va_start(ap, fmt);
	n = vsnprintf(dst, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n;
}

size_t fl_evidence_plan_note(const fl_evidence_plan *p, char *buf, size_t len)
{
	size_t pos = 0;
	const char *sep = "";

	if (buf && len)
		buf[0] = '\0';
	if (!p->gaps)
		return 0;
	put(buf, len, &pos, "incomplete (%s at %.1f s): ",
	    p->end_why[0] ? p->end_why : "closed", p->end_t);
	if (p->gaps & FL_EVG_FEW_IMAGES) {
		put(buf, len, &pos, "%d of %d scene images", p->nimages,
		    FL_EVIDENCE_MIN_IMAGES);
		sep = "; ";
	}
	if (p->gaps & FL_EVG_SPAN) {
		if (p->nimages >= 2)
			put(buf, len, &pos,
			    "%sfirst and last scene images %.1f s apart, "
			    "%.1f s required",
			    sep, p->last_t - p->first_t, p->span);
		else
			put(buf, len, &pos,
			    "%sno two scene images %.1f s apart", sep, p->span);
		sep = "; ";
	}
	if (p->gaps & FL_EVG_CLIP_SHORT)
		put(buf, len, &pos,
		    "%sclip ends at %.1f s instead of %.1f s (alarm + "
		    "post-roll)",
		    sep, p->end_t, p->alarm_t + p->prm.post_roll_s);
	return pos;
}
