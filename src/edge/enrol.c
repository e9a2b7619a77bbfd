/*
 * enrol.c - firelane-edge --enrol (see enrol.h).
 *
 * A note on trust. The code is the device's one-time credential and the
 * answer carries its broker password and the hub's key (which decides
 * whose commands the edge obeys), so both must travel only to and from
 * the real hub: the request goes over HTTPS with the hub's certificate
 * verified (the system's CAs, or --ca FILE for a private CA), and plain
 * HTTP or an unverified certificate only when the installer says
 * --insecure. Nothing is written unless the whole answer is good, and
 * the configuration is replaced in one rename (src/util/file.h): a
 * failure at any step leaves the file as it was.
 *
 * The configuration file is the device's own, perhaps the packaged sample
 * (/etc/firelane/edge.yaml) with an operator's cameras already in: only
 * the keys the answer sets change (src/config/yamledit.h). The file may
 * not be complete before enrolment (no device id yet): the device key's
 * place (device.key_file) is then read from it with a placeholder id and
 * site.
 */
#include "enrol.h"

#include <curl/curl.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "fl.h"
#include "id.h"
#include "sign.h"
#include "yaml.h"
#include "yamledit.h"

#include "file.h"

#define ANSWER_MAX 65536
#define SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

/* ---- the answer ------------------------------------------------------------------ */

