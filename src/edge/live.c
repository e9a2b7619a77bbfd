/*
 * live.c - firelane-edge's live mode: the camera threads and the control
 * loop (see live.h).
 *
 * A note on threads. Each camera runs in its own thread (cam_main): a live
 * source blocks in its decoder, paces a file at its frame rate, or waits to
 * reconnect, and one camera doing so must not hold up the others; on a 2-4
 * core device the cameras also decode in parallel. Up to 16 cameras make
 * 16 threads (and a record thread each with a record stream) on a box of
 * 2-4 cores, and that is still right: a camera thread spends most of its
 * time blocked on the network between two frames (a 25 fps sub-stream
 * decodes in a millisecond or two), so few are runnable at once and the
 * kernel's scheduler is the pool; a pool of our own would need a demuxer
 * that does not block (FFmpeg's blocks) and would let one camera's stall
 * hold up another's. When the cores do not suffice, each camera sheds
 * analysis on its own and says so ("overloaded", camera.c), which a pool
 * would have to do too. The control thread (the
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
 *   - snapshots: posted the same way, written by the camera thread (the
 *     frame, and the analysis mask when asked), answered by the control
 *     thread when done (with the pictures in the answer when asked
 *     inline);
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
 *
 * A configuration sent by the hub (the config command, apply.c) goes
 * further: lane settings are applied as a reload applies them, anything
 * else ends the loop as SIGTERM would and the program executes itself
 * again (EDGE_LIVE_RESTART), the apply carried across in a file beside the
 * configuration; the next process waits for the cameras it changed, then
 * answers, or rolls back.
 *
 * A note on the control loop. The process's main thread runs it, one turn
 * at most every 100 ms, as named phases (live_turn):
 *
 *   pump     the MQTT turn: spool out, commands and receipts in (it also
 *            paces the loop); without a broker, a 100 ms sleep
 *   reload   a SIGHUP re-reads the configuration
 *   answer   snapshots the camera threads have written
 *   apply    an apply across a restart: its cameras awaited, answered
 *   report   a heartbeat, when one is due
 *   watch    systemd's watchdog, fed while every camera thread progresses
 *
 * It ends on SIGTERM or SIGINT, for a restart, or once no camera thread
 * runs any more;
 * then the threads are joined and what the last frames spooled is given a
 * few seconds to reach the broker (live_drain). Intervals (heartbeat,
 * watchdog, uptime) are measured on the monotonic clock, so setting the
 * date cannot starve the watchdog; the heartbeat carries the wall clock.
 */
#include "live.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/timex.h>
#include <unistd.h>

#include "apply.h"
#include "clock.h"
#include "event_lines.h"
#include "file.h"
#include "fl.h"
#include "ids.h"
#include "publish.h"
#include "snapshot.h"
#include "systemd.h"
#include "yaml.h"

#define TURN_MS 100 /* the control loop's pace */

/* A camera's snapshot request, between the control thread (asks, answers)
 * and the camera thread (writes). */
enum snap_state {
	SNAP_NONE,    /* nothing asked */
	SNAP_ASKED,   /* the control thread asked; the camera thread writes */
	SNAP_WRITTEN, /* written to snap_path: answer ok */
	SNAP_FAILED   /* could not be written: answer snap_err */
};

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
	char snap_path[FL_PATH_MAX + 64]; /* requested snapshot */
	char mask_path[FL_PATH_MAX + 64]; /* ... its mask, "" for none */
	char snap_req[FL_CMD_REQ_MAX];
	enum snap_state snap_state;
	char snap_err[256];
	int snap_inline;  /* the picture goes into the answer */
	double snap_time; /* wall clock when written */
	int snap_w, snap_h;
	char open_err[512]; /* why the camera did not open, "" */
	int opened;         /* it did: a first frame came (stays set) */
	edge_stats stats;   /* copy of the camera's counters */
	int online;
};

struct live {
	fl_config *cfg; /* live configuration (lane settings change) */
	const char *config_path;
	const edge_opts *opts;
	volatile sig_atomic_t *stop;
	edge_publish *pub;
	struct cam_slot slots[FL_MAX_CAMERAS];
	fl_lane_conf shadow[FL_MAX_CAMERAS][FL_MAX_LANES];
	atomic_int quit;
	/* remote configuration (apply.c); control thread only */
	long version; /* applied remotely, 0: none */
	int pending;  /* an apply across a restart: pend */
	edge_pending pend;
	int restart; /* end the loop and execute ourselves again */
	/* The on-site warning is one object for all cameras, driven by one
	 * thread at a time: camera threads take warn_mu (recursive: a
	 * tick's WARNED event comes back through live_event) around every
	 * call into it. Order: warn_mu, then out_mu (stdout lines). */
	edge_warning *warning;
	pthread_mutex_t warn_mu;
	pthread_mutex_t out_mu;
	edge_lines lines; /* stdout, through the warning */
	/* control thread only */
	double start; /* monotonic */
	double next_hb, last_hb;
	edge_stats last[FL_MAX_CAMERAS]; /* figures at the last heartbeat */
	double wd, next_wd; /* watchdog interval (0: none), next feed */
	long beats[FL_MAX_CAMERAS];
	double moved[FL_MAX_CAMERAS]; /* when each thread last progressed */
};

