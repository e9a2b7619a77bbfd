#!/usr/bin/env bash
# rtsp_record.sh - a live camera's record stream, read by a thread of its
# own (docs/evidence.md, "Two streams"): missing at start and joining,
# evidence at its resolution, stalled while detection goes on, and back.
#
# park_leave (--quick, seed 1: a car parks at 8.5 s of a 42.5 s scene and
# leaves at 30.5 s) is served in a loop by two test cameras on one clock
# (docs/testcam.md): camera A's /sub (640x360) is the detect stream, camera
# B's /main (1920x1080 H.264) the record stream. Two processes, because a
# stalled test camera stalls all its streams. Checks:
#   join   the edge starts before B: detection runs on A, the record stream
#          is retried and joins once B is up (between incidents); the next
#          incident's bundle says record "ok", its scene images are
#          1920x1080 from the record stream aligned by receive time, and
#          its clip is 1920x1080;
#   clip   a later bundle's clip is cut on the detect clock: the car stops
#          moving in it when detection saw it come to rest;
#   stall  B stalls (connections open, nothing sent) for longer than the
#          next incident takes: the loss is logged after the read timeout,
#          no camera_offline goes out, the next alarm comes, and its bundle
#          says record "lost" with its alarm pictures from the detect
#          stream;
#   back   B resumes: "record stream back", and one of the next two alarms
#          (the first may belong to an incident the loss reached) has its
#          bundle from the record stream again (record "ok");
#   gap    at exit the camera's longest gap between two detect frames is
#          under 5 s: far less than the stall (more than 40 s) and than
#          the read timeout (10 s) for which a stalled record stream held
#          detection while the camera thread read it itself.
# Conditions are waited for; the timeouts only bound a failure. Skips when
# GStreamer's RTSP server or ffmpeg is missing.
#
# Env: FL_BUILD_DIR (build tree with the programs).
set -eu
. "$(dirname "$0")/lib/harness.sh"
LOG_GLOBS="*.out"
need "$EDGE" "$SCENE" ffprobe python3
command -v ffmpeg >/dev/null || skip "ffmpeg not found; no stream can be made"

"$SCENE" --scenario park_leave --quick --classic --seed 1 --width 640 --height 360 \
	--out "$WORK/sc" 2>"$WORK/scene.log" || fail "firelane-scene failed"
testcam_media "$WORK/sc/park_leave.mp4"
# the lane as drawn on the record picture (three times the scene's pixels)
POINTS=$(python3 -c 'import json,sys; print(json.dumps([[3 * x, 3 * y] for x, y in json.load(open(sys.argv[1]))["zones"][0]["points"]]))' \
	"$WORK/sc/park_leave.json") || fail "no lane in the scene"

count() {
	grep -c "\"type\":\"$1\"" "$WORK/edge.out" 2>/dev/null || true
}

# bundle_of_alarm N SECONDS: wait for alarm #N and its sealed bundle
# (BUNDLE), the edge running.
bundle_of_alarm() {
	local t0 inc
	t0=$(date +%s)
	until [ "$(count alarm)" -ge "$1" ]; do
		[ $(($(date +%s) - t0)) -le "$2" ] || fail "no alarm #$1 within $2 s"
		kill -0 "$EDGE_PID" 2>/dev/null || fail "the edge exited: $(tail -n 3 "$WORK/edge.log")"
		sleep 0.2
	done
	inc=$(grep '"type":"alarm"' "$WORK/edge.out" | sed -n "$1p" |
		sed -E 's/.*"incident_id":"([^"]*)".*/\1/')
	t0=$(date +%s)
	until [ -f "$WORK/ev/$inc/manifest.sig" ]; do
		[ $(($(date +%s) - t0)) -le 90 ] || fail "the bundle of $inc was not sealed within 90 s"
		sleep 0.2
	done
	BUNDLE=$WORK/ev/$inc
}

