/*
 * store.h - the local evidence store: sealed bundles on the device's disk,
 * their delivery markers and retention.
 *
 * Layout (see docs/evidence.md):
 *   dir/<incident_id>/             a sealed bundle (manifest.json, .sig, files)
 *   dir/<incident_id>/.delivered   written once the hub has it
 *   dir/.partial/<incident_id>/    a bundle being written (gone after a crash)
 *   dir/.lock                      flock'ed by the store's owner
 *
 * Threads: an fl_store holds no mutable state after open (its path, options
 * and lock), so several threads may use one store at once, each with its own
 * bundles; concurrent prunes are safe (a bundle removed by one is skipped by
 * the other). An fl_bundle belongs to one thread at a time.
 */
#ifndef FL_EVIDENCE_STORE_H
#define FL_EVIDENCE_STORE_H

#include <stddef.h>

#include "id.h" /* FL_INCIDENT_ID_MAX */

typedef struct fl_store fl_store;

typedef struct fl_store_opts {
	double max_bytes;      /* disk budget for all bundles; 0 = unlimited */
	double max_age_s;      /* delivered bundles older than this are
				  removed; 0 = keep */
	double min_free_bytes; /* refuse new bundles when the file system has
				  less free; 0 = 64 MiB */
} fl_store_opts;

#define FL_STORE_MIN_FREE_DEFAULT (64.0 * 1024 * 1024)
#define FL_DELIVERED_MARKER ".delivered"

/*
 * Open (create) the evidence store rooted at dir (created 0750 with its
 * parents). The first opener becomes the owner (an flock on dir/.lock, held
 * until fl_store_close) and removes everything under dir/.partial: a crash
 * leaves no half bundle. A store opened while another owns it (another
 * process, or a second open in this one) leaves .partial alone. opts may be
 * NULL (all defaults); it is copied. Returns a store the caller frees with
 * fl_store_close(), or NULL with the reason in err (dir cannot be created or
 * written, e.g. a read-only file system).
 */
fl_store *fl_store_open(const char *dir, const fl_store_opts *opts, char *err,
			size_t errlen);

/* Free s (and release ownership). Open bundles must have been sealed or
 * aborted first. NULL-safe. */
void fl_store_close(fl_store *s);

/* The root directory, owned by s, valid until fl_store_close(). */
const char *fl_store_dir(const fl_store *s);

/*
 * Mark a sealed bundle delivered to the hub: dir/<id>/.delivered written
 * atomically (it holds the unix time of delivery). Only delivered bundles may
 * be removed by retention. FL_ENOENT when no such sealed bundle exists.
 */
int fl_store_mark_delivered(fl_store *s, const char *incident_id, char *err,
			    size_t errlen);

/* Whether dir/<id> is a sealed bundle with a delivery marker (1), without
 * one (0), or absent (FL_ENOENT). */
int fl_store_is_delivered(const fl_store *s, const char *incident_id);

/*
 * Apply retention at wall time now (unix seconds): remove delivered bundles
 * whose manifest is older than max_age_s, then the oldest delivered bundles
 * while all bundles together exceed max_bytes. Never removes an undelivered
 * bundle; when undelivered bundles alone exceed the budget it logs a warning
 * and keeps them. A bundle is removed by renaming it into .partial first, so
 * a crash mid-removal leaves nothing that looks like a bundle. Returns the
 * number removed or a negative error.
 */
int fl_store_prune(fl_store *s, double now, char *err, size_t errlen);

/*
 * The undelivered bundles, for asking the hub for their receipts again
 * (docs/mqtt.md, "Delivery receipt"): *total gets the number of sealed
 * bundles without a delivery marker; ids[0..*nids) the ids of the oldest
 * of them sealed at least min_age_s before now (unix seconds), oldest
 * first, at most max. ids may be NULL when max is 0. 0, or the error of
 * listing the folder (the reason in err).
 */
int fl_store_undelivered(const fl_store *s, double now, double min_age_s,
			 char (*ids)[FL_INCIDENT_ID_MAX], size_t max,
			 size_t *nids, size_t *total, char *err, size_t errlen);

/* Bytes used by sealed bundles: all of them and the undelivered ones. */
int fl_store_usage(const fl_store *s, double *total, double *undelivered,
		   char *err, size_t errlen);

/* Internal: free-space check used by fl_bundle_begin (FL_EFULL when the file
 * system has less than min_free or undelivered bundles fill max_bytes). */
int fl__store_room(fl_store *s, char *err, size_t errlen);

#endif /* FL_EVIDENCE_STORE_H */
