/*
 * truth.c - the two inputs of a score: ground truth and the events file.
 *
 * Both are read strictly. A scorer that silently skips a field it did not
 * understand produces a number nobody should trust, so every problem is an
 * error naming the file (and for events, the line) and what is wrong:
 *
 *   labels/vtest.json: obstructions[0].zone: "bay" names no zone
 *   run/vtest.events.jsonl:7: not JSON: '[' or '{' expected near 'x'
 *
 * The ground truth is the format of EVAL.md. Fields the scorer needs are
 * required (duration_s, dwell_s, zones[].name, obstructions[].zone, start_s,
 * end_s); descriptive ones (what, bbox, notes, frames, ...) are ignored;
 * "class" (the failure class a generated scene measures) is kept for
 * reports.
 *
 * Events are SPEC 5.2 JSON lines. Only "alarm" and "cleared" lines are kept,
 * and for them "lane" and "video_time_s" are required; "incident_id" may be
 * absent (the scorer then pairs clears by zone and time). Other types pass
 * unread, so an edge may add occupied/warned/escalated lines freely.
 *
 * Nothing here prints: messages go to the caller's buffer.
 */
#include "truth.h"

#include "fl.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 4, 5)))
#endif
	;

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* A finite number member, or NULL-member -> -1, wrong type -> -2. */
static int get_num(const json_t *obj, const char *key, double *out)
{
	const json_t *v = json_object_get(obj, key);

	if (!v)
		return -1;
	if (!json_is_number(v) || !isfinite(json_number_value(v)))
		return -2;
	*out = json_number_value(v);
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Parse zones[i] into z. */
static int parse_zone(const json_t *jz, size_t i, const char *file,
		      eval_zone *z, char *err, size_t errlen)
{
	const json_t *name = json_object_get(jz, "name");
	const json_t *purpose = json_object_get(jz, "purpose");
	const json_t *pts = json_object_get(jz, "points");

	if (!json_is_object(jz))
		return fail(err, errlen, FL_EFORMAT,
			    "%s: zones[%zu]: not an object", file, i);
	if (!json_is_string(name) || !json_string_value(name)[0])
		return fail(
			err, errlen, FL_EFORMAT,
			"%s: zones[%zu].name: missing or not a non-empty string",
			file, i);
	z->name = strdup(json_string_value(name));
	if (!z->name)
		return fail(err, errlen, FL_ENOMEM, "%s: out of memory", file);
	if (purpose) {
		const char *p = json_string_value(purpose);

		if (!p || (strcmp(p, "must not alarm") != 0 &&
			   strcmp(p, "alarm expected") != 0))
			return fail(
				err, errlen, FL_EFORMAT,
				"%s: zones[%zu].purpose: want \"alarm expected\" or \"must not alarm\"",
				file, i);
		z->must_not_alarm = strcmp(p, "must not alarm") == 0;
	}
	if (!pts)
		return 0;
	if (!json_is_array(pts))
		return fail(err, errlen, FL_EFORMAT,
			    "%s: zones[%zu].points: not an array", file, i);
	z->points = malloc((json_array_size(pts) + 1) * 2 * sizeof(double));
	if (!z->points)
		return fail(err, errlen, FL_ENOMEM, "%s: out of memory", file);
	for (size_t k = 0; k < json_array_size(pts); k++) {
		const json_t *p = json_array_get(pts, k);
		const json_t *x = json_array_get(p, 0),
			     *y = json_array_get(p, 1);

		if (!json_is_array(p) || json_array_size(p) != 2 ||
		    !json_is_number(x) || !json_is_number(y))
			return fail(err, errlen, FL_EFORMAT,
				    "%s: zones[%zu].points[%zu]: want [x, y]",
				    file, i, k);
		z->points[2 * k] = json_number_value(x);
		z->points[2 * k + 1] = json_number_value(y);
		z->npoints = k + 1;
	}
	return 0;
}

/* Parse obstructions[i] into o; zones are already known. */
static int parse_obstruction(const json_t *jo, size_t i, const char *file,
			     const eval_truth *t, eval_obstruction *o,
			     char *err, size_t errlen)
{
	const json_t *zone = json_object_get(jo, "zone");
	const json_t *why = json_object_get(jo, "ends_because");
	size_t z;

	if (!json_is_object(jo))
		return fail(err, errlen, FL_EFORMAT,
			    "%s: obstructions[%zu]: not an object", file, i);
	if (!json_is_string(zone))
		return fail(
			err, errlen, FL_EFORMAT,
			"%s: obstructions[%zu].zone: missing or not a string",
			file, i);
	for (z = 0; z < t->nzones; z++)
		if (strcmp(t->zones[z].name, json_string_value(zone)) == 0)
			break;
	if (z == t->nzones)
		return fail(
			err, errlen, FL_EFORMAT,
			"%s: obstructions[%zu].zone: \"%.64s\" names no zone",
			file, i, json_string_value(zone));
	o->zone = z;
	if (get_num(jo, "start_s", &o->start_s) != 0 ||
	    get_num(jo, "end_s", &o->end_s) != 0)
		return fail(
			err, errlen, FL_EFORMAT,
			"%s: obstructions[%zu]: start_s and end_s must be numbers",
			file, i);
	if (o->start_s < 0 || o->end_s < o->start_s)
		return fail(err, errlen, FL_EFORMAT,
			    "%s: obstructions[%zu]: want 0 <= start_s <= end_s",
			    file, i);
	if (why && !json_is_string(why))
		return fail(err, errlen, FL_EFORMAT,
			    "%s: obstructions[%zu].ends_because: not a string",
			    file, i);
	/* Either the labeller says so or the end is the clip's end: no clear
	 * can be owed for an object still there when the video stops. */
	o->clip_ends = (why &&
			strcmp(json_string_value(why), "clip ends") == 0) ||
		       o->end_s >= t->duration_s - EVAL_CLIP_END_S;
	return 0;
}

/* Fill out from a parsed root object. */
static int truth_from_json(const json_t *root, const char *file,
			   eval_truth *out, char *err, size_t errlen)
{
	const json_t *zones, *obs, *clip, *media, *cls;
	int rc;

	if (!json_is_object(root))
		return fail(err, errlen, FL_EFORMAT, "%s: not a JSON object",
			    file);
	if (get_num(root, "duration_s", &out->duration_s) != 0 ||
	    out->duration_s < 0)
		return fail(err, errlen, FL_EFORMAT,
			    "%s: duration_s: missing or not a number >= 0",
			    file);
	if (get_num(root, "dwell_s", &out->dwell_s) != 0 || out->dwell_s < 0)
		return fail(err, errlen, FL_EFORMAT,
			    "%s: dwell_s: missing or not a number >= 0", file);
	rc = get_num(root, "fps", &out->fps);
	if (rc == -2 || (rc == 0 && out->fps <= 0))
		return fail(err, errlen, FL_EFORMAT,
			    "%s: fps: not a number > 0", file);

	clip = json_object_get(root, "clip");
	if (clip && !json_is_string(clip))
		return fail(err, errlen, FL_EFORMAT, "%s: clip: not a string",
			    file);
	out->clip = strdup(clip ? json_string_value(clip) : base_name(file));
	media = json_object_get(root, "media");
	if (media && !json_is_string(media))
		return fail(err, errlen, FL_EFORMAT, "%s: media: not a string",
			    file);
	if (media)
		out->media = strdup(json_string_value(media));
	cls = json_object_get(root, "class");
	if (cls && !json_is_string(cls))
		return fail(err, errlen, FL_EFORMAT, "%s: class: not a string",
			    file);
	if (cls)
		out->cls = strdup(json_string_value(cls));
	if (!out->clip || (media && !out->media) || (cls && !out->cls))
		return fail(err, errlen, FL_ENOMEM, "%s: out of memory", file);

	zones = json_object_get(root, "zones");
	if (!json_is_array(zones))
		return fail(err, errlen, FL_EFORMAT,
			    "%s: zones: missing or not an array", file);
	out->zones = calloc(json_array_size(zones) + 1, sizeof(eval_zone));
	if (!out->zones)
		return fail(err, errlen, FL_ENOMEM, "%s: out of memory", file);
	for (size_t i = 0; i < json_array_size(zones); i++) {
		rc = parse_zone(json_array_get(zones, i), i, file,
				&out->zones[i], err, errlen);
		out->nzones = i + 1; /* owned strings are freed either way */
		if (rc)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(out->zones[j].name, out->zones[i].name) == 0)
				return fail(
					err, errlen, FL_EFORMAT,
					"%s: zones[%zu].name: \"%.64s\" used twice",
					file, i, out->zones[i].name);
	}

	obs = json_object_get(root, "obstructions");
	if (!json_is_array(obs))
		return fail(err, errlen, FL_EFORMAT,
			    "%s: obstructions: missing or not an array", file);
	out->obs = calloc(json_array_size(obs) + 1, sizeof(eval_obstruction));
	if (!out->obs)
		return fail(err, errlen, FL_ENOMEM, "%s: out of memory", file);
	for (size_t i = 0; i < json_array_size(obs); i++) {
		rc = parse_obstruction(json_array_get(obs, i), i, file, out,
				       &out->obs[i], err, errlen);
		if (rc)
			return rc;
		out->nobs = i + 1;
	}
	return 0;
}

