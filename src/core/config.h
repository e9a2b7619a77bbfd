/*
 * config.h - the edge configuration: its schema, defaults and validation.
 *
 * A note on the model. The configuration is a plain struct of fixed-size
 * arrays (no heap), filled from a table of settings (redis's standardConfig):
 * every key has a type, a default, bounds and a help line, and the same table
 * generates the sample configuration and docs/config.md. Validation happens
 * once, at load, and names the file and line of the offending key; nothing
 * downstream clamps or repairs values. The table is data for the engine in
 * schema.h, the same engine the hub's configuration uses.
 *
 * The YAML itself is read by src/config (libyaml) into a small node tree
 * (fl_node, schema.h) that carries line numbers; the engine only walks that
 * tree, so it stays free of I/O and can be fuzzed and unit-tested directly.
 */
#ifndef FL_CONFIG_H
#define FL_CONFIG_H

#include <stddef.h>

#include "id.h"     /* FL_ID_MAX: ids are 1..63 of [A-Za-z0-9_.-] */
#include "schema.h" /* fl_node */

#define FL_NAME_MAX 128 /* display names, UTF-8 */
#define FL_PATH_MAX 1024
#define FL_MAX_CAMERAS 16
#define FL_MAX_LANES 8   /* per camera */
#define FL_MAX_POINTS 16 /* per lane polygon */
#define FL_MAX_HOURS 4   /* active-hour ranges per lane */

/* What may count as an obstruction (bit set). */
enum fl_class {
	FL_CLASS_VEHICLE = 1 << 0, /* car, van, truck, bus, e-bike, tricycle */
	FL_CLASS_OBJECT = 1 << 1,  /* boxes, goods, material, anything else */
	FL_CLASS_PERSON = 1 << 2   /* people standing or sitting */
};

typedef struct fl_point {
	double x, y;
} fl_point;

/* Minutes since local midnight, [start, end); start > end wraps midnight. */
typedef struct fl_hours {
	int start_min, end_min;
} fl_hours;

typedef struct fl_lane_conf {
	char id[FL_ID_MAX];
	char name[FL_NAME_MAX];         /* display name; defaults to id */
	fl_point points[FL_MAX_POINTS]; /* source-frame pixels */
	int npoints;
	double dwell_s;     /* at rest this long in the lane: alarm */
	double clear_s;     /* lane seen clear this long: incident closes */
	double occlusion_s; /* a hidden obstruction is held this long */
	double min_size_px; /* smaller objects (either side) are ignored */
	double min_size_m;  /* ... and smaller than this, at the lane's scale */
	double width_m;     /* the lane's real width: the scale of the image */
	double min_overlap; /* of an object's ground contact inside: counts */
	double clear_width_m; /* less left clear beside an object: counts; 0 off */
	int classes;          /* fl_class bits that count as obstruction */
	fl_hours hours[FL_MAX_HOURS]; /* when alarms are raised */
	int nhours;                   /* 0: always */
	double warn_s;        /* on-site warning at rest this long; 0 = off */
	double warn_repeat_s; /* then every warn_repeat_s; 0 = once */
	int warn_max_repeats; /* repeats after the first, at most */
	fl_hours quiet[FL_MAX_HOURS]; /* no automatic warning inside */
	int nquiet;                   /* 0: never quiet */
	double escalate_s;
	int disabled; /* 1: alarms off (like outside active hours) */
	int line;     /* where the lane was defined, for messages */
} fl_lane_conf;

/* One stream of a camera (cameras[].detect, cameras[].record): a URL or
 * file, and the options the source honours. */
/* A hwaccel name with its NUL (detect.hwaccel: "videotoolbox" is the
 * longest). */
#define FL_HWACCEL_MAX 16

typedef struct fl_stream_conf {
	char url[FL_PATH_MAX]; /* "" = not given */
	int udp;               /* transport: udp (RTSP); 0 = tcp */
	double timeout_s;      /* open/read timeout; 0 = the source's 10 s */
	char hwaccel[FL_HWACCEL_MAX]; /* detect only: "" = the device's
				* detect.hwaccel */
} fl_stream_conf;

/* Aspect ratios of a camera's detect and record streams may differ by this
 * share at most (the lanes are scaled from one to the other). */
#define FL_ASPECT_TOLERANCE 0.02

