/*
 * schema.h - the configuration engine: a schema is a table of settings, and
 * one walker applies, dumps and documents any such table.
 *
 * A note on the model (redis's standardConfig). Every key of a configuration
 * is one row, struct fl_setting: its name, its type, where it lives in the C
 * struct (offsetof), its default, its bounds and a help line. Rows are
 * grouped in sections (struct fl_section), each one const array. A row of
 * type FL_T_MAP points to a nested section stored inside the same struct, a
 * row of type FL_T_LIST to a section repeated in an array with a count, and a
 * row of type FL_T_CUSTOM to a small handler triple (parse, dump, default)
 * for the few values that are not a scalar. A section may end with a finish
 * hook for the checks that involve several keys.
 *
 * The edge's configuration (src/core/config.c) and the hub's
 * (src/hub/hubconf.c) are two such tables. Neither file walks a document:
 * defaults, validation, the effective-configuration dump, the sample file
 * and the markdown reference all come from the walker here, so the two
 * programs type, bound and report their keys the same way, and the docs
 * cannot promise a key the parser does not accept.
 *
 * The engine is pure: it walks a parsed tree (fl_node, built from YAML by
 * src/config/yaml.c with line numbers) and writes into caller buffers.
 *
 * Ownership: tables are static const data; objects are caller-owned plain
 * structs (no heap); fl_node trees are owned by whoever parsed them.
 */
#ifndef FL_SCHEMA_H
#define FL_SCHEMA_H

#include <stddef.h>

/*
 * A parsed YAML document: a tree of maps, sequences and scalars, each with the
 * 1-based line it started on. Built by src/config/yaml.c; the tree owns all
 * its strings. fl_node_free() frees a whole tree and accepts NULL.
 */
enum fl_node_kind { FL_NODE_SCALAR, FL_NODE_MAP, FL_NODE_SEQ };

typedef struct fl_node {
	enum fl_node_kind kind;
	int line;
	char *scalar;           /* SCALAR: the text */
	int quoted;             /* SCALAR: was quoted (never a number/bool) */
	char **keys;            /* MAP: keys[i] -> items[i] */
	struct fl_node **items; /* MAP values or SEQ elements */
	size_t n;
	int *key_lines; /* MAP: line of keys[i]; NULL: use items[i] */
} fl_node;

void fl_node_free(fl_node *n);

enum fl_stype {
	FL_T_ID,   /* [A-Za-z0-9_.-], 1..size-1 chars */
	FL_T_TEXT, /* UTF-8 text */
	FL_T_PATH, /* UTF-8 path, resolved against the config's directory */
	FL_T_INT,
	FL_T_SIZE, /* size_t, a whole number */
	FL_T_NUM,  /* finite double */
	FL_T_BOOL,
	FL_T_MAP,   /* nested section stored at off */
	FL_T_LIST,  /* array of a section at off, count at count_off */
	FL_T_CUSTOM /* handled by custom */
};

#define FL_F_REQ 1u    /* the key must be present */
#define FL_F_SECRET 2u /* the dump writes FL_SECRET_MASK for a value set */

/* What a secret value set (a row marked FL_F_SECRET) reads as wherever it
 * is shown or sent away from its device: the dump, config_get, the hub. */
#define FL_SECRET_MASK "***"
#define FL_F_RESTART 4u /* in a reloadable section: still needs a restart */
/* a URL: the dump writes its password (fl_url_redact) as FL_SECRET_MASK,
 * the rest as set (a database server's address is no secret) */
#define FL_F_URL_SECRET 8u

#define FL_NO_OFF ((size_t)-1)

/* Where messages go while a document is applied. */
typedef struct fl_schema_ctx {
	const char *file; /* names the source in messages */
	char *err;
	size_t errlen;
} fl_schema_ctx;

/* An snprintf-style writer: pos counts what would have been written. */
typedef struct fl_schema_out {
	char *buf;
	size_t len;
	size_t pos;
	int comments; /* the sample: help lines as comments */
} fl_schema_out;

struct fl_setting;
struct fl_section;

