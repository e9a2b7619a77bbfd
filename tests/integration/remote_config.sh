#!/usr/bin/env bash
# remote_config.sh - the hub sets a device up over MQTT (docs/mqtt.md,
# "Commands": snapshot inline, config, config_get), with a real mosquitto
# (the harness's accounts and ACL), the hub's command line (which signs)
# and the real edge live on outside_lane: a car parks in lane-b from 11 s
# to 31 s; the device starts with lane-a only.
#   - snapshot inline with mask: the answer's JPEG and PNG decode, both of
#     the frame's size (480x270), the mask has the lane's outline;
#   - config_get: the file as it is on disk but for its broker password
#     (masked: a secret never leaves the device), version 0; a config
#     sent back masked keeps the device's password;
#   - an invalid config (dwell_s: 0) and one for another device id are
#     refused with the key and reason; the file is unchanged;
#   - a config changing lane-a's dwell only: applied in place (the edge's
#     process and its settings topic say so), version 2 in the heartbeat;
#   - a config adding lane-b: the edge restarts itself (same pid), answers
#     "restart", and lane-b alarms;
#   - a config whose camera URL cannot open (apply_timeout_s 3): rolled
#     back, the answer says why and to which version, the file on disk is
#     version 3's again, lane-b alarms again, the heartbeat says 3;
#   - a config whose broker port is closed, and one whose spool cannot be
#     made: rolled back the same way (the old configuration's connection
#     answers);
#   - the edge killed while it waits for a camera of a new configuration,
#     and started again after the deadline: that start rolls back and
#     answers the hub, which was still waiting;
#   - after these restarts the applied configuration and version stay.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" "$EDGE" "$SCENE" mosquitto mosquitto_sub mosquitto_pub mosquitto_passwd python3 bc
SCENARIO=outside_lane
PORT=$(free_port)
scene $SCENARIO
ROOT=firelane/scene-site/scene-edge
CONF=$WORK/scene/edge.yaml

broker_start
subscribe "$WORK/all.txt" "$ROOT/#"
cat >"$WORK/hub.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$NAME, keepalive_s: 5, $HUB_AUTH}
http: {listen: ""}
store: {sqlite: $WORK/hub.db}
evidence_dir: $WORK/hub-evidence
EOC
HUB_KEY=$(hub_key "$WORK/hub.yaml")
# lane-a only (lane-b comes with a config). No memory across restarts:
# each restart plays the file from its start again, and the car that
# parks again must be a new incident, not the old one resumed
# (restart_memory.sh tests the memory).
python3 - "$WORK/scene/$SCENARIO.yaml" "$WORK/base.yaml" <<'EOP'
import sys
lines = open(sys.argv[1]).read().split("\n")
i = next(k for k, l in enumerate(lines) if "- id: lane-b" in l)
dev = "device: {id: scene-edge, site: scene-site}"
assert lines[0] == dev, lines[0]
lines[0] = dev[:-1] + ', state_dir: ""}'
open(sys.argv[2], "w").write("\n".join(lines[:i]) + "\n")
EOP
cp "$WORK/base.yaml" "$WORK/scene/$SCENARIO.yaml"
edge_config "$CONF"
"$EDGE" --config "$CONF" --print-public-key >"$WORK/pk.txt" 2>"$WORK/pk.log" ||
	fail "--print-public-key"
"$HUB" --config "$WORK/hub.yaml" --enrol-device scene-edge --site scene-site \
	--public-key "$WORK/pk.txt" >"$WORK/admin.log" 2>&1 || fail "--enrol-device"

