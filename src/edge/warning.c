/*
 * warning.c - the edge's on-site warning: lanes' events and time in, board
 * actions and WARNED events out.
 *
 * A note on the wiring. Each lane of each camera has its own warning
 * sequencer (src/core/warn.c): it knows the lane's incidents, its warn_s,
 * warn_repeat_s, warn_max_repeats and quiet hours, and says "speaker relay
 * on for 8 s", "play the clip", "strobe off". The device has one speaker and
 * one strobe for all of them, so this module ORs the lanes: a relay is
 * switched on when the first lane wants it and off when the last lane lets
 * it go (a count per relay), the clip is played once for lanes that warn
 * at the same instant, and hushed only when no lane holds the speaker any
 * more. The sequencers are pure and get time passed in; the
 * two things they cannot know come from here: the local minute of the day
 * (the wall clock at video time 0 plus t, through localtime_r, so replays
 * honour quiet hours as the scene's own time of day), and the board.
 *
 * Board failures never stop detection: a relay or player that fails is
 * logged (once until it works again, so a broken relay does not flood the
 * log at frame rate) and the sequence goes on. The hardware watchdog, when
 * configured, is kicked from the tick, at most once a second of the
 * monotonic clock (a hang is a matter of real time, whatever the cameras'
 * video clocks say): if the frame loop hangs, nobody kicks and the device
 * resets.
 *
 * Manual triggers (a remote "warn now") are queued per lane and given at
 * the camera's next tick, in the main loop's thread, where the video time
 * is known and WARNED events have a sink.
 */
#include "warning.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fl.h"
#include "hal.h"
#include "warn.h"

typedef struct lane_warn {
	fl_warn seq;
	int cam, index;     /* where its configuration is in cfg */
	const char *camera; /* borrowed from the config */
	const char *lane;
	int manual; /* manual warnings requested, not yet given */
} lane_warn;

struct edge_warning {
	const fl_config *cfg;
	fl_board *board; /* NULL: no board (type none) */
	time_t start_wall;
	lane_warn lanes[FL_MAX_CAMERAS * FL_MAX_LANES];
	int nlanes;
	int hold[FL_WARN_RELAYS]; /* lanes holding each relay on */
	int relay_failed[FL_WARN_RELAYS];
	int play_failed;
	double played_t;  /* time of the last clip asked for */
	double kicked;    /* monotonic time of the last watchdog kick */
	time_t minute_at; /* the second minute was computed for */
	int minute;       /* local minute of the day at minute_at */
	double last_t;
	/* The tick's event sink, for the actions' callback. */
	fl_event_fn emit;
	void *user;
};

static const char *relay_name(int r)
{
	return r == FL_WARN_SPEAKER ? "speaker" : "strobe";
}

static void set_relay(edge_warning *w, int r, int on, double t)
{
	char err[256];

	if (fl_board_relay(w->board, r, on, t, err, sizeof(err)) < 0) {
		if (!w->relay_failed[r])
			fl_log(FL_LOG_ERROR, "warning", "%s relay %s: %s",
			       relay_name(r), on ? "on" : "off", err);
		w->relay_failed[r] = 1;
		return;
	}
	if (w->relay_failed[r])
		fl_log(FL_LOG_INFO, "warning", "%s relay works again",
		       relay_name(r));
	w->relay_failed[r] = 0;
}

