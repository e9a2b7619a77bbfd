/*
 * test_still.c - the per-pixel model of objects at rest, on frames drawn
 * here: a textured lane, a block that arrives and stays, passes through,
 * leaves, hides behind a passer-by, and lighting that changes.
 */
#include <math.h>
#include <string.h>

#include "fl.h"
#include "still.h"
#include "test.h"

#define W 160
#define H 90
#define FPS 5.0

static uint8_t lane[W * H];

/* A fixed, seeded texture: asphalt-like grain around grey 110. */
static void make_lane(void)
{
	unsigned s = 12345;

	for (int i = 0; i < W * H; i++) {
		s = s * 1103515245u + 12345u;
		lane[i] = (uint8_t)(100 + (s >> 16) % 21);
	}
}

/* Noise so no two frames are identical (sensor noise, +-3). */
static unsigned noise_seed = 99;
static int noise(void)
{
	noise_seed = noise_seed * 1103515245u + 12345u;
	return (int)((noise_seed >> 16) % 7) - 3;
}

/* Non-repeating texture of an object, in its own coordinates. */
static int texture(int x, int y)
{
	unsigned h = (unsigned)x * 73856093u ^ (unsigned)y * 19349663u;

	h ^= h >> 13;
	h *= 0x5bd1e995u;
	return (int)((h >> 15) % 81) - 40;
}

static void draw(uint8_t *f, double gain, int bx, int by, int bw, int bh,
		 int value)
{
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			int v = (int)(lane[y * W + x] * gain);
			if (x >= bx && x < bx + bw && y >= by && y < by + bh)
				/* textured, the pattern moving with it */
				v = value + texture(x - bx, y - by);
			v += noise();
			f[y * W + x] = (uint8_t)FL_MIN(255, FL_MAX(0, v));
		}
}

/* A 30 x 20 car-like block at (bx, by): flat panels of a few pixels (a
 * body, windows, lamps), not per-pixel grain. */
static void draw_smooth(uint8_t *f, int bx, int by)
{
	draw(f, 1.0, 0, 0, 0, 0, 0);
	for (int y = by; y < by + 20 && y < H; y++)
		for (int x = FL_MAX(0, bx); x < bx + 30 && x < W; x++)
			f[y * W + x] = (uint8_t)(150 +
						 texture((x - bx) / 6,
							 (y - by) / 5) +
						 noise());
}

/* The largest blob, or NULL. */
static const fl_blob *main_blob(fl_still *s)
{
	int n;
	const fl_blob *b = fl_still_blobs(s, &n), *best = NULL;

	for (int i = 0; i < n; i++)
		if (!best || b[i].area > best->area)
			best = &b[i];
	return best;
}

static fl_still *fresh(void)
{
	fl_still_params p = { .rest_s = 2.0 };

	return fl_still_create(&p, W, H);
}

/* A block drives in, stops at 10 s: at rest, back-dated to 10 s. */
static void test_arrive_and_rest(void)
{
	fl_still *s = fresh();
	uint8_t f[W * H];
	const fl_blob *b = NULL;

	for (int i = 0; i < 30 * FPS; i++) {
		double t = i / FPS;
		int x = t < 10 ? (int)(t * 9) - 30 : 60;
		draw(f, 1.0, x, 30, 30, 20, 200);
		fl_still_feed(s, f, t);
		b = main_blob(s);
		if (t < 10.8)
			CHECK_MSG(b == NULL,
				  "at rest too early at %.1f: %d,%d %dx%d", t,
				  b ? b->x : 0, b ? b->y : 0, b ? b->w : 0,
				  b ? b->h : 0);
	}
	CHECK(b != NULL);
	if (b) {
		CHECK_NEAR(b->rest_since, 10.0, 0.41);
		CHECK(b->seen == FL_SEEN_PRESENT);
		CHECK(b->x >= 58 && b->x <= 61 && b->w >= 28 && b->w <= 32);
	}
	fl_still_destroy(s);
}

