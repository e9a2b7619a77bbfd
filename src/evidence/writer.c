/*
 * writer.c - the evidence sink of one camera (see writer.h).
 *
 * A note on the flow. The camera's lanes emit events (occupied, alarm,
 * cleared, vacated); this sink subscribes to them like the events file does,
 * and keeps one record per open incident: its evidence plan (the *when*,
 * src/core/evidence.c), its clip and, from the alarm on, its bundle in the
 * store's partial area. Once per frame the camera calls the act phase,
 * fl_evidence_writer_frame(), which asks each plan what is due and does it.
 *
 *   occupied  the plan opens; the clip starts from the pre-roll ring (its
 *             start lies before the object came to rest, in the past) into
 *             a working file under <store>/.clips/; the first scene image is
 *             taken and kept in memory as JPEG (an incident that is vacated
 *             never touches the store: nothing to delete, nothing to leak)
 *   alarm     the bundle begins (its manifest needs the alarm time, so it
 *             cannot begin earlier); the kept image goes in; the alarm scene
 *             image, the close-up of the object (its plate boxed when the
 *             plate finder sees one) and the composite (first and alarm
 *             scenes beside the close-up) are written at once
 *   later     a scene image every interval until the plan is complete; the
 *             clip stops at alarm + post-roll
 *   complete  the clip is closed and moved into the bundle, the plan's note
 *             (what is missing, if anything) recorded, and the bundle sealed:
 *             signed manifest, one rename, visible in the store
 *   vacated   everything is dropped: the kept JPEG, the working clip
 *
 * Plates (docs/plate-model.md). From occupied until cleared the writer reads
 * the object's plate: the localiser (fl_plate_find) in the object's box, the
 * reader on its best candidate, on every scene image and every PLATE_EVERY_S
 * on the frames between (a parked car is read many times, at different
 * light and noise). fl_plate_vote() turns the reads into one text or
 * "unread". The camera asks for the vote so far when the alarm goes out
 * (fl_evidence_writer_plate); at the seal the vote over all reads goes into
 * the manifest, and the crop of the most confident read becomes plate.jpg,
 * stamped and signed like every image. The reader is a guest: no model, a
 * failed load or a failed read leave the plate unread, never the bundle
 * unmade.
 *
 * Every image carries a banner in a band added above the picture (no pixel
 * of the scene is covered; fl_overlay_band): the local time with its
 * offset (device clock, start_wall + video time, in device.time_zone), the
 * image's sequence number and its anti-forgery code, the site and lane
 * display names with their ids, the camera, the device and the incident,
 * and the plate once it is read (the vote so far), labelled in
 * evidence.language (zh-CN or en). The code is
 * fl_evidence_code, a signature by the device key over the device,
 * incident, lane, sequence number and the same instant in UTC (time_utc),
 * so the manifest stays UTC-exact and a printed image is checked by
 * turning its printed local time back into UTC with the printed offset.
 * The lines as drawn, the local time and the band's height go into the
 * manifest too, so a reviewer (and the tests) can match picture and
 * record, and the hub can crop the band off for a thumbnail.
 *
 * Two streams (docs/evidence.md, "Two streams"). For a camera with a
 * record stream the ring taps that stream, and every picture is the record
 * stream's picture at the detect frame's time, decoded from the ring once
 * per frame (picture()); boxes from detection are scaled to its pixels.
 * While the record stream is down the detect frame serves, and the
 * manifest says so (record "lost", each image's stream).
 *
 * Memory stays small and bounded: an image is encoded and handed to the
 * store when it is taken; what outlives a frame is one JPEG per incident
 * before its alarm and a copy of the first scene image downscaled to at
 * most 960 px for the composite. The pre-roll ring holds compressed video.
 *
 * Failure is expected: a full disk, a read-only folder, a missing font. The
 * writer logs each kind of failure once per incident, names the path and the
 * reason, records what it could not do in the bundle's notes when a bundle
 * exists, and returns nothing to the camera: detection and the events go on.
 */
#include "writer.h"

#include "clip.h"
#include "clock.h"
#include "evidence.h"
#include "fl.h"
#include "lang.h"
#include "tz.h"
#include "vision.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libswscale/swscale.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define TAG "evidence"
#define MAX_INCIDENTS 16
#define MAX_PENDING 4
#define NFIELDS 9   /* the last, the plate, only once it is read */
#define SMALL_W 960 /* the first scene, kept for the composite */
#define COMPOSITE_W 2560
#define PATHLEN 2048
/* A clip started at occupied waits this long past dwell_s for the alarm
 * (which inactive hours may hold back for hours) before it is dropped and
 * started again, from the pre-roll, when the alarm comes: a working file
 * must not grow without bound. */
#define CLIP_WAIT_S 60.0
/* A record picture further than this before the instant it stands for is
 * not that instant's (a stalled stream): the detect frame serves. Two
 * frames' worth of receive jitter and more; a second of a scene. */
#define STILL_STALE_S 1.0
/* The record still's decoder is let go once no still was asked for in this
 * much video time ("Memory"). */
#define STILL_KEEP_S 1.0
/* A re-encoded clip's worker that lags (clip.c, "Threads") holds the seal
 * back, on later frames, at most this long (wall time: a replay runs faster
 * than the video); then the clip is cut where the re-encoding got to (a
 * note says so) rather than the camera thread waiting for it. */
#define SEAL_WAIT_S 60.0

/* Failures logged once per incident, by kind. */
enum {
	LOG_BUNDLE = 1 << 0,
	LOG_IMAGE = 1 << 1,
	LOG_CLIP = 1 << 2,
	LOG_SEAL = 1 << 3,
	LOG_SLOTS = 1 << 4,
	LOG_PLATE = 1 << 5
};

/* Plate reads on the frames between scene images, this far apart: reads
 * of one car far apart in time err less alike (fl_plate_vote). */
#define PLATE_EVERY_S 2.0
/* The plate crop: the localiser's box grown by this share of its size on
 * each side (the reader wants a margin, a person the surroundings). */
#define PLATE_MARGIN 0.15

/* An image taken before the bundle exists (the rest shot): kept as JPEG. */
struct pending {
	char name[48];
	uint8_t *jpeg;
	size_t len;
	fl_bundle_image meta; /* strings point into the fields below */
	char time_utc[32], time_local[40], code[16], sig[FL_SIG_B64_LEN];
	char overlay[1024];
	double plate[4];
};

