/*
 * secrets.c - secret values masked and put back (see secrets.h).
 *
 * The parsed tree says where the secrets are (a walk of the table beside
 * the tree, so "password" is a secret under mqtt and nothing elsewhere);
 * the changes are then made in the text by lines (fl_yaml_set), which keeps
 * a person's comments, or, for a secret below a list or a nested map,
 * in the tree, written again.
 */
#include "secrets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"
#include "yaml.h"
#include "yamledit.h"

#define CHANGES_MAX 16
#define KEY_PATH_MAX 512

struct change {
	char path[KEY_PATH_MAX];
	fl_node *node;
	const char *value; /* borrowed: the mask, or a scalar of old */
};

struct walk {
	const fl_section *root;
	int keep;         /* 0: mask; 1: put old's values back */
	fl_node *old;     /* keep: the file the values come from */
	const char *want; /* a lookup in old: the path sought */
	fl_node *found;
	struct change ch[CHANGES_MAX];
	int n, overflow;
};

typedef void (*secret_fn)(fl_node *n, const char *path, struct walk *w);

/* fn on every scalar of n whose row under sec is FL_F_SECRET, with its
 * path ("mqtt.password", "a.list[2].key"). */
static void secrets(const fl_section *sec, fl_node *n, const char *path,
		    secret_fn fn, struct walk *w)
{
	char p[KEY_PATH_MAX];

	if (!sec || n->kind != FL_NODE_MAP)
		return;
	for (size_t i = 0; i < n->n; i++) {
		const fl_setting *s = fl_schema_key(sec, n->keys[i]);
		fl_node *v = n->items[i];
		int len;

		if (!s)
			continue;
		len = snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "",
			       n->keys[i]);
		if (len < 0 || (size_t)len >= sizeof(p))
			continue; /* no schema path is this long */
		if (s->type == FL_T_MAP)
			secrets(s->sub, v, p, fn, w);
		else if (s->type == FL_T_LIST && v->kind == FL_NODE_SEQ)
			for (size_t j = 0; j < v->n; j++) {
				char q[KEY_PATH_MAX + 24];
				int m = snprintf(q, sizeof(q), "%s[%zu]", p, j);

				if (m >= 0 && (size_t)m < sizeof(q))
					secrets(s->sub, v->items[j], q, fn, w);
			}
		else if ((s->flags & FL_F_SECRET) && v->kind == FL_NODE_SCALAR)
			fn(v, p, w);
	}
}

static void find_one(fl_node *n, const char *path, struct walk *w)
{
	if (!strcmp(path, w->want))
		w->found = n;
}

static void change_one(fl_node *n, const char *path, struct walk *w)
{
	const char *value = NULL;

	if (!w->keep && n->scalar[0] && strcmp(n->scalar, FL_SECRET_MASK)) {
		value = FL_SECRET_MASK;
	} else if (w->keep && !strcmp(n->scalar, FL_SECRET_MASK)) {
		struct walk f = { .root = w->root, .want = path };

		secrets(w->root, w->old, "", find_one, &f);
		if (f.found && strcmp(f.found->scalar, FL_SECRET_MASK))
			value = f.found->scalar;
	}
	if (!value)
		return;
	if (w->n == CHANGES_MAX) {
		w->overflow = 1;
		return;
	}
	snprintf(w->ch[w->n].path, KEY_PATH_MAX, "%s", path);
	w->ch[w->n].node = n;
	w->ch[w->n].value = value;
	w->n++;
}

/* "section.key": a change the line editor can make. */
static int by_lines(const char *path, char *section, char *key)
{
	const char *dot = strchr(path, '.');

	if (!dot || strchr(dot + 1, '.') || strchr(path, '[') ||
	    (size_t)(dot - path) >= 65 || strlen(dot + 1) >= 65)
		return 0;
	snprintf(section, 65, "%.*s", (int)(dot - path), path);
	snprintf(key, 65, "%s", dot + 1);
	return 1;
}

