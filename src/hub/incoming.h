/*
 * incoming.h - what evidence being reassembled (<evidence_dir>/.incoming)
 * may take: a quota per device and in total, and a reserve of free space
 * kept for the store (docs/hub.md, "Budgets"). See incoming.c.
 *
 * Main thread only. conf is borrowed for the object's life.
 */
#ifndef FL_HUB_INCOMING_H
#define FL_HUB_INCOMING_H

#include <stddef.h>

#include "hubconf.h"

typedef struct hub_incoming hub_incoming;

/* Scans .incoming once. NULL out of memory. */
hub_incoming *hub_incoming_create(const hub_conf *conf);
void hub_incoming_destroy(hub_incoming *q); /* NULL-safe */

/* Count again what .incoming holds (bytes per incident folder); which
 * device a folder is of is kept from the chunks seen since the start. */
void hub_incoming_scan(hub_incoming *q);

/*
 * May device write `bytes` more for incident iid? 0; FL_ERANGE when that
 * exceeds the device's quota (incoming_device_max_mb) or the total
 * (incoming_max_mb) - the message's fault: the caller quarantines it;
 * FL_EFULL when the evidence folder's file system would be left with less
 * than evidence_reserve_mb free - transient: the caller holds the message.
 * The reason in err.
 */
int hub_incoming_check(hub_incoming *q, const char *device, const char *iid,
		       long long bytes, char *err, size_t errlen);

/* delta bytes were written to (> 0) or removed from (< 0) the folder of
 * incident iid of device. */
void hub_incoming_add(hub_incoming *q, const char *device, const char *iid,
		      long long delta);

/* The bytes counted for device (NULL: all). */
long long hub_incoming_bytes(const hub_incoming *q, const char *device);

#endif /* FL_HUB_INCOMING_H */