struct incident {
	int used;
	fl_evidence_plan plan;
	const fl_lane_conf *lane;
	char id[FL_INCIDENT_ID_MAX];
	double bbox[4];
	int cls;
	double rest_since, alarm_t, cleared_t;
	fl_bundle *b;
	int bundle_failed;
	fl_clip *clip;
	double clip_off; /* the ring's clock - detect clock at clip_begin */
	char clip_tmp[PATHLEN];
	char clip_err[1400];
	/* how long the seal may still wait for a lagging re-encoding
	 * (INFINITY, or a stop's budget: fl_evidence_writer_finish), and
	 * why the clip is cut when it runs out */
	double clip_wait;
	const char *cut_why;
	int seq;
	fl_image first_small;
	struct pending pend[MAX_PENDING];
	int npend;
	unsigned logged;
	int images;
	int closeup, composite; /* stored */
	/* plate reads (the note above): the reads with a text, how many
	 * reads were tried, when the next frame is read, and the crop of
	 * the most confident read with its video time */
	fl_plate_text reads[FL_PLATE_VOTE_MAX];
	int nreads, plate_tries;
	double plate_next;
	fl_image plate_crop;
	double plate_crop_conf, plate_crop_t;
	int record_lost; /* the record stream was down during it */
	double seal_due; /* the seal waits for the clip since (monotonic), -1 */
};

/*
 * The picture an evidence instant is taken from: the detect frame, or the
 * record stream's picture at the same time (decoded from the ring). sx, sy:
 * its pixels per detect pixel (boxes from detection are scaled by them).
 */
struct picture {
	const uint8_t *bgr;
	int w, h;
	double t; /* the detect frame's video time: the evidence instant */
	int64_t index;
	double sx, sy;
	const char *stream;  /* "record", "detect", or NULL: one stream */
	double stream_t;     /* the picture's frame time on that stream */
	const char *aligned; /* how the record clock was aligned */
};

struct fl_evidence_writer {
	const fl_config *cfg;
	const fl_camera_conf *cam;
	fl_store *store;
	const fl_key *key;
	fl_source *src;
	double start_wall;
	fl_preroll *ring;
	/* a record stream (fl_evidence_writer_set_record): its state, the
	 * offset of its clock (record time = detect time + offset), and the
	 * still decoded for the current instant, kept for the frame */
	const char *record; /* "ok", "lost", or NULL: one stream */
	double rec_offset;
	const char *rec_aligned;
	fl_still_image still;
	int64_t still_index; /* detect frame it was decoded for; -1 none */
	int still_failed;    /* ... and the decode failed */
	double still_used;   /* detect time a still was last asked for; -1:
			      * its decoder let go */
	fl_overlay *ov;
	fl_plate_reader *reader; /* NULL: plates are not read */
	char clips_dir[1100];
	struct incident inc[MAX_INCIDENTS];
	fl_evidence_stats st;
	double clip_cpu_old; /* the re-encoding CPU of rings replaced */
};

/* ---- small helpers -------------------------------------------------------- */

static void time_utc(double wall, char *buf, size_t len)
{
	time_t t = (time_t)floor(wall);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void
log_once(fl_evidence_writer *w, struct incident *in, unsigned kind,
	 const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (in && (in->logged & kind))
		return;
	if (in)
		in->logged |= kind;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fl_log(FL_LOG_ERROR, TAG,
	       "%s: incident %s: %s (logged once; detection "
	       "goes on)",
	       w->cam->id, in ? in->id : "-", msg);
}

/* Resize packed BGR24 (area averaging) into a new image. */
static int bgr_resize(const uint8_t *src, int w, int h, int dw, int dh,
		      fl_image *out)
{
	struct SwsContext *sws;
	const uint8_t *s[4] = { src, NULL, NULL, NULL };
	uint8_t *d[4] = { NULL };
	int ss[4] = { w * 3, 0, 0, 0 }, ds[4] = { dw * 3, 0, 0, 0 };

	memset(out, 0, sizeof(*out));
	out->bgr = malloc((size_t)dw * (size_t)dh * 3);
	if (!out->bgr)
		return FL_ENOMEM;
	sws = sws_getContext(w, h, AV_PIX_FMT_BGR24, dw, dh, AV_PIX_FMT_BGR24,
			     SWS_AREA, NULL, NULL, NULL);
	if (!sws) {
		fl_image_free(out);
		return FL_ENOMEM;
	}
	d[0] = out->bgr;
	sws_scale(sws, s, ss, 0, h, d, ds);
	sws_freeContext(sws);
	out->w = dw;
	out->h = dh;
	return 0;
}

static const struct incident *cfind(const fl_evidence_writer *w, const char *id)
{
	for (int i = 0; i < MAX_INCIDENTS; i++)
		if (w->inc[i].used && !strcmp(w->inc[i].id, id))
			return &w->inc[i];
	return NULL;
}

static const fl_lane_conf *lane_conf(const fl_evidence_writer *w,
				     const char *lane)
{
	for (int i = 0; i < w->cam->nlanes; i++)
		if (!strcmp(w->cam->lanes[i].id, lane))
			return &w->cam->lanes[i];
	return NULL;
}

/* Remove this camera's working clips left by an earlier run. */
static void clean_clips(fl_evidence_writer *w)
{
	DIR *d = opendir(w->clips_dir);
	struct dirent *e;
	char prefix[FL_ID_MAX + 2], path[PATHLEN + 256];

	if (!d)
		return;
	snprintf(prefix, sizeof(prefix), "%s-", w->cam->id);
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", w->clips_dir, e->d_name);
		unlink(path);
	}
	closedir(d);
}

static double dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat sb;
	char path[PATHLEN + 256];
	double sum = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
			sum += (double)sb.st_size;
	}
	closedir(d);
	return sum;
}

/* ---- creation ----------------------------------------------------------- */

/*
 * The pre-roll ring for src's stream, tapping src (w->src, w->ring). The
 * ring must still hold rest_since - pre_roll when the occupied event
 * comes: detection confirms rest after rest_s, and the lane may wait a few
 * ticks more (class checks, merging).
 */
static int ring_open(fl_evidence_writer *w, fl_source *src, char *err,
		     size_t errlen)
{
	const fl_evidence_conf *ec = &w->cfg->evidence;
	fl_stream_info si;
	char why[1024];
	int pw, ph;
	double ring_s = ec->pre_roll_s +
			FL_MAX(10.0, 3 * w->cfg->detect.rest_s);

	fl_source_stream_info(src, &si);
	w->ring = fl_preroll_create(&si, ring_s,
				    (size_t)(ec->preroll_mb * 1024 * 1024), why,
				    sizeof(why));
	if (!w->ring) {
		snprintf(err, errlen, "evidence: %s: %s", w->cam->id, why);
		return FL_ENOMEM;
	}
	w->src = src;
	fl_source_set_packet_tap(src, fl_preroll_push, w->ring);
	fl_source_size(src, &pw, &ph);
	fl_log(FL_LOG_INFO, TAG,
	       "%s: pre-roll ring %.0f s / %.0f MiB of %s %dx%d (%s)",
	       w->cam->id, ring_s, ec->preroll_mb, si.codec, pw, ph,
	       fl_preroll_copies(w->ring) ? "stream copy"
					  : "re-encoded to H.264");
	return 0;
}

