/*
 * scenarios.c - the scenario table: one script per scene.
 *
 * A script sets the scene's length, dwell, nuisances and zones, and places
 * actors with trajectory builders. It never writes ground truth: main.c
 * derives that from the trajectories. Timelines are written relative to the
 * dwell D, so the short variant (--quick: D = 10 and shorter margins) keeps
 * the same story in 40-50 s of video.
 *
 * Layout of the world (metres, struct sc_layout): the fire lane runs along
 * Z between yellow lines at X = -hw and +hw (hw drawn per seed, 1.75-3 m);
 * left of it a kerb, a footway (walkers at lay.walk_l) and a lawn; right of
 * it either parking bays (outside the lane) or a two-way driving road, then
 * a kerb and a footway; a cross road near the camera at Z 13.5-19.5. The
 * default zone lane-a is the lane from 20 m to 46 m (some seeds add lane-b,
 * 52-75 m). Positions inside the lane are written from its centre line and
 * kept inside +-hw for any width; vehicles enter from behind the camera's
 * pole (Z = -10) or from far down the lane, and leave past Z = 250, where
 * they are a pixel or two.
 *
 * The overlap policy (docs/scenes.md): something at rest is an obstruction
 * of a zone when at least 0.3 of its ground footprint is inside. Scripts
 * keep every rest at most 0.15 or at least 0.5 inside any zone; main.c
 * refuses a scene that does not.
 *
 * Seeds vary colours, sizes and, within a few tenths of a metre and a
 * second, where and when things happen, and the whole geometry (camera and
 * lane, main.c); the story of each scenario does not change with the seed,
 * so its expectations (alarm or none) hold for all.
 */
#include "scene.h"

#include "fl.h"

#include <math.h>
#include <stdio.h>

#define NEAR_Z (-10.0) /* behind the camera's pole: out of view */
#define FAR_Z 250.0
#define CROSS_Z_POS 17.0 /* cross-road lane driving towards +X */
#define CROSS_Z_NEG 15.2 /* cross-road lane driving towards -X */
#define CROSS_X 24.0     /* where a cross-road story starts its clock */
#define CROSS_FAR 45.0   /* where cross traffic really enters: out of view */

static double jit(struct sc_scene *s, double a)
{
	return sc_rng_range(&s->rng, -a, a);
}

static void need_road(struct sc_scene *s)
{
	sc_layout_set(&s->lay, s->lay.hw, SC_RIGHT_ROAD);
}

static void need_bays(struct sc_scene *s)
{
	sc_layout_set(&s->lay, s->lay.hw, SC_RIGHT_BAYS);
}

/* A vehicle that comes from behind the camera, parks at (x, zr) from t_stop
 * to t_go (SC_FOREVER: stays), then drives off down the lane. */
static struct sc_actor *park(struct sc_scene *s, enum sc_kind kind,
			     const char *what, double x, double zr,
			     double t_stop, double t_go)
{
	struct sc_actor *a = sc_add(s, kind, what);

	if (!a)
		return NULL;
	sc_drive_park(a, x, NEAR_Z, x, zr, x, FAR_Z, t_stop, t_go,
		      sc_rng_range(&s->rng, 5.0, 6.5));
	return a;
}

/* A vehicle driving along the lane (or the road) at X = x without stopping:
 * dir +1 away from the camera, -1 towards it; it is at the near end of the
 * view (Z = 4 going away, Z = 160 coming) at t0. */
static struct sc_actor *through(struct sc_scene *s, enum sc_kind kind, double x,
				double t0, int dir, double v)
{
	struct sc_actor *a = sc_add(s, kind, "passing vehicle");

	if (!a)
		return NULL;
	a->facing = dir;
	if (dir > 0)
		sc_drive_through(a, x, NEAR_Z, x, FAR_Z, t0 - (4 - NEAR_Z) / v,
				 v);
	else
		sc_drive_through(a, x, 160, x, NEAR_Z, t0, v);
	return a;
}

/* A vehicle that is driving along X = x and is at Z = z at time 0: traffic
 * in the lane when the clip (or the edge) starts. */
static struct sc_actor *moving_at_start(struct sc_scene *s, enum sc_kind kind,
					double x, double z, int dir, double v)
{
	struct sc_actor *a = sc_add(s, kind, "driving through at the start");

	if (!a)
		return NULL;
	a->facing = dir;
	if (dir > 0)
		sc_drive_through(a, x, NEAR_Z, x, FAR_Z, -(z - NEAR_Z) / v, v);
	else
		sc_drive_through(a, x, FAR_Z, x, NEAR_Z, -(FAR_Z - z) / v, v);
	return a;
}

/* Cross-road traffic near the camera, long side across the lane; it is at
 * X = -24 dir at t0 (the story's clock), having come from out of view. */
static struct sc_actor *cross(struct sc_scene *s, enum sc_kind kind, double t0,
			      int dir, double v)
{
	struct sc_actor *a = sc_add(s, kind, "cross traffic");
	double z = dir > 0 ? CROSS_Z_POS : CROSS_Z_NEG;

	if (!a)
		return NULL;
	a->axis = 1;
	a->facing = dir;
	sc_drive_through(a, -CROSS_FAR * dir, z, CROSS_FAR * dir, z,
			 t0 - (CROSS_FAR - CROSS_X) / v, v);
	return a;
}

/* A person starting at (x, z) at time t; extend with sc_walk_to(). */
static struct sc_actor *person(struct sc_scene *s, double t, double x, double z)
{
	struct sc_actor *a = sc_add(s, SC_PERSON, "person");

	if (!a)
		return NULL;
	sc_traj_begin(a, t, x, z);
	return a;
}

/*
 * A person who walks in from behind the camera's pole (Z = -4, out of view)
 * along X = x and is at (x, z) at time t; the walk may start before the
 * clip does, so nobody pops into view. Extend with sc_walk_to().
 */
static struct sc_actor *person_at(struct sc_scene *s, double t, double x,
				  double z)
{
	double v = sc_rng_range(&s->rng, 1.1, 1.5);
	struct sc_actor *p = person(s, t - (z + 4.0) / v, x, -4.0);

	if (p)
		sc_walk_to(p, x, z, v);
	return p;
}

/* Someone walking along the left footway, for life in the background:
 * away from the camera into the distance, or from the distance towards it
 * and out below the frame. */
