/*
 * test_board.c - the board layer (firmware/): the simulated board and what
 * of the Linux board can be tested without hardware.
 *
 * Sim: every action is in the in-memory log with its time, the JSON-lines
 * file says the same, a failing relay leaves the shared state alone, and
 * destroy switches on relays off and closes the watchdog. Linux: the player
 * command really runs (a small shell script as the player records its
 * arguments; a clip name with a space stays one argument), its exit status
 * is reaped without blocking, a second clip while one plays is refused,
 * hush stops it, a missing player is FL_ENOENT; the watchdog protocol on a
 * plain file (kick falls back to a write, close writes the magic 'V'); the
 * clock from adjtimex() is sane; GPIO without the chip is a clear error;
 * fl_board_create() follows the configuration.
 */
#include "hal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fl.h"
#include "test.h"

static char dir[] = "/tmp/fl-test-board-XXXXXX";

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = calloc(1, (size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	fclose(f);
	return s;
}

static void spit(const char *path, const char *text, int mode)
{
	FILE *f = fopen(path, "w");

	CHECK_NOT_NULL(f);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	chmod(path, (mode_t)mode);
}

static void test_sim(void)
{
	char path[256], err[256];
	fl_sim_opts so = { 0 };
	const fl_sim_entry *e;
	fl_clock_status st;
	fl_board *b;
	size_t n;
	char *text;

	snprintf(path, sizeof(path), "%s/sim.jsonl", dir);
	so.log_path = path;
	so.synced = 1;
	so.offset_s = 0.25;
	b = fl_board_sim_create(&so, err, sizeof(err));
	CHECK_MSG(b != NULL, "%s", err);
	if (!b)
		return;
	CHECK_STREQ(fl_board_name(b), "sim");
	CHECK_EQ_INT(fl_board_relay(b, FL_BOARD_SPEAKER, 1, 11, err,
				    sizeof(err)),
		     0);
	CHECK_EQ_INT(fl_board_relay(b, FL_BOARD_STROBE, 1, 11, err, sizeof(err)),
		     0);
	CHECK(fl_board_play(b, "/x/move \"now\".wav", 11, err, sizeof(err)) ==
	      0);
	CHECK_EQ_INT(fl_board_relay(b, FL_BOARD_SPEAKER, 0, 15, err,
				    sizeof(err)),
		     0);
	CHECK_EQ_INT(fl_board_relay(b, 7, 1, 15, err, sizeof(err)), FL_EINVAL);
	CHECK(fl_board_play(b, "", 15, err, sizeof(err)) == FL_EINVAL);
	CHECK_EQ_INT(fl_board_watchdog_kick(b, 15, err, sizeof(err)),
		     FL_EINVAL);
	CHECK_EQ_INT(fl_board_watchdog_open(b, 16, err, sizeof(err)), 0);
	CHECK_EQ_INT(fl_board_watchdog_kick(b, 17, err, sizeof(err)), 0);
	CHECK_EQ_INT(fl_board_hush(b, 18), 0);
	CHECK_EQ_INT(fl_board_clock(b, &st, err, sizeof(err)), 0);
	CHECK(st.synced == 1 && st.offset_s == 0.25);
	CHECK(fl_board_poll(b, 19) == 0 && b->last_exit == 0);
	CHECK(b->relay_on[FL_BOARD_STROBE] == 1 &&
	      b->relay_on[FL_BOARD_SPEAKER] == 0);

	e = fl_board_sim_log(b, &n);
	CHECK_EQ_INT(n, 7);
	if (n == 7) {
		CHECK(e[0].kind == FL_SIM_RELAY && e[0].t == 11 &&
		      e[0].relay == FL_BOARD_SPEAKER && e[0].on == 1);
		CHECK(e[1].relay == FL_BOARD_STROBE && e[1].on == 1);
		CHECK(e[2].kind == FL_SIM_PLAY &&
		      !strcmp(e[2].clip, "/x/move \"now\".wav"));
		CHECK(e[3].kind == FL_SIM_RELAY && e[3].on == 0 && e[3].t == 15);
		CHECK(e[4].kind == FL_SIM_WD_OPEN &&
		      e[5].kind == FL_SIM_WD_KICK && e[6].kind == FL_SIM_HUSH &&
		      e[6].t == 18);
	}
	/* Destroy: strobe off, hush, magic close, at the last time seen. */
	fl_board_destroy(b);
	text = slurp(path);
	CHECK_NOT_NULL(text);
	if (text) {
		CHECK_MSG(
			strstr(text, "{\"t\":11.000,\"action\":\"relay\","
				     "\"relay\":\"speaker\",\"on\":true}\n") &&
				strstr(text,
				       "\"clip\":\"/x/move \\\"now\\\".wav\"") &&
				strstr(text,
				       "{\"t\":19.000,\"action\":\"relay\","
				       "\"relay\":\"strobe\",\"on\":false}\n"
				       "{\"t\":19.000,\"action\":\"hush\"}\n"
				       "{\"t\":19.000,\"action\":"
				       "\"watchdog_close\"}\n"),
			"%s", text);
		free(text);
	}
	unlink(path);
	fl_board_destroy(NULL);
	CHECK(fl_board_sim_log(NULL, &n) == NULL && n == 0);
}

static void test_sim_errors(void)
{
	fl_sim_opts so = { 0 };
	char err[256];
	fl_board *b;
	size_t n;

	so.fail_relays = 1;
	b = fl_board_sim_create(&so, err, sizeof(err));
	CHECK_NOT_NULL(b);
	if (!b)
		return;
	CHECK_EQ_INT(fl_board_relay(b, FL_BOARD_SPEAKER, 1, 1, err, sizeof(err)),
		     FL_EIO);
	CHECK(strstr(err, "simulated failure") != NULL);
	CHECK_EQ_INT(b->relay_on[FL_BOARD_SPEAKER], 0);
	fl_board_sim_log(b, &n);
	CHECK_EQ_INT(n, 0);
	fl_board_destroy(b);

	so.fail_relays = 0;
	so.log_path = "/nonexistent-dir/x.jsonl";
	b = fl_board_sim_create(&so, err, sizeof(err));
	CHECK(b == NULL && strstr(err, "/nonexistent-dir/x.jsonl"));
}

/* Poll until the player is done (at most ~5 s). */
static int wait_player(fl_board *b)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	for (int i = 0; i < 250; i++) {
		if (fl_board_poll(b, 0) == 0)
			return 0;
		nanosleep(&ts, NULL);
	}
	return -1;
}

