/*
 * api_roles.c - who may see what; login, logout and the session.
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
 * An installer (a contractor setting devices up) is scoped to its sites
 * like a property manager, and sees only the fleet and the devices'
 * pages: never an incident, its evidence, the register or a phone number
 * (docs/api.md, "Roles"). The router refuses every other route to it
 * (api__installer_may), and an incident's own check refuses it too, so
 * the evidence files (served outside the route table) stay closed.
 *
 * Login has no session yet, so no CSRF token. Instead it takes only JSON
 * (a form on another site cannot send that) and refuses an Origin or
 * Referer of another site, so no page can log a browser into an account
 * of its choosing. It is throttled per (user name, address) and per
 * address (session.h), with the counts in the store: a guesser slows down
 * only itself, never the right password from elsewhere. The address is the
 * client's (q->addr: behind a trusted reverse proxy, from its
 * X-Forwarded-For; http.c), and the audit's login rows name it as their
 * object.
 */
#include "api_internal.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "fl.h"
#include "httpparse.h"

/* ---- who may see what --------------------------------------------------- */

int api__is_property(const hub_session_info *s)
{
	return !strcmp(s->role, "property");
}

int api__is_installer(const hub_session_info *s)
{
	return !strcmp(s->role, "installer");
}

int api__installer_may(const hub_session_info *s, const char *pattern,
		       hub_resp *r)
{
	static const char *const open[] = { "logout",     "session",
					    "sites",      "devices",
					    "hub",        "schema/lane",
					    "lanes/check" };

	if (!api__is_installer(s) || !strncmp(pattern, "devices/", 8))
		return 1;
	for (size_t i = 0; i < FL_ARRAY_SIZE(open); i++)
		if (!strcmp(pattern, open[i]))
			return 1;
	api__error(r, 403, "not allowed for your role");
	return 0;
}

int api__site_listed(const char *csv, const char *site)
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

int api__may_see(const hub_session_info *s, const char *site)
{
	return !(api__is_property(s) || api__is_installer(s)) ||
	       (site && api__site_listed(s->sites, site));
}

/* The incident's site if the user may see it: 0, or 404 answered. */
int api__incident_visible(hub_api *a, const hub_session_info *s, const char *id,
			  hub_resp *r, char *site, size_t sitelen)
{
	if (api__is_installer(s)) {
		api__error(r, 403, "not allowed for your role");
		return -1;
	}
	if (!hub_plain_name(id) ||
	    fl_db_incident_site(a->db, id, site, sitelen) ||
	    !api__may_see(s, site)) {
		api__error(r, 404, "no such incident");
		return -1;
	}
	return 0;
}

const char *api__allowed_sites(const hub_session_info *s)
{
	return api__is_property(s) || api__is_installer(s) ? s->sites : NULL;
}

int api__need_role(const hub_session_info *s, hub_resp *r, int enforcement)
{
	if (!strcmp(s->role, "admin") ||
	    (enforcement && !strcmp(s->role, "enforcement")))
		return 0;
	api__error(r, 403, "not allowed for your role");
	return -1;
}

/* ---- login, session ------------------------------------------------------ */

json_t *api__sites_array(const char *csv)
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

void api__session_answer(hub_api *a, const hub_session_info *s, hub_resp *r)
{
	const char *tz = a->conf->tz_name;

	api__json_obj(r, 200,
		      json_pack("{s:s,s:s,s:s,s:o,s:i,s:o}", "csrf", s->csrf,
				"user", s->user, "role", s->role, "sites",
				api__sites_array(s->sites), "tz_offset_s",
				a->conf->tz_offset_s, "time_zone",
				tz[0] ? json_string(tz) : json_null()));
}

/* The seconds user must wait before trying from addr (the longer of its
 * (user, address) wait and the address's), or 0. A store that cannot say
 * refuses nobody: the throttle is no reason to lock everyone out. */
/* A pseudo-name ("#enrol": no user name has a '#' first) is counted
 * alone: its failures are not the address's logins', nor the other way
 * round, so a mistyped enrolment code never holds a person's login. */
static int pseudo_name(const char *user)
{
	return user[0] == '#';
}

