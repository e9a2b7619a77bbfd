/*
 * still.c - objects at rest, from a per-pixel memory of the clear lane.
 *
 * A note on the model.
 *
 * Video surveillance tools usually keep one background model that slowly
 * absorbs whatever stops moving: good for spotting motion, fatal for a fire
 * lane, where the thing that stopped is the whole point. Here each pixel
 * keeps two memories (after Porikli's long- and short-term backgrounds):
 *
 *   bg   the clear lane, learnt only where the lane is seen clear and still;
 *   obj  the appearance of an object that came to rest on the pixel, with
 *        `since`, the time it became still, and `seen`, when it last showed.
 *
 * Every analysed frame each pixel is classified:
 *
 *   foreground  differs from bg beyond what lighting explains (below);
 *   moving      differs from the previous analysed frame;
 *   matching    equals the remembered object (for pixels holding one).
 *
 * and walks a three-state ladder:
 *
 *   NONE --foreground and still--> CAND --still for rest_s--> REST
 *   REST --clear lane seen for PIXEL_CLEAR_S--> NONE
 *
 * A REST pixel that shows neither its object nor the clear lane is hidden
 * (someone walks in front, a truck passes): it keeps its object and its
 * `since`. Only if something else stands still on it for a long time is the
 * new thing taken as the object (a new rest start), which the lane logic
 * reads as a new obstruction. The clear lane under a resting object is never
 * learnt from it, so a parked car never melts into the background.
 *
 * Start-up (docs/memory.md). Without a reference image or a remembered
 * lane (fl_still_set_lane()) the first frame is taken as the clear lane,
 * but a pixel trusts it only once it has looked the same for BG_TRUST_S on
 * end; what comes to rest on an untrusted pixel was something moving at
 * start-up, and becomes the lane instead of a ghost obstruction. Each
 * pixel knows what its lane is worth: seen (bg_ok: a reference, memory,
 * or the lane seen again after an object left), assumed from the first
 * frame (bg_first), or unknown (under a seeded object). What comes to
 * rest on an assumed lane may be the lane a parked car uncovered, or the
 * lane out of the shade it lay in at start: its outline decides
 * (is_ghost()). Objects a detector finds at start are
 * seeds, provisional until they have stood still for rest_s
 * (judge_seeds()).
 *
 * Lighting. A gain map (auto-exposure, clouds, lamp pools) is estimated each
 * frame: the median ratio frame/bg of clear pixels, globally and per cell of
 * a coarse grid, smoothed, and applied to bg and obj before comparing. What
 * the map leaves is told from objects by structure: a change is foreground
 * when it is large in ratio, or when the local pattern (normalised
 * cross-correlation over a small window) no longer matches the clear lane's.
 * Changes explained by light are learnt into bg slowly, and never beside an
 * object at rest, where a flat car body in the asphalt's grey would melt.
 * Where the lane is strongly textured and its pattern shows unchanged but
 * darker or brighter (a cloud's hard shade over a painted line, which the
 * coarse gain map misses), the pixel is foreground yet starts no candidate.
 * The same judgement is made again, over a whole group, before anything on
 * an assumed lane comes to rest: where the frame is the lane's pattern
 * times a gain that varies smoothly across the group (light_residual()),
 * it is the lane under a cloud's soft edge, not an object. Where the lane
 * there is too flat to tell, the outline decides, as below.
 *
 * Shake. The frame is first laid back over the clear lane by the whole-pixel
 * shift that fits best. On a steady camera the half pixel left is tolerated
 * by the motion test, which allows for it on edges. Once a shift has been
 * undone the camera counts as shaky for a while, and every comparison (with
 * the clear lane, the previous frame, the snapshot, the remembered object)
 * is against the 3x3 range of the reference around the pixel: a residual
 * shift of up to a pixel then changes nothing, without resampling (which
 * would blur every edge). Not always: the range also forgives a slow shadow
 * edge, and costs sensitivity on a textured lane.
 *
 * Motion. Foreground pixels form connected "things"; a thing that moves
 * anywhere (against the previous frame or one 1-2 s old) is not at rest
 * anywhere, so the flat side of a truck gliding past, which matches itself
 * pixel by pixel, never reaches REST. The object's rest start is back-dated
 * to when its pixels became still, so confirming rest costs no dwell time.
 * Inside the box of a moving thing nothing is learnt about what rests there:
 * a resting pixel is hidden, neither clear nor replaced (the side of a
 * passing truck, a headlight pool sweeping over a dark car).
 *
 * Blobs: REST pixels are grouped into 8-connected components after a 5x5
 * closing, and pieces that lie close and came to rest together are one
 * object (a car whose grey body leaves only windows and bumper). Each blob
 * reports its box, the median rest start of its pixels and how many of them
 * now match the object or show the clear lane, which gives the lane logic
 * its PRESENT / HIDDEN / GONE verdict. A blob whose box slides off its
 * anchor at about its own size renews its rest start (a crawler; a box
 * that merged with or split from another is only re-anchored); where a
 * blob was seen GONE, its pixels that match again later renew theirs
 * (another car of the same colour in the same place). GONE counts, with
 * the pixels that show the lane now, those that showed it since their
 * object last did and are hidden again: the next car that drives in right
 * behind the one leaving never lets most of the lane show at once.
 */
#include "still.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"
#include "geom.h"

enum px_state { PX_NONE = 0, PX_CAND = 1, PX_REST = 2, PX_SEED = 3 };

#define T_ABS 16.0        /* grey levels: below is noise */
#define T_RATIO_LO 0.70   /* darker than this ratio: foreground */
#define T_RATIO_HI 1.40   /* brighter than this: foreground */
#define T_MOVE 12.0       /* frame-to-frame change that is motion */
#define T_MATCH 18.0      /* still the remembered object */
#define NCC_WIN 3         /* half window of the structure test */
#define NCC_MIN 0.45      /* below: the pattern changed */
#define SHADE_NCC 0.9     /* at least, textured: the lane in shade */
#define TEXTURE_VAR 40.0  /* variance that makes a window "textured" */
#define BG_RATE 0.04      /* clear-lane learning rate per frame */
#define OBJ_RATE 0.05     /* object appearance tracking rate */
#define PIXEL_CLEAR_S 1.0 /* clear lane seen this long: pixel is free */
#define REPLACE_S 8.0     /* another thing still this long replaces obj */
#define BG_TRUST_S 1.0    /* clear lane seen still this long is trusted */
#define MAX_BLOBS 64
#define FG_BIT 1       /* s->fg: differs from the clear lane */
#define MOVING_BIT 2   /* s->fg: differs from the previous frame */
#define DRIFT_BIT 4    /* s->fg: differs from 1-2 s ago */
#define SHADE_BIT 8    /* s->fg: brighter or darker, same pattern */
#define PATTERN_BIT 16 /* s->fg: the lane's pattern, or too flat to tell */
#define SHAKE_R 3      /* largest shake undone, analysis pixels */
#define MAX_PIECES 512
#define GROUP_GAP 6       /* pieces this close may be one object */
#define GROUP_SINCE_S 2.0 /* ... if they came to rest this close in time */
#define GAIN_GW 8         /* cells of the local gain map */
#define GAIN_GH 6
#define SHAKY_S 10.0 /* a shift undone: shaky for this long */
#define BUSY_GROW 2  /* a moving thing's box grown by this */
#define SNAP_S 1.0   /* interval of the slow-motion snapshots */
#define MAX_SEEDS 16
#define SEED_KEEP 0.6       /* of a seed's pixels unchanged: confirmed */
#define GHOST_RATIO 0.3     /* edge contrast now / then below: a ghost */
#define UNKNOWN_CLEAR_S 2.0 /* a seed's pixels changed this long: lane */
#define OUTLINE_MIN_EDGE 8  /* boundary pixels needed to judge an outline */
#define OUTLINE_MIN                                                            \
	0.06               /* of the lane's grey across its edge: less, no
			     * object (6 levels by day, 2 on a dark lane) */
#define OUTLINE_GRAIN 1.3  /* ... nor less than this times the lane's grain */
#define LIGHT_MIN_PX 8     /* pixels needed to tell the lane in light */
#define LIGHT_RESIDUAL 0.5 /* less of the lane's pattern left: light */

/* A connected piece of resting pixels, before pieces are grouped. */
typedef struct piece {
	int x0, y0, x1, y1;
	int rest, matched, clear, seeded, amb;
	int left;     /* hidden now, but showed the lane after the object */
	double since; /* median rest start of its pixels */
	int root;     /* union-find parent, an index into the pieces */
} piece;

