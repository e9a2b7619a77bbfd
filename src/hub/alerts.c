/*
 * alerts.c - property alerts, all-clears and escalations, through an outbox
 * in the store.
 *
 * A note on the model. An alert must reach a person even when the webhook
 * is down for a while, and must reach them once: a property manager who
 * gets the same alarm three times after a hub restart stops reading them.
 * Both needs are met by making every alert a row in the store before
 * anything is sent (db.h, "alert jobs"; src/store/alertjobs.c):
 *
 *   alert_jobs     one per <incident>.<kind>.<target>: what to send, where,
 *                  attempts, next try, state outbox | sent | failed, and
 *                  who holds it (holder, lease)
 *   alert_made     the incident's steps handled: alarm, closed, cleared
 *   alert_clocks   the escalation clock and the owner notification's,
 *                  each with its own claim
 *
 * Several hubs share the store (docs/deploy.md), so everything that must
 * be shared is there and nothing is in files. kind is alarm, cleared,
 * escalated or owner; target is mqtt, hook<N> (the site's property
 * webhooks), esc<N> (its enforcement webhooks) or owner. A job of a name
 * that exists is never made again, so the same incident message delivered
 * twice, or replayed after a restart, makes no second alert.
 *
 * Claims are leases. To send a job a hub claims it (its mqtt.client_id as
 * the holder) for alerts.lease_s; a webhook attempt lasts at most
 * alerts.timeout_s, which the configuration keeps below the lease, and an
 * MQTT job stays claimed until its PUBACK, the lease renewed meanwhile. A
 * hub that dies holding a claim stops renewing it; when the lease runs out
 * another hub claims the job and sends it. So a job is sent once; the
 * worst case is one repeat of a job whose receiver answered a hub that
 * died before it recorded the answer. A hub that starts again gives back
 * what it held at once.
 *
 * Escalation is due escalate_s (the site's, else alerts.escalate_s) after
 * the alarm, or at once when the edge sends its own "escalated" step (the
 * lane's escalate_s on the device); either way only while the store says
 * the incident is still alarmed and has no outcome, and only once: the
 * clock is claimed, and removed when it has done its work.
 *
 * Attempts back off exponentially: retry_base_s, doubling, at most
 * retry_cap_s between attempts, retry_max attempts. A webhook answers 2xx
 * (and, for WeCom and DingTalk, "errcode": 0) to count as sent.
 *
 * Sent means delivered. A webhook job is sent when the receiver answered
 * 2xx; an MQTT job when the broker acknowledged it (PUBACK), not when the
 * client took it: it is published with fl_mqtt_publish_tracked() and
 * stays claimed until hub_alerts_published() reports the outcome - sent
 * on the PUBACK, given back untried when the connection went before it,
 * a failed attempt when the broker refused it.
 *
 * Order. An all-clear is only worth something after its alarm, so a
 * cleared job names the alarm job of its target ("after") and is not
 * claimed while that one is in the outbox. And messages may come out of
 * order, to different hubs (a spool replayed after a restart, a shared
 * subscription): a close that arrives before its incident's alarm is
 * marked, and the alarm, when it comes, makes its alert and the all-clear
 * behind it - a property manager never holds an alarm that nothing will
 * clear. The store makes "mark my step, look at the other" one
 * transaction serialised per incident, with the step's jobs, so an alarm
 * on one hub and its close on another at the same instant still give the
 * all-clear, after the alarm.
 *
 * Failing. A step that cannot be written (the store full or failing)
 * makes hub_alerts_incident() fail and nothing of it is stored; ingest
 * holds the message and offers it again.
 *
 * Upgrading. A hub from before kept all this in <evidence_dir>/.alerts/
 * (outbox/, claimed/, sent/, failed/, made/, open/). At start the folder,
 * when there is one, is taken by one hub (renamed, so of several hubs one
 * imports it), its jobs, marks and clocks added to the store where their
 * names are not there yet, then renamed .alerts.imported.<time>: nothing
 * lost, nothing sent twice.
 *
 * Threads and handles. Three threads, three store handles: a handle
 * serialises its calls (db.h), so with one each no thread waits behind
 * another's calls in progress (on SQLite their writes still take turns at
 * the database's one write lock, each a short transaction):
 *
 *   main thread     ingest, the incident steps (hub_alerts_incident) and
 *                   the clocks (hub_alerts_tick), on the main handle
 *   MQTT thread     the owner of the alerts' own MQTT connection (main.c,
 *                   alerts_client): runs fl_mqtt_run() on it, claims the
 *                   due MQTT jobs, publishes them tracked, renews their
 *                   leases and records each end from on_published, on a
 *                   handle of its own (hub_alerts_start_mqtt)
 *   webhook thread  posts webhook jobs (libcurl, one attempt at a time),
 *                   on a handle of its own
 *
 * MQTT jobs are published on a connection of their own, not the one the
 * fleet's messages come in on: there their PUBACKs would come behind every
 * message the broker had already sent the hub, each taken after its
 * commit. And on a thread of their own, because each costs two durable
 * transactions (its claim, its sent mark): on the main thread they came
 * between ingest's commits and slowed a reconnect storm by seconds
 * (docs/fleetsim.md). Not on the webhook thread: a webhook attempt blocks
 * for up to alerts.timeout_s, a dead receiver's retries one after another,
 * and meanwhile no PUBACK would be read and no lease renewed - the leases
 * of alerts in flight could run out and another hub send them again.
 *
 * The MQTT thread waits in fl_mqtt_run(): a new job (wake) or a PUBACK
 * returns it at once, so a job made is claimed within milliseconds, and a
 * place freed in the window is filled at once with the next due job. The
 * window is HUB_ALERT_WINDOW (alerts.h), the broker's usual receive
 * maximum: Paho queues what a broker does not take yet and sends it only
 * when its send thread next wakes (up to a second later), so publishing
 * more than the broker takes gains nothing and filling the window on each
 * PUBACK keeps the broker's in-flight places busy.
 */
