/*
 * budget.c - what keeps the hub's store and folders from growing without
 * bound (docs/hub.md, "Budgets").
 *
 * A note on evidence. The quarantine and half-received bundles are the
 * hub's own working state and have fixed budgets (quarantine_max rows,
 * incoming_max_age_s). A verified bundle is different: it is the proof an
 * enforcement team may still need for a fine or an appeal, so nothing
 * removes it unless the operator says so (evidence_keep_days, default 0 =
 * forever), and then only for closed incidents, with an audit row each.
 */
#include "budget.h"

#include "bundles.h"
#include "fl.h"

#define QUICK_S 5.0       /* quarantine and .incoming */
#define EVIDENCE_S 3600.0 /* evidence retention */

void hub_budget_tick(hub_budget *b, const hub_conf *c, fl_db *db,
		     hub_incoming *in, double now)
{
	if (now >= b->next_quick) {
		long removed = 0;

		b->next_quick = now + QUICK_S;
		if (fl_db_quarantine_trim(db, c->quarantine_max, &removed) ==
			    0 &&
		    removed > 0)
			fl_log(FL_LOG_WARN, "ingest",
			       "quarantine: %ld oldest messages removed "
			       "(quarantine_max %d)",
			       removed, c->quarantine_max);
		hub_evidence_sweep_incoming(c->evidence_dir,
					    c->incoming_max_age_s, now);
		if (in) /* count .incoming again: what went is no more */
			hub_incoming_scan(in);
	}
	if (now >= b->next_evidence) {
		b->next_evidence = now + EVIDENCE_S;
		hub_evidence_prune(c->evidence_dir, db, c->evidence_keep_days,
				   now);
		/* the resident register, the plate reads and the alerts sent
		 * (their bodies name plates, owners and phones) expire with
		 * the incidents' evidence (personal data kept no longer than
		 * what it serves) */
		if (c->evidence_keep_days > 0) {
			double before = now - c->evidence_keep_days * 86400.0;

			fl_db_register_prune(db, before);
			fl_db_plates_prune(db, before);
			fl_db_alert_prune(db, before);
		}
	}
}
