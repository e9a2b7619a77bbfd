#!/usr/bin/env bash
# plates_edge.sh - the edge reads the plate of a parked car and the plate
# travels (docs/plate-model.md, docs/mqtt.md "Plate", docs/evidence.md):
# a generated scene (firelane-scene plate_near, 1920x1080, the car's plate
# drawn from a picture the project's plate renderer makes, model/plates/
# render.py, of a known Chinese plate) through the real edge, a real
# mosquitto and the real hub (SQLite):
#   - the alarm message carries "plate" = the true text and a
#     plate_confidence at or above the reader's threshold for Chinese
#     plates (FL_PLATE_MIN_CONF_CN, plate.h);
#   - the evidence message and the signed manifest carry the same plate;
#     the bundle has plate.jpg (kind "plate", stamped like the other images),
#     the close-up's banner names the plate, and firelane-verify accepts the
#     bundle;
#   - the hub's incident has the plate;
#   - the same scene with 京B12345, whose province the reader drops at this
#     size (it reads B12345, a Latin shape; docs/plate-model.md), replayed
#     with evidence.plates_cn_only at its default (on): the manifest says
#     unread (null), never the wrong B12345.
# The true plate is asserted, never "whatever was read": if the reader
# misreads the scene, this test fails.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" "$EDGE" "$SCENE" "$VERIFY" mosquitto mosquitto_sub python3 sqlite3
[ -f "$SRC/model/plates/plate-reader.onnx" ] || fail "the plate model is missing"
MIN_CONF=$(sed -n 's/^#define FL_PLATE_MIN_CONF_CN \([0-9.]*\).*/\1/p' "$SRC/src/core/plate.h")
[ -n "$MIN_CONF" ] || fail "FL_PLATE_MIN_CONF_CN not found in plate.h"
export MIN_CONF
SCENARIO=plate_near
TRUE_PLATE=粤B12345
PORT=$(free_port)
WPORT=$(free_port)

# the plate: a clean blue plate from the project's renderer, as a P6 PPM
plate_ppm() { # TEXT FILE
	/usr/bin/python3 - "$SRC/model/plates" "$1" "$2" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import cv2, numpy as np, render
img = render.render_plate(np.random.default_rng(16), "blue", sys.argv[2])[0]
rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
with open(sys.argv[3], "wb") as f:
    f.write(b"P6 %d %d 255\n" % (rgb.shape[1], rgb.shape[0]) + rgb.tobytes())
PY
}
plate_ppm "$TRUE_PLATE" "$WORK/plate.ppm" || fail "rendering the plate (model/plates/render.py)"
"$SCENE" --scenario $SCENARIO --out "$WORK/scene" --quick --classic \
	--width 1920 --height 1080 --plate-image "$WORK/plate.ppm" \
	>"$WORK/scene.log" 2>&1 || fail "firelane-scene: $(tail -n 3 "$WORK/scene.log")"

broker_start
subscribe "$WORK/sent.txt" 'firelane/scene-site/scene-edge/cam-1/lane-a/incident'
cat >"$WORK/hub.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$NAME, keepalive_s: 5, $HUB_AUTH}
http: {listen: "127.0.0.1:$WPORT"}
store: {sqlite: $WORK/hub.db}
evidence_dir: $WORK/hub-evidence
alerts: {mqtt: false}
EOC
HUB_KEY=$(hub_key "$WORK/hub.yaml")
edge_config "$WORK/scene/edge.yaml" "$(printf 'evidence:\n  dir: %s\n  pre_roll_s: 4\n  post_roll_s: 3\n' "$WORK/evidence")"
sed -i "s|^device: {id: scene-edge, site: scene-site}|device: {id: scene-edge, site: scene-site, key_file: $WORK/device.key}|" "$WORK/scene/edge.yaml"
"$EDGE" --config "$WORK/scene/edge.yaml" --print-public-key >"$WORK/pk.txt" 2>"$WORK/pk.log" ||
	fail "--print-public-key"
"$HUB" --config "$WORK/hub.yaml" --enrol-device scene-edge --site scene-site \
	--public-key "$WORK/pk.txt" >"$WORK/admin.log" 2>&1 || fail "enrol: $(cat "$WORK/admin.log")"
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -v
edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$WORK/scene/edge.yaml" -v
edge_wait 240
for _ in $(seq 300); do
	[ "$(q "select count(*) from incidents where verified = 1")" = 1 ] && break
	sleep 0.1