static void pavement_walker(struct sc_scene *s, double t, int away)
{
	double x = s->lay.walk_l;
	struct sc_actor *p = person(s, t, x + jit(s, 0.4), away ? -4.0 : 200.0);

	if (p)
		sc_walk_to(p, x + jit(s, 0.4), away ? 200.0 : -4.0,
			   sc_rng_range(&s->rng, 1.1, 1.5));
}

/* The driving road's two lanes: the nearer one (to the fire lane) carries
 * traffic away from the camera, the other towards it. */
static double road_x(const struct sc_scene *s, int dir)
{
	return dir > 0 ? s->lay.road0 + 1.65 : s->lay.road_mid + 1.65;
}

/* Traffic on the driving road from t0 to t1: a vehicle every gap0-gap1 s
 * in each direction, mostly cars, some vans and trucks. */
static void road_traffic(struct sc_scene *s, double t0, double t1, double gap0,
			 double gap1)
{
	int dir;

	for (dir = -1; dir <= 1; dir += 2) {
		double t = t0 + sc_rng_range(&s->rng, 0, gap1);

		while (t < t1) {
			double u = sc_rng_unit(&s->rng);
			enum sc_kind k = u < 0.75   ? SC_CAR
					 : u < 0.92 ? SC_VAN
						    : SC_TRUCK;

			through(s, k, road_x(s, dir) + jit(s, 0.3), t, dir,
				sc_rng_range(&s->rng, 7, 12));
			t += sc_rng_range(&s->rng, gap0, gap1);
		}
	}
}

/* The road as its own must-not-alarm zone, beside lane-a. */
static void road_zones(struct sc_scene *s)
{
	sc_zone_set(s, "lane-a", -s->lay.hw, s->lay.hw, 20, 46);
	sc_zone_set(s, SC_ZONE_ROAD, s->lay.road0 + 0.3, s->lay.road1 - 0.3, 20,
		    60);
}

/* ---- the scripts ---- */

static void park_leave(struct sc_scene *s, int quick)
{
	double D = quick ? 10 : 15, ts = 8 + jit(s, 1);
	double tg = ts + D + (quick ? 12 : 30);

	s->dwell = D;
	s->duration = tg + 12;
	park(s, SC_CAR, "car parks", 0.3 + jit(s, 0.3), 25 + jit(s, 2), ts, tg);
	pavement_walker(s, 3, 1);
	cross(s, SC_CAR, tg - 14, 1, 7);
}

static void pass_through(struct sc_scene *s, int quick)
{
	double t;
	int i = 0;

	s->dwell = quick ? 10 : 15;
	s->duration = quick ? 40 : 60;
	for (t = 1; t < s->duration - 8; t += sc_rng_range(&s->rng, 5, 9)) {
		int dir = (i++ & 1) ? -1 : 1;
		struct sc_actor *a;

		a = through(s, i % 4 == 3 ? SC_VAN : SC_CAR, dir * 0.8, t, dir,
			    sc_rng_range(&s->rng, 4, 8));
		if (a && i == 3)
			sc_grey_body(a, &s->rng);
	}
	/* one crawls over a speed bump at walking pace, never stopping */
	through(s, SC_CAR, 0.2, 6, 1, 2.2);
	pavement_walker(s, 2, 1);
	pavement_walker(s, 10, 0);
}

static void short_stop(struct sc_scene *s, int quick)
{
	double D = quick ? 10 : 15, ts = 8 + jit(s, 1), tg = ts + D / 2;

	s->dwell = D;
	s->duration = quick ? 40 : 55;
	park(s, SC_CAR, "car stops briefly", 0.2 + jit(s, 0.3), 30 + jit(s, 2),
	     ts, tg);
	through(s, SC_CAR, 0.8, tg + 5, 1, 6);
	through(s, SC_VAN, -0.8, tg + 9, -1, 7);
}

static void two_in_turn(struct sc_scene *s, int quick)
{
	double D = quick ? 10 : 12, ta = 6 + jit(s, 1);
	double ga = ta + D + (quick ? 8 : 18), tb = ga + 6;
	double x = 0.3 + jit(s, 0.3), z = 25 + jit(s, 2);

	s->dwell = D;
	s->duration = tb + D + (quick ? 8 : 20);
	park(s, SC_CAR, "first car parks", x, z, ta, ga);
	park(s, SC_CAR, "second car parks at the same spot", x + jit(s, 0.2),
	     z + jit(s, 0.5), tb, SC_FOREVER);
}

static void present_from_start(struct sc_scene *s, int quick)
{
	struct sc_actor *p;

	s->dwell = quick ? 10 : 15;
	s->duration = quick ? 40 : 60;
	park(s, SC_VAN, "van standing since before the clip", 0.2 + jit(s, 0.3),
	     30 + jit(s, 2), 0, SC_FOREVER);
	p = person_at(s, 4, s->lay.walk_l, 24);
	if (p) {
		sc_walk_to(p, -1.5, 26, 1.3);
		sc_walk_to(p, -1.5, 40, 1.3);
		sc_walk_to(p, s->lay.walk_l, 44, 1.3);
		sc_walk_to(p, s->lay.walk_l, 220, 1.3);
	}
	cross(s, SC_CAR, 10, 1, 8);
	cross(s, SC_VAN, 22, -1, 6);
	pavement_walker(s, 14, 0);
}

/*
 * An object pushed in by a person walking beside it, from a passage between
 * the buildings on the left (far across the lawn, X = lawn - 40) to (x, z),
 * arriving at t_in; it stays until t_go, when someone comes and takes it
 * back the same way (t_go SC_FOREVER: it stays).
 */
static void pushed_in(struct sc_scene *s, enum sc_kind kind, const char *what,
		      double x, double z, double t_in, double t_go)
{
	const double x_from = s->lay.lawn_l - 40, v = 1.1;
	struct sc_actor *o = sc_add(s, kind, what), *p;
	double t0 = t_in - (x - x_from) / v;

	if (!o)
		return;
	o->axis = kind == SC_BOXES ? 0 : 1;
	o->facing = 1;
	sc_traj_begin(o, t0, x_from, z);
	sc_walk_to(o, x, z, v);
	p = person(s, t0, x_from - 0.5, z + 0.9);
	if (p) {
		sc_walk_to(p, x - 0.5, z + 0.9, v);
		sc_traj_hold(p, t_in + 2);
		sc_walk_to(p, x_from, z + 2, 1.3);
	}
	if (t_go >= SC_FOREVER) {
		sc_traj_hold(o, SC_FOREVER);
		return;
	}
	sc_traj_hold(o, t_go);
	sc_walk_to(o, x_from - 1, z, v);
	p = person(s, t_go - 2 - (x - x_from) / 1.3, x_from, z + 1.5);
	if (p) {
		sc_walk_to(p, x - 0.5, z + 0.9, 1.3);
		sc_traj_hold(p, t_go);
		sc_walk_to(p, x_from - 1.5, z + 0.9, v);
	}
}

