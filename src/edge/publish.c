/*
 * publish.c - the edge's MQTT sink (docs/mqtt.md is the contract).
 *
 * A note on what goes where. The edge talks to the hub on two paths.
 *
 *   - The spool (src/mqtt/spool.c): everything the hub must get exactly as
 *     it happened - incident messages, camera events, evidence chunks,
 *     heartbeats. A message is on disk (fsync'ed) before the event sink
 *     returns, and leaves the disk only when the broker has acknowledged
 *     it. Delivery is in spool order, so an incident's messages arrive in
 *     the order of their seq.
 *   - Direct publishes: what describes the present and is simply
 *     re-published on every (re)connection - status, retained lane states
 *     and settings, Home Assistant discovery, command answers, the latest
 *     evidence image. Losing one while offline loses nothing: the next
 *     connection publishes the current value.
 *
 * This file holds the connection (status and its last will, the messages
 * that come in: commands, receipts, Home Assistant's birth), the spool and
 * the publisher's life; the concerns are in files of their own, listed in
 * publish_internal.h: incident messages, the records that survive a kill,
 * evidence upload, retained state.
 *
 * A note on trust (docs/mqtt.md, "Signed messages"; docs/security.md).
 * Everything the edge publishes for the hub - spooled or direct, the last
 * will included - is signed with the device key over the topic and the
 * bytes (publish__sign), so the hub can tell it from anything another
 * broker client puts on our topics. What only describes the present for
 * Home Assistant (lane state and settings, discovery, the image) is not:
 * the hub does not read it. The other way round, a command or a receipt
 * is taken only when the hub's key (mqtt.hub_key) signed it for our
 * topic, and a command only once and while fresh (src/core/nonce.c; the
 * nonces taken are kept in <spool_dir>/commands.seen across restarts).
 *   Statuses and heartbeats carry the connection epoch: a number that
 * grows with every connection, also across restarts and a clock set back
 * (the highest handed out is kept in <spool_dir>/epoch, an hour ahead so
 * the file is written rarely). The will, "offline", is signed with the
 * epoch of its connection attempt (the client asks for it before each
 * attempt); "online" and "stopped" follow with the same epoch. The hub
 * orders a device's statuses by it, so an old one sent again changes
 * nothing.
 *
 * Locking: one mutex guards the incident table and lane states; camera
 * threads take it in edge_publish_event(), the control thread in run().
 * Evidence is cut and hashed on a copy of the incident, outside the lock,
 * so a camera's event sink never waits behind a clip being spooled.
 *
 * A note on a spool that fails. The spool's folder can stop taking
 * writes: an SD card that turns read-only, an I/O error, a folder whose
 * permissions were changed, a full disk. None of that is a reason to give
 * up an incident message. A message the spool refuses is held in memory,
 * in order - once one is held, every later incident or camera message
 * queues behind it, so the hub still gets each incident's messages in
 * the order of their seq - and spooled when the spool takes writes again,
 * tried after 1 s, doubling to 30 s (publish__drain, in the control
 * loop). The log says what really failed (the spool's own reason: "Read-
 * only file system", "Permission denied", "No space left"), once when
 * holding starts and when it ends. A heartbeat is not held (the next one
 * says the same, newer). Evidence chunks are not held either: the
 * transfer pauses where it is and resumes from that chunk
 * (publish_evidence.c). What is held is lost if the process dies before
 * the spool recovers - there is nowhere durable to put it - but the
 * incident's open record makes the next start close it as interrupted,
 * so the hub is not left with an incident open forever. The back-log is
 * bounded (BACKLOG_MAX messages, BACKLOG_MAX_BYTES); beyond it a message
 * is refused with an error in the log.
 */
#include "publish_internal.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "file.h"
#include "fl.h"
#include "receipt.h"

#define EPOCH_AHEAD_MS 3600000ULL /* the epoch file is an hour ahead */

/* ---- signing, spooling, publishing ------------------------------------ */

