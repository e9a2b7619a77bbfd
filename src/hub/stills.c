/*
 * stills.c - an incident's alarm still, small, and its signed links (see
 * stills.h).
 *
 * A note on trust. A still is a picture of evidence, so it is made only
 * from what verified: the incident's bundle verified against the enrolled
 * key, and the file read through hub_intact_open (intact.h), as
 * /evidence/ serves it: only while it has the SHA-256 that verified. The
 * manifest says how tall the banner band is (banner_px); it is read the
 * same way. Once made, a still is a file of the hub's own (.stills/ is
 * not part of any bundle: every walk of the evidence folder skips dot
 * names) and is served as it is, but only while the incident's bundle is
 * still verified, not removed by retention and not found tampered (asked
 * of the store on every request); retention removes it with the bundle
 * (hub_evidence_prune).
 *
 * The links. A chat platform (WeCom fetches a news card's picurl itself, a
 * DingTalk client loads a markdown image) has no session, so the alerts'
 * picture is a capability: /pictures/<incident>/<expires>-<sig>.jpg, sig the
 * first 16 bytes of HMAC-SHA256(key, "firelane-picture/1\n" incident "\n"
 * expires) in hex. Only the hub can make one (the key is in the evidence
 * folder, 0600, shared by the workers of one folder); it opens the alarm
 * still of that one incident and nothing else, until it expires
 * (alerts.picture_days).
 */
#include "stills.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "fl.h"
#include "hubconf.h"
#include "intact.h"
#include "manifest.h"
#include "vision.h"

#define MAX_IMAGE (64u << 20) /* an evidence picture, at most */
#define MAX_MANIFEST (8u << 20)

/* The picture a still is made of, by the incident's rows (the alarm
 * scene image, else the first scene image, else the composite), into pic:
 * 0, or FL_ENOENT with why when its bundle did not verify, was removed,
 * or a file of it was found tampered. */
static int pick(json_t *inc, char *pic, size_t piclen, char *err, size_t errlen)
{
	json_t *files = json_object_get(inc, "evidence"), *f;
	const char *best = NULL;
	int rank = 0; /* 3 alarm scene, 2 first scene, 1 composite */
	size_t i;

	if (json_integer_value(json_object_get(inc, "verified")) != 1 ||
	    !json_is_null(json_object_get(inc, "evidence_pruned")) ||
	    !json_is_null(json_object_get(inc, "tampered"))) {
		fl_seterr(err, errlen, "no verified evidence");
		return FL_ENOENT;
	}
	json_array_foreach(files, i, f)
	{
		const char *name = json_string_value(json_object_get(f, "name"));
		const char *kind = json_string_value(json_object_get(f, "kind"));
		int r = 0;

		if (!name || !kind || strlen(name) >= piclen)
			continue;
		if (!strcmp(kind, "scene"))
			r = strstr(name, "-alarm.") ? 3 : 2;
		else if (!strcmp(kind, "composite"))
			r = 1;
		/* the first scene by name: the edge numbers them in order */
		if (r > rank ||
		    (r == 2 && rank == 2 && strcmp(name, best) < 0)) {
			rank = r;
			best = name;
		}
	}
	if (!rank) {
		fl_seterr(err, errlen, "no picture in the bundle");
		return FL_ENOENT;
	}
	snprintf(pic, piclen, "%s", best);
	return FL_OK;
}

/* All the bytes behind fd (open on the file from its start, at most max):
 * 0, or a negative error with why in err. */
static int read_fd(int fd, const char *name, size_t max, char **data,
		   size_t *len, char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;

	*data = NULL;
	if (fstat(fd, &st) || st.st_size < 0 || (size_t)st.st_size > max) {
		fl_seterr(err, errlen, "%s: not a picture the hub reads", name);
		return FL_EFORMAT;
	}
	*data = malloc((size_t)st.st_size + 1);
	if (!*data)
		return FL_ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, *data + got, (size_t)st.st_size - got,
				  (off_t)got);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			free(*data);
			*data = NULL;
			return fl_file_errno(n < 0 ? errno : EIO, "read", name,
					     err, errlen);
		}
		got += (size_t)n;
	}
	*len = got;
	return FL_OK;
}

