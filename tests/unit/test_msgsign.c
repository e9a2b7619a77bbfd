/*
 * test_msgsign.c - signed messages and fresh commands: the envelope codec
 * (src/core/envelope.c), the command window (src/core/nonce.c), signing
 * and verifying (src/evidence/msgsign.c), the status payload
 * (src/core/topic.c) and the hub's command text (src/hub/command.c).
 *
 *   - the signed form is what docs/mqtt.md says, byte for byte: the
 *     signature is checked here with libsodium directly over
 *     DOMAIN "\n" KID "\n" TOPIC "\n" BODY, rebuilt by hand;
 *   - it verifies for its topic, domain and key only: another topic (lane,
 *     device, kind), the other domain, another key, and one flipped bit
 *     anywhere (header, body's first, middle and last byte) are refused
 *     with the reason; binary bodies and empty ones work; signing is
 *     deterministic; the base64 of a signature has one spelling;
 *   - the window: fresh, replayed, stale either side, the boundary, bad
 *     nonces, expiry, a flood, and the text form across a restart;
 *   - the command verifier: taken when the hub signed it for this device's
 *     topic, refused (with the request id for the answer) when unsigned,
 *     signed by a device, for another device, without time or nonce,
 *     stale, replayed, or when the edge has no hub key.
 *
 *   - the signed example of docs/mqtt.md ("Signed messages", made with
 *     the Python signer of the tests) verifies here, byte for byte.
 *
 *   test_msgsign --write-fuzz-seeds DIR   writes signed seeds for the fuzz
 *                                         targets fuzz_signed and
 *                                         fuzz_command_verify
 *   test_msgsign --bench N                (scripts/bench.sh) one JSON
 *                                         object: microseconds to sign
 *                                         and to verify an incident
 *                                         message and a 64 KiB evidence
 *                                         chunk, each the best of 3 rounds
 *                                         of N
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "command.h"
#include "envelope.h"
#include "fl.h"
#include "msgsign.h"
#include "nonce.h"
#include "test.h"
#include "topic.h"

#define T_INC "firelane/demo-site/edge-01/cam-1/lane-a/incident"
#define T_CMD "firelane/demo-site/edge-01/command/set"

/* A key from a fixed seed (fill), so the fuzz seeds and this test agree. */
static void key_of(unsigned char fill, fl_key *k)
{
	unsigned char seed[32];

	memset(seed, fill, sizeof(seed));
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
}

/* Sign body for topic into a malloc'd buffer (*n its length). */
static char *sign(const fl_key *k, const char *domain, const char *topic,
		  const void *body, size_t len, size_t *n)
{
	size_t cap = FL_ENVELOPE_HEADER + len + 1;
	char *out = malloc(cap);

	*n = 0;
	if (out && fl_msg_sign(k, domain, topic, body, len, out, cap, n)) {
		free(out);
		return NULL;
	}
	return out;
}

