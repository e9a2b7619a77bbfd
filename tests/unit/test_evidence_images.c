/*
 * test_evidence_images.c - the pictures of an evidence bundle through the
 * vision C API: JPEG bytes, the text banner (with Chinese text), the
 * close-up, the composite and the plate finder on synthetic images.
 *
 * Every check can fail: each asserts a size, a pixel difference or a box
 * that a broken implementation would change. The overlay checks need the
 * Debian CJK font (fonts-noto-cjk); when it is absent they say so and are
 * skipped, everything else still runs. Set FL_TEST_DUMP=dir to write the
 * images drawn here as PNGs for a look by eye.
 */
#include "fl.h"
#include "vision.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

static void log_sink(int level, const char *tag, const char *msg, void *user)
{
	(void)user;
	fprintf(stderr, "  [log %d %s] %s\n", level, tag, msg);
}

static void dump(const char *name, const uint8_t *bgr, int w, int h)
{
	const char *dir = getenv("FL_TEST_DUMP");
	char path[512], err[256];

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s.png", dir, name);
	if (fl_image_write_bgr(path, bgr, w, h, err, sizeof(err)) < 0)
		fprintf(stderr, "dump: %s\n", err);
}

/* Deterministic pseudo-random bytes (xorshift32). */
static uint32_t rng = 12345;
static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* A smooth colour gradient with mild noise: JPEG-friendly and textured. */
static uint8_t *make_scene(int w, int h)
{
	uint8_t *p = malloc((size_t)w * h * 3);

	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *q = p + ((size_t)y * w + x) * 3;
			int n = (int)(next_rand() % 9) - 4;
			q[0] = (uint8_t)(40 + 150 * x / w + n);
			q[1] = (uint8_t)(60 + 120 * y / h + n);
			q[2] = (uint8_t)(90 + 60 * (x + y) / (w + h) + n);
		}
	return p;
}

static void fill_rect(uint8_t *p, int w, int x0, int y0, int rw, int rh, int b,
		      int g, int r)
{
	for (int y = y0; y < y0 + rh; y++)
		for (int x = x0; x < x0 + rw; x++) {
			uint8_t *q = p + ((size_t)y * w + x) * 3;
			q[0] = (uint8_t)b;
			q[1] = (uint8_t)g;
			q[2] = (uint8_t)r;
		}
}

/* Mean absolute difference per byte of two equal-sized regions. */
static double region_diff(const uint8_t *a, const uint8_t *b, int w, int y0,
			  int y1)
{
	double s = 0;
	size_t n = 0;

	for (int y = y0; y < y1; y++)
		for (int x = 0; x < w * 3; x++, n++)
			s += abs((int)a[(size_t)y * w * 3 + x] -
				 (int)b[(size_t)y * w * 3 + x]);
	return n ? s / n : 0;
}

static int count_changed(const uint8_t *a, const uint8_t *b, int w, int y0,
			 int y1)
{
	int n = 0;

	for (int y = y0; y < y1; y++)
		for (int x = 0; x < w * 3; x++)
			n += a[(size_t)y * w * 3 + x] !=
			     b[(size_t)y * w * 3 + x];
	return n;
}

/* ---- JPEG ---- */

