/*
 * hubconf.c - the hub's configuration schema: its tables, its two custom
 * values (a webhook's format, the trusted proxies) and its cross-key checks.
 *
 * A note on the model. The hub's keys are rows of the engine the edge uses
 * (src/core/schema.h): each section is a const table of rows (name, type,
 * where the value lives in hub_conf, default, bounds, help), nested sections
 * are T_MAP rows, alerts.sites and a site's two webhook lists are T_LIST
 * rows of their own sections. This file has no walker of its own: defaults,
 * validation with "FILE:LINE: reason", --check-config's dump, the sample
 * (--sample-config) and docs/hub-config.md all come from the engine walking
 * these rows, so the hub types, bounds and reports its keys exactly as the
 * edge does (docs/config.md): plain numbers (a quoted "5" is a string),
 * booleans true/false/yes/no, UTF-8 strings without control characters.
 *
 * The checks that involve several keys (mqtt.host, one store - sqlite or
 * postgresql - and evidence_dir required, TLS files in pairs, the timezone, URLs) run once in
 * the sections' finish hooks. Two defaults are settled there too, so that
 * the dump shows the value in effect and loads again as is: mqtt.port
 * (1883, or 8883 with tls_ca) and a site's escalate_s (alerts.escalate_s).
 *
 * Paths (store.sqlite, evidence_dir, the TLS files) are kept as written: the
 * hub opens them from its working directory, unlike the edge's, which
 * follow the configuration file.
 */
#include "hubconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define FL_SCHEMA_TABLE /* short names: T_NUM, NUM(), MAP(), ... */
#include "schema.h"

#include "fl.h"
#include "lang.h"
#include "tz.h"
#include "yaml.h"
#include "zone.h"

/* ---- custom values ----------------------------------------------------- */

static const char *const format_names[] = {
	[HUB_HOOK_GENERIC] = "generic",
	[HUB_HOOK_WECOM] = "wecom",
	[HUB_HOOK_DINGTALK] = "dingtalk",
};

/* A webhook's format: one of format_names, stored as its index. */
static int format_parse(fl_schema_ctx *c, const fl_setting *s, void *obj,
			const fl_node *n, int line)
{
	int *f = (int *)((char *)obj + s->off);

	if (n->kind != FL_NODE_SCALAR)
		return fl_schema_fail(c, line, "%s: expected a single value",
				      s->name);
	for (size_t i = 0; i < FL_ARRAY_SIZE(format_names); i++) {
		if (!strcmp(n->scalar, format_names[i])) {
			*f = (int)i;
			return FL_OK;
		}
	}
	return fl_schema_fail(c, line,
			      "webhook: format '%s' is not generic, wecom or "
			      "dingtalk",
			      n->scalar);
}

static void format_dump(fl_schema_out *o, const fl_setting *s, const void *obj)
{
	fl_schema_printf(
		o, "%s",
		format_names[*(const int *)((const char *)obj + s->off)]);
}

static void format_defaults(const fl_setting *s, void *obj)
{
	*(int *)((char *)obj + s->off) = HUB_HOOK_GENERIC;
}

static const fl_custom format_type = { format_parse, format_dump,
				       format_defaults, "word",
				       "generic, wecom or dingtalk" };

typedef char proxy_addr[sizeof(((hub_http_conf *)0)->trusted_proxies[0])];

/* http.trusted_proxies: a list of numeric IPv4/IPv6 addresses, kept as
 * written; the count at s->count_off. */
static int proxies_parse(fl_schema_ctx *c, const fl_setting *s, void *obj,
			 const fl_node *n, int line)
{
	proxy_addr *list = (proxy_addr *)((char *)obj + s->off);
	unsigned char b[16];

	if (n->kind != FL_NODE_SEQ)
		return fl_schema_fail(c, line,
				      "http.%s: expected a list of addresses",
				      s->name);
	if (n->n > (size_t)s->max)
		return fl_schema_fail(c, line, "http.%s: at most %g addresses",
				      s->name, s->max);
	for (size_t i = 0; i < n->n; i++) {
		const fl_node *v = n->items[i];

		if (v->kind != FL_NODE_SCALAR ||
		    strlen(v->scalar) >= sizeof(list[i]) ||
		    (inet_pton(AF_INET, v->scalar, b) != 1 &&
		     inet_pton(AF_INET6, v->scalar, b) != 1))
			return fl_schema_fail(
				c, v->line,
				"http.%s: '%s' is not an IPv4 or IPv6 address",
				s->name,
				v->kind == FL_NODE_SCALAR ? v->scalar
							  : "(a list or map)");
		strcpy(list[i], v->scalar);
	}
	*(int *)((char *)obj + s->count_off) = (int)n->n;
	return FL_OK;
}