/* A value that is not a scalar: its parser, its YAML and its default. */
typedef struct fl_custom {
	int (*parse)(fl_schema_ctx *c, const struct fl_setting *s, void *obj,
		     const fl_node *n, int line);
	void (*dump)(fl_schema_out *o, const struct fl_setting *s,
		     const void *obj);
	void (*defaults)(const struct fl_setting *s, void *obj);
	const char *type_doc;  /* the type column of the docs */
	const char *range_doc; /* its range column; NULL: "lo..hi items" */
} fl_custom;

typedef struct fl_setting {
	const char *name;
	enum fl_stype type;
	unsigned flags;
	size_t off;                   /* field offset in the section's struct */
	size_t size;                  /* strings: buffer; lists: item size */
	size_t count_off;             /* FL_T_LIST: offset of the int count */
	double def;                   /* numeric and boolean default */
	const char *sdef;             /* string default; docs text for others
				       * (a number's default set at load) */
	double min, max;              /* value range; list/string: item count */
	const struct fl_section *sub; /* FL_T_MAP, FL_T_LIST */
	const fl_custom *custom;      /* FL_T_CUSTOM */
	const char *help;
} fl_setting;

typedef struct fl_section {
	const char *name;  /* in messages: "unknown key 'x' in lane" */
	const char *title; /* docs heading */
	const char *intro; /* docs paragraph */
	const fl_setting *keys;
	size_t nkeys;
	size_t line_off; /* int line field, or FL_NO_OFF */
	size_t id_off;   /* char id[] for duplicate checks, or FL_NO_OFF */
	int (*finish)(fl_schema_ctx *c, void *obj, const fl_node *map);
	int reload; /* 1: its keys (but FL_F_RESTART ones) take effect
			    * when the program reloads the file */
} fl_section;

/* The typing rules of every configuration, for the docs' opening. */
#define FL_SCHEMA_DOC_TYPING                                                   \
	"Typing rules: numbers are plain (a quoted `\"5\"` is a string); "     \
	"`true`,\n`false`, `yes`, `no` are booleans; `.nan` and `.inf` are "   \
	"refused.\nAnchors, aliases, several documents and duplicate keys "    \
	"are refused.\n"

/* Set every key of sec in obj to its default (lists empty). */
void fl_schema_defaults(const fl_section *sec, void *obj);

/*
 * Apply a parsed document to obj (which must hold the defaults) against the
 * root section and validate it. file names the source in messages (and is
 * the base of relative FL_T_PATH values). On error returns FL_ECONFIG and
 * writes "file:line: reason" into err (errlen bytes, NUL-terminated); obj is
 * then partially filled and must not be used. A NULL doc is an error too.
 */
int fl_schema_apply(const fl_section *root, void *obj, const fl_node *doc,
		    const char *file, char *err, size_t errlen);

/*
 * Write header (verbatim, may be NULL), then obj as block YAML: every key of
 * root in table order, defaults included, FL_F_SECRET values as "***" (an
 * FL_F_URL_SECRET URL with its password so). With
 * comments each key carries its help line as a YAML comment (the sample
 * configuration). snprintf semantics: returns what would have been written.
 */
size_t fl_schema_dump(const fl_section *root, const void *obj,
		      const char *header, int comments, char *buf, size_t len);

/*
 * Write the markdown reference: intro (verbatim), then per section of
 * sections (n of them, in that order) a heading, its intro and a table of
 * every key (with a Reload column in a reloadable section). snprintf
 * semantics.
 */
size_t fl_schema_reference(const char *intro, const fl_section *const *sections,
			   size_t n, char *buf, size_t len);

/* The row named name of sec, or NULL. */
const fl_setting *fl_schema_key(const fl_section *sec, const char *name);

/*
 * Write a parsed document back as block YAML, as it is: no schema, no
 * defaults added, every value as written (a plain scalar stays plain, so a
 * number stays a number; a quoted one stays a string). Maps are written in
 * block style, sequences of scalars on one line; comments are not kept
 * (the tree has none). What the hub writes when it changes part of a
 * device's configuration. snprintf semantics.
 */
size_t fl_node_dump(const fl_node *doc, char *buf, size_t len);

/*
 * The path of the deepest key on line in doc, as "cameras[cam-1].lanes
 * [lane-a].dwell_s" (a list item named by its "id", else its index), into
 * buf: where a "file:line: reason" from fl_schema_apply points, for a
 * person or a form. "" when no key is on that line. snprintf semantics.
 */
