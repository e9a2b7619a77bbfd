/*
 * sign.h - the device key and the anti-forgery code of evidence images
 * (SHA-256 of buffers and files: src/util/file.h).
 *
 * The device holds one Ed25519 key (libsodium). It signs each bundle's
 * manifest and derives the short code printed on every evidence image. The
 * key never leaves the device; the public half goes into every manifest and
 * is what a hub pins. See docs/evidence.md for the design.
 */
#ifndef FL_EVIDENCE_SIGN_H
#define FL_EVIDENCE_SIGN_H

#include <stddef.h>

/* A device key pair. sk is libsodium's 64-byte form (seed || pk). Plain data:
 * the caller owns the storage; wipe it with fl_key_wipe() when done. */
typedef struct fl_key {
	unsigned char pk[32];
	unsigned char sk[64];
} fl_key;

#define FL_KEY_B64_LEN 45 /* 44 base64 chars + NUL */
#define FL_SIG_B64_LEN 89 /* 88 base64 chars + NUL */
#define FL_CODE_LEN 12

/*
 * Load the device's Ed25519 key from path, or create it when the file does
 * not exist (parent directories created 0700, file mode 0600, written
 * atomically). *created (may be NULL) is set to 1 when a new key was made,
 * else 0. The file holds the 64 raw bytes of sk. A key file that is not a
 * regular file, is readable or writable by group or others, has the wrong
 * size or whose halves do not belong together is an error (FL_EFORMAT,
 * FL_EIO) with the path in err. k is caller-owned and filled only on success.
 */
int fl_key_load_or_create(const char *path, fl_key *k, int *created, char *err,
			  size_t errlen);

/* Zero the secret half of k (sodium_memzero). NULL-safe. */
void fl_key_wipe(fl_key *k);

/* Public key as standard padded base64, NUL-terminated, into out (outlen >=
 * FL_KEY_B64_LEN; shorter buffers get an empty string). */
void fl_key_public_b64(const fl_key *k, char *out, size_t outlen);

/* Decode a standard base64 public key (44 chars, surrounding white space
 * allowed) into pk. Returns 0 or FL_EFORMAT. */
int fl_key_public_from_b64(const char *b64, unsigned char pk[32]);

/*
 * The anti-forgery code printed on image seq of an incident.
 *   sig  = Ed25519_sign(sk, "firelane-image/1\n" device "\n" incident_id "\n"
 *                           lane "\n" seq "\n" time_utc)
 *   code = first 12 chars of base32(SHA-256(sig)) (RFC 4648 alphabet,
 *          upper case, no padding)
 * code gets 12 chars + NUL; sig_b64 (siglen >= FL_SIG_B64_LEN) the base64
 * signature, which goes into the manifest. Returns FL_EINVAL when a field is
 * NULL or contains '\n' (the message would be ambiguous) or seq < 1.
 */
int fl_evidence_code(const fl_key *k, const char *device,
		     const char *incident_id, const char *lane, int seq,
		     const char *time_utc, char code[13], char *sig_b64,
		     size_t siglen);

/*
 * The verifier's side: whether sig_b64 is pk's signature of the image message
 * and code is the code derived from it. Returns 0, FL_EFORMAT with "anti-forgery
 * signature does not verify" or "anti-forgery code does not match" in err
 * (no file name: the caller prefixes it), or FL_EINVAL for bad fields.
 */
int fl_evidence_code_check(const unsigned char pk[32], const char *device,
			   const char *incident_id, const char *lane, int seq,
			   const char *time_utc, const char *code,
			   const char *sig_b64, char *err, size_t errlen);

#endif /* FL_EVIDENCE_SIGN_H */