static void test_jpeg_roundtrip(void)
{
	int w = 320, h = 200, dw = 0, dh = 0, rc;
	uint8_t *img = make_scene(w, h), *jpg = NULL, *back = NULL;
	size_t len = 0;
	char err[256], path[] = "/tmp/fl-test-evidence-XXXXXX";
	int fd;

	fill_rect(img, w, 100, 60, 80, 50, 20, 200, 230);
	rc = fl_jpeg_encode(img, w, h, 90, &jpg, &len, err, sizeof(err));
	CHECK_MSG(rc == 0, "%s", err);
	CHECK(jpg != NULL && len > 100);
	CHECK_LT_INT(len, (size_t)w * h * 3);           /* it did compress */
	CHECK(jpg && jpg[0] == 0xFF && jpg[1] == 0xD8); /* SOI marker */

	fd = mkstemp(path);
	CHECK_GE_INT(fd, 0);
	if (fd >= 0 && jpg) {
		CHECK_EQ_INT(write(fd, jpg, len), (ssize_t)len);
		close(fd);
		/* mkstemp gives no extension; imread sniffs the content */
		rc = fl_image_load_bgr(path, &back, &dw, &dh, err, sizeof(err));
		CHECK_MSG(rc == 0, "%s", err);
		CHECK(dw == w && dh == h);
		if (back && dw == w && dh == h) {
			double d = region_diff(img, back, w, 0, h);
			CHECK_MSG(d < 4.0, "mean abs diff %.2f", d);
			/* the yellow block survived as yellow */
			const uint8_t *q = back + ((size_t)85 * w + 140) * 3;
			CHECK(abs(q[0] - 20) < 12 && abs(q[1] - 200) < 12 &&
			      abs(q[2] - 230) < 12);
		}
		unlink(path);
	}
	free(back);
	free(jpg);

	/* quality changes the size: 10 is much smaller than 95 */
	{
		uint8_t *lo = NULL, *hi = NULL;
		size_t llo = 0, lhi = 0;
		CHECK_EQ_INT(fl_jpeg_encode(img, w, h, 10, &lo, &llo, NULL, 0),
			     0);
		CHECK_EQ_INT(fl_jpeg_encode(img, w, h, 95, &hi, &lhi, NULL, 0),
			     0);
		CHECK_MSG(llo * 2 < lhi, "q10 %zu q95 %zu", llo, lhi);
		free(lo);
		free(hi);
	}
	/* bad arguments */
	jpg = (uint8_t *)1;
	CHECK_EQ_INT(fl_jpeg_encode(img, w, h, 0, &jpg, &len, err, sizeof(err)),
		     FL_EINVAL);
	CHECK(jpg == NULL && len == 0);
	CHECK_EQ_INT(fl_jpeg_encode(img, w, h, 101, &jpg, &len, NULL, 0),
		     FL_EINVAL);
	CHECK_EQ_INT(fl_jpeg_encode(NULL, w, h, 90, &jpg, &len, NULL, 0),
		     FL_EINVAL);
	CHECK_EQ_INT(fl_jpeg_encode(img, 0, h, 90, &jpg, &len, NULL, 0),
		     FL_EINVAL);
	free(img);

	/* fl_image_free is NULL-safe and clears */
	{
		fl_image im = { malloc(3), 1, 1 };
		fl_image_free(&im);
		CHECK(im.bgr == NULL && im.w == 0 && im.h == 0);
		fl_image_free(&im);
		fl_image_free(NULL);
	}
}

/* fl_jpeg_thumb: the band above the picture cut off, the rest scaled to
 * the width asked, its shape kept; never enlarged; errors. */
static void test_jpeg_thumb(void)
{
	int w = 640, h = 400, band = 40, tw = 0, th = 0;
	uint8_t *img = make_scene(w, h), *jpg = NULL, *small = NULL;
	uint8_t *back = NULL;
	size_t len = 0, slen = 0;
	char err[256], path[] = "/tmp/fl-test-thumb-XXXXXX";
	int fd;

	fill_rect(img, w, 0, 0, w, band, 0, 0, 255); /* a red band */
	CHECK_EQ_INT(fl_jpeg_encode(img, w, h, 90, &jpg, &len, err, sizeof(err)),
		     0);
	CHECK_MSG(fl_jpeg_thumb(jpg, len, band, 320, 85, &small, &slen, err,
				sizeof(err)) == 0,
		  "%s", err);
	fd = mkstemp(path);
	CHECK_GE_INT(fd, 0);
	if (fd >= 0 && small) {
		CHECK_EQ_INT(write(fd, small, slen), (ssize_t)slen);
		close(fd);
		CHECK_EQ_INT(fl_image_load_bgr(path, &back, &tw, &th, err,
					       sizeof(err)),
			     0);
		CHECK_EQ_INT(tw, 320);
		CHECK_EQ_INT(th, (h - band) / 2);
		/* no red left: the first row is the scene's */
		for (int x = 0; back && x < tw; x += 16) {
			const uint8_t *p = back + (size_t)x * 3;
			CHECK_MSG(!(p[2] > 200 && p[1] < 60 && p[0] < 60),
				  "red at x %d of the first row", x);
		}
		unlink(path);
	}
	free(back);
	free(small);
	small = NULL;

	/* smaller than asked: kept as it is, only the band cut */
	CHECK_EQ_INT(fl_jpeg_thumb(jpg, len, 0, 1000, 85, &small, &slen, NULL,
				   0),
		     0);
	CHECK(small && slen > 100);
	free(small);

	/* errors: bad arguments, not a JPEG, nothing below the band */
	small = (uint8_t *)1;
	CHECK_EQ_INT(fl_jpeg_thumb(jpg, len, 0, 8, 85, &small, &slen, NULL, 0),
		     FL_EINVAL);
	CHECK(small == NULL && slen == 0);
	CHECK_EQ_INT(fl_jpeg_thumb(jpg, len, -1, 320, 85, &small, &slen, NULL,
				   0),
		     FL_EINVAL);
	CHECK_EQ_INT(fl_jpeg_thumb((const uint8_t *)"not a jpeg", 10, 0, 320,
				   85, &small, &slen, err, sizeof(err)),
		     FL_EFORMAT);
	CHECK_EQ_INT(fl_jpeg_thumb(jpg, len / 3, h, 320, 85, &small, &slen,
				   NULL, 0),
		     FL_EFORMAT);
	CHECK_EQ_INT(fl_jpeg_thumb(jpg, len, h, 320, 85, &small, &slen, NULL, 0),
		     FL_EFORMAT);
	free(jpg);
	free(img);
}

