/*
 * linux/board.c - the board of a Linux capture device.
 *
 * Relays: two GPIO lines through libgpiod 1.6 (the chip by name, such as
 * gpiochip0, or by /dev path), requested as outputs at start and driven to
 * "off" at once, so a relay that was left on by a crash goes off when the
 * edge comes back. active_low flips the level for relay boards that switch
 * on a low input (most opto-isolated modules do). A build without libgpiod
 * still has this board: audio, watchdog and clock work, and configured
 * relay lines are refused at start with FL_EUNSUPPORTED and a clear reason
 * rather than silently doing nothing on the pole.
 *
 * Audio: ALSA programs already know every sound card quirk, so the board
 * runs a configured player command (default "aplay -q") with the clip as
 * its last argument. The command is split at spaces and started with
 * posix_spawnp(), never through a shell, so a clip path with spaces or
 * quotes is one argument and nothing in it is interpreted. The player's
 * stdin and stdout are /dev/null (the edge's stdout may carry events); its
 * stderr is the edge's, for the player's own complaints. One clip plays at
 * a time: a second request while one plays is FL_EAGAIN. Finished players
 * are reaped by poll() with waitpid(WNOHANG), never blocking the frame
 * loop; a non-zero exit is logged. hush() and destroy() send SIGTERM, and
 * destroy() waits a little, then SIGKILLs, so no zombie outlives the board.
 *
 * Watchdog: /dev/watchdog is opened on request and kicked with
 * WDIOC_KEEPALIVE. Closing writes the magic character 'V' first, so a
 * clean stop disarms the timer while a hang or a crash lets it reset the
 * device (the point of a watchdog on a pole nobody visits).
 *
 * Clock: adjtimex() with no modes only reads the kernel's NTP state:
 * synchronised unless STA_UNSYNC is set or the state is TIME_ERROR; the
 * offset (microseconds, or nanoseconds under STA_NANO) and maxerror
 * (microseconds) become seconds.
 */
#include "hal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/watchdog.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef FL_HAVE_GPIOD
#include <gpiod.h>
#endif

#include "fl.h"

extern char **environ;

#define MAX_ARGS 16

typedef struct lboard {
#ifdef FL_HAVE_GPIOD
	struct gpiod_chip *chip;
	struct gpiod_line *line[FL_BOARD_RELAYS];
#endif
	int nlines;
	char player[FL_PATH_MAX]; /* words NUL-separated in place */
	char *argv[MAX_ARGS + 2];
	int argc;
	pid_t pid; /* running player, 0 none */
	char watchdog_path[FL_PATH_MAX];
	int wd_fd;
} lboard;

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 4, 5)))
#endif
	;

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int errno_rc(int e)
{
	return e == ENOENT || e == ENODEV || e == ENXIO ? FL_ENOENT : FL_EIO;
}

/* ---- relays ---- */

static int l_relay(fl_board *b, int relay, int on, double t, char *err,
		   size_t errlen)
{
#ifdef FL_HAVE_GPIOD
	lboard *l = b->impl;

	if (!l->line[relay])
		return fail(err, errlen, FL_EUNSUPPORTED,
			    "no GPIO line configured for the %s relay",
			    relay == FL_BOARD_SPEAKER ? "speaker" : "strobe");
	if (gpiod_line_set_value(l->line[relay], on) < 0)
		return fail(err, errlen, FL_EIO, "GPIO line %u: %s",
			    gpiod_line_offset(l->line[relay]), strerror(errno));
	return 0;
#else
	return fail(err, errlen, FL_EUNSUPPORTED,
		    "relays need libgpiod (this build has none)");
#endif
}

#ifdef FL_HAVE_GPIOD
static int request_line(lboard *l, int relay, int offset, int active_low,
			char *err, size_t errlen)
{
	struct gpiod_line *line;
	int flags = active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;

	if (offset < 0)
		return 0;
	line = gpiod_chip_get_line(l->chip, (unsigned)offset);
	if (!line)
		return fail(err, errlen, errno_rc(errno),
			    "GPIO line %d of %s: %s", offset,
			    gpiod_chip_name(l->chip), strerror(errno));
	/* Requested as an output that starts off. */
	if (gpiod_line_request_output_flags(line, "firelane", flags, 0) < 0)
		return fail(err, errlen, FL_EIO,
			    "GPIO line %d of %s: cannot request it as an "
			    "output: %s",
			    offset, gpiod_chip_name(l->chip), strerror(errno));
	l->line[relay] = line;
	l->nlines++;
	return 0;
}
#endif

