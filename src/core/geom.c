/*
 * geom.c - polygons and boxes (see geom.h).
 */
#include "geom.h"

#include <math.h>
#include <string.h>

double fl_poly_area(const fl_point *p, int n)
{
	double a = 0;

	for (int i = 0; i < n; i++) {
		const fl_point *q = &p[(i + 1) % n];
		a += p[i].x * q->y - q->x * p[i].y;
	}
	return a / 2;
}

int fl_poly_contains(const fl_point *p, int n, double x, double y)
{
	int in = 0;

	for (int i = 0, j = n - 1; i < n; j = i++) {
		if ((p[i].y > y) != (p[j].y > y) &&
		    x < (p[j].x - p[i].x) * (y - p[i].y) / (p[j].y - p[i].y) +
				    p[i].x)
			in = !in;
	}
	return in;
}

int fl_poly_span(const fl_point *p, int n, double y, double *x0, double *x1)
{
	int found = 0;

	for (int i = 0, j = n - 1; i < n; j = i++) {
		double x;
		if ((p[i].y > y) == (p[j].y > y))
			continue;
		x = (p[j].x - p[i].x) * (y - p[i].y) / (p[j].y - p[i].y) +
		    p[i].x;
		if (!found || x < *x0)
			*x0 = x;
		if (!found || x > *x1)
			*x1 = x;
		found = 1;
	}
	return found;
}

static double cross(fl_point o, fl_point a, fl_point b)
{
	return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

static int on_segment(fl_point a, fl_point b, fl_point c)
{
	return fmin(a.x, b.x) <= c.x && c.x <= fmax(a.x, b.x) &&
	       fmin(a.y, b.y) <= c.y && c.y <= fmax(a.y, b.y);
}

/* Segments ab and cd share at least one point. */
static int segments_meet(fl_point a, fl_point b, fl_point c, fl_point d)
{
	double d1 = cross(c, d, a), d2 = cross(c, d, b);
	double d3 = cross(a, b, c), d4 = cross(a, b, d);

	if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) &&
	    ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)))
		return 1;
	return (d1 == 0 && on_segment(c, d, a)) ||
	       (d2 == 0 && on_segment(c, d, b)) ||
	       (d3 == 0 && on_segment(a, b, c)) ||
	       (d4 == 0 && on_segment(a, b, d));
}

int fl_poly_self_intersects(const fl_point *p, int n)
{
	for (int i = 0; i < n; i++) {
		const fl_point *q = &p[(i + 1) % n];
		if (p[i].x == q->x && p[i].y == q->y)
			return 1;
	}
	for (int i = 0; i < n; i++) {
		for (int j = i + 1; j < n; j++) {
			/* Adjacent edges share an endpoint by design. */
			if (j == i + 1 || (i == 0 && j == n - 1))
				continue;
			if (segments_meet(p[i], p[(i + 1) % n], p[j],
					  p[(j + 1) % n]))
				return 1;
		}
	}
	return 0;
}

size_t fl_poly_mask(const fl_point *p, int n, double sx, double sy,
		    uint8_t *mask, int w, int h)
{
	size_t count = 0;

	memset(mask, 0, (size_t)w * (size_t)h);
	for (int y = 0; y < h; y++) {
		double cy = (y + 0.5) / sy;
		for (int x = 0; x < w; x++) {
			if (fl_poly_contains(p, n, (x + 0.5) / sx, cy)) {
				mask[(size_t)y * (size_t)w + (size_t)x] = 1;
				count++;
			}
		}
	}
	return count;
}

static double inter_area(const double *a, const double *b)
{
	double x0 = fmax(a[0], b[0]), y0 = fmax(a[1], b[1]);
	double x1 = fmin(a[0] + a[2], b[0] + b[2]);
	double y1 = fmin(a[1] + a[3], b[1] + b[3]);

	return (x1 > x0 && y1 > y0) ? (x1 - x0) * (y1 - y0) : 0;
}

double fl_box_overlap_min(const double *a, const double *b)
{
	double m = fmin(a[2] * a[3], b[2] * b[3]);

	return m > 0 ? inter_area(a, b) / m : 0;
}

double fl_box_iou(const double *a, const double *b)
{
	double i = inter_area(a, b);
	double u = a[2] * a[3] + b[2] * b[3] - i;

	return u > 0 ? i / u : 0;
}
