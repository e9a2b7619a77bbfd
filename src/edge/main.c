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
 * Replay windows: --start T begins analysis at T seconds of video time (the
 * frames before are decoded and dropped, as if the edge had been switched
 * on there; events keep the source's own times). --until T ends the replay
 * at T as a power cut would: the process ends at the first frame at or past
 * T with no orderly close (no final events, no evidence sealed, nothing
 * saved beyond what was written while running) and exit status 0.
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
#include "config.h"
#include "warning.h"
#include "event.h"
#include "fl.h"
#include "publish.h"
#include "sign.h"
#include "store.h"
#include "yaml.h"

static volatile sig_atomic_t stop_requested;

/* The on-site warning (src/edge/warning.c): a sink of every event, ticked
 * after every frame. Set once in main(); NULL when off. */
static edge_warning *warning_out;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* The events sink: one JSON object a line, flushed so a reader (or a crash)
 * never sees half a line. */
static void write_event(const fl_event *ev, void *user)
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

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Replay (or capture) one camera to the end of its input. */
static int run_one(const fl_config *cfg, int cam, const edge_opts *opts,
		   const char *events_out, const char *stats_out,
		   const char *capture)
{
	char err[1024];
	FILE *out = stdout;
	edge_camera *c;
	double wall = mono_now();
	int rc;

	if (events_out && strcmp(events_out, "-") != 0) {
		out = fopen(events_out, "w");
		if (!out) {
			fprintf(stderr, "firelane-edge: %s: %s\n", events_out,
				strerror(errno));
			return 1;
		}
	}
	c = edge_camera_open(cfg, cam, opts, write_event, out, err,
			     sizeof(err));
	if (!c) {
		fprintf(stderr, "firelane-edge: %s\n", err);
		rc = 1;
		goto done;
	}
	if (capture) {
		/* A second into the stream, past any start-up artefacts. */
		for (int i = 0;
		     i < 25 && edge_camera_step(c, err, sizeof(err)) == 0; i++)
			;
		rc = edge_camera_write_frame(c, capture, err, sizeof(err));
		if (rc < 0)
			fprintf(stderr, "firelane-edge: %s\n", err);
		else
			fprintf(stderr,
				"firelane-edge: reference written to %s\n",
				capture);
		rc = rc < 0;
		goto done;
	}
	while (!stop_requested &&
	       (rc = edge_camera_step(c, err, sizeof(err))) == 0)
		edge_warning_tick(warning_out, cfg->cameras[cam].id,
				  edge_camera_time(c), write_event, out);
	if (rc == FL_ERANGE && opts->until_s > 0) {
		/* --until: a power cut. Every event line is already flushed;
		 * nothing else may reach the disk, so no close of any kind. */
		fprintf(stderr,
			"firelane-edge: --until %g: power cut (the next "
			"frame is at %.3f s)\n",
			opts->until_s, edge_camera_time(c));
		_exit(0);
	}
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
			    mono_now() - wall);
	}
done:
	edge_camera_close(c);
	if (out != stdout)
		fclose(out);
	return rc;
}

/*
 * ---- Live mode ------------------------------------------------------------
 *
 * A note on threads. Each camera runs in its own thread (cam_main): a live
 * source blocks in its decoder, paces a file at its frame rate, or waits to
 * reconnect, and one camera doing so must not hold up the others; on a 2-4
 * core device the cameras also decode in parallel. The control thread (the
 * process's main thread) owns everything else: signals (seen through
 * volatile sig_atomic_t flags), the MQTT client and its spool pump
 * (publish.c), heartbeats, commands, reloads, and sd_notify.
 *
 * Between them:
 *   - events: camera threads call the sinks directly (stdout JSON lines,
 *     edge_publish_event(), which is thread-safe and spools durably);
 *   - settings: the control thread never writes a live lane setting. It
 *     keeps a shadow fl_lane_conf per lane, changes the shadow (command or
 *     reload) and posts it to the camera's mailbox; the camera thread copies
 *     it into the configuration between two frames. The lane state machine
 *     reads its settings through a pointer into that configuration, so its
 *     open incidents (spots, dwell clocks) are kept: a reload or a dwell
 *     change never restarts an incident;
 *   - snapshots: posted the same way, written by the camera thread, answered
 *     by the control thread when done;
 *   - figures: each camera thread copies its counters into its slot under
 *     the slot's mutex after every frame; the heartbeat reads them there;
 *   - stop: an atomic flag the camera threads check before every frame.
 *
 * Reload (SIGHUP or the reload command) re-reads the file and applies what
 * can change without a restart: every lane setting except its id and
 * polygon (dwell_s, clear_s, occlusion_s, min_size_px, obstructions,
 * active, disabled, warn_*, escalate_s, quiet_hours, name). A changed
 * device, detect, evidence, board or mqtt section, or a camera or lane
 * added, removed, moved or with another source, is logged as needing a
 * restart and not applied; an invalid file is logged and changes nothing.
 */