/* ---- overlay ---- */

static void test_overlay(void)
{
	char err[256] = "";
	fl_overlay *o;

	/* a missing font fails at create, naming the path */
	o = fl_overlay_create("/nonexistent/font.ttf", err, sizeof(err));
	CHECK_NULL(o);
	CHECK_MSG(strstr(err, "/nonexistent/font.ttf") != NULL &&
			  strstr(err, "font") != NULL,
		  "err '%s'", err);
	/* a file that is not a font fails too */
	err[0] = 0;
	o = fl_overlay_create("/etc/hostname", err, sizeof(err));
	if (access("/etc/hostname", R_OK) == 0) {
		CHECK_NULL(o);
		CHECK_MSG(strstr(err, "/etc/hostname") != NULL, "err '%s'",
			  err);
	}
	fl_overlay_destroy(o);
	fl_overlay_destroy(NULL);

	if (access(FL_OVERLAY_DEFAULT_FONT, R_OK) != 0) {
		printf("SKIP overlay drawing: %s absent (fonts-noto-cjk)\n",
		       FL_OVERLAY_DEFAULT_FONT);
		return;
	}
	o = fl_overlay_create(NULL, err, sizeof(err));
	CHECK_MSG(o != NULL, "%s", err);
	if (!o)
		return;

	static const int sizes[][2] = { { 1280, 720 },
					{ 1920, 1080 },
					{ 480, 320 } };
	/* the fields of a real banner, as the evidence writer makes them */
	static const char *const cjk[] = { "2026-12-06 19:39:47 +08:00",
					   "第3张",
					   "防伪码 7F3A9CQ2XKLM",
					   "城东小区 3 号楼 (east-gate)",
					   "消防通道 A (lane-a)",
					   "摄像机 cam-1",
					   "设备 edge-01",
					   "事件 edge-01-6b0c1c12-lane-a-1" };
	static const char *const qm[] = { "2026-12-06 19:39:47 +08:00",
					  "?3?",
					  "??? 7F3A9CQ2XKLM",
					  "???? 3 ??? (east-gate)",
					  "???? A (lane-a)",
					  "??? cam-1",
					  "?? edge-01",
					  "?? edge-01-6b0c1c12-lane-a-1" };
	int prev_lines = 0, prev_th_band = 0;

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		int w = sizes[k][0], h = sizes[k][1], bh = -1, bq = -1;
		uint8_t *orig = make_scene(w, h);
		fl_image pic = { orig, w, h }, a = { 0 }, b = { 0 };
		char lines[1024], name[64];
		int nlines = 1;

		CHECK_EQ_INT(fl_overlay_band(o, &pic, cjk, 8, &a, &bh, lines,
					     sizeof(lines), err, sizeof(err)),
			     0);
		CHECK_EQ_INT(fl_overlay_band(o, &pic, qm, 8, &b, &bq, NULL, 0,
					     err, sizeof(err)),
			     0);
		if (!CHECK_NOT_NULL(a.bgr) || !CHECK_NOT_NULL(b.bgr))
			continue;
		snprintf(name, sizeof(name), "overlay_band_%dx%d", w, h);
		dump(name, a.bgr, a.w, a.h);

		/* a band added above: the picture is whole and unchanged
		 * below it, no pixel of the scene covered */
		CHECK_EQ_INT(a.w, w);
		CHECK_EQ_INT(a.h, h + bh);
		CHECK_MSG(memcmp(a.bgr + (size_t)bh * w * 3, orig,
				 (size_t)w * h * 3) == 0,
			  "%dx%d: the picture changed under the band", w, h);
		/* compact: at most a fifth of the picture's height */
		CHECK_MSG(bh > 0 && bh <= h / 5, "%dx%d: a %d px band", w, h,
			  bh);
		/* every field is in the lines as drawn, in order */
		for (const char *p = lines; (p = strchr(p, '\n')); p++)
			nlines++;
		{
			const char *at = lines;
			for (int i = 0; i < 8; i++) {
				const char *f = strstr(at, cjk[i]);
				CHECK_MSG(f != NULL, "%dx%d: '%s' not in '%s'",
					  w, h, cjk[i], lines);
				if (f)
					at = f + strlen(cjk[i]);
			}
		}
		/* a wide picture holds the fields in fewer lines than a
		 * narrow close-up */
		if (k == 2)
			CHECK_MSG(nlines > prev_lines,
				  "480 px wide: %d lines, 1920 px: %d", nlines,
				  prev_lines);
		else
			CHECK_MSG(nlines <= 2, "%dx%d: %d lines: %s", w, h,
				  nlines, lines);
		/* white text on the near-black band */
		{
			int white = 0, dark = 0;
			for (int y = 0; y < bh; y++)
				for (int x = 0; x < w; x++) {
					const uint8_t *q =
						a.bgr + ((size_t)y * w + x) * 3;
					white += q[0] > 200 && q[1] > 200 &&
						 q[2] > 200;
					dark += q[0] < 40 && q[1] < 40 &&
						q[2] < 40;
				}
			CHECK_MSG(white > 100 && dark > w * bh / 2,
				  "%dx%d: %d white, %d dark pixels", w, h,
				  white, dark);
		}
		/* CJK glyphs are not the '?' fallback: the two bands
		 * differ where the Chinese was drawn */
		if (bq == bh) {
			int diff = count_changed(a.bgr, b.bgr, w, 0, bh);
			CHECK_MSG(diff > 300, "%dx%d: CJK vs '?' differ in %d",
				  w, h, diff);
		}
		/* and they are real, distinct glyphs: a font without CJK
		 * draws every ideograph as the same tofu box (or nothing),
		 * so a permutation of the characters would look the same */
		{
			const char *l1[] = { "消防通道" },
				   *l2[] = { "道通防消" };
			fl_image c = { 0 }, d = { 0 };
			int bc = 0, bd = 0;

			CHECK_EQ_INT(fl_overlay_band(o, &pic, l1, 1, &c, &bc,
						     NULL, 0, NULL, 0),
				     0);
			CHECK_EQ_INT(fl_overlay_band(o, &pic, l2, 1, &d, &bd,
						     NULL, 0, NULL, 0),
				     0);
			CHECK_EQ_INT(bc, bd);
			if (c.bgr && d.bgr && bc == bd)
				CHECK_MSG(count_changed(c.bgr, d.bgr, w, 0,
							bc) > 300,
					  "%dx%d: permuted ideographs draw the "
					  "same",
					  w, h);
			fl_image_free(&c);
			fl_image_free(&d);
		}
		/* the text scales with the picture */
		if (k == 1)
			CHECK_GT_INT(bh, prev_th_band);
		prev_th_band = bh;
		prev_lines = nlines;
		fl_image_free(&a);
		fl_image_free(&b);

		/* a field wider than the picture is broken, not lost */
		{
			const char *lng[] = { "事件 edge-01-6b0c1c12-lane-a-1-"
					      "0123456789012345678901234567890"
					      "1234567890123456789012345678901"
					      "23456789012345678901234567890" };
			fl_image c = { 0 };

			CHECK_EQ_INT(fl_overlay_band(o, &pic, lng, 1, &c, &bh,
						     lines, sizeof(lines), err,
						     sizeof(err)),
				     0);
			if (w == 480)
				CHECK_MSG(strchr(lines, '\n') != NULL,
					  "not broken: %s", lines);
			fl_image_free(&c);
		}
		/* errors: bad arguments, or more lines than a band holds */
		{
			const char *many[40];
			fl_image tiny = { orig, 40, 40 }, c = { 0 };

			for (int i = 0; i < 40; i++)
				many[i] = "消防通道 A (lane-a)";
			CHECK_EQ_INT(fl_overlay_band(o, &tiny, many, 40, &c,
						     NULL, NULL, 0, err,
						     sizeof(err)),
				     FL_EINVAL);
			CHECK_NULL(c.bgr);
			CHECK_EQ_INT(fl_overlay_band(o, NULL, cjk, 8, &c, NULL,
						     NULL, 0, NULL, 0),
				     FL_EINVAL);
			CHECK_EQ_INT(fl_overlay_band(o, &pic, NULL, 2, &c, NULL,
						     NULL, 0, NULL, 0),
				     FL_EINVAL);
		}
		/* no text: no band, the picture as it was */
		{
			fl_image c = { 0 };
			const char *none[] = { "", NULL };

			CHECK_EQ_INT(fl_overlay_band(o, &pic, none, 2, &c, &bh,
						     NULL, 0, NULL, 0),
				     0);
			CHECK_EQ_INT(bh, 0);
			CHECK(c.bgr && c.h == h &&
			      !memcmp(c.bgr, orig, (size_t)w * h * 3));
			fl_image_free(&c);
		}
		/* malformed UTF-8 does not crash and still draws */
		{
			const char *bad[] = { "bad \xE6\xB6 utf8 \xFF\xC0 end" };
			fl_image c = { 0 };

			CHECK_EQ_INT(fl_overlay_band(o, &pic, bad, 1, &c, &bh,
						     NULL, 0, err, sizeof(err)),
				     0);
			CHECK_GT_INT(bh, 0);
			fl_image_free(&c);
		}
		free(orig);
	}
	fl_overlay_destroy(o);
}

