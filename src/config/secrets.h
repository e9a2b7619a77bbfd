/*
 * secrets.h - the secret values of a configuration file's text (the rows
 * a table marks FL_F_SECRET: the edge's mqtt.password) masked for showing
 * or sending away, and put back from the file they came from.
 *
 * A secret never leaves its device: config_get answers with the file
 * masked (FL_SECRET_MASK for each value set), so the hub never holds the
 * device's broker password; a configuration sent back with the mask keeps
 * the device's own value (docs/mqtt.md, "Remote configuration"). The hub
 * masks too, as a defence, with the same functions (docs/devices.md).
 *
 * Pure text in, text out: no I/O. The text keeps its comments and layout
 * when every secret changed is a key of a top-level section (yamledit.h);
 * a secret deeper in the file has the text written again from its parsed
 * tree (fl_node_dump: comments lost).
 */
#ifndef FL_CONFIG_SECRETS_H
#define FL_CONFIG_SECRETS_H

#include <stddef.h>

#include "schema.h"

/*
 * text (len bytes, named name in messages) with each secret of root set
 * to a non-empty value written as FL_SECRET_MASK, into *out (malloc'd,
 * NUL-terminated, *outlen bytes; the caller frees). 0, FL_EFORMAT (text
 * is not YAML: the reason in err) or FL_ENOMEM.
 */
int fl_secrets_mask(const fl_section *root, const char *text, size_t len,
		    const char *name, char **out, size_t *outlen, char *err,
		    size_t errlen);

/*
 * text with each secret that reads FL_SECRET_MASK given the value of the
 * same key (same path) in old, into *out as fl_secrets_mask: a masked file
 * sent back keeps the values it had. A mask that old does not have (or
 * has masked too) stays. 0, FL_EFORMAT (either does not parse: which, in
 * err) or FL_ENOMEM.
 */
int fl_secrets_keep(const fl_section *root, const char *text, size_t len,
		    const char *old, size_t oldlen, const char *name,
		    char **out, size_t *outlen, char *err, size_t errlen);

#endif /* FL_CONFIG_SECRETS_H */