struct cam_slot {
	int index;
	pthread_t thread;
	int started;
	atomic_int done;    /* the thread has ended */
	atomic_int failed;  /* ... on an error (exit status 1) */
	atomic_long beats;  /* frames processed: liveness for the watchdog */
	pthread_mutex_t mu; /* guards everything below */
	int lane_posted[FL_MAX_LANES];
	fl_lane_conf lane_new[FL_MAX_LANES];
	char snap_path[FL_PATH_MAX + 64]; /* requested snapshot, "" none */
	char snap_req[FL_CMD_REQ_MAX];
	int snap_state; /* 0 none, 1 asked, 2 written, -1 failed */
	char snap_err[256];
	edge_stats stats; /* copy of the camera's counters */
	int online;
};

struct live {
	fl_config *cfg; /* live configuration (lane settings change) */
	const char *config_path;
	const edge_opts *opts;
	edge_publish *pub;
	struct cam_slot slots[FL_MAX_CAMERAS];
	fl_lane_conf shadow[FL_MAX_CAMERAS][FL_MAX_LANES];
	atomic_int quit;
	pthread_mutex_t out_mu; /* stdout lines */
	int reload_asked;       /* by command (control thread only) */
};

static volatile sig_atomic_t reload_requested;

static void on_hup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

/* The on-site warning is one object for all cameras, driven by one thread
 * at a time: camera threads take this (recursive: a tick's WARNED event
 * comes back through live_event) around every call into it. Order:
 * warn_mu, then out_mu. */
static pthread_mutex_t warn_mu;

/* The live event sink: the warning and a JSON line on stdout (write_event),
 * and the MQTT publisher. */
