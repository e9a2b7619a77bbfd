/*
 * sign.c - the device key, SHA-256 and the anti-forgery code.
 *
 * A note on trust. The device is the only party that ever holds its secret
 * key: it is created on first start (libsodium's Ed25519, 64 raw bytes in a
 * 0600 file, written atomically so a crash cannot leave half a key) and from
 * then on only loaded. A key file anyone else can read is refused rather than
 * used: a leaked key lets anybody forge evidence, and silently accepting one
 * would hide the leak. The public half travels in every manifest; the hub pins
 * it at provisioning so a bundle signed by another key is rejected even when
 * it verifies against the key it names.
 *
 * A note on the anti-forgery code. Every image carries, printed in its
 * overlay, a 12-character code. It is derived from an Ed25519 signature over
 * the facts the overlay states (device, incident, lane, image sequence number
 * and the printed time), domain-separated by "firelane-image/1":
 *
 *     sig  = sign(sk, "firelane-image/1\n" device "\n" incident "\n" lane
 *                     "\n" seq "\n" time_utc)
 *     code = base32(SHA-256(sig))[0..12)
 *
 * Ed25519 is deterministic, so the same facts always give the same code and
 * the verifier can re-derive it from the signature the manifest records. A
 * person holding a print-out can ask the hub "is code X the one for image 2
 * of incident Y?"; nobody without the key can compute a valid code for made
 * up facts. 60 bits are plenty for a code checked against one known incident,
 * and 12 upper-case base32 characters survive printing and reading aloud.
 */
#include "sign.h"

#include "fl.h"
#include "file.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IMAGE_DOMAIN "firelane-image/1"

int fl__sodium_ready(void)
{
	/* sodium_init is thread-safe and idempotent: 1 means already done. */
	return sodium_init() < 0 ? FL_EIO : 0;
}

void fl_key_wipe(fl_key *k)
{
	if (k)
		sodium_memzero(k, sizeof(*k));
}

void fl_key_public_b64(const fl_key *k, char *out, size_t outlen)
{
	if (!out || outlen == 0)
		return;
	out[0] = '\0';
	if (outlen < FL_KEY_B64_LEN)
		return;
	sodium_bin2base64(out, outlen, k->pk, sizeof(k->pk),
			  sodium_base64_VARIANT_ORIGINAL);
}

int fl_key_public_from_b64(const char *b64, unsigned char pk[32])
{
	size_t n = 0;
	const char *end = NULL;

	if (!b64 || fl__sodium_ready() != 0)
		return FL_EFORMAT;
	while (*b64 == ' ' || *b64 == '\t' || *b64 == '\n' || *b64 == '\r')
		b64++;
	if (sodium_base642bin(pk, 32, b64, strlen(b64), NULL, &n, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n != 32)
		return FL_EFORMAT;
	for (; *end; end++)
		if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r')
			return FL_EFORMAT;
	return 0;
}

/* Whether the 64 bytes of sk are a consistent libsodium secret key: the pk
 * half is the one its seed half derives. Catches a file of the right size
 * with the wrong content (a truncated key padded, a stray file). */
static int key_consistent(const unsigned char sk[64], unsigned char pk[32])
{
	unsigned char pk2[32], sk2[64];
	int ok;

	crypto_sign_seed_keypair(pk2, sk2, sk);
	ok = sodium_memcmp(sk2, sk, 64) == 0;
	memcpy(pk, pk2, 32);
	sodium_memzero(sk2, sizeof(sk2));
	return ok;
}

/*
 * Make a new key at path, crash-safe and exclusive (FL_FILE_EXCL: link(2),
 * which fails when path exists): two processes starting at once (edge and
 * a provisioning tool) cannot both believe their key is the device's.
 * FL_EAGAIN tells the caller another key won the race: load that one.
 */
static int key_create(const char *path, fl_key *k, char *err, size_t errlen)
{
	char dir[FL__PATH_MAX];
	int rc;

	if (strlen(path) >= sizeof(dir)) {
		snprintf(err, errlen, "%s: path too long", path);
		return FL_EINVAL;
	}
	fl_path_dir(path, dir, sizeof(dir));
	rc = fl_mkdir_p(dir, 0700, err, errlen);
	if (rc)
		return rc;
	crypto_sign_keypair(k->pk, k->sk);
	rc = fl_file_write(path, k->sk, sizeof(k->sk), 0600, FL_FILE_EXCL, err,
			   errlen);
	if (rc == FL_EEXIST)
		rc = FL_EAGAIN;
	if (rc) {
		fl_key_wipe(k);
		return rc;
	}
	fl_log(FL_LOG_INFO, FL__TAG, "created device key %s", path);
	return 0;
}

int fl_key_load_or_create(const char *path, fl_key *k, int *created, char *err,
			  size_t errlen)
{
	unsigned char buf[65];
	struct stat st;
	ssize_t n;
	int fd, rc = 0;

	if (created)
		*created = 0;
	if (!path || !*path || !k) {
		snprintf(err, errlen, "key: no path");
		return FL_EINVAL;
	}
	if (fl__sodium_ready() != 0) {
		snprintf(err, errlen, "%s: libsodium failed to initialise",
			 path);
		return FL_EIO;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		rc = key_create(path, k, err, errlen);
		if (rc != FL_EAGAIN) {
			if (rc == 0 && created)
				*created = 1;
			return rc;
		}
		rc = 0; /* another process made the key first: load it */
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0) {
		snprintf(err, errlen, "key %s: %s", path, strerror(errno));
		return FL_EIO;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "key %s: %s", path, strerror(errno));
		rc = FL_EIO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "key %s: not a regular file", path);
		rc = FL_EFORMAT;
		goto out;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 "key %s: mode %04o gives group/others access, must be "
			 "0600 (chmod 600 %s if it was never exposed, else make "
			 "a new key)",
			 path, (unsigned)(st.st_mode & 07777), path);
		rc = FL_EFORMAT;
		goto out;
	}
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		snprintf(err, errlen, "key %s: %s", path, strerror(errno));
		rc = FL_EIO;
		goto out;
	}
	if (n != 64) {
		snprintf(err, errlen,
			 "key %s: %s bytes, a key has 64 (truncated or not a "
			 "key)",
			 path, n > 64 ? "more than 64" : "fewer than 64");
		rc = FL_EFORMAT;
		goto out;
	}
	if (!key_consistent(buf, k->pk)) {
		snprintf(err, errlen,
			 "key %s: corrupt (public half does not match)", path);
		rc = FL_EFORMAT;
		goto out;
	}
	memcpy(k->sk, buf, 64);
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