static void proxies_dump(fl_schema_out *o, const fl_setting *s, const void *obj)
{
	const proxy_addr *list = (const proxy_addr *)((const char *)obj +
						      s->off);
	int n = *(const int *)((const char *)obj + s->count_off);

	fl_schema_printf(o, "[");
	for (int i = 0; i < n; i++) {
		fl_schema_printf(o, "%s", i ? ", " : "");
		fl_schema_out_quoted(o, list[i]);
	}
	fl_schema_printf(o, "]");
}

static void proxies_defaults(const fl_setting *s, void *obj)
{
	*(int *)((char *)obj + s->count_off) = 0;
}

static const fl_custom proxies_type = { proxies_parse, proxies_dump,
					proxies_defaults,
					"list of IPv4/IPv6 addresses", NULL };

/* ---- cross-key checks --------------------------------------------------- */

static int url_ok(const char *u)
{
	return !strncmp(u, "http://", 7) || !strncmp(u, "https://", 8);
}

static int webhook_finish(fl_schema_ctx *c, void *obj, const fl_node *map)
{
	const hub_hook *h = obj;

	if (!url_ok(h->url))
		return fl_schema_fail(c, map->line,
				      "webhook: url must start with http:// or "
				      "https://");
	return FL_OK;
}

/* A site without its own escalate_s escalates after the alerts-wide one. */
static int alerts_finish(fl_schema_ctx *c, void *obj, const fl_node *map)
{
	hub_alerts_conf *a = obj;

	if (fl_lang_of(a->language) < 0)
		return fl_schema_fail(c, fl_schema_key_line(map, "language"),
				      "alerts.language: '%s' is not zh-CN or "
				      "en",
				      a->language);

	/* a claim must outlast the attempt it covers, or a second hub
	 * takes the job while the first is still posting it */
	if (a->lease_s <= a->timeout_s)
		return fl_schema_fail(c, fl_schema_key_line(map, "lease_s"),
				      "alerts.lease_s (%g) must be more than "
				      "alerts.timeout_s (%g)",
				      a->lease_s, a->timeout_s);
	for (int i = 0; i < a->nsites; i++) {
		if (a->sites[i].escalate_s < 0)
			a->sites[i].escalate_s = a->escalate_s;
		if (a->sites[i].owner_webhook[0] &&
		    !url_ok(a->sites[i].owner_webhook))
			return fl_schema_fail(c, a->sites[i].line,
					      "owner_webhook must start with "
					      "http:// or https://");
	}
	return FL_OK;
}

