#!/usr/bin/env bash
# fleet_sim.sh - firelane-fleetsim's devices against a real mosquitto (with
# passwords and the ACL) and a real firelane-hub on SQLite (docs/fleetsim.md).
#
# FLEET devices (default 50), enrolled from fleetsim's --enrol list, each
# with its own broker account, publish signed statuses, heartbeats, lane
# states and incidents. Checks, each by waiting for a condition (no timing
# is asserted):
#   - every device is online in the store and in GET /api/devices, and its
#     signed heartbeat is stored (none is sent before a first connection:
#     it would have no epoch, and the hub would quarantine it);
#   - after SIGUSR1 (every device dropped without DISCONNECT, back within
#     3 s: a reconnect storm) every device is online again with a newer
#     epoch, and fleetsim reports the fleet settled again;
#   - after SIGTERM every device is "stopped", and the store holds each
#     incident fleetsim says it made exactly once with its three messages
#     (nothing lost, nothing duplicated), fleetsim's acknowledged incident
#     messages equal what it sent and nothing is left unacknowledged, and
#     nothing was quarantined (the signatures verify against the enrolled
#     keys).
# Env: FL_BUILD_DIR, FL_SOURCE_DIR; FLEET (devices).
set -eu
. "$(dirname "$0")/lib/harness.sh"
SIM=$BUILD/firelane-fleetsim
need "$HUB" "$SIM" mosquitto mosquitto_passwd sqlite3 curl jq
N=${FLEET:-50}
PORT=$(free_port)
HTTP=$(free_port)
BASE=http://127.0.0.1:$HTTP

"$SIM" --enrol "$WORK/fleet.txt" --devices "$N" --site fleet-site ||
	fail "--enrol"
[ "$(wc -l <"$WORK/fleet.txt")" = "$N" ] || fail "--enrol wrote $(wc -l <"$WORK/fleet.txt") lines"
# the accounts go into the broker's first password file
: >"$WORK/broker.passwd"
# shellcheck disable=SC2046
broker_device $(cut -d' ' -f1 "$WORK/fleet.txt")
broker_start

cat >"$WORK/hub.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$NAME, $HUB_AUTH}
http: {listen: "127.0.0.1:$HTTP"}
store: {sqlite: $WORK/hub.db}
evidence_dir: $WORK/evidence
EOC
while read -r dev site pk; do
	echo "$pk" >"$WORK/pk.txt"
	"$HUB" --config "$WORK/hub.yaml" --enrol-device "$dev" --site "$site" \
		--public-key "$WORK/pk.txt" >>"$WORK/admin.log" 2>&1 ||
		fail "--enrol-device $dev: $(tail -n 3 "$WORK/admin.log")"
done <"$WORK/fleet.txt"
echo 'pw-of-admin' | "$HUB" --config "$WORK/hub.yaml" --add-user admin --role admin \
	>>"$WORK/admin.log" 2>&1 || fail "--add-user"
hub_start "$WORK/hub.yaml"

# 4 incidents per device, about one every 2 s each; heartbeats every 2 s;
# 10 connections a second, so heartbeats fall due before a device first
# connects (it must not send one without an epoch)
"$SIM" --port "$PORT" --devices "$N" --site fleet-site --heartbeat-s 2 --connect-rate 10 \
	--incidents-per-hour 1800 --incidents 4 --burst 3 --drain-s 120 \
	>"$WORK/summary.json" 2>"$WORK/fleetsim.log" &
SIM_PID=$!
track $SIM_PID

# online_since EPOCH: devices online with a status epoch above EPOCH
online_since() {
	q "select count(*) from devices where status = 'online' and status_epoch > $1"
}
for _ in $(seq 1200); do
	[ "$(online_since 0)" = "$N" ] && break
	sleep 0.1
