#!/usr/bin/env bash
# hub_shared.sh - two firelane-hub workers sharing the fleet through an MQTT
# shared subscription (mqtt.shared_group: $share/<group>/firelane/+/+/#) on
# one broker, one SQLite store and one evidence folder (SPEC 6, scaled down).
#
# 60 incident messages (30 incidents x 2 steps, occupied then vacated) are
# published, then all of them again. Checks: every (incident_id, seq) is
# stored exactly once, both workers stored some (the broker split the load),
# the second copies were recognised as duplicates, and both workers stop
# cleanly on SIGTERM.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
NAME=hub_shared
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fl-$NAME.XXXXXX")
. "$(dirname "$0")/lib/mqtt.sh"
HUB=$BUILD/firelane-hub
if [ ! -x "$HUB" ]; then
	echo "$NAME: skipped: $HUB not built"
	OK=1
	exit 0
fi
for c in mosquitto_pub sqlite3 python3; do
	command -v "$c" >/dev/null || fail "$c not installed (scripts/deps.sh)"
done
PORT=$(free_port)
broker_start
for w in 1 2; do
	cat >"$WORK/hub$w.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-worker-$w, shared_group: hubs, keepalive_s: 5}
store: {sqlite: $WORK/hub.db}
evidence_dir: $WORK/ev
alerts: {mqtt: false}
EOC
done
echo 'O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=' >"$WORK/pk.txt"
"$HUB" --config "$WORK/hub1.yaml" --enrol-device edge-s --site site-s \
	--public-key "$WORK/pk.txt" >"$WORK/admin.log" 2>&1 || fail "--enrol-device"
PIDW=()
for w in 1 2; do
	"$HUB" --config "$WORK/hub$w.yaml" -vv >"$WORK/hub$w.log" 2>&1 &
	PIDW+=($!)
	PIDS+=($!)
done
for w in 1 2; do
	wait_for "$WORK/hub$w.log" "subscribed to \\\$share/hubs/firelane/\\+/\\+/#" 10 || fail "worker $w: no shared subscription"
	wait_for "$WORK/hub$w.log" "mqtt: connected" 20 || fail "worker $w did not connect"
done
sleep 0.5

python3 - "$WORK/msgs.txt" <<'EOP'
import json, sys, time
now = time.time()
with open(sys.argv[1], "w") as f:
    for n in range(30):
        for seq, typ in ((1, "occupied"), (2, "vacated")):
            f.write(json.dumps({"incident_id": "edge-s-%04d-lane-a-1" % n,
                "seq": seq, "type": typ, "site": "site-s", "device": "edge-s",
                "camera": "cam-1", "lane": "lane-a",
                "unix_time": now + n + seq * 0.5}) + "\n")
EOP
TOPIC=firelane/site-s/edge-s/cam-1/lane-a/incident
for round in 1 2; do
	mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t "$TOPIC" -l <"$WORK/msgs.txt" ||
		fail "mosquitto_pub"
done
q() { sqlite3 "$WORK/hub.db" "$1"; }
for _ in $(seq 100); do
	d=$(cat "$WORK"/hub*.log | grep -c "duplicate, ignored" || true)
	[ "$(q "select count(*) from incident_events")" = 60 ] && [ "$d" -ge 60 ] && break
	sleep 0.1
done
[ "$(q "select count(*) from incident_events")" = 60 ] || fail "stored $(q "select count(*) from incident_events") of 60 messages"
[ "$(q "select count(*) from incidents where status = 'vacated'")" = 30 ] || fail "incidents: $(q "select status, count(*) from incidents group by status")"
s1=$(grep -c " stored$" "$WORK/hub1.log" || true)
s2=$(grep -c " stored$" "$WORK/hub2.log" || true)
[ "$s1" -gt 0 ] && [ "$s2" -gt 0 ] || fail "the load was not shared: worker 1 stored $s1, worker 2 $s2"
[ $((s1 + s2)) = 60 ] || fail "stored $s1 + $s2, expected 60"
d=$(cat "$WORK"/hub*.log | grep -c "duplicate, ignored" || true)
[ "$d" = 60 ] || fail "$d duplicates recognised, expected 60"
for p in "${PIDW[@]}"; do kill -TERM "$p"; done
for p in "${PIDW[@]}"; do wait "$p" || fail "worker exit status $?"; done
echo "$NAME: worker 1 stored $s1, worker 2 stored $s2, $d duplicates"
OK=1
echo "$NAME: ok"
