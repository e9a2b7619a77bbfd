/*
 * test_topic.c - the MQTT contract in src/core/topic.c, and docs/mqtt.md
 * against it.
 *
 * Three parts:
 *   - topics: the root, the per-lane topics, a site with '/', '+' and '#';
 *   - payloads: every writer's output is valid JSON (jansson reads it back)
 *     with the fields the contract promises, also for hostile strings, and
 *     snprintf semantics hold;
 *   - commands: a table of payloads, accepted with their fields or refused
 *     with a reason; the same for the hub's delivery receipt (the edge's
 *     parser, src/core/receipt.c);
 *   - the document: docs/mqtt.md carries every message as an example block
 *     introduced by "<!-- example: NAME -->" (a fenced block whose first
 *     line is the topic and the rest the payload). The examples table below
 *     builds each NAME with the code; every one must be in the document,
 *     byte for byte, and every example in the document must be one of them
 *     (commands: "cmd-ok-*" must parse, "cmd-bad-*" must be refused). So
 *     the reference cannot drift from the code.
 *
 *   test_topic --print-examples   prints the examples as markdown (to paste
 *                                 into docs/mqtt.md when the code changes)
 */
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"
#include "receipt.h"
#include "test.h"
#include "topic.h"

#define SITE "demo-site"
#define DEV "edge-01"
/* the connection epoch of the examples (ms since 1970, the edge's start) */
#define EPOCH 1795955700000ULL

static json_t *parse(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &e);

	CHECK_MSG(j != NULL, "not JSON: %s: %s", e.text, s);
	return j;
}

static void test_topics(void)
{
	char t[FL_TOPIC_MAX];

	fl_topic(t, sizeof(t), FL_TOPIC_STATUS, SITE, DEV, NULL, NULL);
	CHECK_STREQ(t, "firelane/demo-site/edge-01/status");
	fl_topic(t, sizeof(t), FL_TOPIC_LANE_STATE, SITE, DEV, "cam-1",
		 "lane-a");
	CHECK_STREQ(t, "firelane/demo-site/edge-01/cam-1/lane-a/state");
	fl_topic(t, sizeof(t), FL_TOPIC_INCIDENT, SITE, DEV, "cam-1", "lane-a");
	CHECK_STREQ(t, "firelane/demo-site/edge-01/cam-1/lane-a/incident");
	fl_topic(t, sizeof(t), FL_TOPIC_CAMERA_EVENT, SITE, DEV, "cam-1", NULL);
	CHECK_STREQ(t, "firelane/demo-site/edge-01/cam-1/event");
	fl_topic(t, sizeof(t), FL_TOPIC_CMD_SET, SITE, DEV, NULL, NULL);
	CHECK_STREQ(t, "firelane/demo-site/edge-01/command/set");
	/* A site is one level whatever it holds; UTF-8 passes. */
	fl_topic(t, sizeof(t), FL_TOPIC_STATUS, "a/b+c#d", DEV, NULL, NULL);
	CHECK_STREQ(t, "firelane/a_b_c_d/edge-01/status");
	fl_topic(t, sizeof(t), FL_TOPIC_STATUS, "城东小区", DEV, NULL, NULL);
	CHECK_STREQ(t, "firelane/城东小区/edge-01/status");
	fl_topic(t, sizeof(t), FL_TOPIC_STATUS, "", DEV, NULL, NULL);
	CHECK_STREQ(t, "firelane/_/edge-01/status");
	/* snprintf semantics */
	CHECK(fl_topic(NULL, 0, FL_TOPIC_STATUS, SITE, DEV, NULL, NULL) ==
	      strlen("firelane/demo-site/edge-01/status"));
	fl_topic(t, 10, FL_TOPIC_STATUS, SITE, DEV, NULL, NULL);
	CHECK_STREQ(t, "firelane/");
}

