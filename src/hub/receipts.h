/*
 * receipts.h - delivery receipts to the devices (docs/mqtt.md, "Delivery
 * receipt"), queued and published at a pace the broker keeps up with.
 * See receipts.c.
 *
 * Main thread only (ingest queues, the main loop pumps). The queue owns
 * its copies of everything queued.
 */
#ifndef FL_HUB_RECEIPTS_H
#define FL_HUB_RECEIPTS_H

#include <stddef.h>

#include "bundles.h"
#include "client.h"
#include "db.h"
#include "hubconf.h"
#include "id.h"
#include "sign.h"

typedef struct hub_receipts hub_receipts;

/* At most this many direct publishes unacknowledged before the pump
 * waits (docs/hub.md, "Receipts and alerts under load"). */
#define HUB_RECEIPT_WINDOW 32
/* At most this many receipts queued; beyond it a re-send is cut short
 * (logged: the next time the device comes online sends them again). */
#define HUB_RECEIPT_QUEUE_MAX 50000

/* key (borrowed, outlives the queue): the hub key, which signs every
 * receipt. NULL out of memory. */
hub_receipts *hub_receipts_create(const fl_key *key);
void hub_receipts_destroy(hub_receipts *q); /* NULL-safe */

/* Queue the receipt of a bundle this message completed (done->complete;
 * nothing otherwise) for device at site. */
void hub_receipts_bundle(hub_receipts *q, const char *site, const char *device,
			 const char *incident_id, const hub_bundle_done *done);

/*
 * The device came back online (ingest.c, "A note on re-sent receipts"):
 * queue again the receipts of its verified bundles of the last
 * c->receipt_resend_days, newest first, at most FL_DB_RECEIPTS_MAX,
 * replacing whatever of this device is still queued. 0, or the store's
 * error (the caller holds the message and tries again).
 */
int hub_receipts_resend(hub_receipts *q, fl_db *db, const hub_conf *c,
			const char *site, const char *device, double now);

/*
 * The device asks for the receipts of the bundles ask[0..n) again (its
 * heartbeat's undelivered.ask; docs/mqtt.md, "Delivery receipt"): queue
 * those of its own incidents whose bundle the store holds verified (each
 * read by its manifest's row), unless receipts of this device are queued
 * already (they go first; the device asks again if it still lacks one).
 * Nothing with receipt_resend_days 0. A store error is logged (the
 * device asks again at its next ask).
 */
void hub_receipts_asked(hub_receipts *q, fl_db *db, const hub_conf *c,
			const char *site, const char *device,
			const char (*ask)[FL_INCIDENT_ID_MAX], size_t n);

/* Publish queued receipts (QoS 1, oldest batch first) while fewer than
 * HUB_RECEIPT_WINDOW direct publishes are unacknowledged; nothing while
 * offline. Each turn of the main loop. */
void hub_receipts_pump(hub_receipts *q, fl_mqtt *m);

/* Receipts queued, not yet published. */
size_t hub_receipts_queued(const hub_receipts *q);

#endif /* FL_HUB_RECEIPTS_H */
