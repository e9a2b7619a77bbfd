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
#     changes nothing;
#   - the resident vehicle register (docs/api.md): a CSV with bad rows is
#     refused naming each row and why, nothing imported; a good one
#     replaces the site's register (audited); the list shows phones masked;
#     the incident shows the owner (name, unit, 138****1234) to the site's
#     property manager and an admin, not to enforcement; the phone's reveal
#     answers it in full and is audited, enforcement 403; another site's
#     manager can neither import nor read it (404);
#   - the owner notification (alerts.sites[].owner_webhook): an incident
#     whose plate is registered is sent once, notify_owner_s after its
#     alarm, from the site's template, to a test receiver (its first answer
#     500: retried), audited owner_notify; an incident whose plate was not
#     in the register when it was due notifies nobody.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" mosquitto mosquitto_pub python3 curl jq sqlite3
PORT=$(free_port)
broker_start
HPORT=$(free_port)
# the SMS gateway stand-in: every POST as a JSON line; its first answers 500
python3 - "$HPORT" "$WORK/hooks.jsonl" <<'EOP' >"$WORK/receiver.log" 2>&1 &
import http.server, json, sys
port, out = int(sys.argv[1]), sys.argv[2]
seen = set()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        code = 200 if self.path in seen else 500
        seen.add(self.path)
        with open(out, "a") as f:
            f.write(json.dumps({"path": self.path, "code": code,
                                "body": json.loads(body)}, ensure_ascii=False) + "\n")
        self.send_response(code)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
EOP
track $!
web_hub_conf "$WORK/hub.yaml"
# the owner notification: 2 s after the alarm (web_hub_conf's alerts line
# replaced by this site's)
sed -i '/^alerts:/d' "$WORK/hub.yaml"
cat >>"$WORK/hub.yaml" <<EOC
public_url: https://hub.example.org
alerts:
  mqtt: false
  retry_base_s: 0.3
  retry_cap_s: 2
  sites:
    - site: site-p
      escalate_s: 0
      owner_webhook: "http://127.0.0.1:$HPORT/sms"
      owner_template: '{"to": "{phone}", "text": "{unit} {owner}: {plate} at {site} {lane}", "link": "{url}"}'
      notify_owner_s: 2
EOC
device_key "$WORK/dev.key" >"$WORK/dev.pub"
"$HUB" --config "$WORK/hub.yaml" --enrol-device edge-p --site site-p --public-key "$WORK/dev.pub" \
	>"$WORK/admin.log" 2>&1 || fail "enrol: $(cat "$WORK/admin.log")"
broker_device edge-p
echo 'pw-of-pm' | "$HUB" --config "$WORK/hub.yaml" --add-user pm --role property --sites site-p \
	>>"$WORK/admin.log" 2>&1 || fail "add pm"
echo 'pw-of-other' | "$HUB" --config "$WORK/hub.yaml" --add-user other --role property --sites site-q \
	>>"$WORK/admin.log" 2>&1 || fail "add other"
echo 'pw-of-enf' | "$HUB" --config "$WORK/hub.yaml" --add-user enf --role enforcement \
	>>"$WORK/admin.log" 2>&1 || fail "add enf"
echo 'pw-of-root' | "$HUB" --config "$WORK/hub.yaml" --add-user root --role admin \
	>>"$WORK/admin.log" 2>&1 || fail "add root"
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

# ---- the resident vehicle register ------------------------------------------------
ENF=$(web_login enf pw-of-enf)
ROOT=$(web_login root pw-of-root)
printf 'plate,owner,building/unit,phone\n粤B12346,王先生,3 栋 2 单元,138 1234 1234\nnot-a-plate,李女士,1 栋,13900001111\n粤C00001,,2 栋,13900002222\n粤C00002,赵先生,5 栋,12ab\n粤B12346,重复,1 栋,13900003333\n' >"$WORK/bad.csv"
[ "$(web_as pm "$PM" POST /api/sites/site-p/register "@$WORK/bad.csv")" = 400 ] || fail "bad CSV: $(cat "$WORK/out")"
for want in 'row 3: plate' 'row 4: owner' 'row 5: phone' 'row 6: plate: listed twice'; do
	grep -q "$want" "$WORK/out" || fail "bad CSV answer lacks '$want': $(cat "$WORK/out")"
done
[ "$(q "select count(*) from residents")" = 0 ] || fail "a bad CSV imported rows"
printf '\xef\xbb\xbfPlate,Owner,Unit,Phone\n粤B12346,王先生,3 栋 2 单元,138-1234-1234\n"京A 12345","Smith, J.",1 栋,+86 139 0000 1111\n' >"$WORK/good.csv"
[ "$(web_as other "$OTHER" POST /api/sites/site-p/register "@$WORK/good.csv")" = 404 ] || fail "another site's manager imported"
[ "$(web_as enf "$ENF" POST /api/sites/site-p/register "@$WORK/good.csv")" = 403 ] || fail "enforcement imported"
[ "$(web_as pm "$PM" POST /api/sites/site-p/register "@$WORK/good.csv")" = 200 ] || fail "good CSV: $(cat "$WORK/out")"
[ "$(jq -r .imported "$WORK/out")" = 2 ] || fail "imported: $(cat "$WORK/out")"
[ "$(q "select count(*) from audit where action = 'register_import' and object = 'site-p' and user = 'pm'")" = 1 ] ||
	fail "the import not audited"
