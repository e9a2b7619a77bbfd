/*
 * msg.c - validating what the fleet sends (see msg.h for the rules).
 *
 * A note on strictness. The hub sits behind a broker that many devices can
 * publish to; a device that is compromised, misconfigured or simply old must
 * not be able to write into another device's incidents, to plant a file
 * outside the evidence folder, or to make the hub allocate without bound.
 * So the payload is size-checked before it is parsed, JSON is parsed with
 * duplicate keys refused (two "seq" keys would let two readers disagree),
 * every id is checked against the id alphabet, and every id that the topic
 * also names must match the topic. Whether the device is enrolled and its
 * site is the topic's is the caller's question (it needs the store).
 */
#include "msg.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "fl.h"
#include "plate.h"
#include "topic.h"

#define HUB_JSON_MAX (256 * 1024) /* any JSON message at most */

static int bad(char *err, size_t errlen, const char *fmt, const char *a)
{
	snprintf(err, errlen, fmt, a ? a : "");
	return FL_EFORMAT;
}

int hub_name_ok(const char *s)
{
	return fl_id_valid(s, HUB_FILE_MAX) && s[0] != '.';
}

int hub_hex64_ok(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') ||
		      (s[n] >= 'a' && s[n] <= 'f')))
			return 0;
	return n == 64;
}

static int copy_level(char *dst, size_t size, const char *s, size_t n)
{
	if (n == 0 || n >= size)
		return -1;
	memcpy(dst, s, n);
	dst[n] = 0;
	return 0;
}

int hub_topic_parse(const char *topic, hub_topic *t, char *err, size_t errlen)
{
	const char *lv[8];
	size_t ln[8];
	size_t n = 0;
	const char *p = topic;

	memset(t, 0, sizeof(*t));
	if (!topic || strlen(topic) > 1024)
		return bad(err, errlen, "topic too long", NULL);
	for (;;) {
		const char *e = strchr(p, '/');
		if (n == FL_ARRAY_SIZE(lv))
			return bad(err, errlen, "topic: too many levels", NULL);
		lv[n] = p;
		ln[n] = e ? (size_t)(e - p) : strlen(p);
		n++;
		if (!e)
			break;
		p = e + 1;
	}
	if (n < 3 || ln[0] != 8 || memcmp(lv[0], "firelane", 8))
		return bad(err, errlen, "topic: not under firelane/<site>/",
			   NULL);
	if (copy_level(t->site, sizeof(t->site), lv[1], ln[1]))
		return bad(err, errlen, "topic: bad site level", NULL);
	for (const unsigned char *s = (const unsigned char *)t->site; *s; s++)
		if (*s < 0x20 || *s == 0x7f || *s == '+' || *s == '#')
			return bad(err, errlen, "topic: bad site level", NULL);
	if (n == 3) { /* firelane/<site>/alerts and the like: ours */
		t->kind = HUB_MSG_OWN;
		return FL_OK;
	}
	if (copy_level(t->device, sizeof(t->device), lv[2], ln[2]) ||
	    !fl_id_valid(t->device, FL_ID_MAX))
		return bad(err, errlen, "topic: bad device id", NULL);
#define IS(i, s) (ln[i] == strlen(s) && !memcmp(lv[i], s, ln[i]))
	if (n == 4) {
		t->kind = IS(3, "status")      ? HUB_MSG_STATUS
			  : IS(3, "heartbeat") ? HUB_MSG_HEARTBEAT
					       : HUB_MSG_IGNORED;
		return FL_OK;
	}
	if (n == 5 && IS(3, "command")) {
		t->kind = HUB_MSG_IGNORED;
		return FL_OK;
	}
	if (copy_level(t->camera, sizeof(t->camera), lv[3], ln[3]) ||
	    !fl_id_valid(t->camera, FL_ID_MAX))
		return bad(err, errlen, "topic: bad camera id", NULL);
	if (n == 5) {
		t->kind = IS(4, "event") ? HUB_MSG_CAMERA_EVENT
					 : HUB_MSG_IGNORED;
		return FL_OK;
	}
	if (n != 6)
		return bad(err, errlen, "topic: unknown shape", NULL);
	if (copy_level(t->lane, sizeof(t->lane), lv[4], ln[4]) ||
	    !fl_id_valid(t->lane, FL_ID_MAX))
		return bad(err, errlen, "topic: bad lane id", NULL);
	t->kind = IS(5, "incident")   ? HUB_MSG_INCIDENT
		  : IS(5, "evidence") ? HUB_MSG_EVIDENCE
				      : HUB_MSG_IGNORED;
#undef IS
	return FL_OK;
}

