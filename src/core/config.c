/*
 * config.c - the edge's configuration schema: its tables, its custom values
 * and its cross-key checks (see config.h). The walker that applies, dumps and
 * documents the tables is src/core/schema.c, shared with the hub.
 *
 * A note on the tables. Every key of the configuration is one row: its name,
 * its type, where it lives in the C struct (offsetof), its default, its
 * bounds and a help line. The rows are grouped in sections (top level,
 * device, detect, evidence, board, mqtt, health, camera, lane), each section
 * one const array. A row of type T_MAP points to a nested section stored
 * inside the same struct (detect), a row of type T_LIST to a section repeated
 * in an array with a count (cameras, lanes), and a row of type T_CUSTOM to a
 * small handler triple (parse, dump, default) for the few values that are not
 * a scalar (points, obstructions, active hours). Nothing in this file walks a
 * document or knows a key by name outside its row: parsing, defaults,
 * fl_config_dump(), the sample file and fl_config_doc() all walk the same
 * rows, so the documentation cannot promise a key the parser does not
 * accept, nor a default it does not set.
 *
 * Errors are "FILE:LINE: reason" (schema.c); the lane's own checks use the
 * lane's line for a polygon that is wrong as a whole.
 *
 * Paths (detect.model, camera.source, camera.reference, device.key_file,
 * device.state_dir, evidence.dir, evidence.font, board.clip, board.watchdog,
 * board.log) that are relative resolve against the directory of the
 * configuration file, so a config and its clip can travel together; a source containing "://" is a URL
 * and is kept as written.
 */
#include "config.h"

#define FL_SCHEMA_TABLE /* short names: T_NUM, F_REQ, NUM(), ... */
#include "schema.h"

#include "envelope.h"
#include "fl.h"
#include "geom.h"
#include "lang.h"
#include "zone.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *at(void *obj, size_t off)
{
	return (char *)obj + off;
}

static const void *cat(const void *obj, size_t off)
{
	return (const char *)obj + off;
}

/* ------------------------------------------------------------------ */
/* Custom values: points, obstructions, active hours.                  */

static int points_parse(fl_schema_ctx *c, const fl_setting *s, void *obj,
			const fl_node *n, int line)
{
	fl_lane_conf *lane = obj;

	if (n->kind != FL_NODE_SEQ)
		return fl_schema_fail(c, line,
				      "%s: expected a list of [x, y] pairs",
				      s->name);
	if (n->n > (size_t)s->max)
		return fl_schema_fail(c, line,
				      "%s: %zu points, at most %g allowed",
				      s->name, n->n, s->max);
	for (size_t i = 0; i < n->n; i++) {
		const fl_node *p = n->items[i];
		double xy[2];

		if (p->kind != FL_NODE_SEQ || p->n != 2 ||
		    fl_schema_num(p->items[0], &xy[0]) ||
		    fl_schema_num(p->items[1], &xy[1]))
			return fl_schema_fail(
				c, p->line,
				"%s: expected a list of [x, y] pairs "
				"(numbers)",
				s->name);
		if (xy[0] < 0 || xy[1] < 0)
			return fl_schema_fail(c, p->line,
					      "%s: point [%g, %g] is negative; "
					      "coordinates are pixels >= 0",
					      s->name, xy[0], xy[1]);
		lane->points[i].x = xy[0];
		lane->points[i].y = xy[1];
	}
	lane->npoints = (int)n->n;
	return FL_OK;
}

static void points_dump(fl_schema_out *o, const fl_setting *s, const void *obj)
{
	const fl_lane_conf *lane = obj;

	fl_schema_printf(o, "[");
	for (int i = 0; i < lane->npoints; i++) {
		fl_schema_printf(o, "%s[", i ? ", " : "");
		fl_schema_out_num(o, lane->points[i].x);
		fl_schema_printf(o, ", ");
		fl_schema_out_num(o, lane->points[i].y);
		fl_schema_printf(o, "]");
	}
	fl_schema_printf(o, "]");
}

static void points_defaults(const fl_setting *s, void *obj)
{
	((fl_lane_conf *)obj)->npoints = 0;
}

static const struct {
	const char *name;
	int bit;
} class_names[] = { { "vehicle", FL_CLASS_VEHICLE },
		    { "object", FL_CLASS_OBJECT },
		    { "person", FL_CLASS_PERSON } };

static int classes_parse(fl_schema_ctx *c, const fl_setting *s, void *obj,
			 const fl_node *n, int line)
{
	fl_lane_conf *lane = obj;
	int bits = 0;

	if (n->kind != FL_NODE_SEQ)
		return fl_schema_fail(c, line,
				      "%s: expected a list of classes "
				      "(vehicle, object, person)",
				      s->name);
	if (n->n < 1)
		return fl_schema_fail(
			c, line,
			"%s: empty list; name at least one of vehicle, "
			"object, person",
			s->name);
	for (size_t i = 0; i < n->n; i++) {
		const fl_node *e = n->items[i];
		size_t k;

		if (e->kind != FL_NODE_SCALAR)
			return fl_schema_fail(c, e->line,
					      "%s: expected a class name "
					      "(vehicle, object, person)",
					      s->name);
		for (k = 0; k < FL_ARRAY_SIZE(class_names); k++)
			if (!strcmp(e->scalar, class_names[k].name))
				break;
		if (k == FL_ARRAY_SIZE(class_names))
			return fl_schema_fail(c, e->line,
					      "%s: unknown class '%s' (expected "
					      "vehicle, object, person)",
					      s->name, e->scalar);
		if (bits & class_names[k].bit)
			return fl_schema_fail(c, e->line,
					      "%s: '%s' listed twice", s->name,
					      e->scalar);
		bits |= class_names[k].bit;
	}
	lane->classes = bits;
	return FL_OK;
}

static void classes_dump(fl_schema_out *o, const fl_setting *s, const void *obj)
{
	const fl_lane_conf *lane = obj;
	int first = 1;

	fl_schema_printf(o, "[");
	for (size_t k = 0; k < FL_ARRAY_SIZE(class_names); k++) {
		if (lane->classes & class_names[k].bit) {
			fl_schema_printf(o, "%s%s", first ? "" : ", ",
					 class_names[k].name);
			first = 0;
		}
	}
	fl_schema_printf(o, "]");
}

static void classes_defaults(const fl_setting *s, void *obj)
{
	((fl_lane_conf *)obj)->classes = FL_CLASS_VEHICLE | FL_CLASS_OBJECT;
}

/* "HH:MM" at p into minutes; end allows 24:00. Returns chars used or -1. */
static int parse_hhmm(const char *p, int allow_24, int *min)
{
	int h, m;

	if (!(p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' &&
	      p[2] == ':' && p[3] >= '0' && p[3] <= '9' && p[4] >= '0' &&
	      p[4] <= '9'))
		return -1;
	h = (p[0] - '0') * 10 + (p[1] - '0');
	m = (p[3] - '0') * 10 + (p[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && (m != 0 || !allow_24)))
		return -1;
	*min = h * 60 + m;
	return 5;
}

