#!/usr/bin/env bash
# faults_hub_kill.sh - the hub killed with SIGKILL in the middle of a flood
# of 10,002 incident messages from the edge's publisher (firelane-flood),
# with MQTT alerts on, and started again: every message sent is stored once
# (count_check), every incident has its alarm and all-clear alert jobs.
#
# What makes it hold (docs/hub.md, "Ingest"): the hub acknowledges a
# message only after its commit, its session is persistent, so what the
# dead hub had not acknowledged comes again and a message it had stored
# is recognised as a duplicate. Needs root (the tmpfs for the store and
# the spool). Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/faults.sh"
need "$HUB" "$FLOOD" mosquitto sqlite3 python3 curl
PORT=$(free_port)
faults_broker
FAULTS_ALERTS=true faults_hub_config 256m "$WORK/ev"
edge_flood_config "$WORK/edge.yaml"
hub_start "$WORK/hub.yaml" "$WORK/hub1.log"
flood_start kill
wait_stored kill 2000 || fail "the flood does not arrive: $(stored kill) stored"
kill -9 "$HUB_PID"
wait "$HUB_PID" 2>/dev/null || true
echo "$NAME: hub killed after $(stored kill) messages"
flood_wait
hub_start "$WORK/hub.yaml" "$WORK/hub2.log"
wait_stored kill $((FLOOD_N * 3)) || true
count_check kill "$FLOOD_N"
# the alerts: every incident has its alarm job and its all-clear job, made
# once (whatever each is now: to send, being sent, sent; names are unique)
jobs() {
	q "select count(*) from alert_jobs where kind = '$1' and name like '$DEVICE-kill-%.mqtt'"
}
[ "$(jobs alarm)" = "$FLOOD_N" ] && [ "$(jobs cleared)" = "$FLOOD_N" ] ||
	fail "alert jobs: $(jobs alarm) alarms, $(jobs cleared) all-clears for $FLOOD_N incidents"
hub_stop
echo "$NAME: ok"
