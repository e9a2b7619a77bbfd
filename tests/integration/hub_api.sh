#!/usr/bin/env bash
# hub_api.sh - the hub's HTTP API (docs/api.md) against a real hub, a real
# mosquitto and the real edge, driven with curl (issue 5, points 4-7).
#
# A private mosquitto; firelane-hub with SQLite and http.listen on a free
# port (timezone +08:00); the edge's key enrolled for scene-site and, as
# other-edge, for other-site; users of each role added with --add-user; the
# edge live on the synthetic park_leave scene gives one real incident with a
# signed evidence bundle; more incidents are published with mosquitto_pub
# (one of other-site). Checks:
#   - login: the cookie's flags, the answer, wrong password 401, /api/session;
#     no session: 401 on the API (with its machine code), 303 to
#     /login?next= on UI routes and evidence; the security headers; the
#     page's language from Accept-Language and the switch's cookie, and the
#     hub's zone (/api/locale); a zone name that is no zone refused with
#     FILE:LINE;
#   - incidents: list with each filter (site, lane, status, outcome, from/to
#     as dates and seconds), paging, SQL-looking values harmless; detail;
#   - outcomes: no or wrong CSRF token 403; property manager of scene-site:
#     other-site's incident 404 in list, detail, evidence, export, audit and
#     report, fined/towed 403, persuaded 200; amended outcome keeps history;
#   - evidence: a file whole and with Range (206 + Content-Range + the right
#     bytes, 416), path traversal (.., %2e%2e, .incoming, a dot file) refused;
#   - the alarm still: 401/404/204 as the incident, 200 a JPEG 320 px wide
#     of the alarm picture without its banner band, cached, none while a
#     file of the bundle is marked tampered; an alert's picture link
#     (signed with the hub's link.key, 0600) opens the 960 px still without
#     a session, audited; another incident's, an expired, a forged or a
#     malformed link 404;
#   - bodies: 64 KiB+ 413, bad JSON 400;
#   - the case package: read with python3 zipfile (CRCs checked by testzip),
#     every evidence file byte-identical, outcome.json, verification.txt
#     says VERIFIED with the enrolled key; an incident without evidence
#     exports too;
#   - reports JSON and CSV (days in the hub's timezone), /api/sites, devices;
#   - admin: add a user and enrol a device through the API, non-admin 403;
#   - the audit (GET /api/audit) has login, incident_view, evidence_view
#     (once per file per session), export, outcome, user_add, device_enrol;
#   - logout ends the session; the login throttle answers 429 with
#     Retry-After after 5 failures of one user from one address (its right
#     password too), not for another user, and the counts outlive the hub
#     until --unlock-user; static files with ETag and 304; SIGTERM
#     stops the hub with exit 0; a second hub on the same address fails to
#     start; HTTPS with a self-signed certificate sets a Secure cookie.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" "$EDGE" "$SCENE" mosquitto mosquitto_sub mosquitto_pub python3 curl jq sqlite3 ffprobe
SCENARIO=park_leave
PORT=$(free_port)
WPORT=$(free_port)
BASE=http://127.0.0.1:$WPORT
scene $SCENARIO
broker_start

EV=$WORK/hub-evidence
cat >"$WORK/hub.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$NAME, keepalive_s: 5, $HUB_AUTH}
http: {listen: "127.0.0.1:$WPORT", threads: 2}
store: {sqlite: $WORK/hub.db}
evidence_dir: $EV
public_url: http://127.0.0.1:$WPORT
timezone: "+08:00"
EOC
"$HUB" --config "$WORK/hub.yaml" --check-config >"$WORK/check.log" 2>&1 ||
	fail "--check-config: $(cat "$WORK/check.log")"
grep -q 'timezone: "+08:00"' "$WORK/check.log" || fail "timezone not in the dump"
grep -q 'session_idle_s: 28800' "$WORK/check.log" || fail "session_idle_s default"
badconf() { # YAML-LINE EXPECTED-ERROR: the hub refuses the configuration
	sed "s|^${1%%:*}: .*|$1|" "$WORK/hub.yaml" >"$WORK/bad.yaml"
	"$HUB" --config "$WORK/bad.yaml" --check-config >"$WORK/bad.log" 2>&1 &&
		fail "accepted: $1"
	grep -qF "$2" "$WORK/bad.log" || fail "$1: $(cat "$WORK/bad.log")"
}
badconf 'timezone: "+25:00"' "bad.yaml:6: timezone: '+25:00' is not a time zone"
badconf 'timezone: "Asia/Shangai"' "bad.yaml:6: timezone: no time zone 'Asia/Shangai' on this machine"
badconf 'timezone: "../../etc/passwd"' "timezone: '../../etc/passwd' is not a time zone"
badconf 'http: {secure_cookies: maybe}' 'http.secure_cookies: expected auto, on or off'
badconf 'http: {tls_cert: /x.pem}' 'http.tls_cert and http.tls_key go together'
badconf 'http: {threads: 0}' 'threads: 0 is out of range 1..16'
badconf 'http: {session_idle_s: 5}' 'session_idle_s: 5 is out of range'

edge_config "$WORK/scene/edge.yaml" "$(printf 'evidence:\n  dir: %s\n  pre_roll_s: 4\n  post_roll_s: 3\n' "$WORK/evidence")"
sed -i "s|^device: {id: scene-edge, site: scene-site}|device: {id: scene-edge, site: scene-site, key_file: $WORK/device.key}|" "$WORK/scene/edge.yaml"
"$EDGE" --config "$WORK/scene/edge.yaml" --print-public-key >"$WORK/pk.txt" 2>"$WORK/pk.log" ||
	fail "--print-public-key"
