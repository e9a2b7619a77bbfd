/*
 * populate.c - a store with many incidents, as the fleet would leave it.
 *
 * A note on the shape of the data. The latency benchmark is only as honest
 * as the database it reads, so the incidents look like the hub's own: every
 * one goes through fl_db_ingest() as the edge's messages would (occupied,
 * then alarm and cleared for four in five, or vacated before the dwell for
 * the fifth; the newest few are still in alarm), each message the edge's
 * JSON with bbox and class. They are spread evenly over `days` days ending
 * about now (so this week's and this month's reports have data), over
 * `sites` sites of `lanes` lanes, one device per site (site-07 is edge-07's)
 * so the fleet page has a device per site. Every tenth incident has an
 * outcome (persuaded, fined, towed, false alarm, other in turn) and every
 * fiftieth an amended one, recorded by the admin user made here.
 *
 * Speed over durability: synchronous=NORMAL and group commits of about
 * 1,500 messages (the incidents are written once; a crash means run again).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "clock.h"
#include "db.h"
#include "fl.h"
#include "hubbench.h"

/* Any valid Ed25519 public key: the bench publishes nothing signed. */
#define HB_PUBKEY "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define HB_BATCH 500 /* incidents per transaction */

/* One incident message into the store. 0 or -1 (reason printed). */
static int message(fl_db *db, const char *device, const char *site,
		   const char *lane, const char *iid, unsigned seq,
		   const char *type, double wall, double rest_wall)
{
	char json[768], err[256];
	double video = 600.0 + (wall - rest_wall) + 2.6; /* a camera's clock */
	int dup = 0, rc;
	fl_db_msg m = { 0 };

	snprintf(json, sizeof(json),
		 "{\"incident_id\": \"%s\", \"seq\": %u, \"type\": \"%s\", "
		 "\"site\": \"%s\", \"device\": \"%s\", \"camera\": \"cam-1\", "
		 "\"lane\": \"%s\", \"unix_time\": %.3f, \"video_time_s\": %.3f, "
		 "\"rest_since_s\": %.3f, \"bbox\": [228.0, 141.0, 40.0, 38.0], "
		 "\"class\": \"vehicle\"%s}",
		 iid, seq, type, site, device, lane, wall, video,
		 video - (wall - rest_wall),
		 strcmp(type, "cleared") && strcmp(type, "vacated")
			 ? ""
			 : ", \"left_at_s\": 0.0");
	m.device = device;
	m.site = site;
	m.camera = "cam-1";
	m.lane = lane;
	m.incident_id = iid;
	m.type = type;
	m.seq = seq;
	m.wall = wall;
	m.json = json;
	rc = fl_db_ingest(db, &m, &dup, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "hubbench: ingest %s seq %u: %s (%s)\n", iid,
			seq, err, fl_strerror(rc));
		return -1;
	}
	return 0;
}

/* Incident i of n: its messages and (every tenth) its outcome. */
static int incident(fl_db *db, const hb_populate_opts *o, long i, double t0,
		    double step, long *msgs)
{
	static const char *outcomes[] = { "persuaded", "fined", "towed",
					  "false_alarm", "other" };
	char device[32], site[32], lane[32], iid[96], err[256];
	int s = (int)(i % o->sites);
	int l = (int)(i / o->sites % o->lanes);
	double rest = t0 + step * (double)i;
	double occ = rest + 2.6;
	int vacated = i % 5 == 4;
	int open = i >= o->incidents - 3; /* the newest are still blocked */
	/* dwell 60 s; cleared 2 to 30 minutes later, by a spread per incident */
	double alarm = rest + 60.0;
	double cleared = alarm + 120.0 + (double)((i * 7919) % 1680);

	snprintf(device, sizeof(device), "edge-%02d", s);
	snprintf(site, sizeof(site), "site-%02d", s);
	snprintf(lane, sizeof(lane), "lane-%d", l);
	snprintf(iid, sizeof(iid), "%s-%08lx-%s-%ld", device,
		 (unsigned long)rest, lane, i);
	if (message(db, device, site, lane, iid, 1, "occupied", occ, rest))
		return -1;
	if (vacated) {
		if (message(db, device, site, lane, iid, 2, "vacated",
			    rest + 30.0, rest))
			return -1;
		*msgs += 2;
	} else {
		if (message(db, device, site, lane, iid, 2, "alarm", alarm,
			    rest))
			return -1;
		*msgs += 2;
		if (!open) {
			if (message(db, device, site, lane, iid, 3, "cleared",
				    cleared, rest))
				return -1;
			*msgs += 1;
		}
	}
	if (i % 10 == 0 && !vacated && !open) {
		const char *oc = outcomes[(i / 10) % 5];

		if (fl_db_outcome_set(db, iid, oc, "recorded by hubbench",
				      o->user, cleared + 600.0, err,
				      sizeof(err)) < 0) {
			fprintf(stderr, "hubbench: outcome %s: %s\n", iid, err);
			return -1;
		}
		if (i % 50 == 0 &&
		    fl_db_outcome_set(db, iid, outcomes[(i / 10 + 1) % 5],
				      "amended by hubbench", o->user,
				      cleared + 1200.0, err, sizeof(err)) < 0) {
			fprintf(stderr, "hubbench: outcome %s: %s\n", iid, err);
			return -1;
		}
	}
	return 0;
}

