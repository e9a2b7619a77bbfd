/*
 * intact.h - whether the evidence on disk is still what was verified
 * (docs/security.md, "2. Verified evidence is immutable"): the check before
 * an evidence file is served or packed, with its cache, and the periodic
 * scrub. See intact.c.
 *
 * Threads: a hub_intact cache is shared by the web server's threads (its
 * own mutex); the scrub is a thread of its own with its own store handle.
 * Every other argument is borrowed for the call.
 */
#ifndef FL_HUB_INTACT_H
#define FL_HUB_INTACT_H

#include <stddef.h>

#include "db.h"
#include "hubconf.h"

/* The check's cache: which file versions (device, inode, size, mtime,
 * ctime) were hashed, and to what. Create/destroy; NULL on no memory;
 * destroy is NULL-safe. */
typedef struct hub_intact hub_intact;
hub_intact *hub_intact_create(void);
void hub_intact_destroy(hub_intact *c);

/* What hub_intact_open found. */
enum hub_evstate {
	HUB_EV_OK,       /* the file as recorded: *fd is open on it */
	HUB_EV_ABSENT,   /* no such recorded file, or retention removed it */
	HUB_EV_TAMPERED, /* it differs from its recorded SHA-256, or is gone
			    from a bundle that verified: not to be served */
};

/*
 * Open evidence file name of incident iid (under evidence_dir) to serve or
 * pack it, only if it is the file the store recorded: a row for it
 * (fl_db_evidence_file), not marked tampered, and the bytes behind the
 * descriptor have the recorded SHA-256 and size (hashed now, or found in
 * the cache c for this very file version; c may be NULL: always hashed).
 * A file of a verified bundle found not matching is recorded as tampered
 * (hub_intact_record; how says where it was found, e.g. "while serving it
 * to ada"). On 0, *state says which; with HUB_EV_OK *fd is open read-only
 * (the caller closes it), else -1; *f (may be NULL) gets the row, and why
 * a sentence for a person when the state is not HUB_EV_OK. A negative
 * error when the store or the file cannot be read (why says which).
 */
int hub_intact_open(hub_intact *c, const char *evidence_dir, fl_db *db,
		    const char *iid, const char *name, const char *how,
		    double now, int *fd, fl_db_evfile *f,
		    enum hub_evstate *state, char *why, size_t whylen);

/*
 * Record what a check found of the recorded file f of a verified bundle:
 * found is the SHA-256 the file has now, "" when it is missing, or NULL
 * when it matches again. A change of state (matching -> tampered, or
 * tampered -> matching: restored) is stored (fl_db_evidence_tampered),
 * written to the audit log ("hub", "evidence_tampered" or
 * "evidence_restored", object the incident, detail the file, both
 * SHA-256 and how) and logged; a state that stays is not repeated.
 */
void hub_intact_record(fl_db *db, const fl_db_evfile *f, const char *found,
		       const char *how, double now);

/*
 * The scrub: a thread that, 60 s after its start (or evidence_scrub_s when
 * shorter) and then every c->evidence_scrub_s seconds after its last pass
 * ended, hashes every recorded file of every verified bundle
 * still on disk (fl_db_evidence_scan) and records what it finds
 * (hub_intact_record, how "by the scrub"), through its own store handle.
 * NULL with a reason in err when it cannot start (the store, a thread);
 * call only with evidence_scrub_s > 0. c must outlive it. Stop joins the
 * thread (a pass is left between two files); NULL-safe.
 */
typedef struct hub_scrub hub_scrub;
hub_scrub *hub_scrub_start(const hub_conf *c, char *err, size_t errlen);
void hub_scrub_stop(hub_scrub *s);

#endif /* FL_HUB_INTACT_H */
