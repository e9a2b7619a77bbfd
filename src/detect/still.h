/*
 * still.h - objects at rest: per-pixel memory of the clear lane and of what
 * came to rest on it (see still.c for the model).
 *
 * Pure computation on 8-bit gray frames at analysis resolution; no I/O, no
 * clocks (video time comes in). One fl_still per camera, created with
 * fl_still_create() and freed with fl_still_destroy() (NULL-safe).
 */
#ifndef FL_STILL_H
#define FL_STILL_H

#include <stddef.h>
#include <stdint.h>

#include "lane.h"

typedef struct fl_still fl_still;

typedef struct fl_still_params {
	double rest_s;   /* still this long: at rest (default 2) */
	double min_area; /* smallest blob, fraction of frame area */
} fl_still_params;

/* A blob of pixels at rest, in analysis pixels. */
typedef struct fl_blob {
	int x, y, w, h;    /* bounding box */
	int area;          /* pixels at rest in it */
	double rest_since; /* half its pixels have rested since then */
	int matched;       /* pixels showing the resting object now */
	int clear;         /* pixels showing the clear lane again */
	int seeded;        /* 1 if it came from fl_still_seed() */
	enum fl_seen seen; /* verdict from the three counts */
	int label;         /* component label in fl_still_labels() */
} fl_blob;

/* w x h analysis frames. Returns NULL on bad sizes or out of memory. */
fl_still *fl_still_create(const fl_still_params *p, int w, int h);
void fl_still_destroy(fl_still *s);

/*
 * Use img (w x h) as the clear-lane reference: what differs from it in the
 * first frames is at rest from the start. Call before the first frame.
 */
void fl_still_set_reference(fl_still *s, const uint8_t *img);

/*
 * Mark a box (analysis pixels) as an object at rest since time `since`, for
 * objects a detector finds standing in the lane when monitoring starts and
 * no reference shows the clear lane. The current frame's pixels there are
 * remembered as the object; the clear lane under it is unknown until it
 * leaves. Call after fl_still_feed() of that frame.
 */
void fl_still_seed(fl_still *s, int x, int y, int w, int h, double since);

/*
 * Analyse one frame (w x h, tightly packed) at video time t, ascending.
 * Returns the number of blobs found (also fl_still_blobs()).
 */
int fl_still_feed(fl_still *s, const uint8_t *img, double t);

/* The blobs of the last fed frame; borrowed until the next feed. */
const fl_blob *fl_still_blobs(const fl_still *s, int *n);

/* Component labels (w x h, 0 = none) of the last frame; borrowed. */
const int *fl_still_labels(const fl_still *s);

/*
 * Forget a blob's pixels as obstruction (a person at rest, say): they go
 * back to unknown and are re-learnt as they are seen, not as the object.
 */
void fl_still_forget(fl_still *s, const fl_blob *b);

/* Debug view: per pixel 0 none, 1 foreground, 2 candidate, 3 at rest. */
const uint8_t *fl_still_state(const fl_still *s);

#endif /* FL_STILL_H */
