/*
 * receipts.c - delivery receipts, queued and paced.
 *
 * A note on pace. A receipt tells an edge that the hub holds its bundle
 * verified, so the edge may let its copy go (docs/mqtt.md, "Delivery
 * receipt"). Most are single: one per bundle completed. But a device
 * that comes back online gets the receipts of up to FL_DB_RECEIPTS_MAX
 * bundles at once (ingest.c, "A note on re-sent receipts"), and publishing
 * ten thousand messages in one go overruns the MQTT client: Paho refuses
 * what exceeds its in-flight and buffer limits, after the publish call has
 * returned, and whatever else is published in that moment - the alarms
 * of other sites - is refused with it. So receipts are never published
 * directly: they wait in this queue, in batches per device (a re-send
 * replaces the device's batch, so a device that flaps costs one batch,
 * not one per reconnect), and the main loop publishes them while fewer
 * than HUB_RECEIPT_WINDOW direct publishes are unacknowledged
 * (fl_mqtt_unacked): the broker's PUBACKs set the pace. MQTT alerts go
 * out on a connection of their own (main.c, alerts_client), so receipts
 * never stand in their way (docs/hub.md, "Receipts and alerts under
 * load").
 *
 * Every receipt is signed with the hub key when it is published
 * (fl_msg_sign, FL_DOMAIN_HUB, over the receipt's bytes and its topic;
 * docs/mqtt.md, "Signed messages"): the edge lets a bundle go only on a
 * receipt the hub signed, so a broker client cannot make it drop evidence
 * the hub never had.
 *
 * Losing a receipt is the safe side (the edge keeps its bundle), so the
 * queue is memory only, bounded by HUB_RECEIPT_QUEUE_MAX, and a receipt
 * refused or lost is not retried: the device's next "online" sends its
 * receipts again.
 */
#include "receipts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"
#include "msgsign.h"
#include "receipt.h"
#include "topic.h"

enum { SINGLE, BACK_ONLINE, ASKED };

/* The queued receipts of one device, published from next on. */
struct batch {
	struct batch *next;
	char topic[FL_TOPIC_MAX];
	char device[FL_ID_MAX];
	fl_receipt *r;
	size_t n, at;
	int resend; /* BACK_ONLINE or ASKED: logged as one, not each */
};

struct hub_receipts {
	const fl_key *key; /* borrowed: the hub key */
	struct batch *head, *tail;
	size_t queued;
};

hub_receipts *hub_receipts_create(const fl_key *key)
{
	hub_receipts *q = calloc(1, sizeof(hub_receipts));

	if (q)
		q->key = key;
	return q;
}

static void batch_free(struct batch *b)
{
	if (b) {
		free(b->r);
		free(b);
	}
}

void hub_receipts_destroy(hub_receipts *q)
{
	if (!q)
		return;
	while (q->head) {
		struct batch *b = q->head;

		q->head = b->next;
		batch_free(b);
	}
	free(q);
}

/* Remove device's batches (a re-send replaces them). */
static void drop_device(hub_receipts *q, const char *device)
{
	struct batch **pp = &q->head, *last = NULL;

	while (*pp) {
		struct batch *b = *pp;

		if (strcmp(b->device, device)) {
			last = b;
			pp = &b->next;
			continue;
		}
		*pp = b->next;
		q->queued -= b->n - b->at;
		batch_free(b);
	}
	q->tail = last;
}

/* Append a batch of n receipts (taken: freed with the batch). */
static void append(hub_receipts *q, const char *site, const char *device,
		   fl_receipt *r, size_t n, int resend)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (!b) {
		fl_log(FL_LOG_ERROR, "evidence",
		       "%s: out of memory: %zu receipts not sent", device, n);
		free(r);
		return;
	}
	fl_receipt_topic(b->topic, sizeof(b->topic), site, device);
	snprintf(b->device, sizeof(b->device), "%s", device);
	b->r = r;
	b->n = n;
	b->resend = resend;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	q->queued += n;
}

