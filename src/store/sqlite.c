/*
 * sqlite.c - the store's SQLite backend: SQL and row mapping, nothing else
 * (backend.h says where the line is).
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
 * Rows for the HTTP layer are objects keyed by the SELECT's column names
 * (row_obj); everything they become is decided above the backend.
 */
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "fl.h"

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

	/* 6: failed logins per (user, address), user '' for an address's
	 *    failures under any name: the login throttle, shared by every
	 *    process on the store (the hub's workers, --unlock-user) */
	"CREATE TABLE login_failures ("
	" user TEXT NOT NULL,"
	" addr TEXT NOT NULL,"
	" failures INTEGER NOT NULL,"
	" last REAL NOT NULL,"
	" PRIMARY KEY (user, addr));"
	"CREATE INDEX login_failures_last ON login_failures(last);",
	/* 7: when a verified file was found not matching its SHA-256 */
	"ALTER TABLE evidence ADD COLUMN tampered REAL;",
	/* 8: the connection epoch of a device's stored status (statuses are
	 *    ordered by it: an old one sent again changes nothing) */
	"ALTER TABLE devices ADD status_epoch INTEGER NOT NULL DEFAULT 0;",
	/* 9: the site's and the lane's names people read (the device's
	 *    device.site_name and lane name), beside their ids */
	"ALTER TABLE incidents ADD COLUMN site_name TEXT;"
	"ALTER TABLE incidents ADD COLUMN lane_name TEXT;",
	/* 10: who set the plate: 'device' (a read) or the user who entered
	 *     it; a read never overwrites a person's. The resident vehicle
	 *     register, per site (docs/store.md) */
	"ALTER TABLE incidents ADD COLUMN plate_by TEXT;"
	"CREATE TABLE residents ("
	" site TEXT NOT NULL,"
	" plate TEXT NOT NULL,"
	" owner TEXT NOT NULL,"
	" unit TEXT NOT NULL,"
	" phone TEXT NOT NULL,"
	" imported REAL NOT NULL,"
	" imported_by TEXT,"
	" PRIMARY KEY (site, plate));"
	"CREATE INDEX residents_imported ON residents(imported);",
	/* 11: the installer role (users rebuilt: SQLite cannot change a
	 *     CHECK); each device's configuration, versioned, with the
	 *     outcome of sending it (docs/store.md, docs/devices.md) */
	"CREATE TABLE users_new ("
	" name TEXT PRIMARY KEY,"
	" hash TEXT NOT NULL,"
	" role TEXT NOT NULL"
	"  CHECK (role IN ('admin', 'enforcement', 'property',"
	"   'installer')),"
	" sites TEXT NOT NULL DEFAULT '',"
	" created REAL);"
	"INSERT INTO users_new SELECT name, hash, role, sites, created"
	" FROM users;"
	"DROP TABLE users;"
	"ALTER TABLE users_new RENAME TO users;"
	"CREATE TABLE device_configs ("
	" device TEXT NOT NULL,"
	" version INTEGER NOT NULL,"
	" yaml TEXT NOT NULL,"
	" author TEXT NOT NULL,"
	" created REAL NOT NULL,"
	" note TEXT,"
	" applied REAL,"
	" apply_ok INTEGER,"
	" apply_error TEXT,"
	" PRIMARY KEY (device, version));",
	/* 12: one-time enrolment codes (docs/api.md, "Enrolment"): the
	 *     code's SHA-256 only, the device and site it enrols, when it
	 *     expires, when it was used and by which public key */
	"CREATE TABLE enrol_codes ("
	" code_hash TEXT PRIMARY KEY,"
	" device TEXT NOT NULL,"
	" site TEXT NOT NULL,"
	" created REAL NOT NULL,"
	" expires REAL NOT NULL,"
	" used REAL,"
	" used_by_key TEXT,"
	" created_by TEXT);"
	"CREATE INDEX enrol_codes_expires ON enrol_codes(expires);",
	/* 13: web sessions, shared by every hub on the store (docs/store.md,
	 *     "Sessions"): the id's SHA-256 only, never the id; the files
	 *     whose view a session has audited go with it */
	"CREATE TABLE sessions ("
	" id_hash TEXT PRIMARY KEY,"
	" csrf TEXT NOT NULL,"
	" user TEXT NOT NULL,"
	" role TEXT NOT NULL,"
	" sites TEXT NOT NULL,"
	" user_created REAL NOT NULL,"
	" started REAL NOT NULL,"
	" seen REAL NOT NULL);"
	"CREATE INDEX sessions_seen ON sessions(seen);"
	"CREATE INDEX sessions_user ON sessions(user);"
	"CREATE TABLE session_views ("
	" id_hash TEXT NOT NULL"
	"  REFERENCES sessions(id_hash) ON DELETE CASCADE,"
	" key TEXT NOT NULL,"
	" PRIMARY KEY (id_hash, key));",
	/* 14: the alerts, shared by every hub on the store (docs/store.md,
	 *     "Alerts"): jobs with their claim (holder, lease), the steps
	 *     of an incident already handled, the escalation and owner
	 *     clocks with their claim */
	"CREATE TABLE alert_jobs ("
	" name TEXT PRIMARY KEY,"
	" incident_id TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" dest TEXT NOT NULL,"
	" mqtt INTEGER NOT NULL,"
	" body TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_try REAL NOT NULL DEFAULT 0,"
	" created REAL NOT NULL,"
	" after_job TEXT,"
	" state TEXT NOT NULL DEFAULT 'outbox'"
	"  CHECK (state IN ('outbox', 'sent', 'failed')),"
	" holder TEXT,"
	" lease REAL,"
	" done REAL);"
	"CREATE INDEX alert_jobs_due ON alert_jobs(mqtt, next_try)"
	" WHERE state = 'outbox';"
	"CREATE INDEX alert_jobs_holder ON alert_jobs(holder)"
	" WHERE holder IS NOT NULL;"
	"CREATE TABLE alert_made ("
	" incident_id TEXT NOT NULL,"
	" step TEXT NOT NULL,"
	" wall REAL,"
	" PRIMARY KEY (incident_id, step));"
	"CREATE TABLE alert_clocks ("
	" incident_id TEXT NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('escalate', 'owner')),"
	" due REAL,"
	" forced INTEGER NOT NULL DEFAULT 0,"
	" info TEXT NOT NULL,"
	" holder TEXT,"
	" lease REAL,"
	" PRIMARY KEY (incident_id, kind));",
	/* 15: a claim takes the first due job from the index in its order
	 * (the one of 14 left a sort of the whole outbox per claim) */
	"DROP INDEX alert_jobs_due;"
	"CREATE INDEX alert_jobs_due ON alert_jobs(mqtt, next_try, created)"
	" WHERE state = 'outbox';",
};

#define LATEST ((int)FL_ARRAY_SIZE(MIGRATIONS))

int fl__db_sqlite_latest(void)
{
	return LATEST;
}

/* ---- statements ---------------------------------------------------------------- */