/*
 * Hour ranges: the fl_hours array at s->off, its count at s->count_off (the
 * lane's "active" and "quiet_hours" share the code). An empty list means
 * "always" where at least one range is required (active, shown as
 * 00:00-24:00), and "never" where none is (quiet hours, shown as []).
 */
static int hours_parse(fl_schema_ctx *c, const fl_setting *s, void *obj,
		       const fl_node *n, int line)
{
	fl_hours *hours = at(obj, s->off);

	if (n->kind != FL_NODE_SEQ)
		return fl_schema_fail(
			c, line,
			"%s: expected a list of \"HH:MM-HH:MM\" ranges",
			s->name);
	if (n->n < (size_t)s->min || n->n > (size_t)s->max)
		return fl_schema_fail(c, line,
				      "%s: %zu ranges, expected %g..%g",
				      s->name, n->n, s->min, s->max);
	for (size_t i = 0; i < n->n; i++) {
		const fl_node *e = n->items[i];
		fl_hours *hr = &hours[i];
		const char *p;

		if (e->kind != FL_NODE_SCALAR)
			return fl_schema_fail(c, e->line,
					      "%s: expected \"HH:MM-HH:MM\"",
					      s->name);
		p = e->scalar;
		if (parse_hhmm(p, 0, &hr->start_min) < 0 || p[5] != '-' ||
		    parse_hhmm(p + 6, 1, &hr->end_min) < 0 || p[11] != '\0')
			return fl_schema_fail(c, e->line,
					      "%s: '%s' is not \"HH:MM-HH:MM\" "
					      "(00:00..23:59, end up to 24:00)",
					      s->name, e->scalar);
		if (hr->start_min == hr->end_min)
			return fl_schema_fail(c, e->line,
					      "%s: '%s' is an empty range",
					      s->name, e->scalar);
	}
	*(int *)at(obj, s->count_off) = (int)n->n;
	return FL_OK;
}

static void hours_dump(fl_schema_out *o, const fl_setting *s, const void *obj)
{
	const fl_hours *hours = cat(obj, s->off);
	int n = *(const int *)cat(obj, s->count_off);

	if (n == 0) {
		fl_schema_printf(o, s->min >= 1 ? "[\"00:00-24:00\"]" : "[]");
		return;
	}
	fl_schema_printf(o, "[");
	for (int i = 0; i < n; i++) {
		const fl_hours *h = &hours[i];
		fl_schema_printf(o, "%s\"%02d:%02d-%02d:%02d\"", i ? ", " : "",
				 h->start_min / 60, h->start_min % 60,
				 h->end_min / 60, h->end_min % 60);
	}
	fl_schema_printf(o, "]");
}

static void hours_defaults(const fl_setting *s, void *obj)
{
	*(int *)at(obj, s->count_off) = 0;
}

/*
 * Hardware decoding (detect.hwaccel, cameras[].detect.hwaccel): one of the
 * names the media layer knows (src/media/source.c tries them; what does not
 * open there falls back to software, so a name here is only a wish). A name
 * not on the list is a typo and refused at load.
 */
static const char *const hwaccel_names[] = { "none",        "auto", "vaapi",
					     "v4l2m2m",     "cuda", "qsv",
					     "videotoolbox" };
#define HWACCEL_DOC "none, auto, vaapi, v4l2m2m, cuda, qsv, videotoolbox"

/* Copy n's name into out (FL_HWACCEL_MAX bytes) when it is a known one; else fail. */
static int hwaccel_set(fl_schema_ctx *c, const char *key, const fl_node *n,
		       char *out)
{
	for (size_t i = 0;
	     n->kind == FL_NODE_SCALAR && i < FL_ARRAY_SIZE(hwaccel_names); i++)
		if (!strcmp(n->scalar, hwaccel_names[i])) {
			snprintf(out, FL_HWACCEL_MAX, "%s", n->scalar);
			return FL_OK;
		}
	return fl_schema_fail(c, n->line, "%s: unknown '%s' (expected %s)", key,
			      n->kind == FL_NODE_SCALAR ? n->scalar : "?",
			      HWACCEL_DOC);
}

static int hwaccel_parse(fl_schema_ctx *c, const fl_setting *s, void *obj,
			 const fl_node *n, int line)
{
	return hwaccel_set(c, "detect.hwaccel", n, at(obj, s->off));
}

static void hwaccel_dump(fl_schema_out *o, const fl_setting *s, const void *obj)
{
	fl_schema_printf(o, "%s", (const char *)cat(obj, s->off));
}

static void hwaccel_defaults(const fl_setting *s, void *obj)
{
	memset(at(obj, s->off), 0, FL_HWACCEL_MAX);
	snprintf(at(obj, s->off), FL_HWACCEL_MAX, "%s", s->sdef);
}

/*
 * A camera's stream (detect, record): a plain string (the URL or file,
 * resolved like source) or a map with it under `url` and the options
 * (transport, timeout_s).
 */
static int stream_parse(fl_schema_ctx *c, const fl_setting *s, void *obj,
			const fl_node *n, int line)
{
	fl_stream_conf *st = at(obj, s->off);
	const fl_node *url = n;

	memset(st, 0, sizeof(*st));
	if (n->kind == FL_NODE_MAP) {
		url = NULL;
		for (size_t i = 0; i < n->n; i++) {
			const fl_node *v = n->items[i];
			const char *k = n->keys[i];
			double num;

			if (!strcmp(k, "url"))
				url = v;
			else if (!strcmp(k, "transport") &&
				 v->kind == FL_NODE_SCALAR &&
				 (!strcmp(v->scalar, "tcp") ||
				  !strcmp(v->scalar, "udp")))
				st->udp = !strcmp(v->scalar, "udp");
			else if (!strcmp(k, "transport"))
				return fl_schema_fail(
					c, v->line,
					"%s.transport: expected tcp or udp",
					s->name);
			else if (!strcmp(k, "timeout_s") &&
				 !fl_schema_num(v, &num) && num >= 0.5 &&
				 num <= 120)
				st->timeout_s = num;
			else if (!strcmp(k, "timeout_s"))
				return fl_schema_fail(
					c, v->line,
					"%s.timeout_s: expected a number "
					"0.5..120",
					s->name);
			else if (!strcmp(k, "hwaccel") &&
				 !strcmp(s->name, "detect")) {
				if (hwaccel_set(c, "detect.hwaccel", v,
						st->hwaccel))
					return FL_ECONFIG;
			} else if (!strcmp(k, "hwaccel"))
				return fl_schema_fail(
					c, v->line,
					"%s.hwaccel: the %s stream is not "
					"decoded; hwaccel goes under detect",
					s->name, s->name);
			else
				return fl_schema_fail(
					c, v->line,
					"unknown key '%s' in %s (expected url, "
					"transport, timeout_s%s)",
					k, s->name,
					strcmp(s->name, "detect")
						? ""
						: ", hwaccel");
		}
		if (!url)
			return fl_schema_fail(c, line, "%s: missing url",
					      s->name);
	}
	if (url->kind == FL_NODE_SCALAR && !url->scalar[0] && url == n)
		return FL_OK; /* "": not given (what the dump writes) */
	if (url->kind != FL_NODE_SCALAR || !url->scalar[0])
		return fl_schema_fail(c, url->line,
				      "%s: expected a URL or a file, or a map "
				      "with url",
				      s->name);
	if (fl_schema_resolve_path(st->url, sizeof(st->url), url->scalar,
				   c->file))
		return fl_schema_fail(c, url->line, "%s: path too long",
				      s->name);
	return FL_OK;
}