int publish__sign(edge_publish *p, const char *topic, const void *body,
		  size_t len, char **out, size_t *n)
{
	size_t cap = FL_ENVELOPE_HEADER + len + 1;
	int rc;

	*out = malloc(cap);
	if (!*out) {
		fl_log(FL_LOG_ERROR, "publish", "%s: out of memory", topic);
		return FL_ENOMEM;
	}
	rc = fl_msg_sign(&p->key, FL_DOMAIN_DEVICE, topic, body, len, *out, cap,
			 n);
	if (rc < 0) {
		fl_log(FL_LOG_ERROR, "publish", "%s: cannot sign: %s", topic,
		       fl_strerror(rc));
		free(*out);
		*out = NULL;
		return rc;
	}
	(*out)[*n] = '\0'; /* a text body stays a C string */
	return 0;
}

int publish__append(edge_publish *p, int prio, const char *topic,
		    const void *body, size_t len, char *err, size_t errlen)
{
	char *msg;
	size_t n;
	int rc = publish__sign(p, topic, body, len, &msg, &n);

	if (rc < 0) {
		fl_seterr(err, errlen, "%s: cannot sign: %s", topic,
			  fl_strerror(rc));
		return rc;
	}
	rc = fl_spool_append(p->spool, prio, 1, 0, topic, msg, n, NULL, err,
			     errlen);
	free(msg);
	if (rc == 0 && p->mqtt)
		fl_mqtt_kick(p->mqtt);
	return rc;
}

#define BACKLOG_MAX 10000
#define BACKLOG_MAX_BYTES (16.0 * 1048576)
#define BACKLOG_FIRST_S 1.0
#define BACKLOG_MAX_S 30.0

/* Hold one message at the back-log's tail. blog_mu held. 0 or FL_EFULL. */
static int hold(edge_publish *p, int prio, const char *topic,
		const void *payload, size_t len)
{
	struct held_msg *h;

	if (p->blog_n >= BACKLOG_MAX ||
	    p->blog_bytes + (double)len > BACKLOG_MAX_BYTES)
		return FL_EFULL;
	h = calloc(1, sizeof(*h));
	if (!h || !(h->topic = strdup(topic)) || !(h->payload = malloc(len))) {
		if (h)
			free(h->topic);
		free(h);
		return FL_EFULL;
	}
	memcpy(h->payload, payload, len);
	h->len = len;
	h->prio = prio;
	if (p->blog_tail)
		p->blog_tail->next = h;
	else
		p->blog_head = h;
	p->blog_tail = h;
	p->blog_n++;
	p->blog_bytes += (double)len;
	return 0;
}

static void held_free(struct held_msg *h)
{
	free(h->topic);
	free(h->payload);
	free(h);
}

int publish__spool(edge_publish *p, int prio, const char *topic,
		   const void *body, size_t len)
{
	char err[512], *msg;
	size_t n;
	int rc = publish__sign(p, topic, body, len, &msg, &n);

	if (rc < 0)
		return rc; /* logged */
	rc = FL_EAGAIN;
	pthread_mutex_lock(&p->blog_mu);
	if (!p->blog_head || prio == FL_SPOOL_HEARTBEAT)
		rc = fl_spool_append(p->spool, prio, 1, 0, topic, msg, n, NULL,
				     err, sizeof(err));
	if (rc == 0) {
		pthread_mutex_unlock(&p->blog_mu);
		if (p->mqtt)
			fl_mqtt_kick(p->mqtt);
		goto out;
	}
	if (rc == FL_EINVAL) { /* not a message the spool can ever take */
		pthread_mutex_unlock(&p->blog_mu);
		fl_log(FL_LOG_ERROR, "spool", "%s", err);
		goto out;
	}
	if (prio == FL_SPOOL_HEARTBEAT) {
		pthread_mutex_unlock(&p->blog_mu);
		fl_log(FL_LOG_WARN, "spool", "%s; heartbeat dropped", err);
		rc = 0;
		goto out;
	}
	if (rc != FL_EAGAIN && !p->blog_head) {
		/* the first refusal: say what failed, once */
		snprintf(p->blog_why, sizeof(p->blog_why), "%s", err);
		p->blog_wait = BACKLOG_FIRST_S;
		p->blog_retry_at = fl_mono_s() + p->blog_wait;
		fl_log(FL_LOG_ERROR, "spool",
		       "%s; messages held in memory and spooled when it "
		       "takes them again",
		       err);
	}
	/* held signed: the back-log spools the very bytes later */
	rc = hold(p, prio, topic, msg, n);
	pthread_mutex_unlock(&p->blog_mu);
	if (rc)
		fl_log(FL_LOG_ERROR, "spool",
		       "message to %s NOT queued: the spool refuses (%s) and "
		       "%d messages are held already",
		       topic, p->blog_why, BACKLOG_MAX);
out:
	free(msg);
	return rc;
}

