#!/usr/bin/env bash
# browser_ui.sh - the hub's review web UI in a real browser (issue 5, points
# 4, 7 and the browser part of 9): headless Debian chromium driven by
# playwright-core (npm) through tests/browser/ui.test.mjs.
#
# Set-up, all real: a private mosquitto on a free loopback port; firelane-hub
# with SQLite, an evidence folder, the HTTP server on a free port and the
# timezone +08:00 (times on the pages are the hub's, not the browser's); the
# edge's key enrolled for scene-site and the real edge live on the synthetic
# park_leave scene (one car rests, alarms, leaves: an incident with a
# verified evidence bundle and a clip); a second device enrolled for
# north-site whose incident (occupied, alarm, no evidence) is published with
# mosquitto_pub; one message from a device nobody enrolled (quarantined);
# users added with --add-user: an admin, an enforcement officer and a
# property manager of scene-site. Then ui.test.mjs checks the pages (see its
# header) and saves screenshots of every page, and the weekly report as an A4
# PDF, to $FL_BUILD_DIR/screenshots/ui/ (its own folder: the other browser
# tests keep theirs beside it, and may run at the same time). Finally the hub must stop cleanly on
# SIGTERM (exit 0: under -DFL_SANITIZE=ON that includes LeakSanitizer).
# The resident register: ui.test.mjs imports it as the property manager;
# once it is in the store, an alarm of a registered car (A12345) is
# published as scene-edge, and the site's owner webhook (a receiver,
# lib/alert_receiver.py) must get exactly one owner notification with the
# full phone, while the page showed it masked (and the reveal is audited).
# Near its end ui.test.mjs flips a byte of the incident's composite.jpg on
# disk (FL_TAMPER): the list and the incident page must show it tampered and
# never request it, and the audit log must have its row.
#
# playwright-core is installed by the harness (browser_setup: `npm ci` from
# tests/browser's lock file into $FL_BUILD_DIR/browser-node/). Exit 77
# (skip) when chromium, node or npm is missing or the package cannot be
# installed (no network): said loudly.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
[ -x "$HUB" ] || skip "$HUB not built"
need "$EDGE" "$SCENE" mosquitto mosquitto_sub mosquitto_pub python3 sqlite3 curl
browser_setup ui.test.mjs

SCENARIO=park_leave
PORT=$(free_port)
HTTP_PORT=$(free_port)
HPORT=$(free_port)
scene $SCENARIO
broker_start
python3 "$FL_LIB/alert_receiver.py" "$HPORT" "$WORK/hooks.jsonl" >"$WORK/receiver.log" 2>&1 &
track $!

EV=$WORK/hub-evidence
cat >"$WORK/hub.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$NAME, keepalive_s: 5, $HUB_AUTH}
http: {listen: "127.0.0.1:$HTTP_PORT"}
store: {sqlite: $WORK/hub.db}
evidence_dir: $EV
public_url: http://127.0.0.1:$HTTP_PORT
timezone: "+08:00"
enrol: {$BROKER_ADMIN_AUTH}
alerts:
  mqtt: true
  sites:
    - site: scene-site
      owner_webhook: "http://127.0.0.1:$HPORT/sms"
      owner_template: '{"to": "{phone}", "text": "{unit} {owner}: {plate} {incident}"}'
      notify_owner_s: 1
EOC
"$HUB" --config "$WORK/hub.yaml" --check-config >"$WORK/check.log" 2>&1 ||
	fail "--check-config: $(cat "$WORK/check.log")"

edge_config "$WORK/scene/edge.yaml" "$(printf 'evidence:\n  dir: %s\n  pre_roll_s: 4\n  post_roll_s: 3\n' "$WORK/evidence")"
sed -i "s|^device: {id: scene-edge, site: scene-site}|device: {id: scene-edge, site: scene-site, key_file: $WORK/device.key}|" "$WORK/scene/edge.yaml"
"$EDGE" --config "$WORK/scene/edge.yaml" --print-public-key >"$WORK/pk.txt" 2>"$WORK/pk.log" ||
	fail "--print-public-key"
{
	"$HUB" --config "$WORK/hub.yaml" --enrol-device scene-edge --site scene-site --public-key "$WORK/pk.txt"
	"$HUB" --config "$WORK/hub.yaml" --enrol-device north-edge --site north-site --public-key "$WORK/pk.txt"
	echo 'admin-pw-1' | "$HUB" --config "$WORK/hub.yaml" --add-user ada --role admin
	echo 'officer pw 2' | "$HUB" --config "$WORK/hub.yaml" --add-user olaf --role enforcement
	echo 'pm-pw-3' | "$HUB" --config "$WORK/hub.yaml" --add-user pia --role property --sites scene-site
} >"$WORK/admin.log" 2>&1 || fail "enrolling devices and adding users: $(cat "$WORK/admin.log")"

