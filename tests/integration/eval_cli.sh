#!/bin/bash
# eval_cli.sh - firelane-eval as a user runs it: one clip, thresholds, bad
# input, and --suite with a fake edge (a bash script that writes a known
# events file), so the suite plumbing is tested without the real detector;
# start offsets (--offsets: the truth cut, --start passed) and restarts
# (--restart-at: --until then --start with one --state-dir, both events
# files scored together, duplicates across the restart counted, and an edge
# that refuses --state-dir reported as FAILED, not scored).
#
# Env: FL_BUILD_DIR (build dir holding firelane-eval), FL_SOURCE_DIR.
set -u

BUILD=${FL_BUILD_DIR:?set FL_BUILD_DIR}
EVAL=$BUILD/firelane-eval
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0

fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# expect FILE EXPR WANT [EXPR WANT ...]: check figures of firelane-eval's
# JSON output (d is the parsed object) in one python3 run.
expect() {
	local out
	out=$(python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
a = sys.argv[2:]
for expr, want in zip(a[0::2], a[1::2]):
    try:
        got = str(eval(expr))
    except Exception as e:
        got = "error: %s" % e
    if got != want:
        print("%s = %s, want %s" % (expr, got, want))
PY
	) || { fail "cannot read $1"; return; }
	[ -z "$out" ] || fail "$out"
}

[ -x "$EVAL" ] || { echo "no $EVAL" >&2; exit 1; }

# ---- one clip -------------------------------------------------------------
cat >"$TMP/gt.json" <<'EOF'
{"clip": "hand.mp4", "duration_s": 100, "dwell_s": 10, "media": "hand.mp4",
 "zones": [{"name": "lane-a", "points": [[0,0],[100,0],[100,50],[0,50]], "purpose": "alarm expected"},
           {"name": "lane-b", "points": [[0,60],[100,60],[100,90]], "purpose": "must not alarm"}],
 "obstructions": [{"zone": "lane-a", "start_s": 20, "end_s": 60, "ends_because": "leaves"},
                  {"zone": "lane-a", "start_s": 70, "end_s": 100, "ends_because": "clip ends"}]}
EOF
cat >"$TMP/events.jsonl" <<'EOF'
{"type": "occupied", "lane": "lane-a", "incident_id": "i1", "video_time_s": 20.5}
{"type": "alarm", "lane": "lane-a", "incident_id": "i1", "video_time_s": 31.0, "bbox": [1, 2, 3, 4]}
{"type": "cleared", "lane": "lane-a", "incident_id": "i1", "video_time_s": 63.0}
{"type": "alarm", "lane": "lane-b", "incident_id": "i2", "video_time_s": 50.0}
{"type": "alarm", "lane": "lane-a", "incident_id": "i3", "video_time_s": 82.0}
{"type": "cleared", "lane": "lane-a", "incident_id": "i3", "video_time_s": 84.0}
EOF
"$EVAL" --truth "$TMP/gt.json" --events "$TMP/events.jsonl" --json \
	>"$TMP/one.json" 2>"$TMP/one.err"
rc=$?
[ $rc -eq 0 ] || fail "single clip exit $rc: $(cat "$TMP/one.err")"
expect "$TMP/one.json" \
	'd["clips"][0]["clip"]' hand.mp4 \
	'd["total"]["tp"]' 2 \
	'd["total"]["fp"]' 1 \
	'd["total"]["fn"]' 0 \
	'd["total"]["fp_must_not_alarm"]' 1 \
	'round(d["total"]["f1"], 4)' 0.8 \
	'd["total"]["alarm_delay_mean_s"]' 1.5 \
	'd["total"]["alarm_delay_max_s"]' 2.0 \
	'd["total"]["clears_due"]' 1 \
	'd["total"]["clears_on_time"]' 1 \
	'd["total"]["clear_error_mean_s"]' 3.0 \
	'd["total"]["early_clears"]' 1

# The table has a row for the clip and a TOTAL row.
"$EVAL" --truth "$TMP/gt.json" --events "$TMP/events.jsonl" >"$TMP/one.txt" ||
	fail "table exit $?"
grep -q '^hand.mp4 ' "$TMP/one.txt" || fail "no clip row in table"
grep -q '^TOTAL ' "$TMP/one.txt" || fail "no TOTAL row in table"

