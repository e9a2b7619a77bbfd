/*
 * test_lane.c - the incident state machine, case by case, in simulated time.
 *
 * Each case is a script of segments: from t0 to t1 detection reports the
 * same sightings every tick (0.2 s, the default analysis rate); the lane's
 * events are compared with the expected list (type and time within a tick).
 */
#include <string.h>

#include "config.h"
#include "fl.h"
#include "lane.h"
#include "test.h"

#define TICK 0.2
#define MAX_SIGHT 3
#define MAX_SEG 8
#define MAX_EV 12

/* Two places in a lane running from x=100 to x=500. */
#define SPOT_A                                                                 \
	{                                                                      \
		200, 200, 80, 50                                               \
	}
#define SPOT_B                                                                 \
	{                                                                      \
		380, 200, 80, 50                                               \
	}
#define BOX(x, y, w, h)                                                        \
	{                                                                      \
		x, y, w, h                                                     \
	}

typedef struct seg {
	double t0, t1;
	int active; /* 0 means active; 1 means outside active hours */
	int n;
	fl_sighting s[MAX_SIGHT];
} seg;

typedef struct want {
	enum fl_event_type type;
	double t;
	int incident; /* 1-based incident sequence number */
} want;

typedef struct lane_case {
	const char *name;
	double dwell_s, clear_s, occlusion_s;
	int classes; /* 0: default vehicle|object */
	seg segs[MAX_SEG];
	want ev[MAX_EV];
	int nev;
} lane_case;

#define PRESENT(box, since)                                                    \
	{                                                                      \
		box, since, 1.0, 1.0, 0, FL_SEEN_PRESENT                       \
	}
#define PRESENT_CLS(box, since, cls)                                           \
	{                                                                      \
		box, since, 1.0, 1.0, cls, FL_SEEN_PRESENT                     \
	}
#define HIDDEN(box, since)                                                     \
	{                                                                      \
		box, since, 1.0, 1.0, 0, FL_SEEN_HIDDEN                        \
	}
#define GONE(box, since)                                                       \
	{                                                                      \
		box, since, 1.0, 1.0, 0, FL_SEEN_GONE                          \
	}

