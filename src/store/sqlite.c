/*
 * sqlite.c - the store's SQLite backend.
 *
 * A note on the database. One file in WAL mode (readers never wait for the
 * writer), foreign keys on, a 5 s busy timeout (a second process on the same
 * file waits instead of failing), synchronous=FULL by default (every commit
 * fsync'ed: what the hub acknowledged to the broker survives a power cut).
 *
 * The schema is versioned: schema_version holds one number, and the
 * MIGRATIONS table below lists, for each version, the constant SQL that
 * takes the previous version to it. Opening applies every pending migration
 * and the new number in one IMMEDIATE transaction, so a database is always
 * at exactly one version and two processes opening an old file at once
 * migrate it once. A database newer than this build is refused.
 *
 * Every statement that carries a value is prepared once (cached per handle)
 * and every value is bound: no SQL text is ever built from data. Optional
 * filters are written into the statement as "(?1 IS NULL OR site = ?1)" and
 * an unused filter is bound NULL. The allowed-sites list is bound as one text
 * and matched with instr(',' || list || ',', ',' || site || ','), which
 * PostgreSQL can mirror with position() or = ANY(string_to_array()).
 *
 * Queries return JSON built with jansson from the rows: the column names of
 * each SELECT are the JSON keys.
 */
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "clock.h"
#include "fl.h"
#include "id.h"
#include "receipt.h"

#define TAG "store"

/* ---- migrations ----------------------------------------------------------------- */

static const char *const MIGRATIONS[] = {
	/* 1: devices, incidents and their messages, evidence, quarantine,
	 *    users, outcome history, audit */
	"CREATE TABLE devices ("
	" device TEXT PRIMARY KEY,"
	" site TEXT NOT NULL,"
	" public_key TEXT NOT NULL,"
	" enrolled REAL NOT NULL,"
	" status TEXT,"
	" last_seen REAL,"
	" heartbeat TEXT);"
	"CREATE TABLE incidents ("
	" incident_id TEXT PRIMARY KEY,"
	" device TEXT NOT NULL,"
	" site TEXT, camera TEXT, lane TEXT,"
	" status TEXT,"
	" status_seq INTEGER NOT NULL DEFAULT 0,"
	" start REAL, rest_since REAL, occupied REAL, alarm REAL,"
	" cleared REAL, closed REAL,"
	" bbox TEXT, class TEXT,"
	" last_seq INTEGER NOT NULL DEFAULT 0,"
	" outcome TEXT,"
	" verified INTEGER, verify_report TEXT);"
	"CREATE INDEX incidents_start ON incidents(start);"
	"CREATE TABLE incident_events ("
	" incident_id TEXT NOT NULL REFERENCES incidents(incident_id)"
	"  ON DELETE CASCADE,"
	" seq INTEGER NOT NULL,"
	" type TEXT NOT NULL,"
	" wall REAL,"
	" received REAL,"
	" json TEXT NOT NULL,"
	" UNIQUE (incident_id, seq));"
	"CREATE TABLE evidence ("
	" incident_id TEXT NOT NULL REFERENCES incidents(incident_id)"
	"  ON DELETE CASCADE,"
	" name TEXT NOT NULL,"
	" sha256 TEXT, bytes INTEGER, kind TEXT,"
	" verified INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (incident_id, name));"
	"CREATE TABLE quarantine ("
	" id INTEGER PRIMARY KEY,"
	" topic TEXT, payload BLOB, reason TEXT, wall REAL);"
	"CREATE TABLE users ("
	" name TEXT PRIMARY KEY,"
	" hash TEXT NOT NULL,"
	" role TEXT NOT NULL"
	"  CHECK (role IN ('admin', 'enforcement', 'property')),"
	" sites TEXT NOT NULL DEFAULT '',"
	" created REAL);"
	"CREATE TABLE outcomes ("
	" id INTEGER PRIMARY KEY,"
	" incident_id TEXT NOT NULL REFERENCES incidents(incident_id)"
	"  ON DELETE CASCADE,"
	" outcome TEXT NOT NULL"
	"  CHECK (outcome IN ('persuaded', 'fined', 'towed', 'false_alarm',"
	"   'other')),"
	" note TEXT, user TEXT, wall REAL);"
	"CREATE INDEX outcomes_incident ON outcomes(incident_id, id);"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY,"
	" user TEXT, action TEXT NOT NULL, object TEXT, detail TEXT,"
	" wall REAL);",

	/* 2: plates (repeat vehicles), the indexes the list, the reports and
	 *    the audit view filter on */
	"ALTER TABLE incidents ADD COLUMN plate TEXT;"
	"CREATE INDEX incidents_site_start ON incidents(site, start);"
	"CREATE INDEX incidents_spot ON incidents(site, camera, lane);"
	"CREATE INDEX incidents_plate ON incidents(plate)"
	" WHERE plate IS NOT NULL;"
	"CREATE INDEX audit_object ON audit(object, id);",

	/* 3: camera health per (device, camera), from camera events */
	"CREATE TABLE cameras ("
	" device TEXT NOT NULL,"
	" camera TEXT NOT NULL,"
	" state TEXT NOT NULL,"
	" offline INTEGER NOT NULL DEFAULT 0,"
	" problems TEXT NOT NULL DEFAULT '',"
	" reason TEXT,"
	" since REAL,"
	" last_event REAL,"
	" PRIMARY KEY (device, camera));",

	/* 4: a device's incidents by start (the receipts re-sent when it
	 *    comes back online) */
	"CREATE INDEX incidents_device_start ON incidents(device, start);",

	/* 5: when evidence_keep_days removed the incident's bundle files */
	"ALTER TABLE incidents ADD COLUMN evidence_pruned REAL;",
};

#define LATEST ((int)FL_ARRAY_SIZE(MIGRATIONS))

int fl__db_sqlite_latest(void)
{
	return LATEST;
}

/* ---- statements ---------------------------------------------------------------- */

enum {
	S_VERSION,
	S_DEV_ENROL,
	S_DEV_GET,
	S_DEV_SEEN,
	S_DEV_STATUS,
	S_DEV_RECEIPTS,
	S_EV_EXISTS,
	S_INC_GET,
	S_INC_INSERT,
	S_INC_UPDATE,
	S_EV_INSERT,
	S_QUARANTINE,
	S_QUAR_LIST,
	S_QUAR_COUNT,
	S_QUAR_TRIM,
	S_INC_EXISTS,
	S_EVIDENCE_ADD,
	S_EVIDENCE_VERIFIED,
	S_EVIDENCE_PRUNED,
	S_USER_ADD,
	S_USER_EXISTS,
	S_USER_SETHASH,
	S_USER_GET,
	S_USERS_LIST,
	S_USER_DELETE,
	S_OUTCOME_CUR,
	S_OUTCOME_ADD,
	S_AUDIT_ADD,
	S_AUDIT_LIST,
	S_AUDIT_COUNT,
	S_INC_LIST,
	S_INC_COUNT,
	S_INC_LIST_S,
	S_INC_COUNT_S,
	S_INC_ONE,
	S_INC_EVENTS,
	S_INC_EVIDENCE,
	S_INC_OUTCOMES,
	S_INC_SITE,
	S_REP_COUNTS,
	S_REP_STATUS,
	S_REP_CLEAR,
	S_REP_BLOCKED,
	S_REP_OUTCOMES,
	S_REP_SPOTS,
	S_REP_PLATES,
	S_REP_DAYS,
	/* the same with a site (site = ?1: the (site, start) index) */
	S_REP_COUNTS_S,
	S_REP_STATUS_S,
	S_REP_CLEAR_S,
	S_REP_BLOCKED_S,
	S_REP_OUTCOMES_S,
	S_REP_SPOTS_S,
	S_REP_PLATES_S,
	S_REP_DAYS_S,
	S_DEVICES,
	S_CAM_GET,
	S_CAM_PUT,
	S_CAMERAS,
	S_COUNT
};

/* The filter every incident list uses: ?1 site, ?2 lane, ?3 status,
 * ?4 outcome ('none': not recorded), ?5 from, ?6 to, ?7 allowed sites. */
#define INC_AND                                                            \
	" AND (?2 IS NULL OR lane = ?2)"                                   \
	" AND (?3 IS NULL OR status = ?3)"                                 \
	" AND (?4 IS NULL OR outcome = ?4"                                 \
	"  OR (?4 = 'none' AND outcome IS NULL))"                          \
	" AND (?5 IS NULL OR start >= ?5) AND (?6 IS NULL OR start < ?6)"  \
	" AND (?7 IS NULL OR instr(',' || ?7 || ',', ',' || site || ',') > 0)"
