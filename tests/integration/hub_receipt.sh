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
#     folder), the hub re-sends the receipt (the device back online) and
#     the bundle is delivered again; with .delivered removed once more,
#     receipts published by hand for that incident: malformed
#     JSON, an unknown key, another device's incident id, a manifest
#     SHA-256 that is not the bundle's, and a correct one that says
#     verified: false - each is logged by the edge and none marks the
#     bundle delivered; then the correct verified receipt marks it, and
#     the same receipt again changes nothing (idempotent) - each signed
#     with the hub's key, as the hub would;
#   - the edge killed with SIGKILL: its last will reaches the hub and the
#     fleet shows the device offline;
#   - a receipt missed while the edge was away is sent again when it comes
#     back: with the hub stopped, the edge runs the scene to its end (its
#     bundle waits on the broker in the hub's session) and stops; the hub,
#     started again, verifies the bundle and sends the receipt to nobody.
#     With receipt_resend_days: 0 the edge coming back leaves the bundle
#     undelivered (the check that the test can fail); with the default
#     (30 days) the next reconnect marks it delivered;
#   - a receipt lost while the edge stays online (its marker removed) is
#     asked for in the edge's heartbeat (undelivered.ask) and sent again,
#     without a reconnect.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" "$EDGE" "$SCENE" mosquitto mosquitto_sub mosquitto_pub python3 sqlite3
SCENARIO=park_leave
PORT=$(free_port)
scene $SCENARIO
broker_start
subscribe "$WORK/all.txt" 'firelane/+/+/receipt'

EV=$WORK/hub-evidence
cat >"$WORK/hub.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$NAME, keepalive_s: 5, $HUB_AUTH}
http: {listen: ""}
store: {sqlite: $WORK/hub.db}
evidence_dir: $EV
alerts: {mqtt: false}
EOC
HUB_KEY=$(hub_key "$WORK/hub.yaml")
edge_config "$WORK/scene/edge.yaml" "$(printf 'evidence:\n  dir: %s\n  pre_roll_s: 4\n  post_roll_s: 3\n' "$WORK/evidence")"
sed -i "s|^device: {id: scene-edge, site: scene-site}|device: {id: scene-edge, site: scene-site, key_file: $WORK/device.key}|" "$WORK/scene/edge.yaml"
grep -q "key_file: $WORK/device.key" "$WORK/scene/edge.yaml" || fail "the scene's device line changed"
"$EDGE" --config "$WORK/scene/edge.yaml" --print-public-key >"$WORK/pk.txt" 2>"$WORK/pk.log" ||
	fail "--print-public-key"
"$HUB" --config "$WORK/hub.yaml" --enrol-device scene-edge --site scene-site \
	--public-key "$WORK/pk.txt" >"$WORK/admin.log" 2>&1 || fail "--enrol-device"
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -vv

# 1. a real run: the edge gets the receipt and marks its bundle delivered
edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$WORK/scene/edge.yaml" -vv
wait_for "$WORK/hub.log" "receipt sent \\(verified\\)" 300 || fail "the hub sent no receipt"
IID=$(q "select incident_id from incidents where verified = 1")
[ -n "$IID" ] || fail "no verified incident in the store"
B=$WORK/evidence/$IID
[ -f "$B/manifest.json" ] || fail "the edge holds no bundle $IID"
for _ in $(seq 300); do [ -f "$B/.delivered" ] && break; sleep 0.1; done
[ -f "$B/.delivered" ] || fail "the edge did not mark $IID delivered"
# the marker is in place a moment before the edge logs it (its folder's
# fsync comes between): wait for the line rather than read the log once
wait_for "$WORK/edge.log" "receipt: $IID: delivered and verified by the hub" 10 ||
	fail "the edge's log does not say so"
edge_wait 180
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
edge_start "$WORK/events2.jsonl" "$WORK/edge2.log" --config "$WORK/scene/edge2.yaml" -vv
wait_for "$WORK/edge2.log" "mqtt: connected" 60 || fail "the edge did not connect again"
# back online (stopped -> online): the hub sends the receipt again, which
# marks the bundle whose .delivered was removed; removed again for the rest
wait_for "$WORK/hub.log" "scene-edge: back online: 1 receipts re-sent" 60 ||
	fail "the hub did not re-send the receipt to the edge back online"
wait_for "$WORK/edge2.log" "receipt: $IID: delivered and verified by the hub" 20 ||
	fail "the re-sent receipt did not mark $IID delivered"
rm "$B/.delivered"
sleep 0.5
T=firelane/scene-site/scene-edge/receipt
# pub JSON: a receipt as the hub sends it (signed with its key, its account)
pub() {
	printf '%s' "$1" | signed "$WORK/hub.key" "$T" hub >"$WORK/receipt.bin" ||
		fail "signing a receipt"
	mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -u firelane-hub -P "$(broker_pw firelane-hub)" \
		-t "$T" -f "$WORK/receipt.bin"
}
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
echo "$NAME: the last will reached the hub"

