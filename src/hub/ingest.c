/*
 * ingest.c - from an MQTT message to a stored incident, or to quarantine.
 *
 * A note on trust. The broker lets any client publish on any topic its ACL
 * allows, and the hub cannot see who published a message, only its topic.
 * So the topic is the claim and the store is the judge:
 *
 *   1. the topic's shape (msg.c; topics the hub does not read are dropped
 *      here), then the size, before any parsing of the payload;
 *   2. the device named by the topic must be enrolled (fl_db_device_get),
 *      and the topic's site must be the site it was enrolled for - a device
 *      publishing under another site's topic is refused;
 *   3. the payload must fit its schema, and the ids in it must be the
 *      topic's (msg.c): an incident id must start with "<device>-", so a
 *      device cannot write into another device's incidents;
 *   4. incident messages are stored idempotently on (incident_id, seq)
 *      (fl_db_ingest); only a message stored for the first time drives the
 *      alerts, so a redelivery after a reconnect alerts nobody twice;
 *   5. evidence chunks and the "evidence" list go to bundles.c, which
 *      verifies the bundle with the enrolled key; once the result is
 *      stored the device gets a delivery receipt (docs/mqtt.md) so it may
 *      let its copy go - only a verified one (the edge checks that);
 *   6. a device coming back online (its status goes from anything else to
 *      "online") gets the receipts of its verified bundles again
 *      (resend_receipts): the edge connects with clean start, so a receipt
 *      sent while it was away is lost, and without this its bundle would
 *      never be let go.
 *
 * Whatever fails a check is kept in the store's quarantine with the reason
 * (payloads cut to 64 KiB) and logged; it never becomes an incident. The
 * hub's own topics (firelane/<site>/alerts) and the edge's "direct" topics
 * the hub has no use for (state, settings, image, commands) are ignored.
 */
#include "ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundles.h"
#include "fl.h"
#include "msg.h"
#include "receipt.h"
#include "sign.h"
#include "topic.h"

#define QUARANTINE_KEEP 65536

void hub_ingest_filter(const hub_conf *c, char *buf, size_t len)
{
	if (c->mqtt.shared_group[0])
		snprintf(buf, len, "$share/%s/firelane/+/+/#",
			 c->mqtt.shared_group);
	else
		snprintf(buf, len, "firelane/+/+/#");
}

static void quarantine(hub_ingest *h, const char *topic, const void *payload,
		       size_t len, const char *reason, double now)
{
	int rc = fl_db_quarantine(h->db, topic, payload,
				  len > QUARANTINE_KEEP ? QUARANTINE_KEEP : len,
				  reason, now);

	char shown[256];
	size_t i;

	/* the topic is the sender's text: no control bytes into the log */
	for (i = 0; topic[i] && i + 1 < sizeof(shown); i++)
		shown[i] = (unsigned char)topic[i] < 0x20 || topic[i] == 0x7f
				   ? '?'
				   : topic[i];
	shown[i] = 0;
	h->quarantined++;
	fl_log(FL_LOG_WARN, "ingest", "quarantined %s%s (%zu bytes): %s%s",
	       shown, topic[i] ? "..." : "", len, reason,
	       rc ? " (and the store refused it)" : "");
}

/* A NUL-terminated copy of a payload (JSON text for the store). */
/*
 * The delivery receipt for a bundle just stored (verified or not) to its
 * device, QoS 1. A receipt lost (the broker away) only leaves the bundle
 * undelivered on the edge, which is the safe side; the next copy of the
 * bundle's list brings another.
 */
static void receipt(hub_ingest *h, const char *site, const char *device,
		    const char *incident_id, const hub_bundle_done *done)
{
	char topic[FL_TOPIC_MAX], buf[512];
	fl_receipt r;
	size_t n;

	if (!done->complete || !h->mqtt)
		return;
	memset(&r, 0, sizeof(r));
	snprintf(r.incident_id, sizeof(r.incident_id), "%s", incident_id);
	r.verified = done->verified;
	memcpy(r.manifest_sha256, done->manifest_sha256,
	       sizeof(r.manifest_sha256));
	fl_receipt_topic(topic, sizeof(topic), site, device);
	n = fl_receipt_json(&r, buf, sizeof(buf));
	if (n >= sizeof(buf) || fl_mqtt_publish(h->mqtt, topic, buf, n, 1, 0))
		fl_log(FL_LOG_WARN, "evidence",
		       "%s: receipt not sent "
		       "(offline)",
		       incident_id);
	else
		fl_log(FL_LOG_INFO, "evidence", "%s: receipt sent (%s)",
		       incident_id, r.verified ? "verified" : "failed");
}