/* ---- close-up ---- */

static void test_closeup(void)
{
	int w = 1280, h = 720;
	uint8_t *img = make_scene(w, h);
	fl_image out = { NULL, 0, 0 };
	char err[256];
	double big[4] = { 200, 100, 800, 500 };
	double small[4] = { 600, 400, 60, 40 };
	fl_plate pl = { 620, 420, 20, 10, 1.0 };

	/* a red object in the box */
	fill_rect(img, w, 620, 410, 20, 20, 0, 0, 255);

	/* big box: scaled down so the longer side is max_side */
	CHECK_EQ_INT(fl_evidence_closeup(img, w, h, big, NULL, 640, &out, err,
					 sizeof(err)),
		     0);
	CHECK_NOT_NULL(out.bgr);
	CHECK_MSG(out.w == 640 && abs(out.h - 400) <= 1, "%dx%d", out.w, out.h);
	fl_image_free(&out);

	/* small box: upscaled to 480 on the longer side (60x40 + 15% margins
	 * = 78x52 -> 480x320), and the red object is in the middle */
	CHECK_EQ_INT(fl_evidence_closeup(img, w, h, small, NULL, 1024, &out,
					 err, sizeof(err)),
		     0);
	CHECK_MSG(out.w == 480 && abs(out.h - 320) <= 1, "%dx%d", out.w, out.h);
	if (out.bgr) {
		/* red object at (620..640, 410..430); crop origin (591, 394),
		 * scale 480/78 -> centre at about (240, 160) */
		const uint8_t *q = out.bgr + ((size_t)160 * out.w + 240) * 3;
		CHECK_MSG(q[2] > 200 && q[1] < 60 && q[0] < 60,
			  "centre %d,%d,%d", q[0], q[1], q[2]);
		dump("closeup_small", out.bgr, out.w, out.h);
	}
	/* with a plate: a yellow rectangle appears, the plain one has none */
	{
		fl_image withp = { NULL, 0, 0 };
		int yellow = 0, yellow0 = 0;
		CHECK_EQ_INT(fl_evidence_closeup(img, w, h, small, &pl, 1024,
						 &withp, err, sizeof(err)),
			     0);
		for (int i = 0; out.bgr && withp.bgr && i < out.w * out.h;
		     i++) {
			const uint8_t *a = withp.bgr + (size_t)i * 3;
			const uint8_t *b = out.bgr + (size_t)i * 3;
			yellow += a[0] < 60 && a[1] > 180 && a[2] > 220;
			yellow0 += b[0] < 60 && b[1] > 180 && b[2] > 220;
		}
		CHECK_MSG(yellow > 200 && yellow0 == 0, "yellow %d / %d",
			  yellow, yellow0);
		dump("closeup_plate", withp.bgr, withp.w, withp.h);
		fl_image_free(&withp);
	}
	fl_image_free(&out);

	/* upscaling never passes max_side */
	CHECK_EQ_INT(fl_evidence_closeup(img, w, h, small, NULL, 300, &out,
					 NULL, 0),
		     0);
	CHECK_EQ_INT(out.w, 300);
	fl_image_free(&out);

	/* a box at the image edge is clipped, not rejected */
	{
		double edge[4] = { 1200, 650, 200, 200 };
		CHECK_EQ_INT(fl_evidence_closeup(img, w, h, edge, NULL, 1024,
						 &out, NULL, 0),
			     0);
		CHECK(out.w == 480 || out.h == 480);
		fl_image_free(&out);
	}
	/* errors */
	{
		double outside[4] = { 5000, 5000, 10, 10 };
		double empty[4] = { 10, 10, 0, 10 };
		out.bgr = (uint8_t *)1;
		CHECK_EQ_INT(fl_evidence_closeup(img, w, h, outside, NULL, 1024,
						 &out, err, sizeof(err)),
			     FL_EINVAL);
		CHECK_NULL(out.bgr);
		CHECK_EQ_INT(fl_evidence_closeup(img, w, h, empty, NULL, 1024,
						 &out, NULL, 0),
			     FL_EINVAL);
		CHECK_EQ_INT(fl_evidence_closeup(img, w, h, small, NULL, 0,
						 &out, NULL, 0),
			     FL_EINVAL);
		CHECK_EQ_INT(fl_evidence_closeup(NULL, w, h, small, NULL, 100,
						 &out, NULL, 0),
			     FL_EINVAL);
	}
	free(img);
}

