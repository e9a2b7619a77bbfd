#!/bin/sh
# make demo (for now): generate a synthetic fire-lane scene, then run the edge
# on it in live mode, paced like a camera, printing events as they happen.
set -eu
B=${1:-build}
D="$B/demo"
mkdir -p "$D"
if [ ! -f "$D/park_leave.yaml" ]; then
	echo "firelane demo: generating a scene (a car parks in the lane, then leaves)..." >&2
	"$B/firelane-scene" --scenario park_leave --out "$D" --seed 1
fi
dwell=$(sed -n 's/.*dwell_s: *\([0-9.]*\).*/\1/p' "$D/park_leave.yaml" | head -1)
echo "firelane demo: replaying $D/park_leave.mp4 in real time (dwell ${dwell}s); events follow:" >&2
exec "$B/firelane-edge" --config "$D/park_leave.yaml" -v
