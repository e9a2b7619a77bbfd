/*
 * db_internal.h - what the store's backend-neutral files share: the
 * handle, its lock, and small JSON helpers (internal to src/store).
 *
 *   db.c          the handle (backend by URL, mutex), devices, users (the
 *                 passwords are hashed here), evidence rows, quarantine
 *   incidents.c   ingest: an incident's state from its messages; outcomes;
 *                 the incident list and one incident as JSON
 *   reports.c     report figures (counts, medians, repeats) as JSON
 *   fleet.c       camera health from camera events; the fleet as JSON
 *   admin.c       users, the quarantine and the audit trail as JSON
 *   enrol.c       one-time enrolment codes
 *   rows.c        a row's values as JSON (shared with the backends)
 *   configs.c     the devices' configurations, versioned
 *   sessions.c    the web side's sessions (ids hashed, idle expiry)
 *   alertjobs.c   the alerts' jobs and clocks (leases), steps per incident
 *   sqlite.c      the SQLite backend: SQL and row mapping (backend.h)
 *   postgres.c    the PostgreSQL backend: SQL and row mapping
 */
#ifndef FL_DB_INTERNAL_H
#define FL_DB_INTERNAL_H

#include <jansson.h>
#include <pthread.h>

#include "backend.h"
#include "db.h"

#define FL__DB_TAG "store"

struct fl_db {
	const fl__db_ops *ops;
	void *be;
	pthread_mutex_t mu; /* recursive: batch_begin holds it to batch_end */
	int in_batch;       /* a batch is open: changes are savepoints */
};

/* LOCKED(type, expr): returns expr, evaluated under the handle's mutex. */
#define LOCKED(type, expr)                                                     \
	do {                                                                   \
		type r_;                                                       \
		pthread_mutex_lock(&db->mu);                                   \
		r_ = (expr);                                                   \
		pthread_mutex_unlock(&db->mu);                                 \
		return r_;                                                     \
	} while (0)

/* The outcomes an incident may have (the outcomes table's CHECK), in the
 * order reports list them (rows.c). */
#define FL__DB_OUTCOMES 5
extern const char *const fl__db_outcomes[FL__DB_OUTCOMES];

/* A device's enrolment as fl_db_device_enrol checks it, each of device,
 * site and public_key_b64 that is not NULL: 0, or FL_EINVAL with the
 * reason in err. */
int fl__db_enrol_check(const char *device, const char *site,
		       const char *public_key_b64, char *err, size_t errlen);

/* A change's transaction: its own, or inside the open batch a savepoint
 * (so a failed change rolls back alone). tx_end commits (commit 1) or
 * rolls back; 0 or the failure of the commit. The caller holds db->mu. */
int fl__db_tx_begin(fl_db *db);
int fl__db_tx_end(fl_db *db, int commit);

/* End the transaction begun for a change: committed when r is 0, else
 * rolled back; a failed commit becomes FL_EIO with the reason in err.
 * Returns the result. The caller holds db->mu. */
int fl__db_tx_finish(fl_db *db, int r, char *err, size_t errlen);

/* A list's paging: limit 0 (or less) means 50, at most 1000; offset >= 0. */
void fl__db_page(int *limit, int *offset);

/* A new document {key: []}; *rows is its array (borrowed from it). */
json_t *fl__db_doc(const char *key, json_t **rows);

/* Dumps and frees o: the JSON text (malloc'd), or NULL when ok is 0 (an
 * earlier step failed) or o is NULL. */
char *fl__db_finish(json_t *o, int ok);

/* A stored text (a JSON string value, or null) parsed as JSON with flags;
 * when it does not parse, the value itself (a new reference). */
json_t *fl__db_parse(json_t *text, size_t flags);

#endif /* FL_DB_INTERNAL_H */
