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
 * the message, so its acknowledgement follows the owner's work. fl_mqtt_kick() and fl_mqtt_connected() may
 * be called from any thread; the rest from the owner thread only.
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
	/* Called inside fl_mqtt_run(): a (re)connection is up (publish the
	 * current state here), and a message arrived on a subscription. The
	 * strings live for the call only. */
	void (*on_connect)(void *user);
	void (*on_message)(const char *topic, const void *payload, size_t len,
			   void *user);
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

/* Publish directly (not spooled): FL_EAGAIN when offline. Owner thread. */
int fl_mqtt_publish(fl_mqtt *m, const char *topic, const void *payload,
		    size_t len, int qos, int retain);

/*
 * Clean stop: publish (topic, payload) retained QoS 1 if connected and wait
 * up to timeout_ms for it to be acknowledged, then disconnect (the broker
 * then does not send the will). Returns 0 if the message was acknowledged.
 */
int fl_mqtt_stop(fl_mqtt *m, const char *topic, const char *payload,
		 int timeout_ms);

/* NULL-safe; disconnects if still connected (the will then fires only if
 * the broker saw no clean disconnect). */
void fl_mqtt_destroy(fl_mqtt *m);

/* Figures for the heartbeat and tests. */
typedef struct fl_mqtt_stats {
	long sent;        /* spooled messages sent (resends included) */
	long acked;       /* spooled messages acknowledged */
	long connects;    /* successful connections */
	int mqtt_version; /* 5 or 4 (3.1.1) of the current connection */
} fl_mqtt_stats;

void fl_mqtt_stats_get(fl_mqtt *m, fl_mqtt_stats *st);

#endif /* FL_MQTT_CLIENT_H */
