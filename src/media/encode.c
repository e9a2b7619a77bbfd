/*
 * encode.c - the H.264/MP4 writer declared in encode.h.
 *
 * A note on the pipeline: a frame arrives (YUV 4:2:0 planes, or packed grey or
 * BGR that libswscale converts), is copied into an AVFrame the writer owns,
 * stamped with its index as pts in a 1/fps time base, sent to the encoder,
 * and every packet that comes out is rescaled to the stream's time base and
 * interleaved into the container. Close sends the NULL frame that drains the
 * encoder's look-ahead, then writes the trailer; with +faststart the mov
 * muxer rewrites the file so the index (moov) comes first.
 *
 * Everything the writer allocates hangs off struct fl_encoder and is freed in
 * one place (encoder_free), whatever stage open failed at.
 */
#include "encode.h"

#include "fl.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include <stdio.h>
#include <string.h>

struct fl_encoder {
	AVFormatContext *fmt;
	AVCodecContext *ctx;
	AVStream *st;
	AVFrame *frame;
	AVPacket *pkt;
	struct SwsContext *sws;
	int sws_fmt; /* source pixel format sws was set up for */
	int w, h;
	long frames;
	int header_written;
	int io_open;
	char codec[16];
};

static void set_err(char *err, size_t errlen, const char *what, int averr)
{
	char buf[AV_ERROR_MAX_STRING_SIZE] = "";

	if (!err || !errlen)
		return;
	if (averr) {
		av_strerror(averr, buf, sizeof(buf));
		snprintf(err, errlen, "%s: %s", what, buf);
	} else {
		snprintf(err, errlen, "%s", what);
	}
}

static void encoder_free(fl_encoder *e)
{
	if (!e)
		return;
	if (e->fmt && e->io_open)
		avio_closep(&e->fmt->pb);
	avformat_free_context(e->fmt);
	avcodec_free_context(&e->ctx);
	av_frame_free(&e->frame);
	av_packet_free(&e->pkt);
	sws_freeContext(e->sws);
	av_free(e);
}

/* Zero every byte of the frame's buffers, padding included. */
static void frame_zero(AVFrame *f)
{
	int i;

	for (i = 0; i < AV_NUM_DATA_POINTERS && f->buf[i]; i++)
		memset(f->buf[i]->data, 0, f->buf[i]->size);
}

/*
 * Configure and open the codec: libx264 if present, else mpeg4. Returns 0 or
 * a negative AVERROR.
 */
static int open_codec(fl_encoder *e, double fps, const fl_encoder_opts *o,
		      char *err, size_t errlen)
{
	const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
	AVDictionary *d = NULL;
	AVRational rate = av_d2q(fps, 100000);
	char crf[16];
	int x264 = codec != NULL;
	int r;

	if (!codec)
		codec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
	if (!codec) {
		set_err(err, errlen, "no H.264 or MPEG-4 encoder in FFmpeg", 0);
		return AVERROR_ENCODER_NOT_FOUND;
	}
	snprintf(e->codec, sizeof(e->codec), "%s", codec->name);
	e->ctx = avcodec_alloc_context3(codec);
	if (!e->ctx)
		return AVERROR(ENOMEM);
	e->ctx->width = e->w;
	e->ctx->height = e->h;
	e->ctx->pix_fmt = AV_PIX_FMT_YUV420P;
	e->ctx->time_base = av_inv_q(rate);
	e->ctx->framerate = rate;
	e->ctx->gop_size = o && o->gop > 0 ? o->gop : (int)(fps * 10 + 0.5);
	e->ctx->thread_count = o ? o->threads : 0;
	e->ctx->flags |= AV_CODEC_FLAG_BITEXACT;
	if (e->fmt->oformat->flags & AVFMT_GLOBALHEADER)
		e->ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	if (x264) {
		snprintf(crf, sizeof(crf), "%d", o && o->crf > 0 ? o->crf : 23);
		av_dict_set(&d, "preset",
			    o && o->preset ? o->preset : "veryfast", 0);
		av_dict_set(&d, "crf", crf, 0);
		/* No B-frames: on noisy camera-like content they save nothing
		 * and cost a third of the encoding time; decoders also start
		 * and seek faster without them. */
		e->ctx->max_b_frames = 0;
	} else {
		/* mpeg4 has no crf; a fixed quantiser is its closest cousin */
		e->ctx->flags |= AV_CODEC_FLAG_QSCALE;
		e->ctx->global_quality = FF_QP2LAMBDA * 4;
		e->ctx->max_b_frames = 0;
	}
	r = avcodec_open2(e->ctx, codec, &d);
	av_dict_free(&d);
	if (r < 0)
		set_err(err, errlen, "cannot open encoder", r);
	return r;
}

