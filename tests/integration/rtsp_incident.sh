#!/usr/bin/env bash
# rtsp_incident.sh - a whole incident over RTSP from a live test camera's
# sub-stream, and the same incident with the camera restarted in the middle.
#
# The quick park_leave scene (a car parks past its dwell time and leaves)
# is served by firelane-testcam (docs/testcam.md) as a camera's two streams;
# firelane-edge reads the sub-stream (640x360 H.264, `source:` in its
# config) live, with evidence in WORK/ev. Then:
#   whole     exactly one alarm and one cleared, of one incident; its bundle
#             sealed, verified by firelane-verify, with scene images at the
#             sub-stream's resolution (the band below each image aside),
#             a clip ffprobe decodes, and the device clock's state as this
#             machine's kernel has it (docs/clock.md);
#   restart   the camera is stopped (SIGTERM) after the alarm and started
#             again where its clock is: the edge reports camera_offline and
#             camera_online, and the incident survives - still one alarm,
#             no second incident, cleared under the same id when the car
#             leaves, and its bundle sealed and verified.
# Conditions are waited for, with timeouts that only bound a failure. Skips
# when GStreamer's RTSP server or ffmpeg is missing.
#
# Env: FL_BUILD_DIR (build tree with the programs).
set -eu
. "$(dirname "$0")/lib/harness.sh"
LOG_GLOBS="*.out"
need "$EDGE" "$SCENE" "$VERIFY" ffprobe python3
command -v ffmpeg >/dev/null || skip "ffmpeg not found; no stream can be made"

"$SCENE" --scenario park_leave --quick --classic --seed 1 --width 640 --height 360 \
	--out "$WORK/sc" 2>"$WORK/scene.log" || fail "firelane-scene failed"
testcam_media "$WORK/sc/park_leave.mp4"

# rtsp_config OUT: the scene's config reading the camera's sub-stream,
# with its key in WORK/keys and short pre/post rolls.
rtsp_config() {
	sed -e "s|^    source: .*|    source: $TESTCAM_URL/sub|" \
		-e 's|^device: {id: \([^,}]*\), site: \([^,}]*\)}|device: {id: \1, site: \2, key_file: keys/device.key}|' \
		"$WORK/sc/park_leave.yaml" >"$1"
	printf 'evidence:\n  pre_roll_s: 4\n  post_roll_s: 3\n' >>"$1"
	grep -q "source: $TESTCAM_URL/sub" "$1" || fail "no RTSP source in $1"
}

# count TYPE FILE: events of TYPE in FILE.
count() {
	grep -c "\"type\":\"$1\"" "$2" 2>/dev/null || true
}

# until_event TYPE N FILE SECONDS: wait until FILE holds N events of TYPE,
# the edge still running.
until_event() {
	local i
	for i in $(seq $(($4 * 10))); do
		[ "$(count "$1" "$3")" -ge "$2" ] && return 0
		kill -0 "$EDGE_PID" 2>/dev/null || fail "the edge exited: $(tail -n 5 "$WORK/edge.log")"
		sleep 0.1
	done
	fail "no $1 (#$2) within $4 s; events: $(cut -c1-120 "$3" | tr '\n' ' ')"
}

