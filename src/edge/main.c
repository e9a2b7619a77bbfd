/*
 * main.c - firelane-edge: argv, configuration, signals, logging, wiring.
 *
 * Modes:
 *   --check-config          print the effective configuration or the errors
 *   --replay                run one camera on --source (or its configured
 *                           source) as fast as possible on video time,
 *                           writing events to --events-out (SPEC 5.2)
 *   --capture-reference F   write a frame of the camera as its clear-lane
 *                           reference image
 *   --print-public-key      load (or create) the device key and print its
 *                           public half, base64
 *   (default: live)         run every camera (each in its own thread, see
 *                           "Live mode" below), events as JSON lines on
 *                           stdout and, with mqtt.host, to the broker
 *                           through the spool (publish.c, docs/mqtt.md);
 *                           SIGTERM/SIGINT stop cleanly, SIGHUP reloads
 *                           lane settings, sd_notify for systemd
 *
 * Evidence (issue 3): with evidence.dir or --evidence-dir, each camera gets
 * an evidence writer (src/evidence/writer.c) that writes one signed bundle
 * per alarmed incident into the store, in live and replay mode alike. The
 * device key (device.key_file) is created on first use. An evidence store
 * that cannot be opened (a read-only or missing folder) is logged as an
 * error and the edge runs on without evidence: detection never waits for
 * the disk.
 *
 * Exit status: 0 success, 1 a runtime failure (input, model, output), 2 a
 * usage or configuration error.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/timex.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "camera.h"
#include "clock.h"
#include "config.h"
#include "warning.h"
#include "event.h"
#include "fl.h"
#include "live.h"
#include "publish.h"
#include "sign.h"
#include "store.h"
#include "yaml.h"

volatile sig_atomic_t stop_requested;

/* The on-site warning (src/edge/warning.c): a sink of every event, ticked
 * after every frame. Set once in main(); NULL when off. */
edge_warning *warning_out;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* The events sink: one JSON object a line, flushed so a reader (or a crash)
 * never sees half a line. */
void write_event(const fl_event *ev, void *user)
{
	FILE *out = user;
	char line[2048];

	edge_warning_event(warning_out, ev);
	fl_event_json(ev, line, sizeof(line));
	fprintf(out, "%s\n", line);
	fflush(out);
}

static void usage(FILE *f)
{
	fputs("usage: firelane-edge --config FILE [options]\n"
	      "  --check-config          print the effective configuration, or the errors\n"
	      "  --replay                analyse --source as fast as possible (no broker)\n"
	      "  --source S              video file, image pattern (in%06d.jpg), URL or /dev/videoN\n"
	      "  --events-out FILE       replay: where the JSON-lines events go (default stdout)\n"
	      "  --fps N                 frame rate of an image sequence (default 25)\n"
	      "  --model PATH            dnn detector (.cfg with .weights beside it, or .onnx)\n"
	      "  --camera ID             camera to replay or capture (default the first)\n"
	      "  --capture-reference F   write the camera's current view as its clear-lane image\n"
	      "  --stats-out FILE        replay: write throughput figures as JSON\n"
	      "  --decode-only           replay: decode frames, analyse nothing (benchmark)\n"
	      "  --debug-dir DIR         write analysis masks (PGM) per analysed frame\n"
	      "  --evidence-dir DIR      write evidence bundles here (overrides evidence.dir)\n"
	      "  --print-public-key      print the device's public key (base64; created if missing)\n"
	      "  --sample-config         print a commented sample configuration\n"
	      "  -v, --verbose           more log (repeat for debug)\n",
	      f);
}

static int find_camera(const fl_config *cfg, const char *id)
{
	if (!id)
		return 0;
	for (int i = 0; i < cfg->ncameras; i++)
		if (strcmp(cfg->cameras[i].id, id) == 0)
			return i;
	return -1;
}

static void write_stats(const char *path, const edge_stats *st,
			const fl_evidence_stats *ev, double wall)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fl_log(FL_LOG_ERROR, "edge", "%s: %s", path, strerror(errno));
		return;
	}
	fprintf(f,
		"{\"frames\": %ld, \"wall_s\": %.6f, \"decode_s\": %.6f, "
		"\"analysis_s\": %.6f, \"analysed_frames\": %ld, "
		"\"detector_calls\": %ld, \"detector_s\": %.6f, "
		"\"evidence_sealed\": %d, \"evidence_discarded\": %d, "
		"\"evidence_failed\": %d, \"evidence_images\": %d, "
		"\"evidence_bytes\": %.0f, \"evidence_cpu_s\": %.6f, "
		"\"evidence_wall_s\": %.6f, \"preroll_bytes\": %zu, "
		"\"preroll_peak_bytes\": %zu, \"preroll_max_s\": %.1f}\n",
		st->frames, wall, st->decode_s, st->analysis_s, st->analysed,
		st->detector_calls, st->detector_s, ev->sealed, ev->discarded,
		ev->failed, ev->images, ev->bytes, ev->cpu_s, ev->wall_s,
		ev->preroll_bytes, ev->preroll_peak, ev->preroll_max_s);
	fclose(f);
}

