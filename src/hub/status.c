/*
 * status.c - ingesting or degraded (see status.h).
 *
 * A note on what "degraded" means. The hub acknowledges a message to the
 * broker only once it is stored (src/mqtt/client.c, "A note on holding a
 * message"). When storage fails through no fault of the message - the
 * database's disk is full or read-only, the database busy, the evidence
 * folder full or below its reserve - the message is held and offered
 * again with a back-off, and everything behind it waits at the broker.
 * That is safe but silent from the outside, so it is made loud: the hub
 * is "degraded" from the first refusal to the next message taken, and
 * says so in its log (main.c), on GET /healthz (503), in GET /api/hub and
 * on the fleet page. Nothing here decides anything; it only remembers.
 */
#include "status.h"

#include <stdio.h>
#include <string.h>

void hub_status_init(hub_status *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
}

void hub_status_deinit(hub_status *s)
{
	pthread_mutex_destroy(&s->mu);
}

int hub_status_refused(hub_status *s, const char *reason, double now)
{
	int started;

	pthread_mutex_lock(&s->mu);
	started = !s->degraded;
	if (started) {
		s->degraded = 1;
		s->since = now;
		s->episodes++;
	}
	s->refusals++;
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	pthread_mutex_unlock(&s->mu);
	return started;
}

double hub_status_taken(hub_status *s, double now, long stored, long duplicates,
			long quarantined, long chunks)
{
	double was = 0;

	pthread_mutex_lock(&s->mu);
	if (s->degraded) {
		was = now - s->since;
		if (was <= 0)
			was = 1e-6; /* ended: a positive answer */
		s->degraded = 0;
		s->since = 0;
	}
	s->last_ok = now;
	s->stored = stored;
	s->duplicates = duplicates;
	s->quarantined = quarantined;
	s->chunks = chunks;
	pthread_mutex_unlock(&s->mu);
	return was;
}

int hub_status_is_degraded(hub_status *s)
{
	int d;

	pthread_mutex_lock(&s->mu);
	d = s->degraded;
	pthread_mutex_unlock(&s->mu);
	return d;
}

json_t *hub_status_json(hub_status *s)
{
	json_t *o;

	pthread_mutex_lock(&s->mu);
	o = json_pack("{s:s,s:s,s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:I}", "status",
		      s->degraded ? "degraded" : "ok", "reason", s->reason,
		      "since", s->since > 0 ? json_real(s->since) : json_null(),
		      "last_ok",
		      s->last_ok > 0 ? json_real(s->last_ok) : json_null(),
		      "refusals", (json_int_t)s->refusals, "episodes",
		      (json_int_t)s->episodes, "stored", (json_int_t)s->stored,
		      "duplicates", (json_int_t)s->duplicates, "quarantined",
		      (json_int_t)s->quarantined, "chunks",
		      (json_int_t)s->chunks);
	pthread_mutex_unlock(&s->mu);
	return o;
}