fl_encoder *fl_encoder_open_opts(const char *path, int w, int h, double fps,
				 const fl_encoder_opts *opts, char *err,
				 size_t errlen)
{
	fl_encoder *e;
	AVDictionary *mux = NULL;
	int r;

	if (!path || w <= 0 || h <= 0 || (w & 1) || (h & 1) || !(fps > 0)) {
		set_err(err, errlen,
			"encoder: bad size or rate (sizes must "
			"be even)",
			0);
		return NULL;
	}
	e = av_mallocz(sizeof(*e));
	if (!e) {
		set_err(err, errlen, "out of memory", 0);
		return NULL;
	}
	e->w = w;
	e->h = h;
	e->sws_fmt = -1;
	r = avformat_alloc_output_context2(&e->fmt, NULL, "mp4", path);
	if (r < 0 || !e->fmt) {
		set_err(err, errlen, "cannot create mp4 muxer", r);
		goto fail;
	}
	e->fmt->flags |= AVFMT_FLAG_BITEXACT;
	if (open_codec(e, fps, opts, err, errlen) < 0)
		goto fail;
	e->st = avformat_new_stream(e->fmt, NULL);
	if (!e->st) {
		set_err(err, errlen, "cannot add stream", 0);
		goto fail;
	}
	e->st->time_base = e->ctx->time_base;
	e->st->avg_frame_rate = e->ctx->framerate;
	r = avcodec_parameters_from_context(e->st->codecpar, e->ctx);
	if (r < 0) {
		set_err(err, errlen, "cannot copy codec parameters", r);
		goto fail;
	}
	e->frame = av_frame_alloc();
	e->pkt = av_packet_alloc();
	if (!e->frame || !e->pkt) {
		set_err(err, errlen, "out of memory", 0);
		goto fail;
	}
	e->frame->format = AV_PIX_FMT_YUV420P;
	e->frame->width = w;
	e->frame->height = h;
	r = av_frame_get_buffer(e->frame, 0);
	if (r < 0) {
		set_err(err, errlen, "cannot allocate frame", r);
		goto fail;
	}
	frame_zero(e->frame);
	r = avio_open(&e->fmt->pb, path, AVIO_FLAG_WRITE);
	if (r < 0) {
		char what[512];

		snprintf(what, sizeof(what), "cannot create %s", path);
		set_err(err, errlen, what, r);
		goto fail;
	}
	e->io_open = 1;
	av_dict_set(&mux, "movflags", "+faststart", 0);
	r = avformat_write_header(e->fmt, &mux);
	av_dict_free(&mux);
	if (r < 0) {
		set_err(err, errlen, "cannot write mp4 header", r);
		goto fail;
	}
	e->header_written = 1;
	return e;
fail:
	encoder_free(e);
	return NULL;
}

fl_encoder *fl_encoder_open(const char *path, int w, int h, double fps,
			    char *err, size_t errlen)
{
	return fl_encoder_open_opts(path, w, h, fps, NULL, err, errlen);
}

/*
 * Send frame (NULL to drain) and write every packet the encoder returns.
 * Returns 0 or a negative fl_errno.
 */
