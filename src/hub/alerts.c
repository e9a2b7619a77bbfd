/*
 * alerts.c - property alerts, all-clears and escalations, through an outbox.
 *
 * A note on the model. An alert must reach a person even when the webhook
 * is down for a while, and must reach them once: a property manager who
 * gets the same alarm three times after a hub restart stops reading them.
 * Both needs are met by making every alert a file before anything is sent:
 *
 *   .alerts/outbox/<incident>.<kind>.<target>.json   to send (attempts, next)
 *   .alerts/sent/<same name>                         sent (kept as the record)
 *   .alerts/failed/<same name>                       gave up after retry_max
 *   .alerts/open/<incident>.json                     alarmed, not yet closed:
 *                                                    the escalation clock
 *   .alerts/made/<incident>.<alarm|cleared>          that step was handled
 *
 * Escalation is due escalate_s (the site's, else alerts.escalate_s) after
 * the alarm, or at once when the edge sends its own "escalated" step (the
 * lane's escalate_s on the device); either way only while the store says
 * the incident is still alarmed and has no outcome, and only once.
 *
 * kind is alarm, cleared or escalated; target is mqtt, hook<N> (the site's
 * property webhooks) or esc<N> (its enforcement webhooks). A job is made
 * only if no file of its name exists in outbox/, sent/ or failed/, so the
 * same incident message delivered twice, or replayed after a restart, makes
 * no second alert. Files are written crash-safe (fl_file_write: temporary,
 * fsync, rename) and moved with rename(), so a crash leaves each job in
 * exactly one place; the worst case is one repeat of a job that was sent
 * but not yet moved.
 *
 * Attempts back off exponentially: retry_base_s, doubling, at most
 * retry_cap_s between attempts, retry_max attempts. A webhook answers 2xx
 * (and, for WeCom and DingTalk, "errcode": 0) to count as sent.
 *
 * Several workers, one evidence_dir (mqtt.shared_group). Every worker
 * scans the same outbox, so a job is claimed before it is sent: renamed
 * from outbox/<name> to claimed/<name>@<worker> (rename is atomic: of two
 * workers at most one succeeds, the other gets ENOENT and skips it). After
 * the attempt the claimed file goes to sent/ or failed/, or back to
 * outbox/ with its next try; a worker that died holding a claim gives it
 * back when it starts again (<worker> is its mqtt.client_id, unique per
 * broker). The escalation clocks in open/ are claimed the same way
 * (open/<incident>.json -> open/<incident>.json@<worker>) before a worker
 * escalates, and a job is created with link(), which refuses to replace
 * a file another worker has just made. So a job is sent once; the worst
 * case stays one repeat of a job sent but not yet moved by a worker that
 * died in between.
 *
 * Sent means delivered. A webhook job is sent when the receiver answered
 * 2xx; an MQTT job when the broker acknowledged it (PUBACK), not when the
 * client took it: it is published with fl_mqtt_publish_tracked() and
 * stays claimed until hub_alerts_published() reports the outcome - sent/
 * on the PUBACK, back to the outbox (no attempt counted) when the
 * connection went before it, a failed attempt when the broker refused it.
 *
 * Order. An all-clear is only worth something after its alarm, so a
 * cleared job names the alarm job of its target ("after") and waits while
 * that one is still in the outbox or claimed. And messages may come out
 * of order (a spool replayed after a restart, a shared subscription): a
 * close that arrives before its incident's alarm leaves a record
 * (made/<incident>.closed), and the alarm, when it comes, makes its alert
 * and the all-clear behind it - a property manager never holds an alarm
 * that nothing will clear. No escalation clock is started for it.
 *
 * Failing. A job, a record or a clock that cannot be written (the disk
 * full or failing) makes hub_alerts_incident() fail, and ingest holds the
 * message and offers it again; the message is then a duplicate in the
 * store, and the alerts are asked again anyway: each step is made only
 * once (made/), and a job only when its name is nowhere yet.
 *
 * Threads: webhook jobs are posted by this module's thread (libcurl, one
 * attempt at a time with alerts.timeout_s), MQTT jobs by the main thread in
 * hub_alerts_tick() because the MQTT client belongs to it. The two never
 * touch the same files (by the target in the name). The store is only
 * touched from the main thread (the escalation check).
 */
