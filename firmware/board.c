/*
 * board.c - what every board shares (see hal.h): the public calls that
 * check their arguments, keep the shared state (relays on, last time) and
 * dispatch to the board's operations, and the choice of board from the
 * configuration.
 *
 * The shared state is only updated when the operation succeeded, so
 * b->relay_on says what the hardware was last told, not what was wished.
 * fl_board_destroy() is the one place that puts a board into a safe state:
 * relays off, clips stopped, watchdog disarmed by its magic close, in that
 * order, before the implementation frees its resources.
 */
#include "hal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"

static int say(char *err, size_t errlen, int rc, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return rc;
}

fl_board *fl_board__new(const fl_board_ops *ops, void *impl)
{
	fl_board *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->ops = ops;
	b->impl = impl;
	b->last_exit = -1;
	return b;
}

static void stamp(fl_board *b, double t)
{
	if (t > b->last_t)
		b->last_t = t;
}

int fl_board_relay(fl_board *b, int relay, int on, double t, char *err,
		   size_t errlen)
{
	int rc;

	if (!b || relay < 0 || relay >= FL_BOARD_RELAYS)
		return say(err, errlen, FL_EINVAL, "no such relay");
	stamp(b, t);
	rc = b->ops->relay(b, relay, on ? 1 : 0, t, err, errlen);
	if (rc == 0)
		b->relay_on[relay] = on ? 1 : 0;
	return rc;
}

int fl_board_play(fl_board *b, const char *clip, double t, char *err,
		  size_t errlen)
{
	if (!b || !clip || !clip[0])
		return say(err, errlen, FL_EINVAL, "no clip to play");
	stamp(b, t);
	return b->ops->play(b, clip, t, err, errlen);
}

int fl_board_hush(fl_board *b, double t)
{
	if (!b)
		return FL_EINVAL;
	stamp(b, t);
	return b->ops->hush(b, t);
}

int fl_board_watchdog_open(fl_board *b, double t, char *err, size_t errlen)
{
	int rc;

	if (!b)
		return say(err, errlen, FL_EINVAL, "no board");
	if (b->watchdog_open)
		return 0;
	stamp(b, t);
	rc = b->ops->watchdog_open(b, t, err, errlen);
	if (rc == 0)
		b->watchdog_open = 1;
	return rc;
}

int fl_board_watchdog_kick(fl_board *b, double t, char *err, size_t errlen)
{
	if (!b || !b->watchdog_open)
		return say(err, errlen, FL_EINVAL, "watchdog not open");
	stamp(b, t);
	return b->ops->watchdog_kick(b, t, err, errlen);
}

void fl_board_watchdog_close(fl_board *b, double t)
{
	if (!b || !b->watchdog_open)
		return;
	stamp(b, t);
	b->ops->watchdog_close(b, t);
	b->watchdog_open = 0;
}

int fl_board_clock(fl_board *b, fl_clock_status *st, char *err, size_t errlen)
{
	if (!b || !st)
		return say(err, errlen, FL_EINVAL, "no board");
	memset(st, 0, sizeof(*st));
	return b->ops->clock(b, st, err, errlen);
}

int fl_board_poll(fl_board *b, double t)
{
	if (!b)
		return 0;
	stamp(b, t);
	b->playing = b->ops->poll(b, t);
	return b->playing;
}

const char *fl_board_name(const fl_board *b)
{
	return b ? b->ops->name : "none";
}

fl_board *fl_board_create(const fl_board_conf *cfg, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!cfg || !strcmp(cfg->type, "none"))
		return NULL;
	if (!strcmp(cfg->type, "sim")) {
		fl_sim_opts so = { 0 };

		so.log_path = cfg->log[0] ? cfg->log : NULL;
		so.synced = 1;
		return fl_board_sim_create(&so, err, errlen);
	}
	if (!strcmp(cfg->type, "linux")) {
		fl_linux_opts lo = { 0 };

		lo.chip = cfg->chip;
		lo.speaker_line = cfg->speaker_line;
		lo.strobe_line = cfg->strobe_line;
		lo.active_low = cfg->active_low;
		lo.player = cfg->clip[0] ? cfg->player : NULL;
		lo.watchdog = cfg->watchdog[0] ? cfg->watchdog : NULL;
		return fl_board_linux_create(&lo, err, errlen);
	}
	say(err, errlen, FL_ECONFIG, "unknown board type");
	return NULL;
}

void fl_board_destroy(fl_board *b)
{
	char err[256];

	if (!b)
		return;
	for (int r = 0; r < FL_BOARD_RELAYS; r++) {
		if (!b->relay_on[r])
			continue;
		if (fl_board_relay(b, r, 0, b->last_t, err, sizeof(err)) < 0)
			fl_log(FL_LOG_ERROR, "board",
			       "%s: relay %d stays on at shutdown: %s",
			       b->ops->name, r, err);
	}
	b->ops->hush(b, b->last_t);
	fl_board_watchdog_close(b, b->last_t);
	b->ops->destroy(b);
	free(b);
}