#include "alerts.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "clock.h"
#include "fl.h"
#include "alertmsg.h"
#include "hubconf.h"
#include "stills.h"
#include "topic.h"

struct hub_alerts {
	const hub_conf *conf;  /* borrowed */
	hub_metrics *metrics;  /* borrowed; NULL: nothing counted */
	fl_db *db;             /* borrowed: the main thread's */
	fl_db *own;            /* the webhook thread's */
	fl_db *mq;             /* the MQTT thread's */
	fl_mqtt *m;            /* borrowed: the alerts' connection, or NULL */
	char dir[HUB_PATHLEN]; /* <evidence_dir>/.alerts (the files of old) */
	pthread_t thread;
	int started;
	atomic_int stop;
	pthread_t mthread; /* the MQTT thread, when mstarted */
	int mstarted;
	atomic_int mstop;
	atomic_int mkick; /* a job was made: claim now */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char worker[HUB_STR];                   /* this hub's name in claims */
	unsigned char still_key[HUB_STILL_KEY]; /* the picture links' */
	double renewed; /* when the in-flight leases were last renewed */
	/* MQTT jobs published, waiting for their PUBACK (MQTT thread) */
	struct flight {
		uint64_t token;
		char name[512];
		double created; /* the job's: for the alert latency */
		double next;    /* the job's, to give it back untried */
		int attempts;
	} * flight;
	size_t nflight, flightcap;
};

/* ---- payloads ------------------------------------------------------------ */

struct what {
	const char *site, *device, *camera, *lane, *iid, *kind;
	double wall;
	/* the names people read ("" none) and when the lane became
	 * blocked (< 0 unknown) */
	const char *site_name, *lane_name;
	double since;
	const char *plate; /* the device's read, or NULL */
	json_t *owner;     /* kind "owner": the register's row, else NULL */
};

/* The owner notification's body: the site's owner_template with {name}s
 * replaced by JSON-escaped values (docs/hub.md); malloc'd, or NULL. */
static char *owner_body(const hub_alerts *a, const struct what *w)
{
	const hub_site_alerts *s = hub_conf_site(a->conf, w->site);
	const char *keys[] = { "phone", "owner", "unit",     "plate",
			       "site",  "lane",  "incident", "url" };
	char url[HUB_URL + 256], *out, *o;
	const char *vals[8], *t;
	size_t cap, n = 0;

	if (!s)
		return NULL;
	hub_fmt(url, sizeof(url), "%s/incidents/%s", a->conf->public_url,
		w->iid);
	vals[0] = json_string_value(json_object_get(w->owner, "phone"));
	vals[1] = json_string_value(json_object_get(w->owner, "owner"));
	vals[2] = json_string_value(json_object_get(w->owner, "unit"));
	vals[3] = json_string_value(json_object_get(w->owner, "plate"));
	vals[4] = w->site;
	vals[5] = w->lane;
	vals[6] = w->iid;
	vals[7] = url;
	cap = strlen(s->owner_template) * 8 + 4096;
	out = malloc(cap);
	if (!out)
		return NULL;
	for (t = s->owner_template; *t && n + 1 < cap;) {
		size_t k = 0;

		for (; k < FL_ARRAY_SIZE(keys); k++) {
			size_t kl = strlen(keys[k]);

			if (t[0] == '{' && !strncmp(t + 1, keys[k], kl) &&
			    t[kl + 1] == '}')
				break;
		}
		if (k == FL_ARRAY_SIZE(keys)) {
			out[n++] = *t++;
			continue;
		}
		t += strlen(keys[k]) + 2;
		/* the value as a JSON string without its quotes */
		{
			json_t *v = json_string(vals[k] ? vals[k] : "");

			o = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
			json_decref(v);
		}
		if (o && n + strlen(o) < cap) {
			memcpy(out + n, o + 1, strlen(o) - 2);
			n += strlen(o) - 2;
		}
		free(o);
	}
	out[n] = '\0';
	return out;
}

/* The body for one format (alertmsg.h says what it contains); malloc'd
 * JSON text. The picture is a signed link to the alarm still, valid for
 * alerts.picture_days. The owner notification is the site's template. */
static char *body_for(const hub_alerts *a, const struct what *w, int format)
{
	char pic[HUB_URL + 256] = "", link[HUB_URL + 256];
	double now = fl_wall_s();
	int lang = fl_lang_of(a->conf->alerts.language);
	hub_alert_msg m = {
		.kind = w->kind,
		.site = w->site,
		.site_name = w->site_name,
		.device = w->device,
		.camera = w->camera,
		.lane = w->lane,
		.lane_name = w->lane_name,
		.iid = w->iid,
		.plate = w->plate,
		.wall = w->wall,
		.now = now,
		.since = w->since,
		.picture = pic,
		.url = link,
		.lang = lang < 0 ? FL_LANG_ZH : (enum fl_lang)lang,
	};

	if (w->owner)
		return owner_body(a, w);
	hub_still_link(a->still_key, a->conf->public_url, w->iid,
		       (long long)(now + a->conf->alerts.picture_days * 86400.0),
		       pic, sizeof(pic));
	hub_fmt(link, sizeof(link), "%s/incidents/%s", a->conf->public_url,
		w->iid);
	return hub_alert_body(&m, format);
}

/* ---- jobs ------------------------------------------------------------------ */

/* The job <iid>.<kind>.<target> into *j (its body malloc'd: the caller
 * frees j->body). dest is a URL (format >= 0) or an MQTT topic
 * (format < 0). A cleared job waits for the alarm job of its target.
 * 0 or FL_ENOMEM. */
static int job_make(const hub_alerts *a, const struct what *w,
		    const char *target, const char *dest, int format,
		    fl_db_alert_job *j)
{
	memset(j, 0, sizeof(*j));
	hub_fmt(j->name, sizeof(j->name), "%s.%s.%s", w->iid, w->kind, target);
	hub_fmt(j->kind, sizeof(j->kind), "%s", w->kind);
	hub_fmt(j->dest, sizeof(j->dest), "%s", dest);
	if (!strcmp(w->kind, "cleared"))
		hub_fmt(j->after, sizeof(j->after), "%s.alarm.%s", w->iid,
			target);
	j->mqtt = format < 0;
	j->created = fl_wall_s();
	j->body = body_for(a, w, format < 0 ? HUB_HOOK_GENERIC : format);
	return j->body ? 0 : FL_ENOMEM;
}