# cmd NAME JSON [TIMEOUT]: the hub's command, its answer in WORK/NAME.json,
# the exit status in WORK/NAME.rc
cmd() { # (the JSON on standard input: "-")
	local rc=0
	printf '%s' "$2" | "$HUB" --config "$WORK/hub.yaml" --command scene-edge - --timeout "${3:-20}" \
		>"$WORK/$1.json" 2>"$WORK/$1.err" || rc=$?
	echo "$rc" >"$WORK/$1.rc"
}
# jq_ NAME EXPR: a python expression on the answer j
jq_() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1], encoding="utf-8")); print(eval(sys.argv[2]))' \
		"$WORK/$1.json" "$2"
}
# jq_raw NAME EXPR: the same, written as it is (no line break added)
jq_raw() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1], encoding="utf-8")); sys.stdout.buffer.write(eval(sys.argv[2]).encode())' \
		"$WORK/$1.json" "$2"
}
# yaml_cmd FILE VERSION: a config command carrying FILE
yaml_cmd() {
	python3 -c 'import json,sys; print(json.dumps({"cmd": "config", "version": int(sys.argv[2]), "yaml": open(sys.argv[1], encoding="utf-8").read()}))' "$1" "$2"
}
# alarms LANE: how many alarm messages lane LANE of cam-1 sent so far
alarms() {
	python3 - "$WORK/all.txt" "$ROOT/cam-1/$1/incident" <<'EOP'
import json, os, sys
sys.path.insert(0, os.environ["FL_LIB"])
from fl_sign import unwrap
n = 0
for line in open(sys.argv[1], "rb"):
    t, _, hx = line.rstrip(b"\n").partition(b" ")
    if t.decode() == sys.argv[2] and json.loads(unwrap(bytes.fromhex(hx.decode())))["type"] == "alarm":
        n += 1
print(n)
EOP
}
# wait_alarms LANE N SECONDS
wait_alarms() {
	local i
	for i in $(seq $(($3 * 2))); do
		[ "$(alarms "$1")" -ge "$2" ] && return 0
		sleep 0.5
	done
	fail "no alarm number $2 in $1 within $3 s (edge log: $(tail -n 5 "$WORK/edge.log"))"
}
# rolled_back NAME VERSION PATTERN: WORK/NAME.yaml sent as VERSION is
# refused with an error matching PATTERN (grep), and the file is v3 again
rolled_back() {
	cmd "$1" "$(yaml_cmd "$WORK/$1.yaml" "$2")" 90
	[ "$(cat "$WORK/$1.rc")" = 1 ] || fail "$1 was not refused: $(cat "$WORK/$1.json" "$WORK/$1.err")"
	jq_ "$1" 'j["error"]' | grep -q "$3" || fail "$1's answer: $(cat "$WORK/$1.json")"
	cmp -s "$WORK/v3.yaml" "$CONF" || fail "after $1's roll-back the file is not v3"
	kill -0 "$PID0" || fail "the edge ended on $1's roll-back"
}
# heartbeat_version: config_version of the last heartbeat
heartbeat_version() {
	python3 - "$WORK/all.txt" "$ROOT/heartbeat" <<'EOP'
import json, os, sys
sys.path.insert(0, os.environ["FL_LIB"])
from fl_sign import unwrap
v = None
for line in open(sys.argv[1], "rb"):
    t, _, hx = line.rstrip(b"\n").partition(b" ")
    if t.decode() == sys.argv[2]:
        v = json.loads(unwrap(bytes.fromhex(hx.decode())))["config_version"]
print(v)
EOP
}
# wait_heartbeat_version V: a heartbeat says config_version V
wait_heartbeat_version() {
	local i
	for i in $(seq 40); do
		[ "$(heartbeat_version)" = "$1" ] && return 0
		sleep 0.5
	done
	fail "no heartbeat with config_version $1 (last: $(heartbeat_version))"
}

notify_listen "$WORK/notify.sock" "$WORK/notify.txt"
NOTIFY_SOCKET=$WORK/notify.sock edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$CONF" -v
PID0=$EDGE_PID
wait_for "$WORK/all.txt" "^$ROOT/heartbeat " 30 || fail "no heartbeat"

# --- snapshot inline, with the mask --------------------------------------
cmd snap '{"cmd": "snapshot", "camera": "cam-1", "inline": true, "mask": true}'
[ "$(cat "$WORK/snap.rc")" = 0 ] || fail "snapshot: $(cat "$WORK/snap.json" "$WORK/snap.err")"
python3 - "$WORK/snap.json" <<'EOP' || fail "snapshot inline: $(head -c 300 "$WORK/snap.json")"
import base64, json, struct, sys, time
a = json.load(open(sys.argv[1]))
r = a["result"]
assert r["camera"] == "cam-1" and r["width"] == 480 and r["height"] == 270, r
assert r["scale"] == 1 and abs(r["time"] - time.time()) < 60, r
jpeg = base64.b64decode(r["jpeg"], validate=True)
assert jpeg[:2] == b"\xff\xd8", "not a JPEG"
# the JPEG's size from its SOF marker
i, size = 2, None
while i < len(jpeg):
    assert jpeg[i] == 0xff
    m, ln = jpeg[i + 1], struct.unpack(">H", jpeg[i + 2:i + 4])[0]
    if m in (0xc0, 0xc1, 0xc2):
        h, w = struct.unpack(">HH", jpeg[i + 5:i + 9])
        size = (w, h)
        break
    i += 2 + ln
