/*
 * source.c - video input through FFmpeg's libraries (see source.h).
 *
 * A note on the model. A source is one demuxer (libavformat), one decoder
 * (libavcodec) and a little bookkeeping around them. fl_source_read() is a
 * pull loop in the shape libavcodec wants: drain the decoder first
 * (avcodec_receive_frame), and only when it asks for more (EAGAIN) read the
 * next packet of our stream and send it in. At the end of input we send the
 * NULL packet, which flushes the frames a frame-threaded or B-frame decoder
 * is still holding; the stream is over when the decoder says AVERROR_EOF.
 *
 * What kind of input a url is decides how we open it:
 *   /dev/videoN            avdevice's v4l2 input
 *   scheme://...           network (RTSP over TCP, HTTP(S)); socket
 *                          timeouts plus our interrupt callback
 *   a path with %d / %0Nd  image2 demuxer at opts->fps; image2 itself finds a
 *                          sequence starting at 0..4 (its start_number probe)
 *   any other path         a file; stat() first so "no such file" is clear
 * The interrupt callback carries a deadline that is re-armed before every
 * blocking call (open, stream probe, each packet read), so a dead camera or
 * a stalled HTTP server turns into FL_EIO instead of a hang. A live packet
 * that arrives only after the deadline passed counts as the timeout too:
 * RTSP's demuxer, interrupted, hands out a packet it still held instead of
 * failing, which would double the time a stalled camera goes unnoticed.
 * Credentials ride in camera urls (rtsp://user:password@host/...): every
 * message names the url with the password replaced by ***.
 *
 * Pixels. Analysis wants luma only, and every planar YUV format (and NV12)
 * already has it as plane 0 of the decoded AVFrame, so we hand that out
 * without touching it. Anything else (RGB from PNG sequences, paletted,
 * packed YUYV from webcams) goes through swscale into a GRAY8 buffer the
 * source owns. A BGR24 copy is made only on request (fl_frame_bgr), with a
 * cached SwsContext: evidence needs it a few times per incident, the hot
 * path never.
 *
 * Time. A frame's time is best_effort_timestamp * time_base relative to the
 * first frame. The first time a timestamp is missing or fails to increase we
 * give up on container time for the rest of the stream and count frames at
 * the stream rate instead, continuing from where time had got to, so video
 * time never runs backwards. A window (opts start_s, until_s: replaying a
 * clip as if the edge had started, or lost power, mid-way) only decides
 * which frames are handed out; their times stay the input's own.
 *
 * Truncated and corrupt files. The demuxer's errors at the tail of a file are
 * treated as its end: we flush the decoder and return what it still holds.
 * The end is reported as FL_EEOF when at least one frame came out, at most
 * half of the packets failed to decode, and - for a file - the frames
 * reached the length its container declares; otherwise as FL_EDECODE,
 * because "clean end of input" would be a lie. A file cut short (a copy
 * interrupted, a card pulled) often decodes without a single error: an MP4
 * whose index sits at the front plays its first half and simply stops. So
 * a file whose last frame ends more than TRUNCATED_SLACK_S, or
 * TRUNCATED_SLACK of its declared duration (the larger), before that
 * duration is "truncated" (docs/health.md, "Broken video").
 *
 * Reconnecting. A live source (network stream, V4L2 device) that failed or
 * ended can be opened again with fl_source_reopen(): the same fl_source,
 * a new demuxer and decoder. Everything downstream holds the source's clock
 * (frame times, the packet tap's times and raw packet timestamps that
 * evidence clips copy), so the new connection's packets are mapped onto the
 * first connection's time base and shifted so that its first packet lands
 * at the last packet's time plus the time the stream was away (monotonic);
 * a packet without time (an RTSP session's first often has none) takes the
 * next frame's slot.
 * Video time therefore keeps going forward across a gap, roughly in step
 * with the wall clock, and a clip that spans the gap stays monotonic.
 *
 * Hardware decoding (opts->hwaccel; docs/cameras.md, "Hardware decoding").
 * Two shapes, both chosen when the decoder is opened (and again at each
 * reopen): vaapi, cuda and videotoolbox are FFmpeg hwaccels of the ordinary
 * decoder - a device context (av_hwdevice_ctx_create) on the decoder, and a
 * get_format callback that picks the device's surface format - whose frames
 * live in the device's memory and are brought back with
 * av_hwframe_transfer_data (usually as NV12, whose plane 0 is the luma we
 * hand out, so the hot path does not change); v4l2m2m and qsv are
 * decoders of their own ("h264_v4l2m2m", "h264_qsv") that hand out frames
 * in ordinary memory. "auto" tries them in the order of HWACCEL_AUTO and
 * takes the first that opens. Whatever does not open - no such device, no
 * driver, a build without it, a codec or profile the device lacks - falls
 * back to the software decoder: a camera must run. One line per open says
 * which decoder runs (INFO; WARN when a named one was refused), the first
 * open only, a reopen logs it at DEBUG. Opening is not proof: Debian's
 * h264_qsv opens without any device and then fails every packet, so qsv
 * opens its device first, and a hardware decoder that fails before its
 * first frame is replaced by the software one (hw_to_software; the packets
 * it had are lost, software starts at the next keyframe). A device that
 * cannot do the stream's profile (get_format without its surface format)
 * decodes in software from there. Both are said once at WARN.
 *
 * Logging. FFmpeg's own av_log is routed once, process-wide, into fl_log
 * (tag "source"); its errors become DEBUG lines because the reason that
 * matters reaches the caller through err.
 */
#include "source.h"

#include "clock.h"
#include "fl.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavdevice/avdevice.h>
#include <libavformat/avformat.h>
#include <libavutil/hwcontext.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#define TAG "source"
#define URL_MAX 1024

enum src_kind { KIND_FILE, KIND_PATTERN, KIND_DEVICE, KIND_NETWORK };

struct fl_source {
	char url[URL_MAX];  /* as given: what is opened */
	char name[URL_MAX]; /* url without its password: what is said */
	enum src_kind kind;
	AVFormatContext *fmt;
	AVCodecContext *dec;
	AVPacket *pkt;
	AVFrame *frame;
	int stream;    /* index of our video stream in fmt */
	AVRational tb; /* its time base */
	double fps;    /* stream rate, or opts->fps */

	int width, height; /* fixed by the first frame; 0 before */
	struct SwsContext *gray_sws;
	uint8_t *gray; /* GRAY8 frame for non-YUV formats */
	int gray_stride;
	struct SwsContext *bgr_sws;

	int64_t index; /* frames handed out */
	int64_t first_ts, prev_ts;
	int ts_fallback;     /* container time abandoned: count frames */
	double fallback_off; /* added to index/fps after the switch */
	double last_t;

	double start_s, until_s; /* the window handed out (0: open) */
	int64_t packets, bad;    /* packets sent, packets/frames that failed */
	int flushing;            /* NULL packet sent */
	int end;                 /* 0, or the status every later read returns */
	char end_msg[URL_MAX + 128];

