/*
 * live.h - firelane-edge's live mode: every camera of the configuration in
 * its own thread, events as JSON lines on stdout and (with mqtt.host) to
 * the hub, commands and reloads applied as it runs, until a signal stops
 * it. See live.c.
 */
#ifndef FL_EDGE_LIVE_H
#define FL_EDGE_LIVE_H

#include <signal.h>

#include "camera.h"
#include "config.h"
#include "store.h"
#include "warning.h"

typedef struct edge_live_args {
	fl_config *cfg;          /* the running configuration: its lane
				    settings change (reload, commands) */
	const char *config_path; /* re-read on reload */
	const edge_opts *opts;
	fl_store *store;             /* the evidence store, or NULL */
	edge_warning *warning;       /* the on-site warning, or NULL */
	volatile sig_atomic_t *stop; /* set by the program's SIGTERM/SIGINT
					handler */
} edge_live_args;

/*
 * Run until *a->stop is set or every camera has ended (a file at its end,
 * a file that cannot be opened), or a configuration sent by the hub needs
 * a restart (EDGE_LIVE_RESTART). Installs the SIGHUP handler (reload).
 * Everything in a is borrowed for the call. Once per process. Returns the
 * exit status: 0, or 1 when a camera failed or the publisher could not be
 * created.
 */
int edge_live_run(const edge_live_args *a);

/* edge_live_run()'s status when a configuration sent by the hub needs a
 * restart (src/edge/apply.c): the program closes what it opened and calls
 * edge_live_restart(). */
#define EDGE_LIVE_RESTART 3

/* Execute this program again with argv (the process, its id and its
 * systemd unit stay). Returns only on failure: the exit status 1. */
int edge_live_restart(char **argv);

#endif /* FL_EDGE_LIVE_H */