fl_evidence_writer *fl_evidence_writer_create(const fl_config *cfg, int camera,
					      fl_store *store,
					      const fl_key *key, fl_source *src,
					      double start_wall, char *err,
					      size_t errlen)
{
	const fl_evidence_conf *ec = &cfg->evidence;
	fl_evidence_writer *w = calloc(1, sizeof(*w));
	char why[1024];

	if (!w) {
		snprintf(err, errlen, "evidence: out of memory");
		return NULL;
	}
	w->cfg = cfg;
	w->cam = &cfg->cameras[camera];
	w->store = store;
	w->key = key;
	w->start_wall = start_wall;
	w->ov = fl_overlay_create(ec->font[0] ? ec->font : NULL, why,
				  sizeof(why));
	if (!w->ov) {
		snprintf(err, errlen, "evidence: overlay font: %s", why);
		goto fail;
	}
	if (ring_open(w, src, err, errlen) < 0)
		goto fail;
	if (ec->plates) {
		const char *model = ec->plate_model[0] ? ec->plate_model
						       : FL_PLATE_MODEL;

		/* Not fatal: evidence goes on, plates stay unread. */
		w->reader = fl_plate_reader_create(model, why, sizeof(why));
		if (!w->reader)
			fl_log(FL_LOG_WARN, TAG,
			       "%s: plates will not be read: %s", w->cam->id,
			       why);
	}
	w->still_index = -1;
	w->still_used = -1;
	snprintf(w->clips_dir, sizeof(w->clips_dir), "%s/.clips",
		 fl_store_dir(store));
	if (mkdir(w->clips_dir, 0750) != 0 && errno != EEXIST)
		/* Not fatal: clips will fail and say so, images still work. */
		fl_log(FL_LOG_ERROR, TAG, "%s: cannot create %s: %s",
		       w->cam->id, w->clips_dir, strerror(errno));
	clean_clips(w);
	fl_log(FL_LOG_INFO, TAG, "%s: evidence into %s", w->cam->id,
	       fl_store_dir(store));
	return w;
fail:
	fl_evidence_writer_destroy(w);
	return NULL;
}

/* ---- incidents ---------------------------------------------------------- */

static void pending_free(struct incident *in)
{
	for (int i = 0; i < in->npend; i++)
		free(in->pend[i].jpeg);
	in->npend = 0;
}

static void incident_free(struct incident *in)
{
	fl_clip_abort(in->clip);
	if (in->clip_tmp[0])
		unlink(in->clip_tmp);
	fl_bundle_abort(in->b);
	pending_free(in);
	fl_image_free(&in->first_small);
	fl_image_free(&in->plate_crop);
	fl_evidence_plan_deinit(&in->plan);
	memset(in, 0, sizeof(*in));
}

static struct incident *incident_open(fl_evidence_writer *w, const fl_event *ev)
{
	const fl_evidence_conf *ec = &w->cfg->evidence;
	const fl_lane_conf *lane = lane_conf(w, ev->lane);
	fl_evidence_params prm = { 0 };
	struct incident *in = NULL;

	for (int i = 0; i < MAX_INCIDENTS && !in; i++)
		if (!w->inc[i].used)
			in = &w->inc[i];
	if (!in || !lane) {
		fl_log(FL_LOG_ERROR, TAG,
		       "%s: incident %s: %s; no evidence for it", w->cam->id,
		       ev->incident_id,
		       lane ? "too many open incidents" : "unknown lane");
		return NULL;
	}
	memset(in, 0, sizeof(*in));
	in->used = 1;
	in->lane = lane;
	snprintf(in->id, sizeof(in->id), "%s", ev->incident_id);
	in->alarm_t = -1;
	in->cleared_t = -1;
	in->seal_due = -1;
	in->clip_wait = INFINITY;
	prm.dwell_s = lane->dwell_s;
	prm.pre_roll_s = ec->pre_roll_s;
	prm.post_roll_s = ec->post_roll_s;
	prm.interval_s = ec->interval_s;
	prm.max_images = ec->max_images;
	prm.video_start = 0;
	fl_evidence_plan_init(&in->plan, &prm);
	return in;
}

/* The clip starts with the incident: the ring forgets its start otherwise. */
static void clip_begin(fl_evidence_writer *w, struct incident *in)
{
	double from;
	char err[1400];

	snprintf(in->clip_tmp, sizeof(in->clip_tmp), "%s/%s-%s.mp4",
		 w->clips_dir, w->cam->id, in->id);
	fl_evidence_plan_clip(&in->plan, &from, NULL);
	/* The plan is on the detect clock, the ring on its stream's: a
	 * record stream's pictures of a detect instant are offset seconds
	 * away (0 for the detect stream and for files). */
	in->clip_off = w->rec_offset;
	in->clip = fl_clip_start(w->ring, in->clip_tmp, from + in->clip_off,
				 err, sizeof(err));
	if (!in->clip) {
		snprintf(in->clip_err, sizeof(in->clip_err), "%s", err);
		in->clip_tmp[0] = '\0';
		log_once(w, in, LOG_CLIP, "no clip: %s", err);
	}
}

static int store_image(fl_evidence_writer *w, struct incident *in,
		       const char *name, uint8_t *jpeg, size_t len,
		       const fl_bundle_image *meta);

/* The bundle begins at the alarm; the images kept so far go in. */
static void bundle_begin(fl_evidence_writer *w, struct incident *in)
{
	fl_bundle_info info = { 0 };
	char err[1024];
	int rc;

	if (in->b || in->bundle_failed)
		return;
	info.incident_id = in->id;
	info.device = w->cfg->device_id;
	info.site = w->cfg->site;
	info.camera = w->cam->id;
	info.lane = in->lane->id;
	info.site_name = w->cfg->site_name;
	info.lane_name = in->lane->name;
	info.rest_since_wall = w->start_wall + in->rest_since;
	info.alarm_wall = w->start_wall + in->alarm_t;
	info.cleared_wall = -1;
	memcpy(info.bbox, in->bbox, sizeof(info.bbox));
	info.cls = fl_class_name(in->cls);
	info.dwell_s = in->lane->dwell_s;
	rc = fl_bundle_start(w->store, &info, &in->b, err, sizeof(err));
	if (rc < 0) {
		in->bundle_failed = 1;
		in->b = NULL;
		log_once(w, in, LOG_BUNDLE,
			 "cannot start the evidence bundle: "
			 "%s%s",
			 err, rc == FL_EFULL ? " (evidence store full)" : "");
		pending_free(in);
		return;
	}
	for (int i = 0; i < in->npend; i++) {
		struct pending *p = &in->pend[i];
		store_image(w, in, p->name, p->jpeg, p->len, &p->meta);
		p->jpeg = NULL; /* store_image took it */
	}
	pending_free(in);
}

/*
 * Hand an encoded image to the bundle, or keep it until the bundle begins.
 * Takes ownership of jpeg (freed here or with the pending list).
 */
