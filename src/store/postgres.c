/*
 * postgres.c - the store's PostgreSQL backend (libpq): SQL and row mapping,
 * nothing else (backend.h says where the line is). Built only where libpq
 * is (FL_HAVE_LIBPQ).
 *
 * A note on what exists. Every entry of fl__db_ops is filled (test_db
 * checks that none is NULL), so fl_db_open takes its URLs and the hub's
 * configuration chooses it (store: {postgresql: ...}); the store's tests
 * run on both backends (docs/store.md, "What exists").
 *
 * A note on the database. The schema is SQLite's, version for version, in
 * PostgreSQL's dialect (MIGRATIONS below: double precision for REAL, bytea
 * for BLOB, bigserial for INTEGER PRIMARY KEY, "user" quoted; evidence and
 * enrol_codes get the id SQLite's rowid gives them). Opening applies the
 * pending steps and the new number in one transaction under an advisory
 * lock, so several hub workers starting at once migrate once. A commit is
 * durable when it returns (synchronous_commit on; fl_db_set_durable(db, 0)
 * turns it off for the session).
 *
 * Every statement that carries a value is prepared once per connection
 * (PQprepare, named "sN" after its index) and given its values as
 * parameters - text, but bytes (a bytea) as binary: no SQL text is ever
 * built from data. Numbers go as "%.17g", which reads back as the same
 * double.
 */
#include <jansson.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "fl.h"

#define TAG "store"

/* one number, taken by every backend's advisory lock of the migrations */
#define MIGRATE_LOCK 0x666c6462 /* "fldb" */

/* ---- migrations: SQLite's steps in PostgreSQL's dialect ------------------------ */

static const char *const MIGRATIONS[] = {
	/* 1: devices, incidents and their messages, evidence, quarantine,
	 *    users, outcome history, audit */
	"CREATE TABLE devices ("
	" device text PRIMARY KEY,"
	" site text NOT NULL,"
	" public_key text NOT NULL,"
	" enrolled double precision NOT NULL,"
	" status text,"
	" last_seen double precision,"
	" heartbeat text);"
	"CREATE TABLE incidents ("
	" incident_id text PRIMARY KEY,"
	" device text NOT NULL,"
	" site text, camera text, lane text,"
	" status text,"
	" status_seq bigint NOT NULL DEFAULT 0,"
	" start double precision, rest_since double precision,"
	" occupied double precision, alarm double precision,"
	" cleared double precision, closed double precision,"
	" bbox text, class text,"
	" last_seq bigint NOT NULL DEFAULT 0,"
	" outcome text,"
	" verified integer, verify_report text);"
	"CREATE INDEX incidents_start ON incidents(start);"
	"CREATE TABLE incident_events ("
	" incident_id text NOT NULL REFERENCES incidents(incident_id)"
	"  ON DELETE CASCADE,"
	" seq bigint NOT NULL,"
	" type text NOT NULL,"
	" wall double precision,"
	" received double precision,"
	" json text NOT NULL,"
	" UNIQUE (incident_id, seq));"
	"CREATE TABLE evidence ("
	" id bigserial,"
	" incident_id text NOT NULL REFERENCES incidents(incident_id)"
	"  ON DELETE CASCADE,"
	" name text NOT NULL,"
	" sha256 text, bytes bigint, kind text,"
	" verified integer NOT NULL DEFAULT 0,"
	" PRIMARY KEY (incident_id, name));"
	"CREATE TABLE quarantine ("
	" id bigserial PRIMARY KEY,"
	" topic text, payload bytea, reason text, wall double precision);"
	"CREATE TABLE users ("
	" name text PRIMARY KEY,"
	" hash text NOT NULL,"
	" role text NOT NULL"
	"  CHECK (role IN ('admin', 'enforcement', 'property')),"
	" sites text NOT NULL DEFAULT '',"
	" created double precision);"
	"CREATE TABLE outcomes ("
	" id bigserial PRIMARY KEY,"
	" incident_id text NOT NULL REFERENCES incidents(incident_id)"
	"  ON DELETE CASCADE,"
	" outcome text NOT NULL"
	"  CHECK (outcome IN ('persuaded', 'fined', 'towed', 'false_alarm',"
	"   'other')),"
	" note text, \"user\" text, wall double precision);"
	"CREATE INDEX outcomes_incident ON outcomes(incident_id, id);"
	"CREATE TABLE audit ("
	" id bigserial PRIMARY KEY,"
	" \"user\" text, action text NOT NULL, object text, detail text,"
	" wall double precision);",

	/* 2: plates, the indexes the list, the reports and the audit view
	 *    filter on */
	"ALTER TABLE incidents ADD COLUMN plate text;"
	"CREATE INDEX incidents_site_start ON incidents(site, start);"
	"CREATE INDEX incidents_spot ON incidents(site, camera, lane);"
	"CREATE INDEX incidents_plate ON incidents(plate)"
	" WHERE plate IS NOT NULL;"
	"CREATE INDEX audit_object ON audit(object, id);",

	/* 3: camera health per (device, camera) */
	"CREATE TABLE cameras ("
	" device text NOT NULL,"
	" camera text NOT NULL,"
	" state text NOT NULL,"
	" offline integer NOT NULL DEFAULT 0,"
	" problems text NOT NULL DEFAULT '',"
	" reason text,"
	" since double precision,"
	" last_event double precision,"
	" PRIMARY KEY (device, camera));",

	/* 4: a device's incidents by start (receipts) */
	"CREATE INDEX incidents_device_start ON incidents(device, start);",

	/* 5: when retention removed the incident's bundle files */
	"ALTER TABLE incidents ADD COLUMN evidence_pruned double precision;",

	/* 6: the login throttle */
	"CREATE TABLE login_failures ("
	" \"user\" text NOT NULL,"
	" addr text NOT NULL,"
	" failures integer NOT NULL,"
	" last double precision NOT NULL,"
	" PRIMARY KEY (\"user\", addr));"
	"CREATE INDEX login_failures_last ON login_failures(last);",
	/* 7: when a verified file was found not matching its SHA-256 */
	"ALTER TABLE evidence ADD COLUMN tampered double precision;",
	/* 8: the connection epoch of a device's stored status */
	"ALTER TABLE devices ADD status_epoch bigint NOT NULL DEFAULT 0;",
	/* 9: the names people read */
	"ALTER TABLE incidents ADD COLUMN site_name text;"
	"ALTER TABLE incidents ADD COLUMN lane_name text;",
	/* 10: who set the plate; the resident vehicle register */
	"ALTER TABLE incidents ADD COLUMN plate_by text;"
	"CREATE TABLE residents ("
	" site text NOT NULL,"
	" plate text NOT NULL,"
	" owner text NOT NULL,"
	" unit text NOT NULL,"
	" phone text NOT NULL,"
	" imported double precision NOT NULL,"
	" imported_by text,"
	" PRIMARY KEY (site, plate));"
	"CREATE INDEX residents_imported ON residents(imported);",
	/* 11: the installer role (PostgreSQL changes the CHECK in place);
	 *     each device's configuration, versioned */
	"ALTER TABLE users DROP CONSTRAINT users_role_check;"
	"ALTER TABLE users ADD CONSTRAINT users_role_check"
	" CHECK (role IN ('admin', 'enforcement', 'property', 'installer'));"
	"CREATE TABLE device_configs ("
	" device text NOT NULL,"
	" version integer NOT NULL,"
	" yaml text NOT NULL,"
	" author text NOT NULL,"
	" created double precision NOT NULL,"
	" note text,"
	" applied double precision,"
	" apply_ok integer,"
	" apply_error text,"
	" PRIMARY KEY (device, version));",
	/* 12: one-time enrolment codes (id: what SQLite's rowid names) */
	"CREATE TABLE enrol_codes ("
	" id bigserial UNIQUE,"
	" code_hash text PRIMARY KEY,"
	" device text NOT NULL,"
	" site text NOT NULL,"
	" created double precision NOT NULL,"
	" expires double precision NOT NULL,"
	" used double precision,"
	" used_by_key text,"
	" created_by text);"
	"CREATE INDEX enrol_codes_expires ON enrol_codes(expires);",
	/* 13: web sessions (the id's SHA-256 only) and their audited views */
	"CREATE TABLE sessions ("
	" id_hash text PRIMARY KEY,"
	" csrf text NOT NULL,"
	" \"user\" text NOT NULL,"
	" role text NOT NULL,"
	" sites text NOT NULL,"
	" user_created double precision NOT NULL,"
	" started double precision NOT NULL,"
	" seen double precision NOT NULL);"
	"CREATE INDEX sessions_seen ON sessions(seen);"
	"CREATE INDEX sessions_user ON sessions(\"user\");"
	"CREATE TABLE session_views ("
	" id_hash text NOT NULL"
	"  REFERENCES sessions(id_hash) ON DELETE CASCADE,"
	" key text NOT NULL,"
	" PRIMARY KEY (id_hash, key));",
	/* 14: the alerts, shared by every hub on the store */
	"CREATE TABLE alert_jobs ("
	" name text PRIMARY KEY,"
	" incident_id text NOT NULL,"
	" kind text NOT NULL,"
	" dest text NOT NULL,"
	" mqtt integer NOT NULL,"
	" body text NOT NULL,"
	" attempts integer NOT NULL DEFAULT 0,"
	" next_try double precision NOT NULL DEFAULT 0,"
	" created double precision NOT NULL,"
	" after_job text,"
	" state text NOT NULL DEFAULT 'outbox'"
	"  CHECK (state IN ('outbox', 'sent', 'failed')),"
	" holder text,"
	" lease double precision,"
	" done double precision);"
	"CREATE INDEX alert_jobs_due ON alert_jobs(mqtt, next_try)"
	" WHERE state = 'outbox';"
	"CREATE INDEX alert_jobs_holder ON alert_jobs(holder)"
	" WHERE holder IS NOT NULL;"
	"CREATE TABLE alert_made ("
	" incident_id text NOT NULL,"
	" step text NOT NULL,"
	" wall double precision,"
	" PRIMARY KEY (incident_id, step));"
	"CREATE TABLE alert_clocks ("
	" incident_id text NOT NULL,"
	" kind text NOT NULL CHECK (kind IN ('escalate', 'owner')),"
	" due double precision,"
	" forced integer NOT NULL DEFAULT 0,"
	" info text NOT NULL,"
	" holder text,"
	" lease double precision,"
	" PRIMARY KEY (incident_id, kind));",
	/* 15: a claim takes the first due job from the index in its order
	 * (the one of 14 left a sort of the whole outbox per claim) */
	"DROP INDEX alert_jobs_due;"
	"CREATE INDEX alert_jobs_due ON alert_jobs(mqtt, next_try, created)"
	" WHERE state = 'outbox';",
};

#define LATEST ((int)FL_ARRAY_SIZE(MIGRATIONS))

int fl__db_pg_latest(void)
{
	return LATEST;
}

/* ---- statements ------------------------------------------------------------------ */