PK=$(cat "$WORK/pk.txt")
admin() { "$HUB" --config "$WORK/hub.yaml" "$@" >>"$WORK/admin.log" 2>&1 || fail "$*"; }
admin --enrol-device scene-edge --site scene-site --public-key "$WORK/pk.txt"
admin --enrol-device other-edge --site other-site --public-key "$WORK/pk.txt"
echo 'pw-root' | admin --add-user root --role admin
echo 'pw-enf' | admin --add-user enf --role enforcement
echo 'pw-alice' | admin --add-user alice --role property --sites scene-site
echo 'pw-bob' | admin --add-user bob --role property --sites scene-site,other-site

hub_start "$WORK/hub.yaml" "$WORK/hub.log" -vv
grep -q "http: listening on 127.0.0.1:$WPORT" "$WORK/hub.log" || fail "no HTTP server"

edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$WORK/scene/edge.yaml"

# ---- helpers ---------------------------------------------------------------
# hc NAME [curl args]: a request with NAME's cookie jar; body to $WORK/out,
# headers to $WORK/hdr; prints the status.
hc() {
	local who=$1
	shift
	curl -s -o "$WORK/out" -D "$WORK/hdr" -w '%{http_code}' \
		-b "$WORK/jar.$who" -c "$WORK/jar.$who" "$@"
}
expect() { # STATUS NAME CURL-ARGS...: fail unless the status matches
	local want=$1 got
	shift
	got=$(hc "$@") || true
	[ "$got" = "$want" ] || fail "$* -> $got, expected $want: $(head -c 300 "$WORK/out")"
}
jqo() { jq -r "$1" "$WORK/out"; }
login() { # NAME PASSWORD: log in, keep the CSRF token in CSRF_<NAME>
	expect 200 "$1" -X POST -H 'Content-Type: application/json' \
		-d "{\"user\": \"$1\", \"password\": \"$2\"}" "$BASE/api/login"
	eval "CSRF_$1=$(jqo .csrf)"
}
post() { # NAME PATH JSON [extra curl args]: a POST with NAME's CSRF token
	local who=$1 path=$2 body=$3 tok
	shift 3
	tok=$(eval echo "\${CSRF_$who:-}")
	hc "$who" -X POST -H 'Content-Type: application/json' \
		-H "X-CSRF-Token: $tok" -d "$body" "$@" "$BASE$path"
}
# pubm TOPIC TEXT: said by the device TOPIC names (its account; signed with
# the edge's key, which other-edge shares here)
broker_device other-edge
pubm() { printf '%s' "$2" | device_pub "$WORK/device.key" "$(echo "$1" | cut -d/ -f3)" "$1"; }

# ---- no session ----------------------------------------------------------------
expect 401 anon "$BASE/api/incidents"
jqo .error | grep -q 'not logged in' || fail "401 body: $(cat "$WORK/out")"
[ "$(jqo .code)" = not_logged_in ] || fail "401 code: $(cat "$WORK/out")"
# The page's language and zone, before any login (docs/i18n.md): Chinese
# whenever the browser accepts it, English when only that, the switch's
# cookie over both, ui.language (zh-CN) for neither; the zone a fixed
# offset here (no name for Intl, the offset in seconds).
locale() { # ACCEPT-LANGUAGE COOKIE EXPECTED-LANG
	expect 200 anon -H "Accept-Language: $1" ${2:+-b "fl_lang=$2"} "$BASE/api/locale"
	[ "$(jqo .lang)" = "$3" ] || fail "locale for '$1' / cookie '$2': $(cat "$WORK/out")"
}
locale 'zh-CN,zh;q=0.9,en;q=0.8' '' zh-CN
locale 'en-US,en;q=0.9' '' en
locale 'en-US,en;q=0.9,zh;q=0.2' '' zh-CN
locale 'zh-CN' en en
locale 'de-DE' '' zh-CN
[ "$(jqo .time_zone)" = null ] && [ "$(jqo .tz_offset_s)" = 28800 ] &&
	[ "$(jqo '.languages | join(",")')" = zh-CN,en ] || fail "locale: $(cat "$WORK/out")"
expect 405 anon -X POST "$BASE/api/locale"
for h in "Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'" \
	'X-Content-Type-Options: nosniff' 'Referrer-Policy: same-origin' 'Cache-Control: no-store'; do
	grep -qiF "$h" "$WORK/hdr" || fail "missing header: $h"
done
expect 303 anon "$BASE/incidents/abc-1"
grep -qi '^Location: /login?next=/incidents/abc-1' "$WORK/hdr" || fail "redirect: $(cat "$WORK/hdr")"
expect 303 anon "$BASE/evidence/abc-1/composite.jpg"
grep -qi '^Location: /login?next=/evidence/abc-1/composite.jpg' "$WORK/hdr" || fail "evidence redirect"
expect 200 anon "$BASE/login"
grep -q '<html' "$WORK/out" || fail "/login is not the UI page"
ETAG=$(grep -i '^ETag:' "$WORK/hdr" | cut -d' ' -f2 | tr -d '\r')
[ -n "$ETAG" ] || fail "no ETag on the page"
grep -qi '^Cache-Control: no-cache' "$WORK/hdr" || fail "page Cache-Control"
expect 304 anon -H "If-None-Match: $ETAG" "$BASE/static/index.html"
expect 404 anon "$BASE/static/nope.js"
expect 404 anon "$BASE/nope"

