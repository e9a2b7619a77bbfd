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
 * take a maximum bipartite matching (Kuhn's augmenting paths; zones hold a
 * handful of items). Within that, each obstruction tries the alarm nearest
 * its t* first, so among equally large matchings we lean to small delays.
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

/* Working state of one eval_score() call; arrays are indexed by event or
 * obstruction number. */
struct match {
	const eval_truth *truth;
	const eval_event *ev;
	size_t nev;
	long *zone_of;          /* event -> zone index, -1 when none */
	long *alarm_obs;        /* alarm -> matched obstruction, -1 */
	long *obs_alarm;        /* obstruction -> matched alarm, -1 */
	char *visited;          /* per event, one augmenting search */
	char *clear_used;       /* per event: clear already claimed */
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
 * Kuhn's augmenting path from due obstruction o. Tries unvisited alarms in
 * its window nearest t* first; an alarm held by another obstruction is taken
 * over if that one can be re-seated. Returns 1 when o got an alarm.
 * Recursion depth is bounded by the number of obstructions in the zone.
 */
static int augment(struct match *m, size_t o)
{
	double due = m->truth->obs[o].start_s + m->truth->dwell_s;

	for (;;) {
		long best = -1;
		double best_d = 0;

		for (size_t a = 0; a < m->nev; a++) {
			double d;

			if (m->visited[a] || !in_window(m, o, a))
				continue;
			d = fabs(m->ev[a].t - due);
			if (best < 0 || d < best_d) {
				best = (long)a;
				best_d = d;
			}
		}
		if (best < 0)
			return 0;
		m->visited[best] = 1;
		if (m->alarm_obs[best] < 0 ||
		    augment(m, (size_t)m->alarm_obs[best])) {
			m->alarm_obs[best] = (long)o;
			m->obs_alarm[o] = best;
			return 1;
		}
	}
}

static long zone_index(const eval_truth *t, const char *name)
{
	for (size_t z = 0; z < t->nzones; z++)
		if (strcmp(t->zones[z].name, name) == 0)
			return (long)z;
	return -1;
}

/* Does unmatched alarm a share a non-empty incident_id with a matched alarm
 * of the same zone? */
static int shares_incident(const struct match *m, size_t a)
{
	const char *id = m->ev[a].incident_id;

	if (!id[0])
		return 0;
	for (size_t b = 0; b < m->nev; b++)
		if (b != a && m->alarm_obs[b] >= 0 &&
		    m->zone_of[b] == m->zone_of[a] &&
		    strcmp(m->ev[b].incident_id, id) == 0)
			return 1;
	return 0;
}

/* Judge an alarm that matched nothing (rules 1-7 of the essay). */
static void judge_unmatched(const struct match *m, size_t a, eval_figures *f)
{
	const eval_truth *t = m->truth;
	long z = m->zone_of[a];
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
	if (shares_incident(m, a)) {
		f->fp_duplicate++;
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
			f->fp_duplicate++;
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
	struct match m = { .truth = t, .ev = ev, .nev = nev };
	long *clear_of = NULL;
	int rc = FL_ENOMEM;

	memset(out, 0, sizeof(*out));
	m.zone_of = malloc((nev + 1) * sizeof(long));
	m.alarm_obs = malloc((nev + 1) * sizeof(long));
	m.obs_alarm = malloc((t->nobs + 1) * sizeof(long));
	m.visited = malloc(nev + 1);
	m.clear_used = calloc(nev + 1, 1);
	clear_of = malloc((t->nobs + 1) * sizeof(long));
	if (!m.zone_of || !m.alarm_obs || !m.obs_alarm || !m.visited ||
	    !m.clear_used || !clear_of)
		goto out;

	for (size_t i = 0; i < nev; i++) {
		m.zone_of[i] = zone_index(t, ev[i].lane);
		m.alarm_obs[i] = -1;
	}

	/* Match: one augmenting search per due obstruction. */
	for (size_t o = 0; o < t->nobs; o++) {
		m.obs_alarm[o] = -1;
		clear_of[o] = -1;
	}
	for (size_t o = 0; o < t->nobs; o++) {
		if (obs_class(t, &t->obs[o]) != OBS_DUE)
			continue;
		memset(m.visited, 0, nev + 1);
		augment(&m, o);
	}

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
	free(m.visited);
	free(m.obs_alarm);
	free(m.alarm_obs);
	free(m.zone_of);
	return rc;
}

void eval_figures_add(eval_figures *a, const eval_figures *b)
{
	if (b->tp > 0 && (a->tp == 0 || b->delay_max > a->delay_max))
		a->delay_max = b->delay_max;
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
	f->clear_err_mean =
		f->clears_found ? f->clear_err_sum / f->clears_found : NAN;
	if (!f->tp)
		f->delay_max = NAN;
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
	memset(t, 0, sizeof(*t));
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

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
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
	ev->lane = dup_str(lane);
	ev->incident_id = dup_str(incident_id ? incident_id : "");
	if (!ev->lane || !ev->incident_id) {
		free(ev->lane);
		free(ev->incident_id);
		return FL_ENOMEM;
	}
	e->n++;
	return 0;
}
