/*
 * clock.c - the clocks of clock.h: one clock_gettime each.
 */
#include "clock.h"

#include <string.h>
#include <sys/timex.h>

static double seconds(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double fl_mono_s(void)
{
	return seconds(CLOCK_MONOTONIC);
}

int64_t fl_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double fl_wall_s(void)
{
	return seconds(CLOCK_REALTIME);
}

double fl_cpu_s(void)
{
	return seconds(CLOCK_PROCESS_CPUTIME_ID);
}

double fl_thread_cpu_s(void)
{
	return seconds(CLOCK_THREAD_CPUTIME_ID);
}

static struct timespec deadline(clockid_t id, long ms)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

struct timespec fl_mono_deadline(long ms)
{
	return deadline(CLOCK_MONOTONIC, ms);
}

struct timespec fl_wall_deadline(long ms)
{
	return deadline(CLOCK_REALTIME, ms);
}

/* adjtimex reports its errors in microseconds; TIME_ERROR (its result)
 * and STA_UNSYNC (in status) both say no daemon keeps the clock. */
void fl_clock_sync_read(fl_clock_sync *out)
{
	struct timex tx;
	int state;

	memset(out, 0, sizeof(*out));
	memset(&tx, 0, sizeof(tx)); /* modes 0: read only */
	state = fl__adjtimex(&tx);
	if (state < 0)
		return;
	out->known = 1;
	out->synced = state != TIME_ERROR && !(tx.status & STA_UNSYNC);
	out->esterror_s = (double)tx.esterror / 1e6;
	out->maxerror_s = (double)tx.maxerror / 1e6;
	out->trusted = out->synced && out->maxerror_s <= FL_CLOCK_MAX_ERROR_S;
}