static int open_relays(lboard *l, const fl_linux_opts *o, char *err,
		       size_t errlen)
{
	const char *chip = o->chip && o->chip[0] ? o->chip : "gpiochip0";

	if (o->speaker_line < 0 && o->strobe_line < 0)
		return 0;
#ifdef FL_HAVE_GPIOD
	l->chip = chip[0] == '/' ? gpiod_chip_open(chip)
				 : gpiod_chip_open_by_name(chip);
	if (!l->chip)
		return fail(err, errlen, errno_rc(errno), "GPIO chip '%s': %s",
			    chip, strerror(errno));
	if (request_line(l, FL_BOARD_SPEAKER, o->speaker_line, o->active_low,
			 err, errlen) < 0 ||
	    request_line(l, FL_BOARD_STROBE, o->strobe_line, o->active_low, err,
			 errlen) < 0)
		return FL_EIO;
	return 0;
#else
	return fail(err, errlen, FL_EUNSUPPORTED,
		    "GPIO relays on %s: this build has no libgpiod "
		    "(install libgpiod-dev and rebuild)",
		    chip);
#endif
}

static void close_relays(lboard *l)
{
#ifdef FL_HAVE_GPIOD
	for (int r = 0; r < FL_BOARD_RELAYS; r++)
		if (l->line[r])
			gpiod_line_release(l->line[r]);
	if (l->chip)
		gpiod_chip_close(l->chip);
#endif
	(void)l;
}

/* ---- audio ---- */

/* Split the player command at spaces and tabs into l->argv (the clip goes
 * after the last word). */