void publish__drain(edge_publish *p)
{
	char err[512];
	long n = 0;
	int rc = 0;

	pthread_mutex_lock(&p->blog_mu);
	if (!p->blog_head || fl_mono_s() < p->blog_retry_at) {
		pthread_mutex_unlock(&p->blog_mu);
		return;
	}
	while (p->blog_head) {
		struct held_msg *h = p->blog_head;

		rc = fl_spool_append(p->spool, h->prio, 1, 0, h->topic,
				     h->payload, h->len, NULL, err,
				     sizeof(err));
		if (rc)
			break;
		p->blog_head = h->next;
		if (!p->blog_head)
			p->blog_tail = NULL;
		p->blog_n--;
		p->blog_bytes -= (double)h->len;
		held_free(h);
		n++;
	}
	if (rc) {
		snprintf(p->blog_why, sizeof(p->blog_why), "%s", err);
		p->blog_wait = FL_MIN(p->blog_wait * 2, BACKLOG_MAX_S);
		p->blog_retry_at = fl_mono_s() + p->blog_wait;
	}
	pthread_mutex_unlock(&p->blog_mu);
	if (n && p->mqtt)
		fl_mqtt_kick(p->mqtt);
	if (!rc && n)
		fl_log(FL_LOG_WARN, "spool",
		       "the spool takes writes again: %ld held messages "
		       "spooled",
		       n);
}

long edge_publish_held(edge_publish *p)
{
	long n;

	pthread_mutex_lock(&p->blog_mu);
	n = p->blog_n;
	pthread_mutex_unlock(&p->blog_mu);
	return n;
}

int publish__direct(edge_publish *p, const char *topic, const void *body,
		    size_t len, int retain)
{
	char *msg;
	size_t n;
	int rc = publish__sign(p, topic, body, len, &msg, &n);

	if (rc < 0)
		return rc;
	rc = fl_mqtt_publish(p->mqtt, topic, msg, n, 1, retain);
	free(msg);
	return rc;
}

/* ---- the connection epoch --------------------------------------------- */

/*
 * Read the epoch file: epochs below the ceiling it holds were handed out
 * by an earlier run. A file that cannot be read counts as none (logged
 * when it exists): at worst a status is ordered by the clock alone.
 */
static void epoch_load(edge_publish *p)
{
	char *text = NULL, err[512];
	size_t len = 0;
	int rc = fl_file_read(p->epoch_path, 64, &text, &len, err, sizeof(err));

	p->ceiling = 0;
	if (rc == 0)
		p->ceiling = strtoull(text, NULL, 10);
	else if (rc != FL_ENOENT)
		fl_log(FL_LOG_WARN, "publish", "%s", err);
	free(text);
	p->epoch = p->ceiling;
}

/* A new epoch: past the last one, and past every earlier run's. */
static void epoch_next(edge_publish *p)
{
	unsigned long long now = (unsigned long long)(fl_wall_s() * 1000.0);
	char text[32], err[512];

	p->epoch = FL_MAX(now, p->epoch + 1);
	p->epoch_used = 0;
	if (p->epoch < p->ceiling)
		return;
	p->ceiling = p->epoch + EPOCH_AHEAD_MS;
	snprintf(text, sizeof(text), "%llu\n", p->ceiling);
	if (fl_file_write(p->epoch_path, text, strlen(text), 0600, 0, err,
			  sizeof(err)) < 0)
		fl_log(FL_LOG_ERROR, "publish", "%s", err);
}

