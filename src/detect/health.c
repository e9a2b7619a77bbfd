/*
 * health.c - camera health on the analysis frames: frozen, covered, moved.
 *
 * A note on the model. The detection engine trusts that the picture it gets
 * is the lane, now. Three things break that trust without breaking the
 * stream, and each has a signature that costs almost nothing to see at
 * analysis resolution (320x180 by default):
 *
 * Frozen. A stuck encoder (or a DVR repeating its last frame) sends the same
 * picture again and again. A live sensor never does: even a static scene
 * differs between frames by its noise. So a frame is "the same" when fewer
 * than frozen_change (0.05 %) of its pixels differ from the previous analysed
 * frame by 2 grey levels or more; a stream repeating one picture gives
 * exactly 0, a real camera gives a few percent at the very least. Encoders
 * re-send the picture as a fresh keyframe now and then, which differs by
 * quantisation noise everywhere, once: the frozen run tolerates a lone
 * changed frame (the frame after a re-sent keyframe repeats it exactly), and
 * only two changed analysed frames in a row break it. A sensor's noise
 * changes every frame, so a live camera never keeps a run going. The image is frozen when a run has lasted frozen_s (15 s).
 *
 * Covered. A hand, a bag, tape or paint on the lens, a dead sensor, a lens
 * pointing into a wall or the sky: the picture loses its structure. We
 * measure structure as the standard deviation of the 4x4-block means of the
 * frame (80x45 values at 320x180): averaging 16 pixels divides sensor noise
 * by 4, so what is left is the scene's large-scale contrast. Black, white
 * and flat grey frames give 0; a blurred hand a few levels. The night scene
 * of the synthetic world (firelane-scene's night_headlights: sensor noise
 * sigma 4.5, lamps, lit facades) never goes below 20, day scenes are at 30
 * and more, the real clips of ../shared/data at 25 and more; covered_std is 3, far below
 * all of them and above what a covered lens shows. Night is dark but it has
 * structure, so it is never "covered".
 *
 * Moved. A camera knocked on its pole, turned by a vandal or re-aimed by a
 * technician shows another view. The static structure of the view is its
 * edges; we keep their gradients on the 80x45 block means (central
 * differences), which brightness changes scale but do not move. The
 * reference is the clear-lane reference image when the camera has one,
 * else the mean gradient field of the first learn_s (60 s) of frames. Once
 * every check_s (1 s) the current gradients are correlated with the
 * reference over every shift of up to +-4 blocks (16 analysis px) and the
 * best one wins (normalised dot product of the two gradient fields, 1 for
 * the same view, about 0 for an unrelated one; a parabola through the
 * neighbours gives the shift to a fraction of a block). The view has moved
 * when the best shift exceeds moved_shift (8 analysis px, 2.5 % of the width)
 * or the best correlation falls below moved_corr (0.4) for moved_s
 * (10 s). Shake moves the view by a pixel or two and back: the best shift
 * stays near 0 and the correlation high. A parked car or a crowd hides part
 * of the structure and costs some correlation, not all of it.
 * The reference follows slow change: while the view matches well (best
 * shift under one block, correlation >= 0.7), each check blends 5 % of the
 * current gradients into it, so dusk, night and seasons do not read as a
 * move; a sudden move never matches, so it is never learnt.
 *
 * Events. Each condition has two clocks: it is raised once it has held for
 * its time (frozen_s, covered_s, moved_s) and cleared once it has been
 * absent for clear_s (5 s), so a flicker at the threshold does not chatter.
 * While the picture is covered the frozen and move checks are skipped: a
 * flat picture cannot show change and matches nothing, and "covered" has
 * already said what is wrong (a black test clip is both flat and repeated;
 * it is covered, not frozen). A gap in the stream (a
 * reconnect) forgets the previous frame and restarts the clocks of what had
 * not been raised yet.
 *
 * Cost: one pass over the frame for the frozen difference and the block
 * sums, one over the 80x45 blocks for mean, structure and gradients (about
 * 24 us at 320x180 here), and the reference search once a second (81
 * shifts x 64x29 blocks in 16-bit integers, about 90 us): 110 us on the
 * frame that searches, 42 us per analysed frame on average at 5 fps.
 */