# ---- thresholds -----------------------------------------------------------
"$EVAL" --truth "$TMP/gt.json" --events "$TMP/events.jsonl" --min-f1 0.9 \
	>/dev/null 2>&1
rc=$?
[ $rc -eq 1 ] || fail "--min-f1 0.9 with F1 0.8: exit $rc, want 1"
"$EVAL" --truth "$TMP/gt.json" --events "$TMP/events.jsonl" --min-f1 0.75 \
	>/dev/null 2>&1
rc=$?
[ $rc -eq 0 ] || fail "--min-f1 0.75 with F1 0.8: exit $rc, want 0"
"$EVAL" --truth "$TMP/gt.json" --events "$TMP/events.jsonl" --max-early 0 \
	>/dev/null 2>&1
rc=$?
[ $rc -eq 1 ] || fail "--max-early 0 with 1 early clear: exit $rc, want 1"

# ---- one clip, cut or restarted ---------------------------------------------
# Cut at 31: the car at rest since 20 is due at 41 (not 30), the one at 70
# as usual; the clear at 61 is on time.
cat >"$TMP/cut.jsonl" <<'EOF'
{"type": "alarm", "lane": "lane-a", "incident_id": "c1", "video_time_s": 41.0}
{"type": "cleared", "lane": "lane-a", "incident_id": "c1", "video_time_s": 61.0}
{"type": "alarm", "lane": "lane-a", "incident_id": "c2", "video_time_s": 82.0}
EOF
"$EVAL" --truth "$TMP/gt.json" --events "$TMP/cut.jsonl" --offsets 31 --json \
	>"$TMP/cut.json" 2>"$TMP/cut.err" || fail "cut exit $?: $(cat "$TMP/cut.err")"
expect "$TMP/cut.json" \
	'd["total"]["tp"]' 2 \
	'd["total"]["fp"]' 0 \
	'd["total"]["alarm_delay_mean_s"]' 1.0 \
	'd["clips"][0]["mode"]' cut \
	'd["clips"][0]["offset_s"]' 31.0 \
	'd["by_mode"]["cut"]["tp"]' 2
# The same events scored without the cut: the first alarm is 11 s late.
"$EVAL" --truth "$TMP/gt.json" --events "$TMP/cut.jsonl" --json \
	>"$TMP/uncut.json" 2>/dev/null
expect "$TMP/uncut.json" 'd["total"]["tp"]' 1 'd["total"]["fn"]' 1
# Restarted at 40: the car alarmed at 31 and again at 45 is a duplicate
# across the restart.
cat >"$TMP/restart.jsonl" <<'EOF'
{"type": "alarm", "lane": "lane-a", "incident_id": "r1", "video_time_s": 31.0}
{"type": "alarm", "lane": "lane-a", "incident_id": "r2", "video_time_s": 45.0}
{"type": "cleared", "lane": "lane-a", "incident_id": "r2", "video_time_s": 61.0}
{"type": "alarm", "lane": "lane-a", "incident_id": "r3", "video_time_s": 80.0}
EOF
"$EVAL" --truth "$TMP/gt.json" --events "$TMP/restart.jsonl" --restart-at 40 \
	--json >"$TMP/restart.json" 2>/dev/null || fail "restart exit $?"
expect "$TMP/restart.json" \
	'd["total"]["tp"]' 2 \
	'd["total"]["fp_duplicate"]' 1 \
	'd["total"]["restart_duplicates"]' 1 \
	'd["clips"][0]["mode"]' restart
"$EVAL" --truth "$TMP/gt.json" --events "$TMP/restart.jsonl" --json \
	>"$TMP/norestart.json" 2>/dev/null
expect "$TMP/norestart.json" 'd["total"]["restart_duplicates"]' 0
for bad in "--offsets x" "--offsets 6,-1" "--offsets 6,31" \
	"--restart-at 6,31" "--offsets 6 --restart-at 31"; do
	# shellcheck disable=SC2086
	"$EVAL" --truth "$TMP/gt.json" --events "$TMP/cut.jsonl" $bad \
		>/dev/null 2>&1
	rc=$?
	[ $rc -eq 2 ] || fail "one clip with $bad: exit $rc, want 2"
done

# ---- bad input ------------------------------------------------------------
{ head -2 "$TMP/events.jsonl"; echo '{"type": "alarm", "lane": '; } \
	>"$TMP/bad.jsonl"
