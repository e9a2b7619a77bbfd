/*
 * sessions.c - the web side's sessions in the store (db.h, "web
 * sessions"; docs/store.md, "Sessions").
 *
 * The rules live here, once for every backend: an id is hashed before it
 * reaches a backend (SHA-256, hex), so no backend ever sees one; a session
 * idle too long is removed when it is looked up, and the idle ones of
 * every user whenever a session is added, so the table does not grow
 * without bound; the last-seen time is written only when it has aged
 * touch_s, so a busy page costs reads, not writes. A backend stores and
 * finds rows.
 */
#include <math.h>
#include <string.h>

#include <sodium.h>

#include "db_internal.h"
#include "fl.h"

#define HASH_HEX (crypto_hash_sha256_BYTES * 2 + 1)

/* The hex SHA-256 of id into out: 0, or FL_EINVAL for an empty id. */
static int id_hash(const char *id, char out[HASH_HEX])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	if (!id || !*id)
		return FL_EINVAL;
	crypto_hash_sha256(h, (const unsigned char *)id, strlen(id));
	sodium_bin2hex(out, HASH_HEX, h, sizeof(h));
	return 0;
}

/* Whether every text of s is terminated within its buffer. */
static int fits(const fl_db_session *s)
{
	return memchr(s->csrf, 0, sizeof(s->csrf)) &&
	       memchr(s->user, 0, sizeof(s->user)) &&
	       memchr(s->role, 0, sizeof(s->role)) &&
	       memchr(s->sites, 0, sizeof(s->sites));
}

int fl_db_session_add(fl_db *db, const char *id, const fl_db_session *s,
		      double now, double idle_s)
{
	char h[HASH_HEX];
	fl_db_session row;
	int r;

	if (!db || !s || !fits(s) || !s->user[0] || !isfinite(now) ||
	    !(idle_s > 0) || !isfinite(s->user_created) || id_hash(id, h))
		return FL_EINVAL;
	row = *s;
	row.seen = now;
	pthread_mutex_lock(&db->mu);
	r = fl__db_tx_begin(db);
	if (!r)
		r = db->ops->session_prune(db->be, now - idle_s);
	if (!r)
		r = db->ops->session_add(db->be, h, &row, now);
	if (fl__db_tx_end(db, r == 0) && !r)
		r = FL_EIO;
	pthread_mutex_unlock(&db->mu);
	sodium_memzero(&row, sizeof(row));
	return r;
}

int fl_db_session_get(fl_db *db, const char *id, double now, double idle_s,
		      double touch_s, fl_db_session *out)
{
	char h[HASH_HEX];
	int r;

	if (!db || !out || !isfinite(now) || id_hash(id, h))
		return FL_ENOENT;
	pthread_mutex_lock(&db->mu);
	r = db->ops->session_get(db->be, h, out);
	if (!r && now - out->seen >= idle_s) {
		db->ops->session_delete(db->be, h);
		r = FL_ENOENT;
	} else if (!r && now - out->seen >= touch_s) {
		/* a failed write only makes the session look older: the
		 * request itself is still the session's */
		if (db->ops->session_touch(db->be, h, now) == 0)
			out->seen = now;
	}
	pthread_mutex_unlock(&db->mu);
	if (r)
		sodium_memzero(out, sizeof(*out));
	return r;
}

int fl_db_session_end(fl_db *db, const char *id)
{
	char h[HASH_HEX];

	if (!db || id_hash(id, h))
		return FL_ENOENT;
	LOCKED(int, db->ops->session_delete(db->be, h));
}

int fl_db_session_end_user(fl_db *db, const char *user, long *removed)
{
	long n = 0;
	int r;

	if (!db || !user)
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	r = db->ops->session_delete_user(db->be, user, &n);
	pthread_mutex_unlock(&db->mu);
	if (removed)
		*removed = n;
	return r;
}

int fl_db_session_first_view(fl_db *db, const char *id, const char *key)
{
	char h[HASH_HEX];
	int added = 0, r;

	if (!db || !key || id_hash(id, h))
		return 0;
	pthread_mutex_lock(&db->mu);
	r = db->ops->session_view(db->be, h, key, &added);
	pthread_mutex_unlock(&db->mu);
	return r < 0 ? r : added;
}

int fl_db_session_count(fl_db *db, double now, double idle_s, long long *n)
{
	if (!db || !n)
		return FL_EINVAL;
	*n = 0;
	LOCKED(int, db->ops->session_count(db->be, now - idle_s, n));
}