static void live_event(const fl_event *ev, void *user)
{
	struct live *L = user;

	pthread_mutex_lock(&warn_mu);
	pthread_mutex_lock(&L->out_mu);
	write_event(ev, stdout);
	pthread_mutex_unlock(&L->out_mu);
	pthread_mutex_unlock(&warn_mu);
	if (L->pub)
		edge_publish_event(ev, L->pub);
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Camera thread, between two frames: apply what the control thread posted. */
static void cam_mailbox(struct live *L, struct cam_slot *s, edge_camera *c)
{
	fl_camera_conf *cc = &L->cfg->cameras[s->index];
	char path[sizeof(s->snap_path)], err[256];
	int snap = 0, changed = 0, rc;

	pthread_mutex_lock(&s->mu);
	for (int l = 0; l < cc->nlanes; l++) {
		if (!s->lane_posted[l])
			continue;
		cc->lanes[l] = s->lane_new[l];
		s->lane_posted[l] = 0;
		changed = 1;
	}
	if (s->snap_state == 1) {
		memcpy(path, s->snap_path, sizeof(path));
		snap = 1;
	}
	pthread_mutex_unlock(&s->mu);
	if (changed) { /* new warn keys for the lanes' open incidents */
		pthread_mutex_lock(&warn_mu);
		edge_warning_reload(warning_out);
		pthread_mutex_unlock(&warn_mu);
	}
	if (!snap)
		return;
	rc = edge_camera_write_frame(c, path, err, sizeof(err));
	pthread_mutex_lock(&s->mu);
	s->snap_state = rc < 0 ? -1 : 2;
	snprintf(s->snap_err, sizeof(s->snap_err), "%s", rc < 0 ? err : "");
	pthread_mutex_unlock(&s->mu);
}

static void *cam_main(void *arg)
{
	struct cam_slot *s = arg;
	struct live *L = (struct live *)((char *)(s - s->index) -
					 offsetof(struct live, slots));
	const char *id = L->cfg->cameras[s->index].id;
	edge_camera *c = NULL;
	char err[1024];
	int rc;

	/* A live source that is down at start is tried again; a file that
	 * cannot be opened ends the camera. */
	while (!atomic_load(&L->quit)) {
		c = edge_camera_open(L->cfg, s->index, L->opts, live_event, L,
				     err, sizeof(err));
		if (c) {
			/* The first frame was just read: its video time maps
			 * to now (a file is paced from that frame on). */
			if (L->pub)
				edge_publish_camera_base(
					L->pub, s->index,
					wall_now() - edge_camera_time(c));
			break;
		}
		fl_log(FL_LOG_ERROR, "camera", "%s: %s", id, err);
		if (!strstr(L->cfg->cameras[s->index].source, "://") &&
		    strncmp(L->cfg->cameras[s->index].source, "/dev/", 5)) {
			atomic_store(&s->failed, 1);
			goto out;
		}
		for (int i = 0; i < 50 && !atomic_load(&L->quit); i++)
			usleep(100000);
	}
	pthread_mutex_lock(&s->mu);
	s->online = c != NULL;
	pthread_mutex_unlock(&s->mu);
	while (c && !atomic_load(&L->quit)) {
		cam_mailbox(L, s, c);
		rc = edge_camera_step(c, err, sizeof(err));
		if (rc == 0) {
			pthread_mutex_lock(&warn_mu);
			edge_warning_tick(warning_out, id, edge_camera_time(c),
					  live_event, L);
			pthread_mutex_unlock(&warn_mu);
		}
		atomic_fetch_add(&s->beats, 1);
		pthread_mutex_lock(&s->mu);
		s->stats = *edge_camera_stats(c);
		pthread_mutex_unlock(&s->mu);
		if (rc == FL_EEOF) {
			fl_log(FL_LOG_INFO, "camera", "%s: end of input", id);
			break;
		}
		if (rc < 0) {
			fl_log(FL_LOG_ERROR, "camera", "%s: %s", id, err);
			atomic_store(&s->failed, 1);
			break;
		}
	}
out:
	edge_camera_close(c);
	pthread_mutex_lock(&s->mu);
	s->online = 0;
	pthread_mutex_unlock(&s->mu);
	atomic_store(&s->done, 1);
	return NULL;
}

/* Post the shadow of lane (cam, lane) to its camera thread and publish it. */
static void post_lane(struct live *L, int cam, int lane)
{
	struct cam_slot *s = &L->slots[cam];

	pthread_mutex_lock(&s->mu);
	s->lane_new[lane] = L->shadow[cam][lane];
	s->lane_posted[lane] = 1;
	pthread_mutex_unlock(&s->mu);
	if (L->pub)
		edge_publish_settings(L->pub, cam, lane,
				      L->shadow[cam][lane].disabled,
				      L->shadow[cam][lane].dwell_s);
}

static int same_lane_shape(const fl_lane_conf *a, const fl_lane_conf *b)
{
	if (strcmp(a->id, b->id) || a->npoints != b->npoints)
		return 0;
	for (int i = 0; i < a->npoints; i++)
		if (a->points[i].x != b->points[i].x ||
		    a->points[i].y != b->points[i].y)
			return 0;
	return 1;
}

/*
 * Re-read the configuration and apply the lane settings (see the note
 * above). Returns 0, or -1 with the reason in err (nothing applied).
 */
static int reload(struct live *L, char *err, size_t errlen)
{
	fl_config *n = malloc(sizeof(*n));
	const fl_config *o = L->cfg;
	int applied = 0, rc = -1;

	if (!n) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (fl_config_load(n, L->config_path, err, errlen) < 0)
		goto out;
	if (strcmp(n->device_id, o->device_id) || strcmp(n->site, o->site) ||
	    memcmp(&n->mqtt, &o->mqtt, sizeof(n->mqtt)) ||
	    memcmp(&n->detect, &o->detect, sizeof(n->detect)) ||
	    memcmp(&n->evidence, &o->evidence, sizeof(n->evidence)) ||
	    memcmp(&n->board, &o->board, sizeof(n->board)))
		fl_log(FL_LOG_WARN, "reload",
		       "device, detect, evidence, board or mqtt settings "
		       "changed: they take effect at the next restart");
	if (n->ncameras != o->ncameras)
		fl_log(FL_LOG_WARN, "reload",
		       "cameras added or removed: that needs a restart");
	for (int c = 0; c < FL_MIN(n->ncameras, o->ncameras); c++) {
		const fl_camera_conf *nc = &n->cameras[c], *oc = &o->cameras[c];
		if (strcmp(nc->id, oc->id) || strcmp(nc->source, oc->source) ||
		    nc->nlanes != oc->nlanes) {
			fl_log(FL_LOG_WARN, "reload",
			       "camera %s: id, source or lanes changed: that "
			       "needs a restart",
			       oc->id);
			continue;
		}
		for (int l = 0; l < nc->nlanes; l++) {
			if (!same_lane_shape(&nc->lanes[l], &oc->lanes[l])) {
				fl_log(FL_LOG_WARN, "reload",
				       "lane %s/%s: id or polygon changed: "
				       "that needs a restart",
				       oc->id, oc->lanes[l].id);
				continue;
			}
			L->shadow[c][l] = nc->lanes[l];
			post_lane(L, c, l);
			applied++;
		}
	}
	fl_log(FL_LOG_WARN, "reload",
	       "%s: lane settings of %d lane(s) "
	       "applied",
	       L->config_path, applied);
	snprintf(err, errlen, "%d lane(s) applied", applied);
	rc = 0;
out:
	free(n);
	return rc;
}

/* A command that names an existing camera and lane (publish.c checked). */
static void on_command(const fl_command *cmd, void *user)
{
	struct live *L = user;
	const char *name = fl_command_name(cmd->kind);
	int cam = -1, lane = -1;
	char detail[512], err[512];
	fl_lane_conf *sh;

	for (int c = 0; c < L->cfg->ncameras; c++)
		if (!strcmp(L->cfg->cameras[c].id, cmd->camera))
			cam = c;
	for (int l = 0; cam >= 0 && l < L->cfg->cameras[cam].nlanes; l++)
		if (!strcmp(L->cfg->cameras[cam].lanes[l].id, cmd->lane))
			lane = l;
	switch (cmd->kind) {
	case FL_CMD_ENABLE:
	case FL_CMD_DISABLE:
	case FL_CMD_DWELL:
		sh = &L->shadow[cam][lane];
		if (cmd->kind == FL_CMD_DWELL)
			sh->dwell_s = cmd->value;
		else
			sh->disabled = cmd->kind == FL_CMD_DISABLE;
		post_lane(L, cam, lane);
		snprintf(detail, sizeof(detail),
			 "{\"camera\": \"%s\", \"lane\": \"%s\", "
			 "\"enabled\": %s, \"dwell_s\": %g}",
			 cmd->camera, cmd->lane,
			 sh->disabled ? "false" : "true", sh->dwell_s);
		edge_publish_answer(L->pub, cmd->req, name, 1, NULL, detail);
		return;
	case FL_CMD_SNAPSHOT: {
		struct cam_slot *s = &L->slots[cam];
		int busy;

		pthread_mutex_lock(&s->mu);
		busy = s->snap_state == 1;
		if (!busy) {
			snprintf(s->snap_path, sizeof(s->snap_path),
				 "%s/snapshot-%s.jpg",
				 edge_publish_spool_dir(L->pub), cmd->camera);
			snprintf(s->snap_req, sizeof(s->snap_req), "%s",
				 cmd->req);
			s->snap_state = 1;
		}
		pthread_mutex_unlock(&s->mu);
		if (busy)
			edge_publish_answer(L->pub, cmd->req, name, 0,
					    "a snapshot is already being taken",
					    NULL);
		return; /* answered by live_answers() once written */
	}
	case FL_CMD_WARN: {
		int r;

		/* Given at the camera's next tick (src/edge/warning.c). */
		pthread_mutex_lock(&warn_mu);
		r = edge_warning_trigger(warning_out, cmd->camera, cmd->lane,
					 0);
		pthread_mutex_unlock(&warn_mu);
		if (r == 0)
			edge_publish_answer(L->pub, cmd->req, name, 1, NULL,
					    NULL);
		else
			edge_publish_answer(L->pub, cmd->req, name, 0,
					    r == FL_EUNSUPPORTED
						    ? "no on-site warning on "
						      "this device (board: none)"
						    : fl_strerror(r),
					    NULL);
		return;
	}
	case FL_CMD_RELOAD:
		if (reload(L, err, sizeof(err)) < 0)
			edge_publish_answer(L->pub, cmd->req, name, 0, err,
					    NULL);
		else
			edge_publish_answer(L->pub, cmd->req, name, 1, NULL,
					    NULL);
		return;
	}
}

/* Answer snapshots the camera threads have written. */
static void live_answers(struct live *L)
{
	for (int c = 0; c < L->cfg->ncameras; c++) {
		struct cam_slot *s = &L->slots[c];
		char detail[FL_PATH_MAX + 128], req[FL_CMD_REQ_MAX], err[256];
		int st;

		pthread_mutex_lock(&s->mu);
		st = s->snap_state;
		if (st == 2 || st == -1 || (st == 1 && atomic_load(&s->done))) {
			snprintf(detail, sizeof(detail), "{\"path\": \"%s\"}",
				 s->snap_path);
			memcpy(req, s->snap_req, sizeof(req));
			snprintf(err, sizeof(err), "%s",
				 st == 1 ? "the camera has stopped"
					 : s->snap_err);
			s->snap_state = 0;
		}
		pthread_mutex_unlock(&s->mu);
		if (st == 2)
			edge_publish_answer(L->pub, req, "snapshot", 1, NULL,
					    detail);
		else if (st == -1 || (st == 1 && atomic_load(&s->done)))
			edge_publish_answer(L->pub, req, "snapshot", 0, err,
					    NULL);
	}
}

/*
 * sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET (a path, or
 * an abstract socket when it starts with '@'). Silently nothing when not
 * run by systemd.
 */
static void sd_notify_msg(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	if (!path || !path[0] || strlen(path) >= sizeof(sa.sun_path))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   len) < 0)
		fl_log(FL_LOG_DEBUG, "systemd", "sd_notify: %s",
		       strerror(errno));
	close(fd);
}

