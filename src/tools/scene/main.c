/*
 * main.c - firelane-scene: write synthetic fire-lane videos with their
 * ground truth and an edge config, one set per scenario.
 *
 *   firelane-scene --list
 *   firelane-scene --scenario NAME --out DIR [--seed N] [--width W
 *                  --height H] [--fps F] [--quick] [--classic] [-v]
 *   firelane-scene --all --out DIR [--seed N] [--quick] [--jobs N] [-v]
 *   firelane-scene --long --out DIR [--seed N] [--fps F] [--jobs N] [-v]
 *
 * Per scenario it writes DIR/NAME.mp4 (H.264), DIR/NAME.json (ground truth in
 * the EVAL.md format plus "media", "scenario" and "seed") and DIR/NAME.yaml
 * (an edge config with one lane per ground-truth zone). A scenario flagged
 * "reference" in the table (its obstruction is there from frame 0, so the
 * video never shows the lane clear) also gets DIR/NAME_reference.ppm: the
 * clear lane as the camera would have captured it at installation, named by
 * the config's "reference" key.
 *
 * A note on the ground truth: it is not written by hand. After the script has
 * placed the actors, the generator walks every frame of every obstructing
 * actor's trajectory, finds the runs of frames where its coordinates do not
 * change (the renderer draws those frames pixel-identically), and takes a run
 * of at least two seconds as an obstruction of a zone when at least
 * SC_MIN_OVERLAP (0.3) of the actor's ground footprint (the rectangle it
 * covers on the ground) lies inside the zone: the overlap policy of
 * docs/scenes.md, the one the engine's per-lane min_overlap defaults to.
 * Scripts keep their overlaps well away from that bound (at most 0.15 or at
 * least 0.5); a rest between the two is a broken script and the generator
 * refuses it, so the truth never depends on a hair. start_s is the run's
 * first frame, end_s the first frame it moves again (or the clip's end). A
 * zone gets "alarm expected" when it has an obstruction due an alarm
 * (end - start >= dwell + 3), otherwise "must not alarm" and no obstructions.
 *
 * A note on geometry: per seed and scenario the camera's place, height,
 * yaw, pitch and lens and the lane's width and right-hand side are drawn
 * (draw_world), so that the lane sits centred, left or right in the
 * picture, straight or at an angle, near or far; the pitch is chosen to put
 * the zones' middle a little below the picture's centre and the draw is
 * repeated until the zones are fully in view and fill a third of the
 * picture's height, as an installer would aim.
 * Zones are ground rectangles; their image polygons are clipped to the
 * frame (up to 8 points). --classic keeps the first generator's world
 * instead (a 4 m lane with bays, the camera 6 m over its centre line, no
 * second zone): for tests that need a scene to exercise something else
 * (evidence, warnings, health, MQTT, the demo), not a measurement.
 *
 * The program is thin wiring: argv, the scenario table, the frame loop
 * (render -> encode) and the two small text writers.
 */
#include "clock.h"
#include "encode.h"
#include "fl.h"
#include "scene.h"

#include <libavutil/log.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct opts {
	const char *scenario;
	const char *out;
	uint64_t seed;
	int w, h;
	double fps;
	int all, list, quick, verbose, threads, jobs, long_set, classic;
	uint8_t *plate_rgb; /* --plate-image, or NULL */
	int plate_w, plate_h;
};

/* The overlap policy: an object at rest is an obstruction of a zone when at
 * least this fraction of its ground footprint lies inside it; scripts keep
 * clear of (SC_HAIR_LO, SC_HAIR_HI). */
#define SC_MIN_OVERLAP 0.3
#define SC_HAIR_LO 0.15
#define SC_HAIR_HI 0.5
#define SC_ZONE_PTS 8

struct obstruction {
	int zone;
	double start, end;
	int box[4];
	int clip_end;
	const char *what;
};

#define MAX_OBS 64

