/*
 * alerts.h - alerts to property managers and escalation to enforcement.
 *
 * Every alert is a job in an outbox in the store (db.h, "alert jobs"), so
 * alerts survive a restart of the hub, are shared by every hub on the
 * store and are never sent twice: a job is made only when none of its name
 * exists, and sent by the one hub that holds its claim (a lease). MQTT jobs
 * are sent by the main thread (hub_alerts_tick, the MQTT client's owner);
 * webhook jobs by the alerts' own thread on a store handle of its own, so
 * a slow webhook never holds up ingest. See alerts.c for the design.
 */
#ifndef FL_HUB_ALERTS_H
#define FL_HUB_ALERTS_H

#include "client.h"
#include "db.h"
#include "hubconf.h"
#include "metrics.h"
#include "msg.h"

typedef struct hub_alerts hub_alerts;

/* Import the alerts of a hub from before (<evidence_dir>/.alerts/, once),
 * give back the claims this hub (mqtt.client_id) held when it stopped,
 * open the webhook thread's store handle and start the thread. conf,
 * metrics (NULL: nothing counted; every delivery attempt is counted
 * there) and db (the main thread's store handle: the calls below use it)
 * are borrowed for the object's life. NULL with the reason in err. */
hub_alerts *hub_alerts_create(const hub_conf *conf, hub_metrics *metrics,
			      fl_db *db, char *err, size_t errlen);

/* An incident message was stored, or was a duplicate (each step is made
 * once, so a message handled again alerts nobody twice): alarm -> the
 * property alert; cleared/vacated/interrupted -> the all-clear (only when
 * an alarm alert was made; an alarm that comes after its close gets the
 * all-clear behind it). site is the enrolled site; in the validated
 * message (its id, type, time, the names people read, when the lane became
 * blocked: what the alerts say, alertmsg.h). 0, or the error of a job or
 * record that could not be written (FL_EFULL, FL_EIO): the caller holds
 * the message and asks again. */
int hub_alerts_incident(hub_alerts *a, const char *site, const char *device,
			const char *camera, const char *lane,
			const hub_incident *in);

/* Main thread, about once a second, db the handle given to create:
 * escalations and owner notifications that are due (the incident still
 * open in the store and without an outcome), the leases of the MQTT jobs
 * waiting for their PUBACK renewed, and the MQTT jobs that are due,
 * published with m (QoS 1, tracked; offline: retried later), the alerts'
 * own connection (main.c): nothing else is published on it. An MQTT job
 * is sent only once hub_alerts_published() says so. */
void hub_alerts_tick(hub_alerts *a, fl_db *db, fl_mqtt *m, double now);

/* MQTT jobs are published while fewer than this many are unacknowledged
 * on m: a burst of alarms must not overrun the client's in-flight limit
 * (which refuses the excess). */
#define HUB_ALERT_WINDOW 256

/* Main thread: the MQTT client's on_published (a token of an alert or of
 * anything else; others are ignored). rc 0: the broker acknowledged it,
 * the job is recorded sent; FL_EAGAIN: back to the outbox unattempted;
 * else a failed attempt. */
void hub_alerts_published(hub_alerts *a, uint64_t token, int rc);

/* Stop the thread and free. NULL-safe. Unsent jobs stay in the store
 * (the claims of MQTT jobs in flight run out, or are given back when this
 * hub starts again). */
void hub_alerts_destroy(hub_alerts *a);

#endif /* FL_HUB_ALERTS_H */
