/*
 * db.c - the store's public handle: picks the backend from the URL, holds
 * the mutex, and does what is the same for every backend: argument checks,
 * what makes a device's enrolment valid, users and their passwords, the
 * evidence rows and the quarantine. Everything with SQL is in the backend
 * (backend.h); the other rules are in the files db_internal.h lists.
 *
 * Password hashing lives here, not in a backend, so no backend ever sees a
 * password: it stores and returns the crypto_pwhash_str string (argon2id,
 * its own salt and limits inside, "$argon2id$v=19$m=...").
 */
#include "db.h"

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db_internal.h"
#include "fl.h"
#include "id.h"
#include "receipt.h"
#include "username.h"

static int is_postgres(const char *url)
{
	return !strncmp(url, "postgresql:", 11) ||
	       !strncmp(url, "postgres:", 9);
}

fl_db *fl__db_open_version(const char *url, int max_version, char *err,
			   size_t errlen)
{
	pthread_mutexattr_t a;
	fl_db *db;

	if (!url) {
		fl_seterr(err, errlen, "no store URL");
		return NULL;
	}
	if (sodium_init() < 0) {
		fl_seterr(err, errlen, "libsodium cannot initialise");
		return NULL;
	}
	db = calloc(1, sizeof(*db));
	if (!db) {
		fl_seterr(err, errlen, "out of memory");
		return NULL;
	}
	if (!strncmp(url, "sqlite:", 7)) {
		db->ops = &fl__db_sqlite_ops;
		db->be = fl__db_sqlite_open(url + 7, max_version, err, errlen);
	} else if (is_postgres(url)) {
#ifdef FL_HAVE_LIBPQ
		db->ops = &fl__db_pg_ops;
		db->be = fl__db_pg_open(url, max_version, err, errlen);
#else
		fl_seterr(err, errlen,
			  "PostgreSQL is not built in (no libpq at build time)");
#endif
	} else {
		fl_seterr(err, errlen,
			  "unknown store URL scheme '%.*s' (want sqlite:PATH or "
			  "postgresql://...)",
			  (int)FL_MIN(strcspn(url, ":"), 32), url);
	}
	if (!db->be) {
		free(db);
		return NULL;
	}
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&db->mu, &a);
	pthread_mutexattr_destroy(&a);
	return db;
}

fl_db *fl_db_open(const char *url, char *err, size_t errlen)
{
	return fl__db_open_version(url, 0, err, errlen);
}

void fl_db_close(fl_db *db)
{
	if (!db)
		return;
	db->ops->close(db->be);
	pthread_mutex_destroy(&db->mu);
	free(db);
}

int fl_db_schema_latest(void)
{
	return fl__db_sqlite_latest();
}

int fl_db_schema_version(fl_db *db)
{
	if (!db)
		return FL_EINVAL;
	LOCKED(int, db->ops->schema_version(db->be));
}

int fl_db_set_durable(fl_db *db, int full)
{
	if (!db)
		return FL_EINVAL;
	LOCKED(int, db->ops->set_durable(db->be, full));
}

int fl_db_batch_begin(fl_db *db)
{
	int r;

	if (!db)
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	r = db->in_batch ? FL_EINVAL : db->ops->tx(db->be, FL__TX_BEGIN);
	if (r < 0) {
		pthread_mutex_unlock(&db->mu);
		return r;
	}
	db->in_batch = 1;
	return 0;
}

int fl_db_batch_end(fl_db *db, int commit)
{
	int r;

	if (!db)
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	if (!db->in_batch) {
		pthread_mutex_unlock(&db->mu);
		return FL_EINVAL;
	}
	db->in_batch = 0;
	if (commit && db->ops->tx(db->be, FL__TX_COMMIT) == 0) {
		r = 0;
	} else {
		db->ops->tx(db->be, FL__TX_ROLLBACK);
		r = commit ? FL_EIO : 0;
	}
	/* once for this call, once for batch_begin's */
	pthread_mutex_unlock(&db->mu);
	pthread_mutex_unlock(&db->mu);
	return r;
}