static void test_payloads(void)
{
	double bbox[4] = { 228, 141, 40, 38 };
	fl_evidence_file files[1] = {
		{ "scene-1.jpg",
		  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		  123456 }
	};
	fl_incident_msg m = { 0 };
	fl_camera_health ch = { "cam\"1\n", 25,  0.5, 1,   0.25,
				900,        170, 13,  1.5, 1 };
	fl_health h = { 0 };
	char buf[8192], small[16];
	json_t *j;
	size_t n;

	m.incident_id = "edge-01-6b0c1c12-lane-a-1";
	m.type = "alarm";
	m.seq = 2;
	m.site = "城东\"小区\"";
	m.device = DEV;
	m.camera = "cam-1";
	m.lane = "lane-a";
	m.site_name = "城东小区\n3 号楼"; /* escaped, not cut */
	m.wall_time = 1795955748.418;
	m.video_time_s = 17.6;
	m.rest_since_s = 7.6;
	m.left_at_s = -1;
	m.bbox = bbox;
	m.cls = "vehicle";
	m.files = files;
	m.nfiles = 1;
	n = fl_incident_json(&m, buf, sizeof(buf));
	CHECK_LT_INT(n, sizeof(buf));
	j = parse(buf);
	if (j) {
		CHECK_STREQ(json_string_value(json_object_get(j, "incident_id")),
			    m.incident_id);
		CHECK(json_integer_value(json_object_get(j, "seq")) == 2);
		CHECK_STREQ(json_string_value(json_object_get(j, "type")),
			    "alarm");
		CHECK_STREQ(json_string_value(json_object_get(j, "site")),
			    m.site);
		CHECK_STREQ(json_string_value(json_object_get(j, "time")),
			    "2026-11-29T12:35:48.418Z");
		CHECK(json_object_get(j, "left_at_s") == NULL);
		CHECK_STREQ(json_string_value(json_object_get(j, "site_name")),
			    m.site_name);
		CHECK(json_object_get(j, "lane_name") == NULL); /* none */
		CHECK(json_array_size(json_object_get(j, "evidence")) == 1);
		json_decref(j);
	}
	/* snprintf semantics: a short buffer gets a cut prefix */
	CHECK_EQ_INT(fl_incident_json(&m, small, sizeof(small)), n);
	CHECK(!strncmp(small, buf, sizeof(small) - 1) &&
	      strlen(small) == sizeof(small) - 1);
	/* non-finite numbers are null, not "nan" */
	m.video_time_s = 1.0 / 0.0;
	fl_incident_json(&m, buf, sizeof(buf));
	j = parse(buf);
	CHECK(j && json_is_null(json_object_get(j, "video_time_s")));
	/* no plate read tried: neither plate field (docs/mqtt.md, "Plate") */
	CHECK(j && !json_object_get(j, "plate") &&
	      !json_object_get(j, "plate_confidence"));
	json_decref(j);
	{
		fl_plate_text pt = { .text = "粤B12345",
				     .nchars = 7,
				     .conf = 0.99812 };

		m.plate = &pt; /* read */
		fl_incident_json(&m, buf, sizeof(buf));
		j = parse(buf);
		CHECK(j &&
		      !strcmp(json_string_value(json_object_get(j, "plate")),
			      "粤B12345"));
		CHECK(j && fabs(json_number_value(
					json_object_get(j, "plate_confidence")) -
				0.9981) < 1e-9);
		json_decref(j);
		pt.text[0] = '\0'; /* unread: null, the confidence kept */
		pt.nchars = 0;
		pt.conf = 0.31;
		fl_incident_json(&m, buf, sizeof(buf));
		j = parse(buf);
		CHECK(j && json_is_null(json_object_get(j, "plate")));
		CHECK(j && fabs(json_number_value(
					json_object_get(j, "plate_confidence")) -
				0.31) < 1e-9);
		json_decref(j);
		m.plate = NULL;
	}

	h.wall_time = 1795955748;
	h.uptime_s = 30;
	h.cameras = &ch;
	h.ncameras = 1;
	h.disk_free_mb = -1;
	h.clock_synced = -1;
	fl_heartbeat_json(&h, buf, sizeof(buf));
	j = parse(buf);
	if (j) { /* nothing undelivered: the count only, no "ask" */
		json_t *u = json_object_get(j, "undelivered");
		CHECK_EQ_INT(json_integer_value(json_object_get(u, "bundles")),
			     0);
		CHECK(u && !json_object_get(u, "ask"));
		json_decref(j);
	}
	{
		static const char asked[2][FL_INCIDENT_ID_MAX] = {
			"edge-01-6b0c1c12-lane-a-1", "edge-01-6b0c1c12-lane-a-2"
		};
		h.undelivered = 5;
		h.ask = asked;
		h.nask = 2;
	}
	fl_heartbeat_json(&h, buf, sizeof(buf));
	j = parse(buf);
	if (j) {
		json_t *u = json_object_get(j, "undelivered");
		json_t *a = json_object_get(u, "ask");
		CHECK_EQ_INT(json_integer_value(json_object_get(u, "bundles")),
			     5);
		CHECK_EQ_INT((int)json_array_size(a), 2);
		CHECK_STREQ(json_string_value(json_array_get(a, 1)),
			    "edge-01-6b0c1c12-lane-a-2");
		json_decref(j);
	}
	j = parse(buf);
	if (j) {
		json_t *c = json_array_get(json_object_get(j, "cameras"), 0);
		CHECK(c && !strcmp(json_string_value(json_object_get(c, "id")),
				   "cam\"1\n"));
		/* the per-camera figures, the old keys beside the new */
		CHECK(c && json_number_value(json_object_get(c, "fps")) == 25);
		CHECK(c && json_is_true(json_object_get(c, "online")));
		CHECK(c && json_number_value(json_object_get(c, "cpu")) == 0.25);
		CHECK_EQ_INT(json_integer_value(json_object_get(c, "decoded")),
			     900);
		CHECK_EQ_INT(json_integer_value(json_object_get(c, "analysed")),
			     170);
		CHECK_EQ_INT(json_integer_value(json_object_get(c, "skipped")),
			     13);
		CHECK(c &&
		      json_number_value(json_object_get(c, "lag_s")) == 1.5);
		CHECK(c && json_is_true(json_object_get(c, "overloaded")));
		CHECK(json_is_null(json_object_get(j, "disk_free_mb")));
		CHECK_STREQ(json_string_value(json_object_get(j, "clock")),
			    "unknown");
		json_decref(j);
	}
	{
		/* the largest heartbeat fits FL_HEARTBEAT_MAX: every camera
		 * with a 63-character id and the largest figures */
		static fl_camera_health big[FL_MAX_CAMERAS];
		static char hb[FL_HEARTBEAT_MAX];
		static const char id[] =
			"c23456789012345678901234567890123456789"
			"012345678901234567890123";
		fl_health hh = h;

		CHECK_EQ_INT(strlen(id), FL_ID_MAX - 1);
		for (int i = 0; i < FL_MAX_CAMERAS; i++)
			big[i] = (fl_camera_health){
				id,       1e3 - 0.1, 99.999,   1,   99.999,
				LONG_MAX, LONG_MAX,  LONG_MAX, 1e6, 1
			};
		hh.cameras = big;
		hh.ncameras = FL_MAX_CAMERAS;
		hh.spool_messages = LONG_MAX;
		hh.spool_bytes = 1e15;
		hh.spool_dropped = hh.spool_refused = LONG_MAX;
		hh.disk_free_mb = 1e12;
		hh.config_version = LONG_MAX;
		hh.epoch = ~0ULL;
		{ /* and the receipts of as many bundles of the longest ids */
			static char asked[FL_HEARTBEAT_ASK_MAX]
					 [FL_INCIDENT_ID_MAX];
			for (int i = 0; i < FL_HEARTBEAT_ASK_MAX; i++)
				memset(asked[i], 'i', FL_INCIDENT_ID_MAX - 1);
			hh.undelivered = LONG_MAX;
			hh.ask = (const char(*)[FL_INCIDENT_ID_MAX])asked;
			hh.nask = FL_HEARTBEAT_ASK_MAX;
		}
		CHECK_LT_INT(fl_heartbeat_json(&hh, hb, sizeof(hb)),
			     sizeof(hb));
	}
	for (int w = 0; w < FL_DISCOVERY_ENTITIES; w++) {
		char topic[FL_TOPIC_MAX];
		fl_discovery(w, SITE, DEV, "cam-1", "lane-a", "消防\"通道",
			     topic, sizeof(topic), buf, sizeof(buf));
		CHECK(!strncmp(topic, "homeassistant/", 14));
		j = parse(buf);
		CHECK(j && json_object_get(j, "unique_id"));
		json_decref(j);
	}
	fl_command_answer("r\"1", NULL, 0, "bad \"x\"\n", NULL, buf,
			  sizeof(buf));
	j = parse(buf);
	CHECK(j && json_is_false(json_object_get(j, "ok")) &&
	      json_is_null(json_object_get(j, "cmd")));
	json_decref(j);
}

