/*
 * zone.h - what a time zone setting may say, once for the edge and the hub.
 *
 * A note on time zones. People read local time: a property manager in
 * Chongqing reads 19:39, not 11:39Z. So the hub (`timezone`) and the device
 * (`device.time_zone`) each name a zone, in one of three forms:
 *
 *   ""               the machine's own zone (/etc/localtime)
 *   "Asia/Shanghai"  a zone of the tz database (/usr/share/zoneinfo), with
 *                    its daylight-saving rules where it has them
 *   "+08:00", "Z"    a fixed offset east of UTC ("UTC" and "Z" are +00:00)
 *
 * This file only decides what is well formed and turns a fixed offset into
 * the POSIX TZ string that the C library understands ("+08:00" is
 * "<+0800>-08:00": POSIX counts west). Whether a named zone exists on the
 * machine, and making it the process's zone, is src/util/tz.h's (I/O).
 * Pure: no state.
 */
#ifndef FL_ZONE_H
#define FL_ZONE_H

#include <stddef.h>

#define FL_ZONE_MAX 64 /* a zone setting, with its NUL */

/* 1 when s is a well-formed zone setting: "", "UTC", "Z", "+HH:MM" /
 * "-HH:MM" (HH <= 14, MM <= 59), or a tz database name (1..63 characters
 * of [A-Za-z0-9_+-./], not starting with '/' or '.', without "..").
 * 0 otherwise, and for NULL. */
int fl_zone_valid(const char *s);

/* A fixed offset ("UTC", "Z", "+HH:MM", "-HH:MM") into seconds east of
 * UTC: 0 and *secs set, or FL_EINVAL (a zone name, "", or malformed). */
int fl_zone_fixed(const char *s, int *secs);

/* The POSIX TZ value for a fixed offset given in seconds east of UTC:
 * 28800 -> "<+0800>-08:00", -19800 -> "<-0530>+05:30". buf of len bytes
 * (>= 16). */
void fl_zone_posix(int secs, char *buf, size_t len);

/* An offset in seconds east of UTC as "+08:00" / "-05:30" (buf >= 8). */
void fl_zone_offset_text(int secs, char *buf, size_t len);

#endif /* FL_ZONE_H */
