/*
 * test_edge_warning.c - the edge's warning glue (src/edge/warning.c) on the
 * simulated board: several lanes ORed onto one speaker and one strobe,
 * manual triggers queued until the camera's tick, quiet hours from the wall
 * clock at video time 0, board type none inert, a board that cannot be
 * built, and destroy leaving every relay off.
 *
 * TZ is UTC so that start_wall 0 is 00:00 local.
 */
#include "warning.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fl.h"
#include "test.h"

static fl_config cfg;

static void base_config(void)
{
	static const fl_point pts[] = { { 0, 0 }, { 10, 0 }, { 10, 10 } };

	fl_config_defaults(&cfg);
	snprintf(cfg.device_id, sizeof(cfg.device_id), "e");
	cfg.ncameras = 1;
	snprintf(cfg.cameras[0].id, sizeof(cfg.cameras[0].id), "cam-1");
	cfg.cameras[0].nlanes = 2;
	for (int l = 0; l < 2; l++) {
		fl_lane_conf *lc = &cfg.cameras[0].lanes[l];

		snprintf(lc->id, sizeof(lc->id), "lane-%c", 'a' + l);
		memcpy(lc->points, pts, sizeof(pts));
		lc->npoints = 3;
		lc->warn_s = 5;
		lc->warn_repeat_s = 0;
		lc->warn_max_repeats = 0;
	}
	snprintf(cfg.board.type, sizeof(cfg.board.type), "sim");
	cfg.board.speaker_s = 4;
	cfg.board.strobe_s = 0;
}

static void send_event(edge_warning *w, enum fl_event_type type,
		       const char *lane, const char *id, double t, double rest)
{
	fl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.camera = "cam-1";
	ev.lane = lane;
	snprintf(ev.incident_id, sizeof(ev.incident_id), "%s", id);
	ev.t = t;
	ev.rest_since = rest;
	edge_warning_event(w, &ev);
}

struct warned {
	int n;
	char lane[8][16];
	int manual[8];
	double t[8];
};

static void on_warned_event(const fl_event *ev, void *user)
{
	struct warned *r = user;

	CHECK(ev->type == FL_EV_WARNED);
	if (r->n < 8) {
		snprintf(r->lane[r->n], sizeof(r->lane[0]), "%s", ev->lane);
		r->manual[r->n] = ev->manual;
		r->t[r->n] = ev->t;
		r->n++;
	}
}

/* The sim's relay switches as "+6 -10 ..." for relay r. */
static void relay_log(const edge_warning *w, int r, char *buf, size_t len)
{
	size_t n, pos = 0;
	const fl_sim_entry *e = fl_board_sim_log(edge_warning_board(w), &n);

	buf[0] = '\0';
	for (size_t i = 0; i < n && pos < len; i++)
		if (e[i].kind == FL_SIM_RELAY && e[i].relay == r)
			pos += (size_t)snprintf(buf + pos, len - pos, " %c%g",
						e[i].on ? '+' : '-', e[i].t);
}

static int count(const edge_warning *w, enum fl_sim_kind k)
{
	size_t n;
	int c = 0;
	const fl_sim_entry *e = fl_board_sim_log(edge_warning_board(w), &n);

	for (size_t i = 0; i < n; i++)
		c += e[i].kind == k;
	return c;
}

static void run(edge_warning *w, double from, double to, struct warned *r)
{
	for (double t = from; t <= to + 1e-9; t += 0.5)
		edge_warning_tick(w, "cam-1", t, on_warned_event, r);
}