/* The client's will hook, before each connect attempt: "offline" with
 * the epoch this connection will have, signed. A new epoch unless the
 * current one was never put in a will. */
static size_t will_payload(char *buf, size_t len, void *user)
{
	edge_publish *p = user;
	char body[64], *msg;
	size_t n;

	if (p->epoch_used)
		epoch_next(p);
	p->epoch_used = 1;
	n = fl_status_payload("offline", p->epoch, body, sizeof(body));
	if (publish__sign(p, p->status_topic, body, n, &msg, &n) < 0)
		return len; /* keep the last one */
	if (n < len)
		memcpy(buf, msg, n + 1);
	free(msg);
	return n;
}

/* The status of this connection ("online", "stopped"), signed, into a
 * malloc'd C string. NULL when it cannot be signed (logged). */
static char *status_payload(edge_publish *p, const char *word, size_t *n)
{
	char body[64], *msg = NULL;
	size_t bl = fl_status_payload(word, p->epoch, body, sizeof(body));

	if (publish__sign(p, p->status_topic, body, bl, &msg, n) < 0)
		return NULL;
	return msg;
}

void publish__status_online(edge_publish *p)
{
	size_t n;
	char *msg = status_payload(p, "online", &n);

	if (msg)
		fl_mqtt_publish(p->mqtt, p->status_topic, msg, n, 1, 1);
	free(msg);
}

/* ---- messages in: commands, receipts, Home Assistant's birth ---------- */

void edge_publish_answer(edge_publish *p, const char *req, const char *cmd,
			 int ok, const char *error, const char *detail)
{
	char topic[FL_TOPIC_MAX];
	/* an answer may carry a picture or a configuration (docs/mqtt.md) */
	size_t cap = 2048 + (detail ? strlen(detail) : 0), n;
	char *buf = malloc(cap);

	if (!buf) {
		fl_log(FL_LOG_ERROR, "command",
		       "answer to '%s' not sent: out of memory",
		       req ? req : "");
		return;
	}
	n = fl_command_answer(req, cmd, ok, error, detail, buf, cap);
	fl_topic(topic, sizeof(topic), FL_TOPIC_CMD_STATE, p->cfg->site,
		 p->cfg->device_id, NULL, NULL);
	if (n < cap && publish__direct(p, topic, buf, n, 0))
		fl_log(FL_LOG_WARN, "command",
		       "answer to '%s' not sent "
		       "(offline)",
		       req ? req : "");
	free(buf);
}

/* Keep the nonces of the commands taken (crash-safe), so a command
 * replayed just after a restart is still refused. */
static void save_nonces(edge_publish *p)
{
	size_t n = fl_nonces_write(p->nonces, NULL, 0);
	char *text = malloc(n + 1), err[512];

	if (!text)
		return;
	fl_nonces_write(p->nonces, text, n + 1);
	if (fl_file_write(p->nonces_path, text, n, 0600, 0, err, sizeof(err)) <
	    0)
		fl_log(FL_LOG_ERROR, "command", "%s", err);
	free(text);
}

/* The hub's delivery receipt, taken only when the hub signed it for our
 * receipt topic. */
static void on_receipt(edge_publish *p, const char *topic, const void *payload,
		       size_t len)
{
	fl_envelope env;
	char err[256];

	if (!p->have_hub_key) {
		fl_log(FL_LOG_WARN, "receipt",
		       "refused: no hub key (mqtt.hub_key) to check it with");
		return;
	}
	if (fl_msg_verify(p->hub_pk, FL_DOMAIN_HUB, topic, payload, len, &env,
			  err, sizeof(err)) < 0) {
		fl_log(FL_LOG_WARN, "receipt", "refused: %s", err);
		return;
	}
	publish__on_receipt(p, env.body, env.body_len);
}

/* Commands, receipts, Home Assistant's birth. 0 always: the edge's
 * session is clean, nothing is held (client.h). */