static void test_layout(void)
{
	fl_key k;
	const char body[] = "{\"incident_id\": \"edge-01-1\", \"seq\": 1}";
	char kid[FL_ENVELOPE_KID + 1], want_kid[FL_ENVELOPE_KID + 1], *msg,
		*again;
	unsigned char h[32], sig[64], *tbs;
	size_t n, n2, tn;
	fl_envelope env;

	key_of(7, &k);
	fl_key_id(k.pk, kid);
	crypto_hash_sha256(h, k.pk, 32);
	sodium_bin2hex(want_kid, sizeof(want_kid), h, 8);
	CHECK_STREQ(kid, want_kid);
	msg = sign(&k, FL_DOMAIN_DEVICE, T_INC, body, strlen(body), &n);
	if (!CHECK_NOT_NULL(msg))
		return;
	CHECK_EQ_INT(n, FL_ENVELOPE_HEADER + strlen(body));
	CHECK_EQ_INT(FL_ENVELOPE_HEADER, 115);
	CHECK(!memcmp(msg, "fl-sig/1 ", 9));
	CHECK(!memcmp(msg + 9, kid, 16) && msg[25] == ' ');
	CHECK(msg[114] == ' ' && msg[112] == '=' && msg[113] == '=');
	CHECK(!memcmp(msg + FL_ENVELOPE_HEADER, body, strlen(body)));
	CHECK(!memchr(msg, '\n', n)); /* one line, as the body is */
	/* the signature, checked by hand over the documented bytes */
	CHECK_EQ_INT(fl_b64_decode(msg + 26, 88, sig, 64), 0);
	tn = strlen(FL_DOMAIN_DEVICE "\n") + 17 + strlen(T_INC "\n") +
	     strlen(body);
	tbs = malloc(tn + 1);
	snprintf((char *)tbs, tn + 1, "%s\n%s\n%s\n%s", FL_DOMAIN_DEVICE, kid,
		 T_INC, body);
	CHECK_EQ_INT(crypto_sign_verify_detached(sig, tbs, tn, k.pk), 0);
	free(tbs);
	/* deterministic: the same message twice is the same bytes */
	again = sign(&k, FL_DOMAIN_DEVICE, T_INC, body, strlen(body), &n2);
	CHECK(again && n2 == n && !memcmp(again, msg, n));
	free(again);
	CHECK_EQ_INT(fl_envelope_parse(msg, n, &env, NULL, 0), 0);
	CHECK_STREQ(env.kid, kid);
	CHECK(env.body_len == strlen(body) &&
	      !memcmp(env.body, body, env.body_len));
	free(msg);
	/* a topic with a newline would make the signed bytes ambiguous */
	CHECK_EQ_INT(fl_msg_sign(&k, FL_DOMAIN_DEVICE, "a\nb", "x", 1,
				 (char[200]){ 0 }, 200, &n),
		     FL_EINVAL);
	CHECK_EQ_INT(fl_msg_sign(&k, FL_DOMAIN_DEVICE, "", "x", 1,
				 (char[200]){ 0 }, 200, &n),
		     FL_EINVAL);
	/* too small an output */
	CHECK_EQ_INT(fl_msg_sign(&k, FL_DOMAIN_DEVICE, T_INC, "xyz", 3,
				 (char[117]){ 0 }, 117, &n),
		     FL_EINVAL);
}

/* A body's verification after one change: the reason's words. */
static void refused(const unsigned char pk[32], const char *domain,
		    const char *topic, const char *msg, size_t n, int rc,
		    const char *words, const char *what)
{
	fl_envelope env;
	char err[256] = "";
	int got = fl_msg_verify(pk, domain, topic, msg, n, &env, err,
				sizeof(err));

	CHECK_MSG(got == rc, "%s: rc %d, want %d (%s)", what, got, rc, err);
	CHECK_MSG(strstr(err, words) != NULL, "%s: '%s' lacks '%s'", what, err,
		  words);
}