static int hub_finish(fl_schema_ctx *c, void *obj, const fl_node *doc)
{
	hub_conf *hc = obj;
	char why[1400];

	if (!hc->mqtt.host[0])
		return fl_schema_fail(c, doc->line, "mqtt.host is required");
	if (!hc->store.sqlite[0] && !hc->store.postgresql[0])
		return fl_schema_fail(c, doc->line,
				      "store.sqlite or store.postgresql is "
				      "required");
	if (hc->store.sqlite[0] && hc->store.postgresql[0])
		return fl_schema_fail(c, fl_schema_key_line(doc, "store"),
				      "store: set one of sqlite and "
				      "postgresql, not both");
	if (hc->store.postgresql[0] &&
	    strncmp(hc->store.postgresql, "postgresql://", 13) &&
	    strncmp(hc->store.postgresql, "postgres://", 11))
		return fl_schema_fail(c, fl_schema_key_line(doc, "store"),
				      "store.postgresql must start with "
				      "postgresql:// or postgres://");
	/* hub.key's default is beside the SQLite file; a database server
	 * has no folder here, and hubs that share it share one key */
	if (hc->store.postgresql[0] && !hc->hub_key_file[0])
		return fl_schema_fail(c, doc->line,
				      "hub_key_file is required with "
				      "store.postgresql");
	if (!hc->evidence_dir[0])
		return fl_schema_fail(c, doc->line, "evidence_dir is required");
	if (!hc->mqtt.client_id[0])
		return fl_schema_fail(c, doc->line,
				      "mqtt.client_id must not be empty");
	for (const char *p = hc->mqtt.shared_group; *p; p++)
		if (*p == '/' || *p == '+' || *p == '#')
			return fl_schema_fail(c, doc->line,
					      "mqtt.shared_group: '/', '+' and "
					      "'#' are not allowed");
	if ((hc->mqtt.tls_cert[0] || hc->mqtt.tls_key[0]) && !hc->mqtt.tls_ca[0])
		return fl_schema_fail(c, doc->line,
				      "mqtt.tls_cert/tls_key need mqtt.tls_ca");
	if (hc->http.listen[0] && !strchr(hc->http.listen, ':'))
		return fl_schema_fail(c, doc->line,
				      "http.listen: expected ADDR:PORT");
	if (!!hc->http.tls_cert[0] != !!hc->http.tls_key[0])
		return fl_schema_fail(c, doc->line,
				      "http.tls_cert and http.tls_key go "
				      "together");
	if (strcmp(hc->http.secure_cookies, "auto") &&
	    strcmp(hc->http.secure_cookies, "on") &&
	    strcmp(hc->http.secure_cookies, "off"))
		return fl_schema_fail(c, doc->line,
				      "http.secure_cookies: expected auto, on "
				      "or off");
	if (hc->http.metrics_token[0] && strlen(hc->http.metrics_token) < 16)
		return fl_schema_fail(c, fl_schema_key_line(doc, "http"),
				      "http.metrics_token: 16 characters or "
				      "more (a token a scraper cannot guess)");
	if (fl_tz_check(hc->timezone, why, sizeof(why)))
		return fl_schema_fail(c, fl_schema_key_line(doc, "timezone"),
				      "timezone: %s", why);
	/* a fixed offset is known now; a zone's is settled at start
	 * (hub_conf_zone) */
	if (fl_zone_fixed(hc->timezone, &hc->tz_offset_s) != FL_OK)
		hc->tz_offset_s = 0;
	if (fl_lang_of(hc->ui.language) < 0)
		return fl_schema_fail(c, fl_schema_key_line(doc, "ui"),
				      "ui.language: '%s' is not zh-CN or en",
				      hc->ui.language);
	if (!url_ok(hc->public_url))
		return fl_schema_fail(c, doc->line,
				      "public_url must start with http:// or "
				      "https://");
	/* the MQTT client's rule, settled here so the dump shows it */
	if (!hc->mqtt.port)
		hc->mqtt.port = hc->mqtt.tls_ca[0] ? 8883 : 1883;
	return FL_OK;
}

/* ---- the tables ---------------------------------------------------------- */

static const fl_setting webhook_keys[] = {
	STR(hub_hook, url, T_TEXT, 0, "",
	    "where the alert is POSTed: http:// or https://"),
	CUSTOM(hub_hook, "format", format, format_type, "generic", 0, 0,
	       "the body: generic JSON, or the WeCom or DingTalk group "
	       "robot's markdown (docs/hub.md, Alerts)"),
};

static const fl_section webhook_section = {
	"webhook",
	"Webhooks (`alerts.sites[].webhooks[]`, `escalate[]`)",
	"One entry per receiver: `{url: \"https://...\", format: wecom}`. "
	"Each alert goes to every webhook of its list, retried on failure "
	"(`alerts.retry_*`).",
	webhook_keys,
	FL_ARRAY_SIZE(webhook_keys),
	NO_OFF,
	NO_OFF,
	webhook_finish
};

static const fl_setting site_keys[] = {
	STR(hub_site_alerts, site, T_TEXT, F_REQ, NULL,
	    "site id, as the edge's device.site"),
	LIST(hub_site_alerts, "webhooks", hooks, nhooks, webhook_section, 0,
	     HUB_MAX_HOOKS, "property managers' webhooks: alarm, all-clear"),
	LIST(hub_site_alerts, "escalate", escalate, nescalate, webhook_section,
	     0, HUB_MAX_HOOKS,
	     "the enforcement contact's webhooks: escalations"),
	STR(hub_site_alerts, escalate_topic, T_TEXT, 0, "",
	    "MQTT topic of escalations; \"\" = firelane/<site>/enforcement"),
	{ "escalate_s", T_NUM, 0, offsetof(hub_site_alerts, escalate_s), 0, 0,
	  -1, "`alerts.escalate_s`", 0, 604800, NULL, NULL,
	  "escalate an open alarmed incident without outcome this long "
	  "after the alarm (s); 0 = never" },
	STR(hub_site_alerts, owner_webhook, T_TEXT, 0, "",
	    "the owner notification: the SMS/voice gateway's URL (http:// or "
	    "https://), POSTed once per incident whose plate is in the "
	    "site's resident register; \"\" = none"),
	STR(hub_site_alerts, owner_template, T_TEXT, 0,
	    "{\"to\": \"{phone}\", \"text\": \"{unit} {owner}: your car "
	    "{plate} blocks the fire lane at {site} ({lane}). Please move "
	    "it.\"}",
	    "the owner notification's body (JSON after substitution): {phone} "
	    "{owner} {unit} {plate} {site} {lane} {incident} {url} are "
	    "replaced, JSON-escaped"),
	NUM(hub_site_alerts, notify_owner_s, T_NUM, 300, 0, 604800,
	    "notify the owner this long after the alarm (s), when the "
	    "incident is still open without outcome; 0 = never"),
};

