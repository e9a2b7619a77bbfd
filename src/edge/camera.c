/*
 * camera.c - one camera's pipeline: capture -> analyse -> assess -> act ->
 * pace, the table of contents of the edge (after Motion's camera loop).
 *
 *   capture  decode the next frame (luma plane, no colour conversion); a
 *            live camera whose stream is lost is reconnected with backoff
 *            and reported as camera_offline / camera_online (reconnect());
 *   analyse  at the analysis rate, downscale the luma to ~320 px and feed
 *            the per-pixel model of objects at rest (src/detect/still.c)
 *            and the health checks (src/detect/health.c: frozen, covered,
 *            moved), whose changes go out as health events;
 *   assess   turn its blobs into sightings per lane (how much of each blob
 *            lies in the lane, what class it is) and run each lane's
 *            incident state machine (src/core/lane.c);
 *   remember with a state folder, what must survive a restart (the clear
 *            lane, open incidents) goes to the camera's memory
 *            (src/edge/state.c, docs/memory.md);
 *   act      the lanes' events go to the sink the program installed and to
 *            the evidence writer (src/evidence/writer.c), which then, on
 *            every frame, takes the scene images that are due and seals
 *            complete bundles; its pre-roll ring gets every compressed
 *            packet from the source's tap - or, for a camera with a record
 *            stream (src/edge/record.c), from that stream (a live one read
 *            by its own thread, never waited for here; a file read up to
 *            the frame's time here), and the images are decoded from it at
 *            full resolution; the lanes, drawn in record pixels, are then
 *            a scaled copy of the config's (lanes_scale);
 *   pace     files in live mode are paced at their frame rate by the source.
 *
 * A note on overload. In live mode every frame is decoded (the decoder
 * cannot skip without losing the stream), but a camera whose frames come
 * late analyses fewer of them rather than falling further behind. Its lag
 * is how far a frame comes behind the stream: the wall time of its
 * arrival minus the earliest arrival time of video time 0 plus its video
 * time (the earliest: the stream's own pace, whatever came in bursts). A
 * frame due for analysis while the lag exceeds LAG_BOUND_S is skipped and
 * counted (edge_stats.skipped), unless no frame has been analysed for
 * ANALYSIS_FLOOR_S of video time: the lanes and their clocks go on at that
 * rate at least, so an obstruction still alarms. Lagging again and again
 * for OVERLOAD_RAISE_S raises the health condition "overloaded" (the
 * largest lag in the log line), and OVERLOAD_CLEAR_S without lagging
 * clears it (docs/health.md). A file paced in live mode is re-based by the
 * source once more than a second behind (src/media/source.c, pace()): the
 * camera's anchor follows it there, else the file's lag could never fall
 * again; a reconnected stream is a new session and anchors afresh; and a
 * camera whose clock runs slow against ours is allowed for (CLOCK_DRIFT).
 * Replay analyses every due frame.
 *
 * Classes come from an optional dnn detector (config detect.model or
 * --model) run on a blob's region at most every model_interval_s, or, with
 * no model, from OpenCV's HOG people detector, so that people standing still
 * are not taken for obstructions. With a model, objects already standing in
 * a lane at start are seeded as at rest from time zero; with a clear-lane
 * reference image the per-pixel model finds them itself.
 */
#include "camera.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "fl.h"
#include "geom.h"
#include "health.h"
#include "record.h"
#include "scale.h"
#include "source.h"
#include "state.h"
#include "still.h"
#include "vision.h"

#define MAX_CACHE 32
#define MAX_DET 64

/* What we learnt about the class of an object at rest, and when. An object
 * is its place and its rest start: a car that parks where a person stood
 * is another object and must be classified afresh. */
typedef struct class_memo {
	double box[4]; /* analysis pixels */
	double since;  /* the object's rest start */
	int cls;
	double t;
} class_memo;

#define MEMO_SINCE_S 3.0 /* rest starts this close: the same object */
/* After the start, the model looks for objects already standing in the
 * lanes every model_interval_s for this long: a car that was driving when
 * analysis began and parks seconds later is as much "there at start" as
 * one that stood already. */
#define STARTUP_SEED_S 10.0
/* Objects may rest within this fraction of the analysis width of a lane. */
#define ROI_GROW 0.08
/* After a restart, an incident held in memory is expected back at rest
 * within this long (plus twice rest_s): a truck passing at that moment may
 * hide it for a few seconds. */
#define STATE_GRACE_S 10.0
/* Day or night (for which clear lane to remember) is looked at this often:
 * a picture darker than NIGHT_LUMA or greyer than NIGHT_COLOUR (an IR
 * camera at night) is night. */
#define NIGHT_CHECK_S 30.0
#define NIGHT_LUMA 50.0
#define NIGHT_COLOUR 4.0
#define UNKNOWN_RETRY_S 1.0 /* ask again this soon when the class was unknown */

struct edge_camera {
	const fl_config *cfg;
	const fl_camera_conf *conf; /* the config's, or own */
	fl_camera_conf *own; /* lanes in detect pixels (lanes_scale) or NULL */
	int cam;             /* index in cfg */
	double kx, ky;       /* detect pixels per record pixel */
	int rw, rh;       /* the record picture's size (lanes' space), or 0 */
	edge_record *rec; /* the record stream, or NULL */
	int rec_refused;  /* ... found late at a size the lanes do not fit */
	double last_frame_mono; /* when the last frame came, 0: offline */
	double mono0; /* monotonic time of detect video time 0 (earliest) */
	edge_opts opts;
	fl_source *src;
	fl_frame frame;
	int aw, ah;    /* analysis size */
	double sx, sy; /* source pixels per analysis pixel */
	uint8_t *small;
	uint8_t *lane_bits;     /* bit i: pixel in lane i */
	uint8_t *roi, *roi_tmp; /* where objects may rest (roi_init()) */
	fl_still *still;
	fl_lane lanes[FL_MAX_LANES];
	fl_detector *det;
	fl_people *people;
	uint8_t *bgr; /* full frame BGR, converted on demand */
	int64_t bgr_index;
	double step, next_t;
	int pending; /* a decoded frame not yet processed */
	class_memo memo[MAX_CACHE];
	int nmemo;
	fl_event_fn emit;
	void *user;
	double t0;        /* video time of the first analysed frame */
	double next_seed; /* when the model looks for resting objects next */
	fl_evidence_writer *evidence; /* NULL: no evidence */
	edge_state *state;            /* memory across restarts, or NULL */
	uint8_t *resting;  /* analysis size: what rests, for the memory */
	int night;         /* the picture is dark or grey now */
	double night_t;    /* when that was last looked at */
	int finished;      /* end of input seen: evidence closed */
	fl_health *health; /* frozen / covered / moved, or NULL */
	int live;          /* a live source in live mode: reconnects */
	struct {
		int lost;         /* no stream now: reconnecting */
		int offline_sent; /* camera_offline went out */
		int attempts;     /* failed reconnects in a row */
		double since;     /* monotonic time of the loss */
		double next_try;  /* monotonic time of the next attempt */
		double last_t;    /* video time of the last frame */
		double last_mono; /* ... and its monotonic time */
		char why[512];    /* what the read said */
		unsigned rng;     /* jitter */
	} link;
	struct {
		double anchor;  /* earliest mono - video time: the stream */
		double last_a;  /* video time of the last analysed frame */
		double since;   /* mono time lagging began, 0: keeping up */
		double last;    /* mono time of the last late frame */
		double lag_max; /* the largest lag since `since` */
		int rebase;     /* a reconnect: the next frame anchors */
		double at;      /* mono time of the last frame measured */
		long skipped0;  /* skipped when `since` began */
	} over;
	edge_stats stats;
};

