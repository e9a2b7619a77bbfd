/*
 * client.c - Paho's MQTTAsync behind our API: connect and reconnect, the
 * last will, subscriptions, and the spool pump.
 *
 * A note on threads. Paho calls back on its own threads (connection lost,
 * message arrived, publish acknowledged, connect failed). Our callbacks do
 * one thing: copy what happened into a small event list under m->mu and
 * signal m->cv. The owner thread (the edge's control thread) drains that
 * list in fl_mqtt_run() and does all the real work there, so no state of
 * ours is touched from two threads except the event list, the kick flag
 * and the atomic `connected`.
 *
 * A note on delivery. Messages that must arrive (incidents, evidence,
 * heartbeats) live in the spool (spool.c) until the broker acknowledges
 * them (QoS 1 PUBACK). The pump sends them in spool order with at most
 * `window` unacknowledged; each send carries the connection generation.
 * When the connection drops (or a send fails) the pump forgets what was in
 * flight and, on the next connection, starts again from the oldest
 * unacknowledged message: a message may so go out twice, never zero times,
 * and the duplicate is byte-identical (same incident_id and seq), which is
 * what the hub deduplicates on. Paho's own persistence is off; the spool is
 * the only persistence, so there is one truth about what is pending.
 *
 * A note on acknowledgement (opts.persistent, the hub). Paho acknowledges
 * an incoming QoS 1 message (PUBACK) right after its message-arrived
 * callback returned, in the same receive thread (MQTTProtocol_handlePublishes
 * calls the callback, then sends the PUBACK) - whatever the callback
 * returned: a 0 only parks the message in Paho's memory for another call
 * later, after the PUBACK went out. So the only way to acknowledge after the
 * owner's work (the hub's store commit) is for the callback to wait for it:
 * on_arrived queues the message and waits on m->done_cv until the owner
 * has run on_message for it (state QUEUED -> TAKEN -> DONE), then returns 1
 * and Paho sends the PUBACK. A kill -9 before that leaves the message
 * unacknowledged: with the persistent session (clean start off) the broker
 * sends it again to the next process with this client id, and the store
 * recognises it if it was committed already. One message is in hand at a
 * time (Paho's receive thread is the one waiting), which is what ordered
 * at-least-once ingest needs anyway.
 *   Paho holds its global mutex while it calls the callback, and every
 * Paho call (connect, subscribe, publish, disconnect) takes that mutex -
 * one mutex for every client of the process: the owner calling Paho while
 * a callback waits for it would deadlock. So with `persistent` the owner
 * never calls Paho itself: its connects (and the making of a new client
 * they may need), subscribes, publishes and the disconnect are queued to
 * a small caller thread (call_thread) that makes them; when it blocks on
 * Paho's mutex it holds up only itself, and the owner, free, handles the
 * waiting message. This holds for the connect too because the hub owns
 * two persistent clients (its alerts have a connection of their own): one
 * client's reconnect must not wait for the mutex that the other's
 * callback holds while it waits for the owner.
 *   Bounds: a message the owner has not picked up within ACK_WAIT_S (the
 * owner is stuck elsewhere) or one queued while the client is being
 * destroyed is taken back from the queue and the callback returns 0: Paho
 * then acknowledges and keeps it in memory to call again - at-least-once
 * still holds unless the process dies in that window (logged). A message
 * the owner has taken is always waited for. The edge does not set
 * `persistent`: its only subscriptions are commands, which are meaningless
 * after a restart (the spool is its persistence), so it keeps clean start.
 *
 * A note on holding a message (persistent). Acknowledging after the owner
 * is only half the promise: the owner's work can fail through no fault of
 * the message - the hub's disk is full, its database read-only or busy -
 * and acknowledging then would lose the message as surely as acknowledging
 * before. So on_message may answer "not now" (a negative fl_errno): the
 * message is then held - left TAKEN, its callback still waiting, nothing
 * sent to the broker - and offered to on_message again after a back-off
 * (0.25 s, doubling to 5 s) until it is taken. While it is held Paho's
 * receive thread is the one waiting, so no other message arrives: the
 * client stops taking messages, which is right, for the broker delivers in
 * order and the next one would most likely fail the same way. Nor does
 * Paho send keep-alive pings meanwhile (the receive thread does that), so
 * after 1.5 keep-alive intervals the broker drops the connection; the
 * message, never acknowledged, stays in the persistent session and comes
 * again after the reconnect - as a duplicate the owner recognises, if it
 * was taken by then. A held message is never given back to Paho
 * unacknowledged-but-returned (Paho would acknowledge it): at a stop with
 * one still held the client is abandoned as it is (fl_mqtt_destroy) and
 * the process ends without a word to the broker, like a kill -9.
 *
 * A note on publishing and back-pressure. fl_mqtt_publish() returns once
 * the message is handed over, which says nothing of delivery: Paho refuses
 * what exceeds its buffers (maxBufferedMessages, maxInflight) only later,
 * on the caller thread. So every direct publish carries a context whose
 * callback reports its end: fl_mqtt_unacked() counts what is still open on
 * this connection, for a caller that must pace a burst (the hub's delivery
 * receipts), and fl_mqtt_publish_tracked() reports each end through
 * on_published (the hub's alerts: "sent" means acknowledged). A connection
 * lost ends every tracked publish still open with FL_EAGAIN; Paho may yet
 * deliver one after the reconnect (a persistent session resends what was
 * in flight), so a caller that retries delivers at least once.
 *
 * Reconnects are ours too (not Paho's automaticReconnect, which does not
 * cover a first connect that fails): after a failure the next attempt waits
 * 0.5 s, doubling to at most 5 s, with +-20% jitter so a fleet does not
 * reconnect in step. MQTT 5 is tried first; a broker that refuses the
 * protocol version gets 3.1.1 (the client is recreated for it, as Paho fixes
 * the version at creation).
 *
 * A note on a fault in Paho (1.3.12, Debian 12; unchanged in 1.3.15). When
 * the write of a QoS 1 publish fails on the socket (the broker went away
 * before Paho noticed), Paho has already moved the message's topic and
 * payload into its stored copy for resending, and then frees them with the
 * failed command (MQTTAsync_processCommand, the SOCKET_ERROR branch): the
 * stored copy points at freed memory. Whatever touches it next reads or
 * frees it again - the resend after a reconnect with the session present
 * (seen under ASan in the hub: faults_broker_restart.sh with MQTT alerts),
 * the clearing of the session on a clean start, MQTTAsync_destroy. So the
 * client is not used again: the publish's failure callback says so
 * (MQTTASYNC_FAILURE, the socket error's code, sets paho_broken) and the
 * next connect is made by a new client with the same id and options
 * (renew_client); the old one is left as it is, never destroyed - a few
 * kilobytes each time, and the log says how many. Nothing is lost by it:
 * our tracked publishes of the old connection already end with FL_EAGAIN
 * and their owners send again, the spool resends from its cursor, and the
 * broker keeps a persistent session for the client id, not for Paho's
 * object.
 */