enum {
	S_VERSION,
	S_DEV_PUT,
	S_DEV_GET,
	S_DEV_SEEN,
	S_DEV_STATUS,
	S_DEV_RECEIPTS,
	S_DEVICES,
	S_CAMERAS,
	S_CAM_GET,
	S_CAM_PUT,
	S_EV_EXISTS,
	S_INC_GET,
	S_INC_SET,
	S_INC_NEW,
	S_EV_INSERT,
	S_INC_SITE,
	S_INC_VERIFIED,
	S_INC_VERDICT,
	S_INC_PRUNED,
	S_INC_OUTCOME,
	S_INC_PLATE_READ,
	S_INC_PLATE_SET,
	S_REG_CLEAR,
	S_REG_ADD,
	S_REG_GET,
	S_REG_ROWS,
	S_REG_PRUNE,
	S_CONF_ADD,
	S_CONF_GET,
	S_CONF_LATEST,
	S_CONF_ROWS,
	S_CONF_APPLIED,
	S_PLATE_PRUNE_MSG,
	S_EV_JSON_SET,
	S_PLATE_PRUNE_INC,
	S_OUTCOME_ADD,
	S_EVIDENCE_PUT,
	S_EVIDENCE_FILE,
	S_EVIDENCE_TAMPERED,
	S_EVIDENCE_SCAN,
	S_INC_LIST,
	S_INC_COUNT,
	S_INC_LIST_S,
	S_INC_COUNT_S,
	S_INC_ONE,
	S_INC_EVENTS,
	S_INC_EVIDENCE,
	S_INC_OUTCOMES,
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
	S_ENROL_ADD,
	S_ENROL_GET,
	S_ENROL_USE,
	S_ENROL_LIST,
	S_ENROL_DELETE,
	S_ENROL_RELEASE,
	S_AUDIT_ADD,
	S_AUDIT_LIST,
	S_AUDIT_COUNT,
	S_REP_COUNTS,
	S_REP_TIMES,
	S_REP_STATUS,
	S_REP_OUTCOMES,
	S_REP_SPOTS,
	S_REP_PLATES,
	S_REP_DAYS,
	S_REP_DAY_OUTCOMES,
	/* the same with a site (site = ?1: the (site, start) index) */
	S_REP_COUNTS_S,
	S_REP_TIMES_S,
	S_REP_STATUS_S,
	S_REP_OUTCOMES_S,
	S_REP_SPOTS_S,
	S_REP_PLATES_S,
	S_REP_DAYS_S,
	S_REP_DAY_OUTCOMES_S,
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

/* The filter every incident list uses: ?1 site, ?2 lane, ?3 status,
 * ?4 outcome ('none': not recorded), ?5 from, ?6 to, ?7 allowed sites. */
#define INC_AND                                                                \
	" AND (?2 IS NULL OR lane = ?2)"                                       \
	" AND (?3 IS NULL OR status = ?3)"                                     \
	" AND (?4 IS NULL OR outcome = ?4"                                     \
	"  OR (?4 = 'none' AND outcome IS NULL))"                              \
	" AND (?5 IS NULL OR start >= ?5) AND (?6 IS NULL OR start < ?6)"      \
	" AND (?7 IS NULL OR instr(',' || ?7 || ',', ',' || site || ',') > 0)" \
	" AND (?10 IS NULL OR instr(upper(plate), upper(?10)) > 0)"
/* "(?1 IS NULL OR site = ?1)" cannot use the (site, start) index, so a list
 * of one site has statements of its own (the count would scan every
 * incident otherwise). */
#define INC_WHERE " WHERE (?1 IS NULL OR site = ?1)" INC_AND
#define INC_WHERE_S " WHERE site = ?1" INC_AND

#define INC_COLS                                                               \
	"incident_id, site, lane, camera, device, status, start, rest_since,"  \
	" occupied, alarm, cleared, closed, outcome, class, plate, last_seq,"  \
	" verified, (SELECT min(e.tampered) FROM evidence e"                   \
	" WHERE e.incident_id = incidents.incident_id) AS tampered,"           \
	" site_name, lane_name"

/* Reports: ?1 site, ?2 from, ?3 to (always bound: unbounded is
 * -/+1e300), so the start index (and the (site, start) index in the
 * per-site statements) bound the scan to the window; ?4 the fewest
 * incidents of a repeat, ?5 the most rows (spots, plates), or the
 * offset of the days from UTC. */
#define REP_WHERE " WHERE start >= ?2 AND start < ?3"
#define REP_WHERE_S " WHERE site = ?1 AND start >= ?2 AND start < ?3"

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
	" GROUP BY site, camera, lane HAVING count(*) >= ?4"                   \
	" ORDER BY 4 DESC, 1, 2, 3 LIMIT ?5"
#define REP_PLATES(W)                                                          \
	"SELECT plate, count(*) AS incidents,"                                 \
	" group_concat(DISTINCT site) AS sites FROM incidents" W               \
	" AND plate IS NOT NULL AND plate <> ''"                               \
	" GROUP BY plate HAVING count(*) >= ?4 ORDER BY 2 DESC, 1"             \
	" LIMIT ?5"
#define REP_DAY "strftime('%Y-%m-%d', start + ?4, 'unixepoch') AS day"
#define REP_DAYS(W)                                                            \
	"SELECT " REP_DAY ", count(*) AS incidents, count(alarm) AS alarms"    \
	" FROM incidents" W " AND start IS NOT NULL"                           \
	" GROUP BY 1 ORDER BY 1"
#define REP_DAY_OUTCOMES(W)                                                    \
	"SELECT " REP_DAY ", outcome, count(*) AS n"                           \
	" FROM incidents" W " AND start IS NOT NULL"                           \
	" AND outcome IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"

/* an alert job's and a clock's columns, in the order al_job_row and
 * al_clock_row read them */
#define AL_JOB_COLS                                                            \
	"name, kind, dest, mqtt, body, attempts, next_try, created,"           \
	" after_job, state, holder, lease"
#define AL_CLOCK_COLS "incident_id, kind, due, forced, info, holder"

static const char *const SQL[S_COUNT] = {
	[S_VERSION] = "SELECT version FROM schema_version",
	[S_DEV_PUT] =
		"INSERT INTO devices (device, site, public_key, enrolled)"
		" VALUES (?1, ?2, ?3, ?4) ON CONFLICT (device) DO UPDATE SET"
		" site = excluded.site, public_key = excluded.public_key,"
		" enrolled = excluded.enrolled",
	[S_DEV_GET] = "SELECT site, public_key FROM devices WHERE device = ?1",
	[S_DEV_SEEN] = "UPDATE devices SET status = COALESCE(?2, status),"
		       " last_seen = ?3, heartbeat = COALESCE(?4, heartbeat),"
		       " status_epoch = COALESCE(?5, status_epoch)"
		       " WHERE device = ?1",
	[S_DEV_STATUS] = "SELECT status, status_epoch FROM devices"
			 " WHERE device = ?1",
	/* ?1 device, ?2 since, ?3 max: the (device, start) index bounds
	 * the scan to the window */
	[S_DEV_RECEIPTS] =
		"SELECT i.incident_id, e.sha256 FROM incidents i"
		" JOIN evidence e ON e.incident_id = i.incident_id"
		" AND e.name = 'manifest.json'"
		" WHERE i.device = ?1 AND i.start >= ?2 AND i.verified = 1"
		" ORDER BY i.start DESC, i.incident_id DESC LIMIT ?3",
	[S_DEVICES] = "SELECT device, site, status, last_seen, enrolled,"
		      " heartbeat FROM devices ORDER BY site, device",
	[S_CAMERAS] = "SELECT device, camera, state, problems, reason, since,"
		      " last_event FROM cameras ORDER BY device, camera",
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
	[S_EV_EXISTS] = "SELECT json FROM incident_events"
			" WHERE incident_id = ?1 AND seq = ?2",
	[S_INC_GET] =
		"SELECT device, site, camera, lane, status, status_seq, start,"
		" rest_since, occupied, alarm, cleared, closed, last_seq, bbox,"
		" class, plate, site_name, lane_name FROM incidents"
		" WHERE incident_id = ?1",
	/* an existing incident is updated, a new one inserted (one
	 * statement each: ingest knows which) */
	[S_INC_SET] =
		"UPDATE incidents SET device = ?2, site = ?3, camera = ?4,"
		" lane = ?5, status = ?6, status_seq = ?7, start = ?8,"
		" rest_since = ?9, occupied = ?10, alarm = ?11, cleared = ?12,"
		" closed = ?13, last_seq = ?14, bbox = ?15, class = ?16,"
		" plate = ?17, site_name = ?18, lane_name = ?19"
		" WHERE incident_id = ?1",
	[S_INC_NEW] =
		"INSERT INTO incidents (incident_id, device, site, camera,"
		" lane, status, status_seq, start, rest_since, occupied, alarm,"
		" cleared, closed, last_seq, bbox, class, plate, site_name,"
		" lane_name) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
		" ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
	[S_EV_INSERT] =
		"INSERT INTO incident_events (incident_id, seq, type, wall,"
		" received, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_INC_SITE] = "SELECT site FROM incidents WHERE incident_id = ?1",
	[S_INC_VERIFIED] =
		"UPDATE incidents SET verified = ?2, verify_report = ?3,"
		" evidence_pruned = ?4 WHERE incident_id = ?1",
	[S_INC_VERDICT] = "SELECT verified FROM incidents"
			  " WHERE incident_id = ?1",
	[S_INC_PRUNED] = "UPDATE incidents SET evidence_pruned = ?2"
			 " WHERE incident_id = ?1",
	/* a device's read: only over another read, never over a person's */
	[S_INC_PLATE_READ] = "UPDATE incidents SET plate = ?2,"
			     " plate_by = 'device' WHERE incident_id = ?1"
			     " AND (plate_by IS NULL OR plate_by = 'device')",
	[S_INC_PLATE_SET] = "UPDATE incidents SET plate = ?2, plate_by = ?3"
			    " WHERE incident_id = ?1",
	[S_REG_CLEAR] = "DELETE FROM residents WHERE site = ?1",
	[S_REG_ADD] = "INSERT INTO residents (site, plate, owner, unit, phone,"
		      " imported, imported_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
		      " ?7)",
	[S_REG_GET] = "SELECT plate, owner, unit, phone FROM residents"
		      " WHERE site = ?1 AND plate = ?2",
	[S_REG_ROWS] = "SELECT plate, owner, unit, phone, imported,"
		       " imported_by FROM residents WHERE site = ?1"
		       " ORDER BY plate",
	[S_REG_PRUNE] = "DELETE FROM residents WHERE imported < ?1",
	[S_CONF_ADD] = "INSERT INTO device_configs (device, version, yaml,"
		       " author, created, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_CONF_GET] = "SELECT version, yaml, author, created, note, applied,"
		       " apply_ok, apply_error FROM device_configs"
		       " WHERE device = ?1 AND version = ?2",
	[S_CONF_LATEST] = "SELECT COALESCE(MAX(version), 0) FROM device_configs"
			  " WHERE device = ?1",
	[S_CONF_ROWS] = "SELECT version, author, created, note, applied,"
			" apply_ok, apply_error FROM device_configs"
			" WHERE device = ?1 ORDER BY version DESC",
	[S_CONF_APPLIED] = "UPDATE device_configs SET applied = ?3,"
			   " apply_ok = ?4, apply_error = ?5"
			   " WHERE device = ?1 AND version = ?2",
	/* the messages of incidents closed before ?1 that may name a plate:
	 * the word, or an escape that may spell it (register.c decides) */
	[S_PLATE_PRUNE_MSG] =
		"SELECT incident_id, seq, json FROM incident_events"
		" WHERE (instr(json, 'plate') > 0 OR instr(json, '\\u') > 0)"
		" AND incident_id IN"
		" (SELECT incident_id FROM incidents WHERE closed < ?1)",
	[S_EV_JSON_SET] = "UPDATE incident_events SET json = ?3"
			  " WHERE incident_id = ?1 AND seq = ?2",
	[S_PLATE_PRUNE_INC] =
		"UPDATE incidents SET plate = NULL, plate_by = NULL"
		" WHERE closed < ?1 AND plate IS NOT NULL"
		" AND (plate_by IS NULL OR plate_by = 'device')",
	[S_INC_OUTCOME] = "UPDATE incidents SET outcome = ?2"
			  " WHERE incident_id = ?1",
	[S_OUTCOME_ADD] = "INSERT INTO outcomes (incident_id, outcome, note,"
			  " user, wall) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_EVIDENCE_PUT] =
		"INSERT INTO evidence (incident_id, name, sha256, bytes, kind,"
		" verified) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT (incident_id, name) DO UPDATE SET"
		" sha256 = excluded.sha256, bytes = excluded.bytes,"
		" kind = excluded.kind, verified = excluded.verified",
	/* the columns of fl_db_evfile, in its order */
	[S_EVIDENCE_FILE] =
		"SELECT e.incident_id, e.name, e.sha256, e.bytes, e.tampered,"
		" i.verified, i.evidence_pruned FROM evidence e"
		" JOIN incidents i ON i.incident_id = e.incident_id"
		" WHERE e.incident_id = ?1 AND e.name = ?2",
	[S_EVIDENCE_TAMPERED] = "UPDATE evidence SET tampered = ?3"
				" WHERE incident_id = ?1 AND name = ?2",
	/* the primary key (incident_id, name) orders and bounds the walk */
	[S_EVIDENCE_SCAN] =
		"SELECT e.incident_id, e.name, e.sha256, e.bytes, e.tampered,"
		" i.verified, i.evidence_pruned FROM evidence e"
		" JOIN incidents i ON i.incident_id = e.incident_id"
		" WHERE (e.incident_id, e.name) > (?1, ?2) AND i.verified = 1"
		" AND i.evidence_pruned IS NULL"
		" ORDER BY e.incident_id, e.name LIMIT ?3",
	[S_INC_LIST] = "SELECT " INC_COLS " FROM incidents" INC_WHERE
		       " ORDER BY start DESC, incident_id DESC"
		       " LIMIT ?8 OFFSET ?9",
	[S_INC_COUNT] = "SELECT count(*) FROM incidents" INC_WHERE,
	[S_INC_LIST_S] = "SELECT " INC_COLS " FROM incidents" INC_WHERE_S
			 " ORDER BY start DESC, incident_id DESC"
			 " LIMIT ?8 OFFSET ?9",
	[S_INC_COUNT_S] = "SELECT count(*) FROM incidents" INC_WHERE_S,
	[S_INC_ONE] = "SELECT " INC_COLS ", evidence_pruned, bbox,"
		      " verify_report, plate_by FROM incidents"
		      " WHERE incident_id = ?1",
	[S_INC_EVENTS] = "SELECT seq, type, wall, received, json"
			 " FROM incident_events WHERE incident_id = ?1"
			 " ORDER BY seq",
	[S_INC_EVIDENCE] = "SELECT name, sha256, bytes, kind, verified,"
			   " tampered"
			   " FROM evidence WHERE incident_id = ?1"
			   " ORDER BY rowid",
	[S_INC_OUTCOMES] = "SELECT outcome, note, user, wall FROM outcomes"
			   " WHERE incident_id = ?1 ORDER BY id",
	[S_QUARANTINE] = "INSERT INTO quarantine (topic, payload, reason, wall)"
			 " VALUES (?1, ?2, ?3, ?4)",
	[S_QUAR_LIST] = "SELECT id, topic, reason, wall, payload"
			" FROM quarantine ORDER BY id DESC LIMIT ?1 OFFSET ?2",
	[S_QUAR_COUNT] = "SELECT count(*) FROM quarantine",
	/* the rows older than the keep-th newest (?1 = keep) */
	[S_QUAR_TRIM] = "DELETE FROM quarantine WHERE id <= (SELECT id FROM"
			" quarantine ORDER BY id DESC LIMIT 1 OFFSET ?1)",
	[S_USER_ADD] = "INSERT INTO users (name, hash, role, sites, created)"
		       " VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_USER_SETHASH] = "UPDATE users SET hash = ?2 WHERE name = ?1",
	[S_USER_GET] = "SELECT hash, role, sites, created FROM users"
		       " WHERE name = ?1",
	[S_USERS_LIST] = "SELECT name, role, sites, created FROM users"
			 " ORDER BY name",
	[S_USER_DELETE] = "DELETE FROM users WHERE name = ?1",
	[S_LOGIN_GET] = "SELECT failures, last FROM login_failures"
			" WHERE user = ?1 AND addr = ?2",
	/* one more failure; a count last touched at ?4 or before starts again */
	[S_LOGIN_FAIL] =
		"INSERT INTO login_failures (user, addr, failures, last)"
		" VALUES (?1, ?2, 1, ?3)"
		" ON CONFLICT (user, addr) DO UPDATE SET"
		" failures = CASE WHEN last <= ?4 THEN 1"
		" ELSE failures + 1 END, last = ?3",
	/* rows last touched before ?1, and beyond the ?2 newest */
	[S_LOGIN_PRUNE] = "DELETE FROM login_failures WHERE last < ?1"
			  " OR rowid IN (SELECT rowid FROM login_failures"
			  " ORDER BY last DESC LIMIT -1 OFFSET ?2)",
	[S_LOGIN_RESET] = "DELETE FROM login_failures WHERE user = ?1"
			  " AND (?2 IS NULL OR addr = ?2)",
	[S_SESS_ADD] = "INSERT INTO sessions (id_hash, csrf, user, role, sites,"
		       " user_created, started, seen)"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[S_SESS_GET] = "SELECT csrf, user, role, sites, user_created, seen"
		       " FROM sessions WHERE id_hash = ?1",
	[S_SESS_TOUCH] = "UPDATE sessions SET seen = ?2 WHERE id_hash = ?1",
	/* the views go with a session (ON DELETE CASCADE) */
	[S_SESS_DELETE] = "DELETE FROM sessions WHERE id_hash = ?1",
	[S_SESS_DELETE_USER] = "DELETE FROM sessions WHERE user = ?1",
	[S_SESS_PRUNE] = "DELETE FROM sessions WHERE seen <= ?1",
	[S_SESS_COUNT] = "SELECT count(*) FROM sessions WHERE seen > ?1",
	/* only for a session that exists; a second view adds nothing */
	[S_SESS_VIEW] = "INSERT INTO session_views (id_hash, key)"
			" SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM sessions"
			" WHERE id_hash = ?1) ON CONFLICT DO NOTHING",
	[S_ENROL_ADD] = "INSERT INTO enrol_codes (code_hash, device, site,"
			" created, expires, created_by)"
			" VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_ENROL_GET] = "SELECT device, site, expires, used FROM enrol_codes"
			" WHERE code_hash = ?1",
	/* only an unused code: a second use changes no row */
	[S_ENROL_USE] = "UPDATE enrol_codes SET used = ?2, used_by_key = ?3"
			" WHERE code_hash = ?1 AND used IS NULL",
	/* the pending codes (not used, not expired at ?1): what the admin
	 * page lists; the rowid names one for revoking */
	[S_ENROL_LIST] = "SELECT rowid AS id, device, site, created, expires,"
			 " created_by FROM enrol_codes"
			 " WHERE used IS NULL AND expires > ?1"
			 " AND (?2 IS NULL OR instr(',' || ?2 || ',',"
			 " ',' || site || ',') > 0)"
			 " ORDER BY created DESC",
	[S_ENROL_DELETE] = "DELETE FROM enrol_codes WHERE rowid = ?1"
			   " AND used IS NULL AND (?2 IS NULL OR"
			   " instr(',' || ?2 || ',', ',' || site || ',') > 0)",
	[S_ENROL_RELEASE] = "UPDATE enrol_codes SET used = NULL,"
			    " used_by_key = NULL WHERE code_hash = ?1",
	[S_AUDIT_ADD] = "INSERT INTO audit (user, action, object, detail, wall)"
			" VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_AUDIT_LIST] =
		"SELECT id, user, action, object, detail, wall FROM audit"
		" WHERE (?1 IS NULL OR object = ?1)"
		" ORDER BY id DESC LIMIT ?2 OFFSET ?3",
	[S_AUDIT_COUNT] = "SELECT count(*) FROM audit"
			  " WHERE (?1 IS NULL OR object = ?1)",
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
	[S_AL_MARK] = "INSERT INTO alert_made (incident_id, step, wall)"
		      " VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
	[S_AL_MARKED] = "SELECT 1 FROM alert_made"
			" WHERE incident_id = ?1 AND step = ?2",
	[S_AL_JOB_ADD] =
		"INSERT INTO alert_jobs (name, incident_id, kind, dest, mqtt,"
		" body, attempts, next_try, created, after_job, state)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
		" ON CONFLICT DO NOTHING",
	[S_AL_OUTBOX] = "SELECT count(*) FROM alert_jobs"
			" WHERE state = 'outbox'",
	[S_AL_JOB_GET] = "SELECT " AL_JOB_COLS " FROM alert_jobs"
			 " WHERE name = ?1",
	/* one statement, so atomic under SQLite's write lock */
	[S_AL_CLAIM] =
		"UPDATE alert_jobs SET holder = ?1, lease = ?2 WHERE name = ("
		" SELECT j.name FROM alert_jobs j WHERE j.state = 'outbox'"
		" AND j.mqtt = ?3 AND j.next_try <= ?4"
		" AND (j.holder IS NULL OR j.lease <= ?4)"
		/* the all-clear's alarm looked up by its key, per candidate:
		 * NOT EXISTS under the OR read the whole table per claim */
		" AND (j.after_job IS NULL OR (SELECT a.state"
		"  FROM alert_jobs a WHERE a.name = j.after_job)"
		"  IS DISTINCT FROM 'outbox')"
		" ORDER BY j.next_try, j.created LIMIT 1)"
		" RETURNING " AL_JOB_COLS,
	[S_AL_RENEW] = "UPDATE alert_jobs SET lease = ?3 WHERE name = ?1"
		       " AND holder = ?2 AND state = 'outbox'",
	[S_AL_JOB_END] =
		"UPDATE alert_jobs SET state = ?3, attempts = ?4,"
		" next_try = ?5, done = CASE WHEN ?3 = 'outbox' THEN NULL"
		" ELSE ?6 END, holder = NULL, lease = NULL"
		" WHERE name = ?1 AND holder = ?2 AND state = 'outbox'",
	[S_AL_UNHOLD_JOBS] = "UPDATE alert_jobs SET holder = NULL,"
			     " lease = NULL WHERE holder = ?1",
	[S_AL_PRUNE] = "DELETE FROM alert_jobs WHERE state <> 'outbox'"
		       " AND done < ?1",
	[S_AL_UNHOLD_CLOCKS] = "UPDATE alert_clocks SET holder = NULL,"
			       " lease = NULL WHERE holder = ?1",
	[S_AL_CLOCK_ADD] =
		"INSERT INTO alert_clocks (incident_id, kind, due, forced,"
		" info) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
	[S_AL_CLOCK_FORCE] = "UPDATE alert_clocks SET forced = 1"
			     " WHERE incident_id = ?1 AND kind = ?2",
	[S_AL_CLOCK_GET] = "SELECT " AL_CLOCK_COLS " FROM alert_clocks"
			   " WHERE incident_id = ?1 AND kind = ?2",
	[S_AL_CLOCK_CLAIM] =
		"UPDATE alert_clocks SET holder = ?1, lease = ?2"
		" WHERE (incident_id, kind) = (SELECT incident_id, kind"
		" FROM alert_clocks WHERE (forced = 1 OR due <= ?3)"
		" AND (holder IS NULL OR lease <= ?3)"
		" ORDER BY due LIMIT 1) RETURNING " AL_CLOCK_COLS,
	[S_AL_CLOCK_DEL] = "DELETE FROM alert_clocks WHERE incident_id = ?1"
			   " AND (?2 IS NULL OR kind = ?2)"
			   " AND (?3 IS NULL OR holder = ?3)",
	[S_AL_CLOCK_FREE] = "UPDATE alert_clocks SET holder = NULL,"
			    " lease = NULL WHERE incident_id = ?1"
			    " AND (?2 IS NULL OR kind = ?2)"
			    " AND (?3 IS NULL OR holder = ?3)",
};

typedef struct be {
	sqlite3 *h;
	sqlite3_stmt *st[S_COUNT];
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
		/* a key taken, as PostgreSQL's unique_violation: the same
		 * answer from both backends (a plate twice in a register) */
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY ||
		    rc == SQLITE_CONSTRAINT_UNIQUE)
			return FL_EEXIST;
		return FL_EINVAL;
	case SQLITE_TOOBIG:
	case SQLITE_MISMATCH:
		return FL_EINVAL;
	default:
		return FL_EIO;
	}
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

