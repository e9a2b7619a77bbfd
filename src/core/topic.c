/*
 * topic.c - the MQTT contract's names and payloads, and the command parser.
 *
 * A note on the shape of the contract. Three things are fixed by the
 * product (docs/mqtt.md): the root "firelane/<site>/<device>/", a retained
 * status with a last will, and per lane a retained state and QoS 1
 * incident messages. Everything else follows two rules. First, plain strings where a consumer wants a
 * value (status, lane state: Home Assistant and dashboards read them as
 * is), JSON where a consumer wants a record (incidents, heartbeat,
 * settings, command answers). Second, every message the hub must not miss
 * carries its own identity: an incident message is (incident_id, seq), so a
 * message delivered twice after a reconnect is recognised as the same one,
 * and a gap in seq is visible.
 *
 * The writers share one snprintf-style appender (struct jw) so a short
 * buffer gets the same bytes as a long one, cut; nothing allocates. The
 * command parser is a strict reader of one flat JSON object (string, number,
 * true/false/null values; no nesting, no duplicate or unknown keys, nothing
 * after the object), because commands come from the network and a strict
 * parser has less surface than a general one. It is fuzzed
 * (tests/fuzz/fuzz_command.c).
 */
#include "topic.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fl.h"

/* ------------------------------------------------------------------ */
/* An appender with snprintf semantics over the whole output.          */

struct jw {
	char *buf;
	size_t len;
	size_t pos;
};

