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
 *   - a clip into a folder that does not exist fails with the path named;
 *   - a demux-only source feeds the ring (fl_source_pump) and stills decoded
 *     from it (fl_preroll_still) show the frame asked for, at full size,
 *     from at most one GOP of packets;
 *   - the ring fed by a thread of its own (a live record stream's), paced,
 *     while this thread takes stills and cuts a clip from it: every still
 *     shows its frame, the clip holds every frame of its window once (none
 *     lost or doubled where the ring's packets hand over to the pushed
 *     ones), and a re-encoded clip (MJPEG) is the same through its worker.
 *   - a re-encoded clip that lags, finished with no time to wait
 *     (fl_clip_finish_within, a stop): cut where its worker got to, the
 *     span saying so (packets left, t_to before the last packet given),
 *     the file holding exactly the frames of [t_from, t_to]; its picture
 *     capped at 1080 lines (a 1440p main stream's rendition: clip.c,
 *     "Cost"; MJPEG here, re-encoded as H.265 is).
 *
 *   test_clip --bench [FILE GOP_S]...   (scripts/bench.sh, member "streams")
 *   prints one JSON object: for H.264 files with a keyframe every GOP_S
 *   seconds (default: 1920x1080 at 25 fps made here, with a keyframe every
 *   1, 2 and 4 s, of a synthetic texture that compresses far better than a
 *   camera's picture; bench.sh passes a rendered scene instead), the cost
 *   of one full-resolution still from the ring (ms, wall and CPU, the best
 *   of 3: the last frame of a GOP, the worst case, and the middle one), and
 *   for the second file the CPU of reading it whole decoded
 *   (fl_source_read) against demuxed only (fl_source_pump), the ratio
 *   being what a record stream saves by not being decoded.
 */
#include "clip.h"
#include "encode.h"
#include "source.h"

#include "clock.h"
#include "fl.h"
#include "test.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
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

/* An H.264 file of w x h, a keyframe every gop frames, `seconds` long,
 * each frame's index in its top-left block (level_of). */
static int make_h264_sized(const char *file, int w, int h, int gop, int seconds)
{
	fl_encoder_opts o = { 0 };
	fl_encoder *e;
	uint8_t *y = malloc((size_t)w * h), *u = malloc((size_t)w * h / 4),
		*v = malloc((size_t)w * h / 4);
	char err[256];

	o.gop = gop;
	o.threads = 1;
	e = fl_encoder_open_opts(file, w, h, FPS, &o, err, sizeof(err));
	CHECK_MSG(e != NULL, "%s", err);
	if (!e || !y || !u || !v)
		return -1;
	memset(u, 128, (size_t)w * h / 4);
	memset(v, 128, (size_t)w * h / 4);
	for (long i = 0; i < (long)seconds * FPS; i++) {
		const uint8_t *planes[3] = { y, u, v };
		const int strides[3] = { w, w / 2, w / 2 };
		/* A texture that moves (some bits per frame) and the block. */
		for (int r = 0; r < h; r++)
			for (int c = 0; c < w; c++)
				y[r * w + c] = (uint8_t)(((c + i * 3) ^
							  (r * 5)) &
							 0x3f) +
					       96;
		for (int r = 0; r < 32; r++)
			memset(y + r * w, level_of(i), 32);
		CHECK_EQ_INT(fl_encoder_write_yuv420p(e, planes, strides), 0);
	}
	CHECK_EQ_INT(fl_encoder_close(e), 0);
	free(y);
	free(u);
	free(v);
	return 0;
}

static int make_h264(const char *file)
{
	return make_h264_sized(file, W, H, FPS, SECONDS); /* GOP 1 s */
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

/* The luma level of the block in a packed BGR24 picture (grey: B = G = R,
 * in full range; the video's luma is limited range, 16..235). */
static int bgr_block_level(const fl_still_image *im)
{
	long sum = 0;

	for (int r = 8; r < 24; r++)
		for (int c = 8; c < 24; c++)
			sum += im->bgr[((size_t)r * im->w + c) * 3 + 1];
	return (int)lround(16 + sum / 256.0 * 219 / 255);
}

/* A demux-only source feeds a ring (fl_source_pump) and stills are decoded
 * from it (fl_preroll_still): the frame at or just before the time asked,
 * at full size, from the last keyframe (one GOP of packets at most). */
static void test_still(void)
{
	fl_source_opts so = { 0 };
	fl_source *s;
	fl_stream_info si;
	fl_preroll *r;
	fl_still_image im;
	fl_frame f;
	char err[512];
	const double at[] = { 7.52, 8.0, 8.99, 0.0, 11.96 };
	int rc, w, h;

	so.demux_only = 1;
	s = fl_source_open(path("src.mp4"), &so, err, sizeof(err));
	if (!CHECK_NOT_NULL(s))
		return;
	fl_source_size(s, &w, &h);
	CHECK_EQ_INT(w, W);
	CHECK_EQ_INT(h, H);
	/* demux only: no decoding */
	CHECK_EQ_INT(fl_source_read(s, &f, err, sizeof(err)), FL_EINVAL);
	fl_source_stream_info(s, &si);
	r = fl_preroll_create(&si, 30, 64 << 20, err, sizeof(err));
	if (!CHECK_NOT_NULL(r)) {
		fl_source_close(s);
		return;
	}
	fl_source_set_packet_tap(s, fl_preroll_push, r);
	CHECK_EQ_INT(fl_source_pump(s, 12.0, err, sizeof(err)), 0);
	CHECK_MSG(fl_source_time(s) > 12.0 && fl_source_time(s) < 12.1,
		  "pumped to %.3f", fl_source_time(s));
	for (size_t i = 0; i < FL_ARRAY_SIZE(at); i++) {
		long want = lround(floor(at[i] * FPS + 1e-6));

		rc = fl_preroll_still(r, at[i], &im, err, sizeof(err));
		CHECK_MSG(rc == 0, "still at %.2f: %s", at[i], err);
		if (rc)
			continue;
		CHECK_EQ_INT(im.w, W);
		CHECK_EQ_INT(im.h, H);
		CHECK_MSG(im.t <= at[i] + 1e-6 && im.t > at[i] - 1.0 / FPS,
			  "still at %.2f is the frame at %.3f", at[i], im.t);
		CHECK_MSG(index_of(bgr_block_level(&im), want) == want,
			  "still at %.2f shows frame %ld, expected %ld", at[i],
			  index_of(bgr_block_level(&im), want), want);
		/* from the keyframe at or before: at most one GOP */
		CHECK_MSG(im.packets >= 1 && im.packets <= FPS,
			  "%d packets decoded", im.packets);
		free(im.bgr);
	}
	/* later in the same GOP: on from the last still, not from the
	 * keyframe; earlier again: from the keyframe */
	{
		const double seq[] = { 9.40, 9.80, 9.20 };
		const int cost[] = { 11, 10, 6 };

		for (size_t i = 0; i < FL_ARRAY_SIZE(seq); i++) {
			long want = lround(seq[i] * FPS);

			rc = fl_preroll_still(r, seq[i], &im, err, sizeof(err));
			CHECK_MSG(rc == 0, "%s", err);
			if (rc)
				continue;
			CHECK_MSG(index_of(bgr_block_level(&im), want) == want,
				  "still at %.2f shows frame %ld", seq[i],
				  index_of(bgr_block_level(&im), want));
			CHECK_MSG(im.packets == cost[i],
				  "still at %.2f: %d packets, expected %d",
				  seq[i], im.packets, cost[i]);
			free(im.bgr);
		}
	}
	/* released (no incident open): the next still opens a decoder again */
	fl_preroll_still_release(r);
	rc = fl_preroll_still(r, 9.0, &im, err, sizeof(err));
	CHECK_MSG(rc == 0 && im.packets == 1 && fabs(im.t - 9.0) < 1e-6,
		  "after release: %d, %d packets, %.3f s: %s", rc, im.packets,
		  im.t, err);
	if (rc == 0)
		free(im.bgr);
	/* nothing held that early, nor a keyframe for it */
	CHECK_EQ_INT(fl_preroll_still(r, -1, &im, err, sizeof(err)), FL_ENOENT);
	CHECK(im.bgr == NULL);
	/* to the end: the end of input */
	CHECK_EQ_INT(fl_source_pump(s, INFINITY, err, sizeof(err)), FL_EEOF);
	fl_preroll_destroy(r);
	fl_source_close(s);
}

/* ---- a ring fed by another thread -------------------------------------- */

struct pusher {
	fl_source *s;
	fl_preroll *r;
	_Atomic double t; /* video time pushed so far */
	atomic_int done;
	int rc;
	char err[512];
};

/* The tap of the pushing thread: into the ring, then a pause, so that
 * this thread's calls fall between (and during) pushes. */
static void paced_push(const struct AVPacket *pkt, double t, void *user)
{
	struct pusher *p = user;
	const struct timespec ts = { 0, 2000000 };

	fl_preroll_push(pkt, t, p->r);
	atomic_store(&p->t, t);
	nanosleep(&ts, NULL);
}

static void *push_run(void *arg)
{
	struct pusher *p = arg;

	p->rc = fl_source_pump(p->s, INFINITY, p->err, sizeof(p->err));
	atomic_store(&p->done, 1);
	return NULL;
}

/* Wait until the pusher passed video time t (or ended). */
static void until_pushed(struct pusher *p, double t)
{
	const struct timespec ts = { 0, 1000000 };

	while (atomic_load(&p->t) < t && !atomic_load(&p->done))
		nanosleep(&ts, NULL);
}

/* file (fps frames a second, indexed with level_of when `indexed`) pushed
 * by a thread; a clip of [from, to] started at `at`, stills meanwhile. */
static void threaded(const char *file, const char *clip_path, double fps,
		     int indexed, double at, double from, double to)
{
	fl_source_opts so = { 0 };
	struct pusher p = { 0 };
	fl_stream_info si;
	fl_still_image im;
	fl_clip *c;
	pthread_t th;
	double t_from = -1, t_to = -1, t0, t1;
	long frames;
	int rc, level = -1, stills = 0;
	char err[512];

	so.demux_only = 1;
	p.s = fl_source_open(file, &so, err, sizeof(err));
	if (!CHECK_NOT_NULL(p.s))
		return;
	fl_source_stream_info(p.s, &si);
	p.r = fl_preroll_create(&si, 8, 64 << 20, err, sizeof(err));
	if (!CHECK_NOT_NULL(p.r)) {
		fl_source_close(p.s);
		return;
	}
	fl_source_set_packet_tap(p.s, paced_push, &p);
	CHECK_EQ_INT(pthread_create(&th, NULL, push_run, &p), 0);
	until_pushed(&p, at);
	c = fl_clip_start(p.r, clip_path, from, err, sizeof(err));
	CHECK_MSG(c != NULL, "%s", err);
	fl_clip_set_end(c, to);
	/* stills while the clip is written, each of the frame asked for */
	while (!fl_clip_ended(c) && !atomic_load(&p.done)) {
		double want_t = atomic_load(&p.t) - 0.2;
		long want = lround(floor(want_t * fps + 1e-6));

		rc = fl_preroll_still(p.r, want_t, &im, err, sizeof(err));
		CHECK_MSG(rc == 0, "still at %.2f: %s", want_t, err);
		if (rc == 0) {
			CHECK_MSG(im.t <= want_t + 1e-6 &&
					  im.t > want_t - 1.0 / fps - 1e-6,
				  "still at %.2f is the frame at %.3f", want_t,
				  im.t);
			if (indexed)
				CHECK_MSG(index_of(bgr_block_level(&im),
						   want) == want,
					  "still at %.2f shows frame %ld",
					  want_t,
					  index_of(bgr_block_level(&im), want));
			free(im.bgr);
			stills++;
		}
	}
	CHECK_MSG(stills >= 3, "%d stills during the clip", stills);
	/* a re-encoding worker catches up (a copied clip is never busy) */
	for (int i = 0; i < 30000 && fl_clip_busy(c); i++) {
		const struct timespec ts = { 0, 1000000 };

		nanosleep(&ts, NULL);
	}
	CHECK_EQ_INT(fl_clip_busy(c), 0);
	rc = fl_clip_finish(c, &t_from, &t_to, err, sizeof(err));
	CHECK_MSG(rc == 0, "%s", err);
	pthread_join(th, NULL);
	CHECK_MSG(p.rc == FL_EEOF, "pump: %s", p.err);
	CHECK_MSG(t_from <= from + 1e-6 && t_from >= from - 1.0,
		  "clip starts at %.3f for %.3f", t_from, from);
	CHECK_MSG(fabs(t_to - to) <= 1.0 / fps + 1e-6,
		  "clip ends at %.3f for %.3f", t_to, to);
	probe(clip_path, &frames, &t0, &t1, &level);
	CHECK_MSG(frames == lround((t_to - t_from) * fps) + 1,
		  "%ld frames for [%.2f, %.2f]", frames, t_from, t_to);
	if (indexed)
		CHECK_MSG(index_of(level, lround(t_from * fps)) ==
				  lround(t_from * fps),
			  "first frame is frame %ld, expected %ld",
			  index_of(level, lround(t_from * fps)),
			  lround(t_from * fps));
	fl_preroll_destroy(p.r);
	fl_source_close(p.s);
}

static void test_threads(void)
{
	threaded(path("src.mp4"), path("thr.mp4"), FPS, 1, 7.0, 4.3, 11.5);
	/* re-encoded through the clip's worker (cam.avi: test_mjpeg) */
	threaded(path("cam.avi"), path("thr-mjpeg.mp4"), 10, 0, 3.0, 1.5, 4.5);
}

/* wait until path exists (at most 60 s); 1 if it does */
static int wait_file(const char *file)
{
	struct stat sb;

	for (int i = 0; i < 6000; i++) {
		if (stat(file, &sb) == 0)
			return 1;
		usleep(10000);
	}
	return 0;
}

static void test_cut(void)
{
	fl_source_opts so = { 0 };
	fl_source *s;
	fl_stream_info si;
	fl_preroll *r;
	fl_clip *c;
	fl_clip_span sp;
	char cmd[1024], err[1024];
	double t0, t1;
	long frames;
	int rc, w = 0, h = 0, level;

	/* 1440 lines, 2 s at 25 fps, re-encoded like an H.265 main stream
	 * (MJPEG: cheap to make here) */
	snprintf(cmd, sizeof(cmd),
		 "ffmpeg -nostdin -y -v error -f lavfi -i "
		 "testsrc=size=1920x1440:rate=25 -t 2 -c:v mjpeg -q:v 10 '%s'",
		 path("main.avi"));
	if (system(cmd) != 0) {
		fprintf(stderr, "ffmpeg CLI failed: %s\n", cmd);
		test_failures++;
		return;
	}
	so.demux_only = 1;
	s = fl_source_open(path("main.avi"), &so, err, sizeof(err));
	if (!CHECK_NOT_NULL(s))
		return;
	fl_source_stream_info(s, &si);
	r = fl_preroll_create(&si, 30, 256 << 20, err, sizeof(err));
	if (!CHECK_NOT_NULL(r)) {
		fl_source_close(s);
		return;
	}
	CHECK_EQ_INT(fl_preroll_copies(r), 0);
	fl_source_set_packet_tap(s, fl_preroll_push, r);
	c = fl_clip_start(r, path("cut.mp4"), 0, err, sizeof(err));
	if (!CHECK_NOT_NULL(c)) {
		fl_preroll_destroy(r);
		fl_source_close(s);
		return;
	}
	/* all of it at once, far faster than it re-encodes: the worker lags
	 * by seconds of work; once it has opened the file (a first picture
	 * encoded), stop it */
	CHECK_EQ_INT(fl_source_pump(s, 20.0, err, sizeof(err)), FL_EEOF);
	CHECK_MSG(wait_file(path("cut.mp4")), "no clip file after 60 s");
	rc = fl_clip_finish_within(c, 0, &sp, err, sizeof(err));
	CHECK_MSG(rc == 0, "%s", err);
	CHECK_MSG(sp.left > 0, "%d packets left: not cut", sp.left);
	CHECK_EQ_DBL(sp.t_from, 0, 1e-6);
	CHECK_EQ_DBL(sp.t_given, 1.96, 1e-3);
	CHECK_MSG(sp.t_to < sp.t_given - 1.0 / FPS * (sp.left - 1) + 1e-6 &&
			  sp.t_to > sp.t_given - 1.0 / FPS * (sp.left + 1),
		  "cut at %.3f with %d of the packets to %.3f left", sp.t_to,
		  sp.left, sp.t_given);
	CHECK_MSG(fl_preroll_clip_cpu_s(r) > 0, "re-encoding CPU %.3f s",
		  fl_preroll_clip_cpu_s(r));
	/* the file: the frames of [t_from, t_to], every one, and no more */
	probe(path("cut.mp4"), &frames, &t0, &t1, &level);
	CHECK_MSG(frames == lround((sp.t_to - sp.t_from) * FPS) + 1,
		  "%ld frames for [%.2f, %.2f]", frames, sp.t_from, sp.t_to);
	fl_source_close(s);
	s = fl_source_open(path("cut.mp4"), NULL, err, sizeof(err));
	if (CHECK_NOT_NULL(s)) {
		fl_source_size(s, &w, &h);
		CHECK_MSG(w == 1440 && h == 1080, "rendition %dx%d", w, h);
	}
	fl_source_close(s);
	fl_preroll_destroy(r);
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

/* ---- --bench --------------------------------------------------------------- */

#define BW 1920
#define BH 1080

/* Best of 3 of one still at t (t > one GOP), cold: a still of the first GOP
 * comes before each, so that none goes on from the last. Wall and CPU ms. */
static void bench_still(fl_preroll *r, double t, double *wall_ms,
			double *cpu_ms, int *packets)
{
	fl_still_image im;
	char err[256];

	*wall_ms = *cpu_ms = INFINITY;
	for (int k = 0; k < 3; k++) {
		double w0, c0;

		if (fl_preroll_still(r, 0, &im, err, sizeof(err)) == 0)
			free(im.bgr);
		w0 = fl_mono_s();
		c0 = fl_cpu_s();
		if (fl_preroll_still(r, t, &im, err, sizeof(err)) < 0) {
			fprintf(stderr, "still: %s\n", err);
			exit(1);
		}
		*wall_ms = FL_MIN(*wall_ms, (fl_mono_s() - w0) * 1e3);
		*cpu_ms = FL_MIN(*cpu_ms, (fl_cpu_s() - c0) * 1e3);
		*packets = im.packets;
		free(im.bgr);
	}
}

/* CPU seconds to read file whole: decoded, or demuxed only. */
static double read_cpu(const char *file, int demux)
{
	fl_source_opts so = { 0 };
	fl_source *s;
	fl_frame f;
	char err[256];
	double c0 = fl_cpu_s();
	int rc;

	so.demux_only = demux;
	s = fl_source_open(file, &so, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	if (demux)
		rc = fl_source_pump(s, INFINITY, err, sizeof(err));
	else
		while ((rc = fl_source_read(s, &f, err, sizeof(err))) == 0)
			;
	fl_source_close(s);
	if (rc != FL_EEOF) {
		fprintf(stderr, "%s: %s\n", file, err);
		exit(1);
	}
	return fl_cpu_s() - c0;
}

static int bench(int nargs, char **args)
{
	const int made[] = { 1, 2, 4 };
	int n = nargs >= 2 ? nargs / 2 : (int)FL_ARRAY_SIZE(made);
	double dec = 0, dmx = 0, secs = 0;

	printf("{\"stills\": [");
	for (int g = 0; g < n; g++) {
		const char *file = nargs >= 2 ? args[2 * g] : path("bench.mp4");
		int gop = nargs >= 2 ? atoi(args[2 * g + 1]) : made[g];
		fl_source_opts so = { 0 };
		fl_stream_info si;
		fl_source *s;
		fl_preroll *r;
		char err[256];
		double lw, lc, mw, mc, last;
		int lp, mp, w, h;

		if (gop < 1) {
			fprintf(stderr, "bad GOP %s\n", args[2 * g + 1]);
			return 1;
		}
		if (nargs < 2 &&
		    make_h264_sized(file, BW, BH, gop * FPS, 2 * gop + 1) < 0)
			return 1;
		so.demux_only = 1;
		s = fl_source_open(file, &so, err, sizeof(err));
		if (!s) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		fl_source_stream_info(s, &si);
		r = fl_preroll_create(&si, 60, 1 << 30, err, sizeof(err));
		fl_source_set_packet_tap(s, fl_preroll_push, r);
		fl_source_pump(s, INFINITY, err, sizeof(err));
		fl_source_size(s, &w, &h);
		/* the last frame of the second GOP: a whole GOP to decode */
		last = 2.0 * gop - 1.0 / si.fps;
		bench_still(r, last, &lw, &lc, &lp);
		bench_still(r, gop * 1.5, &mw, &mc, &mp);
		printf("%s{\"gop_s\": %d, \"width\": %d, \"height\": %d, "
		       "\"last_of_gop_ms\": %.1f, \"last_of_gop_cpu_ms\": %.1f, "
		       "\"last_of_gop_packets\": %d, \"mid_gop_ms\": %.1f, "
		       "\"mid_gop_cpu_ms\": %.1f}",
		       g ? ", " : "", gop, w, h, lw, lc, lp, mw, mc);
		fflush(stdout);
		if (g == 1 || n == 1) {
			secs = fl_source_time(s);
			dec = read_cpu(file, 0);
			dmx = read_cpu(file, 1);
		}
		fl_preroll_destroy(r);
		fl_source_close(s);
		if (nargs < 2)
			unlink(file);
	}
	printf("], \"record_read\": {\"seconds_of_video\": %.1f, "
	       "\"decode_cpu_s\": %.3f, \"demux_cpu_s\": %.4f, "
	       "\"decode_to_demux\": %.0f}}\n",
	       secs, dec, dmx, dmx > 0 ? dec / dmx : 0);
	return 0;
}

int main(int argc, char **argv)
{
	char cmd[512];
	int rc;

	snprintf(dir, sizeof(dir), "%s/fl-test-clip-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	fl_media_init(); /* FFmpeg's chatter into fl_log (silent here) */
	if (argc > 1 && !strcmp(argv[1], "--bench")) {
		rc = bench(argc - 2, argv + 2);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
		return rc;
	}
	test_h264();
	test_mjpeg();
	test_still();
	test_threads();
	test_cut();
	test_errors();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (!test_failures && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	TEST_DONE();
}
