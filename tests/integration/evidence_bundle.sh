#!/usr/bin/env bash
# evidence_bundle.sh - the evidence chain end to end, offline (issue 3).
#
# Generates two synthetic scenes with firelane-scene (--quick): park_leave (a
# car parks past its dwell time and leaves) and short_stop (a car stops for
# half the dwell time and leaves). Replays each through firelane-edge with
# --evidence-dir, with a Chinese site and lane name, the device's time zone
# Asia/Shanghai and the device key in the test's own folder, and checks:
#   park_leave  exactly one bundle, named after the alarmed incident, with
#               - at least 3 scene images, the first and last at least
#                 max(10 s, dwell_s) apart (video times from the manifest);
#               - the banner of every image (its lines as drawn, recorded in
#                 the manifest) containing the manifest's incident id,
#                 device, lane, the image's number with its Chinese label
#                 (第N张), its local time with the offset (+08:00: the same
#                 instant as the signed UTC time_utc) and anti-forgery code,
#                 and the display names;
#               - scene images at the source's full resolution below a
#                 band of their own (banner_px high): the source's width,
#                 its height plus the band; every band compact (three
#                 lines at most, four on the close-up, at the documented
#                 text height);
#               - a close-up and a composite;
#               - a clip that ffprobe decodes, whose span (manifest t_from /
#                 t_to, and the decoded duration) covers [rest - pre_roll,
#                 alarm + post_roll] within 1 s (rest and alarm from the
#                 events file);
#               - firelane-verify exits 0, also pinned to the key that
#                 firelane-edge --print-public-key prints (mode 0600), and
#                 exits non-zero once a byte of an image is flipped;
#   sequence    the same scene as a JPEG image sequence (--fps 25): a bundle
#               that verifies, with a clip re-encoded to H.264 (the path for
#               MJPEG webcams and image sequences), its banner in English
#               (evidence.language: en, "No.N") at +08:00;
#   short_stop  no alarm, no bundle, and no working file left behind.
#
# Env: FL_BUILD_DIR (build tree with the programs).
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$EDGE" "$SCENE" "$VERIFY" ffprobe ffmpeg python3

PRE=6
POST=4

# make_scene NAME [LANGUAGE [CONFIG]]: generate it (once) and write CONFIG
# (NAME.yaml) with display names, the time zone, the banner's language
# (zh-CN), the key in WORK/keys and short pre/post rolls (the quick scenes
# are 40-48 s).
make_scene() {
	local name=$1 lang=${2:-zh-CN} conf=${3:-$WORK/$1.yaml}
	[ -f "$WORK/sc/$name.yaml" ] ||
		"$SCENE" --scenario "$name" --quick --classic --seed 1 --out "$WORK/sc" \
			2>"$WORK/scene-$name.log" || fail "firelane-scene $name failed"
	python3 - "$WORK/sc/$name.yaml" "$conf" "$PRE" "$POST" "$lang" <<'EOF' || fail "config for $name"
import re, sys
src, dst, pre, post, lang = sys.argv[1:]
text = open(src, encoding="utf-8").read()
text = text.replace("source: ", "source: sc/", 1)
text = re.sub(r"device: \{id: ([^,]+), site: ([^}]+)\}",
              r'device: {id: \1, site: \2, site_name: "城东小区 3 号楼", time_zone: Asia/Shanghai, key_file: keys/device.key}',
              text)
text = text.replace("      - id: lane-a\n", '      - id: lane-a\n        name: "消防通道 A"\n')
text += "evidence:\n  pre_roll_s: %s\n  post_roll_s: %s\n  language: %s\n" % (pre, post, lang)
open(dst, "w", encoding="utf-8").write(text)
EOF
}

make_scene park_leave
make_scene park_leave en "$WORK/park_leave-en.yaml"
make_scene short_stop

# ---- park_leave: one complete bundle ----------------------------------------
edge_run /dev/null "$WORK/edge-park.log" --config "$WORK/park_leave.yaml" --replay \
	--source "$WORK/sc/park_leave.mp4" --events-out "$WORK/park.jsonl" \
	--evidence-dir "$WORK/ev-park" -v
grep -q '"type":"alarm"' "$WORK/park.jsonl" || fail "park_leave raised no alarm"

IFS=, read -r W H < <(ffprobe -v error -select_streams v:0 -show_entries stream=width,height \
	-of csv=p=0 "$WORK/sc/park_leave.mp4") || fail "ffprobe of the source"

python3 - "$WORK/park.jsonl" "$WORK/ev-park" "$WORK/park_leave.yaml" "$W" "$H" "$PRE" "$POST" <<'EOF' >"$WORK/check.log" 2>&1 || fail "bundle check: $(tail -n 5 "$WORK/check.log")"
import datetime, json, os, re, struct, subprocess, sys
events_path, evdir, cfg, W, H, pre, post = sys.argv[1:]
W, H, pre, post = int(W), int(H), float(pre), float(post)
events = [json.loads(l) for l in open(events_path)]
alarms = [e for e in events if e["type"] == "alarm"]
assert len(alarms) == 1, "expected one alarm, got %d" % len(alarms)
alarm = alarms[0]
inc = alarm["incident_id"]
dwell = float(re.search(r"dwell_s: *([0-9.]+)", open(cfg).read()).group(1))

