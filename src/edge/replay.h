/*
 * replay.h - firelane-edge's replay mode (and --capture-reference): one
 * camera to the end of its input, as fast as it decodes, on video time.
 * See replay.c.
 */
#ifndef FL_EDGE_REPLAY_H
#define FL_EDGE_REPLAY_H

#include <signal.h>

#include "camera.h"
#include "config.h"
#include "warning.h"

typedef struct edge_replay_args {
	const fl_config *cfg;
	int camera; /* index into cfg->cameras */
	const edge_opts *opts;
	const char *events_out; /* file for the JSON lines; NULL or "-": stdout */
	const char *stats_out;       /* throughput figures as JSON, or NULL */
	const char *capture;         /* write a frame here instead (or NULL) */
	edge_warning *warning;       /* the on-site warning, or NULL */
	volatile sig_atomic_t *stop; /* set by the program's signal handler */
} edge_replay_args;

/*
 * Replay camera a->camera to the end of its input (or capture one frame a
 * second in, when a->capture is set). Everything is borrowed. Returns the
 * exit status: 0 at the end of input or on *stop, 1 on an input, model or
 * output failure (the reason on stderr).
 */
int edge_replay_run(const edge_replay_args *a);

#endif /* FL_EDGE_REPLAY_H */
