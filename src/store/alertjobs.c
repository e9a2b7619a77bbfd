/*
 * alertjobs.c - the alerts' jobs, steps and clocks in the store (db.h,
 * "alert jobs"; docs/store.md, "Alerts").
 *
 * A note on the model. Several hubs share one store, and an alert must
 * still go out once: so what the alerts module used to keep in files
 * (jobs, claims, "made" marks, escalation clocks) is rows, and the rules
 * about them live here, once for every backend.
 *
 * Claims are leases. A hub claims a due job with one atomic change (the
 * backend's: a conditional UPDATE, with SKIP LOCKED on PostgreSQL, inside
 * SQLite's write lock there) that writes its name and the lease's end, and
 * every later change of the job names the holder: a hub whose lease ran
 * out and whose job another hub took changes nothing any more. A hub that
 * dies simply stops renewing; the lease runs out and the job is due again.
 * So of two hubs only one sends a job, except that a hub which sent and
 * died before recording it leaves one repeat (the same worst case as the
 * files had).
 *
 * Steps are serialised per incident. An incident's alarm and its close may
 * be handled by two hubs at the same instant; each marks its step made and
 * looks at the other's in one transaction that first takes the incident's
 * lock (alert_lock: an advisory lock on PostgreSQL, where a READ COMMITTED
 * read would not see the other's uncommitted mark; SQLite's write
 * transaction serialises already). The second of the two always sees the
 * first, so the all-clear is made; and since the alarm's jobs commit with
 * its mark, the all-clear's jobs (which wait for them) never exist before
 * the alarm's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "fl.h"

void fl_db_alert_job_free(fl_db_alert_job *j)
{
	if (!j)
		return;
	free(j->body);
	j->body = NULL;
}

void fl_db_alert_clock_free(fl_db_alert_clock *c)
{
	if (!c)
		return;
	free(c->info);
	c->info = NULL;
}

static int step_ok(const char *step)
{
	return step && (!strcmp(step, "alarm") || !strcmp(step, "closed") ||
			!strcmp(step, "cleared"));
}

static int job_ok(const fl_db_alert_job *j)
{
	return j && j->name[0] && j->kind[0] && j->dest[0] && j->body &&
	       (!j->state[0] || !strcmp(j->state, "outbox") ||
		!strcmp(j->state, "sent") || !strcmp(j->state, "failed"));
}

/* Jobs made unless they exist (the caller holds the mutex, in a
 * transaction). */
static int jobs_add(fl_db *db, const char *iid, const fl_db_alert_job *j,
		    size_t n)
{
	int r = 0, added;

	for (size_t i = 0; !r && i < n; i++)
		r = job_ok(&j[i])
			    ? db->ops->alert_job_add(db->be, &j[i], iid, &added)
			    : FL_EINVAL;
	return r;
}

/* The all-clear, once: marked "cleared" and its jobs made. *made gets
 * FL_DB_ALERT_CLEARED when this call made it. */
static int clear_once(fl_db *db, const fl_db_alert_todo *s, double now,
		      int *made)
{
	int added = 0,
	    r = db->ops->alert_mark(db->be, s->iid, "cleared", now, &added);

	if (r || !added)
		return r;
	*made |= FL_DB_ALERT_CLEARED;
	return jobs_add(db, s->iid, s->clear, s->nclear);
}

/* The step in the open transaction, under the incident's lock. */
static int step_locked(fl_db *db, const fl_db_alert_todo *s, double now,
		       int *made)
{
	int r, added = 0, other = 0, alarm = !strcmp(s->step, "alarm");

	if ((r = db->ops->alert_lock(db->be, s->iid)) ||
	    (r = db->ops->alert_mark(db->be, s->iid, s->step, now, &added)) ||
	    (r = db->ops->alert_marked(db->be, s->iid,
				       alarm ? "closed" : "alarm", &other)))
		return r;
	if (!alarm) {
		/* closed: no escalation any more (an owner clock runs on: the
		 * hub finds the incident closed and says so in its log) */
		r = db->ops->alert_clock_end(db->be, s->iid, "escalate", NULL,
					     0);
		if (r && r != FL_ENOENT)
			return r;
		return other ? clear_once(db, s, now, made) : 0;
	}
	if (!added)
		return 0; /* handled before */
	*made |= FL_DB_ALERT_JOBS;
	if ((r = jobs_add(db, s->iid, s->jobs, s->njobs)))
		return r;
	if (other) {
		*made |= FL_DB_ALERT_LATE;
		return clear_once(db, s, now, made);
	}
	for (size_t i = 0; !r && i < s->nclocks; i++)
		r = db->ops->alert_clock_add(db->be, &s->clocks[i], &added);
	return r;
}

int fl_db_alert_step(fl_db *db, const fl_db_alert_todo *s, double now,
		     int *made)
{
	int r, bits = 0;

	if (made)
		*made = 0;
	if (!db || !s || !s->iid || !*s->iid || !s->step ||
	    (strcmp(s->step, "alarm") && strcmp(s->step, "closed")) ||
	    (s->njobs && !s->jobs) || (s->nclear && !s->clear) ||
	    (s->nclocks && !s->clocks))
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	r = fl__db_tx_begin(db);
	if (!r)
		r = step_locked(db, s, now, &bits);
	r = fl__db_tx_finish(db, r, NULL, 0);
	pthread_mutex_unlock(&db->mu);
	if (!r && made)
		*made = bits;
	return r;
}