#include "alerts.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
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
#include "file.h"
#include "fl.h"
#include "alertmsg.h"
#include "hubconf.h"
#include "stills.h"
#include "topic.h"

struct hub_alerts {
	const hub_conf *conf;  /* borrowed */
	hub_metrics *metrics;  /* borrowed; NULL: nothing counted */
	char dir[HUB_PATHLEN]; /* <evidence_dir>/.alerts */
	pthread_t thread;
	int started;
	atomic_int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char worker[HUB_STR]; /* this worker's name in claims */
	unsigned char still_key[HUB_STILL_KEY]; /* the picture links' */
	/* MQTT jobs published, waiting for their PUBACK (main thread) */
	struct flight {
		uint64_t token;
		char name[512];
		double created; /* the job's: for the alert latency */
	} * flight;
	size_t nflight, flightcap;
};

static int exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

/* Write a JSON object to path, crash-safe (fl_file_write). With excl the
 * file is only made when path does not exist: FL_EEXIST (not an error
 * here) when another worker made it first. */
static int save_ex(const char *path, json_t *j, int excl)
{
	char *text = json_dumps(j, JSON_COMPACT), err[512];
	int rc;

	if (!text)
		return FL_ENOMEM;
	rc = fl_file_write(path, text, strlen(text), 0644,
			   excl ? FL_FILE_EXCL : 0, err, sizeof(err));
	if (rc && rc != FL_EEXIST)
		fl_log(FL_LOG_ERROR, "alerts", "%s", err);
	free(text);
	return rc;
}

static int save(const char *path, json_t *j)
{
	return save_ex(path, j, 0);
}

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

/* Make the job dir/outbox/<iid>.<kind>.<target>.json unless it exists
 * anywhere. dest is a URL (format >= 0) or an MQTT topic (format < 0).
 * A cleared job waits for the alarm job of its target (after). 0, or the
 * error of a job that could not be written. */
static int job_make(hub_alerts *a, const struct what *w, const char *target,
		    const char *dest, int format)
{
	static const char *const boxes[] = { "outbox", "sent", "failed" };
	char name[512], path[HUB_PATHLEN], after[512];
	char *body = NULL;
	json_t *j = NULL;
	int rc = FL_ENOMEM;

	hub_fmt(name, sizeof(name), "%s.%s.%s.json", w->iid, w->kind, target);
	for (size_t i = 0; i < FL_ARRAY_SIZE(boxes); i++) {
		hub_fmt(path, sizeof(path), "%s/%s/%s", a->dir, boxes[i], name);
		if (exists(path))
			return 0; /* made before: never twice */
	}
	body = body_for(a, w, format < 0 ? HUB_HOOK_GENERIC : format);
	if (!body)
		goto out;
	j = json_pack("{s:s,s:s,s:i,s:s,s:i,s:f,s:f}", "kind", w->kind, "dest",
		      dest, "mqtt", format < 0, "body", body, "attempts", 0,
		      "next", 0.0, "created", fl_wall_s());
	if (!j)
		goto out;
	if (!strcmp(w->kind, "cleared")) {
		hub_fmt(after, sizeof(after), "%s.alarm.%s.json", w->iid,
			target);
		json_object_set_new(j, "after", json_string(after));
	}
	hub_fmt(path, sizeof(path), "%s/outbox/%s", a->dir, name);
	rc = save_ex(path, j, 1);
	if (rc == FL_EEXIST) {
		rc = 0; /* another worker made it a moment ago */
	} else if (rc) {
		fl_log(FL_LOG_ERROR, "alerts", "%s: cannot write", path);
	} else {
		fl_log(FL_LOG_INFO, "alerts", "%s %s for %s -> %s", w->kind,
		       target, w->iid, dest);
	}
	pthread_mutex_lock(&a->mu);
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
out:
	json_decref(j);
	free(body);
	return rc;
}

/* All jobs of one kind for a site: MQTT and the webhooks. 0 or the first
 * error (every job is tried). */