enum {
	S_EV_EXISTS,
	S_INC_GET,
	S_INC_SET,
	S_INC_NEW,
	S_EV_INSERT,
	S_INC_SITE,
	S_INC_PLATE_READ,
	S_INC_PLATE_SET,
	S_INC_ONE,
	S_INC_EVENTS,
	S_INC_EVIDENCE,
	S_INC_OUTCOMES,
	S_INC_VERDICT,
	S_INC_VERIFIED,
	S_INC_PRUNED,
	S_EVIDENCE_PUT,
	S_INC_OUTCOME,
	S_OUTCOME_ADD,
	S_AUDIT_ADD,
	S_AUDIT_COUNT,
	S_AUDIT_LIST,
	S_DEV_PUT,
	S_DEV_GET,
	S_DEV_SEEN,
	S_DEV_STATUS,
	S_DEV_RECEIPTS,
	S_DEVICES,
	S_CAMERAS,
	S_CAM_GET,
	S_CAM_PUT,
	S_CAM_NEW,
	S_DEV_STATUS_LOCK,
	S_INC_VERDICT_LOCK,
	S_INC_LIST,
	S_INC_COUNT,
	S_INC_LIST_S,
	S_INC_COUNT_S,
	S_EVIDENCE_FILE,
	S_EVIDENCE_TAMPERED,
	S_EVIDENCE_SCAN,
	S_QUARANTINE,
	S_QUAR_LIST,
	S_QUAR_COUNT,
	S_QUAR_TRIM,
	S_USER_ADD,
	S_USER_SETHASH,
	S_USER_GET,
	S_USERS_LIST,
	S_USER_DELETE,
	S_LOGIN_GET,
	S_LOGIN_FAIL,
	S_LOGIN_PRUNE,
	S_LOGIN_RESET,
	S_SESS_ADD,
	S_SESS_GET,
	S_SESS_TOUCH,
	S_SESS_DELETE,
	S_SESS_DELETE_USER,
	S_SESS_PRUNE,
	S_SESS_COUNT,
	S_SESS_VIEW,
	S_REG_LOCK,
	S_REG_CLEAR,
	S_REG_ADD,
	S_REG_GET,
	S_REG_ROWS,
	S_REG_PRUNE,
	S_CONF_ADD,
	S_CONF_LATEST,
	S_CONF_GET,
	S_CONF_ROWS,
	S_CONF_APPLIED,
	S_ENROL_ADD,
	S_ENROL_GET,
	S_ENROL_USE,
	S_ENROL_RELEASE,
	S_ENROL_LIST,
	S_ENROL_DELETE,
	S_PLATE_MSGS,
	S_EV_JSON_SET,
	S_PLATES_CLEAR,
	S_REP_COUNTS,
	S_REP_TIMES,
	S_REP_STATUS,
	S_REP_OUTCOMES,
	S_REP_SPOTS,
	S_REP_PLATES,
	S_REP_DAYS,
	S_REP_DAY_OUTCOMES,
	/* the same with a site (site = $1: the (site, start) index) */
	S_REP_COUNTS_S,
	S_REP_TIMES_S,
	S_REP_STATUS_S,
	S_REP_OUTCOMES_S,
	S_REP_SPOTS_S,
	S_REP_PLATES_S,
	S_REP_DAYS_S,
	S_REP_DAY_OUTCOMES_S,
	S_AL_LOCK,
	S_AL_MARK,
	S_AL_MARKED,
	S_AL_JOB_ADD,
	S_AL_OUTBOX,
	S_AL_JOB_GET,
	S_AL_CLAIM,
	S_AL_RENEW,
	S_AL_JOB_END,
	S_AL_UNHOLD_JOBS,
	S_AL_UNHOLD_CLOCKS,
	S_AL_PRUNE,
	S_AL_CLOCK_ADD,
	S_AL_CLOCK_FORCE,
	S_AL_CLOCK_GET,
	S_AL_CLOCK_CLAIM,
	S_AL_CLOCK_DEL,
	S_AL_CLOCK_FREE,
	S_COUNT
};

/* Reports (sqlite.c's, in this dialect): $1 site, $2 from, $3 to (always
 * bound), $4 the fewest incidents of a repeat or the days' offset from
 * UTC, $5 the most rows. The all-sites twin is run with $1 NULL, which it
 * names only to give it a type. */
#define REP_WHERE " WHERE $1::text IS NULL AND start >= $2 AND start < $3"
#define REP_WHERE_S " WHERE site = $1::text AND start >= $2 AND start < $3"
#define REP_COUNTS(W) "SELECT count(*), count(alarm) FROM incidents" W
#define REP_TIMES(W)                                                           \
	"SELECT start, alarm, cleared FROM incidents" W                        \
	" AND cleared IS NOT NULL"
#define REP_STATUS(W)                                                          \
	"SELECT status, count(*) AS n FROM incidents" W " GROUP BY 1"
#define REP_OUTCOMES(W)                                                        \
	"SELECT outcome, count(*) AS n FROM incidents" W " GROUP BY 1"
#define REP_SPOTS(W)                                                           \
	"SELECT site, camera, lane, count(*) AS incidents"                     \
	" FROM incidents" W                                                    \
	" GROUP BY site, camera, lane HAVING count(*) >= $4"                   \
	" ORDER BY 4 DESC, 1, 2, 3 LIMIT $5"
#define REP_PLATES(W)                                                          \
	"SELECT plate, count(*) AS incidents,"                                 \
	" string_agg(DISTINCT site, ',') AS sites FROM incidents" W            \
	" AND plate IS NOT NULL AND plate <> ''"                               \
	" GROUP BY plate HAVING count(*) >= $4 ORDER BY 2 DESC, 1"             \
	" LIMIT $5"
#define REP_DAY                                                                \
	"to_char(to_timestamp(start + $4::integer) AT TIME ZONE 'UTC',"        \
	" 'YYYY-MM-DD') AS day"
#define REP_DAYS(W)                                                            \
	"SELECT " REP_DAY ", count(*) AS incidents, count(alarm) AS alarms"    \
	" FROM incidents" W " AND start IS NOT NULL"                           \
	" GROUP BY 1 ORDER BY 1"
#define REP_DAY_OUTCOMES(W)                                                    \
	"SELECT " REP_DAY ", outcome, count(*) AS n"                           \
	" FROM incidents" W " AND start IS NOT NULL"                           \
	" AND outcome IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"

/* The filter every incident list uses (sqlite.c's, in this dialect): $1
 * site, $2 lane, $3 status, $4 outcome ('none': not recorded), $5 from,
 * $6 to, $7 allowed sites, $8 part of the plate; the list's $9 limit,
 * $10 offset. A parameter's type is written where it is first used: an
 * unused filter is NULL, whose type the statement cannot tell. */
#define INC_AND                                                                \
	" AND ($2::text IS NULL OR lane = $2)"                                 \
	" AND ($3::text IS NULL OR status = $3)"                               \
	" AND ($4::text IS NULL OR outcome = $4"                               \
	"  OR ($4 = 'none' AND outcome IS NULL))"                              \
	" AND ($5::float8 IS NULL OR start >= $5)"                             \
	" AND ($6::float8 IS NULL OR start < $6)"                              \
	" AND ($7::text IS NULL OR site = ANY(string_to_array($7, ',')))"      \
	" AND ($8::text IS NULL OR position(upper($8) in upper(plate)) > 0)"
#define INC_WHERE " WHERE ($1::text IS NULL OR site = $1)" INC_AND
#define INC_WHERE_S " WHERE site = $1::text" INC_AND

/* the columns of the incident list (sqlite.c's INC_COLS) */
#define INC_COLS                                                               \
	"incident_id, site, lane, camera, device, status, start, rest_since,"  \
	" occupied, alarm, cleared, closed, outcome, class, plate, last_seq,"  \
	" verified, (SELECT min(e.tampered) FROM evidence e"                   \
	" WHERE e.incident_id = incidents.incident_id) AS tampered,"           \
	" site_name, lane_name"

/* an alert job's and a clock's columns, in the order al_job_row and
 * al_clock_row read them; the first key of the incidents' locks */
#define AL_JOB_COLS                                                            \
	"name, kind, dest, mqtt, body, attempts, next_try, created,"           \
	" after_job, state, holder, lease"
#define AL_CLOCK_COLS "incident_id, kind, due, forced, info, holder"
#define AL_LOCK_STR "1718379628" /* "fl_l" */

