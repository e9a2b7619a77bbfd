/*
 * test_eval.c - the scoring rules of firelane-eval, case by case.
 *
 * Every case is a tiny clip: dwell 10 s, 100 s long, zone "lane-a" (alarm
 * expected) and zone "lane-b" (must not alarm), a few obstructions and a few
 * events; the expected figures were worked out by hand from EVAL.md and the
 * rules essay in score.c. A case may be scored as after a cut at `cut` s
 * (the truth cut by eval_truth_cut: docs/eval.md, start offsets) or as the
 * events of an edge restarted at `restart` s (duplicates across it
 * counted). The scorer is firelane-eval's library (fl_eval).
 */
#include <math.h>
#include <string.h>

#include "fl.h"
#include "score.h"
#include "test.h"

#define MAX_OBS 4
#define MAX_EV 6

struct obs_row {
	int zone; /* 0 lane-a, 1 lane-b */
	double start, end;
	int clip_ends;
};

struct ev_row {
	enum eval_event_type type;
	const char *lane;
	const char *id;
	double t;
};

struct want {
	int tp, fp, fn, ign;
	int mna, sht, dup, nth;
	int due, on_time, late, missing, early;
	int rdup; /* duplicates across the restart */
	double p, r, f1;
	double dmean, dmax, cerr; /* NAN: undefined */
};

struct eval_case {
	const char *name;
	int nobs, nev;
	struct obs_row obs[MAX_OBS];
	struct ev_row ev[MAX_EV];
	struct want w;
	double cut;     /* > 0: score against the truth cut here */
	double restart; /* > 0: the events of a restart here */
};

#define A EVAL_ALARM
#define C EVAL_CLEARED
#define U NAN
/* An obstruction that stays to the end of the 100 s clip. */
#define TO_END(z, s)                                                           \
	{                                                                      \
		z, s, 100, 1                                                   \
	}