struct fl_still {
	fl_still_params p;
	int w, h;
	size_t n;
	int frames;
	double gain;
	double last_t, dt; /* time of the previous frame, and since it */
	float *bg, *obj, *prev;
	float *since, *seen, *clear_since, *still_since, *other_since;
	float *bg_age; /* how long the clear lane was seen still */
	uint8_t *state, *bg_known, *seeded, *view;
	uint8_t *bg_ok;    /* the clear lane here is known, not just assumed */
	uint8_t *bg_first; /* ... assumed from the first frame: may be a car */
	uint8_t *ready;    /* scratch: still long enough, lane or object? */
	int any_ready;
	uint8_t *changed_px; /* a seed's pixel that moved or changed */
	uint8_t *amb;        /* at rest, showing both its object and the lane */
	uint8_t *lit;        /* may tell the light in the next frame */
	const uint8_t *roi;  /* where objects may rest (borrowed), or NULL */
	/* Objects a detector found in the first frame, not yet confirmed
	 * (fl_still_seed()): box, analysis time of the seed. */
	struct {
		int x0, y0, x1, y1;
		double t;
		int used;
	} seeds[MAX_SEEDS];
	/* scratch */
	float *snap_old, *snap_new; /* frames 1-2 s and 0-1 s old */
	/* 3x3 ranges (min, max) of the previous frame, of the snapshots and
	 * of the clear lane: what a residual shift of a pixel can show */
	float *prev_lo, *prev_hi, *old_lo, *old_hi;
	float *bg_lo, *bg_hi, *obj_lo, *obj_hi, *rtmp_lo, *rtmp_hi;
	float *gmap; /* local gain, per pixel (local_gain()) */
	double snap_t;
	int shift_x, shift_y; /* shake undone in the last frame */
	double shake_t;       /* when a shift was last undone */
	int shaky;            /* shake was undone within SHAKY_S */
	float *img, *sum_i, *sum_b, *sum_ii, *sum_bb, *sum_ib, *scratch;
	uint8_t *fg, *mask, *tmp;
	uint8_t *thing_moves; /* per label of find_moving_things() */
	uint8_t *busy;        /* inside the box of a moving thing */
	int *busy_acc; /* (w+1) x (h+1) scratch of find_moving_things() */
	uint8_t *gap;  /* the clear lane showed since the object did */
	uint8_t *left; /* ... and may be hidden again since */
	int *labels, *stack;
	fl_blob blobs[MAX_BLOBS];
	int nblobs;
	piece *pieces; /* MAX_PIECES, scratch of find_blobs() */
	/* Each blob's anchor: its box when it last stood still, and when it
	 * last moved (creep); carried from frame to frame by overlap. */
	double anchor[MAX_BLOBS][4], moved[MAX_BLOBS];
	double prev_anchor[MAX_BLOBS][4], prev_moved[MAX_BLOBS];
	double prev_box[MAX_BLOBS][4], prev_since[MAX_BLOBS];
	int nprev;
	int have_ref;
};

