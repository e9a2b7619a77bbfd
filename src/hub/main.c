/*
 * main.c - firelane-hub: argv, configuration, signals, logging, wiring.
 *
 * Modes (each administration mode exits when done):
 *   --config FILE                   run: subscribe to the fleet and ingest
 *   --config FILE --check-config    print the effective configuration or
 *                                   the first error (FILE:LINE: reason)
 *   --sample-config                 print a commented sample configuration
 *                                   (every key, its default and help)
 *   --add-user NAME --role R [--sites S1,S2]
 *                                   add a user; the password is read from
 *                                   standard input (one line)
 *   --enrol-device ID --site SITE --public-key FILE
 *                                   enrol a device with the key printed by
 *                                   firelane-edge --print-public-key
 *   --delete-user NAME              remove a user; their sessions end
 *   --unlock-user NAME              forget the user's failed logins from
 *                                   every address (the login throttle)
 *   --print-public-key              the hub key's public half (created on
 *                                   first use), for the edges' mqtt.hub_key
 *   --print-store-url               the store's URL as fl_db_open takes it,
 *                                   password included (firelane-backup)
 *   --command DEVICE JSON [--timeout S]
 *                                   send a command, signed with the hub
 *                                   key, and print the device's answer
 *                                   (JSON "-": read from standard input)
 *
 * The hub key (hub_key_file, docs/security.md) signs what the hub says to
 * devices: commands and delivery receipts. It is loaded (or created) at
 * start; without it the hub does not run.
 *
 * The running hub is one thread doing MQTT and ingest (the ingest MQTT
 * client's owner: fl_mqtt_run() hands messages to hub_ingest_message()),
 * the alerts' MQTT and webhook threads (alerts.c) and the evidence
 * scrub's (intact.c, unless evidence_scrub_s is 0). The loop:
 *
 *   pump MQTT (messages in, ingest) -> alerts tick (escalations, owner
 *   notifications) -> receipts (paced) -> budgets -> feed systemd's
 *   watchdog -> until SIGTERM/SIGINT
 *
 * Two MQTT connections: the fleet's messages come in on mqtt.client_id,
 * the MQTT alerts go out on <client_id>-alerts (alerts_client below), so
 * an alert's acknowledgement does not wait behind the ingest backlog;
 * that connection is owned by the alerts' MQTT thread, whose store
 * transactions (a claim and a sent mark per alert) so do not come
 * between ingest's commits.
 *
 * One message, one commit. Ingest commits each message's writes durably
 * (a transaction each, not shared with other messages), and the next
 * message arrives only after that: Paho sends a QoS 1 message's PUBACK
 * when its message-arrived callback returns, on one receive thread shared
 * by every client in the process, and cannot acknowledge later (client.c, "A note on
 * acknowledgement"). So the hub holds one unacknowledged message at a time
 * and cannot put several into one transaction (the store's batches,
 * docs/store.md section 2) without acknowledging some before their
 * commit. More messages a second come from more hub processes on a shared
 * subscription (docs/deploy.md); what the commit costs in a reconnect
 * storm is measured in docs/fleetsim.md, "Group commits".
 *
 * Degraded mode (docs/hub.md). A message ingest could not store through
 * no fault of its own (fl_err_transient) is not acknowledged: on_message
 * says so to the MQTT client, which holds it and offers it again with a
 * back-off, while nothing else comes in. The hub is degraded from that
 * refusal to the next message taken: logged when it starts, every 30 s
 * while it lasts and when it ends, and shown by status.c (GET /healthz,
 * GET /api/hub, the fleet page). The loop goes on meanwhile: alerts
 * already made go out, the web answers.
 *
 * Signals only set a volatile sig_atomic_t flag; the loop notices it within
 * one turn (200 ms), disconnects cleanly and closes the store.
 *
 * Under systemd (systemd/firelane-hub.service.in, Type=notify) the hub
 * says READY=1 once the store is open, the web server listens and the MQTT
 * client runs; WATCHDOG=1 from the loop every WatchdogSec/2 (a loop stuck
 * in ingest or the store stops feeding it and systemd restarts the hub);
 * STOPPING=1 when the loop ends (src/util/systemd.h).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "alerts.h"
#include "budget.h"
#include "client.h"
#include "clock.h"
#include "command.h"
#include "db.h"
#include "fl.h"
#include "http.h"
#include "hubconf.h"
#include "incoming.h"
#include "ingest.h"
#include "intact.h"
#include "metrics.h"
#include "receipts.h"
#include "sign.h"
#include "topic.h"
#include "status.h"
#include "systemd.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: firelane-hub --config FILE [--check-config] [-v]\n"
		"       firelane-hub --sample-config   (every key, commented; "
		"docs/hub-config.md)\n"
		"       firelane-hub --config FILE --add-user NAME --role "
		"admin|enforcement|property|installer [--sites S1,S2] < "
		"password\n"
		"       firelane-hub --config FILE --enrol-device ID --site SITE "
		"--public-key FILE\n"
		"       firelane-hub --config FILE --delete-user NAME\n"
		"       firelane-hub --config FILE --unlock-user NAME\n"
		"       firelane-hub --config FILE --print-public-key\n"
		"       firelane-hub --config FILE --print-store-url\n"
		"       firelane-hub --config FILE --command DEVICE JSON|- "
		"[--timeout S]\n");
}

/* Print the effective configuration of c, or with c NULL the commented
 * sample (both written with snprintf semantics: measured first). 0, or 1
 * out of memory. */
