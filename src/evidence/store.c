/*
 * store.c - the local evidence store and the file-system primitives under it.
 *
 * A note on crashes and full disks. A device is switched off without warning
 * and its SD card fills up; neither may leave something that looks like
 * evidence but is not. So every file is written the one safe way
 * (fl_file_write, src/util/file.h: a temporary name, fsync, rename, fsync
 * of the directory),
 * a bundle is assembled in dir/.partial/<id>/ and becomes visible only by one
 * rename when it is complete and signed, and the .partial area is emptied at
 * open. A bundle is in one of three states, told apart by the file system
 * alone: partial (under .partial), sealed (dir/<id>/ with manifest.sig), and
 * delivered (plus a .delivered marker the hub's acknowledgement writes).
 *
 * A note on retention. Evidence the hub does not have yet is never deleted
 * to make room: an undelivered bundle is the only copy. Retention removes
 * delivered bundles past max_age_s, then the oldest delivered ones while the
 * store is over max_bytes. When undelivered bundles alone fill the budget the
 * store says so (a warning, and FL_EFULL for the next bundle) instead of
 * choosing which evidence to lose. The age of a bundle is the modification
 * time of its manifest.sig, which the seal writes last.
 *
 * A note on sharing. Clearing .partial at open is only right for the process
 * that writes bundles. The first fl_store_open() takes an exclusive flock on
 * dir/.lock and keeps it until close; a store opened while another holds the
 * lock (an uploader, a second instance, a test) leaves .partial alone, so it
 * never deletes a bundle someone is writing. Everything else works the same.
 *
 * Errors: ENOSPC and EDQUOT become FL_EFULL (the caller may prune and retry
 * or raise an alarm), everything else FL_EIO; the message names the path and
 * the system's reason.
 */
#include "store.h"

#include "fl.h"
#include "id.h"
#include "file.h"
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

struct fl_store {
	char *dir;
	fl_store_opts o;
	int lockfd; /* dir/.lock, flock'ed while this store is the owner */
};

/* ---- file-system helpers (internal.h) ------------------------------------ */

static int rm_rf_at(int at, const char *name)
{
	struct stat st;
	int fd, rc = 0;
	DIR *d;
	struct dirent *e;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : FL_EIO;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0) == 0 || errno == ENOENT ? 0
								     : FL_EIO;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return FL_EIO;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return FL_EIO;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (rm_rf_at(dirfd(d), e->d_name) != 0)
			rc = FL_EIO;
	}
	closedir(d);
	if (unlinkat(at, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
		rc = FL_EIO;
	return rc;
}

int fl__rm_rf(const char *path)
{
	return rm_rf_at(AT_FDCWD, path);
}

int fl__plain_name(const char *name)
{
	size_t n;

	if (!name || !*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	n = strlen(name);
	if (n > 255)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (name[i] == '/' || (unsigned char)name[i] < 0x20 ||
		    name[i] == 0x7f)
			return 0;
	return 1;
}

/* ---- the store ------------------------------------------------------------------ */

static int join(char *out, size_t outlen, const char *a, const char *b,
		const char *c)
{
	int n = snprintf(out, outlen, "%s/%s%s%s", a, b, c ? "/" : "",
			 c ? c : "");

	return n < 0 || (size_t)n >= outlen ? FL_EINVAL : 0;
}

/* Remove the temporary files of fl_file_write() a crash left in the sealed
 * bundle folder dir (an interrupted .delivered marker); anything else is
 * left for the verifier. */
static void sweep_bundle_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char path[FL__PATH_MAX];

		if (fl_file_is_temp(e->d_name) &&
		    join(path, sizeof(path), dir, e->d_name, NULL) == 0)
			unlink(path);
	}
	if (d)
		closedir(d);
}

/* sweep_bundle_tmp() in every sealed bundle of the store dir. */
static void sweep_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char path[FL__PATH_MAX];

		if (e->d_name[0] == '.' || !fl__plain_name(e->d_name) ||
		    join(path, sizeof(path), dir, e->d_name, NULL))
			continue;
		sweep_bundle_tmp(path);
	}
	if (d)
		closedir(d);
}