hub_start "$WORK/hub.yaml" "$WORK/hub.log" -v
curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/login" || fail "the hub does not answer HTTP on $HTTP_PORT"

# The other site's incident (no evidence), and one message to quarantine.
NOW=$(date +%s)
north() { # seq type unix_time
	printf '{"incident_id": "north-edge-7-lane-n-1", "seq": %s, "type": "%s", "site": "north-site", "device": "north-edge", "camera": "cam-1", "lane": "lane-n", "site_name": "北区 7 号楼", "lane_name": "北侧消防通道", "unix_time": %s, "class": "vehicle"}' "$1" "$2" "$3"
}
NT=firelane/north-site/north-edge/cam-1/lane-n/incident
# north-edge's messages, signed with the key it shares with the edge here
broker_device north-edge stranger
north_pub() { device_pub "$WORK/device.key" north-edge "$NT"; }
north 1 occupied $((NOW - 200)) | north_pub
north 2 alarm $((NOW - 140)) | north_pub
mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -u stranger -P "$(broker_pw stranger)" \
	-t firelane/north-site/stranger/status -m online
# Recorded history, so that the list has pages and the reports have
# something to chart: three earlier scene-site incidents at the same spot
# (a repeat spot; two with the same plate), and 30 north-site incidents over
# the last 12 days, each left before its alarm (vacated).
python3 - "$NOW" "$WORK/rec-scene.txt" "$WORK/rec-north.txt" <<'EOP'
import json, sys
now = int(sys.argv[1])
def msgs(dev, site, cam, lane, n, t0, steps, extra):
    for seq, (typ, dt) in enumerate(steps, 1):
        m = {"incident_id": "%s-rec%02d-%s-1" % (dev, n, lane), "seq": seq, "type": typ,
             "site": site, "device": dev, "camera": cam, "lane": lane,
             "unix_time": t0 + dt, "class": "vehicle"}
        m.update(extra)
        yield json.dumps(m)
with open(sys.argv[2], "w") as f:
    for n, (ago, clear_s, plate) in enumerate(((3 * 3600, 240, "A12345"), (7 * 3600, 95, "A12345"), (9 * 3600, 610, ""))):
        f.write("\n".join(msgs("scene-edge", "scene-site", "cam-1", "lane-a", n, now - ago,
                               (("occupied", 0), ("alarm", 60), ("cleared", 60 + clear_s)),
                               {"plate": plate} if plate else {})) + "\n")
with open(sys.argv[3], "w") as f:
    for n in range(30):
        t0 = now - 600 - n * 9 * 3600
        f.write("\n".join(msgs("north-edge", "north-site", "cam-1", "lane-n", n, t0,
                               (("occupied", 0), ("vacated", 20 + n)), {})) + "\n")
EOP
device_pub_lines "$WORK/device.key" scene-edge firelane/scene-site/scene-edge/cam-1/lane-a/incident \
	<"$WORK/rec-scene.txt"
device_pub_lines "$WORK/device.key" north-edge "$NT" <"$WORK/rec-north.txt"

# The real edge, live on the scene: the incident with evidence.
edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$WORK/scene/edge.yaml" -v
edge_wait 180

for _ in $(seq 600); do
	[ "$(q "select count(*) from incidents where site = 'scene-site' and verified = 1 and status = 'cleared'")" = 1 ] &&
		[ "$(q "select status from devices where device = 'scene-edge'")" = stopped ] &&
		[ "$(q "select status from incidents where incident_id = 'north-edge-7-lane-n-1'")" = alarm ] &&
		[ "$(q "select count(*) from quarantine")" -ge 1 ] &&
		[ "$(q "select count(*) from incidents where incident_id like '%-rec%' and status in ('cleared', 'vacated')")" = 33 ] && break
	sleep 0.1
done
IID=$(q "select incident_id from incidents where site = 'scene-site' and verified = 1 and status = 'cleared'")
[ -n "$IID" ] || fail "no verified, cleared incident of scene-site: $(q 'select incident_id, status, verified, verify_report from incidents')"
[ "$(q "select status from incidents where incident_id = 'north-edge-7-lane-n-1'")" = alarm ] ||
	fail "north-site's incident not stored: $(q 'select incident_id, status from incidents')"
