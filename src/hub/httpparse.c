/*
 * httpparse.c - small parsers of the web side (see httpparse.h).
 *
 * A note on dates. The hub keeps unix seconds; people ask for days. A day
 * "2026-03-01" means midnight to midnight in the hub's configured
 * timezone, a fixed offset from UTC (no daylight saving rules: the
 * deployments this is for do not have them, and a fixed offset cannot be
 * misread). The calendar arithmetic is Howard Hinnant's days_from_civil,
 * exact for the proleptic Gregorian calendar, so week and month boundaries
 * need no libc time zone state (timegm/localtime are not thread-safe to
 * switch zones with).
 */
#include "httpparse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "fl.h"
#include "id.h"
#include "lang.h"

/* Digits at *p into *v (at most 18 of them); advances *p. 0 or -1. */
static int digits(const char **p, long long *v)
{
	int n = 0;

	*v = 0;
	while (isdigit((unsigned char)**p)) {
		if (++n > 18)
			return -1;
		*v = *v * 10 + (**p - '0');
		(*p)++;
	}
	return n ? 0 : -1;
}

int hub_range_parse(const char *h, long long size, long long *first,
		    long long *last)
{
	const char *p = h;
	long long a, b;

	if (!h)
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "bytes=", 6) || strchr(p, ','))
		return 0;
	p += 6;
	while (*p == ' ')
		p++;
	if (*p == '-') { /* the last n bytes */
		p++;
		if (digits(&p, &b) || (*p && *p != ' '))
			return 0;
		if (b == 0 || size <= 0)
			return -1;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return 1;
	}
	if (digits(&p, &a) || *p != '-')
		return 0;
	p++;
	if (!*p || *p == ' ') {
		b = -1;
	} else {
		if (digits(&p, &b) || (*p && *p != ' ') || b < a)
			return 0;
	}
	if (a >= size)
		return -1;
	*first = a;
	*last = b < 0 || b >= size ? size - 1 : b;
	return 1;
}

