/*
 * latency.c - how long a running hub takes to answer, endpoint by endpoint.
 *
 * A note on what is measured. The client is libcurl with one easy handle per
 * client, so the connection is kept alive as a browser's would be: the
 * figures are the hub's time to answer plus one loopback round trip, not TCP
 * set-up. Each endpoint gets `warmup` untimed requests (the page cache and
 * SQLite's prepared statements are warm, as on a hub in use), then up to
 * `requests` timed ones or `budget_s` seconds, whichever ends first (a
 * month's report over every site is slow enough that 200 of them would
 * dominate the run); n says how many were timed. Each timed request must
 * answer 200 with a body, else the run fails: a fast 404 is no figure.
 *
 * Endpoints (docs/api.md): the incident list's first page, filtered (site +
 * status + outcome), a deep page (offset 50,000, or half the total when
 * smaller), an incident's detail (ids taken from the list, in turn), the
 * reports for this week and this month for one site and for all, the page
 * (GET /), a static asset (the page's script, from the page) and
 * the fleet. Then the first page again with `clients` clients at once (one
 * thread each, their own connection and the same session), which shows what
 * the hub's thread pool and SQLite's readers make of concurrency.
 *
 * Output: one JSON object, every latency in ms as {n, p50, p90, p99, max}
 * (nearest-rank percentiles of the timed requests).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "clock.h"
#include "fl.h"
#include "hubbench.h"

#define HB_IDS 64 /* incident ids the detail requests cycle through */

typedef struct buf {
	char *p;
	size_t n, cap;
} buf;

typedef struct client {
	CURL *h;
	buf body;
	char err[CURL_ERROR_SIZE];
} client;

/* The timed results of one endpoint. */
typedef struct series {
	double *ms;
	int n, cap;
} series;

static size_t on_body(char *p, size_t size, size_t nmemb, void *user)
{
	buf *b = user;
	size_t len = size * nmemb;

	if (b->n + len + 1 > b->cap) {
		size_t cap = (b->n + len + 1) * 2;
		char *np = realloc(b->p, cap);

		if (!np)
			return 0;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, len);
	b->n += len;
	b->p[b->n] = '\0';
	return len;
}

/* A client with its own keep-alive connection; cookies (the session) are
 * copied from `from` when given. 0 or -1. */
static int client_init(client *c, const client *from)
{
	memset(c, 0, sizeof(*c));
	c->h = curl_easy_init();
	if (!c->h)
		return -1;
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &c->body);
	curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->err);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_COOKIEFILE, ""); /* cookie engine on */
	if (from) {
		struct curl_slist *cookies = NULL, *it;

		if (curl_easy_getinfo(from->h, CURLINFO_COOKIELIST, &cookies) !=
		    CURLE_OK)
			return -1;
		for (it = cookies; it; it = it->next)
			curl_easy_setopt(c->h, CURLOPT_COOKIELIST, it->data);
		curl_slist_free_all(cookies);
	}
	return 0;
}

static void client_deinit(client *c)
{
	if (c->h)
		curl_easy_cleanup(c->h);
	free(c->body.p);
	memset(c, 0, sizeof(*c));
}

/* GET (post NULL) or POST a JSON body to url. The HTTP status, or -1 with
 * curl's reason on stderr. The body is in c->body. */
static long request(client *c, const char *url, const char *post)
{
	struct curl_slist *hdr = NULL;
	long code = -1;
	CURLcode rc;

	c->body.n = 0;
	if (c->body.p)
		c->body.p[0] = '\0';
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	if (post) {
		hdr = curl_slist_append(NULL, "Content-Type: application/json");
		curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, post);
	} else {
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	}
	rc = curl_easy_perform(c->h);
	if (rc != CURLE_OK)
		fprintf(stderr, "hubbench: %s: %s\n", url,
			c->err[0] ? c->err : curl_easy_strerror(rc));
	else
		curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	if (post) {
		curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
		curl_slist_free_all(hdr);
	}
	return code;
}

static int series_add(series *s, double ms)
{
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 256;
		double *p = realloc(s->ms, (size_t)cap * sizeof(double));

		if (!p)
			return -1;
		s->ms = p;
		s->cap = cap;
	}
	s->ms[s->n++] = ms;
	return 0;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* nearest rank: the smallest value with at least p of them at or below */
static double pct(const series *s, double p)
{
	int k = (int)(p * s->n + 0.999999) - 1;

	return s->ms[k < 0 ? 0 : k >= s->n ? s->n - 1 : k];
}

/* {n, p50, p90, p99, max} of a series (sorted here). */
static json_t *summary(series *s)
{
	if (s->n == 0)
		return json_null();
	qsort(s->ms, (size_t)s->n, sizeof(double), cmpd);
	return json_pack("{s:i,s:f,s:f,s:f,s:f}", "n", s->n, "p50", pct(s, 0.5),
			 "p90", pct(s, 0.9), "p99", pct(s, 0.99), "max",
			 s->ms[s->n - 1]);
}