/* Overload (the note at the top): a frame later than this is late, ... */
#define LAG_BOUND_S 0.5
/* ... its analysis is skipped unless none was this long (video time) ... */
#define ANALYSIS_FLOOR_S 1.0
/* ... late frames over this long (wall) raise "overloaded", ... */
#define OVERLOAD_RAISE_S 3.0
/* ... and this long without one clear it. */
#define OVERLOAD_CLEAR_S 10.0
/* A file paced in live mode this far behind is re-based by its source. */
#define PACE_REBASE_S 1.0
/* A camera's clock runs slow against ours by up to about 100 ppm (its
 * crystal), which would add 0.36 s of lag an hour, for ever: while frames
 * come on time (lag under LAG_ON_TIME_S) the anchor may rise by twice that
 * rate; an earlier frame pulls it down again at once. */
#define CLOCK_DRIFT 2e-4
#define LAG_ON_TIME_S 0.1

/* Reconnect backoff: 1, 2, 4 ... RECONNECT_MAX_S seconds, +-20 % jitter. */
#define RECONNECT_MAX_S 30.0
#define RECONNECT_JITTER 0.2
/* While waiting for the next attempt a step sleeps at most this long, so a
 * device whose only camera is down does not spin, and the other cameras of
 * the loop are delayed by no more than this. */
#define OFFLINE_NAP_S 0.01
/* At a live stop (SIGTERM, a restart) a clip still being re-encoded is
 * waited for this long, then cut (fl_evidence_writer_finish): systemd
 * gives the whole stop TimeoutStopSec=15 s (systemd/firelane-edge.service.in),
 * and the threads, the seal and the MQTT drain come after. */
#define CLIP_STOP_WAIT_S 4.0
/* A loss after this long without a frame is reported before reconnecting. */
#define STALL_S 5.0

/* Analysis size: detect.analysis_width, never wider than the source. */
static void analysis_size(edge_camera *c, int w, int h)
{
	int aw = FL_MIN(c->cfg->detect.analysis_width, w);

	c->aw = aw;
	c->ah = (int)lround((double)h * aw / w);
	c->sx = (double)w / c->aw;
	c->sy = (double)h / c->ah;
}

/*
 * Lanes drawn on the record picture, in detect pixels: the camera's own
 * copy of its config with the points scaled, taken again before each
 * analysis so that lane settings reloaded into the config (dwell_s,
 * disabled, ...) reach it. Shapes never change at reload (live.c).
 */
static void lanes_scale(edge_camera *c)
{
	const fl_camera_conf *cc = &c->cfg->cameras[c->cam];

	if (!c->own)
		return;
	memcpy(c->own->lanes, cc->lanes, sizeof(cc->lanes));
	for (int l = 0; l < cc->nlanes; l++)
		for (int i = 0; i < cc->lanes[l].npoints; i++) {
			c->own->lanes[l].points[i].x *= c->kx;
			c->own->lanes[l].points[i].y *= c->ky;
		}
}

/*
 * Where objects may come to rest: the lanes, grown by ROI_GROW of the
 * analysis width every way (a car standing in a lane rises above its far
 * edge and spills over its sides), so that nothing far from any lane (a
 * cloud's shade on a lawn, a bay across the road) becomes an object that
 * could join one in a lane.
 */
static void roi_init(edge_camera *c)
{
	int r = FL_MAX(4, (int)lround(ROI_GROW * c->aw));
	int w = c->aw, h = c->ah;

	/* dilation by a square, separably: rows, then columns */
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int any = 0;
			for (int xx = FL_MAX(0, x - r);
			     xx <= FL_MIN(w - 1, x + r) && !any; xx++)
				any = c->lane_bits[(size_t)y * w + xx] != 0;
			c->roi_tmp[(size_t)y * w + x] = (uint8_t)any;
		}
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int any = 0;
			for (int yy = FL_MAX(0, y - r);
			     yy <= FL_MIN(h - 1, y + r) && !any; yy++)
				any = c->roi_tmp[(size_t)yy * w + x];
			c->roi[(size_t)y * w + x] = (uint8_t)any;
		}
	fl_still_set_roi(c->still, c->roi);
}

static int lanes_init(edge_camera *c, char *err, size_t errlen)
{
	uint8_t *mask = malloc((size_t)c->aw * (size_t)c->ah);

	if (!mask) {
		snprintf(err, errlen, "out of memory");
		return FL_ENOMEM;
	}
	/* Lane ids are unique within a camera only: on a device with several
	 * cameras the camera goes into the incident ids (its index where
	 * its id would not fit), or two cameras' lane-a would share them. */
	char prefix[sizeof(c->lanes[0].id_prefix)];
	const char *idp = c->opts.id_prefix;

	if (c->cfg->ncameras > 1) {
		if ((size_t)snprintf(prefix, sizeof(prefix), "%s-%s", idp,
				     c->conf->id) >= sizeof(prefix))
			snprintf(prefix, sizeof(prefix), "%s-c%d", idp, c->cam);
		idp = prefix;
	}
	for (int i = 0; i < c->conf->nlanes; i++) {
		const fl_lane_conf *l = &c->conf->lanes[i];
		fl_lane_init(&c->lanes[i], l, c->conf->id, idp);
		fl_poly_mask(l->points, l->npoints, 1.0 / c->sx, 1.0 / c->sy,
			     mask, c->aw, c->ah);
		for (size_t k = 0; k < (size_t)c->aw * (size_t)c->ah; k++)
			if (mask[k])
				c->lane_bits[k] |= (uint8_t)(1u << i);
	}
	free(mask);
	roi_init(c);
	return 0;
}

static const uint8_t *frame_bgr(edge_camera *c)
{
	if (c->bgr_index != c->frame.index) {
		fl_frame_bgr(&c->frame, c->bgr);
		c->bgr_index = c->frame.index;
	}
	return c->bgr;
}

static const uint8_t *frame_bgr_fn(void *user)
{
	return frame_bgr(user);
}

/* The camera's event fan-out: the program's sink, then the evidence. An
 * alarm carries the plate the evidence writer has read so far. */
