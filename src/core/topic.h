/*
 * topic.h - the MQTT contract in pure C: topic names, payload formats and
 * the command parser (docs/mqtt.md is the reference; a unit test checks the
 * document's examples against these functions).
 *
 * Every topic lives under the root "firelane/<site>/<device>/".
 * The site is UTF-8 text from the configuration and may hold characters that
 * MQTT gives a meaning to in a topic level ('/', '+', '#'); those are
 * replaced by '_' so a site is always exactly one level. Camera, lane and
 * device ids are already restricted to [A-Za-z0-9_.-] by the config schema.
 *
 * Everything here writes into caller buffers with snprintf semantics (the
 * return value is the length needed, the output is always NUL-terminated
 * when len > 0) and allocates nothing; the command parser fills a caller
 * struct. No I/O, no clocks (times come in), no globals.
 */
#ifndef FL_TOPIC_H
#define FL_TOPIC_H

#include <stddef.h>

#include "config.h"
#include "event.h"
#include "nonce.h"
#include "plate.h"

#define FL_TOPIC_MAX 512

/* Which message a topic names, below the root. */
enum fl_topic_kind {
	FL_TOPIC_STATUS,    /* root/status: online|offline|stopped, retained */
	FL_TOPIC_HEARTBEAT, /* root/heartbeat: JSON health, QoS 0 via spool */
	FL_TOPIC_CMD_SET,   /* root/command/set: commands in */
	FL_TOPIC_CMD_STATE, /* root/command/state: answers out */
	FL_TOPIC_CAMERA_EVENT, /* root/<cam>/event: camera health, QoS 1 */
	FL_TOPIC_LANE_STATE, /* root/<cam>/<lane>/state: clear|occupied|blocked */
	FL_TOPIC_LANE_SETTINGS, /* root/<cam>/<lane>/settings: JSON, retained */
	FL_TOPIC_INCIDENT,      /* root/<cam>/<lane>/incident: JSON, QoS 1 */
	FL_TOPIC_EVIDENCE,      /* root/<cam>/<lane>/evidence: chunks, QoS 1 */
	FL_TOPIC_IMAGE /* root/<cam>/<lane>/image: latest JPEG, retained */
};

/*
 * Topic of kind for (site, device); camera and lane only for the per-lane
 * kinds (ignored otherwise). snprintf semantics.
 */
size_t fl_topic(char *buf, size_t len, enum fl_topic_kind kind,
		const char *site, const char *device, const char *camera,
		const char *lane);

/* The site as one topic level: '/', '+', '#' and control characters -> '_'. */
size_t fl_topic_level(const char *s, char *buf, size_t len);

/* ---- payloads ---------------------------------------------------------- */

/* One evidence file of a sealed bundle (from its manifest). */
typedef struct fl_evidence_file {
	const char *name;   /* file name inside the bundle */
	const char *sha256; /* 64 lowercase hex digits */
	double bytes;
} fl_evidence_file;

/*
 * An incident message: the event plus what the hub needs to file it.
 * type is usually fl_event_type_name(ev->type), or "evidence" (the bundle's
 * file list, once sealed) or "interrupted" (closed by a restart).
 */
typedef struct fl_incident_msg {
	const char *incident_id;
	const char *type;
	unsigned seq; /* 1, 2, ... per incident */
	const char *site, *device, *camera, *lane;
	/* the names people read (device.site_name, the lane's name), UTF-8;
	 * NULL or "": left out */
	const char *site_name, *lane_name;
	double wall_time;              /* unix seconds the event happened */
	double video_time_s;           /* < 0: not given */
	double rest_since_s;           /* video time; < 0: not given */
	double left_at_s;              /* cleared/vacated; < 0: not given */
	const double *bbox;            /* x, y, w, h, or NULL */
	const char *cls;               /* "vehicle", ... or NULL */
	const fl_evidence_file *files; /* evidence: the list, else NULL */
	size_t nfiles;
	const char *reason; /* interrupted: why; else NULL */
	/* alarm and evidence: the plate voted over the reads so far
	 * (docs/plate-model.md), NULL when the device reads none (no reader,
	 * or no read tried); text "" = unread: "plate": null goes out with
	 * the confidence, so the hub knows it was tried */
	const fl_plate_text *plate;
} fl_incident_msg;