static const struct {
	const char *payload;
	const char *error; /* substring, or NULL: accepted */
	enum fl_cmd_kind kind;
} cmd_cases[] = {
	{ "{\"cmd\": \"enable\", \"camera\": \"cam-1\", \"lane\": \"lane-a\"}",
	  NULL, FL_CMD_ENABLE },
	{ " {\"id\":\"7\",\"cmd\":\"disable\",\"camera\":\"c\",\"lane\":\"l\"} ",
	  NULL, FL_CMD_DISABLE },
	{ "{\"cmd\": \"set_dwell\", \"camera\": \"c\", \"lane\": \"l\", "
	  "\"dwell_s\": 30.5}",
	  NULL, FL_CMD_DWELL },
	{ "{\"cmd\": \"snapshot\", \"camera\": \"c\"}", NULL, FL_CMD_SNAPSHOT },
	{ "{\"cmd\": \"warn\", \"camera\": \"c\", \"lane\": \"l\"}", NULL,
	  FL_CMD_WARN },
	{ "{\"cmd\": \"reload\"}", NULL, FL_CMD_RELOAD },
	{ "{\"cmd\": \"rel\\u006fad\"}", NULL, FL_CMD_RELOAD },
	{ "", "empty", 0 },
	{ "[]", "JSON object", 0 },
	{ "{}", "\"cmd\" missing", 0 },
	{ "{\"cmd\": \"reboot\"}", "unknown command", 0 },
	{ "{\"cmd\": \"reload\", \"cmd\": \"reload\"}", "duplicate", 0 },
	{ "{\"cmd\": \"reload\", \"x\": 1}", "unknown key", 0 },
	{ "{\"cmd\": \"reload\"} x", "trailing", 0 },
	{ "{\"cmd\": \"reload\",}", "key (string) expected", 0 },
	{ "{\"cmd\": \"reload\"", "',' or '}'", 0 },
	{ "{\"cmd\": \"reload", "unterminated", 0 },
	{ "{\"cmd\": {\"a\": 1}}", "nested", 0 },
	{ "{\"cmd\": 5}", "expected a string", 0 },
	{ "{\"cmd\": \"reload\", \"camera\": \"c\"}", "takes no \"camera\"", 0 },
	{ "{\"cmd\": \"enable\", \"camera\": \"c\"}", "\"lane\" missing", 0 },
	{ "{\"cmd\": \"enable\", \"lane\": \"l\"}", "\"camera\" missing", 0 },
	{ "{\"cmd\": \"enable\", \"camera\": \"c/d\", \"lane\": \"l\"}",
	  "not a valid id", 0 },
	{ "{\"cmd\": \"enable\", \"camera\": \"\", \"lane\": \"l\"}",
	  "not a valid id", 0 },
	{ "{\"cmd\": \"set_dwell\", \"camera\": \"c\", \"lane\": \"l\"}",
	  "\"dwell_s\" missing", 0 },
	{ "{\"cmd\": \"set_dwell\", \"camera\": \"c\", \"lane\": \"l\", "
	  "\"dwell_s\": 0}",
	  "outside", 0 },
	{ "{\"cmd\": \"set_dwell\", \"camera\": \"c\", \"lane\": \"l\", "
	  "\"dwell_s\": 1e999}",
	  "out of range", 0 },
	{ "{\"cmd\": \"set_dwell\", \"camera\": \"c\", \"lane\": \"l\", "
	  "\"dwell_s\": \"30\"}",
	  "expected a number", 0 },
	{ "{\"cmd\": \"set_dwell\", \"camera\": \"c\", \"lane\": \"l\", "
	  "\"dwell_s\": 01}",
	  "',' or '}'", 0 },
	{ "{\"cmd\": \"enable\", \"camera\": \"c\", \"lane\": \"l\", "
	  "\"dwell_s\": 5}",
	  "takes no \"dwell_s\"", 0 },
	{ "{\"cmd\": \"reload\", \"id\": \"\\u0000\"}", "not allowed", 0 },
	{ "{\"cmd\": \"reload\", \"id\": \"\xc3\x28\"}", "UTF-8", 0 },
	{ "{\"cmd\": \"reload\", \"id\": \"\x01\"}", "control", 0 },
	{ "{\"cmd\": \"reload\", \"id\": tru}", "bad literal", 0 },
	{ "{\"cmd\": \"snapshot\", \"camera\": \"c\", \"inline\": true, "
	  "\"mask\": false}",
	  NULL, FL_CMD_SNAPSHOT },
	{ "{\"cmd\": \"snapshot\", \"camera\": \"c\", \"inline\": 1}",
	  "inline: expected true or false", 0 },
	{ "{\"cmd\": \"enable\", \"camera\": \"c\", \"lane\": \"l\", "
	  "\"inline\": true}",
	  "takes no \"inline\"", 0 },
	{ "{\"cmd\": \"config\", \"version\": 2, \"yaml\": \"a: 1\\n\"}", NULL,
	  FL_CMD_CONFIG },
	{ "{\"cmd\": \"config\", \"yaml\": \"a: 1\"}", "\"version\" missing",
	  0 },
	{ "{\"cmd\": \"config\", \"version\": 2}", "\"yaml\" missing", 0 },
	{ "{\"cmd\": \"config\", \"version\": 0, \"yaml\": \"\"}",
	  "version: expected a whole number", 0 },
	{ "{\"cmd\": \"config\", \"version\": 1.5, \"yaml\": \"\"}",
	  "version: expected a whole number", 0 },
	{ "{\"cmd\": \"config\", \"version\": 1, \"yaml\": 5}",
	  "yaml: expected a string", 0 },
	{ "{\"cmd\": \"config\", \"version\": 1, \"yaml\": \"a\\u0000\"}",
	  "not allowed", 0 },
	{ "{\"cmd\": \"reload\", \"version\": 1}", "takes no \"version\"", 0 },
	{ "{\"cmd\": \"config_get\"}", NULL, FL_CMD_CONFIG_GET },
	{ "{\"cmd\": \"reload\", \"id\": \"\\ud83d\\ude92\"}", NULL,
	  FL_CMD_RELOAD },
	{ "{\"cmd\": \"reload\", \"id\": \"\\ud83d\"}", "not allowed", 0 },
	{ "{\"cmd\": \"reload\", \"id\": \"\\ud83d\\u0041\"}", "not allowed",
	  0 },
	{ "{\"cmd\": \"reload\", \"id\": \"\\ude92\"}", "not allowed", 0 },
	{ "{\"cmd\": \"config_get\", \"camera\": \"c\"}", "takes no", 0 },
};

