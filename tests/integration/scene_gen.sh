#!/usr/bin/env bash
# scene_gen.sh - the synthetic scene generator against its own promises.
#
# Generates every scenario with --quick, then checks that each video decodes
# to the frame count its ground truth claims, that each ground truth parses
# and carries the EVAL.md fields, that the scenarios due an alarm have one
# (and the must-not-alarm ones have none), that each edge config names the
# same lanes, that the scenarios whose obstruction is there from frame 0 come
# with a clear-lane reference image (a P6 PPM of the video's size, named by the
# config) and the others with none, and that generation is deterministic: the
# same seed gives a byte-identical video (and reference), a different seed a
# different one, and a different camera and lane (the geometry is drawn per
# seed: seeds must differ in more than where a car stops), except with
# --classic (the fixtures' fixed camera and lane). The long negative
# scenes (--long) are listed apart, and one is generated (tiny frames) to
# check its length, rate and that nothing in it is due.
#
# Env: FL_BUILD_DIR (build tree with firelane-scene), FL_SOURCE_DIR.
set -eu

BUILD=${FL_BUILD_DIR:-build}
SCENE="$BUILD/firelane-scene"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

fail() {
	echo "scene_gen: FAIL: $*" >&2
	exit 1
}

[ -x "$SCENE" ] || fail "$SCENE not built"
command -v ffprobe >/dev/null || fail "ffprobe not installed"
command -v python3 >/dev/null || fail "python3 not installed"

# Scenario -> alarms due per zone (zone:count ...); a zone not listed (a
# seed's extra far section lane-b) must be due nothing. Every listed
# scenario must exist and every generated scenario be listed.
EXPECT='
park_leave          lane-a:1
pass_through        lane-a:0
short_stop          lane-a:0
two_in_turn         lane-a:2
present_from_start  lane-a:1
ebike               lane-a:1
boxes               lane-a:1
pedestrian_linger   lane-a:0
clouds              lane-a:1
night_headlights    lane-a:1
truck_occlusion     lane-a:1
camera_shake        lane-a:1
rain                lane-a:1
outside_lane        lane-a:0 lane-b:1
crowd_then_car      lane-a:1
slow_truck          lane-a:0
dusk                lane-a:1
tricycle            lane-a:1
grey_far            lane-a:1
startup_traffic     lane-a:0
startup_rain        lane-a:0
startup_night       lane-a:0
startup_crowd       lane-a:0
startup_trucks      lane-a:1
busy_road           lane-a:1 road:0
night_road          lane-a:1 road:0
ir_night            lane-a:1
daynight_car        lane-a:1
daynight_empty      lane-a:0
kerb_tenth          lane-a:0
kerb_half           lane-a:1
far_shade           lane-a:0 lane-b:0
far_small           lane-a:0 lane-b:1
at_rest_ref         lane-a:2
at_rest_noref       lane-a:2
'

"$SCENE" --list >"$WORK/list" || fail "--list exited non-zero"
n=$(wc -l <"$WORK/list")
[ "$n" -ge 15 ] || fail "only $n scenarios listed"

start=$(date +%s)
"$SCENE" --all --quick --seed 1 --jobs 2 --out "$WORK/a" 2>"$WORK/gen.log" ||
	{ cat "$WORK/gen.log" >&2; fail "generation failed"; }
echo "scene_gen: generated $n scenarios (quick) in $(( $(date +%s) - start )) s"

while read -r name _; do
	[ -n "$name" ] || continue
	for ext in mp4 json yaml; do
		[ -s "$WORK/a/$name.$ext" ] || fail "$name.$ext missing or empty"
	done
	frames=$(ffprobe -v error -count_frames -select_streams v:0 \
		-show_entries stream=nb_read_frames -of csv=p=0 \
		"$WORK/a/$name.mp4") || fail "$name.mp4 does not decode"
	want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["frames"])' \
		"$WORK/a/$name.json") || fail "$name.json does not parse"
	[ "$frames" = "$want" ] ||
		fail "$name.mp4 decodes to $frames frames, json says $want"
done <"$WORK/list"

# Scenarios that must come with NAME_reference.ppm (obstruction from frame 0);
# every other scenario must have none.
REFERENCE='present_from_start at_rest_ref'

python3 - "$WORK/a" "$WORK/list" "$EXPECT" "$REFERENCE" <<'EOF' || fail "ground truth checks"
import json, os, sys, re

root, listing, expect_txt = sys.argv[1], sys.argv[2], sys.argv[3]
with_ref = set(sys.argv[4].split())


def read_ppm(path):
    """(width, height) of a binary P6 PPM with maxval 255 whose pixel data
    is complete, or a string saying what is wrong."""
    data = open(path, "rb").read()
    fields, pos = [], 0
    while len(fields) < 4:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            while pos < len(data) and data[pos:pos + 1] != b"\n":
                pos += 1
            continue
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace():
            pos += 1
        if start == pos:
            return "truncated header"
        fields.append(data[start:pos])
    if fields[0] != b"P6":
        return f"magic {fields[0]!r}, not P6"
    try:
        w, h, maxval = (int(f) for f in fields[1:])
    except ValueError:
        return "non-numeric header"
    if maxval != 255:
        return f"maxval {maxval}"
    if len(data) - (pos + 1) != w * h * 3:
        return f"{len(data) - pos - 1} bytes of pixels for {w}x{h}"
    return (w, h)


