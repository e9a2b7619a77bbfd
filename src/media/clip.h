/*
 * clip.h - the pre-roll ring of one camera and the evidence clips cut from
 * it. See clip.c for the essay.
 *
 * The ring keeps the camera's recent COMPRESSED packets (what the demuxer
 * delivers, through fl_source_set_packet_tap), bounded in seconds and bytes,
 * always starting at a keyframe. A clip starts from the ring's keyframe at or
 * before the requested time, then takes every new packet the ring is given
 * until its end time, and is closed into an MP4: H.264 is stream-copied
 * (no decoding, no quality loss, almost free); any other codec (MJPEG from a
 * webcam, image sequences) is decoded and re-encoded with encode.h.
 *
 * Ownership: fl_preroll_create() returns a ring the caller frees with
 * fl_preroll_destroy(); clips are started on a ring and must be finished or
 * aborted before the ring is destroyed (destroy aborts any left). The stream
 * info's codec parameters are copied.
 *
 * Threads: fl_preroll_push() may come from one thread (a record stream's)
 * while another (the camera's) calls the rest; create and destroy are the
 * owner's alone, and a clip is used by one caller thread (clip.c,
 * "Threads"). A re-encoded clip runs a worker thread until it is finished
 * or aborted.
 */
#ifndef FL_CLIP_H
#define FL_CLIP_H

#include <stddef.h>
#include <stdint.h>

#include "source.h"

typedef struct fl_preroll fl_preroll;
typedef struct fl_clip fl_clip;

/*
 * A ring for a stream: it holds at least max_s seconds of the newest packets
 * when it has them (from the keyframe at or before newest - max_s, so up to
 * one GOP more), and never more than max_bytes (whole GOPs are dropped from
 * the front first; a GOP larger than max_bytes empties the ring until the
 * next keyframe). Returns NULL with a reason in err.
 */
fl_preroll *fl_preroll_create(const fl_stream_info *si, double max_s,
			      size_t max_bytes, char *err, size_t errlen);

/* NULL-safe; aborts (and deletes the files of) clips still open. */
void fl_preroll_destroy(fl_preroll *r);

/*
 * Add a packet (referenced, not copied) at video time t: every open clip
 * gets it first, then the ring keeps it and trims. The signature is an
 * fl_packet_fn: pass fl_preroll_push and the ring to
 * fl_source_set_packet_tap().
 */
void fl_preroll_push(const struct AVPacket *pkt, double t, void *ring);

typedef struct fl_preroll_stats {
	size_t bytes;      /* packet payload held now */
	size_t peak_bytes; /* most ever held */
	int packets;       /* packets held now */
	double span_s;     /* newest - oldest packet time held now */
	double max_s;      /* the bounds it was created with */
	size_t max_bytes;
} fl_preroll_stats;

void fl_preroll_get_stats(const fl_preroll *r, fl_preroll_stats *st);

/* 1 when the stream is stream-copied into clips (H.264), 0 re-encoded. */
int fl_preroll_copies(const fl_preroll *r);

/* A full-resolution picture decoded from the ring (fl_preroll_still). */
typedef struct fl_still_image {
	uint8_t *bgr; /* packed BGR24, w*3 a row; the caller frees it */
	int w, h;
	double t;    /* the video time of the picture */
	int packets; /* packets decoded for it (its cost) */
} fl_still_image;

/*
 * The picture at video time t at the stream's own resolution: decoded from
 * the ring's last keyframe at or before t up to t (one GOP at most), and the
 * newest picture at or before t kept. Returns 0, FL_ENOENT when the ring
 * holds no keyframe that early (reason in err), FL_EDECODE, FL_EUNSUPPORTED
 * (no decoder), FL_ENOMEM. The ring keeps one decoder for this, and a later
 * still of the same GOP goes on from the last one (clip.c, "Stills").
 */
int fl_preroll_still(fl_preroll *r, double t, fl_still_image *out, char *err,
		     size_t errlen);

/* Free the still decoder and its pictures until the next still (a camera
 * with no open incident holds no full-resolution frames). */
void fl_preroll_still_release(fl_preroll *r);

/*
 * Start a clip into path (created; its folder must exist) from the ring's
 * keyframe at or before `from` (or the oldest packet held, if the ring
 * starts later; or the next keyframe, if it holds nothing). The held packets
 * are referenced at once, so the ring may forget them, and written with the
 * next packet pushed (not by the caller). The clip then takes new packets
 * until fl_clip_set_end(). Returns NULL with a reason in err.
 */
fl_clip *fl_clip_start(fl_preroll *r, const char *path, double from, char *err,
		       size_t errlen);

/* Packets after video time `to` are not taken (INFINITY: no end yet). */
void fl_clip_set_end(fl_clip *c, double to);

/* 1 once a packet after the end has been seen (the clip can be finished),
 * or the clip failed (fl_clip_finish reports why). */
int fl_clip_ended(const fl_clip *c);

/*
 * Write the trailer, close the file, free c. t_from / t_to (may be NULL) get
 * the video times of the first and last packet in the clip (clip time 0 is
 * t_from). Returns 0, or FL_EFULL (no space), FL_EIO, FL_EAGAIN (no packet
 * was ever written) with the reason in err; the file is removed then.
 */
int fl_clip_finish(fl_clip *c, double *t_from, double *t_to, char *err,
		   size_t errlen);

/* What a finished clip covers (fl_clip_finish_within). */
typedef struct fl_clip_span {
	double t_from, t_to; /* video times of the first and last packet
			      * written (clip time 0 is t_from) */
	double t_given;      /* the last packet the clip was given: after
			      * t_to when the clip was cut */
	int left;            /* packets given but not written (a cut) */
} fl_clip_span;

/*
 * fl_clip_finish, bounded: a re-encoded clip whose worker still lags is
 * given at most wait_s seconds (INFINITY: as long as it takes) to catch
 * up; then it is cut after the packet it is on, and what was re-encoded
 * is closed into the MP4 (sp->left > 0, sp->t_to the last packet in it).
 * A stream-copied clip never lags. A clip cut before its first picture
 * was written fails with FL_EAGAIN (and the reason). sp may be NULL.
 */
int fl_clip_finish_within(fl_clip *c, double wait_s, fl_clip_span *sp,
			  char *err, size_t errlen);

/* The CPU time the ring's re-encoding workers have used so far, seconds
 * (every clip since the ring was created; any thread may call). */
double fl_preroll_clip_cpu_s(const fl_preroll *r);

/*
 * 1 while a re-encoded clip's worker still has packets to write (its file
 * lags the packets given; fl_clip_finish would wait for it), else 0.
 */
int fl_clip_busy(fl_clip *c);

/* A test seam (firelane-edge --test-slow-clip): every packet a re-encoding
 * worker takes costs ms milliseconds more, asleep, so that a test can make
 * a clip lag. Process-wide; 0 (the default) is off. */
void fl_clip_test_slow(double ms);

/* Close and remove the file; NULL-safe. */
void fl_clip_abort(fl_clip *c);

#endif /* FL_CLIP_H */