/* A list of jobs being made (bodies owned). */
struct jobs {
	fl_db_alert_job *j;
	size_t n;
};

static void jobs_free(struct jobs *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->j[i].body);
	free(l->j);
	l->j = NULL;
	l->n = 0;
}

/* All jobs of one kind for a site (MQTT and the webhooks) into *l. 0 or
 * FL_ENOMEM (then *l is empty). */
static int jobs_for(const hub_alerts *a, const struct what *w, struct jobs *l)
{
	const hub_site_alerts *s = hub_conf_site(a->conf, w->site);
	int esc = !strcmp(w->kind, "escalated");
	int nh = s ? (esc ? s->nescalate : s->nhooks) : 0;
	char lvl[HUB_STR], topic[HUB_STR + 64], target[16];

	l->n = 0;
	l->j = calloc((size_t)nh + 1, sizeof(*l->j));
	if (!l->j)
		return FL_ENOMEM;
	fl_topic_level(w->site, lvl, sizeof(lvl));
	if (a->conf->alerts.mqtt) {
		if (esc && s && s->escalate_topic[0])
			hub_fmt(topic, sizeof(topic), "%s", s->escalate_topic);
		else
			hub_fmt(topic, sizeof(topic), "firelane/%s/%s", lvl,
				esc ? "enforcement" : "alerts");
		if (job_make(a, w, "mqtt", topic, -1, &l->j[l->n++]))
			goto nomem;
	}
	for (int i = 0; i < nh; i++) {
		const hub_hook *h = esc ? &s->escalate[i] : &s->hooks[i];

		hub_fmt(target, sizeof(target), "%s%d", esc ? "esc" : "hook",
			i);
		if (job_make(a, w, target, h->url, h->format, &l->j[l->n++]))
			goto nomem;
	}
	return 0;
nomem:
	jobs_free(l);
	return FL_ENOMEM;
}

/* The webhook and MQTT threads look now (new jobs, or a stop), not at
 * their next timeout. Main thread (a->m is set and cleared there). */
static void wake(hub_alerts *a)
{
	pthread_mutex_lock(&a->mu);
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	if (a->m) {
		atomic_store(&a->mkick, 1);
		fl_mqtt_kick(a->m);
	}
}

/* Jobs made outside a step (escalation, owner): each unless its name
 * exists. 0 or the first error (every job is tried). */
static int jobs_add(hub_alerts *a, fl_db *db, const char *iid,
		    const struct jobs *l)
{
	int rc = 0;

	for (size_t i = 0; i < l->n; i++) {
		int added = 0,
		    r = fl_db_alert_job_add(db, &l->j[i], iid, NULL, &added);

		if (r && !rc)
			rc = r;
		if (added)
			fl_log(FL_LOG_INFO, "alerts", "%s -> %s", l->j[i].name,
			       l->j[i].dest);
	}
	wake(a);
	return rc;
}

/* ---- steps ------------------------------------------------------------------ */

/* A clock's info: what an alert needs of the incident when the clock is
 * due (clock_what reads it back). malloc'd, or NULL. */
static char *clock_info(const struct what *w)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:f,s:s,s:s,s:f,s:s?}", "site",
			      w->site, "device", w->device, "camera", w->camera,
			      "lane", w->lane, "alarm", w->wall, "site_name",
			      w->site_name ? w->site_name : "", "lane_name",
			      w->lane_name ? w->lane_name : "", "since",
			      w->since, "plate",
			      w->plate && w->plate[0] ? w->plate : NULL);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return s;
}

/* The alarm's clocks into c[] (info malloc'd): the escalation (due
 * escalate_s after the alarm; only forced when escalate_s is 0) and, when
 * the site has an owner webhook and notify_owner_s, the owner
 * notification's. How many, or -1 (out of memory). */
static int clocks_for(const hub_alerts *a, const struct what *w,
		      fl_db_alert_clock c[2])
{
	const hub_site_alerts *s = hub_conf_site(a->conf, w->site);
	double esc = s && s->escalate_s >= 0 ? s->escalate_s
					     : a->conf->alerts.escalate_s;
	int n = 0;

	memset(c, 0, 2 * sizeof(*c));
	hub_fmt(c[0].iid, sizeof(c[0].iid), "%s", w->iid);
	hub_fmt(c[0].kind, sizeof(c[0].kind), "escalate");
	c[0].due = esc > 0 ? w->wall + esc : NAN;
	if (!(c[0].info = clock_info(w)))
		return -1;
	n++;
	if (s && s->owner_webhook[0] && s->notify_owner_s > 0) {
		hub_fmt(c[1].iid, sizeof(c[1].iid), "%s", w->iid);
		hub_fmt(c[1].kind, sizeof(c[1].kind), "owner");
		c[1].due = w->wall + s->notify_owner_s;
		if (!(c[1].info = clock_info(w))) {
			free(c[0].info);
			return -1;
		}
		n++;
	}
	return n;
}

