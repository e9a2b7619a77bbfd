/*
 * world.c - camera geometry, actors and their trajectories.
 *
 * A note on motion: an actor's path is a list of keys (time, x, z), each
 * saying how the actor got there from the previous key: at constant speed,
 * decelerating to rest (ease-out, position 1 - (1 - u)^2 of the way), or
 * accelerating away from rest (ease-in, u^2), or holding still. Ease-out
 * starts at speed 2D/T, so choosing T = 2D/v joins it to a cruise at v
 * without a jump in speed; ease-in ends at the same speed. A hold copies the
 * previous key's coordinates, so an actor at rest sits at bit-identical
 * coordinates and therefore renders to bit-identical pixels, which is what
 * lets the ground truth say "at rest from frame N" without any tolerance.
 *
 * Outside [first key, last key] the actor is not in the world at all; scripts
 * start and end paths off-screen (behind the camera, past the horizon, off
 * the side of the frame) so nothing pops in or out in view.
 */
#include "scene.h"

#include "fl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void sc_geom_classic(struct sc_geom *g, int w, int h)
{
	g->x = 0;
	g->z = 0;
	g->height = 6.0;
	g->yaw = 0;
	g->focal = 0.9;
	g->pitch = atan(0.25 * h / (g->focal * w));
}

void sc_cam_init(struct sc_cam *c, int w, int h, const struct sc_geom *g)
{
	double cy = cos(g->yaw), sy = sin(g->yaw);
	double cp = cos(g->pitch), sp = sin(g->pitch);

	c->w = w;
	c->h = h;
	c->f = g->focal * w;
	c->cx = 0.5 * w;
	c->cy = 0.5 * h;
	c->X = g->x;
	c->Z = g->z;
	c->hc = g->height;
	/* yaw about Y, then pitch about the image's x axis; no roll */
	c->fw[0] = sy * cp;
	c->fw[1] = -sp;
	c->fw[2] = cy * cp;
	c->rt[0] = cy;
	c->rt[1] = 0;
	c->rt[2] = -sy;
	c->dn[0] = -sy * sp;
	c->dn[1] = -cp;
	c->dn[2] = -cy * sp;
	c->yh = c->cy - c->f * tan(g->pitch);
}

void sc_cam_coords(const struct sc_cam *c, double X, double Y, double Z,
		   double v[3])
{
	double d[3] = { X - c->X, Y - c->hc, Z - c->Z };

	v[0] = d[0] * c->rt[0] + d[1] * c->rt[1] + d[2] * c->rt[2];
	v[1] = d[0] * c->dn[0] + d[1] * c->dn[1] + d[2] * c->dn[2];
	v[2] = d[0] * c->fw[0] + d[1] * c->fw[1] + d[2] * c->fw[2];
}

int sc_project(const struct sc_cam *c, double X, double Y, double Z, double *px,
	       double *py)
{
	double v[3];
	int front;

	sc_cam_coords(c, X, Y, Z, v);
	front = v[2] >= SC_NEAR;
	if (!front)
		v[2] = SC_NEAR;
	*px = c->cx + c->f * v[0] / v[2];
	*py = c->cy + c->f * v[1] / v[2];
	return front;
}

int sc_unproject(const struct sc_cam *c, double px, double py, double *X,
		 double *Z)
{
	double u = (px - c->cx) / c->f, v = (py - c->cy) / c->f, d[3], t;
	int k;

	for (k = 0; k < 3; k++)
		d[k] = c->fw[k] + u * c->rt[k] + v * c->dn[k];
	if (d[1] > -1e-9)
		return 0;
	t = c->hc / -d[1];
	*X = c->X + t * d[0];
	*Z = c->Z + t * d[2];
	return 1;
}