static int jobs_for(hub_alerts *a, const struct what *w)
{
	const hub_site_alerts *s = hub_conf_site(a->conf, w->site);
	int esc = !strcmp(w->kind, "escalated"), rc = 0, r;
	char lvl[HUB_STR], topic[HUB_STR + 64], target[16];

	fl_topic_level(w->site, lvl, sizeof(lvl));
	if (a->conf->alerts.mqtt) {
		if (esc && s && s->escalate_topic[0])
			hub_fmt(topic, sizeof(topic), "%s", s->escalate_topic);
		else
			hub_fmt(topic, sizeof(topic), "firelane/%s/%s", lvl,
				esc ? "enforcement" : "alerts");
		rc = job_make(a, w, "mqtt", topic, -1);
	}
	if (!s)
		return rc;
	for (int i = 0; i < (esc ? s->nescalate : s->nhooks); i++) {
		const hub_hook *h = esc ? &s->escalate[i] : &s->hooks[i];

		hub_fmt(target, sizeof(target), "%s%d", esc ? "esc" : "hook",
			i);
		if ((r = job_make(a, w, target, h->url, h->format)) && !rc)
			rc = r;
	}
	return rc;
}

/* Whether an incident's step was handled: .alerts/made/<iid>.<kind> */
static int is_made(hub_alerts *a, const char *iid, const char *kind)
{
	char path[HUB_PATHLEN];

	hub_fmt(path, sizeof(path), "%s/made/%s.%s", a->dir, iid, kind);
	return exists(path);
}

/* Record it (a plain file: losing one to a power cut can only repeat an
 * alert). 0 or the error. */
static int mark_made(hub_alerts *a, const char *iid, const char *kind)
{
	char path[HUB_PATHLEN];
	FILE *f;

	hub_fmt(path, sizeof(path), "%s/made/%s.%s", a->dir, iid, kind);
	f = fopen(path, "w");
	if (!f || fclose(f)) {
		int rc = fl_file_errno(errno, "cannot create", path, NULL, 0);

		fl_log(FL_LOG_ERROR, "alerts", "%s: %s", path, strerror(errno));
		return rc;
	}
	return 0;
}

/* The all-clear of w's incident, once. */
static int all_clear(hub_alerts *a, struct what w)
{
	int rc;

	if (is_made(a, w.iid, "cleared"))
		return 0;
	w.kind = "cleared";
	if ((rc = jobs_for(a, &w)))
		return rc;
	return mark_made(a, w.iid, "cleared");
}

/* The owner notification's clock, open/<iid>.owner, when the site has an
 * owner_webhook and notify_owner_s (docs/hub.md): owners() sends it. */
static int owner_clock(hub_alerts *a, const struct what *w)
{
	const hub_site_alerts *s = hub_conf_site(a->conf, w->site);
	char path[HUB_PATHLEN];
	json_t *j;
	int rc;

	if (!s || !s->owner_webhook[0] || s->notify_owner_s <= 0)
		return 0;
	hub_fmt(path, sizeof(path), "%s/open/%s.owner", a->dir, w->iid);
	j = json_pack("{s:s,s:s,s:s,s:s,s:f}", "site", w->site, "device",
		      w->device, "camera", w->camera, "lane", w->lane, "alarm",
		      w->wall);
	rc = j ? save_ex(path, j, 1) : FL_ENOMEM;
	json_decref(j);
	return rc == FL_EEXIST ? 0 : rc;
}