static const lane_case cases[] = {
	{ "park then leave",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 50, 0, 1, { PRESENT(SPOT_A, 10) } },
	    { 50, 70, 0, 1, { GONE(SPOT_A, 10) } } },
	  { { FL_EV_OCCUPIED, 10, 1 },
	    { FL_EV_ALARM, 30, 1 },
	    { FL_EV_CLEARED, 53, 1 } },
	  3 },
	{ "rest start is back-dated: confirmed late, alarm on time",
	  20,
	  3,
	  120,
	  0,
	  { { 12, 40, 0, 1, { PRESENT(SPOT_A, 10) } } },
	  { { FL_EV_OCCUPIED, 12, 1 }, { FL_EV_ALARM, 30, 1 } },
	  2 },
	{ "short stop is vacated, no alarm",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 20, 0, 1, { PRESENT(SPOT_A, 10) } },
	    { 20, 40, 0, 0, { { { 0 } } } } },
	  { { FL_EV_OCCUPIED, 10, 1 }, { FL_EV_VACATED, 23, 1 } },
	  2 },
	{ "occlusion by a passing truck keeps the clock",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 25, 0, 1, { PRESENT(SPOT_A, 10) } },
	    { 25, 33, 0, 1, { HIDDEN(SPOT_A, 10) } },
	    { 33, 60, 0, 1, { PRESENT(SPOT_A, 10) } },
	    { 60, 70, 0, 1, { GONE(SPOT_A, 10) } } },
	  { { FL_EV_OCCUPIED, 10, 1 },
	    { FL_EV_ALARM, 30, 1 },
	    { FL_EV_CLEARED, 63, 1 } },
	  3 },
	{ "hidden longer than occlusion_s ends the incident",
	  20,
	  3,
	  15,
	  0,
	  { { 10, 40, 0, 1, { PRESENT(SPOT_A, 10) } },
	    { 40, 80, 0, 1, { HIDDEN(SPOT_A, 10) } } },
	  { { FL_EV_OCCUPIED, 10, 1 },
	    { FL_EV_ALARM, 30, 1 },
	    { FL_EV_CLEARED, 58, 1 } },
	  3 },
	{ "a gap shorter than clear_s is not a clear",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 20, 0, 1, { PRESENT(SPOT_A, 10) } },
	    { 20, 22, 0, 1, { GONE(SPOT_A, 10) } },
	    { 22, 40, 0, 1, { PRESENT(SPOT_A, 10) } } },
	  { { FL_EV_OCCUPIED, 10, 1 }, { FL_EV_ALARM, 30, 1 } },
	  2 },
	{ "flicker every other tick: one incident, alarm when seen",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 10.2, 0, 1, { PRESENT(SPOT_A, 10) } },
	    { 10.2, 10.4, 0, 0, { { { 0 } } } },
	    { 10.4, 29.9, 0, 1, { PRESENT(SPOT_A, 10) } },
	    { 29.9, 30.3, 0, 0, { { { 0 } } } },
	    { 30.3, 40, 0, 1, { PRESENT(SPOT_A, 10) } } },
	  { { FL_EV_OCCUPIED, 10, 1 }, { FL_EV_ALARM, 30.3, 1 } },
	  2 },
	{ "two vehicles in turn, clear in between: two incidents",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 40, 0, 1, { PRESENT(SPOT_A, 10) } },
	    { 40, 45, 0, 1, { GONE(SPOT_A, 10) } },
	    { 45, 80, 0, 1, { PRESENT(SPOT_A, 45) } } },
	  { { FL_EV_OCCUPIED, 10, 1 },
	    { FL_EV_ALARM, 30, 1 },
	    { FL_EV_CLEARED, 43, 1 },
	    { FL_EV_OCCUPIED, 45, 2 },
	    { FL_EV_ALARM, 65, 2 } },
	  5 },
	{ "second vehicle arrives within clear_s: still a new incident",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 40, 0, 1, { PRESENT(SPOT_A, 10) } },
	    { 40, 42, 0, 1, { HIDDEN(SPOT_A, 10) } },
	    { 42, 80, 0, 1, { PRESENT(SPOT_A, 41.6) } } },
	  { { FL_EV_OCCUPIED, 10, 1 },
	    { FL_EV_ALARM, 30, 1 },
	    { FL_EV_CLEARED, 42, 1 },
	    { FL_EV_OCCUPIED, 42, 2 },
	    { FL_EV_ALARM, 61.6, 2 } },
	  5 },
	{ "an alarmed spot whose rest start jumps ahead: the old one left",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 40, 0, 1, { PRESENT(SPOT_A, 10) } },
	    { 40, 60, 0, 1, { PRESENT(SPOT_A, 25) } } },
	  { { FL_EV_OCCUPIED, 10, 1 },
	    { FL_EV_ALARM, 30, 1 },
	    { FL_EV_CLEARED, 40, 1 },
	    { FL_EV_OCCUPIED, 40, 2 },
	    { FL_EV_ALARM, 45, 2 } },
	  5 },
	{ "an alarmed spot whose rest start creeps a little: same incident",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 40, 0, 1, { PRESENT(SPOT_A, 10) } },
	    { 40, 60, 0, 1, { PRESENT(SPOT_A, 16) } } },
	  { { FL_EV_OCCUPIED, 10, 1 }, { FL_EV_ALARM, 30, 1 } },
	  2 },
	{ "present from the start alarms at dwell_s",
	  20,
	  3,
	  120,
	  0,
	  { { 0, 30, 0, 1, { PRESENT(SPOT_A, 0) } } },
	  { { FL_EV_OCCUPIED, 0, 1 }, { FL_EV_ALARM, 20, 1 } },
	  2 },
	{ "a person at rest is not an obstruction",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 60, 0, 1, { PRESENT_CLS(SPOT_A, 10, FL_CLASS_PERSON) } },
	    { 60, 70, 0, 0, { { { 0 } } } } },
	  { { 0 } },
	  0 },
	{ "a person counts where configured",
	  20,
	  3,
	  120,
	  FL_CLASS_PERSON | FL_CLASS_VEHICLE,
	  { { 10, 40, 0, 1, { PRESENT_CLS(SPOT_A, 10, FL_CLASS_PERSON) } } },
	  { { FL_EV_OCCUPIED, 10, 1 }, { FL_EV_ALARM, 30, 1 } },
	  2 },
	/* 400 px are 4 m: 0.4 m wide, 1.0 m tall, no class: a person's
	 * shape, not an obstruction */
	{ "a thin tall unknown thing is a person",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 60, 0, 1, { PRESENT(BOX(200, 180, 40, 100), 10) } },
	    { 60, 70, 0, 0, { { { 0 } } } } },
	  { { 0 } },
	  0 },
	/* the same shape that a detector named neither a vehicle nor a
	 * person (a small model calls people "bench"): still a person */
	{ "a thin tall thing a detector calls an object is a person",
	  20,
	  3,
	  120,
	  0,
	  { { 10,
	      60,
	      0,
	      1,
	      { PRESENT_CLS(BOX(200, 180, 40, 100), 10, FL_CLASS_OBJECT) } },
	    { 60, 70, 0, 0, { { { 0 } } } } },
	  { { 0 } },
	  0 },
	/* ... but a vehicle the detector names keeps its name */
	{ "a thin tall thing a detector calls a vehicle is one",
	  20,
	  3,
	  120,
	  0,
	  { { 10,
	      40,
	      0,
	      1,
	      { PRESENT_CLS(BOX(200, 180, 40, 100), 10, FL_CLASS_VEHICLE) } } },
	  { { FL_EV_OCCUPIED, 10, 1 }, { FL_EV_ALARM, 30, 1 } },
	  2 },
	{ "a person's shape counts where people are configured",
	  20,
	  3,
	  120,
	  FL_CLASS_PERSON | FL_CLASS_OBJECT,
	  { { 10, 40, 0, 1, { PRESENT(BOX(200, 180, 40, 100), 10) } } },
	  { { FL_EV_OCCUPIED, 10, 1 }, { FL_EV_ALARM, 30, 1 } },
	  2 },
	/* as tall, but 1.2 m wide (a pile of goods): an object */
	{ "a tall wide unknown thing is an object",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 40, 0, 1, { PRESENT(BOX(200, 180, 120, 100), 10) } } },
	  { { FL_EV_OCCUPIED, 10, 1 }, { FL_EV_ALARM, 30, 1 } },
	  2 },
	{ "a person's shape before the alarm: vacated",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 15, 0, 1, { PRESENT(SPOT_A, 10) } },
	    { 15, 40, 0, 1, { PRESENT(BOX(200, 160, 40, 90), 10) } } },
	  { { FL_EV_OCCUPIED, 10, 1 }, { FL_EV_VACATED, 15, 1 } },
	  2 },
	{ "classified as a person before the alarm: vacated",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 15, 0, 1, { PRESENT(SPOT_A, 10) } },
	    { 15, 40, 0, 1, { PRESENT_CLS(SPOT_A, 10, FL_CLASS_PERSON) } } },
	  { { FL_EV_OCCUPIED, 10, 1 }, { FL_EV_VACATED, 15, 1 } },
	  2 },
	{ "vehicles only: an unknown object waits for its class",
	  20,
	  3,
	  120,
	  FL_CLASS_VEHICLE,
	  { { 10, 25, 0, 1, { PRESENT(SPOT_A, 10) } },
	    { 25, 40, 0, 1, { PRESENT_CLS(SPOT_A, 10, FL_CLASS_VEHICLE) } } },
	  { { FL_EV_OCCUPIED, 25, 1 }, { FL_EV_ALARM, 30, 1 } },
	  2 },
	{ "outside active hours the alarm waits",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 50, 1, 1, { PRESENT(SPOT_A, 10) } },
	    { 50, 60, 0, 1, { PRESENT(SPOT_A, 10) } } },
	  { { FL_EV_OCCUPIED, 10, 1 }, { FL_EV_ALARM, 50, 1 } },
	  2 },
	{ "mostly outside the lane is ignored",
	  20,
	  3,
	  120,
	  0,
	  { { 10,
	      50,
	      0,
	      1,
	      { { { 200, 330, 80, 50 },
		  10,
		  0.2,
		  1.0,
		  FL_CLASS_VEHICLE,
		  FL_SEEN_PRESENT } } } },
	  { { 0 } },
	  0 },
	{ "standing in the lane with little overlap still counts",
	  20,
	  3,
	  120,
	  0,
	  { { 10,
	      40,
	      0,
	      1,
	      { { { 200, 250, 80, 50 },
		  10,
		  0.3,
		  1.0,
		  FL_CLASS_VEHICLE,
		  FL_SEEN_PRESENT } } } },
	  { { FL_EV_OCCUPIED, 10, 1 }, { FL_EV_ALARM, 30, 1 } },
	  2 },
	/* the footprint policy (min_overlap 0.3): a car with two wheels on
	 * the footway, a tenth of its width in the lane, is no obstruction,
	 * however many of its pixels cover the lane; a third of it is */
	{ "a tenth of its footprint in the lane is no obstruction",
	  20,
	  3,
	  120,
	  0,
	  { { 10,
	      50,
	      0,
	      1,
	      { { { 430, 200, 80, 50 },
		  10,
		  0.6,
		  0.1,
		  FL_CLASS_VEHICLE,
		  FL_SEEN_PRESENT } } } },
	  { { 0 } },
	  0 },
	{ "a third of its footprint in the lane obstructs",
	  20,
	  3,
	  120,
	  0,
	  { { 10,
	      40,
	      0,
	      1,
	      { { { 440, 200, 80, 50 },
		  10,
		  0.2,
		  0.35,
		  FL_CLASS_VEHICLE,
		  FL_SEEN_PRESENT } } } },
	  { { FL_EV_OCCUPIED, 10, 1 }, { FL_EV_ALARM, 30, 1 } },
	  2 },
	{ "smaller than min_size_px is ignored",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 50, 0, 1, { PRESENT(BOX(200, 200, 8, 30), 10) } } },
	  { { 0 } },
	  0 },
	{ "two objects in two places: two incidents",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 20, 0, 1, { PRESENT(SPOT_A, 10) } },
	    { 20, 50, 0, 2, { PRESENT(SPOT_A, 10), PRESENT(SPOT_B, 20) } } },
	  { { FL_EV_OCCUPIED, 10, 1 },
	    { FL_EV_OCCUPIED, 20, 2 },
	    { FL_EV_ALARM, 30, 1 },
	    { FL_EV_ALARM, 40, 2 } },
	  4 },
	{ "re-segmented into two pieces: still one incident",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 20, 0, 1, { PRESENT(SPOT_A, 10) } },
	    { 20,
	      40,
	      0,
	      2,
	      { PRESENT(BOX(200, 200, 45, 50), 10),
		PRESENT(BOX(245, 200, 35, 50), 10.4) } } },
	  { { FL_EV_OCCUPIED, 10, 1 }, { FL_EV_ALARM, 30, 1 } },
	  2 },
	{ "a slow mover whose rest keeps being renewed never alarms",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 20, 0, 1, { PRESENT(SPOT_A, 10) } },
	    { 20, 30, 0, 1, { PRESENT(SPOT_A, 18) } },
	    { 30, 40, 0, 1, { PRESENT(SPOT_A, 27) } },
	    { 40, 50, 0, 0, { { { 0 } } } } },
	  { { FL_EV_OCCUPIED, 10, 1 }, { FL_EV_VACATED, 43, 1 } },
	  2 },
	{ "hidden at once (no sighting first) opens nothing",
	  20,
	  3,
	  120,
	  0,
	  { { 10, 50, 0, 1, { HIDDEN(SPOT_A, 10) } } },
	  { { 0 } },
	  0 },
};

