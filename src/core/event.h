/*
 * event.h - what the incident logic tells the world, and its JSON line form.
 *
 * Detection is decoupled from consequences: src/core emits fl_event values
 * through a callback; sinks (the replay events file, stdout, MQTT, the
 * evidence writer, the warning output) subscribe. The JSON form is the
 * events file of replay mode (README, "Events"; docs/eval.md scores it):
 * one object per line, "type", "lane", "incident_id", "video_time_s",
 * "bbox" and extra fields that scorers ignore.
 *
 * Camera events (camera_offline, camera_online, health) belong to the camera,
 * not to a lane: their line has "type", "camera", "lane": "",
 * "incident_id": "", "video_time_s" and "reason", and no bbox or class.
 * Lane events are written exactly as before the camera events existed.
 */
#ifndef FL_EVENT_H
#define FL_EVENT_H

#include <stddef.h>

#include "id.h" /* FL_INCIDENT_ID_MAX */

enum fl_event_type {
	FL_EV_OCCUPIED,  /* an object came to rest in the lane */
	FL_EV_ALARM,     /* at rest for dwell_s: the lane is blocked */
	FL_EV_CLEARED,   /* an alarmed obstruction left; incident closed */
	FL_EV_VACATED,   /* an object left before its alarm; nothing kept */
	FL_EV_WARNED,    /* on-site warning given (src/core/warn.c) */
	FL_EV_ESCALATED, /* unanswered past the lane's escalate_s: for
			    enforcement (docs/hub.md, alerts) */
	/* Camera events: lane NULL or "", incident_id "", reason set. */
	FL_EV_CAMERA_OFFLINE, /* the stream is lost; reason "stream lost: .." */
	FL_EV_CAMERA_ONLINE,  /* frames flow again after an offline */
	FL_EV_HEALTH          /* a view problem starts ("frozen", "covered",
			       * "moved") or ends ("cleared: frozen", ...);
			       * see docs/health.md */
};

typedef struct fl_event {
	enum fl_event_type type;
	const char *camera; /* borrowed, lives as long as the config */
	const char *lane;
	char incident_id[FL_INCIDENT_ID_MAX];
	double t;           /* video time the event happened, seconds */
	double rest_since;  /* when the object came to rest */
	double left_at;     /* CLEARED/VACATED: when the lane was first
				 seen clear again; else unused */
	double bbox[4];     /* x, y, w, h in source pixels */
	int cls;            /* fl_class bit or 0 when unknown */
	const char *reason; /* camera events: why (borrowed for the call,
				 may be NULL); unused by lane events */
	int repeat;         /* WARNED: 0 the first warning of the incident,
				 n the n-th repeat; else unused */
	int manual;         /* WARNED: 1 when asked for by a command */
	/* ALARM: the plate read so far (the evidence writer's vote, filled
	 * by the camera before the event goes out; text "" = unread), or
	 * NULL when nothing reads plates; unused by other events */
	const struct fl_plate_text *plate;
} fl_event;

/* Sink: ev is borrowed for the duration of the call. */
typedef void (*fl_event_fn)(const fl_event *ev, void *user);

const char *fl_event_type_name(enum fl_event_type type);

/* "vehicle", "object", "person" or "unknown". */
const char *fl_class_name(int cls);

/* 1 for the camera events (FL_EV_CAMERA_OFFLINE, _ONLINE, FL_EV_HEALTH). */
int fl_event_is_camera(enum fl_event_type type);

/*
 * Format ev as one JSON object (no trailing newline) into buf.
 * Returns the length it needs (snprintf semantics); strings are escaped.
 */
size_t fl_event_json(const fl_event *ev, char *buf, size_t len);

/* Escape s as a JSON string (with quotes) into buf; snprintf semantics. */
size_t fl_json_string(const char *s, char *buf, size_t len);

#endif /* FL_EVENT_H */