/* A camera's password is not shown (the dump ends up in bug reports). */
static void stream_dump(fl_schema_out *o, const fl_setting *s, const void *obj)
{
	const fl_stream_conf *st = cat(obj, s->off);
	char url[sizeof(st->url) + 32];

	fl_url_redact(st->url, url, sizeof(url));
	if (!st->udp && st->timeout_s == 0 && !st->hwaccel[0]) {
		fl_schema_out_quoted(o, url);
		return;
	}
	fl_schema_printf(o, "{url: ");
	fl_schema_out_quoted(o, url);
	fl_schema_printf(o, ", transport: %s", st->udp ? "udp" : "tcp");
	if (st->timeout_s > 0) {
		fl_schema_printf(o, ", timeout_s: ");
		fl_schema_out_num(o, st->timeout_s);
	}
	if (st->hwaccel[0])
		fl_schema_printf(o, ", hwaccel: %s", st->hwaccel);
	fl_schema_printf(o, "}");
}

static void stream_defaults(const fl_setting *s, void *obj)
{
	memset(at(obj, s->off), 0, sizeof(fl_stream_conf));
}

static const fl_custom points_type = { points_parse, points_dump,
				       points_defaults, "list of [x, y]" };
static const fl_custom classes_type = { classes_parse, classes_dump,
					classes_defaults,
					"list of vehicle/object/person" };
static const fl_custom hours_type = { hours_parse, hours_dump, hours_defaults,
				      "list of \"HH:MM-HH:MM\"" };
static const fl_custom stream_type = { stream_parse, stream_dump,
				       stream_defaults,
				       "URL/file, or {url, transport, "
				       "timeout_s}",
				       "transport tcp/udp, timeout_s 0.5..120" };
static const fl_custom hwaccel_type = { hwaccel_parse, hwaccel_dump,
					hwaccel_defaults, "name", HWACCEL_DOC };

/* ------------------------------------------------------------------ */
/* Section checks that involve several keys.                            */

static int lane_finish(fl_schema_ctx *c, void *obj, const fl_node *map)
{
	fl_lane_conf *lane = obj;
	double area;

	if (!lane->name[0])
		snprintf(lane->name, sizeof(lane->name), "%s", lane->id);
	if (lane->npoints < 3)
		return fl_schema_fail(
			c, lane->line,
			"lane '%s': polygon has %d points, at least 3 "
			"are needed",
			lane->id, lane->npoints);
	/* Crossing first: a symmetric bow tie also has zero signed area. */
	if (fl_poly_self_intersects(lane->points, lane->npoints))
		return fl_schema_fail(
			c, lane->line,
			"lane '%s': polygon is self-intersecting (edges "
			"cross or touch, or a point repeats)",
			lane->id);
	area = fabs(fl_poly_area(lane->points, lane->npoints));
	if (area < 1.0)
		return fl_schema_fail(
			c, lane->line,
			"lane '%s': polygon area %g px^2 is below 1 "
			"px^2 (points on a line?)",
			lane->id, area);
	return FL_OK;
}

static int check_camera_frame(fl_schema_ctx *c, const fl_camera_conf *cam,
			      int w, int h)
{
	for (int l = 0; l < cam->nlanes; l++) {
		const fl_lane_conf *lane = &cam->lanes[l];
		for (int i = 0; i < lane->npoints; i++) {
			const fl_point *p = &lane->points[i];
			if (p->x < 0 || p->y < 0 || p->x > w || p->y > h)
				return fl_schema_fail(
					c, lane->line,
					"lane '%s': point [%g, %g] is "
					"outside the %dx%d frame of "
					"camera '%s'",
					lane->id, p->x, p->y, w, h, cam->id);
		}
	}
	return FL_OK;
}

static int camera_finish(fl_schema_ctx *c, void *obj, const fl_node *map)
{
	fl_camera_conf *cam = obj;

	if (cam->source[0] && cam->detect.url[0])
		return fl_schema_fail(
			c, fl_schema_key_line(map, "detect"),
			"camera '%s': give source or detect, not both (source "
			"is the single stream; detect and record are two)",
			cam->id);
	if (!cam->source[0] && !cam->detect.url[0])
		return fl_schema_fail(c, cam->line,
				      "missing required key 'source' in "
				      "camera (or detect, with record)");
	if (cam->source[0] && cam->record.url[0])
		return fl_schema_fail(
			c, fl_schema_key_line(map, "record"),
			"camera '%s': record goes with detect, not with source",
			cam->id);
	if ((cam->width > 0) != (cam->height > 0))
		return fl_schema_fail(
			c, cam->line,
			"camera '%s': give width and height together", cam->id);
	if (cam->width > 0)
		return check_camera_frame(c, cam, cam->width, cam->height);
	return FL_OK;
}

/* ------------------------------------------------------------------ */
/* The tables.                                                          */

/* STR, NUM and CUSTOM rows: schema.h. */
#define HOURS(st, name, field, count, dflt, lo, hi, help)                      \
	{                                                                      \
		name, T_CUSTOM, 0, offsetof(st, field), 0,                     \
			offsetof(st, count), 0, dflt, lo, hi, NULL,            \
			&hours_type, help                                      \
	}

