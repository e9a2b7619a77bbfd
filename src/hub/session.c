/*
 * session.c - sessions, CSRF tokens, the login throttle's rule and cookies.
 *
 * A note on where things are. The sessions are rows of the store (its
 * sessions.c hashes the ids, expires the idle ones and writes the
 * last-seen time sparingly), so this file only makes the random id and
 * token and maps a row to what a request learns. The login throttle's
 * counts are in the store too (every worker, every hub and the
 * --unlock-user command see them); only its rule, the wait a count earns,
 * is here.
 */
#include "session.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fl.h"

struct hub_sessions {
	fl_db *db;
	double idle_s, touch_s;
};

static void random_hex(char out[HUB_TOKEN_LEN])
{
	unsigned char b[32];

	randombytes_buf(b, sizeof(b));
	sodium_bin2hex(out, HUB_TOKEN_LEN, b, sizeof(b));
	sodium_memzero(b, sizeof(b));
}

/* Constant time for equal lengths; lengths are not secret (always 64). */
static int token_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb || la == 0)
		return 0;
	return sodium_memcmp(a, b, la) == 0;
}

hub_sessions *hub_sessions_create(fl_db *db, double idle_s)
{
	hub_sessions *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->db = db;
	s->idle_s = idle_s;
	s->touch_s = FL_MIN(HUB_SESSION_TOUCH_S, idle_s / 10);
	return s;
}

void hub_sessions_destroy(hub_sessions *s)
{
	free(s);
}

/* What a request learns from a stored row. */
static void info_of(const char *id, const fl_db_session *row,
		    hub_session_info *out)
{
	snprintf(out->id, sizeof(out->id), "%s", id);
	snprintf(out->csrf, sizeof(out->csrf), "%s", row->csrf);
	snprintf(out->user, sizeof(out->user), "%s", row->user);
	snprintf(out->role, sizeof(out->role), "%s", row->role);
	snprintf(out->sites, sizeof(out->sites), "%s", row->sites);
	out->created = row->user_created;
}

int hub_session_new(hub_sessions *s, const char *user, const char *role,
		    const char *sites, double created, double now,
		    hub_session_info *out)
{
	fl_db_session row = { .user_created = created };
	char id[HUB_TOKEN_LEN];
	int rc;

	random_hex(id);
	random_hex(row.csrf);
	snprintf(row.user, sizeof(row.user), "%s", user);
	snprintf(row.role, sizeof(row.role), "%s", role);
	snprintf(row.sites, sizeof(row.sites), "%s", sites ? sites : "");
	rc = fl_db_session_add(s->db, id, &row, now, s->idle_s);
	if (!rc)
		info_of(id, &row, out);
	sodium_memzero(&row, sizeof(row));
	sodium_memzero(id, sizeof(id));
	return rc;
}

int hub_session_get(hub_sessions *s, const char *id, double now,
		    hub_session_info *out)
{
	fl_db_session row;
	int rc;

	if (!id || !*id)
		return FL_ENOENT;
	rc = fl_db_session_get(s->db, id, now, s->idle_s, s->touch_s, &row);
	if (!rc)
		info_of(id, &row, out);
	sodium_memzero(&row, sizeof(row));
	return rc;
}

int hub_session_end(hub_sessions *s, const char *id)
{
	return fl_db_session_end(s->db, id);
}

void hub_session_end_user(hub_sessions *s, const char *user)
{
	fl_db_session_end_user(s->db, user, NULL);
}

int hub_session_first_view(hub_sessions *s, const char *id, const char *key)
{
	return fl_db_session_first_view(s->db, id, key) != 0;
}

int hub_session_count(hub_sessions *s, double now)
{
	long long n = 0;

	if (fl_db_session_count(s->db, now, s->idle_s, &n))
		return 0;
	return (int)n;
}

int hub_csrf_ok(const hub_session_info *info, const char *token)
{
	return token && token_eq(info->csrf, token);
}

/* ---- login throttle ----------------------------------------------------- */

int hub_login_wait(int failures, double last, double now, int free,
		   double forget_s)
{
	double delay = HUB_LOGIN_DELAY_S, wait;

	if (failures < free || now - last >= forget_s)
		return 0;
	for (int i = free; i < failures && delay < HUB_LOGIN_DELAY_MAX_S; i++)
		delay *= 2;
	if (delay > HUB_LOGIN_DELAY_MAX_S)
		delay = HUB_LOGIN_DELAY_MAX_S;
	wait = ceil(last + delay - now);
	/* a clock stepped back must not make the wait longer than the delay */
	return wait <= 0 ? 0 : (int)(wait > delay ? delay : wait);
}

/* ---- cookies ---------------------------------------------------------- */

int hub_cookie_get(const char *h, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);

	if (!h || !outlen)
		return FL_ENOENT;
	while (*h) {
		const char *end;
		size_t vl;

		while (*h == ' ' || *h == '\t' || *h == ';')
			h++;
		end = h + strcspn(h, ";");
		if ((size_t)(end - h) > nl && !strncmp(h, name, nl) &&
		    h[nl] == '=') {
			const char *v = h + nl + 1;

			vl = (size_t)(end - v);
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
				v++;
				vl -= 2;
			}
			if (!vl)
				return FL_ENOENT;
			if (vl >= outlen)
				return FL_EINVAL;
			memcpy(out, v, vl);
			out[vl] = 0;
			return FL_OK;
		}
		h = end;
	}
	return FL_ENOENT;
}
