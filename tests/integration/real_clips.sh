#!/bin/bash
# The labelled real clips of ../shared/data (EVAL.md rules), scored by
# firelane-eval on the real edge binary. Without a model every obstruction is
# found but the one present from the first frame (vtest's van: it needs the
# model or a clear-lane reference); with Yolo-Fastest-1.1-xl, all of them.
# Skips cleanly when the research data folder is absent.
set -eu
. "$(dirname "$0")/lib/harness.sh"
B=$BUILD
DATA=${FL_SHARED_DATA:-$SRC/../shared/data}
[ -d "$DATA/labels" ] || skip "$DATA/labels not found (research footage is not shipped)"
T=$WORK

field() { # clip field file
	python3 -c 'import json,sys
d=json.load(open(sys.argv[3]))
rows=[c for c in d["clips"] if c["clip"].startswith(sys.argv[1])] if sys.argv[1]!="total" else [d["total"]]
print(rows[0][sys.argv[2]])' "$@"
}

"$B/firelane-eval" --suite "$DATA/labels" --data-root "$DATA" --out "$T/plain" \
	--json --jobs 2 >"$T/plain.json"
echo "without a model:"; cat "$T/plain.json"
for clip in candela cctv-truck; do
	[ "$(field $clip f1 "$T/plain.json")" = 1.0 ] || [ "$(field $clip f1 "$T/plain.json")" = 1 ] ||
		fail "$clip F1 without a model"
done
[ "$(field vtest fp "$T/plain.json")" = 0 ] || fail "vtest false alarm"
[ "$(field total early_clears "$T/plain.json")" = 0 ] || fail "early clear"

MODEL="$DATA/models/yolo-fastest-1.1/yolo-fastest-1.1-xl.cfg"
if [ -f "$MODEL" ]; then
	"$B/firelane-eval" --suite "$DATA/labels" --data-root "$DATA" --out "$T/model" \
		--model "$MODEL" --json --jobs 2 --min-f1 1.0 --max-early 0 >"$T/model.json" ||
		{ cat "$T/model.json"; fail "F1 < 1 or early clears with the model"; }
	echo "with $MODEL:"; cat "$T/model.json"
fi

# A clear-lane reference replaces the model for what stands there at start:
# the candela clip comes with an empty-lobby image.
REF="$DATA/clips/candela-m1.10/Candela_m1_10_empty_BG.jpg"
if [ -f "$REF" ]; then
	cfg="$T/plain/candela-m1.10.yaml"
	[ -f "$cfg" ] || cfg=$(ls "$T"/plain/*candela*.yaml | head -1)
	sed "s#^    source: .*#&\n    reference: $REF#" "$cfg" >"$T/ref.yaml"
	"$B/firelane-edge" --config "$T/ref.yaml" --replay --events-out "$T/ref.jsonl"
	"$B/firelane-eval" --truth "$DATA/labels/candela-m1.10.json" --events "$T/ref.jsonl" --json >"$T/ref.json"
	[ "$(field total tp "$T/ref.json")" = 1 ] && [ "$(field total fp "$T/ref.json")" = 0 ] ||
		{ cat "$T/ref.json"; fail "candela with its reference image"; }
fi
echo "real clips: ok"
