/*
 * intact.c - verified evidence still as it was verified: checked before a
 * file is served or packed, and by a periodic scrub.
 *
 * A note on the model. When a bundle verifies (bundles.c), the store
 * records every file's SHA-256 and size, and the hub never writes those
 * files again (read-only, and a sealed bundle refuses every chunk). But
 * others can: whoever has the hub's file system rights (root, the hub's
 * account, a backup restored over the folder), or the disk itself. So
 * before the hub says "this is the verified image" it asks again whether
 * the bytes are still the recorded ones:
 *
 *   on open - every file served under /evidence/ and every file put into
 *   a case package is hashed through the very descriptor that is then
 *   sent or packed, and compared with its row. A browser asks for a clip
 *   in many Range requests, so the result is cached per file version:
 *   (device, inode, size, mtime, ctime). Every write to a file changes its
 *   ctime, which no user can set (utimensat sets only mtime and atime), so
 *   a written file is a new version and is hashed again. A version whose
 *   ctime is less than RACY_S old is not cached: on a file system with
 *   one-second times a write in the same second would look like the same
 *   version (git's "racy clean" problem). docs/hub.md, "Measured", has
 *   what a check costs.
 *
 *   by the scrub - a thread that hashes every recorded file of every
 *   verified bundle again, a minute after the start and then every
 *   evidence_scrub_s after a pass ended, ignoring the cache: it
 *   finds what no metadata shows (a rotting disk, a raw write to the
 *   block device) and the files nobody asks for.
 *
 * A file that does not match, or is gone from a verified bundle that
 * retention did not remove, is recorded as tampered (the store's evidence
 * row, an audit row, a warning), shows as tampered in the API, the UI and
 * the case package, and is not served or packed as evidence to anyone:
 * its bytes stay on disk for whoever investigates. When the scrub finds
 * it matching again (the genuine file restored), that is recorded too.
 *
 * What is left: a file written in place between the check and the last
 * byte sent is sent as it is then (the descriptor sees the write); the
 * case package compares the bytes it packed (api_export.c) and the scrub
 * finds it at its next pass. Files of a bundle that did not verify are
 * checked the same way before they are served, but never recorded as
 * tampered: they are not evidence, and a genuine copy may still replace
 * them.
 */
#include "intact.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "file.h"
#include "fl.h"

#define SLOTS 256  /* file versions remembered (a few bundles' worth) */
#define RACY_S 2.0 /* a version younger than this is not cached */
#define PAGE 64    /* rows per step of the scrub's walk */
#define FIRST_S 60 /* the scrub's first pass after the start, at the latest */

/* ---- the cache ----------------------------------------------------------------- */

struct slot {
	int used;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	char sha[65];
	long long bytes;
};

struct hub_intact {
	pthread_mutex_t mu;
	struct slot s[SLOTS];
};

hub_intact *hub_intact_create(void)
{
	hub_intact *c = calloc(1, sizeof(*c));

	if (c)
		pthread_mutex_init(&c->mu, NULL);
	return c;
}