	fl_packet_fn tap; /* packet tap (evidence pre-roll), or NULL */
	void *tap_user;
	int64_t tap_origin; /* first packet's timestamp, or NOPTS */
	int64_t tap_count;  /* packets tapped */
	int tap_no_ts;      /* timestamps missing: counting packets */

	double opt_fps;        /* opts->fps, for reopening */
	int threads;           /* decoder threads, for reopening */
	int64_t last_frame_ns; /* monotonic time of the last frame out */
	int reopened;          /* packets come from a reopened input */
	AVRational in_tb;      /* ... in this time base (mapped to tb) */
	int64_t resume_ts;     /* ... the first one lands here (tb) */
	int64_t shift;         /* ... moved by this much, or NOPTS */
	int64_t mapped_ts;     /* ... the last one's dts (else pts), mapped */
	int64_t last_pkt_ts;   /* dts (else pts) of the last packet, or NOPTS */

	int64_t deadline_ns;    /* interrupt callback: 0 = none */
	atomic_int interrupted; /* fl_source_interrupt(): every wait ends */
	int timeout_ms;
	int udp;        /* RTSP over UDP */
	int demux_only; /* no decoder (fl_source_pump) */
	int realtime;
	int64_t pace_start_ns; /* monotonic time of video time 0 */

	char hwaccel[16];          /* as asked: "" = none (software) */
	enum AVPixelFormat hw_fmt; /* the device's surface format, or NONE */
	int hw;                    /* frames decoded by hardware */
	AVFrame *sw;               /* a surface brought back to memory */
	char decoder[64];          /* fl_source_decoder() */
};

/* ---- process-wide set-up ------------------------------------------------ */

/*
 * av_log -> fl_log. Called from decoder threads too; fl_log holds no state of
 * its own, so this is as thread-safe as the program's sink. The level check
 * comes before formatting.
 */
static void av_log_to_fl(void *avcl, int level, const char *fmt, va_list vl)
{
	char line[1024];
	int print_prefix = 1;
	int fl_level;
	size_t n;

	if (level > AV_LOG_WARNING)
		return;
	fl_level = level <= AV_LOG_FATAL ? FL_LOG_WARN : FL_LOG_DEBUG;
	if (!fl_log_enabled(fl_level))
		return;
	av_log_format_line2(avcl, level, fmt, vl, line, sizeof(line),
			    &print_prefix);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n > 0)
		fl_log(fl_level, TAG, "ffmpeg: %s", line);
}

static void media_init_once(void)
{
	av_log_set_level(AV_LOG_WARNING);
	av_log_set_callback(av_log_to_fl);
	avdevice_register_all();
	avformat_network_init();
}

/*
 * Process-wide FFmpeg set-up: devices, network, and av_log routed into
 * fl_log. Idempotent and thread-safe; fl_source_open() calls it, other media
 * code (the encoder) may too.
 */
void fl_media_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, media_init_once);
}

/* ---- opening ------------------------------------------------------------- */

static int interrupt_cb(void *opaque)
{
	fl_source *s = opaque;

	return atomic_load(&s->interrupted) ||
	       (s->deadline_ns && fl_mono_ns() > s->deadline_ns);
}

static void arm_deadline_ms(fl_source *s, int ms)
{
	s->deadline_ns = fl_mono_ns() + (int64_t)ms * 1000000;
}

static void arm_deadline(fl_source *s)
{
	arm_deadline_ms(s, s->timeout_ms);
}

/* A printf-style frame number: %d or %0Nd (image2's syntax). */
static int is_pattern(const char *url)
{
	const char *p;

	for (p = strchr(url, '%'); p; p = strchr(p + 1, '%')) {
		const char *q = p + 1;

		while (*q >= '0' && *q <= '9')
			q++;
		if (*q == 'd')
			return 1;
	}
	return 0;
}

static enum src_kind classify(const char *url)
{
	if (strncmp(url, "/dev/video", 10) == 0)
		return KIND_DEVICE;
	if (strstr(url, "://") && strncmp(url, "file:", 5) != 0)
		return KIND_NETWORK;
	if (is_pattern(url))
		return KIND_PATTERN;
	return KIND_FILE;
}

static const char *kind_name(enum src_kind k)
{
	switch (k) {
	case KIND_FILE:
		return "file";
	case KIND_PATTERN:
		return "image sequence";
	case KIND_DEVICE:
		return "v4l2 device";
	case KIND_NETWORK:
		return "network stream";
	}
	return "?";
}

static void av_reason(int averr, char *buf, size_t len)
{
	if (av_strerror(averr, buf, len) < 0)
		snprintf(buf, len, "ffmpeg error %d", averr);
}

/*
 * Demuxer options for the kind of input: the image sequence's rate, RTSP over
 * TCP, socket timeouts in microseconds (FFmpeg 5 calls RTSP's "timeout" what
 * older versions called "stimeout"; we set both, unknown keys are ignored).
 */
static void input_options(const fl_source *s, double fps, AVDictionary **d)
{
	char buf[64];
	long long us = (long long)s->timeout_ms * 1000;

	switch (s->kind) {
	case KIND_PATTERN:
		snprintf(buf, sizeof(buf), "%g", fps);
		av_dict_set(d, "framerate", buf, 0);
		/* image2 probes start_number .. start_number+range-1. */
		av_dict_set(d, "start_number", "0", 0);
		av_dict_set(d, "start_number_range", "5", 0);
		break;
	case KIND_NETWORK:
		snprintf(buf, sizeof(buf), "%lld", us);
		if (strncmp(s->url, "rtsp", 4) == 0) {
			av_dict_set(d, "rtsp_transport", s->udp ? "udp" : "tcp",
				    0);
			av_dict_set(d, "stimeout", buf, 0);
		}
		av_dict_set(d, "timeout", buf, 0);
		av_dict_set(d, "rw_timeout", buf, 0);
		break;
	case KIND_DEVICE:
	case KIND_FILE:
		break;
	}
}

static double sane_rate(AVRational r)
{
	double v;

	if (r.num <= 0 || r.den <= 0)
		return 0;
	v = av_q2d(r);
	return v > 0 && v <= 1000 ? v : 0;
}

/* ---- the decoder: software or hardware --------------------------------- */

/* What "auto" tries, in this order: the hwaccels of Linux boxes first
 * (Intel/AMD, then NVIDIA), then Intel's own decoder, macOS, and the
 * stateful V4L2 decoders of ARM boards (Raspberry Pi, Rockchip). */
static const char *const HWACCEL_AUTO[] = { "vaapi", "cuda", "qsv",
					    "videotoolbox", "v4l2m2m" };

/* The ones that are a decoder of their own, named codec_NAME. */
static int hw_is_decoder(const char *name)
{
	return !strcmp(name, "v4l2m2m") || !strcmp(name, "qsv");
}