def ref_is_clear(root, name, g, ref_path):
    """None when the reference is the first frame without the obstructions
    there at t=0: inside their boxes it differs from the frame far more than
    it does elsewhere (there only noise, compression and passers-by)."""
    import subprocess
    w, h = g["width"], g["height"]
    f0 = subprocess.run(["ffmpeg", "-v", "error", "-i",
                         os.path.join(root, name + ".mp4"), "-frames:v", "1",
                         "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                        capture_output=True).stdout
    rgb = open(ref_path, "rb").read()[-w * h * 3:]
    if len(f0) != w * h:
        return "cannot decode the first frame"
    ref = [(77 * rgb[3 * i] + 150 * rgb[3 * i + 1] + 29 * rgb[3 * i + 2])
           >> 8 for i in range(w * h)]
    boxes = [o["bbox"] for o in g["obstructions"] if o["start_s"] == 0]
    if not boxes:
        return "no obstruction at t=0 in the ground truth"
    inside = [False] * (w * h)
    for x, y, bw, bh in boxes:
        for yy in range(y, y + bh):
            for xx in range(x, x + bw):
                inside[yy * w + xx] = True
    d_in = [abs(f0[i] - ref[i]) for i in range(w * h) if inside[i]]
    d_out = [abs(f0[i] - ref[i]) for i in range(w * h) if not inside[i]]
    m_in, m_out = sum(d_in) / len(d_in), sum(d_out) / len(d_out)
    if m_out > 8:
        return f"differs from frame 0 by {m_out:.1f} outside the obstruction"
    if m_in < 3 * m_out:
        return (f"differs from frame 0 by {m_in:.1f} on the obstruction, "
                f"{m_out:.1f} elsewhere: is it there?")
    return None


names = [l.split()[0] for l in open(listing) if l.strip()]
expect = {}
for line in expect_txt.strip().splitlines():
    parts = line.split()
    expect[parts[0]] = {z: int(c) for z, c in (p.split(":") for p in parts[1:])}
bad = []
for name in names:
    if name not in expect:
        bad.append(f"{name}: no expectation in scene_gen.sh")
        continue
    g = json.load(open(os.path.join(root, name + ".json")))
    for k in ("clip", "media", "width", "height", "fps", "frames",
              "duration_s", "dwell_s", "zones", "obstructions"):
        if k not in g:
            bad.append(f"{name}: missing {k}")
    if bad:
        continue
    if not os.path.exists(os.path.join(root, g["media"])):
        bad.append(f"{name}: media {g['media']} missing")
    if abs(g["frames"] / g["fps"] - g["duration_s"]) > 0.05:
        bad.append(f"{name}: frames/fps != duration_s")
    if not 40 <= g["duration_s"] <= 110:
        bad.append(f"{name}: duration {g['duration_s']} outside 40-110 s")
    dwell = g["dwell_s"]
    zones = {z["name"]: z for z in g["zones"]}
    due = {z: 0 for z in zones}
    for o in g["obstructions"]:
        if o["zone"] not in zones:
            bad.append(f"{name}: obstruction in unknown zone {o['zone']}")
            continue
        x, y, w, h = o["bbox"]
        if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > g["width"] or y + h > g["height"]:
            bad.append(f"{name}: bbox {o['bbox']} outside the frame")
        if not 0 <= o["start_s"] < o["end_s"] <= g["duration_s"] + 1e-6:
            bad.append(f"{name}: bad times {o['start_s']}..{o['end_s']}")
        if o["ends_because"] not in ("leaves", "clip ends"):
            bad.append(f"{name}: ends_because {o['ends_because']}")
        if o["end_s"] - o["start_s"] >= dwell + 3:
            due[o["zone"]] += 1
    for z, zn in zones.items():
        if zn["purpose"] == "must not alarm" and any(
                o["zone"] == z for o in g["obstructions"]):
            bad.append(f"{name}: must-not-alarm zone {z} has obstructions")
        if len(zn["points"]) < 3:
            bad.append(f"{name}: zone {z} has {len(zn['points'])} points")
    want = dict(expect[name])
    for z in zones:
        want.setdefault(z, 0)
    if due != want:
        bad.append(f"{name}: alarms due {due}, expected {want}")
    if "class" not in g or "geometry" not in g:
        bad.append(f"{name}: no class or geometry")
    # the edge config: one lane per zone, same points and dwell
    y = open(os.path.join(root, name + ".yaml")).read()
    lanes = re.findall(r"- id: (\S+)\n\s+points: (.*)\n\s+dwell_s: (\S+)", y)
    if [l[0] for l in lanes] != list(zones):
        bad.append(f"{name}: yaml lanes {[l[0] for l in lanes]} != zones")
    for lid, pts, dw in lanes:
        if lid in zones and json.loads(pts) != zones[lid]["points"]:
            bad.append(f"{name}: yaml lane {lid} points differ")
        if float(dw) != float(dwell):
            bad.append(f"{name}: yaml dwell {dw} != {dwell}")
    if f"source: {name}.mp4" not in y:
        bad.append(f"{name}: yaml source is not {name}.mp4")
    # the clear-lane reference: only where the obstruction is there at t=0
    ref = name + "_reference.ppm"
    ref_path = os.path.join(root, ref)
    if name in with_ref:
        if not os.path.exists(ref_path):
            bad.append(f"{name}: {ref} missing")
        else:
            size = read_ppm(ref_path)
            if size != (g["width"], g["height"]):
                bad.append(f"{name}: {ref}: {size}, video is "
                           f"{g['width']}x{g['height']}")
            else:
                why = ref_is_clear(root, name, g, ref_path)
                if why:
                    bad.append(f"{name}: {ref}: {why}")
        if f"    source: {name}.mp4\n    reference: {ref}\n" not in y:
            bad.append(f"{name}: yaml does not name {ref} after source")
    else:
        if os.path.exists(ref_path):
            bad.append(f"{name}: has {ref} but no obstruction at t=0")
        if "reference:" in y:
            bad.append(f"{name}: yaml names a reference")
for n in with_ref - set(names):
    bad.append(f"REFERENCE lists unknown scenario {n}")
total = sum(1 for n in names if any(expect.get(n, {}).values()))
if total < 20:
    bad.append(f"only {total} scenarios with an alarm due (want >= 20)")
for b in bad:
    print("scene_gen:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF

# determinism: same seed -> same bytes, another seed -> other bytes
"$SCENE" --scenario short_stop --quick --seed 1 --out "$WORK/b" ||
	fail "second run failed"
"$SCENE" --scenario short_stop --quick --seed 2 --out "$WORK/c" ||
	fail "seed 2 run failed"
a=$(md5sum <"$WORK/a/short_stop.mp4")
b=$(md5sum <"$WORK/b/short_stop.mp4")
c=$(md5sum <"$WORK/c/short_stop.mp4")
[ "$a" = "$b" ] || fail "same seed gave different videos"
[ "$a" != "$c" ] || fail "seeds 1 and 2 gave the same video"
cmp -s "$WORK/a/short_stop.json" "$WORK/b/short_stop.json" ||
	fail "same seed gave different ground truth"
# another seed: another camera and lane, not just another stop
python3 - "$WORK/a/short_stop.json" "$WORK/c/short_stop.json" <<'EOF' ||
import json, sys
a, c = (json.load(open(p))["geometry"] for p in sys.argv[1:])
same = [k for k in ("camera_height_m", "pitch_deg", "hfov_deg", "lane_width_m")
        if abs(a[k] - c[k]) < 0.05]
sys.exit(1 if same else 0)
EOF
	fail "seeds 1 and 2 share camera height, pitch, lens or lane width"
"$SCENE" --scenario present_from_start --quick --seed 1 --out "$WORK/b" ||
	fail "present_from_start run failed"
for f in present_from_start.mp4 present_from_start_reference.ppm \
	present_from_start.yaml; do
	cmp -s "$WORK/a/$f" "$WORK/b/$f" ||
		fail "same seed gave a different $f"
done

# --classic (test fixtures): the first generator's camera and lane, any seed
"$SCENE" --scenario short_stop --quick --classic --seed 2 --out "$WORK/k" ||
	fail "--classic failed"
python3 - "$WORK/k/short_stop.json" <<'EOF' || fail "--classic geometry"
import json, sys
g = json.load(open(sys.argv[1]))
want = {"camera_x_m": 0, "camera_height_m": 6, "yaw_deg": 0,
        "lane_width_m": 4, "right_side": "bays"}
got = {k: g["geometry"][k] for k in want}
assert got == want, got
assert [z["name"] for z in g["zones"]] == ["lane-a"], g["zones"]
EOF

# the long negative scenes: listed apart, nothing due, the road zone kept
"$SCENE" --long --list >"$WORK/long" || fail "--long --list failed"
[ "$(wc -l <"$WORK/long")" -ge 8 ] || fail "fewer than 8 long scenes"
if grep -qxFf <(cut -d' ' -f1 "$WORK/long") <(cut -d' ' -f1 "$WORK/list"); then
	fail "a long scene is in the suite's list"
fi
"$SCENE" --scenario long_road --out "$WORK/l" --width 160 --height 90 ||
	fail "long_road failed"
python3 - "$WORK/l/long_road.json" <<'EOF' || fail "long_road ground truth"
import json, sys
g = json.load(open(sys.argv[1]))
assert g["duration_s"] >= 600, g["duration_s"]
assert g["fps"] == 10, g["fps"]
assert not g["obstructions"], g["obstructions"]
assert {z["name"] for z in g["zones"]} == {"lane-a", "road"}, g["zones"]
assert all(z["purpose"] == "must not alarm" for z in g["zones"])
EOF

echo "scene_gen: OK"