fl_still *fl_still_create(const fl_still_params *p, int w, int h)
{
	fl_still *s;
	size_t n;

	if (w < 8 || h < 8 || w > 4096 || h > 4096)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	n = (size_t)w * (size_t)h;
	s->p = *p;
	if (s->p.rest_s <= 0)
		s->p.rest_s = 2.0;
	if (s->p.min_area <= 0)
		s->p.min_area = 0.0004;
	s->w = w;
	s->h = h;
	s->n = n;
	s->gain = 1.0;
	s->shake_t = -1e9;
	float **fl[] = { &s->bg,          &s->obj,         &s->prev,
			 &s->since,       &s->seen,        &s->clear_since,
			 &s->still_since, &s->other_since, &s->img,
			 &s->scratch,     &s->bg_age,      &s->snap_old,
			 &s->snap_new,    &s->gmap,        &s->prev_lo,
			 &s->prev_hi,     &s->old_lo,      &s->old_hi,
			 &s->bg_lo,       &s->bg_hi,       &s->obj_lo,
			 &s->obj_hi,      &s->rtmp_lo,     &s->rtmp_hi };
	for (size_t i = 0; i < FL_ARRAY_SIZE(fl); i++)
		*fl[i] = calloc(n, sizeof(float));
	float **in[] = { &s->sum_i, &s->sum_b, &s->sum_ii, &s->sum_bb,
			 &s->sum_ib };
	for (size_t i = 0; i < FL_ARRAY_SIZE(in); i++)
		*in[i] = calloc((size_t)(w + 1) * (size_t)(h + 1),
				sizeof(float));
	uint8_t **by[] = { &s->state,      &s->bg_known,    &s->seeded,
			   &s->view,       &s->fg,          &s->mask,
			   &s->tmp,        &s->thing_moves, &s->gap,
			   &s->busy,       &s->bg_ok,       &s->ready,
			   &s->changed_px, &s->bg_first,    &s->amb,
			   &s->lit,        &s->left };
	for (size_t i = 0; i < FL_ARRAY_SIZE(by); i++)
		*by[i] = calloc(n, 1);
	s->labels = calloc(n, sizeof(int));
	s->busy_acc = calloc((size_t)(w + 1) * (size_t)(h + 1), sizeof(int));
	s->pieces = calloc(MAX_PIECES, sizeof(*s->pieces));
	s->stack = calloc(n, sizeof(int));
	if (!s->bg || !s->obj || !s->prev || !s->since || !s->seen ||
	    !s->clear_since || !s->still_since || !s->other_since || !s->img ||
	    !s->scratch || !s->bg_age || !s->snap_old || !s->snap_new ||
	    !s->gmap || !s->prev_lo || !s->prev_hi || !s->old_lo ||
	    !s->old_hi || !s->bg_lo || !s->bg_hi || !s->obj_lo || !s->obj_hi ||
	    !s->rtmp_lo || !s->rtmp_hi || !s->sum_i || !s->sum_b ||
	    !s->sum_ii || !s->sum_bb || !s->sum_ib || !s->state ||
	    !s->bg_known || !s->seeded || !s->view || !s->fg || !s->bg_ok ||
	    !s->ready || !s->changed_px || !s->bg_first || !s->amb || !s->lit ||
	    !s->mask || !s->tmp || !s->thing_moves || !s->gap || !s->left ||
	    !s->busy || !s->busy_acc || !s->labels || !s->stack || !s->pieces) {
		fl_still_destroy(s);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		s->gmap[i] = 1.0f;
	return s;
}

void fl_still_destroy(fl_still *s)
{
	if (!s)
		return;
	free(s->bg);
	free(s->obj);
	free(s->prev);
	free(s->since);
	free(s->seen);
	free(s->clear_since);
	free(s->still_since);
	free(s->other_since);
	free(s->img);
	free(s->scratch);
	free(s->bg_age);
	free(s->snap_old);
	free(s->snap_new);
	free(s->gmap);
	free(s->prev_lo);
	free(s->prev_hi);
	free(s->old_lo);
	free(s->old_hi);
	free(s->bg_lo);
	free(s->bg_hi);
	free(s->obj_lo);
	free(s->obj_hi);
	free(s->rtmp_lo);
	free(s->rtmp_hi);
	free(s->sum_i);
	free(s->sum_b);
	free(s->sum_ii);
	free(s->sum_bb);
	free(s->sum_ib);
	free(s->state);
	free(s->bg_known);
	free(s->bg_ok);
	free(s->bg_first);
	free(s->amb);
	free(s->lit);
	free(s->ready);
	free(s->changed_px);
	free(s->seeded);
	free(s->view);
	free(s->fg);
	free(s->mask);
	free(s->tmp);
	free(s->thing_moves);
	free(s->busy);
	free(s->busy_acc);
	free(s->gap);
	free(s->left);
	free(s->labels);
	free(s->pieces);
	free(s->stack);
	free(s);
}

void fl_still_set_roi(fl_still *s, const uint8_t *roi)
{
	s->roi = roi;
}

void fl_still_lane(const fl_still *s, uint8_t *bg, uint8_t *q)
{
	for (size_t i = 0; i < s->n; i++) {
		bg[i] = (uint8_t)FL_MIN(255, FL_MAX(0, lroundf(s->bg[i])));
		q[i] = !s->bg_known[i] ? 0 : s->bg_ok[i] ? 2 : 1;
	}
}

void fl_still_set_lane(fl_still *s, const uint8_t *bg, const uint8_t *q)
{
	if (s->have_ref)
		return;
	for (size_t i = 0; i < s->n; i++) {
		if (!q[i])
			continue;
		s->bg[i] = bg[i];
		s->bg_known[i] = 1;
		s->bg_ok[i] = q[i] == 2;
		s->bg_first[i] = q[i] == 1;
		s->bg_age[i] = BG_TRUST_S; /* unchanged across the restart */
	}
}

void fl_still_resting_view(const fl_still *s, uint8_t *out)
{
	for (size_t i = 0; i < s->n; i++) {
		float v = s->state[i] == PX_REST ? s->obj[i] * s->gmap[i]
						 : s->img[i];
		out[i] = (uint8_t)FL_MIN(255, FL_MAX(0, lroundf(v)));
	}
}

void fl_still_set_reference(fl_still *s, const uint8_t *img)
{
	for (size_t i = 0; i < s->n; i++) {
		s->bg[i] = img[i];
		s->bg_known[i] = 1;
		s->bg_ok[i] = 1;
		s->bg_age[i] = BG_TRUST_S;
	}
	s->have_ref = 1;
}

/* Integral images of I, B, I^2, B^2 and I*B for the windowed structure
 * test; B is the gain-compensated clear lane. */
static void integrals(fl_still *s)
{
	int w = s->w, h = s->h, W = w + 1;

	for (int y = 0; y < h; y++) {
		float ri = 0, rb = 0, rii = 0, rbb = 0, rib = 0;
		for (int x = 0; x < w; x++) {
			size_t k = (size_t)y * w + x;
			size_t o = (size_t)(y + 1) * W + (x + 1);
			size_t u = (size_t)y * W + (x + 1);
			float i = s->img[k], b = s->bg[k] * s->gmap[k];
			ri += i;
			rb += b;
			rii += i * i;
			rbb += b * b;
			rib += i * b;
			s->sum_i[o] = s->sum_i[u] + ri;
			s->sum_b[o] = s->sum_b[u] + rb;
			s->sum_ii[o] = s->sum_ii[u] + rii;
			s->sum_bb[o] = s->sum_bb[u] + rbb;
			s->sum_ib[o] = s->sum_ib[u] + rib;
		}
	}
}

static float box_sum(const float *sum, int W, int x0, int y0, int x1, int y1)
{
	return sum[(size_t)y1 * W + x1] - sum[(size_t)y0 * W + x1] -
	       sum[(size_t)y1 * W + x0] + sum[(size_t)y0 * W + x0];
}

/* Does the local pattern around (x, y) still look like the clear lane?
 * 1 same structure, 0 changed, -1 too flat to tell; 2 the very same,
 * strongly textured pattern (whatever its brightness: the lane in shade). */
static int same_structure(const fl_still *s, int x, int y)
{
	int W = s->w + 1;
	int x0 = FL_MAX(0, x - NCC_WIN), y0 = FL_MAX(0, y - NCC_WIN);
	int x1 = FL_MIN(s->w, x + NCC_WIN + 1),
	    y1 = FL_MIN(s->h, y + NCC_WIN + 1);
	float n = (float)((x1 - x0) * (y1 - y0));
	float si = box_sum(s->sum_i, W, x0, y0, x1, y1);
	float sb = box_sum(s->sum_b, W, x0, y0, x1, y1);
	float vi = box_sum(s->sum_ii, W, x0, y0, x1, y1) / n -
		   (si / n) * (si / n);
	float vb = box_sum(s->sum_bb, W, x0, y0, x1, y1) / n -
		   (sb / n) * (sb / n);
	float cov = box_sum(s->sum_ib, W, x0, y0, x1, y1) / n -
		    (si / n) * (sb / n);

	if (vi < TEXTURE_VAR && vb < TEXTURE_VAR)
		return -1;
	if (vi < TEXTURE_VAR / 4 || vb < TEXTURE_VAR / 4)
		return 0; /* texture appeared or vanished */
	float ncc = cov / sqrtf(vi * vb);
	if (ncc >= SHADE_NCC && vb >= 4 * TEXTURE_VAR && vi >= TEXTURE_VAR)
		return 2;
	return ncc >= NCC_MIN;
}

/*
 * Camera shake: a pole sways, a truck shakes the mount. Find the integer
 * shift (within SHAKE_R analysis pixels) that best lays the frame over the
 * clear lane, judged on textured clear-lane pixels where a shift shows, and
 * move the frame back by it before anything compares pixels.
 */
static void stabilise(fl_still *s)
{
	int w = s->w, h = s->h, R = SHAKE_R;
	double sad[2 * SHAKE_R + 1][2 * SHAKE_R + 1];
	int bx = 0, by = 0;
	float g = (float)s->gain;

	int *at = s->stack; /* scratch: labelling comes later */
	int n = 0;

	/* The pixels that judge: textured clear lane, sampled. */
	for (int y = R + 1; y < h - R - 1; y += 3)
		for (int x = R + 1; x < w - R - 1; x += 3) {
			size_t k = (size_t)y * w + x;
			if (s->bg_known[k] && s->state[k] == PX_NONE &&
			    fabsf(s->bg[k + 1] - s->bg[k - 1]) +
					    fabsf(s->bg[k + w] - s->bg[k - w]) >=
				    24)
				at[n++] = (int)k;
		}
	if (n < 50)
		return;
	for (int dy = -R; dy <= R; dy++)
		for (int dx = -R; dx <= R; dx++) {
			const float *img = s->img + dy * w + dx;
			float sum = 0;
			/* truncated: whatever covers the lane costs every
			 * shift alike */
			for (int i = 0; i < n; i++)
				sum += FL_MIN(30.0f, fabsf(img[at[i]] -
							   g * s->bg[at[i]]));
			sad[dy + R][dx + R] = sum;
			if (sum < sad[by + R][bx + R])
				bx = dx, by = dy;
		}
	/* Whole pixels only: resampling would blur every edge and read as
	 * motion; the half-pixel left over is tolerated by the motion test. */
	if ((bx == 0 && by == 0) || sad[by + R][bx + R] > 0.9 * sad[R][R])
		return;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int xx = FL_MIN(w - 1, FL_MAX(0, x + bx));
			int yy = FL_MIN(h - 1, FL_MAX(0, y + by));
			s->scratch[(size_t)y * w + x] =
				s->img[(size_t)yy * w + xx];
		}
	memcpy(s->img, s->scratch, s->n * sizeof(float));
	s->shift_x = bx;
	s->shift_y = by;
	s->shake_t = s->last_t;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

/*
 * May pixel k tell how the lane is lit now? Where it showed the lane in the
 * last frame, or a candidate that kept the lane's pattern (or is too flat
 * to tell) and is no moving thing: a cloud's shade on a far lane darkens it
 * past the foreground test, and were those pixels left out, no gain could
 * ever explain it (it would come to rest as an object). Not what rests, nor
 * an object's own pattern (a car stopping), nor what moves (a truck's grey
 * side, a head-light pool beside a car, which would lift the car's gain
 * until it looks like lane). s->lit is set as pixels are stepped.
 */
static int shows_light(const fl_still *s, size_t k)
{
	return s->bg_known[k] && s->bg[k] >= 8 && s->lit[k];
}

/*
 * Local gain: cloud shadows and lamp pools light parts of the view, not all
 * of it. The view is cut into GAIN_GW x GAIN_GH cells; each takes the median
 * ratio frame/clear-lane of its clear pixels away from resting objects, then
 * the median of its neighbourhood (so a car filling one cell cannot pass for
 * a shadow), bounded to within a factor of two of the global gain. s->gmap
 * interpolates the cells bilinearly to every pixel.
 */
static void local_gain(fl_still *s)
{
	float cell[GAIN_GH][GAIN_GW], smooth[GAIN_GH][GAIN_GW];
	float buf[512], g = (float)s->gain;
	float colv[GAIN_GW], ax[4096];
	int xa[4096], xb[4096];
	int w = s->w, h = s->h;

	/* medians of ratios (a median commutes with the logarithm) */
	for (int cy = 0; cy < GAIN_GH; cy++)
		for (int cx = 0; cx < GAIN_GW; cx++) {
			int x0 = cx * w / GAIN_GW, x1 = (cx + 1) * w / GAIN_GW;
			int y0 = cy * h / GAIN_GH, y1 = (cy + 1) * h / GAIN_GH;
			int n = 0;
			for (int y = y0 + 1; y < y1 && n < 512; y += 3)
				for (int x = x0 + 1; x < x1 && n < 512;
				     x += 3) {
					size_t k = (size_t)y * w + x;
					if (!shows_light(s, k) || s->mask[k])
						continue;
					buf[n++] = s->img[k] / s->bg[k];
				}
			if (n < 20) {
				cell[cy][cx] = g;
				continue;
			}
			qsort(buf, (size_t)n, sizeof(float), cmp_float);
			cell[cy][cx] = FL_MIN(2 * g, FL_MAX(g / 2, buf[n / 2]));
		}
	for (int cy = 0; cy < GAIN_GH; cy++)
		for (int cx = 0; cx < GAIN_GW; cx++) {
			int n = 0;
			for (int dy = -1; dy <= 1; dy++)
				for (int dx = -1; dx <= 1; dx++) {
					int yy = cy + dy, xx = cx + dx;
					if (yy >= 0 && xx >= 0 &&
					    yy < GAIN_GH && xx < GAIN_GW)
						buf[n++] = cell[yy][xx];
				}
			qsort(buf, (size_t)n, sizeof(float), cmp_float);
			smooth[cy][cx] = buf[n / 2];
		}
	/* bilinear between cell centres: the column weights once, then per
	 * row the cells' values at that row, then along the row */
	for (int x = 0; x < w; x++) {
		float fx = ((float)x + 0.5f) * GAIN_GW / w - 0.5f;
		int x0 = (int)floorf(fx);
		ax[x] = fx - (float)x0;
		xa[x] = FL_MAX(0, FL_MIN(GAIN_GW - 1, x0));
		xb[x] = FL_MAX(0, FL_MIN(GAIN_GW - 1, x0 + 1));
	}
	for (int y = 0; y < h; y++) {
		float fy = ((float)y + 0.5f) * GAIN_GH / h - 0.5f;
		int y0 = (int)floorf(fy);
		float ay = fy - (float)y0;
		int ya = FL_MAX(0, FL_MIN(GAIN_GH - 1, y0));
		int yb = FL_MAX(0, FL_MIN(GAIN_GH - 1, y0 + 1));
		float *row = s->gmap + (size_t)y * w;
		for (int cx = 0; cx < GAIN_GW; cx++)
			colv[cx] = smooth[ya][cx] * (1 - ay) +
				   smooth[yb][cx] * ay;
		for (int x = 0; x < w; x++)
			row[x] = colv[xa[x]] * (1 - ax[x]) +
				 colv[xb[x]] * ax[x];
	}
}

/* Global gain: median of frame/bg over clear, known pixels (sampled). */
static void estimate_gain(fl_still *s)
{
	enum { BINS = 256 };
	int hist[BINS] = { 0 };
	int total = 0, acc = 0;

	for (size_t i = 0; i < s->n; i += 7) {
		float b = s->bg[i];
		if (!shows_light(s, i))
			continue;
		/* log2 ratio in [-2, 2] over 256 bins */
		float r = log2f(s->img[i] / b);
		int bin = (int)((r + 2.0f) * (BINS / 4.0f));
		if (bin < 0 || bin >= BINS)
			continue;
		hist[bin]++;
		total++;
	}
	if (total >= 50) {
		for (int b = 0; b < BINS; b++) {
			acc += hist[b];
			if (acc * 2 >= total) {
				s->gain = exp2((b + 0.5) / (BINS / 4.0) - 2.0);
				break;
			}
		}
	}
	local_gain(s);
}

/* Foreground: differs from the clear lane beyond noise and lighting, and
 * beyond what the lane shows within a pixel of here (residual shake). */
static int is_fg(const fl_still *s, size_t k, int x, int y)
{
	float g = s->gmap[k], i = s->img[k];
	float b = s->bg[k] * g;

	if (!s->bg_known[k] || fabsf(i - b) < T_ABS)
		return 0;
	/* While shaking, a stabilised frame sits within half a pixel of the
	 * lane: its values may lie half way to the neighbours' (a brightness
	 * test only; the structure test below compares whole windows). */
	if (s->shaky)
		b = FL_MIN((s->bg[k] + s->bg_hi[k]) * 0.5f * g,
			   FL_MAX((s->bg[k] + s->bg_lo[k]) * 0.5f * g, i));
	int st = same_structure(s, x, y);
	if (fabsf(i - b) >= T_ABS) {
		float r = (i + 4) / (b + 4);
		/* foreground by brightness; but a painted line in a cloud's
		 * shade keeps its pattern exactly: nothing new rests there */
		if (r < T_RATIO_LO || r > T_RATIO_HI)
			return st >= 1   ? FG_BIT | SHADE_BIT | PATTERN_BIT
			       : st != 0 ? FG_BIT | PATTERN_BIT
					 : FG_BIT;
	}
	return st == 0;
}

/*
 * lo and hi get the minimum and maximum of src over each pixel's 3x3
 * neighbourhood (separable; edges repeated). Comparing a pixel with the
 * range of an earlier frame around it, rather than with the one pixel,
 * forgives a shift of up to a pixel: the camera shake that whole-pixel
 * stabilising leaves, without blurring anything.
 */
static void range3(fl_still *s, const float *src, float *lo, float *hi)
{
	int w = s->w, h = s->h;
	float *tl = s->rtmp_lo, *th = s->rtmp_hi;

	for (int y = 0; y < h; y++) {
		const float *r = src + (size_t)y * w;
		float *ol = tl + (size_t)y * w, *oh = th + (size_t)y * w;
		ol[0] = FL_MIN(r[0], r[1]);
		oh[0] = FL_MAX(r[0], r[1]);
		for (int x = 1; x < w - 1; x++) {
			ol[x] = FL_MIN(r[x - 1], FL_MIN(r[x], r[x + 1]));
			oh[x] = FL_MAX(r[x - 1], FL_MAX(r[x], r[x + 1]));
		}
		ol[w - 1] = FL_MIN(r[w - 2], r[w - 1]);
		oh[w - 1] = FL_MAX(r[w - 2], r[w - 1]);
	}
	for (int y = 0; y < h; y++) {
		size_t up = (size_t)FL_MAX(0, y - 1) * w, mid = (size_t)y * w;
		size_t dn = (size_t)FL_MIN(h - 1, y + 1) * w;
		for (int x = 0; x < w; x++) {
			lo[mid + x] = FL_MIN(tl[up + x],
					     FL_MIN(tl[mid + x], tl[dn + x]));
			hi[mid + x] = FL_MAX(th[up + x],
					     FL_MAX(th[mid + x], th[dn + x]));
		}
	}
}

static void first_frame(fl_still *s, double t)
{
	s->snap_t = t;
	for (size_t i = 0; i < s->n; i++) {
		s->prev[i] = s->img[i];
		s->snap_old[i] = s->img[i];
		s->snap_new[i] = s->img[i];
		if (!s->bg_known[i]) { /* no reference, no memory here */
			s->bg[i] = s->img[i];
			s->bg_known[i] = 1;
			s->bg_first[i] = 1;
		}
		s->still_since[i] = -1;
		s->clear_since[i] = -1;
		s->other_since[i] = -1;
		s->lit[i] = 1;
	}
}

/*
 * Has pixel k changed since the earlier frame `then`, beyond noise? On a
 * steady camera, beyond what a shift of half a pixel does on an edge of that
 * frame. While the camera shakes (stabilising found whole-pixel shifts
 * lately), beyond what that frame showed within a pixel of here (lo, hi: its
 * 3x3 ranges), which forgives the residual shift without blurring anything.
 * The range test is not used always: it also forgives a slow shadow edge
 * creeping less than a pixel per frame.
 */
static int changed(const fl_still *s, const float *then, const float *lo,
		   const float *hi, size_t k, int x, int y)
{
	float i = s->img[k], d = fabsf(i - then[k]), grad = 0;

	if (d <= T_MOVE)
		return 0;
	if (s->shaky)
		return i > hi[k] + T_MOVE || i < lo[k] - T_MOVE;
	if (x > 0 && y > 0 && x < s->w - 1 && y < s->h - 1)
		grad = FL_MAX(fabsf(then[k + 1] - then[k - 1]),
			      fabsf(then[k + s->w] - then[k - s->w])) /
		       2;
	return d > T_MOVE + 0.75f * grad;
}

/*
 * Label the connected regions of foreground ("things") into s->labels and
 * mark in s->thing_moves those with any moving pixel. A thing that moves
 * anywhere is not at rest anywhere: the flat side of a truck gliding past
 * looks still pixel by pixel, but its front and back edges move. Motion here
 * also counts change against a snapshot one to two seconds old, so a truck
 * crawling off into the distance by half a pixel a frame still moves.
 *
 * The boxes of moving things (a little grown) are marked in s->busy: what
 * shows there says nothing about what rests behind. A grey truck side over
 * a parked car is not foreground (it looks like asphalt) yet it is not the
 * clear lane either, and a headlight pool sweeping over a dark car can make
 * it look like lit road; neither may end the car's rest, nor replace it.
 */
static void find_moving_things(fl_still *s)
{
	int w = s->w, h = s->h, W = w + 1, label = 0, any = 0;
	int *acc = s->busy_acc;

	memset(s->labels, 0, s->n * sizeof(int));
	for (size_t start = 0; start < s->n; start++) {
		int sp = 0, moves = 0, lit = 0;
		int x0 = w, y0 = h, x1 = -1, y1 = -1;

		if (!(s->fg[start] & FG_BIT) || s->labels[start])
			continue;
		label++;
		s->labels[start] = label;
		s->stack[sp++] = (int)start;
		while (sp) {
			int k = s->stack[--sp], x = k % w, y = k / w;
			if (s->fg[k] & SHADE_BIT)
				lit |= s->fg[k] & (MOVING_BIT | DRIFT_BIT);
			else
				moves |= s->fg[k] & (MOVING_BIT | DRIFT_BIT);
			x0 = FL_MIN(x0, x);
			x1 = FL_MAX(x1, x);
			y0 = FL_MIN(y0, y);
			y1 = FL_MAX(y1, y);
			for (int d = 0; d < 4; d++) {
				int xx = x + (d == 0) - (d == 1);
				int yy = y + (d == 2) - (d == 3);
				size_t kk = (size_t)yy * w + xx;
				if (xx < 0 || yy < 0 || xx >= w || yy >= h ||
				    !(s->fg[kk] & FG_BIT) || s->labels[kk])
					continue;
				s->labels[kk] = label;
				s->stack[sp++] = (int)kk;
			}
		}
		/* Light moving over a thing (a cloud's shade drifting past a
		 * parked car, joined to it) hides what is under it, but does
		 * not keep the thing from being still: the car's alarm came
		 * only when the cloud had gone, seconds late. */
		s->thing_moves[label] = moves != 0;
		if (!moves && !lit)
			continue;
		if (!any)
			memset(acc, 0,
			       (size_t)W * (size_t)(h + 1) * sizeof(int));
		any = 1;
		/* the grown box, as corners of a 2-D difference array */
		x0 = FL_MAX(0, x0 - BUSY_GROW);
		y0 = FL_MAX(0, y0 - BUSY_GROW);
		x1 = FL_MIN(w - 1, x1 + BUSY_GROW) + 1;
		y1 = FL_MIN(h - 1, y1 + BUSY_GROW) + 1;
		acc[(size_t)y0 * W + x0]++;
		acc[(size_t)y0 * W + x1]--;
		acc[(size_t)y1 * W + x0]--;
		acc[(size_t)y1 * W + x1]++;
	}
	s->thing_moves[0] = 0;
	if (!any) {
		memset(s->busy, 0, s->n);
		return;
	}
	for (int y = 0; y < h; y++) {
		int run = 0;
		for (int x = 0; x < w; x++) {
			if (y > 0)
				acc[(size_t)y * W + x] +=
					acc[(size_t)(y - 1) * W + x];
			run += acc[(size_t)y * W + x];
			s->busy[(size_t)y * w + x] = run > 0;
		}
	}
}

/* Does pixel k (value i, local gain g) still show its remembered object?
 * While the camera shakes, anywhere within a pixel of it. */
static int matches_obj(const fl_still *s, size_t k, float i, float g)
{
	if (s->shaky)
		return i > s->obj_lo[k] * g - T_MATCH &&
		       i < s->obj_hi[k] * g + T_MATCH;
	return fabsf(i - s->obj[k] * g) < T_MATCH;
}

/* A pixel's clear lane becomes what it shows now (or showed while still),
 * judged to be the lane; still an assumption, which a ghost test may undo
 * later (part of a car that parked over its own first-frame place, taken
 * for lane, shows the real lane as a ghost when the car leaves). */
static void learn_lane(fl_still *s, size_t k, float v)
{
	s->bg[k] = v;
	s->bg_known[k] = 1;
	s->bg_ok[k] = 0;
	s->bg_first[k] = 1;
	s->bg_age[k] = BG_TRUST_S; /* may be judged again at once */
	s->state[k] = PX_NONE;
	s->seeded[k] = 0;
}

/* A candidate still for rest_s comes to rest, back-dated to when it
 * became still. */
static void come_to_rest(fl_still *s, size_t k, double t)
{
	s->state[k] = PX_REST;
	s->gap[k] = 0;
	s->left[k] = 0;
	s->since[k] = s->still_since[k];
	s->seen[k] = (float)t;
	s->clear_since[k] = -1;
	s->other_since[k] = -1;
}

/* One pixel's step up or down the NONE / CAND / REST ladder. settled is 0
 * while the thing the pixel belongs to still moves somewhere. A candidate
 * whose clear lane is only assumed (bg_ok 0) is not promoted here: it is
 * marked ready and judged with its neighbours (judge_ready()). */
static void step_pixel(fl_still *s, size_t k, int fg, int moving, int settled,
		       double t)
{
	float i = s->img[k], g = s->gmap[k];
	int match;

	switch (s->state[k]) {
	case PX_NONE:
		/* Until the lane here has been trusted once, it must look
		 * the same for BG_TRUST_S on end: motion over it, or a slow
		 * drift away from it (a crawling car's head-light pool in
		 * the first frame), starts the count again. */
		if (s->bg_age[k] < BG_TRUST_S &&
		    (moving || fg || fabsf(i - s->bg[k] * g) >= T_MATCH))
			s->bg_age[k] = 0;
		if (fg && !moving && !(s->fg[k] & SHADE_BIT)) {
			s->state[k] = PX_CAND;
			s->still_since[k] = (float)t;
			s->obj[k] = i / g;
		} else if (!fg && !moving && s->bg_known[k] && !s->busy[k]) {
			/* Trust grows only while the lane looks just as
			 * remembered, not merely "explained by lighting". */
			float d = fabsf(i - s->bg[k] * g);
			if (d < T_MATCH)
				s->bg_age[k] += (float)s->dt;
			/* A change explained by light is learnt slowly, and
			 * never beside an object at rest (last frame's mask):
			 * a flat car body in the asphalt's grey would melt. */
			if (!s->mask[k])
				s->bg[k] += (float)(d < T_ABS ? BG_RATE
							      : BG_RATE / 4) *
					    (i / g - s->bg[k]);
		}
		break;
	case PX_CAND:
		match = matches_obj(s, k, i, g);
		if (!fg || moving || !match || (s->roi && !s->roi[k])) {
			s->state[k] = PX_NONE;
			break;
		}
		s->obj[k] += (float)OBJ_RATE * (i / g - s->obj[k]);
		if (t - s->still_since[k] < s->p.rest_s)
			break;
		if (s->bg_age[k] < BG_TRUST_S) {
			/* The "clear lane" here was never seen still: it was
			 * something passing at start-up (a ghost if kept).
			 * What is still now is the lane. */
			learn_lane(s, k, s->obj[k]);
		} else if (settled && s->bg_first[k]) {
			/* Still on a lane that is only assumed: the lane it
			 * uncovered (assumed long enough to have been
			 * something parked at start), the lane in other light
			 * (the first frame's cloud shade gone), or an object?
			 * Judged with its neighbours (judge_ready()). */
			s->ready[k] = 1;
			s->any_ready = 1;
		} else if (settled) {
			come_to_rest(s, k, t);
		}
		break;
	case PX_SEED:
		/* Seen at start by a detector: held as the object while it
		 * stays as it was; a pixel that moves or changes says it may
		 * have been traffic (settled per seed in judge_seeds()). */
		if (moving || !matches_obj(s, k, i, g))
			s->changed_px[k] = 1;
		else
			s->obj[k] += (float)OBJ_RATE * (i / g - s->obj[k]);
		break;
	case PX_REST:
		/* The clear lane first: where the object looks like the lane
		 * it cannot be told from it, and a remembered appearance that
		 * drifted back to the lane's must not hold the pixel. */
		match = matches_obj(s, k, i, g);
		s->amb[k] = 0;
		if (s->busy[k] && !match) {
			/* behind something moving: hidden, whatever shows */
			s->clear_since[k] = -1;
			s->other_since[k] = -1;
		} else if (!fg && !moving && s->bg_known[k] && match) {
			/* Both the lane and the object, as the light is now
			 * (a dark car in a head-light pool, whose gain the
			 * pool also lifts): proves neither; its object says
			 * whether it left (find_blobs()). */
			s->amb[k] = 1;
			s->clear_since[k] = -1;
			s->other_since[k] = -1;
		} else if (!fg && !moving && s->bg_known[k]) {
			if (s->clear_since[k] < 0)
				s->clear_since[k] = (float)t;
			s->other_since[k] = -1;
			s->left[k] = 1;
			if (t - s->clear_since[k] >= PIXEL_CLEAR_S) {
				/* the lane came back after an object: it is
				 * the lane, not an assumption any more */
				s->state[k] = PX_NONE;
				s->bg_ok[k] = 1;
				s->bg_first[k] = 0;
			}
		} else if (match) {
			/* Back after the lane showed: what rests here now came
			 * after it, however alike (the same model of car). */
			if (s->gap[k])
				s->since[k] = (float)t;
			s->gap[k] = 0;
			s->left[k] = 0;
			s->seen[k] = (float)t;
			s->clear_since[k] = -1;
			s->other_since[k] = -1;
			s->obj[k] += (float)OBJ_RATE * (i / g - s->obj[k]);
		} else if (!moving && (fg || !s->bg_known[k])) {
			/* Something else is still on it: after long enough
			 * it is the new resting object; where the lane was
			 * never seen (a seeded object), the lane it left. */
			s->clear_since[k] = -1;
			if (s->other_since[k] < 0 ||
			    fabsf(i - s->prev[k]) > T_MATCH) {
				s->other_since[k] = (float)t;
				s->still_since[k] = (float)t;
			}
			if (!s->bg_known[k]) {
				if (t - s->other_since[k] >= UNKNOWN_CLEAR_S)
					learn_lane(s, k, i / g);
				break;
			}
			if (t - s->other_since[k] >= REPLACE_S) {
				s->obj[k] = i / g;
				s->since[k] = s->still_since[k];
				s->seen[k] = (float)t;
				s->seeded[k] = 0;
				s->other_since[k] = -1;
			}
		} else {
			s->clear_since[k] = -1;
			s->other_since[k] = -1;
		}
		break;
	}
}

/* p solving a p = r for a 3x3 a (Cramer's rule); 0 when a is singular. */
static int solve3(double a[3][3], const double r[3], double p[3])
{
	double d = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
		   a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
		   a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);

	if (fabs(d) < 1e-12)
		return 0;
	for (int c = 0; c < 3; c++) {
		double m[3][3];
		memcpy(m, a, sizeof(m));
		for (int u = 0; u < 3; u++)
			m[u][c] = r[u];
		p[c] = (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
			m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
			m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])) /
		       d;
	}
	return 1;
}

