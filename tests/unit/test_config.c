/*
 * test_config.c - the configuration schema, table-driven.
 *
 * The heart is one table of {YAML text, expected error substring or NULL}:
 * each row is parsed with fl_yaml_parse() and applied with fl_config_apply()
 * under the name "test.yaml", so the expected strings include the file:line
 * the user would see. Rows cover every rule of the schema (types, ranges,
 * unknown and missing keys, polygons, ids, lists, YAML features refused).
 * Further tests check the effective values (defaults, hours, classes),
 * fl_config_check_frame(), fl_config_load() on real files (missing file,
 * syntax error, relative paths), fl_config_parse() on text, the dump round
 * trip, and that the committed docs/config.md and docs/firelane.sample.yaml
 * equal what the table generates, as docs/hub-config.md and
 * docs/firelane-hub.sample.yaml equal what the hub's table generates (the
 * hub's keys themselves are tested in test_hub.c).
 *
 * Regenerate the docs after changing a table:
 *     build/test_config --write-docs      (writes into FL_SOURCE_DIR)
 */
#include "config.h"
#include "fl.h"
#include "yaml.h"

/* The hub's schema (its reference is generated and checked here too),
 * linked from the hub's library (fl_hub). */
#include "hubconf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
static int checks;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		checks++;                                                      \
		if (!(cond)) {                                                 \
			failures++;                                            \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, \
				__LINE__, #cond);                              \
			fprintf(stderr, __VA_ARGS__);                          \
			fprintf(stderr, "\n");                                 \
		}                                                              \
	} while (0)

/* Lines: 1 device, 2 cameras, 3 - id, 4 source, 5 lanes, 6 - id, 7 points. */
#define HEAD                                                                   \
	"device: {id: edge-01, site: demo-site}\n"                             \
	"cameras:\n"                                                           \
	"  - id: cam-1\n"                                                      \
	"    source: clip.mp4\n"                                               \
	"    lanes:\n"                                                         \
	"      - id: lane-a\n"
#define PTS "        points: [[0, 0], [100, 0], [100, 100], [0, 100]]\n"
#define LANE2                                                                  \
	"      - id: lane-b\n"                                                 \
	"        points: [[0, 0], [9, 0], [9, 9]]\n"
#define CAM(id)                                                                \
	"  - id: " id "\n    source: x.mp4\n    lanes:\n      - id: l\n"       \
	"        points: [[0, 0], [9, 0], [9, 9]]\n"

struct yaml_case {
	const char *yaml;
	const char *expect; /* substring of the error; NULL: must load */
};