/* The watchdog interval systemd asked for (half of WATCHDOG_USEC), or 0. */
static double watchdog_interval(void)
{
	const char *u = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");

	if (!u || (pid && atol(pid) != (long)getpid()))
		return 0;
	return atof(u) / 1e6 / 2;
}

/* 1 = synced, 0 = not, -1 = unknown (adjtimex's view of the kernel clock). */
static int clock_synced(void)
{
	struct timex tx;
	int st;

	memset(&tx, 0, sizeof(tx));
	st = adjtimex(&tx);
	if (st < 0)
		return -1;
	return st == TIME_ERROR ? 0 : 1;
}

/* Build and spool one heartbeat from the slots' figures since the last. */
static void heartbeat(struct live *L, double start, double *last_t,
		      edge_stats *last)
{
	fl_camera_health ch[FL_MAX_CAMERAS];
	fl_health h = { 0 };
	struct statvfs vfs;
	double now = wall_now(), dt = now - *last_t;

	for (int c = 0; c < L->cfg->ncameras; c++) {
		struct cam_slot *s = &L->slots[c];
		edge_stats st;
		int online;

		pthread_mutex_lock(&s->mu);
		st = s->stats;
		online = s->online && !atomic_load(&s->done);
		pthread_mutex_unlock(&s->mu);
		ch[c].id = L->cfg->cameras[c].id;
		ch[c].fps = dt > 0 ? (double)(st.frames - last[c].frames) / dt
				   : 0;
		ch[c].load = dt > 0 ? (st.analysis_s - last[c].analysis_s) / dt
				    : 0;
		ch[c].online = online;
		last[c] = st;
	}
	*last_t = now;
	h.wall_time = now;
	h.uptime_s = now - start;
	h.cameras = ch;
	h.ncameras = (size_t)L->cfg->ncameras;
	h.disk_free_mb = statvfs(edge_publish_spool_dir(L->pub), &vfs) == 0
				 ? (double)vfs.f_bavail * (double)vfs.f_frsize /
					   1048576.0
				 : -1;
	h.clock_synced = clock_synced();
	edge_publish_heartbeat(L->pub, &h);
}

