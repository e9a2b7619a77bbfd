/*
 * main.c - firelane-eval: score an edge's events against ground truth.
 *
 *   firelane-eval --truth GT.json --events EVENTS.jsonl [--json]
 *                 [--offsets T | --restart-at T]
 *   firelane-eval --suite DIR [--edge PATH] [--model PATH] [--data-root ROOT]
 *                 [--out DIR] [--min-f1 X] [--max-early N] [--json]
 *                 [--jobs N] [--offsets T,T,...] [--restart-at T,T,...]
 *
 * The program is thin wiring: parse argv, read inputs (truth.c), run the
 * edge when asked (suite.c), apply the rules (score.c), print (report.c),
 * and turn the totals into an exit code a CI job can gate on:
 *   0  scored, and every threshold given was met
 *   1  a threshold was missed, or an edge run failed
 *   2  bad usage, or unreadable or malformed ground truth or events
 * The rules themselves are in score.c and docs/eval.md.
 */
#include "eval.h"
#include "truth.h"

#include "fl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TIMES 32 /* offsets or restart times in one list */

struct args {
	const char *truth, *events;
	double offsets[MAX_TIMES], restarts[MAX_TIMES];
	eval_suite_opts suite;
	int json;
	int have_min_f1, have_max_early;
	double min_f1;
	long max_early;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: firelane-eval --truth GT.json --events EVENTS.jsonl [--json]\n"
		"                     [--offsets T | --restart-at T]\n"
		"       firelane-eval --suite DIR [--edge PATH] [--model PATH] [--data-root ROOT]\n"
		"                     [--out DIR] [--min-f1 X] [--max-early N] [--json] [--jobs N]\n"
		"                     [--offsets T,T,...] [--restart-at T,T,...]\n"
		"Scores per incident (docs/eval.md). --offsets: runs cut at each T (0: from\n"
		"the start) with no memory; --restart-at: runs restarted at each T with\n"
		"memory kept (--state-dir). Exit 0 ok, 1 below a threshold or an edge run\n"
		"failed, 2 bad usage or input.\n");
}

static int parse_double(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno || end == s || *end ? -1 : 0;
}

static int parse_long(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno || end == s || *end ? -1 : 0;
}

/* A comma-separated list of seconds >= 0 into out[MAX_TIMES]; returns the
 * count, or -1. */
static int parse_times(const char *s, double *out)
{
	int n = 0;

	for (;;) {
		char *end;

		if (n == MAX_TIMES)
			return -1;
		errno = 0;
		out[n] = strtod(s, &end);
		if (errno || end == s || !(out[n] >= 0 && out[n] < 1e7) ||
		    (*end && *end != ','))
			return -1;
		n++;
		if (!*end)
			return n;
		s = end + 1;
	}
}

/* Fill a from argv. Returns 0, 1 for --help, -1 for bad usage (printed). */
static int parse_args(int argc, char **argv, struct args *a)
{
	a->suite.jobs = 1;
	for (int i = 1; i < argc; i++) {
		const char *k = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		long l;

		if (strcmp(k, "--help") == 0 || strcmp(k, "-h") == 0)
			return 1;
		if (strcmp(k, "--json") == 0) {
			a->json = 1;
			continue;
		}
		if (!v) {
			fprintf(stderr,
				"firelane-eval: %s: unknown option or missing value\n",
				k);
			return -1;
		}
		i++;
		if (strcmp(k, "--truth") == 0) {
			a->truth = v;
		} else if (strcmp(k, "--events") == 0) {
			a->events = v;
		} else if (strcmp(k, "--suite") == 0) {
			a->suite.dir = v;
		} else if (strcmp(k, "--edge") == 0) {
			a->suite.edge = v;
		} else if (strcmp(k, "--model") == 0) {
			a->suite.model = v;
		} else if (strcmp(k, "--data-root") == 0) {
			a->suite.data_root = v;
		} else if (strcmp(k, "--out") == 0) {
			a->suite.out = v;
		} else if (strcmp(k, "--min-f1") == 0) {
			if (parse_double(v, &a->min_f1)) {
				fprintf(stderr,
					"firelane-eval: --min-f1: not a number: %s\n",
					v);
				return -1;
			}
			a->have_min_f1 = 1;
		} else if (strcmp(k, "--max-early") == 0) {
			if (parse_long(v, &a->max_early) || a->max_early < 0) {
				fprintf(stderr,
					"firelane-eval: --max-early: want a count >= 0: %s\n",
					v);
				return -1;
			}
			a->have_max_early = 1;
		} else if (strcmp(k, "--offsets") == 0 ||
			   strcmp(k, "--restart-at") == 0) {
			int restart = k[2] == 'r';
			int cnt = parse_times(v, restart ? a->restarts
							 : a->offsets);

			if (cnt < 0) {
				fprintf(stderr,
					"firelane-eval: %s: want seconds >= 0, comma-separated (at most %d): %s\n",
					k, MAX_TIMES, v);
				return -1;
			}
			if (restart) {
				a->suite.restarts = a->restarts;
				a->suite.nrestarts = (size_t)cnt;
			} else {
				a->suite.offsets = a->offsets;
				a->suite.noffsets = (size_t)cnt;
			}
		} else if (strcmp(k, "--jobs") == 0) {
			if (parse_long(v, &l) || l < 1 || l > 256) {
				fprintf(stderr,
					"firelane-eval: --jobs: want 1..256: %s\n",
					v);
				return -1;
			}
			a->suite.jobs = (int)l;
		} else {
			fprintf(stderr, "firelane-eval: unknown option %s\n",
				k);
			return -1;
		}
	}
	if (!a->suite.dir == !(a->truth && a->events) ||
	    (a->suite.dir && (a->truth || a->events))) {
		fprintf(stderr,
			"firelane-eval: give --truth and --events, or --suite\n");
		return -1;
	}
	/* one events file is one run: at most one cut or restart time */
	if (!a->suite.dir && (a->suite.noffsets > 1 || a->suite.nrestarts > 1 ||
			      (a->suite.offsets && a->suite.restarts))) {
		fprintf(stderr,
			"firelane-eval: with --events, give one --offsets T or one --restart-at T\n");
		return -1;
	}
	return 0;
}

