/*
 * hubconf.c - the hub's configuration schema as tables.
 *
 * A note on the model. Each section is a table of keys (struct key): the
 * key's name, its type, where it lives in hub_conf (an offset), its bounds
 * and a help line. apply_map() walks a YAML map against one table: a key
 * not in the table is an error, a value of the wrong type or out of bounds
 * is an error, and every error names the file and the line of the key
 * (the fl_node tree from src/config/yaml.c carries them). Nested sections
 * (mqtt, http, store, alerts) are rows of type T_MAP pointing at their own
 * table; the two lists (alerts.sites and a site's webhooks) are rows with a
 * small parser of their own. Cross-field rules (mqtt.host and store.sqlite
 * required, a webhook URL must be http(s)) are checked once at the end.
 *
 * This is the same shape as the edge's src/core/config.c, kept separate
 * because the hub's schema is its own; it needs no I/O beyond reading the
 * file and no globals.
 */
#include "hubconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "fl.h"
#include "yaml.h"

enum ktype { T_STR, T_INT, T_NUM, T_BOOL, T_MAP, T_CUSTOM };

struct ctx {
	const char *file;
	char *err;
	size_t errlen;
};

struct key;
typedef int (*custom_fn)(struct ctx *c, const struct key *k, void *obj,
			 const fl_node *n, int line);

struct key {
	const char *name;
	enum ktype type;
	size_t off;      /* into the object the table describes */
	size_t size;     /* T_STR: buffer size */
	double min, max; /* numbers */
	const struct key *sub; /* T_MAP: the nested table (same object) */
	custom_fn parse; /* T_CUSTOM */
	const char *help;
};

static int fail(struct ctx *c, int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->err, c->errlen, "%s:%d: ", c->file, line);

	if (n < 0 || (size_t)n >= c->errlen)
		return FL_ECONFIG;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return FL_ECONFIG;
}

static int key_line(const fl_node *map, size_t i)
{
	return map->key_lines ? map->key_lines[i] : map->items[i]->line;
}

static int apply_map(struct ctx *c, const struct key *tab, void *obj,
		     const fl_node *map, int line, const char *what);

static int apply_key(struct ctx *c, const struct key *k, void *obj,
		     const fl_node *n, int line)
{
	char *f = (char *)obj + k->off;
	char *end;
	double v;

	switch (k->type) {
	case T_MAP:
		return apply_map(c, k->sub, obj, n, line, k->name);
	case T_CUSTOM:
		return k->parse(c, k, obj, n, line);
	default:
		break;
	}
	if (n->kind != FL_NODE_SCALAR)
		return fail(c, line, "%s: expected a single value", k->name);
	if (k->type == T_STR) {
		size_t len = strlen(n->scalar);

		if (len >= k->size)
			return fail(c, line, "%s: longer than %zu bytes",
				    k->name, k->size - 1);
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)n->scalar[i] < 0x20)
				return fail(c, line,
					    "%s: control character in value",
					    k->name);
		memcpy(f, n->scalar, len + 1);
		return FL_OK;
	}
	if (k->type == T_BOOL) {
		const char *s = n->scalar;

		if (n->quoted)
			return fail(c, line, "%s: expected true or false",
				    k->name);
		if (!strcmp(s, "true") || !strcmp(s, "yes") ||
		    !strcmp(s, "on"))
			*(int *)f = 1;
		else if (!strcmp(s, "false") || !strcmp(s, "no") ||
			 !strcmp(s, "off"))
			*(int *)f = 0;
		else
			return fail(c, line, "%s: expected true or false, got %s",
				    k->name, s);
		return FL_OK;
	}
	errno = 0;
	v = strtod(n->scalar, &end);
	if (n->quoted || end == n->scalar || *end || errno || !isfinite(v))
		return fail(c, line, "%s: expected a number, got '%s'",
			    k->name, n->scalar);
	if (k->type == T_INT && v != floor(v))
		return fail(c, line, "%s: expected a whole number, got %s",
			    k->name, n->scalar);
	if (v < k->min || v > k->max)
		return fail(c, line, "%s: %s is out of range %.15g..%.15g", k->name,
			    n->scalar, k->min, k->max);
	if (k->type == T_INT)
		*(int *)f = (int)v;
	else
		*(double *)f = v;
	return FL_OK;
}