/* Parse one JSON object, duplicate keys refused. NULL with err. */
static json_t *parse_object(const void *payload, size_t len, char *err,
			    size_t errlen)
{
	json_error_t je;
	json_t *j;

	if (len > HUB_JSON_MAX) {
		snprintf(err, errlen, "JSON payload of %zu bytes is too large",
			 len);
		return NULL;
	}
	j = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		snprintf(err, errlen, "bad JSON: %s at byte %d", je.text,
			 je.position);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		snprintf(err, errlen, "expected a JSON object");
		return NULL;
	}
	return j;
}

static const char *str_field(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int same(json_t *o, const char *k, const char *want, char *err,
		size_t errlen)
{
	const char *v = str_field(o, k);

	if (!v || strcmp(v, want)) {
		snprintf(err, errlen, "%s: missing or not the topic's", k);
		return FL_EFORMAT;
	}
	return FL_OK;
}

/* An optional display name k: absent (""), or 1..127 bytes of UTF-8
 * (jansson checked it) without control characters into out. */
static int name_field(json_t *o, const char *k, char *out, char *err,
		      size_t errlen)
{
	json_t *v = json_object_get(o, k);
	const char *s = json_string_value(v);
	size_t n = s ? strlen(s) : 0;

	out[0] = 0;
	if (!v)
		return FL_OK;
	for (size_t i = 0; s && i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			n = 0;
	if (!n || n >= HUB_NAME_MAX || strlen(s) != json_string_length(v)) {
		snprintf(err, errlen,
			 "%s: expected a name of 1..%d bytes without "
			 "control characters",
			 k, HUB_NAME_MAX - 1);
		return FL_EFORMAT;
	}
	memcpy(out, s, n + 1);
	return FL_OK;
}

/* The unix time of the video time in o's key k (rest_since_s,
 * left_at_s), from the message's own video_time_s and unix_time; -1 when
 * either is missing or not a finite number. */
static double video_wall(json_t *o, double wall, const char *k)
{
	json_t *vt = json_object_get(o, "video_time_s");
	json_t *at = json_object_get(o, k);
	double t;

	if (!json_is_number(vt) || !json_is_number(at))
		return -1;
	t = wall - (json_number_value(vt) - json_number_value(at));
	return isfinite(t) && t >= 0 ? t : -1;
}

static const char *const types[] = {
	"occupied", "warned",  "alarm",    "escalated",
	"cleared",  "vacated", "evidence", "interrupted",
};

int hub_incident_check(const hub_topic *t, const void *payload, size_t len,
		       hub_incident *out, hub_file *files, size_t *nfiles,
		       char *err, size_t errlen)
{
	json_t *j = parse_object(payload, len, err, errlen);
	json_t *v;
	const char *s;
	char lvl[HUB_SITE_MAX];
	size_t dl;
	int rc = FL_EFORMAT;

	memset(out, 0, sizeof(*out));
	if (nfiles)
		*nfiles = 0;
	if (!j)
		return FL_EFORMAT;
	s = str_field(j, "incident_id");
	if (!s || !fl_id_valid(s, FL_INCIDENT_ID_MAX)) {
		snprintf(err, errlen, "incident_id: missing or not an id");
		goto out;
	}
	dl = strlen(t->device);
	if (strncmp(s, t->device, dl) || s[dl] != '-') {
		snprintf(err, errlen,
			 "incident_id: does not belong to device %s",
			 t->device);
		goto out;
	}
	snprintf(out->incident_id, sizeof(out->incident_id), "%s", s);
	v = json_object_get(j, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > 1000000000) {
		snprintf(err, errlen, "seq: expected an integer >= 1");
		goto out;
	}
	out->seq = (unsigned)json_integer_value(v);
	s = str_field(j, "type");
	for (size_t i = 0; s && i < FL_ARRAY_SIZE(types); i++)
		if (!strcmp(s, types[i]))
			snprintf(out->type, sizeof(out->type), "%s", s);
	if (!out->type[0]) {
		snprintf(err, errlen, "type: missing or unknown");
		goto out;
	}
	s = str_field(j, "site");
	if (!s) {
		snprintf(err, errlen, "site: missing");
		goto out;
	}
	fl_topic_level(s, lvl, sizeof(lvl));
	if (strcmp(lvl, t->site)) {
		snprintf(err, errlen, "site: not the topic's");
		goto out;
	}
	if (same(j, "device", t->device, err, errlen) ||
	    same(j, "camera", t->camera, err, errlen) ||
	    same(j, "lane", t->lane, err, errlen))
		goto out;
	v = json_object_get(j, "unix_time");
	if (!json_is_number(v) || !isfinite(json_number_value(v)) ||
	    json_number_value(v) < 0 || json_number_value(v) > 1e11) {
		snprintf(err, errlen, "unix_time: expected a number");
		goto out;
	}
	out->wall = json_number_value(v);
	if (name_field(j, "site_name", out->site_name, err, errlen) ||
	    name_field(j, "lane_name", out->lane_name, err, errlen))
		goto out;
	out->rest_wall = video_wall(j, out->wall, "rest_since_s");
	out->left_wall = video_wall(j, out->wall, "left_at_s");
	/* optional plate (docs/mqtt.md): a text the reader can give (a plate
	 * shape) or null (unread), with its confidence */
	v = json_object_get(j, "plate");
	if (v || json_object_get(j, "plate_confidence")) {
		json_t *c = json_object_get(j, "plate_confidence");

		/* either may come alone: a plate from elsewhere (entered,
		 * another reader) may have no confidence */
		if (!(!v || json_is_null(v) ||
		      (json_is_string(v) &&
		       json_string_length(v) < FL_PLATE_TEXT_MAX &&
		       fl_plate_shape(json_string_value(v)) !=
			       FL_PLATE_SHAPE_NONE)) ||
		    (c && (!json_is_number(c) || !(json_number_value(c) >= 0) ||
			   json_number_value(c) > 1))) {
			snprintf(err, errlen,
				 "plate: expected a plate text or null and a "
				 "plate_confidence in [0, 1]");
			goto out;
		}
		snprintf(out->plate, sizeof(out->plate), "%s",
			 json_is_string(v) ? json_string_value(v) : "");
	}
	if (!strcmp(out->type, "evidence")) {
		json_t *list = json_object_get(j, "evidence");
		size_t i, k;

		if (!json_is_array(list) || json_array_size(list) == 0 ||
		    json_array_size(list) > HUB_MAX_FILES) {
			snprintf(err, errlen,
				 "evidence: expected a list of 1..%d files",
				 HUB_MAX_FILES);
			goto out;
		}
		for (i = 0; i < json_array_size(list); i++) {
			json_t *e = json_array_get(list, i);
			json_t *b = json_object_get(e, "bytes");
			const char *nm = str_field(e, "name");
			const char *h = str_field(e, "sha256");

			if (!json_is_object(e) || !hub_name_ok(nm) ||
			    !hub_hex64_ok(h) || !json_is_integer(b) ||
			    json_integer_value(b) < 0 ||
			    json_integer_value(b) > HUB_MAX_FILE_BYTES) {
				snprintf(err, errlen,
					 "evidence[%zu]: expected {name (a "
					 "plain file name), sha256, bytes}",
					 i);
				goto out;
			}
			for (k = 0; k < i; k++)
				if (!strcmp(str_field(json_array_get(list, k),
						      "name"),
					    nm)) {
					snprintf(err, errlen,
						 "evidence: %s listed twice",
						 nm);
					goto out;
				}
			if (files) {
				snprintf(files[i].name, sizeof(files[i].name),
					 "%s", nm);
				memcpy(files[i].sha256, h, 65);
				files[i].bytes = json_integer_value(b);
			}
		}
		if (nfiles)
			*nfiles = i;
	}
	rc = FL_OK;
out:
	json_decref(j);
	return rc;
}

int hub_chunk_check(const hub_topic *t, const void *payload, size_t len,
		    hub_chunk *out, char *err, size_t errlen)
{
	const char *nl = memchr(payload, '\n', len < 4096 ? len : 4096);
	json_t *j = NULL, *v;
	const char *s;
	size_t hl, dl;
	long long want;
	int rc = FL_EFORMAT;

	memset(out, 0, sizeof(*out));
	if (!nl)
		return bad(err, errlen, "chunk: no header line", NULL);
	hl = (size_t)(nl - (const char *)payload);
	j = parse_object(payload, hl, err, errlen);
	if (!j)
		return FL_EFORMAT;
	if (json_object_size(j) != 8) {
		snprintf(err, errlen, "chunk header: unexpected keys");
		goto out;
	}
	s = str_field(j, "incident_id");
	dl = strlen(t->device);
	if (!s || !fl_id_valid(s, FL_INCIDENT_ID_MAX) ||
	    strncmp(s, t->device, dl) || s[dl] != '-') {
		snprintf(err, errlen,
			 "chunk: incident_id missing or not device %s's",
			 t->device);
		goto out;
	}
	snprintf(out->incident_id, sizeof(out->incident_id), "%s", s);
	s = str_field(j, "file");
	if (!hub_name_ok(s)) {
		snprintf(err, errlen, "chunk: file is not a plain file name");
		goto out;
	}
	snprintf(out->file, sizeof(out->file), "%s", s);
#define INT_IN(k, lo, hi, dst)                                                 \
	do {                                                                   \
		v = json_object_get(j, k);                                     \
		if (!json_is_integer(v) || json_integer_value(v) < (lo) ||     \
		    json_integer_value(v) > (hi)) {                            \
			snprintf(err, errlen, "chunk: %s out of range", k);    \
			goto out;                                              \
		}                                                              \
		dst = json_integer_value(v);                                   \
	} while (0)
	INT_IN("size", 0, HUB_MAX_FILE_BYTES, out->size);
	INT_IN("count", 1, HUB_MAX_FILE_BYTES / HUB_CHUNK + 1, out->count);
	INT_IN("index", 0, out->count - 1, out->index);
	INT_IN("offset", 0, HUB_MAX_FILE_BYTES, out->offset);
#undef INT_IN
	s = str_field(j, "chunk_sha256");
	if (!hub_hex64_ok(s)) {
		snprintf(err, errlen, "chunk: chunk_sha256 not 64 hex");
		goto out;
	}
	memcpy(out->chunk_sha256, s, 65);
	s = str_field(j, "file_sha256");
	if (!hub_hex64_ok(s)) {
		snprintf(err, errlen, "chunk: file_sha256 not 64 hex");
		goto out;
	}
	memcpy(out->file_sha256, s, 65);
	if (out->count != (out->size + HUB_CHUNK - 1) / HUB_CHUNK +
				  (out->size == 0) ||
	    out->offset != (long long)out->index * HUB_CHUNK) {
		snprintf(err, errlen, "chunk: count/offset do not fit size");
		goto out;
	}
	want = out->size - out->offset;
	if (want > HUB_CHUNK)
		want = HUB_CHUNK;
	out->data = (const unsigned char *)nl + 1;
	out->len = len - hl - 1;
	if ((long long)out->len != want) {
		snprintf(err, errlen, "chunk: %zu bytes, expected %lld",
			 out->len, want);
		goto out;
	}
	rc = FL_OK;
out:
	json_decref(j);
	return rc;
}

int hub_json_object_check(const void *payload, size_t len, char *err,
			  size_t errlen)
{
	json_t *j = parse_object(payload, len, err, errlen);

	if (!j)
		return FL_EFORMAT;
	json_decref(j);
	return FL_OK;
}

/* A heartbeat's "undelivered" (absent: nothing asked). 0 or FL_EFORMAT. */
static int heartbeat_ask(json_t *j, hub_heartbeat *out, char *err,
			 size_t errlen)
{
	json_t *u = json_object_get(j, "undelivered"), *a, *v;
	size_t i;

	if (!u)
		return FL_OK;
	a = json_object_get(u, "ask");
	v = json_object_get(u, "bundles");
	if (!json_is_object(u) ||
	    (v && (!json_is_integer(v) || json_integer_value(v) < 0)))
		return bad(err, errlen,
			   "heartbeat: undelivered is not {\"bundles\": n, "
			   "\"ask\": [...]}",
			   NULL);
	if (a &&
	    (!json_is_array(a) || json_array_size(a) > FL_HEARTBEAT_ASK_MAX)) {
		snprintf(err, errlen,
			 "heartbeat: undelivered.ask is not an array of at "
			 "most %d incident ids",
			 FL_HEARTBEAT_ASK_MAX);
		return FL_EFORMAT;
	}
	json_array_foreach(a, i, v)
	{
		const char *id = json_string_value(v);

		if (!id || !fl_id_valid(id, FL_INCIDENT_ID_MAX))
			return bad(err, errlen,
				   "heartbeat: undelivered.ask holds something "
				   "that is not an incident id",
				   NULL);
		snprintf(out->ask[out->nask++], FL_INCIDENT_ID_MAX, "%s", id);
	}
	return FL_OK;
}

int hub_heartbeat_check(const void *payload, size_t len, hub_heartbeat *out,
			char *err, size_t errlen)
{
	json_t *j = parse_object(payload, len, err, errlen), *v;
	int rc = FL_OK;

	memset(out, 0, sizeof(*out));
	if (!j)
		return FL_EFORMAT;
	v = json_object_get(j, "config_version");
	if (json_is_integer(v) && json_integer_value(v) > 0 &&
	    json_integer_value(v) <= INT_MAX)
		out->config_version = (long)json_integer_value(v);
	v = json_object_get(j, "epoch");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 1)) {
		snprintf(err, errlen,
			 "heartbeat: epoch is not an integer >= 1");
		rc = FL_EFORMAT;
	} else if (v) {
		out->epoch = (unsigned long long)json_integer_value(v);
	}
	if (rc == FL_OK)
		rc = heartbeat_ask(j, out, err, errlen);
	json_decref(j);
	return rc;
}

