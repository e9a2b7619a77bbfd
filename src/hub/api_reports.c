/*
 * api_reports.c - reports (docs/api.md, "Reports"): the store's report for
 * a day, week or month in the hub's timezone, as JSON and as CSV (days,
 * totals, then a summary of name,value rows). A property manager gets the
 * report of their own site only.
 */
#include "api_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"
#include "httpparse.h"

/* ---- reports ------------------------------------------------------------- */

/* The report's site for this user: 0 and *site (NULL = all), or answered. */
static int report_site(const hub_session_info *s, const hub_req *q, hub_resp *r,
		       const char **site, char *buf, size_t buflen)
{
	const char *want = api__arg(q, "site");

	*site = want;
	if (!api__is_property(s))
		return 0;
	if (want) {
		if (!api__site_listed(s->sites, want)) {
			api__error(r, 404, "no such site");
			return -1;
		}
		return 0;
	}
	if (!s->sites[0]) {
		api__error(r, 404, "you have no sites");
		return -1;
	}
	if (strchr(s->sites, ',')) {
		api__error(r, 400, "name one of your sites (site=)");
		return -1;
	}
	snprintf(buf, buflen, "%s", s->sites);
	*site = buf;
	return 0;
}

static json_t *report(hub_api *a, const hub_session_info *s, const hub_req *q,
		      hub_resp *r)
{
	const char *period = api__arg(q, "period"), *date = api__arg(q, "date");
	const char *site;
	char buf[HUB_SITES_LEN];
	double at = q->now, from, to;
	int tz = a->conf->tz_offset_s;
	char *text;
	json_t *o;

	if (report_site(s, q, r, &site, buf, sizeof(buf)))
		return NULL;
	if (!period)
		period = "week";
	if (date && hub_date_parse(date, tz, &at, NULL)) {
		api__error(r, 400, "date: expected YYYY-MM-DD");
		return NULL;
	}
	if (hub_period(period, at, tz, &from, &to)) {
		api__error(r, 400, "period: day, week or month");
		return NULL;
	}
	text = fl_db_report_json_tz(a->db, site, from, to, tz);
	o = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	if (!o) {
		api__error(r, 500, "the store failed");
		return NULL;
	}
	json_object_set_new(o, "period", json_string(period));
	json_object_set_new(o, "tz_offset_s", json_integer(tz));
	return o;
}

void api__reports(hub_api *a, const hub_session_info *s, const char *id,
		  const hub_req *q, hub_resp *r)
{
	json_t *o = report(a, s, q, r);

	if (o)
		api__json_obj(r, 200, o);
}

/* Appends one CSV row of fields (NULL ends the list). */
static int csv_row(char **buf, size_t *cap, size_t *len, ...)
{
	va_list ap;
	const char *f;
	int first = 1, rc = FL_OK;

	va_start(ap, len);
	while ((f = va_arg(ap, const char *))) {
		while (*len + strlen(f) * 2 + 8 > *cap) {
			char *b = realloc(*buf, *cap * 2);

			if (!b) {
				rc = FL_ENOMEM;
				goto out;
			}
			*buf = b;
			*cap *= 2;
		}
		if (!first)
			(*buf)[(*len)++] = ',';
		first = 0;
		hub_csv_field(*buf, *cap, len, f);
	}
	(*buf)[(*len)++] = '\r';
	(*buf)[(*len)++] = '\n';
	(*buf)[*len] = 0;
out:
	va_end(ap);
	return rc;
}

void api__reports_csv(hub_api *a, const hub_session_info *s, const char *id,
		      const hub_req *q, hub_resp *r)
{
	static const char *const cols[] = { "incidents", "alarms",
					    "persuaded", "fined",
					    "towed",     "false_alarm",
					    "other" };
	json_t *o = report(a, s, q, r), *days, *d, *oc;
	char v[7][32], m[3][32], name[64];
	size_t cap = 4096, len = 0, i;
	char *buf;

	if (!o)
		return;
	buf = malloc(cap);
	if (!buf) {
		json_decref(o);
		api__error(r, 500, "out of memory");
		return;
	}
	buf[0] = 0;
	csv_row(&buf, &cap, &len, "day", "incidents", "alarms", "persuaded",
		"fined", "towed", "false_alarm", "other", NULL);
	days = json_object_get(o, "days");
	json_array_foreach(days, i, d)
	{
		for (int k = 0; k < 7; k++)
			snprintf(v[k], sizeof(v[k]), "%lld",
				 api__num(d, cols[k]));
		csv_row(&buf, &cap, &len,
			json_string_value(json_object_get(d, "day"))
				? json_string_value(json_object_get(d, "day"))
				: "",
			v[0], v[1], v[2], v[3], v[4], v[5], v[6], NULL);
	}
	oc = json_object_get(o, "outcomes");
	snprintf(v[0], sizeof(v[0]), "%lld", api__num(o, "incidents"));
	snprintf(v[1], sizeof(v[1]), "%lld", api__num(o, "alarms"));
	for (int k = 2; k < 7; k++)
		snprintf(v[k], sizeof(v[k]), "%lld", api__num(oc, cols[k]));
	csv_row(&buf, &cap, &len, "total", v[0], v[1], v[2], v[3], v[4], v[5],
		v[6], NULL);
	/* the summary: one "name,value" row each */
	csv_row(&buf, &cap, &len, "", NULL);
	csv_row(&buf, &cap, &len, "summary", "value", NULL);
	csv_row(&buf, &cap, &len, "site",
		json_string_value(json_object_get(o, "site"))
			? json_string_value(json_object_get(o, "site"))
			: "all",
		NULL);
	csv_row(&buf, &cap, &len, "period",
		json_string_value(json_object_get(o, "period")), NULL);
	snprintf(v[0], sizeof(v[0]), "%.0f",
		 json_number_value(json_object_get(o, "from")));
	snprintf(v[1], sizeof(v[1]), "%.0f",
		 json_number_value(json_object_get(o, "to")));
	csv_row(&buf, &cap, &len, "from", v[0], NULL);
	csv_row(&buf, &cap, &len, "to", v[1], NULL);
	snprintf(v[2], sizeof(v[2]), "%lld", api__num(oc, "none"));
	csv_row(&buf, &cap, &len, "no_outcome", v[2], NULL);
	for (int k = 0; k < 2; k++) {
		const char *key = k ? "blocked_s" : "time_to_clear_s";
		json_t *t = json_object_get(o, key);
		json_t *md = json_object_get(t, "median");
		json_t *p9 = json_object_get(t, "p90");

		snprintf(m[0], sizeof(m[0]), "%lld", api__num(t, "n"));
		m[1][0] = m[2][0] = 0;
		if (json_is_number(md))
			snprintf(m[1], sizeof(m[1]), "%.1f",
				 json_number_value(md));
		if (json_is_number(p9))
			snprintf(m[2], sizeof(m[2]), "%.1f",
				 json_number_value(p9));
		snprintf(name, sizeof(name), "%s_n", key);
		csv_row(&buf, &cap, &len, name, m[0], NULL);
		snprintf(name, sizeof(name), "%s_median", key);
		csv_row(&buf, &cap, &len, name, m[1], NULL);
		snprintf(name, sizeof(name), "%s_p90", key);
		csv_row(&buf, &cap, &len, name, m[2], NULL);
	}
	json_decref(o);
	r->status = 200;
	r->ctype = "text/csv; charset=utf-8";
	r->body = buf;
	r->len = len;
	api__header(r, "Content-Disposition",
		    "attachment; filename=\"report.csv\"");
}
