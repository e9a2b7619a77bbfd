/*
 * score.c - match an edge's alarms and clears against a clip's ground truth.
 *
 * A note on the model (EVAL.md, docs/eval.md). We score per incident, the way
 * a property manager lives it: one alarm, at the right time, for every
 * obstruction that stayed past the grace time; none for anything else; and a
 * clear when the object leaves.
 *
 * Every obstruction falls in one of three classes by how long it stayed:
 *   due         end - start >= dwell + 3   an alarm is owed at t* = start + dwell
 *   short stop  end - start <  dwell - 3   any alarm for it is false
 *   in-between  otherwise                  an alarm for it is not judged
 * The 3 s margins keep a labeller's second of doubt from deciding the score.
 *
 * An alarm may pay a due obstruction when t* - 3 <= alarm <= t* + 10 in the
 * same zone. Each side is used at most once, and windows of obstructions
 * that follow each other closely overlap, so a greedy pass can pair an alarm
 * with the wrong obstruction and leave the other one unpaid. We therefore
 * take a maximum bipartite matching, and among the maximum ones the one with
 * the least total |alarm - t*|: successive shortest augmenting paths
 * (Bellman-Ford on the residual graph, costs |alarm - t*|), which keeps the
 * matching min-cost for its size at every step. Zones hold a handful of
 * items, so the simple O(V E) search per augmentation is plenty. The result
 * does not depend on the order of the labels or of the events file (except
 * for exact cost ties, broken by order).
 *
 * What is left over is judged in this order, first rule wins:
 *   1. lane names no zone                                 nothing there
 *   2. zone is "must not alarm"                           must-not-alarm
 *   3. shares its incident_id with a matched alarm        duplicate
 *   4. in [t*-3, t*+10] of an in-between obstruction      ignored (no FP)
 *   5. in [start, end+10] of a short stop                 short stop
 *   6. in [t*-3, max(t*+10, end)] of a matched obstruction duplicate
 *   7. otherwise                                          nothing there
 * Rule 6 stretches the duplicate window to the obstruction's end: a second
 * alarm while the same object still stands there is a repeat, not a new find.
 *
 * Restarts. When the events come from an edge that was restarted at T (two
 * runs, scored together against the uncut truth), a duplicate whose alarm
 * and the alarm it duplicates lie on either side of T is also counted as a
 * restart duplicate: the edge forgot an incident it had already reported.
 *
 * Cuts. An edge started at T with no memory cannot know how long what it
 * sees has stood there, so eval_truth_cut() rewrites the truth the way such
 * an edge owes it (docs/eval.md): what ended by T is gone, what rests
 * across T rests from T, what comes later is unchanged; a vehicle moving at
 * T was never an obstruction and needs no rule. The usual scoring follows.
 *
 * Clears. A matched obstruction that ends inside the clip owes a clear at
 * end_s: the first "cleared" with the matched alarm's incident_id, or, when
 * no clear carries that id, the first unclaimed clear in the zone at or after
 * the alarm. |clear - end| <= 10 is on time; earlier is an early clear (the
 * incident broke while the object was still there); later is late; none is
 * missing. An obstruction that lasts to the end of the clip owes no clear,
 * but a clear for it before end - 10 is still an early clear.
 */
#include "score.h"

#include "fl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum obs_class { OBS_DUE, OBS_SHORT, OBS_BETWEEN };

/* A pair that may match: alarm a lies in the window of due obstruction o. */
struct edge {
	size_t o, a;
	double cost; /* |alarm - t*| */
};

/* Working state of one eval_score() call; arrays are indexed by event or
 * obstruction number. */
struct match {
	const eval_truth *truth;
	const eval_event *ev;
	size_t nev;
	long *zone_of;      /* event -> zone index, -1 when none */
	long *alarm_obs;    /* alarm -> matched obstruction, -1 */
	long *obs_alarm;    /* obstruction -> matched alarm, -1 */
	struct edge *edges; /* due obstruction x alarm in its window */
	size_t nedges;
	double *dist;     /* per node: obstructions, then events */
	long *pred;       /* per node: edge that reached it, -1 */
	char *clear_used; /* per event: clear already claimed */
	double restart_t; /* NaN, or when the edge was restarted */
};

