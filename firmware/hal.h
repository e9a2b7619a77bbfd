/*
 * hal.h - the capture device's board: warning relays, audio, watchdog, clock.
 *
 * A note on the model. The edge runs on many boards (an ARM box on a pole, a
 * PC in a guard room, a test runner with no hardware at all). What it needs
 * from any of them is small: two relay outputs (the speaker amplifier and
 * the strobe light), "play this clip once", a hardware watchdog that resets
 * the device when the edge hangs, and whether the clock can be trusted
 * (evidence is stamped with it). A board is a table of those operations plus
 * the little state every board shares (which relays are on, clips running);
 * each implementation keeps its own state behind impl:
 *
 *   sim    (firmware/sim/board.c)   records every action with the time it
 *                                   was given, in memory for unit tests and
 *                                   optionally as JSON lines in a file for
 *                                   integration tests; never fails unless
 *                                   told to;
 *   linux  (firmware/linux/board.c) libgpiod 1.6 lines for the relays, a
 *                                   player command (aplay, mpg123, ...) run
 *                                   with posix_spawn, /dev/watchdog, and
 *                                   adjtimex() for the clock.
 *
 * Time: operations take the caller's time t (video time in the edge). The
 * hardware acts at once and ignores it; the sim records it, so a test can
 * check "relay on at rest + warn_s" on simulated time.
 *
 * Errors are negative fl_errno values with a reason for a person in the
 * caller's buffer (err, errlen; may be NULL). The boards never print; they
 * log through fl_log() ("board" tag) for what the caller cannot see, such
 * as a player that exited with an error long after it was started.
 *
 * Ownership: fl_board_*_create() return a board the caller owns and frees
 * with fl_board_destroy() (NULL-safe), which switches every relay off,
 * stops running clips and closes the watchdog with its magic close. The
 * create functions copy what they need from their options. A board is not
 * thread-safe: one thread drives it.
 */
#ifndef FL_HAL_H
#define FL_HAL_H

#include <stddef.h>

#include "config.h"

/* The relay outputs (same numbering as fl_warn_relay in src/core/warn.h). */
enum fl_board_relay {
	FL_BOARD_SPEAKER = 0,
	FL_BOARD_STROBE = 1,
	FL_BOARD_RELAYS = 2
};

typedef struct fl_clock_status {
	int synced;        /* 1: the kernel says the clock is synchronised */
	double offset_s;   /* estimated offset from the reference, seconds */
	double maxerror_s; /* the kernel's maximum error estimate, seconds */
} fl_clock_status;

typedef struct fl_board fl_board;

/* What a board implements. Every member is set (a board without a thing
 * returns FL_EUNSUPPORTED from it). */
typedef struct fl_board_ops {
	const char *name; /* "sim", "linux" */
	int (*relay)(fl_board *b, int relay, int on, double t, char *err,
		     size_t errlen);
	int (*play)(fl_board *b, const char *clip, double t, char *err,
		    size_t errlen);
	int (*hush)(fl_board *b, double t);
	int (*watchdog_open)(fl_board *b, double t, char *err, size_t errlen);
	int (*watchdog_kick)(fl_board *b, double t, char *err, size_t errlen);
	void (*watchdog_close)(fl_board *b, double t);
	int (*clock)(fl_board *b, fl_clock_status *st, char *err,
		     size_t errlen);
	int (*poll)(fl_board *b, double t); /* reap children; playing count */
	void (*destroy)(fl_board *b);       /* frees impl, not b */
} fl_board_ops;

struct fl_board {
	const fl_board_ops *ops;
	int relay_on[FL_BOARD_RELAYS]; /* last state set successfully */
	int watchdog_open;
	int playing;   /* clips still running (after poll) */
	int last_exit; /* exit status of the last finished
					  clip, -1 none yet */
	double last_t; /* time of the latest operation (the
					  time destroy's actions are given) */
	void *impl;    /* the implementation's state */
};

/* ---- The simulated board. ---- */

