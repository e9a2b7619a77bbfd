/*
 * test_source.c - fl_source against real media made by the ffmpeg CLI.
 *
 * Every input is generated at test time into a private mkdtemp directory
 * (lavfi test sources, so the expected frame counts, times and colours are
 * known exactly), read back through fl_source, and removed at the end. The
 * cases follow the contract in source.h: frame count and video time of files
 * and image sequences, the luma and BGR of a known colour, the errors for a
 * missing, random and truncated file, a fixed frame size, and pacing.
 */
#include "source.h"

#include "fl.h"
#include "test.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static char dir[256];

/* Run an ffmpeg command line (arguments after "ffmpeg -y -v error") in dir. */
static int ff(const char *args)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "cd '%s' && ffmpeg -nostdin -y -v error %s",
		 dir, args);
	if (system(cmd) != 0) {
		fprintf(stderr, "command failed: %s\n", cmd);
		test_failures++;
		return -1;
	}
	return 0;
}

static const char *path(const char *name)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

/* Write the first `bytes` bytes (or `frac` of the size) of src to dst. */
static long truncate_copy(const char *src, const char *dst, long bytes,
			  double frac)
{
	FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
	long size, n;
	char *buf;

	if (!in || !out) {
		if (in)
			fclose(in);
		if (out)
			fclose(out);
		return -1;
	}
	fseek(in, 0, SEEK_END);
	size = ftell(in);
	fseek(in, 0, SEEK_SET);
	n = bytes > 0 ? bytes : (long)(size * frac);
	buf = malloc(n);
	if (buf && fread(buf, 1, n, in) == (size_t)n)
		fwrite(buf, 1, n, out);
	free(buf);
	fclose(in);
	fclose(out);
	return n;
}

struct run {
	int opened;
	int frames;
	int end; /* the status that ended the loop */
	double first_t, last_t;
	int t_ok; /* every t == index / expect_fps (when checked) */
	int monotonic;
	int width, height;
	double mid_luma; /* mean luma of the last frame */
	char err[1024];
};

/* Open url and read it to the end, collecting what the checks need. */
static struct run read_all(const char *url, const fl_source_opts *o,
			   double expect_fps)
{
	struct run r = { 0 };
	fl_source *s;
	fl_frame f;
	int ret;

	r.t_ok = 1;
	r.monotonic = 1;
	r.first_t = -1;
	s = fl_source_open(url, o, r.err, sizeof(r.err));
	if (!s)
		return r;
	r.opened = 1;
	while ((ret = fl_source_read(s, &f, r.err, sizeof(r.err))) == 0) {
		long sum = 0;

		if (r.frames == 0) {
			r.first_t = f.t;
			r.width = f.width;
			r.height = f.height;
		} else if (f.t <= r.last_t) {
			r.monotonic = 0;
		}
		if (f.index != r.frames)
			r.t_ok = 0;
		if (expect_fps > 0 &&
		    fabs(f.t - (double)f.index / expect_fps) > 1e-6)
			r.t_ok = 0;
		for (int y = 0; y < f.height; y++)
			for (int x = 0; x < f.width; x++)
				sum += f.luma[(size_t)y * f.stride + x];
		r.mid_luma = (double)sum / ((double)f.width * f.height);
		r.last_t = f.t;
		r.frames++;
		if (r.frames > 100000)
			break;
	}
	r.end = ret;
	/* A finished source keeps saying so. */
	if (ret == FL_EEOF || ret == FL_EDECODE)
		CHECK_EQ_INT(fl_source_read(s, &f, NULL, 0), ret);
	fl_source_close(s);
	return r;
}