static const fl_setting lane_keys[] = {
	{ "id", T_ID, F_REQ | F_RESTART, offsetof(fl_lane_conf, id), FL_ID_MAX,
	  0, 0, NULL, 1, FL_ID_MAX - 1, NULL, NULL,
	  "lane id, unique within the camera; used in events and topics" },
	STR(fl_lane_conf, name, T_TEXT, 0, "",
	    "display name (UTF-8, e.g. \"消防通道 A\"); defaults to the id"),
	{ "points", T_CUSTOM, F_RESTART, offsetof(fl_lane_conf, points), 0, 0,
	  0, NULL, 3, FL_MAX_POINTS, NULL, &points_type,
	  "lane polygon in source-frame pixels, in order; 3..16 points, "
	  "no crossing edges, area >= 1 px^2" },
	NUM(fl_lane_conf, dwell_s, T_NUM, 60, 1, 86400,
	    "seconds an object may rest in the lane before the alarm"),
	NUM(fl_lane_conf, clear_s, T_NUM, 3, 0.5, 3600,
	    "seconds the lane must be seen clear before the incident closes"),
	NUM(fl_lane_conf, occlusion_s, T_NUM, 120, 0, 86400,
	    "seconds a hidden obstruction is still held as present"),
	NUM(fl_lane_conf, min_size_px, T_NUM, 4, 0, 4096,
	    "objects smaller than this on either side (pixels) are ignored"),
	NUM(fl_lane_conf, min_size_m, T_NUM, 0.3, 0, 10,
	    "objects smaller than this on either side (metres, at the lane's "
	    "scale where they stand: the polygon's width at that row is "
	    "width_m) are ignored"),
	NUM(fl_lane_conf, width_m, T_NUM, 4, 1, 50,
	    "the lane's real width (metres, 4 is the least a fire lane may "
	    "have); with the polygon it gives the image's scale along the lane"),
	NUM(fl_lane_conf, min_overlap, T_NUM, 0.3, 0.01, 1,
	    "an object obstructs the lane when at least this fraction of its "
	    "ground footprint (where it meets the ground, across the lane) is "
	    "inside the polygon"),
	NUM(fl_lane_conf, clear_width_m, T_NUM, 0, 0, 50,
	    "also an obstruction: an object (any overlap) that leaves less "
	    "than this much of the lane clear beside it (metres, at width_m); "
	    "0 = off"),
	CUSTOM(fl_lane_conf, "obstructions", classes, classes_type,
	       "[vehicle, object]", 1, 3,
	       "what counts as an obstruction; not empty (person: people "
	       "at rest, and what has a person's shape)"),
	HOURS(fl_lane_conf, "active", hours, nhours, "always", 1, FL_MAX_HOURS,
	      "local times when alarms are raised; 1..4 ranges, end may be "
	      "24:00, start > end wraps midnight"),
	NUM(fl_lane_conf, warn_s, T_NUM, 30, 0, 86400,
	    "seconds at rest before the on-site warning (speaker, strobe; "
	    "see board); 0 = no automatic warning"),
	NUM(fl_lane_conf, warn_repeat_s, T_NUM, 60, 0, 86400,
	    "repeat the on-site warning this often while the obstruction "
	    "stays (seconds); 0 = warn once"),
	NUM(fl_lane_conf, warn_max_repeats, T_INT, 5, 0, 1000,
	    "repeats of the on-site warning after the first, at most"),
	HOURS(fl_lane_conf, "quiet_hours", quiet, nquiet, "[]", 0, FL_MAX_HOURS,
	      "local times with no automatic on-site warning (a warning due "
	      "then is skipped, not saved up); 0..4 ranges like active"),
	NUM(fl_lane_conf, disabled, T_BOOL, 0, 0, 1,
	    "true: the lane raises no alarm (as outside its active hours); "
	    "also set at run time by the enable/disable commands"),
	NUM(fl_lane_conf, escalate_s, T_NUM, 600, 0, 86400,
	    "seconds at rest before escalation to enforcement"),
};

static const fl_section lane_section = {
	"lane",
	"Lanes (`cameras[].lanes[]`)",
	"One entry per fire lane the camera watches (1..8). An incident "
	"belongs to the lane: its dwell clock follows the place, not a "
	"tracked object. People standing or sitting in the lane are not "
	"obstructions by default: what a detector calls a person, and what "
	"has a person's shape where it stands (at most 0.8 m wide and at "
	"least twice as tall as wide, at the scale `width_m` gives) unless a "
	"detector calls it a vehicle (a small model's other names, such as "
	"bench, do not outweigh the shape). A site that wants them alarmed "
	"lists `person` in `obstructions`.",
	lane_keys,
	FL_ARRAY_SIZE(lane_keys),
	offsetof(fl_lane_conf, line),
	offsetof(fl_lane_conf, id),
	lane_finish,
	1 /* reload: the edge applies a lane's settings on SIGHUP */
};

static const fl_setting camera_keys[] = {
	{ "id", T_ID, F_REQ, offsetof(fl_camera_conf, id), FL_ID_MAX, 0, 0,
	  NULL, 1, FL_ID_MAX - 1, NULL, NULL,
	  "camera id, unique on the device; used in events and topics" },
	STR(fl_camera_conf, source, T_PATH, F_URL_SECRET, "",
	    "video source: file, image pattern (frames/%06d.jpg), URL "
	    "(rtsp://...) or /dev/videoN; relative files resolve against the "
	    "config's directory. The single stream: both analysed and "
	    "recorded (or use detect and record)"),
	CUSTOM(fl_camera_conf, "detect", detect, stream_type, "\"\"", 0, 0,
	       "the stream analysed (a camera's sub-stream, ~640x360), "
	       "instead of source: a URL or file, or {url, transport (tcp or "
	       "udp), timeout_s, hwaccel (this camera's own, else "
	       "detect.hwaccel)}"),
	CUSTOM(fl_camera_conf, "record", record, stream_type, "\"\"", 0, 0,
	       "the stream evidence comes from (the main stream), with "
	       "detect: demuxed, not decoded; stills and the clip are at its "
	       "resolution, and lane points are in its pixels. Its aspect "
	       "ratio must match detect's within 2 %. Detection waits for "
	       "its reads: a shorter timeout_s bounds a stall"),
	STR(fl_camera_conf, reference, T_PATH, 0, "",
	    "optional image of the clear lane (path, resolved like source)"),
	NUM(fl_camera_conf, fps, T_NUM, 0, 0, 240,
	    "frame rate of an image sequence; 0 = from the stream"),
	NUM(fl_camera_conf, width, T_INT, 0, 0, 8192,
	    "expected frame width (of record when given, else of the one "
	    "stream: the picture lanes are drawn on); with height, lanes are "
	    "checked at load, and the lanes can be placed while record is "
	    "down at start; 0 = unchecked"),
	NUM(fl_camera_conf, height, T_INT, 0, 0, 8192,
	    "expected frame height; 0 = unchecked"),
	{ "lanes", T_LIST, F_REQ, offsetof(fl_camera_conf, lanes),
	  sizeof(fl_lane_conf), offsetof(fl_camera_conf, nlanes), 0, NULL, 1,
	  FL_MAX_LANES, &lane_section, NULL, "the lanes this camera watches" },
};

static const fl_section camera_section = {
	"camera",
	"Cameras (`cameras[]`)",
	"One entry per camera the device reads (1..16).",
	camera_keys,
	FL_ARRAY_SIZE(camera_keys),
	offsetof(fl_camera_conf, line),
	offsetof(fl_camera_conf, id),
	camera_finish
};

static const fl_setting detect_keys[] = {
	NUM(fl_detect_conf, analysis_width, T_INT, 320, 64, 1920,
	    "frames are scaled to this width (pixels) for analysis"),
	NUM(fl_detect_conf, analysis_fps, T_NUM, 5, 0.5, 30,
	    "frames analysed per second of video"),
	NUM(fl_detect_conf, rest_s, T_NUM, 2, 0.5, 30,
	    "seconds an object must stay still to be at rest"),
	STR(fl_detect_conf, model, T_PATH, 0, "",
	    "optional detector: Darknet .cfg (weights beside it) or .onnx; "
	    "relative to the config's directory; \"\" = none"),
	NUM(fl_detect_conf, model_interval_s, T_NUM, 2, 0.1, 3600,
	    "classify a candidate with the model at most this often (s)"),
	NUM(fl_detect_conf, model_conf, T_NUM, 0.3, 0.01, 1,
	    "detector confidence threshold"),
	NUM(fl_detect_conf, people_detector, T_BOOL, 1, 0, 1,
	    "check candidates for people (HOG) when no model is given"),
	CUSTOM(fl_detect_conf, "hwaccel", hwaccel, hwaccel_type, "none", 0, 0,
	       "hardware decoding of the cameras' detect streams: auto tries "
	       "what the box has; what does not open falls back to software, "
	       "and the log says which decoder runs (a warning when a named "
	       "one did not open; docs/cameras.md, \"Hardware decoding\")"),
};