static int be_tx(void *p, enum fl__db_tx step)
{
	static const char *const sql[] = {
		[FL__TX_BEGIN] = "BEGIN IMMEDIATE",
		[FL__TX_COMMIT] = "COMMIT",
		[FL__TX_ROLLBACK] = "ROLLBACK",
		[FL__TX_SAVEPOINT] = "SAVEPOINT m",
		[FL__TX_RELEASE] = "RELEASE m",
		[FL__TX_ROLLBACK_TO] = "ROLLBACK TO m",
	};

	return exec(p, sql[step]);
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
		fl_seterr(err, errlen, "cannot lock the database: %s",
			  sqlite3_errmsg(b->h));
		return r;
	}
	r = exec(b, "CREATE TABLE IF NOT EXISTS schema_version"
		    " (version INTEGER NOT NULL)");
	v = r < 0 ? r : read_version(b);
	if (v < 0) {
		fl_seterr(err, errlen, "cannot read the schema version: %s",
			  sqlite3_errmsg(b->h));
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
				  sqlite3_errmsg(b->h));
			exec(b, "ROLLBACK");
			return r;
		}
		fl_log(FL_LOG_INFO, TAG, "schema migrated to version %d", n);
	}
	if (target > v && (r = set_version(b, target, v > 0)) < 0) {
		fl_seterr(err, errlen, "cannot record the schema version");
		exec(b, "ROLLBACK");
		return r;
	}
	if ((r = exec(b, "COMMIT")) < 0) {
		fl_seterr(err, errlen, "cannot commit the migration: %s",
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
	int target = max_version > 0 && max_version < LATEST ? max_version
							     : LATEST;

	if (!path || !*path) {
		fl_seterr(err, errlen, "sqlite: no database path");
		return NULL;
	}
	b = calloc(1, sizeof(*b) + strlen(path));
	if (!b) {
		fl_seterr(err, errlen, "out of memory");
		return NULL;
	}
	strcpy(b->path, path);
	if (sqlite3_open_v2(path, &b->h,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		fl_seterr(err, errlen, "sqlite: cannot open %s: %s", path,
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
		fl_seterr(err, errlen, "sqlite: %s: %s", path,
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
	return exec(p, full ? "PRAGMA synchronous = FULL"
			    : "PRAGMA synchronous = NORMAL");
}

static const char *be_errmsg(void *p)
{
	be *b = p;

	return sqlite3_errmsg(b->h);
}

/* The changes of the last statement: 0, or FL_ENOENT when it touched no
 * row. */
static int changed(be *b, int rc)
{
	if (rc < 0)
		return rc;
	return sqlite3_changes(b->h) ? 0 : FL_ENOENT;
}

/* ---- row mapping: a column as JSON (backend.h) ------------------------------------ */

static json_t *col_json(sqlite3_stmt *s, int i)
{
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(s, i));
	case SQLITE_FLOAT:
		return fl__db_real(sqlite3_column_double(s, i));
	case SQLITE_TEXT:
		return fl__db_text((const char *)sqlite3_column_text(s, i),
				   (size_t)sqlite3_column_bytes(s, i));
	case SQLITE_BLOB:
		return fl__db_text(sqlite3_column_blob(s, i),
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

/* All rows of a bound statement into array a. 0 or an fl_errno. */
static int rows(be *b, sqlite3_stmt *s, json_t *a)
{
	int rc;

	if (!s)
		return FL_EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(a, row_obj(s, sqlite3_column_count(s)));
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : dberr(b, "query");
}

/* The rows of statement i bound to key (one text) into a. */
static int rows_of(be *b, int i, const char *key, json_t *a)
{
	sqlite3_stmt *s = stmt(b, i);

	if (!s)
		return FL_EIO;
	bt(s, 1, key);
	return rows(b, s, a);
}

/* The one number a bound count statement answers into *n. */
static int count_of(be *b, sqlite3_stmt *s, long long *n)
{
	int rc;

	if (!s)
		return FL_EIO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : dberr(b, "count");
}

/* A text column as a malloc'd string, NULL for SQL NULL; *oom set when
 * the copy fails. */
static char *col_dup(sqlite3_stmt *s, int i, int *oom)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	char *d;

	if (!t)
		return NULL;
	d = strdup(t);
	if (!d)
		*oom = 1;
	return d;
}

/* A real column, NAN for SQL NULL. */
static double col_time(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL
		       ? NAN
		       : sqlite3_column_double(s, i);
}

static void bind_time(sqlite3_stmt *s, int i, double v)
{
	bd(s, i, v, !isnan(v));
}

/* ---- devices ---------------------------------------------------------------------- */

static int be_device_put(void *p, const char *device, const char *site,
			 const char *pk_b64, double wall)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_DEV_PUT);

	if (!s)
		return FL_EIO;
	bt(s, 1, device);
	bt(s, 2, site);
	bt(s, 3, pk_b64);
	sqlite3_bind_double(s, 4, wall);
	return run(b, s, "enrol");
}

static int be_device_get(void *p, const char *device, char *site,
			 size_t sitelen, char *pk, size_t pklen)
{
	const struct text_out out[] = { { site, sitelen }, { pk, pklen } };

	return row_text(p, S_DEV_GET, device, out, 2, "device_get");
}

static int be_device_seen(void *p, const char *device, const char *status,
			  long long epoch, double wall, const char *hb)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_DEV_SEEN);

	if (!s)
		return FL_EIO;
	bt(s, 1, device);
	bt(s, 2, status);
	sqlite3_bind_double(s, 3, wall);
	bt(s, 4, hb);
	if (epoch >= 0)
		sqlite3_bind_int64(s, 5, epoch);
	else
		sqlite3_bind_null(s, 5);
	return changed(b, run(b, s, "device_seen"));
}

/* lock: nothing to do, the write transaction (BEGIN IMMEDIATE) keeps
 * other writers out already (also for be_incident_verdict) */
static int be_device_status(void *p, const char *device, char *status,
			    size_t statuslen, long long *epoch, int lock)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_DEV_STATUS);
	int rc;

	(void)lock;
	if (!s)
		return FL_EIO;
	bt(s, 1, device);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		copy_col(s, 0, status, statuslen);
		*epoch = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? FL_ENOENT : dberr(b, "device_status");
}

