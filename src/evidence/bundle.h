/*
 * bundle.h - writing one incident's evidence bundle: its files, then a
 * signed manifest, then one rename that makes it visible in the store.
 *
 * Life cycle: fl_bundle_begin() -> fl_bundle_add()/fl_bundle_path() +
 * fl_bundle_add_existing() -> fl_bundle_seal() (frees) or fl_bundle_abort()
 * (frees). A bundle is used from one thread at a time. The format is
 * described in docs/evidence.md.
 */
#ifndef FL_EVIDENCE_BUNDLE_H
#define FL_EVIDENCE_BUNDLE_H

#include <stddef.h>

#include "sign.h"
#include "store.h"

#define FL_EVIDENCE_FORMAT "firelane-evidence/1"

typedef struct fl_bundle fl_bundle;

typedef struct fl_bundle_info {
	const char *incident_id, *device, *site, *camera, *lane; /* ids */
	const char *site_name, *lane_name; /* display names, UTF-8, or NULL */
	double rest_since_wall, alarm_wall, cleared_wall; /* unix time (s);
							     cleared < 0 =
							     still open */
	double bbox[4];  /* x, y, w, h source pixels */
	const char *cls; /* "vehicle", "object", "person", "unknown" */
	double dwell_s;
} fl_bundle_info;

typedef struct fl_bundle_image { /* metadata of one image file */
	const char *kind;        /* "scene", "closeup", "composite", "plate" */
	int seq;              /* image sequence number in the incident, >= 1 */
	double wall;          /* unix time the frame was taken */
	double video_t;       /* video time of the frame */
	const char *time_utc; /* UTC, to the second: what the code signs */
	const char *time_local; /* the same instant as printed on the image:
				 * local time with its offset, or NULL */
	int banner_px;          /* the banner band's height above the picture */
	const char *code;       /* the anti-forgery code printed on it */
	const char *code_sig;   /* its signature (base64) */
	const char *overlay;    /* overlay lines as drawn, joined with '\n' */
	const double *plate;    /* plate box x,y,w,h in image pixels, or NULL */
	/* a camera with a record stream (docs/evidence.md, "Two streams"):
	 * which stream the picture is from ("record", "detect"), its frame's
	 * video time there and how the streams' clocks were aligned; NULL
	 * stream: one stream, no keys */
	const char *stream;
	double stream_t;
	const char *aligned;
} fl_bundle_image;

/*
 * Start a bundle in s's partial area (dir/.partial/<incident_id>/). Copies
 * info (strings included): the caller's may go away. incident_id, device,
 * camera and lane must be ids (fl_id_valid, src/core/id.h), the site a
 * plain name (no '/', no newline, not starting with '.'). Fails with FL_EFULL when the file system has less than
 * min_free_bytes or undelivered bundles fill max_bytes, FL_EINVAL for bad
 * info or an incident that already has a sealed bundle, FL_EIO otherwise.
 * s must outlive the bundle. Returns NULL on failure.
 */
fl_bundle *fl_bundle_begin(fl_store *s, const fl_bundle_info *info, char *err,
			   size_t errlen);

/* fl_bundle_begin() for callers that need the error code (FL_EFULL: prune or
 * alarm; FL_EIO: the disk): *out gets the bundle or NULL. */
int fl_bundle_start(fl_store *s, const fl_bundle_info *info, fl_bundle **out,
		    char *err, size_t errlen);

/*
 * Write one file into the bundle (atomically) and record its SHA-256, size
 * and metadata (img NULL for non-images; its strings are copied). name: a
 * plain file name, not manifest.json, manifest.sig or .delivered, not used
 * before in this bundle. Images must have kind, seq >= 1, time_utc, code and
 * code_sig. On failure nothing of name remains and b is still usable.
 */
int fl_bundle_add(fl_bundle *b, const char *name, const void *data, size_t len,
		  const fl_bundle_image *img, char *err, size_t errlen);

/* Path (inside the partial area) where a caller writes a file itself (the
 * video clip, written by the media layer). 0, or FL_EINVAL for a bad name or
 * a short buffer. */
int fl_bundle_path(const fl_bundle *b, const char *name, char *out,
		   size_t outlen);

/* Record a file the caller wrote at fl_bundle_path(b, name): fsync and hash
 * it. kind e.g. "clip"; t_from/t_to the span it covers in video time. */
int fl_bundle_add_existing(fl_bundle *b, const char *name, const char *kind,
			   double t_from, double t_to, char *err,
			   size_t errlen);

/* Times known only later, and notes ("left before the third image"; copied). */
/* The plate voted over the incident's reads, for the manifest: text (UTF-8,
 * copied; "" = unread, written as null) and its confidence. Not called:
 * the manifest has no plate fields (the device read none). NULL b is a
 * no-op. */
void fl_bundle_set_plate(fl_bundle *b, const char *text, double conf);

void fl_bundle_set_cleared(fl_bundle *b, double cleared_wall);
void fl_bundle_note(fl_bundle *b, const char *note);
/* The record stream's state for the manifest's "record" key ("ok", "lost":
 * see docs/evidence.md); a string constant. Unset: no key (one stream). */
void fl_bundle_set_record(fl_bundle *b, const char *state);

/*
 * Write manifest.json and manifest.sig (detached Ed25519 signature of the
 * exact bytes of manifest.json, base64 + "\n"), fsync, and rename the partial
 * folder to dir/<incident_id>/. Before signing, every image's code and
 * code_sig are checked against k (FL_EINVAL naming the file: a caller bug
 * would otherwise produce evidence that fails verification). Files present
 * in the partial folder but never added are an error. On success b is freed
 * and out_dir (may be NULL) gets the final path. On failure nothing
 * half-written is visible and b stays valid for fl_bundle_abort().
 */
int fl_bundle_seal(fl_bundle *b, const fl_key *k, char *out_dir, size_t outlen,
		   char *err, size_t errlen);

/* Remove the partial folder and free b (the object left before the alarm:
 * nothing kept). NULL-safe. */
void fl_bundle_abort(fl_bundle *b);

#endif /* FL_EVIDENCE_BUNDLE_H */
