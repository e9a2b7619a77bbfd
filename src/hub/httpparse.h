/*
 * httpparse.h - the web side's small parsers: Range headers, dates and
 * report periods in the hub's timezone, plain names, query numbers, JSON
 * bodies, CSV fields, the client's address behind a reverse proxy, the
 * language a browser asks for. Pure
 * functions (no I/O, no clock), each one fuzzed (tests/fuzz/fuzz_http.c)
 * and unit-tested (tests/unit/test_session.c).
 */
#ifndef FL_HUB_HTTPPARSE_H
#define FL_HUB_HTTPPARSE_H

#include <stddef.h>

/* A single-range "Range: bytes=a-b" / "a-" / "-n" against a file of size
 * bytes. Returns 1 and [*first, *last] (inclusive) for a satisfiable
 * range (206), 0 when the header is absent, not "bytes=" or holds several
 * ranges (serve the whole file, 200), -1 when unsatisfiable (416). */
int hub_range_parse(const char *h, long long size, long long *first,
		    long long *last);

/* "YYYY-MM-DD" (a real calendar day) as the unix time of its midnight in
 * the zone tz_offset_s east of UTC, or a plain number of unix seconds.
 * 0 or FL_EINVAL. *is_date says which it was (may be NULL). */
int hub_date_parse(const char *s, int tz_offset_s, double *wall, int *is_date);

/* The period ("day", "week" (Monday to Sunday) or "month") containing the
 * instant wall, as [*from, *to) unix times of local midnights in the zone
 * tz_offset_s. 0, or FL_EINVAL for an unknown period. */
int hub_period(const char *period, double wall, int tz_offset_s, double *from,
	       double *to);

/* Days since 1970-01-01 of a civil date, and back (proleptic Gregorian). */
long long hub_days_from_civil(int y, int m, int d);
void hub_civil_from_days(long long z, int *y, int *m, int *d);

/* 1 when s is a plain name: 1-128 of an id's characters ([A-Za-z0-9_.-],
 * src/core/id.h), not starting with '.', else 0. */
#define HUB_PLAIN_MAX 129 /* with the NUL */
int hub_plain_name(const char *s);

/* A query parameter as a whole number in [min, max]: 0 and *out, or
 * FL_EINVAL. NULL/"" leaves *out as it was and returns 0. */
int hub_query_int(const char *s, int min, int max, int *out);

/* Append field to buf (of cap bytes, at *len) as an RFC 4180 CSV field:
 * quoted when it holds a comma, quote, CR or LF (quotes doubled); one that
 * begins with '=', '+', '-', '@', a tab or a CR (a spreadsheet formula) is
 * also neutralised with a leading apostrophe and quoted. 0 or FL_EFULL. */
int hub_csv_field(char *buf, size_t cap, size_t *len, const char *field);

/* The string members of a JSON object body (at most 64 KiB): for each
 * names[i], out[i] gets a malloc'd copy of the member's string value or
 * NULL when absent. A member that is present but not a string, duplicate
 * keys, or a body that is not one JSON object: FL_EINVAL (nothing
 * allocated). sites: when names[i] is "sites" an array of strings is
 * accepted too and joined with ','. Free with hub_fields_free(). */
int hub_json_fields(const char *body, size_t len, const char *const *names,
		    int n, char **out);
void hub_fields_free(char **out, int n);

/* 1 when a Content-Type header is JSON: "application/json", any case,
 * parameters (";charset=utf-8") allowed; else 0 (also for NULL). */
int hub_ctype_json(const char *ctype);

/*
 * Whether a request's Origin (or, without one, its Referer) names the hub
 * itself: src's scheme is http or https and its host[:port] equals the
 * request's Host header (case-insensitive), or its scheme://host[:port]
 * equals public_url's. 1 yes, 0 no (also for "null", another scheme, a
 * malformed value, or no Host and no public_url to compare with). src NULL
 * (neither header, as from curl or a script): 1, as a browser's form
 * always sends one of them (docs/api.md, "Login").
 */
int hub_same_origin(const char *src, const char *host, const char *public_url);

/* Room for an address in text (INET6_ADDRSTRLEN) and its NUL. */
#define HUB_ADDR_LEN 48

/*
 * The client's address behind reverse proxies (http.trusted_proxies,
 * docs/hub.md): what the login rate limit and the audit's login rows use.
 * peer: the TCP peer's numeric address; trusted: ntrusted numeric
 * addresses (checked by the configuration); xff: the X-Forwarded-For
 * header (several of them joined with ','), or NULL.
 *
 * Only when peer is trusted is xff read, strictly: IPv4 or IPv6 literals
 * separated by commas, spaces and tabs allowed around each, nothing else
 * (no ports, brackets, zone ids, "unknown", empty items). The client is
 * the right-most address that is not itself a trusted proxy (the left-most
 * when all are): everything left of it was written by the client and may
 * be forged. out (outlen >= HUB_ADDR_LEN) gets that address in canonical
 * text (inet_ntop; an IPv4-mapped IPv6 address as IPv4), else the peer.
 * Returns 1 when out came from xff, 0 when it is the peer (peer not
 * trusted, or no header), FL_EINVAL when the header is malformed (out is
 * the peer).
 */
int hub_client_addr(const char *peer, const char *xff,
		    const char *const *trusted, int ntrusted, char *out,
		    size_t outlen);

/*
 * The web UI's language (enum fl_lang, src/core/lang.h) for a browser:
 * its own choice first (the fl_lang cookie's value, cookie, when it is a
 * tag of ours: the header's switch), else Chinese when Accept-Language
 * (accept, RFC 9110 12.5.4) accepts any zh range with q > 0 (Chinese
 * first, even ranked below English), else English when it accepts an en
 * range, else fallback (ui.language). Items are "range[;q=value]" split
 * by commas; a malformed item is skipped, "*" chooses nothing. cookie and
 * accept may be NULL.
 */
int hub_lang_pick(const char *cookie, const char *accept, int fallback);
/* 1 when addr (numeric, as the TCP peer's) is one of trusted, else 0. */
int hub_addr_trusted(const char *addr, const char *const *trusted,
		     int ntrusted);

#endif /* FL_HUB_HTTPPARSE_H */
