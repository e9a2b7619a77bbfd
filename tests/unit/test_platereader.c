/*
 * test_platereader.c - the plate reader (src/vision/platereader.cpp) with
 * the repository's model, on plates the project's own renderer draws at
 * test time (model/plates/render.py with seeds the training never used):
 *
 *   - clean crops of every Chinese kind read exactly, most of them kept at
 *     the threshold of their script (fl_plate_min_conf), double-row plates
 *     as rows = 2 and no others; photographed (degraded) crops of every
 *     kind, at most one wrong read passing its threshold (99% precision,
 *     test_degraded); the floors are the committed model's measured
 *     figures less a margin (see test_clean);
 *   - a crop with no plate gives no confident read; the box argument and
 *     bad arguments; a missing model and a file that is not one fail at
 *     create with a reason;
 *   - voting (fl_plate_vote) over several reads of one plate, and over
 *     rendered sequences of still cars (reads of one moment are one
 *     witness).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fl.h"
#include "plate.h"
#include "test.h"
#include "vision.h"

/* Below every script's threshold: a read this unsure is never kept. */
#define LOWEST_MIN_CONF                                                        \
	fmin(FL_PLATE_MIN_CONF_CN,                                             \
	     fmin(FL_PLATE_MIN_CONF_CN2, FL_PLATE_MIN_CONF_LATIN))

/* Whether a read passes the threshold of its script, as the edge keeps it. */
static int kept(const fl_plate_text *t)
{
	return t->conf >= fl_plate_min_conf(t->text, t->rows);
}

static char src_dir[1024], tmp_dir[1024];

/* Render count plates of kind with seed into tmp_dir/<tag>/ (labels.tsv);
 * flags: "" (photographed crops), "--clean" (crops without the camera's
 * degradations) or "--scene" (whole photos). 0 or -1. */
static int render(const char *tag, const char *kind, int count, int seed,
		  const char *flags)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 %s/model/plates/render.py --out %s/%s "
		 "--kind %s --count %d --seed %d %s",
		 src_dir, tmp_dir, tag, kind, count, seed, flags);
	return system(cmd) == 0 ? 0 : -1;
}

/* The first line of tmp_dir/<tag>/labels.tsv: file name, text and the
 * plate's box (x, y, w, h; box may be NULL). 0 or -1. */
static int first_label(const char *tag, char name[256], char text[64],
		       int box[4])
{
	char path[2048], line[1024], kind[16];
	int b[4], n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/labels.tsv", tmp_dir, tag);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fgets(line, sizeof(line), f)
		    ? sscanf(line,
			     "%255[^\t]\t%63[^\t]\t%15[^\t]\t%d\t%d\t%d\t%d",
			     name, text, kind, &b[0], &b[1], &b[2], &b[3])
		    : 0;
	fclose(f);
	if (n != 7)
		return -1;
	if (box)
		memcpy(box, b, sizeof(b));
	return 0;
}

/* a and b (UTF-8) differ in at most one character, substituted (the
 * model's weak spot is the province character: docs/plate-model.md). */
static int near(const char *a, const char *b)
{
	uint32_t ca[FL_PLATE_MAX_CHARS], cb[FL_PLATE_MAX_CHARS];
	int na = fl_utf8_decode(a, ca, FL_PLATE_MAX_CHARS);
	int nb = fl_utf8_decode(b, cb, FL_PLATE_MAX_CHARS), diff = 0;

	if (na < 0 || na != nb)
		return 0;
	for (int i = 0; i < na; i++)
		diff += ca[i] != cb[i];
	return diff <= 1;
}

struct tally {
	int n, exact, near, kept, kept_exact, rows2;
};

