/*
 * alertmsg.c - what an alert says, per platform (see alertmsg.h).
 *
 * A note on the platforms (docs/hub.md, "Alerts", cites their pages). A
 * WeCom group robot's markdown shows no images, so the alert is its
 * "news" card: one article, title (at most 128 bytes), description (at
 * most 512), url (the incident's page) and picurl (the alarm still,
 * fetched by WeCom from the hub's public URL). Without a picture it is
 * markdown (at most 4096 bytes). A DingTalk group robot's markdown shows
 * images, so the alert is markdown with the picture as ![](url); its
 * title is what the conversation list shows. The generic webhook and the
 * MQTT alert are one JSON object with the machine's fields (ids, unix
 * times) and the person's (names, local time, the lines as text).
 *
 * The platforms cut long texts themselves, but not at a character
 * boundary; so the texts are cut here, at the last whole UTF-8 character
 * that fits (a site name may be 127 bytes of Chinese).
 */
#include "alertmsg.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"
#include "hubconf.h"
#include "tz.h"

/* ---- words ---------------------------------------------------------------- */

static const char *title_of(const char *kind, enum fl_lang l)
{
	static const char *const zh[] = { "消防通道被占用",
					  "消防通道已恢复畅通",
					  "消防通道占用未处理（已升级）" };
	static const char *const en[] = {
		"Fire lane blocked", "Fire lane clear again",
		"Fire lane still blocked (escalated)"
	};
	int i = !strcmp(kind, "alarm") ? 0 : !strcmp(kind, "cleared") ? 1 : 2;

	return l == FL_LANG_EN ? en[i] : zh[i];
}

void hub_alert_duration(double s, enum fl_lang l, char *buf, size_t len)
{
	long t = isnan(s) || s < 0 ? -1 : lround(s);
	long h = t / 3600, m = t % 3600 / 60, sec = t % 60;
	int en = l == FL_LANG_EN;

	if (t < 0)
		hub_fmt(buf, len, "%s", "");
	else if (h)
		hub_fmt(buf, len, en ? "%ld h %ld min" : "%ld小时%ld分", h, m);
	else if (m)
		hub_fmt(buf, len, en ? "%ld min %ld s" : "%ld分%ld秒", m, sec);
	else
		hub_fmt(buf, len, en ? "%ld s" : "%ld秒", sec);
}

/* One line people read: a label and its value. */
struct fact {
	const char *label;
	char value[320];
};

#define MAX_FACTS 8

/*
 * The lines of m, in order, into f: 0..MAX_FACTS. To add a line (a plate,
 * an owner): one more block here, with its two labels.
 */
static int facts(const hub_alert_msg *m, struct fact *f)
{
	int en = m->lang == FL_LANG_EN, n = 0;
	const char *site = m->site_name && m->site_name[0] ? m->site_name
							   : m->site;
	char when[40], dur[64];

	f[n].label = en ? "Site" : "小区";
	hub_fmt(f[n++].value, sizeof(f->value), "%s", site);
	f[n].label = en ? "Lane" : "通道";
	if (m->lane_name && m->lane_name[0])
		hub_fmt(f[n++].value, sizeof(f->value), "%s (%s/%s)",
			m->lane_name, m->camera, m->lane);
	else
		hub_fmt(f[n++].value, sizeof(f->value), "%s/%s", m->camera,
			m->lane);
	if (m->plate && m->plate[0]) {
		f[n].label = en ? "Plate" : "车牌";
		hub_fmt(f[n++].value, sizeof(f->value), "%s", m->plate);
	}
	fl_time_local(m->wall, when, sizeof(when));
	if (!strcmp(m->kind, "cleared"))
		f[n].label = en ? "Clear since" : "恢复时间";
	else
		f[n].label = en ? "Alarm at" : "报警时间";
	hub_fmt(f[n++].value, sizeof(f->value), "%s", when);
	if (m->since >= 0) {
		/* an escalation is made after its alarm: blocked until now */
		double to = !strcmp(m->kind, "escalated") && m->now > m->wall
				    ? m->now
				    : m->wall;

		hub_alert_duration(to - m->since, m->lang, dur, sizeof(dur));
		f[n].label = !strcmp(m->kind, "cleared")
				     ? (en ? "Was blocked for" : "占用时长")
				     : (en ? "Blocked for" : "已占用");
		hub_fmt(f[n++].value, sizeof(f->value), "%s", dur);
	}
	f[n].label = en ? "Device" : "设备";
	hub_fmt(f[n++].value, sizeof(f->value), "%s", m->device);
	f[n].label = en ? "Incident" : "事件编号";
	hub_fmt(f[n++].value, sizeof(f->value), "%s", m->iid);
	return n;
}

/* ---- texts ---------------------------------------------------------------- */

/* Cut s (NUL-terminated, in a buffer) to at most max bytes at a UTF-8
 * character boundary. */
static void utf8_cut(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--; /* s[n] continues a character: cut before its start */
	s[n] = 0;
}

