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
# often first (now a cleared job waits for its alarm job).
#
# The upgrade from the alerts' files: the hub starts on the .alerts/ folder
# of a hub from before (a job in the outbox, one claimed by a hub that is
# gone, one sent with its step made). The store takes them once and the
# folder is renamed: the two unsent jobs are published, once each, the
# sent one is not, and its step is marked made (a replay alerts nobody).
#
# The alerts' own connection (docs/hub.md, "Alerts"): the broker logs
# (log_type debug) who published each alert, and it is always the hub's
# second client, <client_id>-alerts, never the one the fleet's messages
# come in on, where an alert's acknowledgement would wait behind them.
# Needs root (the tmpfs for the store). Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/faults.sh"
need "$HUB" mosquitto mosquitto_pub mosquitto_sub sqlite3 python3 curl
PORT=$(free_port)
BROKER_EXTRA="max_queued_messages 0
log_type debug" broker_start
FAULTS_ALERTS=true faults_hub_config 64m "$WORK/ev"
OLD=$WORK/ev/.alerts
mkdir -p "$OLD/outbox" "$OLD/claimed" "$OLD/sent" "$OLD/failed" "$OLD/made" "$OLD/open"
old_job() { # FILE N: an MQTT alarm job of before, its body {"old": N}
	printf '{"kind":"alarm","dest":"firelane/%s/enforcement","mqtt":1,"body":"{\\"old\\": %s}","attempts":0,"next":0,"created":%s}' \
		"$SITE" "$2" "$(date +%s)" >"$OLD/$1"
}
old_job outbox/old-1.alarm.mqtt.json 1
old_job claimed/old-2.alarm.mqtt.json@hub-gone 2
old_job sent/old-3.alarm.mqtt.json 3
: >"$OLD/made/old-3.alarm"
subscribe "$WORK/old.txt" "firelane/$SITE/enforcement"
hub_start "$WORK/hub.yaml" "$WORK/hub.log"
subscribe "$WORK/sub.txt" "firelane/$SITE/alerts"
olds() { # the "old" numbers received, in order
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    print(json.loads(bytes.fromhex(line.split()[1]))["old"])' "$WORK/old.txt" | sort | paste -sd ' '
}
for _ in $(seq 100); do
	[ "$(olds)" = "1 2" ] && break
	sleep 0.1
done
[ "$(olds)" = "1 2" ] || fail "the imported jobs published: '$(olds)', not '1 2'"
[ ! -e "$OLD" ] && ls -d "$OLD".imported.* >/dev/null 2>&1 ||
	fail "the old folder not renamed: $(ls -a "$WORK/ev")"
[ "$(q "select name || ' ' || state from alert_jobs where name like 'old-%' order by 1" | paste -sd ,)" = \
	"old-1.alarm.mqtt sent,old-2.alarm.mqtt sent,old-3.alarm.mqtt sent" ] ||
	fail "the imported jobs: $(q "select name, state from alert_jobs")"
[ "$(q "select count(*) from alert_made where incident_id = 'old-3' and step = 'alarm'")" = 1 ] ||
	fail "the imported step"
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
sleep 1 # a late repeat of an imported job would show now
[ "$(olds)" = "1 2" ] || fail "the imported jobs published: '$(olds)', not '1 2'"
# publishers: who sent the 4 alerts (2 imported, alarm and all-clear)
publishers() {
	grep -E "Received PUBLISH from [^ ]+ \(.*'firelane/$SITE/(alerts|enforcement)'" "$BROKER_LOG" |
		sed 's/.*Received PUBLISH from \([^ ]*\) .*/\1/' | sort | uniq -c | awk '{ print $2 "=" $1 }' | paste -sd ' '
}
[ "$(publishers)" = "hub-faults-alerts=4" ] ||
	fail "the alerts published by '$(publishers)', not 'hub-faults-alerts=4'"
hub_stop
echo "$NAME: ok"
