/*
 * schema.c - the one walker of configuration tables (see schema.h): defaults,
 * applying a document with its checks, the YAML dump and the markdown
 * reference.
 *
 * Validation is strict and happens once. The YAML tree (fl_node) carries
 * line numbers; every error is "FILE:LINE: reason" where LINE is the line of
 * the offending key, or of the enclosing map for a missing key (a finish
 * hook picks its own line, e.g. a lane's for a polygon wrong as a whole).
 * Typing follows YAML's plain scalars: a quoted "5" is a string, never a
 * number; true/false/yes/no (any case) are booleans; non-finite numbers are
 * refused. Nothing is clamped: a value out of range is an error naming the
 * range. Strings are UTF-8 without control characters (a tab is allowed).
 *
 * FL_T_PATH values that are relative resolve against the directory of the
 * configuration file, so a config and its files can travel together; a value
 * containing "://" is a URL and is kept as written. This is string work
 * only: core does no I/O.
 */
#include "schema.h"

#include "fl.h"
#include "id.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Small helpers: messages, output, scalar typing.                     */

int fl_schema_fail(fl_schema_ctx *c, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || c->errlen == 0)
		return FL_ECONFIG;
	n = snprintf(c->err, c->errlen, "%s:%d: ", c->file, line);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return FL_ECONFIG;
}

void fl_schema_printf(fl_schema_out *o, const char *fmt, ...)
{
	va_list ap;
	char *dst = NULL;
	size_t room = 0;
	int n;

	if (o->buf && o->pos < o->len) {
		dst = o->buf + o->pos;
		room = o->len - o->pos;
	}
	va_start(ap, fmt);
	n = vsnprintf(dst, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

static void pad(fl_schema_out *o, int n)
{
	fl_schema_printf(o, "%*s", n, "");
}

void fl_schema_out_quoted(fl_schema_out *o, const char *s)
{
	fl_schema_printf(o, "\"");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fl_schema_printf(o, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fl_schema_printf(o, "\\x%02x", ch);
		else
			fl_schema_printf(o, "%c", ch);
	}
	fl_schema_printf(o, "\"");
}

void fl_schema_out_num(fl_schema_out *o, double v)
{
	fl_schema_printf(o, "%.15g", v);
}

static int key_line(const fl_node *map, size_t i)
{
	return map->key_lines ? map->key_lines[i] : map->items[i]->line;
}

int fl_schema_key_line(const fl_node *map, const char *key)
{
	for (size_t i = 0; map && map->kind == FL_NODE_MAP && i < map->n; i++)
		if (!strcmp(map->keys[i], key))
			return key_line(map, i);
	return map ? map->line : 0;
}

int fl_schema_num(const fl_node *n, double *v)
{
	const char *p;
	char *end;

	if (n->kind != FL_NODE_SCALAR || n->quoted || !n->scalar ||
	    !n->scalar[0])
		return -1;
	for (p = n->scalar; *p; p++)
		if (!strchr("0123456789+-.eE", *p))
			return -1;
	*v = strtod(n->scalar, &end);
	if (*end != '\0' || !isfinite(*v))
		return -1;
	return 0;
}

static int ascii_ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		int x = (*a >= 'A' && *a <= 'Z') ? *a + 32 : *a;
		int y = (*b >= 'A' && *b <= 'Z') ? *b + 32 : *b;
		if (x != y)
			return 0;
	}
	return *a == *b;
}

static int scalar_bool(const fl_node *n, int *v)
{
	static const struct {
		const char *word;
		int val;
	} words[] = { { "true", 1 }, { "false", 0 }, { "yes", 1 }, { "no", 0 } };

	if (n->kind != FL_NODE_SCALAR || n->quoted || !n->scalar)
		return -1;
	for (size_t i = 0; i < FL_ARRAY_SIZE(words); i++) {
		if (ascii_ieq(n->scalar, words[i].word)) {
			*v = words[i].val;
			return 0;
		}
	}
	return -1;
}