/* The sequencers' actions onto the one board. */
static void on_action(const fl_warn_action *a, void *user)
{
	edge_warning *w = user;
	const fl_board_conf *bc = &w->cfg->board;
	char err[256];
	int rc;

	switch (a->type) {
	case FL_WARN_RELAY_ON:
		if (w->hold[a->relay]++ == 0)
			set_relay(w, a->relay, 1, a->t);
		break;
	case FL_WARN_RELAY_OFF:
		if (w->hold[a->relay] > 0 && --w->hold[a->relay] == 0)
			set_relay(w, a->relay, 0, a->t);
		break;
	case FL_WARN_PLAY:
		/* Lanes warning at the same instant share one clip. */
		if (!bc->clip[0] || a->t == w->played_t)
			break;
		w->played_t = a->t;
		rc = fl_board_play(w->board, bc->clip, a->t, err, sizeof(err));
		if (rc == FL_EAGAIN) {
			fl_log(FL_LOG_DEBUG, "warning", "%s/%s: %s", a->camera,
			       a->lane, err);
		} else if (rc < 0) {
			if (!w->play_failed)
				fl_log(FL_LOG_ERROR, "warning", "clip %s: %s",
				       bc->clip, err);
			w->play_failed = 1;
		} else {
			w->play_failed = 0;
		}
		break;
	case FL_WARN_HUSH:
		if (w->hold[FL_WARN_SPEAKER] == 0)
			fl_board_hush(w->board, a->t);
		break;
	}
}

static void on_warned(const fl_event *ev, void *user)
{
	edge_warning *w = user;

	fl_log(FL_LOG_INFO, "warning", "%s/%s: warning %d%s at %.1f s (%s)",
	       ev->camera, ev->lane, ev->repeat, ev->manual ? " (manual)" : "",
	       ev->t, ev->incident_id[0] ? ev->incident_id : "no incident");
	if (w->emit)
		w->emit(ev, w->user);
}

static fl_warn_out out_of(edge_warning *w)
{
	fl_warn_out o = { on_action, on_warned, w };

	return o;
}

/* Relay on-times per warning. A Linux board's relay that is not wired is
 * not used at all (the clip alone may still warn); the sim records both. */
static void relay_times(const fl_board_conf *bc, double *speaker_s,
			double *strobe_s)
{
	int linux_board = !strcmp(bc->type, "linux");

	*speaker_s = linux_board && bc->speaker_line < 0 ? 0 : bc->speaker_s;
	*strobe_s = linux_board && bc->strobe_line < 0 ? 0 : bc->strobe_s;
}

edge_warning *edge_warning_create(const fl_config *cfg, time_t start_wall,
				  char *err, size_t errlen)
{
	edge_warning *w;
	const fl_board_conf *bc;
	double speaker_s, strobe_s;

	if (err && errlen)
		err[0] = '\0';
	if (!cfg)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->cfg = cfg;
	w->start_wall = start_wall;
	w->kicked = -1e9;
	w->minute_at = (time_t)-1;
	w->played_t = -1;
	bc = &cfg->board;
	if (!strcmp(bc->type, "none"))
		return w; /* inert: no board, no sequencers */
	w->board = fl_board_create(bc, err, errlen);
	if (!w->board)
		goto fail;
	if (bc->watchdog[0] &&
	    fl_board_watchdog_open(w->board, 0, err, errlen) < 0)
		goto fail;
	relay_times(bc, &speaker_s, &strobe_s);
	for (int c = 0; c < cfg->ncameras; c++) {
		const fl_camera_conf *cam = &cfg->cameras[c];
		for (int l = 0; l < cam->nlanes; l++) {
			lane_warn *lw = &w->lanes[w->nlanes++];
			fl_warn_params p;

			fl_warn_params_from(&p, &cam->lanes[l], speaker_s,
					    strobe_s);
			lw->camera = cam->id;
			lw->lane = cam->lanes[l].id;
			lw->cam = c;
			lw->index = l;
			fl_warn_init(&lw->seq, &p, cam->id, cam->lanes[l].id);
		}
	}
	fl_log(FL_LOG_INFO, "warning", "board %s, %d lane(s), clip %s",
	       fl_board_name(w->board), w->nlanes,
	       bc->clip[0] ? bc->clip : "(none: relays only)");
	return w;
fail:
	fl_board_destroy(w->board);
	free(w);
	return NULL;
}

void edge_warning_event(edge_warning *w, const fl_event *ev)
{
	fl_warn_out o;

	if (!w || !w->board || !ev || ev->type == FL_EV_WARNED)
		return;
	o = out_of(w);
	for (int i = 0; i < w->nlanes; i++)
		fl_warn_event(&w->lanes[i].seq, ev, &o);
}

