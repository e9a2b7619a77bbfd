/*
 * render.c - drawing a fire-lane scene into an RGB buffer, frame by frame.
 *
 * A note on cost: generating the whole scenario set has to stay within a
 * minute or two on one core, so the frame loop does as little as possible.
 * Everything that does not move is rendered once into a background (asphalt
 * texture from value noise evaluated in ground coordinates, paint, kerbs,
 * facades, permanent bins and a car in a bay, and at night the lamp pools);
 * a frame starts as a memcpy of it. Actors are convex polygons projected from
 * world boxes and filled with integer spans (painter's order, far first), so
 * an actor at rest at bit-identical coordinates always covers the same
 * pixels. The last pass does, in one sweep, what every pixel needs: camera
 * shake (a whole-frame shift), global gain (auto-exposure drift, dusk),
 * moving cloud shadows, sensor noise from a precomputed Gaussian table read
 * at a random offset, and the RGB to YUV 4:2:0 conversion for the encoder.
 *
 * A note on honesty: the scene is meant to tune a detector, so it keeps the
 * things that make real lanes hard: body colours near the asphalt grey,
 * painted hatching and oil stains inside the lane, shadows under vehicles,
 * light that changes the whole frame at once, headlight cones sweeping the
 * ground at night, rain streaks, and compression on top.
 */
#include "scene.h"

#include "fl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum paint_op { P_SET, P_MUL, P_ADD, P_BLEND };

struct paint {
	int op;
	int c[3]; /* colour, or factor x256 for P_MUL in c[0] */
	int a;    /* alpha x256 for P_BLEND */
};

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static struct paint solid(const uint8_t rgb[3], double k)
{
	struct paint p = { P_SET, { 0, 0, 0 }, 0 };
	int i;

	for (i = 0; i < 3; i++)
		p.c[i] = clampi((int)(rgb[i] * k + 0.5), 0, 255);
	return p;
}

static struct paint solid3(int r, int g, int b, double k)
{
	uint8_t c[3] = { (uint8_t)r, (uint8_t)g, (uint8_t)b };

	return solid(c, k);
}

static struct paint mulp(double k)
{
	struct paint p = { P_MUL, { (int)(k * 256), 0, 0 }, 0 };

	return p;
}

static inline void put(uint8_t *px, const struct paint *p)
{
	int i;

	switch (p->op) {
	case P_SET:
		px[0] = (uint8_t)p->c[0];
		px[1] = (uint8_t)p->c[1];
		px[2] = (uint8_t)p->c[2];
		break;
	case P_MUL:
		for (i = 0; i < 3; i++)
			px[i] = (uint8_t)((px[i] * p->c[0]) >> 8);
		break;
	case P_ADD:
		for (i = 0; i < 3; i++)
			px[i] = (uint8_t)FL_MIN(255, px[i] + p->c[i]);
		break;
	default:
		for (i = 0; i < 3; i++)
			px[i] = (uint8_t)((px[i] * (256 - p->a) +
					   p->c[i] * p->a) >>
					  8);
		break;
	}
}

/*
 * Fill the polygon (px, py)[n] (convex, any winding) into buf (w x h RGB):
 * every pixel whose centre lies inside gets paint p. Integer spans, so the
 * same vertices always give the same pixels.
 */
static void fill_poly(uint8_t *buf, int w, int h, const double *px,
		      const double *py, int n, const struct paint *p)
{
	double ymin = 1e30, ymax = -1e30;
	int i, y, y0, y1;

	for (i = 0; i < n; i++) {
		ymin = fmin(ymin, py[i]);
		ymax = fmax(ymax, py[i]);
	}
	y0 = (int)fmax(0, ceil(ymin - 0.5));
	y1 = (int)fmin(h - 1, floor(ymax - 0.5));
	for (y = y0; y <= y1; y++) {
		double yc = y + 0.5, xl = 1e30, xr = -1e30;
		int xa, xb, x;
		uint8_t *row;

		for (i = 0; i < n; i++) {
			int j = (i + 1) % n;

			if ((py[i] <= yc && py[j] > yc) ||
			    (py[j] <= yc && py[i] > yc)) {
				double xi = px[i] + (yc - py[i]) *
							    (px[j] - px[i]) /
							    (py[j] - py[i]);

				xl = fmin(xl, xi);
				xr = fmax(xr, xi);
			}
		}
		if (xl > xr)
			continue;
		xa = (int)fmax(0, ceil(xl - 0.5));
		xb = (int)fmin(w - 1, floor(xr - 0.5));
		row = buf + (size_t)y * w * 3;
		for (x = xa; x <= xb; x++)
			put(row + x * 3, p);
	}
}

static void fill_disc(uint8_t *buf, int w, int h, double cx, double cy,
		      double rad, const struct paint *p)
{
	int y, y0 = (int)fmax(0, ceil(cy - rad - 0.5));
	int y1 = (int)fmin(h - 1, floor(cy + rad - 0.5));

	for (y = y0; y <= y1; y++) {
		double dy = y + 0.5 - cy, hw;
		int x, xa, xb;

		if (dy * dy > rad * rad)
			continue;
		hw = sqrt(rad * rad - dy * dy);
		xa = (int)fmax(0, ceil(cx - hw - 0.5));
		xb = (int)fmin(w - 1, floor(cx + hw - 0.5));
		for (x = xa; x <= xb; x++)
			put(buf + ((size_t)y * w + x) * 3, p);
	}
}

/* ---- value noise in world coordinates ---- */

static double hash2(int ix, int iy, uint32_t seed)
{
	uint32_t hsh = (uint32_t)ix * 374761393u + (uint32_t)iy * 668265263u +
		       seed * 2246822519u;

	hsh = (hsh ^ (hsh >> 13)) * 1274126177u;
	hsh ^= hsh >> 16;
	return (hsh & 0xffffff) / 16777216.0;
}

static double vnoise(double x, double y, uint32_t seed)
{
	double fx = floor(x), fy = floor(y), u = x - fx, v = y - fy;
	int ix = (int)fx, iy = (int)fy;
	double a = hash2(ix, iy, seed), b = hash2(ix + 1, iy, seed);
	double c = hash2(ix, iy + 1, seed), d = hash2(ix + 1, iy + 1, seed);

	u = u * u * (3 - 2 * u);
	v = v * v * (3 - 2 * v);
	return a + (b - a) * u + (c - a) * v + (a - b - c + d) * u * v;
}

static double fbm(double x, double y, uint32_t seed)
{
	return 0.55 * vnoise(x, y, seed) +
	       0.3 * vnoise(2.1 * x, 2.1 * y, seed + 1) +
	       0.15 * vnoise(4.3 * x, 4.3 * y, seed + 2);
}

static double smooth01(double e0, double e1, double x)
{
	double t = (x - e0) / (e1 - e0);

	t = t < 0 ? 0 : t > 1 ? 1 : t;
	return t * t * (3 - 2 * t);
}

/* ---- lighting ---- */

/* Street lamps: on the left footway (side 0) and the right verge (1). */
static const struct {
	int right;
	double z;
} lamps[] = {
	{ 0, 24 }, { 0, 46 }, { 0, 68 }, { 0, 90 },
	{ 1, 35 }, { 1, 57 }, { 1, 79 },
};

static double lamp_x(const struct sc_scene *s, size_t i)
{
	return lamps[i].right ? s->lay.edge_r + 0.7 : s->lay.kerb_l - 0.5;
}

/*
 * Brightness multiplier for something standing at ground point (X, Z). At
 * night the street lamps light pools; in IR the camera's own illuminator
 * lights what is near the pole and fades with distance (the street lamps,
 * whose light has little infrared, count for less).
 */
static double light_at(const struct sc_scene *s, double X, double Z)
{
	double l, lamp_k = 0.85;
	size_t i;

	if (!s->night)
		return s->rain ? 0.78 : 1.0;
	l = 0.13;
	if (s->ir) {
		double dx = X - s->geom.x, dz = Z - s->geom.z;

		l = 0.1 + 0.95 * exp(-(dx * dx + dz * dz) / (2 * 32.0 * 32.0));
		lamp_k = 0.35;
	}
	for (i = 0; i < FL_ARRAY_SIZE(lamps); i++) {
		double dx = X - lamp_x(s, i), dz = Z - lamps[i].z;

		l += lamp_k * exp(-(dx * dx + dz * dz) / (4.5 * 4.5));
	}
	return fmin(l, 1.1);
}

/* ---- primitives in world space ---- */

/*
 * Fill the world polygon p[n] (convex, n <= 8). It is clipped to what lies
 * at least SC_NEAR in front of the lens before projecting, so a vehicle
 * driving in under the camera is cut at the edge of the picture, not
 * flung across it.
 */
