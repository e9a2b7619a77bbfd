/*
 * record.h - a camera's record stream (cameras[].record): demuxed, never
 * decoded, its packets fed to the evidence pre-roll ring - by a thread of
 * its own for a live stream, in step with the detect stream for a file -
 * and reconnected on its own. See record.c.
 *
 * Ownership: edge_record_open() returns a stream the camera frees with
 * edge_record_close() (NULL-safe; it stops the thread) after the evidence
 * writer that taps it. The calls below are the camera thread's; a live
 * stream's own thread (edge_record_start) only reads into the tap.
 */
#ifndef FL_EDGE_RECORD_H
#define FL_EDGE_RECORD_H

#include <stddef.h>

#include "config.h"
#include "source.h"

typedef struct edge_record edge_record;

/*
 * Open camera conf's record stream (demux only). realtime: the edge runs
 * live, so a network stream or device is read by its own thread and
 * reconnected when lost (a file simply ends); such a stream that cannot be
 * opened now is returned all the same, without a source (lost, retried
 * from edge_record_start on). NULL with the reason in err when a file
 * cannot be opened (or out of memory).
 */
edge_record *edge_record_open(const fl_camera_conf *conf, int realtime,
			      char *err, size_t errlen);

/* The demuxer, for the evidence writer's packet tap and its stream info;
 * NULL while a live stream missing at start was not found yet. */
fl_source *edge_record_source(edge_record *r);

/*
 * Start reading a live stream in its own thread (once the writer taps its
 * source); nothing for a file, which edge_record_pump reads. Returns 0, or
 * FL_ENOMEM (no thread) with the reason in err.
 */
int edge_record_start(edge_record *r, char *err, size_t errlen);

/*
 * A live stream missing at start that has now been opened: its source,
 * waiting for the camera to move the writer's ring onto it (tap it) and
 * call edge_record_go(); NULL otherwise.
 */
fl_source *edge_record_waiting(edge_record *r);
void edge_record_go(edge_record *r);

/* The record stream's picture size (as its container declares it). */
void edge_record_size(const edge_record *r, int *w, int *h);

/*
 * The stream's state after detect video time t: a file is read up to t
 * (record time t + offset) here; a live stream is read by its thread, and
 * this only asks (it never waits on the network). det_mono0: the monotonic
 * time of detect video time 0, which aligns a live stream's clock on its
 * first packet (record.c). Returns "ok" or "lost" (string constants, what
 * the manifest says).
 */
const char *edge_record_pump(edge_record *r, double t, double det_mono0);

/* record video time = detect video time + offset; how it was found
 * ("receive", "start"). */
double edge_record_offset(const edge_record *r, const char **aligned);

/* The CPU time the live stream's thread has used, seconds (0 without
 * one: a file's record stream is read by the camera thread). Any thread. */
double edge_record_cpu_s(const edge_record *r);

/* Stop a live stream's thread (NULL-safe, idempotent): nothing is read
 * into the tap after it returns; the source stays until close. */
void edge_record_stop(edge_record *r);

void edge_record_close(edge_record *r);

#endif /* FL_EDGE_RECORD_H */