static int store_image(fl_evidence_writer *w, struct incident *in,
		       const char *name, uint8_t *jpeg, size_t len,
		       const fl_bundle_image *meta)
{
	char err[1024];
	int rc;

	if (in->b) {
		rc = fl_bundle_add(in->b, name, jpeg, len, meta, err,
				   sizeof(err));
		free(jpeg);
		if (rc < 0) {
			log_once(w, in, LOG_IMAGE, "cannot write %s: %s", name,
				 err);
			return rc;
		}
		in->images++;
		w->st.images++;
		return 0;
	}
	if (in->bundle_failed || in->npend == MAX_PENDING) {
		free(jpeg);
		return FL_EIO;
	}
	{
		struct pending *p = &in->pend[in->npend++];

		snprintf(p->name, sizeof(p->name), "%s", name);
		p->jpeg = jpeg;
		p->len = len;
		p->meta = *meta;
		snprintf(p->time_utc, sizeof(p->time_utc), "%s",
			 meta->time_utc);
		snprintf(p->time_local, sizeof(p->time_local), "%s",
			 meta->time_local ? meta->time_local : "");
		snprintf(p->code, sizeof(p->code), "%s", meta->code);
		snprintf(p->sig, sizeof(p->sig), "%s", meta->code_sig);
		snprintf(p->overlay, sizeof(p->overlay), "%s", meta->overlay);
		p->meta.time_utc = p->time_utc;
		p->meta.time_local = p->time_local;
		p->meta.code = p->code;
		p->meta.code_sig = p->sig;
		p->meta.overlay = p->overlay;
		if (meta->plate) {
			memcpy(p->plate, meta->plate, sizeof(p->plate));
			p->meta.plate = p->plate;
		}
	}
	return 0;
}

/* The banner's words (evidence.language, src/core/lang.h). */
static const struct labels {
	const char *seq_before, *seq_after, *code, *lane, *camera, *device,
		*incident, *plate;
} LABELS[FL_LANG_COUNT] = {
	[FL_LANG_ZH] = { "第", "张", "防伪码", "通道", "摄像机", "设备", "事件",
			 "车牌" },
	[FL_LANG_EN] = { "No.", "", "code", "lane", "camera", "device",
			 "incident", "plate" },
};

/*
 * The banner's fields and the metadata of image seq taken at video time t;
 * code and sig from the device key. Returns 0 or an error (logged by the
 * caller).
 */
struct stamp {
	char time_utc[32], time_local[40], code[16], sig[FL_SIG_B64_LEN];
	char field[NFIELDS][300];
	const char *fields[NFIELDS];
	int nfields;
	char drawn[1700]; /* the lines as drawn (the manifest's overlay) */
	fl_bundle_image meta;
};

/* "name (id)", or the id alone when the name is the id (or none); label
 * before it when given. */
static void named(char *buf, size_t len, const char *label, const char *name,
		  const char *id)
{
	if (!name || !*name || !strcmp(name, id))
		snprintf(buf, len, "%s%s%s", label ? label : "",
			 label ? " " : "", id);
	else
		snprintf(buf, len, "%s (%s)", name, id);
}

static int stamp_at(fl_evidence_writer *w, struct incident *in,
		    const char *kind, double t, struct stamp *s, char *err,
		    size_t errlen)
{
	const struct labels *l =
		&LABELS[fl_lang_of(w->cfg->evidence.language) == FL_LANG_EN
				? FL_LANG_EN
				: FL_LANG_ZH];
	double wall = w->start_wall + t;
	int seq = ++in->seq, rc;
	fl_plate_text vote;

	memset(s, 0, sizeof(*s));
	time_utc(wall, s->time_utc, sizeof(s->time_utc));
	fl_time_local(wall, s->time_local, sizeof(s->time_local));
	rc = fl_evidence_code(w->key, w->cfg->device_id, in->id, in->lane->id,
			      seq, s->time_utc, s->code, s->sig,
			      sizeof(s->sig));
	if (rc < 0) {
		snprintf(err, errlen, "anti-forgery code: %s", fl_strerror(rc));
		return rc;
	}
	/* In reading order, the time and the code first: what a reviewer
	 * checks stays on the first line of a narrow close-up. */
	snprintf(s->field[0], sizeof(s->field[0]), "%s", s->time_local);
	snprintf(s->field[1], sizeof(s->field[1]), "%s%d%s", l->seq_before, seq,
		 l->seq_after);
	snprintf(s->field[2], sizeof(s->field[2]), "%s %s", l->code, s->code);
	named(s->field[3], sizeof(s->field[3]), NULL, w->cfg->site_name,
	      w->cfg->site);
	named(s->field[4], sizeof(s->field[4]), l->lane, in->lane->name,
	      in->lane->id);
	snprintf(s->field[5], sizeof(s->field[5]), "%s %s", l->camera,
		 w->cam->id);
	snprintf(s->field[6], sizeof(s->field[6]), "%s %s", l->device,
		 w->cfg->device_id);
	snprintf(s->field[7], sizeof(s->field[7]), "%s %s", l->incident,
		 in->id);
	s->nfields = 8;
	/* the plate as voted so far, once it is read (an image taken before
	 * has none; the manifest has the final vote) */
	if (w->reader && fl_plate_vote(in->reads, in->nreads,
				       FL_PLATE_MIN_CONF_SCRIPT, &vote) == 1)
		snprintf(s->field[s->nfields++], sizeof(s->field[0]), "%s %s",
			 l->plate, vote.text);
	for (int i = 0; i < s->nfields; i++)
		s->fields[i] = s->field[i];
	s->meta.kind = kind;
	s->meta.seq = seq;
	s->meta.wall = wall;
	s->meta.video_t = t;
	s->meta.time_utc = s->time_utc;
	s->meta.time_local = s->time_local;
	s->meta.code = s->code;
	s->meta.code_sig = s->sig;
	s->meta.overlay = s->drawn;
	return 0;
}

/* stamp_at() for an image of picture p, which the manifest names. */
static int stamp(fl_evidence_writer *w, struct incident *in, const char *kind,
		 const struct picture *p, struct stamp *s, char *err,
		 size_t errlen)
{
	int rc = stamp_at(w, in, kind, p->t, s, err, errlen);

	s->meta.stream = p->stream;
	s->meta.stream_t = p->stream_t;
	s->meta.aligned = p->aligned;
	return rc;
}

/*
 * The picture with its banner band above (a new image), encoded and
 * stored. plate: a box in pic's pixels or NULL (it moves down with the
 * band). banded (may be NULL) gets the image with its band, for the
 * composite; else it is freed here.
 */
static int finish_image(fl_evidence_writer *w, struct incident *in,
			const char *name, const fl_image *pic,
			const double *plate, struct stamp *s, fl_image *banded,
			char *err, size_t errlen)
{
	fl_image out = { 0 };
	uint8_t *jpeg = NULL;
	double box[4];
	size_t len = 0;
	int rc;

	rc = fl_overlay_band(w->ov, pic, s->fields, s->nfields, &out,
			     &s->meta.banner_px, s->drawn, sizeof(s->drawn),
			     err, errlen);
	if (rc < 0)
		return rc;
	if (plate) {
		memcpy(box, plate, sizeof(box));
		box[1] += s->meta.banner_px;
		s->meta.plate = box;
	}
	rc = fl_jpeg_encode(out.bgr, out.w, out.h,
			    w->cfg->evidence.jpeg_quality, &jpeg, &len, err,
			    errlen);
	if (rc == 0) {
		rc = store_image(w, in, name, jpeg, len, &s->meta);
		if (rc < 0)
			snprintf(err, errlen, "%s: not stored", name);
	}
	s->meta.plate = NULL; /* box is this function's */
	if (rc == 0 && banded)
		*banded = out;
	else
		fl_image_free(&out);
	return rc;
}