testcam_start --loop
P_REC=$(free_port) # camera B's, before it runs
mkdir -p "$WORK/keys"
cat >"$WORK/edge.yaml" <<EOF
device: {id: rec-edge, site: rec-site, key_file: $WORK/keys/device.key}
cameras:
  - id: cam-1
    detect: $TESTCAM_URL/sub
    record: rtsp://127.0.0.1:$P_REC/main
    width: 1920
    height: 1080
    lanes:
      - id: lane-a
        points: $POINTS
        dwell_s: 10
evidence:
  dir: $WORK/ev
  pre_roll_s: 4
  post_roll_s: 3
  interval_s: 4
  max_images: 3
EOF

# ---- join: the record stream comes after the edge ---------------------------
edge_start "$WORK/edge.out" "$WORK/edge.log" --config "$WORK/edge.yaml" -v
wait_for "$WORK/edge.log" "cam-1: record stream, attempt [0-9]+: " 60 ||
	fail "the missing record stream is not retried: $(tail -n 3 "$WORK/edge.log")"
TESTCAM2_PORT=$P_REC
testcam_start2 --loop
wait_for "$WORK/edge.log" "cam-1: record stream 1920x1080 found" 90 ||
	fail "the record stream was not found: $(tail -n 3 "$WORK/edge.log")"
wait_for "$WORK/edge.log" "cam-1: pre-roll ring .* h264 1920x1080" 120 ||
	fail "the record stream did not join: $(tail -n 3 "$WORK/edge.log")"
n=$(count alarm)
bundle_of_alarm $((n + 1)) 120
python3 - "$BUNDLE" <<'EOF' || fail "join: the bundle of the record stream"
import json, os, subprocess, sys
b = sys.argv[1]
m = json.load(open(os.path.join(b, "manifest.json")))
assert m.get("record") == "ok", m.get("record")
def size(name):
    w, h = subprocess.check_output(
        ["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of",
         "csv=p=0", os.path.join(b, name)], text=True).strip().split(",")
    return int(w), int(h)
scenes = [f for f in m["files"] if f["kind"] == "scene"]
assert scenes, m["files"]
for f in scenes:
    assert f["stream"] == "record" and f["aligned"] == "receive", f
    assert size(f["name"]) == (1920, 1080 + f["banner_px"]), (f["name"], size(f["name"]))
clips = [f for f in m["files"] if f["kind"] == "clip"]
assert len(clips) == 1 and size(clips[0]["name"]) == (1920, 1080), clips
EOF
echo "$NAME: join: $(basename "$BUNDLE") from the record stream at 1920x1080"

# ---- clip: on the detect clock ------------------------------------------------
# One loop later the ring reaches back over the whole pre-roll. The clip's
# t_from/t_to are detect times, and it is cut at those instants on the
# record stream's clock (detect time + the offset, several seconds here):
# the car, still driving in at its start, stops moving in the clip when
# detection saw it come to rest (rest_since, which the still model dates
# about a second before the car's last creep), and the clip's frame at a
# still's stream_t is that still's picture.
bundle_of_alarm $((n + 2)) 120
python3 - "$BUNDLE" <<'EOF' || fail "clip: not cut on the detect clock"
import json, os, subprocess, sys
b = sys.argv[1]
m = json.load(open(os.path.join(b, "manifest.json")))
late = [n for n in m.get("notes", []) if n.startswith("clip starts at")]
assert not late, late
clip = [f for f in m["files"] if f["kind"] == "clip"][0]
rest = [f for f in m["files"] if f["kind"] == "scene" and "rest" in f["name"]][0]
rest_t = m["rest_since_wall"] - rest["wall"] + rest["video_t"]  # detect clock
x, y, w, h = [round(3 * v) for v in m["bbox"]]  # record pixels
crop = f"crop={w}:{h}:{x}:{y},scale=32:32,format=gray"
def gray(path, pre="", t=None):
    return subprocess.check_output(
        ["ffmpeg", "-v", "error"] + (["-ss", "%.3f" % t] if t is not None else [])
        + ["-i", path, "-frames:v", "1", "-vf", pre + crop, "-f", "rawvideo", "-"])