static void test_verify(void)
{
	fl_key k, other;
	const char body[] = "{\"incident_id\": \"edge-01-1\", \"seq\": 3, "
			    "\"type\": \"alarm\"}";
	unsigned char bin[300];
	char *msg, *copy;
	size_t n, len = strlen(body);
	fl_envelope env;
	char err[256];
	const size_t flips[] = { 0,
				 9,
				 30,
				 FL_ENVELOPE_HEADER,
				 FL_ENVELOPE_HEADER + sizeof(body) / 2,
				 FL_ENVELOPE_HEADER + sizeof(body) - 2 };

	key_of(7, &k);
	key_of(9, &other);
	msg = sign(&k, FL_DOMAIN_DEVICE, T_INC, body, len, &n);
	if (!CHECK_NOT_NULL(msg))
		return;
	CHECK_EQ_INT(fl_msg_verify(k.pk, FL_DOMAIN_DEVICE, T_INC, msg, n, &env,
				   err, sizeof(err)),
		     0);
	CHECK(env.body_len == len && !memcmp(env.body, body, len));
	/* moved: another lane, another device, another kind of topic */
	refused(k.pk, FL_DOMAIN_DEVICE,
		"firelane/demo-site/edge-01/cam-1/lane-b/incident", msg, n,
		FL_EFORMAT, "does not verify for this topic", "another lane");
	refused(k.pk, FL_DOMAIN_DEVICE,
		"firelane/demo-site/edge-02/cam-1/lane-a/incident", msg, n,
		FL_EFORMAT, "does not verify", "another device");
	refused(k.pk, FL_DOMAIN_DEVICE,
		"firelane/demo-site/edge-01/cam-1/lane-a/evidence", msg, n,
		FL_EFORMAT, "does not verify", "another kind");
	refused(k.pk, FL_DOMAIN_HUB, T_INC, msg, n, FL_EFORMAT,
		"does not verify", "the hub's domain");
	refused(other.pk, FL_DOMAIN_DEVICE, T_INC, msg, n, FL_EFORMAT,
		"signed by key", "another key");
	refused(k.pk, FL_DOMAIN_DEVICE, T_INC, body, len, FL_ENOENT,
		"not signed", "unsigned");
	refused(k.pk, FL_DOMAIN_DEVICE, T_INC, msg, 100, FL_EFORMAT,
		"cut short", "a header cut short");
	refused(k.pk, FL_DOMAIN_DEVICE, "a\nb", msg, n, FL_EFORMAT,
		"topic cannot carry", "a topic with a newline");
	copy = malloc(n);
	for (size_t i = 0; i < FL_ARRAY_SIZE(flips); i++) {
		char what[64];

		memcpy(copy, msg, n);
		copy[flips[i]] ^= 1;
		snprintf(what, sizeof(what), "bit flipped at byte %zu",
			 flips[i]);
		CHECK_MSG(fl_msg_verify(k.pk, FL_DOMAIN_DEVICE, T_INC, copy, n,
					&env, err, sizeof(err)) != 0,
			  "%s: verified", what);
	}
	/* the signature's last character holds 2 unused bits: another
	 * spelling of the same 64 bytes is refused, not verified */
	memcpy(copy, msg, n);
	copy[111] = copy[111] == 'A' ? 'B' : (char)(copy[111] ^ 1);
	refused(k.pk, FL_DOMAIN_DEVICE, T_INC, copy, n, FL_EFORMAT, "base64",
		"a second spelling");
	memcpy(copy, msg, n);
	copy[10] = 'A'; /* upper case in the key id */
	refused(k.pk, FL_DOMAIN_DEVICE, T_INC, copy, n, FL_EFORMAT, "key id",
		"upper-case key id");
	free(copy);
	free(msg);
	/* binary bodies (NUL, newline, high bytes) and an empty one */
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 7);
	msg = sign(&k, FL_DOMAIN_DEVICE, T_INC, bin, sizeof(bin), &n);
	CHECK(msg &&
	      fl_msg_verify(k.pk, FL_DOMAIN_DEVICE, T_INC, msg, n, &env, err,
			    sizeof(err)) == 0 &&
	      env.body_len == sizeof(bin) &&
	      !memcmp(env.body, bin, sizeof(bin)));
	free(msg);
	msg = sign(&k, FL_DOMAIN_DEVICE, T_INC, "", 0, &n);
	CHECK(msg && n == FL_ENVELOPE_HEADER &&
	      fl_msg_verify(k.pk, FL_DOMAIN_DEVICE, T_INC, msg, n, &env, err,
			    sizeof(err)) == 0 &&
	      env.body_len == 0);
	free(msg);
}

static void test_base64(void)
{
	static const struct {
		const char *s;
		size_t out;
		int ok;
	} t[] = {
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 32, 1 },
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE=", 32, 1 },
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=", 32, 0 },
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 32, 0 },
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 32, 0 },
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", 32, 0 },
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*=", 32, 0 },
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=A=", 32, 0 },
		{ "+/+/", 3, 1 },
		{ "+/+=", 3, 0 },
		{ "", 0, 1 },
	};
	unsigned char out[64];

	for (size_t i = 0; i < FL_ARRAY_SIZE(t); i++)
		CHECK_MSG((fl_b64_decode(t[i].s, strlen(t[i].s), out,
					 t[i].out) == 0) == t[i].ok,
			  "base64 '%s' (%zu bytes): expected %s", t[i].s,
			  t[i].out, t[i].ok ? "ok" : "refused");
}