struct truth {
	long frames;
	double dur;
	int zpts[SC_MAX_ZONES][SC_ZONE_PTS][2];
	int nzpts[SC_MAX_ZONES];
	int hair; /* a rest too close to the overlap bound */
	int nobs;
	struct obstruction obs[MAX_OBS];
	int due[SC_MAX_ZONES];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: firelane-scene --list\n"
		"       firelane-scene --scenario NAME --out DIR [--seed N]\n"
		"                      [--width W --height H] [--fps F] "
		"[--quick] [--classic] [--plate-image FILE.ppm] [-v]\n"
		"       firelane-scene --all --out DIR [--seed N] [--quick] "
		"[--jobs N] [-v]\n"
		"       firelane-scene --long --out DIR [--seed N] [--fps F] "
		"[--jobs N] [-v]\n"
		"Writes DIR/NAME.mp4, DIR/NAME.json (ground truth) and "
		"DIR/NAME.yaml (edge config);\n"
		"scenarios with an obstruction from frame 0 also "
		"DIR/NAME_reference.ppm (clear lane).\n"
		"Defaults: 640x360 at 25 fps, seed 1; --quick: 480x270 and "
		"short variants.\n"
		"--all: the scored suite; --long: the long negative scenes "
		"(default 10 fps).\n"
		"--threads N: x264 threads (default 1); --jobs N: scenarios "
		"generated at once (default 1).\n"
		"--classic: the first generator's camera and lane, not drawn "
		"per seed (test fixtures).\n");
}

static const struct sc_scenario *find_scenario(const char *name)
{
	size_t i;

	for (i = 0; i < sc_nscenarios; i++)
		if (strcmp(sc_scenarios[i].name, name) == 0)
			return &sc_scenarios[i];
	return NULL;
}

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

/* Do all four corners of every zone, and the lane far beyond them, land
 * inside the picture with a margin, do the zones fill at least a third of
 * its height (an installer frames the lane, not the sky), and is the lane
 * still a few pixels wide where the zones end? */
static int zones_in_view(const struct sc_scene *s, const struct sc_cam *c)
{
	double mx = 0.03 * c->w, my = 0.03 * c->h, zfar = 0, px, py, qx, qy;
	double top = c->h, bottom = 0;
	int k, i;

	for (k = 0; k < s->nzone; k++) {
		const struct sc_zone *zn = &s->zone[k];

		zfar = fmax(zfar, zn->z1);
		for (i = 0; i < 4; i++) {
			if (!sc_project(c, i & 1 ? zn->x1 : zn->x0, 0,
					i & 2 ? zn->z1 : zn->z0, &px, &py) ||
			    px < mx || px > c->w - mx || py < my ||
			    py > c->h - my)
				return 0;
			top = fmin(top, py);
			bottom = fmax(bottom, py);
		}
	}
	if (bottom - top < c->h / 3.0)
		return 0;
	/* the lane runs on into the picture, not out of its side */
	for (i = 0; i < 2; i++)
		if (!sc_project(c, i ? s->lay.hw : -s->lay.hw, 0, 120, &px,
				&py) ||
		    px < 0 || px > c->w || py < 0)
			return 0;
	/* at the zones' far end the lane is at least 2.5 % of the width */
	sc_project(c, -s->lay.hw, 0, zfar, &px, &py);
	sc_project(c, s->lay.hw, 0, zfar, &qx, &qy);
	return hypot(qx - px, qy - py) >= 0.025 * c->w;
}

/*
 * Draw the camera for s (see the note on geometry): a pole on the left
 * footway, a bracket over the lane, or a pole on the right verge; 3-9 m up;
 * a lens of 30-70 degrees across (the 4-12 mm lenses of capture devices);
 * turned so that the lane's middle lands in the middle third of the
 * picture (left, centre or right of it) and tilted down so the zones'
 * middle lies at 50-65 % of the height. Draws again
 * until zones_in_view(); after 500 tries (never seen) the default camera.
 */
