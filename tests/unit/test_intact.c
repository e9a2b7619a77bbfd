/*
 * test_intact.c - the check before evidence is served or packed
 * (src/hub/intact.c), on real files in a temporary folder and a real
 * SQLite store: a recorded file that matches is opened; one changed in
 * place with its mtime put back is found by its ctime even when its
 * version was cached, recorded tampered once (the row, one audit row), and
 * refused from the row after that; restored, it is recorded so; a missing
 * file or a symbolic link in its place is tampered; a file of a bundle that
 * did not verify is refused but not recorded; an unknown name and a bundle
 * retention removed are absent. Then the scrub (a thread, every second)
 * finds a file nobody asked for. With FL_TEST_STORE=postgresql://... the
 * store is that database, emptied first (teststore.h; store_pg.sh).
 *
 * --bench prints, as JSON, what the check costs on a 10 MB clip: the hash
 * (no cache; the file in the page cache, as on a hub that just served it),
 * a cache hit, and a plain open + fstat for comparison (scripts/bench.sh,
 * "evidence_check").
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "db.h"
#include "file.h"
#include "fl.h"
#include "hubconf.h"
#include "intact.h"
#include "test.h"
#include "teststore.h"

#define IID "ed-1-20261206-lane-a-1"
#define IID2 "ed-1-20261206-lane-a-2"

static char root[512], evdir[600], dbpath[600];

/* dir/<iid>/<name> */
static void path_of(char *out, size_t len, const char *iid, const char *name)
{
	snprintf(out, len, "%s/%s/%s", evdir, iid, name);
}

/* A file of the bundle written with data, read-only as the hub writes it;
 * its SHA-256 into sha. */
static void write_file(const char *iid, const char *name, const void *data,
		       size_t len, char sha[65])
{
	char p[1400], dir[1400], err[256];

	snprintf(dir, sizeof(dir), "%s/%s", evdir, iid);
	CHECK_EQ_INT(fl_mkdir_p(dir, 0755, err, sizeof(err)), 0);
	path_of(p, sizeof(p), iid, name);
	unlink(p);
	CHECK_EQ_INT(fl_file_write(p, data, len, 0444, 0, err, sizeof(err)), 0);
	fl_sha256_hex(data, len, sha);
}

/* One byte flipped in place, the modification time put back: what a
 * careful forger does (only ctime tells). */
static void flip(const char *iid, const char *name, off_t at)
{
	char p[1400];
	struct stat st;
	struct timespec ts[2];
	unsigned char b;
	int fd;

	path_of(p, sizeof(p), iid, name);
	chmod(p, 0644);
	fd = open(p, O_RDWR);
	if (!CHECK_MSG(fd >= 0, "%s: %s", p, strerror(errno)))
		return;
	CHECK_EQ_INT(fstat(fd, &st), 0);
	CHECK_EQ_INT(pread(fd, &b, 1, at), 1);
	b ^= 0x20;
	CHECK_EQ_INT(pwrite(fd, &b, 1, at), 1);
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	CHECK_EQ_INT(futimens(fd, ts), 0);
	close(fd);
	chmod(p, 0444);
}

/* An incident with a bundle of the given files recorded, verdict v. */
static void record(fl_db *db, const char *iid, const char *names[],
		   const char *shas[], const long long bytes[], size_t n, int v)
{
	char json[512], err[256];
	fl_db_msg m = { 0 };
	int dup = 0;

	snprintf(json, sizeof(json),
		 "{\"incident_id\": \"%s\", \"seq\": 1, \"type\": "
		 "\"occupied\", \"unix_time\": 1000}",
		 iid);
	m = (fl_db_msg){ .device = "ed-1",
			 .site = "s1",
			 .camera = "cam-1",
			 .lane = "lane-a",
			 .incident_id = iid,
			 .type = "occupied",
			 .seq = 1,
			 .wall = 1000,
			 .json = json };
	CHECK_MSG(fl_db_ingest(db, &m, &dup, err, sizeof(err)) == 0, "%s", err);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ_INT(fl_db_evidence_add(db, iid, names[i], shas[i],
						bytes[i], "scene", v > 0),
			     0);
	CHECK_EQ_INT(fl_db_evidence_set_verified(db, iid, v, "r"), 0);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(root, sizeof(root), "%s/fl-intact-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root)) {
		perror(root);
		exit(1);
	}
	snprintf(evdir, sizeof(evdir), "%s/ev", root);
	snprintf(dbpath, sizeof(dbpath), "%s/hub.db", root);
}