static void test_nonces(void)
{
	static fl_nonces w, r;
	const char *a = "00112233445566778899aabbccddeeff";
	const char *b = "ffeeddccbbaa99887766554433221100";
	char err[256], nonce[40], *text;
	double now = 1795955740.0, W = FL_NONCE_WINDOW_S;
	size_t n;

	memset(&w, 0, sizeof(w));
	CHECK_EQ_INT(fl_nonces_check(&w, a, now, now, W, err, sizeof(err)), 0);
	CHECK_EQ_INT(fl_nonces_check(&w, a, now, now + 1, W, err, sizeof(err)),
		     FL_EEXIST);
	CHECK(strstr(err, "replayed") != NULL);
	CHECK_EQ_INT(fl_nonces_check(&w, b, now - W - 1, now, W, err,
				     sizeof(err)),
		     FL_ERANGE);
	CHECK(strstr(err, "stale") && strstr(err, "behind"));
	CHECK_EQ_INT(fl_nonces_check(&w, b, now + W + 1, now, W, err,
				     sizeof(err)),
		     FL_ERANGE);
	CHECK(strstr(err, "ahead of") != NULL);
	CHECK_EQ_INT(fl_nonces_check(&w, b, now - W, now, W, err, sizeof(err)),
		     0); /* the boundary is inside */
	CHECK_EQ_INT(fl_nonces_check(&w, "0011", now, now, W, err, sizeof(err)),
		     FL_EFORMAT);
	CHECK_EQ_INT(fl_nonces_check(&w, "00112233445566778899AABBCCDDEEFF",
				     now, now, W, err, sizeof(err)),
		     FL_EFORMAT);
	CHECK_EQ_INT(fl_nonces_check(&w, a, NAN, now, W, err, sizeof(err)),
		     FL_EFORMAT);
	/* the text form: what survives a restart; b (time now - W) is
	 * dropped as soon as the window has passed it */
	n = fl_nonces_write(&w, NULL, 0);
	text = malloc(n + 1);
	fl_nonces_write(&w, text, n + 1);
	CHECK_EQ_INT(fl_nonces_read(&r, text, n, now, W), 2);
	CHECK_EQ_INT(fl_nonces_read(&r, text, n, now + 2, W), 1);
	CHECK_EQ_INT(fl_nonces_check(&r, a, now, now + 2, W, err, sizeof(err)),
		     FL_EEXIST);
	CHECK_EQ_INT(fl_nonces_read(&r, "junk\n1 2\n", 9, now, W), 0);
	free(text);
	/* past its window a's command is stale, and a is forgotten */
	CHECK_EQ_INT(fl_nonces_check(&w, a, now, now + W + 1, W, err,
				     sizeof(err)),
		     FL_ERANGE);
	CHECK_EQ_INT(fl_nonces_check(&w, b, now + W + 1, now + W + 1, W, err,
				     sizeof(err)),
		     0);
	CHECK_EQ_INT(w.n, 1);
	/* a flood: the window holds FL_NONCES_MAX, then refuses */
	memset(&w, 0, sizeof(w));
	for (int i = 0; i < FL_NONCES_MAX; i++) {
		snprintf(nonce, sizeof(nonce), "%032x", i);
		if (fl_nonces_check(&w, nonce, now, now, W, err, sizeof(err)))
			break;
	}
	CHECK_EQ_INT(w.n, FL_NONCES_MAX);
	CHECK_EQ_INT(fl_nonces_check(&w, b, now, now, W, err, sizeof(err)),
		     FL_EFULL);
	/* ... until the window has moved on */
	CHECK_EQ_INT(fl_nonces_check(&w, b, now + W + 1, now + W + 1, W, err,
				     sizeof(err)),
		     0);
	CHECK_EQ_INT(w.n, 1);
}

static void test_status(void)
{
	static const struct {
		const char *s;
		int rc;
		const char *word;
		unsigned long long epoch;
	} t[] = {
		{ "online 1795955740200", 0, "online", 1795955740200ULL },
		{ "offline 1", 0, "offline", 1 },
		{ "stopped 9999999999999999999", 0, "stopped",
		  9999999999999999999ULL },
		{ "online", 0, "online", 0 }, /* a device from before epochs */
		{ "online ", FL_EFORMAT, "", 0 },
		{ "online 0", FL_EFORMAT, "", 0 },
		{ "online 01", FL_EFORMAT, "", 0 },
		{ "online 12x", FL_EFORMAT, "", 0 },
		{ "online  12", FL_EFORMAT, "", 0 },
		{ "online 10000000000000000000", FL_EFORMAT, "", 0 },
		{ "onlinex", FL_EFORMAT, "", 0 },
		{ "hacked", FL_EFORMAT, "", 0 },
		{ "", FL_EFORMAT, "", 0 },
	};
	char buf[64], word[16];
	unsigned long long e;

	for (size_t i = 0; i < FL_ARRAY_SIZE(t); i++) {
		int rc = fl_status_parse(t[i].s, strlen(t[i].s), word,
					 sizeof(word), &e);

		CHECK_MSG(rc == t[i].rc, "status '%s': rc %d", t[i].s, rc);
		if (rc == 0)
			CHECK_MSG(!strcmp(word, t[i].word) && e == t[i].epoch,
				  "status '%s': %s %llu", t[i].s, word, e);
	}
	CHECK_EQ_INT(fl_status_payload("online", 1795955740200ULL, buf,
				       sizeof(buf)),
		     20);
	CHECK_STREQ(buf, "online 1795955740200");
}