static int apply_map(struct ctx *c, const struct key *tab, void *obj,
		     const fl_node *map, int line, const char *what)
{
	if (map->kind != FL_NODE_MAP)
		return fail(c, line, "%s: expected a map of settings", what);
	for (size_t i = 0; i < map->n; i++) {
		const struct key *k = tab;
		int rc;

		while (k->name && strcmp(k->name, map->keys[i]))
			k++;
		if (!k->name)
			return fail(c, key_line(map, i), "%s: unknown key '%s'",
				    what, map->keys[i]);
		rc = apply_key(c, k, obj, map->items[i], key_line(map, i));
		if (rc)
			return rc;
	}
	return FL_OK;
}

/* ---- lists ------------------------------------------------------------- */

static const struct {
	const char *name;
	int format;
} formats[] = {
	{"generic", HUB_HOOK_GENERIC},
	{"wecom", HUB_HOOK_WECOM},
	{"dingtalk", HUB_HOOK_DINGTALK},
};

static int url_ok(const char *u)
{
	return !strncmp(u, "http://", 7) || !strncmp(u, "https://", 8);
}

/* A webhook: {url: http(s)://..., format: generic|wecom|dingtalk}. */
static int hook_parse(struct ctx *c, const fl_node *n, int line,
		      hub_hook *h)
{
	char fmt[32] = "generic";
	size_t i;

	if (n->kind != FL_NODE_MAP)
		return fail(c, line, "webhook: expected {url: ..., format: ...}");
	h->url[0] = 0;
	for (i = 0; i < n->n; i++) {
		const fl_node *v = n->items[i];
		int kl = key_line(n, i);
		char *dst;
		size_t size;

		if (!strcmp(n->keys[i], "url")) {
			dst = h->url;
			size = sizeof(h->url);
		} else if (!strcmp(n->keys[i], "format")) {
			dst = fmt;
			size = sizeof(fmt);
		} else {
			return fail(c, kl, "webhook: unknown key '%s'",
				    n->keys[i]);
		}
		if (v->kind != FL_NODE_SCALAR)
			return fail(c, kl, "%s: expected a single value",
				    n->keys[i]);
		if (strlen(v->scalar) >= size)
			return fail(c, kl, "%s: too long", n->keys[i]);
		strcpy(dst, v->scalar);
	}
	if (!url_ok(h->url))
		return fail(c, n->line,
			    "webhook: url must start with http:// or https://");
	for (i = 0; i < FL_ARRAY_SIZE(formats); i++)
		if (!strcmp(formats[i].name, fmt))
			break;
	if (i == FL_ARRAY_SIZE(formats))
		return fail(c, n->line,
			    "webhook: format '%s' is not generic, wecom or "
			    "dingtalk", fmt);
	h->format = formats[i].format;
	return FL_OK;
}

static int hooks_parse(struct ctx *c, const char *what, const fl_node *n,
		       int line, hub_hook *hooks, int *count)
{
	if (n->kind != FL_NODE_SEQ)
		return fail(c, line, "%s: expected a list of webhooks", what);
	if (n->n > HUB_MAX_HOOKS)
		return fail(c, line, "%s: at most %d webhooks", what,
			    HUB_MAX_HOOKS);
	for (size_t i = 0; i < n->n; i++) {
		int rc = hook_parse(c, n->items[i], n->items[i]->line,
				    &hooks[i]);
		if (rc)
			return rc;
	}
	*count = (int)n->n;
	return FL_OK;
}

static int site_hooks(struct ctx *c, const struct key *k, void *obj,
		      const fl_node *n, int line)
{
	hub_site_alerts *s = obj;

	return hooks_parse(c, k->name, n, line, s->hooks, &s->nhooks);
}