int hub_alerts_incident(hub_alerts *a, const char *site, const char *device,
			const char *camera, const char *lane,
			const hub_incident *in)
{
	const char *iid = in->incident_id, *type = in->type;
	struct what w = { site,          device,        camera,   lane,
			  iid,           type,          in->wall, in->site_name,
			  in->lane_name, in->rest_wall, in->plate };
	struct what c;
	struct jobs alarm = { 0 }, clear = { 0 };
	fl_db_alert_clock clocks[2] = { 0 };
	fl_db_alert_todo t = { .iid = iid };
	int rc, made = 0, nclocks = 0, is_alarm = !strcmp(type, "alarm");

	if (!strcmp(type, "escalated")) {
		/* the edge's own escalate_s (per lane) came first: escalate
		 * at the next tick, still only without an outcome */
		rc = fl_db_alert_clock_force(a->db, iid, "escalate");
		return rc == FL_ENOENT ? 0 : rc;
	}
	if (!is_alarm && strcmp(type, "cleared") && strcmp(type, "vacated") &&
	    strcmp(type, "interrupted"))
		return 0;
	if (is_alarm && fl_db_alert_made(a->db, iid, "alarm") == 1)
		return 0; /* handled before (a replay after a restart) */
	if (!is_alarm && w.since < 0) { /* the alarm's, from its clock */
		fl_db_alert_clock k;

		if (fl_db_alert_clock_get(a->db, iid, "escalate", &k) == 0) {
			json_t *j = json_loads(k.info, 0, NULL);
			json_t *v = json_object_get(j, "since");

			if (json_is_number(v))
				w.since = json_number_value(v);
			json_decref(j);
			fl_db_alert_clock_free(&k);
		}
	}
	c = w;
	c.kind = "cleared";
	rc = jobs_for(a, &c, &clear);
	if (!rc && is_alarm)
		rc = jobs_for(a, &w, &alarm);
	if (!rc && is_alarm && (nclocks = clocks_for(a, &w, clocks)) < 0)
		rc = FL_ENOMEM;
	if (rc)
		goto out;
	t.step = is_alarm ? "alarm" : "closed";
	t.jobs = alarm.j;
	t.njobs = alarm.n;
	t.clear = clear.j;
	t.nclear = clear.n;
	t.clocks = clocks;
	t.nclocks = (size_t)nclocks;
	rc = fl_db_alert_step(a->db, &t, fl_wall_s(), &made);
	if (rc) {
		fl_log(FL_LOG_ERROR, "alerts", "%s %s: cannot store: %s", iid,
		       type, fl_strerror(rc));
		goto out;
	}
	for (size_t i = 0; (made & FL_DB_ALERT_JOBS) && i < alarm.n; i++)
		fl_log(FL_LOG_INFO, "alerts", "%s -> %s", alarm.j[i].name,
		       alarm.j[i].dest);
	if (made & FL_DB_ALERT_LATE)
		fl_log(FL_LOG_WARN, "alerts",
		       "%s: alarm arrived after the incident closed; the "
		       "all-clear follows it",
		       iid);
	for (size_t i = 0; (made & FL_DB_ALERT_CLEARED) && i < clear.n; i++)
		fl_log(FL_LOG_INFO, "alerts", "%s -> %s", clear.j[i].name,
		       clear.j[i].dest);
	if (made) {
		wake(a);
	}
out:
	jobs_free(&alarm);
	jobs_free(&clear);
	for (int i = 0; i < nclocks; i++)
		free(clocks[i].info);
	return rc;
}

/* ---- sending -------------------------------------------------------------- */

/* A job's channel. */
static enum hub_metric_channel channel_of(int mqtt)
{
	return mqtt ? HUB_M_MQTT : HUB_M_WEBHOOK;
}

/* The end of a claim, logged when it was no longer ours (the lease ran
 * out and another hub has the job: it decides). */
static void finish(hub_alerts *a, fl_db *db, const char *name,
		   const char *state, int attempts, double next)
{
	int rc = fl_db_alert_finish(db, name, a->worker, state, attempts, next,
				    fl_wall_s());

	if (rc == FL_ENOENT)
		fl_log(FL_LOG_WARN, "alerts",
		       "%s: the claim ran out before it was %s; another hub "
		       "has it",
		       name, !strcmp(state, "outbox") ? "given back" : state);
	else if (rc)
		fl_log(FL_LOG_ERROR, "alerts", "%s: cannot record it %s: %s",
		       name, state, fl_strerror(rc));
}

/* A job delivered (made at created): counted, recorded sent. */
static void job_sent(hub_alerts *a, fl_db *db, const char *name, int mqtt,
		     int attempts, double created)
{
	hub_metrics_alert(a->metrics, channel_of(mqtt), HUB_M_SENT,
			  created > 0 ? fl_wall_s() - created : -1);
	finish(a, db, name, "sent", attempts, 0);
}

/* After a failed attempt (attempts before it): back off, or give up. */
static void job_retry(hub_alerts *a, fl_db *db, const char *name, int mqtt,
		      int attempts, const char *why)
{
	int n = attempts + 1;
	double d = a->conf->alerts.retry_base_s * pow(2, n - 1);

	hub_metrics_alert(a->metrics, channel_of(mqtt), HUB_M_FAILED, -1);
	if (d > a->conf->alerts.retry_cap_s)
		d = a->conf->alerts.retry_cap_s;
	if (n >= a->conf->alerts.retry_max) {
		hub_metrics_alert(a->metrics, channel_of(mqtt), HUB_M_GAVE_UP,
				  -1);
		fl_log(FL_LOG_ERROR, "alerts",
		       "%s: giving up after %d attempts: %s", name, n, why);
		finish(a, db, name, "failed", n, 0);
		return;
	}
	fl_log(FL_LOG_WARN, "alerts",
	       "%s: attempt %d failed (%s); retry in %.1f s", name, n, why, d);
	finish(a, db, name, "outbox", n, fl_wall_s() + d);
}

static size_t sink(char *p, size_t size, size_t n, void *user)
{
	json_t **resp = user;
	(void)p;
	/* keep the first part of the answer for the errcode check */
	if (!*resp) {
		size_t len = size * n;
		*resp = json_loadb(p, len, 0, NULL);
		if (!*resp)
			*resp = json_null();
	}
	return size * n;
}

