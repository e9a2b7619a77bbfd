#!/usr/bin/env bash
# rtsp_h265_stop.sh - an edge with an H.265 record stream stopped during an
# open incident whose clip is still being re-encoded (docs/evidence.md,
# "Clip": the stop).
#
# park_leave (--quick, seed 1: a car parks at 8.5 s and is alarmed 10 s
# later) is served by the RTSP test camera (docs/testcam.md): /sub 640x360
# H.264 is the detect stream, /main 1280x720 H.265 the record stream. The
# clip of an incident is re-encoded to H.264 by a worker thread; here every
# packet costs it 60 ms more (the test seam --test-slow-clip), so it lags
# behind the stream by seconds of work, as a 1440p stream on a busy device
# does. The post-roll is long, so the clip is still open at the alarm, and
# the edge gets SIGTERM right after it. Checks:
#   - the edge exits 0 within 12 s of SIGTERM (systemd's TimeoutStopSec is
#     15 s: systemd/firelane-edge.service.in), not after the whole lag;
#   - the incident's bundle is sealed and firelane-verify accepts it;
#   - the manifest is truthful: a note says the clip ends early, where and
#     why; the clip's t_to is that end, before the last video it was given;
#     the MP4 lasts t_to - t_from;
#   - the camera's CPU figure (the one heartbeats report) counts the record
#     stream's thread and the clip's re-encoding worker, logged at exit.
#
# Env: FL_BUILD_DIR (build tree with the programs).
set -eu
. "$(dirname "$0")/lib/harness.sh"
LOG_GLOBS="*.out"
need "$EDGE" "$SCENE" "$VERIFY" ffprobe python3
command -v ffmpeg >/dev/null || skip "ffmpeg not found; no stream can be made"

"$TESTCAM" --check 2>"$WORK/.testcam" || skip "no RTSP test camera: $(cat "$WORK/.testcam")"
"$SCENE" --scenario park_leave --quick --classic --seed 1 --width 640 --height 360 \
	--out "$WORK/sc" 2>"$WORK/scene.log" || fail "firelane-scene failed"
# the camera's two streams (testcam_media's, made cheaper: the first 24 s
# of the scene, up to a few seconds after the alarm; the main stream
# 1280x720, which re-encodes as H.265 does at any size)
mkdir -p "$WORK/testcam"
ffmpeg -nostdin -v error -y -i "$WORK/sc/park_leave.mp4" -t 24 -c:v libx264 -preset veryfast \
	-g 25 -bf 0 -pix_fmt yuv420p "$WORK/testcam/sub.mp4" 2>"$WORK/testcam-media.log" ||
	fail "the sub-stream: $(tail -n 3 "$WORK/testcam-media.log")"
ffmpeg -nostdin -v error -y -i "$WORK/sc/park_leave.mp4" -t 24 -vf scale=1280:720 -c:v libx265 \
	-preset ultrafast -x265-params keyint=25:bframes=0:log-level=error -pix_fmt yuv420p \
	"$WORK/testcam/main.mp4" 2>>"$WORK/testcam-media.log" ||
	fail "the main stream: $(tail -n 3 "$WORK/testcam-media.log")"
TESTCAM_CODEC=h265
# the lane as drawn on the record picture (twice the scene's pixels)
POINTS=$(python3 -c 'import json,sys; print(json.dumps([[2 * x, 2 * y] for x, y in json.load(open(sys.argv[1]))["zones"][0]["points"]]))' \
	"$WORK/sc/park_leave.json") || fail "no lane in the scene"

testcam_start --loop
mkdir -p "$WORK/keys"
cat >"$WORK/edge.yaml" <<EOF
device: {id: h265-edge, site: h265-site, key_file: $WORK/keys/device.key}
cameras:
  - id: cam-1
    detect: $TESTCAM_URL/sub
    record: $TESTCAM_URL/main
    width: 1280
    height: 720
    lanes:
      - id: lane-a
        points: $POINTS
        dwell_s: 10
evidence:
  dir: $WORK/ev
  pre_roll_s: 4
  post_roll_s: 60
  interval_s: 4
  max_images: 3
