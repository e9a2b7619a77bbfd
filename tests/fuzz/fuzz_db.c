/*
 * fuzz_db.c - the store's reading of incident messages (src/store/sqlite.c
 * parses each message's JSON for rest_since, bbox, class, plate) and its JSON
 * output, on arbitrary bytes, against an in-memory SQLite database.
 *
 * Input: byte 0 picks the message type, byte 1 the seq (0 is refused), the
 * rest is the message text (up to its first NUL); its first 40 bytes are
 * also the incident id and the site, so ids and names carry any bytes.
 *
 * What must hold, besides never crashing or tripping a sanitizer:
 *   - ingest answers 0 or FL_EINVAL, never a database error;
 *   - the same message again is a duplicate;
 *   - the incident (when stored) comes back as JSON that parses, with the
 *     message among its events, and after plate retention (a closed
 *     incident's stored messages cut, register.c) still parses with no
 *     plate left in them; the list, the report and the quarantine
 *     (the same bytes quarantined) come back as JSON that parses.
 * A broken property aborts, which libFuzzer reports as a crash.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "fl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_db: %s:%d: %s\n", __FILE__,      \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

static fl_db *db;
static unsigned runs;

static void parses(char *t)
{
	json_t *j;

	CHECK(t != NULL);
	j = json_loads(t, 0, NULL);
	if (!j)
		fprintf(stderr, "fuzz_db: not JSON: %.300s\n", t);
	CHECK(j != NULL);
	json_decref(j);
	free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = { "occupied", "warned",
					     "alarm",    "escalated",
					     "evidence", "cleared",
					     "vacated",  "interrupted" };
	char *text, id[41], err[256];
	fl_db_msg m = { 0 };
	fl_db_filter f = { 0 };
	int dup = -1, r;
	size_t n;

	if (size < 2)
		return 0;
	/* a fresh database now and then, so a long run stays small */
	if (!db || ++runs % 2000 == 0) {
		fl_db_close(db);
		db = fl_db_open("sqlite::memory:", err, sizeof(err));
		CHECK(db != NULL);
	}
	text = malloc(size - 1);
	CHECK(text != NULL);
	memcpy(text, data + 2, size - 2);
	text[size - 2] = '\0';
	n = strlen(text);
	memcpy(id, text, FL_MIN(n, sizeof(id) - 1));
	id[FL_MIN(n, sizeof(id) - 1)] = '\0';

	m.device = "edge-fuzz";
	m.site = id;
	m.camera = "cam-1";
	m.lane = "lane-a";
	m.incident_id = id[0] ? id : "empty";
	m.type = types[data[0] % FL_ARRAY_SIZE(types)];
	m.seq = data[1];
	m.wall = 1795955740.0 + data[1];
	m.json = text;
	r = fl_db_ingest(db, &m, &dup, err, sizeof(err));
	CHECK(r == 0 || r == FL_EINVAL);
	if (r == 0) {
		char *t;
		json_t *j, *ev;
		int seen = 0;

		CHECK(fl_db_ingest(db, &m, &dup, err, sizeof(err)) == 0);
		CHECK(dup == 1);
		t = fl_db_incident_json(db, m.incident_id);
		CHECK(t != NULL);
		j = json_loads(t, 0, NULL);
		CHECK(j != NULL);
		ev = json_object_get(j, "events");
		for (size_t i = 0; i < json_array_size(ev); i++)
			seen |= json_integer_value(
					json_object_get(json_array_get(ev, i),
							"seq")) ==
				(json_int_t)m.seq;
		CHECK(seen);
		json_decref(j);
		free(t);
		/* plate retention cuts the read out of the stored text
		 * (register.c): whatever it kept still parses as JSON, and no
		 * stored message names a plate any more */
		CHECK(fl_db_plates_prune(db, 1e300) >= 0);
		t = fl_db_incident_json(db, m.incident_id);
		CHECK(t != NULL);
		j = json_loads(t, 0, NULL);
		CHECK(j != NULL);
		ev = json_object_get(j, "events");
		for (size_t i = 0; i < json_array_size(ev); i++) {
			json_t *e = json_array_get(ev, i);
			json_t *msg = json_object_get(e, "message");

			/* closed incidents only: "closed" is set */
			if (json_is_null(json_object_get(j, "closed")))
				break;
			CHECK(!json_object_get(msg, "plate") &&
			      !json_object_get(msg, "plate_confidence"));
		}
		json_decref(j);
		free(t);
	} else {
		CHECK(m.seq == 0);
	}
	f.site = id;
	f.sites_csv_allowed = id;
	parses(fl_db_incidents_json(db, &f));
	parses(fl_db_report_json(db, id, 0, 0));
	CHECK(fl_db_quarantine(db, id, (const char *)data, size, text, 1) == 0);
	parses(fl_db_quarantine_json(db, 1, 0));
	free(text);
	return 0;
}