static fl_db *open_store(void)
{
	char url[700], err[256] = "";
	fl_db *db;

	if (test_pg_url())
		snprintf(url, sizeof(url), "%s", test_pg_url());
	else
		snprintf(url, sizeof(url), "sqlite:%s", dbpath);
	db = fl_db_open(url, err, sizeof(err));
	CHECK_MSG(db != NULL, "%s: %s", url, err);
	return db;
}

/* hub_intact_open, state only; closes the descriptor. */
static enum hub_evstate check(hub_intact *c, fl_db *db, const char *iid,
			      const char *name, double now, char *why,
			      size_t whylen)
{
	enum hub_evstate st = HUB_EV_ABSENT;
	int fd = -2, rc;

	rc = hub_intact_open(c, evdir, db, iid, name, "in the test", now, &fd,
			     NULL, &st, why, whylen);
	CHECK_MSG(rc == 0, "%s/%s: %s", iid, name, why);
	CHECK_MSG((st == HUB_EV_OK) == (fd >= 0), "%s: state %d, fd %d", name,
		  (int)st, fd);
	if (fd >= 0)
		close(fd);
	return st;
}

static void test_open(void)
{
	static const char a[] = "the verified composite image, as it arrived";
	static const char b[] = "a scene image";
	static const char u[] = "an image of a bundle that failed";
	char sha_a[65], sha_b[65], sha_c[65], sha_u[65], why[600], p[1400];
	const char *names[] = { "composite.jpg", "scene-1.jpg", "clip.mp4" };
	const char *shas[] = { sha_a, sha_b, sha_c };
	const long long bytes[] = { sizeof(a), sizeof(b), 5 };
	const char *unames[] = { "scene-1.jpg" };
	const char *ushas[] = { sha_u };
	const long long ubytes[] = { sizeof(u) };
	hub_intact *c = hub_intact_create();
	fl_db *db = open_store();
	double later = fl_wall_s() + 10; /* past the cache's racy window */
	fl_db_evfile f;
	int fd = -2;
	enum hub_evstate st;

	if (!CHECK_NOT_NULL(c) || !db)
		return;
	write_file(IID, "composite.jpg", a, sizeof(a), sha_a);
	write_file(IID, "scene-1.jpg", b, sizeof(b), sha_b);
	write_file(IID, "clip.mp4", "12345", 5, sha_c);
	record(db, IID, names, shas, bytes, 3, 1);
	write_file(IID2, "scene-1.jpg", u, sizeof(u), sha_u);
	record(db, IID2, unames, ushas, ubytes, 1, 0);

	/* as recorded: opened, the descriptor at its start */
	CHECK_EQ_INT(hub_intact_open(c, evdir, db, IID, "composite.jpg", "x",
				     later, &fd, &f, &st, why, sizeof(why)),
		     0);
	CHECK_EQ_INT(st, HUB_EV_OK);
	if (CHECK(fd >= 0)) {
		char got[sizeof(a)];

		CHECK_EQ_INT(read(fd, got, sizeof(got)), (long long)sizeof(a));
		CHECK(!memcmp(got, a, sizeof(a)));
		close(fd);
	}
	CHECK_STREQ(f.sha256, sha_a);
	CHECK_EQ_INT(f.verified, 1);
	/* cached now; changed in place with its mtime put back: the ctime
	 * makes it another version, hashed again */
	CHECK_EQ_INT(check(c, db, IID, "composite.jpg", later, why, sizeof(why)),
		     HUB_EV_OK);
	flip(IID, "composite.jpg", 4);
	CHECK_EQ_INT(check(c, db, IID, "composite.jpg", later, why, sizeof(why)),
		     HUB_EV_TAMPERED);
	CHECK(strstr(why, "tampered") != NULL);
	CHECK(fl_db_evidence_file(db, IID, "composite.jpg", &f) == 0 &&
	      !isnan(f.tampered));
	CHECK_EQ_INT(test_audits(db, IID, "evidence_tampered"), 1);
	/* refused from the row now, not audited again */
	CHECK_EQ_INT(check(c, db, IID, "composite.jpg", later, why, sizeof(why)),
		     HUB_EV_TAMPERED);
	CHECK_EQ_INT(test_audits(db, IID, "evidence_tampered"), 1);
	/* restored: the scrub (or an admin) records it; served again */
	flip(IID, "composite.jpg", 4);
	hub_intact_record(db, &f, NULL, "in the test", later);
	CHECK(fl_db_evidence_file(db, IID, "composite.jpg", &f) == 0 &&
	      isnan(f.tampered));
	CHECK_EQ_INT(test_audits(db, IID, "evidence_restored"), 1);
	CHECK_EQ_INT(check(c, db, IID, "composite.jpg", later, why, sizeof(why)),
		     HUB_EV_OK);

	/* a symbolic link in place of a verified file: tampered */
	path_of(p, sizeof(p), IID, "scene-1.jpg");
	CHECK_EQ_INT(unlink(p), 0);
	CHECK_EQ_INT(symlink("composite.jpg", p), 0);
	CHECK_EQ_INT(check(c, db, IID, "scene-1.jpg", later, why, sizeof(why)),
		     HUB_EV_TAMPERED);
	CHECK(strstr(why, "not a regular file") != NULL);
	/* missing: tampered */
	path_of(p, sizeof(p), IID, "clip.mp4");
	CHECK_EQ_INT(unlink(p), 0);
	CHECK_EQ_INT(check(c, db, IID, "clip.mp4", later, why, sizeof(why)),
		     HUB_EV_TAMPERED);
	CHECK(strstr(why, "missing") != NULL);
	CHECK_EQ_INT(test_audits(db, IID, "evidence_tampered"), 3);

	/* not evidence (the bundle failed): refused, never recorded */
	flip(IID2, "scene-1.jpg", 2);
	CHECK_EQ_INT(check(c, db, IID2, "scene-1.jpg", later, why, sizeof(why)),
		     HUB_EV_TAMPERED);
	CHECK(strstr(why, "not the received file") != NULL);
	CHECK(fl_db_evidence_file(db, IID2, "scene-1.jpg", &f) == 0 &&
	      isnan(f.tampered));
	CHECK_EQ_INT(test_audits(db, IID2, "evidence_tampered"), 0);

	/* absent: no such row; a file on disk nobody recorded is not served */
	write_file(IID, "planted.jpg", "x", 1, sha_u);
	CHECK_EQ_INT(check(c, db, IID, "planted.jpg", later, why, sizeof(why)),
		     HUB_EV_ABSENT);
	/* absent: retention removed the bundle (the row stays) */
	CHECK_EQ_INT(fl_db_evidence_pruned(db, IID2, later), 0);
	CHECK_EQ_INT(check(c, db, IID2, "scene-1.jpg", later, why, sizeof(why)),
		     HUB_EV_ABSENT);
	CHECK(strstr(why, "retention") != NULL);

	fl_db_close(db);
	hub_intact_destroy(c);
}