# ---- login ----------------------------------------------------------------------
expect 401 anon -X POST -H 'Content-Type: application/json' -d '{"user": "root", "password": "wrong"}' "$BASE/api/login"
jqo .error | grep -q 'wrong user name or password' || fail "401 text"
expect 401 anon -X POST -H 'Content-Type: application/json' -d '{"user": "nobody", "password": "wrong"}' "$BASE/api/login"
expect 400 anon -X POST -H 'Content-Type: application/json' -d '{"user": "root", ' "$BASE/api/login"
login root pw-root
grep -i '^Set-Cookie: fl_session=' "$WORK/hdr" >"$WORK/cookie.txt" || fail "no cookie"
for f in HttpOnly 'SameSite=Strict' 'Path=/'; do
	grep -q "$f" "$WORK/cookie.txt" || fail "cookie lacks $f: $(cat "$WORK/cookie.txt")"
done
grep -q Secure "$WORK/cookie.txt" && fail "Secure cookie on plain http with an http public_url"
[ "$(jqo .role)" = admin ] && [ "$(jqo .tz_offset_s)" = 28800 ] && [ ${#CSRF_root} = 64 ] &&
	[ "$(jqo .time_zone)" = null ] || fail "login answer: $(cat "$WORK/out")"
login enf pw-enf
login alice pw-alice
[ "$(jqo '.sites | join(",")')" = scene-site ] || fail "alice's sites: $(cat "$WORK/out")"
login bob pw-bob
expect 200 root "$BASE/api/session"
[ "$(jqo .user)" = root ] && [ "$(jqo .csrf)" = "$CSRF_root" ] || fail "session: $(cat "$WORK/out")"
expect 200 root "$BASE/incidents"
grep -q '<html' "$WORK/out" || fail "UI route with a session"

# ---- incidents in: the edge's real one, and published ones ----------------------
edge_wait 90
for _ in $(seq 300); do
	[ "$(q "select count(*) from incidents where verified = 1 and status = 'cleared'")" = 1 ] && break
	sleep 0.1
done
IID=$(q "select incident_id from incidents")
[ "$(q "select verified from incidents")" = 1 ] || fail "the edge's evidence is not verified"
# 2026-03-02 00:30 at +08:00 is 2026-03-01 16:30 UTC: a Monday local, a Sunday UTC
T1=$(python3 -c 'import calendar; print(calendar.timegm((2026,3,1,16,30,0)))')
incmsg() { # device site iid seq type time [extra]
	printf '{"incident_id": "%s", "seq": %s, "type": "%s", "site": "%s", "device": "%s", "camera": "cam-1", "lane": "lane-b", "unix_time": %s%s}' \
		"$3" "$4" "$5" "$2" "$1" "$6" "${7:-}"
}
pubm firelane/other-site/other-edge/cam-1/lane-b/incident "$(incmsg other-edge other-site other-edge-o1-lane-b-1 1 alarm $T1)"
pubm firelane/scene-site/scene-edge/cam-1/lane-b/incident "$(incmsg scene-edge scene-site scene-edge-m1-lane-b-1 1 alarm $T1)"
pubm firelane/scene-site/scene-edge/cam-1/lane-b/incident "$(incmsg scene-edge scene-site scene-edge-m2-lane-b-1 1 occupied $((T1 - 3600)))"
for _ in $(seq 100); do [ "$(q "select count(*) from incidents")" = 4 ] && break; sleep 0.1; done
[ "$(q "select count(*) from incidents")" = 4 ] || fail "published incidents not stored: $(q 'select incident_id from incidents')"
OID=other-edge-o1-lane-b-1

# ---- list, filters, paging ----------------------------------------------------------
expect 200 root "$BASE/api/incidents"
[ "$(jqo .total)" = 4 ] || fail "admin sees $(jqo .total) incidents"
expect 200 enf "$BASE/api/incidents"
[ "$(jqo .total)" = 4 ] || fail "enforcement sees $(jqo .total)"
expect 200 alice "$BASE/api/incidents"
[ "$(jqo .total)" = 3 ] || fail "alice sees $(jqo .total)"
jqo '.incidents[].site' | grep -qv scene-site && fail "alice sees another site"
expect 200 alice "$BASE/api/incidents?site=other-site"
[ "$(jqo .total)" = 0 ] || fail "alice's site=other-site filter"
expect 200 root "$BASE/api/incidents?site=other-site"
[ "$(jqo .total)" = 1 ] && [ "$(jqo '.incidents[0].incident_id')" = $OID ] || fail "site filter"
expect 200 root "$BASE/api/incidents?lane=lane-b"
[ "$(jqo .total)" = 3 ] || fail "lane filter: $(jqo .total)"
expect 200 root "$BASE/api/incidents?status=cleared"
[ "$(jqo .total)" = 1 ] && [ "$(jqo '.incidents[0].incident_id')" = "$IID" ] || fail "status filter"
expect 200 root "$BASE/api/incidents?outcome=none"
[ "$(jqo .total)" = 4 ] || fail "outcome=none"
expect 200 root "$BASE/api/incidents?from=2026-03-02&to=2026-03-02"
[ "$(jqo .total)" = 2 ] || fail "from/to dates at +08:00: $(jqo .total) $(cat "$WORK/out" | head -c 300)"
expect 200 root "$BASE/api/incidents?from=2026-03-01&to=2026-03-01"
[ "$(jqo .total)" = 1 ] && [ "$(jqo '.incidents[0].incident_id')" = scene-edge-m2-lane-b-1 ] || fail "the day before, local"
expect 200 root "$BASE/api/incidents?from=$T1&to=$((T1 + 1))"
[ "$(jqo .total)" = 2 ] || fail "from/to in seconds"
expect 200 root "$BASE/api/incidents?limit=1&offset=1"
[ "$(jqo .total)" = 4 ] && [ "$(jqo '.incidents | length')" = 1 ] && [ "$(jqo .limit)" = 1 ] && [ "$(jqo .offset)" = 1 ] ||
	fail "paging: $(cat "$WORK/out" | head -c 300)"
expect 400 root "$BASE/api/incidents?limit=0"
expect 400 root "$BASE/api/incidents?from=2026-02-30"
expect 200 root --get --data-urlencode "site=x' OR '1'='1" --data-urlencode "status=cleared'; DROP TABLE incidents;--" "$BASE/api/incidents"
[ "$(jqo .total)" = 0 ] || fail "SQL-looking filter matched something"
[ "$(q "select count(*) from incidents")" = 4 ] || fail "incidents table damaged"

# ---- detail ---------------------------------------------------------------------------
expect 200 alice "$BASE/api/incidents/$IID"
[ "$(jqo .incident_id)" = "$IID" ] && [ "$(jqo '.evidence | length')" -ge 3 ] && [ "$(jqo '.events | length')" -ge 2 ] ||
	fail "detail: $(head -c 300 "$WORK/out")"
expect 404 alice "$BASE/api/incidents/$OID"
expect 404 alice "$BASE/api/incidents/no-such-incident"
expect 200 root "$BASE/api/incidents/$OID"

# ---- outcomes, CSRF, roles --------------------------------------------------------------
expect 403 root -X POST -d '{"outcome": "fined"}' "$BASE/api/incidents/$IID/outcome"
expect 403 root -X POST -H 'X-CSRF-Token: 00' -d '{"outcome": "fined"}' "$BASE/api/incidents/$IID/outcome"
[ "$(q "select count(*) from outcomes")" = 0 ] || fail "an outcome was stored without CSRF"
[ "$(post alice /api/incidents/$IID/outcome '{"outcome": "fined"}')" = 403 ] || fail "alice fined"
[ "$(post alice /api/incidents/$IID/outcome '{"outcome": "towed"}')" = 403 ] || fail "alice towed"
[ "$(post alice /api/incidents/$OID/outcome '{"outcome": "persuaded"}')" = 404 ] || fail "alice on other-site"
[ "$(post alice /api/incidents/$IID/outcome '{"outcome": "persuaded", "note": "driver moved"}')" = 200 ] ||
	fail "alice persuaded: $(cat "$WORK/out")"
[ "$(jqo .outcome)" = persuaded ] || fail "outcome answer: $(head -c 300 "$WORK/out")"
[ "$(post enf /api/incidents/$IID/outcome '{"outcome": "fined", "note": "came back"}')" = 200 ] || fail "enf fined"
[ "$(jqo .outcome)" = fined ] && [ "$(jqo '.outcomes | length')" = 2 ] &&
	[ "$(jqo '.outcomes[0].outcome + "," + .outcomes[0].user + "," + .outcomes[1].outcome')" = persuaded,alice,fined ] ||
	fail "amended history: $(jqo .outcomes)"
[ "$(post enf /api/incidents/$IID/outcome '{"outcome": "parked"}')" = 400 ] || fail "bad outcome"
[ "$(post enf /api/incidents/$IID/outcome '{"outcome": ')" = 400 ] || fail "bad JSON"
[ "$(post enf /api/incidents/$IID/outcome '{"outcome": 5}')" = 400 ] || fail "outcome not a string"
[ "$(post enf /api/incidents/$IID/outcome '{"outcome": "fined", "outcome": "towed"}')" = 400 ] || fail "duplicate keys"
head -c 70000 /dev/zero | tr '\0' 'x' >"$WORK/big.txt"
[ "$(post enf /api/incidents/$IID/outcome @"$WORK/big.txt")" = 413 ] || fail "70 KB body"
[ "$(post enf /api/incidents/$IID/outcome @"$WORK/big.txt" -H 'Transfer-Encoding: chunked')" = 413 ] ||
	fail "70 KB chunked body"
expect 404 root "$BASE/api/incidents/x'%20OR%20'1'='1"
kill -0 $HUB_PID || fail "the hub died"
expect 200 enf "$BASE/api/incidents/$IID/audit"
jqo '.audit[].action' | grep -qx outcome || fail "incident audit: $(cat "$WORK/out")"
expect 403 alice "$BASE/api/incidents/$IID/audit"
expect 404 alice "$BASE/api/incidents/$OID/audit"

# ---- evidence files -----------------------------------------------------------------------
FILE=$(ls "$EV/$IID" | grep -m1 '\.mp4$' || ls "$EV/$IID" | grep -m1 '\.jpg$')
[ -n "$FILE" ] || fail "no clip or image in $EV/$IID"
expect 200 alice "$BASE/evidence/$IID/$FILE"
cmp -s "$WORK/out" "$EV/$IID/$FILE" || fail "evidence bytes differ"
grep -qi '^Accept-Ranges: bytes' "$WORK/hdr" || fail "no Accept-Ranges"
SIZE=$(stat -c %s "$EV/$IID/$FILE")
expect 206 alice -H 'Range: bytes=10-109' "$BASE/evidence/$IID/$FILE"
[ "$(stat -c %s "$WORK/out")" = 100 ] || fail "range length"
cmp -s "$WORK/out" <(tail -c +11 "$EV/$IID/$FILE" | head -c 100) || fail "range bytes"
grep -qi "^Content-Range: bytes 10-109/$SIZE" "$WORK/hdr" || fail "Content-Range: $(cat "$WORK/hdr")"
expect 206 alice -H 'Range: bytes=-10' "$BASE/evidence/$IID/$FILE"
cmp -s "$WORK/out" <(tail -c 10 "$EV/$IID/$FILE") || fail "suffix range"
expect 206 alice -H "Range: bytes=$((SIZE - 5))-" "$BASE/evidence/$IID/$FILE"
[ "$(stat -c %s "$WORK/out")" = 5 ] || fail "open range"
expect 416 alice -H "Range: bytes=$SIZE-" "$BASE/evidence/$IID/$FILE"
expect 200 alice "$BASE/evidence/$IID/manifest.json"
grep -qi '^Content-Type: application/json' "$WORK/hdr" || fail "manifest content type"
mkdir -p "$EV/$OID" && echo secret >"$EV/$OID/x.jpg"
# only a file the store recorded (its bundle arrived) is served: x.jpg
# recorded as if its bundle had, then a file on disk nobody recorded
q "insert into evidence (incident_id, name, sha256, bytes, kind, verified) values ('$OID', 'x.jpg', '$(sha256sum "$EV/$OID/x.jpg" | cut -d' ' -f1)', 7, 'scene', 0)"
expect 404 alice "$BASE/evidence/$OID/x.jpg"
expect 200 root "$BASE/evidence/$OID/x.jpg"
q "delete from evidence where incident_id = '$OID'" # no evidence again, below
echo planted >"$EV/$IID/planted.jpg"
expect 404 root "$BASE/evidence/$IID/planted.jpg"
rm -f "$EV/$IID/planted.jpg"
echo secret >"$WORK/outside.txt"
mkdir -p "$EV/.incoming/$IID" && echo partial >"$EV/.incoming/$IID/part.jpg"
echo hidden >"$EV/$IID/.hidden"
ln -s "$WORK/outside.txt" "$EV/$IID/link.jpg"
for p in "/evidence/../hub.db" "/evidence/$IID/../../hub.db" "/evidence/%2e%2e/hub.db" \
	"/evidence/$IID/%2e%2e%2f%2e%2e%2fhub.db" "/evidence/.incoming/$IID/part.jpg" \
	"/evidence/$IID/.incoming" "/evidence/$IID/.hidden" "/evidence/$IID/link.jpg" \
	"/evidence/$IID" "/evidence/$IID/a/b" "/static/../hub.db"; do
	got=$(hc root --path-as-is "$BASE$p") || true
	case $got in 400 | 404) ;; *) fail "$p -> $got" ;; esac
	grep -q secret "$WORK/out" && fail "$p leaked a file"