void hub_intact_destroy(hub_intact *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static int same_time(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static struct slot *slot_of(hub_intact *c, const struct stat *st)
{
	return &c->s[((size_t)st->st_ino * 2654435761u ^ (size_t)st->st_dev) %
		     SLOTS];
}

/* The SHA-256 and length of the file version behind fd (st: its fstat),
 * from the cache when it has this version, else hashed now (and kept
 * unless the version is racy). 0 or a read error. */
static int version_sha(hub_intact *c, int fd, const struct stat *st,
		       const char *name, double now, char hex[65],
		       long long *bytes, char *err, size_t errlen)
{
	struct slot *s;
	int rc;

	if (c) {
		pthread_mutex_lock(&c->mu);
		s = slot_of(c, st);
		rc = s->used && s->dev == st->st_dev && s->ino == st->st_ino &&
		     s->size == st->st_size &&
		     same_time(s->mtime, st->st_mtim) &&
		     same_time(s->ctime, st->st_ctim);
		if (rc) {
			memcpy(hex, s->sha, 65);
			*bytes = s->bytes;
		}
		pthread_mutex_unlock(&c->mu);
		if (rc)
			return 0;
	}
	rc = fl_fd_sha256(fd, name, hex, bytes, err, errlen);
	if (rc || !c || now - (double)st->st_ctim.tv_sec < RACY_S ||
	    *bytes != (long long)st->st_size)
		return rc;
	pthread_mutex_lock(&c->mu);
	s = slot_of(c, st);
	*s = (struct slot){ 1,           st->st_dev,  st->st_ino, st->st_size,
			    st->st_mtim, st->st_ctim, "",         *bytes };
	memcpy(s->sha, hex, 65);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/* ---- recording ----------------------------------------------------------------- */

void hub_intact_record(fl_db *db, const fl_db_evfile *f, const char *found,
		       const char *how, double now)
{
	char detail[768];
	int rc;

	/* only evidence (a verified bundle), and only a change of state */
	if (f->verified != 1 || !isnan(f->tampered) == (found != NULL))
		return;
	rc = fl_db_evidence_tampered(db, f->incident_id, f->name,
				     found ? now : NAN);
	if (rc) {
		fl_log(FL_LOG_ERROR, "evidence",
		       "%s: %s: %s could not be recorded: %s", f->incident_id,
		       f->name, found ? "tampering" : "restoring",
		       fl_strerror(rc));
		return;
	}
	if (found)
		hub_fmt(detail, sizeof(detail),
			"%s: recorded sha256 %s (%lld bytes), found %s, %s",
			f->name, f->sha256, f->bytes, found, how);
	else
		hub_fmt(detail, sizeof(detail),
			"%s: matches its recorded sha256 %s again, %s", f->name,
			f->sha256, how);
	fl_db_audit(db, "hub",
		    found ? "evidence_tampered" : "evidence_restored",
		    f->incident_id, detail, now);
	fl_log(found ? FL_LOG_WARN : FL_LOG_INFO, "evidence", "%s: %s: %s",
	       f->incident_id, found ? "TAMPERED" : "restored", detail);
}

/* ---- the check on open ---------------------------------------------------------- */

/* What is at path instead of the recorded file, for a person ("missing",
 * "not a regular file"), when it cannot be opened as one; errno set by
 * the failed open. NULL when it is some other failure (a read error). */
static const char *not_there(int open_failed)
{
	if (!open_failed)
		return "not a regular file";
	if (errno == ENOENT || errno == ENOTDIR)
		return "missing";
	if (errno == ELOOP)
		return "not a regular file";
	return NULL;
}

int hub_intact_open(hub_intact *c, const char *evidence_dir, fl_db *db,
		    const char *iid, const char *name, const char *how,
		    double now, int *fd, fl_db_evfile *f,
		    enum hub_evstate *state, char *why, size_t whylen)
{
	char path[HUB_PATHLEN], hex[65];
	const char *found = NULL;
	fl_db_evfile row;
	struct stat st;
	long long bytes = -1;
	int rc, ofd, failed;

	*fd = -1;
	*state = HUB_EV_ABSENT;
	why[0] = 0;
	rc = fl_db_evidence_file(db, iid, name, &row);
	if (rc == FL_ENOENT) {
		hub_fmt(why, whylen, "%s: no such evidence file", name);
		return 0;
	}
	if (rc) {
		hub_fmt(why, whylen, "store: %s", fl_strerror(rc));
		return rc;
	}
	if (f)
		*f = row;
	if (!isnan(row.pruned)) {
		hub_fmt(why, whylen,
			"%s: removed with its bundle by the retention setting",
			name);
		return 0;
	}
	if (!isnan(row.tampered)) {
		*state = HUB_EV_TAMPERED;
		hub_fmt(why, whylen,
			"%s: tampered: it no longer matches the SHA-256 "
			"recorded when its bundle verified; not served",
			name);
		return 0;
	}
	hub_fmt(path, sizeof(path), "%s/%s/%s", evidence_dir, iid, name);
	ofd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	failed = ofd < 0;
	if (failed || fstat(ofd, &st) || !S_ISREG(st.st_mode)) {
		found = not_there(failed);
		if (ofd >= 0)
			close(ofd);
		if (!found) {
			hub_fmt(why, whylen, "%s: cannot be opened: %s", name,
				strerror(errno));
			return FL_EIO;
		}
		if (row.verified != 1) { /* not evidence: just not there */
			hub_fmt(why, whylen, "%s: %s", name, found);
			return 0;
		}
	} else {
		rc = version_sha(c, ofd, &st, path, now, hex, &bytes, why,
				 whylen);
		if (rc) {
			close(ofd);
			return rc;
		}
		if (!strcmp(hex, row.sha256) && bytes == row.bytes) {
			*fd = ofd;
			*state = HUB_EV_OK;
			return 0;
		}
		close(ofd);
		found = hex;
	}
	*state = HUB_EV_TAMPERED;
	hub_intact_record(db, &row, found, how, now);
	if (f && row.verified == 1)
		f->tampered = now;
	hub_fmt(why, whylen,
		"%s: %s: it does not match the SHA-256 recorded when its bundle "
		"%s (found %s); not served",
		name, row.verified == 1 ? "tampered" : "not the received file",
		row.verified == 1 ? "verified" : "arrived", found);
	return 0;
}

/* ---- the scrub ---------------------------------------------------------------- */

struct hub_scrub {
	const hub_conf *c;
	fl_db *db; /* the scrub's own handle */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC */
	int stop;
};

static int stopping(hub_scrub *s)
{
	int v;

	pthread_mutex_lock(&s->mu);
	v = s->stop;
	pthread_mutex_unlock(&s->mu);
	return v;
}

/* One recorded file hashed from disk (never the cache) and recorded.
 * Returns 1 when it does not match. */
static int scrub_file(hub_scrub *s, const fl_db_evfile *f)
{
	char path[HUB_PATHLEN], hex[65], err[256];
	const char *found = NULL;
	fl_db_evfile again;
	struct stat st;
	long long bytes = -1;
	int fd, failed;

	hub_fmt(path, sizeof(path), "%s/%s/%s", s->c->evidence_dir,
		f->incident_id, f->name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	failed = fd < 0;
	if (failed || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		found = not_there(failed);
		/* retention may have removed the bundle since the page was
		 * read (it records the removal first) */
		if (!found || (fl_db_evidence_file(s->db, f->incident_id,
						   f->name, &again) == 0 &&
			       !isnan(again.pruned))) {
			if (fd >= 0)
				close(fd);
			return 0;
		}
	} else if (fl_fd_sha256(fd, path, hex, &bytes, err, sizeof(err))) {
		fl_log(FL_LOG_WARN, "evidence", "scrub: %s", err);
		close(fd);
		return 0;
	} else if (strcmp(hex, f->sha256) || bytes != f->bytes) {
		found = hex;
	}
	if (fd >= 0)
		close(fd);
	hub_intact_record(s->db, f, found, "by the scrub", fl_wall_s());
	return found != NULL;
}

/* One pass over every recorded file of every verified bundle. */
static void scrub_pass(hub_scrub *s)
{
	fl_db_evfile *rows = calloc(PAGE, sizeof(*rows));
	char after_id[sizeof(rows->incident_id)] = "";
	char after_name[sizeof(rows->name)] = "";
	long files = 0, bundles = 0, bad = 0;
	double t0 = fl_mono_s();
	size_t n = PAGE, i;
	int rc = 0;

	if (!rows) {
		fl_log(FL_LOG_ERROR, "evidence", "scrub: out of memory");
		return;
	}
	while (n == PAGE && !stopping(s)) {
		rc = fl_db_evidence_scan(s->db, after_id, after_name, rows,
					 PAGE, &n);
		if (rc)
			break;
		for (i = 0; i < n && !stopping(s); i++) {
			if (strcmp(rows[i].incident_id, after_id))
				bundles++;
			bad += scrub_file(s, &rows[i]);
			files++;
			memcpy(after_id, rows[i].incident_id, sizeof(after_id));
			memcpy(after_name, rows[i].name, sizeof(after_name));
		}
	}
	if (rc)
		fl_log(FL_LOG_ERROR, "evidence", "scrub: store: %s",
		       fl_strerror(rc));
	fl_log(bad ? FL_LOG_WARN : FL_LOG_INFO, "evidence",
	       "scrub: %ld files of %ld verified bundles hashed in %.1f s, "
	       "%ld not as verified%s",
	       files, bundles, fl_mono_s() - t0, bad,
	       stopping(s) ? " (stopped)" : "");
	free(rows);
}

/* The first pass comes FIRST_S after the start (or the interval, when
 * shorter): a hub restarted more often than evidence_scrub_s would never
 * scrub otherwise, and a file changed while the hub was down is found. */
static void *scrub_main(void *arg)
{
	hub_scrub *s = arg;
	long ms = (long)(s->c->evidence_scrub_s * 1000.0);
	long wait = ms < FIRST_S * 1000L ? ms : FIRST_S * 1000L;

	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		struct timespec dl = fl_mono_deadline(wait);

		while (!s->stop &&
		       pthread_cond_timedwait(&s->cv, &s->mu, &dl) != ETIMEDOUT)
			;
		if (s->stop)
			break;
		pthread_mutex_unlock(&s->mu);
		scrub_pass(s);
		pthread_mutex_lock(&s->mu);
		wait = ms;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

hub_scrub *hub_scrub_start(const hub_conf *c, char *err, size_t errlen)
{
	char url[HUB_PATH + 16];
	pthread_condattr_t ca;
	hub_scrub *s = calloc(1, sizeof(*s));

	if (!s) {
		fl_seterr(err, errlen, "out of memory");
		return NULL;
	}
	s->c = c;
	hub_conf_store_url(c, url, sizeof(url));
	s->db = fl_db_open(url, err, errlen);
	if (!s->db)
		goto fail;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&s->th, NULL, scrub_main, s)) {
		fl_seterr(err, errlen, "cannot start the scrub's thread");
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		goto fail;
	}
	fl_log(FL_LOG_INFO, "evidence",
	       "scrub: every %.0f s, every file of every verified bundle",
	       c->evidence_scrub_s);
	return s;
fail:
	fl_db_close(s->db);
	free(s);
	return NULL;
}

void hub_scrub_stop(hub_scrub *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->th, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	fl_db_close(s->db);
	free(s);
}