static void camera_event(const fl_event *ev, void *user)
{
	edge_camera *c = user;
	fl_event alarm;
	fl_plate_text plate;

	if (ev->type == FL_EV_ALARM && c->evidence &&
	    fl_evidence_writer_plate(c->evidence, ev->incident_id, &plate) >=
		    0) {
		alarm = *ev;
		alarm.plate = &plate;
		ev = &alarm;
	}

	/* remembered before it goes out: a power cut between the two must
	 * not leave an alarm sent and forgotten (src/edge/state.c) */
	if (c->state &&
	    (ev->type == FL_EV_OCCUPIED || ev->type == FL_EV_ALARM)) {
		fl_still_resting_view(c->still, c->resting);
		edge_state_save(c->state, ev->t, c->still, c->lanes,
				c->conf->nlanes, c->night, c->resting, c->sx,
				c->sy);
	} else {
		edge_state_touch(c->state);
	}
	if (c->emit)
		c->emit(ev, c->user);
	if (c->evidence)
		fl_evidence_writer_event(ev, c->evidence);
}

/* The camera's own events (offline, online, health): the program's sink
 * only; they belong to no incident, so the evidence writer never sees them. */
static void camera_own_event(edge_camera *c, enum fl_event_type type, double t,
			     const char *reason)
{
	fl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.camera = c->conf->id;
	ev.lane = "";
	ev.t = t;
	ev.reason = reason;
	if (c->emit)
		c->emit(&ev, c->user);
}

static int class_of_vclass(int v)
{
	switch (v) {
	case FL_VCLASS_VEHICLE:
		return FL_CLASS_VEHICLE;
	case FL_VCLASS_PERSON:
		return FL_CLASS_PERSON;
	}
	return FL_CLASS_OBJECT;
}

/* Run the dnn detector (timed), on roi (source pixels) or the whole frame. */
static int run_detector(edge_camera *c, const double *roi, fl_detection *out,
			int max)
{
	double t0 = fl_mono_s();
	int n = fl_detector_run(c->det, frame_bgr(c), c->frame.width,
				c->frame.height, roi, out, max);

	c->stats.detector_calls++;
	c->stats.detector_s += fl_mono_s() - t0;
	if (n < 0)
		fl_log(FL_LOG_WARN, "detect", "%s: detector failed: %s",
		       c->conf->id, fl_strerror(n));
	return n;
}

/*
 * The class of blob b: from the memo of its place while fresh, else from the
 * detector or the people detector on its region. 0 means unknown.
 */
static int classify(edge_camera *c, const fl_blob *b, double t)
{
	double box[4] = { b->x, b->y, b->w, b->h };
	double roi[4] = { b->x * c->sx, b->y * c->sy, b->w * c->sx,
			  b->h * c->sy };
	fl_detection d[MAX_DET];
	class_memo *m = NULL;
	int n, cls = 0;
	double best = 0;

	for (int i = 0; i < c->nmemo; i++)
		if (fl_box_iou(c->memo[i].box, box) >= 0.4 &&
		    fabs(c->memo[i].since - b->rest_since) < MEMO_SINCE_S)
			m = &c->memo[i];
	/* A class sticks for model_interval_s; "unknown" only briefly and
	 * for the same box: the first look often sees a part (a person's
	 * legs) of what settles. */
	if (m &&
	    t - m->t < (m->cls ? c->cfg->detect.model_interval_s
			       : FL_MIN(c->cfg->detect.model_interval_s,
					UNKNOWN_RETRY_S)) &&
	    (m->cls || fl_box_iou(m->box, box) >= 0.7))
		return m->cls;

	if (c->det)
		n = run_detector(c, roi, d, MAX_DET);
	else if (c->people && roi[3] >= 1.4 * roi[2])
		/* HOG sees "people" in many upright textured things (a
		 * printed shopping bag); ask it only about blobs shaped like
		 * a standing person. */
		n = fl_people_run(c->people, c->frame.luma, c->frame.width,
				  c->frame.height, c->frame.stride, roi, d,
				  MAX_DET);
	else
		n = 0;
	/* The detection that is this blob: mostly over it, and not so much
	 * larger that the blob is only a thing beside it (a bag next to its
	 * seated owner). */
	for (int i = 0; i < n; i++) {
		double db[4] = { d[i].x, d[i].y, d[i].w, d[i].h };
		double iou = fl_box_iou(db, roi);
		if (fl_box_overlap_min(db, roi) >= 0.5 && iou >= 0.2 &&
		    iou * d[i].conf > best) {
			best = iou * d[i].conf;
			cls = class_of_vclass(d[i].vclass);
		}
		fl_log(FL_LOG_DEBUG, "detect",
		       "t=%.1f blob %d,%d %dx%d: %s %.2f at %.0f,%.0f %.0fx%.0f iou %.2f",
		       t, b->x, b->y, b->w, b->h, fl_vclass_name(d[i].vclass),
		       d[i].conf, d[i].x, d[i].y, d[i].w, d[i].h, iou);
	}
	/* A class once learnt sticks to the place while nothing better is
	 * known (a parked car the detector misses for a while stays a car). */
	if (!cls && m)
		cls = m->cls;
	if (!m) {
		if (c->nmemo < MAX_CACHE)
			m = &c->memo[c->nmemo++];
		else
			m = &c->memo[(c->frame.index) % MAX_CACHE];
	}
	memcpy(m->box, box, sizeof(box));
	m->since = b->rest_since;
	m->cls = cls;
	m->t = t;
	return cls;
}

/*
 * Objects standing in a lane when monitoring starts, found by the model:
 * each is a seed (fl_still_seed()), at rest from now once it has stood
 * still for rest_s; traffic the model sees is dropped again.
 */
static void seed_from_model(edge_camera *c, double t)
{
	fl_detection d[MAX_DET];
	int n = run_detector(c, NULL, d, MAX_DET);

	for (int i = 0; i < n; i++) {
		double foot_x = d[i].x + d[i].w / 2, foot_y = d[i].y + d[i].h;
		int in = 0;

		fl_log(FL_LOG_DEBUG, "detect",
		       "t=%.1f start: %s %.2f at %.0f,%.0f "
		       "%.0fx%.0f",
		       t, fl_vclass_name(d[i].vclass), d[i].conf, d[i].x,
		       d[i].y, d[i].w, d[i].h);
		if (d[i].vclass == FL_VCLASS_PERSON)
			continue;
		for (int l = 0; l < c->conf->nlanes && !in; l++) {
			const fl_lane_conf *lc = &c->conf->lanes[l];
			in = fl_poly_contains(lc->points, lc->npoints, foot_x,
					      foot_y - 1) ||
			     fl_poly_contains(lc->points, lc->npoints,
					      d[i].x + d[i].w / 2,
					      d[i].y + d[i].h / 2);
		}
		if (!in)
			continue;
		int x = (int)(d[i].x / c->sx), y = (int)(d[i].y / c->sy);
		int w = (int)ceil(d[i].w / c->sx),
		    h = (int)ceil(d[i].h / c->sy);
		fl_log(FL_LOG_INFO, "detect",
		       "%s: %s in a lane at start (%.0f,%.0f %.0fx%.0f, %.2f)",
		       c->conf->id, fl_vclass_name(d[i].vclass), d[i].x, d[i].y,
		       d[i].w, d[i].h, d[i].conf);
		fl_still_seed(c->still, x, y, w, h, t);
		if (c->nmemo < MAX_CACHE) {
			class_memo *m = &c->memo[c->nmemo++];
			m->box[0] = x;
			m->box[1] = y;
			m->box[2] = w;
			m->box[3] = h;
			m->since = t;
			m->cls = class_of_vclass(d[i].vclass);
			m->t = t;
		}
	}
}