int hub_alerts_incident(hub_alerts *a, const char *site, const char *device,
			const char *camera, const char *lane,
			const hub_incident *in)
{
	const char *incident_id = in->incident_id, *type = in->type;
	double wall = in->wall;
	struct what w = { site,          device,        camera,   lane,
			  incident_id,   type,          wall,     in->site_name,
			  in->lane_name, in->rest_wall, in->plate };
	char path[HUB_PATHLEN];
	int rc = 0;

	hub_fmt(path, sizeof(path), "%s/open/%s.json", a->dir, incident_id);
	if (!strcmp(type, "alarm")) {
		int closed = is_made(a, incident_id, "closed");

		if (is_made(a, incident_id, "alarm"))
			return 0; /* handled before (a replay after a restart) */
		if (!closed && (rc = owner_clock(a, &w)) != 0)
			return rc;
		if (!closed) { /* the escalation clock */
			json_t *j = json_pack(
				"{s:s,s:s,s:s,s:s,s:f,s:s,s:s,s:f,s:s?}",
				"site", site, "device", device, "camera",
				camera, "lane", lane, "alarm", wall,
				"site_name", in->site_name, "lane_name",
				in->lane_name, "since", in->rest_wall, "plate",
				in->plate[0] ? in->plate : NULL);

			rc = j ? save(path, j) : FL_ENOMEM;
			json_decref(j);
		}
		if (rc || (rc = jobs_for(a, &w)) ||
		    (rc = mark_made(a, incident_id, "alarm")))
			return rc;
		if (!closed)
			return 0;
		/* its close came first: the all-clear follows the alarm */
		fl_log(FL_LOG_WARN, "alerts",
		       "%s: alarm arrived after the incident closed; the "
		       "all-clear follows it",
		       incident_id);
		return all_clear(a, w);
	}
	if (!strcmp(type, "escalated")) {
		/* the edge's own escalate_s (per lane) came first: escalate at
		 * the next tick, still only without an outcome */
		json_t *j = json_load_file(path, 0, NULL);

		if (json_is_object(j)) {
			json_object_set_new(j, "force", json_true());
			rc = save(path, j);
		}
		json_decref(j);
		return rc;
	}
	if (!strcmp(type, "cleared") || !strcmp(type, "vacated") ||
	    !strcmp(type, "interrupted")) {
		if (w.since < 0) { /* the alarm's, from its clock */
			json_t *j = json_load_file(path, 0, NULL);
			json_t *v = json_object_get(j, "since");

			if (json_is_number(v))
				w.since = json_number_value(v);
			json_decref(j);
		}
		unlink(path);
		if (!is_made(a, incident_id, "alarm")) /* an alarm may come */
			return is_made(a, incident_id, "closed")
				       ? 0
				       : mark_made(a, incident_id, "closed");
		return all_clear(a, w);
	}
	return 0;
}

/* ---- sending -------------------------------------------------------------- */

/* The path of our claim of a job. */
static void claimed_path(const hub_alerts *a, const char *name, char *buf,
			 size_t len)
{
	hub_fmt(buf, len, "%s/claimed/%s@%s", a->dir, name, a->worker);
}

/* Claim outbox/<name> for this worker: 1 when it is ours now, 0 when
 * another worker (or thread) took it first or it is gone. */
static int job_claim(hub_alerts *a, const char *name)
{
	char from[HUB_PATHLEN], to[HUB_PATHLEN];

	hub_fmt(from, sizeof(from), "%s/outbox/%s", a->dir, name);
	claimed_path(a, name, to, sizeof(to));
	if (rename(from, to) == 0)
		return 1;
	if (errno != ENOENT)
		fl_log(FL_LOG_ERROR, "alerts", "%s: cannot claim: %s", from,
		       strerror(errno));
	return 0;
}

/* Give a claimed job back to the outbox unchanged (not attempted). */
static void job_unclaim(hub_alerts *a, const char *name)
{
	char from[HUB_PATHLEN], to[HUB_PATHLEN];

	claimed_path(a, name, from, sizeof(from));
	hub_fmt(to, sizeof(to), "%s/outbox/%s", a->dir, name);
	if (rename(from, to))
		fl_log(FL_LOG_ERROR, "alerts", "%s -> outbox: %s", from,
		       strerror(errno));
}

/* Move a finished (claimed) job to sent/ or failed/. */
static void job_done(hub_alerts *a, const char *name, const char *box)
{
	char from[HUB_PATHLEN], to[HUB_PATHLEN];

	claimed_path(a, name, from, sizeof(from));
	hub_fmt(to, sizeof(to), "%s/%s/%s", a->dir, box, name);
	if (rename(from, to))
		fl_log(FL_LOG_ERROR, "alerts", "%s -> %s: %s", from, box,
		       strerror(errno));
}

/* A job's channel, by the target in its name. */
static enum hub_metric_channel channel_of(const char *name)
{
	size_t n = strlen(name);

	return n > 10 && !strcmp(name + n - 10, ".mqtt.json") ? HUB_M_MQTT
							      : HUB_M_WEBHOOK;
}

/* A job delivered (claimed, made at created): counted, then to sent/. */
static void job_sent(hub_alerts *a, const char *name, double created)
{
	hub_metrics_alert(a->metrics, channel_of(name), HUB_M_SENT,
			  created > 0 ? fl_wall_s() - created : -1);
	job_done(a, name, "sent");
}