/*
 * Does a group of pixels show the clear lane under other light? Light
 * (a cloud's shade, a lamp pool) multiplies the lane by a gain that varies
 * slowly across the group, so the lane's own pattern stays: the frame is
 * fitted as (p0 + p1 x + p2 y) times the clear lane (least squares), and
 * what the fit leaves is compared with the pattern it had to explain.
 * Returns the left-over variance over the pattern's (scaled by the mean
 * gain): near 0 for the lane in light, about 1 or more for an object, which
 * hides the lane's pattern; -1 where the lane is too flat to tell (fewer
 * than LIGHT_MIN_PX pixels, or less than TEXTURE_VAR of pattern once the
 * lane's own smooth slope of light, a plane, is taken out).
 */
static double light_residual(const fl_still *s, const int *px, int n)
{
	double a[3][3] = { { 0 } }, r[3] = { 0 }, rb[3] = { 0 }, p[3], q[3];
	double res = 0, fine = 0, gsum = 0, cx = 0, cy = 0;
	int w = s->w;

	if (n < LIGHT_MIN_PX)
		return -1;
	for (int j = 0; j < n; j++) {
		cx += px[j] % w;
		cy += px[j] / w;
	}
	cx /= n;
	cy /= n;
	/* the lane's plane (its smooth slope of light), and the gain plane
	 * times the lane: one design, two right-hand sides */
	for (int j = 0; j < n; j++) {
		int k = px[j];
		double b = s->bg[k], i = s->img[k] / s->gmap[k];
		double f[3] = { b, (k % w - cx) * b, (k / w - cy) * b };
		double e[3] = { 1, k % w - cx, k / w - cy };
		for (int u = 0; u < 3; u++) {
			r[u] += f[u] * i;
			rb[u] += e[u] * b;
			for (int v = 0; v < 3; v++)
				a[u][v] += f[u] * f[v];
		}
	}
	{
		double m[3][3] = { { 0 } };
		for (int j = 0; j < n; j++) {
			double e[3] = { 1, px[j] % w - cx, px[j] / w - cy };
			for (int u = 0; u < 3; u++)
				for (int v = 0; v < 3; v++)
					m[u][v] += e[u] * e[v];
		}
		if (!solve3(m, rb, q) || !solve3(a, r, p))
			return -1;
	}
	for (int j = 0; j < n; j++) {
		int k = px[j];
		double dx = k % w - cx, dy = k / w - cy;
		double b = s->bg[k], i = s->img[k] / s->gmap[k];
		double gk = p[0] + p[1] * dx + p[2] * dy;
		double fb = b - (q[0] + q[1] * dx + q[2] * dy);
		res += (i - gk * b) * (i - gk * b);
		fine += fb * fb;
		gsum += gk;
	}
	gsum /= n;
	fine /= n;
	/* a smooth slope (a lamp pool, the lane's own fall of light) is no
	 * pattern: a gain plane would explain anything over it */
	if (fine < TEXTURE_VAR)
		return -1;
	return res / n / FL_MAX(1e-6, gsum * gsum * fine);
}

