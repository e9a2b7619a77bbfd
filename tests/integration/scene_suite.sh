#!/bin/bash
# The synthetic suite: every firelane-scene scenario generated (seeded),
# replayed through the real edge and scored by firelane-eval: no false
# alarm, no early clear, mean |alarm delay| <= 2 s, every due obstruction
# alarmed but for the listed known misses.
# FL_QUICK=1 (the sanitizer build) uses the smaller --quick frames.
set -eu
B=${FL_BUILD_DIR:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

quick=--quick
[ "${FL_FULL:-0}" = 1 ] && quick=

"$B/firelane-scene" --all --out "$T/scenes" --seed 7 $quick
n=$(ls "$T"/scenes/*.json | wc -l)
[ "$n" -ge 15 ] || { echo "FAIL: only $n scenarios"; exit 1; }

# Scenarios the engine does not yet get right at --quick resolution (issue
# 2 stays open for them; see the closing note): a small low-contrast pile of
# boxes far down the lane, a small car in lane-b beside one parked over
# lane-a's line, and a van present from the first frame (needs a clear-lane
# reference, which the generator does not write yet). Every other scenario
# must score perfectly, and nothing may raise a false alarm or clear early.
KNOWN_MISSES="boxes outside_lane present_from_start"

"$B/firelane-eval" --suite "$T/scenes" --out "$T/out" --jobs 2 --json >"$T/score.json" || true
python3 - "$T/score.json" "$KNOWN_MISSES" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
known = set(sys.argv[2].split())
t = d["total"]
print("synthetic suite: TP %d FP %d FN %d F1 %.3f mean|delay| %s early %d" % (
    t["tp"], t["fp"], t["fn"], t["f1"], t["alarm_delay_abs_mean_s"], t["early_clears"]))
bad = []
for c in d["clips"]:
    print("  %-22s TP %d FP %d FN %d delay %s clear err %s" % (
        c["clip"], c["tp"], c["fp"], c["fn"], c["alarm_delay_mean_s"], c["clear_error_mean_s"]))
    if c["fp"] or c["early_clears"]:
        bad.append("%s: false alarm or early clear" % c["clip"])
    if c["fn"] and c["clip"] not in known:
        bad.append("%s: missed obstruction" % c["clip"])
    if not c["fn"] and c["clip"] in known:
        print("  note: %s now passes; remove it from KNOWN_MISSES" % c["clip"])
if t["alarm_delay_abs_mean_s"] is not None and t["alarm_delay_abs_mean_s"] > 2.0:
    bad.append("mean |alarm delay| %.2f s > 2 s" % t["alarm_delay_abs_mean_s"])
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
PY
