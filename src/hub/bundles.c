/*
 * bundles.c - evidence chunks in, verified bundles out.
 *
 * A note on the model. The edge sends every file of a sealed bundle as
 * 64 KiB chunks through its spool, then the "evidence" incident message
 * with the list of files and their SHA-256 (docs/mqtt.md). Delivery is at
 * least once and in order per device, but a restart of either side can
 * repeat any part, so every step here is idempotent and keyed by names:
 *
 *   chunk (incident, file, index)  -> .incoming/<iid>/<file>.<index>
 *   all chunks of a file present    -> assembled, SHA-256 checked against
 *                                      file_sha256, renamed into <iid>/<file>
 *   list + every listed file there  -> fl_bundle_verify_ex() with the key
 *                                      enrolled for the device pinned, and the
 *                                      manifest's incident id must be this
 *                                      incident's (no replay of a genuine
 *                                      bundle under another id); rows in the
 *                                      store, .incoming/<iid> removed
 *
 * A chunk whose bytes do not match its chunk_sha256, or a file that does
 * not match its file_sha256, is refused (the caller quarantines it) and
 * what was received of that file is dropped, so a good copy sent again
 * starts clean. Names were checked by msg.c (a plain [A-Za-z0-9_.-] name
 * not starting with '.'): nothing here can leave evidence_dir.
 *
 * Trust: the chunk hashes only protect against damage in transit; the
 * bundle is trusted once the manifest's signature verifies with the key the
 * administrator enrolled (not the key the manifest names: a device
 * re-keyed or an impostor fails here).
 *
 * A note on sealing. Once the store holds a bundle as verified, its files
 * are the evidence a fine rests on, and nothing that arrives later may
 * change them (docs/security.md, "2. Verified evidence is immutable"). So
 * before anything is written, a chunk or list for a verified bundle is
 * compared with what was verified:
 *
 *   a chunk whose bytes are exactly those of the recorded file at its
 *   offset, or a list naming exactly the recorded files with their
 *   SHA-256 and sizes, is a repeat (the edge sends again until a receipt
 *   reaches it): nothing is written, and a list gets its receipt again;
 *
 *   anything else - new content for a file name, a file the bundle does
 *   not have, a list with a file more, less or different - is refused
 *   (FL_EEXIST: the caller quarantines it) with an audit row naming the
 *   device, the incident and what was attempted, and nothing on disk or
 *   in the store changes.
 *
 * The store enforces the same (fl_db_evidence_add, _set_verified refuse
 * to replace a verified bundle's rows or lower its verdict); this file
 * refuses first because it is the one that writes the files. A bundle that
 * failed verification is not sealed: a genuine copy sent later may
 * replace its files and verify. Files are written read-only (0444) and
 * never opened for writing again; whether they still hold what was
 * verified is intact.c's question.
 */
#include "bundles.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "file.h"
#include "fl.h"
#include "hubconf.h"
#include "manifest.h"
#include "stills.h"

#define FILE_MODE 0444 /* a received file is never written again */

/* 1 when dir/name exists with this hash. */
static int have_file(const char *dir, const char *name, const char *sha,
		     long long bytes)
{
	char path[HUB_PATHLEN], hex[65];
	long long got;
	struct stat sb;

	hub_fmt(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &sb) || (bytes >= 0 && sb.st_size != bytes))
		return 0;
	return fl_file_sha256(path, 0, hex, &got, NULL, 0) == FL_OK &&
	       !strcmp(hex, sha);
}

static void drop_chunks(const char *in, const char *file, long count)
{
	char path[HUB_PATHLEN];

	for (long i = 0; i < count; i++) {
		hub_fmt(path, sizeof(path), "%s/%s.%ld", in, file, i);
		unlink(path);
	}
}

