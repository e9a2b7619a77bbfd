/*
 * publish.h - the edge's MQTT sink: lane events to incident messages
 * through the spool, lane state, settings, heartbeat, Home Assistant
 * discovery, evidence, and commands in. See publish.c and docs/mqtt.md.
 *
 * Threads: edge_publish_event() and edge_publish_camera_base() may be
 * called from any camera thread; everything else from the control thread
 * (the one that calls edge_publish_run()).
 */
#ifndef FL_EDGE_PUBLISH_H
#define FL_EDGE_PUBLISH_H

#include <stddef.h>

#include "config.h"
#include "event.h"
#include "store.h"
#include "topic.h"

typedef struct edge_publish edge_publish;

/*
 * A command that passed the parser and names an existing camera (and lane).
 * The handler answers through edge_publish_answer(), now or later (req and
 * cmd identify the answer). Called inside edge_publish_run().
 */
typedef void (*edge_command_fn)(const fl_command *cmd, void *user);

/*
 * Open the spool (cfg->mqtt.spool_dir), close what a killed predecessor
 * left open (an "interrupted" message per incident), and create the client
 * (not yet connected). cfg is borrowed for the publisher's life (ids and
 * names only; lane settings are shadowed). store may be NULL (no evidence).
 * NULL with the reason in err.
 */
edge_publish *edge_publish_create(const fl_config *cfg, fl_store *store,
				  edge_command_fn on_command, void *user,
				  char *err, size_t errlen);

/* Start connecting. */
int edge_publish_start(edge_publish *p);

/* Any thread: wall clock (unix seconds) at video time 0 of camera cam. */
void edge_publish_camera_base(edge_publish *p, int cam, double wall0);

/* Event sink (fl_event_fn), any camera thread: lane events become spooled
 * incident messages, camera events spooled camera messages. */
void edge_publish_event(const fl_event *ev, void *p);

/* Control thread: one turn (MQTT, lane states, evidence), at most
 * timeout_ms of waiting. */
void edge_publish_run(edge_publish *p, int timeout_ms);

/* Control thread: spool a heartbeat (spool figures filled in here). */
void edge_publish_heartbeat(edge_publish *p, fl_health *h);

/* Control thread: a lane's settings changed (command or reload). */
void edge_publish_settings(edge_publish *p, int cam, int lane, int disabled,
			   double dwell_s);

/* Control thread: answer a command on .../command/state. */
void edge_publish_answer(edge_publish *p, const char *req, const char *cmd,
			 int ok, const char *error, const char *detail);

/* Spool figures for the heartbeat. */
void edge_publish_spool_stats(edge_publish *p, long *messages, double *bytes,
			      long *dropped, long *refused);

/* Messages the spool refused, held in memory until it takes them again
 * (publish.c, "A note on a spool that fails"). Any thread. */
long edge_publish_held(edge_publish *p);

/* 1 while connected to the broker. */
int edge_publish_connected(edge_publish *p);

/* The spool's folder (snapshots go beside it). */
const char *edge_publish_spool_dir(const edge_publish *p);

/* Clean stop: "stopped" on status, spooled messages acknowledged so far
 * are removed, disconnect. Waits up to timeout_ms. */
void edge_publish_stop(edge_publish *p, int timeout_ms);

/* NULL-safe. */
void edge_publish_destroy(edge_publish *p);

#endif /* FL_EDGE_PUBLISH_H */
