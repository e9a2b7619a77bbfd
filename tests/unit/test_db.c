/*
 * test_db.c - the hub's store (src/store) on a temporary file database and
 * on ":memory:".
 *
 * Checks: migrations (a second open keeps the version; a version-1 database
 * is upgraded with its data; a database newer than the build is refused),
 * WAL mode, idempotent ingest (a repeated (incident_id, seq) is a dup with
 * one row; out-of-order delivery ends in the highest seq's status), the
 * incident life cycle and its times, list filters, paging and the
 * allowed-sites restriction, users (argon2id, wrong password and unknown user
 * refused), outcome amendments with history and audit rows, the report's
 * figures on a known dataset (median and p90 by hand), hostile strings and a
 * 1 MB payload stored and returned verbatim, durability across close/reopen,
 * the receipts re-sent to a device back online (verified bundles with a
 * manifest in the window, newest first, bounded), the evidence verdict
 * (a verified bundle's rows never replaced, its verdict never lowered; a
 * file marked tampered and cleared, shown on the incident; the scrub's
 * walk), two hubs handling one device's statuses, camera events and
 * verdicts at once (each answer the rule's, as if one after the other),
 * and the backend's own contract (backend.h): an incident row read back as written, NULL times
 * as NAN, a message stored twice refused as taken (FL_EEXIST).
 * The database is inspected beside the store with SQLite's own API.
 *
 * With FL_TEST_STORE=postgresql://... (tests/integration/store_pg.sh) the
 * tests of the PostgreSQL backend's operations that exist run against that
 * database instead (pg_suite; it empties the database): its migrations,
 * the backend's contract, devices, cameras and receipts, ingest and
 * batches, evidence rows and files, the verdict, the incident list and its
 * filters, users and the login throttle, outcomes and the audit trail,
 * plates a person enters and plate retention, the report's figures,
 * hostile input (quarantined bytes among it), two writers racing on
 * one incident, and two hubs racing on one device (where READ COMMITTED
 * lets a read-then-write lose an update unless the row is locked).
 *
 *   test_db --bench N   (scripts/bench.sh) prints one JSON object: ingest
 *   rates and query latencies with N incidents stored (see bench()).
 */
#include <jansson.h>
#include <sodium.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "db.h"
#include "fl.h"
#include "receipt.h"
#include "test.h"
#include "teststore.h"
#include "username.h"

static char dir[256];

static void path_of(char *out, size_t n, const char *name, int url)
{
	snprintf(out, n, "%s%s/%s", url ? "sqlite:" : "", dir, name);
}

/* Inspect the file beside the store: one integer from a constant query. */
static long long peek(const char *name, const char *sql)
{
	char p[512];
	sqlite3 *h;
	sqlite3_stmt *s;
	long long v = -1;

	path_of(p, sizeof(p), name, 0);
	if (sqlite3_open_v2(p, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(h);
	return v;
}

#ifdef FL_HAVE_LIBPQ
static const char *pg_url; /* FL_TEST_STORE (pg_suite) */
static int pg_reset(void);
#endif

/* A store: a file beside the test's, or ":memory:" a private one (on
 * PostgreSQL, with FL_TEST_STORE: the test database emptied). */
static fl_db *open_db(const char *name)
{
	char url[512], err[256] = "";
	fl_db *db;

#ifdef FL_HAVE_LIBPQ
	if (pg_url && !strcmp(name, ":memory:")) {
		if (!test_store_url(NULL))
			return NULL;
		db = fl_db_open(pg_url, err, sizeof(err));
		CHECK_MSG(db != NULL, "%s: %s", pg_url, err);
		return db;
	}
#endif
	if (!strcmp(name, ":memory:"))
		snprintf(url, sizeof(url), "sqlite::memory:");
	else
		path_of(url, sizeof(url), name, 1);
	db = fl_db_open(url, err, sizeof(err));
	CHECK_MSG(db != NULL, "%s: %s", url, err);
	return db;
}

/* An incident message in the edge's shape (docs/mqtt.md). */
static int put(fl_db *db, const char *dev, const char *site, const char *lane,
	       const char *id, unsigned seq, const char *type, double wall,
	       const char *extra, int *dup)
{
	char json[2048], err[256] = "";
	fl_db_msg m = { 0 };
	int r;

	snprintf(json, sizeof(json),
		 "{\"incident_id\": \"%s\", \"seq\": %u, \"type\": \"%s\", "
		 "\"site\": \"%s\", \"device\": \"%s\", \"camera\": \"cam-1\", "
		 "\"lane\": \"%s\", \"unix_time\": %.3f%s%s}",
		 id, seq, type, site, dev, lane, wall, extra ? ", " : "",
		 extra ? extra : "");
	m.device = dev;
	m.site = site;
	m.camera = "cam-1";
	m.lane = lane;
	m.incident_id = id;
	m.type = type;
	m.seq = seq;
	m.wall = wall;
	m.json = json;
	r = fl_db_ingest(db, &m, dup, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "ingest %s/%u: %s\n", id, seq, err);
	return r;
}

static json_t *incident(fl_db *db, const char *id)
{
	char *t = fl_db_incident_json(db, id);
	json_t *j = t ? json_loads(t, 0, NULL) : NULL;

	free(t);
	return j;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static double jnum(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_number(v) ? json_number_value(v) : -1;
}

static json_t *list(fl_db *db, const fl_db_filter *f)
{
	char *t = fl_db_incidents_json(db, f);
	json_t *j = t ? json_loads(t, 0, NULL) : NULL;

	CHECK(j != NULL);
	free(t);
	return j;
}

static long long total(fl_db *db, const fl_db_filter *f)
{
	json_t *j = list(db, f);
	long long n = j ? json_integer_value(json_object_get(j, "total")) : -1;

	json_decref(j);
	return n;
}

/* ---- migrations, WAL, durability ------------------------------------------------ */

static void test_migrations(void)
{
	char url[512], err[256] = "";
	fl_db *db;

	/* a fresh file: the latest version, twice */
	db = open_db("m.db");
	CHECK(fl_db_schema_version(db) == fl_db_schema_latest());
	CHECK(fl_db_schema_latest() >= 2);
	fl_db_close(db);
	db = open_db("m.db");
	CHECK(fl_db_schema_version(db) == fl_db_schema_latest());
	fl_db_close(db);
	CHECK(peek("m.db", "SELECT count(*) FROM schema_version") == 1);
	{
		char p[512];
		sqlite3 *h;
		sqlite3_stmt *s;

		path_of(p, sizeof(p), "m.db", 0);
		CHECK(sqlite3_open(p, &h) == SQLITE_OK);
		CHECK(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &s,
					 NULL) == SQLITE_OK);
		CHECK(sqlite3_step(s) == SQLITE_ROW);
		CHECK(!strcmp((const char *)sqlite3_column_text(s, 0), "wal"));
		sqlite3_finalize(s);
		sqlite3_close(h);
	}

	/* a version-1 database with data is upgraded, data kept */
	path_of(url, sizeof(url), "old.db", 1);
	db = fl__db_open_version(url, 1, err, sizeof(err));
	CHECK_MSG(db != NULL, "%s", err);
	CHECK(fl_db_schema_version(db) == 1);
	CHECK(fl_db_device_enrol(db, "edge-old", "s-old",
				 "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
				 err, sizeof(err)) == 0);
	fl_db_close(db);
	CHECK(peek("old.db",
		   "SELECT count(*) FROM pragma_table_info('incidents')"
		   " WHERE name = 'plate'") == 0);
	db = open_db("old.db");
	CHECK(fl_db_schema_version(db) == fl_db_schema_latest());
	CHECK(fl_db_device_get(db, "edge-old", NULL, 0, NULL, 0) == 0);
	fl_db_close(db);
	CHECK(peek("old.db",
		   "SELECT count(*) FROM pragma_table_info('incidents')"
		   " WHERE name = 'plate'") == 1);
	CHECK(peek("old.db",
		   "SELECT count(*) FROM pragma_table_info('incidents')"
		   " WHERE name = 'evidence_pruned'") == 1);
	CHECK(peek("old.db", "SELECT version FROM schema_version") ==
	      fl_db_schema_latest());

	/* four processes open a version-1 file at once: each gets the latest
	 * version, the migration ran once (one schema_version row) */
	path_of(url, sizeof(url), "race.db", 1);
	db = fl__db_open_version(url, 1, err, sizeof(err));
	CHECK_MSG(db != NULL, "%s", err);
	fl_db_close(db);
	{
		pid_t kids[4];
		int ok = 0, st;

		for (int i = 0; i < 4; i++) {
			kids[i] = fork();
			if (kids[i] == 0) {
				fl_db *c = fl_db_open(url, err, sizeof(err));
				int v = c ? fl_db_schema_version(c) : -1;

				fl_db_close(c);
				_exit(v == fl_db_schema_latest() ? 0 : 1);
			}
		}
		for (int i = 0; i < 4; i++)
			if (kids[i] > 0 &&
			    waitpid(kids[i], &st, 0) == kids[i] &&
			    WIFEXITED(st) && WEXITSTATUS(st) == 0)
				ok++;
		CHECK(ok == 4);
		CHECK(peek("race.db", "SELECT count(*) FROM schema_version") ==
		      1);
		CHECK(peek("race.db",
			   "SELECT count(*) FROM sqlite_master"
			   " WHERE name = 'incidents_site_start'") == 1);
	}

	/* newer than this build: refused, with the reason */
	{
		char p[512];
		sqlite3 *h;

		path_of(p, sizeof(p), "old.db", 0);
		CHECK(sqlite3_open(p, &h) == SQLITE_OK);
		CHECK(sqlite3_exec(h, "UPDATE schema_version SET version = 999",
				   NULL, NULL, NULL) == SQLITE_OK);
		sqlite3_close(h);
		path_of(url, sizeof(url), "old.db", 1);
		err[0] = '\0';
		db = fl_db_open(url, err, sizeof(err));
		CHECK(db == NULL);
		CHECK_MSG(strstr(err, "newer") != NULL, "%s", err);
		fl_db_close(db);
	}

	/* bad URLs */
	CHECK(fl_db_open("mysql://x", err, sizeof(err)) == NULL);
	CHECK(fl_db_open("sqlite:/nonexistent-dir/x/y.db", err, sizeof(err)) ==
	      NULL);
	CHECK(fl_db_open(NULL, err, sizeof(err)) == NULL);
}

/* ---- devices --------------------------------------------------------------------- */

/* The camera health of edge-01 (enrolled by test_devices) after each
 * event: {camera, state, problems, since, last_event}; the will. */
static json_t *camera_of(fl_db *db, const char *camera, json_t **dev)
{
	char *t = fl_db_devices_json(db);
	json_t *j = t ? json_loads(t, 0, NULL) : NULL, *d, *c, *out = NULL;
	size_t i;

	free(t);
	d = json_array_get(json_object_get(j, "devices"), 0);
	json_array_foreach(json_object_get(d, "cameras"), i,
			   c) if (!strcmp(jstr(c, "camera"), camera))
		out = json_incref(c);
	if (dev)
		*dev = json_incref(d);
	json_decref(j);
	return out;
}

/* A camera's problems as a comma list, in got. */
static void problems_of(json_t *c, char *got, size_t n)
{
	json_t *v;
	size_t i;

	got[0] = '\0';
	json_array_foreach(json_object_get(c, "problems"), i, v)
		snprintf(got + strlen(got), n - strlen(got), "%s%s",
			 i ? "," : "", json_string_value(v));
}

static int cam_is(fl_db *db, const char *camera, const char *state,
		  const char *problems, double since, double last)
{
	json_t *c = camera_of(db, camera, NULL);
	char got[64];
	int ok;

	if (!c)
		return 0;
	problems_of(c, got, sizeof(got));
	ok = !strcmp(jstr(c, "state"), state) && !strcmp(got, problems) &&
	     (isnan(since) || jnum(c, "since") == since) &&
	     (isnan(last) || jnum(c, "last_event") == last);
	if (!ok)
		fprintf(stderr,
			"camera %s: state %s problems [%s] since %g "
			"last %g; expected %s [%s] %g %g\n",
			camera, jstr(c, "state"), got, jnum(c, "since"),
			jnum(c, "last_event"), state, problems, since, last);
	json_decref(c);
	return ok;
}

static void test_cameras(fl_db *db)
{
	json_t *d = NULL;

	/* the sequence docs/health.md describes, then the stream lost */
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", "health", "frozen",
				 2000) == 0);
	CHECK(cam_is(db, "cam-1", "frozen", "frozen", 2000, 2000));
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", "health", "covered",
				 2010) == 0);
	CHECK(cam_is(db, "cam-1", "covered", "covered,frozen", 2010, 2010));
	/* a repeat changes nothing but the time of the last event */
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", "health", "covered",
				 2015) == 0);
	CHECK(cam_is(db, "cam-1", "covered", "covered,frozen", 2010, 2015));
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", "camera_offline",
				 "stream lost: connection refused", 2020) == 0);
	CHECK(cam_is(db, "cam-1", "offline", "covered,frozen", 2020, 2020));
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", "camera_online", "",
				 2030) == 0);
	CHECK(cam_is(db, "cam-1", "covered", "covered,frozen", 2030, 2030));
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", "health",
				 "cleared: covered", 2040) == 0);
	CHECK(cam_is(db, "cam-1", "frozen", "frozen", 2040, 2040));
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", "health",
				 "cleared: frozen", 2050) == 0);
	CHECK(cam_is(db, "cam-1", "ok", "", 2050, 2050));
	/* overloaded: the lowest precedence; all four fit the problems */
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", "health", "overloaded",
				 2051) == 0);
	CHECK(cam_is(db, "cam-1", "overloaded", "overloaded", 2051, 2051));
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", "health", "frozen",
				 2052) == 0);
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", "health", "moved",
				 2053) == 0);
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", "health", "covered",
				 2054) == 0);
	CHECK(cam_is(db, "cam-1", "covered", "covered,moved,frozen,overloaded",
		     2054, 2054));
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", "health",
				 "cleared: covered", 2055) == 0);
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", "health",
				 "cleared: moved", 2055) == 0);
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", "health",
				 "cleared: frozen", 2055) == 0);
	CHECK(cam_is(db, "cam-1", "overloaded", "overloaded", 2055, 2055));
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", "health",
				 "cleared: overloaded", 2056) == 0);
	CHECK(cam_is(db, "cam-1", "ok", "", 2056, 2056));
	/* a clear of what is not there is harmless */
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", "health",
				 "cleared: moved", 2060) == 0);
	CHECK(cam_is(db, "cam-1", "ok", "", 2056, 2060));
	/* a second camera, its own row; order by camera id */
	CHECK(fl_db_camera_event(db, "edge-01", "cam-0", "health", "moved",
				 2070) == 0);
	CHECK(cam_is(db, "cam-0", "moved", "moved", 2070, 2070));
	CHECK(cam_is(db, "cam-1", "ok", "", 2056, 2060));
	/* refused: unknown type or condition, no ids; nothing changes */
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", "health", "melted",
				 2080) == FL_EINVAL);
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", "health", "cleared: x",
				 2080) == FL_EINVAL);
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", "reboot", "", 2080) ==
	      FL_EINVAL);
	CHECK(fl_db_camera_event(db, "edge-01", "cam-1", NULL, NULL, 2080) ==
	      FL_EINVAL);
	CHECK(fl_db_camera_event(db, "edge-01", "", "health", "moved", 2080) ==
	      FL_EINVAL);
	CHECK(cam_is(db, "cam-1", "ok", "", 2056, 2060));
	/* SQL-looking ids are data */
	CHECK(fl_db_camera_event(db, "edge-01", "x'); DROP TABLE cameras;--",
				 "camera_offline", "", 2090) == 0);
	CHECK(cam_is(db, "x'); DROP TABLE cameras;--", "offline", "", 2090,
		     2090));
	/* the last will: the device is offline, its cameras as last told */
	CHECK(fl_db_device_seen(db, "edge-01", "offline", 2100, NULL) == 0);
	json_decref(camera_of(db, "cam-0", &d));
	CHECK(d && !strcmp(jstr(d, "status"), "offline"));
	CHECK(d && jnum(d, "last_seen") == 2100);
	CHECK(d && json_array_size(json_object_get(d, "cameras")) == 3);
	json_decref(d);
	CHECK(fl_db_device_seen(db, "edge-01", "online", 2110, NULL) == 0);
}

