/*
 * test_vision.c - src/vision through its C API only, the way firelane-edge
 * uses it.
 *
 * Two tiers. The self-contained checks (resize maths, PNG round trip, error
 * paths, HOG on nothing) always run. The real-footage checks need the shared
 * test material beside the checkout ($FL_SOURCE_DIR/../shared/data: the
 * Yolo-Fastest model and the vtest / Candela clips) and the ffmpeg CLI to
 * pull single frames out of the clips; when either is absent they print why
 * and are skipped, never failed. Expected boxes were measured by eye on the
 * extracted frames and are written next to each check.
 *
 * Every check can fail: each asserts a number that a broken detector, a wrong
 * coordinate mapping or a skipped HOG pass would change.
 */
#include "fl.h"
#include "vision.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures;
static int checks;

#define CHECK(cond)                                                            \
	do {                                                                   \
		checks++;                                                      \
		if (!(cond)) {                                                 \
			failures++;                                            \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
		}                                                              \
	} while (0)

/* Log sink: keep the library's log lines visible in ctest output. */
static void log_sink(int level, const char *tag, const char *msg, void *user)
{
	(void)user;
	fprintf(stderr, "  [log %d %s] %s\n", level, tag, msg);
}

static char tmpdir[64];

/* Intersection over union of two x, y, w, h boxes. */
static double iou(const double *a, const double *b)
{
	double x0 = fmax(a[0], b[0]), y0 = fmax(a[1], b[1]);
	double x1 = fmin(a[0] + a[2], b[0] + b[2]);
	double y1 = fmin(a[1] + a[3], b[1] + b[3]);
	double inter, uni;

	if (x1 <= x0 || y1 <= y0)
		return 0.0;
	inter = (x1 - x0) * (y1 - y0);
	uni = a[2] * a[3] + b[2] * b[3] - inter;
	return uni > 0 ? inter / uni : 0.0;
}

/* Best IoU of any detection of vclass (or any class if vclass < 0) with box. */
static double best_iou(const fl_detection *d, int n, int vclass,
		       const double *box)
{
	double best = 0.0;

	for (int i = 0; i < n; i++) {
		double b[4] = { d[i].x, d[i].y, d[i].w, d[i].h };
		if (vclass >= 0 && d[i].vclass != vclass)
			continue;
		best = fmax(best, iou(b, box));
	}
	return best;
}

static void dump(const char *what, const fl_detection *d, int n)
{
	fprintf(stderr, "  %s: %d box(es)\n", what, n);
	for (int i = 0; i < n; i++)
		fprintf(stderr,
			"    %-7s coco %2d conf %.2f [%.0f,%.0f,%.0f,%.0f]\n",
			fl_vclass_name(d[i].vclass), d[i].coco_id, d[i].conf,
			d[i].x, d[i].y, d[i].w, d[i].h);
}

static int is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Every box lies inside the image and has positive size. */
static int boxes_sane(const fl_detection *d, int n, int w, int h)
{
	for (int i = 0; i < n; i++)
		if (!(d[i].w > 0 && d[i].h > 0 && d[i].x >= 0 && d[i].y >= 0 &&
		      d[i].x + d[i].w <= w + 1e-9 &&
		      d[i].y + d[i].h <= h + 1e-9))
			return 0;
	return 1;
}

/* Extract the frame at seconds ss of clip into tmpdir/name with ffmpeg and
 * load it as BGR (malloc'd, caller frees). Returns NULL if that failed. */
static uint8_t *grab_frame(const char *clip, double ss, const char *name,
			   int *w, int *h)
{
	char cmd[2048], out[256], err[512];
	uint8_t *bgr = NULL;

	snprintf(out, sizeof(out), "%s/%s", tmpdir, name);
	snprintf(cmd, sizeof(cmd),
		 "ffmpeg -nostdin -v error -y -ss %.3f -i '%s' -frames:v 1 '%s'",
		 ss, clip, out);
	if (system(cmd) != 0) {
		fprintf(stderr, "  ffmpeg failed: %s\n", cmd);
		return NULL;
	}
	if (fl_image_load_bgr(out, &bgr, w, h, err, sizeof(err)) != 0) {
		fprintf(stderr, "  %s\n", err);
		return NULL;
	}
	return bgr;
}

/* BGR -> gray with the usual luma weights (for HOG). Caller frees. */
static uint8_t *to_gray(const uint8_t *bgr, int w, int h)
{
	uint8_t *g = malloc((size_t)w * h);

	if (!g)
		return NULL;
	for (size_t i = 0; i < (size_t)w * h; i++)
		g[i] = (uint8_t)((bgr[3 * i] * 29 + bgr[3 * i + 1] * 150 +
				  bgr[3 * i + 2] * 77) >>
				 8);
	return g;
}

