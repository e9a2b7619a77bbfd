/*
 * manifest.h - reading and verifying evidence bundles: the manifest parser and
 * the verifier shared by firelane-verify and (later) the hub.
 */
#ifndef FL_EVIDENCE_MANIFEST_H
#define FL_EVIDENCE_MANIFEST_H

#include <stddef.h>

/* One file entry. Strings are borrowed from the fl_manifest that holds it. */
typedef struct fl_manifest_file {
	const char *name, *kind, *sha256; /* sha256: 64 lowercase hex */
	long long bytes;
	int is_image; /* kind is scene, closeup, composite or plate */
	int seq;      /* images: >= 1 */
	const char *time_utc, *code, *code_sig; /* images; else NULL */
	int banner_px; /* images: the banner band above the picture (0: none
			* or drawn over it, bundles before the band) */
} fl_manifest_file;

/* How the device clock stood while the bundle was made (docs/clock.md):
 * known 0 for a bundle from before the clock keys. Errors NaN when the
 * device could not tell. */
typedef struct fl_manifest_clock {
	int known, synced, trusted;
	double esterror_s, maxerror_s;
} fl_manifest_clock;

/*
 * A parsed manifest. Caller-allocated; fl_manifest_parse() fills it and
 * fl_manifest_free() releases what it holds (all strings point into it).
 */
typedef struct fl_manifest {
	const char *format;     /* FL_EVIDENCE_FORMAT */
	const char *public_key; /* base64 as written */
	unsigned char pk[32];
	const char *incident_id, *device, *site, *camera, *lane;
	/* the plate voted over the incident's reads (docs/evidence.md):
	 * has_plate 0 = no read tried; else plate (its text, or NULL =
	 * unread) and plate_confidence */
	int has_plate;
	const char *plate;
	double plate_confidence;
	fl_manifest_clock clock;
	size_t nfiles;
	fl_manifest_file *files;
	void *priv; /* the JSON tree */
} fl_manifest;

/*
 * Parse and check the shape of a manifest from memory: JSON (no duplicate
 * keys), the format string, a 32-byte public key, non-empty id strings, and
 * a files array whose entries have plain unique names, a kind, a lowercase
 * hex sha256 and a non-negative integer byte count, plus seq, time_utc, code
 * and code_sig for images. Signatures and file contents are not checked here.
 * Returns 0, or FL_EFORMAT with the reason in err (m is then empty and
 * fl_manifest_free() is still safe). The fuzz target's entry.
 */
int fl_manifest_parse(const void *data, size_t len, fl_manifest *m, char *err,
		      size_t errlen);

/* Release what m holds and zero it. NULL-safe, idempotent. */
void fl_manifest_free(fl_manifest *m);

/* What a successful verification found. */
typedef struct fl_verify_info {
	size_t nfiles;       /* files listed (not counting the manifest) */
	char public_key[45]; /* base64 of the key that signed */
	char incident_id[128];
	fl_manifest_clock clock;
} fl_verify_info;

/*
 * One line for a person on how far the bundle's times can be trusted
 * ("device clock: synchronised, error at most 0.020 s", "device clock: NOT
 * synchronised ..."), into out (no newline). For firelane-verify and the
 * hub's case package.
 */
void fl_manifest_clock_text(const fl_manifest_clock *c, char *out, size_t len);

/*
 * Verify the bundle in dir: manifest.sig is a valid signature of the exact
 * bytes of manifest.json by the key the manifest names, which must equal
 * pinned_pk when given (32 bytes, or NULL to trust the named key); every
 * listed file exists with the listed size and SHA-256; every image's
 * anti-forgery code derives from its code_sig, which the key signed; and
 * nothing but the listed files, manifest.json, manifest.sig and .delivered is
 * in dir. Returns 0 when intact; otherwise a negative error with err naming
 * the file and the fault ("photo-2.jpg: sha256 mismatch", "extra.txt: not in
 * manifest", "scene-1.jpg: missing", "manifest.sig: signature does not
 * verify", "manifest.json: signed by another key", "scene-1.jpg:
 * anti-forgery code does not match", "manifest.json: malformed JSON: ...").
 * info (may be NULL) is filled on success.
 */
int fl_bundle_verify_ex(const char *dir, const unsigned char *pinned_pk,
			fl_verify_info *info, char *err, size_t errlen);

/* fl_bundle_verify_ex() without the info. */
int fl_bundle_verify(const char *dir, const unsigned char *pinned_pk, char *err,
		     size_t errlen);

#endif /* FL_EVIDENCE_MANIFEST_H */
