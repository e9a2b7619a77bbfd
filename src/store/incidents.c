/*
 * incidents.c - an incident's state from its messages, its outcomes, and
 * the incident list and one incident as JSON (db.h has the contracts).
 * Backend-neutral: the rows come and go through backend.h.
 *
 * A note on ingest. Messages of one incident may arrive twice (after a
 * reconnect) or out of order (a spool replayed after a restart), so the
 * incident row is a function of the set of its messages, not of their
 * order:
 *
 *   - a message is stored once: (incident_id, seq) already there is a
 *     duplicate, nothing changes;
 *   - the status follows the highest seq that sets one (status_of): later
 *     messages win whatever order they came in; "warned" only sets
 *     "occupied" when there is no status yet (a warning repeated after the
 *     alarm must not take it back), evidence sets none;
 *   - times keep the earliest value seen: rest_since (from the message's
 *     rest_since_s and video_time_s), occupied (any message), alarm,
 *     cleared, closed (cleared, vacated or interrupted); start is
 *     rest_since, else occupied;
 *   - site, camera and lane are kept from the first message that names
 *     them; bbox, class and the site's and lane's display names
 *     (site_name, lane_name) follow the newest message that has them;
 *   - the plate: a message that names one (a device's read, docs/mqtt.md
 *     "Plate"; null = unread names none) sets it with plate_by 'device',
 *     unless a person set the plate (fl_db_plate_set): a read never
 *     overwrites a person's correction. Among reads the last one applied
 *     wins (the evidence message's vote, over all the stills, normally
 *     comes after the alarm's).
 *
 * All of it happens in one transaction (or savepoint, in a batch) with the
 * message row, so a crash stores both or neither. The message row's unique
 * key (incident_id, seq) is the last word on duplicates: when another
 * writer stored the same message meanwhile (two hub workers on a backend
 * that lets them run at once), the transaction is rolled back as a
 * duplicate.
 *
 * A note on a duplicate that is not one. The edge sends a message again
 * byte for byte (docs/mqtt.md, "Store-and-forward"), so a second message
 * with a stored (incident_id, seq) and other bytes is no redelivery: it is
 * a fault or a forgery (a client that sent seq 2-12 of a new incident as
 * "vacated" ahead of the real edge would otherwise have made the hub drop
 * the real alarm as a duplicate). It changes nothing and is refused with
 * FL_EEXIST, so the caller can quarantine it and write it to the audit
 * log; the stored message stays what it was.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db_internal.h"
#include "fl.h"
#include "plate.h"

/* What a message type does to the incident's status: the status it sets,
 * and whether it only sets one when there is none yet (warned repeats after
 * the alarm must not take it back to occupied). */
static const char *status_of(const char *type, int *weak)
{
	*weak = 0;
	if (!strcmp(type, "occupied"))
		return "occupied";
	if (!strcmp(type, "warned")) {
		*weak = 1;
		return "occupied";
	}
	if (!strcmp(type, "alarm") || !strcmp(type, "escalated"))
		return "alarm";
	if (!strcmp(type, "cleared") || !strcmp(type, "vacated") ||
	    !strcmp(type, "interrupted"))
		return type;
	return NULL; /* evidence, anything newer */
}

/* *t = v when v is earlier (or *t is absent). */
static void earliest(double *t, double v)
{
	if (isnan(*t) || v < *t)
		*t = v;
}

/* *field = a copy of v (the old value freed). 0 or FL_ENOMEM. */
static int set_text(char **field, const char *v)
{
	char *d = strdup(v);

	if (!d)
		return FL_ENOMEM;
	free(*field);
	*field = d;
	return 0;
}

/* Keep the first non-NULL value: v only when *field is NULL. */
static int keep_first(char **field, const char *v)
{
	return *field || !v ? 0 : set_text(field, v);
}

/* The new incident row of m's device, every time absent. */
static int incident_new(fl__db_incident *r, const fl_db_msg *m)
{
	memset(r, 0, sizeof(*r));
	r->start = r->rest_since = r->occupied = r->alarm = r->cleared =
		r->closed = NAN;
	return set_text(&r->device, m->device);
}

/* What the message says beyond the envelope (m->json, when it parses):
 * rest_since, bbox, class and the display names into r, the plate it
 * names into *plate (a copy, or NULL; the rules of the note above). */