static enum obs_class obs_class(const eval_truth *t, const eval_obstruction *o)
{
	double len = o->end_s - o->start_s;

	if (len >= t->dwell_s + EVAL_DUE_MARGIN_S - EVAL_EPS)
		return OBS_DUE;
	if (len < t->dwell_s - EVAL_DUE_MARGIN_S - EVAL_EPS)
		return OBS_SHORT;
	return OBS_BETWEEN;
}

static int in_range(double x, double lo, double hi)
{
	return x >= lo - EVAL_EPS && x <= hi + EVAL_EPS;
}

/* Does alarm a lie in the alarm window of obstruction o (same zone)? */
static int in_window(const struct match *m, size_t o, size_t a)
{
	const eval_obstruction *ob = &m->truth->obs[o];
	double due = ob->start_s + m->truth->dwell_s;

	if (m->ev[a].type != EVAL_ALARM || m->zone_of[a] != (long)ob->zone)
		return 0;
	return in_range(m->ev[a].t, due - EVAL_EARLY_S, due + EVAL_LATE_S);
}

/*
 * One step of successive shortest paths: find the cheapest augmenting path
 * from any free due obstruction to any free alarm in the residual graph
 * (unmatched edges forward at +cost, matched edges backward at -cost) and
 * flip it. Returns 1 when the matching grew, 0 when it is maximum.
 * Nodes: obstruction o is node o, event a is node nobs + a.
 */
static int augment_cheapest(struct match *m)
{
	size_t nobs = m->truth->nobs, nodes = nobs + m->nev;
	long best = -1;

	for (size_t v = 0; v < nodes; v++) {
		m->dist[v] = INFINITY;
		m->pred[v] = -1;
	}
	for (size_t o = 0; o < nobs; o++)
		if (obs_class(m->truth, &m->truth->obs[o]) == OBS_DUE &&
		    m->obs_alarm[o] < 0)
			m->dist[o] = 0;

	/* Bellman-Ford; no negative cycle exists while the matching is
	 * min-cost for its size. The 1e-9 slack stops float-noise loops and
	 * the pass limit bounds the work whatever happens. */
	for (size_t pass = 0; pass <= nodes; pass++) {
		int changed = 0;

		for (size_t i = 0; i < m->nedges; i++) {
			const struct edge *e = &m->edges[i];
			size_t vo = e->o, va = nobs + e->a;

			if (m->obs_alarm[e->o] == (long)e->a) {
				if (m->dist[va] - e->cost < m->dist[vo] - 1e-9) {
					m->dist[vo] = m->dist[va] - e->cost;
					m->pred[vo] = (long)i;
					changed = 1;
				}
			} else if (m->dist[vo] + e->cost < m->dist[va] - 1e-9) {
				m->dist[va] = m->dist[vo] + e->cost;
				m->pred[va] = (long)i;
				changed = 1;
			}
		}
		if (!changed)
			break;
	}

	for (size_t a = 0; a < m->nev; a++)
		if (m->alarm_obs[a] < 0 && m->pred[nobs + a] >= 0 &&
		    (best < 0 || m->dist[nobs + a] < m->dist[nobs + best]))
			best = (long)a;
	if (best < 0)
		return 0;

	/* Flip the path back to its free obstruction: each obstruction on it
	 * takes the alarm it was reached towards and lets go of the one that
	 * led to it. The step limit guards against a corrupt pred chain. */
	for (size_t a = (size_t)best, steps = 0; steps <= nodes; steps++) {
		const struct edge *e = &m->edges[m->pred[nobs + a]];
		long old = m->obs_alarm[e->o];

		m->obs_alarm[e->o] = (long)a;
		m->alarm_obs[a] = (long)e->o;
		if (old < 0)
			break;
		m->alarm_obs[old] = -1;
		a = (size_t)old;
	}
	return 1;
}