static const struct eval_case cases[] = {
	{ "perfect run",
	  1,
	  2,
	  { { 0, 20, 60, 0 } },
	  { { A, "lane-a", "i1", 31 }, { C, "lane-a", "i1", 62 } },
	  { .tp = 1,
	    .due = 1,
	    .on_time = 1,
	    .p = 1,
	    .r = 1,
	    .f1 = 1,
	    .dmean = 1,
	    .dmax = 1,
	    .cerr = 2 } },
	{ "alarm 2.9 s early is a hit",
	  1,
	  1,
	  { TO_END(0, 20) },
	  { { A, "lane-a", "i1", 27.1 } },
	  { .tp = 1,
	    .p = 1,
	    .r = 1,
	    .f1 = 1,
	    .dmean = -2.9,
	    .dmax = -2.9,
	    .cerr = U } },
	{ "alarm 3.1 s early is a miss and a false alarm",
	  1,
	  1,
	  { TO_END(0, 20) },
	  { { A, "lane-a", "i1", 26.9 } },
	  { .fp = 1,
	    .fn = 1,
	    .nth = 1,
	    .p = 0,
	    .r = 0,
	    .f1 = 0,
	    .dmean = U,
	    .dmax = U,
	    .cerr = U } },
	{ "alarm exactly 10 s late is a hit",
	  1,
	  1,
	  { TO_END(0, 20) },
	  { { A, "lane-a", "i1", 40 } },
	  { .tp = 1,
	    .p = 1,
	    .r = 1,
	    .f1 = 1,
	    .dmean = 10,
	    .dmax = 10,
	    .cerr = U } },
	{ "10 s late with float noise (t* = 12.4 + 10)",
	  1,
	  1,
	  { TO_END(0, 12.4) },
	  { { A, "lane-a", "i1", 32.4 } },
	  { .tp = 1,
	    .p = 1,
	    .r = 1,
	    .f1 = 1,
	    .dmean = 10,
	    .dmax = 10,
	    .cerr = U } },
	{ "alarm 10.1 s late is a miss and a false alarm",
	  1,
	  1,
	  { TO_END(0, 20) },
	  { { A, "lane-a", "i1", 40.1 } },
	  { .fp = 1, .fn = 1, .nth = 1, .dmean = U, .dmax = U, .cerr = U } },
	{ "duplicate alarm in the window",
	  1,
	  2,
	  { TO_END(0, 20) },
	  { { A, "lane-a", "i2", 35 }, { A, "lane-a", "i1", 30 } },
	  { .tp = 1,
	    .fp = 1,
	    .dup = 1,
	    .p = 0.5,
	    .r = 1,
	    .f1 = 2.0 / 3,
	    .dmean = 0,
	    .dmax = 0,
	    .cerr = U } },
	{ "re-alarm while the object still stands is a duplicate",
	  1,
	  2,
	  { TO_END(0, 20) },
	  { { A, "lane-a", "i1", 30 }, { A, "lane-a", "i2", 70 } },
	  { .tp = 1,
	    .fp = 1,
	    .dup = 1,
	    .p = 0.5,
	    .r = 1,
	    .f1 = 2.0 / 3,
	    .dmean = 0,
	    .dmax = 0,
	    .cerr = U } },
	{ "same incident_id after the object left is a duplicate",
	  1,
	  3,
	  { { 0, 20, 60, 0 } },
	  { { A, "lane-a", "i1", 30 },
	    { C, "lane-a", "i1", 61 },
	    { A, "lane-a", "i1", 75 } },
	  { .tp = 1,
	    .fp = 1,
	    .dup = 1,
	    .due = 1,
	    .on_time = 1,
	    .p = 0.5,
	    .r = 1,
	    .f1 = 2.0 / 3,
	    .dmean = 0,
	    .dmax = 0,
	    .cerr = 1 } },
	{ "alarm in a must-not-alarm zone",
	  0,
	  1,
	  { { 0 } },
	  { { A, "lane-b", "x", 50 } },
	  { .fp = 1,
	    .mna = 1,
	    .p = 0,
	    .r = 1,
	    .f1 = 0,
	    .dmean = U,
	    .dmax = U,
	    .cerr = U } },
	{ "alarm for a short stop",
	  1,
	  1,
	  { { 0, 20, 25, 0 } },
	  { { A, "lane-a", "i1", 30 } },
	  { .fp = 1,
	    .sht = 1,
	    .p = 0,
	    .r = 1,
	    .f1 = 0,
	    .dmean = U,
	    .dmax = U,
	    .cerr = U } },
	{ "alarm after a short stop's window: nothing there",
	  1,
	  1,
	  { { 0, 20, 25, 0 } },
	  { { A, "lane-a", "i1", 36 } },
	  { .fp = 1,
	    .nth = 1,
	    .p = 0,
	    .r = 1,
	    .f1 = 0,
	    .dmean = U,
	    .dmax = U,
	    .cerr = U } },
	{ "in-between obstruction: alarm ignored",
	  1,
	  1,
	  { { 0, 20, 31, 0 } },
	  { { A, "lane-a", "i1", 31 } },
	  { .ign = 1, .p = 1, .r = 1, .f1 = 1, .dmean = U, .dmax = U, .cerr = U } },
	{ "in-between obstruction: silence is fine too",
	  1,
	  0,
	  { { 0, 20, 31, 0 } },
	  { { 0 } },
	  { .p = 1, .r = 1, .f1 = 1, .dmean = U, .dmax = U, .cerr = U } },
	/* B is listed first and grabs 34 (nearest its t* = 35); A (t* = 30)
	 * can only use 34, so B must be re-seated on 41: both are hits. */
	{ "two obstructions, overlapping windows, augmenting path",
	  2,
	  2,
	  { TO_END(0, 25), TO_END(0, 20) },
	  { { A, "lane-a", "i1", 34 }, { A, "lane-a", "i2", 41 } },
	  { .tp = 2, .p = 1, .r = 1, .f1 = 1, .dmean = 5, .dmax = 6, .cerr = U } },
	/* The alarm fits both windows; it pays the obstruction whose t* is
	 * nearest (35, not 30), whichever is listed first. */
	{ "two obstructions, one alarm: nearest t* is paid",
	  2,
	  1,
	  { TO_END(0, 20), TO_END(0, 25) },
	  { { A, "lane-a", "i1", 34 } },
	  { .tp = 1,
	    .fn = 1,
	    .p = 1,
	    .r = 0.5,
	    .f1 = 2.0 / 3,
	    .dmean = -1,
	    .dmax = -1,
	    .cerr = U } },
	{ "two obstructions, one alarm, listed the other way",
	  2,
	  1,
	  { TO_END(0, 25), TO_END(0, 20) },
	  { { A, "lane-a", "i1", 34 } },
	  { .tp = 1,
	    .fn = 1,
	    .p = 1,
	    .r = 0.5,
	    .f1 = 2.0 / 3,
	    .dmean = -1,
	    .dmax = -1,
	    .cerr = U } },
	/* Greedy by nearness would give 33 to B (t* 35) and 38 to A (t* 30,
	 * cost 8+2=10); the min-cost matching gives 33 to A, 38 to B (3+3). */
	{ "min total delay among maximum matchings",
	  2,
	  2,
	  { TO_END(0, 20), TO_END(0, 25) },
	  { { A, "lane-a", "i1", 38 }, { A, "lane-a", "i2", 33 } },
	  { .tp = 2, .p = 1, .r = 1, .f1 = 1, .dmean = 3, .dmax = 3, .cerr = U } },
	{ "three obstructions, chain of overlapping windows",
	  3,
	  3,
	  { TO_END(0, 20), TO_END(0, 28), TO_END(0, 36) },
	  { { A, "lane-a", "i1", 39 },
	    { A, "lane-a", "i2", 47 },
	    { A, "lane-a", "i3", 55 } },
	  { .tp = 3, .p = 1, .r = 1, .f1 = 1, .dmean = 9, .dmax = 9, .cerr = U } },
	{ "early clear",
	  1,
	  2,
	  { { 0, 20, 60, 0 } },
	  { { A, "lane-a", "i1", 30 }, { C, "lane-a", "i1", 45 } },
	  { .tp = 1,
	    .due = 1,
	    .early = 1,
	    .p = 1,
	    .r = 1,
	    .f1 = 1,
	    .dmean = 0,
	    .dmax = 0,
	    .cerr = 15 } },
	{ "late clear",
	  1,
	  2,
	  { { 0, 20, 60, 0 } },
	  { { A, "lane-a", "i1", 30 }, { C, "lane-a", "i1", 71 } },
	  { .tp = 1,
	    .due = 1,
	    .late = 1,
	    .p = 1,
	    .r = 1,
	    .f1 = 1,
	    .dmean = 0,
	    .dmax = 0,
	    .cerr = 11 } },
	{ "clear exactly 10 s late is on time",
	  1,
	  2,
	  { { 0, 20, 60, 0 } },
	  { { A, "lane-a", "i1", 30 }, { C, "lane-a", "i1", 70 } },
	  { .tp = 1,
	    .due = 1,
	    .on_time = 1,
	    .p = 1,
	    .r = 1,
	    .f1 = 1,
	    .dmean = 0,
	    .dmax = 0,
	    .cerr = 10 } },
	{ "missing clear",
	  1,
	  1,
	  { { 0, 20, 60, 0 } },
	  { { A, "lane-a", "i1", 30 } },
	  { .tp = 1,
	    .due = 1,
	    .missing = 1,
	    .p = 1,
	    .r = 1,
	    .f1 = 1,
	    .dmean = 0,
	    .dmax = 0,
	    .cerr = U } },
	{ "clear without incident_id paired by zone and time",
	  1,
	  3,
	  { { 0, 20, 60, 0 } },
	  { { C, "lane-a", "", 10 },
	    { A, "lane-a", "", 30 },
	    { C, "lane-a", "", 58 } },
	  { .tp = 1,
	    .due = 1,
	    .on_time = 1,
	    .p = 1,
	    .r = 1,
	    .f1 = 1,
	    .dmean = 0,
	    .dmax = 0,
	    .cerr = 2 } },
	{ "clip-ends obstruction: no clear due, early clear counted",
	  1,
	  2,
	  { TO_END(0, 20) },
	  { { A, "lane-a", "i1", 30 }, { C, "lane-a", "i1", 85 } },
	  { .tp = 1,
	    .early = 1,
	    .p = 1,
	    .r = 1,
	    .f1 = 1,
	    .dmean = 0,
	    .dmax = 0,
	    .cerr = U } },
	{ "clip-ends obstruction: clear near the end is fine",
	  1,
	  2,
	  { TO_END(0, 20) },
	  { { A, "lane-a", "i1", 30 }, { C, "lane-a", "i1", 95 } },
	  { .tp = 1, .p = 1, .r = 1, .f1 = 1, .dmean = 0, .dmax = 0, .cerr = U } },
	{ "no events, one obstruction due",
	  1,
	  0,
	  { { 0, 20, 60, 0 } },
	  { { 0 } },
	  { .fn = 1, .p = 1, .r = 0, .f1 = 0, .dmean = U, .dmax = U, .cerr = U } },
	{ "nothing due and no alarm is perfect",
	  0,
	  0,
	  { { 0 } },
	  { { 0 } },
	  { .p = 1, .r = 1, .f1 = 1, .dmean = U, .dmax = U, .cerr = U } },
	{ "zone name mismatch: lane-A is not lane-a",
	  1,
	  1,
	  { TO_END(0, 20) },
	  { { A, "lane-A", "i1", 30 } },
	  { .fp = 1, .fn = 1, .nth = 1, .dmean = U, .dmax = U, .cerr = U } },
	{ "alarm in the right window but the other zone",
	  1,
	  1,
	  { TO_END(0, 20) },
	  { { A, "lane-b", "i1", 30 } },
	  { .fp = 1, .fn = 1, .mna = 1, .dmean = U, .dmax = U, .cerr = U } },

	/* start offsets: the truth cut at T (no memory before it) */
	{ "cut: at rest across the cut is due at cut + dwell",
	  1,
	  2,
	  { { 0, 20, 80, 0 } },
	  { { A, "lane-a", "i1", 41.5 }, { C, "lane-a", "i1", 82 } },
	  { .tp = 1,
	    .due = 1,
	    .on_time = 1,
	    .p = 1,
	    .r = 1,
	    .f1 = 1,
	    .dmean = 0.5,
	    .dmax = 0.5,
	    .cerr = 2 },
	  .cut = 31 },
	{ "cut: an alarm at the uncut due time is too early",
	  1,
	  1,
	  { { 0, 20, 80, 0 } },
	  { { A, "lane-a", "i1", 30 } },
	  { .fp = 1, .fn = 1, .nth = 1, .dmean = U, .dmax = U, .cerr = U },
	  .cut = 25 },
	{ "cut: an obstruction gone before the cut is owed nothing",
	  1,
	  1,
	  { { 0, 10, 28, 0 } },
	  { { A, "lane-a", "i1", 35 } },
	  { .fp = 1, .nth = 1, .r = 1, .dmean = U, .dmax = U, .cerr = U },
	  .cut = 31 },
	{ "cut: leaving with the cut's frame is gone too",
	  1,
	  1,
	  { { 0, 20, 31, 0 } },
	  { { A, "lane-a", "i1", 40 } },
	  { .fp = 1, .nth = 1, .r = 1, .dmean = U, .dmax = U, .cerr = U },
	  .cut = 31 },
	{ "cut: what is left of a long rest is a short stop",
	  1,
	  1,
	  { { 0, 20, 45, 0 } },
	  { { A, "lane-a", "i1", 44 } },
	  { .fp = 1, .sht = 1, .r = 1, .dmean = U, .dmax = U, .cerr = U },
	  .cut = 40 },
	{ "cut: an in-between remainder is not judged",
	  1,
	  1,
	  { { 0, 20, 51, 0 } },
	  { { A, "lane-a", "i1", 50 } },
	  { .ign = 1, .p = 1, .r = 1, .f1 = 1, .dmean = U, .dmax = U, .cerr = U },
	  .cut = 40 },
	{ "cut: coming to rest after the cut is as usual",
	  1,
	  2,
	  { { 0, 40, 80, 0 } },
	  { { A, "lane-a", "i1", 50 }, { C, "lane-a", "i1", 81 } },
	  { .tp = 1,
	    .due = 1,
	    .on_time = 1,
	    .p = 1,
	    .r = 1,
	    .f1 = 1,
	    .dmean = 0,
	    .dmax = 0,
	    .cerr = 1 },
	  .cut = 31 },

	/* restarts with memory: both runs' events against the uncut truth */
	{ "restart: alarmed before and again after is a restart duplicate",
	  1,
	  2,
	  { TO_END(0, 20) },
	  { { A, "lane-a", "i1", 30 }, { A, "lane-a", "i2", 60 } },
	  { .tp = 1,
	    .fp = 1,
	    .dup = 1,
	    .rdup = 1,
	    .p = 0.5,
	    .r = 1,
	    .f1 = 2.0 / 3,
	    .dmean = 0,
	    .dmax = 0,
	    .cerr = U },
	  .restart = 50 },
	{ "restart: the same incident id alarmed again after it",
	  1,
	  2,
	  { TO_END(0, 20) },
	  { { A, "lane-a", "i1", 30 }, { A, "lane-a", "i1", 70 } },
	  { .tp = 1,
	    .fp = 1,
	    .dup = 1,
	    .rdup = 1,
	    .p = 0.5,
	    .r = 1,
	    .f1 = 2.0 / 3,
	    .dmean = 0,
	    .dmax = 0,
	    .cerr = U },
	  .restart = 50 },
	{ "restart: the matched alarm after it, the duplicate before",
	  1,
	  2,
	  { TO_END(0, 45) },
	  { { A, "lane-a", "i1", 53 }, { A, "lane-a", "i2", 55.5 } },
	  { .tp = 1,
	    .fp = 1,
	    .dup = 1,
	    .rdup = 1,
	    .p = 0.5,
	    .r = 1,
	    .f1 = 2.0 / 3,
	    .dmean = 0.5,
	    .dmax = 0.5,
	    .cerr = U },
	  .restart = 54 },
	{ "restart: two alarms before it are a plain duplicate",
	  1,
	  2,
	  { TO_END(0, 20) },
	  { { A, "lane-a", "i1", 30 }, { A, "lane-a", "i2", 35 } },
	  { .tp = 1,
	    .fp = 1,
	    .dup = 1,
	    .p = 0.5,
	    .r = 1,
	    .f1 = 2.0 / 3,
	    .dmean = 0,
	    .dmax = 0,
	    .cerr = U },
	  .restart = 50 },
	{ "restart: an incident resumed after it is one alarm",
	  1,
	  2,
	  { { 0, 20, 70, 0 } },
	  { { A, "lane-a", "i1", 30 }, { C, "lane-a", "i1", 72 } },
	  { .tp = 1,
	    .due = 1,
	    .on_time = 1,
	    .p = 1,
	    .r = 1,
	    .f1 = 1,
	    .dmean = 0,
	    .dmax = 0,
	    .cerr = 2 },
	  .restart = 50 },
};