static void test_linux_player(void)
{
	char script[256], out[300], cmd[600], clip[256], err[256];
	fl_linux_opts lo = { 0 };
	fl_board *b;
	char *text;

	snprintf(script, sizeof(script), "%s/player.sh", dir);
	snprintf(out, sizeof(out), "%s/played.txt", dir);
	snprintf(cmd, sizeof(cmd),
		 "#!/bin/sh\n"
		 "[ \"$1\" = slow ] && exec sleep 30\n"
		 "printf '%%s|' \"$@\" >> %s\n"
		 "[ \"$1\" = bad ] && exit 3\n"
		 "exit 0\n",
		 out);
	spit(script, cmd, 0755);
	snprintf(clip, sizeof(clip), "%s/warn me.wav", dir);

	snprintf(cmd, sizeof(cmd), "%s  -q", script);
	lo.speaker_line = lo.strobe_line = -1;
	lo.player = cmd;
	b = fl_board_linux_create(&lo, err, sizeof(err));
	CHECK_MSG(b != NULL, "%s", err);
	if (!b)
		return;
	CHECK_STREQ(fl_board_name(b), "linux");
	CHECK_EQ_INT(fl_board_play(b, clip, 0, err, sizeof(err)), 0);
	CHECK_EQ_INT(wait_player(b), 0);
	CHECK_EQ_INT(b->last_exit, 0);
	text = slurp(out);
	snprintf(cmd, sizeof(cmd), "-q|%s|", clip);
	CHECK_STREQ(text, cmd);
	free(text);
	/* No relay lines configured: a clear refusal, not a silent no-op. */
	CHECK_EQ_INT(fl_board_relay(b, FL_BOARD_SPEAKER, 1, 0, err, sizeof(err)),
		     FL_EUNSUPPORTED);
	CHECK_EQ_INT(fl_board_watchdog_open(b, 0, err, sizeof(err)),
		     FL_EUNSUPPORTED);
	fl_board_destroy(b);

	/* Exit status, busy, hush. */
	snprintf(cmd, sizeof(cmd), "%s bad", script);
	lo.player = cmd;
	b = fl_board_linux_create(&lo, err, sizeof(err));
	CHECK_NOT_NULL(b);
	if (b) {
		CHECK_EQ_INT(fl_board_play(b, clip, 0, err, sizeof(err)), 0);
		CHECK(wait_player(b) == 0 && b->last_exit == 3);
		fl_board_destroy(b);
	}
	snprintf(cmd, sizeof(cmd), "%s slow", script);
	lo.player = cmd;
	b = fl_board_linux_create(&lo, err, sizeof(err));
	CHECK_NOT_NULL(b);
	if (b) {
		CHECK_EQ_INT(fl_board_play(b, clip, 0, err, sizeof(err)), 0);
		CHECK_EQ_INT(fl_board_poll(b, 0), 1);
		CHECK_EQ_INT(fl_board_play(b, clip, 0, err, sizeof(err)),
			     FL_EAGAIN);
		CHECK_EQ_INT(fl_board_hush(b, 0), 0);
		CHECK_EQ_INT(wait_player(b), 0);
		CHECK_EQ_INT(b->last_exit, 128 + 15);
		/* Destroy while one plays: stopped and reaped, no zombie. */
		CHECK_EQ_INT(fl_board_play(b, clip, 0, err, sizeof(err)), 0);
		fl_board_destroy(b);
	}

	lo.player = "/nonexistent/player -q";
	b = fl_board_linux_create(&lo, err, sizeof(err));
	CHECK_NOT_NULL(b);
	if (b) {
		CHECK_EQ_INT(fl_board_play(b, clip, 0, err, sizeof(err)),
			     FL_ENOENT);
		CHECK_MSG(strstr(err, "/nonexistent/player"), "%s", err);
		fl_board_destroy(b);
	}
	unlink(script);
	unlink(out);
}