long long hub_days_from_civil(int y, int m, int d)
{
	long long yy = y - (m <= 2);
	long long era = (yy >= 0 ? yy : yy - 399) / 400;
	long long yoe = yy - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void hub_civil_from_days(long long z, int *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int month_days(int y, int m)
{
	static const int n[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 ? 28 + leap : n[m - 1];
}

int hub_date_parse(const char *s, int tz_offset_s, double *wall, int *is_date)
{
	char *end;
	double v;

	if (!s || !*s)
		return FL_EINVAL;
	if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
		int y = 0, m = 0, d = 0;

		for (int i = 0; i < 10; i++) {
			if (i == 4 || i == 7)
				continue;
			if (!isdigit((unsigned char)s[i]))
				return FL_EINVAL;
		}
		y = atoi(s);
		m = (s[5] - '0') * 10 + (s[6] - '0');
		d = (s[8] - '0') * 10 + (s[9] - '0');
		if (y < 1970 || m < 1 || m > 12 || d < 1 ||
		    d > month_days(y, m))
			return FL_EINVAL;
		*wall = (double)hub_days_from_civil(y, m, d) * 86400.0 -
			tz_offset_s;
		if (is_date)
			*is_date = 1;
		return FL_OK;
	}
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			return FL_EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (*end || errno || !isfinite(v) || v < 0 || v > 1e11)
		return FL_EINVAL;
	*wall = v;
	if (is_date)
		*is_date = 0;
	return FL_OK;
}

int hub_period(const char *period, double wall, int tz_offset_s, double *from,
	       double *to)
{
	long long day = (long long)floor((wall + tz_offset_s) / 86400.0);
	long long a, b;
	int y, m, d;

	if (!period || !strcmp(period, "day")) {
		a = day;
		b = day + 1;
	} else if (!strcmp(period, "week")) {
		/* 1970-01-01 was a Thursday: Monday-based weekday (day + 3) % 7 */
		long long wd = ((day + 3) % 7 + 7) % 7;

		a = day - wd;
		b = a + 7;
	} else if (!strcmp(period, "month")) {
		hub_civil_from_days(day, &y, &m, &d);
		a = hub_days_from_civil(y, m, 1);
		b = m == 12 ? hub_days_from_civil(y + 1, 1, 1)
			    : hub_days_from_civil(y, m + 1, 1);
	} else {
		return FL_EINVAL;
	}
	*from = (double)a * 86400.0 - tz_offset_s;
	*to = (double)b * 86400.0 - tz_offset_s;
	return FL_OK;
}

int hub_plain_name(const char *s)
{
	return fl_id_valid(s, HUB_PLAIN_MAX) && s[0] != '.';
}

int hub_query_int(const char *s, int min, int max, int *out)
{
	const char *p = s;
	long long v;

	if (!s || !*s)
		return FL_OK;
	if (digits(&p, &v) || *p || v < min || v > max)
		return FL_EINVAL;
	*out = (int)v;
	return FL_OK;
}

/*
 * A note on formula injection. A spreadsheet opening the CSV takes a cell
 * that begins with '=', '+', '-' or '@' (and, in some, a tab or a CR
 * before one of them) for a formula: a site or a note chosen by someone
 * else could run one on the reviewer's machine (OWASP, "CSV Injection").
 * Such a field is written with a leading apostrophe, which makes it text,
 * and quoted; the apostrophe is visible, which is the price of the rule.
 * Every CSV the hub writes goes through this one function, so a number
 * never begins with '-' where it matters (counts and times are >= 0).
 */
static int csv_formula(const char *f)
{
	return *f && strchr("=+-@\t\r", *f);
}

int hub_csv_field(char *buf, size_t cap, size_t *len, const char *f)
{
	int formula = csv_formula(f);
	int quote = formula || f[strcspn(f, ",\"\r\n")] != 0;
	size_t need = strlen(f) + (quote ? 2 : 0) + (formula ? 1 : 0);

	for (const char *p = f; quote && *p; p++)
		need += *p == '"';
	if (*len + need + 1 > cap)
		return FL_EFULL;
	if (quote)
		buf[(*len)++] = '"';
	if (formula)
		buf[(*len)++] = '\'';
	for (const char *p = f; *p; p++) {
		if (*p == '"')
			buf[(*len)++] = '"';
		buf[(*len)++] = *p;
	}
	if (quote)
		buf[(*len)++] = '"';
	buf[*len] = 0;
	return FL_OK;
}

void hub_fields_free(char **out, int n)
{
	for (int i = 0; i < n; i++) {
		free(out[i]);
		out[i] = NULL;
	}
}

/* An array of strings joined with ','; NULL for anything else. */
static char *join_strings(json_t *a)
{
	size_t i, cap = 1;
	json_t *v;
	char *s;

	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			return NULL;
		cap += json_string_length(v) + 1;
	}
	s = calloc(1, cap);
	if (!s)
		return NULL;
	json_array_foreach(a, i, v)
	{
		if (i)
			strcat(s, ",");
		strcat(s, json_string_value(v));
	}
	return s;
}

int hub_json_fields(const char *body, size_t len, const char *const *names,
		    int n, char **out)
{
	json_error_t e;
	json_t *o;
	int rc = FL_OK;

	for (int i = 0; i < n; i++)
		out[i] = NULL;
	if (!body || len > 65536)
		return FL_EINVAL;
	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return FL_EINVAL;
	}
	for (int i = 0; i < n && !rc; i++) {
		json_t *v = json_object_get(o, names[i]);

		if (!v || json_is_null(v))
			continue;
		if (json_is_string(v)) {
			/* an embedded NUL would cut the value short */
			if (strlen(json_string_value(v)) !=
			    json_string_length(v))
				rc = FL_EINVAL;
			else
				out[i] = strdup(json_string_value(v));
		} else if (json_is_array(v) && !strcmp(names[i], "sites")) {
			out[i] = join_strings(v);
			if (!out[i])
				rc = FL_EINVAL;
		} else {
			rc = FL_EINVAL;
		}
		if (!rc && !out[i])
			rc = FL_EINVAL;
	}
	json_decref(o);
	if (rc)
		hub_fields_free(out, n);
	return rc;
}

