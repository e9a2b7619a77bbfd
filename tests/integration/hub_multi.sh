#!/usr/bin/env bash
# hub_multi.sh - several hubs, one service: two firelane-hub processes on
# one PostgreSQL store (pg_start), one mosquitto (their MQTT 5 shared
# subscription, mqtt.shared_group), one evidence folder, and nginx in front
# of both (nginx_start with two hub ports: round robin), with the real edge
# on the synthetic park_leave scene and a local webhook receiver. Checks:
#   (a) the edge's incident: every incident message on the wire stored once
#       (on PostgreSQL), its bundle verified, nothing quarantined;
#   (b) its alerts: each (incident, kind) posted to the webhook exactly
#       once, alarm and all-clear both;
#   (c) five wrong passwords from one client, which nginx spreads over
#       both hubs, hold that client up (429) whichever hub answers: the
#       login throttle's counts are the store's;
#       a user logs in through nginx; the session answers on every request
#       (nginx alternates between the hubs, so both hubs know it) and a
#       change with its CSRF token is accepted; the store keeps the id's
#       SHA-256, not the id;
#   (d) hub A killed with SIGKILL while 400 incident messages flow: the
#       same cookie and token keep working through nginx (now hub B); what
#       hub B stores while A is dead is counted; hub A started again (same
#       client id: its broker session) and every message is stored exactly
#       once - nothing lost; the session still answers with both hubs up
#       (a restart logs nobody out);
#   (e) an alert's sender dies mid-send: the receiver holds the first POST
#       of an alarm (never answers it), the hub that sent it is killed
#       with SIGKILL, and the other hub posts the same alert once the
#       claim's lease ran out (alerts.lease_s 4 here): answered exactly
#       once. The takeover time (kill to answer) is printed.
# What the broker does with a dead member's messages is counted, not
# assumed: mosquitto (2.0) does not hand them to the other member of the
# group. It keeps choosing among the group's sessions, the dead hub's
# persistent one included, so its unacknowledged messages and its share of
# those published while it is down wait in that session until a hub with
# its client id connects again (one run: killed at 50 of 400 stored, hub B
# alone brought it to 250, the other 150 came with hub A's return). So
# "nothing lost" here needs the dead hub started again (systemd's
# Restart=), within mqtt.session_expiry_s. The figures are printed.
# Skipped where PostgreSQL or nginx is absent.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" "$EDGE" "$SCENE" mosquitto mosquitto_pub python3 curl jq openssl
pg_start
STORE="postgresql://fl@127.0.0.1:$PGPORT/firelane"
SCENARIO=park_leave
PORT=$(free_port)
HPORT=$(free_port)
APORT=$(free_port)
BPORT=$(free_port)
NPORT=$(free_port)
BASE=https://127.0.0.1:$NPORT
scene $SCENARIO
broker_start
subscribe "$WORK/all.txt" 'firelane/#'

webhook_receiver "$HPORT" "$WORK/hooks.jsonl"

for h in a b; do
	[ $h = a ] && wport=$APORT || wport=$BPORT
	cat >"$WORK/hub-$h.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$h-$NAME, shared_group: hubs, keepalive_s: 5, $HUB_AUTH}
http: {listen: "127.0.0.1:$wport", trusted_proxies: [127.0.0.1]}
store: {postgresql: "$STORE"}
evidence_dir: $WORK/ev
hub_key_file: $WORK/hub.key
public_url: $BASE
alerts:
  mqtt: false
  timeout_s: 3
  lease_s: 4
  sites:
    - site: scene-site
      webhooks:
        - {url: "http://127.0.0.1:$HPORT/hook", format: generic}
    - site: site-s
      webhooks:
        - {url: "http://127.0.0.1:$HPORT/hold", format: generic}
