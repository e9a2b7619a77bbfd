/*
 * firelane-plates - licence plates in still images: measure the localiser
 * fl_plate_find() on annotated images, and read plates with the reader
 * fl_plate_read() (read.c).
 *
 *   firelane-plates [--top K] [--roi whole|car] [--grow W,H] [--seed N] [-v]
 *                   DIR...
 *   firelane-plates --read [--crop] [--model M] [--min-conf C] FILE...
 *   firelane-plates --ocr [--crop] [--model M] [--min-conf C] [-v] DIR...
 *
 * The first form measures the localiser. Each DIR holds images and one .txt
 * per image (the openalpr end-to-end benchmark format: "<file>\t<x>\t<y>\t
 * <w>\t<h>\t<text>", one plate per image). For every DIR one JSON line is
 * printed:
 *
 *   {"dir":"...","images":N,"recall":R,"false_per_image":F,"ms_per_image":M}
 *
 * recall: fraction of images where one of the top K boxes (default 3) has
 * IoU >= 0.3 with the annotated plate. false_per_image: mean number of those
 * top K boxes that match nothing. ms_per_image: wall time of fl_plate_find
 * alone (not decoding).
 *
 * --roi whole searches the whole image. --roi car searches a car-sized box
 * around the plate, the way the edge calls it with a vehicle's box: the plate
 * box grown to W times its width and H times its height (--grow, default
 * 3,4), shifted by a random offset (up to +-0.6 plate widths, +-1 plate
 * height, so the plate stays inside; a fixed-seed generator, --seed, default
 * 1, so runs repeat exactly) and clipped to the image. -v prints one line
 * per image (hit or miss, best IoU, top box) on stderr.
 *
 * --read and --ocr: see read.c.
 */
#include "clock.h"
#include "fl.h"
#include "plates.h"
#include "vision.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TOP 16

struct opts {
	int top;
	int car;
	double grow_w, grow_h; /* car roi: plate box times these */
	unsigned long long seed;
	int verbose;
};

struct tally {
	int images;
	int hits;
	int false_boxes;
	double ms;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: firelane-plates [--top K] [--roi whole|car] "
		   "[--grow W,H] [--seed N] [-v] DIR...\n"
		   "       firelane-plates --read [--crop] [--model M] "
		   "[--min-conf C] FILE...\n"
		   "       firelane-plates --ocr [--crop] [--model M] "
		   "[--min-conf C] [-v] DIR...\n");
}

static void log_sink(int level, const char *tag, const char *msg, void *user)
{
	(void)user;
	fprintf(stderr, "firelane-plates: [%d %s] %s\n", level, tag, msg);
}

