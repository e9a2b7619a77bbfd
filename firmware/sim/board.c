/*
 * sim/board.c - the simulated board: it does nothing but remember.
 *
 * Every operation appends an entry (kind, the caller's time, relay and
 * state, clip) to an in-memory log that unit tests read with
 * fl_board_sim_log(), and, when a log path is given, writes the same entry
 * as one JSON line, flushed at once, so that an integration test can read
 * what firelane-edge did on simulated (video) time:
 *
 *   {"t":11.000,"action":"relay","relay":"speaker","on":true}
 *   {"t":11.000,"action":"play","clip":"/srv/fl/move.wav"}
 *
 * A sim never fails unless told to (fail_relays, for the error paths of its
 * users); its clips "finish" at once, so poll() always reports none playing
 * and a last exit status of 0. The clock is what the options say.
 */
#include "hal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "fl.h"

typedef struct sim {
	fl_sim_opts opts;
	FILE *out;
	fl_sim_entry *log;
	size_t n, cap;
} sim;

const char *fl_sim_kind_name(enum fl_sim_kind k)
{
	switch (k) {
	case FL_SIM_RELAY:
		return "relay";
	case FL_SIM_PLAY:
		return "play";
	case FL_SIM_HUSH:
		return "hush";
	case FL_SIM_WD_OPEN:
		return "watchdog_open";
	case FL_SIM_WD_KICK:
		return "watchdog_kick";
	case FL_SIM_WD_CLOSE:
		return "watchdog_close";
	}
	return "unknown";
}

static void write_line(sim *s, const fl_sim_entry *e)
{
	char clip[2 * FL_PATH_MAX + 8];

	if (!s->out)
		return;
	fprintf(s->out, "{\"t\":%.3f,\"action\":\"%s\"", e->t,
		fl_sim_kind_name(e->kind));
	if (e->kind == FL_SIM_RELAY)
		fprintf(s->out, ",\"relay\":\"%s\",\"on\":%s",
			e->relay == FL_BOARD_SPEAKER ? "speaker" : "strobe",
			e->on ? "true" : "false");
	if (e->kind == FL_SIM_PLAY) {
		fl_json_string(e->clip, clip, sizeof(clip));
		fprintf(s->out, ",\"clip\":%s", clip);
	}
	fprintf(s->out, "}\n");
	fflush(s->out);
}

/* Record one action. Out of memory loses the entry (logged), never the
 * action's success: the sim stands in for hardware, not for a test. */
static void record(fl_board *b, enum fl_sim_kind kind, double t, int relay,
		   int on, const char *clip)
{
	sim *s = b->impl;
	fl_sim_entry *e;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		fl_sim_entry *grown = realloc(s->log, cap * sizeof(*grown));
		if (!grown) {
			fl_log(FL_LOG_ERROR, "board", "sim: log entry lost: %s",
			       fl_strerror(FL_ENOMEM));
			return;
		}
		s->log = grown;
		s->cap = cap;
	}
	e = &s->log[s->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->t = t;
	e->relay = relay;
	e->on = on;
	if (clip)
		snprintf(e->clip, sizeof(e->clip), "%s", clip);
	write_line(s, e);
}

static int sim_relay(fl_board *b, int relay, int on, double t, char *err,
		     size_t errlen)
{
	sim *s = b->impl;

	if (s->opts.fail_relays) {
		if (err && errlen)
			snprintf(err, errlen,
				 "sim: relay %d: simulated failure", relay);
		return FL_EIO;
	}
	record(b, FL_SIM_RELAY, t, relay, on, NULL);
	return 0;
}

static int sim_play(fl_board *b, const char *clip, double t, char *err,
		    size_t errlen)
{
	record(b, FL_SIM_PLAY, t, 0, 0, clip);
	b->last_exit = 0;
	return 0;
}

static int sim_hush(fl_board *b, double t)
{
	record(b, FL_SIM_HUSH, t, 0, 0, NULL);
	return 0;
}

static int sim_wd_open(fl_board *b, double t, char *err, size_t errlen)
{
	record(b, FL_SIM_WD_OPEN, t, 0, 0, NULL);
	return 0;
}

static int sim_wd_kick(fl_board *b, double t, char *err, size_t errlen)
{
	record(b, FL_SIM_WD_KICK, t, 0, 0, NULL);
	return 0;
}

static void sim_wd_close(fl_board *b, double t)
{
	record(b, FL_SIM_WD_CLOSE, t, 0, 0, NULL);
}

static int sim_clock(fl_board *b, fl_clock_status *st, char *err, size_t errlen)
{
	sim *s = b->impl;

	st->synced = s->opts.synced;
	st->offset_s = s->opts.offset_s;
	st->maxerror_s = s->opts.synced ? 0.001 : 16.0;
	return 0;
}

static int sim_poll(fl_board *b, double t)
{
	return 0;
}

static void sim_destroy(fl_board *b)
{
	sim *s = b->impl;

	if (!s)
		return;
	if (s->out)
		fclose(s->out);
	free(s->log);
	free(s);
	b->impl = NULL;
}

static const fl_board_ops sim_ops = { "sim",        sim_relay,   sim_play,
				      sim_hush,     sim_wd_open, sim_wd_kick,
				      sim_wd_close, sim_clock,   sim_poll,
				      sim_destroy };

fl_board *fl_board_sim_create(const fl_sim_opts *opts, char *err, size_t errlen)
{
	sim *s = calloc(1, sizeof(*s));
	fl_board *b = NULL;

	if (!s)
		goto nomem;
	if (opts)
		s->opts = *opts;
	else
		s->opts.synced = 1;
	s->opts.log_path = NULL; /* not kept: the caller's string */
	if (opts && opts->log_path && opts->log_path[0]) {
		s->out = fopen(opts->log_path, "we");
		if (!s->out) {
			if (err && errlen)
				snprintf(err, errlen, "sim board log %s: %s",
					 opts->log_path, strerror(errno));
			free(s);
			return NULL;
		}
	}
	b = fl_board__new(&sim_ops, s);
	if (!b)
		goto nomem;
	return b;
nomem:
	if (s && s->out)
		fclose(s->out);
	free(s);
	if (err && errlen)
		snprintf(err, errlen, "%s", fl_strerror(FL_ENOMEM));
	return NULL;
}

const fl_sim_entry *fl_board_sim_log(const fl_board *b, size_t *n)
{
	if (!b || b->ops != &sim_ops) {
		if (n)
			*n = 0;
		return NULL;
	}
	if (n)
		*n = ((const sim *)b->impl)->n;
	return ((const sim *)b->impl)->log;
}
