#!/usr/bin/env bash
# hub_shared.sh - two firelane-hub workers sharing the fleet through an MQTT
# shared subscription (mqtt.shared_group: $share/<group>/firelane/+/+/#) on
# one broker, one SQLite store and one evidence folder (SPEC 6, scaled down).
#
# 60 incident messages (30 incidents x 2 steps, occupied then vacated) are
# published, then all of them again. Checks: every (incident_id, seq) is
# stored exactly once, both workers stored some (the broker split the load),
# the second copies were recognised as duplicates, and both workers stop
# cleanly on SIGTERM.
#
# The alerts outbox is shared too (one evidence folder): 20 incidents alarm
# (10 of them then clear, 10 stay alarmed past escalate_s 1), with a slow
# local webhook receiver (0.15 s per request, so both workers' senders see
# the same jobs) and MQTT alerts on. Checks: every alarm, all-clear and
# escalation reaches the webhooks and the alerts topics exactly once - the
# workers claim each job (and each escalation clock) before sending it.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" mosquitto mosquitto_sub mosquitto_pub sqlite3 python3
PORT=$(free_port)
HPORT=$(free_port)
broker_start
# the webhook receiver, answering after 0.15 s
webhook_receiver "$HPORT" "$WORK/hooks.jsonl" 0.15
mosquitto_sub -h 127.0.0.1 -p "$PORT" -q 1 -v -i "alerts-$NAME" -u watch -P "$(broker_pw watch)" \
	-t firelane/site-s/alerts \
	-t firelane/site-s/enforcement >"$WORK/mqtt-alerts.txt" 2>>"$WORK/sub.log" &
track $!
broker_wait_sub "alerts-$NAME" 0 20 $! || fail "the alerts subscriber did not subscribe"
for w in 1 2; do
	cat >"$WORK/hub$w.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-worker-$w, shared_group: hubs, keepalive_s: 5, $HUB_AUTH}
http: {listen: ""}
store: {sqlite: $WORK/hub.db}
evidence_dir: $WORK/ev
alerts:
  mqtt: true
  sites:
    - site: site-s
      escalate_s: 1
      webhooks:
        - {url: "http://127.0.0.1:$HPORT/hook", format: generic}
      escalate:
        - {url: "http://127.0.0.1:$HPORT/esc", format: generic}
EOC
done
device_key "$WORK/edge-s.key" >"$WORK/pk.txt"
broker_device edge-s
"$HUB" --config "$WORK/hub1.yaml" --enrol-device edge-s --site site-s \
	--public-key "$WORK/pk.txt" >"$WORK/admin.log" 2>&1 || fail "--enrol-device"
PIDW=()
for w in 1 2; do
	hub_start "$WORK/hub$w.yaml" "$WORK/hub$w.log" -vv
	PIDW+=($HUB_PID)
	grep -qF 'subscribed to $share/hubs/firelane/+/+/#' "$WORK/hub$w.log" || fail "worker $w: no shared subscription"
done

python3 - "$WORK/msgs.txt" <<'EOP'
import json, sys, time
now = time.time()
with open(sys.argv[1], "w") as f:
    for n in range(30):
        for seq, typ in ((1, "occupied"), (2, "vacated")):
            f.write(json.dumps({"incident_id": "edge-s-%04d-lane-a-1" % n,
                "seq": seq, "type": typ, "site": "site-s", "device": "edge-s",
                "camera": "cam-1", "lane": "lane-a",
                "unix_time": now + n + seq * 0.5}) + "\n")
EOP
TOPIC=firelane/site-s/edge-s/cam-1/lane-a/incident
for round in 1 2; do
	device_pub_lines "$WORK/edge-s.key" edge-s "$TOPIC" <"$WORK/msgs.txt" ||
		fail "mosquitto_pub"
done
for _ in $(seq 100); do
	d=$(cat "$WORK"/hub*.log | grep -c "duplicate, ignored" || true)
	[ "$(q "select count(*) from incident_events")" = 60 ] && [ "$d" -ge 60 ] && break
	sleep 0.1
done
[ "$(q "select count(*) from incident_events")" = 60 ] || fail "stored $(q "select count(*) from incident_events") of 60 messages"
[ "$(q "select count(*) from incidents where status = 'vacated'")" = 30 ] || fail "incidents: $(q "select status, count(*) from incidents group by status")"
s1=$(grep -c " stored$" "$WORK/hub1.log" || true)
s2=$(grep -c " stored$" "$WORK/hub2.log" || true)
[ "$s1" -gt 0 ] && [ "$s2" -gt 0 ] || fail "the load was not shared: worker 1 stored $s1, worker 2 $s2"
[ $((s1 + s2)) = 60 ] || fail "stored $s1 + $s2, expected 60"
d=$(cat "$WORK"/hub*.log | grep -c "duplicate, ignored" || true)
[ "$d" = 60 ] || fail "$d duplicates recognised, expected 60"

