#!/usr/bin/env bash
# camera_health.sh - camera health against the real edge (issue 4 point 5).
#
# (a) Replay. The synthetic park_leave scene (--quick, 480x270) is cut and
#     spliced with ffmpeg into clips whose view goes wrong for a while and
#     then recovers:
#       frozen   15 s live, the last frame repeated for 30 s (tpad clone),
#                then 12 s live again;
#       black    15 s live, 20 s of black (tpad add), 12 s live;
#       shifted  15 s live, 20 s with the view moved 30 source px (20
#                analysis px) sideways (crop + pad), 7 s back in place;
#                the config has the clip's first frame as its reference
#                image, so the move is judged against it.
#     Each replay must exit 0 and write exactly one health event raising
#     the clip's condition, at the time it is due (frozen_s 15 s, covered_s
#     10 s, moved_s 10 s after it starts, within a second or two), and one
#     "cleared: <condition>" after it ends; no other health event. The
#     untouched scene must give no health event at all.
# (b) Live. The scene is served as MPEG-TS over TCP by ffmpeg
#     (-re -stream_loop -1, tcp://127.0.0.1:PORT?listen=1); firelane-edge
#     runs live on that URL. The server is killed: camera_offline must
#     appear on stdout within 30 s with a reason. The server is started
#     again: camera_online must follow. Then the server stalls (SIGSTOP:
#     the socket stays open, nothing comes): a second camera_offline within
#     30 s (the edge says it at its 10 s read timeout), and after a fresh
#     server a
#     second camera_online. The edge must still be running (then stopped
#     with SIGTERM, exit 0).
#
# Without ffmpeg the test is skipped (exit 77) with a message. Clips use
# libx264 when ffmpeg has it, else mpeg4.
#
# Env: FL_BUILD_DIR (build tree with the programs).
set -eu
. "$(dirname "$0")/lib/harness.sh"
LOG_GLOBS="*.jsonl *.out"
need "$EDGE" "$SCENE" python3
command -v ffmpeg >/dev/null || skip "ffmpeg not found; no clip can be made"

"$SCENE" --scenario park_leave --quick --classic --seed 1 --out "$WORK/sc" 2>"$WORK/scene.log" ||
	fail "firelane-scene failed"
CLIP=$WORK/sc/park_leave.mp4
CFG=$WORK/cfg.yaml
sed "s|source: |source: $WORK/sc/|" "$WORK/sc/park_leave.yaml" >"$CFG"

ENC="-c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p"
ffmpeg -v error -y -encoders 2>/dev/null | grep -q libx264 || ENC="-c:v mpeg4 -q:v 3"

splice() { # out filtergraph
	# shellcheck disable=SC2086
	ffmpeg -v error -y -i "$CLIP" -filter_complex "$2" -map "[v]" $ENC \
		"$WORK/$1.mp4" 2>"$WORK/ffmpeg-$1.log" || fail "ffmpeg could not make $1.mp4"
}
splice frozen "[0:v]split[a][b];[a]trim=0:15,setpts=PTS-STARTPTS,tpad=stop_mode=clone:stop_duration=30[a1];[b]trim=15:27,setpts=PTS-STARTPTS[b1];[a1][b1]concat=n=2:v=1[v]"
splice black "[0:v]split[a][b];[a]trim=0:15,setpts=PTS-STARTPTS,tpad=stop_mode=add:stop_duration=20:color=black[a1];[b]trim=15:27,setpts=PTS-STARTPTS[b1];[a1][b1]concat=n=2:v=1[v]"
splice shifted "[0:v]split=3[a][b][c];[a]trim=0:15,setpts=PTS-STARTPTS[a1];[b]trim=15:35,setpts=PTS-STARTPTS,crop=iw-30:ih:30:0,pad=iw+30:ih:0:0:color=gray[b1];[c]trim=35:42,setpts=PTS-STARTPTS[c1];[a1][b1][c1]concat=n=3:v=1[v]"
ffmpeg -v error -y -i "$WORK/shifted.mp4" -frames:v 1 "$WORK/ref.png" 2>"$WORK/ffmpeg-ref.log" ||
	fail "ffmpeg could not take the reference frame"
sed "s|^\(    source: .*\)$|\1\n    reference: $WORK/ref.png|" "$CFG" >"$WORK/cfg-ref.yaml"
grep -q "reference: $WORK/ref.png" "$WORK/cfg-ref.yaml" || fail "could not add the reference to the config"

# The health events of a replay as "time reason" lines; each must be the
# camera's (lane and incident id empty).
health() {
	if grep '"type":"health"' "$1" |
		grep -v '"camera":"cam-1","lane":"","incident_id":"","video_time_s":' |
		grep -q .; then
		echo "malformed health event"
		return
	fi
	grep '"type":"health"' "$1" |
		sed -E 's/.*"video_time_s":([0-9.]+),"reason":"([^"]*)".*/\1 \2/'
}

