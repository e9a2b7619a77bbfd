/*
 * yaml.c - libyaml events into the fl_node tree (see yaml.h).
 *
 * A note on the approach. libyaml offers a document loader, but it resolves
 * aliases silently and forgets whether a scalar was quoted once tags are
 * resolved, and it keeps no key lines. Driving the event parser ourselves
 * is short: every MAPPING_START or SEQUENCE_START makes a node that is
 * attached to its parent at once (so the tree always owns everything and one
 * fl_node_free() cleans up after any error) and pushed on a small stack; a
 * scalar inside a map alternates between key and value. The stack is a fixed
 * array, which is also the nesting limit, so hostile input cannot make us
 * recurse without bound; fl_node_free() recurses at most that deep.
 *
 * Errors carry the line libyaml reports (0-based there, 1-based here).
 */
#define FL_YAML_WANT_LIBYAML
#include <yaml.h> /* ours, then libyaml's: see the end of yaml.h */

#include "fl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 4096 /* per map or list: a config has a handful */

struct frame {
	fl_node *node;
	char *key; /* MAP: key waiting for its value, owned */
	int key_line;
};

struct builder {
	const char *name;
	char *err;
	size_t errlen;
	fl_node *root;
	struct frame stack[FL_YAML_MAX_DEPTH];
	int depth;
	int ndocs;
};

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int
bfail(struct builder *b, int rc, size_t line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!b->err || b->errlen == 0)
		return rc;
	n = snprintf(b->err, b->errlen, "%s:%zu: ", b->name, line);
	if (n >= 0 && (size_t)n < b->errlen) {
		va_start(ap, fmt);
		vsnprintf(b->err + n, b->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static fl_node *node_new(enum fl_node_kind kind, int line)
{
	fl_node *n = calloc(1, sizeof(*n));

	if (n) {
		n->kind = kind;
		n->line = line;
	}
	return n;
}

/*
 * Make room for one more entry. The capacity is implicit (4, then the next
 * power of two), so growth happens when n is 0 or a power of two >= 4; n
 * only moves once every array has room.
 */
static int node_reserve(fl_node *n)
{
	size_t cap;
	void *p;

	if (n->n != 0 && (n->n < 4 || (n->n & (n->n - 1))))
		return 0;
	cap = n->n ? n->n * 2 : 4;
	p = realloc(n->items, cap * sizeof(*n->items));
	if (!p)
		return -1;
	n->items = p;
	if (n->kind == FL_NODE_MAP) {
		p = realloc(n->keys, cap * sizeof(*n->keys));
		if (!p)
			return -1;
		n->keys = p;
		p = realloc(n->key_lines, cap * sizeof(*n->key_lines));
		if (!p)
			return -1;
		n->key_lines = p;
	}
	return 0;
}

/* Hand child to the innermost open node (or make it the root). */
static int attach(struct builder *b, fl_node *child)
{
	struct frame *f;
	fl_node *p;

	if (b->depth == 0) {
		if (b->root) {
			fl_node_free(child);
			return bfail(b, FL_EFORMAT, (size_t)child->line,
				     "more than one root node");
		}
		b->root = child;
		return FL_OK;
	}
	f = &b->stack[b->depth - 1];
	p = f->node;
	if (p->n >= MAX_ENTRIES) {
		int line = child->line;
		fl_node_free(child);
		return bfail(b, FL_EFORMAT, (size_t)line,
			     "more than %d entries in one map or list",
			     MAX_ENTRIES);
	}
	if (node_reserve(p)) {
		fl_node_free(child);
		return bfail(b, FL_ENOMEM, (size_t)p->line, "out of memory");
	}
	if (p->kind == FL_NODE_MAP) {
		p->keys[p->n] = f->key;
		p->key_lines[p->n] = f->key_line;
		f->key = NULL;
	}
	p->items[p->n++] = child;
	return FL_OK;
}

/* 1 if the innermost open node is a map waiting for a key. */
static int want_key(const struct builder *b)
{
	const struct frame *f;

	if (b->depth == 0)
		return 0;
	f = &b->stack[b->depth - 1];
	return f->node->kind == FL_NODE_MAP && !f->key;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev, int line)
{
	const char *text = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	int quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	fl_node *n;

	if (tag && strcmp(tag, YAML_STR_TAG))
		return bfail(b, FL_EFORMAT, (size_t)line,
			     "tag '%s' is not supported", tag);
	if (tag)
		quoted = 1;
	if (memchr(text, '\0', len))
		return bfail(b, FL_EFORMAT, (size_t)line,
			     "NUL character in a string");
	if (want_key(b)) {
		struct frame *f = &b->stack[b->depth - 1];
		for (size_t i = 0; i < f->node->n; i++)
			if (!strcmp(f->node->keys[i], text))
				return bfail(b, FL_EFORMAT, (size_t)line,
					     "duplicate key '%s' (first on "
					     "line %d)",
					     text, f->node->key_lines[i]);
		f->key = strdup(text);
		f->key_line = line;
		return f->key ? FL_OK
			      : bfail(b, FL_ENOMEM, (size_t)line,
				      "out of memory");
	}
	n = node_new(FL_NODE_SCALAR, line);
	if (!n || !(n->scalar = strdup(text))) {
		free(n);
		return bfail(b, FL_ENOMEM, (size_t)line, "out of memory");
	}
	n->quoted = quoted;
	return attach(b, n);
}

static int on_open(struct builder *b, enum fl_node_kind kind, int line)
{
	fl_node *n;
	int rc;

	if (want_key(b))
		return bfail(b, FL_EFORMAT, (size_t)line,
			     "map keys must be plain words, not %s",
			     kind == FL_NODE_MAP ? "maps" : "lists");
	if (b->depth >= FL_YAML_MAX_DEPTH)
		return bfail(b, FL_EFORMAT, (size_t)line,
			     "nesting deeper than %d levels",
			     FL_YAML_MAX_DEPTH);
	n = node_new(kind, line);
	if (!n)
		return bfail(b, FL_ENOMEM, (size_t)line, "out of memory");
	rc = attach(b, n);
	if (rc)
		return rc;
	b->stack[b->depth].node = n;
	b->stack[b->depth].key = NULL;
	b->depth++;
	return FL_OK;
}

static int on_close(struct builder *b)
{
	if (b->depth > 0) {
		b->depth--;
		free(b->stack[b->depth].key);
		b->stack[b->depth].key = NULL;
	}
	return FL_OK;
}

/* One event: returns FL_OK, an error (message set), or FL_EEOF at the end. */
static int on_event(struct builder *b, const yaml_event_t *ev)
{
	int line = (int)ev->start_mark.line + 1;
	const yaml_char_t *anchor = NULL;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		break;
	default:
		break;
	}
	if (anchor)
		return bfail(b, FL_EFORMAT, (size_t)line,
			     "anchors (&%s) are not supported", anchor);
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->ndocs > 1)
			return bfail(b, FL_EFORMAT, (size_t)line,
				     "more than one document ('---'); a "
				     "configuration is one document");
		return FL_OK;
	case YAML_ALIAS_EVENT:
		return bfail(b, FL_EFORMAT, (size_t)line,
			     "aliases (*%s) are not supported",
			     ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev, line);
	case YAML_SEQUENCE_START_EVENT:
		return on_open(b, FL_NODE_SEQ, line);
	case YAML_MAPPING_START_EVENT:
		return on_open(b, FL_NODE_MAP, line);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_close(b);
	case YAML_STREAM_END_EVENT:
		return FL_EEOF;
	default:
		return FL_OK;
	}
}