/* ---- composite ---- */

static void test_composite(void)
{
	fl_image sc[4], cu, out = { NULL, 0, 0 };
	char err[256];
	int sizes[4][2] = {
		{ 1280, 720 }, { 1920, 1080 }, { 1280, 720 }, { 640, 480 }
	};

	for (int i = 0; i < 4; i++) {
		sc[i].w = sizes[i][0];
		sc[i].h = sizes[i][1];
		sc[i].bgr = make_scene(sc[i].w, sc[i].h);
	}
	cu.w = 480;
	cu.h = 320;
	cu.bgr = make_scene(cu.w, cu.h);
	fill_rect(cu.bgr, cu.w, 0, 0, cu.w, cu.h, 0, 0, 255); /* all red */

	/* n = 1: 1280x720 + gap + close-up at 720 tall (480x320 * 2.25 is
	 * capped at 2x -> 960x640, centred) */
	CHECK_EQ_INT(fl_evidence_composite(sc, 1, &cu, 0, &out, err,
					   sizeof(err)),
		     0);
	CHECK_MSG(out.w == 1280 + 8 + 960 && out.h == 720, "%dx%d", out.w,
		  out.h);
	if (out.bgr && out.w == 2248) {
		/* the close-up is right of the scene: red at its centre */
		const uint8_t *q = out.bgr +
				   ((size_t)360 * out.w + 1288 + 480) * 3;
		CHECK(q[2] > 200 && q[0] < 50);
		/* the scene is at the left: not red */
		q = out.bgr + ((size_t)360 * out.w + 640) * 3;
		CHECK(!(q[2] > 200 && q[0] < 50));
	}
	fl_image_free(&out);

	/* n = 2 with different heights: common height 720 (the smaller) */
	CHECK_EQ_INT(fl_evidence_composite(sc, 2, &cu, 0, &out, err,
					   sizeof(err)),
		     0);
	CHECK_MSG(out.h == 720 && out.w == 1280 + 8 + 1280 + 8 + 960, "%dx%d",
		  out.w, out.h);
	fl_image_free(&out);

	/* n = 3: a 2x2 grid at height 720 -> block 2568 x 1448, close-up
	 * 2x -> 960x640; total 3536 <= 3840 */
	CHECK_EQ_INT(fl_evidence_composite(sc, 3, &cu, 0, &out, err,
					   sizeof(err)),
		     0);
	CHECK_MSG(out.h == 1448 && out.w == 2568 + 8 + 960, "%dx%d", out.w,
		  out.h);
	dump("composite3", out.bgr, out.w, out.h);
	fl_image_free(&out);

	/* n = 4 with a 640x480 scene: common height 480 */
	CHECK_EQ_INT(fl_evidence_composite(sc, 4, &cu, 0, &out, err,
					   sizeof(err)),
		     0);
	CHECK_MSG(out.h == 968, "%dx%d", out.w, out.h);
	fl_image_free(&out);

	/* max_w scales the whole down, keeping the aspect */
	CHECK_EQ_INT(fl_evidence_composite(sc, 3, &cu, 1920, &out, err,
					   sizeof(err)),
		     0);
	CHECK_MSG(out.w == 1920 &&
			  abs(out.h - (int)lround(1448.0 * 1920 / 3536)) <= 1,
		  "%dx%d", out.w, out.h);
	fl_image_free(&out);

	/* errors */
	out.bgr = (uint8_t *)1;
	CHECK_EQ_INT(fl_evidence_composite(sc, 0, &cu, 0, &out, err,
					   sizeof(err)),
		     FL_EINVAL);
	CHECK_NULL(out.bgr);
	CHECK_EQ_INT(fl_evidence_composite(sc, 5, &cu, 0, &out, NULL, 0),
		     FL_EINVAL);
	CHECK_EQ_INT(fl_evidence_composite(sc, 2, NULL, 0, &out, NULL, 0),
		     FL_EINVAL);
	CHECK_EQ_INT(fl_evidence_composite(sc, 2, &cu, 100, &out, NULL, 0),
		     FL_EINVAL);
	{
		fl_image bad = { NULL, 10, 10 };
		CHECK_EQ_INT(fl_evidence_composite(&bad, 1, &cu, 0, &out, NULL,
						   0),
			     FL_EINVAL);
	}
	for (int i = 0; i < 4; i++)
		free(sc[i].bgr);
	free(cu.bgr);
}

