/*
 * source.h - video input through FFmpeg (libavformat/libavcodec).
 *
 * One API for files, image-sequence patterns ("frames/in%06d.jpg"), RTSP and
 * HTTP URLs and V4L2 devices ("/dev/video0"). Frames come out decoded in the
 * codec's own planar YUV; analysis reads the luma plane directly (no colour
 * conversion on the hot path), evidence asks for a BGR copy only when needed.
 *
 * Time: every frame carries video time in seconds from the first frame, taken
 * from container timestamps when present, else frame index / fps.
 *
 * Threads: decoding uses `threads` decoder threads (1 = single-threaded, what
 * the benchmarks measure). A source is used from one thread at a time
 * (fl_source_interrupt() excepted).
 */
#ifndef FL_SOURCE_H
#define FL_SOURCE_H

#include <stddef.h>
#include <stdint.h>

typedef struct fl_source fl_source;

typedef struct fl_source_opts {
	double fps;     /* rate of image sequences, and fallback; 0 = 25 */
	int threads;    /* decoder threads; 0 = 1 */
	int realtime;   /* 1: files paced at their frame rate (live mode) */
	int timeout_ms; /* network open/read timeout; 0 = 10000 */
	double start_s; /* > 0: frames before this video time are decoded
			  * and dropped, never handed out */
	double until_s; /* > 0: the read that would hand out a frame at or
			  * after this video time returns FL_ERANGE instead */
	int udp;        /* RTSP over UDP instead of TCP */
	int demux_only; /* no decoder: only fl_source_pump() (a record
			  * stream whose packets go to the pre-roll ring) */
	const char *hwaccel; /* hardware decoding: NULL, "" or "none" =
			      * software; "auto", or one of vaapi, v4l2m2m,
			      * cuda, qsv, videotoolbox; anything that does
			      * not open falls back to software (see
			      * docs/cameras.md, "Hardware decoding").
			      * Copied at open. */
} fl_source_opts;

/* A decoded frame. Borrowed: valid until the next fl_source_read() or
 * fl_source_close() on the same source. */
typedef struct fl_frame {
	const uint8_t *luma; /* width x height, 8-bit */
	int stride;          /* bytes per luma row */
	int width, height;
	double t;      /* video time, seconds */
	int64_t index; /* 0-based frame number */
	void *priv;    /* the source's decode state, for fl_frame_bgr() */
} fl_frame;

/*
 * Open url. On failure returns NULL and writes the reason (with the url) to
 * err. The source owns its FFmpeg state; free it with fl_source_close().
 */
fl_source *fl_source_open(const char *url, const fl_source_opts *opts,
			  char *err, size_t errlen);

/*
 * Decode the next frame into *f. Returns 0, FL_EEOF at a clean end of input,
 * FL_ERANGE when the next frame lies at or after opts->until_s (the source
 * then stays spent), or FL_EDECODE / FL_EIO with the reason in err (a
 * truncated or corrupt file that yields no frames at all, a read error);
 * FL_EINVAL on a source opened demux_only.
 * Frames before opts->start_s are skipped; times and indices stay those of
 * the whole input (a frame at 31 s says 31 s).
 */
int fl_source_read(fl_source *s, fl_frame *f, char *err, size_t errlen);

/* 1 for a network stream or a V4L2 device: what can be lost and
 * reconnected. Files and image sequences are not live. */
int fl_source_is_live(const fl_source *s);

/* The same for a url not opened (yet): what fl_source_is_live() would say. */
int fl_source_url_is_live(const char *url);

/*
 * From another thread: make the read, pump, open or reopen that waits on s
 * now (and every later one) fail at once (FL_EIO), so that the thread
 * reading s can be joined before fl_source_close(). The only call on a
 * source that may come from a thread other than its reader's.
 */
void fl_source_interrupt(fl_source *s);

