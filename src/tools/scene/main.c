/*
 * main.c - firelane-scene: write synthetic fire-lane videos with their
 * ground truth and an edge config, one set per scenario.
 *
 *   firelane-scene --list
 *   firelane-scene --scenario NAME --out DIR [--seed N] [--width W
 *                  --height H] [--fps F] [--quick] [-v]
 *   firelane-scene --all --out DIR [--seed N] [--quick] [--jobs N] [-v]
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
 * as an obstruction of a zone when the bottom centre of the actor's box at
 * rest (the point a detector sees touching the ground) lies inside that
 * zone's polygon and the run lasts at least two seconds. start_s is the run's
 * first frame, end_s the first frame it moves again (or the clip's end). A
 * zone gets "alarm expected" when it has an obstruction due an alarm
 * (end - start >= dwell + 3), otherwise "must not alarm" and no obstructions.
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
	int all, list, quick, verbose, threads, jobs;
};

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
	int zpts[SC_MAX_ZONES][4][2];
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
		"[--quick] [-v]\n"
		"       firelane-scene --all --out DIR [--seed N] [--quick] "
		"[--jobs N] [-v]\n"
		"Writes DIR/NAME.mp4, DIR/NAME.json (ground truth) and "
		"DIR/NAME.yaml (edge config);\n"
		"scenarios with an obstruction from frame 0 also "
		"DIR/NAME_reference.ppm (clear lane).\n"
		"Defaults: 640x360 at 25 fps, seed 1; --quick: 480x270 and "
		"short variants.\n"
		"--threads N: x264 threads (default 1); --jobs N: scenarios "
		"generated at once (default 1).\n");
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

/* Fill s from the scenario's script, with the defaults a script may keep. */
static void build_scene(struct sc_scene *s, const struct sc_scenario *sc,
			uint64_t seed, int quick)
{
	memset(s, 0, sizeof(*s));
	sc_rng_seed(&s->rng, seed, hash_name(sc->name));
	s->duration = 60;
	s->dwell = 15;
	s->noise = 2;
	s->drift = 0.04;
	sc->script(s, quick);
	/* every clip 40-110 s, whatever the script's arithmetic gave */
	s->duration = fmin(fmax(s->duration, 40), 110);
	if (s->nzone == 0)
		sc_zone_set(s, "lane-a", -2.0, 2.0, 20, 46);
}

/* Point-in-polygon (even-odd) for the zone's projected quad. */
static int inside(const int (*p)[2], int n, double x, double y)
{
	int i, j, in = 0;

	for (i = 0, j = n - 1; i < n; j = i++)
		if ((p[i][1] > y) != (p[j][1] > y) &&
		    x < (double)(p[j][0] - p[i][0]) * (y - p[i][1]) /
					    (p[j][1] - p[i][1]) +
				    p[i][0])
			in = !in;
	return in;
}

static void add_run(const struct sc_scene *s, const struct sc_cam *cam,
		    struct truth *g, const struct sc_actor *a, double x,
		    double z, long f0, long f1, int clip_end, double fps)
{
	int box[4], k;
	double rx, ry;

	if ((f1 - f0) / fps < 2.0 || !sc_actor_bbox(cam, a, x, z, box))
		return;
	rx = box[0] + box[2] / 2.0;
	ry = box[1] + box[3] - 0.5;
	for (k = 0; k < s->nzone; k++) {
		struct obstruction *o;

		if (!inside((const int(*)[2])g->zpts[k], 4, rx, ry))
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
		return;
	}
}

