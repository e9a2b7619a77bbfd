#!/usr/bin/env bash
# faults_spool_readonly.sh - the edge's spool turns read-only (an SD card
# that fails read-only) while it spools a flood of 10,002 incident
# messages: nothing is given up, the log says what really failed, and
# every message is stored once at the hub (count_check).
#
# The spool's tmpfs is remounted read-only for 3 s while firelane-flood (the
# edge's own publisher) spools at 2,000 messages a second. Every append
# then fails with EROFS: the messages are held in memory, in order, and
# spooled when the spool takes writes again (src/edge/publish.c, "A note
# on a spool that fails"). Before, each was logged and lost. Needs root
# (the tmpfs for the store and the spool). Env: FL_BUILD_DIR,
# FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/faults.sh"
need "$HUB" "$FLOOD" mosquitto sqlite3 python3 curl
PORT=$(free_port)
faults_broker
faults_hub_config 256m "$WORK/ev"
edge_flood_config "$WORK/edge.yaml"
hub_start "$WORK/hub.yaml" "$WORK/hub.log"
flood_start spro --rate 2000
wait_stored spro 500 || fail "the flood does not arrive: $(stored spro) stored"
# The kernel refuses (EBUSY) while a spool file is open for writing, which
# a flood at 2,000/s has now and then: try again until a moment between
# writes (a failing card turns read-only the same way, between writes).
for i in $(seq 100); do
	mount -o remount,ro "$SPOOL" 2>"$WORK/remount.err" && break
	[ "$i" = 100 ] && fail "cannot remount the spool read-only: $(cat "$WORK/remount.err")"
	sleep 0.02
done
echo "$NAME: spool read-only after $(stored spro) messages stored"
sleep 3
mount -o remount,rw "$SPOOL" || fail "cannot remount the spool writable"
flood_wait
wait_stored spro $((FLOOD_N * 3)) || true
count_check spro "$FLOOD_N"
grep -q "Read-only file system" "$WORK/flood.log" ||
	fail "the edge's log does not say the spool is read-only"
grep -q "takes writes again" "$WORK/flood.log" || fail "no recovery in the edge's log"
hub_stop
echo "$NAME: ok"
