/*
 * test_devconf.c - a device's configuration as the hub edits it
 * (src/hub/devconf.c): the lanes as the editor gets them (every setting,
 * through the edge's table), lanes written back into the file with every
 * other key as written (the mqtt password, relative paths) and the
 * comments kept (the line editor, fl_yaml_set_block; a camera in flow
 * style written as a tree), the edge's
 * own refusals with the key's path and line, a polygon's check, and the
 * node writer of the schema engine (fl_node_dump) reading back to the
 * same tree.
 */
#include <stdlib.h>
#include <string.h>

#include "devconf.h"
#include "fl.h"
#include "schema.h"
#include "test.h"
#include "yaml.h"
#include "yamledit.h"

static const char FILE1[] =
	"# the scene's device\n"
	"device: {id: scene-edge, site: scene-site}\n"
	"mqtt:\n"
	"  host: 127.0.0.1\n"
	"  username: scene-edge\n"
	"  password: \"s3cret: #1\"\n"
	"cameras:\n"
	"  - id: cam-1\n"
	"    source: park_leave.mp4\n"
	"    lanes:\n"
	"      - id: lane-a\n"
	"        points: [[198, 194], [282, 194], [259, 124], [221, 124]]\n"
	"        dwell_s: 10\n"
	"  - id: cam-2\n"
	"    source: rtsp://10.0.0.2/stream\n"
	"    lanes:\n"
	"      - id: gate\n"
	"        points: [[0, 0], [10, 0], [10, 10]]\n";

static json_t *lane_of(json_t *conf, int cam, int lane)
{
	return json_array_get(
		json_object_get(json_array_get(json_object_get(conf, "cameras"),
					       (size_t)cam),
				"lanes"),
		(size_t)lane);
}

static void test_to_json(void)
{
	json_t *c = hub_devconf_json(FILE1, strlen(FILE1)), *l;

	CHECK(c != NULL);
	CHECK_STREQ(json_string_value(json_object_get(c, "device")),
		    "scene-edge");
	CHECK_EQ_INT((int)json_array_size(json_object_get(c, "cameras")), 2);
	l = lane_of(c, 0, 0);
	CHECK_STREQ(json_string_value(json_object_get(l, "id")), "lane-a");
	/* the default name, and every setting with its effective value */
	CHECK_STREQ(json_string_value(json_object_get(l, "name")), "lane-a");
	CHECK_EQ_DBL(json_number_value(json_object_get(l, "dwell_s")), 10, 0);
	CHECK_EQ_DBL(json_number_value(json_object_get(l, "escalate_s")), 600,
		     0);
	CHECK(json_is_false(json_object_get(l, "disabled")));
	CHECK_EQ_INT((int)json_array_size(json_object_get(l, "polygon")), 4);
	CHECK_EQ_DBL(json_number_value(json_array_get(
			     json_array_get(json_object_get(l, "polygon"), 1),
			     0)),
		     282, 0);
	CHECK(json_object_get(l, "points") == NULL);
	CHECK_EQ_INT((int)json_array_size(json_object_get(l, "active")), 1);
	json_decref(c);
	CHECK(hub_devconf_json("cameras: 5\n", 11) == NULL);
}