/* Is the picture night: dark, or grey (an IR illuminator's)? From the
 * colour frame, sampled. */
static int frame_night(edge_camera *c)
{
	const uint8_t *p = frame_bgr(c);
	size_t n = (size_t)c->frame.width * (size_t)c->frame.height, k = 0;
	double luma = 0, colour = 0;

	for (size_t i = 0; i < n; i += 97, k++) {
		int b = p[3 * i], g = p[3 * i + 1], r = p[3 * i + 2];
		luma += 0.114 * b + 0.587 * g + 0.299 * r;
		colour += (abs(r - g) + abs(g - b)) / 2.0;
	}
	luma /= (double)k;
	colour /= (double)k;
	fl_log(FL_LOG_DEBUG, "camera", "%s: luma %.1f, colour %.1f",
	       c->conf->id, luma, colour);
	return luma < NIGHT_LUMA || colour < NIGHT_COLOUR;
}

/*
 * The camera's memory (src/edge/state.c), when opts->state_dir names a
 * folder: the clear lane and the open incidents of before a restart are
 * taken in before the first frame is analysed. Without it, or when the
 * folder cannot be made, the camera runs without memory (logged).
 */
static void state_open(edge_camera *c, double wall_now)
{
	double base = c->opts.realtime ? wall_now - c->frame.t : 0;
	char why[512];

	c->state = edge_state_open(c->opts.state_dir, c->cfg, c->cam, c->aw,
				   c->ah, base, why, sizeof(why));
	c->resting = malloc((size_t)c->aw * (size_t)c->ah);
	if (!c->state || !c->resting) {
		fl_log(FL_LOG_WARN, "memory", "%s: %s; running without memory",
		       c->conf->id, c->state ? "out of memory" : why);
		edge_state_close(c->state, 0, NULL, NULL, 0, 0, NULL, 1, 1);
		c->state = NULL;
		return;
	}
	fl_downscale_gray(c->frame.luma, c->frame.width, c->frame.height,
			  c->frame.stride, c->small, c->aw, c->ah);
	c->night = frame_night(c);
	c->night_t = c->frame.t;
	edge_state_apply(c->state, c->still, c->lanes, c->conf->nlanes,
			 c->small, c->night, c->conf->reference[0] != 0,
			 c->frame.t, STATE_GRACE_S + 2 * c->cfg->detect.rest_s);
}

/*
 * Lanes drawn on the record picture (its size from the stream, else from
 * the camera's width/height keys) placed on the detect frame: checked
 * against the record size, the aspect ratios compared
 * (FL_ASPECT_TOLERANCE), the points scaled into the camera's own copy.
 */
static int record_geometry(edge_camera *c, char *err, size_t errlen)
{
	int rw = c->conf->width, rh = c->conf->height;

	if (edge_record_source(c->rec))
		edge_record_size(c->rec, &rw, &rh);
	if (rw <= 0 || rh <= 0) {
		snprintf(err, errlen,
			 "%s: the record stream is unavailable and "
			 "cameras[].width/height are not set: the lanes (in "
			 "record pixels) cannot be placed",
			 c->conf->id);
		return FL_EIO;
	}
	if (fl_config_check_frame(c->cfg, c->cam, rw, rh, err, errlen) < 0 ||
	    fl_camera_scale(c->conf, c->frame.width, c->frame.height, rw, rh,
			    &c->kx, &c->ky, err, errlen) < 0) {
		fl_log(FL_LOG_ERROR, "camera", "%s", err);
		return FL_ECONFIG;
	}
	c->rw = rw;
	c->rh = rh;
	c->own = malloc(sizeof(*c->own));
	if (!c->own) {
		snprintf(err, errlen, "out of memory");
		return FL_ENOMEM;
	}
	*c->own = *c->conf;
	c->conf = c->own;
	lanes_scale(c);
	fl_log(FL_LOG_INFO, "camera",
	       "%s: detect %dx%d, record %dx%d: lanes scaled by %.4f x %.4f",
	       c->conf->id, c->frame.width, c->frame.height, rw, rh, c->kx,
	       c->ky);
	return 0;
}