fl_store *fl_store_open(const char *dir, const fl_store_opts *opts, char *err,
			size_t errlen)
{
	char partial[FL__PATH_MAX], lock[FL__PATH_MAX];
	fl_store *s = NULL;
	int rc, fd, owner;

	if (!dir || !*dir || strlen(dir) > FL__PATH_MAX - 512) {
		snprintf(err, errlen, "evidence store: bad directory");
		return NULL;
	}
	rc = fl_mkdir_p(dir, 0750, err, errlen);
	if (rc)
		return NULL;
	join(lock, sizeof(lock), dir, ".lock", NULL);
	fd = open(lock, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		fl_file_errno(errno, "cannot write", lock, err, errlen);
		return NULL;
	}
	owner = flock(fd, LOCK_EX | LOCK_NB) == 0;
	join(partial, sizeof(partial), dir, ".partial", NULL);
	if (owner) {
		/* Whatever is in .partial was being written when the last
		 * owner stopped. */
		if (fl__rm_rf(partial) != 0) {
			snprintf(err, errlen, "cannot clear %s: %s", partial,
				 strerror(errno));
			goto fail;
		}
		sweep_tmp(dir);
	} else {
		fl_log(FL_LOG_INFO, FL__TAG,
		       "%s is open elsewhere: partial bundles left alone", dir);
	}
	if (mkdir(partial, 0750) != 0 && !(errno == EEXIST && !owner)) {
		fl_file_errno(errno, "cannot create directory", partial, err,
			      errlen);
		goto fail;
	}
	if (access(dir, W_OK) != 0) {
		fl_file_errno(errno, "cannot write", dir, err, errlen);
		goto fail;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (opts)
		s->o = *opts;
	if (s->o.min_free_bytes <= 0)
		s->o.min_free_bytes = FL_STORE_MIN_FREE_DEFAULT;
	s->lockfd = fd;
	return s;
fail:
	close(fd);
	return NULL;
}

void fl_store_close(fl_store *s)
{
	if (!s)
		return;
	close(s->lockfd); /* releases the flock */
	free(s->dir);
	free(s);
}

const char *fl_store_dir(const fl_store *s)
{
	return s->dir;
}

int fl_store_is_delivered(const fl_store *s, const char *incident_id)
{
	char path[FL__PATH_MAX];
	struct stat st;

	if (!fl_id_valid(incident_id, FL_INCIDENT_ID_MAX) ||
	    join(path, sizeof(path), s->dir, incident_id, "manifest.sig") ||
	    stat(path, &st) != 0)
		return FL_ENOENT;
	join(path, sizeof(path), s->dir, incident_id, FL_DELIVERED_MARKER);
	return stat(path, &st) == 0;
}

int fl_store_mark_delivered(fl_store *s, const char *incident_id, char *err,
			    size_t errlen)
{
	char path[FL__PATH_MAX], body[64];
	int n;

	if (!s || !fl_id_valid(incident_id, FL_INCIDENT_ID_MAX)) {
		snprintf(err, errlen, "mark delivered: bad incident id");
		return FL_EINVAL;
	}
	if (fl_store_is_delivered(s, incident_id) < 0) {
		snprintf(err, errlen, "%s/%s: no sealed bundle", s->dir,
			 incident_id);
		return FL_ENOENT;
	}
	join(path, sizeof(path), s->dir, incident_id, FL_DELIVERED_MARKER);
	n = snprintf(body, sizeof(body), "%.3f\n", (double)time(NULL));
	return fl_file_write(path, body, (size_t)n, 0640, 0, err, errlen);
}

struct bundle_ent {
	char *id;
	double bytes;
	double mtime; /* manifest.sig */
	int delivered;
};

static int ent_older(const void *a, const void *b)
{
	const struct bundle_ent *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->id, y->id);
}

static double dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	double total = 0;

	while (d && (e = readdir(d))) {
		char path[FL__PATH_MAX];
		struct stat st;

		if (join(path, sizeof(path), dir, e->d_name, NULL) == 0 &&
		    lstat(path, &st) == 0 && S_ISREG(st.st_mode))
			total += (double)st.st_size;
	}
	if (d)
		closedir(d);
	return total;
}

static void free_ents(struct bundle_ent *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].id);
	free(v);
}

/* The sealed bundles of s, oldest first; *pv owned by the caller. */
static int list_bundles(const fl_store *s, struct bundle_ent **pv, size_t *pn,
			char *err, size_t errlen)
{
	struct bundle_ent *v = NULL;
	size_t n = 0, cap = 0;
	DIR *d = opendir(s->dir);
	struct dirent *e;

	*pv = NULL;
	*pn = 0;
	if (!d)
		return fl_file_errno(errno, "cannot list", s->dir, err, errlen);
	while ((e = readdir(d))) {
		char path[FL__PATH_MAX];
		struct stat st;

		if (!fl_id_valid(e->d_name, FL_INCIDENT_ID_MAX) ||
		    join(path, sizeof(path), s->dir, e->d_name,
			 "manifest.sig") ||
		    stat(path, &st) != 0)
			continue;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			struct bundle_ent *nv = realloc(v, ncap * sizeof(*v));

			if (!nv)
				goto nomem;
			v = nv;
			cap = ncap;
		}
		v[n].id = strdup(e->d_name);
		if (!v[n].id)
			goto nomem;
		v[n].mtime = (double)st.st_mtim.tv_sec +
			     (double)st.st_mtim.tv_nsec * 1e-9;
		join(path, sizeof(path), s->dir, e->d_name, NULL);
		v[n].bytes = dir_bytes(path);
		v[n].delivered = fl_store_is_delivered(s, e->d_name) == 1;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), ent_older);
	*pv = v;
	*pn = n;
	return 0;
nomem:
	closedir(d);
	free_ents(v, n);
	snprintf(err, errlen, "out of memory");
	return FL_ENOMEM;
}

