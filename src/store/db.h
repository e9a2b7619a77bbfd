/*
 * db.h - the hub's store: devices, incidents, evidence, users, outcomes,
 * audit, reports. The only interface to SQL in firelane.
 *
 * A note on backends. fl_db is an opaque handle; every function below
 * dispatches through a table of backend functions (src/store/backend.h).
 * SQLite (src/store/sqlite.c) is the embedded default; PostgreSQL
 * (src/store/postgres.c, where libpq is) implements the same table and is
 * chosen by the URL's scheme ("postgresql://..."); nothing above this
 * header changes (docs/store.md).
 *
 * Threads. A handle serialises its calls with its own (recursive) mutex, so
 * several threads may share one. A long report blocks ingest on the same
 * handle meanwhile: a program that serves queries while it ingests opens two
 * handles on the same database (SQLite's WAL lets readers run beside the
 * writer).
 *
 * Errors: negative fl_errno values (fl.h); where a signature has err/errlen a
 * reason for a person goes there. Nothing here prints; the store logs through
 * fl_log() with the tag "store".
 *
 * Strings passed in are borrowed for the call only. Strings returned by the
 * *_json functions are malloc'd: the caller frees them with free().
 */
#ifndef FL_DB_H
#define FL_DB_H

#include <stddef.h>

typedef struct fl_db fl_db;

/* ---- open, close ---------------------------------------------------------- */

/* url: "sqlite:PATH" (PATH ":memory:" for a private in-memory database), or
 * "postgresql://..." / "postgres://..." (libpq's URI, of a database that
 * exists). Creates the SQLite file if missing and applies every pending
 * migration in one transaction. Returns NULL with a reason in err on
 * failure (never the URL's password). */
fl_db *fl_db_open(const char *url, char *err, size_t errlen);
void fl_db_close(fl_db *db); /* NULL-safe */
/* The schema version the database is at (> 0), or a negative fl_errno. */
int fl_db_schema_version(fl_db *db);
/* The newest schema version this build knows. */
int fl_db_schema_latest(void);

/* Durability of each commit. full = 1 (the default): every commit is on disk
 * before it returns (SQLite: synchronous=FULL, the WAL fsync'ed per commit),
 * so a message acknowledged to the broker after fl_db_ingest() returned
 * survives a power cut. full = 0: synchronous=NORMAL (survives a crash of the
 * process, may lose the last commits on power loss). */
int fl_db_set_durable(fl_db *db, int full);

/* Group commit: calls between batch_begin and batch_end form one transaction
 * (one fsync). The handle's mutex is held from begin to end, so other threads
 * on this handle wait. batch_end(db, 0) rolls the batch back. Not nested. */
int fl_db_batch_begin(fl_db *db);
int fl_db_batch_end(fl_db *db, int commit);

/* ---- devices (enrolment, fleet) ------------------------------------------- */

/* Enrols a device (or re-enrols it: site and key replaced). device: an id
 * (fl_id_valid, src/core/id.h: 1-63 of [A-Za-z0-9_.-]); public_key_b64:
 * standard base64 of a 32-byte Ed25519 public key. FL_EINVAL with a reason
 * on bad input. */
int fl_db_device_enrol(fl_db *db, const char *device, const char *site,
		       const char *public_key_b64, char *err, size_t errlen);
/*
 * One-time enrolment codes (docs/api.md, "Enrolment"). A code is stored as
 * its hash only (code_hash: hex SHA-256 of the code, hub_enrol_hash); it
 * enrols one device for one site, once, until it expires.
 *
 * fl_db_enrol_code_add: a new code for device (fl_id_valid) and site,
 * created at now by user `by`, valid until expires. FL_EINVAL with a
 * reason on bad input, FL_EEXIST when the hash is taken.
 *
 * fl_db_enrol_redeem: uses the code at now for public_key_b64: in one
 * transaction the code is marked used (by that key) and the device
 * enrolled as fl_db_device_enrol does; device and site get what the code
 * was for. FL_EINVAL: a bad key (checked before the code, so it says
 * nothing of the code); FL_ENOENT: no such code; FL_EEXIST: used already;
 * FL_ERANGE: expired (reason in err). The code stays unused on any
 * error.
 *
 * fl_db_enrol_release: a redeemed code unused again, for when what had to
 * follow the enrolment failed (the broker account): the installer may try
 * again with the same code. The device stays enrolled with the key (a new
 * enrolment replaces it). FL_ENOENT when there is no such code.
 *
 * fl_db_enrol_codes_json: {"codes": [{id, device, site, created, expires,
 * created_by}]}, the codes neither used nor expired at now, newest first
 * (malloc'd; NULL when the store fails). sites_csv: only the codes of
 * these sites (an installer's), NULL for every site.
 *
 * fl_db_enrol_code_revoke: removes an unused code by its id, when its
 * site is one of sites_csv (NULL: any site); FL_ENOENT when there is
 * none.
 */
