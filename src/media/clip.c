/*
 * clip.c - the pre-roll ring and evidence clips (see clip.h).
 *
 * A note on memory and cost. An evidence clip must begin *before* the object
 * came to rest (docs/evidence.md: pre_roll_s), but the edge only learns
 * that an incident exists when detection has confirmed the rest, seconds
 * later. So every camera keeps its recent past. Raw frames would cost 3 MB each at 1080p, 75 MB a
 * second; the compressed packets the demuxer already delivers cost what the
 * camera's bit rate is (0.2-1 MB a second), and keeping them costs one
 * reference count per packet (av_packet_ref), no copy. A packet is useless
 * without the keyframe its GOP starts with, so the ring always starts at a
 * keyframe and forgets whole GOPs: it keeps the shortest run from a keyframe
 * that still covers max_s seconds (so it holds between max_s and max_s plus
 * one GOP), and drops GOPs regardless of time when it would exceed
 * max_bytes.
 *
 * A clip is started when an incident is occupied: it takes the ring's
 * packets from the keyframe at or before the window's start and writes them
 * at once, then every new packet until the window's end. For H.264 the
 * packets are stream-copied into MP4 with +faststart, timestamps moved so the
 * clip starts at 0: no decoding, no encoding, the camera's own quality, and a
 * file every browser plays. Other codecs (MJPEG from V4L2 webcams, PNG or
 * JPEG image sequences) are not what browsers play inside MP4, so those
 * packets are decoded with their own decoder and re-encoded with the H.264
 * writer of encode.h at the stream's rate; that costs real CPU, but only for
 * the frames of a clip, and those cameras are the small ones.
 *
 * Errors (a full disk, a read-only folder) are kept in the clip, which stops
 * writing; fl_clip_finish() reports them once and removes the partial file.
 *
 * Threads. A live record stream pushes packets from a thread of its own
 * (src/edge/record.c) while the camera thread takes stills and starts and
 * finishes clips, so the ring has two locks. `lock` guards the packets
 * held; a still takes references to the packets it needs under it and
 * decodes them after (one GOP of decoding never holds the pusher up).
 * `clip_lock` guards the open clips; a push gives every clip its packet
 * under it, then holds the packet under `lock`. fl_clip_start() takes both
 * (clip_lock first, always), references the held packets it needs as the
 * clip's backlog and registers the clip: every packet is then either in
 * the backlog or pushed to the clip later, none twice. The backlog is
 * written by the next push (or by fl_clip_finish), not by the caller. A
 * re-encoded clip has a worker thread of its own: a push only queues the
 * packet, the worker decodes and encodes (seconds per clip at 1080p H.265,
 * which held detection when the camera thread did it), fl_clip_busy() says
 * whether it still lags, and fl_clip_finish() waits for it to drain (or,
 * within a bound, cuts it: "A stop" below). A clip's end time is an
 * atomic, so that fl_clip_set_end() never waits.
 * Without threads (files, one stream) the same code runs in one thread.
 *
 * Cost. Re-encoding is what an H.265 main stream costs (docs/health.md):
 * at 1440p most of a core per open clip. The rendition is therefore at
 * most CLIP_MAX_H lines (the stills, which carry the plate, keep the
 * stream's own resolution), x264 at CLIP_PRESET with one thread (a device
 * with several open clips runs them side by side; frame threads would only
 * add memory). The figures behind the choice are in docs/evidence.md,
 * "Clip". Each worker adds its CPU time to the ring's count as it goes
 * (fl_preroll_clip_cpu_s), so the camera's figures show it.
 *
 * A stop. A worker that lags must not hold a stop up (systemd gives the
 * edge 15 s): fl_clip_finish_within() waits a bounded time, then stops the
 * worker after the packet it is on, drains the decoder and encoder of
 * what they were given and closes the MP4; the clip then ends at the last
 * packet re-encoded, and the caller is told how much was left (its
 * manifest says so: src/evidence/writer.c).
 */
#include "clip.h"

#include "encode.h"
#include "fl.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#define TAG "clip"
#define MAX_CLIPS 16
/* A clip's error is "<path>: <what>: <FFmpeg's reason>", <what> at most a
 * reason from the encoder (CLIP_WHY): sized so that it always fits. */
#define CLIP_PATH 1024
#define CLIP_WHY 512
#define CLIP_ERR (CLIP_PATH + CLIP_WHY + AV_ERROR_MAX_STRING_SIZE + 4)
/* A re-encoded clip (see "Cost" in the essay): at most this many lines
 * (the stills keep the stream's own), this x264 preset, one thread. */
#define CLIP_MAX_H 1080
#define CLIP_PRESET "veryfast"
#define CLIP_THREADS 1

typedef struct ring_item {
	AVPacket *pkt;
	double t;
	int key;
} ring_item;

