/*
 * backend.h - what a store backend implements (internal to src/store).
 *
 * db.c owns the public handle (the mutex, the dispatch); a backend owns its
 * connection in an opaque `be` and fills one fl__db_ops table. Each entry
 * has the public function's contract (db.h) with `be` in place of the handle;
 * the mutex is already held when it is called. A PostgreSQL backend is one
 * more file with one more table and one more scheme in db.c's fl_db_open.
 */
#ifndef FL_DB_BACKEND_H
#define FL_DB_BACKEND_H

#include "db.h"

typedef struct fl__db_ops {
	const char *name;
	void (*close)(void *be);
	int (*schema_version)(void *be);
	int (*set_durable)(void *be, int full);
	int (*batch_begin)(void *be);
	int (*batch_end)(void *be, int commit);
	int (*device_enrol)(void *be, const char *device, const char *site,
			    const char *pk_b64, char *err, size_t errlen);
	int (*device_get)(void *be, const char *device, char *site,
			  size_t sitelen, char *pk, size_t pklen);
	int (*device_seen)(void *be, const char *device, const char *status,
			   double wall, const char *hb);
	int (*device_status)(void *be, const char *device, char *status,
			     size_t statuslen);
	int (*ingest)(void *be, const fl_db_msg *m, int *dup, char *err,
		      size_t errlen);
	int (*quarantine)(void *be, const char *topic, const char *payload,
			  size_t len, const char *reason, double wall);
	char *(*quarantine_json)(void *be, int limit, int offset);
	int (*quarantine_trim)(void *be, long keep, long *removed);
	int (*evidence_add)(void *be, const char *incident_id,
			    const char *name, const char *sha256,
			    long long bytes, const char *kind, int verified);
	int (*evidence_set_verified)(void *be, const char *incident_id,
				     int verified, const char *report);
	int (*evidence_pruned)(void *be, const char *incident_id, double wall);
	/* db.c has checked the arguments and set *out NULL, *n 0 */
	int (*device_receipts)(void *be, const char *device, double since,
			       int max, struct fl_receipt **out, size_t *n);
	/* hash: a crypto_pwhash_str string made by db.c (backends never see
	 * passwords) */
	int (*user_add)(void *be, const char *name, const char *hash,
			const char *role, const char *sites, double wall,
			char *err, size_t errlen);
	int (*user_set_hash)(void *be, const char *name, const char *hash);
	/* 0 and the user's hash, role, sites; FL_ENOENT */
	int (*user_get)(void *be, const char *name, char *hash, size_t hashlen,
			char *role, size_t rolelen, char *sites,
			size_t siteslen);
	int (*user_delete)(void *be, const char *name);
	char *(*users_json)(void *be);
	int (*outcome_set)(void *be, const char *incident_id,
			   const char *outcome, const char *note,
			   const char *user, double wall, char *err,
			   size_t errlen);
	int (*audit)(void *be, const char *user, const char *action,
		     const char *object, const char *detail, double wall);
	char *(*audit_json)(void *be, const char *object, int limit,
			    int offset);
	char *(*incidents_json)(void *be, const fl_db_filter *f);
	char *(*incident_json)(void *be, const char *incident_id);
	int (*incident_site)(void *be, const char *incident_id, char *site,
			     size_t sitelen);
	char *(*report_json)(void *be, const char *site, double from,
			     double to, int tz_offset_s);
	char *(*devices_json)(void *be);
	/* db.c has checked type and reason (fl__db_camera_next) */
	int (*camera_event)(void *be, const char *device, const char *camera,
			    const char *type, const char *reason, double wall);
} fl__db_ops;

/* A camera's health as stored, and the transition every backend applies
 * (db.c): problems is a comma list in the order covered, moved, frozen. */
typedef struct fl__camera {
	int offline;
	char problems[32];
	char state[16];
	double since; /* < 0: never */
} fl__camera;

/* Apply one event at wall to c (a new camera: zeroed with since -1).
 * 0, or FL_EINVAL for an unknown type or health condition (c unchanged). */
int fl__db_camera_next(fl__camera *c, const char *type, const char *reason,
		       double wall);

/* SQLite: path is a file name or ":memory:". max_version caps the
 * migrations applied (0: all) - for tests of upgrades only. */
extern const fl__db_ops fl__db_sqlite_ops;
void *fl__db_sqlite_open(const char *path, int max_version, char *err,
			 size_t errlen);
int fl__db_sqlite_latest(void);

/* For tests: open at an older schema version (the upgrade path). */
fl_db *fl__db_open_version(const char *url, int max_version, char *err,
			   size_t errlen);

#endif /* FL_DB_BACKEND_H */
