/*
 * devconf.c - a device's configuration file as the hub edits it (see
 * devconf.h).
 *
 * A note on the two directions. To the editor, a lane is what the edge
 * makes of it: the file is applied to the edge's schema (fl_config_parse,
 * the edge's own loader), each lane is dumped through the lane section's
 * table (fl_schema_dump: every setting, defaults included) and that YAML
 * read back into JSON, typed by the table's rows. Back from the editor,
 * only the lanes of the cameras it names change, in the parsed tree of the
 * file as it was written: the mqtt password, relative paths and every
 * other key stay exactly as the device's owner wrote them. The text is
 * then edited as lines (yamledit.h: each camera's lanes replaced by the
 * tree's, written by fl_node_dump), so the owner's comments and layout
 * stay too; only when that text does not read back to the same tree (a
 * camera in flow style, a lanes key added) is the whole tree written out,
 * without comments. The new file is then checked as a whole, by the same
 * loader, before anything stores or sends it.
 *
 * The lane's polygon is "points" in the file and "polygon" in the API
 * (docs/api.md); that rename is the only one.
 */
#include "devconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fl.h"
#include "schema.h"
#include "secrets.h"
#include "yaml.h"
#include "yamledit.h"

#define FILE_NAME "edge.yaml" /* names the file in messages */

static const fl_section *lane_section(void)
{
	const fl_setting *cams = fl_schema_key(fl_config_schema(), "cameras");
	const fl_setting *lanes = cams ? fl_schema_key(cams->sub, "lanes")
				       : NULL;

	return lanes ? lanes->sub : NULL;
}

static const char *api_name(const char *key)
{
	return strcmp(key, "points") ? key : "polygon";
}

/* ---- checks ------------------------------------------------------------- */

int hub_devconf_check(const char *yaml, size_t len, json_t **why)
{
	fl_config *cfg = malloc(sizeof(*cfg));
	char err[1024], key[512] = "";
	const char *reason = err;
	fl_node *doc;
	int rc, line = 0, used = 0;

	*why = NULL;
	if (!cfg)
		return FL_ENOMEM;
	rc = fl_config_parse(cfg, yaml, len, FILE_NAME, err, sizeof(err));
	free(cfg);
	if (rc == 0)
		return 0;
	/* "edge.yaml:LINE: reason" */
	if (sscanf(err, FILE_NAME ":%d: %n", &line, &used) == 1 && used)
		reason = err + used;
	doc = fl_yaml_parse(yaml, len, FILE_NAME, NULL, 0);
	if (doc && line > 0)
		fl_node_key_at(doc, line, key, sizeof(key));
	fl_node_free(doc);
	*why = json_pack("{s:s,s:s,s:i,s:s}", "error", err, "key", key, "line",
			 line, "reason", reason);
	return *why ? rc : FL_ENOMEM;
}

/* ---- file -> JSON ------------------------------------------------------- */

/* n as JSON: numbers where numeric and the scalar is a plain number. */
static json_t *node_json(const fl_node *n, int numeric)
{
	json_t *o;
	double v;

	switch (n->kind) {
	case FL_NODE_SCALAR:
		if (numeric && !n->quoted && fl_schema_num(n, &v) == 0)
			return json_real(v);
		return json_string(n->scalar);
	case FL_NODE_SEQ:
		o = json_array();
		for (size_t i = 0; i < n->n; i++)
			json_array_append_new(o,
					      node_json(n->items[i], numeric));
		return o;
	case FL_NODE_MAP:
		o = json_object();
		for (size_t i = 0; i < n->n; i++)
			json_object_set_new(o, n->keys[i],
					    node_json(n->items[i], numeric));
		return o;
	}
	return json_null();
}