static const fl_section site_section = {
	"site",
	"Sites (`alerts.sites[]`)",
	"Where one site's alerts go (0..64 sites, each listed once). A site "
	"not listed gets MQTT alerts only (`alerts.mqtt`).",
	site_keys,
	FL_ARRAY_SIZE(site_keys),
	offsetof(hub_site_alerts, line),
	offsetof(hub_site_alerts, site),
	NULL
};

static const fl_setting alerts_keys[] = {
	NUM(hub_alerts_conf, mqtt, T_BOOL, 1, 0, 1,
	    "publish alerts on firelane/<site>/alerts"),
	STR(hub_alerts_conf, language, T_TEXT, 0, "zh-CN",
	    "the alerts' language: zh-CN (Simplified Chinese) or en"),
	NUM(hub_alerts_conf, escalate_s, T_NUM, 900, 0, 604800,
	    "default escalation delay after the alarm (s); 0 = never"),
	NUM(hub_alerts_conf, retry_max, T_INT, 8, 1, 100,
	    "attempts per webhook alert before giving up"),
	NUM(hub_alerts_conf, retry_base_s, T_NUM, 1, 0.05, 3600,
	    "first retry after this long (s), doubled each attempt"),
	NUM(hub_alerts_conf, retry_cap_s, T_NUM, 300, 0.05, 86400,
	    "longest delay between two attempts (s)"),
	NUM(hub_alerts_conf, timeout_s, T_NUM, 5, 0.5, 120,
	    "per HTTP attempt (s)"),
	NUM(hub_alerts_conf, lease_s, T_NUM, 60, 1, 3600,
	    "a hub's claim of an alert it sends (s): another hub on the "
	    "store sends it when the claim ran out (more than timeout_s)"),
	NUM(hub_alerts_conf, picture_days, T_NUM, 30, 0.01, 3650,
	    "how long an alert's picture link (<public_url>/pictures/...) "
	    "opens the alarm still without a login (days)"),
	LIST(hub_alerts_conf, "sites", sites, nsites, site_section, 0,
	     HUB_MAX_SITES, "alert routing per site"),
};

static const fl_section alerts_section = {
	"alerts",
	"Alerts (`alerts`)",
	"Alarms, all-clears and escalations: on MQTT and to each site's "
	"webhooks (docs/hub.md, Alerts). Every key is optional.",
	alerts_keys,
	FL_ARRAY_SIZE(alerts_keys),
	NO_OFF,
	NO_OFF,
	alerts_finish
};

static int enrol_finish(fl_schema_ctx *c, void *obj, const fl_node *map)
{
	hub_enrol_conf *e = obj;

	if (strcmp(e->mqtt_tls, "auto") && strcmp(e->mqtt_tls, "on") &&
	    strcmp(e->mqtt_tls, "off"))
		return fl_schema_fail(c, fl_schema_key_line(map, "mqtt_tls"),
				      "enrol.mqtt_tls: expected auto, on or "
				      "off");
	if (!!e->admin_username[0] != !!e->admin_password[0])
		return fl_schema_fail(c, map->line,
				      "enrol.admin_username and "
				      "admin_password go together");
	return FL_OK;
}

static const fl_setting enrol_keys[] = {
	NUM(hub_enrol_conf, code_ttl_s, T_NUM, 86400, 60, 2592000,
	    "an enrolment code is valid this long after it was made (s)"),
	STR(hub_enrol_conf, admin_username, T_TEXT, 0, "",
	    "the broker account allowed to manage accounts (mosquitto's "
	    "dynamic security plugin, $CONTROL/dynamic-security/v1): the "
	    "hub makes each enrolled device's account with it; \"\" = no "
	    "enrolment by code"),
	STR(hub_enrol_conf, admin_password, T_TEXT, F_SECRET, "",
	    "its password (shown as \"***\" by --check-config)"),
	NUM(hub_enrol_conf, broker_timeout_s, T_NUM, 10, 1, 120,
	    "the broker must confirm a new account within this (s)"),
	STR(hub_enrol_conf, mqtt_host, T_TEXT, 0, "",
	    "the broker's host as the devices reach it; \"\" = mqtt.host"),
	NUM(hub_enrol_conf, mqtt_port, T_INT, 0, 0, 65535,
	    "its port for the devices; 0 = mqtt.port"),
	STR(hub_enrol_conf, mqtt_tls, T_TEXT, 0, "auto",
	    "whether devices use TLS to the broker: auto (as the hub, "
	    "mqtt.tls_ca), on or off"),
};

