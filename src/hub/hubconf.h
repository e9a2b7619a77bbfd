/*
 * hubconf.h - the hub's configuration: schema, defaults and validation.
 *
 * The hub reads its own small YAML file (docs/hub-config.md) with the same
 * reader and the same engine as the edge (src/config/yaml.c builds an
 * fl_node tree with line numbers; src/core/schema.c walks a table): every
 * key is one row of a table (name, type, default, bounds, help), unknown
 * keys and bad values are refused once at load with "FILE:LINE: reason",
 * and nothing downstream repairs a value. The same rows write the
 * effective configuration (--check-config), the sample (--sample-config)
 * and the reference, docs/hub-config.md.
 *
 * The struct is plain data with fixed-size arrays: no heap, nothing to free.
 */
#ifndef FL_HUB_CONF_H
#define FL_HUB_CONF_H

#include <stddef.h>

#define HUB_STR 256
#define HUB_PATH 1024
#define HUB_URL 1024
#define HUB_MAX_SITES 64
#define HUB_MAX_HOOKS 4    /* webhooks per list */
#define HUB_MAX_PROXIES 16 /* http.trusted_proxies */

enum hub_hook_format { HUB_HOOK_GENERIC, HUB_HOOK_WECOM, HUB_HOOK_DINGTALK };

typedef struct hub_hook {
	char url[HUB_URL];
	int format; /* enum hub_hook_format */
} hub_hook;

/* Where one site's alerts go. */
typedef struct hub_site_alerts {
	char site[HUB_STR];
	hub_hook hooks[HUB_MAX_HOOKS]; /* property managers */
	int nhooks;
	hub_hook escalate[HUB_MAX_HOOKS]; /* enforcement contact */
	int nescalate;
	char escalate_topic[HUB_STR]; /* "" = firelane/<site>/enforcement */
	double escalate_s;            /* alerts.escalate_s unless given */
	/* the vehicle's owner (the resident register, docs/hub.md): the
	 * SMS/voice gateway's URL, the body template, and when */
	char owner_webhook[HUB_URL];
	char owner_template[1024];
	double notify_owner_s; /* after the alarm; 0 = never */
	int line;
} hub_site_alerts;

typedef struct hub_mqtt_conf {
	char host[HUB_STR];
	int port; /* 1883, or 8883 with TLS, unless given */
	char username[HUB_STR];
	char password[HUB_STR];
	char client_id[HUB_STR];
	char shared_group[HUB_STR]; /* "" = plain subscription */
	char tls_ca[HUB_PATH];      /* CA file: TLS on; "" = plain TCP */
	char tls_cert[HUB_PATH];    /* client certificate (PEM), optional */
	char tls_key[HUB_PATH];     /* its key (PEM) */
	int keepalive_s;
	int session_expiry_s; /* MQTT 5 session expiry */
} hub_mqtt_conf;

typedef struct hub_http_conf {
	char listen[HUB_STR];     /* ADDR:PORT of the web UI; "" = none */
	char tls_cert[HUB_PATH];  /* HTTPS certificate (PEM); "" = HTTP */
	char tls_key[HUB_PATH];   /* its private key (PEM) */
	char secure_cookies[8];   /* auto|on|off */
	double session_idle_s;    /* a session ends after this idle */
	int threads;              /* the server's thread pool */
	double request_timeout_s; /* a whole request must arrive within */
	int max_connections;      /* open connections at most */
	int max_per_address; /* from one address (trusted proxies exempt) */
	/* reverse proxies whose X-Forwarded-For names the client
	 * (numeric addresses as written) */
	char trusted_proxies[HUB_MAX_PROXIES][48];
	int ntrusted_proxies;
	/* GET /metrics: "Authorization: Bearer <this>" from anywhere; "" =
	 * loopback clients only (docs/api.md, "Metrics") */
	char metrics_token[HUB_STR];
} hub_http_conf;

typedef struct hub_ui_conf {
	char language[8]; /* zh-CN|en: for a browser that asks for neither */
} hub_ui_conf;

/* Exactly one of the two is set (docs/store.md). */
typedef struct hub_store_conf {
	char sqlite[HUB_PATH];     /* a file */
	char postgresql[HUB_PATH]; /* postgresql://... (may hold a password) */
} hub_store_conf;

typedef struct hub_alerts_conf {
	int mqtt;            /* publish on firelane/<site>/alerts */
	char language[8];    /* zh-CN|en */
	double escalate_s;   /* 0 = no escalation */
	int retry_max;       /* attempts per alert before giving up */
	double retry_base_s; /* first retry after this, doubling */
	double retry_cap_s;  /* at most this between attempts */
	double timeout_s;    /* per HTTP attempt */
	double lease_s;      /* a hub's claim of an alert job (> timeout_s) */
	double picture_days; /* an alert's picture link is valid this long */
	hub_site_alerts sites[HUB_MAX_SITES];
	int nsites;
} hub_alerts_conf;