size_t fl_node_key_at(const fl_node *doc, int line, char *buf, size_t len);

/* Helpers for custom types and finish hooks. */

/* The line of key in map (a finish hook's message about one key), or the
 * map's own line when the key is absent. */
int fl_schema_key_line(const fl_node *map, const char *key);

/* Write "file:line: " and the message into c->err; returns FL_ECONFIG. */
int fl_schema_fail(fl_schema_ctx *c, int line, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

/* printf into o. */
void fl_schema_printf(fl_schema_out *o, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/* A YAML double-quoted string; non-ASCII UTF-8 passes through. */
void fl_schema_out_quoted(fl_schema_out *o, const char *s);

/* A number that reads back to the same double in practice. */
void fl_schema_out_num(fl_schema_out *o, double v);

/*
 * A plain (unquoted) scalar as a finite decimal number. Only digits, a sign,
 * a point and an exponent are allowed, so "nan", "inf", ".inf" and hex forms
 * are refused along with words. Returns 0 and sets *v, or -1.
 */
int fl_schema_num(const fl_node *n, double *v);

/*
 * Resolve a relative path against the directory of file into dst. Empty
 * values, absolute paths and URLs ("://") are copied unchanged, as is any
 * path when file has no directory part. Returns 0, or -1 if it does not fit.
 */
int fl_schema_resolve_path(char *dst, size_t size, const char *val,
			   const char *file);

#endif /* FL_SCHEMA_H */

/*
 * Short names for the files that write tables (src/core/config.c,
 * src/hub/hubconf.c): define FL_SCHEMA_TABLE before including this header
 * and rows read as "NUM(fl_lane_conf, dwell_s, T_NUM, 60, 1, 86400, help)".
 * Outside the include guard, so it works after an earlier plain include.
 */
#if defined(FL_SCHEMA_TABLE) && !defined(FL_SCHEMA_HAVE_TABLE_NAMES)
#define FL_SCHEMA_HAVE_TABLE_NAMES
#define T_ID FL_T_ID
#define T_TEXT FL_T_TEXT
#define T_PATH FL_T_PATH
#define T_INT FL_T_INT
#define T_SIZE FL_T_SIZE
#define T_NUM FL_T_NUM
#define T_BOOL FL_T_BOOL
#define T_MAP FL_T_MAP
#define T_LIST FL_T_LIST
#define T_CUSTOM FL_T_CUSTOM
#define F_REQ FL_F_REQ
#define F_SECRET FL_F_SECRET
#define F_RESTART FL_F_RESTART
#define F_URL_SECRET FL_F_URL_SECRET
#define NO_OFF FL_NO_OFF

/* A string (T_ID, T_TEXT, T_PATH) named like its field. */
#define STR(st, field, ty, fl, dflt, help)                                     \
	{                                                                      \
#field, ty, fl, offsetof(st, field), sizeof(((st *)0)->field), \
			0, 0, dflt, 0, 0, NULL, NULL, help                     \
	}
/* A number or boolean named like its field. */
#define NUM(st, field, ty, dflt, lo, hi, help)                                 \
	{                                                                      \
#field, ty, 0, offsetof(st, field), 0, 0, dflt, NULL, lo, hi,  \
			NULL, NULL, help                                       \
	}
/* A custom value (type: a const fl_custom) with lo..hi items. */
#define CUSTOM(st, name, field, type, dflt, lo, hi, help)                      \
	{                                                                      \
		name, T_CUSTOM, 0, offsetof(st, field), 0, 0, 0, dflt, lo, hi, \
			NULL, &type, help                                      \
	}
/* A nested section (sub: a const fl_section) stored in field. */
#define MAP(st, name, field, sub, help)                                        \
	{                                                                      \
		name, T_MAP, 0, offsetof(st, field), 0, 0, 0, NULL, 0, 0,      \
			&sub, NULL, help                                       \
	}
/* A list of lo..hi sections in the array field, its int count in count. */
#define LIST(st, name, field, count, sub, lo, hi, help)                        \
	{                                                                      \
		name, T_LIST, 0, offsetof(st, field),                          \
			sizeof(((st *)0)->field[0]), offsetof(st, count), 0,   \
			NULL, lo, hi, &sub, NULL, help                         \
	}
#endif