static void poly3(struct sc_render *r, const double (*p)[3], int n,
		  const struct paint *pt)
{
	const struct sc_cam *c = &r->cam;
	double v[8][3], o[16][3], px[16], py[16];
	int i, k, m = 0;

	n = n < 8 ? n : 8;
	for (i = 0; i < n; i++)
		sc_cam_coords(c, p[i][0], p[i][1], p[i][2], v[i]);
	for (i = 0; i < n; i++) {
		const double *a = v[i], *b = v[(i + 1) % n];
		int ain = a[2] >= SC_NEAR, bin = b[2] >= SC_NEAR;

		if (ain)
			memcpy(o[m++], a, sizeof(o[0]));
		if (ain != bin) {
			double t = (SC_NEAR - a[2]) / (b[2] - a[2]);

			for (k = 0; k < 3; k++)
				o[m][k] = a[k] + t * (b[k] - a[k]);
			m++;
		}
	}
	if (m < 3)
		return;
	for (i = 0; i < m; i++) {
		px[i] = c->cx + c->f * o[i][0] / o[i][2];
		py[i] = c->cy + c->f * o[i][1] / o[i][2];
	}
	fill_poly(r->cv, c->w, c->h, px, py, m, pt);
}

/*
 * An axis-aligned box. Only faces turned towards the camera are drawn (the
 * Z face and the X face on the camera's side, and the top when the camera
 * is above it); for a convex box they never overlap, so no depth test is
 * needed within one box.
 */
static void draw_box(struct sc_render *r, double x0, double x1, double y0,
		     double y1, double z0, double z1, const struct paint *top,
		     const struct paint *front, const struct paint *side)
{
	const struct sc_cam *c = &r->cam;
	double xs = c->X < x0 ? x0 : x1, zs = c->Z < z0 ? z0 : z1;

	if (c->X < x0 || c->X > x1) {
		const double f[4][3] = { { xs, y0, z0 },
					 { xs, y0, z1 },
					 { xs, y1, z1 },
					 { xs, y1, z0 } };

		poly3(r, f, 4, side);
	}
	if (y1 < c->hc) {
		const double f[4][3] = { { x0, y1, z0 },
					 { x1, y1, z0 },
					 { x1, y1, z1 },
					 { x0, y1, z1 } };

		poly3(r, f, 4, top);
	}
	if (c->Z < z0 || c->Z > z1) {
		const double f[4][3] = { { x0, y0, zs },
					 { x1, y0, zs },
					 { x1, y1, zs },
					 { x0, y1, zs } };

		poly3(r, f, 4, front);
	}
}

/* A box in one colour, shaded per face (sky light from above). */
static void shaded_box(struct sc_render *r, double x0, double x1, double y0,
		       double y1, double z0, double z1, const uint8_t rgb[3],
		       double l)
{
	struct paint top = solid(rgb, 1.05 * l), fr = solid(rgb, 0.82 * l);
	struct paint sd = solid(rgb, 0.66 * l);

	draw_box(r, x0, x1, y0, y1, z0, z1, &top, &fr, &sd);
}

static void ground_quad(struct sc_render *r, double x0, double x1, double z0,
			double z1, const struct paint *p)
{
	const double f[4][3] = {
		{ x0, 0, z0 }, { x1, 0, z0 }, { x1, 0, z1 }, { x0, 0, z1 }
	};

	poly3(r, f, 4, p);
}

/* A vertical quad facing the camera at depth z (billboard parts). */
static void vquad(struct sc_render *r, double xa, double ya, double xb,
		  double yb, double xc, double yc, double xd, double yd,
		  double z, const struct paint *p)
{
	const double f[4][3] = {
		{ xa, ya, z }, { xb, yb, z }, { xc, yc, z }, { xd, yd, z }
	};

	poly3(r, f, 4, p);
}

static void disc3(struct sc_render *r, double x, double y, double z, double rad,
		  const struct paint *p)
{
	const struct sc_cam *c = &r->cam;
	double v[3];

	sc_cam_coords(c, x, y, z, v);
	if (v[2] < SC_NEAR)
		return;
	fill_disc(r->cv, c->w, c->h, c->cx + c->f * v[0] / v[2],
		  c->cy + c->f * v[1] / v[2], rad * c->f / v[2], p);
}

/* ---- actors ---- */

struct part {
	double x0, x1, y0, y1, z0, z1;
	struct paint top, front, side;
	double key;
};

static int part_cmp(const void *a, const void *b)
{
	double ka = ((const struct part *)a)->key;
	double kb = ((const struct part *)b)->key;

	return ka < kb ? 1 : ka > kb ? -1 : 0;
}

/* Distance on the ground from the camera's pole to the nearest point of
 * [x0, x1] x [z0, z1]: the painter's key (far first). */
static double ground_dist(const struct sc_cam *c, double x0, double x1,
			  double z0, double z1)
{
	double dx = c->X < x0 ? x0 - c->X : c->X > x1 ? c->X - x1 : 0;
	double dz = c->Z < z0 ? z0 - c->Z : c->Z > z1 ? c->Z - z1 : 0;

	return hypot(dx, dz);
}

static void add_part(struct part *p, int *n, const struct sc_cam *c, double x0,
		     double x1, double y0, double y1, double z0, double z1,
		     const uint8_t rgb[3], double l)
{
	struct part *q = &p[(*n)++];

	q->x0 = x0;
	q->x1 = x1;
	q->y0 = y0;
	q->y1 = y1;
	q->z0 = z0;
	q->z1 = z1;
	q->top = solid(rgb, 1.05 * l);
	q->front = solid(rgb, 0.82 * l);
	q->side = solid(rgb, 0.66 * l);
	q->key = ground_dist(c, x0, x1, z0, z0);
}

static const uint8_t glass[3] = { 38, 46, 58 };
static const uint8_t tyre[3] = { 22, 22, 24 };

/*
 * The scene's plate picture (--plate-image) on the vertical plane Z = z,
 * from x0 to x1 across, its top edge at height ytop, the height following
 * the picture's aspect: every pixel's ray is cut with the plane and the
 * picture sampled there (bilinear), times the light l.
 */
static void plate_picture(struct sc_render *r, double x0, double x1,
			  double ytop, double z, double l)
{
	const struct sc_scene *s = r->scene;
	const struct sc_cam *c = &r->cam;
	double ybot = ytop - (x1 - x0) * s->plate_h / s->plate_w;
	double px[4], py[4], bx0 = 1e30, by0 = 1e30, bx1 = -1e30, by1 = -1e30;
	const double cx[4] = { x0, x1, x1, x0 },
		     cy[4] = { ytop, ytop, ybot, ybot };

	for (int i = 0; i < 4; i++) {
		if (!sc_project(c, cx[i], cy[i], z, &px[i], &py[i]))
			return;
		bx0 = fmin(bx0, px[i]);
		bx1 = fmax(bx1, px[i]);
		by0 = fmin(by0, py[i]);
		by1 = fmax(by1, py[i]);
	}
	for (int y = clampi((int)floor(by0), 0, c->h - 1);
	     y <= clampi((int)ceil(by1), 0, c->h - 1); y++)
		for (int x = clampi((int)floor(bx0), 0, c->w - 1);
		     x <= clampi((int)ceil(bx1), 0, c->w - 1); x++) {
			double d0 = (x + 0.5 - c->cx) / c->f;
			double d1 = (y + 0.5 - c->cy) / c->f, D[3], k, u, v;
			uint8_t *o = r->cv + ((size_t)y * c->w + x) * 3;
			int iu, iv;

			for (int j = 0; j < 3; j++)
				D[j] = d0 * c->rt[j] + d1 * c->dn[j] + c->fw[j];
			if (fabs(D[2]) < 1e-9)
				continue;
			k = (z - c->Z) / D[2];
			u = (c->X + k * D[0] - x0) / (x1 - x0) * s->plate_w -
			    0.5;
			v = (ytop - (c->hc + k * D[1])) / (ytop - ybot) *
				    s->plate_h -
			    0.5;
			if (k <= 0 || u < 0 || v < 0 || u > s->plate_w - 1 ||
			    v > s->plate_h - 1)
				continue;
			iu = FL_MIN((int)u, s->plate_w - 2);
			iv = FL_MIN((int)v, s->plate_h - 2);
			u -= iu;
			v -= iv;
			for (int j = 0; j < 3; j++) {
				const uint8_t *t =
					s->plate_rgb +
					((size_t)iv * s->plate_w + iu) * 3 + j;
				size_t st = (size_t)s->plate_w * 3;
				double a = t[0] * (1 - u) + t[3] * u;
				double b = t[st] * (1 - u) + t[st + 3] * u;

				o[j] = (uint8_t)clampi(
					(int)((a * (1 - v) + b * v) * l + 0.5),
					0, 255);
			}
		}
}

/*
 * Cars, vans and trucks: wheels, a body box, a glass cabin with a roof, and
 * lamps on the face turned to the camera. The footprint is centred on (x, z);
 * axis 1 turns the long side across the lane (cross traffic).
 */