/* A command signed with key in domain for topic. */
static char *command(const fl_key *k, const char *domain, const char *topic,
		     const char *json, size_t *n)
{
	return sign(k, domain, topic, json, strlen(json), n);
}

static void test_command_verify(void)
{
	static fl_nonces seen;
	fl_key hub, dev;
	fl_command c;
	char err[512], *msg, *text = NULL, id[FL_CMD_REQ_MAX];
	double now = 1795955740.0;
	size_t n;
	const char *ok = "{\"id\": \"op-1\", \"cmd\": \"disable\", \"camera\": "
			 "\"cam-1\", \"lane\": \"lane-a\", \"time\": "
			 "1795955740.5, \"nonce\": "
			 "\"0123456789abcdef0123456789abcdef\"}";
	const char *bare = "{\"id\": \"op-2\", \"cmd\": \"disable\", "
			   "\"camera\": \"cam-1\", \"lane\": \"lane-a\"}";

	memset(&seen, 0, sizeof(seen));
	key_of(1, &hub);
	key_of(2, &dev);
	msg = command(&hub, FL_DOMAIN_HUB, T_CMD, ok, &n);
	CHECK_EQ_INT(fl_command_verify(hub.pk, T_CMD, msg, n, now, 300, &seen,
				       &c, err, sizeof(err)),
		     0);
	CHECK(c.kind == FL_CMD_DISABLE && !strcmp(c.lane, "lane-a") &&
	      !strcmp(c.req, "op-1"));
	/* the same bytes again: replayed */
	CHECK_EQ_INT(fl_command_verify(hub.pk, T_CMD, msg, n, now + 5, 300,
				       &seen, &c, err, sizeof(err)),
		     FL_EEXIST);
	CHECK(strstr(err, "replayed") && !strcmp(c.req, "op-1"));
	/* later than the window (a fresh table: not a replay) */
	memset(&seen, 0, sizeof(seen));
	CHECK_EQ_INT(fl_command_verify(hub.pk, T_CMD, msg, n, now + 1000, 300,
				       &seen, &c, err, sizeof(err)),
		     FL_ERANGE);
	CHECK(strstr(err, "stale") != NULL);
	/* for another device's topic */
	CHECK_EQ_INT(fl_command_verify(hub.pk,
				       "firelane/demo-site/edge-02/command/set",
				       msg, n, now, 300, &seen, &c, err,
				       sizeof(err)),
		     FL_EFORMAT);
	CHECK(strstr(err, "not the hub's") != NULL);
	free(msg);
	/* unsigned: refused, the request id still answered */
	CHECK_EQ_INT(fl_command_verify(hub.pk, T_CMD, ok, strlen(ok), now, 300,
				       &seen, &c, err, sizeof(err)),
		     FL_EFORMAT);
	CHECK(strstr(err, "unsigned") && !strcmp(c.req, "op-1"));
	/* a device's signature (the other domain, the other key) */
	msg = command(&dev, FL_DOMAIN_DEVICE, T_CMD, ok, &n);
	CHECK_EQ_INT(fl_command_verify(hub.pk, T_CMD, msg, n, now, 300, &seen,
				       &c, err, sizeof(err)),
		     FL_EFORMAT);
	free(msg);
	/* the hub's key but no time and nonce */
	msg = command(&hub, FL_DOMAIN_HUB, T_CMD, bare, &n);
	CHECK_EQ_INT(fl_command_verify(hub.pk, T_CMD, msg, n, now, 300, &seen,
				       &c, err, sizeof(err)),
		     FL_EFORMAT);
	CHECK(strstr(err, "\"time\" and \"nonce\"") != NULL);
	/* no hub key on the edge: nothing is taken */
	CHECK_EQ_INT(fl_command_verify(NULL, T_CMD, msg, n, now, 300, &seen, &c,
				       err, sizeof(err)),
		     FL_EINVAL);
	CHECK(strstr(err, "mqtt.hub_key") != NULL);
	free(msg);
	/* what the hub builds is what the edge takes, once */
	CHECK_EQ_INT(hub_command_build(bare, now, &text, id, sizeof(id), err,
				       sizeof(err)),
		     0);
	CHECK_STREQ(id, "op-2");
	msg = command(&hub, FL_DOMAIN_HUB, T_CMD, text, &n);
	CHECK_EQ_INT(fl_command_verify(hub.pk, T_CMD, msg, n, now + 1, 300,
				       &seen, &c, err, sizeof(err)),
		     0);
	CHECK(fabs(c.time - now) < 0.001 && fl_nonce_ok(c.nonce));
	free(msg);
	free(text);
	/* two builds: two nonces; an id is made when there is none */
	CHECK_EQ_INT(hub_command_build("{\"cmd\": \"reload\"}", now, &text, id,
				       sizeof(id), err, sizeof(err)),
		     0);
	CHECK(!strncmp(id, "hub-", 4) && strstr(text, "\"nonce\":"));
	free(text);
	CHECK_EQ_INT(hub_command_build("[1]", now, &text, id, sizeof(id), err,
				       sizeof(err)),
		     FL_EFORMAT);
}