done
rm -f "$EV/$IID/.hidden" "$EV/$IID/link.jpg"
rm -rf "$EV/.incoming/$IID"

# ---- the alarm still (docs/hub.md, "Stills") ---------------------------------------------------
# As the incident for who may see it; made once from the verified alarm
# picture, its banner band cut off, 320 px wide, cached; none for an
# incident without a verified picture or with a file found tampered.
expect 401 anon "$BASE/api/incidents/$IID/still"
expect 404 alice "$BASE/api/incidents/$OID/still"
expect 204 root "$BASE/api/incidents/$OID/still"
expect 200 alice "$BASE/api/incidents/$IID/still"
grep -qi '^Content-Type: image/jpeg' "$WORK/hdr" || fail "still content type: $(cat "$WORK/hdr")"
grep -qi '^Cache-Control: private' "$WORK/hdr" || fail "still caching: $(cat "$WORK/hdr")"
cmp -s "$WORK/out" "$EV/.stills/$IID-320.jpg" || fail "the still is not the cached file"
cp "$WORK/out" "$WORK/still1.jpg"
dims() { ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0:s=x "$1"; }
SRC=$(python3 - "$EV/$IID/manifest.json" <<'EOP'
import json, sys
files = json.load(open(sys.argv[1]))["files"]
scenes = sorted(f["name"] for f in files if f.get("kind") == "scene")
alarm = [n for n in scenes if "-alarm." in n]
comp = [f["name"] for f in files if f.get("kind") == "composite"]
pic = (alarm or scenes or comp)[0]
band = [f.get("banner_px", 0) for f in files if f["name"] == pic][0]
print(pic, band)
EOP
) || fail "manifest of $IID"
set -- $SRC
SW=$(dims "$EV/$IID/$1" | cut -dx -f1)
SH=$(dims "$EV/$IID/$1" | cut -dx -f2)
[ "$2" -gt 0 ] || fail "$1 has no banner band in the manifest"
WANT="320x$(( ((SH - $2) * 320 + SW / 2) / SW ))"
[ "$(dims "$WORK/still1.jpg")" = "$WANT" ] ||
	fail "still of $1 (${SW}x$SH, band $2): $(dims "$WORK/still1.jpg"), expected $WANT"
