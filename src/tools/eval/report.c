/*
 * report.c - the figures as a table for people and as JSON for programs.
 *
 * Both forms carry the same figures under the same names (docs/eval.md).
 * Totals are made by adding counters and sums over clips and only then
 * dividing: a total F1 is the F1 of all incidents, not a mean of clip F1s,
 * so a long clip with many incidents weighs more than a short one.
 *
 * A mean over nothing (no true alarm, no clear found) is undefined: "-" in
 * the table, null in JSON, never a made-up 0.
 *
 * Runs of other modes (cut at an offset, restarted) are rows of their own
 * ("park_leave@31", "park_leave@r31"); the total adds every row, and when
 * there is more than the plain run each mode also gets its own total, since
 * the bars differ by mode (docs/eval.md).
 */
#include "eval.h"

#include "fl.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void eval_results_free(eval_result *r, size_t n)
{
	if (!r)
		return;
	for (size_t i = 0; i < n; i++)
		free(r[i].name);
	free(r);
}

const char *eval_mode_name(int mode)
{
	static const char *const names[EVAL_NMODES] = { "plain", "cut",
							"restart" };

	return mode >= 0 && mode < EVAL_NMODES ? names[mode] : "?";
}

/* Sum the rows of mode (-1: all) that did not fail; returns how many rows
 * of that mode there were, *failed how many of them failed. */
static size_t total_of(const eval_result *r, size_t n, int mode,
		       eval_figures *total, size_t *failed)
{
	size_t seen = 0, bad = 0;

	memset(total, 0, sizeof(*total));
	for (size_t i = 0; i < n; i++) {
		if (mode >= 0 && r[i].mode != mode)
			continue;
		seen++;
		if (r[i].failed)
			bad++;
		else
			eval_figures_add(total, &r[i].f);
	}
	eval_figures_finish(total);
	if (failed)
		*failed = bad;
	return seen;
}

void eval_results_total(const eval_result *r, size_t n, eval_figures *total)
{
	total_of(r, n, -1, total, NULL);
}

size_t eval_results_total_mode(const eval_result *r, size_t n, int mode,
			       eval_figures *total)
{
	return total_of(r, n, mode, total, NULL);
}

/* Does any row have another mode than plain? */
static int has_modes(const eval_result *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].mode != EVAL_PLAIN)
			return 1;
	return 0;
}

/* "%7.2f" or a right-aligned "-" when x is undefined. */
static void cell(FILE *out, int width, double x)
{
	if (isnan(x))
		fprintf(out, " %*s", width, "-");
	else
		fprintf(out, " %*.2f", width, x);
}

static void table_row(FILE *out, const char *name, const eval_figures *f)
{
	fprintf(out, "%-24.24s %3d %3d %3d", name, f->tp, f->fp, f->fn);
	cell(out, 5, f->precision);
	cell(out, 5, f->recall);
	cell(out, 5, f->f1);
	cell(out, 6, f->delay_mean);
	cell(out, 6, f->delay_max);
	cell(out, 6, f->delay_abs_mean);
	fprintf(out, "  %2d/%-2d %3d", f->clears_on_time, f->clears_due,
		f->clears_missing);
	cell(out, 6, f->clear_err_mean);
	fprintf(out, " %5d  %3d %3d %3d %3d %3d %4d\n", f->early_clears,
		f->fp_must_not_alarm, f->fp_short_stop, f->fp_duplicate,
		f->fp_nothing, f->ignored, f->restart_dup);
}

void eval_report_table(FILE *out, const eval_result *r, size_t n,
		       const eval_figures *total)
{
	eval_figures mt;

	fprintf(out,
		"%-24s %3s %3s %3s %5s %5s %5s %6s %6s %6s  %5s %3s %6s %5s  %3s %3s %3s %3s %3s %4s\n",
		"clip", "TP", "FP", "FN", "P", "R", "F1", "delay", "max",
		"|dly|", "clr", "mis", "clrerr", "early", "mna", "sht", "dup",
		"nth", "ign", "rdup");
	for (size_t i = 0; i < n; i++) {
		if (r[i].failed)
			fprintf(out, "%-24.24s FAILED: %s\n", r[i].name,
				r[i].error);
		else
			table_row(out, r[i].name, &r[i].f);
	}
	table_row(out, "TOTAL", total);
	for (int m = 0; has_modes(r, n) && m < EVAL_NMODES; m++) {
		eval_figures t;
		size_t seen, bad;
		char label[32];

		seen = total_of(r, n, m, &t, &bad);
		if (!seen)
			continue;
		snprintf(label, sizeof(label), "TOTAL %s", eval_mode_name(m));
		if (bad == seen)
			fprintf(out, "%-24.24s FAILED: all %zu runs\n", label,
				seen);
		else
			table_row(out, label, &t);
	}
	/* a total that leaves runs out says so */
	{
		size_t bad;

		total_of(r, n, -1, &mt, &bad);
		if (bad)
			fprintf(out,
				"(%zu of %zu runs FAILED: they are in no "
				"total)\n",
				bad, n);
	}
}

