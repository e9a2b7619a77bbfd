/*
 * systemd.h - telling systemd how the edge is doing (sd_notify), without
 * libsystemd: readiness, reloads, stopping, and the watchdog. Every call
 * is nothing at all when the edge was not started by systemd.
 */
#ifndef FL_EDGE_SYSTEMD_H
#define FL_EDGE_SYSTEMD_H

/* One notification ("READY=1", "RELOADING=1", "WATCHDOG=1", ...) to
 * $NOTIFY_SOCKET. Failures are logged at debug level only. */
void edge_sd_notify(const char *msg);

/* How often to feed the watchdog: half of $WATCHDOG_USEC, in seconds, or
 * 0 when systemd asked for no watchdog (or asked another process). */
double edge_sd_watchdog_s(void);

#endif /* FL_EDGE_SYSTEMD_H */