/* A status of edge-01 at epoch e: 1 applied, 0 stale (was: before). */
static int status_at(fl_db *db, const char *st, unsigned long long e,
		     const char *hb, char *was)
{
	int applied = -1;

	CHECK(fl_db_device_status_at(db, "edge-01", st, e, 3000, hb, was, 16,
				     &applied) == 0);
	return applied;
}

/* fl_db_device_status_at: statuses ordered by (epoch, online < offline =
 * stopped), whatever order they arrive in; a heartbeat of the present
 * connection is fresh, of an earlier one stale; epoch 0 always applies. */
static void test_status_order(fl_db *db)
{
	char was[16], st[16];

	CHECK(status_at(db, "online", 100, NULL, was) == 1); /* over epoch 0 */
	CHECK_STREQ(was, "online");
	CHECK(status_at(db, "offline", 100, NULL, was) == 1); /* its will */
	CHECK_STREQ(was, "online");
	/* the old online replayed after the will: changes nothing */
	CHECK(status_at(db, "online", 100, NULL, was) == 0);
	CHECK(fl_db_device_status(db, "edge-01", st, sizeof(st)) == 0);
	CHECK_STREQ(st, "offline");
	/* ... nor does a heartbeat of that connection */
	CHECK(status_at(db, "online", 100, "{\"epoch\": 100}", was) == 0);
	/* a new connection */
	CHECK(status_at(db, "online", 200, NULL, was) == 1);
	CHECK_STREQ(was, "offline");
	CHECK(status_at(db, "online", 200, "{\"uptime_s\": 9}", was) == 1);
	CHECK(status_at(db, "offline", 100, NULL, was) == 0); /* old will */
	CHECK(status_at(db, "stopped", 99, NULL, was) == 0);
	CHECK(fl_db_device_status(db, "edge-01", st, sizeof(st)) == 0);
	CHECK_STREQ(st, "online");
	CHECK(status_at(db, "stopped", 200, NULL, was) == 1);
	CHECK(status_at(db, "offline", 200, NULL, was) == 0); /* same rank */
	/* epoch 0: a device from before epochs, as it always was */
	CHECK(status_at(db, "online", 0, NULL, was) == 1);
	CHECK_STREQ(was, "stopped");
	CHECK(status_at(db, "offline", 0, NULL, was) == 1);
	CHECK(fl_db_device_status_at(db, "edge-01", "hacked", 5, 1, NULL, NULL,
				     0, NULL) == FL_EINVAL);
	CHECK(fl_db_device_status_at(db, "nobody", "online", 5, 1, NULL, NULL,
				     0, NULL) == FL_ENOENT);
	/* leave it as test_devices found it */
	CHECK(status_at(db, "online", 0, "{\"uptime_s\": 5}", was) == 1);
}

static void test_devices(fl_db *db)
{
	char site[64], pk[64], err[256];
	char *t;
	json_t *j;

	CHECK(fl_db_device_enrol(db, "edge-01", "demo-site",
				 "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
				 err, sizeof(err)) == 0);
	CHECK(fl_db_device_enrol(db, "edge 01", "demo-site",
				 "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
				 err, sizeof(err)) == FL_EINVAL);
	CHECK(fl_db_device_enrol(db, "edge-02", "demo-site", "AAAA", err,
				 sizeof(err)) == FL_EINVAL);
	CHECK(strstr(err, "32-byte") != NULL);
	CHECK(fl_db_device_get(db, "edge-01", site, sizeof(site), pk,
			       sizeof(pk)) == 0);
	CHECK(!strcmp(site, "demo-site"));
	CHECK(!strcmp(pk, "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="));
	CHECK(fl_db_device_get(db, "nobody", site, sizeof(site), pk,
			       sizeof(pk)) == FL_ENOENT);
	CHECK(fl_db_device_seen(db, "edge-01", "online", 1000.0,
				"{\"uptime_s\": 5}") == 0);
	CHECK(fl_db_device_seen(db, "edge-01", NULL, 1010.0, NULL) == 0);
	CHECK(fl_db_device_seen(db, "nobody", "online", 1.0, NULL) == FL_ENOENT);
	t = fl_db_devices_json(db);
	j = t ? json_loads(t, 0, NULL) : NULL;
	CHECK(j != NULL);
	if (j) {
		json_t *d = json_array_get(json_object_get(j, "devices"), 0);

		CHECK(!strcmp(jstr(d, "device"), "edge-01"));
		CHECK(!strcmp(jstr(d, "status"), "online"));
		CHECK(jnum(d, "last_seen") == 1010.0);
		CHECK(jnum(json_object_get(d, "heartbeat"), "uptime_s") == 5);
		CHECK(json_array_size(json_object_get(d, "cameras")) == 0);
	}
	json_decref(j);
	free(t);
	test_status_order(db);
	test_cameras(db);
}

/* ---- receipts re-sent on reconnect -------------------------------------------------- */

/* One incident of dev started at wall, with a manifest.json row (sha: 64
 * hex digits of c) unless c is 0, and verified v (< 0: never verified). */
static void bundle(fl_db *db, const char *dev, const char *id, double wall,
		   char c, int v)
{
	char sha[65];
	int dup;

	CHECK(put(db, dev, "s1", "lane-a", id, 1, "occupied", wall, NULL,
		  &dup) == 0);
	CHECK(fl_db_evidence_add(db, id, "scene-1.jpg", "aa", 1, "scene",
				 v > 0) == 0);
	if (c) {
		memset(sha, c, 64);
		sha[64] = 0;
		CHECK(fl_db_evidence_add(db, id, "manifest.json", sha, 10,
					 "manifest", v > 0) == 0);
	}
	if (v >= 0)
		CHECK(fl_db_evidence_set_verified(db, id, v, "r") == 0);
}

/* fl_db_device_receipts: the device's verified bundles with a manifest in
 * the window, newest first, bounded; fl_db_device_status. */