static void ebike(struct sc_scene *s, int quick)
{
	double D = quick ? 10 : 15, ti = 8 + jit(s, 1);
	double tg = ti + D + (quick ? 10 : 28);

	s->dwell = D;
	s->duration = tg + 14;
	pushed_in(s, SC_EBIKE, "e-bike parked", -0.4 + jit(s, 0.3),
		  26 + jit(s, 2), ti, tg);
	cross(s, SC_CAR, 20, -1, 7);
}

static void boxes(struct sc_scene *s, int quick)
{
	s->dwell = quick ? 10 : 15;
	s->duration = quick ? 40 : 60;
	pushed_in(s, SC_BOXES, "pile of boxes left", 0.6 + jit(s, 0.3),
		  30 + jit(s, 2), 8 + jit(s, 1), SC_FOREVER);
	pavement_walker(s, 6, 0);
}

static void pedestrian_linger(struct sc_scene *s, int quick)
{
	double D = quick ? 10 : 15, t, tl;
	struct sc_actor *p;

	s->dwell = D;
	s->duration = quick ? 42 : 62;
	p = person_at(s, 1, s->lay.walk_l - 0.2, 27);
	if (p) {
		p->sway = 0.04;
		t = sc_walk_to(p, 0.2 + jit(s, 0.3), 29 + jit(s, 1), 1.2);
		tl = t + D + (quick ? 14 : 22);
		sc_traj_hold(p, tl);
		sc_walk_to(p, 1.5, 45, 1.2);
		sc_walk_to(p, s->lay.walk_l, 60, 1.2);
		sc_walk_to(p, s->lay.walk_l, 220, 1.2);
	}
	/* a friend joins for a while, standing still too */
	p = person_at(s, 8, s->lay.walk_r, 34);
	if (p) {
		p->sway = 0.03;
		t = sc_walk_to(p, 1.0, 29.5, 1.1);
		sc_traj_hold(p, t + 9);
		sc_walk_to(p, s->lay.walk_r, 22, 1.1);
		sc_walk_to(p, s->lay.walk_r, -4, 1.1);
	}
	for (t = 3; t < s->duration - 12; t += 9) {
		p = person(s, t, -1.2 + jit(s, 0.5), -4);
		if (p)
			sc_walk_to(p, -1.0 + jit(s, 0.5), 200, 1.4);
	}
}

static void clouds(struct sc_scene *s, int quick)
{
	s->dwell = quick ? 10 : 15;
	s->duration = quick ? 40 : 60;
	s->clouds = 1;
	s->drift = 0.3;
	park(s, SC_CAR, "car parks under passing clouds", 0.3 + jit(s, 0.3),
	     29 + jit(s, 2), 8 + jit(s, 1), SC_FOREVER);
	pavement_walker(s, 12, 1);
}

static void night_headlights(struct sc_scene *s, int quick)
{
	double D = quick ? 10 : 15, ts = 8 + jit(s, 1);
	double tg = ts + D + (quick ? 10 : 28), t;
	int i = 0;

	s->dwell = D;
	s->duration = tg + 12;
	s->night = 1;
	s->noise = 4.5;
	park(s, SC_CAR, "car parks at night", fmin(1.0, s->lay.hw - 0.95),
	     29 + jit(s, 2), ts, tg);
	for (t = 3; t < s->duration - 6; t += sc_rng_range(&s->rng, 5, 8)) {
		int dir = (i++ & 1) ? 1 : -1;

		if (i % 3 == 0)
			through(s, SC_CAR, -1.0, t, -1,
				sc_rng_range(&s->rng, 6, 9));
		else
			cross(s, SC_CAR, t, dir, sc_rng_range(&s->rng, 6, 10));
	}
}

static void truck_occlusion(struct sc_scene *s, int quick)
{
	double D = quick ? 10 : 15, ts = 8 + jit(s, 1);
	double tg = ts + D + (quick ? 14 : 40);
	static const double when[] = { 2, 13, 24, 36, 48 };
	size_t i;

	s->dwell = D;
	s->duration = tg + 12;
	park(s, SC_CAR, "car parks behind passing trucks", 0.2 + jit(s, 0.2),
	     26 + jit(s, 1), ts, tg);
	for (i = 0; i < FL_ARRAY_SIZE(when); i++) {
		struct sc_actor *a;

		if (when[i] + 14 > tg)
			break;
		/* centre passes the lane about 13 s after it appears;
		 * hidden for (len - 1.2) / v, 3.5-7 s at these speeds */
		a = cross(s, SC_TRUCK, when[i], i & 1 ? -1 : 1,
			  sc_rng_range(&s->rng, 1.3, 2.2));
		if (a)
			a->hgt = 3.6;
	}
}

static void camera_shake(struct sc_scene *s, int quick)
{
	double D = quick ? 10 : 15, ts = 8 + jit(s, 1);
	double tg = ts + D + (quick ? 10 : 25);

	s->dwell = D;
	s->duration = tg + 12;
	s->shake = 1;
	park(s, SC_CAR, "car parks while the camera shakes", 0.3 + jit(s, 0.3),
	     26 + jit(s, 2), ts, tg);
	pavement_walker(s, 5, 0);
}

static void rain(struct sc_scene *s, int quick)
{
	double D = quick ? 10 : 15, ts = 8 + jit(s, 1);
	double tg = ts + D + (quick ? 10 : 27);

	s->dwell = D;
	s->duration = tg + 12;
	s->rain = 1;
	s->noise = 3;
	park(s, SC_CAR, "car parks in the rain", 0.3 + jit(s, 0.3),
	     25 + jit(s, 2), ts, tg);
	through(s, SC_CAR, -0.8, ts + 20, -1, 6);
}

