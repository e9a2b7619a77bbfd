/*
 * state.c - a camera's memory across restarts, on disk.
 *
 * A note on what is kept, and when (docs/memory.md is the user's page).
 *
 * An edge that restarts (a power cut, an update, a reload that reopens a
 * camera) used to start blind: whatever stood in the lane was taken for
 * the lane, and an incident open before was closed as "interrupted" and,
 * if the car was still there, alarmed again dwell_s later. Two things fix
 * that, and both are kept per camera in <state_dir>/<camera>.mem
 * (src/detect/memory.c has the format):
 *
 *   - the clear lane as the per-pixel model knows it (fl_still_lane()),
 *     with what it knows of each pixel (seen, or only assumed from a first
 *     frame); by day and by night apart, since a lane under sodium lamps
 *     or an IR illuminator is another picture. At start it is compared with
 *     the first frame by the health module's view test; one that no longer
 *     fits (a moved camera, a repainted lane) is dropped and the camera
 *     learns afresh, as without memory;
 *   - the lanes' open incidents (fl_lane_memos()): id, place, rest start,
 *     alarmed or not, and how the object looked. After a restart a lane
 *     expects each back for a grace time: an object at rest since the
 *     restart in its place that looks as it did resumes it (same id, its
 *     old clock, no second occupied or alarm); one not back in time went
 *     while the edge was down and closes (cleared after an alarm).
 *
 * When: the file is rewritten whole, crash-safely (a temporary, fsync,
 * rename, fsync of the folder), before an event that opens or alarms an
 * incident goes out, so a power cut never forgets an alarm that went out
 * (no duplicate after it); after a frame whose events closed one; and
 * with the clear lane every
 * EDGE_STATE_LANE_S of video time, first EDGE_STATE_FIRST_S after start.
 * A lane changes slowly (light, seasons, paint), so losing up to a minute
 * of it to a power cut costs nothing, while writing a few hundred kB of
 * flash every frame would wear it out; a minute is ~300 MB a day.
 *
 * Time: the memory's clock is wall-clock time in live use and the video's
 * own time in a replay (clock_base), so a replay restarted at --start T
 * with the memory of a run cut at --until T sees one timeline.
 */
#include "state.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"
#include "geom.h"
#include "health.h"
#include "memory.h"
#include "file.h"

#define EDGE_STATE_LANE_S 60.0     /* the clear lane saved this often */
#define EDGE_STATE_FIRST_S 5.0     /* ... first this long after start */
#define EDGE_STATE_MAX (64u << 20) /* a memory file larger is refused */
#define FIT_CORR 0.6  /* the view test a remembered lane must pass */
#define FIT_SHIFT 2.0 /* ... and at most this shift, analysis px */
#define LOOK_LIKE 0.5 /* an object resumed looks at least this alike */

struct edge_state {
	const fl_config *cfg;
	int cam;
	char path[FL_PATH_MAX + FL_ID_MAX + 8];
	double base;       /* memory clock = video time + base */
	fl_memory *mem;    /* as loaded; then as last saved */
	int dirty;         /* an incident changed since the last save */
	double t0;         /* first analysed frame */
	double lane_saved; /* video time the lane was last saved, or -1 */
	/* the expected incidents' looks, by lane and index in its expect[] */
	fl_mem_incident look[FL_MAX_LANES][FL_LANE_SPOTS];
};

static uint64_t fingerprint_of(const fl_config *cfg, int cam, int w, int h)
{
	return fl_memory_fingerprint(cfg->device_id, cfg->cameras[cam].id, w,
				     h);
}