/* Read every crop of tmp_dir/<tag>/labels.tsv; tally against its text. */
static void read_set(fl_plate_reader *r, const char *tag, struct tally *t)
{
	char path[2048], line[1024];
	FILE *f;

	memset(t, 0, sizeof(*t));
	snprintf(path, sizeof(path), "%s/%s/labels.tsv", tmp_dir, tag);
	f = fopen(path, "r");
	CHECK_MSG(f != NULL, "%s missing: the renderer failed", path);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char name[256], text[64], kind[16];
		uint8_t *bgr;
		int w, h;
		fl_plate_text out;

		if (sscanf(line, "%255[^\t]\t%63[^\t]\t%15[^\t]", name, text,
			   kind) != 3)
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", tmp_dir, tag, name);
		CHECK(fl_image_load_bgr(path, &bgr, &w, &h, NULL, 0) == 0);
		CHECK(fl_plate_read(r, bgr, w, h, NULL, &out) == 0);
		free(bgr);
		t->n++;
		t->exact += strcmp(out.text, text) == 0;
		t->near += near(out.text, text);
		t->rows2 += out.rows == 2;
		if (kept(&out)) {
			t->kept++;
			t->kept_exact += strcmp(out.text, text) == 0;
		}
		if (strcmp(out.text, text) != 0)
			fprintf(stderr, "  %s: want %s, read %s (%.3f)\n", name,
				text, out.text, out.conf);
	}
	fclose(f);
}

/*
 * The floors below are what the shipped model does (docs/plate-model.md,
 * measured when it was committed) with a small margin, not the goals: it
 * reads every clean crop of these seeds exactly and keeps most of them at
 * their thresholds; a worse model fails here. A better model should raise
 * these floors.
 */
static void test_clean(fl_plate_reader *r)
{
	static const char *kinds[] = { "blue",    "green", "yellow",
				       "yellow2", "white", "black" };
	char tag[64];
	struct tally t;
	int exact = 0;

	for (size_t i = 0; i < FL_ARRAY_SIZE(kinds); i++) {
		snprintf(tag, sizeof(tag), "clean-%s", kinds[i]);
		CHECK(render(tag, kinds[i], 10, 7100 + (int)i, "--clean") == 0);
		read_set(r, tag, &t);
		printf("clean %-8s %d/%d exact, %d within one character, "
		       "%d kept, %d as double-row\n",
		       kinds[i], t.exact, t.n, t.near, t.kept, t.rows2);
		CHECK(t.n == 10);
		exact += t.exact;
		/* measured 10 of 10 exact per kind when committed, 8..10
		 * kept */
		CHECK_MSG(t.near >= 9, "%s: %d/10 within one character",
			  kinds[i], t.near);
		CHECK_MSG(t.kept >= 6, "%s: %d/10 kept", kinds[i], t.kept);
		/* nothing wrong is ever kept */
		CHECK(t.kept == t.kept_exact);
		if (!strcmp(kinds[i], "yellow2"))
			CHECK_MSG(t.rows2 >= 9, "double-row read as %d/10",
				  t.rows2);
		else
			CHECK_MSG(t.rows2 == 0, "%s: %d read as double-row",
				  kinds[i], t.rows2);
	}
	/* measured 60 of 60 exact when committed */
	CHECK_MSG(exact >= 56, "%d/60 clean crops exact", exact);
}

static void test_degraded(fl_plate_reader *r)
{
	struct tally t;

	/* photographed: every kind, Chinese and Latin, 48 plates */
	CHECK(render("photo", "all", 48, 7200, "") == 0);
	read_set(r, "photo", &t);
	printf("photographed: %d/%d exact, %d within one character, %d "
	       "kept, %d of them exact\n",
	       t.exact, t.n, t.near, t.kept, t.kept_exact);
	CHECK(t.n == 48);
	/* measured 39 exact, 43 within one character (45 before the Latin
	 * glyphs were narrowed as a font, render.py glyph()), 28 kept with
	 * the per-script thresholds (27 at the old single 0.949) */
	CHECK_MSG(t.exact >= 35, "%d/48 exact", t.exact);
	CHECK_MSG(t.near >= 41, "%d/48 within one character", t.near);
	CHECK_MSG(t.kept >= 25, "%d/48 kept", t.kept);
	/* the thresholds keep good reads: they are set for 99% precision,
	 * so one wrong read in ~28 kept is within what they promise (measured:
	 * 1, a black plate 粤ZXN18澳 read 粤ZXN16澳 at 0.844, over the Chinese
	 * threshold 0.828); two would be a worse model */
	CHECK_MSG(t.kept - t.kept_exact <= 1, "%d wrong reads kept",
		  t.kept - t.kept_exact);
}

