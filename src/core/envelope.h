/*
 * envelope.h - the signed form of a firelane message (docs/mqtt.md,
 * "Signed messages"), as pure functions: the layout, its parser and the
 * bytes a signature covers. No keys and no cryptography here: the
 * signature itself is libsodium's Ed25519 (src/evidence/msgsign.c).
 *
 *   payload = "fl-sig/1 " KID " " SIG " " BODY
 *
 *   KID   the signer's key id: 16 lowercase hex digits, the first 8 bytes
 *         of SHA-256 of its Ed25519 public key
 *   SIG   standard padded base64 (88 characters) of the Ed25519 signature
 *         of   DOMAIN "\n" KID "\n" TOPIC "\n" BODY
 *   BODY  the message as it is without a signature: JSON, a status line,
 *         an evidence chunk (header line and raw bytes)
 *
 * The header is ASCII of a fixed length (FL_ENVELOPE_HEADER bytes) ending
 * in a space, so a signed JSON message is still one line, and the body
 * starts at a fixed offset whatever it holds (binary chunks included).
 * DOMAIN names the signer's role (FL_DOMAIN_DEVICE, FL_DOMAIN_HUB), so a
 * device's signature can never pass for the hub's or the other way round;
 * TOPIC is the topic the message is published on, so a signed message
 * moved to another topic (another lane, another device, another kind)
 * does not verify.
 *
 * Everything writes into caller buffers with snprintf semantics; nothing
 * allocates. The parser takes any bytes (it is fuzzed through
 * tests/fuzz/fuzz_signed.c).
 */
#ifndef FL_ENVELOPE_H
#define FL_ENVELOPE_H

#include <stddef.h>

#define FL_ENVELOPE_MAGIC "fl-sig/1 "
#define FL_ENVELOPE_MAGIC_LEN 9
#define FL_ENVELOPE_KID 16 /* hex digits of a key id */
#define FL_ENVELOPE_SIG_B64 88
/* magic, key id, space, signature, space */
#define FL_ENVELOPE_HEADER                                                     \
	(FL_ENVELOPE_MAGIC_LEN + FL_ENVELOPE_KID + 1 + FL_ENVELOPE_SIG_B64 + 1)

/* Who signs: a device (everything it publishes for the hub) or the hub
 * (commands and delivery receipts to a device). */
#define FL_DOMAIN_DEVICE "firelane-device/1"
#define FL_DOMAIN_HUB "firelane-hub/1"

/* The longest topic a signature covers (the hub refuses longer ones). */
#define FL_ENVELOPE_TOPIC_MAX 1024

/* A parsed envelope. body points into the caller's payload and lives as
 * long as it. */
typedef struct fl_envelope {
	char kid[FL_ENVELOPE_KID + 1];
	unsigned char sig[64];
	const unsigned char *body;
	size_t body_len;
} fl_envelope;

/*
 * Split a payload (len bytes, any bytes) into its envelope. 0 when it is
 * one; FL_ENOENT when the payload does not begin with the magic (an
 * unsigned message: out->body is then the whole payload); FL_EFORMAT with
 * the reason in err when it begins with the magic but the rest is not an
 * envelope (a key id that is not 16 lowercase hex digits, a signature that
 * is not canonical base64 of 64 bytes, a missing separator).
 */
int fl_envelope_parse(const void *payload, size_t len, fl_envelope *out,
		      char *err, size_t errlen);

/*
 * Standard base64 (RFC 4648, padded) of exactly outlen bytes: slen must be
 * the canonical length, the characters of the alphabet, the padding '='
 * and the unused low bits of the last character zero, so every byte
 * string has one spelling. 0, or -1 (out unspecified). A signature is 88
 * characters for 64 bytes, an Ed25519 public key 44 for 32.
 */
int fl_b64_decode(const char *s, size_t slen, unsigned char *out,
		  size_t outlen);

/* 1 when kid is 16 lowercase hex digits. */
int fl_envelope_kid_ok(const char *kid);

/* 1 when a topic can be signed: 1..FL_ENVELOPE_TOPIC_MAX bytes, no NUL,
 * no newline (the signed bytes would be ambiguous). */
int fl_envelope_topic_ok(const char *topic);

/*
 * The bytes a signature covers before the body: DOMAIN "\n" KID "\n"
 * TOPIC "\n". snprintf semantics; 0 (and "" in buf) when the topic cannot
 * be signed (fl_envelope_topic_ok) or domain or kid is NULL.
 */
size_t fl_envelope_prefix(const char *domain, const char *kid,
			  const char *topic, char *buf, size_t len);

/* The header "fl-sig/1 KID SIG " (FL_ENVELOPE_HEADER bytes). snprintf
 * semantics. */
size_t fl_envelope_header(const char *kid, const unsigned char sig[64],
			  char *buf, size_t len);

#endif /* FL_ENVELOPE_H */