static void outside_lane(struct sc_scene *s, int quick)
{
	double D = quick ? 10 : 15, tb = 12 + jit(s, 1);
	double tg = tb + D + (quick ? 10 : 25);

	s->dwell = D;
	s->duration = tg + 12;
	need_bays(s);
	sc_zone_set(s, "lane-a", -s->lay.hw, s->lay.hw, 20, 36);
	sc_zone_set(s, "lane-b", -s->lay.hw, s->lay.hw, 40, 62);
	/* in the bay, one wheel's width over the yellow line: 0.1 m of its
	 * width, about 0.05 of its footprint, inside the lane */
	park(s, SC_CAR, "car parks in the bay over the line", s->lay.bay0 + 0.8,
	     28, 6 + jit(s, 1), SC_FOREVER);
	park(s, SC_CAR, "car parks in the far lane section", -0.2 + jit(s, 0.3),
	     50 + jit(s, 1), tb, tg);
}

static void crowd_then_car(struct sc_scene *s, int quick)
{
	double D = quick ? 10 : 15, tc = quick ? 16 : 30, tp;
	int i, n = quick ? 6 : 9;

	s->dwell = D;
	tp = tc + 6;
	s->duration = tp + D + (quick ? 10 : 25);
	for (i = 0; i < n; i++) {
		struct sc_actor *p = person_at(s, sc_rng_range(&s->rng, 0, 4),
					       i & 1 ? s->lay.walk_l - 0.5
						     : s->lay.walk_r,
					       sc_rng_range(&s->rng, 22, 40));
		double t;

		if (!p)
			continue;
		t = p->key[p->nkey - 1].t;
		/* mill about: short walks, pauses under three seconds */
		while (t < tc && p->nkey < SC_MAX_KEYS - 4) {
			t = sc_walk_to(p, sc_rng_range(&s->rng, -1.8, 1.8),
				       sc_rng_range(&s->rng, 22, 42),
				       sc_rng_range(&s->rng, 0.7, 1.4));
			sc_traj_hold(p, t + sc_rng_range(&s->rng, 0.4, 2.5));
		}
		sc_walk_to(p, i & 1 ? s->lay.walk_l - 0.5 : s->lay.walk_r,
			   sc_rng_range(&s->rng, 30, 45), 1.3);
		sc_walk_to(p, i & 1 ? s->lay.walk_l - 0.5 : s->lay.walk_r, -4,
			   1.3);
	}
	park(s, SC_CAR, "car parks after the crowd", 0.3 + jit(s, 0.3),
	     30 + jit(s, 2), tp, SC_FOREVER);
}

static void slow_truck(struct sc_scene *s, int quick)
{
	struct sc_actor *a;

	s->dwell = quick ? 10 : 15;
	s->duration = quick ? 40 : 60;
	a = through(s, SC_TRUCK, 0.1, 2, 1, 1.3 + jit(s, 0.1));
	if (a)
		snprintf(a->what, sizeof(a->what), "truck crawling through");
	pavement_walker(s, 4, 1);
}

static void dusk(struct sc_scene *s, int quick)
{
	s->dwell = quick ? 10 : 15;
	s->duration = quick ? 42 : 70;
	s->dusk = 0.6;
	s->noise = 3;
	park(s, SC_CAR, "car parks as dusk falls", 0.3 + jit(s, 0.3),
	     28 + jit(s, 2), 8 + jit(s, 1), SC_FOREVER);
	pavement_walker(s, 20, 0);
}

static void tricycle(struct sc_scene *s, int quick)
{
	double D = quick ? 10 : 15, ti = 8 + jit(s, 1);
	double tg = ti + D + (quick ? 10 : 25);

	s->dwell = D;
	s->duration = tg + 14;
	pushed_in(s, SC_TRICYCLE, "cargo tricycle with goods",
		  0.3 + jit(s, 0.3), 31 + jit(s, 2), ti, tg);
}

static void grey_far(struct sc_scene *s, int quick)
{
	struct sc_actor *a;

	s->dwell = quick ? 10 : 15;
	s->duration = quick ? 40 : 60;
	a = park(s, SC_CAR, "asphalt-grey car parks far down the lane",
		 -0.4 + jit(s, 0.3), 42 + jit(s, 1), 10 + jit(s, 1),
		 SC_FOREVER);
	if (a)
		sc_grey_body(a, &s->rng);
	through(s, SC_CAR, 0.9, 3, 1, 7);
}

/* ---- start-up with traffic in the lane (analysis begins mid-traffic) ---- */

/* Life in the background of the start-up scenes: walkers, cross traffic,
 * a car through the lane later. */
static void startup_life(struct sc_scene *s, double t0)
{
	pavement_walker(s, t0, 1);
	cross(s, SC_CAR, t0 + 6, 1, 8);
	through(s, SC_CAR, -0.6, t0 + 16, -1, 7);
}

static void startup_traffic(struct sc_scene *s, int quick)
{
	s->dwell = quick ? 10 : 15;
	s->duration = quick ? 40 : 60;
	/* at frame 0 a car is in the lane driving away, another coming */
	moving_at_start(s, SC_CAR, 0.3 + jit(s, 0.3), 27 + jit(s, 3), 1,
			sc_rng_range(&s->rng, 3.5, 5.5));
	moving_at_start(s, SC_VAN, -0.5 + jit(s, 0.2), 44 + jit(s, 3), -1,
			sc_rng_range(&s->rng, 4, 6));
	startup_life(s, 4);
}

static void startup_rain(struct sc_scene *s, int quick)
{
	s->dwell = quick ? 10 : 15;
	s->duration = quick ? 40 : 60;
	s->rain = 1;
	s->noise = 3;
	moving_at_start(s, SC_VAN, 0.2 + jit(s, 0.3), 32 + jit(s, 3), -1,
			sc_rng_range(&s->rng, 3, 5));
	startup_life(s, 5);
}

static void startup_night(struct sc_scene *s, int quick)
{
	s->dwell = quick ? 10 : 15;
	s->duration = quick ? 40 : 60;
	s->night = 1;
	s->noise = 4.5;
	/* head-lights on, crawling: a long sweep of light at start-up */
	moving_at_start(s, SC_CAR, 0.3 + jit(s, 0.3), 24 + jit(s, 2), 1,
			sc_rng_range(&s->rng, 3, 4.5));
	startup_life(s, 6);
}

