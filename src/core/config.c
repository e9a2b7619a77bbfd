/*
 * config.c - the configuration schema as tables, and the one walker that
 * applies, dumps and documents them (see config.h).
 *
 * A note on the tables. Every key of the configuration is one row of a
 * struct setting: its name, its type, where it lives in the C struct
 * (offsetof), its default, its bounds and a help line. The rows are grouped
 * in sections (top level, device, detect, camera, lane), each section one
 * const array. A row of type T_MAP points to a nested section stored inside
 * the same struct (detect), a row of type T_LIST to a section repeated in an
 * array with a count (cameras, lanes), and a row of type T_CUSTOM to a small
 * handler triple (parse, dump, default) for the few values that are not a
 * scalar (points, obstructions, active hours). Nothing else in this file
 * knows a key by name: parsing, defaults, fl_config_dump(), the sample file
 * and fl_config_doc() all walk the same rows, so the documentation cannot
 * promise a key the parser does not accept, nor a default it does not set.
 *
 * Validation is strict and happens once. The YAML tree (fl_node) carries
 * line numbers; every error is "FILE:LINE: reason" where LINE is the line of
 * the offending key, or of the enclosing map for a missing key, or of the
 * lane for a polygon that is wrong as a whole. Typing follows YAML's plain
 * scalars: a quoted "5" is a string, never a number; true/false/yes/no are
 * booleans; non-finite numbers are refused. Nothing is clamped: a value out
 * of range is an error naming the range.
 *
 * Paths (detect.model, camera.source, camera.reference, device.key_file,
 * device.state_dir, evidence.dir, evidence.font, board.clip, board.watchdog,
 * board.log) that are relative
 * resolve against the directory of the configuration file, so a config and
 * its clip can travel together; a source containing "://" is a URL and is
 * kept as written. This is string work only: core does no I/O.
 */
#include "config.h"

#include "fl.h"
#include "geom.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum stype {
	T_ID,   /* [A-Za-z0-9_.-], 1..FL_ID_MAX-1 chars */
	T_TEXT, /* UTF-8 text */
	T_PATH, /* UTF-8 path, resolved against the config's directory */
	T_INT,
	T_NUM, /* finite double */
	T_BOOL,
	T_MAP,   /* nested section stored at off */
	T_LIST,  /* array of a section at off, count at count_off */
	T_CUSTOM /* handled by custom */
};

#define F_REQ 1u    /* the key must be present */
#define F_SECRET 2u /* fl_config_dump() writes "***" for a value set */

struct ctx;
struct out;
struct setting;

/* A value that is not a scalar: its parser, its YAML and its default. */
struct custom {
	int (*parse)(struct ctx *c, const struct setting *s, void *obj,
		     const fl_node *n, int line);
	void (*dump)(struct out *o, const struct setting *s, const void *obj);
	void (*defaults)(const struct setting *s, void *obj);
	const char *type_doc; /* the type column of the docs */
};

struct section;

struct setting {
	const char *name;
	enum stype type;
	unsigned flags;
	size_t off;                /* field offset in the section's struct */
	size_t size;               /* strings: buffer size; lists: elem size */
	size_t count_off;          /* T_LIST: offset of the int count */
	double def;                /* numeric and boolean default */
	const char *sdef;          /* string default; docs text for others */
	double min, max;           /* value range; list/string: item count */
	const struct section *sub; /* T_MAP, T_LIST */
	const struct custom *custom; /* T_CUSTOM */
	const char *help;
};

struct section {
	const char *name;  /* in messages: "unknown key 'x' in lane" */
	const char *title; /* docs heading */
	const char *intro; /* docs paragraph */
	const struct setting *keys;
	size_t nkeys;
	size_t line_off; /* int line field, or NO_OFF */
	size_t id_off;   /* char id[] for duplicate checks, or NO_OFF */
	int (*finish)(struct ctx *c, void *obj, const fl_node *map);
};

#define NO_OFF ((size_t)-1)

/* Where messages go while a document is applied. */
struct ctx {
	const char *file;
	char *err;
	size_t errlen;
	const fl_config *cfg; /* the whole config, for cross-checks */
};

/* An snprintf-style writer: pos counts what would have been written. */
struct out {
	char *buf;
	size_t len;
	size_t pos;
	int comments; /* the sample: help lines as comments */
};

/* ------------------------------------------------------------------ */
/* Small helpers: messages, output, scalar typing.                     */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
fail(struct ctx *c, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || c->errlen == 0)
		return FL_ECONFIG;
	n = snprintf(c->err, c->errlen, "%s:%d: ", c->file, line);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return FL_ECONFIG;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
