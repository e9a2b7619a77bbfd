#!/usr/bin/env bash
# rtsp_faults.sh - a live RTSP camera (firelane-testcam, docs/testcam.md)
# behind digest authentication, with the wrong password, and stalled.
#
#   auth      the camera asks for digest authentication (user admin). An
#             edge with the right password in its source URL gets frames
#             (the scene's car is seen: occupied). An edge with a wrong one keeps
#             running and logs a clear camera error (401, authorization
#             failed) for each attempt, with backoff: 2 or 3 attempts in
#             its first 20 s (5, then 10 s apart; every 5 s would be 4-5). The password appears
#             in no log line and no event of either.
#   stall     the camera stops sending but keeps its connections (SIGUSR1):
#             the right edge reports camera_offline within its read timeout
#             (10 s) plus slack, the reason naming the timeout; when the
#             camera sends again, camera_online.
#   drop      the camera ends every session (SIGHUP) and goes on serving: the
#             edge sees its stream end and reconnects (logs "stream back").
# Conditions are waited for, with timeouts that only bound a failure. Skips
# when GStreamer's RTSP server or ffmpeg is missing.
#
# Env: FL_BUILD_DIR (build tree with the programs).
set -eu
. "$(dirname "$0")/lib/harness.sh"
LOG_GLOBS="*.out"
need "$EDGE" "$SCENE" python3
command -v ffmpeg >/dev/null || skip "ffmpeg not found; no stream can be made"

"$SCENE" --scenario park_leave --quick --classic --seed 1 --width 640 --height 360 \
	--out "$WORK/sc" 2>"$WORK/scene.log" || fail "firelane-scene failed"
testcam_media "$WORK/sc/park_leave.mp4"
PASSWORD=s3cret-Pw
testcam_start --user admin --password "$PASSWORD" --loop

# config OUT URL: the scene's config reading URL.
config() {
	sed "s|^    source: .*|    source: $2|" "$WORK/sc/park_leave.yaml" >"$1"
	grep -q "source: $2" "$1" || fail "no RTSP source in $1"
}
config "$WORK/right.yaml" "rtsp://admin:$PASSWORD@127.0.0.1:$TESTCAM_PORT/sub"
config "$WORK/wrong.yaml" "rtsp://admin:not-$PASSWORD@127.0.0.1:$TESTCAM_PORT/sub"

# ---- auth --------------------------------------------------------------------
"$EDGE" --config "$WORK/wrong.yaml" >"$WORK/wrong.out" 2>"$WORK/wrong.log" &
WRONG_PID=$!
track $WRONG_PID
wrong_t0=$(date +%s)
edge_start "$WORK/right.out" "$WORK/right.log" --config "$WORK/right.yaml"
wait_for "$WORK/right.out" '"type":"occupied"' 60 ||
	fail "no frames with the right password (no occupied event): $(tail -n 3 "$WORK/right.log")"
wait_for "$WORK/wrong.log" 'error: camera: cam-1: .*(401|[Aa]uthoriz)' 60 ||
	fail "no clear camera error with the wrong password: $(tail -n 3 "$WORK/wrong.log")"
# 20 s after its start the wrong edge still runs, having tried at most 4 times
while [ $(($(date +%s) - wrong_t0)) -lt 20 ]; do
	sleep 0.5
done
kill -0 "$WRONG_PID" 2>/dev/null || fail "the edge with the wrong password exited"
tries=$(grep -cE 'error: camera: cam-1: .*(401|[Aa]uthoriz)' "$WORK/wrong.log" || true)
[ "$tries" -ge 2 ] && [ "$tries" -le 3 ] ||
	fail "$tries attempts with the wrong password in 20 s; want 2 or 3 (backoff 5, 10 s)"
echo "$NAME: auth: frames with the right password; wrong one: $tries attempts in 20 s, edge running"
echo "$NAME: auth: error: $(grep -m1 'error: camera: cam-1' "$WORK/wrong.log")"
stop_ok "the edge with the wrong password" "$WRONG_PID" 10

# ---- stall -------------------------------------------------------------------
sleep 2
kill -0 "$EDGE_PID" 2>/dev/null || fail "the edge exited"
testcam_stall
stalled=$(date +%s)
wait_for "$WORK/right.out" '"type":"camera_offline"' 30 ||
	fail "no camera_offline within 30 s of a stall"
took=$(($(date +%s) - stalled))
# the read timeout, and slack for a loaded machine
[ "$took" -le 15 ] || fail "camera_offline $took s after the stall; the read timeout is 10 s"
grep '"type":"camera_offline"' "$WORK/right.out" | grep -q 'timed out' ||
	fail "camera_offline does not say the read timed out: $(grep camera_offline "$WORK/right.out")"
echo "$NAME: stall: camera_offline $took s after the stall"
testcam_stall
resumed=$(date +%s)
wait_for "$WORK/right.out" '"type":"camera_online"' 60 ||
	fail "no camera_online within 60 s of the stream's return"
echo "$NAME: stall: camera_online $(($(date +%s) - resumed)) s after the stream resumed"
kill -0 "$EDGE_PID" 2>/dev/null || fail "the edge exited after the stall"

# ---- drop ----------------------------------------------------------------------
backs=$(grep -c 'stream back after' "$WORK/right.log" || true)
testcam_drop
for _ in $(seq 300); do
	[ "$(grep -c 'stream back after' "$WORK/right.log" || true)" -gt "$backs" ] && break
	sleep 0.1
done
[ "$(grep -c 'stream back after' "$WORK/right.log" || true)" -gt "$backs" ] ||
	fail "the edge did not reconnect within 30 s of the camera dropping it: $(tail -n 3 "$WORK/right.log")"
kill -0 "$EDGE_PID" 2>/dev/null || fail "the edge exited after the drop"
echo "$NAME: drop: the edge reconnected ($(grep 'stream lost' "$WORK/right.log" | tail -n 1 | sed 's/.*stream lost: //'))"
edge_stop 30
testcam_stop

for f in "$WORK"/right.* "$WORK"/wrong.*; do
	case $f in *.yaml) continue ;; esac
	grep -q -- "$PASSWORD" "$f" && fail "the password is in $(basename "$f"): $(grep -m1 -- "$PASSWORD" "$f")"
done
echo "$NAME: ok"
