#!/usr/bin/env bash
# mqtt_cameras.sh - four cameras of eight lanes each in one live process.
#
# The same synthetic clip (park_leave --quick) is the source of four cameras,
# each watching eight small lanes, live (each camera in its own thread, paced
# at 25 fps), with a private mosquitto and heartbeat_s 2. After ~8 s the edge
# gets SIGTERM. Checks:
#   - the first connection's burst arrives whole: 32 retained lane states,
#     32 settings, 96 Home Assistant discovery documents (Paho's default of
#     10 messages in flight would refuse most of them);
#   - heartbeats list the four cameras, each online at ~25 fps;
#   - SIGTERM: exit status 0 within a few seconds, status online -> stopped.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$EDGE" "$SCENE" mosquitto mosquitto_sub mosquitto_pub python3
SCENARIO=park_leave
PORT=$(free_port)
scene $SCENARIO
broker_start
subscribe "$WORK/all.txt" 'firelane/#' 'homeassistant/#'
{
	echo "device: {id: multi, site: scene-site}"
	echo "cameras:"
	for c in 1 2 3 4; do
		echo "  - id: cam-$c"
		echo "    source: $SCENARIO.mp4"
		echo "    lanes:"
		for l in 1 2 3 4 5 6 7 8; do
			x=$((l * 40))
			echo "      - {id: lane-$l, points: [[$x, 200], [$((x + 30)), 200], [$((x + 30)), 260], [$x, 260]], dwell_s: 30}"
		done
	done
	printf 'mqtt:\n  host: 127.0.0.1\n  port: %s\n  heartbeat_s: 2\n  spool_dir: %s\n' "$PORT" "$WORK/spool"
	printf '  username: multi\n  password: %s\n' "$(broker_pw multi)"
} >"$WORK/scene/multi.yaml"
broker_device multi
edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$WORK/scene/multi.yaml" -v
sleep 8
kill -0 $EDGE_PID 2>/dev/null || fail "the edge ended early"
edge_stop 10
sleep 1
python3 - "$WORK/all.txt" <<'EOP' || fail "messages (above)"
import json, os, sys
sys.path.insert(0, os.environ["FL_LIB"])
from fl_sign import unwrap
msgs = []
for line in open(sys.argv[1], "rb"):
    t, _, hx = line.rstrip(b"\n").partition(b" ")
    msgs.append((t.decode(), unwrap(bytes.fromhex(hx.decode()))))
root = "firelane/scene-site/multi/"
states = {t for t, p in msgs if t.startswith(root) and t.endswith("/state")
          and "command" not in t}
sets = {t for t, p in msgs if t.endswith("/settings")}
disc = {t for t, p in msgs if t.startswith("homeassistant/")}
assert len(states) == 32, "%d lane states" % len(states)
assert len(sets) == 32, "%d settings" % len(sets)
assert len(disc) == 96, "%d discovery documents" % len(disc)
hbs = [json.loads(p) for t, p in msgs if t == root + "heartbeat"]
assert hbs, "no heartbeat"
cams = hbs[-1]["cameras"]
assert [c["id"] for c in cams] == ["cam-%d" % i for i in range(1, 5)], cams
for c in cams:
    assert c["online"] and 20 <= c["fps"] <= 30, c
status = [p.decode().split(" ")[0] for t, p in msgs if t == root + "status"]
assert status[0] == "online" and status[-1] == "stopped", status
print("4 cameras: %d states, %d settings, %d discovery, fps %s"
      % (len(states), len(sets), len(disc), [c["fps"] for c in cams]))
EOP
echo "$NAME: ok"
