/*
 * state.h - a camera's memory across restarts, on disk (docs/memory.md):
 * the clear lane it has learnt (day and night apart) and its lanes' open
 * incidents, in <state_dir>/<camera>.mem. See state.c.
 *
 * One edge_state per camera, made by edge_state_open() and freed by
 * edge_state_close() (NULL-safe), used by the camera's thread only.
 */
#ifndef FL_EDGE_STATE_H
#define FL_EDGE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "lane.h"
#include "still.h"

typedef struct edge_state edge_state;

/*
 * The memory of camera `cam` (analysis size aw x ah) in folder dir, which
 * is created if missing. clock_base maps this run's video time to the
 * memory's clock (memory time = video time + clock_base: wall-clock time
 * in live use, 0 in a replay, whose video time is the source's own). A
 * file that cannot be read, is corrupt or another camera's is logged and
 * set aside; the camera then starts without memory. NULL only when the
 * folder cannot be made or memory runs out (reason in err).
 */
edge_state *edge_state_open(const char *dir, const fl_config *cfg, int cam,
			    int aw, int ah, double clock_base, char *err,
			    size_t errlen);

/*
 * Before the first analysed frame (`first`, analysis size, at video time
 * t): take the remembered clear lane of the current light (night: dark or
 * grey) into still, if it fits the view (unless the camera has a reference
 * image: with_reference), and tell each lane which incidents to expect
 * back (fl_lane_expect(), for grace_s).
 */
void edge_state_apply(edge_state *m, fl_still *still, fl_lane *lanes,
		      int nlanes, const uint8_t *first, int night,
		      int with_reference, double t, double grace_s);

/*
 * Which expected incident of lane (if any) sighting s is: at rest since
 * before the lane's resume time, over the incident's place, and looking as
 * it did (`frame`, the analysis frame). Returns 1 + its index, or 0.
 */
int edge_state_which(const edge_state *m, const fl_lane *lane, int l,
		     const fl_sighting *s, const uint8_t *frame, double sx,
		     double sy);

/* An incident closed: save at the next tick. */
void edge_state_touch(edge_state *m);

/*
 * An incident opened or alarmed: save now, before the event goes out, so
 * that no power cut can leave an alarm sent and not remembered (the
 * restarted edge would alarm it again). The lanes already hold the event.
 */
void edge_state_save(edge_state *m, double t, const fl_still *still,
		     const fl_lane *lanes, int nlanes, int night,
		     const uint8_t *resting, double sx, double sy);

/*
 * After each analysed frame at video time t: save when an incident changed
 * (touch), and the clear lane every EDGE_STATE_LANE_S (docs/memory.md says
 * why), unless the view is not to be trusted now (moved: the view moved
 * away from its reference). resting is fl_still_resting_view() of the
 * frame, for the objects' looks.
 */
void edge_state_tick(edge_state *m, double t, const fl_still *still,
		     const fl_lane *lanes, int nlanes, int night, int moved,
		     const uint8_t *resting, double sx, double sy);

/* Save what is known now (an orderly stop) and free. NULL-safe. */
void edge_state_close(edge_state *m, double t, const fl_still *still,
		      const fl_lane *lanes, int nlanes, int night,
		      const uint8_t *resting, double sx, double sy);

/*
 * The incident ids held in the memory files of dir (whatever camera they
 * belong to), for the spool's start-up: those are resumed or closed by
 * their camera, not closed as interrupted. Writes at most max; returns how
 * many (0 without dir or files).
 */
int edge_state_incidents(const char *dir, const fl_config *cfg,
			 char (*ids)[FL_INCIDENT_ID_MAX], int max);

#endif /* FL_EDGE_STATE_H */