static void test_h264_file(void)
{
	fl_source_opts o = { 0 };
	struct run r;

	if (ff("-f lavfi -i testsrc2=size=320x240:rate=25 -t 2 "
	       "-c:v libx264 -pix_fmt yuv420p a.mp4"))
		return;
	r = read_all(path("a.mp4"), &o, 0);
	CHECK_MSG(r.opened, "%s", r.err);
	CHECK_EQ_INT(r.frames, 50);
	CHECK_EQ_DBL(r.first_t, 0, 1e-9);
	CHECK_EQ_DBL(r.last_t, 1.96, 0.001);
	CHECK(r.t_ok && r.monotonic);
	CHECK(r.width == 320 && r.height == 240);
	CHECK_MSG(r.end == FL_EEOF, "%d %s", r.end, r.err);

	/* Frame-threaded decoding gives the same frames, the last included. */
	o.threads = 3;
	r = read_all(path("a.mp4"), &o, 0);
	CHECK_MSG(r.frames == 50, "threads=3: %d frames", r.frames);
	CHECK_EQ_DBL(r.last_t, 1.96, 0.001);
	CHECK_EQ_INT(r.end, FL_EEOF);
}

/*
 * A window (start_s, until_s): frames before start are not handed out,
 * times and indices stay the file's own, the read at until ends the
 * source with FL_ERANGE, for good.
 */
static void test_window(void)
{
	fl_source_opts o = { 0 };
	char err[512];
	fl_source *s;
	fl_frame f;
	int n = 0, ret;
	double first = -1, last = -1;
	int64_t first_index = -1;

	if (ff("-f lavfi -i testsrc2=size=160x120:rate=25 -t 3 "
	       "-c:v libx264 -pix_fmt yuv420p win.mp4"))
		return;
	o.start_s = 1.0;
	o.until_s = 2.0;
	s = fl_source_open(path("win.mp4"), &o, err, sizeof(err));
	CHECK_MSG(s != NULL, "%s", err);
	if (!s)
		return;
	while ((ret = fl_source_read(s, &f, err, sizeof(err))) == 0) {
		if (n++ == 0) {
			first = f.t;
			first_index = f.index;
		}
		last = f.t;
	}
	CHECK_MSG(ret == FL_ERANGE, "%d %s", ret, err);
	CHECK_MSG(n == 25, "%d frames in [1, 2)", n);
	CHECK_NEAR(first, 1.0, 1e-6);
	CHECK(first_index == 25);
	CHECK_NEAR(last, 1.96, 1e-6);
	CHECK(fl_source_read(s, &f, NULL, 0) == FL_ERANGE);
	fl_source_close(s);

	/* start alone reads to the end of the file */
	o.until_s = 0;
	s = fl_source_open(path("win.mp4"), &o, err, sizeof(err));
	CHECK_MSG(s != NULL, "%s", err);
	for (n = 0; s && (ret = fl_source_read(s, &f, err, sizeof(err))) == 0;
	     n++)
		;
	CHECK_MSG(n == 50 && ret == FL_EEOF, "%d frames, %d", n, ret);
	fl_source_close(s);
}

/* Container time starts at 3 s: video time still starts at 0. */
static void test_time_offset(void)
{
	fl_source_opts o = { 0 };
	struct run r;

	if (ff("-f lavfi -i testsrc2=size=64x48:rate=25 -t 1 -c:v libx264 "
	       "-pix_fmt yuv420p -output_ts_offset 3 off.mkv"))
		return;
	r = read_all(path("off.mkv"), &o, 0);
	CHECK_EQ_INT(r.frames, 25);
	CHECK_EQ_DBL(r.first_t, 0, 1e-9);
	CHECK_EQ_DBL(r.last_t, 0.96, 0.001);
}

/* A raw H.264 stream has no timestamps: time is index / the SPS's 10 fps. */
static void test_no_timestamps(void)
{
	fl_source_opts o = { 0 };
	struct run r;

	if (ff("-f lavfi -i testsrc2=size=160x120:rate=10 -t 2 -c:v libx264 "
	       "-pix_fmt yuv420p raw.h264"))
		return;
	r = read_all(path("raw.h264"), &o, 10);
	CHECK_EQ_INT(r.frames, 20);
	CHECK_MSG(r.t_ok, "t != index / 10");
	CHECK_EQ_DBL(r.last_t, 1.9, 1e-6);
}

