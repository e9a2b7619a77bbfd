/*
 * client.h - our MQTT client: Eclipse Paho's asynchronous C client behind a
 * small API, with reconnect, the last will, and the spool pump that delivers
 * store-and-forward messages in order. See client.c.
 *
 * Threads. Paho runs its own threads and calls back on them; those callbacks
 * only queue what happened (under a mutex) and wake the owner. Everything
 * else - the on_connect and on_message callbacks, sending from the spool,
 * acknowledging - happens inside fl_mqtt_run() on the thread that calls it
 * (the edge's control thread, the hub's main thread). With `persistent`
 * the message-arrived callback also waits for the owner to have handled
 * the message, so its acknowledgement follows the owner's work, and a
 * message the owner could not store is not acknowledged at all: it is
 * held and offered again (client.c, "A note on holding a message").
 * fl_mqtt_kick() and fl_mqtt_connected() may be called from any thread;
 * the rest from the owner thread only.
 */
#ifndef FL_MQTT_CLIENT_H
#define FL_MQTT_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "spool.h"

typedef struct fl_mqtt fl_mqtt;

typedef struct fl_mqtt_opts {
	const char *host;     /* broker; required */
	int port;             /* 0: 1883, or 8883 with TLS */
	const char *username; /* NULL or "": none */
	const char *password;
	const char *tls_ca;     /* CA file: TLS on ("ssl://"); NULL/"" off */
	const char *tls_cert;   /* client certificate (PEM), optional */
	const char *tls_key;    /* its key (PEM), optional */
	int keepalive_s;        /* 0: 30 */
	const char *client_id;  /* required, unique per broker */
	const char *will_topic; /* retained QoS 1 last will, or NULL */
	const char *will_payload;
	/* The will's payload for the next connect attempt, written into buf
	 * (text without NUL; returns its length, snprintf semantics: >= len
	 * keeps the last one), called inside fl_mqtt_run() before each
	 * attempt (with `persistent`: on the client's caller thread, which
	 * makes the connect): the edge signs its will there, with a new
	 * connection epoch. NULL: will_payload for every attempt. */
	size_t (*will)(char *buf, size_t len, void *user);
	int window; /* spooled messages in flight; 0: 8 */
	/* Persistent session (the hub): clean start / clean session off, so
	 * the broker keeps the subscriptions and queues QoS 1 messages while
	 * the client is away (MQTT 5: Session Expiry Interval
	 * session_expiry_s, 0: a week; MQTT 3.1.1: until the broker's own
	 * limit). And acknowledgement after the owner: the PUBACK of a
	 * message goes out only after on_message returned for it (see
	 * client.c, "A note on acknowledgement"). */
	int persistent;
	long session_expiry_s;
	/* 0: any size. Else the largest payload the owner takes: a larger
	 * message is not copied, on_message gets it with payload NULL and
	 * its size; over MQTT 5 the broker is also told not to send packets
	 * larger than this and a topic's worth (Maximum Packet Size), so it
	 * drops a much larger message before it reaches us. */
	size_t max_payload;
	/* Called inside fl_mqtt_run(): a (re)connection is up (publish the
	 * current state here), and a message arrived on a subscription. The
	 * strings live for the call only; payload is NULL for a message over
	 * max_payload.
	 *   on_message returns 0 when the message is dealt with (stored, or
	 * refused for good: it is acknowledged). With `persistent`, a
	 * negative fl_errno says "not stored, and not the message's fault"
	 * (a full or read-only disk, a busy database): the message is NOT
	 * acknowledged, nothing else is handed over meanwhile, and the same
	 * message is offered again after a back-off of 0.25 s doubling to
	 * 5 s, until on_message takes it. Without `persistent` (the message
	 * was acknowledged on arrival) the result is ignored. */
	void (*on_connect)(void *user);
	int (*on_message)(const char *topic, const void *payload, size_t len,
			  void *user);
	/* A publish of fl_mqtt_publish_tracked() ended: rc 0 when the broker
	 * acknowledged it (QoS 1 PUBACK, QoS 0 written), else a negative
	 * fl_errno: FL_EIO refused by the broker or not sent, FL_EAGAIN the
	 * connection was lost before its acknowledgement. Once per token,
	 * inside fl_mqtt_run(); may be NULL. */
	void (*on_published)(uint64_t token, int rc, void *user);
	void *user;
} fl_mqtt_opts;

