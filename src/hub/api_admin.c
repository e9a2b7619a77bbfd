/*
 * api_admin.c - the fleet (devices and sites, as each role may see them;
 * enrolment; the hub's own state), users, the quarantine of refused
 * messages and the audit trail (docs/api.md). Enrolment, users, the quarantine and the audit are
 * the admin's only (the route table says so).
 */
#include "api_internal.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "fl.h"
#include "httpparse.h"
#include "sign.h"

/* ---- fleet ---------------------------------------------------------------- */

/* The store's devices, only those of visible sites. */
static json_t *devices_visible(hub_api *a, const hub_session_info *s)
{
	char *text = fl_db_devices_json(a->db);
	json_t *o = text ? json_loads(text, 0, NULL) : NULL;
	json_t *all = json_object_get(o, "devices"), *out = json_array(), *d;
	size_t i;

	free(text);
	if (!o) {
		json_decref(out);
		return NULL;
	}
	json_array_foreach(
		all, i,
		d) if (api__may_see(s,
				    json_string_value(
					    json_object_get(d, "site"))))
		json_array_append(out, d);
	json_decref(o);
	return out;
}

void api__devices(hub_api *a, const hub_session_info *s, const char *id,
		  const hub_req *q, hub_resp *r)
{
	json_t *d = devices_visible(a, s);

	if (!d) {
		api__error(r, 500, "the store failed");
		return;
	}
	api__json_obj(r, 200, json_pack("{s:o}", "devices", d));
}

/* GET /api/hub: ingesting or degraded, why and since when (status.h). */
void api__hub(hub_api *a, const hub_session_info *s, const char *id,
	      const hub_req *q, hub_resp *r)
{
	(void)s;
	(void)id;
	(void)q;
	if (!a->status) {
		api__error(r, 404, "no state kept");
		return;
	}
	api__json_obj(r, 200, hub_status_json(a->status));
}

void api__sites(hub_api *a, const hub_session_info *s, const char *id,
		const hub_req *q, hub_resp *r)
{
	json_t *d = devices_visible(a, s), *out, *x, *e;
	size_t i, j;

	if (!d) {
		api__error(r, 500, "the store failed");
		return;
	}
	out = json_array();
	json_array_foreach(d, i, x)
	{
		const char *site = json_string_value(json_object_get(x, "site"));
		const char *st = json_string_value(json_object_get(x, "status"));
		json_t *found = NULL;

		if (!site)
			continue;
		json_array_foreach(
			out, j,
			e) if (!strcmp(json_string_value(json_object_get(e,
									 "site")),
				       site)) found = e;
		if (!found) {
			found = json_pack("{s:s,s:i,s:i}", "site", site,
					  "devices", 0, "online", 0);
			json_array_append_new(out, found);
		}
		json_object_set_new(found, "devices",
				    json_integer(api__num(found, "devices") +
						 1));
		if (st && !strcmp(st, "online"))
			json_object_set_new(
				found, "online",
				json_integer(api__num(found, "online") + 1));
	}
	/* a property manager's (or installer's) sites without a device yet
	 * are still theirs */
	if (api__is_property(s) || api__is_installer(s)) {
		json_t *mine = api__sites_array(s->sites), *m;

		json_array_foreach(mine, i, m)
		{
			int have = 0;

			json_array_foreach(out, j, e) have |= !strcmp(
				json_string_value(json_object_get(e, "site")),
				json_string_value(m));
			if (!have)
				json_array_append_new(out,
						      json_pack("{s:O,s:i,s:i}",
								"site", m,
								"devices", 0,
								"online", 0));
		}
		json_decref(mine);
	}
	json_decref(d);
	api__json_obj(r, 200, json_pack("{s:o}", "sites", out));
}

void api__enrol(hub_api *a, const hub_session_info *s, const char *id,
		const hub_req *q, hub_resp *r)
{
	static const char *const names[] = { "device", "site", "public_key" };
	char *f[3], err[256];
	unsigned char pk[32];

	if (hub_json_fields(q->body, q->body_len, names, 3, f) || !f[0] ||
	    !f[1] || !f[2]) {
		hub_fields_free(f, 3);
		api__error(r, 400,
			   "expected {\"device\", \"site\", \"public_key\"}");
		return;
	}
	if (!hub_plain_name(f[1]))
		api__error(r, 400, "site: 1-128 of [A-Za-z0-9_.-]");
	else if (fl_key_public_from_b64(f[2], pk))
		api__error(r, 400,
			   "public_key: not a base64 Ed25519 public key");
	else if (fl_db_device_enrol(a->db, f[0], f[1], f[2], err, sizeof(err)))
		api__error(r, 400, err);
	else {
		fl_db_audit(a->db, s->user, "device_enrol", f[0], f[1], q->now);
		api__json_obj(r, 200,
			      json_pack("{s:s,s:s}", "device", f[0], "site",
					f[1]));
	}
	hub_fields_free(f, 3);
}