#include "client.h"

#include <MQTTAsync.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "fl.h"

enum ev_kind {
	EV_CONNECTED,
	EV_LOST,
	EV_CONNECT_FAILED,
	EV_MSG,
	EV_ACK,
	EV_NACK,
	EV_PUBLISHED /* a direct publish ended: seq is its token, code rc */
};

/* A waited-for message (persistent): where it is between the two threads. */
enum ev_state { EVS_QUEUED, EVS_TAKEN, EVS_DONE };

/* A PUBLISH packet beyond its payload: fixed header (5), the longest topic
 * (2 + 65535), packet id (2) and properties (a publisher's own: some room).
 * MQTT's largest packet: a remaining length of 268435455. */
#define PACKET_HEADROOM (5 + 2 + 65535 + 2 + 1024)
#define MQTT_PACKET_MAX 268435455
/* How long the callback waits for the owner to pick a message up. */
#define ACK_WAIT_S 60

/* Offering a held message again: first after this, doubling, at most. */
#define HOLD_FIRST_S 0.25
#define HOLD_MAX_S 5.0

struct ev {
	struct ev *next;
	enum ev_kind kind;
	uint64_t seq;
	unsigned gen;
	int code;    /* EV_CONNECT_FAILED: Paho code or reason code */
	char *why;   /* EV_CONNECT_FAILED: the reason in words, or NULL */
	char *topic; /* EV_MSG */
	void *payload;
	size_t len;
	int waited;          /* EV_MSG: a callback waits for it and frees it */
	enum ev_state state; /* of a waited message, under m->mu */
};

/* A Paho call made by the caller thread for the owner (persistent). */
enum call_kind { CALL_CONN, CALL_SUB, CALL_PUB, CALL_DISC };

struct call {
	struct call *next;
	enum call_kind kind;
	char *topic; /* CALL_SUB: the filter */
	void *payload;
	size_t len;
	int qos, retain;
	struct send_ctx *ctx; /* CALL_PUB with callbacks, or NULL */
};

/* What one send was, for its result callback. */
enum send_kind {
	SEND_SPOOL, /* a spooled message: id is its spool seq */
	SEND_STOP,  /* fl_mqtt_stop's message */
	SEND_DIRECT /* fl_mqtt_publish*: id is its token, 0 untracked */
};

/* Context of one send, freed by its callback. */
struct send_ctx {
	fl_mqtt *m;
	enum send_kind kind;
	uint64_t id;
	unsigned gen;
};

/* A tracked publish not yet reported (owner thread). */
struct tracked {
	uint64_t token;
	unsigned gen;
};

struct fl_mqtt {
	MQTTAsync cli; /* replaced only under cmu (renew_client) */
	int version;   /* MQTTVERSION_5 or MQTTVERSION_3_1_1 */
	char uri[512];
	fl_mqtt_opts o; /* strings below are our copies */
	char *host, *username, *password, *tls_ca, *tls_cert, *tls_key;
	char *client_id, *will_topic, *will_payload;
	fl_spool *spool;

	pthread_mutex_t mu; /* guards head/tail/kicked/tls_err, ev states */
	pthread_cond_t cv;
	pthread_cond_t done_cv; /* a waited message was handled, or closing */
	int closing;            /* destroy: waiting callbacks give up */
	int callbacks;          /* message callbacks running (under mu) */

	/* the caller thread (persistent): guarded by cmu */
	pthread_t caller;
	int caller_started;
	pthread_mutex_t cmu;
	pthread_cond_t ccv;
	struct call *chead, *ctail;
	int cquit;
	atomic_int disc_done; /* the caller made the disconnect */
	struct ev *head, *tail;
	int kicked;
	char tls_err[200]; /* first TLS error of this connect attempt */
	atomic_int connected;
	atomic_int stop_acked;
	atomic_int paho_broken; /* see "A note on a fault in Paho" */
	unsigned abandoned; /* Paho clients left behind (the connecting thread) */
	int remake; /* make the client again (3.1.1) before connecting */

	/* owner thread only */
	int up; /* connected as far as the owner knows */
	int connecting;
	int stopping; /* fl_mqtt_stop: no reconnect, no spool sends */
	unsigned gen;
	uint64_t cursor; /* last spooled seq sent this connection */
	int inflight;
	int unacked; /* direct publishes of this generation still open */
	uint64_t next_token;
	struct tracked *trk; /* tracked publishes not yet reported */
	size_t ntrk, trkcap;
	struct ev *held;           /* a message on_message could not take */
	double held_at, held_wait; /* next offer (monotonic), back-off */
	double retry_at, backoff;
	char **subs;
	size_t nsubs;
	fl_mqtt_stats st;
	unsigned rnd;
};

static char *dup_or_null(const char *s)
{
	return s && s[0] ? strdup(s) : NULL;
}

/* ---- Paho's threads: queue and signal, nothing else ----------------- */