/* Collect every (due obstruction, alarm in its window) pair into m->edges.
 * Returns 0 or FL_ENOMEM. */
static int build_edges(struct match *m)
{
	const eval_truth *t = m->truth;
	size_t cap = 0;

	for (size_t o = 0; o < t->nobs; o++) {
		double due = t->obs[o].start_s + t->dwell_s;

		if (obs_class(t, &t->obs[o]) != OBS_DUE)
			continue;
		for (size_t a = 0; a < m->nev; a++) {
			if (!in_window(m, o, a))
				continue;
			if (m->nedges == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				struct edge *ne = realloc(m->edges,
							  ncap * sizeof(*ne));

				if (!ne)
					return FL_ENOMEM;
				m->edges = ne;
				cap = ncap;
			}
			m->edges[m->nedges++] = (struct edge){
				.o = o, .a = a, .cost = fabs(m->ev[a].t - due)
			};
		}
	}
	return 0;
}

static long zone_index(const eval_truth *t, const char *name)
{
	for (size_t z = 0; z < t->nzones; z++)
		if (strcmp(t->zones[z].name, name) == 0)
			return (long)z;
	return -1;
}

/* The matched alarm of the same zone that unmatched alarm a shares a
 * non-empty incident_id with, or -1. */
static long shared_incident(const struct match *m, size_t a)
{
	const char *id = m->ev[a].incident_id;

	if (!id[0])
		return -1;
	for (size_t b = 0; b < m->nev; b++)
		if (b != a && m->alarm_obs[b] >= 0 &&
		    m->zone_of[b] == m->zone_of[a] &&
		    strcmp(m->ev[b].incident_id, id) == 0)
			return (long)b;
	return -1;
}

/* Book alarm a as a duplicate of matched alarm b. */
static void book_duplicate(const struct match *m, size_t a, size_t b,
			   eval_figures *f)
{
	double T = m->restart_t;

	f->fp_duplicate++;
	if (!isnan(T) && (m->ev[a].t < T) != (m->ev[b].t < T))
		f->restart_dup++;
}

/* Judge an alarm that matched nothing (rules 1-7 of the essay). */
static void judge_unmatched(const struct match *m, size_t a, eval_figures *f)
{
	const eval_truth *t = m->truth;
	long z = m->zone_of[a], dup;
	double at = m->ev[a].t;

	if (z < 0) {
		f->fp_nothing++;
		f->fp++;
		return;
	}
	if (t->zones[z].must_not_alarm) {
		f->fp_must_not_alarm++;
		f->fp++;
		return;
	}
	dup = shared_incident(m, a);
	if (dup >= 0) {
		book_duplicate(m, a, (size_t)dup, f);
		f->fp++;
		return;
	}
	for (size_t o = 0; o < t->nobs; o++) {
		const eval_obstruction *ob = &t->obs[o];
		double due = ob->start_s + t->dwell_s;

		if ((long)ob->zone == z && obs_class(t, ob) == OBS_BETWEEN &&
		    in_range(at, due - EVAL_EARLY_S, due + EVAL_LATE_S)) {
			f->ignored++;
			return;
		}
	}
	f->fp++;
	for (size_t o = 0; o < t->nobs; o++) {
		const eval_obstruction *ob = &t->obs[o];

		if ((long)ob->zone == z && obs_class(t, ob) == OBS_SHORT &&
		    in_range(at, ob->start_s, ob->end_s + EVAL_LATE_S)) {
			f->fp_short_stop++;
			return;
		}
	}
	for (size_t o = 0; o < t->nobs; o++) {
		const eval_obstruction *ob = &t->obs[o];
		double due = ob->start_s + t->dwell_s;

		if ((long)ob->zone == z && m->obs_alarm[o] >= 0 &&
		    in_range(at, due - EVAL_EARLY_S,
			     FL_MAX(due + EVAL_LATE_S, ob->end_s))) {
			book_duplicate(m, a, (size_t)m->obs_alarm[o], f);
			return;
		}
	}
	f->fp_nothing++;
}

