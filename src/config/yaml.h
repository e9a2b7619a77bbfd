/*
 * yaml.h - reading a YAML configuration file into the core's node tree.
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
fl_node *fl_yaml_parse(const char *buf, size_t len, const char *name,
		       char *err, size_t errlen);

/*
 * Load the configuration at path into cfg: defaults, read, parse, apply and
 * validate (fl_config_apply). Returns 0, or FL_ENOENT/FL_EIO ("path: errno
 * text"), FL_EFORMAT (YAML syntax, "path:line: problem") or FL_ECONFIG
 * ("path:line: reason") with the message in err. cfg is unusable on error.
 */
int fl_config_load(fl_config *cfg, const char *path, char *err,
		   size_t errlen);

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