/* After a failed attempt: back off, or give up. */
static void job_retry(hub_alerts *a, const char *name, json_t *j,
		      const char *why)
{
	char path[HUB_PATHLEN];
	int n = (int)json_integer_value(json_object_get(j, "attempts")) + 1;
	double d = a->conf->alerts.retry_base_s * pow(2, n - 1);

	hub_metrics_alert(a->metrics, channel_of(name), HUB_M_FAILED, -1);
	if (d > a->conf->alerts.retry_cap_s)
		d = a->conf->alerts.retry_cap_s;
	if (n >= a->conf->alerts.retry_max) {
		hub_metrics_alert(a->metrics, channel_of(name), HUB_M_GAVE_UP,
				  -1);
		fl_log(FL_LOG_ERROR, "alerts",
		       "%s: giving up after %d attempts: %s", name, n, why);
		job_done(a, name, "failed");
		return;
	}
	fl_log(FL_LOG_WARN, "alerts",
	       "%s: attempt %d failed (%s); retry in %.1f s", name, n, why, d);
	json_object_set_new(j, "attempts", json_integer(n));
	json_object_set_new(j, "next", json_real(fl_wall_s() + d));
	/* the new state goes back to the outbox, then the claim ends */
	hub_fmt(path, sizeof(path), "%s/outbox/%s", a->dir, name);
	if (save(path, j) == FL_OK) {
		claimed_path(a, name, path, sizeof(path));
		unlink(path);
	} else {
		job_unclaim(a, name);
	}
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

/* 1 while job `after` (a name) is still to be sent: in the outbox, or
 * claimed by any worker. The cheap answers first: a cleared job waits on
 * its alarm on every tick, and a flood has thousands of each. mqtt: called
 * on the main thread, which owns the in-flight list. */
static int waiting_for(hub_alerts *a, const char *after, int mqtt)
{
	static const char *const done[] = { "sent", "failed" };
	char path[HUB_PATHLEN];
	glob_t g;
	int found;

	hub_fmt(path, sizeof(path), "%s/outbox/%s", a->dir, after);
	if (exists(path))
		return 1;
	for (size_t i = 0; i < FL_ARRAY_SIZE(done); i++) {
		hub_fmt(path, sizeof(path), "%s/%s/%s", a->dir, done[i], after);
		if (exists(path))
			return 0;
	}
	for (size_t i = 0; mqtt && i < a->nflight; i++)
		if (!strcmp(a->flight[i].name, after))
			return 1; /* published, its PUBACK to come */
	/* claimed by another worker, or never made (a target added since) */
	hub_fmt(path, sizeof(path), "%s/claimed/%s@*", a->dir, after);
	found = glob(path, GLOB_NOSORT | GLOB_NOESCAPE, NULL, &g) == 0 &&
		g.gl_pathc > 0;
	globfree(&g);
	return found;
}

/* Publish a claimed MQTT job; it stays claimed until its PUBACK
 * (hub_alerts_published). */
static void mqtt_send(hub_alerts *a, fl_mqtt *m, const char *name, json_t *j,
		      const char *dest, const char *body)
{
	uint64_t token;
	int rc;

	if (a->nflight == a->flightcap) {
		size_t cap = a->flightcap ? a->flightcap * 2 : 16;
		struct flight *f = realloc(a->flight, cap * sizeof(*f));

		if (!f) {
			job_unclaim(a, name);
			return;
		}
		a->flight = f;
		a->flightcap = cap;
	}
	rc = fl_mqtt_publish_tracked(m, dest, body, strlen(body), 1, 0, &token);
	if (rc == FL_EAGAIN) { /* offline: wait, no attempt */
		job_unclaim(a, name);
		return;
	}
	if (rc) {
		job_retry(a, name, j, fl_strerror(rc));
		return;
	}
	a->flight[a->nflight].token = token;
	hub_fmt(a->flight[a->nflight].name, sizeof(a->flight[0].name), "%s",
		name);
	a->flight[a->nflight].created = json_number_value(
		json_object_get(j, "created"));
	a->nflight++;
}

void hub_alerts_published(hub_alerts *a, uint64_t token, int rc)
{
	char path[HUB_PATHLEN], name[512];
	double created;
	json_t *j;
	size_t i;

	for (i = 0; i < a->nflight && a->flight[i].token != token; i++)
		;
	if (i == a->nflight)
		return; /* not an alert's */
	hub_fmt(name, sizeof(name), "%s", a->flight[i].name);
	created = a->flight[i].created;
	a->flight[i] = a->flight[--a->nflight];
	if (rc == 0) {
		fl_log(FL_LOG_INFO, "alerts", "%s: delivered to the broker",
		       name);
		job_sent(a, name, created);
		return;
	}
	if (rc == FL_EAGAIN) { /* the connection went first: not an attempt */
		fl_log(FL_LOG_WARN, "alerts",
		       "%s: not acknowledged before the connection was lost; "
		       "sent again",
		       name);
		job_unclaim(a, name);
		return;
	}
	claimed_path(a, name, path, sizeof(path));
	j = json_load_file(path, 0, NULL);
	if (json_is_object(j))
		job_retry(a, name, j, "refused by the broker");
	else
		job_unclaim(a, name);
	json_decref(j);
}

/* Run the due jobs of one kind (mqtt: m set, main thread; else webhooks). */
static void run_due(hub_alerts *a, fl_mqtt *m, int mqtt)
{
	char box[HUB_PATHLEN], path[HUB_PATHLEN], why[256];
	DIR *d;
	struct dirent *e;
	double now = fl_wall_s();

	hub_fmt(box, sizeof(box), "%s/outbox", a->dir);
	d = opendir(box);
	if (!d)
		return;
	while ((e = readdir(d)) && !atomic_load(&a->stop) &&
	       !(mqtt && fl_mqtt_unacked(m) >= HUB_ALERT_WINDOW)) {
		size_t n = strlen(e->d_name);
		int is_mqtt = channel_of(e->d_name) == HUB_M_MQTT;
		json_t *j;
		const char *dest, *body;

		if (n < 6 || strcmp(e->d_name + n - 5, ".json") ||
		    is_mqtt != mqtt)
			continue;
		hub_fmt(path, sizeof(path), "%s/%s", box, e->d_name);
		j = json_load_file(path, 0, NULL);
		if (!json_is_object(j)) {
			json_decref(j);
			continue;
		}
		if (json_number_value(json_object_get(j, "next")) > now ||
		    (json_is_string(json_object_get(j, "after")) &&
		     waiting_for(a,
				 json_string_value(json_object_get(j, "after")),
				 mqtt))) {
			json_decref(j);
			continue; /* not due, or its alarm first: no claim */
		}
		json_decref(j);
		if (!job_claim(a, e->d_name))
			continue; /* another worker has it */
		/* read it again: what we read may predate another worker's
		 * retry of it */
		claimed_path(a, e->d_name, path, sizeof(path));
		j = json_load_file(path, 0, NULL);
		dest = json_string_value(json_object_get(j, "dest"));
		body = json_string_value(json_object_get(j, "body"));
		if (!json_is_object(j) || !dest || !body ||
		    json_number_value(json_object_get(j, "next")) > now) {
			job_unclaim(a, e->d_name);
			json_decref(j);
			continue;
		}
		if (mqtt) {
			mqtt_send(a, m, e->d_name, j, dest, body);
		} else if (post(a, dest, body, why, sizeof(why)) == FL_OK) {
			fl_log(FL_LOG_INFO, "alerts", "%s: delivered to %s",
			       e->d_name, dest);
			job_sent(a, e->d_name,
				 json_number_value(
					 json_object_get(j, "created")));
		} else {
			job_retry(a, e->d_name, j, why);
		}
		json_decref(j);
	}
	closedir(d);
}

static void *webhook_thread(void *arg)
{
	hub_alerts *a = arg;

	while (!atomic_load(&a->stop)) {
		struct timespec ts;

		run_due(a, NULL, 0);
		ts = fl_wall_deadline(200); /* a->cv uses the default clock */
		pthread_mutex_lock(&a->mu);
		if (!atomic_load(&a->stop))
			pthread_cond_timedwait(&a->cv, &a->mu, &ts);
		pthread_mutex_unlock(&a->mu);
	}
	return NULL;
}

/* ---- escalation ------------------------------------------------------------ */

/* 1 when the incident is still alarmed in the store and has no outcome. */
static int still_open(fl_db *db, const char *iid)
{
	char *s = fl_db_incident_json(db, iid);
	json_t *j = s ? json_loads(s, 0, NULL) : NULL;
	const char *status;
	int open;

	free(s);
	if (!j)
		return 0;
	status = json_string_value(json_object_get(j, "status"));
	open = status && !strcmp(status, "alarm") &&
	       json_is_null(json_object_get(j, "outcome"));
	json_decref(j);
	return open;
}

/* What a clock in open/ (j, borrowed: w's strings point into it) says
 * about incident iid, for an alert of kind. */
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

static void escalations(hub_alerts *a, fl_db *db, double now)
{
	char box[HUB_PATHLEN], path[HUB_PATHLEN], iid[256];
	DIR *d;
	struct dirent *e;

	hub_fmt(box, sizeof(box), "%s/open", a->dir);
	d = opendir(box);
	if (!d)
		return;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		const hub_site_alerts *s;
		double after;
		json_t *j;
		struct what w;

		if (n < 6 || n - 5 >= sizeof(iid) ||
		    strcmp(e->d_name + n - 5, ".json"))
			continue;
		memcpy(iid, e->d_name, n - 5);
		iid[n - 5] = 0;
		hub_fmt(path, sizeof(path), "%s/%s", box, e->d_name);
		j = json_load_file(path, 0, NULL);
		if (!json_is_object(j)) {
			json_decref(j);
			continue;
		}
		clock_what(j, iid, "escalated", &w);
		s = w.site ? hub_conf_site(a->conf, w.site) : NULL;
		after = s && s->escalate_s >= 0 ? s->escalate_s
						: a->conf->alerts.escalate_s;
		if (!w.site || !w.device || !w.camera || !w.lane) {
			unlink(path);
		} else if (json_is_true(json_object_get(j, "force")) ||
			   (after > 0 && now >= w.wall + after)) {
			char mine[HUB_PATHLEN + HUB_STR + 2];

			/* claimed, so of several workers one escalates */
			hub_fmt(mine, sizeof(mine), "%s@%s", path, a->worker);
			if (rename(path, mine) == 0) {
				if (still_open(db, iid) && jobs_for(a, &w)) {
					/* a job not written: escalate again */
					rename(mine, path);
				} else {
					unlink(mine); /* escalated once, or closed */
				}
			}
		}
		json_decref(j);
	}
	closedir(d);
}

