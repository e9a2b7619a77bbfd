/*
 * warn.h - the on-site warning sequencer of one lane.
 *
 * See warn.c for the essay. In short: the lane's events (occupied, alarm,
 * cleared, vacated) and the passing of time decide when the speaker and the
 * strobe of the capture device warn the driver: warn_s after the object came
 * to rest, again every warn_repeat_s while it stays, at most 1 + max_repeats
 * times, never in quiet hours, and not a moment longer once it has left.
 *
 * Pure C11: no I/O, no clocks (video time and the local minute of the day
 * come in), no globals, no heap. The caller owns the fl_warn (init/deinit);
 * it borrows the camera and lane ids and the quiet-hour ranges for its whole
 * life. What the sequencer decides goes out through two callbacks: board
 * actions (fl_warn_action, borrowed for the call) and FL_EV_WARNED events
 * (fl_event, borrowed for the call).
 *
 * Use (src/edge/warning.c, per lane):
 *
 *   fl_warn_init(&w, &params, camera, lane);
 *   fl_warn_event(&w, ev, &out);          every event of the lane
 *   fl_warn_tick(&w, t, minute, &out);    often (every analysed frame)
 *   fl_warn_trigger(&w, t, &out);         a remote "warn now" command
 *   fl_warn_stop(&w, t, &out);            relays off (shutdown)
 *   fl_warn_deinit(&w);
 */
#ifndef FL_WARN_H
#define FL_WARN_H

#include <stddef.h>

#include "config.h"
#include "event.h"

/* Open incidents a lane follows at once (a lane has at most 8 spots). */
#define FL_WARN_INCIDENTS 8

/* The board's warning outputs. */
enum fl_warn_relay {
	FL_WARN_SPEAKER = 0, /* the amplifier / speaker relay */
	FL_WARN_STROBE = 1,  /* the strobe light relay */
	FL_WARN_RELAYS = 2
};

enum fl_warn_action_type {
	FL_WARN_RELAY_ON,  /* switch relay on; it stays on duration_s */
	FL_WARN_RELAY_OFF, /* switch relay off (its time is up, or stop) */
	FL_WARN_PLAY,      /* play the warning clip once */
	FL_WARN_HUSH       /* stop the clip (the lane was cleared) */
};

typedef struct fl_warn_action {
	enum fl_warn_action_type type;
	int relay;          /* RELAY_ON/OFF: an fl_warn_relay */
	double t;           /* video time the action happens */
	double duration_s;  /* RELAY_ON: how long it stays on */
	const char *camera; /* borrowed, as given to fl_warn_init */
	const char *lane;
} fl_warn_action;

typedef void (*fl_warn_action_fn)(const fl_warn_action *a, void *user);

/* Where the sequencer's decisions go; either callback may be NULL. */
typedef struct fl_warn_out {
	fl_warn_action_fn action;
	fl_event_fn event; /* FL_EV_WARNED */
	void *user;
} fl_warn_out;

typedef struct fl_warn_params {
	double warn_s;         /* at rest this long: first warning; 0 = never */
	double repeat_s;       /* then every repeat_s; 0 = no repeats */
	int max_repeats;       /* repeats after the first, at most */
	double speaker_s;      /* speaker relay on per warning; 0 = unused */
	double strobe_s;       /* strobe relay on per warning; 0 = unused */
	const fl_hours *quiet; /* borrowed; no automatic warning inside */
	int nquiet;
} fl_warn_params;

typedef struct fl_warn_incident {
	int used;
	char id[FL_INCIDENT_ID_MAX];
	double rest_since;
	double next_due; /* video time of the next automatic warning, -1 none */
	int given;       /* automatic warnings given */
	double bbox[4];
	int cls;
	unsigned seq; /* order of opening */
} fl_warn_incident;

typedef struct fl_warn {
	fl_warn_params prm;
	const char *camera; /* borrowed */
	const char *lane;   /* borrowed */
	fl_warn_incident inc[FL_WARN_INCIDENTS];
	unsigned next_seq;
	double off_at[FL_WARN_RELAYS]; /* relay on until then; -1 off */
	int warnings; /* given in total (automatic and manual) */
	int skipped;  /* automatic warnings skipped in quiet hours */
} fl_warn;

/* Fill params from a lane's configuration and the board's durations. */
void fl_warn_params_from(fl_warn_params *p, const fl_lane_conf *lane,
			 double speaker_s, double strobe_s);

void fl_warn_init(fl_warn *w, const fl_warn_params *p, const char *camera,
		  const char *lane);

/*
 * New parameters (a configuration reload), incidents kept: an incident not
 * yet warned is due at its rest_since + the new warn_s (at once if that has
 * passed); one already warned keeps its next slot, and the new repeat_s and
 * max_repeats apply from there. Relays on stay on for their time.
 */
void fl_warn_set_params(fl_warn *w, const fl_warn_params *p);

/* Nothing is held on the heap; resets w. Relays are not switched: call
 * fl_warn_stop() first if they must be off. */
void fl_warn_deinit(fl_warn *w);

/*
 * One event of this lane (events of other lanes or cameras are ignored).
 * OCCUPIED and ALARM open (or refresh) an incident; CLEARED and VACATED
 * close it and, when no incident is left, switch the lane's relays off and
 * hush the clip at once (ev->t).
 */
void fl_warn_event(fl_warn *w, const fl_event *ev, const fl_warn_out *out);

/*
 * Time passes: at video time t (non-decreasing), local minute of the day
 * minute_of_day (0..1439, for quiet hours). Relays whose time is up go off,
 * then every incident whose warning is due warns, or, in quiet hours, lets
 * it pass (skipped, not queued: the next one is due warn_repeat_s later).
 */
void fl_warn_tick(fl_warn *w, double t, int minute_of_day,
		  const fl_warn_out *out);

/*
 * A manual warning now (a remote command): given even in quiet hours and
 * beyond max_repeats, without moving the automatic schedule. The WARNED
 * event names the newest open incident, or none (""). Returns 0.
 */
int fl_warn_trigger(fl_warn *w, double t, const fl_warn_out *out);

/* Every relay of the lane off now, the clip hushed (shutdown, reload). */
void fl_warn_stop(fl_warn *w, double t, const fl_warn_out *out);

/* 1 if minute_of_day falls in one of the ranges (fl_hours semantics). */
int fl_warn_in_hours(const fl_hours *h, int n, int minute_of_day);

#endif /* FL_WARN_H */
