#!/usr/bin/env bash
# browser_devices.sh - the lane editor end to end in a real browser
# (docs/devices.md): headless Debian chromium driven by playwright-core
# through tests/browser/devices.test.mjs, against a real mosquitto, hub
# and edge.
#
# Set-up: the synthetic present_from_start scene (a van stands in the lane
# all along) played four times over (ffmpeg, stream copy) so the edge stays
# live while the browser works; the edge's key enrolled, its configuration
# stored at the hub as version 1; an installer of scene-site. The browser
# then fetches a snapshot, draws a lane over the van (a short dwell), saves
# and applies it (devices.test.mjs says how). Afterwards the edge must run
# the new lane: its alarm, with the lane's Chinese name, reaches the hub.
# Screenshots (Chinese and English, a phone) go to
# $FL_BUILD_DIR/screenshots/devices/.
#
# playwright-core as the harness installs it (browser_setup). Exit 77
# (skip) when chromium, node, npm or ffmpeg is missing or the package
# cannot be installed (offline).
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
command -v ffmpeg >/dev/null || skip "ffmpeg missing"
need "$HUB" "$EDGE" "$SCENE" mosquitto mosquitto_sub mosquitto_passwd python3 sqlite3 curl jq
browser_setup devices.test.mjs lib.mjs

SCENARIO=present_from_start
scene $SCENARIO
ffmpeg -v error -y -stream_loop 3 -i "$WORK/scene/$SCENARIO.mp4" -c copy "$WORK/scene/long.mp4" ||
	fail "ffmpeg could not repeat the scene"
sed -i "s|source: $SCENARIO.mp4|source: long.mp4|" "$WORK/scene/$SCENARIO.yaml"
broker_start
web_hub_conf "$WORK/hub.yaml" 'timezone: "+08:00"'
HUB_KEY=$(hub_key "$WORK/hub.yaml")
edge_config "$WORK/scene/edge.yaml"
sed -i "s|^device: {id: scene-edge, site: scene-site}|device: {id: scene-edge, site: scene-site, key_file: $WORK/device.key}|" "$WORK/scene/edge.yaml"
grep -q 'source: long.mp4' "$WORK/scene/edge.yaml" || fail "the scene's source line changed"
"$EDGE" --config "$WORK/scene/edge.yaml" --print-public-key >"$WORK/pk.txt" 2>"$WORK/pk.log" || fail "--print-public-key"
{
	"$HUB" --config "$WORK/hub.yaml" --enrol-device scene-edge --site scene-site --public-key "$WORK/pk.txt"
	echo 'pw-inst' | "$HUB" --config "$WORK/hub.yaml" --add-user 安装工 --role installer --sites scene-site
} >"$WORK/admin.log" 2>&1 || fail "enrolling the device and adding the installer: $(cat "$WORK/admin.log")"
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -v
subscribe "$WORK/all.txt" 'firelane/#'
edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$WORK/scene/edge.yaml" -v
device_online scene-edge 30

SHOTS=$(cd "$BUILD" && pwd)/screenshots/devices
rm -rf "$SHOTS"
(
	cd "$NODE_DIR"
	FL_URL="$BASE" FL_SHOTS="$SHOTS" FL_DEVICE=scene-edge FL_CAMERA=cam-1 FL_INSTALLER='安装工:pw-inst' \
		timeout 400 node devices.test.mjs
) 2>&1 | tee "$WORK/ui.log"
[ "${PIPESTATUS[0]}" = 0 ] || fail "devices.test.mjs failed (above): $(tail -n 5 "$WORK/edge.log")"
grep -q '^devices.test: ok$' "$WORK/ui.log" || fail "devices.test.mjs did not finish"

# the version the browser saved: imported as 1, saved as 2, applied
[ "$(q "select apply_ok from device_configs where device = 'scene-edge' and version = 2")" = 1 ] ||
	fail "version 2 not applied: $(q 'select version, author, apply_ok, apply_error from device_configs')"
q "select yaml from device_configs where device = 'scene-edge' and version = 2" | grep -q 'name: "新车道"' ||
	fail "the lane's name is not in the saved file"
# the edge runs the new lane: its alarm reaches the hub, with its name
for _ in $(seq 600); do
	[ "$(q "select count(*) from incidents where lane = 'lane-2' and alarm is not null")" -ge 1 ] && break
	sleep 0.1
done
[ "$(q "select lane_name from incidents where lane = 'lane-2' and alarm is not null limit 1")" = 新车道 ] ||
	fail "no alarm of the new lane at the hub: $(q 'select lane, lane_name, status from incidents') $(tail -n 5 "$WORK/edge.log")"
edge_stop 30
hub_stop
echo "browser_devices: ok"
