/*
 * camera.h - one camera's pipeline in the edge: capture, analyse, assess,
 * act, pace. See camera.c.
 */
#ifndef FL_EDGE_CAMERA_H
#define FL_EDGE_CAMERA_H

#include <stdint.h>
#include <time.h>

#include "config.h"
#include "event.h"
#include "lane.h"
#include "writer.h"

typedef struct edge_camera edge_camera;

typedef struct edge_opts {
	const char *source;    /* overrides the config's source, or NULL */
	const char *model;     /* overrides detect.model, or NULL */
	double fps;            /* image sequences; 0 = config or 25 */
	double start_s;        /* replay: analysis begins here (video time) */
	double until_s;        /* replay: a step at or past this returns
				 * FL_ERANGE and does nothing (0: none) */
	int realtime;          /* pace files at their frame rate (live) */
	int decode_only;       /* benchmark: decode, analyse nothing */
	time_t start_wall;     /* wall clock at video time 0 (active hours) */
	const char *id_prefix; /* makes incident ids unique per run */
	const char *debug_dir; /* write analysis masks here, or NULL */
	const char *state_dir; /* the cameras' memory across restarts
				 * (src/edge/state.c), or NULL: none */
	fl_store *store;       /* evidence store, or NULL: no evidence */
	const fl_key *key;     /* device key (with store) */
	/* test seam (--test-slow-analysis): each analysed frame before video
	 * time slow_until_s (0: always) takes slow_ms longer, asleep, so a
	 * test can overload a camera whatever the machine's speed */
	double slow_ms;
	double slow_until_s;
} edge_opts;

typedef struct edge_stats {
	long frames;   /* decoded */
	long analysed; /* ... of which analysed */
	long skipped;  /* due for analysis, not analysed: overloaded */
	double decode_s;
	double analysis_s;
	long detector_calls;
	double detector_s;
	double gap_max_s; /* longest wall time between two frames in a row */
	/* CPU time of the camera: the thread that steps it, its record
	 * stream's thread and its clips' re-encoding workers (docs/health.md);
	 * of which the record stream's thread and the workers */
	double cpu_s;
	double record_cpu_s;
	double clip_cpu_s;
	double lag_s;   /* live: how far the last frame came behind the
			 * stream (wall seconds); 0 in replay */
	int overloaded; /* the condition "overloaded" is raised */
} edge_stats;

/*
 * Open camera index `cam` of cfg (borrowed for the camera's life). Events go
 * to emit, and to the camera's evidence writer when opts->store is set (the
 * store and key are borrowed for the camera's life). On failure returns NULL
 * with the reason in err.
 */
edge_camera *edge_camera_open(const fl_config *cfg, int cam,
			      const edge_opts *opts, fl_event_fn emit,
			      void *user, char *err, size_t errlen);

/*
 * Process one frame. Returns 0, FL_EEOF at the end of input (open evidence
 * is then sealed or discarded), or an error (reason in err).
 *
 * A live camera (opts->realtime and a network or device source) never ends:
 * when its stream is lost the step returns 0 without a frame (after a nap
 * of at most 10 ms) while it reconnects with backoff, and the events
 * camera_offline / camera_online go to emit (docs/health.md). Health events
 * (frozen, covered, moved) go to emit from the analysed frames. In live
 * mode (opts->realtime) a camera whose frames come late skips the
 * analysis of some (counted in edge_stats.skipped) and raises and clears
 * the health condition "overloaded" (camera.c, "overload").
 */
int edge_camera_step(edge_camera *c, char *err, size_t errlen);

const edge_stats *edge_camera_stats(const edge_camera *c);

/* Video time of the current frame, seconds (the on-site warning's clock). */
double edge_camera_time(const edge_camera *c);

/* The evidence writer's figures (zeros without evidence). */
void edge_camera_evidence_stats(const edge_camera *c, fl_evidence_stats *st);

/* Write the current frame as the clear-lane reference image. */
int edge_camera_write_frame(edge_camera *c, const char *path, char *err,
			    size_t errlen);

/*
 * Write the analysis mask of the current frame (docs/mqtt.md, "Commands",
 * snapshot): an image of the frame's size, black where the per-pixel model
 * sees nothing, orange where it sees foreground, yellow for a candidate at
 * rest, red at rest, the lanes' analysis regions outlined in green. PNG or
 * JPEG by path's extension. 0, or a negative fl_errno (reason in err).
 */
int edge_camera_write_mask(edge_camera *c, const char *path, char *err,
			   size_t errlen);

/* The lanes' coordinate space, pixels: the current frame's size, or for a
 * camera with a record stream the record picture's (the snapshot written
 * by edge_camera_write_frame is still the detect frame, of the same aspect
 * within 2 %: a client scales it to this size). */
void edge_camera_frame_size(const edge_camera *c, int *w, int *h);

/* NULL-safe. Alarmed incidents' evidence is sealed with what it has. */
void edge_camera_close(edge_camera *c);

#endif /* FL_EDGE_CAMERA_H */
