/*
 * systemd.h - sd_notify without libsystemd. See systemd.c.
 */
#ifndef FL_EDGE_SYSTEMD_H
#define FL_EDGE_SYSTEMD_H

void sd_notify_msg(const char *msg);
double watchdog_interval(void);

#endif /* FL_EDGE_SYSTEMD_H */
