/*
 * api.c - the hub's web answers: JSON API, evidence, case packages, UI.
 *
 * A note on who sees what (docs/api.md, "Roles"). Every handler that
 * touches an incident first asks the store for its site
 * (fl_db_incident_site) and checks it against the session's role: admin
 * and enforcement see every site, a property manager only the sites given
 * at --add-user. Something on a site the user may not see answers 404,
 * exactly like something that does not exist, so a property manager cannot
 * learn that another site's incident exists. Lists are filtered in the
 * store (fl_db_filter.sites_csv_allowed), never after paging.
 *
 * Changes (POST, DELETE) need the session's CSRF token in X-CSRF-Token,
 * compared in constant time; login is the one exception (it has no
 * session yet) and is rate limited per address and per user name instead.
 * The address is the client's (q->addr: behind a trusted reverse proxy,
 * from its X-Forwarded-For; http.c), and the audit's login rows name it as
 * their object.
 * The session cookie is HttpOnly and SameSite=Strict.
 *
 * Audit: login (ok or failed), incident_view, evidence_view (once per file
 * per session), export, user_add, user_delete, device_enrol; outcomes are
 * audited by the store in the same transaction (fl_db_outcome_set).
 * Passwords and session ids never reach the log or the audit.
 */
#include "api.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "file.h"
#include "fl.h"
#include "http.h"
#include "httpparse.h"
#include "manifest.h"
#include "sign.h"
#include "zip.h"

#define TAG "http"

/* ---- answers ------------------------------------------------------------ */