/* out = a copy of box (x, y, w, h) of the packed BGR24 image w x h, grown by
 * PLATE_MARGIN a side and clipped. 0, or FL_EINVAL / FL_ENOMEM. */
static int crop_bgr(const uint8_t *bgr, int w, int h, const double *box,
		    fl_image *out)
{
	int x0 = (int)FL_MAX(0, floor(box[0] - PLATE_MARGIN * box[2]));
	int y0 = (int)FL_MAX(0, floor(box[1] - PLATE_MARGIN * box[3]));
	int x1 = (int)FL_MIN(w, ceil(box[0] + (1 + PLATE_MARGIN) * box[2]));
	int y1 = (int)FL_MIN(h, ceil(box[1] + (1 + PLATE_MARGIN) * box[3]));

	memset(out, 0, sizeof(*out));
	if (x1 - x0 < 2 || y1 - y0 < 2)
		return FL_EINVAL;
	out->bgr = malloc((size_t)(x1 - x0) * (size_t)(y1 - y0) * 3);
	if (!out->bgr)
		return FL_ENOMEM;
	out->w = x1 - x0;
	out->h = y1 - y0;
	for (int y = y0; y < y1; y++)
		memcpy(out->bgr + (size_t)(y - y0) * out->w * 3,
		       bgr + ((size_t)y * w + x0) * 3, (size_t)out->w * 3);
	return 0;
}

/* A box in detect pixels (x, y, w, h) in p's pixels. */
static void picture_box(const struct picture *p, const double *box, double *out)
{
	out[0] = box[0] * p->sx;
	out[1] = box[1] * p->sy;
	out[2] = box[2] * p->sx;
	out[3] = box[3] * p->sy;
}

/*
 * The picture of detect frame f for in's evidence (into *p, returned): the
 * record stream's picture at f's time when the camera has one that is up,
 * decoded from the ring once per frame however many incidents ask; else,
 * and when that decode fails (logged), the detect frame
 * (bgr(user), which may be NULL: p->bgr NULL then).
 */
static const struct picture *picture(fl_evidence_writer *w, struct incident *in,
				     const fl_frame *f, fl_bgr_fn bgr,
				     void *user, struct picture *p)
{
	char err[512];
	int rc;

	memset(p, 0, sizeof(*p));
	p->t = f->t;
	p->index = f->index;
	if (w->record && !strcmp(w->record, "ok")) {
		if (w->still_index != f->index) {
			free(w->still.bgr);
			memset(&w->still, 0, sizeof(w->still));
			w->still_index = f->index;
			rc = fl_preroll_still(w->ring, f->t + w->rec_offset,
					      &w->still, err, sizeof(err));
			if (rc == 0 &&
			    w->still.t < f->t + w->rec_offset - STILL_STALE_S) {
				/* a stream that stalls is "ok" until its
				 * read times out, its last picture old */
				snprintf(err, sizeof(err),
					 "the newest record picture is %.1f s "
					 "old",
					 f->t + w->rec_offset - w->still.t);
				rc = FL_ENOENT;
			}
			w->still_failed = rc < 0;
			w->still_used = f->t;
			if (rc < 0)
				fl_log(FL_LOG_WARN, TAG,
				       "%s: no record still at %.2f s: %s; "
				       "the detect frame is used",
				       w->cam->id, f->t, err);
		}
		if (!w->still_failed) {
			p->bgr = w->still.bgr;
			p->w = w->still.w;
			p->h = w->still.h;
			p->sx = (double)p->w / f->width;
			p->sy = (double)p->h / f->height;
			p->stream = "record";
			p->stream_t = w->still.t - w->rec_offset;
			p->aligned = w->rec_aligned;
			return p;
		}
		in->record_lost = 1;
	}
	p->bgr = bgr ? bgr(user) : NULL;
	p->w = f->width;
	p->h = f->height;
	p->sx = p->sy = 1;
	if (w->record) {
		p->stream = "detect";
		p->stream_t = f->t;
		p->aligned = "none";
	}
	return p;
}

/*
 * Look for the plate of in's object on frame f (raw: its BGR24) and read it
 * (the note on plates above). found (may be NULL) gets the localiser's best
 * box. Returns 1 when the localiser found a plate, else 0. A read with a
 * text joins in->reads; the crop of the most confident read is kept. A
 * failed read is logged once and counts as unread.
 */
static int read_plate(fl_evidence_writer *w, struct incident *in,
		      const struct picture *f, fl_plate *found)
{
	const uint8_t *raw = f->bgr;
	fl_plate p;
	fl_plate_text t;
	fl_image crop;
	double box[4];
	int rc;

	in->plate_next = f->t + PLATE_EVERY_S;
	if (w->reader && in->nreads < FL_PLATE_VOTE_MAX)
		in->plate_tries++;
	picture_box(f, in->bbox, box);
	if (fl_plate_find(raw, f->w, f->h, box, &p, 1) <= 0)
		return 0;
	if (found)
		*found = p;
	if (!w->reader || in->nreads == FL_PLATE_VOTE_MAX)
		return 1;
	box[0] = p.x;
	box[1] = p.y;
	box[2] = p.w;
	box[3] = p.h;
	rc = fl_plate_read(w->reader, raw, f->w, f->h, box, &t);
	if (rc < 0) {
		log_once(w, in, LOG_PLATE, "plate read: %s", fl_strerror(rc));
		return 1;
	}
	/* a Latin text on a camera of Chinese plates is a dropped province
	 * (docs/plate-model.md, "What still fails"), not a plate */
	if (t.nchars > 0 && w->cfg->evidence.plates_cn_only &&
	    fl_plate_shape(t.text) != FL_PLATE_SHAPE_CN)
		t.nchars = 0;
	t.t = f->t; /* reads close in time vote as one (fl_plate_vote) */
	if (t.nchars > 0)
		in->reads[in->nreads++] = t;
	if ((!in->plate_crop.bgr || t.conf > in->plate_crop_conf) &&
	    crop_bgr(raw, f->w, f->h, box, &crop) == 0) {
		fl_image_free(&in->plate_crop);
		in->plate_crop = crop;
		in->plate_crop_conf = t.conf;
		in->plate_crop_t = f->t;
	}
	return 1;
}

/*
 * The alarm's extra images: a close-up of the object (plate boxed when
 * found: plate, or NULL) and the composite of the first scene, the alarm
 * scene and the close-up. raw: the frame without banner; scene: the alarm
 * scene with its banner.
 */