static void test_no_plate(fl_plate_reader *r)
{
	enum { W = 160, H = 50 };
	static uint8_t img[W * H * 3];
	fl_plate_text out;
	double box[4] = { 10, 5, 100, 30 };

	/* flat grey and a smooth gradient: nothing to read */
	memset(img, 128, sizeof(img));
	CHECK(fl_plate_read(r, img, W, H, NULL, &out) == 0);
	CHECK(out.conf < LOWEST_MIN_CONF);
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W * 3; x++)
			img[y * W * 3 + x] = (uint8_t)(x / 3 + y);
	CHECK(fl_plate_read(r, img, W, H, box, &out) == 0);
	CHECK(out.conf < LOWEST_MIN_CONF);

	/* arguments */
	double tiny[4] = { 10, 10, 5, 3 }, outside[4] = { 500, 500, 50, 20 };
	double nan_box[4] = { NAN, 0, 10, 10 };
	CHECK(fl_plate_read(r, img, W, H, tiny, &out) == FL_EINVAL);
	CHECK(fl_plate_read(r, img, W, H, outside, &out) == FL_EINVAL);
	CHECK(fl_plate_read(r, img, W, H, nan_box, &out) == FL_EINVAL);
	CHECK(fl_plate_read(NULL, img, W, H, NULL, &out) == FL_EINVAL);
	CHECK(fl_plate_read(r, NULL, W, H, NULL, &out) == FL_EINVAL);
	CHECK(fl_plate_read(r, img, 0, H, NULL, &out) == FL_EINVAL);
	CHECK(fl_plate_read(r, img, W, H, NULL, NULL) == FL_EINVAL);
}

/* A plate in a bigger picture: the box picks it; the whole picture with
 * the plate a small part of it does not read as that plate. */
static void test_box(fl_plate_reader *r)
{
	char path[2048], name[256], text[64];
	int b[4], w, h;
	uint8_t *bgr;
	fl_plate_text out;

	/* a whole photo, labels.tsv giving the plate's box */
	CHECK(render("scene", "blue", 1, 7300, "--scene") == 0);
	CHECK(first_label("scene", name, text, b) == 0);
	snprintf(path, sizeof(path), "%s/scene/%s", tmp_dir, name);
	CHECK(fl_image_load_bgr(path, &bgr, &w, &h, NULL, 0) == 0);
	if (!bgr)
		return;
	double box[4] = { b[0] - b[2] * 0.05, b[1] - b[3] * 0.1, b[2] * 1.1,
			  b[3] * 1.2 };
	CHECK(fl_plate_read(r, bgr, w, h, box, &out) == 0);
	CHECK_MSG(near(out.text, text), "read %s, want %s", out.text, text);
	/* the whole photo is not read as the plate */
	CHECK(fl_plate_read(r, bgr, w, h, NULL, &out) == 0);
	CHECK(!near(out.text, text));
	free(bgr);
}

/* Several reads of one plate vote to its text: the same clean crop cut
 * with four different margins (the renderer draws a new plate for every
 * sample, so one plate's several looks come from boxes). */
static void test_vote(fl_plate_reader *r)
{
	char path[2048], name[256], text[64];
	fl_plate_text reads[4], voted;
	uint8_t *bgr;
	int w, h;

	CHECK(first_label("clean-blue", name, text, NULL) == 0);
	snprintf(path, sizeof(path), "%s/clean-blue/%s", tmp_dir, name);
	CHECK(fl_image_load_bgr(path, &bgr, &w, &h, NULL, 0) == 0);
	if (!bgr)
		return;
	for (int i = 0; i < 4; i++) {
		double b[4] = { w * 0.01 * i, h * 0.02 * i, w * (1 - 0.02 * i),
				h * (1 - 0.03 * i) };
		CHECK(fl_plate_read(r, bgr, w, h, b, &reads[i]) == 0);
	}
	free(bgr);
	CHECK(fl_plate_vote(reads, 4, 0.0, &voted) == 1);
	CHECK_MSG(near(voted.text, text), "voted %s, want %s", voted.text,
		  text);
	/* four looks at one moment are one witness: no surer than the best
	 * of them */
	double best = 0;
	for (int i = 0; i < 4; i++)
		best = fmax(best, reads[i].conf);
	CHECK(voted.conf <= best + 1e-9);
	/* and below the threshold it is unread, not a guess */
	if (!kept(&voted))
		CHECK(fl_plate_vote(reads, 4, FL_PLATE_MIN_CONF_SCRIPT,
				    &voted) == 0 &&
		      voted.text[0] == '\0');
}