static const struct yaml_case cases[] = {
	/* SPEC 5.3's minimal form. */
	{ "device: {id: edge-01, site: demo-site}\n"
	  "cameras:\n"
	  "  - id: cam-1\n"
	  "    source: rtsp://192.0.2.1/stream\n"
	  "    lanes:\n"
	  "      - id: lane-a\n"
	  "        points: [[10, 10], [200, 10], [200, 300], [10, 300]]\n"
	  "        dwell_s: 60\n",
	  NULL },
	/* Every key given. */
	{ "device:\n  id: edge_01.x-2\n  site: \"城东小区\"\n"
	  "detect:\n  analysis_width: 640\n  analysis_fps: 2.5\n"
	  "  rest_s: 1\n  model: models/yolo.cfg\n  model_interval_s: 0.5\n"
	  "  model_conf: 0.45\n  people_detector: no\n"
	  "cameras:\n  - id: cam-1\n    source: /dev/video0\n"
	  "    reference: ref.png\n    fps: 12.5\n    width: 640\n"
	  "    height: 480\n    lanes:\n      - id: lane-a\n"
	  "        name: \"消防通道 A\"\n"
	  "        points: [[0, 0], [640, 0], [640, 480], [0, 480]]\n"
	  "        dwell_s: 30\n        clear_s: 0.5\n        occlusion_s: 0\n"
	  "        min_size_px: 0\n        min_size_m: 0\n        width_m: 6\n"
	  "        min_overlap: 0.5\n        clear_width_m: 3.5\n"
	  "        obstructions: [vehicle, person]\n"
	  "        active: [\"22:00-06:00\", \"12:00-13:00\"]\n"
	  "        warn_s: 10\n        warn_repeat_s: 20\n"
	  "        escalate_s: 86400\n",
	  NULL },
	/* Unknown keys name the section and the key's line. */
	{ HEAD PTS "        foo: 1\n",
	  "test.yaml:8: unknown key 'foo' in lane" },
	{ "bogus: 1\n" HEAD PTS,
	  "test.yaml:1: unknown key 'bogus' in top level" },
	{ HEAD PTS "detect:\n  analysis_width: 320\n  colour: red\n",
	  "test.yaml:10: unknown key 'colour' in detect" },
	{ HEAD "        source2: x\n" PTS,
	  "test.yaml:7: unknown key 'source2' in lane" },
	{ "device: {id: e, site: s, serial: 7}\ncameras: []\n",
	  "test.yaml:1: unknown key 'serial' in device" },
	{ "device: {id: e, site: s}\ncameras:\n  - id: c\n    url: x\n",
	  "test.yaml:4: unknown key 'url' in camera" },
	/* Numbers: ranges, types, non-finite. */
	{ HEAD PTS "        dwell_s: 0\n",
	  "test.yaml:8: dwell_s: 0 is out of range 1..86400" },
	{ HEAD PTS "        dwell_s: 86401\n", "out of range 1..86400" },
	{ HEAD PTS "        dwell_s: \"5\"\n",
	  "test.yaml:8: dwell_s: expected a number" },
	{ HEAD PTS "        dwell_s: soon\n", "dwell_s: expected a number" },
	{ HEAD PTS "        dwell_s: .nan\n", "dwell_s: expected a number" },
	{ HEAD PTS "        dwell_s: .inf\n", "dwell_s: expected a number" },
	{ HEAD PTS "        dwell_s: 1e999\n", "dwell_s: expected a number" },
	{ HEAD PTS "        dwell_s: [60]\n", "dwell_s: expected a number" },
	{ HEAD PTS "        clear_s: 0.4\n",
	  "clear_s: 0.4 is out of range 0.5..3600" },
	{ HEAD PTS "        min_size_px: -1\n",
	  "min_size_px: -1 is out of range 0..4096" },
	{ HEAD PTS "        min_overlap: 0\n",
	  "test.yaml:8: min_overlap: 0 is out of range 0.01..1" },
	{ HEAD PTS "        width_m: 0.5\n",
	  "width_m: 0.5 is out of range 1..50" },
	{ HEAD PTS "        min_size_m: 11\n",
	  "min_size_m: 11 is out of range 0..10" },
	{ HEAD PTS "        clear_width_m: -1\n",
	  "clear_width_m: -1 is out of range 0..50" },
	{ HEAD PTS "        escalate_s: 90000\n",
	  "escalate_s: 90000 is out of range 0..86400" },
	{ HEAD PTS "detect: {analysis_width: 320.5}\n",
	  "test.yaml:8: analysis_width: expected a whole number" },
	{ HEAD PTS "detect: {analysis_width: 32}\n",
	  "analysis_width: 32 is out of range 64..1920" },
	{ HEAD PTS "detect: {analysis_fps: 0.4}\n",
	  "analysis_fps: 0.4 is out of range 0.5..30" },
	{ HEAD PTS "detect: {model_conf: 1.5}\n",
	  "model_conf: 1.5 is out of range 0.01..1" },
	{ HEAD PTS "detect: {model_interval_s: 0.05}\n",
	  "out of range 0.1..3600" },
	{ HEAD PTS "detect: {rest_s: 31}\n",
	  "rest_s: 31 is out of range 0.5..30" },
	{ "device: {id: e, site: s}\ncameras:\n  - id: c\n    source: x\n"
	  "    fps: 300\n",
	  "test.yaml:5: fps: 300 is out of range 0..240" },
	{ "device: {id: e, site: s}\ncameras:\n  - id: c\n    source: x\n"
	  "    width: 9000\n",
	  "width: 9000 is out of range 0..8192" },
	/* Booleans. */
	{ HEAD PTS "detect: {people_detector: yes}\n", NULL },
	{ HEAD PTS "detect: {people_detector: False}\n", NULL },
	{ HEAD PTS "detect: {people_detector: maybe}\n",
	  "people_detector: expected a boolean" },
	{ HEAD PTS "detect: {people_detector: \"true\"}\n",
	  "people_detector: expected a boolean" },
	{ HEAD PTS "detect: {people_detector: 1}\n",
	  "people_detector: expected a boolean" },
	/* Polygons: with the lane's line. */
	{ HEAD "        points: [[0, 0], [100, 0]]\n",
	  "test.yaml:6: lane 'lane-a': polygon has 2 points" },
	{ HEAD "        dwell_s: 5\n",
	  "test.yaml:6: lane 'lane-a': polygon has 0 points" },
	{ HEAD "        points: [[0, 0], [50, 50], [100, 100]]\n",
	  "test.yaml:6: lane 'lane-a': polygon area 0" },
	{ HEAD "        points: [[0, 0], [1, 0], [1, 0.5]]\n",
	  "px^2 is below 1 px^2" },
	{ HEAD "        points: [[0, 0], [100, 100], [100, 0], [0, 100]]\n",
	  "test.yaml:6: lane 'lane-a': polygon is self-intersecting" },
	{ HEAD "        points: [[0, 0], [100, 0], [100, 0], [0, 100]]\n",
	  "self-intersecting" },
	{ HEAD "        points: [[0, 0, 1], [100, 0], [0, 100]]\n",
	  "test.yaml:7: points: expected a list of [x, y] pairs" },
	{ HEAD "        points: 5\n",
	  "points: expected a list of [x, y] pairs" },
	{ HEAD "        points: [[0, 0], [\"100\", 0], [0, 100]]\n",
	  "points: expected a list of [x, y] pairs" },
	{ HEAD "        points: [[0, 0], [100, -1], [0, 100]]\n",
	  "points: point [100, -1] is negative" },
	{ HEAD "        points: [[0,0],[1,0],[2,0],[3,0],[4,0],[5,0],[6,0],"
	       "[7,0],[8,0],[9,0],[10,0],[11,0],[12,0],[13,0],[14,0],[15,0],"
	       "[15,9]]\n",
	  "points: 17 points, at most 16 allowed" },
	{ HEAD "        points: [[0, 0], [.nan, 0], [0, 100]]\n",
	  "points: expected a list of [x, y] pairs" },
	/* Missing required keys: the enclosing map's line. */
	{ "device: {site: s}\ncameras: []\n",
	  "test.yaml:1: missing required key 'id' in device" },
	{ "device: {id: e}\ncameras: []\n",
	  "test.yaml:1: missing required key 'site' in device" },
	{ "device: {id: e, site: s}\n",
	  "test.yaml:1: missing required key 'cameras' in top level" },
	{ "cameras:\n" CAM("c"), "missing required key 'device' in top level" },
	{ "device: {id: e, site: s}\ncameras:\n  - id: c\n    source: x\n",
	  "test.yaml:3: missing required key 'lanes' in camera" },
	{ "device: {id: e, site: s}\ncameras:\n  - id: c\n"
	  "    lanes: [{id: l, points: [[0, 0], [9, 0], [9, 9]]}]\n",
	  "test.yaml:3: missing required key 'source' in camera" },
	{ HEAD PTS "      - points: [[0, 0], [9, 0], [9, 9]]\n",
	  "test.yaml:8: missing required key 'id' in lane" },
/* Two streams: detect and record instead of source. */
#define TWO(detect, record)                                                    \
	"device: {id: e, site: s}\ncameras:\n  - id: c\n"                      \
	"    detect: " detect "\n    record: " record "\n    lanes:\n"         \
	"      - id: l\n        points: [[0, 0], [9, 0], [9, 9]]\n"
	{ TWO("sub.mp4", "main.mp4"), NULL },
	{ TWO("{url: rtsp://cam/102, transport: udp, timeout_s: 3}",
	      "{url: rtsp://cam/101}"),
	  NULL },
	{ TWO("sub.mp4", "\"\""), NULL },
	{ "device: {id: e, site: s}\ncameras:\n  - id: c\n"
	  "    source: x.mp4\n    detect: sub.mp4\n    lanes:\n"
	  "      - id: l\n        points: [[0, 0], [9, 0], [9, 9]]\n",
	  "test.yaml:5: camera 'c': give source or detect, not both" },
	{ "device: {id: e, site: s}\ncameras:\n  - id: c\n"
	  "    source: x.mp4\n    record: main.mp4\n    lanes:\n"
	  "      - id: l\n        points: [[0, 0], [9, 0], [9, 9]]\n",
	  "test.yaml:5: camera 'c': record goes with detect" },
	{ TWO("{url: a.mp4, transport: quic}", "b.mp4"),
	  "test.yaml:4: detect.transport: expected tcp or udp" },
	{ TWO("a.mp4", "{url: b.mp4, timeout_s: 0.1}"),
	  "test.yaml:5: record.timeout_s: expected a number 0.5..120" },
	{ TWO("a.mp4", "{url: b.mp4, fps: 5}"),
	  "test.yaml:5: unknown key 'fps' in record (expected url" },
	{ TWO("{transport: tcp}", "b.mp4"), "test.yaml:4: detect: missing url" },
	{ TWO("[a.mp4]", "b.mp4"),
	  "test.yaml:4: detect: expected a URL or a file" },
	/* Hardware decoding: a known name, device-wide or per detect
	 * stream; a typo is refused with its line; record is not decoded. */
	{ TWO("{url: a.mp4, hwaccel: vaapi}", "b.mp4"), NULL },
	{ HEAD PTS "detect: {hwaccel: auto}\n", NULL },
	{ HEAD PTS "detect: {hwaccel: videotoolbox}\n", NULL },
	{ HEAD PTS "detect:\n  hwaccel: nvenc\n",
	  "test.yaml:9: detect.hwaccel: unknown 'nvenc' (expected none, auto, "
	  "vaapi, v4l2m2m, cuda, qsv, videotoolbox)" },
	{ HEAD PTS "detect: {hwaccel: [vaapi]}\n",
	  "detect.hwaccel: unknown '?'" },
	{ TWO("{url: a.mp4, hwaccel: VAAPI}", "b.mp4"),
	  "test.yaml:4: detect.hwaccel: unknown 'VAAPI'" },
	{ TWO("a.mp4", "{url: b.mp4, hwaccel: auto}"),
	  "test.yaml:5: record.hwaccel: the record stream is not decoded" },
	/* Ids, strings, duplicates. */
	{ "device: {id: edge 01, site: s}\n"
	  "cameras:\n" CAM("c"),
	  "test.yaml:1: id: 'edge 01' is not a valid id" },
	{ "device: {id: "
	  "a234567890123456789012345678901234567890123456789012345678901234"
	  ", site: s}\ncameras:\n" CAM("c"),
	  "is not a valid id" },
	{ "device: {id: \"\", site: s}\ncameras:\n" CAM("c"),
	  "is not a valid id" },
	{ "device: {id: e, site: \"\"}\ncameras:\n" CAM("c"),
	  "site: must not be empty" },
	{ "device: {id: e, site: [a]}\ncameras:\n" CAM("c"),
	  "site: expected a string" },
	{ "device: {id: e, site: s}\ncameras:\n" CAM("c") CAM("d") CAM("c"),
	  "test.yaml:13: duplicate camera id 'c'" },
	{ HEAD PTS LANE2 LANE2, "test.yaml:10: duplicate lane id 'lane-b'" },
	/* 16 cameras a device; the 17th is refused at the list's line */
	{ "device: {id: e, site: s}\ncameras:\n" CAM("a") CAM("b") CAM("c")
		  CAM("d") CAM("e") CAM("f") CAM("g") CAM("h") CAM("i") CAM("j")
			  CAM("k") CAM("l") CAM("m") CAM("n") CAM("o") CAM("p")
				  CAM("q"),
	  "test.yaml:2: cameras: 17 entries, expected 1..16" },
	{ "device: {id: e, site: s}\ncameras: []\n",
	  "cameras: 0 entries, expected 1..16" },
	{ "device: {id: e, site: s}\ncameras: {id: c}\n",
	  "cameras: expected a list of camera entries" },
	{ "device: edge-01\ncameras: []\n",
	  "test.yaml:1: device: expected a map" },
	{ "device: {id: e, site: s}\ncameras:\n  - id: c\n    source: x\n"
	  "    lanes: []\n",
	  "test.yaml:5: lanes: 0 entries, expected 1..8" },
	{ HEAD PTS LANE2 "      - {id: l3, points: [[0,0],[9,0],[9,9]]}\n"
			 "      - {id: l4, points: [[0,0],[9,0],[9,9]]}\n"
			 "      - {id: l5, points: [[0,0],[9,0],[9,9]]}\n"
			 "      - {id: l6, points: [[0,0],[9,0],[9,9]]}\n"
			 "      - {id: l7, points: [[0,0],[9,0],[9,9]]}\n"
			 "      - {id: l8, points: [[0,0],[9,0],[9,9]]}\n"
			 "      - {id: l9, points: [[0,0],[9,0],[9,9]]}\n",
	  "lanes: 9 entries, expected 1..8" },
	/* Obstruction classes. */
	{ HEAD PTS "        obstructions: []\n",
	  "test.yaml:8: obstructions: empty list" },
	{ HEAD PTS "        obstructions: [vehicle, bike]\n",
	  "obstructions: unknown class 'bike'" },
	{ HEAD PTS "        obstructions: vehicle\n",
	  "obstructions: expected a list of classes" },
	{ HEAD PTS "        obstructions: [person, person]\n",
	  "'person' listed twice" },
	/* Active hours. */
	{ HEAD PTS "        active: [\"25:00-26:00\"]\n",
	  "active: '25:00-26:00' is not \"HH:MM-HH:MM\"" },
	{ HEAD PTS "        active: [\"24:00-06:00\"]\n",
	  "is not \"HH:MM-HH:MM\"" },
	{ HEAD PTS "        active: [\"8:00-18:00\"]\n",
	  "is not \"HH:MM-HH:MM\"" },
	{ HEAD PTS "        active: [\"08:00-18:00x\"]\n",
	  "is not \"HH:MM-HH:MM\"" },
	{ HEAD PTS "        active: [\"08:60-18:00\"]\n",
	  "is not \"HH:MM-HH:MM\"" },
	{ HEAD PTS "        active: [08:00-18:00]\n", NULL },
	{ HEAD PTS "        active: [\"08:00-08:00\"]\n", "is an empty range" },
	{ HEAD PTS "        active: []\n", "active: 0 ranges, expected 1..4" },
	{ HEAD PTS "        active: [\"00:00-01:00\", \"02:00-03:00\", "
		   "\"04:00-05:00\", \"06:00-07:00\", \"08:00-09:00\"]\n",
	  "active: 5 ranges, expected 1..4" },
	{ HEAD PTS "        active: \"08:00-18:00\"\n",
	  "active: expected a list of" },
	/* Frame size given in the config: lanes checked at load. */
	{ HEAD "        points: [[0, 0], [700, 0], [700, 100]]\n"
	       "    width: 640\n    height: 480\n",
	  "test.yaml:6: lane 'lane-a': point [700, 0] is outside the 640x480 "
	  "frame" },
	{ HEAD PTS "    width: 640\n", "give width and height together" },
	{ HEAD PTS "    width: 100\n    height: 100\n", NULL },
	/* The YAML layer. */
	{ HEAD PTS "        dwell_s: 5\n        dwell_s: 6\n",
	  "test.yaml:9: duplicate key 'dwell_s' (first on line 8)" },
	{ "device: &d {id: e, site: s}\n", "test.yaml:1: anchors (&d)" },
	{ "device: {id: e, site: s}\nother: *d\n", "aliases" },
	{ HEAD PTS "---\n" HEAD PTS, "test.yaml:8: more than one document" },
	{ HEAD PTS "        dwell_s: [1, 2\n", "test.yaml:9:" },
	{ "device: {id: e\n  site: s\n", "test.yaml:" },
	{ "device:\n  id: e\n   site: s\n",
	  "test.yaml:3: mapping values are not "
	  "allowed" },
	{ "", "test.yaml:1: empty document" },
	{ "# only a comment\n", "empty document" },
	{ "- a\n- b\n", "top level: expected a map" },
	{ HEAD PTS "        dwell_s: !!int 5\n", "tag 'tag:yaml.org,2002:int'" },
	{ HEAD PTS "        dwell_s: !!str 5\n", "dwell_s: expected a number" },
	{ "device: {id: e, site: \"a\\0b\"}\n", "NUL character" },
	{ "? [a, b]\n: c\n", "map keys must be plain words" },
	{ "device: {id: e, site: \"\xff\"}\n", "test.yaml:1:" },
	{ "\t- x\n", "test.yaml:1:" },
	/* Evidence (issue 3): every key, then each rule once. */
	{ HEAD PTS "evidence:\n  dir: ev\n  pre_roll_s: 5\n"
		   "  post_roll_s: 20\n  interval_s: 3\n  max_images: 10\n"
		   "  jpeg_quality: 80\n  closeup_max_px: 640\n  preroll_mb: 8\n"
		   "  max_mb: 100\n  max_age_days: 7\n  min_free_mb: 10\n"
		   "  font: /x.ttf\n",
	  NULL },
	{ HEAD PTS "evidence: {}\n", NULL },
	{ HEAD PTS "evidence:\n  pre_roll: 5\n",
	  "test.yaml:9: unknown key 'pre_roll' in evidence" },
	{ HEAD PTS "evidence:\n  pre_roll_s: 61\n",
	  "test.yaml:9: pre_roll_s: 61 is out of range 0..60" },
	{ HEAD PTS "evidence:\n  post_roll_s: -1\n",
	  "test.yaml:9: post_roll_s: -1 is out of range 0..300" },
	{ HEAD PTS "evidence:\n  max_images: 2\n",
	  "test.yaml:9: max_images: 2 is out of range 3..30" },
	{ HEAD PTS "evidence:\n  max_images: 4.5\n",
	  "max_images: expected a whole number" },
	{ HEAD PTS "evidence:\n  jpeg_quality: \"90\"\n",
	  "jpeg_quality: expected a number (quoted values are strings)" },
	{ HEAD PTS "evidence:\n  interval_s: .nan\n",
	  "interval_s: expected a number" },
	{ HEAD PTS "evidence:\n  font: [a]\n", "font: expected a string" },
	{ HEAD PTS "evidence: [1]\n", "test.yaml:8: evidence: expected a map" },
	{ HEAD PTS "evidence:\n  dir: a\n  dir: b\n", "duplicate key 'dir'" },
	{ "device: {id: e, site: s, site_name: \"城东小区 3 号楼\", "
	  "key_file: keys/dev.key}\n"
	  "cameras:\n" CAM("c"),
	  NULL },
	{ "device: {id: e, site: s, key: k}\ncameras:\n" CAM("c"),
	  "test.yaml:1: unknown key 'key' in device" },
	{ "device: {id: e, site: s, site_name: \"\xff\"}\ncameras:\n" CAM("c"),
	  "test.yaml:1:" },
	{ "device: {id: e, site: s, key_file: [k]}\ncameras:\n" CAM("c"),
	  "key_file: expected a string" },
	/* On-site warning: lane keys and the board (issue 4 point 6). */
	{ HEAD PTS "        warn_s: 0\n        warn_repeat_s: 0\n"
		   "        warn_max_repeats: 0\n        quiet_hours: []\n",
	  NULL },
	{ HEAD PTS "        quiet_hours: [\"22:00-07:00\", \"12:00-13:30\"]\n",
	  NULL },
	{ HEAD PTS "        quiet_hours: [\"22:00-22:00\"]\n",
	  "test.yaml:8: quiet_hours: '22:00-22:00' is an empty range" },
	{ HEAD PTS "        quiet_hours: \"22:00-07:00\"\n",
	  "test.yaml:8: quiet_hours: expected a list of" },
	{ HEAD PTS "        quiet_hours: [\"a\", \"b\", \"c\", \"d\", \"e\"]\n",
	  "quiet_hours: 5 ranges, expected 0..4" },
	{ HEAD PTS "        warn_max_repeats: -1\n",
	  "test.yaml:8: warn_max_repeats: -1 is out of range 0..1000" },
	{ HEAD PTS "        warn_max_repeats: 1.5\n",
	  "warn_max_repeats: expected a whole number" },
	{ HEAD PTS "board:\n  type: sim\n  log: actions.jsonl\n"
		   "  clip: warn.wav\n  speaker_s: 5\n  strobe_s: 0\n",
	  NULL },
	{ HEAD PTS "board:\n  type: linux\n  chip: gpiochip1\n"
		   "  speaker_line: 17\n  strobe_line: 27\n  active_low: yes\n"
		   "  player: \"mpg123 -q\"\n  watchdog: /dev/watchdog\n",
	  NULL },
	{ HEAD PTS "board:\n  type: arduino\n",
	  "test.yaml:9: board: type 'arduino' is not one of none, sim, linux" },
	{ HEAD PTS "board:\n  type: linux\n  clip: a.wav\n  player: \"\"\n",
	  "test.yaml:9: board: a clip needs a player command" },
	{ HEAD PTS "board:\n  speaker_line: 4\n  strobe_line: 4\n",
	  "speaker_line and strobe_line are both 4" },
	{ HEAD PTS "board:\n  speaker_line: 1024\n",
	  "test.yaml:9: speaker_line: 1024 is out of range -1..1023" },
	{ HEAD PTS "board:\n  strobe_s: 601\n",
	  "strobe_s: 601 is out of range 0..600" },
	{ HEAD PTS "board:\n  speaker: 3\n",
	  "test.yaml:9: unknown key 'speaker' in board" },
	{ HEAD PTS "board: sim\n", "test.yaml:8: board: expected a map" },
	/* Camera health (issue 4 point 5). */
	{ HEAD PTS
	  "health:\n  enabled: no\n  frozen_s: 30\n  covered_s: 5\n"
	  "  moved_s: 20\n  clear_s: 2\n  learn_s: 120\n  covered_std: 2\n"
	  "  moved_shift_px: 6\n  moved_corr: 0.5\n",
	  NULL },
	{ HEAD PTS "health: {}\n", NULL },
	{ HEAD PTS "health:\n  moved_corr: 1\n",
	  "test.yaml:9: moved_corr: 1 is out of range 0.05..0.95" },
	{ HEAD PTS "health:\n  moved_shift_px: 16\n",
	  "moved_shift_px: 16 is out of range 1..15" },
	{ HEAD PTS "health:\n  frozen_s: 1\n",
	  "frozen_s: 1 is out of range 2..3600" },
	{ HEAD PTS "health:\n  frozen: 10\n",
	  "test.yaml:9: unknown key 'frozen' in health" },
	{ HEAD PTS "health: on\n", "test.yaml:8: health: expected a map" },
	/* mqtt (issue 4): the broker, TLS files in pairs, the spool. */
	{ HEAD PTS
	  "mqtt:\n  host: broker.example\n  port: 8883\n"
	  "  username: u\n  password: p\n  tls_ca: ca.pem\n"
	  "  tls_cert: c.pem\n  tls_key: k.pem\n  keepalive_s: 15\n"
	  "  client_id: edge-01-a\n  heartbeat_s: 5\n  spool_dir: /var/x\n"
	  "  spool_max_mb: 16\n",
	  NULL },
	{ HEAD PTS "mqtt:\n  port: 65536\n",
	  "test.yaml:9: port: 65536 is out of range 0..65535" },
	{ HEAD PTS "mqtt:\n  host: h\n  tls_cert: c.pem\n",
	  "test.yaml:9: mqtt: give tls_cert and tls_key together" },
	{ HEAD PTS "mqtt:\n  tls_cert: c.pem\n  tls_key: k.pem\n",
	  "test.yaml:9: mqtt: tls_cert needs tls_ca (TLS on)" },
	{ HEAD PTS "mqtt:\n  password: p\n",
	  "test.yaml:9: mqtt: a password needs a username" },
	{ HEAD PTS "mqtt:\n  heartbeat_s: 0\n",
	  "heartbeat_s: 0 is out of range 1..3600" },
	{ HEAD PTS "mqtt:\n  keepalive_s: 4\n",
	  "keepalive_s: 4 is out of range 5..3600" },
	{ HEAD PTS "mqtt:\n  broker: h\n",
	  "test.yaml:9: unknown key 'broker' in mqtt" },
	{ HEAD PTS "        disabled: yes\n", NULL },
	{ HEAD PTS "        disabled: 2\n", "disabled" },
	/* The engine's messages (src/core/schema.c, shared with the hub):
	 * the value that was refused, bounds written out in full. */
	{ HEAD PTS "        dwell_s: soon\n",
	  "test.yaml:8: dwell_s: expected a number, got 'soon'" },
	{ HEAD PTS "        dwell_s: \"5\"\n",
	  "dwell_s: expected a number (quoted values are strings), got '5'" },
	{ HEAD PTS "        dwell_s: 0x10\n",
	  "dwell_s: expected a number, got '0x10'" },
	{ HEAD PTS "        disabled: maybe\n",
	  "test.yaml:8: disabled: expected a boolean (true, false, yes, no), "
	  "got 'maybe'" },
	{ HEAD PTS "        disabled: on\n", "disabled: expected a boolean" },
	{ HEAD PTS "        disabled: \"yes\"\n",
	  "disabled: expected a boolean (true, false, yes, no) (quoted values "
	  "are strings), got 'yes'" },
	{ HEAD PTS "        disabled: TRUE\n", NULL },
	{ HEAD PTS "evidence: {max_mb: 2e7}\n",
	  "test.yaml:8: max_mb: 2e7 is out of range 1..10000000" },
};