static void test_replace(void)
{
	json_t *c = hub_devconf_json(FILE1, strlen(FILE1)), *l, *cams, *why;
	char *out = NULL, err[256];
	fl_node *doc;

	l = lane_of(c, 0, 0);
	json_object_set_new(l, "name", json_string("东门消防通道"));
	json_object_set_new(l, "dwell_s", json_real(5));
	json_array_append_new(
		json_object_get(json_array_get(json_object_get(c, "cameras"), 0),
				"lanes"),
		json_pack("{s:s,s:[[i,i],[i,i],[i,i]]}", "id", "lane-b",
			  "polygon", 1, 1, 50, 1, 25, 40));
	/* only cam-1 is sent: cam-2's lane stays as written */
	cams = json_pack("[O]",
			 json_array_get(json_object_get(c, "cameras"), 0));
	CHECK_EQ_INT(hub_devconf_replace_lanes(FILE1, strlen(FILE1), cams, &out,
					       err, sizeof(err)),
		     0);
	CHECK(out != NULL);
	CHECK_EQ_INT(hub_devconf_check(out, strlen(out), &why), 0);
	/* every other key exactly as written */
	CHECK(strstr(out, "password: \"s3cret: #1\"") != NULL);
	CHECK(strstr(out, "source: park_leave.mp4") != NULL);
	CHECK(strstr(out, "rtsp://10.0.0.2/stream") != NULL);
	CHECK(strstr(out, "dwell_s: 5\n") != NULL);
	/* a default is not written out */
	CHECK(strstr(out, "escalate_s") == NULL);
	json_decref(c);
	c = hub_devconf_json(out, strlen(out));
	CHECK_STREQ(json_string_value(json_object_get(lane_of(c, 0, 0), "name")),
		    "东门消防通道");
	CHECK_STREQ(json_string_value(json_object_get(lane_of(c, 0, 1), "id")),
		    "lane-b");
	CHECK_STREQ(json_string_value(json_object_get(lane_of(c, 1, 0), "id")),
		    "gate");
	/* only cam-1's lanes changed: the comment, the flow map and cam-2
	 * are as written */
	CHECK_STREQ(out, "# the scene's device\n"
			 "device: {id: scene-edge, site: scene-site}\n"
			 "mqtt:\n"
			 "  host: 127.0.0.1\n"
			 "  username: scene-edge\n"
			 "  password: \"s3cret: #1\"\n"
			 "cameras:\n"
			 "  - id: cam-1\n"
			 "    source: park_leave.mp4\n"
			 "    lanes:\n"
			 "      - id: \"lane-a\"\n"
			 "        name: \"东门消防通道\"\n"
			 "        points: [[198, 194], [282, 194], [259, 124], "
			 "[221, 124]]\n"
			 "        dwell_s: 5\n"
			 "        obstructions: [\"vehicle\", \"object\"]\n"
			 "        active: [\"00:00-24:00\"]\n"
			 "        quiet_hours: []\n"
			 "      - id: \"lane-b\"\n"
			 "        points: [[1, 1], [50, 1], [25, 40]]\n"
			 "  - id: cam-2\n"
			 "    source: rtsp://10.0.0.2/stream\n"
			 "    lanes:\n"
			 "      - id: gate\n"
			 "        points: [[0, 0], [10, 0], [10, 10]]\n");
	/* the node writer reads back to what it wrote */
	doc = fl_yaml_parse(out, strlen(out), "x", err, sizeof(err));
	CHECK(doc != NULL);
	{
		size_t n = fl_node_dump(doc, NULL, 0);
		char *once = malloc(n + 1), *again;
		fl_node *back;

		fl_node_dump(doc, once, n + 1);
		back = fl_yaml_parse(once, n, "x", err, sizeof(err));
		CHECK(back != NULL);
		again = malloc(n + 1);
		CHECK_EQ_INT((int)fl_node_dump(back, again, n + 1), (int)n);
		CHECK_STREQ(again, once);
		fl_node_free(back);
		free(again);
		free(once);
	}
	fl_node_free(doc);
	free(out);
	json_decref(cams);
	/* a camera the file does not have */
	cams = json_pack("[{s:s,s:[]}]", "id", "cam-9", "lanes");
	CHECK_EQ_INT(hub_devconf_replace_lanes(FILE1, strlen(FILE1), cams, &out,
					       err, sizeof(err)),
		     FL_ENOENT);
	CHECK(strstr(err, "cam-9") != NULL);
	json_decref(cams);
	json_decref(c);
}

/* fl_yaml_set_block, the line editor under replace_lanes: a value at
 * any depth replaced, the comments around it kept */
