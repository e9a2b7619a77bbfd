#!/usr/bin/env bash
# mqtt_outage.sh - the broker goes away in the middle of an incident and
# comes back: nothing is lost, ids stay stable, order per incident is kept.
#
# park_leave (--quick: the car rests ~8-31 s, dwell 10 s, alarm ~18 s,
# cleared ~37 s, 42 s of video) is played live by firelane-edge against a
# private mosquitto with persistence (so the persistent-session subscriber's
# queue survives the restart). When the subscriber has the incident's
# "occupied", the broker is stopped for FL_MQTT_OUTAGE_S seconds (default 60,
# the minute the issue asks for) and started again on the same port. The
# scene's parked stretch is lengthened to fit the outage: ten seconds of it
# (20-30 s of video, the car at rest) are played again OUTAGE/10 + 1 times
# (ffmpeg's loop filter), so the car leaves only after the broker is back.
# Checks:
#   - during the outage the alarm is spooled on disk (a .msg file appears);
#   - afterwards the subscriber has the incident complete: occupied, alarm,
#     cleared, one incident_id, seq 1, 2, 3 in order, duplicates (if the
#     reconnect re-sent something) byte-identical (check_mqtt.py);
#   - status ends "stopped", the edge logged the lost connection and exits 0
#     with an empty spool.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR, FL_MQTT_OUTAGE_S.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$EDGE" "$SCENE" mosquitto mosquitto_sub mosquitto_pub python3
OUTAGE=${FL_MQTT_OUTAGE_S:-60}
SCENARIO=park_leave
PORT=$(free_port)
scene $SCENARIO
if [ "$OUTAGE" -gt 20 ]; then
	ffmpeg -loglevel error -y -i "$WORK/scene/$SCENARIO.mp4" \
		-vf "loop=loop=$((OUTAGE / 10 + 1)):size=250:start=500,setpts=N/25/TB" \
		-c:v libx264 -preset veryfast -pix_fmt yuv420p "$WORK/scene/long.mp4" \
		2>>"$WORK/scene.log" || fail "ffmpeg could not lengthen the scene"
	mv "$WORK/scene/long.mp4" "$WORK/scene/$SCENARIO.mp4"
fi
broker_start
subscribe "$WORK/all.txt" 'firelane/#'
edge_config "$WORK/scene/edge.yaml"
edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$WORK/scene/edge.yaml" -v

wait_for "$WORK/all.txt" "$(hex '"type": "occupied"')" 40 || fail "no occupied message"
broker_stop
t0=$(date +%s)
echo "$NAME: broker stopped for ${OUTAGE}s" >&2
spooled=0
while [ $(($(date +%s) - t0)) -lt "$OUTAGE" ]; do
	ls "$WORK"/spool/*.2.msg >/dev/null 2>&1 && spooled=1
	sleep 0.2
done
[ "$spooled" = 1 ] || fail "no incident message was spooled during the outage"
grep -q '"type":"alarm"' "$WORK/events.jsonl" || fail "no alarm during the outage (scene timing)"
broker_start

edge_wait 90
sleep 1.5
grep -q "connection to .* lost\|cannot connect" "$WORK/edge.log" || fail "the outage was not noticed"
ls "$WORK"/spool/*.msg >/dev/null 2>&1 && fail "messages left in the spool"
python3 "$(dirname "$0")/lib/check_mqtt.py" "$WORK/all.txt" \
	--status stopped --incident occupied,alarm,cleared || fail "messages (above)"
echo "$NAME: ok"