/* Incidents in the store, or -1. */
static long stored(fl_db *db)
{
	fl_db_filter f = { 0 };
	char *text;
	json_t *j;
	long n = -1;

	f.limit = 1;
	text = fl_db_incidents_json(db, &f);
	j = text ? json_loads(text, 0, NULL) : NULL;
	if (json_is_integer(json_object_get(j, "total")))
		n = (long)json_integer_value(json_object_get(j, "total"));
	json_decref(j);
	free(text);
	return n;
}

int hb_populate(const hb_populate_opts *o)
{
	char url[1100], err[256], device[32], site[32];
	double t0, step, m0;
	long msgs = 0, i;
	int rc = 1, in_batch = 0;
	fl_db *db;

	snprintf(url, sizeof(url), "sqlite:%s", o->db_path);
	db = fl_db_open(url, err, sizeof(err));
	if (!db) {
		fprintf(stderr, "hubbench: %s: %s\n", o->db_path, err);
		return 1;
	}
	if (stored(db) != 0) {
		fprintf(stderr,
			"hubbench: %s already holds incidents: populate "
			"a new file\n",
			o->db_path);
		goto out;
	}
	fl_db_set_durable(db, 0);
	for (int s = 0; s < o->sites; s++) {
		snprintf(device, sizeof(device), "edge-%02d", s);
		snprintf(site, sizeof(site), "site-%02d", s);
		if (fl_db_device_enrol(db, device, site, HB_PUBKEY, err,
				       sizeof(err)) < 0) {
			fprintf(stderr, "hubbench: enrol %s: %s\n", device,
				err);
			goto out;
		}
		fl_db_device_seen(db, device, "online", fl_wall_s(),
				  "{\"uptime_s\": 3600, \"cameras\": [{\"id\": "
				  "\"cam-1\", \"fps\": 25.0, \"load\": 0.02, "
				  "\"online\": true}]}");
	}
	if (fl_db_user_add(db, o->user, o->password, "admin", NULL, err,
			   sizeof(err)) < 0) {
		fprintf(stderr, "hubbench: user %s: %s\n", o->user, err);
		goto out;
	}
	/* the newest incident starts an hour ago */
	step = (double)o->days * 86400.0 / (double)o->incidents;
	t0 = fl_wall_s() - 3600.0 - step * (double)(o->incidents - 1);
	m0 = fl_mono_s();
	for (i = 0; i < o->incidents; i++) {
		if (!in_batch) {
			if (fl_db_batch_begin(db) < 0) {
				fprintf(stderr,
					"hubbench: batch begin failed\n");
				goto out;
			}
			in_batch = 1;
		}
		if (incident(db, o, i, t0, step, &msgs))
			goto out;
		if ((i + 1) % HB_BATCH == 0 || i + 1 == o->incidents) {
			in_batch = 0;
			if (fl_db_batch_end(db, 1) < 0) {
				fprintf(stderr, "hubbench: commit failed\n");
				goto out;
			}
		}
		if ((i + 1) % 20000 == 0)
			fprintf(stderr, "hubbench: %ld incidents\n", i + 1);
	}
	printf("{\"incidents\": %ld, \"messages\": %ld, \"sites\": %d, "
	       "\"lanes\": %d, \"days\": %d, \"seconds\": %.1f}\n",
	       o->incidents, msgs, o->sites, o->lanes, o->days,
	       fl_mono_s() - m0);
	rc = 0;
out:
	if (in_batch)
		fl_db_batch_end(db, 0);
	fl_db_close(db);
	return rc;
}