/*
 * Live: every camera in its own thread, events on stdout and (with
 * mqtt.host) to the broker through the spool. Returns the exit status.
 */
static int run_live(fl_config *cfg, const char *config_path,
		    const edge_opts *opts, fl_store *store)
{
	static struct live L;
	edge_stats last[FL_MAX_CAMERAS];
	long beats[FL_MAX_CAMERAS] = { 0 };
	double moved[FL_MAX_CAMERAS];
	double start = wall_now(), last_hb = start, next_hb, next_wd = 0;
	double wd = watchdog_interval();
	char err[1024];
	int rc = 0, running;
	pthread_mutexattr_t ma;

	memset(&L, 0, sizeof(L));
	memset(last, 0, sizeof(last));
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&warn_mu, &ma);
	pthread_mutexattr_destroy(&ma);
	L.cfg = cfg;
	L.config_path = config_path;
	L.opts = opts;
	pthread_mutex_init(&L.out_mu, NULL);
	for (int c = 0; c < cfg->ncameras; c++)
		for (int l = 0; l < cfg->cameras[c].nlanes; l++)
			L.shadow[c][l] = cfg->cameras[c].lanes[l];
	if (cfg->mqtt.host[0]) {
		L.pub = edge_publish_create(cfg, store, on_command, &L, err,
					    sizeof(err));
		if (!L.pub) {
			fprintf(stderr, "firelane-edge: %s\n", err);
			return 1;
		}
		edge_publish_start(L.pub);
	}
	signal(SIGHUP, on_hup);
	for (int c = 0; c < cfg->ncameras; c++) {
		struct cam_slot *s = &L.slots[c];
		s->index = c;
		pthread_mutex_init(&s->mu, NULL);
		if (pthread_create(&s->thread, NULL, cam_main, s) != 0) {
			fprintf(stderr,
				"firelane-edge: cannot start a thread\n");
			atomic_store(&L.quit, 1);
			rc = 1;
			break;
		}
		s->started = 1;
	}
	for (int c = 0; c < FL_MAX_CAMERAS; c++)
		moved[c] = start;
	sd_notify_msg("READY=1\nSTATUS=running");
	next_hb = start + cfg->mqtt.heartbeat_s;
	for (;;) {
		/* the MQTT turn doubles as the loop's pace (at most 100 ms) */
		if (L.pub)
			edge_publish_run(L.pub, 100);
		else
			usleep(100000);
		if (stop_requested || atomic_load(&L.quit))
			break;
		if (reload_requested) {
			reload_requested = 0;
			sd_notify_msg("RELOADING=1");
			if (reload(&L, err, sizeof(err)) < 0)
				fl_log(FL_LOG_ERROR, "reload",
				       "%s; the running configuration is kept",
				       err);
			sd_notify_msg("READY=1");
		}
		if (L.pub) {
			live_answers(&L);
			if (wall_now() >= next_hb) {
				heartbeat(&L, start, &last_hb, last);
				next_hb = wall_now() + cfg->mqtt.heartbeat_s;
			}
		}
		running = 0;
		for (int c = 0; c < cfg->ncameras; c++)
			running += L.slots[c].started &&
				   !atomic_load(&L.slots[c].done);
		if (!running)
			break;
		/* The watchdog is fed only while every running camera thread
		 * makes progress (a step returns at least every few tens of
		 * ms, even while a stream is being reconnected): a thread
		 * stuck for 2 watchdog periods lets systemd restart us. */
		if (wd > 0 && wall_now() >= next_wd) {
			int stuck = 0;

			for (int c = 0; c < cfg->ncameras; c++) {
				long b = atomic_load(&L.slots[c].beats);
				if (b != beats[c] ||
				    atomic_load(&L.slots[c].done)) {
					beats[c] = b;
					moved[c] = wall_now();
				} else if (wall_now() - moved[c] > 4 * wd) {
					stuck++;
				}
			}
			if (!stuck)
				sd_notify_msg("WATCHDOG=1");
			else
				fl_log(FL_LOG_ERROR, "systemd",
				       "%d camera thread(s) stuck: watchdog "
				       "not fed",
				       stuck);
			next_wd = wall_now() + wd;
		}
	}
	sd_notify_msg("STOPPING=1");
	atomic_store(&L.quit, 1);
	for (int c = 0; c < cfg->ncameras; c++) {
		if (L.slots[c].started)
			pthread_join(L.slots[c].thread, NULL);
		if (atomic_load(&L.slots[c].failed))
			rc = 1;
	}
	if (L.pub) {
		/* Deliver what the last frames spooled (up to 5 s while
		 * connected; what is left stays on disk), then say stopped. */
		for (int i = 0; i < 100; i++) {
			long n, dropped, refused;
			double bytes;

			edge_publish_run(L.pub, 50);
			edge_publish_spool_stats(L.pub, &n, &bytes, &dropped,
						 &refused);
			if (n == 0 ||
			    (!edge_publish_connected(L.pub) && i >= 20))
				break;
		}
		edge_publish_stop(L.pub, 3000);
		edge_publish_destroy(L.pub);
	}
	for (int c = 0; c < cfg->ncameras; c++)
		pthread_mutex_destroy(&L.slots[c].mu);
	pthread_mutex_destroy(&L.out_mu);
	return rc;
}