/* ---- login CSRF ------------------------------------------------------------ */

int hub_ctype_json(const char *ct)
{
	static const char json[] = "application/json";

	if (!ct)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, json, sizeof(json) - 1))
		return 0;
	ct += sizeof(json) - 1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return !*ct || *ct == ';';
}

/* s's "scheme://authority" (up to a '/', '?' or '#'): 0 and the lengths
 * of both, or -1 when it is not an http(s) URL with an authority. */
static int url_origin(const char *s, size_t *origin_len, const char **auth,
		      size_t *auth_len)
{
	size_t skip;

	if (!strncasecmp(s, "http://", 7))
		skip = 7;
	else if (!strncasecmp(s, "https://", 8))
		skip = 8;
	else
		return -1;
	*auth = s + skip;
	*auth_len = strcspn(*auth, "/?#");
	if (!*auth_len)
		return -1;
	for (size_t i = 0; i < *auth_len; i++)
		if ((unsigned char)(*auth)[i] <= ' ' || (*auth)[i] == '@' ||
		    (*auth)[i] == '\\')
			return -1; /* no user info, blanks or controls */
	*origin_len = skip + *auth_len;
	return 0;
}

int hub_same_origin(const char *src, const char *host, const char *public_url)
{
	const char *auth, *pauth;
	size_t olen, alen, polen, palen;

	if (!src)
		return 1;
	if (url_origin(src, &olen, &auth, &alen))
		return 0;
	if (host && strlen(host) == alen && !strncasecmp(host, auth, alen))
		return 1;
	return public_url && !url_origin(public_url, &polen, &pauth, &palen) &&
	       polen == olen && !strncasecmp(public_url, src, olen);
}

/* ---- the client behind a reverse proxy ----------------------------------- */

/* An address as bytes: 4 for IPv4 (also an IPv4-mapped IPv6 address), 16
 * for IPv6. */
struct ip {
	int family;
	unsigned char b[16];
};

/* s[0..len) as a numeric address: 0, or -1. Only hex digits, '.' and ':'
 * pass to inet_pton, so zone ids, ports and brackets are refused. */
static int ip_parse(const char *s, size_t len, struct ip *ip)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0,    0,
						  0, 0, 0, 0, 0xff, 0xff };
	char t[HUB_ADDR_LEN];

	if (!len || len >= sizeof(t))
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != '.' && s[i] != ':')
			return -1;
	memcpy(t, s, len);
	t[len] = 0;
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, t, ip->b) == 1) {
		ip->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, t, ip->b) != 1)
		return -1;
	ip->family = AF_INET6;
	if (!memcmp(ip->b, mapped, sizeof(mapped))) {
		memmove(ip->b, ip->b + 12, 4);
		memset(ip->b + 4, 0, 12);
		ip->family = AF_INET;
	}
	return 0;
}

static int ip_eq(const struct ip *a, const struct ip *b)
{
	return a->family == b->family &&
	       !memcmp(a->b, b->b, a->family == AF_INET ? 4 : 16);
}

static int ip_trusted(const struct ip *a, const char *const *trusted, int n)
{
	struct ip t;

	for (int i = 0; i < n; i++)
		if (trusted[i] &&
		    !ip_parse(trusted[i], strlen(trusted[i]), &t) &&
		    ip_eq(a, &t))
			return 1;
	return 0;
}

static void ip_text(const struct ip *a, char *out, size_t outlen)
{
	if (!inet_ntop(a->family, a->b, out, (socklen_t)outlen) && outlen)
		out[0] = 0;
}