/* Passing through at walking pace never comes to rest. */
static void test_pass_through(void)
{
	fl_still *s = fresh();
	uint8_t f[W * H];

	for (int i = 0; i < 40 * FPS; i++) {
		double t = i / FPS;
		draw(f, 1.0, (int)(t * 4) - 30, 40, 30, 20, 190);
		fl_still_feed(s, f, t);
		CHECK_MSG(main_blob(s) == NULL, "mover at rest at %.1f", t);
	}
	fl_still_destroy(s);
}

/* Lighting: global brightness drifting by 35% is no object. */
static void test_global_light(void)
{
	fl_still *s = fresh();
	uint8_t f[W * H];

	for (int i = 0; i < 60 * FPS; i++) {
		double t = i / FPS;
		double gain = 1.0 - 0.35 * (t < 30 ? t / 30 : (60 - t) / 30);
		draw(f, gain, 0, 0, 0, 0, 0);
		fl_still_feed(s, f, t);
		CHECK_MSG(main_blob(s) == NULL, "light change at rest at %.1f",
			  t);
	}
	fl_still_destroy(s);
}

/* A passer-by in front hides it (HIDDEN, clock kept); when it leaves the
 * clear lane shows (GONE) and the pixels free themselves. */
static void test_hidden_then_gone(void)
{
	fl_still *s = fresh();
	uint8_t f[W * H];
	const fl_blob *b;
	int hidden = 0;

	for (int i = 0; i < 45 * FPS; i++) {
		double t = i / FPS;
		/* put down at 3 s */
		draw(f, 1.0, t < 3 ? -100 : 60, 30, 30, 20, 200);
		if (t >= 20 && t < 26) /* a dark truck, moving, covering it */
			for (int y = 20; y < 60; y++)
				for (int x0 = (int)((t - 20) * 10), x = x0;
				     x < x0 + 80 && x < W; x++)
					f[y * W + x] = (uint8_t)(40 +
								 texture(x - x0,
									 y));
		if (t >= 35) /* gone */
			draw(f, 1.0, 0, 0, 0, 0, 0);
		fl_still_feed(s, f, t);
		b = main_blob(s);
		if (t > 22 && t < 25) {
			CHECK_MSG(b != NULL, "lost while hidden at %.1f", t);
			if (b) {
				hidden += b->seen == FL_SEEN_HIDDEN;
				CHECK_NEAR(b->rest_since, 3.0, 0.41);
			}
		}
		if (t > 30 && t < 35) {
			CHECK(b != NULL && b->seen == FL_SEEN_PRESENT);
			if (b)
				CHECK_NEAR(b->rest_since, 3.0, 0.41);
		}
		if (t >= 35.2 && t < 36)
			CHECK_MSG(b == NULL || b->seen == FL_SEEN_GONE,
				  "not gone at %.1f", t);
		if (t >= 37)
			CHECK_MSG(b == NULL, "pixels held at %.1f", t);
	}
	CHECK(hidden > 0);
	fl_still_destroy(s);
}

/* Something moving in the first frame leaves no ghost where it was. */
static void test_no_ghost_from_start(void)
{
	fl_still *s = fresh();
	uint8_t f[W * H];

	for (int i = 0; i < 20 * FPS; i++) {
		double t = i / FPS;
		/* in view at start, walks off within a second */
		draw(f, 1.0, 70 + (int)(t * 60), 30, 12, 30, 220);
		fl_still_feed(s, f, t);
		CHECK_MSG(main_blob(s) == NULL, "ghost at %.1f", t);
	}
	fl_still_destroy(s);
}

/* With a clear-lane reference, what stands there from the first frame is
 * at rest from time zero. */
static void test_reference(void)
{
	fl_still *s = fresh();
	uint8_t f[W * H];
	const fl_blob *b = NULL;

	fl_still_set_reference(s, lane);
	for (int i = 0; i < 10 * FPS; i++) {
		draw(f, 1.0, 60, 30, 30, 20, 200);
		fl_still_feed(s, f, i / FPS);
		b = main_blob(s);
	}
	CHECK(b != NULL);
	if (b)
		CHECK_NEAR(b->rest_since, 0.0, 0.01);
	fl_still_destroy(s);
}

