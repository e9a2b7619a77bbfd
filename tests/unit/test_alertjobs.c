/*
 * test_alertjobs.c - the alerts' jobs, steps and clocks in the store
 * (src/store/alertjobs.c), on real SQLite files: a claim is a lease (no
 * second holder while it runs, renewed, taken over by another holder when
 * it ran out, and then the first holder changes nothing); a failed attempt
 * waits for its next time; an all-clear waits for its alarm's job; a
 * holder's claims given back; several threads on handles of their own
 * claiming the same jobs take each exactly once; an incident's alarm and
 * close handled at the same instant on two handles always give the
 * all-clear, whichever commits first; the steps once each, a late alarm
 * with its all-clear, the clocks started, forced, claimed, the escalation
 * stopped by the close (the owner clock not). With FL_TEST_STORE=postgresql://... the same on that database
 * (teststore.h; tests/integration/store_pg.sh).
 *
 * `test_alertjobs --bench N` prints claims + records of sent per second as
 * JSON (one handle, N jobs) for the store FL_TEST_STORE names, else SQLite.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "fl.h"
#include "test.h"
#include "teststore.h"

static char dir[] = "/tmp/fl-test-alertjobs-XXXXXX";

/* A fresh store: file on SQLite, or FL_TEST_STORE's database emptied; its
 * URL in url. */
static int store_url(const char *file, char *url, size_t len)
{
	char sq[400];
	const char *u;

	snprintf(sq, sizeof(sq), "sqlite:%s/%s", dir, file);
	u = test_store_url(sq);
	if (!CHECK_NOT_NULL(u))
		return -1;
	snprintf(url, len, "%s", u);
	return 0;
}

static fl_db *open_url(const char *url)
{
	char err[256] = "";
	fl_db *db = fl_db_open(url, err, sizeof(err));

	CHECK_MSG(db != NULL, "%s: %s", url, err);
	return db;
}

/* A job of incident iid: <iid>.<kind>.<target>, waiting for after ("" or
 * NULL none). */
static fl_db_alert_job job(const char *iid, const char *kind,
			   const char *target, int mqtt, const char *after)
{
	fl_db_alert_job j;

	memset(&j, 0, sizeof(j));
	snprintf(j.name, sizeof(j.name), "%s.%s.%s", iid, kind, target);
	snprintf(j.kind, sizeof(j.kind), "%s", kind);
	snprintf(j.dest, sizeof(j.dest), "%s",
		 mqtt ? "firelane/s1/alerts" : "http://127.0.0.1:9/hook");
	snprintf(j.after, sizeof(j.after), "%s", after ? after : "");
	j.mqtt = mqtt;
	j.body = "{\"text\":\"lane blocked\"}";
	j.created = 1.0;
	return j;
}

/* Claims as holder at now for lease_s: the job's name, or "" when none is
 * due (any other answer fails the check). */
static const char *claim(fl_db *db, const char *holder, int mqtt, double now,
			 double lease_s)
{
	static char name[512];
	fl_db_alert_job j;
	int r = fl_db_alert_claim(db, holder, mqtt, now, lease_s, &j);

	name[0] = 0;
	if (r == 0) {
		snprintf(name, sizeof(name), "%s", j.name);
		CHECK_STREQ(j.holder, holder);
		CHECK_EQ_DBL(j.lease, now + lease_s, 1e-6);
		CHECK_STREQ(j.body, "{\"text\":\"lane blocked\"}");
	} else {
		CHECK_EQ_INT(r, FL_ENOENT);
	}
	fl_db_alert_job_free(&j);
	return name;
}