/* The incident's plate into plate when it is still alarmed without an
 * outcome: 1, else 0. */
static int open_plate(fl_db *db, const char *iid, char *plate, size_t len)
{
	char *s = fl_db_incident_json(db, iid);
	json_t *j = s ? json_loads(s, 0, NULL) : NULL;
	const char *status, *p;
	int open;

	free(s);
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

/* Owner notifications that are due: once per incident, notify_owner_s after
 * the alarm, while it is open without outcome and its plate (a read or a
 * person's) is in the site's register; through the outbox like any alert
 * (retries, holds, the delivery logged), audited "owner_notify". */
static void owners(hub_alerts *a, fl_db *db, double now)
{
	char box[HUB_PATHLEN], path[HUB_PATHLEN], iid[256], plate[64];
	DIR *d;
	struct dirent *e;

	hub_fmt(box, sizeof(box), "%s/open", a->dir);
	d = opendir(box);
	if (!d)
		return;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		const hub_site_alerts *s;
		char mine[HUB_PATHLEN + HUB_STR + 2];
		struct what w = { 0 };
		json_t *j;

		if (n < 7 || n - 6 >= sizeof(iid) ||
		    strcmp(e->d_name + n - 6, ".owner"))
			continue;
		memcpy(iid, e->d_name, n - 6);
		iid[n - 6] = 0;
		hub_fmt(path, sizeof(path), "%s/%s", box, e->d_name);
		j = json_load_file(path, 0, NULL);
		clock_what(j, iid, "owner", &w);
		s = w.site ? hub_conf_site(a->conf, w.site) : NULL;
		if (!s || !w.device || !w.camera || !w.lane ||
		    !s->owner_webhook[0]) {
			unlink(path);
		} else if (now >= w.wall + s->notify_owner_s) {
			hub_fmt(mine, sizeof(mine), "%s@%s", path, a->worker);
			if (rename(path, mine) == 0) {
				char *row = NULL;

				if (open_plate(db, iid, plate, sizeof(plate)))
					row = fl_db_register_find(db, w.site,
								  plate);
				w.owner = row ? json_loads(row, 0, NULL) : NULL;
				w.plate = plate;
				if (!w.owner) {
					fl_log(FL_LOG_INFO, "alerts",
					       "%s: owner not notified (closed, "
					       "or plate %s not in the "
					       "register)",
					       iid,
					       plate[0] ? plate : "unread");
					unlink(mine);
				} else if (job_make(a, &w, "owner",
						    s->owner_webhook,
						    HUB_HOOK_GENERIC)) {
					rename(mine, path); /* again later */
				} else {
					fl_db_audit(db, "hub", "owner_notify",
						    iid, plate, now);
					unlink(mine);
				}
				json_decref(w.owner);
				free(row);
			}
		}
		json_decref(j);
	}
	closedir(d);
}

