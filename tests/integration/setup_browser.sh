#!/usr/bin/env bash
# setup_browser.sh - the whole set-up of a device, from a new installer to
# the first alert, with the installer's part in a real browser
# (tests/browser/setup.test.mjs in headless Debian chromium through
# playwright-core). Real parts: mosquitto with its password file, ACL and
# dynamic security plugin (the broker accounts enrolment makes), the hub
# behind Debian's nginx with TLS (enrolment is HTTPS only), the edge on a
# generated scene, and lib/alert_receiver.py as the site's WeCom and
# DingTalk group robots (each payload checked against the platform's
# documented schema).
#
# The hub's time zone is +08:00; the site's alerts go to both robots. An
# admin adds the installer (--add-user, as docs/hub.md's quick start
# does). In the browser (Chinese) the installer adds the device on the
# devices page and reads its one-time code; here the device enrols with
# it (firelane-edge --enrol, verifying the hub's certificate) into the
# operator's file (the camera, the site's Chinese name and a lane further
# down the road that nothing stops in) and the edge starts from that file.
# The scene: park_leave's road, empty for 30 s (its first frame held),
# then its car comes and rests where the fire lane is (cut before it
# leaves, its last frame held 15 s); a little sensor noise over all of it,
# so the held frames are not a frozen camera (docs/health.md). Meanwhile in the browser the
# installer fetches a snapshot, draws the fire lane over the spot where
# the car will stop, names it in Chinese, sets a dwell of 3 s, saves and
# applies; the page says the device applied it. Then the page in English
# (the header's switch). The edge must raise an alarm in the new lane;
# the hub stores it; each robot gets exactly one message, the alarm, in
# Chinese with the site's and the lane's names and the local time with
# +08:00, as the schema checks pass. Screenshots into
# $FL_BUILD_DIR/screenshots/setup-*.png. A bad camera and its roll-back in
# the browser are browser_devices.sh's (one place).
#
# Exit 77 (skip) when chromium, node, npm, nginx or ffmpeg is missing or
# playwright-core cannot be installed (offline).
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
command -v ffmpeg >/dev/null || skip "ffmpeg missing"
need "$HUB" "$EDGE" "$SCENE" mosquitto mosquitto_ctrl mosquitto_sub openssl python3 sqlite3 curl jq
browser_setup setup.test.mjs lib.mjs

SCENARIO=park_leave
DEVICE=east-gate-1
SITE=scene-site
SITE_NAME="城东小区 3 号楼"
LANE_NAME="东门消防通道"
PORT=$(free_port)
WPORT=$(free_port)
NPORT=$(free_port)
HPORT=$(free_port)
BASE=https://127.0.0.1:$NPORT
T0=$(date +%s)

# ---- the scene: an empty road while the installer works, then the car ----
scene $SCENARIO
# the car's rest (the scene's truth) and the lane it rests in
read -r REST_START REST_END <<<"$(jq -r '.obstructions[0] | "\(.start_s) \(.end_s)"' "$WORK/scene/$SCENARIO.json")"
LANE=$(jq -r '.zones[0].points | map("\(.[0]),\(.[1])") | join(" ")' "$WORK/scene/$SCENARIO.json")
[ "$LANE" = "198,194 282,194 259,124 221,124" ] || fail "the scene's lane moved: $LANE"
CUT=$(python3 -c "print(round($REST_END - 3, 2))")
ffmpeg -v error -y -i "$WORK/scene/$SCENARIO.mp4" -an \
	-vf "trim=end=$CUT,setpts=PTS-STARTPTS,tpad=start_duration=30:start_mode=clone:stop_duration=15:stop_mode=clone,noise=alls=2:allf=t" \
	-c:v libx264 -preset ultrafast -pix_fmt yuv420p "$WORK/scene/setup.mp4" >"$WORK/ffmpeg.log" 2>&1 ||
	fail "ffmpeg: $(tail -n 3 "$WORK/ffmpeg.log")"
echo "$NAME: the car rests from $(python3 -c "print(round(30 + $REST_START, 1))") s of the video on"

# ---- the broker, the alert receiver, the hub behind nginx ----
BROKER_DYNSEC=1 broker_start
python3 "$FL_LIB/alert_receiver.py" "$HPORT" "$WORK/hooks.jsonl" >"$WORK/receiver.log" 2>&1 &
track $!
cat >"$WORK/hub.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$NAME, keepalive_s: 5, $HUB_AUTH}
http: {listen: "127.0.0.1:$WPORT"}
store: {sqlite: $WORK/hub.db}
evidence_dir: $WORK/hub-evidence
public_url: $BASE
timezone: "+08:00"
enrol: {$BROKER_ADMIN_AUTH}
alerts:
  mqtt: false
  sites:
    - site: $SITE
      webhooks:
        - {url: "http://127.0.0.1:$HPORT/wecom", format: wecom}
        - {url: "http://127.0.0.1:$HPORT/dingtalk", format: dingtalk}
