#!/usr/bin/env bash
# hwaccel.sh - hardware decoding asked for on a box without it: the camera
# runs on the software decoder and says so (docs/cameras.md, "Hardware
# decoding").
#
# The quick park_leave scene (640x360, a car parks past its dwell time and
# leaves), replayed by firelane-edge with detect.hwaccel:
#   none        the default, explicit: one INFO line "decoding with h264
#               (software)"; the reference events;
#   vaapi       device-wide (detect.hwaccel): no GPU here, so a WARN line
#               that vaapi did not open and that h264 (software) runs, and
#               the same events (occupied, alarm, cleared at the same video
#               times) - the incident still alarms;
#   auto        the camera's own (cameras[].detect: {url, hwaccel}): every
#               candidate tried, an INFO line (not a warning) that software
#               runs, the same events;
#   typo        hwaccel: nvdec - refused at load with file:line and the
#               names allowed; so is hwaccel under record;
#   rtsp        live, from the RTSP test camera's two streams (docs/
#               testcam.md), the sub-stream with hwaccel: vaapi: the WARN
#               line names the stream, and the incident alarms (left out,
#               with a message, where GStreamer's RTSP server is missing).
# No hardware path runs on this machine; this checks the fall-back only.
#
# Env: FL_BUILD_DIR (build tree with the programs).
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$EDGE" "$SCENE" python3
command -v ffmpeg >/dev/null || skip "ffmpeg not found; no scene can be made"

"$SCENE" --scenario park_leave --quick --classic --seed 1 --width 640 --height 360 \
	--out "$WORK/sc" >"$WORK/scene.log" 2>&1 || fail "firelane-scene failed"
CLIP=$WORK/sc/park_leave.mp4
sed "s|source: |source: $WORK/sc/|" "$WORK/sc/park_leave.yaml" >"$WORK/base.yaml"
grep -q "source: $CLIP" "$WORK/base.yaml" || fail "no source in the scene's config"

# run NAME CONFIG: replay CONFIG (-v: INFO lines too) into WORK/NAME.jsonl
# and WORK/NAME.log.
run() {
	edge_run /dev/null "$WORK/$1.log" -v --config "$2" --replay \
		--events-out "$WORK/$1.jsonl"
}

# events FILE: the incident's events with their video times, one a line.
events() {
	python3 - "$1" <<'PY'
import json, sys
for e in map(json.loads, open(sys.argv[1])):
    if e["type"] in ("occupied", "alarm", "cleared"):
        print(e["type"], e["video_time_s"])
PY
}

# says NAME LEVEL TEXT: WORK/NAME.log has exactly one "decoding with" line
# of the camera's source, at LEVEL, containing TEXT.
says() {
	local lines
	lines=$(grep -F "$CLIP: decoding with " "$WORK/$1.log" || true)
	[ "$(printf '%s\n' "$lines" | grep -c .)" = 1 ] ||
		fail "$1: not one decoder line: $lines"
	printf '%s\n' "$lines" | grep -qF ": $2: source: " ||
		fail "$1: the decoder line is not at $2: $lines"
	printf '%s\n' "$lines" | grep -qF "$3" || fail "$1: no '$3' in: $lines"
}

# ---- none: the reference ---------------------------------------------------
cp "$WORK/base.yaml" "$WORK/none.yaml"
printf 'detect:\n  hwaccel: none\n' >>"$WORK/none.yaml"
run none "$WORK/none.yaml"
events "$WORK/none.jsonl" >"$WORK/none.ev"
grep -q '^alarm ' "$WORK/none.ev" || fail "none: no alarm: $(cat "$WORK/none.ev")"
grep -q '^cleared ' "$WORK/none.ev" || fail "none: not cleared: $(cat "$WORK/none.ev")"
says none info "decoding with h264 (software)"

# ---- vaapi, device-wide: fails here, falls back with a warning -------------
cp "$WORK/base.yaml" "$WORK/vaapi.yaml"
printf 'detect:\n  hwaccel: vaapi\n' >>"$WORK/vaapi.yaml"
run vaapi "$WORK/vaapi.yaml"
events "$WORK/vaapi.jsonl" >"$WORK/vaapi.ev"
cmp -s "$WORK/none.ev" "$WORK/vaapi.ev" ||
	fail "vaapi: events differ: $(paste -d' ' "$WORK/none.ev" "$WORK/vaapi.ev" | tr '\n' ';')"
says vaapi warn "decoding with h264 (software): hwaccel vaapi did not open (vaapi: "