/* 1 if s is well-formed UTF-8 without control characters. */
static int utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int more;
		unsigned cp;

		if (*p < 0x80) {
			if (*p < 0x20 && *p != '\t')
				return 0;
			p++;
			continue;
		} else if ((*p & 0xe0) == 0xc0) {
			more = 1;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			more = 2;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			more = 3;
			cp = *p & 0x07;
		} else {
			return 0;
		}
		p++;
		for (int i = 0; i < more; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (*p & 0x3f);
		}
		/* Overlong forms, surrogates, beyond U+10FFFF. */
		if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) ||
		    (more == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return 1;
}

int fl_schema_resolve_path(char *dst, size_t size, const char *val,
			   const char *file)
{
	const char *slash = strrchr(file, '/');
	int n;

	if (!val[0] || val[0] == '/' || strstr(val, "://") || !slash)
		n = snprintf(dst, size, "%s", val);
	else
		n = snprintf(dst, size, "%.*s/%s", (int)(slash - file), file,
			     val);
	return n >= 0 && (size_t)n < size ? 0 : -1;
}

static void *at(void *obj, size_t off)
{
	return (char *)obj + off;
}

static const void *cat(const void *obj, size_t off)
{
	return (const char *)obj + off;
}

/* ------------------------------------------------------------------ */
/* Defaults.                                                            */

void fl_schema_defaults(const fl_section *sec, void *obj)
{
	for (size_t i = 0; i < sec->nkeys; i++) {
		const fl_setting *s = &sec->keys[i];
		void *f = at(obj, s->off);

		switch (s->type) {
		case FL_T_ID:
		case FL_T_TEXT:
		case FL_T_PATH:
			snprintf(f, s->size, "%s", s->sdef ? s->sdef : "");
			break;
		case FL_T_INT:
		case FL_T_BOOL:
			*(int *)f = (int)s->def;
			break;
		case FL_T_SIZE:
			*(size_t *)f = (size_t)s->def;
			break;
		case FL_T_NUM:
			*(double *)f = s->def;
			break;
		case FL_T_MAP:
			fl_schema_defaults(s->sub, f);
			break;
		case FL_T_LIST:
			*(int *)at(obj, s->count_off) = 0;
			break;
		case FL_T_CUSTOM:
			s->custom->defaults(s, obj);
			break;
		}
	}
	if (sec->line_off != FL_NO_OFF)
		*(int *)at(obj, sec->line_off) = 0;
}

/* ------------------------------------------------------------------ */
/* Applying a document.                                                 */

static int apply_map(fl_schema_ctx *c, const fl_section *sec, void *obj,
		     const fl_node *map, int line);

static int apply_string(fl_schema_ctx *c, const fl_setting *s, char *f,
			const fl_node *n, int line)
{
	const char *v;
	size_t len;

	if (n->kind != FL_NODE_SCALAR)
		return fl_schema_fail(c, line, "%s: expected a string",
				      s->name);
	v = n->scalar ? n->scalar : "";
	len = strlen(v);
	switch (s->type) {
	case FL_T_ID:
		if (!fl_id_valid(v, s->size))
			return fl_schema_fail(
				c, line,
				"%s: '%s' is not a valid id (1..%d of "
				"A-Z a-z 0-9 _ . -)",
				s->name, v, (int)s->size - 1);
		break;
	case FL_T_TEXT:
	case FL_T_PATH:
		if (!utf8_ok(v))
			return fl_schema_fail(c, line,
					      "%s: not valid UTF-8 text",
					      s->name);
		if ((s->flags & FL_F_REQ) && len == 0)
			return fl_schema_fail(c, line, "%s: must not be empty",
					      s->name);
		break;
	default:
		break;
	}
	if (s->type == FL_T_PATH) {
		if (fl_schema_resolve_path(f, s->size, v, c->file))
			return fl_schema_fail(c, line,
					      "%s: path too long (max %zu "
					      "bytes)",
					      s->name, s->size - 1);
		return FL_OK;
	}
	if (len >= s->size)
		return fl_schema_fail(c, line,
				      "%s: too long (%zu bytes, max %zu)",
				      s->name, len, s->size - 1);
	memcpy(f, v, len + 1);
	return FL_OK;
}