static int parse_player(lboard *l, const char *cmd, char *err, size_t errlen)
{
	char *p;

	if ((size_t)snprintf(l->player, sizeof(l->player), "%s", cmd) >=
	    sizeof(l->player))
		return fail(err, errlen, FL_EINVAL, "player command too long");
	l->argc = 0;
	for (p = strtok(l->player, " \t"); p; p = strtok(NULL, " \t")) {
		if (l->argc == MAX_ARGS)
			return fail(err, errlen, FL_EINVAL,
				    "player command: more than %d words",
				    MAX_ARGS);
		l->argv[l->argc++] = p;
	}
	return 0;
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

static int l_poll(fl_board *b, double t)
{
	lboard *l = b->impl;
	int status;
	pid_t r;

	if (!l->pid)
		return 0;
	r = waitpid(l->pid, &status, WNOHANG);
	if (r == 0)
		return 1;
	if (r < 0) { /* not our child any more (ECHILD): forget it */
		l->pid = 0;
		return 0;
	}
	b->last_exit = exit_code(status);
	if (b->last_exit != 0)
		fl_log(FL_LOG_WARN, "board", "player %s exited with %d",
		       l->argv[0], b->last_exit);
	l->pid = 0;
	return 0;
}

static int l_play(fl_board *b, const char *clip, double t, char *err,
		  size_t errlen)
{
	lboard *l = b->impl;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc;

	if (l->argc == 0)
		return fail(err, errlen, FL_EUNSUPPORTED,
			    "no player command configured");
	if (l_poll(b, t) > 0)
		return fail(err, errlen, FL_EAGAIN,
			    "the previous clip is still playing");
	l->argv[l->argc] = (char *)clip;
	l->argv[l->argc + 1] = NULL;
	if (posix_spawn_file_actions_init(&fa))
		return fail(err, errlen, FL_ENOMEM, "out of memory");
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, l->argv[0], &fa, NULL, l->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	l->argv[l->argc] = NULL;
	if (rc)
		return fail(err, errlen, errno_rc(rc), "player '%s': %s",
			    l->argv[0], strerror(rc));
	l->pid = pid;
	b->playing = 1;
	return 0;
}

static int l_hush(fl_board *b, double t)
{
	lboard *l = b->impl;

	if (l->pid)
		kill(l->pid, SIGTERM);
	return 0;
}

/* Stop and reap the player: SIGTERM, up to 1 s, then SIGKILL. */
static void stop_player(fl_board *b)
{
	lboard *l = b->impl;
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	if (!l->pid)
		return;
	kill(l->pid, SIGTERM);
	for (int i = 0; i < 100 && l_poll(b, 0) > 0; i++)
		nanosleep(&ts, NULL);
	if (l->pid) {
		kill(l->pid, SIGKILL);
		waitpid(l->pid, NULL, 0);
		l->pid = 0;
	}
}

/* ---- watchdog ---- */

static int l_wd_open(fl_board *b, double t, char *err, size_t errlen)
{
	lboard *l = b->impl;

	if (!l->watchdog_path[0])
		return fail(err, errlen, FL_EUNSUPPORTED,
			    "no watchdog device configured");
	l->wd_fd = open(l->watchdog_path, O_WRONLY | O_CLOEXEC);
	if (l->wd_fd < 0)
		return fail(err, errlen, errno_rc(errno), "watchdog %s: %s",
			    l->watchdog_path, strerror(errno));
	return 0;
}

static int l_wd_kick(fl_board *b, double t, char *err, size_t errlen)
{
	lboard *l = b->impl;

	if (ioctl(l->wd_fd, WDIOC_KEEPALIVE, 0) < 0 &&
	    write(l->wd_fd, "k", 1) != 1)
		return fail(err, errlen, FL_EIO, "watchdog %s: %s",
			    l->watchdog_path, strerror(errno));
	return 0;
}

static void l_wd_close(fl_board *b, double t)
{
	lboard *l = b->impl;

	if (l->wd_fd < 0)
		return;
	/* Magic close: 'V' disarms the timer on a clean stop. */
	if (write(l->wd_fd, "V", 1) != 1)
		fl_log(FL_LOG_WARN, "board",
		       "watchdog %s: magic close failed (%s); the device may "
		       "reset",
		       l->watchdog_path, strerror(errno));
	close(l->wd_fd);
	l->wd_fd = -1;
}

/* ---- clock ---- */

static int l_clock(fl_board *b, fl_clock_status *st, char *err, size_t errlen)
{
	struct timex tx;
	int state;

	memset(&tx, 0, sizeof(tx));
	state = adjtimex(&tx);
	if (state < 0)
		return fail(err, errlen, FL_EIO, "adjtimex: %s",
			    strerror(errno));
	st->synced = state != TIME_ERROR && !(tx.status & STA_UNSYNC);
	st->offset_s = (double)tx.offset / ((tx.status & STA_NANO) ? 1e9 : 1e6);
	st->maxerror_s = (double)tx.maxerror / 1e6;
	return 0;
}

/* ---- life ---- */

static void l_destroy(fl_board *b)
{
	lboard *l = b->impl;

	if (!l)
		return;
	stop_player(b);
	if (l->wd_fd >= 0)
		close(l->wd_fd); /* normally closed (magic) before this */
	close_relays(l);
	free(l);
	b->impl = NULL;
}

static const fl_board_ops linux_ops = { "linux",    l_relay,   l_play,
					l_hush,     l_wd_open, l_wd_kick,
					l_wd_close, l_clock,   l_poll,
					l_destroy };

fl_board *fl_board_linux_create(const fl_linux_opts *o, char *err,
				size_t errlen)
{
	lboard *l = calloc(1, sizeof(*l));
	fl_board *b = NULL;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!l) {
		fail(err, errlen, FL_ENOMEM, "out of memory");
		return NULL;
	}
	l->wd_fd = -1;
	if (!o)
		goto made;
	if (o->player && o->player[0]) {
		rc = parse_player(l, o->player, err, errlen);
		if (rc < 0)
			goto fail_impl;
	}
	if (o->watchdog && o->watchdog[0] &&
	    (size_t)snprintf(l->watchdog_path, sizeof(l->watchdog_path), "%s",
			     o->watchdog) >= sizeof(l->watchdog_path)) {
		fail(err, errlen, FL_EINVAL, "watchdog path too long");
		goto fail_impl;
	}
	rc = open_relays(l, o, err, errlen);
	if (rc < 0)
		goto fail_relays;
made:
	b = fl_board__new(&linux_ops, l);
	if (!b) {
		fail(err, errlen, FL_ENOMEM, "out of memory");
		goto fail_relays;
	}
	return b;
fail_relays:
	close_relays(l);
fail_impl:
	free(l);
	return NULL;
}