int fl_db_enrol_code_add(fl_db *db, const char *code_hash, const char *device,
			 const char *site, double now, double expires,
			 const char *by, char *err, size_t errlen);
int fl_db_enrol_redeem(fl_db *db, const char *code_hash,
		       const char *public_key_b64, double now, char *device,
		       size_t devlen, char *site, size_t sitelen, char *err,
		       size_t errlen);
int fl_db_enrol_release(fl_db *db, const char *code_hash);
char *fl_db_enrol_codes_json(fl_db *db, double now, const char *sites_csv);
int fl_db_enrol_code_revoke(fl_db *db, long long id, const char *sites_csv);
/* 0 and the device's site and key (truncated to the buffers, always
 * terminated; either buffer may be NULL), or FL_ENOENT. */
int fl_db_device_get(fl_db *db, const char *device, char *site, size_t sitelen,
		     char *pk_b64, size_t pklen);
/* Something was heard from the device at wall: status (online, offline,
 * stopped; NULL leaves it) and the heartbeat JSON (NULL leaves it).
 * FL_ENOENT for a device not enrolled. */
int fl_db_device_seen(fl_db *db, const char *device, const char *status,
		      double wall, const char *heartbeat_json);
/*
 * A status heard from the device (docs/mqtt.md, "Status"): online, offline
 * or stopped, with the connection epoch it carries (0: a device from
 * before epochs), at wall; heartbeat_json (may be NULL) a heartbeat's,
 * which says "online" at its epoch. A device's statuses are ordered by
 * (epoch, online before offline and stopped): the will of a connection
 * comes after that connection's "online". One that is not newer than
 * the stored one is stale and changes nothing - a status or heartbeat
 * sent again cannot rewrite the fleet's present - except that a
 * heartbeat of the stored connection, still online, updates the
 * heartbeat and last_seen. Epoch 0 always applies (as before epochs).
 * *applied (may be NULL): 1 stored, 0 stale. was (may be NULL) gets the
 * stored status before ("" when none). FL_ENOENT: not enrolled; FL_EINVAL
 * an unknown status.
 */
int fl_db_device_status_at(fl_db *db, const char *device, const char *status,
			   unsigned long long epoch, double wall,
			   const char *heartbeat_json, char *was, size_t waslen,
			   int *applied);
/* 0 and the device's stored status ("" when none was heard yet; truncated
 * to the buffer, always terminated), or FL_ENOENT. */
int fl_db_device_status(fl_db *db, const char *device, char *status,
			size_t statuslen);

/* ---- ingest ----------------------------------------------------------------- */

/* One incident message (docs/mqtt.md), already validated by the caller.
 * wall: the message's unix_time. json: the message's text, stored verbatim;
 * the store reads from it (when present) rest_since_s with video_time_s
 * (rest_since wall = wall - (video_time_s - rest_since_s)), bbox, class,
 * plate. camera, lane, site may be NULL on a later message (kept from the
 * first). */
typedef struct fl_db_msg {
	const char *device, *site, *camera, *lane, *incident_id, *type;
	unsigned seq;
	double wall;
	const char *json;
} fl_db_msg;

/* Idempotent on (incident_id, seq): *dup = 1 when that pair is already
 * stored with the same json (a redelivery: nothing changes), else 0; the
 * pair stored with other bytes is FL_EEXIST (nothing changes: a message
 * is never silently taken for another; the caller quarantines and audits
 * it). The first message of an incident creates
 * it. The incident's status (occupied|alarm|cleared|vacated|interrupted)
 * follows the type of its highest-seq message that sets a status
 * (occupied, warned (only before anything else), alarm, escalated (alarm),
 * cleared, vacated, interrupted; evidence sets none), so out-of-order
 * delivery ends in the same state. Times: rest_since, occupied (first
 * message), alarm (first alarm), cleared (cleared), closed (cleared, vacated
 * or interrupted). FL_EINVAL: missing fields, seq 0, or an incident_id that
 * belongs to another device. */
int fl_db_ingest(fl_db *db, const fl_db_msg *m, int *dup, char *err,
		 size_t errlen);
/* Keeps a rejected message (unknown device, bad schema, wrong topic) for
 * inspection: topic, the payload's bytes (any bytes, len of them), why. */
int fl_db_quarantine(fl_db *db, const char *topic, const char *payload,
		     size_t len, const char *reason, double wall);
