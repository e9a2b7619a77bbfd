/*
 * api_enrol.c - enrolment by one-time code (docs/api.md, "Enrolment"):
 * the codes (admins', installers') and the device's POST /api/enrol.
 *
 * An admin or an installer names a device and its site and gets a code
 * (and its QR code); an installer only for its own sites, and not for a
 * device enrolled on a site it may not see (the code would move that
 * device to its site). An installer lists and revokes the codes of its
 * sites only; other roles make none (403). The installer then runs
 * `firelane-edge --enrol HUB_URL CODE` on the device, which posts the
 * code and its public key here. The hub then, in this order: takes the
 * code (used, by that key) and enrols the key in one store transaction
 * (src/store/enrol.c), so a code enrols one key once however many
 * requests race; makes the device's broker account with a fresh password
 * (enrolcode.c); and answers what the device must know to start: its id
 * and site, the broker, its account and the hub's key. A broker that
 * does not take the account gives the code back (the installer can try
 * again) and answers 503 with the reason.
 *
 * POST /api/enrol has no session: the code is the credential. Like the
 * login it is throttled per address, under the pseudo-name "#enrol" (a
 * count of its own, apart from the address's logins: api__throttle_wait),
 * with the counts in the store, and a
 * wrong, used or expired code counts as a failure. A device is not a
 * browser: no Origin check is needed (no cookie is involved), but the
 * body must be JSON.
 */
#include "api_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "enrolcode.h"
#include "fl.h"
#include "httpparse.h"
#include "sign.h"

/* The throttle's name for enrolment attempts (no user name has a '#'
 * first: src/store/username.c). */
#define ENROL_THROTTLE "#enrol"

/* The QR code's text: what a phone or the edge reads to enrol. */
static void enrol_uri(const hub_api *a, const char *code, char *buf, size_t len)
{
	snprintf(buf, len, "firelane-enrol:%s?code=%s", a->conf->public_url,
		 code);
}

/* Whether device may be enrolled by code: not one of the broker's own
 * accounts (the hub's, the account manager's), whose rules in the ACL
 * are not a device's. */
static int device_name_free(const hub_conf *c, const char *device)
{
	return strcmp(device, c->mqtt.username) &&
	       strcmp(device, c->enrol.admin_username);
}

/* Whether the session may handle enrolment codes at all: admins and
 * installers (403 answered for the others). */
static int codes_allowed(const hub_session_info *s, hub_resp *r)
{
	if (api__is_installer(s))
		return 1;
	return !api__need_role(s, r, 0);
}

/* Whether the session may make a code for device on site: an installer
 * only on its sites, and only for a device that is new or already on one
 * of them (403 answered otherwise). */
static int code_allowed(hub_api *a, const hub_session_info *s,
			const char *device, const char *site, hub_resp *r)
{
	char old[300];

	if (!api__may_see(s, site)) {
		api__error(r, 403, "site: not one of your sites");
		return 0;
	}
	if (fl_db_device_get(a->db, device, old, sizeof(old), NULL, 0) == 0 &&
	    !api__may_see(s, old)) {
		api__error(r, 403,
			   "device: enrolled on a site that is not yours");
		return 0;
	}
	return 1;
}

void api__enrol_code_add(hub_api *a, const hub_session_info *s, const char *id,
			 const hub_req *q, hub_resp *r)
{
	static const char *const names[] = { "device", "site" };
	char *f[2], err[256], code[HUB_ENROL_CODE_LEN + 1], hash[65];
	char uri[HUB_URL + 64], *svg = NULL;
	double expires = q->now + a->conf->enrol.code_ttl_s;

	(void)id;
	if (!codes_allowed(s, r))
		return;
	if (hub_json_fields(q->body, q->body_len, names, 2, f) || !f[0] ||
	    !f[1]) {
		hub_fields_free(f, 2);
		api__error(r, 400, "expected {\"device\", \"site\"}");
		return;
	}
	if (!a->conf->enrol.admin_username[0]) {
		api__error(r, 409,
			   "enrolment by code is off: the hub makes no broker "
			   "accounts (enrol.admin_username)");
		goto out;
	}
	if (!hub_plain_name(f[1])) {
		api__error(r, 400, "site: 1-128 of [A-Za-z0-9_.-]");
		goto out;
	}
	if (!device_name_free(a->conf, f[0])) {
		api__error(r, 400,
			   "device: that name is one of the broker's "
			   "own accounts");
		goto out;
	}
	if (!code_allowed(a, s, f[0], f[1], r))
		goto out;
	hub_enrol_code_new(code);
	hub_enrol_hash(code, hash);
	if (fl_db_enrol_code_add(a->db, hash, f[0], f[1], q->now, expires,
				 s->user, err, sizeof(err))) {
		api__error(r, 400, err);
		goto out;
	}
	enrol_uri(a, code, uri, sizeof(uri));
	svg = hub_qr_svg(uri);
	fl_db_audit(a->db, s->user, "enrol_code", f[0], f[1], q->now);
	api__json_obj(r, 200,
		      json_pack("{s:s,s:s,s:s,s:f,s:s,s:s?}", "device", f[0],
				"site", f[1], "code", code, "expires", expires,
				"url", uri, "qr_svg", svg));
out:
	free(svg);
	sodium_memzero(code, sizeof(code));
	hub_fields_free(f, 2);
}

