/*
 * api.c - the hub's web answers (docs/api.md): the router, the helpers
 * every answer uses, and the web UI's files.
 *
 * hub_api_handle() routes a request: /api/... through the route table
 * below, /evidence/<incident>/<file> to the evidence files,
 * /pictures/<incident>/<link> to an alert's picture (a signed link, no
 * session), /static/...
 * and the UI's own paths to the assets compiled into the binary. The
 * handlers are in files of their own by concern (api_internal.h lists
 * them); api.c knows nothing of libmicrohttpd (http.c does).
 *
 * Changes (POST, DELETE) need the session's CSRF token in X-CSRF-Token,
 * compared in constant time; login and a device's enrolment are the
 * exceptions (no session yet: api_roles.c, api_enrol.c). The session cookie is HttpOnly and
 * SameSite=Strict.
 *
 * A session is checked against the store on every request: a user deleted
 * elsewhere (another worker, --delete-user) loses it at once.
 *
 * Audit: login (ok or failed), incident_view, evidence_view (once per file
 * per session), export, user_add, user_delete, device_enrol,
 * enrol_code, enrol_code_revoke; outcomes are
 * audited by the store in the same transaction (fl_db_outcome_set).
 * Passwords and session ids never reach the log or the audit.
 */
#include "api_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "assets.h"
#include "fl.h"
#include "httpparse.h"

/* ---- answers ------------------------------------------------------------ */