done
IID=$(q "select incident_id from incidents where verified = 1")
[ -n "$IID" ] || fail "no verified incident: $(q 'select incident_id, status, verified from incidents'); edge: $(grep -i 'plate\|evidence' "$WORK/edge.log" | tail -n 5)"

# the messages the edge sent, unwrapped from their signatures
python3 - "$FL_LIB" "$WORK/sent.txt" "$TRUE_PLATE" <<'PY' || fail "the messages"
import json, os, sys
sys.path.insert(0, sys.argv[1])
from fl_sign import unwrap
want = sys.argv[3]
msgs = [json.loads(unwrap(bytes.fromhex(l.split()[1]))) for l in open(sys.argv[2])]
by = {m["type"]: m for m in msgs}
for t in ("alarm", "evidence"):
    m = by.get(t)
    assert m, "no %s message: %s" % (t, [x["type"] for x in msgs])
    assert "plate" in m and "plate_confidence" in m, "%s without a plate: %s" % (t, m)
    print("%s: plate %s, confidence %.4f" % (t, m["plate"], m["plate_confidence"]))
    assert m["plate"] == want, "%s: plate %r, not %r" % (t, m["plate"], want)
    assert m["plate_confidence"] >= float(os.environ["MIN_CONF"]), m["plate_confidence"]
for t in ("occupied", "cleared"):
    assert "plate" not in by.get(t, {}), "%s carries a plate" % t
PY

# the bundle: the manifest's plate, plate.jpg, and it verifies
B=$WORK/evidence/$IID
python3 - "$B/manifest.json" "$TRUE_PLATE" <<'PY' || fail "the manifest"
import json, os, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))
assert m.get("plate") == sys.argv[2], (m.get("plate"), m.get("plate_confidence"))
assert m["plate_confidence"] >= float(os.environ["MIN_CONF"]), m["plate_confidence"]
f = [f for f in m["files"] if f["kind"] == "plate"]
assert len(f) == 1 and f[0]["name"] == "plate.jpg", m["files"]
assert f[0]["code"] and f[0]["seq"] >= 1 and m["incident_id"] in f[0]["overlay"], f[0]
# the banner names the plate once it is read: the close-up, made at the
# alarm, says what the alarm message says (docs/evidence.md, "The banner")
cu = [f for f in m["files"] if f["kind"] == "closeup"]
assert len(cu) == 1 and "车牌 " + sys.argv[2] in cu[0]["overlay"], cu
PY
"$VERIFY" "$B" >"$WORK/verify.log" 2>&1 || fail "firelane-verify: $(cat "$WORK/verify.log")"
[ -s "$WORK/hub-evidence/$IID/plate.jpg" ] || fail "plate.jpg did not reach the hub"

# the hub's incident
[ "$(q "select plate from incidents where incident_id = '$IID'")" = "$TRUE_PLATE" ] ||
	fail "hub incident plate: $(q "select plate from incidents where incident_id = '$IID'")"

# a province the reader drops: unread by default (plates_cn_only), not B12345
plate_ppm 京B12345 "$WORK/plate2.ppm" || fail "rendering 京B12345"
"$SCENE" --scenario $SCENARIO --out "$WORK/scene2" --quick --classic \
	--width 1920 --height 1080 --plate-image "$WORK/plate2.ppm" \
	>"$WORK/scene2.log" 2>&1 || fail "firelane-scene 京B12345"
{
	sed "s|^device: {id: scene-edge, site: scene-site}|device: {id: scene-edge, site: scene-site, key_file: $WORK/device2.key}|" \
		"$WORK/scene2/$SCENARIO.yaml"
	printf 'evidence:\n  dir: %s\n' "$WORK/evidence2"
} >"$WORK/scene2/cn.yaml" # beside the video its source names
grep -q "key_file: $WORK/device2.key" "$WORK/scene2/cn.yaml" || fail "no key_file in cn.yaml"
edge_run /dev/null "$WORK/edge2.log" --config "$WORK/scene2/cn.yaml" --replay --events-out "$WORK/ev2.jsonl"
python3 - "$WORK"/evidence2/*/manifest.json <<'PY' || fail "京B12345 with plates_cn_only"
import json, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))
assert "plate_confidence" in m, "no read tried: %s" % list(m)
assert m["plate"] in (None, "京B12345"), "a wrong plate: %r (%s)" % (m["plate"], m["plate_confidence"])
print("京B12345 with plates_cn_only: plate %r, confidence %.4f" % (m["plate"], m["plate_confidence"]))
PY
echo "$NAME: the alarm, the manifest and the hub carry $TRUE_PLATE"