typedef struct got {
	fl_event ev[64];
	int n;
} got;

static void collect(const fl_event *ev, void *user)
{
	got *g = user;

	if (g->n < 64)
		g->ev[g->n++] = *ev;
}

static void run_case(const lane_case *c)
{
	fl_lane_conf conf;
	fl_lane lane;
	got g = { 0 };
	char ids[MAX_EV][FL_INCIDENT_ID_MAX];
	int nids = 0;

	memset(&conf, 0, sizeof(conf));
	snprintf(conf.id, sizeof(conf.id), "lane-a");
	conf.points[0] = (fl_point){ 100, 150 };
	conf.points[1] = (fl_point){ 500, 150 };
	conf.points[2] = (fl_point){ 500, 300 };
	conf.points[3] = (fl_point){ 100, 300 };
	conf.npoints = 4;
	conf.dwell_s = c->dwell_s;
	conf.clear_s = c->clear_s;
	conf.occlusion_s = c->occlusion_s;
	conf.min_size_px = 12;
	conf.min_size_m = 0.3; /* 400 px are 4 m: 30 px */
	conf.width_m = 4;
	conf.min_overlap = 0.3;
	conf.classes = c->classes ? c->classes
				  : FL_CLASS_VEHICLE | FL_CLASS_OBJECT;
	fl_lane_init(&lane, &conf, "cam-1", "edge-01-t");

	for (int k = 0; k < MAX_SEG && c->segs[k].t1 > 0; k++) {
		const seg *sg = &c->segs[k];
		/* Ticks on a fixed grid so segment ends line up exactly. */
		for (long i = lround(sg->t0 / TICK); i < lround(sg->t1 / TICK);
		     i++)
			fl_lane_update(&lane, i * TICK, !sg->active, sg->s,
				       (size_t)sg->n, collect, &g);
	}

	CHECK_MSG(g.n == c->nev, "%s: %d events, want %d", c->name, g.n,
		  c->nev);
	for (int i = 0; i < g.n && i < c->nev; i++) {
		const fl_event *e = &g.ev[i];
		const want *w = &c->ev[i];
		CHECK_MSG(e->type == w->type, "%s: event %d is %s, want %s",
			  c->name, i, fl_event_type_name(e->type),
			  fl_event_type_name(w->type));
		CHECK_MSG(fabs(e->t - w->t) < TICK / 2 + 1e-9,
			  "%s: event %d (%s) at %.2f, want %.2f", c->name, i,
			  fl_event_type_name(e->type), e->t, w->t);
		/* Same incident number <=> same id. */
		if (w->incident > nids) {
			snprintf(ids[nids], sizeof(ids[0]), "%s",
				 e->incident_id);
			nids++;
		}
		CHECK_MSG(w->incident <= nids && strcmp(ids[w->incident - 1],
							e->incident_id) == 0,
			  "%s: event %d has incident %s", c->name, i,
			  e->incident_id);
	}
	for (int i = 0; i < nids; i++)
		for (int j = i + 1; j < nids; j++)
			CHECK_MSG(strcmp(ids[i], ids[j]) != 0,
				  "%s: incidents %d and %d share id %s",
				  c->name, i + 1, j + 1, ids[i]);
}