/* The scrub, every second: finds scene-1.jpg of a fresh bundle changed
 * without anyone asking for it. */
static void test_scrub(void)
{
	static const char a[] = "scrubbed scene image";
	const char *iid = "ed-1-20261206-lane-b-1";
	char sha[65], err[256];
	const char *names[] = { "scene-1.jpg" };
	const char *shas[] = { sha };
	const long long bytes[] = { sizeof(a) };
	fl_db *db = open_store();
	hub_conf conf;
	hub_scrub *s;
	fl_db_evfile f = { 0 };
	int i;

	if (!db)
		return;
	memset(&conf, 0, sizeof(conf));
	snprintf(conf.evidence_dir, sizeof(conf.evidence_dir), "%s", evdir);
	if (test_pg_url())
		snprintf(conf.store.postgresql, sizeof(conf.store.postgresql),
			 "%s", test_pg_url());
	else
		snprintf(conf.store.sqlite, sizeof(conf.store.sqlite), "%s",
			 dbpath);
	conf.evidence_scrub_s = 1;
	write_file(iid, "scene-1.jpg", a, sizeof(a), sha);
	record(db, iid, names, shas, bytes, 1, 1);
	s = hub_scrub_start(&conf, err, sizeof(err));
	if (!CHECK_MSG(s != NULL, "%s", err)) {
		fl_db_close(db);
		return;
	}
	flip(iid, "scene-1.jpg", 3);
	for (i = 0; i < 100; i++) {
		if (fl_db_evidence_file(db, iid, "scene-1.jpg", &f) == 0 &&
		    !isnan(f.tampered))
			break;
		usleep(100000);
	}
	CHECK_MSG(!isnan(f.tampered), "the scrub did not find it in %d s",
		  i / 10);
	hub_scrub_stop(s);
	CHECK_EQ_INT(test_audits(db, iid, "evidence_tampered"), 1);
	fl_db_close(db);
}