static void closeup_and_composite(fl_evidence_writer *w, struct incident *in,
				  const struct picture *f,
				  const fl_image *scene, const fl_plate *plate)
{
	const uint8_t *raw = f->bgr;
	fl_image cu = { 0 }, cub = { 0 }, comp = { 0 };
	fl_image scenes[2];
	struct stamp s;
	char err[1024];
	double plate_box[4], box[4];
	int nscenes = 0, rc;

	picture_box(f, in->bbox, box);
	rc = fl_evidence_closeup(raw, f->w, f->h, box, plate,
				 w->cfg->evidence.closeup_max_px, &cu, err,
				 sizeof(err));
	if (rc < 0) {
		log_once(w, in, LOG_IMAGE, "close-up: %s", err);
		goto done;
	}
	if (stamp(w, in, "closeup", f, &s, err, sizeof(err)) < 0)
		goto fail;
	if (plate) {
		/* The plate in the close-up's pixels: the crop is the box
		 * grown by 15% a side, clipped, then scaled. */
		double gx = FL_MAX(0, box[0] - 0.15 * box[2]);
		double gy = FL_MAX(0, box[1] - 0.15 * box[3]);
		double gx1 = FL_MIN(f->w, box[0] + 1.15 * box[2]);
		double sc = gx1 > gx ? cu.w / (gx1 - gx) : 1;

		plate_box[0] = (plate->x - gx) * sc;
		plate_box[1] = (plate->y - gy) * sc;
		plate_box[2] = plate->w * sc;
		plate_box[3] = plate->h * sc;
	}
	if (finish_image(w, in, "closeup.jpg", &cu, plate ? plate_box : NULL,
			 &s, &cub, err, sizeof(err)) < 0)
		goto fail;
	in->closeup = 1;

	if (in->first_small.bgr)
		scenes[nscenes++] = in->first_small;
	scenes[nscenes++] = *scene;
	rc = fl_evidence_composite(scenes, nscenes, &cub, COMPOSITE_W, &comp,
				   err, sizeof(err));
	if (rc < 0) {
		log_once(w, in, LOG_IMAGE, "composite: %s", err);
		goto done;
	}
	if (stamp(w, in, "composite", f, &s, err, sizeof(err)) < 0 ||
	    finish_image(w, in, "composite.jpg", &comp, NULL, &s, NULL, err,
			 sizeof(err)) < 0)
		goto fail;
	in->composite = 1;
	goto done;
fail:
	log_once(w, in, LOG_IMAGE, "%s", err);
done:
	fl_image_free(&cu);
	fl_image_free(&cub);
	fl_image_free(&comp);
	/* The first scene has served: free it now. */
	fl_image_free(&in->first_small);
}

/* A scene image of the current frame; 0 when it was stored. */
static int shoot(fl_evidence_writer *w, struct incident *in,
		 const struct picture *f)
{
	const uint8_t *raw = f->bgr;
	int kind = in->plan.shot_kind;
	/* the frame is only read: the band goes into a new image */
	fl_image pic = { (uint8_t *)raw, f->w, f->h };
	fl_image scene = { 0 };
	fl_plate plate;
	struct stamp s;
	char err[1024], name[48];
	int rc, found;

	if (!raw) {
		log_once(w, in, LOG_IMAGE, "no picture of frame %lld",
			 (long long)f->index);
		return FL_EIO;
	}
	rc = stamp(w, in, "scene", f, &s, err, sizeof(err));
	snprintf(name, sizeof(name), "scene-%02d-%s.jpg", s.meta.seq,
		 fl_evidence_shot_name(kind));
	if (rc == 0)
		rc = finish_image(w, in, name, &pic, NULL, &s, &scene, err,
				  sizeof(err));
	if (rc < 0) {
		log_once(w, in, LOG_IMAGE, "%s", err);
		return rc;
	}
	if (!in->first_small.bgr && kind == FL_SHOT_REST) {
		int sw = FL_MIN(SMALL_W, scene.w);
		int sh = (int)lround((double)scene.h * sw / scene.w);
		if (bgr_resize(scene.bgr, scene.w, scene.h, sw, FL_MAX(sh, 1),
			       &in->first_small) < 0)
			memset(&in->first_small, 0, sizeof(in->first_small));
	}
	/* without a reader, the plate is only looked for for the close-up */
	found = (w->reader || kind == FL_SHOT_ALARM) &&
		read_plate(w, in, f, &plate);
	if (kind == FL_SHOT_ALARM)
		closeup_and_composite(w, in, f, &scene, found ? &plate : NULL);
	fl_image_free(&scene);
	return 0;
}

/*
 * Move the finished clip into the bundle; anything wrong becomes a note.
 * A re-encoding that lags is given in->clip_wait seconds, then cut: the
 * clip holds what was re-encoded, its t_to says where it ends, and a note
 * says how much earlier than the video it was given, and why
 * (docs/evidence.md, "Clip").
 */
static void clip_into_bundle(fl_evidence_writer *w, struct incident *in)
{
	char err[5200], path[PATHLEN], note[5300];
	double from = 0, to = 0;
	fl_clip_span sp;
	int rc;

	if (!in->clip) {
		snprintf(note, sizeof(note), "no clip: %s",
			 in->clip_err[0] ? in->clip_err : "not started");
		fl_bundle_note(in->b, note);
		return;
	}
	rc = fl_clip_finish_within(in->clip, in->clip_wait, &sp, err,
				   sizeof(err));
	in->clip = NULL;
	/* the manifest's times are the detect clock's */
	from = sp.t_from - in->clip_off;
	to = sp.t_to - in->clip_off;
	if (rc == 0 && sp.left > 0) {
		snprintf(note, sizeof(note),
			 "clip ends early, at %.1f s instead of %.1f s: %s, and "
			 "the re-encoding of the clip (to H.264) lagged; it was "
			 "stopped with %d packets (%.1f s of video) not "
			 "re-encoded",
			 to, sp.t_given - in->clip_off,
			 in->cut_why ? in->cut_why : "the seal could not wait",
			 sp.left, sp.t_given - sp.t_to);
		fl_bundle_note(in->b, note);
		log_once(w, in, LOG_CLIP, "%s", note);
	}
	if (rc == 0) {
		double want;

		fl_evidence_plan_clip(&in->plan, &want, NULL);
		/* One GOP early is the design; late means the ring had lost
		 * the start (an alarm held back by inactive hours). */
		if (from > want + 1.0) {
			snprintf(note, sizeof(note),
				 "clip starts at %.1f s, %.1f s after the "
				 "planned start (the pre-roll no longer reached "
				 "back that far)",
				 from, from - want);
			fl_bundle_note(in->b, note);
		}
	}
	if (rc == 0 &&
	    (rc = fl_bundle_path(in->b, "clip.mp4", path, sizeof(path))) == 0) {
		if (rename(in->clip_tmp, path) != 0) {
			snprintf(err, sizeof(err), "move %s to %s: %s",
				 in->clip_tmp, path, strerror(errno));
			rc = FL_EIO;
		} else {
			in->clip_tmp[0] = '\0';
			rc = fl_bundle_add_existing(in->b, "clip.mp4", "clip",
						    from, to, err, sizeof(err));
			if (rc < 0)
				unlink(path); /* unlisted files block the seal */
		}
	}
	if (rc < 0) {
		log_once(w, in, LOG_CLIP, "clip: %s", err);
		snprintf(note, sizeof(note), "no clip: %s", err);
		fl_bundle_note(in->b, note);
	}
}