/*
 * A ghost is the clear lane shown where something stood when the lane was
 * first learnt (a car parked at start that drives off, a passer-by in the
 * first frame): it differs from the assumed lane and stands still, like an
 * object. It is told from one by its outline. Across the edge of the
 * region, a real object differs from the lane around it now, and the
 * assumed lane did not; a ghost is the other way round (the old object's
 * outline is in the assumed lane; now asphalt meets asphalt). Pairs of
 * pixels two apart across the boundary are compared in both, where the
 * outside is not foreground nor near a moving thing (the rest of an
 * object, a truck's side in the asphalt's grey). A ghost needs a real
 * outline then (T_ABS on average), and less than a third of it now.
 *
 * Light that was in the first frame is the same story without an outline
 * then: where a cloud's shade (or a lamp pool) lay on the assumed lane and
 * has moved on, the lane shows brighter than assumed and stands still, and
 * across the edge of that region lane meets lane now, with no outline
 * either (the soft edge of a shade, not a thing's). What stands still with
 * less than OUTLINE_MIN of the lane's brightness across its edge on
 * average (a contrast: a dark car at night shows a few grey levels), or
 * hardly more than the lane's own grain beside it (OUTLINE_GRAIN), is no
 * object.
 * Returns 1 ghost (or light gone), 0 object, -1 no outline to judge.
 */