"$EVAL" --truth "$TMP/gt.json" --events "$TMP/bad.jsonl" >/dev/null \
	2>"$TMP/bad.err"
rc=$?
[ $rc -eq 2 ] || fail "malformed events: exit $rc, want 2"
grep -q "bad.jsonl:3" "$TMP/bad.err" || fail "no file:line in: $(cat "$TMP/bad.err")"

echo '{"type": "alarm", "lane": "lane-a", "incident_id": "x"}' >"$TMP/notime.jsonl"
"$EVAL" --truth "$TMP/gt.json" --events "$TMP/notime.jsonl" >/dev/null \
	2>"$TMP/notime.err"
rc=$?
[ $rc -eq 2 ] || fail "alarm without video_time_s: exit $rc, want 2"
grep -q "notime.jsonl:1: \"video_time_s\"" "$TMP/notime.err" ||
	fail "missing video_time_s not named: $(cat "$TMP/notime.err")"

sed 's/"zone": "lane-a", "start_s": 20/"zone": "lane-x", "start_s": 20/' \
	"$TMP/gt.json" >"$TMP/badgt.json"
"$EVAL" --truth "$TMP/badgt.json" --events "$TMP/events.jsonl" >/dev/null \
	2>"$TMP/badgt.err"
rc=$?
[ $rc -eq 2 ] || fail "bad ground truth: exit $rc, want 2"
grep -q 'badgt.json: obstructions\[0\].zone: "lane-x" names no zone' \
	"$TMP/badgt.err" || fail "bad truth message: $(cat "$TMP/badgt.err")"

"$EVAL" --suite "$TMP" --truth "$TMP/gt.json" >/dev/null 2>&1
rc=$?
[ $rc -eq 2 ] || fail "--suite with --truth: exit $rc, want 2"

# ---- suite with a fake edge -----------------------------------------------
SUITE=$TMP/suite
DATA=$TMP/data
OUT=$TMP/out
mkdir -p "$SUITE" "$DATA/clips" "$DATA/frames"
: >"$DATA/clips/one.mp4"

# clip "one": media relative to --data-root; alarm on time, clear on time.
cat >"$SUITE/one.json" <<'EOF'
{"clip": "one.mp4", "media": "clips/one.mp4", "duration_s": 60, "dwell_s": 10,
 "zones": [{"name": "lane-a", "points": [[0,0],[100,0],[100,50],[0,50]], "purpose": "alarm expected"}],
 "obstructions": [{"zone": "lane-a", "start_s": 5, "end_s": 40, "ends_because": "leaves"}]}
EOF
# clip "two": an image pattern (so --fps 12 is passed) and its own config;
# the fake edge raises an alarm in the must-not-alarm zone.
cat >"$SUITE/two.json" <<'EOF'
{"clip": "two", "media": "frames/in%06d.jpg", "fps": 12, "duration_s": 30, "dwell_s": 5,
 "zones": [{"name": "aisle", "points": [[0,0],[10,0],[10,10]], "purpose": "must not alarm"}],
 "obstructions": []}
EOF
cat >"$SUITE/two.yaml" <<'EOF'
# hand-written config beside the labels
device: {id: e, site: s}
EOF

cat >"$TMP/fake-edge" <<'EOF'
#!/bin/bash
# Writes a known events file per --source, only the events inside its
# --start/--until window; records its arguments. With --state-dir it leaves
# a memory there before a cut (--until) and wants it back after one.
args="$*"
start=0 until=0 state=
while [ $# -gt 0 ]; do
	case $1 in
	--config) cfg=$2; shift 2 ;;
	--source) src=$2; shift 2 ;;
	--events-out) out=$2; shift 2 ;;
	--start) start=$2; shift 2 ;;
	--until) until=$2; shift 2 ;;
	--state-dir) state=$2; shift 2 ;;
	--replay) shift ;;
	*) shift ;;
	esac
done
echo "$args" >>"$(dirname "$out")/fake-edge.args"
[ -f "$cfg" ] || { echo "no config $cfg" >&2; exit 4; }
[ -n "${FAKE_EDGE_FAIL:-}" ] && case $src in *"$FAKE_EDGE_FAIL"*)
	echo "fake edge: simulated crash on $src" >&2; exit 3 ;; esac
