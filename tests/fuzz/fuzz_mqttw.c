/*
 * fuzz_mqttw.c - firelane-fleetsim's MQTT packet reader, mqttw_next(), on
 * arbitrary bytes (what the broker sends it comes from the network).
 *
 * What must hold, besides never crashing or reading out of bounds: walking
 * the input packet by packet, each packet found lies inside the input
 * (body + blen == start + total <= end), its type is the first byte's high
 * nibble, and the walk ends in "incomplete" (0) or "malformed" (-1), never
 * in a packet of zero bytes. A PUBLISH written by mqttw_publish() from the
 * input's bytes reads back as one whole packet of its own length.
 * A broken property aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqttw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char pkt[4200];
	const unsigned char *p = data, *body;
	size_t left = size, blen, total, n;
	int type, flags, k;
	char topic[64];

	while ((k = mqttw_next(p, left, &type, &flags, &body, &blen, &total)) ==
	       1) {
		if (total < 2 || total > left || body + blen != p + total ||
		    type != p[0] >> 4 || flags != (p[0] & 15))
			abort();
		p += total;
		left -= total;
	}
	if (k != 0 && k != -1)
		abort();

	/* a round trip: the first bytes as topic, the rest as payload */
	n = size < 63 ? size : 63;
	for (size_t i = 0; i < n; i++)
		topic[i] = (char)(data[i] ? data[i] : 'x');
	topic[n] = '\0';
	n = mqttw_publish(pkt, sizeof(pkt), topic, data,
			  size < 4000 ? size : 4000, 7, size & 1);
	if (!n ||
	    mqttw_next(pkt, n, &type, &flags, &body, &blen, &total) != 1 ||
	    total != n || type != MQTTW_PUBLISH ||
	    mqttw_next(pkt, n - 1, &type, &flags, &body, &blen, &total))
		abort();
	return 0;
}