static void test_receipts(void)
{
	fl_db *db = open_db(":memory:");
	fl_receipt *r = (fl_receipt *)1;
	char st[16] = "x";
	size_t n = 7;
	const char *pk = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
	char err[256];

	if (!db)
		return;
	CHECK(fl_db_device_enrol(db, "ed-a", "s1", pk, err, sizeof(err)) == 0);
	CHECK(fl_db_device_enrol(db, "ed-b", "s1", pk, err, sizeof(err)) == 0);
	CHECK(fl_db_device_status(db, "ed-a", st, sizeof(st)) == 0 && !st[0]);
	CHECK(fl_db_device_seen(db, "ed-a", "offline", 5.0, NULL) == 0);
	CHECK(fl_db_device_status(db, "ed-a", st, sizeof(st)) == 0 &&
	      !strcmp(st, "offline"));
	CHECK(fl_db_device_status(db, "nobody", st, sizeof(st)) == FL_ENOENT);

	/* nothing yet: 0 and an empty answer */
	CHECK(fl_db_device_receipts(db, "ed-a", 0, 100, &r, &n) == 0);
	CHECK(r == NULL && n == 0);
	bundle(db, "ed-a", "ed-a-1", 1000, '1', 1);  /* old, verified */
	bundle(db, "ed-a", "ed-a-2", 2000, '2', 1);  /* verified */
	bundle(db, "ed-a", "ed-a-3", 3000, '3', 0);  /* failed: left out */
	bundle(db, "ed-a", "ed-a-4", 4000, 0, 1);    /* no manifest row */
	bundle(db, "ed-a", "ed-a-5", 5000, '5', -1); /* not verified yet */
	bundle(db, "ed-a", "ed-a-6", 6000, 'a', 1);  /* newest, verified */
	bundle(db, "ed-b", "ed-b-1", 5500, 'b', 1);  /* another device */
	/* verified, but its manifest's hash no receipt can carry:
	 * skipped */
	bundle(db, "ed-a", "ed-a-7", 500, 0, -1);
	CHECK(fl_db_evidence_add(db, "ed-a-7", "manifest.json", "abc", 10,
				 "manifest", 1) == 0);
	CHECK(fl_db_evidence_set_verified(db, "ed-a-7", 1, "r") == 0);

	CHECK(fl_db_device_receipts(db, "ed-a", 0, 100, &r, &n) == 0);
	CHECK(n == 3);
	if (n == 3) {
		CHECK(!strcmp(r[0].incident_id, "ed-a-6") && r[0].verified &&
		      !strcmp(r[0].manifest_sha256,
			      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
		CHECK(!strcmp(r[1].incident_id, "ed-a-2") &&
		      r[1].manifest_sha256[0] == '2' &&
		      strlen(r[1].manifest_sha256) == 64);
		CHECK(!strcmp(r[2].incident_id, "ed-a-1"));
	}
	free(r);
	/* the window: started at or after since */
	CHECK(fl_db_device_receipts(db, "ed-a", 2000, 100, &r, &n) == 0);
	CHECK(n == 2 && !strcmp(r[1].incident_id, "ed-a-2"));
	free(r);
	CHECK(fl_db_device_receipts(db, "ed-a", 6000.5, 100, &r, &n) == 0);
	CHECK(n == 0 && r == NULL);
	/* the bound keeps the newest */
	CHECK(fl_db_device_receipts(db, "ed-a", 0, 1, &r, &n) == 0);
	CHECK(n == 1 && !strcmp(r[0].incident_id, "ed-a-6"));
	free(r);
	/* a verification that succeeds later (the list again) joins */
	CHECK(fl_db_evidence_set_verified(db, "ed-a-3", 1, "ok") == 0);
	CHECK(fl_db_device_receipts(db, "ed-a", 0, 100, &r, &n) == 0);
	CHECK(n == 4 && !strcmp(r[1].incident_id, "ed-a-3"));
	free(r);
	CHECK(fl_db_device_receipts(db, "ed-b", 0, 100, &r, &n) == 0);
	CHECK(n == 1 && !strcmp(r[0].incident_id, "ed-b-1"));
	free(r);
	CHECK(fl_db_device_receipts(db, "nobody", 0, 100, &r, &n) == 0);
	CHECK(n == 0 && r == NULL);
	/* bad arguments */
	CHECK(fl_db_device_receipts(db, "ed-a", 0, 0, &r, &n) == FL_EINVAL);
	CHECK(fl_db_device_receipts(db, "ed-a", 0, FL_DB_RECEIPTS_MAX + 1, &r,
				    &n) == FL_EINVAL);
	CHECK(fl_db_device_receipts(db, NULL, 0, 10, &r, &n) == FL_EINVAL);
	CHECK(fl_db_device_receipts(NULL, "ed-a", 0, 10, &r, &n) == FL_EINVAL);
	CHECK(r == NULL && n == 0);
	fl_db_close(db);
}

/* ---- the evidence verdict, tampered files ---------------------------------------------- */

/* A verified bundle's rows are never replaced and its verdict never
 * lowered; a failed one may verify later; tampered marks a file and shows
 * on the incident (list and detail) until cleared; the scrub's walk sees
 * verified bundles still on disk, in order, page by page. */
static void test_verdict(void)
{
	fl_db *db = open_db(":memory:");
	fl_db_evfile f, rows[3];
	fl_db_filter one = { .site = "s1" };
	json_t *j, *e;
	size_t n = 9;
	int v = 7, dup;

	if (!db)
		return;
	CHECK_EQ_INT(fl_db_evidence_verdict(db, "nobody-1", &v), FL_ENOENT);
	CHECK_EQ_INT(fl_db_evidence_add(db, "nobody-1", "a.jpg", "aa", 1,
					"scene", 1),
		     FL_ENOENT);
	bundle(db, "ed-a", "ed-a-1", 1000, '1', 1);  /* verified */
	bundle(db, "ed-a", "ed-a-2", 2000, '2', 0);  /* failed */
	bundle(db, "ed-a", "ed-a-3", 3000, '3', -1); /* not checked yet */
	CHECK_EQ_INT(put(db, "ed-a", "s1", "lane-a", "ed-a-4", 1, "occupied",
			 4000, NULL, &dup),
		     0);
	CHECK(fl_db_evidence_verdict(db, "ed-a-1", &v) == 0 && v == 1);
	CHECK(fl_db_evidence_verdict(db, "ed-a-2", &v) == 0 && v == 0);
	CHECK(fl_db_evidence_verdict(db, "ed-a-3", &v) == 0 && v == -1);
	CHECK(fl_db_evidence_verdict(db, "ed-a-4", &v) == 0 && v == -1);

	/* verified: rows stay, the verdict stays */
	CHECK_EQ_INT(fl_db_evidence_add(db, "ed-a-1", "scene-1.jpg", "bb", 2,
					"scene", 0),
		     FL_EEXIST);
	CHECK_EQ_INT(fl_db_evidence_add(db, "ed-a-1", "planted.jpg", "cc", 3,
					"file", 0),
		     FL_EEXIST);
	CHECK_EQ_INT(fl_db_evidence_set_verified(db, "ed-a-1", 0, "worse"),
		     FL_EEXIST);
	CHECK(fl_db_evidence_verdict(db, "ed-a-1", &v) == 0 && v == 1);
	j = incident(db, "ed-a-1");
	CHECK_STREQ(jstr(j, "verify_report"), "r");
	CHECK_EQ_INT(json_array_size(json_object_get(j, "evidence")), 2);
	json_decref(j);
	CHECK_EQ_INT(fl_db_evidence_file(db, "ed-a-1", "scene-1.jpg", &f), 0);
	CHECK_STREQ(f.sha256, "aa");
	CHECK_EQ_INT(f.bytes, 1);
	CHECK_EQ_INT(f.verified, 1);
	CHECK(isnan(f.tampered) && isnan(f.pruned));
	CHECK_EQ_INT(fl_db_evidence_file(db, "ed-a-1", "planted.jpg", &f),
		     FL_ENOENT);
	/* verified again changes nothing that matters */
	CHECK_EQ_INT(fl_db_evidence_set_verified(db, "ed-a-1", 1, "r"), 0);

	/* failed: a genuine copy may still replace it and verify */
	CHECK_EQ_INT(fl_db_evidence_add(db, "ed-a-2", "scene-1.jpg", "dd", 4,
					"scene", 1),
		     0);
	CHECK_EQ_INT(fl_db_evidence_set_verified(db, "ed-a-2", 0, "again"), 0);
	CHECK_EQ_INT(fl_db_evidence_set_verified(db, "ed-a-2", 1, "ok"), 0);
	CHECK(fl_db_evidence_verdict(db, "ed-a-2", &v) == 0 && v == 1);
	CHECK_EQ_INT(fl_db_evidence_add(db, "ed-a-2", "scene-1.jpg", "ee", 4,
					"scene", 1),
		     FL_EEXIST);

	/* tampered: the file's row, the incident in the list and detail */
	CHECK_EQ_INT(fl_db_evidence_tampered(db, "ed-a-1", "nope.jpg", 5.0),
		     FL_ENOENT);
	CHECK_EQ_INT(fl_db_evidence_tampered(db, "ed-a-1", "scene-1.jpg",
					     INFINITY),
		     FL_EINVAL);
	CHECK_EQ_INT(fl_db_evidence_tampered(db, "ed-a-1", "manifest.json",
					     7000.0),
		     0);
	CHECK_EQ_INT(fl_db_evidence_tampered(db, "ed-a-1", "scene-1.jpg",
					     6000.0),
		     0);
	CHECK(fl_db_evidence_file(db, "ed-a-1", "scene-1.jpg", &f) == 0 &&
	      f.tampered == 6000.0);
	j = incident(db, "ed-a-1");
	CHECK_EQ_DBL(jnum(j, "tampered"), 6000.0, 0);
	json_array_foreach(json_object_get(j, "evidence"), n, e)
		CHECK_EQ_DBL(jnum(e, "tampered"),
			     !strcmp(jstr(e, "name"), "scene-1.jpg") ? 6000.0
								     : 7000.0,
			     0);
	json_decref(j);
	j = list(db, &one);
	json_array_foreach(json_object_get(j, "incidents"), n, e)
		CHECK_EQ_DBL(jnum(e, "tampered"),
			     !strcmp(jstr(e, "incident_id"), "ed-a-1") ? 6000.0
								       : -1,
			     0);
	json_decref(j);
	CHECK(fl_db_evidence_tampered(db, "ed-a-1", "scene-1.jpg", NAN) == 0);
	j = incident(db, "ed-a-1");
	CHECK_EQ_DBL(jnum(j, "tampered"), 7000.0, 0); /* the other one */
	json_decref(j);
	CHECK(fl_db_evidence_tampered(db, "ed-a-1", "manifest.json", NAN) == 0);
	j = incident(db, "ed-a-1");
	CHECK(json_is_null(json_object_get(j, "tampered")));
	json_decref(j);

	/* the scrub's walk: verified, not pruned, by (incident, name) */
	CHECK_EQ_INT(fl_db_evidence_scan(db, "", "", rows, 3, &n), 0);
	CHECK_EQ_INT(n, 3);
	CHECK(!strcmp(rows[0].incident_id, "ed-a-1") &&
	      !strcmp(rows[0].name, "manifest.json"));
	CHECK(!strcmp(rows[1].incident_id, "ed-a-1") &&
	      !strcmp(rows[1].name, "scene-1.jpg"));
	CHECK(!strcmp(rows[2].incident_id, "ed-a-2") &&
	      !strcmp(rows[2].name, "manifest.json") && rows[2].verified == 1);
	CHECK_EQ_INT(fl_db_evidence_scan(db, rows[2].incident_id, rows[2].name,
					 rows, 3, &n),
		     0);
	CHECK_EQ_INT(n, 1); /* ed-a-2's scene-1.jpg; ed-a-3 not verified */
	CHECK_STREQ(rows[0].sha256, "dd");
	CHECK_EQ_INT(fl_db_evidence_pruned(db, "ed-a-1", 8000.0), 0);
	CHECK_EQ_INT(fl_db_evidence_scan(db, "", "", rows, 3, &n), 0);
	CHECK(n == 2 && !strcmp(rows[0].incident_id, "ed-a-2"));
	CHECK(fl_db_evidence_file(db, "ed-a-1", "scene-1.jpg", &f) == 0 &&
	      f.pruned == 8000.0);
	CHECK_EQ_INT(fl_db_evidence_scan(db, "", "", rows, 0, &n), FL_EINVAL);
	fl_db_close(db);
}

/* ---- ingest ------------------------------------------------------------------------ */

static void test_ingest(fl_db *db, const char *file)
{
	int dup = -1;
	json_t *j;
	char err[256];

	/* idempotent */
	CHECK(put(db, "edge-01", "s1", "lane-a", "i-dup", 1, "occupied", 100,
		  NULL, &dup) == 0);
	CHECK(dup == 0);
	CHECK(put(db, "edge-01", "s1", "lane-a", "i-dup", 1, "occupied", 100,
		  NULL, &dup) == 0);
	CHECK(dup == 1);
	if (file)
		CHECK(peek(file, "SELECT count(*) FROM incident_events"
				 " WHERE incident_id = 'i-dup'") == 1);
	/* the same (incident_id, seq) with other bytes is no redelivery:
	 * refused with the reason, the stored message kept */
	dup = -1;
	CHECK(put(db, "edge-01", "s1", "lane-a", "i-dup", 1, "vacated", 100,
		  NULL, &dup) == FL_EEXIST);
	CHECK(dup == 0);
	j = incident(db, "i-dup");
	CHECK(j && !strcmp(jstr(j, "status"), "occupied"));
	json_decref(j);
	{
		fl_db_msg m = { "edge-01",  "s1", "cam-1", "lane-a", "i-dup",
				"occupied", 1,    100,     "{}" };

		CHECK(fl_db_ingest(db, &m, &dup, err, sizeof(err)) == FL_EEXIST);
		CHECK(strstr(err, "other bytes") != NULL);
	}

	/* out of order: 1, 3 (cleared), 2 (alarm) -> cleared, with both times */
	CHECK(put(db, "edge-01", "s1", "lane-a", "i-ooo", 1, "occupied", 100,
		  NULL, &dup) == 0);
	CHECK(put(db, "edge-01", "s1", "lane-a", "i-ooo", 3, "cleared", 300,
		  NULL, &dup) == 0);
	CHECK(put(db, "edge-01", "s1", "lane-a", "i-ooo", 2, "alarm", 200, NULL,
		  &dup) == 0);
	CHECK(dup == 0);
	j = incident(db, "i-ooo");
	CHECK(j != NULL);
	if (j) {
		CHECK(json_is_null(json_object_get(j, "site_name")));
		CHECK(!strcmp(jstr(j, "status"), "cleared"));
		CHECK(jnum(j, "alarm") == 200);
		CHECK(jnum(j, "cleared") == 300);
		CHECK(jnum(j, "last_seq") == 3);
		CHECK(json_array_size(json_object_get(j, "events")) == 3);
		/* the timeline is in seq order */
		CHECK(jnum(json_array_get(json_object_get(j, "events"), 1),
			   "seq") == 2);
	}
	json_decref(j);

	/* life cycle, in order */
	CHECK(put(db, "edge-01", "s1", "lane-b", "i-life", 1, "occupied", 1000.2,
		  "\"video_time_s\": 10.2, \"rest_since_s\": 7.6, "
		  "\"bbox\": [1, 2, 3, 4], \"class\": \"vehicle\", "
		  "\"site_name\": \"城东小区\", \"lane_name\": \"消防通道 B\"",
		  &dup) == 0);
	j = incident(db, "i-life");
	CHECK(j && !strcmp(jstr(j, "status"), "occupied"));
	/* the names people read, beside the ids */
	CHECK_STREQ(jstr(j, "site_name"), "城东小区");
	CHECK_STREQ(jstr(j, "lane_name"), "消防通道 B");
	CHECK_NEAR(jnum(j, "rest_since"), 997.6, 1e-6);
	CHECK_NEAR(jnum(j, "start"), 997.6, 1e-6);
	CHECK(json_is_null(json_object_get(j, "alarm")));
	CHECK(!strcmp(jstr(j, "class"), "vehicle"));
	CHECK(jnum(json_object_get(j, "bbox"), "x") == -1 &&
	      json_integer_value(
		      json_array_get(json_object_get(j, "bbox"), 3)) == 4);
	json_decref(j);
	CHECK(put(db, "edge-01", "s1", "lane-b", "i-life", 2, "warned", 1027.6,
		  NULL, &dup) == 0);
	CHECK(put(db, "edge-01", "s1", "lane-b", "i-life", 3, "alarm", 1057.6,
		  NULL, &dup) == 0);
	CHECK(put(db, "edge-01", "s1", "lane-b", "i-life", 4, "warned", 1067.6,
		  NULL, &dup) == 0);
	CHECK(put(db, "edge-01", "s1", "lane-b", "i-life", 5, "evidence",
		  1070.0, NULL, &dup) == 0);
	j = incident(db, "i-life");
	CHECK(j && !strcmp(jstr(j, "status"), "alarm"));
	CHECK(jnum(j, "alarm") == 1057.6);
	json_decref(j);
	CHECK(put(db, "edge-01", "s1", "lane-b", "i-life", 6, "cleared", 1086.6,
		  NULL, &dup) == 0);
	j = incident(db, "i-life");
	CHECK(j && !strcmp(jstr(j, "status"), "cleared"));
	CHECK(jnum(j, "cleared") == 1086.6);
	CHECK(jnum(j, "closed") == 1086.6);
	CHECK(jnum(j, "occupied") == 1000.2);
	CHECK(json_array_size(json_object_get(j, "events")) == 6);
	CHECK(!strcmp(jstr(json_object_get(
				   json_array_get(json_object_get(j, "events"),
						  5),
				   "message"),
			   "type"),
		      "cleared"));
	json_decref(j);

	/* vacated, interrupted */
	put(db, "edge-01", "s1", "lane-b", "i-vac", 1, "occupied", 2000, NULL,
	    &dup);
	put(db, "edge-01", "s1", "lane-b", "i-vac", 2, "vacated", 2010, NULL,
	    &dup);
	j = incident(db, "i-vac");
	CHECK(j && !strcmp(jstr(j, "status"), "vacated"));
	CHECK(j && json_is_null(json_object_get(j, "cleared")));
	CHECK(jnum(j, "closed") == 2010);
	json_decref(j);
	put(db, "edge-01", "s1", "lane-b", "i-int", 1, "occupied", 2000, NULL,
	    &dup);
	put(db, "edge-01", "s1", "lane-b", "i-int", 2, "alarm", 2060, NULL,
	    &dup);
	put(db, "edge-01", "s1", "lane-b", "i-int", 3, "interrupted", 2100,
	    NULL, &dup);
	j = incident(db, "i-int");
	CHECK(j && !strcmp(jstr(j, "status"), "interrupted"));
	json_decref(j);

	/* a warned that arrives first is overridden by the occupied behind it,
	 * and by the alarm */
	put(db, "edge-01", "s1", "lane-b", "i-w", 2, "warned", 30, NULL, &dup);
	j = incident(db, "i-w");
	CHECK(j && !strcmp(jstr(j, "status"), "occupied"));
	json_decref(j);
	put(db, "edge-01", "s1", "lane-b", "i-w", 3, "alarm", 60, NULL, &dup);
	put(db, "edge-01", "s1", "lane-b", "i-w", 1, "occupied", 0.5, NULL,
	    &dup);
	j = incident(db, "i-w");
	CHECK(j && !strcmp(jstr(j, "status"), "alarm"));
	CHECK(jnum(j, "occupied") == 0.5);
	json_decref(j);

	/* another device cannot write into this incident */
	CHECK(put(db, "edge-99", "s1", "lane-b", "i-life", 7, "cleared", 5,
		  NULL, &dup) == FL_EINVAL);
	j = incident(db, "i-life");
	CHECK(j && jnum(j, "last_seq") == 6);
	json_decref(j);

	/* missing fields */
	{
		fl_db_msg m = { 0 };

		m.device = "edge-01";
		m.incident_id = "x";
		m.type = "occupied";
		CHECK(fl_db_ingest(db, &m, &dup, err, sizeof(err)) ==
		      FL_EINVAL); /* seq 0 */
		m.seq = 1;
		m.type = NULL;
		CHECK(fl_db_ingest(db, &m, &dup, err, sizeof(err)) == FL_EINVAL);
		CHECK(fl_db_ingest(db, NULL, &dup, err, sizeof(err)) ==
		      FL_EINVAL);
	}
	CHECK(fl_db_incident_json(db, "nothing-here") == NULL);
}

/* Group commits (fl_db_batch_begin): a refused message inside a batch rolls
 * back alone, the batch keeps the others; a batch ended with 0 keeps
 * nothing; batches do not nest; a change after the batch is its own. */
static void test_batch(fl_db *db)
{
	json_t *j;
	int dup;

	CHECK(fl_db_batch_end(db, 1) == FL_EINVAL); /* none open */
	CHECK(fl_db_batch_begin(db) == 0);
	CHECK(fl_db_batch_begin(db) == FL_EINVAL);
	CHECK(put(db, "edge-01", "s1", "lane-a", "b-1", 1, "occupied", 10, NULL,
		  &dup) == 0);
	CHECK(put(db, "edge-99", "s1", "lane-a", "b-1", 2, "alarm", 20, NULL,
		  &dup) == FL_EINVAL); /* another device's: refused alone */
	CHECK(put(db, "edge-01", "s1", "lane-a", "b-1", 3, "cleared", 30, NULL,
		  &dup) == 0);
	CHECK(fl_db_batch_end(db, 1) == 0);
	j = incident(db, "b-1");
	CHECK(j && json_array_size(json_object_get(j, "events")) == 2);
	CHECK(j && !strcmp(jstr(j, "status"), "cleared"));
	json_decref(j);

	CHECK(fl_db_batch_begin(db) == 0);
	CHECK(put(db, "edge-01", "s1", "lane-a", "b-2", 1, "occupied", 10, NULL,
		  &dup) == 0);
	CHECK(fl_db_batch_end(db, 0) == 0);
	CHECK(fl_db_incident_json(db, "b-2") == NULL);
	CHECK(fl_db_batch_end(db, 1) == FL_EINVAL);
	CHECK(put(db, "edge-01", "s1", "lane-a", "b-2", 1, "occupied", 10, NULL,
		  &dup) == 0 &&
	      dup == 0);
	j = incident(db, "b-2");
	CHECK(j && !strcmp(jstr(j, "status"), "occupied"));
	json_decref(j);
}

/* The evidence rows of test_ingest's incident i-life, its verdict and its
 * retention. */
static void test_evidence(fl_db *db)
{
	json_t *j;

	/* evidence */
	CHECK(fl_db_evidence_add(db, "i-life", "scene-1.jpg", "ab", 10, "scene",
				 1) == 0);
	CHECK(fl_db_evidence_add(db, "i-life", "clip.mp4", "cd", 20, "clip",
				 0) == 0);
	CHECK(fl_db_evidence_add(db, "i-life", "clip.mp4", "cd", 20, "clip",
				 1) == 0);
	CHECK(fl_db_evidence_add(db, "nope", "clip.mp4", "cd", 20, "clip", 1) ==
	      FL_ENOENT);
	CHECK(fl_db_evidence_set_verified(db, "i-life", 1, "signature ok") == 0);
	CHECK(fl_db_evidence_set_verified(db, "nope", 1, "x") == FL_ENOENT);
	j = incident(db, "i-life");
	CHECK(j && json_array_size(json_object_get(j, "evidence")) == 2);
	CHECK(j && jnum(json_array_get(json_object_get(j, "evidence"), 1),
			"verified") == 1);
	CHECK(j && jnum(j, "verified") == 1);
	CHECK(j && !strcmp(jstr(j, "verify_report"), "signature ok"));
	CHECK(j && json_is_null(json_object_get(j, "evidence_pruned")));
	json_decref(j);
	/* removed by retention: the time is kept, the file rows stay; a
	 * bundle verified again is on disk again */
	CHECK(fl_db_evidence_pruned(db, "i-life", 1234567.5) == 0);
	CHECK(fl_db_evidence_pruned(db, "nope", 1234567.5) == FL_ENOENT);
	CHECK(fl_db_evidence_pruned(db, "i-life", NAN) == FL_EINVAL);
	CHECK(fl_db_evidence_pruned(NULL, "i-life", 1) == FL_EINVAL);
	j = incident(db, "i-life");
	CHECK(j && jnum(j, "evidence_pruned") == 1234567.5);
	CHECK(j && json_array_size(json_object_get(j, "evidence")) == 2);
	CHECK(j &&
	      !strcmp(jstr(json_array_get(json_object_get(j, "evidence"), 0),
			   "sha256"),
		      "ab"));
	CHECK(j && jnum(j, "verified") == 1);
	json_decref(j);
	CHECK(fl_db_evidence_set_verified(db, "i-life", 1, "signature ok") == 0);
	j = incident(db, "i-life");
	CHECK(j && json_is_null(json_object_get(j, "evidence_pruned")));
	json_decref(j);
}

/* ---- filters, paging, sites ---------------------------------------------------------- */

static void test_filters(fl_db *db)
{
	int dup;
	char id[64];
	fl_db_filter f;
	json_t *j, *a;

	/* 10 incidents: sites fa (6) / fb (4); lane-x even, lane-y odd;
	 * start 10000 + 100 i; odd ones alarmed */
	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "f-%02d", i);
		put(db, "edge-01", i < 6 ? "fa" : "fb",
		    i % 2 ? "lane-y" : "lane-x", id, 1, "occupied",
		    10000 + 100 * i, NULL, &dup);
		if (i % 2)
			put(db, "edge-01", NULL, NULL, id, 2, "alarm",
			    10030 + 100 * i, NULL, &dup);
	}
	memset(&f, 0, sizeof(f));
	f.site = "fa";
	CHECK(total(db, &f) == 6);
	f.lane = "lane-y";
	CHECK(total(db, &f) == 3);
	f.lane = NULL;
	f.status = "alarm";
	CHECK(total(db, &f) == 3);
	f.status = NULL;
	f.site = NULL;
	f.from_wall = 10000;
	f.to_wall = 10500;
	CHECK(total(db, &f) == 5);
	f.from_wall = 10150; /* from <= start < to */
	f.to_wall = 10300;
	CHECK(total(db, &f) == 1);
	f.to_wall = 0;
	f.from_wall = 10000;
	CHECK(total(db, &f) == 10);
	CHECK(fl_db_outcome_set(db, "f-03", "towed", "", "u", 1, NULL, 0) == 0);
	f.outcome = "towed";
	CHECK(total(db, &f) == 1);
	f.outcome = "none";
	CHECK(total(db, &f) == 9);
	f.outcome = NULL;

	/* paging: newest first, pages disjoint */
	f.limit = 3;
	f.offset = 0;
	j = list(db, &f);
	a = json_object_get(j, "incidents");
	CHECK(json_array_size(a) == 3);
	CHECK(!strcmp(jstr(json_array_get(a, 0), "incident_id"), "f-09"));
	CHECK(json_integer_value(json_object_get(j, "total")) == 10);
	json_decref(j);
	f.offset = 9;
	j = list(db, &f);
	a = json_object_get(j, "incidents");
	CHECK(json_array_size(a) == 1);
	CHECK(!strcmp(jstr(json_array_get(a, 0), "incident_id"), "f-00"));
	json_decref(j);
	f.offset = 3;
	j = list(db, &f);
	a = json_object_get(j, "incidents");
	CHECK(!strcmp(jstr(json_array_get(a, 0), "incident_id"), "f-06"));
	CHECK(json_integer_value(json_object_get(j, "limit")) == 3);
	json_decref(j);
	f.offset = 0;
	f.limit = 0;

	/* allowed sites */
	f.sites_csv_allowed = "fb";
	CHECK(total(db, &f) == 4);
	f.sites_csv_allowed = "fa,fb";
	CHECK(total(db, &f) == 10);
	f.sites_csv_allowed = "";
	CHECK(total(db, &f) == 0);
	f.sites_csv_allowed = "f"; /* no prefix match */
	CHECK(total(db, &f) == 0);
	f.sites_csv_allowed = "fb";
	f.site = "fa"; /* asking for another site gives nothing */
	CHECK(total(db, &f) == 0);
	{
		char site[32];

		CHECK(fl_db_incident_site(db, "f-07", site, sizeof(site)) == 0);
		CHECK(!strcmp(site, "fb"));
		CHECK(fl_db_incident_site(db, "zz", site, sizeof(site)) ==
		      FL_ENOENT);
	}
}

