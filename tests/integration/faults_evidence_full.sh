#!/usr/bin/env bash
# faults_evidence_full.sh - the evidence folder's disk is full while a real
# edge sends its evidence bundle and 10,002 incident messages flood in:
# no chunk is acknowledged that was not stored, the bundle completes once
# there is room, and every incident message is stored once (docs/hub.md,
# "Degraded mode", "Budgets").
#
# The evidence folder is a 24 MiB tmpfs filled to 512 KiB free, under its
# 1 MiB reserve (evidence_reserve_mb); the store is elsewhere. The hub
# must hold the first chunk (degraded, GET /healthz 503) and the flood
# that comes behind it, and resume when the filler is removed: the bundle then
# verifies, the edge gets its receipt and marks it delivered. Before, the
# chunks that did not fit were quarantined and acknowledged: the bundle
# never completed and the edge never sent it again. Needs root (tmpfs).
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/faults.sh"
need "$HUB" "$EDGE" "$SCENE" mosquitto mosquitto_pub sqlite3 python3 curl
SCENARIO=park_leave
PORT=$(free_port)
scene $SCENARIO
faults_broker
tmpfs_mount "$WORK/ev" 24m
faults_hub_config 256m "$WORK/ev" "evidence_reserve_mb: 1"
edge_evidence_setup
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -v
FREE=$(df --output=avail -k "$WORK/ev" | tail -n 1)
dd if=/dev/zero of="$WORK/ev/filler" bs=1k count=$((FREE - 512)) status=none 2>/dev/null || true

edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$WORK/scene/edge.yaml" -v
flood_lines "$WORK/flood.txt" evf
wait_for "$WORK/hub.log" "degraded: cannot store.*evidence" 300 ||
	fail "no evidence chunk was held for the full disk"
DEGRADED=$(healthz)
# the flood behind the held chunk: it waits at the broker
flood_pub "$WORK/flood.txt"
flood_pub_wait 120
sleep 2
echo "$NAME: evidence disk full: $(stored evf) incident messages of the flood stored meanwhile"
rm "$WORK/ev/filler"
wait_stored evf $((FLOOD_N * 3)) || true
count_check evf "$FLOOD_N"
wait_for "$WORK/hub.log" "receipt sent \\(verified\\)" 120 ||
	fail "the bundle did not complete once there was room"
IID=$(q "select incident_id from incidents where device = 'scene-edge' and verified = 1")
[ -n "$IID" ] || fail "no verified bundle of the edge"
for _ in $(seq 300); do [ -f "$WORK/evidence/$IID/.delivered" ] && break; sleep 0.1; done
[ -f "$WORK/evidence/$IID/.delivered" ] || fail "the edge did not mark $IID delivered"
[ "$DEGRADED" = 503 ] || fail "GET /healthz answered $DEGRADED while the evidence disk was full"
[ "$(q "select count(*) from quarantine")" = 0 ] || fail "quarantined: $(q "select reason from quarantine limit 3")"
edge_wait 180
hub_stop
echo "$NAME: ok"