static void draw_vehicle(struct sc_render *r, const struct sc_actor *a,
			 double x, double z, int moving, double l)
{
	const struct sc_scene *s = r->scene;
	double hl = (a->axis ? a->len : a->wid) / 2;
	double hw = (a->axis ? a->wid : a->len) / 2;
	double x0 = x - hl, x1 = x + hl, z0 = z - hw, z1 = z + hw;
	double len = a->len, wr = a->kind == SC_TRUCK ? 0.5 : 0.33;
	struct part parts[12];
	struct paint sh = mulp(s->night ? 0.8 : 0.55);
	struct paint sh2 = mulp(s->night ? 0.92 : 0.8);
	int np = 0, i, k;
	/* along-axis coordinates: u from rear (0) to front (len) */
	double ua[4] = { 0.55, 1.15, len - 1.15, len - 0.55 };
	uint8_t cargo[3];

	ground_quad(r, x0 - 0.35, x1 + 0.35, z0 - 0.3, z1 + 0.3, &sh2);
	ground_quad(r, x0 - 0.05, x1 + 0.05, z0, z1, &sh);
	/* wheels: one box per corner, drawn under the body */
	for (k = 0; k < 4; k++) {
		double u0 = k < 2 ? ua[0] : ua[2], u1 = k < 2 ? ua[1] : ua[3];
		double c0, c1, bx0, bx1, bz0, bz1;
		int left = k & 1;

		if (a->facing < 0) {
			double t = len - u1;

			u1 = len - u0;
			u0 = t;
		}
		if (a->axis) {
			c0 = x0 + u0;
			c1 = x0 + u1;
			bx0 = c0;
			bx1 = c1;
			bz0 = left ? z0 + 0.02 : z1 - 0.3;
			bz1 = bz0 + 0.28;
		} else {
			c0 = z0 + u0;
			c1 = z0 + u1;
			bz0 = c0;
			bz1 = c1;
			bx0 = left ? x0 + 0.02 : x1 - 0.3;
			bx1 = bx0 + 0.28;
		}
		if (a->kind == SC_TRUCK && !a->axis) {
			bz0 -= 0.1;
			bz1 += 0.1;
		}
		add_part(parts, &np, &r->cam, bx0, bx1, 0, 2 * wr, bz0, bz1,
			 tyre, l);
		parts[np - 1].key += 1e6; /* wheels first, under the body */
	}
	/* body parts, expressed along the vehicle then mapped to the world */
	{
		/* u0, u1, y0, y1, kind: 0 body, 1 glass cabin, 2 cargo */
		double segs[3][5];
		int ns = 0;

		if (a->kind == SC_CAR) {
			double hb = a->hgt * 0.64;

			segs[ns][0] = 0;
			segs[ns][1] = len;
			segs[ns][2] = wr;
			segs[ns][3] = hb;
			segs[ns++][4] = 0;
			segs[ns][0] = len * 0.24;
			segs[ns][1] = len * 0.72;
			segs[ns][2] = hb;
			segs[ns][3] = a->hgt;
			segs[ns++][4] = 1;
		} else if (a->kind == SC_VAN) {
			segs[ns][0] = 0;
			segs[ns][1] = len;
			segs[ns][2] = wr;
			segs[ns][3] = a->hgt;
			segs[ns++][4] = 0;
		} else {
			segs[ns][0] = len - 2.3;
			segs[ns][1] = len;
			segs[ns][2] = 0.45;
			segs[ns][3] = 2.9;
			segs[ns++][4] = 0;
			segs[ns][0] = 0;
			segs[ns][1] = len - 2.45;
			segs[ns][2] = 0.95;
			segs[ns][3] = a->hgt;
			segs[ns++][4] = 2;
		}
		memcpy(cargo, a->rgb2, 3);
		for (i = 0; i < ns; i++) {
			double u0 = segs[i][0], u1 = segs[i][1], in = 0;
			const uint8_t *c = segs[i][4] == 2 ? cargo : a->rgb;
			double bx0, bx1, bz0, bz1;

			if (a->facing < 0) {
				double t = len - u1;

				u1 = len - u0;
				u0 = t;
			}
			if (segs[i][4] == 1)
				in = 0.1;
			if (a->axis) {
				bx0 = x0 + u0;
				bx1 = x0 + u1;
				bz0 = z0 + in;
				bz1 = z1 - in;
			} else {
				bz0 = z0 + u0;
				bz1 = z0 + u1;
				bx0 = x0 + in;
				bx1 = x1 - in;
			}
			add_part(parts, &np, &r->cam, bx0, bx1, segs[i][2],
				 segs[i][3], bz0, bz1, c, l);
			if (segs[i][4] == 1) {
				/* glass cabin, roof in body colour */
				parts[np - 1].front = solid(glass, l);
				parts[np - 1].side = solid(glass, 0.85 * l);
				parts[np - 1].key = -1; /* on top: last */
			}
		}
	}
	qsort(parts, (size_t)np, sizeof(parts[0]), part_cmp);
	for (i = 0; i < np; i++)
		draw_box(r, parts[i].x0, parts[i].x1, parts[i].y0, parts[i].y1,
			 parts[i].z0, parts[i].z1, &parts[i].top,
			 &parts[i].front, &parts[i].side);
	/* details on the near face: lamps, plate, van and truck windscreens */
	if (!a->axis) {
		int front_seen = a->facing < 0;
		int lit = s->night && moving;
		struct paint lamp = front_seen
					    ? (lit ? solid3(255, 255, 235, 1)
						   : solid3(200, 200, 190, l))
					    : (lit ? solid3(255, 70, 50, 1)
						   : solid3(150, 25, 22, l));
		struct paint plate = solid3(200, 200, 185, l);
		double ly = a->kind == SC_TRUCK ? 0.6 : 0.62;
		double z0f = z0 - 0.005;

		vquad(r, x0 + 0.1, ly, x0 + 0.38, ly, x0 + 0.38, ly + 0.16,
		      x0 + 0.1, ly + 0.16, z0f, &lamp);
		vquad(r, x1 - 0.38, ly, x1 - 0.1, ly, x1 - 0.1, ly + 0.16,
		      x1 - 0.38, ly + 0.16, z0f, &lamp);
		if (r->scene->plate_rgb && a->obstructs)
			plate_picture(r, x - 0.22, x + 0.22, 0.56, z0f - 0.001,
				      l);
		else
			vquad(r, x - 0.22, 0.42, x + 0.22, 0.42, x + 0.22, 0.56,
			      x - 0.22, 0.56, z0f, &plate);
		if (a->kind == SC_VAN || (a->kind == SC_TRUCK && front_seen)) {
			struct paint g = solid(glass, l);
			double top = a->kind == SC_VAN ? a->hgt - 0.2 : 2.7;

			vquad(r, x0 + 0.15, top - 0.6, x1 - 0.15, top - 0.6,
			      x1 - 0.15, top, x0 + 0.15, top, z0f, &g);
		}
	}
}

/*
 * A person as a billboard facing the camera: legs swinging in the walking
 * direction while moving, torso, arms, head with hair. At rest they sway a
 * little (people do not stand pixel-still).
 */
static void draw_person(struct sc_render *r, const struct sc_actor *a, double x,
			double z, double t, int moving, double l)
{
	double h = a->hgt, dx, dz, sw = 0, ph = (a->style & 255) / 40.0;
	double hip = 0.48 * h, sho = 0.8 * h, hx = 0.09 * h / 1.7;
	struct paint legs = solid(a->rgb2, l), shirt = solid(a->rgb, l);
	struct paint arm = solid(a->rgb, 0.85 * l);
	struct paint skin = solid3(196, 156, 128, l);
	struct paint hair = solid3(30, 25, 22, l);
	struct paint sh = mulp(r->scene->night ? 0.9 : 0.7);
	int k;

	sc_actor_dir(a, t, &dx, &dz);
	if (moving) {
		sw = sin(2 * M_PI * 1.8 * t + ph);
	} else {
		x += a->sway * sin(0.8 * t + ph);
		z += 0.5 * a->sway * sin(0.53 * t + 2 * ph);
	}
	ground_quad(r, x - 0.28, x + 0.28, z - 0.2, z + 0.2, &sh);
	for (k = -1; k <= 1; k += 2) {
		double fx = x + k * hx + dx * 0.32 * sw * k;
		double fz = z + dz * 0.32 * sw * k;
		const double leg[4][3] = {
			{ x + k * hx - 0.065, hip, z },
			{ x + k * hx + 0.065, hip, z },
			{ fx + 0.05, 0, fz },
			{ fx - 0.05, 0, fz },
		};

		poly3(r, leg, 4, &legs);
	}
	vquad(r, x - 0.19, hip - 0.02, x + 0.19, hip - 0.02, x + 0.22, sho,
	      x - 0.22, sho, z, &shirt);
	for (k = -1; k <= 1; k += 2) {
		double hxp = x + k * 0.25 - dx * 0.22 * sw * k;
		double hzp = z - dz * 0.22 * sw * k;
		const double am[4][3] = {
			{ x + k * 0.2, sho, z },
			{ x + k * 0.27, sho, z },
			{ hxp + 0.03, hip, hzp },
			{ hxp - 0.03, hip, hzp },
		};

		poly3(r, am, 4, &arm);
	}
	disc3(r, x, 0.915 * h, z, 0.068 * h, &hair);
	if (dz <= 0.3)
		disc3(r, x, 0.905 * h, z - 0.01, 0.06 * h, &skin);
}

/* An e-bike standing sideways: two wheels, a body shell, seat, handlebar,
 * rear top case. Along X when axis is 1; end-on (thin) otherwise. */
