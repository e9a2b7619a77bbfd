/*
 * api_incidents.c - incidents (docs/api.md): the list, one incident, its
 * outcome and audit trail, and its evidence files (with Range, so the clip
 * plays in a browser; each checked against its recorded SHA-256 first,
 * intact.c). Each checks the incident's site first
 * (api__incident_visible, api_roles.c).
 */
#include "api_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fl.h"
#include "httpparse.h"
#include "intact.h"

/* ---- incidents ----------------------------------------------------------- */

static int query_time(const hub_req *q, const char *name, int tz, int end,
		      double *out, hub_resp *r)
{
	const char *v = api__arg(q, name);
	int is_date = 0;
	char why[96];

	if (!v)
		return 0;
	if (hub_date_parse(v, tz, out, &is_date)) {
		snprintf(why, sizeof(why),
			 "%s: expected YYYY-MM-DD or unix "
			 "seconds",
			 name);
		api__error(r, 400, why);
		return -1;
	}
	if (end && is_date)
		*out += 86400; /* a date "to" means the end of that day */
	return 0;
}

void api__incidents(hub_api *a, const hub_session_info *s, const char *id,
		    const hub_req *q, hub_resp *r)
{
	fl_db_filter f;
	int tz = a->conf->tz_offset_s;

	memset(&f, 0, sizeof(f));
	f.site = api__arg(q, "site");
	f.lane = api__arg(q, "lane");
	f.status = api__arg(q, "status");
	f.outcome = api__arg(q, "outcome");
	f.plate = api__arg(q, "plate");
	f.limit = 50;
	if (hub_query_int(api__arg(q, "limit"), 1, 1000, &f.limit) ||
	    hub_query_int(api__arg(q, "offset"), 0, 100000000, &f.offset)) {
		api__error(r, 400, "limit: 1..1000, offset: 0 or more");
		return;
	}
	if (query_time(q, "from", tz, 0, &f.from_wall, r) ||
	    query_time(q, "to", tz, 1, &f.to_wall, r))
		return;
	f.sites_csv_allowed = api__allowed_sites(s);
	api__json_text(r, 200, fl_db_incidents_json(a->db, &f));
}

void api__incident(hub_api *a, const hub_session_info *s, const char *id,
		   const hub_req *q, hub_resp *r)
{
	char site[256];

	if (api__incident_visible(a, s, id, r, site, sizeof(site)))
		return;
	fl_db_audit(a->db, s->user, "incident_view", id, NULL, q->now);
	{
		char *t = fl_db_incident_json(a->db, id);
		json_t *o = t ? json_loads(t, 0, NULL) : NULL;

		free(t);
		if (!o) {
			api__error(r, 500, "the store failed");
			return;
		}
		api__incident_owner(a, s, o);
		api__json_obj(r, 200, o);
	}
}

void api__outcome(hub_api *a, const hub_session_info *s, const char *id,
		  const hub_req *q, hub_resp *r)
{
	static const char *const names[] = { "outcome", "note" };
	char site[256], err[256], *f[2];
	int rc;

	if (api__incident_visible(a, s, id, r, site, sizeof(site)))
		return;
	if (hub_json_fields(q->body, q->body_len, names, 2, f) || !f[0]) {
		hub_fields_free(f, 2);
		api__error(r, 400, "expected {\"outcome\", \"note\"}");
		return;
	}
	if (api__is_property(s) &&
	    (!strcmp(f[0], "fined") || !strcmp(f[0], "towed"))) {
		api__error(r, 403,
			   "a property manager may record persuaded, "
			   "false_alarm or other");
		goto out;
	}
	rc = fl_db_outcome_set(a->db, id, f[0], f[1] ? f[1] : "", s->user,
			       q->now, err, sizeof(err));
	if (rc == FL_EINVAL)
		api__error(r, 400, err);
	else if (rc == FL_ENOENT)
		api__error(r, 404, "no such incident");
	else if (rc)
		api__error(r, 500, "the store failed");
	else
		api__json_text(r, 200, fl_db_incident_json(a->db, id));
out:
	hub_fields_free(f, 2);
}

/* The plate a person reads off the evidence (or clears with ""): every
 * role that sees the incident may; a device's read never overwrites it. */
