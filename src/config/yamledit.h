/*
 * yamledit.h - set a few keys in a YAML configuration file's text, keeping
 * everything else as it was: other sections, comments, order, blank lines.
 *
 * What firelane-edge --enrol does to the device's configuration (the
 * device id and site, the broker account, the hub key): a person's file,
 * perhaps the packaged sample with a comment on every line, gets those
 * values and nothing else changes. Only top-level sections holding
 * scalars are edited (device:, mqtt:). A section in block style keeps its
 * lines and their comments, the value of a key present is replaced in
 * place (with its indented continuation lines, if it had any), a key
 * absent is added at the end of its section, a section
 * absent is added at the end of the file. A section in flow style
 * (`device: {id: a, site: b}`) is rewritten in block style first (a flow
 * map holds no comments to lose).
 *
 * Pure text in, text out: no I/O. The caller checks that the result is
 * still a valid configuration (fl_config_parse) before writing it.
 */
#ifndef FL_CONFIG_YAMLEDIT_H
#define FL_CONFIG_YAMLEDIT_H

#include <stddef.h>

/* One key to set: section.key = value, where value is YAML as written
 * (a number, or a string through fl_yaml_quote). */
typedef struct fl_yaml_kv {
	const char *section;
	const char *key;
	const char *value;
} fl_yaml_kv;

/*
 * The text (len bytes, not necessarily NUL-terminated) with the n keys of
 * kv set, into *out (malloc'd, NUL-terminated, *outlen bytes; the caller
 * frees). The result is parsed again before it is handed out: every key
 * set reads back as its value, or nothing is. 0, or FL_EFORMAT (the text
 * is not YAML, a section to edit is not a map, or a key cannot be set by
 * lines, e.g. a quoted value over lines that are not indented: the reason
 * in err), FL_EINVAL (a section or key that is not a plain name, a value
 * with a newline), FL_ENOMEM.
 */
int fl_yaml_set(const char *text, size_t len, const char *name,
		const fl_yaml_kv *kv, size_t n, char **out, size_t *outlen,
		char *err, size_t errlen);

/*
 * The text with the value of `key` on line `line` (1-based, as the parser
 * numbers lines: fl_node's key_lines) replaced by `value`, keeping every
 * other line as it was. The key may be at any depth of maps written in
 * block style ("    lanes:", or "  - lanes:" as an item's first key).
 * value is YAML text written from column 0 (what fl_node_dump writes):
 * one line goes after "key: ", more lines go under the key, indented by
 * two more spaces than the key. The old value is the rest of the key's
 * line up to a comment and the lines after it that are indented more than
 * the key, or as much and start with "- " (a list written at its key's
 * indentation); blank lines and comments at its end stay, they belong to
 * what follows. Comments inside the old value go with it.
 *
 * Into *out (malloc'd, NUL-terminated, *outlen bytes). 0, FL_EFORMAT
 * (no "key:" on that line: a map in flow style, a wrong line), FL_EINVAL
 * (an empty value: write "[]" or "{}"), FL_ENOMEM.
 * The caller checks the result (parses it) before using it.
 */
int fl_yaml_set_block(const char *text, size_t len, int line, const char *key,
		      const char *value, char **out, size_t *outlen, char *err,
		      size_t errlen);

/* s as a YAML double-quoted scalar into buf (snprintf semantics: returns
 * the length it needs; control characters and non-ASCII bytes are kept
 * as UTF-8, '"', '\\' and control characters escaped). */
size_t fl_yaml_quote(const char *s, char *buf, size_t len);

#endif /* FL_CONFIG_YAMLEDIT_H */