/* The lane state follows its spots. */
static void test_state(void)
{
	fl_lane_conf conf;
	fl_lane lane;
	fl_sighting s = PRESENT(SPOT_A, 0);

	memset(&conf, 0, sizeof(conf));
	snprintf(conf.id, sizeof(conf.id), "lane-a");
	conf.points[0] = (fl_point){ 100, 150 };
	conf.points[1] = (fl_point){ 500, 150 };
	conf.points[2] = (fl_point){ 500, 300 };
	conf.npoints = 3;
	conf.points[2] = (fl_point){ 300, 400 };
	conf.dwell_s = 5;
	conf.clear_s = 1;
	conf.occlusion_s = 10;
	conf.classes = FL_CLASS_VEHICLE | FL_CLASS_OBJECT;
	fl_lane_init(&lane, &conf, "cam-1", "p");
	CHECK(strcmp(fl_lane_state(&lane), "clear") == 0);
	fl_lane_update(&lane, 1, 1, &s, 1, NULL, NULL);
	CHECK(strcmp(fl_lane_state(&lane), "occupied") == 0);
	fl_lane_update(&lane, 6, 1, &s, 1, NULL, NULL);
	CHECK(strcmp(fl_lane_state(&lane), "blocked") == 0);
	fl_lane_update(&lane, 7, 1, NULL, 0, NULL, NULL);
	CHECK(strcmp(fl_lane_state(&lane), "blocked") == 0);
	fl_lane_update(&lane, 8, 1, NULL, 0, NULL, NULL);
	CHECK(strcmp(fl_lane_state(&lane), "clear") == 0);
}

