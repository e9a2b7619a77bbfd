/*
 * command.c - the hub's commands to a device (see command.h).
 *
 * A note on why a command is more than its JSON. The edge obeys only what
 * the hub's key signed for its own command topic (src/evidence/msgsign.c,
 * fl_command_verify), so a broker client cannot turn a lane's alarms off;
 * and only once and while fresh: every command carries the hub's time and
 * a random nonce, so a signed command captured on the broker is refused
 * when sent again. The edge answers every command, taken or refused, on
 * its command/state topic, signed with its device key; an answer that the
 * enrolled key did not sign is not believed (anyone could write "ok").
 */
#include "command.h"

#include <jansson.h>
#include <math.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "fl.h"
#include "msgsign.h"
#include "topic.h"

int hub_command_build(const char *json, double now, char **out, char *id,
		      size_t idlen, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loads(json, JSON_REJECT_DUPLICATES, &je), *v;
	unsigned char rnd[16];
	char nonce[2 * sizeof(rnd) + 1];
	int rc = FL_EFORMAT;

	*out = NULL;
	if (idlen)
		id[0] = '\0';
	if (!json_is_object(j)) {
		fl_seterr(err, errlen, "the command is not one JSON object%s%s",
			  j ? "" : ": ", j ? "" : je.text);
		goto out;
	}
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(nonce, sizeof(nonce), rnd, sizeof(rnd));
	if (!json_object_get(j, "time"))
		json_object_set_new(j, "time",
				    json_real(floor(now * 1000.0) / 1000.0));
	if (!json_object_get(j, "nonce"))
		json_object_set_new(j, "nonce", json_string(nonce));
	if (!json_object_get(j, "id")) {
		char req[32];

		snprintf(req, sizeof(req), "hub-%.12s", nonce);
		json_object_set_new(j, "id", json_string(req));
	}
	v = json_object_get(j, "id");
	if (!json_is_string(v) || strlen(json_string_value(v)) >= idlen) {
		fl_seterr(err, errlen,
			  "id: expected a string of at most %zu "
			  "bytes",
			  idlen - 1);
		goto out;
	}
	snprintf(id, idlen, "%s", json_string_value(v));
	*out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	rc = *out ? 0 : FL_ENOMEM;
out:
	json_decref(j);
	return rc;
}

/* One command in flight and the wait for its answer. */
struct wait {
	fl_mqtt *m;
	const char *cmd_topic, *state_topic;
	const char *msg; /* the signed command */
	size_t len;
	const unsigned char *pk; /* the device's enrolled key */
	const char *id;
	int sent, answered, ok;
	char *answer;
};

/* Connected (the answer's subscription went out first): send. */
static void on_connect(void *user)
{
	struct wait *w = user;

	if (!w->sent)
		w->sent = fl_mqtt_publish(w->m, w->cmd_topic, w->msg, w->len, 1,
					  0) == 0;
}

/* The device's answer, or not ours: 0 either way (nothing to hold). */
static int on_message(const char *topic, const void *payload, size_t len,
		      void *user)
{
	struct wait *w = user;
	fl_envelope env;
	json_t *j, *v;
	char why[256];

	if (strcmp(topic, w->state_topic) || w->answered)
		return 0;
	if (fl_msg_verify(w->pk, FL_DOMAIN_DEVICE, topic, payload, len, &env,
			  why, sizeof(why))) {
		fl_log(FL_LOG_WARN, "command",
		       "an answer not signed by the device: %s; ignored", why);
		return 0;
	}
	j = json_loadb((const char *)env.body, env.body_len,
		       JSON_REJECT_DUPLICATES, NULL);
	v = json_object_get(j, "id");
	if (json_is_string(v) && !strcmp(json_string_value(v), w->id)) {
		w->answered = 1;
		w->ok = json_is_true(json_object_get(j, "ok"));
		w->answer = strndup((const char *)env.body, env.body_len);
	}
	json_decref(j);
	return 0;
}