void sc_layout_set(struct sc_layout *l, double hw, int right)
{
	l->hw = hw;
	l->right = right;
	l->kerb_l = -(hw + 0.6);
	l->walk_l = l->kerb_l - 1.4;
	l->lawn_l = l->kerb_l - 2.6;
	if (right == SC_RIGHT_ROAD) {
		/* two 3.3 m lanes right of the fire lane's yellow line */
		l->road0 = hw + 0.15;
		l->road1 = hw + 6.75;
		l->road_mid = hw + 3.45;
		l->bay0 = l->bay1 = 0;
		l->edge_r = hw + 6.9;
	} else {
		l->bay0 = hw + 0.6;
		l->bay1 = hw + 3.0;
		l->road0 = l->road1 = l->road_mid = 0;
		l->edge_r = l->bay1;
	}
	l->walk_r = l->edge_r + 1.2;
	l->lawn_r = l->edge_r + 2.2;
	l->fac_l = l->lawn_l - 3.8;
	l->fac_r = l->lawn_r + 2.8;
}

int sc_ir_at(const struct sc_scene *s, double t)
{
	return s->ir ||
	       (s->ir_off > s->ir_on && t >= s->ir_on && t < s->ir_off);
}

int sc_actor_pos(const struct sc_actor *a, double t, double *x, double *z)
{
	const struct sc_key *k0, *k1;
	double u, e;
	int i;

	if (a->nkey == 0 || t < a->key[0].t || t > a->key[a->nkey - 1].t)
		return 0;
	if (a->nkey == 1) {
		*x = a->key[0].x;
		*z = a->key[0].z;
		return 1;
	}
	for (i = 1; i < a->nkey - 1 && a->key[i].t < t; i++)
		;
	k0 = &a->key[i - 1];
	k1 = &a->key[i];
	u = (t - k0->t) / (k1->t - k0->t);
	if (k1->seg == SC_SEG_HOLD || u <= 0) {
		*x = k0->x;
		*z = k0->z;
		return 1;
	}
	if (u >= 1) {
		/* exact key coordinates: a following hold matches bit for bit */
		*x = k1->x;
		*z = k1->z;
		return 1;
	}
	switch (k1->seg) {
	case SC_SEG_EASE_OUT:
		e = 1.0 - (1.0 - u) * (1.0 - u);
		break;
	case SC_SEG_EASE_IN:
		e = u * u;
		break;
	default:
		e = u;
		break;
	}
	*x = k0->x + (k1->x - k0->x) * e;
	*z = k0->z + (k1->z - k0->z) * e;
	return 1;
}

void sc_actor_dir(const struct sc_actor *a, double t, double *dx, double *dz)
{
	double x0, z0, x1, z1, n;

	if (sc_actor_pos(a, t, &x0, &z0) && sc_actor_pos(a, t + 0.1, &x1, &z1)) {
		n = hypot(x1 - x0, z1 - z0);
		if (n > 1e-6) {
			*dx = (x1 - x0) / n;
			*dz = (z1 - z0) / n;
			return;
		}
	}
	*dx = a->axis ? a->facing : 0;
	*dz = a->axis ? 0 : a->facing;
}

void sc_traj_begin(struct sc_actor *a, double t, double x, double z)
{
	a->nkey = 1;
	a->key[0].t = t;
	a->key[0].x = x;
	a->key[0].z = z;
	a->key[0].seg = SC_SEG_LINE;
}

void sc_traj_to(struct sc_actor *a, int seg, double t, double x, double z)
{
	struct sc_key *k;

	if (a->nkey == 0 || a->nkey >= SC_MAX_KEYS)
		return;
	/* keys must advance in time; a zero-length step is dropped */
	if (t <= a->key[a->nkey - 1].t)
		return;
	k = &a->key[a->nkey++];
	k->t = t;
	k->x = x;
	k->z = z;
	k->seg = seg;
}

void sc_traj_hold(struct sc_actor *a, double t)
{
	const struct sc_key *last;

	if (a->nkey == 0)
		return;
	last = &a->key[a->nkey - 1];
	sc_traj_to(a, SC_SEG_HOLD, t, last->x, last->z);
}