int fl__db_enrol_check(const char *device, const char *site,
		       const char *public_key_b64, char *err, size_t errlen)
{
	unsigned char pk[64];
	size_t pklen = 0;

	if (device && !fl_id_valid(device, FL_ID_MAX)) {
		fl_seterr(err, errlen,
			  "device id: 1-63 characters of A-Z a-z 0-9 _ . -");
		return FL_EINVAL;
	}
	if (site && (!*site || strlen(site) > 256)) {
		fl_seterr(err, errlen, "site: 1-256 bytes");
		return FL_EINVAL;
	}
	if (public_key_b64 &&
	    (sodium_base642bin(pk, sizeof(pk), public_key_b64,
			       strlen(public_key_b64), " \n", &pklen, NULL,
			       sodium_base64_VARIANT_ORIGINAL) != 0 ||
	     pklen != 32)) {
		fl_seterr(err, errlen,
			  "public key: base64 of a 32-byte Ed25519 public key");
		return FL_EINVAL;
	}
	return 0;
}

int fl_db_device_enrol(fl_db *db, const char *device, const char *site,
		       const char *public_key_b64, char *err, size_t errlen)
{
	int r;

	if (!db || !device || !site || !public_key_b64)
		return FL_EINVAL;
	if ((r = fl__db_enrol_check(device, site, public_key_b64, err, errlen)))
		return r;
	pthread_mutex_lock(&db->mu);
	r = db->ops->device_put(db->be, device, site, public_key_b64,
				fl_wall_s());
	if (r < 0)
		fl_seterr(err, errlen, "store: %s", db->ops->errmsg(db->be));
	pthread_mutex_unlock(&db->mu);
	if (r == 0)
		fl_log(FL_LOG_INFO, FL__DB_TAG,
		       "device %s enrolled for site %s", device, site);
	return r;
}

int fl_db_device_get(fl_db *db, const char *device, char *site, size_t sitelen,
		     char *pk_b64, size_t pklen)
{
	if (!db || !device)
		return FL_EINVAL;
	LOCKED(int, db->ops->device_get(db->be, device, site, sitelen, pk_b64,
					pklen));
}

int fl_db_device_seen(fl_db *db, const char *device, const char *status,
		      double wall, const char *heartbeat_json)
{
	if (!db || !device)
		return FL_EINVAL;
	LOCKED(int, db->ops->device_seen(db->be, device, status, -1, wall,
					 heartbeat_json));
}

int fl_db_device_status(fl_db *db, const char *device, char *status,
			size_t statuslen)
{
	long long epoch;

	if (!db || !device || !status || !statuslen)
		return FL_EINVAL;
	LOCKED(int, db->ops->device_status(db->be, device, status, statuslen,
					   &epoch, 0));
}

/* The receipts of the backend's rows. A row whose id or hash a receipt
 * cannot carry (not possible from the hub's own checks, but the store does
 * not assume it) is skipped. */
static int receipts_of(json_t *rows, fl_receipt **out, size_t *n)
{
	size_t i, k = json_array_size(rows);
	fl_receipt *a = k ? calloc(k, sizeof(*a)) : NULL;
	json_t *row;

	if (k && !a)
		return FL_ENOMEM;
	json_array_foreach(rows, i, row)
	{
		const char *id = json_string_value(
			json_object_get(row, "incident_id"));
		const char *sha = json_string_value(
			json_object_get(row, "sha256"));
		fl_receipt *r = &a[*n];

		if (!id || !sha || strlen(id) >= sizeof(r->incident_id) ||
		    strlen(sha) != 64)
			continue;
		snprintf(r->incident_id, sizeof(r->incident_id), "%s", id);
		r->verified = 1;
		memcpy(r->manifest_sha256, sha, 64);
		(*n)++;
	}
	if (!*n) {
		free(a);
		a = NULL;
	}
	*out = a;
	return 0;
}