/* "(?1 IS NULL OR site = ?1)" cannot use the (site, start) index, so a list
 * of one site has statements of its own (the count would scan every
 * incident otherwise). */
#define INC_WHERE " WHERE (?1 IS NULL OR site = ?1)" INC_AND
#define INC_WHERE_S " WHERE site = ?1" INC_AND

#define INC_COLS                                                            \
	"incident_id, site, lane, camera, device, status, start, rest_since," \
	" occupied, alarm, cleared, closed, outcome, class, plate, last_seq,"  \
	" verified"

/* Reports: ?1 site, ?2 from, ?3 to (always bound: unbounded is
 * -/+1e300), so the start index (and the (site, start) index in the
 * per-site statements) bound the scan to the window. */
#define REP_WHERE " WHERE start >= ?2 AND start < ?3"
#define REP_WHERE_S " WHERE site = ?1 AND start >= ?2 AND start < ?3"

static const char *const SQL[S_COUNT] = {
	[S_VERSION] = "SELECT version FROM schema_version",
	[S_DEV_ENROL] =
		"INSERT INTO devices (device, site, public_key, enrolled)"
		" VALUES (?1, ?2, ?3, ?4) ON CONFLICT (device) DO UPDATE SET"
		" site = excluded.site, public_key = excluded.public_key,"
		" enrolled = excluded.enrolled",
	[S_DEV_GET] = "SELECT site, public_key FROM devices WHERE device = ?1",
	[S_DEV_SEEN] =
		"UPDATE devices SET status = COALESCE(?2, status),"
		" last_seen = ?3, heartbeat = COALESCE(?4, heartbeat)"
		" WHERE device = ?1",
	[S_DEV_STATUS] = "SELECT status FROM devices WHERE device = ?1",
	/* ?1 device, ?2 since, ?3 max: the (device, start) index bounds
	 * the scan to the window */
	[S_DEV_RECEIPTS] =
		"SELECT i.incident_id, e.sha256 FROM incidents i"
		" JOIN evidence e ON e.incident_id = i.incident_id"
		" AND e.name = 'manifest.json'"
		" WHERE i.device = ?1 AND i.start >= ?2 AND i.verified = 1"
		" ORDER BY i.start DESC, i.incident_id DESC LIMIT ?3",
	[S_EV_EXISTS] = "SELECT 1 FROM incident_events"
			" WHERE incident_id = ?1 AND seq = ?2",
	[S_INC_GET] =
		"SELECT device, site, camera, lane, status, status_seq,"
		" rest_since, occupied, alarm, cleared, closed, last_seq"
		" FROM incidents WHERE incident_id = ?1",
	[S_INC_INSERT] = "INSERT INTO incidents (incident_id, device)"
			 " VALUES (?1, ?2)",
	[S_INC_UPDATE] =
		"UPDATE incidents SET site = COALESCE(site, ?2),"
		" camera = COALESCE(camera, ?3), lane = COALESCE(lane, ?4),"
		" status = ?5, status_seq = ?6, start = ?7, rest_since = ?8,"
		" occupied = ?9, alarm = ?10, cleared = ?11, closed = ?12,"
		" last_seq = ?13, bbox = COALESCE(?14, bbox),"
		" class = COALESCE(?15, class), plate = COALESCE(?16, plate)"
		" WHERE incident_id = ?1",
	[S_EV_INSERT] =
		"INSERT INTO incident_events (incident_id, seq, type, wall,"
		" received, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_QUARANTINE] = "INSERT INTO quarantine (topic, payload, reason, wall)"
			 " VALUES (?1, ?2, ?3, ?4)",
	[S_QUAR_LIST] = "SELECT id, topic, reason, wall, payload"
			" FROM quarantine ORDER BY id DESC LIMIT ?1 OFFSET ?2",
	[S_QUAR_COUNT] = "SELECT count(*) FROM quarantine",
	/* the rows older than the keep-th newest (?1 = keep) */
	[S_QUAR_TRIM] = "DELETE FROM quarantine WHERE id <= (SELECT id FROM"
			" quarantine ORDER BY id DESC LIMIT 1 OFFSET ?1)",
	[S_INC_EXISTS] = "SELECT 1 FROM incidents WHERE incident_id = ?1",
	[S_EVIDENCE_ADD] =
		"INSERT INTO evidence (incident_id, name, sha256, bytes, kind,"
		" verified) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT (incident_id, name) DO UPDATE SET"
		" sha256 = excluded.sha256, bytes = excluded.bytes,"
		" kind = excluded.kind, verified = excluded.verified",
	/* a bundle verified (again) is on disk: not pruned any more */
	[S_EVIDENCE_VERIFIED] =
		"UPDATE incidents SET verified = ?2, verify_report = ?3,"
		" evidence_pruned = NULL WHERE incident_id = ?1",
	[S_EVIDENCE_PRUNED] = "UPDATE incidents SET evidence_pruned = ?2"
			      " WHERE incident_id = ?1",
	[S_USER_ADD] = "INSERT INTO users (name, hash, role, sites, created)"
		       " VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_USER_EXISTS] = "SELECT 1 FROM users WHERE name = ?1",
	[S_USER_SETHASH] = "UPDATE users SET hash = ?2 WHERE name = ?1",
	[S_USER_GET] = "SELECT hash, role, sites FROM users WHERE name = ?1",
	[S_USERS_LIST] = "SELECT name, role, sites, created FROM users"
			 " ORDER BY name",
	[S_USER_DELETE] = "DELETE FROM users WHERE name = ?1",
	[S_OUTCOME_CUR] = "UPDATE incidents SET outcome = ?2"
			  " WHERE incident_id = ?1",
	[S_OUTCOME_ADD] = "INSERT INTO outcomes (incident_id, outcome, note,"
			  " user, wall) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_AUDIT_ADD] = "INSERT INTO audit (user, action, object, detail, wall)"
			" VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_AUDIT_LIST] =
		"SELECT id, user, action, object, detail, wall FROM audit"
		" WHERE (?1 IS NULL OR object = ?1)"
		" ORDER BY id DESC LIMIT ?2 OFFSET ?3",
	[S_AUDIT_COUNT] = "SELECT count(*) FROM audit"
			  " WHERE (?1 IS NULL OR object = ?1)",
	[S_INC_LIST] = "SELECT " INC_COLS " FROM incidents" INC_WHERE
		       " ORDER BY start DESC, incident_id DESC"
		       " LIMIT ?8 OFFSET ?9",
	[S_INC_COUNT] = "SELECT count(*) FROM incidents" INC_WHERE,
	[S_INC_LIST_S] = "SELECT " INC_COLS " FROM incidents" INC_WHERE_S
			 " ORDER BY start DESC, incident_id DESC"
			 " LIMIT ?8 OFFSET ?9",
	[S_INC_COUNT_S] = "SELECT count(*) FROM incidents" INC_WHERE_S,
	[S_INC_ONE] = "SELECT " INC_COLS ", evidence_pruned, bbox,"
		      " verify_report FROM incidents WHERE incident_id = ?1",
	[S_INC_EVENTS] = "SELECT seq, type, wall, received, json"
			 " FROM incident_events WHERE incident_id = ?1"
			 " ORDER BY seq",
	[S_INC_EVIDENCE] = "SELECT name, sha256, bytes, kind, verified"
			   " FROM evidence WHERE incident_id = ?1"
			   " ORDER BY rowid",
	[S_INC_OUTCOMES] = "SELECT outcome, note, user, wall FROM outcomes"
			   " WHERE incident_id = ?1 ORDER BY id",
	[S_INC_SITE] = "SELECT site FROM incidents WHERE incident_id = ?1",
	[S_REP_COUNTS] = "SELECT count(*), count(alarm) FROM incidents"
			 REP_WHERE,
	[S_REP_STATUS] = "SELECT COALESCE(status, 'unknown'), count(*)"
			 " FROM incidents" REP_WHERE " GROUP BY 1 ORDER BY 1",
	[S_REP_CLEAR] = "SELECT cleared - alarm FROM incidents" REP_WHERE
			" AND alarm IS NOT NULL AND cleared IS NOT NULL"
			" ORDER BY 1",
	[S_REP_BLOCKED] = "SELECT cleared - start FROM incidents" REP_WHERE
			  " AND start IS NOT NULL AND cleared IS NOT NULL"
			  " ORDER BY 1",
	[S_REP_OUTCOMES] = "SELECT COALESCE(outcome, 'none'), count(*)"
			   " FROM incidents" REP_WHERE " GROUP BY 1",
	[S_REP_SPOTS] =
		"SELECT site, camera, lane, count(*) AS incidents"
		" FROM incidents" REP_WHERE
		" GROUP BY site, camera, lane HAVING count(*) >= 2"
		" ORDER BY 4 DESC, 1, 2, 3 LIMIT 100",
	[S_REP_PLATES] =
		"SELECT plate, count(*) AS incidents,"
		" group_concat(DISTINCT site) AS sites FROM incidents"
		REP_WHERE " AND plate IS NOT NULL AND plate <> ''"
		" GROUP BY plate HAVING count(*) >= 2 ORDER BY 2 DESC, 1"
		" LIMIT 100",
	[S_REP_DAYS] =
		"SELECT strftime('%Y-%m-%d', start + ?4, 'unixepoch') AS day,"
		" count(*) AS incidents, count(alarm) AS alarms,"
		" sum(outcome = 'persuaded') AS persuaded,"
		" sum(outcome = 'fined') AS fined,"
		" sum(outcome = 'towed') AS towed,"
		" sum(outcome = 'false_alarm') AS false_alarm,"
		" sum(outcome = 'other') AS other"
		" FROM incidents" REP_WHERE " AND start IS NOT NULL"
		" GROUP BY 1 ORDER BY 1",
	[S_REP_COUNTS_S] = "SELECT count(*), count(alarm) FROM incidents"
			 REP_WHERE_S,
	[S_REP_STATUS_S] = "SELECT COALESCE(status, 'unknown'), count(*)"
			 " FROM incidents" REP_WHERE_S " GROUP BY 1 ORDER BY 1",
	[S_REP_CLEAR_S] = "SELECT cleared - alarm FROM incidents" REP_WHERE_S
			" AND alarm IS NOT NULL AND cleared IS NOT NULL"
			" ORDER BY 1",
	[S_REP_BLOCKED_S] = "SELECT cleared - start FROM incidents" REP_WHERE_S
			  " AND start IS NOT NULL AND cleared IS NOT NULL"
			  " ORDER BY 1",
	[S_REP_OUTCOMES_S] = "SELECT COALESCE(outcome, 'none'), count(*)"
			   " FROM incidents" REP_WHERE_S " GROUP BY 1",
	[S_REP_SPOTS_S] =
		"SELECT site, camera, lane, count(*) AS incidents"
		" FROM incidents" REP_WHERE_S
		" GROUP BY site, camera, lane HAVING count(*) >= 2"
		" ORDER BY 4 DESC, 1, 2, 3 LIMIT 100",
	[S_REP_PLATES_S] =
		"SELECT plate, count(*) AS incidents,"
		" group_concat(DISTINCT site) AS sites FROM incidents"
		REP_WHERE_S " AND plate IS NOT NULL AND plate <> ''"
		" GROUP BY plate HAVING count(*) >= 2 ORDER BY 2 DESC, 1"
		" LIMIT 100",
	[S_REP_DAYS_S] =
		"SELECT strftime('%Y-%m-%d', start + ?4, 'unixepoch') AS day,"
		" count(*) AS incidents, count(alarm) AS alarms,"
		" sum(outcome = 'persuaded') AS persuaded,"
		" sum(outcome = 'fined') AS fined,"
		" sum(outcome = 'towed') AS towed,"
		" sum(outcome = 'false_alarm') AS false_alarm,"
		" sum(outcome = 'other') AS other"
		" FROM incidents" REP_WHERE_S " AND start IS NOT NULL"
		" GROUP BY 1 ORDER BY 1",
	[S_DEVICES] = "SELECT device, site, status, last_seen, enrolled,"
		      " heartbeat FROM devices ORDER BY site, device",
	[S_CAM_GET] = "SELECT offline, problems, state, since FROM cameras"
		      " WHERE device = ?1 AND camera = ?2",
	[S_CAM_PUT] = "INSERT INTO cameras (device, camera, state, offline,"
		      " problems, reason, since, last_event)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
		      " ON CONFLICT (device, camera) DO UPDATE SET"
		      " state = excluded.state, offline = excluded.offline,"
		      " problems = excluded.problems, reason = excluded.reason,"
		      " since = excluded.since,"
		      " last_event = excluded.last_event",
	[S_CAMERAS] = "SELECT device, camera, state, problems, reason, since,"
		      " last_event FROM cameras ORDER BY device, camera",
};

