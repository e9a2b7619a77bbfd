/*
 * fuzz_receipt.c - the edge's parser of the hub's delivery receipt,
 * fl_receipt_parse() (src/core/receipt.c), on arbitrary bytes: the payload
 * of firelane/<site>/<device>/receipt comes from the network.
 *
 * What must hold, besides never crashing or reading past size (the input is
 * not NUL-terminated):
 *   - the result is 0 or FL_EINVAL; on FL_EINVAL the reason is a non-empty
 *     NUL-terminated string;
 *   - an accepted receipt is valid: an incident id of [A-Za-z0-9_.-],
 *     1..127 chars, verified 0 or 1, 64 lowercase hex digits;
 *   - parsing is deterministic, and what the hub would write for an
 *     accepted receipt (fl_receipt_json) parses back to the same receipt.
 * A broken property aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"
#include "receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_receipt: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

static int valid(const fl_receipt *r)
{
	size_t n = strnlen(r->incident_id, sizeof(r->incident_id));

	if (n == 0 || n >= sizeof(r->incident_id))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = r->incident_id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return 0;
	}
	if (strnlen(r->manifest_sha256, 65) != 64)
		return 0;
	for (size_t i = 0; i < 64; i++) {
		char c = r->manifest_sha256[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return r->verified == 0 || r->verified == 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy: ASan sees any read past the end */
	uint8_t *buf = malloc(size ? size : 1);
	fl_receipt a, b, c;
	char err[256], err2[256], json[512];
	int rc, rc2;
	size_t n;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	memset(err, 0x55, sizeof(err));
	rc = fl_receipt_parse(buf, size, &a, err, sizeof(err));
	rc2 = fl_receipt_parse(buf, size, &b, err2, sizeof(err2));
	CHECK(rc == 0 || rc == FL_EINVAL);
	CHECK(rc == rc2);
	if (rc < 0) {
		CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
		CHECK(!strcmp(err, err2));
	} else {
		CHECK(valid(&a));
		CHECK(!memcmp(&a, &b, sizeof(a)));
		n = fl_receipt_json(&a, json, sizeof(json));
		CHECK(n < sizeof(json));
		CHECK(fl_receipt_parse(json, n, &c, err, sizeof(err)) == 0);
		CHECK(!memcmp(&a, &c, sizeof(a)));
	}
	free(buf);
	return 0;
}
