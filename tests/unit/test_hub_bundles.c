/*
 * test_hub_bundles.c - two hubs completing one evidence bundle at once
 * (src/hub/bundles.c, try_complete), on a real signed bundle made with the
 * edge's evidence API, a real SQLite store and a real evidence folder, all
 * in a temporary folder removed at the end. With
 * FL_TEST_STORE=postgresql://... the store is that database, emptied first
 * (teststore.h; store_pg.sh).
 *
 * Two hubs share one store and one evidence folder (docs/hub.md). With an
 * MQTT shared subscription one hub may take a bundle's last chunk while the
 * other takes its "evidence" list; both then find the bundle complete and
 * verify it, and the second's rows meet the first's verdict (FL_EEXIST from
 * the store). That must answer as a repeat (complete, verified), never as
 * an error the hub would quarantine a good message for.
 *
 * The race: for ROUNDS incidents, each with a bundle of its own (the
 * manifest names its incident, so a copy under another id would not
 * verify), every chunk but the last chunk of the last file goes through one
 * store handle; then two threads, each with its own handle on the same
 * store (two hubs), released together by a barrier, send the last chunk and
 * the list. Whichever interleaving the scheduler picks, neither call may
 * fail, at least one must report the bundle complete and verified, the
 * store must hold it verified and nothing may be left in .incoming. How
 * often both threads reported complete (the interleaving the FL_EEXIST
 * path exists for) is printed; it depends on the machine, so it is not
 * asserted. With the FL_EEXIST block of try_complete removed the test
 * fails in some rounds ("store: evidence ...: already exists").
 *
 * Then, sequentially, the contract for a bundle that verified: the list
 * sent again is a repeat (complete, verified, its receipt again); a list
 * with one file's SHA-256 changed is refused (FL_EEXIST) with an audit row.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "bundle.h"
#include "bundles.h"
#include "clock.h"
#include "db.h"
#include "file.h"
#include "fl.h"
#include "internal.h"
#include "msg.h"
#include "sign.h"
#include "store.h"
#include "test.h"
#include "teststore.h"

#define DEVICE "edge-01"
#define LANE "lane-a"
#define ROUNDS 60
/* The clip's size: several 64 KiB chunks, and enough bytes that assembling
 * and verifying take a while (the window the two hubs meet in). */
#define CLIP_BYTES (300 * 1024)
#define MAX_FILES 16

static char root[512], evdir[600], dbpath[600];

/* The clock seam (clock.h, fl__adjtimex), as in test_bundle.c: a kernel
 * clock synchronised within 20 ms, so every manifest is made the same way
 * whatever the machine's clock. */
int fl__adjtimex(struct timex *tx)
{
	tx->status = 0;
	tx->esterror = 5000;
	tx->maxerror = 20000;
	return TIME_OK;
}

/* One file of a bundle, read back from the edge's store. */
struct bfile {
	char name[HUB_FILE_MAX];
	char sha[65];
	unsigned char *data;
	size_t len;
};

struct bundle {
	struct bfile f[MAX_FILES];
	size_t n;
};

static void bundle_free(struct bundle *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->f[i].data);
	b->n = 0;
}

/* The edge's order (publish_evidence.c): the manifest's files, then
 * manifest.json, then manifest.sig. */
static int rank(const char *name)
{
	return !strcmp(name, "manifest.json")  ? 1
	       : !strcmp(name, "manifest.sig") ? 2
					       : 0;
}

static int in_edge_order(const void *a, const void *b)
{
	const char *x = ((const struct bfile *)a)->name;
	const char *y = ((const struct bfile *)b)->name;

	return rank(x) != rank(y) ? rank(x) - rank(y) : strcmp(x, y);
}

/* Seal incident id into s with k (as test_bundle.c's make_bundle, smaller:
 * two scene images and a clip of CLIP_BYTES) and read its files into b,
 * in the order the edge sends them. */