assert size == (480, 270), size
png = base64.b64decode(r["mask"], validate=True)
assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", png[16:24])
assert (w, h) == (480, 270), (w, h)
assert len(json.dumps(a)) < 512 * 1024
EOP
# the mask's pixels: the lane's outline in green, inside the lane's box
python3 - "$WORK/snap.json" <<'EOP' || fail "the mask has no lane outline"
import base64, json, struct, sys, zlib
png = base64.b64decode(json.load(open(sys.argv[1]))["result"]["mask"])
i, idat = 8, b""
while i < len(png):
    ln, kind = struct.unpack(">I4s", png[i:i + 8])
    if kind == b"IDAT":
        idat += png[i + 8:i + 8 + ln]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", png[i + 8:i + 18])
    i += 12 + ln
assert depth == 8 and ctype == 2, (depth, ctype)
raw, bpp, stride = zlib.decompress(idat), 3, w * 3
rows, prev = [], bytearray(stride)
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line); prev = line
green = [(x, y) for y in range(h) for x in range(w) if rows[y][3 * x:3 * x + 3] == b"\x00\xff\x00"]
assert len(green) > 50, len(green)
# lane-a: x 198..282, y 139..194 (with an analysis pixel of slack)
assert all(190 <= x <= 290 and 131 <= y <= 202 for x, y in green), green[:5]
EOP

# without inline: paths on the device, as before, the mask's beside
cmd snap2 '{"cmd": "snapshot", "camera": "cam-1", "mask": true}'
[ "$(cat "$WORK/snap2.rc")" = 0 ] || fail "snapshot: $(cat "$WORK/snap2.json" "$WORK/snap2.err")"
[ "$(jq_ snap2 'j["result"]["path"]')" = "$WORK/spool/snapshot-cam-1.jpg" ] &&
	[ "$(jq_ snap2 'j["result"]["mask"]')" = "$WORK/spool/snapshot-cam-1-mask.png" ] ||
	fail "snapshot paths: $(cat "$WORK/snap2.json")"
[ "$(head -c 4 "$WORK/spool/snapshot-cam-1-mask.png" | od -An -tx1 | tr -d ' ')" = 89504e47 ] ||
	fail "the mask on the device is no PNG"

# --- config_get ------------------------------------------------------------
cmd get '{"cmd": "config_get"}'
[ "$(cat "$WORK/get.rc")" = 0 ] || fail "config_get: $(cat "$WORK/get.json" "$WORK/get.err")"
[ "$(jq_ get 'j["result"]["version"]')" = 0 ] || fail "config_get: version not 0"
jq_raw get 'j["result"]["yaml"]' >"$WORK/got.yaml"
# masked: the file with its password "***", nothing else changed
PW=$(broker_pw scene-edge)
grep -qF "password: $PW" "$CONF" || fail "the edge's file has no broker password to mask"
# (the device writes its own back quoted)
masked() { sed -E "s/^  password: \"?$PW\"?\$/  password: \"***\"/" "$1"; }
masked "$CONF" | cmp -s - "$WORK/got.yaml" || fail "config_get: not the file masked: $(diff <(masked "$CONF") "$WORK/got.yaml")"
grep -qF "$PW" "$WORK/get.json" && fail "config_get sent the broker password"
cp "$CONF" "$WORK/v1.yaml"
sha() { sha256sum "$CONF" | cut -d' ' -f1; }
SHA0=$(sha)

# --- refused: invalid, another device --------------------------------------
sed 's/dwell_s: 10/dwell_s: 0/' "$CONF" >"$WORK/bad.yaml"
cmd bad "$(yaml_cmd "$WORK/bad.yaml" 2)"
[ "$(cat "$WORK/bad.rc")" = 1 ] || fail "an invalid config was not refused: $(cat "$WORK/bad.json")"
[ "$(jq_ bad 'j["result"]["key"]')" = "cameras[cam-1].lanes[lane-a].dwell_s" ] ||
	fail "refusal without its key's path: $(cat "$WORK/bad.json")"
jq_ bad 'j["error"]' | grep -qF 'cameras[cam-1].lanes[lane-a].dwell_s: 0 is out of range' || fail "refusal: $(cat "$WORK/bad.json")"
LINE=$(grep -n 'dwell_s: 0' "$WORK/bad.yaml" | cut -d: -f1)
[ "$(jq_ bad 'j["result"]["line"]')" = "$LINE" ] || fail "refusal: not line $LINE: $(cat "$WORK/bad.json")"
sed 's/id: scene-edge/id: other-edge/' "$CONF" >"$WORK/other.yaml"
cmd other "$(yaml_cmd "$WORK/other.yaml" 2)"
[ "$(cat "$WORK/other.rc")" = 1 ] || fail "another device's config was not refused"
jq_ other 'j["error"]' | grep -q "^device.id: 'other-edge' is another device" ||
	fail "refusal: $(cat "$WORK/other.json")"
