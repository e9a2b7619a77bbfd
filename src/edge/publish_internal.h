/*
 * publish_internal.h - what the files of the edge's MQTT sink share; not
 * part of its API (publish.h). publish__ names are internal to src/edge.
 *
 *   publish.c            the connection, the spool, commands in, life
 *   publish_incidents.c  lane events to incident messages (the table)
 *   publish_records.c    open-incident records: what a kill -9 leaves
 *   publish_evidence.c   evidence bundles to the hub, delivery receipts
 *   publish_retained.c   lane state and settings, Home Assistant discovery
 *
 * Locking: p->mu guards inc[] and lanes[] (the "Locked" functions below
 * expect it held); everything else belongs to the control thread, or is
 * set at create and read-only after.
 */
#ifndef FL_EDGE_PUBLISH_INTERNAL_H
#define FL_EDGE_PUBLISH_INTERNAL_H

#include <pthread.h>
#include <stddef.h>

#include "client.h"
#include "config.h"
#include "ids.h"
#include "msgsign.h"
#include "publish.h"
#include "spool.h"
#include "store.h"
#include "topic.h"

#define MAX_INCIDENTS 64

enum ev_state { EVID_NONE, EVID_WAIT, EVID_SENDING, EVID_DONE };

struct incident {
	int used;
	char id[FL_INCIDENT_ID_MAX];
	int cam, lane;
	unsigned seq;
	int alarmed, closed;
	double closed_at; /* monotonic */
	enum ev_state evid;
	/* evidence in progress */
	size_t file; /* next file index (listed, then manifest) */
	long chunk;  /* next chunk of that file */
};

/* A message the spool refused, held until it takes it. */
struct held_msg {
	struct held_msg *next;
	int prio;
	char *topic;
	void *payload;
	size_t len;
};

struct lane_pub {
	int occupied, blocked; /* open incidents, of which alarmed */
	int dirty;             /* state to publish */
	int disabled;
	double dwell_s;
	int settings_dirty;
};

struct edge_publish {
	const fl_config *cfg;
	fl_store *store;
	fl_spool *spool;
	fl_mqtt *mqtt;
	edge_command_fn on_command;
	void *user;
	char open_dir[FL_PATH_MAX + 8];
	char status_topic[FL_TOPIC_MAX];
	char cmd_topic[FL_TOPIC_MAX];
	char receipt_topic[FL_TOPIC_MAX];

	/* Trust (docs/mqtt.md, "Signed messages"): everything for the hub
	 * is signed with the device key; commands and receipts must be
	 * signed by the hub's. Set at create; nonces, epoch: control
	 * thread. */
	fl_key key;
	unsigned char hub_pk[32];
	int have_hub_key;
	fl_nonces *nonces; /* commands taken within the window */
	char nonces_path[FL_PATH_MAX + 32];
	unsigned long long epoch;   /* this connection's (status, heartbeat) */
	unsigned long long ceiling; /* epochs below it are spoken for */
	int epoch_used;             /* a will carried it already */
	char epoch_path[FL_PATH_MAX + 32];
	/* Messages the spool refused (a disk read-only, failing or full),
	 * held in order until it takes them (publish.c, "A note on a spool
	 * that fails"); guarded by blog_mu. */
	pthread_mutex_t blog_mu;
	struct held_msg *blog_head, *blog_tail;
	long blog_n;
	double blog_bytes;
	double blog_retry_at, blog_wait; /* monotonic; back-off */
	char blog_why[512];              /* the spool's last refusal */

	pthread_mutex_t mu;
	struct incident inc[MAX_INCIDENTS];
	struct lane_pub lanes[FL_MAX_CAMERAS][FL_MAX_LANES];
	double wall0[FL_MAX_CAMERAS];
	double next_evidence_poll;
	double next_ask; /* monotonic: receipts asked for again (heartbeat) */
};

/* ---- publish.c ---------------------------------------------------------- */

/* Sign body for topic with the device key: *out (malloc'd, the caller
 * frees) gets the signed payload, *n its length. 0 or an fl_errno
 * (logged). Any thread. */
int publish__sign(edge_publish *p, const char *topic, const void *body,
		  size_t len, char **out, size_t *n);

/* Sign and append one message to the spool and wake the client. 0 or the
 * spool's error with the reason in err (not logged). Any thread. */
int publish__append(edge_publish *p, int prio, const char *topic,
		    const void *body, size_t len, char *err, size_t errlen);

/* The same, except that a refusal is not returned: 0 also when the spool
 * refused the message and it is held in memory, signed, to be spooled
 * later (an incident or camera message: never given up); a heartbeat the spool
 * refused is dropped (logged; 0 too: the next one says the same).
 * FL_EFULL only when the in-memory back-log is full as well (logged).
 * Any thread. */
int publish__spool(edge_publish *p, int prio, const char *topic,
		   const void *body, size_t len);

/* Sign and publish directly (QoS 1; not spooled): 0, or FL_EAGAIN when
 * offline. Control thread. */
int publish__direct(edge_publish *p, const char *topic, const void *body,
		    size_t len, int retain);

/* Control thread: try to spool what is held, when the back-off allows. */
void publish__drain(edge_publish *p);

/* ---- publish_incidents.c ------------------------------------------------- */

/* Spool one incident message of in (in->seq already advanced). Locked. */
void publish__spool_incident(edge_publish *p, struct incident *in,
			     fl_incident_msg *m);

/* The table's entry for incident id (made for camera cam, lane lane when
 * new), or NULL when the table is full. Locked. */
struct incident *publish__incident_get(edge_publish *p, const char *id, int cam,
				       int lane);

/* Free in's entry and its record once nothing more will be sent for it
 * (no evidence due). Locked. */
void publish__incident_retire(edge_publish *p, struct incident *in);

/* ---- publish_records.c --------------------------------------------------- */

/* Write in's record (before each of its messages is spooled), or remove
 * incident id's. Locked. */
void publish__save_record(edge_publish *p, const struct incident *in);
void publish__remove_record(edge_publish *p, const char *id);

/* At create: close what a killed predecessor left open and resume its
 * evidence uploads. */
void publish__recover(edge_publish *p);

/* ---- publish_evidence.c -------------------------------------------------- */

/* Control thread, at most once a second: spool what is ready of the
 * evidence of incidents that wait for it. */
void publish__evidence_poll(edge_publish *p);

/* The hub's delivery receipt arrived (control thread). */
void publish__on_receipt(edge_publish *p, const void *payload, size_t len);

/* ---- publish_retained.c -------------------------------------------------- */

/* Publish lane (cam, lane)'s state and/or its settings (retained). Locked. */
void publish__lane(edge_publish *p, int cam, int lane, int state, int settings);

/* Publish what changed in the lanes since the last turn. Control thread,
 * connected. */
void publish__dirty_lanes(edge_publish *p);

/* Every Home Assistant discovery message (retained). */
void publish__discovery(edge_publish *p);

/* The client connected: status online, every lane, discovery. */
void publish__on_connect(void *user);

/* ---- publish.c (status) -------------------------------------------------- */

/* Publish "online" with this connection's epoch, signed (retained). */
void publish__status_online(edge_publish *p);

#endif /* FL_EDGE_PUBLISH_INTERNAL_H */
