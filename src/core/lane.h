/*
 * lane.h - the incident state machine of one lane.
 *
 * See lane.c for the essay on dwell, hysteresis and occlusion. In short: the
 * dwell clock belongs to a *spot* (a place in the lane where an object rests),
 * never to a tracker id. Detection reports, every analysis tick, what it sees
 * at rest (fl_sighting); the lane matches sightings to its spots by overlap,
 * and turns their history into events: occupied, alarm, cleared, vacated.
 *
 * Pure C: no I/O, no clocks (time comes in), no globals. The caller owns the
 * fl_lane (init/deinit pattern); it borrows conf for its whole life.
 */
#ifndef FL_LANE_H
#define FL_LANE_H

#include "config.h"
#include "event.h"

#define FL_LANE_SPOTS 8

/* What detection sees of one object at rest during a tick. */
enum fl_seen {
	FL_SEEN_PRESENT, /* the object itself is visible */
	FL_SEEN_HIDDEN,  /* something else stands in front of it */
	FL_SEEN_GONE     /* the clear lane is visible where it stood */
};

typedef struct fl_sighting {
	double box[4];     /* x, y, w, h, source pixels */
	double rest_since; /* video time the object came to rest */
	double inside;     /* fraction of the object inside the lane, 0..1 */
	double foot;       /* fraction of where it meets the ground that lies
			    * across the lane (fl_lane_span() at each point's
			    * row), 0..1: the footprint policy, min_overlap */
	int cls;           /* fl_class bit, 0 = unknown (counts as object) */
	enum fl_seen seen;
	int memo; /* after a restart: 1 + the index of the expected
			    * incident (fl_lane_expect()) this is, by place
			    * and appearance; 0 none */
} fl_sighting;

/* An open incident as kept across a restart: what the lane needs to
 * resume it (fl_lane_memos(), fl_lane_expect()). */
typedef struct fl_lane_memo {
	char incident_id[FL_INCIDENT_ID_MAX];
	double box[4];     /* source pixels */
	double rest_since; /* video time of the run it is given to */
	int cls;
	int alarmed;
	int announced; /* its occupied event went out */
} fl_lane_memo;

typedef struct fl_spot {
	int used;
	char incident_id[FL_INCIDENT_ID_MAX];
	double box[4];
	double rest_since;
	double last_present; /* last tick the object was seen */
	double hidden_since; /* start of the current occlusion, -1 none */
	double gone_since;   /* start of the current clear view, -1 none */
	int cls;
	int alarmed;
	int counted;       /* 0 while its class does not obstruct */
	int announced;     /* its occupied event has been emitted */
	unsigned seq;      /* order of opening: older spots have lower */
	double hold_until; /* resumed: sightings at rest since no later
			      * than this are its object, on its own clock */
} fl_spot;

typedef struct fl_lane {
	const fl_lane_conf *conf;
	const char *camera; /* borrowed */
	/* The polygon's rows, and its left and right edges fitted as lines
	 * x = a + b y (a straight lane in perspective): the lane's span at
	 * rows beyond the polygon, and its scale (fl_lane_span()). */
	double ymin, ymax, la, lb, ra, rb;
	/* incident ids: <prefix>-<lane>-<n>; the prefix is <device>-<start>,
	 * and -<camera> after it on a device with several cameras */
	char id_prefix[FL_ID_MAX + 24];
	unsigned next_seq;
	fl_spot spots[FL_LANE_SPOTS];
	fl_lane_memo expect[FL_LANE_SPOTS]; /* incidents from before a
					     * restart; incident_id "" once
					     * resumed */
	int nexpect;
	double expect_t, expect_until; /* the restart; resume until */
} fl_lane;

/* id_prefix makes incident ids unique across runs (device and start time). */
void fl_lane_init(fl_lane *lane, const fl_lane_conf *conf, const char *camera,
		  const char *id_prefix);

/*
 * One analysis tick at video time t. active is 1 when the lane's active hours
 * include now (alarms wait while 0). s[0..n) are this tick's sightings for the
 * camera; those not in this lane are ignored. Events go to emit in order.
 */
void fl_lane_update(fl_lane *lane, double t, int active, const fl_sighting *s,
		    size_t n, fl_event_fn emit, void *user);

/* End of input: nothing is emitted; open incidents simply stay open. */

/*
 * The lane's extent across row y (source pixels): the polygon's own within
 * its rows, else its edges' lines extended. Its width is width_m metres at
 * that row: the scale of whatever stands there. Returns x1 - x0 (>= 1).
 */
double fl_lane_span(const fl_lane *lane, double y, double *x0, double *x1);

/*
 * The lane's open incidents (those that count: announced or alarmed), for
 * keeping across a restart. Writes at most max; returns how many.
 */
int fl_lane_memos(const fl_lane *lane, fl_lane_memo *out, int max);

/*
 * After a restart at video time t: the incidents the lane had open before
 * (times already on this run's clock). Each is expected back until
 * t + grace_s: a sighting that the caller marks as it (fl_sighting.memo:
 * the same place and look, at rest since the restart) resumes it (same
 * incident id, its own rest start, no second occupied or alarm). One not
 * seen by then has gone while the edge was down: it closes (cleared after
 * an alarm, else vacated) with left_at the restart. Call after
 * fl_lane_init(), before the first update.
 */
void fl_lane_expect(fl_lane *lane, const fl_lane_memo *m, int n, double t,
		    double grace_s);

/* "clear", "occupied" or "blocked" (SPEC 5.4 lane state). */
const char *fl_lane_state(const fl_lane *lane);

#endif /* FL_LANE_H */
