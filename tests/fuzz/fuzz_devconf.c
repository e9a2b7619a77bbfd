/*
 * fuzz_devconf.c - the hub's editing of a device's configuration
 * (src/hub/devconf.c) on arbitrary bytes: the part before the first NUL
 * is the device's YAML file, the rest the editor's JSON (a cameras list,
 * as PUT /api/devices/ID/config takes it, or a polygon for
 * POST /api/lanes/check).
 *
 * What must hold, besides never crashing, leaking or tripping a sanitizer:
 *   - a refusal of the file has a reason, a key path and a line >= 0;
 *   - a file accepted gives the editor's JSON, and that JSON's cameras
 *     written back into the same file give a file the check accepts or
 *     refuses with a reason (never one that fails to parse as YAML with
 *     no word);
 *   - the editor's own cameras written back give a file that parses;
 *   - an accepted file with its secrets masked and put back is accepted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devconf.h"
#include "fl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_devconf: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

/* The file y (n bytes) checked: 0 or a refusal with its parts. */
static int checked(const char *y, size_t n)
{
	json_t *why = NULL;
	int rc = hub_devconf_check(y, n, &why);

	if (rc == FL_ENOMEM)
		return rc;
	if (rc) {
		CHECK(why != NULL);
		CHECK(json_string_value(json_object_get(why, "reason")) != NULL);
		CHECK(json_string_value(json_object_get(why, "key")) != NULL);
		CHECK(json_integer_value(json_object_get(why, "line")) >= 0);
	} else {
		CHECK(why == NULL);
	}
	json_decref(why);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, 0, size);
	size_t ylen = nul ? (size_t)(nul - (const char *)data) : size;
	char *yaml = malloc(ylen + 1), *out = NULL, err[512];
	json_t *edit = NULL, *conf = NULL;

	if (!yaml)
		return 0;
	memcpy(yaml, data, ylen);
	yaml[ylen] = '\0';
	if (nul)
		edit = json_loadb(nul + 1, size - ylen - 1, 0, NULL);
	if (checked(yaml, ylen) == 0) {
		char *masked = NULL, *back = NULL;

		conf = hub_devconf_json(yaml, ylen);
		CHECK(conf != NULL);
		/* secrets hidden and put back: the same configuration */
		if (hub_devconf_mask(yaml, ylen, &masked) == 0 &&
		    hub_devconf_unmask(masked, strlen(masked), yaml, ylen,
				       &back) == 0)
			CHECK(checked(back, strlen(back)) == 0);
		free(masked);
		free(back);
		/* the editor's JSON back into the file: still a file */
		if (hub_devconf_replace_lanes(yaml, ylen,
					      json_object_get(conf, "cameras"),
					      &out, err, sizeof(err)) == 0) {
			checked(out, strlen(out));
			free(out);
			out = NULL;
		}
	}
	if (json_is_array(edit) &&
	    hub_devconf_replace_lanes(yaml, ylen, edit, &out, err,
				      sizeof(err)) == 0) {
		CHECK(out != NULL);
		checked(out, strlen(out));
	}
	if (edit)
		hub_devconf_check_polygon(edit, err, sizeof(err));
	free(out);
	free(yaml);
	json_decref(conf);
	json_decref(edit);
	return 0;
}
