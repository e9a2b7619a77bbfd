/*
 * main.c - firelane-edge: argv, configuration, signals, logging, and the
 * choice of mode. The modes themselves are elsewhere:
 *
 *   --check-config          print the effective configuration or the errors
 *   --sample-config         print a commented sample configuration
 *   --print-public-key      load (or create) the device key and print its
 *                           public half, base64
 *   --enrol HUB_URL CODE    enrol at the hub with a one-time code and write
 *                           what it answers into the configuration (enrol.c)
 *   --replay                run one camera on --source (or its configured
 *                           source) as fast as possible on video time,
 *                           writing events to --events-out (replay.c);
 *                           --start and --until cut it as a restart and a
 *                           power cut would
 *   --capture-reference F   write a frame of the camera as its clear-lane
 *                           reference image (replay.c)
 *   (default: live)         run every camera, each in its own thread,
 *                           events as JSON lines on stdout and, with
 *                           mqtt.host, to the broker through the spool
 *                           (live.c, publish.c, docs/mqtt.md); SIGTERM and
 *                           SIGINT stop cleanly, SIGHUP reloads lane
 *                           settings, sd_notify for systemd
 *                           (src/util/systemd.c)
 *
 * Evidence: with evidence.dir or --evidence-dir, each camera gets an
 * evidence writer (src/evidence/writer.c) that writes one signed bundle
 * per alarmed incident into the store, in live and replay mode alike
 * (docs/evidence.md). The device key (device.key_file) is created on first
 * use. An evidence store that cannot be opened (a read-only or missing
 * folder) is logged as an error and the edge runs on without evidence:
 * detection never waits for the disk. The on-site warning (warning.c) is
 * set up here too, for both modes.
 *
 * Memory across restarts (docs/memory.md): --state-dir DIR, else in live
 * mode device.state_dir, names the folder of the cameras' memory
 * (state.c); a replay has memory only with the option, so that plain
 * replays stay memoryless.
 *
 * The heap (glibc): blocks of 1 MiB and more (a decoder's frame, an evidence
 * image) are mapped and unmapped on their own. glibc otherwise raises its
 * mmap threshold to the largest block freed so far (a 1080p frame: 3 MB),
 * and from then on those blocks come from the arena of the camera thread
 * that asked, where they fragment it and stay resident after they are
 * freed. Smaller blocks (packets) stay in the arenas: at glibc's own 128 KiB
 * the edge held 2 MB less a camera but spent about 6 % more CPU on mapping
 * and zeroing fresh pages (docs/health.md, "Memory per camera").
 *
 * Exit status: 0 success, 1 a runtime failure (input, model, output), 2 a
 * usage or configuration error.
 */
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "camera.h"
#include "clip.h"
#include "clock.h"
#include "config.h"
#include "enrol.h"
#include "fl.h"
#include "ids.h"
#include "live.h"
#include "replay.h"
#include "sign.h"
#include "store.h"
#include "tz.h"
#include "warning.h"
#include "yaml.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fputs("usage: firelane-edge --config FILE [options]\n"
	      "  --check-config          print the effective configuration, or the errors\n"
	      "  --replay                analyse --source as fast as possible (no broker)\n"
	      "  --source S              video file, image pattern (in%06d.jpg), URL or /dev/videoN\n"
	      "  --events-out FILE       replay: where the JSON-lines events go (default stdout)\n"
	      "  --fps N                 frame rate of an image sequence (default 25)\n"
	      "  --start T               replay: begin analysis at T s of video time\n"
	      "  --until T               replay: stop at T s as a power cut would\n"
	      "  --model PATH            dnn detector (.cfg with .weights beside it, or .onnx)\n"
	      "  --camera ID             camera to replay or capture (default the first)\n"
	      "  --capture-reference F   write the camera's current view as its clear-lane image\n"
	      "  --stats-out FILE        replay: write throughput figures as JSON\n"
	      "  --decode-only           replay: decode frames, analyse nothing (benchmark)\n"
	      "  --debug-dir DIR         write analysis masks (PGM) per analysed frame\n"
	      "  --state-dir DIR         the cameras' memory across restarts (replay: only\n"
	      "                          with this option; live: device.state_dir)\n"
	      "  --evidence-dir DIR      write evidence bundles here (overrides evidence.dir)\n"
	      "  --print-public-key      print the device's public key (base64; created if missing)\n"
	      "  --enrol HUB_URL CODE    enrol at the hub with a one-time code; writes the config\n"
	      "                          (or --enrol firelane-enrol:HUB_URL?code=CODE, the QR code)\n"
	      "  --ca FILE               --enrol: the CA of the hub's certificate\n"
	      "  --insecure              --enrol: allow http:// and an unverified certificate\n"
	      "  --sample-config         print a commented sample configuration\n"
	      "  --test-slow-analysis MS[:T]  tests: each analysis (before video time T)\n"
	      "                          takes MS ms longer, to overload a camera\n"
	      "  --test-slow-clip MS     tests: each packet a clip re-encodes takes MS ms\n"
	      "                          longer, so that the re-encoding lags\n"
	      "  -v, --verbose           more log (repeat for debug)\n",
	      f);
}