/* Why "5" is not a number: YAML's plain scalars carry the type. */
#define QUOTED_NOTE " (quoted values are strings)"

static int apply_number(fl_schema_ctx *c, const fl_setting *s, void *f,
			const fl_node *n, int line)
{
	double v;

	if (fl_schema_num(n, &v)) {
		if (n->kind != FL_NODE_SCALAR || !n->scalar)
			return fl_schema_fail(c, line, "%s: expected a number",
					      s->name);
		return fl_schema_fail(c, line,
				      "%s: expected a number%s, got '%s'",
				      s->name, n->quoted ? QUOTED_NOTE : "",
				      n->scalar);
	}
	if (s->type != FL_T_NUM && v != floor(v))
		return fl_schema_fail(c, line,
				      "%s: expected a whole number, got %s",
				      s->name, n->scalar);
	/* %.15g: a bound like 2147483647 is named exactly, not as 2.1e+09 */
	if (v < s->min || v > s->max)
		return fl_schema_fail(c, line,
				      "%s: %s is out of range %.15g..%.15g",
				      s->name, n->scalar, s->min, s->max);
	if (s->type == FL_T_INT)
		*(int *)f = (int)v;
	else if (s->type == FL_T_SIZE)
		*(size_t *)f = (size_t)v;
	else
		*(double *)f = v;
	return FL_OK;
}

static int apply_bool(fl_schema_ctx *c, const fl_setting *s, int *f,
		      const fl_node *n, int line)
{
	if (!scalar_bool(n, f))
		return FL_OK;
	if (n->kind != FL_NODE_SCALAR || !n->scalar)
		return fl_schema_fail(c, line,
				      "%s: expected a boolean (true, false, "
				      "yes, no)",
				      s->name);
	return fl_schema_fail(c, line,
			      "%s: expected a boolean (true, false, yes, "
			      "no)%s, got '%s'",
			      s->name, n->quoted ? QUOTED_NOTE : "", n->scalar);
}

/*
 * Apply a list of sections: each element gets its section's defaults, its
 * line, its keys, and must have an id unlike the earlier ones.
 */
static int apply_list(fl_schema_ctx *c, const fl_setting *s, void *obj,
		      const fl_node *n, int line)
{
	const fl_section *sub = s->sub;
	int *count = at(obj, s->count_off);
	int rc;

	if (n->kind != FL_NODE_SEQ)
		return fl_schema_fail(c, line,
				      "%s: expected a list of %s entries",
				      s->name, sub->name);
	if (n->n < (size_t)s->min || n->n > (size_t)s->max)
		return fl_schema_fail(c, line,
				      "%s: %zu entries, expected %g..%g",
				      s->name, n->n, s->min, s->max);
	*count = 0;
	for (size_t i = 0; i < n->n; i++) {
		void *elem = at(obj, s->off + i * s->size);
		const fl_node *e = n->items[i];

		fl_schema_defaults(sub, elem);
		if (sub->line_off != FL_NO_OFF)
			*(int *)at(elem, sub->line_off) = e->line;
		rc = apply_map(c, sub, elem, e, e->line);
		if (rc)
			return rc;
		for (size_t j = 0; sub->id_off != FL_NO_OFF && j < i; j++) {
			const char *a = cat(obj,
					    s->off + j * s->size + sub->id_off);
			if (!strcmp(a, (const char *)at(elem, sub->id_off)))
				return fl_schema_fail(c, e->line,
						      "duplicate %s id '%s'",
						      sub->name, a);
		}
		*count = (int)i + 1;
	}
	return FL_OK;
}

