/*
 * yamledit.c - set keys in a YAML configuration's text (see yamledit.h).
 *
 * A note on the approach. A YAML library that writes the document again
 * loses its comments and its layout, which are a person's; so the text
 * is edited as lines, and the parser (yaml.c) is asked only what lines
 * cannot tell: whether the file is YAML at all, and the values of a flow
 * section to be rewritten in block style. A top-level section is its key
 * line at column 0 and every following line that is blank or indented;
 * its keys are the lines at the indentation of its first key. A value is
 * replaced from after "key:" to where a comment (" #") or the line ends,
 * quoted values read to their closing quote, so a '#' inside one is not
 * a comment. A value at any depth (fl_yaml_set_block: the lanes of one
 * camera) is found by the line the parser gives its key, and ends where
 * the indentation comes back to the key's.
 */
#define _GNU_SOURCE /* asprintf */
#include "yamledit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"
#include "id.h"
#include "schema.h"
#include "yaml.h"

/* ---- lines ------------------------------------------------------------------ */

struct lines {
	char **v;
	size_t n, cap;
};

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* Inserts a copy of s (len bytes) at index at. */
static int lines_insert(struct lines *l, size_t at, const char *s, size_t len)
{
	char *c;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return FL_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	c = malloc(len + 1);
	if (!c)
		return FL_ENOMEM;
	memcpy(c, s, len);
	c[len] = '\0';
	memmove(l->v + at + 1, l->v + at, (l->n - at) * sizeof(*l->v));
	l->v[at] = c;
	l->n++;
	return 0;
}

static int lines_insertf(struct lines *l, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int lines_insertf(struct lines *l, size_t at, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n, r;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return FL_ENOMEM;
	r = lines_insert(l, at, s, (size_t)n);
	free(s);
	return r;
}

static void lines_remove(struct lines *l, size_t at)
{
	free(l->v[at]);
	memmove(l->v + at, l->v + at + 1, (l->n - at - 1) * sizeof(*l->v));
	l->n--;
}

/* The text's lines, without their '\n'. */
static int lines_split(struct lines *l, const char *text, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - text) : len;

		if (lines_insert(l, l->n, text + i, e - i))
			return FL_ENOMEM;
		i = e + 1;
	}
	return 0;
}

/* The lines as one text, each ended by '\n' (malloc'd; *len its length),
 * or NULL. */
static char *lines_join(const struct lines *l, size_t *len)
{
	size_t total = 0;
	char *buf;

	for (size_t i = 0; i < l->n; i++)
		total += strlen(l->v[i]) + 1;
	if (!(buf = malloc(total + 1)))
		return NULL;
	total = 0;
	for (size_t i = 0; i < l->n; i++) {
		size_t m = strlen(l->v[i]);

		memcpy(buf + total, l->v[i], m);
		buf[total + m] = '\n';
		total += m + 1;
	}
	buf[total] = '\0';
	*len = total;
	return buf;
}

static size_t indent_of(const char *s)
{
	size_t i = 0;

	while (s[i] == ' ')
		i++;
	return i;
}

/* A line with nothing but spaces, or a comment. */
static int is_filler(const char *s)
{
	const char *p = s + indent_of(s);

	return !*p || *p == '#' || *p == '\r';
}

/* 1 when line is "key:" at column col, followed by the end or a space. */
static int is_key(const char *line, size_t col, const char *key)
{
	size_t k = strlen(key);

	return indent_of(line) == col && !strncmp(line + col, key, k) &&
	       line[col + k] == ':' &&
	       (!line[col + k + 1] || line[col + k + 1] == ' ' ||
		line[col + k + 1] == '\r');
}

/* The end of the section starting at line i: the first line after it at
 * column 0 that is not blank (comments at column 0 end it too). */
static size_t section_end(const struct lines *l, size_t i)
{
	for (i++; i < l->n; i++) {
		const char *s = l->v[i];

		if (*s && *s != ' ' && *s != '\r')
			break;
	}
	return i;
}

/* Where the value after "key:" at p ends (its closing quote, or before a
 * comment or the end), p past the colon. */
static const char *value_end(const char *p)
{
	while (*p == ' ')
		p++;
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++)
			if (*p == '\\' && p[1])
				p++;
		return *p ? p + 1 : p;
	}
	if (*p == '\'') {
		for (p++; *p; p++)
			if (*p == '\'' && p[1] != '\'')
				return p + 1;
			else if (*p == '\'')
				p++;
		return p;
	}
	for (; *p && *p != '\r'; p++)
		if (*p == ' ' && p[1] == '#')
			break;
	while (p[-1] == ' ') /* the value's own trailing spaces stay out */
		p--;
	return p;
}