/* ---- users, outcomes, audit ------------------------------------------------------------- */

static void test_users(fl_db *db, const char *file)
{
	char role[32], sites[128], err[256];
	char *t;

	CHECK(fl_db_user_add(db, "ada", "s3cret pass", "enforcement", NULL, err,
			     sizeof(err)) == 0);
	CHECK(fl_db_user_add(db, "pm", "pm-pass", "property", " s1 ,, s2,", err,
			     sizeof(err)) == 0);
	CHECK(fl_db_user_add(db, "ada", "x", "admin", NULL, err, sizeof(err)) ==
	      FL_EINVAL);
	CHECK(strstr(err, "exists") != NULL);
	CHECK(fl_db_user_add(db, "bob", "x", "king", NULL, err, sizeof(err)) ==
	      FL_EINVAL);
	CHECK(fl_db_user_add(db, "bob", "", "admin", NULL, err, sizeof(err)) ==
	      FL_EINVAL);
	CHECK(fl_db_user_add(db, "", "x", "admin", NULL, err, sizeof(err)) ==
	      FL_EINVAL);
	if (file)
		CHECK(peek(file, "SELECT count(*) FROM users WHERE"
				 " hash LIKE '$argon2id$%'") == 2);
	CHECK(fl_db_user_check(db, "ada", "s3cret pass", role, sizeof(role),
			       sites, sizeof(sites)) == 0);
	CHECK(!strcmp(role, "enforcement") && !strcmp(sites, ""));
	CHECK(fl_db_user_check(db, "pm", "pm-pass", role, sizeof(role), sites,
			       sizeof(sites)) == 0);
	CHECK(!strcmp(role, "property") && !strcmp(sites, "s1,s2"));
	CHECK(fl_db_user_check(db, "ada", "s3cret pasS", role, sizeof(role),
			       sites, sizeof(sites)) == FL_EINVAL);
	CHECK(fl_db_user_check(db, "ada", "", NULL, 0, NULL, 0) == FL_EINVAL);
	CHECK(fl_db_user_check(db, "eve", "s3cret pass", NULL, 0, NULL, 0) ==
	      FL_EINVAL);
	CHECK(fl_db_user_set_password(db, "ada", "new one") == 0);
	CHECK(fl_db_user_check(db, "ada", "s3cret pass", NULL, 0, NULL, 0) ==
	      FL_EINVAL);
	CHECK(fl_db_user_check(db, "ada", "new one", NULL, 0, NULL, 0) == 0);
	CHECK(fl_db_user_set_password(db, "eve", "x") == FL_ENOENT);
	t = fl_db_users_json(db);
	CHECK(t && strstr(t, "\"pm\"") && !strstr(t, "argon2"));
	free(t);
	CHECK(fl_db_user_add(db, "tmp", "x", "admin", NULL, err, sizeof(err)) ==
	      0);
	CHECK(fl_db_user_delete(db, "tmp") == 0);
	CHECK(fl_db_user_delete(db, "tmp") == FL_ENOENT);
	CHECK(fl_db_user_check(db, "tmp", "x", NULL, 0, NULL, 0) == FL_EINVAL);
}

/* The user name rule and look-alikes (src/store/username.c). */
static void test_user_names(fl_db *db)
{
	static const struct {
		const char *name;
		int ok;
	} rule[] = {
		{ "张伟", 1 },
		{ "王 小明", 1 },
		{ "José.García-López", 1 },
		{ "约翰·史密斯", 1 },
		{ "o'brien@site-1", 1 },
		{ "x'); DROP TABLE users;--", 1 },
		{ "a/b", 0 }, /* no path separators */
		{ "a\\b", 0 },
		{ "a\nb", 0 }, /* controls */
		{ "a\x7f", 0 },
		{ "a\xc2\x85"
		  "b",
		  0 },                     /* U+0085, a C1 control */
		{ "ro\xe2\x80\x8bot", 0 }, /* U+200B zero width space */
		{ "a\xe2\x80\xae"
		  "b",
		  0 }, /* U+202E right-to-left override */
		{ "a\xe3\x80\x80"
		  "b",
		  0 },                 /* U+3000 ideographic space */
		{ "\xee\x80\x80", 0 }, /* U+E000 private use */
		{ "\xc3\x28", 0 },     /* not UTF-8 */
		{ "\xc0\xaf", 0 },     /* overlong '/' */
		{ "\xed\xa0\x80", 0 }, /* a surrogate */
		{ " root", 0 },
		{ "root ", 0 },
		{ "ro  ot", 0 },
		{ "-root", 0 }, /* letter or digit first */
		{ ".root", 0 },
		{ "=1+1", 0 },
		{ "\xcc\x81"
		  "a",
		  0 }, /* a combining mark first */
		{ "", 0 },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  1 },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  0 },
	};
	/* each refused while "root", "admin", "user1" and "张伟" exist */
	static const char *const alike[] = {
		"Root",
		"ROOT",
		"r00t",
		"ro\xd0\xbet" /* Cyrillic o */,
		"\xef\xbd\x92\xef\xbd\x8f\xef\xbd\x8f\xef\xbd\x94" /* full width */,
		"adrnin" /* rn, m */,
		"userl",
		"USER1",
		"\xe5\xbc\xa0\xe4\xbc\x9f" /* the same Han, as typed */,
	};
	char err[256], key[FL_USER_KEY_LEN], key2[FL_USER_KEY_LEN];

	for (size_t i = 0; i < sizeof(rule) / sizeof(rule[0]); i++) {
		err[0] = 0;
		CHECK_MSG(fl_user_name_check(rule[i].name, err, sizeof(err)) ==
				  (rule[i].ok ? 0 : FL_EINVAL),
			  "case %zu: %s", i, err);
		CHECK(rule[i].ok || !strncmp(err, "user name: ", 11));
	}
	CHECK(fl_user_name_check(NULL, err, sizeof(err)) == FL_EINVAL);
	CHECK(fl_user_name_key("a/b", key, sizeof(key)) == FL_EINVAL);
	CHECK(fl_user_name_key("Root", key, sizeof(key)) == 0);
	CHECK(fl_user_name_key("r00t", key2, sizeof(key2)) == 0);
	CHECK_STREQ(key, key2);
	CHECK(fl_user_name_key("张伟", key2, sizeof(key2)) == 0);
	CHECK_STRNE(key, key2);

	for (size_t i = 0; i < 4; i++) {
		const char *n[] = { "root", "admin", "user1", "张伟" };

		CHECK_MSG(fl_db_user_add(db, n[i], "pw", "admin", NULL, err,
					 sizeof(err)) == 0,
			  "%s: %s", n[i], err);
	}
	for (size_t i = 0; i < sizeof(alike) / sizeof(alike[0]); i++) {
		err[0] = 0;
		CHECK_MSG(fl_db_user_add(db, alike[i], "pw", "admin", NULL, err,
					 sizeof(err)) == FL_EINVAL,
			  "%s was taken", alike[i]);
		CHECK_MSG(strstr(err, "looks like the existing user") ||
				  strstr(err, "exists"),
			  "%s: %s", alike[i], err);
	}
	/* not look-alikes */
	CHECK(fl_db_user_add(db, "rooter", "pw", "admin", NULL, err,
			     sizeof(err)) == 0);
	CHECK(fl_db_user_add(db, "张伟2", "pw", "admin", NULL, err,
			     sizeof(err)) == 0);
	CHECK(fl_db_user_add(db, "a/b", "pw", "admin", NULL, err,
			     sizeof(err)) == FL_EINVAL);
	CHECK(strstr(err, "'/'") != NULL);
	{
		double created = 0;
		char role[16];

		CHECK(fl_db_user_info(db, "root", role, sizeof(role), NULL, 0,
				      &created) == 0);
		CHECK_STREQ(role, "admin");
		CHECK(created > 0);
		CHECK(fl_db_user_info(db, "Root", NULL, 0, NULL, 0, NULL) ==
		      FL_ENOENT);
	}
	for (size_t i = 0; i < 4; i++) {
		const char *n[] = { "root", "admin", "rooter", "张伟2" };

		CHECK(fl_db_user_delete(db, n[i]) == 0);
	}
	/* a name freed by a deletion is free again */
	CHECK(fl_db_user_add(db, "Root", "pw", "admin", NULL, err,
			     sizeof(err)) == 0);
	CHECK(fl_db_user_delete(db, "Root") == 0);
	CHECK(fl_db_user_delete(db, "user1") == 0);
	CHECK(fl_db_user_delete(db, "张伟") == 0);
}

/* The login throttle's counts (the rule is src/hub/session.c's). */
static void test_login_failures(fl_db *db, const char *file)
{
	int n = -1;
	double last = -1;
	long removed = -1;
	char addr[32];

	CHECK(fl_db_login_failures(db, "root", "10.0.0.1", &n, &last) == 0);
	CHECK_EQ_INT(n, 0);
	for (int i = 0; i < 3; i++)
		CHECK(fl_db_login_fail(db, "root", "10.0.0.1", 1000 + i, 600) ==
		      0);
	CHECK(fl_db_login_fail(db, "root", "10.0.0.2", 1005, 600) == 0);
	CHECK(fl_db_login_failures(db, "root", "10.0.0.1", &n, &last) == 0);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_DBL(last, 1002, 0);
	CHECK(fl_db_login_failures(db, "Root", "10.0.0.1", &n, &last) == 0);
	CHECK_EQ_INT(n, 0); /* per name as typed */
	/* a failure forget_s after the last starts again */
	CHECK(fl_db_login_fail(db, "root", "10.0.0.1", 1602, 600) == 0);
	CHECK(fl_db_login_failures(db, "root", "10.0.0.1", &n, &last) == 0);
	CHECK_EQ_INT(n, 1);
	CHECK(fl_db_login_fail(db, "root", "10.0.0.1", 1603, 600) == 0);
	CHECK(fl_db_login_failures(db, "root", "10.0.0.1", &n, &last) == 0);
	CHECK_EQ_INT(n, 2);
	/* one address's row */
	CHECK(fl_db_login_reset(db, "root", "10.0.0.2", &removed) == 0);
	CHECK_EQ_INT(removed, 1);
	CHECK(fl_db_login_failures(db, "root", "10.0.0.1", &n, &last) == 0);
	CHECK_EQ_INT(n, 2);
	/* every address (--unlock-user) */
	CHECK(fl_db_login_fail(db, "root", "10.0.0.3", 1700, 600) == 0);
	CHECK(fl_db_login_fail(db, "", "10.0.0.3", 1700, 600) == 0);
	CHECK(fl_db_login_reset(db, "root", NULL, &removed) == 0);
	CHECK_EQ_INT(removed, 2);
	CHECK(fl_db_login_failures(db, "root", "10.0.0.1", &n, &last) == 0);
	CHECK_EQ_INT(n, 0);
	CHECK(fl_db_login_failures(db, "", "10.0.0.3", &n, &last) == 0);
	CHECK_EQ_INT(n, 1); /* the address's own count stays */
	/* rows a day old go with the next failure */
	CHECK(fl_db_login_fail(db, "old", "10.0.0.4", 1800 + FL_DB_LOGIN_KEEP_S,
			       600) == 0);
	CHECK(fl_db_login_failures(db, "", "10.0.0.3", &n, &last) == 0);
	CHECK_EQ_INT(n, 0);
	for (int i = 0; i < 20; i++) {
		snprintf(addr, sizeof(addr), "192.0.2.%d", i);
		CHECK(fl_db_login_fail(db, "spray", addr, 90000 + i, 600) == 0);
	}
	if (file)
		CHECK(peek(file, "SELECT count(*) FROM login_failures") == 21);
	CHECK(fl_db_login_reset(db, "spray", NULL, &removed) == 0);
	CHECK_EQ_INT(removed, 20);
	CHECK(fl_db_login_fail(db, NULL, "x", 1, 600) == FL_EINVAL);
	CHECK(fl_db_login_fail(db, "x", "x", 1, 0) == FL_EINVAL);
	CHECK(fl_db_login_reset(db, "old", NULL, NULL) == 0);
}

/* A second handle on the store of file (or of FL_TEST_STORE): another
 * hub's. NULL for a private in-memory store. */
static fl_db *same_store(const char *file)
{
	char url[512], err[256] = "";

#ifdef FL_HAVE_LIBPQ
	if (pg_url)
		return fl_db_open(pg_url, err, sizeof(err));
#endif
	if (!file)
		return NULL;
	path_of(url, sizeof(url), file, 1);
	return fl_db_open(url, err, sizeof(err));
}

/* Web sessions: found by id from another handle (another hub), idle ones
 * expire, the last-seen time written only every touch_s, logout and a
 * user's removal (fl_db_user_delete too) end them, views marked once, the
 * id stored hashed. */