[ "$(web_as pm "$PM" GET /api/sites/site-p/register)" = 200 ] || fail "register list"
[ "$(jq -r '[.residents[] | .plate + "=" + .phone] | join(" ")' "$WORK/out")" = "京A12345=+86*******1111 粤B12346=138****1234" ] ||
	fail "the list: $(cat "$WORK/out")"
grep -q 13812341234 "$WORK/out" && fail "the list shows a phone in full"
[ "$(web_as other "$OTHER" GET /api/sites/site-p/register)" = 404 ] || fail "another site's manager read it"
# the incident's plate (粤B12346, set by pm above) is registered
[ "$(web_as pm "$PM" GET "/api/incidents/$IID")" = 200 ] || fail "incident"
[ "$(jq -r '.owner.name + "|" + .owner.unit + "|" + .owner.phone_masked' "$WORK/out")" = "王先生|3 栋 2 单元|138****1234" ] ||
	fail "owner for pm: $(jq -c .owner "$WORK/out")"
grep -q 13812341234 "$WORK/out" && fail "the incident shows the phone in full"
web_as root "$ROOT" GET "/api/incidents/$IID" >/dev/null
[ "$(jq -r .owner.name "$WORK/out")" = 王先生 ] || fail "owner for the admin: $(jq -c .owner "$WORK/out")"
web_as enf "$ENF" GET "/api/incidents/$IID" >/dev/null
[ "$(jq -r '.owner // "none"' "$WORK/out")" = none ] || fail "enforcement sees the owner: $(jq -c .owner "$WORK/out")"
# the reveal
[ "$(web_as enf "$ENF" POST "/api/incidents/$IID/owner_phone")" = 403 ] || fail "enforcement revealed the phone"
[ "$(web_as pm 00 POST "/api/incidents/$IID/owner_phone")" = 403 ] || fail "a reveal without CSRF"
[ "$(q "select count(*) from audit where action = 'phone_reveal'")" = 0 ] || fail "a refused reveal was audited"
[ "$(web_as pm "$PM" POST "/api/incidents/$IID/owner_phone")" = 200 ] || fail "reveal: $(cat "$WORK/out")"
[ "$(jq -r .phone "$WORK/out")" = 13812341234 ] || fail "the revealed phone: $(cat "$WORK/out")"
[ "$(q "select user || '|' || object || '|' || detail from audit where action = 'phone_reveal'")" = "pm|$IID|粤B12346" ] ||
	fail "the reveal not audited: $(q "select * from audit where action = 'phone_reveal'")"
# a new import replaces the register: the plate no longer in it, no owner
printf 'plate,owner,unit,phone\n京A12345,Smith,1 栋,13900001111\n' >"$WORK/next.csv"
[ "$(web_as pm "$PM" POST /api/sites/site-p/register "@$WORK/next.csv")" = 200 ] || fail "re-import"
web_as pm "$PM" GET "/api/incidents/$IID" >/dev/null
[ "$(jq -r '.owner // "none"' "$WORK/out")" = none ] || fail "owner after the re-import: $(jq -c .owner "$WORK/out")"

# ---- the owner notification ------------------------------------------------------
IID=edge-p-2-lane-a-1
NOW=$(date +%s)
send 1 alarm ', "plate": "京A12345", "plate_confidence": 0.998'
wait_for "$WORK/hooks.jsonl" '"code": 200' 20 || fail "no owner notification delivered: $(cat "$WORK/hooks.jsonl" 2>/dev/null)"
sleep 3 # nothing more may come
python3 - "$WORK/hooks.jsonl" "$IID" <<'PY' || fail "the owner notification"
import json, sys
hooks = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert [h["code"] for h in hooks] == [500, 200], hooks   # once, after a retry
b = hooks[1]["body"]
assert hooks[1]["path"] == "/sms", hooks
assert b == {"to": "13900001111", "text": "1 栋 Smith: 京A12345 at site-p lane-a",
             "link": "https://hub.example.org/incidents/" + sys.argv[2]}, b
PY
[ "$(q "select count(*) from audit where action = 'owner_notify' and object = '$IID' and detail = '京A12345'")" = 1 ] ||
	fail "the notification not audited: $(q "select * from audit where action = 'owner_notify'")"
[ "$(q "select count(*) from audit where action = 'owner_notify'")" = 1 ] || fail "the first incident's owner was notified"
grep -q "owner not notified" "$WORK/hub.log" || fail "the first incident's skipped notification is not logged"
echo "$NAME: ok"