int api__throttle_wait(hub_api *a, const char *user, const char *addr,
		       double now)
{
	int n = 0, m = 0;
	double last = 0, alast = 0;

	if (fl_db_login_failures(a->db, user, addr, &n, &last) ||
	    (!pseudo_name(user) &&
	     fl_db_login_failures(a->db, "", addr, &m, &alast)))
		return 0;
	return FL_MAX(hub_login_wait(n, last, now, HUB_LOGIN_FREE,
				     HUB_LOGIN_FORGET_S),
		      hub_login_wait(m, alast, now, HUB_LOGIN_ADDR_FREE,
				     HUB_LOGIN_ADDR_FORGET_S));
}

void api__throttle_fail(hub_api *a, const char *user, const char *addr,
			double now)
{
	fl_db_login_fail(a->db, user, addr, now, HUB_LOGIN_FORGET_S);
	if (!pseudo_name(user))
		fl_db_login_fail(a->db, "", addr, now, HUB_LOGIN_ADDR_FORGET_S);
}

void api__login(hub_api *a, const hub_req *q, hub_resp *r)
{
	static const char *const names[] = { "user", "password" };
	char *f[2] = { NULL, NULL }, role[32], sites[HUB_SITES_LEN];
	char user[4 * 64 + 1]; /* the name as counted and audited */
	const char *addr = q->addr ? q->addr : "?";
	const char *src = q->origin ? q->origin : q->referer;
	hub_session_info s;
	double created = 0;
	int wait;

	if (q->body_too_large) {
		api__error(r, 413, "body too large");
		return;
	}
	/* login CSRF: a form cannot send JSON, and a page of another origin
	 * says so in Origin or Referer (docs/api.md, "Login") */
	if (!hub_ctype_json(q->ctype)) {
		api__error(r, 415,
			   "login takes Content-Type: application/json");
		return;
	}
	if (!hub_same_origin(src, q->host, a->conf->public_url)) {
		fl_log(FL_LOG_INFO, TAG, "login from another origin refused");
		api__error(r, 403, "login from another origin");
		return;
	}
	if (hub_json_fields(q->body, q->body_len, names, 2, f) || !f[0] ||
	    !f[1]) {
		hub_fields_free(f, 2);
		api__error(r, 400, "expected {\"user\", \"password\"}");
		return;
	}
	/* no user's name is longer (username.h): a longer one is cut so an
	 * attacker's names fill no disk */
	snprintf(user, sizeof(user), "%s", f[0]);
	wait = api__throttle_wait(a, user, addr, q->now);
	if (wait > 0) {
		api__header(r, "Retry-After", "%d", wait);
		api__error(r, 429, "too many login attempts; try again later");
		goto out;
	}
	if (fl_db_user_check(a->db, f[0], f[1], role, sizeof(role), sites,
			     sizeof(sites)) ||
	    fl_db_user_info(a->db, f[0], NULL, 0, NULL, 0, &created)) {
		api__throttle_fail(a, user, addr, q->now);
		fl_db_audit(a->db, user, "login", addr, "failed", q->now);
		fl_log(FL_LOG_INFO, TAG, "login failed from %s", addr);
		api__error(r, 401, "wrong user name or password");
		goto out;
	}
	fl_db_login_reset(a->db, user, addr, NULL);
	if (hub_session_new(a->sessions, f[0], role, sites, created, q->now,
			    &s)) {
		api__error(r, 500, "the session could not be stored");
		goto out;
	}
	fl_db_audit(a->db, f[0], "login", addr, "ok", q->now);
	api__header(r, "Set-Cookie",
		    "fl_session=%s; HttpOnly; SameSite=Strict; Path=/%s", s.id,
		    a->secure_cookies ? "; Secure" : "");
	api__session_answer(a, &s, r);
	sodium_memzero(&s, sizeof(s));
out:
	if (f[1])
		sodium_memzero(f[1], strlen(f[1]));
	hub_fields_free(f, 2);
}

void api__logout(hub_api *a, const hub_session_info *s, const char *id,
		 const hub_req *q, hub_resp *r)
{
	hub_session_end(a->sessions, s->id);
	api__header(
		r, "Set-Cookie",
		"fl_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0%s",
		a->secure_cookies ? "; Secure" : "");
	api__json_text(r, 200, strdup("{}"));
}

/* The answers that are one store call. */
void api__get_session(hub_api *a, const hub_session_info *s, const char *id,
		      const hub_req *q, hub_resp *r)
{
	api__session_answer(a, s, r);
}