static void test_sessions(fl_db *db, const char *file)
{
	static const char id[] = "00112233445566778899aabbccddeeff"
				 "00112233445566778899aabbccddeeff";
	static const char id2[] = "ffeeddccbbaa99887766554433221100"
				  "ffeeddccbbaa99887766554433221100";
	fl_db_session s = { .user_created = 7.5 }, got;
	fl_db *other = same_store(file);
	long long n = -1;
	long removed = -1;

	snprintf(s.csrf, sizeof(s.csrf), "%064d", 1);
	snprintf(s.user, sizeof(s.user), "alice");
	snprintf(s.role, sizeof(s.role), "property");
	snprintf(s.sites, sizeof(s.sites), "s1,演示小区");
	CHECK(fl_db_session_add(db, id, &s, 1000, 100) == 0);
	CHECK(fl_db_session_get(db, id, 1001, 100, 10, &got) == 0);
	CHECK_STREQ(got.user, "alice");
	CHECK_STREQ(got.role, "property");
	CHECK_STREQ(got.sites, "s1,演示小区");
	CHECK_STREQ(got.csrf, s.csrf);
	CHECK_EQ_DBL(got.user_created, 7.5, 0);
	CHECK_EQ_DBL(got.seen, 1000, 0); /* younger than touch_s: not written */
	CHECK(fl_db_session_get(db, id, 1050, 100, 10, &got) == 0);
	CHECK_EQ_DBL(got.seen, 1050, 0); /* written */
	/* another hub finds it (where there is a second handle) */
	CHECK(fl_db_session_get(other ? other : db, id, 1100, 100, 10, &got) ==
	      0);
	CHECK_EQ_DBL(got.seen, 1100, 0);
	CHECK(fl_db_session_get(db, id2, 1100, 100, 10, &got) == FL_ENOENT);
	CHECK(fl_db_session_get(db, "", 1100, 100, 10, &got) == FL_ENOENT);
	CHECK(fl_db_session_get(db, NULL, 1100, 100, 10, &got) == FL_ENOENT);
	/* the store holds the id's SHA-256, never the id */
	if (file) {
		char q[300], hex[65];
		unsigned char h[32];

		crypto_hash_sha256(h, (const unsigned char *)id, strlen(id));
		sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
		snprintf(q, sizeof(q),
			 "SELECT count(*) FROM sessions WHERE id_hash = '%s'",
			 hex);
		CHECK(peek(file, q) == 1);
		snprintf(q, sizeof(q),
			 "SELECT count(*) FROM sessions WHERE id_hash = '%s'"
			 " OR csrf = '%s'",
			 id, id);
		CHECK(peek(file, q) == 0);
	}
	/* evidence views: once per file per session, whichever handle */
	CHECK(fl_db_session_first_view(db, id, "i1/a.jpg") == 1);
	CHECK(fl_db_session_first_view(other ? other : db, id, "i1/a.jpg") == 0);
	CHECK(fl_db_session_first_view(db, id, "i1/b.jpg") == 1);
	CHECK(fl_db_session_first_view(db, id2, "i1/a.jpg") == 0);
	/* idle: alive at seen + idle - 1, gone (and removed) at seen + idle */
	CHECK(fl_db_session_count(db, 1150, 100, &n) == 0);
	CHECK_EQ_INT(n, 1);
	CHECK(fl_db_session_get(db, id, 1199, 100, 1000, &got) == 0);
	CHECK(fl_db_session_get(db, id, 1200, 100, 10, &got) == FL_ENOENT);
	CHECK(fl_db_session_count(db, 0, 1e9, &n) == 0);
	CHECK_EQ_INT(n, 0);
	/* an idle session goes when another is added */
	CHECK(fl_db_session_add(db, id, &s, 2000, 100) == 0);
	CHECK(fl_db_session_first_view(db, id, "i1/a.jpg") == 1); /* anew */
	snprintf(s.user, sizeof(s.user), "bob");
	CHECK(fl_db_session_add(db, id2, &s, 2100, 100) == 0);
	CHECK(fl_db_session_count(db, 0, 1e9, &n) == 0);
	CHECK_EQ_INT(n, 1);
	CHECK(fl_db_session_add(db, id2, &s, 2101, 100) < 0); /* taken */
	/* logout, a user's removal */
	CHECK(fl_db_session_add(db, id, &s, 2100, 100) == 0);
	CHECK(fl_db_session_end(db, id) == 0);
	CHECK(fl_db_session_end(db, id) == FL_ENOENT);
	CHECK(fl_db_session_get(db, id, 2101, 100, 10, &got) == FL_ENOENT);
	CHECK(fl_db_session_add(db, id, &s, 2100, 100) == 0);
	CHECK(fl_db_session_end_user(db, "bob", &removed) == 0);
	CHECK_EQ_INT(removed, 2);
	CHECK(fl_db_session_get(other ? other : db, id2, 2101, 100, 10, &got) ==
	      FL_ENOENT);
	CHECK(fl_db_session_end_user(db, "bob", &removed) == 0);
	CHECK_EQ_INT(removed, 0);
	/* a user deleted takes their sessions along (--delete-user from
	 * another process: no row left for the next request to find) */
	{
		char err[256];

		CHECK(fl_db_user_add(db, "carol", "pw-of-carol", "property",
				     "s1", err, sizeof(err)) == 0);
		snprintf(s.user, sizeof(s.user), "carol");
		CHECK(fl_db_session_add(db, id, &s, 2100, 100) == 0);
		CHECK(fl_db_user_delete(other ? other : db, "carol") == 0);
		CHECK(fl_db_session_end_user(db, "carol", &removed) == 0);
		CHECK_EQ_INT(removed, 0);
		CHECK(fl_db_session_count(db, 0, 1e9, &n) == 0);
		CHECK_EQ_INT(n, 0);
		snprintf(s.user, sizeof(s.user), "bob");
	}
	/* refused */
	CHECK(fl_db_session_add(db, "", &s, 1, 100) == FL_EINVAL);
	CHECK(fl_db_session_add(db, id, &s, 1, 0) == FL_EINVAL);
	s.user[0] = 0;
	CHECK(fl_db_session_add(db, id, &s, 1, 100) == FL_EINVAL);
	memset(s.role, 'x', sizeof(s.role));
	CHECK(fl_db_session_add(db, id, &s, 1, 100) == FL_EINVAL);
	fl_db_close(other);
}

static void test_outcomes(fl_db *db)
{
	char err[256];
	json_t *j, *h;
	char *t;

	CHECK(fl_db_outcome_set(db, "i-life", "fined", "first look", "ada",
				5000, err, sizeof(err)) == 0);
	CHECK(fl_db_outcome_set(db, "i-life", "towed", "amended: towed", "bob",
				5100, err, sizeof(err)) == 0);
	CHECK(fl_db_outcome_set(db, "i-life", "parked", NULL, "ada", 5200, err,
				sizeof(err)) == FL_EINVAL);
	CHECK(fl_db_outcome_set(db, "no-such", "towed", NULL, "ada", 5200, err,
				sizeof(err)) == FL_ENOENT);
	j = incident(db, "i-life");
	CHECK(j && !strcmp(jstr(j, "outcome"), "towed"));
	h = json_object_get(j, "outcomes");
	CHECK(json_array_size(h) == 2);
	CHECK(!strcmp(jstr(json_array_get(h, 0), "outcome"), "fined"));
	CHECK(!strcmp(jstr(json_array_get(h, 0), "note"), "first look"));
	CHECK(!strcmp(jstr(json_array_get(h, 1), "user"), "bob"));
	CHECK(jnum(json_array_get(h, 1), "wall") == 5100);
	json_decref(j);

	CHECK(fl_db_audit(db, "ada", "evidence_view", "i-life", "scene-1.jpg",
			  5300) == 0);
	CHECK(fl_db_audit(db, "ada", "export", "i-life", NULL, 5400) == 0);
	t = fl_db_audit_json(db, "i-life", 0, 0);
	j = t ? json_loads(t, 0, NULL) : NULL;
	free(t);
	CHECK(j && json_integer_value(json_object_get(j, "total")) == 4);
	h = json_object_get(j, "audit");
	CHECK(!strcmp(jstr(json_array_get(h, 0), "action"), "export"));
	CHECK(!strcmp(jstr(json_array_get(h, 3), "action"), "outcome"));
	CHECK(!strcmp(jstr(json_array_get(h, 3), "detail"), "fined"));
	json_decref(j);
}

/* The plate: a device's read sets it (plate_by device), a person's entry
 * wins over any later read, null (unread) names none, the list finds it
 * by a part of it, and an entry is audited. */
static void test_plates(fl_db *db)
{
	char err[256], *t;
	fl_db_filter f;
	json_t *j;
	int dup;

	put(db, "edge-01", "ps", "lane-a", "p-1", 1, "occupied", 20000, NULL,
	    &dup);
	put(db, "edge-01", NULL, NULL, "p-1", 2, "alarm", 20030,
	    "\"plate\": null, \"plate_confidence\": 0.3", &dup);
	j = incident(db, "p-1");
	CHECK(j && json_is_null(json_object_get(j, "plate")) &&
	      json_is_null(json_object_get(j, "plate_by")));
	json_decref(j);
	put(db, "edge-01", NULL, NULL, "p-1", 3, "evidence", 20040,
	    "\"plate\": \"粤B12345\", \"plate_confidence\": 0.998", &dup);
	j = incident(db, "p-1");
	CHECK(j && jstr(j, "plate") && !strcmp(jstr(j, "plate"), "粤B12345"));
	CHECK(j && jstr(j, "plate_by") &&
	      !strcmp(jstr(j, "plate_by"), "device"));
	json_decref(j);
	/* a person corrects it; a later read changes nothing */
	CHECK(fl_db_plate_set(db, "p-1", "粤B12346", "ada", 20050, err,
			      sizeof(err)) == 0);
	put(db, "edge-01", NULL, NULL, "p-1", 4, "cleared", 20060,
	    "\"plate\": \"粤B12345\", \"plate_confidence\": 0.999", &dup);
	j = incident(db, "p-1");
	CHECK(j && jstr(j, "plate") && !strcmp(jstr(j, "plate"), "粤B12346"));
	CHECK(j && jstr(j, "plate_by") && !strcmp(jstr(j, "plate_by"), "ada"));
	json_decref(j);
	CHECK(fl_db_plate_set(db, "p-1", "not a plate", "ada", 20070, err,
			      sizeof(err)) == FL_EINVAL);
	CHECK(fl_db_plate_set(db, "no-such", "粤B12346", "ada", 20070, err,
			      sizeof(err)) == FL_ENOENT);
	/* the list by a part of the plate, any case */
	memset(&f, 0, sizeof(f));
	f.plate = "b1234";
	CHECK(total(db, &f) == 1);
	f.plate = "粤B12346";
	CHECK(total(db, &f) == 1);
	f.plate = "B12345";
	CHECK(total(db, &f) == 0);
	t = fl_db_audit_json(db, "p-1", 0, 0);
	CHECK(t && strstr(t, "\"plate\"") && strstr(t, "粤B12346"));
	free(t);
	/* cleared by the person: a read may set it again */
	CHECK(fl_db_plate_set(db, "p-1", "", "ada", 20080, err, sizeof(err)) ==
	      0);
	put(db, "edge-01", NULL, NULL, "p-1", 5, "evidence", 20090,
	    "\"plate\": \"粤B12345\", \"plate_confidence\": 0.999", &dup);
	j = incident(db, "p-1");
	CHECK(j && jstr(j, "plate") && !strcmp(jstr(j, "plate"), "粤B12345"));
	json_decref(j);
}

/* How many of the incident's stored messages still name a plate or its
 * confidence (the timeline's parsed messages). */
static int reads_in_messages(fl_db *db, const char *id)
{
	json_t *j = incident(db, id), *e;
	size_t i;
	int n = 0;

	json_array_foreach(json_object_get(j, "events"), i, e)
	{
		json_t *m = json_object_get(e, "message");

		n += json_object_get(m, "plate") ||
		     json_object_get(m, "plate_confidence");
	}
	json_decref(j);
	return n;
}

/* The resident vehicle register (register.c over the backend's rows): a
 * site's rows replaced all or nothing (a plate twice leaves the old
 * register), found by site and plate, listed by plate with who imported
 * them, pruned by import time, each import audited. */
static void test_register(fl_db *db)
{
	const fl_db_resident a[] = {
		{ "渝B12345", "张三", "3-2-501", "13800000001" },
		{ "渝A00001", "李四", "1-1-101", "13800000002" },
	};
	const fl_db_resident twice[] = {
		{ "渝C1", "x", "1", "1" },
		{ "渝C1", "y", "2", "2" },
	};
	const fl_db_resident b[] = { { "京N1", "王五", "9", "139" } };
	char err[256] = "", *t;
	json_t *o, *rows;

	CHECK_EQ_INT(fl_db_register_replace(db, "reg-n", a, 2, "pm", 1000, err,
					    sizeof(err)),
		     0);
	CHECK_EQ_INT(fl_db_register_replace(db, "reg-s", b, 1, "pm2", 2000, err,
					    sizeof(err)),
		     0);
	CHECK_EQ_INT(fl_db_register_replace(db, "reg-n", twice, 2, "pm", 1500,
					    err, sizeof(err)),
		     FL_EEXIST);
	t = fl_db_register_find(db, "reg-n", "渝B12345");
	CHECK_STREQ(t, "{\"plate\":\"渝B12345\",\"owner\":\"张三\","
		       "\"unit\":\"3-2-501\",\"phone\":\"13800000001\"}");
	free(t);
	CHECK_NULL(fl_db_register_find(db, "reg-s", "渝B12345"));
	CHECK_NULL(fl_db_register_find(db, "reg-n", "渝C1"));
	t = fl_db_register_json(db, "reg-n");
	o = t ? json_loads(t, 0, NULL) : NULL;
	free(t);
	rows = json_object_get(o, "residents");
	CHECK_EQ_INT((int)json_array_size(rows), 2);
	CHECK_STREQ(jstr(json_array_get(rows, 0), "plate"), "渝A00001");
	CHECK_STREQ(jstr(json_array_get(rows, 1), "imported_by"), "pm");
	CHECK_EQ_DBL(jnum(json_array_get(rows, 1), "imported"), 1000, 0);
	json_decref(o);
	t = fl_db_audit_json(db, "reg-n", 10, 0);
	CHECK(t && strstr(t, "\"action\":\"register_import\"") &&
	      strstr(t, "\"detail\":\"2 rows\""));
	free(t);
	/* imported before 1500: reg-n's two rows, not reg-s's */
	CHECK_EQ_INT((int)fl_db_register_prune(db, 1500), 2);
	CHECK_NULL(fl_db_register_find(db, "reg-n", "渝A00001"));
	t = fl_db_register_find(db, "reg-s", "京N1");
	CHECK(t && strstr(t, "王五"));
	free(t);
	CHECK_EQ_INT((int)fl_db_register_prune(db, 1500), 0);
}

/* Plate reads expire with the retention (fl_db_plates_prune): out of the
 * messages of incidents closed before the cut and out of the incident,
 * unless a person set the plate; open incidents and later ones keep
 * theirs. */
static void test_plates_prune(fl_db *db)
{
	char err[256];
	json_t *j;
	int dup;

	/* q-1: a read, closed at 30020; q-2: a person's plate, closed at
	 * 30120; q-3: a read, still open; q-4: a read, closed after the cut */
	put(db, "edge-01", "pq", "lane-a", "q-1", 1, "alarm", 30000,
	    "\"plate\": \"粤C11111\", \"plate_confidence\": 0.999", &dup);
	put(db, "edge-01", "pq", "lane-a", "q-1", 2, "cleared", 30020, NULL,
	    &dup);
	put(db, "edge-01", "pq", "lane-a", "q-2", 1, "alarm", 30100,
	    "\"plate\": null, \"plate_confidence\": 0.2", &dup);
	CHECK(fl_db_plate_set(db, "q-2", "粤C22222", "ada", 30110, err,
			      sizeof(err)) == 0);
	put(db, "edge-01", "pq", "lane-a", "q-2", 2, "cleared", 30120, NULL,
	    &dup);
	put(db, "edge-01", "pq", "lane-a", "q-3", 1, "alarm", 30200,
	    "\"plate\": \"粤C33333\", \"plate_confidence\": 0.999", &dup);
	put(db, "edge-01", "pq", "lane-a", "q-4", 1, "alarm", 40000,
	    "\"plate\": \"粤C44444\", \"plate_confidence\": 0.999", &dup);
	put(db, "edge-01", "pq", "lane-a", "q-4", 2, "cleared", 40010, NULL,
	    &dup);
	CHECK_EQ_INT(reads_in_messages(db, "q-1"), 1);

	/* test_plates' p-1 (a read, closed at 20060) goes first, alone */
	CHECK_EQ_INT(fl_db_plates_prune(db, 25000), 1);
	CHECK_EQ_INT(reads_in_messages(db, "q-1"), 1);
	CHECK_EQ_INT(fl_db_plates_prune(db, 35000), 1);
	j = incident(db, "q-1");
	CHECK(j && json_is_null(json_object_get(j, "plate")) &&
	      json_is_null(json_object_get(j, "plate_by")));
	json_decref(j);
	CHECK_EQ_INT(reads_in_messages(db, "q-1"), 0);
	/* the rest of the stored text byte for byte ("30000.000" too): the
	 * message as sent without the read is a redelivery of it */
	dup = 0;
	CHECK(put(db, "edge-01", "pq", "lane-a", "q-1", 1, "alarm", 30000, NULL,
		  &dup) == 0);
	CHECK_EQ_INT(dup, 1);
	j = incident(db, "q-2"); /* a person's entry is the case's record */
	CHECK(j && jstr(j, "plate") && !strcmp(jstr(j, "plate"), "粤C22222"));
	json_decref(j);
	CHECK_EQ_INT(reads_in_messages(db, "q-2"), 0);
	j = incident(db, "q-3"); /* still open */
	CHECK(j && jstr(j, "plate") && !strcmp(jstr(j, "plate"), "粤C33333"));
	json_decref(j);
	CHECK_EQ_INT(reads_in_messages(db, "q-3"), 1);
	j = incident(db, "q-4"); /* closed after the cut */
	CHECK(j && jstr(j, "plate") && !strcmp(jstr(j, "plate"), "粤C44444"));
	json_decref(j);
	CHECK_EQ_INT(reads_in_messages(db, "q-4"), 1);
	CHECK_EQ_INT(fl_db_plates_prune(db, 35000), 0); /* nothing left */
	/* a key spelt with an escape is the same key */
	put(db, "edge-01", "pq", "lane-a", "q-5", 1, "cleared", 30500,
	    "\"pl\\u0061te\": \"粤C55555\"", &dup);
	CHECK_EQ_INT(reads_in_messages(db, "q-5"), 1);
	CHECK_EQ_INT(fl_db_plates_prune(db, 35000), 1);
	CHECK_EQ_INT(reads_in_messages(db, "q-5"), 0);
	CHECK_EQ_INT(fl_db_plates_prune(db, NAN), FL_EINVAL);
}