static void draw_ebike(struct sc_render *r, const struct sc_actor *a, double x,
		       double z, double l)
{
	struct paint ty = solid(tyre, l), hub = solid3(110, 110, 115, l);
	struct paint body = solid(a->rgb, l), seat = solid3(25, 25, 28, l);
	struct paint cse = solid3(70, 72, 78, l), sh = mulp(0.75);
	double f = a->facing;

	if (!a->axis) {
		const uint8_t dark[3] = { 30, 30, 32 };

		ground_quad(r, x - 0.3, x + 0.3, z - 0.85, z + 0.85, &sh);
		shaded_box(r, x - 0.05, x + 0.05, 0, 0.62, z - 0.85, z + 0.85,
			   dark, l);
		shaded_box(r, x - 0.18, x + 0.18, 0.4, 0.8, z - 0.5, z + 0.45,
			   a->rgb, l);
		shaded_box(r, x - 0.3, x + 0.3, 1.0, 1.05, z + 0.55, z + 0.6,
			   dark, l);
		return;
	}
	ground_quad(r, x - 0.9, x + 0.9, z - 0.3, z + 0.3, &sh);
	disc3(r, x - 0.6 * f, 0.3, z, 0.3, &ty);
	disc3(r, x + 0.6 * f, 0.3, z, 0.3, &ty);
	disc3(r, x - 0.6 * f, 0.3, z - 0.01, 0.12, &hub);
	disc3(r, x + 0.6 * f, 0.3, z - 0.01, 0.12, &hub);
	vquad(r, x - 0.62 * f, 0.42, x + 0.42 * f, 0.35, x + 0.5 * f, 0.72,
	      x - 0.35 * f, 0.78, z - 0.02, &body);
	vquad(r, x - 0.42 * f, 0.8, x + 0.02 * f, 0.8, x + 0.02 * f, 0.9,
	      x - 0.42 * f, 0.9, z - 0.03, &seat);
	vquad(r, x - 0.8 * f, 0.85, x - 0.45 * f, 0.85, x - 0.45 * f, 1.12,
	      x - 0.8 * f, 1.12, z - 0.03, &cse);
	vquad(r, x + 0.42 * f, 0.6, x + 0.5 * f, 0.6, x + 0.55 * f, 1.1,
	      x + 0.47 * f, 1.1, z - 0.03, &seat);
	vquad(r, x + 0.5 * f, 0.7, x + 0.82 * f, 0.7, x + 0.82 * f, 0.95,
	      x + 0.5 * f, 0.95, z - 0.04, &body);
}

/* A pile of cardboard boxes: two rows and a top box, tape on each. */
static void draw_boxes(struct sc_render *r, const struct sc_actor *a, double x,
		       double z, double l)
{
	static const double b[5][6] = {
		/* x0, x1, y0, y1, z0, z1 relative to the pile centre */
		{ -0.65, -0.02, 0, 0.46, -0.37, 0.33 },
		{ 0.02, 0.65, 0, 0.5, -0.35, 0.37 },
		{ -0.55, 0.0, 0.46, 0.86, -0.3, 0.25 },
		{ 0.05, 0.6, 0.5, 0.88, -0.32, 0.28 },
		{ -0.3, 0.25, 0.87, 1.25, -0.25, 0.2 },
	};
	struct paint sh = mulp(r->scene->night ? 0.85 : 0.6);
	int i;

	ground_quad(r, x - 0.8, x + 0.8, z - 0.45, z + 0.5, &sh);
	for (i = 0; i < 5; i++) {
		uint8_t c[3];
		double v = 0.85 + 0.06 * ((a->style >> (i * 3)) & 7) / 2.0;
		struct paint tape = solid3(205, 185, 150, l);
		double bx0 = x + b[i][0], bx1 = x + b[i][1];
		double zz = z + b[i][4];

		c[0] = (uint8_t)FL_MIN(255, a->rgb[0] * v);
		c[1] = (uint8_t)FL_MIN(255, a->rgb[1] * v);
		c[2] = (uint8_t)FL_MIN(255, a->rgb[2] * v);
		shaded_box(r, bx0, bx1, b[i][2], b[i][3], zz, z + b[i][5], c,
			   l);
		vquad(r, (bx0 + bx1) / 2 - 0.04, b[i][2],
		      (bx0 + bx1) / 2 + 0.04, b[i][2], (bx0 + bx1) / 2 + 0.04,
		      b[i][3], (bx0 + bx1) / 2 - 0.04, b[i][3], zz - 0.002,
		      &tape);
	}
}

/* A cargo tricycle side-on: goods box behind, rider seat and front wheel. */
static void draw_tricycle(struct sc_render *r, const struct sc_actor *a,
			  double x, double z, double l)
{
	struct paint ty = solid(tyre, l), fr = solid(a->rgb, l);
	struct paint seat = solid3(25, 25, 28, l), sh = mulp(0.7);
	const uint8_t goods[3] = { 170, 125, 80 }, tarp[3] = { 40, 80, 150 };
	double f = a->axis ? a->facing : 1;

	if (!a->axis) {
		ground_quad(r, x - 0.6, x + 0.6, z - 1.2, z + 1.2, &sh);
		shaded_box(r, x - 0.55, x + 0.55, 0.45, 1.0, z - 1.2, z + 0.1,
			   a->rgb2, l);
		shaded_box(r, x - 0.45, x + 0.45, 1.0, 1.3, z - 1.1, z, tarp,
			   l);
		shaded_box(r, x - 0.06, x + 0.06, 0, 1.05, z + 0.1, z + 1.2,
			   a->rgb, l);
		return;
	}
	ground_quad(r, x - 1.25, x + 1.25, z - 0.6, z + 0.6, &sh);
	disc3(r, x - 0.6 * f, 0.3, z + 0.5, 0.3, &ty);
	shaded_box(r, x - 1.2, x + 0.1, 0.45, 1.0, z - 0.55, z + 0.55, a->rgb2,
		   l);
	shaded_box(r, x - 1.1, x, 1.0, 1.3, z - 0.45, z + 0.45,
		   a->style & 1 ? tarp : goods, l);
	if (f < 0) {
		/* mirror: goods box at the +X end */
		shaded_box(r, x - 0.1, x + 1.2, 0.45, 1.0, z - 0.55, z + 0.55,
			   a->rgb2, l);
	}
	disc3(r, x - 0.6 * f, 0.3, z - 0.56, 0.3, &ty);
	disc3(r, x + 0.95 * f, 0.3, z, 0.3, &ty);
	vquad(r, x + 0.1 * f, 0.45, x + 0.95 * f, 0.3, x + 0.95 * f, 0.5,
	      x + 0.2 * f, 0.7, z - 0.02, &fr);
	vquad(r, x + 0.25 * f, 0.8, x + 0.55 * f, 0.8, x + 0.55 * f, 0.9,
	      x + 0.25 * f, 0.9, z - 0.03, &seat);
	vquad(r, x + 0.85 * f, 0.5, x + 0.93 * f, 0.5, x + 1.0 * f, 1.15,
	      x + 0.92 * f, 1.15, z - 0.03, &seat);
}

static void draw_actor(struct sc_render *r, const struct sc_actor *a, double x,
		       double z, double t, int moving)
{
	double l = light_at(r->scene, x, z);

	switch (a->kind) {
	case SC_CAR:
	case SC_VAN:
	case SC_TRUCK:
		draw_vehicle(r, a, x, z, moving, l);
		break;
	case SC_PERSON:
		draw_person(r, a, x, z, t, moving, l);
		break;
	case SC_EBIKE:
		draw_ebike(r, a, x, z, l);
		break;
	case SC_TRICYCLE:
		draw_tricycle(r, a, x, z, l);
		break;
	case SC_BOXES:
		draw_boxes(r, a, x, z, l);
		break;
	}
}

/* ---- the background ---- */

/* Colour of the ground at world point (X, Z): lane, paint, kerbs, verges
 * (where they are: s->lay). */
