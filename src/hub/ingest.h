/*
 * ingest.h - one message from the fleet into the store: validate, check the
 * sender, store idempotently, or quarantine. See ingest.c.
 *
 * Runs on the main thread (the MQTT client's on_message). The struct is
 * caller-owned; everything in it is borrowed.
 */
#ifndef FL_HUB_INGEST_H
#define FL_HUB_INGEST_H

#include <stddef.h>

#include "alerts.h"
#include "client.h"
#include "db.h"
#include "hubconf.h"
#include "sign.h"

typedef struct hub_ingest {
	const hub_conf *conf; /* borrowed */
	fl_db *db;            /* borrowed */
	hub_alerts *alerts;   /* borrowed; NULL: no alerts */
	fl_mqtt *mqtt;        /* borrowed; NULL: no delivery receipts */
	const fl_key *key;    /* borrowed: the hub key, signs receipts */
	long stored, duplicates, quarantined, chunks, ignored;
	long unsigned_taken; /* unsigned messages taken (require_signed off) */
	long stale;          /* statuses and heartbeats older than the stored */
} hub_ingest;

/* The subscription filter: firelane/+/+/#, or $share/<group>/firelane/+/+/#
 * with mqtt.shared_group. */
void hub_ingest_filter(const hub_conf *c, char *buf, size_t len);

/* Handle one message; now is the hub's wall clock. Never fails: what it
 * cannot take is quarantined (fl_db_quarantine) and logged. A device's
 * message is believed only when its enrolled key signed it for its topic
 * (docs/mqtt.md, "Signed messages"). payload may be NULL when len is over
 * max_payload (the MQTT client did not copy it): such a message is
 * ignored or quarantined by its size alone. */
void hub_ingest_message(hub_ingest *h, const char *topic, const void *payload,
			size_t len, double now);

#endif /* FL_HUB_INGEST_H */