outf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	char *dst = NULL;
	size_t room = 0;
	int n;

	if (o->buf && o->pos < o->len) {
		dst = o->buf + o->pos;
		room = o->len - o->pos;
	}
	va_start(ap, fmt);
	n = vsnprintf(dst, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

static void pad(struct out *o, int n)
{
	outf(o, "%*s", n, "");
}

/* A YAML double-quoted string; non-ASCII UTF-8 passes through. */
static void out_quoted(struct out *o, const char *s)
{
	outf(o, "\"");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			outf(o, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			outf(o, "\\x%02x", ch);
		else
			outf(o, "%c", ch);
	}
	outf(o, "\"");
}

/* Numbers print so that they read back to the same double in practice. */
static void out_num(struct out *o, double v)
{
	outf(o, "%.15g", v);
}

static int key_line(const fl_node *map, size_t i)
{
	return map->key_lines ? map->key_lines[i] : map->items[i]->line;
}

/*
 * Parse a plain (unquoted) scalar as a finite decimal number. Only digits,
 * a sign, a point and an exponent are allowed, so "nan", "inf", ".inf" and
 * hex forms are refused along with words. Returns 0 and sets *v, or -1.
 */
static int scalar_num(const fl_node *n, double *v)
{
	const char *p;
	char *end;

	if (n->kind != FL_NODE_SCALAR || n->quoted || !n->scalar ||
	    !n->scalar[0])
		return -1;
	for (p = n->scalar; *p; p++)
		if (!strchr("0123456789+-.eE", *p))
			return -1;
	*v = strtod(n->scalar, &end);
	if (*end != '\0' || !isfinite(*v))
		return -1;
	return 0;
}

static int ascii_ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		int x = (*a >= 'A' && *a <= 'Z') ? *a + 32 : *a;
		int y = (*b >= 'A' && *b <= 'Z') ? *b + 32 : *b;
		if (x != y)
			return 0;
	}
	return *a == *b;
}

static int scalar_bool(const fl_node *n, int *v)
{
	static const struct {
		const char *word;
		int val;
	} words[] = { { "true", 1 }, { "false", 0 }, { "yes", 1 }, { "no", 0 } };

	if (n->kind != FL_NODE_SCALAR || n->quoted || !n->scalar)
		return -1;
	for (size_t i = 0; i < FL_ARRAY_SIZE(words); i++) {
		if (ascii_ieq(n->scalar, words[i].word)) {
			*v = words[i].val;
			return 0;
		}
	}
	return -1;
}

/* 1 if s is well-formed UTF-8 without control characters. */
static int utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int more;
		unsigned cp;

		if (*p < 0x80) {
			if (*p < 0x20 && *p != '\t')
				return 0;
			p++;
			continue;
		} else if ((*p & 0xe0) == 0xc0) {
			more = 1;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			more = 2;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			more = 3;
			cp = *p & 0x07;
		} else {
			return 0;
		}
		p++;
		for (int i = 0; i < more; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (*p & 0x3f);
		}
		/* Overlong forms, surrogates, beyond U+10FFFF. */
		if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) ||
		    (more == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return 1;
}

static int id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n >= FL_ID_MAX)
		return 0;
	for (; *s; s++) {
		char ch = *s;
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		      ch == '-'))
			return 0;
	}
	return 1;
}

/*
 * Resolve a relative path against the directory of file into dst. Empty
 * values, absolute paths and URLs ("://") are copied unchanged, as is any
 * path when file has no directory part. Returns 0, or -1 if it does not fit.
 */
static int resolve_path(char *dst, size_t size, const char *val,
			const char *file)
{
	const char *slash = strrchr(file, '/');
	int n;

	if (!val[0] || val[0] == '/' || strstr(val, "://") || !slash)
		n = snprintf(dst, size, "%s", val);
	else
		n = snprintf(dst, size, "%.*s/%s", (int)(slash - file), file,
			     val);
	return n >= 0 && (size_t)n < size ? 0 : -1;
}

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

static int points_parse(struct ctx *c, const struct setting *s, void *obj,
			const fl_node *n, int line)
{
	fl_lane_conf *lane = obj;

	if (n->kind != FL_NODE_SEQ)
		return fail(c, line, "%s: expected a list of [x, y] pairs",
			    s->name);
	if (n->n > (size_t)s->max)
		return fail(c, line, "%s: %zu points, at most %g allowed",
			    s->name, n->n, s->max);
	for (size_t i = 0; i < n->n; i++) {
		const fl_node *p = n->items[i];
		double xy[2];

		if (p->kind != FL_NODE_SEQ || p->n != 2 ||
		    scalar_num(p->items[0], &xy[0]) ||
		    scalar_num(p->items[1], &xy[1]))
			return fail(c, p->line,
				    "%s: expected a list of [x, y] pairs "
				    "(numbers)",
				    s->name);
		if (xy[0] < 0 || xy[1] < 0)
			return fail(c, p->line,
				    "%s: point [%g, %g] is negative; "
				    "coordinates are pixels >= 0",
				    s->name, xy[0], xy[1]);
		lane->points[i].x = xy[0];
		lane->points[i].y = xy[1];
	}
	lane->npoints = (int)n->n;
	return FL_OK;
}

static void points_dump(struct out *o, const struct setting *s, const void *obj)
{
	const fl_lane_conf *lane = obj;

	outf(o, "[");
	for (int i = 0; i < lane->npoints; i++) {
		outf(o, "%s[", i ? ", " : "");
		out_num(o, lane->points[i].x);
		outf(o, ", ");
		out_num(o, lane->points[i].y);
		outf(o, "]");
	}
	outf(o, "]");
}

static void points_defaults(const struct setting *s, void *obj)
{
	((fl_lane_conf *)obj)->npoints = 0;
}

static const struct {
	const char *name;
	int bit;
} class_names[] = { { "vehicle", FL_CLASS_VEHICLE },
		    { "object", FL_CLASS_OBJECT },
		    { "person", FL_CLASS_PERSON } };

