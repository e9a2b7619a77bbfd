#!/usr/bin/env bash
# hub_memory.sh - max_payload bounds the hub's memory, not only what it
# parses: three 32 MB messages on a device's incident topic (mosquitto's
# own limit is 256 MB) must not raise the hub's peak resident size (VmHWM)
# by the size of one of them. Before, the hub's MQTT client received each
# whole (Paho's buffer) and copied it before ingest refused it, and the
# peak grew by more than 64 MB. Now the hub announces its Maximum Packet
# Size in its MQTT 5 CONNECT, so the broker does not send it a larger
# message, and one that still arrives is refused before it is copied: a
# message of 300,000 bytes (over max_payload, within the packet size) is
# quarantined by its size, and a small message after the large ones is
# still handled (nothing is stuck in the broker's queue for the hub).
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" mosquitto mosquitto_pub sqlite3
MB=32
broker_start
broker_device cam-x
cat >"$WORK/hub.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$NAME, keepalive_s: 5, $HUB_AUTH}
store: {sqlite: $WORK/hub.db}
evidence_dir: $WORK/ev
alerts: {mqtt: false}
EOC
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -v
TOPIC=firelane/site-a/cam-x/cam-1/lane-a/incident
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$HUB_PID/status"; }
pub() { # FILE
	mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -u cam-x -P "$(broker_pw cam-x)" \
		-t "$TOPIC" -f "$1" 2>>"$WORK/pub.log" ||
		fail "mosquitto_pub: $(tail -n 3 "$WORK/pub.log")"
}
quarantined() { # REASON COUNT
	local i
	for i in $(seq 300); do
		[ "$(q "select count(*) from quarantine where reason like '%$1%'")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# a message over max_payload but within the packet size still arrives: it
# is quarantined by its size
head -c 300000 /dev/zero | tr '\0' 'x' >"$WORK/over.bin"
pub "$WORK/over.bin"
quarantined 'payload of 300000 bytes exceeds max_payload' 1 ||
	fail "300000 bytes not quarantined: $(q "select reason from quarantine")"
[ "$(q "select ifnull(length(payload), 0) from quarantine")" = 0 ] || fail "an oversized payload was copied into the quarantine"
before=$(hwm)
head -c $((MB * 1024 * 1024)) /dev/zero >"$WORK/big.bin"
for i in 1 2 3; do pub "$WORK/big.bin"; done
rm -f "$WORK/big.bin"
printf 'not json' >"$WORK/small.bin"
pub "$WORK/small.bin"
quarantined 'device cam-x is not enrolled' 1 || fail "the message after the large ones was not handled: $(q "select reason from quarantine")"
kill -0 "$HUB_PID" 2>/dev/null || fail "the hub died"
after=$(hwm)
grow=$(((after - before) / 1024))
echo "$NAME: VmHWM $((before / 1024)) MB before, $((after / 1024)) MB after three ${MB} MB messages"
[ "$grow" -lt $((MB / 2)) ] || fail "the hub's peak memory grew by $grow MB for ${MB} MB messages it refuses"
hub_stop
echo "$NAME: ok"