static int be_receipt_rows(void *p, const char *device, double since, int max,
			   json_t *a)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_DEV_RECEIPTS);

	if (!s)
		return FL_EIO;
	bt(s, 1, device);
	sqlite3_bind_double(s, 2, since);
	sqlite3_bind_int(s, 3, max);
	return rows(b, s, a);
}

static int be_devices_rows(void *p, json_t *a)
{
	be *b = p;

	return rows(b, stmt(b, S_DEVICES), a);
}

static int be_cameras_rows(void *p, json_t *a)
{
	be *b = p;

	return rows(b, stmt(b, S_CAMERAS), a);
}

static int be_camera_get(void *p, const char *device, const char *camera,
			 fl__camera *c)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_CAM_GET);
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, device);
	bt(s, 2, camera);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		c->offline = sqlite3_column_int(s, 0);
		copy_col(s, 1, c->problems, sizeof(c->problems));
		copy_col(s, 2, c->state, sizeof(c->state));
		c->since = sqlite3_column_type(s, 3) == SQLITE_NULL
				   ? -1
				   : sqlite3_column_double(s, 3);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? FL_ENOENT : dberr(b, "camera_get");
}

static int be_camera_put(void *p, const char *device, const char *camera,
			 const fl__camera *c, const char *reason,
			 double last_event, int fresh)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_CAM_PUT);

	if (!s)
		return FL_EIO;
	bt(s, 1, device);
	bt(s, 2, camera);
	bt(s, 3, c->state);
	sqlite3_bind_int(s, 4, c->offline);
	bt(s, 5, c->problems);
	bt(s, 6, reason);
	sqlite3_bind_double(s, 7, c->since);
	sqlite3_bind_double(s, 8, last_event);
	/* the write transaction (BEGIN IMMEDIATE) keeps other writers out
	 * from camera_get to here: a fresh row cannot be taken meanwhile */
	(void)fresh;
	return run(b, s, "camera_put");
}

