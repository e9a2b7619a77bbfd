#!/usr/bin/env bash
# faults_store_readonly.sh - the database turns read-only under a flood
# (a failing disk remounted read-only, an operator's chattr): nothing is
# acknowledged that was not stored (docs/hub.md, "Degraded mode").
#
# Once the hub has stored a part of 10,002 incident messages, its database
# and write-ahead log are made immutable (chattr +i: every write, through
# the files already open too, fails with EPERM - SQLite's I/O error). The
# hub must hold the message it could not commit, say it is degraded
# (GET /healthz 503), and resume by itself when the files are writable
# again; every message sent is then stored once (count_check). Before, the
# hub acknowledged what it could neither store nor quarantine: all lost.
# Then a restart with the evidence folder's .stills immutable: the hub
# starts with the key it made before. Skips where the file system has no
# immutable flag. Env: FL_BUILD_DIR,
# FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/faults.sh"
need "$HUB" mosquitto mosquitto_pub sqlite3 python3 curl chattr
PORT=$(free_port)
faults_broker
faults_hub_config disk "$WORK/ev"
hub_start "$WORK/hub.yaml" "$WORK/hub.log"
flood_lines "$WORK/flood.txt" ro
flood_pub "$WORK/flood.txt"
wait_stored ro 1000 || fail "the flood does not arrive: $(stored ro) stored"
immutable "$DB" "$DB-wal"
flood_pub_wait 120
LAST=$(wait_still ro 3)
DEGRADED=$(healthz)
echo "$NAME: read-only after $LAST messages"
[ "$LAST" -lt $((FLOOD_N * 3)) ] || fail "the flood ended before the fault"

writable "$DB" "$DB-wal"
wait_stored ro $((FLOOD_N * 3)) || true
count_check ro "$FLOOD_N"
[ "$DEGRADED" = 503 ] || fail "GET /healthz answered $DEGRADED while read-only, not 503"
grep -q "degraded: cannot store" "$WORK/hub.log" || fail "no 'degraded' in the log"
wait_health 200 30 || fail "GET /healthz: $(healthz) after the recovery, not 200"
hub_stop

# A restart while the evidence folder refuses writes: the hub starts with
# the picture links' key it made before (docs/hub.md, "Stills"), read, not
# made again.
[ -s "$WORK/ev/.stills/link.key" ] || fail "no picture link key after the first start"
KEY=$(sha256sum <"$WORK/ev/.stills/link.key")
immutable "$WORK/ev/.stills"
hub_start "$WORK/hub.yaml" "$WORK/hub2.log"
wait_health 200 30 || fail "GET /healthz: $(healthz) after a restart with .stills read-only"
hub_stop
writable "$WORK/ev/.stills"
[ "$(sha256sum <"$WORK/ev/.stills/link.key")" = "$KEY" ] || fail "the picture link key changed"
echo "$NAME: ok"