static void rm_tree_flat(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[HUB_PATHLEN];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		hub_fmt(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* Concatenate the chunks into in/<file>.assembling, check, move into out.
 * Streamed chunk by chunk (a clip may be large), so not fl_file_write,
 * which takes one buffer; the same steps: fsync, rename, folder fsync.
 * A disk that fails or fills up is FL_EIO / FL_EFULL (the chunks stay: the
 * message is offered again and assembles them then). */
static int assemble(const char *in, const char *out, const hub_chunk *c,
		    char *err, size_t errlen)
{
	char src[HUB_PATHLEN], tmp[HUB_PATHLEN], dst[HUB_PATHLEN], hex[65];
	unsigned char *buf = NULL;
	FILE *w = NULL;
	long long bytes;
	int rc = FL_EIO, fd;

	buf = malloc(HUB_CHUNK);
	if (!buf)
		return FL_ENOMEM;
	err[0] = 0;
	hub_fmt(tmp, sizeof(tmp), "%s/%s.assembling", in, c->file);
	hub_fmt(dst, sizeof(dst), "%s/%s", out, c->file);
	unlink(tmp); /* what a crash left: read-only, so not opened again */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  FILE_MODE);
	if (fd < 0) {
		rc = fl_file_errno(errno, "cannot create", tmp, err, errlen);
		goto out;
	}
	/* exactly 0444 whatever the umask; writing through this descriptor
	 * is allowed, it was opened before the mode applied */
	w = fchmod(fd, FILE_MODE) ? NULL : fdopen(fd, "wb");
	if (!w) {
		rc = fl_file_errno(errno, "cannot create", tmp, err, errlen);
		close(fd);
		goto out;
	}
	for (long i = 0; i < c->count; i++) {
		FILE *r;
		size_t n;

		hub_fmt(src, sizeof(src), "%s/%s.%ld", in, c->file, i);
		r = fopen(src, "rb");
		if (!r) {
			/* gone since the count (swept): not the disk's fault */
			rc = errno == ENOENT ? FL_ENOENT : FL_EIO;
			hub_fmt(err, errlen, "%s: cannot assemble: %s: %s",
				c->file, src, strerror(errno));
			goto out;
		}
		n = fread(buf, 1, HUB_CHUNK, r);
		fclose(r);
		if (fwrite(buf, 1, n, w) != n) {
			rc = fl_file_errno(errno, "cannot write", tmp, err,
					   errlen);
			goto out;
		}
	}
	if (fflush(w) || fsync(fileno(w))) {
		rc = fl_file_errno(errno, "cannot write", tmp, err, errlen);
		goto out;
	}
	fclose(w);
	w = NULL;
	if (fl_file_sha256(tmp, 0, hex, &bytes, err, errlen))
		goto out;
	if (strcmp(hex, c->file_sha256) || bytes != c->size) {
		hub_fmt(err, errlen,
			"%s: assembled file does not match file_sha256",
			c->file);
		drop_chunks(in, c->file, c->count);
		rc = FL_EFORMAT;
		goto out;
	}
	if ((rc = fl_mkdir_p(out, 0755, err, errlen)))
		goto out;
	if (rename(tmp, dst)) {
		rc = fl_file_errno(errno, "cannot rename into", dst, err,
				   errlen);
		goto out;
	}
	fl_fsync_dir(out, NULL, 0);
	drop_chunks(in, c->file, c->count);
	rc = FL_OK;
out:
	if (w)
		fclose(w);
	if (rc)
		unlink(tmp);
	free(buf);
	if (rc == FL_EIO && !err[0])
		hub_fmt(err, errlen, "%s: cannot assemble: %s", c->file,
			strerror(errno));
	return rc;
}

static int try_complete(const char *dir, fl_db *db, const char *iid,
			const unsigned char pk[32], hub_bundle_done *done,
			char *err, size_t errlen);

/* ---- sealed bundles --------------------------------------------------------- */

/* 1 when the incident's bundle verified (sealed), 0 when not (or the store
 * does not know the incident yet: chunks may come before its messages), a
 * negative error when the store cannot say. */
static int sealed(fl_db *db, const char *iid, char *err, size_t errlen)
{
	int v = -1, rc = fl_db_evidence_verdict(db, iid, &v);

	if (rc == FL_ENOENT)
		return 0;
	if (rc) {
		hub_fmt(err, errlen, "store: verdict of %s: %s", iid,
			fl_strerror(rc));
		return rc;
	}
	return v == 1;
}

/* An attempt on a sealed bundle: the audit row (device, incident, what),
 * the log line and the reason for the quarantine. FL_EEXIST. */
static int refuse(fl_db *db, const char *device, const char *iid,
		  const char *what, double now, char *err, size_t errlen)
{
	char detail[768];

	hub_fmt(detail, sizeof(detail),
		"device %s sent %s: refused, the bundle verified and its "
		"files never change",
		device, what);
	if (fl_db_audit(db, "hub", "evidence_refused", iid, detail, now))
		fl_log(FL_LOG_ERROR, "evidence",
		       "%s: the refusal could not be audited", iid);
	fl_log(FL_LOG_WARN, "evidence", "%s: %s", iid, detail);
	hub_fmt(err, errlen,
		"%s: the bundle of %s verified; its files never "
		"change",
		what, iid);
	return FL_EEXIST;
}

/* 1 when chunk c repeats the sealed bundle's file byte for byte: the file
 * recorded with c's file_sha256 and size, and c's bytes those at its
 * offset in the file on disk. */
static int chunk_repeats(const char *out, fl_db *db, const hub_chunk *c)
{
	char path[HUB_PATHLEN];
	unsigned char *buf;
	fl_db_evfile f;
	ssize_t n = -1;
	int fd, same;

	if (fl_db_evidence_file(db, c->incident_id, c->file, &f) ||
	    strcmp(f.sha256, c->file_sha256) || f.bytes != c->size)
		return 0;
	hub_fmt(path, sizeof(path), "%s/%s", out, c->file);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	buf = malloc(c->len ? c->len : 1);
	if (fd >= 0 && buf)
		n = pread(fd, buf, c->len, (off_t)c->offset);
	same = n == (ssize_t)c->len && !memcmp(buf, c->data, c->len);
	if (fd >= 0)
		close(fd);
	free(buf);
	return same;
}

/* o's member k as a string, "" when absent or not one. */
static const char *text_at(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

/* Whether files is exactly the sealed bundle's recorded list (each name
 * once with its SHA-256 and size, nothing more): 1 with the manifest's
 * SHA-256 into manifest_sha (the receipt's), 0 with what differs in why,
 * or a negative error when the store cannot say. */
static int list_repeats(fl_db *db, const char *iid, const hub_file *files,
			size_t nfiles, char manifest_sha[65], char *why,
			size_t whylen)
{
	char *text = fl_db_incident_json(db, iid);
	json_t *inc = text ? json_loads(text, 0, NULL) : NULL;
	json_t *rows = json_object_get(inc, "evidence");
	size_t i, k;
	int same = 1;

	free(text);
	if (!json_is_array(rows)) {
		json_decref(inc);
		hub_fmt(why, whylen, "store: %s cannot be read", iid);
		return FL_EIO;
	}
	manifest_sha[0] = 0;
	for (i = 0; i < nfiles && same; i++) {
		json_t *row = NULL;

		json_array_foreach(rows, k, row)
		{
			if (!strcmp(text_at(row, "name"), files[i].name))
				break;
		}
		if (k == json_array_size(rows)) {
			hub_fmt(why, whylen,
				"%s, which the bundle does not "
				"have",
				files[i].name);
			same = 0;
		} else if (strcmp(text_at(row, "sha256"), files[i].sha256) ||
			   json_integer_value(json_object_get(row, "bytes")) !=
				   files[i].bytes) {
			hub_fmt(why, whylen, "%s with another SHA-256 or size",
				files[i].name);
			same = 0;
		} else if (!strcmp(files[i].name, "manifest.json")) {
			snprintf(manifest_sha, 65, "%s", files[i].sha256);
		}
	}
	if (same && nfiles != json_array_size(rows)) {
		hub_fmt(why, whylen, "%zu of the bundle's %zu files", nfiles,
			json_array_size(rows));
		same = 0;
	}
	json_decref(inc);
	return same;
}

int hub_evidence_chunk(const char *dir, fl_db *db, hub_incoming *q,
		       const char *device, const hub_chunk *c,
		       const unsigned char pk[32], double now,
		       hub_bundle_done *done, char *err, size_t errlen)
{
	char in[HUB_PATHLEN], out[HUB_PATHLEN], hex[65], path[HUB_PATHLEN];
	char what[256];
	long long before = 0;
	struct stat sb;
	long i;
	int rc;

	err[0] = 0;
	memset(done, 0, sizeof(*done));
	fl_sha256_hex(c->data, c->len, hex);
	if (strcmp(hex, c->chunk_sha256)) {
		hub_fmt(err, errlen, "%s chunk %ld: chunk_sha256 mismatch",
			c->file, c->index);
		return FL_EFORMAT;
	}
	hub_fmt(in, sizeof(in), "%s/.incoming/%s", dir, c->incident_id);
	hub_fmt(out, sizeof(out), "%s/%s", dir, c->incident_id);
	if ((rc = sealed(db, c->incident_id, err, errlen)) < 0)
		return rc;
	if (rc) {
		if (chunk_repeats(out, db, c))
			return FL_OK;
		hub_fmt(what, sizeof(what),
			"chunk %ld of %s (file_sha256 %.16s...)", c->index,
			c->file, c->file_sha256);
		return refuse(db, device, c->incident_id, what, now, err,
			      errlen);
	}
	if (have_file(out, c->file, c->file_sha256, c->size))
		return FL_OK; /* a repeat of a file already complete */
	hub_fmt(path, sizeof(path), "%s/%s.%ld", in, c->file, c->index);
	if (stat(path, &sb) == 0) /* a repeat replaces what it counted */
		before = (long long)sb.st_size;
	if (q &&
	    (rc = hub_incoming_check(q, device, c->incident_id,
				     (long long)c->len - before, err, errlen)))
		return rc;
	if ((rc = fl_mkdir_p(in, 0755, err, errlen)))
		return rc;
	if ((rc = fl_file_write(path, c->data, c->len, 0644, 0, err, errlen)))
		return rc;
	if (q)
		hub_incoming_add(q, device, c->incident_id,
				 (long long)c->len - before);
	for (i = 0; i < c->count; i++) {
		hub_fmt(path, sizeof(path), "%s/%s.%ld", in, c->file, i);
		if (stat(path, &sb))
			return FL_OK; /* more to come */
	}
	if ((rc = assemble(in, out, c, err, errlen)))
		return rc;
	if (q) /* its chunks are gone from .incoming */
		hub_incoming_add(q, device, c->incident_id, -c->size);
	fl_log(FL_LOG_INFO, "evidence", "%s: %s complete (%lld bytes)",
	       c->incident_id, c->file, c->size);
	return try_complete(dir, db, c->incident_id, pk, done, err, errlen);
}

int hub_evidence_list_check(fl_db *db, const char *device,
			    const char *incident_id, const hub_file *files,
			    size_t nfiles, double now, hub_bundle_done *done,
			    char *err, size_t errlen)
{
	char why[384], what[512], sha[65];
	int rc;

	err[0] = 0;
	memset(done, 0, sizeof(*done));
	if ((rc = sealed(db, incident_id, err, errlen)) <= 0)
		return rc;
	rc = list_repeats(db, incident_id, files, nfiles, sha, why,
			  sizeof(why));
	if (rc < 0) {
		hub_fmt(err, errlen, "%s", why);
		return rc;
	}
	if (!rc) {
		hub_fmt(what, sizeof(what),
			"an evidence list of %zu files (%s)", nfiles, why);
		return refuse(db, device, incident_id, what, now, err, errlen);
	}
	done->complete = 1; /* as verified before: its receipt again */
	done->verified = 1;
	memcpy(done->manifest_sha256, sha, sizeof(sha));
	return 1;
}

static const char *kind_of(const fl_manifest *m, const char *name)
{
	for (size_t i = 0; m && i < m->nfiles; i++)
		if (!strcmp(m->files[i].name, name))
			return m->files[i].kind;
	if (!strcmp(name, "manifest.json"))
		return "manifest";
	if (!strcmp(name, "manifest.sig"))
		return "signature";
	return "file";
}

/* Whether another completer (a hub on the same store and folder, or
 * another worker) sealed the bundle between our check and our rows, with
 * the very list we hold: then ours is a repeat and *done says so, as for a
 * list sent again. 1 the same, 0 another list (the caller refuses it), a
 * negative error when the store cannot say. */
static int completed_meanwhile(fl_db *db, const char *iid, json_t *list,
			       hub_bundle_done *done)
{
	size_t i, n = json_array_size(list);
	hub_file *files = calloc(n ? n : 1, sizeof(*files));
	char sha[65], why[384];
	int rc;

	if (!files)
		return FL_ENOMEM;
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(list, i);
		const char *nm = json_string_value(json_object_get(e, "name"));
		const char *h = json_string_value(json_object_get(e, "sha256"));

		snprintf(files[i].name, sizeof(files[i].name), "%s",
			 nm ? nm : "");
		snprintf(files[i].sha256, sizeof(files[i].sha256), "%s",
			 h ? h : "");
		files[i].bytes = json_integer_value(json_object_get(e, "bytes"));
	}
	rc = list_repeats(db, iid, files, n, sha, why, sizeof(why));
	free(files);
	if (rc == 1) {
		done->complete = 1;
		done->verified = 1;
		memcpy(done->manifest_sha256, sha, sizeof(sha));
	}
	return rc;
}

/* Complete the bundle when the list and every file in it are there. Two
 * hubs sharing the store and the folder may both find it complete at once
 * (one took the last chunk, the other the list): the store takes the first
 * one's rows and verdict, and the second, refused its rows (FL_EEXIST),
 * finds the same list recorded and answers as for a repeat. */
static int try_complete(const char *dir, fl_db *db, const char *iid,
			const unsigned char pk[32], hub_bundle_done *done,
			char *err, size_t errlen)
{
	char in[HUB_PATHLEN], out[HUB_PATHLEN], path[HUB_PATHLEN], report[512];
	json_t *list = NULL;
	fl_manifest man;
	fl_verify_info info;
	char *mbuf = NULL;
	size_t mlen = 0;
	int verified, rc = FL_OK;
	size_t i;

	memset(&man, 0, sizeof(man));
	memset(done, 0, sizeof(*done));
	hub_fmt(in, sizeof(in), "%s/.incoming/%s", dir, iid);
	hub_fmt(out, sizeof(out), "%s/%s", dir, iid);
	hub_fmt(path, sizeof(path), "%s/list.json", in);
	list = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_array(list))
		goto out; /* no list yet: the evidence message comes later */
	for (i = 0; i < json_array_size(list); i++) {
		json_t *e = json_array_get(list, i);
		if (!have_file(out,
			       json_string_value(json_object_get(e, "name")),
			       json_string_value(json_object_get(e, "sha256")),
			       json_integer_value(json_object_get(e, "bytes"))))
			goto out; /* still waiting for a file */
	}
	report[0] = 0;
	verified = fl_bundle_verify_ex(out, pk, &info, report,
				       sizeof(report)) == FL_OK;
	if (verified && strcmp(info.incident_id, iid)) {
		/* a genuine bundle replayed under another incident */
		verified = 0;
		hub_fmt(report, sizeof(report),
			"manifest.json: made for incident %s, not this one",
			info.incident_id);
	} else if (verified) {
		hub_fmt(report, sizeof(report),
			"signature verified with the enrolled key; %zu files "
			"match their SHA-256",
			json_array_size(list));
	}
	/* the manifest's kinds for the store (best effort) */
	hub_fmt(path, sizeof(path), "%s/manifest.json", out);
	if (fl_file_read(path, 1 << 20, &mbuf, &mlen, NULL, 0) == 0 &&
	    fl_manifest_parse(mbuf, mlen, &man, err, errlen))
		fl_manifest_free(&man);
	err[0] = 0;
	for (i = 0; i < json_array_size(list); i++) {
		json_t *e = json_array_get(list, i);
		const char *nm = json_string_value(json_object_get(e, "name"));

		rc = fl_db_evidence_add(
			db, iid, nm,
			json_string_value(json_object_get(e, "sha256")),
			json_integer_value(json_object_get(e, "bytes")),
			kind_of(man.nfiles ? &man : NULL, nm), verified);
		if (rc == FL_EEXIST) {
			int same = completed_meanwhile(db, iid, list, done);

			if (same == 1) {
				fl_log(FL_LOG_INFO, "evidence",
				       "%s: bundle verified meanwhile by "
				       "another hub",
				       iid);
				rm_tree_flat(in);
				rc = FL_OK;
				goto out;
			}
			if (same < 0)
				rc = same;
		}
		if (rc) {
			hub_fmt(err, errlen, "store: evidence %s: %s", nm,
				fl_strerror(rc));
			goto out;
		}
	}
	rc = fl_db_evidence_set_verified(db, iid, verified, report);
	if (rc) {
		hub_fmt(err, errlen, "store: verified: %s", fl_strerror(rc));
		goto out;
	}
	fl_log(verified ? FL_LOG_INFO : FL_LOG_WARN, "evidence",
	       "%s: bundle %s: %s", iid, verified ? "verified" : "FAILED",
	       report);
	done->complete = 1;
	done->verified = verified;
	for (i = 0; i < json_array_size(list); i++) {
		json_t *e = json_array_get(list, i);
		const char *nm = json_string_value(json_object_get(e, "name"));
		const char *sha = json_string_value(
			json_object_get(e, "sha256"));

		if (nm && sha && !strcmp(nm, "manifest.json"))
			snprintf(done->manifest_sha256,
				 sizeof(done->manifest_sha256), "%s", sha);
	}
	rm_tree_flat(in);
out:
	fl_manifest_free(&man);
	free(mbuf);
	json_decref(list);
	return rc;
}