double sc_walk_to(struct sc_actor *a, double x, double z, double v)
{
	const struct sc_key *last = &a->key[a->nkey - 1];
	double t = last->t + hypot(x - last->x, z - last->z) / v;

	sc_traj_to(a, SC_SEG_LINE, t, x, z);
	return a->key[a->nkey - 1].t;
}

void sc_drive_park(struct sc_actor *a, double x0, double z0, double xr,
		   double zr, double x1, double z1, double t_stop, double t_go,
		   double v)
{
	double din = hypot(xr - x0, zr - z0);
	double dout = hypot(x1 - xr, z1 - zr);
	double dd, td, da, ta, t;

	if (t_stop <= 0) {
		sc_traj_begin(a, 0, xr, zr);
	} else {
		dd = fmin(v * v / (2 * 2.0), 0.8 * din);
		td = 2 * dd / v;
		t = t_stop - td - (din - dd) / v;
		sc_traj_begin(a, t, x0, z0);
		sc_traj_to(a, SC_SEG_LINE, t_stop - td,
			   xr - (xr - x0) / din * dd,
			   zr - (zr - z0) / din * dd);
		sc_traj_to(a, SC_SEG_EASE_OUT, t_stop, xr, zr);
	}
	if (t_go >= SC_FOREVER) {
		sc_traj_hold(a, SC_FOREVER);
		return;
	}
	sc_traj_hold(a, t_go);
	da = fmin(v * v / (2 * 1.6), 0.8 * dout);
	ta = 2 * da / v;
	sc_traj_to(a, SC_SEG_EASE_IN, t_go + ta, xr + (x1 - xr) / dout * da,
		   zr + (z1 - zr) / dout * da);
	sc_traj_to(a, SC_SEG_LINE, t_go + ta + (dout - da) / v, x1, z1);
}

void sc_drive_through(struct sc_actor *a, double x0, double z0, double x1,
		      double z1, double t0, double v)
{
	sc_traj_begin(a, t0, x0, z0);
	sc_traj_to(a, SC_SEG_LINE, t0 + hypot(x1 - x0, z1 - z0) / v, x1, z1);
}

/* Body colours of real car parks: mostly white, black, silver and grey. */
static const uint8_t car_palette[][3] = {
	{ 214, 214, 210 }, { 222, 220, 214 }, { 32, 32, 35 },   { 40, 42, 48 },
	{ 160, 163, 168 }, { 120, 122, 126 }, { 150, 28, 26 },  { 32, 52, 112 },
	{ 70, 82, 60 },    { 180, 150, 90 },  { 98, 100, 104 },
};

static void pick_rgb(uint8_t out[3], const uint8_t (*pal)[3], size_t n,
		     struct sc_rng *r)
{
	size_t i = (size_t)(sc_rng_unit(r) * n);

	memcpy(out, pal[i < n ? i : n - 1], 3);
}

#define PICK(out, pal, r) pick_rgb(out, pal, FL_ARRAY_SIZE(pal), r)

void sc_grey_body(struct sc_actor *a, struct sc_rng *r)
{
	uint8_t g = (uint8_t)sc_rng_range(r, 92, 112);

	a->rgb[0] = g;
	a->rgb[1] = g;
	a->rgb[2] = (uint8_t)(g + 4);
}

static const uint8_t shirt_palette[][3] = {
	{ 200, 40, 40 },  { 40, 90, 170 }, { 230, 230, 225 }, { 30, 30, 30 },
	{ 220, 180, 40 }, { 60, 140, 80 }, { 140, 90, 150 },  { 240, 120, 40 },
};

static const uint8_t trouser_palette[][3] = {
	{ 30, 35, 60 },
	{ 25, 25, 28 },
	{ 90, 80, 70 },
	{ 60, 70, 90 },
};

struct sc_actor *sc_add(struct sc_scene *s, enum sc_kind kind, const char *what)
{
	struct sc_rng *r = &s->rng;
	struct sc_actor *a;