static void test_fps_and_gray(void)
{
	fl_source_opts o = { 0 };
	char err[512];
	fl_source *s;
	struct run r;

	if (ff("-f lavfi -i color=c=gray:size=64x48:rate=25 -t 1 "
	       "-c:v libx264 -pix_fmt yuv420p gray.mp4"))
		return;
	s = fl_source_open(path("gray.mp4"), &o, err, sizeof(err));
	CHECK_MSG(s != NULL, "%s", err);
	if (s)
		CHECK_EQ_DBL(fl_source_fps(s), 25, 0.01);
	fl_source_close(s);
	r = read_all(path("gray.mp4"), &o, 0);
	CHECK_EQ_INT(r.frames, 25);
	CHECK_EQ_DBL(r.mid_luma, 126, 4);
}

static void test_bgr_red(void)
{
	fl_source_opts o = { 0 };
	char err[512];
	fl_source *s;
	fl_frame f;
	uint8_t *bgr;
	double b = 0, g = 0, rr = 0;
	int n;

	if (ff("-f lavfi -i color=c=red:size=64x48:rate=25 -t 0.4 "
	       "-c:v libx264 -pix_fmt yuv420p red.mp4"))
		return;
	s = fl_source_open(path("red.mp4"), &o, err, sizeof(err));
	CHECK_MSG(s != NULL, "%s", err);
	if (!s)
		return;
	CHECK_EQ_INT(fl_source_read(s, &f, err, sizeof(err)), 0);
	bgr = malloc((size_t)f.width * f.height * 3);
	CHECK_EQ_INT(fl_frame_bgr(&f, bgr), 0);
	n = f.width * f.height;
	for (int i = 0; i < n; i++) {
		b += bgr[i * 3];
		g += bgr[i * 3 + 1];
		rr += bgr[i * 3 + 2];
	}
	CHECK_EQ_DBL(b / n, 0, 10);
	CHECK_EQ_DBL(g / n, 0, 10);
	CHECK_EQ_DBL(rr / n, 254, 10);
	/* Red's luma is about 81 in limited range: the luma plane is the Y. */
	CHECK_EQ_DBL(f.luma[f.stride * 10 + 10], 81, 6);
	/* A frame is borrowed until the next read: a stale one is refused. */
	{
		fl_frame old = f;

		CHECK_EQ_INT(fl_source_read(s, &f, err, sizeof(err)), 0);
		CHECK_EQ_INT(fl_frame_bgr(&old, bgr), FL_EINVAL);
		CHECK_EQ_INT(fl_frame_bgr(&f, bgr), 0);
	}
	free(bgr);
	fl_source_close(s);
}

static void test_png_sequence(void)
{
	fl_source_opts o = { 0 };
	struct run r;

	/* image2 numbers from 1 by default; PNG decodes to RGB (swscale). */
	if (ff("-f lavfi -i testsrc2=size=160x120:rate=10 -frames:v 12 "
	       "seq%04d.png"))
		return;
	o.fps = 10;
	r = read_all(path("seq%04d.png"), &o, 10);
	CHECK_MSG(r.opened, "%s", r.err);
	CHECK_EQ_INT(r.frames, 12);
	CHECK_MSG(r.t_ok, "t != index / 10");
	CHECK_EQ_DBL(r.last_t, 1.1, 1e-6);
	CHECK(r.width == 160 && r.height == 120);
	CHECK(r.mid_luma > 20 && r.mid_luma < 235);
	CHECK_EQ_INT(r.end, FL_EEOF);
}