/*
 * The evidence store and the device key, when evidence is on (dir not
 * empty). A store that cannot be opened is an error in the log, not a stop:
 * *store stays NULL and the edge runs without evidence. Returns 0, or 1 when
 * the key cannot be had (also logged; evidence is then off too).
 */
static void open_evidence(const fl_config *cfg, const char *dir,
			  fl_store **store, fl_key *key)
{
	const fl_evidence_conf *ec = &cfg->evidence;
	fl_store_opts so = {0};
	char err[1024];
	int created = 0;

	*store = NULL;
	if (!dir || !dir[0])
		return;
	if (fl_key_load_or_create(cfg->key_file, key, &created, err,
				  sizeof(err)) < 0) {
		fl_log(FL_LOG_ERROR, "evidence",
		       "device key: %s; evidence is OFF, detection goes on",
		       err);
		return;
	}
	if (created)
		fl_log(FL_LOG_WARN, "evidence",
		       "created the device key %s (keep it; its public half "
		       "is in every manifest)", cfg->key_file);
	so.max_bytes = ec->max_mb * 1024 * 1024;
	so.max_age_s = ec->max_age_days * 86400;
	/* The store reads 0 as "its default floor"; ours means none. */
	so.min_free_bytes = ec->min_free_mb > 0 ? ec->min_free_mb * 1024 * 1024
						: 1;
	*store = fl_store_open(dir, &so, err, sizeof(err));
	if (!*store) {
		fl_log(FL_LOG_ERROR, "evidence",
		       "cannot open the evidence store: %s; evidence is OFF, "
		       "detection goes on", err);
		return;
	}
	if (fl_store_prune(*store, (double)time(NULL), err, sizeof(err)) < 0)
		fl_log(FL_LOG_WARN, "evidence", "retention: %s", err);
}

/* --print-public-key: the device's public key, base64, on stdout. */
static int print_public_key(const fl_config *cfg)
{
	fl_key key;
	char err[1024], b64[FL_KEY_B64_LEN];
	int created = 0;

	if (fl_key_load_or_create(cfg->key_file, &key, &created, err,
				  sizeof(err)) < 0) {
		fprintf(stderr, "firelane-edge: device key: %s\n", err);
		return 1;
	}
	if (created)
		fprintf(stderr, "firelane-edge: created the device key %s\n",
			cfg->key_file);
	fl_key_public_b64(&key, b64, sizeof(b64));
	fl_key_wipe(&key);
	printf("%s\n", b64);
	return 0;
}

/* Replay (or capture) one camera to the end of its input. */
static int run_one(const fl_config *cfg, int cam, const edge_opts *opts,
		   const char *events_out, const char *stats_out,
		   const char *capture)
{
	char err[1024];
	FILE *out = stdout;
	edge_camera *c;
	double wall = fl_mono_s();
	int rc;

	if (events_out && strcmp(events_out, "-") != 0) {
		out = fopen(events_out, "w");
		if (!out) {
			fprintf(stderr, "firelane-edge: %s: %s\n", events_out,
				strerror(errno));
			return 1;
		}
	}
	c = edge_camera_open(cfg, cam, opts, write_event, out, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "firelane-edge: %s\n", err);
		rc = 1;
		goto done;
	}
	if (capture) {
		/* A second into the stream, past any start-up artefacts. */
		for (int i = 0; i < 25 && edge_camera_step(c, err, sizeof(err)) == 0;
		     i++)
			;
		rc = edge_camera_write_frame(c, capture, err, sizeof(err));
		if (rc < 0)
			fprintf(stderr, "firelane-edge: %s\n", err);
		else
			fprintf(stderr, "firelane-edge: reference written to %s\n",
				capture);
		rc = rc < 0;
		goto done;
	}
	while (!stop_requested &&
	       (rc = edge_camera_step(c, err, sizeof(err))) == 0)
		edge_warning_tick(warning_out, cfg->cameras[cam].id,
				  edge_camera_time(c), write_event, out);
	if (rc == FL_EEOF || stop_requested) {
		rc = 0;
	} else {
		fprintf(stderr, "firelane-edge: %s\n", err);
		rc = 1;
	}
	if (stats_out) {
		fl_evidence_stats ev;

		/* Seal what the end of input left open before counting. */
		edge_camera_evidence_stats(c, &ev);
		write_stats(stats_out, edge_camera_stats(c), &ev,
			    fl_mono_s() - wall);
	}