/* Seeded (a detector's box at start): held while it matches. */
static void test_seed(void)
{
	fl_still *s = fresh();
	uint8_t f[W * H];
	const fl_blob *b = NULL;

	for (int i = 0; i < 10 * FPS; i++) {
		draw(f, 1.0, 60, 30, 30, 20, 200);
		fl_still_feed(s, f, i / FPS);
		if (i == 0)
			fl_still_seed(s, 60, 30, 30, 20, 0.0);
		b = main_blob(s);
	}
	CHECK(b != NULL && b->seeded && b->seen == FL_SEEN_PRESENT);
	fl_still_destroy(s);
	CHECK(fl_still_create(&(fl_still_params){ 0 }, 4, 4) == NULL);
	fl_still_destroy(NULL);
}

/* A car whose body is the lane's grey shows only its window and bumper:
 * the two pieces, resting together, are one blob. */
static void test_pieces(void)
{
	fl_still *s = fresh();
	uint8_t f[W * H];
	const fl_blob *b;
	int n;

	for (int i = 0; i < 12 * FPS; i++) {
		double t = i / FPS;
		draw(f, 1.0, 0, 0, 0, 0, 0);
		if (t >= 3) {
			for (int y = 30; y < 34; y++) /* window */
				for (int x = 60; x < 80; x++)
					f[y * W + x] = 30;
			for (int y = 39; y < 42; y++) /* bumper */
				for (int x = 58; x < 82; x++)
					f[y * W + x] = 220;
		}
		fl_still_feed(s, f, t);
	}
	b = fl_still_blobs(s, &n);
	CHECK_MSG(n == 1, "%d blobs", n);
	if (n == 1)
		CHECK(b->y <= 30 && b->y + b->h >= 42);
	fl_still_destroy(s);
}

/*
 * Camera shake: the view (rendered at twice the analysis size, so that one
 * analysis pixel holds two of its pixels) jitters by 1-3 of its pixels
 * every frame: whole and half analysis pixels. Painted lane edges must not
 * come to rest, and a block that parks at 10 s must be at rest soon after,
 * with its rest start back-dated, not held back by the jitter.
 */
static void draw_shaken(uint8_t *f, int dx, int dy, int bx, int by)
{
	static uint8_t big[4 * W * H];
	int W2 = 2 * W, H2 = 2 * H;

	for (int y = 0; y < H2; y++)
		for (int x = 0; x < W2; x++) {
			int sx = x + dx,
			    sy = y + dy; /* scene point shown here */
			int v = lane[(FL_MAX(0, FL_MIN(H2 - 1, sy)) / 2) * W +
				     FL_MAX(0, FL_MIN(W2 - 1, sx)) / 2];
			if ((sx / 8) % 6 == 0) /* painted stripes */
				v = 230;
			if (sx >= 2 * bx && sx < 2 * bx + 60 && sy >= 2 * by &&
			    sy < 2 * by + 40)
				/* patches of 4 analysis pixels: a car's
				 * windows and panels, not per-pixel grain */
				v = 60 + texture((sx - 2 * bx) / 8,
						 (sy - 2 * by) / 8);
			big[(size_t)y * W2 + x] = (uint8_t)FL_MIN(255,
								  FL_MAX(0, v));
		}
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			const uint8_t *p = big + (size_t)2 * y * W2 + 2 * x;
			int v = (p[0] + p[1] + p[W2] + p[W2 + 1] + 2) / 4 +
				noise();
			f[y * W + x] = (uint8_t)FL_MIN(255, FL_MAX(0, v));
		}
}