/*
 * get_format: the device's surface format when the decoder offers it;
 * else (a profile the device cannot do) the first software format, which
 * makes this decoder a software one from here on - said once.
 */
static enum AVPixelFormat get_hw_format(AVCodecContext *ctx,
					const enum AVPixelFormat *fmts)
{
	fl_source *s = ctx->opaque;
	const enum AVPixelFormat *p;

	for (p = fmts; *p != AV_PIX_FMT_NONE; p++)
		if (*p == s->hw_fmt)
			return *p;
	for (p = fmts; *p != AV_PIX_FMT_NONE; p++) {
		const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(*p);

		if (d && !(d->flags & AV_PIX_FMT_FLAG_HWACCEL)) {
			if (s->hw)
				fl_log(FL_LOG_WARN, TAG,
				       "%s: %s: the stream needs what the "
				       "device lacks; decoding in software",
				       s->name, s->decoder);
			s->hw = 0;
			snprintf(s->decoder, sizeof(s->decoder),
				 "%s (software)", ctx->codec->name);
			return *p;
		}
	}
	return AV_PIX_FMT_NONE;
}

/*
 * Open s->dec as codec for stream st, with the hwaccel device type (NONE:
 * plain). Returns 0, or -1 with the reason in why and s->dec freed.
 */
static int open_codec(fl_source *s, const AVCodec *codec, const AVStream *st,
		      enum AVHWDeviceType type, int threads, char *why,
		      size_t len)
{
	const AVCodecHWConfig *hc;
	int ret, i;

	s->hw_fmt = AV_PIX_FMT_NONE;
	s->dec = avcodec_alloc_context3(codec);
	if (!s->dec) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	ret = avcodec_parameters_to_context(s->dec, st->codecpar);
	if (ret < 0) {
		av_reason(ret, why, len);
		goto fail;
	}
	s->dec->pkt_timebase = s->tb;
	s->dec->thread_count = threads; /* 0 would mean "all cores" */
	s->dec->thread_type = threads > 1 ? FF_THREAD_FRAME | FF_THREAD_SLICE
					  : 0;
	if (type != AV_HWDEVICE_TYPE_NONE) {
		for (i = 0; (hc = avcodec_get_hw_config(codec, i)); i++)
			if ((hc->methods &
			     AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX) &&
			    hc->device_type == type)
				break;
		if (!hc) {
			snprintf(why, len,
				 "no %s hwaccel for %s in this FFmpeg",
				 av_hwdevice_get_type_name(type), codec->name);
			goto fail;
		}
		ret = av_hwdevice_ctx_create(&s->dec->hw_device_ctx, type, NULL,
					     NULL, 0);
		if (ret < 0) {
			av_reason(ret, why, len);
			goto fail;
		}
		s->hw_fmt = hc->pix_fmt;
		s->dec->opaque = s;
		s->dec->get_format = get_hw_format;
	}
	ret = avcodec_open2(s->dec, codec, NULL);
	if (ret < 0) {
		av_reason(ret, why, len);
		goto fail;
	}
	return 0;
fail:
	avcodec_free_context(&s->dec);
	s->hw_fmt = AV_PIX_FMT_NONE;
	return -1;
}

/* Try the hardware decoder called name for codec; 0 when it opened. */
static int open_hw(fl_source *s, const AVCodec *codec, const AVStream *st,
		   const char *name, char *why, size_t len)
{
	enum AVHWDeviceType type;
	const AVCodec *own;
	char dname[64];

	if (hw_is_decoder(name)) {
		snprintf(dname, sizeof(dname), "%s_%s", codec->name, name);
		own = avcodec_find_decoder_by_name(dname);
		if (!own) {
			snprintf(why, len, "no %s decoder in this FFmpeg",
				 dname);
			return -1;
		}
		/* qsv's decoder opens without a device and then fails on
		 * every packet: it gets one, which must open first. */
		if (open_codec(s, own, st,
			       strcmp(name, "qsv") ? AV_HWDEVICE_TYPE_NONE
						   : AV_HWDEVICE_TYPE_QSV,
			       1, why, len))
			return -1;
		snprintf(s->decoder, sizeof(s->decoder), "%s", dname);
		return 0;
	}
	type = av_hwdevice_find_type_by_name(name);
	if (type == AV_HWDEVICE_TYPE_NONE) {
		snprintf(why, len, "not in this FFmpeg");
		return -1;
	}
	if (open_codec(s, codec, st, type, 1, why, len))
		return -1;
	snprintf(s->decoder, sizeof(s->decoder), "%s on %s", codec->name, name);
	return 0;
}

/*
 * The decoder of st into s->dec: the hardware one s->hwaccel asks for when
 * it opens, else software (see the essay), and the one line saying which.
 * Returns 0, or -1 with the reason in err when not even software opens.
 */
static int open_decoder(fl_source *s, const AVCodec *codec, const AVStream *st,
			int threads, char *err, size_t errlen)
{
	const int is_auto = !strcmp(s->hwaccel, "auto");
	const size_t n = is_auto ? FL_ARRAY_SIZE(HWACCEL_AUTO) : 1;
	const int level = s->reopened ? FL_LOG_DEBUG : FL_LOG_INFO;
	char tried[512] = "", why[256];
	size_t used = 0;

	s->hw = 0;
	for (size_t i = 0; s->hwaccel[0] && i < n; i++) {
		const char *name = is_auto ? HWACCEL_AUTO[i] : s->hwaccel;

		if (open_hw(s, codec, st, name, why, sizeof(why)) == 0) {
			s->hw = 1;
			fl_log(level, TAG, "%s: decoding with %s (hwaccel %s)",
			       s->name, s->decoder, s->hwaccel);
			return 0;
		}
		if (used < sizeof(tried))
			used += (size_t)snprintf(tried + used,
						 sizeof(tried) - used,
						 "%s%s: %s", used ? "; " : "",
						 name, why);
	}
	if (open_codec(s, codec, st, AV_HWDEVICE_TYPE_NONE, threads, why,
		       sizeof(why))) {
		snprintf(err, errlen, "%s: unsupported codec %s: %s", s->name,
			 codec->name, why);
		return -1;
	}
	snprintf(s->decoder, sizeof(s->decoder), "%s (software)", codec->name);
	if (!s->hwaccel[0])
		fl_log(level, TAG, "%s: decoding with %s", s->name, s->decoder);
	else
		fl_log(is_auto || s->reopened ? level : FL_LOG_WARN, TAG,
		       "%s: decoding with %s: hwaccel %s did not open (%s)",
		       s->name, s->decoder, s->hwaccel, tried);
	return 0;
}

/*
 * A hardware decoder that opened but fails on the stream before its first
 * frame (a device that lacks the profile, a driver that says yes and
 * cannot): the software decoder in its place, said at WARN. The packets
 * it was given are lost; the software decoder starts at the next keyframe.
 * Returns 0 when the switch was made, -1 when there was nothing to switch,
 * FL_EDECODE (the source is then spent) when software does not open.
 */