/* A value of the row s, typed by it. */
static json_t *setting_json(const fl_setting *s, const fl_node *n)
{
	double v;

	switch (s->type) {
	case FL_T_INT:
	case FL_T_SIZE:
		return fl_schema_num(n, &v) ? json_null()
					    : json_integer((json_int_t)v);
	case FL_T_NUM:
		return fl_schema_num(n, &v) ? json_null() : json_real(v);
	case FL_T_BOOL:
		return json_boolean(n->scalar && (!strcmp(n->scalar, "true") ||
						  !strcmp(n->scalar, "yes")));
	case FL_T_CUSTOM:
		return node_json(n, !strcmp(s->name, "points"));
	default:
		return node_json(n, 0);
	}
}

/* One lane with every setting, through the lane table. */
static json_t *lane_json(const fl_section *sec, const fl_lane_conf *lane)
{
	size_t need = fl_schema_dump(sec, lane, NULL, 0, NULL, 0) + 1;
	char *text = malloc(need);
	fl_node *doc = NULL;
	json_t *o = NULL;

	if (!text)
		return NULL;
	fl_schema_dump(sec, lane, NULL, 0, text, need);
	doc = fl_yaml_parse(text, strlen(text), "lane", NULL, 0);
	if (doc && doc->kind == FL_NODE_MAP) {
		o = json_object();
		for (size_t i = 0; i < doc->n; i++) {
			const fl_setting *s = fl_schema_key(sec, doc->keys[i]);

			if (s)
				json_object_set_new(o, api_name(s->name),
						    setting_json(s,
								 doc->items[i]));
		}
	}
	fl_node_free(doc);
	free(text);
	return o;
}

json_t *hub_devconf_json(const char *yaml, size_t len)
{
	const fl_section *sec = lane_section();
	fl_config *cfg = malloc(sizeof(*cfg));
	json_t *o = NULL, *cams;

	if (!cfg || !sec ||
	    fl_config_parse(cfg, yaml, len, FILE_NAME, NULL, 0) != 0)
		goto out;
	cams = json_array();
	for (int c = 0; c < cfg->ncameras; c++) {
		const fl_camera_conf *cam = &cfg->cameras[c];
		json_t *lanes = json_array();

		for (int l = 0; l < cam->nlanes; l++)
			json_array_append_new(lanes,
					      lane_json(sec, &cam->lanes[l]));
		json_array_append_new(cams,
				      json_pack("{s:s,s:s,s:i,s:i,s:o}", "id",
						cam->id, "name", cam->id,
						"width", cam->width, "height",
						cam->height, "lanes", lanes));
	}
	o = json_pack("{s:s,s:s,s:s,s:o}", "device", cfg->device_id, "site",
		      cfg->site, "site_name", cfg->site_name, "cameras", cams);
out:
	free(cfg);
	return o;
}

/* ---- JSON -> file ------------------------------------------------------- */

static fl_node *node_new(enum fl_node_kind kind)
{
	fl_node *n = calloc(1, sizeof(*n));

	if (n)
		n->kind = kind;
	return n;
}

static int node_add(fl_node *parent, const char *key, fl_node *item)
{
	fl_node **items;
	char **keys = NULL;

	if (!item)
		return FL_ENOMEM;
	items = realloc(parent->items, (parent->n + 1) * sizeof(*items));
	if (items)
		parent->items = items;
	if (items && key) {
		keys = realloc(parent->keys, (parent->n + 1) * sizeof(*keys));
		if (keys) {
			parent->keys = keys;
			keys[parent->n] = strdup(key);
		}
	}
	if (!items || (key && (!keys || !keys[parent->n]))) {
		fl_node_free(item);
		return FL_ENOMEM;
	}
	items[parent->n++] = item;
	return 0;
}

/* A JSON value as a node: strings quoted (never a number by accident),
 * numbers and booleans plain. NULL on no memory or a null. */