static void test_shake(void)
{
	/* Smallest object as a lane would count one (min_size_px): a one
	 * pixel sliver along a stripe, where structure tests flicker under
	 * shake, is not an object. */
	fl_still_params p = { .rest_s = 2.0, .min_area = 0.002 };
	fl_still *s = fl_still_create(&p, W, H);
	uint8_t f[W * H];
	const fl_blob *b = NULL;
	unsigned r = 7;
	double found = -1;

	for (int i = 0; i < 30 * FPS; i++) {
		double t = i / FPS;
		int dx, dy;
		r = r * 1103515245u + 12345u;
		dx = (int)((r >> 16) % 7) - 3;
		r = r * 1103515245u + 12345u;
		dy = (int)((r >> 16) % 5) - 2;
		draw_shaken(f, dx, dy, t < 10 ? (int)(t * 8) - 30 : 50, 30);
		fl_still_feed(s, f, t);
		b = main_blob(s);
		if (t < 10.8)
			CHECK_MSG(b == NULL,
				  "shaking lane at rest at %.1f: %d,%d %dx%d",
				  t, b ? b->x : 0, b ? b->y : 0, b ? b->w : 0,
				  b ? b->h : 0);
		if (b && found < 0) {
			found = t;
			CHECK_NEAR(b->rest_since, 10.0, 1.0);
		}
	}
	CHECK_MSG(found > 0 && found < 14.0,
		  "parked block at rest only at %.1f", found);
	CHECK(b != NULL && b->x >= 47 && b->x <= 53);
	fl_still_destroy(s);
}

/*
 * A truck crawls over a parked block; its long flat side matches itself
 * from frame to frame, so pixel by pixel it stands still over the block for
 * longer than it takes something still to replace a resting object. The
 * truck moves as a whole (its cab): the block must stay at rest with its
 * rest start, hidden, never replaced, and show again when it has passed.
 */
static void test_flat_truck(void)
{
	fl_still *s = fresh();
	uint8_t f[W * H];
	const fl_blob *b;
	int hidden = 0;

	for (int i = 0; i < 50 * FPS; i++) {
		double t = i / FPS;
		draw(f, 1.0, t < 3 ? -100 : 60, 30, 30, 20, 200);
		if (t >= 15 && t < 40) {
			/* 100 px long, 6 px/s: over the block from about 20 s
			 * to 35 s; a dark textured cab in front */
			int x0 = (int)((t - 15) * 6) - 40;
			for (int y = 20; y < 60; y++)
				for (int x = FL_MAX(0, x0);
				     x < x0 + 100 && x < W; x++)
					f[y * W +
					  x] = (uint8_t)(x >= x0 + 85
								 ? 40 + texture(x - x0,
										y) /
										   2
								 : 60 + noise());
		}
		fl_still_feed(s, f, t);
		b = main_blob(s);
		if (t > 20 && t < 36) {
			CHECK_MSG(b != NULL, "lost behind the truck at %.1f",
				  t);
			if (b) {
				CHECK_MSG(b->seen != FL_SEEN_GONE,
					  "gone at %.1f", t);
				CHECK_NEAR(b->rest_since, 3.0, 0.41);
				hidden += b->seen == FL_SEEN_HIDDEN;
			}
		}
		if (t > 45) {
			CHECK(b != NULL && b->seen == FL_SEEN_PRESENT);
			if (b)
				CHECK_NEAR(b->rest_since, 3.0, 0.41);
		}
	}
	CHECK(hidden > 0);
	fl_still_destroy(s);
}

/*
 * Start-up with traffic: a detector finds a block in the first frame (a
 * seed), but it is driving through and gone within a second. It was
 * traffic: nothing at rest, ever (it used to be held, hidden, for good).
 */
static void test_seed_traffic(void)
{
	fl_still *s = fresh();
	uint8_t f[W * H];

	for (int i = 0; i < 20 * FPS; i++) {
		double t = i / FPS;
		draw(f, 1.0, 60 + (int)(t * 40), 30, 30, 20, 200);
		fl_still_feed(s, f, t);
		if (i == 0)
			fl_still_seed(s, 60, 30, 30, 20, 0.0);
		CHECK_MSG(main_blob(s) == NULL, "traffic at rest at %.1f", t);
	}
	fl_still_destroy(s);
}

/* A seeded block that stays is at rest from the seed's time once it has
 * stood still for rest_s; when it leaves, the lane it uncovers (never seen
 * before) is learnt and the blob ends within seconds. */