edge_camera *edge_camera_open(const fl_config *cfg, int cam,
			      const edge_opts *opts, fl_event_fn emit,
			      void *user, char *err, size_t errlen)
{
	edge_camera *c = calloc(1, sizeof(*c));
	fl_source_opts so = { 0 };
	fl_stream_conf one;
	const fl_stream_conf *det;
	const char *url, *model;
	fl_still_params sp = { 0 };
	char why[512];
	int rc;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->cfg = cfg;
	c->cam = cam;
	c->conf = &cfg->cameras[cam];
	c->kx = c->ky = 1;
	c->opts = *opts;
	c->emit = emit;
	c->user = user;
	c->bgr_index = -1;
	det = fl_camera_detect(c->conf, &one);
	url = opts->source ? opts->source : det->url;
	so.fps = opts->fps > 0 ? opts->fps : c->conf->fps;
	so.threads = 1;
	so.realtime = opts->realtime;
	so.start_s = opts->start_s;
	so.until_s = opts->until_s;
	so.udp = det->udp;
	so.timeout_ms = (int)lround(det->timeout_s * 1000);
	so.hwaccel = fl_camera_hwaccel(cfg, c->conf);
	c->src = fl_source_open(url, &so, err, errlen);
	if (!c->src)
		goto fail;
	/* The record stream (two streams): lost at start is no failure, the
	 * evidence comes from the detect stream then (record.c). */
	if (c->conf->record.url[0] && !opts->decode_only) {
		c->rec = edge_record_open(c->conf, opts->realtime, why,
					  sizeof(why));
		if (!c->rec)
			fl_log(FL_LOG_ERROR, "camera",
			       "%s: record stream unavailable: %s; detection "
			       "goes on, stills from the detect stream",
			       c->conf->id, why);
	}
	/* Evidence before the first read: its pre-roll needs the first
	 * keyframe. */
	if (opts->store && !opts->decode_only) {
		fl_source *rs = edge_record_source(c->rec);

		c->evidence = fl_evidence_writer_create(
			cfg, cam, opts->store, opts->key, rs ? rs : c->src,
			(double)opts->start_wall, err, errlen);
		if (!c->evidence || edge_record_start(c->rec, err, errlen) < 0)
			goto fail;
		if (c->conf->record.url[0])
			fl_evidence_writer_set_record(c->evidence,
						      rs ? "ok" : "lost", 0,
						      "none");
	}
	/* The first frame fixes the geometry. */
	rc = fl_source_read(c->src, &c->frame, err, errlen);
	if (rc == FL_EEOF) {
		snprintf(err, errlen, "%s: no frame in input", c->conf->id);
		goto fail;
	}
	if (rc < 0)
		goto fail;
	c->stats.frames = 1;
	c->mono0 = fl_mono_s() - c->frame.t;
	c->over.anchor = c->mono0;
	if (c->conf->record.url[0]) {
		/* decode only (a benchmark) analyses nothing: no lanes */
		if (!opts->decode_only && record_geometry(c, err, errlen) < 0)
			goto fail;
		if (!c->evidence) { /* it was needed for its size only */
			edge_record_close(c->rec);
			c->rec = NULL;
		}
	} else if (fl_config_check_frame(cfg, cam, c->frame.width,
					 c->frame.height, err, errlen) < 0)
		goto fail;
	analysis_size(c, c->frame.width, c->frame.height);
	c->small = malloc((size_t)c->aw * (size_t)c->ah);
	c->lane_bits = calloc((size_t)c->aw * (size_t)c->ah, 1);
	c->roi = calloc((size_t)c->aw * (size_t)c->ah, 1);
	c->roi_tmp = calloc((size_t)c->aw * (size_t)c->ah, 1);
	c->bgr = malloc((size_t)c->frame.width * (size_t)c->frame.height * 3);
	sp.rest_s = cfg->detect.rest_s;
	c->still = fl_still_create(&sp, c->aw, c->ah);
	if (cfg->health.enabled && !opts->decode_only) {
		fl_health_params hp = { 0 };

		hp.frozen_s = cfg->health.frozen_s;
		hp.covered_s = cfg->health.covered_s;
		hp.moved_s = cfg->health.moved_s;
		hp.clear_s = cfg->health.clear_s;
		hp.learn_s = cfg->health.learn_s;
		hp.covered_std = cfg->health.covered_std;
		hp.moved_shift = cfg->health.moved_shift_px;
		hp.moved_corr = cfg->health.moved_corr;
		/* NULL for a frame too small to judge: no health checks. */
		c->health = fl_health_create(&hp, c->aw, c->ah);
	}
	if (!c->small || !c->lane_bits || !c->roi || !c->roi_tmp || !c->bgr ||
	    !c->still) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (lanes_init(c, err, errlen) < 0)
		goto fail;
	if (c->conf->reference[0]) {
		rc = fl_image_load_gray(c->conf->reference, c->aw, c->ah,
					c->small, NULL, NULL, why, sizeof(why));
		if (rc < 0) {
			snprintf(err, errlen, "%s: reference: %s", c->conf->id,
				 why);
			goto fail;
		}
		fl_still_set_reference(c->still, c->small);
		fl_health_set_reference(c->health, c->small);
	}
	if (opts->state_dir && !opts->decode_only) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		state_open(c, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
	}
	model = opts->model ? opts->model : cfg->detect.model;
	if (model && model[0] && !opts->decode_only) {
		c->det = fl_detector_create(model, cfg->detect.model_conf, why,
					    sizeof(why));
		if (!c->det) {
			snprintf(err, errlen, "model: %s", why);
			goto fail;
		}
	} else if (cfg->detect.people_detector && !opts->decode_only) {
		c->people = fl_people_create(why, sizeof(why));
		if (!c->people)
			fl_log(FL_LOG_WARN, "detect",
			       "people detector unavailable: %s", why);
	}
	c->step = 1.0 / cfg->detect.analysis_fps;
	c->next_t = c->frame.t;
	c->pending = 1;
	/* Only a camera is reconnected: a file or an image sequence, and any
	 * source in replay mode, ends where its input ends. */
	c->live = opts->realtime && fl_source_is_live(c->src);
	c->link.last_t = c->frame.t;
	c->link.last_mono = fl_mono_s();
	/* through 64 bits: after 72 minutes of uptime the microseconds
	 * no longer fit an unsigned (undefined behaviour, UBSan stops) */
	c->link.rng = (unsigned)(uint64_t)(c->link.last_mono * 1e6) ^
		      (unsigned)cam;
	return c;
fail:
	edge_camera_close(c);
	return NULL;
}

/*
 * Where the blob lies: the fraction of its resting pixels inside each lane,
 * and of its footprint: for each column, its lowest pixel (where it meets
 * the ground) against the lane's span at that row (the policy in
 * src/core/lane.c).
 */
static void blob_lanes(edge_camera *c, const fl_blob *b, double *inside,
		       double *foot)
{
	const int *labels = fl_still_labels(c->still);
	int counts[FL_MAX_LANES] = { 0 }, feet[FL_MAX_LANES] = { 0 };
	int total = 0, cols = 0;

	for (int x = b->x; x < b->x + b->w; x++) {
		int low = -1;
		for (int y = b->y; y < b->y + b->h; y++) {
			size_t k = (size_t)y * c->aw + x;
			if (labels[k] != b->label)
				continue;
			low = y;
			total++;
			for (int l = 0; l < c->conf->nlanes; l++)
				counts[l] += (c->lane_bits[k] >> l) & 1;
		}
		if (low < 0)
			continue;
		cols++;
		for (int l = 0; l < c->conf->nlanes; l++) {
			double x0, x1, xs = (x + 0.5) * c->sx;
			fl_lane_span(&c->lanes[l], (low + 1) * c->sy, &x0, &x1);
			feet[l] += xs >= x0 && xs <= x1;
		}
	}
	for (int l = 0; l < c->conf->nlanes; l++) {
		inside[l] = total ? (double)counts[l] / total : 0;
		foot[l] = cols ? (double)feet[l] / cols : 0;
	}
}

static int minute_of_day(const edge_camera *c, double t)
{
	time_t when = c->opts.start_wall + (time_t)t;
	struct tm tm;

	localtime_r(&when, &tm);
	return tm.tm_hour * 60 + tm.tm_min;
}

/* Health on the analysis frame: each condition that starts or ends is a
 * health event ("frozen" ... "cleared: frozen", see docs/health.md). */
static void check_health(edge_camera *c, double t)
{
	fl_health_change ch[FL_HEALTH_NCOND];
	char reason[64];
	int n;

	if (!c->health)
		return;
	n = fl_health_feed(c->health, c->small, t, ch);
	for (int i = 0; i < n; i++) {
		const char *name = fl_health_cond_name(ch[i].cond);

		snprintf(reason, sizeof(reason), "%s%s",
			 ch[i].raised ? "" : "cleared: ", name);
		fl_health_figures fg;

		fl_health_figures_of(c->health, &fg);
		/* The figures behind the verdict, for tuning the health keys. */
		fl_log(ch[i].raised ? FL_LOG_WARN : FL_LOG_INFO, "health",
		       "%s: %s at %.1f s (changed %.4f, structure %.1f, "
		       "reference correlation %.2f, shift %.1f,%.1f px)",
		       c->conf->id, reason, ch[i].t, fg.changed, fg.structure,
		       fg.corr, fg.dx, fg.dy);
		camera_own_event(c, FL_EV_HEALTH, ch[i].t, reason);
	}
}

/* analyse: the per-pixel model at analysis resolution, and health. */
static void analyse(edge_camera *c, double t)
{
	fl_downscale_gray(c->frame.luma, c->frame.width, c->frame.height,
			  c->frame.stride, c->small, c->aw, c->ah);
	fl_still_feed(c->still, c->small, t);
	if (c->stats.analysed == 0)
		c->t0 = c->next_seed = t;
	if (c->det && !c->conf->reference[0] && t >= c->next_seed &&
	    t - c->t0 <= STARTUP_SEED_S) {
		seed_from_model(c, t);
		c->next_seed = t + c->cfg->detect.model_interval_s;
	}
	check_health(c, t);
}