static void ground_rgb(const struct sc_scene *s, double X, double Z,
		       uint32_t seed, double *c)
{
	const struct sc_layout *L = &s->lay;
	double n = fbm(X * 0.6, Z * 0.6, seed), g, wear;
	double fine = vnoise(X * 7, Z * 7, seed + 5) - 0.5;

	/* asphalt: everywhere on the cross road and between the kerbs */
	g = 98 + 26 * (n - 0.5) + 12 * fine;
	if (vnoise(X * 0.25, Z * 0.25, seed + 9) > 0.72)
		g -= 9; /* patched repairs */
	c[0] = g;
	c[1] = g;
	c[2] = g + 3;
	wear = vnoise(X * 3, Z * 3, seed + 11);
	if (Z < 19.5) {
		/* cross road with a dashed centre line and a stop line */
		c[0] = c[1] = g - 8;
		c[2] = g - 5;
		if (fabs(Z - 16.5) < 0.08 && fmod(X + 100, 6) < 3)
			c[0] = c[1] = c[2] = 190;
		if (Z > 19.0 && X > L->kerb_l && X < L->edge_r && wear > 0.2)
			c[0] = c[1] = c[2] = 200;
		return;
	}
	if (X < L->lawn_l || X > L->lawn_r) {
		/* lawn */
		double gr = fbm(X * 1.5, Z * 1.5, seed + 3);

		c[0] = 60 + 35 * gr;
		c[1] = 95 + 45 * gr;
		c[2] = 45 + 20 * gr;
	} else if (X < L->kerb_l - 0.25 || X > L->edge_r + 0.25) {
		/* paving slabs with joints */
		double v = 148 + 14 * (n - 0.5);

		if (fmod(X + 100, 0.6) < 0.04 || fmod(Z, 0.6) < 0.04)
			v -= 32;
		c[0] = v;
		c[1] = v - 4;
		c[2] = v - 10;
	} else if (X < L->kerb_l || X > L->edge_r) {
		c[0] = c[1] = c[2] = 172 + 10 * fine; /* kerb */
	} else {
		int paint = 0;
		double ax = fabs(X), hw = L->hw;

		/* yellow lane edges, a hatched no-parking box, bay lines, the
		 * driving road's dashed centre and edge lines */
		if (ax > hw - 0.05 && ax < hw + 0.1 && wear > 0.15)
			paint = 1;
		if (Z > 52 && Z < 58 && ax < hw - 0.2) {
			if ((ax > hw - 0.32 || Z < 52.12 || Z > 57.88 ||
			     fmod(X - Z + 100, 1.1) < 0.16) &&
			    wear > 0.22)
				paint = 1;
		}
		if (L->right == SC_RIGHT_BAYS && X > L->bay0 &&
		    (fmod(Z - 20, 5.5) < 0.12 || X > L->bay1 - 0.14) &&
		    wear > 0.2)
			paint = 2;
		if (L->right == SC_RIGHT_ROAD && X > hw + 0.1) {
			/* newer, darker asphalt on the public road */
			c[0] = c[1] = g - 7;
			c[2] = g - 4;
			if (((fabs(X - L->road_mid) < 0.07 &&
			      fmod(Z, 9.0) < 4.5) ||
			     (X > L->road1 - 0.17 && X < L->road1 - 0.03)) &&
			    wear > 0.1)
				paint = 2;
		}
		if (paint == 1) {
			c[0] = 196;
			c[1] = 165;
			c[2] = 52;
		} else if (paint == 2) {
			c[0] = c[1] = 200;
			c[2] = 196;
		}
		/* oil stains where cars usually stand */
		if (hypot((X - 0.4) * 1.6, Z - 27.5) < 0.9 ||
		    hypot((X + 0.6) * 1.4, Z - 41) < 0.7) {
			c[0] *= 0.8;
			c[1] *= 0.8;
			c[2] *= 0.8;
		}
	}
	if (s->rain) {
		double wet = vnoise(X * 0.5, Z * 0.5, seed + 21);
		int k;

		for (k = 0; k < 3; k++)
			c[k] *= 0.7;
		if (wet > 0.6 && X > L->kerb_l && X < L->edge_r) {
			/* puddles: flat, reflecting the grey sky */
			double a = smooth01(0.6, 0.7, wet) * 0.7;

			c[0] = c[0] * (1 - a) + 118 * a;
			c[1] = c[1] * (1 - a) + 122 * a;
			c[2] = c[2] * (1 - a) + 130 * a;
		}
	}
}

/* Facades along both sides, a distant skyline, windows (lit at night). */
static void draw_buildings(struct sc_render *r, struct sc_rng *rng, int lit)
{
	const struct sc_scene *s = r->scene;
	int side;

	for (side = 0; side < 2; side++) {
		/* the left side opens on a lawn with a passage up to 37 m:
		 * that is where things are pushed in from */
		double X = side ? s->lay.fac_r : s->lay.fac_l;
		double z = side ? 21 : 37;

		while (z < 300) {
			double bl = sc_rng_range(rng, 14, 26);
			double bh = sc_rng_range(rng, 10, 24);
			uint8_t c[3];
			double v = sc_rng_range(rng, 150, 215), fz, fy;
			struct paint p, win, dark;
			const double q[4][3] = { { X, 0, z },
						 { X, 0, z + bl },
						 { X, bh, z + bl },
						 { X, bh, z } };

			c[0] = (uint8_t)v;
			c[1] = (uint8_t)(v * sc_rng_range(rng, 0.88, 1.0));
			c[2] = (uint8_t)(v * sc_rng_range(rng, 0.75, 0.95));
			p = solid(c, s->night ? 0.12 : s->rain ? 0.7 : 0.8);
			if (!lit)
				poly3(r, q, 4, &p);
			win = solid3(70, 85, 100, s->rain ? 0.7 : 1);
			dark = solid3(60, 60, 62, s->night ? 0.15 : 0.8);
			if (!lit) {
				const double d[4][3] = {
					{ X, 0, z + bl },
					{ X, bh, z + bl },
					{ X, bh, z + bl + 2 },
					{ X, 0, z + bl + 2 },
				};

				poly3(r, d, 4, &dark);
			}
			for (fy = 3.5; fy + 1.6 < bh; fy += 3)
				for (fz = z + 1.2; fz + 1.4 < z + bl;
				     fz += 2.6) {
					const double w[4][3] = {
						{ X, fy, fz },
						{ X, fy, fz + 1.3 },
						{ X, fy + 1.5, fz + 1.3 },
						{ X, fy + 1.5, fz },
					};
					struct paint on = solid3(230, 200, 120,
								 1);

					if (!lit)
						poly3(r, w, 4, &win);
					else if (sc_rng_unit(rng) < 0.3)
						poly3(r, w, 4, &on);
				}
			z += bl + 2;
		}
	}
}

static void draw_fixtures(struct sc_render *r, struct sc_rng *rng, int lit)
{
	const struct sc_scene *s = r->scene;
	double l = s->night ? 0.2 : s->rain ? 0.78 : 1.0;
	const uint8_t bin1[3] = { 40, 110, 62 }, bin2[3] = { 60, 80, 120 };
	const uint8_t pole[3] = { 90, 95, 100 }, trunk[3] = { 80, 60, 45 };
	struct sc_actor car;
	size_t i;
	double z, wb, bx;

	if (lit) {
		/* lamp heads glow at night */
		struct paint glow = solid3(255, 240, 200, 1);

		for (i = 0; i < FL_ARRAY_SIZE(lamps); i++)
			disc3(r, lamp_x(s, i) + (lamps[i].right ? -0.5 : 0.5),
			      6.4, lamps[i].z, 0.25, &glow);
		return;
	}
	/* trees on the lawns, far first */
	for (z = 110; z >= 24; z -= 17) {
		struct paint leaf = solid3(45, 85, 40, l);
		struct paint leaf2 = solid3(60, 105, 50, l);
		double X = sc_rng_unit(rng) < 0.5 ? s->lay.lawn_l - 2.0
						  : s->lay.lawn_r + 1.4;

		shaded_box(r, X - 0.15, X + 0.15, 0, 3.5, z, z + 0.3, trunk, l);
		disc3(r, X, 4.6, z, 1.9, &leaf);
		disc3(r, X - 0.5, 5.0, z - 0.2, 1.1, &leaf2);
	}
	/* lamp posts */
	for (i = 0; i < FL_ARRAY_SIZE(lamps); i++) {
		double X = lamp_x(s, i), Z = lamps[i].z;
		double d = lamps[i].right ? -0.5 : 0.5;

		shaded_box(r, X - 0.08, X + 0.08, 0, 6.5, Z, Z + 0.16, pole, l);
		shaded_box(r, fmin(X, X + d), fmax(X, X + d) + 0.1, 6.35, 6.5,
			   Z, Z + 0.3, pole, l);
	}
	/* cars parked in the bays (outside the lane), wheelie bins */
	wb = s->lay.kerb_l - 1.3;
	shaded_box(r, wb, wb + 0.6, 0, 1.05, 31.0, 31.6, bin1, l);
	shaded_box(r, wb, wb + 0.6, 0, 1.05, 30.2, 30.8, bin2, l);
	shaded_box(r, wb, wb + 0.6, 0, 1.05, 29.4, 30.0, bin1, l);
	if (s->lay.right != SC_RIGHT_BAYS)
		return;
	bx = s->lay.bay0 + 1.2;
	memset(&car, 0, sizeof(car));
	car.kind = SC_CAR;
	car.len = 4.5;
	car.wid = 1.8;
	car.hgt = 1.45;
	car.facing = 1;
	car.rgb[0] = 170;
	car.rgb[1] = 172;
	car.rgb[2] = 176;
	draw_vehicle(r, &car, bx + 0.05, 61.0, 0, light_at(s, bx, 61));
	car.rgb[0] = 45;
	car.rgb[1] = 48;
	car.rgb[2] = 60;
	car.hgt = 1.5;
	draw_vehicle(r, &car, bx, 39.0, 0, light_at(s, bx, 39));
}

/*
 * Build r->bg: sky, ground (2x2 supersampled so far paint does not alias),
 * buildings, fixtures; at night multiply by the lamp light and add lit
 * windows; finally a static grain. Also fills gx/gz and the cloud uv table.
 */
