#!/bin/bash
# The synthetic suite: every firelane-scene scenario generated (seeded),
# replayed through the real edge and scored by firelane-eval against the
# issue's bar: F1 >= 0.97, no early clear, mean |alarm delay| <= 2 s.
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

if ! "$B/firelane-eval" --suite "$T/scenes" --out "$T/out" --jobs 2 --json \
	--min-f1 0.97 --max-early 0 >"$T/score.json"; then
	cat "$T/score.json"
	"$B/firelane-eval" --suite "$T/scenes" --out "$T/out2" --jobs 2 || true
	echo "FAIL: synthetic suite below F1 0.97 or with early clears"
	exit 1
fi
python3 - "$T/score.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = d["total"]
print("synthetic suite: TP %d FP %d FN %d F1 %.3f mean|delay| %s early %d" % (
    t["tp"], t["fp"], t["fn"], t["f1"], t["alarm_delay_abs_mean_s"], t["early_clears"]))
for c in d["clips"]:
    print("  %-22s TP %d FP %d FN %d delay %s clear err %s" % (
        c["clip"], c["tp"], c["fp"], c["fn"], c["alarm_delay_mean_s"], c["clear_error_mean_s"]))
if t["alarm_delay_abs_mean_s"] is not None and t["alarm_delay_abs_mean_s"] > 2.0:
    print("FAIL: mean |alarm delay| %.2f s > 2 s" % t["alarm_delay_abs_mean_s"])
    sys.exit(1)
PY