static const fl_section detect_section = {
	"detect",
	"Detection (`detect`)",
	"How frames are analysed. Every key is optional.",
	detect_keys,
	FL_ARRAY_SIZE(detect_keys),
	NO_OFF,
	NO_OFF,
	NULL
};

static const fl_setting device_keys[] = {
	{ "id", T_ID, F_REQ, offsetof(fl_config, device_id), FL_ID_MAX, 0, 0,
	  NULL, 1, FL_ID_MAX - 1, NULL, NULL,
	  "device id ([A-Za-z0-9_.-], 1..63); part of every MQTT topic" },
	{ "site", T_TEXT, F_REQ, offsetof(fl_config, site), FL_NAME_MAX, 0, 0,
	  NULL, 1, FL_NAME_MAX - 1, NULL, NULL,
	  "site (community) name, UTF-8, may be Chinese" },
	STR(fl_config, site_name, T_TEXT, 0, "",
	    "site name printed on evidence images (UTF-8, e.g. "
	    "\"城东小区 3 号楼\"); defaults to site"),
	STR(fl_config, time_zone, T_TEXT, 0, "",
	    "the device's time zone: a name (Asia/Shanghai), an offset "
	    "(+08:00) or \"\" = the system's; the evidence banner's local "
	    "time, active and quiet hours"),
	STR(fl_config, state_dir, T_PATH, 0, "state",
	    "folder of the cameras' memory across restarts (the clear lane "
	    "learnt, open incidents: docs/memory.md), live mode; relative "
	    "paths resolve against the config's directory; a replay uses "
	    "memory only with --state-dir"),
	STR(fl_config, key_file, T_PATH, 0, "device.key",
	    "the device's Ed25519 signing key (raw, mode 0600), created on "
	    "first start; relative paths resolve against the config's "
	    "directory"),
	NUM(fl_config, apply_timeout_s, T_NUM, 20, 1, 60,
	    "a configuration sent by the hub (the config command) is rolled "
	    "back when a camera whose source it changed or added delivers no "
	    "frame within this long (s; docs/mqtt.md); at most 60, as the "
	    "hub waits 90 s for the answer"),
};

/* Defaults that depend on other keys or on where the file lives. */
static int device_finish(fl_schema_ctx *c, void *obj, const fl_node *map)
{
	fl_config *cfg = obj;
	char tmp[FL_PATH_MAX];

	if (!cfg->site_name[0])
		snprintf(cfg->site_name, sizeof(cfg->site_name), "%s",
			 cfg->site);
	cfg->time_zone_line = fl_schema_key_line(map, "time_zone");
	/* whether a named zone exists is the program's to check
	 * (fl_tz_set, with this line) */
	if (!fl_zone_valid(cfg->time_zone))
		return fl_schema_fail(c, cfg->time_zone_line,
				      "time_zone: '%s' is not a time zone (a "
				      "name such as Asia/Shanghai, an offset "
				      "such as +08:00, or \"\")",
				      cfg->time_zone);
	/* The default key and state paths are relative too: beside the
	 * config, like explicit relative ones. Idempotent for absolute. */
	char *paths[] = { cfg->key_file, cfg->state_dir };
	const char *names[] = { "key_file", "state_dir" };
	for (size_t i = 0; i < FL_ARRAY_SIZE(paths); i++) {
		if (!paths[i][0] || paths[i][0] == '/')
			continue;
		if (fl_schema_resolve_path(tmp, sizeof(tmp), paths[i], c->file))
			return fl_schema_fail(
				c, map->line,
				"%s: path too long (max %zu bytes)", names[i],
				sizeof(tmp) - 1);
		memcpy(paths[i], tmp, sizeof(tmp));
	}
	return FL_OK;
}

/* device keys live directly in fl_config: the section's base is the root. */
static const fl_section device_section = { "device",
					   "Device (`device`)",
					   "Who this capture device is.",
					   device_keys,
					   FL_ARRAY_SIZE(device_keys),
					   NO_OFF,
					   NO_OFF,
					   device_finish };

static const fl_setting evidence_keys[] = {
	STR(fl_evidence_conf, dir, T_PATH, 0, "",
	    "evidence store folder (one folder per alarmed incident); \"\" = "
	    "no evidence unless --evidence-dir is given"),
	NUM(fl_evidence_conf, pre_roll_s, T_NUM, 10, 0, 60,
	    "the clip starts this long before the object came to rest (s)"),
	NUM(fl_evidence_conf, post_roll_s, T_NUM, 10, 0, 300,
	    "the clip ends this long after the alarm (s)"),
	NUM(fl_evidence_conf, interval_s, T_NUM, 0, 0, 3600,
	    "seconds between scene images after the alarm; 0 = auto "
	    "(max(10, dwell_s) / 3, between 2 and 10 s)"),
	NUM(fl_evidence_conf, max_images, T_INT, 6, 3, 30,
	    "scene images per incident at most (at least 3 are taken)"),
	NUM(fl_evidence_conf, jpeg_quality, T_INT, 90, 50, 100,
	    "JPEG quality of the evidence images"),
	NUM(fl_evidence_conf, closeup_max_px, T_INT, 960, 160, 4096,
	    "longer side of the close-up at most (pixels)"),
	NUM(fl_evidence_conf, preroll_mb, T_NUM, 32, 1, 1024,
	    "compressed video kept per camera for the pre-roll, MiB at most"),
	NUM(fl_evidence_conf, max_mb, T_NUM, 4096, 1, 1e7,
	    "disk budget of the evidence store (MiB); only delivered bundles "
	    "are ever pruned"),
	NUM(fl_evidence_conf, max_age_days, T_NUM, 90, 0, 3650,
	    "delivered bundles are removed after this many days; 0 = keep"),
	NUM(fl_evidence_conf, min_free_mb, T_NUM, 256, 0, 1e7,
	    "no new bundle is started when the disk has less free (MiB)"),
	STR(fl_evidence_conf, font, T_PATH, 0,
	    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
	    "overlay font, must have CJK glyphs (Debian fonts-noto-cjk)"),
	STR(fl_evidence_conf, language, T_TEXT, 0, "zh-CN",
	    "language of the banner's labels: zh-CN (Simplified Chinese) or "
	    "en"),
	NUM(fl_evidence_conf, plates, T_BOOL, 1, 0, 1,
	    "read the plate of an alarmed vehicle on its evidence stills and "
	    "while it rests; the voted text goes into the alarm message and "
	    "the manifest (docs/plate-model.md)"),
	NUM(fl_evidence_conf, plates_cn_only, T_BOOL, 1, 0, 1,
	    "the camera sees Chinese plates only: a read of another shape "
	    "(a Latin 4..8, as when the reader drops the province) counts as "
	    "unread; set false where Latin plates occur"),
	STR(fl_evidence_conf, plate_model, T_PATH, 0, "",
	    "the plate reader's ONNX model; empty = the one firelane was "
	    "built with (model/plates/plate-reader.onnx)"),
};