/* ---- report ------------------------------------------------------------------------------ */

static void test_report(fl_db *db)
{
	/* site "rep": 6 incidents, rest 10 s before the first message.
	 *   id   start(rest) alarm  cleared  spot        plate  outcome
	 *   r0   86400       +60    +70      cam-1/l1    A1     fined
	 *   r1   86400+1000  +60    +80      cam-1/l1    A1     towed
	 *   r2   86400+2000  +60    +90      cam-1/l1    -      persuaded
	 *   r3   2*86400     +60    +100     cam-1/l2    A1     persuaded
	 *   r4   2*86400+10  +60    +160     cam-1/l2    B2     -
	 *   r5   2*86400+20  -      (vacated) cam-1/l3   -      false_alarm
	 * time to clear (alarm -> cleared): 10 20 30 40 100
	 *   median 30; p90 at 0.9*4 = 3.6: 40 + 0.6*(100-40) = 76
	 * blocked (start -> cleared): 70 80 90 100 160
	 *   median 90; p90 100 + 0.6*60 = 136 */
	static const struct {
		double start;
		double clear; /* after the alarm; 0: vacated */
		const char *lane, *plate, *outcome;
	} R[] = {
		{ 86400, 10, "l1", "A1", "fined" },
		{ 86400 + 1000, 20, "l1", "A1", "towed" },
		{ 86400 + 2000, 30, "l1", NULL, "persuaded" },
		{ 2 * 86400, 40, "l2", "A1", "persuaded" },
		{ 2 * 86400 + 10, 100, "l2", "B2", NULL },
		{ 2 * 86400 + 20, 0, "l3", NULL, "false_alarm" },
	};
	char id[16], extra[256];
	int dup;
	json_t *j, *x;
	char *t;

	for (size_t i = 0; i < FL_ARRAY_SIZE(R); i++) {
		double w = R[i].start + 10;

		snprintf(id, sizeof(id), "r%zu", i);
		snprintf(extra, sizeof(extra),
			 "\"video_time_s\": 20, \"rest_since_s\": 10%s%s%s",
			 R[i].plate ? ", \"plate\": \"" : "",
			 R[i].plate ? R[i].plate : "", R[i].plate ? "\"" : "");
		put(db, "edge-01", "rep", R[i].lane, id, 1, "occupied", w,
		    extra, &dup);
		if (R[i].clear > 0) {
			put(db, "edge-01", "rep", R[i].lane, id, 2, "alarm",
			    R[i].start + 60, NULL, &dup);
			put(db, "edge-01", "rep", R[i].lane, id, 3, "cleared",
			    R[i].start + 60 + R[i].clear, NULL, &dup);
		} else {
			put(db, "edge-01", "rep", R[i].lane, id, 2, "vacated",
			    w + 5, NULL, &dup);
		}
		if (R[i].outcome)
			CHECK(fl_db_outcome_set(db, id, R[i].outcome, NULL,
						"ada", 1, NULL, 0) == 0);
	}
	t = fl_db_report_json(db, "rep", 0, 0);
	j = t ? json_loads(t, 0, NULL) : NULL;
	CHECK_MSG(j != NULL, "%s", t ? t : "(null)");
	free(t);
	if (!j)
		return;
	CHECK(jnum(j, "incidents") == 6);
	CHECK(jnum(j, "alarms") == 5);
	x = json_object_get(j, "time_to_clear_s");
	CHECK(jnum(x, "n") == 5);
	CHECK_NEAR(jnum(x, "median"), 30, 1e-9);
	CHECK_NEAR(jnum(x, "p90"), 76, 1e-9);
	x = json_object_get(j, "blocked_s");
	CHECK_NEAR(jnum(x, "median"), 90, 1e-9);
	CHECK_NEAR(jnum(x, "p90"), 136, 1e-9);
	x = json_object_get(j, "outcomes");
	CHECK(jnum(x, "persuaded") == 2 && jnum(x, "fined") == 1 &&
	      jnum(x, "towed") == 1 && jnum(x, "false_alarm") == 1 &&
	      jnum(x, "none") == 1 && jnum(x, "other") == 0);
	x = json_object_get(json_object_get(j, "by_status"), "cleared");
	CHECK(json_integer_value(x) == 5);
	x = json_object_get(j, "repeat_spots");
	CHECK(json_array_size(x) == 2);
	CHECK(!strcmp(jstr(json_array_get(x, 0), "lane"), "l1") &&
	      jnum(json_array_get(x, 0), "incidents") == 3);
	CHECK(!strcmp(jstr(json_array_get(x, 1), "lane"), "l2") &&
	      jnum(json_array_get(x, 1), "incidents") == 2);
	x = json_object_get(j, "repeat_plates");
	CHECK(json_array_size(x) == 1);
	CHECK(!strcmp(jstr(json_array_get(x, 0), "plate"), "A1") &&
	      jnum(json_array_get(x, 0), "incidents") == 3);
	x = json_object_get(j, "days");
	CHECK(json_array_size(x) == 2);
	CHECK(!strcmp(jstr(json_array_get(x, 0), "day"), "1970-01-02"));
	CHECK(jnum(json_array_get(x, 0), "incidents") == 3);
	CHECK(jnum(json_array_get(x, 0), "fined") == 1);
	CHECK(jnum(json_array_get(x, 1), "incidents") == 3);
	CHECK(jnum(json_array_get(x, 1), "alarms") == 2);
	json_decref(j);

	/* a window: only the second day; in UTC-1 hour the first day's
	 * incidents fall on 1970-01-01 */
	t = fl_db_report_json(db, "rep", 2 * 86400, 3 * 86400);
	j = t ? json_loads(t, 0, NULL) : NULL;
	free(t);
	CHECK(j && jnum(j, "incidents") == 3);
	CHECK(j && jnum(json_object_get(j, "time_to_clear_s"), "median") == 70);
	json_decref(j);
	t = fl_db_report_json_tz(db, "rep", 86400, 2 * 86400, -3600);
	CHECK(t && strstr(t, "\"1970-01-01\""));
	free(t);
	t = fl_db_report_json(db, "no-site", 0, 0);
	CHECK(t && strstr(t, "\"incidents\":0") && strstr(t, "\"median\":null"));
	free(t);

	/* a day without outcomes counts 0 of each, not null */
	put(db, "edge-01", "rep-none", "l1", "rn0", 1, "occupied", 86400, NULL,
	    &dup);
	t = fl_db_report_json(db, "rep-none", 0, 0);
	CHECK_MSG(t && strstr(t, "\"days\":[{\"day\":\"1970-01-02\","
				 "\"incidents\":1,\"alarms\":0,"
				 "\"persuaded\":0,\"fined\":0,\"towed\":0,"
				 "\"false_alarm\":0,\"other\":0}]"),
		  "%s", t ? t : "(null)");
	free(t);
}

/* ---- hostile input ------------------------------------------------------------------------ */

static void test_hostile(fl_db *db, const char *file)
{
	const char *evil = "x'); DROP TABLE incidents;--";
	const char *evil2 = "\" OR 1=1 --";
	size_t big = 1 << 20;
	char *json = malloc(big + 256), *payload = malloc(big), *t;
	fl_db_msg m = { 0 };
	int dup;
	char err[256];
	json_t *j;
	fl_db_filter f = { 0 };

	CHECK(json && payload);
	if (!json || !payload)
		goto out;
	m.device = evil;
	m.site = evil2;
	m.camera = evil;
	m.lane = evil;
	m.incident_id = evil;
	m.type = "occupied";
	m.seq = 1;
	m.wall = 7;
	/* a 1 MB message: {"note": "aaaa...", "seq": 1} */
	strcpy(json, "{\"note\": \"");
	memset(json + 10, 'a', big);
	strcpy(json + 10 + big, "\", \"seq\": 1}");
	m.json = json;
	CHECK(fl_db_ingest(db, &m, &dup, err, sizeof(err)) == 0);
	CHECK(fl_db_ingest(db, &m, &dup, err, sizeof(err)) == 0 && dup == 1);
	j = incident(db, evil);
	CHECK(j != NULL);
	if (j) {
		json_t *msg = json_object_get(
			json_array_get(json_object_get(j, "events"), 0),
			"message");
		const char *note = jstr(msg, "note");

		CHECK(!strcmp(jstr(j, "incident_id"), evil));
		CHECK(!strcmp(jstr(j, "site"), evil2));
		CHECK(!strcmp(jstr(j, "lane"), evil));
		CHECK(note && strlen(note) == big && note[big - 1] == 'a');
	}
	json_decref(j);
	f.site = evil2;
	CHECK(total(db, &f) == 1);
	f.sites_csv_allowed = evil; /* as an allowed-sites list */
	CHECK(total(db, &f) == 0);
	CHECK(fl_db_outcome_set(db, evil, "other", evil, evil, 8, err,
				sizeof(err)) == 0);
	CHECK(fl_db_user_add(db, evil, evil, "admin", NULL, err, sizeof(err)) ==
	      0);
	CHECK(fl_db_user_check(db, evil, evil, NULL, 0, NULL, 0) == 0);
	CHECK(fl_db_user_check(db, "ada' --", "x", NULL, 0, NULL, 0) ==
	      FL_EINVAL);

	/* a message that is not JSON: kept, returned as raw text */
	m.json = evil;
	m.seq = 2;
	m.type = "alarm";
	CHECK(fl_db_ingest(db, &m, &dup, err, sizeof(err)) == 0);
	j = incident(db, evil);
	CHECK(j && !strcmp(jstr(json_array_get(json_object_get(j, "events"), 1),
				"raw"),
			   evil));
	json_decref(j);

	/* quarantine: 1 MB of any bytes (NUL, invalid UTF-8) */
	for (size_t i = 0; i < big; i++)
		payload[i] = (char)(i * 7);
	CHECK(fl_db_quarantine(db, evil, payload, big, evil, 9) == 0);
	CHECK(fl_db_quarantine(db, "t/ok", "{\"a\": 1}", 8, "unknown device",
			       10) == 0);
	t = fl_db_quarantine_json(db, 10, 0);
	j = t ? json_loads(t, 0, NULL) : NULL;
	free(t);
	CHECK(j && json_integer_value(json_object_get(j, "total")) == 2);
	if (j) {
		json_t *q = json_object_get(j, "quarantine");

		CHECK(!strcmp(jstr(json_array_get(q, 0), "payload"),
			      "{\"a\": 1}"));
		CHECK(jnum(json_array_get(q, 1), "bytes") == (double)big);
		CHECK(!strcmp(jstr(json_array_get(q, 1), "topic"), evil));
		CHECK(jstr(json_array_get(q, 1), "payload_b64") != NULL);
	}
	json_decref(j);
	if (file) {
		CHECK(peek(file, "SELECT count(*) FROM incidents") > 10);
		CHECK(peek(file, "SELECT length(payload) FROM quarantine"
				 " ORDER BY id LIMIT 1") == (long long)big);
	}
out:
	free(json);
	free(payload);
}

/* ---- one database through everything ----------------------------------------------------- */

/* The quarantine's budget: the oldest rows go, the newest stay. */
static void test_quarantine_trim(void)
{
	fl_db *db = open_db("q.db");
	char topic[32];
	long removed = -1;

	for (int i = 0; i < 25; i++) {
		snprintf(topic, sizeof(topic), "q-%02d", i);
		CHECK(fl_db_quarantine(db, topic, "x", 1, "test", 100 + i) == 0);
	}
	CHECK(fl_db_quarantine_trim(db, 100, &removed) == 0 && removed == 0);
	CHECK(fl_db_quarantine_trim(db, 10, &removed) == 0 && removed == 15);
	CHECK(peek("q.db", "SELECT count(*) FROM quarantine") == 10);
	CHECK(peek("q.db", "SELECT count(*) FROM quarantine"
			   " WHERE topic >= 'q-15'") == 10);
	CHECK(fl_db_quarantine_trim(db, 10, &removed) == 0 && removed == 0);
	CHECK(fl_db_quarantine(db, "q-25", "x", 1, "test", 125) == 0);
	CHECK(fl_db_quarantine_trim(db, 10, &removed) == 0 && removed == 1);
	CHECK(peek("q.db", "SELECT count(*) FROM quarantine"
			   " WHERE topic IN ('q-16', 'q-25')") == 2);
	CHECK(peek("q.db", "SELECT count(*) FROM quarantine"
			   " WHERE topic = 'q-15'") == 0);
	CHECK(fl_db_quarantine_trim(db, -1, &removed) == FL_EINVAL);
	CHECK(fl_db_quarantine_trim(db, 0, &removed) == 0 && removed == 10);
	CHECK(peek("q.db", "SELECT count(*) FROM quarantine") == 0);
	fl_db_close(db);
}

static void suite(const char *file)
{
	fl_db *db = open_db(file ? file : ":memory:");

	if (!db)
		return;
	test_devices(db);
	test_ingest(db, file);
	test_batch(db);
	test_evidence(db);
	test_filters(db);
	test_users(db, file);
	test_user_names(db);
	test_login_failures(db, file);
	test_sessions(db, file);
	test_outcomes(db);
	test_plates(db);
	test_register(db);
	test_plates_prune(db);
	test_report(db);
	test_hostile(db, file);
	fl_db_close(db);
	if (!file)
		return;

	/* durability: a new handle sees everything */
	db = open_db(file);
	if (!db)
		return;
	{
		json_t *j = incident(db, "i-life");

		CHECK(j && !strcmp(jstr(j, "outcome"), "towed"));
		CHECK(j && json_array_size(json_object_get(j, "events")) == 6);
		CHECK(j && json_array_size(json_object_get(j, "outcomes")) == 2);
		json_decref(j);
		CHECK(fl_db_user_check(db, "pm", "pm-pass", NULL, 0, NULL, 0) ==
		      0);
		CHECK(fl_db_device_get(db, "edge-01", NULL, 0, NULL, 0) == 0);
		CHECK(peek(file, "SELECT count(*) FROM audit") >= 4);
	}
	fl_db_close(db);
}

/* ---- two handles, two threads --------------------------------------------------------- */

/* Two threads ingest the same messages, each through its own handle on one
 * file (the busy timeout makes the second wait for the first's write lock;
 * the unique (incident_id, seq) keeps one copy), while the main thread reads
 * through a third handle (WAL) and a fourth thread shares the first writer's
 * handle (its mutex). Every call answers. */
static void *writer(void *arg)
{
	fl_db *db = arg;
	char id[32];
	int dup;
	long bad = 0;

	for (int i = 0; i < 150; i++) {
		snprintf(id, sizeof(id), "c-%03d", i);
		bad += put(db, "edge-01", "cc", "lane-a", id, 1, "occupied",
			   50000 + i, NULL, &dup) != 0;
		bad += put(db, "edge-01", "cc", "lane-a", id, 2, "alarm",
			   50060 + i, NULL, &dup) != 0;
	}
	return (void *)bad;
}

static void test_concurrent(void)
{
	fl_db *w = open_db("c.db"), *r = open_db("c.db"), *w2 = open_db("c.db");
	pthread_t t1, t2, t3;
	void *b1 = NULL, *b2 = NULL, *b3 = NULL;
	fl_db_filter f = { 0 };
	int reads = 0;

	if (!w || !r || !w2) {
		fl_db_close(w);
		fl_db_close(r);
		fl_db_close(w2);
		return;
	}
	CHECK(pthread_create(&t1, NULL, writer, w) == 0);
	CHECK(pthread_create(&t2, NULL, writer, w2) == 0);
	CHECK(pthread_create(&t3, NULL, writer, w) == 0);
	f.site = "cc";
	for (int i = 0; i < 100; i++) {
		char *t = fl_db_incidents_json(r, &f);

		reads += t != NULL;
		free(t);
	}
	pthread_join(t1, &b1);
	pthread_join(t2, &b2);
	pthread_join(t3, &b3);
	CHECK(b1 == NULL && b2 == NULL && b3 == NULL);
	CHECK(reads == 100);
	CHECK(total(r, &f) == 150);
	CHECK(peek("c.db", "SELECT count(*) FROM incident_events") == 300);
	f.status = "alarm";
	CHECK(total(r, &f) == 150);
	fl_db_close(w);
	fl_db_close(w2);
	fl_db_close(r);
}

/* ---- two hubs, one device: read-then-write under concurrency ----------------------- */

