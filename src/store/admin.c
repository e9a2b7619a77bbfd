/*
 * admin.c - what an administrator reads: users, the quarantine of refused
 * messages and the audit trail, as JSON (db.h). Backend-neutral.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "fl.h"

#define QUARANTINE_SHOWN 65536 /* bytes of a payload the list shows */

char *fl_db_users_json(fl_db *db)
{
	json_t *o, *a;
	int ok;

	if (!db)
		return NULL;
	o = fl__db_doc("users", &a);
	pthread_mutex_lock(&db->mu);
	ok = db->ops->users_rows(db->be, a) == 0;
	pthread_mutex_unlock(&db->mu);
	return fl__db_finish(o, ok);
}

char *fl_db_audit_json(fl_db *db, const char *object, int limit, int offset)
{
	json_t *o, *a;
	long long n = 0;
	int ok;

	if (!db)
		return NULL;
	fl__db_page(&limit, &offset);
	o = fl__db_doc("audit", &a);
	pthread_mutex_lock(&db->mu);
	ok = db->ops->audit_count(db->be, object, &n) == 0 &&
	     db->ops->audit_rows(db->be, object, limit, offset, a) == 0;
	pthread_mutex_unlock(&db->mu);
	json_object_set_new(o, "total", json_integer(n));
	return fl__db_finish(o, ok);
}

/* A quarantined message as the list shows it: the payload (its first
 * QUARANTINE_SHOWN bytes) as text when it is UTF-8 without NUL bytes,
 * else as base64. */
static int quarantine_row(const fl__db_qrow *q, void *user)
{
	json_t *a = user, *r = json_object(), *v;
	size_t cut = FL_MIN(q->len, (size_t)QUARANTINE_SHOWN);
	const char *pl = q->payload;

	json_object_set_new(r, "id", json_integer(q->id));
	json_object_set_new(r, "topic",
			    q->topic ? fl__db_text(q->topic, strlen(q->topic))
				     : json_null());
	json_object_set_new(r, "reason",
			    q->reason
				    ? fl__db_text(q->reason, strlen(q->reason))
				    : json_null());
	json_object_set_new(r, "wall", fl__db_real(q->wall));
	json_object_set_new(r, "bytes", json_integer((json_int_t)q->len));
	if ((!pl || !memchr(pl, 0, cut)) &&
	    (v = json_stringn(pl ? pl : "", cut))) {
		json_object_set_new(r, "payload", v);
	} else {
		size_t blen = sodium_base64_ENCODED_LEN(
			cut, sodium_base64_VARIANT_ORIGINAL);
		char *b64 = malloc(blen);

		if (b64) {
			sodium_bin2base64(b64, blen, (const unsigned char *)pl,
					  cut, sodium_base64_VARIANT_ORIGINAL);
			json_object_set_new(r, "payload_b64", json_string(b64));
			free(b64);
		}
	}
	json_array_append_new(a, r);
	return 0;
}

char *fl_db_quarantine_json(fl_db *db, int limit, int offset)
{
	json_t *o, *a;
	long long n = 0;
	int ok;

	if (!db)
		return NULL;
	fl__db_page(&limit, &offset);
	o = fl__db_doc("quarantine", &a);
	pthread_mutex_lock(&db->mu);
	ok = db->ops->quarantine_count(db->be, &n) == 0;
	if (ok)
		json_object_set_new(o, "total", json_integer(n));
	ok = ok && db->ops->quarantine_rows(db->be, limit, offset,
					    quarantine_row, a) == 0;
	pthread_mutex_unlock(&db->mu);
	return fl__db_finish(o, ok);
}