struct fl_preroll {
	/* lock: the packets held (items, head, count, bytes, peak);
	 * clip_lock: clips[] and every open clip's writing. Taken in that
	 * order: clip_lock, then lock (see "Threads" in the essay). */
	pthread_mutex_t lock, clip_lock;
	AVCodecParameters *par;
	AVRational tb;
	double fps;
	int copy; /* H.264: stream copy */
	double max_s;
	size_t max_bytes;
	ring_item *items; /* circular: head, count, cap */
	int head, count, cap;
	size_t bytes, peak;
	fl_clip *clips[MAX_CLIPS];
	/* CPU time of every re-encoding worker so far, ns: each adds its
	 * own as it goes (fl_preroll_clip_cpu_s) */
	atomic_llong clip_cpu_ns;
	/* stills (fl_preroll_still): a decoder kept between calls, the
	 * keyframe (its timestamp) it was started from and the last packet
	 * sent (NOPTS: start afresh), the newest picture so far and its time */
	AVCodecContext *still_dec;
	AVFrame *still_frame, *still_best;
	struct SwsContext *still_sws;
	int64_t still_key, still_sent;
	double still_best_t;
	long still_nout;
};

struct qnode {
	AVPacket *pkt;
	double t;
	struct qnode *next;
};

struct fl_clip {
	fl_preroll *r;
	char path[CLIP_PATH];
	_Atomic double to;  /* set by the caller, read by the pushing thread */
	ring_item *backlog; /* the ring's packets at the start, not written */
	int nbacklog;
	int started; /* first packet (a keyframe) written */
	atomic_int ended;
	atomic_int failed; /* fl_errno of the first failure, or 0 */
	char err[CLIP_ERR];
	double t_first, t_last;
	int64_t ts_base; /* subtracted from copied timestamps */
	/* stream copy */
	AVFormatContext *oc;
	AVStream *ost;
	AVPacket *tmp;
	/* re-encode: a worker thread takes the packets off a queue (see
	 * "Threads"); q* under qmu */
	pthread_t worker;
	int has_worker;
	pthread_mutex_t qmu;
	pthread_cond_t qcv;
	struct qnode *qhead, *qtail;
	int qbusy;  /* the worker is on a packet */
	int qclose; /* no more packets: drain, then end */
	int qstop;  /* end now */
	int qdone;  /* the worker has returned (qdone_cv) */
	pthread_cond_t qdone_cv;
	double t_done; /* the worker's: last packet sent to the decoder */
	int done_any;  /* ... there was one */
	int nleft;     /* packets given but not written (a cut) */
	double t_left; /* ... the last of them */
	AVCodecContext *dec;
	AVFrame *frame;
	struct SwsContext *sws;
	uint8_t *yuv[4];
	int yuv_stride[4];
	fl_encoder *enc;
	int ew, eh;
};

/* ---- the ring ------------------------------------------------------------ */

static ring_item *item(const fl_preroll *r, int i)
{
	return &r->items[(r->head + i) % r->cap];
}

fl_preroll *fl_preroll_create(const fl_stream_info *si, double max_s,
			      size_t max_bytes, char *err, size_t errlen)
{
	fl_preroll *r;

	if (!si || !si->par || si->tb_num <= 0 || si->tb_den <= 0 ||
	    !(max_s >= 0) || max_bytes == 0) {
		snprintf(err, errlen, "pre-roll: bad stream or bounds");
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r) {
		pthread_mutex_init(&r->lock, NULL);
		pthread_mutex_init(&r->clip_lock, NULL);
	}
	if (!r || !(r->par = avcodec_parameters_alloc()) ||
	    avcodec_parameters_copy(r->par, si->par) < 0) {
		snprintf(err, errlen, "pre-roll: out of memory");
		fl_preroll_destroy(r);
		return NULL;
	}
	r->tb = (AVRational){ si->tb_num, si->tb_den };
	r->fps = si->fps > 0 ? si->fps : 25;
	r->copy = si->par->codec_id == AV_CODEC_ID_H264;
	r->max_s = max_s;
	r->max_bytes = max_bytes;
	return r;
}

static void drop_front(fl_preroll *r, int n)
{
	for (int i = 0; i < n; i++) {
		ring_item *it = item(r, 0);
		r->bytes -= (size_t)it->pkt->size;
		av_packet_free(&it->pkt);
		r->head = (r->head + 1) % r->cap;
		r->count--;
	}
	if (r->count == 0)
		r->head = 0;
}

/* Index of the first keyframe after the head, or -1. */
static int next_key(const fl_preroll *r)
{
	for (int i = 1; i < r->count; i++)
		if (item(r, i)->key)
			return i;
	return -1;
}

/* Keep the bounds (see the essay): whole GOPs off the front. */
static void trim(fl_preroll *r)
{
	while (r->count > 0) {
		int k = next_key(r);
		double newest = item(r, r->count - 1)->t;

		if (r->bytes > r->max_bytes) {
			drop_front(r, k > 0 ? k : r->count);
			continue;
		}
		if (k > 0 && newest - item(r, k)->t >= r->max_s) {
			drop_front(r, k);
			continue;
		}
		break;
	}
}

static int grow(fl_preroll *r)
{
	int cap = r->cap ? r->cap * 2 : 256;
	ring_item *n = malloc((size_t)cap * sizeof(*n));

	if (!n)
		return FL_ENOMEM;
	for (int i = 0; i < r->count; i++)
		n[i] = *item(r, i);
	free(r->items);
	r->items = n;
	r->head = 0;
	r->cap = cap;
	return 0;
}

