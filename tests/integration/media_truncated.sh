#!/usr/bin/env bash
# media_truncated.sh - a video file cut to half its length is broken input,
# not a short clip: replay says so and exits non-zero (docs/health.md,
# "Broken video").
#
# The quick park_leave scene's MP4 (index at the front) cut to half its
# bytes decodes without one error and simply stops at about 20 s of the
# 42.5 s its container declares. Before, replay took that for the end of
# input: exit 0, no word. Now: exit 1, the reason on stderr, and a health
# event in the events (live, the same event goes to the hub). The whole
# file still replays with exit 0.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$EDGE" "$SCENE"
SCENARIO=park_leave
scene $SCENARIO
cd "$WORK/scene"
SIZE=$(stat -c %s $SCENARIO.mp4)
head -c $((SIZE / 2)) $SCENARIO.mp4 >half.mp4
sed "s/$SCENARIO.mp4/half.mp4/" $SCENARIO.yaml >half.yaml

RC=0
"$EDGE" --config half.yaml --replay --events-out half.jsonl 2>half.log || RC=$?
[ "$RC" != 0 ] || fail "a file cut to half replayed with exit 0: $(cat half.log)"
grep -q "half.mp4: truncated" half.log || fail "replay does not say the file is truncated: $(cat half.log)"
grep -q '"type":"health".*truncated' half.jsonl ||
	fail "no health event for the truncated file: $(tail -n 2 half.jsonl)"
echo "$NAME: half a file: exit $RC: $(tail -n 1 half.log)"
edge_run whole.jsonl whole.log --config $SCENARIO.yaml --replay --events-out whole.jsonl
echo "$NAME: ok"
