/*
 * geom.h - plane geometry for lanes: polygons, boxes, masks.
 *
 * Lanes are simple polygons in source-frame pixels. Points are given in
 * order (either winding); the polygon closes itself.
 */
#ifndef FL_GEOM_H
#define FL_GEOM_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Signed area (positive counter-clockwise in y-up, i.e. clockwise on screen). */
double fl_poly_area(const fl_point *p, int n);

/* 1 if (x, y) is inside the polygon (even-odd rule). */
int fl_poly_contains(const fl_point *p, int n, double x, double y);

/* The leftmost and rightmost points where the row y crosses the polygon's
 * edges; 0 (x0, x1 untouched) when the row misses it. */
int fl_poly_span(const fl_point *p, int n, double y, double *x0, double *x1);

/* 1 if two non-adjacent edges cross or touch, or consecutive points repeat. */
int fl_poly_self_intersects(const fl_point *p, int n);

/*
 * Rasterise the polygon, scaled by sx, sy, into mask (w x h, 1 byte a pixel,
 * 1 inside, 0 outside; a pixel is inside when its centre is). Returns the
 * number of pixels set.
 */
size_t fl_poly_mask(const fl_point *p, int n, double sx, double sy,
		    uint8_t *mask, int w, int h);

/* Intersection area over the smaller box's area, 0..1 (boxes x, y, w, h). */
double fl_box_overlap_min(const double *a, const double *b);

/* Intersection over union, 0..1. */
double fl_box_iou(const double *a, const double *b);

#endif /* FL_GEOM_H */