static int hw_to_software(fl_source *s, const char *what)
{
	const AVStream *st = s->fmt->streams[s->stream];
	const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
	char was[64], why[256];

	if (!s->hw || s->index > 0 || !codec)
		return -1;
	snprintf(was, sizeof(was), "%s", s->decoder);
	avcodec_free_context(&s->dec);
	s->hw = 0;
	if (open_codec(s, codec, st, AV_HWDEVICE_TYPE_NONE, s->threads, why,
		       sizeof(why))) {
		fl_log(FL_LOG_ERROR, TAG,
		       "%s: %s failed on the stream (%s), software does not "
		       "open: %s",
		       s->name, was, what, why);
		s->end = FL_EDECODE;
		snprintf(s->end_msg, sizeof(s->end_msg),
			 "%s: no decoder runs (see the log)", s->name);
		return FL_EDECODE;
	}
	snprintf(s->decoder, sizeof(s->decoder), "%s (software)", codec->name);
	s->bad = 0;
	fl_log(FL_LOG_WARN, TAG,
	       "%s: decoding with %s: %s failed on the stream (%s)", s->name,
	       s->decoder, was, what);
	return 0;
}

/*
 * The demuxer and the decoder of s->url into s->fmt, s->dec, s->stream (the
 * stages of fl_source_open(), shared with fl_source_reopen()), waiting at
 * most open_ms for the open and as long for the probe. On failure
 * returns -1 with the reason in err; what was built is freed by the caller
 * (fl_source_close) or the next attempt.
 */
static int open_input(fl_source *s, double fps, int threads, int open_ms,
		      char *err, size_t errlen)
{
	const AVInputFormat *ifmt = NULL;
	AVDictionary *dopts = NULL;
	const AVCodec *codec = NULL;
	AVStream *st;
	char why[256];
	int ret;

	/* Demuxer. */
	if (s->kind == KIND_PATTERN)
		ifmt = av_find_input_format("image2");
	else if (s->kind == KIND_DEVICE)
		ifmt = av_find_input_format("video4linux2");
	if ((s->kind == KIND_PATTERN || s->kind == KIND_DEVICE) && !ifmt) {
		snprintf(err, errlen,
			 "%s: %s input not available in this FFmpeg", s->name,
			 kind_name(s->kind));
		return -1;
	}
	s->fmt = avformat_alloc_context();
	if (!s->fmt) {
		snprintf(err, errlen, "%s: out of memory", s->name);
		return -1;
	}
	s->fmt->interrupt_callback.callback = interrupt_cb;
	s->fmt->interrupt_callback.opaque = s;
	input_options(s, fps, &dopts);
	arm_deadline_ms(s, open_ms);
	ret = avformat_open_input(&s->fmt, s->url, ifmt, &dopts);
	av_dict_free(&dopts);
	if (ret < 0) {
		/* avformat_open_input freed s->fmt and set it to NULL. */
		if (ret == AVERROR(ENOENT))
			snprintf(err, errlen, "%s: no such file", s->name);
		else if (ret == AVERROR_INVALIDDATA)
			snprintf(err, errlen,
				 "%s: not a video or corrupt header", s->name);
		else if (ret == AVERROR_EXIT)
			snprintf(err, errlen, "%s: timed out after %d ms",
				 s->name, open_ms);
		else {
			av_reason(ret, why, sizeof(why));
			snprintf(err, errlen, "%s: cannot open %s: %s", s->name,
				 kind_name(s->kind), why);
		}
		return -1;
	}

	/* Streams. */
	arm_deadline_ms(s, open_ms);
	ret = avformat_find_stream_info(s->fmt, NULL);
	if (ret < 0 && s->deadline_ns && fl_mono_ns() > s->deadline_ns) {
		/* a camera that answers but sends nothing (stalled) */
		snprintf(err, errlen, "%s: no video within %d ms", s->name,
			 open_ms);
		return -1;
	}
	if (ret < 0) {
		av_reason(ret, why, sizeof(why));
		snprintf(err, errlen, "%s: not a video or corrupt header (%s)",
			 s->name, why);
		return -1;
	}
	/* demux only: any codec will do, decoder or not (H.265 without
	 * its decoder still goes into the ring) */
	ret = av_find_best_stream(s->fmt, AVMEDIA_TYPE_VIDEO, -1, -1,
				  s->demux_only ? NULL : &codec, 0);
	if (ret == AVERROR_STREAM_NOT_FOUND) {
		snprintf(err, errlen, "%s: no video stream", s->name);
		return -1;
	}
	if (ret == AVERROR_DECODER_NOT_FOUND ||
	    (ret >= 0 && !codec && !s->demux_only)) {
		st = NULL;
		for (unsigned i = 0; i < s->fmt->nb_streams; i++)
			if (s->fmt->streams[i]->codecpar->codec_type ==
			    AVMEDIA_TYPE_VIDEO)
				st = s->fmt->streams[i];
		snprintf(err, errlen, "%s: unsupported codec %s", s->name,
			 st ? avcodec_get_name(st->codecpar->codec_id) : "?");
		return -1;
	}
	if (ret < 0) {
		av_reason(ret, why, sizeof(why));
		snprintf(err, errlen, "%s: no usable video stream (%s)",
			 s->name, why);
		return -1;
	}
	s->stream = ret;
	st = s->fmt->streams[s->stream];
	/* A reopened input keeps the first one's time base and rate: its
	 * packets are mapped onto them (remap_packet). */
	s->in_tb = st->time_base;
	if (!s->reopened)
		s->tb = st->time_base;
	/* Let the demuxer drop what we would throw away anyway. */
	for (unsigned i = 0; i < s->fmt->nb_streams; i++)
		if ((int)i != s->stream)
			s->fmt->streams[i]->discard = AVDISCARD_ALL;

	if (s->reopened)
		;
	else if (s->kind == KIND_PATTERN)
		s->fps = fps;
	else if (!(s->fps = sane_rate(st->avg_frame_rate)) &&
		 !(s->fps = sane_rate(st->r_frame_rate)))
		s->fps = fps;

	if (s->demux_only) {
		fl_log(FL_LOG_DEBUG, TAG, "%s: %s via %s, %s %dx%d, demux only",
		       s->name, kind_name(s->kind), s->fmt->iformat->name,
		       avcodec_get_name(st->codecpar->codec_id),
		       st->codecpar->width, st->codecpar->height);
		return 0;
	}
	if (open_decoder(s, codec, st, threads, err, errlen) < 0)
		return -1;
	fl_log(FL_LOG_DEBUG, TAG,
	       "%s: %s via %s, codec %s %dx%d %s, %.3f fps, time base %d/%d, %d thread%s",
	       s->name, kind_name(s->kind), s->fmt->iformat->name, codec->name,
	       st->codecpar->width, st->codecpar->height,
	       av_get_pix_fmt_name(st->codecpar->format)
		       ? av_get_pix_fmt_name(st->codecpar->format)
		       : "?",
	       s->fps, s->in_tb.num, s->in_tb.den, threads,
	       threads > 1 ? "s" : "");
	return 0;
}