# ---- auto, the camera's own: every candidate tried, software runs ----------
sed "s|^    source: .*|    detect: {url: \"$CLIP\", hwaccel: auto}|" "$WORK/base.yaml" >"$WORK/auto.yaml"
grep -q "hwaccel: auto" "$WORK/auto.yaml" || fail "auto: no detect stream in the config"
printf 'detect:\n  hwaccel: vaapi\n' >>"$WORK/auto.yaml" # the camera's own wins
run auto "$WORK/auto.yaml"
events "$WORK/auto.jsonl" >"$WORK/auto.ev"
cmp -s "$WORK/none.ev" "$WORK/auto.ev" ||
	fail "auto: events differ: $(paste -d' ' "$WORK/none.ev" "$WORK/auto.ev" | tr '\n' ';')"
says auto info "decoding with h264 (software): hwaccel auto did not open (vaapi: "
for name in cuda qsv v4l2m2m; do
	grep -F "$CLIP: decoding with " "$WORK/auto.log" | grep -qF "$name: " ||
		fail "auto: $name not tried: $(grep -F 'decoding with' "$WORK/auto.log")"
done

# ---- a name that is not one: refused at load, with file:line ---------------
cp "$WORK/base.yaml" "$WORK/typo.yaml"
printf 'detect:\n  hwaccel: nvdec\n' >>"$WORK/typo.yaml"
line=$(grep -n 'hwaccel: nvdec' "$WORK/typo.yaml" | cut -d: -f1)
if "$EDGE" --config "$WORK/typo.yaml" --check-config >"$WORK/typo.out" 2>&1; then
	fail "typo: hwaccel: nvdec accepted"
fi
grep -qF "typo.yaml:$line: detect.hwaccel: unknown 'nvdec' (expected none, auto, vaapi" "$WORK/typo.out" ||
	fail "typo: $(cat "$WORK/typo.out")"
sed "s|^    source: .*|    detect: $CLIP\n    record: {url: \"$CLIP\", hwaccel: auto}|" \
	"$WORK/base.yaml" >"$WORK/rec.yaml"
if "$EDGE" --config "$WORK/rec.yaml" --check-config >"$WORK/rec.out" 2>&1; then
	fail "record: hwaccel under record accepted"
fi
grep -qF "record.hwaccel: the record stream is not decoded" "$WORK/rec.out" ||
	fail "record: $(cat "$WORK/rec.out")"
echo "$NAME: none, vaapi and auto decode in software with the same events; typos refused"

# ---- rtsp: live, two streams, vaapi asked for ------------------------------
if ! "$TESTCAM" --check 2>"$WORK/testcam.check"; then
	echo "$NAME: ok; the live leg left out: no RTSP test camera: $(cat "$WORK/testcam.check")"
	exit 0
fi
testcam_media "$CLIP"
testcam_start
POINTS=$(sed -n 's/^ *points: //p' "$WORK/base.yaml" |
	awk '{ s = $0; o = ""
		while (match(s, /[0-9.]+/)) {
			o = o substr(s, 1, RSTART - 1) substr(s, RSTART, RLENGTH) * 3
			s = substr(s, RSTART + RLENGTH)
		}
		print o s }')
sed -e "s|^    source: .*|    detect: {url: \"$TESTCAM_URL/sub\", hwaccel: vaapi}\n    record: \"$TESTCAM_URL/main\"\n    width: 1920\n    height: 1080|" \
	-e "s|^        points: .*|        points: $POINTS|" \
	-e "s|^device: {\(.*\)}|device: {\1, state_dir: $WORK/state}|" \
	"$WORK/base.yaml" >"$WORK/rtsp.yaml"
grep -q "hwaccel: vaapi" "$WORK/rtsp.yaml" || fail "rtsp: no detect stream in the config"
edge_start "$WORK/rtsp.out" "$WORK/rtsp.log" --config "$WORK/rtsp.yaml"
wait_for "$WORK/rtsp.out" '"type":"alarm"' 120 ||
	fail "rtsp: no alarm within 120 s: $(cut -c1-100 "$WORK/rtsp.out" | tr '\n' ' ')"
edge_stop 30
testcam_stop
lines=$(grep -F "$TESTCAM_URL/sub: decoding with " "$WORK/rtsp.log" || true)
[ "$(printf '%s\n' "$lines" | grep -c .)" = 1 ] || fail "rtsp: not one decoder line: $lines"
printf '%s\n' "$lines" | grep -qF ": warn: source: $TESTCAM_URL/sub: decoding with h264 (software): hwaccel vaapi did not open" ||
	fail "rtsp: $lines"
echo "$NAME: ok; live from the test camera with vaapi asked for: software, and the alarm"