int fl_db_device_receipts(fl_db *db, const char *device, double since_wall,
			  int max, struct fl_receipt **out, size_t *n)
{
	json_t *rows;
	int r;

	if (out)
		*out = NULL;
	if (n)
		*n = 0;
	if (!db || !device || !out || !n || max < 1 || max > FL_DB_RECEIPTS_MAX)
		return FL_EINVAL;
	if (!(rows = json_array()))
		return FL_ENOMEM;
	pthread_mutex_lock(&db->mu);
	r = db->ops->receipt_rows(db->be, device, since_wall, max, rows);
	pthread_mutex_unlock(&db->mu);
	if (r == 0)
		r = receipts_of(rows, out, n);
	json_decref(rows);
	return r;
}

int fl_db_quarantine(fl_db *db, const char *topic, const char *payload,
		     size_t len, const char *reason, double wall)
{
	if (!db)
		return FL_EINVAL;
	LOCKED(int, db->ops->quarantine_add(db->be, topic, payload, len, reason,
					    wall));
}

int fl_db_quarantine_trim(fl_db *db, long keep, long *removed)
{
	long n = 0;
	int rc;

	if (!db || keep < 0)
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	rc = db->ops->quarantine_trim(db->be, keep, &n);
	pthread_mutex_unlock(&db->mu);
	if (removed)
		*removed = rc ? 0 : n;
	return rc;
}

/* The verdict rule (db.h, "A note on the verdict"): rows of a verified
 * bundle are never replaced. The verdict is read and the row written in one
 * transaction, the incident's row locked (incident_verdict), so a verdict
 * another hub sets meanwhile is not written past. */