/* Enrolment by one-time code (docs/api.md, "Enrolment"). */
typedef struct hub_enrol_conf {
	double code_ttl_s; /* a code is valid this long */
	/* the broker account that makes the devices' accounts (mosquitto's
	 * dynamic security plugin); "" = no enrolment by code */
	char admin_username[HUB_STR];
	char admin_password[HUB_STR];
	double broker_timeout_s; /* the broker's answer must come within */
	/* what an enrolled device is told to connect to */
	char mqtt_host[HUB_STR]; /* "" = mqtt.host */
	int mqtt_port;           /* 0 = mqtt.port */
	char mqtt_tls[8];        /* auto (as the hub: mqtt.tls_ca), on, off */
} hub_enrol_conf;

typedef struct hub_conf {
	char path[HUB_PATH];
	hub_mqtt_conf mqtt;
	hub_http_conf http;
	/* the hub's zone ("", "Asia/Shanghai", "+08:00"; core/zone.h):
	 * times shown to people, report days, dates in queries */
	char timezone[64];
	int tz_offset_s;  /* its offset east of UTC (at start, for a zone) */
	char tz_name[64]; /* its tz database name for browsers; "" = fixed */
	hub_ui_conf ui;
	hub_store_conf store;
	char evidence_dir[HUB_PATH];
	char public_url[HUB_URL];
	hub_alerts_conf alerts;
	hub_enrol_conf enrol;
	size_t max_payload;        /* bytes; larger messages are quarantined */
	int quarantine_max;        /* rows kept in the quarantine table */
	double incoming_max_age_s; /* an incomplete bundle is dropped after */
	double incoming_device_max_mb; /* .incoming per device */
	double incoming_max_mb;        /* .incoming in all */
	double evidence_reserve_mb;    /* free space evidence never takes */
	double evidence_keep_days;     /* 0: evidence is kept forever */
	double evidence_scrub_s;       /* verified files hashed again; 0: off */
	double receipt_resend_days;    /* 0: no receipts re-sent on reconnect */
	int require_signed;          /* unsigned device messages: quarantine */
	char hub_key_file[HUB_PATH]; /* "" = hub.key beside store.sqlite
				      (required with store.postgresql) */
} hub_conf;

/* Defaults (a valid configuration once mqtt.host, store.sqlite (or
 * store.postgresql with hub_key_file) and evidence_dir are set). */
void hub_conf_defaults(hub_conf *c);

/*
 * Load path into c (defaults first). Returns 0, or a negative fl_errno with
 * "path:line: reason" (or "path: errno text") in err.
 */
int hub_conf_load(hub_conf *c, const char *path, char *err, size_t errlen);

/* The same from len bytes of text, named name in messages. */
int hub_conf_parse(hub_conf *c, const char *text, size_t len, const char *name,
		   char *err, size_t errlen);

/*
 * Make the configured timezone the process's zone (fl_tz_set) and settle
 * tz_offset_s (a zone's offset now) and tz_name. Call once at start,
 * before any thread. 0, or a negative fl_errno with the reason in err.
 */
int hub_conf_zone(hub_conf *c, char *err, size_t errlen);

/* The site's alert routing, or NULL when the site has none. Borrowed. */
const hub_site_alerts *hub_conf_site(const hub_conf *c, const char *site);

/*
 * Write the effective configuration as YAML (every key, defaults included,
 * the password as "***"): it loads again as the same configuration.
 * snprintf semantics: returns what would have been written.
 */
size_t hub_conf_dump(const hub_conf *c, char *buf, size_t len);

/* Write a commented sample configuration (every key with its default and
 * help line, one site with webhooks); it loads as is. snprintf semantics. */
size_t hub_conf_sample(char *buf, size_t len);

/* Write the reference of every key (markdown, docs/hub-config.md).
 * snprintf semantics. */
size_t hub_conf_doc(char *buf, size_t len);

/* The hub key's file: hub_key_file, or hub.key in store.sqlite's folder.
 * snprintf semantics. */
size_t hub_conf_key_path(const hub_conf *c, char *buf, size_t len);

/* The store's URL for fl_db_open: "sqlite:PATH" or store.postgresql as
 * written (with its password: never for a message). snprintf semantics. */
size_t hub_conf_store_url(const hub_conf *c, char *buf, size_t len);

/* The store for a message or the log: store.sqlite's path, or
 * store.postgresql with its password as "***" (fl_url_redact). */
void hub_conf_store_name(const hub_conf *c, char *buf, size_t len);

/* Room for any path the hub builds: the evidence folder (< 1024 bytes)
 * plus ids (< 128 bytes each) and a file name. */
#define HUB_PATHLEN 1400

/* snprintf without the compiler's truncation guesses, for paths bounded
 * by the limits above. Returns what snprintf returns. */
int hub_fmt(char *buf, size_t len, const char *f, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* FL_HUB_CONF_H */
