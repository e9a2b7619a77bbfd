/*
 * devconf.h - a device's configuration file as the hub edits it
 * (docs/devices.md): validated with the edge's own schema, its lanes as
 * JSON for the lane editor, and lanes from the editor written back into
 * the file.
 *
 * Everything here goes through the edge's schema table (src/core/config.c)
 * and its YAML reader: the hub refuses exactly what the edge would, with
 * the same words, and the lane settings the editor shows are the table's
 * rows. No I/O; any thread.
 *
 * Ownership: json_t results are new references (the caller decrefs);
 * strings written into *out are malloc'd (the caller frees).
 */
#ifndef FL_HUB_DEVCONF_H
#define FL_HUB_DEVCONF_H

#include <stddef.h>

#include <jansson.h>

/* The largest configuration the hub keeps or sends (the config command's
 * limit, docs/mqtt.md). */
#define HUB_DEVCONF_MAX (256u * 1024u)

/*
 * Validate yaml (len bytes) as the edge would load it. 0, or FL_ECONFIG /
 * FL_EFORMAT with *why a new object {"error", "key", "line", "reason"}:
 * error the whole "edge.yaml:LINE: reason", key the path of the key on
 * that line ("cameras[cam-1].lanes[a].dwell_s", "" when none), line its
 * number (0 when none). FL_ENOMEM: *why NULL.
 */
int hub_devconf_check(const char *yaml, size_t len, json_t **why);

/*
 * The device's configuration for the editor: {"device", "site",
 * "cameras": [{"id", "name", "width", "height", "lanes": [{"id", "name",
 * "polygon": [[x, y], ...], every other lane setting by its key}]}]} with
 * every lane setting's effective value (defaults included). NULL when
 * yaml is not valid (hub_devconf_check says why) or on no memory.
 */
json_t *hub_devconf_json(const char *yaml, size_t len);

/*
 * Replace the lanes of the cameras in cameras (a JSON array of {"id",
 * "lanes": [...]} as hub_devconf_json gives them) in yaml and write the
 * new file into *out (malloc'd): every other key as it was written. A
 * lane key the schema does not have is left for the check to refuse.
 * 0; FL_ENOENT with err naming a camera the file does not have;
 * FL_EFORMAT with err (yaml does not parse, a lane is not an object);
 * FL_ENOMEM. The result is not validated: hub_devconf_check it.
 */
int hub_devconf_replace_lanes(const char *yaml, size_t len,
			      const json_t *cameras, char **out, char *err,
			      size_t errlen);

/*
 * Check one lane polygon (a JSON array of [x, y]) with the edge's own
 * rules (3..16 points, no crossing edges, an area): 0, or FL_ECONFIG
 * with the reason in err ("polygon is self-intersecting ...").
 */
int hub_devconf_check_polygon(const json_t *polygon, char *err, size_t errlen);

/*
 * The file with every secret value (a row marked FL_F_SECRET in the
 * edge's table: mqtt.password) written as FL_SECRET_MASK, into *out
 * (malloc'd): what the web API shows. The device masks its own file
 * before it sends it (config_get), so this is a defence: a file stored
 * before the device did, or written by hand, still shows no password.
 * 0, FL_EFORMAT (yaml does not parse) or FL_ENOMEM (secrets.h).
 */
int hub_devconf_mask(const char *yaml, size_t len, char **out);

/*
 * The file with every secret that reads FL_SECRET_MASK given its value in old
 * (the same key's), into *out (malloc'd): a file sent back after
 * hub_devconf_mask keeps the password it had. A "***" old does not have
 * stays. 0, FL_EFORMAT (either does not parse) or FL_ENOMEM.
 */
int hub_devconf_unmask(const char *yaml, size_t len, const char *old,
		       size_t oldlen, char **out);

/* The edge's lane settings as [{"key", "type", "default", "min", "max",
 * "unit", "help"}] in the table's order (GET /api/schema/lane). */
json_t *hub_devconf_lane_schema(void);

#endif /* FL_HUB_DEVCONF_H */