static int apply_setting(fl_schema_ctx *c, const fl_setting *s, void *obj,
			 const fl_node *n, int line)
{
	void *f = at(obj, s->off);

	switch (s->type) {
	case FL_T_ID:
	case FL_T_TEXT:
	case FL_T_PATH:
		return apply_string(c, s, f, n, line);
	case FL_T_INT:
	case FL_T_SIZE:
	case FL_T_NUM:
		return apply_number(c, s, f, n, line);
	case FL_T_BOOL:
		return apply_bool(c, s, f, n, line);
	case FL_T_MAP:
		return apply_map(c, s->sub, f, n, line);
	case FL_T_LIST:
		return apply_list(c, s, obj, n, line);
	case FL_T_CUSTOM:
		return s->custom->parse(c, s, obj, n, line);
	}
	return FL_EINVAL;
}

/*
 * Apply one map node to a section of obj: every key must be in the table
 * (line of the key otherwise), every required key present (line of the map
 * otherwise), then the section's own cross-key checks run.
 */
static int apply_map(fl_schema_ctx *c, const fl_section *sec, void *obj,
		     const fl_node *map, int line)
{
	unsigned seen = 0;
	int rc;

	if (map->kind != FL_NODE_MAP)
		return fl_schema_fail(c, line, "%s: expected a map of keys",
				      sec->name);
	for (size_t i = 0; i < map->n; i++) {
		size_t k;

		for (k = 0; k < sec->nkeys; k++)
			if (!strcmp(map->keys[i], sec->keys[k].name))
				break;
		if (k == sec->nkeys)
			return fl_schema_fail(c, key_line(map, i),
					      "unknown key '%s' in %s",
					      map->keys[i], sec->name);
		if (seen & (1u << k))
			return fl_schema_fail(c, key_line(map, i),
					      "duplicate key '%s' in %s",
					      map->keys[i], sec->name);
		seen |= 1u << k;
		rc = apply_setting(c, &sec->keys[k], obj, map->items[i],
				   key_line(map, i));
		if (rc)
			return rc;
	}
	for (size_t k = 0; k < sec->nkeys; k++)
		if ((sec->keys[k].flags & FL_F_REQ) && !(seen & (1u << k)))
			return fl_schema_fail(c, map->line,
					      "missing required key '%s' in %s",
					      sec->keys[k].name, sec->name);
	return sec->finish ? sec->finish(c, obj, map) : FL_OK;
}

void fl_node_free(fl_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			free(n->keys[i]);
		if (n->items)
			fl_node_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->key_lines);
	free(n->scalar);
	free(n);
}

/* ------------------------------------------------------------------ */
/* Dump, sample and docs.                                               */

static void dump_section(fl_schema_out *o, const fl_section *sec,
			 const void *obj, int indent, int dash);

static void dump_value(fl_schema_out *o, const fl_setting *s, const void *obj,
		       int indent)
{
	const void *f = cat(obj, s->off);

	switch (s->type) {
	case FL_T_ID:
	case FL_T_TEXT:
	case FL_T_PATH:
		/* A secret is not shown (--check-config output ends up in
		 * bug reports); the mask still reloads as a set value. */
		if ((s->flags & FL_F_SECRET) && *(const char *)f) {
			fl_schema_out_quoted(o, FL_SECRET_MASK);
		} else if (s->flags & FL_F_URL_SECRET) {
			char url[2048];

			fl_url_redact(f, url, sizeof(url));
			fl_schema_out_quoted(o, url);
		} else {
			fl_schema_out_quoted(o, f);
		}
		break;
	case FL_T_INT:
		fl_schema_printf(o, "%d", *(const int *)f);
		break;
	case FL_T_SIZE:
		fl_schema_printf(o, "%zu", *(const size_t *)f);
		break;
	case FL_T_NUM:
		fl_schema_out_num(o, *(const double *)f);
		break;
	case FL_T_BOOL:
		fl_schema_printf(o, "%s", *(const int *)f ? "true" : "false");
		break;
	case FL_T_CUSTOM:
		s->custom->dump(o, s, obj);
		break;
	case FL_T_MAP:
	case FL_T_LIST:
		break;
	}
}