static void header(hub_resp *r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void header(hub_resp *r, const char *name, const char *fmt, ...)
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
static void json_text(hub_resp *r, int status, char *text)
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

static void json_obj(hub_resp *r, int status, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	json_text(r, status, s);
}

static void error(hub_resp *r, int status, const char *why)
{
	json_obj(r, status, json_pack("{s:s}", "error", why));
}

static int is(const hub_req *q, const char *method)
{
	if (!strcmp(method, "GET") && !strcmp(q->method, "HEAD"))
		return 1;
	return !strcmp(q->method, method);
}

static const char *arg(const hub_req *q, const char *name)
{
	const char *v = q->arg ? q->arg(q->ctx, name) : NULL;

	return v && *v ? v : NULL;
}

/* ---- who may see what --------------------------------------------------- */

static int is_property(const hub_session_info *s)
{
	return !strcmp(s->role, "property");
}

static int site_listed(const char *csv, const char *site)
{
	size_t n = strlen(site);

	if (!n)
		return 0;
	for (const char *p = csv; *p;) {
		size_t len = strcspn(p, ",");

		if (len == n && !strncmp(p, site, n))
			return 1;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int may_see(const hub_session_info *s, const char *site)
{
	return !is_property(s) || (site && site_listed(s->sites, site));
}

/* The incident's site if the user may see it: 0, or 404 answered. */
static int incident_visible(hub_api *a, const hub_session_info *s,
			    const char *id, hub_resp *r, char *site,
			    size_t sitelen)
{
	if (!hub_plain_name(id) ||
	    fl_db_incident_site(a->db, id, site, sitelen) ||
	    !may_see(s, site)) {
		error(r, 404, "no such incident");
		return -1;
	}
	return 0;
}

static const char *allowed_sites(const hub_session_info *s)
{
	return is_property(s) ? s->sites : NULL;
}

static int need_role(const hub_session_info *s, hub_resp *r, int enforcement)
{
	if (!strcmp(s->role, "admin") ||
	    (enforcement && !strcmp(s->role, "enforcement")))
		return 0;
	error(r, 403, "not allowed for your role");
	return -1;
}

/* ---- login, session ------------------------------------------------------ */

static json_t *sites_array(const char *csv)
{
	json_t *a = json_array();

	for (const char *p = csv; *p;) {
		size_t len = strcspn(p, ",");

		if (len)
			json_array_append_new(a, json_stringn(p, len));
		p += len;
		if (*p == ',')
			p++;
	}
	return a;
}

static void session_answer(hub_api *a, const hub_session_info *s,
			   hub_resp *r)
{
	json_obj(r, 200,
		 json_pack("{s:s,s:s,s:s,s:o,s:i}", "csrf", s->csrf, "user",
			   s->user, "role", s->role, "sites",
			   sites_array(s->sites), "tz_offset_s",
			   a->conf->tz_offset_s));
}

static void login(hub_api *a, const hub_req *q, hub_resp *r)
{
	static const char *const names[] = {"user", "password"};
	char *f[2], role[32], sites[HUB_SITES_LEN], akey[128], ukey[200];
	hub_session_info s;
	int wait;

	if (q->body_too_large) {
		error(r, 413, "body too large");
		return;
	}
	if (hub_json_fields(q->body, q->body_len, names, 2, f) || !f[0] ||
	    !f[1]) {
		hub_fields_free(f, 2);
		error(r, 400, "expected {\"user\", \"password\"}");
		return;
	}
	snprintf(akey, sizeof(akey), "a:%s", q->addr ? q->addr : "?");
	snprintf(ukey, sizeof(ukey), "u:%.190s", f[0]);
	wait = FL_MAX(hub_ratelimit_check(a->rate, akey, q->now),
		      hub_ratelimit_check(a->rate, ukey, q->now));
	if (wait > 0) {
		header(r, "Retry-After", "%d", wait);
		error(r, 429, "too many login attempts; try again later");
		goto out;
	}
	if (fl_db_user_check(a->db, f[0], f[1], role, sizeof(role), sites,
			     sizeof(sites))) {
		hub_ratelimit_fail(a->rate, akey, q->now);
		hub_ratelimit_fail(a->rate, ukey, q->now);
		fl_db_audit(a->db, f[0], "login", akey + 2, "failed", q->now);
		fl_log(FL_LOG_INFO, TAG, "login failed from %s", akey + 2);
		error(r, 401, "wrong user name or password");
		goto out;
	}
	hub_ratelimit_reset(a->rate, ukey);
	if (hub_session_new(a->sessions, f[0], role, sites, q->now, &s)) {
		error(r, 500, "out of memory");
		goto out;
	}
	fl_db_audit(a->db, f[0], "login", akey + 2, "ok", q->now);
	header(r, "Set-Cookie",
	       "fl_session=%s; HttpOnly; SameSite=Strict; Path=/%s", s.id,
	       a->secure_cookies ? "; Secure" : "");
	session_answer(a, &s, r);
	sodium_memzero(&s, sizeof(s));
out:
	if (f[1])
		sodium_memzero(f[1], strlen(f[1]));
	hub_fields_free(f, 2);
}

static void logout(hub_api *a, const hub_session_info *s, const char *id,
		   const hub_req *q, hub_resp *r)
{
	hub_session_end(a->sessions, s->id);
	header(r, "Set-Cookie",
	       "fl_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0%s",
	       a->secure_cookies ? "; Secure" : "");
	json_text(r, 200, strdup("{}"));
}

/* ---- incidents ----------------------------------------------------------- */

static int query_time(const hub_req *q, const char *name, int tz, int end,
		      double *out, hub_resp *r)
{
	const char *v = arg(q, name);
	int is_date = 0;
	char why[96];

	if (!v)
		return 0;
	if (hub_date_parse(v, tz, out, &is_date)) {
		snprintf(why, sizeof(why), "%s: expected YYYY-MM-DD or unix "
					   "seconds", name);
		error(r, 400, why);
		return -1;
	}
	if (end && is_date)
		*out += 86400; /* a date "to" means the end of that day */
	return 0;
}

static void incidents(hub_api *a, const hub_session_info *s, const char *id,
		      const hub_req *q, hub_resp *r)
{
	fl_db_filter f;
	int tz = a->conf->tz_offset_s;

	memset(&f, 0, sizeof(f));
	f.site = arg(q, "site");
	f.lane = arg(q, "lane");
	f.status = arg(q, "status");
	f.outcome = arg(q, "outcome");
	f.limit = 50;
	if (hub_query_int(arg(q, "limit"), 1, 1000, &f.limit) ||
	    hub_query_int(arg(q, "offset"), 0, 100000000, &f.offset)) {
		error(r, 400, "limit: 1..1000, offset: 0 or more");
		return;
	}
	if (query_time(q, "from", tz, 0, &f.from_wall, r) ||
	    query_time(q, "to", tz, 1, &f.to_wall, r))
		return;
	f.sites_csv_allowed = allowed_sites(s);
	json_text(r, 200, fl_db_incidents_json(a->db, &f));
}

static void incident(hub_api *a, const hub_session_info *s, const char *id,
		     const hub_req *q, hub_resp *r)
{
	char site[256];

	if (incident_visible(a, s, id, r, site, sizeof(site)))
		return;
	fl_db_audit(a->db, s->user, "incident_view", id, NULL, q->now);
	json_text(r, 200, fl_db_incident_json(a->db, id));
}

static void outcome(hub_api *a, const hub_session_info *s, const char *id,
		    const hub_req *q, hub_resp *r)
{
	static const char *const names[] = {"outcome", "note"};
	char site[256], err[256], *f[2];
	int rc;

	if (incident_visible(a, s, id, r, site, sizeof(site)))
		return;
	if (hub_json_fields(q->body, q->body_len, names, 2, f) || !f[0]) {
		hub_fields_free(f, 2);
		error(r, 400, "expected {\"outcome\", \"note\"}");
		return;
	}
	if (is_property(s) && (!strcmp(f[0], "fined") ||
			       !strcmp(f[0], "towed"))) {
		error(r, 403, "a property manager may record persuaded, "
			      "false_alarm or other");
		goto out;
	}
	rc = fl_db_outcome_set(a->db, id, f[0], f[1] ? f[1] : "", s->user,
			       q->now, err, sizeof(err));
	if (rc == FL_EINVAL)
		error(r, 400, err);
	else if (rc == FL_ENOENT)
		error(r, 404, "no such incident");
	else if (rc)
		error(r, 500, "the store failed");
	else
		json_text(r, 200, fl_db_incident_json(a->db, id));
out:
	hub_fields_free(f, 2);
}

static int paging(const hub_req *q, hub_resp *r, int *limit, int *offset)
{
	*limit = 50;
	*offset = 0;
	if (hub_query_int(arg(q, "limit"), 1, 1000, limit) ||
	    hub_query_int(arg(q, "offset"), 0, 100000000, offset)) {
		error(r, 400, "limit: 1..1000, offset: 0 or more");
		return -1;
	}
	return 0;
}

static void incident_audit(hub_api *a, const hub_session_info *s,
			   const char *id, const hub_req *q, hub_resp *r)
{
	char site[256];
	int limit, offset;

	if (incident_visible(a, s, id, r, site, sizeof(site)) ||
	    need_role(s, r, 1) || paging(q, r, &limit, &offset))
		return;
	json_text(r, 200, fl_db_audit_json(a->db, id, limit, offset));
}

/* ---- evidence files ---------------------------------------------------- */

static const char *content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} t[] = {
		{".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"},
		{".png", "image/png"},  {".mp4", "video/mp4"},
		{".json", "application/json"},
		{".sig", "text/plain; charset=utf-8"},
		{".txt", "text/plain; charset=utf-8"},
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < FL_ARRAY_SIZE(t); i++)
		if (!strcasecmp(dot, t[i].ext))
			return t[i].type;
	return "application/octet-stream";
}

static void evidence(hub_api *a, const hub_session_info *s, const char *id,
		     const char *name, const hub_req *q, hub_resp *r)
{
	char site[256], path[HUB_PATHLEN], key[600];
	long long first, last;
	struct stat st;
	int fd, rg;

	if (incident_visible(a, s, id, r, site, sizeof(site)))
		return;
	if (!hub_plain_name(name) ||
	    hub_fmt(path, sizeof(path), "%s/%s/%s", a->conf->evidence_dir, id,
		    name) >= (int)sizeof(path)) {
		error(r, 404, "no such file");
		return;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		error(r, 404, "no such file");
		return;
	}
	rg = hub_range_parse(q->range, (long long)st.st_size, &first, &last);
	if (rg < 0) {
		close(fd);
		header(r, "Content-Range", "bytes */%lld",
		       (long long)st.st_size);
		error(r, 416, "range not satisfiable");
		return;
	}
	hub_fmt(key, sizeof(key), "%s/%s", id, name);
	if (hub_session_first_view(a->sessions, s->id, key))
		fl_db_audit(a->db, s->user, "evidence_view", id, name, q->now);
	r->fd = fd;
	r->ctype = content_type(name);
	header(r, "Accept-Ranges", "bytes");
	if (rg > 0) {
		r->status = 206;
		r->offset = first;
		r->flen = last - first + 1;
		header(r, "Content-Range", "bytes %lld-%lld/%lld", first, last,
		       (long long)st.st_size);
	} else {
		r->status = 200;
		r->offset = 0;
		r->flen = (long long)st.st_size;
	}
	r->no_store = 1;
}

/* ---- case package ------------------------------------------------------- */

static int name_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The plain-named regular files of dir, sorted; *n of them. NULL when dir
 * cannot be read. Free each and the array. */
static char **list_files(const char *dir, int *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	int cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		char p[HUB_PATHLEN];
		struct stat st;

		if (!hub_plain_name(e->d_name) ||
		    hub_fmt(p, sizeof(p), "%s/%s", dir, e->d_name) >=
			    (int)sizeof(p) ||
		    lstat(p, &st) || !S_ISREG(st.st_mode))
			continue;
		if (*n == cap) {
			char **w;

			cap = cap ? cap * 2 : 16;
			w = realloc(v, (size_t)cap * sizeof(*w));
			if (!w)
				break;
			v = w;
		}
		v[*n] = strdup(e->d_name);
		if (v[*n])
			(*n)++;
	}
	closedir(d);
	if (!v)
		v = calloc(1, sizeof(*v));
	else
		qsort(v, (size_t)*n, sizeof(*v), name_cmp);
	return v;
}

