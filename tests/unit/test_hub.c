/*
 * test_hub.c - the hub's pure pieces, table-driven: the message validator
 * (src/hub/msg.c: topic shapes, incident messages, evidence chunk headers)
 * and the configuration schema (src/hub/hubconf.c: defaults, FILE:LINE
 * errors, the rules it shares with the edge's through one engine, the dump
 * and the sample loading back), linked from the hub's library (fl_hub).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "file.h"
#include "fl.h"
#include "hubconf.h"
#include "msg.h"
#include "stills.h"
#include "register.h"
#include "test.h"
#include "yaml.h"

#define ROOT "firelane/demo-site/edge-01"

static void test_topics(void)
{
	static const struct {
		const char *topic;
		int rc; /* 0 ok, else FL_EFORMAT */
		enum hub_kind kind;
	} cases[] = {
		{ ROOT "/status", 0, HUB_MSG_STATUS },
		{ ROOT "/heartbeat", 0, HUB_MSG_HEARTBEAT },
		{ ROOT "/cam-1/event", 0, HUB_MSG_CAMERA_EVENT },
		{ ROOT "/cam-1/lane-a/incident", 0, HUB_MSG_INCIDENT },
		{ ROOT "/cam-1/lane-a/evidence", 0, HUB_MSG_EVIDENCE },
		{ ROOT "/cam-1/lane-a/state", 0, HUB_MSG_IGNORED },
		{ ROOT "/cam-1/lane-a/image", 0, HUB_MSG_IGNORED },
		{ ROOT "/command/set", 0, HUB_MSG_IGNORED },
		{ "firelane/demo-site/alerts", 0, HUB_MSG_OWN },
		{ "firelane/演示小区/edge-01/status", 0, HUB_MSG_STATUS },
		{ "other/demo-site/edge-01/status", FL_EFORMAT, 0 },
		{ "firelane//edge-01/status", FL_EFORMAT, 0 },
		{ "firelane/demo-site/edge 01/status", FL_EFORMAT, 0 },
		{ "firelane/demo-site/../status", 0,
		  HUB_MSG_STATUS }, /* ".." is an id; never a path */
		{ ROOT "/cam-1/la/ne/incident", FL_EFORMAT, 0 },
		{ ROOT "/cam 1/lane-a/incident", FL_EFORMAT, 0 },
		{ "firelane/demo-site", FL_EFORMAT, 0 },
	};
	char err[256];
	hub_topic t;

	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		int rc = hub_topic_parse(cases[i].topic, &t, err, sizeof(err));
		CHECK_MSG(rc == cases[i].rc, "%s: rc %d", cases[i].topic, rc);
		if (!rc && !cases[i].rc)
			CHECK_MSG(t.kind == cases[i].kind, "%s: kind %d",
				  cases[i].topic, t.kind);
	}
	CHECK(hub_topic_parse(ROOT "/cam-1/lane-a/incident", &t, err,
			      sizeof(err)) == 0);
	CHECK(!strcmp(t.site, "demo-site") && !strcmp(t.device, "edge-01") &&
	      !strcmp(t.camera, "cam-1") && !strcmp(t.lane, "lane-a"));
}

#define MSG(id, extra)                                                         \
	"{\"incident_id\": \"" id "\", \"seq\": 3, \"type\": \"alarm\", "      \
	"\"site\": \"demo-site\", \"device\": \"edge-01\", \"camera\": "       \
	"\"cam-1\", \"lane\": \"lane-a\", \"unix_time\": 1795955797.6" extra   \
	"}"
/* an alarm with a plate and its confidence (JSON texts) */
#define PLATE_MSG(plate, conf)                                                 \
	MSG("edge-01-1", ", \"plate\": " plate ", \"plate_confidence\": " conf)
#define H64 "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b"

/* The resident register's CSV (src/hub/register.c): normalised rows, the
 * bad rows named with their numbers, nothing from a bad file; the mask. */
static void test_register_csv(void)
{
	static const char good[] =
		"\xef\xbb\xbfPhone,Plate,Building/Unit,Owner,Note\r\n"
		"138-1234-1234,粤b·12346,3 栋 2 单元,王先生,x\r\n"
		"\r\n"
		"+86 139 0000 1111,\"京A 12345\",1 栋,\"Smith, \"\"J\"\"\",\n";
	static const char bad[] = "plate,owner,unit,phone\n"
				  "粤B12346,王先生,3 栋,13812341234\n"
				  "粤B1234,李,1 栋,13900001111\n"
				  "粤C00001,李,1 栋,139\n"
				  "粤B12346,李,1 栋,13900001111\n";
	hub_register reg;
	char err[512], m[HUB_PHONE_MAX];

	CHECK_EQ_INT(hub_register_parse(good, strlen(good), &reg, err,
					sizeof(err)),
		     2);
	if (reg.n == 2) {
		CHECK_STREQ(reg.rows[0].plate, "粤B12346");
		CHECK_STREQ(reg.rows[0].phone, "13812341234");
		CHECK_STREQ(reg.rows[0].unit, "3 栋 2 单元");
		CHECK_STREQ(reg.rows[1].plate, "京A12345");
		CHECK_STREQ(reg.rows[1].owner, "Smith, \"J\"");
		CHECK_STREQ(reg.rows[1].phone, "+8613900001111");
	}
	hub_register_free(&reg);
	CHECK_EQ_INT(hub_register_parse(bad, strlen(bad), &reg, err,
					sizeof(err)),
		     FL_EFORMAT);
	CHECK(reg.n == 0 && !reg.rows);
	CHECK_MSG(strstr(err, "row 3: plate") && strstr(err, "row 4: phone") &&
			  strstr(err, "row 5: plate: listed twice") &&
			  !strstr(err, "row 2"),
		  "%s", err);
	CHECK_EQ_INT(hub_register_parse("plate,owner\n", 12, &reg, err,
					sizeof(err)),
		     FL_EFORMAT);
	CHECK(strstr(err, "row 1") != NULL);
	hub_phone_mask("13812341234", m, sizeof(m));
	CHECK_STREQ(m, "138****1234");
	hub_phone_mask("1234567", m, sizeof(m));
	CHECK_STREQ(m, "*****67");
}