static void draw_camera(struct sc_scene *s, struct sc_rng *g, int w, int h)
{
	double z0 = 1e9, z1 = 0, zm, ut, vt, d;
	struct sc_cam cam;
	int k, tries, mount;

	for (k = 0; k < s->nzone; k++) {
		z0 = fmin(z0, s->zone[k].z0);
		z1 = fmax(z1, s->zone[k].z1);
	}
	zm = 0.5 * (z0 + z1);
	for (tries = 0; tries < 500; tries++) {
		struct sc_geom *q = &s->geom;

		mount = (int)(sc_rng_unit(g) * 3);
		q->height = sc_rng_range(g, 3.0, 9.0);
		q->focal = 0.5 /
			   tan(0.5 * sc_rng_range(g, 30, 70) * M_PI / 180);
		q->z = 0;
		if (mount == 0) {
			q->x = sc_rng_range(g, -0.5, 0.5);
			ut = 0.5 + sc_rng_range(g, -0.06, 0.06);
		} else {
			q->x = mount == 1 ? s->lay.walk_l +
						    sc_rng_range(g, -0.4, 0.4)
					  : s->lay.edge_r + 0.7;
			ut = sc_rng_range(g, 0.33, 0.67);
		}
		vt = sc_rng_range(g, 0.5, 0.65);
		d = hypot(q->x, zm - q->z);
		q->yaw = atan2(-q->x, zm - q->z) - atan((ut - 0.5) / q->focal);
		q->pitch = atan(q->height / d) -
			   atan((vt - 0.5) * h / (q->focal * w));
		sc_cam_init(&cam, w, h, q);
		if (zones_in_view(s, &cam))
			return;
	}
	sc_geom_classic(&s->geom, w, h);
}

/*
 * Fill s from the scenario's script, with the defaults a script may keep:
 * the lane's width and right-hand side are drawn before the script (which
 * places its actors relative to them, and may ask for bays or a road), the
 * zones after it (lane-a, and on some seeds a far section lane-b that
 * nothing stands in), and the camera last (it aims at the zones).
 */
static void build_scene(struct sc_scene *s, const struct sc_scenario *sc,
			uint64_t seed, int quick, int classic, int w, int h)
{
	struct sc_rng g;

	memset(s, 0, sizeof(*s));
	sc_rng_seed(&s->rng, seed, hash_name(sc->name));
	sc_rng_seed(&g, seed ^ 0x6e0e7279ull, hash_name(sc->name));
	s->duration = 60;
	s->dwell = 15;
	s->noise = 2;
	s->drift = 0.04;
	sc_geom_classic(&s->geom, w, h);
	if (classic)
		sc_layout_set(&s->lay, 2.0, SC_RIGHT_BAYS);
	else
		sc_layout_set(&s->lay, sc_rng_range(&g, 1.75, 3.0),
			      sc_rng_unit(&g) < 0.5 ? SC_RIGHT_BAYS
						    : SC_RIGHT_ROAD);
	sc->script(s, quick);
	/* every clip 40-110 s (long scenes: up to half an hour), whatever the
	 * script's arithmetic gave */
	s->duration = fmin(fmax(s->duration, 40),
			   sc->set == SC_SET_LONG ? 1800 : 110);
	if (s->nzone == 0) {
		sc_zone_set(s, "lane-a", -s->lay.hw, s->lay.hw, 20, 46);
		if (!classic && sc_rng_unit(&g) < 0.4)
			sc_zone_set(s, "lane-b", -s->lay.hw, s->lay.hw, 52, 75);
	}
	if (!classic)
		draw_camera(s, &g, w, h);
}

/* Clip the polygon p[n] to the half-plane a x + b y + c >= 0 into out;
 * returns the new count (at most n + 1). */
static int clip_half(const double (*p)[2], int n, double a, double b, double c,
		     double (*out)[2])
{
	int i, m = 0;

	for (i = 0; i < n; i++) {
		const double *u = p[i], *v = p[(i + 1) % n];
		double du = a * u[0] + b * u[1] + c,
		       dv = a * v[0] + b * v[1] + c;

		if (du >= 0) {
			out[m][0] = u[0];
			out[m++][1] = u[1];
		}
		if ((du >= 0) != (dv >= 0)) {
			double t = du / (du - dv);

			out[m][0] = u[0] + t * (v[0] - u[0]);
			out[m++][1] = u[1] + t * (v[1] - u[1]);
		}
	}
	return m;
}

/*
 * The image polygon of ground rectangle zn: its corners projected (they
 * are in front of the lens: zones_in_view) and the quad clipped to the
 * frame, rounded to pixels, repeated points dropped. Returns the count.
 */