/* assess: blobs -> sightings per lane -> incident state machines. */
static void assess(edge_camera *c, double t)
{
	int nb;
	const fl_blob *blobs = fl_still_blobs(c->still, &nb);
	fl_sighting s[FL_MAX_LANES][64];
	size_t ns[FL_MAX_LANES] = { 0 };
	int minute = minute_of_day(c, t);

	for (int i = 0; i < nb && i < 64; i++) {
		const fl_blob *b = &blobs[i];
		double inside[FL_MAX_LANES], foot[FL_MAX_LANES];
		int cls = -1;

		blob_lanes(c, b, inside, foot);
		for (int l = 0; l < c->conf->nlanes; l++) {
			fl_sighting *si;
			if (inside[l] <= 0)
				continue;
			if (cls < 0)
				cls = classify(c, b, t);
			si = &s[l][ns[l]++];
			si->box[0] = b->x * c->sx;
			si->box[1] = b->y * c->sy;
			si->box[2] = b->w * c->sx;
			si->box[3] = b->h * c->sy;
			si->rest_since = b->rest_since;
			si->inside = inside[l];
			si->foot = foot[l];
			si->memo = 0;
			si->cls = cls;
			si->seen = b->seen;
			si->memo = edge_state_which(c->state, &c->lanes[l], l,
						    si, c->small, c->sx, c->sy);
		}
	}
	for (int l = 0; l < c->conf->nlanes; l++)
		fl_lane_update(&c->lanes[l], t,
			       fl_lane_active(&c->conf->lanes[l], minute), s[l],
			       ns[l], camera_event, c);
}

static void write_debug(edge_camera *c)
{
	char path[FL_PATH_MAX + 32];
	const uint8_t *st = fl_still_state(c->still);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s-%06ld.pgm", c->opts.debug_dir,
		 c->conf->id, c->stats.analysed);
	f = fopen(path, "wb");
	if (!f)
		return;
	fprintf(f, "P5\n%d %d\n255\n", c->aw * 2, c->ah);
	for (int y = 0; y < c->ah; y++) {
		fwrite(c->small + (size_t)y * c->aw, 1, (size_t)c->aw, f);
		for (int x = 0; x < c->aw; x++)
			fputc(st[(size_t)y * c->aw + x] * 80 +
				      ((c->lane_bits[(size_t)y * c->aw + x])
					       ? 15
					       : 0),
			      f);
	}
	fclose(f);
}

/* remember: what must survive a restart goes to the memory (state.c):
 * at once when an incident changed, the clear lane every minute. */
static void remember(edge_camera *c, double t)
{
	int moved = c->health &&
		    (fl_health_active(c->health) & FL_HEALTH_MOVED);

	if (!c->state)
		return;
	if (t - c->night_t >= NIGHT_CHECK_S) {
		c->night = frame_night(c);
		c->night_t = t;
	}
	fl_still_resting_view(c->still, c->resting);
	edge_state_tick(c->state, t, c->still, c->lanes, c->conf->nlanes,
			c->night, moved, c->resting, c->sx, c->sy);
}

/*
 * A live record stream missing at start that has been found: the writer's
 * ring moves onto it between incidents (fl_evidence_writer_set_source), if
 * its picture is the size the lanes were placed for; it stays lost else.
 */
static void record_join(edge_camera *c)
{
	fl_source *late = edge_record_waiting(c->rec);
	char err[1024];
	int w, h, rc;

	if (!late || c->rec_refused)
		return;
	edge_record_size(c->rec, &w, &h);
	if (w != c->rw || h != c->rh) {
		fl_log(FL_LOG_ERROR, "camera",
		       "%s: the record stream is %dx%d, the lanes were placed "
		       "for %dx%d (cameras[].width/height): not used until "
		       "the edge restarts",
		       c->conf->id, w, h, c->rw, c->rh);
		c->rec_refused = 1;
		return;
	}
	rc = fl_evidence_writer_set_source(c->evidence, late, err, sizeof(err));
	if (rc == 0) {
		edge_record_go(c->rec);
	} else if (rc != FL_EAGAIN) { /* FL_EAGAIN: an incident is open */
		fl_log(FL_LOG_ERROR, "camera",
		       "%s: record stream: %s; not used until the edge "
		       "restarts",
		       c->conf->id, err);
		c->rec_refused = 1;
	}
}

/* act: the evidence writer takes the pictures due on this frame and seals
 * what is complete (the events themselves went out during assess). */
static void act(edge_camera *c)
{
	const char *aligned;
	double off;

	if (c->rec && c->evidence) {
		const char *st;

		record_join(c);
		st = edge_record_pump(c->rec, c->frame.t, c->mono0);

		off = edge_record_offset(c->rec, &aligned);
		fl_evidence_writer_set_record(c->evidence, st, off, aligned);
	}
	if (c->evidence)
		fl_evidence_writer_frame(c->evidence, &c->frame, frame_bgr_fn,
					 c);
}

/* End of input (or close): alarmed incidents are sealed as they are; a
 * lagging re-encoding is waited for at most wait_s (INFINITY: all). */
static void finish_evidence(edge_camera *c, double wait_s)
{
	if (c->evidence && !c->finished)
		fl_evidence_writer_finish(c->evidence, c->frame.t, wait_s);
	c->finished = 1;
}

/* Sleep for s seconds (at most OFFLINE_NAP_S). */
static void nap(double s)
{
	struct timespec ts;

	s = FL_MIN(s, OFFLINE_NAP_S);
	if (s <= 0)
		return;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(s * 1e9);
	nanosleep(&ts, NULL);
}

/* camera_offline, once per loss, at video time last frame + the time since
 * it. */
static void send_offline(edge_camera *c, double now)
{
	char reason[700];

	if (c->link.offline_sent)
		return;
	snprintf(reason, sizeof(reason), "stream lost: %s", c->link.why);
	camera_own_event(c, FL_EV_CAMERA_OFFLINE,
			 c->link.last_t + (now - c->link.last_mono), reason);
	c->link.offline_sent = 1;
}

/*
 * A lost live stream: try to open it again when the backoff allows.
 * Returns 0 with a new frame in c->frame, or FL_EAGAIN when there is none
 * yet.
 *
 * The first attempt is made at once (a glitch costs nothing and says
 * nothing); when it fails, camera_offline goes out with the reason the read
 * gave (at once, before the attempt, when the stream had already been
 * silent for STALL_S: a read timeout), and the next attempts wait 1, 2, 4
 * ... 30 s, each +-20 % at random
 * so that the cameras of a site that lost power together do not knock on
 * the recorder in step. camera_online goes out with the first frame after
 * an offline; the lanes, the evidence and the health state are kept as
 * they are, and video time goes on across the gap (fl_source_reopen).
 */
