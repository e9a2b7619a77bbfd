/*
 * record.h - a camera's record stream (cameras[].record): demuxed, never
 * decoded, its packets fed to the evidence pre-roll ring in step with the
 * detect stream, reconnected on its own. See record.c.
 *
 * Ownership: edge_record_open() returns a stream the camera frees with
 * edge_record_close() (NULL-safe) after the evidence writer that taps it.
 * One thread: the camera's.
 */
#ifndef FL_EDGE_RECORD_H
#define FL_EDGE_RECORD_H

#include <stddef.h>

#include "config.h"
#include "source.h"

typedef struct edge_record edge_record;

/*
 * Open camera conf's record stream (demux only). realtime: the edge runs
 * live, so a network stream or device is reconnected when lost (a file
 * simply ends). NULL with the reason in err when it cannot be opened now.
 */
edge_record *edge_record_open(const fl_camera_conf *conf, int realtime,
			      char *err, size_t errlen);

/* The demuxer, for the evidence writer's packet tap and its stream info. */
fl_source *edge_record_source(edge_record *r);

/* The record stream's picture size (as its container declares it). */
void edge_record_size(const edge_record *r, int *w, int *h);

/*
 * Feed the ring up to detect video time t (record time t + offset) and
 * keep the stream: a lost live stream is reconnected with backoff (1, 2, 4
 * ... 30 s), never for longer than one open attempt per call. det_mono0:
 * the monotonic time of detect video time 0, which aligns a live stream's
 * clock on its first packet (record.c). Returns the state: "ok" or "lost"
 * (string constants, what the manifest says).
 */
const char *edge_record_pump(edge_record *r, double t, double det_mono0);

/* record video time = detect video time + offset; how it was found
 * ("receive", "start"). */
double edge_record_offset(const edge_record *r, const char **aligned);

void edge_record_close(edge_record *r);

#endif /* FL_EDGE_RECORD_H */