static const fl_section enrol_section = {
	"enrol",
	"Enrolment (`enrol`)",
	"Enrolment by one-time code: an admin makes a code for a device in "
	"the web UI, the device runs `firelane-edge --enrol HUB_URL CODE` "
	"and gets its broker account, site and the hub key "
	"(docs/security.md, \"Enrolment by code\"). Every key is optional.",
	enrol_keys,
	FL_ARRAY_SIZE(enrol_keys),
	NO_OFF,
	NO_OFF,
	enrol_finish
};

static const fl_setting mqtt_keys[] = {
	STR(hub_mqtt_conf, host, T_TEXT, 0, "", "broker host (required)"),
	{ "port", T_INT, 0, offsetof(hub_mqtt_conf, port), 0, 0, 0,
	  "1883, 8883 with `tls_ca`", 1, 65535, NULL, NULL,
	  "broker port; when not given 1883, or 8883 with tls_ca" },
	STR(hub_mqtt_conf, username, T_TEXT, 0, "", "broker user; \"\" = none"),
	STR(hub_mqtt_conf, password, T_TEXT, F_SECRET, "",
	    "broker password (shown as \"***\" by --check-config)"),
	STR(hub_mqtt_conf, client_id, T_TEXT, 0, "firelane-hub",
	    "stable client id: the broker keeps the hub's session by it; "
	    "unique per hub worker (MQTT alerts connect as <client_id>-alerts)"),
	STR(hub_mqtt_conf, shared_group, T_TEXT, 0, "",
	    "MQTT 5 shared subscription group: several hub workers split the "
	    "fleet's messages ($share/<group>/firelane/+/+/#); \"\" = plain"),
	NUM(hub_mqtt_conf, keepalive_s, T_INT, 30, 5, 3600,
	    "MQTT keep-alive (s)"),
	NUM(hub_mqtt_conf, session_expiry_s, T_INT, 604800, 60, 2147483647,
	    "the broker keeps the session (and queues messages) this long "
	    "while the hub is away (s)"),
	STR(hub_mqtt_conf, tls_ca, T_TEXT, 0, "",
	    "CA file: TLS on (ssl://); \"\" = plain TCP"),
	STR(hub_mqtt_conf, tls_cert, T_TEXT, 0, "",
	    "client certificate (PEM), optional; needs tls_ca"),
	STR(hub_mqtt_conf, tls_key, T_TEXT, 0, "", "its private key (PEM)"),
};

static const fl_section mqtt_section = {
	"mqtt",
	"MQTT (`mqtt`)",
	"The connection to the fleet's broker (topics: docs/mqtt.md). `host` "
	"is required. The hub's session is persistent: configure the broker "
	"to keep its backlog (docs/hub.md, Ingest).",
	mqtt_keys,
	FL_ARRAY_SIZE(mqtt_keys),
	NO_OFF,
	NO_OFF,
	NULL
};

