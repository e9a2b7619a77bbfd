/*
 * fuzz_enrol.c - the parsers of enrolment by one-time code on arbitrary
 * bytes: the configuration editor (src/config/yamledit.c) that writes the
 * hub's answer into a device's file, the edge's reading of that answer
 * (src/edge/enrol.c), and the hub's reading of a typed code
 * (src/hub/enrolcode.c). What must hold besides never crashing or
 * tripping a sanitizer:
 *   - an edited text is YAML again and has the values set (parsing it
 *     gives device.id, mqtt.port and mqtt.password as written; a text
 *     where lines cannot do that is refused, never written wrong);
 *   - an answer taken has a valid device id, a port in 1..65535 and no
 *     newline in any string (nothing it says can add a line to a file);
 *   - a code taken is 8 characters of the alphabet.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enrol.h"
#include "enrolcode.h"
#include "fl.h"
#include "id.h"
#include "schema.h"
#include "yaml.h"
#include "yamledit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_enrol: %s:%d: %s\n", __FILE__,   \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

/* The scalar at section.key of a parsed document, or NULL. */
static const char *value(const fl_node *doc, const char *section,
			 const char *key)
{
	for (size_t i = 0; doc && doc->kind == FL_NODE_MAP && i < doc->n; i++) {
		const fl_node *m = doc->items[i];

		if (strcmp(doc->keys[i], section) || m->kind != FL_NODE_MAP)
			continue;
		for (size_t k = 0; k < m->n; k++)
			if (!strcmp(m->keys[k], key) &&
			    m->items[k]->kind == FL_NODE_SCALAR)
				return m->items[k]->scalar;
	}
	return NULL;
}

static void edit(const char *text, size_t len)
{
	static const fl_yaml_kv kv[] = {
		{ "device", "id", "\"gate-#7\"" },
		{ "mqtt", "port", "8883" },
		{ "mqtt", "password", "\"p: w # x\"" },
	};
	char *out = NULL, err[256];
	size_t outlen = 0;
	fl_node *doc;

	if (fl_yaml_set(text, len, "f", kv, 3, &out, &outlen, err, sizeof(err)))
		return;
	CHECK(out && strlen(out) == outlen);
	/* taken: the text is YAML and says exactly what was set */
	doc = fl_yaml_parse(out, outlen, "f", err, sizeof(err));
	CHECK(doc != NULL);
	CHECK(value(doc, "device", "id") &&
	      !strcmp(value(doc, "device", "id"), "gate-#7"));
	CHECK(value(doc, "mqtt", "port") &&
	      !strcmp(value(doc, "mqtt", "port"), "8883"));
	CHECK(value(doc, "mqtt", "password") &&
	      !strcmp(value(doc, "mqtt", "password"), "p: w # x"));
	fl_node_free(doc);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	edge_enrol_answer a;
	char err[256], code[HUB_ENROL_CODE_LEN + 1], *s;

	if (size > 65536)
		return 0;
	edit((const char *)data, size);
	if (!edge_enrol_answer_parse((const char *)data, size, &a, err,
				     sizeof(err))) {
		CHECK(fl_id_valid(a.device, FL_ID_MAX));
		CHECK(a.port >= 1 && a.port <= 65535);
		CHECK(!strchr(a.site, '\n') && !strchr(a.host, '\n') &&
		      !strchr(a.username, '\n') && !strchr(a.password, '\n'));
	}
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (!hub_enrol_code_norm(s, code)) {
		CHECK(strlen(code) == HUB_ENROL_CODE_LEN);
		CHECK(strspn(code, HUB_ENROL_ALPHABET) == HUB_ENROL_CODE_LEN);
	}
	free(s);
	return 0;
}