/* verification.txt: the hub's own check of the stored bundle now. inc:
 * the incident (fl_db_incident_json); when its bundle folder is gone and
 * the store says retention removed it (evidence_pruned), the file says so
 * and lists the SHA-256 of the files as they were received. */
static char *verification(hub_api *a, const char *id, const char *device,
			  const char *dir, char **files, int nfiles,
			  json_t *inc, const char *user, double now)
{
	char pk_b64[128] = "", site[256] = "", err[512] = "", when[64];
	char pruned_when[64] = "";
	json_t *pruned = json_object_get(inc, "evidence_pruned");
	json_t *rows = json_object_get(inc, "evidence"), *row;
	unsigned char pk[32];
	fl_verify_info info;
	size_t cap = 4096 + ((size_t)nfiles + json_array_size(rows)) * 256;
	size_t len = 0, r;
	char *t = malloc(cap);
	time_t secs = (time_t)now;
	struct tm tm;
	int known, rc;

	if (!t)
		return NULL;
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (json_is_number(pruned) && !files) {
		secs = (time_t)json_number_value(pruned);
		gmtime_r(&secs, &tm);
		strftime(pruned_when, sizeof(pruned_when),
			 "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	known = device && !fl_db_device_get(a->db, device, site, sizeof(site),
					    pk_b64, sizeof(pk_b64)) &&
		!fl_key_public_from_b64(pk_b64, pk);
#define OUT(...) \
	len += (size_t)snprintf(t + len, len < cap ? cap - len : 0, __VA_ARGS__)
	OUT("firelane case package: incident %s\n", id);
	OUT("device: %s\nexported by %s at %s (hub clock, UTC)\n\n",
	    device ? device : "?", user, when);
	if (pruned_when[0]) {
		OUT("result: EVIDENCE REMOVED: the bundle's files were removed "
		    "on %s (hub clock, UTC) by the hub's retention setting "
		    "(evidence_keep_days); the hub no longer holds them, so the "
		    "signature cannot be checked again. The SHA-256 of every "
		    "file as received are listed below.\n",
		    pruned_when);
		OUT("verified when received: %s\n",
		    json_integer_value(json_object_get(inc, "verified")) == 1
			    ? "yes (against the enrolled key)"
			    : "no");
	} else if (!files) {
		OUT("result: NO EVIDENCE RECEIVED (the hub holds no bundle for "
		    "this incident)\n");
	} else if (!known) {
		OUT("result: NOT VERIFIED: the device is not enrolled, so there "
		    "is no key to check the signature against\n");
	} else {
		memset(&info, 0, sizeof(info));
		rc = fl_bundle_verify_ex(dir, pk, &info, err, sizeof(err));
		if (!rc)
			OUT("result: VERIFIED: manifest.sig is a valid Ed25519 "
			    "signature of manifest.json by the enrolled key, "
			    "and every listed file (%zu) matches its size and "
			    "SHA-256\n",
			    info.nfiles);
		else
			OUT("result: NOT VERIFIED: %s\n", err);
	}
	OUT("check: fl_bundle_verify with the key enrolled for the device "
	    "pinned (docs/evidence.md)\n");
	OUT("device public key (Ed25519, base64, enrolled): %s\n\n",
	    known ? pk_b64 : "(none)");
	if (pruned_when[0]) {
		OUT("files as received (SHA-256, bytes, name; removed):\n");
		json_array_foreach(rows, r, row) {
			const char *h = json_string_value(
				json_object_get(row, "sha256"));
			const char *nm = json_string_value(
				json_object_get(row, "name"));

			if (len >= cap)
				break;
			OUT("%s  %lld  evidence/%s\n", h ? h : "?",
			    (long long)json_integer_value(
				    json_object_get(row, "bytes")),
			    nm ? nm : "?");
		}
	}
	if (files) {
		OUT("files (SHA-256, bytes, name):\n");
		for (int i = 0; i < nfiles && len < cap; i++) {
			char p[HUB_PATHLEN], hex[65];
			long long bytes;

			hub_fmt(p, sizeof(p), "%s/%s", dir, files[i]);
			if (fl_file_sha256(p, 0, hex, &bytes, NULL, 0))
				OUT("(unreadable)  %s\n", files[i]);
			else
				OUT("%s  %lld  evidence/%s\n", hex, bytes,
				    files[i]);
		}
	}
#undef OUT
	if (len >= cap) { /* cannot happen with the sizes above; be safe */
		t[cap - 1] = 0;
	}
	return t;
}

static void export_zip(hub_api *a, const hub_session_info *s, const char *id,
		       const hub_req *q, hub_resp *r)
{
	char site[256], dir[HUB_PATHLEN], tmpl[] = "/tmp/firelane-export-XXXXXX";
	char *inc = NULL, *ver = NULL, **files = NULL;
	const char *device = NULL, *tmpdir = getenv("TMPDIR");
	char tpath[HUB_PATHLEN];
	json_t *o = NULL;
	hub_zip *z = NULL;
	long long size = 0;
	int nfiles = 0, fd = -1, rc = FL_EIO;

	if (incident_visible(a, s, id, r, site, sizeof(site)))
		return;
	inc = fl_db_incident_json(a->db, id);
	o = inc ? json_loads(inc, 0, NULL) : NULL;
	if (!o) {
		error(r, 500, "the store failed");
		goto out;
	}
	device = json_string_value(json_object_get(o, "device"));
	hub_fmt(dir, sizeof(dir), "%s/%s", a->conf->evidence_dir, id);
	files = list_files(dir, &nfiles);
	ver = verification(a, id, device, dir, files, nfiles, o, s->user,
			   q->now);
	if (tmpdir && *tmpdir &&
	    hub_fmt(tpath, sizeof(tpath), "%s/firelane-export-XXXXXX",
		    tmpdir) < (int)sizeof(tpath))
		fd = mkstemp(tpath);
	else
		fd = mkstemp(tmpl);
	if (fd >= 0)
		unlink(tmpdir && *tmpdir ? tpath : tmpl);
	z = fd >= 0 && ver ? hub_zip_open(fd) : NULL;
	if (!z)
		goto fail;
	for (int i = 0; i < nfiles; i++) {
		char name[300], p[HUB_PATHLEN];

		snprintf(name, sizeof(name), "evidence/%s", files[i]);
		hub_fmt(p, sizeof(p), "%s/%s", dir, files[i]);
		rc = hub_zip_add_file(z, name, p);
		if (rc)
			goto fail;
	}
	rc = hub_zip_add_mem(z, "outcome.json", inc, strlen(inc), q->now);
	if (!rc)
		rc = hub_zip_add_mem(z, "verification.txt", ver, strlen(ver),
				     q->now);
	if (rc)
		goto fail;
	rc = hub_zip_close(z, &size);
	z = NULL;
	if (rc)
		goto fail;
	fl_db_audit(a->db, s->user, "export", id, NULL, q->now);
	r->status = 200;
	r->ctype = "application/zip";
	r->fd = fd;
	r->offset = 0;
	r->flen = size;
	r->no_store = 1;
	header(r, "Content-Disposition", "attachment; filename=\"%s.zip\"", id);
	fd = -1;
	goto out;
fail:
	hub_zip_abort(z);
	fl_log(FL_LOG_ERROR, TAG, "export of %s failed: %s", id,
	       fl_strerror(rc));
	error(r, 500, rc == FL_EFULL
			      ? "the case package would pass 4 GiB (no ZIP64)"
			      : "the case package could not be written");
out:
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	free(ver);
	free(inc);
	json_decref(o);
}

/* ---- reports ------------------------------------------------------------- */

/* The report's site for this user: 0 and *site (NULL = all), or answered. */
static int report_site(const hub_session_info *s, const hub_req *q,
		       hub_resp *r, const char **site, char *buf,
		       size_t buflen)
{
	const char *want = arg(q, "site");

	*site = want;
	if (!is_property(s))
		return 0;
	if (want) {
		if (!site_listed(s->sites, want)) {
			error(r, 404, "no such site");
			return -1;
		}
		return 0;
	}
	if (!s->sites[0]) {
		error(r, 404, "you have no sites");
		return -1;
	}
	if (strchr(s->sites, ',')) {
		error(r, 400, "name one of your sites (site=)");
		return -1;
	}
	snprintf(buf, buflen, "%s", s->sites);
	*site = buf;
	return 0;
}

static json_t *report(hub_api *a, const hub_session_info *s, const hub_req *q,
		      hub_resp *r)
{
	const char *period = arg(q, "period"), *date = arg(q, "date");
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
		error(r, 400, "date: expected YYYY-MM-DD");
		return NULL;
	}
	if (hub_period(period, at, tz, &from, &to)) {
		error(r, 400, "period: day, week or month");
		return NULL;
	}
	text = fl_db_report_json_tz(a->db, site, from, to, tz);
	o = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	if (!o) {
		error(r, 500, "the store failed");
		return NULL;
	}
	json_object_set_new(o, "period", json_string(period));
	json_object_set_new(o, "tz_offset_s", json_integer(tz));
	return o;
}