static volatile sig_atomic_t reload_requested;

static void on_hup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

/* The live event sink: the MQTT publisher, then the warning and a JSON line
 * on stdout. Spooled first, so that an event anyone has seen (on stdout, or
 * from the loudspeaker) survives a power cut that follows. Any camera
 * thread. */
static void live_event(const fl_event *ev, void *user)
{
	struct live *L = user;

	if (L->pub)
		edge_publish_event(ev, L->pub);
	pthread_mutex_lock(&L->warn_mu);
	pthread_mutex_lock(&L->out_mu);
	edge_lines_event(ev, &L->lines);
	pthread_mutex_unlock(&L->out_mu);
	pthread_mutex_unlock(&L->warn_mu);
}

/* ---- the camera threads ------------------------------------------------- */

/* Camera thread, between two frames: apply what the control thread posted. */
static void cam_mailbox(struct live *L, struct cam_slot *s, edge_camera *c)
{
	fl_camera_conf *cc = &L->cfg->cameras[s->index];
	char path[sizeof(s->snap_path)], mpath[sizeof(s->mask_path)], err[256];
	int snap = 0, changed = 0, rc, w, h;

	pthread_mutex_lock(&s->mu);
	for (int l = 0; l < cc->nlanes; l++) {
		if (!s->lane_posted[l])
			continue;
		cc->lanes[l] = s->lane_new[l];
		s->lane_posted[l] = 0;
		changed = 1;
	}
	if (s->snap_state == SNAP_ASKED) {
		memcpy(path, s->snap_path, sizeof(path));
		memcpy(mpath, s->mask_path, sizeof(mpath));
		snap = 1;
	}
	pthread_mutex_unlock(&s->mu);
	if (changed) { /* new warn keys for the lanes' open incidents */
		pthread_mutex_lock(&L->warn_mu);
		edge_warning_reload(L->warning);
		pthread_mutex_unlock(&L->warn_mu);
	}
	if (!snap)
		return;
	rc = edge_camera_write_frame(c, path, err, sizeof(err));
	if (rc == 0 && mpath[0])
		rc = edge_camera_write_mask(c, mpath, err, sizeof(err));
	edge_camera_frame_size(c, &w, &h);
	pthread_mutex_lock(&s->mu);
	s->snap_time = fl_wall_s();
	s->snap_w = w;
	s->snap_h = h;
	s->snap_state = rc < 0 ? SNAP_FAILED : SNAP_WRITTEN;
	snprintf(s->snap_err, sizeof(s->snap_err), "%s", rc < 0 ? err : "");
	pthread_mutex_unlock(&s->mu);
}

/* Open the slot's camera; a live source that is down at start is tried
 * again after 5, 10, 20, then every 30 s (a camera refusing a wrong
 * password must not be knocked on every few seconds: many lock the
 * account after a handful of failures), a file that cannot be opened ends
 * the camera. NULL when it never opened (s->failed says whether that is a
 * failure). */
static edge_camera *cam_open(struct live *L, struct cam_slot *s)
{
	const fl_camera_conf *cc = &L->cfg->cameras[s->index];
	fl_stream_conf one;
	edge_camera *c;
	char err[1024];
	int wait_ds = 50; /* tenths of a second to the next attempt */

	while (!atomic_load(&L->quit)) {
		c = edge_camera_open(L->cfg, s->index, L->opts, live_event, L,
				     err, sizeof(err));
		if (c) {
			/* The first frame was just read: its video time maps
			 * to now (a file is paced from that frame on). */
			if (L->pub)
				edge_publish_camera_base(
					L->pub, s->index,
					fl_wall_s() - edge_camera_time(c));
			return c;
		}
		fl_log(FL_LOG_ERROR, "camera", "%s: %s", cc->id, err);
		pthread_mutex_lock(&s->mu);
		snprintf(s->open_err, sizeof(s->open_err), "%.500s", err);
		pthread_mutex_unlock(&s->mu);
		if (!strstr(fl_camera_detect(cc, &one)->url, "://") &&
		    strncmp(fl_camera_detect(cc, &one)->url, "/dev/", 5)) {
			atomic_store(&s->failed, 1);
			return NULL;
		}
		for (int i = 0; i < wait_ds && !atomic_load(&L->quit); i++)
			usleep(100000);
		wait_ds = wait_ds * 2 > 300 ? 300 : wait_ds * 2;
	}
	return NULL;
}

