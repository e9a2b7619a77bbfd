#!/usr/bin/env bash
# hub_devices.sh - the lane editor's hub side (docs/api.md, "Devices")
# against a real hub, mosquitto and edge (live on the park_leave scene):
#   - the installer role: added only with sites; sees the devices of its
#     sites (list, configuration; another site's device is 404) and gets
#     403 on incidents, an incident's evidence, reports, the register,
#     users; a property manager may not edit a device (403);
#   - configurations: the device's file stored as version 1 (PUT yaml),
#     read back as lanes with every setting (GET), lanes replaced by the
#     editor's JSON (PUT cameras) with every other key kept as written
#     (the mqtt password, which GET shows as "***" and a file sent back
#     with "***" keeps), a stale base refused (409), a lane with
#     crossing edges refused with the key, line and reason (422), another
#     device's id refused; each save audited (config_save);
#   - the lane table (GET /api/schema/lane) and a polygon's check (POST
#     /api/lanes/check) with the edge's own rules;
#   - with the edge live: a fresh snapshot (the JPEG carried inline over
#     MQTT, stored and served), and an apply of the new version: 202 at
#     once, the outcome in GET .../config once the edge answered, audited
#     (config_apply); the edge then runs the new lane: its alarm reaches
#     the hub; a version whose camera cannot be opened is rolled back by
#     the edge, and the hub shows its reason; applies still waiting when
#     the hub stops are settled at its next start by the device's
#     heartbeat (applied, or "no answer (hub restarted)", which a later
#     heartbeat saying that version runs settles as applied); a stop ends the
#     wait of a snapshot of a device away at once; two snapshots
#     waiting for a device away do not hold another user's page.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" "$EDGE" "$SCENE" mosquitto mosquitto_sub mosquitto_passwd curl sqlite3 python3 jq bc
SCENARIO=park_leave
scene $SCENARIO
broker_start
web_hub_conf "$WORK/hub.yaml"
HUB_KEY=$(hub_key "$WORK/hub.yaml")
edge_config "$WORK/scene/edge.yaml"
sed -i "s|^device: {id: scene-edge, site: scene-site}|device: {id: scene-edge, site: scene-site, key_file: $WORK/device.key}|" "$WORK/scene/edge.yaml"
grep -q "key_file: $WORK/device.key" "$WORK/scene/edge.yaml" || fail "the scene's device line changed"
"$EDGE" --config "$WORK/scene/edge.yaml" --print-public-key >"$WORK/pk.txt" 2>"$WORK/pk.log" || fail "--print-public-key"
cli() { "$HUB" --config "$WORK/hub.yaml" "$@" >"$WORK/cli.log" 2>&1; }
cli --enrol-device scene-edge --site scene-site --public-key "$WORK/pk.txt" || fail "--enrol-device: $(cat "$WORK/cli.log")"
cli --enrol-device north-edge --site north-site --public-key "$WORK/pk.txt" || fail "--enrol-device north: $(cat "$WORK/cli.log")"
echo pw-root | cli --add-user root --role admin || fail "--add-user root: $(cat "$WORK/cli.log")"
echo pw-pm | cli --add-user pm --role property --sites scene-site || fail "--add-user pm: $(cat "$WORK/cli.log")"
echo pw-x | cli --add-user nosites --role installer && fail "an installer without sites was added"
grep -q 'an installer needs --sites' "$WORK/cli.log" || fail "installer without sites: $(cat "$WORK/cli.log")"
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -v

ROOT_T=$(web_login root pw-root)
as_root() { web_as root "$ROOT_T" "$@"; }
[ "$(as_root POST /api/users '{"name": "inst", "password": "pw-inst", "role": "installer", "sites": ["scene-site"]}')" = 200 ] ||
	fail "POST /api/users installer: $(cat "$WORK/out")"
[ "$(as_root POST /api/users '{"name": "inst2", "password": "pw-inst", "role": "installer"}')" = 400 ] ||
	fail "an installer without sites through the API: $(cat "$WORK/out")"
INST_T=$(web_login inst pw-inst)
as_inst() { web_as inst "$INST_T" "$@"; }
PM_T=$(web_login pm pw-pm)

# ---- the installer's reach ----------------------------------------------------
[ "$(as_inst GET /api/session)" = 200 ] && [ "$(jq -r .role "$WORK/out")" = installer ] ||
	fail "installer session: $(cat "$WORK/out")"