int eval_truth_parse(const char *text, size_t len, const char *file,
		     eval_truth *out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(err, errlen, FL_EFORMAT, "%s:%d: not JSON: %s",
			    file, jerr.line, jerr.text);
	rc = truth_from_json(root, file, out, err, errlen);
	json_decref(root);
	return rc;
}

int eval_read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	size_t n = 0, cap = 0;
	int rc = FL_EIO;

	*buf = NULL;
	*len = 0;
	if (!f)
		return errno == ENOENT ? FL_ENOENT : FL_EIO;
	for (;;) {
		size_t got;

		if (cap - n < 4096) {
			char *nb = realloc(b, cap ? cap * 2 : 8192);

			if (!nb) {
				rc = FL_ENOMEM;
				goto out;
			}
			b = nb;
			cap = cap ? cap * 2 : 8192;
		}
		got = fread(b + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		goto out;
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
	rc = 0;
out:
	free(b);
	fclose(f);
	return rc;
}

int eval_truth_load(const char *path, eval_truth *out, char *err, size_t errlen)
{
	char *text;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = eval_read_file(path, &text, &len);
	if (rc)
		return fail(err, errlen, rc, "%s: %s", path, fl_strerror(rc));
	rc = eval_truth_parse(text, len, path, out, err, errlen);
	free(text);
	return rc;
}

/* Parse one events line (len bytes, no newline) numbered lineno. */
static int parse_event_line(const char *s, size_t len, const char *file,
			    int lineno, eval_events *out, char *err,
			    size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	const json_t *type, *lane, *id;
	const char *ts;
	enum eval_event_type et;
	double t;
	int rc = 0;

	root = json_loadb(s, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(err, errlen, FL_EFORMAT, "%s:%d: not JSON: %s",
			    file, lineno, jerr.text);
	if (!json_is_object(root)) {
		rc = fail(err, errlen, FL_EFORMAT, "%s:%d: not a JSON object",
			  file, lineno);
		goto out;
	}
	type = json_object_get(root, "type");
	if (!json_is_string(type)) {
		rc = fail(err, errlen, FL_EFORMAT,
			  "%s:%d: \"type\" missing or not a string", file,
			  lineno);
		goto out;
	}
	ts = json_string_value(type);
	if (strcmp(ts, "alarm") == 0)
		et = EVAL_ALARM;
	else if (strcmp(ts, "cleared") == 0)
		et = EVAL_CLEARED;
	else
		goto out; /* other types are welcome and unread */
	lane = json_object_get(root, "lane");
	id = json_object_get(root, "incident_id");
	if (!json_is_string(lane)) {
		rc = fail(err, errlen, FL_EFORMAT,
			  "%s:%d: \"lane\" missing or not a string", file,
			  lineno);
		goto out;
	}
	if (id && !json_is_string(id)) {
		rc = fail(err, errlen, FL_EFORMAT,
			  "%s:%d: \"incident_id\" not a string", file, lineno);
		goto out;
	}
	if (get_num(root, "video_time_s", &t) != 0) {
		rc = fail(err, errlen, FL_EFORMAT,
			  "%s:%d: \"video_time_s\" missing or not a number",
			  file, lineno);
		goto out;
	}
	rc = eval_events_push(out, et, json_string_value(lane),
			      id ? json_string_value(id) : "", t, lineno);
	if (rc)
		fail(err, errlen, rc, "%s:%d: out of memory", file, lineno);
out:
	json_decref(root);
	return rc;
}

static int blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

int eval_events_parse(const char *text, size_t len, const char *file,
		      eval_events *out, char *err, size_t errlen)
{
	size_t pos = 0;
	int lineno = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		int rc;

		lineno++;
		if (!blank(text + pos, end - pos)) {
			rc = parse_event_line(text + pos, end - pos, file,
					      lineno, out, err, errlen);
			if (rc)
				return rc;
		}
		pos = end + 1;
	}
	return 0;
}

int eval_events_load(const char *path, eval_events *out, char *err,
		     size_t errlen)
{
	char *text;
	size_t len;
	int rc;

	rc = eval_read_file(path, &text, &len);
	if (rc)
		return fail(err, errlen, rc, "%s: %s", path, fl_strerror(rc));
	rc = eval_events_parse(text, len, path, out, err, errlen);
	free(text);
	return rc;
}