static const fl_setting http_keys[] = {
	STR(hub_http_conf, listen, T_TEXT, 0, "",
	    "ADDR:PORT of the web UI and API; \"\" = no web server"),
	STR(hub_http_conf, tls_cert, T_TEXT, 0, "",
	    "HTTPS certificate (PEM); \"\" = plain HTTP"),
	STR(hub_http_conf, tls_key, T_TEXT, 0, "", "its private key (PEM)"),
	STR(hub_http_conf, secure_cookies, T_TEXT, 0, "auto",
	    "auto, on or off: the session cookie's Secure flag (auto: on with "
	    "HTTPS or an https public_url)"),
	NUM(hub_http_conf, session_idle_s, T_NUM, 28800, 60, 2592000,
	    "a session ends after this long without a request (s)"),
	NUM(hub_http_conf, threads, T_INT, 2, 1, 16,
	    "the web server's thread pool"),
	NUM(hub_http_conf, request_timeout_s, T_NUM, 15, 1, 300,
	    "a whole request (headers and body) must arrive within this, "
	    "and an idle keep-alive connection is closed after it (s)"),
	NUM(hub_http_conf, max_connections, T_INT, 1024, 16, 65536,
	    "open connections at most, all clients together"),
	NUM(hub_http_conf, max_per_address, T_INT, 32, 1, 65536,
	    "open connections at most from one address (trusted_proxies "
	    "are not limited: the proxy limits its clients)"),
	{ "trusted_proxies", T_CUSTOM, 0,
	  offsetof(hub_http_conf, trusted_proxies), 0,
	  offsetof(hub_http_conf, ntrusted_proxies), 0, "[]", 0,
	  HUB_MAX_PROXIES, NULL, &proxies_type,
	  "reverse proxies whose X-Forwarded-For names the client for the "
	  "login throttle and the audit (quote IPv6: [\"::1\"])" },
	STR(hub_http_conf, metrics_token, T_TEXT, F_SECRET, "",
	    "GET /metrics answers a scrape that sends \"Authorization: Bearer "
	    "<this>\" (16 characters or more; shown as \"***\" by "
	    "--check-config); \"\" = only to clients on this machine "
	    "(loopback, as trusted_proxies name the client)"),
};

static const fl_section http_section = {
	"http",
	"Web UI and API (`http`)",
	"The review web UI and its JSON API (docs/api.md). Off unless "
	"`listen` is set.",
	http_keys,
	FL_ARRAY_SIZE(http_keys),
	NO_OFF,
	NO_OFF,
	NULL
};

static const fl_setting ui_keys[] = {
	STR(hub_ui_conf, language, T_TEXT, 0, "zh-CN",
	    "the web UI's language for a browser that asks for neither "
	    "Chinese nor English: zh-CN or en"),
};

static const fl_section ui_section = {
	"ui",
	"Web UI (`ui`)",
	"The review UI speaks Simplified Chinese and English: a browser "
	"that accepts Chinese gets Chinese, one that accepts only English "
	"gets English, the switch in the header sticks (docs/i18n.md).",
	ui_keys,
	FL_ARRAY_SIZE(ui_keys),
	NO_OFF,
	NO_OFF,
	NULL
};

static const fl_setting store_keys[] = {
	STR(hub_store_conf, sqlite, T_TEXT, 0, "",
	    "SQLite database file, created on first start (this or "
	    "postgresql)"),
	STR(hub_store_conf, postgresql, T_TEXT, F_URL_SECRET, "",
	    "PostgreSQL server instead: postgresql://USER:PASSWORD@HOST:PORT/"
	    "DATABASE (libpq's URI; the database exists, its tables are "
	    "made on first start; needs hub_key_file)"),
};

static const fl_section store_section = { "store",
					  "Store (`store`)",
					  "The database (docs/store.md).",
					  store_keys,
					  FL_ARRAY_SIZE(store_keys),
					  NO_OFF,
					  NO_OFF,
					  NULL };

