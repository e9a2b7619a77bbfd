#!/usr/bin/env bash
# hub_alert_order.sh - an incident's "cleared" that arrives before its
# "alarm" (a spool replayed out of order, a shared subscription) must not
# leave an alarm standing that nothing clears (src/hub/alerts.c, "Order").
#
# occupied (1), cleared (3), then alarm (2) of one incident: the property
# manager's subscriber gets the alarm and then its all-clear, no
# escalation clock is left running, and the store says "cleared". Before,
# the all-clear was skipped (no alarm alert yet when the close came) and
# the late alarm alerted with nothing to clear it; and even in order, the
# two MQTT jobs went out in the outbox's directory order, the all-clear
# often first (now a cleared job waits for its alarm job). Needs root (the tmpfs
# for the store). Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/faults.sh"
need "$HUB" mosquitto mosquitto_pub mosquitto_sub sqlite3 python3 curl
PORT=$(free_port)
faults_broker
FAULTS_ALERTS=true faults_hub_config 64m "$WORK/ev"
hub_start "$WORK/hub.yaml" "$WORK/hub.log"
subscribe "$WORK/sub.txt" "firelane/$SITE/alerts"
FLOOD_N=1 flood_lines "$WORK/in.txt" order
# occupied, cleared, alarm
for l in 1 3 2; do sed -n "${l}p" "$WORK/in.txt"; done >"$WORK/out-of-order.txt"
device_pub_lines "$FKEY" "$DEVICE" "$FLOOD_TOPIC" <"$WORK/out-of-order.txt"
IID=$DEVICE-order-00000
# kinds: the "type" of each alert received, in order
kinds() {
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    print(json.loads(bytes.fromhex(line.split()[1]))["type"])' "$WORK/sub.txt" | paste -sd ' '
}
for _ in $(seq 150); do
	[ "$(kinds)" = "alarm cleared" ] && break
	sleep 0.2
done
[ "$(kinds)" = "alarm cleared" ] ||
	fail "alerts received: '$(kinds)', not 'alarm cleared'"
[ "$(q "select count(*) from alert_clocks where incident_id = '$IID'")" = 0 ] ||
	fail "an escalation clock runs for a closed incident"
[ "$(q "select status from incidents where incident_id = '$IID'")" = cleared ] ||
	fail "the store says $(q "select status from incidents where incident_id = '$IID'")"
hub_stop
echo "$NAME: ok"