static void *cam_main(void *arg)
{
	struct cam_slot *s = arg;
	struct live *L = (struct live *)((char *)(s - s->index) -
					 offsetof(struct live, slots));
	const char *id = L->cfg->cameras[s->index].id;
	edge_camera *c = cam_open(L, s);
	char err[1024];
	int rc;

	pthread_mutex_lock(&s->mu);
	s->online = c != NULL;
	s->opened = c != NULL;
	pthread_mutex_unlock(&s->mu);
	while (c && !atomic_load(&L->quit)) {
		cam_mailbox(L, s, c);
		rc = edge_camera_step(c, err, sizeof(err));
		if (rc == 0) {
			pthread_mutex_lock(&L->warn_mu);
			edge_warning_tick(L->warning, id, edge_camera_time(c),
					  live_event, L);
			pthread_mutex_unlock(&L->warn_mu);
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
	edge_camera_close(c);
	pthread_mutex_lock(&s->mu);
	s->online = 0;
	pthread_mutex_unlock(&s->mu);
	atomic_store(&s->done, 1);
	return NULL;
}

/* ---- settings: commands and reload --------------------------------------- */

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

/*
 * Apply the lane settings of n (a configuration read again, or sent by the
 * hub) to the lanes whose id and polygon it keeps; what needs a restart is
 * logged (see the note on reload above). Returns the lanes applied.
 */
static int apply_lanes(struct live *L, const fl_config *n)
{
	const fl_config *o = L->cfg;
	int applied = 0;

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
		if (strcmp(nc->id, oc->id) || !fl_camera_same_streams(nc, oc) ||
		    nc->nlanes != oc->nlanes) {
			fl_log(FL_LOG_WARN, "reload",
			       "camera %s: id, source or lanes changed: that "
			       "needs a restart",
			       oc->id);
			continue;
		}
		for (int l = 0; l < nc->nlanes; l++) {
			if (!edge_lane_same_shape(&nc->lanes[l],
						  &oc->lanes[l])) {
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
	return applied;
}

/*
 * Re-read the configuration and apply the lane settings (see the note on
 * reload above). Returns 0, or -1 with the reason in err (nothing applied).
 */
static int reload(struct live *L, char *err, size_t errlen)
{
	fl_config *n = malloc(sizeof(*n));
	int applied, rc = -1;

	if (!n) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (fl_config_load(n, L->config_path, err, errlen) < 0)
		goto out;
	applied = apply_lanes(L, n);
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

/* ---- remote configuration (apply.c) -------------------------------------- */

/* A JSON string of s (any length), malloc'd, or NULL. */
static char *json_quoted(const char *s)
{
	size_t cap = strlen(s) * 6 + 3;
	char *q = malloc(cap);

	if (q && fl_json_string(s, q, cap) >= cap) {
		free(q);
		q = NULL;
	}
	return q;
}

/* config_get: the file as it is, its secrets masked, and the version
 * applied. */
static void config_get(struct live *L, const fl_command *cmd)
{
	char *text = NULL, *q = NULL, *detail = NULL, err[512];
	size_t len = 0, cap;

	if (edge_apply_masked(L->config_path, &text, &len, err, sizeof(err)) <
	    0) {
		edge_publish_answer(L->pub, cmd->req, "config_get", 0, err,
				    NULL);
		return;
	}
	q = json_quoted(text);
	cap = (q ? strlen(q) : 0) + 64;
	detail = q ? malloc(cap) : NULL;
	if (detail) {
		snprintf(detail, cap, "{\"version\": %ld, \"yaml\": %s}",
			 L->version, q);
		edge_publish_answer(L->pub, cmd->req, "config_get", 1, NULL,
				    detail);
	} else {
		edge_publish_answer(L->pub, cmd->req, "config_get", 0,
				    "out of memory", NULL);
	}
	free(detail);
	free(q);
	free(text);
}

/* Refuse a config command: "KEY: reason" (or "line N: reason"), and the
 * parts in the detail. */
static void config_refuse(struct live *L, const fl_command *cmd,
			  const edge_refusal *why)
{
	char error[700], detail[1400];
	char *k = json_quoted(why->key), *r = json_quoted(why->reason);

	if (why->key[0])
		snprintf(error, sizeof(error), "%s: %s", why->key, why->reason);
	else if (why->line)
		snprintf(error, sizeof(error), "line %d: %s", why->line,
			 why->reason);
	else
		snprintf(error, sizeof(error), "%s", why->reason);
	snprintf(detail, sizeof(detail),
		 "{\"key\": %s, \"line\": %d, \"reason\": %s}", k ? k : "\"\"",
		 why->line, r ? r : "\"\"");
	fl_log(FL_LOG_WARN, "apply", "version %ld refused: %s", cmd->version,
	       error);
	edge_publish_answer(L->pub, cmd->req, "config", 0, error, detail);
	free(k);
	free(r);
}

/* The config command: check, write, then apply in place or restart
 * (apply.c has the model). Answered here, or after the restart. */
static void config_command(struct live *L, const fl_command *cmd)
{
	fl_config *n = malloc(sizeof(*n));
	char *text = malloc(cmd->text_size + 1), err[1024], detail[128];
	char *own = NULL;
	edge_refusal why;
	edge_diff d;
	size_t len;

	if (!n || !text) {
		edge_publish_answer(L->pub, cmd->req, "config", 0,
				    "out of memory", NULL);
		goto out;
	}
	if (L->pending) {
		snprintf(err, sizeof(err),
			 "version %ld is being applied; try again when it "
			 "is answered",
			 L->pend.version);
		edge_publish_answer(L->pub, cmd->req, "config", 0, err, NULL);
		goto out;
	}
	len = fl_command_text(cmd, text, cmd->text_size + 1);
	if (len == (size_t)-1) {
		edge_publish_answer(L->pub, cmd->req, "config", 0,
				    "yaml: cannot be decoded", NULL);
		goto out;
	}
	/* the hub has the secrets masked: the device's own go back in */
	if (edge_apply_unmask(L->config_path, text, len, &own, &len, err,
			      sizeof(err))) {
		memset(&why, 0, sizeof(why));
		snprintf(why.reason, sizeof(why.reason), "%.500s", err);
		config_refuse(L, cmd, &why);
		goto out;
	}
	free(text);
	text = own;
	if (edge_apply_check(L->cfg, L->config_path, text, len, n, &why)) {
		config_refuse(L, cmd, &why);
		goto out;
	}
	edge_apply_diff(L->cfg, n, &d);
	if (edge_apply_write(L->config_path, text, len, err, sizeof(err))) {
		fl_log(FL_LOG_ERROR, "apply", "%s", err);
		edge_publish_answer(L->pub, cmd->req, "config", 0, err, NULL);
		goto out;
	}
	if (!d.restart) {
		int applied = apply_lanes(L, n);

		if (edge_apply_set_version(L->config_path, cmd->version, err,
					   sizeof(err)))
			fl_log(FL_LOG_ERROR, "apply", "%s", err);
		L->version = cmd->version;
		fl_log(FL_LOG_WARN, "apply",
		       "version %ld applied in place (%d lane(s))",
		       cmd->version, applied);
		snprintf(detail, sizeof(detail),
			 "{\"version\": %ld, \"applied\": \"in place\"}",
			 cmd->version);
		edge_publish_answer(L->pub, cmd->req, "config", 1, NULL,
				    detail);
		goto out;
	}
	memset(&L->pend, 0, sizeof(L->pend));
	snprintf(L->pend.req, sizeof(L->pend.req), "%s", cmd->req);
	L->pend.version = cmd->version;
	L->pend.previous = L->version;
	L->pend.ncams = d.ncams;
	memcpy(L->pend.cams, d.cams, sizeof(d.cams));
	L->pend.mqtt = d.mqtt;
	if (edge_pending_write(L->config_path, &L->pend, err, sizeof(err))) {
		/* no restart without the means to answer and roll back */
		fl_log(FL_LOG_ERROR, "apply", "%s", err);
		edge_publish_answer(L->pub, cmd->req, "config", 0, err, NULL);
		if (edge_apply_restore(L->config_path, err, sizeof(err)))
			fl_log(FL_LOG_ERROR, "apply", "%s", err);
		goto out;
	}
	fl_log(FL_LOG_WARN, "apply",
	       "version %ld changes more than lane settings: restarting",
	       cmd->version);
	L->pending = 1;
	L->restart = 1;
out:
	free(text);
	free(n);
}

/* A command that names an existing camera and lane (publish.c checked);
 * called inside edge_publish_run(), on the control thread. */
static void on_command(const fl_command *cmd, void *user)
{
	struct live *L = user;
	const char *name = fl_command_name(cmd->kind);
	int cam = edge_camera_index(L->cfg, cmd->camera);
	int lane = edge_lane_index(L->cfg, cam, cmd->lane);
	char detail[512], err[512];
	fl_lane_conf *sh;

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
		busy = s->snap_state == SNAP_ASKED;
		if (!busy) {
			snprintf(s->snap_path, sizeof(s->snap_path),
				 "%s/snapshot-%s.jpg",
				 edge_publish_spool_dir(L->pub), cmd->camera);
			s->mask_path[0] = '\0';
			if (cmd->mask)
				snprintf(s->mask_path, sizeof(s->mask_path),
					 "%s/snapshot-%s-mask.png",
					 edge_publish_spool_dir(L->pub),
					 cmd->camera);
			snprintf(s->snap_req, sizeof(s->snap_req), "%s",
				 cmd->req);
			s->snap_inline = cmd->inline_pic;
			s->snap_state = SNAP_ASKED;
		}
		pthread_mutex_unlock(&s->mu);
		if (busy)
			edge_publish_answer(L->pub, cmd->req, name, 0,
					    "a snapshot is already being taken",
					    NULL);
		return; /* answered by live_answer() once written */
	}
	case FL_CMD_WARN: {
		int r;

		/* Given at the camera's next tick (src/edge/warning.c). */
		pthread_mutex_lock(&L->warn_mu);
		r = edge_warning_trigger(L->warning, cmd->camera, cmd->lane, 0);
		pthread_mutex_unlock(&L->warn_mu);
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
	case FL_CMD_CONFIG:
		config_command(L, cmd);
		return;
	case FL_CMD_CONFIG_GET:
		config_get(L, cmd);
		return;
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

/* ---- the control loop's phases ------------------------------------------- */

/* pump: the MQTT turn, which paces the loop (at most TURN_MS). */
static void live_pump(struct live *L)
{
	if (L->pub)
		edge_publish_run(L->pub, TURN_MS);
	else
		usleep(TURN_MS * 1000);
}

/* reload: what SIGHUP asked for. */
static void live_reload(struct live *L)
{
	char err[1024];

	if (!reload_requested)
		return;
	reload_requested = 0;
	fl_sd_notify("RELOADING=1");
	if (reload(L, err, sizeof(err)) < 0)
		fl_log(FL_LOG_ERROR, "reload",
		       "%s; the running configuration is kept", err);
	fl_sd_notify("READY=1");
}

/* answer: snapshots the camera threads have written (or could not). */
static void live_answer(struct live *L)
{
	for (int c = 0; L->pub && c < L->cfg->ncameras; c++) {
		struct cam_slot *s = &L->slots[c];
		char detail[2 * FL_PATH_MAX + 256], req[FL_CMD_REQ_MAX],
			err[256];
		char path[sizeof(s->snap_path)], mpath[sizeof(s->mask_path)];
		char *pic = NULL;
		enum snap_state st;
		int gone, inl = 0, w = 0, h = 0;
		double t = 0;

		pthread_mutex_lock(&s->mu);
		st = s->snap_state;
		gone = st == SNAP_ASKED && atomic_load(&s->done);
		if (st == SNAP_WRITTEN || st == SNAP_FAILED || gone) {
			/* the mask's path too when it was asked for */
			snprintf(detail, sizeof(detail),
				 "{\"path\": \"%s\"%s%s%s}", s->snap_path,
				 s->mask_path[0] ? ", \"mask\": \"" : "",
				 s->mask_path, s->mask_path[0] ? "\"" : "");
			memcpy(req, s->snap_req, sizeof(req));
			memcpy(path, s->snap_path, sizeof(path));
			memcpy(mpath, s->mask_path, sizeof(mpath));
			snprintf(err, sizeof(err), "%s",
				 gone ? "the camera has stopped" : s->snap_err);
			inl = s->snap_inline;
			t = s->snap_time;
			w = s->snap_w;
			h = s->snap_h;
			s->snap_state = SNAP_NONE;
		}
		pthread_mutex_unlock(&s->mu);
		if (st == SNAP_WRITTEN && inl) {
			pic = edge_snapshot_inline(L->cfg->cameras[c].id, path,
						   mpath, t, w, h, err,
						   sizeof(err));
			if (!pic)
				st = SNAP_FAILED;
		}
		if (st == SNAP_WRITTEN)
			edge_publish_answer(L->pub, req, "snapshot", 1, NULL,
					    pic ? pic : detail);
		else if (st == SNAP_FAILED || gone)
			edge_publish_answer(L->pub, req, "snapshot", 0, err,
					    NULL);
		free(pic);
	}
}

/* Put the previous file back and restart into it; the next process answers
 * the hub with why (head: what failed, "camera CAM: ... within N s"). */
static void roll_back(struct live *L, const char *head)
{
	char err[512];

	L->pend.rollback = 1;
	snprintf(L->pend.error, sizeof(L->pend.error),
		 "%.400s; rolled back to version %ld", head, L->pend.previous);
	if (edge_apply_restore(L->config_path, err, sizeof(err)) ||
	    edge_pending_write(L->config_path, &L->pend, err, sizeof(err))) {
		/* we stay as we are, and say so (live_apply answers) */
		snprintf(L->pend.error, sizeof(L->pend.error),
			 "%.300s; could not roll back: %.150s", head, err);
		fl_log(FL_LOG_ERROR, "apply", "version %ld: %s",
		       L->pend.version, L->pend.error);
		return;
	}
	fl_log(FL_LOG_ERROR, "apply", "version %ld: %s", L->pend.version,
	       L->pend.error);
	L->restart = 1;
}

/*
 * At start: an apply that spans this restart (apply.c), or none. Its first
 * start sets the deadline. A start that finds the deadline passed and the
 * apply not answered follows one that did not get that far (it crashed,
 * or the power went): the apply is rolled back before any camera starts.
 */
static void live_pending(struct live *L)
{
	char err[512], head[256];

	if (edge_pending_read(L->config_path, &L->pend) < 0)
		return;
	L->pending = 1;
	if (L->pend.rollback)
		return;
	if (L->pend.deadline <= 0) {
		L->pend.deadline = fl_wall_s() + L->cfg->apply_timeout_s;
		if (edge_pending_write(L->config_path, &L->pend, err,
				       sizeof(err)))
			fl_log(FL_LOG_ERROR, "apply", "%s", err);
	} else if (fl_wall_s() > L->pend.deadline) {
		snprintf(head, sizeof(head),
			 "the edge did not run with it for %.0f s",
			 L->cfg->apply_timeout_s);
		roll_back(L, head);
	}
}

/* 1 when every camera the apply waits for has delivered a frame, 0 while
 * one may still, -1 when one has not by the deadline or has ended (what
 * happened into head, for roll_back). */
static int cameras_up(struct live *L, char *head, size_t headlen)
{
	int all = 1;

	for (int i = 0; i < L->pend.ncams && all >= 0; i++) {
		int c = edge_camera_index(L->cfg, L->pend.cams[i]);
		struct cam_slot *s;

		if (c < 0)
			continue; /* not in this file: nothing to wait for */
		s = &L->slots[c];
		pthread_mutex_lock(&s->mu);
		if (s->opened) {
			/* up */
		} else if (atomic_load(&s->done) ||
			   fl_wall_s() > L->pend.deadline) {
			snprintf(head, headlen,
				 "camera %s: %.300s within %.0f s",
				 L->pend.cams[i],
				 s->open_err[0] ? s->open_err : "no frame",
				 L->cfg->apply_timeout_s);
			all = -1;
		} else {
			all = 0;
		}
		pthread_mutex_unlock(&s->mu);
	}
	return all;
}

/*
 * apply: the end of an apply across a restart. Rolled back: answer the
 * error. Else, once every camera named has delivered a frame (and the
 * broker is reached, when the way to it changed), remember the version
 * and answer ok; when not by the deadline (or a camera has ended for
 * good), roll back. Answers wait for the broker.
 */
static void live_apply(struct live *L)
{
	char detail[128], err[512], head[512];
	int up;

	if (!L->pending || !L->pub)
		return;
	if (!L->pend.rollback) {
		up = cameras_up(L, head, sizeof(head));
		if (up > 0 && L->pend.mqtt && !edge_publish_connected(L->pub) &&
		    fl_wall_s() > L->pend.deadline) {
			snprintf(head, sizeof(head),
				 "mqtt: no connection to the broker %s within "
				 "%.0f s",
				 L->cfg->mqtt.host, L->cfg->apply_timeout_s);
			up = -1;
		}
		if (up < 0) {
			roll_back(L, head);
			return;
		}
		if (up == 0)
			return; /* still waiting */
	}
	if (!edge_publish_connected(L->pub))
		return;
	if (L->pend.rollback) {
		edge_publish_answer(L->pub, L->pend.req, "config", 0,
				    L->pend.error, NULL);
	} else {
		if (edge_apply_set_version(L->config_path, L->pend.version, err,
					   sizeof(err)))
			fl_log(FL_LOG_ERROR, "apply", "%s", err);
		L->version = L->pend.version;
		fl_log(FL_LOG_WARN, "apply", "version %ld applied (restart)",
		       L->version);
		snprintf(detail, sizeof(detail),
			 "{\"version\": %ld, \"applied\": \"restart\"}",
			 L->version);
		edge_publish_answer(L->pub, L->pend.req, "config", 1, NULL,
				    detail);
	}
	edge_pending_clear(L->config_path);
	L->pending = 0;
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

/* report: when one is due, build and spool a heartbeat from the slots'
 * figures since the last. */
static void live_report(struct live *L)
{
	fl_camera_health ch[FL_MAX_CAMERAS];
	fl_health h = { 0 };
	struct statvfs vfs;
	double now = fl_mono_s(), dt = now - L->last_hb;

	if (!L->pub || now < L->next_hb)
		return;
	for (int c = 0; c < L->cfg->ncameras; c++) {
		struct cam_slot *s = &L->slots[c];
		edge_stats st;
		int online;

		pthread_mutex_lock(&s->mu);
		st = s->stats;
		online = s->online && !atomic_load(&s->done);
		pthread_mutex_unlock(&s->mu);
		ch[c].id = L->cfg->cameras[c].id;
		ch[c].fps = dt > 0 ? (double)(st.frames - L->last[c].frames) /
					     dt
				   : 0;
		ch[c].load = dt > 0 ? (st.analysis_s - L->last[c].analysis_s) /
					      dt
				    : 0;
		ch[c].online = online;
		ch[c].cpu = dt > 0 ? (st.cpu_s - L->last[c].cpu_s) / dt : 0;
		ch[c].decoded = st.frames;
		ch[c].analysed = st.analysed;
		ch[c].skipped = st.skipped;
		ch[c].lag_s = st.lag_s;
		ch[c].overloaded = st.overloaded;
		L->last[c] = st;
	}
	L->last_hb = now;
	h.wall_time = fl_wall_s();
	h.uptime_s = now - L->start;
	h.cameras = ch;
	h.ncameras = (size_t)L->cfg->ncameras;
	h.disk_free_mb = statvfs(edge_publish_spool_dir(L->pub), &vfs) == 0
				 ? (double)vfs.f_bavail * (double)vfs.f_frsize /
					   1048576.0
				 : -1;
	h.clock_synced = clock_synced();
	h.config_version = L->version;
	edge_publish_heartbeat(L->pub, &h);
	L->next_hb = fl_mono_s() + L->cfg->mqtt.heartbeat_s;
}

/* How many camera threads still run. */
static int live_running(struct live *L)
{
	int running = 0;

	for (int c = 0; c < L->cfg->ncameras; c++)
		running += L->slots[c].started &&
			   !atomic_load(&L->slots[c].done);
	return running;
}

/*
 * watch: feed systemd's watchdog only while every running camera thread
 * makes progress (a step returns at least every few tens of ms, even while
 * a stream is being reconnected): a thread stuck for 2 watchdog periods
 * lets systemd restart us.
 */
static void live_watch(struct live *L)
{
	int stuck = 0;

	if (L->wd <= 0 || fl_mono_s() < L->next_wd)
		return;
	for (int c = 0; c < L->cfg->ncameras; c++) {
		long b = atomic_load(&L->slots[c].beats);

		if (b != L->beats[c] || atomic_load(&L->slots[c].done)) {
			L->beats[c] = b;
			L->moved[c] = fl_mono_s();
		} else if (fl_mono_s() - L->moved[c] > 4 * L->wd) {
			stuck++;
		}
	}
	if (!stuck)
		fl_sd_notify("WATCHDOG=1");
	else
		fl_log(FL_LOG_ERROR, "systemd",
		       "%d camera thread(s) stuck: watchdog not fed", stuck);
	L->next_wd = fl_mono_s() + L->wd;
}

/* One turn of the control loop. 0 to go on, FL_EEOF when the live mode
 * ends (a stop signal, or no camera thread left). */
static int live_turn(struct live *L)
{
	live_pump(L);
	if (*L->stop || atomic_load(&L->quit) || L->restart)
		return FL_EEOF;
	live_reload(L);
	live_answer(L);
	live_apply(L);
	live_report(L);
	if (!live_running(L))
		return FL_EEOF;
	live_watch(L);
	return 0;
}

/* ---- start and end -------------------------------------------------------- */

/* Set L up from a: the publisher (started) and the locks. 0, or the exit
 * status 1 (the reason on stderr). */
static int live_init(struct live *L, const edge_live_args *a)
{
	pthread_mutexattr_t ma;
	char err[1024];

	memset(L, 0, sizeof(*L));
	L->cfg = a->cfg;
	L->config_path = a->config_path;
	L->opts = a->opts;
	L->stop = a->stop;
	L->warning = a->warning;
	L->lines = (edge_lines){ stdout, a->warning };
	L->version = edge_apply_version(L->config_path);
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&L->warn_mu, &ma);
	pthread_mutexattr_destroy(&ma);
	pthread_mutex_init(&L->out_mu, NULL);
	for (int c = 0; c < L->cfg->ncameras; c++)
		for (int l = 0; l < L->cfg->cameras[c].nlanes; l++)
			L->shadow[c][l] = L->cfg->cameras[c].lanes[l];
	L->start = L->last_hb = fl_mono_s();
	L->next_hb = L->start + L->cfg->mqtt.heartbeat_s;
	L->wd = fl_sd_watchdog_s();
	for (int c = 0; c < FL_MAX_CAMERAS; c++)
		L->moved[c] = L->start;
	live_pending(L);
	if (L->cfg->mqtt.host[0] && !L->restart) {
		L->pub = edge_publish_create(L->cfg, a->store, on_command, L,
					     err, sizeof(err));
		if (!L->pub && L->pending && !L->pend.rollback) {
			/* a configuration from the hub that cannot reach
			 * it: back to the one that could */
			char head[600];

			snprintf(head, sizeof(head), "mqtt: %.500s", err);
			roll_back(L, head);
		}
		if (!L->pub && !L->restart) {
			fprintf(stderr, "firelane-edge: %s\n", err);
			return 1;
		}
		if (L->pub)
			edge_publish_start(L->pub);
	}
	return 0;
}

/* Start a thread per camera. 0, or 1 when one could not be started (the
 * others stop again). */
static int live_start_cameras(struct live *L)
{
	for (int c = 0; c < L->cfg->ncameras; c++) {
		struct cam_slot *s = &L->slots[c];

		s->index = c;
		pthread_mutex_init(&s->mu, NULL);
		if (pthread_create(&s->thread, NULL, cam_main, s) != 0) {
			fprintf(stderr,
				"firelane-edge: cannot start a thread\n");
			atomic_store(&L->quit, 1);
			return 1;
		}
		s->started = 1;
	}
	return 0;
}

/* Stop and join the camera threads. 1 when one of them failed, else 0. */
static int live_join_cameras(struct live *L)
{
	int rc = 0;

	atomic_store(&L->quit, 1);
	for (int c = 0; c < L->cfg->ncameras; c++) {
		if (L->slots[c].started)
			pthread_join(L->slots[c].thread, NULL);
		if (atomic_load(&L->slots[c].failed))
			rc = 1;
	}
	return rc;
}

/* Deliver what the last frames spooled (up to 5 s while connected; what
 * is left stays on disk), then say stopped and close the publisher. */
static void live_drain(struct live *L)
{
	if (!L->pub)
		return;
	for (int i = 0; i < 100; i++) {
		long n, dropped, refused;
		double bytes;

		edge_publish_run(L->pub, 50);
		edge_publish_spool_stats(L->pub, &n, &bytes, &dropped,
					 &refused);
		if (n == 0 || (!edge_publish_connected(L->pub) && i >= 20))
			break;
	}
	edge_publish_stop(L->pub, 3000);
	edge_publish_destroy(L->pub);
	L->pub = NULL;
}

static void live_free(struct live *L)
{
	for (int c = 0; c < L->cfg->ncameras; c++)
		pthread_mutex_destroy(&L->slots[c].mu);
	pthread_mutex_destroy(&L->out_mu);
	pthread_mutex_destroy(&L->warn_mu);
}

int edge_live_run(const edge_live_args *a)
{
	static struct live L; /* large; its address is the threads' */
	int rc;

	if (live_init(&L, a))
		return 1;
	signal(SIGHUP, on_hup);
	rc = L.restart ? 0 : live_start_cameras(&L);
	fl_sd_notify("READY=1\nSTATUS=running");
	while (live_turn(&L) == 0)
		;
	fl_sd_notify(L.restart ? "RELOADING=1" : "STOPPING=1");
	rc |= live_join_cameras(&L);
	live_drain(&L);
	live_free(&L);
	return L.restart ? EDGE_LIVE_RESTART : rc;
}

int edge_live_restart(char **argv)
{
	fl_log(FL_LOG_WARN, "apply",
	       "restarting for a configuration sent by the hub");
	fflush(stdout);
	fflush(stderr);
	execv("/proc/self/exe", argv);
	fl_log(FL_LOG_ERROR, "apply", "cannot restart: %s", strerror(errno));
	return 1;
}
