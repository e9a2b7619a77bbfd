/*
 * test_snapshot.c - the inline snapshot's result (src/edge/snapshot.c):
 * a small frame goes as written (scale 1, the same bytes), a frame whose
 * JPEG would not fit is encoded again until the answer stays under
 * EDGE_ANSWER_MAX (scale < 1, the lanes' width and height kept), a mask
 * that cannot fit is an error with its reason, and what is sent decodes.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "fl.h"
#include "snapshot.h"
#include "test.h"
#include "vision.h"

static char dir[64];

/* a w x h BGR picture: noise (amp 0: flat grey bands) */
static uint8_t *picture(int w, int h, int amp, unsigned seed)
{
	uint8_t *p = malloc((size_t)w * h * 3);

	for (size_t i = 0; p && i < (size_t)w * h * 3; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(amp ? (seed >> 16) % (unsigned)amp
				     : (i / 3 / (size_t)w) % 200);
	}
	return p;
}

/* write a JPEG of the picture to path; its size */
static size_t write_jpeg(const char *path, int w, int h, int amp)
{
	uint8_t *bgr = picture(w, h, amp, 7), *jpeg = NULL;
	size_t len = 0;
	char err[256];

	if (bgr &&
	    fl_jpeg_encode(bgr, w, h, 90, &jpeg, &len, err, sizeof(err)) == 0)
		fl_file_write(path, jpeg, len, 0600, 0, err, sizeof(err));
	free(bgr);
	free(jpeg);
	return len;
}

/* the base64 string of key in result, decoded (malloc'd) */
static uint8_t *field(const char *result, const char *key, size_t *n)
{
	char pat[32];
	const char *a, *b;
	uint8_t *bin;
	size_t cap;

	snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	a = strstr(result, pat);
	if (!a)
		return NULL;
	a += strlen(pat);
	b = strchr(a, '"');
	if (!b)
		return NULL;
	cap = (size_t)(b - a);
	bin = malloc(cap);
	if (bin && sodium_base642bin(bin, cap, a, (size_t)(b - a), NULL, n,
				     NULL, sodium_base64_VARIANT_ORIGINAL)) {
		free(bin);
		return NULL;
	}
	return bin;
}

static void test_small(void)
{
	static const char want[] =
		"{\"camera\": \"cam-1\", \"width\": 320, \"height\": 180, "
		"\"time\": 1795955761.240, \"scale\": 1, \"jpeg\": \"";
	char jp[96], mp[96], err[256], *r, *file = NULL;
	uint8_t *bgr = picture(320, 180, 0, 1), *jpeg, *png;
	size_t jlen, flen, n;

	snprintf(jp, sizeof(jp), "%s/s.jpg", dir);
	snprintf(mp, sizeof(mp), "%s/s-mask.png", dir);
	write_jpeg(jp, 320, 180, 0);
	CHECK_EQ_INT(fl_image_write_bgr(mp, bgr, 320, 180, err, sizeof(err)),
		     0);
	free(bgr);
	r = edge_snapshot_inline("cam-1", jp, mp, 1795955761.24, 320, 180, err,
				 sizeof(err));
	if (!CHECK_NOT_NULL(r))
		return;
	CHECK_MSG(!strncmp(r, want, strlen(want)), "%.120s", r);
	CHECK(r[strlen(r) - 1] == '}');
	jpeg = field(r, "jpeg", &jlen);
	CHECK_EQ_INT(fl_file_read(jp, 1 << 24, &file, &flen, NULL, 0), 0);
	CHECK(jpeg && file && jlen == flen && !memcmp(jpeg, file, flen));
	png = field(r, "mask", &n);
	CHECK(png && n > 8 && !memcmp(png, "\x89PNG", 4));
	free(png);
	free(jpeg);
	free(file);
	free(r);
	/* no mask asked: none in the result */
	r = edge_snapshot_inline("cam-1", jp, "", 1, 320, 180, err,
				 sizeof(err));
	CHECK(r && !strstr(r, "\"mask\""));
	free(r);
}

static void test_large(void)
{
	char jp[96], mp[96], err[256], *r;
	uint8_t *jpeg, *bgr;
	size_t written, jlen;
	int w = 0, h = 0;

	snprintf(jp, sizeof(jp), "%s/l.jpg", dir);
	written = write_jpeg(jp, 1920, 1080, 256);
	CHECK_GT_INT((long long)written, EDGE_ANSWER_MAX); /* the case */
	r = edge_snapshot_inline("cam-2", jp, "", 2, 1920, 1080, err,
				 sizeof(err));
	if (!CHECK_NOT_NULL(r))
		return;
	CHECK_LT_INT((long long)strlen(r), EDGE_ANSWER_MAX - 1024);
	CHECK(strstr(r, "\"width\": 1920, \"height\": 1080") != NULL);
	CHECK_MSG(strstr(r, "\"scale\": 0.5") || strstr(r, "\"scale\": 0.25"),
		  "%.120s", r);
	jpeg = field(r, "jpeg", &jlen);
	if (CHECK_NOT_NULL(jpeg)) {
		/* it decodes, at the scale said */
		char tmp[96];

		snprintf(tmp, sizeof(tmp), "%s/back.jpg", dir);
		fl_file_write(tmp, jpeg, jlen, 0600, 0, err, sizeof(err));
		CHECK_EQ_INT(fl_image_load_bgr(tmp, &bgr, &w, &h, err,
					       sizeof(err)),
			     0);
		free(bgr);
		CHECK(w == 960 || w == 480);
		CHECK_EQ_INT(h * 1920, w * 1080);
	}
	free(jpeg);
	free(r);
	/* a mask of noise does not fit: an error, not a cut answer */
	bgr = picture(1920, 1080, 256, 3);
	snprintf(mp, sizeof(mp), "%s/l-mask.png", dir);
	CHECK_EQ_INT(fl_image_write_bgr(mp, bgr, 1920, 1080, err, sizeof(err)),
		     0);
	free(bgr);
	r = edge_snapshot_inline("cam-2", jp, mp, 2, 1920, 1080, err,
				 sizeof(err));
	CHECK_NULL(r);
	CHECK_MSG(strstr(err, "mask") != NULL, "%s", err);
	free(r);
	/* a snapshot that is not there */
	r = edge_snapshot_inline("cam-2", "/nonexistent/x.jpg", "", 2, 1, 1,
				 err, sizeof(err));
	CHECK_NULL(r);
}

int main(void)
{
	char cmd[96];

	snprintf(dir, sizeof(dir), "/tmp/fl-test-snapshot-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_small();
	test_large();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "test_snapshot: could not remove %s\n", dir);
	TEST_DONE();
}