static int is_ghost(fl_still *s, const int *px, int n, const int *lab, int id)
{
	static const int dx[4] = { 1, -1, 0, 0 }, dy[4] = { 0, 0, 1, -1 };
	int w = s->w, h = s->h, edges = 0;
	double now = 0, then = 0, lane = 0, level = 0, light;

	for (int j = 0; j < n; j++) {
		int k = px[j], x = k % w, y = k / w;
		for (int d = 0; d < 4; d++) {
			int xo = x + dx[d], yo = y + dy[d];
			int xi = x - dx[d], yi = y - dy[d];
			int xf = x + 2 * dx[d], yf = y + 2 * dy[d];
			size_t ko, ki, kf;
			if (xo < 0 || yo < 0 || xo >= w || yo >= h)
				continue;
			ko = (size_t)yo * w + xo;
			if (lab[ko] == id || (s->fg[ko] & FG_BIT) ||
			    s->busy[ko])
				continue;
			if (xf < 0 || yf < 0 || xf >= w || yf >= h)
				kf = ko;
			else
				kf = (size_t)yf * w + xf;
			if (xi < 0 || yi < 0 || xi >= w || yi >= h ||
			    lab[(size_t)yi * w + xi] != id)
				ki = (size_t)k;
			else
				ki = (size_t)yi * w + xi;
			now += fabsf(s->img[ki] / s->gmap[ki] -
				     s->img[kf] / s->gmap[kf]);
			then += fabsf(s->bg[ki] - s->bg[kf]);
			/* the lane's own grain, next to next outside */
			lane += fabsf(s->img[ko] / s->gmap[ko] -
				      s->img[kf] / s->gmap[kf]);
			level += s->img[kf] / s->gmap[kf];
			edges++;
		}
	}
	light = light_residual(s, px, n);
	fl_log(FL_LOG_DEBUG, "still",
	       "ghost test at %d,%d: %d px, %d edges, now %.1f then %.1f "
	       "lane %.1f light %.2f",
	       px[0] % w, px[0] / w, n, edges, now / FL_MAX(1, edges),
	       then / FL_MAX(1, edges), lane / FL_MAX(1, edges), light);
	if (light >= 0 && light < LIGHT_RESIDUAL)
		return 1;
	if (edges < OUTLINE_MIN_EDGE)
		return -1;
	if (now < FL_MAX(OUTLINE_MIN * level, OUTLINE_GRAIN * lane))
		return 1;
	return then >= T_ABS * edges && now < GHOST_RATIO * then;
}

/*
 * The pixels marked ready this frame, each with the candidates around it
 * that stand on the same kind of lane (assumed): the lane the uncovered
 * region shows comes to rest piece by piece, and is judged as a whole, at
 * its first piece. The outline decides (is_ghost()): a ghost's ready
 * pixels become the lane; an object's come to rest; too little outline to
 * tell, they wait.
 */
static int judged_with(const fl_still *s, size_t k)
{
	return s->ready[k] || (s->state[k] == PX_CAND && s->bg_first[k]);
}

static void judge_ready(fl_still *s, double t)
{
	int w = s->w, h = s->h, id = 0;
	int *lab = s->labels, *px = s->stack;

	memset(lab, 0, s->n * sizeof(int));
	for (size_t start = 0; start < s->n; start++) {
		int n = 0, ghost;

		if (!s->ready[start] || lab[start])
			continue;
		lab[start] = ++id;
		px[n++] = (int)start;
		for (int j = 0; j < n; j++) {
			int k = px[j], x = k % w, y = k / w;
			for (int d = 0; d < 4; d++) {
				int xx = x + (d == 0) - (d == 1);
				int yy = y + (d == 2) - (d == 3);
				size_t kk = (size_t)yy * w + xx;
				if (xx < 0 || yy < 0 || xx >= w || yy >= h ||
				    lab[kk] || !judged_with(s, kk))
					continue;
				lab[kk] = id;
				px[n++] = (int)kk;
			}
		}
		/* too little outline to judge (a crumb, or enclosed by
		 * foreground): undecided, it waits as a candidate */
		ghost = is_ghost(s, px, n, lab, id);
		for (int j = 0; j < n; j++) {
			int k = px[j];
			if (ghost == 1 && s->ready[k]) {
				/* candidates in the group that are not still
				 * yet may be something moving over it */
				learn_lane(s, (size_t)k, s->obj[k]);
			} else if (ghost == 0 && s->ready[k]) {
				come_to_rest(s, (size_t)k, t);
			}
			s->ready[k] = 0;
		}
	}
	s->any_ready = 0;
}

/*
 * Seeds whose rest_s has passed: a seed most of whose pixels stayed as
 * they were is an object at rest since its seed time; one that moved or
 * changed was traffic, and its pixels go back to what they were.
 */
static void judge_seeds(fl_still *s, double t)
{
	for (int i = 0; i < MAX_SEEDS; i++) {
		int n = 0, changed = 0, keep;

		if (!s->seeds[i].used || t - s->seeds[i].t < s->p.rest_s)
			continue;
		for (int y = s->seeds[i].y0; y < s->seeds[i].y1; y++)
			for (int x = s->seeds[i].x0; x < s->seeds[i].x1; x++) {
				size_t k = (size_t)y * s->w + x;
				if (s->state[k] != PX_SEED)
					continue;
				n++;
				changed += s->changed_px[k];
			}
		keep = n > 0 && changed <= (1 - SEED_KEEP) * n;
		fl_log(FL_LOG_DEBUG, "still",
		       "t=%.1f seed %d,%d %dx%d: %d of %d px changed: %s", t,
		       s->seeds[i].x0, s->seeds[i].y0,
		       s->seeds[i].x1 - s->seeds[i].x0,
		       s->seeds[i].y1 - s->seeds[i].y0, changed, n,
		       keep ? "at rest" : "traffic");
		for (int y = s->seeds[i].y0; y < s->seeds[i].y1; y++)
			for (int x = s->seeds[i].x0; x < s->seeds[i].x1; x++) {
				size_t k = (size_t)y * s->w + x;
				if (s->state[k] != PX_SEED)
					continue;
				s->changed_px[k] = 0;
				if (!keep) { /* the lane as it was before */
					s->state[k] = PX_NONE;
					s->seeded[k] = 0;
					continue;
				}
				s->state[k] = PX_REST;
				s->since[k] = (float)s->seeds[i].t;
				s->seen[k] = (float)t;
				s->gap[k] = 0;
				s->clear_since[k] = -1;
				s->other_since[k] = -1;
				/* what was taken for lane here may have been this
				 * very object: unknown until it leaves */
				if (!s->bg_ok[k])
					s->bg_known[k] = 0;
			}
		s->seeds[i].used = 0;
	}
}