/* A config command: its text decoded, the size limits per command. */
static void test_command_config(void)
{
	static char big[FL_CMD_CONFIG_MAX + 64];
	const char *p = "{\"cmd\": \"config\", \"version\": 7, \"yaml\": "
			"\"site: \\\"\u4e1c\\\"\\n\\u00e9\\t\"}";
	char text[64], err[256];
	fl_command c;
	size_t n;

	CHECK_EQ_INT(fl_command_parse(p, strlen(p), &c, err, sizeof(err)), 0);
	CHECK_EQ_INT((int)c.version, 7);
	n = fl_command_text(&c, text, sizeof(text));
	CHECK_EQ_INT((int)n, (int)c.text_size);
	CHECK_STREQ(text, "site: \"\u4e1c\"\n\u00e9\t");
	CHECK_EQ_INT((int)fl_command_text(&c, text, c.text_size),
		     (int)(size_t)-1);
	/* beyond the BMP as a surrogate pair: one 4-byte character */
	p = "{\"cmd\": \"config\", \"version\": 1, \"yaml\": \"\\ud83d\\ude92x\"}";
	CHECK_EQ_INT(fl_command_parse(p, strlen(p), &c, err, sizeof(err)), 0);
	CHECK_EQ_INT((int)fl_command_text(&c, text, sizeof(text)), 5);
	CHECK_STREQ(text, "\xf0\x9f\x9a\x92x");
	/* 200 kB of YAML: a config may be that long, a reload may not */
	n = (size_t)snprintf(big, sizeof(big),
			     "{\"cmd\": \"config\", \"version\": 1, "
			     "\"yaml\": \"");
	memset(big + n, 'x', 200 * 1024);
	n += 200 * 1024;
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\"}");
	CHECK_EQ_INT(fl_command_parse(big, n, &c, err, sizeof(err)), 0);
	CHECK_EQ_INT((int)c.text_size, 200 * 1024);
	n = (size_t)snprintf(big, sizeof(big), "{\"cmd\": \"reload\"}");
	memset(big + n, ' ', FL_CMD_MAX);
	CHECK_EQ_INT(fl_command_parse(big, n + FL_CMD_MAX, &c, err, sizeof(err)),
		     FL_EFORMAT);
	CHECK_MSG(strstr(err, "longer than 4096") != NULL, "%s", err);
	memset(big, ' ', sizeof(big));
	CHECK_EQ_INT(fl_command_parse(big, FL_CMD_CONFIG_MAX + 1, &c, err,
				      sizeof(err)),
		     FL_EFORMAT);
	CHECK_MSG(strstr(err, "longer than 262144") != NULL, "%s", err);
}