static void dump_help(fl_schema_out *o, const fl_setting *s)
{
	if (o->comments && s->help)
		fl_schema_printf(o, "  # %s", s->help);
	fl_schema_printf(o, "\n");
}

/*
 * Write one section as block YAML at indent. dash: the first key opens a
 * list item ("- "), as for cameras and lanes.
 */
static void dump_section(fl_schema_out *o, const fl_section *sec,
			 const void *obj, int indent, int dash)
{
	for (size_t i = 0; i < sec->nkeys; i++) {
		const fl_setting *s = &sec->keys[i];

		if (dash && i == 0) {
			pad(o, indent - 2);
			fl_schema_printf(o, "- ");
		} else {
			pad(o, indent);
		}
		fl_schema_printf(o, "%s:", s->name);
		if (s->type == FL_T_MAP) {
			dump_help(o, s);
			dump_section(o, s->sub, cat(obj, s->off), indent + 2,
				     0);
		} else if (s->type == FL_T_LIST) {
			int n = *(const int *)cat(obj, s->count_off);
			if (n == 0)
				fl_schema_printf(o, " []");
			dump_help(o, s);
			for (int k = 0; k < n; k++)
				dump_section(o, s->sub,
					     cat(obj, s->off + k * s->size),
					     indent + 4, 1);
		} else {
			fl_schema_printf(o, " ");
			dump_value(o, s, obj, indent);
			dump_help(o, s);
		}
	}
}

static size_t out_end(fl_schema_out *o)
{
	if (o->buf && o->len)
		o->buf[FL_MIN(o->pos, o->len - 1)] = '\0';
	return o->pos;
}

static void doc_default(fl_schema_out *o, const fl_setting *s)
{
	if (s->flags & FL_F_REQ) {
		fl_schema_printf(o, "*required*");
		return;
	}
	switch (s->type) {
	case FL_T_ID:
	case FL_T_TEXT:
	case FL_T_PATH:
		fl_schema_printf(o, "`\"%s\"`", s->sdef ? s->sdef : "");
		break;
	case FL_T_INT:
	case FL_T_SIZE:
	case FL_T_NUM:
		/* sdef: a default computed at load ("1883, 8883 with TLS") */
		if (s->sdef)
			fl_schema_printf(o, "%s", s->sdef);
		else
			fl_schema_printf(o, "`%.15g`", s->def);
		break;
	case FL_T_BOOL:
		fl_schema_printf(o, "`%s`", s->def ? "true" : "false");
		break;
	case FL_T_CUSTOM:
		if (s->sdef)
			fl_schema_printf(o, "`%s`", s->sdef);
		else
			fl_schema_printf(o, "-");
		break;
	case FL_T_MAP:
		fl_schema_printf(o, "all defaults");
		break;
	case FL_T_LIST:
		fl_schema_printf(o, "-");
		break;
	}
}

static void doc_type_range(fl_schema_out *o, const fl_setting *s)
{
	switch (s->type) {
	case FL_T_ID:
		fl_schema_printf(o, "id | 1..%g chars of `A-Z a-z 0-9 _ . -`",
				 s->max);
		break;
	case FL_T_TEXT:
		fl_schema_printf(o, "string | UTF-8, up to %zu bytes",
				 s->size - 1);
		break;
	case FL_T_PATH:
		fl_schema_printf(o, "path | up to %zu bytes", s->size - 1);
		break;
	case FL_T_INT:
	case FL_T_SIZE:
		fl_schema_printf(o, "integer | %.15g..%.15g", s->min, s->max);
		break;
	case FL_T_NUM:
		fl_schema_printf(o, "number | %.15g..%.15g", s->min, s->max);
		break;
	case FL_T_BOOL:
		fl_schema_printf(o, "boolean | true/false/yes/no");
		break;
	case FL_T_MAP:
		fl_schema_printf(o, "map | see [%s](#%s)", s->sub->name,
				 s->sub->name);
		break;
	case FL_T_LIST:
		fl_schema_printf(o, "list of [%s](#%s) | %g..%g entries",
				 s->sub->name, s->sub->name, s->min, s->max);
		break;
	case FL_T_CUSTOM:
		if (s->custom->range_doc)
			fl_schema_printf(o, "%s | %s", s->custom->type_doc,
					 s->custom->range_doc);
		else
			fl_schema_printf(o, "%s | %g..%g items",
					 s->custom->type_doc, s->min, s->max);
		break;
	}
}