int hub_client_addr(const char *peer, const char *xff,
		    const char *const *trusted, int ntrusted, char *out,
		    size_t outlen)
{
	struct ip p, a, client, first;
	const char *s = xff;
	int have = 0, n = 0;

	memset(&client, 0, sizeof(client));
	memset(&first, 0, sizeof(first));
	if (!peer)
		peer = "?";
	if (ip_parse(peer, strlen(peer), &p)) {
		snprintf(out, outlen, "%s", peer);
		return 0;
	}
	ip_text(&p, out, outlen);
	if (!xff || !ip_trusted(&p, trusted, ntrusted))
		return 0;
	/* every item must be an address; the last untrusted one wins */
	for (;;) {
		const char *b, *e;

		while (*s == ' ' || *s == '\t')
			s++;
		b = s;
		while (*s && *s != ',' && *s != ' ' && *s != '\t')
			s++;
		e = s;
		while (*s == ' ' || *s == '\t')
			s++;
		if ((*s && *s != ',') || ip_parse(b, (size_t)(e - b), &a))
			return FL_EINVAL;
		if (!n++)
			first = a;
		if (!ip_trusted(&a, trusted, ntrusted)) {
			client = a;
			have = 1;
		}
		if (!*s)
			break;
		s++; /* the comma */
	}
	ip_text(have ? &client : &first, out, outlen);
	return 1;
}

/* One Accept-Language item "range[;q=value]" of len bytes: its language
 * (or -1: another, "*", malformed) and whether its q is above 0. */
static int accept_item(const char *p, size_t len, int *wanted)
{
	size_t n = 0;
	const char *semi = memchr(p, ';', len);
	size_t rl = semi ? (size_t)(semi - p) : len;
	int lang = -1;

	*wanted = 1;
	while (rl && (p[rl - 1] == ' ' || p[rl - 1] == '\t'))
		rl--;
	for (n = 0; n < rl; n++)
		if (!((p[n] >= 'a' && p[n] <= 'z') ||
		      (p[n] >= 'A' && p[n] <= 'Z') ||
		      (p[n] >= '0' && p[n] <= '9') || p[n] == '-'))
			return -1;
	if (rl >= 2 && (rl == 2 || p[2] == '-')) {
		if (!strncasecmp(p, "zh", 2))
			lang = FL_LANG_ZH;
		else if (!strncasecmp(p, "en", 2))
			lang = FL_LANG_EN;
	}
	if (semi) { /* ;q=0, ;q=0.0, ;q=0.000: not acceptable */
		const char *q = semi + 1, *end = p + len;

		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (end - q < 3 || (q[0] != 'q' && q[0] != 'Q') || q[1] != '=')
			return -1;
		q += 2;
		if (*q != '0' && *q != '1')
			return -1;
		*wanted = *q == '1';
		for (q++; q < end && *q != ' ' && *q != '\t'; q++) {
			if (*q == '.')
				continue;
			if (*q < '0' || *q > '9')
				return -1;
			if (*q != '0')
				*wanted = 1;
		}
	}
	return lang;
}

int hub_lang_pick(const char *cookie, const char *accept, int fallback)
{
	int zh = 0, en = 0;

	if (cookie && fl_lang_of(cookie) >= 0)
		return fl_lang_of(cookie);
	while (accept && *accept) {
		size_t len = strcspn(accept, ",");
		int wanted, lang;

		while (len && (*accept == ' ' || *accept == '\t')) {
			accept++;
			len--;
		}
		lang = accept_item(accept, len, &wanted);
		zh |= lang == FL_LANG_ZH && wanted;
		en |= lang == FL_LANG_EN && wanted;
		accept += len;
		if (*accept == ',')
			accept++;
	}
	return zh ? FL_LANG_ZH : en ? FL_LANG_EN : fallback;
}

int hub_addr_trusted(const char *addr, const char *const *trusted, int ntrusted)
{
	struct ip a;

	return addr && !ip_parse(addr, strlen(addr), &a) &&
	       ip_trusted(&a, trusted, ntrusted);
}
