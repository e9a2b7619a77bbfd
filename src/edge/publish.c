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

int publish__spool(edge_publish *p, int prio, const char *topic,
		   const void *payload, size_t len)
{
	char err[512];
	int rc = fl_spool_append(p->spool, prio, 1, 0, topic, payload, len,
				 NULL, err, sizeof(err));

	if (rc < 0)
		fl_log(FL_LOG_ERROR, "spool", "%s", err);
	else if (p->mqtt)
		fl_mqtt_kick(p->mqtt);
	return rc;
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

static void on_message(const char *topic, const void *payload, size_t len,
		       void *user)
{
	edge_publish *p = user;
	fl_command cmd;
	char err[256];
	int cam;

	if (!strcmp(topic, "homeassistant/status")) {
		if (len == 6 && !memcmp(payload, "online", 6))
			publish__discovery(p);
		return;
	}
	if (!strcmp(topic, p->receipt_topic)) {
		publish__on_receipt(p, payload, len);
		return;
	}
	if (strcmp(topic, p->cmd_topic))
		return;
	if (fl_command_parse(payload, len, &cmd, err, sizeof(err)) < 0) {
		fl_log(FL_LOG_WARN, "command", "rejected: %s", err);
		edge_publish_answer(p, cmd.req, NULL, 0, err, NULL);
		return;
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
		return;
	}
	fl_log(FL_LOG_WARN, "command", "rejected: %s", err);
	edge_publish_answer(p, cmd.req, fl_command_name(cmd.kind), 0, err,
			    NULL);
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
	fl_spool_close(p->spool);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
