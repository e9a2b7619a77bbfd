/*
 * test_session.c - the web side's pure logic with a fake clock: sessions
 * (expiry, ids, CSRF; on an in-memory store), the login rate limit's window, cookie parsing, Range
 * headers, dates and report periods in the hub's timezone (week and month
 * boundaries, leap years), plain names, CSV quoting, JSON bodies and the
 * client's address behind a trusted reverse proxy (X-Forwarded-For).
 * The ZIP writer is checked end to end by tests/integration/hub_api.sh
 * (read back with Python's zipfile).
 */
#include <string.h>

#include <sodium.h>

#include "fl.h"
#include "httpparse.h"
#include "session.h"
#include "test.h"

#define DAY 86400.0
/* 2026-03-02 00:00 UTC, a Monday */
#define MON (20514.0 * DAY)

static void test_sessions(void)
{
	char err[256] = "";
	fl_db *db = fl_db_open("sqlite::memory:", err, sizeof(err));
	hub_sessions *s = hub_sessions_create(db, 100);
	hub_session_info a, b, got;

	CHECK_MSG(db != NULL, "%s", err);
	CHECK(s);
	CHECK(hub_session_new(s, "alice", "property", "s1,s2", 7, 1000, &a) ==
	      0);
	CHECK(hub_session_new(s, "root", "admin", "", 8, 1000, &b) == 0);
	CHECK(strlen(a.id) == 64 && strlen(a.csrf) == 64);
	CHECK(strcmp(a.id, b.id) != 0 && strcmp(a.id, a.csrf) != 0);
	CHECK(hub_session_get(s, a.id, 1050, &got) == 0);
	CHECK(!strcmp(got.user, "alice") && !strcmp(got.sites, "s1,s2"));
	CHECK(!strcmp(got.role, "property"));
	CHECK_EQ_DBL(got.created, 7, 0);
	/* used at 1050: alive until 1150 even though created at 1000 */
	CHECK(hub_session_get(s, a.id, 1149, &got) == 0);
	/* b was last used at 1000: gone at 1100 */
	CHECK(hub_session_get(s, b.id, 1100, &got) == FL_ENOENT);
	CHECK(hub_session_count(s, 1100) == 1);
	CHECK(hub_session_get(s, a.id, 1249, &got) == FL_ENOENT);
	CHECK(hub_session_get(s, "", 1000, &got) == FL_ENOENT);
	CHECK(hub_session_get(s, "zz", 1000, &got) == FL_ENOENT);
	/* CSRF */
	CHECK(hub_session_new(s, "enf", "enforcement", "", 9, 2000, &a) == 0);
	CHECK(hub_csrf_ok(&a, a.csrf));
	CHECK(!hub_csrf_ok(&a, NULL));
	CHECK(!hub_csrf_ok(&a, ""));
	CHECK(!hub_csrf_ok(&a, a.id));
	{
		char t[HUB_TOKEN_LEN];

		memcpy(t, a.csrf, sizeof(t));
		t[63] = t[63] == '0' ? '1' : '0';
		CHECK(!hub_csrf_ok(&a, t));
		t[63] = 0;
		CHECK(!hub_csrf_ok(&a, t));
	}
	/* evidence views once per file per session */
	CHECK(hub_session_first_view(s, a.id, "i1/a.jpg") == 1);
	CHECK(hub_session_first_view(s, a.id, "i1/a.jpg") == 0);
	CHECK(hub_session_first_view(s, a.id, "i1/b.jpg") == 1);
	CHECK(hub_session_first_view(s, "nope", "i1/c.jpg") == 0);
	/* logout, delete a user's sessions */
	CHECK(hub_session_new(s, "enf", "enforcement", "", 9, 2000, &b) == 0);
	CHECK(hub_session_end(s, a.id) == 0);
	CHECK(hub_session_end(s, a.id) == FL_ENOENT);
	CHECK(hub_session_get(s, a.id, 2001, &got) == FL_ENOENT);
	CHECK(hub_session_get(s, b.id, 2001, &got) == 0);
	hub_session_end_user(s, "enf");
	CHECK(hub_session_get(s, b.id, 2001, &got) == FL_ENOENT);
	hub_sessions_destroy(s);
	hub_sessions_destroy(NULL);
	/* a hub started again on the store finds the sessions it had */
	s = hub_sessions_create(db, 100);
	CHECK(hub_session_new(s, "root", "admin", "", 8, 3000, &a) == 0);
	hub_sessions_destroy(s);
	s = hub_sessions_create(db, 100);
	CHECK(hub_session_get(s, a.id, 3001, &got) == 0);
	CHECK_STREQ(got.id, a.id);
	CHECK_STREQ(got.csrf, a.csrf);
	CHECK(hub_csrf_ok(&got, a.csrf));
	hub_sessions_destroy(s);
	fl_db_close(db);
}