EOC
done
edge_config "$WORK/scene/edge.yaml" "$(printf 'evidence:\n  dir: %s\n  pre_roll_s: 4\n  post_roll_s: 3\n' "$WORK/evidence")"
sed -i "s|^device: {id: scene-edge, site: scene-site}|device: {id: scene-edge, site: scene-site, key_file: $WORK/device.key}|" "$WORK/scene/edge.yaml"
"$EDGE" --config "$WORK/scene/edge.yaml" --print-public-key >"$WORK/pk.txt" 2>"$WORK/pk.log" ||
	fail "--print-public-key: $(cat "$WORK/pk.log")"
# within SECONDS WHAT COMMAND: runs COMMAND (eval) every 0.1 s until it
# succeeds; fails naming WHAT when it has not within SECONDS
within() {
	local i
	for i in $(seq $(($1 * 10))); do
		eval "$3" && return 0
		sleep 0.1
	done
	fail "not within $1 s: $2"
}
admin() { "$HUB" --config "$WORK/hub-a.yaml" "$@" >>"$WORK/admin.log" 2>&1 || fail "$*: $(tail -n 3 "$WORK/admin.log")"; }
admin --enrol-device scene-edge --site scene-site --public-key "$WORK/pk.txt"
device_key "$WORK/edge-s.key" >"$WORK/pk-s.txt"
broker_device edge-s
admin --enrol-device edge-s --site site-s --public-key "$WORK/pk-s.txt"
echo 'pw-root' | admin --add-user root --role admin

hub_start "$WORK/hub-a.yaml" "$WORK/hub-a.log" -vv
PID_A=$HUB_PID
hub_start "$WORK/hub-b.yaml" "$WORK/hub-b.log" -vv
PID_B=$HUB_PID
for h in a b; do
	grep -qF 'subscribed to $share/hubs/firelane/+/+/#' "$WORK/hub-$h.log" || fail "hub $h: no shared subscription"
done
nginx_start "$APORT" "$BPORT"
grep -q "server 127.0.0.1:$BPORT" "$WORK/site.conf" || fail "nginx has no upstream of both hubs: $(cat "$WORK/site.conf")"

# (a) the real edge: every message on the wire stored once
edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$WORK/scene/edge.yaml" -v
edge_wait 180
within 120 "a verified, cleared incident on PostgreSQL" \
	'[ "$(pg_sql "SELECT count(*) FROM incidents WHERE status = '"'cleared'"' AND verified = 1")" = 1 ]'
IID=$(pg_sql 'SELECT incident_id FROM incidents')
pg_wire_stored "$WORK/all.txt"
ea=$(grep -c " stored$" "$WORK/hub-a.log" || true)
eb=$(grep -c " stored$" "$WORK/hub-b.log" || true)

# (b) its alerts, each exactly once
hooks() { # KIND: how many posts of that kind for IID
	[ -f "$WORK/hooks.jsonl" ] || { echo 0; return; }
	jq -s --arg i "$IID" --arg k "$1" '[.[] | select(.body.incident_id == $i and .body.type == $k)] | length' \
		"$WORK/hooks.jsonl"
}
within 60 "the alarm and the all-clear posted" '[ "$(hooks alarm)" -ge 1 ] && [ "$(hooks cleared)" -ge 1 ]'
within 60 "the outbox empty" '[ "$(pg_sql "SELECT count(*) FROM alert_jobs WHERE state = '"'outbox'"'")" = 0 ]'
[ "$(hooks alarm)" = 1 ] && [ "$(hooks cleared)" = 1 ] ||
	fail "alerts not once each: alarm $(hooks alarm), cleared $(hooks cleared)"
[ "$(jq -s 'length' "$WORK/hooks.jsonl")" = 2 ] || fail "other posts: $(cat "$WORK/hooks.jsonl")"

# (c) a session through nginx, served by both hubs
through() { # METHOD PATH [BODY]: the status; the answer in WORK/out
	curl -sk -b "$WORK/jar-root" -o "$WORK/out" -w '%{http_code}' --max-time 30 -X "$1" \
		-H "X-CSRF-Token: $TOK" -H 'Content-Type: application/json' \
		${3:+--data-binary "$3"} "$BASE$2" || true
}
# the login throttle is the store's: five wrong passwords from one client,
# spread over both hubs by nginx, hold that client up on either
for i in 1 2 3 4 5; do
	[ "$(web_login_from 127.0.0.3 root "guess$i" -H "Origin: $BASE")" = 401 ] || fail "guess $i: $(cat "$WORK/out")"
