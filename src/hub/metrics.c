/*
 * metrics.c - the hub's counters and their one renderer (GET /metrics,
 * docs/api.md "Metrics"; the operator's side in docs/deploy.md,
 * "Monitoring").
 *
 * A note on what is counted where. A counter lives at the place its event
 * happens - ingest.c counts what it took, quarantined and found again,
 * main.c the messages it held back from the broker, alerts.c every
 * delivery attempt - as a C11 atomic increment (relaxed: a scrape needs no
 * order between two counters, only that none is lost or torn). Nothing on
 * the ingest path waits for a lock it did not wait for before. What only
 * a scrape's moment knows (the degraded state, the outbox's length, the
 * fleet by status, the process's memory) is gathered by the caller (api.c)
 * into a hub_metrics_now and printed here with the rest, so the text
 * format lives in this file only.
 *
 * Counters start at 0 when the hub starts (firelane_hub_start_time_seconds
 * says when): Prometheus's rate() and increase() take a restart as a
 * reset. Several hubs on one database each count their own work; the sum
 * over hubs is the service's (docs/deploy.md).
 *
 * The two latencies are histograms with the same buckets: the ingest lag
 * from an incident message's own time (the device's clock, docs/clock.md:
 * a device clock ahead of the hub's counts as 0, one behind adds its
 * error) to the store's commit, which includes the time a message waited
 * in the edge's spool or at the broker; and the alert latency from the
 * moment the hub made an alert's job (the alarm message taken) to the
 * receiver's answer (a webhook's 2xx, the broker's PUBACK), retries
 * included.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const double hub_metrics_bounds[HUB_M_BUCKETS] = { 0.01, 0.05, 0.1, 0.25,
						   0.5,  1,    2.5, 5,
						   10,   30,   60,  300 };

static const char *const kind_name[HUB_M_NKINDS] = { "incident", "evidence",
						     "status", "heartbeat",
						     "camera" };
static const char *const channel_name[HUB_M_NCHANNELS] = { "mqtt", "webhook" };

void hub_metrics_init(hub_metrics *m, double started)
{
	memset(m, 0, sizeof(*m));
	m->started = started;
}

static void add(atomic_ullong *c, unsigned long long n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static unsigned long long get(const atomic_ullong *c)
{
	return atomic_load_explicit((atomic_ullong *)c, memory_order_relaxed);
}

void hub_metrics_ingested(hub_metrics *m, enum hub_metric_kind kind)
{
	if (m && kind < HUB_M_NKINDS)
		add(&m->ingested[kind], 1);
}

void hub_metrics_add(hub_metrics *m, enum hub_metric which,
		     unsigned long long n)
{
	if (m && which < HUB_M_NCOUNTERS)
		add(&m->counter[which], n);
}

static void observe(hub_histogram *h, double s)
{
	int i = 0;

	if (!(s > 0)) /* negative, or NaN */
		s = 0;
	if (s > 1e9) /* a device clock at 1970: the sum stays in range */
		s = 1e9;
	while (i < HUB_M_BUCKETS && s > hub_metrics_bounds[i])
		i++;
	add(&h->bucket[i], 1);
	add(&h->sum_us, (unsigned long long)(s * 1e6 + 0.5));
}

void hub_metrics_lag(hub_metrics *m, double lag_s)
{
	if (m)
		observe(&m->ingest_lag, lag_s);
}

void hub_metrics_alert(hub_metrics *m, enum hub_metric_channel channel,
		       enum hub_metric_outcome outcome, double latency_s)
{
	if (!m || channel >= HUB_M_NCHANNELS || outcome > HUB_M_GAVE_UP)
		return;
	add(&m->alerts[channel][outcome], 1);
	if (outcome == HUB_M_SENT && latency_s >= 0)
		observe(&m->alert_latency[channel], latency_s);
}

/* ---- the text ----------------------------------------------------------- */