/* (3) fl_resize_gray: a gradient shrunk by exactly 2 is the 2x2 box mean;
 * padding bytes in the stride must never leak into the result; a
 * non-integer factor keeps the gradient monotonic. */
static void test_resize(void)
{
	enum { SW = 64, SH = 48, STRIDE = 80 };
	static uint8_t src[SH * STRIDE];
	static uint8_t dst[(SW / 2) * (SH / 2)];
	static uint8_t odd[20 * 15];
	int bad = 0, rc;

	memset(src, 255, sizeof(src)); /* poison the padding */
	for (int y = 0; y < SH; y++)
		for (int x = 0; x < SW; x++)
			src[y * STRIDE + x] = (uint8_t)(x + 2 * y);
	rc = fl_resize_gray(src, SW, SH, STRIDE, dst, SW / 2, SH / 2);
	CHECK(rc == 0);
	for (int y = 0; y < SH / 2; y++)
		for (int x = 0; x < SW / 2; x++) {
			double want = (2 * x + 0.5) + 2 * (2 * y + 0.5);
			if (fabs(dst[y * (SW / 2) + x] - want) > 1.0)
				bad++;
		}
	CHECK(bad == 0);

	rc = fl_resize_gray(src, SW, SH, STRIDE, odd, 20, 15);
	CHECK(rc == 0);
	bad = 0;
	for (int y = 0; y < 15; y++)
		for (int x = 1; x < 20; x++)
			if (odd[y * 20 + x] <= odd[y * 20 + x - 1])
				bad++;
	CHECK(bad == 0);
	/* the far corner is near the source's far corner (63 + 94), not the
	 * poisoned 255 */
	CHECK(abs(odd[14 * 20 + 19] - (63 + 94)) <= 4);

	CHECK(fl_resize_gray(src, SW, SH, SW - 1, dst, 2, 2) == FL_EINVAL);
	CHECK(fl_resize_gray(NULL, SW, SH, SW, dst, 2, 2) == FL_EINVAL);
	CHECK(fl_resize_gray(src, SW, SH, SW, dst, 0, 2) == FL_EINVAL);
}

/* (4) write a BGR PNG, read it back as gray at native and half size. */
static void test_image_roundtrip(void)
{
	enum { W = 40, H = 30 };
	static uint8_t bgr[W * H * 3];
	static uint8_t gray[W * H];
	static uint8_t half[(W / 2) * (H / 2)];
	char path[128], err[512];
	int nw = 0, nh = 0, bad = 0, rc;
	uint8_t *back = NULL;
	int bw = 0, bh = 0;

	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			uint8_t v = (uint8_t)(x * 6);
			bgr[(y * W + x) * 3 + 0] = v; /* gray pixels: B=G=R */
			bgr[(y * W + x) * 3 + 1] = v;
			bgr[(y * W + x) * 3 + 2] = v;
		}
	snprintf(path, sizeof(path), "%s/ref.png", tmpdir);
	rc = fl_image_write_bgr(path, bgr, W, H, err, sizeof(err));
	CHECK(rc == 0);

	rc = fl_image_load_gray(path, 0, 0, NULL, &nw, &nh, err, sizeof(err));
	CHECK(rc == 0 && nw == W && nh == H);
	rc = fl_image_load_gray(path, W, H, gray, NULL, NULL, err, sizeof(err));
	CHECK(rc == 0);
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			if (gray[y * W + x] != (uint8_t)(x * 6))
				bad++;
	CHECK(bad == 0); /* PNG is lossless and gray stays gray */
	rc = fl_image_load_gray(path, W / 2, H / 2, half, NULL, NULL, err,
				sizeof(err));
	CHECK(rc == 0 && abs(half[3] - (6 * 6 + 6 * 7) / 2) <= 1);

	rc = fl_image_load_bgr(path, &back, &bw, &bh, err, sizeof(err));
	CHECK(rc == 0 && bw == W && bh == H && back &&
	      memcmp(back, bgr, sizeof(bgr)) == 0);
	free(back);

	/* JPEG by extension: lossy, so only "close" */
	snprintf(path, sizeof(path), "%s/ref.JPG", tmpdir);
	CHECK(fl_image_write_bgr(path, bgr, W, H, err, sizeof(err)) == 0);
	rc = fl_image_load_gray(path, W, H, gray, NULL, NULL, err, sizeof(err));
	CHECK(rc == 0 && abs(gray[15 * W + 20] - 120) <= 8);

	/* errors name the path */
	snprintf(path, sizeof(path), "%s/ref.tiffy", tmpdir);
	CHECK(fl_image_write_bgr(path, bgr, W, H, err, sizeof(err)) ==
	      FL_EUNSUPPORTED);
	CHECK(strstr(err, path) != NULL);
	snprintf(path, sizeof(path), "%s/absent.png", tmpdir);
	CHECK(fl_image_load_gray(path, W, H, gray, NULL, NULL, err,
				 sizeof(err)) == FL_ENOENT);
	CHECK(strstr(err, path) != NULL);
	snprintf(path, sizeof(path), "%s/garbage.png", tmpdir);
	{
		FILE *f = fopen(path, "w");
		CHECK(f != NULL);
		if (f) {
			fputs("this is not a png\n", f);
			fclose(f);
		}
	}
	CHECK(fl_image_load_gray(path, W, H, gray, NULL, NULL, err,
				 sizeof(err)) == FL_EFORMAT);
	CHECK(strstr(err, path) != NULL);
}