/* A JSON number rounded to 4 decimals, or null when undefined. */
static json_t *jnum(double x)
{
	if (isnan(x) || isinf(x))
		return json_null();
	return json_real(round(x * 1e4) / 1e4);
}

/* The figures as a new JSON object, or NULL on allocation failure. A total
 * (name NULL) also says how many runs failed and are not in it. */
static json_t *figures_json(const char *name, const eval_figures *f,
			    size_t failed)
{
	json_t *o = json_object();
	int bad = 0;

	if (!o)
		return NULL;
#define I(k, v) bad |= json_object_set_new(o, k, json_integer(v))
#define D(k, v) bad |= json_object_set_new(o, k, jnum(v))
	if (name)
		bad |= json_object_set_new(o, "clip", json_string(name));
	I("tp", f->tp);
	I("fp", f->fp);
	I("fn", f->fn);
	D("precision", f->precision);
	D("recall", f->recall);
	D("f1", f->f1);
	D("alarm_delay_mean_s", f->delay_mean);
	D("alarm_delay_max_s", f->delay_max);
	D("alarm_delay_abs_mean_s", f->delay_abs_mean);
	D("alarm_delay_abs_max_s", f->delay_abs_max);
	I("clears_due", f->clears_due);
	I("clears_on_time", f->clears_on_time);
	I("clears_late", f->clears_late);
	I("clears_missing", f->clears_missing);
	D("clear_error_mean_s", f->clear_err_mean);
	I("early_clears", f->early_clears);
	I("restart_duplicates", f->restart_dup);
	if (!name)
		I("failed_runs", (json_int_t)failed);
	I("fp_must_not_alarm", f->fp_must_not_alarm);
	I("fp_short_stop", f->fp_short_stop);
	I("fp_duplicate", f->fp_duplicate);
	I("fp_nothing_there", f->fp_nothing);
	I("ignored", f->ignored);
#undef I
#undef D
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int eval_report_json(FILE *out, const eval_result *r, size_t n,
		     const eval_figures *total)
{
	json_t *root = json_object(), *clips = json_array(), *t;
	eval_figures mt;
	size_t failed;
	char *text = NULL;
	int rc = FL_ENOMEM, bad;

	if (!root || !clips)
		goto out;
	for (size_t i = 0; i < n; i++) {
		json_t *c;

		if (r[i].failed) {
			c = json_pack("{s:s, s:s}", "clip", r[i].name, "error",
				      r[i].error);
		} else {
			c = figures_json(r[i].name, &r[i].f, 0);
		}
		if (!c || json_array_append_new(clips, c))
			goto out;
		/* what the row is: its mode, offset and the clip's class */
		bad = json_object_set_new(c, "mode",
					  json_string(
						  eval_mode_name(r[i].mode)));
		if (r[i].mode != EVAL_PLAIN)
			bad |= json_object_set_new(c, "offset_s",
						   jnum(r[i].offset_s));
		if (r[i].cls[0])
			bad |= json_object_set_new(c, "class",
						   json_string(r[i].cls));
		if (bad)
			goto out;
	}
	total_of(r, n, -1, &mt, &failed);
	t = figures_json(NULL, total, failed);
	if (!t)
		goto out;
	/* json_object_set_new() takes the reference even when it fails. */
	bad = json_object_set_new(root, "clips", clips);
	clips = NULL;
	bad |= json_object_set_new(root, "total", t);
	if (bad)
		goto out;
	if (has_modes(r, n)) {
		json_t *bm = json_object();

		if (!bm || json_object_set_new(root, "by_mode", bm))
			goto out;
		for (int m = 0; m < EVAL_NMODES; m++) {
			if (!total_of(r, n, m, &mt, &failed))
				continue;
			t = figures_json(NULL, &mt, failed);
			if (!t || json_object_set_new(bm, eval_mode_name(m), t))
				goto out;
		}
	}
	text = json_dumps(root, JSON_REAL_PRECISION(10));
	if (!text)
		goto out;
	fprintf(out, "%s\n", text);
	rc = 0;
out:
	free(text);
	json_decref(clips);
	json_decref(root);
	return rc;
}