static void test_incidents(void)
{
	static const struct {
		const char *payload;
		const char *why; /* NULL: accepted; else part of the reason */
	} cases[] = {
		{ MSG("edge-01-6b0c1c12-lane-a-1", ""), NULL },
		{ MSG("edge-01-6b0c1c12-lane-a-1",
		      ", \"class\": \"x'); DROP TABLE incidents;--\""),
		  NULL },
		{ MSG("edge-01-6b0c1c12-lane-a-1",
		      ", \"site_name\": \"城东小区 3 号楼\", "
		      "\"lane_name\": \"消防通道 A\""),
		  NULL },
		{ MSG("edge-01-6b0c1c12-lane-a-1", ", \"site_name\": \"\""),
		  "site_name: expected a name" },
		{ MSG("edge-01-6b0c1c12-lane-a-1", ", \"lane_name\": \"A\\nB\""),
		  "lane_name: expected a name" },
		{ MSG("edge-01-6b0c1c12-lane-a-1", ", \"lane_name\": 7"),
		  "lane_name: expected a name" },
		{ MSG("edge-01-6b0c1c12-lane-a-1",
		      ", \"site_name\": \"0123456789012345678901234567890123"
		      "45678901234567890123456789012345678901234567890123456789"
		      "0123456789012345678901234567890123456789\""),
		  "site_name: expected a name of 1..127 bytes" },
		{ MSG("edge-02-6b0c1c12-lane-a-1", ""),
		  "does not belong to device edge-01" },
		{ MSG("edge-01-1'); DROP TABLE incidents;--", ""),
		  "incident_id" },
		{ MSG("edge-01", ""), "does not belong" },
		{ "{\"incident_id\": \"edge-01-1\", \"seq\": 1, \"seq\": 2}",
		  "duplicate" },
		{ "{\"incident_id\": ", "bad JSON" },
		{ "[1, 2]", "expected a JSON object" },
		{ "{\"incident_id\": \"edge-01-1\", \"seq\": 0, \"type\": \"alarm\"}",
		  "seq" },
		{ "{\"incident_id\": \"edge-01-1\", \"seq\": 1.5, \"type\": \"alarm\"}",
		  "seq" },
		{ "{\"incident_id\": \"edge-01-1\", \"seq\": 1, \"type\": \"party\"}",
		  "type" },
		{ "{\"incident_id\": \"edge-01-1\", \"seq\": 1, \"type\": \"alarm\", \"site\": \"other\", \"device\": \"edge-01\"}",
		  "site" },
		{ "{\"incident_id\": \"edge-01-1\", \"seq\": 1, \"type\": \"alarm\", \"site\": \"demo-site\", \"device\": \"edge-01\", \"camera\": \"cam-2\", \"lane\": \"lane-a\", \"unix_time\": 1}",
		  "camera" },
		{ "{\"incident_id\": \"edge-01-1\", \"seq\": 1, \"type\": \"alarm\", \"site\": \"demo-site\", \"device\": \"edge-01\", \"camera\": \"cam-1\", \"lane\": \"lane-a\"}",
		  "unix_time" },
		{ "{\"incident_id\": \"edge-01-1\", \"seq\": 4, \"type\": \"evidence\", \"site\": \"demo-site\", \"device\": \"edge-01\", \"camera\": \"cam-1\", \"lane\": \"lane-a\", \"unix_time\": 1, \"evidence\": [{\"name\": \"scene-1.jpg\", \"sha256\": \"" H64
		  "\", \"bytes\": 5}]}",
		  NULL },
		{ "{\"incident_id\": \"edge-01-1\", \"seq\": 4, \"type\": \"evidence\", \"site\": \"demo-site\", \"device\": \"edge-01\", \"camera\": \"cam-1\", \"lane\": \"lane-a\", \"unix_time\": 1, \"evidence\": [{\"name\": \"../x\", \"sha256\": \"" H64
		  "\", \"bytes\": 5}]}",
		  "plain file name" },
		{ "{\"incident_id\": \"edge-01-1\", \"seq\": 4, \"type\": \"evidence\", \"site\": \"demo-site\", \"device\": \"edge-01\", \"camera\": \"cam-1\", \"lane\": \"lane-a\", \"unix_time\": 1, \"evidence\": [{\"name\": \".x\", \"sha256\": \"" H64
		  "\", \"bytes\": 5}]}",
		  "plain file name" },
		{ "{\"incident_id\": \"edge-01-1\", \"seq\": 4, \"type\": \"evidence\", \"site\": \"demo-site\", \"device\": \"edge-01\", \"camera\": \"cam-1\", \"lane\": \"lane-a\", \"unix_time\": 1, \"evidence\": [{\"name\": \"a\", \"sha256\": \"" H64
		  "\", \"bytes\": 5}, {\"name\": \"a\", \"sha256\": \"" H64
		  "\", \"bytes\": 5}]}",
		  "listed twice" },
		{ "{\"incident_id\": \"edge-01-1\", \"seq\": 4, \"type\": \"evidence\", \"site\": \"demo-site\", \"device\": \"edge-01\", \"camera\": \"cam-1\", \"lane\": \"lane-a\", \"unix_time\": 1, \"evidence\": []}",
		  "evidence" },
		/* the plate (docs/mqtt.md, "Plate"): read, unread, malformed */
		{ PLATE_MSG("\"粤B12345\"", "0.9981"), NULL },
		{ PLATE_MSG("null", "0.31"), NULL },
		{ PLATE_MSG("\"ABC123\"", "1"), NULL },
		{ PLATE_MSG("\"粤粤粤\"", "0.9"), "plate" },
		{ PLATE_MSG("\"粤B12345\"", "1.5"), "plate" },
		{ PLATE_MSG("\"粤B12345\"", "\"high\""), "plate" },
		{ PLATE_MSG("7", "0.5"), "plate" },
		{ "{\"incident_id\": \"edge-01-1\", \"seq\": 3, \"type\": \"alarm\", \"site\": \"demo-site\", \"device\": \"edge-01\", \"camera\": \"cam-1\", \"lane\": \"lane-a\", \"unix_time\": 1, \"plate\": \"A12345\"}",
		  NULL }, /* a plate alone (the field was there before reads) */
		{ "{\"incident_id\": \"edge-01-1\", \"seq\": 3, \"type\": \"alarm\", \"site\": \"demo-site\", \"device\": \"edge-01\", \"camera\": \"cam-1\", \"lane\": \"lane-a\", \"unix_time\": 1, \"plate\": \"京\"}",
		  "plate" },
	};
	hub_topic t;
	hub_incident in;
	hub_file files[HUB_MAX_FILES];
	size_t n;
	char err[256];

	CHECK(hub_topic_parse(ROOT "/cam-1/lane-a/incident", &t, err,
			      sizeof(err)) == 0);
	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		const char *p = cases[i].payload;
		int rc;

		err[0] = 0;
		rc = hub_incident_check(&t, p, strlen(p), &in, files, &n, err,
					sizeof(err));
		if (!cases[i].why)
			CHECK_MSG(rc == 0, "case %zu: %s", i, err);
		else
			CHECK_MSG(rc == FL_EFORMAT && strstr(err, cases[i].why),
				  "case %zu: rc %d, '%s' lacks '%s'", i, rc,
				  err, cases[i].why);
	}
	{
		const char *p = MSG("edge-01-6b0c1c12-lane-a-1", "");
		CHECK(hub_incident_check(&t, p, strlen(p), &in, NULL, NULL, err,
					 sizeof(err)) == 0);
		CHECK(in.seq == 3 && !strcmp(in.type, "alarm"));
		CHECK_NEAR(in.wall, 1795955797.6, 1e-6);
		CHECK_STREQ(in.site_name, ""); /* none sent */
		CHECK_EQ_DBL(in.rest_wall, -1, 0);
	}
	{
		/* the names, and when the object came to rest and left, in
		 * unix time from the message's video times */
		const char *p = MSG("edge-01-6b0c1c12-lane-a-1",
				    ", \"site_name\": \"城东小区\", "
				    "\"lane_name\": \"消防通道 A\", "
				    "\"video_time_s\": 67.6, "
				    "\"rest_since_s\": 7.6, "
				    "\"left_at_s\": 60.6");

		CHECK(hub_incident_check(&t, p, strlen(p), &in, NULL, NULL, err,
					 sizeof(err)) == 0);
		CHECK_STREQ(in.site_name, "城东小区");
		CHECK_STREQ(in.lane_name, "消防通道 A");
		CHECK_EQ_DBL(in.rest_wall, 1795955737.6, 1e-6);
		CHECK_EQ_DBL(in.left_wall, 1795955790.6, 1e-6);
	}
}