static int on_message(const char *topic, const void *payload, size_t len,
		      void *user)
{
	edge_publish *p = user;
	fl_command cmd;
	char err[512];
	int cam, rc;

	if (!strcmp(topic, "homeassistant/status")) {
		if (len == 6 && !memcmp(payload, "online", 6))
			publish__discovery(p);
		return 0;
	}
	if (!strcmp(topic, p->receipt_topic)) {
		on_receipt(p, topic, payload, len);
		return 0;
	}
	if (strcmp(topic, p->cmd_topic))
		return 0;
	rc = fl_command_verify(p->have_hub_key ? p->hub_pk : NULL, topic,
			       payload, len, fl_wall_s(), FL_NONCE_WINDOW_S,
			       p->nonces, &cmd, err, sizeof(err));
	if (rc < 0) {
		/* the command's name only once it is known to be one */
		int named = rc == FL_ERANGE || rc == FL_EEXIST ||
			    rc == FL_EFULL;

		fl_log(FL_LOG_WARN, "command", "rejected: %s", err);
		edge_publish_answer(p, cmd.req,
				    named ? fl_command_name(cmd.kind) : NULL, 0,
				    err, NULL);
		return 0;
	}
	save_nonces(p);
	cam = cmd.camera[0] ? edge_camera_index(p->cfg, cmd.camera) : 0;
	if (cam < 0) {
		snprintf(err, sizeof(err), "no camera '%s'", cmd.camera);
	} else if (cmd.lane[0] && edge_lane_index(p->cfg, cam, cmd.lane) < 0) {
		snprintf(err, sizeof(err), "no lane '%s' on camera '%s'",
			 cmd.lane, cmd.camera);
	} else {
		fl_log(FL_LOG_INFO, "command", "%s %s %s",
		       fl_command_name(cmd.kind), cmd.camera, cmd.lane);
		p->on_command(&cmd, p->user);
		return 0;
	}
	fl_log(FL_LOG_WARN, "command", "rejected: %s", err);
	edge_publish_answer(p, cmd.req, fl_command_name(cmd.kind), 0, err,
			    NULL);
	return 0;
}

/* ---- life ------------------------------------------------------------ */