/* (2) model error paths: NULL and a message naming the path. */
static void test_detector_errors(void)
{
	char path[256], err[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/absent.cfg", tmpdir);
	CHECK(fl_detector_create(path, 0.3, err, sizeof(err)) == NULL);
	CHECK(strstr(err, path) != NULL);

	/* a cfg with no weights beside it */
	snprintf(path, sizeof(path), "%s/lonely.cfg", tmpdir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("[net]\nwidth=320\nheight=320\nchannels=3\n", f);
		fclose(f);
	}
	CHECK(fl_detector_create(path, 0.3, err, sizeof(err)) == NULL);
	CHECK(strstr(err, path) != NULL && strstr(err, "weights") != NULL);

	/* garbage cfg + garbage weights: OpenCV throws, we must not */
	snprintf(path, sizeof(path), "%s/junk.weights", tmpdir);
	f = fopen(path, "w");
	if (f) {
		fputs("\x01\x02 not weights", f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/junk.cfg", tmpdir);
	f = fopen(path, "w");
	if (f) {
		fputs("%%%% garbage\n[[[\n\x7f\x01\n", f);
		fclose(f);
	}
	CHECK(fl_detector_create(path, 0.3, err, sizeof(err)) == NULL);
	CHECK(strstr(err, path) != NULL);
	fprintf(stderr, "  garbage model: %s\n", err);

	/* garbage ONNX */
	snprintf(path, sizeof(path), "%s/junk.onnx", tmpdir);
	f = fopen(path, "w");
	if (f) {
		fputs("not a protobuf at all", f);
		fclose(f);
	}
	CHECK(fl_detector_create(path, 0.3, err, sizeof(err)) == NULL);
	CHECK(strstr(err, path) != NULL);

	/* unknown type, bad threshold */
	CHECK(fl_detector_create("/x/model.pb", 0.3, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "/x/model.pb") != NULL);
	CHECK(fl_detector_create("/x/m.cfg", 0.0, err, sizeof(err)) == NULL);
	CHECK(fl_detector_create(NULL, 0.3, NULL, 0) == NULL);

	fl_detector_destroy(NULL); /* NULL-safe */
	fl_people_destroy(NULL);
	CHECK(fl_detector_run(NULL, (const uint8_t *)"", 1, 1, NULL, NULL, 0) ==
	      FL_EINVAL);
}

/* (5a) HOG without footage: a flat image holds nobody. */
static void test_people_blank(void)
{
	enum { W = 160, H = 200 };
	static uint8_t g[W * H];
	char err[256];
	fl_detection out[8];
	fl_people *p = fl_people_create(err, sizeof(err));

	CHECK(p != NULL);
	if (!p)
		return;
	memset(g, 128, sizeof(g));
	CHECK(fl_people_run(p, g, W, H, W, NULL, out, 8) == 0);
	CHECK(fl_people_run(p, g, W, H, W - 1, NULL, out, 8) == FL_EINVAL);
	{
		double off[4] = { 500, 500, 10, 10 }; /* outside the image */
		CHECK(fl_people_run(p, g, W, H, W, off, out, 8) == FL_EINVAL);
	}
	fl_people_destroy(p);
}

/* (1) + (5b) real model and real footage. */
static void test_real(const char *data)
{
	char model_dir[1100], model[1200], clip[1200], err[512];
	fl_detection out[64];
	fl_detector *d;
	uint8_t *bgr, *gray;
	int w, h, n;

	snprintf(model_dir, sizeof(model_dir), "%s/models/yolo-fastest-1.1",
		 data);
	if (!is_dir(model_dir)) {
		printf("SKIP real-model checks: %s absent\n", model_dir);
		return;
	}
	if (system("ffmpeg -version >/dev/null 2>&1") != 0) {
		printf("SKIP real-model checks: no ffmpeg CLI to extract frames\n");
		return;
	}
	snprintf(model, sizeof(model), "%s/yolo-fastest-1.1-xl.cfg", model_dir);
	d = fl_detector_create(model, 0.3, err, sizeof(err));
	CHECK(d != NULL);
	if (!d) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	{
		int iw = 0, ih = 0;
		fl_detector_input_size(d, &iw, &ih);
		CHECK(iw == 320 && ih == 320);
	}

	/* vtest frame 0: the white van parked top right, measured by eye */
	snprintf(clip, sizeof(clip), "%s/clips/vtest/vtest.avi", data);
	bgr = grab_frame(clip, 0.0, "vtest0.png", &w, &h);
	CHECK(bgr != NULL);
	if (bgr) {
		const double van[4] = { 651, 43, 74, 58 };
		const double walker[4] = { 640, 240, 45, 80 };
		fl_people *p;

		CHECK(w == 768 && h == 576);
		n = fl_detector_run(d, bgr, w, h, NULL, out, 64);
		dump("vtest frame 0", out, n);
		CHECK(n > 0 && boxes_sane(out, n, w, h));
		CHECK(best_iou(out, n, FL_VCLASS_VEHICLE, van) >= 0.3);
		/* three people are walking in this frame */
		CHECK(best_iou(out, n, FL_VCLASS_PERSON, walker) >= 0.3);
		for (int i = 1; i < n; i++)
			CHECK(out[i].conf <= out[i - 1].conf);

		n = fl_detector_run(d, bgr, w, h, van, out, 64);
		dump("vtest frame 0, van roi", out, n);
		CHECK(n > 0 && boxes_sane(out, n, w, h));
		CHECK(best_iou(out, n, FL_VCLASS_VEHICLE, van) >= 0.3);
		/* max truncates */
		CHECK(fl_detector_run(d, bgr, w, h, NULL, out, 1) == 1);
		CHECK(fl_detector_run(d, bgr, w, h, NULL, out, 0) == 0);

		/* (5b) HOG on roi around two walkers (eye-measured): the
		 * upscaled crop brings them up to the 64x128 window */
		gray = to_gray(bgr, w, h);
		p = fl_people_create(err, sizeof(err));
		CHECK(gray && p);
		if (gray && p) {
			const double mid[4] = { 500, 158, 30, 76 };
			n = fl_people_run(p, gray, w, h, w, walker, out, 64);
			dump("HOG, walker roi", out, n);
			CHECK(best_iou(out, n, FL_VCLASS_PERSON, walker) >= 0.3);
			n = fl_people_run(p, gray, w, h, w, mid, out, 64);
			dump("HOG, middle walker roi", out, n);
			CHECK(best_iou(out, n, FL_VCLASS_PERSON, mid) >= 0.3);
			n = fl_people_run(p, gray, w, h, w, NULL, out, 64);
			dump("HOG, full frame", out, n);
			CHECK(n >= 1 && boxes_sane(out, n, w, h));
			for (int i = 0; i < n; i++)
				CHECK(out[i].h > out[i].w &&
				      out[i].coco_id == -1);
		}
		fl_people_destroy(p);
		free(gray);
		free(bgr);
	}

	/* Candela lobby at t = 5 s: the man seated on the sofa */
	snprintf(clip, sizeof(clip), "%s/clips/candela-m1.10/Candela_m1_10.mp4",
		 data);
	bgr = grab_frame(clip, 5.0, "candela5.png", &w, &h);
	CHECK(bgr != NULL);
	if (bgr) {
		const double man[4] = { 172, 98, 50, 97 };
		CHECK(w == 352 && h == 288);
		n = fl_detector_run(d, bgr, w, h, NULL, out, 64);
		dump("candela t=5s", out, n);
		CHECK(best_iou(out, n, FL_VCLASS_PERSON, man) >= 0.3);
		n = fl_detector_run(d, bgr, w, h, man, out, 64);
		dump("candela t=5s, man roi", out, n);
		CHECK(best_iou(out, n, FL_VCLASS_PERSON, man) >= 0.3);
		free(bgr);
	}
	fl_detector_destroy(d);
}

/* Remove the files this test put into tmpdir, then the dir. */
static void cleanup(void)
{
	static const char *names[] = { "vtest0.png",  "candela5.png",
				       "ref.png",     "ref.JPG",
				       "garbage.png", "lonely.cfg",
				       "junk.cfg",    "junk.weights",
				       "junk.onnx" };
	char p[256];

	for (size_t i = 0; i < FL_ARRAY_SIZE(names); i++) {
		snprintf(p, sizeof(p), "%s/%s", tmpdir, names[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

int main(void)
{
	const char *src = getenv("FL_SOURCE_DIR");
	char data[1000];

	fl_log_set(log_sink, FL_LOG_INFO, NULL);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fl-vision-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_resize();
	test_image_roundtrip();
	test_detector_errors();
	test_people_blank();
	if (src) {
		snprintf(data, sizeof(data), "%.900s/../shared/data", src);
		test_real(data);
	} else {
		printf("SKIP real-model checks: FL_SOURCE_DIR not set\n");
	}
	cleanup();
	printf("test_vision: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