static const char *const SQL[S_COUNT] = {
	[S_EV_EXISTS] = "SELECT json FROM incident_events"
			" WHERE incident_id = $1 AND seq = $2",
	/* FOR UPDATE: two workers ingesting messages of one incident take
	 * turns, so neither writes back a row the other changed */
	[S_INC_GET] =
		"SELECT device, site, camera, lane, status, status_seq, start,"
		" rest_since, occupied, alarm, cleared, closed, last_seq, bbox,"
		" class, plate, site_name, lane_name FROM incidents"
		" WHERE incident_id = $1 FOR UPDATE",
	[S_INC_SET] =
		"UPDATE incidents SET device = $2, site = $3, camera = $4,"
		" lane = $5, status = $6, status_seq = $7, start = $8,"
		" rest_since = $9, occupied = $10, alarm = $11, cleared = $12,"
		" closed = $13, last_seq = $14, bbox = $15, class = $16,"
		" plate = $17, site_name = $18, lane_name = $19"
		" WHERE incident_id = $1",
	[S_INC_NEW] =
		"INSERT INTO incidents (incident_id, device, site, camera,"
		" lane, status, status_seq, start, rest_since, occupied, alarm,"
		" cleared, closed, last_seq, bbox, class, plate, site_name,"
		" lane_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
		" $11, $12, $13, $14, $15, $16, $17, $18, $19)"
		" ON CONFLICT (incident_id) DO NOTHING",
	/* a taken key inserts nothing, without the error that would abort
	 * the transaction (SQLite's failed statement leaves it usable) */
	[S_EV_INSERT] =
		"INSERT INTO incident_events (incident_id, seq, type, wall,"
		" received, json) VALUES ($1, $2, $3, $4, $5, $6)"
		" ON CONFLICT (incident_id, seq) DO NOTHING",
	[S_INC_SITE] = "SELECT site FROM incidents WHERE incident_id = $1",
	[S_INC_PLATE_READ] = "UPDATE incidents SET plate = $2,"
			     " plate_by = 'device' WHERE incident_id = $1"
			     " AND (plate_by IS NULL OR plate_by = 'device')",
	[S_INC_PLATE_SET] = "UPDATE incidents SET plate = $2, plate_by = $3"
			    " WHERE incident_id = $1",
	[S_INC_ONE] = "SELECT " INC_COLS ", evidence_pruned, bbox,"
		      " verify_report, plate_by FROM incidents"
		      " WHERE incident_id = $1",
	[S_INC_EVENTS] = "SELECT seq, type, wall, received, json"
			 " FROM incident_events WHERE incident_id = $1"
			 " ORDER BY seq",
	[S_INC_EVIDENCE] = "SELECT name, sha256, bytes, kind, verified,"
			   " tampered FROM evidence WHERE incident_id = $1"
			   " ORDER BY id",
	[S_INC_OUTCOMES] = "SELECT outcome, note, \"user\", wall FROM outcomes"
			   " WHERE incident_id = $1 ORDER BY id",
	[S_INC_VERDICT] = "SELECT verified FROM incidents"
			  " WHERE incident_id = $1",
	/* FOR UPDATE: the verdict rule (db.h) reads it, then writes the
	 * evidence rows or the verdict; a verdict set meanwhile by another
	 * hub waits for, or is seen by, that read */
	[S_INC_VERDICT_LOCK] = "SELECT verified FROM incidents"
			       " WHERE incident_id = $1 FOR UPDATE",
	[S_INC_VERIFIED] =
		"UPDATE incidents SET verified = $2, verify_report = $3,"
		" evidence_pruned = $4 WHERE incident_id = $1",
	[S_INC_PRUNED] = "UPDATE incidents SET evidence_pruned = $2"
			 " WHERE incident_id = $1",
	[S_EVIDENCE_PUT] =
		"INSERT INTO evidence (incident_id, name, sha256, bytes, kind,"
		" verified) VALUES ($1, $2, $3, $4, $5, $6)"
		" ON CONFLICT (incident_id, name) DO UPDATE SET"
		" sha256 = excluded.sha256, bytes = excluded.bytes,"
		" kind = excluded.kind, verified = excluded.verified",
	[S_INC_OUTCOME] = "UPDATE incidents SET outcome = $2"
			  " WHERE incident_id = $1",
	[S_OUTCOME_ADD] = "INSERT INTO outcomes (incident_id, outcome, note,"
			  " \"user\", wall) VALUES ($1, $2, $3, $4, $5)",
	[S_AUDIT_ADD] = "INSERT INTO audit (\"user\", action, object, detail,"
			" wall) VALUES ($1, $2, $3, $4, $5)",
	/* $1::text: an unused filter is NULL, whose type the statement
	 * cannot tell otherwise */
	[S_AUDIT_COUNT] = "SELECT count(*) FROM audit"
			  " WHERE ($1::text IS NULL OR object = $1)",
	[S_AUDIT_LIST] =
		"SELECT id, \"user\", action, object, detail, wall FROM audit"
		" WHERE ($1::text IS NULL OR object = $1)"
		" ORDER BY id DESC LIMIT $2 OFFSET $3",
	[S_DEV_PUT] =
		"INSERT INTO devices (device, site, public_key, enrolled)"
		" VALUES ($1, $2, $3, $4) ON CONFLICT (device) DO UPDATE SET"
		" site = excluded.site, public_key = excluded.public_key,"
		" enrolled = excluded.enrolled",
	[S_DEV_GET] = "SELECT site, public_key FROM devices WHERE device = $1",
	/* $2, $4, $5 typed: NULL leaves the stored value */
	[S_DEV_SEEN] =
		"UPDATE devices SET status = COALESCE($2::text, status),"
		" last_seen = $3, heartbeat = COALESCE($4::text, heartbeat),"
		" status_epoch = COALESCE($5::bigint, status_epoch)"
		" WHERE device = $1",
	/* FOR UPDATE: two hubs applying statuses of one device take turns,
	 * so neither writes the greater (epoch, rank) of a row the other has
	 * changed meanwhile (docs/store.md, "Concurrency") */
	[S_DEV_STATUS_LOCK] = "SELECT status, status_epoch FROM devices"
			      " WHERE device = $1 FOR UPDATE",
	[S_DEV_STATUS] = "SELECT status, status_epoch FROM devices"
			 " WHERE device = $1",
	[S_DEV_RECEIPTS] =
		"SELECT i.incident_id, e.sha256 FROM incidents i"
		" JOIN evidence e ON e.incident_id = i.incident_id"
		" AND e.name = 'manifest.json'"
		" WHERE i.device = $1 AND i.start >= $2 AND i.verified = 1"
		" ORDER BY i.start DESC, i.incident_id DESC LIMIT $3",
	[S_DEVICES] = "SELECT device, site, status, last_seen, enrolled,"
		      " heartbeat FROM devices ORDER BY site, device",
	[S_CAMERAS] = "SELECT device, camera, state, problems, reason, since,"
		      " last_event FROM cameras ORDER BY device, camera",
	/* FOR UPDATE: as S_DEV_STATUS, for a camera's health; a camera
	 * not yet stored has no row to lock, so S_CAM_NEW arbitrates */
	[S_CAM_GET] = "SELECT offline, problems, state, since FROM cameras"
		      " WHERE device = $1 AND camera = $2 FOR UPDATE",
	[S_CAM_PUT] = "INSERT INTO cameras (device, camera, state, offline,"
		      " problems, reason, since, last_event)"
		      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
		      " ON CONFLICT (device, camera) DO UPDATE SET"
		      " state = excluded.state, offline = excluded.offline,"
		      " problems = excluded.problems, reason = excluded.reason,"
		      " since = excluded.since,"
		      " last_event = excluded.last_event",
	/* a camera heard of the first time: nothing inserted when another
	 * writer stored it since camera_get found none (be_camera_put) */
	[S_CAM_NEW] = "INSERT INTO cameras (device, camera, state, offline,"
		      " problems, reason, since, last_event)"
		      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
		      " ON CONFLICT (device, camera) DO NOTHING",
	[S_INC_LIST] = "SELECT " INC_COLS " FROM incidents" INC_WHERE
		       " ORDER BY start DESC, incident_id DESC"
		       " LIMIT $9 OFFSET $10",
	[S_INC_COUNT] = "SELECT count(*) FROM incidents" INC_WHERE,
	[S_INC_LIST_S] = "SELECT " INC_COLS " FROM incidents" INC_WHERE_S
			 " ORDER BY start DESC, incident_id DESC"
			 " LIMIT $9 OFFSET $10",
	[S_INC_COUNT_S] = "SELECT count(*) FROM incidents" INC_WHERE_S,
	[S_EVIDENCE_FILE] =
		"SELECT e.incident_id, e.name, e.sha256, e.bytes, e.tampered,"
		" i.verified, i.evidence_pruned FROM evidence e"
		" JOIN incidents i ON i.incident_id = e.incident_id"
		" WHERE e.incident_id = $1 AND e.name = $2",
	[S_EVIDENCE_TAMPERED] = "UPDATE evidence SET tampered = $3"
				" WHERE incident_id = $1 AND name = $2",
	/* the primary key orders and bounds the walk (in the database's
	 * collation: docs/store.md) */
	[S_EVIDENCE_SCAN] =
		"SELECT e.incident_id, e.name, e.sha256, e.bytes, e.tampered,"
		" i.verified, i.evidence_pruned FROM evidence e"
		" JOIN incidents i ON i.incident_id = e.incident_id"
		" WHERE (e.incident_id, e.name) > ($1::text, $2::text)"
		" AND i.verified = 1 AND i.evidence_pruned IS NULL"
		" ORDER BY e.incident_id, e.name LIMIT $3",
	[S_QUARANTINE] = "INSERT INTO quarantine (topic, payload, reason, wall)"
			 " VALUES ($1, $2, $3, $4)",
	[S_QUAR_LIST] = "SELECT id, topic, reason, wall, payload"
			" FROM quarantine ORDER BY id DESC LIMIT $1 OFFSET $2",
	[S_QUAR_COUNT] = "SELECT count(*) FROM quarantine",
	/* the rows older than the keep-th newest ($1 = keep) */
	[S_QUAR_TRIM] = "DELETE FROM quarantine WHERE id <= (SELECT id FROM"
			" quarantine ORDER BY id DESC LIMIT 1 OFFSET $1)",
	[S_USER_ADD] = "INSERT INTO users (name, hash, role, sites, created)"
		       " VALUES ($1, $2, $3, $4, $5)",
	[S_USER_SETHASH] = "UPDATE users SET hash = $2 WHERE name = $1",
	[S_USER_GET] = "SELECT hash, role, sites, created FROM users"
		       " WHERE name = $1",
	[S_USERS_LIST] = "SELECT name, role, sites, created FROM users"
			 " ORDER BY name",
	[S_USER_DELETE] = "DELETE FROM users WHERE name = $1",
	[S_LOGIN_GET] = "SELECT failures, last FROM login_failures"
			" WHERE \"user\" = $1 AND addr = $2",
	/* one more failure; a count last touched at $4 or before starts
	 * again */
	[S_LOGIN_FAIL] =
		"INSERT INTO login_failures (\"user\", addr, failures, last)"
		" VALUES ($1, $2, 1, $3)"
		" ON CONFLICT (\"user\", addr) DO UPDATE SET"
		" failures = CASE WHEN login_failures.last <= $4 THEN 1"
		" ELSE login_failures.failures + 1 END, last = $3",
	/* rows last touched before $1, and beyond the $2 newest */
	[S_LOGIN_PRUNE] = "DELETE FROM login_failures WHERE last < $1"
			  " OR (\"user\", addr) IN (SELECT \"user\", addr"
			  " FROM login_failures ORDER BY last DESC OFFSET $2)",
	[S_LOGIN_RESET] = "DELETE FROM login_failures WHERE \"user\" = $1"
			  " AND ($2::text IS NULL OR addr = $2)",
	[S_SESS_ADD] = "INSERT INTO sessions (id_hash, csrf, \"user\", role,"
		       " sites, user_created, started, seen)"
		       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	[S_SESS_GET] = "SELECT csrf, \"user\", role, sites, user_created, seen"
		       " FROM sessions WHERE id_hash = $1",
	[S_SESS_TOUCH] = "UPDATE sessions SET seen = $2 WHERE id_hash = $1",
	/* the views go with a session (ON DELETE CASCADE) */
	[S_SESS_DELETE] = "DELETE FROM sessions WHERE id_hash = $1",
	[S_SESS_DELETE_USER] = "DELETE FROM sessions WHERE \"user\" = $1",
	[S_SESS_PRUNE] = "DELETE FROM sessions WHERE seen <= $1",
	[S_SESS_COUNT] = "SELECT count(*) FROM sessions WHERE seen > $1",
	/* only for a session that exists; a second view adds nothing */
	[S_SESS_VIEW] = "INSERT INTO session_views (id_hash, key)"
			" SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM sessions"
			" WHERE id_hash = $1) ON CONFLICT DO NOTHING",
	/* a site's imports take turns: a DELETE sees only the rows committed
	 * when it starts, so two imports at once would leave both lists */
	[S_REG_LOCK] = "SELECT pg_advisory_xact_lock(hashtext('residents'),"
		       " hashtext($1))",
	[S_REG_CLEAR] = "DELETE FROM residents WHERE site = $1",
	[S_REG_ADD] = "INSERT INTO residents (site, plate, owner, unit, phone,"
		      " imported, imported_by) VALUES ($1, $2, $3, $4, $5, $6,"
		      " $7)",
	[S_REG_GET] = "SELECT plate, owner, unit, phone FROM residents"
		      " WHERE site = $1 AND plate = $2",
	[S_REG_ROWS] = "SELECT plate, owner, unit, phone, imported,"
		       " imported_by FROM residents WHERE site = $1"
		       " ORDER BY plate",
	[S_REG_PRUNE] = "DELETE FROM residents WHERE imported < $1",
	[S_CONF_ADD] = "INSERT INTO device_configs (device, version, yaml,"
		       " author, created, note) VALUES ($1, $2, $3, $4, $5, $6)",
	[S_CONF_LATEST] = "SELECT COALESCE(max(version), 0) FROM device_configs"
			  " WHERE device = $1",
	[S_CONF_GET] = "SELECT version, yaml, author, created, note, applied,"
		       " apply_ok, apply_error FROM device_configs"
		       " WHERE device = $1 AND version = $2",
	[S_CONF_ROWS] = "SELECT version, author, created, note, applied,"
			" apply_ok, apply_error FROM device_configs"
			" WHERE device = $1 ORDER BY version DESC",
	/* $4 typed: NULL (sent, pending) has no type of its own */
	[S_CONF_APPLIED] = "UPDATE device_configs SET applied = $3,"
			   " apply_ok = $4::integer, apply_error = $5"
			   " WHERE device = $1 AND version = $2",
	[S_ENROL_ADD] = "INSERT INTO enrol_codes (code_hash, device, site,"
			" created, expires, created_by)"
			" VALUES ($1, $2, $3, $4, $5, $6)",
	[S_ENROL_GET] = "SELECT device, site, expires, used FROM enrol_codes"
			" WHERE code_hash = $1",
	/* only an unused code: a second use changes no row */
	[S_ENROL_USE] = "UPDATE enrol_codes SET used = $2, used_by_key = $3"
			" WHERE code_hash = $1 AND used IS NULL",
	[S_ENROL_RELEASE] = "UPDATE enrol_codes SET used = NULL,"
			    " used_by_key = NULL WHERE code_hash = $1",
	/* the pending codes (not used, not expired at $1), of the sites in
	 * $2 (NULL: all); the id names one for revoking */
	[S_ENROL_LIST] =
		"SELECT id, device, site, created, expires, created_by"
		" FROM enrol_codes WHERE used IS NULL AND expires > $1"
		" AND ($2::text IS NULL OR site = ANY(string_to_array($2, ',')))"
		" ORDER BY created DESC",
	[S_ENROL_DELETE] =
		"DELETE FROM enrol_codes WHERE id = $1 AND used IS NULL"
		" AND ($2::text IS NULL OR site = ANY(string_to_array($2, ',')))",
	/* the word, or an escape that may spell it (register.c decides) */
	[S_PLATE_MSGS] =
		"SELECT incident_id, seq, json FROM incident_events"
		" WHERE (strpos(json, 'plate') > 0"
		" OR strpos(json, '\\u') > 0) AND incident_id IN"
		" (SELECT incident_id FROM incidents WHERE closed < $1)",
	[S_EV_JSON_SET] = "UPDATE incident_events SET json = $3"
			  " WHERE incident_id = $1 AND seq = $2",
	[S_PLATES_CLEAR] = "UPDATE incidents SET plate = NULL, plate_by = NULL"
			   " WHERE closed < $1 AND plate IS NOT NULL"
			   " AND (plate_by IS NULL OR plate_by = 'device')",
	[S_REP_COUNTS] = REP_COUNTS(REP_WHERE),
	[S_REP_TIMES] = REP_TIMES(REP_WHERE),
	[S_REP_STATUS] = REP_STATUS(REP_WHERE),
	[S_REP_OUTCOMES] = REP_OUTCOMES(REP_WHERE),
	[S_REP_SPOTS] = REP_SPOTS(REP_WHERE),
	[S_REP_PLATES] = REP_PLATES(REP_WHERE),
	[S_REP_DAYS] = REP_DAYS(REP_WHERE),
	[S_REP_DAY_OUTCOMES] = REP_DAY_OUTCOMES(REP_WHERE),
	[S_REP_COUNTS_S] = REP_COUNTS(REP_WHERE_S),
	[S_REP_TIMES_S] = REP_TIMES(REP_WHERE_S),
	[S_REP_STATUS_S] = REP_STATUS(REP_WHERE_S),
	[S_REP_OUTCOMES_S] = REP_OUTCOMES(REP_WHERE_S),
	[S_REP_SPOTS_S] = REP_SPOTS(REP_WHERE_S),
	[S_REP_PLATES_S] = REP_PLATES(REP_WHERE_S),
	[S_REP_DAYS_S] = REP_DAYS(REP_WHERE_S),
	[S_REP_DAY_OUTCOMES_S] = REP_DAY_OUTCOMES(REP_WHERE_S),
	/* the incident's lock until the transaction ends: a READ COMMITTED
	 * read would not see another's uncommitted mark (the two-key form,
	 * so it never meets the migrations' one-key lock) */
	[S_AL_LOCK] = "SELECT pg_advisory_xact_lock(" AL_LOCK_STR
		      ", hashtext($1))",
	[S_AL_MARK] = "INSERT INTO alert_made (incident_id, step, wall)"
		      " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
	[S_AL_MARKED] = "SELECT 1 FROM alert_made"
			" WHERE incident_id = $1 AND step = $2",
	[S_AL_JOB_ADD] =
		"INSERT INTO alert_jobs (name, incident_id, kind, dest, mqtt,"
		" body, attempts, next_try, created, after_job, state)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
		" ON CONFLICT DO NOTHING",
	[S_AL_OUTBOX] = "SELECT count(*) FROM alert_jobs"
			" WHERE state = 'outbox'",
	[S_AL_JOB_GET] = "SELECT " AL_JOB_COLS " FROM alert_jobs"
			 " WHERE name = $1",
	/* a job locked by another claimer is skipped, and the lease is
	 * checked again on the row as it is now */
	[S_AL_CLAIM] =
		"UPDATE alert_jobs SET holder = $1, lease = $2 WHERE name = ("
		" SELECT j.name FROM alert_jobs j WHERE j.state = 'outbox'"
		" AND j.mqtt = $3 AND j.next_try <= $4"
		" AND (j.holder IS NULL OR j.lease <= $4)"
		/* the all-clear's alarm looked up by its key, per candidate:
		 * NOT EXISTS under the OR read the whole table per claim */
		" AND (j.after_job IS NULL OR (SELECT a.state"
		"  FROM alert_jobs a WHERE a.name = j.after_job)"
		"  IS DISTINCT FROM 'outbox')"
		" ORDER BY j.next_try, j.created LIMIT 1"
		" FOR UPDATE OF j SKIP LOCKED)"
		" AND state = 'outbox' AND (holder IS NULL OR lease <= $4)"
		" RETURNING " AL_JOB_COLS,
	[S_AL_RENEW] = "UPDATE alert_jobs SET lease = $3 WHERE name = $1"
		       " AND holder = $2 AND state = 'outbox'",
	[S_AL_JOB_END] =
		"UPDATE alert_jobs SET state = $3, attempts = $4,"
		" next_try = $5, done = CASE WHEN $3 = 'outbox' THEN NULL"
		" ELSE $6::double precision END, holder = NULL, lease = NULL"
		" WHERE name = $1 AND holder = $2 AND state = 'outbox'",
	[S_AL_UNHOLD_JOBS] = "UPDATE alert_jobs SET holder = NULL,"
			     " lease = NULL WHERE holder = $1",
	[S_AL_PRUNE] = "DELETE FROM alert_jobs WHERE state <> 'outbox'"
		       " AND done < $1",
	[S_AL_UNHOLD_CLOCKS] = "UPDATE alert_clocks SET holder = NULL,"
			       " lease = NULL WHERE holder = $1",
	[S_AL_CLOCK_ADD] =
		"INSERT INTO alert_clocks (incident_id, kind, due, forced,"
		" info) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
	[S_AL_CLOCK_FORCE] = "UPDATE alert_clocks SET forced = 1"
			     " WHERE incident_id = $1 AND kind = $2",
	[S_AL_CLOCK_GET] = "SELECT " AL_CLOCK_COLS " FROM alert_clocks"
			   " WHERE incident_id = $1 AND kind = $2",
	[S_AL_CLOCK_CLAIM] =
		"UPDATE alert_clocks SET holder = $1, lease = $2"
		" WHERE (incident_id, kind) = (SELECT incident_id, kind"
		" FROM alert_clocks WHERE (forced = 1 OR due <= $3)"
		" AND (holder IS NULL OR lease <= $3)"
		" ORDER BY due LIMIT 1 FOR UPDATE SKIP LOCKED)"
		" AND (holder IS NULL OR lease <= $3)"
		" RETURNING " AL_CLOCK_COLS,
	[S_AL_CLOCK_DEL] = "DELETE FROM alert_clocks WHERE incident_id = $1"
			   " AND ($2::text IS NULL OR kind = $2)"
			   " AND ($3::text IS NULL OR holder = $3)",
	[S_AL_CLOCK_FREE] = "UPDATE alert_clocks SET holder = NULL,"
			    " lease = NULL WHERE incident_id = $1"
			    " AND ($2::text IS NULL OR kind = $2)"
			    " AND ($3::text IS NULL OR holder = $3)",
};

