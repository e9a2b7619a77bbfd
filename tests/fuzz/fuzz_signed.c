/*
 * fuzz_signed.c - the signed-message verifier, fl_msg_verify(), on
 * arbitrary bytes as the payload of three topics (an incident, a status,
 * an evidence chunk), against a fixed device key (seed bytes 7, the key
 * test_msgsign --write-fuzz-seeds signs the seeds with).
 *
 * What must hold, besides never crashing or reading out of bounds (the
 * input is an exact-size copy):
 *   - the result is 0, FL_ENOENT (exactly when the payload does not begin
 *     with the magic) or FL_EFORMAT, with a reason on failure;
 *   - accepted: the body is the payload behind the fixed-size header,
 *     and signing that body again for that topic gives the same bytes
 *     (a message has one signed form: no second spelling passes);
 *   - a payload verifies for at most one of the topics (a signature holds
 *     for the topic it was made for);
 *   - verifying is deterministic.
 * A broken property aborts, which libFuzzer reports as a crash.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "fl.h"
#include "msgsign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_signed: %s:%d: %s\n", __FILE__,  \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

static const char *const topics[] = {
	"firelane/demo-site/edge-01/cam-1/lane-a/incident",
	"firelane/demo-site/edge-01/status",
	"firelane/demo-site/edge-01/cam-1/lane-a/evidence",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fl_key k;
	static int ready;
	unsigned char *buf = malloc(size ? size : 1), *again;
	int accepted = 0;

	if (!buf)
		return 0;
	if (!ready) {
		unsigned char seed[32];

		CHECK(sodium_init() >= 0);
		memset(seed, 7, sizeof(seed));
		crypto_sign_seed_keypair(k.pk, k.sk, seed);
		ready = 1;
	}
	if (size)
		memcpy(buf, data, size);
	for (size_t t = 0; t < FL_ARRAY_SIZE(topics); t++) {
		fl_envelope env, env2;
		char err[256] = "", err2[256] = "";
		int magic = size >= FL_ENVELOPE_MAGIC_LEN &&
			    !memcmp(buf, FL_ENVELOPE_MAGIC,
				    FL_ENVELOPE_MAGIC_LEN);
		int rc = fl_msg_verify(k.pk, FL_DOMAIN_DEVICE, topics[t], buf,
				       size, &env, err, sizeof(err));
		int rc2 = fl_msg_verify(k.pk, FL_DOMAIN_DEVICE, topics[t], buf,
					size, &env2, err2, sizeof(err2));
		size_t n = 0;

		CHECK(rc == 0 || rc == FL_ENOENT || rc == FL_EFORMAT);
		CHECK(rc == rc2 && !strcmp(err, err2));
		CHECK((rc == FL_ENOENT) == !magic);
		if (rc) {
			CHECK(err[0] != '\0');
			continue;
		}
		accepted++;
		CHECK(size >= FL_ENVELOPE_HEADER);
		CHECK(env.body == buf + FL_ENVELOPE_HEADER);
		CHECK(env.body_len == size - FL_ENVELOPE_HEADER);
		again = malloc(size);
		CHECK(again != NULL);
		CHECK(fl_msg_sign(&k, FL_DOMAIN_DEVICE, topics[t], env.body,
				  env.body_len, again, size, &n) == 0);
		CHECK(n == size && !memcmp(again, buf, size));
		free(again);
	}
	CHECK(accepted <= 1);
	free(buf);
	return 0;
}