static const fl_setting root_keys[] = {
	MAP(hub_conf, "mqtt", mqtt, mqtt_section, "broker connection"),
	MAP(hub_conf, "http", http, http_section, "web UI and API"),
	MAP(hub_conf, "store", store, store_section, "database"),
	STR(hub_conf, evidence_dir, T_TEXT, 0, "",
	    "where evidence bundles are stored (required)"),
	STR(hub_conf, public_url, T_TEXT, 0, "http://127.0.0.1:8080",
	    "base URL of the hub for links in alerts: "
	    "<public_url>/incidents/<id>"),
	STR(hub_conf, timezone, T_TEXT, 0, "",
	    "the hub's time zone: a name (Asia/Shanghai), an offset "
	    "(+08:00, Z) or \"\" = the machine's; times in the web UI and "
	    "alerts, report days, dates in queries"),
	MAP(hub_conf, "ui", ui, ui_section, "web UI"),
	NUM(hub_conf, max_payload, T_SIZE, 262144, 1024, 16777216,
	    "largest accepted message (bytes); a larger one is quarantined "
	    "unparsed"),
	NUM(hub_conf, quarantine_max, T_INT, 10000, 100, 100000000,
	    "quarantined messages kept; the oldest go first"),
	NUM(hub_conf, incoming_max_age_s, T_NUM, 604800, 1, 31536000,
	    "an evidence bundle still incomplete this long after its last "
	    "chunk is removed from .incoming (logged)"),
	NUM(hub_conf, incoming_device_max_mb, T_NUM, 256, 1, 1048576,
	    "MiB of unfinished evidence one device may have in .incoming; "
	    "a chunk beyond it is quarantined"),
	NUM(hub_conf, incoming_max_mb, T_NUM, 2048, 1, 1048576,
	    "MiB of unfinished evidence in .incoming in all; a chunk "
	    "beyond it is quarantined"),
	NUM(hub_conf, evidence_reserve_mb, T_NUM, 256, 0, 1048576,
	    "MiB left free on the evidence folder's disk for the store: a "
	    "chunk that would eat into it waits (the hub is degraded)"),
	NUM(hub_conf, evidence_keep_days, T_NUM, 0, 0, 36500,
	    "0: keep evidence forever (it is proof); N: remove bundles of "
	    "closed incidents older than N days (audited)"),
	NUM(hub_conf, evidence_scrub_s, T_NUM, 86400, 0, 31536000,
	    "a minute after the start, then every N seconds after the last "
	    "pass ended, every file of every verified bundle is hashed again; "
	    "one that no longer matches is marked tampered (audited); 0: off"),
	NUM(hub_conf, receipt_resend_days, T_NUM, 30, 0, 36500,
	    "a device back online gets again the receipts of its verified "
	    "bundles of the last N days; 0: off"),
	NUM(hub_conf, require_signed, T_BOOL, 1, 0, 1,
	    "refuse (quarantine) device messages without a signature by the "
	    "enrolled key; false only while devices from before signing are "
	    "upgraded (docs/security.md)"),
	STR(hub_conf, hub_key_file, T_TEXT, 0, "",
	    "the hub's Ed25519 key (0600; created on first start): signs "
	    "commands and delivery receipts; \"\" = hub.key beside "
	    "store.sqlite"),
	MAP(hub_conf, "alerts", alerts, alerts_section, "alert routing"),
	MAP(hub_conf, "enrol", enrol, enrol_section, "enrolment by code"),
};

static const fl_section root_section = {
	"top level",
	"Top level",
	"The file is one YAML document: a map with `mqtt`, `store` and "
	"`evidence_dir`, and optionally every other key.",
	root_keys,
	FL_ARRAY_SIZE(root_keys),
	NO_OFF,
	NO_OFF,
	hub_finish
};

static const fl_section *const doc_sections[] = {
	&root_section, &mqtt_section,    &http_section,
	&ui_section,   &store_section,   &alerts_section,
	&site_section, &webhook_section, &enrol_section
};

/* ---- loading, dump, sample, docs ----------------------------------------- */

void hub_conf_defaults(hub_conf *c)
{
	memset(c, 0, sizeof(*c));
	fl_schema_defaults(&root_section, c);
}

int hub_conf_load(hub_conf *hc, const char *path, char *err, size_t errlen)
{
	hub_conf_defaults(hc);
	snprintf(hc->path, sizeof(hc->path), "%s", path);
	return fl_yaml_apply_file(&root_section, hc, path, err, errlen);
}

int hub_conf_parse(hub_conf *hc, const char *text, size_t len, const char *name,
		   char *err, size_t errlen)
{
	hub_conf_defaults(hc);
	snprintf(hc->path, sizeof(hc->path), "%s", name);
	return fl_yaml_apply(&root_section, hc, text, len, name, err, errlen);
}

size_t hub_conf_dump(const hub_conf *c, char *buf, size_t len)
{
	char head[sizeof(c->path) + 4];

	snprintf(head, sizeof(head), "# %s\n", c->path);
	return fl_schema_dump(&root_section, c, head, 0, buf, len);
}

/* The sample's own values; every other key shows its default. */
static const char sample_text[] =
	"mqtt: {host: 127.0.0.1}\n"
	"store: {sqlite: /var/lib/firelane/hub.db}\n"
	"evidence_dir: /var/lib/firelane/evidence\n"
	"alerts:\n"
	"  sites:\n"
	"    - site: demo-site\n"
	"      escalate_s: 600\n"
	"      webhooks:\n"
	"        - {url: \"https://qyapi.weixin.qq.com/cgi-bin/webhook/"
	"send?key=KEY\", format: wecom}\n"
	"        - {url: \"https://oapi.dingtalk.com/robot/send?"
	"access_token=TOKEN\", format: dingtalk}\n"
	"      escalate:\n"
	"        - {url: \"https://enforcement.example.org/hook\"}\n";

