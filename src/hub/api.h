/*
 * api.h - the answers of the hub's web server: the JSON API, evidence
 * files, case packages, the UI's routes and static files (docs/api.md).
 *
 * api.c knows nothing of libmicrohttpd: http.c turns a request into a
 * hub_req, calls hub_api_handle() and sends the hub_resp. Permissions,
 * CSRF, the login rate limit and the audit trail are all decided here.
 */
#ifndef FL_HUB_API_H
#define FL_HUB_API_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "db.h"
#include "hubconf.h"
#include "intact.h"
#include "metrics.h"
#include "session.h"
#include "status.h"

typedef struct hub_api {
	const hub_conf *conf;
	fl_db *db; /* the server's own handle */
	hub_sessions *sessions;
	hub_intact *intact; /* which evidence file versions were checked */
	int secure_cookies; /* add Secure to the session cookie */
	unsigned char still_key[32]; /* the picture links' (stills.h) */
	hub_status *status;          /* the hub's own state, or NULL */
	hub_metrics *metrics;        /* the counters of /metrics, or NULL */
	/* the fleet by status for /metrics, read from the store at most
	 * every HUB_FLEET_TTL_S (api_admin.c); under fleet_mu */
	pthread_mutex_t fleet_mu;
	double fleet_at;     /* fl_mono_s() of the reading, 0: none */
	long long fleet[4];  /* online, offline, stopped, unknown */
	atomic_int stopping; /* set by hub_http_stop: waits for devices end */
} hub_api;

/* One request. Strings are borrowed for the call. */
typedef struct hub_req {
	const char *method; /* "GET", "POST", ... */
	const char *path;   /* percent-decoded, without the query */
	/* a query parameter's value, or NULL */
	const char *(*arg)(void *ctx, const char *name);
	void *ctx;
	const char *cookie, *csrf, *range, *if_none_match; /* headers or NULL */
	const char *accept_language;                       /* header or NULL */
	const char *ctype, *origin, *referer, *host;       /* headers or NULL */
	const char *authorization;                         /* header or NULL */
	const char *addr; /* the client's address */
	const char *body; /* the request body (may hold NULs) */
	size_t body_len;
	int body_too_large; /* more than 64 KiB were sent */
	double now;
} hub_req;

#define HUB_RESP_HEADERS 6

/* One answer. Either body (malloc'd, len bytes; the sender frees it unless
 * body_static) or a file: fd (the sender closes it) from offset, flen
 * bytes. */
typedef struct hub_resp {
	int status;
	const char *ctype; /* static string */
	char *body;
	size_t len;
	int body_static; /* body is the binary's (an asset): not freed */
	int fd;          /* -1: none */
	long long offset, flen;
	int no_store; /* Cache-Control: no-store (API answers) */
	struct {
		char name[32];
		char value[512];
	} hdr[HUB_RESP_HEADERS];
	int nhdr;
} hub_resp;

/* Answers req into resp (which it initialises). Never fails: errors are
 * answers ({"error": ...} with their status). */
void hub_api_handle(hub_api *a, const hub_req *req, hub_resp *resp);

/*
 * 1 when a request of method to path may wait for something outside the
 * hub - a device's answer over MQTT (a snapshot, the import of its
 * configuration: up to 20 s) or the broker (an enrolment's account) - so
 * the server answers it off its threads (http.c, "A note on waiting").
 * Pure; any thread.
 */
int hub_api_waits(const char *method, const char *path);

/*
 * At start, before the web side serves: every configuration apply still
 * marked sent (the hub stopped before the device answered) settled by the
 * device's last heartbeat - applied when its config_version is that
 * version, else "no answer (hub restarted)" - and audited as "hub"
 * (api_devices.c). Without it such a version would show "sent" for ever.
 */
void hub_api_settle_applies(hub_api *a, double now);

#endif /* FL_HUB_API_H */