# The shared outbox: 20 alarms, 10 all-clears, 10 escalations, each once.
# (the all-clears follow once the alarms are handled, as in life: an
# incident's steps are seconds apart; the 10 that clear alarmed "later" so
# they do not escalate first)
python3 - "$WORK/alarms.txt" "$WORK/clears.txt" <<'EOP'
import json, sys, time
now = time.time()
with open(sys.argv[1], "w") as a, open(sys.argv[2], "w") as c:
    for n in range(20):
        late = 600 if n < 10 else 0
        for seq, typ, f in ((1, "alarm", a), (2, "cleared", c)):
            if typ == "cleared" and n >= 10:
                continue
            f.write(json.dumps({"incident_id": "edge-s-al%02d-lane-a-1" % n,
                "seq": seq, "type": typ, "site": "site-s", "device": "edge-s",
                "camera": "cam-1", "lane": "lane-a",
                "unix_time": now + late + seq}) + "\n")
EOP
device_pub_lines "$WORK/edge-s.key" edge-s "$TOPIC" <"$WORK/alarms.txt" ||
	fail "mosquitto_pub"
for _ in $(seq 300); do
	[ "$(q "select count(*) from alert_made where step = 'alarm'")" = 20 ] && break
	sleep 0.1
done
device_pub_lines "$WORK/edge-s.key" edge-s "$TOPIC" <"$WORK/clears.txt" ||
	fail "mosquitto_pub"
# expected: 20 alarm + 10 cleared on /hook, 10 escalated on /esc; the same
# on MQTT (alerts and enforcement topics)
count_alerts() {
	python3 - "$WORK/hooks.jsonl" "$WORK/mqtt-alerts.txt" <<'EOP'
import collections, json, os, sys
hooks, mq = collections.Counter(), collections.Counter()
if os.path.exists(sys.argv[1]):
    for line in open(sys.argv[1]):
        j = json.loads(line)
        hooks[(j["path"], j["body"]["incident_id"], j["body"]["type"])] += 1
for line in open(sys.argv[2]):
    t, _, p = line.rstrip("\n").partition(" ")
    j = json.loads(p)
    mq[(t, j["incident_id"], j["type"])] += 1
def kinds(c):
    k = collections.Counter(x[2] for x in c)
    return "%d/%d/%d" % (k["alarm"], k["cleared"], k["escalated"])
twice = [k for c in (hooks, mq) for k, v in c.items() if v > 1]
print("%s %s %d %s" % (kinds(hooks), kinds(mq), len(twice),
                       ",".join("%s:%s:%s" % k for k in twice[:5])))
EOP
}
for _ in $(seq 300); do
	r=$(count_alerts)
	[ "${r% *}" = "20/10/10 20/10/10 0" ] && break
	case $r in *" 0 "*|*" 0") ;; *) break ;; esac # a repeat: fail now
	sleep 0.1
done
sleep 1 # a late repeat would show now
r=$(count_alerts)
set -- $r
[ "$3" = 0 ] || fail "alerts sent more than once: $4 (webhooks, MQTT alarm/cleared/escalated: $1, $2)"
[ "$1" = 20/10/10 ] || fail "webhook alerts alarm/cleared/escalated: $1, expected 20/10/10"
[ "$2" = 20/10/10 ] || fail "MQTT alerts alarm/cleared/escalated: $2, expected 20/10/10"
[ "$(q "select count(*) from alert_jobs where holder is not null")" = 0 ] ||
	fail "claims left: $(q "select name, holder from alert_jobs where holder is not null")"
[ "$(q "select count(*) from alert_jobs where state = 'outbox'")" = 0 ] ||
	fail "jobs left: $(q "select name from alert_jobs where state = 'outbox'")"
c1=$(grep -c "delivered to" "$WORK/hub1.log" || true)
c2=$(grep -c "delivered to" "$WORK/hub2.log" || true)

for p in "${PIDW[@]}"; do stop_ok "a worker" "$p"; done
echo "$NAME: worker 1 stored $s1, worker 2 stored $s2, $d duplicates; alerts once each (webhooks posted by worker 1: $c1, worker 2: $c2)"
echo "$NAME: ok"
