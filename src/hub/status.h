/*
 * status.h - the hub's own state as the outside sees it: ingesting, or
 * degraded (storage failing: messages wait at the broker), with the
 * reason, since when, and the ingest counters (docs/hub.md, "Degraded
 * mode").
 *
 * The main thread writes it (main.c, after each message); the web server's
 * threads read it (GET /healthz, GET /api/hub, the fleet page). One mutex
 * inside; every function may be called from any thread. The struct is
 * caller-allocated: hub_status_init(), hub_status_deinit().
 */
#ifndef FL_HUB_STATUS_H
#define FL_HUB_STATUS_H

#include <pthread.h>

#include <jansson.h>

typedef struct hub_status {
	pthread_mutex_t mu;
	int degraded;
	char reason[512]; /* why, while degraded (else the last reason) */
	double since;     /* wall: when it became degraded, or 0 */
	double last_ok;   /* wall: the last message taken */
	long refusals;    /* offers of a held message the store refused */
	long episodes;    /* times the hub became degraded */
	long stored, duplicates, quarantined, chunks;
} hub_status;

void hub_status_init(hub_status *s);
void hub_status_deinit(hub_status *s);

/* A message could not be stored (a transient failure, reason for a
 * person) at wall now: degraded from now, or still. Returns 1 when this
 * call started the degraded state (the caller logs it), else 0. */
int hub_status_refused(hub_status *s, const char *reason, double now);

/* A message was taken at now, with the ingest counters as they stand.
 * Returns the seconds the hub had been degraded when this ends it (the
 * caller logs the recovery), else 0. */
double hub_status_taken(hub_status *s, double now, long stored, long duplicates,
			long quarantined, long chunks);

/* 1 while degraded. */
int hub_status_is_degraded(hub_status *s);

/* {"status": "ok"|"degraded", "reason", "since", "last_ok", "refusals",
 *  "episodes", "stored", "duplicates", "quarantined", "chunks"}; a new
 * reference, NULL out of memory. */
json_t *hub_status_json(hub_status *s);

#endif /* FL_HUB_STATUS_H */