static void startup_crowd(struct sc_scene *s, int quick)
{
	double tc = quick ? 20 : 30;
	int i, n = quick ? 6 : 8;

	s->dwell = quick ? 10 : 15;
	s->duration = quick ? 40 : 60;
	for (i = 0; i < n; i++) {
		struct sc_actor *p = person(s, 0, jit(s, 1.6),
					    sc_rng_range(&s->rng, 22, 42));
		double t = 0;

		if (!p)
			continue;
		while (t < tc && p->nkey < SC_MAX_KEYS - 4) {
			t = sc_walk_to(p, jit(s, 1.7),
				       sc_rng_range(&s->rng, 22, 42),
				       sc_rng_range(&s->rng, 0.7, 1.4));
			sc_traj_hold(p, t + sc_rng_range(&s->rng, 0.4, 2.5));
		}
		sc_walk_to(p, i & 1 ? s->lay.walk_l : s->lay.walk_r,
			   sc_rng_range(&s->rng, 30, 45), 1.3);
		sc_walk_to(p, i & 1 ? s->lay.walk_l : s->lay.walk_r, 200, 1.3);
	}
	/* a car edging through the people at walking pace */
	moving_at_start(s, SC_CAR, 0.2 + jit(s, 0.3), 26 + jit(s, 2), 1,
			sc_rng_range(&s->rng, 1.8, 2.6));
}

static void startup_trucks(struct sc_scene *s, int quick)
{
	double D = quick ? 10 : 15, ts = 14 + jit(s, 1);
	struct sc_actor *a;

	s->dwell = D;
	s->duration = ts + D + (quick ? 14 : 30);
	/* a truck crawling down the lane and one on the cross road at frame
	 * 0; a car parks once they are gone */
	a = moving_at_start(s, SC_TRUCK, 0.1 + jit(s, 0.2), 30 + jit(s, 3), 1,
			    sc_rng_range(&s->rng, 2.5, 3.5));
	if (a)
		snprintf(a->what, sizeof(a->what),
			 "truck in the lane at start");
	cross(s, SC_TRUCK, -6 + jit(s, 1), 1, sc_rng_range(&s->rng, 2, 3));
	cross(s, SC_TRUCK, 6 + jit(s, 1), -1, sc_rng_range(&s->rng, 2, 3));
	park(s, SC_CAR, "car parks after the trucks", 0.3 + jit(s, 0.3),
	     27 + jit(s, 2), ts, SC_FOREVER);
}

/* ---- a busy driving road beside the fire lane ---- */

static void busy_road(struct sc_scene *s, int quick)
{
	double D = quick ? 10 : 15, ts = 9 + jit(s, 1);

	s->dwell = D;
	s->duration = quick ? 42 : 70;
	need_road(s);
	road_zones(s);
	road_traffic(s, -8, s->duration, 1.5, 5);
	park(s, SC_CAR, "car parks in the fire lane beside the road",
	     -0.2 + jit(s, 0.3), 27 + jit(s, 2), ts, SC_FOREVER);
	pavement_walker(s, 3, 1);
}

/*
 * Night: a car parked in the fire lane while the road beside it carries
 * traffic whose head-lights pool on the road and sweep the lane, and cars
 * drive past it in the lane itself.
 */
static void night_road(struct sc_scene *s, int quick)
{
	double D = quick ? 10 : 15, ts = 8 + jit(s, 1);
	double tg = ts + D + (quick ? 10 : 28), t;

	s->dwell = D;
	s->duration = tg + 12;
	s->night = 1;
	s->noise = 4.5;
	need_road(s);
	road_zones(s);
	road_traffic(s, -8, s->duration, 2, 6);
	park(s, SC_CAR, "car parks at night beside the road", -s->lay.hw + 1.1,
	     28 + jit(s, 2), ts, tg);
	for (t = ts + 4; t < tg - 4; t += sc_rng_range(&s->rng, 7, 11))
		through(s, SC_CAR, fmin(0.9, s->lay.hw - 0.95), t, -1,
			sc_rng_range(&s->rng, 5, 8));
}

/* ---- IR night and the day/night switch ---- */

static void ir_night(struct sc_scene *s, int quick)
{
	double D = quick ? 10 : 15, ts = 8 + jit(s, 1);
	double tg = ts + D + (quick ? 10 : 26), t;
	struct sc_actor *p;
	int i = 0;

	s->dwell = D;
	s->duration = tg + 12;
	s->night = 1;
	s->ir = 1;
	s->noise = 4.5;
	park(s, SC_CAR, "car parks in the IR night", 0.2 + jit(s, 0.3),
	     27 + jit(s, 2), ts, tg);
	for (t = 3; t < s->duration - 6; t += sc_rng_range(&s->rng, 6, 10)) {
		if (i++ % 2)
			cross(s, SC_CAR, t, i % 4 ? 1 : -1,
			      sc_rng_range(&s->rng, 6, 9));
		else
			through(s, SC_CAR, -fmin(0.9, s->lay.hw - 0.95), t, -1,
				sc_rng_range(&s->rng, 5, 8));
	}
	p = person_at(s, ts + 4, s->lay.walk_l, 22);
	if (p) {
		sc_walk_to(p, -1.4, 25, 1.2);
		sc_walk_to(p, -1.4, 38, 1.2);
		sc_walk_to(p, s->lay.walk_l, 42, 1.2);
		sc_walk_to(p, s->lay.walk_l, 200, 1.2);
	}
	pavement_walker(s, 2, 1);
}

/*
 * Dusk: the camera switches to IR (grey, illuminator on, exposure jumps)
 * while a car stands in the lane, and back to colour before it leaves.
 */
static void daynight_car(struct sc_scene *s, int quick)
{
	double D = quick ? 10 : 15, ts = 8 + jit(s, 1);
	double off = ts + D + (quick ? 8 : 16), tg = off + (quick ? 8 : 12);

	s->dwell = D;
	s->duration = tg + 12;
	s->dusk = 0.45;
	s->noise = 3;
	s->ir_on = ts + D / 2 + jit(s, 1);
	s->ir_off = off;
	s->ir_gain = sc_rng_range(&s->rng, 1.3, 1.5);
	park(s, SC_CAR, "car stands while the camera switches day/night",
	     0.3 + jit(s, 0.3), 28 + jit(s, 2), ts, tg);
	pavement_walker(s, 4, 1);
	cross(s, SC_CAR, s->ir_off + 3, -1, 7);
}