done
for h in a b; do
	grep -q 'login failed from 127.0.0.3' "$WORK/hub-$h.log" || fail "nginx sent hub $h none of the guesses"
done
[ "$(web_login_from 127.0.0.3 root pw-root -H "Origin: $BASE")" = 429 ] || fail "the guesser is not held up: $(cat "$WORK/out")"
[ "$(web_login_from 127.0.0.1 root pw-root -H "Origin: $BASE")" = 200 ] || fail "login through nginx: $(cat "$WORK/out")"
TOK=$(jq -r .csrf "$WORK/out")
COOKIE=$(awk '$6 == "fl_session" { print $7 }' "$WORK/jar-root")
[ ${#COOKIE} = 64 ] || fail "no session cookie: $(cat "$WORK/jar-root")"
for i in $(seq 6); do
	[ "$(through GET /api/session)" = 200 ] || fail "request $i of the session through nginx: $(cat "$WORK/out")"
	[ "$(jq -r .csrf "$WORK/out")" = "$TOK" ] || fail "another token on request $i"
done
[ "$(through POST "/api/incidents/$IID/outcome" '{"outcome": "persuaded", "note": "A or B"}')" = 200 ] ||
	fail "outcome through nginx: $(cat "$WORK/out")"
HASH=$(printf '%s' "$COOKIE" | sha256sum | cut -c1-64)
[ "$(pg_sql "SELECT count(*) FROM sessions WHERE id_hash = '$HASH' AND \"user\" = 'root'")" = 1 ] ||
	fail "the session is not in the store by its hash"
[ "$(pg_sql "SELECT count(*) FROM sessions WHERE id_hash = '$COOKIE' OR csrf = '$COOKIE'")" = 0 ] ||
	fail "the session id is stored in clear"

# (d) hub A killed with SIGKILL mid-ingest; nothing lost
N=400
python3 - "$WORK/msgs.txt" "$N" <<'EOP'
import json, sys, time
now, n = time.time(), int(sys.argv[2])
with open(sys.argv[1], "w") as f:
    for k in range(n // 2):
        for seq, typ in ((1, "occupied"), (2, "vacated")):
            f.write(json.dumps({"incident_id": "edge-s-%04d-lane-a-1" % k,
                "seq": seq, "type": typ, "site": "site-s", "device": "edge-s",
                "camera": "cam-1", "lane": "lane-a",
                "unix_time": now + k + seq * 0.5}) + "\n")
EOP
stored() { pg_sql "SELECT count(*) FROM incident_events WHERE incident_id LIKE 'edge-s-%'"; }
a0=$(grep -c " stored$" "$WORK/hub-a.log" || true)
device_pub_lines "$WORK/edge-s.key" edge-s firelane/site-s/edge-s/cam-1/lane-a/incident <"$WORK/msgs.txt" \
	>"$WORK/pub.log" 2>&1 &
PUB=$!
track $PUB
# kill hub A once it is storing this batch, while the rest still flows
within 120 "hub A storing the batch" '[ "$(grep -c " stored$" "$WORK/hub-a.log" || true)" -ge $((a0 + 10)) ]'
kill -KILL "$PID_A"
wait "$PID_A" 2>/dev/null || true
at_kill=$(stored)
[ "$at_kill" -lt "$N" ] || fail "every message was stored before the kill ($at_kill): the kill was not mid-ingest"
wait "$PUB" || fail "mosquitto_pub: $(cat "$WORK/pub.log")"

# the same session through nginx, now on hub B alone
for i in $(seq 4); do
	[ "$(through GET /api/session)" = 200 ] || fail "the session after hub A's SIGKILL (request $i): $(cat "$WORK/out")"
done
[ "$(through POST "/api/incidents/$IID/outcome" '{"outcome": "towed", "note": "B"}')" = 200 ] ||
	fail "a change with the token after hub A's SIGKILL: $(cat "$WORK/out")"

# what hub B stores alone: wait until the count stops moving
last=-1
while :; do
	now=$(stored)
	[ "$now" = "$N" ] && break
	[ "$now" = "$last" ] && break
	last=$now
	sleep 3
done
while_dead=$(stored)
# hub A back with its broker session: whatever waited for it arrives
hub_start "$WORK/hub-a.yaml" "$WORK/hub-a.log" -vv
PID_A=$HUB_PID
within 120 "all $N messages stored after hub A came back ($while_dead while it was dead)" '[ "$(stored)" = "$N" ]'
[ "$(pg_sql "SELECT count(*) FROM incidents WHERE incident_id LIKE 'edge-s-%' AND status = 'vacated'")" = $((N / 2)) ] ||
	fail "incidents: $(pg_sql "SELECT status, count(*) FROM incidents WHERE incident_id LIKE 'edge-s-%' GROUP BY status")"
[ "$(pg_sql "SELECT count(*) FROM (SELECT incident_id, seq FROM incident_events GROUP BY 1, 2 HAVING count(*) > 1) d")" = 0 ] ||
	fail "a message stored twice"
# a restart logs nobody out: both hubs up, the same cookie
for i in $(seq 4); do
	[ "$(through GET /api/session)" = 200 ] || fail "the session after hub A's restart (request $i): $(cat "$WORK/out")"
done
[ "$(pg_sql "SELECT outcome FROM incidents WHERE incident_id = '$IID'")" = towed ] || fail "the outcome"

# (e) the sender of an alert dies mid-send: the other hub sends it after
# the lease, once
HIID=edge-s-hold-lane-a-1
printf '{"incident_id": "%s", "seq": 1, "type": "alarm", "site": "site-s", "device": "edge-s", "camera": "cam-1", "lane": "lane-a", "unix_time": %s}\n' \
	"$HIID" "$(date +%s)" |
	device_pub_lines "$WORK/edge-s.key" edge-s firelane/site-s/edge-s/cam-1/lane-a/incident ||
	fail "mosquitto_pub"
held() { jq -s --arg p "$1" '[.[] | select(.path == "/hold" and (.held == true) == ($p == "held"))] | length' "$WORK/hooks.jsonl"; }
within 30 "the alarm's POST held by the receiver" '[ "$(held held)" = 1 ]'
holder=$(pg_sql "SELECT holder FROM alert_jobs WHERE name = '$HIID.alarm.hook0'")
case $holder in
hub-a-*) victim=$PID_A survivor=$PID_B ;;
hub-b-*) victim=$PID_B survivor=$PID_A ;;
*) fail "the held job's holder: '$holder'" ;;
esac
kill -KILL "$victim"
wait "$victim" 2>/dev/null || true
t_kill=$(date +%s.%N)
within 30 "the alert posted again by the other hub" '[ "$(held answered)" -ge 1 ]'
t_took=$(date +%s.%N)
within 10 "the job recorded sent" '[ "$(pg_sql "SELECT state FROM alert_jobs WHERE name = '"'$HIID.alarm.hook0'"'")" = sent ]'
[ "$(held answered)" = 1 ] && [ "$(held held)" = 1 ] ||
	fail "the held alert: $(held held) held, $(held answered) answered: $(grep /hold "$WORK/hooks.jsonl")"
takeover=$(python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$t_kill" "$t_took")
stop_ok "the surviving hub" "$survivor"
echo "$NAME: edge incident: hub A stored $ea, hub B $eb of $SENT messages; alerts once each"
echo "$NAME: $N messages, hub A killed at $at_kill stored; hub B alone brought it to $while_dead;" \
	"$((N - while_dead)) waited in hub A's broker session until it came back; 0 lost, 0 twice"
echo "$NAME: an alert's sender killed mid-send ($holder): the other hub sent it ${takeover} s later (lease 4 s), answered once"
echo "$NAME: ok"
