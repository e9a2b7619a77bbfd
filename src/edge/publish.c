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
#include "fl.h"
#include "receipt.h"

/* ---- spooling ------------------------------------------------------- */

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
		   const void *payload, size_t len)
{
	char err[512];
	int rc = FL_EAGAIN;

	pthread_mutex_lock(&p->blog_mu);
	if (!p->blog_head || prio == FL_SPOOL_HEARTBEAT)
		rc = fl_spool_append(p->spool, prio, 1, 0, topic, payload, len,
				     NULL, err, sizeof(err));
	if (rc == 0) {
		pthread_mutex_unlock(&p->blog_mu);
		if (p->mqtt)
			fl_mqtt_kick(p->mqtt);
		return 0;
	}
	if (rc == FL_EINVAL) { /* not a message the spool can ever take */
		pthread_mutex_unlock(&p->blog_mu);
		fl_log(FL_LOG_ERROR, "spool", "%s", err);
		return rc;
	}
	if (prio == FL_SPOOL_HEARTBEAT) {
		pthread_mutex_unlock(&p->blog_mu);
		fl_log(FL_LOG_WARN, "spool", "%s; heartbeat dropped", err);
		return 0;
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
	rc = hold(p, prio, topic, payload, len);
	pthread_mutex_unlock(&p->blog_mu);
	if (rc)
		fl_log(FL_LOG_ERROR, "spool",
		       "message to %s NOT queued: the spool refuses (%s) and "
		       "%d messages are held already",
		       topic, p->blog_why, BACKLOG_MAX);
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

/* ---- messages in: commands, receipts, Home Assistant's birth ---------- */

void edge_publish_answer(edge_publish *p, const char *req, const char *cmd,
			 int ok, const char *error, const char *detail)
{
	char topic[FL_TOPIC_MAX], buf[2048];
	size_t n = fl_command_answer(req, cmd, ok, error, detail, buf,
				     sizeof(buf));

	fl_topic(topic, sizeof(topic), FL_TOPIC_CMD_STATE, p->cfg->site,
		 p->cfg->device_id, NULL, NULL);
	if (n < sizeof(buf) && fl_mqtt_publish(p->mqtt, topic, buf, n, 1, 0))
		fl_log(FL_LOG_WARN, "command",
		       "answer to '%s' not sent "
		       "(offline)",
		       req ? req : "");
}

/* Commands, receipts, Home Assistant's birth. 0 always: the edge's
 * session is clean, nothing is held (client.h). */
static int on_message(const char *topic, const void *payload, size_t len,
		      void *user)
{
	edge_publish *p = user;
	fl_command cmd;
	char err[256];
	int cam;

	if (!strcmp(topic, "homeassistant/status")) {
		if (len == 6 && !memcmp(payload, "online", 6))
			publish__discovery(p);
		return 0;
	}
	if (!strcmp(topic, p->receipt_topic)) {
		publish__on_receipt(p, payload, len);
		return 0;
	}
	if (strcmp(topic, p->cmd_topic))
		return 0;
	if (fl_command_parse(payload, len, &cmd, err, sizeof(err)) < 0) {
		fl_log(FL_LOG_WARN, "command", "rejected: %s", err);
		edge_publish_answer(p, cmd.req, NULL, 0, err, NULL);
		return 0;
	}
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
	p->spool = fl_spool_open(mc->spool_dir, mc->spool_max_mb * 1048576.0,
				 err, errlen);
	if (!p->spool)
		goto fail;
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
	o.will_payload = "offline";
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

void edge_publish_heartbeat(edge_publish *p, fl_health *h)
{
	char topic[FL_TOPIC_MAX], buf[4096];
	size_t n;

	edge_publish_spool_stats(p, &h->spool_messages, &h->spool_bytes,
				 &h->spool_dropped, &h->spool_refused);
	n = fl_heartbeat_json(h, buf, sizeof(buf));
	fl_topic(topic, sizeof(topic), FL_TOPIC_HEARTBEAT, p->cfg->site,
		 p->cfg->device_id, NULL, NULL);
	if (n < sizeof(buf))
		publish__spool(p, FL_SPOOL_HEARTBEAT, topic, buf, n);
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

	if (fl_mqtt_stop(p->mqtt, p->status_topic, "stopped", timeout_ms) < 0)
		fl_log(FL_LOG_WARN, "mqtt", "%s",
		       up ? "'stopped' not acknowledged before the exit"
			  : "not connected at the exit: 'stopped' not sent");
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
	pthread_mutex_destroy(&p->blog_mu);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
