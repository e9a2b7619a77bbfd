/*
 * score.h - the ground truth of one clip, the events an edge wrote for it,
 * and the figures that come from matching the two (docs/eval.md, EVAL.md).
 *
 * This header and score.c use only libc and libm: plain structs in, figures
 * out. Parsing (jansson) lives in truth.c, running the edge in suite.c, so the
 * scoring rules can be unit-tested and fuzzed on their own.
 *
 * Ownership: an eval_truth and an eval_events own every array and string they
 * point to; eval_truth_free() and eval_events_free() release them, accept
 * NULL and leave the struct zeroed. eval_score() borrows both and allocates
 * nothing that outlives the call.
 */
#ifndef FL_EVAL_SCORE_H
#define FL_EVAL_SCORE_H

#include <stddef.h>

/* Time comparisons at the window edges allow this much float noise, so that
 * "exactly 10 s late" is on the inside of the window (t* + 10). */
#define EVAL_EPS 1e-6

#define EVAL_EARLY_S 3.0      /* an alarm may come this early... */
#define EVAL_LATE_S 10.0      /* ...and this late relative to t* */
#define EVAL_DUE_MARGIN_S 3.0 /* due: >= dwell + 3; short: < dwell - 3 */
#define EVAL_CLEAR_S 10.0     /* a clear is on time within +-10 s of end_s */
#define EVAL_CLIP_END_S 0.5   /* end_s this close to duration: "clip ends" */

typedef struct eval_zone {
	char *name;
	int must_not_alarm; /* purpose "must not alarm" */
	double *points;     /* x0, y0, x1, y1, ...; may be NULL */
	size_t npoints;     /* number of (x, y) pairs */
} eval_zone;

typedef struct eval_obstruction {
	size_t zone; /* index into eval_truth.zones */
	double start_s, end_s;
	int clip_ends; /* lasts to the end of the clip: no clear due */
} eval_obstruction;

typedef struct eval_truth {
	char *clip;  /* display name ("clip" field or file name) */
	char *media; /* "media" field as written; may be NULL */
	char *cls;   /* "class" field (scene's failure class); may
				 * be NULL */
	double duration_s;
	double dwell_s;
	double fps; /* 0 when absent */
	eval_zone *zones;
	size_t nzones;
	eval_obstruction *obs;
	size_t nobs;
} eval_truth;

enum eval_event_type { EVAL_ALARM, EVAL_CLEARED };

typedef struct eval_event {
	enum eval_event_type type;
	char *lane;
	char *incident_id; /* "" when the line had none */
	double t;          /* video_time_s */
	int line;          /* 1-based line in the events file */
} eval_event;

typedef struct eval_events {
	eval_event *v;
	size_t n, cap;
} eval_events;

/*
 * The figures of one clip, or of several added together. Counters and sums
 * are what eval_figures_add() accumulates; the ratios and means are derived
 * from them by eval_figures_finish().
 */
typedef struct eval_figures {
	int tp, fp, fn;
	int ignored; /* alarms for in-between stops: no verdict */
	int fp_must_not_alarm, fp_short_stop, fp_duplicate, fp_nothing;
	double delay_sum, delay_abs_sum, delay_max; /* over tp */
	double delay_abs_max; /* largest |alarm - t*| over tp */
	int clears_due, clears_on_time, clears_late, clears_missing;
	int clears_found;     /* due clears that were found (any time) */
	double clear_err_sum; /* |clear - end_s| over clears_found */
	int early_clears;
	int restart_dup; /* duplicates across a restart: one alarm
				 * for an obstruction before it, one after */

	/* Derived by eval_figures_finish(). A mean is NaN when undefined. */
	double precision, recall, f1;
	double delay_mean, delay_abs_mean, clear_err_mean;
} eval_figures;

/*
 * Score events against truth (both borrowed) into *out (overwritten, then
 * finished). Events may be in any order; lanes that name no zone are alarms
 * with nothing there. Returns 0, or FL_ENOMEM.
 */
int eval_score(const eval_truth *truth, const eval_event *ev, size_t nev,
	       eval_figures *out);

/*
 * eval_score() for the events of an edge restarted at video time restart_t
 * (the events of both runs together, scored against the uncut truth), which
 * also counts out->restart_dup: duplicate alarms for an obstruction that
 * has one alarm before restart_t and another after it. A restart_t that is
 * NaN is eval_score().
 */
int eval_score_restart(const eval_truth *truth, const eval_event *ev,
		       size_t nev, double restart_t, eval_figures *out);

/*
 * The truth as an edge started at video time cut (with no memory of what
 * came before) owes it, into *out (caller frees with eval_truth_free(),
 * also on failure): an obstruction that ended at or before the cut is
 * dropped; one at rest across the cut rests from the cut (its alarm is due
 * at cut + dwell_s and its class follows the cut length end_s - cut); one
 * that comes to rest after the cut is kept as it is. Zones, times and the
 * clip's length are unchanged (times stay the clip's own). Returns 0 or
 * FL_ENOMEM.
 */
int eval_truth_cut(const eval_truth *truth, double cut, eval_truth *out);

/* Add the counters and sums of b into a (a's derived fields go stale). */
void eval_figures_add(eval_figures *a, const eval_figures *b);

/* Compute precision, recall, F1 and the means from the counters. */
void eval_figures_finish(eval_figures *f);

void eval_truth_free(eval_truth *t);
void eval_events_free(eval_events *e);

/* Append a copy of the strings; returns 0 or FL_ENOMEM. */
int eval_events_push(eval_events *e, enum eval_event_type type,
		     const char *lane, const char *incident_id, double t,
		     int line);

#endif /* FL_EVAL_SCORE_H */