/* Parse and apply text; returns rc, message in err. */
static int load_text(fl_config *cfg, const char *text, const char *name,
		     char *err, size_t errlen)
{
	fl_node *doc;
	int rc;

	fl_config_defaults(cfg);
	doc = fl_yaml_parse(text, strlen(text), name, err, errlen);
	if (!doc)
		return FL_EFORMAT;
	rc = fl_config_apply(cfg, doc, name, err, errlen);
	fl_node_free(doc);
	return rc;
}

static void test_cases(fl_config *cfg)
{
	char err[512];

	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		const struct yaml_case *t = &cases[i];
		int rc = load_text(cfg, t->yaml, "test.yaml", err, sizeof(err));

		if (!t->expect) {
			CHECK(rc == 0, "case %zu: expected success, got %d: %s",
			      i, rc, err);
			continue;
		}
		CHECK(rc != 0, "case %zu: expected error '%s', loaded", i,
		      t->expect);
		CHECK(rc == 0 || strstr(err, t->expect),
		      "case %zu: expected '%s' in '%s'", i, t->expect, err);
		CHECK(rc == 0 || !strncmp(err, "test.yaml:", 10),
		      "case %zu: '%s' does not start with file:", i, err);
	}
}

/* The effective values of a minimal config are the documented defaults. */
static void test_defaults(fl_config *cfg)
{
	char err[256];
	const fl_lane_conf *l;
	int rc = load_text(cfg, cases[0].yaml, "test.yaml", err, sizeof(err));

	CHECK(rc == 0, "%s", err);
	CHECK(!strcmp(cfg->device_id, "edge-01"), "%s", cfg->device_id);
	CHECK(!strcmp(cfg->site, "demo-site"), "%s", cfg->site);
	CHECK(cfg->detect.analysis_width == 320, "%d",
	      cfg->detect.analysis_width);
	CHECK(cfg->detect.analysis_fps == 5, "%g", cfg->detect.analysis_fps);
	CHECK(cfg->detect.rest_s == 2, "%g", cfg->detect.rest_s);
	CHECK(cfg->detect.model[0] == '\0', "%s", cfg->detect.model);
	CHECK(cfg->detect.model_interval_s == 2, "%g",
	      cfg->detect.model_interval_s);
	CHECK(cfg->detect.model_conf == 0.3, "%g", cfg->detect.model_conf);
	/* Health: the defaults of src/detect/health.c's essay. */
	CHECK(cfg->health.enabled == 1 && cfg->health.frozen_s == 15 &&
		      cfg->health.covered_s == 10 &&
		      cfg->health.moved_s == 10 && cfg->health.clear_s == 5 &&
		      cfg->health.learn_s == 60 &&
		      cfg->health.covered_std == 3 &&
		      cfg->health.moved_shift_px == 8 &&
		      cfg->health.moved_corr == 0.4,
	      "health defaults %d %g %g %g", cfg->health.enabled,
	      cfg->health.frozen_s, cfg->health.covered_s, cfg->health.moved_s);
	CHECK(cfg->detect.people_detector == 1, "%d",
	      cfg->detect.people_detector);
	CHECK(cfg->ncameras == 1, "%d", cfg->ncameras);
	CHECK(cfg->cameras[0].line == 3, "%d", cfg->cameras[0].line);
	CHECK(!strcmp(cfg->cameras[0].source, "rtsp://192.0.2.1/stream"), "%s",
	      cfg->cameras[0].source);
	CHECK(cfg->cameras[0].fps == 0 && cfg->cameras[0].width == 0, "fps");
	CHECK(cfg->cameras[0].nlanes == 1, "%d", cfg->cameras[0].nlanes);
	l = &cfg->cameras[0].lanes[0];
	CHECK(l->line == 6, "%d", l->line);
	CHECK(!strcmp(l->name, "lane-a"), "name defaults to id: %s", l->name);
	CHECK(l->npoints == 4 && l->points[2].x == 200 && l->points[2].y == 300,
	      "points");
	CHECK(l->dwell_s == 60 && l->clear_s == 3 && l->occlusion_s == 120 &&
		      l->min_size_px == 4,
	      "lane times");
	CHECK(l->min_size_m == 0.3 && l->width_m == 4 &&
		      l->min_overlap == 0.3 && l->clear_width_m == 0,
	      "lane footprint and scale");
	CHECK(l->classes == (FL_CLASS_VEHICLE | FL_CLASS_OBJECT), "%d",
	      l->classes);
	CHECK(l->nhours == 0, "%d", l->nhours);
	CHECK(l->warn_s == 30 && l->warn_repeat_s == 60 && l->escalate_s == 600,
	      "warn");

	/* The full case: every value lands where it should. */
	rc = load_text(cfg, cases[1].yaml, "test.yaml", err, sizeof(err));
	CHECK(rc == 0, "%s", err);
	l = &cfg->cameras[0].lanes[0];
	CHECK(!strcmp(cfg->site, "城东小区"), "%s", cfg->site);
	CHECK(!strcmp(l->name, "消防通道 A"), "%s", l->name);
	CHECK(cfg->detect.people_detector == 0, "bool no");
	CHECK(cfg->detect.analysis_width == 640, "int");
	CHECK(cfg->detect.analysis_fps == 2.5, "num");
	CHECK(!strcmp(cfg->detect.model, "models/yolo.cfg"), "%s",
	      cfg->detect.model);
	CHECK(!strcmp(cfg->cameras[0].source, "/dev/video0"), "%s",
	      cfg->cameras[0].source);
	CHECK(cfg->cameras[0].width == 640 && cfg->cameras[0].height == 480,
	      "size");
	CHECK(l->classes == (FL_CLASS_VEHICLE | FL_CLASS_PERSON), "%d",
	      l->classes);
	CHECK(l->nhours == 2 && l->hours[0].start_min == 22 * 60 &&
		      l->hours[0].end_min == 6 * 60,
	      "hours");
	CHECK(l->escalate_s == 86400 && l->occlusion_s == 0,
	      "bounds inclusive");
}

