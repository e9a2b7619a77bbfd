#!/bin/bash
# scene_suite.sh - the synthetic suite: every firelane-scene scenario
# generated (seed 7), replayed through the real edge and scored by
# firelane-eval, three ways, each against its own bar:
#
#   plain    from the start: F1 >= 0.97, no early clear, mean |alarm delay|
#            <= 2 s (the quick variant's bar before the scenes got harder)
#   cut      analysis started at 6 s and 20 s (6 and 31 s full size) with no
#            memory, scored against the truth cut there (docs/eval.md): no
#            false alarm, F1 >= 0.95
#   restart  the edge stopped at 20 s (31 s) as by a power cut and started
#            again with its memory (--state-dir): F1 >= 0.98, no alarm
#            repeated across the restart. Only when the edge
#            takes --state-dir (its --help names it); until then the check
#            is reported as not run.
#
# Before that, the edge's replay window itself: --until T ends the replay
# with exit 0, no event at or after T and no stats (nothing written at the
# cut); --start T hands the analysis the frames from T on (--stats-out
# counts them); both are refused without --replay or out of order.
#
# The bars are those of docs/eval.md, not fitted to the engine. Checks that
# today's engine fails are listed in KNOWN_FAILING (or $FL_SCENE_KNOWN_FAILING)
# with the figure they miss: they print KNOWN and do not fail the test, and a
# listed check that passes fails it ("remove it from KNOWN_FAILING"), so the
# list stays true. CI uses --quick frames; FL_FULL=1 full-size ones.
#
# Env: FL_BUILD_DIR (build tree).
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$EDGE" "$SCENE" "$EVAL" python3
B=$BUILD
T=$WORK

# Measured with the engine as it was before the harder scenes (quick, seed
# 7): plain F1 0.71, cut 18 false alarms and F1 0.49. With the restart
# memory (quick, seed 7): plain F1 0.76, cut 13 false alarms and F1 0.44,
# restart F1 0.78 with no duplicate. Check names:
# plain.f1 plain.early plain.delay cut.fp cut.f1 restart.f1 restart.dup.
KNOWN_FAILING=${FL_SCENE_KNOWN_FAILING-"plain.f1 cut.fp cut.f1 restart.f1"}

quick=--quick offsets=0,6,20 restart=20
if [ "${FL_FULL:-0}" = 1 ]; then
	quick= offsets=0,6,31 restart=31
fi