# check_bundle RUN: the run's one incident, alarmed once and cleared, has a
# sealed bundle that verifies, its scene images at 640x360.
check_bundle() {
	local run=$1 inc
	[ "$(count alarm "$WORK/$run.out")" = 1 ] || fail "$run: $(count alarm "$WORK/$run.out") alarms"
	inc=$(grep '"type":"alarm"' "$WORK/$run.out" | sed -E 's/.*"incident_id":"([^"]*)".*/\1/')
	[ "$(grep '"incident_id":"' "$WORK/$run.out" | grep -v "\"incident_id\":\"$inc\"" |
		grep -vc '"incident_id":""')" = 0 ] || fail "$run: events of another incident than $inc"
	grep '"type":"cleared"' "$WORK/$run.out" | grep -q "\"incident_id\":\"$inc\"" ||
		fail "$run: $inc not cleared"
	for _ in $(seq 300); do
		[ -f "$WORK/ev-$run/$inc/manifest.sig" ] && break
		sleep 0.1
	done
	[ -f "$WORK/ev-$run/$inc/manifest.sig" ] || fail "$run: no sealed bundle for $inc"
	"$VERIFY" "$WORK/ev-$run/$inc" >"$WORK/verify-$run.log" 2>&1 ||
		fail "$run: firelane-verify rejects the bundle: $(tail -n 3 "$WORK/verify-$run.log")"
	grep -q ': device clock: ' "$WORK/verify-$run.log" ||
		fail "$run: firelane-verify does not say how the device clock stood"
	python3 - "$WORK/ev-$run/$inc" <<'EOF' || fail "$run: bundle check"
import json, os, subprocess, sys
b = sys.argv[1]
m = json.load(open(os.path.join(b, "manifest.json"), encoding="utf-8"))
scenes = [f for f in m["files"] if f["kind"] == "scene"]
assert len(scenes) >= 3, "%d scene images" % len(scenes)
for f in scenes:
    w, h = subprocess.check_output(
        ["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of",
         "csv=p=0", os.path.join(b, f["name"])], text=True).strip().split(",")
    assert int(w) == 640 and int(h) >= 360, "%s is %sx%s" % (f["name"], w, h)
# the device clock as the kernel says (docs/clock.md), and the bundle's
# record of it: this machine's state, the same way
import ctypes
class Timex(ctypes.Structure):
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("rest", ctypes.c_char * 256)]
tx = Timex()
state = ctypes.CDLL(None).adjtimex(ctypes.byref(tx))
synced = state != 5 and not (tx.status & 0x40)  # TIME_ERROR, STA_UNSYNC
assert m["clock_synced"] is synced, (m["clock_synced"], state, tx.status)
assert isinstance(m["clock_maxerror_s"], (int, float)) and isinstance(m["clock_esterror_s"], (int, float))
trusted = synced and m["clock_maxerror_s"] <= 1.0
assert m["clock_trusted"] is trusted, m
assert any(n.startswith("clock: ") for n in m["notes"]) == (not trusted), m["notes"]
clips = [f for f in m["files"] if f["kind"] == "clip"]
assert len(clips) == 1, clips
n = subprocess.check_output(
    ["ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames",
     "-of", "csv=p=0", os.path.join(b, clips[0]["name"])], text=True).strip()
assert int(n) > 25, "the clip decodes to %s frames" % n
EOF
	echo "$NAME: $run: one incident $inc, alarm and cleared, bundle verified"
}

# ---- whole: the incident, undisturbed -------------------------------------
testcam_start
mkdir -p "$WORK/keys"
rtsp_config "$WORK/edge.yaml"
edge_start "$WORK/whole.out" "$WORK/edge.log" --config "$WORK/edge.yaml" --evidence-dir "$WORK/ev-whole"
until_event alarm 1 "$WORK/whole.out" 90
until_event cleared 1 "$WORK/whole.out" 90
check_bundle whole
edge_stop 30
testcam_stop

# ---- restart: the camera restarted mid-incident ------------------------------
TESTCAM_EPOCH=
testcam_start
edge_start "$WORK/restart.out" "$WORK/edge.log" --config "$WORK/edge.yaml" --evidence-dir "$WORK/ev-restart"
until_event alarm 1 "$WORK/restart.out" 90
testcam_stop
until_event camera_offline 1 "$WORK/restart.out" 60
testcam_start
until_event camera_online 1 "$WORK/restart.out" 60
until_event cleared 1 "$WORK/restart.out" 90
check_bundle restart
edge_stop 30
testcam_stop
echo "$NAME: ok"