static void test_active(void)
{
	fl_lane_conf l;

	memset(&l, 0, sizeof(l));
	CHECK(fl_lane_active(&l, 0) && fl_lane_active(&l, 1439), "always");
	l.nhours = 1;
	l.hours[0].start_min = 22 * 60;
	l.hours[0].end_min = 6 * 60;
	CHECK(fl_lane_active(&l, 23 * 60), "wrap late");
	CHECK(fl_lane_active(&l, 0), "wrap midnight");
	CHECK(fl_lane_active(&l, 5 * 60 + 59), "wrap early");
	CHECK(!fl_lane_active(&l, 6 * 60), "end is exclusive");
	CHECK(!fl_lane_active(&l, 12 * 60), "day off");
	l.hours[0].start_min = 8 * 60;
	l.hours[0].end_min = 24 * 60;
	CHECK(fl_lane_active(&l, 8 * 60) && fl_lane_active(&l, 1439),
	      "to 24:00");
	CHECK(!fl_lane_active(&l, 7 * 60 + 59), "before start");
	l.nhours = 2;
	l.hours[1].start_min = 0;
	l.hours[1].end_min = 60;
	CHECK(fl_lane_active(&l, 30) && !fl_lane_active(&l, 90), "two ranges");
}

/* Two streams: values, paths, the detect stream of a source-only camera,
 * the lanes' scale from record to detect pixels and the aspect check. */
