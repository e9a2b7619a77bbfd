/*
 * systemd.h - telling systemd how a daemon is doing (sd_notify), without
 * libsystemd: readiness, reloads, stopping, and the watchdog. Both daemons
 * use it (the edge's live mode, the hub's loop); the units that start them
 * are systemd/firelane-edge.service and systemd/firelane-hub.service
 * (docs/packaging.md). Every call is nothing at all when the process was
 * not started by systemd (no $NOTIFY_SOCKET, no $WATCHDOG_USEC).
 *
 * No state; callable from any thread (one socket per call).
 */
#ifndef FL_UTIL_SYSTEMD_H
#define FL_UTIL_SYSTEMD_H

/* One notification ("READY=1", "RELOADING=1", "WATCHDOG=1", ...) to
 * $NOTIFY_SOCKET. Failures are logged at debug level only. */
void fl_sd_notify(const char *msg);

/* How often to feed the watchdog: half of $WATCHDOG_USEC, in seconds, or
 * 0 when systemd asked for no watchdog (or asked another process). */
double fl_sd_watchdog_s(void);

#endif /* FL_UTIL_SYSTEMD_H */