static int evidence_finish(fl_schema_ctx *c, void *obj, const fl_node *map)
{
	const fl_evidence_conf *ec = obj;

	if (fl_lang_of(ec->language) < 0)
		return fl_schema_fail(c, fl_schema_key_line(map, "language"),
				      "language: '%s' is not zh-CN or en",
				      ec->language);
	return FL_OK;
}

static const fl_section evidence_section = {
	"evidence",
	"Evidence (`evidence`)",
	"Evidence bundles of alarmed incidents: timed scene images, a "
	"close-up, a composite and a clip, with a manifest signed by the "
	"device key (`device.key_file`). Every key is optional; evidence is "
	"off while `dir` is empty and no `--evidence-dir` is given.",
	evidence_keys,
	FL_ARRAY_SIZE(evidence_keys),
	NO_OFF,
	NO_OFF,
	evidence_finish
};

static const fl_setting board_keys[] = {
	STR(fl_board_conf, type, T_TEXT, 0, "none",
	    "the board that gives the on-site warning: none (no warning), "
	    "sim (simulated, for tests) or linux (GPIO relays, player, "
	    "watchdog)"),
	STR(fl_board_conf, chip, T_TEXT, 0, "gpiochip0",
	    "linux: GPIO chip of the relays, a name (gpiochip0) or a /dev "
	    "path"),
	NUM(fl_board_conf, speaker_line, T_INT, -1, -1, 1023,
	    "linux: GPIO line (offset) of the speaker relay; -1 = none"),
	NUM(fl_board_conf, strobe_line, T_INT, -1, -1, 1023,
	    "linux: GPIO line (offset) of the strobe relay; -1 = none"),
	NUM(fl_board_conf, active_low, T_BOOL, 0, 0, 1,
	    "linux: the relays switch on at a low level"),
	STR(fl_board_conf, clip, T_PATH, 0, "",
	    "warning audio clip (e.g. a WAV asking the driver to move); "
	    "relative to the config's directory; \"\" = relays only"),
	STR(fl_board_conf, player, T_TEXT, 0, "aplay -q",
	    "linux: player command, split at spaces and run without a "
	    "shell, the clip appended as its last argument"),
	STR(fl_board_conf, watchdog, T_PATH, 0, "",
	    "linux: hardware watchdog device (/dev/watchdog), kicked while "
	    "the edge runs; \"\" = none"),
	NUM(fl_board_conf, speaker_s, T_NUM, 8, 0, 600,
	    "the speaker relay stays on this long per warning (s); 0 = "
	    "unused"),
	NUM(fl_board_conf, strobe_s, T_NUM, 15, 0, 600,
	    "the strobe relay stays on this long per warning (s); 0 = "
	    "unused"),
	STR(fl_board_conf, log, T_PATH, 0, "",
	    "sim: write every board action as a JSON line to this file; "
	    "\"\" = none"),
};

static int board_finish(fl_schema_ctx *c, void *obj, const fl_node *map)
{
	fl_board_conf *b = obj;

	if (strcmp(b->type, "none") && strcmp(b->type, "sim") &&
	    strcmp(b->type, "linux"))
		return fl_schema_fail(
			c, map->line,
			"board: type '%s' is not one of none, sim, linux",
			b->type);
	if (!strcmp(b->type, "linux") && b->clip[0] && !b->player[0])
		return fl_schema_fail(c, map->line,
				      "board: a clip needs a player command");
	if (b->speaker_line >= 0 && b->speaker_line == b->strobe_line)
		return fl_schema_fail(
			c, map->line,
			"board: speaker_line and strobe_line are both %d",
			b->speaker_line);
	return FL_OK;
}

static const fl_section board_section = {
	"board",
	"Board (`board`)",
	"The capture device's own hardware for the on-site warning "
	"(firmware/): a speaker relay and a strobe relay, an audio clip, the "
	"hardware watchdog. Lanes say when to warn (`warn_s`, "
	"`warn_repeat_s`, `warn_max_repeats`, `quiet_hours`); the board says "
	"how. Every key is optional; with `type: none` nothing is warned.",
	board_keys,
	FL_ARRAY_SIZE(board_keys),
	NO_OFF,
	NO_OFF,
	board_finish
};

static const fl_setting mqtt_keys[] = {
	STR(fl_mqtt_conf, host, T_TEXT, 0, "",
	    "MQTT broker host name or address; \"\" = no broker (live "
	    "events go to stdout only)"),
	NUM(fl_mqtt_conf, port, T_INT, 0, 0, 65535,
	    "broker port; 0 = 1883, or 8883 with TLS"),
	STR(fl_mqtt_conf, username, T_TEXT, 0, "",
	    "user name for the broker; \"\" = none"),
	STR(fl_mqtt_conf, password, T_TEXT, F_SECRET, "",
	    "password for the broker"),
	STR(fl_mqtt_conf, tls_ca, T_PATH, 0, "",
	    "CA certificate file (PEM): TLS on; \"\" = plain TCP"),
	STR(fl_mqtt_conf, tls_cert, T_PATH, 0, "",
	    "client certificate (PEM) for TLS client authentication"),
	STR(fl_mqtt_conf, tls_key, T_PATH, 0, "",
	    "private key (PEM) of tls_cert"),
	NUM(fl_mqtt_conf, keepalive_s, T_INT, 30, 5, 3600,
	    "MQTT keep-alive (s): a dead link is noticed within 1.5x this"),
	STR(fl_mqtt_conf, client_id, T_TEXT, 0, "",
	    "MQTT client id, unique on the broker; \"\" = "
	    "firelane-<device id>"),
	STR(fl_mqtt_conf, hub_key, T_TEXT, 0, "",
	    "the hub's public key (base64, from firelane-hub "
	    "--print-public-key): commands and delivery receipts must be "
	    "signed by it; \"\" = every command and receipt is refused"),
	NUM(fl_mqtt_conf, heartbeat_s, T_NUM, 60, 1, 3600,
	    "seconds between heartbeats (health figures)"),
	NUM(fl_mqtt_conf, receipt_ask_s, T_NUM, 600, 0, 86400,
	    "a sealed evidence bundle still without the hub's delivery "
	    "receipt this many seconds after it was sealed is named in the "
	    "next heartbeat, and the hub sends its receipt again; asked at "
	    "most this often; 0 = never ask"),
	STR(fl_mqtt_conf, spool_dir, T_PATH, 0, "spool",
	    "store-and-forward folder: what the hub must get waits here "
	    "while the broker is away; relative to the config's directory"),
	NUM(fl_mqtt_conf, spool_max_mb, T_NUM, 256, 1, 1e6,
	    "disk budget of the spool (MiB); heartbeats are dropped first, "
	    "incidents are never dropped (refused and logged when full)"),
};

