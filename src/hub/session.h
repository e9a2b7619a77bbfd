/*
 * session.h - the web side's sessions, CSRF tokens and login rate limit.
 *
 * Pure bookkeeping with the clock passed in (now, unix seconds), so the
 * unit tests drive it with a fake clock. Sessions live in memory only: a
 * hub restart logs everyone out (docs/api.md). Every function is
 * thread-safe (one mutex per table): the HTTP server's pool calls them
 * from several threads.
 *
 * A session id and its CSRF token are 32 random bytes (libsodium) written
 * as 64 hex digits. Ids and tokens are compared in constant time.
 */
#ifndef FL_HUB_SESSION_H
#define FL_HUB_SESSION_H

#include <stddef.h>

#define HUB_TOKEN_LEN 65 /* 64 hex digits + NUL */
#define HUB_SITES_LEN 1024

typedef struct hub_sessions hub_sessions;

/* What a request learns about its session (a copy: no lifetime concerns). */
typedef struct hub_session_info {
	char id[HUB_TOKEN_LEN];
	char csrf[HUB_TOKEN_LEN];
	char user[128];
	char role[16];             /* admin, enforcement, property */
	char sites[HUB_SITES_LEN]; /* property: "s1,s2"; others "" */
} hub_session_info;

/* idle_s: a session ends after this long without a request. NULL on
 * allocation failure. Destroy is NULL-safe. */
hub_sessions *hub_sessions_create(double idle_s);
void hub_sessions_destroy(hub_sessions *s);

/* A new session for user; out gets its id and CSRF token. 0, FL_ENOMEM. */
int hub_session_new(hub_sessions *s, const char *user, const char *role,
		    const char *sites, double now, hub_session_info *out);
/* Looks up id (and refreshes its idle clock): 0 and a copy in out, or
 * FL_ENOENT (unknown or expired; an expired one is removed). */
int hub_session_get(hub_sessions *s, const char *id, double now,
		    hub_session_info *out);
/* Ends a session. 0, FL_ENOENT. */
int hub_session_end(hub_sessions *s, const char *id);
/* Ends every session of user (deleted by an admin). */
void hub_session_end_user(hub_sessions *s, const char *user);
/* 1 the first time key (an evidence file) is marked in the session, 0
 * after (or for an unknown session): evidence_view is audited once per file
 * per session. */
int hub_session_first_view(hub_sessions *s, const char *id, const char *key);
/* Sessions alive now (expired ones are dropped first). */
int hub_session_count(hub_sessions *s, double now);

/* 1 when token equals the session's CSRF token (constant time), else 0. */
int hub_csrf_ok(const hub_session_info *info, const char *token);

/* ---- login rate limit ------------------------------------------------- */

/* At most HUB_RATE_MAX failures per HUB_RATE_WINDOW_S for one key (an
 * address "a:<ip>" or a user name "u:<name>"). */
#define HUB_RATE_MAX 5
#define HUB_RATE_WINDOW_S 300
#define HUB_RATE_KEYS 4096 /* keys remembered at most (the stalest go) */

typedef struct hub_ratelimit hub_ratelimit;

hub_ratelimit *hub_ratelimit_create(void);
void hub_ratelimit_destroy(hub_ratelimit *r); /* NULL-safe */
/* 0 when key may try now, else the seconds (>= 1) until it may. */
int hub_ratelimit_check(hub_ratelimit *r, const char *key, double now);
/* One failure of key at now. */
void hub_ratelimit_fail(hub_ratelimit *r, const char *key, double now);
/* Forget key's failures (a successful login resets the user's count). */
void hub_ratelimit_reset(hub_ratelimit *r, const char *key);
/* How many keys r remembers now (at most HUB_RATE_KEYS). */
int hub_ratelimit_keys(hub_ratelimit *r);

/* ---- cookies ---------------------------------------------------------- */

/* The value of cookie name in a Cookie header ("a=1; fl_session=..."):
 * 0 and the value in out (always terminated), FL_ENOENT, or FL_EINVAL when
 * it does not fit. header may be NULL. */
int hub_cookie_get(const char *header, const char *name, char *out,
		   size_t outlen);

#endif /* FL_HUB_SESSION_H */