static void clip_take(fl_clip *c, const AVPacket *pkt, double t);
static void clip_backlog(fl_clip *c);

/* Keep pkt (caller holds r->lock). */
static void hold(fl_preroll *r, const AVPacket *pkt, double t)
{
	int key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
	ring_item *it;

	if (r->count == 0 && !key)
		return; /* useless until the next keyframe */
	if (r->count == r->cap && grow(r) < 0)
		return; /* out of memory: the ring just stops growing */
	it = &r->items[(r->head + r->count) % r->cap];
	it->pkt = av_packet_clone(pkt);
	if (!it->pkt)
		return;
	it->t = t;
	it->key = key;
	r->count++;
	r->bytes += (size_t)pkt->size;
	trim(r);
	if (r->bytes > r->peak)
		r->peak = r->bytes;
}

void fl_preroll_push(const struct AVPacket *pkt, double t, void *ring)
{
	fl_preroll *r = ring;

	/* clips first (their backlog, then this packet), outside the
	 * packets' lock: a re-encoding clip takes long, stills go on */
	pthread_mutex_lock(&r->clip_lock);
	for (int i = 0; i < MAX_CLIPS; i++)
		if (r->clips[i]) {
			clip_backlog(r->clips[i]);
			clip_take(r->clips[i], pkt, t);
		}
	pthread_mutex_lock(&r->lock);
	hold(r, pkt, t);
	pthread_mutex_unlock(&r->lock);
	pthread_mutex_unlock(&r->clip_lock);
}

void fl_preroll_get_stats(const fl_preroll *r, fl_preroll_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!r)
		return;
	pthread_mutex_lock((pthread_mutex_t *)&r->lock);
	st->bytes = r->bytes;
	st->peak_bytes = r->peak;
	st->packets = r->count;
	st->span_s = r->count ? item(r, r->count - 1)->t - item(r, 0)->t : 0;
	pthread_mutex_unlock((pthread_mutex_t *)&r->lock);
	st->max_s = r->max_s;
	st->max_bytes = r->max_bytes;
}

int fl_preroll_copies(const fl_preroll *r)
{
	return r && r->copy;
}

void fl_preroll_destroy(fl_preroll *r)
{
	if (!r)
		return;
	for (int i = 0; i < MAX_CLIPS; i++)
		fl_clip_abort(r->clips[i]);
	drop_front(r, r->count);
	free(r->items);
	avcodec_free_context(&r->still_dec);
	av_frame_free(&r->still_frame);
	av_frame_free(&r->still_best);
	sws_freeContext(r->still_sws);
	avcodec_parameters_free(&r->par);
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->clip_lock);
	free(r);
}

/* ---- stills -------------------------------------------------------------- */

/*
 * Stills (fl_preroll_still). The ring keeps one decoder for them. A still
 * decodes from the last keyframe at or before its time; the next still of
 * the same GOP at a later time (an incident's images and plate reads come
 * in time order) goes on from where the last one stopped instead of from
 * the keyframe again, so an incident's stills cost about one decode of the
 * frames they span, not one GOP each. That needs a decoder that hands out
 * each frame for its packet (no B-frames: video_delay 0, one thread); a
 * stream with B-frames is decoded from the keyframe and drained every time.
 */
static int still_decoder(fl_preroll *r, char *err, size_t errlen)
{
	const AVCodec *codec;
	int ret;

	if (r->still_dec)
		return 0;
	codec = avcodec_find_decoder(r->par->codec_id);
	if (!codec) {
		snprintf(err, errlen, "still: no decoder for %s",
			 avcodec_get_name(r->par->codec_id));
		return FL_EUNSUPPORTED;
	}
	r->still_dec = avcodec_alloc_context3(codec);
	if (!r->still_frame)
		r->still_frame = av_frame_alloc();
	if (!r->still_best)
		r->still_best = av_frame_alloc();
	if (!r->still_dec || !r->still_frame || !r->still_best ||
	    avcodec_parameters_to_context(r->still_dec, r->par) < 0) {
		snprintf(err, errlen, "still: out of memory");
		return FL_ENOMEM;
	}
	r->still_dec->pkt_timebase = r->tb;
	r->still_dec->thread_count = 1;
	ret = avcodec_open2(r->still_dec, codec, NULL);
	if (ret < 0) {
		snprintf(err, errlen, "still: cannot open the %s decoder: %s",
			 codec->name, av_err2str(ret));
		avcodec_free_context(&r->still_dec);
		return FL_EUNSUPPORTED;
	}
	r->still_key = AV_NOPTS_VALUE;
	return 0;
}

void fl_preroll_still_release(fl_preroll *r)
{
	if (!r)
		return;
	avcodec_free_context(&r->still_dec);
	av_frame_free(&r->still_frame);
	av_frame_free(&r->still_best);
	r->still_key = AV_NOPTS_VALUE;
}

static int64_t pkt_ts(const AVPacket *p)
{
	return p->dts != AV_NOPTS_VALUE ? p->dts : p->pts;
}