static fl_node *json_node(const json_t *v)
{
	fl_node *n = NULL;
	char num[64];
	const char *k;
	json_t *x;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_STRING:
	case JSON_INTEGER:
	case JSON_REAL:
	case JSON_TRUE:
	case JSON_FALSE:
		if (!(n = node_new(FL_NODE_SCALAR)))
			return NULL;
		if (json_is_string(v)) {
			n->quoted = 1;
			n->scalar = strdup(json_string_value(v));
		} else {
			if (json_is_integer(v))
				snprintf(num, sizeof(num), "%lld",
					 (long long)json_integer_value(v));
			else if (json_is_real(v))
				snprintf(num, sizeof(num), "%.15g",
					 json_real_value(v));
			else
				snprintf(num, sizeof(num), "%s",
					 json_is_true(v) ? "true" : "false");
			n->scalar = strdup(num);
		}
		if (!n->scalar) {
			fl_node_free(n);
			return NULL;
		}
		return n;
	case JSON_ARRAY:
		if (!(n = node_new(FL_NODE_SEQ)))
			return NULL;
		json_array_foreach(v, i, x) if (node_add(n, NULL, json_node(x)))
		{
			fl_node_free(n);
			return NULL;
		}
		return n;
	case JSON_OBJECT:
		if (!(n = node_new(FL_NODE_MAP)))
			return NULL;
		json_object_foreach((json_t *)v, k,
				    x) if (!json_is_null(x) &&
					   node_add(n, k, json_node(x)))
		{
			fl_node_free(n);
			return NULL;
		}
		return n;
	default:
		return NULL;
	}
}

/* Whether the JSON value v is the row's numeric default (not written:
 * the file stays as short as a person would write it). */
static int is_default(const fl_setting *s, const json_t *v)
{
	if (s->type == FL_T_BOOL)
		return json_is_boolean(v) && json_is_true(v) == (s->def != 0);
	if (s->type == FL_T_NUM || s->type == FL_T_INT || s->type == FL_T_SIZE)
		return json_is_number(v) && json_number_value(v) == s->def;
	return 0;
}

/* One lane object as a map node in the table's order; keys the table
 * does not have come last, for the check to name. */
static fl_node *lane_node(const fl_section *sec, const json_t *lane)
{
	fl_node *m = node_new(FL_NODE_MAP);
	const char *k;
	json_t *v;

	if (!m)
		return NULL;
	for (size_t i = 0; i < sec->nkeys; i++) {
		const fl_setting *s = &sec->keys[i];

		v = json_object_get(lane, api_name(s->name));
		if (!v || json_is_null(v) ||
		    (!(s->flags & FL_F_REQ) && is_default(s, v)))
			continue;
		if (node_add(m, s->name, json_node(v)))
			goto fail;
	}
	json_object_foreach((json_t *)lane, k, v)
	{
		if (!strcmp(k, "polygon") || fl_schema_key(sec, k) ||
		    json_is_null(v))
			continue;
		if (node_add(m, k, json_node(v)))
			goto fail;
	}
	return m;
fail:
	fl_node_free(m);
	return NULL;
}

static fl_node *map_get(const fl_node *m, const char *key, size_t *at)
{
	for (size_t i = 0; m && m->kind == FL_NODE_MAP && i < m->n; i++)
		if (!strcmp(m->keys[i], key)) {
			if (at)
				*at = i;
			return m->items[i];
		}
	return NULL;
}

/* The camera item of id in the file's cameras list, or NULL. */
static fl_node *camera_node(const fl_node *doc, const char *id)
{
	const fl_node *cams = map_get(doc, "cameras", NULL);

	for (size_t i = 0; cams && cams->kind == FL_NODE_SEQ && i < cams->n;
	     i++) {
		const fl_node *cid = map_get(cams->items[i], "id", NULL);

		if (cid && cid->kind == FL_NODE_SCALAR &&
		    !strcmp(cid->scalar, id))
			return cams->items[i];
	}
	return NULL;
}

/* n as YAML text (malloc'd), or NULL. */
static char *dump(const fl_node *n)
{
	size_t need = fl_node_dump(n, NULL, 0) + 1;
	char *s = malloc(need);

	if (s)
		fl_node_dump(n, s, need);
	return s;
}

/* The text of yaml with the lanes of the cameras named in `cameras` set
 * to theirs in doc (the file's tree with those lanes replaced), line by
 * line; NULL when that cannot be done or does not read back to doc. */