static int make_bundle(fl_store *s, const fl_key *k, const char *id,
		       struct bundle *b)
{
	fl_bundle_info info = {
		.incident_id = id,
		.device = DEVICE,
		.site = "site-7",
		.camera = "cam-1",
		.lane = LANE,
		.site_name = "Tower 7",
		.lane_name = "North fire lane",
		.rest_since_wall = 1764419600.25,
		.alarm_wall = 1764419900.5,
		.cleared_wall = -1,
		.bbox = { 10, 20, 300, 200 },
		.cls = "vehicle",
		.dwell_s = 300,
	};
	char err[512], path[1400], out[1024];
	unsigned char *clip;
	fl_bundle *bd;
	struct dirent *e;
	DIR *d;
	int rc;

	memset(b, 0, sizeof(*b));
	bd = fl_bundle_begin(s, &info, err, sizeof(err));
	if (!CHECK_MSG(bd != NULL, "begin: %s", err))
		return -1;
	for (int i = 0; i < 2; i++) {
		unsigned char jpg[3000];
		char t[32], code[13], sig[FL_SIG_B64_LEN], overlay[256];
		fl_bundle_image img;

		for (size_t j = 0; j < sizeof(jpg); j++)
			jpg[j] = (unsigned char)(j * 31 + i * 7);
		jpg[0] = 0xff, jpg[1] = 0xd8, jpg[2] = 0xff; /* SOI */
		jpg[sizeof(jpg) - 2] = 0xff, jpg[sizeof(jpg) - 1] = 0xd9;
		snprintf(t, sizeof(t), "2026-11-29 12:%02d:00", 30 + 5 * i);
		CHECK_EQ_INT(fl_evidence_code(k, DEVICE, id, LANE, i + 1, t,
					      code, sig, sizeof(sig)),
			     0);
		snprintf(overlay, sizeof(overlay),
			 "%s\nsite-7 lane-a\n" DEVICE " %s\n%s", t, id, code);
		img = (fl_bundle_image){ .kind = "scene",
					 .seq = i + 1,
					 .wall = 1764419800.0 + 150 * i,
					 .video_t = 200.0 + 150 * i,
					 .time_utc = t,
					 .code = code,
					 .code_sig = sig };
		snprintf(path, sizeof(path), "scene-%d.jpg", i + 1);
		rc = fl_bundle_add(bd, path, jpg, sizeof(jpg), &img, err,
				   sizeof(err));
		CHECK_MSG(rc == 0, "add: %s", err);
	}
	clip = malloc(CLIP_BYTES);
	if (!CHECK(clip != NULL))
		return -1;
	for (size_t j = 0; j < CLIP_BYTES; j++)
		clip[j] = (unsigned char)(j * 131 + j / 977);
	CHECK(fl_bundle_path(bd, "clip.mp4", path, sizeof(path)) == 0);
	CHECK_MSG(fl_file_write(path, clip, CLIP_BYTES, 0644, 0, err,
				sizeof(err)) == 0,
		  "%s", err);
	free(clip);
	rc = fl_bundle_add_existing(bd, "clip.mp4", "clip", 150.0, 420.0, err,
				    sizeof(err));
	CHECK_MSG(rc == 0, "add_existing: %s", err);
	rc = fl_bundle_seal(bd, k, out, sizeof(out), err, sizeof(err));
	if (!CHECK_MSG(rc == 0, "seal: %s", err)) {
		fl_bundle_abort(bd);
		return -1;
	}
	d = opendir(out);
	if (!CHECK_MSG(d != NULL, "%s", out))
		return -1;
	while ((e = readdir(d))) {
		struct bfile *f = &b->f[b->n];
		char *data = NULL;

		if (e->d_name[0] == '.' || !CHECK(b->n < MAX_FILES) ||
		    !CHECK(strlen(e->d_name) < sizeof(f->name)))
			continue;
		memcpy(f->name, e->d_name, strlen(e->d_name) + 1);
		snprintf(path, sizeof(path), "%s/%s", out, f->name);
		if (!CHECK_MSG(fl_file_read(path, 1 << 24, &data, &f->len, err,
					    sizeof(err)) == 0,
			       "%s", err))
			continue;
		f->data = (unsigned char *)data;
		fl_sha256_hex(f->data, f->len, f->sha);
		b->n++;
	}
	closedir(d);
	qsort(b->f, b->n, sizeof(b->f[0]), in_edge_order);
	CHECK_GE_INT((int)b->n, 4); /* 2 images, the clip, manifest + sig */
	return 0;
}