typedef struct be {
	sqlite3 *h;
	sqlite3_stmt *st[S_COUNT];
	int in_batch;
	char path[1];
} be;

static int dberr(be *b, const char *what)
{
	int rc = sqlite3_extended_errcode(b->h);

	fl_log(FL_LOG_ERROR, TAG, "%s: %s (%d)", what, sqlite3_errmsg(b->h),
	       rc);
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return FL_EAGAIN;
	case SQLITE_FULL:
		return FL_EFULL;
	case SQLITE_NOMEM:
		return FL_ENOMEM;
	case SQLITE_CONSTRAINT:
	case SQLITE_TOOBIG:
	case SQLITE_MISMATCH:
		return FL_EINVAL;
	default:
		return FL_EIO;
	}
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The cached statement id, reset and unbound; NULL (logged) if it cannot be
 * prepared. */
static sqlite3_stmt *stmt(be *b, int id)
{
	sqlite3_stmt *s = b->st[id];

	if (!s) {
		if (sqlite3_prepare_v3(b->h, SQL[id], -1,
				       SQLITE_PREPARE_PERSISTENT, &s,
				       NULL) != SQLITE_OK) {
			dberr(b, "prepare");
			return NULL;
		}
		b->st[id] = s;
		return s;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Bind helpers: NULL pointers become SQL NULL. Values are copied
 * (SQLITE_TRANSIENT): a cached statement keeps its bindings after the call
 * returns, when the caller's strings are gone. */
static void bt(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static void bd(sqlite3_stmt *s, int i, double v, int present)
{
	if (present)
		sqlite3_bind_double(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/* Steps a statement that returns no rows; 0 or an fl_errno. */
static int run(be *b, sqlite3_stmt *s, const char *what)
{
	int rc;

	if (!s)
		return FL_EIO;
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		rc = dberr(b, what);
		sqlite3_reset(s);
		return rc;
	}
	sqlite3_reset(s);
	return 0;
}

/* Constant SQL (transactions, pragmas, migrations); never data. */
static int exec(be *b, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(b->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fl_log(FL_LOG_ERROR, TAG, "%s: %s", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return dberr(b, "exec");
	}
	return 0;
}

/* A transaction of its own, or a savepoint inside the caller's batch (so a
 * failed message rolls back only itself). */
static int tx_begin(be *b)
{
	return exec(b, b->in_batch ? "SAVEPOINT m" : "BEGIN IMMEDIATE");
}

static int tx_end(be *b, int ok)
{
	if (b->in_batch)
		return ok ? exec(b, "RELEASE m") :
			    (exec(b, "ROLLBACK TO m"), exec(b, "RELEASE m"));
	if (ok)
		return exec(b, "COMMIT");
	exec(b, "ROLLBACK");
	return 0;
}

static void copy_col(sqlite3_stmt *s, int col, char *out, size_t outlen)
{
	const unsigned char *t;

	if (!out || !outlen)
		return;
	t = sqlite3_column_text(s, col);
	snprintf(out, outlen, "%s", t ? (const char *)t : "");
}

/* A caller's buffer for one text column (NULL: not wanted). */
struct text_out {
	char *buf;
	size_t len;
};

/* The row statement i answers for key: its first n columns as text into
 * out[] (0), FL_ENOENT when it answers no row. */
static int row_text(be *b, int i, const char *key, const struct text_out *out,
		    int n, const char *what)
{
	sqlite3_stmt *s = stmt(b, i);
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		for (int c = 0; c < n; c++)
			copy_col(s, c, out[c].buf, out[c].len);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? FL_ENOENT : dberr(b, what);
}

/* ---- open, close ----------------------------------------------------------------- */

static int read_version(be *b)
{
	sqlite3_stmt *s;
	int v = 0, rc;

	/* not cached: prepared before and after the migrations */
	if (sqlite3_prepare_v2(b->h, SQL[S_VERSION], -1, &s, NULL) != SQLITE_OK)
		return dberr(b, "schema_version");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	else if (rc != SQLITE_DONE)
		v = dberr(b, "schema_version");
	sqlite3_finalize(s);
	return v;
}

static int set_version(be *b, int v, int had_row)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(b->h,
			       had_row ? "UPDATE schema_version SET version = ?1"
				       : "INSERT INTO schema_version (version)"
					 " VALUES (?1)",
			       -1, &s, NULL) != SQLITE_OK)
		return dberr(b, "schema_version");
	sqlite3_bind_int(s, 1, v);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : dberr(b, "schema_version");
}

/* Brings the schema to target (one transaction). */
static int migrate(be *b, int target, char *err, size_t errlen)
{
	int v, r;

	if ((r = exec(b, "BEGIN IMMEDIATE")) < 0) {
		seterr(err, errlen, "cannot lock the database: %s",
		       sqlite3_errmsg(b->h));
		return r;
	}
	r = exec(b, "CREATE TABLE IF NOT EXISTS schema_version"
		    " (version INTEGER NOT NULL)");
	v = r < 0 ? r : read_version(b);
	if (v < 0) {
		seterr(err, errlen, "cannot read the schema version: %s",
		       sqlite3_errmsg(b->h));
		exec(b, "ROLLBACK");
		return v;
	}
	if (v > LATEST) {
		seterr(err, errlen,
		       "the database is at schema version %d, newer than this "
		       "build's %d: use a newer firelane-hub", v, LATEST);
		exec(b, "ROLLBACK");
		return FL_EUNSUPPORTED;
	}
	for (int n = v + 1; n <= target; n++) {
		if ((r = exec(b, MIGRATIONS[n - 1])) < 0) {
			seterr(err, errlen, "migration to version %d: %s", n,
			       sqlite3_errmsg(b->h));
			exec(b, "ROLLBACK");
			return r;
		}
		fl_log(FL_LOG_INFO, TAG, "schema migrated to version %d", n);
	}
	if (target > v && (r = set_version(b, target, v > 0)) < 0) {
		seterr(err, errlen, "cannot record the schema version");
		exec(b, "ROLLBACK");
		return r;
	}
	if ((r = exec(b, "COMMIT")) < 0) {
		seterr(err, errlen, "cannot commit the migration: %s",
		       sqlite3_errmsg(b->h));
		exec(b, "ROLLBACK");
	}
	return r;
}

static void be_close(void *p)
{
	be *b = p;

	if (!b)
		return;
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(b->st[i]);
	sqlite3_close(b->h);
	free(b);
}

void *fl__db_sqlite_open(const char *path, int max_version, char *err,
			 size_t errlen)
{
	be *b;
	int target = max_version > 0 && max_version < LATEST ? max_version :
							      LATEST;

	if (!path || !*path) {
		seterr(err, errlen, "sqlite: no database path");
		return NULL;
	}
	b = calloc(1, sizeof(*b) + strlen(path));
	if (!b) {
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	strcpy(b->path, path);
	if (sqlite3_open_v2(path, &b->h,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		seterr(err, errlen, "sqlite: cannot open %s: %s", path,
		       b->h ? sqlite3_errmsg(b->h) : "out of memory");
		be_close(b);
		return NULL;
	}
	sqlite3_extended_result_codes(b->h, 1);
	sqlite3_busy_timeout(b->h, 5000);
	/* WAL before anything else; ":memory:" answers "memory" */
	if (exec(b, "PRAGMA journal_mode = WAL") < 0 ||
	    exec(b, "PRAGMA synchronous = FULL") < 0 ||
	    exec(b, "PRAGMA foreign_keys = ON") < 0 ||
	    /* 32 MiB of page cache (SQLite's default is 2 MiB): the incidents
	     * table of 100,000 incidents and its indexes stay in memory */
	    exec(b, "PRAGMA cache_size = -32768") < 0 ||
	    exec(b, "PRAGMA temp_store = MEMORY") < 0) {
		seterr(err, errlen, "sqlite: %s: %s", path,
		       sqlite3_errmsg(b->h));
		be_close(b);
		return NULL;
	}
	if (migrate(b, target, err, errlen) < 0) {
		be_close(b);
		return NULL;
	}
	return b;
}

static int be_schema_version(void *p)
{
	return read_version(p);
}

static int be_set_durable(void *p, int full)
{
	return exec(p, full ? "PRAGMA synchronous = FULL" :
			      "PRAGMA synchronous = NORMAL");
}

static int be_batch_begin(void *p)
{
	be *b = p;
	int r;

	if (b->in_batch)
		return FL_EINVAL;
	if ((r = exec(b, "BEGIN IMMEDIATE")) < 0)
		return r;
	b->in_batch = 1;
	return 0;
}

static int be_batch_end(void *p, int commit)
{
	be *b = p;
	int r;

	if (!b->in_batch)
		return FL_EINVAL;
	b->in_batch = 0;
	if (commit && (r = exec(b, "COMMIT")) == 0)
		return 0;
	exec(b, "ROLLBACK");
	return commit ? FL_EIO : 0;
}

/* ---- devices -------------------------------------------------------------------- */

static int be_device_enrol(void *p, const char *device, const char *site,
			   const char *pk_b64, char *err, size_t errlen)
{
	be *b = p;
	unsigned char pk[64];
	size_t pklen = 0;
	sqlite3_stmt *s;
	int r;

	if (!fl_id_valid(device, FL_ID_MAX)) {
		seterr(err, errlen,
		       "device id: 1-63 characters of A-Z a-z 0-9 _ . -");
		return FL_EINVAL;
	}
	if (!site || !*site || strlen(site) > 256) {
		seterr(err, errlen, "site: 1-256 bytes");
		return FL_EINVAL;
	}
	if (!pk_b64 ||
	    sodium_base642bin(pk, sizeof(pk), pk_b64, strlen(pk_b64), " \n",
			      &pklen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    pklen != 32) {
		seterr(err, errlen,
		       "public key: base64 of a 32-byte Ed25519 public key");
		return FL_EINVAL;
	}
	if (!(s = stmt(b, S_DEV_ENROL)))
		return FL_EIO;
	bt(s, 1, device);
	bt(s, 2, site);
	bt(s, 3, pk_b64);
	sqlite3_bind_double(s, 4, fl_wall_s());
	r = run(b, s, "enrol");
	if (r < 0)
		seterr(err, errlen, "store: %s", sqlite3_errmsg(b->h));
	else
		fl_log(FL_LOG_INFO, TAG, "device %s enrolled for site %s",
		       device, site);
	return r;
}

static int be_device_get(void *p, const char *device, char *site,
			 size_t sitelen, char *pk, size_t pklen)
{
	const struct text_out out[] = {{site, sitelen}, {pk, pklen}};

	return row_text(p, S_DEV_GET, device, out, 2, "device_get");
}

static int be_device_seen(void *p, const char *device, const char *status,
			  double wall, const char *hb)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_DEV_SEEN);
	int r;

	if (!s)
		return FL_EIO;
	bt(s, 1, device);
	bt(s, 2, status);
	sqlite3_bind_double(s, 3, wall);
	bt(s, 4, hb);
	if ((r = run(b, s, "device_seen")) < 0)
		return r;
	return sqlite3_changes(b->h) ? 0 : FL_ENOENT;
}

static int be_device_status(void *p, const char *device, char *status,
			    size_t statuslen)
{
	const struct text_out out[] = {{status, statuslen}};

	return row_text(p, S_DEV_STATUS, device, out, 1, "device_status");
}

/* Rows whose id or hash a receipt cannot carry (not possible from the
 * hub's own checks, but the store does not assume it) are skipped. */
static int be_device_receipts(void *p, const char *device, double since,
			      int max, fl_receipt **out, size_t *n)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_DEV_RECEIPTS);
	fl_receipt *a = NULL;
	size_t cap = 0;
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, device);
	sqlite3_bind_double(s, 2, since);
	sqlite3_bind_int(s, 3, max);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		const char *sha = (const char *)sqlite3_column_text(s, 1);
		fl_receipt *r;

		if (!id || !sha || strlen(id) >= sizeof(r->incident_id) ||
		    strlen(sha) != 64)
			continue;
		if (*n == cap) {
			size_t c = cap ? cap * 2 : 16;
			fl_receipt *g = realloc(a, c * sizeof(*a));

			if (!g) {
				sqlite3_reset(s);
				free(a);
				*n = 0;
				return FL_ENOMEM;
			}
			a = g;
			cap = c;
		}
		r = &a[(*n)++];
		memset(r, 0, sizeof(*r));
		snprintf(r->incident_id, sizeof(r->incident_id), "%s", id);
		r->verified = 1;
		memcpy(r->manifest_sha256, sha, 64);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		free(a);
		*n = 0;
		return dberr(b, "device_receipts");
	}
	*out = a;
	return 0;
}

