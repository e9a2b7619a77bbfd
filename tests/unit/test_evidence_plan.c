/*
 * test_evidence_plan.c - the evidence plan (src/core/evidence.c), table-driven
 * on simulated time.
 *
 * Each row is a story: lane events at given video times, the analysis clock
 * ticking at 5 Hz, and whether the pictures the plan asks for get written.
 * The driver feeds the events, loops on fl_evidence_plan_tick() at every tick
 * exactly as the evidence writer does, and records what happened: the scene
 * images taken, the action that ended the plan and when, the gaps of the
 * seal and the clip window. Each row states what must come out.
 */
#include "evidence.h"
#include "fl.h"
#include "test.h"

#include <math.h>
#include <string.h>

#define MAX_EV 6
#define TICK 0.2

struct ev {
	enum fl_event_type type;
	double t, rest_since;
	const char *incident; /* NULL: "inc-1" */
};

struct row {
	const char *name;
	fl_evidence_params prm;
	struct ev ev[MAX_EV];
	int nev;
	double end_t;   /* input ends (fl_evidence_plan_end) */
	int shots_fail; /* no picture can be written */
	/* expected */
	enum fl_evidence_action outcome; /* SEAL, DISCARD or NONE */
	double outcome_t;                /* when it came (tolerance one tick) */
	int images;                      /* scene images taken */
	unsigned gaps;
	double clip_from, clip_to; /* checked when outcome is SEAL */
	const char *note;          /* substring of the note, or NULL for "" */
	int kinds[8];              /* kinds of the first images, -1 ends */
};

#define PRM(dwell, pre, post, ival, maxi)                                      \
	{                                                                      \
		dwell, pre, post, ival, maxi, 0                                \
	}