/* Build the truth of case c: two zones, its obstructions. */
static void make_truth(const struct eval_case *c, eval_truth *t,
		       eval_zone *zones, eval_obstruction *obs)
{
	memset(t, 0, sizeof(*t));
	zones[0] = (eval_zone){ .name = "lane-a" };
	zones[1] = (eval_zone){ .name = "lane-b", .must_not_alarm = 1 };
	for (int i = 0; i < c->nobs; i++)
		obs[i] = (eval_obstruction){ .zone = (size_t)c->obs[i].zone,
					     .start_s = c->obs[i].start,
					     .end_s = c->obs[i].end,
					     .clip_ends = c->obs[i].clip_ends };
	t->clip = "case";
	t->duration_s = 100;
	t->dwell_s = 10;
	t->zones = zones;
	t->nzones = 2;
	t->obs = obs;
	t->nobs = (size_t)c->nobs;
}

/* NAN matches NAN; numbers match within 1e-6. */
static int same(double got, double want)
{
	if (isnan(want))
		return isnan(got);
	return !isnan(got) && fabs(got - want) <= 1e-6;
}

static void check_case(const struct eval_case *c, eval_figures *total)
{
	eval_zone zones[2];
	eval_obstruction obs[MAX_OBS];
	eval_event ev[MAX_EV];
	eval_truth t, cut = { 0 };
	eval_figures f;
	const struct want *w = &c->w;

	make_truth(c, &t, zones, obs);
	for (int i = 0; i < c->nev; i++)
		ev[i] = (eval_event){ .type = c->ev[i].type,
				      .lane = (char *)c->ev[i].lane,
				      .incident_id = (char *)c->ev[i].id,
				      .t = c->ev[i].t,
				      .line = i + 1 };
	if (c->cut > 0)
		CHECK_MSG(eval_truth_cut(&t, c->cut, &cut) == 0, "%s", c->name);
	CHECK_MSG(eval_score_restart(c->cut > 0 ? &cut : &t, ev, (size_t)c->nev,
				     c->restart > 0 ? c->restart : NAN, &f) == 0,
		  "%s", c->name);
	eval_truth_free(&cut);
#define INT(field, wf)                                                         \
	CHECK_MSG(f.field == w->wf, "%s: " #field " %d, want %d", c->name,     \
		  f.field, w->wf)
#define DBL(field, wf)                                                         \
	CHECK_MSG(same(f.field, w->wf), "%s: " #field " %g, want %g", c->name, \
		  f.field, w->wf)
	INT(tp, tp);
	INT(fp, fp);
	INT(fn, fn);
	INT(ignored, ign);
	INT(fp_must_not_alarm, mna);
	INT(fp_short_stop, sht);
	INT(fp_duplicate, dup);
	INT(fp_nothing, nth);
	INT(clears_due, due);
	INT(clears_on_time, on_time);
	INT(clears_late, late);
	INT(clears_missing, missing);
	INT(early_clears, early);
	INT(restart_dup, rdup);
	DBL(precision, p);
	DBL(recall, r);
	DBL(f1, f1);
	DBL(delay_mean, dmean);
	DBL(delay_max, dmax);
	DBL(clear_err_mean, cerr);
#undef INT
#undef DBL
	/* one hit: its |delay| is the largest; a hit 2.9 s early counts */
	if (f.tp == 1)
		CHECK_MSG(same(f.delay_abs_max, fabs(w->dmax)),
			  "%s: delay_abs_max %g", c->name, f.delay_abs_max);
	CHECK_MSG(f.fp == f.fp_must_not_alarm + f.fp_short_stop +
				  f.fp_duplicate + f.fp_nothing,
		  "%s: reasons do not add up to fp", c->name);
	eval_figures_add(total, &f);
}

