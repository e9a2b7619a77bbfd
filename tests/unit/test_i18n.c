/*
 * test_i18n.c - what people read: time zone settings (src/core/zone.h)
 * and the process's zone (src/util/tz.h) against the machine's tz
 * database, local time with its offset (winter and summer in a zone with
 * daylight saving), the languages' tags (src/core/lang.h) and the choice of
 * a language from a browser's Accept-Language and cookie
 * (src/hub/httpparse.h). Table-driven.
 */
#include "fl.h"
#include "httpparse.h"
#include "lang.h"
#include "test.h"
#include "tz.h"
#include "zone.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_zone_valid(void)
{
	static const struct {
		const char *s;
		int ok;
	} cases[] = {
		{ "", 1 },
		{ "UTC", 1 },
		{ "Z", 1 },
		{ "+08:00", 1 },
		{ "-05:30", 1 },
		{ "+14:00", 1 },
		{ "Asia/Shanghai", 1 },
		{ "America/Argentina/Buenos_Aires", 1 },
		{ "Etc/GMT-8", 1 },
		{ "+15:00", 0 }, /* no such offset */
		{ "+8:00", 0 },  /* two digits */
		{ "+08:60", 0 }, /* minutes */
		{ "08:00", 0 },  /* neither an offset nor a name */
		{ "/etc/passwd", 0 },
		{ "../etc/x", 0 },
		{ "Asia/../../etc", 0 },
		{ ".hidden", 0 },
		{ "Asia/Shang hai", 0 },
		{ "亚洲/上海", 0 },
		{ "Asia/Shanghai\n", 0 },
	};

	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++)
		CHECK_MSG(fl_zone_valid(cases[i].s) == cases[i].ok,
			  "fl_zone_valid(\"%s\") is not %d", cases[i].s,
			  cases[i].ok);
	CHECK_EQ_INT(fl_zone_valid(NULL), 0);
}

static void test_zone_fixed(void)
{
	static const struct {
		const char *s;
		int rc, secs;
		const char *posix, *text;
	} cases[] = {
		{ "+08:00", FL_OK, 28800, "<+0800>-08:00", "+08:00" },
		{ "-05:30", FL_OK, -19800, "<-0530>+05:30", "-05:30" },
		{ "Z", FL_OK, 0, "<+0000>-00:00", "+00:00" },
		{ "UTC", FL_OK, 0, "<+0000>-00:00", "+00:00" },
		{ "Asia/Shanghai", FL_EINVAL, 0, NULL, NULL },
		{ "", FL_EINVAL, 0, NULL, NULL },
	};
	char buf[32];

	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		int secs = -1;

		CHECK_EQ_INT(fl_zone_fixed(cases[i].s, &secs), cases[i].rc);
		if (cases[i].rc)
			continue;
		CHECK_EQ_INT(secs, cases[i].secs);
		fl_zone_posix(secs, buf, sizeof(buf));
		CHECK_STREQ(buf, cases[i].posix);
		fl_zone_offset_text(secs, buf, sizeof(buf));
		CHECK_STREQ(buf, cases[i].text);
	}
}

/* The same instants in several zones: winter and summer. */
static void test_local_time(void)
{
	/* 2026-12-06 11:39:47Z and 2026-07-01 12:00:00Z */
	const double winter = 1796557187, summer = 1782907200;
	static const struct {
		const char *zone;
		const char *winter, *summer;
	} cases[] = {
		{ "+08:00", "2026-12-06 19:39:47 +08:00",
		  "2026-07-01 20:00:00 +08:00" },
		{ "-05:30", "2026-12-06 06:09:47 -05:30",
		  "2026-07-01 06:30:00 -05:30" },
		{ "UTC", "2026-12-06 11:39:47 +00:00",
		  "2026-07-01 12:00:00 +00:00" },
		{ "Asia/Shanghai", "2026-12-06 19:39:47 +08:00",
		  "2026-07-01 20:00:00 +08:00" },
		/* daylight saving: the offset follows the date */
		{ "Europe/Berlin", "2026-12-06 12:39:47 +01:00",
		  "2026-07-01 14:00:00 +02:00" },
	};
	char buf[40], err[256], name[64];

	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) &&
		    strchr(cases[i].zone, '/')) {
			printf("SKIP %s: no tz database (tzdata)\n",
			       cases[i].zone);
			continue;
		}
		if (!CHECK_EQ_INT(fl_tz_set(cases[i].zone, err, sizeof(err)),
				  FL_OK))
			continue;
		CHECK_EQ_INT(fl_time_local(winter, buf, sizeof(buf)), 26);
		CHECK_STREQ(buf, cases[i].winter);
		fl_time_local(summer, buf, sizeof(buf));
		CHECK_STREQ(buf, cases[i].summer);
		fl_tz_name(name, sizeof(name));
		/* a name for the browser only where the zone has one */
		CHECK_STREQ(name,
			    strchr(cases[i].zone, '/') ? cases[i].zone : "");
	}
	CHECK_EQ_INT(fl_tz_offset_at(summer), 7200); /* Berlin, last */
	/* a zone that is not on the machine, or malformed: refused with
	 * the reason, and the process's zone unchanged */
	CHECK_EQ_INT(fl_tz_set("Asia/Shangai", err, sizeof(err)), FL_ENOENT);
	CHECK_MSG(strstr(err, "Asia/Shangai") != NULL, "err: %s", err);
	CHECK_EQ_INT(fl_tz_check("../etc/passwd", err, sizeof(err)), FL_EINVAL);
	CHECK_EQ_INT(fl_tz_offset_at(summer), 7200);
	CHECK_EQ_INT(fl_tz_check("", err, sizeof(err)), FL_OK);
	CHECK_EQ_INT(fl_tz_check("+08:00", err, sizeof(err)), FL_OK);
	fl_time_local(winter, buf, 10); /* cut short: still terminated */
	CHECK_EQ_INT((long long)strlen(buf), 9);
}