size_t fl_incident_json(const fl_incident_msg *m, char *buf, size_t len);

/*
 * The header line of one evidence chunk (JSON, then '\n'; the chunk's raw
 * bytes follow it in the payload). sha256s are 64 hex digits.
 */
size_t fl_evidence_chunk_header(const char *incident_id, const char *file,
				long index, long count, double offset,
				double size, const char *chunk_sha256,
				const char *file_sha256, char *buf, size_t len);

/* Per camera figures in a heartbeat (docs/mqtt.md, "Heartbeat"). */
typedef struct fl_camera_health {
	const char *id;
	double fps;  /* frames decoded per second, last interval */
	double load; /* analysis seconds per wall second, 0..n */
	int online;  /* source delivering frames */
	double cpu;  /* the camera thread's CPU seconds per wall second,
		      * last interval */
	long decoded, analysed, skipped; /* frames since the start */
	double lag_s;   /* how far the last frame came behind the stream */
	int overloaded; /* the health condition is raised */
} fl_camera_health;

typedef struct fl_health {
	double wall_time;
	unsigned long long epoch; /* the connection epoch (status); 0: none */
	double uptime_s;
	const fl_camera_health *cameras;
	size_t ncameras;
	long spool_messages;
	double spool_bytes;
	long spool_dropped;  /* heartbeats dropped to make room */
	long spool_refused;  /* messages refused: spool full (logged) */
	double disk_free_mb; /* on the spool's file system; < 0 unknown */
	int clock_synced;    /* 1 synced, 0 not, -1 unknown */
	long config_version; /* applied remotely; 0: the local file */
	/* Sealed bundles without a delivery receipt (0 without an evidence
	 * store), and the oldest of them whose receipts the edge asks for
	 * again (docs/mqtt.md, "Delivery receipt"). */
	long undelivered;
	const char (*ask)[FL_INCIDENT_ID_MAX];
	size_t nask; /* 0..FL_HEARTBEAT_ASK_MAX */
} fl_health;

/* At most this many bundles' receipts asked for in one heartbeat. */
#define FL_HEARTBEAT_ASK_MAX 8

size_t fl_heartbeat_json(const fl_health *h, char *buf, size_t len);

/* A buffer for any heartbeat: FL_MAX_CAMERAS cameras of the longest ids
 * and figures (about 280 bytes each) and the device's part. */
#define FL_HEARTBEAT_MAX                                                       \
	(1024 + FL_MAX_CAMERAS * 384 +                                         \
	 FL_HEARTBEAT_ASK_MAX * (FL_INCIDENT_ID_MAX + 4))

/*
 * The status payload: "online", "offline" or "stopped", a space, and the
 * connection epoch in decimal (docs/mqtt.md, "Status"): a number that
 * grows with each of the device's connections to the broker (its start,
 * in milliseconds since 1970, kept increasing across restarts), which
 * orders its statuses, so an old one sent again cannot rewrite the
 * present. snprintf semantics.
 */
size_t fl_status_payload(const char *status, unsigned long long epoch,
			 char *buf, size_t len);

/*
 * The other side: a status payload (len bytes) into its word (copied to
 * status, statuslen >= 8) and epoch. "WORD EPOCH" with EPOCH 1..19 digits,
 * or a bare "WORD" as devices sent it before epochs (*epoch 0). 0, or
 * FL_EFORMAT.
 */
int fl_status_parse(const void *payload, size_t len, char *status,
		    size_t statuslen, unsigned long long *epoch);

/* A lane's settings as published retained on .../settings. */
size_t fl_lane_settings_json(int enabled, double dwell_s, char *buf,
			     size_t len);

/*
 * Home Assistant discovery (https://www.home-assistant.io/integrations/
 * mqtt/#mqtt-discovery): three entities per lane. which: 0 the "blocked"
 * binary_sensor, 1 the dwell sensor, 2 the latest evidence image. Writes the
 * config topic into topic and the JSON into buf; returns the payload length
 * (snprintf semantics).
 */