/*
 * Open url (see source.h). Stages: check the path, open the demuxer, probe
 * streams, pick the video stream and its decoder, open the decoder, allocate
 * the packet and frame. Any failure unwinds through fl_source_close(), which
 * copes with a partly built source.
 */
fl_source *fl_source_open(const char *url, const fl_source_opts *opts,
			  char *err, size_t errlen)
{
	fl_source_opts o = { 0 };
	fl_source *s = NULL;
	struct stat sb;
	int threads;

	if (!url || !*url) {
		snprintf(err, errlen, "source: empty url");
		return NULL;
	}
	if (opts)
		o = *opts;
	if (o.fps <= 0)
		o.fps = 25;
	threads = o.threads > 0 ? o.threads : 1;
	fl_media_init();

	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "source: out of memory");
		return NULL;
	}
	snprintf(s->url, sizeof(s->url), "%s", url);
	/* the name goes to the log, the camera's status and its events:
	 * never with its password */
	fl_url_redact(url, s->name, sizeof(s->name));
	s->kind = classify(url);
	s->timeout_ms = o.timeout_ms > 0 ? o.timeout_ms : 10000;
	s->realtime = o.realtime;
	s->start_s = o.start_s;
	s->until_s = o.until_s;
	s->udp = o.udp;
	s->demux_only = o.demux_only;
	s->stream = -1;
	s->hw_fmt = AV_PIX_FMT_NONE;
	if (o.hwaccel && strcmp(o.hwaccel, "none") != 0)
		snprintf(s->hwaccel, sizeof(s->hwaccel), "%s", o.hwaccel);

	if (s->kind == KIND_FILE && stat(url, &sb) != 0) {
		snprintf(err, errlen, "%s: no such file (%s)", url,
			 strerror(errno));
		goto fail;
	}

	s->opt_fps = o.fps;
	s->threads = threads;
	if (open_input(s, o.fps, threads, s->timeout_ms, err, errlen) < 0)
		goto fail;

	s->pkt = av_packet_alloc();
	s->frame = av_frame_alloc();
	s->sw = av_frame_alloc();
	if (!s->pkt || !s->frame || !s->sw) {
		snprintf(err, errlen, "%s: out of memory", url);
		goto fail;
	}
	s->first_ts = AV_NOPTS_VALUE;
	s->prev_ts = AV_NOPTS_VALUE;
	s->tap_origin = AV_NOPTS_VALUE;
	s->shift = AV_NOPTS_VALUE;
	s->mapped_ts = AV_NOPTS_VALUE;
	s->last_pkt_ts = AV_NOPTS_VALUE;
	return s;

fail:
	fl_source_close(s);
	return NULL;
}

/* ---- reading ------------------------------------------------------------ */

/* Planar YUV formats (and NV12/NV21) whose plane 0 is the 8-bit luma. */
static int luma_is_plane0(enum AVPixelFormat f)
{
	switch (f) {
	case AV_PIX_FMT_YUV420P:
	case AV_PIX_FMT_YUVJ420P:
	case AV_PIX_FMT_YUV422P:
	case AV_PIX_FMT_YUVJ422P:
	case AV_PIX_FMT_YUV444P:
	case AV_PIX_FMT_YUVJ444P:
	case AV_PIX_FMT_YUV440P:
	case AV_PIX_FMT_YUVJ440P:
	case AV_PIX_FMT_YUV411P:
	case AV_PIX_FMT_YUV410P:
	case AV_PIX_FMT_YUVA420P:
	case AV_PIX_FMT_NV12:
	case AV_PIX_FMT_NV21:
	case AV_PIX_FMT_GRAY8:
		return 1;
	default:
		return 0;
	}
}

/*
 * The frame's video time (see the essay): container time relative to the
 * first frame while it behaves, frame counting after it stops behaving.
 */
static double frame_time(fl_source *s, int64_t ts)
{
	double t;

	if (!s->ts_fallback) {
		if (ts == AV_NOPTS_VALUE ||
		    (s->prev_ts != AV_NOPTS_VALUE && ts <= s->prev_ts)) {
			s->ts_fallback = 1;
			s->fallback_off = s->index > 0
						  ? s->last_t + 1.0 / s->fps -
							    s->index / s->fps
						  : 0;
			fl_log(FL_LOG_DEBUG, TAG,
			       "%s: frame %lld has %s timestamp; counting frames at %.3f fps",
			       s->name, (long long)s->index,
			       ts == AV_NOPTS_VALUE ? "no" : "a non-increasing",
			       s->fps);
		} else {
			if (s->first_ts == AV_NOPTS_VALUE)
				s->first_ts = ts;
			s->prev_ts = ts;
			return (ts - s->first_ts) * av_q2d(s->tb);
		}
	}
	t = s->index / s->fps + s->fallback_off;
	return t;
}

/* Sleep until video time t is due on the monotonic clock (live replay). */
static void pace(fl_source *s, double t)
{
	int64_t due, now = fl_mono_ns();
	struct timespec ts;

	if (s->index == 0)
		s->pace_start_ns = now - (int64_t)(t * 1e9);
	due = s->pace_start_ns + (int64_t)(t * 1e9);
	if (due - now > 0) {
		ts.tv_sec = due / 1000000000;
		ts.tv_nsec = due % 1000000000;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
				       NULL) == EINTR)
			;
	} else if (now - due > 1000000000) {
		/* More than a second behind: resynchronise, don't burst. */
		s->pace_start_ns = now - (int64_t)(t * 1e9);
	}
}

/*
 * A hardware surface in s->frame brought back into memory, in its place
 * (usually NV12: the luma is plane 0), with the frame's times. Frames
 * already in memory are left alone.
 */
static int to_memory(fl_source *s, char *err, size_t errlen)
{
	char why[256];
	int ret;

	if (s->hw_fmt == AV_PIX_FMT_NONE || s->frame->format != s->hw_fmt)
		return 0;
	av_frame_unref(s->sw);
	ret = av_hwframe_transfer_data(s->sw, s->frame, 0);
	if (ret >= 0)
		ret = av_frame_copy_props(s->sw, s->frame);
	if (ret < 0) {
		av_reason(ret, why, sizeof(why));
		snprintf(err, errlen, "%s: %s: cannot read the frame back: %s",
			 s->name, s->decoder, why);
		return FL_EDECODE;
	}
	s->sw->best_effort_timestamp = s->frame->best_effort_timestamp;
	av_frame_unref(s->frame);
	av_frame_move_ref(s->frame, s->sw);
	return 0;
}

/*
 * Fill *f from s->frame, which holds a fresh decoded picture. Fixes the
 * frame size on the first frame and refuses any change after it.
 */