def diff(a, c):
    return sum(abs(p - q) for p, q in zip(a, c)) / len(a)
path = os.path.join(b, clip["name"])
still = gray(os.path.join(b, rest["name"]), f"crop=1920:1080:0:{rest['banner_px']},")
start, same = gray(path), gray(path, t=rest["stream_t"] - clip["t_from"])
# the car's motion in its box: the change over 0.4 s (ten frames; more than
# a keyframe's new grain, less than a car's move), until a little after rest
raw = subprocess.check_output(["ffmpeg", "-v", "error", "-i", path, "-vf", crop,
                               "-f", "rawvideo", "-"])
fr = [raw[i:i + 1024] for i in range(0, len(raw), 1024)]
fps = len(fr) / (clip["t_to"] - clip["t_from"])
moving = [clip["t_from"] + (i + 10) / fps for i in range(len(fr) - 10)
          if diff(fr[i], fr[i + 10]) > 3]
moving = [t for t in moving if t < rest_t + 4]
print(f"t_from {clip['t_from']:.2f} rest {rest_t:.2f}; motion until "
      f"{moving[-1] if moving else float('nan'):.2f}; the box at the clip's start "
      f"{diff(start, still):.1f}, at the still's stream_t {diff(same, still):.1f} "
      "(mean grey levels from the rest still)")
assert moving and rest_t - 1 <= moving[-1] <= rest_t + 2.5, moving[-3:]
assert diff(start, still) > 15 and diff(same, still) < 8
EOF
echo "$NAME: clip: $(basename "$BUNDLE") cut on the detect clock"

# ---- stall: the record stream hangs, detection goes on ----------------------
n=$(count alarm)
testcam_stall "$TESTCAM2_PID"
wait_for "$WORK/edge.log" "cam-1: record stream lost: .*detection goes on" 60 ||
	fail "the stalled record stream is not noticed: $(tail -n 3 "$WORK/edge.log")"
bundle_of_alarm $((n + 1)) 120
python3 - "$BUNDLE" <<'EOF' || fail "stall: the bundle during the stall"
import json, os, sys
m = json.load(open(os.path.join(sys.argv[1], "manifest.json")))
assert m.get("record") == "lost", m.get("record")
alarm = [f for f in m["files"] if f["kind"] in ("scene", "closeup", "composite")
         and f["wall"] >= m["alarm_wall"] - 1e-3]
assert alarm and all(f["stream"] == "detect" for f in alarm), alarm
EOF
[ "$(count camera_offline)" = 0 ] || fail "camera_offline for a stalled record stream"
echo "$NAME: stall: alarm #$((n + 1)) during the stall, record \"lost\", no camera_offline"

# ---- back ---------------------------------------------------------------------
testcam_stall "$TESTCAM2_PID"
wait_for "$WORK/edge.log" "cam-1: record stream back" 90 ||
	fail "the record stream did not come back: $(tail -n 3 "$WORK/edge.log")"
n=$(count alarm)
for k in 1 2; do
	bundle_of_alarm $((n + k)) 120
	python3 - "$BUNDLE" <<'EOF' && break
import json, os, sys
m = json.load(open(os.path.join(sys.argv[1], "manifest.json")))
ok = m.get("record") == "ok" and all(
    f["stream"] == "record" for f in m["files"] if f["kind"] == "scene")
sys.exit(0 if ok else 1)
EOF
	[ "$k" = 1 ] || fail "back: neither alarm after the return has its bundle from the record stream"
done
echo "$NAME: back: $(basename "$BUNDLE") from the record stream again"
edge_stop 30

# ---- gap: detection was never held --------------------------------------------
gap=$(sed -n 's/.*cam-1: [0-9]* frames, the longest gap between two \([0-9.]*\) s.*/\1/p' "$WORK/edge.log")
[ -n "$gap" ] || fail "no frame gap in the log"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 5 else 1)" "$gap" ||
	fail "detection was held for $gap s"
echo "$NAME: ok (the longest gap between two detect frames $gap s)"