static const struct row rows[] = {
	{ "park and stay, dwell 15: sealed at alarm + post-roll",
	  PRM(15, 10, 10, 0, 6),
	  { { FL_EV_OCCUPIED, 12.4, 10 },
	    { FL_EV_ALARM, 25, 10 },
	    { FL_EV_CLEARED, 60, 10 } },
	  3,
	  80,
	  0,
	  FL_EVP_SEAL,
	  35,
	  4,
	  0,
	  0,
	  35,
	  NULL,
	  { FL_SHOT_REST, FL_SHOT_ALARM, FL_SHOT_PERIODIC, FL_SHOT_PERIODIC,
	    -1 } },
	{ "dwell 60: three images, the third just after the alarm",
	  PRM(60, 10, 10, 0, 6),
	  { { FL_EV_OCCUPIED, 62, 60 }, { FL_EV_ALARM, 120, 60 } },
	  2,
	  200,
	  0,
	  FL_EVP_SEAL,
	  130,
	  3,
	  0,
	  50,
	  130,
	  NULL,
	  { FL_SHOT_REST, FL_SHOT_ALARM, FL_SHOT_PERIODIC, -1 } },
	{ "short stop: vacated before the alarm, nothing kept",
	  PRM(15, 10, 10, 0, 6),
	  { { FL_EV_OCCUPIED, 12.4, 10 }, { FL_EV_VACATED, 20, 10 } },
	  2,
	  60,
	  0,
	  FL_EVP_DISCARD,
	  20,
	  1,
	  0,
	  0,
	  0,
	  NULL,
	  { FL_SHOT_REST, -1 } },
	{ "cleared two seconds after the alarm: sealed with a note",
	  PRM(15, 10, 10, 0, 6),
	  { { FL_EV_OCCUPIED, 12.4, 10 },
	    { FL_EV_ALARM, 25, 10 },
	    { FL_EV_CLEARED, 27, 10 } },
	  3,
	  60,
	  0,
	  FL_EVP_SEAL,
	  27,
	  2,
	  FL_EVG_FEW_IMAGES | FL_EVG_SPAN | FL_EVG_CLIP_SHORT,
	  0,
	  27,
	  "incomplete (cleared at 27.0 s): 2 of 3 scene images; first and "
	  "last scene images 12.6 s apart, 15.0 s required; clip ends at "
	  "27.0 s instead of 35.0 s",
	  { FL_SHOT_REST, FL_SHOT_ALARM, -1 } },
	{ "budget of 3, interval 1 s: the last image waits for the span",
	  PRM(30, 10, 10, 1, 3),
	  { { FL_EV_OCCUPIED, 32, 30 }, { FL_EV_ALARM, 60, 30 } },
	  2,
	  100,
	  0,
	  FL_EVP_SEAL,
	  70,
	  3,
	  0,
	  20,
	  70,
	  NULL,
	  { FL_SHOT_REST, FL_SHOT_ALARM, FL_SHOT_PERIODIC, -1 } },
	{ "present from start: occupied and alarmed in one tick",
	  PRM(10, 10, 10, 0, 6),
	  { { FL_EV_OCCUPIED, 0.2, 0 }, { FL_EV_ALARM, 0.2, 0 } },
	  2,
	  60,
	  0,
	  FL_EVP_SEAL,
	  11.2,
	  5,
	  0,
	  0,
	  10.2,
	  NULL,
	  { FL_SHOT_REST, FL_SHOT_ALARM, FL_SHOT_PERIODIC, -1 } },
	{ "input ends after the alarm: sealed with a note",
	  PRM(15, 10, 10, 0, 6),
	  { { FL_EV_OCCUPIED, 12.4, 10 }, { FL_EV_ALARM, 25, 10 } },
	  2,
	  28,
	  0,
	  FL_EVP_SEAL,
	  28,
	  2,
	  FL_EVG_FEW_IMAGES | FL_EVG_SPAN | FL_EVG_CLIP_SHORT,
	  0,
	  28,
	  "input ended at 28.0 s",
	  { -1 } },
	{ "input ends before the alarm: discarded",
	  PRM(15, 10, 10, 0, 6),
	  { { FL_EV_OCCUPIED, 12.4, 10 } },
	  1,
	  20,
	  0,
	  FL_EVP_DISCARD,
	  20,
	  1,
	  0,
	  0,
	  0,
	  NULL,
	  { -1 } },
	{ "every picture fails (full disk): the plan still ends",
	  PRM(15, 10, 10, 5, 6),
	  { { FL_EV_OCCUPIED, 12.4, 10 }, { FL_EV_ALARM, 25, 10 } },
	  2,
	  100,
	  1,
	  FL_EVP_SEAL,
	  55,
	  0,
	  FL_EVG_FEW_IMAGES | FL_EVG_SPAN,
	  0,
	  35,
	  "0 of 3 scene images",
	  { -1 } },
	{ "another incident's events are ignored",
	  PRM(15, 10, 10, 0, 6),
	  { { FL_EV_OCCUPIED, 12.4, 10 },
	    { FL_EV_VACATED, 14, 12, "inc-2" },
	    { FL_EV_ALARM, 25, 10 } },
	  3,
	  80,
	  0,
	  FL_EVP_SEAL,
	  35,
	  4,
	  0,
	  0,
	  35,
	  NULL,
	  { -1 } },
	{ "vacated after the alarm counts as leaving: sealed",
	  PRM(15, 2, 3, 0, 6),
	  { { FL_EV_OCCUPIED, 40.4, 38 },
	    { FL_EV_ALARM, 53, 38 },
	    { FL_EV_VACATED, 54, 38 } },
	  3,
	  80,
	  0,
	  FL_EVP_SEAL,
	  54,
	  2,
	  FL_EVG_FEW_IMAGES | FL_EVG_SPAN | FL_EVG_CLIP_SHORT,
	  36,
	  54,
	  "vacated at 54.0 s",
	  { -1 } },
	{ "no events: nothing to do",
	  PRM(15, 10, 10, 0, 6),
	  { { 0 } },
	  0,
	  30,
	  0,
	  FL_EVP_NONE,
	  0,
	  0,
	  0,
	  0,
	  0,
	  NULL,
	  { -1 } },
};

