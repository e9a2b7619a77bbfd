/*
 * register.c - the resident vehicle register in the store (db.h has the
 * contracts; docs/store.md the table). Backend-neutral: rows come and go
 * through backend.h. The register is personal data (a name, a flat, a
 * phone): the store keeps it per site, replaces a site's rows only as a
 * whole, audits every import, and drops rows older than the retention
 * (fl_db_register_prune), and with them the devices' plate reads of the
 * incidents closed before it (fl_db_plates_prune); who may see a phone is
 * the hub's rule.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "fl.h"

int fl_db_register_replace(fl_db *db, const char *site,
			   const fl_db_resident *rows, size_t n,
			   const char *user, double wall, char *err,
			   size_t errlen)
{
	char detail[64];
	int r;

	if (!db || !site || !*site || !user || (n && !rows)) {
		fl_seterr(err, errlen, "no site or user");
		return FL_EINVAL;
	}
	pthread_mutex_lock(&db->mu);
	if ((r = fl__db_tx_begin(db)) == 0) {
		r = db->ops->register_clear(db->be, site);
		for (size_t i = 0; r == 0 && i < n; i++)
			r = db->ops->register_add(db->be, site, &rows[i], user,
						  wall);
		snprintf(detail, sizeof(detail), "%zu rows", n);
		if (r == 0)
			r = db->ops->audit(db->be, user, "register_import",
					   site, detail, wall);
		if (r < 0)
			fl_seterr(err, errlen, "store: %s",
				  db->ops->errmsg(db->be));
		r = fl__db_tx_finish(db, r, err, errlen);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

char *fl_db_register_find(fl_db *db, const char *site, const char *plate)
{
	json_t *row = NULL;
	int r;

	if (!db || !site || !plate || !*plate)
		return NULL;
	pthread_mutex_lock(&db->mu);
	r = db->ops->register_get(db->be, site, plate, &row);
	pthread_mutex_unlock(&db->mu);
	return r == 0 ? fl__db_finish(row, 1) : NULL;
}

char *fl_db_register_json(fl_db *db, const char *site)
{
	json_t *rows, *o;
	int ok;

	if (!db || !site)
		return NULL;
	o = fl__db_doc("residents", &rows);
	if (!o)
		return NULL;
	pthread_mutex_lock(&db->mu);
	ok = db->ops->register_rows(db->be, site, rows) == 0;
	pthread_mutex_unlock(&db->mu);
	return fl__db_finish(o, ok);
}

long fl_db_plates_prune(fl_db *db, double before)
{
	long n = 0;
	int r;

	if (!db || !isfinite(before))
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	if ((r = fl__db_tx_begin(db)) == 0) {
		r = db->ops->plates_prune(db->be, before, &n);
		r = fl__db_tx_finish(db, r, NULL, 0);
	}
	pthread_mutex_unlock(&db->mu);
	return r < 0 ? r : n;
}

long fl_db_register_prune(fl_db *db, double before)
{
	long n = 0;
	int r;

	if (!db)
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	r = db->ops->register_prune(db->be, before, &n);
	pthread_mutex_unlock(&db->mu);
	return r < 0 ? r : n;
}