EOF
edge_start "$WORK/edge.out" "$WORK/edge.log" --config "$WORK/edge.yaml" -v \
	--test-slow-clip 60
wait_for "$WORK/edge.log" "cam-1: pre-roll ring .* hevc 1280x720" 60 ||
	fail "the H.265 record stream did not join: $(tail -n 3 "$WORK/edge.log")"
wait_for "$WORK/edge.out" '"type":"alarm"' 90 ||
	fail "no alarm within 90 s: $(tail -n 3 "$WORK/edge.log")"
inc=$(grep '"type":"alarm"' "$WORK/edge.out" | head -n 1 |
	sed -E 's/.*"incident_id":"([^"]*)".*/\1/')
[ ! -e "$WORK/ev/$inc" ] || fail "the bundle of $inc was sealed before the stop"

# ---- the stop: in time, nothing lost -------------------------------------------
t0=$(date +%s.%N)
kill -TERM "$EDGE_PID"
wait_gone "$EDGE_PID" 60 || fail "the edge did not stop within 60 s of SIGTERM"
took=$(python3 -c "import time; print('%.1f' % (time.time() - $t0))")
rc=0
wait "$EDGE_PID" || rc=$?
[ "$rc" = 0 ] || fail "the edge exited $rc on SIGTERM: $(tail -n 3 "$WORK/edge.log")"
# the one timing this test asserts: a contract (systemd kills after 15 s)
python3 -c "import sys; sys.exit(0 if $took < 12 else 1)" ||
	fail "the edge took $took s to stop (systemd gives 15 s)"

BUNDLE=$WORK/ev/$inc
[ -f "$BUNDLE/manifest.sig" ] || fail "the bundle of $inc was not sealed at the stop"
"$VERIFY" "$BUNDLE" >"$WORK/verify.log" 2>&1 ||
	fail "firelane-verify rejects the bundle: $(cat "$WORK/verify.log")"
python3 - "$BUNDLE" <<'EOF' || fail "the manifest does not say what the clip covers"
import json, os, re, subprocess, sys
b = sys.argv[1]
m = json.load(open(os.path.join(b, "manifest.json")))
clips = [f for f in m["files"] if f["kind"] == "clip"]
assert len(clips) == 1, (m["files"], m.get("notes"))
c = clips[0]
notes = [n for n in m.get("notes", []) if n.startswith("clip ends early")]
assert len(notes) == 1, m.get("notes")
g = re.match(r"clip ends early, at (-?[0-9.]+) s instead of (-?[0-9.]+) s: "
             r"the edge was stopping", notes[0])
assert g, notes[0]
end, given = float(g.group(1)), float(g.group(2))
assert abs(c["t_to"] - end) < 0.06, (c["t_to"], notes[0])
assert end < given - 1, notes[0]
dur = float(subprocess.check_output(
    ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
     "csv=p=0", os.path.join(b, c["name"])], text=True))
assert abs(dur - (c["t_to"] - c["t_from"])) < 0.2, (dur, c)
print("clip %.1f-%.1f s of %.1f s: %s" % (c["t_from"], c["t_to"], given, notes[0]))
EOF

# ---- the camera's CPU: its record stream's thread and clip worker count ------
cpu=$(sed -n 's/.*cam-1: [0-9]* frames, .*; CPU \([0-9.]*\) s, of which the record stream \([0-9.]*\) s and the clips. re-encoding \([0-9.]*\) s.*/\1 \2 \3/p' "$WORK/edge.log")
[ -n "$cpu" ] || fail "no CPU figures at exit: $(tail -n 3 "$WORK/edge.log")"
python3 - $cpu <<'EOF' || fail "the camera's CPU leaves out its other threads: $cpu"
import sys
cpu, rec, clip = map(float, sys.argv[1:])
assert rec > 0 and clip > 0.5, (rec, clip)
assert cpu > rec + clip, (cpu, rec, clip)
EOF
echo "$NAME: ok (stopped in $took s; CPU total, record stream, clips: $cpu s)"
