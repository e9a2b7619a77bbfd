/*
 * configs.c - the devices' configurations in the store (db.h has the
 * contracts; docs/store.md the table). Backend-neutral.
 *
 * A note on versions. A device's configuration is a series of whole
 * files, version 1, 2, ... never changed once stored: the hub edits by
 * adding a version, and "apply" sends one of them. A save names the
 * version its author started from, and is refused when another save came
 * first (two installers editing the same device lose nothing silently:
 * the second reloads and decides). The check and the insert are one
 * transaction, so two hub workers cannot both take the same number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "fl.h"

int fl_db_config_save(fl_db *db, const char *device, int base, const char *yaml,
		      const char *author, const char *note, double wall,
		      int *version, char *err, size_t errlen)
{
	char detail[32];
	int latest = 0, r;

	if (!db || !device || !*device || !yaml || !author || !version) {
		fl_seterr(err, errlen, "no device, text or author");
		return FL_EINVAL;
	}
	pthread_mutex_lock(&db->mu);
	if ((r = fl__db_tx_begin(db)) == 0) {
		r = db->ops->config_latest(db->be, device, &latest);
		if (r == 0 && latest != base) {
			fl_seterr(err, errlen,
				  "version %d is the latest, not %d (changed "
				  "meanwhile: reload)",
				  latest, base);
			r = FL_EEXIST;
		}
		if (r == 0)
			r = db->ops->config_add(db->be, device, latest + 1,
						yaml, author, note, wall);
		/* another hub saved that version since config_latest read
		 * (PostgreSQL: the key, not a lock, decides between them) */
		if (r == FL_EEXIST && latest == base)
			fl_seterr(err, errlen,
				  "version %d was saved meanwhile by another "
				  "writer: reload",
				  latest + 1);
		snprintf(detail, sizeof(detail), "version %d", latest + 1);
		if (r == 0)
			r = db->ops->audit(db->be, author, "config_save",
					   device, detail, wall);
		if (r < 0 && r != FL_EEXIST)
			fl_seterr(err, errlen, "store: %s",
				  db->ops->errmsg(db->be));
		r = fl__db_tx_finish(db, r, err, errlen);
	}
	pthread_mutex_unlock(&db->mu);
	if (r == 0)
		*version = latest + 1;
	return r;
}

int fl_db_config_latest(fl_db *db, const char *device, int *version)
{
	*version = 0;
	if (!db || !device)
		return FL_EINVAL;
	LOCKED(int, db->ops->config_latest(db->be, device, version));
}

int fl_db_config_get(fl_db *db, const char *device, int version, char **json)
{
	json_t *row = NULL;
	int r;

	*json = NULL;
	if (!db || !device)
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	r = version > 0 ? 0 : db->ops->config_latest(db->be, device, &version);
	if (r == 0)
		r = version > 0
			    ? db->ops->config_get(db->be, device, version, &row)
			    : FL_ENOENT;
	pthread_mutex_unlock(&db->mu);
	if (r == 0 && !(*json = fl__db_finish(row, 1)))
		r = FL_ENOMEM;
	return r;
}

int fl_db_config_heard(fl_db *db, const char *device, int version, double wall)
{
	json_t *row = NULL, *ok;
	int r;

	if (!db || !device || version < 1)
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	if ((r = fl__db_tx_begin(db)) == 0) {
		r = db->ops->config_get(db->be, device, version, &row);
		ok = json_object_get(row, "apply_ok");
		/* NULL: never sent, or an answer still awaited (its waiter
		 * stores it) */
		if (r == 0 && !(json_is_integer(ok) && !json_integer_value(ok)))
			r = FL_ENOENT;
		if (r == 0)
			r = db->ops->config_applied(db->be, device, version,
						    wall, 1, NULL);
		if (r == 0) {
			char detail[96];

			snprintf(detail, sizeof(detail),
				 "version %d: applied (the device's heartbeat "
				 "says so)",
				 version);
			r = db->ops->audit(db->be, "hub", "config_apply",
					   device, detail, wall);
		}
		r = fl__db_tx_finish(db, r, NULL, 0);
	}
	pthread_mutex_unlock(&db->mu);
	json_decref(row);
	return r;
}

char *fl_db_config_versions_json(fl_db *db, const char *device)
{
	json_t *rows, *o;
	int ok;

	if (!db || !device)
		return NULL;
	o = fl__db_doc("versions", &rows);
	if (!o)
		return NULL;
	pthread_mutex_lock(&db->mu);
	ok = db->ops->config_rows(db->be, device, rows) == 0;
	pthread_mutex_unlock(&db->mu);
	return fl__db_finish(o, ok);
}

int fl_db_config_applied(fl_db *db, const char *device, int version,
			 const char *user, int ok, const char *error,
			 double wall)
{
	char detail[600];
	int r;

	if (!db || !device || !user)
		return FL_EINVAL;
	snprintf(detail, sizeof(detail), "version %d: %.500s", version,
		 ok < 0  ? "sent"
		 : ok    ? "applied"
		 : error ? error
			 : "refused");
	pthread_mutex_lock(&db->mu);
	if ((r = fl__db_tx_begin(db)) == 0) {
		r = db->ops->config_applied(db->be, device, version, wall, ok,
					    ok > 0 ? NULL : error);
		if (r == 0)
			r = db->ops->audit(db->be, user, "config_apply", device,
					   detail, wall);
		r = fl__db_tx_finish(db, r, NULL, 0);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}