/* Chunk index of file f as the edge sends it (docs/mqtt.md). */
static hub_chunk chunk_of(const char *iid, const struct bfile *f, long index)
{
	hub_chunk c;
	long count = f->len ? (long)((f->len + HUB_CHUNK - 1) / HUB_CHUNK) : 1;

	memset(&c, 0, sizeof(c));
	snprintf(c.incident_id, sizeof(c.incident_id), "%s", iid);
	snprintf(c.file, sizeof(c.file), "%s", f->name);
	c.index = index;
	c.count = count;
	c.offset = (long long)index * HUB_CHUNK;
	c.size = (long long)f->len;
	c.data = f->data + c.offset;
	c.len = f->len - (size_t)c.offset < HUB_CHUNK
			? f->len - (size_t)c.offset
			: HUB_CHUNK;
	fl_sha256_hex(c.data, c.len, c.chunk_sha256);
	memcpy(c.file_sha256, f->sha, sizeof(c.file_sha256));
	return c;
}

static long chunks_of(const struct bfile *f)
{
	return f->len ? (long)((f->len + HUB_CHUNK - 1) / HUB_CHUNK) : 1;
}

/* The "evidence" message's list for b. */
static void list_of(const struct bundle *b, hub_file *files)
{
	for (size_t i = 0; i < b->n; i++) {
		memset(&files[i], 0, sizeof(files[i]));
		snprintf(files[i].name, sizeof(files[i].name), "%s",
			 b->f[i].name);
		memcpy(files[i].sha256, b->f[i].sha, 65);
		files[i].bytes = (long long)b->f[i].len;
	}
}