/* Derive the ground truth from the trajectories (see the note above). */
static void compute_truth(const struct sc_scene *s, const struct sc_cam *cam,
			  double fps, struct truth *g)
{
	int i, k, c;

	memset(g, 0, sizeof(*g));
	g->frames = lround(s->duration * fps);
	g->dur = g->frames / fps;
	for (k = 0; k < s->nzone; k++) {
		const struct sc_zone *zn = &s->zone[k];
		const double q[4][2] = { { zn->x0, zn->z0 },
					 { zn->x1, zn->z0 },
					 { zn->x1, zn->z1 },
					 { zn->x0, zn->z1 } };

		for (c = 0; c < 4; c++) {
			double px, py;

			sc_project(cam, q[c][0], 0, q[c][1], &px, &py);
			g->zpts[k][c][0] = (int)fmin(fmax(lround(px), 0),
						     cam->w - 1);
			g->zpts[k][c][1] = (int)fmin(fmax(lround(py), 0),
						     cam->h - 1);
		}
	}
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

static int write_truth(const char *path, const char *name,
		       const struct sc_scene *s, const struct sc_cam *cam,
		       double fps, uint64_t seed, const struct truth *g)
{
	FILE *f = fopen(path, "w");
	int k, c, i, first;

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
		fprintf(f, "%s{\"name\": \"%s\", \"points\": [", k ? ", " : "",
			s->zone[k].name);
		for (c = 0; c < 4; c++)
			fprintf(f, "%s[%d, %d]", c ? ", " : "",
				g->zpts[k][c][0], g->zpts[k][c][1]);
		fprintf(f, "], \"purpose\": \"%s\"}",
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
	fprintf(f, "%s],\n \"scenario\": \"%s\", \"seed\": %llu}\n",
		first ? "" : "\n ", name, (unsigned long long)seed);
	return fclose(f) ? FL_EIO : 0;
}

static int write_config(const char *path, const char *name,
			const struct sc_scene *s, const struct truth *g,
			int reference)
{
	FILE *f = fopen(path, "w");
	int k, c;

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
		fprintf(f, "      - id: %s\n        points: [",
			s->zone[k].name);
		for (c = 0; c < 4; c++)
			fprintf(f, "%s[%d, %d]", c ? ", " : "",
				g->zpts[k][c][0], g->zpts[k][c][1]);
		fprintf(f, "]\n        dwell_s: ");
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

	build_scene(&scene, sc, o->seed, o->quick);
	sc_cam_init(&cam, o->w, o->h);
	compute_truth(&scene, &cam, o->fps, &g);
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
	rc = write_truth(path, sc->name, &scene, &cam, o->fps, o->seed, &g);
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

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "scenario", required_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'a' },
		{ "out", required_argument, NULL, 'o' },
		{ "seed", required_argument, NULL, 'S' },
		{ "width", required_argument, NULL, 'W' },
		{ "height", required_argument, NULL, 'H' },
		{ "fps", required_argument, NULL, 'F' },
		{ "threads", required_argument, NULL, 'T' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "quick", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { NULL, NULL, 1, 0, 0, 25, 0, 0, 0, 0, 1, 1 };
	const struct sc_scenario *todo[64];
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
		case 'v':
			o.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (o.list) {
		for (i = 0; i < sc_nscenarios; i++)
			printf("%-20s %s\n", sc_scenarios[i].name,
			       sc_scenarios[i].desc);
		return 0;
	}
	if ((!o.all && !o.scenario) || (o.all && o.scenario) || !o.out ||
	    optind < argc) {
		usage(stderr);
		return 2;
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
		return 1;
	}
	if (o.scenario) {
		todo[n] = find_scenario(o.scenario);
		if (!todo[n]) {
			fprintf(stderr,
				"firelane-scene: no scenario '%s' "
				"(see --list)\n",
				o.scenario);
			return 2;
		}
		n++;
	}
	for (i = 0; o.all && i < sc_nscenarios && n < FL_ARRAY_SIZE(todo); i++)
		todo[n++] = &sc_scenarios[i];
	rc = run_children(todo, n, &o);
	if (o.verbose && o.all)
		fprintf(stderr, "%zu scenarios in %.1f s\n", n,
			fl_mono_s() - t0);
	return rc;
bad:
	fprintf(stderr, "firelane-scene: bad value for --%s: '%s'\n",
		lo[c == 'S'   ? 4
		   : c == 'W' ? 5
		   : c == 'H' ? 6
		   : c == 'F' ? 7
		   : c == 'T' ? 8
			      : 9]
			.name,
		optarg);
	return 2;
}