static int site_escalate(struct ctx *c, const struct key *k, void *obj,
			 const fl_node *n, int line)
{
	hub_site_alerts *s = obj;

	return hooks_parse(c, k->name, n, line, s->escalate, &s->nescalate);
}

#define SOFF(f) offsetof(hub_site_alerts, f)
static const struct key site_keys[] = {
	{"site", T_STR, SOFF(site), sizeof(((hub_site_alerts *)0)->site), 0,
	 0, NULL, NULL, "site id, as the edge's device.site"},
	{"webhooks", T_CUSTOM, 0, 0, 0, 0, NULL, site_hooks,
	 "property managers' webhooks: [{url, format}]"},
	{"escalate", T_CUSTOM, 0, 0, 0, 0, NULL, site_escalate,
	 "enforcement contact's webhooks: [{url, format}]"},
	{"escalate_topic", T_STR, SOFF(escalate_topic),
	 sizeof(((hub_site_alerts *)0)->escalate_topic), 0, 0, NULL, NULL,
	 "MQTT topic of escalations; default firelane/<site>/enforcement"},
	{"escalate_s", T_NUM, SOFF(escalate_s), 0, 0, 604800, NULL, NULL,
	 "escalate an open alarmed incident without outcome after this"},
	{NULL, T_STR, 0, 0, 0, 0, NULL, NULL, NULL},
};

static int sites_parse(struct ctx *c, const struct key *k, void *obj,
		       const fl_node *n, int line)
{
	hub_conf *hc = obj;

	if (n->kind != FL_NODE_SEQ)
		return fail(c, line, "sites: expected a list");
	if (n->n > HUB_MAX_SITES)
		return fail(c, line, "sites: at most %d", HUB_MAX_SITES);
	for (size_t i = 0; i < n->n; i++) {
		hub_site_alerts *s = &hc->alerts.sites[i];
		int rc;

		memset(s, 0, sizeof(*s));
		s->escalate_s = -1;
		s->line = n->items[i]->line;
		rc = apply_map(c, site_keys, s, n->items[i], s->line, "site");
		if (rc)
			return rc;
		if (!s->site[0])
			return fail(c, s->line, "site: 'site' is required");
		for (size_t j = 0; j < i; j++)
			if (!strcmp(hc->alerts.sites[j].site, s->site))
				return fail(c, s->line,
					    "site '%s' listed twice", s->site);
	}
	hc->alerts.nsites = (int)n->n;
	return FL_OK;
}

/* http.trusted_proxies: a list of numeric IPv4/IPv6 addresses. */
static int proxies_parse(struct ctx *c, const struct key *k, void *obj,
			 const fl_node *n, int line)
{
	hub_conf *hc = obj;
	unsigned char b[16];

	if (n->kind != FL_NODE_SEQ)
		return fail(c, line, "http.%s: expected a list of addresses",
			    k->name);
	if (n->n > HUB_MAX_PROXIES)
		return fail(c, line, "http.%s: at most %d addresses", k->name,
			    HUB_MAX_PROXIES);
	for (size_t i = 0; i < n->n; i++) {
		const fl_node *v = n->items[i];
		char *dst = hc->http.trusted_proxies[i];

		if (v->kind != FL_NODE_SCALAR ||
		    strlen(v->scalar) >= sizeof(hc->http.trusted_proxies[i]) ||
		    (inet_pton(AF_INET, v->scalar, b) != 1 &&
		     inet_pton(AF_INET6, v->scalar, b) != 1))
			return fail(c, v->line,
				    "http.%s: '%s' is not an IPv4 or IPv6 "
				    "address",
				    k->name,
				    v->kind == FL_NODE_SCALAR ? v->scalar
							      : "(a list or map)");
		strcpy(dst, v->scalar);
	}
	hc->http.ntrusted_proxies = (int)n->n;
	return FL_OK;
}

