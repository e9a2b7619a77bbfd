#!/usr/bin/env bash
# cameras_ids.sh - two cameras of one device, each with a lane "lane-a"
# (lane ids are unique within a camera only), see the same car park: two
# incidents, whose ids differ and name their camera
# (<device>-<start>-<camera>-<lane>-<n>, docs/mqtt.md), each with its own
# sealed evidence bundle. Before, both were <device>-<start>-lane-a-1: the
# second bundle was refused ("already being written") and the hub would
# have taken the two incidents for one.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$EDGE" "$SCENE" mosquitto python3
SCENARIO=park_leave
scene $SCENARIO
broker_start
# the scene's camera twice: cam-1 as generated, then cam-2 with the same lane
python3 - "$WORK/scene/$SCENARIO.yaml" >"$WORK/two.yaml" <<'EOP'
import sys
lines = open(sys.argv[1]).read().splitlines()
i = lines.index("cameras:")
cam = [l for l in lines[i + 1:]]
print("\n".join(lines[:i + 1] + cam + [l.replace("id: cam-1", "id: cam-2") for l in cam]))
EOP
grep -q "id: cam-2" "$WORK/two.yaml" || fail "no second camera in the config"
cp "$WORK/two.yaml" "$WORK/scene/$SCENARIO.yaml"
edge_config "$WORK/scene/live.yaml" "evidence: {dir: $WORK/ev, post_roll_s: 2}
"
edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$WORK/scene/live.yaml"
edge_wait 180
python3 - "$WORK/events.jsonl" "$WORK/ev" <<'EOP' || fail "incident ids (above): $(grep -i 'already\|bundle' "$WORK/edge.log" | tail -n 3)"
import json, os, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
alarms = {e["camera"]: e["incident_id"] for e in ev if e["type"] == "alarm"}
assert sorted(alarms) == ["cam-1", "cam-2"], alarms
for cam, inc in alarms.items():
    assert "-%s-lane-a-" % cam in inc, (cam, inc)
    assert os.path.isfile(os.path.join(sys.argv[2], inc, "manifest.sig")), "%s not sealed" % inc
assert len(set(alarms.values())) == 2, alarms
print("two cameras, two incidents:", ", ".join(sorted(alarms.values())))
EOP
echo "$NAME: ok"