/* ---- ingest ----------------------------------------------------------------------- */

/* What a message type does to the incident's status: the status it sets,
 * and whether it only sets one when there is none yet (warned repeats after
 * the alarm must not take it back to occupied). */
static const char *status_of(const char *type, int *weak)
{
	*weak = 0;
	if (!strcmp(type, "occupied"))
		return "occupied";
	if (!strcmp(type, "warned")) {
		*weak = 1;
		return "occupied";
	}
	if (!strcmp(type, "alarm") || !strcmp(type, "escalated"))
		return "alarm";
	if (!strcmp(type, "cleared") || !strcmp(type, "vacated") ||
	    !strcmp(type, "interrupted"))
		return type;
	return NULL; /* evidence, anything newer */
}

/* The incident's current row, as ingest needs it. */
typedef struct inc_row {
	int found, other_device;
	char device[128], status[32];
	long long status_seq, last_seq;
	double t[5]; /* rest_since, occupied, alarm, cleared, closed */
	int has[5];
} inc_row;

enum { T_REST, T_OCC, T_ALARM, T_CLEARED, T_CLOSED };

static int inc_get(be *b, const char *id, const char *device, inc_row *r)
{
	sqlite3_stmt *s = stmt(b, S_INC_GET);
	int rc;

	memset(r, 0, sizeof(*r));
	if (!s)
		return FL_EIO;
	bt(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(s, 0);

		r->found = 1;
		r->other_device = !d || strcmp(d, device) != 0;
		copy_col(s, 0, r->device, sizeof(r->device));
		copy_col(s, 4, r->status, sizeof(r->status));
		r->status_seq = sqlite3_column_int64(s, 5);
		for (int i = 0; i < 5; i++) {
			r->has[i] = sqlite3_column_type(s, 6 + i) != SQLITE_NULL;
			r->t[i] = sqlite3_column_double(s, 6 + i);
		}
		r->last_seq = sqlite3_column_int64(s, 11);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : dberr(b, "incident");
}

static void tmin(inc_row *r, int i, double v)
{
	if (!r->has[i] || v < r->t[i]) {
		r->t[i] = v;
		r->has[i] = 1;
	}
}

static int ingest_tx(be *b, const fl_db_msg *m, int *dup, char *err,
		     size_t errlen)
{
	sqlite3_stmt *s;
	inc_row r;
	json_t *j = NULL, *v;
	char *bbox = NULL;
	const char *cls = NULL, *plate = NULL, *st;
	int rc, weak;

	/* already stored? */
	if (!(s = stmt(b, S_EV_EXISTS)))
		return FL_EIO;
	bt(s, 1, m->incident_id);
	sqlite3_bind_int64(s, 2, m->seq);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW) {
		*dup = 1;
		return 0;
	}
	if (rc != SQLITE_DONE)
		return dberr(b, "ingest");
	if ((rc = inc_get(b, m->incident_id, m->device, &r)) < 0)
		return rc;
	if (r.found && r.other_device) {
		seterr(err, errlen, "incident %s belongs to device %s, not %s",
		       m->incident_id, r.device, m->device);
		return FL_EINVAL;
	}
	if (!r.found) {
		if (!(s = stmt(b, S_INC_INSERT)))
			return FL_EIO;
		bt(s, 1, m->incident_id);
		bt(s, 2, m->device);
		if ((rc = run(b, s, "incident insert")) < 0)
			return rc;
	}

	/* what the message says beyond the envelope */
	if (m->json)
		j = json_loads(m->json, 0, NULL);
	if (json_is_object(j)) {
		json_t *vt = json_object_get(j, "video_time_s");
		json_t *rs = json_object_get(j, "rest_since_s");

		double rest = m->wall - (json_number_value(vt) -
					 json_number_value(rs));

		if (json_is_number(vt) && json_is_number(rs) && isfinite(rest))
			tmin(&r, T_REST, rest);
		if (json_is_array(v = json_object_get(j, "bbox")) &&
		    m->seq >= r.last_seq)
			bbox = json_dumps(v, JSON_COMPACT);
		if (json_is_string(v = json_object_get(j, "class")) &&
		    m->seq >= r.last_seq)
			cls = json_string_value(v);
		if (json_is_string(v = json_object_get(j, "plate")) &&
		    *json_string_value(v))
			plate = json_string_value(v);
	}

	/* the status follows the highest seq that sets one */
	st = status_of(m->type, &weak);
	if (st && weak && !r.status[0]) {
		/* status_seq stays 0: any real status-setter overrides */
		snprintf(r.status, sizeof(r.status), "%s", st);
	} else if (st && !weak &&
		   ((long long)m->seq > r.status_seq || !r.status[0])) {
		snprintf(r.status, sizeof(r.status), "%s", st);
		r.status_seq = m->seq;
	}
	tmin(&r, T_OCC, m->wall);
	if (!strcmp(m->type, "alarm"))
		tmin(&r, T_ALARM, m->wall);
	if (!strcmp(m->type, "cleared"))
		tmin(&r, T_CLEARED, m->wall);
	if (!strcmp(m->type, "cleared") || !strcmp(m->type, "vacated") ||
	    !strcmp(m->type, "interrupted"))
		tmin(&r, T_CLOSED, m->wall);

	rc = FL_EIO;
	if (!(s = stmt(b, S_INC_UPDATE)))
		goto out;
	bt(s, 1, m->incident_id);
	bt(s, 2, m->site);
	bt(s, 3, m->camera);
	bt(s, 4, m->lane);
	bt(s, 5, r.status[0] ? r.status : NULL);
	sqlite3_bind_int64(s, 6, r.status_seq);
	bd(s, 7, r.has[T_REST] ? r.t[T_REST] : r.t[T_OCC], 1);
	for (int i = 0; i < 5; i++)
		bd(s, 8 + i, r.t[i], r.has[i]);
	sqlite3_bind_int64(s, 13, FL_MAX((long long)m->seq, r.last_seq));
	bt(s, 14, bbox);
	bt(s, 15, cls);
	bt(s, 16, plate);
	if ((rc = run(b, s, "incident update")) < 0)
		goto out;

	if (!(s = stmt(b, S_EV_INSERT))) {
		rc = FL_EIO;
		goto out;
	}
	bt(s, 1, m->incident_id);
	sqlite3_bind_int64(s, 2, m->seq);
	bt(s, 3, m->type);
	sqlite3_bind_double(s, 4, m->wall);
	sqlite3_bind_double(s, 5, fl_wall_s());
	bt(s, 6, m->json ? m->json : "");
	rc = run(b, s, "event insert");
out:
	free(bbox);
	json_decref(j);
	if (rc < 0)
		seterr(err, errlen, "store: %s", sqlite3_errmsg(b->h));
	return rc;
}

