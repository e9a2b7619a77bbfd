#!/usr/bin/env bash
# hub_receipt.sh - the delivery receipt hub -> edge (docs/mqtt.md, "Delivery
# receipt"): after a real edge -> hub run the edge's bundle is marked
# delivered, and the edge takes only a receipt that names its bundle exactly
# and says verified.
#
# A real mosquitto, firelane-hub with SQLite, firelane-edge live on the
# synthetic park_leave scene with evidence on and its key enrolled. Checks:
#   - the hub verifies the bundle and sends a receipt; the edge writes
#     <evidence dir>/<incident>/.delivered;
#   - with .delivered removed and the edge running again (same evidence
#     folder), receipts published by hand for that incident: malformed
#     JSON, an unknown key, another device's incident id, a manifest
#     SHA-256 that is not the bundle's, and a correct one that says
#     verified: false - each is logged by the edge and none marks the
#     bundle delivered; then the correct verified receipt marks it, and
#     the same receipt again changes nothing (idempotent);
#   - the edge killed with SIGKILL: its last will reaches the hub and the
#     fleet shows the device offline.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
NAME=hub_receipt
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fl-$NAME.XXXXXX")
. "$(dirname "$0")/lib/mqtt.sh"
HUB=$BUILD/firelane-hub
if [ ! -x "$HUB" ]; then
	echo "$NAME: skipped: $HUB not built"
	OK=1
	exit 77
fi
need
command -v sqlite3 >/dev/null || fail "sqlite3 not installed (scripts/deps.sh)"
SCENARIO=park_leave
PORT=$(free_port)
scene $SCENARIO
broker_start
subscribe "$WORK/all.txt" 'firelane/+/+/receipt'

EV=$WORK/hub-evidence
cat >"$WORK/hub.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$NAME, keepalive_s: 5}
http: {listen: ""}
store: {sqlite: $WORK/hub.db}
evidence_dir: $EV
alerts: {mqtt: false}
EOC
edge_config "$WORK/scene/edge.yaml" "$(printf 'evidence:\n  dir: %s\n  pre_roll_s: 4\n  post_roll_s: 3\n' "$WORK/evidence")"
sed -i "s|^device: {id: scene-edge, site: scene-site}|device: {id: scene-edge, site: scene-site, key_file: $WORK/device.key}|" "$WORK/scene/edge.yaml"
grep -q "key_file: $WORK/device.key" "$WORK/scene/edge.yaml" || fail "the scene's device line changed"
"$EDGE" --config "$WORK/scene/edge.yaml" --print-public-key >"$WORK/pk.txt" 2>"$WORK/pk.log" ||
	fail "--print-public-key"
"$HUB" --config "$WORK/hub.yaml" --enrol-device scene-edge --site scene-site \
	--public-key "$WORK/pk.txt" >"$WORK/admin.log" 2>&1 || fail "--enrol-device"
"$HUB" --config "$WORK/hub.yaml" -vv >"$WORK/hub.log" 2>&1 &
PIDS+=($!)
wait_for "$WORK/hub.log" "mqtt: connected" 30 || fail "the hub did not connect"

# 1. a real run: the edge gets the receipt and marks its bundle delivered
"$EDGE" --config "$WORK/scene/edge.yaml" -vv >"$WORK/events.jsonl" 2>"$WORK/edge.log" &
EDGE_PID=$!
PIDS+=($EDGE_PID)
wait_for "$WORK/hub.log" "receipt sent \\(verified\\)" 300 || fail "the hub sent no receipt"
q() { sqlite3 "$WORK/hub.db" "$1"; }
IID=$(q "select incident_id from incidents where verified = 1")
[ -n "$IID" ] || fail "no verified incident in the store"
B=$WORK/evidence/$IID
[ -f "$B/manifest.json" ] || fail "the edge holds no bundle $IID"
for _ in $(seq 300); do [ -f "$B/.delivered" ] && break; sleep 0.1; done
[ -f "$B/.delivered" ] || fail "the edge did not mark $IID delivered"
grep -q "receipt: $IID: delivered and verified by the hub" "$WORK/edge.log" ||
	fail "the edge's log does not say so"
for _ in $(seq 1800); do kill -0 $EDGE_PID 2>/dev/null || break; sleep 0.1; done
kill -0 $EDGE_PID 2>/dev/null && fail "the edge did not end with its input"
wait $EDGE_PID || fail "edge exit status $?"
echo "$NAME: $IID delivered after a real run"