static void test_seed_parked_leaves(void)
{
	fl_still *s = fresh();
	uint8_t f[W * H];
	const fl_blob *b;
	double last = -1;

	for (int i = 0; i < 30 * FPS; i++) {
		double t = i / FPS;
		draw(f, 1.0, t < 15 ? 60 : 60 + (int)((t - 15) * 40), 30, 30,
		     20, 200);
		fl_still_feed(s, f, t);
		if (i == 0)
			fl_still_seed(s, 60, 30, 30, 20, 0.0);
		b = main_blob(s);
		if (t < 1.9)
			CHECK_MSG(b == NULL, "confirmed before rest_s at %.1f",
				  t);
		if (t >= 2.2 && t < 15) {
			CHECK_MSG(b != NULL, "seed lost at %.1f", t);
			if (b)
				CHECK_NEAR(b->rest_since, 0.0, 0.01);
		}
		if (b && b->seen != FL_SEEN_GONE)
			last = t;
	}
	CHECK_MSG(last < 19.0, "held until %.1f after it left at 15", last);
	fl_still_destroy(s);
}

/* No detector, no reference: a block parked from the first frame is taken
 * for the lane; when it drives off at 30 s, the lane it uncovers is no
 * obstruction (a ghost), whatever its contrast. */
static void test_ghost(void)
{
	fl_still *s = fresh();
	uint8_t f[W * H];

	for (int i = 0; i < 50 * FPS; i++) {
		double t = i / FPS;
		draw(f, 1.0, t < 30 ? 60 : 60 + (int)((t - 30) * 40), 30, 30,
		     20, 200);
		fl_still_feed(s, f, t);
		CHECK_MSG(main_blob(s) == NULL, "ghost at rest at %.1f", t);
	}
	fl_still_destroy(s);
}

/* A block driving at start parks at 2 s, half over where it was in the
 * first frame. Without a detector or a reference the part over its
 * first-frame place may be taken for lane (what rests there is only known
 * from 2 s on), but nothing may be at rest from earlier than its stop.
 * (When it leaves, crumbs of the part taken for lane can remain at rest:
 * docs/memory.md, what is weak.) */
static void test_parks_after_start(void)
{
	fl_still *s = fresh();
	uint8_t f[W * H];
	const fl_blob *b = NULL;
	int seen = 0;

	for (int i = 0; i < 30 * FPS; i++) {
		double t = i / FPS;
		draw_smooth(f, 50 + (int)(FL_MIN(t, 2.0) * 8), 30);
		fl_still_feed(s, f, t);
		b = main_blob(s);
		if (b) {
			seen++;
			CHECK_MSG(b->rest_since > 1.5,
				  "at rest since %.1f at %.1f", b->rest_since,
				  t);
		}
	}
	CHECK(seen > 0);
	fl_still_destroy(s);
}

/* Two cars in turn at one spot: the first drives off at 20 s and the
 * second, alike in every pixel once parked, drives in right behind it and
 * parks at 22.9 s (while they move, motion blur: nothing of them matches
 * what rested). No pixel shows the lane for as long as PIXEL_CLEAR_S, and
 * never most of them at once, yet the lane showed everywhere in between:
 * the second is a new object, at rest since it parked, not the first one
 * still there (which would alarm at once, on the first one's clock). */
static void test_same_spot_in_turn(void)
{
	fl_still *s = fresh();
	uint8_t f[W * H];
	const fl_blob *b = NULL;

	for (int i = 0; i < 30 * FPS; i++) {
		double t = i / FPS;
		int a = t < 3 ? -100 : t < 20 ? 60 : 60 + (int)((t - 20) * 20);
		int c = t < 22.9 ? 60 - (int)((22.9 - t) * 20) : 60;

		draw(f, 1.0, a, 30, 40, 20, t < 20 ? 200 : 40);
		for (int y = 30; y < 50 && t >= 19; y++) /* the second */
			for (int x = FL_MAX(0, c); x < c + 40 && x < W; x++)
				if (x < a || x >= a + 40)
					f[y * W + x] = (uint8_t)FL_MAX(
						0,
						(t < 22.9 ? 40 : 200) +
							texture(x - c, y - 30) +
							noise());
		fl_still_feed(s, f, t);
		b = main_blob(s);
		if (t > 10 && t < 19)
			CHECK_MSG(b && b->rest_since < 4,
				  "the first not at rest at %.1f", t);
	}
	CHECK(b != NULL);
	if (b) {
		CHECK_MSG(b->rest_since > 20,
			  "the second taken for the first: at rest since %.1f",
			  b->rest_since);
		CHECK(b->seen == FL_SEEN_PRESENT);
	}
	fl_still_destroy(s);
}

