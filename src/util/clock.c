/*
 * clock.c - the clocks of clock.h: one clock_gettime each.
 */
#include "clock.h"

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
