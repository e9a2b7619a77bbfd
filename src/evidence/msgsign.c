/*
 * msgsign.c - Ed25519 over the envelope's signed bytes, and the edge's
 * command verifier (see msgsign.h; the format is src/core/envelope.h).
 *
 * A note on what a signature proves. The broker authenticates a client
 * (if it is set up to) but the hub never learns which client published a
 * message; and anybody who can publish somewhere on the broker, or sits
 * between a device and the broker without TLS, can put bytes on any topic
 * the broker lets through. A signature by the enrolled device key over
 * the topic and the body proves that the device made this very message
 * for this very topic, whatever carried it: the broker's ACL becomes the
 * second line of defence, not the only one. What it does not prove is
 * when: a captured message can be sent again. Device messages are safe to
 * repeat (the hub stores (incident_id, seq) once and orders statuses by
 * the connection epoch); commands are not, so they carry a time and a
 * nonce, checked here against the edge's window (src/core/nonce.c).
 *
 * Signing costs one Ed25519 signature over the prefix and the body (the
 * body is copied once behind the prefix: Ed25519 hashes the message twice
 * and needs it in one piece); make bench reports the cost per message.
 */
#include "msgsign.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"
#include "internal.h"

void fl_key_id(const unsigned char pk[32], char kid[FL_ENVELOPE_KID + 1])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, pk, 32);
	sodium_bin2hex(kid, FL_ENVELOPE_KID + 1, h, FL_ENVELOPE_KID / 2);
}

/*
 * The signed bytes (prefix, then body) in one buffer: small[] when they
 * fit, else malloc'd (*heap set, the caller frees it). NULL when the topic
 * cannot be signed or memory is short.
 */
static unsigned char *signed_bytes(const char *domain, const char *kid,
				   const char *topic, const void *body,
				   size_t len, unsigned char *small,
				   size_t smallcap, unsigned char **heap,
				   size_t *n)
{
	size_t pl = fl_envelope_prefix(domain, kid, topic, NULL, 0);
	unsigned char *buf = small;

	*heap = NULL;
	if (pl == 0 || len > SIZE_MAX - pl - 1)
		return NULL;
	if (pl + len + 1 > smallcap) {
		buf = *heap = malloc(pl + len + 1);
		if (!buf)
			return NULL;
	}
	fl_envelope_prefix(domain, kid, topic, (char *)buf, pl + 1);
	if (len)
		memcpy(buf + pl, body, len);
	*n = pl + len;
	return buf;
}

int fl_msg_sign(const fl_key *k, const char *domain, const char *topic,
		const void *body, size_t len, void *out, size_t outlen,
		size_t *n)
{
	unsigned char small[4096], *heap, *tbs, sig[64];
	char kid[FL_ENVELOPE_KID + 1], head[FL_ENVELOPE_HEADER + 1];
	size_t tn = 0;

	*n = 0;
	if (!k || !out || outlen < FL_ENVELOPE_HEADER ||
	    len > outlen - FL_ENVELOPE_HEADER || fl__sodium_ready() != 0)
		return FL_EINVAL;
	fl_key_id(k->pk, kid);
	tbs = signed_bytes(domain, kid, topic, body, len, small, sizeof(small),
			   &heap, &tn);
	if (!tbs)
		return fl_envelope_topic_ok(topic) ? FL_ENOMEM : FL_EINVAL;
	crypto_sign_detached(sig, NULL, tbs, (unsigned long long)tn, k->sk);
	free(heap);
	fl_envelope_header(kid, sig, head, sizeof(head));
	/* body may live in out already (behind the header's room): move */
	memmove((unsigned char *)out + FL_ENVELOPE_HEADER, body, len);
	memcpy(out, head, FL_ENVELOPE_HEADER);
	*n = FL_ENVELOPE_HEADER + len;
	return 0;
}

int fl_msg_verify(const unsigned char pk[32], const char *domain,
		  const char *topic, const void *payload, size_t len,
		  fl_envelope *env, char *err, size_t errlen)
{
	unsigned char small[4096], *heap, *tbs;
	char kid[FL_ENVELOPE_KID + 1];
	size_t tn = 0;
	int rc, ok;

	rc = fl_envelope_parse(payload, len, env, err, errlen);
	if (rc == FL_ENOENT) {
		fl_seterr(err, errlen, "not signed");
		return rc;
	}
	if (rc)
		return rc;
	if (fl__sodium_ready() != 0) {
		fl_seterr(err, errlen, "libsodium failed to initialise");
		return FL_EFORMAT;
	}
	fl_key_id(pk, kid);
	if (strcmp(kid, env->kid)) {
		fl_seterr(err, errlen,
			  "signed by key %s, not by the expected key %s",
			  env->kid, kid);
		return FL_EFORMAT;
	}
	tbs = signed_bytes(domain, kid, topic, env->body, env->body_len, small,
			   sizeof(small), &heap, &tn);
	if (!tbs) {
		fl_seterr(err, errlen, "%s",
			  fl_envelope_topic_ok(topic)
				  ? "out of memory"
				  : "the topic cannot carry a signed message");
		return FL_EFORMAT;
	}
	ok = crypto_sign_verify_detached(env->sig, tbs, (unsigned long long)tn,
					 pk) == 0;
	free(heap);
	if (!ok) {
		fl_seterr(err, errlen,
			  "the signature does not verify for this topic (the "
			  "message was altered or made for another topic)");
		return FL_EFORMAT;
	}
	return 0;
}

int fl_command_verify(const unsigned char *hub_pk, const char *topic,
		      const void *payload, size_t len, double now,
		      double window_s, fl_nonces *seen, fl_command *out,
		      char *err, size_t errlen)
{
	fl_envelope env;
	char why[256];
	int rc;

	memset(out, 0, sizeof(*out));
	out->time = NAN;
	if (!hub_pk) {
		fl_seterr(err, errlen,
			  "refused: this device has no hub key (mqtt.hub_key) "
			  "to check commands with");
		return FL_EINVAL;
	}
	rc = fl_msg_verify(hub_pk, FL_DOMAIN_HUB, topic, payload, len, &env,
			   why, sizeof(why));
	if (rc) {
		/* the id only, for the answer: nothing else is believed */
		fl_command_parse((const char *)env.body, env.body_len, out,
				 NULL, 0);
		fl_seterr(err, errlen, "refused: %s%s",
			  rc == FL_ENOENT ? "unsigned" : "not the hub's: ",
			  rc == FL_ENOENT ? " (commands must be signed by the "
					    "hub)"
					  : why);
		return FL_EFORMAT;
	}
	if (fl_command_parse((const char *)env.body, env.body_len, out, why,
			     sizeof(why)) < 0) {
		fl_seterr(err, errlen, "%s", why);
		return FL_EFORMAT;
	}
	if (!out->nonce[0] || isnan(out->time)) {
		fl_seterr(err, errlen,
			  "refused: a command needs \"time\" and "
			  "\"nonce\"");
		return FL_EFORMAT;
	}
	rc = fl_nonces_check(seen, out->nonce, out->time, now, window_s, why,
			     sizeof(why));
	if (rc) {
		fl_seterr(err, errlen, "refused: %s", why);
		return rc;
	}
	return 0;
}
