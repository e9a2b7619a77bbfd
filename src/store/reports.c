/*
 * reports.c - the report over a span of incidents (fl_db_report_json_tz,
 * db.h): what its figures are, computed from the rows the backend gives.
 *
 * A note on the figures. An incident belongs to the span by its start
 * (rest_since, else its first message). time_to_clear is cleared - alarm
 * (how long a blocked lane waited for the all-clear), blocked is
 * cleared - start (how long the obstruction stood), each over the
 * incidents that have both times; their median and p90 interpolate
 * linearly between order statistics (position p * (n - 1) of the sorted
 * values), as a spreadsheet's PERCENTILE does. A repeat spot or plate has
 * at least REPEAT_MIN incidents; at most REPEAT_ROWS of each are listed,
 * most first. Incidents without a status count as "unknown", without an
 * outcome as "none".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "fl.h"

#define REPEAT_MIN 2
#define REPEAT_ROWS 100

/* The two durations of the cleared incidents, growing. */
struct times {
	double *clear, *blocked;
	size_t nclear, nblocked, capc, capb;
};

static int push(double **v, size_t *n, size_t *cap, double x)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		double *nv = realloc(*v, c * sizeof(*nv));

		if (!nv)
			return FL_ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = x;
	return 0;
}

/* report_times' function: one cleared incident's durations. */
static int add_times(double start, double alarm, double cleared, void *user)
{
	struct times *t = user;

	if (!isnan(alarm) &&
	    push(&t->clear, &t->nclear, &t->capc, cleared - alarm) < 0)
		return FL_ENOMEM;
	if (!isnan(start) &&
	    push(&t->blocked, &t->nblocked, &t->capb, cleared - start) < 0)
		return FL_ENOMEM;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Linear interpolation between order statistics at p * (n - 1). */
static double quantile(const double *v, size_t n, double p)
{
	double pos = p * (double)(n - 1);
	size_t i = (size_t)pos;
	double f = pos - (double)i;

	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + f * (v[i + 1] - v[i]);
}

/* {"n","median","p90"} of n values (sorted here). */
static json_t *spread(double *v, size_t n)
{
	json_t *o = json_object();

	if (n)
		qsort(v, n, sizeof(*v), cmp_double);
	json_object_set_new(o, "n", json_integer((json_int_t)n));
	json_object_set_new(o, "median",
			    n ? fl__db_real(quantile(v, n, 0.5)) : json_null());
	json_object_set_new(o, "p90",
			    n ? fl__db_real(quantile(v, n, 0.9)) : json_null());
	return o;
}

/* One count of a report's breakdown: label -> n. */
struct count {
	const char *label;
	json_t *n;
};

static int by_label(const void *a, const void *b)
{
	return strcmp(((const struct count *)a)->label,
		      ((const struct count *)b)->label);
}

/* Rows of (col, n) into the object into: col's value -> n, a NULL value
 * named `none`; in label order when sorted. 0 or FL_ENOMEM. */
static int counts_by(json_t *rows, const char *col, const char *none,
		     int sorted, json_t *into)
{
	size_t i, n = json_array_size(rows);
	struct count *v = n ? calloc(n, sizeof(*v)) : NULL;
	json_t *r;

	if (n && !v)
		return FL_ENOMEM;
	json_array_foreach(rows, i, r)
	{
		const char *label = json_string_value(json_object_get(r, col));

		v[i].label = label ? label : none;
		v[i].n = json_object_get(r, "n");
	}
	if (sorted && n)
		qsort(v, n, sizeof(*v), by_label);
	for (i = 0; i < n; i++)
		json_object_set(into, v[i].label, v[i].n);
	free(v);
	return 0;
}

/* The backend's rows of one part of the report as a new array, or NULL. */
static json_t *part_rows(fl_db *db, enum fl__db_report_rows part,
			 const fl__db_span *w)
{
	json_t *a = json_array();

	if (db->ops->report_rows(db->be, part, w, a) < 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* The per-day series: each day's row of FL__REP_DAYS with a count of
 * every outcome (0 when none) from the FL__REP_DAY_OUTCOMES rows (both by
 * day). The rows of days are completed in place. */
static void days_outcomes(json_t *days, json_t *rows)
{
	size_t i, k = 0, n = json_array_size(rows);
	json_t *d;

	json_array_foreach(days, i, d)
	{
		const char *day = json_string_value(json_object_get(d, "day"));

		for (size_t j = 0; j < FL__DB_OUTCOMES; j++)
			json_object_set_new(d, fl__db_outcomes[j],
					    json_integer(0));
		for (; k < n; k++) {
			json_t *r = json_array_get(rows, k);
			const char *rd = json_string_value(
				json_object_get(r, "day"));
			const char *oc = json_string_value(
				json_object_get(r, "outcome"));

			if (!day || !rd || strcmp(rd, day) > 0)
				break;
			/* only the outcomes a report knows */
			if (!strcmp(rd, day) && oc && json_object_get(d, oc))
				json_object_set(d, oc, json_object_get(r, "n"));
		}
	}
}

/* The report; the mutex held. *ok 0 when a step failed. */
static void report_locked(fl_db *db, const fl__db_span *w, json_t *o, int *ok)
{
	struct times t = { 0 };
	long long incidents = 0, alarms = 0;
	json_t *x, *rows;

	*ok = 0;
	if (db->ops->report_counts(db->be, w, &incidents, &alarms) < 0)
		return;
	json_object_set_new(o, "incidents", json_integer(incidents));
	json_object_set_new(o, "alarms", json_integer(alarms));
	x = json_object();
	json_object_set_new(o, "by_status", x);
	rows = part_rows(db, FL__REP_BY_STATUS, w);
	if (!rows || counts_by(rows, "status", "unknown", 1, x) < 0)
		goto out;
	json_decref(rows);
	rows = NULL;
	if (db->ops->report_times(db->be, w, add_times, &t) != 0)
		goto out;
	json_object_set_new(o, "time_to_clear_s", spread(t.clear, t.nclear));
	json_object_set_new(o, "blocked_s", spread(t.blocked, t.nblocked));
	x = json_object();
	json_object_set_new(o, "outcomes", x);
	for (size_t i = 0; i < FL__DB_OUTCOMES; i++)
		json_object_set_new(x, fl__db_outcomes[i], json_integer(0));
	json_object_set_new(x, "none", json_integer(0));
	rows = part_rows(db, FL__REP_OUTCOMES, w);
	if (!rows || counts_by(rows, "outcome", "none", 0, x) < 0)
		goto out;
	json_decref(rows);
	if (!(rows = part_rows(db, FL__REP_SPOTS, w)))
		goto out;
	json_object_set_new(o, "repeat_spots", rows);
	if (!(rows = part_rows(db, FL__REP_PLATES, w)))
		goto out;
	json_object_set_new(o, "repeat_plates", rows);
	if (!(rows = part_rows(db, FL__REP_DAYS, w)))
		goto out;
	json_object_set_new(o, "days", rows);
	if (!(rows = part_rows(db, FL__REP_DAY_OUTCOMES, w)))
		goto out;
	days_outcomes(json_object_get(o, "days"), rows);
	*ok = 1;
out:
	json_decref(rows);
	free(t.clear);
	free(t.blocked);
}

char *fl_db_report_json_tz(fl_db *db, const char *site, double from_wall,
			   double to_wall, int tz_offset_s)
{
	/* unbounded is +-1e300, so a backend always binds the window and
	 * its start index bounds the scan */
	fl__db_span w = { site && *site ? site : NULL,
			  from_wall != 0 ? from_wall : -1e300,
			  to_wall != 0 ? to_wall : 1e300,
			  tz_offset_s,
			  REPEAT_MIN,
			  REPEAT_ROWS };
	json_t *o;
	int ok;

	if (!db)
		return NULL;
	o = json_object();
	json_object_set_new(o, "site",
			    w.site ? fl__db_text(w.site, strlen(w.site))
				   : json_null());
	json_object_set_new(o, "from",
			    from_wall != 0 ? fl__db_real(from_wall)
					   : json_null());
	json_object_set_new(o, "to",
			    to_wall != 0 ? fl__db_real(to_wall) : json_null());
	json_object_set_new(o, "tz_offset_s", json_integer(tz_offset_s));
	pthread_mutex_lock(&db->mu);
	report_locked(db, &w, o, &ok);
	pthread_mutex_unlock(&db->mu);
	return fl__db_finish(o, ok);
}

char *fl_db_report_json(fl_db *db, const char *site, double from_wall,
			double to_wall)
{
	return fl_db_report_json_tz(db, site, from_wall, to_wall, 0);
}
