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
 * Two ways to read it. A live stream (the edge runs live and the url is a
 * network stream or a device) is read by a thread of its own: losing the
 * record stream degrades the evidence, never the detection, and a stalled
 * camera holds a read for the whole read timeout (10 s), a reconnect for
 * an open and a probe of half that each. The thread reads as packets come,
 * into the ring (which has its own locks: clip.c, "Threads"), reconnects
 * with its own backoff, and says "ok" or "lost"; the camera thread only
 * asks for the state (edge_record_pump) and takes stills and clips from
 * the ring. A file (replay, tests, the evaluation) is read in the camera's
 * thread in step with detection instead: edge_record_pump() after each
 * detect frame reads it up to that frame's time (plus the clocks' offset),
 * so the ring holds the record picture of every detect frame when
 * evidence wants it, and a replay comes out the same every time. A file
 * cannot stall.
 *
 * Missing at start. A live record stream that cannot be opened at start
 * is no failure: the evidence comes from the detect stream (the writer's
 * ring taps it) and the thread keeps trying to open it with the backoff
 * below. When it opens, the thread waits for the camera to move the
 * writer's ring onto it (edge_record_waiting, edge_record_go: the ring is
 * made for a stream's codec, and it is switched only between incidents)
 * and then reads.
 *
 * Clocks. Each stream's video time starts at its own first keyframe. Files
 * of one scene start together ("start": offset 0). A live camera's streams
 * start when each was joined: the offset is the difference of the receive
 * times of their video time 0 ("receive"; off by the network and the
 * camera's encoder latency between the streams). Not the receive
 * time of the first packet handed out: opening a stream probes it, and the
 * packets read meanwhile come out late, by as much as the probe took
 * (about 2 s more for the detect stream than for an H.265 record stream
 * here, so that every still was 2 s late). Each side keeps the earliest
 * receive time of video time 0 that any packet implies (receive time
 * minus video time), which the packets handed out the moment they arrive
 * set; both follow the camera's one clock, so the offset holds as it
 * drifts. RTCP sender
 * reports would do better, but FFmpeg gives only the wall time of a
 * session's first report (start_time_realtime), not the RTP timestamp it
 * belongs to, and the two streams are two sessions: no mapping of video
 * time to wall time follows from it, so it is not used. The thread keeps
 * the monotonic time of record video time 0 (first_mono, as above); the
 * offset is the camera's det_mono0 (kept the same way) minus that. A reconnected source keeps its video
 * time going across the gap (fl_source_reopen), so the offset stays.
 *
 * Loss. A live record stream that fails is reconnected with the camera's
 * backoff (1, 2, 4 ... 30 s, +-20 %); meanwhile the state is "lost" and
 * the evidence writer takes stills from the detect frame and says so in
 * the manifest.
 */
#include "record.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "fl.h"

#define TAG "camera"
#define BACKOFF_MAX_S 30.0
/* The record stream's timeout when cameras[].record sets none: the
 * detect stream's. Opening must outlast the probe, which waits for a
 * keyframe when the camera sends its parameters only with it: 4 s failed
 * on an RTSP camera with a 10 s GOP. */
#define DEFAULT_TIMEOUT_MS 10000
#define BACKOFF_JITTER 0.2
/* The thread reads this much video a call, so that it sees a stop soon
 * while packets flow (a stalled stream is ended by fl_source_interrupt). */
#define STEP_S 0.2
/* A live offset that moved by more than this since it was logged is
 * logged again. */
#define OFFSET_LOG_S 0.5

struct edge_record {
	const fl_camera_conf *conf;
	fl_source_opts so;
	int live; /* read by the thread (see the essay) */
	/* the thread's and the camera's, under mu when live */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int running, stop;
	fl_source *src; /* NULL until opened (live, missing at start) */
	int tapped;     /* the camera's ring taps src: the thread may read */
	int w, h;
	const char *state; /* "ok", "lost" */
	double first_mono; /* live: monotonic time of record time 0, or NAN */
	int attempts;
	double next_try; /* monotonic */
	unsigned rng;
	/* the camera's: the offset as last reported */
	int aligned_set;
	double offset, logged_offset;
	const char *aligned;
	/* the thread's CPU time so far, ns, kept by the thread itself (the
	 * camera's cost: edge_record_cpu_s) */
	atomic_llong cpu_ns;
};

static void record_init(edge_record *r, const fl_camera_conf *conf)
{
	pthread_condattr_t ca;

	r->conf = conf;
	r->so.threads = 1;
	r->so.demux_only = 1;
	r->so.udp = conf->record.udp;
	r->so.timeout_ms = conf->record.timeout_s > 0
				   ? (int)lround(conf->record.timeout_s * 1000)
				   : DEFAULT_TIMEOUT_MS;
	r->state = "ok";
	r->first_mono = NAN;
	r->rng = (unsigned)(uint64_t)(fl_mono_s() * 1e6);
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
}

edge_record *edge_record_open(const fl_camera_conf *conf, int realtime,
			      char *err, size_t errlen)
{
	edge_record *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	record_init(r, conf);
	r->live = realtime && fl_source_url_is_live(conf->record.url);
	r->src = fl_source_open(conf->record.url, &r->so, err, errlen);
	if (!r->src && !r->live) {
		edge_record_close(r);
		return NULL;
	}
	if (r->src) {
		fl_source_size(r->src, &r->w, &r->h);
	} else {
		fl_log(FL_LOG_WARN, TAG,
		       "%s: record stream unavailable: %s; detection goes on, "
		       "stills from the detect stream; tried again",
		       conf->id, err);
		r->state = "lost"; /* the thread keeps trying */
	}
	return r;
}

fl_source *edge_record_source(edge_record *r)
{
	fl_source *s;

	if (!r)
		return NULL;
	pthread_mutex_lock(&r->mu); /* the thread sets it when found */
	s = r->src;
	pthread_mutex_unlock(&r->mu);
	return s;
}

void edge_record_size(const edge_record *r, int *w, int *h)
{
	*w = *h = 0;
	if (!r)
		return;
	pthread_mutex_lock((pthread_mutex_t *)&r->mu);
	*w = r->w;
	*h = r->h;
	pthread_mutex_unlock((pthread_mutex_t *)&r->mu);
}

/* The next attempt after a failure (caller holds mu when live). */
static void lose(edge_record *r, const char *why)
{
	double delay;

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
	r->next_try = fl_mono_s() + delay;
}

/* ---- a live stream: its thread -------------------------------------------- */

/* Wait on cv (mu held) until signalled or monotonic time `until`. */
static void wait_until(edge_record *r, double until)
{
	struct timespec ts;
	double s;

	if (!isfinite(until)) {
		pthread_cond_wait(&r->cv, &r->mu);
		return;
	}
	s = FL_MAX(until, 0);
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	pthread_cond_timedwait(&r->cv, &r->mu, &ts);
}

/* Open a stream missing at start (mu held; released while opening). */
static void try_open(edge_record *r)
{
	char err[1024];
	fl_source *src;

	pthread_mutex_unlock(&r->mu);
	src = fl_source_open(r->conf->record.url, &r->so, err, sizeof(err));
	pthread_mutex_lock(&r->mu);
	if (r->stop) {
		fl_source_close(src);
		return;
	}
	if (!src) {
		fl_log(FL_LOG_WARN, TAG, "%s: record stream, attempt %d: %s",
		       r->conf->id, r->attempts, err);
		lose(r, err);
		return;
	}
	r->src = src;
	fl_source_size(src, &r->w, &r->h);
	fl_log(FL_LOG_WARN, TAG,
	       "%s: record stream %dx%d found; it joins between incidents",
	       r->conf->id, r->w, r->h);
}

/* Reconnect a lost stream (mu held; released while reopening). */
static void try_reopen(edge_record *r)
{
	char err[1024];
	int rc;

	pthread_mutex_unlock(&r->mu);
	rc = fl_source_reopen(r->src, err, sizeof(err));
	pthread_mutex_lock(&r->mu);
	if (r->stop)
		return;
	if (rc < 0) {
		fl_log(FL_LOG_WARN, TAG,
		       "%s: record stream reconnect %d failed: %s", r->conf->id,
		       r->attempts, err);
		lose(r, err);
		return;
	}
	fl_log(FL_LOG_WARN, TAG, "%s: record stream back", r->conf->id);
	r->state = "ok";
	r->attempts = 0;
}

/* Read what comes (mu held; released while reading). */
static void read_some(edge_record *r)
{
	char err[1024];
	double until = isnan(r->first_mono) ? -INFINITY
					    : fl_source_time(r->src) + STEP_S,
	       m;
	int rc;

	pthread_mutex_unlock(&r->mu);
	rc = fl_source_pump(r->src, until, err, sizeof(err));
	pthread_mutex_lock(&r->mu);
	if (r->stop)
		return; /* interrupted (edge_record_stop): no loss */
	if (rc < 0) {
		lose(r, rc == FL_EEOF ? "the stream ended" : err);
		return;
	}
	/* the earliest receive time of video time 0 any packet implies
	 * (the essay) */
	m = fl_mono_s() - fl_source_time(r->src);
	if (isnan(r->first_mono))
		fl_log(FL_LOG_INFO, TAG, "%s: record stream %dx%d receiving",
		       r->conf->id, r->w, r->h);
	if (isnan(r->first_mono) || m < r->first_mono)
		r->first_mono = m;
}

/* The calling thread's CPU time, ns (0 if unreadable). */
static long long thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *run(void *arg)
{
	edge_record *r = arg;
	long long cpu0 = thread_cpu_ns(), cpu;

	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		cpu = thread_cpu_ns();
		atomic_fetch_add(&r->cpu_ns, cpu - cpu0);
		cpu0 = cpu;
		if (strcmp(r->state, "ok") && fl_mono_s() < r->next_try)
			wait_until(r, r->next_try);
		else if (!r->src)
			try_open(r);
		else if (!r->tapped)
			wait_until(r, INFINITY); /* edge_record_go */
		else if (strcmp(r->state, "ok"))
			try_reopen(r);
		else
			read_some(r);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int edge_record_start(edge_record *r, char *err, size_t errlen)
{
	int rc;

	if (!r || !r->live || r->running)
		return 0;
	r->tapped = r->src != NULL; /* the writer was made on it */
	if (!r->src) {
		r->attempts = 1; /* the open at start was the first */
		lose(r, "not found at start");
	}
	rc = pthread_create(&r->thread, NULL, run, r);
	if (rc != 0) {
		snprintf(err, errlen, "%s: record stream thread: %s",
			 r->conf->id, strerror(rc));
		return FL_ENOMEM;
	}
	r->running = 1;
	return 0;
}

fl_source *edge_record_waiting(edge_record *r)
{
	fl_source *s = NULL;

	if (!r || !r->live)
		return NULL;
	pthread_mutex_lock(&r->mu);
	if (r->src && !r->tapped)
		s = r->src;
	pthread_mutex_unlock(&r->mu);
	return s;
}

void edge_record_go(edge_record *r)
{
	if (!r || !r->live)
		return;
	pthread_mutex_lock(&r->mu);
	r->tapped = 1;
	r->state = "ok";
	r->attempts = 0;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* ---- a file: read in step ------------------------------------------------- */

/* The clocks' offset of a file, once, from the first packet: files of one
 * scene start together (see the essay). */
static void align_file(edge_record *r)
{
	r->aligned_set = 1;
	r->offset = 0;
	r->aligned = "start";
	fl_log(FL_LOG_INFO, TAG,
	       "%s: record stream %dx%d aligned by start, offset %+.3f s",
	       r->conf->id, r->w, r->h, r->offset);
}

static const char *pump_file(edge_record *r, double t)
{
	char err[1024];
	int rc;

	if (strcmp(r->state, "ok"))
		return r->state; /* a file that ended stays ended */
	if (!r->aligned_set) {
		rc = fl_source_pump(r->src, -INFINITY, err, sizeof(err));
		if (rc < 0) {
			lose(r, err);
			return r->state;
		}
		align_file(r);
	}
	rc = fl_source_pump(r->src, t + r->offset, err, sizeof(err));
	if (rc < 0)
		lose(r, rc == FL_EEOF ? "the stream ended" : err);
	return r->state;
}

/* A live stream's state as the camera sees it: "lost" until it is tapped
 * and its first packet came (nothing in the ring to take stills from). */
static const char *state_live(edge_record *r, double det_mono0)
{
	const char *st;

	pthread_mutex_lock(&r->mu);
	st = r->tapped && !isnan(r->first_mono) ? r->state : "lost";
	if (!isnan(r->first_mono)) {
		r->offset = det_mono0 - r->first_mono;
		/* logged at first and as it settles (the essay, "Clocks") */
		if (!r->aligned_set ||
		    fabs(r->offset - r->logged_offset) > OFFSET_LOG_S) {
			fl_log(FL_LOG_INFO, TAG,
			       "%s: record stream %dx%d aligned by receive, "
			       "offset %+.3f s",
			       r->conf->id, r->w, r->h, r->offset);
			r->logged_offset = r->offset;
		}
		r->aligned_set = 1;
		r->aligned = "receive";
	}
	pthread_mutex_unlock(&r->mu);
	return st;
}

const char *edge_record_pump(edge_record *r, double t, double det_mono0)
{
	if (!r)
		return "lost";
	return r->live ? state_live(r, det_mono0) : pump_file(r, t);
}

double edge_record_offset(const edge_record *r, const char **aligned)
{
	if (aligned)
		*aligned = r && r->aligned ? r->aligned : "start";
	return r ? r->offset : 0;
}

double edge_record_cpu_s(const edge_record *r)
{
	return r ? (double)atomic_load(&((edge_record *)r)->cpu_ns) / 1e9 : 0;
}

void edge_record_stop(edge_record *r)
{
	if (!r || !r->running)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	fl_source_interrupt(r->src);
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	r->running = 0;
}

void edge_record_close(edge_record *r)
{
	if (!r)
		return;
	edge_record_stop(r);
	fl_source_close(r->src);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
