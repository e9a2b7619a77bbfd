/*
 * test_clip.c - the pre-roll ring and evidence clips (src/media/clip.c).
 *
 * Inputs are made at test time in a private mkdtemp folder: an H.264 MP4 from
 * encode.h (25 fps, a keyframe every second, each frame's index written into
 * a grey block so a decoded frame says where it came from) and an MJPEG AVI
 * from the ffmpeg CLI (what a V4L2 webcam delivers). They are read through
 * fl_source with the packet tap feeding a ring, and the tests check:
 *   - the ring's bounds at every packet: seconds (at most max_s plus one GOP,
 *     at least max_s once that much video has passed) and bytes;
 *   - a clip cut while reading (started late, from a time inside the ring,
 *     ended a few seconds later) starts at the keyframe at or before the
 *     requested start (within one GOP), ends at the requested end (within a
 *     frame), decodes through fl_source from time 0 with the right number
 *     of frames, and its first frame is the source frame it claims to be;
 *   - the same for MJPEG, which goes through the re-encoding path;
 *   - a clip into a folder that does not exist fails with the path named.
 */
#include "clip.h"
#include "encode.h"
#include "source.h"

#include "fl.h"
#include "test.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define W 160
#define H 120
#define FPS 25
#define SECONDS 20

static char dir[256];

static const char *path(const char *name)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

/* The grey level that encodes frame i in the top-left block. */
static int level_of(long i)
{
	return 16 + (int)(i % 50) * 4;
}

static long index_of(int level, long near)
{
	long best = -1, bestd = 1000000;

	/* The level repeats every 50 frames: take the index nearest `near`. */
	for (long i = near - 25; i <= near + 25; i++) {
		long d = labs(level_of(i) - level) * 100 + labs(i - near);
		if (i >= 0 && d < bestd) {
			bestd = d;
			best = i;
		}
	}
	return best;
}

static int make_h264(const char *file)
{
	fl_encoder_opts o = { 0 };
	fl_encoder *e;
	uint8_t *y = malloc(W * H), *u = malloc(W * H / 4),
		*v = malloc(W * H / 4);
	char err[256];

	o.gop = FPS; /* a keyframe every second */
	o.threads = 1;
	e = fl_encoder_open_opts(file, W, H, FPS, &o, err, sizeof(err));
	CHECK_MSG(e != NULL, "%s", err);
	if (!e || !y || !u || !v)
		return -1;
	memset(u, 128, W * H / 4);
	memset(v, 128, W * H / 4);
	for (long i = 0; i < SECONDS * FPS; i++) {
		const uint8_t *planes[3] = { y, u, v };
		const int strides[3] = { W, W / 2, W / 2 };
		/* A texture that moves (some bits per frame) and the block. */
		for (int r = 0; r < H; r++)
			for (int c = 0; c < W; c++)
				y[r * W + c] = (uint8_t)(((c + i * 3) ^
							  (r * 5)) &
							 0x3f) +
					       96;
		for (int r = 0; r < 32; r++)
			memset(y + r * W, level_of(i), 32);
		CHECK_EQ_INT(fl_encoder_write_yuv420p(e, planes, strides), 0);
	}
	CHECK_EQ_INT(fl_encoder_close(e), 0);
	free(y);
	free(u);
	free(v);
	return 0;
}

static int block_level(const fl_frame *f)
{
	long sum = 0;

	for (int r = 8; r < 24; r++)
		for (int c = 8; c < 24; c++)
			sum += f->luma[r * f->stride + c];
	return (int)(sum / 256);
}

struct cut {
	double at;       /* start the clip when the source reaches this time */
	double from, to; /* requested window */
};

/*
 * Read src through a ring of (max_s, max_bytes), checking the bounds at
 * every frame; cut one clip as described; return its path's result.
 */