/* The local minute of the day at video time t (once per second of t). */
static int minute_of_day(edge_warning *w, double t)
{
	time_t when = w->start_wall + (time_t)t;
	struct tm tm;

	if (when == w->minute_at)
		return w->minute;
	w->minute_at = when;
	w->minute = localtime_r(&when, &tm) ? tm.tm_hour * 60 + tm.tm_min : 0;
	return w->minute;
}

fl_board *edge_warning_board(const edge_warning *w)
{
	return w ? w->board : NULL;
}

void edge_warning_tick(edge_warning *w, const char *camera, double t,
		       fl_event_fn emit, void *user)
{
	fl_warn_out o;
	char err[256];
	int minute;

	if (!w || !w->board)
		return;
	w->emit = emit;
	w->user = user;
	o = out_of(w);
	minute = minute_of_day(w, t);
	for (int i = 0; i < w->nlanes; i++) {
		lane_warn *lw = &w->lanes[i];

		if (camera && strcmp(camera, lw->camera))
			continue;
		for (; lw->manual > 0; lw->manual--)
			fl_warn_trigger(&lw->seq, t, &o);
		fl_warn_tick(&lw->seq, t, minute, &o);
	}
	w->emit = NULL;
	w->user = NULL;
	if (t > w->last_t)
		w->last_t = t;
	fl_board_poll(w->board, t);
	if (w->board->watchdog_open && fl_mono_s() - w->kicked >= 1.0) {
		if (fl_board_watchdog_kick(w->board, t, err, sizeof(err)) < 0)
			fl_log(FL_LOG_ERROR, "warning", "watchdog: %s", err);
		w->kicked = fl_mono_s();
	}
}

int edge_warning_trigger(edge_warning *w, const char *camera, const char *lane,
			 double t)
{
	int n = 0;

	if (!w || !w->board)
		return FL_EUNSUPPORTED;
	for (int i = 0; i < w->nlanes; i++) {
		lane_warn *lw = &w->lanes[i];

		if ((camera && strcmp(camera, lw->camera)) ||
		    (lane && strcmp(lane, lw->lane)))
			continue;
		lw->manual++;
		n++;
	}
	if (!n)
		return FL_ENOENT;
	fl_log(FL_LOG_INFO, "warning",
	       "manual warning for %s/%s (%d lane(s), "
	       "asked at %.1f s)",
	       camera ? camera : "*", lane ? lane : "*", n, t);
	return 0;
}

void edge_warning_reload(edge_warning *w)
{
	double speaker_s, strobe_s;

	if (!w || !w->board)
		return;
	relay_times(&w->cfg->board, &speaker_s, &strobe_s);
	for (int i = 0; i < w->nlanes; i++) {
		lane_warn *lw = &w->lanes[i];
		fl_warn_params p;

		fl_warn_params_from(&p,
				    &w->cfg->cameras[lw->cam].lanes[lw->index],
				    speaker_s, strobe_s);
		fl_warn_set_params(&lw->seq, &p);
	}
}

int edge_warning_clock(edge_warning *w, fl_clock_status *st, char *err,
		       size_t errlen)
{
	if (!w || !w->board) {
		if (err && errlen)
			snprintf(err, errlen, "no board");
		return FL_EUNSUPPORTED;
	}
	return fl_board_clock(w->board, st, err, errlen);
}

int edge_warning_active(const edge_warning *w)
{
	return w && w->board;
}

void edge_warning_destroy(edge_warning *w)
{
	fl_warn_out o;

	if (!w)
		return;
	if (w->board) {
		o = out_of(w);
		for (int i = 0; i < w->nlanes; i++) {
			fl_warn_stop(&w->lanes[i].seq, w->last_t, &o);
			fl_warn_deinit(&w->lanes[i].seq);
		}
		fl_board_watchdog_close(w->board, w->last_t);
	}
	fl_board_destroy(w->board);
	free(w);
}