size_t fl_discovery(int which, const char *site, const char *device,
		    const char *camera, const char *lane, const char *lane_name,
		    char *topic, size_t topiclen, char *buf, size_t len);

#define FL_DISCOVERY_ENTITIES 3

/* ---- commands ---------------------------------------------------------- */

enum fl_cmd_kind {
	FL_CMD_ENABLE,    /* lane: alarms on */
	FL_CMD_DISABLE,   /* lane: alarms off (like outside active hours) */
	FL_CMD_DWELL,     /* lane: dwell_s = value */
	FL_CMD_SNAPSHOT,  /* camera: write the current frame */
	FL_CMD_WARN,      /* lane: run the on-site warning now */
	FL_CMD_RELOAD,    /* device: re-read the configuration file */
	FL_CMD_CONFIG,    /* device: apply the configuration in "yaml" */
	FL_CMD_CONFIG_GET /* device: answer with the configuration file */
};

#define FL_CMD_REQ_MAX 65
/* A command's payload at most; a config command (the whole configuration
 * file in it) may be up to FL_CMD_CONFIG_MAX. */
#define FL_CMD_MAX 4096
#define FL_CMD_CONFIG_MAX (256 * 1024)

typedef struct fl_command {
	enum fl_cmd_kind kind;
	char req[FL_CMD_REQ_MAX]; /* "id" echoed in the answer, "" if none */
	char camera[FL_ID_MAX];   /* "" for device commands */
	char lane[FL_ID_MAX];     /* "" for device and camera commands */
	double value;             /* FL_CMD_DWELL */
	double time;              /* the hub's clock when sent; NAN: none */
	char nonce[FL_NONCE_MAX]; /* 16..64 hex digits; "" if none */
	int inline_pic; /* FL_CMD_SNAPSHOT: the picture in the answer */
	int mask;       /* FL_CMD_SNAPSHOT: ... and the analysis mask */
	long version;   /* FL_CMD_CONFIG: 1..2^31-1 */
	/* FL_CMD_CONFIG: "yaml" as it stands in the payload (JSON-escaped,
	 * without its quotes), borrowed from the payload for as long as that
	 * lives; text_size is its length once decoded (fl_command_text). */
	const char *text;
	size_t text_len, text_size;
} fl_command;

/*
 * Parse and validate a command payload (len bytes, need not be
 * NUL-terminated): a flat JSON object {"cmd": ..., "id": ..., "camera": ...,
 * "lane": ..., "dwell_s": ..., "time": ..., "nonce": ..., "inline": bool,
 * "mask": bool, "version": N, "yaml": TEXT}. At most FL_CMD_MAX bytes
 * (FL_CMD_CONFIG_MAX for a config command). Checks the
 * shape, the names (ids), and the ranges; whether the camera and lane
 * exist is the caller's (it knows the configuration), and so is whether
 * the time and nonce make it fresh (fl_command_verify, which also
 * requires them). Returns 0, or FL_EFORMAT with a one-line reason in err;
 * on error out->req still holds the "id" when one could be read, so the
 * answer can carry it.
 */
int fl_command_parse(const char *payload, size_t len, fl_command *out,
		     char *err, size_t errlen);

const char *fl_command_name(enum fl_cmd_kind kind);

/*
 * Decode a config command's "yaml" (cmd->text, whose payload must still
 * live) into out, NUL-terminated; cap must be at least cmd->text_size + 1.
 * Returns the decoded length, or (size_t)-1 when it does not fit.
 */
size_t fl_command_text(const fl_command *cmd, char *out, size_t cap);

/* The answer on .../command/state: {"id":..,"cmd":..,"ok":true,...}.
 * cmd may be NULL (unparseable); detail is a JSON object text or NULL (ok)
 * and error a message (not ok). */
size_t fl_command_answer(const char *req, const char *cmd, int ok,
			 const char *error, const char *detail, char *buf,
			 size_t len);

#endif /* FL_TOPIC_H */