expect 200 root "$BASE/api/incidents/$IID/still"
cmp -s "$WORK/out" "$WORK/still1.jpg" || fail "the still changed between requests"
# a file of its bundle found tampered: no still, though one was made
q "update evidence set tampered = 1 where incident_id = '$IID' and name = '$1'"
expect 204 alice "$BASE/api/incidents/$IID/still"
q "update evidence set tampered = NULL where incident_id = '$IID'"
expect 200 alice "$BASE/api/incidents/$IID/still"
# An alert's picture link: no session, the hub's key
# (.stills/link.key, as the alerts sign it), 960 px at most; another
# incident's, an altered or an expired link answer 404 as an unknown path.
plink() { # INCIDENT EXPIRES [KEYFILE]: the link's path
	python3 - "${3:-$EV/.stills/link.key}" "$1" "$2" <<'EOP'
import hashlib, hmac, sys
key = open(sys.argv[1], "rb").read()
iid, exp = sys.argv[2], sys.argv[3]
sig = hmac.new(key, ("firelane-picture/1\n%s\n%s" % (iid, exp)).encode(), hashlib.sha256).hexdigest()[:32]
print("/pictures/%s/%s-%s.jpg" % (iid, exp, sig))
EOP
}
[ "$(stat -c %a "$EV/.stills/link.key")" = 600 ] || fail "link.key mode $(stat -c %a "$EV/.stills/link.key")"
LATER=$(($(date +%s) + 3600))
expect 200 anon "$BASE$(plink "$IID" "$LATER")"
grep -qi '^Content-Type: image/jpeg' "$WORK/hdr" || fail "picture content type: $(cat "$WORK/hdr")"
cp "$WORK/out" "$WORK/picture.jpg"
PW=$(dims "$WORK/picture.jpg" | cut -dx -f1)
[ "$PW" = "$(( SW < 960 ? SW : 960 ))" ] || fail "alert picture $(dims "$WORK/picture.jpg") of a ${SW} px picture"
cmp -s "$WORK/picture.jpg" "$EV/.stills/$IID-960.jpg" || fail "the picture is not the cached still"
head -c 32 /dev/urandom >"$WORK/other.key"
GOOD=$(plink "$IID" "$LATER")
case ${GOOD%.jpg} in *0) FORGED=${GOOD%?.jpg}1.jpg ;; *) FORGED=${GOOD%?.jpg}0.jpg ;; esac
for p in "$(plink "$OID" "$LATER")" "$(plink "$IID" $(($(date +%s) - 10)))" \
	"$(plink "$IID" "$LATER" "$WORK/other.key")" "$FORGED" \
	"/pictures/$IID/$LATER.jpg" "/pictures/$IID"; do
	expect 404 anon "$BASE$p"