/* Small noise on every pixel, from the state *x (xorshift32): one frame
 * after another of a still picture. */
static void frame_noise(uint8_t *img, size_t n, uint32_t *x, int amp)
{
	for (size_t i = 0; i < n; i++) {
		*x ^= *x << 13;
		*x ^= *x >> 17;
		*x ^= *x << 5;
		int v = img[i] + (int)(*x % (2 * amp + 1)) - amp;
		img[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
	}
}

/*
 * The vote on rendered sequences of a parked car: each photographed crop
 * is one still car, read on NFRAMES frames 2 s apart (the crop with new
 * sensor noise and a box a few pixels off each time, as the edge reads
 * frames between scene images). Voted as one moment, as the edge does
 * (fl_plate_text.t), against the same reads as if far apart in time
 * (independent witnesses, the vote before moments). Prints both; checks
 * that one moment is never surer than its best read, so it keeps no more
 * plates, and no more wrong ones, at the thresholds.
 */
static void test_vote_sequences(fl_plate_reader *r)
{
	enum { NFRAMES = 6 };
	char path[2048], line[1024];
	int n = 0, ok_m = 0, ok_i = 0, kept_m = 0, kept_i = 0, wrong_m = 0;
	int wrong_i = 0, wrong_best = 0, kept_best = 0, wrong_best_kept = 0;
	double sum_m = 0, sum_i = 0, sum_best = 0;
	uint32_t x = 12345;
	FILE *f;

	CHECK(render("seq", "all", 40, 7500, "") == 0);
	snprintf(path, sizeof(path), "%s/seq/labels.tsv", tmp_dir);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char name[256], text[64], kind[16];
		fl_plate_text reads[NFRAMES], apart[NFRAMES], vm, vi;
		uint8_t *bgr, *frame;
		double best = 0;
		int w, h, ib = 0;

		if (sscanf(line, "%255[^\t]\t%63[^\t]\t%15[^\t]", name, text,
			   kind) != 3)
			continue;
		snprintf(path, sizeof(path), "%s/seq/%s", tmp_dir, name);
		CHECK(fl_image_load_bgr(path, &bgr, &w, &h, NULL, 0) == 0);
		if (!bgr)
			continue;
		frame = malloc((size_t)w * h * 3);
		CHECK(frame != NULL);
		for (int i = 0; frame && i < NFRAMES; i++) {
			double b[4] = { (i % 3) * 0.01 * w, (i % 2) * 0.02 * h,
					w * (1 - 0.02 * (i % 3)),
					h * (1 - 0.03 * (i % 2)) };
			memcpy(frame, bgr, (size_t)w * h * 3);
			frame_noise(frame, (size_t)w * h * 3, &x, 4);
			CHECK(fl_plate_read(r, frame, w, h, b, &reads[i]) == 0);
			reads[i].t = 2.0 * i;
			apart[i] = reads[i];
			apart[i].t = 600.0 * i;
			if (reads[i].conf > best) {
				best = reads[i].conf;
				ib = i;
			}
		}
		free(frame);
		free(bgr);
		if (!frame)
			continue;
		fl_plate_vote(reads, NFRAMES, 0.0, &vm);
		fl_plate_vote(apart, NFRAMES, 0.0, &vi);
		CHECK_MSG(vm.conf <= best + 1e-9,
			  "%s: one moment %.4f > best "
			  "read %.4f",
			  name, vm.conf, best);
		n++;
		ok_m += strcmp(vm.text, text) == 0;
		ok_i += strcmp(vi.text, text) == 0;
		sum_m += vm.conf;
		sum_i += vi.conf;
		sum_best += best;
		wrong_best += strcmp(reads[ib].text, text) != 0;
		if (kept(&reads[ib])) {
			kept_best++;
			wrong_best_kept += strcmp(reads[ib].text, text) != 0;
		}
		if (kept(&vm)) {
			kept_m++;
			wrong_m += strcmp(vm.text, text) != 0;
		}
		if (strcmp(vm.text, text) != 0 && kept(&vm))
			fprintf(stderr, "  %s: want %s, voted %s (%.3f)\n",
				name, text, vm.text, vm.conf);
		if (kept(&vi)) {
			kept_i++;
			wrong_i += strcmp(vi.text, text) != 0;
		}
	}
	fclose(f);
	printf("vote over %d still cars x %d frames: one moment %d exact, "
	       "mean conf %.3f, %d kept (%d wrong); as independent %d exact, "
	       "mean conf %.3f, %d kept (%d wrong); best single read %d "
	       "exact, mean conf %.3f, %d kept (%d wrong)\n",
	       n, NFRAMES, ok_m, sum_m / (n ? n : 1), kept_m, wrong_m, ok_i,
	       sum_i / (n ? n : 1), kept_i, wrong_i, n - wrong_best,
	       sum_best / (n ? n : 1), kept_best, wrong_best_kept);
	CHECK(n == 40);
	/* one moment keeps no more, and no more wrong, than its best read */
	CHECK_MSG(kept_m <= kept_best && wrong_m <= wrong_best_kept,
		  "one moment kept %d (%d wrong), its best read %d (%d wrong)",
		  kept_m, wrong_m, kept_best, wrong_best_kept);
}

