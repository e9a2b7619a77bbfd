/*
 * test_warn.c - the on-site warning sequencer (src/core/warn.c), table-driven
 * on simulated time.
 *
 * Each case is a parameter set and a script of steps: lane events (occupied,
 * alarm, cleared, vacated) at given video times, manual triggers, and a
 * tick every 0.5 s up to the case's end; the local minute of the day is
 * base_min + t / 60, so quiet hours can be crossed in a few simulated
 * minutes. What the sequencer says (board actions and WARNED events) is
 * recorded as one compact string, "W<repeat>@<t>" for a warning event,
 * "M" for a manual one, "+S/-S" and "+L/-L" for the speaker and strobe
 * relays, "P" for the clip and "H" for a hush, and compared with the
 * expected string. Times are the tick times, to 0.5 s.
 *
 * Cases: warn time, repeats and their cap, stop on clear, vacated before the
 * warning, quiet hours entered and left mid-incident (skipped, not queued),
 * two incidents one after the other and at once in one lane, manual trigger
 * with and without an incident and in quiet hours, warn_s = 0, ALARM as the
 * first event, a late tick (no burst), other lanes' events ignored.
 */
#include "warn.h"

#include <stdio.h>
#include <string.h>

#include "fl.h"
#include "test.h"

enum step_kind { OCC, ALARM, CLEAR, VACATE, TRIGGER, OTHER_LANE, END };

struct step {
	enum step_kind kind;
	double t;
	const char *id;
	double rest_since;
};

struct wcase {
	const char *name;
	double warn_s, repeat_s;
	int max_repeats;
	double speaker_s, strobe_s;
	fl_hours quiet[2];
	int nquiet;
	int base_min; /* minute of the day at t = 0 */
	double tick;  /* tick period; 0 = 0.5 s */
	struct step steps[8];
	double end_t;
	const char *expect;
};

struct rec {
	char buf[4096];
	size_t len;
};

static void add(struct rec *r, const char *fmt, double t)
{
	char tmp[64];
	int n = snprintf(tmp, sizeof(tmp), fmt, t);

	if (n > 0 && r->len + (size_t)n < sizeof(r->buf)) {
		memcpy(r->buf + r->len, tmp, (size_t)n + 1);
		r->len += (size_t)n;
	}
}

static void on_action(const fl_warn_action *a, void *user)
{
	struct rec *r = user;
	const char *rl = a->relay == FL_WARN_SPEAKER ? "S" : "L";
	char fmt[32];

	CHECK(a->camera && !strcmp(a->camera, "cam-1"));
	CHECK(a->lane && !strcmp(a->lane, "lane-a"));
	switch (a->type) {
	case FL_WARN_RELAY_ON:
		snprintf(fmt, sizeof(fmt), " +%s%%g/%g", rl, a->duration_s);
		add(r, fmt, a->t);
		break;
	case FL_WARN_RELAY_OFF:
		snprintf(fmt, sizeof(fmt), " -%s%%g", rl);
		add(r, fmt, a->t);
		break;
	case FL_WARN_PLAY:
		add(r, " P%g", a->t);
		break;
	case FL_WARN_HUSH:
		add(r, " H%g", a->t);
		break;
	}
}

static void on_event(const fl_event *ev, void *user)
{
	struct rec *r = user;
	char fmt[200];

	CHECK_EQ_INT(ev->type, FL_EV_WARNED);
	CHECK(!strcmp(ev->camera, "cam-1") && !strcmp(ev->lane, "lane-a"));
	if (ev->manual)
		snprintf(fmt, sizeof(fmt), " M[%s]@%%g", ev->incident_id);
	else
		snprintf(fmt, sizeof(fmt), " W%d[%s]@%%g", ev->repeat,
			 ev->incident_id);
	add(r, fmt, ev->t);
}

static void lane_event(fl_warn *w, enum fl_event_type type, double t,
		       const char *id, double rest, const char *lane,
		       const fl_warn_out *out)
{
	fl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.camera = "cam-1";
	ev.lane = lane;
	snprintf(ev.incident_id, sizeof(ev.incident_id), "%s", id);
	ev.t = t;
	ev.rest_since = rest;
	ev.left_at = t;
	fl_warn_event(w, &ev, out);
}