/* ---- incidents -------------------------------------------------------------------- */

static int be_event_exists(void *p, const char *id, unsigned seq, char **json)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_EV_EXISTS);
	int rc, oom = 0;

	if (!s)
		return FL_EIO;
	bt(s, 1, id);
	sqlite3_bind_int64(s, 2, seq);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && json)
		*json = col_dup(s, 0, &oom);
	sqlite3_reset(s);
	if (oom)
		return FL_ENOMEM;
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : dberr(b, "ingest");
}

static int be_incident_get(void *p, const char *id, fl__db_incident *r)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_INC_GET);
	int rc, oom = 0;

	memset(r, 0, sizeof(*r));
	if (!s)
		return FL_EIO;
	bt(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		r->device = col_dup(s, 0, &oom);
		r->site = col_dup(s, 1, &oom);
		r->camera = col_dup(s, 2, &oom);
		r->lane = col_dup(s, 3, &oom);
		r->status = col_dup(s, 4, &oom);
		r->status_seq = sqlite3_column_int64(s, 5);
		r->start = col_time(s, 6);
		r->rest_since = col_time(s, 7);
		r->occupied = col_time(s, 8);
		r->alarm = col_time(s, 9);
		r->cleared = col_time(s, 10);
		r->closed = col_time(s, 11);
		r->last_seq = sqlite3_column_int64(s, 12);
		r->bbox = col_dup(s, 13, &oom);
		r->cls = col_dup(s, 14, &oom);
		r->plate = col_dup(s, 15, &oom);
		r->site_name = col_dup(s, 16, &oom);
		r->lane_name = col_dup(s, 17, &oom);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW && !oom)
		return 0;
	fl__db_incident_free(r);
	if (oom)
		return FL_ENOMEM;
	return rc == SQLITE_DONE ? FL_ENOENT : dberr(b, "incident");
}

/* Bind row r of incident id to statement s (?1 id, ?2.. the columns). */
static void bind_incident(sqlite3_stmt *s, const char *id,
			  const fl__db_incident *r)
{
	bt(s, 1, id);
	bt(s, 2, r->device);
	bt(s, 3, r->site);
	bt(s, 4, r->camera);
	bt(s, 5, r->lane);
	bt(s, 6, r->status);
	sqlite3_bind_int64(s, 7, r->status_seq);
	bind_time(s, 8, r->start);
	bind_time(s, 9, r->rest_since);
	bind_time(s, 10, r->occupied);
	bind_time(s, 11, r->alarm);
	bind_time(s, 12, r->cleared);
	bind_time(s, 13, r->closed);
	sqlite3_bind_int64(s, 14, r->last_seq);
	bt(s, 15, r->bbox);
	bt(s, 16, r->cls);
	bt(s, 17, r->plate);
	bt(s, 18, r->site_name);
	bt(s, 19, r->lane_name);
}

static int be_incident_put(void *p, const char *id, const fl__db_incident *r,
			   int fresh)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, fresh ? S_INC_NEW : S_INC_SET);

	if (!s)
		return FL_EIO;
	bind_incident(s, id, r);
	/* the write transaction (BEGIN IMMEDIATE) keeps other writers out
	 * from incident_get to here: a fresh row cannot be taken */
	return fresh ? run(b, s, "incident insert")
		     : changed(b, run(b, s, "incident update"));
}

static int be_event_add(void *p, const char *id, unsigned seq, const char *type,
			double wall, double received, const char *json)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_EV_INSERT);
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, id);
	sqlite3_bind_int64(s, 2, seq);
	bt(s, 3, type);
	sqlite3_bind_double(s, 4, wall);
	sqlite3_bind_double(s, 5, received);
	bt(s, 6, json);
	if (sqlite3_step(s) == SQLITE_DONE) {
		sqlite3_reset(s);
		return 0;
	}
	/* (incident_id, seq) taken: another writer stored it first */
	if (sqlite3_extended_errcode(b->h) == SQLITE_CONSTRAINT_UNIQUE) {
		sqlite3_reset(s);
		return FL_EEXIST;
	}
	rc = dberr(b, "event insert");
	sqlite3_reset(s);
	return rc;
}

static int be_incident_site(void *p, const char *id, char *site, size_t sitelen)
{
	const struct text_out out[] = { { site, sitelen } };

	return row_text(p, S_INC_SITE, id, out, 1, "incident_site");
}

static int be_incident_verified(void *p, const char *id, int verified,
				const char *report, double pruned)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_INC_VERIFIED);

	if (!s)
		return FL_EIO;
	bt(s, 1, id);
	sqlite3_bind_int(s, 2, verified ? 1 : 0);
	bt(s, 3, report);
	bind_time(s, 4, pruned);
	return changed(b, run(b, s, "verified"));
}

static int be_incident_pruned(void *p, const char *id, double wall)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_INC_PRUNED);

	if (!s)
		return FL_EIO;
	bt(s, 1, id);
	sqlite3_bind_double(s, 2, wall);
	return changed(b, run(b, s, "pruned"));
}

static int be_plate_read(void *p, const char *id, const char *plate)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_INC_PLATE_READ);

	if (!s)
		return FL_EIO;
	bt(s, 1, id);
	bt(s, 2, plate);
	return run(b, s, "plate");
}

static int be_plate_set(void *p, const char *id, const char *plate,
			const char *by)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_INC_PLATE_SET);

	if (!s)
		return FL_EIO;
	bt(s, 1, id);
	bt(s, 2, plate);
	bt(s, 3, by);
	return run(b, s, "plate");
}

static int be_register_clear(void *p, const char *site)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_REG_CLEAR);

	if (!s)
		return FL_EIO;
	bt(s, 1, site);
	return run(b, s, "register");
}

static int be_register_add(void *p, const char *site, const fl_db_resident *r,
			   const char *user, double wall)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_REG_ADD);

	if (!s)
		return FL_EIO;
	bt(s, 1, site);
	bt(s, 2, r->plate);
	bt(s, 3, r->owner);
	bt(s, 4, r->unit);
	bt(s, 5, r->phone);
	sqlite3_bind_double(s, 6, wall);
	bt(s, 7, user);
	return run(b, s, "register");
}

static int be_register_get(void *p, const char *site, const char *plate,
			   json_t **row)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_REG_GET);
	int rc;

	*row = NULL;
	if (!s)
		return FL_EIO;
	bt(s, 1, site);
	bt(s, 2, plate);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*row = row_obj(s, sqlite3_column_count(s));
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return *row ? 0 : FL_ENOMEM;
	return rc == SQLITE_DONE ? FL_ENOENT : dberr(b, "register");
}

static int be_register_rows(void *p, const char *site, json_t *a)
{
	return rows_of(p, S_REG_ROWS, site, a);
}

/* Statement k, whose one parameter is a time, run: the rows it changed
 * into *n (may be NULL). The retention's deletes and clears. */
static int run_before(be *b, int k, double before, long *n, const char *what)
{
	sqlite3_stmt *s = stmt(b, k);
	int rc;

	if (!s)
		return FL_EIO;
	sqlite3_bind_double(s, 1, before);
	rc = run(b, s, what);
	if (rc == 0 && n)
		*n = (long)sqlite3_changes(b->h);
	return rc;
}

static int be_register_prune(void *p, double before, long *n)
{
	return run_before(p, S_REG_PRUNE, before, n, "register prune");
}

static int be_plate_msgs(void *p, double before, json_t *a)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_PLATE_PRUNE_MSG);

	if (!s)
		return FL_EIO;
	sqlite3_bind_double(s, 1, before);
	return rows(b, s, a);
}

static int be_event_json_set(void *p, const char *id, long long seq,
			     const char *json)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_EV_JSON_SET);

	if (!s)
		return FL_EIO;
	bt(s, 1, id);
	sqlite3_bind_int64(s, 2, seq);
	bt(s, 3, json);
	return changed(b, run(b, s, "plate prune (message)"));
}

static int be_plates_clear(void *p, double before, long *n)
{
	return run_before(p, S_PLATE_PRUNE_INC, before, n, "plate prune");
}