/* The ids of a list answer, appended to ids (at most HB_IDS). */
static void take_ids(const char *body, char ids[][128], int *nids)
{
	json_t *j = json_loads(body, 0, NULL), *v;
	size_t i;

	json_array_foreach(json_object_get(j, "incidents"), i, v)
	{
		const char *id = json_string_value(
			json_object_get(v, "incident_id"));

		if (id && *nids < HB_IDS)
			snprintf(ids[(*nids)++], 128, "%s", id);
	}
	json_decref(j);
}

/* The URL of the i-th request of an endpoint. */
typedef void (*url_fn)(char *out, size_t len, const char *base, int i,
		       const void *arg);

static void url_fixed(char *out, size_t len, const char *base, int i,
		      const void *arg)
{
	snprintf(out, len, "%s%s", base, (const char *)arg);
}

typedef struct id_ring {
	char (*ids)[128];
	int n;
} id_ring;

static void url_incident(char *out, size_t len, const char *base, int i,
			 const void *arg)
{
	const id_ring *r = arg;

	snprintf(out, len, "%s/api/incidents/%s", base, r->ids[i % r->n]);
}

/* warmup + timed requests of one endpoint on client c. 0, or -1 when a
 * request did not answer 200 with a body. */
static int timed(client *c, const hb_latency_opts *o, const char *name,
		 url_fn fn, const void *arg, series *s, int requests,
		 double budget_s)
{
	char url[1024];
	double t0 = fl_mono_s(), t;
	long code;

	for (int i = 0; i < o->warmup + requests; i++) {
		fn(url, sizeof(url), o->url, i, arg);
		t = fl_mono_s();
		code = request(c, url, NULL);
		t = (fl_mono_s() - t) * 1000.0;
		if (code != 200 || c->body.n == 0) {
			fprintf(stderr,
				"hubbench: %s: GET %s answered %ld: %.200s\n",
				name, url, code, c->body.p ? c->body.p : "");
			return -1;
		}
		if (i < o->warmup) {
			t0 = fl_mono_s();
			continue;
		}
		if (series_add(s, t))
			return -1;
		if (fl_mono_s() - t0 > budget_s)
			break;
	}
	return 0;
}

/* ---- the concurrent list ---------------------------------------------------- */

typedef struct worker {
	pthread_t th;
	client c;
	const hb_latency_opts *o;
	series s;
	int failed;
} worker;

static void *work(void *arg)
{
	worker *w = arg;

	w->failed = timed(&w->c, w->o, "list (concurrent)", url_fixed,
			  "/api/incidents", &w->s, w->o->requests,
			  w->o->budget_s) != 0;
	return NULL;
}

/* The first page with o->clients clients at once: the pooled latencies and
 * the requests per second over the wall time. */
static json_t *concurrent(const client *session, const hb_latency_opts *o)
{
	worker *w = calloc((size_t)o->clients, sizeof(worker));
	series all = { 0 };
	json_t *j = NULL;
	double t0, wall;
	int started = 0, failed = 0;

	if (!w)
		return NULL;
	for (int k = 0; k < o->clients; k++) {
		w[k].o = o;
		if (client_init(&w[k].c, session))
			goto out;
	}
	t0 = fl_mono_s();
	for (; started < o->clients; started++)
		if (pthread_create(&w[started].th, NULL, work, &w[started]))
			break;
	for (int k = 0; k < started; k++)
		pthread_join(w[k].th, NULL);
	wall = fl_mono_s() - t0;
	for (int k = 0; k < started; k++) {
		failed |= w[k].failed;
		for (int i = 0; i < w[k].s.n; i++)
			series_add(&all, w[k].s.ms[i]);
	}
	if (started < o->clients || failed)
		goto out;
	/* the warm-up requests count in the wall time: rate from the total */
	j = json_pack("{s:i,s:o,s:f}", "clients", o->clients, "ms",
		      summary(&all), "requests_per_s",
		      (double)(all.n + o->warmup * o->clients) / wall);
out:
	for (int k = 0; k < o->clients; k++) {
		client_deinit(&w[k].c);
		free(w[k].s.ms);
	}
	free(all.ms);
	free(w);
	return j;
}

/* ---- main ---------------------------------------------------------------------- */

typedef struct endpoint {
	const char *name;
	url_fn fn;
	const void *arg;
} endpoint;

/* The page's script (the first "/static/....js" it names), else the first
 * "/static/..." path at all, or "". */
static void first_asset(const char *html, char *out, size_t len)
{
	const char *p = html;
	size_t n;

	out[0] = '\0';
	while (p && (p = strstr(p, "\"/static/")) != NULL) {
		p++;
		n = strcspn(p, "\"?#");
		if (n >= len)
			continue;
		if (!out[0] || (n > 3 && !memcmp(p + n - 3, ".js", 3))) {
			snprintf(out, len, "%.*s", (int)n, p);
			if (n > 3 && !memcmp(p + n - 3, ".js", 3))
				return;
		}
	}
}

