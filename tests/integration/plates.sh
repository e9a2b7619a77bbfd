#!/bin/bash
# fl_plate_find on the openalpr end-to-end benchmark images (US 222, EU 108),
# measured by firelane-plates, top 3 boxes, hit = IoU >= 0.3 with the plate.
# Skips cleanly when the research data folder is absent (it is not shipped).
#
# The finder is deterministic, so the floors are the figures measured on
# 2026-11-29 (OpenCV 4.6.0, Debian; docs/plates.md) minus a small margin of
# 0.02 (4 US or 2 EU images) for a different JPEG decoder or OpenCV build:
#
#   roi     set   measured recall  floor   measured false/img  ceiling
#   car     us    0.9775           0.955   0.279               0.40
#   car     eu    1.0000           0.980   0.222               0.35
#   whole   us    0.9099           0.890   1.468               1.60
#   whole   eu    0.9444           0.924   0.731               0.85
#
# and the car-roi case (how the edge calls it) must stay under 50 ms per
# image (it takes about 1 ms; the whole 1280x720..1920x1080 frame ~18 ms).
set -eu
. "$(dirname "$0")/lib/harness.sh"
B=$BUILD
DATA=${FL_SHARED_DATA:-$SRC/../shared/data}
SET="$DATA/plates/openalpr-endtoend"
if [ ! -d "$SET/us" ] || [ ! -d "$SET/eu" ]; then
	skip "$SET not found (research data is not shipped)"
fi
T=$WORK

"$B/firelane-plates" --top 3 --roi car "$SET/us" "$SET/eu" >"$T/car.json"
"$B/firelane-plates" --top 3 --roi whole "$SET/us" "$SET/eu" >"$T/whole.json"
echo "roi car:"; cat "$T/car.json"
echo "roi whole:"; cat "$T/whole.json"

# bounds FILE SET FIELD>=MIN|FIELD<=MAX...: the JSON line of SET (a folder
# name) in FILE must keep every bound; a null field (precision when no read
# passed the threshold) passes.
bounds() {
	python3 - "$@" <<'PY'
import json, re, sys
path, which = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(path) if l.strip()]
row = [r for r in rows if r["dir"].rstrip("/").endswith("/" + which)]
if len(row) != 1:
    sys.exit("FAIL: no result for %s in %s" % (which, path))
bad = []
for spec in sys.argv[3:]:
    key, op, val = re.fullmatch(r"(\w+)(>=|<=)([0-9.]+)", spec).groups()
    v = row[0][key]
    if v is not None and (v < float(val) if op == ">=" else v > float(val)):
        bad.append("%s %.4f, want %s %s" % (key, v, op, val))
if bad:
    sys.exit("FAIL: %s %s: %s" % (path.split("/")[-1], which, "; ".join(bad)))
PY
}

bounds "$T/car.json" us "recall>=0.955" "false_per_image<=0.40" "ms_per_image<=50"
bounds "$T/car.json" eu "recall>=0.980" "false_per_image<=0.35" "ms_per_image<=50"
bounds "$T/whole.json" us "recall>=0.890" "false_per_image<=1.60"
bounds "$T/whole.json" eu "recall>=0.924" "false_per_image<=0.85"
# The reader (docs/plate-model.md) on the same images, never trained on:
# crops cut at the labelled boxes, and whole images through the finder.
# Deterministic for one OpenCV build; the floors are the figures measured
# with the committed model (2026-12-06, docs/plate-model.md) minus 0.03:
#
#   set  mode   measured exact  floor   measured char acc.  floor
#   us   crop   0.3829          0.35    0.8260              0.79
#   eu   crop   0.5185          0.48    0.9028              0.87
#   us   whole  0.3108          0.28    0.6744              0.64
#   eu   whole  0.3148          0.28    0.7475              0.71
#
# and no read that passes the threshold may be wrong (precision 1.0 when
# any pass; none did when measured). These are far below the goals (90%
# crops, 85% whole): the floors only hold today's level.
"$B/firelane-plates" --ocr --crop "$SET/us" "$SET/eu" >"$T/ocr-crop.json"
"$B/firelane-plates" --ocr "$SET/us" "$SET/eu" >"$T/ocr-whole.json"
echo "reader, crops:"; cat "$T/ocr-crop.json"
echo "reader, whole images:"; cat "$T/ocr-whole.json"

bounds "$T/ocr-crop.json" us "exact>=0.35" "char_accuracy>=0.79" "precision>=1.0"
bounds "$T/ocr-crop.json" eu "exact>=0.48" "char_accuracy>=0.87" "precision>=1.0"
bounds "$T/ocr-whole.json" us "exact>=0.28" "char_accuracy>=0.64" "precision>=1.0"
bounds "$T/ocr-whole.json" eu "exact>=0.28" "char_accuracy>=0.71" "precision>=1.0"
echo "plates: all figures within bounds"