/* {"quarantine":[{id,topic,reason,wall,bytes,payload|payload_b64}],"total":N},
 * newest first; payload cut to 64 KiB. NULL on error. */
char *fl_db_quarantine_json(fl_db *db, int limit, int offset);
/* The quarantine's budget: keep the newest `keep` messages (keep >= 0),
 * remove the older ones; *removed (may be NULL) counts them. */
int fl_db_quarantine_trim(fl_db *db, long keep, long *removed);

/* ---- evidence ---------------------------------------------------------------- */

/*
 * A note on the verdict. A bundle that verified is the proof a fine rests
 * on, so the store keeps it as it was recorded (docs/security.md, "2.
 * Verified evidence is immutable"): once an incident's verified is 1, its
 * evidence rows are never replaced and the verdict is never lowered - both
 * calls below answer FL_EEXIST and change nothing. A failed bundle (0) may
 * still be completed again and verify (a genuine copy sent after a damaged
 * one). What can still change is whether the files on disk match their
 * rows: fl_db_evidence_tampered records that.
 */

/* One received file of an incident's bundle (replaces the same name's row).
 * kind: "scene", "closeup", "composite", "clip", "manifest", ... (free text).
 * FL_ENOENT for an unknown incident, FL_EEXIST when its bundle verified. */
int fl_db_evidence_add(fl_db *db, const char *incident_id, const char *name,
		       const char *sha256, long long bytes, const char *kind,
		       int verified);
/* The bundle's verification result (1 verified, 0 failed) and the
 * verifier's report text; the bundle is on disk, so a pruned mark
 * (below) is cleared. FL_ENOENT for an unknown incident, FL_EEXIST for 0
 * when the bundle verified already (the verdict stays). */
int fl_db_evidence_set_verified(fl_db *db, const char *incident_id,
				int verified, const char *report);
/* The incident's verdict into *verified: 1 verified, 0 failed, -1 not
 * checked yet (no complete bundle). 0, FL_ENOENT for an unknown incident. */
int fl_db_evidence_verdict(fl_db *db, const char *incident_id, int *verified);

/* One recorded evidence file and what the store knows of it. */
typedef struct fl_db_evfile {
	char incident_id[128]; /* FL_INCIDENT_ID_MAX */
	char name[256];
	char sha256[65]; /* as recorded when the bundle completed */
	long long bytes;
	double tampered; /* when the hub found the file not matching; NAN: no */
	int verified;    /* the incident's verdict: 1, 0, -1 (above) */
	double pruned;   /* when retention removed the bundle; NAN: on disk */
} fl_db_evfile;

/* The row of file name of the incident's bundle into *out. 0, FL_ENOENT
 * when no such file is recorded. */
int fl_db_evidence_file(fl_db *db, const char *incident_id, const char *name,
			fl_db_evfile *out);
/* The file no longer matches its recorded SHA-256 (or is missing), found
 * at wall; NAN: it matches again (restored). The incident shows
 * "tampered" (the earliest such time of its files) in the list and
 * detail, and each file its own. FL_ENOENT when no such file is recorded,
 * FL_EINVAL for an infinite wall. */
int fl_db_evidence_tampered(fl_db *db, const char *incident_id,
			    const char *name, double wall);
/* The scrub's walk: the recorded files of verified bundles still on disk
 * (not pruned), ordered by (incident_id, name), the first max after the
 * cursor (after_id, after_name; "" and "" to start) into out (max
 * entries, caller's); *n of them (fewer than max: the walk is over). */
int fl_db_evidence_scan(fl_db *db, const char *after_id, const char *after_name,
			fl_db_evfile *out, size_t max, size_t *n);
/* The bundle's files were removed at wall by the retention budget
 * (evidence_keep_days): the evidence rows (names, SHA-256) stay, and
 * fl_db_incident_json shows "evidence_pruned": wall. FL_ENOENT for an
 * unknown incident, FL_EINVAL for a wall that is not finite. */
int fl_db_evidence_pruned(fl_db *db, const char *incident_id, double wall);
/*
 * The delivery receipts of a device's verified bundles (docs/mqtt.md,
 * "Delivery receipt"), for re-sending them when it comes back online: the
 * incidents of `device` that started at or after since_wall, have a stored
 * manifest.json evidence row and verified = 1, newest first, at most max
 * (1..FL_DB_RECEIPTS_MAX). Failed verifications are left out: their receipt
 * changes nothing on the edge. On 0, *out is a malloc'd array of *n
 * receipts (NULL when *n is 0) the caller frees with free().
 */
