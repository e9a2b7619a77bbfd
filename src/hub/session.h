/*
 * session.h - the web side's sessions, CSRF tokens and the login
 * throttle's rule.
 *
 * Sessions live in the store (fl_db_session_*, docs/store.md, "Sessions"),
 * so every hub on it knows them: a request routed to another hub finds its
 * session there, and a hub restart logs nobody out (docs/api.md). The clock
 * is passed in (now, unix seconds), so the unit tests drive it with a fake
 * one. Every function is thread-safe (the store's handle is): the HTTP
 * server's pool calls them from several threads.
 *
 * A session id and its CSRF token are 32 random bytes (libsodium) written
 * as 64 hex digits. The store keeps the id's SHA-256 only; the token is
 * compared in constant time.
 */
#ifndef FL_HUB_SESSION_H
#define FL_HUB_SESSION_H

#include <stddef.h>

#include "db.h"

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
	double created;            /* the user's creation time in the store */
} hub_session_info;

/* The last-seen time of a session is written at most this often (or at a
 * tenth of idle_s, when that is shorter): a request costs one indexed read
 * of the store, and a session ends between idle_s - HUB_SESSION_TOUCH_S
 * and idle_s after its last request. */
#define HUB_SESSION_TOUCH_S 60.0

/* Sessions in db (borrowed: it outlives the table). idle_s: a session
 * ends after this long without a request. NULL on allocation failure.
 * Destroy is NULL-safe and ends no session. */
hub_sessions *hub_sessions_create(fl_db *db, double idle_s);
void hub_sessions_destroy(hub_sessions *s);

/* A new session for user (created: the user's creation time, which tells
 * the user from a later one of the same name); out gets its id and CSRF
 * token. 0, or the store's error. */
int hub_session_new(hub_sessions *s, const char *user, const char *role,
		    const char *sites, double created, double now,
		    hub_session_info *out);
/* Looks up id (and refreshes its idle clock): 0 and a copy in out, or
 * FL_ENOENT (unknown or expired; an expired one is removed), or the
 * store's error (the request then has no session). */
int hub_session_get(hub_sessions *s, const char *id, double now,
		    hub_session_info *out);
/* Ends a session. 0, FL_ENOENT. */
int hub_session_end(hub_sessions *s, const char *id);
/* Ends every session of user (deleted by an admin). */
void hub_session_end_user(hub_sessions *s, const char *user);
/* 1 the first time key (an evidence file) is marked in the session, 0
 * after (or for an unknown session): evidence_view is audited once per file
 * per session, whichever hub serves it. A store that cannot say answers 1
 * (audited again, which is safe). */
int hub_session_first_view(hub_sessions *s, const char *id, const char *key);
/* Sessions alive now (expired ones are dropped first). */
int hub_session_count(hub_sessions *s, double now);

/* 1 when token equals the session's CSRF token (constant time), else 0. */
int hub_csrf_ok(const hub_session_info *info, const char *token);

/* ---- login throttle ----------------------------------------------------- */

/*
 * Failed logins are counted per (user name, address) and per address under
 * any name, in the store (fl_db_login_fail), so a guesser slows down only
 * itself: the right password from another address is never refused
 * (docs/hub.md, "Login throttle"). After `free` failures each further one
 * makes the key wait, doubling: HUB_LOGIN_DELAY_S after the first, up to
 * HUB_LOGIN_DELAY_MAX_S; failures forget_s old are forgotten, as are a
 * pair's on a successful login and a user's on --unlock-user.
 */
#define HUB_LOGIN_FREE 5       /* failures of a (user, address) */
#define HUB_LOGIN_ADDR_FREE 20 /* failures of an address, any name */
#define HUB_LOGIN_DELAY_S 15   /* the first wait */
#define HUB_LOGIN_DELAY_MAX_S 900
#define HUB_LOGIN_FORGET_S 86400 /* a (user, address) pair's */
#define HUB_LOGIN_ADDR_FORGET_S 3600

/* The seconds (>= 1) a key with `failures` failures, the last at `last`,
 * must wait at now before it may try again, or 0. Pure. */
int hub_login_wait(int failures, double last, double now, int free,
		   double forget_s);

/* ---- cookies ---------------------------------------------------------- */

/* The value of cookie name in a Cookie header ("a=1; fl_session=..."):
 * 0 and the value in out (always terminated), FL_ENOENT, or FL_EINVAL when
 * it does not fit. header may be NULL. */
int hub_cookie_get(const char *header, const char *name, char *out,
		   size_t outlen);

#endif /* FL_HUB_SESSION_H */
