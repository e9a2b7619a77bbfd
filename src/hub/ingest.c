/*
 * ingest.c - from an MQTT message to a stored incident, or to quarantine.
 *
 * A note on trust. The broker lets any client publish on any topic its ACL
 * allows, and the hub cannot see who published a message, only its topic.
 * So the topic is the claim, the device's signature its proof, and the
 * store the judge (docs/security.md):
 *
 *   1. the topic's shape (msg.c; topics the hub does not read are dropped
 *      here), then the size, before any parsing of the payload;
 *   2. the device named by the topic must be enrolled (fl_db_device_get),
 *      and the topic's site must be the site it was enrolled for - a device
 *      publishing under another site's topic is refused;
 *   3. the payload must be signed by the enrolled key for this very topic
 *      (fl_msg_verify, docs/mqtt.md "Signed messages"): a broker client
 *      without the key cannot speak for a device, and a signed message
 *      moved to another topic does not verify. Unsigned messages are
 *      quarantined unless require_signed is off (devices from before
 *      signing, while they are upgraded); a bad signature always is. From
 *      here on only the body counts;
 *   4. the body must fit its schema, and the ids in it must be the
 *      topic's (msg.c): an incident id must start with "<device>-", so a
 *      device cannot write into another device's incidents;
 *   5. incident messages are stored idempotently on (incident_id, seq)
 *      (fl_db_ingest); only a message stored for the first time drives the
 *      alerts, so a redelivery after a reconnect alerts nobody twice. The
 *      pair stored with other bytes is no redelivery: quarantined and
 *      written to the audit log (the stored message stays); statuses and
 *      heartbeats are ordered by the connection epoch they carry
 *      (fl_db_device_status_at), so an old one replayed changes nothing;
 *   6. evidence chunks and the "evidence" list go to bundles.c, which
 *      verifies the bundle with the enrolled key; once the result is
 *      stored the device gets a delivery receipt (docs/mqtt.md), signed
 *      with the hub key and paced (receipts.c), so it may let its copy
 *      go - only a verified one (the edge checks that). A verified bundle
 *      never changes: a chunk or list that would change it is refused
 *      there (audited) and quarantined here, a list before it is stored
 *      as a message;
 *   7. a device coming back online (its status goes from anything else to
 *      "online") gets the receipts of its verified bundles again
 *      (receipts.c): the edge connects with clean start, so a receipt
 *      sent while it was away is lost, and without this its bundle would
 *      never be let go.
 *
 * Whatever fails a check is kept in the store's quarantine with the reason
 * (payloads cut to 64 KiB) and logged; it never becomes an incident. The
 * hub's own topics (firelane/<site>/alerts) and the edge's "direct" topics
 * the hub has no use for (state, settings, image, commands) are ignored.
 *
 * A note on failing. Two kinds of failure look alike here and must not be
 * confused: the message is wrong (a bad schema, an unknown device, a bad
 * signature, a chunk whose bytes do not match its hash, a device over its
 * evidence quota, a change to a sealed bundle), or the hub could not
 * store it (the database's disk full or read-only, the database busy, the
 * evidence folder full or below its reserve: the errors fl_err_transient()
 * names). The first kind is quarantined and the message is done with:
 * acknowledged, never to come again. The second is
 * returned to the caller without a quarantine row (that write would most
 * likely fail too), and the message is not acknowledged: the MQTT client
 * holds it and offers it again until it goes in (main.c; client.c, "A
 * note on holding a message"). A quarantine that cannot be written is the
 * second kind as well: acknowledging then would lose the message without
 * a trace, which is what quarantine exists to prevent.
 *   Every step is idempotent, so offering a message again is safe: the
 * store's (incident_id, seq) rule makes an incident message that went in
 * before a later step failed a duplicate, and that duplicate still runs
 * the later steps (the alerts, whose steps the store keeps to
 * once; the evidence list, which completes to the same result).
 *
 * A note on counting (GET /metrics; docs/hub.md, "Degraded mode"). An
 * incident message is counted once for what it is: ingested when the store
 * takes it for the first time, a duplicate when the store had it from an
 * earlier delivery that was done with. A message this hub stored and then
 * held (a later step failed) comes again as a duplicate in the store's
 * eyes, but it is the same delivery finishing, so it is counted as neither
 * again: held_iid/held_seq remember it (one is enough: everything behind a
 * held message waits) until it is done. The hub only knows its own: held
 * here and offered to another hub after a disconnect (a shared
 * subscription), or after a restart, it is that hub's duplicate.
 */
