/*
 * test_metrics.c - the renderer of GET /metrics (src/hub/metrics.c): the
 * histograms' buckets (cumulative, +Inf, sum and count), the counters by
 * kind and channel, values unknown at a scrape left out, the measure and
 * the cut of a short buffer, and the text checked line by line against
 * the Prometheus text format 0.0.4: every sample's family has its # HELP
 * and # TYPE first, counters end in _total, a histogram's buckets rise.
 * The counting points and the endpoint are checked end to end by
 * tests/integration/hub_metrics.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "test.h"

/* 1 when text holds line (a whole line, without its newline). */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

/* The format's rules, line by line; the number of samples, or -1. */
static int check_format(const char *text)
{
	char fam[128] = "", type[16] = "", line[512], last[128] = "";
	double prev_bucket = -1;
	int samples = 0;

	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		char name[128], *sp;
		double v;

		if (!p[n] || n >= sizeof(line)) {
			CHECK_MSG(0, "a line unended or too long: %.60s", p);
			return -1;
		}
		memcpy(line, p, n);
		line[n] = 0;
		p += n + 1;
		if (!strncmp(line, "# HELP ", 7)) {
			CHECK_MSG(sscanf(line + 7, "%127s", fam) == 1, "%s",
				  line);
			type[0] = 0;
			prev_bucket = -1;
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			CHECK_MSG(sscanf(line + 7, "%127s %15s", name, type) ==
						  2 &&
					  !strcmp(name, fam),
				  "TYPE without its HELP: %s", line);
			CHECK_MSG(strcmp(type, "counter") ||
					  strstr(fam, "_total"),
				  "a counter not ending in _total: %s", fam);
			continue;
		}
		/* a sample: NAME[{labels}] VALUE */
		sp = strrchr(line, ' ');
		CHECK_MSG(sp && sscanf(sp + 1, "%lf", &v) == 1, "%s", line);
		if (!sp)
			return -1;
		n = strcspn(line, "{ ");
		memcpy(name, line, n);
		name[n] = 0;
		CHECK_MSG(type[0] && !strncmp(name, fam, strlen(fam)),
			  "sample %s outside its family %s", name, fam);
		if (!strcmp(type, "histogram") && strstr(name, "_bucket")) {
			/* a new label set restarts the rise */
			char labels[128];
			const char *le = strstr(line, "le=");

			snprintf(labels, sizeof(labels), "%.*s",
				 (int)(le ? le - line : 0), line);
			if (strcmp(labels, last))
				prev_bucket = -1;
			snprintf(last, sizeof(last), "%s", labels);
			CHECK_MSG(v >= prev_bucket, "buckets fall: %s", line);
			prev_bucket = v;
		}
		samples++;
	}
	return samples;
}