/* Two lanes, one speaker: on with the first, off after the last. */
static void test_two_lanes(void)
{
	char err[256], log[256];
	struct warned r = { 0 };
	edge_warning *w;

	base_config();
	w = edge_warning_create(&cfg, 0, err, sizeof(err));
	CHECK_MSG(w && edge_warning_active(w), "%s", err);
	if (!w)
		return;
	send_event(w, FL_EV_OCCUPIED, "lane-a", "a1", 2, 0);
	send_event(w, FL_EV_OCCUPIED, "lane-b", "b1", 3, 1);
	send_event(w, FL_EV_OCCUPIED, "lane-z", "z1", 3, 1); /* no such lane */
	run(w, 0, 20, &r);
	CHECK(r.n == 2 && !strcmp(r.lane[0], "lane-a") &&
	      !strcmp(r.lane[1], "lane-b") && r.t[0] == 5 && r.t[1] == 6);
	relay_log(w, FL_BOARD_SPEAKER, log, sizeof(log));
	CHECK_MSG(!strcmp(log, " +5 -10"), "'%s'", log);
	relay_log(w, FL_BOARD_STROBE, log, sizeof(log));
	CHECK_MSG(!strcmp(log, ""), "strobe unused: '%s'", log);
	CHECK(count(w, FL_SIM_PLAY) == 0); /* no clip configured */
	edge_warning_destroy(w);
}

/* A clear in one lane leaves the other lane's warning alone. */
static void test_clear_one_lane(void)
{
	char err[256], log[256];
	struct warned r = { 0 };
	edge_warning *w;

	base_config();
	snprintf(cfg.board.clip, sizeof(cfg.board.clip), "/x/move.wav");
	w = edge_warning_create(&cfg, 0, err, sizeof(err));
	CHECK(w != NULL);
	if (!w)
		return;
	send_event(w, FL_EV_OCCUPIED, "lane-a", "a1", 2, 0);
	send_event(w, FL_EV_OCCUPIED, "lane-b", "b1", 2, 0);
	run(w, 0, 6, &r);
	CHECK(r.n == 2 && count(w, FL_SIM_PLAY) == 1);
	send_event(w, FL_EV_CLEARED, "lane-a", "a1", 6.2, 0);
	CHECK(count(w, FL_SIM_HUSH) == 0); /* lane-b still holds the speaker */
	send_event(w, FL_EV_CLEARED, "lane-b", "b1", 7.2, 0);
	CHECK(count(w, FL_SIM_HUSH) == 1);
	relay_log(w, FL_BOARD_SPEAKER, log, sizeof(log));
	CHECK_MSG(!strcmp(log, " +5 -7.2"), "'%s'", log);
	edge_warning_destroy(w);
}

/* Manual: queued until the camera's tick; unknown names refused. */
static void test_trigger(void)
{
	char err[256];
	struct warned r = { 0 };
	edge_warning *w;

	base_config();
	w = edge_warning_create(&cfg, 0, err, sizeof(err));
	CHECK(w != NULL);
	if (!w)
		return;
	CHECK(edge_warning_trigger(w, "cam-1", "lane-b", 1) == 0);
	CHECK(edge_warning_trigger(w, "cam-1", "lane-q", 1) == FL_ENOENT);
	CHECK(edge_warning_trigger(w, "cam-9", NULL, 1) == FL_ENOENT);
	CHECK(r.n == 0);
	edge_warning_tick(w, "cam-2", 2, on_warned_event, &r); /* other cam */
	CHECK(r.n == 0);
	edge_warning_tick(w, "cam-1", 2, on_warned_event, &r);
	CHECK(r.n == 1 && r.manual[0] == 1 && !strcmp(r.lane[0], "lane-b") &&
	      r.t[0] == 2);
	CHECK(edge_warning_trigger(w, NULL, NULL, 3) == 0);
	edge_warning_tick(w, NULL, 3, on_warned_event, &r);
	CHECK(r.n == 3);
	edge_warning_destroy(w);
}

/* Quiet hours are local wall time: start_wall + t. */
static void test_quiet(void)
{
	char err[256];
	struct warned r = { 0 };
	edge_warning *w;

	base_config();
	for (int l = 0; l < 2; l++) {
		fl_lane_conf *lc = &cfg.cameras[0].lanes[l];
		lc->quiet[0].start_min = 0; /* 00:00-00:01 */
		lc->quiet[0].end_min = 1;
		lc->nquiet = 1;
		lc->warn_repeat_s = 30;
		lc->warn_max_repeats = 5;
	}
	cfg.cameras[0].nlanes = 1;
	w = edge_warning_create(&cfg, 0, err, sizeof(err));
	CHECK(w != NULL);
	if (!w)
		return;
	send_event(w, FL_EV_OCCUPIED, "lane-a", "a1", 2, 0);
	run(w, 0, 100, &r);
	/* 5 and 35 fall in 00:00, 65 and 95 do not. */
	CHECK_MSG(r.n == 2 && r.t[0] == 65 && r.t[1] == 95, "%d %g", r.n,
		  r.t[0]);
	edge_warning_destroy(w);
}