typedef struct fl_camera_conf {
	char id[FL_ID_MAX];
	char source[FL_PATH_MAX];    /* URL, file, pattern, /dev/videoN */
	fl_stream_conf detect;       /* the stream analysed (or source) */
	fl_stream_conf record;       /* evidence stream; url "" = none */
	char reference[FL_PATH_MAX]; /* clear-lane image; "" for none */
	double fps;                  /* for image sequences; 0 = from stream */
	int width, height;           /* expected frame size; 0 = unchecked */
	fl_lane_conf lanes[FL_MAX_LANES];
	int nlanes;
	int line;
} fl_camera_conf;

typedef struct fl_detect_conf {
	int analysis_width;      /* analysis frame width, pixels */
	double analysis_fps;     /* analysed frames per second of video */
	double rest_s;           /* still this long: at rest */
	char model[FL_PATH_MAX]; /* optional dnn (.cfg or .onnx); "" none */
	double model_interval_s; /* classify a candidate at most this often */
	double model_conf;       /* detector confidence threshold */
	int people_detector;     /* HOG person check without a model */
	char hwaccel[FL_HWACCEL_MAX]; /* decoding of detect streams: none, auto,
				  * vaapi, ... (docs/cameras.md) */
} fl_detect_conf;

/* Evidence bundles (src/core/evidence.c plans them, src/evidence writes). */
typedef struct fl_evidence_conf {
	char dir[FL_PATH_MAX]; /* evidence store; "" = off (--evidence-dir) */
	double pre_roll_s;     /* clip starts this long before rest */
	double post_roll_s;    /* clip ends this long after the alarm */
	double interval_s;     /* scene images after the alarm; 0 = auto */
	int max_images;        /* scene images per incident at most */
	int jpeg_quality;
	int closeup_max_px;     /* close-up longer side at most */
	double preroll_mb;      /* pre-roll ring per camera, MiB at most */
	double max_mb;          /* store budget (delivered bundles pruned) */
	double max_age_days;    /* delivered bundles kept this long; 0 = keep */
	double min_free_mb;     /* no new bundle below this much free space */
	char font[FL_PATH_MAX]; /* overlay font (CJK) */
	char language[8];       /* banner labels: zh-CN|en (core/lang.h) */
	int plates;             /* read plates (docs/plate-model.md) */
	int plates_cn_only;     /* reads of no Chinese plate shape: unread */
	char plate_model[FL_PATH_MAX]; /* "" = the one built in */
} fl_evidence_conf;

/* The board of the capture device: warning outputs, watchdog, clock
 * (firmware/hal.h builds it from this). */
typedef struct fl_board_conf {
	char type[16];          /* "none", "sim" or "linux" */
	char chip[FL_PATH_MAX]; /* linux: GPIO chip name or /dev path */
	int speaker_line;       /* linux: GPIO line of the speaker relay, -1 */
	int strobe_line;        /* linux: GPIO line of the strobe relay, -1 */
	int active_low;         /* linux: relays switch on a low level */
	char clip[FL_PATH_MAX]; /* warning audio clip; "" = relays only */
	char player[FL_PATH_MAX];   /* linux: player command, clip appended */
	char watchdog[FL_PATH_MAX]; /* linux: watchdog device; "" = none */
	double speaker_s;           /* speaker relay on per warning */
	double strobe_s;            /* strobe relay on per warning */
	char log[FL_PATH_MAX]; /* sim: action log (JSON lines); "" = none */
} fl_board_conf;

/* MQTT to the hub (src/mqtt, docs/mqtt.md); host "" = no broker. */
typedef struct fl_mqtt_conf {
	char host[256]; /* broker host; "" = MQTT off */
	int port;       /* 0 = 1883 (8883 with TLS) */
	char username[128];
	char password[256];
	char tls_ca[FL_PATH_MAX];   /* CA file: TLS on; "" = plain TCP */
	char tls_cert[FL_PATH_MAX]; /* client certificate (PEM), optional */
	char tls_key[FL_PATH_MAX];  /* its private key (PEM) */
	int keepalive_s;
	char client_id[FL_NAME_MAX]; /* "" = firelane-<device id> */
	char hub_key[64];     /* the hub's public key (base64): commands and
			     receipts are checked with it; "" = refused */
	double heartbeat_s;   /* heartbeat period */
	double receipt_ask_s; /* ask again for receipts this late; 0 never */
	char spool_dir[FL_PATH_MAX]; /* store-and-forward folder */
	double spool_max_mb;         /* its budget */
} fl_mqtt_conf;

