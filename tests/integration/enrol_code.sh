#!/usr/bin/env bash
# enrol_code.sh - enrolment by one-time code (docs/api.md, "Enrolment";
# docs/security.md, "Enrolment by code"), with a real hub behind Debian's
# nginx with TLS (the documented site file, nginx_start), a real mosquitto
# with its password file, ACL and dynamic security plugin
# (BROKER_DYNSEC=1), and the real edge on a generated scene:
#   - an admin makes a code through the API: 8 characters, an expiry, a
#     QR code (SVG) that reads back (zbarimg) as
#     firelane-enrol:<public_url>?code=<code>; the store
#     keeps its SHA-256 only; the pending list shows it;
#   - firelane-edge --enrol refuses plain http:// without --insecure, and
#     the hub's self-signed certificate without --ca or with another CA
#     (the config file and the code untouched; the device key is made
#     and kept); a wrong code is refused as unknown;
#   - a broker that does not take the account (the plugin's manager
#     disabled) makes the hub answer 503 and give the code back;
#   - with --ca it enrols: the config (the scene's, with its device: in
#     flow style and an operator's comment) gets the device id and site,
#     the broker, a fresh account and the hub key; the comment and the
#     cameras are kept; the file loads (--check-config) and is not
#     world-readable; the store has the device with the edge's key, the
#     code used by that key, the audit device_enrol;
#   - the broker takes the new account (and not a wrong password), which
#     cannot make accounts itself (nor can the password file's); the
#     edge started from the written config publishes with it, the hub
#     verifies its signed messages: the scene's alarm is stored for the
#     enrolled device and site, nothing quarantined;
#   - the same code again, an expired code and a revoked code are refused
#     (410 used / expired, 404 revoked), the code stays with the key that
#     used it; two requests racing with one code enrol one key, once;
#     after five failures from an address the enrolment answers 429 there
#     (the login's throttle, with a count of its own: failed logins from
#     that address do not hold an enrolment);
#   - an installer makes codes for its own site (audited as its own), not
#     for another site nor for a device enrolled on another site (403);
#     it lists and revokes its site's codes only (another site's: 404,
#     still pending); a property manager handles none (403).
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" "$EDGE" "$SCENE" mosquitto mosquitto_ctrl mosquitto_sub curl openssl jq sqlite3 python3 nginx zbarimg
SCENARIO=park_leave
PORT=$(free_port)
WPORT=$(free_port)
NPORT=$(free_port)
BASE=https://127.0.0.1:$NPORT
scene $SCENARIO
BROKER_DYNSEC=1 broker_start
web_hub_conf "$WORK/hub.yaml" "public_url: $BASE
enrol: {$BROKER_ADMIN_AUTH, code_ttl_s: 600, broker_timeout_s: 3}"
{
	echo 'pw-root' | "$HUB" --config "$WORK/hub.yaml" --add-user root --role admin
	echo 'pw-inst' | "$HUB" --config "$WORK/hub.yaml" --add-user inst --role installer --sites enrol-site
	echo 'pw-pm' | "$HUB" --config "$WORK/hub.yaml" --add-user pm --role property --sites enrol-site
	device_key "$WORK/north.key" >"$WORK/north.pub"
	"$HUB" --config "$WORK/hub.yaml" --enrol-device north-1 --site north-site --public-key "$WORK/north.pub"
} >"$WORK/cli.log" 2>&1 || fail "--add-user, --enrol-device: $(cat "$WORK/cli.log")"
HUB_PUB=$(hub_key "$WORK/hub.yaml")
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -v
nginx_start "$WPORT"
TOKEN=$(web_login root pw-root)