/* The incident's first message, so the store knows it (fl_db_ingest). */
static void ingest(fl_db *db, const char *iid)
{
	char json[512], err[256];
	fl_db_msg m;
	int dup = 0;

	snprintf(json, sizeof(json),
		 "{\"incident_id\": \"%s\", \"seq\": 1, \"type\": "
		 "\"occupied\", \"unix_time\": 1000}",
		 iid);
	m = (fl_db_msg){ .device = DEVICE,
			 .site = "site-7",
			 .camera = "cam-1",
			 .lane = LANE,
			 .incident_id = iid,
			 .type = "occupied",
			 .seq = 1,
			 .wall = 1000,
			 .json = json };
	CHECK_MSG(fl_db_ingest(db, &m, &dup, err, sizeof(err)) == 0, "%s: %s",
		  iid, err);
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

/* ---- the race ------------------------------------------------------------- */

/* One hub's part in a round: the last chunk (chunk set) or the list. The
 * thread records what it got; the main thread checks (test.h's counters
 * are not shared between threads). */
struct hub_call {
	fl_db *db;
	pthread_barrier_t *go;
	const char *iid;
	const unsigned char *pk;
	const hub_chunk *chunk; /* the last chunk, or NULL: the list */
	const hub_file *files;
	size_t nfiles;
	int rc;
	hub_bundle_done done;
	char err[512];
};

static void *hub_thread(void *arg)
{
	struct hub_call *h = arg;

	pthread_barrier_wait(h->go);
	if (h->chunk)
		h->rc = hub_evidence_chunk(evdir, h->db, NULL, DEVICE, h->chunk,
					   h->pk, 2000, &h->done, h->err,
					   sizeof(h->err));
	else
		h->rc = hub_evidence_list(evdir, h->db, DEVICE, h->iid,
					  h->files, h->nfiles, h->pk, 2000,
					  &h->done, h->err, sizeof(h->err));
	return NULL;
}

/* 1 when dir/.incoming/<iid> still exists. */
static int incoming_left(const char *iid)
{
	char p[1400];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/.incoming/%s", evdir, iid);
	return stat(p, &sb) == 0;
}

static void test_race(fl_store *s, const fl_key *k)
{
	fl_db *a = open_store(), *h1 = open_store(), *h2 = open_store();
	int both = 0, by_chunk = 0, by_list = 0, failed = 0;

	if (!a || !h1 || !h2)
		goto out;
	for (int r = 0; r < ROUNDS; r++) {
		char iid[128], err[512];
		struct bundle b;
		hub_file files[MAX_FILES];
		hub_chunk last;
		hub_bundle_done done;
		pthread_barrier_t go;
		pthread_t t1, t2;
		struct hub_call c1, c2;
		const struct bfile *lf;
		int v = -1, ok, before = test_failures;

		snprintf(iid, sizeof(iid), DEVICE "-20261207-" LANE "-%d",
			 r + 1);
		if (make_bundle(s, k, iid, &b))
			break;
		ingest(a, iid);
		list_of(&b, files);
		/* everything but the last chunk of the last file, through a */
		for (size_t i = 0; i < b.n; i++) {
			long n = chunks_of(&b.f[i]);

			for (long j = 0; j < n; j++) {
				hub_chunk c = chunk_of(iid, &b.f[i], j);

				if (i == b.n - 1 && j == n - 1)
					continue;
				CHECK_MSG(hub_evidence_chunk(evdir, a, NULL,
							     DEVICE, &c, k->pk,
							     1000, &done, err,
							     sizeof(err)) == 0,
					  "%s: %s chunk %ld: %s", iid,
					  b.f[i].name, j, err);
				CHECK_EQ_INT(done.complete, 0);
			}
		}
		lf = &b.f[b.n - 1];
		last = chunk_of(iid, lf, chunks_of(lf) - 1);

		/* two hubs at once: the last chunk and the list */
		pthread_barrier_init(&go, NULL, 2);
		c1 = (struct hub_call){ .db = h1,
					.go = &go,
					.iid = iid,
					.pk = k->pk,
					.chunk = &last };
		c2 = (struct hub_call){ .db = h2,
					.go = &go,
					.iid = iid,
					.pk = k->pk,
					.files = files,
					.nfiles = b.n };
		ok = pthread_create(&t1, NULL, hub_thread, &c1) == 0;
		ok = ok && pthread_create(&t2, NULL, hub_thread, &c2) == 0;
		if (!CHECK_MSG(ok, "pthread_create"))
			exit(1); /* a thread waits at the barrier forever */
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		pthread_barrier_destroy(&go);

		CHECK_MSG(c1.rc == 0, "%s: the last chunk: %s (%s)", iid,
			  fl_strerror(c1.rc), c1.err);
		CHECK_MSG(c2.rc == 0, "%s: the list: %s (%s)", iid,
			  fl_strerror(c2.rc), c2.err);
		CHECK_MSG(c1.done.complete || c2.done.complete,
			  "%s: neither hub completed the bundle", iid);
		if (c1.done.complete)
			CHECK_EQ_INT(c1.done.verified, 1);
		if (c2.done.complete)
			CHECK_EQ_INT(c2.done.verified, 1);
		CHECK_EQ_INT(fl_db_evidence_verdict(a, iid, &v), 0);
		CHECK_MSG(v == 1, "%s: verdict %d", iid, v);
		CHECK_MSG(!incoming_left(iid), "%s: .incoming left behind",
			  iid);
		both += c1.done.complete && c2.done.complete;
		by_chunk += c1.done.complete && !c2.done.complete;
		by_list += !c1.done.complete && c2.done.complete;
		failed += test_failures != before;
		bundle_free(&b);
	}
	printf("race: %d rounds: both hubs completed %d, only the chunk's "
	       "%d, only the list's %d; rounds failed %d\n",
	       ROUNDS, both, by_chunk, by_list, failed);
out:
	fl_db_close(a);
	fl_db_close(h1);
	fl_db_close(h2);
}

/* ---- a verified bundle's list, sequentially ----------------------------------- */

static void test_sealed_list(fl_store *s, const fl_key *k)
{
	const char *iid = DEVICE "-20261207-" LANE "-9000";
	fl_db *db = open_store();
	struct bundle b;
	hub_file files[MAX_FILES];
	hub_bundle_done done;
	char err[512];
	int v = -1;

	if (!db || make_bundle(s, k, iid, &b)) {
		fl_db_close(db);
		return;
	}
	ingest(db, iid);
	list_of(&b, files);
	/* the list first, then every chunk: the last one completes it */
	CHECK_EQ_INT(hub_evidence_list(evdir, db, DEVICE, iid, files, b.n,
				       k->pk, 1000, &done, err, sizeof(err)),
		     0);
	CHECK_EQ_INT(done.complete, 0);
	for (size_t i = 0; i < b.n; i++)
		for (long j = 0; j < chunks_of(&b.f[i]); j++) {
			hub_chunk c = chunk_of(iid, &b.f[i], j);

			CHECK_MSG(hub_evidence_chunk(evdir, db, NULL, DEVICE,
						     &c, k->pk, 1000, &done,
						     err, sizeof(err)) == 0,
				  "%s chunk %ld: %s", b.f[i].name, j, err);
		}
	CHECK_EQ_INT(done.complete, 1);
	CHECK_EQ_INT(done.verified, 1);
	CHECK_EQ_INT(fl_db_evidence_verdict(db, iid, &v), 0);
	CHECK_EQ_INT(v, 1);

	/* the list again (no receipt reached the edge): a repeat */
	memset(&done, 0, sizeof(done));
	CHECK_EQ_INT(hub_evidence_list(evdir, db, DEVICE, iid, files, b.n,
				       k->pk, 1100, &done, err, sizeof(err)),
		     0);
	CHECK_EQ_INT(done.complete, 1);
	CHECK_EQ_INT(done.verified, 1);
	CHECK_EQ_INT((int)strlen(done.manifest_sha256), 64);
	CHECK_EQ_INT(hub_evidence_list_check(db, DEVICE, iid, files, b.n, 1100,
					     &done, err, sizeof(err)),
		     1);
	CHECK_EQ_INT(test_audits(db, iid, "evidence_refused"), 0);

	/* one file's SHA-256 changed after it verified: refused, audited */
	files[0].sha256[0] = files[0].sha256[0] == '0' ? '1' : '0';
	CHECK_EQ_INT(hub_evidence_list_check(db, DEVICE, iid, files, b.n, 1200,
					     &done, err, sizeof(err)),
		     FL_EEXIST);
	CHECK_MSG(strstr(err, iid) != NULL, "%s", err);
	CHECK_EQ_INT(done.complete, 0);
	CHECK_EQ_INT(test_audits(db, iid, "evidence_refused"), 1);
	CHECK_EQ_INT(fl_db_evidence_verdict(db, iid, &v), 0);
	CHECK_EQ_INT(v, 1);
	bundle_free(&b);
	fl_db_close(db);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	fl_store_opts o = { .min_free_bytes = 1 };
	char dir[700], err[512];
	fl_store *s;
	fl_key k;

	fl_log_set(NULL, 0, NULL); /* the refusal's warning is expected */
	CHECK_GE_INT(sodium_init(), 0);
	snprintf(root, sizeof(root), "%s/fl-hub-bundles-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root)) {
		perror(root);
		return 1;
	}
	snprintf(evdir, sizeof(evdir), "%s/ev", root);
	snprintf(dbpath, sizeof(dbpath), "%s/hub.db", root);
	if (test_pg_url() && test_pg_reset(test_pg_url()) < 0)
		return 1;
	snprintf(dir, sizeof(dir), "%s/key/device.key", root);
	if (!CHECK_MSG(fl_key_load_or_create(dir, &k, NULL, err, sizeof(err)) ==
			       0,
		       "%s", err))
		return 1;
	snprintf(dir, sizeof(dir), "%s/store", root);
	s = fl_store_open(dir, &o, err, sizeof(err));
	if (CHECK_MSG(s != NULL, "%s", err)) {
		/* the store is created by the first handle, alone */
		fl_db_close(open_store());
		test_sealed_list(s, &k);
		test_race(s, &k);
		fl_store_close(s);
	}
	fl_key_wipe(&k);
	if (!test_failures)
		fl__rm_rf(root);
	else
		fprintf(stderr, "scratch left in %s\n", root);
	TEST_DONE();
}