static void push(fl_mqtt *m, struct ev *e)
{
	pthread_mutex_lock(&m->mu);
	if (m->tail)
		m->tail->next = e;
	else
		m->head = e;
	m->tail = e;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

static void push_simple(fl_mqtt *m, enum ev_kind kind, uint64_t seq,
			unsigned gen, int code)
{
	struct ev *e = calloc(1, sizeof(*e));

	if (!e)
		return; /* an ack lost to OOM only means a resend */
	e->kind = kind;
	e->seq = seq;
	e->gen = gen;
	e->code = code;
	push(m, e);
}

static void on_connected(void *context, char *cause)
{
	fl_mqtt *m = context;

	(void)cause;
	atomic_store(&m->connected, 1);
	push_simple(m, EV_CONNECTED, 0, 0, 0);
}

static void on_lost(void *context, char *cause)
{
	fl_mqtt *m = context;

	(void)cause;
	atomic_store(&m->connected, 0);
	push_simple(m, EV_LOST, 0, 0, 0);
}

/* Unlink e from the event list (under m->mu); 1 if it was there. */
static int unqueue(fl_mqtt *m, struct ev *e)
{
	struct ev *p = NULL, *q;

	for (q = m->head; q && q != e; q = q->next)
		p = q;
	if (!q)
		return 0;
	if (p)
		p->next = e->next;
	else
		m->head = e->next;
	if (m->tail == e)
		m->tail = p;
	return 1;
}

static void free_ev(struct ev *e)
{
	free(e->why);
	free(e->topic);
	free(e->payload);
	free(e);
}

/*
 * Wait until the owner handled e (persistent; see "A note on
 * acknowledgement"). Returns 1 when it did (Paho may acknowledge), 0 when
 * e was taken back unhandled. Frees e either way.
 */
static int wait_handled(fl_mqtt *m, struct ev *e)
{
	struct timespec until = fl_mono_deadline(ACK_WAIT_S * 1000L);
	int handled = 0;

	pthread_mutex_lock(&m->mu);
	for (int expired = 0;;) {
		if (e->state == EVS_DONE) {
			handled = 1;
			break;
		}
		if (e->state == EVS_QUEUED && (m->closing || expired)) {
			unqueue(m, e);
			break;
		}
		if (expired) /* taken: the owner is on it */
			pthread_cond_wait(&m->done_cv, &m->mu);
		else if (pthread_cond_timedwait(&m->done_cv, &m->mu, &until) ==
			 ETIMEDOUT)
			expired = 1;
	}
	pthread_mutex_unlock(&m->mu);
	if (!handled)
		fl_log(FL_LOG_WARN, "mqtt",
		       "%s: not handled within %d s; acknowledged and kept in "
		       "memory for another try",
		       e->topic, ACK_WAIT_S);
	free_ev(e);
	return handled;
}

static int too_large(const fl_mqtt *m, const MQTTAsync_message *msg)
{
	return m->o.max_payload && (size_t)msg->payloadlen > m->o.max_payload;
}

static int on_arrived(void *context, char *topic, int topiclen,
		      MQTTAsync_message *msg)
{
	fl_mqtt *m = context;
	struct ev *e = calloc(1, sizeof(*e));
	size_t tl = topiclen > 0 ? (size_t)topiclen : strlen(topic);
	/* not e->waited after push(): unwaited, e is the owner's then */
	int handled = 1, waited = m->o.persistent;

	if (e) {
		e->kind = EV_MSG;
		e->topic = malloc(tl + 1);
		/* too large: the owner refuses it by its size, no copy */
		if (!too_large(m, msg))
			e->payload = malloc((size_t)msg->payloadlen + 1);
		if (e->topic && (e->payload || too_large(m, msg))) {
			memcpy(e->topic, topic, tl);
			e->topic[tl] = '\0';
			if (e->payload) {
				memcpy(e->payload, msg->payload,
				       (size_t)msg->payloadlen);
				((char *)e->payload)[msg->payloadlen] = '\0';
			}
			e->len = (size_t)msg->payloadlen;
			e->waited = waited;
			e->state = EVS_QUEUED;
			if (waited) {
				pthread_mutex_lock(&m->mu);
				m->callbacks++;
				pthread_mutex_unlock(&m->mu);
			}
			push(m, e);
			if (waited) {
				handled = wait_handled(m, e);
				pthread_mutex_lock(&m->mu);
				m->callbacks--;
				pthread_cond_broadcast(&m->done_cv);
				pthread_mutex_unlock(&m->mu);
			}
		} else {
			free_ev(e);
			handled = !m->o.persistent; /* try again later */
		}
	} else {
		handled = !m->o.persistent;
	}
	if (!handled)
		return 0; /* Paho keeps the message and calls again */
	MQTTAsync_freeMessage(&msg);
	MQTTAsync_free(topic);
	return 1;
}

/*
 * Paho's TLS layer hands over OpenSSL's error queue here, one line per
 * error ("pid:error:code:library:function:reason:file:line:"); without it
 * a failed handshake is only "code -1". Keep the reason of the first line
 * of the attempt (the cause; the rest follows from it).
 */
static int on_tls_error(const char *str, size_t len, void *u)
{
	fl_mqtt *m = u;
	char line[512];
	const char *f[6] = { 0 };
	char *p;
	int nf = 0;

	snprintf(line, sizeof(line), "%.*s", (int)FL_MIN(len, 511), str);
	line[strcspn(line, "\r\n")] = '\0';
	for (p = line; nf < 6 && p; nf++) {
		f[nf] = p;
		p = strchr(p, ':');
		if (p)
			*p++ = '\0';
	}
	pthread_mutex_lock(&m->mu);
	if (!m->tls_err[0]) {
		if (nf == 6 && !strcmp(f[1], "error") && f[5][0])
			snprintf(m->tls_err, sizeof(m->tls_err), "%s", f[5]);
		else
			snprintf(m->tls_err, sizeof(m->tls_err), "%.*s",
				 (int)FL_MIN(len, sizeof(m->tls_err) - 1), str);
		m->tls_err[strcspn(m->tls_err, "\r\n")] = '\0';
	}
	pthread_mutex_unlock(&m->mu);
	return 1;
}

/* MQTT 3.1.1 CONNACK return codes (1..5) in words. */
static const char *connack3(int rc)
{
	static const char *const s[] = { NULL,
					 "unacceptable protocol version",
					 "client id rejected",
					 "server unavailable",
					 "bad user name or password",
					 "not authorized" };

	return rc > 0 && rc < 6 ? s[rc] : NULL;
}

/*
 * A failed connect in words (Paho's thread): the broker's refusal (MQTT 5
 * reason code or 3.1.1 CONNACK code), else the TLS error OpenSSL reported
 * for this attempt, else Paho's own message or error name.
 */
static void connect_failed(fl_mqtt *m, int v3, int reason, int code,
			   const char *msg)
{
	struct ev *e = calloc(1, sizeof(*e));
	char why[300], tls[sizeof(m->tls_err)];
	const char *c3 = v3 ? connack3(code) : NULL;

	/* Paho's error codes are negative; a positive code is the CONNACK's
	 * (MQTT 5: Paho leaves reasonCode 0 and puts it there). */
	if (!v3 && !reason && code > 0)
		reason = code;
	pthread_mutex_lock(&m->mu);
	memcpy(tls, m->tls_err, sizeof(tls));
	pthread_mutex_unlock(&m->mu);
	if (reason)
		snprintf(why, sizeof(why), "refused by the broker: %s",
			 MQTTReasonCode_toString((enum MQTTReasonCodes)reason));
	else if (c3)
		snprintf(why, sizeof(why), "refused by the broker: %s", c3);
	else if (tls[0])
		snprintf(why, sizeof(why), "TLS: %s", tls);
	else if (msg && msg[0])
		snprintf(why, sizeof(why), "%s", msg);
	else
		snprintf(why, sizeof(why), "%s", MQTTAsync_strerror(code));
	if (!e)
		return;
	e->kind = EV_CONNECT_FAILED;
	e->code = reason ? reason : code;
	e->why = strdup(why);
	push(m, e);
}

static void on_connect_fail5(void *context, MQTTAsync_failureData5 *r)
{
	if (r)
		connect_failed(context, 0, (int)r->reasonCode, r->code,
			       r->message);
	else
		connect_failed(context, 0, 0, -1, NULL);
}

static void on_connect_fail(void *context, MQTTAsync_failureData *r)
{
	if (r)
		connect_failed(context, 1, 0, r->code, r->message);
	else
		connect_failed(context, 1, 0, -1, NULL);
}

static void sent_ok(struct send_ctx *c)
{
	switch (c->kind) {
	case SEND_STOP:
		atomic_store(&c->m->stop_acked, 1);
		break;
	case SEND_SPOOL:
		push_simple(c->m, EV_ACK, c->id, c->gen, 0);
		break;
	case SEND_DIRECT:
		push_simple(c->m, EV_PUBLISHED, c->id, c->gen, 0);
		break;
	}
	free(c);
}

static void sent_fail(struct send_ctx *c)
{
	if (c->kind == SEND_SPOOL)
		push_simple(c->m, EV_NACK, c->id, c->gen, 0);
	else if (c->kind == SEND_DIRECT)
		push_simple(c->m, EV_PUBLISHED, c->id, c->gen, FL_EIO);
	free(c);
}

static void on_sent5(void *context, MQTTAsync_successData5 *r)
{
	/* MQTT 5: a PUBACK with a reason code of 0x80 or more is a refusal
	 * (Paho reports it to onFailure5; checked here too in case) */
	if (r && r->reasonCode >= 0x80)
		sent_fail(context);
	else
		sent_ok(context);
}

static void on_sent(void *context, MQTTAsync_successData *r)
{
	(void)r;
	sent_ok(context);
}

/* A publish whose write failed on the socket (code MQTTASYNC_FAILURE, the
 * socket error) leaves Paho's client broken: see "A note on a fault in
 * Paho". */
static void on_send_fail5(void *context, MQTTAsync_failureData5 *r)
{
	struct send_ctx *c = context;

	if (r && r->code == MQTTASYNC_FAILURE)
		atomic_store(&c->m->paho_broken, 1);
	sent_fail(c);
}

static void on_send_fail(void *context, MQTTAsync_failureData *r)
{
	struct send_ctx *c = context;

	if (r && r->code == MQTTASYNC_FAILURE)
		atomic_store(&c->m->paho_broken, 1);
	sent_fail(c);
}

/* ---- the owner's side ------------------------------------------------ */

static void *call_thread(void *arg);

static int make_client(fl_mqtt *m, char *err, size_t errlen)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
	int rc;

	co.MQTTVersion = m->version;
	co.sendWhileDisconnected = 0;
	/* Paho queues commands before its thread writes them and refuses
	 * more than this (default 100): a connection's first burst is up to
	 * 4 x 8 lanes x 5 messages plus the spool's window. */
	co.maxBufferedMessages = 2048;
	rc = MQTTAsync_createWithOptions(&m->cli, m->uri, m->client_id,
					 MQTTCLIENT_PERSISTENCE_NONE, NULL,
					 &co);
	if (rc != MQTTASYNC_SUCCESS) {
		m->cli = NULL;
		snprintf(err, errlen,
			 "mqtt: cannot create a client for %s (%d)", m->uri,
			 rc);
		return FL_EINVAL;
	}
	MQTTAsync_setCallbacks(m->cli, m, on_lost, on_arrived, NULL);
	MQTTAsync_setConnected(m->cli, m, on_connected);
	return 0;
}