/* ---- plates ---- */

/* A car-like scene: dark body with a noisy texture and a few horizontal
 * lines (bumper, boot lid), and a white plate with seven black
 * character-like glyphs at (px, py), 120x40. */
static uint8_t *make_car(int w, int h, int px, int py)
{
	uint8_t *p = malloc((size_t)w * h * 3);

	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *q = p + ((size_t)y * w + x) * 3;
			int v = 70 + (int)(next_rand() % 30);
			if ((y / 6) % 15 == 0)
				v += 50; /* panel lines */
			q[0] = (uint8_t)(v + 10);
			q[1] = (uint8_t)v;
			q[2] = (uint8_t)(v - 10);
		}
	if (px < 0)
		return p;
	fill_rect(p, w, px, py, 120, 40, 235, 235, 235);
	for (int c = 0; c < 7; c++) {
		int cx = px + 8 + c * 15;
		/* a glyph: two verticals and a bar, like an 'H' or '0' */
		fill_rect(p, w, cx, py + 8, 3, 24, 20, 20, 20);
		fill_rect(p, w, cx + 8, py + 8, 3, 24, 20, 20, 20);
		fill_rect(p, w, cx, py + 8 + (c % 3) * 10, 11, 3, 20, 20, 20);
	}
	return p;
}

