/*
 * session.c - sessions, CSRF tokens, the login throttle's rule and cookies.
 *
 * A note on the table. Sessions are a small array behind a mutex, searched
 * linearly: a hub has tens of users, not thousands, and a linear scan of a
 * few hundred entries costs nothing next to the argon2id hash of a login.
 * Expired entries are dropped whenever the table is touched, so it does
 * not grow without bound. The login throttle's counts are not here but in
 * the store (every worker and the --unlock-user command see them); only
 * its rule, the wait a count earns, is.
 */
#include "session.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fl.h"

#define HUB_VIEWS_MAX 512 /* files remembered per session */

struct sess {
	hub_session_info info;
	double last;
	char **views;
	int nviews;
};

struct hub_sessions {
	pthread_mutex_t mu;
	double idle_s;
	struct sess **v;
	int n, cap;
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

static void sess_free(struct sess *x)
{
	if (!x)
		return;
	for (int i = 0; i < x->nviews; i++)
		free(x->views[i]);
	free(x->views);
	sodium_memzero(x, sizeof(*x));
	free(x);
}

hub_sessions *hub_sessions_create(double idle_s)
{
	hub_sessions *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->mu, NULL);
	s->idle_s = idle_s;
	return s;
}

void hub_sessions_destroy(hub_sessions *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->n; i++)
		sess_free(s->v[i]);
	free(s->v);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static void remove_at(hub_sessions *s, int i)
{
	sess_free(s->v[i]);
	s->v[i] = s->v[--s->n];
}

/* Drops expired sessions. Called with the mutex held. */
static void expire(hub_sessions *s, double now)
{
	for (int i = 0; i < s->n;)
		if (now - s->v[i]->last >= s->idle_s)
			remove_at(s, i);
		else
			i++;
}

static int find(hub_sessions *s, const char *id)
{
	for (int i = 0; i < s->n; i++)
		if (token_eq(s->v[i]->info.id, id))
			return i;
	return -1;
}

int hub_session_new(hub_sessions *s, const char *user, const char *role,
		    const char *sites, double created, double now,
		    hub_session_info *out)
{
	struct sess *x;
	int rc = FL_OK;

	x = calloc(1, sizeof(*x));
	if (!x)
		return FL_ENOMEM;
	random_hex(x->info.id);
	random_hex(x->info.csrf);
	snprintf(x->info.user, sizeof(x->info.user), "%s", user);
	snprintf(x->info.role, sizeof(x->info.role), "%s", role);
	snprintf(x->info.sites, sizeof(x->info.sites), "%s",
		 sites ? sites : "");
	x->info.created = created;
	x->last = now;
	pthread_mutex_lock(&s->mu);
	expire(s, now);
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 16;
		struct sess **v = realloc(s->v, (size_t)cap * sizeof(*v));

		if (!v) {
			rc = FL_ENOMEM;
			goto out;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = x;
	*out = x->info;
	x = NULL;
out:
	pthread_mutex_unlock(&s->mu);
	sess_free(x);
	return rc;
}

int hub_session_get(hub_sessions *s, const char *id, double now,
		    hub_session_info *out)
{
	int i, rc = FL_ENOENT;

	if (!id || !*id)
		return FL_ENOENT;
	pthread_mutex_lock(&s->mu);
	expire(s, now);
	i = find(s, id);
	if (i >= 0) {
		s->v[i]->last = now;
		*out = s->v[i]->info;
		rc = FL_OK;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int hub_session_end(hub_sessions *s, const char *id)
{
	int i, rc = FL_ENOENT;

	pthread_mutex_lock(&s->mu);
	i = find(s, id);
	if (i >= 0) {
		remove_at(s, i);
		rc = FL_OK;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void hub_session_end_user(hub_sessions *s, const char *user)
{
	pthread_mutex_lock(&s->mu);
	for (int i = 0; i < s->n;)
		if (!strcmp(s->v[i]->info.user, user))
			remove_at(s, i);
		else
			i++;
	pthread_mutex_unlock(&s->mu);
}

int hub_session_first_view(hub_sessions *s, const char *id, const char *key)
{
	struct sess *x;
	char **v;
	int i, first = 0;

	pthread_mutex_lock(&s->mu);
	i = find(s, id);
	if (i < 0)
		goto out;
	x = s->v[i];
	for (i = 0; i < x->nviews; i++)
		if (!strcmp(x->views[i], key))
			goto out;
	first = 1;
	if (x->nviews >= HUB_VIEWS_MAX)
		goto out; /* not remembered: audited again, which is safe */
	v = realloc(x->views, (size_t)(x->nviews + 1) * sizeof(*v));
	if (!v)
		goto out;
	x->views = v;
	v[x->nviews] = strdup(key);
	if (v[x->nviews])
		x->nviews++;
out:
	pthread_mutex_unlock(&s->mu);
	return first;
}

int hub_session_count(hub_sessions *s, double now)
{
	int n;

	pthread_mutex_lock(&s->mu);
	expire(s, now);
	n = s->n;
	pthread_mutex_unlock(&s->mu);
	return n;
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