int main(int argc, char **argv)
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
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *config = NULL, *events_out = NULL, *stats_out = NULL;
	const char *camera = NULL, *capture = NULL, *evidence_dir = NULL;
	int check = 0, replay = 0, verbose = 0, print_key = 0, opt, cam, rc;
	edge_opts opts = { 0 };
	static fl_config cfg;
	static fl_key key;
	fl_store *store = NULL;
	static char buf[1 << 16];
	char err[1024], prefix[48];
	char *end;

	while ((opt = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'k':
			check = 1;
			break;
		case 'r':
			replay = 1;
			break;
		case 's':
			opts.source = optarg;
			break;
		case 'e':
			events_out = optarg;
			break;
		case 'f':
			opts.fps = strtod(optarg, &end);
			if (*end || !(opts.fps > 0 && opts.fps <= 240)) {
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
			if (opt == 'T')
				opts.start_s = v;
			else
				opts.until_s = v;
			break;
		}
		case 'm':
			opts.model = optarg;
			break;
		case 'C':
			camera = optarg;
			break;
		case 'R':
			capture = optarg;
			break;
		case 'S':
			stats_out = optarg;
			break;
		case 'D':
			opts.decode_only = 1;
			break;
		case 'd':
			opts.debug_dir = optarg;
			break;
		case 'M':
			opts.state_dir = optarg;
			break;
		case 'P':
			fl_config_sample(buf, sizeof(buf));
			fputs(buf, stdout);
			return 0;
		case 'E':
			evidence_dir = optarg;
			break;
		case 'K':
			print_key = 1;
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
	if (!config || optind < argc) {
		usage(stderr);
		return 2;
	}
	if ((opts.start_s > 0 || opts.until_s > 0) && !replay) {
		fprintf(stderr,
			"firelane-edge: --start and --until need --replay\n");
		return 2;
	}
	if (opts.until_s > 0 && opts.until_s <= opts.start_s) {
		fprintf(stderr,
			"firelane-edge: --until %g must be after --start %g\n",
			opts.until_s, opts.start_s);
		return 2;
	}
	fl_log_set(fl_log_stderr, FL_LOG_WARN + verbose,
		   (void *)"firelane-edge");
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
	/* --state-dir overrides device.state_dir (the spool's start-up reads
	 * it there too); a replay has memory only with the option */
	if (opts.state_dir)
		snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s",
			 opts.state_dir);
	cam = find_camera(&cfg, camera);
	if (cam < 0) {
		fprintf(stderr, "firelane-edge: %s: no camera '%s'\n", config,
			camera);
		return 2;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	opts.start_wall = time(NULL);
	snprintf(prefix, sizeof(prefix), "%.20s-%lx", cfg.device_id,
		 (unsigned long)opts.start_wall);
	opts.id_prefix = prefix;
	if (!capture && !opts.decode_only) {
		open_evidence(&cfg,
			      evidence_dir ? evidence_dir : cfg.evidence.dir,
			      &store, &key);
		opts.store = store;
		opts.key = &key;
		warning_out = edge_warning_create(&cfg, opts.start_wall, err,
						  sizeof(err));
		if (!warning_out)
			fl_log(FL_LOG_ERROR, "warning",
			       "board: %s; the on-site "
			       "warning is OFF, detection goes on",
			       err);
	}
	if (replay || capture) {
		rc = run_one(&cfg, cam, &opts, events_out, stats_out, capture);
	} else {
		opts.realtime = 1;
		if (!opts.state_dir && cfg.state_dir[0])
			opts.state_dir = cfg.state_dir;
		rc = run_live(&cfg, config, &opts, store);
	}
	edge_warning_destroy(warning_out);
	fl_store_close(store);
	fl_key_wipe(&key);
	return rc;
}