[ "$(sha)" = "$SHA0" ] || fail "a refused config changed the file"
[ ! -e "$CONF.version" ] || fail "a refused config wrote a version"

# --- in place: lane-a's dwell and a Chinese name -------------------------------
# from config_get's answer, as the hub sends it: the password masked
sed 's/dwell_s: 10/name: "东门消防通道"\n        dwell_s: 12/' "$WORK/got.yaml" >"$WORK/v2.yaml"
grep -q '东门消防通道' "$WORK/v2.yaml" || fail "v2 lacks its name"
# and 150 kB of comments: a command far past the others' 4096 bytes, and
# config_get's answer as large (more than Linux allows one argument, 128
# kB: firelane-hub --command reads it from standard input)
for i in $(seq 1250); do
	printf '# %04d: notes kept with the file, as an installer writes them (%s)\n' "$i" "$(printf '%060d' 0)"
done >>"$WORK/v2.yaml"
[ "$(stat -c %s "$WORK/v2.yaml")" -gt 140000 ] || fail "v2 is not large"
cmd v2 "$(yaml_cmd "$WORK/v2.yaml" 2)"
[ "$(cat "$WORK/v2.rc")" = 0 ] || fail "v2: $(cat "$WORK/v2.json" "$WORK/v2.err")"
[ "$(jq_ v2 'j["result"]["applied"]')" = "in place" ] || fail "v2 not in place: $(cat "$WORK/v2.json")"
# written with the device's own password (else: a restart, and an account
# the broker refuses)
masked "$CONF" | cmp -s - "$WORK/v2.yaml" || fail "v2 is not the file"
grep -qE "password: \"?$PW\"?$" "$CONF" || fail "v2 sent masked lost the device's password"
cmp -s "$WORK/v1.yaml" "$CONF.good" || fail "$CONF.good is not the previous file"
kill -0 "$PID0" || fail "the edge ended"
wait_for "$WORK/all.txt" "^$ROOT/cam-1/lane-a/settings .*$(hex '{"enabled": true, "dwell_s": 12}')" 10 ||
	fail "lane-a's settings do not say dwell_s 12"
grep -q "version 2 applied in place" "$WORK/edge.log" || fail "v2: not in the log"
cmd get2 '{"cmd": "config_get"}'
[ "$(jq_ get2 'j["result"]["version"]')" = 2 ] || fail "config_get: version not 2"
jq_raw get2 'j["result"]["yaml"]' >"$WORK/got2.yaml"
masked "$WORK/v2.yaml" | cmp -s - "$WORK/got2.yaml" || fail "config_get: not v2"
wait_heartbeat_version 2

# --- restart: lane-b added ----------------------------------------------------
cp "$CONF" "$WORK/v3.yaml"
python3 - "$WORK/v3.yaml" <<'EOP'
import sys
p = sys.argv[1]
t = open(p).read()
lane = "        dwell_s: 12\n"
assert t.count(lane) == 1
open(p, "w").write(t.replace(lane, lane + "      - id: lane-b\n        points: [[219, 132], [261, 132], [254, 110], [226, 110]]\n        dwell_s: 10\n"))
EOP
T0=$(date +%s.%N)
cmd v3 "$(yaml_cmd "$WORK/v3.yaml" 3)" 60
echo "remote_config: a restart's apply answered in $(echo "$(date +%s.%N) - $T0" | bc) s"
[ "$(cat "$WORK/v3.rc")" = 0 ] || fail "v3: $(cat "$WORK/v3.json" "$WORK/v3.err")"
[ "$(jq_ v3 'j["result"]["applied"]')" = restart ] || fail "v3 not a restart: $(cat "$WORK/v3.json")"
kill -0 "$PID0" || fail "the edge's process ended on a restart"
grep -q "restarting for a configuration sent by the hub" "$WORK/edge.log" || fail "no restart in the log"
# systemd saw a reload: RELOADING=1, then READY=1 again from the same pid
grep -A 100 '^RELOADING=1$' "$WORK/notify.txt" | grep -q '^READY=1$' ||
	fail "no RELOADING=1 then READY=1 around the restart: $(tr '\n' ' ' <"$WORK/notify.txt")"
! grep -q '^STOPPING=1$' "$WORK/notify.txt" || fail "STOPPING=1 on a restart"
wait_heartbeat_version 3
wait_alarms lane-b 1 60
[ "$(alarms lane-a)" = 0 ] || fail "lane-a alarmed"
[ ! -e "$CONF.apply" ] || fail "$CONF.apply left behind"