#define FL_DB_RECEIPTS_MAX 10000
struct fl_receipt;
int fl_db_device_receipts(fl_db *db, const char *device, double since_wall,
			  int max, struct fl_receipt **out, size_t *n);

/* ---- users ------------------------------------------------------------------- */

/* role: "admin", "enforcement", "property", "installer". sites_csv: the
 * sites a property manager or an installer sees ("s1,s2"; blanks around
 * names and empty names dropped; an installer needs one at least);
 * ignored for the other roles. The password is
 * hashed with argon2id (libsodium crypto_pwhash_str, interactive limits).
 * The name must pass the rule of username.h and not look like an existing
 * user's (its look-alike key). FL_EINVAL with a reason: bad name/role,
 * empty password, name taken or confusable with one. */
int fl_db_user_add(fl_db *db, const char *name, const char *password,
		   const char *role, const char *sites_csv, char *err,
		   size_t errlen);
/* Replaces a user's password. FL_ENOENT for an unknown user. */
int fl_db_user_set_password(fl_db *db, const char *name, const char *password);
/* 0 and the role and sites ("" when none) for the right password;
 * FL_EINVAL for a wrong password or an unknown user (which costs the same
 * hash, so timing does not tell them apart). Buffers may be NULL. */
int fl_db_user_check(fl_db *db, const char *name, const char *password,
		     char *role, size_t rolelen, char *sites, size_t siteslen);
/* Removes a user and their sessions, in one transaction (their outcomes
 * and audit rows keep the name). 0, FL_ENOENT. */
int fl_db_user_delete(fl_db *db, const char *name);
/* A user's role, sites and creation time (buffers and created may be
 * NULL): 0, or FL_ENOENT when there is no such user (any more). A session
 * checks its user with it: a user deleted, or deleted and added again, by
 * another process ends the session. */
int fl_db_user_info(fl_db *db, const char *name, char *role, size_t rolelen,
		    char *sites, size_t siteslen, double *created);

/* ---- login throttle ----------------------------------------------------------- */

/*
 * Failed logins per (user, addr), kept in the store so that every process
 * on it sees the same counts (the hub's workers, and --unlock-user from a
 * shell). user "" counts an address's failures under any name. What the
 * counts mean (how long to wait) is the caller's (src/hub/session.h).
 */
#define FL_DB_LOGIN_KEEP_S 86400.0 /* a row untouched this long is removed */

/* The failures of (user, addr) and the time of the last: 0 (0 failures,
 * last 0 when there is no row) or an error. */
int fl_db_login_failures(fl_db *db, const char *user, const char *addr,
			 int *failures, double *last);
/* One more failure at wall; a count whose last failure is forget_s or more
 * before wall starts again at 1. Rows untouched for FL_DB_LOGIN_KEEP_S are
 * removed, and beyond 100,000 rows the stalest. */
int fl_db_login_fail(fl_db *db, const char *user, const char *addr, double wall,
		     double forget_s);
/* Forgets the failures of user from addr (NULL: from every address);
 * *removed (may be NULL) the rows removed. 0 or an error. */
int fl_db_login_reset(fl_db *db, const char *user, const char *addr,
		      long *removed);
/* {"users":[{name,role,sites,created}]} (no hashes). */
char *fl_db_users_json(fl_db *db);

/* ---- web sessions (docs/store.md, "Sessions") --------------------------------- */

/*
 * The web side's sessions, in the store so that every hub on it knows
 * them: a request may reach any hub, and a hub's restart logs nobody out.
 * A session is named by its id (the cookie's value, made by the caller);
 * the store keeps only the id's SHA-256, so a copy of the database lets
 * nobody in. Its CSRF token is kept as it is (a page must be shown it).
 * What a session's idle time is, and how often its last-seen time is
 * written, is the caller's (src/hub/session.h).
 */
typedef struct fl_db_session {
	char csrf[65];
	char user[128];
	char role[16];
	char sites[1024];
	double user_created; /* the user's creation time when logged in */
	double seen;         /* the last request, as last written */
} fl_db_session;

/* Stores the session id (s->seen is set to now) and removes the sessions
 * without a request since now - idle_s. 0, FL_EINVAL (an empty id or a
 * field that does not fit), or an error. */
int fl_db_session_add(fl_db *db, const char *id, const fl_db_session *s,
		      double now, double idle_s);
/* The session id at now: 0 and its row in out, or FL_ENOENT (unknown, or
 * without a request since now - idle_s: then removed). Its last-seen time
 * is written when it is touch_s or more old, so a request costs one
 * indexed read and, at most every touch_s, one write. */
int fl_db_session_get(fl_db *db, const char *id, double now, double idle_s,
		      double touch_s, fl_db_session *out);