static void test_jpeg_sequence_from_zero(void)
{
	fl_source_opts o = { 0 };
	struct run r;

	if (ff("-f lavfi -i color=c=gray:size=64x48:rate=25 -frames:v 7 "
	       "-start_number 0 in%06d.jpg"))
		return;
	CHECK(access(path("in000000.jpg"), F_OK) == 0);
	r = read_all(path("in%06d.jpg"), &o, 25); /* default fps: 25 */
	CHECK_MSG(r.opened, "%s", r.err);
	CHECK_EQ_INT(r.frames, 7);
	CHECK(r.t_ok);
	CHECK_EQ_DBL(r.mid_luma, 128, 8); /* JPEG luma is full range */
}

static void test_mjpeg_avi(void)
{
	fl_source_opts o = { 0 };
	struct run r;

	if (ff("-f lavfi -i testsrc2=size=320x240:rate=25 -t 1 "
	       "-c:v mjpeg -pix_fmt yuvj422p -q:v 3 m.avi"))
		return;
	r = read_all(path("m.avi"), &o, 0);
	CHECK_MSG(r.opened, "%s", r.err);
	CHECK_EQ_INT(r.frames, 25);
	CHECK_EQ_DBL(r.last_t, 0.96, 0.001);
	CHECK(r.width == 320 && r.height == 240);
	CHECK_EQ_INT(r.end, FL_EEOF);
}

static void test_missing_and_garbage(void)
{
	fl_source_opts o = { 0 };
	char err[1024] = "";
	const char *missing = path("no-such-clip.mp4");
	fl_source *s;
	struct run r;
	FILE *fp;

	s = fl_source_open(missing, &o, err, sizeof(err));
	CHECK_NULL(s);
	CHECK_MSG(strstr(err, missing) != NULL, "%s", err);
	CHECK_MSG(strstr(err, "no such file") != NULL, "%s", err);
	fl_source_close(s);

	/* A pattern that matches nothing is missing too. */
	err[0] = '\0';
	s = fl_source_open(path("nothing%05d.png"), &o, err, sizeof(err));
	CHECK_NULL(s);
	CHECK_MSG(strstr(err, "nothing%05d.png") != NULL, "%s", err);
	fl_source_close(s);

	/* Random bytes: an error with the path, whether at open or read. */
	fp = fopen(path("random.mp4"), "wb");
	srand(7);
	for (int i = 0; fp && i < 65536; i++)
		fputc(rand() & 0xff, fp);
	if (fp)
		fclose(fp);
	r = read_all(path("random.mp4"), &o, 0);
	CHECK_MSG(!r.opened || r.end == FL_EDECODE, "opened, %d frames, %d",
		  r.frames, r.end);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_MSG(strstr(r.err, "random.mp4") != NULL, "%s", r.err);
}

static void test_truncated(void)
{
	fl_source_opts o = { 0 };
	struct run r;

	/* moov first (faststart) and MKV: both readable up to the cut, and
	 * the end says truncated: the container declares 2 s (docs/health.md,
	 * "Broken video"). */
	if (ff("-f lavfi -i testsrc2=size=320x240:rate=25 -frames:v 50 "
	       "-c:v libx264 -pix_fmt yuv420p -g 10 -movflags +faststart "
	       "fs.mp4 -frames:v 50 -c:v libx264 -pix_fmt yuv420p -g 10 "
	       "fs.mkv"))
		return;
	CHECK(truncate_copy(path("fs.mp4"), path("cut.mp4"), 0, 0.4) > 0);
	r = read_all(path("cut.mp4"), &o, 0);
	CHECK_MSG(r.opened, "%s", r.err);
	CHECK_MSG(r.frames > 0 && r.frames < 50, "%d frames", r.frames);
	CHECK_MSG(r.end == FL_EDECODE && strstr(r.err, "truncated"),
		  "%d frames, end %d: %s", r.frames, r.end, r.err);
	CHECK(r.monotonic);

	CHECK(truncate_copy(path("fs.mkv"), path("cut.mkv"), 0, 0.4) > 0);
	r = read_all(path("cut.mkv"), &o, 0);
	CHECK_MSG(r.frames > 0 && r.frames < 50, "mkv: %d frames", r.frames);
	CHECK_MSG(r.end == FL_EDECODE && strstr(r.err, "truncated"),
		  "mkv: end %d: %s", r.end, r.err);

	/* Only the header's first 2 KB: nothing decodes, and we say so. */
	CHECK(truncate_copy(path("a.mp4"), path("head.mp4"), 2048, 0) > 0);
	r = read_all(path("head.mp4"), &o, 0);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_MSG(!r.opened || r.end == FL_EDECODE, "end %d", r.end);
	CHECK_MSG(strstr(r.err, "head.mp4") != NULL, "%s", r.err);
	CHECK(truncate_copy(path("fs.mp4"), path("head2.mp4"), 2048, 0) > 0);
	r = read_all(path("head2.mp4"), &o, 0);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_MSG(!r.opened || r.end == FL_EDECODE, "end %d", r.end);
	CHECK_MSG(strstr(r.err, "head2.mp4") != NULL, "%s", r.err);
}

