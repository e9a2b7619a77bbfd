/*
 * api_export.c - an incident's case package (docs/api.md, "Case
 * package"): one ZIP with the evidence files the hub recorded, each only
 * while it still has its recorded SHA-256 (intact.c; checked again on the
 * bytes as they are packed), the incident and its outcomes (outcome.json),
 * and verification.txt, the hub's own check of the bundle at the time of
 * the export against the key enrolled for the device - or TAMPERED, with
 * the files left out. Written to an unlinked temporary file and sent from
 * it, so a large clip never sits in memory.
 */
#include "api_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "fl.h"
#include "httpparse.h"
#include "intact.h"
#include "manifest.h"
#include "sign.h"
#include "zip.h"

/* ---- case package ------------------------------------------------------- */

/* One recorded file of the bundle and what packing it found. */
struct packed {
	const char *name, *sha256; /* recorded; borrowed from the incident */
	long long bytes;
	enum hub_evstate state; /* HUB_EV_OK: in the package */
	char why[512];          /* when not in the package */
};

/* p[i] from row i of the incident's "evidence" rows, none packed yet (its
 * state HUB_EV_ABSENT). FL_EIO when a row lacks its name or SHA-256. */
static int recorded(json_t *rows, struct packed *p)
{
	json_t *row;
	size_t i;

	json_array_foreach(rows, i, row)
	{
		p[i].name = json_string_value(json_object_get(row, "name"));
		p[i].sha256 = json_string_value(json_object_get(row, "sha256"));
		p[i].bytes = api__num(row, "bytes");
		p[i].state = HUB_EV_ABSENT;
		if (!p[i].name || !p[i].sha256)
			return FL_EIO;
	}
	return 0;
}

/*
 * Pack each of the n recorded files p (recorded()) that is still the
 * recorded file (hub_intact_open), as evidence/<name>, into z; p[i].state
 * and why say what became of it. The bytes packed are hashed as they go
 * in: when they are not the recorded ones after all (written between the
 * check and the packing), the file is recorded as tampered and the package
 * is given up (FL_EAGAIN). 0 or an error.
 */
static int pack(hub_api *a, hub_zip *z, const char *id, struct packed *p,
		size_t n, const char *user, double now)
{
	char how[128], zname[300], sha[65];
	fl_db_evfile f;
	size_t i;
	int fd, rc;

	hub_fmt(how, sizeof(how), "while packing the case package for %s",
		user);
	for (i = 0; i < n; i++) {
		rc = hub_intact_open(a->intact, a->conf->evidence_dir, a->db,
				     id, p[i].name, how, now, &fd, &f,
				     &p[i].state, p[i].why, sizeof(p[i].why));
		if (rc)
			return rc;
		if (p[i].state != HUB_EV_OK)
			continue;
		snprintf(zname, sizeof(zname), "evidence/%s", p[i].name);
		rc = hub_zip_add_fd(z, zname, fd, sha);
		close(fd);
		if (rc)
			return rc;
		if (strcmp(sha, f.sha256)) {
			hub_intact_record(a->db, &f, sha, how, now);
			return FL_EAGAIN;
		}
	}
	return 0;
}

/* verification.txt: the hub's own check of the stored bundle now. inc:
 * the incident (fl_db_incident_json) after packing; p, n: its recorded
 * files as packed. When retention removed the bundle (evidence_pruned),
 * the file says so and lists the SHA-256 of the files as they were
 * received; when a file is no longer what verified, it says TAMPERED and
 * which. */
static char *verification(hub_api *a, const char *id, const char *device,
			  const char *dir, const struct packed *p, size_t n,
			  json_t *inc, const char *user, double now)
{
	char pk_b64[128] = "", site[256] = "", err[512] = "", when[64];
	char pruned_when[64] = "";
	json_t *pruned = json_object_get(inc, "evidence_pruned");
	unsigned char pk[32];
	fl_verify_info info;
	size_t cap = 4096 + n * 1024, len = 0, i, tampered = 0;
	char *t = malloc(cap);
	time_t secs = (time_t)now;
	struct tm tm;
	int known, rc;

	if (!t)
		return NULL;
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (json_is_number(pruned)) {
		secs = (time_t)json_number_value(pruned);
		gmtime_r(&secs, &tm);
		strftime(pruned_when, sizeof(pruned_when), "%Y-%m-%dT%H:%M:%SZ",
			 &tm);
	}
	for (i = 0; i < n; i++)
		tampered += p[i].state == HUB_EV_TAMPERED;
	known = device &&
		!fl_db_device_get(a->db, device, site, sizeof(site), pk_b64,
				  sizeof(pk_b64)) &&
		!fl_key_public_from_b64(pk_b64, pk);
#define OUT(...)                                                               \
	len += (size_t)snprintf(t + len, len < cap ? cap - len : 0, __VA_ARGS__)
	OUT("firelane case package: incident %s\n", id);
	OUT("device: %s\nexported by %s at %s (hub clock, UTC)\n\n",
	    device ? device : "?", user, when);
	if (pruned_when[0]) {
		OUT("result: EVIDENCE REMOVED: the bundle's files were removed "
		    "on %s (hub clock, UTC) by the hub's retention setting "
		    "(evidence_keep_days); the hub no longer holds them, so the "
		    "signature cannot be checked again. The SHA-256 of every "
		    "file as received are listed below.\n",
		    pruned_when);
		OUT("verified when received: %s\n",
		    json_integer_value(json_object_get(inc, "verified")) == 1
			    ? "yes (against the enrolled key)"
			    : "no");
	} else if (!n) {
		OUT("result: NO EVIDENCE RECEIVED (the hub holds no bundle for "
		    "this incident)\n");
	} else if (tampered) {
		OUT("result: TAMPERED: %zu of the bundle's %zu files no longer "
		    "match the SHA-256 recorded when the bundle verified on "
		    "the hub; they are not in this package (listed below). "
		    "Do not rely on this bundle; the hub's audit log says when "
		    "each was found.\n",
		    tampered, n);
	} else if (!known) {
		OUT("result: NOT VERIFIED: the device is not enrolled, so there "
		    "is no key to check the signature against\n");
	} else {
		memset(&info, 0, sizeof(info));
		rc = fl_bundle_verify_ex(dir, pk, &info, err, sizeof(err));
		if (!rc) {
			OUT("result: VERIFIED: manifest.sig is a valid Ed25519 "
			    "signature of manifest.json by the enrolled key, "
			    "and every listed file (%zu) matches its size and "
			    "SHA-256\n",
			    info.nfiles);
			fl_manifest_clock_text(&info.clock, err, sizeof(err));
			OUT("%s\n", err);
		} else
			OUT("result: NOT VERIFIED: %s\n", err);
	}
	OUT("check: fl_bundle_verify with the key enrolled for the device "
	    "pinned (docs/evidence.md); every file packed was hashed as it "
	    "was packed and matches the SHA-256 recorded when the bundle "
	    "arrived\n");
	OUT("device public key (Ed25519, base64, enrolled): %s\n\n",
	    known ? pk_b64 : "(none)");
	if (n)
		OUT("files (SHA-256, bytes, name)%s:\n",
		    pruned_when[0] ? " as received; removed" : "");
	for (i = 0; i < n && len < cap; i++) {
		if (p[i].state == HUB_EV_OK || pruned_when[0])
			OUT("%s  %lld  evidence/%s\n", p[i].sha256, p[i].bytes,
			    p[i].name);
		else
			OUT("%s  %lld  evidence/%s  NOT IN THIS PACKAGE: %s\n",
			    p[i].sha256, p[i].bytes, p[i].name, p[i].why);
	}
#undef OUT
	if (len >= cap) { /* cannot happen with the sizes above; be safe */
		t[cap - 1] = 0;
	}
	return t;
}