int fl_schema_apply(const fl_section *root, void *obj, const fl_node *doc,
		    const char *file, char *err, size_t errlen)
{
	fl_schema_ctx c = { file ? file : "<config>", err, errlen };

	if (err && errlen)
		err[0] = '\0';
	if (!doc)
		return fl_schema_fail(&c, 1, "empty configuration");
	return apply_map(&c, root, obj, doc, doc->line);
}

size_t fl_schema_dump(const fl_section *root, const void *obj,
		      const char *header, int comments, char *buf, size_t len)
{
	fl_schema_out o = { buf, len, 0, comments };

	if (header)
		fl_schema_printf(&o, "%s", header);
	dump_section(&o, root, obj, 0, 0);
	return out_end(&o);
}

/* ------------------------------------------------------------------ */
/* A document as it is: the tree back to YAML, and where a line is.      */

const fl_setting *fl_schema_key(const fl_section *sec, const char *name)
{
	for (size_t i = 0; sec && i < sec->nkeys; i++)
		if (!strcmp(sec->keys[i].name, name))
			return &sec->keys[i];
	return NULL;
}

/* A key or a plain scalar that reads back as itself in any context. */
static int plain_safe(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("_.-+/", *s)))
			return 0;
	return 1;
}

static void node_scalar(fl_schema_out *o, const fl_node *n)
{
	/* a plain scalar keeps its type (a number, a boolean); one that
	 * only block context allowed is quoted, which keeps it a string */
	if (n->quoted || !plain_safe(n->scalar))
		fl_schema_out_quoted(o, n->scalar);
	else
		fl_schema_printf(o, "%s", n->scalar);
}

/* A sequence of scalars (or of such sequences) goes on one line. */
static int flow_ok(const fl_node *n)
{
	for (size_t i = 0; i < n->n; i++)
		if (n->items[i]->kind == FL_NODE_MAP ||
		    (n->items[i]->kind == FL_NODE_SEQ && !flow_ok(n->items[i])))
			return 0;
	return 1;
}

static void node_flow(fl_schema_out *o, const fl_node *n)
{
	if (n->kind == FL_NODE_SCALAR) {
		node_scalar(o, n);
		return;
	}
	fl_schema_printf(o, "[");
	for (size_t i = 0; i < n->n; i++) {
		if (i)
			fl_schema_printf(o, ", ");
		node_flow(o, n->items[i]);
	}
	fl_schema_printf(o, "]");
}

static void node_block(fl_schema_out *o, const fl_node *n, int indent,
		       int inline_first);

/* After "key:" or "- ": the value, and the line's end. */
static void node_value(fl_schema_out *o, const fl_node *v, int indent)
{
	if (v->kind == FL_NODE_SCALAR ||
	    (v->kind == FL_NODE_SEQ && flow_ok(v))) {
		fl_schema_printf(o, " ");
		node_flow(o, v);
		fl_schema_printf(o, "\n");
	} else if (!v->n) {
		fl_schema_printf(o, " {}\n");
	} else {
		fl_schema_printf(o, "\n");
		node_block(o, v, indent + 2, 0);
	}
}

/* A map or a sequence in block style at indent; inline_first: the first
 * line's indent is already written (after "- "). */