/* Totals add counters first and divide after: check against the table. */
static void check_total(const eval_figures *total)
{
	int tp = 0, fp = 0, fn = 0, early = 0;
	double p, r;

	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		tp += cases[i].w.tp;
		fp += cases[i].w.fp;
		fn += cases[i].w.fn;
		early += cases[i].w.early;
	}
	CHECK(total->tp == tp);
	CHECK(total->fp == fp);
	CHECK(total->fn == fn);
	CHECK(total->early_clears == early);
	p = (double)tp / (tp + fp);
	r = (double)tp / (tp + fn);
	CHECK_NEAR(total->precision, p, 1e-9);
	CHECK_NEAR(total->recall, r, 1e-9);
	CHECK_NEAR(total->f1, 2 * p * r / (p + r), 1e-9);
	CHECK_NEAR(total->delay_max, 10, 1e-6);
	CHECK_NEAR(total->delay_abs_max, 10, 1e-6);
}

/* A cut copies what it keeps (the input is untouched) and drops, moves or
 * keeps each obstruction by the rule. */
static void check_cut_copy(void)
{
	double pts[] = { 1, 2, 3, 4, 5, 6 };
	eval_zone zones[1] = {
		{ .name = "lane-a", .points = pts, .npoints = 3 }
	};
	eval_obstruction obs[3] = {
		{ .zone = 0, .start_s = 0, .end_s = 10 },
		{ .zone = 0, .start_s = 5, .end_s = 40, .clip_ends = 1 },
		{ .zone = 0, .start_s = 30, .end_s = 35 },
	};
	eval_truth t = { .clip = "c.mp4",
			 .media = "c.mp4",
			 .cls = "x",
			 .duration_s = 40,
			 .dwell_s = 10,
			 .fps = 25,
			 .zones = zones,
			 .nzones = 1,
			 .obs = obs,
			 .nobs = 3 };
	eval_truth c;

	CHECK(eval_truth_cut(&t, 20, &c) == 0);
	CHECK(c.nzones == 1 && c.zones[0].npoints == 3 &&
	      c.zones[0].points != pts && c.zones[0].points[5] == 6);
	CHECK(strcmp(c.zones[0].name, "lane-a") == 0);
	CHECK(c.clip != t.clip && strcmp(c.clip, "c.mp4") == 0);
	CHECK(strcmp(c.cls, "x") == 0 && c.duration_s == 40 && c.fps == 25);
	CHECK(c.nobs == 2);
	CHECK(c.nobs == 2 && c.obs[0].start_s == 20 && c.obs[0].end_s == 40 &&
	      c.obs[0].clip_ends);
	CHECK(c.nobs == 2 && c.obs[1].start_s == 30 && c.obs[1].end_s == 35);
	CHECK(obs[1].start_s == 5 && t.nobs == 3);
	eval_truth_free(&c);
	t.media = NULL;
	t.cls = NULL;
	CHECK(eval_truth_cut(&t, 0, &c) == 0);
	CHECK(c.media == NULL && c.cls == NULL && c.nobs == 3);
	eval_truth_free(&c);
}

/* The events list owns copies; free releases them and zeroes the list. */
static void check_events_push(void)
{
	eval_events e = { 0 };

	for (int i = 0; i < 40; i++)
		CHECK(eval_events_push(&e, EVAL_ALARM, "lane-a",
				       i % 2 ? NULL : "x", i, i + 1) == 0);
	CHECK(e.n == 40);
	CHECK(strcmp(e.v[39].lane, "lane-a") == 0);
	CHECK(strcmp(e.v[39].incident_id, "") == 0);
	CHECK(strcmp(e.v[38].incident_id, "x") == 0);
	eval_events_free(&e);
	CHECK(e.n == 0 && e.v == NULL);
	eval_events_free(NULL);
	eval_truth_free(NULL);
}

int main(void)
{
	eval_figures total;

	memset(&total, 0, sizeof(total));
	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++)
		check_case(&cases[i], &total);
	eval_figures_finish(&total);
	check_total(&total);
	check_cut_copy();
	check_events_push();
	printf("%zu scoring cases\n", FL_ARRAY_SIZE(cases));
	TEST_DONE();
}