static void run_row(const struct row *r)
{
	fl_evidence_plan p;
	enum fl_evidence_action outcome = FL_EVP_NONE;
	double outcome_t = -1, times[32];
	int kinds[32], n = 0, next_ev = 0, ended = 0;
	char note[512];

	fl_evidence_plan_init(&p, &r->prm);
	for (int i = 0; outcome == FL_EVP_NONE; i++) {
		double t = i * TICK;
		enum fl_evidence_action a;

		if (t > r->end_t + 1e-9) {
			if (ended)
				break;
			fl_evidence_plan_end(&p, r->end_t);
			ended = 1;
			t = r->end_t;
		}
		while (next_ev < r->nev && r->ev[next_ev].t <= t + 1e-9) {
			const struct ev *e = &r->ev[next_ev++];
			fl_event ev = { 0 };
			int rc;

			ev.type = e->type;
			ev.t = e->t;
			ev.rest_since = e->rest_since;
			snprintf(ev.incident_id, sizeof(ev.incident_id), "%s",
				 e->incident ? e->incident : "inc-1");
			rc = fl_evidence_plan_event(&p, &ev);
			CHECK_MSG(rc == (e->incident ? FL_EINVAL : 0),
				  "%s: event rc %d", r->name, rc);
		}
		for (int guard = 0; guard < 100; guard++) {
			a = fl_evidence_plan_tick(&p, t);
			if (a == FL_EVP_NONE)
				break;
			if (a == FL_EVP_SHOOT) {
				CHECK_LT_INT(n, 32);
				if (n < 32) {
					times[n] = t;
					kinds[n] = p.shot_kind;
					n++;
				}
				if (!r->shots_fail)
					fl_evidence_plan_taken(&p, t);
				continue;
			}
			outcome = a;
			outcome_t = t;
			CHECK_MSG(fl_evidence_plan_tick(&p, t) == FL_EVP_NONE,
				  "%s: plan not done after %d", r->name, a);
			break;
		}
	}
	CHECK_MSG(outcome == r->outcome, "%s: outcome %d, expected %d", r->name,
		  outcome, r->outcome);
	if (r->outcome != FL_EVP_NONE)
		CHECK_MSG(fabs(outcome_t - r->outcome_t) <= TICK + 1e-9,
			  "%s: outcome at %.2f, expected %.2f", r->name,
			  outcome_t, r->outcome_t);
	CHECK_MSG(p.nimages == (r->shots_fail ? 0 : r->images) &&
			  (r->shots_fail || n == r->images),
		  "%s: %d images (%d asked), expected %d", r->name, p.nimages,
		  n, r->images);
	for (int k = 0; k < 8 && r->kinds[k] >= 0 && k < n; k++)
		CHECK_MSG(kinds[k] == r->kinds[k], "%s: image %d is %s",
			  r->name, k, fl_evidence_shot_name(kinds[k]));
	/* Never more than the budget, never two within a second. */
	CHECK_MSG(n <= (r->prm.max_images > 3 ? r->prm.max_images : 3),
		  "%s: %d images over budget", r->name, n);
	for (int k = 1; k < n; k++)
		CHECK_MSG(times[k] - times[k - 1] >= 1.0 - 1e-9,
			  "%s: images %d and %d %.2f s apart", r->name, k - 1,
			  k, times[k] - times[k - 1]);
	if (r->outcome == FL_EVP_SEAL) {
		double from, to;

		CHECK_MSG(p.gaps == r->gaps, "%s: gaps %#x, expected %#x",
			  r->name, p.gaps, r->gaps);
		fl_evidence_plan_clip(&p, &from, &to);
		CHECK_MSG(fabs(from - r->clip_from) < 1e-6 &&
				  fabs(to - r->clip_to) < 1e-6,
			  "%s: clip [%.2f, %.2f], expected [%.2f, %.2f]",
			  r->name, from, to, r->clip_from, r->clip_to);
		/* A complete bundle has the spacing SPEC 4 asks for. */
		if (!r->gaps)
			CHECK_MSG(p.last_t - p.first_t >=
						  fmax(10, r->prm.dwell_s) -
							  1e-9 &&
					  p.nimages >= 3,
				  "%s: %d images over %.2f s", r->name,
				  p.nimages, p.last_t - p.first_t);
		fl_evidence_plan_note(&p, note, sizeof(note));
		if (r->note)
			CHECK_MSG(strstr(note, r->note) != NULL,
				  "%s: note '%s' lacks '%s'", r->name, note,
				  r->note);
		else
			CHECK_MSG(note[0] == '\0', "%s: note '%s'", r->name,
				  note);
	}
	fl_evidence_plan_deinit(&p);
}

static void test_interval(void)
{
	fl_evidence_params prm = PRM(15, 10, 10, 0, 6);

	CHECK_EQ_DBL(fl_evidence_interval(&prm), 5, 1e-9);
	prm.dwell_s = 60;
	CHECK_EQ_DBL(fl_evidence_interval(&prm), 10, 1e-9);
	prm.dwell_s = 1;
	CHECK_EQ_DBL(fl_evidence_interval(&prm), 10.0 / 3, 1e-9);
	prm.interval_s = 7;
	CHECK_EQ_DBL(fl_evidence_interval(&prm), 7, 1e-9);
}

/* The clip window before the alarm is open-ended, and clamped at the start
 * of the video. */
static void test_clip_open(void)
{
	fl_evidence_params prm = PRM(15, 10, 10, 0, 6);
	fl_evidence_plan p;
	fl_event ev = { 0 };
	double from, to;

	prm.video_start = 0.5;
	fl_evidence_plan_init(&p, &prm);
	ev.type = FL_EV_OCCUPIED;
	ev.t = 6;
	ev.rest_since = 4;
	snprintf(ev.incident_id, sizeof(ev.incident_id), "x");
	fl_evidence_plan_event(&p, &ev);
	fl_evidence_plan_clip(&p, &from, &to);
	CHECK_EQ_DBL(from, 0.5, 1e-9);
	CHECK(isinf(to));
	CHECK(!fl_evidence_plan_complete(&p, 100));
	fl_evidence_plan_deinit(&p);
}

int main(void)
{
	for (size_t i = 0; i < FL_ARRAY_SIZE(rows); i++)
		run_row(&rows[i]);
	test_interval();
	test_clip_open();
	TEST_DONE();
}
