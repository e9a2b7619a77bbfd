/*
 * bundle.c - one incident's evidence bundle, from the first file to the seal.
 *
 * A note on the model. A bundle is a folder: the images (scene shots,
 * close-up, composite), the clip, and manifest.json listing every file with
 * its SHA-256, size and what it shows, signed by the device key into
 * manifest.sig. The signature covers the exact bytes of manifest.json, so the
 * manifest never has to be re-serialised the same way by anybody: verifiers
 * check the bytes first, then read them.
 *
 * The folder is built where nobody looks for evidence, dir/.partial/<id>/,
 * one atomically written file at a time, each hashed as it is written (or,
 * for the clip the media layer writes itself, fsynced and hashed when it is
 * handed over). Only the seal makes it evidence: it writes the manifest and
 * its signature and renames the folder to dir/<id>/ in one step. So a reader
 * of the store sees either no bundle or a complete, signed one; a crash, a
 * full disk or an abort (the object left before the alarm) leaves only
 * .partial litter, which the store clears when it opens.
 *
 * The seal also re-checks every image's anti-forgery code against the key it
 * signs with: an image whose printed code the verifier would reject is a bug
 * upstream, and it is better caught on the device than at a hearing.
 */
#include "bundle.h"

#include "clock.h"
#include "fl.h"
#include "id.h"
#include "file.h"
#include "internal.h"
#include "plate.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILE_MODE 0640

struct entry {
	char *name, *kind;
	char sha256[65];
	long long bytes;
	int is_image;
	int seq;
	double wall, video_t;
	char *time_utc, *time_local, *code, *code_sig, *overlay;
	int banner_px;
	int has_plate;
	double plate[4];
	int has_span;
	double t_from, t_to;
	const char *stream, *aligned; /* string constants, or NULL */
	double stream_t;
};

struct fl_bundle {
	fl_store *s;
	char partial[FL__PATH_MAX];
	char final[FL__PATH_MAX];
	fl_bundle_info info; /* strings owned (strdup'd) */
	struct entry *e;
	size_t ne, cap;
	char **notes;
	size_t nnotes;
	fl_clock_sync clk;  /* the worst the clock was while the bundle grew */
	int clk_n;          /* readings in clk */
	int has_plate;      /* fl_bundle_set_plate() */
	const char *record; /* fl_bundle_set_record(), or NULL */
	char plate[FL_PLATE_TEXT_MAX];
	double plate_conf;
};

static char *dup_or_null(const char *s, int *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = 1;
	return d;
}

static void free_info(fl_bundle_info *i)
{
	free((void *)i->incident_id);
	free((void *)i->device);
	free((void *)i->site);
	free((void *)i->camera);
	free((void *)i->lane);
	free((void *)i->site_name);
	free((void *)i->lane_name);
	free((void *)i->cls);
}

/*
 * Read the clock's discipline into b->clk, keeping the worst of all the
 * readings (an image taken while the clock was adrift taints the bundle):
 * taken at each file and at the seal (docs/clock.md).
 */
static void clock_sample(fl_bundle *b)
{
	fl_clock_sync now;

	fl_clock_sync_read(&now);
	if (b->clk_n++ == 0) {
		b->clk = now;
		return;
	}
	b->clk.known = b->clk.known && now.known;
	b->clk.synced = b->clk.synced && now.synced;
	b->clk.trusted = b->clk.trusted && now.trusted;
	b->clk.esterror_s = FL_MAX(b->clk.esterror_s, now.esterror_s);
	b->clk.maxerror_s = FL_MAX(b->clk.maxerror_s, now.maxerror_s);
}

static void free_entry(struct entry *e)
{
	free(e->name);
	free(e->kind);
	free(e->time_utc);
	free(e->time_local);
	free(e->code);
	free(e->code_sig);
	free(e->overlay);
}

static void bundle_free(fl_bundle *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->ne; i++)
		free_entry(&b->e[i]);
	free(b->e);
	for (size_t i = 0; i < b->nnotes; i++)
		free(b->notes[i]);
	free(b->notes);
	free_info(&b->info);
	free(b);
}

/* The site: free text (UTF-8, may be Chinese) that goes into the signed
 * image message: a plain name, not starting with '.'. */