static void test_lang(void)
{
	CHECK_EQ_INT(fl_lang_of("zh-CN"), FL_LANG_ZH);
	CHECK_EQ_INT(fl_lang_of("en"), FL_LANG_EN);
	CHECK_EQ_INT(fl_lang_of("zh"), FL_EINVAL);
	CHECK_EQ_INT(fl_lang_of("EN"), FL_EINVAL);
	CHECK_EQ_INT(fl_lang_of(NULL), FL_EINVAL);
	CHECK_STREQ(fl_lang_tag(FL_LANG_ZH), "zh-CN");
	CHECK_STREQ(fl_lang_tag(FL_LANG_EN), "en");
}

/* The web UI's language from the switch's cookie and Accept-Language. */
static void test_lang_pick(void)
{
	static const struct {
		const char *cookie, *accept;
		int fallback, want;
	} cases[] = {
		{ NULL, NULL, FL_LANG_ZH, FL_LANG_ZH },
		{ NULL, NULL, FL_LANG_EN, FL_LANG_EN },
		{ NULL, "zh-CN,zh;q=0.9", FL_LANG_EN, FL_LANG_ZH },
		{ NULL, "en-US,en;q=0.9", FL_LANG_ZH, FL_LANG_EN },
		/* Chinese first whenever it is accepted at all */
		{ NULL, "en-US,en;q=0.9,zh;q=0.1", FL_LANG_EN, FL_LANG_ZH },
		{ NULL, "zh-TW", FL_LANG_EN, FL_LANG_ZH },
		{ NULL, "ZH-hans-cn", FL_LANG_EN, FL_LANG_ZH },
		/* q=0: not acceptable */
		{ NULL, "zh;q=0, en", FL_LANG_ZH, FL_LANG_EN },
		{ NULL, "zh;q=0.000,en;q=0.5", FL_LANG_ZH, FL_LANG_EN },
		{ NULL, "zh ; q=0.001", FL_LANG_EN, FL_LANG_ZH },
		{ NULL, "de-DE,fr;q=0.8", FL_LANG_EN, FL_LANG_EN },
		{ NULL, "de-DE,fr;q=0.8", FL_LANG_ZH, FL_LANG_ZH },
		{ NULL, "*", FL_LANG_EN, FL_LANG_EN },
		{ NULL, "zhx, enq", FL_LANG_EN, FL_LANG_EN }, /* not zh or en */
		{ NULL, "zh;q=x, zh;q=, zh;x=1", FL_LANG_EN, FL_LANG_EN },
		{ NULL, ",,, ,en", FL_LANG_ZH, FL_LANG_EN },
		/* the switch wins over the browser */
		{ "en", "zh-CN", FL_LANG_ZH, FL_LANG_EN },
		{ "zh-CN", "en", FL_LANG_EN, FL_LANG_ZH },
		{ "fr", "en", FL_LANG_ZH, FL_LANG_EN }, /* not ours: ignored */
	};

	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++)
		CHECK_MSG(hub_lang_pick(cases[i].cookie, cases[i].accept,
					cases[i].fallback) == cases[i].want,
			  "cookie %s, Accept-Language \"%s\": not %s",
			  cases[i].cookie ? cases[i].cookie : "-",
			  cases[i].accept ? cases[i].accept : "-",
			  fl_lang_tag(cases[i].want));
}

int main(void)
{
	test_zone_valid();
	test_zone_fixed();
	test_local_time();
	test_lang();
	test_lang_pick();
	TEST_DONE();
}