static size_t chunk(char *buf, size_t len, const char *file, long index,
		    long count, long long offset, long long size,
		    const char *data, size_t dlen)
{
	char hex[65];
	int n;

	fl_sha256_hex(data, dlen, hex);
	n = snprintf(buf, len,
		     "{\"incident_id\": \"edge-01-1\", \"file\": \"%s\", "
		     "\"index\": %ld, \"count\": %ld, \"offset\": %lld, "
		     "\"size\": %lld, \"chunk_sha256\": \"%s\", "
		     "\"file_sha256\": \"%s\"}\n",
		     file, index, count, offset, size, hex, hex);
	memcpy(buf + n, data, dlen);
	return (size_t)n + dlen;
}

static void test_chunks(void)
{
	char buf[2048], err[256];
	hub_topic t;
	hub_chunk c;
	size_t n;

	CHECK(hub_topic_parse(ROOT "/cam-1/lane-a/evidence", &t, err,
			      sizeof(err)) == 0);
	n = chunk(buf, sizeof(buf), "clip.mp4", 0, 1, 0, 5, "hello", 5);
	CHECK(hub_chunk_check(&t, buf, n, &c, err, sizeof(err)) == 0);
	CHECK(c.len == 5 && !memcmp(c.data, "hello", 5));
	n = chunk(buf, sizeof(buf), "empty", 0, 1, 0, 0, "", 0);
	CHECK_MSG(hub_chunk_check(&t, buf, n, &c, err, sizeof(err)) == 0, "%s",
		  err);
	n = chunk(buf, sizeof(buf), "a.jpg", 1, 2, 65536, 65537, "h", 1);
	CHECK(hub_chunk_check(&t, buf, n, &c, err, sizeof(err)) == 0);
	n = chunk(buf, sizeof(buf), "../../x", 0, 1, 0, 5, "hello", 5);
	CHECK(hub_chunk_check(&t, buf, n, &c, err, sizeof(err)) == FL_EFORMAT &&
	      strstr(err, "plain file name"));
	n = chunk(buf, sizeof(buf), "a.jpg", 0, 1, 0, 6, "hello", 5);
	CHECK(hub_chunk_check(&t, buf, n, &c, err, sizeof(err)) == FL_EFORMAT);
	n = chunk(buf, sizeof(buf), "a.jpg", 1, 2, 100, 65537, "h", 1);
	CHECK(hub_chunk_check(&t, buf, n, &c, err, sizeof(err)) == FL_EFORMAT);
	n = chunk(buf, sizeof(buf), "a.jpg", 2, 2, 131072, 65537, "h", 1);
	CHECK(hub_chunk_check(&t, buf, n, &c, err, sizeof(err)) == FL_EFORMAT);
	CHECK(hub_chunk_check(&t, "no header", 9, &c, err, sizeof(err)) ==
	      FL_EFORMAT);
	/* the whole-message entry: size limit and kinds */
	CHECK(hub_msg_check(ROOT "/status", "online", 6, 1024, err,
			    sizeof(err)) == HUB_MSG_STATUS);
	CHECK(hub_msg_check(ROOT "/status", "hacked", 6, 1024, err,
			    sizeof(err)) == FL_EFORMAT);
	CHECK(hub_msg_check(ROOT "/heartbeat", "{}", 2000, 1024, err,
			    sizeof(err)) == FL_EFORMAT);
	CHECK(hub_msg_check(ROOT "/cam-1/lane-a/image", "", 5000000, 1024, err,
			    sizeof(err)) == HUB_MSG_IGNORED);
}