static void test_login_wait(void)
{
	/* failures, last, now, free -> wait (forget after 1000 s) */
	static const struct {
		int failures;
		double last, now;
		int free, wait;
	} cases[] = {
		{ 0, 0, 100, 5, 0 },
		{ 4, 100, 100, 5, 0 },   /* free failures */
		{ 5, 100, 100, 5, 15 },  /* the first delay */
		{ 5, 100, 110.5, 5, 5 }, /* counts down, rounded up */
		{ 5, 100, 115, 5, 0 },   /* over */
		{ 6, 100, 100, 5, 30 },  /* doubling */
		{ 7, 100, 100, 5, 60 },
		{ 10, 100, 100, 5, 480 },
		{ 11, 100, 100, 5, 900 },  /* the cap */
		{ 500, 100, 100, 5, 900 }, /* no overflow */
		{ 19, 100, 100, 20, 0 },   /* an address's allowance */
		{ 20, 100, 100, 20, 15 },
		{ 11, 100, 1099, 5, 0 }, /* over by then anyway */
		{ 11, 100, 1100, 5, 0 }, /* forgotten */
		{ 11, 100, 50, 5, 900 }, /* a clock stepped back */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_MSG(hub_login_wait(cases[i].failures, cases[i].last,
					 cases[i].now, cases[i].free,
					 1000) == cases[i].wait,
			  "case %zu: %d, expected %d", i,
			  hub_login_wait(cases[i].failures, cases[i].last,
					 cases[i].now, cases[i].free, 1000),
			  cases[i].wait);
}

/* login CSRF: the Content-Type and the Origin/Referer checks */
static void test_login_origin(void)
{
	static const struct {
		const char *src, *host, *pub;
		int ok;
	} cases[] = {
		{ NULL, "hub:8080", "", 1 }, /* curl, scripts */
		{ "http://hub:8080", "hub:8080", "", 1 },
		{ "http://HUB:8080", "hub:8080", "", 1 },
		{ "https://hub:8080/login?next=/x", "hub:8080", "", 1 },
		{ "http://hub:8080", "hub", "", 0 }, /* the port counts */
		{ "http://evil.example", "hub:8080", "", 0 },
		{ "http://hub:8080.evil.example", "hub:8080", "", 0 },
		{ "http://evil.example/hub:8080", "hub:8080", "", 0 },
		{ "http://hub:8080@evil.example", "hub:8080", "", 0 },
		{ "null", "hub:8080", "", 0 },
		{ "", "hub:8080", "", 0 },
		{ "ftp://hub:8080", "hub:8080", "", 0 },
		{ "http://", "", "", 0 },
		{ "http://hub:8080", NULL, "", 0 },
		/* behind a proxy that rewrites Host: public_url */
		{ "https://hub.example.org", "127.0.0.1:8080",
		  "https://hub.example.org", 1 },
		{ "https://hub.example.org/a", "127.0.0.1:8080",
		  "https://hub.example.org/", 1 },
		{ "http://hub.example.org", "127.0.0.1:8080",
		  "https://hub.example.org", 0 },
		{ "https://hub.example.org.evil", "127.0.0.1:8080",
		  "https://hub.example.org", 0 },
		{ "https://evil", "127.0.0.1:8080", "not a url", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_MSG(hub_same_origin(cases[i].src, cases[i].host,
					  cases[i].pub) == cases[i].ok,
			  "case %zu: %s against %s / %s", i,
			  cases[i].src ? cases[i].src : "(none)",
			  cases[i].host ? cases[i].host : "(none)",
			  cases[i].pub);
	CHECK(hub_ctype_json("application/json"));
	CHECK(hub_ctype_json("Application/JSON; charset=utf-8"));
	CHECK(hub_ctype_json(" application/json ;charset=utf-8"));
	CHECK(!hub_ctype_json(NULL));
	CHECK(!hub_ctype_json("text/plain"));
	CHECK(!hub_ctype_json("application/x-www-form-urlencoded"));
	CHECK(!hub_ctype_json("multipart/form-data; boundary=x"));
	CHECK(!hub_ctype_json("application/jsonp"));
	CHECK(!hub_ctype_json("text/plain; application/json"));
}

static void test_cookies(void)
{
	char v[70];

	CHECK(hub_cookie_get("fl_session=abc", "fl_session", v, sizeof(v)) == 0);
	CHECK(!strcmp(v, "abc"));
	CHECK(hub_cookie_get("a=1; fl_session=xyz ; b=2", "fl_session", v,
			     sizeof(v)) == 0);
	CHECK(!strcmp(v, "xyz"));
	CHECK(hub_cookie_get("xfl_session=1; fl_session=2", "fl_session", v,
			     sizeof(v)) == 0);
	CHECK(!strcmp(v, "2"));
	CHECK(hub_cookie_get("fl_session=\"q\"", "fl_session", v, sizeof(v)) ==
	      0);
	CHECK(!strcmp(v, "q"));
	CHECK(hub_cookie_get("fl_session=", "fl_session", v, sizeof(v)) ==
	      FL_ENOENT);
	CHECK(hub_cookie_get("fl_sessio=1", "fl_session", v, sizeof(v)) ==
	      FL_ENOENT);
	CHECK(hub_cookie_get(NULL, "fl_session", v, sizeof(v)) == FL_ENOENT);
	CHECK(hub_cookie_get(";;;", "fl_session", v, sizeof(v)) == FL_ENOENT);
	CHECK(hub_cookie_get("fl_session=0123456789", "fl_session", v, 5) ==
	      FL_EINVAL);
}

static void test_range(void)
{
	static const struct {
		const char *h;
		long long size;
		int rc;
		long long first, last;
	} t[] = {
		{ NULL, 100, 0, 0, 0 },
		{ "bytes=0-9", 100, 1, 0, 9 },
		{ "bytes=10-", 100, 1, 10, 99 },
		{ "bytes=-10", 100, 1, 90, 99 },
		{ "bytes=-1000", 100, 1, 0, 99 },
		{ "bytes=90-1000", 100, 1, 90, 99 },
		{ "bytes=99-99", 100, 1, 99, 99 },
		{ "bytes=100-", 100, -1, 0, 0 },
		{ "bytes=100-200", 100, -1, 0, 0 },
		{ "bytes=-0", 100, -1, 0, 0 },
		{ "bytes=0-", 0, -1, 0, 0 },
		{ "bytes=5-4", 100, 0, 0, 0 },
		{ "bytes=0-1,5-6", 100, 0, 0, 0 },
		{ "items=0-1", 100, 0, 0, 0 },
		{ "bytes=a-b", 100, 0, 0, 0 },
		{ "bytes=-", 100, 0, 0, 0 },
		{ "bytes=1-2x", 100, 0, 0, 0 },
		{ "bytes=99999999999999999999-", 100, 0, 0, 0 },
		{ "BYTES=1-2", 100, 1, 1, 2 },
	};

	for (size_t i = 0; i < FL_ARRAY_SIZE(t); i++) {
		long long a = -1, b = -1;
		int rc = hub_range_parse(t[i].h, t[i].size, &a, &b);

		CHECK_MSG(rc == t[i].rc, "%s: %d", t[i].h ? t[i].h : "NULL",
			  rc);
		if (rc == 1)
			CHECK_MSG(a == t[i].first && b == t[i].last,
				  "%s: %lld-%lld", t[i].h, a, b);
	}
}

static void test_dates(void)
{
	double w, f, t;
	int is_date;
	const int cn = 8 * 3600;

	CHECK(hub_days_from_civil(1970, 1, 1) == 0);
	CHECK(hub_days_from_civil(2026, 3, 2) == 20514);
	for (long long d = -1000; d < 30000; d += 37) {
		int y, m, dd;

		hub_civil_from_days(d, &y, &m, &dd);
		CHECK(hub_days_from_civil(y, m, dd) == d);
	}
	CHECK(hub_date_parse("2026-03-02", 0, &w, &is_date) == 0);
	CHECK(w == MON && is_date == 1);
	/* midnight at +08:00 is 16:00 UTC the day before */
	CHECK(hub_date_parse("2026-03-02", cn, &w, NULL) == 0 && w == MON - cn);
	CHECK(hub_date_parse("2026-03-02", -5 * 3600, &w, NULL) == 0 &&
	      w == MON + 5 * 3600);
	CHECK(hub_date_parse("1772409600", cn, &w, &is_date) == 0);
	CHECK(w == 1772409600.0 && is_date == 0);
	CHECK(hub_date_parse("2024-02-29", 0, &w, NULL) == 0);
	CHECK(hub_date_parse("2026-02-29", 0, &w, NULL) == FL_EINVAL);
	CHECK(hub_date_parse("2100-02-29", 0, &w, NULL) == FL_EINVAL);
	CHECK(hub_date_parse("2000-02-29", 0, &w, NULL) == 0);
	CHECK(hub_date_parse("2026-13-01", 0, &w, NULL) == FL_EINVAL);
	CHECK(hub_date_parse("2026-04-31", 0, &w, NULL) == FL_EINVAL);
	CHECK(hub_date_parse("2026-4-1", 0, &w, NULL) == FL_EINVAL);
	CHECK(hub_date_parse("2026-0a-01", 0, &w, NULL) == FL_EINVAL);
	CHECK(hub_date_parse("", 0, &w, NULL) == FL_EINVAL);
	CHECK(hub_date_parse("-5", 0, &w, NULL) == FL_EINVAL);
	CHECK(hub_date_parse("1e9", 0, &w, NULL) == FL_EINVAL);
	CHECK(hub_date_parse("1' OR 1", 0, &w, NULL) == FL_EINVAL);

	/* day at +08:00: 00:30 local Monday = 16:30 UTC Sunday */
	CHECK(hub_period("day", MON - cn + 1800, cn, &f, &t) == 0);
	CHECK(f == MON - cn && t == MON - cn + DAY);
	/* weeks start on Monday, in local time */
	CHECK(hub_period("week", MON - cn + 1800, cn, &f, &t) == 0);
	CHECK(f == MON - cn && t == MON - cn + 7 * DAY);
	/* Sunday 23:59 local belongs to the week before */
	CHECK(hub_period("week", MON - cn - 60, cn, &f, &t) == 0);
	CHECK(f == MON - cn - 7 * DAY && t == MON - cn);
	/* the same instant in UTC is still Sunday (week before) */
	CHECK(hub_period("week", MON - cn + 1800, 0, &f, &t) == 0);
	CHECK(f == MON - 7 * DAY && t == MON);
	/* every day of a week maps to the same Monday */
	for (int i = 0; i < 7; i++) {
		CHECK(hub_period("week", MON + i * DAY + 3600, 0, &f, &t) == 0);
		CHECK(f == MON && t == MON + 7 * DAY);
	}
	/* months: March 2026 (31 days), February of a leap year, December */
	CHECK(hub_period("month", MON + 29 * DAY, 0, &f, &t) == 0);
	CHECK(f == hub_days_from_civil(2026, 3, 1) * DAY &&
	      t == hub_days_from_civil(2026, 4, 1) * DAY);
	CHECK(hub_period("month", hub_days_from_civil(2024, 2, 29) * DAY, cn,
			 &f, &t) == 0);
	CHECK(f == hub_days_from_civil(2024, 2, 1) * DAY - cn &&
	      t == hub_days_from_civil(2024, 3, 1) * DAY - cn);
	CHECK(hub_period("month", hub_days_from_civil(2026, 12, 31) * DAY, 0,
			 &f, &t) == 0);
	CHECK(t == hub_days_from_civil(2027, 1, 1) * DAY);
	/* 31 Mar 20:00 UTC is 1 Apr 04:00 at +08:00: April */
	CHECK(hub_period("month",
			 hub_days_from_civil(2026, 3, 31) * DAY + 20 * 3600, cn,
			 &f, &t) == 0);
	CHECK(f == hub_days_from_civil(2026, 4, 1) * DAY - cn);
	CHECK(hub_period("year", MON, 0, &f, &t) == FL_EINVAL);
}

#define JF(s, ...) hub_json_fields(s, strlen(s), __VA_ARGS__)

static void test_names_csv_json(void)
{
	static const char *const names[] = { "outcome", "note", "sites" };
	char buf[64], *f[3];
	size_t len = 0;
	int v = 7;

	CHECK(hub_plain_name("scene-edge-1_a.b"));
	CHECK(!hub_plain_name(".incoming"));
	CHECK(!hub_plain_name(".."));
	CHECK(!hub_plain_name("a/b"));
	CHECK(!hub_plain_name(""));
	CHECK(!hub_plain_name(NULL));
	CHECK(!hub_plain_name("a%2e"));
	CHECK(hub_query_int(NULL, 1, 10, &v) == 0 && v == 7);
	CHECK(hub_query_int("10", 1, 10, &v) == 0 && v == 10);
	CHECK(hub_query_int("11", 1, 10, &v) == FL_EINVAL);
	CHECK(hub_query_int("-1", 0, 10, &v) == FL_EINVAL);
	CHECK(hub_query_int("1x", 0, 10, &v) == FL_EINVAL);

	CHECK(hub_csv_field(buf, sizeof(buf), &len, "plain") == 0);
	CHECK(!strcmp(buf, "plain"));
	len = 0;
	CHECK(hub_csv_field(buf, sizeof(buf), &len, "a,\"b\"\n") == 0);
	CHECK(!strcmp(buf, "\"a,\"\"b\"\"\n\""));
	len = 0;
	CHECK(hub_csv_field(buf, 8, &len, "\"\"\"\"") == FL_EFULL);
	/* formulas (OWASP CSV injection): an apostrophe first, quoted */
	{
		static const struct {
			const char *in, *out;
		} cases[] = {
			{ "=1+1", "\"'=1+1\"" },
			{ "+cmd|' /C calc'!A0", "\"'+cmd|' /C calc'!A0\"" },
			{ "-2-1", "\"'-2-1\"" },
			{ "@SUM(A1)", "\"'@SUM(A1)\"" },
			{ "\t=1", "\"'\t=1\"" },
			{ "\r=1", "\"'\r=1\"" },
			{ "=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\"" },
			{ "a=1", "a=1" },
			{ "2026-03-01", "2026-03-01" },
			{ "", "" },
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			len = 0;
			CHECK_EQ_INT(hub_csv_field(buf, sizeof(buf), &len,
						   cases[i].in),
				     0);
			CHECK_STREQ(buf, cases[i].out);
			CHECK_EQ_INT(len, strlen(cases[i].out));
		}
		len = 0;
		CHECK_EQ_INT(hub_csv_field(buf, 6, &len, "=1+1"), FL_EFULL);
	}

	CHECK(JF("{\"outcome\": \"fined\", \"note\": \"x\"}", names, 3, f) == 0);
	CHECK(!strcmp(f[0], "fined") && !strcmp(f[1], "x") && !f[2]);
	hub_fields_free(f, 3);
	CHECK(JF("{\"sites\": [\"a\", \"b\"]}", names, 3, f) == 0);
	CHECK(!f[0] && !strcmp(f[2], "a,b"));
	hub_fields_free(f, 3);
	CHECK(JF("{\"outcome\": 5}", names, 3, f) == FL_EINVAL);
	CHECK(!f[0]);
	CHECK(JF("{\"outcome\": \"a\", \"outcome\": \"b\"}", names, 3, f) ==
	      FL_EINVAL);
	CHECK(JF("[]", names, 3, f) == FL_EINVAL);
	CHECK(JF("{\"outcome\": ", names, 3, f) == FL_EINVAL);
	CHECK(JF("{\"note\": \"a\\u0000b\"}", names, 3, f) == FL_EINVAL);
	CHECK(JF("{\"sites\": [1]}", names, 3, f) == FL_EINVAL);
	CHECK(JF("{\"outcome\": null}", names, 3, f) == 0);
	CHECK(!f[0]);
}

static void test_client_addr(void)
{
	static const char *const trusted[] = { "127.0.0.1", "10.0.0.2", "::1" };
	static const struct {
		const char *peer, *xff;
		int rc;
		const char *addr;
	} cases[] = {
		/* a peer that is not trusted: the header is ignored */
		{ "198.51.100.1", "203.0.113.7", 0, "198.51.100.1" },
		{ "198.51.100.1", "garbage", 0, "198.51.100.1" },
		/* trusted, no header: the proxy itself */
		{ "127.0.0.1", NULL, 0, "127.0.0.1" },
		{ "127.0.0.1", "203.0.113.7", 1, "203.0.113.7" },
		{ "127.0.0.1", " 203.0.113.7 ", 1, "203.0.113.7" },
		/* the client wrote the left part: the right-most untrusted */
		{ "127.0.0.1", "1.1.1.1, 203.0.113.7", 1, "203.0.113.7" },
		{ "127.0.0.1", "1.1.1.1,203.0.113.7,10.0.0.2", 1,
		  "203.0.113.7" },
		{ "127.0.0.1", "1.1.1.1 ,\t203.0.113.7 , 10.0.0.2,127.0.0.1", 1,
		  "203.0.113.7" },
		/* all trusted: the left-most */
		{ "127.0.0.1", "10.0.0.2, 127.0.0.1", 1, "10.0.0.2" },
		/* IPv6, canonical; IPv4-mapped is IPv4; a trusted ::1 peer */
		{ "::1", "2001:DB8:0:0::7", 1, "2001:db8::7" },
		{ "::ffff:127.0.0.1", "::ffff:203.0.113.7", 1, "203.0.113.7" },
		{ "127.0.0.1", "2001:db8::7, ::ffff:10.0.0.2", 1,
		  "2001:db8::7" },
		/* malformed: the proxy's address */
		{ "127.0.0.1", "", FL_EINVAL, "127.0.0.1" },
		{ "127.0.0.1", " ", FL_EINVAL, "127.0.0.1" },
		{ "127.0.0.1", "unknown", FL_EINVAL, "127.0.0.1" },
		{ "127.0.0.1", "203.0.113.7:443", FL_EINVAL, "127.0.0.1" },
		{ "127.0.0.1", "[2001:db8::7]", FL_EINVAL, "127.0.0.1" },
		{ "127.0.0.1", "fe80::1%eth0", FL_EINVAL, "127.0.0.1" },
		{ "127.0.0.1", "203.0.113.7,", FL_EINVAL, "127.0.0.1" },
		{ "127.0.0.1", ",203.0.113.7", FL_EINVAL, "127.0.0.1" },
		{ "127.0.0.1", "1.1.1.1,,203.0.113.7", FL_EINVAL, "127.0.0.1" },
		{ "127.0.0.1", "1.1.1.1 203.0.113.7", FL_EINVAL, "127.0.0.1" },
		{ "127.0.0.1", "203.0.113.256", FL_EINVAL, "127.0.0.1" },
		{ "127.0.0.1", "203.0.113", FL_EINVAL, "127.0.0.1" },
		{ "127.0.0.1", "for=203.0.113.7", FL_EINVAL, "127.0.0.1" },
		{ "127.0.0.1", "x, 203.0.113.7", FL_EINVAL, "127.0.0.1" },
		{ "127.0.0.1",
		  "2001:0db8:0000:0000:0000:0000:0000:0007:0000:0000:0000:0001",
		  FL_EINVAL, "127.0.0.1" },
		/* a peer that is not an address at all */
		{ "?", "203.0.113.7", 0, "?" },
	};
	char out[HUB_ADDR_LEN];

	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		int rc = hub_client_addr(cases[i].peer, cases[i].xff, trusted,
					 3, out, sizeof(out));

		CHECK_MSG(rc == cases[i].rc && !strcmp(out, cases[i].addr),
			  "case %zu (%s, %s): %d %s", i, cases[i].peer,
			  cases[i].xff ? cases[i].xff : "NULL", rc, out);
	}
	/* nothing trusted: never the header */
	CHECK(hub_client_addr("127.0.0.1", "203.0.113.7", NULL, 0, out,
			      sizeof(out)) == 0 &&
	      !strcmp(out, "127.0.0.1"));
}

int main(void)
{
	CHECK(sodium_init() >= 0);
	test_sessions();
	test_login_wait();
	test_login_origin();
	test_cookies();
	test_range();
	test_dates();
	test_names_csv_json();
	test_client_addr();
	TEST_DONE();
}