static void build_background(struct sc_render *r)
{
	const struct sc_scene *s = r->scene;
	const struct sc_cam *c = &r->cam;
	uint32_t seed = (uint32_t)(r->seed * 7919u + 17);
	struct sc_rng rng;
	int x, y, w = c->w, h = c->h;

	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			uint8_t *p = r->bg + ((size_t)y * w + x) * 3;
			size_t i = (size_t)y * w + x;
			double acc[3] = { 0, 0, 0 }, X = 0, Z = 0, dist = 0;
			int k, ns, ground;

			r->uv[i] = 0xffffffffu;
			r->gx[i] = 0;
			r->gz[i] = 0;
			ground = sc_unproject(c, x + 0.5, y + 0.5, &X, &Z);
			if (ground)
				dist = hypot(X - c->X, Z - c->Z);
			if (!ground || dist > 400) {
				/* sky, brighter towards the horizon */
				double v = c->yh > 0 ? fmax(0,
							    (c->yh - y) / c->yh)
						     : 0;

				if (s->night) {
					acc[0] = 10 + 8 * (1 - v);
					acc[1] = 12 + 8 * (1 - v);
					acc[2] = 22 + 10 * (1 - v);
				} else if (s->rain) {
					acc[0] = acc[1] = 128 - 20 * v;
					acc[2] = 136 - 20 * v;
				} else {
					acc[0] = 205 - 55 * v;
					acc[1] = 215 - 35 * v;
					acc[2] = 225 - 5 * v;
				}
				for (k = 0; k < 3; k++)
					p[k] = (uint8_t)clampi((int)acc[k], 0,
							       255);
				continue;
			}
			/* 2x2 samples where paint gets thinner than a pixel
			 * (beyond ~30 m), one sample nearer */
			ns = dist > 30 ? 4 : 1;
			for (k = 0; k < ns; k++) {
				double sy = ns == 1 ? y + 0.5
						    : y + 0.25 + 0.5 * (k >> 1);
				double sx = ns == 1 ? x + 0.5
						    : x + 0.25 + 0.5 * (k & 1);
				double sX = X, sZ = Z, g[3];

				if (ns > 1 &&
				    !sc_unproject(c, sx, sy, &sX, &sZ)) {
					sX = X;
					sZ = Z;
				}
				ground_rgb(s, sX, sZ, seed, g);
				acc[0] += g[0] / ns;
				acc[1] += g[1] / ns;
				acc[2] += g[2] / ns;
			}
			/* gz 0 marks the sky: ground behind the pole is
			 * pulled just in front of it */
			r->gx[i] = (float)X;
			r->gz[i] = (float)fmax(Z, 0.01);
			/* no cloud texture near the horizon: it aliases */
			if (dist < 120)
				r->uv[i] = ((uint32_t)((int)floor(X * 6) & 511)
					    << 16) |
					   ((uint32_t)((int)floor(Z * 6)) & 511);
			for (k = 0; k < 3; k++)
				p[k] = (uint8_t)clampi((int)(acc[k] + 0.5), 0,
						       255);
		}
	}
	/* buildings and fixtures are drawn with the polygon filler into cv */
	memcpy(r->cv, r->bg, (size_t)w * h * 3);
	sc_rng_seed(&rng, r->seed, 0xB0B);
	draw_buildings(r, &rng, 0);
	sc_rng_seed(&rng, r->seed, 0xF1F);
	draw_fixtures(r, &rng, 0);
	if (s->night) {
		for (y = 0; y < h; y++) {
			for (x = 0; x < w; x++) {
				size_t i = (size_t)y * w + x;
				uint8_t *p = r->cv + i * 3;
				double lv, warm;

				if (r->gz[i] <= 0)
					continue;
				lv = light_at(s, r->gx[i], r->gz[i]);
				warm = fmax(0, lv - 0.13);
				p[0] = (uint8_t)clampi((int)(p[0] * lv), 0,
						       255);
				p[1] = (uint8_t)clampi((int)(p[1] *
							     (lv - 0.1 * warm)),
						       0, 255);
				p[2] = (uint8_t)
					clampi((int)(p[2] * (lv - 0.35 * warm)),
					       0, 255);
			}
		}
		sc_rng_seed(&rng, r->seed, 0xB0B);
		draw_buildings(r, &rng, 1);
		draw_fixtures(r, &rng, 1);
	}
	/* static grain: the fine texture of a real surface */
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			uint8_t *p = r->cv + ((size_t)y * w + x) * 3;
			int g = (int)(hash2(x, y, seed + 77) * 11) - 5;
			int k;

			for (k = 0; k < 3; k++)
				p[k] = (uint8_t)clampi(p[k] + g, 0, 255);
		}
	memcpy(r->bg, r->cv, (size_t)w * h * 3);
}

/* ---- per-frame effects ---- */

/*
 * A headlight cone on the ground from (ax, az) along (dx, dz): brightness
 * falls with distance and towards the edges. Added to every ground pixel it
 * covers (objects standing in it get lit too, roughly as they would).
 */
static int headlight(struct sc_render *r, double ax, double az, double dx,
		     double dz, double half_w, int *ry0, int *ry1)
{
	const struct sc_cam *c = &r->cam;
	const double len = 26, spread = 0.3;
	double reach = half_w + len * spread + 1, ex = ax + dx * len;
	double ez = az + dz * len, px, py, ymin = 1e9, ymax = -1e9;
	int y, y0, y1, w = c->w, q, behind = 0;

	/* rows: the projected box around the cone on the ground; ground near
	 * the lens lies below the picture, so a corner behind it means "to
	 * the bottom row" */
	for (q = 0; q < 4; q++) {
		double X = q & 1 ? fmax(ax, ex) + reach : fmin(ax, ex) - reach;
		double Z = q & 2 ? fmax(az, ez) + reach : fmin(az, ez) - reach;

		if (sc_project(c, X, 0, Z, &px, &py)) {
			ymin = fmin(ymin, py);
			ymax = fmax(ymax, py);
		} else {
			behind = 1;
		}
	}
	if (ymin > 1e8)
		return 0;
	y0 = (int)fmax(0, ymin);
	y1 = behind ? c->h - 1 : (int)fmin(c->h - 1, ymax + 1);
	if (y1 < y0)
		return 0;
	*ry0 = y0;
	*ry1 = y1;
	for (y = y0; y <= y1; y++) {
		size_t i = (size_t)y * w;
		int x;

		for (x = 0; x < w; x++, i++) {
			double rx, rz, al, pe, tol, k;
			uint8_t *p;
			int add;

			if (r->gz[i] <= 0)
				continue;
			rx = r->gx[i] - ax;
			rz = r->gz[i] - az;
			al = rx * dx + rz * dz;
			if (al < 0 || al > len)
				continue;
			pe = fabs(rx * dz - rz * dx);
			tol = half_w + al * spread;
			if (pe > tol)
				continue;
			k = (1 - al / len);
			k = k * k * (1 - (pe / tol) * (pe / tol));
			add = (int)(150 * k);
			p = r->cv + i * 3;
			p[0] = (uint8_t)FL_MIN(255, p[0] + add);
			p[1] = (uint8_t)FL_MIN(255, p[1] + add * 31 / 32);
			p[2] = (uint8_t)FL_MIN(255, p[2] + add * 27 / 32);
		}
	}
	return y1 >= y0;
}

static void rain_streaks(struct sc_render *r, struct sc_rng *rng)
{
	int w = r->cam.w, h = r->cam.h, n = w * h / 700, i;
	double sc = h / 360.0;

	for (i = 0; i < n; i++) {
		double x = sc_rng_range(rng, -10, w);
		double y = sc_rng_range(rng, 0, h);
		int len = (int)(sc_rng_range(rng, 6, 16) * sc), k;
		int add = (int)sc_rng_range(rng, 14, 34);

		for (k = 0; k < len; k++) {
			int px = (int)(x + 0.22 * k), py = (int)y + k;
			uint8_t *p;

			if (px < 0 || px >= w || py < 0 || py >= h)
				continue;
			p = r->cv + ((size_t)py * w + px) * 3;
			p[0] = (uint8_t)FL_MIN(255, p[0] + add);
			p[1] = (uint8_t)FL_MIN(255, p[1] + add);
			p[2] = (uint8_t)FL_MIN(255, p[2] + add + 4);
		}
	}
}

/* Global gain at time t: slow drift (exposure, clouds), dusk ramp. */
static double frame_gain(const struct sc_scene *s, uint64_t seed, double t)
{
	double p = (double)(seed % 1000) / 159.0;
	double d = 0.5 * sin(2 * M_PI * t / 17.0 + p) +
		   0.3 * sin(2 * M_PI * t / 6.1 + 2 * p) +
		   0.2 * sin(2 * M_PI * t / 43.0 + 3 * p);
	double g = 1 + s->drift * d;

	if (s->dusk > 0)
		g *= 1 - s->dusk * smooth01(0.12 * s->duration,
					    0.85 * s->duration, t);
	/* the day/night switch changes exposure in one frame */
	if (!s->ir && sc_ir_at(s, t) && s->ir_gain > 0)
		g *= s->ir_gain;
	return g;
}

/*
 * Convert the canvas rectangle [x0, x1) x [y0, y1) (widened to even
 * coordinates) from RGB to clean YUV 4:2:0, BT.601 limited range.
 */