/* Heartbeats: epoch, config_version and the receipts the device asks for
 * (undelivered.ask), or refused with why. */
static void test_heartbeats(void)
{
	static const struct {
		const char *payload, *why; /* why NULL: accepted */
		size_t nask;
	} cases[] = {
		{ "{}", NULL, 0 },
		{ "{\"epoch\": 7, \"undelivered\": {\"bundles\": 0}}", NULL, 0 },
		{ "{\"undelivered\": {\"bundles\": 2, \"ask\": [\"e-1-a-1\", "
		  "\"e-1-a-2\"]}}",
		  NULL, 2 },
		{ "{\"undelivered\": {\"ask\": []}}", NULL, 0 },
		{ "{\"epoch\": 0}", "epoch", 0 },
		{ "{\"undelivered\": 3}", "undelivered is not", 0 },
		{ "{\"undelivered\": {\"bundles\": -1}}", "undelivered is not",
		  0 },
		{ "{\"undelivered\": {\"ask\": \"e-1-a-1\"}}", "an array", 0 },
		{ "{\"undelivered\": {\"ask\": [\"a\",\"b\",\"c\",\"d\",\"e\","
		  "\"f\",\"g\",\"h\",\"i\"]}}",
		  "at most 8", 0 },
		{ "{\"undelivered\": {\"ask\": [\"../x\"]}}",
		  "not an incident id", 0 },
		{ "{\"undelivered\": {\"ask\": [7]}}", "not an incident id", 0 },
	};
	hub_heartbeat hb;
	char err[256];

	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		int rc = hub_heartbeat_check(cases[i].payload,
					     strlen(cases[i].payload), &hb, err,
					     sizeof(err));

		if (!cases[i].why) {
			CHECK_MSG(rc == FL_OK, "case %zu: %s", i, err);
			CHECK_EQ_INT((int)hb.nask, (int)cases[i].nask);
		} else {
			CHECK_MSG(rc == FL_EFORMAT && strstr(err, cases[i].why),
				  "case %zu: %d %s", i, rc, err);
		}
	}
	{
		const char *p = "{\"epoch\": 9, \"config_version\": 4, "
				"\"undelivered\": {\"ask\": [\"e-1-a-2\"]}}";

		CHECK_EQ_INT(hub_heartbeat_check(p, strlen(p), &hb, err,
						 sizeof(err)),
			     FL_OK);
	}
	CHECK_EQ_INT((int)hb.epoch, 9);
	CHECK_EQ_INT((int)hb.config_version, 4);
	CHECK_STREQ(hb.ask[0], "e-1-a-2");
}

/* Camera events: accepted with type and reason, or refused with why. */
static void test_camera_events(void)
{
	static const struct {
		const char *payload, *why; /* why NULL: accepted */
	} cases[] = {
		{ "{\"type\":\"camera_offline\",\"camera\":\"cam-1\",\"lane\":\"\","
		  "\"incident_id\":\"\",\"video_time_s\":512.400,"
		  "\"reason\":\"stream lost: connection refused\"}",
		  NULL },
		{ "{\"type\":\"camera_online\",\"camera\":\"cam-1\"}", NULL },
		{ "{\"type\":\"health\",\"camera\":\"cam-1\",\"reason\":\"frozen\"}",
		  NULL },
		{ "{\"type\":\"health\",\"camera\":\"cam-1\","
		  "\"reason\":\"cleared: covered\"}",
		  NULL },
		{ "{\"type\":\"health\",\"camera\":\"cam-1\","
		  "\"reason\":\"overloaded\"}",
		  NULL },
		{ "{\"type\":\"health\",\"camera\":\"cam-1\","
		  "\"reason\":\"cleared: overloaded\"}",
		  NULL },
		{ "{\"type\":\"health\",\"camera\":\"cam-1\",\"reason\":\"melted\"}",
		  "unknown health" },
		{ "{\"type\":\"health\",\"camera\":\"cam-1\"}",
		  "unknown health" },
		{ "{\"type\":\"reboot\",\"camera\":\"cam-1\"}", "unknown type" },
		{ "{\"type\":\"camera_online\",\"camera\":\"cam-2\"}",
		  "not the topic's" },
		{ "{\"type\":\"camera_online\"}", "not the topic's" },
		{ "{\"type\":\"health\",\"camera\":\"cam-1\",\"reason\":5}",
		  "not a string" },
		{ "[1]", "expected a JSON object" },
		{ "{\"type\":\"camera_online\",\"type\":\"health\","
		  "\"camera\":\"cam-1\"}",
		  "bad JSON" },
	};
	char err[256], ty[32], why[64];
	hub_topic t;

	CHECK(hub_topic_parse(ROOT "/cam-1/event", &t, err, sizeof(err)) == 0);
	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		int rc = hub_camera_event_check(&t, cases[i].payload,
						strlen(cases[i].payload), ty,
						sizeof(ty), why, sizeof(why),
						err, sizeof(err));
		if (!cases[i].why)
			CHECK_MSG(rc == 0, "case %zu: %s", i, err);
		else
			CHECK_MSG(rc == FL_EFORMAT && strstr(err, cases[i].why),
				  "case %zu: rc %d '%s'", i, rc, err);
	}
	CHECK(hub_camera_event_check(&t, cases[0].payload,
				     strlen(cases[0].payload), ty, sizeof(ty),
				     why, sizeof(why), err, sizeof(err)) == 0);
	CHECK(!strcmp(ty, "camera_offline"));
	CHECK(!strcmp(why, "stream lost: connection refused"));
	CHECK(hub_msg_check(ROOT "/cam-1/event", cases[6].payload,
			    strlen(cases[6].payload), 1024, err,
			    sizeof(err)) == FL_EFORMAT);
}

/* Load YAML text as a file; return the rc and the error. */
static int load(const char *yaml, hub_conf *c, char *err, size_t errlen)
{
	char path[] = "/tmp/test_hub_XXXXXX";
	int fd = mkstemp(path), rc;

	if (fd < 0)
		return -100;
	if (write(fd, yaml, strlen(yaml)) != (ssize_t)strlen(yaml)) {
		close(fd);
		return -100;
	}
	close(fd);
	rc = hub_conf_load(c, path, err, errlen);
	unlink(path);
	return rc;
}

