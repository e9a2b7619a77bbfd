#!/usr/bin/env bash
# two_streams.sh - a camera with a detect and a record stream, from files
# (docs/evidence.md, "Two streams").
#
# One scene (park_leave, --quick, seed 1) rendered twice by firelane-scene:
# 640x360 (the sub-stream) and 1920x1080 (the main stream). The config has
# detect: the small file, record: the large one, and the lane as the
# generator drew it on the large picture (record pixels). Checks:
#   both        the same events (occupied, alarm, cleared at the same video
#               times) as the small file alone with its own lane (the lane
#               drawn in record pixels lands where the small one lies); the
#               bundle verifies; every scene image is 1920 wide and 1080
#               plus its band high, and says stream "record" with the frame
#               time it has (within one frame of the instant) and how the
#               clocks were aligned ("start" for files); the close-up is
#               larger than the detect box could give; the clip is
#               1920x1080; the manifest says record "ok";
#   cut         the record file cut at 13 s (before the alarm at ~17.6 s):
#               detection is unchanged, the rest image still comes from the
#               record stream, the later ones from the detect frame
#               (stream "detect", 640 wide), the manifest says record "lost";
#   missing     no record file: the same events, stills from the detect
#               stream, record "lost", the log says why; without
#               width/height (the record size) the camera refuses to start,
#               naming the keys;
#   aspect      a 4:3 record stream with a 16:9 detect stream: refused,
#               naming cameras[].detect and cameras[].record.
#
# Env: FL_BUILD_DIR (build tree with the programs).
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$EDGE" "$SCENE" "$VERIFY" ffprobe ffmpeg python3

for size in 640x360 1920x1080; do
	"$SCENE" --scenario park_leave --quick --classic --seed 1 \
		--width "${size%x*}" --height "${size#*x}" --out "$WORK/$size" \
		>"$WORK/scene-$size.log" 2>&1 || fail "firelane-scene $size"
done
SMALL=$WORK/640x360/park_leave.mp4
BIG=$WORK/1920x1080/park_leave.mp4
POINTS=$(sed -n 's/^ *points: //p' "$WORK/1920x1080/park_leave.yaml")
[ -n "$POINTS" ] || fail "no lane in the 1920x1080 scene's config"

# config OUT RECORD [EXTRA]: detect the small file, record RECORD, the lane
# in the large picture's pixels; EXTRA goes into the camera (width/height).
config() {
	cat >"$1" <<EOF
device: {id: two-edge, site: two-site, key_file: $WORK/device.key}
cameras:
  - id: cam-1
    detect: $SMALL
    record: {url: $2, timeout_s: 5}
$3    lanes:
      - id: lane-a
        points: $POINTS
        dwell_s: 10
evidence:
  pre_roll_s: 6
  post_roll_s: 4
EOF
}

# the small file alone, with the lane the generator drew on it
sed "s|source: |source: $WORK/640x360/|; s|^device: {\(.*\)}|device: {\1, key_file: $WORK/device.key}|" \
	"$WORK/640x360/park_leave.yaml" >"$WORK/one.yaml"
edge_run /dev/null "$WORK/edge-one.log" --config "$WORK/one.yaml" --replay \
	--events-out "$WORK/one.jsonl" --evidence-dir "$WORK/ev-one"
grep -q '"type":"alarm"' "$WORK/one.jsonl" || fail "the small file alone raised no alarm"

# check NAME EVDIR EVENTS: the events equal the single stream's, one bundle
# that verifies; prints the manifest's path
check_run() {
	python3 - "$WORK/one.jsonl" "$3" <<'EOF' || fail "$1: events differ from the single stream's"
import json, sys
def ev(p):
    return [(e["type"], e["video_time_s"]) for e in map(json.loads, open(p))
            if e["type"] in ("occupied", "alarm", "cleared")]
a, b = ev(sys.argv[1]), ev(sys.argv[2])
if a != b:
    sys.exit("single %r, two streams %r" % (a, b))
EOF
	local b
	b=$(find "$2" -mindepth 1 -maxdepth 1 -type d ! -name '.*')
	[ "$(printf '%s\n' "$b" | wc -l)" = 1 ] && [ -n "$b" ] || fail "$1: expected one bundle, got: $b"
	"$VERIFY" "$b" >"$WORK/verify-$1.log" 2>&1 || fail "$1: the bundle does not verify: $(tail -n 3 "$WORK/verify-$1.log")"
	BUNDLE=$b
}

# images BUNDLE: name width height of every JPEG in it
images() {
	python3 - "$1" <<'EOF'
import os, struct, sys
for n in sorted(os.listdir(sys.argv[1])):
    if not n.endswith(".jpg"):
        continue
    d = open(os.path.join(sys.argv[1], n), "rb").read()
    i = 2
    while i < len(d):
        if d[i] != 0xFF:
            i += 1
            continue
        if d[i + 1] in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", d[i + 5:i + 9])
            print(n, w, h)
            break
        i += 2 + struct.unpack(">H", d[i + 2:i + 4])[0]
EOF
}

# ---- both streams -----------------------------------------------------------
config "$WORK/both.yaml" "$BIG" ""
edge_run /dev/null "$WORK/edge-both.log" --config "$WORK/both.yaml" --replay \
	--events-out "$WORK/both.jsonl" --evidence-dir "$WORK/ev-both" -v
grep -q "detect 640x360, record 1920x1080: lanes scaled" "$WORK/edge-both.log" ||
	fail "both: no scaling line in the log"
