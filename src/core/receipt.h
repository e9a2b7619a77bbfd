/*
 * receipt.h - the hub's delivery receipt for an evidence bundle (docs/mqtt.md,
 * "Delivery receipt"): hub -> edge on firelane/<site>/<device>/receipt, QoS 1,
 * not retained. Pure: formatting and a strict parser, no I/O.
 *
 *   {"incident_id": "...", "verified": true, "manifest_sha256": "<64 hex>"}
 *
 * The hub sends one each time it has stored an incident's bundle and its
 * verification result; the edge marks its copy delivered (retention may
 * prune it) only when `verified` is true and manifest_sha256 is the SHA-256
 * of the manifest.json it holds for that incident.
 */
#ifndef FL_RECEIPT_H
#define FL_RECEIPT_H

#include <stddef.h>

#include "id.h"

typedef struct fl_receipt {
	char incident_id[FL_INCIDENT_ID_MAX];
	int verified;             /* 1: the hub verified the bundle */
	char manifest_sha256[65]; /* lowercase hex of manifest.json */
} fl_receipt;

/* The receipt topic of a device: firelane/<site level>/<device>/receipt
 * (the site as one topic level, fl_topic_level). snprintf semantics. */
size_t fl_receipt_topic(char *buf, size_t len, const char *site,
			const char *device);

/* The payload (the document's example form). snprintf semantics. */
size_t fl_receipt_json(const fl_receipt *r, char *buf, size_t len);

/*
 * Parse a payload strictly: one JSON object with exactly the three keys
 * (each once, any order), an id of [A-Za-z0-9_.-] 1..127, true or false,
 * 64 lowercase hex digits; strings without escapes; nothing after it but
 * white space. 0, or FL_EINVAL with the reason in err (out is then
 * unspecified).
 */
int fl_receipt_parse(const void *payload, size_t len, fl_receipt *out,
		     char *err, size_t errlen);

#endif /* FL_RECEIPT_H */