/* ---- users ------------------------------------------------------------------ */

void api__user_add(hub_api *a, const hub_session_info *s, const char *id,
		   const hub_req *q, hub_resp *r)
{
	static const char *const names[] = { "name", "password", "role",
					     "sites" };
	char *f[4], err[256];

	if (hub_json_fields(q->body, q->body_len, names, 4, f) || !f[0] ||
	    !f[1] || !f[2]) {
		hub_fields_free(f, 4);
		api__error(r, 400,
			   "expected {\"name\", \"password\", \"role\", "
			   "\"sites\"}");
		return;
	}
	if (fl_db_user_add(a->db, f[0], f[1], f[2], f[3] ? f[3] : "", err,
			   sizeof(err)))
		api__error(r, 400, err);
	else {
		fl_db_audit(a->db, s->user, "user_add", f[0], f[2], q->now);
		api__json_obj(r, 200,
			      json_pack("{s:s,s:s}", "name", f[0], "role",
					f[2]));
	}
	sodium_memzero(f[1], strlen(f[1]));
	hub_fields_free(f, 4);
}

/* DELETE /api/users/NAME, or /api/users?name=NAME for any stored name (one
 * from before the user name rule may hold a '/' no path can carry). */
void api__user_delete(hub_api *a, const hub_session_info *s, const char *name,
		      const hub_req *q, hub_resp *r)
{
	if (!name)
		name = api__arg(q, "name");
	if (!name) {
		api__error(r, 400, "name the user (DELETE /api/users?name=)");
		return;
	}
	if (fl_db_user_delete(a->db, name)) {
		api__error(r, 404, "no such user");
		return;
	}
	hub_session_end_user(a->sessions, name);
	fl_db_audit(a->db, s->user, "user_delete", name, NULL, q->now);
	api__json_text(r, 200, strdup("{}"));
}

void api__users(hub_api *a, const hub_session_info *s, const char *id,
		const hub_req *q, hub_resp *r)
{
	api__json_text(r, 200, fl_db_users_json(a->db));
}

/* ---- quarantine, audit ---------------------------------------------------- */

void api__quarantine(hub_api *a, const hub_session_info *s, const char *id,
		     const hub_req *q, hub_resp *r)
{
	int limit, offset;

	if (!api__paging(q, r, &limit, &offset))
		api__json_text(r, 200,
			       fl_db_quarantine_json(a->db, limit, offset));
}

void api__audit(hub_api *a, const hub_session_info *s, const char *id,
		const hub_req *q, hub_resp *r)
{
	int limit, offset;

	if (!api__paging(q, r, &limit, &offset))
		api__json_text(r, 200,
			       fl_db_audit_json(a->db, NULL, limit, offset));
}

/* ---- GET /metrics ------------------------------------------------------------ */

/* 1 when addr (canonical text, hub_client_addr) is this machine's
 * loopback: 127.0.0.0/8 or ::1. */
static int loopback(const char *addr)
{
	unsigned char b[16];

	if (inet_pton(AF_INET, addr, b) == 1)
		return b[0] == 127;
	return inet_pton(AF_INET6, addr, b) == 1 &&
	       !memcmp(b, in6addr_loopback.s6_addr, 16);
}

/* Whether this scrape may read the metrics (docs/api.md, "Metrics"): with
 * http.metrics_token, the request's bearer token (compared as hashes, so
 * in constant time whatever its length); without, a client on this
 * machine (the address trusted_proxies make of it, so a scrape through a
 * trusted proxy from elsewhere is refused). 1, or 0 with the answer in r. */
static int metrics_allowed(hub_api *a, const hub_req *q, hub_resp *r)
{
	const char *want = a->conf->http.metrics_token, *got = q->authorization;
	unsigned char hw[32], hg[32];
	int ok;

	if (!want[0]) {
		if (loopback(q->addr))
			return 1;
		api__error(r, 403,
			   "/metrics answers this machine only "
			   "(http.metrics_token unset)");
		return 0;
	}
	ok = got && !strncasecmp(got, "Bearer ", 7);
	if (ok) {
		crypto_generichash(hw, sizeof(hw), (const unsigned char *)want,
				   strlen(want), NULL, 0);
		crypto_generichash(hg, sizeof(hg),
				   (const unsigned char *)got + 7,
				   strlen(got + 7), NULL, 0);
		ok = sodium_memcmp(hw, hg, sizeof(hw)) == 0;
	}
	if (ok)
		return 1;
	api__header(r, "WWW-Authenticate", "Bearer realm=\"firelane-hub\"");
	api__error(r, 401, "/metrics needs Authorization: Bearer <token>");
	return 0;
}