/* ---- values --------------------------------------------------------------------- */

size_t fl_yaml_quote(const char *s, char *buf, size_t len)
{
	size_t n = 0;

#define PUT(c)                                                                 \
	do {                                                                   \
		if (n + 1 < len)                                               \
			buf[n] = (c);                                          \
		n++;                                                           \
	} while (0)
	PUT('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			PUT('\\');
			PUT((char)*p);
		} else if (*p < 0x20 || *p == 0x7f) {
			char esc[8];

			snprintf(esc, sizeof(esc), "\\x%02x", *p);
			for (char *e = esc; *e; e++)
				PUT(*e);
		} else {
			PUT((char)*p);
		}
	}
	PUT('"');
#undef PUT
	if (len)
		buf[n < len ? n : len - 1] = '\0';
	return n;
}

/* A node as YAML on one line (flow style) appended to *s. */
static int emit_flow(const fl_node *nd, char **s)
{
	char *a = NULL, *b;
	int r = 0;

	if (nd->kind == FL_NODE_SCALAR) {
		size_t need = fl_yaml_quote(nd->scalar, NULL, 0) + 1;

		if (!nd->quoted)
			return asprintf(&b, "%s%s", *s, nd->scalar) < 0
				       ? FL_ENOMEM
				       : (free(*s), *s = b, 0);
		a = malloc(need);
		if (!a)
			return FL_ENOMEM;
		fl_yaml_quote(nd->scalar, a, need);
		r = asprintf(&b, "%s%s", *s, a) < 0 ? FL_ENOMEM : 0;
		free(a);
		if (!r) {
			free(*s);
			*s = b;
		}
		return r;
	}
	if (asprintf(&b, "%s%c", *s, nd->kind == FL_NODE_MAP ? '{' : '[') < 0)
		return FL_ENOMEM;
	free(*s);
	*s = b;
	for (size_t i = 0; i < nd->n && !r; i++) {
		if (asprintf(&b, "%s%s", *s, i ? ", " : "") < 0)
			return FL_ENOMEM;
		free(*s);
		*s = b;
		if (nd->kind == FL_NODE_MAP) {
			fl_node key = { .kind = FL_NODE_SCALAR,
					.scalar = nd->keys[i],
					.quoted = !fl_id_valid(nd->keys[i],
							       256) };

			if ((r = emit_flow(&key, s)))
				return r;
			if (asprintf(&b, "%s: ", *s) < 0)
				return FL_ENOMEM;
			free(*s);
			*s = b;
		}
		r = emit_flow(nd->items[i], s);
	}
	if (r)
		return r;
	if (asprintf(&b, "%s%c", *s, nd->kind == FL_NODE_MAP ? '}' : ']') < 0)
		return FL_ENOMEM;
	free(*s);
	*s = b;
	return 0;
}

/* The flow section at line i (of the document doc) as block lines:
 * "section:" and one "  key: value" per key. */
static int unflow(struct lines *l, size_t i, const fl_node *doc,
		  const char *section, const char *name, char *err,
		  size_t errlen)
{
	const fl_node *m = NULL;
	size_t end = section_end(l, i);
	int r = 0;

	for (size_t k = 0; k < doc->n; k++)
		if (!strcmp(doc->keys[k], section))
			m = doc->items[k];
	if (!m || m->kind != FL_NODE_MAP) {
		fl_seterr(err, errlen, "%s:%zu: %s: expected a map of keys",
			  name, i + 1, section);
		return FL_EFORMAT;
	}
	while (end > i)
		lines_remove(l, --end);
	if ((r = lines_insertf(l, i, "%s:", section)))
		return r;
	for (size_t k = 0; k < m->n && !r; k++) {
		char *v = strdup("");

		if (!v)
			return FL_ENOMEM;
		r = emit_flow(m->items[k], &v);
		if (!r)
			r = lines_insertf(l, i + 1 + k, "  %s: %s", m->keys[k],
					  v);
		free(v);
	}
	return r;
}

