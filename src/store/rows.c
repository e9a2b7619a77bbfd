/*
 * rows.c - what every backend and the neutral files share about rows
 * (backend.h): an incident row's strings freed, a row's values as JSON;
 * and the neutral files' JSON helpers (db_internal.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "db_internal.h"
#include "fl.h"

const char *const fl__db_outcomes[FL__DB_OUTCOMES] = { "persuaded", "fined",
						       "towed", "false_alarm",
						       "other" };

void fl__db_incident_free(fl__db_incident *r)
{
	if (!r)
		return;
	free(r->device);
	free(r->site);
	free(r->camera);
	free(r->lane);
	free(r->status);
	free(r->bbox);
	free(r->cls);
	free(r->plate);
	free(r->site_name);
	free(r->lane_name);
	memset(r, 0, sizeof(*r));
}

json_t *fl__db_text(const char *t, size_t n)
{
	json_t *v = json_stringn(t, n);

	if (!v) {
		fl_log(FL_LOG_WARN, "store",
		       "a stored text is not UTF-8: null");
		v = json_null();
	}
	return v;
}

json_t *fl__db_real(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *fl__db_doc(const char *key, json_t **rows)
{
	json_t *o = json_object();

	*rows = json_array();
	json_object_set_new(o, key, *rows);
	return o;
}

char *fl__db_finish(json_t *o, int ok)
{
	char *t = ok && o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return t;
}

json_t *fl__db_parse(json_t *text, size_t flags)
{
	json_t *v;

	if (!json_is_string(text))
		return text ? json_incref(text) : json_null();
	v = json_loadb(json_string_value(text), json_string_length(text), flags,
		       NULL);
	return v ? v : json_incref(text);
}
