/*
 * warn.c - the on-site warning sequencer of one lane (see warn.h).
 *
 * A note on the model. Deployed fire-lane systems do not only alert the
 * property manager: a speaker on the pole asks the driver to move, a strobe
 * flashes, and the request is repeated until the lane is clear. The sequence
 * is a small clock per incident, started by the lane's own events:
 *
 *   occupied (rest_since) ---- warn_s ----> warn #0 -- repeat_s --> warn #1
 *        ... at most 1 + max_repeats warnings ... cleared/vacated: stop.
 *
 * The clock belongs to the incident, like the dwell clock belongs to the
 * place: its origin is rest_since, the moment the object came to rest, not
 * the moment the event reached us, so a warning is on time even when rest
 * was recognised late. A lane may hold several obstructions at once (up to
 * FL_WARN_INCIDENTS, as many as the lane has spots); each has its own clock
 * and its own WARNED events, and the lane's relays are on while any of them
 * needs them. The first event we see of an incident may be ALARM rather than
 * OCCUPIED (the warning started after the lane did): it opens the incident
 * the same way.
 *
 * Quiet hours (night time in a residential community) silence the automatic
 * warnings. A warning that falls due inside them is skipped, not queued:
 * nobody wants the speaker to go off at 07:00:00 for a car parked at 03:00
 * because the night's warnings were saved up. The schedule just moves on,
 * and the next slot outside quiet hours warns with its real repeat number.
 * Skipped warnings do not count against max_repeats.
 *
 * Stop means stop: CLEARED or VACATED switches the lane's relays off and
 * hushes the clip at the event's time when no other obstruction of the lane
 * is left; a tick that comes late never warns for an incident already
 * closed. A tick that comes late by several periods (a stalled stream)
 * warns once, then resumes the schedule after t: no burst of catch-up
 * warnings.
 *
 * Relays are owned per lane here: a RELAY_ON action is sent when the lane's
 * relay goes from off to on, RELAY_OFF when its time is up (at the first
 * tick at or after it). A warning while the relay is on extends it
 * silently. The edge (src/edge/warning.c) ORs the lanes onto the board's one
 * speaker and one strobe.
 *
 * warn_s = 0 turns the automatic warning off for the lane (a manual trigger
 * still works); repeat_s = 0 or max_repeats = 0 give one warning only.
 */
#include "warn.h"

#include <stdio.h>
#include <string.h>

#include "fl.h"

int fl_warn_in_hours(const fl_hours *h, int n, int m)
{
	for (int i = 0; h && i < n; i++) {
		if (h[i].start_min < h[i].end_min) {
			if (m >= h[i].start_min && m < h[i].end_min)
				return 1;
		} else if (m >= h[i].start_min || m < h[i].end_min) {
			return 1;
		}
	}
	return 0;
}

void fl_warn_params_from(fl_warn_params *p, const fl_lane_conf *lane,
			 double speaker_s, double strobe_s)
{
	memset(p, 0, sizeof(*p));
	p->warn_s = lane->warn_s;
	p->repeat_s = lane->warn_repeat_s;
	p->max_repeats = lane->warn_max_repeats;
	p->speaker_s = speaker_s;
	p->strobe_s = strobe_s;
	p->quiet = lane->quiet;
	p->nquiet = lane->nquiet;
}

void fl_warn_init(fl_warn *w, const fl_warn_params *p, const char *camera,
		  const char *lane)
{
	memset(w, 0, sizeof(*w));
	w->prm = *p;
	w->camera = camera;
	w->lane = lane;
	for (int r = 0; r < FL_WARN_RELAYS; r++)
		w->off_at[r] = -1;
}