#include "health.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 4        /* analysis pixels per block side */
#define SEARCH 4       /* reference search: +-SEARCH blocks */
#define ADAPT 0.05f    /* share of a matching view blended into the ref */
#define ADAPT_CORR 0.7 /* ... when it matches at least this well */
#define DIFF_LEVELS 2  /* a pixel "changed" by this many grey levels */

struct cond_state {
	int raised;
	double on_since;  /* condition true since, or -1 */
	double off_since; /* raised and condition false since, or -1 */
};

struct fl_health {
	fl_health_params p;
	int w, h;
	int cw, ch;    /* block grid */
	uint8_t *prev; /* previous frame */
	int prev_valid;
	float *blocks;      /* cw x ch block means */
	float *gx, *gy;     /* current block gradients */
	float *rgx, *rgy;   /* reference gradients (sums while learning) */
	int16_t *qx, *qy;   /* the current ones, quantised for the search */
	int16_t *qrx, *qry; /* the reference's, quantised */
	int64_t *ii;        /* integral image of the reference's energy */
	int ref_ready;      /* the reference is usable */
	int nlearn;         /* frames summed while learning */
	double learn_t0;    /* first frame time, or -1 */
	double next_check;  /* video time of the next reference check */
	int moved_last;     /* the last check's verdict */

	double run_t0;    /* frozen run: start, or -1 */
	int last_changed; /* the previous frame was a changed one */
	int covered_now;  /* the last frame had no structure */

	struct cond_state cs[FL_HEALTH_NCOND];
	fl_health_figures fig;
};

static const fl_health_params defaults = {
	.frozen_s = 15,
	.frozen_change = 0.0005,
	.covered_s = 10,
	.covered_std = 3,
	.moved_s = 10,
	.moved_shift = 8,
	.moved_corr = 0.4,
	.learn_s = 60,
	.check_s = 1,
	.clear_s = 5,
};

static double pick(double v, double def)
{
	return v > 0 ? v : def;
}

fl_health *fl_health_create(const fl_health_params *p, int w, int h)
{
	fl_health *hl;
	size_t nb;

	if (w < 32 || h < 24 || w > 8192 || h > 8192)
		return NULL;
	hl = calloc(1, sizeof(*hl));
	if (!hl)
		return NULL;
	hl->p = defaults;
	if (p) {
		hl->p.frozen_s = pick(p->frozen_s, defaults.frozen_s);
		hl->p.frozen_change = pick(p->frozen_change,
					   defaults.frozen_change);
		hl->p.covered_s = pick(p->covered_s, defaults.covered_s);
		hl->p.covered_std = pick(p->covered_std, defaults.covered_std);
		hl->p.moved_s = pick(p->moved_s, defaults.moved_s);
		hl->p.moved_shift = pick(p->moved_shift, defaults.moved_shift);
		hl->p.moved_corr = pick(p->moved_corr, defaults.moved_corr);
		hl->p.learn_s = pick(p->learn_s, defaults.learn_s);
		hl->p.check_s = pick(p->check_s, defaults.check_s);
		hl->p.clear_s = pick(p->clear_s, defaults.clear_s);
	}
	if (hl->p.moved_corr >= 1 || hl->p.frozen_change >= 1) {
		free(hl);
		return NULL;
	}
	hl->w = w;
	hl->h = h;
	hl->cw = w / BLOCK;
	hl->ch = h / BLOCK;
	nb = (size_t)hl->cw * (size_t)hl->ch;
	hl->prev = malloc((size_t)w * (size_t)h);
	hl->blocks = malloc(nb * sizeof(float));
	hl->gx = calloc(nb, sizeof(float));
	hl->gy = calloc(nb, sizeof(float));
	hl->rgx = calloc(nb, sizeof(float));
	hl->rgy = calloc(nb, sizeof(float));
	hl->qx = calloc(nb, sizeof(int16_t));
	hl->qy = calloc(nb, sizeof(int16_t));
	hl->qrx = calloc(nb, sizeof(int16_t));
	hl->qry = calloc(nb, sizeof(int16_t));
	hl->ii = calloc((size_t)(hl->cw + 1) * (size_t)(hl->ch + 1),
			sizeof(int64_t));
	if (!hl->ii || !hl->prev || !hl->blocks || !hl->gx || !hl->gy ||
	    !hl->rgx || !hl->rgy || !hl->qx || !hl->qy || !hl->qrx ||
	    !hl->qry) {
		fl_health_destroy(hl);
		return NULL;
	}
	hl->learn_t0 = -1;
	hl->next_check = -INFINITY;
	hl->run_t0 = -1;
	for (int i = 0; i < FL_HEALTH_NCOND; i++) {
		hl->cs[i].on_since = -1;
		hl->cs[i].off_since = -1;
	}
	hl->fig.changed = -1;
	hl->fig.corr = -1;
	return hl;
}