done
[ "$(q "select count(*) from audit where action = 'picture_view' and user = 'link' and object = '$IID'")" = 1 ] ||
	fail "picture_view audit: $(q "select * from audit where action = 'picture_view'")"

# ---- case package ------------------------------------------------------------------------------
expect 404 alice "$BASE/api/incidents/$OID/export"
expect 200 alice "$BASE/api/incidents/$IID/export"
grep -qi '^Content-Type: application/zip' "$WORK/hdr" || fail "export content type"
grep -qi "^Content-Disposition: attachment; filename=\"$IID.zip\"" "$WORK/hdr" || fail "export file name"
cp "$WORK/out" "$WORK/case.zip"
python3 - "$WORK/case.zip" "$EV/$IID" "$IID" "$PK" <<'EOP' || fail "case package (above)"
import json, os, sys, zipfile
path, dir, iid, pk = sys.argv[1:]
z = zipfile.ZipFile(path)
assert z.testzip() is None, "bad CRC"
names = set(z.namelist())
want = {"evidence/" + n for n in os.listdir(dir)} | {"outcome.json", "verification.txt"}
assert names == want, (names ^ want)
for n in os.listdir(dir):
    assert z.read("evidence/" + n) == open(os.path.join(dir, n), "rb").read(), n
o = json.loads(z.read("outcome.json"))
assert o["incident_id"] == iid and o["outcome"] == "fined", o
assert [x["outcome"] for x in o["outcomes"]] == ["persuaded", "fined"]
assert o["events"], "no timeline"
v = z.read("verification.txt").decode()
assert "result: VERIFIED" in v, v
assert "\ndevice clock: " in v, v
assert pk in v, "public key missing"
import hashlib
for n in os.listdir(dir):
    h = hashlib.sha256(open(os.path.join(dir, n), "rb").read()).hexdigest()
    assert h + "  " in v and "evidence/" + n in v, n
print("case package: %d files" % len(names))
EOP
rm -rf "$EV/$OID"
expect 200 root "$BASE/api/incidents/$OID/export"
cp "$WORK/out" "$WORK/case2.zip"
python3 - "$WORK/case2.zip" <<'EOP' || fail "export without evidence"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
assert sorted(z.namelist()) == ["outcome.json", "verification.txt"], z.namelist()
assert "NO EVIDENCE RECEIVED" in z.read("verification.txt").decode()
EOP

