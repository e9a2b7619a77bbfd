/*
 * fuzz_memory.c - the edge camera's memory file reader, fl_memory_decode()
 * (src/detect/memory.c), on arbitrary bytes: a file a crash, a full disk or
 * another program left in the state folder must be refused, never trusted.
 *
 * The input's fingerprint field is set to the expected one and a correct
 * checksum appended, so the fuzzer reaches the parser behind them. What
 * must hold, besides never crashing or reading past the end:
 *   - the result is 0 or FL_EFORMAT, and a refused memory is empty;
 *   - an accepted memory encodes back to the same bytes (nothing is read
 *     that would not be written).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"
#include "memory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_memory: %s:%d: %s\n", __FILE__,  \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fl_memory *m;
	uint64_t fp = fl_memory_fingerprint("edge", "cam", 8, 8);
	uint8_t *buf, *again = NULL;
	size_t len = size + 4, alen = 0;
	uint32_t crc;
	char err[128];
	int rc;

	if (!m && !(m = fl_memory_create(8, 8)))
		return 0;
	if (size > 1 << 20)
		return 0;
	buf = malloc(len);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (size >= 20)
		for (int i = 0; i < 8; i++)
			buf[12 + i] = (uint8_t)(fp >> (8 * i));
	crc = fl_crc32(0, buf, size);
	for (int i = 0; i < 4; i++)
		buf[size + i] = (uint8_t)(crc >> (8 * i));
	rc = fl_memory_decode(m, buf, len, fp, err, sizeof(err));
	CHECK(rc == 0 || rc == FL_EFORMAT);
	if (rc) {
		CHECK(m->nlanes == 0);
		for (int i = 0; i < FL_MEM_SLOTS; i++)
			CHECK(!m->slot[i].used);
	} else {
		CHECK(fl_memory_encode(m, &again, &alen) == 0);
		CHECK(alen == len && !memcmp(again, buf, len));
		free(again);
	}
	free(buf);
	return 0;
}