/* Ends session id: 0 or FL_ENOENT. */
int fl_db_session_end(fl_db *db, const char *id);
/* Ends every session of user; *removed (may be NULL) how many. */
int fl_db_session_end_user(fl_db *db, const char *user, long *removed);
/* 1 the first time key (an evidence file) is marked in session id, 0
 * after, or for an unknown session; < 0 an error. */
int fl_db_session_first_view(fl_db *db, const char *id, const char *key);
/* The sessions with a request since now - idle_s, in *n. */
int fl_db_session_count(fl_db *db, double now, double idle_s, long long *n);

/* ---- device configurations (docs/store.md) ----------------------------------- */

/* Store yaml (the whole configuration file, already validated by the
 * caller) as device's next version, written by author with note (may be
 * NULL), and audit it (action "config_save", object device, detail
 * "version N") in one transaction. base is the version the author started
 * from: when it is not the latest (0: none yet), nothing is stored and
 * FL_EEXIST is returned with err naming the latest (another change came
 * first). *version gets the new version. 0, FL_EINVAL, FL_EEXIST or FL_EIO
 * with err. */
int fl_db_config_save(fl_db *db, const char *device, int base, const char *yaml,
		      const char *author, const char *note, double wall,
		      int *version, char *err, size_t errlen);

/* The latest version of device's configuration into *version (0: none),
 * or an error. */
int fl_db_config_latest(fl_db *db, const char *device, int *version);

/* Version of device's configuration (0: the latest) as JSON {version,
 * yaml, author, created, note, applied, apply_ok, apply_error} into *json
 * (malloc'd, the caller frees). 0, FL_ENOENT (no such version) or an
 * error. */
int fl_db_config_get(fl_db *db, const char *device, int version, char **json);

/* {"versions": [{version, author, created, note, applied, apply_ok,
 * apply_error}]} of device, newest first, or NULL on error. */
char *fl_db_config_versions_json(fl_db *db, const char *device);

/* The outcome of sending version to device: ok 1 applied, 0 refused or
 * no answer (error says why), -1 pending (sent by user at wall, outcome
 * unknown: applied = wall, apply_ok and apply_error cleared). Audited (action
 * "config_apply", object device, detail "version N: sent", ": applied" or
 * ": <error>"). 0, FL_ENOENT (no such version) or an error. */
int fl_db_config_applied(fl_db *db, const char *device, int version,
			 const char *user, int ok, const char *error,
			 double wall);

/* The device's heartbeat says it runs `version`: a version stored as not
 * applied (no answer, a wait the hub gave up, a hub that stopped while
 * waiting) is marked applied at wall, audited as the hub ("version N:
 * applied (the device's heartbeat says so)"). 0 when one was settled,
 * FL_ENOENT when there was nothing to settle, or an error. */
int fl_db_config_heard(fl_db *db, const char *device, int version, double wall);

/* ---- outcomes, audit --------------------------------------------------------- */

/* ---- the resident vehicle register (docs/store.md) --------------------------- */

/* One resident's vehicle: strings borrowed for the call (the hub checks
 * them: hub_register_parse, src/hub/register.h). */
typedef struct fl_db_resident {
	const char *plate, *owner, *unit, *phone;
} fl_db_resident;

/* Replace site's register with rows[0..n) in one transaction (all or
 * nothing), stamped wall and user, and audit it (action
 * "register_import", object site, detail "N rows"). 0, or FL_EINVAL
 * (no site or user) / FL_EEXIST (a plate twice) / FL_EIO with err. */
int fl_db_register_replace(fl_db *db, const char *site,
			   const fl_db_resident *rows, size_t n,
			   const char *user, double wall, char *err,
			   size_t errlen);

/* The register's row of plate at site as JSON {plate, owner, unit, phone}
 * (malloc'd; the phone in full: masking is the caller's), or NULL when the
 * plate is not registered there (or on error). */
char *fl_db_register_find(fl_db *db, const char *site, const char *plate);

/* {"residents": [{plate, owner, unit, phone, imported, imported_by}]} of
 * site by plate (phones in full: masking is the caller's), or NULL. */
char *fl_db_register_json(fl_db *db, const char *site);

/* Rows imported before `before` (unix seconds) removed: the register
 * expires with the incidents' retention. Returns how many, or an error. */
long fl_db_register_prune(fl_db *db, double before);

/* The devices' plate reads of incidents closed before `before` forgotten,
 * as the register is (personal data kept no longer than the evidence that
 * needs it): the plate and its confidence taken out of the stored
 * messages, and the incident's plate cleared unless a person set it (a
 * plate entered for a fine is the case's record). One transaction.
 * Returns how many incidents lost their plate, or an error. */