fl_mqtt *fl_mqtt_create(const fl_mqtt_opts *o, fl_spool *spool, char *err,
			size_t errlen)
{
	fl_mqtt *m = calloc(1, sizeof(*m));
	pthread_condattr_t ca;
	int port;

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&m->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cv, &ca);
	pthread_cond_init(&m->done_cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&m->cmu, NULL);
	pthread_cond_init(&m->ccv, NULL);
	if (!o->host || !o->host[0] || !o->client_id || !o->client_id[0]) {
		snprintf(err, errlen, "mqtt: host and client id are required");
		goto fail;
	}
	m->o = *o;
	m->host = strdup(o->host);
	m->client_id = strdup(o->client_id);
	m->username = dup_or_null(o->username);
	m->password = dup_or_null(o->password);
	m->tls_ca = dup_or_null(o->tls_ca);
	m->tls_cert = dup_or_null(o->tls_cert);
	m->tls_key = dup_or_null(o->tls_key);
	m->will_topic = dup_or_null(o->will_topic);
	m->will_payload = o->will_payload ? strdup(o->will_payload) : NULL;
	if (!m->host || !m->client_id) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (m->o.window <= 0)
		m->o.window = 8;
	if (m->o.keepalive_s <= 0)
		m->o.keepalive_s = 30;
	if (m->o.session_expiry_s <= 0)
		m->o.session_expiry_s = 7L * 24 * 3600;
	port = o->port > 0 ? o->port : (m->tls_ca ? 8883 : 1883);
	snprintf(m->uri, sizeof(m->uri), "%s://%s:%d",
		 m->tls_ca ? "ssl" : "tcp", m->host, port);
	m->spool = spool;
	m->version = MQTTVERSION_5;
	m->backoff = 0.5;
	m->rnd = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)m;
	if (make_client(m, err, errlen) < 0)
		goto fail;
	if (m->o.persistent) {
		if (pthread_create(&m->caller, NULL, call_thread, m)) {
			snprintf(err, errlen, "mqtt: cannot start a thread");
			goto fail;
		}
		m->caller_started = 1;
	}
	return m;
fail:
	fl_mqtt_destroy(m);
	return NULL;
}

/* Paho's client left behind for a new one (see "A note on a fault in
 * Paho"), never destroyed: its connected callback cleared (Paho refuses to
 * clear the others; a client never connected again calls none of them).
 * 0, or the old client kept when a new one cannot be made. */