# code DEVICE SITE: a new code through the API (the answer in WORK/code.json)
code() {
	[ "$(web_as root "$TOKEN" POST /api/devices/enrol-codes "{\"device\": \"$1\", \"site\": \"$2\"}")" = 200 ] ||
		fail "POST /api/devices/enrol-codes: $(cat "$WORK/out")"
	cp "$WORK/out" "$WORK/code.json"
	jq -r .code "$WORK/code.json"
}
CODE=$(code gate-7 enrol-site)
echo "$CODE" | grep -qE '^[234679ACDEFGHJKMNPQRTUVWXYZ]{8}$' || fail "code $CODE"
[ "$(jq -r .url "$WORK/code.json")" = "firelane-enrol:$BASE?code=$CODE" ] || fail "url: $(cat "$WORK/code.json")"
jq -r .qr_svg "$WORK/code.json" | grep -q '^<svg .*<path fill="#000" d="M' || fail "no QR code: $(cat "$WORK/code.json")"
# the QR code reads back as the URL: its modules drawn into a PGM, read by
# zbarimg (zbar-tools)
python3 - "$WORK/code.json" "$WORK/qr.pgm" <<'EOP' || fail "cannot draw the QR code (above)"
import json, re, sys
svg = json.load(open(sys.argv[1]))["qr_svg"]
n, s = int(re.search(r'viewBox="0 0 (\d+) ', svg).group(1)), 8
dark = {(int(x), int(y)) for x, y in re.findall(r"M(\d+) (\d+)h1v1h-1z", svg)}
rows = (bytes(0 if (x // s, y // s) in dark else 255 for x in range(n * s)) for y in range(n * s))
open(sys.argv[2], "wb").write(b"P5 %d %d 255\n" % (n * s, n * s) + b"".join(rows))
EOP
[ "$(zbarimg --raw -q "$WORK/qr.pgm" 2>/dev/null)" = "$(jq -r .url "$WORK/code.json")" ] ||
	fail "the QR code reads as '$(zbarimg --raw -q "$WORK/qr.pgm" 2>&1)', not the URL"
python3 - "$WORK/code.json" <<'EOP' || fail "expiry (above)"
import json, sys, time
j = json.load(open(sys.argv[1]))
assert abs(j["expires"] - (time.time() + 600)) < 30, j["expires"]
EOP
[ "$(q "select count(*) from enrol_codes where device = 'gate-7' and used is null")" = 1 ] || fail "no code stored"
q "select * from enrol_codes" | grep -q "$CODE" && fail "the store holds the code itself"
[ "$(q "select code_hash from enrol_codes")" = "$(printf '%s' "$CODE" | sha256sum | cut -d' ' -f1)" ] ||
	fail "the store's hash is not the code's SHA-256"
[ "$(web_as root "$TOKEN" GET /api/devices/enrol-codes)" = 200 ] || fail "GET codes: $(cat "$WORK/out")"
[ "$(jq -r '.codes | map(.device) | join(",")' "$WORK/out")" = gate-7 ] || fail "pending: $(cat "$WORK/out")"

# the device's config: the scene's (device: in flow style, no broker
# account, no hub key) with an operator's comment
CONF=$WORK/scene/enrolled.yaml # beside the scene: its video path is relative
{
	echo "# operator: camera above the north gate"
	sed "s|^device: {id: scene-edge, site: scene-site}|device: {id: scene-edge, site: scene-site, key_file: $WORK/device.key}|" \
		"$WORK/scene/$SCENARIO.yaml"
	printf 'mqtt:\n  heartbeat_s: 2  # often, for the test\n  spool_dir: %s\n  keepalive_s: 5\n' "$WORK/spool"
} >"$CONF"
grep -q "key_file: $WORK/device.key" "$CONF" || fail "the scene's device line changed shape"
cp "$CONF" "$WORK/enrolled.yaml.orig"

# enrol ARGS...: firelane-edge --config CONF ARGS; prints its exit status
enrol() {
	local rc=0
	"$EDGE" --config "$CONF" "$@" >"$WORK/enrol.out" 2>"$WORK/enrol.err" || rc=$?
	echo $rc
}
unchanged() {
	cmp -s "$CONF" "$WORK/enrolled.yaml.orig" || fail "$1 changed the config: $(diff "$WORK/enrolled.yaml.orig" "$CONF")"
	[ "$(q "select count(*) from enrol_codes where used is null")" = 1 ] || fail "$1 used the code"
}
[ "$(enrol --enrol "http://127.0.0.1:$WPORT" "$CODE")" = 2 ] || fail "plain http accepted: $(cat "$WORK/enrol.err")"
grep -q 'must be https://' "$WORK/enrol.err" || fail "http: $(cat "$WORK/enrol.err")"
unchanged "plain http"
[ "$(enrol --enrol "$BASE" "$CODE")" = 1 ] || fail "an untrusted certificate accepted: $(cat "$WORK/enrol.err")"
grep -q "certificate is not trusted" "$WORK/enrol.err" || fail "bad certificate: $(cat "$WORK/enrol.err")"
unchanged "an untrusted certificate"
# the device key is made before the request, and kept for the next try
grep -q "created the device key $WORK/device.key" "$WORK/enrol.out" || fail "no key made: $(cat "$WORK/enrol.out")"
[ "$(stat -c %a "$WORK/device.key")" = 600 ] || fail "device key mode $(stat -c %a "$WORK/device.key")"
# another CA than the one that signed the hub's certificate
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other -keyout "$WORK/other.key" \
	-out "$WORK/other.crt" >>"$WORK/openssl.log" 2>&1 || fail "openssl"
[ "$(enrol --enrol "$BASE" "$CODE" --ca "$WORK/other.crt")" = 1 ] || fail "another CA accepted"
grep -q "certificate is not trusted" "$WORK/enrol.err" || fail "other CA: $(cat "$WORK/enrol.err")"
unchanged "another CA"
[ "$(enrol --enrol "$BASE" 2222-2222 --ca "$WORK/tls/hub.crt")" = 1 ] || fail "a wrong code accepted"
grep -q "does not know this code" "$WORK/enrol.err" || fail "wrong code: $(cat "$WORK/enrol.err")"
unchanged "a wrong code"
[ "$(enrol --enrol 127.0.0.1:1 "$CODE")" = 2 ] || fail "no scheme accepted"

# the broker does not take the account (its account manager disabled):
# 503 with the reason, the code given back, the device's file untouched
mosquitto_ctrl -h 127.0.0.1 -p "$PORT" -u "$BROKER_ADMIN" -P "$(broker_pw "$BROKER_ADMIN")" \
	dynsec disableClient "$BROKER_ADMIN" >"$WORK/ctrl.log" 2>&1 || fail "disableClient: $(cat "$WORK/ctrl.log")"
[ "$(enrol --enrol "$BASE" "$CODE" --ca "$WORK/tls/hub.crt")" = 1 ] || fail "enrolled without a broker account"
grep -q "the hub refused the enrolment: the broker's dynamic security plugin did not answer" "$WORK/enrol.err" ||
	fail "no broker: $(cat "$WORK/enrol.err")"
unchanged "a broker that does not take the account"
# another account cannot enable it again (mosquitto_ctrl says "Not
# authorized", with exit status 0)
mosquitto_ctrl -h 127.0.0.1 -p "$PORT" -u watch -P "$(broker_pw watch)" dynsec enableClient "$BROKER_ADMIN" \
	>"$WORK/ctrl.log" 2>&1 || true
grep -q "Not authorized" "$WORK/ctrl.log" || fail "an account of the password file changed the plugin: $(cat "$WORK/ctrl.log")"
# the plugin's own file, as an operator who lost the manager's access would
python3 - "$WORK/dynsec/dynsec.json" <<'EOP' || fail "cannot enable the manager again"
import json, sys
j = json.load(open(sys.argv[1]))
for c in j["clients"]:
    c.pop("disabled", None)
json.dump(j, open(sys.argv[1], "w"))
EOP
n=$(grep -c "mqtt: connected$" "$WORK/hub.log" || true)
broker_stop
BROKER_DYNSEC=1 broker_start
for _ in $(seq 300); do
	[ "$(grep -c "mqtt: connected$" "$WORK/hub.log" || true)" -gt "$n" ] && break
	sleep 0.1
done
[ "$(grep -c "mqtt: connected$" "$WORK/hub.log" || true)" -gt "$n" ] || fail "the hub did not reconnect"

# ---- the enrolment -----------------------------------------------------------------------
LOWER=$(echo "${CODE:0:4}-${CODE:4}" | tr 'A-Z' 'a-z') # as an installer may type it
[ "$(enrol --enrol "$BASE/" "$LOWER" --ca "$WORK/tls/hub.crt")" = 0 ] ||
	fail "--enrol: $(cat "$WORK/enrol.err" "$WORK/enrol.out")"
grep -q "enrolled as device gate-7 of site enrol-site" "$WORK/enrol.out" || fail "output: $(cat "$WORK/enrol.out")"
"$EDGE" --config "$CONF" --check-config >"$WORK/check.txt" 2>&1 || fail "the written config: $(cat "$WORK/check.txt")"
python3 - "$CONF" "$WORK/check.txt" "$PORT" "$HUB_PUB" <<'EOP' || fail "the written config (above): $(cat "$CONF")"
import sys
text, eff, port, hub = open(sys.argv[1]).read(), open(sys.argv[2]).read(), sys.argv[3], sys.argv[4]
assert text.startswith("# operator: camera above the north gate\n"), text[:80]
assert "heartbeat_s: 2  # often, for the test" in text
assert "cameras:" in text and "lane-a" in text
for want in ('id: "gate-7"', 'site: "enrol-site"', 'host: "127.0.0.1"', "port: " + port,
             'username: "gate-7"', 'hub_key: "%s"' % hub):
    assert want in text, want
assert "scene-edge" not in text.split("cameras:")[0], "the old device id stayed"
assert "hub_key: " + hub in eff or '"%s"' % hub in eff, "hub key not in effect"
EOP
[ $(($(stat -c %a "$CONF") % 10)) = 0 ] || fail "the config is readable by others: $(stat -c %a "$CONF")"
PW=$(sed -n 's/^ *password: "\(.*\)"$/\1/p' "$CONF")
[ ${#PW} -ge 24 ] || fail "password: '$PW'"
[ "$(q "select site from devices where device = 'gate-7'")" = enrol-site ] || fail "device not enrolled"
PK=$("$EDGE" --config "$CONF" --print-public-key)
[ "$(q "select public_key from devices where device = 'gate-7'")" = "$PK" ] || fail "the enrolled key is not the edge's"
[ "$(q "select used_by_key from enrol_codes where device = 'gate-7'")" = "$PK" ] || fail "the code is not marked used by the key"
[ "$(q "select count(*) from audit where action = 'device_enrol' and object = 'gate-7'")" = 1 ] ||
	fail "audit: $(q 'select user, action, object, detail from audit')"

# the broker takes the account, and only with its password
mosquitto_sub -h 127.0.0.1 -p "$PORT" -u gate-7 -P "$PW" -t firelane/enrol-site/gate-7/receipt -E -W 5 \
	>/dev/null 2>"$WORK/sub-pw.log" || fail "the broker refuses the new account: $(cat "$WORK/sub-pw.log")"
mosquitto_sub -h 127.0.0.1 -p "$PORT" -u gate-7 -P wrong -t firelane/enrol-site/gate-7/receipt -E -W 5 \
	>/dev/null 2>&1 && fail "the broker takes gate-7 with a wrong password"

# the device's account cannot make accounts
mosquitto_ctrl -h 127.0.0.1 -p "$PORT" -u gate-7 -P "$PW" dynsec createClient evil -p evil \
	>"$WORK/ctrl.log" 2>&1 || true
grep -q "Not authorized" "$WORK/ctrl.log" || fail "a device's account changed the plugin: $(cat "$WORK/ctrl.log")"
grep -q '"evil"' "$WORK/dynsec/dynsec.json" && fail "a device's account made an account"

# the edge from the written config: its alarm reaches the hub, verified
edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$CONF" -v
edge_wait 120
for _ in $(seq 300); do
	[ "$(q "select count(*) from incidents where device = 'gate-7' and site = 'enrol-site' and alarm is not null")" = 1 ] && break
	sleep 0.1
done
[ "$(q "select count(*) from incidents where device = 'gate-7' and site = 'enrol-site' and alarm is not null")" = 1 ] ||
	fail "no alarm of gate-7 at the hub: $(q 'select device, site, status from incidents'); quarantine: $(q 'select reason from quarantine')"
[ "$(q "select count(*) from quarantine")" = 0 ] || fail "quarantined: $(q 'select reason from quarantine')"
grep -q "u'gate-7'" "$BROKER_LOG" || fail "the edge did not connect as gate-7"

# ---- an installer's codes: its own site only ---------------------------------------------------
ITOKEN=$(web_login inst pw-inst)
PTOKEN=$(web_login pm pw-pm)
code north-2 north-site >/dev/null # the admin's, for another site
[ "$(web_as inst "$ITOKEN" POST /api/devices/enrol-codes '{"device": "gate-20", "site": "enrol-site"}')" = 200 ] ||
	fail "an installer's code for its site: $(cat "$WORK/out")"
jq -r .code "$WORK/out" | grep -qE '^[234679ACDEFGHJKMNPQRTUVWXYZ]{8}$' || fail "installer's code: $(cat "$WORK/out")"
[ "$(q "select created_by || '|' || site from enrol_codes where device = 'gate-20'")" = 'inst|enrol-site' ] ||
	fail "the installer's code: $(q 'select device, site, created_by from enrol_codes')"
[ "$(q "select count(*) from audit where action = 'enrol_code' and user = 'inst' and object = 'gate-20'")" = 1 ] ||
	fail "the installer's code is not audited"
[ "$(web_as inst "$ITOKEN" POST /api/devices/enrol-codes '{"device": "gate-21", "site": "north-site"}')" = 403 ] ||
	fail "an installer made a code for another site: $(cat "$WORK/out")"
[ "$(web_as inst "$ITOKEN" POST /api/devices/enrol-codes '{"device": "north-1", "site": "enrol-site"}')" = 403 ] ||
	fail "an installer made a code taking another site's device: $(cat "$WORK/out")"
[ "$(q "select count(*) from enrol_codes where device in ('gate-21', 'north-1')")" = 0 ] || fail "a refused code was stored"
for m in POST GET; do
	[ "$(web_as pm "$PTOKEN" $m /api/devices/enrol-codes '{"device": "gate-22", "site": "enrol-site"}')" = 403 ] ||
		fail "a property manager: $m enrol-codes: $(cat "$WORK/out")"
done
[ "$(web_as inst "$ITOKEN" GET /api/devices/enrol-codes)" = 200 ] || fail "installer GET codes: $(cat "$WORK/out")"
jq -e '.codes | length > 0 and all(.site == "enrol-site") and any(.device == "gate-20")' "$WORK/out" >/dev/null ||
	fail "the installer's list: $(cat "$WORK/out")"
[ "$(web_as root "$TOKEN" GET /api/devices/enrol-codes)" = 200 ] || fail "GET codes"
NID=$(jq -r '.codes[] | select(.device == "north-2") | .id' "$WORK/out")
IID=$(jq -r '.codes[] | select(.device == "gate-20") | .id' "$WORK/out")
[ -n "$NID" ] && [ -n "$IID" ] || fail "the admin's list: $(cat "$WORK/out")"
[ "$(web_as inst "$ITOKEN" DELETE "/api/devices/enrol-codes/$NID")" = 404 ] || fail "an installer revoked another site's code"
[ "$(q "select count(*) from enrol_codes where device = 'north-2' and used is null")" = 1 ] || fail "north-2's code is gone"
[ "$(web_as inst "$ITOKEN" DELETE "/api/devices/enrol-codes/$IID")" = 200 ] || fail "installer revoke: $(cat "$WORK/out")"
[ "$(q "select count(*) from audit where action = 'enrol_code_revoke' and user = 'inst' and object = '$IID'")" = 1 ] ||
	fail "the installer's revocation is not audited"
[ "$(q "select count(*) from enrol_codes where device = 'gate-20'")" = 0 ] || fail "the installer's code was not revoked"

# ---- codes that must not enrol ---------------------------------------------------------------
[ "$(enrol --enrol "$BASE" "$CODE" --ca "$WORK/tls/hub.crt")" = 1 ] || fail "a used code accepted"
grep -q "used already" "$WORK/enrol.err" || fail "reuse: $(cat "$WORK/enrol.err")"
[ "$(q "select used_by_key from enrol_codes where device = 'gate-7'")" = "$PK" ] || fail "the reuse changed the code's key"
OLD=$(code gate-8 enrol-site)
q "update enrol_codes set expires = 1 where device = 'gate-8'" # as if a day had passed
# (as the QR code's text, which carries the code)
[ "$(enrol --enrol "$(jq -r .url "$WORK/code.json")" --ca "$WORK/tls/hub.crt")" = 1 ] || fail "an expired code accepted"
grep -q "expired" "$WORK/enrol.err" || fail "expired: $(cat "$WORK/enrol.err")"
REV=$(code gate-9 enrol-site)
[ "$(web_as root "$TOKEN" GET /api/devices/enrol-codes)" = 200 ] || fail "GET codes"
ID=$(jq -r '.codes[] | select(.device == "gate-9") | .id' "$WORK/out")
[ "$(web_as root "$TOKEN" DELETE "/api/devices/enrol-codes/$ID")" = 200 ] || fail "revoke: $(cat "$WORK/out")"
[ "$(q "select count(*) from audit where action = 'enrol_code_revoke' and user = 'root'")" = 1 ] || fail "revoke not audited"
[ "$(enrol --enrol "$BASE" "$REV" --ca "$WORK/tls/hub.crt")" = 1 ] || fail "a revoked code accepted"
grep -q "does not know this code" "$WORK/enrol.err" || fail "revoked: $(cat "$WORK/enrol.err")"
[ "$(q "select count(*) from devices where device in ('gate-8', 'gate-9')")" = 0 ] || fail "a refused code enrolled"
# two devices race with one code (two requests at once): one is enrolled,
# the other refused, and the code names the winner's key
RACE=$(code gate-11 enrol-site)
K1=$(device_key "$WORK/race1.key")
K2=$(device_key "$WORK/race2.key")
racers=()
for k in "$K1" "$K2"; do
	curl -s --cacert "$WORK/tls/hub.crt" -o /dev/null -w '%{http_code}\n' --max-time 30 \
		-H 'Content-Type: application/json' -d "{\"code\": \"$RACE\", \"public_key\": \"$k\"}" \
		"$BASE/api/enrol" >>"$WORK/race.codes" &
	racers+=($!)
done
wait "${racers[@]}"
[ "$(sort "$WORK/race.codes" | tr '\n' ' ')" = "200 410 " ] || fail "the race: $(cat "$WORK/race.codes")"
WON=$(q "select used_by_key from enrol_codes where device = 'gate-11'")
[ "$WON" = "$K1" ] || [ "$WON" = "$K2" ] || fail "the race's code names $WON"
[ "$(q "select public_key from devices where device = 'gate-11'")" = "$WON" ] || fail "the race enrolled another key than the code says"
[ "$(q "select count(*) from audit where action = 'device_enrol' and object = 'gate-11'")" = 1 ] || fail "the race enrolled twice"
# enrolment has a count of its own: twenty failed logins from nginx's
# address (under twenty names) hold that address's logins, not the
# enrolment of a device there
for i in $(seq 20); do
	web_login_expect 401 127.0.0.1 "nobody-$i" wrong
done
web_login_expect 429 127.0.0.1 nobody-21 wrong # (root's jar is the session the test goes on with)
K12=$(device_key "$WORK/k12.key")
G12=$(code gate-12 enrol-site)
got=$(curl -s --cacert "$WORK/tls/hub.crt" -o "$WORK/out" -w '%{http_code}' --max-time 30 \
	-H 'Content-Type: application/json' -d "{\"code\": \"$G12\", \"public_key\": \"$K12\"}" \
	"$BASE/api/enrol")
[ "$got" = 200 ] || fail "failed logins held an enrolment: $got $(cat "$WORK/out")"
# the race's success forgot the address's failures, perhaps before its
# loser's was counted: after at most five wrong codes from nginx's
# address it is held
for c in 3333-3333 4444-4444 6666-6666 7777-7777 9999-9999; do
	[ "$(enrol --enrol "$BASE" $c --ca "$WORK/tls/hub.crt")" = 1 ] || fail "a wrong code accepted"
	grep -q "too many enrolment attempts" "$WORK/enrol.err" && break
	grep -q "does not know this code" "$WORK/enrol.err" || fail "wrong code $c: $(cat "$WORK/enrol.err")"
done
GOOD=$(code gate-10 enrol-site)
[ "$(enrol --enrol "$BASE" "$GOOD" --ca "$WORK/tls/hub.crt")" = 1 ] || fail "not throttled"
grep -q "too many enrolment attempts" "$WORK/enrol.err" || fail "throttle: $(cat "$WORK/enrol.err")"

echo "$NAME: ok"