# 4. a receipt sent while the edge is away is lost (clean start); the hub
# sends it again when the device comes back online (docs/mqtt.md)
status() { q "select status from devices where device = 'scene-edge'"; }
# edge_back LOG [CONFIG]: the edge again on the long scene (edge2.yaml)
# until it has connected
edge_back() {
	edge_start "${1%.log}.jsonl" "$1" --config "${2:-$WORK/scene/edge2.yaml}" -vv
	wait_for "$1" "mqtt: connected" 60 || fail "the edge did not connect again"
}
# edge_gone: the edge stopped (SIGTERM), and the hub knows it
edge_gone() {
	edge_stop 30
	for _ in $(seq 300); do [ "$(status)" != online ] && break; sleep 0.1; done
	[ "$(status)" != online ] || fail "the stopped edge is still online"
}
hub_stop
ls "$WORK/evidence" >"$WORK/before.txt"
edge_run "$WORK/events3.jsonl" "$WORK/edge3.log" --config "$WORK/scene/edge.yaml" -vv
IID3=
for d in "$WORK"/evidence/*/; do
	d=$(basename "$d")
	grep -qx "$d" "$WORK/before.txt" || IID3=$d
done
[ -n "$IID3" ] && [ -f "$WORK/evidence/$IID3/manifest.json" ] ||
	fail "the edge sealed no new bundle with the hub away"
B3=$WORK/evidence/$IID3
{ cat "$WORK/hub.yaml"; echo "receipt_resend_days: 0"; } >"$WORK/hub0.yaml"
hub_start "$WORK/hub0.yaml" "$WORK/hub2.log" -vv
wait_for "$WORK/hub2.log" "$IID3: receipt sent \\(verified\\)" 300 ||
	fail "the hub did not verify $IID3 from its session"
for _ in $(seq 300); do [ "$(status)" != online ] && break; sleep 0.1; done
[ "$(status)" = stopped ] || fail "device status $(status) after the edge's stop"
sleep 1
[ -f "$B3/.delivered" ] && fail "the receipt reached an edge that was not there"
# receipt_resend_days: 0: back online, nothing re-sent, still undelivered
# (the edge's queued "online" of the run above already said it once)
OFF="scene-edge: back online; receipts are not re-sent"
n=$(grep -c "$OFF" "$WORK/hub2.log" || true)
edge_back "$WORK/edge4.log"
for _ in $(seq 600); do
	[ "$(grep -c "$OFF" "$WORK/hub2.log" || true)" -gt "$n" ] && break
	sleep 0.1
done
[ "$(grep -c "$OFF" "$WORK/hub2.log" || true)" -gt "$n" ] ||
	fail "the hub did not see the device back online"
sleep 3
[ -f "$B3/.delivered" ] && fail "$IID3 delivered with receipt_resend_days: 0"
grep -q "receipt: $IID3" "$WORK/edge4.log" && fail "a receipt for $IID3 with re-sending off"
edge_gone
hub_stop
echo "$NAME: with receipt_resend_days: 0, $IID3 stays undelivered"
# the default: the next reconnect brings the receipt again (the edge
# asking for receipts every 2 s, for part 5)
sed 's/^  heartbeat_s: 2$/&\n  receipt_ask_s: 2/' "$WORK/scene/edge2.yaml" >"$WORK/scene/edge3.yaml"
grep -q "receipt_ask_s: 2" "$WORK/scene/edge3.yaml" || fail "the edge's heartbeat_s line changed"
hub_start "$WORK/hub.yaml" "$WORK/hub3.log" -vv
edge_back "$WORK/edge5.log" "$WORK/scene/edge3.yaml"
wait_for "$WORK/hub3.log" "scene-edge: back online: [0-9]* receipts re-sent" 60 ||
	fail "the hub re-sent no receipts"
for _ in $(seq 300); do [ -f "$B3/.delivered" ] && break; sleep 0.1; done
[ -f "$B3/.delivered" ] || fail "$IID3 not delivered after the reconnect"
# the marker comes a moment before the log line (part 1): wait for it
wait_for "$WORK/edge5.log" "receipt: $IID3: delivered and verified by the hub" 10 ||
	fail "the edge's log does not say $IID3 was delivered"
# the bundles delivered before are only repeats to the edge
wait_for "$WORK/edge5.log" "receipt: $IID: already delivered" 10 ||
	fail "the first bundle's receipt was not re-sent as a repeat"
kill -0 $EDGE_PID 2>/dev/null || fail "the edge died on the re-sent receipts"
echo "$NAME: $IID3 delivered after one reconnect"

# 5. a receipt lost while the edge stays online (queued in a hub that died,
# refused by the broker: here the edge's marker removed) is not waiting for
# the next reconnect: the edge names the bundle in its heartbeat
# (undelivered.ask, every mqtt.receipt_ask_s) and the hub sends it again
DONE="receipt: $IID3: delivered and verified by the hub"
back=$(grep -c "back online" "$WORK/hub3.log" || true)
done0=$(grep -c "$DONE" "$WORK/edge5.log" || true)
rm "$B3/.delivered"
for _ in $(seq 300); do [ -f "$B3/.delivered" ] && break; sleep 0.1; done
[ -f "$B3/.delivered" ] || fail "$IID3: its receipt was not asked for and sent again"
wait_for "$WORK/hub3.log" "scene-edge: asks for [0-9]* receipts; [1-9][0-9]* of them held verified" 10 ||
	fail "the hub's log does not say the device asked"
grep -q "bundles without a receipt; asking for" "$WORK/edge5.log" ||
	fail "the edge's log does not say it asked"
wait_for "$WORK/edge5.log" "$DONE" 10 || fail "the edge's log does not say $IID3 was delivered"
[ "$(grep -c "$DONE" "$WORK/edge5.log")" -gt "$done0" ] || fail "no new delivery of $IID3 logged"
[ "$(grep -c "back online" "$WORK/hub3.log" || true)" = "$back" ] ||
	fail "the edge reconnected: the receipt came back online, not asked for"
kill -0 $EDGE_PID 2>/dev/null || fail "the edge died asking for receipts"
echo "$NAME: $IID3's lost receipt asked for and sent again, no reconnect"
echo "$NAME: ok"
