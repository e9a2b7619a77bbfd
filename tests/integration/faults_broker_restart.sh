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
# the broker sees it connect once per start of the broker or the hub (or
# more), alerts are acknowledged after the last one, and in the end every
# one of them, also those the hub held when it was stopped (SIGTERM) and
# started again in the flood.
# Needs root (the tmpfs for the store and the spool). Env: FL_BUILD_DIR,
# FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/faults.sh"
need "$HUB" "$FLOOD" mosquitto sqlite3 python3 curl
PORT=$(free_port)
faults_broker
FAULTS_ALERTS=true FAULTS_ALERTS_MORE=", lease_s: 600" faults_hub_config 256m "$WORK/ev"
edge_flood_config "$WORK/edge.yaml"
hub_start "$WORK/hub.yaml" "$WORK/hub.log"
flood_start restart
for at in 1000 4000; do
	wait_stored restart $at || fail "the flood does not arrive: $(stored restart) stored"
	broker_stop
	echo "$NAME: broker stopped after $(stored restart) messages"
	sleep 1
	faults_broker
	restarted=$(date +%s.%N)
done
# the hub stopped (SIGTERM) with MQTT alerts in flight and started again:
# its alerts' thread disconnects after ingest's (main.c, Paho's mutex),
# it exits 0, and what it held is sent after (checked below)
wait_stored restart 6000 || fail "the flood stops: $(stored restart) stored"
echo "$NAME: hub stopped with $(q "select count(*) from alert_jobs where mqtt = 1 and holder is not null and state = 'outbox'") MQTT alerts claimed"
hub_stop
hub_start "$WORK/hub.yaml" "$WORK/hub.log"
flood_wait
wait_stored restart $((FLOOD_N * 3)) || true
count_check restart "$FLOOD_N"
# the alerts' connection is back: MQTT alerts acknowledged after the last
# restart
acked_since() {
	q "select count(*) from alert_jobs where mqtt = 1 and state = 'sent' and done > $restarted"
}
for _ in $(seq 300); do
	[ "$(acked_since)" -ge 20 ] && break
	sleep 0.2
done
[ "$(acked_since)" -ge 20 ] ||
	fail "$(acked_since) MQTT alerts acknowledged since the last restart, not 20 or more"
# and every MQTT alert job of the flood (over 6,600: an alarm and an
# all-clear per incident) is acknowledged in the end, none left in the outbox or
# claimed: a publish the restarts cut off is given back and sent again.
# The bound is not the point (they come within a second or two of the
# flood's end: the alerts' thread fills each place a PUBACK frees,
# src/hub/alerts.c, "Threads and handles"), but it is far below the
# claims' lease (600 s here), so a claim left behind fails here rather
# than running out and being taken again
open_jobs() {
	q "select count(*) from alert_jobs where mqtt = 1 and state <> 'sent'"
}
for _ in $(seq 225); do
	[ "$(open_jobs)" = 0 ] && break
	sleep 0.2
done
[ "$(open_jobs)" = 0 ] ||
	fail "$(open_jobs) MQTT alerts not acknowledged 45 s after the flood: $(q "select state, holder <> '', count(*) from alert_jobs where mqtt = 1 group by 1, 2" | paste -sd ' ')"
[ "$(grep -c " as hub-faults-alerts " "$BROKER_LOG")" -ge 4 ] ||
	fail "the alerts' connection connected $(grep -c " as hub-faults-alerts " "$BROKER_LOG") times, not 4 or more"
hub_stop
echo "$NAME: ok (the hub replaced Paho's client $(grep -c "Paho's client is left behind" "$WORK/hub.log" || true) times)"