/* Seeds for the two fuzz targets: genuine signed messages (the key of
 * seed fill 7 for devices, 1 for the hub, as the targets use). */
static int write_seeds(const char *dir)
{
	static const struct {
		const char *file, *domain, *topic, *body;
		unsigned char key;
	} s[] = {
		{ "signed/incident.bin", FL_DOMAIN_DEVICE, T_INC,
		  "{\"incident_id\": \"edge-01-1\", \"seq\": 1}", 7 },
		{ "signed/status.bin", FL_DOMAIN_DEVICE,
		  "firelane/demo-site/edge-01/status", "online 1795955740200",
		  7 },
		{ "signed/chunk.bin", FL_DOMAIN_DEVICE,
		  "firelane/demo-site/edge-01/cam-1/lane-a/evidence",
		  "{\"incident_id\": \"edge-01-1\"}\n\x01\x02\n\x03", 7 },
		{ "command_verify/disable.bin", FL_DOMAIN_HUB, T_CMD,
		  "{\"id\": \"op-1\", \"cmd\": \"disable\", \"camera\": "
		  "\"cam-1\", \"lane\": \"lane-a\", \"time\": 1795955740, "
		  "\"nonce\": \"0123456789abcdef0123456789abcdef\"}",
		  1 },
		{ "command_verify/reload.bin", FL_DOMAIN_HUB, T_CMD,
		  "{\"cmd\": \"reload\", \"time\": 1795955740.5, \"nonce\": "
		  "\"00000000000000000000000000000001\"}",
		  1 },
	};
	char path[4096];

	for (size_t i = 0; i < FL_ARRAY_SIZE(s); i++) {
		fl_key k;
		size_t n;
		char *msg;
		FILE *f;

		key_of(s[i].key, &k);
		msg = sign(&k, s[i].domain, s[i].topic, s[i].body,
			   strlen(s[i].body), &n);
		snprintf(path, sizeof(path), "%s/%s", dir, s[i].file);
		*strrchr(path, '/') = '\0';
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/%s", dir, s[i].file);
		f = fopen(path, "wb");
		if (!f || !msg || fwrite(msg, 1, n, f) != n) {
			fprintf(stderr, "cannot write %s\n", path);
			return 1;
		}
		fclose(f);
		free(msg);
	}
	return 0;
}

/* The example of docs/mqtt.md verifies with the key of seed 7s: the
 * document, the Python signer and this code agree. */