static int mqtt_finish(fl_schema_ctx *c, void *obj, const fl_node *map)
{
	fl_mqtt_conf *m = obj;
	unsigned char pk[32];

	if ((m->tls_cert[0] != 0) != (m->tls_key[0] != 0))
		return fl_schema_fail(
			c, map->line,
			"mqtt: give tls_cert and tls_key together");
	if (m->tls_cert[0] && !m->tls_ca[0])
		return fl_schema_fail(c, map->line,
				      "mqtt: tls_cert needs tls_ca (TLS on)");
	if (m->password[0] && !m->username[0])
		return fl_schema_fail(c, map->line,
				      "mqtt: a password needs a username");
	if (m->hub_key[0] &&
	    fl_b64_decode(m->hub_key, strlen(m->hub_key), pk, sizeof(pk)) < 0)
		return fl_schema_fail(
			c, fl_schema_key_line(map, "hub_key"),
			"mqtt.hub_key: not a base64 Ed25519 public key (44 "
			"characters, as firelane-hub --print-public-key "
			"prints it)");
	return FL_OK;
}

static const fl_section mqtt_section = {
	"mqtt",
	"MQTT (`mqtt`)",
	"The connection to the hub's broker and the store-and-forward spool "
	"(topics and payloads: docs/mqtt.md). Every key is optional; without "
	"`host` the edge publishes nothing.",
	mqtt_keys,
	FL_ARRAY_SIZE(mqtt_keys),
	NO_OFF,
	NO_OFF,
	mqtt_finish
};

static const fl_setting health_keys[] = {
	NUM(fl_health_conf, enabled, T_BOOL, 1, 0, 1,
	    "watch every camera for a frozen image, a covered lens and a "
	    "moved view (health events, docs/health.md)"),
	NUM(fl_health_conf, frozen_s, T_NUM, 15, 2, 3600,
	    "the picture has not changed at all for this long: frozen (s)"),
	NUM(fl_health_conf, covered_s, T_NUM, 10, 2, 3600,
	    "the picture has had no structure for this long: covered (s)"),
	NUM(fl_health_conf, moved_s, T_NUM, 10, 2, 3600,
	    "the view has not matched its reference for this long: moved (s)"),
	NUM(fl_health_conf, clear_s, T_NUM, 5, 0.5, 600,
	    "a raised condition must be gone this long before it clears (s)"),
	NUM(fl_health_conf, learn_s, T_NUM, 60, 5, 3600,
	    "without a reference image, the view is learnt over this long "
	    "from the start (s)"),
	NUM(fl_health_conf, covered_std, T_NUM, 3, 0.1, 50,
	    "structure (std of 4x4-block means, grey levels) below this is "
	    "\"covered\"; the synthetic night scene stays above 19"),
	NUM(fl_health_conf, moved_shift_px, T_NUM, 8, 1, 15,
	    "the view shifted by more than this (analysis pixels): moved"),
	NUM(fl_health_conf, moved_corr, T_NUM, 0.4, 0.05, 0.95,
	    "edge correlation with the reference below this: moved"),
};

static const fl_section health_section = {
	"health",
	"Camera health (`health`)",
	"Checks of each camera's picture on the analysis frames: frozen "
	"image, covered lens, view moved from its reference (the camera's "
	"`reference` image, else the view learnt over `learn_s`). Each "
	"condition is a `health` event when it starts and when it ends; a "
	"lost stream is reconnected and reported as `camera_offline` / "
	"`camera_online` whatever these keys say (docs/health.md). Every key "
	"is optional.",
	health_keys,
	FL_ARRAY_SIZE(health_keys),
	NO_OFF,
	NO_OFF,
	NULL
};

static const fl_setting root_keys[] = {
	{ "device", T_MAP, F_REQ, 0, 0, 0, 0, NULL, 0, 0, &device_section, NULL,
	  "device identity" },
	{ "detect", T_MAP, 0, offsetof(fl_config, detect), 0, 0, 0, NULL, 0, 0,
	  &detect_section, NULL, "detection settings" },
	{ "evidence", T_MAP, 0, offsetof(fl_config, evidence), 0, 0, 0, NULL, 0,
	  0, &evidence_section, NULL, "evidence bundles" },
	{ "board", T_MAP, 0, offsetof(fl_config, board), 0, 0, 0, NULL, 0, 0,
	  &board_section, NULL, "on-site warning hardware" },
	{ "mqtt", T_MAP, 0, offsetof(fl_config, mqtt), 0, 0, 0, NULL, 0, 0,
	  &mqtt_section, NULL, "broker and spool" },
	{ "health", T_MAP, 0, offsetof(fl_config, health), 0, 0, 0, NULL, 0, 0,
	  &health_section, NULL, "camera health checks" },
	{ "cameras", T_LIST, F_REQ, offsetof(fl_config, cameras),
	  sizeof(fl_camera_conf), offsetof(fl_config, ncameras), 0, NULL, 1,
	  FL_MAX_CAMERAS, &camera_section, NULL, "the cameras, 1..16" },
};

static const fl_section root_section = {
	"top level",
	"Top level",
	"The file is one YAML document: a map with `device`, `cameras` and "
	"optionally `detect`, `evidence`, `board`, `mqtt` and `health`.",
	root_keys,
	FL_ARRAY_SIZE(root_keys),
	NO_OFF,
	NO_OFF,
	NULL
};

static const fl_section *const doc_sections[] = {
	&root_section,     &device_section, &detect_section,
	&evidence_section, &board_section,  &mqtt_section,
	&health_section,   &camera_section, &lane_section
};
const fl_section *fl_config_schema(void)
{
	return &root_section;
}

void fl_config_defaults(fl_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	fl_schema_defaults(&root_section, cfg);
}

int fl_config_apply(fl_config *cfg, const fl_node *doc, const char *file,
		    char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!cfg)
		return FL_EINVAL;
	if (!file)
		file = "<config>";
	snprintf(cfg->path, sizeof(cfg->path), "%s", file);
	return fl_schema_apply(&root_section, cfg, doc, file, err, errlen);
}

int fl_config_check_frame(const fl_config *cfg, int camera, int w, int h,
			  char *err, size_t errlen)
{
	fl_schema_ctx c = { cfg ? cfg->path : "", err, errlen };

	if (err && errlen)
		err[0] = '\0';
	if (!cfg || camera < 0 || camera >= cfg->ncameras || w <= 0 || h <= 0)
		return FL_EINVAL;
	return check_camera_frame(&c, &cfg->cameras[camera], w, h);
}

const fl_stream_conf *fl_camera_detect(const fl_camera_conf *cam,
				       fl_stream_conf *buf)
{
	if (cam->detect.url[0])
		return &cam->detect;
	memset(buf, 0, sizeof(*buf));
	snprintf(buf->url, sizeof(buf->url), "%s", cam->source);
	return buf;
}