void fl_health_destroy(fl_health *hl)
{
	if (!hl)
		return;
	free(hl->prev);
	free(hl->blocks);
	free(hl->gx);
	free(hl->gy);
	free(hl->rgx);
	free(hl->rgy);
	free(hl->qx);
	free(hl->qy);
	free(hl->qrx);
	free(hl->qry);
	free(hl->ii);
	free(hl);
}

const fl_health_params *fl_health_params_of(const fl_health *hl)
{
	return &hl->p;
}

/* Block means of img into hl->blocks. */
static void block_means(fl_health *hl, const uint8_t *img)
{
	const float inv = 1.0f / (BLOCK * BLOCK);

	for (int by = 0; by < hl->ch; by++) {
		float *row = hl->blocks + (size_t)by * hl->cw;
		unsigned sums[8192 / BLOCK];

		memset(sums, 0, sizeof(unsigned) * (size_t)hl->cw);
		for (int y = by * BLOCK; y < (by + 1) * BLOCK; y++) {
			const uint8_t *p = img + (size_t)y * hl->w;
			for (int bx = 0; bx < hl->cw; bx++) {
				const uint8_t *q = p + bx * BLOCK;
				sums[bx] += (unsigned)q[0] + q[1] + q[2] + q[3];
			}
		}
		for (int bx = 0; bx < hl->cw; bx++)
			row[bx] = (float)sums[bx] * inv;
	}
}

/* Central-difference gradients of the block means (border blocks 0). */
static void gradients(const fl_health *hl, const float *b, float *gx, float *gy)
{
	int cw = hl->cw, ch = hl->ch;

	for (int y = 1; y < ch - 1; y++)
		for (int x = 1; x < cw - 1; x++) {
			size_t k = (size_t)y * cw + x;
			gx[k] = b[k + 1] - b[k - 1];
			gy[k] = b[k + cw] - b[k - cw];
		}
}

/* Fraction of pixels that changed by DIFF_LEVELS or more. */
static double changed_fraction(const fl_health *hl, const uint8_t *img)
{
	size_t n = (size_t)hl->w * (size_t)hl->h, changed = 0;

	for (size_t i = 0; i < n; i++) {
		int d = (int)img[i] - (int)hl->prev[i];
		changed += (unsigned)(d >= DIFF_LEVELS || d <= -DIFF_LEVELS);
	}
	return (double)changed / (double)n;
}

/* Gradients (+-255 grey levels) to int16 at twice their value: products
 * stay under 2^18 and a whole frame's sum of them far under 2^31. */