int fl_store_usage(const fl_store *s, double *total, double *undelivered,
		   char *err, size_t errlen)
{
	struct bundle_ent *v;
	size_t n;
	double t = 0, u = 0;
	int rc = list_bundles(s, &v, &n, err, errlen);

	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		t += v[i].bytes;
		if (!v[i].delivered)
			u += v[i].bytes;
	}
	free_ents(v, n);
	if (total)
		*total = t;
	if (undelivered)
		*undelivered = u;
	return 0;
}

int fl_store_undelivered(const fl_store *s, double now, double min_age_s,
			 char (*ids)[FL_INCIDENT_ID_MAX], size_t max,
			 size_t *nids, size_t *total, char *err, size_t errlen)
{
	struct bundle_ent *v;
	size_t n, k = 0, t = 0;
	int rc = list_bundles(s, &v, &n, err, errlen);

	*nids = 0;
	*total = 0;
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) { /* oldest first */
		if (v[i].delivered)
			continue;
		t++;
		if (k < max && now - v[i].mtime >= min_age_s)
			snprintf(ids[k++], FL_INCIDENT_ID_MAX, "%s", v[i].id);
	}
	free_ents(v, n);
	*nids = k;
	*total = t;
	return 0;
}

/* Take bundle id out of sight (rename into .partial) and delete it. 0 when
 * removed, 1 when it was already gone, or a negative error. */
static int remove_bundle(fl_store *s, const char *id, char *err, size_t errlen)
{
	char from[FL__PATH_MAX], to[FL__PATH_MAX], name[300];

	snprintf(name, sizeof(name), "%s.removing", id);
	if (join(from, sizeof(from), s->dir, id, NULL) ||
	    join(to, sizeof(to), s->dir, ".partial", name))
		return FL_EINVAL;
	fl__rm_rf(to);
	if (rename(from, to) != 0) {
		if (errno == ENOENT) /* another thread's prune was first */
			return 1;
		return fl_file_errno(errno, "cannot remove", from, err, errlen);
	}
	if (fl__rm_rf(to) != 0)
		fl_log(FL_LOG_WARN, FL__TAG,
		       "%s: removed from the store but not all deleted", to);
	fl_log(FL_LOG_INFO, FL__TAG, "retention removed delivered bundle %s",
	       id);
	return 0;
}

int fl_store_prune(fl_store *s, double now, char *err, size_t errlen)
{
	struct bundle_ent *v;
	size_t n;
	double total = 0, undelivered = 0;
	int removed = 0, rc;

	if (!s) {
		snprintf(err, errlen, "prune: no store");
		return FL_EINVAL;
	}
	rc = list_bundles(s, &v, &n, err, errlen);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		total += v[i].bytes;
		if (!v[i].delivered)
			undelivered += v[i].bytes;
	}
	/* Age first, oldest first; then budget, still oldest first. */
	for (size_t i = 0; i < n; i++) {
		int old = s->o.max_age_s > 0 &&
			  now - v[i].mtime > s->o.max_age_s;
		int over = s->o.max_bytes > 0 && total > s->o.max_bytes;

		if (!v[i].delivered || !(old || over))
			continue;
		rc = remove_bundle(s, v[i].id, err, errlen);
		if (rc < 0)
			goto out;
		total -= v[i].bytes;
		removed += rc == 0;
	}
	if (s->o.max_bytes > 0 && total > s->o.max_bytes)
		fl_log(FL_LOG_WARN, FL__TAG,
		       "%s: %.0f bytes of undelivered evidence exceed the "
		       "budget of %.0f bytes; kept (never deleted before "
		       "delivery)",
		       s->dir, undelivered, s->o.max_bytes);
	rc = removed;
out:
	free_ents(v, n);
	return rc;
}

int fl__store_room(fl_store *s, char *err, size_t errlen)
{
	struct statvfs vfs;
	double free_b, undelivered = 0;
	int rc;

	if (statvfs(s->dir, &vfs) != 0)
		return fl_file_errno(errno, "cannot stat file system of",
				     s->dir, err, errlen);
	if (vfs.f_flag & ST_RDONLY) {
		snprintf(err, errlen, "%s: read-only file system", s->dir);
		return FL_EIO;
	}
	free_b = (double)vfs.f_bavail * (double)vfs.f_frsize;
	if (free_b < s->o.min_free_bytes) {
		snprintf(err, errlen,
			 "%s: %.0f bytes free, below the minimum of %.0f",
			 s->dir, free_b, s->o.min_free_bytes);
		return FL_EFULL;
	}
	if (s->o.max_bytes > 0) {
		rc = fl_store_usage(s, NULL, &undelivered, err, errlen);
		if (rc)
			return rc;
		if (undelivered >= s->o.max_bytes) {
			snprintf(err, errlen,
				 "%s: undelivered evidence (%.0f bytes) fills "
				 "the budget of %.0f bytes",
				 s->dir, undelivered, s->o.max_bytes);
			return FL_EFULL;
		}
	}
	return 0;
}
