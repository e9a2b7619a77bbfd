#!/usr/bin/env bash
# hub_plates.sh - the plate on the hub (docs/api.md, docs/mqtt.md "Plate"),
# with a real mosquitto, the real hub (SQLite, HTTP) and signed device
# messages:
#   - an alarm with "plate": null (unread) leaves the incident without one;
#     the evidence message's read sets it, plate_by "device";
#   - the list by a part of the plate, any case (plate=b123), and not by
#     another; a property manager of another site finds nothing;
#   - a person's entry (POST .../plate): 200, plate_by the user, audited
#     "plate"; a later read does not overwrite it; a text that is no plate
#     400, no CSRF token 403;
#   - a message whose plate is no plate shape is refused (quarantined) and
#     changes nothing.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" mosquitto mosquitto_pub python3 curl jq sqlite3
PORT=$(free_port)
broker_start
web_hub_conf "$WORK/hub.yaml"
device_key "$WORK/dev.key" >"$WORK/dev.pub"
"$HUB" --config "$WORK/hub.yaml" --enrol-device edge-p --site site-p --public-key "$WORK/dev.pub" \
	>"$WORK/admin.log" 2>&1 || fail "enrol: $(cat "$WORK/admin.log")"
broker_device edge-p
echo 'pw-of-pm' | "$HUB" --config "$WORK/hub.yaml" --add-user pm --role property --sites site-p \
	>>"$WORK/admin.log" 2>&1 || fail "add pm"
echo 'pw-of-other' | "$HUB" --config "$WORK/hub.yaml" --add-user other --role property --sites site-q \
	>>"$WORK/admin.log" 2>&1 || fail "add other"
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -v

TOPIC=firelane/site-p/edge-p/cam-1/lane-a/incident
IID=edge-p-1-lane-a-1
NOW=$(date +%s)
msg() { # SEQ TYPE [EXTRA]
	printf '{"incident_id": "%s", "seq": %s, "type": "%s", "site": "site-p", "device": "edge-p", "camera": "cam-1", "lane": "lane-a", "unix_time": %s%s}' \
		"$IID" "$1" "$2" "$NOW" "${3:-}"
}
send() { msg "$@" | device_pub "$WORK/dev.key" edge-p "$TOPIC"; }
until_q() { # SQL WANT WHAT
	for _ in $(seq 100); do
		[ "$(q "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "$3 (got: $(q "$1"))"
}

send 1 alarm ', "plate": null, "plate_confidence": 0.31'
until_q "select count(*) from incident_events where incident_id = '$IID'" 1 "the alarm not stored"
[ -z "$(q "select plate from incidents where incident_id = '$IID'")" ] || fail "an unread plate was stored"
send 2 evidence ', "plate": "粤B12345", "plate_confidence": 0.9985, "evidence": [{"name": "scene-1.jpg", "sha256": "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b", "bytes": 5}]'
until_q "select plate || '/' || plate_by from incidents where incident_id = '$IID'" "粤B12345/device" \
	"the device's read not stored"

PM=$(web_login pm pw-of-pm)
OTHER=$(web_login other pw-of-other)
[ "$(web_as pm "$PM" GET '/api/incidents?plate=b123')" = 200 ] || fail "list by plate: $(cat "$WORK/out")"
[ "$(jq -r '.total' "$WORK/out")" = 1 ] && [ "$(jq -r '.incidents[0].plate' "$WORK/out")" = 粤B12345 ] ||
	fail "plate=b123: $(cat "$WORK/out")"
web_as pm "$PM" GET '/api/incidents?plate=B12346' >/dev/null
[ "$(jq -r '.total' "$WORK/out")" = 0 ] || fail "plate=B12346 found something: $(cat "$WORK/out")"
web_as other "$OTHER" GET '/api/incidents?plate=b123' >/dev/null
[ "$(jq -r '.total' "$WORK/out")" = 0 ] || fail "another site's manager found it: $(cat "$WORK/out")"

# a person's entry
[ "$(web_as pm 00 POST "/api/incidents/$IID/plate" '{"plate": "粤B12346"}')" = 403 ] || fail "no CSRF: not 403"
[ "$(web_as pm "$PM" POST "/api/incidents/$IID/plate" '{"plate": "not a plate"}')" = 400 ] ||
	fail "a text that is no plate: $(cat "$WORK/out")"
[ "$(web_as other "$OTHER" POST "/api/incidents/$IID/plate" '{"plate": "粤B12346"}')" = 404 ] ||
	fail "another site's manager set the plate"
[ "$(web_as pm "$PM" POST "/api/incidents/$IID/plate" '{"plate": "粤B12346"}')" = 200 ] ||
	fail "the entry: $(cat "$WORK/out")"
[ "$(jq -r '.plate + "/" + .plate_by' "$WORK/out")" = 粤B12346/pm ] || fail "the answer: $(cat "$WORK/out")"
[ "$(q "select count(*) from audit where action = 'plate' and object = '$IID' and user = 'pm' and detail = '粤B12346'")" = 1 ] ||
	fail "the entry not audited: $(q 'select user, action, object, detail from audit')"
send 3 cleared ', "plate": "粤B12345", "plate_confidence": 0.999'
until_q "select count(*) from incident_events where incident_id = '$IID'" 3 "the cleared message not stored"
[ "$(q "select plate || '/' || plate_by from incidents where incident_id = '$IID'")" = 粤B12346/pm ] ||
	fail "a read overwrote the person's plate: $(q "select plate, plate_by from incidents")"

# a plate that is no plate: the message is refused
send 4 cleared ', "plate": "粤粤粤", "plate_confidence": 0.9'
until_q "select count(*) from quarantine where reason like '%plate%'" 1 "a malformed plate was not refused"
[ "$(q "select count(*) from incident_events where incident_id = '$IID'")" = 3 ] || fail "the refused message was stored"
echo "$NAME: ok"
