/*
 * read.c - firelane-plates --read and --ocr: the plate reader on files.
 *
 *   firelane-plates --read [--crop] [--latin] [--model M] [--min-conf C]
 *                   FILE...
 *
 * One JSON line per file:
 *
 *   {"file": "...", "plates": [{"text": "渝A12345", "confidence": 0.97,
 *    "box": [x, y, w, h], "rows": 1, "char_confidence": [...]}]}
 *
 * With --crop the file is a plate crop and box its whole area. Otherwise the
 * file is a whole scene photo: the localiser (fl_plate_find, whole frame,
 * top 3 boxes) finds candidates and each is read. Only reads with
 * confidence >= C (default: the threshold of the read's script,
 * fl_plate_min_conf; --min-conf 0 shows every read, however poor) are
 * listed, most confident first. Reads of a Latin shape are listed only
 * with --latin: the reader is made for Chinese plates, and its Latin
 * threshold, calibrated on drawn plates, does not hold its precision on
 * real photographs (docs/plate-model.md, "Thresholds"); this is the
 * edge's evidence.plates_cn_only, on by default there too. A file that
 * cannot be read gives
 * {"file": ..., "error": "..."} and exit status 1 at the end.
 * --model: the ONNX model (default: the repository's
 * model/plates/plate-reader.onnx, compiled in as FL_PLATE_MODEL).
 *
 *   firelane-plates --ocr [--crop] [--latin] [--model M] [--min-conf C]
 *                   [-v] DIR...
 *
 * Measures the reader on annotated folders (the localiser's format; the
 * sixth field is the plate's text; model/plates/render.py writes the same
 * for synthetic sets). One JSON line per DIR:
 *
 *   images           annotated images
 *   exact            the best read (highest confidence, threshold or not)
 *                    is the annotated text exactly
 *   char_accuracy    mean over images of 1 - edit distance / length
 *                    (characters, at least 0)
 *   min_conf         --min-conf, or by default the thresholds per script
 *                    ({"cn": ..., "cn_double_row": ..., "latin": ...})
 *   read_rate        reads at or above the threshold (and of a Chinese
 *                    shape, without --latin)
 *   precision        exact among those (null when none)
 *   ms_per_read      wall time of fl_plate_read alone (--crop), or of
 *                    fl_plate_find and the reads of its boxes (whole)
 *   cpu_ms_per_read  the same in this thread's CPU time: what a read
 *                    costs one core, whatever else the machine runs
 *   located          whole images: one of the localiser's boxes has IoU
 *                    >= 0.3 with the annotated plate
 *   model_bytes, model_rss_kb   the model file, and how much the process's
 *                    resident memory grew loading it (with its warm-up)
 *
 * --crop cuts each image at its annotated box; without it the whole image
 * goes through the localiser. -v prints one line per image on stderr.
 */
#include "event.h"
#include "clock.h"
#include "fl.h"
#include "plate.h"
#include "plates.h"
#include "vision.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef FL_PLATE_MODEL
#define FL_PLATE_MODEL "model/plates/plate-reader.onnx"
#endif

/* Candidates the localiser gives a whole photo to read. */
#define TOP_BOXES 3

struct ropts {
	int crop;
	int ocr;
	int verbose;
	int latin; /* --latin: reads of a Latin shape are kept too */
	double min_conf;
	const char *model;
};

/* One read with where it was found. */
struct found {
	fl_plate_text t;
	double box[4];
};

/* Whether a read is reported: of a Chinese shape (any shape with
 * --latin), and conf at or above --min-conf, or by default the threshold
 * of its script. */
static int kept(const fl_plate_text *t, const struct ropts *o)
{
	if (!o->latin && fl_plate_shape(t->text) == FL_PLATE_SHAPE_LATIN)
		return 0;
	return t->conf >= (o->min_conf < 0 ? fl_plate_min_conf(t->text, t->rows)
					   : o->min_conf);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: firelane-plates --read [--crop] [--latin] "
		   "[--model M] [--min-conf C] FILE...\n"
		   "       firelane-plates --ocr [--crop] [--latin] "
		   "[--model M] [--min-conf C] [-v] DIR...\n");
}