static int apply_payload(fl__db_incident *r, const fl_db_msg *m, char **plate)
{
	json_t *j = m->json ? json_loads(m->json, 0, NULL) : NULL, *v;
	int newest = (long long)m->seq >= r->last_seq, rc = 0;

	if (!json_is_object(j))
		goto out;
	{
		json_t *vt = json_object_get(j, "video_time_s");
		json_t *rs = json_object_get(j, "rest_since_s");
		double rest = m->wall -
			      (json_number_value(vt) - json_number_value(rs));

		if (json_is_number(vt) && json_is_number(rs) && isfinite(rest))
			earliest(&r->rest_since, rest);
	}
	if (json_is_array(v = json_object_get(j, "bbox")) && newest) {
		char *bbox = json_dumps(v, JSON_COMPACT);

		if (!bbox) {
			rc = FL_ENOMEM;
			goto out;
		}
		free(r->bbox);
		r->bbox = bbox;
	}
	if (json_is_string(v = json_object_get(j, "class")) && newest &&
	    (rc = set_text(&r->cls, json_string_value(v))) < 0)
		goto out;
	if (json_is_string(v = json_object_get(j, "site_name")) && newest &&
	    *json_string_value(v) &&
	    (rc = set_text(&r->site_name, json_string_value(v))) < 0)
		goto out;
	if (json_is_string(v = json_object_get(j, "lane_name")) && newest &&
	    *json_string_value(v) &&
	    (rc = set_text(&r->lane_name, json_string_value(v))) < 0)
		goto out;
	if (json_is_string(v = json_object_get(j, "plate")) &&
	    *json_string_value(v))
		rc = set_text(plate, json_string_value(v));
out:
	json_decref(j);
	return rc;
}

/* Message m applied to row r (the rules of the note above). */
static int apply_message(fl__db_incident *r, const fl_db_msg *m, char **plate)
{
	const char *st;
	int weak, rc;

	if ((rc = keep_first(&r->site, m->site)) < 0 ||
	    (rc = keep_first(&r->camera, m->camera)) < 0 ||
	    (rc = keep_first(&r->lane, m->lane)) < 0 ||
	    (rc = apply_payload(r, m, plate)) < 0)
		return rc;
	st = status_of(m->type, &weak);
	if (st && weak && !r->status) {
		/* status_seq stays 0: any real status-setter overrides */
		rc = set_text(&r->status, st);
	} else if (st && !weak &&
		   ((long long)m->seq > r->status_seq || !r->status)) {
		rc = set_text(&r->status, st);
		r->status_seq = m->seq;
	}
	if (rc < 0)
		return rc;
	earliest(&r->occupied, m->wall);
	if (!strcmp(m->type, "alarm"))
		earliest(&r->alarm, m->wall);
	if (!strcmp(m->type, "cleared"))
		earliest(&r->cleared, m->wall);
	if (!strcmp(m->type, "cleared") || !strcmp(m->type, "vacated") ||
	    !strcmp(m->type, "interrupted"))
		earliest(&r->closed, m->wall);
	r->start = isnan(r->rest_since) ? r->occupied : r->rest_since;
	r->last_seq = FL_MAX((long long)m->seq, r->last_seq);
	return 0;
}

/* The ingest of m inside the transaction. */
static int ingest_tx(fl_db *db, const fl_db_msg *m, int *dup, char *err,
		     size_t errlen)
{
	fl__db_incident r;
	char *stored = NULL, *plate = NULL;
	int fresh, rc = db->ops->event_exists(db->be, m->incident_id, m->seq,
					      &stored);

	if (rc == 1) {
		int same = stored && !strcmp(stored, m->json ? m->json : "");

		free(stored);
		if (same) {
			*dup = 1;
			return 0;
		}
		fl_seterr(err, errlen,
			  "%s seq %u is stored already with other bytes: not a "
			  "redelivery (refused; the stored message is kept)",
			  m->incident_id, m->seq);
		return FL_EEXIST;
	}
	if (rc < 0)
		goto store;
	rc = db->ops->incident_get(db->be, m->incident_id, &r);
	fresh = rc == FL_ENOENT;
	if (fresh)
		rc = incident_new(&r, m);
	if (rc < 0)
		goto store;
	if (!r.device || strcmp(r.device, m->device)) {
		fl_seterr(err, errlen,
			  "incident %s belongs to device %s, not %s",
			  m->incident_id, r.device ? r.device : "", m->device);
		fl__db_incident_free(&r);
		return FL_EINVAL;
	}
	rc = apply_message(&r, m, &plate);
	if (rc == 0)
		rc = db->ops->incident_put(db->be, m->incident_id, &r, fresh);
	if (rc == 0 && plate)
		rc = db->ops->plate_read(db->be, m->incident_id, plate);
	free(plate);
	if (rc == 0)
		rc = db->ops->event_add(db->be, m->incident_id, m->seq, m->type,
					m->wall, fl_wall_s(),
					m->json ? m->json : "");
	fl__db_incident_free(&r);
	if (rc == FL_EEXIST) {
		*dup = 1;
		return 0;
	}
	if (rc == 0)
		return 0;
store:
	fl_seterr(err, errlen, "store: %s", db->ops->errmsg(db->be));
	return rc;
}

