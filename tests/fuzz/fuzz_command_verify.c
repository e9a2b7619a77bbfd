/*
 * fuzz_command_verify.c - the edge's command verifier,
 * fl_command_verify(), on arbitrary bytes as the payload of a device's
 * command topic, against a fixed hub key (seed bytes 1, the key
 * test_msgsign --write-fuzz-seeds signs the seeds with), at a fixed now
 * with a fresh window for every input.
 *
 * What must hold, besides never crashing or reading out of bounds:
 *   - the result is 0, FL_EFORMAT, FL_ERANGE, FL_EEXIST or FL_EFULL, with
 *     a reason on failure and a NUL-terminated request id either way;
 *   - accepted: a known command, a valid nonce, a time within the window;
 *     the same bytes a second time are refused as replayed (FL_EEXIST),
 *     and the same bytes on another device's topic are refused;
 *   - without a hub key nothing is accepted (FL_EINVAL).
 * A broken property aborts, which libFuzzer reports as a crash.
 */
#include <math.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"
#include "msgsign.h"
#include "nonce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_command_verify: %s:%d: %s\n",    \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

#define TOPIC "firelane/demo-site/edge-01/command/set"
#define NOW 1795955740.0
#define WINDOW 300.0

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char pk[32];
	static fl_nonces seen;
	static int ready;
	unsigned char *buf = malloc(size ? size : 1);
	char err[512] = "";
	fl_command c;
	int rc;

	if (!buf)
		return 0;
	if (!ready) {
		unsigned char seed[32], sk[64];

		CHECK(sodium_init() >= 0);
		memset(seed, 1, sizeof(seed));
		crypto_sign_seed_keypair(pk, sk, seed);
		ready = 1;
	}
	if (size)
		memcpy(buf, data, size);
	memset(&seen, 0, sizeof(seen));
	CHECK(fl_command_verify(NULL, TOPIC, buf, size, NOW, WINDOW, &seen, &c,
				err, sizeof(err)) == FL_EINVAL);
	CHECK(seen.n == 0);
	rc = fl_command_verify(pk, TOPIC, buf, size, NOW, WINDOW, &seen, &c,
			       err, sizeof(err));
	CHECK(rc == 0 || rc == FL_EFORMAT || rc == FL_ERANGE ||
	      rc == FL_EEXIST || rc == FL_EFULL);
	CHECK(memchr(c.req, '\0', sizeof(c.req)) != NULL);
	if (rc) {
		CHECK(err[0] != '\0');
		CHECK(seen.n == 0);
		free(buf);
		return 0;
	}
	CHECK(c.kind >= FL_CMD_ENABLE && c.kind <= FL_CMD_RELOAD);
	CHECK(fl_nonce_ok(c.nonce));
	CHECK(isfinite(c.time) && fabs(c.time - NOW) <= WINDOW);
	CHECK(seen.n == 1);
	CHECK(fl_command_verify(pk, TOPIC, buf, size, NOW + 1, WINDOW, &seen,
				&c, err, sizeof(err)) == FL_EEXIST);
	memset(&seen, 0, sizeof(seen));
	CHECK(fl_command_verify(pk, "firelane/demo-site/edge-02/command/set",
				buf, size, NOW, WINDOW, &seen, &c, err,
				sizeof(err)) == FL_EFORMAT);
	free(buf);
	return 0;
}
