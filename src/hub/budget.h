/*
 * budget.h - the hub's budgets (docs/hub.md, "Budgets"): the quarantine
 * table, incomplete bundles in .incoming, and - only when configured - old
 * evidence. Runs on the main thread; everything is borrowed.
 */
#ifndef FL_HUB_BUDGET_H
#define FL_HUB_BUDGET_H

#include "db.h"
#include "hubconf.h"
#include "incoming.h"

typedef struct hub_budget {
	double next_quick;    /* quarantine and .incoming: every few seconds */
	double next_evidence; /* evidence: at start, then hourly */
} hub_budget;

/* Apply the budgets that are due at now (wall seconds); in (may be NULL)
 * counts .incoming again after its sweep. Caller-owned b, zeroed before
 * the first call. */
void hub_budget_tick(hub_budget *b, const hub_conf *c, fl_db *db,
		     hub_incoming *in, double now);

#endif /* FL_HUB_BUDGET_H */