/* Receive what the still decoder has; keep the newest frame at or before t
 * in r->still_best (its time in r->still_best_t). Frame times are measured
 * from the keyframe's timestamp and time (key_pts, key_t). */
static void still_drain(fl_preroll *r, double t, int64_t key_pts, double key_t)
{
	while (avcodec_receive_frame(r->still_dec, r->still_frame) == 0) {
		int64_t ts = r->still_frame->best_effort_timestamp;
		double ft = ts != AV_NOPTS_VALUE && key_pts != AV_NOPTS_VALUE
				    ? key_t + (ts - key_pts) * av_q2d(r->tb)
				    : key_t + r->still_nout / r->fps;

		r->still_nout++;
		if (ft <= t + 1e-6 &&
		    (!r->still_best->data[0] || ft >= r->still_best_t)) {
			av_frame_unref(r->still_best);
			av_frame_move_ref(r->still_best, r->still_frame);
			r->still_best_t = ft;
		} else {
			av_frame_unref(r->still_frame);
		}
	}
}

/*
 * The packets a still at t decodes (see above), referenced out of the ring
 * under its lock so that the decoding itself holds nobody up: *pk (freed by
 * the caller with free_items) gets n of them, *key_t the keyframe's time,
 * *key_pts its timestamp. Returns 0, FL_ENOENT (no keyframe at or before
 * t), FL_ENOMEM.
 */
static int still_packets(fl_preroll *r, double t, ring_item **pk, int *n,
			 double *key_t, int64_t *key_pts)
{
	int k = -1, from, rc = 0, delayed = r->par->video_delay > 0;
	/* a stream with B-frames: the next few packets (its reorder depth),
	 * whose pictures a frame at t may refer to */
	double extra = delayed ? (r->par->video_delay + 1) / r->fps : 0;

	*pk = NULL;
	*n = 0;
	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < r->count; i++)
		if (item(r, i)->key && item(r, i)->t <= t + 1e-6)
			k = i;
	if (k < 0) {
		rc = FL_ENOENT;
		goto out;
	}
	*key_t = item(r, k)->t;
	*key_pts = item(r, k)->pkt->pts != AV_NOPTS_VALUE
			   ? item(r, k)->pkt->pts
			   : item(r, k)->pkt->dts;
	from = k;
	if (!delayed && r->still_key == pkt_ts(item(r, k)->pkt) &&
	    r->still_key != AV_NOPTS_VALUE && r->still_best->data[0] &&
	    t >= r->still_best_t) {
		/* the same GOP, later: go on after the last packet sent */
		while (from < r->count &&
		       pkt_ts(item(r, from)->pkt) <= r->still_sent)
			from++;
	} else {
		avcodec_flush_buffers(r->still_dec);
		av_frame_unref(r->still_best);
		r->still_nout = 0;
		r->still_key = pkt_ts(item(r, k)->pkt);
	}
	*pk = malloc((size_t)(r->count - from + 1) * sizeof(**pk));
	if (!*pk) {
		rc = FL_ENOMEM;
		goto out;
	}
	for (int i = from; i < r->count && item(r, i)->t <= t + extra + 1e-6;
	     i++) {
		(*pk)[*n] = *item(r, i);
		(*pk)[*n].pkt = av_packet_clone(item(r, i)->pkt);
		if (!(*pk)[*n].pkt) {
			rc = FL_ENOMEM;
			break;
		}
		++*n;
	}
out:
	pthread_mutex_unlock(&r->lock);
	return rc;
}

static void free_items(ring_item *it, int n)
{
	for (int i = 0; i < n; i++)
		av_packet_free(&it[i].pkt);
	free(it);
}

int fl_preroll_still(fl_preroll *r, double t, fl_still_image *out, char *err,
		     size_t errlen)
{
	double key_t = 0;
	int64_t key_pts = AV_NOPTS_VALUE;
	int n, rc, delayed = r->par->video_delay > 0;
	ring_item *pk;
	uint8_t *d[4] = { NULL };
	int ds[4] = { 0 };

	memset(out, 0, sizeof(*out));
	rc = still_decoder(r, err, errlen);
	if (rc < 0)
		return rc;
	rc = still_packets(r, t, &pk, &n, &key_t, &key_pts);
	if (rc == FL_ENOENT)
		snprintf(err, errlen,
			 "still: the record ring holds no keyframe at or before "
			 "%.2f s",
			 t);
	else if (rc < 0)
		snprintf(err, errlen, "still: out of memory");
	if (rc < 0) {
		free_items(pk, n);
		return rc;
	}
	for (int i = 0; i < n; i++) {
		if (avcodec_send_packet(r->still_dec, pk[i].pkt) == 0)
			out->packets++;
		r->still_sent = pkt_ts(pk[i].pkt);
		still_drain(r, t, key_pts, key_t);
	}
	free_items(pk, n);
	if (delayed) {
		avcodec_send_packet(r->still_dec, NULL);
		still_drain(r, t, key_pts, key_t);
		avcodec_flush_buffers(r->still_dec);
		r->still_key = AV_NOPTS_VALUE; /* from the keyframe next time */
	}
	if (!r->still_best->data[0]) {
		r->still_key = AV_NOPTS_VALUE;
		snprintf(err, errlen, "still: no picture decoded at %.2f s", t);
		return FL_EDECODE;
	}
	out->w = r->still_best->width;
	out->h = r->still_best->height;
	out->t = r->still_best_t;
	out->bgr = malloc((size_t)out->w * (size_t)out->h * 3);
	r->still_sws = sws_getCachedContext(r->still_sws, out->w, out->h,
					    r->still_best->format, out->w,
					    out->h, AV_PIX_FMT_BGR24,
					    SWS_BILINEAR | SWS_ACCURATE_RND |
						    SWS_FULL_CHR_H_INT,
					    NULL, NULL, NULL);
	if (!out->bgr || !r->still_sws) {
		free(out->bgr);
		out->bgr = NULL;
		snprintf(err, errlen, "still: out of memory");
		return FL_ENOMEM;
	}
	d[0] = out->bgr;
	ds[0] = out->w * 3;
	sws_scale(r->still_sws, (const uint8_t *const *)r->still_best->data,
		  r->still_best->linesize, 0, out->h, d, ds);
	return 0;
}

