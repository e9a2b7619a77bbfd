/*
 * api_register.c - the resident vehicle register over the API (docs/api.md,
 * "The resident vehicle register"): a site's import and list, the owner of
 * an incident's vehicle, and the audited reveal of the owner's phone.
 *
 * Who. The register serves the property manager, who asks the driver to
 * move: admins and the site's property managers import and read it, see
 * the owner of an incident's vehicle (name, building/unit, the phone
 * masked 138****1234) and may reveal the phone, each reveal audited
 * ("phone_reveal", the incident, the plate). Enforcement officers act on
 * the plate and the evidence; they see no register data (PIPL: only the
 * roles that need personal data get it).
 */
#include "api_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"
#include "register.h"

/* Admins, and property managers of site; else 403 (or 404 for a site a
 * property manager may not see) answered and -1. */
static int register_role(const hub_session_info *s, const char *site,
			 hub_resp *r)
{
	if (!strcmp(s->role, "admin"))
		return 0;
	if (api__is_property(s) && api__may_see(s, site))
		return 0;
	if (api__is_property(s))
		api__error(r, 404, "no such site");
	else
		api__error(r, 403,
			   "the register is for admins and the site's "
			   "property managers");
	return -1;
}

static void mask_phones(json_t *rows)
{
	size_t i;
	json_t *row;

	json_array_foreach(rows, i, row)
	{
		char m[HUB_PHONE_MAX];

		hub_phone_mask(json_string_value(json_object_get(row, "phone")),
			       m, sizeof(m));
		json_object_set_new(row, "phone", json_string(m));
	}
}

void api__register(hub_api *a, const hub_session_info *s, const char *site,
		   const hub_req *q, hub_resp *r)
{
	hub_register reg;
	fl_db_resident *rows = NULL;
	char err[2048];
	int n;

	if (register_role(s, site, r))
		return;
	if (api__is(q, "GET")) {
		char *t = fl_db_register_json(a->db, site);
		json_t *o = t ? json_loads(t, 0, NULL) : NULL;

		free(t);
		if (!o) {
			api__error(r, 500, "the store failed");
			return;
		}
		mask_phones(json_object_get(o, "residents"));
		json_object_set_new(o, "site", json_string(site));
		api__json_obj(r, 200, o);
		return;
	}
	n = hub_register_parse(q->body, q->body_len, &reg, err, sizeof(err));
	if (n < 0) {
		api__error(r, n == FL_ENOMEM ? 500 : 400, err);
		return;
	}
	rows = calloc(reg.n ? reg.n : 1, sizeof(*rows));
	if (!rows) {
		hub_register_free(&reg);
		api__error(r, 500, "out of memory");
		return;
	}
	for (size_t i = 0; i < reg.n; i++)
		rows[i] = (fl_db_resident){ reg.rows[i].plate,
					    reg.rows[i].owner, reg.rows[i].unit,
					    reg.rows[i].phone };
	if (fl_db_register_replace(a->db, site, rows, reg.n, s->user, q->now,
				   err, sizeof(err)) < 0)
		api__error(r, 500, err);
	else
		api__json_obj(r, 200,
			      json_pack("{s:s,s:i}", "site", site, "imported",
					n));
	free(rows);
	hub_register_free(&reg);
}

/* The register's row for incident o's plate at its site (a new reference),
 * or NULL. */
static json_t *owner_of(hub_api *a, json_t *o)
{
	const char *site = json_string_value(json_object_get(o, "site"));
	const char *plate = json_string_value(json_object_get(o, "plate"));
	char *t = site && plate ? fl_db_register_find(a->db, site, plate)
				: NULL;
	json_t *row = t ? json_loads(t, 0, NULL) : NULL;

	free(t);
	return row;
}

void api__incident_owner(hub_api *a, const hub_session_info *s, json_t *o)
{
	const char *site = json_string_value(json_object_get(o, "site"));
	json_t *row;
	char m[HUB_PHONE_MAX];

	if (!site || (strcmp(s->role, "admin") &&
		      !(api__is_property(s) && api__may_see(s, site))))
		return;
	row = owner_of(a, o);
	if (!row)
		return;
	hub_phone_mask(json_string_value(json_object_get(row, "phone")), m,
		       sizeof(m));
	json_object_set_new(o, "owner",
			    json_pack("{s:O?,s:O?,s:s}", "name",
				      json_object_get(row, "owner"), "unit",
				      json_object_get(row, "unit"),
				      "phone_masked", m));
	json_decref(row);
}

void api__owner_phone(hub_api *a, const hub_session_info *s, const char *id,
		      const hub_req *q, hub_resp *r)
{
	char site[256], *t;
	json_t *o, *row;

	if (api__incident_visible(a, s, id, r, site, sizeof(site)) ||
	    register_role(s, site, r))
		return;
	t = fl_db_incident_json(a->db, id);
	o = t ? json_loads(t, 0, NULL) : NULL;
	free(t);
	row = o ? owner_of(a, o) : NULL;
	if (!row) {
		json_decref(o);
		api__error(r, 404,
			   "the incident's plate is not in the register");
		return;
	}
	if (fl_db_audit(a->db, s->user, "phone_reveal", id,
			json_string_value(json_object_get(row, "plate")),
			q->now) < 0) {
		/* no audit, no reveal */
		api__error(r, 500, "the store failed");
	} else {
		api__json_obj(r, 200,
			      json_pack("{s:O,s:O}", "plate",
					json_object_get(row, "plate"), "phone",
					json_object_get(row, "phone")));
	}
	json_decref(row);
	json_decref(o);
}
