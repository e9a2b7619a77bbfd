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
# with the committed model (the second, 2026-12-07, docs/plate-model.md)
# minus 0.03:
#
#   set  mode   measured exact  floor   measured char acc.  floor
#   us   crop   0.4189          0.38    0.8595              0.82
#   eu   crop   0.4259          0.39    0.8807              0.85
#   us   whole  0.3514          0.32    0.7052              0.67
#   eu   whole  0.2315          0.20    0.7602              0.73
#
# The trade-off, taken on purpose: the second model reads Chinese plates
# far better (held-back synthetic exact, blue 0.09 -> 0.61, +50 points and
# more on every Chinese kind) and real US plates a little better, but real
# EU plates worse (exact, crops 0.5185 -> 0.4259, whole 0.3148 -> 0.2315,
# about -9 points): the EU floors were lowered with it; the others rose.
# No read the reader reports may be wrong (precision 1.0 when any is
# reported). By default it reports Chinese-shaped reads only (its Latin
# threshold, calibrated on drawn plates, does not hold on real photographs:
# the edge's evidence.plates_cn_only, and firelane-plates without --latin),
# so on these foreign plates any reported read is a Chinese misread of a
# foreign plate, and there must be none. With --latin the Latin reads at
# their synthetic threshold are kept too: measured here and by `make bench`
# (member plates), not bounded - kept precision US crops 0.90, EU crops
# 0.85, US whole 0.96, EU whole 0.72 (docs/plate-model.md, "Thresholds"):
# why Latin reads are off. The thresholds are not tuned on these images.
# Exact and character accuracy do not depend on the threshold: far below
# the goals (90% crops, 85% whole), the floors only hold today's level.
"$B/firelane-plates" --ocr --crop "$SET/us" "$SET/eu" >"$T/ocr-crop.json"
"$B/firelane-plates" --ocr "$SET/us" "$SET/eu" >"$T/ocr-whole.json"
echo "reader, crops:"; cat "$T/ocr-crop.json"
echo "reader, whole images:"; cat "$T/ocr-whole.json"
echo "reader with --latin (the Latin reads kept at their threshold), for the record:"
"$B/firelane-plates" --ocr --crop --latin "$SET/us" "$SET/eu"
"$B/firelane-plates" --ocr --latin "$SET/us" "$SET/eu"

bounds "$T/ocr-crop.json" us "exact>=0.38" "char_accuracy>=0.82" "precision>=1.0"
bounds "$T/ocr-crop.json" eu "exact>=0.39" "char_accuracy>=0.85" "precision>=1.0"
bounds "$T/ocr-whole.json" us "exact>=0.32" "char_accuracy>=0.67" "precision>=1.0"
bounds "$T/ocr-whole.json" eu "exact>=0.20" "char_accuracy>=0.73" "precision>=1.0"
echo "plates: all figures within bounds"