/*
 * The plate for the manifest (the vote over all reads) and plate.jpg, the
 * crop of the most confident read, scaled like a close-up and stamped.
 */
static void plate_into_bundle(fl_evidence_writer *w, struct incident *in)
{
	fl_plate_text vote;
	fl_image up = { 0 };
	struct stamp s;
	char err[1024];
	double whole[4] = { 0, 0, 0, 0 };

	if (!w->reader || !in->plate_tries)
		return;
	if (fl_plate_vote(in->reads, in->nreads, FL_PLATE_MIN_CONF_SCRIPT,
			  &vote) >= 0)
		fl_bundle_set_plate(in->b, vote.text, vote.conf);
	if (!in->plate_crop.bgr)
		return;
	whole[2] = in->plate_crop.w;
	whole[3] = in->plate_crop.h;
	if (fl_evidence_closeup(in->plate_crop.bgr, in->plate_crop.w,
				in->plate_crop.h, whole, NULL,
				w->cfg->evidence.closeup_max_px, &up, err,
				sizeof(err)) < 0 ||
	    stamp_at(w, in, "plate", in->plate_crop_t, &s, err, sizeof(err)) <
		    0 ||
	    finish_image(w, in, "plate.jpg", &up, NULL, &s, NULL, err,
			 sizeof(err)) < 0)
		log_once(w, in, LOG_PLATE, "plate image: %s", err);
	fl_image_free(&up);
}

static void seal(fl_evidence_writer *w, struct incident *in)
{
	char note[1024], out[PATHLEN], err[1024];
	double pre, post;
	int rc;

	if (in->alarm_t >= 0)
		bundle_begin(w, in);
	if (!in->b) {
		w->st.failed++;
		incident_free(in);
		return;
	}
	clip_into_bundle(w, in);
	plate_into_bundle(w, in);
	if (fl_evidence_plan_note(&in->plan, note, sizeof(note)) > 0)
		fl_bundle_note(in->b, note);
	if (!in->closeup)
		fl_bundle_note(in->b, "no close-up (see the device log)");
	if (!in->composite)
		fl_bundle_note(in->b, "no composite (see the device log)");
	if (in->cleared_t >= 0)
		fl_bundle_set_cleared(in->b, w->start_wall + in->cleared_t);
	if (w->record)
		fl_bundle_set_record(in->b, in->record_lost ? "lost" : "ok");
	rc = fl_bundle_seal(in->b, w->key, out, sizeof(out), err, sizeof(err));
	if (rc < 0) {
		log_once(w, in, LOG_SEAL, "cannot seal the bundle: %s", err);
		w->st.failed++;
		incident_free(in); /* aborts the bundle */
		return;
	}
	in->b = NULL;
	w->st.sealed++;
	w->st.bytes += dir_bytes(out);
	fl_evidence_plan_clip(&in->plan, &pre, &post);
	fl_log(FL_LOG_INFO, TAG,
	       "%s: sealed %s: %d images, clip window "
	       "%.1f-%.1f s%s%s",
	       w->cam->id, out, in->images, pre, post, note[0] ? "; " : "",
	       note);
	incident_free(in);
	if (fl_store_prune(w->store, (double)time(NULL), err, sizeof(err)) < 0)
		fl_log(FL_LOG_WARN, TAG, "retention: %s", err);
}

static void discard(fl_evidence_writer *w, struct incident *in)
{
	fl_log(FL_LOG_DEBUG, TAG,
	       "%s: incident %s left before its alarm: "
	       "evidence discarded",
	       w->cam->id, in->id);
	w->st.discarded++;
	incident_free(in);
}

/*
 * Seal, unless the clip is still being re-encoded (fl_clip_busy): then on a
 * later frame, so that the camera thread does not wait for the encoder
 * (in->seal_due: since when, monotonic). end: the end of input, seal (and
 * wait) now.
 */
static void seal_when_clip_done(fl_evidence_writer *w, struct incident *in,
				int end)
{
	double late = fl_mono_s() - in->seal_due;

	if (!end && fl_clip_busy(in->clip)) {
		if (late <= SEAL_WAIT_S)
			return;
		/* cut: what is re-encoded goes in, a note says the rest */
		in->clip_wait = 0;
		in->cut_why = "the seal had waited the longest it may";
	}
	seal(w, in);
}

/* Do what the plan asks at t; f NULL at the end of input (no pictures). */
static void act(fl_evidence_writer *w, struct incident *in, const fl_frame *f,
		double t, fl_bgr_fn bgr, void *user)
{
	enum fl_evidence_action a;
	struct picture pic;

	if (in->seal_due >= 0) {
		seal_when_clip_done(w, in, !f);
		return;
	}
	if (w->record && strcmp(w->record, "ok"))
		in->record_lost = 1;
	if (in->clip && in->alarm_t < 0 &&
	    t > in->rest_since + in->lane->dwell_s + CLIP_WAIT_S) {
		fl_log(FL_LOG_INFO, TAG,
		       "%s: incident %s: no alarm %.0f s "
		       "after the rest; clip dropped until the alarm",
		       w->cam->id, in->id, t - in->rest_since);
		fl_clip_abort(in->clip);
		in->clip = NULL;
		in->clip_tmp[0] = '\0';
	}

	while (in->used &&
	       (a = fl_evidence_plan_tick(&in->plan, t)) != FL_EVP_NONE) {
		switch (a) {
		case FL_EVP_SHOOT:
			if (f && shoot(w, in,
				       picture(w, in, f, bgr, user, &pic)) == 0)
				fl_evidence_plan_taken(&in->plan, t);
			break;
		case FL_EVP_SEAL:
			in->seal_due = fl_mono_s();
			if (f && fl_clip_busy(in->clip))
				fl_log(FL_LOG_INFO, TAG,
				       "%s: incident %s: the seal waits for "
				       "the clip's re-encoding",
				       w->cam->id, in->id);
			seal_when_clip_done(w, in, !f);
			break;
		case FL_EVP_DISCARD:
			discard(w, in);
			break;
		case FL_EVP_NONE:
			break;
		}
	}
	/* the frames between scene images: the plate while the object rests */
	if (in->used && f && bgr && w->reader && in->cleared_t < 0 &&
	    t >= in->plate_next && in->nreads < FL_PLATE_VOTE_MAX) {
		if (picture(w, in, f, bgr, user, &pic)->bgr)
			read_plate(w, in, &pic, NULL);
	}
}

/* ---- the sink and the act phase ------------------------------------------ */

