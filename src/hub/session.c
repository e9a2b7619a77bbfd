/*
 * session.c - sessions, CSRF tokens, the login rate limit and cookies.
 *
 * A note on the tables. Both are small arrays behind a mutex, searched
 * linearly: a hub has tens of users, not thousands, and a linear scan of a
 * few hundred entries costs nothing next to the argon2id hash of a login.
 * Expired entries are dropped whenever the table is touched, so neither
 * grows without bound; the rate limit also caps its size (HUB_RATE_KEYS) and
 * drops the stalest key when an attacker sprays names.
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
		    const char *sites, double now, hub_session_info *out)
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

/* ---- login rate limit ------------------------------------------------- */

struct rate {
	char key[200];
	double t[HUB_RATE_MAX]; /* failure times, a ring */
	int n;                  /* failures recorded (<= HUB_RATE_MAX) */
	int next;               /* ring position of the next failure */
	double newest;
};

struct hub_ratelimit {
	pthread_mutex_t mu;
	struct rate *v;
	int n, cap;
};

hub_ratelimit *hub_ratelimit_create(void)
{
	hub_ratelimit *r = calloc(1, sizeof(*r));

	if (r)
		pthread_mutex_init(&r->mu, NULL);
	return r;
}

void hub_ratelimit_destroy(hub_ratelimit *r)
{
	if (!r)
		return;
	free(r->v);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static struct rate *rate_find(hub_ratelimit *r, const char *key)
{
	for (int i = 0; i < r->n; i++)
		if (!strncmp(r->v[i].key, key, sizeof(r->v[i].key) - 1))
			return &r->v[i];
	return NULL;
}

/* Failures of x inside the window ending at now, and the oldest of them. */
static int rate_recent(const struct rate *x, double now, double *oldest)
{
	int c = 0;

	*oldest = now;
	for (int i = 0; i < x->n; i++)
		if (now - x->t[i] < HUB_RATE_WINDOW_S) {
			c++;
			if (x->t[i] < *oldest)
				*oldest = x->t[i];
		}
	return c;
}

int hub_ratelimit_check(hub_ratelimit *r, const char *key, double now)
{
	struct rate *x;
	double oldest;
	int wait = 0;

	pthread_mutex_lock(&r->mu);
	x = rate_find(r, key);
	if (x && rate_recent(x, now, &oldest) >= HUB_RATE_MAX) {
		wait = (int)ceil(oldest + HUB_RATE_WINDOW_S - now);
		if (wait < 1)
			wait = 1;
	}
	pthread_mutex_unlock(&r->mu);
	return wait;
}

void hub_ratelimit_fail(hub_ratelimit *r, const char *key, double now)
{
	struct rate *x;

	pthread_mutex_lock(&r->mu);
	x = rate_find(r, key);
	if (!x) {
		/* Drop keys with nothing in the window; then the stalest. */
		for (int i = 0; i < r->n;)
			if (now - r->v[i].newest >= HUB_RATE_WINDOW_S)
				r->v[i] = r->v[--r->n];
			else
				i++;
		if (r->n >= HUB_RATE_KEYS) {
			int s = 0;

			for (int i = 1; i < r->n; i++)
				if (r->v[i].newest < r->v[s].newest)
					s = i;
			r->v[s] = r->v[--r->n];
		}
		if (r->n == r->cap) {
			int cap = r->cap ? r->cap * 2 : 32;
			struct rate *v = realloc(r->v,
						 (size_t)cap * sizeof(*v));

			if (!v)
				goto out;
			r->v = v;
			r->cap = cap;
		}
		x = &r->v[r->n++];
		memset(x, 0, sizeof(*x));
		snprintf(x->key, sizeof(x->key), "%s", key);
	}
	x->t[x->next] = now;
	x->next = (x->next + 1) % HUB_RATE_MAX;
	if (x->n < HUB_RATE_MAX)
		x->n++;
	x->newest = now;
out:
	pthread_mutex_unlock(&r->mu);
}

void hub_ratelimit_reset(hub_ratelimit *r, const char *key)
{
	struct rate *x;

	pthread_mutex_lock(&r->mu);
	x = rate_find(r, key);
	if (x)
		*x = r->v[--r->n];
	pthread_mutex_unlock(&r->mu);
}

int hub_ratelimit_keys(hub_ratelimit *r)
{
	int n;

	pthread_mutex_lock(&r->mu);
	n = r->n;
	pthread_mutex_unlock(&r->mu);
	return n;
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
