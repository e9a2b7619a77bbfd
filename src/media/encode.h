/*
 * encode.h - a small H.264 writer over libavcodec/libavformat.
 *
 * Who uses it: the synthetic scene generator (firelane-scene) writes its test
 * videos with it, and evidence clips can be written with it too. It is not a
 * general transcoder: one video stream, constant frame rate, frames pushed in
 * order, timestamps are frame indices.
 *
 * Format: libx264 (preset veryfast, crf 23, yuv420p, no B-frames) in an MP4
 * container with +faststart, so a clip can be streamed and probed before it
 * is fully read.
 * When the FFmpeg build has no libx264 the writer falls back to the native
 * mpeg4 encoder (MPEG-4 part 2, fixed quantiser) in the same container.
 *
 * Determinism: the muxer and the codec run with their bit-exact flags, so the
 * same frames and the same options give a byte-identical file on the same
 * build of FFmpeg (x264's frame threads are deterministic by design).
 *
 * Ownership: fl_encoder_open() returns a writer the caller owns; frames passed
 * to the write functions are borrowed for the call only. fl_encoder_close()
 * flushes delayed frames, writes the trailer and frees everything; it is
 * NULL-safe. Width and height must be even (4:2:0 chroma).
 */
#ifndef FL_ENCODE_H
#define FL_ENCODE_H

#include <stddef.h>
#include <stdint.h>

typedef struct fl_encoder fl_encoder;

typedef struct fl_encoder_opts {
	int crf;            /* x264 constant rate factor; 0 = 23 */
	const char *preset; /* x264 preset; NULL = "veryfast" */
	int threads;        /* encoder threads; 0 = let the codec choose */
	int gop;            /* keyframe interval in frames; 0 = 10 s of video */
} fl_encoder_opts;

/*
 * Create (truncate) path and prepare a w x h stream at fps frames per second.
 * Returns NULL on failure with the reason in err (may be NULL).
 */
fl_encoder *fl_encoder_open(const char *path, int w, int h, double fps,
			    char *err, size_t errlen);

/* As fl_encoder_open(), with options (opts may be NULL for the defaults). */
fl_encoder *fl_encoder_open_opts(const char *path, int w, int h, double fps,
				 const fl_encoder_opts *opts, char *err,
				 size_t errlen);

/*
 * Append one frame given as 8-bit planar YUV 4:2:0 (BT.601 limited range):
 * planes[0] is w x h luma, planes[1] and planes[2] are w/2 x h/2 chroma,
 * strides[i] bytes per row. Returns 0 or a negative fl_errno.
 */
int fl_encoder_write_yuv420p(fl_encoder *e, const uint8_t *const planes[3],
			     const int strides[3]);

/*
 * Append one frame given as packed 8-bit pixels: channels 1 = grey, 3 = BGR24.
 * stride is bytes per row. Converted with libswscale. Returns 0 or a negative
 * fl_errno.
 */
int fl_encoder_write_gray_or_bgr(fl_encoder *e, const uint8_t *data, int stride,
				 int channels);

/* Name of the codec in use ("libx264" or "mpeg4"); never NULL. */
const char *fl_encoder_codec(const fl_encoder *e);

/* Frames written so far. */
long fl_encoder_frames(const fl_encoder *e);

/*
 * Flush, write the trailer, close the file and free e. NULL-safe. Returns 0,
 * or a negative fl_errno if the flush or trailer failed (e is freed anyway).
 */
int fl_encoder_close(fl_encoder *e);

#endif /* FL_ENCODE_H */
