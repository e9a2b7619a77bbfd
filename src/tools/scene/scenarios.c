/*
 * scenarios.c - the scenario table: one script per scene.
 *
 * A script sets the scene's length, dwell, nuisances and zones, and places
 * actors with trajectory builders. It never writes ground truth: main.c
 * derives that from the trajectories. Timelines are written relative to the
 * dwell D, so the short variant (--quick: D = 10 and shorter margins) keeps
 * the same story in 40-50 s of video.
 *
 * Layout of the world (metres): the fire lane runs along Z between yellow
 * lines at X = +-2, kerbs at X = -2.6 and 5.0; parking bays (outside the
 * lane) between X = 2.6 and 5.0; a cross road near the camera at Z 13.5-19.5;
 * the default zone lane-a is X -2..2, Z 20..46. Vehicles enter from behind
 * the camera (Z = 4, driving away) or from far down the lane, and leave
 * past Z = 250, where they are a pixel or two.
 *
 * Seeds vary colours, sizes and, within a few tenths of a metre and a
 * second, where and when things happen; the story of each scenario does not
 * change with the seed, so its expectations (alarm or none) hold for all.
 */
#include "scene.h"

#include "fl.h"

#include <math.h>
#include <stdio.h>

#define NEAR_Z 4.0
#define FAR_Z 250.0
#define CROSS_Z_POS 17.0 /* cross-road lane driving towards +X */
#define CROSS_Z_NEG 15.2 /* cross-road lane driving towards -X */