typedef struct be {
	PGconn *c;
	char prepared[S_COUNT];
	char msg[256]; /* the last failure, for errmsg */
} be;

/* ---- errors ------------------------------------------------------------------------ */

/* The failure of result r (NULL: the connection's) logged, kept for errmsg,
 * as an fl_errno by its SQLSTATE. */
static int pgerr(be *b, const PGresult *r, const char *what)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(b->c);
	size_t n;

	snprintf(b->msg, sizeof(b->msg), "%s", m && *m ? m : "unknown error");
	n = strlen(b->msg);
	while (n && (b->msg[n - 1] == '\n' || b->msg[n - 1] == ' '))
		b->msg[--n] = 0;
	fl_log(FL_LOG_ERROR, TAG, "%s: %s (%s)", what, b->msg,
	       state ? state : "no state");
	if (!state)
		return FL_EIO;
	if (!strcmp(state, "23505"))
		return FL_EEXIST; /* unique_violation */
	if (!strncmp(state, "23", 2) || !strncmp(state, "22", 2))
		return FL_EINVAL; /* integrity, data exception */
	if (!strcmp(state, "40001") || !strcmp(state, "40P01") ||
	    !strcmp(state, "55P03"))
		return FL_EAGAIN; /* serialization, deadlock, lock */
	if (!strcmp(state, "53100"))
		return FL_EFULL; /* disk_full */
	if (!strcmp(state, "53200"))
		return FL_ENOMEM;
	return FL_EIO;
}

/* Constant SQL (transactions, settings, migrations); never data. */
static int exec(be *b, const char *sql)
{
	PGresult *r = PQexec(b->c, sql);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = pgerr(b, r, "exec");
	PQclear(r);
	return rc;
}

/* ---- parameters: every value as text ---------------------------------------------- */

#define MAXP 20

struct params {
	int n;
	const char *v[MAXP];
	int len[MAXP], fmt[MAXP]; /* fmt 1: v is len bytes (binary) */
	char num[MAXP][32];
};

static void pt(struct params *p, const char *v)
{
	p->v[p->n++] = v;
}

static void pi(struct params *p, long long v)
{
	snprintf(p->num[p->n], sizeof(p->num[0]), "%lld", v);
	p->v[p->n] = p->num[p->n];
	p->n++;
}

/* bytes as they are (a bytea), NULL when v is */
static void pb(struct params *p, const void *v, size_t len)
{
	p->len[p->n] = (int)len;
	p->fmt[p->n] = 1;
	p->v[p->n++] = v;
}

/* a double, NULL when NAN */
static void pd(struct params *p, double v)
{
	if (isnan(v)) {
		p->v[p->n++] = NULL;
		return;
	}
	snprintf(p->num[p->n], sizeof(p->num[0]), "%.17g", v);
	p->v[p->n] = p->num[p->n];
	p->n++;
}

/* Statement id run with p: the result (the caller PQclears it), or NULL
 * with the failure in *rc. */
static PGresult *run(be *b, int id, const struct params *p, int *rc,
		     const char *what)
{
	char name[16];
	PGresult *r;
	ExecStatusType st;

	snprintf(name, sizeof(name), "s%d", id);
	if (!b->prepared[id]) {
		r = PQprepare(b->c, name, SQL[id], 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			*rc = pgerr(b, r, "prepare");
			PQclear(r);
			return NULL;
		}
		PQclear(r);
		b->prepared[id] = 1;
	}
	r = PQexecPrepared(b->c, name, p->n, p->v, p->len, p->fmt, 0);
	st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		*rc = pgerr(b, r, what);
		PQclear(r);
		return NULL;
	}
	*rc = 0;
	return r;
}

/* A statement that returns no rows: 0, or FL_ENOENT when changed is set
 * and it touched no row, or an fl_errno. */
static int run_cmd(be *b, int id, const struct params *p, int changed,
		   const char *what)
{
	int rc;
	PGresult *r = run(b, id, p, &rc, what);

	if (!r)
		return rc;
	if (changed && !strcmp(PQcmdTuples(r), "0"))
		rc = FL_ENOENT;
	PQclear(r);
	return rc;
}

/* ---- row mapping ---------------------------------------------------------------------- */

/* type OIDs (catalog/pg_type_d.h, stable) */
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

static json_t *col_json(const PGresult *r, int row, int col)
{
	const char *v;

	if (PQgetisnull(r, row, col))
		return json_null();
	v = PQgetvalue(r, row, col);
	switch (PQftype(r, col)) {
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
		return json_integer(strtoll(v, NULL, 10));
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC:
		return fl__db_real(strtod(v, NULL));
	default:
		return fl__db_text(v, (size_t)PQgetlength(r, row, col));
	}
}

static json_t *row_obj(const PGresult *r, int row)
{
	json_t *o = json_object();

	for (int i = 0; o && i < PQnfields(r); i++)
		json_object_set_new(o, PQfname(r, i), col_json(r, row, i));
	return o;
}

/* The rows of statement id run with q, appended to a. */
static int rows_q(be *b, int id, const struct params *q, json_t *a)
{
	PGresult *r;
	int rc;

	if (!(r = run(b, id, q, &rc, "query")))
		return rc;
	for (int i = 0; i < PQntuples(r); i++)
		json_array_append_new(a, row_obj(r, i));
	PQclear(r);
	return 0;
}

/* The rows of statement id bound to key, appended to a. */
static int rows_of(be *b, int id, const char *key, json_t *a)
{
	struct params p = { 0 };

	pt(&p, key);
	return rows_q(b, id, &p, a);
}

static char *col_dup(const PGresult *r, int col, int *oom)
{
	char *d;

	if (PQgetisnull(r, 0, col))
		return NULL;
	d = strdup(PQgetvalue(r, 0, col));
	if (!d)
		*oom = 1;
	return d;
}

static double col_time(const PGresult *r, int col)
{
	return PQgetisnull(r, 0, col) ? NAN
				      : strtod(PQgetvalue(r, 0, col), NULL);
}

/* The first row of statement id run with q, or FL_ENOENT; *r to PQclear. */
static int row_q(be *b, int id, const struct params *q, PGresult **r,
		 const char *what)
{
	int rc;

	if (!(*r = run(b, id, q, &rc, what)))
		return rc;
	if (PQntuples(*r) > 0)
		return 0;
	PQclear(*r);
	*r = NULL;
	return FL_ENOENT;
}

/* The first row of statement id run with q as an object in *row (NULL
 * when none: FL_ENOENT). */
static int obj_q(be *b, int id, const struct params *q, json_t **row,
		 const char *what)
{
	PGresult *r;
	int rc;

	*row = NULL;
	if ((rc = row_q(b, id, q, &r, what)) < 0)
		return rc;
	*row = row_obj(r, 0);
	PQclear(r);
	return *row ? 0 : FL_ENOMEM;
}

/* The number of rows statement id run with q changed, in *n. */
static int changes_q(be *b, int id, const struct params *q, long *n,
		     const char *what)
{
	PGresult *r;
	int rc;

	if (!(r = run(b, id, q, &rc, what)))
		return rc;
	if (n)
		*n = atol(PQcmdTuples(r));
	PQclear(r);
	return 0;
}

/* ---- open, close, transactions ------------------------------------------------------- */