static int reconnect(edge_camera *c)
{
	double now = fl_mono_s(), delay;
	char why[512], reason[700];
	int rc;

	if (now < c->link.next_try) {
		nap(c->link.next_try - now);
		return FL_EAGAIN;
	}
	rc = fl_source_reopen(c->src, why, sizeof(why));
	if (rc == 0)
		rc = fl_source_read(c->src, &c->frame, why, sizeof(why));
	now = fl_mono_s();
	if (rc == 0) {
		fl_log(FL_LOG_WARN, "camera", "%s: stream back after %.1f s",
		       c->conf->id, now - c->link.since);
		if (c->link.offline_sent) {
			snprintf(reason, sizeof(reason),
				 "stream back after %.0f s",
				 now - c->link.since);
			camera_own_event(c, FL_EV_CAMERA_ONLINE, c->frame.t,
					 reason);
		}
		fl_health_gap(c->health);
		c->over.rebase = 1; /* a new session: its own pace */
		c->link.lost = 0;
		c->link.offline_sent = 0;
		c->link.attempts = 0;
		return 0;
	}
	send_offline(c, now);
	delay = FL_MIN(RECONNECT_MAX_S,
		       (double)(1u << FL_MIN(c->link.attempts, 5)));
	c->link.rng = c->link.rng * 1103515245u + 12345u;
	delay *= 1 + RECONNECT_JITTER *
			     (((c->link.rng >> 16) & 0x7fff) / 16383.5 - 1);
	c->link.attempts++;
	c->link.next_try = now + delay;
	fl_log(FL_LOG_WARN, "camera",
	       "%s: reconnect %d failed (%s); next in %.1f s", c->conf->id,
	       c->link.attempts, why, delay);
	return FL_EAGAIN;
}

/*
 * capture: the next frame (open already decoded the first one). Returns 0
 * with a frame, FL_EAGAIN when a lost live stream has none yet, or the
 * source's status (FL_EEOF at the end of a file, an error).
 */
static int capture(edge_camera *c, char *err, size_t errlen)
{
	double t0 = fl_mono_s();
	int rc;

	if (c->link.lost)
		rc = reconnect(c);
	else
		rc = fl_source_read(c->src, &c->frame, err, errlen);
	c->stats.decode_s += fl_mono_s() - t0;
	if (rc == 0) {
		c->link.last_t = c->frame.t;
		c->link.last_mono = fl_mono_s();
		return 0;
	}
	if (rc == FL_EAGAIN)
		return rc;
	if (!c->live && rc == FL_EDECODE) {
		/* a broken file (corrupt, truncated: source.c): a health event
		 * for the hub and the events file, besides the error */
		camera_own_event(c, FL_EV_HEALTH, c->frame.t, err);
		return rc;
	}
	if (c->live && rc != FL_ENOMEM) {
		/* A camera that stops sending (or says its stream ended) is
		 * lost, not finished: reconnect. */
		snprintf(c->link.why, sizeof(c->link.why), "%s",
			 rc == FL_EEOF ? "the stream ended" : err);
		fl_log(FL_LOG_WARN, "camera", "%s: stream lost: %s",
		       c->conf->id, c->link.why);
		c->link.lost = 1;
		c->link.since = fl_mono_s();
		c->link.next_try = 0;
		/* Silent for a while already (a read timeout): say so now, not
		 * after an attempt that may itself wait for its timeouts. That
		 * keeps camera_offline within 30 s of the loss: a stall is
		 * reported after the 10 s read timeout, anything else after
		 * one attempt (5 s open + 5 s probe + 10 s first read at most). */
		if (c->link.since - c->link.last_mono >= STALL_S)
			send_offline(c, c->link.since);
		rc = reconnect(c);
		if (rc == 0) {
			c->link.last_t = c->frame.t;
			c->link.last_mono = fl_mono_s();
		}
		c->stats.decode_s += fl_mono_s() - t0;
		return rc;
	}
	if (rc == FL_EEOF)
		finish_evidence(c, INFINITY); /* a file: all of it */
	return rc;
}

/* The lag of the frame just come, from its arrival at now (the note on
 * overload); late frames mark the overload episode. Live mode only. */
static void lag_measure(edge_camera *c, double now)
{
	double lag;

	if (!c->opts.realtime)
		return;
	if (c->over.rebase)
		c->over.anchor = now - c->frame.t;
	else if (c->stats.lag_s < LAG_ON_TIME_S && c->over.at > 0)
		c->over.anchor += (now - c->over.at) * CLOCK_DRIFT; /* below */
	c->over.rebase = 0;
	c->over.at = now;
	c->over.anchor = FL_MIN(c->over.anchor, now - c->frame.t);
	lag = now - c->frame.t - c->over.anchor;
	c->stats.lag_s = lag;
	if (lag > LAG_BOUND_S) {
		if (c->over.since <= 0) {
			c->over.since = now;
			c->over.lag_max = 0;
			c->over.skipped0 = c->stats.skipped;
		}
		c->over.last = now;
		c->over.lag_max = FL_MAX(c->over.lag_max, lag);
	}
	if (!c->live && lag > PACE_REBASE_S)
		c->over.anchor = now - c->frame.t; /* as the source did */
}

/* A frame came: the longest time between two in a row
 * (edge_stats.gap_max_s: what the camera thread held detection up by, or
 * the stream was slow), and the receive time of video time 0. */
static void frame_came(edge_camera *c)
{
	double now = fl_mono_s();

	/* the earliest receive time of video time 0 (record.c, "Clocks") */
	c->mono0 = FL_MIN(c->mono0, now - c->frame.t);
	if (c->last_frame_mono > 0 &&
	    now - c->last_frame_mono > c->stats.gap_max_s)
		c->stats.gap_max_s = now - c->last_frame_mono;
	c->last_frame_mono = now;
	lag_measure(c, now);
}

/* The CPU time of the calling thread, seconds (0 if unreadable). */
static double thread_cpu_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The camera's CPU time into its figures: the camera thread (the caller),
 * and what works for it in other threads, the record stream's reader and
 * the clips' re-encoders (an H.265 main stream's real cost). */
static void cpu_measure(edge_camera *c)
{
	fl_evidence_stats ev;

	fl_evidence_writer_stats(c->evidence, &ev);
	c->stats.record_cpu_s = edge_record_cpu_s(c->rec);
	c->stats.clip_cpu_s = ev.clip_cpu_s;
	c->stats.cpu_s = thread_cpu_s() + c->stats.record_cpu_s +
			 c->stats.clip_cpu_s;
}

/* Whether the due frame's analysis is skipped (the note on overload). */
static int overload_skip(const edge_camera *c)
{
	return c->opts.realtime && c->stats.lag_s > LAG_BOUND_S &&
	       c->stats.analysed > 0 &&
	       c->frame.t - c->over.last_a < ANALYSIS_FLOOR_S;
}

/*
 * After each frame: raise "overloaded" once frames have come late for
 * OVERLOAD_RAISE_S, clear it (or forget a shorter episode) after
 * OVERLOAD_CLEAR_S without a late frame. The events go out at the frame's
 * video time, the figures behind them into the log.
 */