static int zone_polygon(const struct sc_cam *cam, const struct sc_zone *zn,
			int (*pts)[2])
{
	double a[16][2], b[16][2];
	int n = 4, i, m = 0;

	for (i = 0; i < 4; i++)
		sc_project(cam, i == 1 || i == 2 ? zn->x1 : zn->x0, 0,
			   i >= 2 ? zn->z1 : zn->z0, &a[i][0], &a[i][1]);
	n = clip_half((const double(*)[2])a, n, 1, 0, 0, b);
	n = clip_half((const double(*)[2])b, n, -1, 0, cam->w - 1, a);
	n = clip_half((const double(*)[2])a, n, 0, 1, 0, b);
	n = clip_half((const double(*)[2])b, n, 0, -1, cam->h - 1, a);
	for (i = 0; i < n && m < SC_ZONE_PTS; i++) {
		int x = (int)lround(a[i][0]), y = (int)lround(a[i][1]);

		if (m > 0 && pts[m - 1][0] == x && pts[m - 1][1] == y)
			continue;
		pts[m][0] = x;
		pts[m][1] = y;
		m++;
	}
	if (m > 1 && pts[m - 1][0] == pts[0][0] && pts[m - 1][1] == pts[0][1])
		m--;
	return m;
}

/* The fraction of a's ground footprint at (x, z) inside zone zn. */
static double footprint_in(const struct sc_actor *a, double x, double z,
			   const struct sc_zone *zn)
{
	double hx = (a->axis ? a->len : a->wid) / 2;
	double hz = (a->axis ? a->wid : a->len) / 2;
	double ox = fmin(x + hx, zn->x1) - fmax(x - hx, zn->x0);
	double oz = fmin(z + hz, zn->z1) - fmax(z - hz, zn->z0);

	if (ox <= 0 || oz <= 0)
		return 0;
	return ox * oz / (4 * hx * hz);
}

static void add_run(const struct sc_scene *s, const struct sc_cam *cam,
		    struct truth *g, const struct sc_actor *a, double x,
		    double z, long f0, long f1, int clip_end, double fps)
{
	int box[4], k;

	if ((f1 - f0) / fps < 2.0 || sc_actor_bbox(cam, a, x, z, box) <= 0)
		return;
	for (k = 0; k < s->nzone; k++) {
		double frac = footprint_in(a, x, z, &s->zone[k]);
		struct obstruction *o;

		if (frac > SC_HAIR_LO && frac < SC_HAIR_HI) {
			fprintf(stderr,
				"firelane-scene: '%s' rests at "
				"(%.2f, %.2f) with %.2f of its footprint in "
				"%s: too close to the overlap bound %.1f\n",
				a->what, x, z, frac, s->zone[k].name,
				SC_MIN_OVERLAP);
			g->hair = 1;
		}
		if (frac < SC_MIN_OVERLAP)
			continue;
		if (g->nobs >= MAX_OBS)
			return;
		o = &g->obs[g->nobs++];
		o->zone = k;
		o->start = f0 / fps;
		o->end = clip_end ? g->dur : f1 / fps;
		memcpy(o->box, box, sizeof(box));
		o->clip_end = clip_end;
		o->what = a->what;
		if (o->end - o->start >= s->dwell + 3)
			g->due[k]++;
	}
}

/* Derive the ground truth from the trajectories (see the note above). */
static void compute_truth(const struct sc_scene *s, const struct sc_cam *cam,
			  double fps, struct truth *g)
{
	int i, k;

	memset(g, 0, sizeof(*g));
	g->frames = lround(s->duration * fps);
	g->dur = g->frames / fps;
	for (k = 0; k < s->nzone; k++)
		g->nzpts[k] = zone_polygon(cam, &s->zone[k], g->zpts[k]);
	for (i = 0; i < s->nactor; i++) {
		const struct sc_actor *a = &s->actor[i];
		double px = 0, pz = 0, x, z;
		long f, f0 = -1;

		if (!a->obstructs)
			continue;
		for (f = 0; f <= g->frames; f++) {
			int here = f < g->frames &&
				   sc_actor_pos(a, f / fps, &x, &z);

			if (f0 >= 0 && here && x == px && z == pz)
				continue;
			if (f0 >= 0)
				add_run(s, cam, g, a, px, pz, f0, f,
					f == g->frames, fps);
			f0 = here ? f : -1;
			px = x;
			pz = z;
		}
	}
}