static void to_yuv(struct sc_render *r, const uint8_t *rgb, uint8_t *yuv,
		   int x0, int y0, int x1, int y1)
{
	int w = r->cam.w, h = r->cam.h, x, y;
	uint8_t *Y = yuv, *U = Y + (size_t)w * h, *V = U + (size_t)w * h / 4;

	x0 = clampi(x0 & ~1, 0, w);
	y0 = clampi(y0 & ~1, 0, h);
	x1 = clampi((x1 + 1) & ~1, 0, w);
	y1 = clampi((y1 + 1) & ~1, 0, h);
	for (y = y0; y < y1; y += 2) {
		const uint8_t *p0 = rgb + ((size_t)y * w + x0) * 3;
		const uint8_t *p1 = p0 + (size_t)w * 3;
		uint8_t *y0p = Y + (size_t)y * w + x0, *y1p = y0p + w;
		size_t ci = (size_t)(y / 2) * (w / 2) + x0 / 2;

		for (x = x0; x < x1; x += 2, p0 += 6, p1 += 6, ci++) {
			int cr = p0[0] + p0[3] + p1[0] + p1[3];
			int cg = p0[1] + p0[4] + p1[1] + p1[4];
			int cb = p0[2] + p0[5] + p1[2] + p1[5];

			*y0p++ = (uint8_t)(((66 * p0[0] + 129 * p0[1] +
					     25 * p0[2] + 128) >>
					    8) +
					   16);
			*y0p++ = (uint8_t)(((66 * p0[3] + 129 * p0[4] +
					     25 * p0[5] + 128) >>
					    8) +
					   16);
			*y1p++ = (uint8_t)(((66 * p1[0] + 129 * p1[1] +
					     25 * p1[2] + 128) >>
					    8) +
					   16);
			*y1p++ = (uint8_t)(((66 * p1[3] + 129 * p1[4] +
					     25 * p1[5] + 128) >>
					    8) +
					   16);
			U[ci] = (uint8_t)(((-38 * cr - 74 * cg + 112 * cb +
					    512) >>
					   10) +
					  128);
			V[ci] = (uint8_t)(((112 * cr - 94 * cg - 18 * cb +
					    512) >>
					   10) +
					  128);
		}
	}
}

/* Remember that [x0, x1) x [y0, y1) of the canvas changed this frame. */
static void dirty(struct sc_render *r, int x0, int y0, int x1, int y1)
{
	int *d;

	x0 = clampi(x0, 0, r->cam.w);
	x1 = clampi(x1, 0, r->cam.w);
	y0 = clampi(y0, 0, r->cam.h);
	y1 = clampi(y1, 0, r->cam.h);
	if (x1 <= x0 || y1 <= y0)
		return;
	if (r->ndirty >= SC_MAX_DIRTY) {
		/* too many: collapse into one rectangle */
		d = r->dirty[0];
		d[0] = FL_MIN(d[0], x0);
		d[1] = FL_MIN(d[1], y0);
		d[2] = FL_MAX(d[2], x1);
		d[3] = FL_MAX(d[3], y1);
		r->ndirty = 1;
		return;
	}
	d = r->dirty[r->ndirty++];
	d[0] = x0;
	d[1] = y0;
	d[2] = x1;
	d[3] = y1;
}

/* The screen rectangle an actor at (x, z) can paint: its box widened by
 * half a metre (shadow, swinging limbs, wheels) and a margin of pixels. */
static void dirty_actor(struct sc_render *r, const struct sc_actor *a, double x,
			double z)
{
	struct sc_actor big = *a;
	int box[4], in;

	big.len += 1.0;
	big.wid += 1.0;
	big.hgt += 0.2;
	in = sc_actor_bbox(&r->cam, &big, x, z, box);
	if (in > 0)
		dirty(r, box[0] - 2, box[1] - 2, box[0] + box[2] + 2,
		      box[1] + box[3] + 2);
	else if (in < 0) /* partly behind the lens: anywhere */
		dirty(r, 0, 0, r->cam.w, r->cam.h);
}

/* Camera shake for frame fi: a jittery 1-3 px offset, never (0, 0). */
static void frame_shake(struct sc_rng *rng, double t, int *dx, int *dy)
{
	*dx = (int)lround(2.0 * sin(1.7 * t) + sc_rng_range(rng, -1.2, 1.2));
	*dy = (int)lround(1.5 * sin(2.3 * t + 1) + sc_rng_range(rng, -1.2, 1.2));
	*dx = clampi(*dx, -3, 3);
	*dy = clampi(*dy, -3, 3);
	if (*dx == 0 && *dy == 0)
		*dx = sc_rng_unit(rng) < 0.5 ? -1 : 1;
}

/* Gain at luma pixel gi under the cloud texture scrolled by (ou, ov). */
static int cloud_gain(const struct sc_render *r, size_t gi, int gain, int ou,
		      int ov)
{
	uint32_t uv = r->uv[gi];
	int u, v;

	if (uv == 0xffffffffu)
		return gain;
	u = (int)(uv >> 16) + ou;
	v = (int)(uv & 0xffff) + ov;
	return gain * (256 - r->cloud[(v & 511) * 512 + (u & 511)]) >> 8;
}

/*
 * One plane of the last pass: out = base + gain (in - base) + noise, read
 * from in shifted by (dx, dy) with edge replication. sub is 1 for the
 * half-size chroma planes (noise halved there too). With clouds the gain
 * varies per pixel with the ground under it; with ir (luma only) it varies
 * with the pixel's place in the picture (the illuminator is on the camera,
 * so its hot spot does not shake with the view). grey (chroma only) writes
 * the neutral 128 of a monochrome picture.
 */
static void post_plane(const struct sc_render *r, const uint8_t *in,
		       uint8_t *out, int sub, int dx, int dy, int gain,
		       const int8_t *nz, int clouds, int ou, int ov,
		       const uint16_t *ir, int grey)
{
	int pw = r->cam.w >> sub, ph = r->cam.h >> sub, base = sub ? 128 : 16;
	int x, y, lut[256];
	uint8_t clipbuf[1024], *clip = clipbuf + 384;

	if (grey) {
		memset(out, 128, (size_t)pw * ph);
		return;
	}
	/* lut: the gain; clip: saturation of lut + noise (|noise| <= 127) */
	for (x = 0; x < 256; x++)
		lut[x] = base + (((x - base) * gain) >> 8);
	for (x = -384; x < 640; x++)
		clip[x] = (uint8_t)clampi(x, 0, 255);

	for (y = 0; y < ph; y++) {
		int sy = clampi(y + dy, 0, ph - 1);
		const uint8_t *row = in + (size_t)sy * pw;
		const int8_t *n = nz + (size_t)y * pw;
		uint8_t *o = out + (size_t)y * pw;

		if (clouds || ir) {
			for (x = 0; x < pw; x++) {
				int sx = clampi(x + dx, 0, pw - 1);
				size_t gi = ((size_t)sy * r->cam.w + sx) << sub;
				int g = clouds ? cloud_gain(r, gi, gain, ou, ov)
					       : gain;

				if (ir)
					g = g * ir[(size_t)y * pw + x] >> 8;
				o[x] = (uint8_t)clampi(
					base + (((row[sx] - base) * g) >> 8) +
						(n[x] >> sub),
					0, 255);
			}
			continue;
		}
		/* the hot loop: two table look-ups and an add per pixel */
		for (x = 0; x < pw; x++) {
			int sx = x + dx;

			sx = sx < 0 ? 0 : sx >= pw ? pw - 1 : sx;
			o[x] = clip[lut[row[sx]] + (n[x] >> sub)];
		}
	}
}

/*
 * The last pass, in YUV: camera shake (a whole-frame shift with edge
 * replication), global gain, cloud shadows, sensor noise, and in IR mode
 * the illuminator's hot spot and a grey picture. The gain acts on
 * limited-range YUV as on RGB: Y' = 16 + g (Y - 16), C' = 128 + g (C - 128).
 * fx_seed picks the noise, the shake offset (r->seed for the video).
 */
static void post(struct sc_render *r, long fi, double t, uint64_t fx_seed)
{
	const struct sc_scene *s = r->scene;
	size_t np = (size_t)r->cam.w * r->cam.h;
	size_t off[3] = { 0, np, np + np / 4 };
	int gain = (int)(256 * frame_gain(s, r->seed, t) + 0.5);
	int dx = 0, dy = 0, ou = 0, ov = 0, p, ir = sc_ir_at(s, t);
	struct sc_rng rng;

	sc_rng_seed(&rng, fx_seed ^ 0x5eed, (uint64_t)fi);
	if (s->shake)
		frame_shake(&rng, t, &dx, &dy);
	if (s->clouds) {
		ou = (int)(t * 2.6 * 6); /* wind: 2.6 m/s across, 0.9 along */
		ov = (int)(t * 0.9 * 6);
	}
	for (p = 0; p < 3; p++) {
		const int8_t *nz = r->noise +
				   sc_rng_u64(&rng) % (r->nnoise - np);

		post_plane(r, r->clean + off[p], r->yuv + off[p], p ? 1 : 0,
			   p ? dx / 2 : dx, p ? dy / 2 : dy, gain, nz,
			   s->clouds, ou, ov, ir && !p ? r->irmap : NULL,
			   ir && p);
	}
}

