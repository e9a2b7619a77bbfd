/*
 * live.h - firelane-edge's live mode. See live.c.
 */
#ifndef FL_EDGE_LIVE_H
#define FL_EDGE_LIVE_H

#include <signal.h>
#include <stdio.h>

#include "camera.h"
#include "config.h"
#include "event.h"
#include "store.h"
#include "warning.h"

extern volatile sig_atomic_t stop_requested;
extern edge_warning *warning_out;
void write_event(const fl_event *ev, void *user);

int run_live(fl_config *cfg, const char *config_path,
	     const edge_opts *opts, fl_store *store);

#endif /* FL_EDGE_LIVE_H */
