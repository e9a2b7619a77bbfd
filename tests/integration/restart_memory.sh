#!/usr/bin/env bash
# restart_memory.sh - an edge that restarts remembers (docs/memory.md).
#
# 1. Replay, power cut and restart: park_leave (--quick, classic camera) is
#    replayed with --state-dir until 3 s after its alarm and cut there as by
#    a power cut (--until: no orderly close); the second run starts at that
#    time with the same folder. The car still standing resumes its incident:
#    no second occupied or alarm, and its cleared carries the same id. The
#    same restart without memory takes the car for the lane and clears
#    nothing when it leaves (the difference memory makes).
# 2. Bad memory is refused, never trusted: a corrupt file (one byte
#    flipped), another device's file and garbage each give a log line
#    saying why, and the run goes on as without memory (exit 0, an alarm).
# 3. Live, with a broker and the spool: present_from_start (a van in the
#    lane from the first frame, with its reference image) is run live until
#    its alarm is spooled, killed with SIGKILL, and started again on the
#    same clip. The van is still there: its incident is neither closed as
#    "interrupted" nor opened again; the hub sees occupied, alarm and
#    nothing else, and the edge says its camera resumed it.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$EDGE" "$SCENE" mosquitto mosquitto_sub mosquitto_pub python3

count() { # FILE TYPE: how many events of that type
	grep -c "\"type\":\"$2\"" "$1" || true
}
field() { # FILE TYPE FIELD: the first such event's field
	python3 - "$@" <<'EOP'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["type"] == sys.argv[2]:
        print(e[sys.argv[3]]); break
EOP
}

# ---- 1. replay: a power cut, then a restart with memory ------------------
SCENARIO=park_leave
scene $SCENARIO
CFG=$WORK/scene/$SCENARIO.yaml
edge_run "$WORK/plain.log" "$WORK/plain.log" --config "$CFG" --replay \
	--events-out "$WORK/plain.jsonl"
[ "$(count "$WORK/plain.jsonl" alarm)" = 1 ] || fail "plain run: not one alarm"
ALARM=$(field "$WORK/plain.jsonl" alarm video_time_s)
CUT=$(python3 -c "print(round($ALARM + 3, 1))")
mkdir "$WORK/state"
edge_run "$WORK/before.log" "$WORK/before.log" --config "$CFG" --replay \
	--state-dir "$WORK/state" --until "$CUT" --events-out "$WORK/before.jsonl"
[ -s "$WORK/state/cam-1.mem" ] || fail "no memory written before the power cut"
ID=$(field "$WORK/before.jsonl" alarm incident_id)
edge_run "$WORK/after.log" "$WORK/after.log" --config "$CFG" --replay \
	--state-dir "$WORK/state" --start "$CUT" -v --events-out "$WORK/after.jsonl"
grep -q "1 open incident(s) expected back" "$WORK/after.log" || fail "memory not taken in"
[ "$(count "$WORK/after.jsonl" alarm)" = 0 ] || fail "the car alarmed again after the restart"
[ "$(count "$WORK/after.jsonl" occupied)" = 0 ] || fail "a new incident for the same car"
[ "$(field "$WORK/after.jsonl" cleared incident_id)" = "$ID" ] ||
	fail "the car's clear is not its incident's ($ID)"
# without memory the same restart takes the car for the lane: its leaving
# clears nothing (memory is what makes the difference above)
edge_run "$WORK/nomem.log" "$WORK/nomem.log" --config "$CFG" --replay \
	--start "$CUT" --events-out "$WORK/nomem.jsonl"
[ "$(count "$WORK/nomem.jsonl" cleared)" = 0 ] || fail "without memory, a clear?"
echo "$NAME: restart with memory: no second alarm, cleared as $ID"

# ---- 2. bad memory is refused ---------------------------------------------
bad_run() { # LABEL EXPECTED-LOG: a run with the file in $WORK/bad
	edge_run "$WORK/bad.log" "$WORK/bad.log" --config "$CFG" --replay \
		--state-dir "$WORK/bad" -v --events-out "$WORK/bad.jsonl"
	grep -q "$2" "$WORK/bad.log" || fail "$1: no log line '$2'"
	[ "$(count "$WORK/bad.jsonl" alarm)" = 1 ] || fail "$1: the run did not go on"
}
mkdir "$WORK/bad"
cp "$WORK/state/cam-1.mem" "$WORK/bad/cam-1.mem"
python3 - "$WORK/bad/cam-1.mem" <<'EOP'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0x40
open(sys.argv[1], "wb").write(b)
EOP
bad_run corrupt "refused (checksum mismatch (corrupt))"
sed 's/id: scene-edge/id: other-edge/' "$CFG" >"$WORK/scene/other.yaml"
rm -rf "$WORK/bad" && mkdir "$WORK/bad"
edge_run "$WORK/other.log" "$WORK/other.log" --config "$WORK/scene/other.yaml" \
	--replay --state-dir "$WORK/bad" --until "$CUT" --events-out /dev/null
bad_run foreign "refused (written by another device or camera"
head -c 5000 /dev/urandom >"$WORK/bad/cam-1.mem"
bad_run garbage "refused (not a firelane memory file)"
echo "$NAME: corrupt, foreign and garbage memory refused, runs went on"

# ---- 3. live: killed after the alarm, the van still there: resumed --------
SCENARIO=present_from_start
scene $SCENARIO
PORT=$(free_port)
broker_start
subscribe "$WORK/all.txt" 'firelane/#'
edge_config "$WORK/scene/edge.yaml"
edge_start "$WORK/live1.jsonl" "$WORK/edge1.log" --config "$WORK/scene/edge.yaml" -v
# The edge spools an event before it prints it: the alarm seen here is on disk.
wait_for "$WORK/live1.jsonl" '"type":"alarm"' 60 || fail "no alarm live"
kill -9 $EDGE_PID
wait $EDGE_PID 2>/dev/null || true
[ -s "$WORK/scene/state/cam-1.mem" ] || fail "no memory in device.state_dir"
edge_start "$WORK/live2.jsonl" "$WORK/edge2.all" --config "$WORK/scene/edge.yaml" -vv
edge_wait 90
grep -v "debug: \(still\|detect\|source\|camera\)" "$WORK/edge2.all" >"$WORK/edge2.log" || true
sleep 1.5
grep -q "its camera's memory resumes or closes it" "$WORK/edge2.log" ||
	fail "the spool closed the incident instead of leaving it to memory"
grep -q "1 open incident(s) expected back" "$WORK/edge2.log" || fail "memory not taken in live"
[ "$(count "$WORK/live2.jsonl" alarm)" = 0 ] || fail "the van alarmed again after the kill"
python3 "$(dirname "$0")/lib/check_mqtt.py" "$WORK/all.txt" \
	--incident occupied,alarm || fail "messages (above)"
echo "$NAME: ok"