static void daynight_empty(struct sc_scene *s, int quick)
{
	s->dwell = quick ? 10 : 15;
	s->duration = quick ? 42 : 62;
	s->dusk = 0.45;
	s->noise = 3;
	s->ir_on = (quick ? 12 : 16) + jit(s, 1);
	s->ir_off = (quick ? 30 : 44) + jit(s, 1);
	s->ir_gain = sc_rng_range(&s->rng, 0.7, 1.5);
	pavement_walker(s, 2, 1);
	pavement_walker(s, 9, 0);
	through(s, SC_CAR, 0.6, 6, 1, 7);
	cross(s, SC_VAN, s->ir_on + 4, 1, 6);
	through(s, SC_CAR, -0.6, s->ir_off + 3, -1, 6);
}

/* ---- partial overlap at the lane's left edge ---- */

/*
 * A car parked along the left edge with `in` of its width inside the lane
 * and the rest over the kerb on the footway (two wheels up).
 */
static void kerb_park(struct sc_scene *s, int quick, double in,
		      const char *what)
{
	double D = quick ? 10 : 15, ts = 8 + jit(s, 1);
	struct sc_actor *a;

	s->dwell = D;
	s->duration = quick ? 40 : 60;
	a = sc_add(s, SC_CAR, what);
	if (a)
		sc_drive_park(a, -s->lay.hw - (0.5 - in) * a->wid, NEAR_Z,
			      -s->lay.hw - (0.5 - in) * a->wid, 27 + jit(s, 2),
			      0, FAR_Z, ts, SC_FOREVER, 5.5);
	through(s, SC_CAR, fmin(0.8, s->lay.hw - 0.95), ts + 12, -1, 6);
	pavement_walker(s, 20, 0);
}

static void kerb_tenth(struct sc_scene *s, int quick)
{
	kerb_park(s, quick, 0.1 + jit(s, 0.03),
		  "car parks on the footway, a tenth in the lane");
}

static void kerb_half(struct sc_scene *s, int quick)
{
	kerb_park(s, quick, 0.6 + jit(s, 0.05),
		  "car parks with two wheels up, mostly in the lane");
}

/* ---- far end under moving cloud shade ---- */

static void far_zones(struct sc_scene *s)
{
	s->clouds = 1;
	s->cloud_dark = 0.6;
	s->drift = 0.12;
	sc_zone_set(s, "lane-a", -s->lay.hw, s->lay.hw, 20, 46);
	sc_zone_set(s, "lane-b", -s->lay.hw, s->lay.hw, 52, 80);
}

static void far_shade(struct sc_scene *s, int quick)
{
	s->dwell = quick ? 10 : 15;
	s->duration = quick ? 42 : 65;
	far_zones(s);
	pavement_walker(s, 3, 1);
	through(s, SC_CAR, 0.5, 10, 1, 7);
}

static void far_small(struct sc_scene *s, int quick)
{
	double ti = 8 + jit(s, 1), x = -0.3 + jit(s, 0.3), z = 64 + jit(s, 3);
	double t0;
	struct sc_actor *o, *p;

	s->dwell = quick ? 10 : 15;
	s->duration = quick ? 42 : 65;
	far_zones(s);
	/* boxes carried down the right footway from afar, set down in the
	 * far section, the carrier walks on */
	o = sc_add(s, SC_BOXES, "boxes left far down the lane");
	t0 = ti - (200 - z + fabs(s->lay.walk_r - x)) / 1.1;
	if (o) {
		sc_traj_begin(o, t0, s->lay.walk_r, 200);
		sc_walk_to(o, s->lay.walk_r, z, 1.1);
		sc_walk_to(o, x, z, 1.1);
		sc_traj_hold(o, SC_FOREVER);
	}
	p = person(s, t0, s->lay.walk_r + 0.4, 200.9);
	if (p) {
		sc_walk_to(p, s->lay.walk_r + 0.4, z + 0.9, 1.1);
		sc_walk_to(p, x + 0.6, z + 0.9, 1.1);
		sc_traj_hold(p, ti + 2);
		sc_walk_to(p, s->lay.walk_r, z - 3, 1.3);
		sc_walk_to(p, s->lay.walk_r, -4, 1.3);
	}
	pavement_walker(s, 3, 1);
}

/* ---- things at rest at t = 0 that no detector model names ---- */

static void at_rest(struct sc_scene *s, int quick)
{
	double D = quick ? 10 : 15, tg = D + (quick ? 14 : 26);
	double xe = -s->lay.hw + 0.5, ze = 38 + jit(s, 2);
	struct sc_actor *o, *p;

	s->dwell = D;
	s->duration = tg + 14;
	o = sc_add(s, SC_BOXES, "boxes standing since before the clip");
	if (o) {
		sc_traj_begin(o, 0, -s->lay.hw + 0.9 + jit(s, 0.1),
			      25 + jit(s, 2));
		sc_traj_hold(o, SC_FOREVER);
	}
	/* an e-bike parked along the lane's left edge, taken away later */
	o = sc_add(s, SC_EBIKE, "e-bike standing since before the clip");
	if (o) {
		sc_traj_begin(o, 0, xe, ze);
		sc_traj_hold(o, tg);
		sc_walk_to(o, xe, 220, 1.3);
	}
	p = person_at(s, tg - 1, xe + 0.5, ze - 0.3);
	if (p) {
		sc_traj_hold(p, tg);
		sc_walk_to(p, xe + 0.5, 220, 1.3);
	}
	through(s, SC_CAR, fmin(0.9, s->lay.hw - 0.95), 5, 1, 6);
	pavement_walker(s, 2, 1);
	p = person_at(s, 12, 0.8, 22);
	if (p)
		sc_walk_to(p, 0.8, 200, 1.3);
}

/*
 * A car parks at the lane's mouth, its back to the camera some 13 m away,
 * so that its plate is large enough to read at 1920x1080 (the plate-reading
 * test draws it with --plate-image and --classic); zone lane-a is that
 * stretch (12.5-22 m).
 */
static void plate_near(struct sc_scene *s, int quick)
{
	double D = quick ? 10 : 15, ts = 6, tg = ts + D + (quick ? 16 : 30);

	s->dwell = D;
	s->duration = tg + 6;
	sc_zone_set(s, "lane-a", -s->lay.hw, s->lay.hw, 12.5, 22);
	park(s, SC_CAR, "car parks near the camera", 0, 15.5, ts, tg);
}

/* ---- long negatives for the bench: hours with no obstruction ---- */