/* Append to buf (len bytes, NUL-terminated) like printf; silently cut. */
static void add(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* "label：value" lines (zh full-width colon) joined by "\n", with a
 * prefix per line ("- " for markdown lists, "" for plain text). */
static void lines(const hub_alert_msg *m, const struct fact *f, int n,
		  const char *prefix, char *buf, size_t len)
{
	const char *colon = m->lang == FL_LANG_EN ? ": " : "：";

	buf[0] = 0;
	for (int i = 0; i < n; i++)
		add(buf, len, "%s%s%s%s%s", i ? "\n" : "", prefix, f[i].label,
		    colon, f[i].value);
}

/* The picture's and the page's link lines of a markdown text. */
static void md_links(const hub_alert_msg *m, char *buf, size_t len)
{
	int en = m->lang == FL_LANG_EN;

	if (m->picture && m->picture[0])
		add(buf, len, "\n\n![%s](%s)", en ? "picture" : "现场照片",
		    m->picture);
	add(buf, len, "\n\n[%s](%s)", en ? "Open the incident" : "查看事件",
	    m->url);
}

static json_t *wecom(const hub_alert_msg *m, const struct fact *f, int n)
{
	char title[512], desc[2048], md[HUB_WECOM_MD_MAX * 2];
	const char *site = m->site_name && m->site_name[0] ? m->site_name
							   : m->site;

	if (!m->picture || !m->picture[0]) {
		hub_fmt(md, sizeof(md), "### %s\n", title_of(m->kind, m->lang));
		lines(m, f, n, "> ", md + strlen(md), sizeof(md) - strlen(md));
		md_links(m, md, sizeof(md));
		utf8_cut(md, HUB_WECOM_MD_MAX);
		return json_pack("{s:s,s:{s:s}}", "msgtype", "markdown",
				 "markdown", "content", md);
	}
	hub_fmt(title, sizeof(title), "%s%s%s", title_of(m->kind, m->lang),
		m->lang == FL_LANG_EN ? ": " : "：", site);
	utf8_cut(title, HUB_WECOM_TITLE_MAX);
	/* the site is in the title: the card's description starts with the
	 * lane */
	lines(m, f + 1, n - 1, "", desc, sizeof(desc));
	utf8_cut(desc, HUB_WECOM_DESC_MAX);
	return json_pack("{s:s,s:{s:[{s:s,s:s,s:s,s:s}]}}", "msgtype", "news",
			 "news", "articles", "title", title, "description",
			 desc, "url", m->url, "picurl", m->picture);
}

static json_t *dingtalk(const hub_alert_msg *m, const struct fact *f, int n)
{
	char title[512], md[8192];
	const char *site = m->site_name && m->site_name[0] ? m->site_name
							   : m->site;

	hub_fmt(title, sizeof(title), "%s %s", title_of(m->kind, m->lang),
		site);
	hub_fmt(md, sizeof(md), "### %s\n\n", title_of(m->kind, m->lang));
	lines(m, f, n, "- ", md + strlen(md), sizeof(md) - strlen(md));
	md_links(m, md, sizeof(md));
	return json_pack("{s:s,s:{s:s,s:s}}", "msgtype", "markdown", "markdown",
			 "title", title, "text", md);
}

static json_t *generic(const hub_alert_msg *m, const struct fact *f, int n)
{
	char when[40], text[4096];
	json_t *j;

	fl_time_local(m->wall, when, sizeof(when));
	lines(m, f, n, "", text, sizeof(text));
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:f,s:s,s:s,s:s,s:s,s:s}",
		      "type", m->kind, "site", m->site, "device", m->device,
		      "camera", m->camera, "lane", m->lane, "incident_id",
		      m->iid, "unix_time", m->wall, "time", when, "lang",
		      fl_lang_tag(m->lang), "title", title_of(m->kind, m->lang),
		      "text", text, "url", m->url);
	if (!j)
		return NULL;
	json_object_set_new(j, "site_name",
			    m->site_name && m->site_name[0]
				    ? json_string(m->site_name)
				    : json_null());
	json_object_set_new(j, "lane_name",
			    m->lane_name && m->lane_name[0]
				    ? json_string(m->lane_name)
				    : json_null());
	json_object_set_new(j, "plate",
			    m->plate && m->plate[0] ? json_string(m->plate)
						    : json_null());
	json_object_set_new(j, "blocked_since",
			    m->since >= 0 ? json_real(m->since) : json_null());
	json_object_set_new(j, "picture",
			    m->picture && m->picture[0]
				    ? json_string(m->picture)
				    : json_null());
	return j;
}

char *hub_alert_body(const hub_alert_msg *m, int format)
{
	struct fact f[MAX_FACTS];
	int n = facts(m, f);
	json_t *j;
	char *s;

	switch (format) {
	case HUB_HOOK_WECOM:
		j = wecom(m, f, n);
		break;
	case HUB_HOOK_DINGTALK:
		j = dingtalk(m, f, n);
		break;
	default:
		j = generic(m, f, n);
	}
	if (!j)
		return NULL;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}