/* Resident set size of this process in kB, or -1 (Linux /proc). */
static long rss_kb(void)
{
	long pages = -1, res = -1;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &res) != 2)
		res = -1;
	fclose(f);
	return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

static int cmp_found(const void *a, const void *b)
{
	double ca = ((const struct found *)a)->t.conf;
	double cb = ((const struct found *)b)->t.conf;

	return (ca < cb) - (ca > cb);
}

/*
 * Read an image: the crop box (crop != NULL), or the localiser's top boxes
 * of the whole image. Up to TOP_BOXES reads with text into out, most
 * confident first; *nfound their number; located (may be NULL) gets the
 * localiser's boxes for scoring. Returns 0 or a negative fl_errno.
 */
static int read_image(fl_plate_reader *r, const uint8_t *bgr, int w, int h,
		      const double *crop, struct found *out, int *nfound,
		      fl_plate *boxes, int *nboxes)
{
	fl_plate cand[TOP_BOXES];
	int n = 0, nc, rc;

	*nfound = 0;
	if (crop) {
		rc = fl_plate_read(r, bgr, w, h, crop, &out[0].t);
		if (rc < 0)
			return rc;
		memcpy(out[0].box, crop, sizeof(out[0].box));
		*nfound = out[0].t.nchars > 0;
		return 0;
	}
	nc = fl_plate_find(bgr, w, h, NULL, cand, TOP_BOXES);
	if (nc < 0)
		return nc;
	for (int i = 0; i < nc; i++) {
		double b[4] = { cand[i].x, cand[i].y, cand[i].w, cand[i].h };
		rc = fl_plate_read(r, bgr, w, h, b, &out[n].t);
		if (rc == FL_EINVAL)
			continue; /* a box too small to read */
		if (rc < 0)
			return rc;
		if (out[n].t.nchars == 0)
			continue;
		memcpy(out[n].box, b, sizeof(b));
		n++;
	}
	if (boxes && nboxes) {
		memcpy(boxes, cand, sizeof(fl_plate) * (size_t)nc);
		*nboxes = nc;
	}
	qsort(out, (size_t)n, sizeof(*out), cmp_found);
	*nfound = n;
	return 0;
}

static void print_json_string(const char *s)
{
	char buf[4096];
	size_t need = fl_json_string(s, buf, sizeof(buf));

	if (need >= sizeof(buf)) {
		char *big = malloc(need + 1);
		if (big) {
			fl_json_string(s, big, need + 1);
			fputs(big, stdout);
			free(big);
			return;
		}
		fputs("\"\"", stdout);
		return;
	}
	fputs(buf, stdout);
}

/* --read: one JSON line for one file. 0 or -1. */
static int read_file(fl_plate_reader *r, const char *path,
		     const struct ropts *o)
{
	struct found f[TOP_BOXES];
	uint8_t *bgr = NULL;
	char err[512];
	int w, h, n, rc, first = 1;

	printf("{\"file\": ");
	print_json_string(path);
	rc = fl_image_load_bgr(path, &bgr, &w, &h, err, sizeof(err));
	if (rc == 0) {
		double whole[4] = { 0, 0, w, h };
		rc = read_image(r, bgr, w, h, o->crop ? whole : NULL, f, &n,
				NULL, NULL);
		if (rc < 0)
			snprintf(err, sizeof(err), "%s: reading: %s", path,
				 fl_strerror(rc));
	}
	free(bgr);
	if (rc < 0) {
		printf(", \"error\": ");
		print_json_string(err);
		printf("}\n");
		return -1;
	}
	printf(", \"plates\": [");
	for (int i = 0; i < n; i++) {
		if (!kept(&f[i].t, o))
			continue;
		printf("%s{\"text\": ", first ? "" : ", ");
		first = 0;
		print_json_string(f[i].t.text);
		printf(", \"confidence\": %.4f, \"box\": [%.0f, %.0f, %.0f, "
		       "%.0f], \"rows\": %d, \"char_confidence\": [",
		       f[i].t.conf, f[i].box[0], f[i].box[1], f[i].box[2],
		       f[i].box[3], f[i].t.rows);
		for (int k = 0; k < f[i].t.nchars; k++)
			printf("%s%.3f", k ? ", " : "", f[i].t.char_conf[k]);
		printf("]}");
	}
	printf("]}\n");
	return 0;
}