void api__header(hub_resp *r, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (r->nhdr >= HUB_RESP_HEADERS)
		return;
	snprintf(r->hdr[r->nhdr].name, sizeof(r->hdr[0].name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(r->hdr[r->nhdr].value, sizeof(r->hdr[0].value), fmt, ap);
	va_end(ap);
	r->nhdr++;
}

/* A JSON answer; takes text (malloc'd; NULL means the store failed). */
void api__json_text(hub_resp *r, int status, char *text)
{
	if (!text) {
		text = strdup("{\"error\": \"the store failed\"}");
		status = 500;
	}
	r->status = status;
	r->ctype = "application/json";
	r->body = text;
	r->len = text ? strlen(text) : 0;
}

void api__json_obj(hub_resp *r, int status, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	api__json_text(r, status, s);
}

/* The machine code of an error answer, by status: the web UI shows the
 * words its catalogue has for it (docs/i18n.md), error the detail. */
static const char *error_code(int status)
{
	switch (status) {
	case 400:
		return "bad_request";
	case 401:
		return "not_logged_in";
	case 403:
		return "forbidden";
	case 404:
		return "not_found";
	case 405:
		return "method_not_allowed";
	case 409:
		return "conflict";
	case 410:
		return "gone";
	case 413:
		return "too_large";
	case 416:
		return "range_not_satisfiable";
	case 422:
		return "invalid";
	case 429:
		return "rate_limited";
	default:
		return "server_error";
	}
}

void api__error(hub_resp *r, int status, const char *why)
{
	api__json_obj(r, status,
		      json_pack("{s:s,s:s}", "error", why, "code",
				error_code(status)));
}

int api__is(const hub_req *q, const char *method)
{
	if (!strcmp(method, "GET") && !strcmp(q->method, "HEAD"))
		return 1;
	return !strcmp(q->method, method);
}

const char *api__arg(const hub_req *q, const char *name)
{
	const char *v = q->arg ? q->arg(q->ctx, name) : NULL;

	return v && *v ? v : NULL;
}

long long api__num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

int api__paging(const hub_req *q, hub_resp *r, int *limit, int *offset)
{
	*limit = 50;
	*offset = 0;
	if (hub_query_int(api__arg(q, "limit"), 1, 1000, limit) ||
	    hub_query_int(api__arg(q, "offset"), 0, 100000000, offset)) {
		api__error(r, 400, "limit: 1..1000, offset: 0 or more");
		return -1;
	}
	return 0;
}

/* ---- static files, UI routes ---------------------------------------------- */

static const struct hub_asset *asset(const char *path)
{
	for (size_t i = 0; i < hub_nassets; i++)
		if (!strcmp(hub_assets[i].path, path))
			return &hub_assets[i];
	return NULL;
}

static void serve_asset(const struct hub_asset *x, const hub_req *q,
			hub_resp *r)
{
	api__header(r, "ETag", "%s", x->etag);
	api__header(r, "Cache-Control", "no-cache");
	if (q->if_none_match && !strcmp(q->if_none_match, x->etag)) {
		r->status = 304;
		return;
	}
	r->status = 200;
	r->ctype = x->mime;
	r->body = (char *)x->data; /* served from the binary, never written */
	r->body_static = 1;
	r->len = x->len;
}

static int ui_route(const char *p)
{
	static const char *const exact[] = {
		"/",      "/login", "/incidents", "/reports", "/reports/weekly",
		"/fleet", "/admin", "/register",  "/devices"
	};

	for (size_t i = 0; i < FL_ARRAY_SIZE(exact); i++)
		if (!strcmp(p, exact[i]))
			return 1;
	return (!strncmp(p, "/incidents/", 11) && hub_plain_name(p + 11)) ||
	       (!strncmp(p, "/devices/", 9) && hub_plain_name(p + 9));
}

/* 303 to the login page, which returns to path afterwards. */
void to_login(const char *path, hub_resp *r)
{
	char enc[400];
	size_t n = 0;

	for (const char *p = path; *p && n + 4 < sizeof(enc); p++) {
		unsigned char c = (unsigned char)*p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-_.~/", c))
			enc[n++] = (char)c;
		else
			n += (size_t)snprintf(enc + n, sizeof(enc) - n,
					      "%%%02X", c);
	}
	enc[n] = 0;
	api__header(r, "Location", "/login?next=%s", enc);
	r->status = 303;
	r->ctype = "text/plain; charset=utf-8";
	r->body = strdup("see /login\n");
	r->len = r->body ? strlen(r->body) : 0;
}

/* ---- routing ----------------------------------------------------------------- */

/* Splits "/a/b/c" after prefix into up to 3 segments (borrowed copies in
 * seg, each < 256 bytes). Returns the count, or -1 when too long/many. */
static int segments(const char *p, char seg[3][256])
{
	int n = 0;

	while (*p) {
		size_t len = strcspn(p, "/");

		if (n == 3 || len >= 256)
			return -1;
		memcpy(seg[n], p, len);
		seg[n++][len] = 0;
		p += len;
		if (*p == '/')
			p++;
		else
			break;
		if (!*p) /* trailing slash: an empty last segment */
			seg[n++][0] = 0;
	}
	return n;
}

/*
 * The API's routes. pattern is the path after "/api/", segment by segment;
 * "*" matches one segment, handed to the handler as id (an incident id or
 * a user name: the handler checks it). admin: only admins (403 for the
 * others). A path that matches with another method answers 405. Checks
 * that depend on the thing (an incident's site: 404 before 403) are the
 * handler's. POST /api/login and POST /api/enrol are answered before this
 * table: they are the routes without a session or CSRF token.
 */
typedef void (*route_fn)(hub_api *a, const hub_session_info *s, const char *id,
			 const hub_req *q, hub_resp *r);

static const struct route {
	const char *method, *pattern;
	int admin;
	route_fn fn;
	int waits; /* may wait for a device or the broker (hub_api_waits) */
} routes[] = {
	{ "POST", "logout", 0, api__logout },
	{ "GET", "session", 0, api__get_session },
	{ "GET", "incidents", 0, api__incidents },
	{ "GET", "incidents/*", 0, api__incident },
	{ "POST", "incidents/*/outcome", 0, api__outcome },
	{ "POST", "incidents/*/plate", 0, api__plate },
	{ "POST", "incidents/*/owner_phone", 0, api__owner_phone },
	{ "GET", "sites/*/register", 0, api__register },
	{ "POST", "sites/*/register", 0, api__register },
	{ "GET", "incidents/*/audit", 0, api__incident_audit },
	{ "GET", "incidents/*/export", 0, api__export_zip },
	{ "GET", "incidents/*/still", 0, api__still },
	{ "GET", "reports", 0, api__reports },
	{ "GET", "reports.csv", 0, api__reports_csv },
	{ "GET", "sites", 0, api__sites },
	{ "GET", "devices", 0, api__devices },
	{ "GET", "hub", 0, api__hub },
	{ "POST", "devices", 1, api__enrol },
	/* admins and installers (of the code's site): api_enrol.c */
	{ "POST", "devices/enrol-codes", 0, api__enrol_code_add },
	{ "GET", "devices/enrol-codes", 0, api__enrol_codes },
	{ "DELETE", "devices/enrol-codes/*", 0, api__enrol_code_revoke },
	{ "GET", "users", 1, api__users },
	{ "POST", "users", 1, api__user_add },
	{ "DELETE", "users", 1, api__user_delete }, /* ?name=, any name */
	{ "DELETE", "users/*", 1, api__user_delete },
	{ "GET", "quarantine", 1, api__quarantine },
	{ "GET", "audit", 1, api__audit },
	{ "GET", "devices/*/config", 0, api__device_config, 1 }, /* import */
	{ "PUT", "devices/*/config", 0, api__device_config },
	{ "POST", "devices/*/config/apply", 0, api__device_config_apply },
	{ "POST", "devices/*/cameras/*/snapshot", 0, api__snapshot, 1 },
	{ "GET", "devices/*/cameras/*/snapshot.jpg", 0, api__snapshot_file },
	{ "GET", "devices/*/cameras/*/mask.png", 0, api__snapshot_file },
	{ "GET", "schema/lane", 0, api__schema_lane },
	{ "POST", "lanes/check", 0, api__lanes_check },
};

/* 1 when path (segments, no leading '/') matches pattern; *id gets the
 * segment the first "*" matched (pointing into idbuf; a handler reads a
 * later one from the path). */
static int route_match(const char *pattern, const char *path, char *idbuf,
		       size_t idlen, const char **id)
{
	*id = NULL;
	while (*pattern && *path) {
		size_t pl = strcspn(pattern, "/"), sl = strcspn(path, "/");

		if (pl == 1 && *pattern == '*' && *id) {
			if (!sl)
				return 0;
		} else if (pl == 1 && *pattern == '*') {
			if (!sl || sl >= idlen)
				return 0;
			memcpy(idbuf, path, sl);
			idbuf[sl] = 0;
			*id = idbuf;
		} else if (pl != sl || strncmp(pattern, path, pl)) {
			return 0;
		}
		pattern += pl;
		path += sl;
		if (*pattern != *path) /* one ends where the other goes on */
			return 0;
		if (*pattern) {
			pattern++;
			path++;
		}
	}
	return !*pattern && !*path;
}

int hub_api_waits(const char *method, const char *path)
{
	char idbuf[256];
	const char *id;

	if (strncmp(path, "/api/", 5))
		return 0;
	path += 5;
	if (!strcmp(path, "enrol")) /* the broker takes the new account */
		return !strcmp(method, "POST");
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].waits && !strcmp(method, routes[i].method) &&
		    route_match(routes[i].pattern, path, idbuf, sizeof(idbuf),
				&id))
			return 1;
	return 0;
}

