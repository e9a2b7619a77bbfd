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
 */
#include "clip.h"

#include "encode.h"
#include "fl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

typedef struct ring_item {
	AVPacket *pkt;
	double t;
	int key;
} ring_item;

struct fl_preroll {
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

struct fl_clip {
	fl_preroll *r;
	char path[CLIP_PATH];
	double to;
	int started; /* first packet (a keyframe) written */
	int ended;
	int failed; /* fl_errno of the first failure, or 0 */
	char err[CLIP_ERR];
	double t_first, t_last;
	int64_t ts_base; /* subtracted from copied timestamps */
	/* stream copy */
	AVFormatContext *oc;
	AVStream *ost;
	AVPacket *tmp;
	/* re-encode */
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

void fl_preroll_push(const struct AVPacket *pkt, double t, void *ring)
{
	fl_preroll *r = ring;
	int key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
	ring_item *it;

	for (int i = 0; i < MAX_CLIPS; i++)
		if (r->clips[i])
			clip_take(r->clips[i], pkt, t);
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

void fl_preroll_get_stats(const fl_preroll *r, fl_preroll_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!r)
		return;
	st->bytes = r->bytes;
	st->peak_bytes = r->peak;
	st->packets = r->count;
	st->span_s = r->count ? item(r, r->count - 1)->t - item(r, 0)->t : 0;
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

int fl_preroll_still(fl_preroll *r, double t, fl_still_image *out, char *err,
		     size_t errlen)
{
	double extra;
	int64_t key_pts;
	int k = -1, from, rc, delayed = r->par->video_delay > 0;
	uint8_t *d[4] = { NULL };
	int ds[4] = { 0 };

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < r->count; i++)
		if (item(r, i)->key && item(r, i)->t <= t + 1e-6)
			k = i;
	if (k < 0) {
		snprintf(err, errlen,
			 "still: the record ring holds no keyframe at or before "
			 "%.2f s",
			 t);
		return FL_ENOENT;
	}
	rc = still_decoder(r, err, errlen);
	if (rc < 0)
		return rc;
	key_pts = item(r, k)->pkt->pts != AV_NOPTS_VALUE ? item(r, k)->pkt->pts
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
	/* a stream with B-frames: the next few packets (its reorder depth),
	 * whose pictures a frame at t may refer to */
	extra = delayed ? (r->par->video_delay + 1) / r->fps : 0;
	for (int i = from; i < r->count; i++) {
		const ring_item *it = item(r, i);

		if (it->t > t + extra + 1e-6)
			break;
		if (avcodec_send_packet(r->still_dec, it->pkt) == 0)
			out->packets++;
		r->still_sent = pkt_ts(it->pkt);
		still_drain(r, t, key_pts, item(r, k)->t);
	}
	if (delayed) {
		avcodec_send_packet(r->still_dec, NULL);
		still_drain(r, t, key_pts, item(r, k)->t);
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

	if (c->failed)
		return;
	c->failed = averr_to_fl(averr);
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
		c->ew = f->width & ~1;
		c->eh = f->height & ~1;
		if (c->ew < 2 || c->eh < 2) {
			clip_fail(c, AVERROR_INVALIDDATA, "frame too small");
			return;
		}
		c->enc = fl_encoder_open(c->path, c->ew, c->eh, c->r->fps, why,
					 sizeof(why));
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

/* The clip's share of a packet: the first must be a keyframe, none after
 * the end. */
static void clip_take(fl_clip *c, const AVPacket *pkt, double t)
{
	if (c->ended || c->failed)
		return;
	if (t > c->to + 1e-9) {
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
		transcode_packet(c, pkt);
	if (c->failed)
		return;
	c->started = 1;
	c->t_last = t;
}

fl_clip *fl_clip_start(fl_preroll *r, const char *path, double from, char *err,
		       size_t errlen)
{
	fl_clip *c;
	int slot = -1, start = 0;

	for (int i = 0; i < MAX_CLIPS && slot < 0; i++)
		if (!r->clips[i])
			slot = i;
	if (slot < 0) {
		snprintf(err, errlen, "%s: too many clips open", path);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	c->r = r;
	c->to = INFINITY;
	snprintf(c->path, sizeof(c->path), "%s", path);
	if ((r->copy ? copy_open(c) : transcode_open(c)) < 0) {
		snprintf(err, errlen, "%s", c->err);
		fl_clip_abort(c);
		return NULL;
	}
	/* The keyframe at or before from (the ring starts at one). */
	for (int i = 0; i < r->count; i++)
		if (item(r, i)->key && item(r, i)->t <= from + 1e-9)
			start = i;
	for (int i = start; i < r->count && !c->failed; i++)
		clip_take(c, item(r, i)->pkt, item(r, i)->t);
	if (c->failed) {
		snprintf(err, errlen, "%s", c->err);
		fl_clip_abort(c);
		return NULL;
	}
	r->clips[slot] = c;
	return c;
}

void fl_clip_set_end(fl_clip *c, double to)
{
	if (c) {
		c->to = to;
		if (c->started && c->t_last > to)
			c->ended = 1;
	}
}

int fl_clip_ended(const fl_clip *c)
{
	return !c || c->ended || c->failed;
}

static void detach(fl_clip *c)
{
	for (int i = 0; i < MAX_CLIPS; i++)
		if (c->r->clips[i] == c)
			c->r->clips[i] = NULL;
}

/* Free everything; the file stays unless remove_file. */
static void clip_free(fl_clip *c, int remove_file)
{
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
	if (remove_file)
		unlink(c->path);
	free(c);
}

int fl_clip_finish(fl_clip *c, double *t_from, double *t_to, char *err,
		   size_t errlen)
{
	int ret, rc = 0;

	if (!c)
		return FL_EINVAL;
	detach(c);
	if (!c->failed && !c->started) {
		c->failed = FL_EAGAIN;
		snprintf(c->err, sizeof(c->err),
			 "%s: no video reached the clip (no keyframe yet)",
			 c->path);
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
	if (t_from)
		*t_from = c->t_first;
	if (t_to)
		*t_to = c->t_last;
	clip_free(c, rc != 0);
	return rc;
}

void fl_clip_abort(fl_clip *c)
{
	if (!c)
		return;
	detach(c);
	clip_free(c, 1);
}