[ "$(as_inst GET /api/hub)" = 200 ] || fail "installer: the hub's state: $(cat "$WORK/out")"
[ "$(as_inst GET /api/devices)" = 200 ] || fail "installer devices: $(cat "$WORK/out")"
[ "$(jq -r '[.devices[].device] | join(",")' "$WORK/out")" = scene-edge ] ||
	fail "the installer sees other sites' devices: $(cat "$WORK/out")"
for p in /api/incidents /api/incidents/scene-edge-x /api/incidents/scene-edge-x/still \
	/api/reports /api/sites/scene-site/register /api/users /api/audit; do
	[ "$(as_inst GET "$p")" = 403 ] || fail "installer GET $p: $(cat "$WORK/out")"
done
code=$(curl -s -b "$WORK/jar-inst" -o "$WORK/out" -w '%{http_code}' "$BASE/evidence/scene-edge-x/manifest.json")
[ "$code" = 403 ] || fail "installer evidence: $code"
[ "$(as_inst GET /api/devices/north-edge/config)" = 404 ] || fail "another site's device: $(cat "$WORK/out")"
[ "$(web_as pm "$PM_T" GET /api/devices/scene-edge/config)" = 403 ] || fail "a property manager edits: $(cat "$WORK/out")"
[ "$(as_inst PUT /api/devices/scene-edge/config '{"base_version": 0, "yaml": "x: 1"}')" = 422 ] ||
	fail "unknown key: $(cat "$WORK/out")"
# PUT needs the CSRF token like any change
code=$(curl -s -b "$WORK/jar-inst" -o "$WORK/out" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
	--data-binary '{"base_version": 0, "yaml": "x"}' "$BASE/api/devices/scene-edge/config")
[ "$code" = 403 ] || fail "PUT without a CSRF token: $code"

# ---- configurations ----------------------------------------------------------
body=$(jq -Rsc '{base_version: 0, yaml: .}' <"$WORK/scene/edge.yaml")
[ "$(as_inst PUT /api/devices/scene-edge/config "$body")" = 200 ] || fail "PUT yaml: $(cat "$WORK/out")"
[ "$(jq .version "$WORK/out")" = 1 ] || fail "first version: $(cat "$WORK/out")"
[ "$(as_inst PUT /api/devices/scene-edge/config "$body")" = 409 ] || fail "a stale base: $(cat "$WORK/out")"
[ "$(as_inst GET /api/devices/scene-edge/config)" = 200 ] || fail "GET config: $(cat "$WORK/out")"
cp "$WORK/out" "$WORK/conf1.json"
jq -e '.version == 1 and .author == "inst" and .site == "scene-site"
	and .cameras[0].id == "cam-1"
	and .cameras[0].lanes[0].id == "lane-a"
	and (.cameras[0].lanes[0].polygon | length) == 4
	and .cameras[0].lanes[0].dwell_s == 10
	and .cameras[0].lanes[0].escalate_s == 600
	and (.versions | length) == 1' "$WORK/conf1.json" >/dev/null || fail "GET config: $(cat "$WORK/conf1.json")"

# the editor's lanes: lane-a renamed, and a new lane over the parking spot
# with a short dwell (the polygon of lane-a, a little larger)
jq -c '{base_version: .version, cameras: [.cameras[0] | .lanes = [
	(.lanes[0] | .name = "东门消防通道"),
	{id: "lane-new", name: "新车道", polygon: [[190, 200], [290, 200], [265, 118], [215, 118]], dwell_s: 3}
]]}' "$WORK/conf1.json" >"$WORK/put2.json"
[ "$(as_inst PUT /api/devices/scene-edge/config "$(cat "$WORK/put2.json")")" = 200 ] || fail "PUT cameras: $(cat "$WORK/out")"
[ "$(jq .version "$WORK/out")" = 2 ] || fail "second version: $(cat "$WORK/out")"
[ "$(as_inst GET /api/devices/scene-edge/config)" = 200 ] || fail "GET config 2: $(cat "$WORK/out")"
cp "$WORK/out" "$WORK/conf2.json"
jq -e '.version == 2 and (.cameras[0].lanes | length) == 2
	and .cameras[0].lanes[0].name == "东门消防通道"
	and .cameras[0].lanes[1].id == "lane-new" and .cameras[0].lanes[1].dwell_s == 3
	and (.versions | map(.version)) == [2, 1]' "$WORK/conf2.json" >/dev/null || fail "GET config 2: $(cat "$WORK/conf2.json")"