/* Reload: the lane's new warn_s applies to the open incident. */
static void test_reload(void)
{
	char err[256];
	struct warned r = { 0 };
	edge_warning *w;

	base_config();
	cfg.cameras[0].lanes[0].warn_s = 50;
	w = edge_warning_create(&cfg, 0, err, sizeof(err));
	CHECK(w != NULL);
	if (!w)
		return;
	send_event(w, FL_EV_OCCUPIED, "lane-a", "a1", 2, 0);
	run(w, 0, 5, &r);
	CHECK(r.n == 0);
	cfg.cameras[0].lanes[0].warn_s = 8;
	edge_warning_reload(w);
	run(w, 5.5, 20, &r);
	CHECK_MSG(r.n == 1 && r.t[0] == 8, "%d", r.n);
	edge_warning_reload(NULL);
	edge_warning_destroy(w);
}

/* Destroy with a relay on: off, at the last time seen, in the file. */
static void test_destroy_file(void)
{
	char err[256], path[] = "/tmp/fl-test-ew-XXXXXX";
	struct warned r = { 0 };
	edge_warning *w;
	FILE *f;
	char text[4096];
	size_t n;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	close(fd);
	base_config();
	snprintf(cfg.board.log, sizeof(cfg.board.log), "%s", path);
	w = edge_warning_create(&cfg, 0, err, sizeof(err));
	CHECK(w != NULL);
	if (!w)
		return;
	send_event(w, FL_EV_OCCUPIED, "lane-a", "a1", 2, 0);
	run(w, 0, 6, &r);
	edge_warning_destroy(w);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (f) {
		n = fread(text, 1, sizeof(text) - 1, f);
		text[n] = '\0';
		fclose(f);
		CHECK_MSG(strstr(text, "{\"t\":5.000,\"action\":\"relay\","
				       "\"relay\":\"speaker\",\"on\":true}") &&
				  strstr(text,
					 "{\"t\":6.000,\"action\":\"relay\","
					 "\"relay\":\"speaker\","
					 "\"on\":false}"),
			  "%s", text);
	}
	unlink(path);
}

static void test_none_and_errors(void)
{
	char err[256];
	struct warned r = { 0 };
	edge_warning *w;

	base_config();
	snprintf(cfg.board.type, sizeof(cfg.board.type), "none");
	w = edge_warning_create(&cfg, 0, err, sizeof(err));
	CHECK(w != NULL && !edge_warning_active(w));
	send_event(w, FL_EV_OCCUPIED, "lane-a", "a1", 2, 0);
	run(w, 0, 20, &r);
	CHECK(r.n == 0);
	CHECK(edge_warning_trigger(w, NULL, NULL, 0) == FL_EUNSUPPORTED);
	edge_warning_destroy(w);

	base_config();
	snprintf(cfg.board.log, sizeof(cfg.board.log), "/nonexistent/x.jsonl");
	w = edge_warning_create(&cfg, 0, err, sizeof(err));
	CHECK_MSG(w == NULL && strstr(err, "/nonexistent/x.jsonl"), "%s", err);

	/* NULL-safe all the way. */
	edge_warning_event(NULL, NULL);
	edge_warning_tick(NULL, NULL, 0, NULL, NULL);
	CHECK(edge_warning_trigger(NULL, NULL, NULL, 0) == FL_EUNSUPPORTED);
	CHECK(!edge_warning_active(NULL));
	edge_warning_destroy(NULL);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	test_two_lanes();
	test_clear_one_lane();
	test_trigger();
	test_quiet();
	test_reload();
	test_destroy_file();
	test_none_and_errors();
	TEST_DONE();
}