static void test_commands(void)
{
	for (size_t i = 0; i < FL_ARRAY_SIZE(cmd_cases); i++) {
		fl_command c;
		char err[256] = "";
		int rc = fl_command_parse(cmd_cases[i].payload,
					  strlen(cmd_cases[i].payload), &c, err,
					  sizeof(err));
		if (!cmd_cases[i].error) {
			CHECK_MSG(rc == 0, "case %zu: %s", i, err);
			CHECK_MSG(rc || c.kind == cmd_cases[i].kind, "case %zu",
				  i);
		} else {
			CHECK_MSG(rc == FL_EFORMAT &&
					  strstr(err, cmd_cases[i].error),
				  "case %zu: '%s' lacks '%s'", i, err,
				  cmd_cases[i].error);
		}
	}
	/* the id is kept for the answer even when the rest is wrong */
	{
		fl_command c;
		char err[128];
		const char *p = "{\"id\": \"q-9\", \"cmd\": \"nope\"}";
		CHECK_LT_INT(fl_command_parse(p, strlen(p), &c, err,
					      sizeof(err)),
			     0);
		CHECK_STREQ(c.req, "q-9");
		/* not NUL-terminated input */
		p = "{\"cmd\": \"reload\"}garbage";
		CHECK_EQ_INT(fl_command_parse(p, 17, &c, err, sizeof(err)), 0);
	}
}

/* ---- the document's examples ------------------------------------------ */

struct example {
	char name[64];
	char topic[FL_TOPIC_MAX];
	char payload[4096];
};

#define SHA_M "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"

/* Receipts: accepted (with their fields) or refused (with a reason). */
static const struct {
	const char *payload;
	int ok, verified;
	const char *why; /* part of the reason when refused */
} receipts[] = {
	{ "{\"incident_id\": \"edge-01-6b0c1c12-lane-a-1\", \"verified\": true, "
	  "\"manifest_sha256\": \"" SHA_M "\"}",
	  1, 1, NULL },
	{ " {\"manifest_sha256\":\"" SHA_M "\",\"verified\":false,"
	  "\"incident_id\":\"e-1\"}\n",
	  1, 0, NULL },
	{ "", 0, 0, "'{' expected" },
	{ "[]", 0, 0, "'{' expected" },
	{ "{\"incident_id\": \"e-1\", \"verified\": true}", 0, 0,
	  "missing manifest_sha256" },
	{ "{\"incident_id\": \"e-1\", \"verified\": true, \"manifest_sha256\": \"" SHA_M
	  "\", \"verified\": true}",
	  0, 0, "duplicate key" },
	{ "{\"incident_id\": \"e-1\", \"verified\": true, \"manifest_sha256\": \"" SHA_M
	  "\", \"extra\": 1}",
	  0, 0, "unknown key" },
	{ "{\"incident_id\": \"../x\", \"verified\": true, \"manifest_sha256\": \"" SHA_M
	  "\"}",
	  0, 0, "not an id" },
	{ "{\"incident_id\": \"x'); DROP TABLE t;--\", \"verified\": true, "
	  "\"manifest_sha256\": \"" SHA_M "\"}",
	  0, 0, "not an id" },
	{ "{\"incident_id\": \"e\\u002d1\", \"verified\": true, "
	  "\"manifest_sha256\": \"" SHA_M "\"}",
	  0, 0, "escapes" },
	{ "{\"incident_id\": \"e-1\", \"verified\": 1, \"manifest_sha256\": \"" SHA_M
	  "\"}",
	  0, 0, "true or false" },
	{ "{\"incident_id\": \"e-1\", \"verified\": true, \"manifest_sha256\": "
	  "\"CA978112CA1BBDCAFAC231B39A23DC4DA786EFF8147C4E72B9807785AFEE48BB\"}",
	  0, 0, "64 lowercase hex" },
	{ "{\"incident_id\": \"e-1\", \"verified\": true, \"manifest_sha256\": "
	  "\"abc\"}",
	  0, 0, "64 lowercase hex" },
	{ "{\"incident_id\": \"e-1\", \"verified\": true, \"manifest_sha256\": \"" SHA_M
	  "\"} x",
	  0, 0, "trailing bytes" },
	{ "{\"incident_id\": \"e-1\", \"verified\": tru", 0, 0,
	  "true or false" },
	{ "{\"incident_id\": \"e-1", 0, 0, "unterminated string" },
};

static void test_receipts(void)
{
	char err[256], buf[512];
	fl_receipt r, back;

	for (size_t i = 0; i < sizeof(receipts) / sizeof(receipts[0]); i++) {
		int rc = fl_receipt_parse(receipts[i].payload,
					  strlen(receipts[i].payload), &r, err,
					  sizeof(err));

		err[sizeof(err) - 1] = 0;
		if (receipts[i].ok) {
			CHECK_MSG(rc == 0, "receipt %zu refused: %s", i, err);
			CHECK_EQ_INT(r.verified, receipts[i].verified);
			CHECK_STREQ(r.manifest_sha256, SHA_M);
		} else {
			CHECK_MSG(rc == FL_EINVAL, "receipt %zu accepted", i);
			CHECK_MSG(strstr(err, receipts[i].why) != NULL,
				  "receipt %zu: '%s' lacks '%s'", i, err,
				  receipts[i].why);
		}
	}
	/* a NUL inside and bytes past len are never read as the payload */
	CHECK(fl_receipt_parse("{\"incident_id\": \"e\0-1\"}", 23, &r, err,
			       sizeof(err)) == FL_EINVAL);
	CHECK_EQ_INT(fl_receipt_parse(receipts[0].payload, 10, &r, err,
				      sizeof(err)),
		     FL_EINVAL);
	/* what the hub writes, the edge reads back */
	memset(&r, 0, sizeof(r));
	snprintf(r.incident_id, sizeof(r.incident_id), "edge-01-1-lane-a-1");
	snprintf(r.manifest_sha256, sizeof(r.manifest_sha256), "%s", SHA_M);
	r.verified = 1;
	CHECK_LT_INT(fl_receipt_json(&r, buf, sizeof(buf)), sizeof(buf));
	CHECK_EQ_INT(fl_receipt_parse(buf, strlen(buf), &back, err, sizeof(err)),
		     0);
	CHECK(!memcmp(&r, &back, sizeof(r)));
	fl_receipt_topic(buf, sizeof(buf), "a/b+c", DEV);
	CHECK_STREQ(buf, "firelane/a_b_c/edge-01/receipt");
}

