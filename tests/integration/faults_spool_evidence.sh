#!/usr/bin/env bash
# faults_spool_evidence.sh - the edge's spool turns read-only while a real
# edge has an incident and its evidence to send: the evidence transfer
# pauses and resumes, the incident's messages are held, and the hub ends
# with the bundle verified (docs/hub.md, "Tests").
#
# The real edge runs the park_leave scene live with evidence on, its spool
# on a tmpfs remounted read-only from the alarm until the edge says the
# transfer paused, then writable again. The log must name the spool's real
# failure (EROFS), never "cannot read" for a file that exists. Before, a
# chunk refused for anything but "full" abandoned the transfer with
# "cannot read ... (No such file or directory)" and the incident's
# messages were lost: the bundle never reached the hub. Needs root
# (tmpfs). Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/faults.sh"
need "$HUB" "$EDGE" "$SCENE" mosquitto sqlite3 python3 curl
SCENARIO=park_leave
PORT=$(free_port)
scene $SCENARIO
faults_broker
faults_hub_config 256m "$WORK/ev"
tmpfs_mount "$WORK/spool" 64m
edge_evidence_setup
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -v
edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$WORK/scene/edge.yaml" -v
wait_for "$WORK/events.jsonl" '"type":"alarm"' 120 || fail "no alarm"
mount -o remount,ro "$WORK/spool" || fail "cannot remount the spool read-only"
wait_for "$WORK/edge.log" "the transfer pauses" 120 ||
	fail "the evidence transfer did not pause on the read-only spool"
sleep 2
mount -o remount,rw "$WORK/spool" || fail "cannot remount the spool writable"
wait_for "$WORK/hub.log" "receipt sent \\(verified\\)" 120 ||
	fail "the bundle did not reach the hub verified"
grep -q "Read-only file system" "$WORK/edge.log" || fail "the edge's log does not name the read-only spool"
! grep -q "cannot read" "$WORK/edge.log" || fail "the edge says it cannot read: $(grep "cannot read" "$WORK/edge.log" | head -n 1)"
edge_wait 180
# every message of the incident, the held ones included
types() { q "select group_concat(type, ',') from (select type from incident_events where incident_id like 'scene-edge-%' order by incident_id, seq)"; }
for _ in $(seq 100); do
	[ "$(types)" = "occupied,alarm,evidence,cleared" ] && break
	sleep 0.2
done
[ "$(types)" = "occupied,alarm,evidence,cleared" ] || fail "incident messages stored: $(types)"
hub_stop
echo "$NAME: ok"
