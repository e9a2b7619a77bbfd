/*
 * test_geom.c - polygon and box helpers, table-driven.
 *
 * The configuration leans on these to reject bad lanes (area, crossing
 * edges) and the detectors on the mask and box overlaps, so each gets a
 * small table of hand-computed cases: a square, a concave L, a bow tie,
 * collinear and repeated points, touching edges, scaled masks.
 */
#include "geom.h"
#include "fl.h"
#include "test.h"

#include <string.h>

struct poly_case {
	const char *what;
	fl_point p[8];
	int n;
	double area; /* signed, as fl_poly_area returns it */
	int crosses; /* fl_poly_self_intersects */
};

static const struct poly_case polys[] = {
	{ "unit-ish square, screen clockwise",
	  { { 0, 0 }, { 10, 0 }, { 10, 10 }, { 0, 10 } },
	  4,
	  100,
	  0 },
	{ "same square, other winding",
	  { { 0, 0 }, { 0, 10 }, { 10, 10 }, { 10, 0 } },
	  4,
	  -100,
	  0 },
	{ "triangle", { { 0, 0 }, { 4, 0 }, { 0, 3 } }, 3, 6, 0 },
	{ "concave L",
	  { { 0, 0 }, { 20, 0 }, { 20, 10 }, { 10, 10 }, { 10, 20 }, { 0, 20 } },
	  6,
	  300,
	  0 },
	{ "bow tie", { { 0, 0 }, { 10, 10 }, { 10, 0 }, { 0, 10 } }, 4, 0, 1 },
	{ "collinear triangle", { { 0, 0 }, { 5, 5 }, { 10, 10 } }, 3, 0, 0 },
	{ "repeated point",
	  { { 0, 0 }, { 10, 0 }, { 10, 0 }, { 0, 10 } },
	  4,
	  50,
	  1 },
	{ "vertex touches an edge",
	  { { 0, 0 }, { 10, 0 }, { 10, 10 }, { 5, 0 }, { 0, 10 } },
	  5,
	  50,
	  1 },
	{ "closing point repeats the first",
	  { { 0, 0 }, { 10, 0 }, { 10, 10 }, { 0, 0 } },
	  4,
	  50,
	  1 },
};

static void test_polys(void)
{
	for (size_t i = 0; i < FL_ARRAY_SIZE(polys); i++) {
		const struct poly_case *t = &polys[i];
		double a = fl_poly_area(t->p, t->n);
		int x = fl_poly_self_intersects(t->p, t->n);

		CHECK_MSG(fabs(a - t->area) < 1e-9, "%s: area %g, want %g",
			  t->what, a, t->area);
		CHECK_MSG(x == t->crosses, "%s: crosses %d, want %d", t->what,
			  x, t->crosses);
	}
}

static void test_contains(void)
{
	const fl_point *l = polys[3].p; /* the L */
	static const struct {
		double x, y;
		int in;
	} pts[] = { { 5, 5, 1 },  { 15, 5, 1 }, { 5, 15, 1 }, { 15, 15, 0 },
		    { -1, 5, 0 }, { 25, 5, 0 }, { 5, 25, 0 }, { 19.9, 9.9, 1 } };

	for (size_t i = 0; i < FL_ARRAY_SIZE(pts); i++)
		CHECK_MSG(fl_poly_contains(l, 6, pts[i].x, pts[i].y) ==
				  pts[i].in,
			  "L contains (%g, %g) != %d", pts[i].x, pts[i].y,
			  pts[i].in);
}

static void test_mask(void)
{
	static uint8_t mask[40 * 40];
	const fl_point *sq = polys[0].p;
	size_t n;

	/* 10x10 square into a 20x20 mask at scale 1: 100 pixels. */
	n = fl_poly_mask(sq, 4, 1, 1, mask, 20, 20);
	CHECK_EQ_INT(n, 100);
	CHECK(mask[0] == 1 && mask[9] == 1 && mask[10] == 0);
	CHECK(mask[9 * 20 + 9] == 1 && mask[10 * 20] == 0);
	/* Scaled by 2: 400 pixels of a 40x40 mask. */
	n = fl_poly_mask(sq, 4, 2, 2, mask, 40, 40);
	CHECK_EQ_INT(n, 400);
	/* Half scale: 25 pixels. */
	n = fl_poly_mask(sq, 4, 0.5, 0.5, mask, 20, 20);
	CHECK_EQ_INT(n, 25);
	/* The L at scale 1: its area. */
	n = fl_poly_mask(polys[3].p, 6, 1, 1, mask, 40, 40);
	CHECK_EQ_INT(n, 300);
}

static void test_boxes(void)
{
	static const struct {
		double a[4], b[4];
		double overlap_min, iou;
	} boxes[] = {
		{ { 0, 0, 10, 10 }, { 0, 0, 10, 10 }, 1, 1 },
		{ { 0, 0, 10, 10 }, { 5, 0, 10, 10 }, 0.5, 50.0 / 150 },
		{ { 0, 0, 10, 10 }, { 2, 2, 2, 2 }, 1, 4.0 / 100 },
		{ { 0, 0, 10, 10 }, { 10, 0, 5, 5 }, 0, 0 },
		{ { 0, 0, 10, 10 }, { 20, 20, 5, 5 }, 0, 0 },
		{ { 0, 0, 0, 0 }, { 0, 0, 0, 0 }, 0, 0 },
	};

	for (size_t i = 0; i < FL_ARRAY_SIZE(boxes); i++) {
		CHECK_EQ_DBL(fl_box_overlap_min(boxes[i].a, boxes[i].b),
			     boxes[i].overlap_min, 1e-12);
		CHECK_EQ_DBL(fl_box_overlap_min(boxes[i].b, boxes[i].a),
			     boxes[i].overlap_min, 1e-12);
		CHECK_EQ_DBL(fl_box_iou(boxes[i].a, boxes[i].b), boxes[i].iou,
			     1e-12);
	}
}

int main(void)
{
	test_polys();
	test_contains();
	test_mask();
	test_boxes();
	TEST_DONE();
}
