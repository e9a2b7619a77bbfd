/*
 * record.c - a camera's record stream (see record.h).
 *
 * A note on the model. A camera with two streams analyses the small one
 * (detect, ~640x360) and keeps the large one (record, 1080p to 4K) only for
 * evidence: stills at its resolution and the clip. Decoding 4K costs most of
 * a core; demuxing it costs next to nothing. So the record stream is opened
 * demux-only (fl_source_pump): its compressed packets go straight into the
 * evidence writer's pre-roll ring through the packet tap, and a picture is
 * decoded only when evidence asks for one (fl_preroll_still: from the last
 * keyframe, one GOP at most).
 *
 * Step. The camera calls edge_record_pump() after each detect frame with the
 * frame's time; the record stream is read until its packets pass that time
 * (plus the clocks' offset), so the ring holds the record picture of every
 * detect frame by the time evidence wants it. Files are read as fast as
 * detection goes; a live camera's packets arrive in real time in step with
 * the detect stream.
 *
 * Clocks. Each stream's video time starts at its own first keyframe. Files
 * of one scene start together ("start": offset 0). A live camera's streams
 * start when each was joined: the offset is the difference of the receive
 * times of their first packets ("receive"; off by the network and the
 * camera's encoder latency between the streams: 18 ms against the RTSP
 * test camera here, whose two streams share one clock). RTCP sender
 * reports would do better, but FFmpeg gives only the wall time of a
 * session's first report (start_time_realtime), not the RTP timestamp it
 * belongs to, and the two streams are two sessions: no mapping of video
 * time to wall time follows from it, so it is not used.
 *
 * Loss. A live record stream that fails is reconnected on its own with the
 * camera's backoff (1, 2, 4 ... 30 s, +-20 %), one attempt per call at
 * most; meanwhile the state is "lost" and the evidence writer takes stills
 * from the detect frame and says so in the manifest. Detection never waits
 * for the record stream beyond one read timeout (cameras[].record's
 * timeout_s, 10 s when not set: the camera thread reads both streams), or
 * one open and probe of half that each when reconnecting.
 */
#include "record.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fl.h"

#define TAG "camera"
#define BACKOFF_MAX_S 30.0
/* The record stream's timeout when cameras[].record sets none: the
 * detect stream's. The camera thread waits for it (a stalled stream holds
 * detection up this long per read, and half as long per open and probe
 * when reconnecting), but opening must outlast the probe, which waits for
 * a keyframe when the camera sends its parameters only with it: 4 s failed
 * on an RTSP camera with a 10 s GOP. */
#define DEFAULT_TIMEOUT_MS 10000
#define BACKOFF_JITTER 0.2

struct edge_record {
	const fl_camera_conf *conf;
	fl_source *src;
	int live;
	int w, h;
	const char *state; /* "ok", "lost" */
	int aligned_set;
	double offset;
	const char *aligned;
	int attempts;
	double next_try; /* monotonic */
	unsigned rng;
};

edge_record *edge_record_open(const fl_camera_conf *conf, int realtime,
			      char *err, size_t errlen)
{
	edge_record *r = calloc(1, sizeof(*r));
	fl_source_opts so = { 0 };

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	so.threads = 1;
	so.demux_only = 1;
	so.udp = conf->record.udp;
	so.timeout_ms = conf->record.timeout_s > 0
				? (int)lround(conf->record.timeout_s * 1000)
				: DEFAULT_TIMEOUT_MS;
	r->conf = conf;
	r->state = "ok";
	r->rng = (unsigned)(uint64_t)(fl_mono_s() * 1e6);
	r->src = fl_source_open(conf->record.url, &so, err, errlen);
	if (!r->src) {
		free(r);
		return NULL;
	}
	r->live = realtime && fl_source_is_live(r->src);
	fl_source_size(r->src, &r->w, &r->h);
	return r;
}

fl_source *edge_record_source(edge_record *r)
{
	return r ? r->src : NULL;
}

void edge_record_size(const edge_record *r, int *w, int *h)
{
	*w = r ? r->w : 0;
	*h = r ? r->h : 0;
}

/* The clocks' offset, once, from the first packet (see the essay). */
static void align(edge_record *r, double det_mono0)
{
	r->aligned_set = 1;
	if (!r->live) {
		r->offset = 0;
		r->aligned = "start";
	} else {
		r->offset = det_mono0 - (fl_mono_s() - fl_source_time(r->src));
		r->aligned = "receive";
	}
	fl_log(FL_LOG_INFO, TAG,
	       "%s: record stream %dx%d aligned by %s, offset %+.3f s",
	       r->conf->id, r->w, r->h, r->aligned, r->offset);
}

static void lose(edge_record *r, const char *why)
{
	double now = fl_mono_s(), delay;

	if (!strcmp(r->state, "ok"))
		fl_log(FL_LOG_WARN, TAG,
		       "%s: record stream lost: %s; detection goes on, "
		       "stills from the detect stream",
		       r->conf->id, why);
	r->state = "lost";
	if (!r->live) {
		r->next_try = INFINITY; /* a file that ended stays ended */
		return;
	}
	delay = r->attempts == 0
			? 0
			: FL_MIN(BACKOFF_MAX_S,
				 (double)(1u << FL_MIN(r->attempts - 1, 5)));
	r->rng = r->rng * 1103515245u + 12345u;
	delay *= 1 + BACKOFF_JITTER * (((r->rng >> 16) & 0x7fff) / 16383.5 - 1);
	r->attempts++;
	r->next_try = now + delay;
}

const char *edge_record_pump(edge_record *r, double t, double det_mono0)
{
	char err[1024];
	int rc;

	if (!r)
		return "lost";
	if (!strcmp(r->state, "lost")) {
		if (fl_mono_s() < r->next_try)
			return r->state;
		rc = fl_source_reopen(r->src, err, sizeof(err));
		if (rc < 0) {
			fl_log(FL_LOG_WARN, TAG,
			       "%s: record stream reconnect %d failed: %s",
			       r->conf->id, r->attempts, err);
			lose(r, err);
			return r->state;
		}
		fl_log(FL_LOG_WARN, TAG, "%s: record stream back", r->conf->id);
		r->state = "ok";
		r->attempts = 0;
	}
	if (!r->aligned_set) {
		rc = fl_source_pump(r->src, -INFINITY, err, sizeof(err));
		if (rc < 0) {
			lose(r, err);
			return r->state;
		}
		align(r, det_mono0);
	}
	rc = fl_source_pump(r->src, t + r->offset, err, sizeof(err));
	if (rc < 0)
		lose(r, rc == FL_EEOF ? "the stream ended" : err);
	return r->state;
}

double edge_record_offset(const edge_record *r, const char **aligned)
{
	if (aligned)
		*aligned = r && r->aligned ? r->aligned : "start";
	return r ? r->offset : 0;
}

void edge_record_close(edge_record *r)
{
	if (!r)
		return;
	fl_source_close(r->src);
	free(r);
}