/*
 * Create the client (strings in o are copied; spool is borrowed and may be
 * NULL: nothing is store-and-forwarded). Does not connect yet. NULL with the
 * reason in err on failure.
 */
fl_mqtt *fl_mqtt_create(const fl_mqtt_opts *o, fl_spool *spool, char *err,
			size_t errlen);

/* Subscribe to filter (QoS 1) now if connected and after every reconnect.
 * Owner thread, before or after start. */
int fl_mqtt_subscribe(fl_mqtt *m, const char *filter);

/* Start connecting (in the background; retried with backoff forever). */
int fl_mqtt_start(fl_mqtt *m);

/*
 * One turn of the pump: wait up to timeout_ms for work (a Paho event or a
 * kick), then report a new connection (on_connect), hand over arrived
 * messages (on_message), retry a failed connect when due, apply
 * acknowledgements to the spool and send the next spooled messages, lowest
 * sequence first, at most `window` unacknowledged at a time. Returns 0.
 */
int fl_mqtt_run(fl_mqtt *m, int timeout_ms);

/* Any thread: the spool has something new; wakes fl_mqtt_run(). */
void fl_mqtt_kick(fl_mqtt *m);

/* Any thread: 1 while connected. */
int fl_mqtt_connected(fl_mqtt *m);

/* Publish directly (not spooled): 0 once handed to Paho (or, with
 * `persistent`, queued for the thread that makes Paho calls), FL_EAGAIN
 * when offline or refused at once. 0 says nothing of delivery: what must
 * be known delivered goes through fl_mqtt_publish_tracked(). Owner
 * thread. */
int fl_mqtt_publish(fl_mqtt *m, const char *topic, const void *payload,
		    size_t len, int qos, int retain);

/* The same, and on_published(*token, rc) reports later whether the broker
 * acknowledged it. 0 and *token (never 0), or FL_EAGAIN as above (no
 * report comes then). Owner thread. */
int fl_mqtt_publish_tracked(fl_mqtt *m, const char *topic, const void *payload,
			    size_t len, int qos, int retain, uint64_t *token);

/* Direct publishes (both kinds) of this connection handed over and not yet
 * acknowledged or failed: what a caller paces itself by (back-pressure).
 * 0 while offline. Owner thread. */
int fl_mqtt_unacked(fl_mqtt *m);

/* 1 while a message on_message could not take is held unacknowledged. */
int fl_mqtt_holding(fl_mqtt *m);

/*
 * Clean stop: publish (topic, payload) retained QoS 1 if connected and wait
 * up to timeout_ms for it to be acknowledged, then disconnect (the broker
 * then does not send the will). Returns 0 if the message was acknowledged.
 */
int fl_mqtt_stop(fl_mqtt *m, const char *topic, const char *payload,
		 int timeout_ms);

/* NULL-safe; disconnects if still connected (the will then fires only if
 * the broker saw no clean disconnect). A message still held (not stored)
 * must not be acknowledged on the way out, and Paho would acknowledge it
 * as soon as its callback returned: then the client is left as it is (not
 * freed, logged) for the process to exit without a word to the broker,
 * which sends the message again to the next session. */
void fl_mqtt_destroy(fl_mqtt *m);

/* Figures for the heartbeat and tests. */
typedef struct fl_mqtt_stats {
	long sent;        /* spooled messages sent (resends included) */
	long acked;       /* spooled messages acknowledged */
	long connects;    /* successful connections */
	int mqtt_version; /* 5 or 4 (3.1.1) of the current connection */
	long held;        /* messages on_message could not take at once */
	long offers;      /* times a held message was offered again */
} fl_mqtt_stats;

void fl_mqtt_stats_get(fl_mqtt *m, fl_mqtt_stats *st);

#endif /* FL_MQTT_CLIENT_H */