static double jit(struct sc_scene *s, double a)
{
	return sc_rng_range(&s->rng, -a, a);
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

/* A vehicle driving through the lane without stopping: dir +1 away from the
 * camera, -1 towards it. */
static struct sc_actor *through(struct sc_scene *s, enum sc_kind kind, double x,
				double t0, int dir, double v)
{
	struct sc_actor *a = sc_add(s, kind, "passing vehicle");

	if (!a)
		return NULL;
	a->facing = dir;
	if (dir > 0)
		sc_drive_through(a, x, NEAR_Z, x, FAR_Z, t0, v);
	else
		sc_drive_through(a, x, 160, x, 2.0, t0, v);
	return a;
}

/* Cross-road traffic near the camera, long side across the lane. */
static struct sc_actor *cross(struct sc_scene *s, enum sc_kind kind, double t0,
			      int dir, double v)
{
	struct sc_actor *a = sc_add(s, kind, "cross traffic");
	double z = dir > 0 ? CROSS_Z_POS : CROSS_Z_NEG;

	if (!a)
		return NULL;
	a->axis = 1;
	a->facing = dir;
	sc_drive_through(a, -24.0 * dir, z, 24.0 * dir, z, t0, v);
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
 * A person who walks in from below the frame (Z = 6, off-screen) along X = x
 * and is at (x, z) at time t; the walk may start before the clip does, so
 * nobody pops into view. Extend with sc_walk_to().
 */
static struct sc_actor *person_at(struct sc_scene *s, double t, double x,
				  double z)
{
	double v = sc_rng_range(&s->rng, 1.1, 1.5);
	struct sc_actor *p = person(s, t - (z - 6.0) / v, x, 6.0);

	if (p)
		sc_walk_to(p, x, z, v);
	return p;
}

/* Someone walking along the left pavement, for life in the background:
 * away from the camera into the distance, or from the distance towards it
 * and out below the frame. */
static void pavement_walker(struct sc_scene *s, double t, int away)
{
	struct sc_actor *p = person(s, t, -4.0 + jit(s, 0.4),
				    away ? 6.0 : 200.0);

	if (p)
		sc_walk_to(p, -4.0 + jit(s, 0.4), away ? 200.0 : 5.0,
			   sc_rng_range(&s->rng, 1.1, 1.5));
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
	p = person_at(s, 4, -4, 24);
	if (p) {
		sc_walk_to(p, -1.5, 26, 1.3);
		sc_walk_to(p, -1.5, 40, 1.3);
		sc_walk_to(p, -4, 44, 1.3);
		sc_walk_to(p, -4, 220, 1.3);
	}
	cross(s, SC_CAR, 10, 1, 8);
	cross(s, SC_VAN, 22, -1, 6);
	pavement_walker(s, 14, 0);
}

/*
 * An object pushed in by a person walking beside it, from a passage between
 * the buildings on the left (off-screen at X = -15.5) to (x, z), arriving at
 * t_in; it stays until t_go, when someone comes and takes it back the same
 * way (t_go SC_FOREVER: it stays).
 */
static void pushed_in(struct sc_scene *s, enum sc_kind kind, const char *what,
		      double x, double z, double t_in, double t_go)
{
	const double x_from = -15.5, v = 1.1;
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
	p = person_at(s, 1, -4.2, 27);
	if (p) {
		p->sway = 0.04;
		t = sc_walk_to(p, 0.2 + jit(s, 0.3), 29 + jit(s, 1), 1.2);
		tl = t + D + (quick ? 14 : 22);
		sc_traj_hold(p, tl);
		sc_walk_to(p, 1.5, 45, 1.2);
		sc_walk_to(p, -4, 60, 1.2);
		sc_walk_to(p, -4, 220, 1.2);
	}
	/* a friend joins for a while, standing still too */
	p = person_at(s, 8, 6.5, 34);
	if (p) {
		p->sway = 0.03;
		t = sc_walk_to(p, 1.0, 29.5, 1.1);
		sc_traj_hold(p, t + 9);
		sc_walk_to(p, 6.5, 22, 1.1);
		sc_walk_to(p, 6.5, 5, 1.1);
	}
	for (t = 3; t < s->duration - 12; t += 9) {
		p = person(s, t, -1.2 + jit(s, 0.5), 6);
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
	park(s, SC_CAR, "car parks at night", 1.0, 29 + jit(s, 2), ts, tg);
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
	sc_zone_set(s, "lane-a", -2.0, 2.0, 20, 36);
	sc_zone_set(s, "lane-b", -2.0, 2.0, 40, 62);
	/* in the bay, one wheel's width over the yellow line */
	park(s, SC_CAR, "car parks in the bay over the line", 2.8, 28,
	     6 + jit(s, 1), SC_FOREVER);
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
					       i & 1 ? -4.5 : 6.5,
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
		sc_walk_to(p, i & 1 ? -4.5 : 6.5, sc_rng_range(&s->rng, 30, 45),
			   1.3);
		sc_walk_to(p, i & 1 ? -4.5 : 6.5, 5, 1.3);
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

/* name, description, script, reference (1: write a clear-lane picture) */
const struct sc_scenario sc_scenarios[] = {
	{ "park_leave", "a car drives in, parks well past dwell, leaves",
	  park_leave, 0 },
	{ "pass_through", "cars drive through without stopping (no alarm)",
	  pass_through, 0 },
	{ "short_stop",
	  "a car stops for about dwell/2, then traffic "
	  "(no alarm)",
	  short_stop, 0 },
	{ "two_in_turn",
	  "car A parks and leaves, car B parks at the same "
	  "spot 6 s later and stays",
	  two_in_turn, 0 },
	{ "present_from_start",
	  "a van stands in the lane from frame 0 to "
	  "the end",
	  present_from_start, 1 },
	{ "ebike", "an e-bike is pushed in, parked, later taken away", ebike,
	  0 },
	{ "boxes", "a person pushes in a pile of boxes and leaves it", boxes,
	  0 },
	{ "pedestrian_linger",
	  "people walk in, one stands well past dwell "
	  "(no alarm)",
	  pedestrian_linger, 0 },
	{ "clouds",
	  "a car parks while cloud shadows sweep and exposure "
	  "drifts 30%",
	  clouds, 0 },
	{ "night_headlights",
	  "night: a car parks, passing headlights sweep "
	  "the lane",
	  night_headlights, 0 },
	{ "truck_occlusion",
	  "a car parks, trucks pass in front hiding it "
	  "3-7 s each",
	  truck_occlusion, 0 },
	{ "camera_shake",
	  "a car parks and leaves while the camera jitters "
	  "1-3 px",
	  camera_shake, 0 },
	{ "rain", "rain streaks and a wet road, a car parks and leaves", rain,
	  0 },
	{ "outside_lane",
	  "a car parks in the bay over the line (lane-a: no "
	  "alarm), another in lane-b",
	  outside_lane, 0 },
	{ "crowd_then_car",
	  "a crowd mills about in the lane, then a car "
	  "parks",
	  crowd_then_car, 0 },
	{ "slow_truck", "a truck crawls through at walking pace (no alarm)",
	  slow_truck, 0 },
	{ "dusk", "a car stays while the light falls by 60%", dusk, 0 },
	{ "tricycle",
	  "a cargo tricycle with goods is parked, later taken "
	  "away",
	  tricycle, 0 },
	{ "grey_far",
	  "an asphalt-grey car parks far down the lane, small "
	  "and low contrast",
	  grey_far, 0 },
};

const size_t sc_nscenarios = FL_ARRAY_SIZE(sc_scenarios);