static char *edit_lanes(const char *yaml, size_t len, const fl_node *doc,
			const json_t *cameras)
{
	char *text = strndup(yaml, len), *want = dump(doc), *got = NULL;
	json_t *cam;
	size_t i, at;

	json_array_foreach(cameras, i, cam)
	{
		const char *id = json_string_value(json_object_get(cam, "id"));
		fl_node *now = text ? fl_yaml_parse(text, strlen(text),
						    FILE_NAME, NULL, 0)
				    : NULL;
		const fl_node *c = now ? camera_node(now, id) : NULL;
		const fl_node *lanes = map_get(camera_node(doc, id), "lanes",
					       NULL);
		char *block = lanes && lanes->n ? dump(lanes) : strdup("[]");
		char *next = NULL;
		size_t n;

		if (c && map_get(c, "lanes", &at) && block)
			fl_yaml_set_block(text, strlen(text),
					  c->key_lines ? c->key_lines[at]
						       : c->items[at]->line,
					  "lanes", block, &next, &n, NULL, 0);
		fl_node_free(now);
		free(block);
		free(text);
		text = next;
	}
	if (text) {
		fl_node *back = fl_yaml_parse(text, strlen(text), FILE_NAME,
					      NULL, 0);

		got = back ? dump(back) : NULL;
		fl_node_free(back);
	}
	if (!got || !want || strcmp(got, want)) {
		free(text);
		text = NULL;
	}
	free(got);
	free(want);
	return text;
}

int hub_devconf_replace_lanes(const char *yaml, size_t len,
			      const json_t *cameras, char **out, char *err,
			      size_t errlen)
{
	const fl_section *sec = lane_section();
	fl_node *doc;
	json_t *cam, *lane;
	size_t i, j, at;
	int rc = 0;

	*out = NULL;
	doc = fl_yaml_parse(yaml, len, FILE_NAME, err, errlen);
	if (!doc || !sec)
		return doc ? FL_ENOMEM : FL_EFORMAT;
	if (!json_is_array(cameras)) {
		fl_seterr(err, errlen, "cameras: expected a list");
		rc = FL_EFORMAT;
		goto out;
	}
	json_array_foreach(cameras, i, cam)
	{
		const char *id = json_string_value(json_object_get(cam, "id"));
		json_t *lanes = json_object_get(cam, "lanes");
		fl_node *c = id ? camera_node(doc, id) : NULL, *seq;

		if (!c) {
			fl_seterr(err, errlen, "no camera '%s' in the file",
				  id ? id : "(no id)");
			rc = FL_ENOENT;
			goto out;
		}
		if (!json_is_array(lanes)) {
			fl_seterr(err, errlen,
				  "camera '%s': lanes: expected a list", id);
			rc = FL_EFORMAT;
			goto out;
		}
		if (!(seq = node_new(FL_NODE_SEQ))) {
			rc = FL_ENOMEM;
			goto out;
		}
		json_array_foreach(lanes, j, lane)
		{
			if (!json_is_object(lane)) {
				fl_seterr(err, errlen,
					  "camera '%s': lane %zu is not an "
					  "object",
					  id, j + 1);
				fl_node_free(seq);
				rc = FL_EFORMAT;
				goto out;
			}
			if ((rc = node_add(seq, NULL, lane_node(sec, lane)))) {
				fl_node_free(seq);
				goto out;
			}
		}
		if (map_get(c, "lanes", &at)) {
			fl_node_free(c->items[at]);
			c->items[at] = seq;
		} else if ((rc = node_add(c, "lanes", seq))) {
			goto out;
		}
	}
	if (!(*out = edit_lanes(yaml, len, doc, cameras)) && !(*out = dump(doc)))
		rc = FL_ENOMEM;
out:
	fl_node_free(doc);
	return rc;
}