long fl_db_plates_prune(fl_db *db, double before);

/* The incident's plate as a person enters it (plate "" clears it): it is
 * then the plate's word, and a device's read (a message naming a plate)
 * no longer changes it (plate_by is user; docs/store.md). plate must be
 * "" or a text of a plate shape (fl_plate_shape). Audited (action
 * "plate", object incident_id, detail the plate or "(cleared)") in the
 * same transaction. FL_ENOENT unknown incident, FL_EINVAL bad plate. */
int fl_db_plate_set(fl_db *db, const char *incident_id, const char *plate,
		    const char *user, double wall, char *err, size_t errlen);

/* outcome: persuaded|fined|towed|false_alarm|other. Sets the incident's
 * current outcome and appends to its history (never overwritten), and writes
 * an audit row (action "outcome", object incident_id, detail outcome) in the
 * same transaction: the caller need not audit it again. Permissions (who may
 * record what) are the caller's. FL_ENOENT unknown incident, FL_EINVAL bad
 * outcome. */
int fl_db_outcome_set(fl_db *db, const char *incident_id, const char *outcome,
		      const char *note, const char *user, double wall,
		      char *err, size_t errlen);
/* One audit row: user did action ("evidence_view", "export", "login", ...)
 * on object, with detail (may be NULL). */
int fl_db_audit(fl_db *db, const char *user, const char *action,
		const char *object, const char *detail, double wall);
/* {"audit":[{id,user,action,object,detail,wall}],"total":N}, newest first;
 * object NULL for all. */
char *fl_db_audit_json(fl_db *db, const char *object, int limit, int offset);

/* ---- queries (JSON text for the HTTP layer) ------------------------------------ */

/* NULL/0 members do not filter. from_wall/to_wall bound the incident's start
 * (rest_since, else its first message): from <= start < to. outcome "none":
 * no outcome recorded yet. limit 0: 50; at most 1000. sites_csv_allowed:
 * only these sites ("s1,s2"; "" allows none); NULL all. */
typedef struct fl_db_filter {
	const char *site, *lane, *status, *outcome;
	const char *plate; /* part of the plate (any case), or NULL */
	double from_wall, to_wall;
	int limit, offset;
	const char *sites_csv_allowed;
} fl_db_filter;

/* {"incidents":[{incident_id,site,lane,camera,device,status,start,
 * rest_since,occupied,alarm,cleared,closed,outcome,class,plate,last_seq,
 * verified,tampered,site_name,lane_name}], "total":N,"limit":L,"offset":O},
 * newest start first. Times are unix seconds or null (tampered: the
 * earliest time one of its evidence files was found not matching, null
 * when none is); the names null when the device sent none. NULL on error. */
char *fl_db_incidents_json(fl_db *db, const fl_db_filter *f);
/* One incident as in the list plus evidence_pruned (when the bundle's
 * files were removed by retention, or null), bbox, verify_report,
 * "events" (timeline by seq: {seq,type,wall,message} with the stored
 * message parsed, or "raw"
 * text when it is not JSON), "evidence" files ({name,sha256,bytes,kind,
 * verified,tampered}) and "outcomes" (history,
 * oldest first). NULL when there is no such incident. */
char *fl_db_incident_json(fl_db *db, const char *incident_id);
/* The site (NULL all) an incident belongs to: 0, FL_ENOENT. For the HTTP
 * layer's permission check before it serves anything of the incident. */
int fl_db_incident_site(fl_db *db, const char *incident_id, char *site,
			size_t sitelen);
/* Report over incidents starting in [from_wall, to_wall) (0 = unbounded):
 * {"site","from","to","incidents","alarms","by_status":{},
 *  "time_to_clear_s":{"n","median","p90"}   (alarm -> cleared)
 *  "blocked_s":{"n","median","p90"}         (rest_since -> cleared)
 *  "outcomes":{persuaded,fined,towed,false_alarm,other,none},
 *  "repeat_spots":[{site,camera,lane,incidents}] (>= 2, most first),
 *  "repeat_plates":[{plate,incidents,sites}] (>= 2),
 *  "days":[{day:"YYYY-MM-DD",incidents,alarms,persuaded,fined,towed,
 *           false_alarm,other}]}
 * Median and p90 interpolate linearly between order statistics (position
 * p * (n - 1) in the sorted values). Days are UTC; _tz takes an offset
 * from UTC in seconds (28800 for China). */
char *fl_db_report_json(fl_db *db, const char *site, double from_wall,
			double to_wall);
