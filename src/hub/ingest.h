/*
 * ingest.h - one message from the fleet into the store: validate, check the
 * sender, store idempotently, or quarantine. See ingest.c.
 *
 * Runs on the main thread (the MQTT client's on_message). The struct is
 * caller-owned; everything it points to is borrowed.
 */
#ifndef FL_HUB_INGEST_H
#define FL_HUB_INGEST_H

#include <stddef.h>

#include "alerts.h"
#include "db.h"
#include "hubconf.h"
#include "incoming.h"
#include "metrics.h"
#include "receipts.h"

typedef struct hub_ingest {
	const hub_conf *conf;   /* borrowed */
	fl_db *db;              /* borrowed */
	hub_alerts *alerts;     /* borrowed; NULL: no alerts */
	hub_receipts *receipts; /* borrowed; NULL: no delivery receipts */
	hub_incoming *incoming; /* borrowed; NULL: no .incoming quotas */
	hub_metrics *metrics;   /* borrowed; NULL: nothing counted */
	long stored, duplicates, quarantined, chunks, ignored;
	long unsigned_taken; /* unsigned messages taken (require_signed off) */
	long stale;          /* statuses and heartbeats older than the stored */
	char why[1024];      /* the last transient failure, for a person */
	/* the incident message this hub stored and then held because a later
	 * step failed ("" when none): offered again, it is the same message
	 * finishing, not a duplicate (ingest.c, "A note on counting") */
	char held_iid[FL_INCIDENT_ID_MAX];
	unsigned held_seq;
} hub_ingest;

/* The subscription filter: firelane/+/+/#, or $share/<group>/firelane/+/+/#
 * with mqtt.shared_group. */
void hub_ingest_filter(const hub_conf *c, char *buf, size_t len);

/*
 * Handle one message; now is the hub's wall clock. 0 when the message is
 * dealt with: stored, a duplicate, ignored, or quarantined and logged (what
 * is wrong with the message itself). A device's message is believed only
 * when its enrolled key signed it for its topic (docs/mqtt.md, "Signed
 * messages"). payload may be NULL when len is over max_payload (the MQTT
 * client did not copy it): such a message is ignored or quarantined by its
 * size alone. A negative fl_errno (one that fl_err_transient() names) when
 * it could not be stored through no fault of its own - a full, read-only
 * or failing disk, a busy store, the evidence folder below its reserve -
 * with the reason in h->why: the message must not be acknowledged, and
 * handling it again later is safe (ingest.c, "A note on failing").
 */
int hub_ingest_message(hub_ingest *h, const char *topic, const void *payload,
		       size_t len, double now);

#endif /* FL_HUB_INGEST_H */