void api__plate(hub_api *a, const hub_session_info *s, const char *id,
		const hub_req *q, hub_resp *r)
{
	static const char *const names[] = { "plate" };
	char site[256], err[256], *f[1];
	int rc;

	if (api__incident_visible(a, s, id, r, site, sizeof(site)))
		return;
	if (hub_json_fields(q->body, q->body_len, names, 1, f) || !f[0]) {
		hub_fields_free(f, 1);
		api__error(r, 400, "expected {\"plate\"}");
		return;
	}
	rc = fl_db_plate_set(a->db, id, f[0], s->user, q->now, err,
			     sizeof(err));
	if (rc == FL_EINVAL)
		api__error(r, 400, err);
	else if (rc == FL_ENOENT)
		api__error(r, 404, "no such incident");
	else if (rc)
		api__error(r, 500, "the store failed");
	else
		api__json_text(r, 200, fl_db_incident_json(a->db, id));
	hub_fields_free(f, 1);
}

void api__incident_audit(hub_api *a, const hub_session_info *s, const char *id,
			 const hub_req *q, hub_resp *r)
{
	char site[256];
	int limit, offset;

	if (api__incident_visible(a, s, id, r, site, sizeof(site)) ||
	    api__need_role(s, r, 1) || api__paging(q, r, &limit, &offset))
		return;
	api__json_text(r, 200, fl_db_audit_json(a->db, id, limit, offset));
}

/* ---- evidence files ---------------------------------------------------- */

static const char *content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} t[] = {
		{ ".jpg", "image/jpeg" },
		{ ".jpeg", "image/jpeg" },
		{ ".png", "image/png" },
		{ ".mp4", "video/mp4" },
		{ ".json", "application/json" },
		{ ".sig", "text/plain; charset=utf-8" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < FL_ARRAY_SIZE(t); i++)
		if (!strcasecmp(dot, t[i].ext))
			return t[i].type;
	return "application/octet-stream";
}

/* Served only while it is the file recorded when its bundle arrived
 * (intact.c): a tampered one answers 410 to everyone, admins included -
 * its bytes stay on disk for whoever investigates, but the hub never hands
 * them out as evidence. */
void api__evidence(hub_api *a, const hub_session_info *s, const char *id,
		   const char *name, const hub_req *q, hub_resp *r)
{
	char site[256], key[600], why[600], how[128];
	enum hub_evstate state;
	long long first, last;
	struct stat st;
	int fd, rg;

	if (api__incident_visible(a, s, id, r, site, sizeof(site)))
		return;
	if (!hub_plain_name(name)) {
		api__error(r, 404, "no such file");
		return;
	}
	hub_fmt(how, sizeof(how), "while serving it to %s", s->user);
	if (hub_intact_open(a->intact, a->conf->evidence_dir, a->db, id, name,
			    how, q->now, &fd, NULL, &state, why, sizeof(why))) {
		fl_log(FL_LOG_ERROR, TAG, "evidence %s/%s: %s", id, name, why);
		api__error(r, 500, "the evidence file cannot be checked");
		return;
	}
	if (state == HUB_EV_TAMPERED) {
		api__error(r, 410, why);
		return;
	}
	if (state != HUB_EV_OK || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		api__error(r, 404, "no such file");
		return;
	}
	rg = hub_range_parse(q->range, (long long)st.st_size, &first, &last);
	if (rg < 0) {
		close(fd);
		api__header(r, "Content-Range", "bytes */%lld",
			    (long long)st.st_size);
		api__error(r, 416, "range not satisfiable");
		return;
	}
	hub_fmt(key, sizeof(key), "%s/%s", id, name);
	if (hub_session_first_view(a->sessions, s->id, key))
		fl_db_audit(a->db, s->user, "evidence_view", id, name, q->now);
	r->fd = fd;
	r->ctype = content_type(name);
	api__header(r, "Accept-Ranges", "bytes");
	if (rg > 0) {
		r->status = 206;
		r->offset = first;
		r->flen = last - first + 1;
		api__header(r, "Content-Range", "bytes %lld-%lld/%lld", first,
			    last, (long long)st.st_size);
	} else {
		r->status = 200;
		r->offset = 0;
		r->flen = (long long)st.st_size;
	}
	r->no_store = 1;
}
