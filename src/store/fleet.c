/*
 * fleet.c - the devices and their cameras: camera health from camera
 * events, and the fleet as JSON (fl_db_camera_event, fl_db_devices_json,
 * db.h). Backend-neutral.
 *
 * A note on camera health (docs/health.md). A camera is offline or not,
 * and has a set of view problems (covered, moved, frozen), each switched
 * on by a "health" event and off by its "cleared: " one. Its state is
 * "offline", else its first problem in the order covered, moved, frozen,
 * else "ok"; `since` is when the state last changed, so a repeated event
 * changes nothing but last_event.
 *
 * A note on a device's status (docs/mqtt.md, "Status"). Statuses arrive
 * from the device ("online", "stopped"), from the broker (the will,
 * "offline"), again when the hub reconnects (the retained one), and from
 * anyone who kept an old signed copy. Each carries its connection's epoch,
 * which grows with every connection; within one connection "online"
 * comes first and "offline" or "stopped" ends it. So the stored status is
 * the greatest (epoch, rank) heard, rank 0 for online, 1 for the others:
 * whatever order they come in and however often, the present is the last
 * connection's last word.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "db_internal.h"
#include "fl.h"

/* Apply one event at wall to c (a new camera: zeroed with since -1).
 * 0, or FL_EINVAL for an unknown type or health condition (c unchanged). */
static int camera_next(fl__camera *c, const char *type, const char *reason,
		       double wall)
{
	/* by precedence: the first present names the state */
	static const char *const order[] = { "covered", "moved", "frozen",
					     "overloaded" };
	enum { NCOND = sizeof(order) / sizeof(order[0]) };
	int has[NCOND] = { 0 }, offline = c->offline, on = 0, which = -1;
	const char *h = reason ? reason : "";
	char state[16];
	size_t i;

	for (i = 0; i < NCOND; i++) { /* the current set */
		const char *p = c->problems;
		size_t l = strlen(order[i]);
		while ((p = strstr(p, order[i]))) {
			if ((p == c->problems || p[-1] == ',') &&
			    (p[l] == ',' || p[l] == '\0'))
				has[i] = 1;
			p += l;
		}
	}
	if (!type)
		return FL_EINVAL;
	if (!strcmp(type, "camera_offline")) {
		offline = 1;
	} else if (!strcmp(type, "camera_online")) {
		offline = 0;
	} else if (!strcmp(type, "health")) {
		on = strncmp(h, "cleared: ", 9) != 0;
		if (!on)
			h += 9;
		for (i = 0; i < NCOND; i++)
			if (!strcmp(h, order[i]))
				which = (int)i;
		if (which < 0)
			return FL_EINVAL;
		has[which] = on;
	} else {
		return FL_EINVAL;
	}
	c->offline = offline;
	c->problems[0] = '\0';
	for (i = 0; i < NCOND; i++)
		if (has[i]) {
			if (c->problems[0])
				strcat(c->problems, ",");
			strcat(c->problems, order[i]);
		}
	snprintf(state, sizeof(state), "%s", "ok");
	if (offline)
		snprintf(state, sizeof(state), "%s", "offline");
	else
		for (i = 0; i < NCOND; i++)
			if (has[i]) {
				snprintf(state, sizeof(state), "%s", order[i]);
				break;
			}
	if (c->since < 0 || strcmp(state, c->state)) {
		snprintf(c->state, sizeof(c->state), "%s", state);
		c->since = wall;
	}
	return 0;
}

/* The tries of a change that found its new row taken by another writer
 * (FL_EAGAIN): the next try finds the row and locks it, so a second is
 * enough; a third covers a deadlock the server broke. */
#define TRIES 3

/* The event in one transaction: 0, or FL_EAGAIN when the camera was
 * stored by another writer meanwhile (nothing changed: try again). */
static int camera_event_tx(fl_db *db, const char *device, const char *camera,
			   const char *type, const char *reason, double wall)
{
	fl__camera c = { 0, "", "", -1 };
	int r, fresh;

	if ((r = fl__db_tx_begin(db)) < 0)
		return r;
	r = db->ops->camera_get(db->be, device, camera, &c);
	fresh = r == FL_ENOENT; /* a camera heard of the first time */
	if (fresh)
		r = 0;
	if (r == 0)
		r = camera_next(&c, type, reason, wall);
	if (r == 0)
		r = db->ops->camera_put(db->be, device, camera, &c, reason,
					wall, fresh);
	if (fl__db_tx_end(db, r == 0) < 0 && r == 0)
		r = FL_EIO;
	return r;
}