int fl_db_evidence_add(fl_db *db, const char *incident_id, const char *name,
		       const char *sha256, long long bytes, const char *kind,
		       int verified)
{
	int r, v = -1;

	if (!db || !incident_id || !name)
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	if ((r = fl__db_tx_begin(db)) == 0) {
		r = db->ops->incident_verdict(db->be, incident_id, &v, 1);
		if (r == 0 && v == 1)
			r = FL_EEXIST;
		else if (r == 0)
			r = db->ops->evidence_put(db->be, incident_id, name,
						  sha256, bytes, kind,
						  verified);
		r = fl__db_tx_finish(db, r, NULL, 0);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

/* ... and a verdict is never lowered (in one transaction, as above). */
int fl_db_evidence_set_verified(fl_db *db, const char *incident_id,
				int verified, const char *report)
{
	int r, v = -1;

	if (!db || !incident_id)
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	if ((r = fl__db_tx_begin(db)) == 0) {
		r = db->ops->incident_verdict(db->be, incident_id, &v, 1);
		if (r == 0 && v == 1 && !verified)
			r = FL_EEXIST;
		else if (r == 0) /* verified (again): the bundle is on disk,
				    so not pruned any more */
			r = db->ops->incident_verified(db->be, incident_id,
						       verified, report, NAN);
		r = fl__db_tx_finish(db, r, NULL, 0);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int fl_db_evidence_verdict(fl_db *db, const char *incident_id, int *verified)
{
	if (!db || !incident_id || !verified)
		return FL_EINVAL;
	*verified = -1;
	LOCKED(int,
	       db->ops->incident_verdict(db->be, incident_id, verified, 0));
}

int fl_db_evidence_file(fl_db *db, const char *incident_id, const char *name,
			fl_db_evfile *out)
{
	if (!db || !incident_id || !name || !out)
		return FL_EINVAL;
	memset(out, 0, sizeof(*out));
	LOCKED(int, db->ops->evidence_file(db->be, incident_id, name, out));
}

int fl_db_evidence_tampered(fl_db *db, const char *incident_id,
			    const char *name, double wall)
{
	if (!db || !incident_id || !name || isinf(wall))
		return FL_EINVAL;
	LOCKED(int,
	       db->ops->evidence_tampered(db->be, incident_id, name, wall));
}

int fl_db_evidence_scan(fl_db *db, const char *after_id, const char *after_name,
			fl_db_evfile *out, size_t max, size_t *n)
{
	if (n)
		*n = 0;
	if (!db || !after_id || !after_name || !out || !max || !n)
		return FL_EINVAL;
	LOCKED(int, db->ops->evidence_scan(db->be, after_id, after_name, out,
					   max, n));
}

int fl_db_evidence_pruned(fl_db *db, const char *incident_id, double wall)
{
	if (!db || !incident_id || !isfinite(wall))
		return FL_EINVAL;
	LOCKED(int, db->ops->incident_pruned(db->be, incident_id, wall));
}

/* ---- users ------------------------------------------------------------------ */

/* FL_ENOENT when no user's name looks like name (username.h), FL_EINVAL
 * with the reason when one does. Called with the mutex held. */
static int look_alike(fl_db *db, const char *name, char *err, size_t errlen)
{
	char *key = malloc(FL_USER_KEY_LEN), *other = malloc(FL_USER_KEY_LEN);
	json_t *rows = json_array(), *row;
	size_t i;
	int r;

	if (!key || !other || !rows) {
		r = FL_ENOMEM;
		goto out;
	}
	r = fl_user_name_key(name, key, FL_USER_KEY_LEN);
	if (!r)
		r = db->ops->users_rows(db->be, rows);
	if (r) {
		fl_seterr(err, errlen, "user name: %s", fl_strerror(r));
		goto out;
	}
	r = FL_ENOENT;
	json_array_foreach(rows, i, row)
	{
		const char *have = json_string_value(
			json_object_get(row, "name"));

		/* a stored name from before the rule has no key: compared as is */
		if (!have || (fl_user_name_key(have, other, FL_USER_KEY_LEN)
				      ? strcmp(have, name)
				      : strcmp(other, key)))
			continue;
		fl_seterr(err, errlen,
			  "user name '%s' looks like the existing user '%s'",
			  name, have);
		r = FL_EINVAL;
		break;
	}
out:
	json_decref(rows);
	free(key);
	free(other);
	return r;
}

static int valid_role(const char *r)
{
	return r && (!strcmp(r, "admin") || !strcmp(r, "enforcement") ||
		     !strcmp(r, "property") || !strcmp(r, "installer"));
}

static int hash_password(const char *password, char out[crypto_pwhash_STRBYTES])
{
	if (crypto_pwhash_str_alg(out, password, strlen(password),
				  crypto_pwhash_OPSLIMIT_INTERACTIVE,
				  crypto_pwhash_MEMLIMIT_INTERACTIVE,
				  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return FL_ENOMEM; /* libsodium: out of memory */
	return 0;
}

/* "s1, s2,,s3 " -> "s1,s2,s3": the store matches whole names between
 * commas. malloc'd; NULL on no memory. */
static char *sites_norm(const char *in)
{
	char *out = malloc(strlen(in) + 1), *o = out;
	const char *p = in;

	if (!out)
		return NULL;
	while (*p) {
		const char *e = strchr(p, ','), *a = p, *z;

		if (!e)
			e = p + strlen(p);
		z = e;
		while (a < z && (*a == ' ' || *a == '\t'))
			a++;
		while (z > a && (z[-1] == ' ' || z[-1] == '\t'))
			z--;
		if (z > a) {
			if (o != out)
				*o++ = ',';
			memcpy(o, a, (size_t)(z - a));
			o += z - a;
		}
		p = *e ? e + 1 : e;
	}
	*o = '\0';
	return out;
}

int fl_db_user_add(fl_db *db, const char *name, const char *password,
		   const char *role, const char *sites_csv, char *err,
		   size_t errlen)
{
	char hash[crypto_pwhash_STRBYTES], *sites;
	int r;

	if (!db)
		return FL_EINVAL;
	if (fl_user_name_check(name, err, errlen))
		return FL_EINVAL;
	if (!valid_role(role)) {
		fl_seterr(err, errlen,
			  "role: one of admin, enforcement, property, "
			  "installer");
		return FL_EINVAL;
	}
	/* an installer is a contractor for some sites, never for all */
	if (!strcmp(role, "installer") &&
	    (!sites_csv || !sites_csv[strspn(sites_csv, " \t,")])) {
		fl_seterr(err, errlen, "an installer needs --sites");
		return FL_EINVAL;
	}
	if (!password || !*password) {
		fl_seterr(err, errlen, "empty password");
		return FL_EINVAL;
	}
	/* hashing takes ~0.1 s and 64 MiB: outside the mutex */
	if (hash_password(password, hash) < 0) {
		fl_seterr(err, errlen, "cannot hash the password (memory)");
		return FL_ENOMEM;
	}
	/* only the roles scoped to sites keep them */
	sites = sites_norm(
		(strcmp(role, "property") && strcmp(role, "installer")) ||
				!sites_csv
			? ""
			: sites_csv);
	if (!sites) {
		fl_seterr(err, errlen, "out of memory");
		return FL_ENOMEM;
	}
	pthread_mutex_lock(&db->mu);
	r = db->ops->user_get(db->be, name, NULL, 0, NULL, 0, NULL, 0, NULL);
	if (r == 0) {
		fl_seterr(err, errlen, "user '%s' exists", name);
		r = FL_EINVAL;
	} else if (r == FL_ENOENT) {
		r = look_alike(db, name, err, errlen);
	}
	if (r == FL_ENOENT) {
		r = db->ops->user_add(db->be, name, hash, role, sites,
				      fl_wall_s());
		if (r < 0)
			fl_seterr(err, errlen, "store: %s",
				  db->ops->errmsg(db->be));
	}
	pthread_mutex_unlock(&db->mu);
	sodium_memzero(hash, sizeof(hash));
	free(sites);
	return r;
}

int fl_db_user_set_password(fl_db *db, const char *name, const char *password)
{
	char hash[crypto_pwhash_STRBYTES];
	int r;

	if (!db || !name || !password || !*password)
		return FL_EINVAL;
	if (hash_password(password, hash) < 0)
		return FL_ENOMEM;
	pthread_mutex_lock(&db->mu);
	r = db->ops->user_set_hash(db->be, name, hash);
	pthread_mutex_unlock(&db->mu);
	return r;
}

/* A hash of a random password, verified against when the user is unknown so
 * "no such user" costs as long as "wrong password". Made once, lazily. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_make(void)
{
	char pw[33];

	randombytes_buf(pw, 32);
	for (int i = 0; i < 32; i++)
		pw[i] = (char)('a' + (unsigned char)pw[i] % 26);
	pw[32] = '\0';
	if (hash_password(pw, dummy_hash) < 0)
		dummy_hash[0] = '\0';
}

int fl_db_user_check(fl_db *db, const char *name, const char *password,
		     char *role, size_t rolelen, char *sites, size_t siteslen)
{
	char hash[crypto_pwhash_STRBYTES + 1], r_role[32], r_sites[4096];
	int r;

	if (!db || !name || !password)
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	r = db->ops->user_get(db->be, name, hash, sizeof(hash), r_role,
			      sizeof(r_role), r_sites, sizeof(r_sites), NULL);
	pthread_mutex_unlock(&db->mu);
	if (r == FL_ENOENT) {
		pthread_once(&dummy_once, dummy_make);
		if (dummy_hash[0] &&
		    crypto_pwhash_str_verify(dummy_hash, password,
					     strlen(password)) == 0)
			fl_log(FL_LOG_DEBUG, "store", "a random password hit");
		return FL_EINVAL;
	}
	if (r < 0)
		return r;
	if (crypto_pwhash_str_verify(hash, password, strlen(password)) != 0)
		return FL_EINVAL;
	if (role && rolelen)
		snprintf(role, rolelen, "%s", r_role);
	if (sites && siteslen)
		snprintf(sites, siteslen, "%s", r_sites);
	return 0;
}

int fl_db_user_delete(fl_db *db, const char *name)
{
	long n = 0;
	int r;

	if (!db || !name)
		return FL_EINVAL;
	/* the user and their sessions in one transaction: no session row
	 * outlives its user (--delete-user from another process included) */
	pthread_mutex_lock(&db->mu);
	r = fl__db_tx_begin(db);
	if (!r)
		r = db->ops->user_delete(db->be, name);
	if (!r)
		r = db->ops->session_delete_user(db->be, name, &n);
	if (fl__db_tx_end(db, r == 0) && !r)
		r = FL_EIO;
	pthread_mutex_unlock(&db->mu);
	return r;
}

int fl_db_user_info(fl_db *db, const char *name, char *role, size_t rolelen,
		    char *sites, size_t siteslen, double *created)
{
	if (!db || !name)
		return FL_EINVAL;
	LOCKED(int, db->ops->user_get(db->be, name, NULL, 0, role, rolelen,
				      sites, siteslen, created));
}

/* ---- login throttle --------------------------------------------------------- */

/* Rows kept at most: an attacker spraying names and addresses fills no
 * disk (the stalest go first). */
#define LOGIN_ROWS_MAX 100000

int fl_db_login_failures(fl_db *db, const char *user, const char *addr,
			 int *failures, double *last)
{
	int r;

	if (!db || !user || !addr || !failures || !last)
		return FL_EINVAL;
	*failures = 0;
	*last = 0;
	pthread_mutex_lock(&db->mu);
	r = db->ops->login_get(db->be, user, addr, failures, last);
	pthread_mutex_unlock(&db->mu);
	return r == FL_ENOENT ? FL_OK : r;
}

int fl_db_login_fail(fl_db *db, const char *user, const char *addr, double wall,
		     double forget_s)
{
	int r;

	if (!db || !user || !addr || !isfinite(wall) || forget_s <= 0)
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	r = fl__db_tx_begin(db);
	if (!r)
		r = db->ops->login_fail(db->be, user, addr, wall,
					wall - forget_s);
	if (!r)
		r = db->ops->login_prune(db->be, wall - FL_DB_LOGIN_KEEP_S,
					 LOGIN_ROWS_MAX);
	if (fl__db_tx_end(db, r == 0) && !r)
		r = FL_EIO;
	pthread_mutex_unlock(&db->mu);
	return r;
}

int fl_db_login_reset(fl_db *db, const char *user, const char *addr,
		      long *removed)
{
	long n = 0;
	int r;

	if (!db || !user)
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	r = db->ops->login_reset(db->be, user, addr, &n);
	pthread_mutex_unlock(&db->mu);
	if (removed)
		*removed = n;
	return r;
}

/* ---- audit, incidents ------------------------------------------------------- */

int fl_db_audit(fl_db *db, const char *user, const char *action,
		const char *object, const char *detail, double wall)
{
	if (!db || !action)
		return FL_EINVAL;
	LOCKED(int, db->ops->audit(db->be, user, action, object, detail, wall));
}

int fl_db_incident_site(fl_db *db, const char *incident_id, char *site,
			size_t sitelen)
{
	if (!db || !incident_id)
		return FL_EINVAL;
	LOCKED(int, db->ops->incident_site(db->be, incident_id, site, sitelen));
}

int fl__db_tx_begin(fl_db *db)
{
	return db->ops->tx(db->be,
			   db->in_batch ? FL__TX_SAVEPOINT : FL__TX_BEGIN);
}

int fl__db_tx_end(fl_db *db, int commit)
{
	if (db->in_batch) {
		if (commit)
			return db->ops->tx(db->be, FL__TX_RELEASE);
		db->ops->tx(db->be, FL__TX_ROLLBACK_TO);
		return db->ops->tx(db->be, FL__TX_RELEASE);
	}
	if (commit)
		return db->ops->tx(db->be, FL__TX_COMMIT);
	db->ops->tx(db->be, FL__TX_ROLLBACK);
	return 0;
}

int fl__db_tx_finish(fl_db *db, int r, char *err, size_t errlen)
{
	if (fl__db_tx_end(db, r == 0) < 0 && r == 0) {
		fl_seterr(err, errlen, "commit: %s", db->ops->errmsg(db->be));
		r = FL_EIO;
	}
	return r;
}

void fl__db_page(int *limit, int *offset)
{
	if (*limit <= 0)
		*limit = 50;
	if (*limit > 1000)
		*limit = 1000;
	if (*offset < 0)
		*offset = 0;
}
