#!/usr/bin/env bash
# demo.sh - make demo's chain, end to end (issue 5, point 8).
#
# Runs scripts/demo.sh as a Chinese user (LANG=zh_CN.UTF-8: its lines in
# Chinese; the stored incidents carry the demo's Chinese site and lane
# names) in its bounded mode (FL_DEMO_EXIT_AFTER=verified) with
# a temporary folder (FL_DEMO_DIR), the quick scenes and a free web port, so
# the real chain runs: a private mosquitto, firelane-hub with SQLite and its
# HTTP API, two edges on two sites live on generated scenes. While the chain
# is still up (FL_DEMO_THEN), checks through the hub's HTTP API with the
# logins the demo printed:
#   - POST /api/login as the admin demo user: 200 with a CSRF token;
#   - GET /api/incidents lists the verified incident, and incidents of both
#     sites; GET /api/incidents/ID shows it verified, with its evidence
#     files each verified and its timeline (occupied, alarm, evidence);
#   - an evidence file (/evidence/ID/FILE) is served with the bytes the hub
#     stored, which match the SHA-256 the API names;
#   - the property manager (north-gate) sees only north-gate incidents, and
#     a south-yard incident answers 404;
# and through the store (sqlite3) that the bundle is on disk. Afterwards:
# the demo exits 0, printed the URL and both logins, stopped in order (both
# edges' "stopped" status is in the store, the hub exited 0, no sanitizer
# report in the logs), and left no process running (nothing carrying the
# test's mark, see lib/harness.sh).
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" mosquitto sqlite3 curl python3 setsid

HTTP_PORT=$(free_port)

# The checks against the live chain (run by the demo, FL_DEMO_THEN), with
# the harness's functions.
{
	printf 'NAME="demo check"\nDB=$FL_DEMO_DB\n. "%s/tests/integration/lib/harness.sh" lib\n' "$SRC"
	cat <<'EOS'
set -eu
U=${FL_DEMO_URL%/}
IID=$FL_DEMO_INCIDENT
C=$FL_DEMO_RUN/../check
mkdir -p "$C"

# The store: the bundle is there and verified.
[ "$(q "select verified from incidents where incident_id = '$IID'")" = 1 ] ||
	fail "the store does not hold $IID as verified"
[ -s "$FL_DEMO_RUN/evidence/$IID/manifest.sig" ] || fail "no bundle in $FL_DEMO_RUN/evidence/$IID"
# Both sites have an incident by now (the scenes start together); wait a
# little for the second if needed.
for _ in $(seq 120); do
	[ "$(q "select count(distinct site) from incidents")" = 2 ] && break
	sleep 0.5
done
SOUTH=$(q "select incident_id from incidents where site = 'south-yard' limit 1")
[ -n "$SOUTH" ] || fail "no south-yard incident stored"

# login NAME PASSWORD JAR: the login answer's body.
login() {
	curl -s -c "$3" -o "$C/login.json" -w '%{http_code}' \
		-H 'Content-Type: application/json' \
		-d "{\"user\": \"$1\", \"password\": \"$2\"}" "$U/api/login" >"$C/code"
	[ "$(cat "$C/code")" = 200 ] || fail "login $1: HTTP $(cat "$C/code"): $(cat "$C/login.json")"
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["csrf"], j' "$C/login.json" ||
		fail "login $1: no csrf in $(cat "$C/login.json")"
}
# get JAR PATH OUT: 200 expected, else the code is the failure.
get() {
	local code
	code=$(curl -s -b "$1" -o "$3" -w '%{http_code}' "$U$2")
	echo "$code"
}

login "$FL_DEMO_USER" "$FL_DEMO_PASSWORD" "$C/admin.jar"
[ "$(get "$C/admin.jar" /api/incidents "$C/list.json")" = 200 ] ||
	fail "GET /api/incidents: $(cat "$C/list.json")"
[ "$(get "$C/admin.jar" "/api/incidents/$IID" "$C/one.json")" = 200 ] ||
	fail "GET /api/incidents/$IID: $(cat "$C/one.json")"
python3 - "$C/list.json" "$C/one.json" "$IID" "$SOUTH" <<'EOP' || fail "the API's answers (above)"
import json, sys
lst, one, iid, south = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4]
ids = {i["incident_id"]: i for i in lst["incidents"]}
assert iid in ids, ("verified incident not listed", list(ids))
assert south in ids, ("south-yard incident not listed for the admin", list(ids))
assert {i["site"] for i in lst["incidents"]} == {"north-gate", "south-yard"}, lst
assert ids[iid]["verified"] in (1, True), ids[iid]
assert one["incident_id"] == iid and one["site"] == "north-gate", one
assert one["verified"] in (1, True), one
ev = one["evidence"]
assert len(ev) >= 4, ev
assert all(f["verified"] in (1, True) for f in ev), ev
names = {f["name"] for f in ev}
assert {"manifest.json", "manifest.sig"} <= names, names
assert any(n.endswith(".mp4") for n in names), names
types = [e["type"] for e in one["events"]]
for t in ("occupied", "alarm", "evidence"):
    assert t in types, types