/*
 * What happens in a residential lane when nobody parks in it, for the
 * whole clip: cars and vans through the lane both ways (one in the lane at
 * frame 0), cross traffic, walkers, people who stop to talk in the lane,
 * e-bikes ridden through, and drop-offs that stop 4-9 s (far below the
 * dwell). Dwell 30 s.
 */
static void long_life(struct sc_scene *s, double busy)
{
	double t;
	int i = 0;

	s->dwell = 30;
	s->duration = 900;
	moving_at_start(s, SC_CAR, 0.3 + jit(s, 0.3), 30 + jit(s, 4), 1, 4.5);
	for (t = 5; t < s->duration - 20;
	     t += sc_rng_range(&s->rng, 12, 40) / busy) {
		int dir = (i++ & 1) ? -1 : 1;
		double u = sc_rng_unit(&s->rng);

		if (u < 0.12) {
			/* a drop-off: stops a few seconds, drives on */
			park(s, SC_CAR, "drop-off", 0.2 + jit(s, 0.4),
			     26 + jit(s, 6), t + 6,
			     t + 6 + sc_rng_range(&s->rng, 4, 9));
		} else {
			through(s, u < 0.8 ? SC_CAR : SC_VAN,
				dir * 0.7 + jit(s, 0.2), t, dir,
				sc_rng_range(&s->rng, 3, 8));
		}
	}
	for (t = 8; t < s->duration - 20;
	     t += sc_rng_range(&s->rng, 15, 45) / busy)
		cross(s, sc_rng_unit(&s->rng) < 0.85 ? SC_CAR : SC_TRUCK, t,
		      sc_rng_unit(&s->rng) < 0.5 ? 1 : -1,
		      sc_rng_range(&s->rng, 5, 10));
	for (t = 2; t < s->duration - 20;
	     t += sc_rng_range(&s->rng, 20, 50) / busy)
		pavement_walker(s, t, sc_rng_unit(&s->rng) < 0.5);
	for (t = 30; t < s->duration - 60;
	     t += sc_rng_range(&s->rng, 90, 200)) {
		/* two neighbours stop in the lane to talk, 20-60 s */
		struct sc_actor *p = person_at(s, t, jit(s, 1.0),
					       26 + jit(s, 4));
		double stay = sc_rng_range(&s->rng, 20, 60);

		if (p) {
			p->sway = 0.04;
			sc_traj_hold(p, t + stay);
			sc_walk_to(p, s->lay.walk_l, 40, 1.2);
			sc_walk_to(p, s->lay.walk_l, 220, 1.2);
		}
		p = person(s, t - 30, s->lay.walk_r, 200);
		if (p) {
			p->sway = 0.03;
			sc_walk_to(p, s->lay.walk_r, 28, 1.2);
			sc_walk_to(p, 0.6, 26.5, 1.2);
			sc_traj_hold(p, t + stay);
			sc_walk_to(p, s->lay.walk_r, 22, 1.2);
			sc_walk_to(p, s->lay.walk_r, -4, 1.2);
		}
	}
	for (t = 40; t < s->duration - 30;
	     t += sc_rng_range(&s->rng, 60, 150)) {
		struct sc_actor *a = sc_add(s, SC_EBIKE,
					    "e-bike ridden through");

		if (a)
			sc_drive_through(a, -0.9 + jit(s, 0.3), NEAR_Z, -0.9,
					 FAR_Z, t, sc_rng_range(&s->rng, 4, 7));
	}
}

static void long_day(struct sc_scene *s, int quick)
{
	(void)quick;
	long_life(s, 1.0);
}

static void long_rain(struct sc_scene *s, int quick)
{
	(void)quick;
	s->rain = 1;
	s->noise = 3;
	long_life(s, 0.8);
}

static void long_night(struct sc_scene *s, int quick)
{
	(void)quick;
	s->night = 1;
	s->noise = 4.5;
	long_life(s, 0.8);
}

static void long_ir(struct sc_scene *s, int quick)
{
	(void)quick;
	s->night = 1;
	s->ir = 1;
	s->noise = 4.5;
	long_life(s, 0.7);
}

static void long_daynight(struct sc_scene *s, int quick)
{
	(void)quick;
	s->dusk = 0.45;
	s->noise = 3;
	long_life(s, 1.0);
	/* switch to IR after a third, back after two thirds */
	s->ir_on = 300 + jit(s, 20);
	s->ir_off = 600 + jit(s, 20);
	s->ir_gain = 1.4;
}

static void long_road(struct sc_scene *s, int quick)
{
	(void)quick;
	need_road(s);
	long_life(s, 0.8);
	road_zones(s);
	road_traffic(s, -8, s->duration, 2, 7);
}

static void long_clouds(struct sc_scene *s, int quick)
{
	(void)quick;
	long_life(s, 1.0);
	far_zones(s);
}

static void long_night_road(struct sc_scene *s, int quick)
{
	(void)quick;
	s->night = 1;
	s->noise = 4.5;
	need_road(s);
	long_life(s, 0.6);
	road_zones(s);
	road_traffic(s, -8, s->duration, 3, 9);
}