edge_state *edge_state_open(const char *dir, const fl_config *cfg, int cam,
			    int aw, int ah, double clock_base, char *err,
			    size_t errlen)
{
	edge_state *m = calloc(1, sizeof(*m));
	char why[256], ferr[FL_PATH_MAX + 128];
	char *buf;
	size_t len = 0;
	int rc;

	if (!m || !(m->mem = fl_memory_create(aw, ah))) {
		free(m);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->cfg = cfg;
	m->cam = cam;
	m->base = clock_base;
	m->lane_saved = -1;
	m->mem->fingerprint = fingerprint_of(cfg, cam, aw, ah);
	if (fl_mkdir_p(dir, 0700, ferr, sizeof(ferr)) < 0) {
		snprintf(err, errlen, "state folder: %s", ferr);
		edge_state_close(m, 0, NULL, NULL, 0, 0, NULL, 1, 1);
		return NULL;
	}
	snprintf(m->path, sizeof(m->path), "%s/%s.mem", dir,
		 cfg->cameras[cam].id);
	rc = fl_file_read(m->path, EDGE_STATE_MAX, &buf, &len, ferr,
			  sizeof(ferr));
	if (rc < 0) {
		if (rc != FL_ENOENT)
			fl_log(FL_LOG_WARN, "memory",
			       "%s: cannot read (%s); "
			       "starting without memory",
			       m->path, ferr);
		else
			fl_log(FL_LOG_INFO, "memory", "%s: none yet", m->path);
		return m;
	}
	if (fl_memory_decode(m->mem, (const uint8_t *)buf, len,
			     m->mem->fingerprint, why, sizeof(why)) < 0)
		fl_log(FL_LOG_WARN, "memory",
		       "%s: refused (%s); starting "
		       "without memory",
		       m->path, why);
	free(buf);
	return m;
}

void edge_state_apply(edge_state *m, fl_still *still, fl_lane *lanes,
		      int nlanes, const uint8_t *first, int night,
		      int with_reference, double t, double grace_s)
{
	const fl_camera_conf *cc = &m->cfg->cameras[m->cam];
	int slot = night ? FL_MEM_NIGHT : FL_MEM_DAY, fits = -1, expected = 0;
	double corr = -1, dx = 0, dy = 0;

	if (!m)
		return;
	m->t0 = t;
	/* Does the remembered view fit? The lane of the current light if
	 * there is one, else the other (the incidents' places still need a
	 * view that has not moved). */
	for (int k = 0; k < FL_MEM_SLOTS && fits < 0; k++) {
		int s = k == 0 ? slot : 1 - slot;
		if (!m->mem->slot[s].used)
			continue;
		corr = fl_health_compare(m->mem->slot[s].bg, first, m->mem->w,
					 m->mem->h, &dx, &dy);
		fits = corr >= FIT_CORR && hypot(dx, dy) <= FIT_SHIFT;
	}
	if (fits == 0) {
		/* The incidents are still expected: in a view that moved they
		 * are not found again and close as cleared after the grace
		 * time (the spool left them to this camera). */
		fl_log(FL_LOG_WARN, "memory",
		       "%s: the remembered lane does not fit the view "
		       "(correlation %.2f, shift %.1f,%.1f px): a moved camera "
		       "or a repainted lane; forgotten",
		       cc->id, corr, dx, dy);
		for (int i = 0; i < FL_MEM_SLOTS; i++)
			m->mem->slot[i].used = 0;
	}
	if (fits == 1 && m->mem->slot[slot].used && !with_reference)
		fl_still_set_lane(still, m->mem->slot[slot].bg,
				  m->mem->slot[slot].q);
	for (int i = 0; i < m->mem->nlanes; i++) {
		const fl_mem_lane *ml = &m->mem->lane[i];
		fl_lane_memo memo[FL_LANE_SPOTS];
		int l;

		for (l = 0; l < nlanes; l++)
			if (!strcmp(cc->lanes[l].id, ml->id))
				break;
		if (l == nlanes) {
			if (ml->n)
				fl_log(FL_LOG_WARN, "memory",
				       "%s: lane %s is no longer configured: "
				       "its %d incident(s) are forgotten",
				       cc->id, ml->id, ml->n);
			continue;
		}
		for (int k = 0; k < ml->n; k++) {
			memo[k] = ml->inc[k].m;
			memo[k].rest_since -= m->base; /* onto video time */
			m->look[l][k] = ml->inc[k];
		}
		fl_lane_expect(&lanes[l], memo, ml->n, t, grace_s);
		lanes[l].next_seq = FL_MAX(lanes[l].next_seq, ml->next_seq);
		expected += ml->n;
	}
	fl_log(FL_LOG_INFO, "memory",
	       "%s: %s; %d open incident(s) expected back", cc->id,
	       fits != 1 ? "no clear lane remembered"
	       : !m->mem->slot[slot].used
		       ? "no clear lane remembered for this light"
	       : with_reference ? "the reference image gives the clear lane"
				: "the clear lane as remembered",
	       expected);
}

int edge_state_which(const edge_state *m, const fl_lane *lane, int l,
		     const fl_sighting *s, const uint8_t *frame, double sx,
		     double sy)
{
	if (!m || s->seen != FL_SEEN_PRESENT ||
	    s->rest_since > lane->expect_until)
		return 0;
	for (int e = 0; e < lane->nexpect; e++) {
		const fl_lane_memo *x = &lane->expect[e];
		double box[4] = { x->box[0] / sx, x->box[1] / sy,
				  x->box[2] / sx, x->box[3] / sy };
		double like;

		if (!x->incident_id[0] ||
		    fl_box_overlap_min(x->box, s->box) < 0.5)
			continue;
		like = fl_memory_look_like(&m->look[l][e], frame, m->mem->w,
					   m->mem->h, box);
		fl_log(FL_LOG_DEBUG, "memory", "%s: looks %.2f like before",
		       x->incident_id, like);
		if (like >= LOOK_LIKE)
			return e + 1;
	}
	return 0;
}

void edge_state_touch(edge_state *m)
{
	if (m)
		m->dirty = 1;
}

/* Take the current state into m->mem and write it. */
static void save(edge_state *m, double t, const fl_still *still,
		 const fl_lane *lanes, int nlanes, int night, int lane_too,
		 const uint8_t *resting, double sx, double sy)
{
	const fl_camera_conf *cc = &m->cfg->cameras[m->cam];
	char err[300];
	uint8_t *buf;
	size_t len;

	m->mem->saved_at = t + m->base;
	if (lane_too && still) {
		int s = night ? FL_MEM_NIGHT : FL_MEM_DAY;
		fl_still_lane(still, m->mem->slot[s].bg, m->mem->slot[s].q);
		m->mem->slot[s].used = 1;
		m->mem->slot[s].learnt_at = m->mem->saved_at;
		m->lane_saved = t;
	}
	m->mem->nlanes = lanes ? nlanes : 0;
	for (int l = 0; l < m->mem->nlanes; l++) {
		fl_mem_lane *ml = &m->mem->lane[l];
		fl_lane_memo memo[FL_LANE_SPOTS];

		snprintf(ml->id, sizeof(ml->id), "%s", cc->lanes[l].id);
		ml->next_seq = lanes[l].next_seq;
		ml->n = fl_lane_memos(&lanes[l], memo, FL_LANE_SPOTS);
		for (int k = 0; k < ml->n; k++) {
			double box[4] = { memo[k].box[0] / sx,
					  memo[k].box[1] / sy,
					  memo[k].box[2] / sx,
					  memo[k].box[3] / sy };
			int e;
			ml->inc[k].m = memo[k];
			ml->inc[k].m.rest_since += m->base;
			/* an incident still expected keeps the look it had */
			for (e = 0; e < lanes[l].nexpect; e++)
				if (!strcmp(lanes[l].expect[e].incident_id,
					    memo[k].incident_id))
					break;
			if (e < lanes[l].nexpect) {
				ml->inc[k].pw = m->look[l][e].pw;
				ml->inc[k].ph = m->look[l][e].ph;
				memcpy(ml->inc[k].patch, m->look[l][e].patch,
				       sizeof(ml->inc[k].patch));
			} else {
				fl_memory_take_look(&ml->inc[k], resting,
						    m->mem->w, m->mem->h, box);
			}
		}
	}
	if (fl_memory_encode(m->mem, &buf, &len) < 0) {
		fl_log(FL_LOG_WARN, "memory", "%s: out of memory", m->path);
		return;
	}
	if (fl_file_write(m->path, buf, len, 0600, 0, err, sizeof(err)) < 0)
		fl_log(FL_LOG_WARN, "memory", "%s", err);
	else
		m->dirty = 0;
	free(buf);
}

void edge_state_save(edge_state *m, double t, const fl_still *still,
		     const fl_lane *lanes, int nlanes, int night,
		     const uint8_t *resting, double sx, double sy)
{
	if (m)
		save(m, t, still, lanes, nlanes, night, 0, resting, sx, sy);
}

void edge_state_tick(edge_state *m, double t, const fl_still *still,
		     const fl_lane *lanes, int nlanes, int night, int moved,
		     const uint8_t *resting, double sx, double sy)
{
	int lane_due;

	if (!m)
		return;
	lane_due = !moved &&
		   (m->lane_saved < 0 ? t - m->t0 >= EDGE_STATE_FIRST_S
				      : t - m->lane_saved >= EDGE_STATE_LANE_S);
	if (moved && m->mem->slot[0].used + m->mem->slot[1].used) {
		/* what was learnt of this view is no use to another */
		fl_log(FL_LOG_WARN, "memory",
		       "%s: the view moved: the "
		       "remembered clear lane is forgotten",
		       m->cfg->cameras[m->cam].id);
		m->mem->slot[0].used = m->mem->slot[1].used = 0;
		m->dirty = 1;
	}
	if (m->dirty || lane_due)
		save(m, t, still, lanes, nlanes, night, lane_due, resting, sx,
		     sy);
}

void edge_state_close(edge_state *m, double t, const fl_still *still,
		      const fl_lane *lanes, int nlanes, int night,
		      const uint8_t *resting, double sx, double sy)
{
	if (!m)
		return;
	if (still && lanes)
		save(m, t, still, lanes, nlanes, night, 1, resting, sx, sy);
	fl_memory_destroy(m->mem);
	free(m);
}

int edge_state_incidents(const char *dir, const fl_config *cfg,
			 char (*ids)[FL_INCIDENT_ID_MAX], int max)
{
	int n = 0;

	if (!dir || !dir[0])
		return 0;
	for (int c = 0; c < cfg->ncameras && n < max; c++) {
		char path[FL_PATH_MAX + FL_ID_MAX + 8], why[256];
		uint8_t *buf;
		char *text;
		size_t len = 0;
		fl_memory *mem;
		int w, h;

		snprintf(path, sizeof(path), "%s/%s.mem", dir,
			 cfg->cameras[c].id);
		if (fl_file_read(path, EDGE_STATE_MAX, &text, &len, NULL, 0) < 0)
			continue;
		buf = (uint8_t *)text;
		/* the frame size, from the header: the decode checks it */
		w = len >= 28 ? (int)(buf[20] | buf[21] << 8 | buf[22] << 16 |
				      (uint32_t)(buf[23] & 0x7f) << 24)
			      : 0;
		h = len >= 28 ? (int)(buf[24] | buf[25] << 8 | buf[26] << 16 |
				      (uint32_t)(buf[27] & 0x7f) << 24)
			      : 0;
		mem = fl_memory_create(w, h);
		if (mem && fl_memory_decode(mem, buf, len,
					    fingerprint_of(cfg, c, w, h), why,
					    sizeof(why)) == 0)
			for (int l = 0; l < mem->nlanes; l++)
				for (int k = 0; k < mem->lane[l].n && n < max;
				     k++)
					snprintf(ids[n++], FL_INCIDENT_ID_MAX,
						 "%s",
						 mem->lane[l]
							 .inc[k]
							 .m.incident_id);
		fl_memory_destroy(mem);
		free(buf);
	}
	return n;
}
