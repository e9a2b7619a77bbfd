/*
 * log.c - the process-wide log hook declared in fl.h.
 *
 * It is the one piece of global state the libraries share, so it lives outside
 * src/core (which has none). Programs install the sink once at start-up.
 */
#include "fl.h"

#include <stdio.h>

static fl_log_fn log_fn;
static void *log_user;
static int log_max = -1;

void fl_log_set(fl_log_fn fn, int max_level, void *user)
{
	log_fn = fn;
	log_user = user;
	log_max = fn ? max_level : -1;
}

int fl_log_enabled(int level)
{
	return level <= log_max;
}

void fl_log(int level, const char *tag, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_fn(level, tag, buf, log_user);
}

void fl_log_stderr(int level, const char *tag, const char *msg, void *user)
{
	static const char *names[] = { "error", "warn", "info", "debug" };

	fprintf(stderr, "%s: %s: %s: %s\n",
		user ? (const char *)user : "firelane",
		names[level < 0   ? 0
		      : level > 3 ? 3
				  : level],
		tag, msg);
}
