#!/usr/bin/env bash
# mqtt_flow.sh - the live edge against a real mosquitto, end to end (issue 4).
#
# A private mosquitto on a free loopback port; firelane-scene's park_leave
# (--quick: a car rests ~8-31 s, dwell 10 s, 42 s of video) played live (at
# its own frame rate) by firelane-edge --config with an mqtt section and an
# evidence store; a persistent QoS 1 subscriber on everything. While it runs:
# Home Assistant's birth message, and commands - five malformed or invalid
# (bad JSON, unknown command, dwell_s 0, unknown lane, a nested value), a
# valid set_dwell (to the same 10 s), a snapshot, a reload, and a warn (refused:
# the config has no board), each signed with a hub key (the edge's
# mqtt.hub_key) and stamped with a time and a nonce as the hub does, and
# published with the hub's broker account. Checks:
#   - status online ... stopped (retained, clean exit, exit status 0);
#     every message for the hub signed, statuses with rising epochs;
#   - one incident: occupied, alarm, evidence, cleared with one stable
#     incident_id and seq 1..4 (check_mqtt.py), lane states
#     clear -> occupied -> blocked -> clear, heartbeats with every field;
#   - the evidence chunks reassemble, every chunk and file matches its
#     SHA-256, and the reassembled bundle passes firelane-verify;
#   - every bad command is answered ok:false with its reason on
#     command/state (and logged), the good ones ok:true, the snapshot file
#     exists, the settings topic carries dwell_s, and the daemon kept running
#     to the end of its input;
#   - discovery documents for the three entities, sent again after the HA
#     birth message; the latest evidence image (a JPEG) on .../image;
#   - reload: the reload command is answered ok, and a SIGHUP after the
#     "occupied" with dwell_s 10 -> 11 in the file is applied to the open
#     incident (same incident, alarm after >= 11 s at rest), the settings
#     topic says 11;
#   - sd_notify on a NOTIFY_SOCKET the test listens on (WATCHDOG_USEC 2 s):
#     READY=1, WATCHDOG=1 every second, RELOADING=1 on SIGHUP, STOPPING=1;
#   - evidence resumes across a restart: with the open-incident record a kill
#     in mid-transfer leaves (closed, evidence due, at file 2), the next start
#     re-sends the remaining files (chunks byte-identical to the first ones)
#     and the file list with the next seq (5), then stops cleanly on SIGTERM.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$EDGE" "$SCENE" "$VERIFY" mosquitto mosquitto_sub mosquitto_pub python3
SCENARIO=park_leave
PORT=$(free_port)
scene $SCENARIO
broker_start
subscribe "$WORK/all.txt" 'firelane/#' 'homeassistant/#'
# a hub key of our own: this test plays the hub's part for the commands
printf 'mqtt: {host: 127.0.0.1}\nstore: {sqlite: %s/hub.db}\nevidence_dir: %s/hub-ev\n' \
	"$WORK" "$WORK" >"$WORK/hub.yaml"
HUB_KEY=$(hub_key "$WORK/hub.yaml")
edge_config "$WORK/scene/edge.yaml" "$(printf 'evidence:\n  dir: %s\n  pre_roll_s: 4\n  post_roll_s: 3\n' "$WORK/evidence")"
sed -i "s|^device: {id: scene-edge, site: scene-site}|device: {id: scene-edge, site: scene-site, key_file: $WORK/device.key}|" "$WORK/scene/edge.yaml"

# systemd's side of sd_notify: a datagram socket that logs what it gets.
python3 - "$WORK/notify.sock" "$WORK/notify.txt" <<'EOP' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode() + "\n")
        f.flush()
EOP
track $!
for _ in $(seq 50); do [ -S "$WORK/notify.sock" ] && break; sleep 0.1; done

NOTIFY_SOCKET=$WORK/notify.sock WATCHDOG_USEC=2000000 \
	edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$WORK/scene/edge.yaml" -v
ROOT=firelane/scene-site/scene-edge
wait_for "$WORK/all.txt" "^$ROOT/status$(status_re online)" 20 || fail "no status online"

# pub JSON: a command as the hub sends it (time and nonce in the JSON,
# signed with the hub key); the malformed ones are signed as they are.
pub() {
	local body=$1
	case $body in
	*'"cmd": "'*'}') body="${body%\}}, \"time\": $(date +%s), \"nonce\": \"$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')\"}" ;;
	esac
	printf '%s' "$body" | signed "$WORK/hub.key" "$ROOT/command/set" hub >"$WORK/cmd.bin" ||
		fail "signing a command"
	mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -u firelane-hub -P "$(broker_pw firelane-hub)" \
		-t "$ROOT/command/set" -f "$WORK/cmd.bin"
}
pub '{"id": "b1", "cmd": "reload"'
pub '{"id": "b2", "cmd": "reboot"}'
pub '{"id": "b3", "cmd": "set_dwell", "camera": "cam-1", "lane": "lane-a", "dwell_s": 0}'
pub '{"id": "b4", "cmd": "enable", "camera": "cam-1", "lane": "lane-z"}'
pub '{"id": "b5", "cmd": {"nested": true}}'
pub '{"id": "g1", "cmd": "set_dwell", "camera": "cam-1", "lane": "lane-a", "dwell_s": 10}'
pub '{"id": "g2", "cmd": "snapshot", "camera": "cam-1"}'
pub '{"id": "g3", "cmd": "reload"}'
pub '{"id": "w1", "cmd": "warn", "camera": "cam-1", "lane": "lane-a"}'
# Home Assistant's birth message, with Home Assistant's broker account
mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -u homeassistant -P "$(broker_pw homeassistant)" \
	-t homeassistant/status -m online
kill -0 $EDGE_PID 2>/dev/null || fail "the edge died after the commands"

