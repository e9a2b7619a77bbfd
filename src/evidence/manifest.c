/*
 * manifest.c - reading a bundle back: the manifest parser and the verifier.
 *
 * A note on the order of checks. The verifier trusts nothing in the folder
 * until the signature says so, and then only what the signature covers:
 *
 *   1. manifest.json and manifest.sig are read as bytes (bounded sizes);
 *   2. the manifest is parsed just far enough to learn the public key it
 *      names; with a pinned key a different one is refused outright
 *      ("signed by another key") - a forger can sign with his own key;
 *   3. the detached signature is checked over the exact bytes. Everything
 *      after this point is data the device signed;
 *   4. every listed file: present, a regular file, the listed size and
 *      SHA-256 (streamed, so a clip need not fit in memory);
 *   5. every image's anti-forgery code: code_sig is the device's signature
 *      of (device, incident, lane, seq, time_utc) and code derives from it -
 *      the code printed on the picture is the one the device made;
 *   6. nothing else is in the folder except manifest.json, manifest.sig and
 *      the .delivered marker (which the store adds after sealing and which
 *      is deliberately not signed content).
 *
 * Reports name the file first ("scene-1.jpg: sha256 mismatch") so a person
 * and a test can tell which piece of evidence is bad. A failed signature
 * cannot say which of manifest.json and manifest.sig was altered; the
 * message names manifest.sig as the contract asks and mentions both.
 *
 * The parser (fl_manifest_parse) is separate and pure - bytes in, struct out
 * - so the fuzz target can hammer it without a file system.
 */
#include "manifest.h"

#include "bundle.h"
#include "fl.h"
#include "file.h"
#include "internal.h"
#include "sign.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MANIFEST_MAX (8u << 20) /* bytes; thousands of files fit */
#define SIG_MAX 256
#define FILES_MAX 10000 /* bounds the duplicate and extra-file checks */

void fl_manifest_free(fl_manifest *m)
{
	if (!m)
		return;
	free(m->files);
	json_decref((json_t *)m->priv);
	memset(m, 0, sizeof(*m));
}

static const char *get_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A required non-empty string; NULL with err set when absent. */
static const char *need_str(json_t *o, const char *key, const char *where,
			    char *err, size_t errlen)
{
	const char *s = get_str(o, key);

	if (!s || !*s)
		snprintf(err, errlen, "%s: \"%s\" missing or not a string",
			 where, key);
	return s && *s ? s : NULL;
}

static int is_hex64(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 64;
}

static int parse_file(json_t *f, size_t idx, fl_manifest_file *out, char *err,
		      size_t errlen)
{
	char where[300];
	json_t *bytes, *seq;
	const char *kind;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(f)) {
		snprintf(err, errlen,
			 "manifest.json: files[%zu] is not an "
			 "object",
			 idx);
		return FL_EFORMAT;
	}
	snprintf(where, sizeof(where), "manifest.json: files[%zu]", idx);
	out->name = need_str(f, "name", where, err, errlen);
	if (!out->name)
		return FL_EFORMAT;
	if (!fl__plain_name(out->name) || out->name[0] == '.' ||
	    !strcmp(out->name, "manifest.json") ||
	    !strcmp(out->name, "manifest.sig")) {
		snprintf(err, errlen,
			 "manifest.json: files[%zu]: name is not "
			 "a plain bundle file name",
			 idx);
		return FL_EFORMAT;
	}
	snprintf(where, sizeof(where), "manifest.json: %.255s", out->name);
	if (!(kind = out->kind = need_str(f, "kind", where, err, errlen)) ||
	    !(out->sha256 = need_str(f, "sha256", where, err, errlen)))
		return FL_EFORMAT;
	if (!is_hex64(out->sha256)) {
		snprintf(err, errlen,
			 "%s: sha256 is not 64 lowercase hex "
			 "digits",
			 where);
		return FL_EFORMAT;
	}
	bytes = json_object_get(f, "bytes");
	if (!json_is_integer(bytes) || json_integer_value(bytes) < 0) {
		snprintf(err, errlen, "%s: bytes is not a non-negative integer",
			 where);
		return FL_EFORMAT;
	}
	out->bytes = json_integer_value(bytes);
	out->is_image = !strcmp(kind, "scene") || !strcmp(kind, "closeup") ||
			!strcmp(kind, "composite") || !strcmp(kind, "plate");
	if (!out->is_image)
		return 0;
	seq = json_object_get(f, "seq");
	if (!json_is_integer(seq) || json_integer_value(seq) < 1 ||
	    json_integer_value(seq) > 1000000) {
		snprintf(err, errlen, "%s: seq is not an integer >= 1", where);
		return FL_EFORMAT;
	}
	out->seq = (int)json_integer_value(seq);
	if (!(out->time_utc = need_str(f, "time_utc", where, err, errlen)) ||
	    !(out->code = need_str(f, "code", where, err, errlen)) ||
	    !(out->code_sig = need_str(f, "code_sig", where, err, errlen)))
		return FL_EFORMAT;
	seq = json_object_get(f, "banner_px"); /* optional */
	if (seq && (!json_is_integer(seq) || json_integer_value(seq) < 0 ||
		    json_integer_value(seq) > 65535)) {
		snprintf(err, errlen, "%s: banner_px is not a pixel count",
			 where);
		return FL_EFORMAT;
	}
	out->banner_px = seq ? (int)json_integer_value(seq) : 0;
	return 0;
}