bundles = [d for d in os.listdir(evdir) if not d.startswith(".")]
assert bundles == [inc], "bundles %r, expected [%r]" % (bundles, inc)
bdir = os.path.join(evdir, inc)
m = json.load(open(os.path.join(bdir, "manifest.json"), encoding="utf-8"))
assert m["incident_id"] == inc and m["lane"] == alarm["lane"], (m["incident_id"], m["lane"])
files = {f["name"]: f for f in m["files"]}
listed = set(files) | {"manifest.json", "manifest.sig"}
on_disk = set(os.listdir(bdir))
assert listed == on_disk, "files on disk %r vs manifest %r" % (on_disk, listed)

scenes = sorted((f for f in m["files"] if f["kind"] == "scene"), key=lambda f: f["video_t"])
assert len(scenes) >= 3, "%d scene images" % len(scenes)
span = scenes[-1]["video_t"] - scenes[0]["video_t"]
assert span >= max(10.0, dwell) - 1e-6, "first and last scene %.2f s apart, need %.1f" % (span, max(10, dwell))
kinds = {f["kind"] for f in m["files"]}
assert {"closeup", "composite", "clip"} <= kinds, kinds

def jpeg_size(path):
    data = open(path, "rb").read()
    i = 2
    while i < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
    raise AssertionError("no SOF in " + path)

seqs = set()
for f in m["files"]:
    if f["kind"] not in ("scene", "closeup", "composite"):
        continue
    ov = f["overlay"]
    for what, val in (("incident id", m["incident_id"]), ("device", m["device"]),
                      ("lane", m["lane"]), ("seq", "第%d张" % f["seq"]),
                      ("time", f["time_local"]), ("code", f["code"]),
                      ("site name", m["site_name"]), ("lane name", m["lane_name"])):
        assert val and val in ov, "%s: overlay lacks the %s %r: %r" % (f["name"], what, val, ov)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", f["time_utc"]), f["time_utc"]
    # the printed local time is the signed UTC instant, 8 h ahead
    utc = datetime.datetime.strptime(f["time_utc"], "%Y-%m-%dT%H:%M:%SZ")
    want = (utc + datetime.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S +08:00")
    assert f["time_local"] == want, (f["time_local"], want)
    assert ov.startswith(want), "the banner does not start with the time: %r" % ov
    assert 0 < f["banner_px"], f
    assert f["seq"] not in seqs, "seq %d twice" % f["seq"]
    seqs.add(f["seq"])
    size = jpeg_size(os.path.join(bdir, f["name"]))
    # compact: the band is exactly its lines at the documented text height
    # (max(14, min(w, h) / 36) px, 1.4 apart, a third of it as margin),
    # and the fields fit in three lines (four on a narrow close-up)
    pw, ph = size[0], size[1] - f["banner_px"]
    th = max(14, min(pw, ph) // 36)
    pitch, margin, lines = (th * 7 + 2) // 5, max(4, th // 3), ov.count("\n") + 1
    assert lines <= (4 if f["kind"] == "closeup" else 3), "%s: %d lines: %r" % (f["name"], lines, ov)
    assert f["banner_px"] == lines * pitch + 2 * margin - (pitch - th), \
        "%s: a %d px band for %d lines of %d px" % (f["name"], f["banner_px"], lines, th)
    if f["kind"] == "scene":
        assert size == (W, H + f["banner_px"]), "%s is %dx%d, source %dx%d below a %d px band" % (
            f["name"], size[0], size[1], W, H, f["banner_px"])
assert m["site_name"] == "城东小区 3 号楼" and m["lane_name"] == "消防通道 A", (m["site_name"], m["lane_name"])

clip = next(f for f in m["files"] if f["kind"] == "clip")
want_from = max(0.0, alarm["rest_since_s"] - pre)
want_to = alarm["video_time_s"] + post
assert clip["t_from"] <= want_from + 1.0, "clip starts at %.2f, window starts %.2f" % (clip["t_from"], want_from)
assert clip["t_to"] >= want_to - 1.0, "clip ends at %.2f, window ends %.2f" % (clip["t_to"], want_to)
out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                      "-show_entries", "stream=codec_name,nb_read_frames:format=duration",
                      "-of", "json", os.path.join(bdir, clip["name"])],
                     capture_output=True, text=True)
assert out.returncode == 0, "ffprobe: " + out.stderr
probe = json.loads(out.stdout)
dur = float(probe["format"]["duration"])
frames = int(probe["streams"][0]["nb_read_frames"])
assert frames > 0, "clip decodes to no frames"
assert abs(dur - (clip["t_to"] - clip["t_from"])) <= 1.0, \
    "clip lasts %.2f s, manifest says %.2f-%.2f" % (dur, clip["t_from"], clip["t_to"])