/* splitmix64: a small fixed-seed generator so --roi car repeats exactly. */
static double rand_unit(unsigned long long *s)
{
	unsigned long long z = (*s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0;
}

/* One image: run the finder, count hit and false boxes. 0 or -1 (skip). */
static int one_image(const char *dir, const char *txt, const struct opts *o,
		     unsigned long long *rng, struct tally *t)
{
	char path[2048], err[256];
	plates_truth tr;
	double *truth = tr.box, roi[4];
	const char *file = tr.file;
	fl_plate found[MAX_TOP];
	uint8_t *bgr = NULL;
	int w, h, n, hit = 0, rc;
	double t0;

	snprintf(path, sizeof(path), "%s/%s", dir, txt);
	if (plates_read_truth(path, &tr, err, sizeof(err)) < 0) {
		fprintf(stderr, "firelane-plates: %s\n", err);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	rc = fl_image_load_bgr(path, &bgr, &w, &h, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "firelane-plates: %s\n", err);
		return -1;
	}
	if (o->car) {
		double cx = truth[0] + truth[2] / 2 +
			    (rand_unit(rng) * 2 - 1) * 0.6 * truth[2];
		double cy = truth[1] + truth[3] / 2 +
			    (rand_unit(rng) * 2 - 1) * 1.0 * truth[3];
		double rw = truth[2] * o->grow_w, rh = truth[3] * o->grow_h;
		double x0 = fmax(0, cx - rw / 2), y0 = fmax(0, cy - rh / 2);
		double x1 = fmin(w, cx + rw / 2), y1 = fmin(h, cy + rh / 2);

		roi[0] = x0;
		roi[1] = y0;
		roi[2] = x1 - x0;
		roi[3] = y1 - y0;
	}
	t0 = (fl_mono_s() * 1e3);
	n = fl_plate_find(bgr, w, h, o->car ? roi : NULL, found, o->top);
	t->ms += (fl_mono_s() * 1e3) - t0;
	free(bgr);
	if (n < 0) {
		fprintf(stderr, "firelane-plates: %s: plate find: %s\n", path,
			fl_strerror(n));
		n = 0;
	}
	for (int i = 0; i < n; i++) {
		double b[4] = { found[i].x, found[i].y, found[i].w,
				found[i].h };
		if (plates_iou(b, truth) >= 0.3)
			hit = 1;
		else
			t->false_boxes++;
	}
	t->images++;
	t->hits += hit;
	if (o->verbose) {
		double best = 0;
		for (int i = 0; i < n; i++) {
			double b[4] = { found[i].x, found[i].y, found[i].w,
					found[i].h };
			best = fmax(best, plates_iou(b, truth));
		}
		fprintf(stderr,
			"%s %s n=%d best_iou=%.2f truth=%.0f,%.0f,%.0f,%.0f",
			hit ? "HIT " : "MISS", file, n, best, truth[0],
			truth[1], truth[2], truth[3]);
		if (n > 0)
			fprintf(stderr, " top=%.0f,%.0f,%.0f,%.0f(%.2f)",
				found[0].x, found[0].y, found[0].w, found[0].h,
				found[0].score);
		fprintf(stderr, "\n");
	}
	return 0;
}

/* All annotated images of a directory, in name order; one JSON line. */
static int run_dir(const char *dir, const struct opts *o)
{
	struct tally t = { 0, 0, 0, 0.0 };
	unsigned long long rng = o->seed;
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (plates_list(dir, &names, &n) < 0) {
		fprintf(stderr, "firelane-plates: %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		one_image(dir, names[i], o, &rng, &t);
	if (t.images == 0) {
		fprintf(stderr, "firelane-plates: %s: no annotated images\n",
			dir);
		rc = -1;
		goto out;
	}
	printf("{\"dir\":\"%s\",\"images\":%d,\"recall\":%.4f,"
	       "\"false_per_image\":%.3f,\"ms_per_image\":%.2f}\n",
	       dir, t.images, (double)t.hits / t.images,
	       (double)t.false_boxes / t.images, t.ms / t.images);
	fflush(stdout);
out:
	plates_free_names(names, n);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = { 3, 0, 3.0, 4.0, 1, 0 };
	int i, rc = 0, ndirs = 0;

	fl_log_set(log_sink, FL_LOG_WARN, NULL);
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--read") || !strcmp(argv[i], "--ocr"))
			return plates_read_main(argc, argv);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--top") && i + 1 < argc) {
			o.top = atoi(argv[++i]);
			if (o.top < 1 || o.top > MAX_TOP) {
				fprintf(stderr,
					"firelane-plates: --top wants "
					"1..%d\n",
					MAX_TOP);
				return 2;
			}
		} else if (!strcmp(argv[i], "--roi") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "car"))
				o.car = 1;
			else if (!strcmp(argv[i], "whole"))
				o.car = 0;
			else {
				usage(stderr);
				return 2;
			}
		} else if (!strcmp(argv[i], "--grow") && i + 1 < argc) {
			if (sscanf(argv[++i], "%lf,%lf", &o.grow_w,
				   &o.grow_h) != 2 ||
			    o.grow_w < 2.2 || o.grow_h < 3.0) {
				fprintf(stderr,
					"firelane-plates: --grow wants "
					"W,H (>= 2.2,3: the plate stays inside)\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			o.seed = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "-v")) {
			o.verbose = 1;
		} else if (!strcmp(argv[i], "-h") ||
			   !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			usage(stderr);
			return 2;
		} else {
			ndirs++;
			if (run_dir(argv[i], &o) < 0)
				rc = 1;
		}
	}
	if (ndirs == 0) {
		usage(stderr);
		return 2;
	}
	return rc;
}