static int renew_client(fl_mqtt *m)
{
	MQTTAsync old = m->cli;
	char err[256];
	int rc;

	MQTTAsync_setConnected(old, NULL, NULL);
	pthread_mutex_lock(&m->cmu);
	rc = make_client(m, err, sizeof(err));
	if (rc < 0)
		m->cli = old;
	pthread_mutex_unlock(&m->cmu);
	if (rc < 0) {
		fl_log(FL_LOG_ERROR, "mqtt", "%s", err);
		return rc;
	}
	m->abandoned++;
	fl_log(FL_LOG_WARN, "mqtt",
	       "a publish failed on the socket: Paho's client is left "
	       "behind and a new one connects (%u so far; src/mqtt/client.c)",
	       m->abandoned);
	return 0;
}

/*
 * Make the connect call (a new client first when the old one is broken or
 * must speak 3.1.1): on the owner thread, or with `persistent` on the
 * caller thread (see do_connect). Paho's code of MQTTAsync_connect; its
 * outcome comes later through the connect callbacks.
 */
static int connect_now(fl_mqtt *m)
{
	MQTTAsync_connectOptions c5 = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_connectOptions c3 = MQTTAsync_connectOptions_initializer;
	MQTTAsync_connectOptions *c = m->version == MQTTVERSION_5 ? &c5 : &c3;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	MQTTProperties props = MQTTProperties_initializer;
	int rc;

	if (m->remake) {
		char err[256];

		m->remake = 0;
		pthread_mutex_lock(&m->cmu);
		MQTTAsync_destroy(&m->cli);
		rc = make_client(m, err, sizeof(err));
		pthread_mutex_unlock(&m->cmu);
		if (rc < 0) {
			fl_log(FL_LOG_ERROR, "mqtt", "%s", err);
			return MQTTASYNC_FAILURE;
		}
	}
	if (atomic_exchange(&m->paho_broken, 0))
		renew_client(m);
	c->keepAliveInterval = m->o.keepalive_s;
	c->connectTimeout = 10;
	/* Paho's default of 10 QoS 1 messages in flight is less than a
	 * connection's first burst (4 cameras x 8 lanes x state, settings and
	 * 3 discovery documents, plus the spool's window). */
	c->maxInflight = 1024;
	c->context = m;
	if (m->version == MQTTVERSION_5) {
		c->cleanstart = !m->o.persistent;
		c->onFailure5 = on_connect_fail5;
		if (m->o.persistent) {
			/* without it an MQTT 5 session ends with the
			 * connection, clean start or not */
			MQTTProperty p;

			memset(&p, 0, sizeof(p));
			p.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL;
			p.value.integer4 = (unsigned)
				FL_MIN(m->o.session_expiry_s, 0xfffffffeL);
			MQTTProperties_add(&props, &p);
		}
		if (m->o.max_payload) {
			/* the broker drops a larger message instead of
			 * sending it: it never reaches our memory. Room for
			 * the longest topic, the header and properties, so a
			 * message a little over the limit still arrives and
			 * is refused by its size (and quarantined). */
			MQTTProperty p;

			memset(&p, 0, sizeof(p));
			p.identifier = MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE;
			p.value.integer4 = (unsigned)
				FL_MIN(m->o.max_payload + PACKET_HEADROOM,
				       (size_t)MQTT_PACKET_MAX);
			MQTTProperties_add(&props, &p);
		}
		if (props.count)
			c->connectProperties = &props;
	} else {
		c->cleansession = !m->o.persistent;
		c->onFailure = on_connect_fail;
	}
	c->username = m->username;
	c->password = m->password;
	if (m->will_topic && m->o.will) {
		char buf[1024], *w;
		size_t n = m->o.will(buf, sizeof(buf), m->o.user);

		if (n < sizeof(buf) && (w = strdup(buf))) {
			free(m->will_payload);
			m->will_payload = w;
		}
	}
	if (m->will_topic) {
		will.topicName = m->will_topic;
		will.message = m->will_payload ? m->will_payload : "";
		will.retained = 1;
		will.qos = 1;
		c->will = &will;
	}
	if (m->tls_ca) {
		ssl.trustStore = m->tls_ca;
		ssl.keyStore = m->tls_cert;
		ssl.privateKey = m->tls_key;
		ssl.enableServerCertAuth = 1;
		ssl.verify = 1;
		ssl.ssl_error_cb = on_tls_error;
		ssl.ssl_error_context = m;
		c->ssl = &ssl;
	}
	pthread_mutex_lock(&m->mu);
	m->tls_err[0] = '\0';
	pthread_mutex_unlock(&m->mu);
	rc = MQTTAsync_connect(m->cli, c); /* copies the properties */
	MQTTProperties_free(&props);
	return rc;
}

static int call_push(fl_mqtt *m, enum call_kind kind, const char *topic,
		     const void *payload, size_t len, int qos, int retain,
		     struct send_ctx *ctx);
static void schedule_retry(fl_mqtt *m);

/*
 * Connect (owner thread). With `persistent` the call is made by the
 * caller thread: another persistent client of the process (the hub has
 * two) may hold Paho's mutex in a callback that waits for this thread,
 * and connecting takes that mutex; a call refused is reported as a failed
 * connect (EV_CONNECT_FAILED, then the usual back-off).
 */
static void do_connect(fl_mqtt *m)
{
	int rc;

	m->connecting = 1;
	if (m->o.persistent) {
		if (call_push(m, CALL_CONN, NULL, NULL, 0, 0, 0, NULL) < 0) {
			m->connecting = 0;
			schedule_retry(m);
		}
		return;
	}
	rc = connect_now(m);
	if (rc != MQTTASYNC_SUCCESS) {
		fl_log(FL_LOG_WARN, "mqtt", "connect to %s: error %d", m->uri,
		       rc);
		m->connecting = 0;
		m->retry_at = fl_mono_s() + m->backoff;
	}
}

int fl_mqtt_start(fl_mqtt *m)
{
	fl_log(FL_LOG_INFO, "mqtt", "connecting to %s as %s", m->uri,
	       m->client_id);
	do_connect(m);
	return 0;
}

/* ---- Paho calls: direct, or through the caller thread ------------- */

static int paho_sub(MQTTAsync cli, const char *filter)
{
	MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;
	int rc = MQTTAsync_subscribe(cli, filter, 1, &r);

	if (rc != MQTTASYNC_SUCCESS)
		fl_log(FL_LOG_WARN, "mqtt", "subscribe %s: error %d", filter,
		       rc);
	return rc;
}

/* Send; ctx (may be NULL) gets the result callbacks. Paho copies. */
static int paho_pub(fl_mqtt *m, MQTTAsync cli, const char *topic,
		    const void *payload, size_t len, int qos, int retain,
		    struct send_ctx *ctx)
{
	MQTTAsync_message pub = MQTTAsync_message_initializer;
	MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;