int hub_devconf_check_polygon(const json_t *polygon, char *err, size_t errlen)
{
	const fl_section *sec = lane_section();
	fl_lane_conf *lane = malloc(sizeof(*lane));
	fl_node *m = node_new(FL_NODE_MAP), *id = node_new(FL_NODE_SCALAR);
	char why[512];
	const char *p;
	int rc = FL_ENOMEM;

	if (!sec || !lane || !m || !id || !(id->scalar = strdup("lane")) ||
	    node_add(m, "id", id)) {
		if (m && !m->n)
			fl_node_free(id);
		goto out;
	}
	if (node_add(m, "points", json_node(polygon))) {
		fl_seterr(err, errlen, "polygon: expected a list of [x, y]");
		rc = FL_ECONFIG;
		goto out;
	}
	fl_schema_defaults(sec, lane);
	rc = fl_schema_apply(sec, lane, m, "lane", why, sizeof(why));
	if (rc) {
		/* "lane:LINE: lane 'lane': reason": the reason alone */
		int used = 0, line;

		p = why;
		if (sscanf(p, "lane:%d: %n", &line, &used) == 1 && used)
			p += used;
		if (!strncmp(p, "lane 'lane': ", 13))
			p += 13;
		fl_seterr(err, errlen, "%s", p);
	}
out:
	fl_node_free(m);
	free(lane);
	return rc;
}

/* ---- secrets ------------------------------------------------------------ */

int hub_devconf_mask(const char *yaml, size_t len, char **out)
{
	size_t n;

	return fl_secrets_mask(fl_config_schema(), yaml, len, FILE_NAME, out,
			       &n, NULL, 0);
}

int hub_devconf_unmask(const char *yaml, size_t len, const char *old,
		       size_t oldlen, char **out)
{
	size_t n;

	return fl_secrets_keep(fl_config_schema(), yaml, len, old, oldlen,
			       FILE_NAME, out, &n, NULL, 0);
}

/* ---- the lane table for the editor ------------------------------------- */

static const char *type_name(const fl_setting *s)
{
	switch (s->type) {
	case FL_T_ID:
		return "id";
	case FL_T_TEXT:
	case FL_T_PATH:
		return "text";
	case FL_T_INT:
	case FL_T_SIZE:
		return "integer";
	case FL_T_NUM:
		return "number";
	case FL_T_BOOL:
		return "bool";
	case FL_T_CUSTOM:
		return strcmp(s->name, "points") ? "list" : "polygon";
	default:
		return "other";
	}
}

/* The unit a key's name says (dwell_s: seconds). */
static const char *unit(const char *name)
{
	static const char *const sfx[][2] = { { "_s", "s" },
					      { "_m", "m" },
					      { "_px", "px" } };
	size_t n = strlen(name);

	for (size_t i = 0; i < FL_ARRAY_SIZE(sfx); i++) {
		size_t k = strlen(sfx[i][0]);

		if (n > k && !strcmp(name + n - k, sfx[i][0]))
			return sfx[i][1];
	}
	return "";
}

json_t *hub_devconf_lane_schema(void)
{
	const fl_section *sec = lane_section();
	json_t *a = json_array();

	for (size_t i = 0; sec && a && i < sec->nkeys; i++) {
		const fl_setting *s = &sec->keys[i];
		int num = s->type == FL_T_NUM || s->type == FL_T_INT ||
			  s->type == FL_T_SIZE;
		json_t *def = num                    ? json_real(s->def)
			      : s->type == FL_T_BOOL ? json_boolean(s->def != 0)
			      : s->sdef              ? json_string(s->sdef)
						     : json_null();

		json_array_append_new(
			a,
			json_pack("{s:s,s:s,s:o,s:o,s:o,s:s,s:s,s:b,s:s}",
				  "key", api_name(s->name), "type",
				  type_name(s), "default", def, "min",
				  num ? json_real(s->min) : json_null(), "max",
				  num ? json_real(s->max) : json_null(), "unit",
				  unit(s->name), "help", s->help ? s->help : "",
				  "required", (s->flags & FL_F_REQ) != 0,
				  "format",
				  s->custom ? s->custom->type_doc : ""));
	}
	return a;
}