/* section.key = value in l (section in block style, or absent). */
static int set_one(struct lines *l, const fl_yaml_kv *kv)
{
	size_t i, end, col = 2, last;
	int found = 0;

	for (i = 0; i < l->n; i++)
		if (is_key(l->v[i], 0, kv->section))
			break;
	if (i == l->n) { /* a new section at the end */
		if (l->n && !is_filler(l->v[l->n - 1]) &&
		    lines_insert(l, l->n, "", 0))
			return FL_ENOMEM;
		if (lines_insertf(l, l->n, "%s:", kv->section))
			return FL_ENOMEM;
		return lines_insertf(l, l->n, "  %s: %s", kv->key, kv->value);
	}
	end = section_end(l, i);
	last = i;
	for (size_t j = i + 1; j < end; j++) {
		if (is_filler(l->v[j]))
			continue;
		if (!found) {
			col = indent_of(l->v[j]);
			found = 1;
		}
		last = j;
	}
	for (size_t j = i + 1; j < end; j++) {
		const char *s = l->v[j], *p, *ve;
		char *nl;

		if (!is_key(s, col, kv->key))
			continue;
		p = s + col + strlen(kv->key) + 1;
		ve = value_end(p);
		if (asprintf(&nl, "%.*s %s%s", (int)(p - s), s, kv->value, ve) <
		    0)
			return FL_ENOMEM;
		free(l->v[j]);
		l->v[j] = nl;
		/* the old value's continuation lines (a block or multi-line
		 * scalar, a flow collection over lines) go with it */
		while (j + 1 < l->n && j + 1 < end && l->v[j + 1][0] &&
		       indent_of(l->v[j + 1]) > col) {
			lines_remove(l, j + 1);
			end--;
		}
		return 0;
	}
	return lines_insertf(l, last + 1, "%*s%s: %s", (int)col, "", kv->key,
			     kv->value);
}

/* The scalar at section.key of a parsed document, or NULL. */
static const fl_node *value_at(const fl_node *doc, const char *section,
			       const char *key)
{
	for (size_t i = 0; doc->kind == FL_NODE_MAP && i < doc->n; i++) {
		const fl_node *m = doc->items[i];

		if (strcmp(doc->keys[i], section) || m->kind != FL_NODE_MAP)
			continue;
		for (size_t k = 0; k < m->n; k++)
			if (!strcmp(m->keys[k], key))
				return m->items[k];
	}
	return NULL;
}

/* Whether the edited text says what was set: every key once, with its
 * value. What lines cannot see (a quoted value over lines, a key twice,
 * tabs) shows here, and is refused rather than written. */
static int check_result(const char *out, size_t outlen, const char *name,
			const fl_yaml_kv *kv, size_t n, char *err,
			size_t errlen)
{
	fl_node *doc = fl_yaml_parse(out, outlen, name, err, errlen);
	int r = doc ? 0 : FL_EFORMAT;

	for (size_t k = 0; k < n && !r; k++) {
		char *one = NULL;
		fl_node *want = NULL;
		const fl_node *got = value_at(doc, kv[k].section, kv[k].key);

		if (asprintf(&one, "v: %s\n", kv[k].value) < 0) {
			r = FL_ENOMEM;
			break;
		}
		want = fl_yaml_parse(one, strlen(one), "value", NULL, 0);
		if (!want || want->kind != FL_NODE_MAP || want->n != 1 ||
		    want->items[0]->kind != FL_NODE_SCALAR || !got ||
		    got->kind != FL_NODE_SCALAR ||
		    strcmp(got->scalar, want->items[0]->scalar)) {
			fl_seterr(err, errlen,
				  "%s: cannot set %s.%s in this file (a value "
				  "over several lines? a key twice?): write it "
				  "on one line",
				  name, kv[k].section, kv[k].key);
			r = FL_EFORMAT;
		}
		fl_node_free(want);
		free(one);
	}
	fl_node_free(doc);
	return r;
}