static void quantise(const float *g, int16_t *q, size_t n)
{
	for (size_t i = 0; i < n; i++)
		q[i] = (int16_t)lrintf(2 * g[i]);
}

/* Sum of the reference's energy over blocks [xa, xb) x [ya, yb). */
static int64_t rect(const fl_health *hl, int xa, int ya, int xb, int yb)
{
	size_t w = (size_t)hl->cw + 1;

	return hl->ii[(size_t)yb * w + xb] - hl->ii[(size_t)ya * w + xb] -
	       hl->ii[(size_t)yb * w + xa] + hl->ii[(size_t)ya * w + xa];
}

/*
 * The best match of the current gradients with the reference: correlation
 * in *corr, shift (analysis pixels, reference minus current) in *dx, *dy.
 * Integer sums, so the compiler vectorises the inner loop (a float sum may
 * not be reordered).
 */
static void match_reference(const fl_health *hl, double *corr, double *dx,
			    double *dy)
{
	int cw = hl->cw, ch = hl->ch;
	int x0 = SEARCH + 1, x1 = cw - SEARCH - 1;
	int y0 = SEARCH + 1, y1 = ch - SEARCH - 1;
	size_t nb = (size_t)cw * (size_t)ch;
	double c[2 * SEARCH + 1][2 * SEARCH + 1];
	double ecur = 0, best = -2;
	int bi = SEARCH, bj = SEARCH;

	quantise(hl->gx, hl->qx, nb);
	quantise(hl->gy, hl->qy, nb);
	quantise(hl->rgx, hl->qrx, nb);
	quantise(hl->rgy, hl->qry, nb);
	/* The reference's energy under each shifted window comes from an
	 * integral image, so the search loop only takes dot products. */
	for (int y = 0; y < ch; y++)
		for (int x = 0; x < cw; x++) {
			size_t k = (size_t)y * cw + x;
			int64_t e = (int64_t)hl->qrx[k] * hl->qrx[k] +
				    (int64_t)hl->qry[k] * hl->qry[k];
			hl->ii[(size_t)(y + 1) * (cw + 1) + x + 1] =
				e + hl->ii[(size_t)y * (cw + 1) + x + 1] +
				hl->ii[(size_t)(y + 1) * (cw + 1) + x] -
				hl->ii[(size_t)y * (cw + 1) + x];
		}
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++) {
			size_t k = (size_t)y * cw + x;
			ecur += (double)hl->qx[k] * hl->qx[k] +
				(double)hl->qy[k] * hl->qy[k];
		}
	for (int j = 0; j <= 2 * SEARCH; j++)
		for (int i = 0; i <= 2 * SEARCH; i++) {
			int sx = i - SEARCH, sy = j - SEARCH;
			int64_t dot = 0, eref;
			for (int y = y0; y < y1; y++) {
				const int16_t *ax = hl->qx + (size_t)y * cw;
				const int16_t *ay = hl->qy + (size_t)y * cw;
				const int16_t *rx = hl->qrx +
						    (size_t)(y + sy) * cw + sx;
				const int16_t *ry = hl->qry +
						    (size_t)(y + sy) * cw + sx;
				int32_t d = 0; /* a row: < 2^31 */
				for (int x = x0; x < x1; x++)
					d += ax[x] * rx[x] + ay[x] * ry[x];
				dot += d;
			}
			eref = rect(hl, x0 + sx, y0 + sy, x1 + sx, y1 + sy);
			c[j][i] = ecur > 0 && eref > 0
					  ? (double)dot /
						    sqrt(ecur * (double)eref)
					  : 0;
			if (c[j][i] > best) {
				best = c[j][i];
				bi = i;
				bj = j;
			}
		}
	*corr = best;
	*dx = bi - SEARCH;
	*dy = bj - SEARCH;
	/* A parabola through the neighbours: the shift to a fraction. */
	if (bi > 0 && bi < 2 * SEARCH) {
		double l = c[bj][bi - 1], r = c[bj][bi + 1];
		double den = l - 2 * best + r;
		if (den < 0)
			*dx += 0.5 * (l - r) / den;
	}
	if (bj > 0 && bj < 2 * SEARCH) {
		double u = c[bj - 1][bi], d = c[bj + 1][bi];
		double den = u - 2 * best + d;
		if (den < 0)
			*dy += 0.5 * (u - d) / den;
	}
	*dx *= BLOCK;
	*dy *= BLOCK;
}