EOC
"$HUB" --config "$WORK/hub.yaml" --check-config >"$WORK/check.log" 2>&1 || fail "--check-config: $(cat "$WORK/check.log")"
echo 'pw-inst 1' | "$HUB" --config "$WORK/hub.yaml" --add-user 安装工 --role installer --sites $SITE \
	>"$WORK/admin.log" 2>&1 || fail "--add-user: $(cat "$WORK/admin.log")"
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -v
nginx_start "$WPORT"

# ---- the operator's file on the device, before enrolment ----
CONF=$WORK/scene/edge.yaml # beside the video: its path is relative
{
	echo "device: {id: unnamed, site: unset, site_name: \"$SITE_NAME\", key_file: $WORK/device.key}"
	echo "cameras:"
	echo "  - id: cam-1"
	echo "    source: setup.mp4"
	echo "    lanes:"
	echo "      - id: lane-far" # further down the road: nothing stops there
	echo "        points: [[228, 118], [254, 118], [249, 100], [232, 100]]"
	printf 'mqtt:\n  heartbeat_s: 2\n  spool_dir: %s\n  keepalive_s: 5\n' "$WORK/spool"
	printf 'evidence:\n  dir: %s\n  pre_roll_s: 4\n  post_roll_s: 3\n' "$WORK/evidence"
} >"$CONF"
"$EDGE" --config "$CONF" --check-config >"$WORK/check-edge.log" 2>&1 || fail "the operator's file: $(cat "$WORK/check-edge.log")"

# ---- the browser: the installer adds the device; here it enrols ----
SHOTS=$(cd "$BUILD" && pwd)/screenshots
rm -f "$SHOTS"/setup-*.png
(
	cd "$NODE_DIR"
	FL_URL="$BASE" FL_SHOTS="$SHOTS" FL_INSTALLER='安装工:pw-inst 1' FL_SITE=$SITE FL_DEVICE=$DEVICE FL_CAMERA=cam-1 \
		FL_CODE_FILE="$WORK/code.txt" FL_READY_FILE="$WORK/ready" FL_LANE="$LANE" FL_LANE_NAME="$LANE_NAME" \
		timeout 500 node setup.test.mjs
) >"$WORK/ui.log" 2>&1 &
UI_PID=$!
track $UI_PID
for _ in $(seq 1200); do
	[ -s "$WORK/code.txt" ] && break
	kill -0 $UI_PID 2>/dev/null || fail "setup.test.mjs ended without a code: $(cat "$WORK/ui.log")"
	sleep 0.1
done
CODE=$(cat "$WORK/code.txt" 2>/dev/null) || fail "no code from the browser: $(cat "$WORK/ui.log")"
[ "$(q "select created_by || '|' || site from enrol_codes where device = '$DEVICE'")" = "安装工|$SITE" ] ||
	fail "the code in the store: $(q 'select device, site, created_by from enrol_codes')"
"$EDGE" --config "$CONF" --enrol "$BASE" "$CODE" --ca "$WORK/tls/hub.crt" >"$WORK/enrol.out" 2>"$WORK/enrol.err" ||
	fail "--enrol: $(cat "$WORK/enrol.err" "$WORK/enrol.out")"
grep -q "enrolled as device $DEVICE of site $SITE" "$WORK/enrol.out" || fail "--enrol said: $(cat "$WORK/enrol.out")"
grep -q "site_name: \"$SITE_NAME\"" "$CONF" || fail "the enrolment lost the site's name: $(cat "$CONF")"
edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$CONF" -v
T_EDGE=$(date +%s)
device_online $DEVICE 30
touch "$WORK/ready"

# ---- the browser draws and applies the lane; the edge alarms in it ----
wait $UI_PID || fail "setup.test.mjs failed: $(cat "$WORK/ui.log") $(tail -n 5 "$WORK/edge.log")"
cat "$WORK/ui.log"
grep -q '^setup.test: ok$' "$WORK/ui.log" || fail "setup.test.mjs did not finish"
T_APPLIED=$(date +%s)
[ "$(q "select apply_ok from device_configs where device = '$DEVICE' and version = 2")" = 1 ] ||
	fail "version 2 not applied: $(q 'select version, author, apply_ok, apply_error from device_configs')"