static int emit(fl_source *s, fl_frame *f, char *err, size_t errlen)
{
	AVFrame *fr = s->frame;
	enum AVPixelFormat pf = fr->format;

	if (fr->width <= 0 || fr->height <= 0) {
		snprintf(err, errlen, "%s: decoder gave an empty frame",
			 s->name);
		return FL_EDECODE;
	}
	if (s->width == 0) {
		s->width = fr->width;
		s->height = fr->height;
		fl_log(FL_LOG_DEBUG, TAG, "%s: first frame %dx%d %s", s->name,
		       fr->width, fr->height,
		       av_get_pix_fmt_name(pf) ? av_get_pix_fmt_name(pf) : "?");
	} else if (fr->width != s->width || fr->height != s->height) {
		snprintf(err, errlen,
			 "%s: frame size changed from %dx%d to %dx%d at frame %lld; a source keeps one size",
			 s->name, s->width, s->height, fr->width, fr->height,
			 (long long)s->index);
		s->end = FL_EDECODE;
		snprintf(s->end_msg, sizeof(s->end_msg), "%s", err);
		return FL_EDECODE;
	}

	memset(f, 0, sizeof(*f));
	if (luma_is_plane0(pf) && fr->linesize[0] > 0) {
		f->luma = fr->data[0];
		f->stride = fr->linesize[0];
	} else {
		uint8_t *dst[4] = { NULL };
		int dst_stride[4] = { 0 };

		if (!s->gray) {
			s->gray_stride = FFALIGN(s->width, 32);
			s->gray = av_malloc((size_t)s->gray_stride * s->height);
			if (!s->gray) {
				snprintf(err, errlen, "%s: out of memory",
					 s->name);
				return FL_ENOMEM;
			}
		}
		s->gray_sws = sws_getCachedContext(s->gray_sws, s->width,
						   s->height, pf, s->width,
						   s->height, AV_PIX_FMT_GRAY8,
						   SWS_POINT, NULL, NULL, NULL);
		if (!s->gray_sws) {
			snprintf(err, errlen,
				 "%s: cannot convert pixel format %s to gray",
				 s->name,
				 av_get_pix_fmt_name(pf)
					 ? av_get_pix_fmt_name(pf)
					 : "?");
			return FL_EUNSUPPORTED;
		}
		dst[0] = s->gray;
		dst_stride[0] = s->gray_stride;
		sws_scale(s->gray_sws, (const uint8_t *const *)fr->data,
			  fr->linesize, 0, s->height, dst, dst_stride);
		f->luma = s->gray;
		f->stride = s->gray_stride;
	}
	f->width = s->width;
	f->height = s->height;
	f->t = frame_time(s, fr->best_effort_timestamp);
	f->index = s->index;
	f->priv = s;
	if (s->realtime && (s->kind == KIND_FILE || s->kind == KIND_PATTERN))
		pace(s, f->t);
	s->last_t = f->t;
	s->last_frame_ns = fl_mono_ns();
	s->index++;
	return 0;
}

/* A file ending this much before its declared duration is truncated: the
 * larger of an absolute and a relative slack (containers round, variable
 * frame rates drift). */
#define TRUNCATED_SLACK_S 1.0
#define TRUNCATED_SLACK 0.05

/* The duration a file's container declares for our stream (s), else 0. */
static double declared_s(const fl_source *s)
{
	const AVStream *st = s->fmt->streams[s->stream];

	if (st->duration > 0 && st->duration != AV_NOPTS_VALUE)
		return (double)st->duration * av_q2d(st->time_base);
	if (s->fmt->duration > 0 && s->fmt->duration != AV_NOPTS_VALUE)
		return (double)s->fmt->duration / AV_TIME_BASE;
	return 0;
}

/* The end of the stream: a clean FL_EEOF only if it earned one. */
static int finish(fl_source *s, char *err, size_t errlen)
{
	double want = s->kind == KIND_FILE && !s->reopened ? declared_s(s) : 0;
	double got = s->last_t + (s->fps > 0 ? 1.0 / s->fps : 0);

	if (!s->end) {
		if (s->index == 0) {
			s->end = FL_EDECODE;
			snprintf(s->end_msg, sizeof(s->end_msg),
				 "%s: truncated or corrupt: no frame decoded",
				 s->name);
		} else if (s->bad * 2 > s->packets) {
			s->end = FL_EDECODE;
			snprintf(s->end_msg, sizeof(s->end_msg),
				 "%s: corrupt: %lld of %lld packets failed to decode",
				 s->name, (long long)s->bad,
				 (long long)s->packets);
		} else if (want > 0 &&
			   got < want - FL_MAX(TRUNCATED_SLACK_S,
					       TRUNCATED_SLACK * want)) {
			s->end = FL_EDECODE;
			snprintf(s->end_msg, sizeof(s->end_msg),
				 "%s: truncated: the frames end at %.1f s of "
				 "the %.1f s its container declares "
				 "(%lld frames)",
				 s->name, got, want, (long long)s->index);
		} else {
			s->end = FL_EEOF;
			snprintf(s->end_msg, sizeof(s->end_msg),
				 "%s: end of input after %lld frames", s->name,
				 (long long)s->index);
		}
		fl_log(FL_LOG_DEBUG, TAG, "%s (%lld packets, %lld failed)",
		       s->end_msg, (long long)s->packets, (long long)s->bad);
	}
	if (err && errlen)
		snprintf(err, errlen, "%s", s->end_msg);
	return s->end;
}

/* Start flushing: the NULL packet makes the decoder give up what it holds. */
static void start_flush(fl_source *s)
{
	s->flushing = 1;
	avcodec_send_packet(s->dec, NULL);
}

/*
 * Hand a packet to the tap with its video time: its pts (else dts) relative
 * to the first keyframe's, which is the first frame's time, the frames'
 * origin. Decode order may run backwards
 * in pts (B-frames); that is left as it is. Once a timestamp is missing we
 * count packets at the stream rate, as frame_time() counts frames.
 */
static double tap_packet(fl_source *s, const AVPacket *pkt)
{
	int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
	double t;

	if (!s->tap_no_ts && ts != AV_NOPTS_VALUE) {
		if (s->tap_origin == AV_NOPTS_VALUE) {
			/* A stream joined mid-GOP (RTSP) decodes from its first
			 * keyframe: that is the frames' time 0. What comes
			 * before it is undecodable and gets time 0. */
			if (!(pkt->flags & AV_PKT_FLAG_KEY)) {
				if (s->tap)
					s->tap(pkt, 0, s->tap_user);
				return 0;
			}
			s->tap_origin = ts;
		}
		t = (ts - s->tap_origin) * av_q2d(s->tb);
		if (t < 0 && s->tap_count == 0)
			t = 0;
	} else {
		/* counted; a demuxer's reopen adds the outage to
		 * fallback_off (a reconnected record stream's time must go on
		 * across the gap, as its packets' would) */
		s->tap_no_ts = 1;
		t = s->tap_count / s->fps +
		    (s->demux_only ? s->fallback_off : 0);
	}
	s->tap_count++;
	if (s->tap)
		s->tap(pkt, t, s->tap_user);
	return t;
}