static void run(const char *src, const char *clip_path, double max_s,
		size_t max_bytes, double gop_s, const struct cut *cut,
		double *t_from, double *t_to, int *rc_out)
{
	fl_source_opts so = { 0 };
	fl_source *s;
	fl_stream_info si;
	fl_preroll *r;
	fl_preroll_stats st;
	fl_clip *clip = NULL;
	fl_frame f;
	char err[512];
	int rc, done = 0;
	double fps;

	*rc_out = -100;
	so.fps = FPS;
	s = fl_source_open(src, &so, err, sizeof(err));
	CHECK_MSG(s != NULL, "%s", err);
	if (!s)
		return;
	fl_source_stream_info(s, &si);
	fps = si.fps;
	r = fl_preroll_create(&si, max_s, max_bytes, err, sizeof(err));
	CHECK_MSG(r != NULL, "%s", err);
	if (!r) {
		fl_source_close(s);
		return;
	}
	fl_source_set_packet_tap(s, fl_preroll_push, r);
	while ((rc = fl_source_read(s, &f, err, sizeof(err))) == 0) {
		fl_preroll_get_stats(r, &st);
		CHECK_MSG(st.bytes <= max_bytes, "%zu bytes held, max %zu",
			  st.bytes, max_bytes);
		CHECK_MSG(st.span_s <= max_s + gop_s + 1.0 / fps + 1e-6,
			  "span %.3f s at t=%.2f, max %.2f + GOP %.2f",
			  st.span_s, f.t, max_s, gop_s);
		/* Enough is held once there was enough (bytes allowing). */
		if (max_bytes > 1000000 && f.t > max_s + 1)
			CHECK_MSG(st.span_s >= max_s - 1.0 / fps - 1e-6,
				  "span %.3f s at t=%.2f, want >= %.2f",
				  st.span_s, f.t, max_s);
		if (cut && !clip && !done && f.t >= cut->at) {
			clip = fl_clip_start(r, clip_path, cut->from, err,
					     sizeof(err));
			CHECK_MSG(clip != NULL, "%s", err);
			fl_clip_set_end(clip, cut->to);
		}
		if (clip && fl_clip_ended(clip)) {
			*rc_out = fl_clip_finish(clip, t_from, t_to, err,
						 sizeof(err));
			CHECK_MSG(*rc_out == 0, "%s", err);
			clip = NULL;
			done = 1;
		}
	}
	CHECK_MSG(rc == FL_EEOF, "%s", err);
	if (clip) {
		*rc_out = fl_clip_finish(clip, t_from, t_to, err, sizeof(err));
		CHECK_MSG(*rc_out == 0, "%s", err);
	}
	fl_preroll_get_stats(r, &st);
	CHECK(st.peak_bytes <= max_bytes && st.peak_bytes > 0);
	fl_preroll_destroy(r);
	fl_source_close(s);
}

/* Decode a clip: frame count, first/last time, first frame's index. */
static void probe(const char *file, long *frames, double *t0, double *t1,
		  int *first_level)
{
	fl_source *s;
	fl_frame f;
	char err[512];

	*frames = 0;
	*t0 = *t1 = -1;
	s = fl_source_open(file, NULL, err, sizeof(err));
	CHECK_MSG(s != NULL, "%s", err);
	if (!s)
		return;
	while (fl_source_read(s, &f, err, sizeof(err)) == 0) {
		if (*frames == 0) {
			*t0 = f.t;
			*first_level = block_level(&f);
		}
		*t1 = f.t;
		(*frames)++;
	}
	fl_source_close(s);
}

