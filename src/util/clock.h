/*
 * clock.h - the process's clocks, each named for the clock it reads
 * (redis's monotonic.h, mosquitto's time_mosq.c).
 *
 * A note on which clock. Two questions need two clocks:
 *
 *   - "how long?" (intervals, timeouts, pacing, rates, retry back-off): the
 *     monotonic clock, fl_mono_s(). It never jumps, so an NTP step or an
 *     operator setting the date cannot stretch a timeout or starve a
 *     watchdog. Its zero is arbitrary: compare two readings, never show one.
 *   - "when?" (message times, records on disk, audit rows, anything another
 *     process or a person reads): the wall clock, fl_wall_s(), unix seconds.
 *     It may jump; never subtract two readings to time something.
 *
 * fl_cpu_s() is the CPU time of the whole process (all threads), for
 * figures such as the evidence writer's cost per bundle; fl_thread_cpu_s()
 * that of the calling thread (a plate read's cost while others run).
 *
 * src/core reads no clock: time is passed in. Everything else takes its
 * time from here; there are no private clock wrappers.
 *
 * Thread-safe (clock_gettime); no state.
 */
#ifndef FL_UTIL_CLOCK_H
#define FL_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in seconds. */
double fl_mono_s(void);

/* CLOCK_MONOTONIC in nanoseconds (for arithmetic that wants integers). */
int64_t fl_mono_ns(void);

/* CLOCK_REALTIME: unix seconds with the fraction. */
double fl_wall_s(void);

/* CLOCK_PROCESS_CPUTIME_ID: CPU seconds used by this process so far. */
double fl_cpu_s(void);

/* CLOCK_THREAD_CPUTIME_ID: CPU seconds used by the calling thread so far. */
double fl_thread_cpu_s(void);

/*
 * The absolute time `ms` milliseconds from now on the monotonic clock
 * (fl_mono_deadline: for a condition variable set to CLOCK_MONOTONIC, or
 * clock_nanosleep) or on the wall clock (fl_wall_deadline: for a condition
 * variable with the default clock). ms >= 0.
 */
struct timespec fl_mono_deadline(long ms);
struct timespec fl_wall_deadline(long ms);

/*
 * How far the wall clock can be trusted, as the kernel says (adjtimex(2),
 * kept up to date by chrony, ntpd or systemd-timesyncd; docs/clock.md).
 * Evidence records it: an enforcement picture's time must be within
 * FL_CLOCK_MAX_ERROR_S of the true time.
 */
#define FL_CLOCK_MAX_ERROR_S 1.0

typedef struct fl_clock_sync {
	int known;         /* 0: the kernel would not say (figures 0) */
	int synced;        /* an NTP daemon keeps the clock (no STA_UNSYNC,
			    * not TIME_ERROR) */
	double esterror_s; /* estimated error (esterror) */
	double maxerror_s; /* maximum error (maxerror): the bound */
	int trusted;       /* synced and maxerror_s <= FL_CLOCK_MAX_ERROR_S */
} fl_clock_sync;

/* Read the kernel's clock discipline into *out (never fails: an unknown
 * state is known = 0, not trusted). Thread-safe. */
void fl_clock_sync_read(fl_clock_sync *out);

/*
 * The adjtimex(2) call behind fl_clock_sync_read, alone in ntp.c: a test
 * defines its own to play a synchronised or a drifting clock (a link-time
 * seam; the library's is then not linked).
 */
struct timex;
int fl__adjtimex(struct timex *tx);

#endif /* FL_UTIL_CLOCK_H */