/* Update one condition's clocks; append a change to out when it flips. */
static int cond_update(fl_health *hl, int idx, int now_true, double need_s,
		       double t, fl_health_change *out, int n)
{
	struct cond_state *s = &hl->cs[idx];

	if (now_true) {
		s->off_since = -1;
		if (s->on_since < 0)
			s->on_since = t;
		if (!s->raised && t - s->on_since >= need_s) {
			s->raised = 1;
			out[n].cond = 1 << idx;
			out[n].raised = 1;
			out[n].t = t;
			return n + 1;
		}
		return n;
	}
	s->on_since = -1;
	if (!s->raised)
		return n;
	if (s->off_since < 0)
		s->off_since = t;
	if (t - s->off_since >= hl->p.clear_s) {
		s->raised = 0;
		s->off_since = -1;
		out[n].cond = 1 << idx;
		out[n].raised = 0;
		out[n].t = t;
		return n + 1;
	}
	return n;
}

/* Frozen: the run of frames that are "the same" (see the essay). */
static int frozen_now(fl_health *hl, const uint8_t *img, double t)
{
	double ch;
	int changed;

	if (!hl->prev_valid) {
		hl->fig.changed = -1;
		hl->last_changed = 0;
		return hl->run_t0 >= 0 && t - hl->run_t0 >= hl->p.frozen_s;
	}
	ch = changed_fraction(hl, img);
	hl->fig.changed = ch;
	changed = ch >= hl->p.frozen_change;
	if (changed && hl->last_changed) {
		/* Two changed frames in a row: alive. The run starts again
		 * at this frame. */
		hl->run_t0 = t;
		return 0;
	}
	hl->last_changed = changed;
	if (hl->run_t0 < 0)
		hl->run_t0 = t;
	return t - hl->run_t0 >= hl->p.frozen_s;
}

/* Mean and structure (std of block means) of the current blocks. */
static void block_stats(fl_health *hl)
{
	size_t nb = (size_t)hl->cw * (size_t)hl->ch;
	double s = 0, s2 = 0;

	for (size_t i = 0; i < nb; i++) {
		s += hl->blocks[i];
		s2 += (double)hl->blocks[i] * hl->blocks[i];
	}
	s /= (double)nb;
	hl->fig.mean = s;
	hl->fig.structure = sqrt(fmax(0, s2 / (double)nb - s * s));
}

/* Learn (no reference image yet) or check against the reference. Returns
 * 1 when the view does not match, 0 when it does or cannot tell yet. */