static void test_h264(void)
{
	struct cut cut = { 9.0, 5.3, 12.5 };
	double t_from = -1, t_to = -1, t0, t1;
	long frames;
	int rc, level = -1;

	if (make_h264(path("src.mp4")) < 0)
		return;
	/* Time-bounded ring, 5 s: the clip's start is still held at 9 s. */
	run(path("src.mp4"), path("clip.mp4"), 5, 64 << 20, 1.0, &cut, &t_from,
	    &t_to, &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_MSG(t_from <= cut.from + 1e-6 && t_from >= cut.from - 1.0,
		  "clip starts at %.3f for %.3f", t_from, cut.from);
	CHECK_MSG(fabs(t_to - cut.to) <= 1.0 / FPS + 1e-6,
		  "clip ends at %.3f for %.3f", t_to, cut.to);
	probe(path("clip.mp4"), &frames, &t0, &t1, &level);
	CHECK_MSG(fabs(t0) < 1e-6, "clip's first frame at %.3f", t0);
	CHECK_MSG(fabs(t1 - (t_to - t_from)) <= 1.0 / FPS + 1e-6,
		  "clip's last frame at %.3f, expected %.3f", t1,
		  t_to - t_from);
	CHECK_MSG(frames == lround((t_to - t_from) * FPS) + 1,
		  "%ld frames for [%.2f, %.2f]", frames, t_from, t_to);
	CHECK_MSG(index_of(level, lround(t_from * FPS)) == lround(t_from * FPS),
		  "first frame level %d is frame %ld, expected %ld", level,
		  index_of(level, lround(t_from * FPS)), lround(t_from * FPS));

	/* Byte-bounded ring: 12 kB, far less than 5 s of this video. */
	run(path("src.mp4"), NULL, 5, 12000, 1.0, NULL, NULL, NULL, &rc);
	/* No ring at all for the window: the clip waits for a keyframe. */
	cut.at = 15;
	cut.from = 2;
	cut.to = 17.5;
	run(path("src.mp4"), path("late.mp4"), 1, 64 << 20, 1.0, &cut, &t_from,
	    &t_to, &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_MSG(t_from >= 13.9 && t_from <= 15.0 + 1e-6,
		  "late clip starts at %.3f", t_from);
}

static void test_mjpeg(void)
{
	char cmd[1024];
	struct cut cut = { 4.0, 2.5, 5.0 };
	double t_from = -1, t_to = -1, t0, t1;
	long frames;
	int rc, level;

	snprintf(cmd, sizeof(cmd),
		 "ffmpeg -nostdin -y -v error -f lavfi -i "
		 "testsrc=size=%dx%d:rate=10 -t 6 -c:v mjpeg -q:v 5 '%s'",
		 W + 1, H + 1, path("cam.avi")); /* odd size on purpose */
	if (system(cmd) != 0) {
		fprintf(stderr, "ffmpeg CLI failed: %s\n", cmd);
		test_failures++;
		return;
	}
	run(path("cam.avi"), path("mjpeg.mp4"), 3, 64 << 20, 0.1, &cut, &t_from,
	    &t_to, &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_DBL(t_from, 2.5, 1e-6); /* every MJPEG frame is a keyframe */
	CHECK_EQ_DBL(t_to, 5.0, 0.1 + 1e-6);
	probe(path("mjpeg.mp4"), &frames, &t0, &t1, &level);
	CHECK_MSG(frames == 26, "%ld frames in the re-encoded clip", frames);
	CHECK_EQ_DBL(t0, 0, 1e-6);
	CHECK_EQ_DBL(t1, 2.5, 0.1 + 1e-6);
}

static void test_errors(void)
{
	fl_source *s;
	fl_stream_info si;
	fl_preroll *r;
	fl_clip *c;
	char err[512];

	s = fl_source_open(path("src.mp4"), NULL, err, sizeof(err));
	CHECK_MSG(s != NULL, "%s", err);
	if (!s)
		return;
	fl_source_stream_info(s, &si);
	CHECK_STREQ(si.codec, "h264");
	r = fl_preroll_create(&si, 2, 1 << 20, err, sizeof(err));
	CHECK(r && fl_preroll_copies(r));
	c = fl_clip_start(r, path("no/such/dir/c.mp4"), 0, err, sizeof(err));
	CHECK(c == NULL && strstr(err, "no/such/dir/c.mp4"));
	/* A clip that never got a packet reports it and leaves no file. */
	c = fl_clip_start(r, path("empty.mp4"), 0, err, sizeof(err));
	CHECK_NOT_NULL(c);
	CHECK_EQ_INT(fl_clip_finish(c, NULL, NULL, err, sizeof(err)),
		     FL_EAGAIN);
	CHECK(access(path("empty.mp4"), F_OK) != 0);
	/* Destroying a ring with an open clip removes the clip. */
	c = fl_clip_start(r, path("open.mp4"), 0, err, sizeof(err));
	CHECK_NOT_NULL(c);
	fl_preroll_destroy(r);
	CHECK(access(path("open.mp4"), F_OK) != 0);
	fl_source_close(s);
}

int main(void)
{
	char cmd[512];

	snprintf(dir, sizeof(dir), "%s/fl-test-clip-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	fl_media_init(); /* FFmpeg's chatter into fl_log (silent here) */
	test_h264();
	test_mjpeg();
	test_errors();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (!test_failures && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	TEST_DONE();
}