#define BASE "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\n"

static void test_config(void)
{
	static const struct {
		const char *yaml;
		const char *why; /* NULL: accepted */
	} cases[] = {
		{ "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\n",
		  NULL },
		{ "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\nalerts:\n  sites:\n    - site: s\n      webhooks:\n        - {url: \"https://x\", format: dingtalk}\n",
		  NULL },
		{ "mqtt: {host: h, x: 1}\n", ":1: unknown key 'x' in mqtt" },
		{ "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\nalerts: {timeout_s: 0}\n",
		  ":4: timeout_s: 0 is out of range" },
		{ "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\nalerts: {retry_max: 2.5}\n",
		  "whole number" },
		{ "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\nalerts: {retry_max: \"3\"}\n",
		  "expected a number" },
		{ "mqtt: {host: h}\nstore: {sqlite: db}\n",
		  "evidence_dir is required" },
		{ "mqtt: [1]\n", "mqtt: expected a map" },
		{ "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\npublic_url: ftp://x\n",
		  "public_url" },
		/* the persistent session and the budgets (engineer D) */
		{ "mqtt: {host: h, session_expiry_s: 3600}\nstore: {sqlite: db}\nevidence_dir: ev\nquarantine_max: 500\nincoming_max_age_s: 86400\nevidence_keep_days: 365\n",
		  NULL },
		{ "mqtt: {host: h, session_expiry_s: 10}\n",
		  ":1: session_expiry_s: 10 is out of range" },
		{ "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\nquarantine_max: 5\n",
		  ":4: quarantine_max: 5 is out of range" },
		{ "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\nincoming_max_age_s: 0\n",
		  ":4: incoming_max_age_s: 0 is out of range" },
		{ "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\nevidence_keep_days: -1\n",
		  ":4: evidence_keep_days: -1 is out of range" },
		/* receipts re-sent to a device back online (engineer E) */
		{ "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\nreceipt_resend_days: 0\n",
		  NULL },
		{ "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\nreceipt_resend_days: -1\n",
		  ":4: receipt_resend_days: -1 is out of range" },
		{ "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\nreceipt_resend_days: 36501\n",
		  ":4: receipt_resend_days: 36501 is out of range" },
		{ "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\nreceipt_resend_days: x\n",
		  "expected a number" },
		/* the login rate limit behind a reverse proxy (engineer F) */
		{ "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\nhttp:\n  trusted_proxies: [127.0.0.1, \"::1\", 2001:db8::2]\n",
		  NULL },
		{ "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\nhttp:\n  trusted_proxies:\n    - 10.0.0.2\n    - 10.0.0.300\n",
		  ":7: http.trusted_proxies: '10.0.0.300' is not an IPv4 or IPv6 address" },
		{ "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\nhttp: {trusted_proxies: [10.0.0.0/8]}\n",
		  ":4: http.trusted_proxies: '10.0.0.0/8' is not an IPv4 or IPv6 address" },
		{ "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\nhttp: {trusted_proxies: [proxy.example.org]}\n",
		  "'proxy.example.org' is not an IPv4 or IPv6 address" },
		{ "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\nhttp: {trusted_proxies: 127.0.0.1}\n",
		  ":4: http.trusted_proxies: expected a list of addresses" },
		{ "mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\nhttp: {trusted_proxies: [1.1.1.1, 1.1.1.2, 1.1.1.3, 1.1.1.4, 1.1.1.5, 1.1.1.6, 1.1.1.7, 1.1.1.8, 1.1.1.9, 1.1.1.10, 1.1.1.11, 1.1.1.12, 1.1.1.13, 1.1.1.14, 1.1.1.15, 1.1.1.16, 1.1.1.17]}\n",
		  "at most 16 addresses" },
		/* Where the hub's own walker disagreed with the edge's, the
		 * hub now follows the edge's rule (one engine,
		 * src/core/schema.c); each of these rows was decided the other
		 * way before. Booleans: true/false/yes/no in any case, not
		 * on/off. */
		{ BASE "alerts: {mqtt: on}\n",
		  ":4: mqtt: expected a boolean (true, false, yes, no), "
		  "got 'on'" },
		{ BASE "alerts: {mqtt: off}\n", "mqtt: expected a boolean" },
		{ BASE "alerts: {mqtt: True}\n", NULL },
		{ BASE "alerts: {mqtt: NO}\n", NULL },
		/* numbers: plain decimals only */
		{ BASE "max_payload: 0x10000\n",
		  ":4: max_payload: expected a number, got '0x10000'" },
		{ BASE "alerts: {timeout_s: 0x5}\n", "expected a number" },
		/* a claim outlasts the attempt it covers (alerts.c) */
		{ BASE "alerts:\n  timeout_s: 10\n  lease_s: 10\n",
		  ":6: alerts.lease_s (10) must be more than alerts.timeout_s "
		  "(10)" },
		{ BASE "alerts: {timeout_s: 90}\n",
		  ":4: alerts.lease_s (60) must be more than" },
		{ BASE "alerts: {timeout_s: 2, lease_s: 3}\n", NULL },
		{ BASE "max_payload: 1e5\n", NULL },
		/* max_payload counts bytes: a whole number, not truncated */
		{ BASE "max_payload: 2048.5\n",
		  ":4: max_payload: expected a whole number, got 2048.5" },
		/* strings: a tab is text (libyaml itself refuses bytes that
		 * are not UTF-8) */
		{ "mqtt: {host: h, username: \"a\\tb\"}\n"
		  "store: {sqlite: db}\nevidence_dir: ev\n",
		  NULL },
		/* Refused before too, now in the engine's words: the section,
		 * the value, the line, bounds in full. */
		{ BASE "public_url: \"http://x/\\x01\"\n",
		  ":4: public_url: not valid UTF-8 text" },
		{ BASE "colour: red\n",
		  ":4: unknown key 'colour' in top level" },
		{ BASE "alerts:\n  sites:\n    - {site: a, hooks: []}\n",
		  ":6: unknown key 'hooks' in site" },
		{ BASE "alerts:\n  sites:\n    - site: a\n      webhooks:\n"
		       "        - {url: \"http://x\", fmt: wecom}\n",
		  ":8: unknown key 'fmt' in webhook" },
		{ "mqtt: {host: h, session_expiry_s: 2147483648}\n",
		  "session_expiry_s: 2147483648 is out of range 60..2147483647" },
		{ BASE "alerts:\n  sites:\n    - site: a\n    - site: a\n",
		  ":7: duplicate site id 'a'" },
		{ BASE "alerts:\n  sites:\n    - webhooks: []\n",
		  ":6: missing required key 'site' in site" },
		{ BASE "alerts:\n  sites:\n    - site: \"\"\n",
		  ":6: site: must not be empty" },
		{ BASE
		  "alerts:\n  sites:\n    - site: a\n      webhooks: [1, 2, 3, 4, 5]\n",
		  ":7: webhooks: 5 entries, expected 0..4" },
		{ BASE "alerts:\n  sites:\n    - site: a\n      escalate:\n"
		       "        - {format: wecom}\n",
		  ":8: webhook: url must start with http:// or https://" },
		{ BASE "alerts:\n  sites:\n    - site: a\n      webhooks:\n"
		       "        - {url: \"http://x\", format: [wecom]}\n",
		  ":8: format: expected a single value" },
	};
	static hub_conf c;
	char err[512];

	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		int rc;

		err[0] = 0;
		rc = load(cases[i].yaml, &c, err, sizeof(err));
		if (!cases[i].why)
			CHECK_MSG(rc == 0, "case %zu: %s", i, err);
		else
			CHECK_MSG(rc && strstr(err, cases[i].why),
				  "case %zu: rc %d, '%s' lacks '%s'", i, rc,
				  err, cases[i].why);
	}
	CHECK(load(cases[1].yaml, &c, err, sizeof(err)) == 0);
	CHECK(c.alerts.nsites == 1 && c.alerts.sites[0].nhooks == 1);
	CHECK(c.alerts.sites[0].hooks[0].format == HUB_HOOK_DINGTALK);
	CHECK(hub_conf_site(&c, "s") == &c.alerts.sites[0]);
	CHECK(hub_conf_site(&c, "t") == NULL);
	CHECK(c.max_payload == 256 * 1024 && c.alerts.retry_max == 8);
	/* defaults: a week of session, 10,000 quarantined, a week for an
	 * incomplete bundle, evidence kept forever */
	CHECK(c.mqtt.session_expiry_s == 604800 && c.quarantine_max == 10000);
	CHECK(c.incoming_max_age_s == 604800 && c.evidence_keep_days == 0);
	CHECK(load(cases[9].yaml, &c, err, sizeof(err)) == 0);
	CHECK(c.mqtt.session_expiry_s == 3600 && c.quarantine_max == 500);
	CHECK(c.incoming_max_age_s == 86400 && c.evidence_keep_days == 365);
	/* receipts: 30 days by default, 0 turns the re-sending off */
	CHECK(c.receipt_resend_days == 30);
	CHECK(load("mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\n"
		   "receipt_resend_days: 0.5\n",
		   &c, err, sizeof(err)) == 0 &&
	      c.receipt_resend_days == 0.5);
	CHECK(load("mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\n"
		   "receipt_resend_days: 0\n",
		   &c, err, sizeof(err)) == 0 &&
	      c.receipt_resend_days == 0);
	/* trusted proxies: none by default; kept as written */
	CHECK(c.http.ntrusted_proxies == 0);
	CHECK(load("mqtt: {host: h}\nstore: {sqlite: db}\nevidence_dir: ev\n"
		   "http: {trusted_proxies: [127.0.0.1, \"::1\"]}\n",
		   &c, err, sizeof(err)) == 0 &&
	      c.http.ntrusted_proxies == 2 &&
	      !strcmp(c.http.trusted_proxies[0], "127.0.0.1") &&
	      !strcmp(c.http.trusted_proxies[1], "::1"));
}