/* o's member k, a string of 1..len-1 bytes, into out: 0 or -1. */
static int member(json_t *o, const char *k, char *out, size_t len)
{
	const char *s = json_string_value(json_object_get(o, k));

	if (!s || !*s || strlen(s) >= len || strchr(s, '\n'))
		return -1;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

int edge_enrol_answer_parse(const char *json, size_t len, edge_enrol_answer *a,
			    char *err, size_t errlen)
{
	json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *m = json_object_get(j, "mqtt"), *port, *tls;
	unsigned char pk[32];
	const char *bad = NULL;

	memset(a, 0, sizeof(*a));
	port = json_object_get(m, "port");
	tls = json_object_get(m, "tls");
	if (!json_is_object(j))
		bad = "not a JSON object";
	else if (member(j, "device", a->device, sizeof(a->device)) ||
		 !fl_id_valid(a->device, FL_ID_MAX))
		bad = "device: not a device id";
	else if (member(j, "site", a->site, sizeof(a->site)))
		bad = "site";
	else if (!json_is_object(m))
		bad = "mqtt: not an object";
	else if (member(m, "host", a->host, sizeof(a->host)))
		bad = "mqtt.host";
	else if (!json_is_integer(port) || json_integer_value(port) < 1 ||
		 json_integer_value(port) > 65535)
		bad = "mqtt.port: not a port";
	else if (!json_is_boolean(tls))
		bad = "mqtt.tls: not true or false";
	else if (member(m, "username", a->username, sizeof(a->username)))
		bad = "mqtt.username";
	else if (member(m, "password", a->password, sizeof(a->password)))
		bad = "mqtt.password";
	else if (member(j, "hub_key", a->hub_key, sizeof(a->hub_key)) ||
		 fl_key_public_from_b64(a->hub_key, pk))
		bad = "hub_key: not a base64 Ed25519 public key";
	if (!bad) {
		a->port = (int)json_integer_value(port);
		a->tls = json_is_true(tls);
	}
	json_decref(j);
	if (bad) {
		sodium_memzero(a, sizeof(*a));
		fl_seterr(err, errlen, "the hub's answer is not understood: %s",
			  bad);
		return FL_EFORMAT;
	}
	return 0;
}

/* ---- HTTP ------------------------------------------------------------------------ */

struct body {
	char *p;
	size_t n;
};

static size_t collect(char *data, size_t size, size_t nmemb, void *user)
{
	struct body *b = user;
	size_t n = size * nmemb;
	char *p;

	if (b->n + n > ANSWER_MAX)
		return 0; /* more than any answer: stop */
	p = realloc(b->p, b->n + n + 1);
	if (!p)
		return 0;
	memcpy(p + b->n, data, n);
	b->p = p;
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

/* The hub's own words for a refusal ({"error": ...}), or the status. */
static void hub_says(const struct body *b, long status, char *out, size_t len)
{
	json_t *j = b->p ? json_loadb(b->p, b->n, 0, NULL) : NULL;
	const char *e = json_string_value(json_object_get(j, "error"));

	if (e)
		snprintf(out, len, "%s", e);
	else
		snprintf(out, len, "HTTP %ld", status);
	json_decref(j);
}

/* POST the request; 0 and the answer in *b, or 1 with the reason in err. */
static int post(const edge_enrol_args *a, const char *url, const char *req,
		struct body *b, char *err, size_t errlen)
{
	char cerr[CURL_ERROR_SIZE] = "", says[512];
	struct curl_slist *h = NULL;
	long status = 0;
	CURLcode rc;
	CURL *c;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) || !(c = curl_easy_init())) {
		fl_seterr(err, errlen, "cannot start libcurl");
		return 1;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, req);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
	if (a->ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, a->ca);
	if (a->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	curl_global_cleanup();
	switch (rc) {
	case CURLE_OK:
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		fl_seterr(err, errlen,
			  "the hub's certificate is not trusted (%s): give "
			  "the CA that signed it with --ca FILE",
			  cerr[0] ? cerr : curl_easy_strerror(rc));
		return 1;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
		fl_seterr(err, errlen, "cannot reach the hub at %s: %s", url,
			  cerr[0] ? cerr : curl_easy_strerror(rc));
		return 1;
	default:
		fl_seterr(err, errlen, "%s: %s", url,
			  cerr[0] ? cerr : curl_easy_strerror(rc));
		return 1;
	}
	if (status == 200)
		return 0;
	hub_says(b, status, says, sizeof(says));
	if (status == 404)
		fl_seterr(err, errlen,
			  "the hub does not know this code (%s): check it, "
			  "or ask the admin for a new one",
			  says);
	else if (status == 410)
		fl_seterr(err, errlen,
			  "refused: %s; ask the admin for a new "
			  "code",
			  says);
	else if (status == 429)
		fl_seterr(err, errlen, "refused: %s", says);
	else
		fl_seterr(err, errlen, "the hub refused the enrolment: %s",
			  says);
	return 1;
}

/* ---- the configuration --------------------------------------------------------------- */

/* The device key's file of the configuration text (a placeholder id and
 * site set when it has none yet): 0, or 2 with the reason in err. */
static int key_file_of(const char *path, const char *text, size_t len,
		       char *key_file, size_t kflen, char *err, size_t errlen)
{
	static const fl_yaml_kv placeholder[] = {
		{ "device", "id", "enrolling" },
		{ "device", "site", "enrolling" },
	};
	fl_config *cfg = malloc(sizeof(*cfg));
	char *t = NULL, e2[1024];
	size_t tl;
	int rc = 2;

	if (!cfg) {
		fl_seterr(err, errlen, "out of memory");
		return 2;
	}
	if (fl_config_parse(cfg, text, len, path, err, errlen) == 0)
		rc = 0;
	else if (fl_yaml_set(text, len, path, placeholder, 2, &t, &tl, e2,
			     sizeof(e2)) == 0 &&
		 fl_config_parse(cfg, t, tl, path, e2, sizeof(e2)) == 0)
		rc = 0;
	if (rc == 0)
		snprintf(key_file, kflen, "%s", cfg->key_file);
	free(t);
	free(cfg);
	return rc;
}

int edge_enrol_config(const edge_enrol_args *a, const edge_enrol_answer *ans,
		      const char *text, size_t len, char **out, size_t *outlen,
		      char *err, size_t errlen)
{
	char dev[160], site[600], host[600], port[16], user[600], pw[600];
	char key[160], ca[PATH_MAX + 8] = "\"\"", cap[PATH_MAX];
	fl_config *cfg = malloc(sizeof(*cfg));
	int rc;

	if (!cfg) {
		fl_seterr(err, errlen, "out of memory");
		return 1;
	}
	fl_yaml_quote(ans->device, dev, sizeof(dev));
	fl_yaml_quote(ans->site, site, sizeof(site));
	fl_yaml_quote(ans->host, host, sizeof(host));
	snprintf(port, sizeof(port), "%d", ans->port);
	fl_yaml_quote(ans->username, user, sizeof(user));
	fl_yaml_quote(ans->password, pw, sizeof(pw));
	fl_yaml_quote(ans->hub_key, key, sizeof(key));
	/* TLS to the broker: the file's CA if it names one, else the one
	 * the hub was verified with, else the system's */
	if (ans->tls) {
		if (fl_config_parse(cfg, text, len, a->config, err, errlen) ==
			    0 &&
		    cfg->mqtt.tls_ca[0])
			fl_yaml_quote(cfg->mqtt.tls_ca, ca, sizeof(ca));
		else if (a->ca && realpath(a->ca, cap))
			fl_yaml_quote(cap, ca, sizeof(ca));
		else
			fl_yaml_quote(SYSTEM_CA, ca, sizeof(ca));
	}
	{
		const fl_yaml_kv kv[] = {
			{ "device", "id", dev },
			{ "device", "site", site },
			{ "mqtt", "host", host },
			{ "mqtt", "port", port },
			{ "mqtt", "tls_ca", ca },
			{ "mqtt", "username", user },
			{ "mqtt", "password", pw },
			{ "mqtt", "hub_key", key },
		};

		rc = fl_yaml_set(text, len, a->config, kv, FL_ARRAY_SIZE(kv),
				 out, outlen, err, errlen);
	}
	sodium_memzero(pw, sizeof(pw));
	/* what is written must load: the edge starts from it */
	if (!rc && fl_config_parse(cfg, *out, *outlen, a->config, err, errlen)) {
		free(*out);
		*out = NULL;
		rc = FL_ECONFIG;
	}
	free(cfg);
	return rc ? 1 : 0;
}

/* Writes text as the configuration, crash-safe, keeping its owner; its
 * mode loses every bit for others (it now holds a password). */
static int write_config(const char *path, const char *text, size_t len,
			char *err, size_t errlen)
{
	struct stat st;
	int mode = 0600;

	if (stat(path, &st) == 0)
		mode = (int)(st.st_mode & 0660) | 0600;
	if (fl_file_write(path, text, len, mode, 0, err, errlen))
		return 1;
	if (stat(path, &st) == 0 && geteuid() == 0)
		(void)!chown(path, st.st_uid, st.st_gid);
	return 0;
}

/* A key made by root (the installer runs --enrol as root: the packaged
 * configuration is root's) belongs to the owner of its folder, the
 * service's user (/var/lib/firelane/edge), who must read it. */
static void key_owner(const char *key_file)
{
	char dir[FL_PATH_MAX];
	struct stat st;
	char *slash;

	if (geteuid() != 0)
		return;
	snprintf(dir, sizeof(dir), "%s", key_file);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if (stat(dir, &st) == 0 && (st.st_uid || st.st_gid))
		(void)!chown(key_file, st.st_uid, st.st_gid);
}

/* ---- the enrolment ---------------------------------------------------------------------- */

int edge_enrol_uri(const char *uri, char *url, size_t urllen, char *code,
		   size_t codelen)
{
	const char *p = uri + strlen(EDGE_ENROL_SCHEME), *q;

	if (strncmp(uri, EDGE_ENROL_SCHEME, strlen(EDGE_ENROL_SCHEME)) ||
	    !(q = strstr(p, "?code=")) || !q[6] || (size_t)(q - p) >= urllen ||
	    strlen(q + 6) >= codelen)
		return FL_EINVAL;
	snprintf(url, urllen, "%.*s", (int)(q - p), p);
	snprintf(code, codelen, "%s", q + 6);
	return 0;
}

int edge_enrol(const edge_enrol_args *args, char *err, size_t errlen)
{
	edge_enrol_args uri_args = *args, *a = &uri_args;
	char uri_url[1024], uri_code[64];
	char key_file[FL_PATH_MAX], b64[FL_KEY_B64_LEN], url[2048];
	char *text = NULL, *req = NULL, *out = NULL;
	size_t len = 0, outlen = 0;
	struct body b = { 0 };
	edge_enrol_answer ans;
	fl_key key;
	size_t len_url;
	int created = 0, rc = 2;
	json_t *j;

	/* the QR code's text instead of HUB_URL CODE */
	if (!strncmp(a->hub_url, EDGE_ENROL_SCHEME, strlen(EDGE_ENROL_SCHEME))) {
		if (edge_enrol_uri(a->hub_url, uri_url, sizeof(uri_url),
				   uri_code, sizeof(uri_code))) {
			fl_seterr(err, errlen,
				  "%s: expected " EDGE_ENROL_SCHEME
				  "HUB_URL?code=CODE",
				  a->hub_url);
			return 2;
		}
		a->hub_url = uri_url;
		if (!a->code)
			a->code = uri_code;
	}
	if (!a->code) {
		fl_seterr(err, errlen, "no code: --enrol HUB_URL CODE");
		return 2;
	}
	if (strncmp(a->hub_url, "https://", 8) &&
	    !(a->insecure && !strncmp(a->hub_url, "http://", 7))) {
		fl_seterr(err, errlen,
			  "%s: the hub's URL must be https:// (plain http:// "
			  "only with --insecure)",
			  a->hub_url);
		return 2;
	}
	if (fl_file_read(a->config, FL_YAML_MAX_SIZE, &text, &len, err, errlen))
		return 2;
	if (key_file_of(a->config, text, len, key_file, sizeof(key_file), err,
			errlen))
		goto out;
	if (fl_key_load_or_create(key_file, &key, &created, err, errlen) < 0) {
		rc = 1;
		goto out;
	}
	fl_key_public_b64(&key, b64, sizeof(b64));
	fl_key_wipe(&key);
	if (created) {
		key_owner(key_file);
		fprintf(a->out, "created the device key %s\n", key_file);
	}
	j = json_pack("{s:s,s:s}", "code", a->code, "public_key", b64);
	req = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	/* HUB_URL may carry a path (a hub behind a proxy at /firelane/) */
	len_url = strlen(a->hub_url);
	while (len_url && a->hub_url[len_url - 1] == '/')
		len_url--;
	snprintf(url, sizeof(url), "%.*s/api/enrol", (int)len_url, a->hub_url);
	rc = 1;
	if (!req || post(a, url, req, &b, err, errlen) ||
	    edge_enrol_answer_parse(b.p, b.n, &ans, err, errlen))
		goto out;
	if (edge_enrol_config(a, &ans, text, len, &out, &outlen, err, errlen) ||
	    write_config(a->config, out, outlen, err, errlen))
		goto out;
	fprintf(a->out,
		"enrolled as device %s of site %s at %s\n"
		"wrote %s: device id and site, the broker %s:%d (%s) with the "
		"account %s, the hub key\n"
		"start the edge now (systemctl restart firelane-edge, or "
		"firelane-edge --config %s)\n",
		ans.device, ans.site, a->hub_url, a->config, ans.host, ans.port,
		ans.tls ? "TLS" : "no TLS", ans.username, a->config);
	rc = 0;
out:
	sodium_memzero(&ans, sizeof(ans));
	if (b.p)
		sodium_memzero(b.p, b.n);
	if (out)
		sodium_memzero(out, outlen);
	free(b.p);
	free(out);
	free(req);
	free(text);
	return rc;
}
