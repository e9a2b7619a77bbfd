/*
 * fuzz_http.c - every parser of the hub's web side (src/hub/httpparse.c,
 * src/hub/session.c, src/store/username.c) on arbitrary bytes: the Cookie
 * header, the Range header, query dates and numbers, report periods, plain
 * names, CSV quoting, JSON request bodies, the login's Content-Type and
 * Origin, user names and Accept-Language. All of them read text a browser (or an
 * attacker) sends.
 *
 * Input: the first byte picks nothing; the bytes are split at the first
 * newline into a header value and a body, and every parser gets them.
 * What must hold besides never crashing or tripping a sanitizer:
 *   - a cookie value found is non-empty, fits its buffer and has no ';';
 *   - a satisfiable range lies inside the file: 0 <= first <= last < size;
 *   - a parsed date is a finite time >= the epoch minus a day, and its
 *     period contains it with from < to;
 *   - a plain name has no '/' and does not start with '.';
 *   - a CSV field quoted or not reads back to the same text, behind an
 *     apostrophe when it begins like a formula (= + - @ tab CR);
 *   - an Origin/Referer taken for the hub's own is an http(s) URL whose
 *     host is the Host header's or public_url's;
 *   - a user name the rule takes (src/store/username.c) has no '/' and a
 *     look-alike key; one it refuses has none.
 *   - JSON fields found are strings without NULs;
 *   - the client's address behind a trusted proxy (X-Forwarded-For) is an
 *     address in canonical text, or the proxy's own when the header is
 *     refused; from a peer that is not trusted the header is never read;
 *   - the language an Accept-Language header or a cookie asks for is one
 *     of ours, and the switch's cookie wins.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fl.h"
#include "httpparse.h"
#include "lang.h"
#include "session.h"
#include "username.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_http: %s:%d: %s\n", __FILE__,    \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

/* Reads a CSV field back (the inverse of hub_csv_field for one field). */
static void csv_back(const char *f, char *out)
{
	size_t n = 0;

	if (*f != '"') {
		strcpy(out, f);
		return;
	}
	for (f++; *f; f++) {
		if (*f == '"') {
			if (f[1] != '"')
				break;
			f++;
		}
		out[n++] = *f;
	}
	out[n] = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "user", "password", "sites" };
	static const long long sizes[] = { 0, 1, 100, 1LL << 40 };
	static const int tzs[] = { 0, 8 * 3600, -12 * 3600, 14 * 3600 };
	char *h, *body, cookie[70], *csv, *back, *f[3];
	const char *nl;
	size_t hl, bl, len = 0;
	double w, from, to;
	int v = 0;

	if (size > 70000)
		return 0;
	nl = memchr(data, '\n', size);
	hl = nl ? (size_t)(nl - (const char *)data) : size;
	bl = nl ? size - hl - 1 : 0;
	h = malloc(hl + 1);
	body = malloc(bl + 1);
	csv = malloc(hl * 2 + 3);
	back = malloc(hl * 2 + 3);
	if (!h || !body || !csv || !back)
		goto out;
	memcpy(h, data, hl);
	h[hl] = 0; /* a header value ends at a NUL, as libmicrohttpd gives it */
	memcpy(body, nl ? nl + 1 : "", bl);
	body[bl] = 0;

	if (!hub_cookie_get(h, "fl_session", cookie, sizeof(cookie)))
		CHECK(cookie[0] && strlen(cookie) < sizeof(cookie) &&
		      !strchr(cookie, ';'));
	for (size_t i = 0; i < FL_ARRAY_SIZE(sizes); i++) {
		long long a = -1, b = -1;

		if (hub_range_parse(h, sizes[i], &a, &b) == 1)
			CHECK(0 <= a && a <= b && b < sizes[i]);
	}
	for (size_t i = 0; i < FL_ARRAY_SIZE(tzs); i++) {
		if (hub_date_parse(h, tzs[i], &w, NULL))
			continue;
		CHECK(isfinite(w) && w >= -86400);
		CHECK(!hub_period("week", w, tzs[i], &from, &to));
		CHECK(from <= w && w < to && to - from == 7 * 86400.0);
		CHECK(!hub_period("month", w, tzs[i], &from, &to));
		CHECK(from <= w && w < to && to - from >= 28 * 86400.0 &&
		      to - from <= 31 * 86400.0);
	}
	(void)hub_query_int(h, 0, 1000, &v);
	CHECK(v >= 0 && v <= 1000);
	if (hub_plain_name(h))
		CHECK(!strchr(h, '/') && h[0] != '.');
	if (!hub_csv_field(csv, hl * 2 + 3, &len, h)) {
		int formula = h[0] && strchr("=+-@\t\r", h[0]);

		csv_back(csv, back);
		CHECK(!formula || back[0] == '\'');
		CHECK(!strcmp(back + formula, h));
	}
	if (hub_same_origin(h, "hub:8080", "https://hub.example.org"))
		CHECK(!strncasecmp(h, "http://hub:8080", 15) ||
		      !strncasecmp(h, "https://hub:8080", 16) ||
		      !strncasecmp(h, "https://hub.example.org", 23));
	if (hub_ctype_json(h))
		CHECK(strlen(h) >= 16);
	{
		char *key = malloc(FL_USER_KEY_LEN);

		if (key && !fl_user_name_check(h, NULL, 0)) {
			CHECK(!strchr(h, '/') && h[0] != ' ');
			CHECK(!fl_user_name_key(h, key, FL_USER_KEY_LEN));
		} else if (key) {
			CHECK(fl_user_name_key(h, key, FL_USER_KEY_LEN) ==
			      FL_EINVAL);
		}
		free(key);
	}
	if (!hub_json_fields(body, bl, names, 3, f)) {
		for (int i = 0; i < 3; i++)
			CHECK(!f[i] || strlen(f[i]) < bl + 1);
		hub_fields_free(f, 3);
	}
	{
		static const char *const trusted[] = { "127.0.0.1", "::1" };
		char addr[HUB_ADDR_LEN], canon[HUB_ADDR_LEN];
		unsigned char bin[16];
		int rc = hub_client_addr("127.0.0.1", h, trusted, 2, addr,
					 sizeof(addr));

		CHECK(rc == 1 || rc == 0 || rc == FL_EINVAL);
		if (rc == 1) {
			int v6 = strchr(addr, ':') != NULL;

			/* canonical: parses and prints back the same */
			CHECK(inet_pton(v6 ? AF_INET6 : AF_INET, addr, bin) ==
			      1);
			CHECK(inet_ntop(v6 ? AF_INET6 : AF_INET, bin, canon,
					sizeof(canon)));
			CHECK(!strcmp(addr, canon));
		} else {
			CHECK(!strcmp(addr, "127.0.0.1"));
		}
		CHECK(hub_client_addr("198.51.100.1", h, trusted, 2, addr,
				      sizeof(addr)) == 0 &&
		      !strcmp(addr, "198.51.100.1"));
	}
	{
		/* one of our languages; Chinese whenever English is */
		int zh = hub_lang_pick(NULL, h, FL_LANG_ZH);
		int en = hub_lang_pick(NULL, h, FL_LANG_EN);

		CHECK(zh == FL_LANG_ZH || zh == FL_LANG_EN);
		CHECK(en == FL_LANG_ZH || en == FL_LANG_EN);
		CHECK(!(zh == FL_LANG_EN && en == FL_LANG_ZH));
		CHECK(hub_lang_pick("en", h, FL_LANG_ZH) == FL_LANG_EN);
		v = hub_lang_pick(h, NULL, FL_LANG_ZH);
		CHECK(v == FL_LANG_ZH || v == FL_LANG_EN);
	}
out:
	free(h);
	free(body);
	free(csv);
	free(back);
	return 0;
}