/*
 * The evidence store and the device key, when evidence is on (dir not
 * empty). A store that cannot be opened, or a key that cannot be had, is
 * an error in the log, not a stop: *store stays NULL and the edge runs
 * without evidence.
 */
static void open_evidence(const fl_config *cfg, const char *dir,
			  fl_store **store, fl_key *key)
{
	const fl_evidence_conf *ec = &cfg->evidence;
	fl_store_opts so = { 0 };
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
		       "is in every manifest)",
		       cfg->key_file);
	so.max_bytes = ec->max_mb * 1024 * 1024;
	so.max_age_s = ec->max_age_days * 86400;
	/* The store reads 0 as "its default floor"; ours means none. */
	so.min_free_bytes = ec->min_free_mb > 0 ? ec->min_free_mb * 1024 * 1024
						: 1;
	*store = fl_store_open(dir, &so, err, sizeof(err));
	if (!*store) {
		fl_log(FL_LOG_ERROR, "evidence",
		       "cannot open the evidence store: %s; evidence is OFF, "
		       "detection goes on",
		       err);
		return;
	}
	if (fl_store_prune(*store, fl_wall_s(), err, sizeof(err)) < 0)
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

/* What the command line asked for. */
struct cli {
	const char *config, *events_out, *stats_out, *camera, *capture;
	const char *evidence_dir;
	int check, replay, verbose, print_key, sample;
	edge_enrol_args enrol; /* hub_url set: --enrol */
	edge_opts opts;
};

/* argv into o: -1 to go on, else the exit status (a usage error: 2;
 * --help: 0). */
