#!/usr/bin/env bash
# two_streams_live.sh - a live camera's record stream lost and back, while
# its detect stream lives (docs/evidence.md, "Two streams").
#
# One scene (park_leave, --quick, seed 1) rendered at 640x360 (detect) and
# 1280x720 (record), each served in a loop as MPEG-TS over TCP by ffmpeg
# (-re: in real time). firelane-edge runs live on both with evidence. Checks:
#   - the record stream starts and is aligned by receive time (MPEG-TS over
#     TCP carries no RTCP wall clock);
#   - the record server is killed: the edge logs the loss, raises no
#     camera_offline (the detect stream lives), and the next alarm still
#     comes, its bundle sealed with record "lost" and the alarm's pictures
#     from the detect stream;
#   - the record server comes back: the edge logs "record stream back"
#     (reconnected with backoff 1, 2, 4 s ...);
#   - the edge is still running, and exits 0 on SIGTERM.
#
# Env: FL_BUILD_DIR (build tree with the programs).
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$EDGE" "$SCENE" ffmpeg python3

for size in 640x360 1280x720; do
	"$SCENE" --scenario park_leave --quick --classic --seed 1 \
		--width "${size%x*}" --height "${size#*x}" --out "$WORK/$size" \
		>"$WORK/scene-$size.log" 2>&1 || fail "firelane-scene $size"
done
POINTS=$(sed -n 's/^ *points: //p' "$WORK/1280x720/park_leave.yaml")
[ -n "$POINTS" ] || fail "no lane in the 1280x720 scene's config"

P_DET=$(free_port)
P_REC=$(free_port)
# serve FILE PORT: ffmpeg serving FILE in a loop; sets SERVED
serve() {
	ffmpeg -v error -nostdin -re -stream_loop -1 -i "$1" -c copy -f mpegts \
		"tcp://127.0.0.1:$2?listen=1" 2>>"$WORK/server.log" &
	SERVED=$!
	track $SERVED
}
serve "$WORK/640x360/park_leave.mp4" "$P_DET"
DET_PID=$SERVED
serve "$WORK/1280x720/park_leave.mp4" "$P_REC"
REC_PID=$SERVED

cat >"$WORK/live.yaml" <<EOF
device: {id: live-edge, site: live-site, key_file: $WORK/device.key}
cameras:
  - id: cam-1
    detect: tcp://127.0.0.1:$P_DET
    record: {url: "tcp://127.0.0.1:$P_REC", timeout_s: 3}
    width: 1280
    height: 720
    lanes:
      - id: lane-a
        points: $POINTS
        dwell_s: 10
evidence:
  dir: $WORK/ev
  pre_roll_s: 4
  post_roll_s: 2
  interval_s: 5
  max_images: 3
EOF
sleep 1
edge_start "$WORK/live.out" "$WORK/live.log" --config "$WORK/live.yaml" -v

wait_for "$WORK/live.log" "record stream 1280x720 aligned by receive" 60 ||
	fail "the record stream was not aligned by receive time: $(tail -n 3 "$WORK/live.log")"
kill -0 "$EDGE_PID" 2>/dev/null || fail "the live edge exited early: $(tail -n 3 "$WORK/live.log")"

kill "$REC_PID"
wait "$REC_PID" 2>/dev/null || true
wait_for "$WORK/live.log" "record stream lost: .*detection goes on" 30 ||
	fail "the record loss is not logged: $(tail -n 3 "$WORK/live.log")"
# an alarm after the loss (the scene loops: one every ~42 s), its bundle
# sealed with detect pictures
n0=$(grep -c '"type":"alarm"' "$WORK/live.out" || true)
t0=$(date +%s)
until [ "$(grep -c '"type":"alarm"' "$WORK/live.out" || true)" -gt "$n0" ]; do
	[ $(($(date +%s) - t0)) -le 120 ] || fail "no alarm within 120 s of the record loss"
	kill -0 "$EDGE_PID" 2>/dev/null || fail "the edge exited: $(tail -n 3 "$WORK/live.log")"
	sleep 0.5
done
inc=$(grep '"type":"alarm"' "$WORK/live.out" | tail -n 1 | sed -E 's/.*"incident_id":"([^"]*)".*/\1/')
t0=$(date +%s)
until [ -f "$WORK/ev/$inc/manifest.json" ]; do
	[ $(($(date +%s) - t0)) -le 60 ] || fail "the bundle of $inc was not sealed within 60 s"
	sleep 0.5
done
python3 - "$WORK/ev/$inc/manifest.json" <<'EOF' || fail "the bundle during the loss"
import json, sys
m = json.load(open(sys.argv[1]))
assert m.get("record") == "lost", m.get("record")
# the alarm's pictures came after the loss (the rest image may have come
# before it on a slow machine)
later = [f for f in m["files"] if f["kind"] in ("scene", "closeup", "composite")
         and not f["name"].endswith("-rest.jpg")]
assert later and all(f["stream"] == "detect" for f in later), later
EOF
grep -q '"type":"camera_offline"' "$WORK/live.out" &&
	fail "camera_offline for a lost record stream (the detect stream lives)"

serve "$WORK/1280x720/park_leave.mp4" "$P_REC"
REC_PID=$SERVED
wait_for "$WORK/live.log" "cam-1: record stream back" 90 ||
	fail "the record stream did not come back: $(tail -n 3 "$WORK/live.log")"
kill -0 "$EDGE_PID" 2>/dev/null || fail "the edge exited: $(tail -n 3 "$WORK/live.log")"
kill -TERM "$EDGE_PID"
rc=0
wait "$EDGE_PID" || rc=$?
[ "$rc" = 0 ] || fail "the edge exited $rc on SIGTERM: $(tail -n 3 "$WORK/live.log")"
kill "$DET_PID" "$REC_PID" 2>/dev/null || true
echo "two_streams_live: ok"
