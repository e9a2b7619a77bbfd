/*
 * bundles.h - receiving evidence bundles in chunks (docs/mqtt.md,
 * "Evidence to the hub") and verifying them against the enrolled key.
 *
 * Layout under evidence_dir (docs/hub.md):
 *   .incoming/<incident_id>/<file>.<index>   one received chunk
 *   .incoming/<incident_id>/list.json        the "evidence" message's list
 *   <incident_id>/<file>                     a complete, hash-checked file
 * Every write is atomic (temporary name, fsync, rename, fsync of the
 * folder). <incident_id>/ holds only bundle files, as fl_bundle_verify()
 * requires, each read-only (0444); once the bundle verified they never
 * change (bundles.c, "A note on sealing").
 *
 * All functions run on the hub's main thread; db is borrowed.
 */
#ifndef FL_HUB_BUNDLES_H
#define FL_HUB_BUNDLES_H

#include <stddef.h>

#include "db.h"
#include "incoming.h"
#include "msg.h"

/* A bundle completed by this call: what the delivery receipt says. */
typedef struct hub_bundle_done {
	int complete; /* 1: verified (or failed) and stored now */
	int verified;
	char manifest_sha256[65]; /* of manifest.json, from the file list */
} hub_bundle_done;

/*
 * One validated chunk header (msg.c) with its bytes, from device (the
 * topic's), at now (wall seconds). Checks the chunk's SHA-256 and what
 * .incoming may take (q: the quotas and the reserve, incoming.h; NULL: no
 * limits), stores it, and when the file is complete assembles it
 * (read-only, 0444) and checks the file's SHA-256; then tries to complete
 * the bundle (below). For a bundle that verified, nothing is written: a
 * byte-identical repeat of its file is 0, anything else FL_EEXIST with an
 * audit row ("hub", "evidence_refused"; bundles.c, "A note on sealing").
 * 0, or a negative error with the reason: transient ones
 * (fl_err_transient: a disk full, below the reserve or failing, the store)
 * mean "offer it again later", the others (a hash mismatch FL_EFORMAT, a
 * quota FL_ERANGE, a sealed bundle FL_EEXIST) that the message is refused.
 */
int hub_evidence_chunk(const char *dir, fl_db *db, hub_incoming *q,
		       const char *device, const hub_chunk *c,
		       const unsigned char pk[32], double now,
		       hub_bundle_done *done, char *err, size_t errlen);

/*
 * Whether the "evidence" list may be taken for the incident: 0 when its
 * bundle has not verified (the list is for hub_evidence_list), 1 when it
 * verified and files is exactly its recorded list (a repeat: *done says
 * complete and verified, for the receipt again), FL_EEXIST when it
 * verified and files differs (refused and audited, as for a chunk), or
 * another negative error when the store cannot say. ingest calls it
 * before it stores the message, so a refused list is quarantined, not
 * stored.
 */
int hub_evidence_list_check(fl_db *db, const char *device,
			    const char *incident_id, const hub_file *files,
			    size_t nfiles, double now, hub_bundle_done *done,
			    char *err, size_t errlen);

/*
 * The "evidence" incident message's list: checked as above (a repeat
 * fills *done from the store and writes nothing), else remembered, then
 * the bundle is completed if every file is there: every listed file's
 * SHA-256 and size checked, the signed manifest verified with the device's
 * enrolled key pinned (fl_bundle_verify_ex), each file recorded
 * (fl_db_evidence_add) and the verification result stored
 * (fl_db_evidence_set_verified). Returns 0 (complete, a repeat, or still
 * waiting for files), or a negative error (FL_EEXIST: refused). Both fill
 * *done (done->complete 0 when the bundle is not complete yet).
 */
int hub_evidence_list(const char *dir, fl_db *db, const char *device,
		      const char *incident_id, const hub_file *files,
		      size_t nfiles, const unsigned char pk[32], double now,
		      hub_bundle_done *done, char *err, size_t errlen);

/*
 * Budget: remove every .incoming/<incident> whose newest file is older than
 * max_age_s at now (a bundle whose chunks or list never all arrived), each
 * with a warning naming the incident and what was missing. Returns how many
 * were removed. The incident's complete files (in <incident>/) are kept.
 */
int hub_evidence_sweep_incoming(const char *dir, double max_age_s, double now);

/*
 * Budget, only when configured (keep_days > 0): remove the bundle folder
 * <incident>/ of every incident that is closed in the store (cleared,
 * vacated, interrupted) and whose bundle arrived more than keep_days
 * before now, with an audit row ("hub", "evidence_prune"), recorded in the
 * store first (fl_db_evidence_pruned: the incident's evidence rows stay
 * and show as removed; a bundle whose removal cannot be recorded is kept).
 * Returns how many were removed.
 */
int hub_evidence_prune(const char *dir, fl_db *db, double keep_days,
		       double now);

#endif /* FL_HUB_BUNDLES_H */