/*
 * An MJPEG AVI whose JPEG headers are scribbled over in three frames of four:
 * the container is intact, most packets fail to decode, and the end must be
 * FL_EDECODE rather than a clean FL_EEOF.
 */
static void test_mostly_corrupt(void)
{
	fl_source_opts o = { 0 };
	unsigned char *buf;
	struct run r;
	long size, n = 0;
	FILE *fp;

	if (ff("-f lavfi -i testsrc2=size=320x240:rate=25 -t 2 "
	       "-c:v mjpeg -q:v 3 bad.avi"))
		return;
	fp = fopen(path("bad.avi"), "r+b");
	if (!fp) {
		CHECK_NOT_NULL(fp);
		return;
	}
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc(size);
	CHECK(buf && fread(buf, 1, size, fp) == (size_t)size);
	srand(3);
	for (long i = 0; buf && i + 400 < size; i++) {
		if (buf[i] != 0xff || buf[i + 1] != 0xd8 || buf[i + 2] != 0xff)
			continue;
		if (n++ % 4)
			for (long k = i + 2; k < i + 400; k++)
				buf[k] = rand() & 0xff;
		i += 400;
	}
	CHECK_EQ_INT(n, 50);
	fseek(fp, 0, SEEK_SET);
	if (buf)
		fwrite(buf, 1, size, fp);
	fclose(fp);
	free(buf);

	r = read_all(path("bad.avi"), &o, 0);
	CHECK_MSG(r.opened, "%s", r.err);
	CHECK_MSG(r.frames > 0 && r.frames < 25, "%d frames", r.frames);
	CHECK_MSG(r.end == FL_EDECODE, "end %d: %s", r.end, r.err);
	CHECK_MSG(strstr(r.err, "bad.avi") != NULL, "%s", r.err);
}

static void test_size_change(void)
{
	fl_source_opts o = { 0 };
	struct run r;

	if (ff("-f lavfi -i color=c=blue:size=64x48 -map 0 -frames:v 1 sz0001.png "
	       "-f lavfi -i color=c=blue:size=80x60 -map 1 -frames:v 1 "
	       "sz0002.png"))
		return;
	r = read_all(path("sz%04d.png"), &o, 0);
	CHECK_MSG(r.opened, "%s", r.err);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_MSG(r.end == FL_EDECODE, "end %d", r.end);
	CHECK_MSG(strstr(r.err, "size changed") != NULL, "%s", r.err);
}

