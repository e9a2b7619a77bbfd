/*
 * event.c - names of events and classes, and the JSON line codec.
 *
 * The codec writes with snprintf into a caller buffer, so it allocates
 * nothing and can be used from any sink. Numbers are printed with enough
 * digits for milliseconds of video time (NaN and infinities, which JSON
 * cannot say, as null); strings are escaped for JSON (control characters
 * as \u00XX, UTF-8 passed through unchanged).
 *
 * Camera events (offline, online, health) have no lane, object or box: their
 * line stops after video_time_s with a "reason"; a NULL lane, camera or
 * reason is written as "". Lane events never carry "reason", so their lines
 * are byte for byte what they were before camera events existed.
 */
#include "event.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

const char *fl_event_type_name(enum fl_event_type type)
{
	switch (type) {
	case FL_EV_OCCUPIED:
		return "occupied";
	case FL_EV_ALARM:
		return "alarm";
	case FL_EV_CLEARED:
		return "cleared";
	case FL_EV_VACATED:
		return "vacated";
	case FL_EV_WARNED:
		return "warned";
	case FL_EV_ESCALATED:
		return "escalated";
	case FL_EV_CAMERA_OFFLINE:
		return "camera_offline";
	case FL_EV_CAMERA_ONLINE:
		return "camera_online";
	case FL_EV_HEALTH:
		return "health";
	}
	return "unknown";
}

int fl_event_is_camera(enum fl_event_type type)
{
	return type == FL_EV_CAMERA_OFFLINE || type == FL_EV_CAMERA_ONLINE ||
	       type == FL_EV_HEALTH;
}

const char *fl_class_name(int cls)
{
	switch (cls) {
	case FL_CLASS_VEHICLE:
		return "vehicle";
	case FL_CLASS_OBJECT:
		return "object";
	case FL_CLASS_PERSON:
		return "person";
	}
	return "unknown";
}

/* Append to buf at *pos, keeping snprintf semantics over the whole line. */
static void put(char *buf, size_t len, size_t *pos, const char *s, size_t n)
{
	if (*pos < len) {
		size_t room = len - *pos - 1;
		memcpy(buf + *pos, s, n < room ? n : room);
		buf[*pos + (n < room ? n : room)] = '\0';
	}
	*pos += n;
}

size_t fl_json_string(const char *s, char *buf, size_t len)
{
	size_t pos = 0;

	if (len)
		buf[0] = '\0';
	put(buf, len, &pos, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		switch (*p) {
		case '"':
			put(buf, len, &pos, "\\\"", 2);
			break;
		case '\\':
			put(buf, len, &pos, "\\\\", 2);
			break;
		case '\n':
			put(buf, len, &pos, "\\n", 2);
			break;
		case '\r':
			put(buf, len, &pos, "\\r", 2);
			break;
		case '\t':
			put(buf, len, &pos, "\\t", 2);
			break;
		default:
			if (*p < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", *p);
				put(buf, len, &pos, esc, 6);
			} else {
				put(buf, len, &pos, (const char *)p, 1);
			}
		}
	}
	put(buf, len, &pos, "\"", 1);
	return pos;
}

/*
 * Append key and v with prec decimals. NaN and the infinities have no JSON
 * form and are written as null; a finite double always fits tmp (%.3f of
 * DBL_MAX is 314 characters), so the number is never cut short.
 */
static void put_num(char *buf, size_t len, size_t *pos, const char *key,
		    int prec, double v)
{
	char tmp[400];
	int n = isfinite(v) ? snprintf(tmp, sizeof(tmp), "%.*f", prec, v) : -1;

	put(buf, len, pos, key, strlen(key));
	if (n < 0 || (size_t)n >= sizeof(tmp))
		put(buf, len, pos, "null", 4);
	else
		put(buf, len, pos, tmp, (size_t)n);
}

static void put_str(char *buf, size_t len, size_t *pos, const char *key,
		    const char *val)
{
	char tmp[512];
	size_t n;

	put(buf, len, pos, key, strlen(key));
	n = fl_json_string(val ? val : "", tmp, sizeof(tmp));
	if (n >= sizeof(tmp)) /* too long to escape in place: give up on it */
		n = fl_json_string("", tmp, sizeof(tmp));
	put(buf, len, pos, tmp, n);
}

size_t fl_event_json(const fl_event *ev, char *buf, size_t len)
{
	size_t pos = 0;

	if (len)
		buf[0] = '\0';
	put_str(buf, len, &pos, "{\"type\":", fl_event_type_name(ev->type));
	put_str(buf, len, &pos, ",\"camera\":", ev->camera);
	put_str(buf, len, &pos, ",\"lane\":", ev->lane);
	put_str(buf, len, &pos, ",\"incident_id\":", ev->incident_id);
	put_num(buf, len, &pos, ",\"video_time_s\":", 3, ev->t);
	if (fl_event_is_camera(ev->type)) {
		/* The camera's own events: no place, no object. */
		put_str(buf, len, &pos, ",\"reason\":", ev->reason);
		put(buf, len, &pos, "}", 1);
		return pos;
	}
	put_num(buf, len, &pos, ",\"rest_since_s\":", 3, ev->rest_since);
	put(buf, len, &pos, ",\"bbox\":[", 9);
	for (int i = 0; i < 4; i++)
		put_num(buf, len, &pos, i ? "," : "", 0, ev->bbox[i]);
	put(buf, len, &pos, "]", 1);
	put_str(buf, len, &pos, ",\"class\":", fl_class_name(ev->cls));
	if (ev->type == FL_EV_CLEARED || ev->type == FL_EV_VACATED) {
		put_num(buf, len, &pos, ",\"left_at_s\":", 3, ev->left_at);
		put_num(buf, len, &pos, ",\"duration_s\":", 3,
			ev->left_at - ev->rest_since);
	}
	if (ev->type == FL_EV_WARNED) {
		put_num(buf, len, &pos, ",\"repeat\":", 0, ev->repeat);
		put_str(buf, len, &pos,
			",\"trigger\":", ev->manual ? "manual" : "auto");
	}
	put(buf, len, &pos, "}", 1);
	return pos;
}
