/*
 * mqttw.h - the few MQTT 3.1.1 packets firelane-fleetsim speaks, as bytes
 * (src/tools/fleetsim; the protocol: OASIS MQTT 3.1.1, section 3).
 *
 * Encoders write a whole packet into a caller buffer and return its length,
 * or 0 when it does not fit; the reader splits a byte stream into packets.
 * No I/O, no allocation: the simulator's one poll loop (main.c) owns the
 * sockets.
 */
#ifndef FL_FLEETSIM_MQTTW_H
#define FL_FLEETSIM_MQTTW_H

#include <stddef.h>
#include <stdint.h>

enum {
	MQTTW_CONNECT = 1,
	MQTTW_CONNACK = 2,
	MQTTW_PUBLISH = 3,
	MQTTW_PUBACK = 4,
	MQTTW_SUBSCRIBE = 8,
	MQTTW_SUBACK = 9,
	MQTTW_PINGREQ = 12,
	MQTTW_PINGRESP = 13,
	MQTTW_DISCONNECT = 14,
};

/* CONNECT, clean session, with username/password and a retained QoS 1
 * will (will_topic NULL: none). */
size_t mqttw_connect(unsigned char *out, size_t cap, const char *client_id,
		     const char *user, const char *password,
		     unsigned keepalive_s, const char *will_topic,
		     const void *will, size_t will_len);

/* PUBLISH at QoS 1 with packet id pid (retain 0/1). The DUP flag is bit 3 of
 * out[0], set by the caller for a resend. */
size_t mqttw_publish(unsigned char *out, size_t cap, const char *topic,
		     const void *payload, size_t len, uint16_t pid, int retain);

/* SUBSCRIBE to one topic at QoS 1. */
size_t mqttw_subscribe(unsigned char *out, size_t cap, const char *topic,
		       uint16_t pid);

/* PUBACK of pid (4 bytes). */
size_t mqttw_puback(unsigned char *out, uint16_t pid);

/*
 * The first packet of buf (n bytes): 1 and *type, *flags, *body (into buf),
 * *blen, *total (bytes the packet takes); 0 when incomplete; -1 when
 * malformed (a remaining length over 4 bytes).
 */
int mqttw_next(const unsigned char *buf, size_t n, int *type, int *flags,
	       const unsigned char **body, size_t *blen, size_t *total);

#endif /* FL_FLEETSIM_MQTTW_H */