/* The parse with its error code kept (fl_yaml_apply reports it). */
static int parse(const char *buf, size_t len, const char *name, char *err,
		 size_t errlen, fl_node **out)
{
	struct builder b = { 0 };
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = FL_OK;

	*out = NULL;
	b.name = name ? name : "<config>";
	b.err = err;
	b.errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
	if (!yaml_parser_initialize(&parser))
		return bfail(&b, FL_ENOMEM, 1, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (rc == FL_OK) {
		if (!yaml_parser_parse(&parser, &ev)) {
			if (parser.error == YAML_MEMORY_ERROR)
				rc = bfail(&b, FL_ENOMEM, 1, "out of memory");
			else if (parser.context)
				rc = bfail(&b, FL_EFORMAT,
					   parser.problem_mark.line + 1,
					   "%s (%s, line %zu)",
					   parser.problem ? parser.problem
							  : "syntax error",
					   parser.context,
					   parser.context_mark.line + 1);
			else
				rc = bfail(&b, FL_EFORMAT,
					   parser.problem_mark.line + 1, "%s",
					   parser.problem ? parser.problem
							  : "syntax error");
			break;
		}
		rc = on_event(&b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	while (b.depth > 0)
		on_close(&b);
	if (rc == FL_EEOF && !b.root)
		rc = bfail(&b, FL_EFORMAT, 1, "empty document");
	if (rc != FL_EEOF) {
		fl_node_free(b.root);
		return rc;
	}
	*out = b.root;
	return FL_OK;
}

fl_node *fl_yaml_parse(const char *buf, size_t len, const char *name, char *err,
		       size_t errlen)
{
	fl_node *root;

	parse(buf, len, name, err, errlen, &root);
	return root;
}

/* Read a whole file (at most FL_YAML_MAX_SIZE bytes) into *out. */
static int read_file(const char *path, char **out, size_t *outlen, char *err,
		     size_t errlen)
{
	FILE *f;
	char *buf = NULL, *p;
	size_t len = 0, cap = 0, got;
	int rc = FL_OK;

	f = fopen(path, "rb");
	if (!f) {
		rc = errno == ENOENT ? FL_ENOENT : FL_EIO;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			p = realloc(buf, cap);
			if (!p) {
				rc = FL_ENOMEM;
				snprintf(err, errlen, "%s: out of memory",
					 path);
				goto out_free;
			}
			buf = p;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (len > FL_YAML_MAX_SIZE) {
			rc = FL_EFORMAT;
			snprintf(err, errlen, "%s: larger than %u bytes", path,
				 FL_YAML_MAX_SIZE);
			goto out_free;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		rc = FL_EIO;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out_free;
	}
	fclose(f);
	*out = buf;
	*outlen = len;
	return FL_OK;

out_free:
	free(buf);
	fclose(f);
	return rc;
}

int fl_yaml_apply(const fl_section *root, void *obj, const char *text,
		  size_t len, const char *name, char *err, size_t errlen)
{
	fl_node *doc;
	int rc;

	if (!name)
		name = "<config>";
	rc = parse(text, len, name, err, errlen, &doc);
	if (rc)
		return rc;
	rc = fl_schema_apply(root, obj, doc, name, err, errlen);
	fl_node_free(doc);
	return rc;
}

int fl_yaml_apply_file(const fl_section *root, void *obj, const char *path,
		       char *err, size_t errlen)
{
	char dummy[1];
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (!err || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (!path)
		return FL_EINVAL;
	rc = read_file(path, &buf, &len, err, errlen);
	if (rc)
		return rc;
	rc = fl_yaml_apply(root, obj, buf, len, path, err, errlen);
	free(buf);
	return rc;
}

int fl_config_parse(fl_config *cfg, const char *text, size_t len,
		    const char *name, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!cfg || !text)
		return FL_EINVAL;
	fl_config_defaults(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", name ? name : "<config>");
	return fl_yaml_apply(fl_config_schema(), cfg, text, len, name, err,
			     errlen);
}

int fl_config_load(fl_config *cfg, const char *path, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!cfg || !path)
		return FL_EINVAL;
	fl_config_defaults(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	return fl_yaml_apply_file(fl_config_schema(), cfg, path, err, errlen);
}
