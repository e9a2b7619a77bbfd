/*
 * api_internal.h - what the files of the hub's web answers share; not part
 * of the API (api.h). api__ names are internal to src/hub.
 *
 *   api.c            the router, the answers' helpers, the web UI's files
 *   api_roles.c      who may see what; login, logout, the session
 *   api_incidents.c  the incident list, one incident, its outcome and
 *                    audit, its evidence files
 *   api_export.c     an incident's case package (ZIP)
 *   api_reports.c    reports, JSON and CSV
 *   api_admin.c      the fleet, the hub's own state, users, the
 *                    quarantine, the audit trail
 *   api_locale.c     the web UI's language and time zone
 *   api_stills.c     the alarm still: the list's thumbnail, the alerts'
 *                    picture behind a signed link
 *   api_enrol.c      enrolment by one-time code: the admin's codes, the
 *                    device's POST /api/enrol
 *   api_devices.c    a device's configuration (the lane editor), its
 *                    cameras' snapshots, the lane table
 */
#ifndef FL_HUB_API_INTERNAL_H
#define FL_HUB_API_INTERNAL_H

#include <stddef.h>

#include <jansson.h>

#include "api.h"

#define TAG "http"

/* ---- api.c: answers -------------------------------------------------------- */

/* A response header (at most HUB_RESP_HEADERS; more are dropped). */
void api__header(hub_resp *r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A JSON answer; takes text (malloc'd; NULL means the store failed). */
void api__json_text(hub_resp *r, int status, char *text);

/* A JSON answer from o (its reference is taken). */
void api__json_obj(hub_resp *r, int status, json_t *o);

/* {"error": why, "code": a machine code for status} with status. */
void api__error(hub_resp *r, int status, const char *why);

/* Whether q is method (HEAD counts as GET). */
int api__is(const hub_req *q, const char *method);

/* A query parameter's value, NULL when absent or empty. */
const char *api__arg(const hub_req *q, const char *name);

/* o's member k as a number (0 when absent). */
long long api__num(json_t *o, const char *k);

/* limit (1..1000, default 50) and offset (>= 0) from the query: 0, or
 * -1 with 400 answered. */
int api__paging(const hub_req *q, hub_resp *r, int *limit, int *offset);

/* ---- api_roles.c: who may see what ----------------------------------------- */

/* Whether the session is an installer's (limited to its sites, and to the
 * fleet and the devices' pages). */
int api__is_installer(const hub_session_info *s);

/* 1 when s may use the route of pattern (an installer only the fleet's and
 * the devices'), else 0 with 403 answered. */
int api__installer_may(const hub_session_info *s, const char *pattern,
		       hub_resp *r);

/* Whether the session is a property manager's (limited to its sites). */
int api__is_property(const hub_session_info *s);

/* Whether site is one of the comma list csv. */
int api__site_listed(const char *csv, const char *site);

/* Whether s may see something of site. */
int api__may_see(const hub_session_info *s, const char *site);

/* The incident's site into site when s may see it: 0, or -1 with 404
 * answered (the same as for an incident that does not exist). */
int api__incident_visible(hub_api *a, const hub_session_info *s, const char *id,
			  hub_resp *r, char *site, size_t sitelen);

/* The sites a list is limited to for s (NULL: all). */
const char *api__allowed_sites(const hub_session_info *s);

/* 0 when s is an admin (or, with enforcement, an enforcement officer),
 * else -1 with 403 answered. */
int api__need_role(const hub_session_info *s, hub_resp *r, int enforcement);

/* A comma list as a JSON array of its non-empty names. */
json_t *api__sites_array(const char *csv);

/* The session's answer: csrf, user, role, sites, tz_offset_s, time_zone. */
void api__session_answer(hub_api *a, const hub_session_info *s, hub_resp *r);

/* GET /api/locale (api_locale.c), without a session: the language the
 * page speaks and the zone it shows times in. */
void api__locale(hub_api *a, const hub_req *q, hub_resp *r);

/* GET /pictures/<id>/<file>: an alert's picture by its signed link
 * (api_stills.c), without a session. */
void api__picture(hub_api *a, const char *id, const char *file,
		  const hub_req *q, hub_resp *r);

/* The login throttle (api_roles.c, session.h), also the enrolment's:
 * the seconds user (a name, or a pseudo-name of its own such as the
 * enrolment's "#enrol") must wait before trying again from addr, or 0;
 * and one more failure of user and, for a name, of addr. A pseudo-name
 * has its own count at an address, apart from the logins'. */
int api__throttle_wait(hub_api *a, const char *user, const char *addr,
		       double now);
void api__throttle_fail(hub_api *a, const char *user, const char *addr,
			double now);

/* POST /api/enrol (api_enrol.c): a device enrols itself with a one-time
 * code; no session (the code is the credential), throttled like login. */
void api__enrol_redeem(hub_api *a, const hub_req *q, hub_resp *r);

/* POST /api/login: the one route without a session. */
void api__login(hub_api *a, const hub_req *q, hub_resp *r);

/* Route handlers (api.c's table): id is the path's "*" segment (or
 * NULL); they answer into r, errors included. */
void api__logout(hub_api *a, const hub_session_info *s, const char *id,
		 const hub_req *q, hub_resp *r);
void api__get_session(hub_api *a, const hub_session_info *s, const char *id,
		      const hub_req *q, hub_resp *r);
void api__incidents(hub_api *a, const hub_session_info *s, const char *id,
		    const hub_req *q, hub_resp *r);
void api__incident(hub_api *a, const hub_session_info *s, const char *id,
		   const hub_req *q, hub_resp *r);
void api__outcome(hub_api *a, const hub_session_info *s, const char *id,
		  const hub_req *q, hub_resp *r);
void api__plate(hub_api *a, const hub_session_info *s, const char *id,
		const hub_req *q, hub_resp *r);

/* ---- api_register.c: the resident vehicle register ------------------------- */

/* GET: the site's register, phones masked; POST: a CSV import replacing
 * it (hub_register_parse; all or nothing). Admins and the site's property
 * managers. */
void api__register(hub_api *a, const hub_session_info *s, const char *site,
		   const hub_req *q, hub_resp *r);
/* The owner of incident o's vehicle ({name, unit, phone_masked}) into o
 * as "owner", when s may see register data and the plate is registered
 * at the incident's site; else o unchanged. */
void api__incident_owner(hub_api *a, const hub_session_info *s, json_t *o);
/* The owner's phone in full, audited "phone_reveal". */
void api__owner_phone(hub_api *a, const hub_session_info *s, const char *id,
		      const hub_req *q, hub_resp *r);
void api__incident_audit(hub_api *a, const hub_session_info *s, const char *id,
			 const hub_req *q, hub_resp *r);
void api__export_zip(hub_api *a, const hub_session_info *s, const char *id,
		     const hub_req *q, hub_resp *r);
void api__still(hub_api *a, const hub_session_info *s, const char *id,
		const hub_req *q, hub_resp *r);
void api__reports(hub_api *a, const hub_session_info *s, const char *id,
		  const hub_req *q, hub_resp *r);
void api__reports_csv(hub_api *a, const hub_session_info *s, const char *id,
		      const hub_req *q, hub_resp *r);
void api__devices(hub_api *a, const hub_session_info *s, const char *id,
		  const hub_req *q, hub_resp *r);
void api__sites(hub_api *a, const hub_session_info *s, const char *id,
		const hub_req *q, hub_resp *r);
void api__hub(hub_api *a, const hub_session_info *s, const char *id,
	      const hub_req *q, hub_resp *r);
/* GET /metrics: the counters in the Prometheus text format, to a scraper
 * with http.metrics_token (or, without one, on this machine); no session. */
void api__metrics(hub_api *a, const hub_req *q, hub_resp *r);
void api__enrol(hub_api *a, const hub_session_info *s, const char *id,
		const hub_req *q, hub_resp *r);
/* ---- api_enrol.c: the admin's enrolment codes ------------------------------ */
/* POST: a new code {device, site} -> {code, expires, url, qr_svg, ...};
 * GET: the pending codes; DELETE .../ID: one revoked. */
void api__enrol_code_add(hub_api *a, const hub_session_info *s, const char *id,
			 const hub_req *q, hub_resp *r);
void api__enrol_codes(hub_api *a, const hub_session_info *s, const char *id,
		      const hub_req *q, hub_resp *r);
void api__enrol_code_revoke(hub_api *a, const hub_session_info *s,
			    const char *id, const hub_req *q, hub_resp *r);
void api__user_add(hub_api *a, const hub_session_info *s, const char *id,
		   const hub_req *q, hub_resp *r);
void api__user_delete(hub_api *a, const hub_session_info *s, const char *name,
		      const hub_req *q, hub_resp *r);
void api__users(hub_api *a, const hub_session_info *s, const char *id,
		const hub_req *q, hub_resp *r);
void api__quarantine(hub_api *a, const hub_session_info *s, const char *id,
		     const hub_req *q, hub_resp *r);
void api__audit(hub_api *a, const hub_session_info *s, const char *id,
		const hub_req *q, hub_resp *r);

/* ---- api_devices.c: devices' configurations, snapshots -------------------- */

/* The device's site into site when s may edit it (admin, or an installer
 * of its site): 0; else -1 with 403 (another role) or 404 answered. */
int api__device_visible(hub_api *a, const hub_session_info *s, const char *id,
			hub_resp *r, char *site, size_t sitelen);
void api__device_config(hub_api *a, const hub_session_info *s, const char *id,
			const hub_req *q, hub_resp *r);
void api__device_config_apply(hub_api *a, const hub_session_info *s,
			      const char *id, const hub_req *q, hub_resp *r);
/* What an apply the hub sent and stopped waiting for (it stopped) ends
 * as, unless the device's heartbeat says it runs that version. */
#define HUB_APPLY_UNANSWERED "no answer (hub restarted)"

void api__snapshot(hub_api *a, const hub_session_info *s, const char *id,
		   const hub_req *q, hub_resp *r);
void api__snapshot_file(hub_api *a, const hub_session_info *s, const char *id,
			const hub_req *q, hub_resp *r);
void api__schema_lane(hub_api *a, const hub_session_info *s, const char *id,
		      const hub_req *q, hub_resp *r);
void api__lanes_check(hub_api *a, const hub_session_info *s, const char *id,
		      const hub_req *q, hub_resp *r);

/* GET /evidence/<id>/<name>: one evidence file, Range supported. */
void api__evidence(hub_api *a, const hub_session_info *s, const char *id,
		   const char *name, const hub_req *q, hub_resp *r);

#endif /* FL_HUB_API_INTERNAL_H */