if [ -n "$state" ]; then
	[ -n "${FAKE_EDGE_NO_STATE:-}" ] &&
		{ echo "fake edge: unrecognized option '--state-dir'" >&2; exit 2; }
	[ -d "$state" ] || { echo "no state dir $state" >&2; exit 6; }
	if [ "$until" != 0 ]; then
		echo remembered >"$state/memory"
	else
		[ -f "$state/memory" ] || { echo "state dir forgotten" >&2; exit 7; }
	fi
fi
case $src in
*one.mp4)
	# from the start: alarm at 16; started later: 10.5 s after the start
	if [ "$start" = 0 ]; then
		ev="alarm a1 16.0"
	else
		ev="alarm c$start $(awk -v s="$start" 'BEGIN { print s + 10.5 }')"
	fi
	ev="$ev
cleared a1 44.0" ;;
*in%06d.jpg) ev="alarm b1 9.0" lane=aisle ;;
*) echo "unexpected source $src" >&2; exit 5 ;;
esac
: >"$out"
while read -r type id t; do
	awk -v t="$t" -v s="$start" -v u="$until" \
		'BEGIN { exit !(t >= s && (u == 0 || t < u)) }' || continue
	echo "{\"type\": \"$type\", \"lane\": \"${lane:-lane-a}\", \"incident_id\": \"$id\", \"video_time_s\": $t}" >>"$out"
done <<<"$ev"
EOF
chmod +x "$TMP/fake-edge"

"$EVAL" --suite "$SUITE" --edge "$TMP/fake-edge" --data-root "$DATA" \
	--out "$OUT" --jobs 2 --model /models/m.onnx --json \
	>"$TMP/suite.json" 2>"$TMP/suite.err"
rc=$?
[ $rc -eq 0 ] || fail "suite exit $rc: $(cat "$TMP/suite.err")"
expect "$TMP/suite.json" \
	'len(d["clips"])' 2 \
	'[c["clip"] for c in d["clips"]]' "['one', 'two']" \
	'd["clips"][0]["tp"]' 1 \
	'd["clips"][1]["fp_must_not_alarm"]' 1 \
	'd["total"]["tp"]' 1 \
	'd["total"]["fp"]' 1 \
	'd["total"]["fn"]' 0 \
	'd["total"]["alarm_delay_mean_s"]' 1.0 \
	'd["total"]["clears_on_time"]' 1 \
	'round(d["total"]["f1"], 4)' 0.6667

# The generated config has the lanes; the hand-written one was used as is.
[ -f "$OUT/one.yaml" ] || fail "no generated config"
grep -q 'id: "lane-a"' "$OUT/one.yaml" || fail "lane missing from config"
grep -q 'dwell_s: 10' "$OUT/one.yaml" || fail "dwell missing from config"
grep -q "source: \"$DATA/clips/one.mp4\"" "$OUT/one.yaml" ||
	fail "source missing from config"
[ ! -f "$OUT/two.yaml" ] || fail "config generated although two.yaml exists"
grep -q -- "--config $SUITE/two.yaml --replay --source $DATA/frames/in%06d.jpg --events-out $OUT/two.events.jsonl --model /models/m.onnx --fps 12" \
	"$OUT/fake-edge.args" || fail "edge args: $(cat "$OUT/fake-edge.args")"
grep -q -- "--source $DATA/clips/one.mp4 .*--model /models/m.onnx$" \
	"$OUT/fake-edge.args" || fail "no --fps expected for a video file"

# Thresholds apply to the suite total.
"$EVAL" --suite "$SUITE" --edge "$TMP/fake-edge" --data-root "$DATA" \
	--out "$OUT" --min-f1 0.7 >/dev/null 2>&1
rc=$?
[ $rc -eq 1 ] || fail "suite --min-f1 0.7 with F1 0.67: exit $rc, want 1"

# A failed edge run fails the suite and shows the tail of its stderr.
FAKE_EDGE_FAIL=one.mp4 "$EVAL" --suite "$SUITE" --edge "$TMP/fake-edge" \
	--data-root "$DATA" --out "$OUT" >"$TMP/crash.txt" 2>"$TMP/crash.err"
rc=$?
[ $rc -eq 1 ] || fail "edge crash: exit $rc, want 1"
grep -q 'simulated crash' "$TMP/crash.err" || fail "no stderr tail: $(cat "$TMP/crash.err")"
grep -q '^one .*FAILED' "$TMP/crash.txt" || fail "no FAILED row: $(cat "$TMP/crash.txt")"
grep -q '^two ' "$TMP/crash.txt" || fail "other clip not scored"