void hub_mqtt_opts(const hub_conf *c, fl_mqtt_opts *o)
{
	o->host = c->mqtt.host;
	o->port = c->mqtt.port;
	o->username = c->mqtt.username;
	o->password = c->mqtt.password;
	o->tls_ca = c->mqtt.tls_ca;
	o->tls_cert = c->mqtt.tls_cert;
	o->tls_key = c->mqtt.tls_key;
	o->keepalive_s = c->mqtt.keepalive_s;
}

static atomic_uint command_seq;

int hub_command_send(const hub_conf *c, fl_db *db, const fl_key *key,
		     const char *device, const char *json, double timeout_s,
		     const atomic_int *cancel, FILE *out, char *err,
		     size_t errlen)
{
	char site[256], pkb64[128], id[FL_CMD_REQ_MAX], client_id[HUB_STR + 32];
	char cmd_topic[FL_TOPIC_MAX], state_topic[FL_TOPIC_MAX];
	unsigned char pk[32];
	struct wait w = { 0 };
	fl_mqtt_opts o = { 0 };
	char *text = NULL, *msg = NULL;
	size_t cap, n;
	double until;
	int rc = 2;

	if (fl_db_device_get(db, device, site, sizeof(site), pkb64,
			     sizeof(pkb64)) ||
	    fl_key_public_from_b64(pkb64, pk)) {
		fl_seterr(err, errlen, "device %s is not enrolled", device);
		return 2;
	}
	if (hub_command_build(json, fl_wall_s(), &text, id, sizeof(id), err,
			      errlen))
		return 2;
	fl_topic(cmd_topic, sizeof(cmd_topic), FL_TOPIC_CMD_SET, site, device,
		 NULL, NULL);
	fl_topic(state_topic, sizeof(state_topic), FL_TOPIC_CMD_STATE, site,
		 device, NULL, NULL);
	cap = FL_ENVELOPE_HEADER + strlen(text) + 1;
	msg = malloc(cap);
	if (!msg || fl_msg_sign(key, FL_DOMAIN_HUB, cmd_topic, text,
				strlen(text), msg, cap, &n)) {
		fl_seterr(err, errlen, "cannot sign the command");
		goto out;
	}
	/* one connection per command: two at once (the web UI's snapshot
	 * and an apply) must not take over each other's client id */
	snprintf(client_id, sizeof(client_id), "%s-cmd-%ld-%u",
		 c->mqtt.client_id, (long)getpid(),
		 atomic_fetch_add(&command_seq, 1u));
	hub_mqtt_opts(c, &o);
	o.client_id = client_id;
	o.on_connect = on_connect;
	o.on_message = on_message;
	o.user = &w;
	w = (struct wait){ .cmd_topic = cmd_topic,
			   .state_topic = state_topic,
			   .msg = msg,
			   .len = n,
			   .pk = pk,
			   .id = id };
	w.m = fl_mqtt_create(&o, NULL, err, errlen);
	if (!w.m)
		goto out;
	if (fl_mqtt_subscribe(w.m, state_topic) < 0 || fl_mqtt_start(w.m)) {
		fl_seterr(err, errlen, "cannot subscribe to %s", state_topic);
		goto out;
	}
	until = fl_mono_s() + timeout_s;
	while (!w.answered && fl_mono_s() < until &&
	       !(cancel && atomic_load(cancel)))
		fl_mqtt_run(w.m, 100);
	if (!w.answered && cancel && atomic_load(cancel)) {
		fl_seterr(err, errlen, "%s: not awaited: the hub is stopping",
			  device);
		goto out;
	}
	if (!w.answered) {
		fl_seterr(err, errlen, "%s: no answer within %.0f s%s", device,
			  timeout_s,
			  w.sent ? "" : " (not connected to the broker)");
		goto out;
	}
	fprintf(out, "%s\n", w.answer);
	rc = w.ok ? 0 : 1;
out:
	if (w.m)
		fl_mqtt_stop(w.m, NULL, NULL, 1000);
	fl_mqtt_destroy(w.m);
	free(w.answer);
	free(msg);
	free(text);
	return rc;
}