# 2. hostile and failed receipts, then the good one twice, to an edge that
# runs long enough (the scene four times: slow sanitizer builds included)
ffmpeg -loglevel error -y -stream_loop 3 -i "$WORK/scene/$SCENARIO.mp4" -c copy \
	"$WORK/scene/long.mp4" 2>>"$WORK/scene.log" || fail "ffmpeg could not lengthen the scene"
sed "s|source: $SCENARIO.mp4|source: long.mp4|" "$WORK/scene/edge.yaml" >"$WORK/scene/edge2.yaml"
grep -q long.mp4 "$WORK/scene/edge2.yaml" || fail "the scene's source line changed"
rm "$B/.delivered"
SHA=$(sha256sum "$B/manifest.json" | cut -d' ' -f1)
BAD=$(printf '%064d' 7)
: >"$WORK/edge2.log"
"$EDGE" --config "$WORK/scene/edge2.yaml" -vv >"$WORK/events2.jsonl" 2>"$WORK/edge2.log" &
EDGE_PID=$!
PIDS+=($EDGE_PID)
wait_for "$WORK/edge2.log" "mqtt: connected" 60 || fail "the edge did not connect again"
sleep 0.5
T=firelane/scene-site/scene-edge/receipt
pub() { mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t "$T" -m "$1"; }
# expect PATTERN WHAT: the edge logged PATTERN and the bundle is still undelivered
expect() {
	wait_for "$WORK/edge2.log" "$1" 20 || fail "$2: the edge did not log '$1'"
	[ -f "$B/.delivered" ] && fail "$2 marked the bundle delivered"
	return 0
}
pub '{"incident_id": "'"$IID"'", "verified": true'
expect "receipt: refused: .*expected at byte" "malformed JSON"
pub '{"incident_id": "'"$IID"'", "verified": true, "manifest_sha256": "'"$SHA"'", "by": "x"}'
expect "receipt: refused: unknown key" "an unknown key"
pub '{"incident_id": "other-edge-1-lane-a-1", "verified": true, "manifest_sha256": "'"$SHA"'"}'
expect "receipt: other-edge-1-lane-a-1: not an incident of this device" "another device's incident"
pub '{"incident_id": "'"$IID"'", "verified": true, "manifest_sha256": "'"$BAD"'"}'
expect "receipt: $IID: names manifest 000000000000" "another manifest"
pub '{"incident_id": "'"$IID"'", "verified": false, "manifest_sha256": "'"$SHA"'"}'
expect "receipt: $IID: the hub could NOT verify the bundle; kept here" "a failed verification"
sleep 1
[ -f "$B/.delivered" ] && fail "a refused receipt marked the bundle delivered"
pub '{"incident_id": "'"$IID"'", "verified": true, "manifest_sha256": "'"$SHA"'"}'
for _ in $(seq 200); do [ -f "$B/.delivered" ] && break; sleep 0.1; done
[ -f "$B/.delivered" ] || fail "the good receipt did not mark the bundle delivered"
first=$(cat "$B/.delivered")
pub '{"incident_id": "'"$IID"'", "verified": true, "manifest_sha256": "'"$SHA"'"}'
wait_for "$WORK/edge2.log" "receipt: $IID: already delivered" 20 || fail "the repeat was not seen as such"
[ "$(cat "$B/.delivered")" = "$first" ] || fail "the repeat rewrote .delivered"
kill -0 $EDGE_PID 2>/dev/null || fail "the edge died on the receipts"
# 3. the edge vanishes (SIGKILL): the broker sends its last will, and the
# hub's fleet shows the device offline
[ "$(q "select status from devices where device = 'scene-edge'")" = online ] ||
	fail "device status $(q "select status from devices where device = 'scene-edge'") while the edge runs"
kill -9 $EDGE_PID
wait $EDGE_PID 2>/dev/null || true
for _ in $(seq 600); do
	[ "$(q "select status from devices where device = 'scene-edge'")" = offline ] && break
	sleep 0.1
done
[ "$(q "select status from devices where device = 'scene-edge'")" = offline ] ||
	fail "after the last will the device is $(q "select status from devices where device = 'scene-edge'")"
OK=1
echo "$NAME: ok"