/* Speaker 4 s, strobe off (0) unless a case says otherwise: short strings. */
static const struct wcase cases[] = {
	{ "first warning at rest + warn_s, relays off after their time",
	  10,
	  0,
	  0,
	  4,
	  0,
	  { { 0 } },
	  0,
	  600,
	  0,
	  { { OCC, 3, "a", 1 }, { END } },
	  40,
	  " +S11/4 P11 W0[a]@11 -S15" },
	{ "repeats every warn_repeat_s up to max_repeats",
	  10,
	  20,
	  2,
	  4,
	  0,
	  { { 0 } },
	  0,
	  600,
	  0,
	  { { OCC, 3, "a", 1 }, { END } },
	  120,
	  " +S11/4 P11 W0[a]@11 -S15 +S31/4 P31 W1[a]@31 -S35"
	  " +S51/4 P51 W2[a]@51 -S55" },
	{ "speaker and strobe, overlapping warnings extend the relay",
	  10,
	  5,
	  1,
	  4,
	  8,
	  { { 0 } },
	  0,
	  600,
	  0,
	  { { OCC, 2, "a", 0 }, { END } },
	  40,
	  " +S10/4 +L10/8 P10 W0[a]@10 -S14 +S15/4 P15 W1[a]@15 -S19 -L23" },
	{ "cleared: relays off and hush at once, nothing after",
	  10,
	  20,
	  5,
	  8,
	  0,
	  { { 0 } },
	  0,
	  600,
	  0,
	  { { OCC, 3, "a", 1 },
	    { ALARM, 12, "a", 1 },
	    { CLEAR, 13, "a", 0 },
	    { END } },
	  100,
	  " +S11/8 P11 W0[a]@11 -S13 H13" },
	{ "vacated before the warning: nothing at all",
	  10,
	  20,
	  5,
	  4,
	  4,
	  { { 0 } },
	  0,
	  600,
	  0,
	  { { OCC, 3, "a", 1 }, { VACATE, 8, "a", 0 }, { END } },
	  100,
	  "" },
	{ "quiet hours 10:01-10:02 crossed: due warnings skipped, not queued",
	  10,
	  20,
	  10,
	  4,
	  0,
	  { { 601, 602 } },
	  1,
	  600,
	  0,
	  { { OCC, 3, "a", 1 }, { END } },
	  150,
	  " +S11/4 P11 W0[a]@11 -S15 +S31/4 P31 W1[a]@31 -S35"
	  " +S51/4 P51 W2[a]@51 -S55 +S131/4 P131 W3[a]@131 -S135" },
	{ "incident starts inside quiet hours, first warning after them",
	  10,
	  30,
	  10,
	  4,
	  0,
	  { { 22 * 60, 601 } },
	  1,
	  600,
	  0,
	  { { OCC, 3, "a", 1 }, { END } },
	  100,
	  " +S71/4 P71 W0[a]@71 -S75" },
	{ "quiet all the time: never a warning",
	  5,
	  5,
	  10,
	  4,
	  4,
	  { { 0, 24 * 60 } },
	  1,
	  600,
	  0,
	  { { OCC, 1, "a", 0 }, { END } },
	  200,
	  "" },
	{ "two incidents one after the other: the count starts again",
	  5,
	  10,
	  5,
	  2,
	  0,
	  { { 0 } },
	  0,
	  600,
	  0,
	  { { OCC, 2, "a", 0 },
	    { CLEAR, 12, "a", 0 },
	    { OCC, 30, "b", 28 },
	    { CLEAR, 44, "b", 0 },
	    { END } },
	  80,
	  " +S5/2 P5 W0[a]@5 -S7 +S33/2 P33 W0[b]@33 -S35"
	  " +S43/2 P43 W1[b]@43 -S44 H44" },
	{ "two incidents at once: each its clock, relays until both left",
	  5,
	  0,
	  0,
	  10,
	  0,
	  { { 0 } },
	  0,
	  600,
	  0,
	  { { OCC, 2, "a", 0 },
	    { OCC, 4, "b", 3 },
	    { CLEAR, 6, "a", 0 },
	    { CLEAR, 9, "b", 0 },
	    { END } },
	  30,
	  " +S5/10 P5 W0[a]@5 P8 W0[b]@8 -S9 H9" },
	{ "manual trigger: no incident, then during one, schedule unmoved",
	  10,
	  0,
	  0,
	  3,
	  0,
	  { { 0 } },
	  0,
	  600,
	  0,
	  { { TRIGGER, 2, NULL, 0 },
	    { OCC, 5, "a", 4 },
	    { TRIGGER, 7, NULL, 0 },
	    { END } },
	  30,
	  " +S2/3 P2 M[]@2 -S5 +S7/3 P7 M[a]@7 -S10 +S14/3 P14 W0[a]@14 -S17" },
	{ "manual trigger in quiet hours is given",
	  10,
	  0,
	  0,
	  3,
	  0,
	  { { 0, 24 * 60 } },
	  1,
	  600,
	  0,
	  { { OCC, 1, "a", 0 }, { TRIGGER, 20, NULL, 0 }, { END } },
	  40,
	  " +S20/3 P20 M[a]@20 -S23" },
	{ "warn_s = 0: no automatic warning",
	  0,
	  10,
	  5,
	  4,
	  4,
	  { { 0 } },
	  0,
	  600,
	  0,
	  { { OCC, 1, "a", 0 }, { ALARM, 30, "a", 0 }, { END } },
	  100,
	  "" },
	{ "alarm as the first event opens the incident from rest_since",
	  10,
	  0,
	  0,
	  4,
	  0,
	  { { 0 } },
	  0,
	  600,
	  0,
	  { { ALARM, 62, "a", 2 }, { END } },
	  80,
	  " +S62/4 P62 W0[a]@62 -S66" },
	{ "a late tick warns once and resumes the schedule after it",
	  10,
	  10,
	  10,
	  1,
	  0,
	  { { 0 } },
	  0,
	  600,
	  35,
	  { { OCC, 3, "a", 0 }, { END } },
	  80,
	  " +S35/1 P35 W0[a]@35 -S70 +S70/1 P70 W1[a]@70" },
	{ "other lanes' events are ignored",
	  5,
	  0,
	  0,
	  4,
	  0,
	  { { 0 } },
	  0,
	  600,
	  0,
	  { { OTHER_LANE, 1, "x", 0 }, { END } },
	  30,
	  "" },
};