# ---- reports ----------------------------------------------------------------------------------------
expect 200 root "$BASE/api/reports?period=day&date=2026-03-02"
[ "$(jqo .incidents)" = 2 ] && [ "$(jqo .alarms)" = 2 ] || fail "day report: $(head -c 400 "$WORK/out")"
[ "$(jqo '.days | map(.day) | join(",")')" = 2026-03-02 ] || fail "report days in +08:00: $(jqo .days)"
expect 200 root "$BASE/api/reports?period=week&date=2026-03-08"
[ "$(jqo .incidents)" = 2 ] || fail "week report (Monday 2 to Sunday 8): $(jqo .incidents)"
expect 200 root "$BASE/api/reports?period=week&date=2026-03-01"
[ "$(jqo .incidents)" = 1 ] || fail "the week before: $(jqo .incidents)"
expect 200 root "$BASE/api/reports?period=month&date=2026-03-31"
[ "$(jqo .incidents)" = 3 ] || fail "month report: $(jqo .incidents)"
expect 200 alice "$BASE/api/reports?period=month&date=2026-03-15"
[ "$(jqo .incidents)" = 2 ] && [ "$(jqo .site)" = scene-site ] || fail "alice's report: $(head -c 300 "$WORK/out")"
expect 404 alice "$BASE/api/reports?site=other-site&period=month&date=2026-03-15"
expect 400 bob "$BASE/api/reports?period=month&date=2026-03-15"
expect 200 bob "$BASE/api/reports?site=other-site&period=month&date=2026-03-15"
[ "$(jqo .incidents)" = 1 ] || fail "bob's other-site report"
expect 400 root "$BASE/api/reports?period=year"
expect 400 root "$BASE/api/reports?date=2026-13-01"
expect 200 root "$BASE/api/reports.csv?period=month&date=2026-03-31"
grep -qi '^Content-Type: text/csv' "$WORK/hdr" || fail "CSV content type"
python3 - "$WORK/out" <<'EOP' || fail "CSV (above)"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0] == ["day", "incidents", "alarms", "persuaded", "fined", "towed", "false_alarm", "other"], rows[0]
days = {r[0]: r for r in rows[1:] if r and r[0].startswith("2026-")}
assert days["2026-03-02"][1:3] == ["2", "2"], days
assert days["2026-03-01"][1] == "1", days
total = [r for r in rows if r and r[0] == "total"][0]
assert total[1] == "3", total
summary = {r[0]: r[1] for r in rows if len(r) == 2}
assert summary["period"] == "month", summary
EOP

# ---- fleet ---------------------------------------------------------------------------------------------
expect 200 alice "$BASE/api/sites"
[ "$(jqo '[.sites[].site] | join(",")')" = scene-site ] || fail "alice's sites: $(cat "$WORK/out")"
expect 200 root "$BASE/api/sites"
[ "$(jqo '[.sites[].site] | sort | join(",")')" = other-site,scene-site ] || fail "sites: $(cat "$WORK/out")"
expect 200 alice "$BASE/api/devices"
[ "$(jqo '[.devices[].device] | join(",")')" = scene-edge ] || fail "alice's devices: $(cat "$WORK/out")"