static void test_plates(void)
{
	int w = 640, h = 480;
	uint8_t *car = make_car(w, h, 300, 330);
	fl_plate pl[5];
	int n;
	double truth[4] = { 300, 330, 120, 40 };

	n = fl_plate_find(car, w, h, NULL, pl, 5);
	CHECK_GE_INT(n, 1);
	if (n >= 1) {
		double x0 = fmax(pl[0].x, truth[0]),
		       y0 = fmax(pl[0].y, truth[1]);
		double x1 = fmin(pl[0].x + pl[0].w, truth[0] + truth[2]);
		double y1 = fmin(pl[0].y + pl[0].h, truth[1] + truth[3]);
		double in = (x1 > x0 && y1 > y0) ? (x1 - x0) * (y1 - y0) : 0;
		double iou = in /
			     (pl[0].w * pl[0].h + truth[2] * truth[3] - in);
		CHECK_MSG(iou >= 0.5, "best box %.0f,%.0f %.0fx%.0f iou %.2f",
			  pl[0].x, pl[0].y, pl[0].w, pl[0].h, iou);
		CHECK(pl[0].score > 0 && pl[0].score <= 1);
		for (int i = 1; i < n; i++)
			CHECK(pl[i].score <= pl[i - 1].score);
	}
	/* with a car roi: same plate, coordinates in the image frame */
	{
		double roi[4] = { 200, 250, 330, 200 };
		n = fl_plate_find(car, w, h, roi, pl, 5);
		CHECK_MSG(n >= 1 && fabs(pl[0].x - 300) < 20 &&
				  fabs(pl[0].y - 330) < 15,
			  "n %d x %.0f y %.0f", n, n > 0 ? pl[0].x : -1,
			  n > 0 ? pl[0].y : -1);
		for (int i = 0; i < n; i++)
			CHECK(pl[i].x >= roi[0] - 1e-6 &&
			      pl[i].y >= roi[1] - 1e-6 &&
			      pl[i].x + pl[i].w <= roi[0] + roi[2] + 1e-6 &&
			      pl[i].y + pl[i].h <= roi[1] + roi[3] + 1e-6);
	}
	/* a roi away from the plate does not find it */
	{
		double roi[4] = { 0, 0, 250, 200 };
		n = fl_plate_find(car, w, h, roi, pl, 5);
		CHECK_GE_INT(n, 0);
		for (int i = 0; i < n; i++)
			CHECK(pl[i].x + pl[i].w <= 250 + 1e-6);
	}
	dump("plate_car", car, w, h);
	free(car);

	/* no plate: the car without one, and a flat image: nothing */
	car = make_car(w, h, -1, -1);
	n = fl_plate_find(car, w, h, NULL, pl, 5);
	CHECK_MSG(n == 0, "textured, no plate: n %d (%.0f,%.0f %.0fx%.0f)", n,
		  n > 0 ? pl[0].x : 0, n > 0 ? pl[0].y : 0, n > 0 ? pl[0].w : 0,
		  n > 0 ? pl[0].h : 0);
	fill_rect(car, w, 0, 0, w, h, 128, 128, 128);
	CHECK_EQ_INT(fl_plate_find(car, w, h, NULL, pl, 5), 0);

	/* errors */
	CHECK_EQ_INT(fl_plate_find(NULL, w, h, NULL, pl, 5), FL_EINVAL);
	CHECK_EQ_INT(fl_plate_find(car, w, h, NULL, NULL, 5), FL_EINVAL);
	CHECK_EQ_INT(fl_plate_find(car, w, h, NULL, pl, 0), 0);
	{
		double off[4] = { 1000, 1000, 50, 50 };
		CHECK_EQ_INT(fl_plate_find(car, w, h, off, pl, 5), FL_EINVAL);
	}
	free(car);
}

int main(void)
{
	fl_log_set(log_sink, FL_LOG_WARN, NULL);
	test_jpeg_roundtrip();
	test_jpeg_thumb();
	test_overlay();
	test_closeup();
	test_composite();
	test_plates();
	TEST_DONE();
}