static void print_num(FILE *f, double v)
{
	if (v == floor(v) && fabs(v) < 1e9)
		fprintf(f, "%.0f", v);
	else
		fprintf(f, "%.2f", v);
}

/* Zone k's polygon as a JSON/YAML flow list: [[x, y], ...]. */
static void print_points(FILE *f, const struct truth *g, int k)
{
	int c;

	fputc('[', f);
	for (c = 0; c < g->nzpts[k]; c++)
		fprintf(f, "%s[%d, %d]", c ? ", " : "", g->zpts[k][c][0],
			g->zpts[k][c][1]);
	fputc(']', f);
}

static int write_truth(const char *path, const struct sc_scenario *sc,
		       const struct sc_scene *s, const struct sc_cam *cam,
		       double fps, uint64_t seed, const struct truth *g)
{
	const char *name = sc->name;
	FILE *f = fopen(path, "w");
	int k, i, first;

	if (!f)
		return FL_EIO;
	fprintf(f,
		"{\"clip\": \"%s.mp4\", \"media\": \"%s.mp4\", "
		"\"width\": %d, \"height\": %d, \"fps\": ",
		name, name, cam->w, cam->h);
	print_num(f, fps);
	fprintf(f, ", \"frames\": %ld, \"duration_s\": %.2f, \"dwell_s\": ",
		g->frames, g->dur);
	print_num(f, s->dwell);
	fprintf(f, ",\n \"zones\": [");
	for (k = 0; k < s->nzone; k++) {
		fprintf(f, "%s{\"name\": \"%s\", \"points\": ", k ? ", " : "",
			s->zone[k].name);
		print_points(f, g, k);
		fprintf(f, ", \"purpose\": \"%s\"}",
			g->due[k] ? "alarm expected" : "must not alarm");
	}
	fprintf(f, "],\n \"obstructions\": [");
	for (i = 0, first = 1; i < g->nobs; i++) {
		const struct obstruction *o = &g->obs[i];

		if (!g->due[o->zone])
			continue;
		fprintf(f,
			"%s\n  {\"zone\": \"%s\", \"start_s\": %.2f, "
			"\"end_s\": %.2f, \"bbox\": [%d, %d, %d, %d], "
			"\"what\": \"%s\", \"ends_because\": \"%s\"}",
			first ? "" : ",", s->zone[o->zone].name, o->start,
			o->end, o->box[0], o->box[1], o->box[2], o->box[3],
			o->what, o->clip_end ? "clip ends" : "leaves");
		first = 0;
	}
	fprintf(f,
		"%s],\n \"scenario\": \"%s\", \"class\": \"%s\", "
		"\"seed\": %llu,\n \"geometry\": {\"camera_x_m\": %.2f, "
		"\"camera_height_m\": %.2f, \"yaw_deg\": %.1f, "
		"\"pitch_deg\": %.1f, \"hfov_deg\": %.1f, "
		"\"lane_width_m\": %.2f, \"right_side\": \"%s\"}}\n",
		first ? "" : "\n ", name, sc->cls, (unsigned long long)seed,
		s->geom.x, cam->hc, s->geom.yaw * 180 / M_PI,
		s->geom.pitch * 180 / M_PI,
		2 * atan(0.5 / s->geom.focal) * 180 / M_PI, 2 * s->lay.hw,
		s->lay.right == SC_RIGHT_ROAD ? "road" : "bays");
	return fclose(f) ? FL_EIO : 0;
}

static int write_config(const char *path, const char *name,
			const struct sc_scene *s, const struct truth *g,
			int reference)
{
	FILE *f = fopen(path, "w");
	int k;

	if (!f)
		return FL_EIO;
	fprintf(f,
		"device: {id: scene-edge, site: scene-site}\n"
		"cameras:\n"
		"  - id: cam-1\n"
		"    source: %s.mp4\n",
		name);
	if (reference)
		fprintf(f, "    reference: %s_reference.ppm\n", name);
	fprintf(f, "    lanes:\n");
	for (k = 0; k < s->nzone; k++) {
		fprintf(f, "      - id: %s\n        points: ", s->zone[k].name);
		print_points(f, g, k);
		fprintf(f, "\n        dwell_s: ");
		print_num(f, s->dwell);
		fprintf(f, "\n");
	}
	return fclose(f) ? FL_EIO : 0;
}