static void test_set_block(void)
{
	static const char text[] =
		"cameras:  # two\n"
		"  - id: a\n"
		"    lanes:   # drawn by hand\n"
		"    - id: x   # a list at its key's indentation\n"
		"      points: [[0, 0], [9, 0], [9, 9]]\n"
		"\n"
		"    # the next key's comment\n"
		"    source: a.mp4\n"
		"  - lanes: [{id: y}]\n"
		"    id: b\n"
		"top: 1\n";
	char *out = NULL, err[200];
	size_t n;

	CHECK_EQ_INT(fl_yaml_set_block(text, strlen(text), 3, "lanes",
				       "- id: z\n  points: []\n", &out, &n, err,
				       sizeof(err)),
		     0);
	CHECK_STREQ(out, "cameras:  # two\n"
			 "  - id: a\n"
			 "    lanes:   # drawn by hand\n"
			 "      - id: z\n"
			 "        points: []\n"
			 "\n"
			 "    # the next key's comment\n"
			 "    source: a.mp4\n"
			 "  - lanes: [{id: y}]\n"
			 "    id: b\n"
			 "top: 1\n");
	CHECK_EQ_INT((int)n, (int)strlen(out));
	free(out);
	/* an item's first key; one line goes on the key's line */
	CHECK_EQ_INT(fl_yaml_set_block(text, strlen(text), 9, "lanes", "[]\n",
				       &out, &n, err, sizeof(err)),
		     0);
	CHECK(strstr(out, "  - lanes: []\n    id: b\n") != NULL);
	free(out);
	/* not that key on that line, and an empty value */
	CHECK_EQ_INT(fl_yaml_set_block(text, strlen(text), 2, "lanes", "[]",
				       &out, &n, err, sizeof(err)),
		     FL_EFORMAT);
	CHECK(strstr(err, "line 2") != NULL);
	CHECK_EQ_INT(fl_yaml_set_block(text, strlen(text), 99, "lanes", "[]",
				       &out, &n, err, sizeof(err)),
		     FL_EFORMAT);
	CHECK_EQ_INT(fl_yaml_set_block(text, strlen(text), 3, "lanes", "", &out,
				       &n, err, sizeof(err)),
		     FL_EINVAL);
	CHECK(out == NULL);
}

/* a camera in flow style cannot be edited as lines: the whole tree is
 * written, right though without comments */
static void test_flow_camera(void)
{
	static const char text[] =
		"# mine\n"
		"device: {id: d, site: s}\n"
		"mqtt: {host: 127.0.0.1}\n"
		"cameras: [{id: cam-1, source: a.mp4, lanes: [{id: l, points: "
		"[[0, 0], [10, 0], [10, 10]]}]}]\n";
	json_t *cams = json_pack("[{s:s,s:[{s:s,s:[[i,i],[i,i],[i,i]]}]}]",
				 "id", "cam-1", "lanes", "id", "m", "polygon",
				 0, 0, 20, 0, 20, 20);
	char *out = NULL, err[200];
	json_t *why = NULL;

	CHECK_EQ_INT(hub_devconf_replace_lanes(text, strlen(text), cams, &out,
					       err, sizeof(err)),
		     0);
	CHECK(strstr(out, "# mine") == NULL);
	CHECK(strstr(out, "- id: \"m\"") != NULL);
	CHECK(strstr(out, "id: l") == NULL);
	CHECK_EQ_INT(hub_devconf_check(out, strlen(out), &why), 0);
	json_decref(why);
	free(out);
	json_decref(cams);
}

static void test_refusals(void)
{
	static const struct {
		const char *text, *key, *reason;
		int line;
	} cases[] = {
		{ "device: {id: d, site: s}\ncameras:\n  - id: c\n"
		  "    source: x.mp4\n    lanes:\n      - id: a\n"
		  "        points: [[0, 0], [10, 10], [10, 0], [0, 10]]\n",
		  "cameras[c].lanes[a].id", "self-intersecting", 6 },
		{ "device: {id: d, site: s}\ncameras:\n  - id: c\n"
		  "    source: x.mp4\n    lanes:\n      - id: a\n"
		  "        points: [[0, 0], [10, 0], [10, 10]]\n"
		  "        dwell_s: 0\n",
		  "cameras[c].lanes[a].dwell_s", "dwell_s", 8 },
		{ "device: {id: d, site: s}\ncameras:\n  - id: c\n"
		  "    source: x.mp4\n    lanes:\n      - id: a\n"
		  "        points: [[0, 0], [10, 0], [10, 10]]\n"
		  "        colour: red\n",
		  "cameras[c].lanes[a].colour", "unknown key", 8 },
	};

	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		json_t *why = NULL;

		CHECK(hub_devconf_check(cases[i].text, strlen(cases[i].text),
					&why) != 0);
		CHECK(why != NULL);
		CHECK_STREQ(json_string_value(json_object_get(why, "key")),
			    cases[i].key);
		CHECK_EQ_INT((int)json_integer_value(
				     json_object_get(why, "line")),
			     cases[i].line);
		CHECK(strstr(json_string_value(json_object_get(why, "reason")),
			     cases[i].reason) != NULL);
		CHECK(strncmp(json_string_value(json_object_get(why, "error")),
			      "edge.yaml:", 10) == 0);
		json_decref(why);
	}
}