int fl_yaml_set(const char *text, size_t len, const char *name,
		const fl_yaml_kv *kv, size_t n, char **out, size_t *outlen,
		char *err, size_t errlen)
{
	struct lines l = { 0 };
	fl_node *doc = NULL;
	char *buf = NULL;
	size_t total = 0;
	int r = 0;

	*out = NULL;
	*outlen = 0;
	for (size_t k = 0; k < n; k++)
		if (!fl_id_valid(kv[k].section, 64) ||
		    !fl_id_valid(kv[k].key, 64) || strchr(kv[k].value, '\n')) {
			fl_seterr(err, errlen, "%s: cannot set %s.%s", name,
				  kv[k].section, kv[k].key);
			return FL_EINVAL;
		}
	doc = fl_yaml_parse(text, len, name, err, errlen);
	if (!doc)
		return FL_EFORMAT;
	if (doc->kind != FL_NODE_MAP) {
		fl_seterr(err, errlen, "%s:%d: expected a map of sections",
			  name, doc->line);
		r = FL_EFORMAT;
		goto out;
	}
	if ((r = lines_split(&l, text, len)))
		goto out;
	/* flow sections to block style, each once */
	for (size_t k = 0; k < n && !r; k++)
		for (size_t i = 0; i < l.n; i++) {
			const char *p;

			if (!is_key(l.v[i], 0, kv[k].section))
				continue;
			p = l.v[i] + strlen(kv[k].section) + 1;
			while (*p == ' ')
				p++;
			if (*p && *p != '#' && *p != '\r')
				r = unflow(&l, i, doc, kv[k].section, name, err,
					   errlen);
			break;
		}
	for (size_t k = 0; k < n && !r; k++)
		r = set_one(&l, &kv[k]);
	if (r)
		goto out;
	if (!(buf = lines_join(&l, &total))) {
		r = FL_ENOMEM;
		goto out;
	}
	if ((r = check_result(buf, total, name, kv, n, err, errlen))) {
		free(buf);
		goto out;
	}
	*out = buf;
	*outlen = total;
out:
	if (r == FL_ENOMEM)
		fl_seterr(err, errlen, "out of memory");
	lines_free(&l);
	fl_node_free(doc);
	return r;
}

/* ---- a value at any depth ----------------------------------------------------- */

/* The column of "key:" on line s: after its indentation and any "- " of
 * the sequence items it opens; SIZE_MAX when the line is not that key. */
static size_t key_column(const char *s, const char *key)
{
	size_t col = indent_of(s);

	while (s[col] == '-' && s[col + 1] == ' ')
		col += 2 + indent_of(s + col + 2);
	return is_key(s + col, 0, key) ? col : SIZE_MAX;
}

int fl_yaml_set_block(const char *text, size_t len, int line, const char *key,
		      const char *value, char **out, size_t *outlen, char *err,
		      size_t errlen)
{
	struct lines l = { 0 };
	size_t i, col, last, vlen = strlen(value);
	const char *s, *ve, *nl = memchr(value, '\n', vlen);
	int one = !nl || (size_t)(nl - value) + 1 == vlen, r;

	*out = NULL;
	*outlen = 0;
	if (!vlen) {
		fl_seterr(err, errlen, "no value for %s", key);
		return FL_EINVAL;
	}
	if ((r = lines_split(&l, text, len)))
		goto out;
	i = (size_t)line - 1;
	if (line < 1 || i >= l.n ||
	    (col = key_column(l.v[i], key)) == SIZE_MAX) {
		fl_seterr(err, errlen, "line %d: no \"%s:\" in block style",
			  line, key);
		r = FL_EFORMAT;
		goto out;
	}
	/* the old value's lines */
	last = i;
	for (size_t j = i + 1; j < l.n; j++) {
		size_t ind = indent_of(l.v[j]);

		if (is_filler(l.v[j]))
			continue;
		if (ind < col || (ind == col && !(l.v[j][col] == '-' &&
						  (l.v[j][col + 1] == ' ' ||
						   !l.v[j][col + 1]))))
			break;
		last = j;
	}
	while (last > i)
		lines_remove(&l, last--);
	/* the key's line: its value replaced, a comment after it kept */
	s = l.v[i];
	ve = s + col + strlen(key) + 1;
	while (*ve == ' ')
		ve++;
	ve = *ve == '#' ? s + col + strlen(key) + 1
			: value_end(s + col + strlen(key) + 1);
	{
		char *kl;

		if (asprintf(&kl, "%.*s%s%.*s%s", (int)(col + strlen(key) + 1),
			     s, one ? " " : "",
			     one ? (int)(nl ? vlen - 1 : vlen) : 0, value,
			     ve) < 0) {
			r = FL_ENOMEM;
			goto out;
		}
		free(l.v[i]);
		l.v[i] = kl;
	}
	/* a block value under it, two spaces deeper */
	for (const char *p = value; !one && *p && !r;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		r = lines_insertf(&l, ++last, "%*s%.*s", (int)(col + 2), "",
				  (int)n, p);
		p += n + (e != NULL);
	}
	if (!r && !(*out = lines_join(&l, outlen)))
		r = FL_ENOMEM;
out:
	if (r == FL_ENOMEM)
		fl_seterr(err, errlen, "out of memory");
	lines_free(&l);
	return r;
}