char *fl_db_report_json_tz(fl_db *db, const char *site, double from_wall,
			   double to_wall, int tz_offset_s);
/* {"devices":[{device,site,status,last_seen,enrolled,heartbeat,cameras}]}:
 * heartbeat is the stored JSON (parsed) or null; status is the last
 * status message's (the retained status or the last will: "offline");
 * cameras is [{camera, state, problems: [...], reason, since, last_event}]
 * for each camera that has reported an event (fl_db_camera_event), by
 * camera id. */
char *fl_db_devices_json(fl_db *db);

/* ---- camera health ------------------------------------------------------------ */

/*
 * A camera event of a device (docs/mqtt.md "Camera events", docs/health.md)
 * received at wall (the hub's clock: the event itself carries video time
 * only): type camera_offline | camera_online | health, reason the event's
 * (for health: frozen, covered, moved, or "cleared: " one of them). Updates
 * the camera's row: offline or not, the set of view problems, the state
 * ("offline", else the first problem of covered, moved, frozen, else
 * "ok"), since (when the state last changed), last_event and reason (the
 * last event's). Idempotent for a repeated event except last_event.
 * FL_EINVAL for an unknown type or health condition.
 */
int fl_db_camera_event(fl_db *db, const char *device, const char *camera,
		       const char *type, const char *reason, double wall);

/* ---- alert jobs, steps and clocks (docs/store.md, "Alerts") ------------------ */

/*
 * What src/hub/alerts.c must share with every hub on the store: the alert
 * jobs and who holds each, the steps of an incident already handled, and
 * the escalation and owner clocks. The rules live in alertjobs.c, once for
 * every backend.
 *
 * A job is named <incident>.<kind>.<target> (unique: made once, never
 * twice). It is in the outbox until it is sent or failed. To send it a hub
 * claims it: one atomic change that takes a due job whose lease is free or
 * ran out and writes the hub's name (holder) and the lease's end; of
 * several hubs claiming at once exactly one gets a job. A hub that dies
 * holding a claim stops renewing it, and when the lease runs out another
 * hub claims the job. A job that names another ("after", the alarm of an
 * all-clear) is not due while that one is in the outbox.
 *
 * Threads: like every call of this header (the handle's mutex); a thread
 * that must not wait behind ingest opens a handle of its own.
 */

/* One alert job. As an argument every text is borrowed for the call;
 * filled in by the store, body is malloc'd (fl_db_alert_job_free). */
typedef struct fl_db_alert_job {
	char name[512];   /* <incident>.<kind>.<target> */
	char kind[16];    /* alarm, cleared, escalated, owner */
	char dest[1024];  /* a URL, or an MQTT topic when mqtt */
	int mqtt;         /* 1: published on the broker */
	char *body;       /* what is sent */
	int attempts;     /* failed attempts so far */
	double next;      /* not due before */
	double created;   /* made at */
	char after[512];  /* the job it waits for; "" none */
	char state[8];    /* outbox, sent, failed */
	char holder[128]; /* "" when not claimed */
	double lease;     /* the claim's end (NAN: none) */
} fl_db_alert_job;

/* Frees j->body (not j); NULL-safe. */
void fl_db_alert_job_free(fl_db_alert_job *j);

/* An incident's clock: kind "escalate" (due at due, or at once when
 * forced) or "owner" (due at due); info a JSON text of what the alert
 * needs (site, device, camera, lane, the alarm's time ...). As an argument
 * borrowed; filled in by the store, info is malloc'd
 * (fl_db_alert_clock_free). due NAN: only when forced. */
typedef struct fl_db_alert_clock {
	char iid[128];
	char kind[16];
	double due;
	int forced;
	char *info;
	char holder[128];
} fl_db_alert_clock;

void fl_db_alert_clock_free(fl_db_alert_clock *c); /* NULL-safe */

/*
 * One step of an incident's alerts, handled once, in one transaction
 * serialised per incident (every hub on the store): step "alarm" or
 * "closed" marked made, then what that means given the other step:
 *
 *   alarm, first time:  jobs[] made; when the close came first, the
 *                       all-clear clear[] made behind them (once), else
 *                       clocks[] started
 *   alarm, again:       nothing (a message handled twice)
 *   closed:             the incident's escalation clock stopped; when its
 *                       alarm was made, the all-clear clear[] made (once)
 *
 * So an alarm handled on one hub while its close is handled on another
 * gives the all-clear whichever commits first, and an all-clear's jobs
 * are never visible before its alarm's. *made (may be NULL) gets the
 * FL_DB_ALERT_* bits of what this call made. 0, or the error: then
 * nothing of the step is stored (the caller asks again).
 */