[ "$(q "select author from device_configs where device = '$DEVICE' and version = 2")" = 安装工 ] ||
	fail "version 2's author: $(q 'select version, author from device_configs')"
for _ in $(seq 1200); do
	[ "$(q "select count(*) from incidents where device = '$DEVICE' and alarm is not null")" -ge 1 ] && break
	sleep 0.1
done
[ "$(q "select lane || '|' || lane_name || '|' || site from incidents where device = '$DEVICE' and alarm is not null")" = "lane-2|$LANE_NAME|$SITE" ] ||
	fail "no alarm in the new lane at the hub: $(q 'select lane, lane_name, status from incidents') $(tail -n 5 "$WORK/edge.log")"
T_ALARM=$(date +%s)
wait_for "$WORK/hooks.jsonl" '"/dingtalk"' 60 && wait_for "$WORK/hooks.jsonl" '"/wecom"' 60 ||
	fail "the robots got nothing: $(cat "$WORK/hooks.jsonl" 2>/dev/null) $(tail -n 5 "$WORK/hub.log")"
edge_wait 120 # the video's end
[ "$(q "select count(*) from incidents where device = '$DEVICE'")" = 1 ] ||
	fail "more than the one incident: $(q 'select incident_id, lane, status from incidents')"
IID=$(q "select incident_id from incidents where device = '$DEVICE'")
ALARM=$(q "select cast(alarm as integer) from incidents where device = '$DEVICE'")
python3 - "$WORK/hooks.jsonl" "$SITE_NAME" "$LANE_NAME" "$ALARM" "$BASE/incidents/$IID" <<'EOP' || fail "the alerts (above): $(cat "$WORK/hooks.jsonl")"
import datetime, json, sys
hooks = [json.loads(l) for l in open(sys.argv[1])]
site, lane, alarm, page = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
for h in hooks:
    assert h["code"] == 200 and not h["errors"], h
w = [h["body"] for h in hooks if h["path"] == "/wecom"]
d = [h["body"] for h in hooks if h["path"] == "/dingtalk"]
assert len(w) == 1 and len(d) == 1 and len(hooks) == 2, [h["path"] for h in hooks]
# the alarm's local time, +08:00 (the stored alarm time within a second)
local = datetime.timezone(datetime.timedelta(hours=8))
whens = [datetime.datetime.fromtimestamp(alarm + s, local).strftime("%Y-%m-%d %H:%M:%S +08:00") for s in (0, 1)]
art = w[0]["news"]["articles"][0]
assert w[0]["msgtype"] == "news" and art["title"] == "消防通道被占用：" + site, w[0]
assert "通道：" + lane in art["description"] and art["url"] == page, art
assert any("报警时间：" + t in art["description"] for t in whens), (art["description"], whens)
md = d[0]["markdown"]
assert d[0]["msgtype"] == "markdown" and md["title"] == "消防通道被占用 " + site, d[0]
assert "- 通道：" + lane in md["text"] and any("- 报警时间：" + t in md["text"] for t in whens), (md["text"], whens)
print("alerts: wecom %r, dingtalk %r" % (art["title"], md["title"]))
EOP
# the alert's picture, as a phone would fetch it (a signed link, no session)
PIC=$(jq -r 'select(.path == "/wecom") | .body.news.articles[0].picurl' "$WORK/hooks.jsonl")
[ "$(curl -s --cacert "$WORK/tls/hub.crt" -o "$WORK/pic.jpg" -w '%{http_code}' --max-time 30 "$PIC")" = 200 ] &&
	[ "$(head -c 2 "$WORK/pic.jpg" | od -An -tx1 | tr -d ' \n')" = ffd8 ] || fail "the alert's picture $PIC is not a JPEG"
[ "$(q "select count(*) from audit where action = 'device_enrol' and object = '$DEVICE'")" = 1 ] || fail "the enrolment is not audited"
[ "$(q "select count(*) from audit where action = 'config_apply' and user = '安装工'")" -ge 1 ] || fail "the apply is not audited"
ls "$SHOTS"/setup-zh-0[1-6]-*.png "$SHOTS"/setup-en-0[1-3]-*.png >/dev/null || fail "screenshots missing: $(ls "$SHOTS")"
hub_stop 30
echo "$NAME: edge started $((T_EDGE - T0)) s in, the browser done by $((T_APPLIED - T0)) s, alarm stored by $((T_ALARM - T0)) s, done in $(($(date +%s) - T0)) s"
echo "$NAME: ok"
