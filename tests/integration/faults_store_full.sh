#!/usr/bin/env bash
# faults_store_full.sh - the store's disk fills up under a flood: nothing is
# acknowledged that was not stored (docs/hub.md, "Degraded mode").
#
# The hub's database lives on a small tmpfs (6 MiB) that 10,002 incident
# messages cannot fit in. While it is full the hub must not acknowledge a
# message it could not commit: it is degraded (GET /healthz 503, the log),
# the message stays unacknowledged and the rest wait at the broker; GET
# /metrics says firelane_hub_degraded 1 and counts the held offers. The
# tmpfs is then grown (remount, size=256m) while the hub runs: it resumes
# by itself, and every message sent is stored once (count_check).
# Before the hub held such messages it quarantined or dropped them and
# acknowledged them anyway: thousands lost.
# Needs root (mount); skips otherwise. Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/faults.sh"
need "$HUB" mosquitto mosquitto_pub sqlite3 python3 curl
PORT=$(free_port)
faults_broker
faults_hub_config 6m "$WORK/ev"
hub_start "$WORK/hub.yaml" "$WORK/hub.log"
flood_lines "$WORK/flood.txt" full
flood_pub "$WORK/flood.txt"

flood_pub_wait 120
# the disk is full: the count stands still (the hub takes nothing more)
LAST=$(wait_still full)
[ "$LAST" -lt $((FLOOD_N * 3)) ] || fail "the store never filled up"
echo "$NAME: disk full after $LAST messages"
DEGRADED=$(healthz)
curl -s --max-time 10 -o "$WORK/metrics.txt" "http://127.0.0.1:$HTTP_PORT/metrics" ||
	fail "GET /metrics while degraded"
grep -qx 'firelane_hub_degraded 1' "$WORK/metrics.txt" ||
	fail "/metrics while degraded: $(grep degraded "$WORK/metrics.txt")"
HELD=$(awk '$1 == "firelane_hub_messages_held_total" { print $2 }' "$WORK/metrics.txt")
[ "${HELD:-0}" -gt 0 ] || fail "/metrics while degraded: held ${HELD:-missing}"

mount -o remount,size=256m "$WORK/store" || fail "cannot grow the tmpfs"
wait_stored full $((FLOOD_N * 3)) || true
count_check full "$FLOOD_N"
# and it said so while it lasted
[ "$DEGRADED" = 503 ] || fail "GET /healthz answered $DEGRADED while degraded, not 503"
grep -q "degraded: cannot store" "$WORK/hub.log" || fail "no 'degraded' in the log"
grep -q "ingesting again after" "$WORK/hub.log" || fail "no recovery in the log"
wait_health 200 30 || fail "GET /healthz: $(healthz) after the recovery, not 200"
curl -s --max-time 10 "http://127.0.0.1:$HTTP_PORT/metrics" | grep -qx 'firelane_hub_degraded 0' ||
	fail "/metrics after the recovery: still degraded"
hub_stop
echo "$NAME: ok"