static int read_version(be *b)
{
	PGresult *r = PQexec(b->c, "SELECT version FROM schema_version");
	int v = 0;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		v = pgerr(b, r, "schema_version");
	else if (PQntuples(r) > 0)
		v = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

/* Brings the schema to target: one transaction, under the advisory lock
 * (a second process waits, then finds nothing to do). */
static int migrate(be *b, int target, char *err, size_t errlen)
{
	char sql[128];
	int v, r;

	if ((r = exec(b, "BEGIN")) < 0) {
		fl_seterr(err, errlen, "postgresql: %s", b->msg);
		return r;
	}
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%d)",
		 MIGRATE_LOCK);
	r = exec(b, sql);
	if (r == 0)
		r = exec(b, "CREATE TABLE IF NOT EXISTS schema_version"
			    " (version integer NOT NULL)");
	v = r < 0 ? r : read_version(b);
	if (v < 0) {
		fl_seterr(err, errlen, "cannot read the schema version: %s",
			  b->msg);
		exec(b, "ROLLBACK");
		return v;
	}
	if (v > LATEST) {
		fl_seterr(err, errlen,
			  "the database is at schema version %d, newer than this "
			  "build's %d: use a newer firelane-hub",
			  v, LATEST);
		exec(b, "ROLLBACK");
		return FL_EUNSUPPORTED;
	}
	for (int n = v + 1; n <= target; n++) {
		if ((r = exec(b, MIGRATIONS[n - 1])) < 0) {
			fl_seterr(err, errlen, "migration to version %d: %s", n,
				  b->msg);
			exec(b, "ROLLBACK");
			return r;
		}
		fl_log(FL_LOG_INFO, TAG, "schema migrated to version %d", n);
	}
	if (target > v) {
		/* constant text: target is this build's own number */
		snprintf(sql, sizeof(sql),
			 v > 0 ? "UPDATE schema_version SET version = %d"
			       : "INSERT INTO schema_version VALUES (%d)",
			 target);
		if ((r = exec(b, sql)) < 0) {
			fl_seterr(err, errlen,
				  "cannot record the schema version: %s",
				  b->msg);
			exec(b, "ROLLBACK");
			return r;
		}
	}
	if ((r = exec(b, "COMMIT")) < 0)
		fl_seterr(err, errlen, "cannot commit the migration: %s",
			  b->msg);
	return r;
}

static void be_close(void *p)
{
	be *b = p;

	if (!b)
		return;
	PQfinish(b->c);
	free(b);
}

/* libpq's notices (a NOTICE from CREATE ... IF NOT EXISTS) go to the log,
 * not to stderr: libraries never print. */
static void notice(void *arg, const char *message)
{
	(void)arg;
	fl_log(FL_LOG_DEBUG, TAG, "postgresql: %s", message);
}

/* libpq's message about a URL it cannot take may quote a part of it (a
 * bad percent escape, say): the URL's password, wherever it stands in msg
 * (len bytes), becomes "***"; when the URL does not parse, so that its
 * password is not known, the message stops before libpq's first quoted
 * token. */
static void hide_password(const char *url, char *msg, size_t len)
{
	PQconninfoOption *opts = PQconninfoParse(url, NULL);
	const char *pw = NULL, *p, *hit;
	char *copy;
	size_t n = 0;

	if (!len)
		return;
	if (!opts) {
		if ((copy = strchr(msg, '"')))
			snprintf(copy, len - (size_t)(copy - msg),
				 "(the rest not shown)");
		return;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val && *o->val)
			pw = o->val;
	if (pw && strstr(msg, pw) && (copy = strdup(msg))) {
		for (p = copy; n < len && (hit = strstr(p, pw));
		     p = hit + strlen(pw))
			n += (size_t)snprintf(msg + n, len - n, "%.*s***",
					      (int)(hit - p), p);
		if (n < len)
			snprintf(msg + n, len - n, "%s", p);
		free(copy);
	} else if (pw && strstr(msg, pw)) {
		snprintf(msg, len, "postgresql: cannot connect");
	}
	PQconninfoFree(opts);
}

void *fl__db_pg_open(const char *url, int max_version, char *err, size_t errlen)
{
	be *b;
	int target = max_version > 0 && max_version < LATEST ? max_version
							     : LATEST;

	if (!url || !*url) {
		fl_seterr(err, errlen, "postgresql: no URL");
		return NULL;
	}
	if (!(b = calloc(1, sizeof(*b)))) {
		fl_seterr(err, errlen, "out of memory");
		return NULL;
	}
	b->c = PQconnectdb(url);
	if (!b->c || PQstatus(b->c) != CONNECTION_OK) {
		fl_seterr(err, errlen, "postgresql: cannot connect: %s",
			  b->c ? PQerrorMessage(b->c) : "out of memory");
		hide_password(url, err, errlen);
		be_close(b);
		return NULL;
	}
	PQsetNoticeProcessor(b->c, notice, NULL);
	/* UTF-8 text both ways; a commit durable when it returns; UTC */
	if (exec(b, "SET client_encoding = 'UTF8'") < 0 ||
	    exec(b, "SET synchronous_commit = on") < 0 ||
	    exec(b, "SET TIME ZONE 'UTC'") < 0) {
		fl_seterr(err, errlen, "postgresql: %s", b->msg);
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
	return exec(p, full ? "SET synchronous_commit = on"
			    : "SET synchronous_commit = off");
}

static int be_tx(void *p, enum fl__db_tx step)
{
	static const char *const sql[] = {
		[FL__TX_BEGIN] = "BEGIN",
		[FL__TX_COMMIT] = "COMMIT",
		[FL__TX_ROLLBACK] = "ROLLBACK",
		[FL__TX_SAVEPOINT] = "SAVEPOINT m",
		[FL__TX_RELEASE] = "RELEASE SAVEPOINT m",
		[FL__TX_ROLLBACK_TO] = "ROLLBACK TO SAVEPOINT m",
	};

	return exec(p, sql[step]);
}

static const char *be_errmsg(void *p)
{
	be *b = p;

	return b->msg[0] ? b->msg : PQerrorMessage(b->c);
}

/* ---- ingest ------------------------------------------------------------------------- */

static int be_event_exists(void *p, const char *id, unsigned seq, char **json)
{
	be *b = p;
	struct params q = { 0 };
	PGresult *r;
	int rc, oom = 0;

	pt(&q, id);
	pi(&q, seq);
	if (!(r = run(b, S_EV_EXISTS, &q, &rc, "ingest")))
		return rc;
	rc = PQntuples(r) > 0;
	if (rc && json)
		*json = col_dup(r, 0, &oom);
	PQclear(r);
	return oom ? FL_ENOMEM : rc;
}

static int be_incident_get(void *p, const char *id, fl__db_incident *row)
{
	be *b = p;
	struct params q = { 0 };
	PGresult *r;
	int rc, oom = 0;

	memset(row, 0, sizeof(*row));
	pt(&q, id);
	if (!(r = run(b, S_INC_GET, &q, &rc, "incident")))
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return FL_ENOENT;
	}
	row->device = col_dup(r, 0, &oom);
	row->site = col_dup(r, 1, &oom);
	row->camera = col_dup(r, 2, &oom);
	row->lane = col_dup(r, 3, &oom);
	row->status = col_dup(r, 4, &oom);
	row->status_seq = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
	row->start = col_time(r, 6);
	row->rest_since = col_time(r, 7);
	row->occupied = col_time(r, 8);
	row->alarm = col_time(r, 9);
	row->cleared = col_time(r, 10);
	row->closed = col_time(r, 11);
	row->last_seq = strtoll(PQgetvalue(r, 0, 12), NULL, 10);
	row->bbox = col_dup(r, 13, &oom);
	row->cls = col_dup(r, 14, &oom);
	row->plate = col_dup(r, 15, &oom);
	row->site_name = col_dup(r, 16, &oom);
	row->lane_name = col_dup(r, 17, &oom);
	PQclear(r);
	if (!oom)
		return 0;
	fl__db_incident_free(row);
	return FL_ENOMEM;
}

/* The parameters of row r of incident id ($1 id, $2.. the columns). */
static void incident_params(struct params *q, const char *id,
			    const fl__db_incident *r)
{
	pt(q, id);
	pt(q, r->device);
	pt(q, r->site);
	pt(q, r->camera);
	pt(q, r->lane);
	pt(q, r->status);
	pi(q, r->status_seq);
	pd(q, r->start);
	pd(q, r->rest_since);
	pd(q, r->occupied);
	pd(q, r->alarm);
	pd(q, r->cleared);
	pd(q, r->closed);
	pi(q, r->last_seq);
	pt(q, r->bbox);
	pt(q, r->cls);
	pt(q, r->plate);
	pt(q, r->site_name);
	pt(q, r->lane_name);
}

static int be_incident_put(void *p, const char *id, const fl__db_incident *r,
			   int fresh)
{
	be *b = p;
	struct params q = { 0 };
	int rc;

	incident_params(&q, id, r);
	if (!fresh)
		return run_cmd(b, S_INC_SET, &q, 1, "incident update");
	rc = run_cmd(b, S_INC_NEW, &q, 1, "incident insert");
	/* no row: another worker created the incident since incident_get
	 * found none (its insert was not committed then; an UPDATE here
	 * would overwrite its row with one that lacks its message) */
	if (rc == FL_ENOENT) {
		snprintf(b->msg, sizeof(b->msg),
			 "incident %s created by another writer meanwhile", id);
		return FL_EAGAIN;
	}
	return rc;
}

static int be_event_add(void *p, const char *id, unsigned seq, const char *type,
			double wall, double received, const char *json)
{
	struct params q = { 0 };
	int rc;

	pt(&q, id);
	pi(&q, seq);
	pt(&q, type);
	pd(&q, wall);
	pd(&q, received);
	pt(&q, json);
	rc = run_cmd(p, S_EV_INSERT, &q, 1, "event insert");
	/* no row: the key is taken, another writer stored it first */
	return rc == FL_ENOENT ? FL_EEXIST : rc;
}

static int be_plate_read(void *p, const char *id, const char *plate)
{
	struct params q = { 0 };

	pt(&q, id);
	pt(&q, plate);
	return run_cmd(p, S_INC_PLATE_READ, &q, 0, "plate");
}

static int be_plate_set(void *p, const char *id, const char *plate,
			const char *by)
{
	struct params q = { 0 };

	pt(&q, id);
	pt(&q, plate);
	pt(&q, by);
	return run_cmd(p, S_INC_PLATE_SET, &q, 0, "plate");
}

/* ---- one incident read back --------------------------------------------------------- */