static int be_incident_outcome(void *p, const char *id, const char *outcome)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_INC_OUTCOME);

	if (!s)
		return FL_EIO;
	bt(s, 1, id);
	bt(s, 2, outcome);
	return changed(b, run(b, s, "outcome"));
}

static int be_outcome_add(void *p, const char *id, const char *outcome,
			  const char *note, const char *user, double wall)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_OUTCOME_ADD);

	if (!s)
		return FL_EIO;
	bt(s, 1, id);
	bt(s, 2, outcome);
	bt(s, 3, note);
	bt(s, 4, user);
	sqlite3_bind_double(s, 5, wall);
	return run(b, s, "outcome history");
}

static int be_evidence_put(void *p, const char *id, const char *name,
			   const char *sha256, long long bytes,
			   const char *kind, int verified)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_EVIDENCE_PUT);

	if (!s)
		return FL_EIO;
	bt(s, 1, id);
	bt(s, 2, name);
	bt(s, 3, sha256);
	sqlite3_bind_int64(s, 4, bytes);
	bt(s, 5, kind);
	sqlite3_bind_int(s, 6, verified ? 1 : 0);
	return run(b, s, "evidence");
}

static int be_incident_verdict(void *p, const char *id, int *verified, int lock)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_INC_VERDICT);
	int rc;

	(void)lock;
	if (!s)
		return FL_EIO;
	bt(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*verified = sqlite3_column_type(s, 0) == SQLITE_NULL
				    ? -1
				    : sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? FL_ENOENT : dberr(b, "verdict");
}

/* A text column into a buffer (cut to fit; "" for NULL). */
static void col_copy(sqlite3_stmt *s, int i, char *out, size_t len)
{
	const char *t = (const char *)sqlite3_column_text(s, i);

	snprintf(out, len, "%s", t ? t : "");
}

/* The current row of S_EVIDENCE_FILE or S_EVIDENCE_SCAN. */
static void evfile_of(sqlite3_stmt *s, fl_db_evfile *f)
{
	col_copy(s, 0, f->incident_id, sizeof(f->incident_id));
	col_copy(s, 1, f->name, sizeof(f->name));
	col_copy(s, 2, f->sha256, sizeof(f->sha256));
	f->bytes = sqlite3_column_int64(s, 3);
	f->tampered = col_time(s, 4);
	f->verified = sqlite3_column_type(s, 5) == SQLITE_NULL
			      ? -1
			      : sqlite3_column_int(s, 5);
	f->pruned = col_time(s, 6);
}

static int be_evidence_file(void *p, const char *id, const char *name,
			    fl_db_evfile *out)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_EVIDENCE_FILE);
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, id);
	bt(s, 2, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		evfile_of(s, out);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? FL_ENOENT : dberr(b, "evidence file");
}

static int be_evidence_tampered(void *p, const char *id, const char *name,
				double wall)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_EVIDENCE_TAMPERED);

	if (!s)
		return FL_EIO;
	bt(s, 1, id);
	bt(s, 2, name);
	bind_time(s, 3, wall);
	return changed(b, run(b, s, "tampered"));
}

static int be_evidence_scan(void *p, const char *after_id,
			    const char *after_name, fl_db_evfile *out,
			    size_t max, size_t *n)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_EVIDENCE_SCAN);
	int rc = SQLITE_DONE;

	if (!s)
		return FL_EIO;
	bt(s, 1, after_id);
	bt(s, 2, after_name);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)max);
	while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
		evfile_of(s, &out[(*n)++]);
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE
		       ? 0
		       : dberr(b, "evidence scan");
}

static void bind_filter(sqlite3_stmt *s, const fl_db_filter *f)
{
	bt(s, 1, f->site);
	bt(s, 2, f->lane);
	bt(s, 3, f->status);
	bt(s, 4, f->outcome);
	bind_time(s, 5, f->from_wall);
	bind_time(s, 6, f->to_wall);
	bt(s, 7, f->sites_csv_allowed);
	bt(s, 10, f->plate);
}

static int be_incidents_count(void *p, const fl_db_filter *f, long long *n)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, f->site ? S_INC_COUNT_S : S_INC_COUNT);

	if (!s)
		return FL_EIO;
	bind_filter(s, f);
	return count_of(b, s, n);
}

static int be_incidents_rows(void *p, const fl_db_filter *f, int limit,
			     int offset, json_t *a)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, f->site ? S_INC_LIST_S : S_INC_LIST);

	if (!s)
		return FL_EIO;
	bind_filter(s, f);
	sqlite3_bind_int(s, 8, limit);
	sqlite3_bind_int(s, 9, offset);
	return rows(b, s, a);
}

static int be_incident_row(void *p, const char *id, json_t **row)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_INC_ONE);
	int rc;

	*row = NULL;
	if (!s)
		return FL_EIO;
	bt(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*row = row_obj(s, sqlite3_column_count(s));
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? FL_ENOENT : dberr(b, "incident");
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

/* ---- quarantine ------------------------------------------------------------------- */

static int be_quarantine_add(void *p, const char *topic, const char *payload,
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

static int be_quarantine_count(void *p, long long *n)
{
	be *b = p;

	return count_of(b, stmt(b, S_QUAR_COUNT), n);
}

static int be_quarantine_rows(void *p, int limit, int offset,
			      int (*fn)(const fl__db_qrow *row, void *user),
			      void *user)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_QUAR_LIST);
	int rc, stop = 0;

	if (!s)
		return FL_EIO;
	sqlite3_bind_int(s, 1, limit);
	sqlite3_bind_int(s, 2, offset);
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		fl__db_qrow r = {
			.id = sqlite3_column_int64(s, 0),
			.topic = (const char *)sqlite3_column_text(s, 1),
			.reason = (const char *)sqlite3_column_text(s, 2),
			.wall = col_time(s, 3),
			.payload = sqlite3_column_blob(s, 4),
			.len = (size_t)sqlite3_column_bytes(s, 4),
		};

		stop = fn(&r, user);
	}
	sqlite3_reset(s);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : dberr(b, "quarantine");
}

/* ---- device configurations ------------------------------------------------------- */

static int be_config_add(void *p, const char *device, int version,
			 const char *yaml, const char *author, const char *note,
			 double wall)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_CONF_ADD);

	if (!s)
		return FL_EIO;
	bt(s, 1, device);
	sqlite3_bind_int(s, 2, version);
	bt(s, 3, yaml);
	bt(s, 4, author);
	sqlite3_bind_double(s, 5, wall);
	bt(s, 6, note);
	return run(b, s, "config_add");
}

static int be_config_latest(void *p, const char *device, int *version)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_CONF_LATEST);
	long long n = 0;
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, device);
	rc = count_of(b, s, &n);
	*version = (int)n;
	return rc;
}

static int be_config_get(void *p, const char *device, int version, json_t **row)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_CONF_GET);
	int rc;

	*row = NULL;
	if (!s)
		return FL_EIO;
	bt(s, 1, device);
	sqlite3_bind_int(s, 2, version);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*row = row_obj(s, sqlite3_column_count(s));
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return *row ? 0 : FL_ENOMEM;
	return rc == SQLITE_DONE ? FL_ENOENT : dberr(b, "config_get");
}

static int be_config_rows(void *p, const char *device, json_t *a)
{
	return rows_of(p, S_CONF_ROWS, device, a);
}

static int be_config_applied(void *p, const char *device, int version,
			     double wall, int ok, const char *error)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_CONF_APPLIED);

	if (!s)
		return FL_EIO;
	bt(s, 1, device);
	sqlite3_bind_int(s, 2, version);
	sqlite3_bind_double(s, 3, wall);
	if (ok >= 0)
		sqlite3_bind_int(s, 4, ok);
	else
		sqlite3_bind_null(s, 4);
	bt(s, 5, error);
	return changed(b, run(b, s, "config_applied"));
}

/* ---- users ------------------------------------------------------------------------ */

static int be_user_add(void *p, const char *name, const char *hash,
		       const char *role, const char *sites, double wall)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_USER_ADD);

	if (!s)
		return FL_EIO;
	bt(s, 1, name);
	bt(s, 2, hash);
	bt(s, 3, role);
	bt(s, 4, sites);
	sqlite3_bind_double(s, 5, wall);
	return run(b, s, "user_add");
}

static int be_user_set_hash(void *p, const char *name, const char *hash)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_USER_SETHASH);

	if (!s)
		return FL_EIO;
	bt(s, 1, name);
	bt(s, 2, hash);
	return changed(b, run(b, s, "user_set_password"));
}

static int be_user_get(void *p, const char *name, char *hash, size_t hashlen,
		       char *role, size_t rolelen, char *sites, size_t siteslen,
		       double *created)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_USER_GET);
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		copy_col(s, 0, hash, hashlen);
		copy_col(s, 1, role, rolelen);
		copy_col(s, 2, sites, siteslen);
		if (created)
			*created = col_time(s, 3);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? FL_ENOENT : dberr(b, "user_get");
}

static int be_user_delete(void *p, const char *name)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_USER_DELETE);

	if (!s)
		return FL_EIO;
	bt(s, 1, name);
	return changed(b, run(b, s, "user_delete"));
}

static int be_users_rows(void *p, json_t *a)
{
	be *b = p;

	return rows(b, stmt(b, S_USERS_LIST), a);
}

/* ---- enrolment codes -------------------------------------------------------------- */

static int be_enrol_add(void *p, const char *hash, const char *device,
			const char *site, double created, double expires,
			const char *by)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_ENROL_ADD);

	if (!s)
		return FL_EIO;
	bt(s, 1, hash);
	bt(s, 2, device);
	bt(s, 3, site);
	sqlite3_bind_double(s, 4, created);
	sqlite3_bind_double(s, 5, expires);
	bt(s, 6, by);
	return run(b, s, "enrol_add");
}