/*
 * Size at the lane's scale: a lane 4 m wide seen in perspective, 400 px
 * wide at its near end (y 400) and 40 px at its far end (y 100). A box of
 * 24 px is 0.24 m near (below min_size_m 0.3: ignored) and 2.4 m far (a
 * car: counts); a 6 px speck far away is 0.6 m: counts only as what it
 * is, an object of that size.
 */
static void test_scale(void)
{
	fl_lane_conf conf;
	fl_lane lane;
	got g = { 0 };
	fl_sighting near = PRESENT(BOX(288, 370, 24, 24), 1);
	fl_sighting far = PRESENT(BOX(290, 80, 24, 24), 1);
	double x0, x1;

	memset(&conf, 0, sizeof(conf));
	snprintf(conf.id, sizeof(conf.id), "lane-a");
	conf.points[0] = (fl_point){ 100, 400 };
	conf.points[1] = (fl_point){ 500, 400 };
	conf.points[2] = (fl_point){ 320, 100 };
	conf.points[3] = (fl_point){ 280, 100 };
	conf.npoints = 4;
	conf.dwell_s = 5;
	conf.clear_s = 1;
	conf.occlusion_s = 10;
	conf.min_size_px = 4;
	conf.min_size_m = 0.3;
	conf.width_m = 4;
	conf.min_overlap = 0.3;
	conf.classes = FL_CLASS_VEHICLE | FL_CLASS_OBJECT;
	fl_lane_init(&lane, &conf, "cam-1", "p");
	CHECK_NEAR(fl_lane_span(&lane, 400, &x0, &x1), 400, 1);
	CHECK_NEAR(fl_lane_span(&lane, 100, &x0, &x1), 40, 1);
	/* beyond the polygon its edges go on, until they meet */
	CHECK_NEAR(fl_lane_span(&lane, 430, &x0, &x1), 436, 1);
	CHECK_NEAR(fl_lane_span(&lane, 50, &x0, &x1), 1, 1e-9);
	for (int i = 0; i < 40; i++)
		fl_lane_update(&lane, 1 + i * 0.2, 1, &near, 1, collect, &g);
	CHECK_MSG(g.n == 0, "a 0.24 m object near the camera: %d events", g.n);
	for (int i = 0; i < 40; i++)
		fl_lane_update(&lane, 10 + i * 0.2, 1, &far, 1, collect, &g);
	CHECK_MSG(g.n == 2, "a 2.4 m object far away: %d events", g.n);
}