/* ---- clips --------------------------------------------------------------- */

static int averr_to_fl(int averr)
{
	if (averr == AVERROR(ENOSPC) || averr == AVERROR(EDQUOT))
		return FL_EFULL;
	if (averr == AVERROR(ENOMEM))
		return FL_ENOMEM;
	return FL_EIO;
}

static void clip_fail(fl_clip *c, int averr, const char *what)
{
	char buf[AV_ERROR_MAX_STRING_SIZE] = "";

	int none = 0;

	/* the first failure wins (the pushing thread and a worker) */
	if (!atomic_compare_exchange_strong(&c->failed, &none,
					    averr_to_fl(averr)))
		return;
	if (averr)
		av_strerror(averr, buf, sizeof(buf));
	snprintf(c->err, sizeof(c->err), "%s: %s%s%s", c->path, what,
		 averr ? ": " : "", buf);
	c->ended = 1;
}

/* Stream copy: the MP4 muxer with the stream's own parameters. */
static int copy_open(fl_clip *c)
{
	AVDictionary *mux = NULL;
	int ret;

	ret = avformat_alloc_output_context2(&c->oc, NULL, "mp4", c->path);
	if (ret < 0 || !c->oc) {
		clip_fail(c, ret, "cannot create mp4 muxer");
		return -1;
	}
	c->oc->flags |= AVFMT_FLAG_BITEXACT;
	c->ost = avformat_new_stream(c->oc, NULL);
	c->tmp = av_packet_alloc();
	if (!c->ost || !c->tmp) {
		clip_fail(c, AVERROR(ENOMEM), "out of memory");
		return -1;
	}
	ret = avcodec_parameters_copy(c->ost->codecpar, c->r->par);
	if (ret < 0) {
		clip_fail(c, ret, "codec parameters");
		return -1;
	}
	c->ost->codecpar->codec_tag = 0;
	c->ost->time_base = c->r->tb;
	ret = avio_open(&c->oc->pb, c->path, AVIO_FLAG_WRITE);
	if (ret < 0) {
		clip_fail(c, ret, "cannot create");
		return -1;
	}
	av_dict_set(&mux, "movflags", "+faststart", 0);
	ret = avformat_write_header(c->oc, &mux);
	av_dict_free(&mux);
	if (ret < 0) {
		clip_fail(c, ret, "cannot write mp4 header");
		return -1;
	}
	return 0;
}

static void copy_packet(fl_clip *c, const AVPacket *pkt, double t)
{
	AVPacket *p = c->tmp;
	int ret;

	if (av_packet_ref(p, pkt) < 0) {
		clip_fail(c, AVERROR(ENOMEM), "out of memory");
		return;
	}
	if (p->pts == AV_NOPTS_VALUE || p->dts == AV_NOPTS_VALUE) {
		/* No container time (raw stream): from video time. */
		p->pts = p->dts = llround((t - c->t_first) / av_q2d(c->r->tb));
	} else {
		if (!c->started)
			c->ts_base = p->dts;
		p->pts -= c->ts_base;
		p->dts -= c->ts_base;
	}
	p->stream_index = 0;
	p->pos = -1;
	av_packet_rescale_ts(p, c->r->tb, c->ost->time_base);
	ret = av_write_frame(c->oc, p);
	av_packet_unref(p);
	if (ret < 0)
		clip_fail(c, ret, "cannot write");
}

/* Re-encode: a decoder of the stream's codec, frames into encode.h. */
static int transcode_open(fl_clip *c)
{
	const AVCodec *codec = avcodec_find_decoder(c->r->par->codec_id);
	int ret;

	if (!codec) {
		clip_fail(c, AVERROR_DECODER_NOT_FOUND, "no decoder");
		return -1;
	}
	c->dec = avcodec_alloc_context3(codec);
	c->frame = av_frame_alloc();
	if (!c->dec || !c->frame) {
		clip_fail(c, AVERROR(ENOMEM), "out of memory");
		return -1;
	}
	ret = avcodec_parameters_to_context(c->dec, c->r->par);
	if (ret >= 0) {
		c->dec->pkt_timebase = c->r->tb;
		c->dec->thread_count = 1;
		ret = avcodec_open2(c->dec, codec, NULL);
	}
	if (ret < 0) {
		clip_fail(c, ret, "cannot open decoder");
		return -1;
	}
	return 0;
}