/*
 * A note on re-sent receipts. The edge starts every connection clean, so
 * a receipt published while it is away (network down, restarting) is lost
 * and its bundle stays undelivered there - never pruned. So when a device's
 * status becomes "online" (its status message, or a heartbeat if that
 * comes first) and the stored status was not (offline by its last will,
 * stopped, never heard), the hub publishes the receipts of the device's
 * verified bundles whose incidents started in the last
 * receipt_resend_days, newest first, at most FL_DB_RECEIPTS_MAX. The edge
 * takes a repeat as "already delivered" and changes nothing.
 *
 * Only on that transition, not on every "online": the hub reconnecting
 * reads every device's retained "online" again, which is no transition
 * (the store already says online), so a hub restart sends nothing; a
 * device that flaps costs one burst per reconnect, bounded by the window.
 * Failed verifications are not re-sent: the edge keeps such a bundle
 * whatever the receipt says.
 */
static void resend_receipts(hub_ingest *h, const char *site, const char *device,
			    double now)
{
	char topic[FL_TOPIC_MAX], buf[512];
	fl_receipt *r = NULL;
	size_t n = 0, i, len;
	int rc;

	if (!h->mqtt)
		return;
	if (h->conf->receipt_resend_days <= 0) {
		fl_log(FL_LOG_DEBUG, "evidence",
		       "%s: back online; receipts "
		       "are not re-sent (receipt_resend_days 0)",
		       device);
		return;
	}
	rc = fl_db_device_receipts(h->db, device,
				   now - h->conf->receipt_resend_days * 86400,
				   FL_DB_RECEIPTS_MAX, &r, &n);
	if (rc) {
		fl_log(FL_LOG_ERROR, "evidence", "%s: receipts not re-sent: %s",
		       device, fl_strerror(rc));
		return;
	}
	fl_receipt_topic(topic, sizeof(topic), site, device);
	for (i = 0; i < n; i++) {
		len = fl_receipt_json(&r[i], buf, sizeof(buf));
		if (len >= sizeof(buf) ||
		    fl_mqtt_publish(h->mqtt, topic, buf, len, 1, 0))
			break;
	}
	if (i < n)
		fl_log(FL_LOG_WARN, "evidence",
		       "%s: back online: %zu of %zu "
		       "receipts re-sent (offline)",
		       device, i, n);
	else if (n)
		fl_log(FL_LOG_INFO, "evidence",
		       "%s: back online: %zu receipts "
		       "re-sent",
		       device, n);
	free(r);
}

/*
 * The device was heard with status (a heartbeat says "online" too: the
 * first of the two to arrive after a reconnect makes the transition). An
 * unreadable stored status counts as a transition: a burst of repeats is
 * cheaper than a bundle never let go.
 */
static void seen(hub_ingest *h, const char *site, const char *device,
		 const char *status, double now, const char *heartbeat)
{
	char was[16];

	if (!strcmp(status, "online") &&
	    fl_db_device_status(h->db, device, was, sizeof(was)))
		was[0] = 0;
	fl_db_device_seen(h->db, device, status, now, heartbeat);
	if (!strcmp(status, "online") && strcmp(was, "online"))
		resend_receipts(h, site, device, now);
}

static char *text_of(const void *payload, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		memcpy(s, payload, len);
		s[len] = 0;
	}
	return s;
}

static void incident(hub_ingest *h, const hub_topic *t, const char *site,
		     const unsigned char pk[32], const char *topic,
		     const void *payload, size_t len, double now)
{
	hub_incident in;
	hub_file files[HUB_MAX_FILES];
	size_t nfiles = 0;
	char err[512];
	char *json = NULL;
	int dup = 0, rc;
	fl_db_msg m;

	if (hub_incident_check(t, payload, len, &in, files, &nfiles, err,
			       sizeof(err))) {
		quarantine(h, topic, payload, len, err, now);
		return;
	}
	/* jansson accepted it, so it holds no NUL: it is text */
	json = text_of(payload, len);
	if (!json) {
		fl_log(FL_LOG_ERROR, "ingest", "out of memory");
		return;
	}
	m = (fl_db_msg){ t->device, site,   t->camera, t->lane, in.incident_id,
			 in.type,   in.seq, in.wall,   json };
	rc = fl_db_ingest(h->db, &m, &dup, err, sizeof(err));
	if (rc) {
		quarantine(h, topic, payload, len, err, now);
		goto out;
	}
	if (dup) {
		h->duplicates++;
		fl_log(FL_LOG_INFO, "ingest", "%s seq %u: duplicate, ignored",
		       in.incident_id, in.seq);
	} else {
		h->stored++;
		fl_log(FL_LOG_INFO, "ingest", "%s seq %u: %s stored",
		       in.incident_id, in.seq, in.type);
		if (h->alerts)
			hub_alerts_incident(h->alerts, site, t->device,
					    t->camera, t->lane, in.incident_id,
					    in.type, in.wall);
	}
	/* the list even when duplicate: completing a bundle is idempotent,
	 * and a hub stopped between the two steps finishes it here (and
	 * sends the receipt again, which the edge takes as often as it
	 * comes) */
	if (!strcmp(in.type, "evidence")) {
		hub_bundle_done done;

		if (hub_evidence_list(h->conf->evidence_dir, h->db,
				      in.incident_id, files, nfiles, pk, &done,
				      err, sizeof(err)))
			fl_log(FL_LOG_ERROR, "ingest", "%s: evidence: %s",
			       in.incident_id, err);
		else
			receipt(h, site, t->device, in.incident_id, &done);
	}
out:
	free(json);
}