#include "ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundles.h"
#include "clock.h"
#include "fl.h"
#include "msg.h"
#include "msgsign.h"
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

/* Keep a refused message with its reason. 0, or the store's error when
 * the row could not be written (transient: the message is held). */
static int quarantine(hub_ingest *h, const char *topic, const void *payload,
		      size_t len, const char *reason, double now)
{
	/* payload NULL: too large, not even copied (hub_ingest_message) */
	size_t keep = payload ? FL_MIN(len, (size_t)QUARANTINE_KEEP) : 0;
	int rc = fl_db_quarantine(h->db, topic, payload, keep, reason, now);

	char shown[256];
	size_t i;

	/* the topic is the sender's text: no control bytes into the log */
	for (i = 0; topic[i] && i + 1 < sizeof(shown); i++)
		shown[i] = (unsigned char)topic[i] < 0x20 || topic[i] == 0x7f
				   ? '?'
				   : topic[i];
	shown[i] = 0;
	if (rc) {
		fl_seterr(h->why, sizeof(h->why),
			  "store: cannot quarantine %s%s: %s", shown,
			  topic[i] ? "..." : "", fl_strerror(rc));
		return fl_err_transient(rc) ? rc : FL_EIO;
	}
	h->quarantined++;
	hub_metrics_add(h->metrics, HUB_M_QUARANTINED, 1);
	fl_log(FL_LOG_WARN, "ingest", "quarantined %s%s (%zu bytes): %s", shown,
	       topic[i] ? "..." : "", len, reason);
	return 0;
}

/* A failure of step `what`: transient (returned, with the reason in
 * h->why: the message is held), or the message's own (quarantined). */
static int failed(hub_ingest *h, int rc, const char *what, const char *err,
		  const char *topic, const void *payload, size_t len,
		  double now)
{
	if (fl_err_transient(rc)) {
		fl_seterr(h->why, sizeof(h->why), "%s: %s", what,
			  err && err[0] ? err : fl_strerror(rc));
		return rc;
	}
	return quarantine(h, topic, payload, len, err && err[0] ? err : what,
			  now);
}

/*
 * A note on re-sent receipts. The edge starts every connection clean, so
 * a receipt published while it is away (network down, restarting) is lost
 * and its bundle stays undelivered there - never pruned. So when a device's
 * status becomes "online" (its status message, or a heartbeat if that
 * comes first) and the stored status was not (offline by its last will,
 * stopped, never heard), the hub queues the receipts of the device's
 * verified bundles whose incidents started in the last
 * receipt_resend_days, newest first, at most FL_DB_RECEIPTS_MAX, and
 * publishes them at the broker's pace (receipts.c). The edge takes a
 * repeat as "already delivered" and changes nothing.
 *
 * Only on that transition, not on every "online": the hub reconnecting
 * reads every device's retained "online" again, which is no transition
 * (the store already says online), so a hub restart sends nothing; a
 * device that flaps costs one batch, which replaces the one still
 * queued. Failed verifications are not re-sent: the edge keeps such a
 * bundle whatever the receipt says.
 *
 * The device was heard with status at its connection epoch (a heartbeat
 * says "online" too: the first of the two to arrive after a reconnect
 * makes the transition). A status older than the stored one (a replay, a
 * late heartbeat of an earlier connection) changes nothing and is only
 * counted (fl_db_device_status_at). An unreadable stored status counts as
 * a transition: a burst of repeats is cheaper than a bundle never let go.
 * The receipts are queued before the status is stored, so a store that
 * fails in between leaves a transition to be made again when the message
 * is offered again; an old "online" replayed while the device is away
 * queues them too, which the edge takes as repeats.
 */