int hub_evidence_list(const char *dir, fl_db *db, const char *device,
		      const char *incident_id, const hub_file *files,
		      size_t nfiles, const unsigned char pk[32], double now,
		      hub_bundle_done *done, char *err, size_t errlen)
{
	char in[HUB_PATHLEN], path[HUB_PATHLEN];
	json_t *list = NULL;
	char *text = NULL;
	int rc;

	rc = hub_evidence_list_check(db, device, incident_id, files, nfiles,
				     now, done, err, errlen);
	if (rc)
		return rc > 0 ? FL_OK : rc; /* a repeat, or refused */
	rc = FL_ENOMEM;
	list = json_array();
	if (!list)
		goto out;
	for (size_t i = 0; i < nfiles; i++)
		if (json_array_append_new(list,
					  json_pack("{s:s,s:s,s:I}", "name",
						    files[i].name, "sha256",
						    files[i].sha256, "bytes",
						    (json_int_t)files[i].bytes)))
			goto out;
	text = json_dumps(list, JSON_COMPACT);
	if (!text)
		goto out;
	hub_fmt(in, sizeof(in), "%s/.incoming/%s", dir, incident_id);
	hub_fmt(path, sizeof(path), "%s/list.json", in);
	if ((rc = fl_mkdir_p(in, 0755, err, errlen)) ||
	    (rc = fl_file_write(path, text, strlen(text), 0644, 0, err, errlen)))
		goto out;
	rc = try_complete(dir, db, incident_id, pk, done, err, errlen);
out:
	free(text);
	json_decref(list);
	return rc;
}