static void reports(hub_api *a, const hub_session_info *s, const char *id,
		    const hub_req *q, hub_resp *r)
{
	json_t *o = report(a, s, q, r);

	if (o)
		json_obj(r, 200, o);
}

static long long num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
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

static void reports_csv(hub_api *a, const hub_session_info *s, const char *id,
			const hub_req *q, hub_resp *r)
{
	static const char *const cols[] = {"incidents", "alarms", "persuaded",
					   "fined", "towed", "false_alarm",
					   "other"};
	json_t *o = report(a, s, q, r), *days, *d, *oc;
	char v[7][32], m[3][32], name[64];
	size_t cap = 4096, len = 0, i;
	char *buf;

	if (!o)
		return;
	buf = malloc(cap);
	if (!buf) {
		json_decref(o);
		error(r, 500, "out of memory");
		return;
	}
	buf[0] = 0;
	csv_row(&buf, &cap, &len, "day", "incidents", "alarms", "persuaded",
		"fined", "towed", "false_alarm", "other", NULL);
	days = json_object_get(o, "days");
	json_array_foreach(days, i, d) {
		for (int k = 0; k < 7; k++)
			snprintf(v[k], sizeof(v[k]), "%lld", num(d, cols[k]));
		csv_row(&buf, &cap, &len,
			json_string_value(json_object_get(d, "day"))
				? json_string_value(json_object_get(d, "day"))
				: "",
			v[0], v[1], v[2], v[3], v[4], v[5], v[6], NULL);
	}
	oc = json_object_get(o, "outcomes");
	snprintf(v[0], sizeof(v[0]), "%lld", num(o, "incidents"));
	snprintf(v[1], sizeof(v[1]), "%lld", num(o, "alarms"));
	for (int k = 2; k < 7; k++)
		snprintf(v[k], sizeof(v[k]), "%lld", num(oc, cols[k]));
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
	snprintf(v[2], sizeof(v[2]), "%lld", num(oc, "none"));
	csv_row(&buf, &cap, &len, "no_outcome", v[2], NULL);
	for (int k = 0; k < 2; k++) {
		const char *key = k ? "blocked_s" : "time_to_clear_s";
		json_t *t = json_object_get(o, key);
		json_t *md = json_object_get(t, "median");
		json_t *p9 = json_object_get(t, "p90");

		snprintf(m[0], sizeof(m[0]), "%lld", num(t, "n"));
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
	header(r, "Content-Disposition", "attachment; filename=\"report.csv\"");
}

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
	json_array_foreach(all, i, d)
		if (may_see(s, json_string_value(json_object_get(d, "site"))))
			json_array_append(out, d);
	json_decref(o);
	return out;
}