static int classes_parse(struct ctx *c, const struct setting *s, void *obj,
			 const fl_node *n, int line)
{
	fl_lane_conf *lane = obj;
	int bits = 0;

	if (n->kind != FL_NODE_SEQ)
		return fail(c, line,
			    "%s: expected a list of classes "
			    "(vehicle, object, person)",
			    s->name);
	if (n->n < 1)
		return fail(c, line,
			    "%s: empty list; name at least one of vehicle, "
			    "object, person",
			    s->name);
	for (size_t i = 0; i < n->n; i++) {
		const fl_node *e = n->items[i];
		size_t k;

		if (e->kind != FL_NODE_SCALAR)
			return fail(c, e->line,
				    "%s: expected a class name "
				    "(vehicle, object, person)",
				    s->name);
		for (k = 0; k < FL_ARRAY_SIZE(class_names); k++)
			if (!strcmp(e->scalar, class_names[k].name))
				break;
		if (k == FL_ARRAY_SIZE(class_names))
			return fail(c, e->line,
				    "%s: unknown class '%s' (expected "
				    "vehicle, object, person)",
				    s->name, e->scalar);
		if (bits & class_names[k].bit)
			return fail(c, e->line, "%s: '%s' listed twice",
				    s->name, e->scalar);
		bits |= class_names[k].bit;
	}
	lane->classes = bits;
	return FL_OK;
}

static void classes_dump(struct out *o, const struct setting *s,
			 const void *obj)
{
	const fl_lane_conf *lane = obj;
	int first = 1;

	outf(o, "[");
	for (size_t k = 0; k < FL_ARRAY_SIZE(class_names); k++) {
		if (lane->classes & class_names[k].bit) {
			outf(o, "%s%s", first ? "" : ", ", class_names[k].name);
			first = 0;
		}
	}
	outf(o, "]");
}

static void classes_defaults(const struct setting *s, void *obj)
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
static int hours_parse(struct ctx *c, const struct setting *s, void *obj,
		       const fl_node *n, int line)
{
	fl_hours *hours = at(obj, s->off);

	if (n->kind != FL_NODE_SEQ)
		return fail(c, line,
			    "%s: expected a list of \"HH:MM-HH:MM\" ranges",
			    s->name);
	if (n->n < (size_t)s->min || n->n > (size_t)s->max)
		return fail(c, line, "%s: %zu ranges, expected %g..%g", s->name,
			    n->n, s->min, s->max);
	for (size_t i = 0; i < n->n; i++) {
		const fl_node *e = n->items[i];
		fl_hours *hr = &hours[i];
		const char *p;

		if (e->kind != FL_NODE_SCALAR)
			return fail(c, e->line, "%s: expected \"HH:MM-HH:MM\"",
				    s->name);
		p = e->scalar;
		if (parse_hhmm(p, 0, &hr->start_min) < 0 || p[5] != '-' ||
		    parse_hhmm(p + 6, 1, &hr->end_min) < 0 || p[11] != '\0')
			return fail(c, e->line,
				    "%s: '%s' is not \"HH:MM-HH:MM\" "
				    "(00:00..23:59, end up to 24:00)",
				    s->name, e->scalar);
		if (hr->start_min == hr->end_min)
			return fail(c, e->line, "%s: '%s' is an empty range",
				    s->name, e->scalar);
	}
	*(int *)at(obj, s->count_off) = (int)n->n;
	return FL_OK;
}

static void hours_dump(struct out *o, const struct setting *s, const void *obj)
{
	const fl_hours *hours = cat(obj, s->off);
	int n = *(const int *)cat(obj, s->count_off);

	if (n == 0) {
		outf(o, s->min >= 1 ? "[\"00:00-24:00\"]" : "[]");
		return;
	}
	outf(o, "[");
	for (int i = 0; i < n; i++) {
		const fl_hours *h = &hours[i];
		outf(o, "%s\"%02d:%02d-%02d:%02d\"", i ? ", " : "",
		     h->start_min / 60, h->start_min % 60, h->end_min / 60,
		     h->end_min % 60);
	}
	outf(o, "]");
}

static void hours_defaults(const struct setting *s, void *obj)
{
	*(int *)at(obj, s->count_off) = 0;
}

static const struct custom points_type = { points_parse, points_dump,
					   points_defaults, "list of [x, y]" };
static const struct custom classes_type = { classes_parse, classes_dump,
					    classes_defaults,
					    "list of vehicle/object/person" };
static const struct custom hours_type = { hours_parse, hours_dump,
					  hours_defaults,
					  "list of \"HH:MM-HH:MM\"" };

/* ------------------------------------------------------------------ */
/* Section checks that involve several keys.                            */

static int lane_finish(struct ctx *c, void *obj, const fl_node *map)
{
	fl_lane_conf *lane = obj;
	double area;

	if (!lane->name[0])
		snprintf(lane->name, sizeof(lane->name), "%s", lane->id);
	if (lane->npoints < 3)
		return fail(c, lane->line,
			    "lane '%s': polygon has %d points, at least 3 "
			    "are needed",
			    lane->id, lane->npoints);
	/* Crossing first: a symmetric bow tie also has zero signed area. */
	if (fl_poly_self_intersects(lane->points, lane->npoints))
		return fail(c, lane->line,
			    "lane '%s': polygon is self-intersecting (edges "
			    "cross or touch, or a point repeats)",
			    lane->id);
	area = fabs(fl_poly_area(lane->points, lane->npoints));
	if (area < 1.0)
		return fail(c, lane->line,
			    "lane '%s': polygon area %g px^2 is below 1 "
			    "px^2 (points on a line?)",
			    lane->id, area);
	return FL_OK;
}

