/*
 * publish_incidents.c - lane events to incident messages (docs/mqtt.md,
 * "Incidents", "Camera events"), and the table of incidents not yet done.
 *
 * Incident identity. An incident message is (incident_id, seq): seq counts
 * 1, 2, ... per incident in the order the messages were spooled. The
 * incident id comes from the lane logic (<device>-<start>[-<camera>]-<lane>-<n>) and
 * is unique across runs. A message sent twice (after a reconnect) is the
 * same bytes, so the hub deduplicates on (incident_id, seq).
 *
 * The table. An incident stays in it from its first event until nothing
 * more will be sent for it: its close, or later, once its evidence has
 * gone to the spool (publish_evidence.c). Each change of an entry is
 * written to its open record first (publish_records.c).
 */
#include "publish_internal.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "fl.h"

/* Spool one incident message of in (seq already advanced). Locked. */
void publish__spool_incident(edge_publish *p, struct incident *in,
			     fl_incident_msg *m)
{
	const fl_camera_conf *cc = &p->cfg->cameras[in->cam];
	char topic[FL_TOPIC_MAX], payload[16384];
	size_t n;

	m->incident_id = in->id;
	m->seq = in->seq;
	m->site = p->cfg->site;
	m->device = p->cfg->device_id;
	m->camera = cc->id;
	m->lane = cc->lanes[in->lane].id;
	/* the names the hub's alerts and pages show */
	m->site_name = p->cfg->site_name;
	m->lane_name = cc->lanes[in->lane].name;
	fl_topic(topic, sizeof(topic), FL_TOPIC_INCIDENT, p->cfg->site,
		 p->cfg->device_id, m->camera, m->lane);
	n = fl_incident_json(m, payload, sizeof(payload));
	if (n >= sizeof(payload)) {
		fl_log(FL_LOG_ERROR, "publish", "%s seq %u: message too long",
		       in->id, in->seq);
		return;
	}
	if (publish__spool(p, FL_SPOOL_INCIDENT, topic, payload, n) < 0)
		fl_log(FL_LOG_ERROR, "publish",
		       "incident %s seq %u (%s) NOT queued for the hub", in->id,
		       in->seq, m->type);
}

static void lane_recount(edge_publish *p, int cam, int lane)
{
	struct lane_pub *lp = &p->lanes[cam][lane];
	int occ = 0, blk = 0;

	for (int i = 0; i < MAX_INCIDENTS; i++) {
		const struct incident *in = &p->inc[i];
		if (!in->used || in->closed || in->cam != cam ||
		    in->lane != lane)
			continue;
		occ++;
		blk += in->alarmed;
	}
	if (occ != lp->occupied || blk != lp->blocked)
		lp->dirty = 1;
	lp->occupied = occ;
	lp->blocked = blk;
}

struct incident *publish__incident_get(edge_publish *p, const char *id, int cam,
				       int lane)
{
	struct incident *free_slot = NULL;

	for (int i = 0; i < MAX_INCIDENTS; i++) {
		if (p->inc[i].used && !strcmp(p->inc[i].id, id))
			return &p->inc[i];
		if (!p->inc[i].used && !free_slot)
			free_slot = &p->inc[i];
	}
	if (!free_slot) {
		/* Evict the oldest closed one still waiting for evidence. */
		for (int i = 0; i < MAX_INCIDENTS; i++)
			if (p->inc[i].closed) {
				fl_log(FL_LOG_WARN, "publish",
				       "%s: evidence no longer awaited "
				       "(too many incidents)",
				       p->inc[i].id);
				publish__remove_record(p, p->inc[i].id);
				free_slot = &p->inc[i];
				break;
			}
	}
	if (!free_slot)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = 1;
	snprintf(free_slot->id, sizeof(free_slot->id), "%s", id);
	free_slot->cam = cam;
	free_slot->lane = lane;
	return free_slot;
}

/* Close in's record once nothing more will be sent for it. Locked. */
void publish__incident_retire(edge_publish *p, struct incident *in)
{
	if (in->evid == EVID_WAIT || in->evid == EVID_SENDING)
		return;
	publish__remove_record(p, in->id);
	in->used = 0;
}

void edge_publish_event(const fl_event *ev, void *user)
{
	edge_publish *p = user;
	int cam = edge_camera_index(p->cfg, ev->camera);
	fl_incident_msg m = { 0 };
	struct incident *in;
	char topic[FL_TOPIC_MAX], line[4096];
	int lane;

	if (cam < 0)
		return;
	if (fl_event_is_camera(ev->type)) {
		size_t n = fl_event_json(ev, line, sizeof(line));
		fl_topic(topic, sizeof(topic), FL_TOPIC_CAMERA_EVENT,
			 p->cfg->site, p->cfg->device_id, ev->camera, NULL);
		if (n < sizeof(line))
			publish__spool(p, FL_SPOOL_INCIDENT, topic, line, n);
		return;
	}
	lane = edge_lane_index(p->cfg, cam, ev->lane);
	if (lane < 0 || !ev->incident_id[0])
		return;
	pthread_mutex_lock(&p->mu);
	in = publish__incident_get(p, ev->incident_id, cam, lane);
	if (!in) {
		fl_log(FL_LOG_ERROR, "publish",
		       "%s: too many open incidents; message NOT queued",
		       ev->incident_id);
		goto out;
	}
	in->seq++;
	if (ev->type == FL_EV_CLEARED || ev->type == FL_EV_VACATED) {
		in->closed = 1;
		in->closed_at = fl_mono_s();
	}
	if (ev->type == FL_EV_ALARM) {
		in->alarmed = 1;
		if (p->store && in->evid == EVID_NONE)
			in->evid = EVID_WAIT; /* in the record from now on */
	}
	/* The record first: a crash between the two leaves a gap in seq at
	 * worst, never two different messages with one seq. */
	publish__save_record(p, in);
	m.type = fl_event_type_name(ev->type);
	m.wall_time = p->wall0[cam] + ev->t;
	m.video_time_s = ev->t;
	m.rest_since_s = ev->rest_since;
	m.left_at_s = (ev->type == FL_EV_CLEARED || ev->type == FL_EV_VACATED)
			      ? ev->left_at
			      : -1;
	m.bbox = ev->bbox;
	m.cls = ev->cls ? fl_class_name(ev->cls) : NULL;
	m.plate = ev->type == FL_EV_ALARM ? ev->plate : NULL;
	publish__spool_incident(p, in, &m);
	switch (ev->type) {
	case FL_EV_CLEARED:
	case FL_EV_VACATED:
		if (ev->type == FL_EV_VACATED && in->evid == EVID_WAIT)
			in->evid = EVID_NONE; /* nothing is kept */
		break;
	default:
		break;
	}
	lane_recount(p, cam, lane);
	if (in->closed)
		publish__incident_retire(p, in);
out:
	pthread_mutex_unlock(&p->mu);
}