static int site_ok(const char *s)
{
	return fl__plain_name(s) && s[0] != '.';
}

static int reserved(const char *name)
{
	return !strcmp(name, "manifest.json") ||
	       !strcmp(name, "manifest.sig") ||
	       !strcmp(name, FL_DELIVERED_MARKER);
}

static int is_image_kind(const char *kind)
{
	return kind && (!strcmp(kind, "scene") || !strcmp(kind, "closeup") ||
			!strcmp(kind, "plate") || !strcmp(kind, "composite"));
}

fl_bundle *fl_bundle_begin(fl_store *s, const fl_bundle_info *info, char *err,
			   size_t errlen)
{
	fl_bundle *b = NULL;

	fl_bundle_start(s, info, &b, err, errlen);
	return b;
}

int fl_bundle_start(fl_store *s, const fl_bundle_info *info, fl_bundle **out,
		    char *err, size_t errlen)
{
	fl_bundle *b = NULL;
	struct stat st;
	int oom = 0, rc;

	*out = NULL;
	if (!s || !info) {
		snprintf(err, errlen, "bundle: no store or info");
		return FL_EINVAL;
	}
	if (!fl_id_valid(info->incident_id, FL_INCIDENT_ID_MAX) ||
	    !fl_id_valid(info->device, FL_ID_MAX) || !site_ok(info->site) ||
	    !fl_id_valid(info->camera, FL_ID_MAX) ||
	    !fl_id_valid(info->lane, FL_ID_MAX)) {
		snprintf(err, errlen,
			 "bundle %s: incident_id, device, camera and lane "
			 "must be ids, site a plain name",
			 info->incident_id ? info->incident_id : "(null)");
		return FL_EINVAL;
	}
	if (fl__sodium_ready() != 0) {
		snprintf(err, errlen, "bundle: libsodium failed");
		return FL_EIO;
	}
	rc = fl__store_room(s, err, errlen);
	if (rc)
		return rc;
	b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return FL_ENOMEM;
	}
	b->s = s;
	b->info = *info;
	b->info.incident_id = dup_or_null(info->incident_id, &oom);
	b->info.device = dup_or_null(info->device, &oom);
	b->info.site = dup_or_null(info->site, &oom);
	b->info.camera = dup_or_null(info->camera, &oom);
	b->info.lane = dup_or_null(info->lane, &oom);
	b->info.site_name = dup_or_null(info->site_name, &oom);
	b->info.lane_name = dup_or_null(info->lane_name, &oom);
	b->info.cls = dup_or_null(info->cls ? info->cls : "unknown", &oom);
	rc = FL_EINVAL;
	if (oom) {
		snprintf(err, errlen, "out of memory");
		rc = FL_ENOMEM;
		goto fail;
	}
	if (snprintf(b->partial, sizeof(b->partial), "%s/.partial/%s",
		     fl_store_dir(s),
		     info->incident_id) >= (int)sizeof(b->partial) ||
	    snprintf(b->final, sizeof(b->final), "%s/%s", fl_store_dir(s),
		     info->incident_id) >= (int)sizeof(b->final)) {
		snprintf(err, errlen, "bundle %s: path too long",
			 info->incident_id);
		goto fail;
	}
	if (lstat(b->final, &st) == 0) {
		snprintf(err, errlen, "bundle %s: already sealed in %s",
			 info->incident_id, b->final);
		goto fail;
	}
	if (mkdir(b->partial, 0750) != 0) {
		if (errno == EEXIST)
			snprintf(err, errlen,
				 "bundle %s: already being written (%s)",
				 info->incident_id, b->partial);
		else
			rc = fl_file_errno(errno, "cannot create directory",
					   b->partial, err, errlen);
		goto fail;
	}
	*out = b;
	return 0;
fail:
	bundle_free(b);
	return rc;
}

int fl_bundle_path(const fl_bundle *b, const char *name, char *out,
		   size_t outlen)
{
	int n;

	if (!b || !out || !fl__plain_name(name) || reserved(name) ||
	    name[0] == '.')
		return FL_EINVAL;
	n = snprintf(out, outlen, "%s/%s", b->partial, name);
	return n < 0 || (size_t)n >= outlen ? FL_EINVAL : 0;
}