/* One POST. 0 when the receiver accepted it, else FL_EIO with why. */
static int post(hub_alerts *a, const char *url, const char *body, char *why,
		size_t whylen)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	json_t *resp = NULL;
	long code = 0;
	CURLcode cr;
	int rc = FL_EIO;

	if (!c) {
		hub_fmt(why, whylen, "curl_easy_init failed");
		return FL_ENOMEM;
	}
	h = curl_slist_append(h,
			      "Content-Type: application/json; charset=utf-8");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
			 (long)(a->conf->alerts.timeout_s * 1000));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	cr = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (cr != CURLE_OK) {
		hub_fmt(why, whylen, "%s", curl_easy_strerror(cr));
	} else if (code < 200 || code > 299) {
		hub_fmt(why, whylen, "HTTP %ld", code);
	} else if (json_is_object(resp) &&
		   json_is_integer(json_object_get(resp, "errcode")) &&
		   json_integer_value(json_object_get(resp, "errcode")) != 0) {
		hub_fmt(why, whylen, "errcode %lld",
			(long long)json_integer_value(
				json_object_get(resp, "errcode")));
	} else {
		rc = FL_OK;
	}
	json_decref(resp);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc;
}

/* Publish a claimed MQTT job (j's); it stays claimed until its PUBACK
 * (hub_alerts_published). 1 when it was published, 0 when it was given
 * back or failed (then no more this tick: the same job would be claimed
 * again at once while the broker is away). */
static int mqtt_send(hub_alerts *a, fl_mqtt *m, const fl_db_alert_job *j)
{
	uint64_t token;
	int rc;

	if (a->nflight == a->flightcap) {
		size_t cap = a->flightcap ? a->flightcap * 2 : 16;
		struct flight *f = realloc(a->flight, cap * sizeof(*f));

		if (!f) {
			finish(a, a->mq, j->name, "outbox", j->attempts,
			       j->next);
			return 0;
		}
		a->flight = f;
		a->flightcap = cap;
	}
	rc = fl_mqtt_publish_tracked(m, j->dest, j->body, strlen(j->body), 1, 0,
				     &token);
	if (rc == FL_EAGAIN) { /* offline: wait, no attempt */
		finish(a, a->mq, j->name, "outbox", j->attempts, j->next);
		return 0;
	}
	if (rc) {
		job_retry(a, a->mq, j->name, 1, j->attempts, fl_strerror(rc));
		return 0;
	}
	a->flight[a->nflight] = (struct flight){ .token = token,
						 .created = j->created,
						 .next = j->next,
						 .attempts = j->attempts };
	hub_fmt(a->flight[a->nflight].name, sizeof(a->flight[0].name), "%s",
		j->name);
	a->nflight++;
	return 1;
}

void hub_alerts_published(hub_alerts *a, uint64_t token, int rc)
{
	struct flight f;
	size_t i;

	for (i = 0; i < a->nflight && a->flight[i].token != token; i++)
		;
	if (i == a->nflight)
		return; /* not an alert's */
	f = a->flight[i];
	a->flight[i] = a->flight[--a->nflight];
	if (rc == 0) {
		fl_log(FL_LOG_INFO, "alerts", "%s: delivered to the broker",
		       f.name);
		job_sent(a, a->mq, f.name, 1, f.attempts, f.created);
	} else if (rc == FL_EAGAIN) {
		/* the connection went first: not an attempt */
		fl_log(FL_LOG_WARN, "alerts",
		       "%s: not acknowledged before the connection was lost; "
		       "sent again",
		       f.name);
		finish(a, a->mq, f.name, "outbox", f.attempts, f.next);
	} else {
		job_retry(a, a->mq, f.name, 1, f.attempts,
			  "refused by the broker");
	}
}

/* The leases of the MQTT jobs waiting for their PUBACK, renewed a third
 * of the way through: a PUBACK may take long (a broker under load), and a
 * job must not be taken by another hub meanwhile. */
static void renew_flights(hub_alerts *a, double now)
{
	double lease = a->conf->alerts.lease_s;

	if (now - a->renewed < lease / 3)
		return;
	a->renewed = now;
	for (size_t i = 0; i < a->nflight; i++) {
		int rc = fl_db_alert_renew(a->mq, a->flight[i].name, a->worker,
					   now + lease);

		if (rc)
			fl_log(FL_LOG_WARN, "alerts",
			       "%s: claim not renewed: %s", a->flight[i].name,
			       fl_strerror(rc));
	}
}

/* A due job of the channel claimed on db into *j (the caller frees it):
 * 1, or 0 when none is due or the store failed (logged). */
static int claim(hub_alerts *a, fl_db *db, int mqtt, double now,
		 fl_db_alert_job *j)
{
	int rc = fl_db_alert_claim(db, a->worker, mqtt, now,
				   a->conf->alerts.lease_s, j);

	if (rc && rc != FL_ENOENT)
		fl_log(FL_LOG_ERROR, "alerts", "cannot claim a job: %s",
		       fl_strerror(rc));
	return rc == 0;
}

/* The due MQTT jobs, published until the window is full (MQTT thread):
 * 1 when it stopped at a full window (a PUBACK makes room: look again
 * then), 0 when none was due, the store failed or a publish did. */
static int run_mqtt(hub_alerts *a, fl_mqtt *m, double now)
{
	fl_db_alert_job j;

	for (;;) {
		int sent;

		if (fl_mqtt_unacked(m) >= HUB_ALERT_WINDOW)
			return 1;
		if (!claim(a, a->mq, 1, now, &j))
			return 0;
		sent = mqtt_send(a, m, &j);
		fl_db_alert_job_free(&j);
		if (!sent)
			return 0;
	}
}

/* The MQTT thread: the alerts' connection's owner (see "Threads and
 * handles"). It claims when a job was made (mkick), when a PUBACK made
 * room in a full window, and every half second (jobs whose retry fell
 * due, another hub's given back); at the stop it disconnects. */
static void *mqtt_thread(void *arg)
{
	hub_alerts *a = arg;
	double last = 0;
	int full = 0;

	while (!atomic_load(&a->mstop)) {
		double now;

		fl_mqtt_run(a->m, 200); /* PUBACKs: hub_alerts_published */
		now = fl_wall_s();
		renew_flights(a, now);
		if (atomic_exchange(&a->mkick, 0) || now - last >= 0.5 ||
		    (full && fl_mqtt_unacked(a->m) < HUB_ALERT_WINDOW)) {
			full = run_mqtt(a, a->m, now);
			last = now;
		}
	}
	/* what is still in flight stays claimed: given back when this hub
	 * starts again, or taken by another when the lease runs out */
	fl_mqtt_stop(a->m, NULL, NULL, 1000);
	return NULL;
}

