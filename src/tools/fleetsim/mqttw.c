/*
 * mqttw.c - MQTT 3.1.1 packets as bytes, for firelane-fleetsim (mqttw.h).
 *
 * Why not a client library: the simulator holds up to tens of thousands of
 * connections in one process. Paho's asynchronous client runs threads and a
 * socket set per process and a context per client; libmosquitto wants one
 * loop call per client. Both are built for a handful of connections. What a
 * device needs here is five packets (CONNECT with a will, PUBLISH and
 * PUBACK at QoS 1, SUBSCRIBE, PINGREQ), which fit in this file, and one
 * epoll loop in main.c serves every connection. The edge's own client
 * (src/mqtt) is not replaced: the simulated devices are load, not edges.
 */
#include <string.h>

#include "mqttw.h"

/* The remaining length's variable-length encoding; the bytes written. */
static size_t put_len(unsigned char *p, size_t n)
{
	size_t i = 0;

	do {
		unsigned char b = n % 128;

		n /= 128;
		p[i++] = (unsigned char)(n ? b | 128 : b);
	} while (n);
	return i;
}

static size_t len_bytes(size_t n)
{
	return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

static unsigned char *put_u16(unsigned char *p, size_t v)
{
	*p++ = (unsigned char)(v >> 8);
	*p++ = (unsigned char)v;
	return p;
}

static unsigned char *put_str(unsigned char *p, const void *s, size_t n)
{
	p = put_u16(p, n);
	memcpy(p, s, n);
	return p + n;
}

/* The fixed header for a body of rem bytes; NULL when the packet does not
 * fit in cap. */
static unsigned char *head(unsigned char *out, size_t cap, int first,
			   size_t rem)
{
	if (rem > 268435455 || 1 + len_bytes(rem) + rem > cap)
		return NULL;
	out[0] = (unsigned char)first;
	return out + 1 + put_len(out + 1, rem);
}

size_t mqttw_connect(unsigned char *out, size_t cap, const char *client_id,
		     const char *user, const char *password,
		     unsigned keepalive_s, const char *will_topic,
		     const void *will, size_t will_len)
{
	size_t rem = 10 + 2 + strlen(client_id), ul = 0, pl = 0, wl = 0;
	unsigned char *p, flags = 0x02; /* clean session */

	if (will_topic) {
		wl = strlen(will_topic);
		rem += 2 + wl + 2 + will_len;
		flags |= 0x04 | 0x08 | 0x20; /* will, QoS 1, retained */
	}
	if (user) {
		ul = strlen(user);
		rem += 2 + ul;
		flags |= 0x80;
	}
	if (password) {
		pl = strlen(password);
		rem += 2 + pl;
		flags |= 0x40;
	}
	if (wl > 65535 || will_len > 65535 || ul > 65535 || pl > 65535 ||
	    !(p = head(out, cap, MQTTW_CONNECT << 4, rem)))
		return 0;
	p = put_str(p, "MQTT", 4);
	*p++ = 4; /* 3.1.1 */
	*p++ = flags;
	p = put_u16(p, keepalive_s);
	p = put_str(p, client_id, strlen(client_id));
	if (will_topic) {
		p = put_str(p, will_topic, wl);
		p = put_str(p, will, will_len);
	}
	if (user)
		p = put_str(p, user, ul);
	if (password)
		p = put_str(p, password, pl);
	return (size_t)(p - out);
}

size_t mqttw_publish(unsigned char *out, size_t cap, const char *topic,
		     const void *payload, size_t len, uint16_t pid, int retain)
{
	size_t tl = strlen(topic);
	unsigned char *p;

	if (tl > 65535 ||
	    !(p = head(out, cap, (MQTTW_PUBLISH << 4) | 0x02 | !!retain,
		       2 + tl + 2 + len)))
		return 0;
	p = put_str(p, topic, tl);
	p = put_u16(p, pid);
	memcpy(p, payload, len);
	return (size_t)(p + len - out);
}

size_t mqttw_subscribe(unsigned char *out, size_t cap, const char *topic,
		       uint16_t pid)
{
	size_t tl = strlen(topic);
	unsigned char *p;

	if (tl > 65535 || !(p = head(out, cap, (MQTTW_SUBSCRIBE << 4) | 0x02,
				     2 + 2 + tl + 1)))
		return 0;
	p = put_u16(p, pid);
	p = put_str(p, topic, tl);
	*p++ = 1;
	return (size_t)(p - out);
}

size_t mqttw_puback(unsigned char *out, uint16_t pid)
{
	out[0] = MQTTW_PUBACK << 4;
	out[1] = 2;
	put_u16(out + 2, pid);
	return 4;
}

int mqttw_next(const unsigned char *buf, size_t n, int *type, int *flags,
	       const unsigned char **body, size_t *blen, size_t *total)
{
	size_t rem = 0, mul = 1, i = 1;

	if (n < 2)
		return 0;
	for (;; i++) {
		if (i > 4)
			return -1;
		if (i >= n)
			return 0;
		rem += (buf[i] & 127) * mul;
		mul *= 128;
		if (!(buf[i] & 128))
			break;
	}
	if (n < i + 1 + rem)
		return 0;
	*type = buf[0] >> 4;
	*flags = buf[0] & 15;
	*body = buf + i + 1;
	*blen = rem;
	*total = i + 1 + rem;
	return 1;
}