void fl_evidence_writer_event(const fl_event *ev, void *writer)
{
	fl_evidence_writer *w = writer;
	struct incident *in = (struct incident *)cfind(w, ev->incident_id);
	double to, c0, w0, c1, w1;

	if (!w)
		return;
	c0 = fl_cpu_s();
	w0 = fl_mono_s();
	if (!in) {
		if (ev->type != FL_EV_OCCUPIED && ev->type != FL_EV_ALARM)
			goto out; /* sealed already, or never ours */
		in = incident_open(w, ev);
		if (!in)
			goto out;
		fl_evidence_plan_event(&in->plan, ev);
		in->rest_since = ev->rest_since;
		clip_begin(w, in);
	} else {
		fl_evidence_plan_event(&in->plan, ev);
	}
	if (ev->type == FL_EV_OCCUPIED || ev->type == FL_EV_ALARM) {
		memcpy(in->bbox, ev->bbox, sizeof(in->bbox));
		in->cls = ev->cls;
	}
	switch (ev->type) {
	case FL_EV_ALARM:
		in->alarm_t = ev->t;
		in->rest_since = ev->rest_since; /* the alarm's word is final */
		bundle_begin(w, in);
		if (!in->clip && !(in->logged & LOG_CLIP))
			clip_begin(w, in); /* dropped while the alarm waited */
		break;
	case FL_EV_CLEARED:
		in->cleared_t = ev->t;
		break;
	default:
		break;
	}
	fl_evidence_plan_clip(&in->plan, NULL, &to);
	fl_clip_set_end(in->clip, to + in->clip_off);
out:
	c1 = fl_cpu_s();
	w1 = fl_mono_s();
	w->st.cpu_s += c1 - c0;
	w->st.wall_s += w1 - w0;
}

/*
 * Memory. A camera in an incident works at the record stream's full
 * resolution for a moment: the still's decoder and its reference frames,
 * the picture in BGR, the banner, the close-up and the composite, about
 * 25 MB at 1080p. Between those moments (a car parked for an hour is read
 * every PLATE_EVERY_S) little of it is kept: the picture of a frame only
 * for that frame, the still's decoder until no picture was asked for in
 * STILL_KEEP_S of video (a later still of the same GOP then decodes from
 * its keyframe again, at most one GOP); then the heap's free pages are
 * given back to the system (glibc keeps what a thread freed in that
 * thread's arena, one per camera thread, and every camera that ever made
 * evidence would hold its peak; docs/health.md, "Cameras per device").
 */
static void still_forget(fl_evidence_writer *w, const fl_frame *f, int any)
{
	if (w->still_index >= 0 && w->still_index != f->index) {
		free(w->still.bgr);
		memset(&w->still, 0, sizeof(w->still));
		w->still_index = -1;
	}
	if (w->still_used >= 0 &&
	    (!any || f->t - w->still_used > STILL_KEEP_S)) {
		fl_preroll_still_release(w->ring);
		w->still_used = -1;
#ifdef __GLIBC__
		malloc_trim(0);
#endif
	}
}

void fl_evidence_writer_frame(fl_evidence_writer *w, const fl_frame *f,
			      fl_bgr_fn bgr, void *user)
{
	double c0, w0, c1, w1;
	int any = 0;

	if (!w)
		return;
	for (int i = 0; i < MAX_INCIDENTS && !any; i++)
		any = w->inc[i].used;
	still_forget(w, f, any);
	if (!any)
		return;
	c0 = fl_cpu_s();
	w0 = fl_mono_s();
	for (int i = 0; i < MAX_INCIDENTS; i++)
		if (w->inc[i].used)
			act(w, &w->inc[i], f, f->t, bgr, user);
	c1 = fl_cpu_s();
	w1 = fl_mono_s();
	w->st.cpu_s += c1 - c0;
	w->st.wall_s += w1 - w0;
}

void fl_evidence_writer_set_record(fl_evidence_writer *w, const char *state,
				   double offset_s, const char *aligned)
{
	if (!w)
		return;
	if (w->record && state && strcmp(w->record, state))
		fl_log(FL_LOG_INFO, TAG, "%s: record stream %s%s", w->cam->id,
		       state,
		       strcmp(state, "ok") ? ": stills from the detect stream"
					   : "");
	w->record = state;
	w->rec_offset = offset_s;
	w->rec_aligned = aligned;
}

int fl_evidence_writer_set_source(fl_evidence_writer *w, fl_source *src,
				  char *err, size_t errlen)
{
	fl_preroll *old = w->ring;
	fl_source *old_src = w->src;

	for (int i = 0; i < MAX_INCIDENTS; i++)
		if (w->inc[i].used) {
			snprintf(err, errlen, "an incident is open");
			return FL_EAGAIN;
		}
	if (ring_open(w, src, err, errlen) < 0) {
		w->ring = old;
		w->src = old_src;
		return FL_ENOMEM;
	}
	fl_source_set_packet_tap(old_src, NULL, NULL);
	w->clip_cpu_old += fl_preroll_clip_cpu_s(old);
	free(w->still.bgr);
	memset(&w->still, 0, sizeof(w->still));
	w->still_index = -1;
	w->still_used = -1; /* its decoder goes with the ring */
	fl_preroll_destroy(old);
	return 0;
}

void fl_evidence_writer_finish(fl_evidence_writer *w, double t, double wait_s)
{
	double until = fl_mono_s() + wait_s;

	if (!w)
		return;
	for (int i = 0; i < MAX_INCIDENTS; i++) {
		if (!w->inc[i].used)
			continue;
		/* one budget for all: the incidents are sealed one by one */
		if (isfinite(wait_s)) {
			w->inc[i].clip_wait = FL_MAX(0, until - fl_mono_s());
			w->inc[i].cut_why = "the edge was stopping";
		}
		fl_evidence_plan_end(&w->inc[i].plan, t);
		act(w, &w->inc[i], NULL, t, NULL, NULL);
	}
}

int fl_evidence_writer_plate(const fl_evidence_writer *w,
			     const char *incident_id, fl_plate_text *out)
{
	const struct incident *in = w ? cfind(w, incident_id) : NULL;

	if (!in || !w->reader || !in->plate_tries)
		return FL_ENOENT;
	return fl_plate_vote(in->reads, in->nreads, FL_PLATE_MIN_CONF_SCRIPT,
			     out);
}

void fl_evidence_writer_stats(const fl_evidence_writer *w,
			      fl_evidence_stats *st)
{
	fl_preroll_stats ps;

	memset(st, 0, sizeof(*st));
	if (!w)
		return;
	*st = w->st;
	fl_preroll_get_stats(w->ring, &ps);
	st->preroll_bytes = ps.bytes;
	st->preroll_peak = ps.peak_bytes;
	st->preroll_max_s = ps.max_s;
	st->clip_cpu_s = w->clip_cpu_old + fl_preroll_clip_cpu_s(w->ring);
}

void fl_evidence_writer_destroy(fl_evidence_writer *w)
{
	if (!w)
		return;
	for (int i = 0; i < MAX_INCIDENTS; i++)
		if (w->inc[i].used)
			incident_free(&w->inc[i]);
	if (w->src)
		fl_source_set_packet_tap(w->src, NULL, NULL);
	fl_preroll_destroy(w->ring);
	free(w->still.bgr);
	fl_overlay_destroy(w->ov);
	fl_plate_reader_destroy(w->reader);
	free(w);
}
