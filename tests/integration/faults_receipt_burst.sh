#!/usr/bin/env bash
# faults_receipt_burst.sh - a device back online with 10,000 verified
# bundles gets 10,000 receipts again; alarms that arrive at the same time
# still reach a QoS 1 subscriber, and an alert is "sent" only when the
# broker acknowledged it (docs/hub.md, "Receipts and alerts under load").
#
# The store is seeded (sqlite3) with 10,000 verified bundles of the device;
# its status "online" then makes the hub re-send their receipts, and 10
# alarms follow at once. Before, the hub published the 10,000 receipts in
# one go, Paho's buffer overflowed, and the 10 alarm jobs were moved to
# sent/ although none reached the subscriber. Now receipts are paced by
# the broker's PUBACKs (a window of 32), alerts go out on a connection of
# their own (a window of 256), and a job is sent on its PUBACK. Needs root (the tmpfs for the
# store). Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/faults.sh"
need "$HUB" mosquitto mosquitto_pub mosquitto_sub sqlite3 python3 curl
PORT=$(free_port)
faults_broker
FAULTS_ALERTS=true faults_hub_config 256m "$WORK/ev"
hub_start "$WORK/hub.yaml" "$WORK/hub.log"
q "WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k < 9999)
   INSERT INTO incidents (incident_id, device, site, camera, lane, status, start, verified)
   SELECT printf('$DEVICE-old-%05d', k), '$DEVICE', '$SITE', 'cam-1', 'lane-a', 'cleared',
          strftime('%s', 'now') - 3600 - k, 1 FROM n;
   INSERT INTO evidence (incident_id, name, sha256, bytes, kind, verified)
   SELECT incident_id, 'manifest.json', printf('%064d', 7), 100, 'manifest', 1
   FROM incidents WHERE incident_id LIKE '$DEVICE-old-%';"
subscribe "$WORK/sub.txt" "firelane/$SITE/alerts" "firelane/$SITE/$DEVICE/receipt"

# the device comes online: its signed status, with its connection's epoch
printf 'online %s' "$(date +%s%3N)" | device_pub "$FKEY" "$DEVICE" "firelane/$SITE/$DEVICE/status"
FLOOD_N=10 flood_lines "$WORK/alarms.txt" now
flood_pub "$WORK/alarms.txt"
flood_pub_wait 60
for _ in $(seq 600); do
	[ "$(grep -c "/receipt " "$WORK/sub.txt")" -ge 10000 ] && break
	sleep 0.2
done
# the alerts' payloads as hex (subscribe): their "kind"
ALARMS=$(grep "/alerts " "$WORK/sub.txt" | grep -c "$(hex '"alarm"')" || true)
CLEARS=$(grep "/alerts " "$WORK/sub.txt" | grep -c "$(hex '"cleared"')" || true)
SENT=$(q "select count(*) from alert_jobs where state = 'sent' and name like '%.alarm.mqtt'")
RECEIPTS=$(grep -c "/receipt " "$WORK/sub.txt" || true)
echo "$NAME: 10 alarms: $ALARMS alarm alerts and $CLEARS all-clears received, $SENT recorded sent; $RECEIPTS of 10000 receipts received"
[ "$ALARMS" = 10 ] && [ "$CLEARS" = 10 ] || fail "alerts lost"
[ "$SENT" = 10 ] || fail "$SENT alarm jobs recorded as sent"
[ "$RECEIPTS" -ge 10000 ] || fail "receipts lost"
hub_stop
echo "$NAME: ok"