# ---- suite: start offsets and restarts --------------------------------------
rm -rf "$OUT"
"$EVAL" --suite "$SUITE" --edge "$TMP/fake-edge" --data-root "$DATA" \
	--out "$OUT" --offsets 0,20 --restart-at 25 --json \
	>"$TMP/modes.json" 2>"$TMP/modes.err"
rc=$?
[ $rc -eq 0 ] || fail "suite with offsets exit $rc: $(cat "$TMP/modes.err")"
expect "$TMP/modes.json" \
	'[c["clip"] for c in d["clips"]]' "['one', 'one@20', 'one@r25', 'two', 'two@20', 'two@r25']" \
	'[c["mode"] for c in d["clips"]]' "['plain', 'cut', 'restart', 'plain', 'cut', 'restart']" \
	'd["clips"][1]["tp"]' 1 \
	'd["clips"][1]["alarm_delay_mean_s"]' 0.5 \
	'd["clips"][1]["clears_on_time"]' 1 \
	'd["clips"][2]["tp"]' 1 \
	'd["clips"][2]["restart_duplicates"]' 1 \
	'd["clips"][2]["clears_on_time"]' 1 \
	'd["clips"][4]["fp"]' 0 \
	'd["clips"][5]["fp_must_not_alarm"]' 1 \
	'd["by_mode"]["plain"]["tp"]' 1 \
	'd["by_mode"]["cut"]["fp"]' 0 \
	'd["by_mode"]["restart"]["restart_duplicates"]' 1 \
	'd["by_mode"]["restart"]["failed_runs"]' 0
grep -q -- "--source $DATA/clips/one.mp4 --start 20 --events-out $OUT/one@20.events.jsonl" \
	"$OUT/fake-edge.args" || fail "cut run args: $(cat "$OUT/fake-edge.args")"
grep -q -- "--until 25 --state-dir $OUT/one@r25.state.[A-Za-z0-9]* --events-out $OUT/one@r25.before.jsonl" \
	"$OUT/fake-edge.args" || fail "restart run 1 args: $(cat "$OUT/fake-edge.args")"
grep -q -- "--start 25 --state-dir $OUT/one@r25.state.[A-Za-z0-9]* --events-out $OUT/one@r25.after.jsonl" \
	"$OUT/fake-edge.args" || fail "restart run 2 args: $(cat "$OUT/fake-edge.args")"
[ "$(cat "$OUT/one@r25.events.jsonl" | wc -l)" = 3 ] ||
	fail "restart events not joined: $(cat "$OUT/one@r25.events.jsonl")"

# An edge without restart memory refuses --state-dir: the restart rows fail
# (exit 1) and are in no total; the other rows are still scored.
FAKE_EDGE_NO_STATE=1 "$EVAL" --suite "$SUITE" --edge "$TMP/fake-edge" \
	--data-root "$DATA" --out "$OUT" --restart-at 25 --json \
	>"$TMP/nostate.json" 2>"$TMP/nostate.err"
rc=$?
[ $rc -eq 1 ] || fail "restart without --state-dir: exit $rc, want 1"
expect "$TMP/nostate.json" \
	'd["clips"][1]["error"]' "edge exited 2 (the run before the restart)" \
	'd["by_mode"]["restart"]["failed_runs"]' 2 \
	'd["by_mode"]["plain"]["tp"]' 1 \
	'd["total"]["failed_runs"]' 2
grep -q "unrecognized option '--state-dir'" "$TMP/nostate.err" ||
	fail "no stderr tail: $(cat "$TMP/nostate.err")"
FAKE_EDGE_NO_STATE=1 "$EVAL" --suite "$SUITE" --edge "$TMP/fake-edge" \
	--data-root "$DATA" --out "$OUT" --restart-at 25 >"$TMP/nostate.txt" 2>/dev/null
grep -q '^TOTAL restart *FAILED: all 2 runs' "$TMP/nostate.txt" ||
	fail "restart total not FAILED: $(cat "$TMP/nostate.txt")"

if [ $fails -ne 0 ]; then
	echo "eval_cli: $fails check(s) failed" >&2
	exit 1
fi
echo "eval_cli: all checks passed"
