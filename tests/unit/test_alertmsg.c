/*
 * test_alertmsg.c - what the alerts say (src/hub/alertmsg.c), per
 * platform and language: WeCom's news card (title, description, url,
 * picurl within the robot's byte limits, cut at a character boundary) and
 * its markdown without a picture, DingTalk's markdown with the picture as
 * an image, the generic JSON; the site's and the lane's names, local time
 * with its offset in the process's zone, how long blocked (an escalation's
 * counted to when it is made), durations in both languages.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "alertmsg.h"
#include "fl.h"
#include "hubconf.h"
#include "test.h"
#include "tz.h"

#define WALL 1765021187.0 /* 2025-12-06 11:39:47 UTC */
#define PIC                                                                    \
	"https://hub.example/pictures/i-1/1765900000-0123456789abcdef0123456789abcdef.jpg"
#define PAGE "https://hub.example/incidents/i-1"
#define OR(s) ((s) ? (s) : "(null)")

static hub_alert_msg base(void)
{
	hub_alert_msg m = {
		.kind = "alarm",
		.site = "east-park",
		.site_name = "城东小区 3 号楼",
		.device = "edge-01",
		.camera = "cam-1",
		.lane = "lane-b",
		.lane_name = "消防通道 B",
		.iid = "i-1",
		.wall = WALL,
		.now = WALL + 1,
		.since = WALL - 125,
		.picture = PIC,
		.url = PAGE,
		.lang = FL_LANG_ZH,
	};
	return m;
}

static json_t *body(const hub_alert_msg *m, int format)
{
	char *s = hub_alert_body(m, format);
	json_t *j = s ? json_loads(s, 0, NULL) : NULL;

	CHECK_MSG(j != NULL, "format %d: %s", format, s ? s : "NULL");
	free(s);
	return j;
}

static const char *str(json_t *j, const char *path)
{
	char key[64];
	const char *dot;

	/* "a.b.c": objects by key, an array by its first element */
	while ((dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		j = json_object_get(j, key);
		if (json_is_array(j))
			j = json_array_get(j, 0);
		path = dot + 1;
	}
	return json_string_value(json_object_get(j, path));
}

/* 1 when s is whole UTF-8 (no cut character at its end). */
static int utf8_whole(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = *p < 0x80 ? 1 : *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : 2;

		for (int i = 1; i < n; i++)
			if ((p[i] & 0xC0) != 0x80)
				return 0;
		p += n;
	}
	return 1;
}

static void test_wecom(void)
{
	hub_alert_msg m = base();
	json_t *j = body(&m, HUB_HOOK_WECOM);
	const char *d = str(j, "news.articles.description");

	CHECK_STREQ(str(j, "msgtype"), "news");
	CHECK_EQ_INT(json_array_size(json_object_get(json_object_get(j, "news"),
						     "articles")),
		     1);
	CHECK_STREQ(str(j, "news.articles.title"),
		    "消防通道被占用：城东小区 3 号楼");
	CHECK_STREQ(str(j, "news.articles.url"), PAGE);
	CHECK_STREQ(str(j, "news.articles.picurl"), PIC);
	CHECK_MSG(d && strstr(d, "通道：消防通道 B (cam-1/lane-b)\n"), "%s",
		  OR(d));
	CHECK_MSG(d && strstr(d, "报警时间：2025-12-06 19:39:47 +08:00\n"),
		  "%s", OR(d));
	CHECK_MSG(d && strstr(d, "已占用：2分5秒\n"), "%s", OR(d));
	CHECK_MSG(d && strstr(d, "设备：edge-01\n事件编号：i-1"), "%s", OR(d));
	json_decref(j);

	/* no picture: markdown, which WeCom shows without images */
	m.picture = "";
	m.kind = "cleared";
	m.wall = WALL + 600;
	j = body(&m, HUB_HOOK_WECOM);
	d = str(j, "markdown.content");
	CHECK_STREQ(str(j, "msgtype"), "markdown");
	CHECK_MSG(d && !strncmp(d, "### 消防通道已恢复畅通\n> 小区：城东小区",
				48),
		  "%s", OR(d));
	CHECK_MSG(d && strstr(d, "> 恢复时间：2025-12-06 19:49:47 +08:00"),
		  "%s", OR(d));
	CHECK_MSG(d && strstr(d, "> 占用时长：12分5秒"), "%s", OR(d));
	CHECK_MSG(d && strstr(d, "[查看事件](" PAGE ")") && !strstr(d, "!["),
		  "%s", OR(d));
	json_decref(j);
}

/* The robot's byte limits, cut at a character boundary: names of 127
 * bytes of Chinese (42 characters and one byte). */
static void test_wecom_limits(void)
{
	char site[128], lane[128];
	hub_alert_msg m = base();
	json_t *j;
	const char *t, *d;

	for (int i = 0; i < 42; i++) {
		memcpy(site + 3 * i, "区", 3);
		memcpy(lane + 3 * i, "道", 3);
	}
	site[126] = lane[126] = 'x';
	site[127] = lane[127] = 0;
	m.site_name = site;
	m.lane_name = lane;
	j = body(&m, HUB_HOOK_WECOM);
	t = str(j, "news.articles.title");
	d = str(j, "news.articles.description");
	CHECK(t && d);
	CHECK_MSG(t && strlen(t) <= HUB_WECOM_TITLE_MAX && strlen(t) > 120 &&
			  utf8_whole(t),
		  "%zu bytes", t ? strlen(t) : 0);
	CHECK_MSG(d && strlen(d) <= HUB_WECOM_DESC_MAX && utf8_whole(d),
		  "%zu bytes", d ? strlen(d) : 0);
	json_decref(j);
}