[ "$(q "select count(*) from quarantine")" -ge 1 ] || fail "nothing quarantined"
[ "$(q "select count(*) from incidents")" = 35 ] || fail "expected 35 incidents: $(q 'select status, count(*) from incidents group by status')"
echo "$NAME: incident $IID with $(ls "$EV/$IID" | wc -l) evidence files; north-edge-7-lane-n-1 without"

# every string of the UI in both catalogues (docs/i18n.md)
node "$SRC/tests/browser/i18n_keys.mjs" "$SRC" || fail "the UI's catalogues are incomplete (above)"

# Once the browser has imported the register: a registered car alarms.
OWNER_IID=scene-edge-owner-lane-a-1
(
	for _ in $(seq 3000); do
		[ "$(q "select count(*) from residents where site = 'scene-site'")" = 2 ] && break
		sleep 0.2
	done
	printf '{"incident_id": "%s", "seq": 1, "type": "alarm", "site": "scene-site", "device": "scene-edge", "camera": "cam-1", "lane": "lane-a", "unix_time": %s, "class": "vehicle", "plate": "A12345", "plate_confidence": 0.999}' \
		"$OWNER_IID" "$(date +%s)" |
		device_pub "$WORK/device.key" scene-edge firelane/scene-site/scene-edge/cam-1/lane-a/incident
) &
track $!

SHOTS=$(cd "$BUILD" && pwd)/screenshots/ui
rm -rf "$SHOTS"
(
	cd "$NODE_DIR"
	FL_URL="http://127.0.0.1:$HTTP_PORT" FL_SHOTS="$SHOTS" FL_INCIDENT="$IID" \
		FL_OTHER_INCIDENT=north-edge-7-lane-n-1 FL_SITE=scene-site FL_OTHER_SITE=north-site \
		FL_DEVICE=scene-edge FL_ADMIN='ada:admin-pw-1' FL_OFFICER='olaf:officer pw 2' FL_PM='pia:pm-pw-3' \
		FL_TAMPER="$EV/$IID/composite.jpg" timeout 600 node ui.test.mjs
) 2>&1 | tee "$WORK/ui.log"
[ "${PIPESTATUS[0]}" = 0 ] || fail "ui.test.mjs failed (above)"
grep -q '^ui.test: ok$' "$WORK/ui.log" || fail "ui.test.mjs did not finish"
kill -0 $HUB_PID 2>/dev/null || fail "the hub died during the browser test"
[ "$(q "select outcome from incidents where incident_id = '$IID'")" = towed ] ||
	fail "the store does not hold the towed outcome"
[ "$(q "select count(*) from outcomes where outcome = 'fined'")" = 0 ] ||
	fail "a fined outcome was stored"

[ "$(q "select count(*) from audit where action = 'evidence_tampered' and object = '$IID' and detail like 'composite.jpg:%'")" = 1 ] ||
	fail "no audit row for the tampered composite.jpg"
# the property manager's reveal of the owner's phone (ui.test.mjs)
[ "$(q "select user || '|' || object || '|' || detail from audit where action = 'phone_reveal'")" = 'pia|scene-edge-rec00-lane-a-1|A12345' ] ||
	fail "the phone's reveal is not audited: $(q "select * from audit where action = 'phone_reveal'")"
[ "$(q "select count(*) from residents where site = 'scene-site'")" = 2 ] || fail "the register was not imported"
# the owner notification: once, for the car that alarmed after the import
# (the recorded incidents' clocks fell due before it: not notified), with
# the phone in full for the SMS gateway, audited
wait_for "$WORK/hooks.jsonl" "\"/sms\".*$OWNER_IID" 30 || fail "no owner notification: $(cat "$WORK/hooks.jsonl" 2>/dev/null)"
sleep 2 # a second one would come within a tick
python3 - "$WORK/hooks.jsonl" "$OWNER_IID" <<'EOP' || fail "the owner notification (above)"
import json, sys
hooks = [json.loads(l) for l in open(sys.argv[1])]
sms = [h for h in hooks if h["path"] == "/sms"]
assert len(sms) == 1, sms
assert sms[0]["code"] == 200 and not sms[0]["errors"], sms
assert sms[0]["body"] == {"to": "13812341234", "text": "3 栋 2 单元 王先生: A12345 " + sys.argv[2]}, sms[0]["body"]
EOP
[ "$(q "select count(*) from audit where action = 'owner_notify'")" = 1 ] &&
	[ "$(q "select object || '|' || detail from audit where action = 'owner_notify'")" = "$OWNER_IID|A12345" ] ||
	fail "the owner notification is not audited once: $(q "select * from audit where action = 'owner_notify'")"
echo "$NAME: screenshots in $SHOTS: $(cd "$SHOTS" && ls | tr '\n' ' ')"

hub_stop 30
echo "$NAME: ok"
