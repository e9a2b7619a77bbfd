/*
 * metrics.h - the hub's counters for GET /metrics (docs/api.md,
 * "Metrics"), in the Prometheus text format. See metrics.c.
 *
 * Counters are kept where the events happen: ingest (the main thread),
 * the alerts (the main thread for MQTT jobs, the webhook thread for
 * webhooks). Each is a C11 atomic, so counting takes no lock and the web
 * server's threads read them while they move. The struct is
 * caller-allocated and zeroed (hub_metrics_init); every hub_metrics_*
 * function may be called from any thread and takes NULL (counting
 * nothing), so a module run without metrics (a unit test) needs no
 * checks of its own.
 */
#ifndef FL_HUB_METRICS_H
#define FL_HUB_METRICS_H

#include <stdatomic.h>
#include <stddef.h>

/* What a message from the fleet was (its topic's kind). */
enum hub_metric_kind {
	HUB_M_INCIDENT,
	HUB_M_EVIDENCE, /* an evidence chunk */
	HUB_M_STATUS,
	HUB_M_HEARTBEAT,
	HUB_M_CAMERA, /* a camera event */
	HUB_M_NKINDS
};

/* The plain counters. */
enum hub_metric {
	HUB_M_DUPLICATES,     /* incident messages stored before */
	HUB_M_QUARANTINED,    /* refused for what they are */
	HUB_M_IGNORED,        /* topics the hub does not read */
	HUB_M_HELD,           /* not stored through no fault of theirs */
	HUB_M_EVIDENCE_BYTES, /* evidence chunk bytes taken */
	HUB_M_NCOUNTERS
};

/* Where an alert went, and what became of one attempt. */
enum hub_metric_channel { HUB_M_MQTT, HUB_M_WEBHOOK, HUB_M_NCHANNELS };
enum hub_metric_outcome { HUB_M_SENT, HUB_M_FAILED, HUB_M_GAVE_UP };

/* A histogram of seconds: counts per bucket (made cumulative when
 * rendered), their sum in microseconds, and how many. */
#define HUB_M_BUCKETS 12
typedef struct hub_histogram {
	atomic_ullong bucket[HUB_M_BUCKETS + 1]; /* the last one: +Inf */
	atomic_ullong sum_us, count;
} hub_histogram;

typedef struct hub_metrics {
	atomic_ullong ingested[HUB_M_NKINDS]; /* taken, not duplicates */
	atomic_ullong counter[HUB_M_NCOUNTERS];
	hub_histogram ingest_lag; /* incident message time -> stored */
	atomic_ullong alerts[HUB_M_NCHANNELS][3];     /* by outcome */
	hub_histogram alert_latency[HUB_M_NCHANNELS]; /* made -> delivered */
	double started; /* wall: when the hub started */
} hub_metrics;

/* What only the moment of a scrape knows, gathered by the caller (api.c)
 * and printed with the counters. A value < 0 is unknown: not printed. */
typedef struct hub_metrics_now {
	int degraded;          /* storage failing: messages held */
	long long alert_queue; /* jobs in the alerts' outbox */
	/* devices by their last status; unknown: enrolled, nothing heard */
	long long devices_online, devices_offline, devices_stopped;
	long long devices_unknown;
	long long rss_bytes; /* the process's resident memory */
	double cpu_s;        /* its CPU time, user and system */
} hub_metrics_now;

/* Zeroes m; started is the hub's start time (wall). */
void hub_metrics_init(hub_metrics *m, double started);

/* A message of kind taken (stored, or a status applied). */
void hub_metrics_ingested(hub_metrics *m, enum hub_metric_kind kind);
/* n more of a plain counter. */
void hub_metrics_add(hub_metrics *m, enum hub_metric which,
		     unsigned long long n);
/* An incident message stored lag_s after its own time (negative: the
 * device's clock is ahead of the hub's; counted as 0). */
void hub_metrics_lag(hub_metrics *m, double lag_s);
/* One attempt to deliver an alert on channel; a delivered one (SENT)
 * latency_s after its job was made (< 0: unknown, not observed). */
void hub_metrics_alert(hub_metrics *m, enum hub_metric_channel channel,
		       enum hub_metric_outcome outcome, double latency_s);

/* The upper bounds of the histograms' buckets (s); +Inf is the last. */
extern const double hub_metrics_bounds[HUB_M_BUCKETS];

/*
 * The text of GET /metrics (Prometheus text format 0.0.4) from m and the
 * scrape's moment x into buf (len bytes, NUL-terminated, cut when short).
 * Returns the length the whole text needs (snprintf semantics: call with
 * len 0 to measure). Pure apart from the atomic loads.
 */
size_t hub_metrics_render(const hub_metrics *m, const hub_metrics_now *x,
			  char *buf, size_t len);

#endif /* FL_HUB_METRICS_H */