/* Is event c earlier than event best (time, then file line)? */
static int before(const eval_event *c, const eval_event *best)
{
	return !best || c->t < best->t ||
	       (c->t == best->t && c->line < best->line);
}

/* The first unclaimed clear carrying alarm a's incident_id, or -1. */
static long clear_by_id(const struct match *m, size_t a)
{
	const char *id = m->ev[a].incident_id;
	long best = -1;

	if (!id[0])
		return -1;
	for (size_t c = 0; c < m->nev; c++) {
		if (m->ev[c].type != EVAL_CLEARED || m->clear_used[c] ||
		    strcmp(m->ev[c].incident_id, id) != 0)
			continue;
		if (before(&m->ev[c], best < 0 ? NULL : &m->ev[best]))
			best = (long)c;
	}
	return best;
}

/* The first unclaimed clear in alarm a's zone at or after it, or -1. */
static long clear_by_zone(const struct match *m, size_t a)
{
	long best = -1;

	for (size_t c = 0; c < m->nev; c++) {
		if (m->ev[c].type != EVAL_CLEARED || m->clear_used[c] ||
		    m->zone_of[c] != m->zone_of[a] ||
		    m->ev[c].t < m->ev[a].t - EVAL_EPS)
			continue;
		if (before(&m->ev[c], best < 0 ? NULL : &m->ev[best]))
			best = (long)c;
	}
	return best;
}

/* Book the clear (or its absence) of matched obstruction o. */
static void judge_clear(const struct match *m, size_t o, long c,
			eval_figures *f)
{
	const eval_obstruction *ob = &m->truth->obs[o];
	double ct, err;

	if (ob->clip_ends) {
		if (c >= 0 && m->ev[c].t < ob->end_s - EVAL_CLEAR_S - EVAL_EPS)
			f->early_clears++;
		return;
	}
	f->clears_due++;
	if (c < 0) {
		f->clears_missing++;
		return;
	}
	ct = m->ev[c].t;
	err = fabs(ct - ob->end_s);
	f->clears_found++;
	f->clear_err_sum += err;
	if (err <= EVAL_CLEAR_S + EVAL_EPS)
		f->clears_on_time++;
	else if (ct < ob->end_s)
		f->early_clears++;
	else
		f->clears_late++;
}

int eval_score(const eval_truth *t, const eval_event *ev, size_t nev,
	       eval_figures *out)
{
	return eval_score_restart(t, ev, nev, NAN, out);
}