static void test_doc_example(void)
{
	static const char topic[] = "firelane/demo-site/edge-01/status";
	const char *dir = getenv("FL_SOURCE_DIR");
	char path[1024], line[1024], prev[1024] = "", err[256];
	int found = 0;
	fl_envelope env;
	fl_key k;
	FILE *f;

	snprintf(path, sizeof(path), "%s/docs/mqtt.md", dir ? dir : ".");
	f = fopen(path, "r");
	if (!CHECK_NOT_NULL(f))
		return;
	key_of(7, &k);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strcmp(prev, topic) &&
		    !strncmp(line, FL_ENVELOPE_MAGIC, FL_ENVELOPE_MAGIC_LEN)) {
			found = 1;
			CHECK_EQ_INT(fl_msg_verify(k.pk, FL_DOMAIN_DEVICE,
						   topic, line, strlen(line),
						   &env, err, sizeof(err)),
				     0);
			CHECK_EQ_INT(env.body_len, 20);
			CHECK(!memcmp(env.body, "online 1795955700000", 20));
		}
		snprintf(prev, sizeof(prev), "%s", line);
	}
	fclose(f);
	CHECK(found);
}

/* ---- bench ------------------------------------------------------------- */

/* Microseconds per sign and per verify of body (len bytes) on topic: the
 * best of 3 rounds of n each. */
static void bench_one(const fl_key *k, const char *topic, const void *body,
		      size_t len, long n, double *sign_us, double *verify_us)
{
	size_t cap = FL_ENVELOPE_HEADER + len, got = 0;
	unsigned char *out = malloc(cap);
	fl_envelope env;
	char err[256];
	double t;

	*sign_us = *verify_us = 1e30;
	if (!out)
		return;
	for (int round = 0; round < 3; round++) {
		t = fl_mono_s();
		for (long i = 0; i < n; i++)
			fl_msg_sign(k, FL_DOMAIN_DEVICE, topic, body, len, out,
				    cap, &got);
		t = (fl_mono_s() - t) * 1e6 / (double)n;
		if (t < *sign_us)
			*sign_us = t;
		t = fl_mono_s();
		for (long i = 0; i < n; i++)
			if (fl_msg_verify(k->pk, FL_DOMAIN_DEVICE, topic, out,
					  got, &env, err, sizeof(err)))
				abort(); /* a bench of failures measures nothing */
		t = (fl_mono_s() - t) * 1e6 / (double)n;
		if (t < *verify_us)
			*verify_us = t;
	}
	free(out);
}

static int bench(long n)
{
	static const char inc[] =
		"{\"incident_id\": \"edge-01-6b0c1c12-lane-a-1\", \"seq\": 2, "
		"\"type\": \"alarm\", \"site\": \"demo-site\", \"device\": "
		"\"edge-01\", \"camera\": \"cam-1\", \"lane\": \"lane-a\", "
		"\"time\": \"2026-11-29T12:36:00.200Z\", \"unix_time\": "
		"1795955760.200, \"video_time_s\": 30.200, \"rest_since_s\": "
		"27.600, \"bbox\": [228.0, 141.0, 40.0, 38.0], \"class\": "
		"\"vehicle\"}";
	size_t clen = 65536 + 300;
	unsigned char *chunk = malloc(clen);
	double is, iv, cs, cv;
	fl_key k;

	if (!chunk || n < 1)
		return 1;
	randombytes_buf(chunk, clen);
	key_of(7, &k);
	bench_one(&k, T_INC, inc, strlen(inc), n, &is, &iv);
	bench_one(&k, "firelane/demo-site/edge-01/cam-1/lane-a/evidence", chunk,
		  clen, n / 10 + 1, &cs, &cv);
	printf("{\"n\": %ld, \"incident_bytes\": %zu, "
	       "\"incident_sign_us\": %.1f, \"incident_verify_us\": %.1f, "
	       "\"chunk_bytes\": %zu, \"chunk_sign_us\": %.1f, "
	       "\"chunk_verify_us\": %.1f}\n",
	       n, strlen(inc), is, iv, clen, cs, cv);
	free(chunk);
	return 0;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc == 3 && !strcmp(argv[1], "--write-fuzz-seeds"))
		return write_seeds(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "--bench"))
		return bench(atol(argv[2]));
	test_doc_example();
	test_layout();
	test_verify();
	test_base64();
	test_nonces();
	test_status();
	test_command_verify();
	TEST_DONE();
}