static int check_camera_frame(struct ctx *c, const fl_camera_conf *cam, int w,
			      int h)
{
	for (int l = 0; l < cam->nlanes; l++) {
		const fl_lane_conf *lane = &cam->lanes[l];
		for (int i = 0; i < lane->npoints; i++) {
			const fl_point *p = &lane->points[i];
			if (p->x < 0 || p->y < 0 || p->x > w || p->y > h)
				return fail(c, lane->line,
					    "lane '%s': point [%g, %g] is "
					    "outside the %dx%d frame of "
					    "camera '%s'",
					    lane->id, p->x, p->y, w, h,
					    cam->id);
		}
	}
	return FL_OK;
}

static int camera_finish(struct ctx *c, void *obj, const fl_node *map)
{
	fl_camera_conf *cam = obj;

	if ((cam->width > 0) != (cam->height > 0))
		return fail(c, cam->line,
			    "camera '%s': give width and height together",
			    cam->id);
	if (cam->width > 0)
		return check_camera_frame(c, cam, cam->width, cam->height);
	return FL_OK;
}

/* ------------------------------------------------------------------ */
/* The tables.                                                          */

#define STR(st, field, ty, fl, dflt, help)                                     \
	{                                                                      \
#field, ty, fl, offsetof(st, field), sizeof(((st *)0)->field), \
			0, 0, dflt, 0, 0, NULL, NULL, help                     \
	}
#define NUM(st, field, ty, dflt, lo, hi, help)                                 \
	{                                                                      \
#field, ty, 0, offsetof(st, field), 0, 0, dflt, NULL, lo, hi,  \
			NULL, NULL, help                                       \
	}
#define CUSTOM(st, name, field, type, dflt, lo, hi, help)                      \
	{                                                                      \
		name, T_CUSTOM, 0, offsetof(st, field), 0, 0, 0, dflt, lo, hi, \
			NULL, &type, help                                      \
	}
#define HOURS(st, name, field, count, dflt, lo, hi, help)                      \
	{                                                                      \
		name, T_CUSTOM, 0, offsetof(st, field), 0,                     \
			offsetof(st, count), 0, dflt, lo, hi, NULL,            \
			&hours_type, help                                      \
	}

static const struct setting lane_keys[] = {
	{ "id", T_ID, F_REQ, offsetof(fl_lane_conf, id), FL_ID_MAX, 0, 0, NULL,
	  1, FL_ID_MAX - 1, NULL, NULL,
	  "lane id, unique within the camera; used in events and topics" },
	STR(fl_lane_conf, name, T_TEXT, 0, "",
	    "display name (UTF-8, e.g. \"消防通道 A\"); defaults to the id"),
	CUSTOM(fl_lane_conf, "points", points, points_type, NULL, 3,
	       FL_MAX_POINTS,
	       "lane polygon in source-frame pixels, in order; 3..16 points, "
	       "no crossing edges, area >= 1 px^2"),
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
	       "what counts as an obstruction; not empty"),
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

static const struct section lane_section = {
	"lane",
	"Lanes (`cameras[].lanes[]`)",
	"One entry per fire lane the camera watches (1..8). An incident "
	"belongs to the lane: its dwell clock follows the place, not a "
	"tracked object.",
	lane_keys,
	FL_ARRAY_SIZE(lane_keys),
	offsetof(fl_lane_conf, line),
	offsetof(fl_lane_conf, id),
	lane_finish
};

static const struct setting camera_keys[] = {
	{ "id", T_ID, F_REQ, offsetof(fl_camera_conf, id), FL_ID_MAX, 0, 0,
	  NULL, 1, FL_ID_MAX - 1, NULL, NULL,
	  "camera id, unique on the device; used in events and topics" },
	STR(fl_camera_conf, source, T_PATH, F_REQ, NULL,
	    "video source: file, image pattern (frames/%06d.jpg), URL "
	    "(rtsp://...) or /dev/videoN; relative files resolve against the "
	    "config's directory"),
	STR(fl_camera_conf, reference, T_PATH, 0, "",
	    "optional image of the clear lane (path, resolved like source)"),
	NUM(fl_camera_conf, fps, T_NUM, 0, 0, 240,
	    "frame rate of an image sequence; 0 = from the stream"),
	NUM(fl_camera_conf, width, T_INT, 0, 0, 8192,
	    "expected frame width; with height, lanes are checked at load; "
	    "0 = unchecked"),
	NUM(fl_camera_conf, height, T_INT, 0, 0, 8192,
	    "expected frame height; 0 = unchecked"),
	{ "lanes", T_LIST, F_REQ, offsetof(fl_camera_conf, lanes),
	  sizeof(fl_lane_conf), offsetof(fl_camera_conf, nlanes), 0, NULL, 1,
	  FL_MAX_LANES, &lane_section, NULL, "the lanes this camera watches" },
};

static const struct section camera_section = {
	"camera",
	"Cameras (`cameras[]`)",
	"One entry per camera the device reads (1..4).",
	camera_keys,
	FL_ARRAY_SIZE(camera_keys),
	offsetof(fl_camera_conf, line),
	offsetof(fl_camera_conf, id),
	camera_finish
};

static const struct setting detect_keys[] = {
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
};

static const struct section detect_section = {
	"detect",
	"Detection (`detect`)",
	"How frames are analysed. Every key is optional.",
	detect_keys,
	FL_ARRAY_SIZE(detect_keys),
	NO_OFF,
	NO_OFF,
	NULL
};

