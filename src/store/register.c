/*
 * register.c - the resident vehicle register in the store (db.h has the
 * contracts; docs/store.md the table). Backend-neutral: rows come and go
 * through backend.h. The register is personal data (a name, a flat, a
 * phone): the store keeps it per site, replaces a site's rows only as a
 * whole, audits every import, and drops rows older than the retention
 * (fl_db_register_prune), and with them the devices' plate reads of the
 * incidents closed before it (fl_db_plates_prune); who may see a phone is
 * the hub's rule.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "fl.h"

int fl_db_register_replace(fl_db *db, const char *site,
			   const fl_db_resident *rows, size_t n,
			   const char *user, double wall, char *err,
			   size_t errlen)
{
	char detail[64];
	int r;

	if (!db || !site || !*site || !user || (n && !rows)) {
		fl_seterr(err, errlen, "no site or user");
		return FL_EINVAL;
	}
	pthread_mutex_lock(&db->mu);
	if ((r = fl__db_tx_begin(db)) == 0) {
		r = db->ops->register_clear(db->be, site);
		for (size_t i = 0; r == 0 && i < n; i++)
			r = db->ops->register_add(db->be, site, &rows[i], user,
						  wall);
		snprintf(detail, sizeof(detail), "%zu rows", n);
		if (r == 0)
			r = db->ops->audit(db->be, user, "register_import",
					   site, detail, wall);
		if (r < 0)
			fl_seterr(err, errlen, "store: %s",
				  db->ops->errmsg(db->be));
		r = fl__db_tx_finish(db, r, err, errlen);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

char *fl_db_register_find(fl_db *db, const char *site, const char *plate)
{
	json_t *row = NULL;
	int r;

	if (!db || !site || !plate || !*plate)
		return NULL;
	pthread_mutex_lock(&db->mu);
	r = db->ops->register_get(db->be, site, plate, &row);
	pthread_mutex_unlock(&db->mu);
	return r == 0 ? fl__db_finish(row, 1) : NULL;
}

char *fl_db_register_json(fl_db *db, const char *site)
{
	json_t *rows, *o;
	int ok;

	if (!db || !site)
		return NULL;
	o = fl__db_doc("residents", &rows);
	if (!o)
		return NULL;
	pthread_mutex_lock(&db->mu);
	ok = db->ops->register_rows(db->be, site, rows) == 0;
	pthread_mutex_unlock(&db->mu);
	return fl__db_finish(o, ok);
}

/* ---- plate retention ------------------------------------------------------- */

/*
 * A note on taking a read out of a stored message. A device's read is the
 * members "plate" and "plate_confidence" of the message's top-level object.
 * They are cut out of the stored text, and everything else stays byte for
 * byte: parsing and printing the message again would rewrite its numbers
 * (jansson prints 0.1 as 0.10000000000000001), and the same prune must
 * leave the same text whichever backend stores it.
 */

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Past the string that starts at p (at its '"'). */
static const char *skip_string(const char *p)
{
	for (p++; *p && *p != '"'; p++)
		if (*p == '\\' && p[1])
			p++;
	return *p ? p + 1 : p;
}

/* Past the value that starts at p (a valid document's). */
static const char *skip_value(const char *p)
{
	int depth = 0;

	do {
		if (*p == '"')
			p = skip_string(p);
		else if (*p == '{' || *p == '[')
			depth++, p++;
		else if (*p == '}' || *p == ']')
			depth--, p++;
		else if (!depth && (*p == ',' || *p == ' ' || *p == '\t' ||
				    *p == '\n' || *p == '\r'))
			break;
		else
			p++;
	} while (*p && depth > 0);
	/* a scalar: to its end */
	while (*p && !depth && *p != ',' && *p != '}' && *p != ' ' &&
	       *p != '\t' && *p != '\n' && *p != '\r')
		p++;
	return p;
}

/* 1 when the key string at p..end (quotes included) is a read's. */
static int read_key(const char *p, const char *end)
{
	json_t *k = json_loadb(p, (size_t)(end - p), JSON_DECODE_ANY, NULL);
	const char *v = json_string_value(k);
	int yes = v && (!strcmp(v, "plate") || !strcmp(v, "plate_confidence"));

	json_decref(k);
	return yes;
}

/* The message text t without a read's members (the note above): malloc'd,
 * or NULL when it has none (or is not a JSON object, or memory ran out:
 * *oom). */
static char *without_read(const char *t, int *oom)
{
	json_t *doc = json_loads(t, 0, NULL);
	const char *p, *lead, *key, *end, *tail = NULL;
	char *out = NULL;
	size_t n = 0;
	int cut = 0, kept = 0;
	FILE *f;

	if (!json_is_object(doc)) {
		json_decref(doc);
		return NULL;
	}
	json_decref(doc);
	if (!(f = open_memstream(&out, &n))) {
		*oom = 1;
		return NULL;
	}
	p = skip_ws(t);
	fwrite(t, 1, (size_t)(p - t) + 1, f); /* through the '{' */
	lead = ++p;
	for (;;) {
		key = skip_ws(lead);
		if (*key != '"') { /* '}': the end */
			tail = lead;
			break;
		}
		end = skip_string(key);
		p = skip_value(skip_ws(skip_ws(end) + 1));
		if (read_key(key, end)) {
			cut = 1;
		} else {
			if (kept++)
				fputc(',', f);
			fwrite(lead, 1, (size_t)(p - lead), f);
		}
		p = skip_ws(p);
		if (*p != ',') {
			tail = p;
			break;
		}
		lead = p + 1;
	}
	fputs(tail, f);
	if (fclose(f) != 0 || !out) {
		free(out);
		*oom = 1;
		return NULL;
	}
	if (!cut) {
		free(out);
		return NULL;
	}
	return out;
}

/* The reads out of the messages (the note above), in the transaction. */
static int prune_messages(fl_db *db, double before)
{
	json_t *rows = json_array(), *row;
	size_t i;
	int r;

	if (!rows)
		return FL_ENOMEM;
	r = db->ops->plate_msgs(db->be, before, rows);
	json_array_foreach(rows, i, row)
	{
		const char *t = json_string_value(json_object_get(row, "json"));
		int oom = 0;
		char *cut;

		if (r < 0 || !t)
			continue;
		cut = without_read(t, &oom);
		if (oom)
			r = FL_ENOMEM;
		if (cut)
			r = db->ops->event_json_set(
				db->be,
				json_string_value(
					json_object_get(row, "incident_id")),
				json_integer_value(json_object_get(row, "seq")),
				cut);
		free(cut);
	}
	json_decref(rows);
	return r;
}

long fl_db_plates_prune(fl_db *db, double before)
{
	long n = 0;
	int r;

	if (!db || !isfinite(before))
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	if ((r = fl__db_tx_begin(db)) == 0) {
		r = prune_messages(db, before);
		if (r == 0)
			r = db->ops->plates_clear(db->be, before, &n);
		r = fl__db_tx_finish(db, r, NULL, 0);
	}
	pthread_mutex_unlock(&db->mu);
	return r < 0 ? r : n;
}

long fl_db_register_prune(fl_db *db, double before)
{
	long n = 0;
	int r;

	if (!db)
		return FL_EINVAL;
	pthread_mutex_lock(&db->mu);
	r = db->ops->register_prune(db->be, before, &n);
	pthread_mutex_unlock(&db->mu);
	return r < 0 ? r : n;
}
