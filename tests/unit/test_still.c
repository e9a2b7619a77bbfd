/*
 * test_still.c - the per-pixel model of objects at rest, on frames drawn
 * here: a textured lane, a block that arrives and stays, passes through,
 * leaves, hides behind a passer-by, and lighting that changes.
 */
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
	fl_still_params p = {.rest_s = 2.0};

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
			CHECK_MSG(b == NULL, "at rest too early at %.1f: %d,%d %dx%d", t, b ? b->x : 0, b ? b->y : 0, b ? b->w : 0, b ? b->h : 0);
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
		CHECK_MSG(main_blob(s) == NULL, "light change at rest at %.1f", t);
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
					f[y * W + x] = (uint8_t)(40 + texture(x - x0, y));
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
	CHECK(fl_still_create(&(fl_still_params){0}, 4, 4) == NULL);
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
	TEST_DONE();
}