static int be_ingest(void *p, const fl_db_msg *m, int *dup, char *err,
		     size_t errlen)
{
	be *b = p;
	int r;

	if (!m->incident_id || !*m->incident_id || !m->type || !*m->type ||
	    !m->device || !*m->device || m->seq == 0 || !isfinite(m->wall)) {
		seterr(err, errlen, "message without incident_id, type, "
				    "device, seq or a finite time");
		return FL_EINVAL;
	}
	if ((r = tx_begin(b)) < 0) {
		seterr(err, errlen, "store busy: %s", sqlite3_errmsg(b->h));
		return r;
	}
	r = ingest_tx(b, m, dup, err, errlen);
	if (tx_end(b, r == 0) < 0 && r == 0) {
		seterr(err, errlen, "commit: %s", sqlite3_errmsg(b->h));
		r = FL_EIO;
	}
	if (r < 0)
		*dup = 0;
	return r;
}

static int be_quarantine(void *p, const char *topic, const char *payload,
			 size_t len, const char *reason, double wall)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_QUARANTINE);

	if (!s)
		return FL_EIO;
	bt(s, 1, topic);
	if (payload)
		sqlite3_bind_blob64(s, 2, payload, len, SQLITE_TRANSIENT);
	bt(s, 3, reason);
	sqlite3_bind_double(s, 4, wall);
	return run(b, s, "quarantine");
}

static int be_quarantine_trim(void *p, long keep, long *removed)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_QUAR_TRIM);
	int r;

	*removed = 0;
	if (!s)
		return FL_EIO;
	sqlite3_bind_int64(s, 1, keep);
	if ((r = run(b, s, "quarantine_trim")) < 0)
		return r;
	*removed = (long)sqlite3_changes(b->h);
	return 0;
}

