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
 * requires.
 *
 * All functions run on the hub's main thread; db is borrowed.
 */
#ifndef FL_HUB_BUNDLES_H
#define FL_HUB_BUNDLES_H

#include <stddef.h>

#include "db.h"
#include "msg.h"

/* A bundle completed by this call: what the delivery receipt says. */
typedef struct hub_bundle_done {
	int complete; /* 1: verified (or failed) and stored now */
	int verified;
	char manifest_sha256[65]; /* of manifest.json, from the file list */
} hub_bundle_done;

/*
 * One validated chunk header (msg.c) with its bytes. Checks the chunk's
 * SHA-256, stores it, and when the file is complete assembles it and checks
 * the file's SHA-256; then tries to complete the bundle (below). 0, or a
 * negative error with the reason (the caller quarantines the message).
 */
int hub_evidence_chunk(const char *dir, fl_db *db, const hub_chunk *c,
		       const unsigned char pk[32], hub_bundle_done *done,
		       char *err, size_t errlen);

/*
 * The "evidence" incident message's list: remembered, then the bundle is
 * completed if every file is there: every listed file's SHA-256 and size
 * checked, the signed manifest verified with the device's enrolled key
 * pinned (fl_bundle_verify_ex), each file recorded (fl_db_evidence_add) and
 * the verification result stored (fl_db_evidence_set_verified). Returns 0
 * (complete or still waiting for files), or a negative error. Both fill
 * *done (done->complete 0 when the bundle is not complete yet).
 */
int hub_evidence_list(const char *dir, fl_db *db, const char *incident_id,
		      const hub_file *files, size_t nfiles,
		      const unsigned char pk[32], hub_bundle_done *done,
		      char *err, size_t errlen);

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
 * before now, with an audit row ("hub", "evidence_prune"), and record it
 * in the store (fl_db_evidence_pruned: the incident's evidence rows stay
 * and show as removed). Returns how many were removed.
 */
int hub_evidence_prune(const char *dir, fl_db *db, double keep_days,
		       double now);

#endif /* FL_HUB_BUNDLES_H */
