/*
 * msg.h - what the hub accepts from the fleet: topic shapes and payload
 * schemas (docs/mqtt.md is the contract), as pure functions.
 *
 * Everything that arrives is hostile until this module says otherwise. A
 * topic is split into its levels and classified; a payload is checked for
 * its size, its JSON (no duplicate keys, one object, nothing trailing), its
 * required fields and their types, and the ids against the topic (the
 * device, site, camera and lane inside an incident message must be the
 * topic's, and the incident id must begin with "<device>-", so a device
 * cannot write into another device's incidents). Evidence chunk headers get
 * the same treatment, and a file name is a plain name: [A-Za-z0-9_.-], not
 * starting with '.', so it can never leave the incident's folder.
 *
 * No I/O, no clocks, no globals: the fuzz target (tests/fuzz/fuzz_hub_msg.c)
 * drives hub_msg_check() directly. Outputs are caller structs with fixed
 * buffers; json_t results are owned by the caller (json_decref).
 */
#ifndef FL_HUB_MSG_H
#define FL_HUB_MSG_H

#include <stddef.h>

#include "id.h"
#include "plate.h"
#include "topic.h" /* FL_HEARTBEAT_ASK_MAX */

#define HUB_SITE_MAX 256
#define HUB_FILE_MAX 128
#define HUB_CHUNK 65536
#define HUB_MAX_FILE_BYTES (1LL << 31) /* one evidence file at most */

enum hub_kind {
	HUB_MSG_IGNORED,   /* a topic the hub has no use for (state, image) */
	HUB_MSG_STATUS,    /* online | offline | stopped */
	HUB_MSG_HEARTBEAT, /* JSON health */
	HUB_MSG_INCIDENT,  /* JSON incident message */
	HUB_MSG_EVIDENCE,  /* header line + chunk bytes */
	HUB_MSG_CAMERA_EVENT, /* JSON camera health event */
	HUB_MSG_OWN           /* firelane/<site>/alerts etc.: the hub's own */
};

/* A classified topic: firelane/<site>/<device>/<rest...>. */
typedef struct hub_topic {
	enum hub_kind kind;
	char site[HUB_SITE_MAX];
	char device[FL_ID_MAX];
	char camera[FL_ID_MAX]; /* per-camera and per-lane kinds */
	char lane[FL_ID_MAX];   /* per-lane kinds */
} hub_topic;

/* Split and classify. 0, or FL_EFORMAT with the reason in err (a topic
 * outside the contract: wrong root, empty level, bad id). */
int hub_topic_parse(const char *topic, hub_topic *t, char *err, size_t errlen);

#define HUB_NAME_MAX 128 /* a display name, with its NUL */

/* A validated incident message (strings point into the caller's buffers). */
typedef struct hub_incident {
	char incident_id[FL_INCIDENT_ID_MAX];
	char type[32];
	unsigned seq;
	double wall; /* unix_time */
	/* the names people read (device.site_name, the lane's name); ""
	 * when the message has none */
	char site_name[HUB_NAME_MAX], lane_name[HUB_NAME_MAX];
	/* unix times the object came to rest and the lane was seen clear
	 * (from video_time_s, rest_since_s, left_at_s); -1 when not given */
	double rest_wall, left_wall;
	char plate[FL_PLATE_TEXT_MAX]; /* the device's read; "" none/unread */
} hub_incident;

/* A validated evidence chunk header. */
typedef struct hub_chunk {
	char incident_id[FL_INCIDENT_ID_MAX];
	char file[HUB_FILE_MAX];
	long index, count;
	long long offset, size;
	char chunk_sha256[65], file_sha256[65];
	const unsigned char *data; /* into the payload */
	size_t len;
} hub_chunk;

/* An evidence list entry from the "evidence" incident message. */
typedef struct hub_file {
	char name[HUB_FILE_MAX];
	char sha256[65];
	long long bytes;
} hub_file;

#define HUB_MAX_FILES 64

/* 1 when s is a safe evidence file name: an id not starting with '.'. */
int hub_name_ok(const char *s);

/* 1 when s is 64 lowercase hex digits. */
int hub_hex64_ok(const char *s);

/*
 * Incident message payload against topic t. Fills out; when files is not
 * NULL and the type is "evidence", the file list too (*nfiles). 0, or
 * FL_EFORMAT with the reason.
 */
int hub_incident_check(const hub_topic *t, const void *payload, size_t len,
		       hub_incident *out, hub_file *files, size_t *nfiles,
		       char *err, size_t errlen);

/* Evidence chunk payload (topic t): header, sizes and the offset rule.
 * The chunk's SHA-256 is not checked here (the caller hashes). */
int hub_chunk_check(const hub_topic *t, const void *payload, size_t len,
		    hub_chunk *out, char *err, size_t errlen);

/* One JSON object. */
int hub_json_object_check(const void *payload, size_t len, char *err,
			  size_t errlen);

/* What the hub reads of a heartbeat (docs/mqtt.md, "Heartbeat"). */
typedef struct hub_heartbeat {
	unsigned long long epoch; /* 0: none (a device from before epochs) */
	long config_version;      /* 0: none */
	/* undelivered.ask: bundles whose receipts the device asks for */
	char ask[FL_HEARTBEAT_ASK_MAX][FL_INCIDENT_ID_MAX];
	size_t nask;
} hub_heartbeat;

/* Heartbeat: one JSON object; "epoch" an integer >= 1 when present;
 * "undelivered", when present, an object whose "ask" (optional) is an
 * array of at most FL_HEARTBEAT_ASK_MAX incident ids. 0 with *out filled,
 * or FL_EFORMAT with the reason. */
int hub_heartbeat_check(const void *payload, size_t len, hub_heartbeat *out,
			char *err, size_t errlen);

/*
 * Camera event (topic t; docs/mqtt.md "Camera events"): one JSON object
 * with "type" camera_offline | camera_online | health, "camera" equal to
 * the topic's, and "reason" a string (for health: frozen, covered, moved,
 * or "cleared: " and one of them). Copies type and reason (reason cut to
 * the buffer). 0, or FL_EFORMAT with the reason.
 */
int hub_camera_event_check(const hub_topic *t, const void *payload, size_t len,
			   char *type, size_t typelen, char *reason,
			   size_t reasonlen, char *err, size_t errlen);

/* Status payload: online | offline | stopped, then a space and the
 * connection epoch (fl_status_parse; a bare word from a device that
 * predates epochs gives *epoch 0). */
int hub_status_check(const void *payload, size_t len, char *status,
		     size_t statuslen, unsigned long long *epoch, char *err,
		     size_t errlen);

/*
 * The whole check for one message (topic + payload), as the fuzzer runs
 * it: returns the kind (>= 0) when acceptable, or FL_EFORMAT.
 */
int hub_msg_check(const char *topic, const void *payload, size_t len,
		  size_t max_payload, char *err, size_t errlen);

#endif /* FL_HUB_MSG_H */