# SIGHUP mid-incident with a longer dwell: the open incident keeps its id
# and its dwell clock, and alarms at the new dwell.
wait_for "$WORK/events.jsonl" '"type":"occupied"' 30 || fail "no occupied event"
sed -i 's/^        dwell_s: 10$/        dwell_s: 11/' "$WORK/scene/edge.yaml"
grep -q 'dwell_s: 11' "$WORK/scene/edge.yaml" || fail "could not edit the config"
kill -HUP $EDGE_PID

edge_wait 90
sleep 1

# Evidence resumes after a restart: a record as a kill in the middle of the
# transfer leaves it (closed, evidence due, resume at file 2) makes the next
# start send the rest again (identical chunks) and the file list once more
# with the next seq; the edge is stopped with SIGTERM before anything else.
IID=$(ls "$WORK/evidence" | grep -v '^\.' | head -n 1)
[ -n "$IID" ] || fail "no bundle in the store"
[ ! -e "$WORK/spool/open/$IID" ] || fail "a record was left for a finished incident"
printf 'cam-1 lane-a 4 1 1 2 0\n' >"$WORK/spool/open/$IID"
NOTIFY_SOCKET= edge_start "$WORK/events2.jsonl" "$WORK/edge2.log" --config "$WORK/scene/edge.yaml" -v
wait_for "$WORK/all.txt" "$(hex '"seq": 5, "type": "evidence"')" 30 || fail "the evidence did not resume"
edge_stop 30
grep -q "sending the evidence resumes (file 2" "$WORK/edge2.log" || fail "resume not logged"
[ ! -e "$WORK/spool/open/$IID" ] || fail "the record stayed after the evidence went out"
sleep 1

python3 "$(dirname "$0")/lib/check_mqtt.py" "$WORK/all.txt" \
	--status online,stopped,online,stopped \
	--incident occupied,alarm,evidence,cleared,evidence \
	--lane-states clear,occupied,blocked,clear \
	--min-heartbeats 5 --evidence "$WORK/got" || fail "messages (above)"

bundle=$(ls -d "$WORK"/got/*/ | head -n 1)
"$VERIFY" "$bundle" >"$WORK/verify.log" 2>&1 || fail "reassembled bundle does not verify"

python3 - "$WORK/all.txt" "$ROOT" "$WORK/spool" <<'EOP' || fail "commands/discovery (above)"
import json, os, sys
sys.path.insert(0, os.environ["FL_LIB"])
from fl_sign import unwrap
path, root, spool = sys.argv[1:4]
msgs = []
for line in open(path, "rb"):
    t, _, hx = line.rstrip(b"\n").partition(b" ")
    msgs.append((t.decode(), unwrap(bytes.fromhex(hx.decode()))))
ans = {}
for t, p in msgs:
    if t == root + "/command/state":
        j = json.loads(p)
        ans[j["id"]] = j
def bad(k, words):
    a = ans.get(k)
    assert a is not None, "no answer to " + k
    assert a["ok"] is False and words in a["error"], (k, a)
bad("b1", "expected")
bad("b2", "unknown command")
bad("b3", "outside")
bad("b4", "no lane 'lane-z'")
bad("b5", "nested")
assert ans["g1"]["ok"] is True and ans["g1"]["result"]["dwell_s"] == 10, ans.get("g1")
assert ans["g2"]["ok"] is True, ans.get("g2")
assert ans["g3"]["ok"] is True, ans.get("g3")
bad("w1", "no on-site warning")  # board: none in this config
assert os.path.getsize(ans["g2"]["result"]["path"]) > 0
sets = [json.loads(p) for t, p in msgs if t.endswith("/lane-a/settings")]
assert sets and sets[-1] == {"enabled": True, "dwell_s": 11}, sets
assert {"enabled": True, "dwell_s": 10} in sets, sets
disc = [t for t, p in msgs if t.startswith("homeassistant/") and p]
for comp in ("binary_sensor", "sensor", "image"):
    n = sum(1 for t in disc if t.startswith("homeassistant/%s/" % comp))
    assert n >= 2, "discovery %s sent %d times (connect + HA birth)" % (comp, n)
imgs = [p for t, p in msgs if t == root + "/cam-1/lane-a/image"]
assert imgs and imgs[-1][:2] == b"\xff\xd8", "no JPEG on the image topic"
print("commands: %d answers ok; discovery %d documents; image %d bytes"
      % (len(ans), len(disc), len(imgs[-1])))
EOP
grep -q "command: rejected" "$WORK/edge.log" || fail "rejected commands not logged"
grep -q '^READY=1' "$WORK/notify.txt" || fail "no READY=1 on NOTIFY_SOCKET"
[ "$(grep -c '^WATCHDOG=1' "$WORK/notify.txt")" -ge 10 ] || fail "too few WATCHDOG=1 (WATCHDOG_USEC 2 s, 42 s run)"
grep -q '^RELOADING=1' "$WORK/notify.txt" || fail "no RELOADING=1 on SIGHUP"
grep -q '^STOPPING=1' "$WORK/notify.txt" || fail "no STOPPING=1"
grep -q "reload: .*lane settings of 1 lane" "$WORK/edge.log" || fail "SIGHUP reload not logged"
python3 - "$WORK/events.jsonl" <<'EOP' || fail "the reloaded dwell was not applied to the open incident"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
al = [e for e in ev if e["type"] == "alarm"]
assert len(al) == 1, al
assert al[0]["video_time_s"] - al[0]["rest_since_s"] >= 10.9, al[0]
print("alarm after %.1f s at rest (dwell 11 after SIGHUP)" %
      (al[0]["video_time_s"] - al[0]["rest_since_s"]))
EOP
echo "$NAME: ok"
