/*
 * fuzz_config.c - the configuration parser against arbitrary bytes.
 *
 * The input goes through the whole load path short of the file: libyaml
 * events into the node tree (fl_yaml_parse), the schema walk
 * (fl_config_apply), then, when it loads, the frame check and the dump, whose
 * output must itself load again (the dump is documented as valid YAML of the
 * effective configuration; it is loaded from text with fl_config_parse, the
 * entry the hub uses for a device's configuration). Any crash, leak,
 * sanitizer report or a dump that does not reload is a finding. The hub's
 * schema, on the same engine, has its own target: fuzz_hubconf.c.
 */
#include "config.h"
#include "fl.h"
#include "yaml.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fl_config cfg, again;
	char err[256];
	fl_node *doc;
	char *dump;
	size_t n;

	fl_config_defaults(&cfg);
	doc = fl_yaml_parse((const char *)data, size, "fuzz.yaml", err,
			    sizeof(err));
	if (!doc) {
		if (!strchr(err, ':'))
			abort(); /* every failure names file:line */
		return 0;
	}
	if (fl_config_apply(&cfg, doc, "fuzz.yaml", err, sizeof(err))) {
		if (strncmp(err, "fuzz.yaml:", 10))
			abort();
		fl_node_free(doc);
		return 0;
	}
	fl_node_free(doc);
	for (int i = 0; i < cfg.ncameras; i++)
		fl_config_check_frame(&cfg, i, 320, 240, err, sizeof(err));
	for (int m = 0; m < 1440; m += 97)
		fl_lane_active(&cfg.cameras[0].lanes[0], m);

	n = fl_config_dump(&cfg, NULL, 0);
	dump = malloc(n + 1);
	if (!dump)
		return 0;
	fl_config_dump(&cfg, dump, n + 1);
	if (fl_config_parse(&again, dump, n, "fuzz.yaml", err, sizeof(err)))
		abort(); /* a dump that does not reload */
	free(dump);
	return 0;
}