void fl_warn_set_params(fl_warn *w, const fl_warn_params *p)
{
	w->prm = *p;
	for (int i = 0; i < FL_WARN_INCIDENTS; i++) {
		fl_warn_incident *in = &w->inc[i];

		if (!in->used)
			continue;
		if (in->given == 0)
			in->next_due = p->warn_s > 0
					       ? in->rest_since + p->warn_s
					       : -1;
		else if (in->given > p->max_repeats || p->repeat_s <= 0)
			in->next_due = -1;
	}
}

void fl_warn_deinit(fl_warn *w)
{
	memset(w, 0, sizeof(*w));
}

static void send(const fl_warn *w, const fl_warn_out *out,
		 enum fl_warn_action_type type, int relay, double t,
		 double duration)
{
	fl_warn_action a;

	if (!out || !out->action)
		return;
	memset(&a, 0, sizeof(a));
	a.type = type;
	a.relay = relay;
	a.t = t;
	a.duration_s = duration;
	a.camera = w->camera;
	a.lane = w->lane;
	out->action(&a, out->user);
}

static int mine(const fl_warn *w, const fl_event *ev)
{
	return ev->lane && w->lane && !strcmp(ev->lane, w->lane) &&
	       (!w->camera || !ev->camera || !strcmp(ev->camera, w->camera));
}

static fl_warn_incident *find(fl_warn *w, const char *id)
{
	for (int i = 0; i < FL_WARN_INCIDENTS; i++)
		if (w->inc[i].used && !strcmp(w->inc[i].id, id))
			return &w->inc[i];
	return NULL;
}

static int open_count(const fl_warn *w)
{
	int n = 0;

	for (int i = 0; i < FL_WARN_INCIDENTS; i++)
		n += w->inc[i].used;
	return n;
}

/* A free slot, or the oldest incident's (more than 8 at once cannot come
 * from one lane; the oldest has had the most warnings). */
static fl_warn_incident *slot(fl_warn *w)
{
	fl_warn_incident *old = &w->inc[0];

	for (int i = 0; i < FL_WARN_INCIDENTS; i++) {
		if (!w->inc[i].used)
			return &w->inc[i];
		if (w->inc[i].seq < old->seq)
			old = &w->inc[i];
	}
	return old;
}

static void open_incident(fl_warn *w, const fl_event *ev)
{
	fl_warn_incident *in = find(w, ev->incident_id);

	if (in) { /* ALARM after OCCUPIED: keep the clock, refresh the box */
		memcpy(in->bbox, ev->bbox, sizeof(in->bbox));
		in->cls = ev->cls;
		return;
	}
	in = slot(w);
	memset(in, 0, sizeof(*in));
	in->used = 1;
	snprintf(in->id, sizeof(in->id), "%s", ev->incident_id);
	in->rest_since = ev->rest_since;
	in->next_due = w->prm.warn_s > 0 ? ev->rest_since + w->prm.warn_s : -1;
	memcpy(in->bbox, ev->bbox, sizeof(in->bbox));
	in->cls = ev->cls;
	in->seq = w->next_seq++;
}

/* Relays off and the clip hushed, now. */
static void all_off(fl_warn *w, double t, const fl_warn_out *out)
{
	int any = 0;

	for (int r = 0; r < FL_WARN_RELAYS; r++) {
		if (w->off_at[r] < 0)
			continue;
		w->off_at[r] = -1;
		send(w, out, FL_WARN_RELAY_OFF, r, t, 0);
		any = 1;
	}
	if (any)
		send(w, out, FL_WARN_HUSH, 0, t, 0);
}

void fl_warn_event(fl_warn *w, const fl_event *ev, const fl_warn_out *out)
{
	fl_warn_incident *in;

	if (!w || !ev || !mine(w, ev))
		return;
	switch (ev->type) {
	case FL_EV_OCCUPIED:
	case FL_EV_ALARM:
		open_incident(w, ev);
		break;
	case FL_EV_CLEARED:
	case FL_EV_VACATED:
		in = find(w, ev->incident_id);
		if (in)
			memset(in, 0, sizeof(*in));
		if (open_count(w) == 0)
			all_off(w, ev->t, out);
		break;
	default: /* our own WARNED, escalations, camera events */
		break;
	}
}