/* RFC 4648 base32 of in, without padding, at most outlen - 1 chars. */
static void base32(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned acc = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < outlen; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5 && o + 1 < outlen) {
			out[o++] = alpha[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0 && o + 1 < outlen)
		out[o++] = alpha[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

static int field_ok(const char *s)
{
	return s && !strchr(s, '\n');
}

/* The signed message for one image into buf; returns its length or -1. */
static int image_message(const char *device, const char *incident_id,
			 const char *lane, int seq, const char *time_utc,
			 char *buf, size_t len)
{
	int n;

	if (!field_ok(device) || !field_ok(incident_id) || !field_ok(lane) ||
	    !field_ok(time_utc) || seq < 1)
		return -1;
	n = snprintf(buf, len, IMAGE_DOMAIN "\n%s\n%s\n%s\n%d\n%s", device,
		     incident_id, lane, seq, time_utc);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

static void code_of(const unsigned char sig[64], char code[13])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, sig, 64);
	base32(h, sizeof(h), code, FL_CODE_LEN + 1);
}

int fl_evidence_code(const fl_key *k, const char *device,
		     const char *incident_id, const char *lane, int seq,
		     const char *time_utc, char code[13], char *sig_b64,
		     size_t siglen)
{
	char msg[2048];
	unsigned char sig[64];
	int n;

	code[0] = '\0';
	if (sig_b64 && siglen)
		sig_b64[0] = '\0';
	if (!k || !sig_b64 || siglen < FL_SIG_B64_LEN ||
	    fl__sodium_ready() != 0)
		return FL_EINVAL;
	n = image_message(device, incident_id, lane, seq, time_utc, msg,
			  sizeof(msg));
	if (n < 0)
		return FL_EINVAL;
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg,
			     (unsigned long long)n, k->sk);
	code_of(sig, code);
	sodium_bin2base64(sig_b64, siglen, sig, sizeof(sig),
			  sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

int fl_evidence_code_check(const unsigned char pk[32], const char *device,
			   const char *incident_id, const char *lane, int seq,
			   const char *time_utc, const char *code,
			   const char *sig_b64, char *err, size_t errlen)
{
	char msg[2048], want[FL_CODE_LEN + 1];
	unsigned char sig[64];
	size_t siglen = 0;
	const char *end = NULL;
	int n;

	if (fl__sodium_ready() != 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return FL_EIO;
	}
	n = image_message(device, incident_id, lane, seq, time_utc, msg,
			  sizeof(msg));
	if (n < 0 || !code || !sig_b64) {
		snprintf(err, errlen,
			 "anti-forgery fields unusable (empty, too long or "
			 "containing a newline)");
		return FL_EINVAL;
	}
	if (sodium_base642bin(sig, sizeof(sig), sig_b64, strlen(sig_b64), NULL,
			      &siglen, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    siglen != sizeof(sig) || *end) {
		snprintf(err, errlen,
			 "anti-forgery signature is not a "
			 "base64 Ed25519 signature");
		return FL_EFORMAT;
	}
	if (crypto_sign_verify_detached(sig, (const unsigned char *)msg,
					(unsigned long long)n, pk) != 0) {
		snprintf(err, errlen, "anti-forgery signature does not verify");
		return FL_EFORMAT;
	}
	code_of(sig, want);
	if (strcmp(want, code) != 0) {
		snprintf(err, errlen, "anti-forgery code does not match");
		return FL_EFORMAT;
	}
	return 0;
}