void hub_ingest_message(hub_ingest *h, const char *topic, const void *payload,
			size_t len, double now)
{
	hub_bundle_done done;
	hub_topic t;
	char err[1024], site[HUB_SITE_MAX], lvl[HUB_SITE_MAX];
	char pkb64[128], status[16];
	unsigned char pk[32];
	char *json;
	hub_chunk ch;

	if (hub_topic_parse(topic, &t, err, sizeof(err))) {
		quarantine(h, topic, payload, len, err, now);
		return;
	}
	/* the retained JPEG on .../image may be large: not ours to judge */
	if (t.kind == HUB_MSG_OWN || t.kind == HUB_MSG_IGNORED) {
		h->ignored++;
		return;
	}
	if (len > h->conf->max_payload) {
		snprintf(err, sizeof(err),
			 "payload of %zu bytes exceeds max_payload %zu", len,
			 h->conf->max_payload);
		quarantine(h, topic, payload, len, err, now);
		return;
	}
	if (fl_db_device_get(h->db, t.device, site, sizeof(site), pkb64,
			     sizeof(pkb64))) {
		snprintf(err, sizeof(err), "device %s is not enrolled",
			 t.device);
		quarantine(h, topic, payload, len, err, now);
		return;
	}
	fl_topic_level(site, lvl, sizeof(lvl));
	if (strcmp(lvl, t.site)) {
		snprintf(err, sizeof(err),
			 "device %s is enrolled for site '%s', not '%s'",
			 t.device, site, t.site);
		quarantine(h, topic, payload, len, err, now);
		return;
	}
	if (fl_key_public_from_b64(pkb64, pk)) {
		snprintf(err, sizeof(err), "device %s: enrolled key unreadable",
			 t.device);
		quarantine(h, topic, payload, len, err, now);
		return;
	}
	switch (t.kind) {
	case HUB_MSG_STATUS:
		if (hub_status_check(payload, len, status, sizeof(status), err,
				     sizeof(err))) {
			quarantine(h, topic, payload, len, err, now);
			break;
		}
		seen(h, site, t.device, status, now, NULL);
		break;
	case HUB_MSG_HEARTBEAT:
		if (hub_json_object_check(payload, len, err, sizeof(err))) {
			quarantine(h, topic, payload, len, err, now);
			break;
		}
		json = text_of(payload, len);
		if (json)
			seen(h, site, t.device, "online", now, json);
		free(json);
		break;
	case HUB_MSG_CAMERA_EVENT: {
		char ty[32], why[256];
		int rc;

		if (hub_camera_event_check(&t, payload, len, ty, sizeof(ty),
					   why, sizeof(why), err, sizeof(err))) {
			quarantine(h, topic, payload, len, err, now);
			break;
		}
		fl_log(FL_LOG_INFO, "fleet", "%s/%s: %.*s", t.device, t.camera,
		       (int)(len > 300 ? 300 : len), (const char *)payload);
		fl_db_device_seen(h->db, t.device, NULL, now, NULL);
		rc = fl_db_camera_event(h->db, t.device, t.camera, ty, why,
					now);
		if (rc)
			fl_log(FL_LOG_ERROR, "fleet",
			       "%s/%s: camera event not "
			       "stored: %s",
			       t.device, t.camera, fl_strerror(rc));
		break;
	}
	case HUB_MSG_INCIDENT:
		incident(h, &t, site, pk, topic, payload, len, now);
		break;
	case HUB_MSG_EVIDENCE:
		if (hub_chunk_check(&t, payload, len, &ch, err, sizeof(err)) ||
		    hub_evidence_chunk(h->conf->evidence_dir, h->db, &ch, pk,
				       &done, err, sizeof(err))) {
			const char *nl = memchr(payload, '\n', len);
			/* keep the header only: the bytes are the fault */
			quarantine(h, topic, payload,
				   nl ? (size_t)(nl - (const char *)payload)
				      : len,
				   err, now);
			break;
		}
		h->chunks++;
		receipt(h, site, t.device, ch.incident_id, &done);
		break;
	default:
		break;
	}
}