static struct example ex[96];
static int nex;

static struct example *add(const char *name)
{
	struct example *e = &ex[nex++];

	snprintf(e->name, sizeof(e->name), "%s", name);
	return e;
}

static void lane_topic(struct example *e, enum fl_topic_kind k)
{
	fl_topic(e->topic, sizeof(e->topic), k, SITE, DEV, "cam-1", "lane-a");
}

static void incident(const char *name, const char *type, unsigned seq, double t,
		     double left, int files, const char *reason)
{
	static const double bbox[4] = { 228, 141, 40, 38 };
	static const fl_evidence_file f[] = {
		{ "scene-1.jpg",
		  "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b",
		  212480 },
		{ "closeup.jpg",
		  "b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c",
		  61234 },
		{ "clip.mp4",
		  "7d865e959b2466918c9863afca942d0fb89d7c9ac0c99bafc3749504ded97730",
		  1843012 },
		{ "manifest.json",
		  "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
		  4120 },
		{ "manifest.sig",
		  "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d",
		  89 },
	};
	struct example *e = add(name);
	fl_incident_msg m = { 0 };

	lane_topic(e, FL_TOPIC_INCIDENT);
	m.incident_id = "edge-01-6b0c1c12-lane-a-1";
	m.type = type;
	m.seq = seq;
	m.site = SITE;
	m.device = DEV;
	m.camera = "cam-1";
	m.lane = "lane-a";
	m.site_name = "示范小区 3 号楼";
	m.lane_name = "消防通道 A";
	m.wall_time = 1795955730.0 + t;
	m.video_time_s = files || reason ? -1 : t;
	m.rest_since_s = files || reason ? -1 : 7.6;
	m.left_at_s = left;
	m.bbox = files || reason ? NULL : bbox;
	m.cls = files || reason ? NULL : "vehicle";
	m.files = files ? f : NULL;
	m.nfiles = files ? FL_ARRAY_SIZE(f) : 0;
	m.reason = reason;
	fl_incident_json(&m, e->payload, sizeof(e->payload));
}

static void answer(const char *name, const char *req, const char *cmd, int ok,
		   const char *error, const char *detail)
{
	struct example *e = add(name);

	fl_topic(e->topic, sizeof(e->topic), FL_TOPIC_CMD_STATE, SITE, DEV,
		 NULL, NULL);
	fl_command_answer(req, cmd, ok, error, detail, e->payload,
			  sizeof(e->payload));
}

static void command(const char *name, const char *payload)
{
	struct example *e = add(name);

	fl_topic(e->topic, sizeof(e->topic), FL_TOPIC_CMD_SET, SITE, DEV, NULL,
		 NULL);
	snprintf(e->payload, sizeof(e->payload), "%s", payload);
}