int hub_camera_event_check(const hub_topic *t, const void *payload, size_t len,
			   char *type, size_t typelen, char *reason,
			   size_t reasonlen, char *err, size_t errlen)
{
	static const char *const health[] = { "frozen", "covered", "moved",
					      "overloaded" };
	json_t *j = parse_object(payload, len, err, errlen);
	const char *ty, *cam, *why;
	int rc = FL_EFORMAT, known = 0;

	if (!j)
		return FL_EFORMAT;
	ty = str_field(j, "type");
	cam = str_field(j, "camera");
	why = str_field(j, "reason");
	if (!ty || (strcmp(ty, "camera_offline") &&
		    strcmp(ty, "camera_online") && strcmp(ty, "health"))) {
		bad(err, errlen, "camera event: unknown type", NULL);
		goto out;
	}
	if (!cam || strcmp(cam, t->camera)) {
		bad(err, errlen, "camera event: camera is not the topic's '%s'",
		    t->camera);
		goto out;
	}
	if (json_object_get(j, "reason") && !why) {
		bad(err, errlen, "camera event: reason is not a string", NULL);
		goto out;
	}
	if (!strcmp(ty, "health")) {
		const char *h = why && !strncmp(why, "cleared: ", 9) ? why + 9
								     : why;
		for (size_t i = 0; h && i < FL_ARRAY_SIZE(health); i++)
			known |= !strcmp(h, health[i]);
		if (!known) {
			bad(err, errlen,
			    "camera event: unknown health "
			    "condition",
			    NULL);
			goto out;
		}
	}
	snprintf(type, typelen, "%s", ty);
	snprintf(reason, reasonlen, "%s", why ? why : "");
	rc = FL_OK;
out:
	json_decref(j);
	return rc;
}

