/*
 * event_lines.c - the JSON-lines event sink (see event_lines.h).
 */
#include "event_lines.h"

void edge_lines_event(const fl_event *ev, void *user)
{
	const edge_lines *lines = user;
	char line[2048];

	edge_warning_event(lines->warning, ev);
	fl_event_json(ev, line, sizeof(line));
	fprintf(lines->out, "%s\n", line);
	fflush(lines->out);
}