/* Two hubs on one store handle one device's messages at
 * once, a round at a time, each round released by a barrier so that both
 * calls are in flight together (docs/store.md, "Concurrency"):
 *   1. statuses: the device online at epoch a; one hub hears the new
 *      connection's "online" (epoch a + 1), the other the old
 *      connection's will, "offline" at a. The rule's answer is online
 *      (the greatest (epoch, rank)): a hub that read the old row and
 *      wrote last would leave it offline;
 *   2. a camera heard of the first time (no row to lock yet): one hub
 *      hears "covered", the other "camera_offline"; both count;
 *   3. a camera that exists: one hub switches "moved", the other "frozen",
 *      on in even rounds and off in odd ones; both count;
 *   4. a new incident's evidence verdict: one hub sets it verified, the
 *      other failed (refused once it is verified: a verdict is never
 *      lowered); it ends verified;
 *   5. a site's resident register: each hub imports its own list; the
 *      register is one of the two lists, never both;
 *   6. a device's configuration: both hubs save on the latest version;
 *      one saves the next, the other is refused with a reason;
 *   7. a one-time enrolment code: both hubs redeem it, with keys of
 *      their own; one enrols the device, with its key, the other is
 *      refused (used already).
 * One hub is this process (a thread on the handle the main thread sets
 * each round up and checks it with), the other a child process with its
 * own connection: two processes on one SQLite file, or two connections to
 * PostgreSQL. Every wrong round is counted, and there must be none. */
#define RACE_ROUNDS 200
struct race {
	fl_db *db;
	int rounds;
	int side; /* 0 or 1: which message of each pair */
	pthread_barrier_t *bar;
	int failed, saved;
	unsigned char won[RACE_ROUNDS]; /* phase 7: the code was ours */
};

/* the keys the two hubs enrol with (phase 7) */
static const char *const race_keys[2] = {
	"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
};

/* the lists the two hubs import (phase 5) */
static const fl_db_resident lists[2][2] = {
	{ { "渝A1", "a", "1", "1" }, { "渝A2", "a", "2", "2" } },
	{ { "渝B1", "b", "1", "1" }, { "渝B2", "b", "2", "2" } },
};

/* The plates of site's register, a comma list (by plate) in out. */
static void register_plates(fl_db *db, const char *site, char *out, size_t n)
{
	char *t = fl_db_register_json(db, site);
	json_t *o = t ? json_loads(t, 0, NULL) : NULL, *row;
	size_t i, len = 0;

	free(t);
	out[0] = '\0';
	json_array_foreach(json_object_get(o, "residents"), i, row)
		len += (size_t)snprintf(out + len, len < n ? n - len : 0,
					"%s%s", i ? "," : "",
					jstr(row, "plate"));
	json_decref(o);
}

static void *race_side(void *arg)
{
	struct race *r = arg;
	char cam[32], err[256], dev[32], site[32];
	int rc, version;

	for (int k = 0; k < r->rounds; k++) {
		unsigned long long a = 2 * (unsigned long long)k + 1;
		int even = k % 2 == 0;

		snprintf(cam, sizeof(cam), "new-%03d", k);
		pthread_barrier_wait(r->bar); /* set up */
		r->failed +=
			fl_db_device_status_at(r->db, "race-dev",
					       r->side ? "offline" : "online",
					       r->side ? a : a + 1, 3000 + k,
					       NULL, NULL, 0, NULL) != 0;
		pthread_barrier_wait(r->bar);
		r->failed += fl_db_camera_event(r->db, "race-dev", cam,
						r->side ? "camera_offline"
							: "health",
						r->side ? "stream lost"
							: "covered",
						3000 + k) != 0;
		pthread_barrier_wait(r->bar);
		r->failed +=
			fl_db_camera_event(
				r->db, "race-dev", "fixed", "health",
				r->side ? (even ? "frozen" : "cleared: frozen")
					: (even ? "moved" : "cleared: moved"),
				3000 + k) != 0;
		pthread_barrier_wait(r->bar);
		snprintf(cam, sizeof(cam), "rv-%03d", k);
		rc = fl_db_evidence_set_verified(r->db, cam, !r->side,
						 r->side ? "bad" : "ok");
		r->failed += rc != 0 && !(r->side && rc == FL_EEXIST);
		pthread_barrier_wait(r->bar);
		r->failed += fl_db_register_replace(r->db, "rs", lists[r->side],
						    2, "pm", 3000 + k, NULL,
						    0) != 0;
		pthread_barrier_wait(r->bar);
		err[0] = '\0';
		rc = fl_db_config_save(r->db, "race-dev", k, "a: 1\n", "pm",
				       NULL, 3000 + k, &version, err,
				       sizeof(err));
		r->saved += rc == 0;
		r->failed += rc != 0 && !(rc == FL_EEXIST && err[0]);
		pthread_barrier_wait(r->bar);
		snprintf(cam, sizeof(cam), "code-%03d", k);
		rc = fl_db_enrol_redeem(r->db, cam, race_keys[r->side],
					3000 + k, dev, sizeof(dev), site,
					sizeof(site), err, sizeof(err));
		r->won[k] = rc == 0;
		r->failed += rc != 0 && rc != FL_EEXIST;
		pthread_barrier_wait(r->bar); /* checked */
	}
	return NULL;
}

/* file: the SQLite file both handles open; NULL on PostgreSQL (the test
 * database emptied). SQLite's write lock (BEGIN IMMEDIATE) takes the
 * writers in turns whatever the code does above it, and its lock waits are
 * slow sleeps: a third of the rounds there. */
static void test_status_race(const char *file)
{
	fl_db *db = open_db(file ? file : ":memory:");
	/* shared with the other hub's process: the barrier and both sides */
	struct shared {
		pthread_barrier_t bar;
		struct race s[2];
	} *sh = MAP_FAILED;
	struct race *s;
	pthread_barrierattr_t ba;
	pthread_t t;
	pid_t pid = -1;
	int wstatus = -1;
	int wrong_status = 0, wrong_new = 0, wrong_fixed = 0, wrong_verdict = 0;
	int wrong_register = 0, wrong_enrol = 0;
	int rounds = file ? RACE_ROUNDS / 3 : RACE_ROUNDS;
	char err[256] = "", st[16], cam[32], plates[128], pk[64];

	if (!db)
		return;
	CHECK(fl_db_device_enrol(db, "race-dev", "s1",
				 "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
				 err, sizeof(err)) == 0);
	/* the race is in the locks, not on the disk: commits unsynced, so
	 * that the rounds are quick */
	CHECK(fl_db_set_durable(db, 0) == 0);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED);
	if (sh == MAP_FAILED)
		goto out;
	s = sh->s;
	pthread_barrierattr_init(&ba);
	pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
	pthread_barrier_init(&sh->bar, &ba, 3);
	pthread_barrierattr_destroy(&ba);
	for (int i = 0; i < 2; i++)
		s[i] = (struct race){ NULL, rounds, i, &sh->bar, 0, 0, { 0 } };
	/* side 1 is another hub: a process of its own with its own
	 * connection (a failed open still meets every barrier: its calls
	 * fail and are counted) */
	fflush(NULL);
	if ((pid = fork()) == 0) {
		s[1].db = same_store(file);
		if (!s[1].db || fl_db_set_durable(s[1].db, 0) < 0)
			s[1].failed++;
		race_side(&s[1]);
		fl_db_close(s[1].db);
		_exit(0);
	}
	CHECK(pid > 0);
	if (pid < 0)
		goto out;
	s[0].db = db;
	CHECK(pthread_create(&t, NULL, race_side, &s[0]) == 0);
	for (int k = 0; k < rounds; k++) {
		int even = k % 2 == 0, dup, v = -2;

		snprintf(cam, sizeof(cam), "code-%03d", k);
		snprintf(st, sizeof(st), "rc-%03d", k);
		CHECK(fl_db_enrol_code_add(db, cam, st, "s1", 3000 + k, 9000,
					   "pm", err, sizeof(err)) == 0);
		snprintf(cam, sizeof(cam), "rv-%03d", k);
		CHECK(put(db, "race-dev", "s1", "lane-a", cam, 1, "occupied",
			  3000 + k, NULL, &dup) == 0);
		CHECK(fl_db_device_status_at(db, "race-dev", "online",
					     2 * (unsigned long long)k + 1,
					     3000 + k, NULL, NULL, 0,
					     NULL) == 0);
		pthread_barrier_wait(&sh->bar); /* go */
		pthread_barrier_wait(&sh->bar); /* statuses done */
		pthread_barrier_wait(&sh->bar); /* the new camera done */
		pthread_barrier_wait(&sh->bar); /* the existing camera done */
		pthread_barrier_wait(&sh->bar); /* the verdicts done */
		CHECK(fl_db_evidence_verdict(db, cam, &v) == 0);
		wrong_verdict += v != 1;
		pthread_barrier_wait(&sh->bar); /* the imports done */
		register_plates(db, "rs", plates, sizeof(plates));
		wrong_register += strcmp(plates, "渝A1,渝A2") &&
				  strcmp(plates, "渝B1,渝B2");
		pthread_barrier_wait(&sh->bar); /* the configurations saved */
		pthread_barrier_wait(&sh->bar); /* the codes redeemed */
		snprintf(cam, sizeof(cam), "rc-%03d", k);
		pk[0] = '\0';
		CHECK(fl_db_device_get(db, cam, NULL, 0, pk, sizeof(pk)) == 0);
		wrong_enrol += s[0].won[k] + s[1].won[k] != 1 ||
			       strcmp(pk, race_keys[s[1].won[k]]);
		CHECK(fl_db_device_status(db, "race-dev", st, sizeof(st)) == 0);
		wrong_status += strcmp(st, "online") != 0;
		snprintf(cam, sizeof(cam), "new-%03d", k);
		wrong_new += !cam_is(db, cam, "offline", "covered", NAN, NAN);
		wrong_fixed += !cam_is(db, "fixed", even ? "moved" : "ok",
				       even ? "moved,frozen" : "", NAN, NAN);
	}
	pthread_join(t, NULL);
	CHECK(waitpid(pid, &wstatus, 0) == pid && WIFEXITED(wstatus) &&
	      WEXITSTATUS(wstatus) == 0);
	pthread_barrier_destroy(&sh->bar);
	CHECK_EQ_INT(s[0].failed + s[1].failed, 0);
	CHECK_EQ_INT(s[0].saved + s[1].saved, rounds);
	/* each count of wrong rounds, with the backend's name */
#define WRONG(n, what)                                                         \
	CHECK_MSG((n) == 0, "%s: %d of %d " what,                              \
		  file ? "SQLite" : "PostgreSQL", (n), rounds)
	WRONG(wrong_status, "rounds end offline, not online");
	WRONG(wrong_new, "new cameras lost an event");
	WRONG(wrong_fixed, "rounds lost an event of a camera");
	WRONG(wrong_verdict, "verdicts lowered");
	WRONG(wrong_register, "registers mix two imports");
	WRONG(wrong_enrol, "codes not used once, by the key stored");
#undef WRONG
out:
	if (sh != MAP_FAILED)
		munmap(sh, sizeof(*sh));
	fl_db_close(db);
}

/* A backend alone, as the neutral files use it (backend.h), on a fresh
 * database; closes it. */
static void test_backend_ops(const fl__db_ops *ops, void *be)
{
	fl__db_incident in = { 0 }, out;

	in.device = "edge-01";
	in.site = "演示小区"; /* UTF-8 kept byte for byte */
	in.lane = "lane-a";
	in.status = "alarm";
	in.status_seq = 2;
	in.last_seq = 3;
	in.start = in.rest_since = 100.5;
	in.occupied = 101;
	in.alarm = 160;
	in.cleared = in.closed = NAN;
	in.bbox = "[1,2,3,4]";
	CHECK(ops->incident_get(be, "i-1", &out) == FL_ENOENT);
	CHECK(ops->tx(be, FL__TX_BEGIN) == 0);
	CHECK(ops->incident_put(be, "i-1", &in, 1) == 0);
	CHECK(ops->event_add(be, "i-1", 1, "alarm", 160, 161, "{}") == 0);
	/* the unique key is the arbiter between two writers of a message */
	CHECK(ops->event_add(be, "i-1", 1, "alarm", 160, 162, "{}") ==
	      FL_EEXIST);
	{ /* the stored text comes back, for the duplicate-bytes rule */
		char *json = NULL;

		CHECK(ops->event_exists(be, "i-1", 1, &json) == 1);
		CHECK_STREQ(json, "{}");
		free(json);
	}
	CHECK(ops->event_exists(be, "i-1", 1, NULL) == 1);
	CHECK(ops->event_exists(be, "i-1", 2, NULL) == 0);
	CHECK(ops->tx(be, FL__TX_COMMIT) == 0);
	CHECK(ops->incident_get(be, "i-1", &out) == 0);
	CHECK(out.device && !strcmp(out.device, "edge-01"));
	CHECK(out.site && !strcmp(out.site, "演示小区"));
	CHECK(!out.camera && !out.cls && !out.plate);
	CHECK(out.status && !strcmp(out.status, "alarm"));
	CHECK(out.status_seq == 2 && out.last_seq == 3);
	CHECK(out.start == 100.5 && out.rest_since == 100.5 &&
	      out.occupied == 101 && out.alarm == 160);
	CHECK(isnan(out.cleared) && isnan(out.closed));
	CHECK(out.bbox && !strcmp(out.bbox, "[1,2,3,4]"));
	fl__db_incident_free(&out);
	CHECK(!out.device); /* freed and cleared */

	/* the row read is written back; a fresh row whose id is taken (by
	 * another writer, on a database several write) is refused, the
	 * stored row kept; a row read that is gone is FL_ENOENT */
	in.last_seq = 4;
	CHECK(ops->incident_put(be, "i-1", &in, 0) == 0);
	in.last_seq = 5;
	CHECK(ops->incident_put(be, "i-1", &in, 1) < 0);
	CHECK(ops->incident_put(be, "i-gone", &in, 0) == FL_ENOENT);
	CHECK(ops->incident_get(be, "i-1", &out) == 0);
	CHECK(out.last_seq == 4);
	fl__db_incident_free(&out);

	/* a savepoint rolled back takes its change with it, the rest of the
	 * transaction stays */
	CHECK(ops->tx(be, FL__TX_BEGIN) == 0);
	CHECK(ops->incident_put(be, "i-2", &in, 1) == 0);
	CHECK(ops->tx(be, FL__TX_SAVEPOINT) == 0);
	CHECK(ops->incident_put(be, "i-3", &in, 1) == 0);
	CHECK(ops->tx(be, FL__TX_ROLLBACK_TO) == 0);
	CHECK(ops->tx(be, FL__TX_RELEASE) == 0);
	CHECK(ops->tx(be, FL__TX_SAVEPOINT) == 0);
	CHECK(ops->incident_put(be, "i-4", &in, 1) == 0);
	CHECK(ops->tx(be, FL__TX_RELEASE) == 0);
	CHECK(ops->tx(be, FL__TX_COMMIT) == 0);
	CHECK(ops->incident_get(be, "i-3", &out) == FL_ENOENT);
	CHECK(ops->incident_get(be, "i-2", &out) == 0);
	fl__db_incident_free(&out);
	CHECK(ops->incident_get(be, "i-4", &out) == 0);
	fl__db_incident_free(&out);
	ops->close(be);
}

/* Every entry of a backend's table is filled: after the name, the table
 * is function pointers only (backend.h), each checked by its bytes. */
static void test_ops_complete(const fl__db_ops *ops)
{
	typedef void (*fn)(void);
	const unsigned char *p = (const unsigned char *)ops;
	size_t first = offsetof(fl__db_ops, close);

	CHECK_EQ_INT((sizeof(*ops) - first) % sizeof(fn), 0);
	for (size_t off = first; off + sizeof(fn) <= sizeof(*ops);
	     off += sizeof(fn)) {
		fn f;

		memcpy(&f, p + off, sizeof(f));
		CHECK_MSG(f != NULL, "%s: entry %zu of its table is NULL",
			  ops->name, (off - first) / sizeof(fn));
	}
}

#ifdef FL_HAVE_LIBPQ
/* A PostgreSQL URL's password is in no error (no server needed: port 1
 * refuses): one libpq quotes back (the password is the host's text), and
 * one in a URL libpq cannot parse (a bad escape it quotes). */