static void test_polygon(void)
{
	json_t *ok = json_pack("[[i,i],[i,i],[i,i]]", 0, 0, 10, 0, 10, 10);
	json_t *cross = json_pack("[[i,i],[i,i],[i,i],[i,i]]", 0, 0, 10, 10, 10,
				  0, 0, 10);
	json_t *two = json_pack("[[i,i],[i,i]]", 0, 0, 10, 10);
	json_t *line = json_pack("[[i,i],[i,i],[i,i]]", 0, 0, 5, 5, 10, 10);
	char err[256];

	CHECK_EQ_INT(hub_devconf_check_polygon(ok, err, sizeof(err)), 0);
	CHECK(hub_devconf_check_polygon(cross, err, sizeof(err)) != 0);
	CHECK(strstr(err, "self-intersecting") != NULL);
	CHECK(strncmp(err, "polygon", 7) == 0);
	CHECK(hub_devconf_check_polygon(two, err, sizeof(err)) != 0);
	CHECK(hub_devconf_check_polygon(line, err, sizeof(err)) != 0);
	CHECK(strstr(err, "area") != NULL);
	json_decref(ok);
	json_decref(cross);
	json_decref(two);
	json_decref(line);
}

static void test_schema(void)
{
	json_t *a = hub_devconf_lane_schema(), *e, *dwell = NULL;
	size_t i;

	CHECK(json_array_size(a) > 10);
	json_array_foreach(
		a, i,
		e) if (!strcmp(json_string_value(json_object_get(e, "key")),
			       "dwell_s")) dwell = e;
	CHECK(dwell != NULL);
	CHECK_STREQ(json_string_value(json_object_get(dwell, "type")),
		    "number");
	CHECK_STREQ(json_string_value(json_object_get(dwell, "unit")), "s");
	CHECK_EQ_DBL(json_number_value(json_object_get(dwell, "default")), 60,
		     0);
	CHECK(strstr(json_string_value(json_object_get(dwell, "help")),
		     "alarm") != NULL);
	json_decref(a);
}

static void test_secrets(void)
{
	char *masked = NULL, *back = NULL;

	CHECK_EQ_INT(hub_devconf_mask(FILE1, strlen(FILE1), &masked), 0);
	CHECK(masked != NULL && strstr(masked, "s3cret") == NULL);
	CHECK(strstr(masked, "password: \"***\"") != NULL);
	CHECK(strstr(masked, "username: scene-edge") != NULL);
	CHECK_EQ_INT(hub_devconf_unmask(masked, strlen(masked), FILE1,
					strlen(FILE1), &back),
		     0);
	CHECK(strstr(back, "password: \"s3cret: #1\"") != NULL);
	free(back);
	/* an old file without a password: "***" stays */
	CHECK_EQ_INT(hub_devconf_unmask(masked, strlen(masked), "a: 1\n", 5,
					&back),
		     0);
	CHECK(strstr(back, "password: \"***\"") != NULL);
	free(back);
	free(masked);
	CHECK(hub_devconf_mask(": [", 3, &masked) != 0);
	CHECK(masked == NULL);
}

int main(void)
{
	test_to_json();
	test_replace();
	test_set_block();
	test_flow_camera();
	test_refusals();
	test_polygon();
	test_schema();
	test_secrets();
	TEST_DONE();
}