const char *fl_camera_hwaccel(const fl_config *cfg, const fl_camera_conf *cam)
{
	return cam->detect.hwaccel[0] ? cam->detect.hwaccel
				      : cfg->detect.hwaccel;
}

static int stream_same(const fl_stream_conf *a, const fl_stream_conf *b)
{
	return !strcmp(a->url, b->url) && a->udp == b->udp &&
	       a->timeout_s == b->timeout_s && !strcmp(a->hwaccel, b->hwaccel);
}

int fl_camera_same_streams(const fl_camera_conf *a, const fl_camera_conf *b)
{
	return !strcmp(a->source, b->source) &&
	       stream_same(&a->detect, &b->detect) &&
	       stream_same(&a->record, &b->record);
}

int fl_camera_scale(const fl_camera_conf *cam, int dw, int dh, int rw, int rh,
		    double *kx, double *ky, char *err, size_t errlen)
{
	double da, ra;

	*kx = *ky = 1;
	if (!cam->record.url[0])
		return FL_OK;
	if (dw <= 0 || dh <= 0 || rw <= 0 || rh <= 0) {
		snprintf(err, errlen, "camera '%s': stream sizes unknown",
			 cam->id);
		return FL_EINVAL;
	}
	da = (double)dw / dh;
	ra = (double)rw / rh;
	if (fabs(da - ra) > FL_ASPECT_TOLERANCE * ra) {
		snprintf(err, errlen,
			 "camera '%s': cameras[].detect is %dx%d and "
			 "cameras[].record %dx%d: aspect ratios %.3f and %.3f "
			 "differ by more than %.0f %%, so lanes drawn on the "
			 "record picture cannot be placed on the detect one",
			 cam->id, dw, dh, rw, rh, da, ra,
			 FL_ASPECT_TOLERANCE * 100);
		return FL_ECONFIG;
	}
	*kx = (double)dw / rw;
	*ky = (double)dh / rh;
	return FL_OK;
}

int fl_lane_active(const fl_lane_conf *lane, int minute_of_day)
{
	int m = minute_of_day;

	if (lane->disabled)
		return 0;
	if (lane->nhours == 0)
		return 1;
	for (int i = 0; i < lane->nhours; i++) {
		const fl_hours *h = &lane->hours[i];
		if (h->start_min < h->end_min) {
			if (m >= h->start_min && m < h->end_min)
				return 1;
		} else if (m >= h->start_min || m < h->end_min) {
			return 1;
		}
	}
	return 0;
}

size_t fl_config_dump(const fl_config *cfg, char *buf, size_t len)
{
	return fl_schema_dump(&root_section, cfg, NULL, 0, buf, len);
}

size_t fl_config_sample(char *buf, size_t len)
{
	static const fl_point pts[] = {
		{ 100, 400 }, { 540, 400 }, { 600, 470 }, { 40, 470 }
	};
	fl_config *cfg;
	size_t n;
	fl_camera_conf *cam;
	fl_lane_conf *lane;

	/* fl_config is large (tens of KiB): keep it off the stack. */
	cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return 0;
	fl_config_defaults(cfg);
	snprintf(cfg->device_id, sizeof(cfg->device_id), "edge-01");
	snprintf(cfg->site, sizeof(cfg->site), "demo-site");
	snprintf(cfg->site_name, sizeof(cfg->site_name), "示范小区 3 号楼");
	cfg->ncameras = 1;
	cam = &cfg->cameras[0];
	fl_schema_defaults(&camera_section, cam);
	snprintf(cam->id, sizeof(cam->id), "cam-1");
	snprintf(cam->source, sizeof(cam->source),
		 "rtsp://192.0.2.10:554/stream1");
	cam->nlanes = 1;
	lane = &cam->lanes[0];
	fl_schema_defaults(&lane_section, lane);
	snprintf(lane->id, sizeof(lane->id), "lane-a");
	snprintf(lane->name, sizeof(lane->name), "消防通道 A");
	memcpy(lane->points, pts, sizeof(pts));
	lane->npoints = (int)FL_ARRAY_SIZE(pts);

	n = fl_schema_dump(&root_section, cfg,
			   "# firelane-edge sample configuration, generated "
			   "from the schema table\n# (src/core/config.c); see "
			   "docs/config.md. Every key is shown with its "
			   "default.\n",
			   1, buf, len);
	free(cfg);
	return n;
}
/* The reference's opening: what the tables below do not say. */
static const char doc_intro[] =
	"# firelane-edge configuration reference\n\n"
	"<!-- Generated by fl_config_doc() from the schema table in "
	"src/core/config.c.\n     Do not edit: tests/unit/test_config.c "
	"fails when this file drifts.\n     Regenerate with "
	"`build/test_config --write-docs`. -->\n\n"
	"The edge daemon reads one YAML file (`--config FILE`). It is "
	"checked once,\nat load: an unknown key, a value of the wrong "
	"type or out of range, a\nmissing required key or a bad lane "
	"polygon stops the daemon with\n`FILE:LINE: reason`. Nothing is "
	"clamped or repaired later.\n"
	"The keys marked yes under Reload (a lane's settings) take effect on\n"
	"SIGHUP or the `reload` command (docs/mqtt.md); a change to any other\n"
	"key is logged and waits for a restart.\n\n" FL_SCHEMA_DOC_TYPING
	"Relative paths (`detect.model`, "
	"`source`, `reference`, `device.key_file`,\n`device.state_dir`, `evidence.dir`, "
	"`evidence.font`, `board.clip`, `board.watchdog`, `board.log`)\n"
	"resolve against the directory of the configuration file; a "
	"source\ncontaining `://` is a URL.\n\n"
	"The smallest valid file:\n\n"
	"```yaml\n"
	"device: {id: edge-01, site: demo-site}\n"
	"cameras:\n"
	"  - id: cam-1\n"
	"    source: rtsp://192.0.2.10/stream1\n"
	"    lanes:\n"
	"      - id: lane-a\n"
	"        points: [[100, 400], [540, 400], [600, 470], [40, 470]]\n"
	"        dwell_s: 60\n"
	"```\n\n"
	"A full sample with every key is `docs/firelane.sample.yaml`.\n"
	"fl_config_dump() writes the effective configuration in the "
	"same form:\nevery key, defaults included.\n\n"
	"Errors look like this:\n\n"
	"```\n"
	"edge.yaml:8: dwell_s: 0 is out of range 1..86400\n"
	"edge.yaml:9: unknown key 'dwel_s' in lane\n"
	"edge.yaml:6: lane 'lane-a': polygon is self-intersecting "
	"(edges cross or touch, or a point repeats)\n"
	"edge.yaml:3: missing required key 'source' in camera (or detect, "
	"with record)\n"
	"```\n";

size_t fl_config_doc(char *buf, size_t len)
{
	return fl_schema_reference(doc_intro, doc_sections,
				   FL_ARRAY_SIZE(doc_sections), buf, len);
}
