/*
 * main.c - firelane-flood: the edge's publishing path under a flood of
 * incident messages, for the fault-injection suite
 * (tests/integration/faults_*.sh; docs/hub.md, "Faults").
 *
 *   firelane-flood --config EDGE.yaml [--incidents N] [--tag T]
 *                  [--deliver-only] [--wait-s S] [--rate R]
 *
 * A note on what it is. The suite must count, after a fault, every message
 * a device sent against what the hub stored, with thousands of messages in
 * flight when the fault strikes. A camera makes a few incidents an hour,
 * so the messages come from here instead - but through the edge's own
 * publisher (src/edge/publish*.c, linked as fl_edge): the open-incident
 * records, the spool, the back-log of messages the spool refused, the
 * MQTT client with its reconnects and in-order resends. Only the lane
 * logic is replaced: N incidents, one after the other over the
 * configuration's cameras and lanes, each occupied, alarm and cleared
 * (3N messages; ids <device>-<tag>-<n>), as fast as the spool takes them
 * or at R messages a second (--rate: a fault can then strike while it
 * spools).
 *
 * It spools everything (pumping the client as it goes), prints
 * "firelane-flood: spooled M messages", then waits until the spool is empty
 * (every message acknowledged by the broker) and stops like the edge
 * (status "stopped"). --deliver-only spools nothing: it delivers what a
 * killed run left in the spool. Exit 0 when the spool emptied within
 * --wait-s, 1 when not, 2 for bad arguments or configuration.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "event.h"
#include "fl.h"
#include "publish.h"
#include "yaml.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void no_command(const fl_command *cmd, void *user)
{
	(void)cmd;
	(void)user;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: firelane-flood --config EDGE.yaml [--incidents N] "
		   "[--tag T] [--deliver-only] [--wait-s S] [--rate R] "
		   "[-v]\n");
}

/* Messages not yet acknowledged by the broker: in the spool, or held in
 * memory while the spool refuses them. */
static long pending(edge_publish *p)
{
	long n, dropped, refused;
	double bytes;

	edge_publish_spool_stats(p, &n, &bytes, &dropped, &refused);
	return n + edge_publish_held(p);
}

/* The three messages of incident k on camera cam, lane lane. */
static void incident(edge_publish *p, const fl_config *cfg, const char *tag,
		     long k, int cam, int lane, double t)
{
	static const enum fl_event_type steps[] = { FL_EV_OCCUPIED, FL_EV_ALARM,
						    FL_EV_CLEARED };
	const fl_camera_conf *cc = &cfg->cameras[cam];
	fl_event ev;

	for (size_t i = 0; i < FL_ARRAY_SIZE(steps); i++) {
		memset(&ev, 0, sizeof(ev));
		ev.type = steps[i];
		ev.camera = cc->id;
		ev.lane = cc->lanes[lane].id;
		snprintf(ev.incident_id, sizeof(ev.incident_id), "%s-%s-%ld",
			 cfg->device_id, tag, k);
		ev.t = t + 10.0 * (double)i;
		ev.rest_since = t;
		ev.left_at = t + 15.0;
		ev.bbox[0] = 200;
		ev.bbox[1] = 140;
		ev.bbox[2] = 40;
		ev.bbox[3] = 38;
		ev.cls = FL_CLASS_VEHICLE;
		edge_publish_event(&ev, p);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "incidents", required_argument, NULL, 'n' },
		{ "tag", required_argument, NULL, 't' },
		{ "deliver-only", no_argument, NULL, 'd' },
		{ "wait-s", required_argument, NULL, 'w' },
		{ "rate", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static fl_config cfg; /* large: not on the stack */
	const char *config = NULL, *tag = "fl";
	long n = 3334, lanes = 0, k;
	double wait_s = 600, rate = 0, until, t0;
	int deliver_only = 0, verbose = 0, c, rc = 1;
	edge_publish *p = NULL;
	struct sigaction sa;
	char err[1024], *end;

	while ((c = getopt_long(argc, argv, "c:n:t:dw:r:vh", opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'n':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 10000000) {
				usage(stderr);
				return 2;
			}
			break;
		case 't':
			tag = optarg;
			break;
		case 'd':
			deliver_only = 1;
			break;
		case 'w':
			wait_s = strtod(optarg, &end);
			if (*end || wait_s <= 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'r':
			rate = strtod(optarg, &end);
			if (*end || rate <= 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!config || optind != argc) {
		usage(stderr);
		return 2;
	}
	fl_log_set(fl_log_stderr, FL_LOG_WARN + verbose,
		   (void *)"firelane-flood");
	if (fl_config_load(&cfg, config, err, sizeof(err)) < 0) {
		fprintf(stderr, "firelane-flood: %s\n", err);
		return 2;
	}
	for (int i = 0; i < cfg.ncameras; i++)
		lanes += cfg.cameras[i].nlanes;
	if (!lanes || !cfg.mqtt.host[0]) {
		fprintf(stderr,
			"firelane-flood: %s: needs a camera with a "
			"lane and an mqtt section\n",
			config);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	p = edge_publish_create(&cfg, NULL, no_command, NULL, err, sizeof(err));
	if (!p) {
		fprintf(stderr, "firelane-flood: %s\n", err);
		return 1;
	}
	for (int i = 0; i < cfg.ncameras; i++)
		edge_publish_camera_base(p, i, fl_wall_s() - 3600);
	edge_publish_start(p);
	t0 = fl_mono_s();
	for (k = 0; !deliver_only && k < n && !stop_requested; k++) {
		long slot = k % lanes;
		int cam = 0;

		while (slot >= cfg.cameras[cam].nlanes)
			slot -= cfg.cameras[cam++].nlanes;
		incident(p, &cfg, tag, k, cam, (int)slot, (double)k * 0.01);
		if (k % 16 == 0)
			edge_publish_run(p, 0);
		while (rate > 0 && !stop_requested &&
		       fl_mono_s() < t0 + 3.0 * (double)(k + 1) / rate)
			edge_publish_run(p, 5);
	}
	fprintf(stderr, "firelane-flood: spooled %ld messages\n",
		deliver_only ? 0 : 3 * k);
	until = fl_mono_s() + wait_s;
	while (!stop_requested && fl_mono_s() < until) {
		edge_publish_run(p, 100);
		if (pending(p) == 0 && edge_publish_connected(p)) {
			rc = 0;
			break;
		}
	}
	if (rc)
		fprintf(stderr, "firelane-flood: %ld messages not delivered\n",
			pending(p));
	else
		fprintf(stderr, "firelane-flood: delivered\n");
	edge_publish_stop(p, 2000);
	edge_publish_destroy(p);
	return rc;
}