/* One 3x3 pass of a binary image: dilate (op 1: any neighbour set) or erode
 * (op 0: all neighbours set), separable, pixels outside the frame neutral. */
static void morph3(const uint8_t *in, uint8_t *out, uint8_t *rowbuf, int w,
		   int y0, int y1, int h, int dilate)
{
	for (int y = y0; y <= y1; y++) {
		const uint8_t *up = in + (size_t)(y > 0 ? y - 1 : y) * w;
		const uint8_t *mid = in + (size_t)y * w;
		const uint8_t *dn = in + (size_t)(y < h - 1 ? y + 1 : y) * w;
		uint8_t *o = out + (size_t)y * w;

		/* vertical pass into rowbuf (with its ends repeated), then
		 * horizontal into out */
		if (dilate) {
			for (int x = 0; x < w; x++)
				rowbuf[x + 1] = up[x] | mid[x] | dn[x];
		} else {
			for (int x = 0; x < w; x++)
				rowbuf[x + 1] = up[x] & mid[x] & dn[x];
		}
		rowbuf[0] = rowbuf[1];
		rowbuf[w + 1] = rowbuf[w];
		if (dilate) {
			for (int x = 0; x < w; x++)
				o[x] = rowbuf[x] | rowbuf[x + 1] |
				       rowbuf[x + 2];
		} else {
			for (int x = 0; x < w; x++)
				o[x] = rowbuf[x] & rowbuf[x + 1] &
				       rowbuf[x + 2];
		}
	}
}

/* Binary closing (dilate then erode, 5x5) of REST pixels into s->mask,
 * bridging small gaps inside an object (a window, a stripe, noise). Only
 * the rows near resting pixels are worked; usually there are few. */
static void close_mask(fl_still *s)
{
	uint8_t *rest = s->fg; /* scratch: fg is not needed after stepping */
	uint8_t rowbuf[4096 + 2];
	int w = s->w, h = s->h, top = h, bottom = -1;

	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			size_t k = (size_t)y * w + x;
			rest[k] = s->state[k] == PX_REST;
			if (rest[k]) {
				top = FL_MIN(top, y);
				bottom = y;
			}
		}
	memset(s->mask, 0, s->n);
	if (bottom < 0)
		return;
	/* each pass reaches one row further; the band covers all four */
	int y0 = FL_MAX(0, top - 4), y1 = FL_MIN(h - 1, bottom + 4);
	memset(s->tmp, 0, s->n);
	morph3(rest, s->tmp, rowbuf, w, y0, y1, h, 1);
	morph3(s->tmp, s->mask, rowbuf, w, y0, y1, h, 1);
	morph3(s->mask, s->tmp, rowbuf, w, y0, y1, h, 0);
	morph3(s->tmp, s->mask, rowbuf, w, y0, y1, h, 0);
	for (size_t k = (size_t)y0 * w; k < (size_t)(y1 + 1) * w; k++)
		s->mask[k] |= rest[k];
}

/*
 * A blob whose box keeps sliding is not at rest, however still its pixels
 * look: the uniform side of a truck crawling through matches itself from
 * frame to frame. Each blob inherits the anchor box of the previous frame's
 * blob it overlaps most; when the box has left a quarter of its anchor for
 * new ground, the anchor moves and the rest start is renewed.
 */
static void track_creep(fl_still *s, fl_blob *b, double t)
{
	double box[4] = { b->x, b->y, b->w, b->h };
	double best = 0, *anchor = s->anchor[s->nblobs - 1];
	double *moved = &s->moved[s->nblobs - 1];
	int from = -1;

	for (int i = 0; i < s->nprev; i++) {
		double ov = fl_box_iou(s->prev_box[i], box);
		if (ov > best) {
			best = ov;
			from = i;
		}
	}
	if (from < 0) {
		memcpy(anchor, box, sizeof(box));
		*moved = -1e9;
		return;
	}
	memcpy(anchor, s->prev_anchor[from], sizeof(box));
	*moved = s->prev_moved[from];
	/* A box that changed size a lot merged with or split from another
	 * blob (a shadow beside a car): a new anchor, no motion; and the
	 * motion of what it was merged with is not its own (a car coming out
	 * of a cloud shade's blob keeps its rest start). A crawler slides at
	 * about its own size. */
	double ratio = (box[2] * box[3]) / FL_MAX(1.0, anchor[2] * anchor[3]);
	if (ratio < 0.6 || ratio > 1.0 / 0.6) {
		memcpy(anchor, box, sizeof(box));
		if (fabs(s->prev_since[from] - b->rest_since) > GROUP_SINCE_S)
			*moved = -1e9;
		goto done;
	}
	/* Growing over its anchor (more pixels settling, something resting
	 * beside it) or shrinking inside it (parts seen as lane again) is not
	 * moving; leaving a quarter of it for new ground is. */
	double x0 = FL_MAX(anchor[0], box[0]), y0 = FL_MAX(anchor[1], box[1]);
	double x1 = FL_MIN(anchor[0] + anchor[2], box[0] + box[2]);
	double y1 = FL_MIN(anchor[1] + anchor[3], box[1] + box[3]);
	double kept = (x1 > x0 && y1 > y0) ? (x1 - x0) * (y1 - y0) : 0;
	if (kept < 0.75 * anchor[2] * anchor[3] &&
	    box[2] * box[3] - kept > 0.25 * box[2] * box[3]) {
		memcpy(anchor, box, sizeof(box));
		*moved = t;
	}
done:
	if (b->rest_since < *moved)
		b->rest_since = *moved;
}

static int piece_root(piece *p, int i)
{
	while (p[i].root != i)
		i = p[i].root = p[p[i].root].root;
	return i;
}

/*
 * Pieces of one object come to rest together and lie close: a car whose
 * body is the asphalt's grey shows only its windows and bumper. Two pieces
 * whose boxes are within a gap of a third of the larger one's height (at
 * least GROUP_GAP pixels) and whose rest starts lie within GROUP_SINCE_S
 * of each other are one object.
 */
static int same_object(const piece *a, const piece *b)
{
	int gap = FL_MAX(GROUP_GAP, FL_MAX(a->y1 - a->y0, b->y1 - b->y0) / 3);
	int dx = FL_MAX(0, FL_MAX(a->x0 - b->x1, b->x0 - a->x1));
	int dy = FL_MAX(0, FL_MAX(a->y0 - b->y1, b->y0 - a->y1));

	return dx <= gap && dy <= gap &&
	       fabs(a->since - b->since) <= GROUP_SINCE_S;
}