/* The due webhook jobs, posted one at a time (the webhook thread, its own
 * handle). */
static void run_webhooks(hub_alerts *a)
{
	char why[256];
	fl_db_alert_job j;

	while (!atomic_load(&a->stop) && claim(a, a->own, 0, fl_wall_s(), &j)) {
		if (post(a, j.dest, j.body, why, sizeof(why)) == FL_OK) {
			fl_log(FL_LOG_INFO, "alerts", "%s: delivered to %s",
			       j.name, j.dest);
			job_sent(a, a->own, j.name, 0, j.attempts, j.created);
		} else {
			job_retry(a, a->own, j.name, 0, j.attempts, why);
		}
		fl_db_alert_job_free(&j);
	}
}

static void *webhook_thread(void *arg)
{
	hub_alerts *a = arg;

	while (!atomic_load(&a->stop)) {
		struct timespec ts;

		run_webhooks(a);
		ts = fl_wall_deadline(200); /* a->cv uses the default clock */
		pthread_mutex_lock(&a->mu);
		if (!atomic_load(&a->stop))
			pthread_cond_timedwait(&a->cv, &a->mu, &ts);
		pthread_mutex_unlock(&a->mu);
	}
	return NULL;
}

/* ---- clocks: escalation, owner notification ---------------------------------- */

/* The incident's status in the store: 1 when it is still alarmed and has
 * no outcome; its plate into plate ("" none). */
static int open_plate(fl_db *db, const char *iid, char *plate, size_t len)
{
	char *s = fl_db_incident_json(db, iid);
	json_t *j = s ? json_loads(s, 0, NULL) : NULL;
	const char *status, *p;
	int open;

	free(s);
	hub_fmt(plate, len, "%s", "");
	if (!j)
		return 0;
	status = json_string_value(json_object_get(j, "status"));
	p = json_string_value(json_object_get(j, "plate"));
	open = status && !strcmp(status, "alarm") &&
	       json_is_null(json_object_get(j, "outcome"));
	hub_fmt(plate, len, "%s", p ? p : "");
	json_decref(j);
	return open;
}

/* What a clock's info (j, borrowed: w's strings point into it) says about
 * incident iid, for an alert of kind. */
static void clock_what(json_t *j, const char *iid, const char *kind,
		       struct what *w)
{
	memset(w, 0, sizeof(*w));
	w->site = json_string_value(json_object_get(j, "site"));
	w->device = json_string_value(json_object_get(j, "device"));
	w->camera = json_string_value(json_object_get(j, "camera"));
	w->lane = json_string_value(json_object_get(j, "lane"));
	w->wall = json_number_value(json_object_get(j, "alarm"));
	w->plate = json_string_value(json_object_get(j, "plate"));
	w->site_name = json_string_value(json_object_get(j, "site_name"));
	w->lane_name = json_string_value(json_object_get(j, "lane_name"));
	w->since = json_is_number(json_object_get(j, "since"))
			   ? json_number_value(json_object_get(j, "since"))
			   : -1;
	w->iid = iid;
	w->kind = kind;
}

/* A claimed escalation clock: the enforcement alerts when the incident is
 * still open without an outcome. 1 when done (the clock removed), 0 to
 * try again (its jobs not written). */
static int escalate(hub_alerts *a, fl_db *db, const fl_db_alert_clock *k,
		    json_t *info)
{
	char plate[64];
	struct what w;
	struct jobs l = { 0 };
	int rc;

	clock_what(info, k->iid, "escalated", &w);
	if (!open_plate(db, k->iid, plate, sizeof(plate)))
		return 1; /* closed, or an outcome: nothing to escalate */
	if ((rc = jobs_for(a, &w, &l)) == 0)
		rc = jobs_add(a, db, k->iid, &l);
	jobs_free(&l);
	return rc == 0;
}

/* A claimed owner clock: once per incident, while it is open without
 * outcome and its plate (a read or a person's) is in the site's register;
 * through the outbox like any alert, audited "owner_notify". 1 when done,
 * 0 to try again. */
static int notify_owner(hub_alerts *a, fl_db *db, const fl_db_alert_clock *k,
			json_t *info, double now)
{
	const hub_site_alerts *s;
	char plate[64], *row = NULL;
	struct what w;
	struct jobs l = { 0 };
	int rc, done = 1;

	clock_what(info, k->iid, "owner", &w);
	s = w.site ? hub_conf_site(a->conf, w.site) : NULL;
	if (!s || !s->owner_webhook[0])
		return 1;
	if (open_plate(db, k->iid, plate, sizeof(plate)))
		row = fl_db_register_find(db, w.site, plate);
	w.owner = row ? json_loads(row, 0, NULL) : NULL;
	w.plate = plate;
	if (!w.owner) {
		fl_log(FL_LOG_INFO, "alerts",
		       "%s: owner not notified (closed, or plate %s not in the "
		       "register)",
		       k->iid, plate[0] ? plate : "unread");
	} else if (!(l.j = calloc(1, sizeof(*l.j))) ||
		   job_make(a, &w, "owner", s->owner_webhook, HUB_HOOK_GENERIC,
			    &l.j[0])) {
		done = 0;
		l.n = l.j ? 1 : 0;
	} else {
		l.n = 1;
		if ((rc = jobs_add(a, db, k->iid, &l)) == 0)
			fl_db_audit(db, "hub", "owner_notify", k->iid, plate,
				    now);
		else
			done = 0;
	}
	jobs_free(&l);
	json_decref(w.owner);
	free(row);
	return done;
}