/* ---- JSON out ------------------------------------------------------------------------ */

/* Text as a JSON string; text that is not UTF-8 becomes null (logged):
 * jansson refuses it and a JSON document may not carry it. */
static json_t *jtext(const char *t, size_t n)
{
	json_t *v = json_stringn(t, n);

	if (!v) {
		fl_log(FL_LOG_WARN, TAG, "a stored text is not UTF-8: null");
		v = json_null();
	}
	return v;
}

/* A number, or null where JSON has none (NaN, infinities). */
static json_t *jreal(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *col_json(sqlite3_stmt *s, int i)
{
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(s, i));
	case SQLITE_FLOAT:
		return jreal(sqlite3_column_double(s, i));
	case SQLITE_TEXT:
		return jtext((const char *)sqlite3_column_text(s, i),
			     (size_t)sqlite3_column_bytes(s, i));
	case SQLITE_BLOB:
		return jtext(sqlite3_column_blob(s, i),
			     (size_t)sqlite3_column_bytes(s, i));
	default:
		return json_null();
	}
}

/* The row as an object keyed by column names, columns [0, ncols). */
static json_t *row_obj(sqlite3_stmt *s, int ncols)
{
	json_t *o = json_object();

	for (int i = 0; i < ncols; i++)
		json_object_set_new(o, sqlite3_column_name(s, i),
				    col_json(s, i));
	return o;
}

/* Stored JSON text parsed, or the text itself when it does not parse. */
static json_t *parsed(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	json_t *v;

	if (!t)
		return json_null();
	v = json_loadb(t, (size_t)sqlite3_column_bytes(s, i), JSON_DECODE_ANY,
		       NULL);
	return v ? v : col_json(s, i);
}

/* All rows of a bound statement into array a. 0 or an fl_errno. */
static int rows(be *b, sqlite3_stmt *s, json_t *a)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(a, row_obj(s, sqlite3_column_count(s)));
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : dberr(b, "query");
}

static long long count_of(be *b, sqlite3_stmt *s)
{
	long long n = -1;

	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	else
		dberr(b, "count");
	sqlite3_reset(s);
	return n;
}

/* Dumps and frees o; NULL on any earlier failure (ok == 0). */
static char *finish(json_t *o, int ok)
{
	char *t = ok && o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return t;
}

static void page(int *limit, int *offset)
{
	if (*limit <= 0)
		*limit = 50;
	if (*limit > 1000)
		*limit = 1000;
	if (*offset < 0)
		*offset = 0;
}

static char *be_quarantine_json(void *p, int limit, int offset)
{
	be *b = p;
	sqlite3_stmt *s;
	json_t *o = json_object(), *a = json_array();
	long long n;
	int rc;

	page(&limit, &offset);
	json_object_set_new(o, "quarantine", a);
	if (!(s = stmt(b, S_QUAR_COUNT)) || (n = count_of(b, s)) < 0)
		return finish(o, 0);
	json_object_set_new(o, "total", json_integer(n));
	if (!(s = stmt(b, S_QUAR_LIST)))
		return finish(o, 0);
	sqlite3_bind_int(s, 1, limit);
	sqlite3_bind_int(s, 2, offset);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *r = row_obj(s, 4), *v;
		const void *pl = sqlite3_column_blob(s, 4);
		size_t len = (size_t)sqlite3_column_bytes(s, 4);
		size_t cut = FL_MIN(len, (size_t)65536);

		json_object_set_new(r, "bytes", json_integer((json_int_t)len));
		/* text when it is UTF-8 without NUL bytes, else base64 */
		if ((!pl || !memchr(pl, 0, cut)) &&
		    (v = json_stringn(pl ? pl : "", cut))) {
			json_object_set_new(r, "payload", v);
		} else {
			char *b64 = malloc(sodium_base64_ENCODED_LEN(
				cut, sodium_base64_VARIANT_ORIGINAL));

			if (b64) {
				sodium_bin2base64(
					b64,
					sodium_base64_ENCODED_LEN(
						cut,
						sodium_base64_VARIANT_ORIGINAL),
					pl, cut,
					sodium_base64_VARIANT_ORIGINAL);
				json_object_set_new(r, "payload_b64",
						    json_string(b64));
				free(b64);
			}
		}
		json_array_append_new(a, r);
	}
	sqlite3_reset(s);
	return finish(o, rc == SQLITE_DONE);
}

/* ---- evidence --------------------------------------------------------------------- */

static int inc_exists(be *b, const char *id)
{
	sqlite3_stmt *s = stmt(b, S_INC_EXISTS);
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : dberr(b, "incident");
}

static int be_evidence_add(void *p, const char *incident_id, const char *name,
			   const char *sha256, long long bytes,
			   const char *kind, int verified)
{
	be *b = p;
	sqlite3_stmt *s;
	int r = inc_exists(b, incident_id);

	if (r <= 0)
		return r < 0 ? r : FL_ENOENT;
	if (!(s = stmt(b, S_EVIDENCE_ADD)))
		return FL_EIO;
	bt(s, 1, incident_id);
	bt(s, 2, name);
	bt(s, 3, sha256);
	sqlite3_bind_int64(s, 4, bytes);
	bt(s, 5, kind);
	sqlite3_bind_int(s, 6, verified ? 1 : 0);
	return run(b, s, "evidence");
}

static int be_evidence_set_verified(void *p, const char *incident_id,
				    int verified, const char *report)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_EVIDENCE_VERIFIED);
	int r;

	if (!s)
		return FL_EIO;
	bt(s, 1, incident_id);
	sqlite3_bind_int(s, 2, verified ? 1 : 0);
	bt(s, 3, report);
	if ((r = run(b, s, "verified")) < 0)
		return r;
	return sqlite3_changes(b->h) ? 0 : FL_ENOENT;
}

static int be_evidence_pruned(void *p, const char *incident_id, double wall)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_EVIDENCE_PRUNED);
	int r;

	if (!s)
		return FL_EIO;
	bt(s, 1, incident_id);
	sqlite3_bind_double(s, 2, wall);
	if ((r = run(b, s, "pruned")) < 0)
		return r;
	return sqlite3_changes(b->h) ? 0 : FL_ENOENT;
}

/* ---- users ------------------------------------------------------------------------- */

static int be_user_add(void *p, const char *name, const char *hash,
		       const char *role, const char *sites, double wall,
		       char *err, size_t errlen)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_USER_EXISTS);
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, name);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW) {
		seterr(err, errlen, "user '%s' exists", name);
		return FL_EINVAL;
	}
	if (!(s = stmt(b, S_USER_ADD)))
		return FL_EIO;
	bt(s, 1, name);
	bt(s, 2, hash);
	bt(s, 3, role);
	bt(s, 4, sites);
	sqlite3_bind_double(s, 5, wall);
	if ((rc = run(b, s, "user_add")) < 0)
		seterr(err, errlen, "store: %s", sqlite3_errmsg(b->h));
	return rc;
}

static int be_user_set_hash(void *p, const char *name, const char *hash)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_USER_SETHASH);
	int r;

	if (!s)
		return FL_EIO;
	bt(s, 1, name);
	bt(s, 2, hash);
	if ((r = run(b, s, "user_set_password")) < 0)
		return r;
	return sqlite3_changes(b->h) ? 0 : FL_ENOENT;
}

static int be_user_get(void *p, const char *name, char *hash, size_t hashlen,
		       char *role, size_t rolelen, char *sites,
		       size_t siteslen)
{
	const struct text_out out[] = {
		{hash, hashlen}, {role, rolelen}, {sites, siteslen}};

	return row_text(p, S_USER_GET, name, out, 3, "user_get");
}

static int be_user_delete(void *p, const char *name)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_USER_DELETE);
	int r;

	if (!s)
		return FL_EIO;
	bt(s, 1, name);
	if ((r = run(b, s, "user_delete")) < 0)
		return r;
	return sqlite3_changes(b->h) ? 0 : FL_ENOENT;
}

static char *be_users_json(void *p)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_USERS_LIST);
	json_t *o = json_object(), *a = json_array();

	json_object_set_new(o, "users", a);
	return finish(o, s && rows(b, s, a) == 0);
}

/* ---- outcomes, audit ---------------------------------------------------------------- */

static int valid_outcome(const char *o)
{
	static const char *const ok[] = { "persuaded", "fined", "towed",
					  "false_alarm", "other" };

	for (size_t i = 0; o && i < FL_ARRAY_SIZE(ok); i++)
		if (!strcmp(o, ok[i]))
			return 1;
	return 0;
}