static void overload_tick(edge_camera *c, double now)
{
	long skipped = c->stats.skipped - c->over.skipped0;

	if (c->over.since <= 0)
		return;
	if (!c->stats.overloaded &&
	    c->over.last - c->over.since >= OVERLOAD_RAISE_S) {
		fl_log(FL_LOG_WARN, "health",
		       "%s: overloaded at %.1f s: frames up to %.2f s behind "
		       "the stream for %.0f s, %ld analyses skipped",
		       c->conf->id, c->frame.t, c->over.lag_max,
		       c->over.last - c->over.since, skipped);
		c->stats.overloaded = 1;
		camera_own_event(c, FL_EV_HEALTH, c->frame.t, "overloaded");
	} else if (now - c->over.last >= OVERLOAD_CLEAR_S) {
		if (c->stats.overloaded) {
			fl_log(FL_LOG_INFO, "health",
			       "%s: cleared: overloaded at %.1f s (frames up "
			       "to %.2f s behind, %ld analyses skipped)",
			       c->conf->id, c->frame.t, c->over.lag_max,
			       skipped);
			c->stats.overloaded = 0;
			camera_own_event(c, FL_EV_HEALTH, c->frame.t,
					 "cleared: overloaded");
		}
		c->over.since = 0;
	}
}

/* The test seam edge_opts.slow_ms: this analysis takes that much longer. */
static void slow_seam(const edge_camera *c)
{
	struct timespec ts;
	double s = c->opts.slow_ms / 1000.0;

	if (s <= 0 ||
	    (c->opts.slow_until_s > 0 && c->frame.t >= c->opts.slow_until_s))
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == EINTR)
		;
}

int edge_camera_step(edge_camera *c, char *err, size_t errlen)
{
	double t0;
	int rc;

	if (!c->pending) {
		rc = capture(c, err, errlen);
		if (rc == FL_EAGAIN) {
			c->last_frame_mono = 0; /* a gap of the stream's */
			return 0; /* offline: nothing to analyse yet */
		}
		if (rc < 0)
			return rc;
		c->stats.frames++;
		frame_came(c);
	}
	c->pending = 0;
	if (c->opts.decode_only) {
		cpu_measure(c);
		return 0;
	}

	/* analyse, assess (the lanes emit their events as they go), remember;
	 * or, overloaded, skip that and count it */
	if (c->frame.t + 1e-6 >= c->next_t) {
		c->next_t = FL_MAX(c->next_t + c->step, c->frame.t);
		if (overload_skip(c)) {
			c->stats.skipped++;
		} else {
			t0 = fl_mono_s();
			lanes_scale(c); /* settings reloaded into the config */
			analyse(c, c->frame.t);
			assess(c, c->frame.t);
			remember(c, c->frame.t);
			slow_seam(c);
			c->stats.analysis_s += fl_mono_s() - t0;
			c->stats.analysed++;
			c->over.last_a = c->frame.t;
			if (c->opts.debug_dir)
				write_debug(c);
		}
	}
	overload_tick(c, fl_mono_s());
	act(c);
	cpu_measure(c);
	return 0;
}

const edge_stats *edge_camera_stats(const edge_camera *c)
{
	return &c->stats;
}

double edge_camera_time(const edge_camera *c)
{
	return c->frame.t;
}

void edge_camera_evidence_stats(const edge_camera *c, fl_evidence_stats *st)
{
	fl_evidence_writer_stats(c ? c->evidence : NULL, st);
}

int edge_camera_write_frame(edge_camera *c, const char *path, char *err,
			    size_t errlen)
{
	return fl_image_write_bgr(path, frame_bgr(c), c->frame.width,
				  c->frame.height, err, errlen);
}

/* The analysis mask's colours (BGR): what the per-pixel model of objects
 * at rest sees (fl_still_state: 1 foreground, 2 candidate, 3 at rest), and
 * the lanes' analysis regions' outline. */
static const uint8_t mask_colour[4][3] = { { 0, 0, 0 },
					   { 0, 140, 255 },
					   { 0, 255, 255 },
					   { 0, 0, 255 } };
static const uint8_t mask_lane[3] = { 0, 255, 0 };

int edge_camera_write_mask(edge_camera *c, const char *path, char *err,
			   size_t errlen)
{
	int w = c->frame.width, h = c->frame.height, rc;
	const uint8_t *st = fl_still_state(c->still);
	uint8_t *img;

	if (w <= 0 || h <= 0 || !st) {
		snprintf(err, errlen, "no frame analysed yet");
		return FL_EINVAL;
	}
	img = malloc((size_t)w * (size_t)h * 3);
	if (!img) {
		snprintf(err, errlen, "out of memory");
		return FL_ENOMEM;
	}
	for (int y = 0; y < h; y++) {
		int ay = FL_MIN(c->ah - 1, (int)(y / c->sy));

		for (int x = 0; x < w; x++) {
			int ax = FL_MIN(c->aw - 1, (int)(x / c->sx));
			size_t k = (size_t)ay * c->aw + ax;
			const uint8_t *col = mask_colour[st[k] & 3];
			uint8_t b = c->lane_bits[k];

			/* an analysis pixel of a lane beside one outside it
			 * (or beside another lane): the region's edge */
			if (b &&
			    ((ax > 0 && c->lane_bits[k - 1] != b) ||
			     (ax + 1 < c->aw && c->lane_bits[k + 1] != b) ||
			     (ay > 0 && c->lane_bits[k - c->aw] != b) ||
			     (ay + 1 < c->ah && c->lane_bits[k + c->aw] != b)))
				col = mask_lane;
			memcpy(img + ((size_t)y * w + x) * 3, col, 3);
		}
	}
	rc = fl_image_write_bgr(path, img, w, h, err, errlen);
	free(img);
	return rc;
}

void edge_camera_frame_size(const edge_camera *c, int *w, int *h)
{
	*w = c->own ? c->rw : c->frame.width;
	*h = c->own ? c->rh : c->frame.height;
}

void edge_camera_close(edge_camera *c)
{
	if (!c)
		return;
	/* live, a stop: in time for the service manager (CLIP_STOP_WAIT_S) */
	finish_evidence(c, c->opts.realtime ? CLIP_STOP_WAIT_S : INFINITY);
	if (c->stats.frames > 1) {
		cpu_measure(c);
		fl_log(FL_LOG_INFO, "camera",
		       "%s: %ld frames, the longest gap between two %.3f s; "
		       "CPU %.2f s, of which the record stream %.2f s and the "
		       "clips' re-encoding %.2f s",
		       c->conf->id, c->stats.frames, c->stats.gap_max_s,
		       c->stats.cpu_s, c->stats.record_cpu_s,
		       c->stats.clip_cpu_s);
	}
	if (c->state) {
		fl_still_resting_view(c->still, c->resting);
		edge_state_close(c->state, c->frame.t, c->still, c->lanes,
				 c->conf->nlanes, c->night, c->resting, c->sx,
				 c->sy);
	}
	free(c->resting);
	edge_record_stop(c->rec); /* its thread feeds the writer's ring */
	fl_evidence_writer_destroy(c->evidence); /* before the source it taps */
	edge_record_close(c->rec);
	fl_source_close(c->src);
	fl_still_destroy(c->still);
	fl_health_destroy(c->health);
	fl_detector_destroy(c->det);
	fl_people_destroy(c->people);
	free(c->small);
	free(c->lane_bits);
	free(c->roi);
	free(c->roi_tmp);
	free(c->bgr);
	free(c->own);
	free(c);
}
