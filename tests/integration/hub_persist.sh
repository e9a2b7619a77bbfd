#!/usr/bin/env bash
# hub_persist.sh - nothing is lost between the broker and the hub's store:
# the hub's persistent session (clean start off, session expiry) and its
# acknowledgement after the store commit (src/mqtt/client.c, "A note on
# acknowledgement").
#
# A real mosquitto, the real firelane-hub with SQLite, mosquitto_pub as an
# enrolled device (its account, its messages signed with its key). Checks:
#   (a) messages published while the hub is stopped (SIGTERM) are all stored
#       after it starts again (the broker queued them for its session);
#   (b) 500 incident messages streamed at QoS 1 while the hub is killed with
#       SIGKILL in the middle (after it stored some, before it stored all):
#       after a restart every one of the 500 is stored, exactly once
#       ((incident_id, seq) is unique; a message the dead hub had stored but
#       not yet acknowledged comes again and is recognised as a duplicate).
# With the old clean-start connection (b) fails: what arrives while the hub
# is dead is dropped by the broker.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" mosquitto mosquitto_pub sqlite3 python3
PORT=$(free_port)
broker_start
cat >"$WORK/hub.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-persist, keepalive_s: 5, $HUB_AUTH}
store: {sqlite: $WORK/hub.db}
evidence_dir: $WORK/ev
alerts: {mqtt: false}
EOC
device_key "$WORK/edge-p.key" >"$WORK/pk.txt"
broker_device edge-p
"$HUB" --config "$WORK/hub.yaml" --enrol-device edge-p --site site-p \
	--public-key "$WORK/pk.txt" >"$WORK/admin.log" 2>&1 || fail "--enrol-device"

RUN=0
# hub_run: a new hub process, until it is subscribed.
hub_run() {
	RUN=$((RUN + 1))
	hub_start "$WORK/hub.yaml" "$WORK/hub$RUN.log" -vv
}
# count PREFIX: incident messages stored whose incident id starts so
count() { q "select count(*) from incident_events where incident_id like '$1%'"; }
# messages FILE PREFIX N: N incident messages (seq 1, occupied)
messages() {
	python3 - "$1" "$2" "$3" <<'EOP'
import json, sys, time
now = time.time()
with open(sys.argv[1], "w") as f:
    for n in range(int(sys.argv[3])):
        f.write(json.dumps({"incident_id": "%s%04d-lane-a-1" % (sys.argv[2], n),
            "seq": 1, "type": "occupied", "site": "site-p", "device": "edge-p",
            "camera": "cam-1", "lane": "lane-a",
            "unix_time": now + n}) + "\n")
EOP
}
TOPIC=firelane/site-p/edge-p/cam-1/lane-a/incident

# (a) published while the hub is stopped
hub_run
hub_stop
messages "$WORK/a.txt" edge-p-a 20
device_pub_lines "$WORK/edge-p.key" edge-p "$TOPIC" <"$WORK/a.txt" ||
	fail "mosquitto_pub"
hub_run
for _ in $(seq 300); do
	[ "$(count edge-p-a)" = 20 ] && break
	sleep 0.1
done
[ "$(count edge-p-a)" = 20 ] ||
	fail "(a) stored $(count edge-p-a) of the 20 messages published while the hub was stopped"
echo "$NAME: (a) 20 of 20 published while stopped are stored"

# (b) SIGKILL while 500 messages stream in
messages "$WORK/b.txt" edge-p-b 500
# a line every few ms: the stream outlasts the kill and the restart
python3 - "$WORK/b.txt" <<'EOP' | device_pub_lines "$WORK/edge-p.key" edge-p "$TOPIC" \
	>"$WORK/pub.log" 2>&1 &
import sys, time
for line in open(sys.argv[1]):
    sys.stdout.write(line)
    sys.stdout.flush()
    time.sleep(0.004)
EOP
PUB_PID=$!
track $PUB_PID
for _ in $(seq 600); do
	[ "$(count edge-p-b)" -ge 50 ] && break
	sleep 0.05
done
kill -9 "$HUB_PID"
wait "$HUB_PID" 2>/dev/null || true
at_kill=$(count edge-p-b)
[ "$at_kill" -ge 1 ] && [ "$at_kill" -lt 500 ] ||
	fail "(b) the kill did not fall inside the stream ($at_kill of 500 stored)"
wait "$PUB_PID" || fail "mosquitto_pub exit status $?"
after_pub=$(count edge-p-b)
hub_run
for _ in $(seq 600); do
	[ "$(count edge-p-b)" = 500 ] && break
	sleep 0.1
done
n=$(count edge-p-b)
[ "$n" = 500 ] || fail "(b) stored $n of 500 after the restart (killed at $at_kill, $after_pub when the publisher ended)"
distinct=$(q "select count(distinct incident_id) from incident_events where incident_id like 'edge-p-b%'")
[ "$distinct" = 500 ] || fail "(b) $distinct distinct incidents of 500"
inc=$(q "select count(*) from incidents where incident_id like 'edge-p-b%' and status = 'occupied'")
[ "$inc" = 500 ] || fail "(b) $inc incidents of 500"
dups=$(grep -c "duplicate, ignored" "$WORK/hub$RUN.log" || true)
hub_stop
echo "$NAME: (b) killed at $at_kill of 500 stored ($after_pub when the publisher ended); after the restart 500 of 500 stored once, $dups redelivered duplicates recognised"
echo "$NAME: ok"