static void test_linux_watchdog_clock(void)
{
	char wd[256], err[256];
	fl_linux_opts lo = { 0 };
	fl_clock_status st;
	fl_board *b;
	char *text;

	snprintf(wd, sizeof(wd), "%s/watchdog", dir);
	spit(wd, "", 0644);
	lo.speaker_line = lo.strobe_line = -1;
	lo.watchdog = wd;
	b = fl_board_linux_create(&lo, err, sizeof(err));
	CHECK_MSG(b != NULL, "%s", err);
	if (!b)
		return;
	CHECK_EQ_INT(fl_board_watchdog_open(b, 0, err, sizeof(err)), 0);
	CHECK_EQ_INT(fl_board_watchdog_kick(b, 1, err, sizeof(err)), 0);
	fl_board_watchdog_close(b, 2);
	text = slurp(wd);
	CHECK_STREQ(text, "kV");
	free(text);

	/* The clock as the kernel sees it: a state, finite figures. */
	CHECK_MSG(fl_board_clock(b, &st, err, sizeof(err)) == 0, "%s", err);
	CHECK(st.synced == 0 || st.synced == 1);
	CHECK(st.maxerror_s >= 0 && st.maxerror_s < 1e6);
	CHECK(fabs(st.offset_s) < 1e6);
	printf("clock: synced %d offset %.6f s maxerror %.3f s\n", st.synced,
	       st.offset_s, st.maxerror_s);
	fl_board_destroy(b);
	unlink(wd);

	lo.watchdog = "/nonexistent/watchdog";
	b = fl_board_linux_create(&lo, err, sizeof(err));
	CHECK_NOT_NULL(b);
	if (b) {
		CHECK_EQ_INT(fl_board_watchdog_open(b, 0, err, sizeof(err)),
			     FL_ENOENT);
		CHECK(strstr(err, "/nonexistent/watchdog") != NULL);
		fl_board_destroy(b);
	}
}

static void test_linux_gpio(void)
{
	fl_linux_opts lo = { 0 };
	char err[256];
	fl_board *b;

	lo.chip = "fl-no-such-chip";
	lo.speaker_line = 3;
	lo.strobe_line = -1;
	b = fl_board_linux_create(&lo, err, sizeof(err));
	CHECK_NULL(b);
	/* With libgpiod: the chip and the system's reason; without: the
	 * build's. Either way it names the chip. */
	CHECK_MSG(strstr(err, "fl-no-such-chip") &&
			  (strstr(err, "No such file") ||
			   strstr(err, "libgpiod")),
		  "%s", err);
	printf("gpio: %s\n", err);
}

static void test_create(void)
{
	fl_board_conf c;
	char err[256], path[256];
	fl_board *b;

	memset(&c, 0, sizeof(c));
	snprintf(c.type, sizeof(c.type), "none");
	b = fl_board_create(&c, err, sizeof(err));
	CHECK(b == NULL && err[0] == '\0');

	snprintf(c.type, sizeof(c.type), "sim");
	snprintf(path, sizeof(path), "%s/c.jsonl", dir);
	snprintf(c.log, sizeof(c.log), "%s", path);
	b = fl_board_create(&c, err, sizeof(err));
	CHECK(b && !strcmp(fl_board_name(b), "sim"));
	fl_board_destroy(b);
	CHECK_EQ_INT(access(path, F_OK), 0);
	unlink(path);

	snprintf(c.type, sizeof(c.type), "linux");
	snprintf(c.chip, sizeof(c.chip), "fl-no-such-chip");
	c.speaker_line = -1;
	c.strobe_line = 5;
	b = fl_board_create(&c, err, sizeof(err));
	CHECK(b == NULL && strstr(err, "fl-no-such-chip"));
	c.strobe_line = -1;
	b = fl_board_create(&c, err, sizeof(err));
	CHECK(b && !strcmp(fl_board_name(b), "linux"));
	fl_board_destroy(b);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	test_sim();
	test_sim_errors();
	test_linux_player();
	test_linux_watchdog_clock();
	test_linux_gpio();
	test_create();
	rmdir(dir);
	TEST_DONE();
}
