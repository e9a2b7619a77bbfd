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
B=${FL_BUILD_DIR:?}
DATA=${FL_SHARED_DATA:-${FL_SOURCE_DIR:?}/../shared/data}
SET="$DATA/plates/openalpr-endtoend"
if [ ! -d "$SET/us" ] || [ ! -d "$SET/eu" ]; then
	echo "SKIP: $SET not found (research data is not shipped)"
	exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

"$B/firelane-plates" --top 3 --roi car "$SET/us" "$SET/eu" >"$T/car.json"
"$B/firelane-plates" --top 3 --roi whole "$SET/us" "$SET/eu" >"$T/whole.json"
echo "roi car:"; cat "$T/car.json"
echo "roi whole:"; cat "$T/whole.json"

# check FILE SET MIN_RECALL MAX_FALSE [MAX_MS]
check() {
	python3 - "$@" <<'PY'
import json, sys
path, which, min_r, max_f = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
max_ms = float(sys.argv[5]) if len(sys.argv) > 5 else None
rows = [json.loads(l) for l in open(path) if l.strip()]
row = [r for r in rows if r["dir"].rstrip("/").endswith("/" + which)]
if len(row) != 1:
    sys.exit("FAIL: no result for %s in %s" % (which, path))
r = row[0]
bad = []
if r["recall"] < min_r:
    bad.append("recall %.4f < %.3f" % (r["recall"], min_r))
if r["false_per_image"] > max_f:
    bad.append("false/image %.3f > %.2f" % (r["false_per_image"], max_f))
if max_ms is not None and r["ms_per_image"] > max_ms:
    bad.append("%.1f ms/image > %.0f" % (r["ms_per_image"], max_ms))
if bad:
    sys.exit("FAIL: %s %s: %s" % (path.split("/")[-1], which, "; ".join(bad)))
PY
}

check "$T/car.json" us 0.955 0.40 50
check "$T/car.json" eu 0.980 0.35 50
check "$T/whole.json" us 0.890 1.60
check "$T/whole.json" eu 0.924 0.85
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

# ocr FILE SET MIN_EXACT MIN_CHARS MIN_PRECISION
ocr() {
	python3 - "$@" <<'PY'
import json, sys
path, which = sys.argv[1], sys.argv[2]
min_e, min_c, min_p = (float(v) for v in sys.argv[3:6])
rows = [json.loads(l) for l in open(path) if l.strip()]
row = [r for r in rows if r["dir"].rstrip("/").endswith("/" + which)]
if len(row) != 1:
    sys.exit("FAIL: no result for %s in %s" % (which, path))
r = row[0]
bad = []
if r["exact"] < min_e:
    bad.append("exact %.4f < %.3f" % (r["exact"], min_e))
if r["char_accuracy"] < min_c:
    bad.append("char accuracy %.4f < %.3f" % (r["char_accuracy"], min_c))
if r["precision"] is not None and r["precision"] < min_p:
    bad.append("precision at the threshold %.4f < %.3f" % (r["precision"], min_p))
if bad:
    sys.exit("FAIL: %s %s: %s" % (path.split("/")[-1], which, "; ".join(bad)))
PY
}

ocr "$T/ocr-crop.json" us 0.35 0.79 1.0
ocr "$T/ocr-crop.json" eu 0.48 0.87 1.0
ocr "$T/ocr-whole.json" us 0.28 0.64 1.0
ocr "$T/ocr-whole.json" eu 0.28 0.71 1.0
echo "plates: all figures within bounds"