/* One decoded frame into the encoder (opened on the first, even size). */
static void transcode_frame(fl_clip *c, const AVFrame *f)
{
	char why[CLIP_WHY];
	int r;

	if (!c->enc) {
		fl_encoder_opts eo = { 0 };

		c->ew = f->width & ~1;
		c->eh = f->height & ~1;
		if (c->eh > CLIP_MAX_H) {
			/* the rendition (see "Cost"), the aspect kept */
			c->ew = (int)lround((double)f->width * CLIP_MAX_H /
					    f->height) &
				~1;
			c->eh = CLIP_MAX_H;
		}
		if (c->ew < 2 || c->eh < 2) {
			clip_fail(c, AVERROR_INVALIDDATA, "frame too small");
			return;
		}
		eo.preset = CLIP_PRESET;
		eo.threads = CLIP_THREADS;
		c->enc = fl_encoder_open_opts(c->path, c->ew, c->eh, c->r->fps,
					      &eo, why, sizeof(why));
		if (!c->enc) {
			clip_fail(c,
				  strstr(why, "No space") ? AVERROR(ENOSPC)
							  : AVERROR(EIO),
				  why);
			return;
		}
		if (av_image_alloc(c->yuv, c->yuv_stride, c->ew, c->eh,
				   AV_PIX_FMT_YUV420P, 32) < 0) {
			clip_fail(c, AVERROR(ENOMEM), "out of memory");
			return;
		}
	}
	c->sws = sws_getCachedContext(c->sws, f->width, f->height, f->format,
				      c->ew, c->eh, AV_PIX_FMT_YUV420P,
				      SWS_BILINEAR, NULL, NULL, NULL);
	if (!c->sws) {
		clip_fail(c, AVERROR(EINVAL), "cannot convert pixel format");
		return;
	}
	sws_scale(c->sws, (const uint8_t *const *)f->data, f->linesize, 0,
		  f->height, c->yuv, c->yuv_stride);
	r = fl_encoder_write_yuv420p(c->enc, (const uint8_t *const *)c->yuv,
				     c->yuv_stride);
	if (r < 0)
		clip_fail(c, AVERROR(EIO), "cannot write (encoder)");
}

static void transcode_packet(fl_clip *c, const AVPacket *pkt)
{
	int ret = avcodec_send_packet(c->dec, pkt);

	if (ret < 0 && ret != AVERROR(EAGAIN) && ret != AVERROR_EOF)
		return; /* a broken picture: skip it, as the source does */
	while (!c->failed &&
	       (ret = avcodec_receive_frame(c->dec, c->frame)) == 0) {
		transcode_frame(c, c->frame);
		av_frame_unref(c->frame);
	}
}

/* ---- the re-encoding worker ----------------------------------------------- */

/* fl_clip_test_slow: microseconds added to each packet re-encoded */
static atomic_long test_slow_us;

void fl_clip_test_slow(double ms)
{
	atomic_store(&test_slow_us, (long)(ms * 1000));
}

/* The calling thread's CPU time, ns (0 if unreadable). */
static long long thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *transcode_run(void *arg)
{
	fl_clip *c = arg;
	struct qnode *n;
	long long cpu0 = thread_cpu_ns(), cpu;

	pthread_mutex_lock(&c->qmu);
	for (;;) {
		while (!c->qhead && !c->qclose && !c->qstop)
			pthread_cond_wait(&c->qcv, &c->qmu);
		if (c->qstop || !c->qhead)
			break;
		n = c->qhead;
		c->qhead = n->next;
		if (!c->qhead)
			c->qtail = NULL;
		c->qbusy = 1;
		pthread_mutex_unlock(&c->qmu);
		if (!c->failed)
			transcode_packet(c, n->pkt);
		if (atomic_load(&test_slow_us) > 0)
			usleep((useconds_t)atomic_load(&test_slow_us));
		c->t_done = n->t;
		c->done_any = 1;
		av_packet_free(&n->pkt);
		free(n);
		/* the camera's cost, as it goes (docs/health.md) */
		cpu = thread_cpu_ns();
		atomic_fetch_add(&c->r->clip_cpu_ns, cpu - cpu0);
		cpu0 = cpu;
		pthread_mutex_lock(&c->qmu);
		c->qbusy = 0;
	}
	c->qdone = 1;
	pthread_cond_broadcast(&c->qdone_cv);
	pthread_mutex_unlock(&c->qmu);
	return NULL;
}

static int worker_start(fl_clip *c)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&c->qmu, NULL);
	pthread_cond_init(&c->qcv, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->qdone_cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&c->worker, NULL, transcode_run, c) != 0) {
		pthread_mutex_destroy(&c->qmu);
		pthread_cond_destroy(&c->qcv);
		pthread_cond_destroy(&c->qdone_cv);
		clip_fail(c, AVERROR(ENOMEM), "cannot start the re-encoder");
		return -1;
	}
	c->has_worker = 1;
	return 0;
}