static int be_enrol_get(void *p, const char *hash, char *device, size_t devlen,
			char *site, size_t sitelen, double *expires,
			double *used)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_ENROL_GET);
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, hash);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		copy_col(s, 0, device, devlen);
		copy_col(s, 1, site, sitelen);
		*expires = sqlite3_column_double(s, 2);
		*used = col_time(s, 3);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? FL_ENOENT : dberr(b, "enrol_get");
}

static int be_enrol_use(void *p, const char *hash, double wall,
			const char *pk_b64)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_ENROL_USE);

	if (!s)
		return FL_EIO;
	bt(s, 1, hash);
	sqlite3_bind_double(s, 2, wall);
	bt(s, 3, pk_b64);
	return changed(b, run(b, s, "enrol_use"));
}

static int be_enrol_release(void *p, const char *hash)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_ENROL_RELEASE);

	if (!s)
		return FL_EIO;
	bt(s, 1, hash);
	return changed(b, run(b, s, "enrol_release"));
}

static int be_enrol_rows(void *p, double now, const char *sites_csv, json_t *a)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_ENROL_LIST);

	if (!s)
		return FL_EIO;
	sqlite3_bind_double(s, 1, now);
	bt(s, 2, sites_csv);
	return rows(b, s, a);
}

static int be_enrol_delete(void *p, long long id, const char *sites_csv)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_ENROL_DELETE);

	if (!s)
		return FL_EIO;
	sqlite3_bind_int64(s, 1, id);
	bt(s, 2, sites_csv);
	return changed(b, run(b, s, "enrol_delete"));
}

/* ---- login throttle --------------------------------------------------------------- */

static int be_login_get(void *p, const char *user, const char *addr,
			int *failures, double *last)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_LOGIN_GET);
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, user);
	bt(s, 2, addr);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*failures = sqlite3_column_int(s, 0);
		*last = sqlite3_column_double(s, 1);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? FL_ENOENT : dberr(b, "login_get");
}

static int be_login_fail(void *p, const char *user, const char *addr,
			 double wall, double restart_before)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_LOGIN_FAIL);

	if (!s)
		return FL_EIO;
	bt(s, 1, user);
	bt(s, 2, addr);
	sqlite3_bind_double(s, 3, wall);
	sqlite3_bind_double(s, 4, restart_before);
	return run(b, s, "login_fail");
}

static int be_login_prune(void *p, double before, long keep)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_LOGIN_PRUNE);

	if (!s)
		return FL_EIO;
	sqlite3_bind_double(s, 1, before);
	sqlite3_bind_int64(s, 2, keep);
	return run(b, s, "login_prune");
}

static int be_login_reset(void *p, const char *user, const char *addr,
			  long *removed)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_LOGIN_RESET);
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, user);
	bt(s, 2, addr);
	rc = run(b, s, "login_reset");
	if (!rc && removed)
		*removed = (long)sqlite3_changes(b->h);
	return rc;
}

/* ---- web sessions ----------------------------------------------------------------- */

static int be_session_add(void *p, const char *hash, const fl_db_session *x,
			  double started)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_SESS_ADD);

	if (!s)
		return FL_EIO;
	bt(s, 1, hash);
	bt(s, 2, x->csrf);
	bt(s, 3, x->user);
	bt(s, 4, x->role);
	bt(s, 5, x->sites);
	sqlite3_bind_double(s, 6, x->user_created);
	sqlite3_bind_double(s, 7, started);
	sqlite3_bind_double(s, 8, x->seen);
	return run(b, s, "session_add");
}

static int be_session_get(void *p, const char *hash, fl_db_session *out)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_SESS_GET);
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, hash);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		copy_col(s, 0, out->csrf, sizeof(out->csrf));
		copy_col(s, 1, out->user, sizeof(out->user));
		copy_col(s, 2, out->role, sizeof(out->role));
		copy_col(s, 3, out->sites, sizeof(out->sites));
		out->user_created = sqlite3_column_double(s, 4);
		out->seen = sqlite3_column_double(s, 5);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? FL_ENOENT : dberr(b, "session_get");
}

static int be_session_touch(void *p, const char *hash, double seen)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_SESS_TOUCH);

	if (!s)
		return FL_EIO;
	bt(s, 1, hash);
	sqlite3_bind_double(s, 2, seen);
	return run(b, s, "session_touch");
}

static int be_session_delete(void *p, const char *hash)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_SESS_DELETE);

	if (!s)
		return FL_EIO;
	bt(s, 1, hash);
	return changed(b, run(b, s, "session_delete"));
}

static int be_session_delete_user(void *p, const char *user, long *removed)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_SESS_DELETE_USER);
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, user);
	rc = run(b, s, "session_delete_user");
	if (!rc && removed)
		*removed = (long)sqlite3_changes(b->h);
	return rc;
}

static int be_session_prune(void *p, double before)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_SESS_PRUNE);

	if (!s)
		return FL_EIO;
	sqlite3_bind_double(s, 1, before);
	return run(b, s, "session_prune");
}

static int be_session_count(void *p, double after, long long *n)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_SESS_COUNT);
	int rc;

	if (!s)
		return FL_EIO;
	sqlite3_bind_double(s, 1, after);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : dberr(b, "session_count");
}

static int be_session_view(void *p, const char *hash, const char *key,
			   int *added)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_SESS_VIEW);
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, hash);
	bt(s, 2, key);
	rc = run(b, s, "session_view");
	*added = !rc && sqlite3_changes(b->h) > 0;
	return rc;
}

/* ---- audit ------------------------------------------------------------------------ */

static int be_audit(void *p, const char *user, const char *action,
		    const char *object, const char *detail, double wall)
{
	be *b = p;
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

static int be_audit_count(void *p, const char *object, long long *n)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_AUDIT_COUNT);

	if (!s)
		return FL_EIO;
	bt(s, 1, object);
	return count_of(b, s, n);
}

static int be_audit_rows(void *p, const char *object, int limit, int offset,
			 json_t *a)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_AUDIT_LIST);

	if (!s)
		return FL_EIO;
	bt(s, 1, object);
	sqlite3_bind_int(s, 2, limit);
	sqlite3_bind_int(s, 3, offset);
	return rows(b, s, a);
}

/* ---- reports ---------------------------------------------------------------------- */

/* Statement id for all sites, or its per-site twin, bound to the span. */
static sqlite3_stmt *rep_stmt(be *b, int id, const fl__db_span *w)
{
	sqlite3_stmt *s = stmt(b, id + (w->site ? S_REP_COUNTS_S - S_REP_COUNTS
						: 0));

	if (!s)
		return NULL;
	bt(s, 1, w->site);
	sqlite3_bind_double(s, 2, w->from);
	sqlite3_bind_double(s, 3, w->to);
	return s;
}

static int be_report_counts(void *p, const fl__db_span *w, long long *incidents,
			    long long *alarms)
{
	be *b = p;
	sqlite3_stmt *s = rep_stmt(b, S_REP_COUNTS, w);
	int rc;

	if (!s)
		return FL_EIO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*incidents = sqlite3_column_int64(s, 0);
		*alarms = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : dberr(b, "report");
}

static int be_report_times(void *p, const fl__db_span *w,
			   int (*fn)(double start, double alarm, double cleared,
				     void *user),
			   void *user)
{
	be *b = p;
	sqlite3_stmt *s = rep_stmt(b, S_REP_TIMES, w);
	int rc, stop = 0;

	if (!s)
		return FL_EIO;
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW)
		stop = fn(col_time(s, 0), col_time(s, 1), col_time(s, 2), user);
	sqlite3_reset(s);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : dberr(b, "report");
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
	be *b = p;
	sqlite3_stmt *s = rep_stmt(b, ids[part], w);

	if (!s)
		return FL_EIO;
	if (part == FL__REP_DAYS || part == FL__REP_DAY_OUTCOMES) {
		sqlite3_bind_int(s, 4, w->tz);
	} else if (part == FL__REP_SPOTS || part == FL__REP_PLATES) {
		sqlite3_bind_int(s, 4, w->repeat_min);
		sqlite3_bind_int(s, 5, w->repeat_max);
	}
	return rows(b, s, a);
}

/* ---- alerts ---------------------------------------------------------------------- */

static int be_alert_lock(void *p, const char *iid)
{
	(void)p; /* the write transaction (BEGIN IMMEDIATE) serialises */
	(void)iid;
	return 0;
}

static int be_alert_mark(void *p, const char *iid, const char *step,
			 double wall, int *added)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_AL_MARK);
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, iid);
	bt(s, 2, step);
	bd(s, 3, wall, isfinite(wall));
	rc = run(b, s, "alert_mark");
	*added = !rc && sqlite3_changes(b->h) > 0;
	return rc;
}

static int be_alert_marked(void *p, const char *iid, const char *step, int *yes)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_AL_MARKED);
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, iid);
	bt(s, 2, step);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	*yes = rc == SQLITE_ROW;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
						     : dberr(b, "alert_marked");
}

static int be_alert_job_add(void *p, const fl_db_alert_job *j, const char *iid,
			    int *added)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_AL_JOB_ADD);
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, j->name);
	bt(s, 2, iid);
	bt(s, 3, j->kind);
	bt(s, 4, j->dest);
	sqlite3_bind_int(s, 5, j->mqtt ? 1 : 0);
	bt(s, 6, j->body);
	sqlite3_bind_int(s, 7, j->attempts);
	sqlite3_bind_double(s, 8, isfinite(j->next) ? j->next : 0);
	sqlite3_bind_double(s, 9, j->created);
	bt(s, 10, j->after[0] ? j->after : NULL);
	bt(s, 11, j->state[0] ? j->state : "outbox");
	rc = run(b, s, "alert_job_add");
	*added = !rc && sqlite3_changes(b->h) > 0;
	return rc;
}