/* ---- budgets ------------------------------------------------------------------ */

/* The newest modification time in a flat folder (the folder's own too). */
static double newest_mtime(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat sb;
	char path[HUB_PATHLEN];
	double t = 0;

	if (stat(dir, &sb) == 0)
		t = (double)sb.st_mtime;
	if (!d)
		return t;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		hub_fmt(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &sb) == 0 && (double)sb.st_mtime > t)
			t = (double)sb.st_mtime;
	}
	closedir(d);
	return t;
}

/* What an incomplete bundle lacks, in words: the listed files not complete,
 * or (no list yet) the list and the files it had chunks of. */
static void missing_of(const char *dir, const char *iid, char *buf, size_t len)
{
	char in[HUB_PATHLEN], out[HUB_PATHLEN], path[HUB_PATHLEN];
	json_t *list;
	size_t i, n = 0;
	DIR *d;
	struct dirent *e;

	buf[0] = '\0';
	hub_fmt(in, sizeof(in), "%s/.incoming/%s", dir, iid);
	hub_fmt(out, sizeof(out), "%s/%s", dir, iid);
	hub_fmt(path, sizeof(path), "%s/list.json", in);
	list = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_array(list)) {
		for (i = 0; i < json_array_size(list); i++) {
			json_t *f = json_array_get(list, i);
			const char *nm = json_string_value(
				json_object_get(f, "name"));
			struct stat sb;

			hub_fmt(path, sizeof(path), "%s/%s", out, nm ? nm : "");
			if (!nm || stat(path, &sb) == 0)
				continue;
			hub_fmt(buf + strlen(buf), len - strlen(buf), "%s%s",
				n++ ? ", " : "", nm);
		}
		if (!n)
			hub_fmt(buf, len,
				"nothing listed (verification "
				"never completed)");
		json_decref(list);
		return;
	}
	json_decref(list);
	hub_fmt(buf, len, "the evidence list");
	if (!(d = opendir(in)))
		return;
	while ((e = readdir(d))) {
		const char *dot = strrchr(e->d_name, '.');

		if (e->d_name[0] == '.' || !dot || dot == e->d_name ||
		    strlen(buf) + 2 >= len)
			continue;
		hub_fmt(buf + strlen(buf), len - strlen(buf),
			"%s%.*s (chunk %s)",
			n++ ? ", " : "; partial: ", (int)(dot - e->d_name),
			e->d_name, dot + 1);
	}
	closedir(d);
}