static int audit_row(be *b, const char *user, const char *action,
		     const char *object, const char *detail, double wall)
{
	sqlite3_stmt *s = stmt(b, S_AUDIT_ADD);

	if (!s)
		return FL_EIO;
	bt(s, 1, user);
	bt(s, 2, action);
	bt(s, 3, object);
	bt(s, 4, detail);
	sqlite3_bind_double(s, 5, wall);
	return run(b, s, "audit");
}

static int be_outcome_set(void *p, const char *incident_id,
			  const char *outcome, const char *note,
			  const char *user, double wall, char *err,
			  size_t errlen)
{
	be *b = p;
	sqlite3_stmt *s;
	int r;

	if (!valid_outcome(outcome)) {
		seterr(err, errlen,
		       "outcome: one of persuaded, fined, towed, false_alarm, "
		       "other");
		return FL_EINVAL;
	}
	if ((r = tx_begin(b)) < 0)
		return r;
	if (!(s = stmt(b, S_OUTCOME_CUR))) {
		r = FL_EIO;
		goto out;
	}
	bt(s, 1, incident_id);
	bt(s, 2, outcome);
	if ((r = run(b, s, "outcome")) < 0)
		goto out;
	if (!sqlite3_changes(b->h)) {
		seterr(err, errlen, "no incident %s", incident_id);
		r = FL_ENOENT;
		goto out;
	}
	if (!(s = stmt(b, S_OUTCOME_ADD))) {
		r = FL_EIO;
		goto out;
	}
	bt(s, 1, incident_id);
	bt(s, 2, outcome);
	bt(s, 3, note);
	bt(s, 4, user);
	sqlite3_bind_double(s, 5, wall);
	if ((r = run(b, s, "outcome history")) < 0)
		goto out;
	r = audit_row(b, user, "outcome", incident_id, outcome, wall);
out:
	if (r < 0 && r != FL_ENOENT)
		seterr(err, errlen, "store: %s", sqlite3_errmsg(b->h));
	if (tx_end(b, r == 0) < 0 && r == 0) {
		seterr(err, errlen, "commit: %s", sqlite3_errmsg(b->h));
		r = FL_EIO;
	}
	return r;
}

static int be_audit(void *p, const char *user, const char *action,
		    const char *object, const char *detail, double wall)
{
	return audit_row(p, user, action, object, detail, wall);
}

static char *be_audit_json(void *p, const char *object, int limit, int offset)
{
	be *b = p;
	sqlite3_stmt *s;
	json_t *o = json_object(), *a = json_array();
	long long n;

	page(&limit, &offset);
	json_object_set_new(o, "audit", a);
	if (!(s = stmt(b, S_AUDIT_COUNT)))
		return finish(o, 0);
	bt(s, 1, object);
	if ((n = count_of(b, s)) < 0)
		return finish(o, 0);
	json_object_set_new(o, "total", json_integer(n));
	if (!(s = stmt(b, S_AUDIT_LIST)))
		return finish(o, 0);
	bt(s, 1, object);
	sqlite3_bind_int(s, 2, limit);
	sqlite3_bind_int(s, 3, offset);
	return finish(o, rows(b, s, a) == 0);
}

/* ---- incident queries ------------------------------------------------------------------ */

static void bind_filter(sqlite3_stmt *s, const fl_db_filter *f)
{
	bt(s, 1, f->site && *f->site ? f->site : NULL);
	bt(s, 2, f->lane && *f->lane ? f->lane : NULL);
	bt(s, 3, f->status && *f->status ? f->status : NULL);
	bt(s, 4, f->outcome && *f->outcome ? f->outcome : NULL);
	bd(s, 5, f->from_wall, f->from_wall != 0);
	bd(s, 6, f->to_wall, f->to_wall != 0);
	bt(s, 7, f->sites_csv_allowed);
}

static char *be_incidents_json(void *p, const fl_db_filter *f)
{
	be *b = p;
	sqlite3_stmt *s;
	json_t *o = json_object(), *a = json_array();
	int limit = f->limit, offset = f->offset;
	int one_site = f->site && *f->site;
	long long n;

	page(&limit, &offset);
	json_object_set_new(o, "incidents", a);
	if (!(s = stmt(b, one_site ? S_INC_LIST_S : S_INC_LIST)))
		return finish(o, 0);
	bind_filter(s, f);
	sqlite3_bind_int(s, 8, limit);
	sqlite3_bind_int(s, 9, offset);
	if (rows(b, s, a) < 0)
		return finish(o, 0);
	if (!(s = stmt(b, one_site ? S_INC_COUNT_S : S_INC_COUNT)))
		return finish(o, 0);
	bind_filter(s, f);
	if ((n = count_of(b, s)) < 0)
		return finish(o, 0);
	json_object_set_new(o, "total", json_integer(n));
	json_object_set_new(o, "limit", json_integer(limit));
	json_object_set_new(o, "offset", json_integer(offset));
	return finish(o, 1);
}

static char *be_incident_json(void *p, const char *id)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_INC_ONE);
	json_t *o = NULL, *a;
	int rc, n;

	if (!s)
		return NULL;
	bt(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		n = sqlite3_column_count(s);
		o = row_obj(s, n - 2);
		json_object_set_new(o, "bbox", parsed(s, n - 2));
		json_object_set_new(o, "verify_report", col_json(s, n - 1));
	} else if (rc != SQLITE_DONE) {
		dberr(b, "incident");
	}
	sqlite3_reset(s);
	if (!o)
		return NULL;

	/* timeline */
	a = json_array();
	json_object_set_new(o, "events", a);
	if (!(s = stmt(b, S_INC_EVENTS)))
		return finish(o, 0);
	bt(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *e = row_obj(s, 4);
		const char *t = (const char *)sqlite3_column_text(s, 4);
		json_t *msg = t ? json_loadb(t, (size_t)sqlite3_column_bytes(
							s, 4),
					     0, NULL)
				: NULL;

		if (msg)
			json_object_set_new(e, "message", msg);
		else
			json_object_set_new(e, "raw", col_json(s, 4));
		json_array_append_new(a, e);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		dberr(b, "events");
		return finish(o, 0);
	}

	a = json_array();
	json_object_set_new(o, "evidence", a);
	if (!(s = stmt(b, S_INC_EVIDENCE)))
		return finish(o, 0);
	bt(s, 1, id);
	if (rows(b, s, a) < 0)
		return finish(o, 0);

	a = json_array();
	json_object_set_new(o, "outcomes", a);
	if (!(s = stmt(b, S_INC_OUTCOMES)))
		return finish(o, 0);
	bt(s, 1, id);
	return finish(o, rows(b, s, a) == 0);
}

static int be_incident_site(void *p, const char *id, char *site,
			    size_t sitelen)
{
	const struct text_out out[] = {{site, sitelen}};

	return row_text(p, S_INC_SITE, id, out, 1, "incident_site");
}

/* ---- report ------------------------------------------------------------------------------ */

static void bind_rep(sqlite3_stmt *s, const char *site, double from, double to)
{
	bt(s, 1, site);
	sqlite3_bind_double(s, 2, from != 0 ? from : -1e300);
	sqlite3_bind_double(s, 3, to != 0 ? to : 1e300);
}

/* The report statement id for all sites or for one. */
#define REP(id) ((id) + (site ? S_REP_COUNTS_S - S_REP_COUNTS : 0))

/* Linear interpolation between order statistics at p * (n - 1). */
static double quantile(const double *v, size_t n, double p)
{
	double pos = p * (double)(n - 1);
	size_t i = (size_t)pos;
	double f = pos - (double)i;

	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + f * (v[i + 1] - v[i]);
}

/* {"n","median","p90"} of the (sorted) values a statement returns. */
static json_t *spread(be *b, sqlite3_stmt *s, int *ok)
{
	double *v = NULL, *nv;
	size_t n = 0, cap = 0;
	json_t *o = json_object();
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if (!(nv = realloc(v, cap * sizeof(*v)))) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = nv;
		}
		v[n++] = sqlite3_column_double(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		dberr(b, "report");
		*ok = 0;
	}
	json_object_set_new(o, "n", json_integer((json_int_t)n));
	json_object_set_new(o, "median",
			    n ? jreal(quantile(v, n, 0.5)) : json_null());
	json_object_set_new(o, "p90",
			    n ? jreal(quantile(v, n, 0.9)) : json_null());
	free(v);
	return o;
}

