/*
 * fuzz_spool.c - the spool's record reader, fl__spool_parse()
 * (src/mqtt/spool.c), on arbitrary bytes: a record file left on disk by a
 * crash, a full disk or a bad sector must be refused, never trusted.
 *
 * What must hold, besides never crashing or reading past size:
 *   - the result is 0 or FL_EFORMAT (FL_ENOMEM only if allocation fails);
 *   - an accepted record agrees with its header: "FLSP" version 1, a topic
 *     of the header's length (1..65535, NUL-terminated there), a payload of
 *     the header's length, the two filling exactly the bytes after the
 *     20-byte header, and prio/qos/retain the header's bytes 5-7;
 *   - parsing is deterministic;
 *   - one flipped bit in an accepted record is refused (the CRC-32 covers
 *     topic and payload, and the header's own fields are checked).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"
#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_spool: %s:%d: %s\n", __FILE__,   \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	fl_spool_msg a, b;
	int rc, rc2;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	rc = fl__spool_parse(buf, size, &a);
	rc2 = fl__spool_parse(buf, size, &b);
	CHECK(rc == 0 || rc == FL_EFORMAT || rc == FL_ENOMEM);
	CHECK(rc == rc2 || rc == FL_ENOMEM || rc2 == FL_ENOMEM);
	if (rc == 0 && rc2 == 0) {
		uint32_t tl = get32(buf + 8), pl = get32(buf + 12);

		CHECK(size >= 20 && !memcmp(buf, "FLSP", 4) && buf[4] == 1);
		CHECK(tl >= 1 && tl <= 65535 && (uint64_t)size == 20u + tl + pl);
		CHECK(a.topic && a.payload && a.len == pl);
		CHECK(!memcmp(a.topic, buf + 20, tl) && a.topic[tl] == '\0');
		CHECK(!memcmp(a.payload, buf + 20 + tl, pl));
		CHECK(((char *)a.payload)[pl] == '\0');
		CHECK(a.prio == buf[5] && a.qos == buf[6] && a.retain == buf[7]);
		CHECK(a.len == b.len && !memcmp(a.payload, b.payload, a.len) &&
		      !strcmp(a.topic, b.topic));
		/* a flipped bit in the CRC'd part or in the checked header
		 * fields (magic, version, lengths, CRC) is refused */
		for (size_t i = 0; i < size; i++) {
			fl_spool_msg c;

			if (i >= 5 && i < 8)
				continue; /* prio/qos/retain: not covered */
			buf[i] ^= 0x10;
			CHECK(fl__spool_parse(buf, size, &c) != 0);
			buf[i] ^= 0x10;
			if (i > 64 && i < size - 64)
				i = size - 64; /* the ends are enough */
		}
	}
	fl_spool_msg_free(&a);
	fl_spool_msg_free(&b);
	free(buf);
	return 0;
}