int fl_db_ingest(fl_db *db, const fl_db_msg *m, int *dup, char *err,
		 size_t errlen)
{
	int d = 0, r, commit;

	if (!dup)
		dup = &d;
	*dup = 0;
	if (!db || !m) {
		fl_seterr(err, errlen, "no store or no message");
		return FL_EINVAL;
	}
	if (!m->incident_id || !*m->incident_id || !m->type || !*m->type ||
	    !m->device || !*m->device || m->seq == 0 || !isfinite(m->wall)) {
		fl_seterr(err, errlen,
			  "message without incident_id, type, "
			  "device, seq or a finite time");
		return FL_EINVAL;
	}
	pthread_mutex_lock(&db->mu);
	if ((r = fl__db_tx_begin(db)) < 0) {
		fl_seterr(err, errlen, "store busy: %s",
			  db->ops->errmsg(db->be));
		goto out;
	}
	r = ingest_tx(db, m, dup, err, errlen);
	/* a duplicate changes nothing: its transaction is rolled back */
	commit = r == 0 && !*dup;
	if (fl__db_tx_end(db, commit) < 0 && commit) {
		fl_seterr(err, errlen, "commit: %s", db->ops->errmsg(db->be));
		r = FL_EIO;
	}
	if (r < 0)
		*dup = 0;
out:
	pthread_mutex_unlock(&db->mu);
	return r;
}

/* ---- outcomes --------------------------------------------------------------- */

static int valid_outcome(const char *o)
{
	for (size_t i = 0; o && i < FL__DB_OUTCOMES; i++)
		if (!strcmp(o, fl__db_outcomes[i]))
			return 1;
	return 0;
}

/* The outcome, its history row and its audit row, in the transaction. */
static int outcome_tx(fl_db *db, const char *id, const char *outcome,
		      const char *note, const char *user, double wall,
		      char *err, size_t errlen)
{
	int r = db->ops->incident_outcome(db->be, id, outcome);

	if (r == FL_ENOENT) {
		fl_seterr(err, errlen, "no incident %s", id);
		return r;
	}
	if (r == 0)
		r = db->ops->outcome_add(db->be, id, outcome, note, user, wall);
	if (r == 0)
		r = db->ops->audit(db->be, user, "outcome", id, outcome, wall);
	if (r < 0)
		fl_seterr(err, errlen, "store: %s", db->ops->errmsg(db->be));
	return r;
}

