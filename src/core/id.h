/*
 * id.h - what an id is, once for the whole system.
 *
 * Devices, cameras and lanes are named by ids of 1..63 characters of
 * [A-Za-z0-9_.-]. An id is an MQTT topic level, a file name and a database
 * key, so it has none of the characters that mean something there ('/',
 * '+', '#', white space, control characters, anything non-ASCII). Incident
 * ids (<device>-<start>[-<camera>]-<lane>-<n>, made by the lane logic;
 * the camera on a device with several) are the same
 * characters, up to 127 of them. The edge's configuration, the hub's
 * message checks, the store's enrolment, evidence bundles and the delivery
 * receipt all ask fl_id_valid(); nothing else decides what an id is.
 *
 * The limits count the terminating NUL: a buffer of FL_ID_MAX bytes holds
 * any id, one of FL_INCIDENT_ID_MAX any incident id.
 */
#ifndef FL_ID_H
#define FL_ID_H

#include <stddef.h>

#define FL_ID_MAX 64           /* device, camera, lane: 1..63 characters */
#define FL_INCIDENT_ID_MAX 128 /* incident ids: 1..127 characters */

/* 1 when s is 1..max-1 characters of [A-Za-z0-9_.-], else 0 (NULL too). */
int fl_id_valid(const char *s, size_t max);

#endif /* FL_ID_H */
