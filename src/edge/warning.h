/*
 * warning.h - the edge's on-site warning: the board and one warning
 * sequencer per lane, fed with the lanes' events and the passing of time.
 * See warning.c.
 *
 * Ownership: edge_warning_create() returns an object the caller frees with
 * edge_warning_destroy() (NULL-safe: every function accepts NULL and does
 * nothing). It borrows cfg for its whole life (camera and lane ids, quiet
 * hours) and owns the board it builds from cfg->board. Events and the emit
 * callbacks' arguments are borrowed for the call. One thread drives it (the
 * edge's main loop); the remote command handler calls edge_warning_trigger()
 * from that thread too (or queues the request for it).
 */
#ifndef FL_EDGE_WARNING_H
#define FL_EDGE_WARNING_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "event.h"
#include "hal.h"

typedef struct edge_warning edge_warning;

/*
 * Build the board of cfg->board and a sequencer for every lane. start_wall
 * is the wall clock at video time 0 (quiet hours are local times). With
 * board type "none" the object is inert: no board, no WARNED events.
 * Returns NULL with the reason in err when the board cannot be had (a GPIO
 * chip, the sim's log file, the watchdog).
 */
edge_warning *edge_warning_create(const fl_config *cfg, time_t start_wall,
				  char *err, size_t errlen);

/* One event of any camera and lane (from the event sink). Cleared and
 * vacated switch that lane's warning off at once. */
void edge_warning_event(edge_warning *w, const fl_event *ev);

/*
 * Time passes for camera (its video time t; NULL: every camera): relays due
 * off go off, due warnings are given (WARNED events go to emit), manual
 * requests are served, finished clips reaped and the watchdog kicked (at
 * most once a second of t). Call it after every frame of that camera.
 */
void edge_warning_tick(edge_warning *w, const char *camera, double t,
		       fl_event_fn emit, void *user);

/* The board w built (owned by w, valid until edge_warning_destroy), or
 * NULL (board type none): for the simulated board's log in tests. */
fl_board *edge_warning_board(const edge_warning *w);

/*
 * A manual warning (a remote command) for one lane, or every lane of the
 * camera when lane is NULL, or every lane when camera is NULL too. It is
 * given at that camera's next tick (t is only logged), even in quiet hours.
 * Returns 0, FL_ENOENT for an unknown camera or lane, FL_EUNSUPPORTED when
 * there is no board.
 */
int edge_warning_trigger(edge_warning *w, const char *camera, const char *lane,
			 double t);

/*
 * The lanes' warning keys changed in the borrowed cfg (a reload that edits
 * it in place): every sequencer takes the new warn_s, warn_repeat_s,
 * warn_max_repeats and quiet hours, its open incidents kept (see
 * fl_warn_set_params). Board keys are not re-read (they need a restart).
 */
void edge_warning_reload(edge_warning *w);

/* The board's clock status (for the heartbeat): 0, or FL_EUNSUPPORTED
 * without a board, or the board's error (reason in err). */
int edge_warning_clock(edge_warning *w, fl_clock_status *st, char *err,
		       size_t errlen);

/* 1 when a board is there (type sim or linux and it opened). */
int edge_warning_active(const edge_warning *w);

/* Every relay off, the clip stopped, the watchdog closed (magic close),
 * everything freed. NULL-safe. */
void edge_warning_destroy(edge_warning *w);

#endif /* FL_EDGE_WARNING_H */