void api__export_zip(hub_api *a, const hub_session_info *s, const char *id,
		     const hub_req *q, hub_resp *r)
{
	char site[256], dir[HUB_PATHLEN],
		tmpl[] = "/tmp/firelane-export-XXXXXX";
	char *inc = NULL, *ver = NULL;
	const char *tmpdir = getenv("TMPDIR");
	char tpath[HUB_PATHLEN];
	struct packed *packed = NULL;
	json_t *o = NULL, *rows;
	hub_zip *z = NULL;
	long long size = 0;
	size_t n = 0;
	int fd = -1, rc = FL_EIO;

	if (api__incident_visible(a, s, id, r, site, sizeof(site)))
		return;
	inc = fl_db_incident_json(a->db, id);
	o = inc ? json_loads(inc, 0, NULL) : NULL;
	if (!o) {
		api__error(r, 500, "the store failed");
		goto out;
	}
	rows = json_object_get(o, "evidence");
	n = json_array_size(rows);
	packed = calloc(n ? n : 1, sizeof(*packed));
	hub_fmt(dir, sizeof(dir), "%s/%s", a->conf->evidence_dir, id);
	if (tmpdir && *tmpdir &&
	    hub_fmt(tpath, sizeof(tpath), "%s/firelane-export-XXXXXX", tmpdir) <
		    (int)sizeof(tpath))
		fd = mkstemp(tpath);
	else
		fd = mkstemp(tmpl);
	if (fd >= 0)
		unlink(tmpdir && *tmpdir ? tpath : tmpl);
	z = fd >= 0 && packed ? hub_zip_open(fd) : NULL;
	if (!z)
		goto fail;
	/* evidence_pruned: the rows stay, the files are gone: none packed */
	if ((rc = recorded(rows, packed)) ||
	    (!json_is_number(json_object_get(o, "evidence_pruned")) &&
	     (rc = pack(a, z, id, packed, n, s->user, q->now))))
		goto fail;
	/* again: packing may have found a file tampered */
	free(inc);
	inc = fl_db_incident_json(a->db, id);
	ver = inc ? verification(a, id,
				 json_string_value(json_object_get(o, "device")),
				 dir, packed, n, o, s->user, q->now)
		  : NULL;
	rc = ver ? hub_zip_add_mem(z, "outcome.json", inc, strlen(inc), q->now)
		 : FL_ENOMEM;
	if (!rc)
		rc = hub_zip_add_mem(z, "verification.txt", ver, strlen(ver),
				     q->now);
	if (rc)
		goto fail;
	rc = hub_zip_close(z, &size);
	z = NULL;
	if (rc)
		goto fail;
	fl_db_audit(a->db, s->user, "export", id, NULL, q->now);
	r->status = 200;
	r->ctype = "application/zip";
	r->fd = fd;
	r->offset = 0;
	r->flen = size;
	r->no_store = 1;
	api__header(r, "Content-Disposition", "attachment; filename=\"%s.zip\"",
		    id);
	fd = -1;
	goto out;
fail:
	hub_zip_abort(z);
	fl_log(FL_LOG_ERROR, TAG, "export of %s failed: %s", id,
	       fl_strerror(rc));
	if (rc == FL_EAGAIN)
		api__error(r, 409,
			   "an evidence file changed while the case package "
			   "was written (it is now marked tampered); export "
			   "again");
	else
		api__error(r, 500,
			   rc == FL_EFULL
				   ? "the case package would pass 4 GiB (no "
				     "ZIP64)"
				   : "the case package could not be written");
out:
	if (fd >= 0)
		close(fd);
	free(packed);
	free(ver);
	free(inc);
	json_decref(o);
}