/* Edit distance between two code point strings (each <= 64 long). */
static int edit_distance(const uint32_t *a, int na, const uint32_t *b, int nb)
{
	int d[65];

	for (int j = 0; j <= nb; j++)
		d[j] = j;
	for (int i = 1; i <= na; i++) {
		int diag = d[0];
		d[0] = i;
		for (int j = 1; j <= nb; j++) {
			int up = d[j];
			int best = diag + (a[i - 1] != b[j - 1]);
			best = best < up + 1 ? best : up + 1;
			best = best < d[j - 1] + 1 ? best : d[j - 1] + 1;
			d[j] = best;
			diag = up;
		}
	}
	return d[nb];
}

/* 1 - edit distance / truth length, at least 0. */
static double char_accuracy(const char *got, const char *want)
{
	uint32_t a[64], b[64];
	int na = fl_utf8_decode(got, a, 64), nb = fl_utf8_decode(want, b, 64);

	if (nb <= 0)
		return 0.0;
	if (na < 0)
		na = 0;
	return fmax(0.0, 1.0 - (double)edit_distance(a, na, b, nb) / nb);
}

struct otally {
	int images, exact, read, read_exact, located;
	double chars, ms, cpu_ms;
	long reads;
};

/* --ocr: one annotated image into the tally. 0 or -1 (skipped). */
static int ocr_image(fl_plate_reader *r, const char *dir, const char *txt,
		     const struct ropts *o, struct otally *t)
{
	char path[2048], err[512];
	plates_truth tr;
	struct found f[TOP_BOXES];
	fl_plate boxes[TOP_BOXES];
	uint8_t *bgr = NULL;
	int w, h, n = 0, nb = 0, rc, located = 0;
	double t0, c0;
	const char *got;

	snprintf(path, sizeof(path), "%s/%s", dir, txt);
	if (plates_read_truth(path, &tr, err, sizeof(err)) < 0) {
		fprintf(stderr, "firelane-plates: %s\n", err);
		return -1;
	}
	if (tr.text[0] == '\0') {
		fprintf(stderr, "firelane-plates: %s: no plate text\n", path);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, tr.file);
	rc = fl_image_load_bgr(path, &bgr, &w, &h, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "firelane-plates: %s\n", err);
		return -1;
	}
	t0 = (fl_mono_s() * 1e3);
	c0 = (fl_thread_cpu_s() * 1e3);
	rc = read_image(r, bgr, w, h, o->crop ? tr.box : NULL, f, &n, boxes,
			&nb);
	t->cpu_ms += (fl_thread_cpu_s() * 1e3) - c0;
	t->ms += (fl_mono_s() * 1e3) - t0;
	t->reads++;
	free(bgr);
	if (rc < 0) {
		fprintf(stderr, "firelane-plates: %s: %s\n", path,
			fl_strerror(rc));
		n = 0;
	}
	for (int i = 0; i < nb; i++) {
		double b[4] = { boxes[i].x, boxes[i].y, boxes[i].w,
				boxes[i].h };
		located |= plates_iou(b, tr.box) >= 0.3;
	}
	got = n > 0 ? f[0].t.text : "";
	t->images++;
	t->located += located;
	t->exact += strcmp(got, tr.text) == 0;
	t->chars += char_accuracy(got, tr.text);
	if (n > 0 && kept(&f[0].t, o)) {
		t->read++;
		t->read_exact += strcmp(got, tr.text) == 0;
	}
	if (o->verbose)
		fprintf(stderr, "%s %s want=%s got=%s conf=%.3f rows=%d\n",
			strcmp(got, tr.text) ? "MISS" : "OK  ", tr.file,
			tr.text, got, n > 0 ? f[0].t.conf : 0.0,
			n > 0 ? f[0].t.rows : 0);
	return 0;
}