/* A row of AL_JOB_COLS into *out (body malloc'd): 0 or FL_ENOMEM. */
static int al_job_row(sqlite3_stmt *s, fl_db_alert_job *out)
{
	const unsigned char *body = sqlite3_column_text(s, 4);

	copy_col(s, 0, out->name, sizeof(out->name));
	copy_col(s, 1, out->kind, sizeof(out->kind));
	copy_col(s, 2, out->dest, sizeof(out->dest));
	out->mqtt = sqlite3_column_int(s, 3);
	out->body = strdup(body ? (const char *)body : "");
	out->attempts = sqlite3_column_int(s, 5);
	out->next = sqlite3_column_double(s, 6);
	out->created = sqlite3_column_double(s, 7);
	copy_col(s, 8, out->after, sizeof(out->after));
	copy_col(s, 9, out->state, sizeof(out->state));
	copy_col(s, 10, out->holder, sizeof(out->holder));
	out->lease = col_time(s, 11);
	return out->body ? 0 : FL_ENOMEM;
}

/* Statement s (bound) answering one AL_JOB_COLS row: into *out, ENOENT. */
static int al_job_one(be *b, sqlite3_stmt *s, fl_db_alert_job *out,
		      const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		rc = al_job_row(s, out);
		sqlite3_reset(s);
		return rc;
	}
	rc = rc == SQLITE_DONE ? FL_ENOENT : dberr(b, what);
	sqlite3_reset(s);
	return rc;
}

static int be_alert_outbox(void *p, long long *n)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_AL_OUTBOX);
	int rc;

	if (!s)
		return FL_EIO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : dberr(b, "alert_outbox");
}

static int be_alert_job_get(void *p, const char *name, fl_db_alert_job *out)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_AL_JOB_GET);

	if (!s)
		return FL_EIO;
	bt(s, 1, name);
	return al_job_one(b, s, out, "alert_job_get");
}

static int be_alert_claim(void *p, const char *holder, int mqtt, double now,
			  double until, fl_db_alert_job *out)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_AL_CLAIM);

	if (!s)
		return FL_EIO;
	bt(s, 1, holder);
	sqlite3_bind_double(s, 2, until);
	sqlite3_bind_int(s, 3, mqtt);
	sqlite3_bind_double(s, 4, now);
	return al_job_one(b, s, out, "alert_claim");
}

/* Runs s (bound); FL_ENOENT when it changed no row. */
static int run_changed(be *b, sqlite3_stmt *s, const char *what)
{
	int rc = run(b, s, what);

	return rc ? rc : sqlite3_changes(b->h) > 0 ? 0 : FL_ENOENT;
}

static int be_alert_renew(void *p, const char *name, const char *holder,
			  double until)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_AL_RENEW);

	if (!s)
		return FL_EIO;
	bt(s, 1, name);
	bt(s, 2, holder);
	sqlite3_bind_double(s, 3, until);
	return run_changed(b, s, "alert_renew");
}

static int be_alert_job_end(void *p, const char *name, const char *holder,
			    const char *state, int attempts, double next,
			    double wall)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_AL_JOB_END);

	if (!s)
		return FL_EIO;
	bt(s, 1, name);
	bt(s, 2, holder);
	bt(s, 3, state);
	sqlite3_bind_int(s, 4, attempts);
	sqlite3_bind_double(s, 5, next);
	sqlite3_bind_double(s, 6, wall);
	return run_changed(b, s, "alert_job_end");
}

static int be_alert_unhold(void *p, const char *holder, long *n)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_AL_UNHOLD_JOBS);
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, holder);
	if ((rc = run(b, s, "alert_unhold")))
		return rc;
	*n = sqlite3_changes(b->h);
	if (!(s = stmt(b, S_AL_UNHOLD_CLOCKS)))
		return FL_EIO;
	bt(s, 1, holder);
	if ((rc = run(b, s, "alert_unhold")))
		return rc;
	*n += sqlite3_changes(b->h);
	return 0;
}

static int be_alert_prune(void *p, double before, long *n)
{
	return run_before(p, S_AL_PRUNE, before, n, "alert_prune");
}

static int be_alert_clock_add(void *p, const fl_db_alert_clock *c, int *added)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_AL_CLOCK_ADD);
	int rc;

	if (!s)
		return FL_EIO;
	bt(s, 1, c->iid);
	bt(s, 2, c->kind);
	bd(s, 3, c->due, isfinite(c->due));
	sqlite3_bind_int(s, 4, c->forced ? 1 : 0);
	bt(s, 5, c->info);
	rc = run(b, s, "alert_clock_add");
	*added = !rc && sqlite3_changes(b->h) > 0;
	return rc;
}

static int be_alert_clock_force(void *p, const char *iid, const char *kind)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_AL_CLOCK_FORCE);

	if (!s)
		return FL_EIO;
	bt(s, 1, iid);
	bt(s, 2, kind);
	return run_changed(b, s, "alert_clock_force");
}

/* Statement s (bound) answering one AL_CLOCK_COLS row: into *out, ENOENT. */
static int al_clock_one(be *b, sqlite3_stmt *s, fl_db_alert_clock *out,
			const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		const unsigned char *info = sqlite3_column_text(s, 4);

		copy_col(s, 0, out->iid, sizeof(out->iid));
		copy_col(s, 1, out->kind, sizeof(out->kind));
		out->due = col_time(s, 2);
		out->forced = sqlite3_column_int(s, 3);
		out->info = strdup(info ? (const char *)info : "{}");
		copy_col(s, 5, out->holder, sizeof(out->holder));
		sqlite3_reset(s);
		return out->info ? 0 : FL_ENOMEM;
	}
	rc = rc == SQLITE_DONE ? FL_ENOENT : dberr(b, what);
	sqlite3_reset(s);
	return rc;
}

static int be_alert_clock_get(void *p, const char *iid, const char *kind,
			      fl_db_alert_clock *out)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_AL_CLOCK_GET);

	if (!s)
		return FL_EIO;
	bt(s, 1, iid);
	bt(s, 2, kind);
	return al_clock_one(b, s, out, "alert_clock_get");
}

static int be_alert_clock_claim(void *p, const char *holder, double now,
				double until, fl_db_alert_clock *out)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, S_AL_CLOCK_CLAIM);

	if (!s)
		return FL_EIO;
	bt(s, 1, holder);
	sqlite3_bind_double(s, 2, until);
	sqlite3_bind_double(s, 3, now);
	return al_clock_one(b, s, out, "alert_clock_claim");
}

static int be_alert_clock_end(void *p, const char *iid, const char *kind,
			      const char *holder, int keep)
{
	be *b = p;
	sqlite3_stmt *s = stmt(b, keep ? S_AL_CLOCK_FREE : S_AL_CLOCK_DEL);

	if (!s)
		return FL_EIO;
	bt(s, 1, iid);
	bt(s, 2, kind);
	bt(s, 3, holder);
	return run_changed(b, s, "alert_clock_end");
}

const fl__db_ops fl__db_sqlite_ops = {
	.name = "sqlite",
	.close = be_close,
	.errmsg = be_errmsg,
	.schema_version = be_schema_version,
	.set_durable = be_set_durable,
	.tx = be_tx,
	.device_put = be_device_put,
	.device_get = be_device_get,
	.device_seen = be_device_seen,
	.device_status = be_device_status,
	.receipt_rows = be_receipt_rows,
	.devices_rows = be_devices_rows,
	.cameras_rows = be_cameras_rows,
	.camera_get = be_camera_get,
	.camera_put = be_camera_put,
	.event_exists = be_event_exists,
	.incident_get = be_incident_get,
	.incident_put = be_incident_put,
	.event_add = be_event_add,
	.incident_site = be_incident_site,
	.incident_verified = be_incident_verified,
	.incident_pruned = be_incident_pruned,
	.incident_outcome = be_incident_outcome,
	.plate_read = be_plate_read,
	.plate_set = be_plate_set,
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
	.plate_msgs = be_plate_msgs,
	.event_json_set = be_event_json_set,
	.plates_clear = be_plates_clear,
	.outcome_add = be_outcome_add,
	.incident_verdict = be_incident_verdict,
	.evidence_put = be_evidence_put,
	.evidence_file = be_evidence_file,
	.evidence_tampered = be_evidence_tampered,
	.evidence_scan = be_evidence_scan,
	.incidents_count = be_incidents_count,
	.incidents_rows = be_incidents_rows,
	.incident_row = be_incident_row,
	.incident_events = be_incident_events,
	.incident_evidence = be_incident_evidence,
	.incident_outcomes = be_incident_outcomes,
	.quarantine_add = be_quarantine_add,
	.quarantine_trim = be_quarantine_trim,
	.quarantine_count = be_quarantine_count,
	.quarantine_rows = be_quarantine_rows,
	.user_add = be_user_add,
	.user_set_hash = be_user_set_hash,
	.user_get = be_user_get,
	.user_delete = be_user_delete,
	.users_rows = be_users_rows,
	.enrol_add = be_enrol_add,
	.enrol_get = be_enrol_get,
	.enrol_use = be_enrol_use,
	.enrol_release = be_enrol_release,
	.enrol_rows = be_enrol_rows,
	.enrol_delete = be_enrol_delete,
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
	.audit = be_audit,
	.audit_count = be_audit_count,
	.audit_rows = be_audit_rows,
	.report_counts = be_report_counts,
	.report_times = be_report_times,
	.report_rows = be_report_rows,
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