/* How long a reading of the fleet by status serves /metrics (s): the
 * store has no count by status, and the whole fleet's JSON costs about a
 * quarter of a second for 10,000 devices (docs/api.md, "Metrics"). */
#define HUB_FLEET_TTL_S 30.0

/* The fleet by status (fl_db_devices_json) into n; 0, or -1 when the
 * store failed. */
static int fleet_read(hub_api *a, long long n[4])
{
	static const char *const names[3] = { "online", "offline", "stopped" };
	char *text = fl_db_devices_json(a->db);
	json_t *o = text ? json_loads(text, 0, NULL) : NULL, *d;
	size_t i;

	free(text);
	if (!json_is_array(json_object_get(o, "devices"))) {
		json_decref(o);
		return -1;
	}
	memset(n, 0, 4 * sizeof(n[0]));
	json_array_foreach(json_object_get(o, "devices"), i, d)
	{
		const char *st = json_string_value(json_object_get(d, "status"));
		int k = 0;

		while (k < 3 && !(st && !strcmp(st, names[k])))
			k++;
		n[k]++; /* 3: unknown */
	}
	json_decref(o);
	return 0;
}

/* The fleet by status into x, read again when the last reading is older
 * than HUB_FLEET_TTL_S; left unknown (-1: not printed) when the store
 * fails. */
static void fleet_counts(hub_api *a, hub_metrics_now *x)
{
	double now = fl_mono_s();

	pthread_mutex_lock(&a->fleet_mu);
	if ((!a->fleet_at || now - a->fleet_at >= HUB_FLEET_TTL_S) &&
	    fleet_read(a, a->fleet) == 0)
		a->fleet_at = now;
	if (a->fleet_at) {
		x->devices_online = a->fleet[0];
		x->devices_offline = a->fleet[1];
		x->devices_stopped = a->fleet[2];
		x->devices_unknown = a->fleet[3];
	}
	pthread_mutex_unlock(&a->fleet_mu);
}

/* What only the scrape's moment knows (metrics.h). */
static void metrics_now(hub_api *a, hub_metrics_now *x)
{
	struct rusage ru;
	long long q;
	long pages = 0;
	FILE *f;

	memset(x, 0, sizeof(*x));
	x->alert_queue = x->devices_online = x->rss_bytes = -1;
	x->cpu_s = -1;
	x->degraded = a->status && hub_status_is_degraded(a->status);
	/* waiting, and being sent (claimed by a hub): the store's outbox */
	if (fl_db_alert_outbox(a->db, &q) == 0)
		x->alert_queue = q;
	fleet_counts(a, x);
	f = fopen("/proc/self/statm", "r");
	if (f && fscanf(f, "%*d %ld", &pages) == 1)
		x->rss_bytes = (long long)pages * sysconf(_SC_PAGESIZE);
	if (f)
		fclose(f);
	if (!getrusage(RUSAGE_SELF, &ru))
		x->cpu_s = (double)ru.ru_utime.tv_sec +
			   ru.ru_utime.tv_usec / 1e6 +
			   (double)ru.ru_stime.tv_sec +
			   ru.ru_stime.tv_usec / 1e6;
}

void api__metrics(hub_api *a, const hub_req *q, hub_resp *r)
{
	hub_metrics_now x;
	size_t n;

	r->no_store = 1;
	if (!api__is(q, "GET")) {
		api__error(r, 405, "use GET");
		return;
	}
	if (!metrics_allowed(a, q, r))
		return;
	if (!a->metrics) {
		api__error(r, 404, "no metrics kept");
		return;
	}
	metrics_now(a, &x);
	/* measured, then written with room for counters that grew in
	 * between; should they outgrow it, again (a cut line would lie) */
	for (n = hub_metrics_render(a->metrics, &x, NULL, 0) + 256;;) {
		size_t need;

		r->body = malloc(n);
		if (!r->body) {
			api__error(r, 500, "out of memory");
			return;
		}
		need = hub_metrics_render(a->metrics, &x, r->body, n);
		if (need < n) {
			r->len = need;
			break;
		}
		free(r->body);
		n = need + 256;
	}
	r->status = 200;
	r->ctype = "text/plain; version=0.0.4; charset=utf-8";
}