done
[ "$(online_since 0)" = "$N" ] || fail "$(online_since 0) of $N devices online: $(tail -n 5 "$WORK/fleetsim.log")"
csrf=$(web_login admin pw-of-admin)
[ "$(web_as admin "$csrf" GET /api/devices)" = 200 ] || fail "GET /api/devices"
[ "$(jq '[.devices[] | select(.status == "online")] | length' "$WORK/out")" = "$N" ] ||
	fail "the fleet API does not show $N online: $(head -c 300 "$WORK/out")"
for _ in $(seq 1200); do
	[ "$(q "select count(*) from devices where heartbeat is not null")" = "$N" ] && break
	sleep 0.1
done
[ "$(q "select count(*) from devices where heartbeat is not null")" = "$N" ] ||
	fail "$(q "select count(*) from devices where heartbeat is not null") of $N devices sent a heartbeat"
wait_for "$WORK/fleetsim.log" 'settled after' 120 || fail "fleetsim never settled: $(tail -n 5 "$WORK/fleetsim.log")"

# the reconnect storm: all dropped (the broker sends their wills), back
# within 3 s with new epochs
before=$(q "select max(status_epoch) from devices")
kill -USR1 $SIM_PID
wait_for "$WORK/fleetsim.log" 'dropped' 30 || fail "fleetsim did not drop its devices"
for _ in $(seq 1200); do
	[ "$(online_since "$before")" = "$N" ] && break
	sleep 0.1
done
[ "$(online_since "$before")" = "$N" ] ||
	fail "after the storm $(online_since "$before") of $N devices online again"
for _ in $(seq 1200); do
	[ "$(grep -c 'settled after' "$WORK/fleetsim.log")" -ge 2 ] && break
	sleep 0.1
done
[ "$(grep -c 'settled after' "$WORK/fleetsim.log")" -ge 2 ] || fail "fleetsim did not settle after the storm"

# the end: every incident made, delivered, stored once
for _ in $(seq 1200); do
	[ "$(q "select count(*) from incidents")" = $((N * 4)) ] && break
	sleep 0.1
done
kill -TERM $SIM_PID
rc=0
wait $SIM_PID || rc=$?
[ "$rc" = 0 ] || fail "fleetsim exited $rc: $(cat "$WORK/summary.json") $(tail -n 5 "$WORK/fleetsim.log")"
S=$WORK/summary.json
made=$(jq .incidents "$S")
[ "$made" = $((N * 4)) ] || fail "fleetsim made $made incidents, not $((N * 4))"
[ "$(jq .sent.incident "$S")" = $((made * 3)) ] || fail "sent: $(cat "$S")"
[ "$(jq .acked.incident "$S")" = $((made * 3)) ] || fail "acked: $(cat "$S")"
[ "$(jq .unacked "$S")" = 0 ] || fail "unacknowledged: $(cat "$S")"
[ "$(jq .drops "$S")" = "$N" ] || fail "drops: $(cat "$S")"
for _ in $(seq 600); do
	[ "$(q "select count(*) from incident_events")" -ge $((made * 3)) ] &&
		[ "$(q "select count(*) from devices where status = 'stopped'")" = "$N" ] && break
	sleep 0.1
done
[ "$(q "select count(*) from incidents")" = "$made" ] ||
	fail "$(q "select count(*) from incidents") incidents stored, fleetsim made $made"
[ "$(q "select count(*) from incident_events")" = $((made * 3)) ] ||
	fail "$(q "select count(*) from incident_events") incident messages stored, $((made * 3)) sent"
[ "$(q "select count(*) from incidents where status = 'cleared' and last_seq = 3")" = "$made" ] ||
	fail "not every incident cleared with seq 3: $(q "select status, last_seq, count(*) from incidents group by 1, 2")"
[ "$(q "select count(*) from devices where status = 'stopped'")" = "$N" ] ||
	fail "not every device stopped: $(q "select status, count(*) from devices group by 1")"
[ "$(q "select count(*) from quarantine")" = 0 ] ||
	fail "quarantined: $(q "select reason from quarantine limit 3")"
hub_stop
echo "ok: $N devices, $made incidents stored once, a reconnect storm settled: $(cat "$S")"