int hub_evidence_sweep_incoming(const char *dir, double max_age_s, double now)
{
	char base[HUB_PATHLEN], in[HUB_PATHLEN], what[1024];
	DIR *d;
	struct dirent *e;
	int removed = 0;

	hub_fmt(base, sizeof(base), "%s/.incoming", dir);
	if (!(d = opendir(base)))
		return 0;
	while ((e = readdir(d))) {
		double age;

		if (e->d_name[0] == '.')
			continue;
		hub_fmt(in, sizeof(in), "%s/%s", base, e->d_name);
		age = now - newest_mtime(in);
		if (age <= max_age_s)
			continue;
		missing_of(dir, e->d_name, what, sizeof(what));
		fl_log(FL_LOG_WARN, "evidence",
		       "%s: incomplete bundle dropped after %.0f s without a "
		       "chunk (incoming_max_age_s %.0f); missing: %s",
		       e->d_name, age, max_age_s, what);
		rm_tree_flat(in);
		removed++;
	}
	closedir(d);
	return removed;
}

/* 1 when the store has the incident closed (cleared, vacated,
 * interrupted). */
static int closed_in_store(fl_db *db, const char *iid)
{
	char *s = fl_db_incident_json(db, iid);
	json_t *j = s ? json_loads(s, 0, NULL) : NULL;
	const char *st = json_string_value(json_object_get(j, "status"));
	int closed = st && (!strcmp(st, "cleared") || !strcmp(st, "vacated") ||
			    !strcmp(st, "interrupted"));

	json_decref(j);
	free(s);
	return closed;
}

