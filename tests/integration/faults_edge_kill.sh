#!/usr/bin/env bash
# faults_edge_kill.sh - the edge's publisher killed with SIGKILL while it
# delivers a flood of 10,002 spooled incident messages (about 500 delivered),
# then started again on the same spool: every message spooled is stored
# once (count_check).
#
# The spool is the edge's only persistence (src/mqtt/spool.c): a message
# leaves it only on the broker's PUBACK, so the new process sends what the
# dead one had not seen acknowledged - some twice, which the hub
# recognises. Needs root (the tmpfs for the store and the spool).
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/faults.sh"
need "$HUB" "$FLOOD" mosquitto sqlite3 python3 curl
PORT=$(free_port)
faults_broker
faults_hub_config 256m "$WORK/ev"
edge_flood_config "$WORK/edge.yaml"
hub_start "$WORK/hub.yaml" "$WORK/hub.log"
# the whole flood in the spool first (the broker away), then the broker
# back and the edge killed while it delivers
broker_stop
flood_start ekill
wait_for "$WORK/flood.log" "spooled $((FLOOD_N * 3)) messages" 120 ||
	fail "firelane-flood did not spool the flood: $(tail -n 3 "$WORK/flood.log")"
faults_broker
for _ in $(seq 600); do
	[ "$(ls "$SPOOL" | grep -c '\.msg$')" -lt $((FLOOD_N * 3 - 500)) ] && break
	sleep 0.01
done
kill -9 "$FLOOD_PID"
wait "$FLOOD_PID" 2>/dev/null || true
LEFT=$(ls "$SPOOL" | grep -c '\.msg$' || true)
echo "$NAME: edge killed with $LEFT of its messages still in its spool"
flood_start ekill --deliver-only
flood_wait
wait_stored ekill $((FLOOD_N * 3)) || true
count_check ekill "$FLOOD_N"
hub_stop
echo "$NAME: ok"
