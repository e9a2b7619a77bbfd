/*
 * backend.h - what a store backend implements (internal to src/store).
 *
 * A note on where the line is. A backend is SQL and row mapping, nothing
 * else: it stores and finds rows, and hands them up as they are. What the
 * rows mean - an incident's status from its messages, which columns a
 * later message may change, what a report's figures are, the JSON the
 * HTTP layer gets, paging limits, what a failed verification clears - is
 * decided above, in backend-neutral files (incidents.c, reports.c,
 * fleet.c, admin.c, db.c), once for every backend. So a PostgreSQL
 * backend is one more file with its SQL and this table, and copies no
 * rule. (The filters of an incident list are the exception that proves
 * it: they are the query's own semantics, written in db.h, and each
 * backend's SQL implements them.)
 *
 * Rows for the HTTP layer are appended to a jansson array, one object per
 * row keyed by column name; a column is an integer, a real (null when not
 * finite), a string (null when it is not UTF-8) or null. The column names
 * each query answers are part of this contract (listed below). A backend
 * never nests, never parses a stored text, never renames a column.
 *
 * db.c owns the public handle (the mutex, the dispatch); a backend owns its
 * connection in an opaque `be` and fills one fl__db_ops table. The mutex
 * is held whenever an entry is called. Entries return 0 or a negative
 * fl_errno (FL_ENOENT where a row is missing, as noted); errmsg() gives the
 * last failure's text for messages to a person.
 */
#ifndef FL_DB_BACKEND_H
#define FL_DB_BACKEND_H

#include <jansson.h>

#include "db.h"

/* One incident's columns as ingest reads and writes them. Strings are
 * malloc'd (NULL: SQL NULL) and owned by the row (fl__db_incident_free);
 * times are unix seconds, NAN for NULL. */
typedef struct fl__db_incident {
	char *device, *site, *camera, *lane, *status;
	long long status_seq, last_seq;
	double start, rest_since, occupied, alarm, cleared, closed;
	char *bbox, *cls, *plate;    /* bbox: JSON text of the array */
	char *site_name, *lane_name; /* what people read; NULL: the ids */
} fl__db_incident;

/* A camera's health as stored: problems is a comma list in the order
 * covered, moved, frozen; since < 0: never. */
typedef struct fl__camera {
	int offline;
	char problems[48];
	char state[16];
	double since;
} fl__camera;

/* One quarantined message, as handed to the caller's function (valid for
 * the call): payload is the raw bytes, len of them. */
typedef struct fl__db_qrow {
	long long id;
	const char *topic, *reason; /* may be NULL */
	double wall;
	const void *payload;
	size_t len;
} fl__db_qrow;

/* The incidents a report counts: site (NULL all) and start in [from, to)
 * (always finite: reports.c makes an unbounded side +-1e300); tz the
 * offset from UTC of its days; repeat spots and plates are those with at
 * least repeat_min incidents, at most repeat_max of them. */
typedef struct fl__db_span {
	const char *site;
	double from, to;
	int tz;
	int repeat_min, repeat_max;
} fl__db_span;

/* The row lists of a report (fl__db_ops.report_rows), with their columns. */
enum fl__db_report_rows {
	FL__REP_BY_STATUS,   /* status (NULL: none yet), n */
	FL__REP_OUTCOMES,    /* outcome (NULL: none recorded), n */
	FL__REP_SPOTS,       /* site, camera, lane, incidents; most first */
	FL__REP_PLATES,      /* plate, incidents, sites (comma list); most
			      first */
	FL__REP_DAYS,        /* day ("YYYY-MM-DD" at tz), incidents, alarms;
			      by day */
	FL__REP_DAY_OUTCOMES /* day, outcome, n of the incidents that have
				one; by day */
};

/* The steps of transactions (fl__db_ops.tx). FL__TX_BEGIN starts a write
 * transaction (its lock taken at once, where the database has one). */
enum fl__db_tx {
	FL__TX_BEGIN,
	FL__TX_COMMIT,
	FL__TX_ROLLBACK,
	FL__TX_SAVEPOINT,
	FL__TX_RELEASE,
	FL__TX_ROLLBACK_TO
};