	pub.payload = (void *)payload;
	pub.payloadlen = (int)len;
	pub.qos = qos;
	pub.retained = retain;
	if (ctx) {
		r.context = ctx;
		if (m->version == MQTTVERSION_5) {
			r.onSuccess5 = on_sent5;
			r.onFailure5 = on_send_fail5;
		} else {
			r.onSuccess = on_sent;
			r.onFailure = on_send_fail;
		}
	}
	return MQTTAsync_sendMessage(cli, topic, &pub, &r);
}

static void paho_disc(fl_mqtt *m, MQTTAsync cli, double until)
{
	MQTTAsync_disconnectOptions d5 =
		MQTTAsync_disconnectOptions_initializer5;
	MQTTAsync_disconnectOptions d3 = MQTTAsync_disconnectOptions_initializer;
	MQTTAsync_disconnectOptions *d = m->version == MQTTVERSION_5 ? &d5
								     : &d3;

	if (!MQTTAsync_isConnected(cli))
		return;
	d->timeout = 1000;
	MQTTAsync_disconnect(cli, d);
	while (MQTTAsync_isConnected(cli) && fl_mono_s() < until) {
		struct timespec ts = { 0, 10000000L };
		nanosleep(&ts, NULL);
	}
}

static void free_call(struct call *c)
{
	free(c->topic);
	free(c->payload);
	free(c);
}

static void *call_thread(void *arg)
{
	fl_mqtt *m = arg;

	for (;;) {
		struct call *c;
		MQTTAsync cli;
		int rc = MQTTASYNC_SUCCESS;

		pthread_mutex_lock(&m->cmu);
		while (!m->chead && !m->cquit)
			pthread_cond_wait(&m->ccv, &m->cmu);
		c = m->chead;
		if (c) {
			m->chead = c->next;
			if (!m->chead)
				m->ctail = NULL;
		}
		cli = m->cli; /* a client left behind stays valid: never freed */
		pthread_mutex_unlock(&m->cmu);
		if (!c)
			break; /* quit, queue empty */
		switch (c->kind) {
		case CALL_CONN:
			rc = connect_now(m);
			if (rc != MQTTASYNC_SUCCESS) {
				char why[64];

				snprintf(why, sizeof(why), "connect: error %d",
					 rc);
				connect_failed(m, m->version != MQTTVERSION_5,
					       0, rc, why);
			}
			break;
		case CALL_SUB:
			paho_sub(cli, c->topic);
			break;
		case CALL_PUB:
			rc = paho_pub(m, cli, c->topic, c->payload, c->len,
				      c->qos, c->retain, c->ctx);
			if (rc != MQTTASYNC_SUCCESS) {
				fl_log(FL_LOG_WARN, "mqtt",
				       "publish %s: %s (%d)", c->topic,
				       MQTTAsync_strerror(rc), rc);
				if (c->ctx)
					sent_fail(c->ctx); /* frees it */
			}
			break;
		case CALL_DISC:
			paho_disc(m, cli, fl_mono_s() + 2.0);
			atomic_store(&m->disc_done, 1);
			push_simple(m, EV_ACK, 0, 0, 0); /* wake the owner */
			break;
		}
		free_call(c);
	}
	return NULL;
}

/* Queue a call for the caller thread (strings and bytes are copied). */
static int call_push(fl_mqtt *m, enum call_kind kind, const char *topic,
		     const void *payload, size_t len, int qos, int retain,
		     struct send_ctx *ctx)
{
	struct call *c = calloc(1, sizeof(*c));

	if (!c)
		return FL_ENOMEM;
	c->kind = kind;
	c->qos = qos;
	c->retain = retain;
	c->ctx = ctx;
	c->len = len;
	if ((topic && !(c->topic = strdup(topic))) ||
	    (len && !(c->payload = malloc(len)))) {
		free_call(c);
		return FL_ENOMEM;
	}
	if (len)
		memcpy(c->payload, payload, len);
	pthread_mutex_lock(&m->cmu);
	if (m->ctail)
		m->ctail->next = c;
	else
		m->chead = c;
	m->ctail = c;
	pthread_cond_signal(&m->ccv);
	pthread_mutex_unlock(&m->cmu);
	return 0;
}

static void subscribe_one(fl_mqtt *m, const char *filter)
{
	if (m->o.persistent)
		call_push(m, CALL_SUB, filter, NULL, 0, 0, 0, NULL);
	else
		paho_sub(m->cli, filter);
}

/* Send now, or queue it (persistent). 0 or a Paho error code; on an error
 * ctx is still the caller's. */
static int send_one(fl_mqtt *m, const char *topic, const void *payload,
		    size_t len, int qos, int retain, struct send_ctx *ctx)
{
	if (!m->o.persistent)
		return paho_pub(m, m->cli, topic, payload, len, qos, retain,
				ctx);
	return call_push(m, CALL_PUB, topic, payload, len, qos, retain, ctx)
		       ? MQTTASYNC_FAILURE
		       : MQTTASYNC_SUCCESS;
}

int fl_mqtt_subscribe(fl_mqtt *m, const char *filter)
{
	char **subs = realloc(m->subs, (m->nsubs + 1) * sizeof(*subs));

	if (!subs)
		return FL_ENOMEM;
	m->subs = subs;
	m->subs[m->nsubs] = strdup(filter);
	if (!m->subs[m->nsubs])
		return FL_ENOMEM;
	m->nsubs++;
	if (m->up)
		subscribe_one(m, filter);
	return 0;
}

static void schedule_retry(fl_mqtt *m)
{
	double jitter;

	m->rnd = m->rnd * 1103515245u + 12345u;
	jitter = 0.8 + 0.4 * (double)((m->rnd >> 8) & 0xffff) / 65535.0;
	m->retry_at = fl_mono_s() + m->backoff * jitter;
	m->backoff = FL_MIN(m->backoff * 2, 5.0);
}

/* Report tracked publish token's end (once: an unknown token, already
 * reported, is ignored). */
static void tracked_end(fl_mqtt *m, uint64_t token, int rc)
{
	for (size_t i = 0; i < m->ntrk; i++) {
		if (m->trk[i].token != token)
			continue;
		m->trk[i] = m->trk[--m->ntrk];
		if (m->o.on_published)
			m->o.on_published(token, rc, m->o.user);
		return;
	}
}

/* The connection is gone: every tracked publish of an older connection
 * ends unacknowledged (see "A note on publishing and back-pressure"). */