int fl_manifest_parse(const void *data, size_t len, fl_manifest *m, char *err,
		      size_t errlen)
{
	json_error_t je;
	json_t *root, *files;
	size_t n;
	int rc = FL_EFORMAT;

	memset(m, 0, sizeof(*m));
	if (!data || len > MANIFEST_MAX) {
		snprintf(err, errlen, "manifest.json: empty or too large");
		return FL_EFORMAT;
	}
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err, errlen,
			 "manifest.json: malformed JSON: %s "
			 "(line %d, column %d)",
			 je.text, je.line, je.column);
		return FL_EFORMAT;
	}
	m->priv = root;
	if (!json_is_object(root)) {
		snprintf(err, errlen, "manifest.json: not a JSON object");
		goto fail;
	}
	m->format = get_str(root, "format");
	if (!m->format || strcmp(m->format, FL_EVIDENCE_FORMAT) != 0) {
		snprintf(err, errlen, "manifest.json: format is not \"%s\"",
			 FL_EVIDENCE_FORMAT);
		goto fail;
	}
	m->public_key = get_str(root, "public_key");
	if (!m->public_key || fl_key_public_from_b64(m->public_key, m->pk)) {
		snprintf(err, errlen,
			 "manifest.json: public_key is not a "
			 "base64 Ed25519 key");
		goto fail;
	}
	if (!(m->incident_id = need_str(root, "incident_id", "manifest.json",
					err, errlen)) ||
	    !(m->device = need_str(root, "device", "manifest.json", err,
				   errlen)) ||
	    !(m->site = need_str(root, "site", "manifest.json", err, errlen)) ||
	    !(m->camera = need_str(root, "camera", "manifest.json", err,
				   errlen)) ||
	    !(m->lane = need_str(root, "lane", "manifest.json", err, errlen)))
		goto fail;
	{
		/* optional: a device without a reader writes neither */
		json_t *pc = json_object_get(root, "plate_confidence");
		json_t *pt = json_object_get(root, "plate");

		if (pc || pt) {
			if (!json_is_number(pc) || json_number_value(pc) < 0 ||
			    json_number_value(pc) > 1 ||
			    !(json_is_null(pt) || json_is_string(pt))) {
				snprintf(err, errlen,
					 "manifest.json: plate is not a "
					 "string or null with a "
					 "plate_confidence in [0, 1]");
				goto fail;
			}
			m->has_plate = 1;
			m->plate = json_string_value(pt);
			m->plate_confidence = json_number_value(pc);
		}
	}
	{
		/* optional: bundles before the clock keys have none */
		json_t *sy = json_object_get(root, "clock_synced");
		json_t *tr = json_object_get(root, "clock_trusted");
		json_t *ee = json_object_get(root, "clock_esterror_s");
		json_t *me = json_object_get(root, "clock_maxerror_s");

		if (sy || tr || ee || me) {
			if (!json_is_boolean(sy) || !json_is_boolean(tr) ||
			    !(json_is_null(ee) || json_is_number(ee)) ||
			    !(json_is_null(me) || json_is_number(me))) {
				snprintf(err, errlen,
					 "manifest.json: clock_synced and "
					 "clock_trusted are not booleans with "
					 "clock_esterror_s and "
					 "clock_maxerror_s numbers or null");
				goto fail;
			}
			m->clock.known = 1;
			m->clock.synced = json_is_true(sy);
			m->clock.trusted = json_is_true(tr);
			m->clock.esterror_s = json_is_number(ee)
						      ? json_number_value(ee)
						      : NAN;
			m->clock.maxerror_s = json_is_number(me)
						      ? json_number_value(me)
						      : NAN;
		}
	}
	files = json_object_get(root, "files");
	if (!json_is_array(files)) {
		snprintf(err, errlen, "manifest.json: files is not an array");
		goto fail;
	}
	n = json_array_size(files);
	if (n > FILES_MAX) {
		snprintf(err, errlen, "manifest.json: more than %d files",
			 FILES_MAX);
		goto fail;
	}
	if (n) {
		m->files = calloc(n, sizeof(*m->files));
		if (!m->files) {
			snprintf(err, errlen, "out of memory");
			rc = FL_ENOMEM;
			goto fail;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (parse_file(json_array_get(files, i), i, &m->files[i], err,
			       errlen))
			goto fail;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(m->files[j].name, m->files[i].name)) {
				snprintf(err, errlen,
					 "manifest.json: %.255s "
					 "listed twice",
					 m->files[i].name);
				goto fail;
			}
	}
	m->nfiles = n;
	return 0;