/* Connected components of s->mask, grouped into objects, with figures. */
static void find_blobs(fl_still *s, double t)
{
	int w = s->w, h = s->h;
	int min_area = (int)(s->p.min_area * (double)s->n);
	float *since_buf = s->scratch;
	piece *pc = s->pieces;
	int label = 0, np = 0, any_gone = 0;
	uint8_t gone[MAX_PIECES + 1] = { 0 };

	memset(s->labels, 0, s->n * sizeof(int));
	s->nblobs = 0;
	for (size_t start = 0; start < s->n && np < MAX_PIECES; start++) {
		int sp = 0, rest = 0, matched = 0, clear = 0, seeded = 0,
		    amb = 0, left = 0;
		int x0 = w, y0 = h, x1 = -1, y1 = -1;

		if (!s->mask[start] || s->labels[start])
			continue;
		label++;
		s->labels[start] = label;
		s->stack[sp++] = (int)start;
		while (sp) {
			int k = s->stack[--sp], x = k % w, y = k / w;
			x0 = FL_MIN(x0, x);
			x1 = FL_MAX(x1, x);
			y0 = FL_MIN(y0, y);
			y1 = FL_MAX(y1, y);
			if (s->state[k] == PX_REST) {
				since_buf[rest++] = s->since[k];
				if (s->seen[k] >= (float)t - 1e-3f)
					matched++;
				else if (s->clear_since[k] >= 0)
					clear++;
				else if (s->left[k])
					left++;
				else
					amb += s->amb[k];
				seeded += s->seeded[k];
			}
			for (int dy = -1; dy <= 1; dy++)
				for (int dx = -1; dx <= 1; dx++) {
					int xx = x + dx, yy = y + dy;
					size_t kk = (size_t)yy * w + xx;
					if (xx < 0 || yy < 0 || xx >= w ||
					    yy >= h || !s->mask[kk] ||
					    s->labels[kk])
						continue;
					s->labels[kk] = label;
					s->stack[sp++] = (int)kk;
				}
		}
		qsort(since_buf, (size_t)rest, sizeof(float), cmp_float);
		/* Half of the piece has rested at least this long: a few
		 * pixels re-learnt later do not move it, but a slow mover
		 * whose resting pixels keep being renewed does. */
		pc[np] = (piece){ .x0 = x0,
				  .y0 = y0,
				  .x1 = x1,
				  .y1 = y1,
				  .rest = rest,
				  .matched = matched,
				  .clear = clear,
				  .seeded = seeded,
				  .amb = amb,
				  .left = left,
				  .since = rest ? since_buf[rest / 2] : t,
				  .root = np };
		np++; /* piece np-1 has label np */
	}

	for (int i = 0; i < np; i++)
		for (int j = i + 1; j < np; j++)
			if (same_object(&pc[i], &pc[j]))
				pc[piece_root(pc, j)].root = piece_root(pc, i);

	/* Each group becomes a blob; its pixels take the root's label. */
	for (int i = 0; i < np; i++) {
		int r = piece_root(pc, i);
		if (r == i)
			continue;
		pc[r].x0 = FL_MIN(pc[r].x0, pc[i].x0);
		pc[r].y0 = FL_MIN(pc[r].y0, pc[i].y0);
		pc[r].x1 = FL_MAX(pc[r].x1, pc[i].x1);
		pc[r].y1 = FL_MAX(pc[r].y1, pc[i].y1);
		/* rest start: area-weighted over the pieces */
		if (pc[r].rest + pc[i].rest > 0)
			pc[r].since = (pc[r].since * pc[r].rest +
				       pc[i].since * pc[i].rest) /
				      (pc[r].rest + pc[i].rest);
		pc[r].rest += pc[i].rest;
		pc[r].matched += pc[i].matched;
		pc[r].clear += pc[i].clear;
		pc[r].seeded += pc[i].seeded;
		pc[r].amb += pc[i].amb;
		pc[r].left += pc[i].left;
	}
	if (np < label) /* ran out of pieces: the rest is left unlabelled */
		for (size_t k = 0; k < s->n; k++)
			if (s->labels[k] > np)
				s->labels[k] = 0;
	for (size_t k = 0; k < s->n; k++)
		if (s->labels[k])
			s->labels[k] = piece_root(pc, s->labels[k] - 1) + 1;

	for (int i = 0; i < np && s->nblobs < MAX_BLOBS; i++) {
		const piece *p = &pc[i];
		fl_blob *b;

		if (piece_root(pc, i) != i || p->rest < min_area)
			continue;
		b = &s->blobs[s->nblobs++];
		b->x = p->x0;
		b->y = p->y0;
		b->w = p->x1 - p->x0 + 1;
		b->h = p->y1 - p->y0 + 1;
		b->area = p->rest;
		b->rest_since = p->since;
		b->matched = p->matched;
		b->clear = p->clear;
		b->seeded = p->seeded * 2 > p->rest;
		b->label = i + 1;
		track_creep(s, b, t);
		fl_log(FL_LOG_DEBUG, "still",
		       "t=%.1f blob %d,%d %dx%d area %d since %.1f moved %.1f "
		       "matched %d clear %d",
		       t, b->x, b->y, b->w, b->h, b->area, b->rest_since,
		       s->moved[s->nblobs - 1], p->matched, p->clear);
		/* Verdict, on the pixels that can tell (not those showing
		 * object and lane alike): the object shows in a fair share;
		 * or the clear lane in most, now or for a while since the
		 * object last showed (an object that left while another
		 * drove in over its place); else something stands in
		 * front. */
		int tells = p->rest - p->amb;
		if (p->matched > 0 && p->matched * 4 >= tells)
			b->seen = FL_SEEN_PRESENT;
		else if (p->clear > 0 && (p->clear + p->left) * 2 >= tells)
			b->seen = FL_SEEN_GONE;
		else
			b->seen = FL_SEEN_HIDDEN;
		gone[b->label] = b->seen == FL_SEEN_GONE;
		any_gone |= gone[b->label];
	}
	/* Where most of an object shows the clear lane at once, it has left:
	 * its pixels that match again later hold something that came after.
	 * (A pixel or two that a headlight or passer-by makes look like lane
	 * proves nothing, hence the whole object.) */
	if (any_gone)
		for (size_t k = 0; k < s->n; k++) {
			if (!gone[s->labels[k]] || s->state[k] != PX_REST)
				continue;
			if (s->clear_since[k] >= 0 || s->left[k])
				s->gap[k] = 1;
			else if (s->amb[k]) /* lane-like, and it left */
				s->state[k] = PX_NONE;
		}
}

static void remember_blobs(fl_still *s)
{
	for (int i = 0; i < s->nblobs; i++) {
		const fl_blob *b = &s->blobs[i];
		s->prev_box[i][0] = b->x;
		s->prev_box[i][1] = b->y;
		s->prev_box[i][2] = b->w;
		s->prev_box[i][3] = b->h;
		memcpy(s->prev_anchor[i], s->anchor[i], sizeof(s->anchor[i]));
		s->prev_moved[i] = s->moved[i];
		s->prev_since[i] = b->rest_since;
	}
	s->nprev = s->nblobs;
}

int fl_still_feed(fl_still *s, const uint8_t *img, double t)
{
	int w = s->w;

	for (size_t i = 0; i < s->n; i++)
		s->img[i] = img[i];
	if (s->frames++ == 0) {
		first_frame(s, t);
		s->last_t = t;
	}
	s->dt = t - s->last_t;
	s->last_t = t;
	s->shift_x = s->shift_y = 0;
	if (s->frames > 1)
		stabilise(s);
	s->shaky = t - s->shake_t < SHAKY_S;
	estimate_gain(s);
	integrals(s);
	if (s->shaky) {
		/* the references' ranges, for the comparisons under shake */
		range3(s, s->bg, s->bg_lo, s->bg_hi);
		range3(s, s->prev, s->prev_lo, s->prev_hi);
		range3(s, s->snap_old, s->old_lo, s->old_hi);
		range3(s, s->obj, s->obj_lo, s->obj_hi);
	}
	for (int y = 0; y < s->h; y++) {
		for (int x = 0; x < w; x++) {
			size_t k = (size_t)y * w + x;
			int fgv = is_fg(s, k, x, y), fg = fgv & FG_BIT;
			/* slow drift only matters for telling things apart */
			s->fg[k] = (uint8_t)(fgv |
					     changed(s, s->prev, s->prev_lo,
						     s->prev_hi, k, x, y)
						     << 1 |
					     (fg &&
					      changed(s, s->snap_old, s->old_lo,
						      s->old_hi, k, x, y))
						     << 2);
		}
	}
	find_moving_things(s);
	if (fl_log_enabled(FL_LOG_DEBUG)) {
		int mv = 0, dr = 0;
		for (size_t k = 0; k < s->n; k++) {
			mv += (s->fg[k] & (MOVING_BIT | FG_BIT)) ==
			      (MOVING_BIT | FG_BIT);
			dr += (s->fg[k] & (DRIFT_BIT | FG_BIT)) ==
			      (DRIFT_BIT | FG_BIT);
		}
		fl_log(FL_LOG_DEBUG, "still",
		       "t=%.1f shift %d,%d moving %d drift %d", t, s->shift_x,
		       s->shift_y, mv, dr);
	}
	for (size_t k = 0; k < s->n; k++) {
		int fg = s->fg[k] & FG_BIT,
		    moving = (s->fg[k] & MOVING_BIT) != 0;
		int settled = !fg || !s->thing_moves[s->labels[k]];
		step_pixel(s, k, fg, moving, settled, t);
		s->lit[k] = (s->state[k] == PX_NONE && !fg) ||
			    (s->state[k] <= PX_CAND && fg && !s->busy[k] &&
			     (s->fg[k] & PATTERN_BIT));
	}
	if (s->any_ready)
		judge_ready(s, t);
	judge_seeds(s, t);
	for (size_t k = 0; k < s->n; k++)
		s->view[k] = s->state[k] == PX_REST || s->state[k] == PX_SEED
				     ? 3
			     : s->state[k] == PX_CAND
				     ? 2
				     : (uint8_t)(s->fg[k] & FG_BIT);
	memcpy(s->prev, s->img, s->n * sizeof(float));
	if (t - s->snap_t >= SNAP_S) {
		float *old = s->snap_old;
		s->snap_old = s->snap_new;
		s->snap_new = old;
		memcpy(s->snap_new, s->img, s->n * sizeof(float));
		s->snap_t = t;
	}
	close_mask(s);
	find_blobs(s, t);
	remember_blobs(s);
	return s->nblobs;
}

void fl_still_seed(fl_still *s, int x, int y, int w, int h, double since)
{
	int slot = -1;

	for (int i = 0; i < MAX_SEEDS && slot < 0; i++)
		if (!s->seeds[i].used)
			slot = i;
	if (slot < 0)
		return; /* more objects than seeds: the rest waits for rest_s */
	s->seeds[slot].x0 = FL_MAX(0, x);
	s->seeds[slot].y0 = FL_MAX(0, y);
	s->seeds[slot].x1 = FL_MIN(s->w, x + w);
	s->seeds[slot].y1 = FL_MIN(s->h, y + h);
	s->seeds[slot].t = since;
	s->seeds[slot].used = 1;
	for (int yy = s->seeds[slot].y0; yy < s->seeds[slot].y1; yy++)
		for (int xx = s->seeds[slot].x0; xx < s->seeds[slot].x1; xx++) {
			size_t k = (size_t)yy * s->w + xx;
			if (s->state[k] == PX_REST || s->state[k] == PX_SEED)
				continue;
			s->state[k] = PX_SEED;
			s->obj[k] = s->img[k] / s->gmap[k];
			s->changed_px[k] = 0;
			s->seeded[k] = 1;
		}
}

const fl_blob *fl_still_blobs(const fl_still *s, int *n)
{
	*n = s->nblobs;
	return s->blobs;
}

const int *fl_still_labels(const fl_still *s)
{
	return s->labels;
}

void fl_still_forget(fl_still *s, const fl_blob *b)
{
	for (size_t k = 0; k < s->n; k++)
		if (s->labels[k] == b->label && s->state[k] == PX_REST)
			s->state[k] = PX_NONE;
}

const uint8_t *fl_still_state(const fl_still *s)
{
	return s->view;
}