/*
 * Write the clear-lane reference to path as a binary PPM (P6): the scene
 * without actors, lit as in the first frame, through the same noise and
 * YUV pass as the video but with its own noise (a capture taken at another
 * moment), so a detector cannot match it noise grain for noise grain.
 */
static int write_reference(const char *path, struct sc_render *r)
{
	/* "referenc" in ASCII: any constant gives the reference its own noise */
	const uint64_t noise_seed = r->seed ^ 0x7265666572656e63ull;
	size_t n = (size_t)r->cam.w * r->cam.h * 3;
	uint8_t *rgb = malloc(n);
	FILE *f = NULL;
	int rc = FL_EIO;

	if (!rgb)
		return FL_ENOMEM;
	sc_render_empty(r, 0, noise_seed);
	sc_render_rgb(r, rgb);
	f = fopen(path, "wb");
	if (!f)
		goto out;
	fprintf(f, "P6\n%d %d\n255\n", r->cam.w, r->cam.h);
	if (fwrite(rgb, 1, n, f) != n)
		goto out;
	rc = 0;
out:
	if (f && fclose(f))
		rc = FL_EIO;
	free(rgb);
	return rc;
}

/*
 * Generate one scenario into o->out. Returns 0 or a negative fl_errno with
 * the reason printed to stderr.
 */