void hub_receipts_bundle(hub_receipts *q, const char *site, const char *device,
			 const char *incident_id, const hub_bundle_done *done)
{
	fl_receipt *r;

	if (!done->complete)
		return;
	if (q->queued >= HUB_RECEIPT_QUEUE_MAX) {
		fl_log(FL_LOG_WARN, "evidence",
		       "%s: receipt not queued (%zu queued already); sent "
		       "again when the device next comes online",
		       incident_id, q->queued);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return;
	snprintf(r->incident_id, sizeof(r->incident_id), "%s", incident_id);
	r->verified = done->verified;
	memcpy(r->manifest_sha256, done->manifest_sha256,
	       sizeof(r->manifest_sha256));
	append(q, site, device, r, 1, SINGLE);
}

int hub_receipts_resend(hub_receipts *q, fl_db *db, const hub_conf *c,
			const char *site, const char *device, double now)
{
	fl_receipt *r = NULL;
	size_t n = 0, room;
	int rc;

	if (c->receipt_resend_days <= 0) {
		fl_log(FL_LOG_DEBUG, "evidence",
		       "%s: back online; receipts are not re-sent "
		       "(receipt_resend_days 0)",
		       device);
		return 0;
	}
	rc = fl_db_device_receipts(db, device,
				   now - c->receipt_resend_days * 86400,
				   FL_DB_RECEIPTS_MAX, &r, &n);
	if (rc) {
		fl_log(FL_LOG_ERROR, "evidence", "%s: receipts not re-sent: %s",
		       device, fl_strerror(rc));
		return rc;
	}
	drop_device(q, device);
	room = q->queued < HUB_RECEIPT_QUEUE_MAX
		       ? HUB_RECEIPT_QUEUE_MAX - q->queued
		       : 0;
	if (n > room)
		fl_log(FL_LOG_WARN, "evidence",
		       "%s: back online: %zu of %zu receipts queued (the "
		       "queue is full); the rest go the next time",
		       device, room, n);
	else if (n)
		fl_log(FL_LOG_INFO, "evidence",
		       "%s: back online: %zu receipts to re-send", device, n);
	if (n && room)
		append(q, site, device, r, FL_MIN(n, room), BACK_ONLINE);
	else
		free(r);
	return 0;
}

void hub_receipts_asked(hub_receipts *q, fl_db *db, const hub_conf *c,
			const char *site, const char *device,
			const char (*ask)[FL_INCIDENT_ID_MAX], size_t n)
{
	fl_receipt *r;
	size_t k = 0, dl = strlen(device);

	if (c->receipt_resend_days <= 0)
		return;
	for (struct batch *b = q->head; b; b = b->next)
		if (!strcmp(b->device, device))
			return; /* on their way */
	if (!(r = calloc(n ? n : 1, sizeof(*r))))
		return;
	/* each asked bundle's own row: its manifest's SHA-256, if verified;
	 * only the device's own incidents (<device>-...) */
	for (size_t i = 0; i < n; i++) {
		fl_db_evfile f;
		int rc;

		if (strncmp(ask[i], device, dl) || ask[i][dl] != '-')
			continue;
		rc = fl_db_evidence_file(db, ask[i], "manifest.json", &f);
		if (rc && rc != FL_ENOENT)
			fl_log(FL_LOG_ERROR, "evidence",
			       "%s: asked-for receipt not sent: %s", ask[i],
			       fl_strerror(rc));
		if (rc || f.verified != 1)
			continue;
		snprintf(r[k].incident_id, sizeof(r[k].incident_id), "%s",
			 ask[i]);
		r[k].verified = 1;
		memcpy(r[k].manifest_sha256, f.sha256,
		       sizeof(r[k].manifest_sha256));
		k++;
	}
	fl_log(FL_LOG_INFO, "evidence",
	       "%s: asks for %zu receipts; %zu of them held verified, sent "
	       "again",
	       device, n, k);
	if (k && q->queued < HUB_RECEIPT_QUEUE_MAX)
		append(q, site, device, r, k, ASKED);
	else
		free(r);
}

/* The receipt r as the device gets it: its JSON signed with the hub key
 * for topic. 0, or FL_EINVAL (never fits: a bug, not a state). */
static int signed_receipt(const hub_receipts *q, const char *topic,
			  const fl_receipt *r, char *out, size_t outlen,
			  size_t *n)
{
	char json[512];
	size_t len = fl_receipt_json(r, json, sizeof(json));

	if (len >= sizeof(json) || fl_msg_sign(q->key, FL_DOMAIN_HUB, topic,
					       json, len, out, outlen, n))
		return FL_EINVAL;
	return 0;
}

void hub_receipts_pump(hub_receipts *q, fl_mqtt *m)
{
	char buf[1024];
	size_t len;

	while (q->head && fl_mqtt_connected(m) &&
	       fl_mqtt_unacked(m) < HUB_RECEIPT_WINDOW) {
		struct batch *b = q->head;
		const fl_receipt *r = &b->r[b->at];

		if (signed_receipt(q, b->topic, r, buf, sizeof(buf), &len))
			fl_log(FL_LOG_ERROR, "evidence",
			       "%s: receipt cannot be signed; not sent",
			       r->incident_id);
		else if (fl_mqtt_publish(m, b->topic, buf, len, 1, 0))
			break; /* offline or refused at once: next turn */
		else if (!b->resend)
			fl_log(FL_LOG_INFO, "evidence", "%s: receipt sent (%s)",
			       r->incident_id,
			       r->verified ? "verified" : "failed");
		q->queued--;
		if (++b->at < b->n)
			continue;
		if (b->resend)
			fl_log(FL_LOG_INFO, "evidence",
			       "%s: %s: %zu receipts "
			       "re-sent",
			       b->device,
			       b->resend == ASKED ? "asked for" : "back online",
			       b->n);
		q->head = b->next;
		if (!q->head)
			q->tail = NULL;
		batch_free(b);
	}
}

size_t hub_receipts_queued(const hub_receipts *q)
{
	return q->queued;
}