static void devices(hub_api *a, const hub_session_info *s, const char *id,
		    const hub_req *q, hub_resp *r)
{
	json_t *d = devices_visible(a, s);

	if (!d) {
		error(r, 500, "the store failed");
		return;
	}
	json_obj(r, 200, json_pack("{s:o}", "devices", d));
}

static void sites(hub_api *a, const hub_session_info *s, const char *id,
		  const hub_req *q, hub_resp *r)
{
	json_t *d = devices_visible(a, s), *out, *x, *e;
	size_t i, j;

	if (!d) {
		error(r, 500, "the store failed");
		return;
	}
	out = json_array();
	json_array_foreach(d, i, x) {
		const char *site = json_string_value(json_object_get(x, "site"));
		const char *st = json_string_value(json_object_get(x, "status"));
		json_t *found = NULL;

		if (!site)
			continue;
		json_array_foreach(out, j, e)
			if (!strcmp(json_string_value(json_object_get(e, "site")),
				    site))
				found = e;
		if (!found) {
			found = json_pack("{s:s,s:i,s:i}", "site", site,
					  "devices", 0, "online", 0);
			json_array_append_new(out, found);
		}
		json_object_set_new(found, "devices",
				    json_integer(num(found, "devices") + 1));
		if (st && !strcmp(st, "online"))
			json_object_set_new(
				found, "online",
				json_integer(num(found, "online") + 1));
	}
	/* a property manager's sites without a device yet are still theirs */
	if (is_property(s)) {
		json_t *mine = sites_array(s->sites), *m;

		json_array_foreach(mine, i, m) {
			int have = 0;

			json_array_foreach(out, j, e)
				have |= !strcmp(json_string_value(json_object_get(
							e, "site")),
						json_string_value(m));
			if (!have)
				json_array_append_new(
					out, json_pack("{s:O,s:i,s:i}", "site",
						       m, "devices", 0,
						       "online", 0));
		}
		json_decref(mine);
	}
	json_decref(d);
	json_obj(r, 200, json_pack("{s:o}", "sites", out));
}