#define OFF(f) offsetof(hub_conf, f)
#define SZ(f) sizeof(((hub_conf *)0)->f)
static const struct key mqtt_keys[] = {
	{"host", T_STR, OFF(mqtt.host), SZ(mqtt.host), 0, 0, NULL, NULL,
	 "broker host (required)"},
	{"port", T_INT, OFF(mqtt.port), 0, 1, 65535, NULL, NULL,
	 "broker port; default 1883, 8883 with tls_ca"},
	{"username", T_STR, OFF(mqtt.username), SZ(mqtt.username), 0, 0, NULL,
	 NULL, "broker user"},
	{"password", T_STR, OFF(mqtt.password), SZ(mqtt.password), 0, 0, NULL,
	 NULL, "broker password"},
	{"client_id", T_STR, OFF(mqtt.client_id), SZ(mqtt.client_id), 0, 0,
	 NULL, NULL, "stable client id (persistent session)"},
	{"shared_group", T_STR, OFF(mqtt.shared_group), SZ(mqtt.shared_group),
	 0, 0, NULL, NULL,
	 "MQTT 5 shared subscription group ($share/<group>/...); "
	 "\"\" = plain"},
	{"keepalive_s", T_INT, OFF(mqtt.keepalive_s), 0, 5, 3600, NULL, NULL,
	 "keepalive"},
	{"session_expiry_s", T_INT, OFF(mqtt.session_expiry_s), 0, 60,
	 2147483647, NULL, NULL,
	 "the broker keeps the session (and queues messages) this long "
	 "while the hub is away"},
	{"tls_ca", T_STR, OFF(mqtt.tls_ca), SZ(mqtt.tls_ca), 0, 0, NULL, NULL,
	 "CA file: TLS on (ssl://); \"\" = plain TCP"},
	{"tls_cert", T_STR, OFF(mqtt.tls_cert), SZ(mqtt.tls_cert), 0, 0, NULL,
	 NULL, "client certificate (PEM), optional"},
	{"tls_key", T_STR, OFF(mqtt.tls_key), SZ(mqtt.tls_key), 0, 0, NULL,
	 NULL, "its private key (PEM)"},
	{NULL, T_STR, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct key http_keys[] = {
	{"listen", T_STR, OFF(http.listen), SZ(http.listen), 0, 0, NULL, NULL,
	 "ADDR:PORT of the web UI; \"\" = no web server"},
	{"tls_cert", T_STR, OFF(http.tls_cert), SZ(http.tls_cert), 0, 0, NULL,
	 NULL, "HTTPS certificate (PEM); \"\" = plain HTTP"},
	{"tls_key", T_STR, OFF(http.tls_key), SZ(http.tls_key), 0, 0, NULL,
	 NULL, "its private key (PEM)"},
	{"secure_cookies", T_STR, OFF(http.secure_cookies),
	 SZ(http.secure_cookies), 0, 0, NULL, NULL,
	 "auto|on|off; auto: on with HTTPS or an https public_url"},
	{"session_idle_s", T_NUM, OFF(http.session_idle_s), 0, 60, 2592000,
	 NULL, NULL, "a session ends after this long without a request"},
	{"threads", T_INT, OFF(http.threads), 0, 1, 16, NULL, NULL,
	 "the web server's thread pool"},
	{"trusted_proxies", T_CUSTOM, 0, 0, 0, 0, NULL, proxies_parse,
	 "reverse proxies (addresses) whose X-Forwarded-For names the client "
	 "for the login rate limit and the audit"},
	{NULL, T_STR, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct key store_keys[] = {
	{"sqlite", T_STR, OFF(store.sqlite), SZ(store.sqlite), 0, 0, NULL,
	 NULL, "SQLite database file (required)"},
	{NULL, T_STR, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct key alerts_keys[] = {
	{"mqtt", T_BOOL, OFF(alerts.mqtt), 0, 0, 0, NULL, NULL,
	 "publish alerts on firelane/<site>/alerts"},
	{"escalate_s", T_NUM, OFF(alerts.escalate_s), 0, 0, 604800, NULL,
	 NULL, "default escalation delay after the alarm; 0 = never"},
	{"retry_max", T_INT, OFF(alerts.retry_max), 0, 1, 100, NULL, NULL,
	 "attempts per alert"},
	{"retry_base_s", T_NUM, OFF(alerts.retry_base_s), 0, 0.05, 3600, NULL,
	 NULL, "first retry delay, doubled each attempt"},
	{"retry_cap_s", T_NUM, OFF(alerts.retry_cap_s), 0, 0.05, 86400, NULL,
	 NULL, "longest retry delay"},
	{"timeout_s", T_NUM, OFF(alerts.timeout_s), 0, 0.5, 120, NULL, NULL,
	 "per HTTP attempt"},
	{"sites", T_CUSTOM, 0, 0, 0, 0, NULL, sites_parse,
	 "per site: {site, webhooks, escalate, escalate_topic, escalate_s}"},
	{NULL, T_STR, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct key root_keys[] = {
	{"mqtt", T_MAP, 0, 0, 0, 0, mqtt_keys, NULL, "broker connection"},
	{"http", T_MAP, 0, 0, 0, 0, http_keys, NULL, "web UI"},
	{"store", T_MAP, 0, 0, 0, 0, store_keys, NULL, "database"},
	{"evidence_dir", T_STR, OFF(evidence_dir), SZ(evidence_dir), 0, 0,
	 NULL, NULL, "where bundles are stored (required)"},
	{"public_url", T_STR, OFF(public_url), SZ(public_url), 0, 0, NULL,
	 NULL, "base URL of the hub for links in alerts"},
	{"max_payload", T_NUM, OFF(max_payload_conf), 0, 1024, 16777216, NULL,
	 NULL, "largest accepted message, bytes"},
	{"alerts", T_MAP, 0, 0, 0, 0, alerts_keys, NULL, "alert routing"},
	{"quarantine_max", T_INT, OFF(quarantine_max), 0, 100, 100000000, NULL,
	 NULL, "quarantined messages kept; the oldest go first"},
	{"incoming_max_age_s", T_NUM, OFF(incoming_max_age_s), 0, 1, 31536000,
	 NULL, NULL,
	 "an evidence bundle still incomplete this long after its last chunk "
	 "is removed from .incoming (logged)"},
	{"evidence_keep_days", T_NUM, OFF(evidence_keep_days), 0, 0, 36500,
	 NULL, NULL,
	 "0: keep evidence forever (it is proof); N: remove bundles older "
	 "than N days of closed incidents (audited)"},
	{"receipt_resend_days", T_NUM, OFF(receipt_resend_days), 0, 0, 36500,
	 NULL, NULL,
	 "a device back online gets again the receipts of its verified "
	 "bundles of the last N days; 0: off"},
	{"timezone", T_STR, OFF(timezone), SZ(timezone), 0, 0, NULL, NULL,
	 "the hub's offset from UTC (+08:00): report days, query dates"},
	{NULL, T_STR, 0, 0, 0, 0, NULL, NULL, NULL},
};

void hub_conf_defaults(hub_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->mqtt.port = 0; /* 1883, or 8883 with TLS (the MQTT client's rule) */
	c->mqtt.keepalive_s = 30;
	c->mqtt.session_expiry_s = 7 * 24 * 3600;
	snprintf(c->mqtt.client_id, sizeof(c->mqtt.client_id),
		 "firelane-hub");
	c->http.listen[0] = 0; /* the web server is opted into */
	snprintf(c->public_url, sizeof(c->public_url),
		 "http://127.0.0.1:8080");
	snprintf(c->http.secure_cookies, sizeof(c->http.secure_cookies),
		 "auto");
	c->http.session_idle_s = 28800;
	c->http.threads = 2;
	snprintf(c->timezone, sizeof(c->timezone), "+00:00");
	c->alerts.mqtt = 1;
	c->alerts.escalate_s = 900;
	c->alerts.retry_max = 8;
	c->alerts.retry_base_s = 1;
	c->alerts.retry_cap_s = 300;
	c->alerts.timeout_s = 5;
	c->max_payload = 256 * 1024;
	c->quarantine_max = 10000;
	c->incoming_max_age_s = 7 * 24 * 3600;
	c->evidence_keep_days = 0;
	c->receipt_resend_days = 30;
}

/* "+08:00", "-05:30", "Z" or "UTC" into seconds east of UTC. */
static int tz_parse(const char *s, int *out)
{
	int h, m;

	if (!strcmp(s, "Z") || !strcmp(s, "UTC")) {
		*out = 0;
		return FL_OK;
	}
	if (strlen(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' ||
	    s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' ||
	    s[4] < '0' || s[4] > '5' || s[5] < '0' || s[5] > '9')
		return FL_EINVAL;
	h = (s[1] - '0') * 10 + (s[2] - '0');
	m = (s[4] - '0') * 10 + (s[5] - '0');
	if (h > 14)
		return FL_EINVAL;
	*out = (s[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
	return FL_OK;
}

static int finish(struct ctx *c, hub_conf *hc, const fl_node *doc)
{
	if (!hc->mqtt.host[0])
		return fail(c, doc->line, "mqtt.host is required");
	if (!hc->store.sqlite[0])
		return fail(c, doc->line, "store.sqlite is required");
	if (!hc->evidence_dir[0])
		return fail(c, doc->line, "evidence_dir is required");
	if (!hc->mqtt.client_id[0])
		return fail(c, doc->line, "mqtt.client_id must not be empty");
	for (const char *p = hc->mqtt.shared_group; *p; p++)
		if (*p == '/' || *p == '+' || *p == '#')
			return fail(c, doc->line,
				    "mqtt.shared_group: '/', '+' and '#' are "
				    "not allowed");
	if ((hc->mqtt.tls_cert[0] || hc->mqtt.tls_key[0]) && !hc->mqtt.tls_ca[0])
		return fail(c, doc->line,
			    "mqtt.tls_cert/tls_key need mqtt.tls_ca");
	if (hc->http.listen[0] && !strchr(hc->http.listen, ':'))
		return fail(c, doc->line, "http.listen: expected ADDR:PORT");
	if (!!hc->http.tls_cert[0] != !!hc->http.tls_key[0])
		return fail(c, doc->line,
			    "http.tls_cert and http.tls_key go together");
	if (strcmp(hc->http.secure_cookies, "auto") &&
	    strcmp(hc->http.secure_cookies, "on") &&
	    strcmp(hc->http.secure_cookies, "off"))
		return fail(c, doc->line,
			    "http.secure_cookies: expected auto, on or off");
	if (tz_parse(hc->timezone, &hc->tz_offset_s))
		return fail(c, doc->line,
			    "timezone: expected +HH:MM or -HH:MM, got '%s'",
			    hc->timezone);
	if (!url_ok(hc->public_url))
		return fail(c, doc->line,
			    "public_url must start with http:// or https://");
	return FL_OK;
}

int hub_conf_load(hub_conf *hc, const char *path, char *err, size_t errlen)
{
	struct ctx c = {path, err, errlen};
	FILE *f = NULL;
	char *buf = NULL;
	fl_node *doc = NULL;
	long size;
	int rc = FL_EIO;

	hub_conf_defaults(hc);
	snprintf(hc->path, sizeof(hc->path), "%s", path);
	f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = errno == ENOENT ? FL_ENOENT : FL_EIO;
		goto out;
	}
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 ||
	    size > (long)FL_YAML_MAX_SIZE || fseek(f, 0, SEEK_SET)) {
		snprintf(err, errlen, "%s: unreadable or too large", path);
		goto out;
	}
	buf = malloc((size_t)size + 1);
	if (!buf) {
		rc = FL_ENOMEM;
		goto out;
	}
	if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	doc = fl_yaml_parse(buf, (size_t)size, path, err, errlen);
	if (!doc) {
		rc = FL_EFORMAT;
		goto out;
	}
	hc->max_payload_conf = (double)hc->max_payload;
	rc = apply_map(&c, root_keys, hc, doc, doc->line, "hub");
	if (rc)
		goto out;
	hc->max_payload = (size_t)hc->max_payload_conf;
	rc = finish(&c, hc, doc);
out:
	fl_node_free(doc);
	free(buf);
	if (f)
		fclose(f);
	return rc;
}

const hub_site_alerts *hub_conf_site(const hub_conf *c, const char *site)
{
	for (int i = 0; i < c->alerts.nsites; i++)
		if (!strcmp(c->alerts.sites[i].site, site))
			return &c->alerts.sites[i];
	return NULL;
}

void hub_conf_dump(const hub_conf *c, void *fp)
{
	FILE *f = fp;

	fprintf(f, "# %s\nmqtt:\n  host: %s\n  port: %d\n", c->path,
		c->mqtt.host,
		c->mqtt.port ? c->mqtt.port : c->mqtt.tls_ca[0] ? 8883 : 1883);
	if (c->mqtt.username[0])
		fprintf(f, "  username: %s\n  password: '***'\n",
			c->mqtt.username);
	fprintf(f, "  client_id: %s\n  shared_group: \"%s\"\n"
		   "  keepalive_s: %d\n  session_expiry_s: %d\n",
		c->mqtt.client_id, c->mqtt.shared_group, c->mqtt.keepalive_s,
		c->mqtt.session_expiry_s);
	if (c->mqtt.tls_ca[0])
		fprintf(f, "  tls_ca: %s\n", c->mqtt.tls_ca);
	if (c->mqtt.tls_cert[0])
		fprintf(f, "  tls_cert: %s\n  tls_key: %s\n", c->mqtt.tls_cert,
			c->mqtt.tls_key);
	fprintf(f, "http:\n  listen: \"%s\"\n", c->http.listen);
	if (c->http.tls_cert[0])
		fprintf(f, "  tls_cert: %s\n  tls_key: %s\n", c->http.tls_cert,
			c->http.tls_key);
	fprintf(f, "  secure_cookies: %s\n  session_idle_s: %g\n"
		   "  threads: %d\n",
		c->http.secure_cookies, c->http.session_idle_s,
		c->http.threads);
	fprintf(f, "  trusted_proxies: [");
	for (int i = 0; i < c->http.ntrusted_proxies; i++)
		fprintf(f, "%s\"%s\"", i ? ", " : "",
			c->http.trusted_proxies[i]);
	fprintf(f, "]\n");
	fprintf(f, "store:\n  sqlite: %s\n"
		   "evidence_dir: %s\npublic_url: %s\nmax_payload: %zu\n"
		   "timezone: \"%s\"\n",
		c->store.sqlite, c->evidence_dir, c->public_url,
		c->max_payload, c->timezone);
	fprintf(f, "quarantine_max: %d\nincoming_max_age_s: %g\n"
		   "evidence_keep_days: %g\nreceipt_resend_days: %g\n",
		c->quarantine_max, c->incoming_max_age_s,
		c->evidence_keep_days, c->receipt_resend_days);
	fprintf(f, "alerts:\n  mqtt: %s\n  escalate_s: %g\n  retry_max: %d\n"
		   "  retry_base_s: %g\n  retry_cap_s: %g\n  timeout_s: %g\n",
		c->alerts.mqtt ? "true" : "false", c->alerts.escalate_s,
		c->alerts.retry_max, c->alerts.retry_base_s,
		c->alerts.retry_cap_s, c->alerts.timeout_s);
	if (c->alerts.nsites)
		fprintf(f, "  sites:\n");
	for (int i = 0; i < c->alerts.nsites; i++) {
		const hub_site_alerts *s = &c->alerts.sites[i];

		fprintf(f, "    - site: %s\n", s->site);
		for (int j = 0; j < s->nhooks; j++)
			fprintf(f, "      # webhook %s (%s)\n", s->hooks[j].url,
				formats[s->hooks[j].format].name);
		for (int j = 0; j < s->nescalate; j++)
			fprintf(f, "      # escalate %s (%s)\n",
				s->escalate[j].url,
				formats[s->escalate[j].format].name);
		if (s->escalate_s >= 0)
			fprintf(f, "      escalate_s: %g\n", s->escalate_s);
	}
}

int hub_fmt(char *buf, size_t len, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(buf, len, f, ap);
	va_end(ap);
	return n;
}