/* w's changes made to text (its tree doc) into *out. */
static int apply(struct walk *w, fl_node *doc, const char *text, size_t len,
		 const char *name, char **out, size_t *outlen, char *err,
		 size_t errlen)
{
	char sec[CHANGES_MAX][65], key[CHANGES_MAX][65], *val[CHANGES_MAX];
	fl_yaml_kv kv[CHANGES_MAX];
	int lines = 1, rc = 0, i;
	size_t need;

	if (w->overflow) {
		fl_seterr(err, errlen, "%s: more than %d secrets", name,
			  CHANGES_MAX);
		return FL_EINVAL;
	}
	for (i = 0; i < w->n && lines; i++)
		lines = by_lines(w->ch[i].path, sec[i], key[i]);
	if (w->n == 0) {
		if (!(*out = malloc(len + 1)))
			return FL_ENOMEM;
		memcpy(*out, text, len);
		(*out)[len] = 0;
		*outlen = len;
		return 0;
	}
	if (lines) {
		memset(val, 0, sizeof(val));
		for (i = 0; i < w->n && rc == 0; i++) {
			need = fl_yaml_quote(w->ch[i].value, NULL, 0) + 1;
			if (!(val[i] = malloc(need)))
				rc = FL_ENOMEM;
			else
				fl_yaml_quote(w->ch[i].value, val[i], need);
			kv[i] = (fl_yaml_kv){ sec[i], key[i], val[i] };
		}
		if (rc == 0)
			rc = fl_yaml_set(text, len, name, kv, (size_t)w->n, out,
					 outlen, err, errlen);
		for (i = 0; i < w->n; i++)
			free(val[i]);
		if (rc != FL_EFORMAT && rc != FL_EINVAL)
			return rc;
	}
	/* what the line editor cannot do (a secret in a list, a value over
	 * lines it cannot edit): the tree written again */
	for (i = 0; i < w->n; i++) {
		char *c = strdup(w->ch[i].value);

		if (!c)
			return FL_ENOMEM;
		free(w->ch[i].node->scalar);
		w->ch[i].node->scalar = c;
		w->ch[i].node->quoted = 1;
	}
	need = fl_node_dump(doc, NULL, 0) + 1;
	if (!(*out = malloc(need)))
		return FL_ENOMEM;
	*outlen = fl_node_dump(doc, *out, need);
	return 0;
}

/* text's secrets changed as w says (mask, or keep from w->old). */
static int rewrite(struct walk *w, const char *text, size_t len,
		   const char *name, char **out, size_t *outlen, char *err,
		   size_t errlen)
{
	fl_node *doc = fl_yaml_parse(text, len, name, err, errlen);
	int rc;

	*out = NULL;
	*outlen = 0;
	if (!doc)
		return FL_EFORMAT;
	secrets(w->root, doc, "", change_one, w);
	rc = apply(w, doc, text, len, name, out, outlen, err, errlen);
	fl_node_free(doc);
	return rc;
}

int fl_secrets_mask(const fl_section *root, const char *text, size_t len,
		    const char *name, char **out, size_t *outlen, char *err,
		    size_t errlen)
{
	struct walk w = { .root = root };

	return rewrite(&w, text, len, name, out, outlen, err, errlen);
}

int fl_secrets_keep(const fl_section *root, const char *text, size_t len,
		    const char *old, size_t oldlen, const char *name,
		    char **out, size_t *outlen, char *err, size_t errlen)
{
	struct walk w = { .root = root, .keep = 1 };
	int rc;

	*out = NULL;
	*outlen = 0;
	w.old = fl_yaml_parse(old, oldlen, name, err, errlen);
	if (!w.old)
		return FL_EFORMAT;
	rc = rewrite(&w, text, len, name, out, outlen, err, errlen);
	fl_node_free(w.old);
	return rc;
}