static void enrol(hub_api *a, const hub_session_info *s, const char *id,
		  const hub_req *q, hub_resp *r)
{
	static const char *const names[] = {"device", "site", "public_key"};
	char *f[3], err[256];
	unsigned char pk[32];

	if (hub_json_fields(q->body, q->body_len, names, 3, f) || !f[0] ||
	    !f[1] || !f[2]) {
		hub_fields_free(f, 3);
		error(r, 400, "expected {\"device\", \"site\", \"public_key\"}");
		return;
	}
	if (!hub_plain_name(f[1]))
		error(r, 400, "site: 1-128 of [A-Za-z0-9_.-]");
	else if (fl_key_public_from_b64(f[2], pk))
		error(r, 400, "public_key: not a base64 Ed25519 public key");
	else if (fl_db_device_enrol(a->db, f[0], f[1], f[2], err, sizeof(err)))
		error(r, 400, err);
	else {
		fl_db_audit(a->db, s->user, "device_enrol", f[0], f[1], q->now);
		json_obj(r, 200, json_pack("{s:s,s:s}", "device", f[0], "site",
					   f[1]));
	}
	hub_fields_free(f, 3);
}

/* ---- users ------------------------------------------------------------------ */

static void user_add(hub_api *a, const hub_session_info *s, const char *id,
		     const hub_req *q, hub_resp *r)
{
	static const char *const names[] = {"name", "password", "role",
					    "sites"};
	char *f[4], err[256];

	if (hub_json_fields(q->body, q->body_len, names, 4, f) || !f[0] ||
	    !f[1] || !f[2]) {
		hub_fields_free(f, 4);
		error(r, 400, "expected {\"name\", \"password\", \"role\", "
			      "\"sites\"}");
		return;
	}
	if (fl_db_user_add(a->db, f[0], f[1], f[2], f[3] ? f[3] : "", err,
			   sizeof(err)))
		error(r, 400, err);
	else {
		fl_db_audit(a->db, s->user, "user_add", f[0], f[2], q->now);
		json_obj(r, 200, json_pack("{s:s,s:s}", "name", f[0], "role",
					   f[2]));
	}
	sodium_memzero(f[1], strlen(f[1]));
	hub_fields_free(f, 4);
}