int eval_score_restart(const eval_truth *t, const eval_event *ev, size_t nev,
		       double restart_t, eval_figures *out)
{
	struct match m = {
		.truth = t, .ev = ev, .nev = nev, .restart_t = restart_t
	};
	long *clear_of = NULL;
	int rc = FL_ENOMEM;

	memset(out, 0, sizeof(*out));
	m.zone_of = malloc((nev + 1) * sizeof(long));
	m.alarm_obs = malloc((nev + 1) * sizeof(long));
	m.obs_alarm = malloc((t->nobs + 1) * sizeof(long));
	m.dist = malloc((t->nobs + nev + 1) * sizeof(double));
	m.pred = malloc((t->nobs + nev + 1) * sizeof(long));
	m.clear_used = calloc(nev + 1, 1);
	clear_of = malloc((t->nobs + 1) * sizeof(long));
	if (!m.zone_of || !m.alarm_obs || !m.obs_alarm || !m.dist || !m.pred ||
	    !m.clear_used || !clear_of)
		goto out;

	for (size_t i = 0; i < nev; i++) {
		m.zone_of[i] = zone_index(t, ev[i].lane);
		m.alarm_obs[i] = -1;
	}

	/* Match: grow a min-cost matching until it is maximum. */
	for (size_t o = 0; o < t->nobs; o++) {
		m.obs_alarm[o] = -1;
		clear_of[o] = -1;
	}
	if (build_edges(&m))
		goto out;
	while (augment_cheapest(&m))
		;

	/* Paid and unpaid obstructions. */
	for (size_t o = 0; o < t->nobs; o++) {
		long a = m.obs_alarm[o];
		double d;

		if (obs_class(t, &t->obs[o]) != OBS_DUE)
			continue;
		if (a < 0) {
			out->fn++;
			continue;
		}
		d = ev[a].t - (t->obs[o].start_s + t->dwell_s);
		if (out->tp == 0 || d > out->delay_max)
			out->delay_max = d;
		if (out->tp == 0 || fabs(d) > out->delay_abs_max)
			out->delay_abs_max = fabs(d);
		out->tp++;
		out->delay_sum += d;
		out->delay_abs_sum += fabs(d);
	}

	/* Alarms nobody was owed. */
	for (size_t a = 0; a < nev; a++)
		if (ev[a].type == EVAL_ALARM && m.alarm_obs[a] < 0)
			judge_unmatched(&m, a, out);

	/* Clears: claims by incident_id first, then by zone and time. */
	for (size_t o = 0; o < t->nobs; o++) {
		if (m.obs_alarm[o] < 0)
			continue;
		clear_of[o] = clear_by_id(&m, (size_t)m.obs_alarm[o]);
		if (clear_of[o] >= 0)
			m.clear_used[clear_of[o]] = 1;
	}
	for (size_t o = 0; o < t->nobs; o++) {
		if (m.obs_alarm[o] < 0 || clear_of[o] >= 0)
			continue;
		clear_of[o] = clear_by_zone(&m, (size_t)m.obs_alarm[o]);
		if (clear_of[o] >= 0)
			m.clear_used[clear_of[o]] = 1;
	}
	for (size_t o = 0; o < t->nobs; o++)
		if (m.obs_alarm[o] >= 0)
			judge_clear(&m, o, clear_of[o], out);

	eval_figures_finish(out);
	rc = 0;
out:
	free(clear_of);
	free(m.clear_used);
	free(m.pred);
	free(m.dist);
	free(m.edges);
	free(m.obs_alarm);
	free(m.alarm_obs);
	free(m.zone_of);
	return rc;
}

void eval_figures_add(eval_figures *a, const eval_figures *b)
{
	if (b->tp > 0 && (a->tp == 0 || b->delay_max > a->delay_max))
		a->delay_max = b->delay_max;
	if (b->tp > 0 && (a->tp == 0 || b->delay_abs_max > a->delay_abs_max))
		a->delay_abs_max = b->delay_abs_max;
	a->tp += b->tp;
	a->fp += b->fp;
	a->fn += b->fn;
	a->ignored += b->ignored;
	a->fp_must_not_alarm += b->fp_must_not_alarm;
	a->fp_short_stop += b->fp_short_stop;
	a->fp_duplicate += b->fp_duplicate;
	a->fp_nothing += b->fp_nothing;
	a->delay_sum += b->delay_sum;
	a->delay_abs_sum += b->delay_abs_sum;
	a->clears_due += b->clears_due;
	a->clears_on_time += b->clears_on_time;
	a->clears_late += b->clears_late;
	a->clears_missing += b->clears_missing;
	a->clears_found += b->clears_found;
	a->clear_err_sum += b->clear_err_sum;
	a->early_clears += b->early_clears;
	a->restart_dup += b->restart_dup;
}

/*
 * Precision is 1 when there was no alarm at all and recall is 1 when nothing
 * was due, so a silent run on a scene with nothing to find scores F1 = 1.
 */
