#!/usr/bin/env bash
# camera_overload.sh - a live camera that cannot keep up analyses fewer
# frames, says so (health "overloaded"), still alarms, and clears once it
# keeps up again (docs/health.md, "Overload").
#
# The synthetic park_leave scene (--quick, 42 s, a car parks from ~7 s,
# alarm at ~18 s with dwell_s 10, gone at ~37 s) is the live source, paced
# at its 25 fps, analysed at detect.analysis_fps 5 (one analysis every
# 200 ms of video). The test seam --test-slow-analysis 300:20 makes each
# analysis before video time 20 s take 300 ms longer, asleep: 300 ms of
# work for every 200 ms of video whatever the machine's speed (a slower
# machine only falls further behind), so the camera must lag; after 20 s
# analysis costs what it costs, the 480x270 scene's few ms, and the camera
# must catch up. With a private mosquitto (heartbeat_s 2), checks:
#   - one health "overloaded" before 20 s and one "cleared: overloaded"
#     after, nothing else on health (no flapping);
#   - the lane's alarm still comes (its dwell counted on video time);
#   - heartbeats: while overloaded, "overloaded": true and frames skipped;
#     at the end "overloaded": false, skipped > 0 and decoded >= analysed +
#     skipped; the old keys (fps, load, online) are still there;
#   - the edge ends with its input, exit status 0.
# Without the overload handling there is no "overloaded" event and no
# skipped frame, and the test fails.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$EDGE" "$SCENE" mosquitto mosquitto_sub python3
SCENARIO=park_leave
scene $SCENARIO
broker_start
subscribe "$WORK/all.txt" 'firelane/#'
edge_config "$WORK/scene/live.yaml" "detect: {analysis_fps: 5}
"
edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$WORK/scene/live.yaml" \
	--test-slow-analysis 300:20
wait_for "$WORK/events.jsonl" '"reason":"overloaded"' 60 ||
	fail "no overloaded event: $(tail -n 5 "$WORK/edge.log")"
edge_wait 120
grep -q "overloaded at" "$WORK/edge.log" || fail "the raise is not in the log"
# the last heartbeats reach the subscriber
sleep 1
python3 - "$WORK/events.jsonl" "$WORK/all.txt" <<'EOP' || fail "events or heartbeats (above)"
import json, os, sys
sys.path.insert(0, os.environ["FL_LIB"])
from fl_sign import unwrap
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
health = [(e["video_time_s"], e["reason"]) for e in ev if e["type"] == "health"]
assert [r for _, r in health] == ["overloaded", "cleared: overloaded"], health
assert 1 <= health[0][0] < 20, "raised at %.1f s" % health[0][0]
assert health[1][0] > 20, "cleared at %.1f s" % health[1][0]
alarms = [e for e in ev if e["type"] == "alarm" and e["lane"] == "lane-a"]
assert len(alarms) == 1, "alarms: %s" % alarms
hbs = []
for line in open(sys.argv[2], "rb"):
    t, _, hx = line.rstrip(b"\n").partition(b" ")
    if t.decode().endswith("/heartbeat"):
        hbs.append(json.loads(unwrap(bytes.fromhex(hx.decode())))["cameras"][0])
assert len(hbs) >= 5, "%d heartbeats" % len(hbs)
for c in hbs:
    for k in ("fps", "load", "online", "cpu", "decoded", "analysed", "skipped",
              "lag_s", "overloaded"):
        assert k in c, "%s missing: %s" % (k, c)
    assert c["decoded"] >= c["analysed"] + c["skipped"], c
    assert c["cpu"] >= 0 and c["lag_s"] >= 0, c
over = [c for c in hbs if c["overloaded"]]
assert over and all(c["skipped"] > 0 for c in over), hbs
last = hbs[-1]
assert not last["overloaded"] and last["skipped"] > 0, last
print("overload: raised at %.1f s, cleared at %.1f s, alarm at %.1f s; "
      "last heartbeat: decoded %d, analysed %d, skipped %d, lag %.2f s"
      % (health[0][0], health[1][0], alarms[0]["video_time_s"],
         last["decoded"], last["analysed"], last["skipped"], last["lag_s"]))
EOP
echo "$NAME: ok"