void hub_alerts_tick(hub_alerts *a, fl_db *db, fl_mqtt *m, double now)
{
	escalations(a, db, now);
	owners(a, db, now);
	if (m)
		run_due(a, m, 1);
}

/*
 * At start: what this worker had claimed when it stopped (a crash, or a
 * kill) goes back - jobs to the outbox (one may be sent again: it was
 * being sent), escalation clocks to open/.
 */
static void recover_claims(hub_alerts *a)
{
	static const char *const where[] = { "claimed", "open" };
	char dir[HUB_PATHLEN], from[HUB_PATHLEN], to[HUB_PATHLEN];
	char suffix[HUB_STR + 2];
	size_t sl;

	hub_fmt(suffix, sizeof(suffix), "@%s", a->worker);
	sl = strlen(suffix);
	for (size_t w = 0; w < FL_ARRAY_SIZE(where); w++) {
		DIR *d;
		struct dirent *e;

		hub_fmt(dir, sizeof(dir), "%s/%s", a->dir, where[w]);
		if (!(d = opendir(dir)))
			continue;
		while ((e = readdir(d))) {
			size_t n = strlen(e->d_name);

			if (n <= sl || strcmp(e->d_name + n - sl, suffix))
				continue;
			hub_fmt(from, sizeof(from), "%s/%s", dir, e->d_name);
			hub_fmt(to, sizeof(to), "%s/%s/%.*s", a->dir,
				w ? "open" : "outbox", (int)(n - sl),
				e->d_name);
			if (rename(from, to) == 0)
				fl_log(FL_LOG_WARN, "alerts",
				       "%.*s: claimed "
				       "when this worker stopped; back in %s",
				       (int)(n - sl), e->d_name,
				       w ? "open/" : "the outbox");
		}
		closedir(d);
	}
}

