#!/usr/bin/env bash
# hub_pg.sh - the hub on PostgreSQL end to end (docs/store.md, "A
# PostgreSQL backend"): a server of the test's own (pg_start), a real
# mosquitto, firelane-hub with store: {postgresql: URL} and the real edge
# on the synthetic park_leave scene. Checks:
#   (a) the configuration: --check-config shows the URL with its password
#       as "***", --print-store-url (for firelane-backup) whole;
#       store.sqlite beside store.postgresql is refused with FILE:LINE;
#   (b) the hub's commands on the server: --enrol-device and --add-user
#       write their rows there (not into a SQLite file);
#   (c) ingest: the edge's incident is stored once, cleared, with every
#       message the edge sent and its evidence bundle verified against
#       the enrolled key, and nothing else (no quarantine);
#   (d) the web API reads it from PostgreSQL (list, detail with its
#       timeline and evidence, the evidence file itself) and records an
#       outcome with its audit row;
#   (e) after a restart of the hub (SIGTERM, exit 0), the incident with
#       its outcome and history is there again through the API;
#   (f) the password in the URL appears in no log of the hub.
# The cluster trusts loopback (pg_start), so the URL's password is one
# the server never asks for: what is checked is where it goes. Skipped
# where the PostgreSQL server package is absent.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" "$EDGE" "$SCENE" mosquitto mosquitto_pub python3 curl jq
pg_start
SECRET=pw-Hq7z0x
STORE="postgresql://fl:$SECRET@127.0.0.1:$PGPORT/firelane"
SCENARIO=park_leave
PORT=$(free_port)
scene $SCENARIO
broker_start
subscribe "$WORK/all.txt" 'firelane/#'

# (a) the configuration
web_hub_conf "$WORK/hub.yaml" "hub_key_file: $WORK/hub.key"
sed -i "s|^store: .*|store: {postgresql: \"$STORE\"}|" "$WORK/hub.yaml"
"$HUB" --config "$WORK/hub.yaml" --check-config >"$WORK/check.log" 2>&1 ||
	fail "--check-config: $(cat "$WORK/check.log")"
grep -qF "  postgresql: \"postgresql://fl:***@127.0.0.1:$PGPORT/firelane\"" "$WORK/check.log" ||
	fail "the URL's password is not masked: $(grep -A2 '^store' "$WORK/check.log")"
# --print-store-url: the one mode that shows the URL whole (firelane-backup's)
[ "$("$HUB" --config "$WORK/hub.yaml" --print-store-url 2>&1)" = "$STORE" ] ||
	fail "--print-store-url: $("$HUB" --config "$WORK/hub.yaml" --print-store-url 2>&1)"
rc=0
"$HUB" --config "$WORK/hub.yaml" --print-store-url --check-config >"$WORK/url2.log" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "--print-store-url with --check-config: exit status $rc, not a usage error"
sed "s|^store: .*|store: {sqlite: $WORK/hub.db, postgresql: \"$STORE\"}|" "$WORK/hub.yaml" >"$WORK/both.yaml"
"$HUB" --config "$WORK/both.yaml" --check-config >"$WORK/both.log" 2>&1 && fail "both stores accepted"
grep -qF "both.yaml:3: store: set one of sqlite and postgresql, not both" "$WORK/both.log" ||
	fail "both stores: $(cat "$WORK/both.log")"

# (b) the hub's commands write to the server
edge_config "$WORK/scene/edge.yaml" "$(printf 'evidence:\n  dir: %s\n  pre_roll_s: 4\n  post_roll_s: 3\n' "$WORK/evidence")"
sed -i "s|^device: {id: scene-edge, site: scene-site}|device: {id: scene-edge, site: scene-site, key_file: $WORK/device.key}|" "$WORK/scene/edge.yaml"
"$EDGE" --config "$WORK/scene/edge.yaml" --print-public-key >"$WORK/pk.txt" 2>"$WORK/pk.log" ||
	fail "--print-public-key: $(cat "$WORK/pk.log")"
admin() { "$HUB" --config "$WORK/hub.yaml" "$@" >>"$WORK/admin.log" 2>&1 || fail "$*: $(tail -n 3 "$WORK/admin.log")"; }
admin --enrol-device scene-edge --site scene-site --public-key "$WORK/pk.txt"
echo 'pw-root' | admin --add-user root --role admin
[ "$(pg_sql "SELECT site FROM devices WHERE device = 'scene-edge'")" = scene-site ] ||
	fail "the device is not enrolled on PostgreSQL"
[ "$(pg_sql "SELECT role FROM users WHERE name = 'root'")" = admin ] ||
	fail "the user is not on PostgreSQL"