/* The clocks that are due (each claimed, so of several hubs one acts). */
static void clocks(hub_alerts *a, fl_db *db, double now)
{
	for (int i = 0; i < 256; i++) {
		fl_db_alert_clock k;
		json_t *info;
		int done;
		int rc = fl_db_alert_clock_claim(db, a->worker, now,
						 a->conf->alerts.lease_s, &k);

		if (rc) {
			if (rc != FL_ENOENT)
				fl_log(FL_LOG_ERROR, "alerts",
				       "cannot claim a clock: %s",
				       fl_strerror(rc));
			return;
		}
		info = json_loads(k.info, 0, NULL);
		if (!json_is_object(info) ||
		    !json_is_string(json_object_get(info, "site")))
			done = 1; /* nothing to alert with: dropped */
		else if (!strcmp(k.kind, "escalate"))
			done = escalate(a, db, &k, info);
		else
			done = notify_owner(a, db, &k, info, now);
		json_decref(info);
		fl_db_alert_clock_done(db, k.iid, k.kind, a->worker, !done);
		fl_db_alert_clock_free(&k);
		if (!done)
			return; /* the store failing: again at the next tick */
	}
}

void hub_alerts_tick(hub_alerts *a, fl_db *db, double now)
{
	clocks(a, db, now);
}

int hub_alerts_start_mqtt(hub_alerts *a, fl_mqtt *m, char *err, size_t errlen)
{
	char url[HUB_PATH + 16];

	hub_conf_store_url(a->conf, url, sizeof(url));
	if (!(a->mq = fl_db_open(url, err, errlen)))
		return FL_EIO;
	a->m = m;
	if (pthread_create(&a->mthread, NULL, mqtt_thread, a)) {
		hub_fmt(err, errlen, "cannot start the MQTT alerts' thread");
		a->m = NULL;
		fl_db_close(a->mq);
		a->mq = NULL;
		return FL_EIO;
	}
	a->mstarted = 1;
	return 0;
}

void hub_alerts_stop_mqtt(hub_alerts *a)
{
	if (!a || !a->mstarted)
		return;
	atomic_store(&a->mstop, 1);
	fl_mqtt_kick(a->m);
	pthread_join(a->mthread, NULL);
	a->mstarted = 0;
	a->m = NULL;
}

/* ---- the files of old ----------------------------------------------------------- */

/* One job file of an old .alerts/ folder (path, named <name>.json or
 * <name>.json@<worker>) into the store as state. 0 or the error. */
static int import_job(hub_alerts *a, const char *path, const char *file,
		      const char *state)
{
	json_t *j = json_load_file(path, 0, NULL);
	const char *kind = json_string_value(json_object_get(j, "kind"));
	const char *dest = json_string_value(json_object_get(j, "dest"));
	const char *body = json_string_value(json_object_get(j, "body"));
	const char *after = json_string_value(json_object_get(j, "after"));
	fl_db_alert_job job;
	char iid[256], *dot;
	const char *e = strstr(file, ".json");
	int rc;

	if (!json_is_object(j) || !kind || !dest || !body || !e) {
		fl_log(FL_LOG_WARN, "alerts", "%s: not an alert job; left",
		       path);
		json_decref(j);
		return 0;
	}
	memset(&job, 0, sizeof(job));
	hub_fmt(job.name, sizeof(job.name), "%.*s", (int)(e - file), file);
	hub_fmt(iid, sizeof(iid), "%s", job.name);
	/* <iid>.<kind>.<target>: kind and target have no dot */
	for (int k = 0; k < 2 && (dot = strrchr(iid, '.')); k++)
		*dot = 0;
	hub_fmt(job.kind, sizeof(job.kind), "%s", kind);
	hub_fmt(job.dest, sizeof(job.dest), "%s", dest);
	job.body = (char *)body;
	job.mqtt = json_integer_value(json_object_get(j, "mqtt")) != 0;
	job.attempts = (int)json_integer_value(json_object_get(j, "attempts"));
	job.next = json_number_value(json_object_get(j, "next"));
	job.created = json_number_value(json_object_get(j, "created"));
	if (after) /* named with .json then */
		hub_fmt(job.after, sizeof(job.after), "%.*s",
			(int)(strstr(after, ".json")
				      ? strstr(after, ".json") - after
				      : (long)strlen(after)),
			after);
	hub_fmt(job.state, sizeof(job.state), "%s", state);
	rc = fl_db_alert_job_add(a->db, &job, iid, NULL, NULL);
	json_decref(j);
	return rc;
}

/* One clock file of open/ (<iid>.json: escalation, <iid>.owner), with or
 * without a worker's claim, into the store. 0 or the error. */
static int import_clock(hub_alerts *a, const char *path, const char *file)
{
	json_t *j = json_load_file(path, 0, NULL);
	const char *e = strstr(file, ".json"), *o = strstr(file, ".owner");
	const hub_site_alerts *s;
	fl_db_alert_clock k;
	const char *site = json_string_value(json_object_get(j, "site"));
	double alarm = json_number_value(json_object_get(j, "alarm")), esc;
	int rc;

	if (!json_is_object(j) || !site || (!e && !o)) {
		json_decref(j);
		return 0;
	}
	memset(&k, 0, sizeof(k));
	s = hub_conf_site(a->conf, site);
	hub_fmt(k.iid, sizeof(k.iid), "%.*s", (int)((e ? e : o) - file), file);
	if (e) {
		esc = s && s->escalate_s >= 0 ? s->escalate_s
					      : a->conf->alerts.escalate_s;
		hub_fmt(k.kind, sizeof(k.kind), "escalate");
		k.due = esc > 0 ? alarm + esc : NAN;
		k.forced = json_is_true(json_object_get(j, "force"));
	} else {
		hub_fmt(k.kind, sizeof(k.kind), "owner");
		k.due = alarm + (s ? s->notify_owner_s : 0);
	}
	json_object_del(j, "force");
	k.info = json_dumps(j, JSON_COMPACT);
	rc = k.info ? fl_db_alert_clock_add(a->db, &k, NULL) : FL_ENOMEM;
	free(k.info);
	json_decref(j);
	return rc;
}