hub_alerts *hub_alerts_create(const hub_conf *conf, hub_metrics *metrics,
			      char *err, size_t errlen)
{
	static const char *const boxes[] = { "outbox", "sent", "failed",
					     "open",   "made", "claimed" };
	hub_alerts *a = calloc(1, sizeof(*a));
	char path[HUB_PATHLEN];
	size_t k;

	if (!a) {
		hub_fmt(err, errlen, "out of memory");
		return NULL;
	}
	a->conf = conf;
	a->metrics = metrics;
	hub_fmt(a->dir, sizeof(a->dir), "%s/.alerts", conf->evidence_dir);
	/* the worker's name in claims: its client id as a plain name */
	hub_fmt(a->worker, sizeof(a->worker), "%s", conf->mqtt.client_id);
	for (k = 0; a->worker[k]; k++)
		if (!((a->worker[k] >= 'a' && a->worker[k] <= 'z') ||
		      (a->worker[k] >= 'A' && a->worker[k] <= 'Z') ||
		      (a->worker[k] >= '0' && a->worker[k] <= '9') ||
		      a->worker[k] == '-' || a->worker[k] == '_' ||
		      a->worker[k] == '.'))
			a->worker[k] = '_';
	for (size_t i = 0; i < FL_ARRAY_SIZE(boxes); i++) {
		hub_fmt(path, sizeof(path), "%s/%s", a->dir, boxes[i]);
		if (fl_mkdir_p(path, 0755, err, errlen))
			goto fail;
	}
	/* the alerts' picture links (stills.h), the key the web side checks */
	if (hub_still_key(conf->evidence_dir, a->still_key, err, errlen))
		goto fail;
	recover_claims(a);
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
	free(a);
	return NULL;
}

void hub_alerts_destroy(hub_alerts *a)
{
	if (!a)
		return;
	if (a->started) {
		atomic_store(&a->stop, 1);
		pthread_mutex_lock(&a->mu);
		pthread_cond_signal(&a->cv);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->thread, NULL);
		pthread_cond_destroy(&a->cv);
		pthread_mutex_destroy(&a->mu);
	}
	free(a->flight);
	free(a);
}