/* Load YAML text; return the rc and the error. */
static int parse(const char *yaml, hub_conf *c, char *err, size_t errlen)
{
	return hub_conf_parse(c, yaml, strlen(yaml), "hub.yaml", err, errlen);
}

/* Values of the rules the hub now shares with the edge (the rows are in
 * test_config's table). */
static void test_config_rules(void)
{
	static hub_conf c;
	char err[512];

	CHECK(parse(BASE "alerts: {mqtt: NO}\n", &c, err, sizeof(err)) == 0 &&
	      c.alerts.mqtt == 0);
	CHECK(parse(BASE "max_payload: 1e5\n", &c, err, sizeof(err)) == 0 &&
	      c.max_payload == 100000);
	CHECK(parse("mqtt: {host: h, username: \"a\\tb\"}\n"
		    "store: {sqlite: db}\nevidence_dir: ev\n",
		    &c, err, sizeof(err)) == 0 &&
	      !strcmp(c.mqtt.username, "a\tb"));
	/* Paths stay as written (the edge's follow their file). */
	CHECK(hub_conf_parse(&c, BASE, strlen(BASE), "/etc/firelane/hub.yaml",
			     err, sizeof(err)) == 0 &&
	      !strcmp(c.evidence_dir, "ev") && !strcmp(c.store.sqlite, "db"));
}

/* The store: SQLite or PostgreSQL, exactly one; the server's URL opened
 * as written, named with its password as "***" in messages and dumps. */
static char *dump(const hub_conf *c);

