#!/usr/bin/env bash
# mqtt_kill.sh - the edge killed with -9 in the middle of an incident, while
# the broker is away, and started again: what was spooled is delivered, and
# the incident is closed correctly.
#
# What "closed correctly" means (docs/mqtt.md, "Kill -9, power loss"), for
# an edge without memory (device.state_dir ""; restart_memory.sh has the
# edge with memory, which resumes instead): a new process cannot resume the
# lane logic of the dead one; an obstruction still there is re-detected
# from time zero as a NEW incident (SPEC 3). The old
# incident gets one last message, type "interrupted", with the next seq, from
# the record the dead process left in <spool>/open/. So the hub sees: old
# incident occupied(1), alarm(2), interrupted(3); new incident occupied(1),
# alarm(2), cleared(3) - every seq, none lost, ids stable.
#
# Steps: park_leave (--quick) live with a private mosquitto; on "occupied" at
# the subscriber the broker is stopped; once the alarm is spooled on disk
# the edge is killed with SIGKILL; the broker comes back; the same edge
# config (same spool) is started again on the same clip and runs to its end.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$EDGE" "$SCENE" mosquitto mosquitto_sub mosquitto_pub python3
SCENARIO=park_leave
PORT=$(free_port)
scene $SCENARIO
broker_start
subscribe "$WORK/all.txt" 'firelane/#'
edge_config "$WORK/scene/edge.yaml"
sed -i 's/^device: {\(.*\)}$/device: {\1, state_dir: ""}/' "$WORK/scene/edge.yaml"
grep -q 'state_dir: ""' "$WORK/scene/edge.yaml" || fail "no state_dir in the config"
edge_start "$WORK/events1.jsonl" "$WORK/edge1.log" --config "$WORK/scene/edge.yaml" -v

wait_for "$WORK/all.txt" "$(hex '"type": "occupied"')" 40 || fail "no occupied message"
broker_stop
wait_for "$WORK/events1.jsonl" '"type":"alarm"' 30 || fail "no alarm"
for _ in $(seq 50); do
	ls "$WORK"/spool/*.2.msg >/dev/null 2>&1 && break
	sleep 0.1
done
kill -9 $EDGE_PID
wait $EDGE_PID 2>/dev/null || true
ls "$WORK"/spool/*.2.msg >/dev/null 2>&1 || fail "nothing spooled at the kill"
ls "$WORK"/spool/open/* >/dev/null 2>&1 || fail "no open-incident record at the kill"
OLD=$(ls "$WORK"/spool/open/ | head -n 1)

broker_start
edge_start "$WORK/events2.jsonl" "$WORK/edge2.log" --config "$WORK/scene/edge.yaml" -v
edge_wait 90
sleep 1.5
ls "$WORK"/spool/*.msg >/dev/null 2>&1 && fail "messages left in the spool"
python3 "$(dirname "$0")/lib/check_mqtt.py" "$WORK/all.txt" --status stopped \
	--incident occupied,alarm,interrupted \
	--incident occupied,alarm,cleared || fail "messages (above)"
grep -q "$(hex "\"incident_id\": \"$OLD\"")" "$WORK/all.txt" || fail "the killed incident's id changed"
echo "$NAME: ok"