static void tracked_lost(fl_mqtt *m)
{
	for (size_t i = 0; i < m->ntrk;) {
		uint64_t token = m->trk[i].token;

		if (m->trk[i].gen == m->gen) {
			i++;
			continue;
		}
		m->trk[i] = m->trk[--m->ntrk];
		if (m->o.on_published)
			m->o.on_published(token, FL_EAGAIN, m->o.user);
	}
}

static void handle(fl_mqtt *m, struct ev *e)
{
	switch (e->kind) {
	case EV_CONNECTED:
		m->connecting = 0;
		if (m->up)
			break; /* initial onSuccess and connected both fire */
		m->up = 1;
		m->gen++;
		m->cursor = 0;
		m->inflight = 0;
		m->backoff = 0.5;
		m->st.connects++;
		m->st.mqtt_version = m->version == MQTTVERSION_5 ? 5 : 4;
		fl_log(FL_LOG_INFO, "mqtt", "connected to %s (MQTT %s)", m->uri,
		       m->version == MQTTVERSION_5 ? "5" : "3.1.1");
		for (size_t i = 0; i < m->nsubs; i++)
			subscribe_one(m, m->subs[i]);
		if (m->o.on_connect)
			m->o.on_connect(m->o.user);
		break;
	case EV_LOST:
		if (m->up)
			fl_log(FL_LOG_WARN, "mqtt", "connection to %s lost",
			       m->uri);
		m->up = 0;
		m->connecting = 0;
		m->gen++;
		m->inflight = 0;
		m->cursor = 0;
		m->unacked = 0;
		tracked_lost(m);
		schedule_retry(m);
		break;
	case EV_CONNECT_FAILED:
		m->connecting = 0;
		fl_log(FL_LOG_WARN, "mqtt",
		       "cannot connect to %s: %s (code %d)", m->uri,
		       e->why ? e->why : "?", e->code);
		/* 0x84 unsupported protocol version (MQTT 5 CONNACK), 1 the
		 * same refusal in 3.1.1's CONNACK: fall back once. */
		if (m->version == MQTTVERSION_5 &&
		    (e->code == 0x84 || e->code == 1)) {
			/* made again by the next connect (Paho fixes the
			 * version at creation) */
			m->version = MQTTVERSION_3_1_1;
			m->remake = 1;
			m->retry_at = fl_mono_s();
			break;
		}
		schedule_retry(m);
		break;
	case EV_MSG:
		if (m->o.on_message &&
		    m->o.on_message(e->topic, e->payload, e->len, m->o.user) <
			    0 &&
		    e->waited && !m->held) {
			m->held = e; /* see "A note on holding a message" */
			m->held_wait = HOLD_FIRST_S;
			m->held_at = fl_mono_s() + m->held_wait;
			m->st.held++;
		}
		break;
	case EV_PUBLISHED:
		if (e->gen == m->gen && m->unacked > 0)
			m->unacked--;
		if (e->seq)
			tracked_end(m, e->seq, e->code);
		break;
	case EV_ACK:
		if (e->seq == 0)
			break; /* a wake-up from the caller thread */
		if (e->gen == m->gen && m->inflight > 0)
			m->inflight--;
		if (m->spool)
			fl_spool_ack(m->spool, e->seq);
		m->st.acked++;
		break;
	case EV_NACK:
		if (e->gen == m->gen) {
			if (m->inflight > 0)
				m->inflight--;
			/* resend from the failed one on */
			if (e->seq - 1 < m->cursor)
				m->cursor = e->seq - 1;
		}
		break;
	}
}

static void pump(fl_mqtt *m)
{
	while (m->spool && m->up && m->inflight < m->o.window) {
		struct send_ctx *ctx;
		fl_spool_msg msg;
		uint64_t seq;
		int rc;

		if (fl_spool_next(m->spool, m->cursor, &msg) < 0)
			break;
		ctx = malloc(sizeof(*ctx));
		if (!ctx) {
			fl_spool_msg_free(&msg);
			break;
		}
		ctx->m = m;
		ctx->kind = SEND_SPOOL;
		ctx->id = msg.seq;
		ctx->gen = m->gen;
		seq = msg.seq;
		rc = send_one(m, msg.topic, msg.payload, msg.len, msg.qos,
			      msg.retain, ctx);
		fl_spool_msg_free(&msg);
		/* From here ctx belongs to the callback (it may already be
		 * freed): only the copy of seq is ours. */
		if (rc != MQTTASYNC_SUCCESS) {
			free(ctx);
			break; /* next turn, or after the reconnect */
		}
		m->cursor = seq > m->cursor ? seq : m->cursor;
		m->inflight++;
		m->st.sent++;
	}
}

/* Offer the held message again; 1 when on_message took it. */
static int offer_held(fl_mqtt *m)
{
	struct ev *e = m->held;

	m->st.offers++;
	if (m->o.on_message(e->topic, e->payload, e->len, m->o.user) < 0) {
		m->held_wait = FL_MIN(m->held_wait * 2, HOLD_MAX_S);
		m->held_at = fl_mono_s() + m->held_wait;
		return 0;
	}
	m->held = NULL;
	/* its callback returns now, and Paho acknowledges it */
	pthread_mutex_lock(&m->mu);
	e->state = EVS_DONE;
	pthread_cond_broadcast(&m->done_cv);
	pthread_mutex_unlock(&m->mu);
	return 1;
}

int fl_mqtt_run(fl_mqtt *m, int timeout_ms)
{
	struct timespec until;
	struct ev *list;

	if (m->held) /* wake for its next offer */
		timeout_ms = (int)FL_MIN((double)timeout_ms,
					 FL_MAX(0.0, (m->held_at - fl_mono_s()) *
							     1000.0));
	until = fl_mono_deadline(timeout_ms);
	pthread_mutex_lock(&m->mu);
	while (!m->head && !m->kicked &&
	       pthread_cond_timedwait(&m->cv, &m->mu, &until) == 0)
		;
	list = m->head;
	m->head = m->tail = NULL;
	m->kicked = 0;
	for (struct ev *e = list; e; e = e->next)
		e->state = EVS_TAKEN;
	pthread_mutex_unlock(&m->mu);

	while (list) {
		struct ev *next = list->next;
		handle(m, list);
		if (list == m->held) {
			/* kept TAKEN: its callback waits, nothing goes out */
		} else if (list->waited) {
			/* its callback frees it: do not touch it after this */
			pthread_mutex_lock(&m->mu);
			list->state = EVS_DONE;
			pthread_cond_broadcast(&m->done_cv);
			pthread_mutex_unlock(&m->mu);
		} else {
			free_ev(list);
		}
		list = next;
	}
	if (m->held && fl_mono_s() >= m->held_at)
		offer_held(m);
	if (m->stopping)
		return 0;
	if (!m->up && !m->connecting && m->cli && fl_mono_s() >= m->retry_at)
		do_connect(m);
	pump(m);
	return 0;
}