void eval_figures_finish(eval_figures *f)
{
	double p, r;

	p = f->tp + f->fp ? (double)f->tp / (f->tp + f->fp) : 1.0;
	r = f->tp + f->fn ? (double)f->tp / (f->tp + f->fn) : 1.0;
	f->precision = p;
	f->recall = r;
	f->f1 = p + r > 0 ? 2 * p * r / (p + r) : 0.0;
	f->delay_mean = f->tp ? f->delay_sum / f->tp : NAN;
	f->delay_abs_mean = f->tp ? f->delay_abs_sum / f->tp : NAN;
	f->clear_err_mean = f->clears_found ? f->clear_err_sum / f->clears_found
					    : NAN;
	if (!f->tp) {
		f->delay_max = NAN;
		f->delay_abs_max = NAN;
	}
}

void eval_truth_free(eval_truth *t)
{
	if (!t)
		return;
	for (size_t z = 0; z < t->nzones; z++) {
		free(t->zones[z].name);
		free(t->zones[z].points);
	}
	free(t->zones);
	free(t->obs);
	free(t->clip);
	free(t->media);
	free(t->cls);
	memset(t, 0, sizeof(*t));
}

/* strdup that keeps NULL; *ok is cleared when a copy fails. */
static char *dup_or_null(const char *s, int *ok)
{
	char *d;

	if (!s)
		return NULL;
	d = malloc(strlen(s) + 1);
	if (!d) {
		*ok = 0;
		return NULL;
	}
	return strcpy(d, s);
}

int eval_truth_cut(const eval_truth *t, double cut, eval_truth *out)
{
	int ok = 1;

	memset(out, 0, sizeof(*out));
	out->duration_s = t->duration_s;
	out->dwell_s = t->dwell_s;
	out->fps = t->fps;
	out->clip = dup_or_null(t->clip, &ok);
	out->media = dup_or_null(t->media, &ok);
	out->cls = dup_or_null(t->cls, &ok);
	out->zones = calloc(t->nzones + 1, sizeof(*out->zones));
	out->obs = calloc(t->nobs + 1, sizeof(*out->obs));
	if (!ok || !out->zones || !out->obs)
		return FL_ENOMEM;
	for (size_t z = 0; z < t->nzones; z++) {
		eval_zone *d = &out->zones[z];
		const eval_zone *s = &t->zones[z];

		out->nzones = z + 1;
		d->must_not_alarm = s->must_not_alarm;
		d->name = dup_or_null(s->name, &ok);
		if (s->points) {
			d->points = malloc(s->npoints * 2 * sizeof(double) + 1);
			if (!d->points)
				return FL_ENOMEM;
			memcpy(d->points, s->points,
			       s->npoints * 2 * sizeof(double));
			d->npoints = s->npoints;
		}
		if (!ok)
			return FL_ENOMEM;
	}
	for (size_t o = 0; o < t->nobs; o++) {
		eval_obstruction ob = t->obs[o];

		/* gone before the edge came up (at rest until exactly the
		 * cut: it left with the cut's frame) */
		if (ob.end_s <= cut + EVAL_EPS)
			continue;
		if (ob.start_s < cut)
			ob.start_s = cut;
		out->obs[out->nobs++] = ob;
	}
	return 0;
}

void eval_events_free(eval_events *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].lane);
		free(e->v[i].incident_id);
	}
	free(e->v);
	memset(e, 0, sizeof(*e));
}

int eval_events_push(eval_events *e, enum eval_event_type type,
		     const char *lane, const char *incident_id, double t,
		     int line)
{
	eval_event *ev;

	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 16;
		eval_event *v = realloc(e->v, cap * sizeof(*v));

		if (!v)
			return FL_ENOMEM;
		e->v = v;
		e->cap = cap;
	}
	ev = &e->v[e->n];
	ev->type = type;
	ev->t = t;
	ev->line = line;
	ev->lane = strdup(lane);
	ev->incident_id = strdup(incident_id ? incident_id : "");
	if (!ev->lane || !ev->incident_id) {
		free(ev->lane);
		free(ev->incident_id);
		return FL_ENOMEM;
	}
	e->n++;
	return 0;
}
