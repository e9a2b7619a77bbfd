/*
 * yaml.h - reading a YAML configuration file into the core's node tree, and
 * loading a file or a text through a schema (src/core/schema.h).
 *
 * libyaml does the parsing; this module keeps only what the configuration
 * needs: maps, sequences and scalars with their 1-based line numbers, and
 * whether a scalar was quoted (a quoted "5" is a string, never a number).
 * It refuses what would make a configuration hard to read or review:
 * anchors and aliases, more than one document, duplicate map keys, keys
 * that are not scalars, nesting deeper than FL_YAML_MAX_DEPTH.
 */
#ifndef FL_YAML_H
#define FL_YAML_H

#include <stddef.h>

#include "config.h"

#define FL_YAML_MAX_DEPTH 64
#define FL_YAML_MAX_SIZE (4u << 20) /* bytes of a configuration file */

/*
 * Parse len bytes of buf (need not be NUL-terminated) named name in messages.
 * Returns a tree the caller frees with fl_node_free(), or NULL with
 * "name:line: reason" in err (errlen bytes, NUL-terminated); an empty
 * document is an error too.
 */
fl_node *fl_yaml_parse(const char *buf, size_t len, const char *name, char *err,
		       size_t errlen);

/*
 * Parse len bytes of text (named name in messages and the base of relative
 * paths) and apply them to obj against a schema's root section (schema.h),
 * with its checks. obj must hold the schema's defaults. Returns 0, or
 * FL_EFORMAT (YAML syntax, "name:line: problem"), FL_ENOMEM or FL_ECONFIG
 * ("name:line: reason") with the message in err. obj is unusable on error.
 */
int fl_yaml_apply(const fl_section *root, void *obj, const char *text,
		  size_t len, const char *name, char *err, size_t errlen);

/*
 * The same from the file at path (at most FL_YAML_MAX_SIZE bytes); reading
 * adds FL_ENOENT/FL_EIO ("path: errno text") and FL_EFORMAT for a file too
 * large.
 */
int fl_yaml_apply_file(const fl_section *root, void *obj, const char *path,
		       char *err, size_t errlen);

/*
 * Load the edge's configuration at path into cfg: defaults, read, parse,
 * apply and validate (the edge's schema, config.h). Returns as
 * fl_yaml_apply_file(). cfg is unusable on error.
 */
int fl_config_load(fl_config *cfg, const char *path, char *err, size_t errlen);

/*
 * The same from len bytes of text named name (a configuration that did not
 * come from a file, e.g. one sent to the hub for a device): relative paths
 * resolve against name's directory part, if it has one.
 */
int fl_config_parse(fl_config *cfg, const char *text, size_t len,
		    const char *name, char *err, size_t errlen);

#endif /* FL_YAML_H */

/*
 * This header shadows libyaml's own <yaml.h> on the include path of the
 * fl_config library. yaml.c defines FL_YAML_WANT_LIBYAML and includes
 * <yaml.h> with angle brackets, which finds this file through -Isrc/config;
 * #include_next then continues the search after that directory and reaches
 * the real libyaml header. Other users never see libyaml's declarations.
 */
#if defined(FL_YAML_WANT_LIBYAML) && !defined(FL_YAML_HAVE_LIBYAML)
#define FL_YAML_HAVE_LIBYAML
#include_next <yaml.h>
#endif