/* Relays on for one warning (or kept on longer), the clip played, the
 * WARNED event out. in is NULL for a manual warning with no incident. */
static void warn_now(fl_warn *w, const fl_warn_incident *in, double t,
		     int repeat, int manual, const fl_warn_out *out)
{
	const double dur[FL_WARN_RELAYS] = { w->prm.speaker_s,
					     w->prm.strobe_s };
	fl_event ev;

	for (int r = 0; r < FL_WARN_RELAYS; r++) {
		if (dur[r] <= 0)
			continue;
		if (w->off_at[r] < 0)
			send(w, out, FL_WARN_RELAY_ON, r, t, dur[r]);
		w->off_at[r] = FL_MAX(w->off_at[r], t + dur[r]);
	}
	send(w, out, FL_WARN_PLAY, 0, t, 0);
	w->warnings++;
	if (!out || !out->event)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = FL_EV_WARNED;
	ev.camera = w->camera;
	ev.lane = w->lane;
	ev.t = t;
	ev.repeat = repeat;
	ev.manual = manual;
	ev.rest_since = t;
	if (in) {
		snprintf(ev.incident_id, sizeof(ev.incident_id), "%s", in->id);
		ev.rest_since = in->rest_since;
		memcpy(ev.bbox, in->bbox, sizeof(ev.bbox));
		ev.cls = in->cls;
	}
	out->event(&ev, out->user);
}

/* After a slot at due (given or skipped): the next slot, or -1. */
static double next_slot(const fl_warn *w, const fl_warn_incident *in,
			double due, double t)
{
	if (w->prm.repeat_s <= 0 || in->given > w->prm.max_repeats)
		return -1;
	due += w->prm.repeat_s;
	/* Late by whole periods: resume after t instead of bursting. */
	while (due <= t)
		due += w->prm.repeat_s;
	return due;
}

void fl_warn_tick(fl_warn *w, double t, int minute_of_day,
		  const fl_warn_out *out)
{
	int quiet, played = 0;

	if (!w)
		return;
	for (int r = 0; r < FL_WARN_RELAYS; r++) {
		if (w->off_at[r] >= 0 && w->off_at[r] <= t) {
			w->off_at[r] = -1;
			send(w, out, FL_WARN_RELAY_OFF, r, t, 0);
		}
	}
	quiet = fl_warn_in_hours(w->prm.quiet, w->prm.nquiet, minute_of_day);
	for (int i = 0; i < FL_WARN_INCIDENTS; i++) {
		fl_warn_incident *in = &w->inc[i];
		double due = in->next_due;

		if (!in->used || due < 0 || due > t)
			continue;
		if (quiet) {
			w->skipped++;
		} else {
			/* One lane, one clip per tick: two incidents due
			 * together share the announcement. */
			if (!played)
				warn_now(w, in, t, in->given, 0, out);
			else
				warn_now(w, in, t, in->given, 0,
					 &(fl_warn_out){
						 NULL, out ? out->event : NULL,
						 out ? out->user : NULL });
			played = 1;
			in->given++;
		}
		in->next_due = next_slot(w, in, due, t);
	}
}

int fl_warn_trigger(fl_warn *w, double t, const fl_warn_out *out)
{
	const fl_warn_incident *newest = NULL;

	if (!w)
		return FL_EINVAL;
	for (int i = 0; i < FL_WARN_INCIDENTS; i++)
		if (w->inc[i].used && (!newest || w->inc[i].seq > newest->seq))
			newest = &w->inc[i];
	warn_now(w, newest, t, newest ? newest->given : 0, 1, out);
	return FL_OK;
}

void fl_warn_stop(fl_warn *w, double t, const fl_warn_out *out)
{
	if (w)
		all_off(w, t, out);
}