static void api(hub_api *a, const hub_session_info *s, const hub_req *q,
		hub_resp *r)
{
	const char *path = q->path + 5; /* after "/api/" */
	int write = !strcmp(q->method, "POST") ||
		    !strcmp(q->method, "DELETE") || !strcmp(q->method, "PUT");
	char idbuf[256];
	const char *id;
	int path_known = 0;

	r->no_store = 1;
	if (!strcmp(path, "locale")) { /* the login page needs it too */
		if (!api__is(q, "GET"))
			api__error(r, 405, "use GET");
		else
			api__locale(a, q, r);
		return;
	}
	if (!strcmp(path, "login")) {
		if (!api__is(q, "POST"))
			api__error(r, 405, "use POST");
		else
			api__login(a, q, r);
		return;
	}
	if (!strcmp(path, "enrol")) { /* a device: the code is its credential */
		if (!api__is(q, "POST"))
			api__error(r, 405, "use POST");
		else
			api__enrol_redeem(a, q, r);
		return;
	}
	if (!s) {
		api__error(r, 401, "not logged in");
		return;
	}
	/* POST and DELETE are checked before anything else; PUT (the
	 * devices' configuration) once its route is known, so a PUT where
	 * there is none stays a plain 405 */
	if (write && strcmp(q->method, "PUT") && !hub_csrf_ok(s, q->csrf)) {
		api__error(r, 403, "missing or wrong X-CSRF-Token");
		return;
	}
	if (q->body_too_large) {
		api__error(r, 413, "body too large (64 KiB at most)");
		return;
	}
	for (size_t i = 0; i < FL_ARRAY_SIZE(routes); i++) {
		const struct route *rt = &routes[i];

		if (!route_match(rt->pattern, path, idbuf, sizeof(idbuf), &id))
			continue;
		path_known = 1;
		if (!api__is(q, rt->method))
			continue;
		if (write && !hub_csrf_ok(s, q->csrf)) {
			api__error(r, 403, "missing or wrong X-CSRF-Token");
			return;
		}
		if (rt->admin && api__need_role(s, r, 0))
			return;
		if (!api__installer_may(s, rt->pattern, r))
			return;
		rt->fn(a, s, id, q, r);
		return;
	}
	if (path_known)
		api__error(r, 405, "method not allowed");
	else
		api__error(r, 404, "no such endpoint");
}