static void test_config_store(void)
{
	static hub_conf c;
	char err[512], buf[HUB_PATH + 16], *d;

	CHECK_MSG(parse("mqtt: {host: h}\nevidence_dir: ev\n"
			"hub_key_file: /etc/firelane/hub.key\n"
			"store: {postgresql: \"postgresql://fl:pw-Zq81@db:5432/"
			"firelane\"}\n",
			&c, err, sizeof(err)) == 0,
		  "%s", err);
	hub_conf_store_url(&c, buf, sizeof(buf));
	CHECK_STREQ(buf, "postgresql://fl:pw-Zq81@db:5432/firelane");
	hub_conf_store_name(&c, buf, sizeof(buf));
	CHECK_STREQ(buf, "postgresql://fl:***@db:5432/firelane");
	d = dump(&c);
	/* the dump loads again: the password "***" is still a URL's */
	CHECK_MSG(!strstr(d, "pw-Zq81") &&
			  strstr(d,
				 "  postgresql: \"postgresql://fl:***@db:5432/"
				 "firelane\"\n"),
		  "%s", d);
	CHECK_MSG(parse(d, &c, err, sizeof(err)) == 0, "%s", err);
	free(d);
	CHECK(parse(BASE, &c, err, sizeof(err)) == 0);
	hub_conf_store_url(&c, buf, sizeof(buf));
	CHECK_STREQ(buf, "sqlite:db");
	hub_conf_store_name(&c, buf, sizeof(buf));
	CHECK_STREQ(buf, "db");
	/* both, neither, another scheme, no key file: file:line and why */
	CHECK_EQ_INT(parse("mqtt: {host: h}\nevidence_dir: ev\n"
			   "hub_key_file: k\nstore:\n  sqlite: db\n"
			   "  postgresql: postgresql://db/f\n",
			   &c, err, sizeof(err)),
		     FL_ECONFIG);
	CHECK_MSG(strstr(err, "hub.yaml:4: store: set one of sqlite and "
			      "postgresql, not both"),
		  "%s", err);
	CHECK_EQ_INT(parse("mqtt: {host: h}\nevidence_dir: ev\nstore: {}\n", &c,
			   err, sizeof(err)),
		     FL_ECONFIG);
	CHECK_MSG(strstr(err, "store.sqlite or store.postgresql is required"),
		  "%s", err);
	CHECK_EQ_INT(parse("mqtt: {host: h}\nevidence_dir: ev\n"
			   "hub_key_file: k\n"
			   "store: {postgresql: \"host=db password=x\"}\n",
			   &c, err, sizeof(err)),
		     FL_ECONFIG);
	CHECK_MSG(strstr(err, "hub.yaml:4: store.postgresql must start with "
			      "postgresql://"),
		  "%s", err);
	CHECK_EQ_INT(parse("mqtt: {host: h}\nevidence_dir: ev\n"
			   "store: {postgresql: \"postgres://db/f\"}\n",
			   &c, err, sizeof(err)),
		     FL_ECONFIG);
	CHECK_MSG(strstr(err, "hub_key_file is required with store.postgresql"),
		  "%s", err);
}

/* Two defaults are settled at load, so the dump shows what is in effect. */
static void test_config_settled(void)
{
	static hub_conf c;
	char err[512];

	CHECK(parse(BASE, &c, err, sizeof(err)) == 0 && c.mqtt.port == 1883);
	CHECK(parse("mqtt: {host: h, tls_ca: ca.pem}\nstore: {sqlite: db}\n"
		    "evidence_dir: ev\n",
		    &c, err, sizeof(err)) == 0 &&
	      c.mqtt.port == 8883);
	CHECK(parse("mqtt: {host: h, tls_ca: ca.pem, port: 1884}\n"
		    "store: {sqlite: db}\nevidence_dir: ev\n",
		    &c, err, sizeof(err)) == 0 &&
	      c.mqtt.port == 1884);
	/* a site escalates after its own delay, else the alerts-wide one,
	 * wherever alerts.escalate_s stands in the map */
	CHECK_MSG(parse(BASE "alerts:\n  sites:\n    - site: a\n"
			     "    - {site: b, escalate_s: 30}\n"
			     "  escalate_s: 120\n",
			&c, err, sizeof(err)) == 0,
		  "%s", err);
	CHECK(c.alerts.nsites == 2 && c.alerts.sites[0].escalate_s == 120 &&
	      c.alerts.sites[1].escalate_s == 30 &&
	      c.alerts.sites[0].line == 6 && c.alerts.sites[1].line == 7);
	CHECK(parse(BASE "alerts: {sites: [{site: a, escalate_s: -1}]}\n", &c,
		    err, sizeof(err)) == FL_ECONFIG &&
	      strstr(err, "escalate_s: -1 is out of range 0..604800"));
}

/* dump -> parse -> dump is a fixed point; the sample loads and dumps as
 * itself without its comments; the password never shows. */
static char *dump(const hub_conf *c)
{
	size_t n = hub_conf_dump(c, NULL, 0);
	char *s = malloc(n + 1);

	if (!s)
		abort();
	CHECK(hub_conf_dump(c, s, n + 1) == n && strlen(s) == n);
	return s;
}