static void test_streams(fl_config *cfg)
{
	char err[512];
	const fl_camera_conf *cam;
	fl_stream_conf buf;
	double kx, ky;
	int rc;

	rc = load_text(cfg,
		       TWO("{url: sub.mp4, transport: udp, timeout_s: 3}",
			   "rtsp://cam/101"),
		       "site/edge.yaml", err, sizeof(err));
	CHECK(rc == 0, "%s", err);
	cam = &cfg->cameras[0];
	CHECK(!strcmp(cam->detect.url, "site/sub.mp4"), "%s", cam->detect.url);
	CHECK(cam->detect.udp == 1 && cam->detect.timeout_s == 3, "options");
	CHECK(!strcmp(cam->record.url, "rtsp://cam/101") && !cam->record.udp,
	      "%s", cam->record.url);
	CHECK(fl_camera_detect(cam, &buf) == &cam->detect, "detect");

	/* 640x360 analysed, lanes drawn on 1920x1080: a third. */
	rc = fl_camera_scale(cam, 640, 360, 1920, 1080, &kx, &ky, err,
			     sizeof(err));
	CHECK(rc == 0 && fabs(kx - 1.0 / 3) < 1e-12 &&
		      fabs(ky - 1.0 / 3) < 1e-12,
	      "%d %g %g %s", rc, kx, ky, err);
	/* 1 % apart: inside the tolerance (704x400 vs 1920x1080) */
	rc = fl_camera_scale(cam, 704, 400, 1920, 1080, &kx, &ky, err,
			     sizeof(err));
	CHECK(rc == 0 && fabs(ky - 400.0 / 1080) < 1e-12, "%d %s", rc, err);
	/* 4:3 analysed, 16:9 recorded: refused, naming the keys */
	rc = fl_camera_scale(cam, 640, 480, 1920, 1080, &kx, &ky, err,
			     sizeof(err));
	CHECK(rc == FL_ECONFIG && strstr(err, "camera 'c'") &&
		      strstr(err, "cameras[].detect is 640x480") &&
		      strstr(err, "cameras[].record 1920x1080"),
	      "%d %s", rc, err);
	/* 3 % apart: refused */
	rc = fl_camera_scale(cam, 640, 360, 1920, 1111, &kx, &ky, err,
			     sizeof(err));
	CHECK(rc == FL_ECONFIG, "3 %% apart: %d", rc);

	/* the single stream: detect is source, no scaling */
	rc = load_text(cfg, cases[0].yaml, "edge.yaml", err, sizeof(err));
	CHECK(rc == 0, "%s", err);
	cam = &cfg->cameras[0];
	CHECK(!strcmp(fl_camera_detect(cam, &buf)->url,
		      "rtsp://192.0.2.1/stream"),
	      "%s", buf.url);
	rc = fl_camera_scale(cam, 640, 480, 1920, 1080, &kx, &ky, err,
			     sizeof(err));
	CHECK(rc == 0 && kx == 1 && ky == 1, "no record: no scale");
}

/* A stream's options survive the dump; a changed option is a changed
 * stream (what the edge reopens a camera for). */