/* ---- --bench ------------------------------------------------------------------------ */

static int cmp_dbl(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/* The median of n timings of one kind of open, in ms. */
static double time_open(hub_intact *c, fl_db *db, int plain, int n, double now)
{
	double *t = calloc((size_t)n, sizeof(*t)), med;
	char why[600], p[1400];

	path_of(p, sizeof(p), IID, "clip.mp4");
	for (int i = 0; i < n; i++) {
		double t0 = fl_mono_s();
		enum hub_evstate st = HUB_EV_OK;
		struct stat sb;
		int fd;

		if (plain) {
			fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0 && fstat(fd, &sb))
				st = HUB_EV_ABSENT;
		} else if (hub_intact_open(c, evdir, db, IID, "clip.mp4", "x",
					   now, &fd, NULL, &st, why,
					   sizeof(why))) {
			fd = -1;
		}
		t[i] = (fl_mono_s() - t0) * 1000.0;
		if (fd < 0 || st != HUB_EV_OK) {
			fprintf(stderr, "bench: %s\n", why);
			exit(1);
		}
		close(fd);
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_dbl);
	med = t[n / 2];
	free(t);
	return med;
}

static int bench(void)
{
	enum { MB = 10 };
	size_t len = (size_t)MB << 20;
	unsigned char *data = malloc(len);
	char sha[65];
	const char *names[] = { "clip.mp4" };
	const char *shas[] = { sha };
	const long long bytes[] = { (long long)len };
	hub_intact *c = hub_intact_create();
	fl_db *db;
	double later = fl_wall_s() + 10, hash_ms, hit_ms, plain_ms;

	if (!data || !c)
		return 1;
	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 2654435761u >> 13);
	db = open_store();
	if (!db)
		return 1;
	write_file(IID, "clip.mp4", data, len, sha);
	record(db, IID, names, shas, bytes, 1, 1);
	free(data);
	plain_ms = time_open(NULL, db, 1, 200, later);
	hash_ms = time_open(NULL, db, 0, 9, later); /* no cache: hashed */
	time_open(c, db, 0, 1, later);              /* into the cache */
	hit_ms = time_open(c, db, 0, 200, later);
	printf("{\"file_bytes\": %zu, \"hash_ms\": %.2f, "
	       "\"hash_mb_per_s\": %.0f, \"cached_ms\": %.4f, "
	       "\"plain_open_ms\": %.4f}\n",
	       len, hash_ms, MB / (hash_ms / 1000.0), hit_ms, plain_ms);
	fl_db_close(db);
	hub_intact_destroy(c);
	return 0;
}

static void cleanup(void)
{
	char cmd[700];

	/* read-only files in a folder of the test's own */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", root);
}

int main(int argc, char **argv)
{
	int rc;

	fl_log_set(NULL, 0, NULL); /* the warnings are the point */
	setup();
	if (test_pg_url() && test_pg_reset(test_pg_url()) < 0)
		return 1;
	if (argc > 1 && !strcmp(argv[1], "--bench")) {
		rc = bench();
		cleanup();
		return rc;
	}
	test_open();
	test_scrub();
	cleanup();
	TEST_DONE();
}