int hb_latency(const hb_latency_opts *o)
{
	endpoint eps[16];
	char login[512], url[1024], ids[HB_IDS][128], asset[256];
	char filtered[256], deep[64], today[16];
	char rws[160], rms[160], rwa[64], rma[64];
	client c;
	series s[16] = { 0 };
	json_t *out = json_object(), *lat = json_object(), *conc;
	id_ring ring = { ids, 0 };
	long code, total = 0;
	int rc = 1, neps = 0;
	time_t now = time(NULL);
	struct tm tm;

	if (client_init(&c, NULL)) {
		fprintf(stderr, "hubbench: libcurl unavailable\n");
		goto out;
	}
	/* log in: the session cookie stays in the handle */
	{
		json_t *b = json_pack("{s:s,s:s}", "user", o->user, "password",
				      o->password);
		char *t = json_dumps(b, JSON_COMPACT);

		snprintf(login, sizeof(login), "%s", t ? t : "{}");
		free(t);
		json_decref(b);
	}
	snprintf(url, sizeof(url), "%s/api/login", o->url);
	code = request(&c, url, login);
	if (code != 200) {
		fprintf(stderr, "hubbench: login as %s answered %ld: %.200s\n",
			o->user, code, c.body.p ? c.body.p : "");
		goto out;
	}
	/* ids for the detail, the total for the deep page, the asset */
	snprintf(url, sizeof(url), "%s/api/incidents?limit=%d", o->url,
		 HB_IDS / 2);
	if (request(&c, url, NULL) != 200) {
		fprintf(stderr, "hubbench: GET /api/incidents failed\n");
		goto out;
	}
	{
		json_t *j = json_loads(c.body.p, 0, NULL);

		total = (long)json_integer_value(json_object_get(j, "total"));
		json_decref(j);
	}
	take_ids(c.body.p, ids, &ring.n);
	snprintf(deep, sizeof(deep), "/api/incidents?offset=%ld",
		 FL_MIN(50000L, total / 2));
	snprintf(url, sizeof(url), "%s%s&limit=%d", o->url, deep, HB_IDS / 2);
	if (request(&c, url, NULL) == 200)
		take_ids(c.body.p, ids, &ring.n);
	if (ring.n == 0) {
		fprintf(stderr, "hubbench: the hub lists no incidents\n");
		goto out;
	}
	snprintf(url, sizeof(url), "%s/", o->url);
	if (request(&c, url, NULL) != 200) {
		fprintf(stderr, "hubbench: GET / failed\n");
		goto out;
	}
	first_asset(c.body.p, asset, sizeof(asset));

	gmtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	snprintf(filtered, sizeof(filtered),
		 "/api/incidents?site=%s&status=cleared&outcome=towed",
		 o->site);
	snprintf(rws, sizeof(rws), "/api/reports?site=%s&period=week&date=%s",
		 o->site, today);
	snprintf(rms, sizeof(rms), "/api/reports?site=%s&period=month&date=%s",
		 o->site, today);
	snprintf(rwa, sizeof(rwa), "/api/reports?period=week&date=%s", today);
	snprintf(rma, sizeof(rma), "/api/reports?period=month&date=%s", today);
#define EP(n_, f_, a_) (eps[neps++] = (endpoint){ n_, f_, a_ })
	EP("list", url_fixed, "/api/incidents");
	EP("list_filtered", url_fixed, filtered);
	EP("list_deep", url_fixed, deep);
	EP("incident", url_incident, &ring);
	EP("report_week_site", url_fixed, rws);
	EP("report_month_site", url_fixed, rms);
	EP("report_week_all", url_fixed, rwa);
	EP("report_month_all", url_fixed, rma);
	EP("page", url_fixed, "/");
	if (asset[0])
		EP("static_asset", url_fixed, asset);
	EP("devices", url_fixed, "/api/devices");
#undef EP
	for (int k = 0; k < neps; k++) {
		fprintf(stderr, "hubbench: %s\n", eps[k].name);
		if (timed(&c, o, eps[k].name, eps[k].fn, eps[k].arg, &s[k],
			  o->requests, o->budget_s))
			goto out;
		json_object_set_new(lat, eps[k].name, summary(&s[k]));
	}
	if (!asset[0])
		json_object_set_new(lat, "static_asset", json_null());
	fprintf(stderr, "hubbench: list with %d clients\n", o->clients);
	conc = concurrent(&c, o);
	if (!conc)
		goto out;
	json_object_set_new(out, "incidents", json_integer(total));
	json_object_set_new(out, "warmup", json_integer(o->warmup));
	json_object_set_new(out, "max_requests", json_integer(o->requests));
	json_object_set_new(out, "budget_s", json_real(o->budget_s));
	json_object_set_new(out, "site", json_string(o->site));
	json_object_set_new(out, "asset", json_string(asset));
	json_object_set_new(out, "ms", lat);
	lat = NULL;
	json_object_set_new(out, "list_concurrent", conc);
	{
		char *t = json_dumps(out,
				     JSON_COMPACT | JSON_REAL_PRECISION(6));

		if (t)
			printf("%s\n", t);
		free(t);
	}
	rc = 0;
out:
	for (int k = 0; k < 16; k++)
		free(s[k].ms);
	json_decref(lat);
	json_decref(out);
	client_deinit(&c);
	return rc;
}