int fl_db_alert_made(fl_db *db, const char *iid, const char *step)
{
	int yes = 0, r;

	if (!db || !iid || !step_ok(step))
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	r = db->ops->alert_marked(db->be, iid, step, &yes);
	pthread_mutex_unlock(&db->mu);
	return r ? r : yes;
}

int fl_db_alert_mark(fl_db *db, const char *iid, const char *step)
{
	int added;

	if (!db || !iid || !*iid || !step_ok(step))
		return FL_EINVAL;
	LOCKED(int, db->ops->alert_mark(db->be, iid, step, NAN, &added));
}

int fl_db_alert_job_add(fl_db *db, const fl_db_alert_job *j, const char *iid,
			const char *step, int *added)
{
	int r, a = 0, m;

	if (added)
		*added = 0;
	if (!db || !job_ok(j) || !iid || (step && !step_ok(step)))
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	r = fl__db_tx_begin(db);
	if (!r)
		r = db->ops->alert_job_add(db->be, j, iid, &a);
	if (!r && step)
		r = db->ops->alert_mark(db->be, iid, step, j->created, &m);
	r = fl__db_tx_finish(db, r, NULL, 0);
	pthread_mutex_unlock(&db->mu);
	if (!r && added)
		*added = a;
	return r;
}

int fl_db_alert_claim(fl_db *db, const char *holder, int mqtt, double now,
		      double lease_s, fl_db_alert_job *out)
{
	if (!db || !holder || !*holder || !out || !isfinite(now) ||
	    !(lease_s > 0))
		return FL_EINVAL;
	memset(out, 0, sizeof(*out));
	LOCKED(int, db->ops->alert_claim(db->be, holder, mqtt ? 1 : 0, now,
					 now + lease_s, out));
}

int fl_db_alert_renew(fl_db *db, const char *name, const char *holder,
		      double until)
{
	if (!db || !name || !holder || !*holder || !isfinite(until))
		return FL_EINVAL;
	LOCKED(int, db->ops->alert_renew(db->be, name, holder, until));
}

int fl_db_alert_finish(fl_db *db, const char *name, const char *holder,
		       const char *state, int attempts, double next,
		       double wall)
{
	if (!db || !name || !holder || !*holder || !state ||
	    (strcmp(state, "outbox") && strcmp(state, "sent") &&
	     strcmp(state, "failed")) ||
	    attempts < 0 || !isfinite(next) || !isfinite(wall))
		return FL_EINVAL;
	LOCKED(int, db->ops->alert_job_end(db->be, name, holder, state,
					   attempts, next, wall));
}

int fl_db_alert_release(fl_db *db, const char *holder, long *n)
{
	long k = 0;
	int r;

	if (!db || !holder || !*holder)
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	r = db->ops->alert_unhold(db->be, holder, &k);
	pthread_mutex_unlock(&db->mu);
	if (n)
		*n = r ? 0 : k;
	return r;
}

long fl_db_alert_prune(fl_db *db, double before)
{
	long n = 0;
	int r;

	if (!db || !isfinite(before))
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	r = db->ops->alert_prune(db->be, before, &n);
	pthread_mutex_unlock(&db->mu);
	return r < 0 ? r : n;
}

int fl_db_alert_outbox(fl_db *db, long long *n)
{
	if (!db || !n)
		return FL_EINVAL;
	*n = 0;
	LOCKED(int, db->ops->alert_outbox(db->be, n));
}

int fl_db_alert_job_get(fl_db *db, const char *name, fl_db_alert_job *out)
{
	if (!db || !name || !out)
		return FL_EINVAL;
	memset(out, 0, sizeof(*out));
	LOCKED(int, db->ops->alert_job_get(db->be, name, out));
}

static int clock_ok(const fl_db_alert_clock *c)
{
	return c && c->iid[0] && c->info &&
	       (!strcmp(c->kind, "escalate") || !strcmp(c->kind, "owner"));
}

int fl_db_alert_clock_add(fl_db *db, const fl_db_alert_clock *c, int *added)
{
	int a = 0, r;

	if (added)
		*added = 0;
	if (!db || !clock_ok(c))
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	r = db->ops->alert_clock_add(db->be, c, &a);
	pthread_mutex_unlock(&db->mu);
	if (!r && added)
		*added = a;
	return r;
}

int fl_db_alert_clock_force(fl_db *db, const char *iid, const char *kind)
{
	if (!db || !iid || !kind)
		return FL_EINVAL;
	LOCKED(int, db->ops->alert_clock_force(db->be, iid, kind));
}

int fl_db_alert_clock_get(fl_db *db, const char *iid, const char *kind,
			  fl_db_alert_clock *out)
{
	if (!db || !iid || !kind || !out)
		return FL_EINVAL;
	memset(out, 0, sizeof(*out));
	LOCKED(int, db->ops->alert_clock_get(db->be, iid, kind, out));
}

int fl_db_alert_clock_claim(fl_db *db, const char *holder, double now,
			    double lease_s, fl_db_alert_clock *out)
{
	if (!db || !holder || !*holder || !out || !isfinite(now) ||
	    !(lease_s > 0))
		return FL_EINVAL;
	memset(out, 0, sizeof(*out));
	LOCKED(int, db->ops->alert_clock_claim(db->be, holder, now,
					       now + lease_s, out));
}

int fl_db_alert_clock_done(fl_db *db, const char *iid, const char *kind,
			   const char *holder, int keep)
{
	if (!db || !iid || !kind || !holder || !*holder)
		return FL_EINVAL;
	LOCKED(int, db->ops->alert_clock_end(db->be, iid, kind, holder,
					     keep ? 1 : 0));
}