/* A packet at video time t for the worker (referenced). */
static void enqueue(fl_clip *c, const AVPacket *pkt, double t)
{
	struct qnode *n = malloc(sizeof(*n));

	if (!n || !(n->pkt = av_packet_clone(pkt))) {
		free(n);
		clip_fail(c, AVERROR(ENOMEM), "out of memory");
		return;
	}
	n->t = t;
	n->next = NULL;
	pthread_mutex_lock(&c->qmu);
	if (c->qtail)
		c->qtail->next = n;
	else
		c->qhead = n;
	c->qtail = n;
	pthread_cond_signal(&c->qcv);
	pthread_mutex_unlock(&c->qmu);
}

/*
 * End the worker: once it has written what it has (drain), or at once.
 * A drain waits at most wait_s seconds (INFINITY: as long as it takes);
 * then the worker stops after the packet it is on, and the packets it
 * had not reached are counted (nleft, t_left) and dropped: the clip is
 * cut there.
 */
static void worker_end(fl_clip *c, int drain, double wait_s)
{
	struct qnode *n;

	if (!c->has_worker)
		return;
	pthread_mutex_lock(&c->qmu);
	if (drain)
		c->qclose = 1;
	else
		c->qstop = 1;
	pthread_cond_signal(&c->qcv);
	if (drain && isfinite(wait_s)) {
		struct timespec now, until;
		double end;

		clock_gettime(CLOCK_MONOTONIC, &now);
		end = (double)now.tv_sec + now.tv_nsec / 1e9 +
		      FL_MAX(wait_s, 0);
		until.tv_sec = (time_t)end;
		until.tv_nsec = (long)((end - (double)until.tv_sec) * 1e9);
		if (until.tv_nsec > 999999999L) /* rounding: EINVAL */
			until.tv_nsec = 999999999L;
		while (!c->qdone &&
		       pthread_cond_timedwait(&c->qdone_cv, &c->qmu, &until) !=
			       ETIMEDOUT)
			;
		if (!c->qdone)
			c->qstop = 1; /* after the packet it is on */
	}
	pthread_mutex_unlock(&c->qmu);
	pthread_join(c->worker, NULL);
	while ((n = c->qhead)) {
		c->qhead = n->next;
		c->nleft++;
		c->t_left = n->t;
		av_packet_free(&n->pkt);
		free(n);
	}
	c->qtail = NULL;
	pthread_mutex_destroy(&c->qmu);
	pthread_cond_destroy(&c->qcv);
	pthread_cond_destroy(&c->qdone_cv);
	c->has_worker = 0;
}

int fl_clip_busy(fl_clip *c)
{
	int busy;

	if (!c || !c->has_worker)
		return 0;
	pthread_mutex_lock(&c->qmu);
	busy = c->qhead != NULL || c->qbusy;
	pthread_mutex_unlock(&c->qmu);
	return busy;
}

/* The clip's share of a packet: the first must be a keyframe, none after
 * the end. */
static void clip_take(fl_clip *c, const AVPacket *pkt, double t)
{
	if (c->ended || c->failed)
		return;
	if (t > atomic_load(&c->to) + 1e-9) {
		c->ended = 1;
		return;
	}
	if (!c->started) {
		if (!(pkt->flags & AV_PKT_FLAG_KEY))
			return;
		c->t_first = t;
	}
	if (c->r->copy)
		copy_packet(c, pkt, t);
	else
		enqueue(c, pkt, t);
	if (c->failed)
		return;
	c->started = 1;
	c->t_last = t;
}

/* Write the packets the ring held at the start (caller holds clip_lock). */
static void clip_backlog(fl_clip *c)
{
	for (int i = 0; i < c->nbacklog; i++) {
		clip_take(c, c->backlog[i].pkt, c->backlog[i].t);
		av_packet_free(&c->backlog[i].pkt);
	}
	c->nbacklog = 0;
}

fl_clip *fl_clip_start(fl_preroll *r, const char *path, double from, char *err,
		       size_t errlen)
{
	fl_clip *c;
	int slot = -1, start = 0;

	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	c->r = r;
	c->to = INFINITY;
	snprintf(c->path, sizeof(c->path), "%s", path);
	if (r->copy ? copy_open(c) < 0
		    : transcode_open(c) < 0 || worker_start(c) < 0) {
		snprintf(err, errlen, "%s", c->err);
		fl_clip_abort(c);
		return NULL;
	}
	/* Both locks: every packet is either held now (the backlog) or
	 * pushed to the clip later, none twice. */
	pthread_mutex_lock(&r->clip_lock);
	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < MAX_CLIPS && slot < 0; i++)
		if (!r->clips[i])
			slot = i;
	/* The keyframe at or before from (the ring starts at one). */
	for (int i = 0; i < r->count; i++)
		if (item(r, i)->key && item(r, i)->t <= from + 1e-9)
			start = i;
	if (slot >= 0 && r->count > start) {
		c->backlog = malloc((size_t)(r->count - start) *
				    sizeof(*c->backlog));
		for (int i = start; c->backlog && i < r->count; i++) {
			c->backlog[c->nbacklog] = *item(r, i);
			c->backlog[c->nbacklog].pkt = av_packet_clone(
				item(r, i)->pkt);
			if (!c->backlog[c->nbacklog].pkt)
				break;
			c->nbacklog++;
		}
		if (!c->backlog || c->nbacklog < r->count - start)
			clip_fail(c, AVERROR(ENOMEM), "out of memory");
	}
	if (slot >= 0 && !c->failed)
		r->clips[slot] = c;
	pthread_mutex_unlock(&r->lock);
	pthread_mutex_unlock(&r->clip_lock);
	if (slot < 0 || c->failed) {
		if (slot < 0)
			snprintf(err, errlen, "%s: too many clips open", path);
		else
			snprintf(err, errlen, "%s", c->err);
		fl_clip_abort(c);
		return NULL;
	}
	return c;
}