/* name, description, script, reference (1: write a clear-lane picture) */
const struct sc_scenario sc_scenarios[] = {
	{ "plate_near", "a car parks near the camera, its plate readable",
	  plate_near, 0, SC_SET_FIXTURE, "plate" },
	{ "park_leave", "a car drives in, parks well past dwell, leaves",
	  park_leave, 0, SC_SET_SUITE, "baseline" },
	{ "pass_through", "cars drive through without stopping (no alarm)",
	  pass_through, 0, SC_SET_SUITE, "traffic" },
	{ "short_stop",
	  "a car stops for about dwell/2, then traffic "
	  "(no alarm)",
	  short_stop, 0, SC_SET_SUITE, "short-stop" },
	{ "two_in_turn",
	  "car A parks and leaves, car B parks at the same "
	  "spot 6 s later and stays",
	  two_in_turn, 0, SC_SET_SUITE, "baseline" },
	{ "present_from_start",
	  "a van stands in the lane from frame 0 to "
	  "the end",
	  present_from_start, 1, SC_SET_SUITE, "at-rest-at-start" },
	{ "ebike", "an e-bike is pushed in, parked, later taken away", ebike, 0,
	  SC_SET_SUITE, "not-a-vehicle" },
	{ "boxes", "a person pushes in a pile of boxes and leaves it", boxes, 0,
	  SC_SET_SUITE, "not-a-vehicle" },
	{ "pedestrian_linger",
	  "people walk in, one stands well past dwell "
	  "(no alarm)",
	  pedestrian_linger, 0, SC_SET_SUITE, "people" },
	{ "clouds",
	  "a car parks while cloud shadows sweep and exposure "
	  "drifts 30%",
	  clouds, 0, SC_SET_SUITE, "light" },
	{ "night_headlights",
	  "night: a car parks, passing headlights sweep "
	  "the lane",
	  night_headlights, 0, SC_SET_SUITE, "night-headlights" },
	{ "truck_occlusion",
	  "a car parks, trucks pass in front hiding it "
	  "3-7 s each",
	  truck_occlusion, 0, SC_SET_SUITE, "occlusion" },
	{ "camera_shake",
	  "a car parks and leaves while the camera jitters "
	  "1-3 px",
	  camera_shake, 0, SC_SET_SUITE, "shake" },
	{ "rain", "rain streaks and a wet road, a car parks and leaves", rain,
	  0, SC_SET_SUITE, "weather" },
	{ "outside_lane",
	  "a car parks in the bay over the line (lane-a: no "
	  "alarm), another in lane-b",
	  outside_lane, 0, SC_SET_SUITE, "lane-edge" },
	{ "crowd_then_car",
	  "a crowd mills about in the lane, then a car "
	  "parks",
	  crowd_then_car, 0, SC_SET_SUITE, "people" },
	{ "slow_truck", "a truck crawls through at walking pace (no alarm)",
	  slow_truck, 0, SC_SET_SUITE, "traffic" },
	{ "dusk", "a car stays while the light falls by 60%", dusk, 0,
	  SC_SET_SUITE, "light" },
	{ "tricycle",
	  "a cargo tricycle with goods is parked, later taken "
	  "away",
	  tricycle, 0, SC_SET_SUITE, "not-a-vehicle" },
	{ "grey_far",
	  "an asphalt-grey car parks far down the lane, small "
	  "and low contrast",
	  grey_far, 0, SC_SET_SUITE, "far" },
	{ "startup_traffic",
	  "a car and a van drive through the lane at frame "
	  "0, then it stays empty (no alarm)",
	  startup_traffic, 0, SC_SET_SUITE, "startup-traffic" },
	{ "startup_rain",
	  "rain: a van drives through the lane at frame 0 "
	  "(no alarm)",
	  startup_rain, 0, SC_SET_SUITE, "startup-traffic" },
	{ "startup_night",
	  "night: a car with head-lights crawls through the "
	  "lane at frame 0 (no alarm)",
	  startup_night, 0, SC_SET_SUITE, "startup-traffic" },
	{ "startup_crowd",
	  "a crowd in the lane and a car edging through it "
	  "at frame 0 (no alarm)",
	  startup_crowd, 0, SC_SET_SUITE, "startup-traffic" },
	{ "startup_trucks",
	  "trucks pass in and across the lane at frame 0, "
	  "then a car parks",
	  startup_trucks, 0, SC_SET_SUITE, "startup-traffic" },
	{ "busy_road",
	  "a car parks in the fire lane beside a busy road "
	  "(road: no alarm)",
	  busy_road, 0, SC_SET_SUITE, "busy-road" },
	{ "night_road",
	  "night: a car parks beside a road whose head-lights "
	  "pool and sweep",
	  night_road, 0, SC_SET_SUITE, "night-headlights" },
	{ "ir_night",
	  "IR night: grey, bright centre, dark edges; a car parks,"
	  " people and cars pass",
	  ir_night, 0, SC_SET_SUITE, "ir-night" },
	{ "daynight_car",
	  "the camera switches to IR and back while a car "
	  "stands in the lane",
	  daynight_car, 0, SC_SET_SUITE, "day-night-switch" },
	{ "daynight_empty",
	  "the camera switches to IR and back over an empty"
	  " lane (no alarm)",
	  daynight_empty, 0, SC_SET_SUITE, "day-night-switch" },
	{ "kerb_tenth",
	  "a car parks on the footway, a tenth of its width in "
	  "the lane (no alarm)",
	  kerb_tenth, 0, SC_SET_SUITE, "lane-edge" },
	{ "kerb_half",
	  "a car parks with two wheels up, 0.6 of its width in "
	  "the lane",
	  kerb_half, 0, SC_SET_SUITE, "lane-edge" },
	{ "far_shade",
	  "cloud shade moves over an empty far lane section "
	  "(no alarm)",
	  far_shade, 0, SC_SET_SUITE, "far-shade" },
	{ "far_small",
	  "cloud shade, and a pile of boxes set down far down "
	  "the lane",
	  far_small, 0, SC_SET_SUITE, "far-shade" },
	{ "at_rest_ref",
	  "boxes and an e-bike at rest from frame 0, with a "
	  "clear-lane reference",
	  at_rest, 1, SC_SET_SUITE, "at-rest-at-start" },
	{ "at_rest_noref",
	  "boxes and an e-bike at rest from frame 0, no "
	  "reference",
	  at_rest, 0, SC_SET_SUITE, "at-rest-at-start" },
	{ "long_day", "15 min of a day's traffic and people, nothing parks",
	  long_day, 0, SC_SET_LONG, "long-negative" },
	{ "long_rain", "15 min of rain and traffic, nothing parks", long_rain,
	  0, SC_SET_LONG, "long-negative" },
	{ "long_night",
	  "15 min of night traffic with head-lights, nothing "
	  "parks",
	  long_night, 0, SC_SET_LONG, "long-negative" },
	{ "long_ir", "15 min of IR night, nothing parks", long_ir, 0,
	  SC_SET_LONG, "long-negative" },
	{ "long_daynight",
	  "15 min at dusk with the day/night switch twice, "
	  "nothing parks",
	  long_daynight, 0, SC_SET_LONG, "long-negative" },
	{ "long_road", "15 min beside a busy road, nothing parks", long_road, 0,
	  SC_SET_LONG, "long-negative" },
	{ "long_clouds",
	  "15 min of cloud shade over near and far sections, "
	  "nothing parks",
	  long_clouds, 0, SC_SET_LONG, "long-negative" },
	{ "long_night_road",
	  "15 min of night beside a busy road, nothing "
	  "parks",
	  long_night_road, 0, SC_SET_LONG, "long-negative" },
};

const size_t sc_nscenarios = FL_ARRAY_SIZE(sc_scenarios);