static int ocr_dir(fl_plate_reader *r, const char *dir, const struct ropts *o,
		   long model_bytes, long model_rss)
{
	struct otally t;
	char **names;
	size_t n;

	memset(&t, 0, sizeof(t));
	if (plates_list(dir, &names, &n) < 0) {
		fprintf(stderr, "firelane-plates: %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		ocr_image(r, dir, names[i], o, &t);
	plates_free_names(names, n);
	if (t.images == 0) {
		fprintf(stderr, "firelane-plates: %s: no annotated images\n",
			dir);
		return -1;
	}
	printf("{\"dir\": ");
	print_json_string(dir);
	printf(", \"mode\": \"%s\", \"images\": %d, \"exact\": %.4f, "
	       "\"char_accuracy\": %.4f, \"read_rate\": %.4f, ",
	       o->crop ? "crop" : "whole", t.images, (double)t.exact / t.images,
	       t.chars / t.images, (double)t.read / t.images);
	if (t.read > 0)
		printf("\"precision\": %.4f, ", (double)t.read_exact / t.read);
	else
		printf("\"precision\": null, ");
	if (!o->crop)
		printf("\"located\": %.4f, ", (double)t.located / t.images);
	if (o->min_conf < 0)
		printf("\"min_conf\": {\"cn\": %.3f, \"cn_double_row\": %.3f, "
		       "\"latin\": %.3f}, ",
		       FL_PLATE_MIN_CONF_CN, FL_PLATE_MIN_CONF_CN2,
		       FL_PLATE_MIN_CONF_LATIN);
	else
		printf("\"min_conf\": %.3f, ", o->min_conf);
	printf("\"ms_per_read\": %.3f, "
	       "\"cpu_ms_per_read\": %.3f, \"model_bytes\": %ld, "
	       "\"model_rss_kb\": %ld}\n",
	       t.reads ? t.ms / t.reads : 0.0,
	       t.reads ? t.cpu_ms / t.reads : 0.0, model_bytes, model_rss);
	fflush(stdout);
	return 0;
}

int plates_read_main(int argc, char **argv)
{
	struct ropts o = {
		0, 0, 0, 0, FL_PLATE_MIN_CONF_SCRIPT, FL_PLATE_MODEL
	};
	fl_plate_reader *r;
	char err[512];
	struct stat st;
	long rss0, model_rss;
	int i, rc = 0, nfiles = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--read")) {
			o.ocr = 0;
		} else if (!strcmp(argv[i], "--ocr")) {
			o.ocr = 1;
		} else if (!strcmp(argv[i], "--crop")) {
			o.crop = 1;
		} else if (!strcmp(argv[i], "-v")) {
			o.verbose = 1;
		} else if (!strcmp(argv[i], "--latin")) {
			o.latin = 1;
		} else if (!strcmp(argv[i], "--model") && i + 1 < argc) {
			o.model = argv[++i];
		} else if (!strcmp(argv[i], "--min-conf") && i + 1 < argc) {
			char *end;
			o.min_conf = strtod(argv[++i], &end);
			if (*end || !(o.min_conf >= 0 && o.min_conf <= 1)) {
				fprintf(stderr, "firelane-plates: --min-conf "
						"wants 0..1\n");
				return 2;
			}
		} else if (argv[i][0] == '-') {
			usage(stderr);
			return 2;
		} else {
			nfiles++;
		}
	}
	if (nfiles == 0) {
		usage(stderr);
		return 2;
	}
	rss0 = rss_kb();
	r = fl_plate_reader_create(o.model, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "firelane-plates: %s\n", err);
		return 1;
	}
	model_rss = rss0 < 0 ? -1 : rss_kb() - rss0;
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			if (!strcmp(argv[i], "--model") ||
			    !strcmp(argv[i], "--min-conf"))
				i++;
			continue;
		}
		if (o.ocr)
			rc |= ocr_dir(r, argv[i], &o,
				      stat(o.model, &st) == 0 ? (long)st.st_size
							      : -1,
				      model_rss) < 0;
		else
			rc |= read_file(r, argv[i], &o) < 0;
		fflush(stdout);
	}
	fl_plate_reader_destroy(r);
	return rc ? 1 : 0;
}