/* Whether the session's user is still the one that logged in: a user
 * deleted (through the API, or with --delete-user by another process), or
 * deleted and added again, ends every session of theirs. A store that
 * cannot answer now ends nothing. */
static int user_current(hub_api *a, const hub_session_info *s)
{
	double created = 0;
	int rc = fl_db_user_info(a->db, s->user, NULL, 0, NULL, 0, &created);

	if (rc == FL_ENOENT || (rc == FL_OK && created != s->created)) {
		hub_session_end_user(a->sessions, s->user);
		return 0;
	}
	return 1;
}

void hub_api_handle(hub_api *a, const hub_req *q, hub_resp *r)
{
	char cookie[HUB_TOKEN_LEN + 8];
	hub_session_info sess, *s = NULL;
	const char *p = q->path;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (!hub_cookie_get(q->cookie, "fl_session", cookie, sizeof(cookie)) &&
	    !hub_session_get(a->sessions, cookie, q->now, &sess))
		s = user_current(a, &sess) ? &sess : NULL;
	if (!strcmp(p, "/healthz")) {
		/* for a monitor, no session: the state, not the reason */
		int bad = a->status && hub_status_is_degraded(a->status);

		r->no_store = 1;
		r->status = bad ? 503 : 200;
		r->ctype = "text/plain; charset=utf-8";
		r->body = strdup(bad ? "degraded\n" : "ok\n");
		r->len = r->body ? strlen(r->body) : 0;
	} else if (!strcmp(p, "/metrics")) {
		api__metrics(a, q, r);
	} else if (!strncmp(p, "/api/", 5)) {
		api(a, s, q, r);
	} else if (!strncmp(p, "/evidence/", 10)) {
		char seg[3][256];
		int n = segments(p + 10, seg);

		r->no_store = 1;
		if (!api__is(q, "GET"))
			api__error(r, 405, "use GET");
		else if (!s)
			to_login(p, r);
		else if (n != 2)
			api__error(r, 404, "no such file");
		else
			api__evidence(a, s, seg[0], seg[1], q, r);
	} else if (!strncmp(p, "/pictures/", 10)) {
		char seg[3][256];

		/* a signed link from an alert: no session (api_stills.c) */
		if (!api__is(q, "GET"))
			api__error(r, 405, "use GET");
		else if (segments(p + 10, seg) != 2)
			api__error(r, 404, "no such picture");
		else
			api__picture(a, seg[0], seg[1], q, r);
	} else if (!strncmp(p, "/static/", 8)) {
		const struct hub_asset *x = asset(p + 8);

		if (!api__is(q, "GET"))
			api__error(r, 405, "use GET");
		else if (!x)
			api__error(r, 404, "no such file");
		else
			serve_asset(x, q, r);
	} else if (ui_route(p)) {
		const struct hub_asset *x = asset("index.html");

		if (!api__is(q, "GET"))
			api__error(r, 405, "use GET");
		else if (!s && strcmp(p, "/login"))
			to_login(p, r);
		else if (!x)
			api__error(r, 404, "the web UI is not built in");
		else
			serve_asset(x, q, r);
	} else {
		api__error(r, 404, "not found");
	}
	sodium_memzero(&sess, sizeof(sess));
}