# --- roll back: a camera that does not open -------------------------------------
DEAD=$(free_port)
sed "s|source: .*|source: rtsp://127.0.0.1:$DEAD/none|" "$WORK/v3.yaml" |
	sed 's|^\(device: {.*\)}$|\1, apply_timeout_s: 3}|' >"$WORK/v4.yaml"
grep -q apply_timeout_s "$WORK/v4.yaml" || fail "the scene's device line changed"
B0=$(alarms lane-b)
T0=$(date +%s.%N)
rolled_back v4 4 "^camera cam-1: .* within 3 s; rolled back to version 3$"
echo "remote_config: a roll-back (timeout 3 s) answered in $(echo "$(date +%s.%N) - $T0" | bc) s"
[ "$(cat "$CONF.version")" = 3 ] || fail "after the roll-back the version is $(cat "$CONF.version")"
wait_alarms lane-b $((B0 + 1)) 60
wait_heartbeat_version 3

# --- roll back: a broker that cannot be reached -----------------------------------
sed "s|^  port: $PORT\$|  port: $DEAD|" "$WORK/v3.yaml" |
	sed 's|^\(device: {.*\)}$|\1, apply_timeout_s: 3}|' >"$WORK/v5.yaml"
grep -q "port: $DEAD" "$WORK/v5.yaml" || fail "v5 has no other port"
rolled_back v5 5 "^mqtt: no connection to the broker 127.0.0.1 within 3 s; rolled back to version 3$"

# --- roll back: a spool the edge cannot make (its publisher does not start) -------
sed "s|^  spool_dir: .*|  spool_dir: /proc/firelane-no-spool|" "$WORK/v3.yaml" >"$WORK/v7.yaml"
grep -q "spool_dir: /proc/" "$WORK/v7.yaml" || fail "v7 has no other spool"
rolled_back v7 7 "^mqtt: .*firelane-no-spool.*; rolled back to version 3$"

# --- killed while it waits: the next start rolls back ------------------------------
# v6's camera does not open; the edge is killed (-9) once it runs v6 and
# waits for the camera, and started again after v6's deadline: that start
# must roll back at once and answer the hub, which is still waiting.
cp "$WORK/v4.yaml" "$WORK/v6.yaml"
yaml_cmd "$WORK/v6.yaml" 6 | "$HUB" --config "$WORK/hub.yaml" --command scene-edge - \
	--timeout 90 >"$WORK/v6.json" 2>"$WORK/v6.err" &
HUB_CMD=$!
track $HUB_CMD
for i in $(seq 100); do
	grep -q "^deadline [1-9]" "$CONF.apply" 2>/dev/null && break
	sleep 0.1
done
DEADLINE=$(sed -n 's/^deadline //p' "$CONF.apply" 2>/dev/null)
[ -n "$DEADLINE" ] || fail "v6: no deadline in $CONF.apply"
kill -9 "$EDGE_PID"
wait "$EDGE_PID" 2>/dev/null || true
for i in $(seq 100); do
	[ "$(echo "$(date +%s.%N) > $DEADLINE" | bc)" = 1 ] && break
	sleep 0.1
done
N=$(grep -c "^$ROOT/heartbeat " "$WORK/all.txt")
edge_start "$WORK/events2.jsonl" "$WORK/edge2.log" --config "$CONF" -v
RC=0
wait "$HUB_CMD" || RC=$?
[ "$RC" = 1 ] || fail "v6: exit $RC: $(cat "$WORK/v6.json" "$WORK/v6.err")"
grep -q '"error": "the edge did not run with it for 3 s; rolled back to version 3"' "$WORK/v6.json" ||
	fail "v6's answer: $(cat "$WORK/v6.json")"
cmp -s "$WORK/v3.yaml" "$CONF" || fail "after the roll-back the file is not v3"
[ ! -e "$CONF.apply" ] || fail "$CONF.apply left behind"

# --- and what was applied stays (the version in the heartbeat, lane-b) -------------
for i in $(seq 40); do
	[ "$(grep -c "^$ROOT/heartbeat " "$WORK/all.txt")" -gt "$N" ] && break
	sleep 0.5
done
[ "$(grep -c "^$ROOT/heartbeat " "$WORK/all.txt")" -gt "$N" ] || fail "no heartbeat after a restart"
[ "$(heartbeat_version)" = 3 ] || fail "after a restart the version is $(heartbeat_version)"
"$EDGE" --config "$CONF" --check-config | grep -q "id: \"lane-b\"" || fail "lane-b gone after a restart"
edge_stop 20
echo "remote_config: ok"