done:
	edge_camera_close(c);
	if (out != stdout)
		fclose(out);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'k'},
		{"replay", no_argument, NULL, 'r'},
		{"source", required_argument, NULL, 's'},
		{"events-out", required_argument, NULL, 'e'},
		{"fps", required_argument, NULL, 'f'},
		{"model", required_argument, NULL, 'm'},
		{"camera", required_argument, NULL, 'C'},
		{"capture-reference", required_argument, NULL, 'R'},
		{"stats-out", required_argument, NULL, 'S'},
		{"decode-only", no_argument, NULL, 'D'},
		{"debug-dir", required_argument, NULL, 'd'},
		{"sample-config", no_argument, NULL, 'P'},
		{"evidence-dir", required_argument, NULL, 'E'},
		{"print-public-key", no_argument, NULL, 'K'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *config = NULL, *events_out = NULL, *stats_out = NULL;
	const char *camera = NULL, *capture = NULL, *evidence_dir = NULL;
	int check = 0, replay = 0, verbose = 0, print_key = 0, opt, cam, rc;
	edge_opts opts = {0};
	static fl_config cfg;
	static fl_key key;
	fl_store *store = NULL;
	static char buf[1 << 16];
	char err[1024], prefix[48];
	char *end;

	while ((opt = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'k': check = 1; break;
		case 'r': replay = 1; break;
		case 's': opts.source = optarg; break;
		case 'e': events_out = optarg; break;
		case 'f':
			opts.fps = strtod(optarg, &end);
			if (*end || !(opts.fps > 0 && opts.fps <= 240)) {
				fprintf(stderr, "firelane-edge: --fps %s: expected a number in (0, 240]\n", optarg);
				return 2;
			}
			break;
		case 'm': opts.model = optarg; break;
		case 'C': camera = optarg; break;
		case 'R': capture = optarg; break;
		case 'S': stats_out = optarg; break;
		case 'D': opts.decode_only = 1; break;
		case 'd': opts.debug_dir = optarg; break;
		case 'P':
			fl_config_sample(buf, sizeof(buf));
			fputs(buf, stdout);
			return 0;
		case 'E': evidence_dir = optarg; break;
		case 'K': print_key = 1; break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!config || optind < argc) {
		usage(stderr);
		return 2;
	}
	fl_log_set(fl_log_stderr, FL_LOG_WARN + verbose, (void *)"firelane-edge");
	if (fl_config_load(&cfg, config, err, sizeof(err)) < 0) {
		fprintf(stderr, "firelane-edge: %s\n", err);
		return 2;
	}
	if (check) {
		fl_config_dump(&cfg, buf, sizeof(buf));
		fputs(buf, stdout);
		return 0;
	}
	if (print_key)
		return print_public_key(&cfg);
	cam = find_camera(&cfg, camera);
	if (cam < 0) {
		fprintf(stderr, "firelane-edge: %s: no camera '%s'\n", config, camera);
		return 2;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	opts.start_wall = time(NULL);
	snprintf(prefix, sizeof(prefix), "%.20s-%lx", cfg.device_id,
		 (unsigned long)opts.start_wall);
	opts.id_prefix = prefix;
	if (!capture && !opts.decode_only) {
		open_evidence(&cfg, evidence_dir ? evidence_dir : cfg.evidence.dir,
			      &store, &key);
		opts.store = store;
		opts.key = &key;
		warning_out = edge_warning_create(&cfg, opts.start_wall, err,
						  sizeof(err));
		if (!warning_out)
			fl_log(FL_LOG_ERROR, "warning", "board: %s; the on-site "
			       "warning is OFF, detection goes on", err);
	}
	if (replay || capture) {
		rc = run_one(&cfg, cam, &opts, events_out, stats_out, capture);
	} else {
		opts.realtime = 1;
		rc = run_live(&cfg, config, &opts, store);
	}
	edge_warning_destroy(warning_out);
	fl_store_close(store);
	fl_key_wipe(&key);
	return rc;
}