static int be_incident_site(void *p, const char *id, char *site, size_t sitelen)
{
	be *b = p;
	struct params q = { 0 };
	PGresult *r;
	int rc;

	pt(&q, id);
	if (!(r = run(b, S_INC_SITE, &q, &rc, "incident_site")))
		return rc;
	rc = PQntuples(r) > 0 ? 0 : FL_ENOENT;
	if (rc == 0 && site && sitelen)
		snprintf(site, sitelen, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return rc;
}

static int be_incident_row(void *p, const char *id, json_t **row)
{
	struct params q = { 0 };

	pt(&q, id);
	return obj_q(p, S_INC_ONE, &q, row, "incident");
}

static int be_incident_events(void *p, const char *id, json_t *a)
{
	return rows_of(p, S_INC_EVENTS, id, a);
}

static int be_incident_evidence(void *p, const char *id, json_t *a)
{
	return rows_of(p, S_INC_EVIDENCE, id, a);
}

static int be_incident_outcomes(void *p, const char *id, json_t *a)
{
	return rows_of(p, S_INC_OUTCOMES, id, a);
}

/* ---- evidence rows, outcomes, audit --------------------------------------------------- */

static int be_incident_verdict(void *p, const char *id, int *verified, int lock)
{
	be *b = p;
	struct params q = { 0 };
	PGresult *r;
	int rc;

	pt(&q, id);
	if (!(r = run(b, lock ? S_INC_VERDICT_LOCK : S_INC_VERDICT, &q, &rc,
		      "verdict")))
		return rc;
	rc = PQntuples(r) > 0 ? 0 : FL_ENOENT;
	if (rc == 0)
		*verified = PQgetisnull(r, 0, 0) ? -1
						 : atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return rc;
}

static int be_incident_verified(void *p, const char *id, int verified,
				const char *report, double pruned)
{
	struct params q = { 0 };

	pt(&q, id);
	pi(&q, verified ? 1 : 0);
	pt(&q, report);
	pd(&q, pruned);
	return run_cmd(p, S_INC_VERIFIED, &q, 1, "verified");
}

static int be_incident_pruned(void *p, const char *id, double wall)
{
	struct params q = { 0 };

	pt(&q, id);
	pd(&q, wall);
	return run_cmd(p, S_INC_PRUNED, &q, 1, "pruned");
}

static int be_evidence_put(void *p, const char *id, const char *name,
			   const char *sha256, long long bytes,
			   const char *kind, int verified)
{
	struct params q = { 0 };

	pt(&q, id);
	pt(&q, name);
	pt(&q, sha256);
	pi(&q, bytes);
	pt(&q, kind);
	pi(&q, verified ? 1 : 0);
	return run_cmd(p, S_EVIDENCE_PUT, &q, 0, "evidence");
}

static int be_incident_outcome(void *p, const char *id, const char *outcome)
{
	struct params q = { 0 };

	pt(&q, id);
	pt(&q, outcome);
	return run_cmd(p, S_INC_OUTCOME, &q, 1, "outcome");
}

static int be_outcome_add(void *p, const char *id, const char *outcome,
			  const char *note, const char *user, double wall)
{
	struct params q = { 0 };

	pt(&q, id);
	pt(&q, outcome);
	pt(&q, note);
	pt(&q, user);
	pd(&q, wall);
	return run_cmd(p, S_OUTCOME_ADD, &q, 0, "outcome history");
}

static int be_audit(void *p, const char *user, const char *action,
		    const char *object, const char *detail, double wall)
{
	struct params q = { 0 };

	pt(&q, user);
	pt(&q, action);
	pt(&q, object);
	pt(&q, detail);
	pd(&q, wall);
	return run_cmd(p, S_AUDIT_ADD, &q, 0, "audit");
}

static int be_audit_count(void *p, const char *object, long long *n)
{
	be *b = p;
	struct params q = { 0 };
	PGresult *r;
	int rc;

	pt(&q, object);
	if (!(r = run(b, S_AUDIT_COUNT, &q, &rc, "audit")))
		return rc;
	*n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

static int be_audit_rows(void *p, const char *object, int limit, int offset,
			 json_t *a)
{
	struct params q = { 0 };

	pt(&q, object);
	pi(&q, limit);
	pi(&q, offset);
	return rows_q(p, S_AUDIT_LIST, &q, a);
}

/* ---- devices, cameras, receipts ------------------------------------------------------- */

static void col_copy(const PGresult *r, int col, char *out, size_t len)
{
	if (out && len)
		snprintf(out, len, "%s", PQgetvalue(r, 0, col));
}

static int be_device_put(void *p, const char *device, const char *site,
			 const char *pk_b64, double wall)
{
	struct params q = { 0 };

	pt(&q, device);
	pt(&q, site);
	pt(&q, pk_b64);
	pd(&q, wall);
	return run_cmd(p, S_DEV_PUT, &q, 0, "enrol");
}

static int be_device_get(void *p, const char *device, char *site,
			 size_t sitelen, char *pk, size_t pklen)
{
	struct params q = { 0 };
	PGresult *r;
	int rc;

	pt(&q, device);
	if ((rc = row_q(p, S_DEV_GET, &q, &r, "device_get")) < 0)
		return rc;
	col_copy(r, 0, site, sitelen);
	col_copy(r, 1, pk, pklen);
	PQclear(r);
	return 0;
}

static int be_device_seen(void *p, const char *device, const char *status,
			  long long epoch, double wall, const char *hb)
{
	struct params q = { 0 };

	pt(&q, device);
	pt(&q, status);
	pd(&q, wall);
	pt(&q, hb);
	if (epoch >= 0)
		pi(&q, epoch);
	else
		pt(&q, NULL);
	return run_cmd(p, S_DEV_SEEN, &q, 1, "device_seen");
}

static int be_device_status(void *p, const char *device, char *status,
			    size_t statuslen, long long *epoch, int lock)
{
	struct params q = { 0 };
	PGresult *r;
	int rc;

	pt(&q, device);
	if ((rc = row_q(p, lock ? S_DEV_STATUS_LOCK : S_DEV_STATUS, &q, &r,
			"device_status")) < 0)
		return rc;
	col_copy(r, 0, status, statuslen);
	*epoch = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
	return 0;
}

static int be_receipt_rows(void *p, const char *device, double since, int max,
			   json_t *a)
{
	struct params q = { 0 };

	pt(&q, device);
	pd(&q, since);
	pi(&q, max);
	return rows_q(p, S_DEV_RECEIPTS, &q, a);
}

static int be_devices_rows(void *p, json_t *a)
{
	struct params q = { 0 };

	return rows_q(p, S_DEVICES, &q, a);
}

static int be_cameras_rows(void *p, json_t *a)
{
	struct params q = { 0 };

	return rows_q(p, S_CAMERAS, &q, a);
}

static int be_camera_get(void *p, const char *device, const char *camera,
			 fl__camera *c)
{
	struct params q = { 0 };
	PGresult *r;
	int rc;

	pt(&q, device);
	pt(&q, camera);
	if ((rc = row_q(p, S_CAM_GET, &q, &r, "camera_get")) < 0)
		return rc;
	c->offline = atoi(PQgetvalue(r, 0, 0));
	col_copy(r, 1, c->problems, sizeof(c->problems));
	col_copy(r, 2, c->state, sizeof(c->state));
	c->since = PQgetisnull(r, 0, 3) ? -1 : col_time(r, 3);
	PQclear(r);
	return 0;
}

static int be_camera_put(void *p, const char *device, const char *camera,
			 const fl__camera *c, const char *reason,
			 double last_event, int fresh)
{
	be *b = p;
	struct params q = { 0 };
	int rc;

	pt(&q, device);
	pt(&q, camera);
	pt(&q, c->state);
	pi(&q, c->offline);
	pt(&q, c->problems);
	pt(&q, reason);
	pd(&q, c->since);
	pd(&q, last_event);
	if (!fresh)
		return run_cmd(b, S_CAM_PUT, &q, 0, "camera_put");
	rc = run_cmd(b, S_CAM_NEW, &q, 1, "camera insert");
	/* no row: another hub stored the camera since camera_get found none
	 * (an upsert here would overwrite its event with one computed
	 * without it) */
	if (rc == FL_ENOENT) {
		snprintf(b->msg, sizeof(b->msg),
			 "camera %s/%s stored by another writer meanwhile",
			 device, camera);
		return FL_EAGAIN;
	}
	return rc;
}

/* ---- the incident list, evidence files --------------------------------------------- */

/* The filter's parameters $1..$8 (the list adds $9, $10). */
static void filter_params(struct params *q, const fl_db_filter *f)
{
	pt(q, f->site);
	pt(q, f->lane);
	pt(q, f->status);
	pt(q, f->outcome);
	pd(q, f->from_wall);
	pd(q, f->to_wall);
	pt(q, f->sites_csv_allowed);
	pt(q, f->plate);
}

static int be_incidents_count(void *p, const fl_db_filter *f, long long *n)
{
	struct params q = { 0 };
	PGresult *r;
	int rc;

	filter_params(&q, f);
	if ((rc = row_q(p, f->site ? S_INC_COUNT_S : S_INC_COUNT, &q, &r,
			"count")) < 0)
		return rc;
	*n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

static int be_incidents_rows(void *p, const fl_db_filter *f, int limit,
			     int offset, json_t *a)
{
	struct params q = { 0 };

	filter_params(&q, f);
	pi(&q, limit);
	pi(&q, offset);
	return rows_q(p, f->site ? S_INC_LIST_S : S_INC_LIST, &q, a);
}

/* Row i of S_EVIDENCE_FILE or S_EVIDENCE_SCAN. */
static void evfile_of(const PGresult *r, int i, fl_db_evfile *f)
{
	snprintf(f->incident_id, sizeof(f->incident_id), "%s",
		 PQgetvalue(r, i, 0));
	snprintf(f->name, sizeof(f->name), "%s", PQgetvalue(r, i, 1));
	snprintf(f->sha256, sizeof(f->sha256), "%s", PQgetvalue(r, i, 2));
	f->bytes = strtoll(PQgetvalue(r, i, 3), NULL, 10);
	f->tampered = PQgetisnull(r, i, 4) ? NAN
					   : strtod(PQgetvalue(r, i, 4), NULL);
	f->verified = PQgetisnull(r, i, 5) ? -1 : atoi(PQgetvalue(r, i, 5));
	f->pruned = PQgetisnull(r, i, 6) ? NAN
					 : strtod(PQgetvalue(r, i, 6), NULL);
}

static int be_evidence_file(void *p, const char *id, const char *name,
			    fl_db_evfile *out)
{
	struct params q = { 0 };
	PGresult *r;
	int rc;

	pt(&q, id);
	pt(&q, name);
	if ((rc = row_q(p, S_EVIDENCE_FILE, &q, &r, "evidence file")) < 0)
		return rc;
	evfile_of(r, 0, out);
	PQclear(r);
	return 0;
}

static int be_evidence_tampered(void *p, const char *id, const char *name,
				double wall)
{
	struct params q = { 0 };

	pt(&q, id);
	pt(&q, name);
	pd(&q, wall);
	return run_cmd(p, S_EVIDENCE_TAMPERED, &q, 1, "tampered");
}

static int be_evidence_scan(void *p, const char *after_id,
			    const char *after_name, fl_db_evfile *out,
			    size_t max, size_t *n)
{
	struct params q = { 0 };
	PGresult *r;
	int rc;

	pt(&q, after_id);
	pt(&q, after_name);
	pi(&q, (long long)max);
	if (!(r = run(p, S_EVIDENCE_SCAN, &q, &rc, "evidence scan")))
		return rc;
	for (int i = 0; *n < max && i < PQntuples(r); i++)
		evfile_of(r, i, &out[(*n)++]);
	PQclear(r);
	return 0;
}

/* ---- quarantine ------------------------------------------------------------------------ */

static int be_quarantine_add(void *p, const char *topic, const char *payload,
			     size_t len, const char *reason, double wall)
{
	struct params q = { 0 };

	if (len > 0x7fffffff)
		return FL_EINVAL;
	pt(&q, topic);
	pb(&q, payload, len);
	pt(&q, reason);
	pd(&q, wall);
	return run_cmd(p, S_QUARANTINE, &q, 0, "quarantine");
}

static int be_quarantine_trim(void *p, long keep, long *removed)
{
	struct params q = { 0 };

	*removed = 0;
	pi(&q, keep);
	return changes_q(p, S_QUAR_TRIM, &q, removed, "quarantine_trim");
}

static int be_quarantine_count(void *p, long long *n)
{
	struct params q = { 0 };
	PGresult *r;
	int rc;

	if ((rc = row_q(p, S_QUAR_COUNT, &q, &r, "quarantine")) < 0)
		return rc;
	*n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

static int be_quarantine_rows(void *p, int limit, int offset,
			      int (*fn)(const fl__db_qrow *row, void *user),
			      void *user)
{
	be *b = p;
	struct params q = { 0 };
	PGresult *r;
	int rc, stop = 0;

	pi(&q, limit);
	pi(&q, offset);
	if (!(r = run(b, S_QUAR_LIST, &q, &rc, "quarantine")))
		return rc;
	for (int i = 0; !stop && i < PQntuples(r); i++) {
		size_t len = 0;
		unsigned char *bytes = NULL;
		fl__db_qrow row = {
			.id = strtoll(PQgetvalue(r, i, 0), NULL, 10),
			.topic = PQgetisnull(r, i, 1) ? NULL
						      : PQgetvalue(r, i, 1),
			.reason = PQgetisnull(r, i, 2) ? NULL
						       : PQgetvalue(r, i, 2),
			.wall = PQgetisnull(r, i, 3)
					? NAN
					: strtod(PQgetvalue(r, i, 3), NULL),
		};

		/* bytea comes as hex text: back to its bytes */
		if (!PQgetisnull(r, i, 4)) {
			bytes = PQunescapeBytea((const unsigned char *)
							PQgetvalue(r, i, 4),
						&len);
			if (!bytes) {
				stop = FL_ENOMEM;
				break;
			}
		}
		row.payload = bytes;
		row.len = len;
		stop = fn(&row, user);
		PQfreemem(bytes);
	}
	PQclear(r);
	return stop;
}

/* ---- users, the login throttle --------------------------------------------------------- */

static int be_user_add(void *p, const char *name, const char *hash,
		       const char *role, const char *sites, double wall)
{
	struct params q = { 0 };

	pt(&q, name);
	pt(&q, hash);
	pt(&q, role);
	pt(&q, sites);
	pd(&q, wall);
	return run_cmd(p, S_USER_ADD, &q, 0, "user_add");
}

static int be_user_set_hash(void *p, const char *name, const char *hash)
{
	struct params q = { 0 };

	pt(&q, name);
	pt(&q, hash);
	return run_cmd(p, S_USER_SETHASH, &q, 1, "user_set_password");
}

static int be_user_get(void *p, const char *name, char *hash, size_t hashlen,
		       char *role, size_t rolelen, char *sites, size_t siteslen,
		       double *created)
{
	struct params q = { 0 };
	PGresult *r;
	int rc;

	pt(&q, name);
	if ((rc = row_q(p, S_USER_GET, &q, &r, "user_get")) < 0)
		return rc;
	col_copy(r, 0, hash, hashlen);
	col_copy(r, 1, role, rolelen);
	col_copy(r, 2, sites, siteslen);
	if (created)
		*created = col_time(r, 3);
	PQclear(r);
	return 0;
}

static int be_user_delete(void *p, const char *name)
{
	struct params q = { 0 };

	pt(&q, name);
	return run_cmd(p, S_USER_DELETE, &q, 1, "user_delete");
}

static int be_users_rows(void *p, json_t *a)
{
	struct params q = { 0 };

	return rows_q(p, S_USERS_LIST, &q, a);
}

static int be_login_get(void *p, const char *user, const char *addr,
			int *failures, double *last)
{
	struct params q = { 0 };
	PGresult *r;
	int rc;

	pt(&q, user);
	pt(&q, addr);
	if ((rc = row_q(p, S_LOGIN_GET, &q, &r, "login_get")) < 0)
		return rc;
	*failures = atoi(PQgetvalue(r, 0, 0));
	*last = strtod(PQgetvalue(r, 0, 1), NULL);
	PQclear(r);
	return 0;
}

static int be_login_fail(void *p, const char *user, const char *addr,
			 double wall, double restart_before)
{
	struct params q = { 0 };

	pt(&q, user);
	pt(&q, addr);
	pd(&q, wall);
	pd(&q, restart_before);
	return run_cmd(p, S_LOGIN_FAIL, &q, 0, "login_fail");
}

static int be_login_prune(void *p, double before, long keep)
{
	struct params q = { 0 };

	pd(&q, before);
	pi(&q, keep);
	return run_cmd(p, S_LOGIN_PRUNE, &q, 0, "login_prune");
}

static int be_login_reset(void *p, const char *user, const char *addr,
			  long *removed)
{
	struct params q = { 0 };

	pt(&q, user);
	pt(&q, addr);
	return changes_q(p, S_LOGIN_RESET, &q, removed, "login_reset");
}

/* ---- web sessions -------------------------------------------------------------------- */

static int be_session_add(void *p, const char *hash, const fl_db_session *x,
			  double started)
{
	struct params q = { 0 };

	pt(&q, hash);
	pt(&q, x->csrf);
	pt(&q, x->user);
	pt(&q, x->role);
	pt(&q, x->sites);
	pd(&q, x->user_created);
	pd(&q, started);
	pd(&q, x->seen);
	return run_cmd(p, S_SESS_ADD, &q, 0, "session_add");
}

static int be_session_get(void *p, const char *hash, fl_db_session *out)
{
	struct params q = { 0 };
	PGresult *r;
	int rc;

	pt(&q, hash);
	if ((rc = row_q(p, S_SESS_GET, &q, &r, "session_get")) < 0)
		return rc;
	col_copy(r, 0, out->csrf, sizeof(out->csrf));
	col_copy(r, 1, out->user, sizeof(out->user));
	col_copy(r, 2, out->role, sizeof(out->role));
	col_copy(r, 3, out->sites, sizeof(out->sites));
	out->user_created = col_time(r, 4);
	out->seen = col_time(r, 5);
	PQclear(r);
	return 0;
}

static int be_session_touch(void *p, const char *hash, double seen)
{
	struct params q = { 0 };

	pt(&q, hash);
	pd(&q, seen);
	return run_cmd(p, S_SESS_TOUCH, &q, 0, "session_touch");
}

static int be_session_delete(void *p, const char *hash)
{
	struct params q = { 0 };

	pt(&q, hash);
	return run_cmd(p, S_SESS_DELETE, &q, 1, "session_delete");
}

static int be_session_delete_user(void *p, const char *user, long *removed)
{
	struct params q = { 0 };

	pt(&q, user);
	return changes_q(p, S_SESS_DELETE_USER, &q, removed,
			 "session_delete_user");
}

static int be_session_prune(void *p, double before)
{
	struct params q = { 0 };

	pd(&q, before);
	return run_cmd(p, S_SESS_PRUNE, &q, 0, "session_prune");
}

static int be_session_count(void *p, double after, long long *n)
{
	struct params q = { 0 };
	PGresult *r;
	int rc;

	pd(&q, after);
	if ((rc = row_q(p, S_SESS_COUNT, &q, &r, "session_count")) < 0)
		return rc;
	*n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

static int be_session_view(void *p, const char *hash, const char *key,
			   int *added)
{
	struct params q = { 0 };
	long n = 0;
	int rc;

	pt(&q, hash);
	pt(&q, key);
	rc = changes_q(p, S_SESS_VIEW, &q, &n, "session_view");
	*added = !rc && n > 0;
	return rc;
}

/* ---- reports ------------------------------------------------------------------------- */

/* The span's statement (id, or its per-site twin) and its first three
 * parameters. */
static int rep_params(const fl__db_span *w, int id, struct params *q)
{
	pt(q, w->site);
	pd(q, w->from);
	pd(q, w->to);
	return id + (w->site ? S_REP_COUNTS_S - S_REP_COUNTS : 0);
}

static int be_report_counts(void *p, const fl__db_span *w, long long *incidents,
			    long long *alarms)
{
	struct params q = { 0 };
	PGresult *r;
	int rc;

	if ((rc = row_q(p, rep_params(w, S_REP_COUNTS, &q), &q, &r, "report")) <
	    0)
		return rc;
	*incidents = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	*alarms = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
	return 0;
}

static int be_report_times(void *p, const fl__db_span *w,
			   int (*fn)(double start, double alarm, double cleared,
				     void *user),
			   void *user)
{
	struct params q = { 0 };
	PGresult *r;
	int rc, stop = 0;

	if (!(r = run(p, rep_params(w, S_REP_TIMES, &q), &q, &rc, "report")))
		return rc;
	for (int i = 0; !stop && i < PQntuples(r); i++) {
		double v[3];

		for (int c = 0; c < 3; c++)
			v[c] = PQgetisnull(r, i, c)
				       ? NAN
				       : strtod(PQgetvalue(r, i, c), NULL);
		stop = fn(v[0], v[1], v[2], user);
	}
	PQclear(r);
	return stop;
}

static int be_report_rows(void *p, enum fl__db_report_rows part,
			  const fl__db_span *w, json_t *a)
{
	static const int ids[] = {
		[FL__REP_BY_STATUS] = S_REP_STATUS,
		[FL__REP_OUTCOMES] = S_REP_OUTCOMES,
		[FL__REP_SPOTS] = S_REP_SPOTS,
		[FL__REP_PLATES] = S_REP_PLATES,
		[FL__REP_DAYS] = S_REP_DAYS,
		[FL__REP_DAY_OUTCOMES] = S_REP_DAY_OUTCOMES,
	};
	struct params q = { 0 };
	int id = rep_params(w, ids[part], &q);

	if (part == FL__REP_DAYS || part == FL__REP_DAY_OUTCOMES) {
		pi(&q, w->tz);
	} else if (part == FL__REP_SPOTS || part == FL__REP_PLATES) {
		pi(&q, w->repeat_min);
		pi(&q, w->repeat_max);
	}
	return rows_q(p, id, &q, a);
}

/* ---- the resident vehicle register ---------------------------------------------------- */

static int be_register_clear(void *p, const char *site)
{
	struct params q = { 0 };
	int rc;

	pt(&q, site);
	if ((rc = run_cmd(p, S_REG_LOCK, &q, 0, "register lock")) < 0)
		return rc;
	return run_cmd(p, S_REG_CLEAR, &q, 0, "register");
}

static int be_register_add(void *p, const char *site, const fl_db_resident *r,
			   const char *user, double wall)
{
	struct params q = { 0 };

	pt(&q, site);
	pt(&q, r->plate);
	pt(&q, r->owner);
	pt(&q, r->unit);
	pt(&q, r->phone);
	pd(&q, wall);
	pt(&q, user);
	return run_cmd(p, S_REG_ADD, &q, 0, "register");
}

static int be_register_get(void *p, const char *site, const char *plate,
			   json_t **row)
{
	struct params q = { 0 };

	pt(&q, site);
	pt(&q, plate);
	return obj_q(p, S_REG_GET, &q, row, "register");
}

static int be_register_rows(void *p, const char *site, json_t *a)
{
	return rows_of(p, S_REG_ROWS, site, a);
}

static int be_register_prune(void *p, double before, long *n)
{
	struct params q = { 0 };

	pd(&q, before);
	return changes_q(p, S_REG_PRUNE, &q, n, "register prune");
}

/* ---- device configurations --------------------------------------------------------- */

static int be_config_add(void *p, const char *device, int version,
			 const char *yaml, const char *author, const char *note,
			 double wall)
{
	struct params q = { 0 };

	pt(&q, device);
	pi(&q, version);
	pt(&q, yaml);
	pt(&q, author);
	pd(&q, wall);
	pt(&q, note);
	return run_cmd(p, S_CONF_ADD, &q, 0, "config_add");
}

static int be_config_latest(void *p, const char *device, int *version)
{
	struct params q = { 0 };
	PGresult *r;
	int rc;

	pt(&q, device);
	if ((rc = row_q(p, S_CONF_LATEST, &q, &r, "config_latest")) < 0)
		return rc;
	*version = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

static int be_config_get(void *p, const char *device, int version, json_t **row)
{
	struct params q = { 0 };

	pt(&q, device);
	pi(&q, version);
	return obj_q(p, S_CONF_GET, &q, row, "config_get");
}

static int be_config_rows(void *p, const char *device, json_t *a)
{
	return rows_of(p, S_CONF_ROWS, device, a);
}

static int be_config_applied(void *p, const char *device, int version,
			     double wall, int ok, const char *error)
{
	struct params q = { 0 };

	pt(&q, device);
	pi(&q, version);
	pd(&q, wall);
	if (ok >= 0)
		pi(&q, ok);
	else
		pt(&q, NULL);
	pt(&q, error);
	return run_cmd(p, S_CONF_APPLIED, &q, 1, "config_applied");
}

/* ---- enrolment codes ----------------------------------------------------------------- */

static int be_enrol_add(void *p, const char *hash, const char *device,
			const char *site, double created, double expires,
			const char *by)
{
	struct params q = { 0 };

	pt(&q, hash);
	pt(&q, device);
	pt(&q, site);
	pd(&q, created);
	pd(&q, expires);
	pt(&q, by);
	return run_cmd(p, S_ENROL_ADD, &q, 0, "enrol_add");
}

static int be_enrol_get(void *p, const char *hash, char *device, size_t devlen,
			char *site, size_t sitelen, double *expires,
			double *used)
{
	struct params q = { 0 };
	PGresult *r;
	int rc;

	pt(&q, hash);
	if ((rc = row_q(p, S_ENROL_GET, &q, &r, "enrol_get")) < 0)
		return rc;
	col_copy(r, 0, device, devlen);
	col_copy(r, 1, site, sitelen);
	*expires = col_time(r, 2);
	*used = col_time(r, 3);
	PQclear(r);
	return 0;
}

static int be_enrol_use(void *p, const char *hash, double wall,
			const char *pk_b64)
{
	struct params q = { 0 };

	pt(&q, hash);
	pd(&q, wall);
	pt(&q, pk_b64);
	return run_cmd(p, S_ENROL_USE, &q, 1, "enrol_use");
}

static int be_enrol_release(void *p, const char *hash)
{
	struct params q = { 0 };

	pt(&q, hash);
	return run_cmd(p, S_ENROL_RELEASE, &q, 1, "enrol_release");
}

static int be_enrol_rows(void *p, double now, const char *sites_csv, json_t *a)
{
	struct params q = { 0 };

	pd(&q, now);
	pt(&q, sites_csv);
	return rows_q(p, S_ENROL_LIST, &q, a);
}

static int be_enrol_delete(void *p, long long id, const char *sites_csv)
{
	struct params q = { 0 };

	pi(&q, id);
	pt(&q, sites_csv);
	return run_cmd(p, S_ENROL_DELETE, &q, 1, "enrol_delete");
}

/* ---- plate retention ------------------------------------------------------------------ */

static int be_plate_msgs(void *p, double before, json_t *a)
{
	struct params q = { 0 };

	pd(&q, before);
	return rows_q(p, S_PLATE_MSGS, &q, a);
}

static int be_event_json_set(void *p, const char *id, long long seq,
			     const char *json)
{
	struct params q = { 0 };

	pt(&q, id);
	pi(&q, seq);
	pt(&q, json);
	return run_cmd(p, S_EV_JSON_SET, &q, 1, "plate prune (message)");
}

static int be_plates_clear(void *p, double before, long *n)
{
	struct params q = { 0 };

	pd(&q, before);
	return changes_q(p, S_PLATES_CLEAR, &q, n, "plate prune");
}

/* Every entry is filled (test_db walks the table to check it). */
/* ---- alerts ---------------------------------------------------------------------- */

static int be_alert_lock(void *p, const char *iid)
{
	struct params q = { 0 };

	pt(&q, iid);
	return run_cmd(p, S_AL_LOCK, &q, 0, "alert_lock");
}

/* Runs id with q; *added 1 when it changed a row. */
static int run_added(be *b, int id, const struct params *q, int *added,
		     const char *what)
{
	long n = 0;
	int rc = changes_q(b, id, q, &n, what);

	*added = !rc && n > 0;
	return rc;
}

static int be_alert_mark(void *p, const char *iid, const char *step,
			 double wall, int *added)
{
	struct params q = { 0 };

	pt(&q, iid);
	pt(&q, step);
	pd(&q, isfinite(wall) ? wall : NAN);
	return run_added(p, S_AL_MARK, &q, added, "alert_mark");
}

static int be_alert_marked(void *p, const char *iid, const char *step, int *yes)
{
	struct params q = { 0 };
	PGresult *r;
	int rc;

	pt(&q, iid);
	pt(&q, step);
	rc = row_q(p, S_AL_MARKED, &q, &r, "alert_marked");
	*yes = rc == 0;
	if (!rc)
		PQclear(r);
	return rc == FL_ENOENT ? 0 : rc;
}

static int be_alert_job_add(void *p, const fl_db_alert_job *j, const char *iid,
			    int *added)
{
	struct params q = { 0 };

	pt(&q, j->name);
	pt(&q, iid);
	pt(&q, j->kind);
	pt(&q, j->dest);
	pi(&q, j->mqtt ? 1 : 0);
	pt(&q, j->body);
	pi(&q, j->attempts);
	pd(&q, isfinite(j->next) ? j->next : 0);
	pd(&q, j->created);
	pt(&q, j->after[0] ? j->after : NULL);
	pt(&q, j->state[0] ? j->state : "outbox");
	return run_added(p, S_AL_JOB_ADD, &q, added, "alert_job_add");
}

/* Statement id with q answering one AL_JOB_COLS row: into *out (body
 * malloc'd), FL_ENOENT. */
static int al_job_one(be *b, int id, const struct params *q,
		      fl_db_alert_job *out, const char *what)
{
	PGresult *r;
	int rc;

	if ((rc = row_q(b, id, q, &r, what)))
		return rc;
	col_copy(r, 0, out->name, sizeof(out->name));
	col_copy(r, 1, out->kind, sizeof(out->kind));
	col_copy(r, 2, out->dest, sizeof(out->dest));
	out->mqtt = atoi(PQgetvalue(r, 0, 3));
	out->body = strdup(PQgetvalue(r, 0, 4));
	out->attempts = atoi(PQgetvalue(r, 0, 5));
	out->next = col_time(r, 6);
	out->created = col_time(r, 7);
	col_copy(r, 8, out->after, sizeof(out->after));
	col_copy(r, 9, out->state, sizeof(out->state));
	col_copy(r, 10, out->holder, sizeof(out->holder));
	out->lease = col_time(r, 11);
	PQclear(r);
	return out->body ? 0 : FL_ENOMEM;
}

static int be_alert_outbox(void *p, long long *n)
{
	struct params q = { 0 };
	PGresult *r;
	int rc;

	if ((rc = row_q(p, S_AL_OUTBOX, &q, &r, "alert_outbox")))
		return rc;
	*n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

static int be_alert_job_get(void *p, const char *name, fl_db_alert_job *out)
{
	struct params q = { 0 };

	pt(&q, name);
	return al_job_one(p, S_AL_JOB_GET, &q, out, "alert_job_get");
}

static int be_alert_claim(void *p, const char *holder, int mqtt, double now,
			  double until, fl_db_alert_job *out)
{
	struct params q = { 0 };

	pt(&q, holder);
	pd(&q, until);
	pi(&q, mqtt);
	pd(&q, now);
	return al_job_one(p, S_AL_CLAIM, &q, out, "alert_claim");
}

static int be_alert_renew(void *p, const char *name, const char *holder,
			  double until)
{
	struct params q = { 0 };

	pt(&q, name);
	pt(&q, holder);
	pd(&q, until);
	return run_cmd(p, S_AL_RENEW, &q, 1, "alert_renew");
}

static int be_alert_job_end(void *p, const char *name, const char *holder,
			    const char *state, int attempts, double next,
			    double wall)
{
	struct params q = { 0 };

	pt(&q, name);
	pt(&q, holder);
	pt(&q, state);
	pi(&q, attempts);
	pd(&q, next);
	pd(&q, wall);
	return run_cmd(p, S_AL_JOB_END, &q, 1, "alert_job_end");
}

static int be_alert_unhold(void *p, const char *holder, long *n)
{
	struct params q = { 0 };
	long k = 0;
	int rc;

	pt(&q, holder);
	if ((rc = changes_q(p, S_AL_UNHOLD_JOBS, &q, n, "alert_unhold")) ||
	    (rc = changes_q(p, S_AL_UNHOLD_CLOCKS, &q, &k, "alert_unhold")))
		return rc;
	*n += k;
	return 0;
}

static int be_alert_prune(void *p, double before, long *n)
{
	struct params q = { 0 };

	pd(&q, before);
	return changes_q(p, S_AL_PRUNE, &q, n, "alert_prune");
}

static int be_alert_clock_add(void *p, const fl_db_alert_clock *c, int *added)
{
	struct params q = { 0 };

	pt(&q, c->iid);
	pt(&q, c->kind);
	pd(&q, isfinite(c->due) ? c->due : NAN);
	pi(&q, c->forced ? 1 : 0);
	pt(&q, c->info);
	return run_added(p, S_AL_CLOCK_ADD, &q, added, "alert_clock_add");
}

static int be_alert_clock_force(void *p, const char *iid, const char *kind)
{
	struct params q = { 0 };

	pt(&q, iid);
	pt(&q, kind);
	return run_cmd(p, S_AL_CLOCK_FORCE, &q, 1, "alert_clock_force");
}

/* Statement id with q answering one AL_CLOCK_COLS row: into *out. */
static int al_clock_one(be *b, int id, const struct params *q,
			fl_db_alert_clock *out, const char *what)
{
	PGresult *r;
	int rc;

	if ((rc = row_q(b, id, q, &r, what)))
		return rc;
	col_copy(r, 0, out->iid, sizeof(out->iid));
	col_copy(r, 1, out->kind, sizeof(out->kind));
	out->due = col_time(r, 2);
	out->forced = atoi(PQgetvalue(r, 0, 3));
	out->info = strdup(PQgetvalue(r, 0, 4));
	col_copy(r, 5, out->holder, sizeof(out->holder));
	PQclear(r);
	return out->info ? 0 : FL_ENOMEM;
}

static int be_alert_clock_get(void *p, const char *iid, const char *kind,
			      fl_db_alert_clock *out)
{
	struct params q = { 0 };

	pt(&q, iid);
	pt(&q, kind);
	return al_clock_one(p, S_AL_CLOCK_GET, &q, out, "alert_clock_get");
}

static int be_alert_clock_claim(void *p, const char *holder, double now,
				double until, fl_db_alert_clock *out)
{
	struct params q = { 0 };

	pt(&q, holder);
	pd(&q, until);
	pd(&q, now);
	return al_clock_one(p, S_AL_CLOCK_CLAIM, &q, out, "alert_clock_claim");
}

static int be_alert_clock_end(void *p, const char *iid, const char *kind,
			      const char *holder, int keep)
{
	struct params q = { 0 };

	pt(&q, iid);
	pt(&q, kind);
	pt(&q, holder);
	return run_cmd(p, keep ? S_AL_CLOCK_FREE : S_AL_CLOCK_DEL, &q, 1,
		       "alert_clock_end");
}

const fl__db_ops fl__db_pg_ops = {
	.name = "postgresql",
	.close = be_close,
	.errmsg = be_errmsg,
	.schema_version = be_schema_version,
	.set_durable = be_set_durable,
	.tx = be_tx,
	.event_exists = be_event_exists,
	.incident_get = be_incident_get,
	.incident_put = be_incident_put,
	.event_add = be_event_add,
	.plate_read = be_plate_read,
	.plate_set = be_plate_set,
	.incident_site = be_incident_site,
	.incident_row = be_incident_row,
	.incident_events = be_incident_events,
	.incident_evidence = be_incident_evidence,
	.incident_outcomes = be_incident_outcomes,
	.incident_verdict = be_incident_verdict,
	.incident_verified = be_incident_verified,
	.incident_pruned = be_incident_pruned,
	.evidence_put = be_evidence_put,
	.incident_outcome = be_incident_outcome,
	.outcome_add = be_outcome_add,
	.audit = be_audit,
	.audit_count = be_audit_count,
	.audit_rows = be_audit_rows,
	.device_put = be_device_put,
	.device_get = be_device_get,
	.device_seen = be_device_seen,
	.device_status = be_device_status,
	.receipt_rows = be_receipt_rows,
	.devices_rows = be_devices_rows,
	.cameras_rows = be_cameras_rows,
	.camera_get = be_camera_get,
	.camera_put = be_camera_put,
	.incidents_count = be_incidents_count,
	.incidents_rows = be_incidents_rows,
	.evidence_file = be_evidence_file,
	.evidence_tampered = be_evidence_tampered,
	.evidence_scan = be_evidence_scan,
	.quarantine_add = be_quarantine_add,
	.quarantine_trim = be_quarantine_trim,
	.quarantine_count = be_quarantine_count,
	.quarantine_rows = be_quarantine_rows,
	.user_add = be_user_add,
	.user_set_hash = be_user_set_hash,
	.user_get = be_user_get,
	.user_delete = be_user_delete,
	.users_rows = be_users_rows,
	.login_get = be_login_get,
	.login_fail = be_login_fail,
	.login_prune = be_login_prune,
	.login_reset = be_login_reset,
	.session_add = be_session_add,
	.session_get = be_session_get,
	.session_touch = be_session_touch,
	.session_delete = be_session_delete,
	.session_delete_user = be_session_delete_user,
	.session_prune = be_session_prune,
	.session_count = be_session_count,
	.session_view = be_session_view,
	.report_counts = be_report_counts,
	.report_times = be_report_times,
	.report_rows = be_report_rows,
	.plate_msgs = be_plate_msgs,
	.event_json_set = be_event_json_set,
	.plates_clear = be_plates_clear,
	.register_clear = be_register_clear,
	.register_add = be_register_add,
	.register_get = be_register_get,
	.register_rows = be_register_rows,
	.register_prune = be_register_prune,
	.config_add = be_config_add,
	.config_latest = be_config_latest,
	.config_get = be_config_get,
	.config_rows = be_config_rows,
	.config_applied = be_config_applied,
	.enrol_add = be_enrol_add,
	.enrol_get = be_enrol_get,
	.enrol_use = be_enrol_use,
	.enrol_release = be_enrol_release,
	.enrol_rows = be_enrol_rows,
	.enrol_delete = be_enrol_delete,
	.alert_lock = be_alert_lock,
	.alert_mark = be_alert_mark,
	.alert_marked = be_alert_marked,
	.alert_job_add = be_alert_job_add,
	.alert_outbox = be_alert_outbox,
	.alert_job_get = be_alert_job_get,
	.alert_claim = be_alert_claim,
	.alert_renew = be_alert_renew,
	.alert_job_end = be_alert_job_end,
	.alert_unhold = be_alert_unhold,
	.alert_prune = be_alert_prune,
	.alert_clock_add = be_alert_clock_add,
	.alert_clock_force = be_alert_clock_force,
	.alert_clock_get = be_alert_clock_get,
	.alert_clock_claim = be_alert_clock_claim,
	.alert_clock_end = be_alert_clock_end,
};