int hub_status_check(const void *payload, size_t len, char *status,
		     size_t statuslen, unsigned long long *epoch, char *err,
		     size_t errlen)
{
	if (fl_status_parse(payload, len, status, statuslen, epoch) == FL_OK)
		return FL_OK;
	return bad(err, errlen,
		   "status: not online, offline or stopped (and an epoch)",
		   NULL);
}

int hub_msg_check(const char *topic, const void *payload, size_t len,
		  size_t max_payload, char *err, size_t errlen)
{
	hub_topic t;
	hub_incident in;
	hub_chunk ch;
	hub_file files[HUB_MAX_FILES];
	size_t nf;
	char st[16];
	unsigned long long epoch;
	int rc;

	rc = hub_topic_parse(topic, &t, err, errlen);
	if (rc)
		return rc;
	if (t.kind == HUB_MSG_OWN || t.kind == HUB_MSG_IGNORED)
		return (int)t.kind; /* not read: any size */
	if (len > max_payload) {
		snprintf(err, errlen, "payload of %zu bytes exceeds %zu", len,
			 max_payload);
		return FL_EFORMAT;
	}
	switch (t.kind) {
	case HUB_MSG_STATUS:
		rc = hub_status_check(payload, len, st, sizeof(st), &epoch, err,
				      errlen);
		break;
	case HUB_MSG_HEARTBEAT: {
		hub_heartbeat hb;

		rc = hub_heartbeat_check(payload, len, &hb, err, errlen);
		break;
	}
	case HUB_MSG_CAMERA_EVENT: {
		char ty[32], why[256];

		rc = hub_camera_event_check(&t, payload, len, ty, sizeof(ty),
					    why, sizeof(why), err, errlen);
		break;
	}
	case HUB_MSG_INCIDENT:
		rc = hub_incident_check(&t, payload, len, &in, files, &nf, err,
					errlen);
		break;
	case HUB_MSG_EVIDENCE:
		rc = hub_chunk_check(&t, payload, len, &ch, err, errlen);
		break;
	default:
		rc = FL_OK;
	}
	return rc ? rc : (int)t.kind;
}