int fl_db_outcome_set(fl_db *db, const char *incident_id, const char *outcome,
		      const char *note, const char *user, double wall,
		      char *err, size_t errlen)
{
	int r;

	if (!db || !incident_id) {
		fl_seterr(err, errlen, "no incident");
		return FL_EINVAL;
	}
	if (!valid_outcome(outcome)) {
		fl_seterr(err, errlen,
			  "outcome: one of persuaded, fined, towed, "
			  "false_alarm, other");
		return FL_EINVAL;
	}
	pthread_mutex_lock(&db->mu);
	if ((r = fl__db_tx_begin(db)) == 0) {
		r = outcome_tx(db, incident_id, outcome, note, user, wall, err,
			       errlen);
		r = fl__db_tx_finish(db, r, err, errlen);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

/* ---- the plate a person enters ------------------------------------------------ */

int fl_db_plate_set(fl_db *db, const char *incident_id, const char *plate,
		    const char *user, double wall, char *err, size_t errlen)
{
	int r;

	if (!db || !incident_id || !plate || !user || !*user) {
		fl_seterr(err, errlen, "no incident, plate or user");
		return FL_EINVAL;
	}
	if (*plate && (strlen(plate) >= FL_PLATE_TEXT_MAX ||
		       fl_plate_shape(plate) == FL_PLATE_SHAPE_NONE)) {
		fl_seterr(err, errlen,
			  "plate: not a plate (a Chinese plate as GA 36 "
			  "numbers them, or 4..8 Latin letters and digits; "
			  "docs/plate-model.md)");
		return FL_EINVAL;
	}
	pthread_mutex_lock(&db->mu);
	if ((r = fl__db_tx_begin(db)) == 0) {
		int v;

		r = db->ops->incident_verdict(db->be, incident_id, &v, 1);
		if (r == FL_ENOENT)
			fl_seterr(err, errlen, "no incident %s", incident_id);
		if (r == 0)
			/* "" clears the plate and who set it */
			r = db->ops->plate_set(db->be, incident_id,
					       *plate ? plate : NULL,
					       *plate ? user : NULL);
		if (r == 0)
			r = db->ops->audit(db->be, user, "plate", incident_id,
					   *plate ? plate : "(cleared)", wall);
		if (r < 0 && r != FL_ENOENT)
			fl_seterr(err, errlen, "store: %s",
				  db->ops->errmsg(db->be));
		r = fl__db_tx_finish(db, r, err, errlen);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

/* ---- the list, one incident ------------------------------------------------- */

/* A filter text as the backend gets it: "" does not filter (NULL). */
static const char *used(const char *t)
{
	return t && *t ? t : NULL;
}

char *fl_db_incidents_json(fl_db *db, const fl_db_filter *f)
{
	fl_db_filter g = { 0 };
	json_t *o, *a;
	long long n = 0;
	int limit, offset, ok;

	if (!db)
		return NULL;
	if (f)
		g = *f;
	/* the backend's filter (backend.h): no "", NAN for unbounded */
	g.site = used(g.site);
	g.lane = used(g.lane);
	g.status = used(g.status);
	g.outcome = used(g.outcome);
	g.plate = used(g.plate);
	g.from_wall = g.from_wall != 0 ? g.from_wall : NAN;
	g.to_wall = g.to_wall != 0 ? g.to_wall : NAN;
	limit = g.limit;
	offset = g.offset;
	fl__db_page(&limit, &offset);
	o = fl__db_doc("incidents", &a);
	pthread_mutex_lock(&db->mu);
	ok = db->ops->incidents_rows(db->be, &g, limit, offset, a) == 0 &&
	     db->ops->incidents_count(db->be, &g, &n) == 0;
	pthread_mutex_unlock(&db->mu);
	json_object_set_new(o, "total", json_integer(n));
	json_object_set_new(o, "limit", json_integer(limit));
	json_object_set_new(o, "offset", json_integer(offset));
	return fl__db_finish(o, ok);
}

/* The timeline's rows as the API shows them: each stored message parsed
 * ("message"), or kept as text when it is not JSON ("raw"). */
static void events_shape(json_t *rows)
{
	size_t i;
	json_t *e;

	json_array_foreach(rows, i, e)
	{
		json_t *text = json_incref(json_object_get(e, "json"));
		json_t *msg = NULL;

		json_object_del(e, "json");
		if (json_is_string(text))
			msg = json_loadb(json_string_value(text),
					 json_string_length(text), 0, NULL);
		if (msg)
			json_object_set_new(e, "message", msg);
		else
			json_object_set(e, "raw", text ? text : json_null());
		json_decref(text);
	}
}

/* One incident: its row with bbox parsed, its timeline, evidence and
 * outcomes; the mutex held. NULL when there is none (or on an error). */
static json_t *incident_locked(fl_db *db, const char *id, int *ok)
{
	json_t *o = NULL, *a;

	*ok = 0;
	if (db->ops->incident_row(db->be, id, &o) < 0 || !o)
		return NULL;
	json_object_set_new(o, "bbox",
			    fl__db_parse(json_object_get(o, "bbox"),
					 JSON_DECODE_ANY));
	a = json_array();
	json_object_set_new(o, "events", a);
	if (db->ops->incident_events(db->be, id, a) < 0)
		return o;
	events_shape(a);
	a = json_array();
	json_object_set_new(o, "evidence", a);
	if (db->ops->incident_evidence(db->be, id, a) < 0)
		return o;
	a = json_array();
	json_object_set_new(o, "outcomes", a);
	*ok = db->ops->incident_outcomes(db->be, id, a) == 0;
	return o;
}

char *fl_db_incident_json(fl_db *db, const char *incident_id)
{
	json_t *o;
	int ok;

	if (!db || !incident_id)
		return NULL;
	pthread_mutex_lock(&db->mu);
	o = incident_locked(db, incident_id, &ok);
	pthread_mutex_unlock(&db->mu);
	return o ? fl__db_finish(o, ok) : NULL;
}