edge_publish *edge_publish_create(const fl_config *cfg, fl_store *store,
				  edge_command_fn on_command, void *user,
				  char *err, size_t errlen)
{
	const fl_mqtt_conf *mc = &cfg->mqtt;
	edge_publish *p = calloc(1, sizeof(*p));
	fl_mqtt_opts o = { 0 };
	char client_id[FL_NAME_MAX + 16];
	double now = fl_wall_s();

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_init(&p->blog_mu, NULL);
	p->cfg = cfg;
	p->store = store;
	p->on_command = on_command;
	p->user = user;
	for (int c = 0; c < FL_MAX_CAMERAS; c++)
		p->wall0[c] = now;
	for (int c = 0; c < cfg->ncameras; c++)
		for (int l = 0; l < cfg->cameras[c].nlanes; l++) {
			p->lanes[c][l].disabled =
				cfg->cameras[c].lanes[l].disabled;
			p->lanes[c][l].dwell_s =
				cfg->cameras[c].lanes[l].dwell_s;
		}
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		goto fail;
	}
	/* no key, no voice: the hub takes nothing unsigned */
	if (fl_key_load_or_create(cfg->key_file, &p->key, NULL, err, errlen) < 0)
		goto fail;
	p->have_hub_key = mc->hub_key[0] &&
			  fl_key_public_from_b64(mc->hub_key, p->hub_pk) == 0;
	if (!p->have_hub_key)
		fl_log(FL_LOG_WARN, "command",
		       "mqtt.hub_key is not set: every command and delivery "
		       "receipt from the hub will be refused");
	p->nonces = calloc(1, sizeof(*p->nonces));
	if (!p->nonces) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	p->spool = fl_spool_open(mc->spool_dir, mc->spool_max_mb * 1048576.0,
				 err, errlen);
	if (!p->spool)
		goto fail;
	snprintf(p->nonces_path, sizeof(p->nonces_path), "%s/commands.seen",
		 mc->spool_dir);
	{
		char *text = NULL;
		size_t len = 0;

		if (fl_file_read(p->nonces_path, 1 << 20, &text, &len, NULL,
				 0) == 0)
			fl_nonces_read(p->nonces, text, len, now,
				       FL_NONCE_WINDOW_S);
		free(text);
	}
	snprintf(p->epoch_path, sizeof(p->epoch_path), "%s/epoch",
		 mc->spool_dir);
	epoch_load(p);
	epoch_next(p);
	snprintf(p->open_dir, sizeof(p->open_dir), "%s/open", mc->spool_dir);
	if (mkdir(p->open_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", p->open_dir, strerror(errno));
		goto fail;
	}
	publish__recover(p);
	fl_topic(p->status_topic, sizeof(p->status_topic), FL_TOPIC_STATUS,
		 cfg->site, cfg->device_id, NULL, NULL);
	fl_topic(p->cmd_topic, sizeof(p->cmd_topic), FL_TOPIC_CMD_SET,
		 cfg->site, cfg->device_id, NULL, NULL);
	fl_receipt_topic(p->receipt_topic, sizeof(p->receipt_topic), cfg->site,
			 cfg->device_id);
	snprintf(client_id, sizeof(client_id), "%s",
		 mc->client_id[0] ? mc->client_id : "");
	if (!client_id[0])
		snprintf(client_id, sizeof(client_id), "firelane-%s",
			 cfg->device_id);
	o.host = mc->host;
	o.port = mc->port;
	o.username = mc->username;
	o.password = mc->password;
	o.tls_ca = mc->tls_ca;
	o.tls_cert = mc->tls_cert;
	o.tls_key = mc->tls_key;
	o.keepalive_s = mc->keepalive_s;
	o.client_id = client_id;
	o.will_topic = p->status_topic;
	o.will = will_payload;
	o.on_connect = publish__on_connect;
	o.on_message = on_message;
	o.user = p;
	p->mqtt = fl_mqtt_create(&o, p->spool, err, errlen);
	if (!p->mqtt)
		goto fail;
	if (fl_mqtt_subscribe(p->mqtt, p->cmd_topic) < 0 ||
	    fl_mqtt_subscribe(p->mqtt, p->receipt_topic) < 0 ||
	    fl_mqtt_subscribe(p->mqtt, "homeassistant/status") < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return p;
fail:
	edge_publish_destroy(p);
	return NULL;
}

int edge_publish_start(edge_publish *p)
{
	return fl_mqtt_start(p->mqtt);
}

void edge_publish_camera_base(edge_publish *p, int cam, double wall0)
{
	if (cam < 0 || cam >= FL_MAX_CAMERAS)
		return;
	pthread_mutex_lock(&p->mu);
	p->wall0[cam] = wall0;
	pthread_mutex_unlock(&p->mu);
}

void edge_publish_run(edge_publish *p, int timeout_ms)
{
	fl_mqtt_run(p->mqtt, timeout_ms);
	publish__drain(p);
	publish__evidence_poll(p);
	if (fl_mqtt_connected(p->mqtt))
		publish__dirty_lanes(p);
}

/*
 * A note on asking for receipts. The hub sends a bundle's receipt when it
 * completes the bundle, and again when the device comes back online
 * (docs/mqtt.md, "Delivery receipt"). A receipt lost in between - queued
 * in a hub that died, refused by the broker - would leave the bundle
 * undelivered here, never pruned, until the next reconnect, which on a
 * steady link may be weeks away. So every heartbeat says how many sealed
 * bundles wait for their receipt, and at most every receipt_ask_s it names
 * the oldest of those sealed at least receipt_ask_s ago: whichever hub
 * takes the heartbeat sends the receipts it can (what it holds verified).
 * A bundle the hub never got, or could not verify, is asked for again and
 * again at that pace and stays undelivered (kept), as before.
 */
static void heartbeat_undelivered(edge_publish *p, fl_health *h,
				  char (*ask)[FL_INCIDENT_ID_MAX])
{
	double every = p->cfg->mqtt.receipt_ask_s, now = fl_mono_s();
	int asking = every > 0 && now >= p->next_ask;
	size_t total = 0, nask = 0;
	char err[512];

	if (!p->store)
		return;
	if (fl_store_undelivered(p->store, fl_wall_s(), every, ask,
				 asking ? FL_HEARTBEAT_ASK_MAX : 0, &nask,
				 &total, err, sizeof(err))) {
		fl_log(FL_LOG_WARN, "evidence", "%s", err);
		return;
	}
	h->undelivered = (long)total;
	h->ask = (const char(*)[FL_INCIDENT_ID_MAX])ask;
	h->nask = nask;
	if (nask) {
		fl_log(FL_LOG_INFO, "evidence",
		       "%zu bundles without a receipt; asking for %zu "
		       "(the oldest: %s)",
		       total, nask, ask[0]);
		p->next_ask = now + every;
	}
}

void edge_publish_heartbeat(edge_publish *p, fl_health *h)
{
	char topic[FL_TOPIC_MAX], buf[FL_HEARTBEAT_MAX];
	char ask[FL_HEARTBEAT_ASK_MAX][FL_INCIDENT_ID_MAX];
	size_t n;

	edge_publish_spool_stats(p, &h->spool_messages, &h->spool_bytes,
				 &h->spool_dropped, &h->spool_refused);
	heartbeat_undelivered(p, h, ask);
	h->epoch = p->epoch;
	n = fl_heartbeat_json(h, buf, sizeof(buf));
	fl_topic(topic, sizeof(topic), FL_TOPIC_HEARTBEAT, p->cfg->site,
		 p->cfg->device_id, NULL, NULL);
	if (n < sizeof(buf))
		publish__spool(p, FL_SPOOL_HEARTBEAT, topic, buf, n);
	else /* FL_HEARTBEAT_MAX is sized for it: a defect */
		fl_log(FL_LOG_ERROR, "mqtt",
		       "heartbeat of %zu bytes does not fit %zu: not sent", n,
		       sizeof(buf));
}

void edge_publish_spool_stats(edge_publish *p, long *messages, double *bytes,
			      long *dropped, long *refused)
{
	fl_spool_stats st;

	fl_spool_stats_get(p->spool, &st);
	*messages = st.messages;
	*bytes = st.bytes;
	*dropped = st.dropped;
	*refused = st.refused;
}

int edge_publish_connected(edge_publish *p)
{
	return fl_mqtt_connected(p->mqtt);
}

const char *edge_publish_spool_dir(const edge_publish *p)
{
	return fl_spool_dir(p->spool);
}

void edge_publish_stop(edge_publish *p, int timeout_ms)
{
	/* Evidence of incidents still waiting stays in the store; their
	 * records make the next start close them as interrupted. */
	int up = fl_mqtt_connected(p->mqtt);
	size_t n;
	char *msg = status_payload(p, "stopped", &n);

	if (fl_mqtt_stop(p->mqtt, msg ? p->status_topic : NULL, msg,
			 timeout_ms) < 0)
		fl_log(FL_LOG_WARN, "mqtt", "%s",
		       up ? "'stopped' not acknowledged before the exit"
			  : "not connected at the exit: 'stopped' not sent");
	free(msg);
}

void edge_publish_destroy(edge_publish *p)
{
	if (!p)
		return;
	fl_mqtt_destroy(p->mqtt);
	if (p->blog_n)
		fl_log(FL_LOG_ERROR, "spool",
		       "stopping with %ld messages the spool refused (%s): "
		       "lost; their incidents close as interrupted at the "
		       "next start",
		       p->blog_n, p->blog_why);
	while (p->blog_head) {
		struct held_msg *h = p->blog_head;

		p->blog_head = h->next;
		held_free(h);
	}
	fl_spool_close(p->spool);
	fl_key_wipe(&p->key);
	free(p->nonces);
	pthread_mutex_destroy(&p->blog_mu);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
