/*
 * publish_internal.h - what the files of the edge's MQTT sink share (not
 * part of its API: see publish.h).
 */
#ifndef FL_EDGE_PUBLISH_INTERNAL_H
#define FL_EDGE_PUBLISH_INTERNAL_H

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "file.h"
#include "fl.h"
#include "manifest.h"
#include "receipt.h"
#include "spool.h"

#include "publish.h"

#define MAX_INCIDENTS 64

enum ev_state { EVID_NONE, EVID_WAIT, EVID_SENDING, EVID_DONE };

struct incident {
	int used;
	char id[FL_INCIDENT_ID_MAX];
	int cam, lane;
	unsigned seq;
	int alarmed, closed;
	double closed_at;     /* monotonic */
	enum ev_state evid;
	/* evidence in progress */
	size_t file;          /* next file index (listed, then manifest) */
	long chunk;           /* next chunk of that file */
};

struct lane_pub {
	int occupied, blocked; /* open incidents, of which alarmed */
	int dirty;            /* state to publish */
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

	pthread_mutex_t mu;
	struct incident inc[MAX_INCIDENTS];
	struct lane_pub lanes[FL_MAX_CAMERAS][FL_MAX_LANES];
	double wall0[FL_MAX_CAMERAS];
	double next_evidence_poll;
};

int find_camera(const fl_config *cfg, const char *id);
int find_lane(const fl_config *cfg, int cam, const char *id);
int spool(edge_publish *p, int prio, const char *topic,
		 const void *payload, size_t len);
int write_record(const char *dir, const char *name, const char *text);
void remove_record(edge_publish *p, const char *id);
void save_record(edge_publish *p, const struct incident *in);
void recover(edge_publish *p);
void spool_incident(edge_publish *p, struct incident *in,
			   fl_incident_msg *m);
struct incident *incident_get(edge_publish *p, const char *id,
				     int cam, int lane);
void incident_retire(edge_publish *p, struct incident *in);
void evidence_poll(edge_publish *p);
void on_receipt(edge_publish *p, const void *payload, size_t len);
void publish_lane(edge_publish *p, int cam, int lane, int state,
			 int settings);
void publish_discovery(edge_publish *p);
void on_connect(void *user);

#endif /* FL_EDGE_PUBLISH_INTERNAL_H */
