/*
 * enrol.c - one-time enrolment codes (db.h). Backend-neutral.
 *
 * A code is a credential for exactly one thing: enrolling the device and
 * site an admin (or an installer of that site) named, once, before it
 * expires. The store never sees the code itself, only its SHA-256 (the
 * hub hashes it), so a copy of the database lists which devices are
 * pending but hands out no code. Using a code and enrolling the key are
 * one transaction: a code is either unused and the device not enrolled by
 * it, or used by exactly the key that was enrolled.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "fl.h"
#include "id.h"

int fl_db_enrol_code_add(fl_db *db, const char *code_hash, const char *device,
			 const char *site, double now, double expires,
			 const char *by, char *err, size_t errlen)
{
	int r;

	if (!db || !code_hash || !device || !site || !isfinite(now) ||
	    !(expires > now))
		return FL_EINVAL;
	if ((r = fl__db_enrol_check(device, site, NULL, err, errlen)))
		return r;
	pthread_mutex_lock(&db->mu);
	r = db->ops->enrol_add(db->be, code_hash, device, site, now, expires,
			       by ? by : "");
	if (r < 0)
		fl_seterr(err, errlen, "store: %s", db->ops->errmsg(db->be));
	pthread_mutex_unlock(&db->mu);
	return r;
}

int fl_db_enrol_redeem(fl_db *db, const char *code_hash,
		       const char *public_key_b64, double now, char *device,
		       size_t devlen, char *site, size_t sitelen, char *err,
		       size_t errlen)
{
	double expires = 0, used = NAN;
	int r;

	if (!db || !code_hash || !devlen || !sitelen)
		return FL_EINVAL;
	device[0] = site[0] = '\0';
	/* the key before the code: a bad key learns nothing of the code */
	if (!public_key_b64)
		return FL_EINVAL;
	if ((r = fl__db_enrol_check(NULL, NULL, public_key_b64, err, errlen)))
		return r;
	pthread_mutex_lock(&db->mu);
	r = fl__db_tx_begin(db);
	if (!r)
		r = db->ops->enrol_get(db->be, code_hash, device, devlen, site,
				       sitelen, &expires, &used);
	if (r == FL_ENOENT)
		fl_seterr(err, errlen, "no such enrolment code");
	else if (!r && !isnan(used)) {
		fl_seterr(err, errlen, "the enrolment code was used already");
		r = FL_EEXIST;
	} else if (!r && expires <= now) {
		fl_seterr(err, errlen, "the enrolment code has expired");
		r = FL_ERANGE;
	}
	if (!r) /* the stored device and site, as an enrolment checks them */
		r = fl__db_enrol_check(device, site, NULL, err, errlen);
	/* a second request with the same code between our read and this
	 * write changes no row: used */
	if (!r && (r = db->ops->enrol_use(db->be, code_hash, now,
					  public_key_b64)) == FL_ENOENT) {
		fl_seterr(err, errlen, "the enrolment code was used already");
		r = FL_EEXIST;
	}
	if (!r && (r = db->ops->device_put(db->be, device, site, public_key_b64,
					   now)) < 0)
		fl_seterr(err, errlen, "store: %s", db->ops->errmsg(db->be));
	r = fl__db_tx_finish(db, r, err, errlen);
	pthread_mutex_unlock(&db->mu);
	if (r == 0)
		fl_log(FL_LOG_INFO, FL__DB_TAG,
		       "device %s enrolled for site %s by a one-time code",
		       device, site);
	return r;
}

int fl_db_enrol_release(fl_db *db, const char *code_hash)
{
	if (!db || !code_hash)
		return FL_EINVAL;
	LOCKED(int, db->ops->enrol_release(db->be, code_hash));
}

char *fl_db_enrol_codes_json(fl_db *db, double now, const char *sites_csv)
{
	json_t *o, *a;
	int ok;

	if (!db)
		return NULL;
	o = fl__db_doc("codes", &a);
	pthread_mutex_lock(&db->mu);
	ok = db->ops->enrol_rows(db->be, now, sites_csv, a) == 0;
	pthread_mutex_unlock(&db->mu);
	return fl__db_finish(o, ok);
}

int fl_db_enrol_code_revoke(fl_db *db, long long id, const char *sites_csv)
{
	if (!db)
		return FL_EINVAL;
	LOCKED(int, db->ops->enrol_delete(db->be, id, sites_csv));
}