/* The text so far: written while it fits, measured always. */
struct out {
	char *buf;
	size_t len, n;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(o->n < o->len ? o->buf + o->n : NULL,
		      o->n < o->len ? o->len - o->n : 0, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->n += (size_t)k;
}

/* # HELP and # TYPE of one metric family. */
static void family(struct out *o, const char *name, const char *type,
		   const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One histogram's lines; label is `key="value"` or "". */
static void histogram(struct out *o, const char *name, const char *label,
		      const hub_histogram *h)
{
	unsigned long long cum = 0;
	const char *sep = label[0] ? "," : "";

	for (int i = 0; i <= HUB_M_BUCKETS; i++) {
		cum += get(&h->bucket[i]);
		if (i < HUB_M_BUCKETS)
			put(o, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, label,
			    sep, hub_metrics_bounds[i], cum);
		else
			put(o, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, label,
			    sep, cum);
	}
	/* the count is the +Inf bucket's: the two agree even when an
	 * observation lands while the lines are written */
	put(o, "%s_sum%s%s%s %.6f\n", name, label[0] ? "{" : "", label,
	    label[0] ? "}" : "", (double)get(&h->sum_us) / 1e6);
	put(o, "%s_count%s%s%s %llu\n", name, label[0] ? "{" : "", label,
	    label[0] ? "}" : "", cum);
}

/* A counter family with one line per channel. */
static void by_channel(struct out *o, const hub_metrics *m, const char *name,
		       int outcome, const char *help)
{
	family(o, name, "counter", help);
	for (int c = 0; c < HUB_M_NCHANNELS; c++)
		put(o, "%s{channel=\"%s\"} %llu\n", name, channel_name[c],
		    get(&m->alerts[c][outcome]));
}

/* A plain counter or gauge, one line. */
static void single(struct out *o, const char *name, const char *type,
		   const char *help, unsigned long long v)
{
	family(o, name, type, help);
	put(o, "%s %llu\n", name, v);
}

size_t hub_metrics_render(const hub_metrics *m, const hub_metrics_now *x,
			  char *buf, size_t len)
{
	struct out o = { buf, len, 0 };
	const struct {
		const char *status;
		long long n;
	} fleet[] = { { "online", x->devices_online },
		      { "offline", x->devices_offline },
		      { "stopped", x->devices_stopped },
		      { "unknown", x->devices_unknown } };
	char label[32];

	if (len)
		buf[0] = 0;
	family(&o, "firelane_hub_messages_ingested_total", "counter",
	       "Messages from the fleet taken (stored, or a status applied), "
	       "by kind; duplicates not included.");
	for (int k = 0; k < HUB_M_NKINDS; k++)
		put(&o,
		    "firelane_hub_messages_ingested_total{kind=\"%s\"} %llu\n",
		    kind_name[k], get(&m->ingested[k]));
	single(&o, "firelane_hub_messages_duplicate_total", "counter",
	       "Incident messages stored before (a redelivery), not stored "
	       "again.",
	       get(&m->counter[HUB_M_DUPLICATES]));
	single(&o, "firelane_hub_messages_quarantined_total", "counter",
	       "Messages refused for what they are (schema, signature, "
	       "device, size) and kept in the quarantine.",
	       get(&m->counter[HUB_M_QUARANTINED]));
	single(&o, "firelane_hub_messages_ignored_total", "counter",
	       "Messages on topics the hub does not read.",
	       get(&m->counter[HUB_M_IGNORED]));
	single(&o, "firelane_hub_messages_held_total", "counter",
	       "Offers of a message the hub could not store through no fault "
	       "of its own (held at the broker, offered again).",
	       get(&m->counter[HUB_M_HELD]));
	single(&o, "firelane_hub_evidence_received_bytes_total", "counter",
	       "Bytes of evidence chunks taken.",
	       get(&m->counter[HUB_M_EVIDENCE_BYTES]));
	family(&o, "firelane_hub_ingest_lag_seconds", "histogram",
	       "From an incident message's own time (the device's clock) to "
	       "its store commit.");
	histogram(&o, "firelane_hub_ingest_lag_seconds", "", &m->ingest_lag);
	by_channel(&o, m, "firelane_hub_alerts_sent_total", HUB_M_SENT,
		   "Alerts delivered (a webhook's 2xx, the broker's PUBACK).");
	by_channel(&o, m, "firelane_hub_alerts_failed_total", HUB_M_FAILED,
		   "Failed delivery attempts (retried, or given up).");
	by_channel(&o, m, "firelane_hub_alerts_given_up_total", HUB_M_GAVE_UP,
		   "Alerts given up after alerts.retry_max attempts.");
	family(&o, "firelane_hub_alert_latency_seconds", "histogram",
	       "From the alert's job being made (its incident message taken) "
	       "to the receiver's answer, retries included.");
	for (int c = 0; c < HUB_M_NCHANNELS; c++) {
		snprintf(label, sizeof(label), "channel=\"%s\"",
			 channel_name[c]);
		histogram(&o, "firelane_hub_alert_latency_seconds", label,
			  &m->alert_latency[c]);
	}
	if (x->alert_queue >= 0)
		single(&o, "firelane_hub_alert_queue", "gauge",
		       "Alert jobs waiting in the outbox (all hubs sharing "
		       "the store).",
		       (unsigned long long)x->alert_queue);
	if (x->devices_online >= 0) {
		family(&o, "firelane_hub_devices", "gauge",
		       "Enrolled devices by their last status (unknown: "
		       "nothing heard yet).");
		for (size_t i = 0; i < sizeof(fleet) / sizeof(fleet[0]); i++)
			put(&o, "firelane_hub_devices{status=\"%s\"} %lld\n",
			    fleet[i].status, fleet[i].n);
	}
	single(&o, "firelane_hub_degraded", "gauge",
	       "1 while the hub cannot store (disk full or read-only, store "
	       "failing): messages wait at the broker.",
	       x->degraded ? 1 : 0);
	family(&o, "firelane_hub_start_time_seconds", "gauge",
	       "When this hub process started (Unix time); counters start "
	       "at 0 then.");
	put(&o, "firelane_hub_start_time_seconds %.3f\n", m->started);
	if (x->rss_bytes >= 0)
		single(&o, "process_resident_memory_bytes", "gauge",
		       "Resident memory of the hub process.",
		       (unsigned long long)x->rss_bytes);
	if (x->cpu_s >= 0) {
		family(&o, "process_cpu_seconds_total", "counter",
		       "CPU time of the hub process, user and system.");
		put(&o, "process_cpu_seconds_total %.3f\n", x->cpu_s);
	}
	return o.n;
}