static const struct setting device_keys[] = {
	{ "id", T_ID, F_REQ, offsetof(fl_config, device_id), FL_ID_MAX, 0, 0,
	  NULL, 1, FL_ID_MAX - 1, NULL, NULL,
	  "device id ([A-Za-z0-9_.-], 1..63); part of every MQTT topic" },
	{ "site", T_TEXT, F_REQ, offsetof(fl_config, site), FL_NAME_MAX, 0, 0,
	  NULL, 1, FL_NAME_MAX - 1, NULL, NULL,
	  "site (community) name, UTF-8, may be Chinese" },
	STR(fl_config, site_name, T_TEXT, 0, "",
	    "site name printed on evidence images (UTF-8, e.g. "
	    "\"城东小区 3 号楼\"); defaults to site"),
	STR(fl_config, state_dir, T_PATH, 0, "state",
	    "folder of the cameras' memory across restarts (the clear lane "
	    "learnt, open incidents: docs/memory.md), live mode; relative "
	    "paths resolve against the config's directory; a replay uses "
	    "memory only with --state-dir"),
	STR(fl_config, key_file, T_PATH, 0, "device.key",
	    "the device's Ed25519 signing key (raw, mode 0600), created on "
	    "first start; relative paths resolve against the config's "
	    "directory"),
};

/* Defaults that depend on other keys or on where the file lives. */
static int device_finish(struct ctx *c, void *obj, const fl_node *map)
{
	fl_config *cfg = obj;
	char tmp[FL_PATH_MAX];

	if (!cfg->site_name[0])
		snprintf(cfg->site_name, sizeof(cfg->site_name), "%s",
			 cfg->site);
	/* The default key and state paths are relative too: beside the
	 * config, like explicit relative ones. Idempotent for absolute. */
	char *paths[] = { cfg->key_file, cfg->state_dir };
	const char *names[] = { "key_file", "state_dir" };
	for (size_t i = 0; i < FL_ARRAY_SIZE(paths); i++) {
		if (!paths[i][0] || paths[i][0] == '/')
			continue;
		if (resolve_path(tmp, sizeof(tmp), paths[i], c->file))
			return fail(c, map->line,
				    "%s: path too long (max %zu bytes)",
				    names[i], sizeof(tmp) - 1);
		memcpy(paths[i], tmp, sizeof(tmp));
	}
	return FL_OK;
}

/* device keys live directly in fl_config: the section's base is the root. */
static const struct section device_section = { "device",
					       "Device (`device`)",
					       "Who this capture device is.",
					       device_keys,
					       FL_ARRAY_SIZE(device_keys),
					       NO_OFF,
					       NO_OFF,
					       device_finish };

static const struct setting evidence_keys[] = {
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
};

static const struct section evidence_section = {
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
	NULL
};