	if (s->nactor >= SC_MAX_ACTORS)
		return NULL;
	a = &s->actor[s->nactor++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->facing = 1;
	a->obstructs = kind != SC_PERSON;
	a->style = (unsigned)sc_rng_u64(r);
	snprintf(a->what, sizeof(a->what), "%s", what ? what : "");
	switch (kind) {
	case SC_CAR:
		a->len = sc_rng_range(r, 4.2, 4.8);
		a->wid = sc_rng_range(r, 1.72, 1.86);
		a->hgt = sc_rng_range(r, 1.40, 1.52);
		a->lights = 1;
		PICK(a->rgb, car_palette, r);
		break;
	case SC_VAN:
		a->len = sc_rng_range(r, 4.8, 5.3);
		a->wid = 1.9;
		a->hgt = sc_rng_range(r, 1.95, 2.15);
		a->lights = 1;
		pick_rgb(a->rgb, car_palette, 6, r);
		break;
	case SC_TRUCK:
		a->len = sc_rng_range(r, 8.5, 10.0);
		a->wid = 2.45;
		a->hgt = sc_rng_range(r, 3.4, 3.7);
		a->lights = 1;
		PICK(a->rgb, shirt_palette, r);
		pick_rgb(a->rgb2, car_palette, 6, r);
		break;
	case SC_EBIKE:
		a->len = 1.7;
		a->wid = 0.6;
		a->hgt = 1.1;
		PICK(a->rgb, shirt_palette, r);
		break;
	case SC_TRICYCLE:
		a->len = 2.4;
		a->wid = 1.1;
		a->hgt = 1.3;
		PICK(a->rgb, shirt_palette, r);
		a->rgb2[0] = 150;
		a->rgb2[1] = 110;
		a->rgb2[2] = 70;
		break;
	case SC_BOXES:
		a->len = 0.75;
		a->wid = 1.3;
		a->hgt = 1.25;
		a->rgb[0] = (uint8_t)sc_rng_range(r, 150, 185);
		a->rgb[1] = (uint8_t)(a->rgb[0] * 0.72);
		a->rgb[2] = (uint8_t)(a->rgb[0] * 0.45);
		break;
	case SC_PERSON:
		a->len = 0.3;
		a->wid = 0.5;
		a->hgt = sc_rng_range(r, 1.58, 1.86);
		PICK(a->rgb, shirt_palette, r);
		PICK(a->rgb2, trouser_palette, r);
		break;
	}
	return a;
}

void sc_zone_set(struct sc_scene *s, const char *name, double x0, double x1,
		 double z0, double z1)
{
	struct sc_zone *zn;

	if (s->nzone >= SC_MAX_ZONES)
		return;
	zn = &s->zone[s->nzone++];
	snprintf(zn->name, sizeof(zn->name), "%s", name);
	zn->x0 = x0;
	zn->x1 = x1;
	zn->z0 = z0;
	zn->z1 = z1;
}

int sc_actor_bbox(const struct sc_cam *c, const struct sc_actor *a, double x,
		  double z, int box[4])
{
	double hx = (a->axis ? a->len : a->wid) / 2;
	double hz = (a->axis ? a->wid : a->len) / 2;
	double minx = 1e9, miny = 1e9, maxx = -1e9, maxy = -1e9, px, py;
	int i, x0, y0, x1, y1;

	for (i = 0; i < 8; i++) {
		if (!sc_project(c, x + (i & 1 ? hx : -hx), i & 2 ? a->hgt : 0,
				z + (i & 4 ? hz : -hz), &px, &py))
			return -1;
		minx = fmin(minx, px);
		maxx = fmax(maxx, px);
		miny = fmin(miny, py);
		maxy = fmax(maxy, py);
	}
	x0 = (int)floor(fmax(minx, 0));
	y0 = (int)floor(fmax(miny, 0));
	x1 = (int)ceil(fmin(maxx, c->w));
	y1 = (int)ceil(fmin(maxy, c->h));
	if (x1 <= x0 || y1 <= y0)
		return 0;
	box[0] = x0;
	box[1] = y0;
	box[2] = x1 - x0;
	box[3] = y1 - y0;
	return 1;
}