static void test_realtime(void)
{
	fl_source_opts o = { 0 };
	struct timespec a, b;
	struct run r;
	double wall;

	if (ff("-f lavfi -i testsrc2=size=64x48:rate=25 -t 0.6 "
	       "-c:v libx264 -pix_fmt yuv420p rt.mp4"))
		return;
	o.realtime = 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	r = read_all(path("rt.mp4"), &o, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	wall = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	CHECK_EQ_INT(r.frames, 15);
	/* The last frame (t = 0.56) is not handed out before it is due. */
	CHECK_MSG(wall >= 0.55 && wall < 3, "wall %.3f s", wall);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A loopback TCP socket listening on a free port; *port gets the port. */
static int listen_any(int *port)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/*
 * A server that accepts the connection (the kernel does, from the backlog)
 * and never answers: open must give up after timeout_ms, with the url.
 */
static void test_network_timeout(void)
{
	fl_source_opts o = { 0 };
	char url[128], err[1024] = "";
	fl_source *s;
	double t0, dt;
	int fd, port;

	fd = listen_any(&port);
	CHECK_GE_INT(fd, 0);
	if (fd < 0)
		return;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/clip.mp4", port);
	o.timeout_ms = 700;
	t0 = now_s();
	s = fl_source_open(url, &o, err, sizeof(err));
	dt = now_s() - t0;
	CHECK_NULL(s);
	CHECK_MSG(dt >= 0.5 && dt < 5, "gave up after %.2f s", dt);
	CHECK_MSG(strstr(err, url) != NULL, "%s", err);
	fl_source_close(s);
	close(fd);
}

/*
 * Cameras take their credentials in the url; the error names the url with
 * the password hidden (it reaches logs and camera_offline events), the user
 * and the rest kept.
 */
static void test_password_hidden(void)
{
	fl_source_opts o = { 0 };
	char url[128], want[128], err[1024] = "";
	fl_source *s;
	int fd, port;

	fd = listen_any(&port);
	CHECK_GE_INT(fd, 0);
	if (fd < 0)
		return;
	snprintf(url, sizeof(url), "rtsp://admin:Secret-1@127.0.0.1:%d/sub",
		 port);
	snprintf(want, sizeof(want), "rtsp://admin:***@127.0.0.1:%d/sub", port);
	o.timeout_ms = 500;
	s = fl_source_open(url, &o, err, sizeof(err));
	CHECK_NULL(s);
	CHECK_MSG(strstr(err, "Secret-1") == NULL, "%s", err);
	CHECK_MSG(strstr(err, want) != NULL, "%s", err);
	fl_source_close(s);
	close(fd);
}

/* HTTP: ffmpeg itself serves one client (-listen 1) a Matroska stream. */
static void test_http(void)
{
	fl_source_opts o = { 0 };
	char args[700], url[128];
	struct run r = { 0 };
	int fd, port;

	fd = listen_any(&port); /* find a free port, then hand it over */
	if (fd < 0) {
		CHECK_GE_INT(fd, 0);
		return;
	}
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/live.mkv", port);
	/* timeout(1): a server nobody connects to must not outlive us. */
	snprintf(args, sizeof(args),
		 "timeout 30 ffmpeg -nostdin -v error -f lavfi "
		 "-i testsrc2=size=160x120:rate=25 -t 1 -c:v libx264 "
		 "-pix_fmt yuv420p -f matroska -listen 1 %s "
		 ">/dev/null 2>&1 &",
		 url);
	if (system(args) != 0) {
		CHECK(!"could not start the ffmpeg HTTP server");
		return;
	}
	o.timeout_ms = 5000;
	for (int i = 0; i < 50; i++) { /* until the server listens */
		r = read_all(url, &o, 0);
		if (r.opened)
			break;
		usleep(100000);
	}
	CHECK_MSG(r.opened, "%s", r.err);
	CHECK_EQ_INT(r.frames, 25);
	CHECK_EQ_DBL(r.last_t, 0.96, 0.001);
	CHECK_MSG(r.end == FL_EEOF, "end %d: %s", r.end, r.err);
}

/* The last "decoding with" line of the source, and its level. */
static char decoding_line[1024];
static int decoding_level;

static void quiet(int level, const char *tag, const char *msg, void *user)
{
	if (getenv("FL_TEST_VERBOSE"))
		fprintf(stderr, "[%s] %s\n", tag, msg);
	if (!strcmp(tag, "source") && strstr(msg, ": decoding with ") &&
	    level <= FL_LOG_INFO) {
		snprintf(decoding_line, sizeof(decoding_line), "%s", msg);
		decoding_level = level;
	}
}

/*
 * Hardware decoding asked for where there is no GPU (this machine): every
 * request opens, falls back to software and says so in one line - INFO for
 * none and auto, WARN for a named one that failed - and the frames are the
 * software decoder's, every one of them. (No hardware path runs here; see
 * docs/cameras.md, "Hardware decoding".)
 */
static void test_hwaccel_fallback(void)
{
	static const struct {
		const char *hwaccel;
		int level;
		const char *says; /* in the log line */
	} cases[] = {
		{ NULL, FL_LOG_INFO, "decoding with h264 (software)" },
		{ "none", FL_LOG_INFO, "decoding with h264 (software)" },
		{ "auto", FL_LOG_INFO,
		  "decoding with h264 (software): hwaccel auto did not open "
		  "(vaapi: " },
		{ "vaapi", FL_LOG_WARN,
		  "decoding with h264 (software): hwaccel vaapi did not open "
		  "(vaapi: " },
		{ "v4l2m2m", FL_LOG_WARN, "hwaccel v4l2m2m did not open" },
		{ "cuda", FL_LOG_WARN, "hwaccel cuda did not open" },
		{ "no-such", FL_LOG_WARN,
		  "hwaccel no-such did not open (no-such: not in this FFmpeg)" },
	};
	struct run soft, r;

	if (ff("-f lavfi -i testsrc2=size=320x240:rate=25 -t 1 "
	       "-c:v libx264 -pix_fmt yuv420p -g 10 hw.mp4"))
		return;
	soft = read_all(path("hw.mp4"), &(fl_source_opts){ 0 }, 0);
	CHECK_EQ_INT(soft.frames, 25);
	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		fl_source_opts o = { .hwaccel = cases[i].hwaccel };
		char err[512];
		fl_source *s;

		decoding_line[0] = '\0';
		s = fl_source_open(path("hw.mp4"), &o, err, sizeof(err));
		CHECK_MSG(s != NULL, "%s: %s", cases[i].hwaccel, err);
		if (!s)
			continue;
		CHECK_STREQ(fl_source_decoder(s), "h264 (software)");
		CHECK_EQ_INT(fl_source_hw(s), 0);
		CHECK_MSG(strstr(decoding_line, cases[i].says) != NULL,
			  "%s: %s", cases[i].hwaccel, decoding_line);
		CHECK_EQ_INT(decoding_level, cases[i].level);
		fl_source_close(s);

		r = read_all(path("hw.mp4"), &o, 0);
		CHECK_EQ_INT(r.frames, soft.frames);
		CHECK_EQ_DBL(r.mid_luma, soft.mid_luma, 1e-9);
		CHECK_EQ_INT(r.end, FL_EEOF);
	}
}

int main(void)
{
	char cmd[600];

	fl_log_set(quiet, FL_LOG_DEBUG, NULL);
	fl_source_close(NULL); /* NULL-safe */
	snprintf(dir, sizeof(dir), "%s/fl-source-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	if (system("ffmpeg -version >/dev/null 2>&1") != 0) {
		fprintf(stderr,
			"the ffmpeg CLI is needed to make test media\n");
		return 1;
	}

	test_h264_file();
	test_time_offset();
	test_window();
	test_no_timestamps();
	test_fps_and_gray();
	test_bgr_red();
	test_png_sequence();
	test_jpeg_sequence_from_zero();
	test_mjpeg_avi();
	test_missing_and_garbage();
	test_truncated();
	test_mostly_corrupt();
	test_size_change();
	test_realtime();
	test_network_timeout();
	test_password_hidden();
	test_http();
	test_hwaccel_fallback();

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	TEST_DONE();
}
