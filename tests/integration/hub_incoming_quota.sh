#!/usr/bin/env bash
# hub_incoming_quota.sh - a device that sends evidence chunks and never
# finishes a file cannot fill the hub's disk and starve the others
# (docs/hub.md, "Budgets": incoming_device_max_mb, evidence_reserve_mb).
#
# The store and the evidence folder share an 8 MiB tmpfs. A hostile
# enrolled device sends 200 first chunks (64 KiB each, 12.5 MiB) of files
# it never completes; then a legitimate device sends 201 incident messages.
# With incoming_device_max_mb 1 the hostile device's chunks beyond 1 MiB
# are quarantined (its fault, acknowledged) and every legitimate message
# is stored. Before, the chunks filled the disk (kept for
# incoming_max_age_s, a week) and the legitimate messages were
# acknowledged and lost. Needs root (tmpfs). Env: FL_BUILD_DIR,
# FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/faults.sh"
need "$HUB" mosquitto mosquitto_pub sqlite3 python3 curl
PORT=$(free_port)
faults_broker
faults_hub_config 8m "$WORK/store/ev" "incoming_device_max_mb: 1
evidence_reserve_mb: 1"
"$HUB" --config "$WORK/hub.yaml" --enrol-device edge-h --site "$SITE" \
	--public-key "$WORK/pk.txt" >>"$WORK/enrol.log" 2>&1 || fail "--enrol-device edge-h"
broker_device edge-h # the hostile device: its own account, signing with FKEY
hub_start "$WORK/hub.yaml" "$WORK/hub.log"
mkdir "$WORK/junk"
python3 - "$WORK/junk" <<'EOP'
import hashlib, json, os, sys
for k in range(200):
    data = os.urandom(65536)
    h = {"incident_id": "edge-h-junk-%03d" % k, "file": "clip.mp4", "index": 0,
         "count": 2, "offset": 0, "size": 131072,
         "chunk_sha256": hashlib.sha256(data).hexdigest(),
         "file_sha256": "%064d" % 1}
    with open(os.path.join(sys.argv[1], "%03d" % k), "wb") as f:
        f.write(json.dumps(h).encode() + b"\n" + data)
EOP
for f in "$WORK"/junk/*; do
	device_pub "$FKEY" edge-h "firelane/$SITE/edge-h/cam-1/lane-a/evidence" "$f"
done
FLOOD_N=67 flood_lines "$WORK/legit.txt" legit
flood_pub "$WORK/legit.txt"
flood_pub_wait 60
wait_stored legit 201 || true
JUNK=$(q "select count(*) from quarantine where topic like 'firelane/$SITE/edge-h/%'")
echo "$NAME: hostile device: $JUNK of 200 chunks quarantined"
FLOOD_N=67 count_check legit 67
[ "$JUNK" -ge 150 ] || fail "only $JUNK of the hostile device's 200 chunks were refused"
grep -q "over incoming_device_max_mb" "$WORK/hub.log" || fail "the log does not name the quota"
hub_stop
echo "$NAME: ok"