static void build_examples(void)
{
	static const char *const st[] = { "online", "offline", "stopped" };
	static const char *const ls[] = { "clear", "occupied", "blocked" };
	fl_camera_health ch[2] = { { "cam-1", 25.0, 0.012, 1, 0.094, 90000,
				     18000, 0, 0.04, 0 },
				   { "cam-2", 0, 0, 0, 0, 0, 0, 0, 0, 0 } };
	fl_health h = { 0 };
	struct example *e;
	char name[64], err[256];
	fl_command c;

	nex = 0;
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "status-%s", st[i]);
		e = add(name);
		fl_topic(e->topic, sizeof(e->topic), FL_TOPIC_STATUS, SITE, DEV,
			 NULL, NULL);
		fl_status_payload(st[i], EPOCH, e->payload, sizeof(e->payload));
	}
	e = add("heartbeat");
	fl_topic(e->topic, sizeof(e->topic), FL_TOPIC_HEARTBEAT, SITE, DEV,
		 NULL, NULL);
	h.wall_time = 1795955760.25;
	h.uptime_s = 3600;
	h.cameras = ch;
	h.ncameras = 2;
	h.spool_messages = 3;
	h.spool_bytes = 2841;
	h.disk_free_mb = 5120;
	h.clock_synced = 1;
	h.config_version = 3;
	h.epoch = EPOCH;
	h.undelivered = 1;
	fl_heartbeat_json(&h, e->payload, sizeof(e->payload));
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "state-%s", ls[i]);
		e = add(name);
		lane_topic(e, FL_TOPIC_LANE_STATE);
		snprintf(e->payload, sizeof(e->payload), "%s", ls[i]);
	}
	e = add("settings");
	lane_topic(e, FL_TOPIC_LANE_SETTINGS);
	fl_lane_settings_json(1, 60, e->payload, sizeof(e->payload));
	incident("incident-occupied", "occupied", 1, 10.2, -1, 0, NULL);
	incident("incident-warned", "warned", 2, 37.6, -1, 0, NULL);
	incident("incident-alarm", "alarm", 3, 67.6, -1, 0, NULL);
	incident("incident-evidence", "evidence", 4, 90.0, -1, 1, NULL);
	incident("incident-cleared", "cleared", 5, 96.6, 93.6, 0, NULL);
	incident("incident-interrupted", "interrupted", 4, 120, -1, 0,
		 "the edge restarted; an obstruction still there is reported "
		 "as a new incident");
	e = add("camera-event");
	fl_topic(e->topic, sizeof(e->topic), FL_TOPIC_CAMERA_EVENT, SITE, DEV,
		 "cam-1", NULL);
	{
		fl_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.type = FL_EV_CAMERA_OFFLINE;
		ev.camera = "cam-1";
		ev.lane = "";
		ev.t = 512.4;
		ev.reason = "stream lost: connection refused";
		fl_event_json(&ev, e->payload, sizeof(e->payload));
	}
	e = add("evidence-chunk");
	lane_topic(e, FL_TOPIC_EVIDENCE);
	fl_evidence_chunk_header(
		"edge-01-6b0c1c12-lane-a-1", "clip.mp4", 2, 29, 131072, 1843012,
		"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
		"7d865e959b2466918c9863afca942d0fb89d7c9ac0c99bafc3749504ded97730",
		e->payload, sizeof(e->payload));
	strcat(e->payload, "<65536 bytes of clip.mp4 from offset 131072>");
	for (int v = 1; v >= 0; v--) {
		fl_receipt r;

		memset(&r, 0, sizeof(r));
		e = add(v ? "receipt-verified" : "receipt-failed");
		snprintf(r.incident_id, sizeof(r.incident_id),
			 "edge-01-6b0c1c12-lane-a-1");
		r.verified = v;
		snprintf(r.manifest_sha256, sizeof(r.manifest_sha256), "%s",
			 SHA_M);
		fl_receipt_topic(e->topic, sizeof(e->topic), SITE, DEV);
		fl_receipt_json(&r, e->payload, sizeof(e->payload));
	}
	for (int w = 0; w < FL_DISCOVERY_ENTITIES; w++) {
		static const char *const dn[] = { "discovery-blocked",
						  "discovery-dwell",
						  "discovery-image" };
		e = add(dn[w]);
		fl_discovery(w, SITE, DEV, "cam-1", "lane-a", "Lane A",
			     e->topic, sizeof(e->topic), e->payload,
			     sizeof(e->payload));
	}
	command("cmd-ok-disable",
		"{\"id\": \"op-17\", \"cmd\": \"disable\", \"camera\": \"cam-1\", "
		"\"lane\": \"lane-a\"}");
	command("cmd-ok-enable",
		"{\"id\": \"op-18\", \"cmd\": \"enable\", \"camera\": \"cam-1\", "
		"\"lane\": \"lane-a\"}");
	command("cmd-ok-set_dwell",
		"{\"id\": \"op-19\", \"cmd\": \"set_dwell\", \"camera\": "
		"\"cam-1\", \"lane\": \"lane-a\", \"dwell_s\": 120}");
	command("cmd-ok-snapshot",
		"{\"id\": \"op-20\", \"cmd\": \"snapshot\", \"camera\": "
		"\"cam-1\"}");
	command("cmd-ok-warn",
		"{\"id\": \"op-21\", \"cmd\": \"warn\", \"camera\": \"cam-1\", "
		"\"lane\": \"lane-a\"}");
	command("cmd-ok-reload", "{\"id\": \"op-22\", \"cmd\": \"reload\"}");
	command("cmd-ok-snapshot-inline",
		"{\"id\": \"op-25\", \"cmd\": \"snapshot\", \"camera\": "
		"\"cam-1\", \"inline\": true, \"mask\": true}");
	command("cmd-ok-config",
		"{\"id\": \"op-26\", \"cmd\": \"config\", \"version\": 4, "
		"\"yaml\": \"device:\\n  id: edge-01\\n  site: demo-site\\n"
		"cameras:\\n  - id: cam-1\\n    source: rtsp://10.0.0.21/main"
		"\\n    lanes:\\n      - id: lane-a\\n        name: \\\"\u4e1c\u95e8"
		"\u6d88\u9632\u901a\u9053\\\"\\n        points: [[40, 700], "
		"[620, 380], [900, 400], [700, 1000]]\\n        dwell_s: 90\\n\"}");
	command("cmd-ok-config_get", "{\"id\": \"op-27\", \"cmd\": "
				     "\"config_get\"}");
	command("cmd-bad-dwell",
		"{\"id\": \"op-23\", \"cmd\": \"set_dwell\", \"camera\": "
		"\"cam-1\", \"lane\": \"lane-a\", \"dwell_s\": 0}");
	command("cmd-bad-json", "{\"cmd\": \"reload\"");
	answer("answer-set_dwell", "op-19", "set_dwell", 1, NULL,
	       "{\"camera\": \"cam-1\", \"lane\": \"lane-a\", \"enabled\": true, "
	       "\"dwell_s\": 120}");
	answer("answer-snapshot", "op-20", "snapshot", 1, NULL,
	       "{\"path\": \"/var/lib/firelane/spool/snapshot-cam-1.jpg\"}");
	answer("answer-reload", "op-22", "reload", 1, NULL, NULL);
	answer("answer-snapshot-inline", "op-25", "snapshot", 1, NULL,
	       "{\"camera\": \"cam-1\", \"width\": 1920, \"height\": 1080, "
	       "\"time\": 1795955761.240, \"scale\": 1, \"jpeg\": "
	       "\"/9j/4AAQSkZJRgABAQAAAQABAAD...\", \"mask\": "
	       "\"iVBORw0KGgoAAAANSUhEUgAAB4A...\"}");
	answer("answer-config", "op-26", "config", 1, NULL,
	       "{\"version\": 4, \"applied\": \"in place\"}");
	answer("answer-config-restart", "op-26", "config", 1, NULL,
	       "{\"version\": 4, \"applied\": \"restart\"}");
	answer("answer-config-refused", "op-26", "config", 0,
	       "cameras[cam-1].lanes[lane-a].dwell_s: 0 is out of range "
	       "1..86400",
	       "{\"key\": \"cameras[cam-1].lanes[lane-a].dwell_s\", "
	       "\"line\": 11, \"reason\": \"0 is out of range 1..86400\"}");
	answer("answer-config-rollback", "op-26", "config", 0,
	       "camera cam-1: rtsp://10.0.0.21/main: cannot open: Connection "
	       "refused within 20 s; rolled back to version 3",
	       NULL);
	answer("answer-config_get", "op-27", "config_get", 1, NULL,
	       "{\"version\": 3, \"yaml\": \"device:\\n  id: edge-01\\n  "
	       "site: demo-site\\n...\"}");
	/* the refusals carry the parser's own words */
	for (int i = 0; i < nex; i++)
		if (!strcmp(ex[i].name, "cmd-bad-dwell"))
			fl_command_parse(ex[i].payload, strlen(ex[i].payload),
					 &c, err, sizeof(err));
	answer("answer-bad-dwell", "op-23", NULL, 0, err, NULL);
	fl_command_parse("{\"cmd\": \"reload\"", 17, &c, err, sizeof(err));
	answer("answer-bad-json", "", NULL, 0, err, NULL);
	answer("answer-no-lane", "op-24", "enable", 0,
	       "no lane 'lane-z' on camera 'cam-1'", NULL);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_document(void)
{
	const char *dir = getenv("FL_SOURCE_DIR");
	char path[1024], *doc, *p;
	int seen[64] = { 0 }, found = 0;

	snprintf(path, sizeof(path), "%s/docs/mqtt.md", dir ? dir : ".");
	doc = slurp(path);
	CHECK_MSG(doc != NULL, "%s missing", path);
	if (!doc)
		return;
	for (p = strstr(doc, "<!-- example: "); p;
	     p = strstr(p + 1, "<!-- example: ")) {
		char name[64], topic[FL_TOPIC_MAX], *body, *end, *nl;
		size_t nlen;
		int k = -1;

		if (sscanf(p, "<!-- example: %63s -->", name) != 1)
			continue;
		found++;
		body = strstr(p, "```");
		body = body ? strchr(body, '\n') : NULL;
		end = body ? strstr(body + 1, "\n```") : NULL;
		CHECK_MSG(end != NULL, "example %s: no fenced block", name);
		if (!end)
			continue;
		body++;
		nl = memchr(body, '\n', (size_t)(end - body));
		CHECK_MSG(nl != NULL, "example %s: topic line and payload",
			  name);
		if (!nl)
			continue;
		nlen = (size_t)(nl - body);
		snprintf(topic, sizeof(topic), "%.*s", (int)nlen, body);
		*end = '\0';
		for (int i = 0; i < nex; i++)
			if (!strcmp(ex[i].name, name))
				k = i;
		CHECK_MSG(k >= 0,
			  "docs/mqtt.md example '%s' is not one the "
			  "test knows",
			  name);
		if (k < 0)
			continue;
		seen[k] = 1;
		CHECK_MSG(!strcmp(topic, ex[k].topic),
			  "example %s: topic\n  doc:  %s\n  code: %s", name,
			  topic, ex[k].topic);
		CHECK_MSG(!strcmp(nl + 1, ex[k].payload),
			  "example %s: payload\n  doc:  %s\n  code: %s", name,
			  nl + 1, ex[k].payload);
		if (!strncmp(name, "cmd-", 4)) {
			fl_command c;
			char err[256];
			int rc = fl_command_parse(nl + 1, strlen(nl + 1), &c,
						  err, sizeof(err));
			CHECK_MSG((rc == 0) == !strncmp(name, "cmd-ok-", 7),
				  "example %s: parser says %s", name,
				  rc ? err : "ok");
		} else if (strncmp(name, "status-", 7) &&
			   strncmp(name, "state-", 6) &&
			   strcmp(name, "evidence-chunk")) {
			json_t *j = parse(nl + 1);
			json_decref(j);
		}
		*end = '\n';
	}
	for (int i = 0; i < nex; i++)
		CHECK_MSG(seen[i],
			  "docs/mqtt.md lacks the example '%s' "
			  "(test_topic --print-examples)",
			  ex[i].name);
	CHECK_GE_INT(found, nex);
	free(doc);
}

static void print_examples(void)
{
	for (int i = 0; i < nex; i++)
		printf("<!-- example: %s -->\n```\n%s\n%s\n```\n\n", ex[i].name,
		       ex[i].topic, ex[i].payload);
}

int main(int argc, char **argv)
{
	build_examples();
	if (argc > 1 && !strcmp(argv[1], "--print-examples")) {
		print_examples();
		return 0;
	}
	test_topics();
	test_payloads();
	test_commands();
	test_command_config();
	test_receipts();
	test_document();
	TEST_DONE();
}