static int seen(hub_ingest *h, const char *site, const char *device,
		const char *status, unsigned long long epoch, double now,
		const char *heartbeat)
{
	char was[16];
	int applied = 0, rc = 0;

	if (!strcmp(status, "online") &&
	    fl_db_device_status(h->db, device, was, sizeof(was)))
		was[0] = 0;
	if (!strcmp(status, "online") && strcmp(was, "online") && h->receipts)
		rc = hub_receipts_resend(h->receipts, h->db, h->conf, site,
					 device, now);
	if (rc == 0)
		rc = fl_db_device_status_at(h->db, device, status, epoch, now,
					    heartbeat, was, sizeof(was),
					    &applied);
	if (rc) {
		fl_seterr(h->why, sizeof(h->why), "store: %s %s: %s", device,
			  heartbeat ? "heartbeat" : status, fl_strerror(rc));
		return rc;
	}
	if (applied) {
		hub_metrics_ingested(h->metrics, heartbeat ? HUB_M_HEARTBEAT
							   : HUB_M_STATUS);
	} else {
		h->stale++;
		fl_log(FL_LOG_INFO, "fleet",
		       "%s: %s of epoch %llu is older than the stored status "
		       "(%s); ignored",
		       device, heartbeat ? "heartbeat" : status, epoch, was);
	}
	return 0;
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

/* An incident message: body (len bytes) is what its signature covered;
 * raw (rawlen) the whole payload, for the quarantine. */
static int incident(hub_ingest *h, const hub_topic *t, const char *site,
		    const unsigned char pk[32], const char *topic,
		    const void *raw, size_t rawlen, const void *payload,
		    size_t len, double now)
{
	hub_incident in;
	hub_file files[HUB_MAX_FILES];
	size_t nfiles = 0;
	char err[512];
	char *json = NULL;
	int dup = 0, stored = 0, rc;
	fl_db_msg m;
	int held;

	if (hub_incident_check(t, payload, len, &in, files, &nfiles, err,
			       sizeof(err)))
		return quarantine(h, topic, raw, rawlen, err, now);
	if (!strcmp(in.type, "evidence")) {
		hub_bundle_done done;

		err[0] = 0;
		rc = hub_evidence_list_check(h->db, t->device, in.incident_id,
					     files, nfiles, now, &done, err,
					     sizeof(err));
		if (rc < 0)
			return failed(h, rc, "evidence", err, topic, raw,
				      rawlen, now);
	}
	/* jansson accepted it, so it holds no NUL: it is text */
	json = text_of(payload, len);
	if (!json) {
		fl_seterr(h->why, sizeof(h->why), "out of memory");
		return FL_ENOMEM;
	}
	held = h->held_iid[0] && in.seq == h->held_seq &&
	       !strcmp(in.incident_id, h->held_iid);
	m = (fl_db_msg){ t->device, site,   t->camera, t->lane, in.incident_id,
			 in.type,   in.seq, in.wall,   json };
	err[0] = 0;
	rc = fl_db_ingest(h->db, &m, &dup, err, sizeof(err));
	if (rc == FL_EEXIST) /* the same (incident_id, seq), other bytes */
		fl_db_audit(h->db, "hub", "duplicate_conflict", in.incident_id,
			    err, now);
	if (rc) {
		rc = failed(h, rc, "store", err, topic, raw, rawlen, now);
		goto out;
	}
	stored = 1;
	if (dup && held) {
		fl_log(FL_LOG_INFO, "ingest",
		       "%s seq %u: stored before its later steps failed; "
		       "finishing them",
		       in.incident_id, in.seq);
	} else if (dup) {
		h->duplicates++;
		hub_metrics_add(h->metrics, HUB_M_DUPLICATES, 1);
		fl_log(FL_LOG_INFO, "ingest", "%s seq %u: duplicate, ignored",
		       in.incident_id, in.seq);
	} else {
		h->stored++;
		hub_metrics_ingested(h->metrics, HUB_M_INCIDENT);
		/* committed now; its own time is the device's (metrics.c) */
		hub_metrics_lag(h->metrics, fl_wall_s() - in.wall);
		fl_log(FL_LOG_INFO, "ingest", "%s seq %u: %s stored",
		       in.incident_id, in.seq, in.type);
	}
	/* a duplicate too: the step may have failed after the store took
	 * the message (the store keeps each alert step to once) */
	if (h->alerts && (rc = hub_alerts_incident(h->alerts, site, t->device,
						   t->camera, t->lane, &in))) {
		fl_seterr(h->why, sizeof(h->why), "alerts: %s: %s",
			  in.incident_id, fl_strerror(rc));
		goto out;
	}
	/* the list even when duplicate: completing a bundle is idempotent,
	 * and a hub stopped between the two steps finishes it here (and
	 * sends the receipt again, which the edge takes as often as it
	 * comes) */
	if (!strcmp(in.type, "evidence")) {
		hub_bundle_done done;

		err[0] = 0;
		rc = hub_evidence_list(h->conf->evidence_dir, h->db, t->device,
				       in.incident_id, files, nfiles, pk, now,
				       &done, err, sizeof(err));
		if (rc && fl_err_transient(rc)) {
			fl_seterr(h->why, sizeof(h->why), "evidence %s: %s",
				  in.incident_id, err);
			goto out;
		}
		if (rc) /* the message is stored: logged, not quarantined */
			fl_log(FL_LOG_ERROR, "ingest", "%s: evidence: %s",
			       in.incident_id, err);
		else if (h->receipts)
			hub_receipts_bundle(h->receipts, site, t->device,
					    in.incident_id, &done);
		rc = 0;
	}
out:
	/* stored, then held: its next offer is this one finishing */
	if (stored && rc < 0) {
		snprintf(h->held_iid, sizeof(h->held_iid), "%s",
			 in.incident_id);
		h->held_seq = in.seq;
	} else if (stored && held) {
		h->held_iid[0] = 0;
	}
	free(json);
	return rc;
}

/*
 * Step 3 of the note on trust: whether payload is the device's own word
 * for this topic. 1 and the body (*body, *blen: what the signature
 * covered, or the whole payload of an unsigned message taken while
 * require_signed is off; *is_signed says which); 0 with the reason in err.
 */
static int signed_by(hub_ingest *h, const hub_topic *t,
		     const unsigned char pk[32], const char *topic,
		     const void *payload, size_t len, const void **body,
		     size_t *blen, int *is_signed, char *err, size_t errlen)
{
	fl_envelope env;
	char why[256];
	int rc = fl_msg_verify(pk, FL_DOMAIN_DEVICE, topic, payload, len, &env,
			       why, sizeof(why));

	if (rc == FL_ENOENT && !h->conf->require_signed) {
		h->unsigned_taken++;
		fl_log(FL_LOG_DEBUG, "ingest",
		       "%s: unsigned message taken (require_signed off)",
		       t->device);
	} else if (rc == FL_ENOENT) {
		snprintf(err, errlen,
			 "unsigned: device %s's messages must be signed by its "
			 "enrolled key (require_signed)",
			 t->device);
		return 0;
	} else if (rc) {
		snprintf(err, errlen, "signature: %s", why);
		return 0;
	}
	*body = env.body;
	*blen = env.body_len;
	*is_signed = rc == 0;
	return 1;
}

/* A signed status or heartbeat must carry its connection epoch: without
 * one it would always apply, and an old copy could rewrite the present. */
#define EPOCH_MISSING "a signed status or heartbeat without an epoch"

int hub_ingest_message(hub_ingest *h, const char *topic, const void *payload,
		       size_t len, double now)
{
	hub_bundle_done done;
	hub_topic t;
	char err[1024], site[HUB_SITE_MAX], lvl[HUB_SITE_MAX];
	char pkb64[128], status[16];
	unsigned char pk[32];
	unsigned long long epoch;
	hub_heartbeat hb;
	const void *body;
	size_t blen;
	int is_signed = 0;
	char *json;
	hub_chunk ch;
	int rc;

	h->why[0] = 0;
	if (hub_topic_parse(topic, &t, err, sizeof(err)))
		return quarantine(h, topic, payload, len, err, now);
	/* the retained JPEG on .../image may be large: not ours to judge */
	if (t.kind == HUB_MSG_OWN || t.kind == HUB_MSG_IGNORED) {
		h->ignored++;
		hub_metrics_add(h->metrics, HUB_M_IGNORED, 1);
		return 0;
	}
	if (len > h->conf->max_payload) {
		snprintf(err, sizeof(err),
			 "payload of %zu bytes exceeds max_payload %zu", len,
			 h->conf->max_payload);
		return quarantine(h, topic, payload, len, err, now);
	}
	rc = fl_db_device_get(h->db, t.device, site, sizeof(site), pkb64,
			      sizeof(pkb64));
	if (rc == FL_ENOENT) {
		snprintf(err, sizeof(err), "device %s is not enrolled",
			 t.device);
		return quarantine(h, topic, payload, len, err, now);
	}
	if (rc)
		return failed(h, rc, "store: devices", NULL, topic, payload,
			      len, now);
	fl_topic_level(site, lvl, sizeof(lvl));
	if (strcmp(lvl, t.site)) {
		snprintf(err, sizeof(err),
			 "device %s is enrolled for site '%s', not '%s'",
			 t.device, site, t.site);
		return quarantine(h, topic, payload, len, err, now);
	}
	if (fl_key_public_from_b64(pkb64, pk)) {
		snprintf(err, sizeof(err), "device %s: enrolled key unreadable",
			 t.device);
		return quarantine(h, topic, payload, len, err, now);
	}
	if (!signed_by(h, &t, pk, topic, payload, len, &body, &blen, &is_signed,
		       err, sizeof(err)))
		return quarantine(h, topic, payload, len, err, now);
	switch (t.kind) {
	case HUB_MSG_STATUS:
		if (hub_status_check(body, blen, status, sizeof(status), &epoch,
				     err, sizeof(err)))
			return quarantine(h, topic, payload, len, err, now);
		if (is_signed && !epoch)
			return quarantine(h, topic, payload, len, EPOCH_MISSING,
					  now);
		return seen(h, site, t.device, status, epoch, now, NULL);
	case HUB_MSG_HEARTBEAT:
		if (hub_heartbeat_check(body, blen, &hb, err, sizeof(err)))
			return quarantine(h, topic, payload, len, err, now);
		if (is_signed && !hb.epoch)
			return quarantine(h, topic, payload, len, EPOCH_MISSING,
					  now);
		json = text_of(body, blen);
		if (!json) {
			fl_seterr(h->why, sizeof(h->why), "out of memory");
			return FL_ENOMEM;
		}
		rc = seen(h, site, t.device, "online", hb.epoch, now, json);
		free(json);
		/* an apply whose answer never came, taken by what runs */
		if (rc == 0 && hb.config_version > 0 &&
		    fl_db_config_heard(h->db, t.device, (int)hb.config_version,
				       now) == 0)
			fl_log(FL_LOG_INFO, "fleet",
			       "%s: configuration %ld applied (its heartbeat "
			       "says so)",
			       t.device, hb.config_version);
		/* receipts the device still waits for (publish.c on the
		 * edge, "A note on asking for receipts"); a store error here
		 * loses nothing: the device asks again */
		if (rc == 0 && hb.nask && h->receipts)
			hub_receipts_asked(h->receipts, h->db, h->conf, site,
					   t.device, hb.ask, hb.nask);
		return rc;
	case HUB_MSG_CAMERA_EVENT: {
		char ty[32], why[256];

		if (hub_camera_event_check(&t, body, blen, ty, sizeof(ty), why,
					   sizeof(why), err, sizeof(err)))
			return quarantine(h, topic, payload, len, err, now);
		fl_log(FL_LOG_INFO, "fleet", "%s/%s: %.*s", t.device, t.camera,
		       (int)(blen > 300 ? 300 : blen), (const char *)body);
		rc = fl_db_device_seen(h->db, t.device, NULL, now, NULL);
		if (rc == 0)
			rc = fl_db_camera_event(h->db, t.device, t.camera, ty,
						why, now);
		if (rc)
			return failed(h, rc, "store: camera event", NULL, topic,
				      payload, len, now);
		hub_metrics_ingested(h->metrics, HUB_M_CAMERA);
		return 0;
	}
	case HUB_MSG_INCIDENT:
		return incident(h, &t, site, pk, topic, payload, len, body,
				blen, now);
	case HUB_MSG_EVIDENCE: {
		const char *nl = memchr(payload, '\n', len);
		/* quarantined: the envelope and the header only, the bytes
		 * are the fault */
		size_t hl = nl ? (size_t)(nl - (const char *)payload) : len;

		if (hub_chunk_check(&t, body, blen, &ch, err, sizeof(err)))
			return quarantine(h, topic, payload, hl, err, now);
		err[0] = 0;
		rc = hub_evidence_chunk(h->conf->evidence_dir, h->db,
					h->incoming, t.device, &ch, pk, now,
					&done, err, sizeof(err));
		if (rc)
			return failed(h, rc, "evidence", err, topic, payload,
				      hl, now);
		h->chunks++;
		hub_metrics_ingested(h->metrics, HUB_M_EVIDENCE);
		hub_metrics_add(h->metrics, HUB_M_EVIDENCE_BYTES, ch.len);
		if (h->receipts)
			hub_receipts_bundle(h->receipts, site, t.device,
					    ch.incident_id, &done);
		return 0;
	}
	default:
		return 0;
	}
}