/* The thresholds in plate.h are the ones the calibration chose for the
 * model it ships with (plate-reader.json: "thresholds", per script, the
 * lowest confidence at which the kept validation reads of that script were
 * 99% exact): a recalibrated or retrained model must not leave old ones
 * behind. */
static double json_threshold(const char *buf, const char *key)
{
	char pat[64];
	const char *p = strstr(buf, "\"thresholds\":");

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = p ? strstr(p, pat) : NULL;
	CHECK_MSG(p != NULL, "plate-reader.json has no thresholds.%s", key);
	return p ? atof(p + strlen(pat)) : -1;
}

static void test_threshold_matches_model(void)
{
	static const struct {
		const char *key;
		double ours;
	} t[] = { { "cn", FL_PLATE_MIN_CONF_CN },
		  { "cn_double_row", FL_PLATE_MIN_CONF_CN2 },
		  { "latin", FL_PLATE_MIN_CONF_LATIN } };
	char path[2048], buf[16384];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/model/plates/plate-reader.json",
		 src_dir);
	f = fopen(path, "r");
	CHECK_MSG(f != NULL, "%s missing", path);
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (size_t i = 0; i < FL_ARRAY_SIZE(t); i++) {
		double thr = json_threshold(buf, t[i].key);
		/* rounded up to 0.001, never below the calibrated one */
		CHECK_MSG(t[i].ours >= thr && t[i].ours <= thr + 0.001 + 1e-9,
			  "plate.h's %s threshold %.3f, the model's %.4f",
			  t[i].key, t[i].ours, thr);
	}
}

static void test_create_errors(void)
{
	char err[256], path[2048];
	fl_plate_reader *r;

	r = fl_plate_reader_create("/nonexistent/plate.onnx", err, sizeof(err));
	CHECK(r == NULL);
	CHECK(strstr(err, "/nonexistent/plate.onnx") != NULL);
	CHECK(fl_plate_reader_create(NULL, err, sizeof(err)) == NULL);
	/* a file that is not a model */
	snprintf(path, sizeof(path), "%s/not-a-model.onnx", tmp_dir);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("this is not an ONNX file\n", f);
		fclose(f);
	}
	r = fl_plate_reader_create(path, err, sizeof(err));
	CHECK(r == NULL);
	CHECK_MSG(strstr(err, "not-a-model.onnx") != NULL, "%s", err);
	fl_plate_reader_destroy(NULL);
}

int main(void)
{
	const char *s = getenv("FL_SOURCE_DIR");
	char model[2048], err[512], cmd[2100];
	fl_plate_reader *r;

	snprintf(src_dir, sizeof(src_dir), "%s", s ? s : ".");
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/fl-platereader-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp_dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(model, sizeof(model), "%s/model/plates/plate-reader.onnx",
		 src_dir);
	r = fl_plate_reader_create(model, err, sizeof(err));
	CHECK_MSG(r != NULL, "%s", err);
	if (r) {
		test_clean(r);
		test_degraded(r);
		test_no_plate(r);
		test_box(r);
		test_vote(r);
		test_vote_sequences(r);
	}
	test_threshold_matches_model();
	test_create_errors();
	fl_plate_reader_destroy(r);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp_dir);
	TEST_DONE();
}