static void user_delete(hub_api *a, const hub_session_info *s,
			const char *name, const hub_req *q, hub_resp *r)
{
	if (fl_db_user_delete(a->db, name)) {
		error(r, 404, "no such user");
		return;
	}
	hub_session_end_user(a->sessions, name);
	fl_db_audit(a->db, s->user, "user_delete", name, NULL, q->now);
	json_text(r, 200, strdup("{}"));
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
	header(r, "ETag", "%s", x->etag);
	header(r, "Cache-Control", "no-cache");
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
	static const char *const exact[] = {"/",         "/login",
					    "/incidents", "/reports",
					    "/reports/weekly", "/fleet",
					    "/admin"};

	for (size_t i = 0; i < FL_ARRAY_SIZE(exact); i++)
		if (!strcmp(p, exact[i]))
			return 1;
	return !strncmp(p, "/incidents/", 11) && hub_plain_name(p + 11);
}

/* 303 to the login page, which returns to path afterwards. */
static void to_login(const char *path, hub_resp *r)
{
	char enc[400];
	size_t n = 0;

	for (const char *p = path; *p && n + 4 < sizeof(enc); p++) {
		unsigned char c = (unsigned char)*p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-_.~/", c))
			enc[n++] = (char)c;
		else
			n += (size_t)snprintf(enc + n, sizeof(enc) - n, "%%%02X",
					      c);
	}
	enc[n] = 0;
	header(r, "Location", "/login?next=%s", enc);
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

/* The answers that are one store call. */
static void get_session(hub_api *a, const hub_session_info *s, const char *id,
			const hub_req *q, hub_resp *r)
{
	session_answer(a, s, r);
}

static void users(hub_api *a, const hub_session_info *s, const char *id,
		  const hub_req *q, hub_resp *r)
{
	json_text(r, 200, fl_db_users_json(a->db));
}

static void quarantine(hub_api *a, const hub_session_info *s, const char *id,
		       const hub_req *q, hub_resp *r)
{
	int limit, offset;

	if (!paging(q, r, &limit, &offset))
		json_text(r, 200, fl_db_quarantine_json(a->db, limit, offset));
}

static void audit(hub_api *a, const hub_session_info *s, const char *id,
		  const hub_req *q, hub_resp *r)
{
	int limit, offset;

	if (!paging(q, r, &limit, &offset))
		json_text(r, 200, fl_db_audit_json(a->db, NULL, limit, offset));
}

/*
 * The API's routes. pattern is the path after "/api/", segment by segment;
 * "*" matches one segment, handed to the handler as id (an incident id or
 * a user name: the handler checks it). admin: only admins (403 for the
 * others). A path that matches with another method answers 405. Checks
 * that depend on the thing (an incident's site: 404 before 403) are the
 * handler's. POST /api/login is answered before this table: it is the one
 * route without a session or CSRF token.
 */
typedef void (*route_fn)(hub_api *a, const hub_session_info *s,
			 const char *id, const hub_req *q, hub_resp *r);

static const struct route {
	const char *method, *pattern;
	int admin;
	route_fn fn;
} routes[] = {
	{"POST", "logout", 0, logout},
	{"GET", "session", 0, get_session},
	{"GET", "incidents", 0, incidents},
	{"GET", "incidents/*", 0, incident},
	{"POST", "incidents/*/outcome", 0, outcome},
	{"GET", "incidents/*/audit", 0, incident_audit},
	{"GET", "incidents/*/export", 0, export_zip},
	{"GET", "reports", 0, reports},
	{"GET", "reports.csv", 0, reports_csv},
	{"GET", "sites", 0, sites},
	{"GET", "devices", 0, devices},
	{"POST", "devices", 1, enrol},
	{"GET", "users", 1, users},
	{"POST", "users", 1, user_add},
	{"DELETE", "users/*", 1, user_delete},
	{"GET", "quarantine", 1, quarantine},
	{"GET", "audit", 1, audit},
};

/* 1 when path (segments, no leading '/') matches pattern; *id gets the
 * segment "*" matched (pointing into idbuf). */
static int route_match(const char *pattern, const char *path, char *idbuf,
		       size_t idlen, const char **id)
{
	*id = NULL;
	while (*pattern && *path) {
		size_t pl = strcspn(pattern, "/"), sl = strcspn(path, "/");

		if (pl == 1 && *pattern == '*') {
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

static void api(hub_api *a, const hub_session_info *s, const hub_req *q,
		hub_resp *r)
{
	const char *path = q->path + 5; /* after "/api/" */
	int write = !strcmp(q->method, "POST") || !strcmp(q->method, "DELETE");
	char idbuf[256];
	const char *id;
	int path_known = 0;

	r->no_store = 1;
	if (!strcmp(path, "login")) {
		if (!is(q, "POST"))
			error(r, 405, "use POST");
		else
			login(a, q, r);
		return;
	}
	if (!s) {
		error(r, 401, "not logged in");
		return;
	}
	if (write && !hub_csrf_ok(s, q->csrf)) {
		error(r, 403, "missing or wrong X-CSRF-Token");
		return;
	}
	if (q->body_too_large) {
		error(r, 413, "body too large (64 KiB at most)");
		return;
	}
	for (size_t i = 0; i < FL_ARRAY_SIZE(routes); i++) {
		const struct route *rt = &routes[i];

		if (!route_match(rt->pattern, path, idbuf, sizeof(idbuf), &id))
			continue;
		path_known = 1;
		if (!is(q, rt->method))
			continue;
		if (rt->admin && need_role(s, r, 0))
			return;
		rt->fn(a, s, id, q, r);
		return;
	}
	if (path_known)
		error(r, 405, "method not allowed");
	else
		error(r, 404, "no such endpoint");
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
		s = &sess;
	if (!strncmp(p, "/api/", 5)) {
		api(a, s, q, r);
	} else if (!strncmp(p, "/evidence/", 10)) {
		char seg[3][256];
		int n = segments(p + 10, seg);

		r->no_store = 1;
		if (!is(q, "GET"))
			error(r, 405, "use GET");
		else if (!s)
			to_login(p, r);
		else if (n != 2)
			error(r, 404, "no such file");
		else
			evidence(a, s, seg[0], seg[1], q, r);
	} else if (!strncmp(p, "/static/", 8)) {
		const struct hub_asset *x = asset(p + 8);

		if (!is(q, "GET"))
			error(r, 405, "use GET");
		else if (!x)
			error(r, 404, "no such file");
		else
			serve_asset(x, q, r);
	} else if (ui_route(p)) {
		const struct hub_asset *x = asset("index.html");

		if (!is(q, "GET"))
			error(r, 405, "use GET");
		else if (!s && strcmp(p, "/login"))
			to_login(p, r);
		else if (!x)
			error(r, 404, "the web UI is not built in");
		else
			serve_asset(x, q, r);
	} else {
		error(r, 404, "not found");
	}
	sodium_memzero(&sess, sizeof(sess));
}