static void test_pg_errors(void)
{
	char err[256] = "";

	CHECK_NULL(fl_db_open("postgresql://fl:127.0.0.1@127.0.0.1:1/x", err,
			      sizeof(err)));
	CHECK_MSG(strstr(err, "cannot connect") && strstr(err, "***") &&
			  !strstr(err, "127.0.0.1"),
		  "%s", err);
	CHECK_NULL(fl_db_open("postgresql://fl:pw%zzQ@127.0.0.1:1/x", err,
			      sizeof(err)));
	CHECK_MSG(strstr(err, "cannot connect") && !strstr(err, "zzQ"), "%s",
		  err);
	CHECK_NULL(fl_db_open("mysql://fl:pw@h/x", err, sizeof(err)));
	CHECK_MSG(strstr(err, "'mysql'") && !strstr(err, "pw"), "%s", err);
}
#endif

static void test_backend(void)
{
	char err[256];
	void *be = fl__db_sqlite_open(":memory:", 0, err, sizeof(err));

	test_ops_complete(&fl__db_sqlite_ops);
#ifdef FL_HAVE_LIBPQ
	test_ops_complete(&fl__db_pg_ops);
	test_pg_errors();
#endif
	CHECK_MSG(be, "%s", err);
	if (be)
		test_backend_ops(&fl__db_sqlite_ops, be);
}

/* ---- the same on PostgreSQL (FL_TEST_STORE) ------------------------------------------------- */

#ifdef FL_HAVE_LIBPQ
/* FL_TEST_STORE: a postgresql:// URL of a database the test may empty
 * (tests/integration/store_pg.sh starts a server for it). The PostgreSQL
 * backend is written in groups (src/store/postgres.c says which exist);
 * this runs the tests of those groups. */

static int pg_exec(const char *sql)
{
	return test_pg_exec(pg_url, sql);
}

/* An empty database: every table of a previous test gone. */
static int pg_reset(void)
{
	return test_pg_reset(pg_url);
}

static fl_db *pg_open(int max_version)
{
	char err[256] = "";
	fl_db *db = fl__db_open_version(pg_url, max_version, err, sizeof(err));

	CHECK_MSG(db != NULL, "%s: %s", pg_url, err);
	return db;
}

static void *pg_opener(void *arg)
{
	fl_db *db = pg_open(0);
	int v = fl_db_schema_version(db);

	(void)arg;
	fl_db_close(db);
	return (void *)(long)v;
}

/* Migrations: the same numbers as SQLite's, a step at a time, once when
 * four handles open an empty database at once, a newer database refused;
 * the public open takes the URL. */
static void test_pg_migrations(void)
{
	char err[256] = "";
	pthread_t t[4];
	fl_db *db;

	CHECK_EQ_INT(fl__db_pg_latest(), fl__db_sqlite_latest());
	if (pg_reset() < 0)
		return;
	db = fl_db_open(pg_url, err, sizeof(err));
	CHECK_MSG(db != NULL, "%s: %s", pg_url, err);
	CHECK_EQ_INT(fl_db_schema_version(db), fl__db_pg_latest());
	fl_db_close(db);
	if (pg_reset() < 0)
		return;
	db = pg_open(5);
	CHECK_EQ_INT(fl_db_schema_version(db), 5);
	fl_db_close(db);
	db = pg_open(0);
	CHECK_EQ_INT(fl_db_schema_version(db), fl__db_pg_latest());
	fl_db_close(db);
	db = pg_open(0); /* nothing to do */
	CHECK_EQ_INT(fl_db_schema_version(db), fl__db_pg_latest());
	fl_db_close(db);

	if (pg_reset() < 0)
		return;
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, pg_opener, NULL) == 0);
	for (int i = 0; i < 4; i++) {
		void *v = NULL;

		pthread_join(t[i], &v);
		CHECK_EQ_INT((int)(long)v, fl__db_pg_latest());
	}
	if (pg_exec("DO $$ BEGIN IF (SELECT count(*) FROM schema_version)"
		    " <> 1 THEN RAISE 'schema_version rows'; END IF; END $$") ==
	    0)
		pg_exec("UPDATE schema_version SET version = 99");
	CHECK(fl__db_open_version(pg_url, 0, err, sizeof(err)) == NULL);
	CHECK_MSG(strstr(err, "newer") != NULL, "%s", err);
}

/* Two handles (two hub workers) ingest the same 60 messages of one new
 * incident, in opposite orders and at once: every message stored once,
 * each handed to one writer as new and to the other as a duplicate, the
 * incident as from one writer. A writer that finds the incident created
 * under it (FL_EAGAIN) tries again, as the broker redelivers. */
#define PG_RACE_N 60
struct pg_racer {
	fl_db *db;
	int reverse, fresh, failed;
};

static void *pg_race(void *arg)
{
	struct pg_racer *r = arg;

	for (int k = 0; k < PG_RACE_N; k++) {
		unsigned seq = (unsigned)(r->reverse ? PG_RACE_N - k : k + 1);
		int dup = 0, rc;

		do
			rc = put(r->db, "edge-01", "s1", "lane-a", "race-1",
				 seq,
				 seq == PG_RACE_N ? "cleared"
				 : seq == 2       ? "alarm"
						  : "occupied",
				 1000 + seq, NULL, &dup);
		while (rc == FL_EAGAIN);
		r->failed += rc < 0;
		r->fresh += rc == 0 && !dup;
	}
	return NULL;
}

static void test_pg_race(void)
{
	struct pg_racer a = { pg_open(0), 0, 0, 0 },
			b = { pg_open(0), 1, 0, 0 };
	pthread_t ta, tb;
	json_t *j;

	if (!a.db || !b.db)
		goto out;
	CHECK(pthread_create(&ta, NULL, pg_race, &a) == 0);
	CHECK(pthread_create(&tb, NULL, pg_race, &b) == 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	CHECK_EQ_INT(a.failed + b.failed, 0);
	CHECK_EQ_INT(a.fresh + b.fresh, PG_RACE_N);
	j = incident(a.db, "race-1");
	CHECK(j != NULL);
	CHECK_EQ_INT((int)json_array_size(json_object_get(j, "events")),
		     PG_RACE_N);
	CHECK_STREQ(jstr(j, "status"), "cleared");
	CHECK(jnum(j, "last_seq") == PG_RACE_N);
	CHECK_EQ_DBL(jnum(j, "occupied"), 1001, 0);
	CHECK_EQ_DBL(jnum(j, "alarm"), 1002, 0);
	CHECK_EQ_DBL(jnum(j, "cleared"), 1000 + PG_RACE_N, 0);
	json_decref(j);
out:
	fl_db_close(a.db);
	fl_db_close(b.db);
}

static void pg_suite(void)
{
	char err[256] = "";
	void *be;
	fl_db *db;

	test_pg_migrations();
	if (pg_reset() < 0)
		return;
	be = fl__db_pg_open(pg_url, 0, err, sizeof(err));
	CHECK_MSG(be != NULL, "%s", err);
	if (be)
		test_backend_ops(&fl__db_pg_ops, be);
	if (!(db = open_db(":memory:")))
		return;
	test_devices(db);
	test_ingest(db, NULL);
	test_batch(db);
	test_evidence(db);
	test_filters(db);
	test_users(db, NULL);
	test_user_names(db);
	test_login_failures(db, NULL);
	test_sessions(db, NULL);
	test_outcomes(db);
	test_plates(db);
	test_register(db);
	test_plates_prune(db);
	test_report(db);
	test_hostile(db, NULL);
	fl_db_close(db);
	test_receipts();
	test_verdict();
	if (pg_reset() == 0)
		test_pg_race();
	test_status_race(NULL);
}
#endif

/* ---- bench --------------------------------------------------------------------------------- */

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* median and max in ms of `runs` calls of a query */
typedef char *(*query_fn)(fl_db *db, const void *arg, int i);

static void timed(fl_db *db, query_fn q, const void *arg, int runs, double *med,
		  double *p99)
{
	double *v = calloc((size_t)runs, sizeof(double));

	for (int i = 0; i < runs; i++) {
		double t0 = mono();
		char *t = q(db, arg, i);

		v[i] = (mono() - t0) * 1000;
		if (!t)
			test_failures++;
		free(t);
	}
	qsort(v, (size_t)runs, sizeof(double), cmpd);
	*med = v[runs / 2];
	*p99 = v[(size_t)(runs * 0.99)];
	free(v);
}

static char *q_list(fl_db *db, const void *arg, int i)
{
	return fl_db_incidents_json(db, arg);
}

static long bench_n;

static char *q_one(fl_db *db, const void *arg, int i)
{
	char id[64];

	snprintf(id, sizeof(id), "bench-%08ld", (long)((i * 7919L) % bench_n));
	return fl_db_incident_json(db, id);
}

static char *q_report(fl_db *db, const void *arg, int i)
{
	return fl_db_report_json(db, arg, 0, 0);
}

/* all sites, the second week of the data */
static char *q_week(fl_db *db, const void *arg, int i)
{
	double from = 1795955740.0 + 7 * 86400.0;

	return fl_db_report_json(db, NULL, from, from + 7 * 86400.0);
}

/* N incidents (occupied, alarm, cleared: 3 messages each) over 50 sites x 4
 * lanes, one every 30 s; timed: 2000 single-message transactions with
 * synchronous=FULL, 2000 with NORMAL, then the rest in batches of 100
 * (FULL); then query latencies. */
static int bench(long n)
{
	char path[512], url[600], err[256], id[64], site[16], lane[16];
	char json[600];
	fl_db *db;
	int dup;
	long msg = 0;
	double t0, single_full = 0, single_normal = 0, batched;
	long n_full = 0, n_normal = 0, n_batched = 0;
	const char *types[3] = { "occupied", "alarm", "cleared" };

	bench_n = n;
	path_of(path, sizeof(path), "bench.db", 0);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	db = fl_db_open(url, err, sizeof(err));
	if (!db) {
		fprintf(stderr, "bench: %s\n", err);
		return 1;
	}
	fl_db_device_enrol(db, "edge-b", "s0",
			   "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", err,
			   sizeof(err));
#define ONE(i, k)                                                              \
	do {                                                                   \
		fl_db_msg m_ = { 0 };                                          \
		double w_ = 1795955740.0 + 30.0 * (double)(i) + 60.0 * (k);    \
		snprintf(id, sizeof(id), "bench-%08ld", (long)(i));            \
		snprintf(site, sizeof(site), "site-%02ld", (long)(i) % 50);    \
		snprintf(lane, sizeof(lane), "lane-%ld", (long)(i) / 50 % 4);  \
		snprintf(json, sizeof(json),                                   \
			 "{\"incident_id\": \"%s\", \"seq\": %d, \"type\": "   \
			 "\"%s\", \"site\": \"%s\", \"device\": \"edge-b\", "  \
			 "\"camera\": \"cam-1\", \"lane\": \"%s\", "           \
			 "\"time\": \"2026-11-29T12:35:40.200Z\", "            \
			 "\"unix_time\": %.3f, \"video_time_s\": %.3f, "       \
			 "\"rest_since_s\": 7.600, \"bbox\": [228.0, 141.0, "  \
			 "40.0, 38.0], \"class\": \"vehicle\"}",               \
			 id, (k) + 1, types[k], site, lane, w_,                \
			 10.2 + 60.0 * (k));                                   \
		m_.device = "edge-b";                                          \
		m_.site = site;                                                \
		m_.camera = "cam-1";                                           \
		m_.lane = lane;                                                \
		m_.incident_id = id;                                           \
		m_.type = types[k];                                            \
		m_.seq = (unsigned)(k) + 1;                                    \
		m_.wall = w_;                                                  \
		m_.json = json;                                                \
		if (fl_db_ingest(db, &m_, &dup, err, sizeof(err)) < 0) {       \
			fprintf(stderr, "bench: %s\n", err);                   \
			return 1;                                              \
		}                                                              \
		msg++;                                                         \
	} while (0)

	long i = 0;
	/* single messages, each its own durable commit */
	t0 = mono();
	for (; i < n && msg < 2000; i++)
		for (int k = 0; k < 3; k++)
			ONE(i, k);
	single_full = mono() - t0;
	n_full = msg;
	fl_db_set_durable(db, 0);
	t0 = mono();
	for (; i < n && msg < 4000; i++)
		for (int k = 0; k < 3; k++)
			ONE(i, k);
	single_normal = mono() - t0;
	n_normal = msg - n_full;
	fl_db_set_durable(db, 1);
	t0 = mono();
	while (i < n) {
		long end = FL_MIN(n, i + 34);

		fl_db_batch_begin(db);
		for (; i < end; i++)
			for (int k = 0; k < 3; k++)
				ONE(i, k);
		if (fl_db_batch_end(db, 1) < 0) {
			fprintf(stderr, "bench: batch commit failed\n");
			return 1;
		}
	}
	batched = mono() - t0;
	n_batched = msg - n_full - n_normal;
	/* outcomes on every 10th, to make the outcome filter real */
	fl_db_batch_begin(db);
	for (long k = 0; k < n; k += 10) {
		snprintf(id, sizeof(id), "bench-%08ld", k);
		fl_db_outcome_set(db, id, k % 20 ? "towed" : "persuaded", NULL,
				  "bench", 1, NULL, 0);
	}
	fl_db_batch_end(db, 1);

	/* queries */
	fl_db_filter all = { 0 }, filt = { 0 }, deep = { 0 };
	double l_med, l_p99, f_med, f_p99, o_med, o_p99, d_med, d_p99, r_med,
		r_p99, a_med, a_p99, w_med, w_p99;

	filt.site = "site-07";
	filt.status = "cleared";
	filt.from_wall = 1795955740.0 + 30.0 * (double)n / 2;
	filt.sites_csv_allowed = "site-03,site-07,site-11";
	deep.offset = (int)FL_MIN(n / 2, 100000);
	deep.limit = 50;
	timed(db, q_list, &all, 50, &l_med, &l_p99);
	timed(db, q_list, &filt, 50, &f_med, &f_p99);
	timed(db, q_list, &deep, 20, &d_med, &d_p99);
	timed(db, q_one, NULL, 200, &o_med, &o_p99);
	timed(db, q_report, "site-07", 10, &r_med, &r_p99);
	timed(db, q_report, NULL, 3, &a_med, &a_p99);
	timed(db, q_week, NULL, 5, &w_med, &w_p99);
	fl_db_close(db);
	printf("{\"incidents\": %ld, \"messages\": %ld, "
	       "\"ingest_msgs_per_s_full\": %.0f, "
	       "\"ingest_msgs_per_s_normal\": %.0f, "
	       "\"ingest_msgs_per_s_batched_full\": %.0f, "
	       "\"list_first_page_ms\": {\"median\": %.2f, \"p99\": %.2f}, "
	       "\"list_filtered_ms\": {\"median\": %.2f, \"p99\": %.2f}, "
	       "\"list_deep_page_ms\": {\"median\": %.2f, \"p99\": %.2f}, "
	       "\"incident_ms\": {\"median\": %.3f, \"p99\": %.3f}, "
	       "\"report_site_ms\": {\"median\": %.1f, \"p99\": %.1f}, "
	       "\"report_all_ms\": {\"median\": %.1f, \"max\": %.1f}, "
	       "\"report_week_all_sites_ms\": {\"median\": %.1f, \"max\": %.1f}, "
	       "\"db_mb\": %.1f}\n",
	       n, msg, n_full / single_full, n_normal / single_normal,
	       n_batched > 0 ? n_batched / batched : 0, l_med, l_p99, f_med,
	       f_p99, d_med, d_p99, o_med, o_p99, r_med, r_p99, a_med, a_p99,
	       w_med, w_p99,
	       (double)(peek("bench.db", "PRAGMA page_count") *
			peek("bench.db", "PRAGMA page_size")) /
		       1048576.0);
	return test_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char cmd[600];
	int rc;

	snprintf(dir, sizeof(dir), "%s/fl-test-db-XXXXXX", tmp);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	if (argc > 2 && !strcmp(argv[1], "--bench")) {
		rc = bench(FL_MAX(atol(argv[2]), 1000));
	} else if (test_pg_url()) {
#ifdef FL_HAVE_LIBPQ
		pg_url = test_pg_url();
		pg_suite();
		rc = -1;
#else
		fprintf(stderr,
			"test_db: FL_TEST_STORE: built without libpq\n");
		rc = 1;
#endif
	} else {
		test_migrations();
		test_quarantine_trim();
		test_receipts();
		test_verdict();
		test_concurrent();
		test_status_race("race2.db");
		test_backend();
		suite("t.db");
		suite(NULL);
		rc = -1;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (getenv("FL_TEST_KEEP")) /* to look at the databases afterwards */
		fprintf(stderr, "test_db: kept %s\n", dir);
	else if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	if (rc >= 0)
		return rc;
	TEST_DONE();
}