static void test_streams_dump(fl_config *cfg, fl_config *cfg2)
{
	char err[512], *a = malloc(1 << 16);

	if (!a)
		abort();
	CHECK(load_text(cfg,
			TWO("{url: rtsp://cam/102, transport: udp, timeout_s: "
			    "2.5}",
			    "rtsp://cam/101"),
			"test.yaml", err, sizeof(err)) == 0,
	      "%s", err);
	fl_config_dump(cfg, a, 1 << 16);
	CHECK(strstr(a, "detect: {url: \"rtsp://cam/102\", transport: udp, "
			"timeout_s: 2.5}") &&
		      strstr(a, "record: \"rtsp://cam/101\"") &&
		      strstr(a, "source: \"\""),
	      "%s", a);
	CHECK(load_text(cfg2, a, "dump.yaml", err, sizeof(err)) == 0,
	      "dump reloads: %s", err);
	CHECK(fl_camera_same_streams(&cfg->cameras[0], &cfg2->cameras[0]),
	      "same streams after the round trip");
	cfg2->cameras[0].detect.udp = 0;
	CHECK(!fl_camera_same_streams(&cfg->cameras[0], &cfg2->cameras[0]),
	      "transport changed");

	/* hwaccel: the camera's own survives the dump and is a change of
	 * stream; without it the device's detect.hwaccel applies. */
	CHECK(load_text(cfg,
			TWO("{url: rtsp://cam/102, hwaccel: cuda}",
			    "rtsp://cam/101") "detect: {hwaccel: auto}\n",
			"test.yaml", err, sizeof(err)) == 0,
	      "%s", err);
	CHECK(!strcmp(fl_camera_hwaccel(cfg, &cfg->cameras[0]), "cuda"), "%s",
	      fl_camera_hwaccel(cfg, &cfg->cameras[0]));
	fl_config_dump(cfg, a, 1 << 16);
	CHECK(strstr(a, "hwaccel: cuda}") && strstr(a, "hwaccel: auto\n"), "%s",
	      a);
	CHECK(load_text(cfg2, a, "dump.yaml", err, sizeof(err)) == 0,
	      "dump reloads: %s", err);
	CHECK(fl_camera_same_streams(&cfg->cameras[0], &cfg2->cameras[0]),
	      "same streams after the round trip");
	CHECK(!strcmp(cfg2->detect.hwaccel, "auto"), "%s",
	      cfg2->detect.hwaccel);
	cfg2->cameras[0].detect.hwaccel[0] = '\0';
	CHECK(!fl_camera_same_streams(&cfg->cameras[0], &cfg2->cameras[0]),
	      "hwaccel changed");
	CHECK(!strcmp(fl_camera_hwaccel(cfg2, &cfg2->cameras[0]), "auto"),
	      "device-wide");
	CHECK(load_text(cfg2, cases[0].yaml, "edge.yaml", err, sizeof(err)) == 0,
	      "%s", err);
	CHECK(!strcmp(fl_camera_hwaccel(cfg2, &cfg2->cameras[0]), "none"),
	      "default");

	/* a camera's password is not in the dump, whichever key holds it */
	CHECK(load_text(cfg,
			TWO("{url: \"rtsp://admin:s3cret@cam/102\", "
			    "timeout_s: 3}",
			    "\"rtsp://admin:s3cret@cam/101\""),
			"test.yaml", err, sizeof(err)) == 0,
	      "%s", err);
	fl_config_dump(cfg, a, 1 << 16);
	CHECK(!strstr(a, "s3cret") &&
		      strstr(a, "record: \"rtsp://admin:***@cam/101\"") &&
		      strstr(a, "{url: \"rtsp://admin:***@cam/102\""),
	      "%s", a);
	CHECK(load_text(
		      cfg,
		      "device: {id: e, site: s}\ncameras:\n  - id: c\n"
		      "    source: \"rtsp://admin:s3cret@cam/1\"\n    lanes:\n"
		      "      - id: l\n        points: [[0, 0], [9, 0], [9, 9]]\n",
		      "test.yaml", err, sizeof(err)) == 0,
	      "%s", err);
	fl_config_dump(cfg, a, 1 << 16);
	CHECK(!strstr(a, "s3cret") &&
		      strstr(a, "source: \"rtsp://admin:***@cam/1\""),
	      "%s", a);
	free(a);
}

static void test_check_frame(fl_config *cfg)
{
	char err[256];
	int rc = load_text(cfg, cases[0].yaml, "site/edge.yaml", err,
			   sizeof(err));

	CHECK(rc == 0, "%s", err);
	CHECK(fl_config_check_frame(cfg, 0, 640, 480, err, sizeof(err)) == 0,
	      "%s", err);
	CHECK(fl_config_check_frame(cfg, 0, 200, 300, err, sizeof(err)) == 0,
	      "edges are inside: %s", err);
	rc = fl_config_check_frame(cfg, 0, 320, 240, err, sizeof(err));
	CHECK(rc == FL_ECONFIG, "%d", rc);
	CHECK(strstr(err, "site/edge.yaml:6: lane 'lane-a'") &&
		      strstr(err, "320x240"),
	      "%s", err);
	CHECK(fl_config_check_frame(cfg, 1, 640, 480, err, sizeof(err)) ==
		      FL_EINVAL,
	      "camera out of range");
	CHECK(fl_config_check_frame(cfg, 0, 0, 480, err, sizeof(err)) ==
		      FL_EINVAL,
	      "zero width");
}

/* The tree itself: kinds, lines, key lines, quoting, the depth limit. */
static void test_tree(void)
{
	static const char text[] = "# comment\n"
				   "a: 5\n"
				   "b: \"5\"\n"
				   "c:\n"
				   "  - 'x'\n"
				   "  - [1, y]\n"
				   "d: |\n  block\n";
	char err[256], deep[300];
	fl_node *t = fl_yaml_parse(text, strlen(text), "t.yaml", err,
				   sizeof(err));

	CHECK(t != NULL, "%s", err);
	if (!t)
		return;
	CHECK(t->kind == FL_NODE_MAP && t->n == 4 && t->line == 2, "root");
	CHECK(!strcmp(t->keys[0], "a") && t->key_lines[0] == 2 &&
		      t->items[0]->kind == FL_NODE_SCALAR &&
		      !t->items[0]->quoted && !strcmp(t->items[0]->scalar, "5"),
	      "plain scalar");
	CHECK(t->items[1]->quoted && t->items[1]->line == 3, "quoted");
	CHECK(t->key_lines[2] == 4 && t->items[2]->kind == FL_NODE_SEQ &&
		      t->items[2]->line == 5 && t->items[2]->n == 2,
	      "seq: key line %d, seq line %d", t->key_lines[2],
	      t->items[2]->line);
	CHECK(t->items[2]->items[0]->quoted, "single quoted");
	CHECK(t->items[2]->items[1]->kind == FL_NODE_SEQ &&
		      t->items[2]->items[1]->line == 6 &&
		      !strcmp(t->items[2]->items[1]->items[1]->scalar, "y"),
	      "flow seq");
	CHECK(t->items[3]->quoted && !strcmp(t->items[3]->scalar, "block\n"),
	      "block scalar counts as quoted");
	fl_node_free(t);
	fl_node_free(NULL);

	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	t = fl_yaml_parse(deep, 200, "deep.yaml", err, sizeof(err));
	CHECK(!t && strstr(err, "deep.yaml:1: nesting deeper than"), "%s", err);
	fl_node_free(t);
	/* Not NUL-terminated: only len bytes are read. */
	t = fl_yaml_parse("a: 1xxxx", 4, "n.yaml", err, sizeof(err));
	CHECK(t && t->n == 1 && !strcmp(t->items[0]->scalar, "1"), "len");
	fl_node_free(t);
}

/* A small error buffer truncates and stays terminated. */
static void test_small_err(fl_config *cfg)
{
	char err[12];

	memset(err, 'x', sizeof(err));
	CHECK(load_text(cfg, cases[2].yaml, "test.yaml", err, 8) != 0, "fails");
	CHECK(strlen(err) == 7 && err[8] == 'x', "'%s'", err);
	CHECK(load_text(cfg, "", "test.yaml", err, 5) != 0, "fails");
	CHECK(strlen(err) == 4, "'%s'", err);
}