size_t hub_conf_sample(char *buf, size_t len)
{
	hub_conf *c = malloc(sizeof(*c)); /* large: not on the stack */
	char err[256];
	size_t n;

	if (!c)
		return 0;
	/* the sample text is this file's own: it loads */
	hub_conf_parse(c, sample_text, sizeof(sample_text) - 1, "sample", err,
		       sizeof(err));
	n = fl_schema_dump(&root_section, c,
			   "# firelane-hub sample configuration, generated "
			   "from the schema table\n# (src/hub/hubconf.c); see "
			   "docs/hub-config.md. Every key is shown with its "
			   "default.\n",
			   1, buf, len);
	free(c);
	return n;
}

/* The reference's opening: what the tables below do not say. */
static const char doc_intro[] =
	"# firelane-hub configuration reference\n\n"
	"<!-- Generated by hub_conf_doc() from the schema table in "
	"src/hub/hubconf.c.\n     Do not edit: tests/unit/test_config.c "
	"fails when this file drifts.\n     Regenerate with "
	"`build/test_config --write-docs`. -->\n\n"
	"The hub reads one YAML file (`--config FILE`) when it starts; a "
	"change\ntakes effect at the next start. It is checked once, at load, "
	"by the same\nengine as the edge's configuration (docs/config.md): an "
	"unknown key, a\nvalue of the wrong type or out of range, or a "
	"missing required key stops\nthe hub with `FILE:LINE: reason`. "
	"Nothing is clamped or repaired later.\n\n" FL_SCHEMA_DOC_TYPING
	"Paths (`store.sqlite`, `evidence_dir`, the TLS files) are used as "
	"written:\nrelative ones resolve against the hub's working "
	"directory.\n\n"
	"The smallest valid file:\n\n"
	"```yaml\n"
	"mqtt: {host: 127.0.0.1}\n"
	"store: {sqlite: /var/lib/firelane/hub.db}\n"
	"evidence_dir: /var/lib/firelane/evidence\n"
	"```\n\n"
	"A full sample with every key is `docs/firelane-hub.sample.yaml`\n"
	"(`firelane-hub --sample-config`). `firelane-hub --config FILE "
	"--check-config`\nprints the effective configuration in the same "
	"form: every key, defaults\nincluded, the password as `\"***\"`.\n\n"
	"Errors look like this:\n\n"
	"```\n"
	"hub.yaml:5: retry_max: 0 is out of range 1..100\n"
	"hub.yaml:1: unknown key 'bogus' in mqtt\n"
	"hub.yaml:8: webhook: url must start with http:// or https://\n"
	"hub.yaml:1: mqtt.host is required\n"
	"```\n";

size_t hub_conf_doc(char *buf, size_t len)
{
	return fl_schema_reference(doc_intro, doc_sections,
				   FL_ARRAY_SIZE(doc_sections), buf, len);
}

int hub_conf_zone(hub_conf *c, char *err, size_t errlen)
{
	int rc = fl_tz_set(c->timezone, err, errlen);

	if (rc)
		return rc;
	if (fl_zone_fixed(c->timezone, &c->tz_offset_s) == FL_OK) {
		c->tz_name[0] = 0; /* browsers get the offset */
		return FL_OK;
	}
	c->tz_offset_s = fl_tz_offset_at((double)time(NULL));
	fl_tz_name(c->tz_name, sizeof(c->tz_name));
	return FL_OK;
}

size_t hub_conf_key_path(const hub_conf *c, char *buf, size_t len)
{
	const char *slash = strrchr(c->store.sqlite, '/');
	int n;

	if (c->hub_key_file[0])
		n = snprintf(buf, len, "%s", c->hub_key_file);
	else if (slash)
		n = snprintf(buf, len, "%.*s/hub.key",
			     (int)(slash - c->store.sqlite), c->store.sqlite);
	else
		n = snprintf(buf, len, "hub.key");
	return n < 0 ? 0 : (size_t)n;
}

size_t hub_conf_store_url(const hub_conf *c, char *buf, size_t len)
{
	int n = c->store.postgresql[0]
			? snprintf(buf, len, "%s", c->store.postgresql)
			: snprintf(buf, len, "sqlite:%s", c->store.sqlite);

	return n < 0 ? 0 : (size_t)n;
}

void hub_conf_store_name(const hub_conf *c, char *buf, size_t len)
{
	if (c->store.postgresql[0])
		fl_url_redact(c->store.postgresql, buf, len);
	else
		snprintf(buf, len, "%s", c->store.sqlite);
}

const hub_site_alerts *hub_conf_site(const hub_conf *c, const char *site)
{
	for (int i = 0; i < c->alerts.nsites; i++)
		if (!strcmp(c->alerts.sites[i].site, site))
			return &c->alerts.sites[i];
	return NULL;
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