void fl_clip_set_end(fl_clip *c, double to)
{
	if (c)
		atomic_store(&c->to, to);
}

int fl_clip_ended(const fl_clip *c)
{
	return !c || atomic_load(&c->ended) || c->failed;
}

/* Off the ring: no packet reaches c after this. */
static void detach(fl_clip *c)
{
	pthread_mutex_lock(&c->r->clip_lock);
	for (int i = 0; i < MAX_CLIPS; i++)
		if (c->r->clips[i] == c)
			c->r->clips[i] = NULL;
	pthread_mutex_unlock(&c->r->clip_lock);
}

/* Free everything; the file stays unless remove_file. */
static void clip_free(fl_clip *c, int remove_file)
{
	worker_end(c, 0, 0);
	if (c->oc) {
		if (c->oc->pb)
			avio_closep(&c->oc->pb);
		avformat_free_context(c->oc);
	}
	av_packet_free(&c->tmp);
	avcodec_free_context(&c->dec);
	av_frame_free(&c->frame);
	sws_freeContext(c->sws);
	if (c->yuv[0])
		av_freep(&c->yuv[0]);
	if (c->enc)
		fl_encoder_close(c->enc);
	for (int i = 0; i < c->nbacklog; i++)
		av_packet_free(&c->backlog[i].pkt);
	free(c->backlog);
	if (remove_file)
		unlink(c->path);
	free(c);
}

int fl_clip_finish_within(fl_clip *c, double wait_s, fl_clip_span *sp,
			  char *err, size_t errlen)
{
	int ret, rc = 0;

	if (sp)
		memset(sp, 0, sizeof(*sp));
	if (!c)
		return FL_EINVAL;
	detach(c);
	clip_backlog(c);          /* no packet came after the start */
	worker_end(c, 1, wait_s); /* what it has, written (or cut) */
	if (!c->failed && !c->started) {
		c->failed = FL_EAGAIN;
		snprintf(c->err, sizeof(c->err),
			 "%s: no video reached the clip (no keyframe yet)",
			 c->path);
	}
	if (!c->failed && c->nleft && !c->enc) {
		c->failed = FL_EAGAIN;
		snprintf(c->err, sizeof(c->err),
			 "%s: the re-encoding had written no picture when it "
			 "was stopped after %.1f s (%d packets, %.1f s of "
			 "video, not re-encoded)",
			 c->path, wait_s, c->nleft, c->t_left - c->t_first);
	}
	if (!c->failed && c->r->copy) {
		ret = av_write_trailer(c->oc);
		if (ret < 0)
			clip_fail(c, ret, "cannot finish mp4");
		else {
			ret = avio_closep(&c->oc->pb);
			if (ret < 0)
				clip_fail(c, ret, "cannot close");
		}
	} else if (!c->failed) {
		transcode_packet(c, NULL); /* drain the decoder */
		if (!c->failed) {
			ret = fl_encoder_close(c->enc);
			c->enc = NULL;
			if (ret < 0)
				clip_fail(c, AVERROR(EIO), "cannot finish mp4");
		}
	}
	if (c->failed) {
		rc = c->failed;
		snprintf(err, errlen, "%s", c->err);
	}
	if (sp) {
		sp->t_from = c->t_first;
		/* cut: the last packet the decoder was given (the drain above
		 * wrote every picture of it) */
		sp->t_to = c->nleft && c->done_any ? c->t_done : c->t_last;
		sp->t_given = c->t_last;
		sp->left = c->nleft;
	}
	clip_free(c, rc != 0);
	return rc;
}

int fl_clip_finish(fl_clip *c, double *t_from, double *t_to, char *err,
		   size_t errlen)
{
	fl_clip_span sp;
	int rc = fl_clip_finish_within(c, INFINITY, &sp, err, errlen);

	if (t_from)
		*t_from = sp.t_from;
	if (t_to)
		*t_to = sp.t_to;
	return rc;
}

double fl_preroll_clip_cpu_s(const fl_preroll *r)
{
	return r ? (double)atomic_load(&((fl_preroll *)r)->clip_cpu_ns) / 1e9
		 : 0;
}

void fl_clip_abort(fl_clip *c)
{
	if (!c)
		return;
	detach(c);
	clip_free(c, 1);
}
