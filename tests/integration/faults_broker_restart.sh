#!/usr/bin/env bash
# faults_broker_restart.sh - the broker restarted twice in the middle of a
# flood of 10,002 incident messages from the edge's publisher
# (firelane-flood): every message sent is stored once (count_check).
#
# Both sides reconnect by themselves: the edge resends from its oldest
# unacknowledged spooled message (src/mqtt/client.c, "A note on
# delivery"), the broker keeps the hub's session and its queue in its
# persistent database, and the hub recognises what comes twice. The hub
# publishes its MQTT alerts meanwhile: a publish whose write fails as the
# broker goes leaves Paho's client broken, and the client is replaced
# (src/mqtt/client.c, "A note on a fault in Paho"; before that, ASan saw
# a use after free in about one run in ten under load). The alerts go out
# on the hub's second connection, <client_id>-alerts (docs/hub.md, "The
# alerts' own connection"), which must come back after each restart too:
# the broker sees it connect once per start (or more), and in the end every MQTT alert
# job is acknowledged. Needs root (the tmpfs for the store and the spool).
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/faults.sh"
need "$HUB" "$FLOOD" mosquitto sqlite3 python3 curl
PORT=$(free_port)
faults_broker
FAULTS_ALERTS=true faults_hub_config 256m "$WORK/ev"
edge_flood_config "$WORK/edge.yaml"
hub_start "$WORK/hub.yaml" "$WORK/hub.log"
flood_start restart
for at in 1000 4000; do
	wait_stored restart $at || fail "the flood does not arrive: $(stored restart) stored"
	broker_stop
	echo "$NAME: broker stopped after $(stored restart) messages"
	sleep 1
	faults_broker
done
flood_wait
wait_stored restart $((FLOOD_N * 3)) || true
count_check restart "$FLOOD_N"
# alerts_open: MQTT alert jobs not yet acknowledged by the broker
alerts_open() {
	q "select count(*) from alert_jobs where mqtt = 1 and state <> 'sent'"
}
for _ in $(seq 600); do
	[ "$(alerts_open)" = 0 ] && break
	sleep 0.2
done
[ "$(alerts_open)" = 0 ] ||
	fail "$(alerts_open) MQTT alerts not acknowledged after the restarts"
[ "$(q "select count(*) from alert_jobs where mqtt = 1")" = $((FLOOD_N * 2)) ] ||
	fail "$(q "select count(*) from alert_jobs where mqtt = 1") MQTT alert jobs, not $((FLOOD_N * 2))"
[ "$(grep -c " as hub-faults-alerts " "$BROKER_LOG")" -ge 3 ] ||
	fail "the alerts' connection connected $(grep -c " as hub-faults-alerts " "$BROKER_LOG") times, not 3 or more"
hub_stop
echo "$NAME: ok (the hub replaced Paho's client $(grep -c "Paho's client is left behind" "$WORK/hub.log" || true) times)"