/* A recorded file of iid, read only while it is the file that verified
 * (hub_intact_open: what /evidence/ serves): 0, FL_ENOENT (absent,
 * removed, tampered: why in err) or another negative error. */
static int read_intact(hub_intact *ic, const char *dir, fl_db *db,
		       const char *iid, const char *name, size_t max,
		       double now, char **data, size_t *len, char *err,
		       size_t errlen)
{
	enum hub_evstate state;
	int fd = -1, rc;

	rc = hub_intact_open(ic, dir, db, iid, name, "while making its still",
			     now, &fd, NULL, &state, err, errlen);
	if (rc)
		return rc;
	if (state != HUB_EV_OK) {
		if (fd >= 0)
			close(fd);
		if (state == HUB_EV_ABSENT)
			fl_seterr(err, errlen, "%s/%s: no such file", iid,
				  name);
		return FL_ENOENT;
	}
	rc = read_fd(fd, name, max, data, len, err, errlen);
	close(fd);
	return rc;
}

/* The banner band of pic according to the verified manifest (0: none),
 * or -1 (why in err). */
static int banner_of(hub_intact *ic, const char *dir, fl_db *db,
		     const char *iid, const char *pic, double now, char *err,
		     size_t errlen)
{
	fl_manifest m;
	char *data = NULL;
	size_t len = 0;
	int px = -1;

	if (read_intact(ic, dir, db, iid, "manifest.json", MAX_MANIFEST, now,
			&data, &len, err, errlen))
		return -1;
	if (fl_manifest_parse(data, len, &m, err, errlen) == 0) {
		px = 0;
		for (size_t i = 0; i < m.nfiles; i++)
			if (!strcmp(m.files[i].name, pic))
				px = m.files[i].banner_px;
	}
	fl_manifest_free(&m);
	free(data);
	return px;
}

int hub_still(const char *evidence_dir, hub_intact *ic, fl_db *db,
	      const char *iid, int width, double now, char *path,
	      size_t pathlen, char *err, size_t errlen)
{
	char folder[HUB_PATHLEN], *text = NULL, *jpeg = NULL, pic[256];
	uint8_t *small = NULL;
	size_t len = 0, slen = 0;
	json_t *inc = NULL;
	int rc, crop;

	text = fl_db_incident_json(db, iid);
	inc = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	if (!inc) {
		fl_seterr(err, errlen, "no incident %s", iid);
		return FL_ENOENT;
	}
	/* asked every time: a still made before its bundle was found
	 * tampered, or removed, is not shown either */
	rc = pick(inc, pic, sizeof(pic), err, errlen);
	json_decref(inc);
	if (rc)
		return rc;
	hub_fmt(folder, sizeof(folder), "%s/.stills", evidence_dir);
	hub_fmt(path, pathlen, "%s/%s-%d.jpg", folder, iid, width);
	if (access(path, R_OK) == 0)
		return FL_OK; /* made before */
	crop = banner_of(ic, evidence_dir, db, iid, pic, now, err, errlen);
	if (crop < 0)
		return FL_ENOENT;
	rc = read_intact(ic, evidence_dir, db, iid, pic, MAX_IMAGE, now, &jpeg,
			 &len, err, errlen);
	if (!rc)
		rc = fl_jpeg_thumb((const uint8_t *)jpeg, len, crop, width, 85,
				   &small, &slen, err, errlen);
	if (!rc)
		rc = fl_mkdir_p(folder, 0750, err, errlen);
	/* two workers making the same still write the same bytes: the
	 * rename of the one wins, the other's is identical */
	if (!rc)
		rc = fl_file_write(path, small, slen, 0640, 0, err, errlen);
	if (!rc)
		fl_log(FL_LOG_INFO, "stills", "%s: %d px still made from %s",
		       iid, width, pic);
	free(jpeg);
	free(small);
	return rc;
}