/* Camera health (src/detect/health.c, docs/health.md). */
typedef struct fl_health_conf {
	int enabled;        /* watch for frozen, covered, moved */
	double frozen_s;    /* the same picture this long: frozen */
	double covered_s;   /* no structure this long: covered */
	double moved_s;     /* not matching the reference this long: moved */
	double clear_s;     /* a raised condition gone this long: cleared */
	double learn_s;     /* no reference image: learn the view this long */
	double covered_std; /* structure below this (grey levels): covered */
	double moved_shift_px; /* a shift beyond this (analysis px): moved */
	double moved_corr;     /* a correlation below this: moved */
} fl_health_conf;

typedef struct fl_config {
	char path[FL_PATH_MAX]; /* file it was loaded from */
	char device_id[FL_ID_MAX];
	char site[FL_NAME_MAX];
	char site_name[FL_NAME_MAX]; /* display name; defaults to site */
	char time_zone[64];          /* core/zone.h; "" = the system's */
	int time_zone_line;          /* where it was set, for messages */
	char key_file[FL_PATH_MAX];  /* device Ed25519 key (0600) */
	char state_dir[FL_PATH_MAX]; /* the cameras' memory across restarts */
	double apply_timeout_s; /* remote apply: a changed camera's frame */
	fl_detect_conf detect;
	fl_evidence_conf evidence;
	fl_board_conf board;
	fl_mqtt_conf mqtt;
	fl_health_conf health;
	fl_camera_conf cameras[FL_MAX_CAMERAS];
	int ncameras;
} fl_config;

/* The edge's schema (its root section) for the engine, schema.h. */
const fl_section *fl_config_schema(void);

/* Fill cfg with every default (a valid config with no cameras). */
void fl_config_defaults(fl_config *cfg);

/*
 * Apply a parsed document to cfg (which must hold defaults) and validate it.
 * file names the source in messages. On error returns FL_ECONFIG and writes
 * "file:line: reason" into err (errlen bytes, NUL-terminated); cfg is then
 * partially filled and must not be used.
 */
int fl_config_apply(fl_config *cfg, const fl_node *doc, const char *file,
		    char *err, size_t errlen);

/*
 * Check a camera's lanes against the real frame size once the source is open:
 * a lane with a point outside [0,w]x[0,h] is an error naming file:line.
 */
int fl_config_check_frame(const fl_config *cfg, int camera, int w, int h,
			  char *err, size_t errlen);

/* Write the effective configuration as YAML (every key, defaults included).
 * Returns bytes that would be written (snprintf semantics). */
size_t fl_config_dump(const fl_config *cfg, char *buf, size_t len);

/* Write the reference of every key (markdown) from the schema table. */
size_t fl_config_doc(char *buf, size_t len);

/* The stream a camera analyses: detect, else source (never both). */
const fl_stream_conf *fl_camera_detect(const fl_camera_conf *cam,
				       fl_stream_conf *buf);

/* The hardware decoding a camera's detect stream asks for: its own
 * (cameras[].detect.hwaccel) when given, else the device's detect.hwaccel.
 * Borrowed from cfg. */
const char *fl_camera_hwaccel(const fl_config *cfg, const fl_camera_conf *cam);

/* 1 when a and b read the same streams (source, detect, record and their
 * options): what a camera must be reopened for when it changes. */
int fl_camera_same_streams(const fl_camera_conf *a, const fl_camera_conf *b);

/*
 * Lanes are drawn in the record stream's pixels when a camera has one
 * (rw x rh), and analysed in the detect stream's (dw x dh). Writes the
 * factors from record to detect pixels into *kx, *ky; returns FL_ECONFIG
 * with "camera 'id': ..." in err when the aspect ratios differ by more than
 * FL_ASPECT_TOLERANCE, naming the config keys.
 */
int fl_camera_scale(const fl_camera_conf *cam, int dw, int dh, int rw, int rh,
		    double *kx, double *ky, char *err, size_t errlen);

/* Write a commented sample configuration (one camera, one lane, every key
 * with its default and help line) from the schema table; it loads as is.
 * snprintf semantics, like fl_config_dump(). */
size_t fl_config_sample(char *buf, size_t len);

/* 1 if lane conf is active at minute-of-day m. */
int fl_lane_active(const fl_lane_conf *lane, int minute_of_day);

#endif /* FL_CONFIG_H */