static void test_lease(void)
{
	char url[400];
	fl_db *db;
	fl_db_alert_job j = job("i1", "alarm", "hook0", 0, NULL), got;
	fl_db_alert_job a = job("i2", "alarm", "mqtt", 1, NULL);
	fl_db_alert_job c = job("i2", "cleared", "mqtt", 1, "i2.alarm.mqtt");
	int added = -1;
	long n = -1;

	if (store_url("lease.db", url, sizeof(url)) || !(db = open_url(url)))
		return;
	CHECK_EQ_INT(fl_db_alert_job_add(db, &j, "i1", NULL, &added), 0);
	CHECK_EQ_INT(added, 1);
	/* made once: the same name again changes nothing */
	CHECK_EQ_INT(fl_db_alert_job_add(db, &j, "i1", NULL, &added), 0);
	CHECK_EQ_INT(added, 0);
	CHECK_STREQ(claim(db, "hub-a", 1, 1000, 10), ""); /* not MQTT */
	CHECK_STREQ(claim(db, "hub-a", 0, 1000, 10), "i1.alarm.hook0");
	/* held: nobody else while the lease runs, renewed */
	CHECK_STREQ(claim(db, "hub-b", 0, 1005, 10), "");
	CHECK_EQ_INT(fl_db_alert_renew(db, "i1.alarm.hook0", "hub-a", 1012), 0);
	CHECK_STREQ(claim(db, "hub-b", 0, 1011, 10), "");
	/* hub-a went silent: when its lease ran out hub-b takes the job */
	CHECK_STREQ(claim(db, "hub-b", 0, 1012, 10), "i1.alarm.hook0");
	CHECK_EQ_INT(fl_db_alert_renew(db, "i1.alarm.hook0", "hub-a", 1030),
		     FL_ENOENT);
	CHECK_EQ_INT(fl_db_alert_finish(db, "i1.alarm.hook0", "hub-a", "sent",
					0, 0, 1013),
		     FL_ENOENT);
	CHECK_EQ_INT(fl_db_alert_job_get(db, "i1.alarm.hook0", &got), 0);
	CHECK_STREQ(got.state, "outbox");
	CHECK_STREQ(got.holder, "hub-b");
	fl_db_alert_job_free(&got);
	/* a failed attempt: back with its next time, not due before it */
	CHECK_EQ_INT(fl_db_alert_finish(db, "i1.alarm.hook0", "hub-b", "outbox",
					1, 1100, 1013),
		     0);
	CHECK_STREQ(claim(db, "hub-b", 0, 1099, 10), "");
	CHECK_STREQ(claim(db, "hub-b", 0, 1100, 10), "i1.alarm.hook0");
	CHECK_EQ_INT(fl_db_alert_finish(db, "i1.alarm.hook0", "hub-b", "sent",
					1, 1100, 1101),
		     0);
	CHECK_EQ_INT(fl_db_alert_job_get(db, "i1.alarm.hook0", &got), 0);
	CHECK_STREQ(got.state, "sent");
	CHECK_STREQ(got.holder, "");
	CHECK_EQ_INT(got.attempts, 1);
	fl_db_alert_job_free(&got);
	CHECK_STREQ(claim(db, "hub-b", 0, 5000, 10), ""); /* sent once */
	CHECK_EQ_INT(fl_db_alert_finish(db, "i1.alarm.hook0", "hub-b", "sent",
					1, 1100, 1101),
		     FL_ENOENT);

	/* an all-clear waits while its alarm is in the outbox, claimed or
	 * not */
	CHECK_EQ_INT(fl_db_alert_job_add(db, &c, "i2", NULL, NULL), 0);
	CHECK_EQ_INT(fl_db_alert_job_add(db, &a, "i2", NULL, NULL), 0);
	CHECK_STREQ(claim(db, "hub-a", 1, 2000, 10), "i2.alarm.mqtt");
	CHECK_STREQ(claim(db, "hub-b", 1, 2000, 10), "");
	/* hub-a starts again: its claims given back at once */
	CHECK_EQ_INT(fl_db_alert_release(db, "hub-a", &n), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_STREQ(claim(db, "hub-b", 1, 2001, 10), "i2.alarm.mqtt");
	CHECK_EQ_INT(fl_db_alert_finish(db, "i2.alarm.mqtt", "hub-b", "failed",
					5, 2001, 2002),
		     0);
	CHECK_STREQ(claim(db, "hub-b", 1, 2003, 10), "i2.cleared.mqtt");

	/* retention: what was sent or given up before the time goes, with
	 * its body; the outbox (claimed or not) never does */
	CHECK_EQ_INT(fl_db_alert_prune(db, 1101), 0);
	CHECK_EQ_INT(fl_db_alert_prune(db, 1500), 1);
	CHECK_EQ_INT(fl_db_alert_job_get(db, "i1.alarm.hook0", &got),
		     FL_ENOENT);
	CHECK_EQ_INT(fl_db_alert_job_get(db, "i2.alarm.mqtt", &got), 0);
	fl_db_alert_job_free(&got);
	CHECK_EQ_INT(fl_db_alert_prune(db, 1e12), 1);
	CHECK_EQ_INT(fl_db_alert_job_get(db, "i2.alarm.mqtt", &got), FL_ENOENT);
	CHECK_EQ_INT(fl_db_alert_job_get(db, "i2.cleared.mqtt", &got), 0);
	CHECK_STREQ(got.state, "outbox");
	fl_db_alert_job_free(&got);
	CHECK_EQ_INT(fl_db_alert_finish(db, "i2.cleared.mqtt", "hub-b", "sent",
					1, 0, 2004),
		     0);
	CHECK_EQ_INT(fl_db_alert_prune(db, 2004), 0);
	CHECK_EQ_INT(fl_db_alert_prune(db, 2005), 1);
	CHECK_EQ_INT(fl_db_alert_prune(db, NAN), FL_EINVAL);
	fl_db_close(db);
}

/* ---- N threads, M jobs ----------------------------------------------------- */

#define NTHREADS 4
#define NJOBS 200

static atomic_int taken[NJOBS];
static atomic_int errors;

struct claimer {
	const char *url;
	char holder[32];
};

static void *claimer(void *arg)
{
	struct claimer *c = arg;
	char err[256];
	fl_db *db = fl_db_open(c->url, err, sizeof(err));

	if (!db) {
		atomic_fetch_add(&errors, 1);
		return NULL;
	}
	for (;;) {
		fl_db_alert_job j;
		int r = fl_db_alert_claim(db, c->holder, 0, 100, 1000, &j), k;

		if (r == FL_ENOENT)
			break;
		if (r == FL_EAGAIN)
			continue; /* another writer held the file: again */
		if (r || sscanf(j.name, "j%d.", &k) != 1 || k < 0 ||
		    k >= NJOBS) {
			atomic_fetch_add(&errors, 1);
			fl_db_alert_job_free(&j);
			break;
		}
		atomic_fetch_add(&taken[k], 1);
		while ((r = fl_db_alert_finish(db, j.name, c->holder, "sent", 0,
					       0, 101)) == FL_EAGAIN)
			;
		if (r)
			atomic_fetch_add(&errors, 1);
		fl_db_alert_job_free(&j);
	}
	fl_db_close(db);
	return NULL;
}

static void test_claimers(void)
{
	char url[400], iid[32];
	pthread_t t[NTHREADS];
	struct claimer c[NTHREADS];
	fl_db *db;
	int once = 0;

	if (store_url("claims.db", url, sizeof(url)) || !(db = open_url(url)))
		return;
	for (int i = 0; i < NJOBS; i++) {
		fl_db_alert_job j;

		snprintf(iid, sizeof(iid), "j%d", i);
		j = job(iid, "alarm", "hook0", 0, NULL);
		CHECK_EQ_INT(fl_db_alert_job_add(db, &j, iid, NULL, NULL), 0);
		atomic_store(&taken[i], 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		c[i].url = url;
		snprintf(c[i].holder, sizeof(c[i].holder), "hub-%d", i);
		CHECK_EQ_INT(pthread_create(&t[i], NULL, claimer, &c[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ_INT(atomic_load(&errors), 0);
	for (int i = 0; i < NJOBS; i++) {
		CHECK_MSG(atomic_load(&taken[i]) == 1, "job j%d taken %d times",
			  i, atomic_load(&taken[i]));
		once += atomic_load(&taken[i]) == 1;
	}
	CHECK_EQ_INT(once, NJOBS);
	fl_db_close(db);
}

/* ---- an incident's steps ----------------------------------------------------- */

/* What alerts.c hands a step of incident iid: the alarm's job, the
 * all-clear's behind it, an escalation clock. */
struct todo {
	fl_db_alert_job alarm, clear;
	fl_db_alert_clock clock;
	fl_db_alert_todo t;
};

static void todo(struct todo *d, const char *iid, const char *step)
{
	char alarm[512];

	d->alarm = job(iid, "alarm", "hook0", 0, NULL);
	snprintf(alarm, sizeof(alarm), "%s", d->alarm.name);
	d->clear = job(iid, "cleared", "hook0", 0, alarm);
	memset(&d->clock, 0, sizeof(d->clock));
	snprintf(d->clock.iid, sizeof(d->clock.iid), "%s", iid);
	snprintf(d->clock.kind, sizeof(d->clock.kind), "escalate");
	d->clock.due = 1300;
	d->clock.info = "{\"site\":\"s1\"}";
	d->t = (fl_db_alert_todo){ .iid = iid,
				   .step = step,
				   .jobs = &d->alarm,
				   .njobs = 1,
				   .clear = &d->clear,
				   .nclear = 1,
				   .clocks = &d->clock,
				   .nclocks = 1 };
}

static void test_steps(void)
{
	char url[400];
	struct todo d;
	fl_db *db;
	fl_db_alert_clock k;
	int made = -1;

	if (store_url("steps.db", url, sizeof(url)) || !(db = open_url(url)))
		return;
	/* in order: the alarm's job and clock, then the all-clear */
	todo(&d, "a1", "alarm");
	CHECK_EQ_INT(fl_db_alert_step(db, &d.t, 1000, &made), 0);
	CHECK_EQ_INT(made, FL_DB_ALERT_JOBS);
	CHECK_EQ_INT(fl_db_alert_step(db, &d.t, 1001, &made), 0);
	CHECK_EQ_INT(made, 0); /* the same message again */
	CHECK_EQ_INT(fl_db_alert_made(db, "a1", "alarm"), 1);
	CHECK_EQ_INT(fl_db_alert_made(db, "a1", "cleared"), 0);
	/* the clock: not due before its time unless forced; claimed once */
	CHECK_EQ_INT(fl_db_alert_clock_claim(db, "hub-a", 1200, 10, &k),
		     FL_ENOENT);
	CHECK_EQ_INT(fl_db_alert_clock_force(db, "a1", "escalate"), 0);
	CHECK_EQ_INT(fl_db_alert_clock_claim(db, "hub-a", 1200, 10, &k), 0);
	CHECK_STREQ(k.iid, "a1");
	CHECK_STREQ(k.info, "{\"site\":\"s1\"}");
	fl_db_alert_clock_free(&k);
	CHECK_EQ_INT(fl_db_alert_clock_claim(db, "hub-b", 1205, 10, &k),
		     FL_ENOENT);
	CHECK_EQ_INT(fl_db_alert_clock_done(db, "a1", "escalate", "hub-a", 1),
		     0); /* given back: to try again */
	CHECK_EQ_INT(fl_db_alert_clock_claim(db, "hub-b", 1205, 10, &k), 0);
	fl_db_alert_clock_free(&k);
	CHECK_EQ_INT(fl_db_alert_clock_done(db, "a1", "escalate", "hub-a", 0),
		     FL_ENOENT); /* not hub-a's any more */
	k = d.clock;
	snprintf(k.kind, sizeof(k.kind), "owner");
	CHECK_EQ_INT(fl_db_alert_clock_add(db, &k, NULL), 0);
	todo(&d, "a1", "closed");
	CHECK_EQ_INT(fl_db_alert_step(db, &d.t, 1002, &made), 0);
	CHECK_EQ_INT(made, FL_DB_ALERT_CLEARED);
	CHECK_EQ_INT(fl_db_alert_clock_get(db, "a1", "escalate", &k),
		     FL_ENOENT); /* the close stopped it */
	/* the owner clock runs on (its hub logs why nobody is told) */
	CHECK_EQ_INT(fl_db_alert_clock_get(db, "a1", "owner", &k), 0);
	fl_db_alert_clock_free(&k);
	CHECK_EQ_INT(fl_db_alert_step(db, &d.t, 1003, &made), 0);
	CHECK_EQ_INT(made, 0); /* the all-clear once */

	/* the close first: no all-clear yet; the alarm brings it */
	todo(&d, "a2", "closed");
	CHECK_EQ_INT(fl_db_alert_step(db, &d.t, 1000, &made), 0);
	CHECK_EQ_INT(made, 0);
	CHECK_EQ_INT(fl_db_alert_made(db, "a2", "cleared"), 0);
	todo(&d, "a2", "alarm");
	CHECK_EQ_INT(fl_db_alert_step(db, &d.t, 1001, &made), 0);
	CHECK_EQ_INT(made,
		     FL_DB_ALERT_JOBS | FL_DB_ALERT_CLEARED | FL_DB_ALERT_LATE);
	CHECK_EQ_INT(fl_db_alert_clock_get(db, "a2", "escalate", &k),
		     FL_ENOENT); /* no clock for an incident closed */
	/* the all-clear after its alarm */
	CHECK_STREQ(claim(db, "hub-a", 0, 2000, 10), "a1.alarm.hook0");
	CHECK_STREQ(claim(db, "hub-a", 0, 2000, 10), "a2.alarm.hook0");
	CHECK_STREQ(claim(db, "hub-a", 0, 2000, 10), "");
	fl_db_close(db);
}

/* ---- the alarm and the close at the same instant, on two handles ---------- */

#define ROUNDS 150

static pthread_barrier_t start;

struct stepper {
	fl_db *db;
	const char *step;
	int failed;
};

static void *stepper(void *arg)
{
	struct stepper *s = arg;

	for (int i = 0; i < ROUNDS; i++) {
		char iid[32];
		struct todo d;
		int r;

		snprintf(iid, sizeof(iid), "race%d", i);
		todo(&d, iid, s->step);
		pthread_barrier_wait(&start);
		while ((r = fl_db_alert_step(s->db, &d.t, 1000 + i, NULL)) ==
		       FL_EAGAIN)
			;
		s->failed += r != 0;
	}
	return NULL;
}

static void test_order(void)
{
	char url[400], iid[32], name[512];
	struct stepper a = { 0 }, c = { 0 };
	pthread_t ta, tc;
	int cleared = 0;
	fl_db *db;

	if (store_url("order.db", url, sizeof(url)) || !(a.db = open_url(url)))
		return;
	if (!(c.db = open_url(url))) {
		fl_db_close(a.db);
		return;
	}
	a.step = "alarm";
	c.step = "closed";
	pthread_barrier_init(&start, NULL, 2);
	CHECK_EQ_INT(pthread_create(&ta, NULL, stepper, &a), 0);
	CHECK_EQ_INT(pthread_create(&tc, NULL, stepper, &c), 0);
	pthread_join(ta, NULL);
	pthread_join(tc, NULL);
	pthread_barrier_destroy(&start);
	CHECK_EQ_INT(a.failed, 0);
	CHECK_EQ_INT(c.failed, 0);
	db = a.db;
	for (int i = 0; i < ROUNDS; i++) {
		fl_db_alert_job j;
		int r;

		snprintf(iid, sizeof(iid), "race%d", i);
		snprintf(name, sizeof(name), "%s.cleared.hook0", iid);
		r = fl_db_alert_job_get(db, name, &j);
		CHECK_MSG(r == 0, "%s: no all-clear (%d)", iid, r);
		cleared += r == 0 && fl_db_alert_made(db, iid, "cleared") == 1;
		snprintf(name, sizeof(name), "%s.alarm.hook0", iid);
		if (r == 0)
			CHECK_STREQ(j.after, name);
		fl_db_alert_job_free(&j);
	}
	CHECK_EQ_INT(cleared, ROUNDS);
	fl_db_close(a.db);
	fl_db_close(c.db);
}

/* ---- figures ------------------------------------------------------------------ */

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int bench(int n)
{
	char url[400], iid[32];
	fl_db *db;
	double t0, t;
	int done = 0;

	if (store_url("bench.db", url, sizeof(url)) || !(db = open_url(url)))
		return 1;
	for (int i = 0; i < n; i++) {
		fl_db_alert_job j;

		snprintf(iid, sizeof(iid), "b%d", i);
		j = job(iid, "alarm", "hook0", 0, NULL);
		if (fl_db_alert_job_add(db, &j, iid, NULL, NULL))
			return 1;
	}
	t0 = mono();
	for (;;) {
		fl_db_alert_job j;

		if (fl_db_alert_claim(db, "bench", 0, 100, 60, &j))
			break;
		done += fl_db_alert_finish(db, j.name, "bench", "sent", 0, 0,
					   101) == 0;
		fl_db_alert_job_free(&j);
	}
	t = mono() - t0;
	printf("{\"backend\": \"%s\", \"jobs\": %d, "
	       "\"claims_sent_per_s\": %.0f}\n",
	       test_pg_url() ? "postgresql" : "sqlite", done, done / t);
	fl_db_close(db);
	return done == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	char cmd[400];
	int rc = -1;

	CHECK(mkdtemp(dir) != NULL);
	if (argc > 2 && !strcmp(argv[1], "--bench")) {
		rc = bench(atoi(argv[2]) > 0 ? atoi(argv[2]) : 1000);
	} else {
		test_lease();
		test_steps();
		test_claimers();
		test_order();
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
	if (rc >= 0)
		return rc;
	TEST_DONE();
}