/* dump -> parse -> apply -> dump is a fixed point, and names every key. */
static void test_dump(fl_config *cfg, fl_config *cfg2)
{
	char err[256];
	size_t n, n2;
	char *a, *b;

	CHECK(load_text(cfg, cases[1].yaml, "test.yaml", err, sizeof(err)) == 0,
	      "%s", err);
	n = fl_config_dump(cfg, NULL, 0);
	a = malloc(n + 1);
	b = malloc(n + 1);
	if (!a || !b)
		abort();
	CHECK(fl_config_dump(cfg, a, n + 1) == n, "length");
	CHECK(strlen(a) == n, "terminated");
	CHECK(load_text(cfg2, a, "dump.yaml", err, sizeof(err)) == 0,
	      "dump reloads: %s\n%s", err, a);
	n2 = fl_config_dump(cfg2, b, n + 1);
	CHECK(n2 == n && !strcmp(a, b), "round trip:\n%s\n---\n%s", a, b);
	CHECK(strstr(a, "escalate_s: 86400") &&
		      strstr(a, "people_detector: false") &&
		      strstr(a, "obstructions: [vehicle, person]") &&
		      strstr(a, "active: [\"22:00-06:00\", \"12:00-13:00\"]") &&
		      strstr(a, "reference: \"ref.png\"") &&
		      strstr(a, "model_conf: 0.45"),
	      "%s", a);
	/* Truncated dump: snprintf semantics. */
	CHECK(fl_config_dump(cfg, a, 10) == n && strlen(a) == 9, "truncate");
	free(a);
	free(b);

	/* Defaults dump too: nhours 0 is written as the whole day. */
	CHECK(load_text(cfg, cases[0].yaml, "test.yaml", err, sizeof(err)) == 0,
	      "%s", err);
	n = fl_config_dump(cfg, NULL, 0);
	a = malloc(n + 1);
	if (!a)
		abort();
	fl_config_dump(cfg, a, n + 1);
	CHECK(strstr(a, "active: [\"00:00-24:00\"]") &&
		      strstr(a, "dwell_s: 60") && strstr(a, "warn_s: 30") &&
		      strstr(a, "analysis_width: 320"),
	      "%s", a);
	CHECK(load_text(cfg2, a, "dump.yaml", err, sizeof(err)) == 0, "%s",
	      err);
	CHECK(fl_lane_active(&cfg2->cameras[0].lanes[0], 3 * 60), "all day");
	CHECK(strstr(a, "  password: \"\"\n") != NULL, "no password: %s", a);
	free(a);

	/* The MQTT password is never dumped (--check-config): "***" when set,
	 * and the dump still reloads. */
	CHECK(load_text(cfg,
			"device: {id: e, site: s}\ncameras:\n"
			"  - id: c\n    source: x.mp4\n    lanes:\n"
			"      - id: l\n"
			"        points: [[0, 0], [9, 0], [9, 9]]\n"
			"mqtt:\n  host: h\n  username: u\n"
			"  password: \"pw-Zq81\"\n",
			"test.yaml", err, sizeof(err)) == 0,
	      "%s", err);
	CHECK(!strcmp(cfg->mqtt.password, "pw-Zq81"), "password loaded");
	n = fl_config_dump(cfg, NULL, 0);
	a = malloc(n + 1);
	if (!a)
		abort();
	fl_config_dump(cfg, a, n + 1);
	CHECK(!strstr(a, "pw-Zq81"), "the dump shows the password:\n%s", a);
	CHECK(strstr(a, "  password: \"***\"\n") &&
		      strstr(a, "  username: \"u\"\n"),
	      "%s", a);
	CHECK(load_text(cfg2, a, "dump.yaml", err, sizeof(err)) == 0, "%s",
	      err);
	free(a);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
			buf[n] = '\0';
			*len = (size_t)n;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static int spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -1;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static const char *source_dir(void)
{
	static char dir[1024];
	const char *env = getenv("FL_SOURCE_DIR");
	const char *p;

	if (env && *env)
		return env;
	/* Run by hand: this file is SOURCE/tests/unit/test_config.c. */
	snprintf(dir, sizeof(dir), "%s", __FILE__);
	for (int i = 0; i < 3; i++) {
		p = strrchr(dir, '/');
		if (!p)
			return ".";
		dir[p - dir] = '\0';
	}
	return dir;
}

/* The generated files: docs/NAME and what writes them. */
static const struct {
	const char *name;
	size_t (*gen)(char *, size_t);
} generated[] = {
	{ "config.md", fl_config_doc },
	{ "firelane.sample.yaml", fl_config_sample },
	{ "hub-config.md", hub_conf_doc },
	{ "firelane-hub.sample.yaml", hub_conf_sample },
};

static char *generate(size_t (*gen)(char *, size_t))
{
	size_t n = gen(NULL, 0);
	char *s = malloc(n + 1);

	if (!s)
		abort();
	CHECK(gen(s, n + 1) == n, "generator length");
	return s;
}

/* The committed docs are what the table generates, and the sample loads. */
static void test_docs(fl_config *cfg)
{
	const char *dir = source_dir();
	char path[1200], err[256];
	char *doc = generate(fl_config_doc);
	char *sample = generate(fl_config_sample);
	char *disk, *want;
	size_t len = 0;

	for (size_t i = 0; i < FL_ARRAY_SIZE(generated); i++) {
		snprintf(path, sizeof(path), "%s/docs/%s", dir,
			 generated[i].name);
		disk = slurp(path, &len);
		want = generate(generated[i].gen);
		CHECK(disk && !strcmp(disk, want),
		      "%s is missing or differs from what the table "
		      "generates; regenerate with test_config --write-docs",
		      path);
		free(disk);
		free(want);
	}

	CHECK(load_text(cfg, sample, "sample.yaml", err, sizeof(err)) == 0,
	      "sample loads: %s", err);
	/* Every key of the sample is documented. */
	CHECK(strstr(doc, "| `escalate_s` |") && strstr(doc, "| `active` |") &&
		      strstr(doc, "| `people_detector` |") &&
		      strstr(doc, "`[vehicle, object]`") &&
		      strstr(doc, "1..86400"),
	      "doc rows");
	/* Reload: a lane's settings apply on SIGHUP, its id and polygon do
	 * not (src/edge's reload); other sections have no such column. */
	CHECK(strstr(doc, "| `dwell_s` | number | 1..86400 | `60` | yes |") &&
		      strstr(doc, "| `points` | list of [x, y] | 3..16 items "
				  "| - | restart |") &&
		      strstr(doc, "| `id` | id | 1..63 chars of `A-Z a-z 0-9 _ "
				  ". -` | *required* | restart | lane id") &&
		      strstr(doc, "| `rest_s` | number | 0.5..30 | `2` | "
				  "seconds"),
	      "reload column");
	free(doc);
	free(sample);
}

/* fl_config_load on real files: errors name the path; paths resolve. */
static void test_load(fl_config *cfg)
{
	char dir[] = "/tmp/fl-test-config-XXXXXX";
	char path[256], err[512], want[300];
	int rc;

	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/missing.yaml", dir);
	rc = fl_config_load(cfg, path, err, sizeof(err));
	CHECK(rc == FL_ENOENT, "%d", rc);
	CHECK(strstr(err, path) && strstr(err, "No such file"), "%s", err);

	snprintf(path, sizeof(path), "%s/bad.yaml", dir);
	CHECK(spit(path, "device: {id: e, site: s}\ncameras: [\n") == 0, "w");
	rc = fl_config_load(cfg, path, err, sizeof(err));
	snprintf(want, sizeof(want), "%s:3: ", path);
	CHECK(rc == FL_EFORMAT && !strncmp(err, want, strlen(want)), "%d %s",
	      rc, err);

	snprintf(path, sizeof(path), "%s/edge.yaml", dir);
	CHECK(spit(path,
		   "device: {id: e, site: s}\n"
		   "detect: {model: models/m.onnx}\n"
		   "cameras:\n"
		   "  - id: c1\n    source: clips/a.mp4\n"
		   "    reference: /abs/ref.png\n"
		   "    lanes: [{id: l, points: [[0,0],[9,0],[9,9]]}]\n"
		   "  - id: c2\n    source: rtsp://h/s\n"
		   "    lanes: [{id: l, points: [[0,0],[9,0],[9,9]]}]\n") == 0,
	      "w");
	rc = fl_config_load(cfg, path, err, sizeof(err));
	CHECK(rc == 0, "%s", err);
	snprintf(want, sizeof(want), "%s/clips/a.mp4", dir);
	CHECK(!strcmp(cfg->cameras[0].source, want), "%s",
	      cfg->cameras[0].source);
	snprintf(want, sizeof(want), "%s/models/m.onnx", dir);
	CHECK(!strcmp(cfg->detect.model, want), "%s", cfg->detect.model);
	CHECK(!strcmp(cfg->cameras[0].reference, "/abs/ref.png"), "%s",
	      cfg->cameras[0].reference);
	CHECK(!strcmp(cfg->cameras[1].source, "rtsp://h/s"), "%s",
	      cfg->cameras[1].source);
	CHECK(!strcmp(cfg->path, path), "%s", cfg->path);

	snprintf(path, sizeof(path), "%s/range.yaml", dir);
	CHECK(spit(path, "device: {id: e, site: s}\ncameras:\n  - id: c\n"
			 "    source: x\n    lanes:\n      - id: l\n"
			 "        points: [[0,0],[9,0],[9,9]]\n"
			 "        dwell_s: 0\n") == 0,
	      "w");
	rc = fl_config_load(cfg, path, err, sizeof(err));
	snprintf(want, sizeof(want),
		 "%s:8: dwell_s: 0 is out of range 1..86400", path);
	CHECK(rc == FL_ECONFIG && !strcmp(err, want), "%d %s", rc, err);

	/* A directory is not a file. */
	rc = fl_config_load(cfg, dir, err, sizeof(err));
	CHECK(rc != 0 && strstr(err, dir), "%d %s", rc, err);

	unlink(path);
	snprintf(path, sizeof(path), "%s/edge.yaml", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/bad.yaml", dir);
	unlink(path);
	rmdir(dir);
}

/* Evidence keys: defaults, the display-name default, key path resolution
 * (no file is touched: the names are only strings here). */
static void test_evidence_keys(fl_config *cfg)
{
	char err[512];
	int rc;

	rc = load_text(cfg, "device: {id: e, site: s}\ncameras:\n" CAM("c"),
		       "/etc/firelane/edge.yaml", err, sizeof(err));
	CHECK(rc == 0, "%s", err);
	CHECK(cfg->evidence.dir[0] == '\0', "dir '%s'", cfg->evidence.dir);
	CHECK(cfg->evidence.pre_roll_s == 10 &&
		      cfg->evidence.post_roll_s == 10 &&
		      cfg->evidence.interval_s == 0 &&
		      cfg->evidence.max_images == 6 &&
		      cfg->evidence.jpeg_quality == 90,
	      "evidence defaults");
	CHECK(!strcmp(cfg->site_name, "s"), "site_name '%s'", cfg->site_name);
	CHECK(!strcmp(cfg->key_file, "/etc/firelane/device.key"), "key '%s'",
	      cfg->key_file);
	CHECK(!strcmp(cfg->state_dir, "/etc/firelane/state"), "state '%s'",
	      cfg->state_dir);
	CHECK(strstr(cfg->evidence.font, "NotoSansCJK"), "font '%s'",
	      cfg->evidence.font);

	rc = load_text(cfg,
		       "device: {id: e, site: s, site_name: \"城东小区\", "
		       "key_file: keys/k.key, state_dir: /var/lib/fl}\n"
		       "evidence: {dir: ev, pre_roll_s: 4}\ncameras:\n" CAM("c"),
		       "/srv/fl/edge.yaml", err, sizeof(err));
	CHECK(rc == 0, "%s", err);
	CHECK(!strcmp(cfg->site_name, "城东小区"), "site_name '%s'",
	      cfg->site_name);
	CHECK(!strcmp(cfg->key_file, "/srv/fl/keys/k.key"), "key '%s'",
	      cfg->key_file);
	CHECK(!strcmp(cfg->state_dir, "/var/lib/fl"), "state '%s'",
	      cfg->state_dir);
	CHECK(!strcmp(cfg->evidence.dir, "/srv/fl/ev"), "dir '%s'",
	      cfg->evidence.dir);
	CHECK(cfg->evidence.pre_roll_s == 4, "pre_roll_s");
}

/* Warning keys: defaults, quiet hours, the board and its paths. */
static void test_warning_keys(fl_config *cfg)
{
	const fl_lane_conf *l;
	char err[512], *dump;
	size_t n;
	int rc;

	rc = load_text(cfg, "device: {id: e, site: s}\ncameras:\n" CAM("c"),
		       "/etc/firelane/edge.yaml", err, sizeof(err));
	CHECK(rc == 0, "%s", err);
	l = &cfg->cameras[0].lanes[0];
	CHECK(l->warn_s == 30 && l->warn_repeat_s == 60 &&
		      l->warn_max_repeats == 5 && l->nquiet == 0,
	      "lane warning defaults");
	CHECK(!strcmp(cfg->board.type, "none") &&
		      !strcmp(cfg->board.chip, "gpiochip0") &&
		      cfg->board.speaker_line == -1 &&
		      cfg->board.strobe_line == -1 && !cfg->board.active_low &&
		      !strcmp(cfg->board.player, "aplay -q") &&
		      cfg->board.clip[0] == '\0' &&
		      cfg->board.watchdog[0] == '\0' &&
		      cfg->board.speaker_s == 8 && cfg->board.strobe_s == 15,
	      "board defaults");

	rc = load_text(cfg,
		       "device: {id: e, site: s}\n"
		       "board: {type: sim, clip: sounds/move.wav, "
		       "log: /tmp/a.jsonl}\ncameras:\n"
		       "  - id: c\n    source: x.mp4\n    lanes:\n"
		       "      - id: l\n"
		       "        points: [[0, 0], [9, 0], [9, 9]]\n"
		       "        quiet_hours: [\"22:30-06:00\"]\n"
		       "        warn_max_repeats: 2\n",
		       "/srv/fl/edge.yaml", err, sizeof(err));
	CHECK(rc == 0, "%s", err);
	l = &cfg->cameras[0].lanes[0];
	CHECK(l->nquiet == 1 && l->quiet[0].start_min == 22 * 60 + 30 &&
		      l->quiet[0].end_min == 6 * 60,
	      "quiet %d", l->nquiet);
	CHECK(l->nhours == 0, "active untouched by quiet_hours");
	CHECK(l->warn_max_repeats == 2, "max repeats");
	CHECK(!strcmp(cfg->board.clip, "/srv/fl/sounds/move.wav"), "clip '%s'",
	      cfg->board.clip);
	CHECK(!strcmp(cfg->board.log, "/tmp/a.jsonl"), "log '%s'",
	      cfg->board.log);
	n = fl_config_dump(cfg, NULL, 0);
	dump = malloc(n + 1);
	if (!dump)
		abort();
	fl_config_dump(cfg, dump, n + 1);
	CHECK(strstr(dump, "quiet_hours: [\"22:30-06:00\"]") &&
		      strstr(dump, "active: [\"00:00-24:00\"]") &&
		      strstr(dump, "type: \"sim\""),
	      "dump: %s", dump);
	free(dump);
}

/* fl_config_parse: a configuration from text (one sent for a device, not
 * read from a file) goes through the same engine, named in its messages. */
static void test_parse_text(fl_config *cfg)
{
	static const char bad[] = HEAD PTS "        dwell_s: 0\n";
	static const char good[] =
		"device: {id: e, site: s}\n"
		"detect: {model: m.onnx}\ncameras:\n" CAM("c");
	char err[512];
	int rc;

	rc = fl_config_parse(cfg, bad, strlen(bad), "edge-01 (sent)", err,
			     sizeof(err));
	CHECK(rc == FL_ECONFIG &&
		      !strcmp(err, "edge-01 (sent):8: dwell_s: 0 is out of "
				   "range 1..86400"),
	      "%d %s", rc, err);
	rc = fl_config_parse(cfg, "device: {id: e\n", 15, "edge-01 (sent)", err,
			     sizeof(err));
	CHECK(rc == FL_EFORMAT && !strncmp(err, "edge-01 (sent):", 15), "%d %s",
	      rc, err);
	/* A name without a directory leaves relative paths as written. */
	rc = fl_config_parse(cfg, good, strlen(good), "edge-01", err,
			     sizeof(err));
	CHECK(rc == 0 && !strcmp(cfg->detect.model, "m.onnx") &&
		      !strcmp(cfg->path, "edge-01") &&
		      cfg->detect.analysis_width == 320,
	      "%d %s %s", rc, err, cfg->detect.model);
	rc = fl_config_parse(cfg, good, strlen(good), "/srv/fl/edge.yaml", err,
			     sizeof(err));
	CHECK(rc == 0 && !strcmp(cfg->detect.model, "/srv/fl/m.onnx"), "%s",
	      cfg->detect.model);
	/* Only len bytes are read. */
	rc = fl_config_parse(cfg, bad, strlen(bad) - strlen("dwell_s: 0\n"),
			     "t", err, sizeof(err));
	CHECK(rc == 0, "%s", err);
}

static int write_docs(void)
{
	const char *dir = source_dir();
	char path[1200];
	int rc = 0;

	for (size_t i = 0; i < FL_ARRAY_SIZE(generated); i++) {
		char *text = generate(generated[i].gen);

		snprintf(path, sizeof(path), "%s/docs/%s", dir,
			 generated[i].name);
		rc |= spit(path, text);
		printf("wrote %s\n", path);
		free(text);
	}
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	/* fl_config is tens of KiB: keep it off the stack. */
	fl_config *cfg = calloc(1, sizeof(*cfg));
	fl_config *cfg2 = calloc(1, sizeof(*cfg2));

	if (!cfg || !cfg2)
		return 2;
	if (argc > 1 && !strcmp(argv[1], "--write-docs")) {
		free(cfg);
		free(cfg2);
		return write_docs();
	}
	test_cases(cfg);
	test_defaults(cfg);
	test_active();
	test_check_frame(cfg);
	test_streams(cfg);
	test_streams_dump(cfg, cfg2);
	test_tree();
	test_small_err(cfg);
	test_dump(cfg, cfg2);
	test_docs(cfg);
	test_load(cfg);
	test_evidence_keys(cfg);
	test_warning_keys(cfg);
	test_parse_text(cfg);
	free(cfg);
	free(cfg2);
	printf("test_config: %zu table cases, %d checks, %d failed\n",
	       FL_ARRAY_SIZE(cases), checks, failures);
	return failures ? 1 : 0;
}