"$B/firelane-scene" --all --out "$T/scenes" --seed 7 --jobs 2 $quick
n=$(ls "$T"/scenes/*.json | wc -l)
[ "$n" -ge 30 ] || fail "only $n scenarios"

# ---- the replay window of the edge ---------------------------------------
S=$T/scenes
"$B/firelane-edge" --config "$S/park_leave.yaml" --replay \
	--source "$S/park_leave.mp4" --events-out "$T/all.jsonl" \
	--stats-out "$T/all.stats" || fail "plain replay"
"$B/firelane-edge" --config "$S/park_leave.yaml" --replay --start 6 \
	--source "$S/park_leave.mp4" --events-out "$T/start.jsonl" \
	--stats-out "$T/start.stats" || fail "--start 6 replay"
"$B/firelane-edge" --config "$S/park_leave.yaml" --replay --until 20 \
	--source "$S/park_leave.mp4" --events-out "$T/until.jsonl" \
	--stats-out "$T/until.stats" 2>"$T/until.err" ||
	fail "--until 20: exit $?"
grep -q "power cut" "$T/until.err" || fail "--until: $(cat "$T/until.err")"
[ ! -e "$T/until.stats" ] || fail "--until wrote its stats at the cut"
for bad in "--start 5" "--replay --start 9 --until 9" "--until 3"; do
	# shellcheck disable=SC2086
	if "$B/firelane-edge" --config "$S/park_leave.yaml" $bad \
		--source "$S/park_leave.mp4" --events-out /dev/null \
		>/dev/null 2>&1; then
		fail "accepted: $bad"
	fi
done
python3 - "$T" <<'PY' || fail "replay window"
import json, sys
t = sys.argv[1]
def events(name):
    return [json.loads(l) for l in open(f"{t}/{name}.jsonl") if l.strip()]
def frames(name):
    return json.load(open(f"{t}/{name}.stats"))["frames"]
bad = []
if frames("all") - frames("start") != 6 * 25:
    bad.append(f"--start 6 analysed {frames('start')} of {frames('all')} frames")
bad += [f"--start 6: event at {e['video_time_s']}" for e in events("start")
        if e["video_time_s"] < 6]
bad += [f"--until 20: event at {e['video_time_s']}" for e in events("until")
        if e["video_time_s"] >= 20]
# before the cut the edge saw the same frames: the same events
before = [e for e in events("all") if e["video_time_s"] < 20]
strip = lambda es: [(e["type"], e["lane"], e["video_time_s"]) for e in es]
if strip(before) != strip(events("until")):
    bad.append("--until 20 changed the events before 20 s")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY

# ---- scoring -------------------------------------------------------------
restart_args=()
if "$B/firelane-edge" --help 2>&1 | grep -q -- --state-dir; then
	restart_args=(--restart-at "$restart")
fi
"$B/firelane-eval" --suite "$S" --out "$T/out" --jobs 2 --json \
	--offsets "$offsets" "${restart_args[@]}" >"$T/score.json" || true
[ -s "$T/score.json" ] || fail "firelane-eval wrote no report"

python3 - "$T/score.json" "$KNOWN_FAILING" "${#restart_args[@]}" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
known = set(sys.argv[2].split())
restarts = int(sys.argv[3]) > 0
by = d.get("by_mode", {"plain": d["total"]})

def row(c):
    return "  %-24s TP %d FP %d FN %d delay %s early %d rdup %d" % (
        c["clip"], c["tp"], c["fp"], c["fn"], c["alarm_delay_mean_s"],
        c["early_clears"], c["restart_duplicates"])

for c in d["clips"]:
    if "error" in c:
        print("  %-24s FAILED: %s" % (c["clip"], c["error"]))
    elif c["fp"] or c["fn"] or c["early_clears"] or c["restart_duplicates"]:
        print(row(c))
for m, t in by.items():
    print("%-8s TP %d FP %d FN %d F1 %.3f mean|delay| %s max %s early %d "
          "rdup %d failed runs %d" % (m, t["tp"], t["fp"], t["fn"], t["f1"],
          t["alarm_delay_abs_mean_s"], t["alarm_delay_max_s"],
          t["early_clears"], t["restart_duplicates"], t["failed_runs"]))

checks = []  # (name, passed, figure)
p = by["plain"]
checks.append(("plain.f1", p["f1"] >= 0.97, "F1 %.3f >= 0.97" % p["f1"]))
checks.append(("plain.early", p["early_clears"] == 0,
               "%d early clears == 0" % p["early_clears"]))
dl = p["alarm_delay_abs_mean_s"]
checks.append(("plain.delay", dl is None or dl <= 2.0,
               "mean |alarm delay| %s <= 2 s" % dl))
c = by["cut"]
checks.append(("cut.fp", c["fp"] == 0 and c["failed_runs"] == 0,
               "%d false alarms == 0 (%d runs failed)" % (c["fp"], c["failed_runs"])))
checks.append(("cut.f1", c["f1"] >= 0.95, "F1 %.3f >= 0.95" % c["f1"]))
if restarts:
    r = by["restart"]
    checks.append(("restart.f1", r["f1"] >= 0.98 and r["failed_runs"] == 0,
                   "F1 %.3f >= 0.98 (%d runs failed)" % (r["f1"], r["failed_runs"])))
    checks.append(("restart.dup", r["restart_duplicates"] == 0,
                   "%d duplicates across the restart == 0" % r["restart_duplicates"]))
else:
    print("restart: not run (the edge has no --state-dir yet)")
if any("error" in c for c in d["clips"] if c["mode"] != "restart"):
    checks.append(("runs", False, "an edge run failed"))

bad = 0
for name, ok, fig in checks:
    if ok and name in known:
        print("FAIL: %s passes now (%s): remove it from KNOWN_FAILING" % (name, fig))
        bad += 1
    elif ok:
        print("ok:    %s: %s" % (name, fig))
    elif name in known:
        print("KNOWN: %s: %s" % (name, fig))
    else:
        print("FAIL: %s: %s" % (name, fig))
        bad += 1
sys.exit(1 if bad else 0)
PY