static int moved_now(fl_health *hl, double t)
{
	size_t nb = (size_t)hl->cw * (size_t)hl->ch;
	double corr, dx, dy;

	if (!hl->ref_ready) {
		if (hl->learn_t0 < 0)
			hl->learn_t0 = t;
		for (size_t i = 0; i < nb; i++) {
			hl->rgx[i] += hl->gx[i];
			hl->rgy[i] += hl->gy[i];
		}
		hl->nlearn++;
		if (t - hl->learn_t0 >= hl->p.learn_s) {
			float inv = 1.0f / (float)hl->nlearn;
			for (size_t i = 0; i < nb; i++) {
				hl->rgx[i] *= inv;
				hl->rgy[i] *= inv;
			}
			hl->ref_ready = 1;
			hl->fig.ref_ready = 1;
			hl->next_check = t;
		}
		return 0;
	}
	if (t < hl->next_check)
		return hl->moved_last; /* between checks: the last verdict */
	hl->next_check = t + hl->p.check_s;
	match_reference(hl, &corr, &dx, &dy);
	hl->fig.corr = corr;
	hl->fig.dx = dx;
	hl->fig.dy = dy;
	if (corr >= ADAPT_CORR && fabs(dx) < BLOCK && fabs(dy) < BLOCK) {
		for (size_t i = 0; i < nb; i++) {
			hl->rgx[i] += ADAPT * (hl->gx[i] - hl->rgx[i]);
			hl->rgy[i] += ADAPT * (hl->gy[i] - hl->rgy[i]);
		}
	}
	hl->moved_last = corr < hl->p.moved_corr ||
			 hypot(dx, dy) > hl->p.moved_shift;
	return hl->moved_last;
}

double fl_health_compare(const uint8_t *ref, const uint8_t *img, int w, int h,
			 double *dx, double *dy)
{
	fl_health *hl = fl_health_create(NULL, w, h);
	double corr;

	*dx = *dy = 0;
	if (!hl)
		return -1;
	fl_health_set_reference(hl, ref);
	block_means(hl, img);
	gradients(hl, hl->blocks, hl->gx, hl->gy);
	match_reference(hl, &corr, dx, dy);
	fl_health_destroy(hl);
	return corr;
}

void fl_health_set_reference(fl_health *hl, const uint8_t *img)
{
	if (!hl || !img)
		return;
	block_means(hl, img);
	gradients(hl, hl->blocks, hl->rgx, hl->rgy);
	hl->ref_ready = 1;
	hl->fig.ref_ready = 1;
}

int fl_health_feed(fl_health *hl, const uint8_t *img, double t,
		   fl_health_change *out)
{
	int n = 0, frozen, moved;

	if (!hl || !img || !out)
		return 0;
	block_means(hl, img);
	block_stats(hl);
	hl->covered_now = hl->fig.structure < hl->p.covered_std;
	if (hl->covered_now) {
		/* A flat picture cannot show change: that is "covered",
		 * not "frozen" as well. */
		hl->run_t0 = -1;
		frozen = 0;
	} else {
		frozen = frozen_now(hl, img, t);
	}
	memcpy(hl->prev, img, (size_t)hl->w * (size_t)hl->h);
	hl->prev_valid = 1;

	n = cond_update(hl, 0, frozen, 0, t, out, n);
	n = cond_update(hl, 1, hl->covered_now, hl->p.covered_s, t, out, n);
	if (!hl->covered_now) {
		/* An empty picture matches nothing: no move check. */
		gradients(hl, hl->blocks, hl->gx, hl->gy);
		moved = moved_now(hl, t);
		n = cond_update(hl, 2, moved, hl->p.moved_s, t, out, n);
	}
	return n;
}

void fl_health_gap(fl_health *hl)
{
	if (!hl)
		return;
	hl->prev_valid = 0;
	if (!hl->cs[0].raised)
		hl->run_t0 = -1;
	for (int i = 0; i < FL_HEALTH_NCOND; i++)
		if (!hl->cs[i].raised)
			hl->cs[i].on_since = -1;
}

int fl_health_active(const fl_health *hl)
{
	int bits = 0;

	for (int i = 0; hl && i < FL_HEALTH_NCOND; i++)
		if (hl->cs[i].raised)
			bits |= 1 << i;
	return bits;
}

void fl_health_figures_of(const fl_health *hl, fl_health_figures *f)
{
	*f = hl->fig;
}

const char *fl_health_cond_name(int cond)
{
	switch (cond) {
	case FL_HEALTH_FROZEN:
		return "frozen";
	case FL_HEALTH_COVERED:
		return "covered";
	case FL_HEALTH_MOVED:
		return "moved";
	}
	return "unknown";
}