int fl_db_camera_event(fl_db *db, const char *device, const char *camera,
		       const char *type, const char *reason, double wall)
{
	fl__camera c = { 0, "", "", -1 };
	int r = FL_EAGAIN;

	if (!db || !device || !*device || !camera || !*camera ||
	    camera_next(&c, type, reason, wall)) /* the event checked */
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	for (int i = 0; i < TRIES && r == FL_EAGAIN; i++)
		r = camera_event_tx(db, device, camera, type, reason, wall);
	pthread_mutex_unlock(&db->mu);
	return r;
}

/* The cameras' rows as the fleet shows them, by device: {device: [{camera,
 * state, problems: [...], reason, since, last_event}]}. */
static json_t *cameras_by_device(json_t *rows)
{
	json_t *by = json_object(), *r;
	size_t i;

	json_array_foreach(rows, i, r)
	{
		const char *dev = json_string_value(
			json_object_get(r, "device"));
		const char *pr = json_string_value(
			json_object_get(r, "problems"));
		json_t *c = json_object(), *probs = json_array(), *list;

		json_object_set(c, "camera", json_object_get(r, "camera"));
		json_object_set(c, "state", json_object_get(r, "state"));
		while (pr &&
		       *pr) { /* "covered,frozen" -> ["covered", "frozen"] */
			size_t l = strcspn(pr, ",");
			json_array_append_new(probs, json_stringn(pr, l));
			pr += l + (pr[l] == ',');
		}
		json_object_set_new(c, "problems", probs);
		json_object_set(c, "reason", json_object_get(r, "reason"));
		json_object_set(c, "since", json_object_get(r, "since"));
		json_object_set(c, "last_event",
				json_object_get(r, "last_event"));
		if (!dev)
			dev = "";
		list = json_object_get(by, dev);
		if (!list) {
			list = json_array();
			json_object_set_new(by, dev, list);
		}
		json_array_append_new(list, c);
	}
	return by;
}

char *fl_db_devices_json(fl_db *db)
{
	json_t *o, *a, *cams = json_array(), *by, *d;
	size_t i;
	int ok;

	if (!db)
		return NULL;
	o = fl__db_doc("devices", &a);
	pthread_mutex_lock(&db->mu);
	ok = db->ops->cameras_rows(db->be, cams) == 0 &&
	     db->ops->devices_rows(db->be, a) == 0;
	pthread_mutex_unlock(&db->mu);
	by = cameras_by_device(cams);
	json_decref(cams);
	json_array_foreach(a, i, d)
	{
		const char *dev = json_string_value(
			json_object_get(d, "device"));
		json_t *c = dev ? json_object_get(by, dev) : NULL;

		json_object_set_new(d, "heartbeat",
				    fl__db_parse(json_object_get(d, "heartbeat"),
						 JSON_DECODE_ANY));
		json_object_set_new(d, "cameras",
				    c ? json_incref(c) : json_array());
	}
	json_decref(by);
	return fl__db_finish(o, ok);
}

/* online 0, offline and stopped 1, anything else -1. */
static int status_rank(const char *s)
{
	if (!strcmp(s, "online"))
		return 0;
	if (!strcmp(s, "offline") || !strcmp(s, "stopped"))
		return 1;
	return -1;
}

int fl_db_device_status_at(fl_db *db, const char *device, const char *status,
			   unsigned long long epoch, double wall,
			   const char *heartbeat_json, char *was, size_t waslen,
			   int *applied)
{
	char old[16] = "";
	long long e = 0;
	int rank = status ? status_rank(status) : -1, r, newer, same;

	if (applied)
		*applied = 0;
	if (was && waslen)
		was[0] = '\0';
	if (!db || !device || rank < 0 || epoch > (unsigned long long)INT64_MAX)
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	if ((r = fl__db_tx_begin(db)) < 0)
		goto out;
	r = db->ops->device_status(db->be, device, old, sizeof(old), &e, 1);
	if (r == 0) {
		int orank = old[0] ? status_rank(old) : -1;

		newer = epoch == 0 || (long long)epoch > e ||
			((long long)epoch == e && rank > orank);
		same = (long long)epoch == e && rank == orank;
		if (newer)
			r = db->ops->device_seen(db->be, device, status,
						 (long long)epoch, wall,
						 heartbeat_json);
		else if (same && heartbeat_json)
			r = db->ops->device_seen(db->be, device, NULL, -1, wall,
						 heartbeat_json);
		if (r == 0 && applied)
			*applied = newer || (same && heartbeat_json);
	}
	if (fl__db_tx_end(db, r == 0) < 0 && r == 0)
		r = FL_EIO;
	if (r == 0 && was && waslen)
		snprintf(was, waslen, "%s", old);
out:
	pthread_mutex_unlock(&db->mu);
	return r;
}