static void test_config_dump(void)
{
	static hub_conf c, c2;
	char err[512], *a, *b, *sample;
	size_t n;

	CHECK_MSG(parse("mqtt: {host: h, username: u, password: pw-Zq81}\n"
			"store: {sqlite: db}\nevidence_dir: ev\n"
			"http: {trusted_proxies: [127.0.0.1, \"::1\"]}\n"
			"alerts:\n  mqtt: no\n  sites:\n    - site: s\n"
			"      webhooks:\n        - {url: \"https://x/a\", "
			"format: dingtalk}\n      escalate:\n"
			"        - {url: \"http://y\"}\n",
			&c, err, sizeof(err)) == 0,
		  "%s", err);
	a = dump(&c);
	CHECK_MSG(!strstr(a, "pw-Zq81") && strstr(a, "  password: \"***\"\n"),
		  "%s", a);
	CHECK_MSG(
		strstr(a, "# hub.yaml\nmqtt:\n  host: \"h\"\n  port: 1883\n") &&
			strstr(a,
			       "  trusted_proxies: [\"127.0.0.1\", \"::1\"]\n") &&
			strstr(a, "\n  mqtt: false\n") &&
			strstr(a, "        - url: \"https://x/a\"\n"
				  "          format: dingtalk\n") &&
			strstr(a,
			       "      escalate:\n        - url: \"http://y\"\n"
			       "          format: generic\n") &&
			strstr(a, "\nmax_payload: 262144\n"),
		"%s", a);
	/* "***" loads as a password that is set; everything else the same */
	CHECK_MSG(parse(a, &c2, err, sizeof(err)) == 0, "%s", err);
	b = dump(&c2);
	CHECK_MSG(!strcmp(a, b), "round trip:\n%s\n---\n%s", a, b);
	CHECK(c2.alerts.sites[0].hooks[0].format == HUB_HOOK_DINGTALK &&
	      c2.alerts.sites[0].nescalate == 1 &&
	      c2.http.ntrusted_proxies == 2 && c2.alerts.mqtt == 0);
	free(a);
	free(b);

	n = hub_conf_sample(NULL, 0);
	sample = malloc(n + 1);
	if (!sample)
		abort();
	CHECK(hub_conf_sample(sample, n + 1) == n && strlen(sample) == n);
	CHECK_MSG(hub_conf_parse(&c, sample, n, "sample.yaml", err,
				 sizeof(err)) == 0,
		  "the sample does not load: %s", err);
	/* every row's help is shown */
	CHECK(strstr(sample, "  port: 1883  # broker port") &&
	      strstr(sample, "evidence_keep_days: 0  # 0: keep evidence") &&
	      strstr(sample, "          format: wecom  # the body"));
	a = dump(&c);
	CHECK_MSG(hub_conf_parse(&c2, a, strlen(a), "sample.yaml", err,
				 sizeof(err)) == 0,
		  "%s", err);
	b = dump(&c2);
	CHECK_MSG(!strcmp(a, b), "sample round trip:\n%s\n---\n%s", a, b);
	/* the sample is that dump with help comments and its own header */
	{
		char *bare = malloc(n + 1), *o = bare;

		if (!bare)
			abort();
		for (const char *l = sample, *e; *l; l = e + 1) {
			const char *cut;

			e = strchr(l, '\n');
			if (!e)
				break;
			if (*l == '#')
				continue;
			cut = strstr(l, "  # ");
			if (!cut || cut > e)
				cut = e;
			memcpy(o, l, (size_t)(cut - l));
			o += cut - l;
			*o++ = '\n';
		}
		*o = '\0';
		CHECK_MSG(!strcmp(bare, strchr(a, '\n') + 1),
			  "sample without comments:\n%s\n---\nits dump:\n%s",
			  bare, a);
		free(bare);
	}
	free(a);
	free(b);
	free(sample);
}

/* The hub can validate an edge's configuration text with the same engine
 * (what it will do before sending a device its configuration). */
static void test_edge_config_on_hub(void)
{
	static const char text[] =
		"device: {id: edge-01, site: demo-site}\ncameras:\n"
		"  - id: cam-1\n    source: rtsp://192.0.2.1/s\n    lanes:\n"
		"      - id: lane-a\n        points: [[0, 0], [9, 0], [9, 9]]\n"
		"        dwell_s: 0\n";
	static fl_config cfg;
	char err[256];

	CHECK(fl_config_parse(&cfg, text, strlen(text), "edge-01", err,
			      sizeof(err)) == FL_ECONFIG);
	CHECK_MSG(!strcmp(err, "edge-01:8: dwell_s: 0 is out of range 1..86400"),
		  "%s", err);
	CHECK(fl_config_parse(&cfg, text, strlen(text) - 19, "edge-01", err,
			      sizeof(err)) == 0 &&
	      cfg.cameras[0].lanes[0].dwell_s == 60);
}

/* The alert picture's links (stills.h): made and checked with one key,
 * refused for another incident, another key, an altered or malformed
 * signature and once expired; the key made once, 0600, read back. */
static void test_still_links(void)
{
	unsigned char key[HUB_STILL_KEY], again[HUB_STILL_KEY];
	unsigned char other[HUB_STILL_KEY];
	char dir[] = "/tmp/fl-test-stills-XXXXXX", link[512], file[512];
	char path[600], err[256];
	const char *base = "https://hub.example/pictures/inc-1/";
	struct stat st;

	CHECK(mkdtemp(dir) != NULL);
	CHECK_MSG(hub_still_key(dir, key, err, sizeof(err)) == 0, "%s", err);
	CHECK_MSG(hub_still_key(dir, again, err, sizeof(err)) == 0, "%s", err);
	CHECK(!memcmp(key, again, sizeof(key))); /* the first one's, kept */
	snprintf(path, sizeof(path), "%s/.stills/link.key", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	memset(other, 7, sizeof(other));

	CHECK(hub_still_link(key, "https://hub.example", "inc-1", 2000000000LL,
			     link, sizeof(link)) > 0);
	CHECK_MSG(!strncmp(link, base, strlen(base)), "%s", link);
	snprintf(file, sizeof(file), "%s", link + strlen(base));
	CHECK_EQ_INT(strlen(file), strlen("2000000000-") + 32 + 4);
	CHECK_EQ_INT(hub_still_link_ok(key, "inc-1", file, 1.9e9), 1);
	CHECK_EQ_INT(hub_still_link_ok(key, "inc-2", file, 1.9e9), 0);
	CHECK_EQ_INT(hub_still_link_ok(other, "inc-1", file, 1.9e9), 0);
	CHECK_EQ_INT(hub_still_link_ok(key, "inc-1", file, 2.0e9 + 1), 0);
	file[20] ^= 1; /* one hex digit of the signature */
	CHECK_EQ_INT(hub_still_link_ok(key, "inc-1", file, 1.9e9), 0);
	file[20] ^= 1;
	file[0] = '3'; /* a later expiry than signed */
	CHECK_EQ_INT(hub_still_link_ok(key, "inc-1", file, 1.9e9), 0);
	{
		static const char *bad[] = { "",
					     "x.jpg",
					     "-1-00.jpg",
					     "2000000000-abc.jpg",
					     "2000000000.jpg",
					     NULL };
		for (int i = 0; bad[i]; i++)
			CHECK_MSG(!hub_still_link_ok(key, "inc-1", bad[i], 0),
				  "%s", bad[i]);
		CHECK(!hub_still_link_ok(key, "inc-1", NULL, 0));
	}
	unlink(path);
	snprintf(path, sizeof(path), "%s/.stills", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	test_topics();
	test_incidents();
	test_register_csv();
	test_chunks();
	test_heartbeats();
	test_camera_events();
	test_config();
	test_config_rules();
	test_config_store();
	test_config_settled();
	test_config_dump();
	test_edge_config_on_hub();
	test_still_links();
	TEST_DONE();
}