/* A lane as run_case() makes it, dwell 20 s, clear 3 s. */
static void lane_for_resume(fl_lane *lane, fl_lane_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	snprintf(conf->id, sizeof(conf->id), "lane-a");
	conf->points[0] = (fl_point){ 100, 150 };
	conf->points[1] = (fl_point){ 500, 150 };
	conf->points[2] = (fl_point){ 500, 300 };
	conf->points[3] = (fl_point){ 100, 300 };
	conf->npoints = 4;
	conf->dwell_s = 20;
	conf->clear_s = 3;
	conf->occlusion_s = 120;
	conf->min_size_px = 4;
	conf->width_m = 4;
	conf->min_overlap = 0.3;
	conf->classes = FL_CLASS_VEHICLE | FL_CLASS_OBJECT;
	fl_lane_init(lane, conf, "cam-1", "edge-01-new");
}

/* Ticks from t0 to t1 with one sighting (NULL: nothing seen). */
static void ticks(fl_lane *lane, double t0, double t1, const fl_sighting *s,
		  got *g)
{
	for (long i = lround(t0 / TICK); i < lround(t1 / TICK); i++)
		fl_lane_update(lane, i * TICK, 1, s, s ? 1 : 0, collect, g);
}

/*
 * A restart remembers: incidents open before it are expected back. One
 * alarmed before and still there resumes (same id, no second occupied or
 * alarm) and clears when it leaves; one not alarmed yet alarms on its own
 * clock; one gone while the edge was down closes with left_at the
 * restart; a different object in the same place (not marked as the
 * expected one) is a new incident.
 */
