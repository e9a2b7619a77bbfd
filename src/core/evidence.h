/*
 * evidence.h - the evidence plan of one incident: when to take scene images,
 * which stretch of video the clip covers, and when the bundle is complete.
 *
 * See evidence.c for the essay. Pure C11: no I/O, no clocks (video time comes
 * in with every call), no globals. The caller owns the fl_evidence_plan
 * (init/deinit); the plan owns nothing on the heap.
 *
 * Use (the evidence writer, per incident):
 *
 *   fl_evidence_plan_init(&p, &params);
 *   fl_evidence_plan_event(&p, ev);           every lane event of the incident
 *   while ((a = fl_evidence_plan_tick(&p, t)) != FL_EVP_NONE)
 *       switch (a) {                          at every frame, after the events
 *       case FL_EVP_SHOOT:   take an image; fl_evidence_plan_taken(&p, t) if
 *                            it was written (a failed shot is not retried)
 *       case FL_EVP_SEAL:    seal the bundle (fl_evidence_plan_note() says
 *                            what is missing, if anything)
 *       case FL_EVP_DISCARD: throw everything away
 *       }
 *   fl_evidence_plan_end(&p, t);              end of input: seal or discard
 *   fl_evidence_plan_deinit(&p);
 */
#ifndef FL_EVIDENCE_H
#define FL_EVIDENCE_H

#include <stddef.h>

#include "event.h"

/* At least this many scene images make a complete bundle
 * (docs/evidence.md). */
#define FL_EVIDENCE_MIN_IMAGES 3
/* The first and last scene images are at least max(this, dwell_s) apart. */
#define FL_EVIDENCE_MIN_SPAN_S 10.0

typedef struct fl_evidence_params {
	double dwell_s;     /* the lane's grace time */
	double pre_roll_s;  /* clip starts this long before rest_since */
	double post_roll_s; /* clip ends this long after the alarm */
	double interval_s;  /* between scene images after the alarm; 0 = auto */
	int max_images; /* scene images at most (>= FL_EVIDENCE_MIN_IMAGES) */
	double video_start; /* earliest video time there is (clip clamp) */
} fl_evidence_params;

enum fl_evidence_action {
	FL_EVP_NONE = 0,
	FL_EVP_SHOOT,  /* take a scene image of the current frame now */
	FL_EVP_SEAL,   /* the bundle is as complete as it will get: seal */
	FL_EVP_DISCARD /* the object left before its alarm: keep nothing */
};

enum fl_evidence_phase {
	FL_EVP_IDLE,    /* no event seen yet */
	FL_EVP_RESTING, /* occupied: before the alarm */
	FL_EVP_ALARMED, /* alarm raised; collecting until complete */
	FL_EVP_CLOSING, /* cleared or input ended before complete: seal */
	FL_EVP_LEAVING, /* vacated: discard */
	FL_EVP_DONE     /* sealed or discarded; ignores everything */
};

/* Why a bundle was sealed incomplete (bits, see fl_evidence_plan_note). */
enum fl_evidence_gap {
	FL_EVG_FEW_IMAGES = 1 << 0, /* fewer than FL_EVIDENCE_MIN_IMAGES */
	FL_EVG_SPAN = 1 << 1,       /* first and last too close in time */
	FL_EVG_CLIP_SHORT = 1 << 2  /* clip cut before alarm + post_roll */
};

typedef struct fl_evidence_plan {
	fl_evidence_params prm;
	char incident_id[FL_INCIDENT_ID_MAX];
	enum fl_evidence_phase phase;
	double rest_since;   /* when the object came to rest */
	double occupied_t;   /* when the occupied event came */
	double alarm_t;      /* alarm time, or -1 */
	double end_t;        /* cleared / vacated / end of input, or -1 */
	const char *end_why; /* "cleared", "input ended"; static string */
	double interval;     /* effective interval_s */
	double span;         /* required first-to-last spacing */
	int nimages;         /* scene images taken (fl_evidence_plan_taken) */
	int attempts;        /* scene images asked for (SHOOT returned) */
	double first_t, last_t; /* times of the first and last image taken */
	double next_t;          /* next SHOOT due at; -1: none pending */
	int next_kind;     /* kind of the next SHOOT (enum fl_evidence_shot) */
	int shot_kind;     /* kind of the last SHOOT returned */
	int alarm_pending; /* alarm image due right after the rest image */
	unsigned gaps;     /* fl_evidence_gap bits, set when sealed */
} fl_evidence_plan;

/* Kinds of scene image, for the manifest. */
enum fl_evidence_shot { FL_SHOT_REST, FL_SHOT_ALARM, FL_SHOT_PERIODIC };

void fl_evidence_plan_init(fl_evidence_plan *p, const fl_evidence_params *prm);
void fl_evidence_plan_deinit(fl_evidence_plan *p);

/* The effective interval for params: interval_s, or when 0
 * clamp(max(10, dwell_s) / 3, 2, 10) seconds. */
double fl_evidence_interval(const fl_evidence_params *prm);

/*
 * Feed one lane event of this plan's incident (the first event names the
 * incident; events of other incidents are ignored and return FL_EINVAL).
 * OCCUPIED opens the plan (a rest image is due now), ALARM asks for the alarm
 * image, CLEARED closes it (seal at the next tick), VACATED before the alarm
 * discards it (after the alarm it closes it like CLEARED). Returns 0.
 */
int fl_evidence_plan_event(fl_evidence_plan *p, const fl_event *ev);

/*
 * What to do at video time t. Returns one action; call again until
 * FL_EVP_NONE (each action is returned once: SEAL and DISCARD end the plan).
 */
enum fl_evidence_action fl_evidence_plan_tick(fl_evidence_plan *p, double t);

/* The image asked for by the last SHOOT was written; t is its video time. */
void fl_evidence_plan_taken(fl_evidence_plan *p, double t);

/* The kind of the image asked for by the last SHOOT (enum fl_evidence_shot)
 * and its static name: "rest", "alarm" or "periodic". */
const char *fl_evidence_shot_name(int kind);

/*
 * End of input at t: an alarmed plan closes (the next tick seals it with a
 * note), one that never alarmed is discarded. Nothing happens to a plan that
 * is already done.
 */
void fl_evidence_plan_end(fl_evidence_plan *p, double t);

/*
 * The clip window in video time: from = max(video_start, rest_since -
 * pre_roll_s); to = alarm + post_roll_s, cut at the close time when the plan
 * closed earlier; +INFINITY while the alarm has not come. Either pointer may
 * be NULL.
 */
void fl_evidence_plan_clip(const fl_evidence_plan *p, double *from, double *to);

/* 1 when the bundle has what docs/evidence.md asks: enough images, spaced,
 * and the clip window over at t. */
int fl_evidence_plan_complete(const fl_evidence_plan *p, double t);

/*
 * What a sealed bundle lacks, for the manifest's note: "" when complete,
 * else e.g. "incomplete (cleared at 41.2 s): 2 of 3 scene images; first and
 * last 6.0 s apart, 15.0 s required". snprintf semantics.
 */
size_t fl_evidence_plan_note(const fl_evidence_plan *p, char *buf, size_t len);

#endif /* FL_EVIDENCE_H */