#define FL_DB_ALERT_JOBS 1    /* the alarm's jobs */
#define FL_DB_ALERT_CLEARED 2 /* the all-clear's jobs */
#define FL_DB_ALERT_LATE 4    /* an alarm after its close */
typedef struct fl_db_alert_step {
	const char *iid;
	const char *step; /* "alarm" or "closed" */
	const fl_db_alert_job *jobs, *clear;
	size_t njobs, nclear;
	const fl_db_alert_clock *clocks;
	size_t nclocks;
} fl_db_alert_todo;
int fl_db_alert_step(fl_db *db, const fl_db_alert_todo *s, double now,
		     int *made);

/* Whether the incident's step ("alarm", "closed", "cleared") is marked
 * made: 1, 0, or an error. */
int fl_db_alert_made(fl_db *db, const char *iid, const char *step);

/* The incident's step ("alarm", "closed", "cleared") marked made, alone:
 * for the upgrade from the files. 0 or an error. */
int fl_db_alert_mark(fl_db *db, const char *iid, const char *step);

/* One job made as it is (state "outbox", "sent" or "failed"; holder
 * ignored) unless its name exists: *added (may be NULL) 1 when made.
 * Also marks step (when not NULL) of iid. For the upgrade from the files
 * and for jobs made outside a step (escalation, owner). */
int fl_db_alert_job_add(fl_db *db, const fl_db_alert_job *j, const char *iid,
			const char *step, int *added);

/* Claims a due job for holder (mqtt: an MQTT job, else a webhook's) at
 * now, for lease_s: 0 and the job in *out (its holder and lease set; the
 * caller frees it with fl_db_alert_job_free), FL_ENOENT when none is due,
 * or an error. */
int fl_db_alert_claim(fl_db *db, const char *holder, int mqtt, double now,
		      double lease_s, fl_db_alert_job *out);

/* The claim of job name by holder lasts until `until`. FL_ENOENT when it is
 * no longer holder's (the lease ran out and another hub claimed it, or it
 * was finished). */
int fl_db_alert_renew(fl_db *db, const char *name, const char *holder,
		      double until);

/* holder's claim of job name ends: state "sent" or "failed" (at wall), or
 * "outbox" (again at next, after attempts failed attempts; unchanged
 * attempts and next 0 give it back untried). FL_ENOENT when it was no
 * longer holder's (nothing changes: the other holder decides). */
int fl_db_alert_finish(fl_db *db, const char *name, const char *holder,
		       const char *state, int attempts, double next,
		       double wall);

/* Every claim (jobs and clocks) of holder given back, for a hub that
 * starts again under the same name; *n (may be NULL) how many. */
int fl_db_alert_release(fl_db *db, const char *holder, long *n);

/* The jobs sent or given up before `before` (unix seconds) removed, with
 * their bodies (an owner notification names the owner and the phone): an
 * alert's record expires with the incidents' retention, as the register
 * does. The outbox is never touched. Returns how many, or an error. */
long fl_db_alert_prune(fl_db *db, double before);

/* The jobs in the outbox (waiting or being sent) into *n. 0 or an error. */
int fl_db_alert_outbox(fl_db *db, long long *n);

/* Job name into *out (free with fl_db_alert_job_free): 0, FL_ENOENT. */
int fl_db_alert_job_get(fl_db *db, const char *name, fl_db_alert_job *out);

/* A clock made unless the incident has one of its kind (the upgrade, or
 * a step of its own); *added (may be NULL) 1 when made. */
int fl_db_alert_clock_add(fl_db *db, const fl_db_alert_clock *c, int *added);

/* The incident's escalation is due at once (the edge's own escalation).
 * FL_ENOENT when it has no clock of that kind. */
int fl_db_alert_clock_force(fl_db *db, const char *iid, const char *kind);

/* The incident's clock of kind into *out (fl_db_alert_clock_free): 0,
 * FL_ENOENT. */
int fl_db_alert_clock_get(fl_db *db, const char *iid, const char *kind,
			  fl_db_alert_clock *out);

/* Claims a due clock (forced, or due at or before now) whose lease is free
 * or ran out, for holder until now + lease_s: 0 and *out, FL_ENOENT none. */
int fl_db_alert_clock_claim(fl_db *db, const char *holder, double now,
			    double lease_s, fl_db_alert_clock *out);

/* holder's claimed clock ends: removed (keep 0: it has done its work) or
 * given back (keep 1: to try again). FL_ENOENT when not holder's. */
int fl_db_alert_clock_done(fl_db *db, const char *iid, const char *kind,
			   const char *holder, int keep);

#endif /* FL_DB_H */