static void node_block(fl_schema_out *o, const fl_node *n, int indent,
		       int inline_first)
{
	for (size_t i = 0; i < n->n; i++) {
		if (i || !inline_first)
			pad(o, indent);
		if (n->kind == FL_NODE_MAP) {
			if (plain_safe(n->keys[i]))
				fl_schema_printf(o, "%s:", n->keys[i]);
			else {
				fl_schema_out_quoted(o, n->keys[i]);
				fl_schema_printf(o, ":");
			}
			node_value(o, n->items[i], indent);
		} else if (n->items[i]->kind == FL_NODE_MAP && n->items[i]->n) {
			fl_schema_printf(o, "- ");
			node_block(o, n->items[i], indent + 2, 1);
		} else {
			fl_schema_printf(o, "-");
			node_value(o, n->items[i], indent);
		}
	}
}

size_t fl_node_dump(const fl_node *doc, char *buf, size_t len)
{
	fl_schema_out o = { buf, len, 0, 0 };

	if (doc && doc->kind == FL_NODE_SCALAR) {
		node_scalar(&o, doc);
		fl_schema_printf(&o, "\n");
	} else if (doc) {
		node_block(&o, doc, 0, 0);
	}
	return out_end(&o);
}

/* The path of the deepest key on line below n into o; 1 when found. */
static int key_path(fl_schema_out *o, const fl_node *n, int line)
{
	size_t mark = o->pos;

	for (size_t i = 0; i < n->n; i++) {
		const fl_node *v = n->items[i];

		o->pos = mark;
		if (n->kind == FL_NODE_MAP) {
			fl_schema_printf(o, "%s%s", mark ? "." : "",
					 n->keys[i]);
			if (key_path(o, v, line) || key_line(n, i) == line)
				return 1;
		} else {
			const fl_node *id = NULL;

			/* an item of a list is named by its id, if it has one */
			for (size_t k = 0; v->kind == FL_NODE_MAP && k < v->n;
			     k++)
				if (!strcmp(v->keys[k], "id") &&
				    v->items[k]->kind == FL_NODE_SCALAR)
					id = v->items[k];
			if (id)
				fl_schema_printf(o, "[%s]", id->scalar);
			else
				fl_schema_printf(o, "[%zu]", i);
			if (key_path(o, v, line) || v->line == line)
				return 1;
		}
	}
	o->pos = mark;
	return 0;
}

size_t fl_node_key_at(const fl_node *doc, int line, char *buf, size_t len)
{
	fl_schema_out o = { buf, len, 0, 0 };

	if (doc)
		key_path(&o, doc, line);
	return out_end(&o);
}

size_t fl_schema_reference(const char *intro, const fl_section *const *sections,
			   size_t n, char *buf, size_t len)
{
	fl_schema_out out = { buf, len, 0, 0 }, *o = &out;

	fl_schema_printf(o, "%s", intro);
	for (size_t k = 0; k < n; k++) {
		const fl_section *sec = sections[k];
		/* the Reload column only where something is reloadable */
		const char *rl = sec->reload ? " Reload |" : "";

		/* Anchors for the sections that other rows link to. */
		if (!strchr(sec->name, ' '))
			fl_schema_printf(o, "\n<a id=\"%s\"></a>", sec->name);
		fl_schema_printf(o, "\n## %s\n\n%s\n\n", sec->title,
				 sec->intro);
		fl_schema_printf(o,
				 "| Key | Type | Range | Default |%s "
				 "Description |\n"
				 "|-----|------|-------|---------|%s"
				 "-------------|\n",
				 rl, *rl ? "--------|" : "");
		for (size_t i = 0; i < sec->nkeys; i++) {
			const fl_setting *s = &sec->keys[i];

			fl_schema_printf(o, "| `%s` | ", s->name);
			doc_type_range(o, s);
			fl_schema_printf(o, " | ");
			doc_default(o, s);
			if (sec->reload)
				fl_schema_printf(o, " | %s",
						 s->flags & FL_F_RESTART
							 ? "restart"
							 : "yes");
			fl_schema_printf(o, " | %s |\n",
					 s->help ? s->help : "");
		}
	}
	return out_end(o);
}
