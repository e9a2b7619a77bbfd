/*
 * msgsign.h - signing and verifying MQTT messages (the envelope of
 * src/core/envelope.h, docs/mqtt.md "Signed messages") with the Ed25519
 * keys of sign.h, and the command verifier of the edge.
 *
 * A device signs everything it publishes for the hub with its device key
 * (FL_DOMAIN_DEVICE); the hub signs its commands and delivery receipts with
 * the hub key (FL_DOMAIN_HUB). A signature covers the domain, the key id,
 * the topic and the body, so it holds only for the topic it was made for.
 *
 * No I/O, no clocks (times are passed in); libsodium only. Every function
 * may be called from any thread: there is no state besides the caller's.
 */
#ifndef FL_EVIDENCE_MSGSIGN_H
#define FL_EVIDENCE_MSGSIGN_H

#include <stddef.h>

#include "envelope.h"
#include "nonce.h"
#include "sign.h"
#include "topic.h"

/* The key id of a public key: the first 8 bytes of its SHA-256, as 16
 * lowercase hex digits (kid gets 17 bytes). */
void fl_key_id(const unsigned char pk[32], char kid[FL_ENVELOPE_KID + 1]);

/*
 * The signed form of body (len bytes) for topic, signed by k in domain
 * (FL_DOMAIN_DEVICE or FL_DOMAIN_HUB), into out (outlen >=
 * FL_ENVELOPE_HEADER + len); *n gets its length. 0, FL_EINVAL (a topic that
 * cannot be signed, out too small) or FL_ENOMEM. Ed25519 is deterministic:
 * the same body on the same topic always gives the same bytes.
 */
int fl_msg_sign(const fl_key *k, const char *domain, const char *topic,
		const void *body, size_t len, void *out, size_t outlen,
		size_t *n);

/*
 * The verifier: is payload (len bytes, from the network) pk's signature in
 * domain of a body for this topic? 0: yes, env->body is the body (a
 * pointer into payload). Otherwise err says why:
 *   FL_ENOENT   not signed at all (env->body is the whole payload, for a
 *               caller that still takes unsigned messages);
 *   FL_EFORMAT  a malformed envelope, a key id that is not pk's ("signed
 *               by key X, expected Y"), or a signature that does not
 *               verify for this topic.
 * The one function both the hub (device messages) and the edge (commands,
 * receipts) trust; fuzzed by tests/fuzz/fuzz_signed.c.
 */
int fl_msg_verify(const unsigned char pk[32], const char *domain,
		  const char *topic, const void *payload, size_t len,
		  fl_envelope *env, char *err, size_t errlen);

/*
 * The edge's command verifier: a command on topic (the device's
 * command/set) is taken only when it is signed by the hub's key for that
 * topic (fl_msg_verify, FL_DOMAIN_HUB), parses (fl_command_parse), carries
 * "time" and "nonce", and is fresh at now: within window_s of now and its
 * nonce not in seen (fl_nonces_check, which then remembers it).
 * hub_pk NULL: no hub key is configured, and every command is refused.
 * 0: out is the command. Otherwise err says why and out->req holds the
 * request id when one could be read (for the answer):
 *   FL_EFORMAT  unsigned, not the hub's signature, not a valid command,
 *               or no time or nonce;
 *   FL_ERANGE   stale;   FL_EEXIST  replayed;   FL_EFULL  a flood;
 *   FL_EINVAL   no hub key.
 * Fuzzed by tests/fuzz/fuzz_command_verify.c.
 */
int fl_command_verify(const unsigned char *hub_pk, const char *topic,
		      const void *payload, size_t len, double now,
		      double window_s, fl_nonces *seen, fl_command *out,
		      char *err, size_t errlen);

#endif /* FL_EVIDENCE_MSGSIGN_H */