static char *be_report_json(void *p, const char *site, double from, double to,
			    int tz)
{
	be *b = p;
	sqlite3_stmt *s;
	json_t *o = json_object(), *x;
	int ok = 1, rc;

	if (site && !*site)
		site = NULL;
	json_object_set_new(o, "site", site ? jtext(site, strlen(site)) :
					       json_null());
	json_object_set_new(o, "from", from != 0 ? jreal(from) : json_null());
	json_object_set_new(o, "to", to != 0 ? jreal(to) : json_null());
	json_object_set_new(o, "tz_offset_s", json_integer(tz));

	if (!(s = stmt(b, REP(S_REP_COUNTS))))
		return finish(o, 0);
	bind_rep(s, site, from, to);
	if (sqlite3_step(s) == SQLITE_ROW) {
		json_object_set_new(o, "incidents",
				    json_integer(sqlite3_column_int64(s, 0)));
		json_object_set_new(o, "alarms",
				    json_integer(sqlite3_column_int64(s, 1)));
	} else {
		ok = 0;
	}
	sqlite3_reset(s);

	x = json_object();
	json_object_set_new(o, "by_status", x);
	if (!ok || !(s = stmt(b, REP(S_REP_STATUS))))
		return finish(o, 0);
	bind_rep(s, site, from, to);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_object_set_new(
			x, (const char *)sqlite3_column_text(s, 0),
			json_integer(sqlite3_column_int64(s, 1)));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return finish(o, 0);

	if (!(s = stmt(b, REP(S_REP_CLEAR))))
		return finish(o, 0);
	bind_rep(s, site, from, to);
	json_object_set_new(o, "time_to_clear_s", spread(b, s, &ok));
	if (!(s = stmt(b, REP(S_REP_BLOCKED))))
		return finish(o, 0);
	bind_rep(s, site, from, to);
	json_object_set_new(o, "blocked_s", spread(b, s, &ok));

	x = json_object();
	json_object_set_new(o, "outcomes", x);
	{
		static const char *const names[] = { "persuaded", "fined",
						     "towed", "false_alarm",
						     "other", "none" };
		for (size_t i = 0; i < FL_ARRAY_SIZE(names); i++)
			json_object_set_new(x, names[i], json_integer(0));
	}
	if (!ok || !(s = stmt(b, REP(S_REP_OUTCOMES))))
		return finish(o, 0);
	bind_rep(s, site, from, to);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_object_set_new(
			x, (const char *)sqlite3_column_text(s, 0),
			json_integer(sqlite3_column_int64(s, 1)));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return finish(o, 0);

	x = json_array();
	json_object_set_new(o, "repeat_spots", x);
	if (!(s = stmt(b, REP(S_REP_SPOTS))))
		return finish(o, 0);
	bind_rep(s, site, from, to);
	if (rows(b, s, x) < 0)
		return finish(o, 0);

	x = json_array();
	json_object_set_new(o, "repeat_plates", x);
	if (!(s = stmt(b, REP(S_REP_PLATES))))
		return finish(o, 0);
	bind_rep(s, site, from, to);
	if (rows(b, s, x) < 0)
		return finish(o, 0);

	x = json_array();
	json_object_set_new(o, "days", x);
	if (!(s = stmt(b, REP(S_REP_DAYS))))
		return finish(o, 0);
	bind_rep(s, site, from, to);
	sqlite3_bind_int(s, 4, tz);
	return finish(o, rows(b, s, x) == 0 && ok);
}

/* The cameras of every device: {device: [{camera, state, ...}]}. */
static json_t *cameras_by_device(be *b, int *ok)
{
	sqlite3_stmt *s = stmt(b, S_CAMERAS);
	json_t *by = json_object();
	int rc;

	*ok = s != NULL;
	if (!s)
		return by;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *dev = (const char *)sqlite3_column_text(s, 0);
		const char *pr = (const char *)sqlite3_column_text(s, 3);
		json_t *c = json_object(), *probs = json_array(), *list;

		json_object_set_new(c, "camera", col_json(s, 1));
		json_object_set_new(c, "state", col_json(s, 2));
		while (pr && *pr) { /* "covered,frozen" -> ["covered", "frozen"] */
			size_t l = strcspn(pr, ",");
			json_array_append_new(probs, json_stringn(pr, l));
			pr += l + (pr[l] == ',');
		}
		json_object_set_new(c, "problems", probs);
		json_object_set_new(c, "reason", col_json(s, 4));
		json_object_set_new(c, "since", col_json(s, 5));
		json_object_set_new(c, "last_event", col_json(s, 6));
		if (!dev)
			dev = "";
		list = json_object_get(by, dev);
		if (!list) {
			list = json_array();
			json_object_set_new(by, dev, list);
		}
		json_array_append_new(list, c);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		*ok = 0;
	return by;
}

static char *be_devices_json(void *p)
{
	be *b = p;
	sqlite3_stmt *s;
	json_t *o = json_object(), *a = json_array(), *cams;
	int rc, ok;

	json_object_set_new(o, "devices", a);
	cams = cameras_by_device(b, &ok);
	s = stmt(b, S_DEVICES);
	if (!s || !ok) {
		json_decref(cams);
		return finish(o, 0);
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *d = row_obj(s, 5), *c;
		const char *dev = (const char *)sqlite3_column_text(s, 0);

		json_object_set_new(d, "heartbeat", parsed(s, 5));
		c = dev ? json_object_get(cams, dev) : NULL;
		json_object_set_new(d, "cameras",
				    c ? json_incref(c) : json_array());
		json_array_append_new(a, d);
	}
	sqlite3_reset(s);
	json_decref(cams);
	return finish(o, rc == SQLITE_DONE);
}

static int be_camera_event(void *p, const char *device, const char *camera,
			   const char *type, const char *reason, double wall)
{
	be *b = p;
	sqlite3_stmt *s;
	fl__camera c = {0, "", "", -1};
	int r, rc;

	if ((r = tx_begin(b)) < 0)
		return r;
	if (!(s = stmt(b, S_CAM_GET))) {
		r = FL_EIO;
		goto out;
	}
	bt(s, 1, device);
	bt(s, 2, camera);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		c.offline = sqlite3_column_int(s, 0);
		copy_col(s, 1, c.problems, sizeof(c.problems));
		copy_col(s, 2, c.state, sizeof(c.state));
		c.since = sqlite3_column_type(s, 3) == SQLITE_NULL ?
				  -1 :
				  sqlite3_column_double(s, 3);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = dberr(b, "camera_get");
		goto out;
	}
	if ((r = fl__db_camera_next(&c, type, reason, wall)) < 0)
		goto out;
	if (!(s = stmt(b, S_CAM_PUT))) {
		r = FL_EIO;
		goto out;
	}
	bt(s, 1, device);
	bt(s, 2, camera);
	bt(s, 3, c.state);
	sqlite3_bind_int(s, 4, c.offline);
	bt(s, 5, c.problems);
	bt(s, 6, reason);
	sqlite3_bind_double(s, 7, c.since);
	sqlite3_bind_double(s, 8, wall);
	r = run(b, s, "camera_put");
out:
	if (tx_end(b, r == 0) < 0 && r == 0)
		r = FL_EIO;
	return r;
}

const fl__db_ops fl__db_sqlite_ops = {
	.name = "sqlite",
	.close = be_close,
	.schema_version = be_schema_version,
	.set_durable = be_set_durable,
	.batch_begin = be_batch_begin,
	.batch_end = be_batch_end,
	.device_enrol = be_device_enrol,
	.device_get = be_device_get,
	.device_seen = be_device_seen,
	.device_status = be_device_status,
	.ingest = be_ingest,
	.quarantine = be_quarantine,
	.quarantine_json = be_quarantine_json,
	.quarantine_trim = be_quarantine_trim,
	.evidence_add = be_evidence_add,
	.evidence_set_verified = be_evidence_set_verified,
	.evidence_pruned = be_evidence_pruned,
	.device_receipts = be_device_receipts,
	.user_add = be_user_add,
	.user_set_hash = be_user_set_hash,
	.user_get = be_user_get,
	.user_delete = be_user_delete,
	.users_json = be_users_json,
	.outcome_set = be_outcome_set,
	.audit = be_audit,
	.audit_json = be_audit_json,
	.incidents_json = be_incidents_json,
	.incident_json = be_incident_json,
	.incident_site = be_incident_site,
	.report_json = be_report_json,
	.devices_json = be_devices_json,
	.camera_event = be_camera_event,
};