/*
 * Reconnect a live source after fl_source_read() failed or ended: close its
 * input and open the same url again. The fl_source stays the same object
 * (its packet tap and the frame size stay), and video time goes on from
 * the last frame plus the time the stream was away, on the same time base
 * (packets of the new connection are mapped onto it), so lanes, the
 * pre-roll ring and clips see one timeline. Opening and probing wait half
 * the usual timeout each (5 s by default). Frames borrowed from the
 * source before are invalid after the call. Returns 0, or FL_EIO with the
 * reason in err (the source may be reopened again later); FL_EINVAL for a
 * file. A frame of another size after reopening is FL_EDECODE at read.
 */
int fl_source_reopen(fl_source *s, char *err, size_t errlen);

/* Copy frame f as packed BGR24 (w*h*3 bytes at dst, row stride w*3). */
int fl_frame_bgr(const fl_frame *f, uint8_t *dst);

/* The decoder that runs, for people: "h264 (software)", "h264 on vaapi",
 * "h264_v4l2m2m"; "" for a demux-only source. Borrowed: valid until the
 * next fl_source_reopen() or fl_source_close(). */
const char *fl_source_decoder(const fl_source *s);

/* 1 when frames are decoded by hardware (opts->hwaccel took effect). */
int fl_source_hw(const fl_source *s);

/* Stream frame rate as reported (or opts->fps). */
double fl_source_fps(const fl_source *s);

/*
 * The compressed side, for evidence clips (src/media/clip.c). FFmpeg types
 * are only named here: a caller that uses them includes libavcodec itself.
 */
struct AVPacket;
struct AVCodecParameters;

/* What the video stream is, as the clip writer needs it. Borrowed from the
 * source: valid until fl_source_close(). */
typedef struct fl_stream_info {
	const struct AVCodecParameters *par; /* codec id, size, extradata */
	int tb_num, tb_den; /* time base of packet timestamps */
	double fps;         /* as fl_source_fps() */
	const char *codec;  /* "h264", "mjpeg", "png", ... */
} fl_stream_info;

void fl_source_stream_info(const fl_source *s, fl_stream_info *out);

/*
 * Packet tap: fn is called with every packet of the video stream as the
 * demuxer delivers it, before it is decoded, with its video time t on the
 * frames' clock (pts relative to the first keyframe, whose frame is time 0;
 * packets before it get 0; packet count / fps when the stream has no
 * timestamps, plus, demux only, the outages fl_source_reopen() bridged). pkt is borrowed for the call
 * (av_packet_ref() to keep it). Install it before the first fl_source_read()
 * to see the first keyframe. fn NULL removes it.
 */
typedef void (*fl_packet_fn)(const struct AVPacket *pkt, double t, void *user);
void fl_source_set_packet_tap(fl_source *s, fl_packet_fn fn, void *user);

/*
 * Demux only (a source opened with demux_only): read packets of the video
 * stream and hand each to the packet tap, without decoding, until one lies
 * after video time `until` (it is tapped too). Returns 0 then, FL_EEOF at
 * the end of input, FL_EIO with the reason in err for a read error or a
 * timeout (a live source may then be reopened with fl_source_reopen()).
 * Video time is the tap's (the first keyframe is 0), and a reopened source
 * keeps it going as fl_source_reopen() says.
 */
int fl_source_pump(fl_source *s, double until, char *err, size_t errlen);

/* Video time of the last frame handed out (or packet pumped). */
double fl_source_time(const fl_source *s);

/* The video stream's size as the container declares it (before any frame is
 * decoded; what a demux-only source has). */
void fl_source_size(const fl_source *s, int *w, int *h);

/* NULL-safe. */
void fl_source_close(fl_source *s);

/*
 * Process-wide FFmpeg set-up (devices, network, av_log routed into fl_log
 * with tag "source"). Idempotent and thread-safe; fl_source_open() calls it.
 */
void fl_media_init(void);

#endif /* FL_SOURCE_H */