print("api: %d incidents listed; %s verified with %d files; timeline %s"
      % (len(lst["incidents"]), iid, len(ev), " ".join(types)))
EOP
# One evidence file through the API: the bytes whose hash the API names.
FILE=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["evidence"]; print([f for f in e if f["name"].endswith(".jpg")][0]["name"])' "$C/one.json")
SHA=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["evidence"]; print([f for f in e if f["name"] == sys.argv[2]][0]["sha256"])' "$C/one.json" "$FILE")
[ "$(get "$C/admin.jar" "/evidence/$IID/$FILE" "$C/file")" = 200 ] || fail "GET /evidence/$IID/$FILE"
[ "$(sha256sum <"$C/file" | cut -d ' ' -f 1)" = "$SHA" ] || fail "/evidence/$IID/$FILE: not the bytes of sha256 $SHA"

# The property manager sees north-gate only.
login "$FL_DEMO_PM_USER" "$FL_DEMO_PM_PASSWORD" "$C/pm.jar"
[ "$(get "$C/pm.jar" /api/incidents "$C/pm-list.json")" = 200 ] || fail "manager: GET /api/incidents"
python3 - "$C/pm-list.json" "$IID" "$FL_DEMO_PM_SITE" <<'EOP' || fail "the manager's list (above)"
import json, sys
lst = json.load(open(sys.argv[1]))
sites = {i["site"] for i in lst["incidents"]}
assert sites == {sys.argv[3]}, sites
assert sys.argv[2] in {i["incident_id"] for i in lst["incidents"]}
EOP
code=$(get "$C/pm.jar" "/api/incidents/$SOUTH" "$C/pm-south.json")
[ "$code" = 404 ] || fail "manager: another site's incident answered $code, not 404"
echo "demo check: passed"
EOS
} >"$WORK/check.sh"

set +e
# mosquitto started as root drops to its own user, which must reach the
# demo's broker accounts and ACL in $WORK/run (docs/security.md)
chmod 0755 "$WORK"
# as a Chinese user runs it (LANG zh_*: the lines it prints are Chinese)
LANG=zh_CN.UTF-8 FL_DEMO_DIR=$WORK FL_DEMO_QUICK=1 FL_DEMO_EXIT_AFTER=verified FL_DEMO_TIMEOUT_S=400 \
	FL_DEMO_HTTP_PORT=$HTTP_PORT FL_DEMO_THEN="bash $WORK/check.sh" \
	"$SRC/scripts/demo.sh" "$BUILD" >"$WORK/demo.out" 2>"$WORK/demo.log"
rc=$?
set -e
cat "$WORK/demo.out"
[ "$rc" = 0 ] || fail "scripts/demo.sh exited $rc: $(tail -n 5 "$WORK/demo.log")"
grep -q "demo check: passed" "$WORK/demo.out" || fail "the checks did not run"
grep -q "^  网址：  http://127.0.0.1:$HTTP_PORT/" "$WORK/demo.out" || fail "no URL printed (in Chinese)"
grep -q "^  登录：  demo / firelane-demo（管理员" "$WORK/demo.out" || fail "no admin login printed"
grep -q "^  登录：  manager / firelane-demo（物业管理员" "$WORK/demo.out" || fail "no manager login printed"
grep -q "^firelane 演示：事件 .* 的证据已验证" "$WORK/demo.out" || fail "no verified line in Chinese"
# The sites and lanes have Chinese names, carried to the hub by the edges.
names=$(sqlite3 "$WORK/run/hub.db" "select group_concat(distinct site_name || '/' || lane_name) from incidents where site = 'north-gate'")
[ "$names" = "北门小区/北门消防通道" ] || fail "north-gate's names in the store: '$names'"
# Stopped in order: the edges said "stopped" and the hub stored it.
st=$(sqlite3 "$WORK/run/hub.db" "select group_concat(device || '=' || status) from (select * from devices order by device)")
[ "$st" = "edge-north=stopped,edge-south=stopped" ] || fail "devices after the demo: $st"
grep -q "the hub exited with status" "$WORK/demo.log" && fail "$(grep "the hub exited" "$WORK/demo.log")"
# Sanitizer builds: no report from the hub or an edge.
bad=$(grep -l "Sanitizer" "$WORK"/run/*.log "$WORK"/run/*/edge.log 2>/dev/null || true)
[ -z "$bad" ] || fail "sanitizer reports in $bad: $(grep -h -A5 Sanitizer $bad | head -20)"
# Nothing left running: no process of the demo's.
sleep 0.5
left=$(leftovers)
[ -z "$left" ] || fail "processes left behind: $left"
echo "$NAME: passed"
