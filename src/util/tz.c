/*
 * tz.c - the process's local time zone (see tz.h).
 */
#include "tz.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fl.h"
#include "zone.h"

static const char *zoneinfo(void)
{
	const char *d = getenv("TZDIR");

	return d && *d ? d : "/usr/share/zoneinfo";
}

/* 1 when dir/name is a tz database file (it starts with "TZif"). */
static int zone_file(const char *name, char *path, size_t len)
{
	char magic[4];
	int fd, ok;

	snprintf(path, len, "%s/%s", zoneinfo(), name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ok = read(fd, magic, 4) == 4 && !memcmp(magic, "TZif", 4);
	close(fd);
	return ok;
}

int fl_tz_check(const char *zone, char *err, size_t errlen)
{
	char path[1200];
	int secs;

	if (!fl_zone_valid(zone)) {
		fl_seterr(err, errlen,
			  "'%s' is not a time zone (a name such as "
			  "Asia/Shanghai, an offset such as +08:00, or \"\")",
			  zone ? zone : "(null)");
		return FL_EINVAL;
	}
	if (*zone && fl_zone_fixed(zone, &secs) != FL_OK &&
	    !zone_file(zone, path, sizeof(path))) {
		fl_seterr(err, errlen, "no time zone '%s' on this machine (%s)",
			  zone, path);
		return FL_ENOENT;
	}
	return FL_OK;
}

int fl_tz_set(const char *zone, char *err, size_t errlen)
{
	char posix[32];
	int secs, rc = fl_tz_check(zone, err, errlen);

	if (rc || !*zone)
		return rc; /* "": the machine's */
	if (fl_zone_fixed(zone, &secs) == FL_OK) {
		fl_zone_posix(secs, posix, sizeof(posix));
		zone = posix;
	}
	setenv("TZ", zone, 1);
	tzset();
	return FL_OK;
}

/* name into buf when it names a zone file; 1 then. */
static int take(const char *name, char *buf, size_t len)
{
	char path[1200];

	if (*name == ':')
		name++;
	if (!*name || name[0] == '<' || !fl_zone_valid(name) ||
	    fl_zone_fixed(name, &(int){ 0 }) == FL_OK ||
	    !zone_file(name, path, sizeof(path)) || strlen(name) >= len)
		return 0;
	snprintf(buf, len, "%s", name);
	return 1;
}

void fl_tz_name(char *buf, size_t len)
{
	const char *env = getenv("TZ");
	char line[256], link[1200];
	const char *p;
	FILE *f;
	ssize_t n;

	buf[0] = 0;
	if (env) {
		take(env, buf, len);
		return; /* a TZ that names no file is a fixed rule */
	}
	f = fopen("/etc/timezone", "re");
	if (f) {
		if (fgets(line, sizeof(line), f)) {
			line[strcspn(line, " \t\r\n")] = 0;
			if (take(line, buf, len)) {
				fclose(f);
				return;
			}
		}
		fclose(f);
	}
	n = readlink("/etc/localtime", link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = 0;
		p = strstr(link, "zoneinfo/");
		if (p && take(p + 9, buf, len))
			return;
	}
	if (access("/etc/localtime", F_OK) != 0)
		snprintf(buf, len, "UTC"); /* the C library's default */
}

int fl_tz_offset_at(double wall)
{
	time_t t = (time_t)floor(wall);
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return 0;
	return (int)tm.tm_gmtoff;
}

size_t fl_time_local(double wall, char *buf, size_t len)
{
	time_t t = (time_t)floor(wall);
	struct tm tm;
	char day[32], off[16];
	int n;

	if (!len)
		return 0;
	buf[0] = 0;
	if (!localtime_r(&t, &tm) ||
	    !strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm))
		return 0;
	fl_zone_offset_text((int)tm.tm_gmtoff, off, sizeof(off));
	n = snprintf(buf, len, "%s %s", day, off);
	return (size_t)n < len ? (size_t)n : len - 1;
}