void fl_source_set_packet_tap(fl_source *s, fl_packet_fn fn, void *user)
{
	if (!s)
		return;
	s->tap = fn;
	s->tap_user = user;
}

void fl_source_stream_info(const fl_source *s, fl_stream_info *out)
{
	const AVStream *st = s->fmt->streams[s->stream];

	memset(out, 0, sizeof(*out));
	out->par = st->codecpar;
	out->tb_num = s->tb.num;
	out->tb_den = s->tb.den;
	out->fps = s->fps;
	out->codec = avcodec_get_name(st->codecpar->codec_id);
}

/*
 * A packet of a reopened input onto the first input's clock: its time base
 * rescaled to s->tb, and shifted so that the first packet lands on
 * resume_ts (the last packet's time plus the outage), each one after a
 * packet without time a frame later. Frames, the packet tap
 * and evidence clips then see one timeline that keeps going forward.
 */
static void remap_packet(fl_source *s, AVPacket *pkt)
{
	int64_t first, next;

	if (av_cmp_q(s->in_tb, s->tb) != 0)
		av_packet_rescale_ts(pkt, s->in_tb, s->tb);
	/* where the next packet lands: resume_ts, then a frame after the
	 * last one */
	next = s->mapped_ts == AV_NOPTS_VALUE
		       ? s->resume_ts
		       : s->mapped_ts +
				 FL_MAX(1, llround(1.0 /
						   (s->fps * av_q2d(s->tb))));
	first = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
	if (first == AV_NOPTS_VALUE) {
		/* No time (an RTSP session's first packet often has none):
		 * the next slot, so that a clip stays monotonic. */
		pkt->pts = pkt->dts = s->mapped_ts = next;
		return;
	}
	if (s->shift == AV_NOPTS_VALUE)
		s->shift = next - first;
	if (pkt->pts != AV_NOPTS_VALUE)
		pkt->pts += s->shift;
	if (pkt->dts != AV_NOPTS_VALUE)
		pkt->dts += s->shift;
	s->mapped_ts = first + s->shift;
}

int fl_source_is_live(const fl_source *s)
{
	return s && (s->kind == KIND_NETWORK || s->kind == KIND_DEVICE);
}

int fl_source_url_is_live(const char *url)
{
	enum src_kind k = url ? classify(url) : KIND_FILE;

	return k == KIND_NETWORK || k == KIND_DEVICE;
}

void fl_source_interrupt(fl_source *s)
{
	if (s)
		atomic_store(&s->interrupted, 1);
}

/*
 * Reconnect (see source.h): close the demuxer and the decoder, open the url
 * again, and continue the clock where it stopped plus the time the stream
 * was away (monotonic time since the last frame), so video time never runs
 * backwards and never stands still across the gap.
 */
int fl_source_reopen(fl_source *s, char *err, size_t errlen)
{
	double gap;

	if (!s)
		return FL_EINVAL;
	if (!fl_source_is_live(s)) {
		snprintf(err, errlen,
			 "%s: only network streams and devices "
			 "reconnect",
			 s->name);
		return FL_EINVAL;
	}
	avcodec_free_context(&s->dec);
	avformat_close_input(&s->fmt);
	av_frame_unref(s->frame);
	av_packet_unref(s->pkt);
	s->stream = -1;
	s->end = 0;
	s->flushing = 0;
	s->packets = s->bad = 0;
	s->reopened = 1;
	s->shift = AV_NOPTS_VALUE;
	s->mapped_ts = AV_NOPTS_VALUE;
	gap = s->index > 0
		      ? FL_MAX((double)(fl_mono_ns() - s->last_frame_ns) / 1e9,
			       1.0 / s->fps)
		      : 0;
	/* From the last packet's time, not the last frame's: frames may be
	 * counted (an RTSP session's first packet has no time) while the
	 * packets that clips copy keep theirs. */
	if (s->last_pkt_ts != AV_NOPTS_VALUE)
		s->resume_ts = s->last_pkt_ts +
			       (int64_t)llround(gap / av_q2d(s->tb));
	else if (s->first_ts != AV_NOPTS_VALUE && !s->ts_fallback)
		s->resume_ts = s->first_ts +
			       (int64_t)llround((s->last_t + gap) /
						av_q2d(s->tb));
	else
		s->resume_ts = 0;
	if (s->ts_fallback)
		s->fallback_off += gap - 1.0 / s->fps;
	/* Half the usual patience for the open and the probe: a camera that
	 * is gone must be reported gone soon (see camera.c), and the next
	 * attempt comes anyway. Reads keep the full timeout. */
	if (open_input(s, s->opt_fps, s->threads, FL_MAX(1, s->timeout_ms / 2),
		       err, errlen) < 0) {
		/* Keep the source closeable and reopenable. */
		avcodec_free_context(&s->dec);
		avformat_close_input(&s->fmt);
		s->stream = -1;
		s->end = FL_EIO;
		snprintf(s->end_msg, sizeof(s->end_msg), "%s", err);
		return FL_EIO;
	}
	fl_log(FL_LOG_DEBUG, TAG, "%s: reopened after %.1f s", s->name, gap);
	return 0;
}

/*
 * The next packet of our stream into s->pkt, on the source's clock
 * (remapped after a reopen) and counted. Returns 0; 1 at the end of input,
 * a file's broken tail included (its demuxer errors are its end); FL_EIO
 * with the reason in err for a live source's read error or timeout.
 */
static int next_packet(fl_source *s, char *err, size_t errlen)
{
	char why[256];
	int ret;

	for (;;) {
		arm_deadline(s);
		ret = av_read_frame(s->fmt, s->pkt);
		if (ret >= 0 && fl_source_is_live(s) &&
		    fl_mono_ns() > s->deadline_ns) {
			/* A packet only after the deadline: the stream was
			 * silent all along (RTSP's demuxer, interrupted, hands
			 * out what it still holds instead of failing, and the
			 * next read would wait a whole timeout again). */
			av_packet_unref(s->pkt);
			ret = AVERROR_EXIT;
		}
		if (ret == AVERROR_EOF)
			return 1;
		if (ret < 0) {
			av_reason(ret, why, sizeof(why));
			if (fl_source_is_live(s)) {
				if (ret == AVERROR_EXIT)
					snprintf(err, errlen,
						 "%s: read timed out after %d ms",
						 s->name, s->timeout_ms);
				else
					snprintf(err, errlen,
						 "%s: read error: %s", s->name,
						 why);
				return FL_EIO;
			}
			fl_log(FL_LOG_DEBUG, TAG,
			       "%s: read error at packet %lld (%s), treating as end",
			       s->name, (long long)s->packets, why);
			return 1;
		}
		if (s->pkt->stream_index != s->stream) {
			av_packet_unref(s->pkt);
			continue;
		}
		if (s->reopened)
			remap_packet(s, s->pkt);
		if (s->pkt->dts != AV_NOPTS_VALUE ||
		    s->pkt->pts != AV_NOPTS_VALUE)
			s->last_pkt_ts = s->pkt->dts != AV_NOPTS_VALUE
						 ? s->pkt->dts
						 : s->pkt->pts;
		s->packets++;
		return 0;
	}
}

