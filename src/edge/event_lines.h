/*
 * event_lines.h - the edge's events as JSON lines: one object a line
 * (fl_event_json, README "Events"), flushed at once so a reader, or a
 * crash, never sees half a line. The sink of replay (--events-out or
 * stdout) and of live mode (stdout). Every event passes the on-site
 * warning on its way out (it switches a lane's warning off when the lane
 * clears).
 */
#ifndef FL_EDGE_EVENT_LINES_H
#define FL_EDGE_EVENT_LINES_H

#include <stdio.h>

#include "event.h"
#include "warning.h"

typedef struct edge_lines {
	FILE *out;             /* borrowed */
	edge_warning *warning; /* borrowed; NULL when there is none */
} edge_lines;

/* An fl_event_fn: ev to lines->warning, then one line to lines->out. Not
 * thread-safe: live mode calls it under its warning and output locks. */
void edge_lines_event(const fl_event *ev, void *lines);

#endif /* FL_EDGE_EVENT_LINES_H */