int hub_evidence_prune(const char *dir, fl_db *db, double keep_days, double now)
{
	char out[HUB_PATHLEN], why[128];
	DIR *d;
	struct dirent *e;
	int removed = 0;

	if (keep_days <= 0 || !(d = opendir(dir)))
		return 0;
	while ((e = readdir(d))) {
		double age;

		if (e->d_name[0] == '.' ||
		    !fl_id_valid(e->d_name, FL_INCIDENT_ID_MAX))
			continue;
		hub_fmt(out, sizeof(out), "%s/%s", dir, e->d_name);
		age = now - newest_mtime(out);
		if (age <= keep_days * 86400.0 ||
		    !closed_in_store(db, e->d_name))
			continue;
		hub_fmt(why, sizeof(why), "older than evidence_keep_days %g",
			keep_days);
		/* recorded first: the incident shows the files as removed,
		 * and the scrub never takes a removed file for a missing one */
		if (fl_db_evidence_pruned(db, e->d_name, now)) {
			fl_log(FL_LOG_WARN, "evidence",
			       "%s: the removal could not be recorded in the "
			       "store; bundle kept",
			       e->d_name);
			continue;
		}
		rm_tree_flat(out);
		hub_still_forget(dir, e->d_name);
		fl_db_audit(db, "hub", "evidence_prune", e->d_name, why, now);
		fl_log(FL_LOG_INFO, "evidence", "%s: bundle removed (%s)",
		       e->d_name, why);
		removed++;
	}
	closedir(d);
	return removed;
}