static int generate(const struct sc_scenario *sc, const struct opts *o)
{
	static struct sc_scene scene;
	struct sc_render r;
	struct truth g;
	struct sc_cam cam;
	fl_encoder_opts eo = { 0, NULL, o->threads, 0 };
	fl_encoder *enc = NULL;
	char path[4096], err[256] = "";
	double t0 = fl_mono_s();
	long fi;
	int rc;

	build_scene(&scene, sc, o->seed, o->quick, o->classic, o->w, o->h);
	scene.plate_rgb = o->plate_rgb;
	scene.plate_w = o->plate_w;
	scene.plate_h = o->plate_h;
	sc_cam_init(&cam, o->w, o->h, &scene.geom);
	compute_truth(&scene, &cam, o->fps, &g);
	if (g.hair) {
		fprintf(stderr,
			"firelane-scene: %s (seed %llu): a rest between "
			"%.2f and %.2f of a zone: fix the script\n",
			sc->name, (unsigned long long)o->seed, SC_HAIR_LO,
			SC_HAIR_HI);
		return FL_EINVAL;
	}
	rc = sc_render_init(&r, &scene, o->w, o->h,
			    o->seed ^ hash_name(sc->name));
	if (rc) {
		fprintf(stderr, "firelane-scene: %s: %s\n", sc->name,
			fl_strerror(rc));
		return rc;
	}
	snprintf(path, sizeof(path), "%s/%s.mp4", o->out, sc->name);
	enc = fl_encoder_open_opts(path, o->w, o->h, o->fps, &eo, err,
				   sizeof(err));
	if (!enc) {
		fprintf(stderr, "firelane-scene: %s\n", err);
		rc = FL_EIO;
		goto out;
	}
	for (fi = 0; fi < g.frames; fi++) {
		const uint8_t *planes[3];
		int strides[3] = { o->w, o->w / 2, o->w / 2 };

		sc_render_frame(&r, fi, fi / o->fps);
		planes[0] = r.yuv;
		planes[1] = r.yuv + (size_t)o->w * o->h;
		planes[2] = planes[1] + (size_t)o->w * o->h / 4;
		rc = fl_encoder_write_yuv420p(enc, planes, strides);
		if (rc) {
			fprintf(stderr, "firelane-scene: %s: encode: %s\n",
				sc->name, fl_strerror(rc));
			goto out;
		}
	}
	rc = fl_encoder_close(enc);
	enc = NULL;
	if (rc) {
		fprintf(stderr, "firelane-scene: %s: %s\n", path,
			fl_strerror(rc));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s.json", o->out, sc->name);
	rc = write_truth(path, sc, &scene, &cam, o->fps, o->seed, &g);
	if (!rc && sc->reference) {
		snprintf(path, sizeof(path), "%s/%s_reference.ppm", o->out,
			 sc->name);
		rc = write_reference(path, &r);
	}
	if (!rc) {
		snprintf(path, sizeof(path), "%s/%s.yaml", o->out, sc->name);
		rc = write_config(path, sc->name, &scene, &g, sc->reference);
	}
	if (rc)
		fprintf(stderr, "firelane-scene: cannot write %s\n", path);
	if (!rc && o->verbose) {
		int k, due = 0;

		for (k = 0; k < scene.nzone; k++)
			due += g.due[k];
		fprintf(stderr,
			"%-20s %5.1f s  %4ld frames  dwell %2.0f  "
			"due %d  (%.1f s)\n",
			sc->name, g.dur, g.frames, scene.dwell, due,
			fl_mono_s() - t0);
	}
out:
	fl_encoder_close(enc);
	sc_render_free(&r);
	return rc;
}

/*
 * Generate the scenarios sc[0..n) with up to o->jobs at a time, each in its
 * own child process. Why a process each: libx264's SIMD reads a few bytes
 * past some of its own buffers, so what the heap held before can leak into
 * the bitstream; a fresh process per scenario makes a scenario's file the
 * same whether it was generated alone or as part of --all. It also makes
 * --jobs a free way to use more cores. Returns 0 when every child succeeded.
 */
static int run_children(const struct sc_scenario *const *sc, size_t n,
			const struct opts *o)
{
	size_t next = 0;
	int running = 0, failed = 0, status;

	while (next < n || running > 0) {
		if (next < n && running < o->jobs) {
			pid_t pid;

			fflush(NULL);
			pid = fork();
			if (pid < 0) {
				fprintf(stderr, "firelane-scene: fork: %s\n",
					strerror(errno));
				return 1;
			}
			if (pid == 0)
				_exit(generate(sc[next], o) ? 1 : 0);
			next++;
			running++;
			continue;
		}
		if (wait(&status) < 0)
			return 1;
		running--;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed = 1;
	}
	return failed;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* Read a binary PPM (P6, maxval 255, no comments) into *rgb (malloc'd).
 * 0, or -1 with a reason on stderr. */
static int read_ppm(const char *path, uint8_t **rgb, int *w, int *h)
{
	FILE *f = fopen(path, "rb");
	int maxv = 0;
	size_t n;

	*rgb = NULL;
	if (!f || fscanf(f, "P6 %d %d %d", w, h, &maxv) != 3 || maxv != 255 ||
	    *w < 2 || *h < 2 || *w > 4096 || *h > 4096 || fgetc(f) == EOF) {
		fprintf(stderr,
			"firelane-scene: %s: not a binary PPM (P6, maxval "
			"255, 2..4096 px a side)\n",
			path);
		if (f)
			fclose(f);
		return -1;
	}
	n = (size_t)*w * (size_t)*h * 3;
	*rgb = malloc(n);
	if (!*rgb || fread(*rgb, 1, n, f) != n) {
		fprintf(stderr, "firelane-scene: %s: short or unreadable\n",
			path);
		free(*rgb);
		*rgb = NULL;
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "scenario", required_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'a' },
		{ "long", no_argument, NULL, 'L' },
		{ "out", required_argument, NULL, 'o' },
		{ "seed", required_argument, NULL, 'S' },
		{ "width", required_argument, NULL, 'W' },
		{ "height", required_argument, NULL, 'H' },
		{ "fps", required_argument, NULL, 'F' },
		{ "threads", required_argument, NULL, 'T' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "quick", no_argument, NULL, 'q' },
		{ "classic", no_argument, NULL, 'c' },
		{ "plate-image", required_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { NULL, NULL, 1, 0, 0, 0,    0, 0, 0,
			  0,    1,    1, 0, 0, NULL, 0, 0 };
	const struct sc_scenario *todo[128];
	double t0 = fl_mono_s();
	size_t i, n = 0;
	long v;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case 'l':
			o.list = 1;
			break;
		case 's':
			o.scenario = optarg;
			break;
		case 'a':
			o.all = 1;
			break;
		case 'L':
			o.long_set = 1;
			break;
		case 'o':
			o.out = optarg;
			break;
		case 'S':
			if (parse_int(optarg, 0, 2147483647L, &v))
				goto bad;
			o.seed = (uint64_t)v;
			break;
		case 'W':
			if (parse_int(optarg, 64, 4096, &v))
				goto bad;
			o.w = (int)v & ~1;
			break;
		case 'H':
			if (parse_int(optarg, 64, 4096, &v))
				goto bad;
			o.h = (int)v & ~1;
			break;
		case 'F':
			o.fps = strtod(optarg, NULL);
			if (!(o.fps >= 1 && o.fps <= 120))
				goto bad;
			break;
		case 'T':
			if (parse_int(optarg, 0, 64, &v))
				goto bad;
			o.threads = (int)v;
			break;
		case 'j':
			if (parse_int(optarg, 1, 64, &v))
				goto bad;
			o.jobs = (int)v;
			break;
		case 'q':
			o.quick = 1;
			break;
		case 'c':
			o.classic = 1;
			break;
		case 'P':
			if (o.plate_rgb ||
			    read_ppm(optarg, &o.plate_rgb, &o.plate_w,
				     &o.plate_h) < 0) {
				rc = 2;
				goto out;
			}
			break;
		case 'v':
			o.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			goto out;
		default:
			usage(stderr);
			rc = 2;
			goto out;
		}
	}
	if (o.list) {
		/* the suite's names only, one a line with what it shows;
		 * --long --list names the long scenes */
		for (i = 0; i < sc_nscenarios; i++)
			if (sc_scenarios[i].set ==
			    (o.long_set ? SC_SET_LONG : SC_SET_SUITE))
				printf("%-20s %s\n", sc_scenarios[i].name,
				       sc_scenarios[i].desc);
		goto out;
	}
	if ((!o.all && !o.scenario && !o.long_set) ||
	    !!o.all + !!o.scenario + !!o.long_set > 1 || !o.out ||
	    optind < argc) {
		usage(stderr);
		rc = 2;
		goto out;
	}
	/* FFmpeg's chatter (x264's statistics) is not ours to print */
	av_log_set_level(AV_LOG_ERROR);
	if (o.w == 0)
		o.w = o.quick ? 480 : 640;
	if (o.h == 0)
		o.h = o.quick ? 270 : 360;
	if (mkdir(o.out, 0755) && errno != EEXIST) {
		fprintf(stderr, "firelane-scene: cannot create %s: %s\n", o.out,
			strerror(errno));
		rc = 1;
		goto out;
	}
	if (o.scenario) {
		todo[n] = find_scenario(o.scenario);
		if (!todo[n]) {
			fprintf(stderr,
				"firelane-scene: no scenario '%s' "
				"(see --list)\n",
				o.scenario);
			rc = 2;
			goto out;
		}
		n++;
	}
	for (i = 0; (o.all || o.long_set) && i < sc_nscenarios &&
		    n < FL_ARRAY_SIZE(todo);
	     i++)
		if (sc_scenarios[i].set ==
		    (o.long_set ? SC_SET_LONG : SC_SET_SUITE))
			todo[n++] = &sc_scenarios[i];
	/* a long scene is hours of footage: 10 fps unless asked otherwise */
	if (o.fps == 0)
		o.fps = n > 0 && todo[0]->set == SC_SET_LONG ? 10 : 25;
	rc = run_children(todo, n, &o);
	if (o.verbose && n > 1)
		fprintf(stderr, "%zu scenarios in %.1f s\n", n,
			fl_mono_s() - t0);
	goto out;
bad:
	fprintf(stderr, "firelane-scene: bad value for --%s: '%s'\n",
		lo[c == 'S'   ? 5
		   : c == 'W' ? 6
		   : c == 'H' ? 7
		   : c == 'F' ? 8
		   : c == 'T' ? 9
			      : 10]
			.name,
		optarg);
	rc = 2;
out:
	free(o.plate_rgb); /* --plate-image's picture */
	return rc;
}