static void test_dingtalk(void)
{
	hub_alert_msg m = base();
	json_t *j = body(&m, HUB_HOOK_DINGTALK);
	const char *t = str(j, "markdown.text");

	CHECK_STREQ(str(j, "msgtype"), "markdown");
	CHECK_STREQ(str(j, "markdown.title"), "消防通道被占用 城东小区 3 号楼");
	CHECK_MSG(
		t && !strncmp(t,
			      "### 消防通道被占用\n\n- 小区：城东小区 3 号楼\n",
			      strlen("### 消防通道被占用\n\n- 小区：城东小区 "
				     "3 号楼\n")),
		"%s", OR(t));
	CHECK_MSG(t && strstr(t, "- 报警时间：2025-12-06 19:39:47 +08:00"),
		  "%s", OR(t));
	CHECK_MSG(t && strstr(t, "![现场照片](" PIC ")"), "%s", OR(t));
	CHECK_MSG(t && strstr(t, "[查看事件](" PAGE ")"), "%s", OR(t));
	json_decref(j);
}

static void test_generic_and_english(void)
{
	hub_alert_msg m = base();
	json_t *j;
	const char *t;

	m.lang = FL_LANG_EN;
	m.kind = "escalated";
	m.now = WALL + 3600; /* made an hour after its alarm */
	j = body(&m, HUB_HOOK_GENERIC);
	t = str(j, "text");
	CHECK_STREQ(str(j, "type"), "escalated");
	CHECK_STREQ(str(j, "lang"), "en");
	CHECK_STREQ(str(j, "title"), "Fire lane still blocked (escalated)");
	CHECK_STREQ(str(j, "time"), "2025-12-06 19:39:47 +08:00");
	CHECK_STREQ(str(j, "site_name"), "城东小区 3 号楼");
	CHECK_STREQ(str(j, "picture"), PIC);
	CHECK(json_real_value(json_object_get(j, "blocked_since")) ==
	      WALL - 125);
	CHECK_MSG(t && strstr(t, "Alarm at: 2025-12-06 19:39:47 +08:00\n"),
		  "%s", OR(t));
	CHECK_MSG(t && strstr(t, "Blocked for: 1 h 2 min\n"), "%s", OR(t));
	json_decref(j);

	/* nothing known beyond the ids: nulls, the ids as names */
	m = base();
	m.site_name = "";
	m.lane_name = NULL;
	m.since = -1;
	m.picture = "";
	j = body(&m, HUB_HOOK_GENERIC);
	t = str(j, "text");
	CHECK(json_is_null(json_object_get(j, "site_name")));
	CHECK(json_is_null(json_object_get(j, "lane_name")));
	CHECK(json_is_null(json_object_get(j, "blocked_since")));
	CHECK(json_is_null(json_object_get(j, "picture")));
	CHECK_MSG(t && strstr(t, "小区：east-park\n通道：cam-1/lane-b\n") &&
			  !strstr(t, "已占用"),
		  "%s", OR(t));
	json_decref(j);
}

/* A plate read is one line of every text, after the lane, and a field of
 * the generic body; none without one. */
static void test_plate(void)
{
	hub_alert_msg m = base();
	json_t *j;
	const char *t;

	m.plate = "粤B12345";
	j = body(&m, HUB_HOOK_DINGTALK);
	t = str(j, "markdown.text");
	CHECK_MSG(t && strstr(t, "- 通道：消防通道 B (cam-1/lane-b)\n- "
				 "车牌：粤B12345\n"),
		  "%s", OR(t));
	json_decref(j);
	j = body(&m, HUB_HOOK_WECOM);
	t = str(j, "news.articles.description");
	CHECK_MSG(t && strstr(t, "车牌：粤B12345"), "%s", OR(t));
	json_decref(j);
	m.lang = FL_LANG_EN;
	j = body(&m, HUB_HOOK_GENERIC);
	CHECK_STREQ(str(j, "plate"), "粤B12345");
	t = str(j, "text");
	CHECK_MSG(t && strstr(t, "Plate: 粤B12345\n"), "%s", OR(t));
	json_decref(j);

	m = base(); /* unread */
	j = body(&m, HUB_HOOK_GENERIC);
	CHECK(json_is_null(json_object_get(j, "plate")));
	t = str(j, "text");
	CHECK_MSG(t && !strstr(t, "车牌"), "%s", OR(t));
	json_decref(j);
}

static void test_durations(void)
{
	static const struct {
		double s;
		const char *zh, *en;
	} cases[] = {
		{ 0, "0秒", "0 s" },
		{ 59.4, "59秒", "59 s" },
		{ 125, "2分5秒", "2 min 5 s" },
		{ 3600, "1小时0分", "1 h 0 min" },
		{ 90061, "25小时1分", "25 h 1 min" },
		{ -1, "", "" },
	};
	char buf[64];

	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		hub_alert_duration(cases[i].s, FL_LANG_ZH, buf, sizeof(buf));
		CHECK_STREQ(buf, cases[i].zh);
		hub_alert_duration(cases[i].s, FL_LANG_EN, buf, sizeof(buf));
		CHECK_STREQ(buf, cases[i].en);
	}
}

int main(void)
{
	char err[256];

	CHECK_MSG(fl_tz_set("+08:00", err, sizeof(err)) == 0, "%s", err);
	test_wecom();
	test_wecom_limits();
	test_plate();
	test_dingtalk();
	test_generic_and_english();
	test_durations();
	TEST_DONE();
}