# ---- admin -----------------------------------------------------------------------------------------------
expect 403 alice "$BASE/api/users"
expect 403 enf "$BASE/api/audit"
expect 403 enf "$BASE/api/quarantine"
[ "$(post enf /api/users '{"name": "eve", "password": "x", "role": "admin"}')" = 403 ] || fail "enf added a user"
[ "$(post alice /api/devices "{\"device\": \"evil-edge\", \"site\": \"scene-site\", \"public_key\": \"$PK\"}")" = 403 ] ||
	fail "alice enrolled a device"
[ "$(post root /api/users '{"name": "carol", "password": "pw-carol", "role": "property", "sites": ["other-site"]}')" = 200 ] ||
	fail "add user: $(cat "$WORK/out")"
[ "$(post root /api/users '{"name": "carol", "password": "x", "role": "admin"}')" = 400 ] || fail "user added twice"
[ "$(post root /api/users '{"name": "dave", "password": "x", "role": "king"}')" = 400 ] || fail "role king"
expect 200 root "$BASE/api/users"
[ "$(jqo '.users[] | select(.name == "carol") | .role')" = property ] || fail "users: $(cat "$WORK/out")"
grep -q 'argon2\|pw-carol' "$WORK/out" && fail "the users list shows a password or hash"
[ "$(post root /api/devices "{\"device\": \"new-edge\", \"site\": \"new-site\", \"public_key\": \"$PK\"}")" = 200 ] ||
	fail "enrol: $(cat "$WORK/out")"
[ "$(q "select site from devices where device = 'new-edge'")" = new-site ] || fail "not enrolled"
[ "$(post root /api/devices '{"device": "bad-edge", "site": "s", "public_key": "AAAA"}')" = 400 ] || fail "bad key"
login carol pw-carol
expect 200 carol "$BASE/api/incidents"
[ "$(jqo .total)" = 1 ] || fail "carol sees $(jqo .total)"
expect 403 carol -X DELETE "$BASE/api/users/carol"
expect 200 root -X DELETE -H "X-CSRF-Token: $CSRF_root" "$BASE/api/users/carol"
expect 401 carol "$BASE/api/incidents"
expect 404 root -X DELETE -H "X-CSRF-Token: $CSRF_root" "$BASE/api/users/carol"
expect 405 root -X PUT "$BASE/api/incidents"
expect 200 root "$BASE/api/quarantine"

# ---- audit -----------------------------------------------------------------------------------------------
expect 200 alice "$BASE/evidence/$IID/$FILE" # a second view: no second row
expect 200 root "$BASE/api/audit?limit=1000"
cp "$WORK/out" "$WORK/audit.json"
python3 - "$WORK/audit.json" "$IID" "$FILE" <<'EOP' || fail "audit (above)"
import json, sys
a = json.load(open(sys.argv[1]))["audit"]
iid, f = sys.argv[2], sys.argv[3]
def rows(**kw):
    return [r for r in a if all(r.get(k) == v for k, v in kw.items())]
assert rows(user="root", action="login", detail="ok"), "login ok"
assert rows(user="root", action="login", detail="failed"), "login failed"
assert rows(user="alice", action="incident_view", object=iid), "incident_view"
assert len(rows(user="alice", action="evidence_view", object=iid, detail=f)) == 1, "evidence_view once"
assert rows(user="alice", action="export", object=iid), "export"
assert [r["detail"] for r in rows(action="outcome", object=iid)] == ["fined", "persuaded"], rows(action="outcome")
assert rows(user="root", action="user_add", object="carol"), "user_add"
assert rows(user="root", action="user_delete", object="carol"), "user_delete"
assert rows(user="root", action="device_enrol", object="new-edge"), "device_enrol"
for r in a:
    assert "pw-" not in json.dumps(r), r
EOP
grep -q 'pw-\|fl_session=' "$WORK/hub.log" && fail "a password or session id in the log"

# ---- logout --------------------------------------------------------------------------------------------------
expect 403 alice -X POST "$BASE/api/logout"
[ "$(post alice /api/logout '{}')" = 200 ] || fail "logout"
expect 401 alice "$BASE/api/session"
expect 303 alice "$BASE/incidents"

# ---- login throttle (last: it makes enf wait at 127.0.0.1) ---------------------------------------------------------
for i in 1 2 3 4 5 6; do
	got=$(hc anon -X POST -H 'Content-Type: application/json' -d '{"user": "enf", "password": "nope"}' "$BASE/api/login") || true
	[ "$got" = 401 ] && continue
	[ "$got" = 429 ] || fail "attempt $i: $got"
	break
done
[ "$got" = 429 ] || fail "no 429 after 5 failures"
RA=$(grep -i '^Retry-After:' "$WORK/hdr" | cut -d' ' -f2 | tr -d '\r')
[ -n "$RA" ] && [ "$RA" -ge 1 ] && [ "$RA" -le 15 ] || fail "Retry-After '$RA'"
expect 429 anon -X POST -H 'Content-Type: application/json' -d '{"user": "enf", "password": "pw-enf"}' "$BASE/api/login"
# only (enf, 127.0.0.1) waits: another user from the same address does not
expect 200 anon -X POST -H 'Content-Type: application/json' -d '{"user": "root", "password": "pw-root"}' "$BASE/api/login"
expect 200 root "$BASE/api/session" # existing sessions go on

hub_stop 10

# ---- HTTPS (http.tls_cert/tls_key): a self-signed certificate --------------------------------------------------------
# A second address is taken while the first hub is still running: an address
# in use is an error at start-up.
"$HUB" --config "$WORK/hub.yaml" >"$WORK/hub-twice.log" 2>&1 &
P1=$!
track $P1
"$HUB" --config "$WORK/hub.yaml" >"$WORK/hub-second.log" 2>&1 &
P2=$!
track $P2
wait_for "$WORK/hub-second.log" "cannot listen on 127.0.0.1:$WPORT" 20 ||
	wait_for "$WORK/hub-twice.log" "cannot listen on 127.0.0.1:$WPORT" 5 ||
	fail "two hubs on one address: no error"
kill -TERM $P1 $P2 2>/dev/null || true
wait $P1 $P2 2>/dev/null || true
if openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-keyout "$WORK/tls.key" -out "$WORK/tls.crt" >"$WORK/openssl.log" 2>&1; then
	TPORT=$(free_port)
	sed -e "s|^http: .*|http: {listen: \"127.0.0.1:$TPORT\", tls_cert: $WORK/tls.crt, tls_key: $WORK/tls.key}|" \
		-e "s|client_id: hub-$NAME|client_id: hub-$NAME-tls|" "$WORK/hub.yaml" >"$WORK/hub-tls.yaml"
	hub_start "$WORK/hub-tls.yaml" "$WORK/hub-tls.log" -v
	grep -qE "listening on 127.0.0.1:$TPORT .*https" "$WORK/hub-tls.log" || fail "no HTTPS server"
	# the counts are in the store: enf's sixth failure locks at once on
	# this new hub (with counts of its own it would take five); the wait
	# of the first lock (15 s) may be over by now on a loaded machine
	for i in 1 2; do
		got=$(curl -s -k -o "$WORK/out" -D "$WORK/hdr" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
			-d '{"user": "enf", "password": "nope"}' "https://127.0.0.1:$TPORT/api/login") || true
		[ "$got" = 429 ] && break
	done
	[ "$got" = 429 ] || fail "HTTPS: failures not counted from the store: $got"
	got=$(curl -s -k -o "$WORK/out" -D "$WORK/hdr" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		-d '{"user": "enf", "password": "pw-enf"}' "https://127.0.0.1:$TPORT/api/login") || true
	[ "$got" = 429 ] || fail "HTTPS login before --unlock-user: $got"
	admin --unlock-user enf
	grep -q 'user enf unlocked' "$WORK/admin.log" || fail "--unlock-user: $(tail -n 2 "$WORK/admin.log")"
	got=$(curl -s -k -o "$WORK/out" -D "$WORK/hdr" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		-d '{"user": "enf", "password": "pw-enf"}' "https://127.0.0.1:$TPORT/api/login") || true
	[ "$got" = 200 ] || fail "HTTPS login: $got"
	grep -i '^Set-Cookie: fl_session=' "$WORK/hdr" | grep -q '; Secure' || fail "no Secure cookie over HTTPS"
	curl -s -o /dev/null "http://127.0.0.1:$TPORT/api/session" && fail "plain HTTP answered on the HTTPS port"
	hub_stop
else
	echo "$NAME: openssl could not make a certificate: HTTPS not checked" >&2
fi
echo "$NAME: ok"