check_run both "$WORK/ev-both" "$WORK/both.jsonl"
images "$BUNDLE" >"$WORK/sizes-both"
python3 - "$BUNDLE" "$WORK/sizes-both" "$WORK/one.jsonl" <<'EOF' >"$WORK/check-both.log" 2>&1 || fail "both: $(tail -n 3 "$WORK/check-both.log")"
import json, os, sys
bdir, sizes, one = sys.argv[1:]
m = json.load(open(os.path.join(bdir, "manifest.json")))
size = {l.split()[0]: (int(l.split()[1]), int(l.split()[2])) for l in open(sizes)}
assert m.get("record") == "ok", m.get("record")
scenes = [f for f in m["files"] if f["kind"] == "scene"]
assert len(scenes) >= 3, len(scenes)
for f in scenes:
    assert size[f["name"]] == (1920, 1080 + f["banner_px"]), (f["name"], size[f["name"]])
for f in m["files"]:
    if f["kind"] in ("scene", "closeup", "composite"):
        assert f.get("stream") == "record" and f.get("aligned") == "start", f
        assert abs(f["stream_t"] - f["video_t"]) <= 0.04 + 1e-6, f
# the box is in detect pixels; the close-up of the record picture is
# larger than the detect box grown by its margins could be
bw, bh = m["bbox"][2], m["bbox"][3]
cw, ch = size["closeup.jpg"]
assert cw > 2 * bw, (cw, bw)
print("ok", m["bbox"], size["closeup.jpg"])
EOF
IFS=, read -r W H < <(ffprobe -v error -select_streams v:0 -show_entries stream=width,height \
	-of csv=p=0 "$BUNDLE/clip.mp4") || fail "both: ffprobe of the clip"
[ "$W,$H" = "1920,1080" ] || fail "both: the clip is ${W}x$H, not from the record stream"

# ---- the record stream ends before the alarm --------------------------------
ffmpeg -v error -i "$BIG" -t 13 -c copy "$WORK/cut.mp4" || fail "ffmpeg cut"
config "$WORK/cut.yaml" "$WORK/cut.mp4" ""
edge_run /dev/null "$WORK/edge-cut.log" --config "$WORK/cut.yaml" --replay \
	--events-out "$WORK/cut.jsonl" --evidence-dir "$WORK/ev-cut"
grep -q "record stream lost: the stream ended; detection goes on" "$WORK/edge-cut.log" ||
	fail "cut: the loss is not logged"
check_run cut "$WORK/ev-cut" "$WORK/cut.jsonl"
images "$BUNDLE" >"$WORK/sizes-cut"
python3 - "$BUNDLE" "$WORK/sizes-cut" <<'EOF' >"$WORK/check-cut.log" 2>&1 || fail "cut: $(tail -n 3 "$WORK/check-cut.log")"
import json, os, sys
bdir, sizes = sys.argv[1:]
m = json.load(open(os.path.join(bdir, "manifest.json")))
size = {l.split()[0]: int(l.split()[1]) for l in open(sizes)}
assert m.get("record") == "lost", m.get("record")
scenes = sorted((f for f in m["files"] if f["kind"] == "scene"), key=lambda f: f["video_t"])
first, later = scenes[0], scenes[1:]
assert first["video_t"] < 13 and first["stream"] == "record" and size[first["name"]] == 1920, first
assert later and all(f["stream"] == "detect" and size[f["name"]] == 640 for f in later), later
EOF

# ---- no record file ---------------------------------------------------------
config "$WORK/missing.yaml" "$WORK/nothing.mp4" "    width: 1920
    height: 1080
"
edge_run /dev/null "$WORK/edge-missing.log" --config "$WORK/missing.yaml" --replay \
	--events-out "$WORK/missing.jsonl" --evidence-dir "$WORK/ev-missing"
grep -q "record stream unavailable: .*nothing.mp4: no such file.*detection goes on" \
	"$WORK/edge-missing.log" || fail "missing: the log does not say why"
check_run missing "$WORK/ev-missing" "$WORK/missing.jsonl"
python3 - "$BUNDLE" <<'EOF' || fail "missing: manifest"
import json, os, sys
m = json.load(open(os.path.join(sys.argv[1], "manifest.json")))
assert m.get("record") == "lost", m.get("record")
assert all(f["stream"] == "detect" for f in m["files"] if f["kind"] == "scene"), m["files"]
EOF
config "$WORK/nosize.yaml" "$WORK/nothing.mp4" ""
rc=0
"$EDGE" --config "$WORK/nosize.yaml" --replay --events-out /dev/null \
	--evidence-dir "$WORK/ev-nosize" >"$WORK/edge-nosize.log" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "nosize: the camera started without knowing the record size"
grep -q "cameras\[\].width/height are not set" "$WORK/edge-nosize.log" ||
	fail "nosize: $(tail -n 2 "$WORK/edge-nosize.log")"

# ---- aspect ratios that differ ----------------------------------------------
ffmpeg -v error -f lavfi -i testsrc=size=1440x1080:rate=25:duration=2 \
	-c:v libx264 -pix_fmt yuv420p "$WORK/four3.mp4" || fail "ffmpeg 4:3"
config "$WORK/aspect.yaml" "$WORK/four3.mp4" ""
rc=0
"$EDGE" --config "$WORK/aspect.yaml" --replay --events-out /dev/null \
	--evidence-dir "$WORK/ev-aspect" >"$WORK/edge-aspect.log" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "aspect: 4:3 record with 16:9 detect was accepted"
grep -q "cameras\[\].detect is 640x360 and cameras\[\].record 1440x1080" \
	"$WORK/edge-aspect.log" || fail "aspect: $(tail -n 2 "$WORK/edge-aspect.log")"
echo "two_streams: ok"