[ ! -e "$WORK/hub.db" ] || fail "a SQLite file was made"

# (c) ingest from the real edge
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -vv
grep -qF "store postgresql://fl:***@127.0.0.1:$PGPORT/firelane" "$WORK/hub.log" ||
	fail "the hub does not name its store: $(grep -m1 running "$WORK/hub.log")"
edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$WORK/scene/edge.yaml" -v
edge_wait 120
for i in $(seq 600); do
	[ "$(pg_sql "SELECT count(*) FROM incidents WHERE status = 'cleared' AND verified = 1")" = 1 ] && break
	sleep 0.1
done
[ "$i" != 600 ] ||
	fail "no verified, cleared incident on PostgreSQL: $(pg_sql 'SELECT incident_id, status, verified, verify_report FROM incidents')"
IID=$(pg_sql 'SELECT incident_id FROM incidents')
[ "$(pg_sql 'SELECT count(*) FROM incidents')" = 1 ] || fail "incidents: $(pg_sql 'SELECT incident_id FROM incidents')"
# every incident message on the wire, stored once
pg_wire_stored "$WORK/all.txt"

# (d) through the web API
TOK=$(web_login root pw-root)
[ "$(web_as root "$TOK" GET /api/incidents)" = 200 ] || fail "list: $(cat "$WORK/out")"
[ "$(jq -r '.total' "$WORK/out")" = 1 ] && [ "$(jq -r '.incidents[0].incident_id' "$WORK/out")" = "$IID" ] ||
	fail "list: $(cat "$WORK/out")"
[ "$(web_as root "$TOK" GET "/api/incidents/$IID")" = 200 ] || fail "detail: $(cat "$WORK/out")"
jq -e --argjson n "$SENT" '.status == "cleared" and .verified == 1 and (.events | length) == $n and (.evidence | length) > 2' \
	"$WORK/out" >/dev/null || fail "detail: $(head -c 600 "$WORK/out")"
cp "$WORK/out" "$WORK/detail.json"
# one evidence file, byte for byte the one stored
name=$(jq -r '[.evidence[] | select(.name == "manifest.json")][0].name' "$WORK/detail.json")
[ "$(web_as root "$TOK" GET "/evidence/$IID/$name")" = 200 ] || fail "evidence $name"
cmp -s "$WORK/out" "$WORK/ev/$IID/$name" || fail "evidence $name differs from the stored file"
[ "$(web_as root "$TOK" POST "/api/incidents/$IID/outcome" '{"outcome": "persuaded", "note": "第一次"}')" = 200 ] ||
	fail "outcome: $(cat "$WORK/out")"
[ "$(web_as root "$TOK" POST "/api/incidents/$IID/outcome" '{"outcome": "towed", "note": "second"}')" = 200 ] ||
	fail "outcome: $(cat "$WORK/out")"
[ "$(pg_sql "SELECT outcome FROM incidents WHERE incident_id = '$IID'")" = towed ] ||
	fail "the outcome is not on PostgreSQL"
[ "$(pg_sql "SELECT count(*) FROM audit WHERE action = 'outcome' AND object = '$IID'")" = 2 ] ||
	fail "outcome audit: $(pg_sql 'SELECT action, object FROM audit')"

# (e) the hub restarted: the same incident, outcome and history
hub_stop
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -vv
TOK=$(web_login root pw-root)
[ "$(web_as root "$TOK" GET "/api/incidents/$IID")" = 200 ] || fail "detail after restart: $(cat "$WORK/out")"
jq -e '.outcome == "towed" and [.outcomes[].outcome] == ["persuaded", "towed"] and .outcomes[0].note == "第一次"' \
	"$WORK/out" >/dev/null || fail "after restart: $(jq -c '{outcome, outcomes}' "$WORK/out")"
jq -e --slurpfile d "$WORK/detail.json" '.events == $d[0].events and .evidence == $d[0].evidence' \
	"$WORK/out" >/dev/null || fail "the timeline or evidence changed across the restart"
[ "$(web_as root "$TOK" GET '/api/incidents?outcome=towed')" = 200 ] && [ "$(jq -r .total "$WORK/out")" = 1 ] ||
	fail "filtered list after restart: $(cat "$WORK/out")"
hub_stop

# (f) the password never written
for f in "$WORK"/hub.log "$WORK"/admin.log "$WORK"/check.log "$WORK"/both.log; do
	grep -qF "$SECRET" "$f" && fail "$(basename "$f") has the store's password: $(grep -m1 -F "$SECRET" "$f")"
done
echo "$NAME: ok"