void hub_still_forget(const char *evidence_dir, const char *iid)
{
	static const int widths[] = { HUB_STILL_THUMB, HUB_STILL_ALERT };
	char path[HUB_PATHLEN];

	for (size_t i = 0; i < FL_ARRAY_SIZE(widths); i++) {
		hub_fmt(path, sizeof(path), "%s/.stills/%s-%d.jpg",
			evidence_dir, iid, widths[i]);
		if (unlink(path) && errno != ENOENT)
			fl_log(FL_LOG_WARN, "stills", "%s: %s", path,
			       strerror(errno));
	}
}

/* Read the key at path: 0, FL_ENOENT (none yet) or another error. */
static int key_read(const char *path, unsigned char key[HUB_STILL_KEY],
		    char *err, size_t errlen)
{
	char *data = NULL;
	size_t len = 0;
	int rc = fl_file_read(path, 4096, &data, &len, err, errlen);

	if (rc)
		return rc;
	if (len != HUB_STILL_KEY) {
		fl_seterr(err, errlen, "%s: %zu bytes, expected %d", path, len,
			  HUB_STILL_KEY);
		rc = FL_EIO;
	} else {
		memcpy(key, data, HUB_STILL_KEY);
	}
	sodium_memzero(data, len);
	free(data);
	return rc;
}

int hub_still_key(const char *evidence_dir, unsigned char key[HUB_STILL_KEY],
		  char *err, size_t errlen)
{
	char folder[HUB_PATHLEN], path[HUB_PATHLEN];
	unsigned char fresh[HUB_STILL_KEY];
	int rc;

	hub_fmt(folder, sizeof(folder), "%s/.stills", evidence_dir);
	hub_fmt(path, sizeof(path), "%s/link.key", folder);
	/* read first: a hub whose evidence folder refuses writes (degraded,
	 * docs/hub.md) still starts with the key it made before */
	rc = key_read(path, key, err, errlen);
	if (rc != FL_ENOENT)
		return rc;
	rc = fl_mkdir_p(folder, 0750, err, errlen);
	if (rc)
		return rc;
	randombytes_buf(fresh, sizeof(fresh));
	/* the first worker's key wins; the others read it */
	rc = fl_file_write(path, fresh, sizeof(fresh), 0600, FL_FILE_EXCL, err,
			   errlen);
	sodium_memzero(fresh, sizeof(fresh));
	if (rc && rc != FL_EEXIST)
		return rc;
	return key_read(path, key, err, errlen);
}

/* The link's signature: 32 hex digits. */
static void link_sig(const unsigned char key[HUB_STILL_KEY], const char *iid,
		     long long expires, char hex[33])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "firelane-picture/1\n%s\n%lld", iid,
			 expires);

	crypto_auth_hmacsha256(mac, (const unsigned char *)msg,
			       (unsigned long long)n, key);
	sodium_bin2hex(hex, 33, mac, 16);
}

int hub_still_link(const unsigned char key[HUB_STILL_KEY],
		   const char *public_url, const char *iid, long long expires,
		   char *buf, size_t len)
{
	char sig[33];

	link_sig(key, iid, expires, sig);
	return hub_fmt(buf, len, "%s/pictures/%s/%lld-%s.jpg", public_url, iid,
		       expires, sig);
}

int hub_still_link_ok(const unsigned char key[HUB_STILL_KEY], const char *iid,
		      const char *file, double now)
{
	char want[33], *end;
	long long expires;

	if (!file || file[0] < '0' || file[0] > '9')
		return 0;
	errno = 0;
	expires = strtoll(file, &end, 10);
	if (errno || *end != '-' || strlen(end + 1) != 32 + 4 ||
	    strcmp(end + 33, ".jpg") || (double)expires < now)
		return 0;
	link_sig(key, iid, expires, want);
	return sodium_memcmp(want, end + 1, 32) == 0;
}