# every other key as written: the broker password is still there in full,
# and never shown (GET has "***"; a file sent back with it keeps it)
q "select yaml from device_configs where device = 'scene-edge' and version = 2" |
	grep -qF "password: $(broker_pw scene-edge)" || fail "the mqtt password was not kept"
jq -r .yaml "$WORK/conf2.json" | grep -qF 'password: "***"' || fail "GET shows the password: $(jq -r .yaml "$WORK/conf2.json")"
grep -qF "$(broker_pw scene-edge)" "$WORK/conf2.json" && fail "the password is in GET's answer"

# a lane with crossing edges: refused with the key, the line and the reason
jq -c '{base_version: 2, cameras: [.cameras[0] | .lanes[1].polygon = [[0, 0], [100, 100], [100, 0], [0, 100]]]}' \
	"$WORK/conf2.json" >"$WORK/bad.json"
[ "$(as_inst PUT /api/devices/scene-edge/config "$(cat "$WORK/bad.json")")" = 422 ] || fail "crossing edges: $(cat "$WORK/out")"
jq -e '.key == "cameras[cam-1].lanes[lane-new].id" and .line > 0
	and (.reason | test("self-intersecting"))' "$WORK/out" >/dev/null || fail "crossing edges: $(cat "$WORK/out")"
# another device's file
sed 's/id: scene-edge/id: north-edge/' "$WORK/scene/edge.yaml" | jq -Rsc '{base_version: 2, yaml: .}' >"$WORK/other.json"
[ "$(as_inst PUT /api/devices/scene-edge/config "$(cat "$WORK/other.json")")" = 422 ] || fail "another device's id: $(cat "$WORK/out")"
jq -e '.key == "device.id"' "$WORK/out" >/dev/null || fail "another device's id: $(cat "$WORK/out")"
[ "$(q "select count(*) from audit where action = 'config_save' and object = 'scene-edge'")" = 2 ] ||
	fail "config_save audit: $(q "select * from audit where action like 'config%'")"

# ---- the lane table, a polygon's check --------------------------------------
[ "$(as_inst GET /api/schema/lane)" = 200 ] || fail "schema: $(cat "$WORK/out")"
jq -e '.settings | map(select(.key == "dwell_s"))[0] | .default == 60 and .unit == "s" and (.help | length) > 10' \
	"$WORK/out" >/dev/null || fail "schema: $(cat "$WORK/out")"
[ "$(as_inst POST /api/lanes/check '{"polygon": [[0, 0], [100, 100], [100, 0], [0, 100]]}')" = 200 ] || fail "check: $(cat "$WORK/out")"
jq -e '.ok == false and (.reason | test("self-intersecting"))' "$WORK/out" >/dev/null || fail "check crossing: $(cat "$WORK/out")"
[ "$(as_inst POST /api/lanes/check '{"polygon": [[0, 0], [100, 0], [100, 100]]}')" = 200 ] || fail "check: $(cat "$WORK/out")"
jq -e '.ok == true' "$WORK/out" >/dev/null || fail "check good: $(cat "$WORK/out")"

# ---- with the edge live: snapshot, apply, the new lane's alarm ----------------
subscribe "$WORK/all.txt" 'firelane/#'
edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$WORK/scene/edge.yaml" -v
device_online scene-edge 10
[ "$(as_inst POST /api/devices/scene-edge/cameras/cam-1/snapshot '{"mask": true}')" = 200 ] ||
	fail "snapshot: $(cat "$WORK/out") $(tail -n 5 "$WORK/edge.log")"
jq -e '.width == 480 and .height == 270 and (.url | test("snapshot.jpg"))' "$WORK/out" >/dev/null || fail "snapshot: $(cat "$WORK/out")"
url=$(jq -r .url "$WORK/out")
code=$(curl -s -b "$WORK/jar-inst" -o "$WORK/snap.jpg" -w '%{http_code}' "$BASE$url")
[ "$code" = 200 ] && [ "$(head -c 2 "$WORK/snap.jpg" | od -An -tx1 | tr -d ' ')" = ffd8 ] || fail "snapshot.jpg: $code"
code=$(curl -s -b "$WORK/jar-pm" -o /dev/null -w '%{http_code}' "$BASE$url")
[ "$code" = 403 ] || fail "a property manager's snapshot: $code"