/* ---- frames ---- */

struct vis {
	const struct sc_actor *a;
	double x, z, key;
	int moving;
};

static int vis_cmp(const void *a, const void *b)
{
	double ka = ((const struct vis *)a)->key;
	double kb = ((const struct vis *)b)->key;

	return ka < kb ? 1 : ka > kb ? -1 : 0;
}

/*
 * Render frame fi at time t into r->yuv: the actors when with_actors is set,
 * the per-frame effects (noise, shake, rain) drawn from fx_seed and fi.
 */
static void render(struct sc_render *r, long fi, double t, int with_actors,
		   uint64_t fx_seed)
{
	const struct sc_scene *s = r->scene;
	struct vis v[SC_MAX_ACTORS];
	int n = 0, i, w = r->cam.w, h = r->cam.h;

	memcpy(r->cv, r->bg, (size_t)w * h * 3);
	memcpy(r->clean, r->bgyuv, (size_t)w * h * 3 / 2);
	r->ndirty = 0;
	for (i = 0; with_actors && i < s->nactor; i++) {
		const struct sc_actor *a = &s->actor[i];
		double x, z, xp, zp;

		if (!sc_actor_pos(a, t, &x, &z))
			continue;
		v[n].a = a;
		v[n].x = x;
		v[n].z = z;
		v[n].moving = !sc_actor_pos(a, t - 0.04, &xp, &zp) || xp != x ||
			      zp != z;
		/* the nearest point of the footprint decides the painter's
		 * order */
		{
			double hx = (a->axis ? a->len : a->wid) / 2;
			double hz = (a->axis ? a->wid : a->len) / 2;

			v[n].key = ground_dist(&r->cam, x - hx, x + hx, z - hz,
					       z + hz);
		}
		n++;
	}
	qsort(v, (size_t)n, sizeof(v[0]), vis_cmp);
	for (i = 0; i < n; i++) {
		draw_actor(r, v[i].a, v[i].x, v[i].z, t, v[i].moving);
		dirty_actor(r, v[i].a, v[i].x, v[i].z);
	}
	if (s->night) {
		for (i = 0; i < n; i++) {
			const struct sc_actor *a = v[i].a;
			double dx = a->axis ? a->facing : 0;
			double dz = a->axis ? 0 : a->facing, hl = a->len / 2;
			int y0, y1;

			if (!a->lights || !v[i].moving)
				continue;
			if (headlight(r, v[i].x + dx * hl, v[i].z + dz * hl, dx,
				      dz, a->wid / 2, &y0, &y1))
				dirty(r, 0, y0, w, y1 + 1);
		}
	}
	if (s->rain) {
		struct sc_rng rng;

		sc_rng_seed(&rng, fx_seed ^ 0xAA1, (uint64_t)fi);
		rain_streaks(r, &rng);
		dirty(r, 0, 0, w, h);
	}
	for (i = 0; i < r->ndirty; i++)
		to_yuv(r, r->cv, r->clean, r->dirty[i][0], r->dirty[i][1],
		       r->dirty[i][2], r->dirty[i][3]);
	post(r, fi, t, fx_seed);
}

void sc_render_frame(struct sc_render *r, long fi, double t)
{
	render(r, fi, t, 1, r->seed);
}

/*
 * The reference is frame 0's light (gain, clouds, dusk at t) on the empty
 * scene, through the same YUV pass as the video, so it differs from the
 * video's first frame only where actors stand, by its own noise (shake
 * offset, rain streaks), and by the video's compression.
 */
void sc_render_empty(struct sc_render *r, double t, uint64_t noise_seed)
{
	render(r, 0, t, 0, noise_seed);
}

void sc_render_rgb(const struct sc_render *r, uint8_t *rgb)
{
	int w = r->cam.w, h = r->cam.h, x, y;
	const uint8_t *Y = r->yuv, *U = Y + (size_t)w * h;
	const uint8_t *V = U + (size_t)w * h / 4;

	/* BT.601 limited range, the inverse of to_yuv (x1024); chroma is
	 * repeated over its 2x2 block */
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			size_t ci = (size_t)(y / 2) * (w / 2) + x / 2;
			int c = 1192 * (Y[(size_t)y * w + x] - 16);
			int d = U[ci] - 128, e = V[ci] - 128;
			uint8_t *p = rgb + ((size_t)y * w + x) * 3;

			p[0] = (uint8_t)clampi((c + 1634 * e + 512) >> 10, 0,
					       255);
			p[1] = (uint8_t)clampi((c - 401 * d - 832 * e + 512) >>
						       10,
					       0, 255);
			p[2] = (uint8_t)clampi((c + 2066 * d + 512) >> 10, 0,
					       255);
		}
	}
}

/* ---- set-up ---- */

int sc_render_init(struct sc_render *r, const struct sc_scene *s, int w, int h,
		   uint64_t seed)
{
	size_t np = (size_t)w * h, i;
	struct sc_rng rng;
	double sigma = s->noise > 0 ? s->noise : 2.0;
	double dark = s->cloud_dark > 0 ? fmin(s->cloud_dark, 0.9) : 0.45;
	int u, v;

	memset(r, 0, sizeof(*r));
	if (w < 64 || h < 64 || w > 4096 || h > 4096 || (w & 1) || (h & 1))
		return FL_EINVAL;
	sc_cam_init(&r->cam, w, h, &s->geom);
	r->scene = s;
	r->seed = seed;
	r->nnoise = np + 65536;
	r->bg = malloc(np * 3);
	r->cv = malloc(np * 3);
	r->gx = malloc(np * sizeof(float));
	r->gz = malloc(np * sizeof(float));
	r->uv = malloc(np * sizeof(uint32_t));
	r->noise = malloc(r->nnoise);
	r->cloud = malloc(512 * 512);
	r->yuv = malloc(np * 3 / 2);
	r->clean = malloc(np * 3 / 2);
	r->bgyuv = malloc(np * 3 / 2);
	if (s->ir || s->ir_off > s->ir_on)
		r->irmap = malloc(np * sizeof(uint16_t));
	if (!r->bg || !r->cv || !r->gx || !r->gz || !r->uv || !r->noise ||
	    !r->cloud || !r->yuv || !r->clean || !r->bgyuv ||
	    ((s->ir || s->ir_off > s->ir_on) && !r->irmap)) {
		sc_render_free(r);
		return FL_ENOMEM;
	}
	/* the IR illuminator: a hot spot a little below the picture's centre
	 * (it points down the lane with the lens), falling to about half at
	 * the corners */
	for (v = 0; r->irmap && v < h; v++)
		for (u = 0; u < w; u++) {
			double ex = (u + 0.5 - 0.5 * w) / w;
			double ey = (v + 0.5 - 0.56 * h) / w;
			double k = 0.5 + 0.8 * exp(-(ex * ex + ey * ey) /
						   (2 * 0.2 * 0.2));

			r->irmap[(size_t)v * w + u] = (uint16_t)(256 * k);
		}
	/* Gaussian noise via the sum of four uniforms (Irwin-Hall), ~N(0,1) */
	sc_rng_seed(&rng, seed, 0x4015e);
	for (i = 0; i < r->nnoise; i++) {
		uint64_t b = sc_rng_u64(&rng);
		double g = ((double)(b & 0xffff) +
			    (double)((b >> 16) & 0xffff) +
			    (double)((b >> 32) & 0xffff) + (double)(b >> 48)) /
				   65536.0 -
			   2.0;

		r->noise[i] = (int8_t)clampi((int)lround(g * 1.732 * sigma),
					     -127, 127);
	}
	/* cloud shadows: soft blobs of a tileable low-frequency noise */
	memset(r->cloud, 0, 512 * 512);
	for (v = 0; v < 512 && s->clouds; v++)
		for (u = 0; u < 512; u++) {
			double a, sx = u / 512.0 * 6, sy = v / 512.0 * 6;

			/* tileable: blend the four wrapped copies */
			a = fbm(sx, sy, (uint32_t)seed + 300) *
				    (1 - u / 512.0) * (1 - v / 512.0) +
			    fbm(sx - 6, sy, (uint32_t)seed + 300) *
				    (u / 512.0) * (1 - v / 512.0) +
			    fbm(sx, sy - 6, (uint32_t)seed + 300) *
				    (1 - u / 512.0) * (v / 512.0) +
			    fbm(sx - 6, sy - 6, (uint32_t)seed + 300) *
				    (u / 512.0) * (v / 512.0);
			r->cloud[v * 512 + u] =
				(uint8_t)(256 * dark * smooth01(0.48, 0.62, a));
		}
	build_background(r);
	to_yuv(r, r->bg, r->bgyuv, 0, 0, w, h);
	return 0;
}

void sc_render_free(struct sc_render *r)
{
	free(r->bg);
	free(r->cv);
	free(r->gx);
	free(r->gz);
	free(r->uv);
	free(r->noise);
	free(r->cloud);
	free(r->yuv);
	free(r->clean);
	free(r->bgyuv);
	free(r->irmap);
	memset(r, 0, sizeof(*r));
}