/*
 * Decode the next frame (see source.h): receive until the decoder wants
 * input, then read and send one packet of our stream, and repeat.
 */
int fl_source_read(fl_source *s, fl_frame *f, char *err, size_t errlen)
{
	char why[256];
	int ret;

	if (!s || !f || s->demux_only)
		return FL_EINVAL;
	if (s->end)
		return finish(s, err, errlen);
	for (;;) {
		ret = avcodec_receive_frame(s->dec, s->frame);
		if (ret == 0) {
			/* The frame stays referenced: f borrows its planes
			 * until the next receive_frame unrefs it. */
			ret = to_memory(s, err, errlen);
			if (ret == 0)
				ret = emit(s, f, err, errlen);
			if (ret == 0 && s->start_s > 0 &&
			    f->t < s->start_s - 1e-6)
				continue; /* before the window: dropped */
			if (ret == 0 && s->until_s > 0 &&
			    f->t >= s->until_s - 1e-6) {
				s->end = FL_ERANGE;
				snprintf(s->end_msg, sizeof(s->end_msg),
					 "%s: stopped before %.3f s (until)",
					 s->name, f->t);
				snprintf(err, errlen, "%s", s->end_msg);
				return FL_ERANGE;
			}
			return ret;
		}
		if (ret == AVERROR_EOF)
			return finish(s, err, errlen);
		if (ret != AVERROR(EAGAIN)) {
			/* A broken picture: count it, keep going. */
			s->bad++;
			av_reason(ret, why, sizeof(why));
			if ((ret = hw_to_software(s, why)) == 0)
				continue;
			if (ret == FL_EDECODE)
				return finish(s, err, errlen);
			fl_log(FL_LOG_DEBUG, TAG, "%s: decode error: %s",
			       s->name, why);
			if (s->flushing && s->bad > s->packets + 16)
				return finish(s, err, errlen);
			continue;
		}
		if (s->flushing) /* EAGAIN after the NULL packet: done */
			return finish(s, err, errlen);

		ret = next_packet(s, err, errlen);
		if (ret == FL_EIO)
			return FL_EIO;
		if (ret == 1) {
			start_flush(s);
			continue;
		}
		if (s->tap)
			tap_packet(s, s->pkt);
		ret = avcodec_send_packet(s->dec, s->pkt);
		av_packet_unref(s->pkt);
		if (ret < 0 && ret != AVERROR(EAGAIN)) {
			s->bad++;
			av_reason(ret, why, sizeof(why));
			if ((ret = hw_to_software(s, why)) == 0)
				continue;
			if (ret == FL_EDECODE)
				return finish(s, err, errlen);
			fl_log(FL_LOG_DEBUG, TAG,
			       "%s: packet %lld failed to decode: %s", s->name,
			       (long long)s->packets, why);
		}
	}
}

/*
 * Demux only (see source.h): the packet half of fl_source_read(). Packets
 * stand in for frames in the bookkeeping fl_source_reopen() continues the
 * clock from (index, last_t, last_frame_ns, first_ts = the tap's origin).
 */
int fl_source_pump(fl_source *s, double until, char *err, size_t errlen)
{
	double t;
	int ret;

	if (!s || !s->demux_only)
		return FL_EINVAL;
	if (s->end)
		return finish(s, err, errlen);
	for (;;) {
		ret = next_packet(s, err, errlen);
		if (ret == FL_EIO)
			return FL_EIO;
		if (ret == 1) {
			s->end = FL_EEOF;
			snprintf(s->end_msg, sizeof(s->end_msg),
				 "%s: end of input after %lld packets", s->name,
				 (long long)s->packets);
			return finish(s, err, errlen);
		}
		t = tap_packet(s, s->pkt);
		av_packet_unref(s->pkt);
		if (s->first_ts == AV_NOPTS_VALUE)
			s->first_ts = s->tap_origin;
		s->ts_fallback = s->tap_no_ts;
		s->index++;
		s->last_t = t;
		s->last_frame_ns = fl_mono_ns();
		if (t > until)
			return 0;
	}
}

double fl_source_time(const fl_source *s)
{
	return s ? s->last_t : 0;
}

void fl_source_size(const fl_source *s, int *w, int *h)
{
	const AVStream *st = s && s->fmt && s->stream >= 0
				     ? s->fmt->streams[s->stream]
				     : NULL;

	*w = st ? st->codecpar->width : 0;
	*h = st ? st->codecpar->height : 0;
}

/*
 * BGR24 copy of f (see source.h). f must be the frame most recently returned
 * by its source: the pixels are that source's current AVFrame.
 */
int fl_frame_bgr(const fl_frame *f, uint8_t *dst)
{
	fl_source *s;
	const AVFrame *fr;
	uint8_t *d[4] = { dst, NULL, NULL, NULL };
	int ds[4] = { 0 };

	if (!f || !f->priv || !dst)
		return FL_EINVAL;
	s = f->priv;
	fr = s->frame;
	if (!fr->data[0] || f->index != s->index - 1 || fr->width != f->width ||
	    fr->height != f->height)
		return FL_EINVAL; /* not the frame the source holds now */
	s->bgr_sws = sws_getCachedContext(s->bgr_sws, fr->width, fr->height,
					  fr->format, fr->width, fr->height,
					  AV_PIX_FMT_BGR24,
					  SWS_BILINEAR | SWS_ACCURATE_RND |
						  SWS_FULL_CHR_H_INT,
					  NULL, NULL, NULL);
	if (!s->bgr_sws)
		return FL_EUNSUPPORTED;
	ds[0] = f->width * 3;
	sws_scale(s->bgr_sws, (const uint8_t *const *)fr->data, fr->linesize, 0,
		  fr->height, d, ds);
	return 0;
}

const char *fl_source_decoder(const fl_source *s)
{
	return s ? s->decoder : "";
}

int fl_source_hw(const fl_source *s)
{
	return s && s->hw;
}

double fl_source_fps(const fl_source *s)
{
	return s ? s->fps : 0;
}

void fl_source_close(fl_source *s)
{
	if (!s)
		return;
	sws_freeContext(s->gray_sws);
	sws_freeContext(s->bgr_sws);
	av_free(s->gray);
	av_frame_free(&s->frame);
	av_frame_free(&s->sw);
	av_packet_free(&s->pkt);
	avcodec_free_context(&s->dec);
	avformat_close_input(&s->fmt);
	free(s);
}