static void jw_raw(struct jw *w, const char *s, size_t n)
{
	if (w->buf && w->pos < w->len) {
		size_t room = w->len - w->pos - 1;
		size_t k = n < room ? n : room;
		memcpy(w->buf + w->pos, s, k);
		w->buf[w->pos + k] = '\0';
	}
	w->pos += n;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
jw_f(struct jw *w, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	jw_raw(w, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void jw_str(struct jw *w, const char *s)
{
	char tmp[1024];
	size_t n = fl_json_string(s ? s : "", tmp, sizeof(tmp));

	if (n >= sizeof(tmp)) /* too long for a field of ours: say so */
		n = fl_json_string("(too long)", tmp, sizeof(tmp));
	jw_raw(w, tmp, n);
}

/* A number JSON can say: NaN and infinities become null. */
static void jw_num(struct jw *w, const char *fmt, double v)
{
	if (!isfinite(v)) {
		jw_raw(w, "null", 4);
		return;
	}
	jw_f(w, fmt, v);
}

/* A literal, its length counted by the compiler. */
#define JW_LIT(w, lit) jw_raw((w), lit, sizeof(lit) - 1)

static void jw_str_lit(struct jw *w, const char *s)
{
	jw_raw(w, s, strlen(s));
}

static void jw_init(struct jw *w, char *buf, size_t len)
{
	w->buf = buf;
	w->len = len;
	w->pos = 0;
	if (buf && len)
		buf[0] = '\0';
}

/* ISO 8601 UTC with milliseconds, from unix seconds. */
static void jw_time(struct jw *w, double unix_s)
{
	time_t sec;
	struct tm tm;
	int ms;

	if (!isfinite(unix_s) || unix_s < 0 || unix_s > 253402300799.0) {
		jw_raw(w, "null", 4);
		return;
	}
	sec = (time_t)floor(unix_s);
	ms = (int)lround((unix_s - (double)sec) * 1000.0);
	if (ms > 999) { /* rounds up into the next second */
		sec++;
		ms = 0;
	}
	gmtime_r(&sec, &tm);
	jw_f(w, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", tm.tm_year + 1900,
	     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

/* ------------------------------------------------------------------ */
/* Topics.                                                              */

size_t fl_topic_level(const char *s, char *buf, size_t len)
{
	struct jw w;

	jw_init(&w, buf, len);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;
	     p++) {
		char ch = (char)*p;
		if (ch == '/' || ch == '+' || ch == '#' || *p < 0x20 ||
		    *p == 0x7f)
			ch = '_';
		jw_raw(&w, &ch, 1);
	}
	if (w.pos == 0)
		JW_LIT(&w, "_"); /* an empty level would merge two */
	return w.pos;
}

size_t fl_topic(char *buf, size_t len, enum fl_topic_kind kind,
		const char *site, const char *device, const char *camera,
		const char *lane)
{
	static const char *const leaf[] = {
		[FL_TOPIC_STATUS] = "status",
		[FL_TOPIC_HEARTBEAT] = "heartbeat",
		[FL_TOPIC_CMD_SET] = "command/set",
		[FL_TOPIC_CMD_STATE] = "command/state",
		[FL_TOPIC_CAMERA_EVENT] = "event",
		[FL_TOPIC_LANE_STATE] = "state",
		[FL_TOPIC_LANE_SETTINGS] = "settings",
		[FL_TOPIC_INCIDENT] = "incident",
		[FL_TOPIC_EVIDENCE] = "evidence",
		[FL_TOPIC_IMAGE] = "image",
	};
	char lvl[FL_TOPIC_MAX];
	struct jw w;

	jw_init(&w, buf, len);
	fl_topic_level(site, lvl, sizeof(lvl));
	JW_LIT(&w, "firelane/");
	jw_raw(&w, lvl, strlen(lvl));
	JW_LIT(&w, "/");
	fl_topic_level(device, lvl, sizeof(lvl));
	jw_raw(&w, lvl, strlen(lvl));
	JW_LIT(&w, "/");
	if (kind >= FL_TOPIC_CAMERA_EVENT) {
		fl_topic_level(camera, lvl, sizeof(lvl));
		jw_raw(&w, lvl, strlen(lvl));
		JW_LIT(&w, "/");
	}
	if (kind >= FL_TOPIC_LANE_STATE) {
		fl_topic_level(lane, lvl, sizeof(lvl));
		jw_raw(&w, lvl, strlen(lvl));
		JW_LIT(&w, "/");
	}
	jw_raw(&w, leaf[kind], strlen(leaf[kind]));
	return w.pos;
}

/* ------------------------------------------------------------------ */
/* Payloads.                                                            */

size_t fl_incident_json(const fl_incident_msg *m, char *buf, size_t len)
{
	struct jw w;

	jw_init(&w, buf, len);
	JW_LIT(&w, "{\"incident_id\": ");
	jw_str(&w, m->incident_id);
	jw_f(&w, ", \"seq\": %u, \"type\": ", m->seq);
	jw_str(&w, m->type);
	JW_LIT(&w, ", \"site\": ");
	jw_str(&w, m->site);
	JW_LIT(&w, ", \"device\": ");
	jw_str(&w, m->device);
	JW_LIT(&w, ", \"camera\": ");
	jw_str(&w, m->camera);
	JW_LIT(&w, ", \"lane\": ");
	jw_str(&w, m->lane);
	if (m->site_name && *m->site_name) {
		JW_LIT(&w, ", \"site_name\": ");
		jw_str(&w, m->site_name);
	}
	if (m->lane_name && *m->lane_name) {
		JW_LIT(&w, ", \"lane_name\": ");
		jw_str(&w, m->lane_name);
	}
	JW_LIT(&w, ", \"time\": ");
	jw_time(&w, m->wall_time);
	JW_LIT(&w, ", \"unix_time\": ");
	jw_num(&w, "%.3f", m->wall_time);
	if (m->video_time_s >= 0) {
		JW_LIT(&w, ", \"video_time_s\": ");
		jw_num(&w, "%.3f", m->video_time_s);
	}
	if (m->rest_since_s >= 0) {
		JW_LIT(&w, ", \"rest_since_s\": ");
		jw_num(&w, "%.3f", m->rest_since_s);
	}
	if (m->left_at_s >= 0) {
		JW_LIT(&w, ", \"left_at_s\": ");
		jw_num(&w, "%.3f", m->left_at_s);
	}
	if (m->bbox) {
		JW_LIT(&w, ", \"bbox\": [");
		for (int i = 0; i < 4; i++) {
			if (i)
				JW_LIT(&w, ", ");
			jw_num(&w, "%.1f", m->bbox[i]);
		}
		JW_LIT(&w, "]");
	}
	if (m->cls) {
		JW_LIT(&w, ", \"class\": ");
		jw_str(&w, m->cls);
	}
	if (m->reason) {
		JW_LIT(&w, ", \"reason\": ");
		jw_str(&w, m->reason);
	}
	if (m->plate) {
		JW_LIT(&w, ", \"plate\": ");
		if (m->plate->text[0])
			jw_str(&w, m->plate->text);
		else
			JW_LIT(&w, "null");
		JW_LIT(&w, ", \"plate_confidence\": ");
		jw_num(&w, "%.4f", m->plate->conf);
	}
	if (m->files) {
		JW_LIT(&w, ", \"evidence\": [");
		for (size_t i = 0; i < m->nfiles; i++) {
			jw_str_lit(&w, i ? ", {\"name\": " : "{\"name\": ");
			jw_str(&w, m->files[i].name);
			JW_LIT(&w, ", \"sha256\": ");
			jw_str(&w, m->files[i].sha256);
			JW_LIT(&w, ", \"bytes\": ");
			jw_num(&w, "%.0f", m->files[i].bytes);
			JW_LIT(&w, "}");
		}
		JW_LIT(&w, "]");
	}
	JW_LIT(&w, "}");
	return w.pos;
}

size_t fl_evidence_chunk_header(const char *incident_id, const char *file,
				long index, long count, double offset,
				double size, const char *chunk_sha256,
				const char *file_sha256, char *buf, size_t len)
{
	struct jw w;

	jw_init(&w, buf, len);
	JW_LIT(&w, "{\"incident_id\": ");
	jw_str(&w, incident_id);
	JW_LIT(&w, ", \"file\": ");
	jw_str(&w, file);
	jw_f(&w, ", \"index\": %ld, \"count\": %ld, \"offset\": ", index,
	     count);
	jw_num(&w, "%.0f", offset);
	JW_LIT(&w, ", \"size\": ");
	jw_num(&w, "%.0f", size);
	JW_LIT(&w, ", \"chunk_sha256\": ");
	jw_str(&w, chunk_sha256);
	JW_LIT(&w, ", \"file_sha256\": ");
	jw_str(&w, file_sha256);
	JW_LIT(&w, "}\n");
	return w.pos;
}

size_t fl_heartbeat_json(const fl_health *h, char *buf, size_t len)
{
	struct jw w;

	jw_init(&w, buf, len);
	JW_LIT(&w, "{\"time\": ");
	jw_time(&w, h->wall_time);
	if (h->epoch)
		jw_f(&w, ", \"epoch\": %llu", h->epoch);
	JW_LIT(&w, ", \"uptime_s\": ");
	jw_num(&w, "%.0f", h->uptime_s);
	JW_LIT(&w, ", \"cameras\": [");
	for (size_t i = 0; i < h->ncameras; i++) {
		const fl_camera_health *c = &h->cameras[i];
		jw_str_lit(&w, i ? ", {\"id\": " : "{\"id\": ");
		jw_str(&w, c->id);
		JW_LIT(&w, ", \"fps\": ");
		jw_num(&w, "%.1f", c->fps);
		JW_LIT(&w, ", \"load\": ");
		jw_num(&w, "%.3f", c->load);
		jw_f(&w, ", \"online\": %s", c->online ? "true" : "false");
		JW_LIT(&w, ", \"cpu\": ");
		jw_num(&w, "%.3f", c->cpu);
		jw_f(&w,
		     ", \"decoded\": %ld, \"analysed\": %ld, "
		     "\"skipped\": %ld, \"lag_s\": ",
		     c->decoded, c->analysed, c->skipped);
		jw_num(&w, "%.2f", c->lag_s);
		jw_f(&w, ", \"overloaded\": %s}",
		     c->overloaded ? "true" : "false");
	}
	jw_f(&w, "], \"spool\": {\"messages\": %ld, \"bytes\": ",
	     h->spool_messages);
	jw_num(&w, "%.0f", h->spool_bytes);
	jw_f(&w, ", \"dropped\": %ld, \"refused\": %ld}", h->spool_dropped,
	     h->spool_refused);
	JW_LIT(&w, ", \"disk_free_mb\": ");
	if (h->disk_free_mb < 0)
		JW_LIT(&w, "null");
	else
		jw_num(&w, "%.0f", h->disk_free_mb);
	jw_f(&w, ", \"clock\": \"%s\", \"config_version\": %ld",
	     h->clock_synced > 0    ? "synced"
	     : h->clock_synced == 0 ? "unsynced"
				    : "unknown",
	     h->config_version);
	jw_f(&w, ", \"undelivered\": {\"bundles\": %ld", h->undelivered);
	if (h->nask) {
		JW_LIT(&w, ", \"ask\": [");
		for (size_t i = 0; i < h->nask; i++) {
			if (i)
				JW_LIT(&w, ", ");
			jw_str(&w, h->ask[i]);
		}
		JW_LIT(&w, "]");
	}
	JW_LIT(&w, "}}");
	return w.pos;
}

static const char *const status_words[] = { "online", "offline", "stopped" };

size_t fl_status_payload(const char *status, unsigned long long epoch,
			 char *buf, size_t len)
{
	struct jw w;

	jw_init(&w, buf, len);
	jw_f(&w, "%s %llu", status ? status : "", epoch);
	return w.pos;
}

int fl_status_parse(const void *payload, size_t len, char *status,
		    size_t statuslen, unsigned long long *epoch)
{
	const char *p = payload;

	*epoch = 0;
	if (statuslen)
		status[0] = '\0';
	for (size_t i = 0; p && i < FL_ARRAY_SIZE(status_words); i++) {
		size_t n = strlen(status_words[i]), k;
		unsigned long long e = 0;

		if (len < n || memcmp(p, status_words[i], n))
			continue;
		if (len > n) { /* " EPOCH": 1..19 digits, no leading zero */
			if (p[n] != ' ' || len - n - 1 < 1 ||
			    len - n - 1 > 19 || p[n + 1] == '0')
				return FL_EFORMAT;
			for (k = n + 1; k < len; k++) {
				if (p[k] < '0' || p[k] > '9')
					return FL_EFORMAT;
				e = e * 10 + (unsigned)(p[k] - '0');
			}
		}
		if (statuslen <= n)
			return FL_EFORMAT;
		memcpy(status, p, n);
		status[n] = '\0';
		*epoch = e;
		return FL_OK;
	}
	return FL_EFORMAT;
}

size_t fl_lane_settings_json(int enabled, double dwell_s, char *buf, size_t len)
{
	struct jw w;

	jw_init(&w, buf, len);
	jw_f(&w, "{\"enabled\": %s, \"dwell_s\": ", enabled ? "true" : "false");
	jw_num(&w, "%g", dwell_s);
	JW_LIT(&w, "}");
	return w.pos;
}

size_t fl_discovery(int which, const char *site, const char *device,
		    const char *camera, const char *lane, const char *lane_name,
		    char *topic, size_t topiclen, char *buf, size_t len)
{
	static const char *const comp[] = { "binary_sensor", "sensor",
					    "image" };
	static const char *const suffix[] = { "blocked", "dwell", "image" };
	char status[FL_TOPIC_MAX], src[FL_TOPIC_MAX], uid[3 * FL_ID_MAX + 16];
	char name[FL_NAME_MAX + 32];
	struct jw w, t;

	if (which < 0 || which >= FL_DISCOVERY_ENTITIES)
		which = 0;
	snprintf(uid, sizeof(uid), "firelane_%s_%s_%s_%s", device, camera, lane,
		 suffix[which]);
	jw_init(&t, topic, topiclen);
	jw_f(&t, "homeassistant/%s/%s/config", comp[which], uid);
	fl_topic(status, sizeof(status), FL_TOPIC_STATUS, site, device, NULL,
		 NULL);
	fl_topic(src, sizeof(src),
		 which == 0   ? FL_TOPIC_LANE_STATE
		 : which == 1 ? FL_TOPIC_LANE_SETTINGS
			      : FL_TOPIC_IMAGE,
		 site, device, camera, lane);
	snprintf(name, sizeof(name), "%s %s",
		 lane_name && lane_name[0] ? lane_name : lane,
		 which == 0   ? "blocked"
		 : which == 1 ? "dwell"
			      : "evidence");

	jw_init(&w, buf, len);
	JW_LIT(&w, "{\"name\": ");
	jw_str(&w, name);
	JW_LIT(&w, ", \"unique_id\": ");
	jw_str(&w, uid);
	JW_LIT(&w, ", \"availability_topic\": ");
	jw_str(&w, status);
	/* the status is signed: "fl-sig/1 KID SIG online EPOCH" */
	JW_LIT(&w, ", \"availability_template\": \"{{ value.split(' ')[3] "
		   "if value.startswith('fl-sig/') else value.split(' ')[0] "
		   "}}\", \"payload_available\": \"online\", "
		   "\"payload_not_available\": \"offline\"");
	switch (which) {
	case 0:
		JW_LIT(&w, ", \"state_topic\": ");
		jw_str(&w, src);
		JW_LIT(&w, ", \"device_class\": \"problem\", "
			   "\"payload_on\": \"blocked\", \"value_template\": "
			   "\"{{ 'blocked' if value == 'blocked' else 'clear' "
			   "}}\", \"payload_off\": \"clear\"");
		break;
	case 1:
		JW_LIT(&w, ", \"state_topic\": ");
		jw_str(&w, src);
		JW_LIT(&w,
		       ", \"unit_of_measurement\": \"s\", \"device_class\": "
		       "\"duration\", \"value_template\": "
		       "\"{{ value_json.dwell_s }}\"");
		break;
	default:
		JW_LIT(&w, ", \"image_topic\": ");
		jw_str(&w, src);
		JW_LIT(&w, ", \"content_type\": \"image/jpeg\"");
		break;
	}
	JW_LIT(&w, ", \"device\": {\"identifiers\": [");
	snprintf(uid, sizeof(uid), "firelane_%s", device);
	jw_str(&w, uid);
	JW_LIT(&w, "], \"name\": ");
	snprintf(name, sizeof(name), "firelane %s", device);
	jw_str(&w, name);
	JW_LIT(&w, ", \"manufacturer\": \"firelane\", \"suggested_area\": ");
	jw_str(&w, site);
	JW_LIT(&w, "}}");
	return w.pos;
}

/* ------------------------------------------------------------------ */
/* Commands: a strict flat-object JSON reader.                         */

enum jtype { J_STR, J_NUM, J_BOOL, J_NULL };

struct jval {
	enum jtype type;
	char s[128]; /* J_STR, UTF-8, NUL-terminated */
	double num;
	int b;
};

struct jr {
	const char *p, *end;
};

static void skip_ws(struct jr *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
				 *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Put one code point as UTF-8 (out NULL: only count it); 0 or -1 (does
 * not fit / not allowed). */
static int put_cp(char *out, size_t cap, size_t *n, unsigned cp)
{
	char b[4];
	size_t k;

	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return -1;
	if (cp < 0x80) {
		b[0] = (char)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		k = 4;
	}
	if (*n + k >= cap)
		return -1;
	if (out)
		memcpy(out + *n, b, k);
	*n += k;
	return 0;
}

/* Four hex digits of a \\u escape at r->p into *cp. 0 or -1 (*why). */
static int read_u4(struct jr *r, unsigned *cp, const char **why)
{
	*cp = 0;
	if (r->end - r->p < 4) {
		*why = "short \\u escape";
		return -1;
	}
	for (int i = 0; i < 4; i++) {
		int h = hexval(r->p[i]);
		if (h < 0) {
			*why = "bad \\u escape";
			return -1;
		}
		*cp = *cp * 16 + (unsigned)h;
	}
	r->p += 4;
	return 0;
}

/* A JSON string at r->p (on the quote) into out (NULL: only checked and
 * measured), its decoded length into *len. Raw bytes >= 0x80 must be
 * well-formed UTF-8. Returns 0 or -1 with *why set. */
static int read_string_n(struct jr *r, char *out, size_t cap, size_t *len,
			 const char **why)
{
	size_t n = 0;

	r->p++; /* the quote */
	while (r->p < r->end) {
		unsigned char c = (unsigned char)*r->p++;
		unsigned cp;

		if (c == '"') {
			if (out)
				out[n] = '\0';
			*len = n;
			return 0;
		}
		if (c < 0x20) {
			*why = "control character in a string";
			return -1;
		}
		if (c == '\\') {
			if (r->p >= r->end)
				break;
			c = (unsigned char)*r->p++;
			switch (c) {
			case '"':
				cp = '"';
				break;
			case '\\':
				cp = '\\';
				break;
			case '/':
				cp = '/';
				break;
			case 'b':
				cp = '\b';
				break;
			case 'f':
				cp = '\f';
				break;
			case 'n':
				cp = '\n';
				break;
			case 'r':
				cp = '\r';
				break;
			case 't':
				cp = '\t';
				break;
			case 'u':
				if (read_u4(r, &cp, why) < 0)
					return -1;
				/* a character beyond the BMP as a pair of
				 * surrogates (JSON writers that escape all
				 * but ASCII write an emoji so) */
				if (cp >= 0xd800 && cp <= 0xdbff &&
				    r->end - r->p >= 6 && r->p[0] == '\\' &&
				    r->p[1] == 'u') {
					struct jr lo = { r->p + 2, r->end };
					unsigned low;

					if (read_u4(&lo, &low, why) < 0)
						return -1;
					if (low >= 0xdc00 && low <= 0xdfff) {
						cp = 0x10000 +
						     ((cp - 0xd800) << 10) +
						     (low - 0xdc00);
						r->p = lo.p;
					}
				}
				break;
			default:
				*why = "bad escape in a string";
				return -1;
			}
			if (put_cp(out, cap, &n, cp) < 0) {
				*why = "string too long or not allowed "
				       "(NUL, surrogate)";
				return -1;
			}
			continue;
		}
		if (c >= 0x80) {
			int more = (c & 0xe0) == 0xc0   ? 1
				   : (c & 0xf0) == 0xe0 ? 2
				   : (c & 0xf8) == 0xf0 ? 3
							: -1;
			if (more < 0 || r->end - r->p < more) {
				*why = "not UTF-8";
				return -1;
			}
			cp = c & (0x3f >> more);
			for (int i = 0; i < more; i++) {
				unsigned char d = (unsigned char)r->p[i];
				if ((d & 0xc0) != 0x80) {
					*why = "not UTF-8";
					return -1;
				}
				cp = (cp << 6) | (d & 0x3f);
			}
			if ((more == 1 && cp < 0x80) ||
			    (more == 2 && cp < 0x800) ||
			    (more == 3 && cp < 0x10000)) {
				*why = "not UTF-8 (overlong)";
				return -1;
			}
			r->p += more;
			if (put_cp(out, cap, &n, cp) < 0) {
				*why = "string too long or not allowed";
				return -1;
			}
			continue;
		}
		if (n + 1 >= cap) {
			*why = "string too long";
			return -1;
		}
		if (out)
			out[n] = (char)c;
		n++;
	}
	*why = "unterminated string";
	return -1;
}

static int read_string(struct jr *r, char *out, size_t cap, const char **why)
{
	size_t n;

	return read_string_n(r, out, cap, &n, why);
}

/* A number in JSON's grammar. */
static int read_number(struct jr *r, double *v, const char **why)
{
	char tmp[64];
	const char *s = r->p;
	size_t n;

	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p >= r->end || !(*r->p >= '0' && *r->p <= '9'))
		goto bad;
	if (*r->p == '0') {
		r->p++;
	} else {
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (r->p >= r->end || !(*r->p >= '0' && *r->p <= '9'))
			goto bad;
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (r->p >= r->end || !(*r->p >= '0' && *r->p <= '9'))
			goto bad;
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	n = (size_t)(r->p - s);
	if (n >= sizeof(tmp)) {
		*why = "number too long";
		return -1;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	*v = strtod(tmp, NULL);
	if (!isfinite(*v)) {
		*why = "number out of range";
		return -1;
	}
	return 0;
bad:
	*why = "bad number";
	return -1;
}

static int read_word(struct jr *r, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return -1;
	r->p += n;
	return 0;
}

static int read_value(struct jr *r, struct jval *v, const char **why)
{
	if (r->p >= r->end) {
		*why = "value expected";
		return -1;
	}
	switch (*r->p) {
	case '"':
		v->type = J_STR;
		return read_string(r, v->s, sizeof(v->s), why);
	case 't':
	case 'f':
		v->type = J_BOOL;
		v->b = *r->p == 't';
		if (read_word(r, v->b ? "true" : "false") == 0)
			return 0;
		break;
	case 'n':
		v->type = J_NULL;
		if (read_word(r, "null") == 0)
			return 0;
		break;
	case '{':
	case '[':
		*why = "nested values are not accepted";
		return -1;
	default:
		v->type = J_NUM;
		return read_number(r, &v->num, why);
	}
	*why = "bad literal";
	return -1;
}

/* The keys a command may have beyond id, cmd, time and nonce (bits). */
enum {
	K_CAMERA = 1 << 0,
	K_LANE = 1 << 1,
	K_DWELL = 1 << 2,
	K_INLINE = 1 << 3,
	K_MASK = 1 << 4,
	K_VERSION = 1 << 5,
	K_YAML = 1 << 6
};

static const struct {
	const char *name;
	enum fl_cmd_kind kind;
	unsigned needs, may; /* keys required; keys allowed besides */
} commands[] = {
	{ "enable", FL_CMD_ENABLE, K_CAMERA | K_LANE, 0 },
	{ "disable", FL_CMD_DISABLE, K_CAMERA | K_LANE, 0 },
	{ "set_dwell", FL_CMD_DWELL, K_CAMERA | K_LANE | K_DWELL, 0 },
	{ "snapshot", FL_CMD_SNAPSHOT, K_CAMERA, K_INLINE | K_MASK },
	{ "warn", FL_CMD_WARN, K_CAMERA | K_LANE, 0 },
	{ "reload", FL_CMD_RELOAD, 0, 0 },
	{ "config", FL_CMD_CONFIG, K_VERSION | K_YAML, 0 },
	{ "config_get", FL_CMD_CONFIG_GET, 0, 0 },
};

/* The name of each K_ bit, for messages. */
static const char *const key_names[] = { "camera", "lane", "dwell_s",
					 "inline", "mask", "version",
					 "yaml" };

const char *fl_command_name(enum fl_cmd_kind kind)
{
	for (size_t i = 0; i < FL_ARRAY_SIZE(commands); i++)
		if (commands[i].kind == kind)
			return commands[i].name;
	return "unknown";
}

#define CMD_FAIL(...)                                                          \
	do {                                                                   \
		if (err && errlen)                                             \
			snprintf(err, errlen, __VA_ARGS__);                    \
		return FL_EFORMAT;                                             \
	} while (0)

/* Bounds of dwell_s: the same as the configuration's lane dwell_s. */
#define DWELL_MIN 1.0
#define DWELL_MAX 86400.0

/* Bounds of a config command's version. */
#define VERSION_MAX 2147483647.0

int fl_command_parse(const char *payload, size_t len, fl_command *out,
		     char *err, size_t errlen)
{
	struct jr r;
	struct jval v;
	char key[32], cmd[32] = "";
	const char *why = NULL;
	unsigned seen = 0, keys;
	int ci = -1;

	memset(out, 0, sizeof(*out));
	out->time = NAN;
	if (!payload || len == 0)
		CMD_FAIL("empty command");
	/* only now: NULL + 0 is undefined (an envelope without a body) */
	r = (struct jr){ payload, payload + len };
	if (len > FL_CMD_CONFIG_MAX)
		CMD_FAIL("command longer than %d bytes", FL_CMD_CONFIG_MAX);
	skip_ws(&r);
	if (r.p >= r.end || *r.p != '{')
		CMD_FAIL("a command is a JSON object");
	r.p++;
	skip_ws(&r);
	if (r.p < r.end && *r.p == '}') {
		r.p++;
		goto closed;
	}
	for (;;) {
		unsigned bit;

		skip_ws(&r);
		if (r.p >= r.end || *r.p != '"')
			CMD_FAIL("a key (string) expected at byte %zu",
				 (size_t)(r.p - payload));
		if (read_string(&r, key, sizeof(key), &why) < 0)
			CMD_FAIL("key: %s", why);
		skip_ws(&r);
		if (r.p >= r.end || *r.p != ':')
			CMD_FAIL("':' expected after \"%s\"", key);
		r.p++;
		skip_ws(&r);
		bit = 0;
		for (size_t k = 0; k < FL_ARRAY_SIZE(key_names); k++)
			if (!strcmp(key, key_names[k]))
				bit = 1u << k;
		if (!strcmp(key, "id"))
			bit = 1u << 16;
		else if (!strcmp(key, "cmd"))
			bit = 1u << 17;
		else if (!strcmp(key, "time"))
			bit = 1u << 18;
		else if (!strcmp(key, "nonce"))
			bit = 1u << 19;
		else if (!bit)
			CMD_FAIL("unknown key \"%s\"", key);
		if (seen & bit)
			CMD_FAIL("duplicate key \"%s\"", key);
		seen |= bit;
		if (bit == K_YAML) {
			/* measured and checked here, decoded by the caller
			 * into memory of its own (fl_command_text) */
			if (r.p >= r.end || *r.p != '"')
				CMD_FAIL("yaml: expected a string");
			out->text = r.p + 1;
			if (read_string_n(&r, NULL, FL_CMD_CONFIG_MAX + 1,
					  &out->text_size, &why) < 0)
				CMD_FAIL("\"yaml\": %s", why);
			out->text_len = (size_t)(r.p - 1 - out->text);
		} else if (read_value(&r, &v, &why) < 0) {
			CMD_FAIL("\"%s\": %s", key, why);
		} else if (bit == K_DWELL) {
			if (v.type != J_NUM)
				CMD_FAIL("dwell_s: expected a number");
			out->value = v.num;
		} else if (bit == K_VERSION) {
			if (v.type != J_NUM || v.num != floor(v.num) ||
			    !(v.num >= 1 && v.num <= VERSION_MAX))
				CMD_FAIL("version: expected a whole number in "
					 "[1, %.0f]",
					 VERSION_MAX);
			out->version = (long)v.num;
		} else if (bit == K_INLINE || bit == K_MASK) {
			if (v.type != J_BOOL)
				CMD_FAIL("%s: expected true or false", key);
			*(bit == K_INLINE ? &out->inline_pic
					  : &out->mask) = v.b;
		} else if (bit == 1u << 18) {
			if (v.type != J_NUM || v.num < 0)
				CMD_FAIL("time: expected unix seconds");
			out->time = v.num;
		} else if (v.type != J_STR) {
			CMD_FAIL("\"%s\": expected a string", key);
		} else if (bit == 1u << 16) {
			if (strlen(v.s) >= sizeof(out->req))
				CMD_FAIL("id: longer than %zu bytes",
					 sizeof(out->req) - 1);
			memcpy(out->req, v.s, strlen(v.s) + 1);
		} else if (bit == 1u << 17) {
			if (strlen(v.s) >= sizeof(cmd))
				CMD_FAIL("unknown command");
			memcpy(cmd, v.s, strlen(v.s) + 1);
		} else if (bit == 1u << 19) {
			if (!fl_nonce_ok(v.s))
				CMD_FAIL("nonce: expected %d to %d lowercase "
					 "hex digits",
					 FL_NONCE_MIN_LEN, FL_NONCE_MAX - 1);
			memcpy(out->nonce, v.s, strlen(v.s) + 1);
		} else {
			if (!fl_id_valid(v.s, FL_ID_MAX))
				CMD_FAIL("%s: not a valid id (1..%d of A-Z "
					 "a-z 0-9 _ . -)",
					 key, FL_ID_MAX - 1);
			memcpy(bit == K_CAMERA ? out->camera : out->lane, v.s,
			       strlen(v.s) + 1);
		}
		skip_ws(&r);
		if (r.p < r.end && *r.p == ',') {
			r.p++;
			continue;
		}
		if (r.p < r.end && *r.p == '}') {
			r.p++;
			break;
		}
		CMD_FAIL("',' or '}' expected at byte %zu",
			 (size_t)(r.p - payload));
	}
closed:
	skip_ws(&r);
	if (r.p != r.end)
		CMD_FAIL("trailing bytes after the object");
	if (!cmd[0])
		CMD_FAIL("\"cmd\" missing");
	for (size_t i = 0; i < FL_ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, cmd))
			ci = (int)i;
	if (ci < 0)
		CMD_FAIL("unknown command \"%s\"", cmd);
	out->kind = commands[ci].kind;
	if (out->kind != FL_CMD_CONFIG && len > FL_CMD_MAX)
		CMD_FAIL("command longer than %d bytes", FL_CMD_MAX);
	keys = seen & 0xffffu;
	for (size_t k = 0; k < FL_ARRAY_SIZE(key_names); k++) {
		unsigned bit = 1u << k;

		if ((commands[ci].needs & bit) && !(keys & bit))
			CMD_FAIL("%s: \"%s\" missing", cmd, key_names[k]);
		if (!((commands[ci].needs | commands[ci].may) & bit) &&
		    (keys & bit))
			CMD_FAIL("%s: takes no \"%s\"", cmd, key_names[k]);
	}
	if ((keys & K_DWELL) &&
	    !(out->value >= DWELL_MIN && out->value <= DWELL_MAX))
		CMD_FAIL("dwell_s: %g is outside [%g, %g]", out->value,
			 DWELL_MIN, DWELL_MAX);
	return 0;
}

size_t fl_command_text(const fl_command *cmd, char *out, size_t cap)
{
	struct jr r;
	size_t n;
	const char *why;

	if (!cmd->text || cap < cmd->text_size + 1)
		return (size_t)-1;
	/* the quotes are part of the grammar: read from the opening one */
	r = (struct jr){ cmd->text - 1, cmd->text + cmd->text_len + 1 };
	if (read_string_n(&r, out, cap, &n, &why) < 0)
		return (size_t)-1;
	return n;
}

size_t fl_command_answer(const char *req, const char *cmd, int ok,
			 const char *error, const char *detail, char *buf,
			 size_t len)
{
	struct jw w;

	jw_init(&w, buf, len);
	JW_LIT(&w, "{\"id\": ");
	jw_str(&w, req ? req : "");
	JW_LIT(&w, ", \"cmd\": ");
	if (cmd)
		jw_str(&w, cmd);
	else
		JW_LIT(&w, "null");
	jw_f(&w, ", \"ok\": %s", ok ? "true" : "false");
	if (!ok) {
		JW_LIT(&w, ", \"error\": ");
		jw_str(&w, error ? error : "failed");
	}
	if (detail && detail[0]) {
		JW_LIT(&w, ", \"result\": ");
		jw_raw(&w, detail, strlen(detail));
	}
	JW_LIT(&w, "}");
	return w.pos;
}
