/*
 * alerts.h - alerts to property managers and escalation to enforcement.
 *
 * Every alert is a job in an outbox in the store (db.h, "alert jobs"), so
 * alerts survive a restart of the hub, are shared by every hub on the
 * store and are never sent twice: a job is made only when none of its name
 * exists, and sent by the one hub that holds its claim (a lease). MQTT jobs
 * are sent by a thread of this module's that owns the alerts' MQTT
 * connection (hub_alerts_start_mqtt), webhook jobs by another, each on a
 * store handle of its own, so neither a slow webhook nor the alerts' store
 * transactions hold up ingest. See alerts.c for the design.
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
 * open in the store and without an outcome). */
void hub_alerts_tick(hub_alerts *a, fl_db *db, double now);

/* Main thread, once, with alerts.mqtt on: open the MQTT thread's store
 * handle and start the thread, which from now on owns m (the alerts' own
 * connection, main.c; started; nothing else is published on it): it runs
 * fl_mqtt_run(m), publishes the due MQTT jobs (QoS 1, tracked; offline:
 * retried later), renews their leases while they wait for their PUBACK
 * and records each end (hub_alerts_published, from m's on_published). m
 * is borrowed until hub_alerts_stop_mqtt(). 0, or an error with the
 * reason in err (nothing started). */
int hub_alerts_start_mqtt(hub_alerts *a, fl_mqtt *m, char *err, size_t errlen);

/* Main thread: the MQTT thread disconnects m (fl_mqtt_stop) and ends; m
 * is the caller's again, to destroy. Call it after the ingest client is
 * stopped (main.c: Paho's mutex). NULL-safe; nothing when not started or
 * already stopped. The claims of jobs still in flight stay held (given
 * back when this hub starts again, or taken when their lease runs out). */
void hub_alerts_stop_mqtt(hub_alerts *a);

/* MQTT jobs are published while fewer than this many are unacknowledged
 * on m, and each acknowledgement makes room for the next at once. 20 is
 * mosquitto's receive maximum (max_inflight_messages): Paho keeps what a
 * broker does not take yet and sends it only at its next wake, up to a
 * second later (alerts.c, "Threads and handles"); a window also keeps a
 * burst of alarms from overrunning the client's in-flight limit. */
#define HUB_ALERT_WINDOW 20

/* The MQTT thread: m's on_published (a token of an alert or of anything
 * else; others are ignored). rc 0: the broker acknowledged it, the job is
 * recorded sent; FL_EAGAIN: back to the outbox unattempted; else a failed
 * attempt. */
void hub_alerts_published(hub_alerts *a, uint64_t token, int rc);

/* Stop the threads (hub_alerts_stop_mqtt first, if not done: before m is
 * destroyed) and free. NULL-safe. Unsent jobs stay in the store (the
 * claims of MQTT jobs in flight run out, or are given back when this hub
 * starts again). */
void hub_alerts_destroy(hub_alerts *a);

#endif /* FL_HUB_ALERTS_H */