static int encode_send(fl_encoder *e, AVFrame *frame)
{
	int r = avcodec_send_frame(e->ctx, frame);

	if (r < 0)
		return FL_EIO;
	for (;;) {
		r = avcodec_receive_packet(e->ctx, e->pkt);
		if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
			return 0;
		if (r < 0)
			return FL_EIO;
		av_packet_rescale_ts(e->pkt, e->ctx->time_base,
				     e->st->time_base);
		e->pkt->stream_index = e->st->index;
		r = av_interleaved_write_frame(e->fmt, e->pkt);
		if (r < 0)
			return FL_EIO;
	}
}

/*
 * Make the owned frame writable and stamp it; the codec may still hold it.
 * Why the zeroing: x264's SIMD reads a few bytes past the right edge of a
 * row. Those bytes must not be whatever an earlier allocation left there, or
 * the same frames would not give the same file.
 */
static int frame_prepare(fl_encoder *e)
{
	const uint8_t *before = e->frame->data[0];

	if (av_frame_make_writable(e->frame) < 0)
		return FL_ENOMEM;
	if (e->frame->data[0] != before)
		frame_zero(e->frame);
	e->frame->pts = e->frames;
	return 0;
}

/* Repeat each row's last pixel into the row padding (deterministic bytes
 * for the encoder's over-reads, and no edge artefact from them). */
static void pad_rows(uint8_t *data, int linesize, int w, int h)
{
	int y;

	for (y = 0; y < h && linesize > w; y++)
		memset(data + (size_t)y * linesize + w,
		       data[(size_t)y * linesize + w - 1],
		       (size_t)(linesize - w));
}

int fl_encoder_write_yuv420p(fl_encoder *e, const uint8_t *const planes[3],
			     const int strides[3])
{
	int r, p;

	if (!e || !planes || !strides)
		return FL_EINVAL;
	r = frame_prepare(e);
	if (r)
		return r;
	for (p = 0; p < 3; p++) {
		int pw = p ? e->w / 2 : e->w;
		int ph = p ? e->h / 2 : e->h;

		av_image_copy_plane(e->frame->data[p], e->frame->linesize[p],
				    planes[p], strides[p], pw, ph);
		pad_rows(e->frame->data[p], e->frame->linesize[p], pw, ph);
	}
	r = encode_send(e, e->frame);
	if (!r)
		e->frames++;
	return r;
}

int fl_encoder_write_gray_or_bgr(fl_encoder *e, const uint8_t *data, int stride,
				 int channels)
{
	const uint8_t *src[4] = { data, NULL, NULL, NULL };
	int srcstride[4] = { stride, 0, 0, 0 };
	int fmt, r;

	if (!e || !data || (channels != 1 && channels != 3))
		return FL_EINVAL;
	fmt = channels == 1 ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_BGR24;
	if (e->sws_fmt != fmt) {
		sws_freeContext(e->sws);
		e->sws = sws_getContext(e->w, e->h, fmt, e->w, e->h,
					AV_PIX_FMT_YUV420P,
					SWS_BILINEAR | SWS_BITEXACT, NULL, NULL,
					NULL);
		e->sws_fmt = e->sws ? fmt : -1;
		if (!e->sws)
			return FL_ENOMEM;
	}
	r = frame_prepare(e);
	if (r)
		return r;
	sws_scale(e->sws, src, srcstride, 0, e->h, e->frame->data,
		  e->frame->linesize);
	pad_rows(e->frame->data[0], e->frame->linesize[0], e->w, e->h);
	pad_rows(e->frame->data[1], e->frame->linesize[1], e->w / 2, e->h / 2);
	pad_rows(e->frame->data[2], e->frame->linesize[2], e->w / 2, e->h / 2);
	r = encode_send(e, e->frame);
	if (!r)
		e->frames++;
	return r;
}

const char *fl_encoder_codec(const fl_encoder *e)
{
	return e ? e->codec : "";
}

long fl_encoder_frames(const fl_encoder *e)
{
	return e ? e->frames : 0;
}

int fl_encoder_close(fl_encoder *e)
{
	int r = 0;

	if (!e)
		return 0;
	if (e->header_written) {
		r = encode_send(e, NULL);
		if (av_write_trailer(e->fmt) < 0 && !r)
			r = FL_EIO;
	}
	encoder_free(e);
	return r;
}