static void run_case(const struct wcase *c)
{
	fl_warn w;
	fl_warn_params p;
	struct rec r = { "", 0 };
	fl_warn_out out = { on_action, on_event, &r };
	double tick = c->tick > 0 ? c->tick : 0.5;
	size_t next = 0;

	memset(&p, 0, sizeof(p));
	p.warn_s = c->warn_s;
	p.repeat_s = c->repeat_s;
	p.max_repeats = c->max_repeats;
	p.speaker_s = c->speaker_s;
	p.strobe_s = c->strobe_s;
	p.quiet = c->quiet;
	p.nquiet = c->nquiet;
	fl_warn_init(&w, &p, "cam-1", "lane-a");
	for (double t = 0; t <= c->end_t + 1e-9; t += tick) {
		/* Events of this instant come before its tick, as in the
		 * edge (the lanes emit during assess, the tick follows). */
		while (c->steps[next].kind != END && c->steps[next].t <= t) {
			const struct step *s = &c->steps[next++];
			switch (s->kind) {
			case OCC:
				lane_event(&w, FL_EV_OCCUPIED, s->t, s->id,
					   s->rest_since, "lane-a", &out);
				break;
			case ALARM:
				lane_event(&w, FL_EV_ALARM, s->t, s->id,
					   s->rest_since, "lane-a", &out);
				break;
			case CLEAR:
				lane_event(&w, FL_EV_CLEARED, s->t, s->id,
					   s->rest_since, "lane-a", &out);
				break;
			case VACATE:
				lane_event(&w, FL_EV_VACATED, s->t, s->id,
					   s->rest_since, "lane-a", &out);
				break;
			case TRIGGER:
				CHECK_EQ_INT(fl_warn_trigger(&w, s->t, &out),
					     0);
				break;
			case OTHER_LANE:
				lane_event(&w, FL_EV_OCCUPIED, s->t, s->id,
					   s->rest_since, "lane-b", &out);
				break;
			case END:
				break;
			}
		}
		fl_warn_tick(&w, t, (c->base_min + (int)(t / 60)) % 1440, &out);
	}
	CHECK_MSG(!strcmp(r.buf, c->expect),
		  "%s:\n  got    '%s'\n  wanted '%s'", c->name, r.buf,
		  c->expect);
	fl_warn_deinit(&w);
}

/* Stop turns everything off once; ticks without an incident say nothing. */
static void test_stop(void)
{
	fl_warn w;
	fl_warn_params p = { 0 };
	struct rec r = { "", 0 };
	fl_warn_out out = { on_action, on_event, &r };

	p.speaker_s = 5;
	p.strobe_s = 5;
	fl_warn_init(&w, &p, "cam-1", "lane-a");
	fl_warn_tick(&w, 1, 0, &out);
	CHECK_EQ_INT(r.len, 0);
	fl_warn_trigger(&w, 2, &out);
	fl_warn_stop(&w, 3, &out);
	fl_warn_stop(&w, 4, &out);
	fl_warn_tick(&w, 10, 0, &out);
	CHECK_STREQ(r.buf, " +S2/5 +L2/5 P2 M[]@2 -S3 -L3 H3");
	CHECK_EQ_INT(w.warnings, 1);
	/* NULL callbacks and NULL out are fine. */
	fl_warn_trigger(&w, 11, NULL);
	fl_warn_tick(&w, 30, 0, &(fl_warn_out){ NULL, NULL, NULL });
	fl_warn_deinit(&w);
}