/* A new entry for name (checked: plain, not reserved, not a duplicate), or
 * NULL with err set. The entry is committed by the caller (b->ne++). */
static struct entry *new_entry(fl_bundle *b, const char *name, const char *kind,
			       char *err, size_t errlen)
{
	struct entry *e;

	if (!fl__plain_name(name) || reserved(name) || name[0] == '.') {
		snprintf(err, errlen, "%s: not allowed as a bundle file name",
			 name ? name : "(null)");
		return NULL;
	}
	for (size_t i = 0; i < b->ne; i++)
		if (!strcmp(b->e[i].name, name)) {
			snprintf(err, errlen, "%s: already in the bundle",
				 name);
			return NULL;
		}
	if (!kind || !*kind) {
		snprintf(err, errlen, "%s: no kind", name);
		return NULL;
	}
	if (b->ne == b->cap) {
		size_t ncap = b->cap ? 2 * b->cap : 8;
		struct entry *nv = realloc(b->e, ncap * sizeof(*nv));

		if (!nv) {
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		b->e = nv;
		b->cap = ncap;
	}
	e = &b->e[b->ne];
	memset(e, 0, sizeof(*e));
	e->name = strdup(name);
	e->kind = strdup(kind);
	if (!e->name || !e->kind) {
		free_entry(e);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return e;
}

int fl_bundle_add(fl_bundle *b, const char *name, const void *data, size_t len,
		  const fl_bundle_image *img, char *err, size_t errlen)
{
	char path[FL__PATH_MAX];
	struct entry *e;
	int oom = 0, rc;

	if (!b) {
		snprintf(err, errlen, "bundle: NULL");
		return FL_EINVAL;
	}
	if (img && (!is_image_kind(img->kind) || !img->time_utc || !img->code ||
		    !img->code_sig || img->seq < 1)) {
		snprintf(err, errlen,
			 "%s: an image needs kind scene, closeup, composite or "
			 "plate, "
			 "seq >= 1, time_utc, code and code_sig",
			 name ? name : "(null)");
		return FL_EINVAL;
	}
	clock_sample(b);
	e = new_entry(b, name, img ? img->kind : "file", err, errlen);
	if (!e)
		return FL_EINVAL;
	if (img) {
		e->is_image = 1;
		e->seq = img->seq;
		e->wall = img->wall;
		e->video_t = img->video_t;
		e->time_utc = dup_or_null(img->time_utc, &oom);
		e->time_local = dup_or_null(img->time_local, &oom);
		e->banner_px = img->banner_px;
		e->code = dup_or_null(img->code, &oom);
		e->code_sig = dup_or_null(img->code_sig, &oom);
		e->overlay = dup_or_null(img->overlay, &oom);
		e->stream = img->stream;
		e->stream_t = img->stream_t;
		e->aligned = img->aligned;
		if (img->plate) {
			e->has_plate = 1;
			memcpy(e->plate, img->plate, sizeof(e->plate));
		}
		if (oom) {
			snprintf(err, errlen, "out of memory");
			rc = FL_ENOMEM;
			goto fail;
		}
	}
	fl_bundle_path(b, name, path, sizeof(path));
	rc = fl_file_write(path, data, len, FILE_MODE, 0, err, errlen);
	if (rc)
		goto fail;
	fl_sha256_hex(data, len, e->sha256);
	e->bytes = (long long)len;
	b->ne++;
	return 0;
fail:
	free_entry(e);
	return rc;
}

int fl_bundle_add_existing(fl_bundle *b, const char *name, const char *kind,
			   double t_from, double t_to, char *err, size_t errlen)
{
	char path[FL__PATH_MAX];
	struct entry *e;
	int rc;

	if (!b) {
		snprintf(err, errlen, "bundle: NULL");
		return FL_EINVAL;
	}
	if (is_image_kind(kind)) {
		snprintf(err, errlen,
			 "%s: images go through fl_bundle_add "
			 "with their metadata",
			 name ? name : "(null)");
		return FL_EINVAL;
	}
	e = new_entry(b, name, kind, err, errlen);
	if (!e)
		return FL_EINVAL;
	fl_bundle_path(b, name, path, sizeof(path));
	rc = fl_file_sha256(path, 1, e->sha256, &e->bytes, err, errlen);
	if (rc == 0)
		rc = fl_fsync_dir(b->partial, err, errlen);
	if (rc) {
		free_entry(e);
		return rc;
	}
	e->has_span = 1;
	e->t_from = t_from;
	e->t_to = t_to;
	b->ne++;
	return 0;
}

void fl_bundle_set_plate(fl_bundle *b, const char *text, double conf)
{
	if (!b)
		return;
	b->has_plate = 1;
	snprintf(b->plate, sizeof(b->plate), "%s", text ? text : "");
	b->plate_conf = conf;
}

void fl_bundle_set_cleared(fl_bundle *b, double cleared_wall)
{
	if (b)
		b->info.cleared_wall = cleared_wall;
}

void fl_bundle_set_record(fl_bundle *b, const char *state)
{
	if (b)
		b->record = state;
}

void fl_bundle_note(fl_bundle *b, const char *note)
{
	char **nv, *d;

	if (!b || !note)
		return;
	d = strdup(note);
	nv = d ? realloc(b->notes, (b->nnotes + 1) * sizeof(*nv)) : NULL;
	if (!nv) {
		free(d);
		fl_log(FL_LOG_ERROR, FL__TAG,
		       "bundle %s: note lost (no memory)", b->info.incident_id);
		return;
	}
	b->notes = nv;
	b->notes[b->nnotes++] = d;
}

void fl_bundle_abort(fl_bundle *b)
{
	if (!b)
		return;
	if (fl__rm_rf(b->partial) != 0)
		fl_log(FL_LOG_WARN, FL__TAG,
		       "%s: not fully removed (cleared at next open)",
		       b->partial);
	bundle_free(b);
}

/* ---- the manifest ---------------------------------------------------------- */

/*
 * A JSON string for val. Text that is not UTF-8 (a display name or overlay
 * from a misconfigured device) must not cost the evidence its seal: such
 * text is kept with every byte >= 0x80 replaced by '?', and a warning.
 */
static json_t *text_json(const char *val)
{
	json_t *v = json_string(val);
	char *copy;

	if (v)
		return v;
	copy = strdup(val);
	if (!copy)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	fl_log(FL_LOG_WARN, FL__TAG, "text is not UTF-8, kept as \"%s\"", copy);
	v = json_string(copy);
	free(copy);
	return v;
}

/* Set key to a string (NULL -> JSON null). */
static void put_str(json_t *o, const char *key, const char *val, int *bad)
{
	json_t *v = val ? text_json(val) : json_null();

	if (!v || json_object_set_new(o, key, v) != 0)
		*bad = 1;
}

/* Set key to a number; NaN and infinities (which JSON cannot hold) -> null. */
static void put_num(json_t *o, const char *key, double val, int *bad)
{
	json_t *v = isfinite(val) ? json_real(val) : json_null();

	if (!v || json_object_set_new(o, key, v) != 0)
		*bad = 1;
}

static void put_bool(json_t *o, const char *key, int val, int *bad)
{
	if (json_object_set_new(o, key, json_boolean(val)) != 0)
		*bad = 1;
}

static void put_box(json_t *o, const char *key, const double *box, int *bad)
{
	json_t *a = json_array();

	for (int i = 0; a && i < 4; i++)
		if (json_array_append_new(a, isfinite(box[i]) ? json_real(box[i])
							      : json_null()))
			*bad = 1;
	if (!a || json_object_set_new(o, key, a) != 0)
		*bad = 1;
}

static json_t *file_json(const struct entry *e, int *bad)
{
	json_t *f = json_object();

	if (!f) {
		*bad = 1;
		return NULL;
	}
	put_str(f, "name", e->name, bad);
	put_str(f, "kind", e->kind, bad);
	put_str(f, "sha256", e->sha256, bad);
	if (json_object_set_new(f, "bytes", json_integer(e->bytes)))
		*bad = 1;
	if (e->is_image) {
		if (json_object_set_new(f, "seq", json_integer(e->seq)))
			*bad = 1;
		put_num(f, "wall", e->wall, bad);
		put_num(f, "video_t", e->video_t, bad);
		put_str(f, "time_utc", e->time_utc, bad);
		if (e->time_local)
			put_str(f, "time_local", e->time_local, bad);
		if (json_object_set_new(f, "banner_px",
					json_integer(e->banner_px)))
			*bad = 1;
		put_str(f, "code", e->code, bad);
		put_str(f, "code_sig", e->code_sig, bad);
		put_str(f, "overlay", e->overlay, bad);
		if (e->has_plate)
			put_box(f, "plate", e->plate, bad);
		if (e->stream) {
			put_str(f, "stream", e->stream, bad);
			put_num(f, "stream_t", e->stream_t, bad);
			put_str(f, "aligned", e->aligned, bad);
		}
	}
	if (e->has_span) {
		put_num(f, "t_from", e->t_from, bad);
		put_num(f, "t_to", e->t_to, bad);
	}
	return f;
}

/* The manifest text (malloc'd, ends in "\n") or NULL with err set. */
static char *manifest_text(const fl_bundle *b, const fl_key *k, char *err,
			   size_t errlen)
{
	const fl_bundle_info *i = &b->info;
	char pk[FL_KEY_B64_LEN], *text = NULL, *out = NULL;
	json_t *root = json_object(), *files = json_array(),
	       *notes = json_array();
	int bad = !root || !files || !notes;
	size_t n;

	fl_key_public_b64(k, pk, sizeof(pk));
	if (!bad) {
		put_str(root, "format", FL_EVIDENCE_FORMAT, &bad);
		put_str(root, "public_key", pk, &bad);
		put_str(root, "incident_id", i->incident_id, &bad);
		put_str(root, "device", i->device, &bad);
		put_str(root, "site", i->site, &bad);
		put_str(root, "camera", i->camera, &bad);
		put_str(root, "lane", i->lane, &bad);
		put_str(root, "site_name", i->site_name, &bad);
		put_str(root, "lane_name", i->lane_name, &bad);
		put_str(root, "class", i->cls, &bad);
		put_box(root, "bbox", i->bbox, &bad);
		put_num(root, "dwell_s", i->dwell_s, &bad);
		put_num(root, "rest_since_wall", i->rest_since_wall, &bad);
		put_num(root, "alarm_wall", i->alarm_wall, &bad);
		put_num(root, "cleared_wall",
			i->cleared_wall < 0 ? NAN : i->cleared_wall, &bad);
		put_num(root, "sealed_wall", (double)time(NULL), &bad);
		/* the clock, as the kernel saw it (docs/clock.md) */
		put_bool(root, "clock_synced", b->clk.synced, &bad);
		put_num(root, "clock_esterror_s",
			b->clk.known ? b->clk.esterror_s : NAN, &bad);
		put_num(root, "clock_maxerror_s",
			b->clk.known ? b->clk.maxerror_s : NAN, &bad);
		put_bool(root, "clock_trusted", b->clk.trusted, &bad);
		if (b->has_plate) {
			put_str(root, "plate", b->plate[0] ? b->plate : NULL,
				&bad);
			put_num(root, "plate_confidence", b->plate_conf, &bad);
		}
		if (b->record)
			put_str(root, "record", b->record, &bad);
	}
	for (size_t j = 0; !bad && j < b->ne; j++) {
		json_t *f = file_json(&b->e[j], &bad);

		if (!f || json_array_append_new(files, f))
			bad = 1;
	}
	for (size_t j = 0; !bad && j < b->nnotes; j++) {
		json_t *s = text_json(b->notes[j]);

		if (!s || json_array_append_new(notes, s))
			bad = 1;
	}
	if (!bad) {
		bad = json_object_set(root, "files", files) ||
		      json_object_set(root, "notes", notes);
	}
	if (bad) {
		snprintf(err, errlen,
			 "bundle %s: cannot build manifest (no "
			 "memory)",
			 i->incident_id);
		goto out;
	}
	/* 16 significant digits keep microseconds of a unix time. */
	text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(16));
	if (!text) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	n = strlen(text);
	out = malloc(n + 2);
	if (!out) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	memcpy(out, text, n);
	out[n] = '\n';
	out[n + 1] = '\0';
out:
	free(text);
	json_decref(files);
	json_decref(notes);
	json_decref(root);
	return out;
}

/* Files in the partial folder that were never added (a clip written through
 * fl_bundle_path and forgotten) would fail verification: refuse now. */
static int check_strays(const fl_bundle *b, char *err, size_t errlen)
{
	DIR *d = opendir(b->partial);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return fl_file_errno(errno, "cannot list", b->partial, err,
				     errlen);
	while (rc == 0 && (de = readdir(d))) {
		int known = !strcmp(de->d_name, ".") ||
			    !strcmp(de->d_name, "..") || reserved(de->d_name);

		for (size_t i = 0; !known && i < b->ne; i++)
			known = !strcmp(b->e[i].name, de->d_name);
		if (!known) {
			snprintf(err, errlen,
				 "%s: in the bundle folder but never added",
				 de->d_name);
			rc = FL_EINVAL;
		}
	}
	closedir(d);
	return rc;
}

int fl_bundle_seal(fl_bundle *b, const fl_key *k, char *out_dir, size_t outlen,
		   char *err, size_t errlen)
{
	char path[FL__PATH_MAX + 32], why[256], sig_b64[FL_SIG_B64_LEN + 1];
	unsigned char sig[64];
	char *text = NULL;
	struct stat st;
	size_t n;
	int rc;

	if (!b || !k) {
		snprintf(err, errlen, "seal: no bundle or key");
		return FL_EINVAL;
	}
	for (size_t i = 0; i < b->ne; i++) {
		const struct entry *e = &b->e[i];

		if (!e->is_image)
			continue;
		rc = fl_evidence_code_check(k->pk, b->info.device,
					    b->info.incident_id, b->info.lane,
					    e->seq, e->time_utc, e->code,
					    e->code_sig, why, sizeof(why));
		if (rc) {
			snprintf(err, errlen,
				 "%s: %s (not this key's code "
				 "for this image)",
				 e->name, why);
			return FL_EINVAL;
		}
	}
	rc = check_strays(b, err, errlen);
	if (rc)
		return rc;
	clock_sample(b);
	if (!b->clk.synced)
		fl_bundle_note(b,
			       "clock: the device clock was not synchronised "
			       "(NTP): the times in this bundle may be off");
	else if (!b->clk.trusted)
		fl_bundle_note(b, "clock: the device clock's error was over "
				  "1 s: the times in this bundle may be off");
	text = manifest_text(b, k, err, errlen);
	if (!text)
		return FL_ENOMEM;
	n = strlen(text);
	crypto_sign_detached(sig, NULL, (const unsigned char *)text, n, k->sk);
	sodium_bin2base64(sig_b64, FL_SIG_B64_LEN, sig, sizeof(sig),
			  sodium_base64_VARIANT_ORIGINAL);
	strcat(sig_b64, "\n");

	snprintf(path, sizeof(path), "%s/manifest.json", b->partial);
	rc = fl_file_write(path, text, n, FILE_MODE, 0, err, errlen);
	if (rc)
		goto out;
	snprintf(path, sizeof(path), "%s/manifest.sig", b->partial);
	rc = fl_file_write(path, sig_b64, strlen(sig_b64), FILE_MODE, 0, err,
			   errlen);
	if (rc)
		goto out;
	/* rename(2) would quietly replace an empty folder: look first. One
	 * writer per incident id, so the window is only against ourselves. */
	if (lstat(b->final, &st) == 0) {
		snprintf(err, errlen, "%s: already exists", b->final);
		rc = FL_EINVAL;
		goto out;
	}
	if (rename(b->partial, b->final) != 0) {
		rc = fl_file_errno(errno, "cannot move bundle to", b->final,
				   err, errlen);
		goto out;
	}
	rc = fl_fsync_dir(fl_store_dir(b->s), err, errlen);
	if (rc) /* visible now; say so, the caller cannot abort it any more */
		fl_log(FL_LOG_WARN, FL__TAG, "%s sealed but %s", b->final, err);
	rc = 0;
	fl_log(FL_LOG_INFO, FL__TAG, "sealed %s (%zu files)", b->final, b->ne);
	if (out_dir && outlen)
		snprintf(out_dir, outlen, "%s", b->final);
	bundle_free(b);
out:
	free(text);
	return rc;
}