fail:
	fl_manifest_free(m);
	return rc;
}

/* ---- the verifier ------------------------------------------------------------ */

static int read_part(const char *dir, const char *name, size_t max, char **buf,
		     size_t *len, char *err, size_t errlen)
{
	char path[FL__PATH_MAX], why[200];
	int rc;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", name);
		return FL_EINVAL;
	}
	rc = fl_file_read(path, max, buf, len, why, sizeof(why));
	if (rc == FL_ENOENT)
		snprintf(err, errlen, "%s: missing", name);
	else if (rc == FL_ERANGE)
		snprintf(err, errlen, "%s: %s", name, why);
	else if (rc)
		snprintf(err, errlen, "%s: %s", name, why);
	return rc == FL_ERANGE ? FL_EFORMAT : rc;
}

/* manifest.sig: exactly 88 base64 characters and a newline. */
static int decode_sig(const char *txt, size_t len, unsigned char sig[64])
{
	size_t n = 0;

	if (len != 89 || txt[88] != '\n')
		return FL_EFORMAT;
	if (sodium_base642bin(sig, 64, txt, 88, NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n != 64)
		return FL_EFORMAT;
	return 0;
}

static int check_files(const char *dir, const fl_manifest *m, char *err,
		       size_t errlen)
{
	for (size_t i = 0; i < m->nfiles; i++) {
		const fl_manifest_file *f = &m->files[i];
		char path[FL__PATH_MAX], hex[65], why[256];
		long long size = 0;
		int rc;

		if (snprintf(path, sizeof(path), "%s/%s", dir, f->name) >=
		    (int)sizeof(path)) {
			snprintf(err, errlen, "%s: path too long", f->name);
			return FL_EINVAL;
		}
		rc = fl_file_sha256(path, 0, hex, &size, why, sizeof(why));
		if (rc == FL_ENOENT) {
			snprintf(err, errlen, "%s: missing", f->name);
			return FL_ENOENT;
		}
		if (rc) {
			snprintf(err, errlen, "%s: unreadable (%s)", f->name,
				 why);
			return rc;
		}
		if (size != f->bytes) {
			snprintf(err, errlen,
				 "%s: size %lld, manifest says "
				 "%lld (sha256 mismatch)",
				 f->name, size, f->bytes);
			return FL_EFORMAT;
		}
		if (strcmp(hex, f->sha256) != 0) {
			snprintf(err, errlen, "%s: sha256 mismatch", f->name);
			return FL_EFORMAT;
		}
		if (!f->is_image)
			continue;
		rc = fl_evidence_code_check(m->pk, m->device, m->incident_id,
					    m->lane, f->seq, f->time_utc,
					    f->code, f->code_sig, why,
					    sizeof(why));
		if (rc) {
			snprintf(err, errlen, "%s: %s", f->name, why);
			return FL_EFORMAT;
		}
	}
	return 0;
}

static int check_extras(const char *dir, const fl_manifest *m, char *err,
			size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return FL_EIO;
	}
	while (rc == 0 && (e = readdir(d))) {
		int known = !strcmp(e->d_name, ".") ||
			    !strcmp(e->d_name, "..") ||
			    !strcmp(e->d_name, "manifest.json") ||
			    !strcmp(e->d_name, "manifest.sig") ||
			    !strcmp(e->d_name, FL_DELIVERED_MARKER);

		for (size_t i = 0; !known && i < m->nfiles; i++)
			known = !strcmp(e->d_name, m->files[i].name);
		if (!known) {
			snprintf(err, errlen, "%.255s: not in manifest",
				 e->d_name);
			rc = FL_EFORMAT;
		}
	}
	closedir(d);
	return rc;
}