void fl_mqtt_kick(fl_mqtt *m)
{
	pthread_mutex_lock(&m->mu);
	m->kicked = 1;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

int fl_mqtt_connected(fl_mqtt *m)
{
	return m && atomic_load(&m->connected);
}

/* A direct publish with its result context (token 0: untracked). */
static int publish_direct(fl_mqtt *m, const char *topic, const void *payload,
			  size_t len, int qos, int retain, uint64_t token)
{
	struct send_ctx *ctx;
	int rc;

	if (!m->up)
		return FL_EAGAIN;
	if (token && m->ntrk == m->trkcap) {
		size_t cap = m->trkcap ? m->trkcap * 2 : 16;
		struct tracked *t = realloc(m->trk, cap * sizeof(*t));

		if (!t)
			return FL_ENOMEM;
		m->trk = t;
		m->trkcap = cap;
	}
	ctx = malloc(sizeof(*ctx));
	if (!ctx)
		return FL_ENOMEM;
	*ctx = (struct send_ctx){ m, SEND_DIRECT, token, m->gen };
	rc = send_one(m, topic, payload, len, qos, retain, ctx);
	if (rc != MQTTASYNC_SUCCESS) {
		/* refused at once: no callback comes */
		free(ctx);
		fl_log(FL_LOG_WARN, "mqtt", "publish %s: %s (%d)", topic,
		       MQTTAsync_strerror(rc), rc);
		return FL_EAGAIN;
	}
	m->unacked++;
	if (token)
		m->trk[m->ntrk++] = (struct tracked){ token, m->gen };
	return 0;
}

int fl_mqtt_publish(fl_mqtt *m, const char *topic, const void *payload,
		    size_t len, int qos, int retain)
{
	return publish_direct(m, topic, payload, len, qos, retain, 0);
}

int fl_mqtt_publish_tracked(fl_mqtt *m, const char *topic, const void *payload,
			    size_t len, int qos, int retain, uint64_t *token)
{
	uint64_t t = ++m->next_token;
	int rc = publish_direct(m, topic, payload, len, qos, retain, t);

	if (rc == 0)
		*token = t;
	return rc;
}

int fl_mqtt_unacked(fl_mqtt *m)
{
	return m->up ? m->unacked : 0;
}

int fl_mqtt_holding(fl_mqtt *m)
{
	return m && m->held;
}

int fl_mqtt_stop(fl_mqtt *m, const char *topic, const char *payload,
		 int timeout_ms)
{
	double until = fl_mono_s() + timeout_ms / 1000.0;
	int acked = 0;

	if (!m || !m->cli)
		return FL_EINVAL;
	if (m->up && topic) {
		struct send_ctx *ctx = calloc(1, sizeof(*ctx));

		if (ctx) {
			ctx->m = m;
			ctx->kind = SEND_STOP;
			if (send_one(m, topic, payload, strlen(payload), 1, 1,
				     ctx) != MQTTASYNC_SUCCESS)
				free(ctx);
			/* Keep applying acks while we wait: a spooled
			 * message acknowledged now is not sent again. */
			while (!(acked = atomic_load(&m->stop_acked)) &&
			       fl_mono_s() < until)
				fl_mqtt_run(m, 10);
		}
	}
	m->stopping = 1;
	if (!m->o.persistent) {
		paho_disc(m, m->cli, until + 1.0);
	} else if (call_push(m, CALL_DISC, NULL, NULL, 0, 0, 0, NULL) == 0) {
		/* a message arriving meanwhile is still handed over (its
		 * callback waits for us) */
		while (!atomic_load(&m->disc_done) && fl_mono_s() < until + 3.0)
			fl_mqtt_run(m, 10);
	}
	fl_mqtt_run(m, 0);
	m->up = 0;
	atomic_store(&m->connected, 0);
	return acked ? 0 : FL_EAGAIN;
}

/* A client left to the exit with a message held (fl_mqtt_destroy): kept
 * reachable, so a leak checker does not take it for lost memory. */
static fl_mqtt *abandoned;

void fl_mqtt_destroy(fl_mqtt *m)
{
	struct ev *e;

	if (!m)
		return;
	if (m->held) {
		/* Its callback must not return (Paho would acknowledge it):
		 * leave everything as it is for the exit. */
		fl_log(FL_LOG_WARN, "mqtt",
		       "%s: stopping with this message not stored; not "
		       "acknowledged: the broker sends it again to the next "
		       "session",
		       m->held->topic);
		abandoned = m;
		return;
	}
	/* a callback still waiting takes its message back and returns */
	pthread_mutex_lock(&m->mu);
	m->closing = 1;
	pthread_cond_broadcast(&m->done_cv);
	while (m->callbacks > 0)
		pthread_cond_wait(&m->done_cv, &m->mu);
	pthread_mutex_unlock(&m->mu);
	if (m->caller_started) { /* it makes what is queued, then ends */
		pthread_mutex_lock(&m->cmu);
		m->cquit = 1;
		pthread_cond_signal(&m->ccv);
		pthread_mutex_unlock(&m->cmu);
		pthread_join(m->caller, NULL);
	}
	while (m->chead) {
		struct call *c = m->chead;
		m->chead = c->next;
		free(c->ctx);
		free_call(c);
	}
	if (m->cli)
		MQTTAsync_destroy(&m->cli);
	for (e = m->head; e;) {
		struct ev *next = e->next;
		free_ev(e);
		e = next;
	}
	for (size_t i = 0; i < m->nsubs; i++)
		free(m->subs[i]);
	free(m->subs);
	free(m->trk);
	free(m->host);
	free(m->username);
	free(m->password);
	free(m->tls_ca);
	free(m->tls_cert);
	free(m->tls_key);
	free(m->client_id);
	free(m->will_topic);
	free(m->will_payload);
	pthread_cond_destroy(&m->cv);
	pthread_cond_destroy(&m->done_cv);
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->ccv);
	pthread_mutex_destroy(&m->cmu);
	free(m);
}

void fl_mqtt_stats_get(fl_mqtt *m, fl_mqtt_stats *st)
{
	*st = m->st;
}
