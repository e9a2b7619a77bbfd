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
 * Where objects may come to rest (w x h, non-zero: yes), borrowed for the
 * fl_still's life; NULL (the default) everywhere. Pixels outside still
 * tell motion, light and the lane; nothing rests there (a cloud's shade
 * over a lawn far from any lane is nobody's obstruction, and would join
 * one that is).
 */
void fl_still_set_roi(fl_still *s, const uint8_t *roi);

/*
 * The clear lane as known now, to keep across a restart (the edge's
 * memory, docs/memory.md): bg gets the lane's grey levels (at the lighting
 * the model compares with), q per pixel 0 unknown, 1 assumed (the first
 * frame's view, never seen uncovered: it may hide something that stood
 * there at start), 2 seen (the lane itself: seen again after something
 * left, or a reference). Caller-allocated, w x h each.
 */
void fl_still_lane(const fl_still *s, uint8_t *bg, uint8_t *q);

/*
 * Start from a remembered clear lane (fl_still_lane() of an earlier run):
 * q 2 pixels are the lane as with a reference image, q 1 are assumed as
 * the first frame's would be, q 0 come from the first frame. Call before
 * the first frame; a reference, if any, comes first and wins.
 */
void fl_still_set_lane(fl_still *s, const uint8_t *bg, const uint8_t *q);

/*
 * What rests at each pixel (the remembered object where a pixel is at
 * rest, else the frame as it was analysed), w x h, into out: the look of
 * an incident's object to keep across a restart.
 */
void fl_still_resting_view(const fl_still *s, uint8_t *out);

/*
 * A box (analysis pixels) a detector finds standing in a lane when
 * monitoring starts: a seed. The current frame's pixels there are taken as
 * an object, at rest since `since` once they have stayed as they are for
 * rest_s; if most of them move or change in that time it was traffic, and
 * they go back to what they were. The lane under a confirmed seed, unless
 * already known, is learnt when it leaves. Call after fl_still_feed() of
 * that frame.
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