# replay NAME CONFIG COND RAISE_FROM RAISE_TO CLEAR_FROM CLEAR_TO
replay() {
	local name=$1 cfg=$2 cond=$3 got n
	edge_run /dev/null "$WORK/$name.log" --config "$cfg" --replay \
		--source "$WORK/$name.mp4" --events-out "$WORK/$name.jsonl"
	got=$(health "$WORK/$name.jsonl")
	n=$(printf '%s\n' "$got" | grep -c . || true)
	[ "$n" = 2 ] || fail "$name: want 2 health events, got $n: $got"
	printf '%s\n' "$got" | awk -v c="$cond" -v a="$4" -v b="$5" -v d="$6" -v e="$7" '
		NR == 1 && !($2 == c && $1 >= a && $1 <= b) { bad = 1 }
		NR == 2 && !($2 == "cleared:" && $3 == c && $1 >= d && $1 <= e) { bad = 1 }
		END { exit bad }' ||
		fail "$name: want \"$cond\" in [$4, $5] s and \"cleared: $cond\" in [$6, $7] s, got: $got"
	echo "camera_health: $name: $(printf '%s' "$got" | tr '\n' ';')"
}

# The untouched scene: no health event.
edge_run /dev/null "$WORK/plain.log" --config "$CFG" --replay --source "$CLIP" \
	--events-out "$WORK/plain.jsonl"
grep -q '"type":"health"' "$WORK/plain.jsonl" && fail "the untouched scene raised: $(health "$WORK/plain.jsonl")"
grep -q '"type":"alarm"' "$WORK/plain.jsonl" || fail "the untouched scene lost its alarm"

# frozen from 15 s: raised at 30 s, cleared 5 s after live frames at 45 s.
replay frozen "$CFG" frozen 29.5 31.5 49.5 51.5
# black from 15 s: covered at 25 s, cleared 5 s after 35 s.
replay black "$CFG" covered 24.5 26.5 39.5 41.5
# shifted from 15 s: moved 10 s later (checks once a second), cleared 5 s
# after 35 s.
replay shifted "$WORK/cfg-ref.yaml" moved 24.5 27 39.5 42

# ---- (b) a live network source that dies and comes back -------------------
PORT=$(free_port)
URL="tcp://127.0.0.1:$PORT"
serve() {
	ffmpeg -v error -nostdin -re -stream_loop -1 -i "$CLIP" -c copy -f mpegts \
		"$URL?listen=1" 2>>"$WORK/server.log" &
	SERVER_PID=$!
	track $SERVER_PID
}
sed "s|^\(    source: \).*$|\1$URL|" "$CFG" >"$WORK/live.yaml"

serve
sleep 1
edge_start "$WORK/live.out" "$WORK/live.log" --config "$WORK/live.yaml"

# Frames flow: wait until the edge has been up 5 s and is still running.
sleep 5
kill -0 "$EDGE_PID" 2>/dev/null || fail "the live edge exited early"

kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
lost=$(date +%s)
until grep -q '"type":"camera_offline"' "$WORK/live.out"; do
	[ $(($(date +%s) - lost)) -le 30 ] || fail "no camera_offline within 30 s of the loss"
	kill -0 "$EDGE_PID" 2>/dev/null || fail "the edge exited after the loss"
	sleep 0.5
done
echo "camera_health: live: camera_offline $(($(date +%s) - lost)) s after the server died"
grep '"type":"camera_offline"' "$WORK/live.out" | grep -q '"reason":"stream lost: ' ||
	fail "camera_offline without a reason"

sleep 3
serve
back=$(date +%s)
until grep -q '"type":"camera_online"' "$WORK/live.out"; do
	[ $(($(date +%s) - back)) -le 45 ] || fail "no camera_online within 45 s of the server's return"
	kill -0 "$EDGE_PID" 2>/dev/null || fail "the edge exited while reconnecting"
	sleep 0.5
done
echo "camera_health: live: camera_online $(($(date +%s) - back)) s after the server came back"
[ "$(grep -c '"type":"camera_offline"' "$WORK/live.out")" = 1 ] ||
	fail "camera_offline more than once"
awk '/"type":"camera_offline"/ { off = NR } /"type":"camera_online"/ { on = NR }
	END { exit !(off && on && off < on) }' "$WORK/live.out" ||
	fail "camera_online does not follow camera_offline"

# A stall: the server stops sending but keeps its socket (SIGSTOP). The
# read times out (10 s) and the edge reports the loss before it tries to
# reconnect: camera_offline within 30 s (the issue's bound).
sleep 3
kill -STOP "$SERVER_PID"
stalled=$(date +%s)
until [ "$(grep -c '"type":"camera_offline"' "$WORK/live.out")" = 2 ]; do
	[ $(($(date +%s) - stalled)) -le 30 ] || fail "no camera_offline within 30 s of a stall"
	kill -0 "$EDGE_PID" 2>/dev/null || fail "the edge exited after the stall"
	sleep 0.5
done
echo "camera_health: live: camera_offline $(($(date +%s) - stalled)) s after the stream stalled ($(grep '"type":"camera_offline"' "$WORK/live.out" | tail -n 1 | sed -E 's/.*"reason":"([^"]*)".*/\1/'))"
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
serve
back=$(date +%s)
until [ "$(grep -c '"type":"camera_online"' "$WORK/live.out")" = 2 ]; do
	[ $(($(date +%s) - back)) -le 45 ] || fail "no second camera_online within 45 s"
	kill -0 "$EDGE_PID" 2>/dev/null || fail "the edge exited while reconnecting"
	sleep 0.5
done
echo "camera_health: live: camera_online $(($(date +%s) - back)) s after the server came back"

# Frames flow again: the edge keeps running, then stops cleanly.
sleep 3
kill -0 "$EDGE_PID" 2>/dev/null || fail "the edge exited after the reconnect"
edge_stop 30
echo "camera_health: PASS"