assert dur >= want_to - want_from - 1.0, "clip lasts %.2f s for a %.2f s window" % (dur, want_to - want_from)
print("ok: %d scene images over %.1f s, clip %.1f-%.1f s (%d frames, %s), window %.1f-%.1f s"
      % (len(scenes), span, clip["t_from"], clip["t_to"], frames,
         probe["streams"][0]["codec_name"], want_from, want_to))
EOF
cat "$WORK/check.log"

BUNDLE="$WORK/ev-park/$(ls "$WORK/ev-park")"
[ -d "$BUNDLE" ] || fail "no bundle folder"
"$VERIFY" "$BUNDLE" >"$WORK/verify.log" 2>&1 || fail "firelane-verify rejects the bundle: $(cat "$WORK/verify.log")"

# The key: in the test's folder, 0600, and the one the manifest names.
KEY="$WORK/keys/device.key"
[ -f "$KEY" ] || fail "no device key at $KEY"
[ "$(stat -c %a "$KEY")" = 600 ] || fail "key mode $(stat -c %a "$KEY"), expected 600"
PUB=$("$EDGE" --config "$WORK/park_leave.yaml" --print-public-key 2>"$WORK/pub.log") ||
	fail "--print-public-key exited non-zero"
[ ${#PUB} = 44 ] || fail "public key '$PUB' is not 44 base64 characters"
grep -q "\"public_key\": *\"$PUB\"" "$BUNDLE/manifest.json" ||
	fail "manifest's public key is not the device key $PUB"
"$VERIFY" --public-key "$PUB" "$BUNDLE" >"$WORK/verify.log" 2>&1 ||
	fail "firelane-verify --public-key rejects: $(cat "$WORK/verify.log")"

# One flipped byte in a scene image must be caught (the check can fail).
cp -r "$BUNDLE" "$WORK/tampered"
IMG=$(ls "$WORK/tampered"/scene-*.jpg | head -n 1)
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' "$IMG"
if "$VERIFY" "$WORK/tampered" >"$WORK/verify.log" 2>&1; then
	fail "firelane-verify accepts a bundle with a flipped byte"
fi
grep -q "$(basename "$IMG")" "$WORK/verify.log" ||
	fail "firelane-verify does not name the altered file: $(cat "$WORK/verify.log")"

# ---- the same scene as a JPEG sequence: the re-encoded clip path -------------
mkdir "$WORK/frames"
ffmpeg -nostdin -v error -i "$WORK/sc/park_leave.mp4" -q:v 4 "$WORK/frames/in%06d.jpg" ||
	fail "cannot extract frames"
edge_run /dev/null "$WORK/edge-seq.log" --config "$WORK/park_leave-en.yaml" --replay \
	--source "$WORK/frames/in%06d.jpg" --fps 25 --events-out "$WORK/seq.jsonl" \
	--evidence-dir "$WORK/ev-seq" -v
SEQ="$WORK/ev-seq/$(ls "$WORK/ev-seq" | head -n 1)"
[ -f "$SEQ/clip.mp4" ] || fail "image sequence: no clip in $SEQ"
codec=$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 "$SEQ/clip.mp4") ||
	fail "image sequence: the clip does not probe"
[ "$codec" = h264 ] || [ "$codec" = mpeg4 ] || fail "image sequence: clip codec $codec"
"$VERIFY" "$SEQ" >"$WORK/verify.log" 2>&1 || fail "image sequence bundle: $(cat "$WORK/verify.log")"
python3 - "$SEQ/manifest.json" <<'EOF' || fail "image sequence: the English banner"
import json, re, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))
for f in m["files"]:
    if "overlay" not in f:
        continue
    ov = f["overlay"]
    assert "No.%d" % f["seq"] in ov and "code " + f["code"] in ov and "第" not in ov, ov
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00", ov), ov
EOF
echo "evidence_bundle: image sequence: bundle verified, clip re-encoded ($codec), English banner"

# ---- short_stop: nothing kept -------------------------------------------------
edge_run /dev/null "$WORK/edge-short.log" --config "$WORK/short_stop.yaml" --replay \
	--source "$WORK/sc/short_stop.mp4" --events-out "$WORK/short.jsonl" \
	--evidence-dir "$WORK/ev-short" -v
! grep -q '"type":"alarm"' "$WORK/short.jsonl" || fail "short_stop raised an alarm"
left=$(find "$WORK/ev-short" -mindepth 2 -not -type d | wc -l) # .lock aside
bundles=$(find "$WORK/ev-short" -mindepth 1 -maxdepth 1 -type d -not -name '.*' | wc -l)
[ "$bundles" = 0 ] || fail "short_stop left $bundles bundle folder(s)"
[ "$left" = 0 ] || fail "short_stop left files: $(find "$WORK/ev-short" -mindepth 2 -not -type d)"
if grep -q '"type":"occupied"' "$WORK/short.jsonl"; then
	echo "evidence_bundle: short_stop was occupied and vacated: nothing kept"
else
	echo "evidence_bundle: note: short_stop never came to rest in this run"
fi
echo "evidence_bundle: ok"
