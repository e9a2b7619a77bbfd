/*
 * writer.h - the evidence sink of one camera: it follows the camera's lane
 * events, runs an evidence plan (src/core/evidence.h) per incident, takes the
 * pictures, cuts the clip from the pre-roll and seals the bundle. See
 * writer.c for the essay.
 *
 * Ownership: fl_evidence_writer_create() returns a writer the caller frees
 * with fl_evidence_writer_destroy() (NULL-safe; open incidents are dropped,
 * nothing half-written stays). cfg, store, key and src are borrowed and must
 * outlive the writer. One thread: the camera's.
 *
 * Errors never stop detection: the writer logs them (tag "evidence"), once
 * per incident and cause, and carries on; the calls below return nothing.
 */
#ifndef FL_EVIDENCE_WRITER_H
#define FL_EVIDENCE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "config.h"
#include "event.h"
#include "plate.h"
#include "sign.h"
#include "source.h"
#include "store.h"

typedef struct fl_evidence_writer fl_evidence_writer;

/*
 * A writer for camera index `camera` of cfg. src is the camera's source,
 * opened but not read yet: the writer installs its packet tap for the
 * pre-roll (so the first keyframe is kept). start_wall: the unix time of
 * video time 0 (the device clock in live mode; in replay, the edge's start
 * time), which is what the images print. Returns NULL with a reason in err.
 */
fl_evidence_writer *fl_evidence_writer_create(const fl_config *cfg, int camera,
					      fl_store *store,
					      const fl_key *key, fl_source *src,
					      double start_wall, char *err,
					      size_t errlen);

/* An event sink (fl_event_fn shape): call it with every event of the
 * camera's lanes, during the frame they happen on. */
void fl_evidence_writer_event(const fl_event *ev, void *writer);

/* The full-resolution BGR of the current frame, converted on demand by the
 * camera (shared with its detector: read only). */
typedef const uint8_t *(*fl_bgr_fn)(void *user);

/*
 * The act phase, once per decoded frame after the frame's events: take the
 * images that are due (bgr(user) is only called then), seal complete
 * bundles, discard vacated ones. f is borrowed for the call.
 */
void fl_evidence_writer_frame(fl_evidence_writer *w, const fl_frame *f,
			      fl_bgr_fn bgr, void *user);

/*
 * A camera with a record stream (src is then that stream; see
 * docs/evidence.md, "Two streams"): state "ok" while it delivers, "lost"
 * while it is down (stills come from the detect frame then, and the
 * incident's manifest says record "lost"). offset_s: record video time =
 * detect video time + offset_s; aligned: how that was found
 * ("receive", "start"; a string constant). Never called: one stream.
 */
void fl_evidence_writer_set_record(fl_evidence_writer *w, const char *state,
				   double offset_s, const char *aligned);

/*
 * Move the pre-roll ring onto src (a record stream found after the start;
 * the ring was on the detect stream): a new ring for src's codec, tapping
 * src, the old one and its tap gone. Only between incidents: FL_EAGAIN
 * while one is open (nothing changed; try again on a later frame).
 * FL_ENOMEM with the reason in err. src is borrowed like the first.
 */
int fl_evidence_writer_set_source(fl_evidence_writer *w, fl_source *src,
				  char *err, size_t errlen);

/*
 * End of input at video time t: alarmed incidents are sealed with what they
 * have (and a note), the others discarded. A clip still being re-encoded
 * is waited for at most wait_s seconds, all incidents together (INFINITY:
 * as long as it takes, the end of a file); then it is cut where the
 * re-encoding got to, and a note says so (a stop must end in time:
 * docs/evidence.md, "Clip").
 */
void fl_evidence_writer_finish(fl_evidence_writer *w, double t, double wait_s);

/*
 * The plate of an open incident voted over the reads so far (fl_plate_vote
 * with FL_PLATE_MIN_CONF_SCRIPT; writer.c's note on plates): out
 * (caller-allocated) gets the text ("" = unread) and its confidence.
 * Returns 1 (read), 0 (unread), or FL_ENOENT when no read was tried (no
 * reader, plates off, an unknown incident, or not yet looked at).
 */
int fl_evidence_writer_plate(const fl_evidence_writer *w,
			     const char *incident_id, fl_plate_text *out);

typedef struct fl_evidence_stats {
	int sealed, discarded, failed; /* bundles */
	int images;                    /* image files written */
	double bytes;                  /* bytes of sealed bundles' files */
	double cpu_s, wall_s;          /* time spent in the writer */
	size_t preroll_bytes;          /* held by the pre-roll ring now */
	size_t preroll_peak;           /* and at most */
	double preroll_max_s;          /* the seconds it is sized for */
	double clip_cpu_s; /* CPU time of the clips' re-encoding workers */
} fl_evidence_stats;

void fl_evidence_writer_stats(const fl_evidence_writer *w,
			      fl_evidence_stats *st);

void fl_evidence_writer_destroy(fl_evidence_writer *w);

#endif /* FL_EVIDENCE_WRITER_H */
