/*
 * api_export.c - an incident's case package (docs/api.md, "Case
 * package"): one ZIP with the evidence files as the hub holds them, the
 * incident and its outcomes (outcome.json), and verification.txt, the
 * hub's own check of the bundle at the time of the export against the key
 * enrolled for the device. Written to an unlinked temporary file and sent
 * from it, so a large clip never sits in memory.
 */
#include "api_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "fl.h"
#include "httpparse.h"
#include "manifest.h"
#include "sign.h"
#include "zip.h"

/* ---- case package ------------------------------------------------------- */

static int name_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The plain-named regular files of dir, sorted; *n of them. NULL when dir
 * cannot be read. Free each and the array. */
static char **list_files(const char *dir, int *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	int cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		char p[HUB_PATHLEN];
		struct stat st;

		if (!hub_plain_name(e->d_name) ||
		    hub_fmt(p, sizeof(p), "%s/%s", dir, e->d_name) >=
			    (int)sizeof(p) ||
		    lstat(p, &st) || !S_ISREG(st.st_mode))
			continue;
		if (*n == cap) {
			char **w;

			cap = cap ? cap * 2 : 16;
			w = realloc(v, (size_t)cap * sizeof(*w));
			if (!w)
				break;
			v = w;
		}
		v[*n] = strdup(e->d_name);
		if (v[*n])
			(*n)++;
	}
	closedir(d);
	if (!v)
		v = calloc(1, sizeof(*v));
	else
		qsort(v, (size_t)*n, sizeof(*v), name_cmp);
	return v;
}

/* verification.txt: the hub's own check of the stored bundle now. inc:
 * the incident (fl_db_incident_json); when its bundle folder is gone and
 * the store says retention removed it (evidence_pruned), the file says so
 * and lists the SHA-256 of the files as they were received. */
static char *verification(hub_api *a, const char *id, const char *device,
			  const char *dir, char **files, int nfiles,
			  json_t *inc, const char *user, double now)
{
	char pk_b64[128] = "", site[256] = "", err[512] = "", when[64];
	char pruned_when[64] = "";
	json_t *pruned = json_object_get(inc, "evidence_pruned");
	json_t *rows = json_object_get(inc, "evidence"), *row;
	unsigned char pk[32];
	fl_verify_info info;
	size_t cap = 4096 + ((size_t)nfiles + json_array_size(rows)) * 256;
	size_t len = 0, r;
	char *t = malloc(cap);
	time_t secs = (time_t)now;
	struct tm tm;
	int known, rc;

	if (!t)
		return NULL;
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (json_is_number(pruned) && !files) {
		secs = (time_t)json_number_value(pruned);
		gmtime_r(&secs, &tm);
		strftime(pruned_when, sizeof(pruned_when), "%Y-%m-%dT%H:%M:%SZ",
			 &tm);
	}
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
	} else if (!files) {
		OUT("result: NO EVIDENCE RECEIVED (the hub holds no bundle for "
		    "this incident)\n");
	} else if (!known) {
		OUT("result: NOT VERIFIED: the device is not enrolled, so there "
		    "is no key to check the signature against\n");
	} else {
		memset(&info, 0, sizeof(info));
		rc = fl_bundle_verify_ex(dir, pk, &info, err, sizeof(err));
		if (!rc)
			OUT("result: VERIFIED: manifest.sig is a valid Ed25519 "
			    "signature of manifest.json by the enrolled key, "
			    "and every listed file (%zu) matches its size and "
			    "SHA-256\n",
			    info.nfiles);
		else
			OUT("result: NOT VERIFIED: %s\n", err);
	}
	OUT("check: fl_bundle_verify with the key enrolled for the device "
	    "pinned (docs/evidence.md)\n");
	OUT("device public key (Ed25519, base64, enrolled): %s\n\n",
	    known ? pk_b64 : "(none)");
	if (pruned_when[0]) {
		OUT("files as received (SHA-256, bytes, name; removed):\n");
		json_array_foreach(rows, r, row)
		{
			const char *h = json_string_value(
				json_object_get(row, "sha256"));
			const char *nm = json_string_value(
				json_object_get(row, "name"));

			if (len >= cap)
				break;
			OUT("%s  %lld  evidence/%s\n", h ? h : "?",
			    (long long)json_integer_value(
				    json_object_get(row, "bytes")),
			    nm ? nm : "?");
		}
	}
	if (files) {
		OUT("files (SHA-256, bytes, name):\n");
		for (int i = 0; i < nfiles && len < cap; i++) {
			char p[HUB_PATHLEN], hex[65];
			long long bytes;

			hub_fmt(p, sizeof(p), "%s/%s", dir, files[i]);
			if (fl_file_sha256(p, 0, hex, &bytes, NULL, 0))
				OUT("(unreadable)  %s\n", files[i]);
			else
				OUT("%s  %lld  evidence/%s\n", hex, bytes,
				    files[i]);
		}
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
	char *inc = NULL, *ver = NULL, **files = NULL;
	const char *device = NULL, *tmpdir = getenv("TMPDIR");
	char tpath[HUB_PATHLEN];
	json_t *o = NULL;
	hub_zip *z = NULL;
	long long size = 0;
	int nfiles = 0, fd = -1, rc = FL_EIO;

	if (api__incident_visible(a, s, id, r, site, sizeof(site)))
		return;
	inc = fl_db_incident_json(a->db, id);
	o = inc ? json_loads(inc, 0, NULL) : NULL;
	if (!o) {
		api__error(r, 500, "the store failed");
		goto out;
	}
	device = json_string_value(json_object_get(o, "device"));
	hub_fmt(dir, sizeof(dir), "%s/%s", a->conf->evidence_dir, id);
	files = list_files(dir, &nfiles);
	ver = verification(a, id, device, dir, files, nfiles, o, s->user,
			   q->now);
	if (tmpdir && *tmpdir &&
	    hub_fmt(tpath, sizeof(tpath), "%s/firelane-export-XXXXXX", tmpdir) <
		    (int)sizeof(tpath))
		fd = mkstemp(tpath);
	else
		fd = mkstemp(tmpl);
	if (fd >= 0)
		unlink(tmpdir && *tmpdir ? tpath : tmpl);
	z = fd >= 0 && ver ? hub_zip_open(fd) : NULL;
	if (!z)
		goto fail;
	for (int i = 0; i < nfiles; i++) {
		char name[300], p[HUB_PATHLEN];

		snprintf(name, sizeof(name), "evidence/%s", files[i]);
		hub_fmt(p, sizeof(p), "%s/%s", dir, files[i]);
		rc = hub_zip_add_file(z, name, p);
		if (rc)
			goto fail;
	}
	rc = hub_zip_add_mem(z, "outcome.json", inc, strlen(inc), q->now);
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
	api__error(r, 500,
		   rc == FL_EFULL
			   ? "the case package would pass 4 GiB (no ZIP64)"
			   : "the case package could not be written");
out:
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	free(ver);
	free(inc);
	json_decref(o);
}