void api__enrol_codes(hub_api *a, const hub_session_info *s, const char *id,
		      const hub_req *q, hub_resp *r)
{
	(void)id;
	if (codes_allowed(s, r))
		api__json_text(r, 200,
			       fl_db_enrol_codes_json(a->db, q->now,
						      api__allowed_sites(s)));
}

void api__enrol_code_revoke(hub_api *a, const hub_session_info *s,
			    const char *id, const hub_req *q, hub_resp *r)
{
	char *end;
	long long n = strtoll(id, &end, 10);

	if (!codes_allowed(s, r))
		return;
	/* another site's code answers as one that does not exist */
	if (*end || n <= 0 ||
	    fl_db_enrol_code_revoke(a->db, n, api__allowed_sites(s))) {
		api__error(r, 404, "no such pending code");
		return;
	}
	fl_db_audit(a->db, s->user, "enrol_code_revoke", id, NULL, q->now);
	api__json_text(r, 200, strdup("{}"));
}

/* The device's answer: its id and site, the broker and its account, the
 * hub's key. NULL when the hub key cannot be read (err says why). */
static json_t *enrol_answer(hub_api *a, const char *device, const char *site,
			    const char *password, char *err, size_t errlen)
{
	const hub_conf *c = a->conf;
	const hub_enrol_conf *e = &c->enrol;
	char path[HUB_PATH + 16], b64[FL_KEY_B64_LEN];
	fl_key key;
	int created = 0, tls;

	hub_conf_key_path(c, path, sizeof(path));
	if (fl_key_load_or_create(path, &key, &created, err, errlen) < 0)
		return NULL;
	fl_key_public_b64(&key, b64, sizeof(b64));
	fl_key_wipe(&key);
	tls = !strcmp(e->mqtt_tls, "on") ||
	      (!strcmp(e->mqtt_tls, "auto") && c->mqtt.tls_ca[0]);
	return json_pack("{s:s,s:s,s:{s:s,s:i,s:b,s:s,s:s},s:s}", "device",
			 device, "site", site, "mqtt", "host",
			 e->mqtt_host[0] ? e->mqtt_host : c->mqtt.host, "port",
			 e->mqtt_port ? e->mqtt_port : c->mqtt.port, "tls", tls,
			 "username", device, "password", password, "hub_key",
			 b64);
}

void api__enrol_redeem(hub_api *a, const hub_req *q, hub_resp *r)
{
	static const char *const names[] = { "code", "public_key" };
	const char *addr = q->addr ? q->addr : "?";
	char *f[2] = { NULL, NULL }, code[HUB_ENROL_CODE_LEN + 1], hash[65];
	char device[128], site[300], err[512], pw[48], detail[512];
	unsigned char pk[32];
	json_t *ans;
	int wait, rc;

	if (q->body_too_large) {
		api__error(r, 413, "body too large");
		return;
	}
	if (!hub_ctype_json(q->ctype)) {
		api__error(r, 415,
			   "enrolment takes Content-Type: "
			   "application/json");
		return;
	}
	wait = api__throttle_wait(a, ENROL_THROTTLE, addr, q->now);
	if (wait > 0) {
		api__header(r, "Retry-After", "%d", wait);
		api__error(r, 429,
			   "too many enrolment attempts; try again "
			   "later");
		return;
	}
	if (hub_json_fields(q->body, q->body_len, names, 2, f) || !f[0] ||
	    !f[1]) {
		api__error(r, 400, "expected {\"code\", \"public_key\"}");
		goto out;
	}
	/* the key first: a request with a bad key learns nothing of the
	 * code (no oracle outside the throttle) */
	if (fl_key_public_from_b64(f[1], pk)) {
		api__error(r, 400,
			   "public_key: not a base64 Ed25519 public key");
		goto out;
	}
	if (hub_enrol_code_norm(f[0], code)) {
		api__throttle_fail(a, ENROL_THROTTLE, addr, q->now);
		api__error(r, 404, "no such enrolment code");
		goto out;
	}
	hub_enrol_hash(code, hash);
	rc = fl_db_enrol_redeem(a->db, hash, f[1], q->now, device,
				sizeof(device), site, sizeof(site), err,
				sizeof(err));
	if (rc == FL_ENOENT || rc == FL_EEXIST || rc == FL_ERANGE) {
		api__throttle_fail(a, ENROL_THROTTLE, addr, q->now);
		fl_log(FL_LOG_INFO, TAG, "enrolment refused from %s: %s", addr,
		       err);
		api__error(r, rc == FL_ENOENT ? 404 : 410, err);
		goto out;
	}
	if (rc == FL_EINVAL) {
		api__error(r, 400, err);
		goto out;
	}
	if (rc) {
		api__error(r, 500, err);
		goto out;
	}
	hub_enrol_password(pw, sizeof(pw));
	if ((rc = hub_enrol_broker_account(a->conf, device, pw, err,
					   sizeof(err))) ||
	    !(ans = enrol_answer(a, device, site, pw, err, sizeof(err)))) {
		/* the code is given back: the installer may try again */
		fl_db_enrol_release(a->db, hash);
		fl_log(FL_LOG_ERROR, TAG, "enrolment of %s: %s", device, err);
		api__error(r, 503, err);
		goto out;
	}
	fl_db_login_reset(a->db, ENROL_THROTTLE, addr, NULL);
	snprintf(detail, sizeof(detail), "site %s, by one-time code from %s",
		 site, addr);
	fl_db_audit(a->db, "enrol-code", "device_enrol", device, detail,
		    q->now);
	api__json_obj(r, 200, ans);
out:
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(code, sizeof(code));
	hub_fields_free(f, 2);
}