/* Score one clip from files into a new one-element result array. */
static int score_one(const struct args *a, eval_result **res, size_t *nres)
{
	eval_truth truth = { 0 }, cut = { 0 };
	eval_events ev = { 0 };
	eval_result *r;
	char err[1024];
	int rc = EVAL_EXIT_ERROR, mode = EVAL_PLAIN;
	double t = NAN;

	*res = NULL;
	*nres = 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return EVAL_EXIT_ERROR;
	if (eval_truth_load(a->truth, &truth, err, sizeof(err)) ||
	    eval_events_load(a->events, &ev, err, sizeof(err))) {
		fprintf(stderr, "firelane-eval: %s\n", err);
		goto out;
	}
	if (a->suite.restarts) {
		mode = EVAL_RESTART;
		t = a->restarts[0];
	} else if (a->suite.offsets && a->offsets[0] > 0) {
		mode = EVAL_CUT;
		t = a->offsets[0];
	}
	r->name = malloc(strlen(truth.clip) + 1);
	if (!r->name || (mode == EVAL_CUT && eval_truth_cut(&truth, t, &cut)) ||
	    eval_score_restart(mode == EVAL_CUT ? &cut : &truth, ev.v, ev.n,
			       mode == EVAL_RESTART ? t : NAN, &r->f)) {
		fprintf(stderr, "firelane-eval: out of memory\n");
		goto out;
	}
	strcpy(r->name, truth.clip);
	r->mode = mode;
	r->offset_s = mode == EVAL_PLAIN ? 0 : t;
	snprintf(r->cls, sizeof(r->cls), "%s", truth.cls ? truth.cls : "");
	*res = r;
	*nres = 1;
	r = NULL;
	rc = EVAL_EXIT_OK;
out:
	eval_results_free(r, 1);
	eval_events_free(&ev);
	eval_truth_free(&cut);
	eval_truth_free(&truth);
	return rc;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	eval_result *res = NULL;
	eval_figures total;
	size_t n = 0;
	int rc;

	rc = parse_args(argc, argv, &a);
	if (rc) {
		usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? EVAL_EXIT_OK : EVAL_EXIT_ERROR;
	}
	if (a.suite.dir)
		rc = eval_suite_run(&a.suite, &res, &n);
	else
		rc = score_one(&a, &res, &n);
	if (rc == EVAL_EXIT_ERROR && n == 0)
		goto out;

	eval_results_total(res, n, &total);
	if (a.json) {
		if (eval_report_json(stdout, res, n, &total)) {
			rc = EVAL_EXIT_ERROR;
			goto out;
		}
	} else {
		eval_report_table(stdout, res, n, &total);
	}
	if (a.have_min_f1 && total.f1 < a.min_f1 - 1e-9) {
		fprintf(stderr, "firelane-eval: total F1 %.4f < --min-f1 %g\n",
			total.f1, a.min_f1);
		rc = FL_MAX(rc, EVAL_EXIT_FAIL);
	}
	if (a.have_max_early && total.early_clears > a.max_early) {
		fprintf(stderr,
			"firelane-eval: %d early clears > --max-early %ld\n",
			total.early_clears, a.max_early);
		rc = FL_MAX(rc, EVAL_EXIT_FAIL);
	}
out:
	eval_results_free(res, n);
	return rc;
}