/* A reload: new parameters apply to the open incident's next slot. */
static void test_set_params(void)
{
	fl_warn w;
	fl_warn_params p = { 0 };
	struct rec r = { "", 0 };
	fl_warn_out out = { NULL, on_event, &r };

	p.warn_s = 10;
	p.repeat_s = 10;
	p.max_repeats = 5;
	fl_warn_init(&w, &p, "cam-1", "lane-a");
	lane_event(&w, FL_EV_OCCUPIED, 2, "a", 0, "lane-a", &out);
	fl_warn_tick(&w, 3, 0, &out);
	p.warn_s = 2; /* already past: due at once */
	fl_warn_set_params(&w, &p);
	fl_warn_tick(&w, 3.5, 0, &out);
	p.repeat_s = 2;
	fl_warn_set_params(&w, &p); /* the next slot stays 12 */
	fl_warn_tick(&w, 6, 0, &out);
	fl_warn_tick(&w, 13.5, 0, &out);
	fl_warn_tick(&w, 15.5, 0, &out);
	p.repeat_s = 0; /* no more repeats */
	fl_warn_set_params(&w, &p);
	fl_warn_tick(&w, 30, 0, &out);
	CHECK_STREQ(r.buf, " W0[a]@3.5 W1[a]@13.5 W2[a]@15.5");
	fl_warn_deinit(&w);
}

static void test_hours(void)
{
	const fl_hours night[] = { { 22 * 60, 6 * 60 } };
	const fl_hours day[] = { { 8 * 60, 18 * 60 },
				 { 19 * 60, 19 * 60 + 30 } };

	CHECK(fl_warn_in_hours(night, 1, 23 * 60));
	CHECK(fl_warn_in_hours(night, 1, 0));
	CHECK(!fl_warn_in_hours(night, 1, 6 * 60));
	CHECK(!fl_warn_in_hours(night, 1, 12 * 60));
	CHECK(fl_warn_in_hours(day, 2, 19 * 60 + 10));
	CHECK(!fl_warn_in_hours(day, 2, 18 * 60 + 10));
	CHECK(!fl_warn_in_hours(NULL, 0, 100));
}

static void test_params_from(void)
{
	fl_lane_conf l;
	fl_warn_params p;

	memset(&l, 0, sizeof(l));
	l.warn_s = 7;
	l.warn_repeat_s = 9;
	l.warn_max_repeats = 3;
	l.quiet[0].start_min = 1;
	l.quiet[0].end_min = 2;
	l.nquiet = 1;
	fl_warn_params_from(&p, &l, 4, 6);
	CHECK(p.warn_s == 7 && p.repeat_s == 9 && p.max_repeats == 3);
	CHECK(p.speaker_s == 4 && p.strobe_s == 6);
	CHECK(p.quiet == l.quiet && p.nquiet == 1);
}

/* The WARNED JSON line carries repeat and trigger. */
static void test_json(void)
{
	fl_event ev;
	char line[1024];

	memset(&ev, 0, sizeof(ev));
	ev.type = FL_EV_WARNED;
	ev.camera = "cam-1";
	ev.lane = "lane-a";
	snprintf(ev.incident_id, sizeof(ev.incident_id), "i-1");
	ev.t = 31;
	ev.repeat = 2;
	fl_event_json(&ev, line, sizeof(line));
	CHECK_MSG(strstr(line, "\"type\":\"warned\"") &&
			  strstr(line, "\"repeat\":2") &&
			  strstr(line, "\"trigger\":\"auto\"") &&
			  strstr(line, "\"video_time_s\":31.000"),
		  "%s", line);
	ev.type = FL_EV_ALARM;
	fl_event_json(&ev, line, sizeof(line));
	CHECK_MSG(!strstr(line, "repeat"), "%s", line);
}

int main(void)
{
	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
	test_stop();
	test_set_params();
	test_hours();
	test_params_from();
	test_json();
	printf("test_warn: %zu cases\n", FL_ARRAY_SIZE(cases));
	TEST_DONE();
}