# apply VERSION: 202 at once, then GET .../config (in WORK/out) until the
# device's outcome is in
apply() {
	[ "$(as_inst POST /api/devices/scene-edge/config/apply "{\"version\": $1}")" = 202 ] ||
		fail "apply $1: $(cat "$WORK/out")"
	for _ in $(seq 600); do
		as_inst GET /api/devices/scene-edge/config >/dev/null
		[ "$(jq '.versions[0].apply_ok' "$WORK/out")" != null ] && break
		sleep 0.1
	done
}
apply 2
jq -e '.versions[0] | .version == 2 and .apply_ok == 1 and .applied > 0' "$WORK/out" >/dev/null ||
	fail "apply outcome: $(jq -c .versions "$WORK/out") $(tail -n 5 "$WORK/edge.log")"
# the device's heartbeat says which version it runs; the fleet shows it
for _ in $(seq 100); do
	as_inst GET /api/devices >/dev/null
	[ "$(jq '.devices[0].heartbeat.config_version' "$WORK/out")" = 2 ] && break
	sleep 0.1
done
[ "$(jq '.devices[0].heartbeat.config_version' "$WORK/out")" = 2 ] || fail "config_version in the heartbeat: $(cat "$WORK/out")"
[ "$(q "select count(*) from audit where action = 'config_apply' and object = 'scene-edge'")" = 2 ] ||
	fail "config_apply audit: $(q "select * from audit where action like 'config%'")"
wait_for "$WORK/all.txt" "^firelane/scene-site/scene-edge/cam-1/lane-new/incident " 60 ||
	fail "no incident in the new lane: $(tail -n 5 "$WORK/edge.log")"
for _ in $(seq 300); do
	[ "$(q "select count(*) from incidents where lane = 'lane-new' and alarm is not null")" -ge 1 ] && break
	sleep 0.1
done
[ "$(q "select lane_name from incidents where lane = 'lane-new' and alarm is not null limit 1")" = 新车道 ] ||
	fail "the new lane's alarm did not reach the hub: $(q "select lane, status, alarm from incidents")"
# a camera that cannot be opened: the edge rolls back, the hub says why
jq -r .yaml "$WORK/conf2.json" | sed 's|source: park_leave.mp4|source: /nonexistent/cam.mp4|' |
	sed -e "s|^device: {|device: {apply_timeout_s: 2, |" -e "s|^device:\$|device:\n  apply_timeout_s: 2|" | jq -Rsc '{base_version: 2, yaml: .}' >"$WORK/put3.json"
grep -q "apply_timeout_s: 2" "$WORK/put3.json" || fail "no apply_timeout_s set in: $(cat "$WORK/put3.json")"
[ "$(as_inst PUT /api/devices/scene-edge/config "$(cat "$WORK/put3.json")")" = 200 ] || fail "PUT a bad camera: $(cat "$WORK/out")"
q "select yaml from device_configs where device = 'scene-edge' and version = 3" |
	grep -qF "password: \"$(broker_pw scene-edge)\"" || fail "a file sent back with *** lost the password"
apply 3
jq -e '.versions[0] | .version == 3 and .apply_ok == 0 and (.apply_error | test("^camera cam-1: .*rolled back to version 2$"))' \
	"$WORK/out" >/dev/null || fail "the bad camera's outcome: $(jq -c '.versions[0]' "$WORK/out")"
edge_stop 30
# two snapshots of a device away each wait for its answer (20 s, then
# 504): they must not hold the web server's two threads (http.threads), so
# another user's page answers while both still wait
snaps() { grep -c "/command/set .*$(hex '"snapshot"')" "$WORK/all.txt" || true; }
n0=$(snaps)
slow=()
for i in 1 2; do
	curl -s -b "$WORK/jar-inst" -o "$WORK/slow$i.out" -w '%{http_code}' --max-time 60 -X POST \
		-H "X-CSRF-Token: $INST_T" -H 'Content-Type: application/json' -d '{"mask": false}' \
		"$BASE/api/devices/scene-edge/cameras/cam-1/snapshot" >"$WORK/slow$i.code" &
	slow+=($!)
done
for _ in $(seq 200); do
	[ "$(snaps)" -ge $((n0 + 2)) ] && break
	sleep 0.1
done
[ "$(snaps)" -ge $((n0 + 2)) ] || fail "the two snapshots were not both sent within 20 s (the web server was held)"
t0=$(date +%s.%N)
[ "$(web_as pm "$PM_T" GET /api/session)" = 200 ] || fail "another user's page: $(cat "$WORK/out")"
echo "hub_devices: another user's page answered in $(echo "$(date +%s.%N) - $t0" | bc) s while two snapshots waited"
for p in "${slow[@]}"; do
	kill -0 "$p" 2>/dev/null || fail "a snapshot ended before another user's page was answered (it was held)"
done
wait "${slow[@]}"
[ "$(cat "$WORK/slow1.code") $(cat "$WORK/slow2.code")" = "504 504" ] ||
	fail "snapshots of a device away: $(cat "$WORK/slow1.code" "$WORK/slow1.out" "$WORK/slow2.code")"

# applies the hub stops waiting for (the device is away): settled at the
# hub's next start by the device's last heartbeat, which says version 2
# (the roll-back's): 2 applied, 1 "no answer (hub restarted)"
for v in 1 2; do
	[ "$(as_inst POST /api/devices/scene-edge/config/apply "{\"version\": $v}")" = 202 ] ||
		fail "apply $v to a device away: $(cat "$WORK/out")"
done
[ "$(q "select count(*) from device_configs where device = 'scene-edge' and applied is not null and apply_ok is null")" = 2 ] ||
	fail "the applies to a device away are not pending: $(q 'select version, apply_ok, apply_error from device_configs')"
hub_stop
hub_start "$WORK/hub.yaml" "$WORK/hub2.log" -v
[ "$(q "select apply_ok, coalesce(apply_error, '') from device_configs where device = 'scene-edge' and version = 2")" = "1|" ] ||
	fail "a pending apply of the version the device runs: $(q 'select version, apply_ok, apply_error from device_configs')"
[ "$(q "select apply_ok, apply_error from device_configs where device = 'scene-edge' and version = 1")" = "0|no answer (hub restarted)" ] ||
	fail "a pending apply left: $(q 'select version, apply_ok, apply_error from device_configs')"
[ "$(q "select count(*) from audit where action = 'config_apply' and user = 'hub'")" = 2 ] ||
	fail "the settled applies are not audited: $(q "select * from audit where action = 'config_apply'")"
# a heartbeat that comes later and says version 1 runs settles its "no answer"
echo "{\"epoch\": $(date +%s%3N), \"uptime_s\": 1, \"config_version\": 1}" |
	device_pub "$WORK/device.key" scene-edge firelane/scene-site/scene-edge/heartbeat
for _ in $(seq 100); do
	[ "$(q "select apply_ok from device_configs where device = 'scene-edge' and version = 1")" = 1 ] && break
	sleep 0.1
done
[ "$(q "select apply_ok, coalesce(apply_error, '') from device_configs where device = 'scene-edge' and version = 1")" = "1|" ] ||
	fail "a later heartbeat did not settle version 1: $(q 'select version, apply_ok, apply_error from device_configs')"
[ "$(q "select count(*) from audit where action = 'config_apply' and user = 'hub' and detail like 'version 1: applied%'")" = 1 ] ||
	fail "the heartbeat's settling is not audited: $(q "select * from audit where action = 'config_apply'")"
# a stop does not wait out a snapshot of a device away (20 s): the wait
# ends, the request is answered, and the hub is gone within a few seconds
INST_T=$(web_login inst pw-inst)
n0=$(snaps)
curl -s -b "$WORK/jar-inst" -o /dev/null --max-time 60 -X POST \
	-H "X-CSRF-Token: $INST_T" -H 'Content-Type: application/json' -d '{"mask": false}' \
	"$BASE/api/devices/scene-edge/cameras/cam-1/snapshot" >/dev/null &
slow=$!
for _ in $(seq 200); do
	[ "$(snaps)" -gt "$n0" ] && break
	sleep 0.1
done
[ "$(snaps)" -gt "$n0" ] || fail "the snapshot before the stop was not sent"
hub_stop 8
wait "$slow" || true
echo "hub_devices: ok"