/*
 * Cloud shade in the first frame (docs/scenes.md, far-shade): the lane is
 * assumed from a frame in which a soft patch 60 % dark lies on it; the
 * shade stays a few seconds, then drifts off. Where it lay the lane now
 * shows brighter than assumed, and stands still: no object, only light
 * that has gone (no outline: lane meets lane across its edge). The camera's
 * black level makes light affine in the grey levels (16 + g (v - 16)).
 */
static void draw_shade(uint8_t *f, double cx, double cy)
{
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			double d = hypot((x - cx) / 30.0, (y - cy) / 18.0);
			/* full shade inside d 0.6, none beyond 1.4 */
			double g = 1.0 -
				   0.6 * FL_MIN(1.0,
						FL_MAX(0.0, (1.4 - d) / 0.8));
			int v = (int)(16 + g * (lane[y * W + x] - 16)) +
				noise();
			f[y * W + x] = (uint8_t)FL_MIN(255, FL_MAX(0, v));
		}
}

/*
 * Frames of a shade whose centre moves from x0 at v px/s after t0 and stops
 * at x_end, for secs: how many show a blob at rest, and the first time.
 */
static int shade_run(double secs, double x0, double v, double t0, double x_end,
		     double *first)
{
	fl_still *s = fresh();
	uint8_t f[W * H];
	int bad = 0;

	*first = -1;
	for (int i = 0; i < secs * FPS; i++) {
		double t = i / FPS;

		draw_shade(f, FL_MIN(x_end, x0 + v * FL_MAX(0.0, t - t0)), 45);
		fl_still_feed(s, f, t);
		if (main_blob(s)) {
			bad++;
			if (*first < 0)
				*first = t;
		}
	}
	fl_still_destroy(s);
	return bad;
}

static void test_shade_at_start(void)
{
	double first;
	/* still until 4 s, then off to the right at 12 px/s */
	int bad = shade_run(40, 60, 12, 4, 1e9, &first);

	/* crumbs along the shade's old soft edge (a few pixels whose grain
	 * and noise happened to clear the thresholds) may rest a moment;
	 * nothing stays: less than rest_s in all */
	CHECK_MSG(bad < 2 * FPS,
		  "the lane where shade was at rest in %d frames, from %.1f",
		  bad, first);
}

/*
 * Cloud shade that arrives after the start (docs/scenes.md, far-shade; the
 * long negative `long_clouds`): a coarsely textured lane is seen clear for
 * 5 s, then a soft patch 60 % dark drifts over it and stays. The coarse
 * gain map cannot follow its soft edge, so pixels there differ from the
 * clear lane beyond the brightness test and stand still. What shows under
 * them is the lane's own pattern, darker: light, no object.
 */
static void test_shade_arrives(void)
{
	uint8_t saved[W * H];
	double first;
	int bad;

	memcpy(saved, lane, sizeof(lane));
	/* coarse grain (a worn, patched surface), 90..150 */
	for (int i = 0; i < W * H; i++)
		lane[i] = (uint8_t)(90 + (texture(i % W, i / W) + 40) * 60 / 80);
	/* off the view until 5 s, in from the left at 10 px/s, then resting
	 * with its centre at x 70 */
	bad = shade_run(60, -60, 10, 5, 70, &first);
	memcpy(lane, saved, sizeof(lane));
	CHECK_MSG(bad < 2 * FPS,
		  "shade over the textured lane at rest in %d frames, from %.1f",
		  bad, first);
}

int main(void)
{
	make_lane();
	test_arrive_and_rest();
	test_pass_through();
	test_global_light();
	test_hidden_then_gone();
	test_no_ghost_from_start();
	test_reference();
	test_seed();
	test_pieces();
	test_shake();
	test_flat_truck();
	test_seed_traffic();
	test_seed_parked_leaves();
	test_ghost();
	test_parks_after_start();
	test_same_spot_in_turn();
	test_shade_at_start();
	test_shade_arrives();
	TEST_DONE();
}
