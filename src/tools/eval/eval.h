/*
 * eval.h - the pieces of the firelane-eval program: reports and the suite
 * runner. score.h holds the rules, truth.h the parsers.
 *
 * Ownership: an eval_result owns its name; eval_results_free() frees an
 * array of n results and the array itself (NULL-safe).
 */
#ifndef FL_EVAL_EVAL_H
#define FL_EVAL_EVAL_H

#include "score.h"

#include <stdio.h>

/* Process exit codes. */
enum {
	EVAL_EXIT_OK = 0,
	EVAL_EXIT_FAIL = 1, /* below a threshold, or an edge run failed */
	EVAL_EXIT_ERROR = 2 /* bad usage or unreadable/malformed input */
};

/* How a clip was run: from its start, cut at an offset with no memory,
 * or restarted at an offset with memory kept (docs/eval.md). */
enum eval_mode { EVAL_PLAIN, EVAL_CUT, EVAL_RESTART, EVAL_NMODES };

const char *eval_mode_name(int mode);

typedef struct eval_result {
	char *name;      /* clip name shown in reports ("vtest@31") */
	int mode;        /* enum eval_mode */
	double offset_s; /* the cut or restart time; 0 for plain */
	char cls[48];    /* the clip's failure class, "" when unknown */
	int failed;      /* 1: no figures; error says why */
	char error[512];
	eval_figures f;
} eval_result;

void eval_results_free(eval_result *r, size_t n);

/* Sum the figures of every clip that did not fail, then finish them. */
void eval_results_total(const eval_result *r, size_t n, eval_figures *total);
/* The same over the results of one mode only; returns how many there were
 * (failed ones included). */
size_t eval_results_total_mode(const eval_result *r, size_t n, int mode,
			       eval_figures *total);

/* A table for people, one row per clip and a TOTAL row. */
void eval_report_table(FILE *out, const eval_result *r, size_t n,
		       const eval_figures *total);

/* One JSON object {"clips": [...], "total": {...}} and a newline; with more
 * than plain runs also "by_mode": {"plain": {...}, "cut": ..., "restart":
 * ...}. Returns 0 or FL_ENOMEM. */
int eval_report_json(FILE *out, const eval_result *r, size_t n,
		     const eval_figures *total);

typedef struct eval_suite_opts {
	const char *dir;       /* folder of ground-truth *.json */
	const char *edge;      /* edge binary; NULL: beside this program */
	const char *model;     /* passed as --model when set */
	const char *data_root; /* media paths are relative to this */
	const char *out;       /* config/events/log folder; NULL: temp */
	int jobs;              /* clips run at once, >= 1 */
	const double *offsets; /* cut runs (0: the plain run); NULL: {0} */
	size_t noffsets;
	const double *restarts; /* restart runs (memory kept) at these */
	size_t nrestarts;
} eval_suite_opts;

/*
 * Run the edge on every clip of the suite and score it, once per offset
 * (from the start, or cut) and once per restart time. On return *res holds
 * *nres results (caller frees with eval_results_free), also on failure when
 * some were made. Returns EVAL_EXIT_OK, EVAL_EXIT_FAIL when an edge run
 * failed, or EVAL_EXIT_ERROR for bad ground truth, output or usage. Progress
 * and errors are written to stderr.
 */
int eval_suite_run(const eval_suite_opts *o, eval_result **res, size_t *nres);

#endif /* FL_EVAL_EVAL_H */