static const struct setting board_keys[] = {
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

static int board_finish(struct ctx *c, void *obj, const fl_node *map)
{
	fl_board_conf *b = obj;

	if (strcmp(b->type, "none") && strcmp(b->type, "sim") &&
	    strcmp(b->type, "linux"))
		return fail(c, map->line,
			    "board: type '%s' is not one of none, sim, linux",
			    b->type);
	if (!strcmp(b->type, "linux") && b->clip[0] && !b->player[0])
		return fail(c, map->line,
			    "board: a clip needs a player command");
	if (b->speaker_line >= 0 && b->speaker_line == b->strobe_line)
		return fail(c, map->line,
			    "board: speaker_line and strobe_line are both %d",
			    b->speaker_line);
	return FL_OK;
}

static const struct section board_section = {
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

static const struct setting mqtt_keys[] = {
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
	NUM(fl_mqtt_conf, heartbeat_s, T_NUM, 60, 1, 3600,
	    "seconds between heartbeats (health figures)"),
	STR(fl_mqtt_conf, spool_dir, T_PATH, 0, "spool",
	    "store-and-forward folder: what the hub must get waits here "
	    "while the broker is away; relative to the config's directory"),
	NUM(fl_mqtt_conf, spool_max_mb, T_NUM, 256, 1, 1e6,
	    "disk budget of the spool (MiB); heartbeats are dropped first, "
	    "incidents are never dropped (refused and logged when full)"),
};

static int mqtt_finish(struct ctx *c, void *obj, const fl_node *map)
{
	fl_mqtt_conf *m = obj;

	if ((m->tls_cert[0] != 0) != (m->tls_key[0] != 0))
		return fail(c, map->line,
			    "mqtt: give tls_cert and tls_key together");
	if (m->tls_cert[0] && !m->tls_ca[0])
		return fail(c, map->line,
			    "mqtt: tls_cert needs tls_ca (TLS on)");
	if (m->password[0] && !m->username[0])
		return fail(c, map->line, "mqtt: a password needs a username");
	return FL_OK;
}

static const struct section mqtt_section = {
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

static const struct setting health_keys[] = {
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

static const struct section health_section = {
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

static const struct setting root_keys[] = {
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
	  FL_MAX_CAMERAS, &camera_section, NULL, "the cameras, 1..4" },
};

static const struct section root_section = {
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

static const struct section *const doc_sections[] = {
	&root_section,     &device_section, &detect_section,
	&evidence_section, &board_section,  &mqtt_section,
	&health_section,   &camera_section, &lane_section
};

/* ------------------------------------------------------------------ */
/* Defaults.                                                            */

static void section_defaults(const struct section *sec, void *obj)
{
	for (size_t i = 0; i < sec->nkeys; i++) {
		const struct setting *s = &sec->keys[i];
		void *f = at(obj, s->off);

		switch (s->type) {
		case T_ID:
		case T_TEXT:
		case T_PATH:
			snprintf(f, s->size, "%s", s->sdef ? s->sdef : "");
			break;
		case T_INT:
		case T_BOOL:
			*(int *)f = (int)s->def;
			break;
		case T_NUM:
			*(double *)f = s->def;
			break;
		case T_MAP:
			section_defaults(s->sub, f);
			break;
		case T_LIST:
			*(int *)at(obj, s->count_off) = 0;
			break;
		case T_CUSTOM:
			s->custom->defaults(s, obj);
			break;
		}
	}
	if (sec->line_off != NO_OFF)
		*(int *)at(obj, sec->line_off) = 0;
}

void fl_config_defaults(fl_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	section_defaults(&root_section, cfg);
}

/* ------------------------------------------------------------------ */
/* Applying a document.                                                 */

static int apply_map(struct ctx *c, const struct section *sec, void *obj,
		     const fl_node *map, int line);

static int apply_string(struct ctx *c, const struct setting *s, char *f,
			const fl_node *n, int line)
{
	const char *v;
	size_t len;

	if (n->kind != FL_NODE_SCALAR)
		return fail(c, line, "%s: expected a string", s->name);
	v = n->scalar ? n->scalar : "";
	len = strlen(v);
	switch (s->type) {
	case T_ID:
		if (!id_ok(v))
			return fail(c, line,
				    "%s: '%s' is not a valid id (1..%d of "
				    "A-Z a-z 0-9 _ . -)",
				    s->name, v, FL_ID_MAX - 1);
		break;
	case T_TEXT:
	case T_PATH:
		if (!utf8_ok(v))
			return fail(c, line, "%s: not valid UTF-8 text",
				    s->name);
		if ((s->flags & F_REQ) && len == 0)
			return fail(c, line, "%s: must not be empty", s->name);
		break;
	default:
		break;
	}
	if (s->type == T_PATH) {
		if (resolve_path(f, s->size, v, c->file))
			return fail(c, line,
				    "%s: path too long (max %zu "
				    "bytes)",
				    s->name, s->size - 1);
		return FL_OK;
	}
	if (len >= s->size)
		return fail(c, line, "%s: too long (%zu bytes, max %zu)",
			    s->name, len, s->size - 1);
	memcpy(f, v, len + 1);
	return FL_OK;
}

static int apply_number(struct ctx *c, const struct setting *s, void *f,
			const fl_node *n, int line)
{
	double v;

	if (scalar_num(n, &v))
		return fail(c, line, "%s: expected a number%s", s->name,
			    n->kind == FL_NODE_SCALAR && n->quoted
				    ? " (quoted values are strings)"
				    : "");
	if (s->type == T_INT && v != floor(v))
		return fail(c, line, "%s: expected a whole number, got %s",
			    s->name, n->scalar);
	if (v < s->min || v > s->max)
		return fail(c, line, "%s: %s is out of range %g..%g", s->name,
			    n->scalar, s->min, s->max);
	if (s->type == T_INT)
		*(int *)f = (int)v;
	else
		*(double *)f = v;
	return FL_OK;
}

/*
 * Apply a list of sections: each element gets its section's defaults, its
 * line, its keys, and must have an id unlike the earlier ones.
 */
static int apply_list(struct ctx *c, const struct setting *s, void *obj,
		      const fl_node *n, int line)
{
	const struct section *sub = s->sub;
	int *count = at(obj, s->count_off);
	int rc;

	if (n->kind != FL_NODE_SEQ)
		return fail(c, line, "%s: expected a list of %s entries",
			    s->name, sub->name);
	if (n->n < (size_t)s->min || n->n > (size_t)s->max)
		return fail(c, line, "%s: %zu entries, expected %g..%g",
			    s->name, n->n, s->min, s->max);
	*count = 0;
	for (size_t i = 0; i < n->n; i++) {
		void *elem = at(obj, s->off + i * s->size);
		const fl_node *e = n->items[i];

		section_defaults(sub, elem);
		if (sub->line_off != NO_OFF)
			*(int *)at(elem, sub->line_off) = e->line;
		rc = apply_map(c, sub, elem, e, e->line);
		if (rc)
			return rc;
		for (size_t j = 0; sub->id_off != NO_OFF && j < i; j++) {
			const char *a = cat(obj,
					    s->off + j * s->size + sub->id_off);
			if (!strcmp(a, (const char *)at(elem, sub->id_off)))
				return fail(c, e->line, "duplicate %s id '%s'",
					    sub->name, a);
		}
		*count = (int)i + 1;
	}
	return FL_OK;
}

static int apply_setting(struct ctx *c, const struct setting *s, void *obj,
			 const fl_node *n, int line)
{
	void *f = at(obj, s->off);
	int b;

	switch (s->type) {
	case T_ID:
	case T_TEXT:
	case T_PATH:
		return apply_string(c, s, f, n, line);
	case T_INT:
	case T_NUM:
		return apply_number(c, s, f, n, line);
	case T_BOOL:
		if (scalar_bool(n, &b))
			return fail(c, line,
				    "%s: expected a boolean (true, false, "
				    "yes, no)",
				    s->name);
		*(int *)f = b;
		return FL_OK;
	case T_MAP:
		return apply_map(c, s->sub, f, n, line);
	case T_LIST:
		return apply_list(c, s, obj, n, line);
	case T_CUSTOM:
		return s->custom->parse(c, s, obj, n, line);
	}
	return FL_EINVAL;
}

/*
 * Apply one map node to a section of obj: every key must be in the table
 * (line of the key otherwise), every required key present (line of the map
 * otherwise), then the section's own cross-key checks run.
 */
static int apply_map(struct ctx *c, const struct section *sec, void *obj,
		     const fl_node *map, int line)
{
	unsigned seen = 0;
	int rc;

	if (map->kind != FL_NODE_MAP)
		return fail(c, line, "%s: expected a map of keys", sec->name);
	for (size_t i = 0; i < map->n; i++) {
		size_t k;

		for (k = 0; k < sec->nkeys; k++)
			if (!strcmp(map->keys[i], sec->keys[k].name))
				break;
		if (k == sec->nkeys)
			return fail(c, key_line(map, i),
				    "unknown key '%s' in %s", map->keys[i],
				    sec->name);
		if (seen & (1u << k))
			return fail(c, key_line(map, i),
				    "duplicate key '%s' in %s", map->keys[i],
				    sec->name);
		seen |= 1u << k;
		rc = apply_setting(c, &sec->keys[k], obj, map->items[i],
				   key_line(map, i));
		if (rc)
			return rc;
	}
	for (size_t k = 0; k < sec->nkeys; k++)
		if ((sec->keys[k].flags & F_REQ) && !(seen & (1u << k)))
			return fail(c, map->line,
				    "missing required key '%s' in %s",
				    sec->keys[k].name, sec->name);
	return sec->finish ? sec->finish(c, obj, map) : FL_OK;
}

int fl_config_apply(fl_config *cfg, const fl_node *doc, const char *file,
		    char *err, size_t errlen)
{
	struct ctx c = { file ? file : "<config>", err, errlen, cfg };

	if (err && errlen)
		err[0] = '\0';
	if (!cfg)
		return FL_EINVAL;
	snprintf(cfg->path, sizeof(cfg->path), "%s", c.file);
	if (!doc)
		return fail(&c, 1, "empty configuration");
	return apply_map(&c, &root_section, cfg, doc, doc->line);
}

int fl_config_check_frame(const fl_config *cfg, int camera, int w, int h,
			  char *err, size_t errlen)
{
	struct ctx c = { cfg ? cfg->path : "", err, errlen, cfg };

	if (err && errlen)
		err[0] = '\0';
	if (!cfg || camera < 0 || camera >= cfg->ncameras || w <= 0 || h <= 0)
		return FL_EINVAL;
	return check_camera_frame(&c, &cfg->cameras[camera], w, h);
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

void fl_node_free(fl_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			free(n->keys[i]);
		if (n->items)
			fl_node_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->key_lines);
	free(n->scalar);
	free(n);
}

/* ------------------------------------------------------------------ */
/* Dump, sample and docs.                                               */

static void dump_section(struct out *o, const struct section *sec,
			 const void *obj, int indent, int dash);

static void dump_value(struct out *o, const struct setting *s, const void *obj,
		       int indent)
{
	const void *f = cat(obj, s->off);

	switch (s->type) {
	case T_ID:
	case T_TEXT:
	case T_PATH:
		/* A secret is not shown (--check-config output ends up in
		 * bug reports); "***" still reloads as a set value. */
		if ((s->flags & F_SECRET) && *(const char *)f)
			out_quoted(o, "***");
		else
			out_quoted(o, f);
		break;
	case T_INT:
		outf(o, "%d", *(const int *)f);
		break;
	case T_NUM:
		out_num(o, *(const double *)f);
		break;
	case T_BOOL:
		outf(o, "%s", *(const int *)f ? "true" : "false");
		break;
	case T_CUSTOM:
		s->custom->dump(o, s, obj);
		break;
	case T_MAP:
	case T_LIST:
		break;
	}
}

static void dump_help(struct out *o, const struct setting *s)
{
	if (o->comments && s->help)
		outf(o, "  # %s", s->help);
	outf(o, "\n");
}

/*
 * Write one section as block YAML at indent. dash: the first key opens a
 * list item ("- "), as for cameras and lanes.
 */
static void dump_section(struct out *o, const struct section *sec,
			 const void *obj, int indent, int dash)
{
	for (size_t i = 0; i < sec->nkeys; i++) {
		const struct setting *s = &sec->keys[i];

		if (dash && i == 0) {
			pad(o, indent - 2);
			outf(o, "- ");
		} else {
			pad(o, indent);
		}
		outf(o, "%s:", s->name);
		if (s->type == T_MAP) {
			dump_help(o, s);
			dump_section(o, s->sub, cat(obj, s->off), indent + 2,
				     0);
		} else if (s->type == T_LIST) {
			int n = *(const int *)cat(obj, s->count_off);
			if (n == 0)
				outf(o, " []");
			dump_help(o, s);
			for (int k = 0; k < n; k++)
				dump_section(o, s->sub,
					     cat(obj, s->off + k * s->size),
					     indent + 4, 1);
		} else {
			outf(o, " ");
			dump_value(o, s, obj, indent);
			dump_help(o, s);
		}
	}
}

static size_t out_end(struct out *o)
{
	if (o->buf && o->len)
		o->buf[FL_MIN(o->pos, o->len - 1)] = '\0';
	return o->pos;
}

size_t fl_config_dump(const fl_config *cfg, char *buf, size_t len)
{
	struct out o = { buf, len, 0, 0 };

	dump_section(&o, &root_section, cfg, 0, 0);
	return out_end(&o);
}

size_t fl_config_sample(char *buf, size_t len)
{
	static const fl_point pts[] = {
		{ 100, 400 }, { 540, 400 }, { 600, 470 }, { 40, 470 }
	};
	struct out o = { buf, len, 0, 1 };
	fl_config *cfg;
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
	section_defaults(&camera_section, cam);
	snprintf(cam->id, sizeof(cam->id), "cam-1");
	snprintf(cam->source, sizeof(cam->source),
		 "rtsp://192.0.2.10:554/stream1");
	cam->nlanes = 1;
	lane = &cam->lanes[0];
	section_defaults(&lane_section, lane);
	snprintf(lane->id, sizeof(lane->id), "lane-a");
	snprintf(lane->name, sizeof(lane->name), "消防通道 A");
	memcpy(lane->points, pts, sizeof(pts));
	lane->npoints = (int)FL_ARRAY_SIZE(pts);

	outf(&o, "# firelane-edge sample configuration, generated from the "
		 "schema table\n# (src/core/config.c); see docs/config.md. "
		 "Every key is shown with its default.\n");
	dump_section(&o, &root_section, cfg, 0, 0);
	free(cfg);
	return out_end(&o);
}

static void doc_default(struct out *o, const struct setting *s)
{
	if (s->flags & F_REQ) {
		outf(o, "*required*");
		return;
	}
	switch (s->type) {
	case T_ID:
	case T_TEXT:
	case T_PATH:
		outf(o, "`\"%s\"`", s->sdef ? s->sdef : "");
		break;
	case T_INT:
	case T_NUM:
		outf(o, "`%g`", s->def);
		break;
	case T_BOOL:
		outf(o, "`%s`", s->def ? "true" : "false");
		break;
	case T_CUSTOM:
		outf(o, "`%s`", s->sdef ? s->sdef : "");
		break;
	case T_MAP:
		outf(o, "all defaults");
		break;
	case T_LIST:
		outf(o, "-");
		break;
	}
}

static void doc_type_range(struct out *o, const struct setting *s)
{
	switch (s->type) {
	case T_ID:
		outf(o, "id | 1..%g chars of `A-Z a-z 0-9 _ . -`", s->max);
		break;
	case T_TEXT:
		outf(o, "string | UTF-8, up to %zu bytes", s->size - 1);
		break;
	case T_PATH:
		outf(o, "path | up to %zu bytes", s->size - 1);
		break;
	case T_INT:
		outf(o, "integer | %g..%g", s->min, s->max);
		break;
	case T_NUM:
		outf(o, "number | %g..%g", s->min, s->max);
		break;
	case T_BOOL:
		outf(o, "boolean | true/false/yes/no");
		break;
	case T_MAP:
		outf(o, "map | see [%s](#%s)", s->sub->name, s->sub->name);
		break;
	case T_LIST:
		outf(o, "list of [%s](#%s) | %g..%g entries", s->sub->name,
		     s->sub->name, s->min, s->max);
		break;
	case T_CUSTOM:
		outf(o, "%s | %g..%g items", s->custom->type_doc, s->min,
		     s->max);
		break;
	}
}

size_t fl_config_doc(char *buf, size_t len)
{
	struct out o = { buf, len, 0, 0 };

	outf(&o,
	     "# firelane-edge configuration reference\n\n"
	     "<!-- Generated by fl_config_doc() from the schema table in "
	     "src/core/config.c.\n     Do not edit: tests/unit/test_config.c "
	     "fails when this file drifts.\n     Regenerate with "
	     "`build/test_config --write-docs`. -->\n\n"
	     "The edge daemon reads one YAML file (`--config FILE`). It is "
	     "checked once,\nat load: an unknown key, a value of the wrong "
	     "type or out of range, a\nmissing required key or a bad lane "
	     "polygon stops the daemon with\n`FILE:LINE: reason`. Nothing is "
	     "clamped or repaired later.\n\n"
	     "Typing rules: numbers are plain (a quoted `\"5\"` is a string); "
	     "`true`,\n`false`, `yes`, `no` are booleans; `.nan` and `.inf` "
	     "are refused.\nAnchors, aliases, several documents and duplicate "
	     "keys are refused.\nRelative paths (`detect.model`, "
	     "`source`, `reference`, `device.key_file`,\n`device.state_dir`, "
	     "`evidence.dir`, "
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
	     "edge.yaml:3: missing required key 'source' in camera\n"
	     "```\n");
	for (size_t k = 0; k < FL_ARRAY_SIZE(doc_sections); k++) {
		const struct section *sec = doc_sections[k];

		/* Anchors for the sections that other rows link to. */
		if (!strchr(sec->name, ' '))
			outf(&o, "\n<a id=\"%s\"></a>", sec->name);
		outf(&o, "\n## %s\n\n%s\n\n", sec->title, sec->intro);
		outf(&o, "| Key | Type | Range | Default | Description |\n"
			 "|-----|------|-------|---------|-------------|\n");
		for (size_t i = 0; i < sec->nkeys; i++) {
			const struct setting *s = &sec->keys[i];

			outf(&o, "| `%s` | ", s->name);
			doc_type_range(&o, s);
			outf(&o, " | ");
			doc_default(&o, s);
			outf(&o, " | %s |\n", s->help ? s->help : "");
		}
	}
	return out_end(&o);
}