typedef struct fl__db_ops {
	const char *name;
	void (*close)(void *be);
	const char *(*errmsg)(void *be);
	int (*schema_version)(void *be);
	int (*set_durable)(void *be, int full);
	/* One step of a transaction (db.c decides which: a change of its own
	 * is a transaction, inside a caller's batch a savepoint named by the
	 * backend, so a failed change rolls back only itself) */
	int (*tx)(void *be, enum fl__db_tx step);

	/* ---- devices: enrolled at wall (site and key replaced) ---- */
	int (*device_put)(void *be, const char *device, const char *site,
			  const char *pk_b64, double wall);
	int (*device_get)(void *be, const char *device, char *site,
			  size_t sitelen, char *pk, size_t pklen); /* ENOENT */
	/* status, hb: NULL leaves the stored value, epoch < 0 the stored
	 * status_epoch; FL_ENOENT: not enrolled */
	int (*device_seen)(void *be, const char *device, const char *status,
			   long long epoch, double wall, const char *hb);
	/* the status ("" when none) and its epoch (0 when none); lock (in a
	 * transaction that writes the row): the row locked to its end, so
	 * another writer's locking read waits (docs/store.md,
	 * "Concurrency") */
	int (*device_status)(void *be, const char *device, char *status,
			     size_t statuslen, long long *epoch,
			     int lock); /* ENOENT */
	/* the rows of fl_db_device_receipts: incident_id, sha256 (of its
	 * manifest.json evidence row) of the device's incidents with
	 * start >= since and verified = 1; newest start first, at most max
	 * (db.c has checked the arguments and makes the receipts) */
	int (*receipt_rows)(void *be, const char *device, double since, int max,
			    json_t *rows);
	/* device, site, status, last_seen, enrolled, heartbeat (the stored
	 * text); by site, device */
	int (*devices_rows)(void *be, json_t *rows);
	/* device, camera, state, problems, reason, since, last_event; by
	 * device, camera */
	int (*cameras_rows)(void *be, json_t *rows);
	/* a camera's health, its row locked as device_status's; put writes
	 * a new row when fresh (the camera_get of this transaction found
	 * none; FL_EAGAIN when another writer stored it meanwhile: the
	 * change is to be tried again), else the row camera_get read */
	int (*camera_get)(void *be, const char *device, const char *camera,
			  fl__camera *c); /* ENOENT */
	int (*camera_put)(void *be, const char *device, const char *camera,
			  const fl__camera *c, const char *reason,
			  double last_event, int fresh);

	/* ---- incidents ---- */
	/* 1 when message seq of the incident is stored (*json, when json is
	 * not NULL, a malloc'd copy of its stored text), else 0 */
	int (*event_exists)(void *be, const char *id, unsigned seq,
			    char **json);
	int (*incident_get)(void *be, const char *id,
			    fl__db_incident *row); /* ENOENT */
	/* every column of fl__db_incident written: a new row when fresh (the
	 * incident_get of this transaction found none; FL_EAGAIN when
	 * another writer created it meanwhile: not a duplicate, the change
	 * is to be tried again), else the row incident_get read */
	int (*incident_put)(void *be, const char *id,
			    const fl__db_incident *row, int fresh);
	/* FL_EEXIST when (id, seq) is taken: the unique key is the arbiter
	 * between two writers of one message */
	int (*event_add)(void *be, const char *id, unsigned seq,
			 const char *type, double wall, double received,
			 const char *json);
	int (*incident_site)(void *be, const char *id, char *site,
			     size_t sitelen); /* ENOENT */
	/* set verified, verify_report and evidence_pruned (NAN: NULL) */
	int (*incident_verified)(void *be, const char *id, int verified,
				 const char *report,
				 double pruned); /* ENOENT */
	int (*incident_pruned)(void *be, const char *id,
			       double wall); /* ENOENT */
	int (*incident_outcome)(void *be, const char *id,
				const char *outcome); /* ENOENT */
	/* a device's read of the plate (plate_by 'device'), which changes
	 * nothing where a person set the plate (plate_by neither NULL nor
	 * 'device'); a person's plate and plate_by as given (NULL: SQL
	 * NULL). A missing incident changes nothing */
	int (*plate_read)(void *be, const char *id, const char *plate);
	int (*plate_set)(void *be, const char *id, const char *plate,
			 const char *by);
	/* the resident vehicle register: a site's rows removed (and, inside
	 * a transaction, the site's other imports kept out to its end); one row
	 * added; one row {plate, owner, unit, phone} (ENOENT: none); a
	 * site's rows {plate, owner, unit, phone, imported, imported_by} by
	 * plate; rows imported before `before` removed (*n: how many) */
	int (*register_clear)(void *be, const char *site);
	int (*register_add)(void *be, const char *site, const fl_db_resident *r,
			    const char *user, double wall);
	int (*register_get)(void *be, const char *site, const char *plate,
			    json_t **row);
	int (*register_rows)(void *be, const char *site, json_t *rows);
	int (*register_prune)(void *be, double before, long *n);
	/* a device's configurations (docs/store.md): one version added (a
	 * version that exists is an error); the latest version (0: none);
	 * one version {version, yaml, author, created, note, applied,
	 * apply_ok, apply_error} (ENOENT); every version, newest first,
	 * without yaml; the outcome of sending one: applied = wall, and
	 * apply_ok = ok, or NULL for -1 (sent, pending) (ENOENT) */
	int (*config_add)(void *be, const char *device, int version,
			  const char *yaml, const char *author,
			  const char *note, double wall);
	int (*config_latest)(void *be, const char *device, int *version);
	int (*config_get)(void *be, const char *device, int version,
			  json_t **row);
	int (*config_rows)(void *be, const char *device, json_t *rows);
	int (*config_applied)(void *be, const char *device, int version,
			      double wall, int ok, const char *error);
	/* plate retention (register.c decides what a read is): the messages
	 * {incident_id, seq, json} of the incidents closed before `before`
	 * whose text contains "plate" or a backslash-u escape (which may spell it);
	 * one message's text replaced
	 * (ENOENT); the devices' reads cleared from the incidents closed
	 * before `before` where no person set the plate (*n: how many) */
	int (*plate_msgs)(void *be, double before, json_t *rows);
	int (*event_json_set)(void *be, const char *id, long long seq,
			      const char *json);
	int (*plates_clear)(void *be, double before, long *n);
	int (*outcome_add)(void *be, const char *id, const char *outcome,
			   const char *note, const char *user, double wall);
	/* the incident's verified: 1, 0, or -1 for NULL; ENOENT. lock: the
	 * incident's row locked as device_status's (the verdict rule reads,
	 * then writes) */
	int (*incident_verdict)(void *be, const char *id, int *verified,
				int lock);
	/* one evidence file (the same name's row replaced) */
	int (*evidence_put)(void *be, const char *id, const char *name,
			    const char *sha256, long long bytes,
			    const char *kind, int verified);
	/* one evidence file's row with its incident's verified (-1: NULL)
	 * and evidence_pruned; ENOENT */
	int (*evidence_file)(void *be, const char *id, const char *name,
			     fl_db_evfile *out);
	/* set the file's tampered (NAN: NULL); ENOENT */
	int (*evidence_tampered)(void *be, const char *id, const char *name,
				 double wall);
	/* fl_db_evidence_scan's rows (db.c has checked the arguments) */
	int (*evidence_scan)(void *be, const char *after_id,
			     const char *after_name, fl_db_evfile *out,
			     size_t max, size_t *n);
	/* the list of fl_db_incidents_json (the filter as incidents.c
	 * hands it: an unused text is NULL, never "", and an unbounded time
	 * NAN): its count, and one page of
	 * incident_id, site, lane, camera, device, status, start,
	 * rest_since, occupied, alarm, cleared, closed, outcome, class,
	 * plate, last_seq, verified, tampered (the least of its evidence
	 * rows'); newest start first */
	int (*incidents_count)(void *be, const fl_db_filter *f, long long *n);
	int (*incidents_rows)(void *be, const fl_db_filter *f, int limit,
			      int offset, json_t *rows);
	/* one incident: the list's columns and evidence_pruned, bbox (the
	 * stored text), verify_report; ENOENT */
	int (*incident_row)(void *be, const char *id, json_t **row);
	/* seq, type, wall, received, json (the stored text); by seq */
	int (*incident_events)(void *be, const char *id, json_t *rows);
	/* name, sha256, bytes, kind, verified, tampered; in the order
	 * stored */
	int (*incident_evidence)(void *be, const char *id, json_t *rows);
	/* outcome, note, user, wall; oldest first */
	int (*incident_outcomes)(void *be, const char *id, json_t *rows);

	/* ---- quarantine ---- */
	int (*quarantine_add)(void *be, const char *topic, const char *payload,
			      size_t len, const char *reason, double wall);
	int (*quarantine_trim)(void *be, long keep, long *removed);
	int (*quarantine_count)(void *be, long long *n);
	/* newest first; fn's nonzero return stops the walk (and is
	 * returned) */
	int (*quarantine_rows)(void *be, int limit, int offset,
			       int (*fn)(const fl__db_qrow *row, void *user),
			       void *user);

	/* ---- users: hash is a crypto_pwhash_str string made by db.c
	 * (backends never see passwords) ---- */
	int (*user_add)(void *be, const char *name, const char *hash,
			const char *role, const char *sites, double wall);
	int (*user_set_hash)(void *be, const char *name,
			     const char *hash); /* ENOENT */
	int (*user_get)(void *be, const char *name, char *hash, size_t hashlen,
			char *role, size_t rolelen, char *sites,
			size_t siteslen, double *created); /* ENOENT */
	int (*user_delete)(void *be, const char *name);    /* ENOENT */
	int (*users_rows)(void *be, json_t *rows);         /* name, role, sites,
						      created; by name */

	/* ---- enrolment codes, by the code's hash (hex SHA-256) ---- */
	int (*enrol_add)(void *be, const char *hash, const char *device,
			 const char *site, double created, double expires,
			 const char *by);
	/* used: NAN when unused */
	int (*enrol_get)(void *be, const char *hash, char *device,
			 size_t devlen, char *site, size_t sitelen,
			 double *expires, double *used); /* ENOENT */
	/* marks an unused code used; FL_ENOENT when none (or used) */
	int (*enrol_use)(void *be, const char *hash, double wall,
			 const char *pk_b64);
	/* a used code unused again; FL_ENOENT when none */
	int (*enrol_release)(void *be, const char *hash);
	/* id, device, site, created, expires, created_by of the codes
	 * neither used nor expired at now; newest first */
	int (*enrol_rows)(void *be, double now, const char *sites_csv,
			  json_t *rows);
	/* an unused code by its id; FL_ENOENT when none */
	int (*enrol_delete)(void *be, long long id, const char *sites_csv);

	/* ---- login throttle: failed logins per (user, addr); user "" is an
	 * address's failures under any name ---- */
	int (*login_get)(void *be, const char *user, const char *addr,
			 int *failures, double *last); /* ENOENT */
	/* one failure at wall: the count + 1, or 1 when the row was last
	 * touched at restart_before or before (or is new) */
	int (*login_fail)(void *be, const char *user, const char *addr,
			  double wall, double restart_before);
	/* removes the rows last touched before `before` and all but the
	 * keep most recent */
	int (*login_prune)(void *be, double before, long keep);
	/* removes user's row for addr (NULL: every address); *removed rows */
	int (*login_reset)(void *be, const char *user, const char *addr,
			   long *removed);

	/* ---- web sessions, by the id's hash (hex SHA-256) ---- */
	int (*session_add)(void *be, const char *hash, const fl_db_session *s,
			   double started);
	int (*session_get)(void *be, const char *hash,
			   fl_db_session *out); /* ENOENT */
	int (*session_touch)(void *be, const char *hash, double seen);
	/* ENOENT when none; the session's views go with it */
	int (*session_delete)(void *be, const char *hash);
	int (*session_delete_user)(void *be, const char *user, long *removed);
	/* removes the sessions last seen at `before` or earlier */
	int (*session_prune)(void *be, double before);
	/* the sessions last seen after `after` */
	int (*session_count)(void *be, double after, long long *n);
	/* marks key viewed in the session: *added 1 when it was not yet,
	 * 0 when it was or the session is unknown */
	int (*session_view)(void *be, const char *hash, const char *key,
			    int *added);

	/* ---- audit ---- */
	int (*audit)(void *be, const char *user, const char *action,
		     const char *object, const char *detail, double wall);
	/* object NULL: all; id, user, action, object, detail, wall; newest
	 * first */
	int (*audit_count)(void *be, const char *object, long long *n);
	int (*audit_rows)(void *be, const char *object, int limit, int offset,
			  json_t *rows);

	/* ---- reports, over the incidents of a span ---- */
	int (*report_counts)(void *be, const fl__db_span *w,
			     long long *incidents, long long *alarms);
	/* start, alarm, cleared (NAN: NULL) of every incident of the span
	 * that has cleared; fn's nonzero return stops the walk */
	int (*report_times)(void *be, const fl__db_span *w,
			    int (*fn)(double start, double alarm,
				      double cleared, void *user),
			    void *user);
	int (*report_rows)(void *be, enum fl__db_report_rows part,
			   const fl__db_span *w, json_t *rows);
	/* ---- alerts (alertjobs.c decides what they mean) ---- */
	/* the rest of this transaction serialised against every other that
	 * takes the same incident's lock (SQLite: its write transaction
	 * does already) */
	int (*alert_lock)(void *be, const char *iid);
	/* (iid, step) marked at wall unless it is: *added 1 when new */
	int (*alert_mark)(void *be, const char *iid, const char *step,
			  double wall, int *added);
	int (*alert_marked)(void *be, const char *iid, const char *step,
			    int *yes);
	/* a job's row as given (state, attempts, next, created, after ""
	 * as NULL; no holder) unless its name exists: *added */
	int (*alert_job_add)(void *be, const fl_db_alert_job *j,
			     const char *iid, int *added);
	/* the jobs whose state is outbox */
	int (*alert_outbox)(void *be, long long *n);
	/* ENOENT */
	int (*alert_job_get)(void *be, const char *name, fl_db_alert_job *out);
	/* one atomic change: a job of the channel in the outbox, next <= now,
	 * holder NULL or lease <= now, its after_job not in the outbox,
	 * oldest next first, gets holder and lease = until; its row into
	 * *out. ENOENT when none */
	int (*alert_claim)(void *be, const char *holder, int mqtt, double now,
			   double until, fl_db_alert_job *out);
	/* lease = until where name is holder's and in the outbox; ENOENT */
	int (*alert_renew)(void *be, const char *name, const char *holder,
			   double until);
	/* state, attempts, next, done = wall, holder and lease NULL, where
	 * name is holder's; ENOENT */
	int (*alert_job_end)(void *be, const char *name, const char *holder,
			     const char *state, int attempts, double next,
			     double wall);
	/* holder and lease NULL on every job and clock of holder: *n */
	int (*alert_unhold)(void *be, const char *holder, long *n);
	/* the jobs sent or failed (done) before `before` removed: *n */
	int (*alert_prune)(void *be, double before, long *n);
	/* a clock unless (iid, kind) has one: *added */
	int (*alert_clock_add)(void *be, const fl_db_alert_clock *c,
			       int *added);
	int (*alert_clock_force)(void *be, const char *iid,
				 const char *kind); /* ENOENT */
	int (*alert_clock_get)(void *be, const char *iid, const char *kind,
			       fl_db_alert_clock *out); /* ENOENT */
	/* one atomic change: a clock forced or due <= now, holder NULL or
	 * lease <= now, gets holder and lease = until; ENOENT none */
	int (*alert_clock_claim)(void *be, const char *holder, double now,
				 double until, fl_db_alert_clock *out);
	/* removed (keep 0) or holder and lease NULL (keep 1), where it is
	 * holder's (holder NULL: anyone's, every kind of iid when kind is
	 * NULL); ENOENT when none was */
	int (*alert_clock_end)(void *be, const char *iid, const char *kind,
			       const char *holder, int keep);
} fl__db_ops;

/* Free the strings of a row (not the row); NULL-safe. */
void fl__db_incident_free(fl__db_incident *row);

/* Row mapping every backend shares (rows.c): a text as a JSON string, null
 * when it is not UTF-8 (logged: jansson refuses it and a JSON document may
 * not carry it); a number, null where JSON has none (NaN, infinities). */
json_t *fl__db_text(const char *t, size_t n);
json_t *fl__db_real(double v);

/* SQLite: path is a file name or ":memory:". max_version caps the
 * migrations applied (0: all) - for tests of upgrades only. */
extern const fl__db_ops fl__db_sqlite_ops;
void *fl__db_sqlite_open(const char *path, int max_version, char *err,
			 size_t errlen);
int fl__db_sqlite_latest(void);

/* PostgreSQL (postgres.c, where libpq is: FL_HAVE_LIBPQ): url is a libpq
 * URI. */
extern const fl__db_ops fl__db_pg_ops;
void *fl__db_pg_open(const char *url, int max_version, char *err,
		     size_t errlen);
int fl__db_pg_latest(void);

/* For tests: open at an older schema version (the upgrade path). */
fl_db *fl__db_open_version(const char *url, int max_version, char *err,
			   size_t errlen);

#endif /* FL_DB_BACKEND_H */