enum fl_sim_kind {
	FL_SIM_RELAY, /* relay, on */
	FL_SIM_PLAY,  /* clip */
	FL_SIM_HUSH,
	FL_SIM_WD_OPEN,
	FL_SIM_WD_KICK,
	FL_SIM_WD_CLOSE
};

typedef struct fl_sim_entry {
	enum fl_sim_kind kind;
	double t;
	int relay;              /* FL_SIM_RELAY */
	int on;                 /* FL_SIM_RELAY */
	char clip[FL_PATH_MAX]; /* FL_SIM_PLAY */
} fl_sim_entry;

typedef struct fl_sim_opts {
	const char *log_path; /* JSON lines of every action, or NULL */
	int fail_relays;      /* test: relay() fails with FL_EIO */
	int synced;           /* what clock() says */
	double offset_s;
} fl_sim_opts;

/* opts may be NULL (no file, relays work, clock synced). The log file is
 * created (truncated); a file that cannot be opened is an FL_EIO error. */
fl_board *fl_board_sim_create(const fl_sim_opts *opts, char *err,
			      size_t errlen);

/* The sim's in-memory log; *n entries, valid until the next action or
 * destroy. NULL and 0 for a board that is not a sim. */
const fl_sim_entry *fl_board_sim_log(const fl_board *b, size_t *n);

/* "relay", "play", "hush", "watchdog_open", "watchdog_kick",
 * "watchdog_close". */
const char *fl_sim_kind_name(enum fl_sim_kind k);

/* ---- The Linux board. ---- */

typedef struct fl_linux_opts {
	const char *chip; /* GPIO chip name (gpiochip0) or /dev path */
	int speaker_line; /* -1: no speaker relay */
	int strobe_line;  /* -1: no strobe relay */
	int active_low;
	const char *player;   /* "aplay -q": split at spaces, clip appended;
				NULL or "": no audio */
	const char *watchdog; /* "/dev/watchdog" or NULL / "" */
} fl_linux_opts;

/*
 * Request the relay lines (driven to off) when any is configured. Without
 * libgpiod in the build, configured lines are FL_EUNSUPPORTED; a chip or
 * line that cannot be had is FL_ENOENT / FL_EIO with the chip, the line and
 * the system's reason. The watchdog is opened by fl_board_watchdog_open().
 */
fl_board *fl_board_linux_create(const fl_linux_opts *opts, char *err,
				size_t errlen);

/* ---- Any board. ---- */

/*
 * The board of cfg->board: NULL with err "" for type none (no board),
 * NULL with the reason in err on failure. cfg is not kept.
 */
fl_board *fl_board_create(const fl_board_conf *cfg, char *err, size_t errlen);

int fl_board_relay(fl_board *b, int relay, int on, double t, char *err,
		   size_t errlen);

/* Start the clip; returns at once (the clip plays on). FL_EAGAIN when a
 * clip is still playing (the new one is not started). */
int fl_board_play(fl_board *b, const char *clip, double t, char *err,
		  size_t errlen);

/* Stop running clips (none running is fine). */
int fl_board_hush(fl_board *b, double t);

int fl_board_watchdog_open(fl_board *b, double t, char *err, size_t errlen);
int fl_board_watchdog_kick(fl_board *b, double t, char *err, size_t errlen);
/* Magic close: the watchdog is disarmed (a clean stop, not a hang). */
void fl_board_watchdog_close(fl_board *b, double t);

int fl_board_clock(fl_board *b, fl_clock_status *st, char *err, size_t errlen);

/* Reap finished clips without blocking; returns the number still playing
 * (b->last_exit has the last one's exit status). */
int fl_board_poll(fl_board *b, double t);

const char *fl_board_name(const fl_board *b);

/* Relays off, clips stopped, watchdog closed, everything freed. NULL-safe. */
void fl_board_destroy(fl_board *b);

/* For implementations: a board with ops and impl, relays off. */
fl_board *fl_board__new(const fl_board_ops *ops, void *impl);

#endif /* FL_HAL_H */
