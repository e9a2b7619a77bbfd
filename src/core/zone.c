/*
 * zone.c - time zone settings (see zone.h).
 */
#include "zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"

int fl_zone_fixed(const char *s, int *secs)
{
	int h, m;

	if (!s)
		return FL_EINVAL;
	if (!strcmp(s, "Z") || !strcmp(s, "UTC")) {
		*secs = 0;
		return FL_OK;
	}
	if (strlen(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' ||
	    s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' ||
	    s[4] < '0' || s[4] > '5' || s[5] < '0' || s[5] > '9')
		return FL_EINVAL;
	h = (s[1] - '0') * 10 + (s[2] - '0');
	m = (s[4] - '0') * 10 + (s[5] - '0');
	if (h > 14)
		return FL_EINVAL;
	*secs = (s[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
	return FL_OK;
}

int fl_zone_valid(const char *s)
{
	int secs;
	size_t n;

	if (!s)
		return 0;
	if (!*s || fl_zone_fixed(s, &secs) == FL_OK)
		return 1;
	if (s[0] == '+' || s[0] == '-')
		return 0; /* a malformed offset, not a name */
	n = strlen(s);
	if (n >= FL_ZONE_MAX || s[0] == '/' || s[0] == '.' || strstr(s, ".."))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '+' ||
		      c == '-' || c == '.' || c == '/'))
			return 0;
	}
	return 1;
}

void fl_zone_offset_text(int secs, char *buf, size_t len)
{
	int a = abs(secs);

	snprintf(buf, len, "%c%02d:%02d", secs < 0 ? '-' : '+', a / 3600,
		 a % 3600 / 60);
}

void fl_zone_posix(int secs, char *buf, size_t len)
{
	int a = abs(secs);

	/* the name in <> is what %Z prints; the offset counts west */
	snprintf(buf, len, "<%c%02d%02d>%c%02d:%02d", secs < 0 ? '-' : '+',
		 a / 3600, a % 3600 / 60, secs < 0 ? '+' : '-', a / 3600,
		 a % 3600 / 60);
}
