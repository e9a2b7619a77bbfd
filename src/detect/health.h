/*
 * health.h - is the camera still showing the lane? Frozen image, covered
 * lens, view moved from its reference (see health.c for the model and
 * docs/health.md for the events).
 *
 * Pure computation on 8-bit gray frames at analysis resolution; no I/O, no
 * clocks (video time comes in), no allocation after create. One fl_health
 * per camera, created with fl_health_create() and freed with
 * fl_health_destroy() (NULL-safe). Used from one thread at a time.
 */
#ifndef FL_HEALTH_H
#define FL_HEALTH_H

#include <stdint.h>

typedef struct fl_health fl_health;

/* The conditions, as bits of fl_health_active(). */
enum fl_health_cond {
	FL_HEALTH_FROZEN = 1 << 0,  /* the picture does not change at all */
	FL_HEALTH_COVERED = 1 << 1, /* black, white or flat: no structure */
	FL_HEALTH_MOVED = 1 << 2    /* the view no longer matches its
				       reference */
};

#define FL_HEALTH_NCOND 3

/*
 * Thresholds. A zero field takes the default given here (fl_health_create()
 * fills them in); health.c's essay says where each default comes from.
 */
typedef struct fl_health_params {
	double frozen_s;      /* unchanged this long: frozen (15) */
	double frozen_change; /* a frame whose fraction of pixels changed by
				 >= 2 levels is below this is "the same"
				 (0.002) */
	double covered_s;     /* no structure this long: covered (10) */
	double covered_std;   /* structure: std of the 4x4-block means below
				 this is "no structure" (grey levels, 3) */
	double moved_s;       /* mismatch this long: moved (10) */
	double moved_shift;   /* best shift beyond this (analysis px): moved
				 (8) */
	double moved_corr;    /* best gradient correlation below this:
				 moved (0.4) */
	double learn_s;       /* no reference image: learn the view over
				 this long from the first frame (60) */
	double check_s;       /* compare with the reference this often (1) */
	double clear_s;       /* a raised condition must be gone this long
				 before it clears (5) */
} fl_health_params;

/* One start or end of a condition. */
typedef struct fl_health_change {
	int cond;   /* one enum fl_health_cond bit */
	int raised; /* 1: it starts, 0: it ends */
	double t;   /* video time of the frame that decided it */
} fl_health_change;

/* What the last frame measured, for logs, tests and tuning. */
typedef struct fl_health_figures {
	double changed;   /* fraction of pixels changed vs the previous
			      frame (-1 on the first frame after a gap) */
	double mean;      /* frame mean, grey levels */
	double structure; /* std of the 4x4-block means */
	double corr;      /* last reference check: best correlation, or -1
			      while there is no reference yet */
	double dx, dy;    /* its shift, analysis pixels */
	int ref_ready;    /* a reference is known */
} fl_health_figures;

/*
 * w x h analysis frames (at least 32 x 24). p may be NULL (all defaults).
 * Returns NULL on bad sizes, bad parameters or out of memory.
 */
fl_health *fl_health_create(const fl_health_params *p, int w, int h);
void fl_health_destroy(fl_health *hl);

/* The effective parameters (defaults filled in). */
const fl_health_params *fl_health_params_of(const fl_health *hl);

/*
 * Use img (w x h, tightly packed, borrowed for the call) as the view's
 * reference instead of learning it: the clear-lane reference image. Call
 * before the first frame.
 */
void fl_health_set_reference(fl_health *hl, const uint8_t *img);

/*
 * The view test on two pictures (w x h, borrowed for the call): the best
 * correlation of img's gradient field with ref's over shifts (the moved
 * check), with that shift in *dx, *dy (analysis pixels); -1 when the size
 * is too small to judge or memory runs out. For a remembered clear lane
 * against the first frame: a moved camera or a repainted lane does not
 * correlate, or only shifted.
 */
double fl_health_compare(const uint8_t *ref, const uint8_t *img, int w, int h,
			 double *dx, double *dy);

/*
 * Analyse one frame (w x h, tightly packed, borrowed for the call) at video
 * time t, ascending. Writes the conditions that start or end on this frame
 * into out (room for FL_HEALTH_NCOND) and returns how many.
 */
int fl_health_feed(fl_health *hl, const uint8_t *img, double t,
		   fl_health_change *out);

/*
 * The stream had a gap (a reconnect): the next frame is not compared with
 * the last one, and conditions that had not been raised yet start over.
 * Raised conditions stay raised until frames show they are gone.
 */
void fl_health_gap(fl_health *hl);

/* Bits of the conditions raised now. */
int fl_health_active(const fl_health *hl);

void fl_health_figures_of(const fl_health *hl, fl_health_figures *f);

/* "frozen", "covered", "moved"; "unknown" for anything else. */
const char *fl_health_cond_name(int cond);

#endif /* FL_HEALTH_H */