static void test_render(void)
{
	hub_metrics m;
	hub_metrics_now x = { .degraded = 1,
			      .alert_queue = 4,
			      .devices_online = 2,
			      .devices_offline = 1,
			      .devices_stopped = 0,
			      .devices_unknown = 3,
			      .rss_bytes = 4096,
			      .cpu_s = 1.5 };
	char *text;
	size_t n, again;

	hub_metrics_init(&m, 1765000000.0);
	hub_metrics_ingested(&m, HUB_M_INCIDENT);
	hub_metrics_ingested(&m, HUB_M_INCIDENT);
	hub_metrics_ingested(&m, HUB_M_HEARTBEAT);
	hub_metrics_add(&m, HUB_M_QUARANTINED, 1);
	hub_metrics_add(&m, HUB_M_EVIDENCE_BYTES, 65536);
	hub_metrics_add(&m, HUB_M_EVIDENCE_BYTES, 100);
	hub_metrics_lag(&m, 0.03); /* le 0.05 */
	hub_metrics_lag(&m, -5);   /* a clock ahead: 0, le 0.01 */
	hub_metrics_lag(&m, 1000); /* past the last bound: +Inf only */
	hub_metrics_lag(&m, 0.05); /* on a bound: that bucket */
	hub_metrics_alert(&m, HUB_M_WEBHOOK, HUB_M_FAILED, -1);
	hub_metrics_alert(&m, HUB_M_WEBHOOK, HUB_M_SENT, 2.0);
	hub_metrics_alert(&m, HUB_M_MQTT, HUB_M_SENT, 0.2);
	hub_metrics_alert(&m, HUB_M_MQTT, HUB_M_GAVE_UP, 5); /* no latency */
	/* nothing to count into: no effect, no crash */
	hub_metrics_add(NULL, HUB_M_DUPLICATES, 1);
	hub_metrics_alert(NULL, HUB_M_MQTT, HUB_M_SENT, 1);

	n = hub_metrics_render(&m, &x, NULL, 0);
	CHECK_GT_INT(n, 500);
	text = malloc(n + 1);
	CHECK_NOT_NULL(text);
	if (!text)
		return;
	again = hub_metrics_render(&m, &x, text, n + 1);
	CHECK_EQ_INT(again, n);
	CHECK_EQ_INT(strlen(text), n);

	CHECK(has_line(text, "# TYPE firelane_hub_messages_ingested_total "
			     "counter"));
	CHECK(has_line(text,
		       "firelane_hub_messages_ingested_total{kind=\"incident\"} "
		       "2"));
	CHECK(has_line(
		text,
		"firelane_hub_messages_ingested_total{kind=\"heartbeat\"} 1"));
	CHECK(has_line(
		text,
		"firelane_hub_messages_ingested_total{kind=\"evidence\"} 0"));
	CHECK(has_line(text, "firelane_hub_messages_quarantined_total 1"));
	CHECK(has_line(text, "firelane_hub_messages_duplicate_total 0"));
	CHECK(has_line(text, "firelane_hub_evidence_received_bytes_total "
			     "65636"));
	/* cumulative: 0 (the clock ahead) <= 0.01; 0.03 and 0.05 <= 0.05 */
	CHECK(has_line(text,
		       "firelane_hub_ingest_lag_seconds_bucket{le=\"0.01\"} 1"));
	CHECK(has_line(text,
		       "firelane_hub_ingest_lag_seconds_bucket{le=\"0.05\"} 3"));
	CHECK(has_line(text,
		       "firelane_hub_ingest_lag_seconds_bucket{le=\"300\"} 3"));
	CHECK(has_line(text,
		       "firelane_hub_ingest_lag_seconds_bucket{le=\"+Inf\"} 4"));
	CHECK(has_line(text, "firelane_hub_ingest_lag_seconds_count 4"));
	CHECK(has_line(text, "firelane_hub_ingest_lag_seconds_sum 1000.080000"));
	CHECK(has_line(text,
		       "firelane_hub_alerts_sent_total{channel=\"webhook\"} 1"));
	CHECK(has_line(text,
		       "firelane_hub_alerts_failed_total{channel=\"webhook\"} "
		       "1"));
	CHECK(has_line(text,
		       "firelane_hub_alerts_given_up_total{channel=\"mqtt\"} "
		       "1"));
	CHECK(has_line(text, "firelane_hub_alert_latency_seconds_bucket{"
			     "channel=\"webhook\",le=\"1\"} 0"));
	CHECK(has_line(text, "firelane_hub_alert_latency_seconds_bucket{"
			     "channel=\"webhook\",le=\"2.5\"} 1"));
	/* a given-up alert has no latency */
	CHECK(has_line(text, "firelane_hub_alert_latency_seconds_count{"
			     "channel=\"mqtt\"} 1"));
	CHECK(has_line(text, "firelane_hub_alert_latency_seconds_sum{"
			     "channel=\"mqtt\"} 0.200000"));
	CHECK(has_line(text, "firelane_hub_alert_queue 4"));
	CHECK(has_line(text, "firelane_hub_devices{status=\"online\"} 2"));
	CHECK(has_line(text, "firelane_hub_devices{status=\"unknown\"} 3"));
	CHECK(has_line(text, "firelane_hub_degraded 1"));
	CHECK(has_line(text, "firelane_hub_start_time_seconds 1765000000.000"));
	CHECK(has_line(text, "process_resident_memory_bytes 4096"));
	CHECK(has_line(text, "process_cpu_seconds_total 1.500"));
	/* 5 kinds + 5 counters + 12+1 buckets, sum, count + 3x2 alert
	 * counters + 2x15 latency + queue + 4 devices + degraded + start +
	 * rss + cpu */
	CHECK_EQ_INT(check_format(text), 5 + 5 + 15 + 6 + 30 + 1 + 4 + 4);

	/* a short buffer: cut and ended, the measure unchanged */
	CHECK_EQ_INT(hub_metrics_render(&m, &x, text, 100), n);
	CHECK_EQ_INT(strlen(text), 99);
	free(text);

	/* unknown at the scrape: left out, the rest still well formed */
	x.alert_queue = x.devices_online = x.rss_bytes = -1;
	x.cpu_s = -1;
	x.degraded = 0;
	n = hub_metrics_render(&m, &x, NULL, 0);
	text = malloc(n + 1);
	CHECK_NOT_NULL(text);
	if (!text)
		return;
	hub_metrics_render(&m, &x, text, n + 1);
	CHECK_NULL(strstr(text, "firelane_hub_alert_queue"));
	CHECK_NULL(strstr(text, "firelane_hub_devices"));
	CHECK_NULL(strstr(text, "process_"));
	CHECK(has_line(text, "firelane_hub_degraded 0"));
	CHECK_EQ_INT(check_format(text), 5 + 5 + 15 + 6 + 30 + 2);
	free(text);
}

/* A device clock far behind (unix_time 0): +Inf, its sum kept in range. */
static void test_far_behind(void)
{
	hub_metrics m;
	hub_metrics_now x = { .alert_queue = -1,
			      .devices_online = -1,
			      .rss_bytes = -1,
			      .cpu_s = -1 };
	char text[8192];

	hub_metrics_init(&m, 0);
	hub_metrics_lag(&m, 1.8e15);
	hub_metrics_lag(&m, 1.8e15);
	CHECK_LT_INT(hub_metrics_render(&m, &x, text, sizeof(text)),
		     sizeof(text));
	CHECK(has_line(text,
		       "firelane_hub_ingest_lag_seconds_bucket{le=\"+Inf\"} 2"));
	CHECK(has_line(text, "firelane_hub_ingest_lag_seconds_sum "
			     "2000000000.000000"));
}

int main(void)
{
	test_render();
	test_far_behind();
	TEST_DONE();
}