static int print_conf(const hub_conf *c)
{
	size_t n = c ? hub_conf_dump(c, NULL, 0) : hub_conf_sample(NULL, 0);
	char *text = malloc(n + 1);

	if (!text) {
		fprintf(stderr, "firelane-hub: out of memory\n");
		return 1;
	}
	if (c)
		hub_conf_dump(c, text, n + 1);
	else
		hub_conf_sample(text, n + 1);
	fputs(text, stdout);
	free(text);
	return 0;
}

static fl_db *open_store(const hub_conf *c)
{
	char url[HUB_PATH + 16], name[HUB_PATH + 16], err[512];
	fl_db *db;

	hub_conf_store_url(c, url, sizeof(url));
	db = fl_db_open(url, err, sizeof(err));
	if (!db) {
		hub_conf_store_name(c, name, sizeof(name));
		fprintf(stderr, "firelane-hub: store %s: %s\n", name, err);
	}
	return db;
}

static int add_user(const hub_conf *c, const char *name, const char *role,
		    const char *sites)
{
	char pw[512], err[512];
	fl_db *db = NULL;
	size_t n;
	int rc = 1;

	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	char *got;

	if (tty) { /* typed by a person: no echo */
		fprintf(stderr, "password for %s: ", name);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	}
	got = fgets(pw, sizeof(pw), stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fputc('\n', stderr);
	}
	if (!got) {
		fprintf(stderr,
			"firelane-hub: no password on standard input\n");
		return 1;
	}
	n = strlen(pw);
	while (n && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
		pw[--n] = 0;
	if (!n) {
		fprintf(stderr, "firelane-hub: empty password\n");
		goto out;
	}
	db = open_store(c);
	if (!db)
		goto out;
	if (fl_db_user_add(db, name, pw, role, sites, err, sizeof(err))) {
		fprintf(stderr, "firelane-hub: --add-user %s: %s\n", name, err);
		goto out;
	}
	fl_db_audit(db, "cli", "user_add", name, role, fl_wall_s());
	printf("user %s added (%s%s%s)\n", name, role, sites ? ", sites " : "",
	       sites ? sites : "");
	rc = 0;
out:
	sodium_memzero(pw, sizeof(pw));
	fl_db_close(db);
	return rc;
}

static int enrol(const hub_conf *c, const char *device, const char *site,
		 const char *keyfile)
{
	char b64[256], err[512];
	unsigned char pk[32];
	FILE *f = fopen(keyfile, "r");
	fl_db *db = NULL;
	size_t n;
	int rc = 1;

	if (!f) {
		fprintf(stderr, "firelane-hub: %s: cannot read\n", keyfile);
		return 1;
	}
	n = fread(b64, 1, sizeof(b64) - 1, f);
	fclose(f);
	b64[n] = 0;
	while (n &&
	       (b64[n - 1] == '\n' || b64[n - 1] == '\r' || b64[n - 1] == ' '))
		b64[--n] = 0;
	if (fl_key_public_from_b64(b64, pk)) {
		fprintf(stderr,
			"firelane-hub: %s: not a base64 Ed25519 public key\n",
			keyfile);
		return 1;
	}
	db = open_store(c);
	if (!db)
		return 1;
	if (fl_db_device_enrol(db, device, site, b64, err, sizeof(err))) {
		fprintf(stderr, "firelane-hub: --enrol-device %s: %s\n", device,
			err);
		goto out;
	}
	fl_db_audit(db, "cli", "device_enrol", device, site, fl_wall_s());
	printf("device %s enrolled for site %s\n", device, site);
	rc = 0;
out:
	fl_db_close(db);
	return rc;
}

/* --delete-user and --unlock-user: one store call each, audited as "cli".
 * The store removes a deleted user's sessions with the user, so a running
 * hub finds none at their next request. */
static int user_admin(const hub_conf *c, const char *name, int unlock)
{
	fl_db *db = open_store(c);
	char detail[64];
	long n = 0;
	int rc = 1, r;

	if (!db)
		return 1;
	if (unlock) {
		r = fl_db_login_reset(db, name, NULL, &n);
		if (!r && !n &&
		    fl_db_user_info(db, name, NULL, 0, NULL, 0, NULL) ==
			    FL_ENOENT)
			r = FL_ENOENT;
	} else {
		r = fl_db_user_delete(db, name);
	}
	if (r) {
		fprintf(stderr, "firelane-hub: --%s-user %s: %s\n",
			unlock ? "unlock" : "delete", name,
			r == FL_ENOENT ? "no such user" : fl_strerror(r));
		goto out;
	}
	snprintf(detail, sizeof(detail), "%ld address%s", n,
		 n == 1 ? "" : "es");
	fl_db_audit(db, "cli", unlock ? "user_unlock" : "user_delete", name,
		    unlock ? detail : NULL, fl_wall_s());
	if (unlock)
		printf("user %s unlocked (failed logins from %s forgotten)\n",
		       name, detail);
	else
		printf("user %s deleted\n", name);
	rc = 0;
out:
	fl_db_close(db);
	return rc;
}

/* The hub key (hub_key_file, created on first use). 0, or 1 with the
 * reason on stderr. */
static int load_key(const hub_conf *c, fl_key *key)
{
	char path[HUB_PATH + 16], err[1024];
	int created = 0;

	hub_conf_key_path(c, path, sizeof(path));
	if (fl_key_load_or_create(path, key, &created, err, sizeof(err)) < 0) {
		fprintf(stderr, "firelane-hub: hub key: %s\n", err);
		return 1;
	}
	if (created)
		fl_log(FL_LOG_WARN, "hub",
		       "created the hub key %s: give its public half "
		       "(firelane-hub --print-public-key) to every edge as "
		       "mqtt.hub_key",
		       path);
	return 0;
}

/* --print-public-key: the hub key's public half, base64, on stdout. */
static int print_key(const hub_conf *c)
{
	fl_key key;
	char b64[FL_KEY_B64_LEN];

	if (load_key(c, &key))
		return 1;
	fl_key_public_b64(&key, b64, sizeof(b64));
	fl_key_wipe(&key);
	printf("%s\n", b64);
	return 0;
}

/* --print-store-url: the store's URL as the hub opens it ("sqlite:PATH"
 * or store.postgresql as written, its password included: the one mode
 * that prints it, for firelane-backup, which reads the same file). */
static int print_store_url(const hub_conf *c)
{
	char url[HUB_PATH + 16];

	hub_conf_store_url(c, url, sizeof(url));
	printf("%s\n", url);
	return 0;
}

/* Standard input whole (JSON of a command: a config one may be far past
 * what one argument may hold, 128 kB on Linux), malloc'd, or NULL. */
static char *read_stdin(void)
{
	size_t cap = 2 * FL_CMD_CONFIG_MAX + 4096, len = 0, n;
	char *buf = malloc(cap + 1);

	if (!buf)
		return NULL;
	while ((n = fread(buf + len, 1, cap - len, stdin)) > 0)
		len += n;
	if (ferror(stdin) || len == cap) {
		fprintf(stderr, "firelane-hub: --command: standard input: %s\n",
			len == cap ? "too long" : strerror(errno));
		free(buf);
		return NULL;
	}
	buf[len] = 0;
	return buf;
}

/* --command DEVICE JSON ("-": read from standard input): 0 done, 1 refused
 * by the device, 2 not sent or not answered. */
static int command(const hub_conf *c, const char *device, const char *json,
		   double timeout_s)
{
	fl_key key;
	char err[1024], *in = NULL;
	fl_db *db = NULL;
	int rc = 2;

	if (!strcmp(json, "-") && !(json = in = read_stdin()))
		return 2;
	if (load_key(c, &key)) {
		free(in);
		return 2;
	}
	db = open_store(c);
	if (!db)
		goto out;
	rc = hub_command_send(c, db, &key, device, json, timeout_s, NULL,
			      stdout, err, sizeof(err));
	if (rc == 2)
		fprintf(stderr, "firelane-hub: --command: %s\n", err);
	else
		fl_db_audit(db, "cli", "command", device, json, fl_wall_s());
out:
	fl_db_close(db);
	fl_key_wipe(&key);
	free(in);
	return rc;
}

struct hub {
	const hub_conf *conf;
	hub_ingest ingest;
	hub_alerts *alerts;
	hub_status *status;
	double last_warn; /* the last "still degraded" line */
};

/* How often a degraded hub says so again in its log. */
#define DEGRADED_LOG_S 30.0

static int on_message(const char *topic, const void *payload, size_t len,
		      void *user)
{
	struct hub *h = user;
	double now = fl_wall_s(), was;
	int rc = hub_ingest_message(&h->ingest, topic, payload, len, now);

	if (rc < 0) {
		hub_metrics_add(h->ingest.metrics, HUB_M_HELD, 1);
		if (hub_status_refused(h->status, h->ingest.why, now)) {
			fl_log(FL_LOG_ERROR, "hub",
			       "degraded: cannot store a message (%s): %s; not "
			       "acknowledged, messages wait at the broker, "
			       "retried",
			       fl_strerror(rc), h->ingest.why);
			h->last_warn = now;
		} else if (now - h->last_warn >= DEGRADED_LOG_S) {
			fl_log(FL_LOG_ERROR, "hub", "still degraded: %s",
			       h->ingest.why);
			h->last_warn = now;
		}
		return rc;
	}
	was = hub_status_taken(h->status, now, h->ingest.stored,
			       h->ingest.duplicates, h->ingest.quarantined,
			       h->ingest.chunks);
	if (was > 0)
		fl_log(FL_LOG_WARN, "hub",
		       "ingesting again after %.1f s degraded", was);
	return 0;
}

static void on_published(uint64_t token, int rc, void *user)
{
	struct hub *h = user;

	hub_alerts_published(h->alerts, token, rc);
}

static void on_connect(void *user)
{
	(void)user;
	fl_log(FL_LOG_INFO, "mqtt", "connected");
}

/*
 * The MQTT alerts' own connection (docs/hub.md, "The alerts' own
 * connection"), client id <mqtt.client_id>-alerts, the same broker,
 * account and TLS, nothing subscribed (ingest its client, the loop's
 * wait): an alert's PUBACK comes on its own socket instead of behind
 * every fleet message the broker has already written to the ingest
 * connection, which the hub reads one commit at a time. Persistent like
 * the ingest connection, for two reasons: Paho's global mutex is held
 * while the ingest callback waits for this thread, so this client's Paho
 * calls must go through its caller thread as well (client.c, "A note on
 * acknowledgement"), and with its session kept a publish in flight when
 * the connection went is sent again after the reconnect, as before.
 * Made only with alerts.mqtt on: without it no MQTT job is made (one
 * left in the store from before waits there until it is on again).
 * Started here, then handed to the alerts' MQTT thread
 * (hub_alerts_start_mqtt), which runs it; NULL (logged) when it cannot be
 * made.
 */
static fl_mqtt *alerts_client(const hub_conf *c, struct hub *h, char *id,
			      size_t idlen)
{
	char err[512];
	fl_mqtt_opts o;
	fl_mqtt *m;

	memset(&o, 0, sizeof(o));
	hub_mqtt_opts(c, &o);
	snprintf(id, idlen, "%s-alerts", c->mqtt.client_id);
	o.client_id = id;
	o.persistent = 1;
	o.session_expiry_s = c->mqtt.session_expiry_s;
	o.on_published = on_published;
	o.user = h; /* on_published: on the alerts' MQTT thread */
	m = fl_mqtt_create(&o, NULL, err, sizeof(err));
	if (!m) {
		fprintf(stderr, "firelane-hub: mqtt (alerts): %s\n", err);
		return NULL;
	}
	fl_mqtt_start(m);
	return m;
}

static int run(const hub_conf *c)
{
	static fl_key key; /* the hub key: wiped at the end */
	struct hub h;
	fl_db *db = NULL;
	fl_mqtt *m = NULL, *ma = NULL; /* ingest, the MQTT alerts */
	hub_alerts *al = NULL;
	hub_http *web = NULL;
	hub_scrub *scrub = NULL;
	hub_receipts *rq = NULL;
	hub_incoming *inq = NULL;
	static hub_status status;   /* read by the web server's threads */
	static hub_metrics metrics; /* counted by all, read by the web */
	char err[512], filter[HUB_STR + 32], store[HUB_PATH + 16];
	char alerts_id[HUB_STR + 8];
	double last_tick = 0, last_wd = 0, wd = fl_sd_watchdog_s();
	hub_budget budget = { 0, 0 };
	fl_mqtt_opts o;
	int rc = 1;

	memset(&h, 0, sizeof(h));
	h.conf = c;
	hub_status_init(&status);
	h.status = &status;
	hub_metrics_init(&metrics, fl_wall_s());
	if (load_key(c, &key))
		goto out;
	db = open_store(c);
	if (!db)
		goto out;
	if (c->http.listen[0]) { /* the web UI and API, own store handle */
		web = hub_http_start(c, &status, &metrics, err, sizeof(err));
		if (!web) {
			fprintf(stderr, "firelane-hub: http: %s\n", err);
			goto out;
		}
	}
	if (c->evidence_scrub_s > 0 &&
	    !(scrub = hub_scrub_start(c, err, sizeof(err)))) {
		fprintf(stderr, "firelane-hub: evidence scrub: %s\n", err);
		goto out;
	}
	al = hub_alerts_create(c, &metrics, db, err, sizeof(err));
	if (!al) {
		fprintf(stderr, "firelane-hub: alerts: %s\n", err);
		goto out;
	}
	rq = hub_receipts_create(&key);
	inq = hub_incoming_create(c);
	if (!rq || !inq) {
		fprintf(stderr, "firelane-hub: out of memory\n");
		goto out;
	}
	h.alerts = al;
	h.ingest = (hub_ingest){ .conf = c,
				 .db = db,
				 .alerts = al,
				 .receipts = rq,
				 .incoming = inq,
				 .metrics = &metrics };
	if (!c->require_signed)
		fl_log(FL_LOG_WARN, "hub",
		       "require_signed is off: unsigned device messages are "
		       "taken (only while devices are upgraded; "
		       "docs/security.md)");
	memset(&o, 0, sizeof(o));
	hub_mqtt_opts(c, &o);
	o.client_id = c->mqtt.client_id;
	/* the broker keeps what arrives while we are away; a message is
	 * acknowledged only once ingest has stored it */
	o.persistent = 1;
	o.session_expiry_s = c->mqtt.session_expiry_s;
	/* an oversized message is refused before it is copied, and the
	 * broker is asked not to send one much larger (docs/hub.md) */
	o.max_payload = c->max_payload;
	o.on_connect = on_connect;
	o.on_message = on_message;
	o.user = &h;
	m = fl_mqtt_create(&o, NULL, err, sizeof(err));
	if (!m) {
		fprintf(stderr, "firelane-hub: mqtt: %s\n", err);
		goto out;
	}
	hub_ingest_filter(c, filter, sizeof(filter));
	fl_mqtt_subscribe(m, filter);
	if (fl_mqtt_start(m)) {
		fprintf(stderr, "firelane-hub: mqtt: cannot start\n");
		goto out;
	}
	if (c->alerts.mqtt &&
	    !(ma = alerts_client(c, &h, alerts_id, sizeof(alerts_id))))
		goto out;
	if (ma && hub_alerts_start_mqtt(al, ma, err, sizeof(err))) {
		fprintf(stderr, "firelane-hub: alerts: %s\n", err);
		goto out;
	}
	hub_conf_store_name(c, store, sizeof(store));
	fl_log(FL_LOG_INFO, "hub",
	       "running: %s:%d, subscribed to %s, store %s, time zone %s "
	       "(UTC%+.2g h)",
	       c->mqtt.host, c->mqtt.port, filter, store,
	       c->tz_name[0]    ? c->tz_name
	       : c->timezone[0] ? c->timezone
				: "of the machine",
	       c->tz_offset_s / 3600.0);
	fl_sd_notify("READY=1\nSTATUS=running");
	while (!stop_requested) {
		double now;

		fl_mqtt_run(m, 200);
		now = fl_wall_s();
		if (now - last_tick >= 0.5) {
			hub_alerts_tick(al, db, now);
			hub_budget_tick(&budget, c, db, inq, now);
			last_tick = now;
		}
		hub_receipts_pump(rq, m);
		if (wd > 0 && fl_mono_s() - last_wd >= wd) {
			fl_sd_notify("WATCHDOG=1");
			last_wd = fl_mono_s();
		}
	}
	fl_sd_notify("STOPPING=1");
	fl_log(FL_LOG_INFO, "hub",
	       "stopping: %ld stored, %ld duplicates, %ld quarantined, "
	       "%ld chunks, %ld unsigned taken, %ld stale statuses",
	       h.ingest.stored, h.ingest.duplicates, h.ingest.quarantined,
	       h.ingest.chunks, h.ingest.unsigned_taken, h.ingest.stale);
	/* ingest first: while a message's callback waits for this thread it
	 * holds Paho's mutex, which the alerts' disconnect (on the alerts'
	 * MQTT thread) needs */
	fl_mqtt_stop(m, NULL, NULL, 1000);
	rc = 0;
out:
	hub_alerts_stop_mqtt(al); /* disconnects ma; then ma is ours */
	hub_http_stop(web);       /* before the store: requests finish first */
	hub_scrub_stop(scrub);
	fl_mqtt_destroy(ma);
	fl_mqtt_destroy(m);
	hub_alerts_destroy(al);
	hub_receipts_destroy(rq);
	hub_incoming_destroy(inq);
	fl_db_close(db);
	fl_key_wipe(&key);
	hub_status_deinit(&status);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "sample-config", no_argument, NULL, 'P' },
		{ "add-user", required_argument, NULL, 'u' },
		{ "role", required_argument, NULL, 'r' },
		{ "sites", required_argument, NULL, 's' },
		{ "enrol-device", required_argument, NULL, 'e' },
		{ "site", required_argument, NULL, 'S' },
		{ "public-key", required_argument, NULL, 'p' },
		{ "delete-user", required_argument, NULL, 'D' },
		{ "unlock-user", required_argument, NULL, 'U' },
		{ "print-public-key", no_argument, NULL, 'K' },
		{ "print-store-url", no_argument, NULL, 'Q' },
		{ "command", required_argument, NULL, 'C' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *user = NULL, *role = NULL, *sites = NULL;
	const char *device = NULL, *site = NULL, *keyfile = NULL;
	const char *del = NULL, *unlock = NULL;
	const char *cmd_device = NULL;
	static hub_conf conf; /* large: not on the stack */
	struct sigaction sa;
	char err[1024], *end;
	double timeout_s = 10;
	int check = 0, verbose = 0, print_pk = 0, print_url = 0, c, rc;

	while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'k':
			check = 1;
			break;
		case 'P':
			return print_conf(NULL);
		case 'u':
			user = optarg;
			break;
		case 'r':
			role = optarg;
			break;
		case 's':
			sites = optarg;
			break;
		case 'e':
			device = optarg;
			break;
		case 'S':
			site = optarg;
			break;
		case 'p':
			keyfile = optarg;
			break;
		case 'D':
			del = optarg;
			break;
		case 'U':
			unlock = optarg;
			break;
		case 'K':
			print_pk = 1;
			break;
		case 'Q':
			print_url = 1;
			break;
		case 'C':
			cmd_device = optarg;
			break;
		case 't':
			timeout_s = strtod(optarg, &end);
			if (*end || !(timeout_s > 0 && timeout_s <= 3600)) {
				usage(stderr);
				return 2;
			}
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* --command takes the JSON as its one operand; nothing else does */
	if (!config || optind != argc - (cmd_device != NULL) ||
	    (!!user + !!device + !!del + !!unlock + print_pk + print_url +
	     !!cmd_device + check) > 1 ||
	    (user && !role) || (device && (!site || !keyfile)) ||
	    (!user && (role || sites)) || (!device && (site || keyfile))) {
		usage(stderr);
		return 2;
	}
	fl_log_set(fl_log_stderr, FL_LOG_WARN + verbose,
		   (void *)"firelane-hub");
	if (sodium_init() < 0) {
		fprintf(stderr, "firelane-hub: libsodium failed to start\n");
		return 1;
	}
	rc = hub_conf_load(&conf, config, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "firelane-hub: %s\n", err);
		return 1;
	}
	if (check)
		return print_conf(&conf);
	if (user)
		return add_user(&conf, user, role, sites);
	if (device)
		return enrol(&conf, device, site, keyfile);
	if (del || unlock)
		return user_admin(&conf, del ? del : unlock, !del);
	if (print_pk)
		return print_key(&conf);
	if (print_url)
		return print_store_url(&conf);
	if (cmd_device)
		return command(&conf, cmd_device, argv[optind], timeout_s);
	/* the zone people read times in, before any thread starts */
	if (hub_conf_zone(&conf, err, sizeof(err))) {
		fprintf(stderr, "firelane-hub: %s: timezone: %s\n", config,
			err);
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = run(&conf);
	curl_global_cleanup();
	return rc;
}