static void test_resume(void)
{
	fl_lane_conf conf;
	fl_lane lane;
	fl_lane_memo m[2] = { { "edge-01-old-lane-a-3", SPOT_A, 50, 0, 1, 1 },
			      { "edge-01-old-lane-a-4", SPOT_B, 95, 0, 0, 1 } };
	fl_lane_memo out[4];
	fl_sighting a = PRESENT(SPOT_A, 100), b = PRESENT(SPOT_B, 100);
	fl_sighting both[2];
	got g = { 0 };

	/* both back: A resumes silently, B alarms at 95 + 20 */
	lane_for_resume(&lane, &conf);
	fl_lane_expect(&lane, m, 2, 100, 10);
	CHECK(fl_lane_memos(&lane, out, 4) == 2);
	a.memo = 1;
	b.memo = 2;
	both[0] = a;
	both[1] = b;
	ticks(&lane, 100, 102, NULL, &g);
	for (long i = lround(102 / TICK); i < lround(130 / TICK); i++)
		fl_lane_update(&lane, i * TICK, 1, both, 2, collect, &g);
	CHECK_MSG(g.n == 1 && g.ev[0].type == FL_EV_ALARM &&
			  fabs(g.ev[0].t - 115) < 0.11 &&
			  !strcmp(g.ev[0].incident_id, m[1].incident_id),
		  "%d events, first %s at %.1f", g.n,
		  g.n ? fl_event_type_name(g.ev[0].type) : "-",
		  g.n ? g.ev[0].t : 0);
	CHECK(strcmp(fl_lane_state(&lane), "blocked") == 0);
	CHECK(fl_lane_memos(&lane, out, 4) == 2 && out[0].alarmed &&
	      out[1].alarmed);
	g.n = 0;
	ticks(&lane, 130, 140, NULL, &g);
	CHECK_MSG(g.n == 2 && g.ev[0].type == FL_EV_CLEARED &&
			  g.ev[1].type == FL_EV_CLEARED,
		  "%d events after they left", g.n);
	CHECK(g.n >= 1 && fabs(g.ev[0].rest_since - 50) < 1e-9);

	/* neither back within the grace time: closed, left at the restart */
	lane_for_resume(&lane, &conf);
	fl_lane_expect(&lane, m, 2, 100, 10);
	g.n = 0;
	ticks(&lane, 100, 115, NULL, &g);
	CHECK_MSG(g.n == 2 && g.ev[0].type == FL_EV_CLEARED &&
			  fabs(g.ev[0].t - 110) < 0.11 &&
			  fabs(g.ev[0].left_at - 100) < 1e-9 &&
			  g.ev[1].type == FL_EV_VACATED,
		  "%d events when gone", g.n);

	/* another car in A's place (not A's look): A closes, a new one opens */
	lane_for_resume(&lane, &conf);
	fl_lane_expect(&lane, m, 1, 100, 10);
	a.memo = 0;
	g.n = 0;
	ticks(&lane, 100, 125, &a, &g);
	CHECK_MSG(g.n == 3 && g.ev[0].type == FL_EV_OCCUPIED &&
			  strcmp(g.ev[0].incident_id, m[0].incident_id) &&
			  g.ev[1].type == FL_EV_CLEARED &&
			  !strcmp(g.ev[1].incident_id, m[0].incident_id) &&
			  g.ev[2].type == FL_EV_ALARM &&
			  fabs(g.ev[2].t - 120) < 0.11,
		  "%d events for another car", g.n);
}

/*
 * The residual clear width: in a lane 4 m wide (400 px), with 3.5 m to be
 * left clear, an object at the lane's edge with too little footprint
 * inside to count by min_overlap still blocks it when it leaves less than
 * 3.5 m beside it (0.8 m taken: 3.2 m left), and does not when it leaves
 * more (0.4 m taken: 3.6 m left); with clear_width_m 0 neither counts.
 */