int fl_bundle_verify_ex(const char *dir, const unsigned char *pinned_pk,
			fl_verify_info *info, char *err, size_t errlen)
{
	fl_manifest m;
	unsigned char sig[64];
	char *text = NULL, *sigtxt = NULL;
	size_t tlen = 0, slen = 0;
	int rc;

	memset(&m, 0, sizeof(m));
	if (info)
		memset(info, 0, sizeof(*info));
	if (!dir || !*dir) {
		snprintf(err, errlen, "no bundle directory");
		return FL_EINVAL;
	}
	if (fl__sodium_ready() != 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return FL_EIO;
	}
	rc = read_part(dir, "manifest.json", MANIFEST_MAX, &text, &tlen, err,
		       errlen);
	if (rc)
		goto out;
	rc = read_part(dir, "manifest.sig", SIG_MAX, &sigtxt, &slen, err,
		       errlen);
	if (rc)
		goto out;
	rc = fl_manifest_parse(text, tlen, &m, err, errlen);
	if (rc)
		goto out;
	if (pinned_pk && sodium_memcmp(pinned_pk, m.pk, 32) != 0) {
		snprintf(err, errlen,
			 "manifest.json: signed by another key "
			 "(%s, not the pinned one)",
			 m.public_key);
		rc = FL_EFORMAT;
		goto out;
	}
	if (decode_sig(sigtxt, slen, sig) != 0) {
		snprintf(err, errlen,
			 "manifest.sig: not a base64 Ed25519 "
			 "signature and a newline");
		rc = FL_EFORMAT;
		goto out;
	}
	if (crypto_sign_verify_detached(sig, (const unsigned char *)text, tlen,
					m.pk) != 0) {
		snprintf(err, errlen,
			 "manifest.sig: signature does not verify "
			 "(manifest.json or manifest.sig altered)");
		rc = FL_EFORMAT;
		goto out;
	}
	rc = check_files(dir, &m, err, errlen);
	if (rc)
		goto out;
	rc = check_extras(dir, &m, err, errlen);
	if (rc)
		goto out;
	if (info) {
		info->nfiles = m.nfiles;
		snprintf(info->public_key, sizeof(info->public_key), "%s",
			 m.public_key);
		snprintf(info->incident_id, sizeof(info->incident_id), "%s",
			 m.incident_id);
		info->clock = m.clock;
	}
out:
	fl_manifest_free(&m);
	free(text);
	free(sigtxt);
	return rc;
}

int fl_bundle_verify(const char *dir, const unsigned char *pinned_pk, char *err,
		     size_t errlen)
{
	return fl_bundle_verify_ex(dir, pinned_pk, NULL, err, errlen);
}

void fl_manifest_clock_text(const fl_manifest_clock *c, char *out, size_t len)
{
	if (!c->known)
		snprintf(out, len,
			 "device clock: not recorded (a bundle from before "
			 "clock records)");
	else if (!c->synced)
		snprintf(out, len,
			 "device clock: NOT synchronised (no NTP) while the "
			 "bundle was made: its times may be off");
	else if (!c->trusted)
		snprintf(out, len,
			 "device clock: synchronised, but its error may have "
			 "been up to %.3f s (over 1 s): its times may be off",
			 c->maxerror_s);
	else
		snprintf(out, len,
			 "device clock: synchronised, error at most %.3f s "
			 "(estimated %.3f s)",
			 c->maxerror_s, c->esterror_s);
}
