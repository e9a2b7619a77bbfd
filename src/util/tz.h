/*
 * tz.h - the process's local time zone: set once from the configuration,
 * named for the browser, and printed with its offset.
 *
 * A note on why the process's zone. The C library converts unix time to
 * local time in one zone, the process's (TZ, else /etc/localtime), with the
 * tz database's daylight-saving rules; there is no thread-safe way to
 * convert in a second zone. So a program names its zone once, at start and
 * before it starts a thread (fl_tz_set: setenv and tzset are not
 * thread-safe), and everything that shows a person a time - the evidence
 * banner, the on-site warning's active and quiet hours, the hub's alerts -
 * uses localtime_r() through the functions below and agrees.
 *
 * The settings themselves (what "", "Asia/Shanghai" and "+08:00" mean) are
 * src/core/zone.h's. Manifests, messages and the store keep UTC: local time
 * is for people only.
 */
#ifndef FL_UTIL_TZ_H
#define FL_UTIL_TZ_H

#include <stddef.h>

/*
 * Check a zone setting without using it: 0 when zone is well formed
 * (fl_zone_valid) and, for a name, its tz database file is on this machine;
 * else FL_EINVAL / FL_ENOENT with the reason in err. Thread-safe.
 */
int fl_tz_check(const char *zone, char *err, size_t errlen);

/*
 * Make zone (a setting fl_tz_check() accepts) the process's local zone:
 * "" keeps the machine's, a fixed offset becomes its POSIX TZ string, a
 * name must be a tz database file under $TZDIR or /usr/share/zoneinfo.
 * Call before any thread starts. Returns 0, or FL_EINVAL (malformed) /
 * FL_ENOENT (no such zone on this machine) with the reason in err.
 */
int fl_tz_set(const char *zone, char *err, size_t errlen);

/*
 * The tz database name of the process's zone ("Asia/Shanghai"), for
 * a browser's Intl.DateTimeFormat: TZ when it names a zone, else
 * /etc/timezone, else the target of the /etc/localtime link; "" when the
 * zone is a fixed offset or cannot be named (then show times with
 * fl_tz_offset_at's offset).
 */
void fl_tz_name(char *buf, size_t len);

/* The local zone's offset from UTC at unix time wall, seconds east. */
int fl_tz_offset_at(double wall);

/* wall (unix seconds) as local time with its offset,
 * "2026-12-06 19:39:47 +08:00" (26 characters; buf >= 32). Returns the
 * length written. */
size_t fl_time_local(double wall, char *buf, size_t len);

#endif /* FL_UTIL_TZ_H */