static void test_clear_width(void)
{
	fl_lane_conf conf;
	fl_lane lane;
	got g = { 0 };
	fl_sighting wide = { { 100, 200, 80, 50 }, 1, 0.6, 0.2, 0,
			     FL_SEEN_PRESENT,      0 };
	fl_sighting thin = { { 100, 200, 40, 50 }, 1, 0.6, 0.2, 0,
			     FL_SEEN_PRESENT,      0 };

	for (int on = 0; on <= 1; on++) {
		lane_for_resume(&lane, &conf);
		conf.clear_width_m = on ? 3.5 : 0;
		g.n = 0;
		ticks(&lane, 1, 30, &wide, &g);
		CHECK_MSG(g.n == (on ? 2 : 0),
			  "0.8 m taken, clear_width_m %g: %d events",
			  conf.clear_width_m, g.n);
		lane_for_resume(&lane, &conf);
		conf.clear_width_m = on ? 3.5 : 0;
		g.n = 0;
		ticks(&lane, 1, 30, &thin, &g);
		CHECK_MSG(g.n == 0, "0.4 m taken, clear_width_m %g: %d events",
			  conf.clear_width_m, g.n);
	}
}

/* The incident id of one sighting that stays past dwell_s in this lane. */
static void first_incident_id(const char *lane_id, const char *prefix,
			      char *out, size_t n)
{
	fl_lane_conf conf;
	fl_lane lane;
	fl_sighting s = PRESENT(SPOT_A, 0);
	got g = { 0 };

	memset(&conf, 0, sizeof(conf));
	snprintf(conf.id, sizeof(conf.id), "%s", lane_id);
	conf.points[0] = (fl_point){ 100, 150 };
	conf.points[1] = (fl_point){ 500, 150 };
	conf.points[2] = (fl_point){ 500, 300 };
	conf.points[3] = (fl_point){ 100, 300 };
	conf.npoints = 4;
	conf.dwell_s = 5;
	conf.clear_s = 1;
	conf.occlusion_s = 10;
	conf.classes = FL_CLASS_VEHICLE | FL_CLASS_OBJECT;
	fl_lane_init(&lane, &conf, "cam-1", prefix);
	for (int t = 1; t <= 7; t++)
		fl_lane_update(&lane, t, 1, &s, 1, collect, &g);
	CHECK_MSG(g.n > 0, "lane %s: no event", lane_id);
	snprintf(out, n, "%s", g.n > 0 ? g.ev[0].incident_id : "");
}

/*
 * The hub takes an incident as a device's only when its id starts with the
 * whole device id and a '-': the longest device id must survive whole, and
 * the longest lane ids must still give different incident ids.
 */
static void test_long_ids(void)
{
	char dev[FL_ID_MAX], prefix[FL_ID_MAX + 24], lane1[FL_ID_MAX],
		lane2[FL_ID_MAX], a[FL_INCIDENT_ID_MAX], b[FL_INCIDENT_ID_MAX];

	memset(dev, 'd', FL_ID_MAX - 1);
	dev[FL_ID_MAX - 1] = '\0';
	memset(lane1, 'l', FL_ID_MAX - 1);
	lane1[FL_ID_MAX - 1] = '\0';
	snprintf(lane2, sizeof(lane2), "%s", lane1);
	lane2[FL_ID_MAX - 2] = 'm';
	snprintf(prefix, sizeof(prefix), "%s-%lx", dev, 0xffffffffffUL);

	first_incident_id(lane1, prefix, a, sizeof(a));
	first_incident_id(lane2, prefix, b, sizeof(b));
	CHECK_MSG(strncmp(a, dev, strlen(dev)) == 0 && a[strlen(dev)] == '-',
		  "incident id %s lost its device id", a);
	CHECK_MSG(strcmp(a, b) != 0, "two lanes share incident id %s", a);
	CHECK_EQ_INT((int)(strlen(a) < FL_INCIDENT_ID_MAX - 1), 1);

	first_incident_id("lane-a", "edge-01-t", a, sizeof(a));
	CHECK_STREQ(a, "edge-01-t-lane-a-1");
}

int main(void)
{
	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
	test_state();
	test_scale();
	test_resume();
	test_clear_width();
	test_long_ids();
	printf("%zu lane cases\n", FL_ARRAY_SIZE(cases));
	TEST_DONE();
}