static int parse_args(int argc, char **argv, struct cli *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "replay", no_argument, NULL, 'r' },
		{ "source", required_argument, NULL, 's' },
		{ "events-out", required_argument, NULL, 'e' },
		{ "fps", required_argument, NULL, 'f' },
		{ "start", required_argument, NULL, 'T' },
		{ "until", required_argument, NULL, 'U' },
		{ "model", required_argument, NULL, 'm' },
		{ "camera", required_argument, NULL, 'C' },
		{ "capture-reference", required_argument, NULL, 'R' },
		{ "stats-out", required_argument, NULL, 'S' },
		{ "decode-only", no_argument, NULL, 'D' },
		{ "debug-dir", required_argument, NULL, 'd' },
		{ "state-dir", required_argument, NULL, 'M' },
		{ "sample-config", no_argument, NULL, 'P' },
		{ "evidence-dir", required_argument, NULL, 'E' },
		{ "print-public-key", no_argument, NULL, 'K' },
		{ "enrol", required_argument, NULL, 'N' },
		{ "ca", required_argument, NULL, 'A' },
		{ "insecure", no_argument, NULL, 'I' },
		{ "test-slow-analysis", required_argument, NULL, 'L' },
		{ "test-slow-clip", required_argument, NULL, 'W' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	double ms;
	int opt;

	memset(o, 0, sizeof(*o));
	while ((opt = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o->config = optarg;
			break;
		case 'k':
			o->check = 1;
			break;
		case 'r':
			o->replay = 1;
			break;
		case 's':
			o->opts.source = optarg;
			break;
		case 'e':
			o->events_out = optarg;
			break;
		case 'f':
			o->opts.fps = strtod(optarg, &end);
			if (*end || !(o->opts.fps > 0 && o->opts.fps <= 240)) {
				fprintf(stderr,
					"firelane-edge: --fps %s: expected a number in (0, 240]\n",
					optarg);
				return 2;
			}
			break;
		case 'T':
		case 'U': {
			double v = strtod(optarg, &end);

			if (*end || end == optarg || !(v >= 0 && v < 1e7)) {
				fprintf(stderr,
					"firelane-edge: --%s %s: expected seconds >= 0\n",
					opt == 'T' ? "start" : "until", optarg);
				return 2;
			}
			*(opt == 'T' ? &o->opts.start_s : &o->opts.until_s) = v;
			break;
		}
		case 'm':
			o->opts.model = optarg;
			break;
		case 'C':
			o->camera = optarg;
			break;
		case 'R':
			o->capture = optarg;
			break;
		case 'S':
			o->stats_out = optarg;
			break;
		case 'D':
			o->opts.decode_only = 1;
			break;
		case 'd':
			o->opts.debug_dir = optarg;
			break;
		case 'M':
			o->opts.state_dir = optarg;
			break;
		case 'P':
			o->sample = 1;
			return -1; /* printed at once */
		case 'E':
			o->evidence_dir = optarg;
			break;
		case 'K':
			o->print_key = 1;
			break;
		case 'N':
			o->enrol.hub_url = optarg;
			break;
		case 'A':
			o->enrol.ca = optarg;
			break;
		case 'I':
			o->enrol.insecure = 1;
			break;
		case 'L': /* a test seam: edge_opts.slow_ms */
			o->opts.slow_ms = strtod(optarg, &end);
			if (*end == ':')
				o->opts.slow_until_s = strtod(end + 1, &end);
			if (*end || !(o->opts.slow_ms >= 0 &&
				      o->opts.slow_ms <= 10000 &&
				      o->opts.slow_until_s >= 0)) {
				fprintf(stderr,
					"firelane-edge: --test-slow-analysis %s: expected MS[:T], MS in [0, 10000]\n",
					optarg);
				return 2;
			}
			break;
		case 'W': /* a test seam: fl_clip_test_slow */
			ms = strtod(optarg, &end);
			if (*end || !(ms >= 0 && ms <= 10000)) {
				fprintf(stderr,
					"firelane-edge: --test-slow-clip %s: expected MS in [0, 10000]\n",
					optarg);
				return 2;
			}
			fl_clip_test_slow(ms);
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* --enrol's CODE (edge_enrol says when it is missing) */
	if (o->enrol.hub_url && optind < argc)
		o->enrol.code = argv[optind++];
	if (!o->config || optind < argc) {
		usage(stderr);
		return 2;
	}
	if ((o->opts.start_s > 0 || o->opts.until_s > 0) && !o->replay) {
		fprintf(stderr,
			"firelane-edge: --start and --until need --replay\n");
		return 2;
	}
	if (o->opts.until_s > 0 && o->opts.until_s <= o->opts.start_s) {
		fprintf(stderr,
			"firelane-edge: --until %g must be after --start %g\n",
			o->opts.until_s, o->opts.start_s);
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static struct cli o;
	static fl_config cfg;
	static fl_key key;
	static char buf[1 << 16];
	edge_warning *warning = NULL;
	fl_store *store = NULL;
	char err[1024], prefix[FL_ID_MAX + 24];
	int cam, rc;

#ifdef __GLIBC__
	mallopt(M_MMAP_THRESHOLD, 1 << 20); /* the top: why */
#endif
	rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (o.sample) {
		fl_config_sample(buf, sizeof(buf));
		fputs(buf, stdout);
		return 0;
	}
	fl_log_set(fl_log_stderr, FL_LOG_WARN + o.verbose,
		   (void *)"firelane-edge");
	if (o.enrol.hub_url) { /* before the load: the file may lack an id */
		o.enrol.config = o.config;
		o.enrol.out = stdout;
		rc = edge_enrol(&o.enrol, err, sizeof(err));
		if (rc)
			fprintf(stderr, "firelane-edge: --enrol: %s\n", err);
		return rc;
	}
	if (fl_config_load(&cfg, o.config, err, sizeof(err)) < 0) {
		fprintf(stderr, "firelane-edge: %s\n", err);
		return 2;
	}
	if (o.check) {
		fl_config_dump(&cfg, buf, sizeof(buf));
		fputs(buf, stdout);
		return 0;
	}
	if (o.print_key)
		return print_public_key(&cfg);
	/* the zone of the banner's time and of the lanes' hours, before any
	 * thread starts */
	if (fl_tz_set(cfg.time_zone, err, sizeof(err))) {
		fprintf(stderr, "firelane-edge: %s:%d: time_zone: %s\n",
			o.config, cfg.time_zone_line, err);
		return 2;
	}
	/* --state-dir overrides device.state_dir (the spool's start-up reads
	 * it there too); a replay has memory only with the option */
	if (o.opts.state_dir)
		snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s",
			 o.opts.state_dir);
	else if (!o.replay && !o.capture && cfg.state_dir[0])
		o.opts.state_dir = cfg.state_dir;
	cam = o.camera ? edge_camera_index(&cfg, o.camera) : 0;
	if (cam < 0) {
		fprintf(stderr, "firelane-edge: %s: no camera '%s'\n", o.config,
			o.camera);
		return 2;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	o.opts.start_wall = time(NULL);
	snprintf(prefix, sizeof(prefix), "%s-%lx", cfg.device_id,
		 (unsigned long)o.opts.start_wall);
	o.opts.id_prefix = prefix;
	if (!o.capture && !o.opts.decode_only) {
		open_evidence(&cfg,
			      o.evidence_dir ? o.evidence_dir
					     : cfg.evidence.dir,
			      &store, &key);
		o.opts.store = store;
		o.opts.key = &key;
		warning = edge_warning_create(&cfg, o.opts.start_wall, err,
					      sizeof(err));
		if (!warning)
			fl_log(FL_LOG_ERROR, "warning",
			       "board: %s; the on-site "
			       "warning is OFF, detection goes on",
			       err);
	}
	if (o.replay || o.capture) {
		edge_replay_args a = { .cfg = &cfg,
				       .camera = cam,
				       .opts = &o.opts,
				       .events_out = o.events_out,
				       .stats_out = o.stats_out,
				       .capture = o.capture,
				       .warning = warning,
				       .stop = &stop_requested };

		rc = edge_replay_run(&a);
	} else {
		edge_live_args a = { .cfg = &cfg,
				     .config_path = o.config,
				     .opts = &o.opts,
				     .store = store,
				     .warning = warning,
				     .stop = &stop_requested };

		o.opts.realtime = 1;
		rc = edge_live_run(&a);
	}
	edge_warning_destroy(warning);
	fl_store_close(store);
	fl_key_wipe(&key);
	if (rc == EDGE_LIVE_RESTART) /* a remote configuration (apply.c) */
		rc = edge_live_restart(argv);
	return rc;
}