/* Every file of dir/box into the store. 0 or the first error. */
static int import_box(hub_alerts *a, const char *dir, const char *box)
{
	char path[HUB_PATHLEN], made[256];
	struct dirent *e;
	DIR *d;
	int rc = 0;

	hub_fmt(path, sizeof(path), "%s/%s", dir, box);
	if (!(d = opendir(path)))
		return 0;
	while (!rc && (e = readdir(d))) {
		const char *n = e->d_name, *dot;

		if (n[0] == '.')
			continue;
		hub_fmt(path, sizeof(path), "%s/%s/%s", dir, box, n);
		if (!strcmp(box, "outbox") || !strcmp(box, "claimed")) {
			rc = import_job(a, path, n, "outbox");
		} else if (!strcmp(box, "sent") || !strcmp(box, "failed")) {
			rc = import_job(a, path, n, box);
		} else if (!strcmp(box, "open")) {
			rc = import_clock(a, path, n);
		} else if ((dot = strrchr(n, '.')) &&
			   (size_t)(dot - n) < sizeof(made)) {
			/* made/<iid>.<alarm|closed|cleared> */
			hub_fmt(made, sizeof(made), "%.*s", (int)(dot - n), n);
			if (!strcmp(dot + 1, "alarm") ||
			    !strcmp(dot + 1, "closed") ||
			    !strcmp(dot + 1, "cleared"))
				rc = fl_db_alert_mark(a->db, made, dot + 1);
		}
	}
	closedir(d);
	return rc;
}

/*
 * The .alerts/ folder of a hub from before, once: taken by this hub
 * (renamed .alerts.importing.<worker>: of several hubs one gets it, and
 * one that stopped half-way takes its own up again), every job, mark and
 * clock added where the store has none of its name, then renamed
 * .alerts.imported.<time>. 0, or the error (the hub does not start: it
 * would lose or repeat alerts).
 */
static int import_files(hub_alerts *a, char *err, size_t errlen)
{
	static const char *const boxes[] = { "made",   "sent",    "failed",
					     "outbox", "claimed", "open" };
	char from[HUB_PATHLEN + HUB_STR + 16], to[HUB_PATHLEN + 32];
	struct stat sb;
	int rc = 0;

	hub_fmt(from, sizeof(from), "%s.importing.%s", a->dir, a->worker);
	if (stat(from, &sb) != 0 && rename(a->dir, from) != 0) {
		if (errno == ENOENT)
			return 0; /* none, or another hub has it */
		hub_fmt(err, errlen, "%s: cannot take it for the import: %s",
			a->dir, strerror(errno));
		return FL_EIO;
	}
	fl_log(FL_LOG_WARN, "alerts", "%s: importing the alerts into the store",
	       a->dir);
	for (size_t i = 0; !rc && i < FL_ARRAY_SIZE(boxes); i++)
		rc = import_box(a, from, boxes[i]);
	if (rc) {
		hub_fmt(err, errlen, "%s: import into the store: %s", from,
			fl_strerror(rc));
		return rc;
	}
	hub_fmt(to, sizeof(to), "%s.imported.%lld", a->dir,
		(long long)fl_wall_s());
	if (rename(from, to) != 0) {
		hub_fmt(err, errlen, "%s -> %s: %s", from, to, strerror(errno));
		return FL_EIO;
	}
	fl_log(FL_LOG_WARN, "alerts", "%s: imported; the folder is now %s",
	       a->dir, to);
	return 0;
}

hub_alerts *hub_alerts_create(const hub_conf *conf, hub_metrics *metrics,
			      fl_db *db, char *err, size_t errlen)
{
	hub_alerts *a = calloc(1, sizeof(*a));
	char url[HUB_PATH + 16];
	long n = 0;
	size_t k;

	if (!a) {
		hub_fmt(err, errlen, "out of memory");
		return NULL;
	}
	a->conf = conf;
	a->metrics = metrics;
	a->db = db;
	hub_fmt(a->dir, sizeof(a->dir), "%s/.alerts", conf->evidence_dir);
	/* the hub's name in claims: its client id as a plain name */
	hub_fmt(a->worker, sizeof(a->worker), "%s", conf->mqtt.client_id);
	for (k = 0; a->worker[k]; k++)
		if (!((a->worker[k] >= 'a' && a->worker[k] <= 'z') ||
		      (a->worker[k] >= 'A' && a->worker[k] <= 'Z') ||
		      (a->worker[k] >= '0' && a->worker[k] <= '9') ||
		      a->worker[k] == '-' || a->worker[k] == '_' ||
		      a->worker[k] == '.'))
			a->worker[k] = '_';
	/* the alerts' picture links (stills.h), the key the web side checks */
	if (hub_still_key(conf->evidence_dir, a->still_key, err, errlen) ||
	    import_files(a, err, errlen))
		goto fail;
	hub_conf_store_url(conf, url, sizeof(url));
	if (!(a->own = fl_db_open(url, err, errlen)))
		goto fail;
	/* what this hub held when it stopped (a crash, a kill) is due again
	 * at once, not when its lease runs out (one may be sent again: it
	 * was being sent) */
	if (fl_db_alert_release(db, a->worker, &n) == 0 && n > 0)
		fl_log(FL_LOG_WARN, "alerts",
		       "%ld claims held when this hub stopped given back", n);
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	if (pthread_create(&a->thread, NULL, webhook_thread, a)) {
		hub_fmt(err, errlen, "cannot start the webhook thread");
		pthread_cond_destroy(&a->cv);
		pthread_mutex_destroy(&a->mu);
		goto fail;
	}
	a->started = 1;
	return a;
fail:
	fl_db_close(a->own);
	free(a);
	return NULL;
}

void hub_alerts_destroy(hub_alerts *a)
{
	if (!a)
		return;
	hub_alerts_stop_mqtt(a);
	if (a->started) {
		atomic_store(&a->stop, 1);
		wake(a);
		pthread_join(a->thread, NULL);
		pthread_cond_destroy(&a->cv);
		pthread_mutex_destroy(&a->mu);
	}
	fl_db_close(a->own);
	fl_db_close(a->mq);
	free(a->flight);
	free(a);
}
