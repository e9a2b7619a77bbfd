#!/usr/bin/env bash
# bench.sh BUILD_DIR - throughput and memory of firelane-edge, as ONE JSON object.
#
# What it measures. For a 1080p25 and a 720p25 H.264 clip of about 20 s
# (generated once, cached in BUILD_DIR/bench/), firelane-edge replays the clip
# twice over: --decode-only (demux + decode, nothing analysed) and the full
# pipeline. Both run on one CPU (taskset, one OpenCV/OpenMP thread, and the
# source's default of one decoder thread), alternating three times; the best
# run of each kind is kept, since slower runs only measure the machine's other
# load. Peak RSS is the worst over the full-pipeline runs.
#
#   decode_fps         frames / wall seconds, decode only
#   pipeline_fps       frames / wall seconds, full pipeline
#   ratio              pipeline_fps / decode_fps (1.0: analysis is free)
#   analysis_ms_per_frame / _per_analysed_frame   analysis time, from the
#                      edge's own --stats-out figures
#   peak_rss_mb        /usr/bin/time's maximum RSS, or VmHWM polled from /proc
#
# With a detector model ($FL_BENCH_MODEL, or the shared yolo-fastest cfg) the
# 720p pipeline runs once more with --model and "detector" reports its cost.
#
# "evidence" is the cost of the evidence chain (issue 3): firelane-scene's
# park_leave at 1280x720 (the full 65 s variant, one alarmed incident;
# generated once into BUILD_DIR/bench/evidence-720) replayed on one CPU with
# --evidence-dir into a temporary store. From the edge's --stats-out:
#   cpu_ms_per_bundle / wall_ms_per_bundle   time spent in the evidence
#                      writer (plan, JPEG encoding, overlay, close-up,
#                      composite, clip remux, hashing, signing, fsync) per
#                      sealed bundle
#   bytes_per_bundle   bytes of the sealed bundle's files on disk
#   images_per_bundle  image files in it
#   preroll_bytes      bytes the camera's pre-roll ring (compressed packets)
#                      holds at the end of the run: its steady state
#   preroll_peak_bytes the most it held
#   preroll_seconds    the seconds it is sized for (pre_roll_s + a margin
#                      for detection's delay; it holds up to one GOP more)
# FL_BENCH_SKIP_EVIDENCE=1 leaves it out.
#
# "streams" is a camera's two streams (docs/evidence.md, "Two streams"):
# park_leave (--quick, seed 1) rendered at 640x360 and 1920x1080 (generated
# once into BUILD_DIR/bench/streams). tests/test_clip --bench on the 1080p
# render re-encoded with a keyframe every 1, 2 and 4 s (libx264, no
# B-frames): "stills" is the cost of one full-resolution still from the
# pre-roll ring, cold (from the GOP's keyframe), for the GOP's last frame
# (the worst case) and its middle one, ms wall and CPU, best of 3;
# "record_read" the CPU of reading the 2 s GOP file decoded against demuxed
# only (decode_to_demux: what not decoding the record stream saves). "runs":
# the edge on one CPU over the scene, the 1080p file alone (today's single
# stream: every frame decoded) against detect 640x360 + record 1080p H.264,
# and + record 1080p H.265 (libx265, when FFmpeg has it; its clip is
# transcoded to H.264): wall_s, decode_s (the detect stream's decoding),
# evidence_cpu_s (stills, images, plate reads, the clip) from --stats-out.
# FL_BENCH_SKIP_STREAMS=1 leaves it out; FL_BENCH_ONLY=streams prints only
# it.
#
# "mqtt" is the delivery path to the hub (issue 4): incident publish-to-
# receive latency p50/p99 on loopback, the spool's cost per message (us,
# bytes), and the wall time from the frame that completes the dwell to the
# alarm at a subscriber; see mqtt() below. FL_BENCH_SKIP_MQTT=1 leaves it out.
#
# "synthetic_suite" is the full-size synthetic suite (make test runs it with
# --quick frames): every firelane-scene scenario (seed 7, generated once into
# BUILD_DIR/bench/scenes-full, again when the generator changes), replayed
# through the edge and scored by firelane-eval --suite, two clips at a time.
# It reports firelane-eval's total figures, the clips with a miss or a false
# alarm (fn > 0 or fp > 0), clips whose run failed, and the scoring wall
# time. FL_BENCH_SKIP_SUITE=1 leaves it out.
#
# "suite_rtsp" is the same scoring with the clips read live from the RTSP
# test camera (docs/testcam.md) as a camera's two streams: the sub-stream
# 640 wide analysed, the main stream 1080 high recorded (640x360 and
# 1920x1080 for the 16:9 scenes), H.264 with a keyframe a second. Each
# clip - the scenes of FL_BENCH_RTSP_SCENES (names; default every
# scenario, seed 7 as above, generated into BUILD_DIR/bench/scenes-rtsp),
# then the real clips of ../shared/data/labels when present and
# FL_BENCH_RTSP_REAL is not 0 - is scored
# from the file (replay, firelane-eval --suite) and through the camera,
# each alarm and clear at the time it reached the edge's stdout on the
# media's clock (so the RTSP delays include the live path's latency). It
# prints both totals, per clip both figures, and how many of the bundles'
# scene images are at the main stream's resolution. It runs in real time
# (a clip's length and some seconds; the whole suite takes about an hour),
# so it runs only as FL_BENCH_ONLY=suite_rtsp, never in a plain make bench.
#
# "sign" is the cost of the signed messages (docs/mqtt.md, "Signed
# messages"): tests/test_msgsign --bench N (N = $FL_BENCH_SIGN_N, default
# 2000) times fl_msg_sign (the edge, per message it publishes) and
# fl_msg_verify (the hub, per message it takes; the edge, per command) on
# an incident message and on a 64 KiB evidence chunk, in microseconds per
# message, the best of 3 rounds. FL_BENCH_SKIP_SIGN=1 leaves it out.
# "long_negatives" is false alarms per camera-hour (docs/scenes.md): firelane-scene
# --long (8 scenes of 15 min, 2 h in all, at 10 fps to keep the bench under
# an hour: the edge analyses at detect.analysis_fps anyway; 640x360, seed 1,
# generated once into BUILD_DIR/bench/long-negatives, again when the
# generator changes) - day, rain, night with head-lights, IR night, the
# day/night switch, a busy road beside the lane, cloud shade over a far
# section, night beside the road; traffic through the lane (one vehicle in it
# at frame 0), people who stop to talk in it, e-bikes, drop-offs of a few
# seconds, and no obstruction. Each is replayed by firelane-eval --suite (two
# at a time); every alarm is false. Reports hours, alarms, alarms per
# camera-hour and the alarms per scene, once without a model and, when the
# shared Yolo-Fastest model is there ($FL_BENCH_MODEL or the default), once
# with it (FL_BENCH_LONG_MODEL=0 leaves that out). FL_BENCH_SKIP_LONG=1
# leaves the member out.
#
# "store" is the hub's store (issue 5): tests/test_db --bench N (N =
# $FL_BENCH_STORE_N, default 100000) fills a SQLite file in a temporary
# folder of BUILD_DIR with N incidents (occupied, alarm, cleared: 3 messages
# each, 50 sites x 4 lanes) through fl_db_ingest and times, in messages per
# second: 2000 messages each its own commit with synchronous=FULL (the
# store's default: the WAL is fsync'ed before the hub acknowledges a message
# to the broker, so nothing acknowledged is lost on power loss), 2000 with
# synchronous=NORMAL (for comparison: survives a crash of the hub, not of the
# machine), and the rest in group commits of 102 messages (FULL). Then, with
# all N stored, query latency median/p99 in ms: fl_db_incidents_json first
# page (no filter; includes the total count), filtered (site + status + from
# + allowed sites), a deep page (offset N/2), fl_db_incident_json of random
# incidents, and fl_db_report_json for one site and for all. fs: the file system the
# database was on. FL_BENCH_SKIP_STORE=1 leaves it out.
#
# "hub" is the hub end to end (issue 5, point 10), in two parts:
#   ingest: a real mosquitto and a real firelane-hub with its default
#     durable store (synchronous=FULL, WAL; one commit per message, the hub
#     acknowledges a message only after it is stored) in a folder of
#     BUILD_DIR/bench (fs: its file system), one enrolled device; N valid
#     incident messages (N = $FL_BENCH_HUB_N, default 3000: occupied, alarm,
#     cleared of N/3 incidents, the edge's JSON) generated into a file and
#     published at QoS 1 by mosquitto_pub -l (one message a line); seconds
#     from the first publish until the store holds all N (polled with
#     sqlite3), msgs_per_s = N / seconds. Each alarm and clear also makes its
#     alert, as in service (job, escalation clock and "made" records are
#     files written atomically with fsync, then the MQTT alert);
#     no_alert_msgs_per_s: N more messages that alert nobody (three
#     "occupied" per incident), to show that cost. A shared disk's fsync
#     rate drifts with the machine's other load (0.4k-5k commits/s seen
#     within minutes here), so the store alone is timed beside it:
#     store_direct_here_msgs_per_s is tests/test_db --bench 1000's
#     ingest_msgs_per_s_full (fl_db_ingest alone, 2000 messages each its own
#     durable commit) on the same file system right after the hub's run, and
#     ratio_to_store_direct_here = msgs_per_s / that: what validation, MQTT
#     and alerts cost on top. $RUNS rounds of the three, the best of each
#     kind kept (slower rounds measure the other load). The messages are
#     signed by the device's key (signed before the clock starts) and
#     verified by the hub; unsigned_no_alert_msgs_per_s: in the same rounds,
#     N messages that alert nobody from a second device that does not sign
#     (the hub runs with require_signed: false for it), and
#     signed_to_unsigned = no_alert_msgs_per_s / that: what verifying costs
#     ingest. ratio_to_store_direct
#     is the same against the "store" member's figure of this run (taken
#     minutes earlier; null when "store" was skipped).
#   api: firelane-hubbench --populate makes a store of
#     $FL_BENCH_HUB_INCIDENTS (default 100000) incidents (50 sites x 4 lanes,
#     60 days up to now, 1 in 10 with an outcome) through fl_db_ingest; the
#     hub serves it and firelane-hubbench --url times the API and the page
#     over keep-alive connections: per endpoint 10 warm-up requests, then up
#     to $FL_BENCH_HUB_REQUESTS (default 200) or 4 s, in ms {n, p50, p90, p99,
#     max}: the incident list (first page, filtered by site + status +
#     outcome, a deep page at offset 50,000), an incident's detail (each view
#     audited: a durable write), reports (week and month, one site and all),
#     the page (GET /), a static asset, the fleet; and the first page with 2
#     clients at once (requests_per_s). populate_s: seconds to fill the store.
# FL_BENCH_SKIP_HUB=1 leaves it out.
#
# "plates" is the plate reader (docs/plate-model.md), through
# firelane-plates --ocr on one CPU (the reader calls cv::setNumThreads(1)):
#   synthetic: per Chinese plate kind, the held-back test set (render.py
#     --test-set, 500 crops each, seeds 900000.. as train.py's; generated
#     once into BUILD_DIR/bench/plates-synth, again when render.py changes):
#     exact-match rate, char accuracy, read rate and precision at the
#     threshold;
#   openalpr: the US and EU sets of ../shared/data/plates/openalpr-endtoend
#     (real photographs, never trained on), crops cut at the labelled boxes
#     ("crop") and whole images through the localiser ("whole"): the same
#     figures (null when the data folder is absent);
#   ms_per_read, cpu_ms_per_read: fl_plate_read on one core, wall and the
#     thread's CPU time (robust to the machine's other load), mean over the
#     synthetic crops;
#   model_bytes, model_rss_kb: the ONNX file, and the resident memory the
#     loaded reader adds.
# FL_BENCH_SKIP_PLATES=1 leaves it out; FL_BENCH_ONLY=plates prints only it.
# "evidence_check" is what the hub's check before it serves or packs a
# verified file costs (docs/security.md, "2. Verified evidence is
# immutable"): tests/test_intact --bench writes a 10 MB file into a folder of
# BUILD_DIR/bench (fs: its file system; the file stays in the page cache, as
# on a hub that just received or served it) and times, in ms: hash_ms, the
# median of 9 checks without the cache (the whole file hashed; hash_mb_per_s
# from it), cached_ms, the median of 200 checks answered by the cache (one
# fstat and a look-up), and plain_open_ms, open + fstat alone, for
# comparison. FL_BENCH_SKIP_EVIDENCE_CHECK=1 leaves it out.
#
# "fleet" is the hub under a simulated fleet (docs/fleetsim.md): one run per
# fleet size N in $FL_BENCH_FLEET_N (default "100 1000"; "100 1000 10000" for
# the 10,000), store in $FL_BENCH_FLEET_STORES (default "sqlite postgresql")
# and number of hub workers in $FL_BENCH_FLEET_WORKERS (default "1 2"): 8 runs
# of about a minute each by default. Each run: a real mosquitto (its
# open-file limit raised, the hubs' queues unbounded) with a password and the
# ACL per device; the store, durable as in service: a SQLite file (WAL,
# synchronous=FULL) or a PostgreSQL server of the run's own (the harness's
# pg_start: a fresh cluster, fsync and synchronous_commit on; left out with a
# message where the server is not installed); firelane-hub workers on it
# (two or more: each its own client id on the shared subscription
# mqtt.shared_group "fleet", one store, one evidence folder); and
# firelane-fleetsim with N devices (signed status and will, heartbeats every
# $FL_BENCH_FLEET_HB_S s (60), $FL_BENCH_FLEET_IPH incidents per device and
# hour (6: the city rate of one per lane and day is 1/12 of that, too few
# alarms to time), 2 lanes each). The devices are enrolled from fleetsim's
# --enrol list: the first with firelane-hub --enrol-device, the rest by the
# same INSERT in one transaction through sqlite3 or psql (the harness's
# pg_sql) (--enrol-device is a durable commit and a process each: 0.2 s, half
# an hour for 10,000). The counts below are the same queries on either store.
# Each run is {devices, store, workers, connect_s, steady, storm}:
#   connect_s     fleetsim's start until the store has every device online
#   steady        after $FL_BENCH_FLEET_WARM_S s (10 + N/100: at 10,000 the
#                 hub needs over a minute to work off the connections'
#                 statuses, and alarms timed earlier wait behind them), $FL_BENCH_FLEET_S s (30) of the rates above: offered_msgs_per_s
#                 (what the fleet publishes: heartbeats, and per incident
#                 3 messages and 3 lane states), stored_msgs_per_s (incident messages the store
#                 took in the window), alarm_to_stored_ms {n, p50, p99}
#                 (the store's received time minus the alarm's unix_time,
#                 both this machine's wall clock), alarm_to_alert_ms {n,
#                 of, p50, p99} (the alarm alerts a property manager's
#                 client got on firelane/+/alerts - mosquitto_sub as
#                 "watch", QoS 1, from the window's start to the run's
#                 end, its receive time (%U) minus the alert's unix_time,
#                 the first arrival per incident - for the n alarms of
#                 the window, of the `of` alarms the store holds whose
#                 unix_time fell in it: of - n never came by the run's
#                 end), mqtt_alerts_waiting (MQTT alert jobs not yet
#                 acknowledged by the broker at the window's end: in the
#                 outbox or in flight), hub_cpu_pct (utime +
#                 stime from /proc over the window, % of one core, summed
#                 over the workers), hub_rss_mb (VmRSS at the window's end,
#                 summed), db_cpu_pct (PostgreSQL: the server's processes,
#                 the postmaster and its live backends, the same way; null
#                 for SQLite, whose work is in hub_cpu_pct), fleetsim_cpu_pct
#   storm         every device dropped without DISCONNECT (SIGUSR1) and back
#                 within $FL_BENCH_FLEET_BURST_S s (10; fleetsim connects at most
#                 $FL_BENCH_FLEET_CONNECT_RATE devices a second, 1000, here
#                 and at the first connect, so
#                 10,000 take 10 s whatever the burst): fleet_correct_s, until
#                 the store has every device online with a newer epoch; then
#                 fleetsim stops (its queues drained, "stopped"), and
#                 stored_s, from the drop until the store holds every
#                 incident message fleetsim had acknowledged; incidents,
#                 messages (sent), stored, lost (sent - stored), extra
#                 (stored - sent: duplicates), resent (sent again after the
#                 drop), quarantined; and over fleet_correct_s, as in the
#                 steady window: hub_cpu_pct, broker_cpu_pct (mosquitto),
#                 fleetsim_cpu_pct, db_cpu_pct; and when every message is
#                 stored: alarms (stored, unix_time from the window's start
#                 on), alarm_alerts (of those, alerts received by then) and
#                 mqtt_alerts_waiting (as above).
# FL_BENCH_PG_STATS=1 (PostgreSQL runs): the server runs with
# pg_stat_statements, and steady gets pg_top, the window's
# $FL_BENCH_PG_STATS_N (15) statements by total execution time: [{calls,
# total_ms, mean_ms, rows, query (160 characters)}]. Execution only: not
# parse, commit or round trips, and the extension costs the server a little.
# FL_BENCH_KEEP=1 keeps the last run's folder (build/bench/fleet-run: the
# logs, the store, alerts.txt) for a look.
# FL_BENCH_SKIP_FLEET=1 leaves it out; FL_BENCH_ONLY=fleet prints only it.
#
# "cameras" is how many cameras one edge carries live (docs/health.md,
# "Cameras per device"): park_leave (--quick, seed 1) rendered at 1920x1080
# and made into a camera's two streams by the harness's testcam_media
# (1080p25 H.264 main, 640x360 H.264 sub, a keyframe a second; generated
# once into BUILD_DIR/bench/cameras), served looping by one firelane-testcam
# process per camera, on one clock (--epoch): as on a site, where each
# camera is its own device; one process for all could not set up 32
# sessions at once within the edge's open and probe timeouts (5 s each:
# every camera failed, "not a video or corrupt header", and waited out its
# backoff). For each N in
# $FL_BENCH_CAMERAS_N (default "1 4 8 16") one firelane-edge, live, with N
# cameras of detect: /sub, record: /main (evidence on, in a temporary
# folder), a private mosquitto, heartbeat_s 5; once every camera is online,
# $FL_BENCH_CAMERAS_S s (20) are measured (from the second heartbeat
# with every camera online: the first interval holds the join bursts): cpu_pct_per_camera (the edge's
# utime + stime from /proc over the window, % of one core, / N),
# rss_mb_per_camera (VmRSS at the window's end / N; rss_mb the whole),
# from the first and last heartbeat of the window decoded_fps_per_camera,
# dropped (frames the window's 25 fps would have brought and were not
# decoded, all cameras; negative: a burst) and skipped (frames due for
# analysis an overloaded camera did not analyse), lag_max_s (the largest
# camera lag in the last heartbeat), overloaded (cameras raising it),
# thread_cpu_pct (the camera threads' own CPU from the last heartbeat, all
# cameras), testcam_cpu_pct (the test cameras', all, for scale);
# rss_mb_per_added_camera: (rss_mb - N = 1's) / (N - 1), what one more
# camera costs beside the libraries and models all share; realtime: no
# frame skipped, no camera overloaded and at least 97 % of the frames
# decoded. largest_realtime_n: the largest such N (of the 1080p runs).
# Alarm latency: each run's cameras share one clock (--epoch), set so that
# the scene loops back to its start about when the window opens; the window
# is lengthened to 10 s past the alarm due in it (the obstruction's start_s
# + dwell_s from the scene's JSON, in the loop of its duration_s whose rest
# begins in the window), so window_s may exceed $FL_BENCH_CAMERAS_S.
# alarmed: the cameras whose edge printed an alarm (stdout, stamped with
# the wall time it came) from 10 s before that due time;
# alarm_latency_p50_s / _max_s: that time minus the due time, over them.
# Negative is possible: the engine counts the car's crawl into its place as
# rest (replayed from the file it alarms at 17.6 s, 0.92 s before the
# due 18.52 s); and the test camera's start seeks to a keyframe (one a
# second) before its clock, so a camera may play up to about 1 s behind
# it, which adds as much. "main" names each run's main stream:
# $FL_BENCH_CAMERAS_1440_N (default "4 8") adds runs of the same scene
# rendered at 2560x1440 with the main stream H.265 at that size (generated
# once into BUILD_DIR/bench/cameras-1440; the sub-stream as before).
# "single" is N = 1 with
# today's single stream (source: /main, the 1080p stream decoded and
# analysed), and cpu_ratio_single_to_two its CPU over the two-stream N = 1.
# Without GStreamer's RTSP server (firelane-testcam --check) the member is
# {"skipped": reason}. FL_BENCH_SKIP_CAMERAS=1 leaves it out;
# FL_BENCH_ONLY=cameras prints only it.
#
# Progress goes to stderr; stdout carries only the JSON. No jq or python:
# the edge's stats file is flat JSON, firelane-eval's --json is one line,
# and sed/awk read both.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: scripts/bench.sh BUILD_DIR" >&2; exit 2; }
NAME=bench
BUILD=$1
# free_port, broker_start, hub_start, fail: the tests' harness
. "$(dirname "$0")/../tests/integration/lib/harness.sh" lib
say() { echo "bench: $*" >&2; }
# shellcheck source=scripts/scene_cache.sh
. "$(dirname "$0")/scene_cache.sh"
WORK=$BUILD/bench
RUNS=${FL_BENCH_RUNS:-3}
SECONDS_LONG=${FL_BENCH_SECONDS:-20}

need "$EDGE" ffmpeg
mkdir -p "$WORK"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fl-bench.XXXXXX")
trap 'kill_tracked; rm -rf "$TMP"' EXIT

# The machine's CPUs, before OMP_NUM_THREADS (which nproc obeys) is set.
NPROC=$(nproc)

# One CPU, one thread everywhere we can say so.
PIN=()
if command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null; then
	PIN=(taskset -c 0)
fi
export OPENCV_FOR_THREADS_NUM=1 OMP_NUM_THREADS=1

# ---- clips -----------------------------------------------------------------

# make_clip NAME W H: BUILD/bench/NAME.mp4, from firelane-scene's park_leave
# scenario when that program is built, else from lavfi's testsrc2. NAME.src
# records which, so a testsrc2 clip is replaced once the scene tool exists.
make_clip() {
	local name=$1 w=$2 h=$3 clip=$WORK/$1.mp4 src=$WORK/$1.src
	local want=testsrc2
	[ -x "$SCENE" ] && want=scene
	if [ -s "$clip" ] && [ -f "$src" ] && [ "$(cat "$src")" = "$want" ]; then
		say "$name: cached ($want)"
		return
	fi
	rm -f "$clip" "$src"
	if [ "$want" = scene ]; then
		say "$name: generating with firelane-scene (park_leave ${w}x${h})"
		local out=$TMP/scene-$name
		mkdir -p "$out"
		if "$SCENE" --scenario park_leave --classic --width "$w" --height "$h" \
			--fps 25 --out "$out" >&2 &&
			[ -s "$out/park_leave.mp4" ]; then
			# Trim to the benchmark's length without re-encoding.
			ffmpeg -nostdin -y -v error -i "$out/park_leave.mp4" \
				-frames:v $((SECONDS_LONG * 25)) -c copy "$clip" ||
				fail "$name: cannot trim the scene clip"
		else
			say "$name: firelane-scene failed, falling back to testsrc2"
			want=testsrc2
		fi
	fi
	if [ "$want" = testsrc2 ]; then
		say "$name: generating with ffmpeg testsrc2 ${w}x${h}"
		ffmpeg -nostdin -y -v error -f lavfi \
			-i "testsrc2=size=${w}x${h}:rate=25" -t "$SECONDS_LONG" \
			-c:v libx264 -preset veryfast -pix_fmt yuv420p "$clip" ||
			fail "$name: ffmpeg could not encode the clip"
	fi
	echo "$want" >"$src"
}

# write_config NAME W H: one camera, one lane over the middle of the frame.
write_config() {
	local name=$1 w=$2 h=$3
	local x0=$((w / 4)) x1=$((w * 3 / 4)) y0=$((h / 4)) y1=$((h * 3 / 4))
	cat >"$WORK/$name.yaml" <<EOF
device: {id: bench, site: bench}
cameras:
  - id: cam-bench
    source: $WORK/$name.mp4
    lanes:
      - id: lane-bench
        points: [[$x0, $y0], [$x1, $y0], [$x1, $y1], [$x0, $y1]]
        dwell_s: 10
EOF
	"$EDGE" --config "$WORK/$name.yaml" --check-config >/dev/null 2>"$TMP/check.err" ||
		fail "$name: firelane-edge rejects the bench config: $(tail -n 5 "$TMP/check.err")"
}

# ---- one run -----------------------------------------------------------------

# field FILE KEY: a number from flat JSON.
field() {
	sed -n "s/.*\"$2\": *\([-0-9.eE+]*\).*/\1/p" "$1" | head -n 1
}

# Peak RSS in kB of a command: /usr/bin/time when installed (package "time"),
# else VmHWM read from /proc while it runs (the last reading before exit).
RSS_KB=0
measure() {
	local rc=0
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o "$TMP/rss" "$@" || rc=$?
		RSS_KB=$(tail -n 1 "$TMP/rss" | tr -dc 0-9)
	else
		"$@" &
		local pid=$! hwm=0 v
		while kill -0 "$pid" 2>/dev/null; do
			v=$(sed -n 's/^VmHWM: *\([0-9]*\) kB/\1/p' \
				"/proc/$pid/status" 2>/dev/null || true)
			if [ -n "$v" ] && [ "$v" -gt "$hwm" ]; then
				hwm=$v
			fi
			sleep 0.05
		done
		wait "$pid" || rc=$?
		RSS_KB=$hwm
	fi
	[ -n "$RSS_KB" ] || RSS_KB=0
	return $rc
}

# run NAME KIND [extra args]: one replay; leaves STATS in $TMP/stats.json.
run() {
	local name=$1 kind=$2
	shift 2
	local args=(--config "$WORK/$name.yaml" --replay --source "$WORK/$name.mp4"
		--events-out /dev/null --stats-out "$TMP/stats.json")
	[ "$kind" = decode ] && args+=(--decode-only)
	rm -f "$TMP/stats.json"
	measure "${PIN[@]}" "$EDGE" "${args[@]}" "$@" 2>"$TMP/edge.err" ||
		fail "$name $kind: firelane-edge failed: $(tail -n 5 "$TMP/edge.err")"
	[ -s "$TMP/stats.json" ] ||
		fail "$name $kind: firelane-edge wrote no --stats-out file"
	local frames wall
	frames=$(field "$TMP/stats.json" frames)
	wall=$(field "$TMP/stats.json" wall_s)
	[ -n "$frames" ] && [ -n "$wall" ] && [ "$frames" != 0 ] ||
		fail "$name $kind: unexpected stats: $(cat "$TMP/stats.json")"
	say "$name $kind: $frames frames in ${wall}s, peak RSS ${RSS_KB} kB"
}

# fps of the stats file in $TMP/stats.json
fps_of() {
	awk -v f="$(field "$1" frames)" -v w="$(field "$1" wall_s)" \
		'BEGIN { printf "%.6f", (w > 0 ? f / w : 0) }'
}

# bench NAME W H: prints the resolution's JSON member. Runs in the main
# shell with stdout to a file (not in $(...)), so a fail() inside it ends the
# script.
bench() {
	local name=$1 w=$2 h=$3 i best_dec=0 best_pipe=0 rss=0 fps
	make_clip "$name" "$w" "$h"
	write_config "$name" "$w" "$h"
	for i in $(seq 1 "$RUNS"); do
		run "$name" decode
		fps=$(fps_of "$TMP/stats.json")
		if awk -v a="$fps" -v b="$best_dec" 'BEGIN { exit !(a > b) }'; then
			best_dec=$fps
		fi
		run "$name" pipeline
		fps=$(fps_of "$TMP/stats.json")
		if awk -v a="$fps" -v b="$best_pipe" 'BEGIN { exit !(a > b) }'; then
			best_pipe=$fps
			cp "$TMP/stats.json" "$TMP/best-$name.json"
		fi
		if [ "$RSS_KB" -gt "$rss" ]; then
			rss=$RSS_KB
		fi
	done
	local s=$TMP/best-$name.json
	awk -v dec="$best_dec" -v pipe="$best_pipe" -v rss="$rss" \
		-v frames="$(field "$s" frames)" \
		-v an="$(field "$s" analysis_s)" \
		-v anf="$(field "$s" analysed_frames)" -v key="$name" 'BEGIN {
		printf "\"%s\": {\"decode_fps\": %.1f, \"pipeline_fps\": %.1f, ", key, dec, pipe
		printf "\"ratio\": %.3f, ", (dec > 0 ? pipe / dec : 0)
		printf "\"analysis_ms_per_frame\": %.3f, ", (frames > 0 ? an * 1000 / frames : 0)
		printf "\"analysis_ms_per_analysed_frame\": %.3f, ", (anf > 0 ? an * 1000 / anf : 0)
		printf "\"peak_rss_mb\": %.1f}", (rss / 1024)
	}'
}

# detector MODEL: the 720p pipeline once more with the dnn detector; prints
# the "detector" member (called like bench, stdout to a file).
detector() {
	run 720p25 pipeline --model "$1"
	awk -v c="$(field "$TMP/stats.json" detector_calls)" \
		-v s="$(field "$TMP/stats.json" detector_s)" 'BEGIN {
		printf "\"detector\": {\"ms_per_call\": %.3f, \"calls\": %d}", (c > 0 ? s * 1000 / c : 0), c
	}'
}

# ---- mqtt ----------------------------------------------------------------------

# mqtt: prints the "mqtt" member (issue 4). Two parts:
#   - tests/test_mqtt --bench N (N = $FL_BENCH_MQTT_N, default 500): a real
#     mosquitto on loopback, the edge's own client and spool; N incident-sized
#     messages (519 bytes), one every 2 ms, appended to the spool by one thread
#     and pumped by another, as in the edge. latency_ms_p50/p99/max: from
#     before the spool append (fsync'ed) to the subscriber's callback, same
#     monotonic clock. spool_us_per_msg_*: the append (write, fsync, rename,
#     directory fsync); spool_bytes_per_msg: the file on disk.
#   - dwell_to_subscriber_ms: firelane-scene's park_leave (--quick, dwell
#     10 s) played live by firelane-edge with a private mosquitto; a
#     subscriber (mosquitto_sub, %U receive time) gets the alarm; the figure
#     is its receive time minus the alarm's unix_time, which is the wall time
#     of the frame that completed the dwell (the camera's start + the frame's
#     video time). It includes waiting for the next analysed frame (5 fps),
#     the analysis, the spool and the broker. occupied_to_subscriber_ms the
#     same for the occupied message.
# FL_BENCH_SKIP_MQTT=1 leaves it out.
mqtt() {
	local dir=$WORK/mqtt-scene sub pid n
	n=${FL_BENCH_MQTT_N:-500}
	need "$BUILD/tests/test_mqtt" mosquitto mosquitto_sub
	say "mqtt: $n messages through spool, client and mosquitto"
	"$BUILD/tests/test_mqtt" --bench "$n" >"$TMP/mqtt-loop.json" 2>"$TMP/mqtt-loop.err" ||
		fail "mqtt: test_mqtt --bench failed: $(tail -n 5 "$TMP/mqtt-loop.err")"
	if [ ! -f "$dir/park_leave.yaml" ]; then
		"$SCENE" --scenario park_leave --out "$dir" --quick --classic >&2 ||
			fail "mqtt: firelane-scene failed"
	fi
	PORT=$(free_port)
	BROKER_HOME=$TMP
	BROKER_PERSIST=0 broker_start
	broker_device scene-edge
	sub=$TMP/mqtt-sub.txt
	mosquitto_sub -h 127.0.0.1 -p "$PORT" -q 1 -i bench-sub -u watch -P "$(broker_pw watch)" \
		-t 'firelane/+/+/+/+/incident' -F '%U %p' >"$sub" 2>/dev/null &
	pid=$!
	track $pid
	broker_wait_sub bench-sub 0 20 $pid || fail "mqtt: the subscriber did not subscribe"
	{
		cat "$dir/park_leave.yaml"
		printf 'mqtt:\n  host: 127.0.0.1\n  port: %s\n  spool_dir: %s\n' "$PORT" "$TMP/mqtt-spool"
		printf '  username: scene-edge\n  password: %s\n' "$(broker_pw scene-edge)"
	} >"$dir/bench.yaml"
	say "mqtt: park_leave live (42 s) for the dwell-to-subscriber time"
	"$EDGE" --config "$dir/bench.yaml" >/dev/null 2>"$TMP/mqtt-edge.err" ||
		fail "mqtt: firelane-edge failed: $(tail -n 5 "$TMP/mqtt-edge.err")"
	sleep 0.5
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	broker_stop
	awk -v loop="$(cat "$TMP/mqtt-loop.json")" '
	function lat(line,   r, u) {
		r = $1
		match(line, /"unix_time": [0-9.]+/)
		u = substr(line, RSTART + 13, RLENGTH - 13)
		return (r - u) * 1000
	}
	/"type": "alarm"/ && alarm == "" { alarm = lat($0) }
	/"type": "occupied"/ && occ == "" { occ = lat($0) }
	END {
		sub(/^\{/, "", loop); sub(/\}$/, "", loop)
		printf "\"mqtt\": {%s, \"dwell_to_subscriber_ms\": %s, \"occupied_to_subscriber_ms\": %s, \"scene\": \"park_leave --quick, live, loopback mosquitto\"}", loop, (alarm == "" ? "null" : sprintf("%.1f", alarm)), (occ == "" ? "null" : sprintf("%.1f", occ))
	}' "$sub"
}

# ---- evidence ------------------------------------------------------------------

# evidence: prints the "evidence" member (called like bench, stdout to a file).
evidence() {
	local dir=$WORK/evidence-720 stamp=$WORK/evidence-720.src want st
	want="$(sha256sum <"$SCENE" | cut -d ' ' -f 1) park_leave 1280x720 classic"
	if ! [ -s "$dir/park_leave.mp4" ] || ! [ -f "$stamp" ] ||
		[ "$(cat "$stamp")" != "$want" ]; then
		rm -rf "$dir" "$stamp"
		say "evidence: generating park_leave 1280x720"
		"$SCENE" --scenario park_leave --classic --width 1280 --height 720 --fps 25 \
			--out "$dir" >&2 || fail "evidence: firelane-scene failed"
		echo "$want" >"$stamp"
	fi
	# The config beside a temporary store: the device key goes there too.
	sed "s|^    source: .*|    source: $dir/park_leave.mp4|" "$dir/park_leave.yaml" \
		>"$TMP/evidence.yaml"
	rm -rf "$TMP/ev"
	st=$TMP/evidence-stats.json
	"${PIN[@]}" "$EDGE" --config "$TMP/evidence.yaml" --replay \
		--source "$dir/park_leave.mp4" --events-out /dev/null \
		--evidence-dir "$TMP/ev" --stats-out "$st" 2>"$TMP/evidence.err" ||
		fail "evidence: firelane-edge failed: $(tail -n 5 "$TMP/evidence.err")"
	[ "$(field "$st" evidence_sealed)" -ge 1 ] 2>/dev/null ||
		fail "evidence: no bundle sealed: $(tail -n 5 "$TMP/evidence.err")"
	say "evidence: $(field "$st" evidence_sealed) bundle(s), $(field "$st" evidence_bytes) bytes"
	awk -v n="$(field "$st" evidence_sealed)" -v cpu="$(field "$st" evidence_cpu_s)" \
		-v wall="$(field "$st" evidence_wall_s)" -v bytes="$(field "$st" evidence_bytes)" \
		-v img="$(field "$st" evidence_images)" -v rb="$(field "$st" preroll_bytes)" \
		-v rp="$(field "$st" preroll_peak_bytes)" -v rs="$(field "$st" preroll_max_s)" 'BEGIN {
		printf "\"evidence\": {\"scene\": \"park_leave 1280x720 25 fps\", \"bundles\": %d, ", n
		printf "\"cpu_ms_per_bundle\": %.1f, \"wall_ms_per_bundle\": %.1f, ", cpu * 1000 / n, wall * 1000 / n
		printf "\"bytes_per_bundle\": %d, \"images_per_bundle\": %.1f, ", bytes / n, img / n
		printf "\"preroll_bytes\": %d, \"preroll_peak_bytes\": %d, \"preroll_seconds\": %.1f}", rb, rp, rs
	}'
}

# ---- streams ---------------------------------------------------------------------

# streams: prints the "streams" member (see the top).
streams() {
	local dir=$WORK/streams stamp=$WORK/streams.src want size g run st runs=""
	want="$(sha256sum <"$SCENE" | cut -d ' ' -f 1) park_leave quick 640x360 1920x1080 gop124 h265"
	if ! [ -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
		rm -rf "$dir" "$stamp"
		mkdir -p "$dir"
		for size in 640x360 1920x1080; do
			say "streams: generating park_leave $size"
			"$SCENE" --scenario park_leave --quick --classic --seed 1 \
				--width "${size%x*}" --height "${size#*x}" --out "$dir/$size" >&2 ||
				fail "streams: firelane-scene failed"
		done
		for g in 1 2 4; do
			ffmpeg -v error -y -i "$dir/1920x1080/park_leave.mp4" -c:v libx264 \
				-preset veryfast -bf 0 -g $((25 * g)) -keyint_min $((25 * g)) \
				-sc_threshold 0 -pix_fmt yuv420p "$dir/gop$g.mp4" ||
				fail "streams: ffmpeg gop $g"
		done
		ffmpeg -v error -y -i "$dir/1920x1080/park_leave.mp4" -c:v libx265 \
			-preset veryfast -x265-params log-level=error:bframes=0 \
			-pix_fmt yuv420p "$dir/h265.mp4" 2>/dev/null || rm -f "$dir/h265.mp4"
		echo "$want" >"$stamp"
	fi
	say "streams: stills by GOP length"
	"${PIN[@]}" "$BUILD/tests/test_clip" --bench "$dir/gop1.mp4" 1 "$dir/gop2.mp4" 2 \
		"$dir/gop4.mp4" 4 >"$TMP/streams-clip.json" || fail "streams: test_clip --bench failed"
	for run in single two_h264 two_h265; do
		case $run in
		single)
			sed "s|source: |source: $dir/1920x1080/|" "$dir/1920x1080/park_leave.yaml" ;;
		two_*)
			local rec=$dir/1920x1080/park_leave.mp4
			[ "$run" = two_h264 ] || rec=$dir/h265.mp4
			[ -s "$rec" ] || continue
			printf 'device: {id: bench, site: bench}\ncameras:\n  - id: cam-1\n'
			printf '    detect: %s\n    record: %s\n' "$dir/640x360/park_leave.mp4" "$rec"
			sed -n '/^    lanes:/,$p' "$dir/1920x1080/park_leave.yaml" ;;
		esac >"$TMP/streams.yaml"
		printf 'evidence:\n  pre_roll_s: 6\n  post_roll_s: 4\n' >>"$TMP/streams.yaml"
		rm -rf "$TMP/ev-streams"
		st=$TMP/streams-$run.json
		say "streams: edge, $run"
		"${PIN[@]}" "$EDGE" --config "$TMP/streams.yaml" --replay --events-out /dev/null \
			--evidence-dir "$TMP/ev-streams" --stats-out "$st" 2>"$TMP/streams.err" ||
			fail "streams: firelane-edge $run failed: $(tail -n 5 "$TMP/streams.err")"
		[ "$(field "$st" evidence_sealed)" -ge 1 ] 2>/dev/null ||
			fail "streams: $run sealed no bundle: $(tail -n 5 "$TMP/streams.err")"
		runs="$runs${runs:+, }\"$run\": {\"wall_s\": $(field "$st" wall_s), \"decode_s\": $(field "$st" decode_s), \"evidence_cpu_s\": $(field "$st" evidence_cpu_s)}"
	done
	printf '"streams": {"scene": "park_leave quick 640x360 + 1920x1080 25 fps", "clip_bench": %s, "runs": {%s}}' \
		"$(cat "$TMP/streams-clip.json")" "$runs"
}

# ---- plates ---------------------------------------------------------------------

# plates: prints the "plates" member (called like bench, stdout to a file).
plates() {
	local P=$BUILD/firelane-plates render=$ROOT/model/plates/render.py
	local synth=$WORK/plates-synth stamp=$WORK/plates-synth.src want i=0 kind
	local D=$ROOT/../shared/data/plates/openalpr-endtoend set mode line
	[ -x "$P" ] || die "plates: $P not built"
	[ -f "$ROOT/model/plates/plate-reader.onnx" ] || die "plates: the model is missing"
	want="$(sha256sum <"$render" | cut -d ' ' -f 1) 500"
	if ! [ -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
		rm -rf "$synth" "$stamp"
		for kind in blue green yellow yellow2 white black; do
			say "plates: rendering the held-back $kind test set"
			/usr/bin/python3 "$render" --out "$synth.tmp/$kind" --kind "$kind" \
				--count 500 --seed $((900000 + i)) --test-set ||
				die "plates: render.py failed"
			i=$((i + 1))
		done
		mv "$synth.tmp" "$synth"
		echo "$want" >"$stamp"
	fi
	printf '"plates": {"synthetic": {'
	i=0
	for kind in blue green yellow yellow2 white black; do
		line=$("${PIN[@]}" "$P" --ocr --crop "$synth/$kind" 2>"$TMP/plates.err") ||
			die "plates: --ocr $kind failed: $(tail -n 3 "$TMP/plates.err")"
		echo "$line" >>"$TMP/plates-synth.jsonl"
		[ $i = 0 ] || printf ', '
		printf '"%s": %s' "$kind" "$line"
		i=$((i + 1))
	done
	printf '}, "openalpr": {'
	i=0
	for set in us eu; do
		for mode in crop whole; do
			[ $i = 0 ] || printf ', '
			i=$((i + 1))
			if ! [ -d "$D/$set" ]; then
				printf '"%s_%s": null' "$set" "$mode"
				continue
			fi
			say "plates: openalpr $set, $mode"
			line=$("${PIN[@]}" "$P" --ocr --latin $([ $mode = crop ] && echo --crop) "$D/$set" 2>"$TMP/plates.err") ||
				die "plates: --ocr $set $mode failed: $(tail -n 3 "$TMP/plates.err")"
			printf '"%s_%s": %s' "$set" "$mode" "$line"
		done
	done
	printf '}, '
	awk '{
		match($0, /"ms_per_read": [0-9.]+/); ms += substr($0, RSTART + 15, RLENGTH - 15); n++
		match($0, /"cpu_ms_per_read": [0-9.]+/); cpu += substr($0, RSTART + 19, RLENGTH - 19)
		match($0, /"model_bytes": [0-9]+/); b = substr($0, RSTART + 15, RLENGTH - 15)
		match($0, /"model_rss_kb": [-0-9]+/); r = substr($0, RSTART + 16, RLENGTH - 16)
	} END { printf "\"ms_per_read\": %.3f, \"cpu_ms_per_read\": %.3f, \"model_bytes\": %d, \"model_rss_kb\": %d}", ms / n, cpu / n, b, r }' \
		"$TMP/plates-synth.jsonl"
}

# ---- store ----------------------------------------------------------------------

# store: prints the "store" member (called like bench, stdout to a file).
store() {
	local n=${FL_BENCH_STORE_N:-100000} fs
	[ -x "$BUILD/tests/test_db" ] || fail "store: $BUILD/tests/test_db not built"
	mkdir -p "$WORK/store"
	fs=$(stat -f -c %T "$WORK/store" 2>/dev/null || echo unknown)
	say "store: $n incidents into SQLite ($fs)"
	TMPDIR=$WORK/store "$BUILD/tests/test_db" --bench "$n" >"$TMP/store.json" 2>"$TMP/store.err" ||
		fail "store: test_db --bench failed: $(tail -n 5 "$TMP/store.err")"
	awk -v fs="$fs" '{ sub(/\}[ \t]*$/, ""); printf "\"store\": %s, \"sync\": \"FULL (WAL)\", \"fs\": \"%s\"}", $0, fs }' "$TMP/store.json"
}

# ---- evidence check ---------------------------------------------------------------

# evidence_check: prints the "evidence_check" member.
evidence_check() {
	local fs
	[ -x "$BUILD/tests/test_intact" ] || fail "evidence_check: $BUILD/tests/test_intact not built"
	mkdir -p "$WORK/intact"
	fs=$(stat -f -c %T "$WORK/intact" 2>/dev/null || echo unknown)
	say "evidence_check: a 10 MB file checked ($fs)"
	TMPDIR=$WORK/intact "$BUILD/tests/test_intact" --bench >"$TMP/intact.json" 2>"$TMP/intact.err" ||
		fail "evidence_check: test_intact --bench failed: $(tail -n 5 "$TMP/intact.err")"
	awk -v fs="$fs" '{ sub(/\}[ \t]*$/, ""); printf "\"evidence_check\": %s, \"fs\": \"%s\"}", $0, fs }' "$TMP/intact.json"
}

# ---- hub ----------------------------------------------------------------------------

# hub_config DIR DB [YAML]: DIR/hub.yaml for firelane-hub on DB (broker
# HUB_MQTT, the hub's account), its HTTP side on a free port (HUB_HTTP),
# then YAML.
hub_config() {
	HUB_HTTP=$(free_port)
	cat >"$1/hub.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $HUB_MQTT, client_id: firelane-bench-hub, $HUB_AUTH}
http: {listen: "127.0.0.1:$HUB_HTTP"}
store: {sqlite: $2}
evidence_dir: $1/evidence
${3:-}
EOC
}

# hub_publish DIR N TYPES TAG DEVICE: N incident messages (N/3 incidents of
# the three TYPES, ids with TAG, the edge's JSON) of DEVICE - signed with
# DIR/DEVICE.key when there is one (before the clock starts: the edge's
# cost, not the hub's), else unsigned - published at QoS 1 from one file by
# mosquitto_pub -l with DEVICE's account; HUB_SECONDS: from the first
# publish until the store in DIR holds them all (polled every 50 ms).
hub_publish() {
	local dir=$1 n=$2 types=$3 tag=$4 dev=$5 q before got t0 t1
	local topic=firelane/bench-site/$5/cam-1/lane-a/incident
	awk -v n=$((n / 3)) -v t0="$(date +%s)" -v types="$types" -v tag="$tag" -v dev="$dev" 'BEGIN {
		split(types, ty, " ")
		for (i = 0; i < n; i++) {
			id = sprintf("%s-%08x-lane-a-%s%d", dev, t0 - n + i, tag, i)
			for (k = 1; k <= 3; k++) {
				w = t0 - 86400 + i * 10 + (k - 1) * 60
				printf "{\"incident_id\": \"%s\", \"seq\": %d, \"type\": \"%s\", \"site\": \"bench-site\", \"device\": \"%s\", \"camera\": \"cam-1\", \"lane\": \"lane-a\", \"time\": \"2026-11-29T12:35:40.200Z\", \"unix_time\": %.3f, \"video_time_s\": %.3f, \"rest_since_s\": 7.600, \"bbox\": [228.0, 141.0, 40.0, 38.0], \"class\": \"vehicle\"}\n", id, k, ty[k], dev, w, 10.2 + (k - 1) * 60
			}
		}
	}' >"$dir/messages-$tag.jsonl"
	if [ -f "$dir/$dev.key" ]; then
		python3 "$FL_LIB/fl_sign.py" lines "$dir/$dev.key" "$topic" \
			<"$dir/messages-$tag.jsonl" >"$dir/messages-$tag.signed" ||
			fail "hub: signing the messages"
		mv "$dir/messages-$tag.signed" "$dir/messages-$tag.jsonl"
	fi
	q="select count(*) from incident_events"
	before=$(sqlite3 -cmd ".timeout 2000" "$dir/hub.db" "$q")
	t0=$(date +%s.%N)
	mosquitto_pub -h 127.0.0.1 -p "$HUB_MQTT" -q 1 -i "$dev-pub" -u "$dev" -P "$(broker_pw "$dev")" \
		-t "$topic" -l <"$dir/messages-$tag.jsonl" 2>"$dir/pub.log" ||
		fail "hub: mosquitto_pub failed: $(tail -n 3 "$dir/pub.log")"
	got=0
	for _ in $(seq 6000); do
		got=$(sqlite3 -cmd ".timeout 2000" "$dir/hub.db" "$q" 2>/dev/null || echo 0)
		[ "$got" -ge $((before + n)) ] && break
		kill -0 "$HUB_PID" 2>/dev/null || fail "hub: firelane-hub died: $(tail -n 5 "$dir/hub.log")"
		sleep 0.05
	done
	t1=$(date +%s.%N)
	[ "$got" -ge $((before + n)) ] || fail "hub: only $((got - before)) of $n messages stored after 300 s"
	HUB_SECONDS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}

# hub: prints the "hub" member (called like bench, stdout to a file).
hub() {
	local dir=$WORK/hub-run n=${FL_BENCH_HUB_N:-3000} fs got t_al t_no here r st=
	local ninc=${FL_BENCH_HUB_INCIDENTS:-100000} direct=null ratio=null
	local p0 p1
	need "$HUB" "$HUBBENCH" mosquitto mosquitto_pub sqlite3 python3 curl
	rm -rf "$dir"
	mkdir -p "$dir/ingest" "$dir/api"
	chmod 0755 "$dir"
	fs=$(stat -f -c %T "$dir" 2>/dev/null || echo unknown)
	n=$((n / 3 * 3))

	# The broker: the hub's queue unbounded (mosquitto's default of 1000
	# queued messages would drop a burst meant to be stored).
	HUB_MQTT=$(free_port)
	PORT=$HUB_MQTT
	BROKER_HOME=$dir
	BROKER_PERSIST=0 BROKER_EXTRA="max_queued_messages 0" broker_start
	broker_device bench-edge bench-old

	# (a) ingest, end to end; the hub not verbose (a log line per message
	# is not free)
	say "hub: $n incident messages through mosquitto into firelane-hub ($fs, synchronous=FULL)"
	# require_signed off only so that bench-old (a device from before
	# signing) can show the cost of the signatures beside bench-edge, whose
	# messages are signed and verified as with the default
	hub_config "$dir/ingest" "$dir/ingest/hub.db" "require_signed: false"
	device_key "$dir/ingest/bench-edge.key" >"$dir/ingest/pk.txt"
	echo "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=" >"$dir/ingest/pk-old.txt"
	{
		"$HUB" --config "$dir/ingest/hub.yaml" --enrol-device bench-edge \
			--site bench-site --public-key "$dir/ingest/pk.txt" &&
			"$HUB" --config "$dir/ingest/hub.yaml" --enrol-device bench-old \
				--site bench-site --public-key "$dir/ingest/pk-old.txt"
	} >"$dir/ingest/admin.log" 2>&1 ||
		fail "hub: --enrol-device: $(tail -n 3 "$dir/ingest/admin.log")"
	hub_start "$dir/ingest/hub.yaml" "$dir/ingest/hub.log"
	# RUNS rounds, each: the messages with alerts, those without, then the
	# store alone on the same file system (the disk's fsync rate drifts
	# with the machine's other load: side by side, best of each kind, as
	# for the edge's figures above).
	t_al=0 t_no=0 t_un=0 here=0
	for r in $(seq 1 "$RUNS"); do
		hub_publish "$dir/ingest" "$n" "occupied alarm cleared" "a$r" bench-edge
		awk -v a="$HUB_SECONDS" -v b="$t_al" 'BEGIN { exit !(b == 0 || a < b) }' && t_al=$HUB_SECONDS
		got=$HUB_SECONDS
		hub_publish "$dir/ingest" "$n" "occupied occupied occupied" "o$r" bench-edge
		awk -v a="$HUB_SECONDS" -v b="$t_no" 'BEGIN { exit !(b == 0 || a < b) }' && t_no=$HUB_SECONDS
		hub_publish "$dir/ingest" "$n" "occupied occupied occupied" "u$r" bench-old
		awk -v a="$HUB_SECONDS" -v b="$t_un" 'BEGIN { exit !(b == 0 || a < b) }' && t_un=$HUB_SECONDS
		if [ -x "$BUILD/tests/test_db" ]; then
			mkdir -p "$dir/store-here"
			TMPDIR=$dir/store-here "$BUILD/tests/test_db" --bench 1000 >"$TMP/hub-store.json" 2>"$TMP/hub-store.err" ||
				fail "hub: test_db --bench failed: $(tail -n 3 "$TMP/hub-store.err")"
			st=$(sed -n 's/.*"ingest_msgs_per_s_full": *\([0-9.]*\).*/\1/p' "$TMP/hub-store.json")
			awk -v a="${st:-0}" -v b="$here" 'BEGIN { exit !(a > b) }' && here=$st
		fi
		say "hub: round $r: ${got} s with alerts, ${HUB_SECONDS} s unsigned without; the store alone ${st:-?} msgs/s"
	done
	[ "$here" != 0 ] || here=null
	got=$(sqlite3 "$dir/ingest/hub.db" "select count(*) from quarantine")
	[ "$got" = 0 ] || fail "hub: $got messages quarantined: $(sqlite3 "$dir/ingest/hub.db" "select reason from quarantine limit 3")"
	hub_stop
	if [ -s "$TMP/m-store" ]; then
		direct=$(sed -n 's/.*"ingest_msgs_per_s_full": *\([0-9.]*\).*/\1/p' "$TMP/m-store")
		[ -n "$direct" ] || direct=null
	fi
	awk -v n="$n" -v rounds="$RUNS" -v s="$t_al" -v so="$t_no" -v su="$t_un" -v d="$direct" -v h="$here" -v fs="$fs" 'BEGIN {
		r = n / s
		printf "{\"messages\": %d, \"rounds\": %d, \"seconds\": %.2f, \"msgs_per_s\": %.0f, ", n, rounds, s, r
		printf "\"store_direct_msgs_per_s\": %s, ", d
		printf "\"ratio_to_store_direct\": %s, ", (d == "null" ? "null" : sprintf("%.3f", r / d))
		printf "\"store_direct_here_msgs_per_s\": %s, ", h
		printf "\"ratio_to_store_direct_here\": %s, ", (h == "null" ? "null" : sprintf("%.3f", r / h))
		printf "\"no_alert_msgs_per_s\": %.0f, ", n / so
		printf "\"unsigned_no_alert_msgs_per_s\": %.0f, ", n / su
		printf "\"signed_to_unsigned\": %.3f, ", su / so
		printf "\"sync\": \"FULL (WAL)\", \"fs\": \"%s\"}", fs
	}' >"$TMP/hub-ingest.json"
	say "hub: ingest $(cat "$TMP/hub-ingest.json")"

	# (b) API and page latency with many incidents
	say "hub: populating a store with $ninc incidents (firelane-hubbench --populate)"
	p0=$(date +%s.%N)
	"$BUILD/firelane-hubbench" --populate "$dir/api/hub.db" --incidents "$ninc" \
		--user bench --password bench-password >"$dir/api/populate.json" 2>"$dir/api/populate.log" ||
		fail "hub: --populate failed: $(tail -n 3 "$dir/api/populate.log")"
	p1=$(date +%s.%N)
	hub_config "$dir/api" "$dir/api/hub.db"
	hub_start "$dir/api/hub.yaml" "$dir/api/hub.log"
	say "hub: timing the API and the page (firelane-hubbench --url)"
	"$BUILD/firelane-hubbench" --url "http://127.0.0.1:$HUB_HTTP" --user bench \
		--password bench-password --requests "${FL_BENCH_HUB_REQUESTS:-200}" \
		--budget-s 4 >"$TMP/hub-api.json" 2>"$dir/api/bench.log" ||
		fail "hub: firelane-hubbench failed: $(tail -n 5 "$dir/api/bench.log")"
	hub_stop
	broker_stop
	printf '"hub": {"ingest": %s, "api": %s, ' "$(cat "$TMP/hub-ingest.json")" "$(cat "$TMP/hub-api.json")"
	awk -v a="$p0" -v b="$p1" -v fs="$fs" 'BEGIN { printf "\"populate_s\": %.1f, \"fs\": \"%s\"}", b - a, fs }'
	rm -rf "$dir"
}

# ---- synthetic suite ---------------------------------------------------------

SUITE_SCENES=$WORK/scenes-full
SUITE_OUT=$WORK/suite-out
SUITE_GEN_ARGS=(--all --seed 7 --jobs 2)

# make_scenes: every scenario at full size into SUITE_SCENES, generated
# again only when the generator or its arguments change.
make_scenes() {
	scene_cache "$SUITE_SCENES" "synthetic suite" "${SUITE_GEN_ARGS[@]}"
}

# jval TEXT KEY: a number (or null) from flat JSON text.
jval() {
	printf '%s\n' "$1" |
		sed -n "s/.*\"$2\": *\(null\|[-0-9.eE+]*\).*/\1/p" | head -n 1
}

# eval_total FILE: the body of firelane-eval --json's "total" object.
eval_total() {
	sed -n 's/.*"total": *{\([^}]*\)}.*/\1/p' "$1"
}

# eval_clips FILE: its clip objects, one a line; clip_name LINE: the clip's
# name. A clip whose run failed has "error" instead of figures.
eval_clips() {
	sed -n 's/.*"clips": *\[\(.*\)\], *"total".*/\1/p' "$1" |
		sed 's/}, *{/}\n{/g'
}
clip_name() {
	printf '%s\n' "$1" | sed -n 's/.*"clip": *"\([^"]*\)".*/\1/p'
}

# suite: prints the "synthetic_suite" member (called like bench, stdout to a
# file). firelane-eval exits non-zero when a clip's run failed; that clip is
# listed under failed_clips, and only a missing report is fatal.
suite() {
	local score=$TMP/suite.json t0 t1 rc=0 total clips line name fp fn k v
	local bad="" failed="" n
	make_scenes
	n=$(ls "$SUITE_SCENES"/*.json 2>/dev/null | wc -l)
	[ "$n" -gt 0 ] || fail "synthetic suite: no scenarios in $SUITE_SCENES"
	rm -rf "$SUITE_OUT"
	say "synthetic suite: scoring $n scenarios (firelane-eval --suite, 2 jobs)"
	t0=$(date +%s.%N)
	"$EVAL" --suite "$SUITE_SCENES" --out "$SUITE_OUT" --jobs 2 --json \
		>"$score" 2>"$TMP/eval.err" || rc=$?
	t1=$(date +%s.%N)
	total=$(eval_total "$score")
	[ -n "$total" ] ||
		fail "synthetic suite: firelane-eval exited $rc without a report: $(tail -n 5 "$TMP/eval.err")"
	[ "$rc" = 0 ] || say "synthetic suite: firelane-eval exited $rc: $(tail -n 3 "$TMP/eval.err")"
	clips=$(eval_clips "$score")
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		name=$(clip_name "$line")
		if printf '%s\n' "$line" | grep -q '"error":'; then
			failed="$failed${failed:+, }\"$name\""
			continue
		fi
		fp=$(jval "$line" fp)
		fn=$(jval "$line" fn)
		fp=${fp:-0} fn=${fn:-0}
		if [ "$fp" != 0 ] || [ "$fn" != 0 ]; then
			bad="$bad${bad:+, }{\"clip\": \"$name\", \"fp\": $fp, \"fn\": $fn}"
		fi
	done <<<"$clips"
	printf '"synthetic_suite": {"scenarios": %d' "$n"
	for k in tp fp fn precision recall f1 alarm_delay_abs_mean_s \
		alarm_delay_max_s clear_error_mean_s early_clears; do
		v=$(jval "$total" "$k")
		printf ', "%s": %s' "$k" "${v:-null}"
	done
	printf ', "clips_fn_or_fp": [%s], "failed_clips": [%s]' "$bad" "$failed"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf ", \"score_wall_s\": %.1f}", b - a }'
}

# ---- long negatives ------------------------------------------------------------

LONG_SCENES=$WORK/long-negatives
LONG_GEN_ARGS=(--long --seed 1 --jobs 2)

# make_long: the long negative scenes, cached like make_scenes.
make_long() {
	scene_cache "$LONG_SCENES" "long negatives" "${LONG_GEN_ARGS[@]}"
}

# long_score [MODEL]: replay every long scene; prints the JSON body (no
# braces) of one setting: alarms, per-camera-hour, per scene, failed runs.
# Called in the main shell (stdout to a file), so a fail() ends the script.
long_score() {
	local score=$TMP/long.json out=$WORK/long-out rc=0 t0 t1 total clips
	local line name fp per="" failed="" alarms hours margs=()
	[ $# -ge 1 ] && margs=(--model "$1")
	rm -rf "$out"
	t0=$(date +%s.%N)
	"$EVAL" --suite "$LONG_SCENES" --out "$out" --jobs 2 --json \
		"${margs[@]}" >"$score" 2>"$TMP/long.err" || rc=$?
	t1=$(date +%s.%N)
	total=$(eval_total "$score")
	[ -n "$total" ] ||
		fail "long negatives: firelane-eval exited $rc without a report: $(tail -n 5 "$TMP/long.err")"
	clips=$(eval_clips "$score")
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		name=$(clip_name "$line")
		if printf '%s\n' "$line" | grep -q '"error":'; then
			failed="$failed${failed:+, }\"$name\""
			continue
		fi
		fp=$(jval "$line" fp)
		per="$per${per:+, }\"$name\": ${fp:-0}"
	done <<<"$clips"
	# every alarm is false: nothing in these scenes is due one
	alarms=$(( $(jval "$total" fp) + $(jval "$total" tp) ))
	hours=$(cat "$LONG_SCENES"/*.json |
		sed -n 's/.*"duration_s": *\([0-9.]*\).*/\1/p' |
		awk '{ s += $1 } END { printf "%.3f", s / 3600 }')
	printf '"hours": %s, "alarms": %d, ' "$hours" "$alarms"
	awk -v a="$alarms" -v h="$hours" 'BEGIN { printf "\"false_alarms_per_camera_hour\": %.2f, ", (h > 0 ? a / h : 0) }'
	printf '"alarms_per_scene": {%s}, "failed_scenes": [%s], ' "$per" "$failed"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "\"wall_s\": %.1f", b - a }'
}

# long_negatives [MODEL]: prints the "long_negatives" member.
long_negatives() {
	make_long
	say "long negatives: replaying $(ls "$LONG_SCENES"/*.json | wc -l) scenes"
	printf '"long_negatives": {"fps": 10, '
	long_score
	if [ $# -ge 1 ]; then
		say "long negatives: again with --model"
		printf ', "with_model": {'
		long_score "$1"
		printf '}'
	fi
	printf '}'
}

# ---- the suite over RTSP -------------------------------------------------------

RTSP_SCENES=$WORK/scenes-rtsp
RTSP_OUT=$WORK/suite-rtsp
RTSP_DATA=$SRC/../shared/data

# stamp: stdin's lines, each prefixed with the wall time it arrived
# (EPOCHREALTIME) and a space.
stamp() {
	local l
	while IFS= read -r l; do
		printf '%s %s\n' "$EPOCHREALTIME" "$l"
	done
}

# rtsp_media CLIP: the test camera's two files from CLIP, as a camera
# encodes them (H.264, one keyframe a second, no B-frames): the sub-stream
# 640 wide and the main stream 1080 high, each keeping CLIP's aspect ratio
# (640x360 and 1920x1080 for a 16:9 clip); RTSP_MW, RTSP_MH: the main size.
rtsp_media() {
	local w h
	w=$(ffprobe -v error -select_streams v:0 -show_entries stream=width \
		-of csv=p=0 "$1") && h=$(ffprobe -v error -select_streams v:0 \
		-show_entries stream=height -of csv=p=0 "$1") || return 1
	RTSP_MW=$(((1080 * w / h + 1) / 2 * 2)) RTSP_MH=1080
	mkdir -p "$WORK/testcam"
	ffmpeg -nostdin -v error -y -i "$1" -vf "scale=640:-2" -c:v libx264 \
		-preset veryfast -force_key_frames 'expr:gte(t,n_forced)' -bf 0 \
		-pix_fmt yuv420p "$WORK/testcam/sub.mp4" &&
		ffmpeg -nostdin -v error -y -i "$1" -vf "scale=$RTSP_MW:$RTSP_MH" \
			-c:v libx264 -preset ultrafast \
			-force_key_frames 'expr:gte(t,n_forced)' -bf 0 \
			-pix_fmt yuv420p "$WORK/testcam/main.mp4"
}

# rtsp_config IN OUT CLIPW URL STATE: IN (one camera reading a file) as
# the test camera's two streams at URL: detect /sub, record /main (timeouts
# of 3 s: the end of the file is a silent camera), the main stream's size,
# lane points scaled from CLIPW wide to the main stream's pixels, a device
# key, the memory in STATE (a clip's own: no clip starts from another's
# clear lane), relative paths made absolute.
rtsp_config() {
	awk -v url="$4" -v kk="$(awk -v a="$RTSP_MW" -v b="$3" 'BEGIN { print a / b }')" \
		-v w="$RTSP_MW" -v h="$RTSP_MH" -v dir="$(dirname "$1")" \
		-v dev=", key_file: $WORK/rtsp-device.key, state_dir: $5}" '
	/^device: \{/ { sub(/\}$/, dev); print; next }
	/^    source: / {
		print "    detect: {url: \"" url "/sub\", timeout_s: 3}"
		print "    record: {url: \"" url "/main\", timeout_s: 3}"
		print "    width: " w
		print "    height: " h
		next
	}
	/^    reference: / && $2 !~ /^\// { print "    reference: " dir "/" $2; next }
	/^ *points: / {
		out = ""; s = $0
		while (match(s, /-?[0-9]+(\.[0-9]+)?/)) {
			out = out substr(s, 1, RSTART - 1) \
				sprintf("%.1f", substr(s, RSTART, RLENGTH) * kk)
			s = substr(s, RSTART + RLENGTH)
		}
		print out s; next
	}
	{ print }' "$1" >"$2"
	printf 'evidence:\n  pre_roll_s: 4\n  post_roll_s: 3\n' >>"$2"
}

# rtsp_clip NAME TRUTH MEDIA CONFIG: one clip through the test camera, live.
# The camera plays MEDIA's two streams from the moment it is ready (its
# wall time P: the media's time 0); the edge reads them live, its events
# stamped with the wall time they arrive. Each alarm and cleared is put at
# its arrival time on the media's clock (wall - P), so the delays scored
# are what a person waiting for the alarm would see. The run ends when the
# sub-stream has gone silent at the end of the file and the edge said
# camera_offline. Writes RTSP_OUT/NAME.{events.jsonl,edge.log,eval.json};
# 1 when the run failed (said on stderr).
rtsp_clip() {
	local name=$1 truth=$2 media=$3 cfg=$RTSP_OUT/$1.yaml raw=$RTSP_OUT/$1.raw
	local cw p dur i pid spid
	rtsp_media "$media" || { say "suite_rtsp: $name: cannot make the streams"; return 1; }
	cw=$(ffprobe -v error -select_streams v:0 -show_entries stream=width -of csv=p=0 "$media")
	[ -n "$TESTCAM_PORT" ] || TESTCAM_PORT=$(free_port)
	TESTCAM_URL=rtsp://127.0.0.1:$TESTCAM_PORT
	rm -rf "$RTSP_OUT/$name.state"
	rtsp_config "$4" "$cfg" "$cw" "$TESTCAM_URL" "$RTSP_OUT/$name.state"
	"$EDGE" --config "$cfg" --check-config >/dev/null 2>"$RTSP_OUT/$name.check" || {
		say "suite_rtsp: $name: config refused: $(tail -n 2 "$RTSP_OUT/$name.check")"
		return 1
	}
	rm -rf "$RTSP_OUT/$name.ev"
	# no --epoch: the files play from their start when the camera is ready
	TESTCAM_EPOCH=0
	testcam_run "$TESTCAM_PORT" testcam
	p=$EPOCHREALTIME
	rm -f "$RTSP_OUT/$name.pid"
	(
		"$EDGE" -v --config "$cfg" --evidence-dir "$RTSP_OUT/$name.ev" \
			2>"$RTSP_OUT/$name.edge.log" &
		echo $! >"$RTSP_OUT/$name.pid"
		wait $!
	) | stamp >"$raw" &
	spid=$!
	track "$spid"
	for i in $(seq 100); do
		[ -s "$RTSP_OUT/$name.pid" ] && break
		sleep 0.1
	done
	pid=$(cat "$RTSP_OUT/$name.pid")
	track "$pid"
	dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$media")
	dur=${dur%.*}
	for i in $(seq $(((dur + 90) * 10))); do
		grep -q '"type":"camera_offline"' "$raw" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -TERM "$pid" 2>/dev/null || true
	wait_gone "$pid" 60 || kill -9 "$pid" 2>/dev/null || true
	wait_gone "$spid" 10 || true
	stop_ok "the test camera" "$TESTCAM_RAN" 10
	grep -q '"type":"camera_offline"' "$raw" || {
		say "suite_rtsp: $name: the run did not reach the end of the file: $(tail -n 2 "$RTSP_OUT/$name.edge.log")"
		return 1
	}
	awk -v p="$p" '{
		w = $1; sub(/^[^ ]* /, "")
		if ($0 ~ /"type":"(alarm|cleared)"/)
			sub(/"video_time_s":[-0-9.]+/, sprintf("\"video_time_s\":%.3f", w - p))
		print
	}' "$raw" >"$RTSP_OUT/$name.events.jsonl"
	"$EVAL" --truth "$truth" --events "$RTSP_OUT/$name.events.jsonl" --json \
		>"$RTSP_OUT/$name.eval.json" 2>"$RTSP_OUT/$name.eval.err" || {
		say "suite_rtsp: $name: firelane-eval: $(tail -n 2 "$RTSP_OUT/$name.eval.err")"
		return 1
	}
}

# rtsp_stills NAME: "total main": the bundles' scene images, and how many
# are at the main stream's resolution (RTSP_MW wide, RTSP_MH plus the
# banner high).
rtsp_stills() {
	local f w h total=0 main=0
	for f in "$RTSP_OUT/$1.ev"/*/scene-*.jpg; do
		[ -f "$f" ] || continue
		IFS=, read -r w h < <(ffprobe -v error -show_entries stream=width,height \
			-of csv=p=0 "$f")
		total=$((total + 1))
		if [ "$w" = "$RTSP_MW" ] && [ "$h" -ge "$RTSP_MH" ]; then
			main=$((main + 1))
		fi
	done
	echo "$total $main"
}

# rtsp_sum FILES...: the totals of several firelane-eval --json reports, as
# the body of a JSON object: tp, fp, fn, precision, recall, f1, the mean
# absolute alarm delay (over the alarms on time), its maximum, early clears.
rtsp_sum() {
	local f t tp=0 fp=0 fn=0 early=0 dsum=0 dmax=null v
	for f in "$@"; do
		t=$(eval_total "$f")
		v=$(jval "$t" tp) && tp=$((tp + v))
		fp=$((fp + $(jval "$t" fp))) fn=$((fn + $(jval "$t" fn)))
		early=$((early + $(jval "$t" early_clears)))
		v=$(jval "$t" alarm_delay_abs_mean_s)
		[ "$v" = null ] || [ -z "$v" ] ||
			dsum=$(awk -v s="$dsum" -v m="$v" -v n="$(jval "$t" tp)" 'BEGIN { print s + m * n }')
		v=$(jval "$t" alarm_delay_abs_max_s)
		[ "$v" = null ] || [ -z "$v" ] ||
			dmax=$(awk -v a="$dmax" -v b="$v" 'BEGIN { print (a == "null" || b > a) ? b : a }')
	done
	awk -v tp="$tp" -v fp="$fp" -v fn="$fn" -v ds="$dsum" -v dm="$dmax" -v e="$early" 'BEGIN {
		p = tp + fp > 0 ? tp / (tp + fp) : 1; r = tp + fn > 0 ? tp / (tp + fn) : 1
		f = p + r > 0 ? 2 * p * r / (p + r) : 0
		printf "\"tp\": %d, \"fp\": %d, \"fn\": %d, \"precision\": %.3f, \"recall\": %.3f, \"f1\": %.3f, ", tp, fp, fn, p, r, f
		printf "\"alarm_delay_abs_mean_s\": %s, \"alarm_delay_abs_max_s\": %s, \"early_clears\": %d", (tp > 0 ? sprintf("%.3f", ds / tp) : "null"), dm, e
	}'
}

# suite_rtsp: prints the "suite_rtsp" member. Every clip (the synthetic
# scenes named in FL_BENCH_RTSP_SCENES, default all of them, seed 7 as the
# synthetic suite; then the real clips of ../shared/data/labels when that
# folder exists) is run twice and scored by the same rules: from the file
# (firelane-eval --suite: replay) and through the RTSP test camera, live,
# with two streams (rtsp_clip). Prints the totals of both, per clip the
# figures that differ, and the bundles' scene images at the main stream's
# resolution. Real time: a clip takes its own length and some seconds.
suite_rtsp() {
	local names name f sel one total main clips="" files=() rtsps=()
	local cfg media
	local st_total=0 st_main=0 failed="" t0 t1
	"$TESTCAM" --check 2>"$TMP/testcam.check" || {
		say "suite_rtsp: skipped: no RTSP test camera: $(cat "$TMP/testcam.check")"
		printf '"suite_rtsp": {"skipped": "no RTSP test camera"}'
		return 0
	}
	names=${FL_BENCH_RTSP_SCENES:-$("$SCENE" --list | awk '{ print $1 }')}
	rm -rf "$RTSP_OUT"
	mkdir -p "$RTSP_OUT" "$RTSP_SCENES"
	t0=$(date +%s.%N)
	sel=()
	for name in $names; do
		scene_cache "$RTSP_SCENES/$name" "suite_rtsp $name" --scenario "$name" --seed 7
		sel+=("$RTSP_SCENES/$name/$name.json")
	done
	if [ "${FL_BENCH_RTSP_REAL:-1}" = 0 ]; then
		say "suite_rtsp: FL_BENCH_RTSP_REAL=0: the real clips are left out"
	elif [ -d "$RTSP_DATA/labels" ]; then
		for f in "$RTSP_DATA"/labels/*.json; do
			sel+=("$f")
		done
	else
		say "suite_rtsp: $RTSP_DATA/labels absent: the real clips are skipped"
	fi
	for f in "${sel[@]}"; do
		name=$(basename "$f" .json)
		one=$RTSP_OUT/$name.file
		mkdir -p "$one"
		# the file run, as firelane-eval --suite runs the synthetic suite:
		# a scene's folder holds it alone (its config, its reference); a
		# real clip gets a folder with its label and a generated config
		case $f in
		"$RTSP_SCENES"/*)
			"$EVAL" --suite "$(dirname "$f")" --out "$one" --json \
				>"$RTSP_OUT/$name.file.json" 2>"$RTSP_OUT/$name.file.err" || true
			cfg=$(dirname "$f")/$name.yaml
			media=$(dirname "$f")/$name.mp4
			;;
		*)
			mkdir -p "$one/label"
			ln -sf "$f" "$one/label/$name.json"
			"$EVAL" --suite "$one/label" --data-root "$RTSP_DATA" --out "$one" \
				--json >"$RTSP_OUT/$name.file.json" 2>"$RTSP_OUT/$name.file.err" || true
			cfg=$one/$name.yaml
			media=$(sed -n 's/^    source: "\(.*\)"$/\1/p' "$cfg" 2>/dev/null | head -n 1)
			;;
		esac
		if [ -z "$(eval_total "$RTSP_OUT/$name.file.json")" ] || [ ! -f "$media" ]; then
			say "suite_rtsp: $name: the file run failed: $(tail -n 2 "$RTSP_OUT/$name.file.err")"
			failed="$failed${failed:+, }\"$name\""
			continue
		fi
		say "suite_rtsp: $name: through the test camera ($(ffprobe -v error -show_entries format=duration -of csv=p=0 "$media") s, real time)"
		if ! rtsp_clip "$name" "$f" "$media" "$cfg"; then
			failed="$failed${failed:+, }\"$name\""
			continue
		fi
		files+=("$RTSP_OUT/$name.file.json")
		rtsps+=("$RTSP_OUT/$name.eval.json")
		read -r total main < <(rtsp_stills "$name")
		st_total=$((st_total + total)) st_main=$((st_main + main))
		clips="$clips${clips:+, }{\"clip\": \"$name\", \"main\": \"${RTSP_MW}x$RTSP_MH\""
		clips="$clips, \"file\": {$(rtsp_sum "$RTSP_OUT/$name.file.json")}"
		clips="$clips, \"rtsp\": {$(rtsp_sum "$RTSP_OUT/$name.eval.json")}"
		clips="$clips, \"stills\": $total, \"stills_main_res\": $main}"
	done
	t1=$(date +%s.%N)
	printf '"suite_rtsp": {"clips": %d, ' "${#rtsps[@]}"
	if [ "${#rtsps[@]}" -gt 0 ]; then
		printf '"file": {%s}, "rtsp": {%s}, ' "$(rtsp_sum "${files[@]}")" "$(rtsp_sum "${rtsps[@]}")"
	fi
	printf '"stills": %d, "stills_main_res": %d, "per_clip": [%s], "failed_clips": [%s], ' \
		"$st_total" "$st_main" "$clips" "$failed"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "\"wall_s\": %.1f}", b - a }'
}

# ---- fleet -------------------------------------------------------------------

# cpu_ticks PID: utime + stime of PID, in clock ticks (0 once it has gone).
cpu_ticks() {
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# tree_ticks PID: cpu_ticks of PID and of its children (a PostgreSQL server:
# the postmaster and a backend per connection).
tree_ticks() {
	local p t=0
	for p in $1 $(pgrep -P "$1"); do
		t=$((t + $(cpu_ticks "$p")))
	done
	echo $t
}

# fq SQL: a query of the fleet run's store, SQLite or PostgreSQL by
# FLEET_STORE, rows as "a|b" lines (0 while it cannot answer).
fq() {
	if [ "$FLEET_STORE" = postgresql ]; then
		pg_sql "$1" 2>/dev/null || echo 0
	else
		sqlite3 -cmd ".timeout 5000" "$WORK/fleet-run/hub.db" "$1" 2>/dev/null || echo 0
	fi
}

# fleet_run STORE WORKERS N: prints one run's JSON object (the "fleet"
# member's runs): N devices, the store STORE (sqlite or postgresql), WORKERS
# hubs (more than one: on the shared subscription, one store, one evidence
# folder).
fleet_run() {
	local n=$3 dir=$WORK/fleet-run sim=$BUILD/firelane-fleetsim w
	local hb=${FL_BENCH_FLEET_HB_S:-60} iph=${FL_BENCH_FLEET_IPH:-6}
	local warm=${FL_BENCH_FLEET_WARM_S:-$((10 + n / 100))}
	local win=${FL_BENCH_FLEET_S:-30} burst=${FL_BENCH_FLEET_BURST_S:-10}
	local hz t0 t1 t2 t3 t4 t5 t6 c0 c1 s0 s1 d0=0 d1=0 e0 e1 rss=0 before got lat sent stored i
	local alat aalarms aalerts aoutbox aout3
	local hubs=()
	FLEET_STORE=$1
	hz=$(getconf CLK_TCK)
	rm -rf "$dir"
	mkdir -p "$dir"
	chmod 0755 "$dir"
	"$sim" --enrol "$dir/fleet.txt" --devices "$n" --site fleet-site ||
		fail "fleet: --enrol"
	# the accounts in one go: plain "user:password" lines, hashed by -U
	awk '{ printf "%s:pw-%s\n", $1, $1 }' "$dir/fleet.txt" >"$dir/broker.passwd"
	mosquitto_passwd -U "$dir/broker.passwd" || fail "fleet: mosquitto_passwd -U"
	HUB_MQTT=$(free_port)
	PORT=$HUB_MQTT
	BROKER_HOME=$dir
	BROKER_PERSIST=0 BROKER_EXTRA="max_queued_messages 0" broker_start
	if [ "$FLEET_STORE" = postgresql ]; then
		# a fresh cluster per run, durable as in service (fsync and
		# synchronous_commit on: pg_start's defaults)
		rm -rf "$WORK/pg"
		# FL_BENCH_PG_STATS=1: the server's statements measured (pg_stat_statements)
		[ -z "${FL_BENCH_PG_STATS:-}" ] ||
			PG_OPTS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
		pg_start
		PG_OPTS=
		[ -z "${FL_BENCH_PG_STATS:-}" ] || pg_sql "CREATE EXTENSION pg_stat_statements" >/dev/null ||
			fail "fleet: CREATE EXTENSION pg_stat_statements"
	fi
	for w in $(seq "$2"); do
		hub_config "$dir" "$dir/hub.db" "hub_key_file: $dir/hub.key"
		[ "$FLEET_STORE" = sqlite ] ||
			sed -i "s|^store: .*|store: {postgresql: \"$PG_URL\"}|" "$dir/hub.yaml"
		[ "$2" = 1 ] ||
			sed -i "s|client_id: firelane-bench-hub,|client_id: firelane-bench-hub-$w, shared_group: fleet,|" "$dir/hub.yaml"
		mv "$dir/hub.yaml" "$dir/hub$w.yaml"
	done
	head -n 1 "$dir/fleet.txt" | {
		read -r dev site pk
		echo "$pk" >"$dir/pk.txt"
		"$HUB" --config "$dir/hub1.yaml" --enrol-device "$dev" --site "$site" \
			--public-key "$dir/pk.txt" >"$dir/admin.log" 2>&1
	} || fail "fleet: --enrol-device: $(tail -n 3 "$dir/admin.log")"
	{
		echo "BEGIN;"
		awk -v t="$(date +%s)" '{ printf "INSERT INTO devices (device, site, public_key, enrolled) VALUES (\x27%s\x27, \x27%s\x27, \x27%s\x27, %s) ON CONFLICT (device) DO NOTHING;\n", $1, $2, $3, t }' "$dir/fleet.txt"
		echo "COMMIT;"
	} >"$dir/enrol.sql"
	if [ "$FLEET_STORE" = postgresql ]; then
		# from a file: N statements are over the kernel's limit for one argument
		pg_sql "\\i $dir/enrol.sql" || fail "fleet: enrolling $n devices"
	else
		sqlite3 -cmd ".timeout 5000" "$dir/hub.db" <"$dir/enrol.sql" || fail "fleet: enrolling $n devices"
	fi
	for w in $(seq "$2"); do
		hub_start "$dir/hub$w.yaml" "$dir/hub$w.log"
		hubs+=("$HUB_PID")
		# hub_start waited for the subscription in the broker's log
		[ "$2" = 1 ] || grep -F ": firelane-bench-hub-$w " "$BROKER_LOG" | grep -qF ' $share/fleet/' ||
			fail "fleet: hub $w is not on the shared subscription: $(grep -F ": firelane-bench-hub-$w " "$BROKER_LOG")"
	done

	say "fleet: $n devices on $FLEET_STORE, $2 hub(s), connecting"
	t0=$(date +%s.%N)
	"$sim" --port "$HUB_MQTT" --devices "$n" --site fleet-site --heartbeat-s "$hb" \
		--incidents-per-hour "$iph" --burst "$burst" --drain-s 300 \
		--connect-rate "${FL_BENCH_FLEET_CONNECT_RATE:-1000}" \
		>"$dir/summary.json" 2>"$dir/fleetsim.log" &
	SIM_PID=$!
	track $SIM_PID
	for i in $(seq 6000); do
		[ "$(fq "select count(*) from devices where status = 'online'")" = "$n" ] && break
		kill -0 $SIM_PID 2>/dev/null || fail "fleet: fleetsim died: $(tail -n 3 "$dir/fleetsim.log")"
		sleep 0.1
	done
	[ "$(fq "select count(*) from devices where status = 'online'")" = "$n" ] ||
		fail "fleet: only $(fq "select count(*) from devices where status = 'online'") of $n online after 600 s"
	t1=$(date +%s.%N)
	# the hub works off the connections' statuses and lane states first
	sleep "$warm"
	# the alerts as a property manager's client gets them, with the time
	# each arrived, from the window's start to the run's end
	mosquitto_sub -h 127.0.0.1 -p "$HUB_MQTT" -q 1 -i fleet-bench-alerts -u watch \
		-P "$(broker_pw watch)" -t 'firelane/+/alerts' -F '%U %p' \
		>"$dir/alerts.txt" 2>"$dir/alerts.log" &
	ALERTS_PID=$!
	track $ALERTS_PID
	broker_wait_sub fleet-bench-alerts 0 30 $ALERTS_PID ||
		fail "fleet: the alerts' subscriber did not subscribe: $(tail -n 3 "$dir/alerts.log")"

	say "fleet: $n devices, $win s steady"
	c0=0
	for w in "${hubs[@]}"; do c0=$((c0 + $(cpu_ticks "$w"))); done
	[ "$FLEET_STORE" = sqlite ] || d0=$(tree_ticks "$PG_PID")
	s0=$(cpu_ticks "$SIM_PID")
	e0=$(fq "select count(*) from incident_events")
	[ -z "${FL_BENCH_PG_STATS:-}" ] || [ "$FLEET_STORE" = sqlite ] ||
		pg_sql "select pg_stat_statements_reset()" >/dev/null
	t2=$(date +%s.%N)
	sleep "$win"
	t3=$(date +%s.%N)
	c1=0
	for w in "${hubs[@]}"; do
		c1=$((c1 + $(cpu_ticks "$w")))
		rss=$((rss + $(awk '/^VmRSS/ { print $2 }' "/proc/$w/status")))
	done
	[ "$FLEET_STORE" = sqlite ] || d1=$(tree_ticks "$PG_PID")
	s1=$(cpu_ticks "$SIM_PID")
	e1=$(fq "select count(*) from incident_events")
	aout3=$(fq "select count(*) from alert_jobs where mqtt = 1 and state = 'outbox'")
	pgtop=null
	if [ -n "${FL_BENCH_PG_STATS:-}" ] && [ "$FLEET_STORE" = postgresql ]; then
		# the steady window's top statements by server time (the JSON array
		# built by the server; the storm is not in it)
		pgtop=$(pg_sql "select replace(coalesce(json_agg(t), '[]')::text, E'\\n', ' ') from (select calls,
			round(total_exec_time::numeric, 1) as total_ms,
			round(mean_exec_time::numeric, 3) as mean_ms, rows,
			left(regexp_replace(query, '\s+', ' ', 'g'), 160) as query
			from pg_stat_statements where query not like '%pg_stat_statements%'
			order by total_exec_time desc limit ${FL_BENCH_PG_STATS_N:-15}) t")
		[ -n "$pgtop" ] || pgtop=null
	fi
	lat=$(fq "select (received - wall) * 1000 from incident_events where type = 'alarm' and received >= $t2 and received <= $t3 order by 1" |
		awk '{ v[NR] = $1 } END {
			if (!NR) { printf "{\"n\": 0, \"p50\": null, \"p99\": null}"; exit }
			i50 = int(NR * 0.50 + 0.999999); i99 = int(NR * 0.99 + 0.999999)
			printf "{\"n\": %d, \"p50\": %.1f, \"p99\": %.1f}", NR, v[i50], v[i99] }')

	say "fleet: $n devices, reconnect storm within $burst s"
	before=$(fq "select max(status_epoch) from devices")
	# the storm's CPU too: whether the hub is busy or waits while it works
	# the statuses off (hubs, broker, fleetsim, the PostgreSQL server)
	c4=0
	for w in "${hubs[@]}"; do c4=$((c4 + $(cpu_ticks "$w"))); done
	b4=$(cpu_ticks "$BROKER_PID") s4=$(cpu_ticks "$SIM_PID") d4=0
	[ "$FLEET_STORE" = sqlite ] || d4=$(tree_ticks "$PG_PID")
	t4=$(date +%s.%N)
	kill -USR1 $SIM_PID
	for i in $(seq 6000); do
		[ "$(fq "select count(*) from devices where status = 'online' and status_epoch > $before")" = "$n" ] && break
		sleep 0.1
	done
	t5=$(date +%s.%N)
	c5=0
	for w in "${hubs[@]}"; do c5=$((c5 + $(cpu_ticks "$w"))); done
	b5=$(cpu_ticks "$BROKER_PID") s5=$(cpu_ticks "$SIM_PID") d5=0
	[ "$FLEET_STORE" = sqlite ] || d5=$(tree_ticks "$PG_PID")
	got=$(fq "select count(*) from devices where status = 'online' and status_epoch > $before")
	[ "$got" = "$n" ] || say "fleet: only $got of $n online again after 600 s"
	kill -TERM $SIM_PID
	wait $SIM_PID || say "fleet: fleetsim exited $?: $(tail -n 3 "$dir/fleetsim.log")"
	sent=$(sed -n 's/.*"acked": {[^}]*"incident": \([0-9]*\).*/\1/p' "$dir/summary.json")
	for i in $(seq 6000); do
		stored=$(fq "select count(*) from incident_events")
		[ "$stored" -ge "${sent:-0}" ] && break
		sleep 0.1
	done
	t6=$(date +%s.%N)
	kill -TERM $ALERTS_PID
	wait $ALERTS_PID || true
	# alarm alerts: the first arrival per incident, "unix_time received"
	awk '{
		if (!match($0, /"type": *"[a-z]+"/)) next
		t = substr($0, RSTART, RLENGTH); sub(/^"type": *"/, "", t); sub(/"$/, "", t)
		if (t != "alarm") next
		if (!match($0, /"incident_id": *"[^"]+"/)) next
		id = substr($0, RSTART, RLENGTH); sub(/^"incident_id": *"/, "", id); sub(/"$/, "", id)
		if (!match($0, /"unix_time": *[0-9.]+/)) next
		u = substr($0, RSTART, RLENGTH); sub(/.*: */, "", u)
		if (!(id in seen)) { seen[id] = 1; print u, $1 }
	}' "$dir/alerts.txt" >"$dir/alarm-alerts.txt"
	alat=$(awk -v a="$t2" -v b="$t3" '$1 >= a && $1 <= b { print ($2 - $1) * 1000 }' "$dir/alarm-alerts.txt" | sort -g |
		awk -v of="$(fq "select count(*) from incident_events where type = 'alarm' and wall >= $t2 and wall <= $t3")" '{ v[NR] = $1 } END {
			if (!NR) { printf "{\"n\": 0, \"of\": %d, \"p50\": null, \"p99\": null}", of; exit }
			i50 = int(NR * 0.50 + 0.999999); i99 = int(NR * 0.99 + 0.999999)
			printf "{\"n\": %d, \"of\": %d, \"p50\": %.1f, \"p99\": %.1f}", NR, of, v[i50], v[i99] }')
	# the storm: alarms since the window's start stored, and their alerts
	# received, by the time every incident message was stored
	aalarms=$(fq "select count(*) from incident_events where type = 'alarm' and wall >= $t2")
	aalerts=$(awk -v a="$t2" -v e="$t6" '$1 >= a && $2 <= e' "$dir/alarm-alerts.txt" | wc -l)
	aoutbox=$(fq "select count(*) from alert_jobs where mqtt = 1 and state = 'outbox'")
	[ "$(fq "select count(*) from quarantine")" = 0 ] ||
		say "fleet: quarantined: $(fq "select reason, count(*) from quarantine group by 1 limit 5")"
	# the JSON by the environment: awk -v would take its backslashes
	PGTOP=$pgtop awk -v n="$n" -v store="$FLEET_STORE" -v workers="$2" -v hz="$hz" -v t0="$t0" -v t1="$t1" \
		-v t2="$t2" -v t3="$t3" -v t4="$t4" -v t5="$t5" -v t6="$t6" -v c0="$c0" -v c1="$c1" \
		-v d0="$d0" -v d1="$d1" -v s0="$s0" -v s1="$s1" \
		-v c4="$c4" -v c5="$c5" -v b4="$b4" -v b5="$b5" -v s4="$s4" -v s5="$s5" \
		-v d4="$d4" -v d5="$d5" \
		-v e0="$e0" -v e1="$e1" -v rss="$rss" -v lat="$lat" -v alat="$alat" -v hb="$hb" -v iph="$iph" \
		-v aalarms="$aalarms" -v aalerts="$aalerts" -v aoutbox="$aoutbox" -v aout3="$aout3" \
		-v got="$got" -v sent="${sent:-0}" -v stored="$stored" \
		-v inc="$(sed -n 's/.*"incidents": \([0-9]*\).*/\1/p' "$dir/summary.json")" \
		-v resent="$(sed -n 's/.*"resent": \([0-9]*\).*/\1/p' "$dir/summary.json")" \
		-v quar="$(fq "select count(*) from quarantine")" -v burst="$burst" 'BEGIN {
		w = t3 - t2
		printf "{\"devices\": %d, \"store\": \"%s\", \"workers\": %d, \"connect_s\": %.1f, ", n, store, workers, t1 - t0
		printf "\"steady\": {\"seconds\": %.1f, \"offered_msgs_per_s\": %.1f, ", w, n * (1 / hb + iph * 6 / 3600)
		printf "\"stored_msgs_per_s\": %.1f, \"alarm_to_stored_ms\": %s, ", (e1 - e0) / w, lat
		printf "\"alarm_to_alert_ms\": %s, \"mqtt_alerts_waiting\": %d, ", alat, aout3
		printf "\"hub_cpu_pct\": %.1f, \"hub_rss_mb\": %.1f, ", 100 * (c1 - c0) / hz / w, rss / 1024
		if (store == "postgresql")
			printf "\"db_cpu_pct\": %.1f, ", 100 * (d1 - d0) / hz / w
		else
			printf "\"db_cpu_pct\": null, "
		printf "\"fleetsim_cpu_pct\": %.1f", 100 * (s1 - s0) / hz / w
		if (ENVIRON["PGTOP"] != "null")
			printf ", \"pg_top\": %s", ENVIRON["PGTOP"]
		printf "}, "
		printf "\"storm\": {\"burst_s\": %s, \"fleet_correct_s\": %.1f, \"online_again\": %d, ", burst, t5 - t4, got
		# CPU until the fleet is correct, in % of one core
		ws = t5 - t4
		printf "\"hub_cpu_pct\": %.1f, \"broker_cpu_pct\": %.1f, ", 100 * (c5 - c4) / hz / ws, 100 * (b5 - b4) / hz / ws
		printf "\"fleetsim_cpu_pct\": %.1f, ", 100 * (s5 - s4) / hz / ws
		if (store == "postgresql")
			printf "\"db_cpu_pct\": %.1f, ", 100 * (d5 - d4) / hz / ws
		else
			printf "\"db_cpu_pct\": null, "
		printf "\"stored_s\": %.1f, \"incidents\": %d, \"messages\": %d, \"stored\": %d, ", t6 - t4, inc, sent, stored
		printf "\"lost\": %d, \"extra\": %d, \"resent\": %d, \"quarantined\": %d, ", (sent > stored ? sent - stored : 0), (stored > sent ? stored - sent : 0), resent, quar
		printf "\"alarms\": %d, \"alarm_alerts\": %d, \"mqtt_alerts_waiting\": %d}}", aalarms, aalerts, aoutbox
	}'
	for w in "${hubs[@]}"; do
		HUB_PID=$w
		hub_stop
	done
	broker_stop
	if [ "$FLEET_STORE" = postgresql ]; then
		pg_stop
		rm -rf "$WORK/pg" "$WORK/pg-initdb.log" "$WORK/postgres.log"
	fi
	[ -n "${FL_BENCH_KEEP:-}" ] || rm -rf "$dir"
}

# fleet: prints the "fleet" member (called like bench, stdout to a file).
fleet() {
	local n s w first=1 stores=
	need "$HUB" "$BUILD/firelane-fleetsim" mosquitto mosquitto_passwd mosquitto_sub sqlite3
	for s in ${FL_BENCH_FLEET_STORES:-sqlite postgresql}; do
		case $s in
		sqlite) stores="$stores sqlite" ;;
		postgresql)
			if [ -n "$(pg_bin postgres)" ] && command -v psql >/dev/null; then
				stores="$stores postgresql"
			else
				say "fleet: no PostgreSQL server here (scripts/deps.sh: postgresql): its runs left out"
			fi
			;;
		*) fail "FL_BENCH_FLEET_STORES: $s is neither sqlite nor postgresql" ;;
		esac
	done
	# one socket per device, at the broker and in fleetsim (the hard limit)
	ulimit -n "$(ulimit -Hn)"
	printf '"fleet": {"runs": ['
	for n in ${FL_BENCH_FLEET_N:-100 1000}; do
		for s in $stores; do
			for w in ${FL_BENCH_FLEET_WORKERS:-1 2}; do
				[ $first = 1 ] || printf ', '
				first=0
				fleet_run "$s" "$w" "$n"
			done
		done
	done
	printf ']}'
}

# ---- cameras -------------------------------------------------------------------

# cameras_hb FILE KEY: KEY's values in the heartbeat line FILE, summed over
# its cameras ("max" as a third argument: the largest).
cameras_hb() {
	grep -o "\"$2\": [-0-9.]*" "$1" | awk -v how="${3:-sum}" '
		{ v = $2 + 0; s += v; if (NR == 1 || v > m) m = v }
		END { printf "%g", (how == "max" ? m : s) }'
}

# cameras_stamp: each line of stdin, after the wall time it arrived (Unix
# seconds).
cameras_stamp() {
	local l
	while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done
}

# cameras_due T0: the Unix time the scene's alarm was due (its obstruction's
# start_s + dwell_s, on the test cameras' clock TESTCAM_EPOCH, in the loop of
# the scene's duration_s) whose rest began in the window (from T0, when
# every camera has been online for a heartbeat).
cameras_due() {
	awk -v t0="$1" -v e="$TESTCAM_EPOCH" -v p="$(field "$WORK/scene/park_leave.json" duration_s)" \
		-v s="$(field "$WORK/scene/park_leave.json" start_s)" \
		-v d="$(field "$WORK/scene/park_leave.json" dwell_s)" 'BEGIN {
		k = (t0 - e - s) / p
		k = (k <= 0 ? 0 : (k == int(k) ? k : int(k) + 1))
		printf "%.3f", e + k * p + s + d
	}'
}

# cameras_latency EVENTS DUE: "p50 max alarmed" of the alarm latency (the
# first alarm a camera printed after DUE - 10 s, stamped by cameras_stamp,
# minus DUE) over the cameras that alarmed ("null null 0" if none did).
cameras_latency() {
	awk -v due="$2" '/"type": *"alarm"/ && $1 >= due - 10 &&
		match($0, /"camera": *"[^"]*"/) {
		c = substr($0, RSTART, RLENGTH)
		if (!(c in seen)) { seen[c] = 1; printf "%.3f\n", $1 - due }
	}' "$1" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR == 0) print "null null 0"
			else printf "%.2f %.2f %d\n", v[int((NR + 1) / 2)], v[NR], NR }'
}

# cameras_run N MODE: one run of the "cameras" member, WORK the media's
# folder (MODE two: detect /sub + record /main; single: source /main),
# CAMERAS_MAIN the main stream's label; prints its JSON object.
cameras_run() {
	local n=$1 mode=$2 dir=$WORK c hb first pid t0 t1 tc0 tc1 url
	local secs=${FL_BENCH_CAMERAS_S:-20} i cfg=$TMP/cameras.yaml rss
	local hz cams=() w0 w1 due lat ev=$TMP/cameras-events
	hz=$(getconf CLK_TCK)
	say "cameras: $n test camera(s)"
	# one clock for the run's cameras, the alarm latency's: the scene
	# loops back to its time 0 6 + N s from now, about when the window
	# opens (the cameras start one after the other)
	TESTCAM_EPOCH=$(awk -v now="$EPOCHREALTIME" -v n="$n" \
		-v p="$(field "$dir/scene/park_leave.json" duration_s)" \
		'BEGIN { printf "%.3f", now - p + 6 + n }')
	{
		echo "device: {id: bench-cams, site: bench}"
		echo "cameras:"
		for c in $(seq "$n"); do
			# a test camera each (the top: why)
			testcam_run "$(free_port)" "testcam-$c" --loop
			cams+=("$TESTCAM_RAN")
			url=$(sed -n 's|^ready \(rtsp://[^/]*\)/main .*|\1|p' "$dir/testcam-$c.out")
			echo "  - id: cam-$c"
			if [ "$mode" = two ]; then
				echo "    detect: $url/sub"
				echo "    record: $url/main"
			else
				echo "    source: $url/main"
			fi
			sed -n '/^    lanes:/,$p' "$dir/scene/park_leave.yaml"
		done
		printf 'mqtt:\n  host: 127.0.0.1\n  port: %s\n  heartbeat_s: 5\n  spool_dir: %s\n' \
			"$PORT" "$TMP/cameras-spool-$mode-$n"
		printf '  username: bench-cams\n  password: %s\n' "$(broker_pw bench-cams)"
	} >"$cfg"
	hb=$TMP/cameras-hb-$mode-$n.txt
	mosquitto_sub -h 127.0.0.1 -p "$PORT" -q 1 -i "bench-cams-$mode-$n" -u watch \
		-P "$(broker_pw watch)" -t 'firelane/bench/bench-cams/heartbeat' -F '%p' >"$hb" 2>/dev/null &
	local sub=$!
	track $sub
	broker_wait_sub "bench-cams-$mode-$n" 0 20 $sub || fail "cameras: the subscriber did not subscribe"
	rm -rf "$TMP/cameras-ev"
	say "cameras: $n x $mode, live from the test camera"
	"$EDGE" --config "$cfg" --evidence-dir "$TMP/cameras-ev" > >(cameras_stamp >"$ev") \
		2>"$TMP/cameras-edge.err" &
	pid=$!
	track $pid
	# the window opens with the second heartbeat that has every camera
	# online (the first interval holds each stream's join burst); 90 s at
	# most
	first=
	for i in $(seq 900); do
		first=$(awk -v n="$n" '{ k = gsub(/"online": true/, "") }
			k >= n && ++seen == 2 { print NR; exit }' "$hb" 2>/dev/null)
		[ -n "$first" ] && break
		kill -0 $pid 2>/dev/null || fail "cameras: the edge ended: $(tail -n 5 "$TMP/cameras-edge.err")"
		sleep 0.1
	done
	[ -n "$first" ] || fail "cameras: $n x $mode: not every camera online in 90 s"
	t0=$(cpu_ticks $pid)
	tc0=$(for c in "${cams[@]}"; do cpu_ticks "$c"; done | awk '{ s += $1 } END { print s }')
	w0=$EPOCHREALTIME
	# the window lasts secs, or longer, until 10 s after the alarm due
	due=$(cameras_due "$w0")
	sleep "$(awk -v w0="$w0" -v s="$secs" -v due="$due" 'BEGIN { e = due + 10 - w0
		printf "%.3f", (e > s ? e : s) }')"
	t1=$(cpu_ticks $pid)
	w1=$EPOCHREALTIME
	secs=$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.2f", b - a }')
	tc1=$(for c in "${cams[@]}"; do cpu_ticks "$c"; done | awk '{ s += $1 } END { print s }')
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
	# the window's last heartbeat (one comes every 5 s)
	sed -n "${first}p" "$hb" >"$TMP/cameras-hb0"
	tail -n 1 "$hb" >"$TMP/cameras-hb1"
	kill -TERM $pid
	wait $pid || fail "cameras: the edge's exit status after SIGTERM: $(tail -n 5 "$TMP/cameras-edge.err")"
	kill $sub 2>/dev/null || true
	wait $sub 2>/dev/null || true
	for c in "${cams[@]}"; do testcam_stop "$c"; done
	lat=$(cameras_latency "$ev" "$due")
	say "cameras: window from $w0, alarm due at $due"
	awk -v n="$n" -v mode="$mode" -v main="$CAMERAS_MAIN" -v hz="$hz" -v secs="$secs" \
		-v lat50="${lat%% *}" -v latmax="$(echo "$lat" | cut -d ' ' -f 2)" -v alarmed="${lat##* }" \
		-v ticks=$((t1 - t0)) -v tticks=$((tc1 - tc0)) -v rss="$rss" -v rss1="${CAMERAS_RSS1:-}" \
		-v up0="$(field "$TMP/cameras-hb0" uptime_s)" -v up1="$(field "$TMP/cameras-hb1" uptime_s)" \
		-v d0="$(cameras_hb "$TMP/cameras-hb0" decoded)" -v d1="$(cameras_hb "$TMP/cameras-hb1" decoded)" \
		-v s0="$(cameras_hb "$TMP/cameras-hb0" skipped)" -v s1="$(cameras_hb "$TMP/cameras-hb1" skipped)" \
		-v lag="$(cameras_hb "$TMP/cameras-hb1" lag_s max)" \
		-v tcpu="$(cameras_hb "$TMP/cameras-hb1" cpu)" \
		-v over="$(grep -o '"overloaded": true' "$TMP/cameras-hb1" | wc -l)" '
	BEGIN {
		win = up1 - up0
		cpu = 100 * ticks / hz / secs
		dec = d1 - d0
		want = (win > 0 ? 25 * win * n : 0)
		rt = (want > 0 && dec >= 0.97 * want && s1 - s0 == 0 && over == 0)
		added = (n > 1 && rss1 != "" ? sprintf("%.1f", (rss / 1024 - rss1) / (n - 1)) : "null")
		printf "{\"n\": %d, \"mode\": \"%s\", \"main\": \"%s\", \"cpu_pct\": %.1f, \"cpu_pct_per_camera\": %.1f, \"rss_mb\": %.1f, \"rss_mb_per_camera\": %.1f, \"rss_mb_per_added_camera\": %s, \"window_s\": %g, \"decoded_fps_per_camera\": %s, \"dropped\": %s, \"skipped\": %d, \"lag_max_s\": %g, \"overloaded\": %d, \"thread_cpu_pct\": %.1f, \"testcam_cpu_pct\": %.1f, \"alarmed\": %d, \"alarm_latency_p50_s\": %s, \"alarm_latency_max_s\": %s, \"realtime\": %s}",
			n, mode, main, cpu, cpu / n, rss / 1024, rss / 1024 / n, added, win,
			(win > 0 ? sprintf("%.2f", dec / win / n) : "null"),
			(win > 0 ? sprintf("%d", want - dec) : "null"), s1 - s0, lag,
			over, 100 * tcpu, 100 * tticks / hz / secs, alarmed, lat50, latmax,
			(rt ? "true" : "false")
	}'
}

# cameras: prints the "cameras" member (see the top).
cameras() {
	local dir=$WORK/cameras stamp=$WORK/cameras.src want n runs="" single two1 largest=0 r
	need mosquitto mosquitto_sub mosquitto_passwd "$SCENE"
	if ! "$TESTCAM" --check 2>"$TMP/testcam-check"; then
		printf '"cameras": {"skipped": "no RTSP test camera: %s"}' \
			"$(tr -d '"\\\n' <"$TMP/testcam-check")"
		return
	fi
	want="$(sha256sum <"$SCENE" | cut -d ' ' -f 1) park_leave quick 1920x1080 seed 1"
	if ! [ -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
		rm -rf "$dir" "$stamp"
		mkdir -p "$dir"
		say "cameras: generating park_leave 1920x1080 and the two streams"
		"$SCENE" --scenario park_leave --quick --classic --seed 1 --width 1920 \
			--height 1080 --out "$dir/scene" >&2 || fail "cameras: firelane-scene failed"
		WORK=$dir testcam_media "$dir/scene/park_leave.mp4"
		echo "$want" >"$stamp"
	fi
	# the same scene at 2560x1440, its main stream H.265 at that size
	# (testcam_media's main is 1080p: replaced)
	want="$(sha256sum <"$SCENE" | cut -d ' ' -f 1) park_leave quick 2560x1440 h265 seed 1"
	if ! [ -f "$stamp-1440" ] || [ "$(cat "$stamp-1440")" != "$want" ]; then
		rm -rf "$dir-1440" "$stamp-1440"
		mkdir -p "$dir-1440"
		say "cameras: generating park_leave 2560x1440 and the two streams (main H.265)"
		"$SCENE" --scenario park_leave --quick --classic --seed 1 --width 2560 \
			--height 1440 --out "$dir-1440/scene" >&2 || fail "cameras: firelane-scene failed"
		WORK=$dir-1440 testcam_media "$dir-1440/scene/park_leave.mp4" h265
		ffmpeg -nostdin -v error -y -i "$dir-1440/scene/park_leave.mp4" -c:v libx265 \
			-preset ultrafast -g 25 -bf 0 -pix_fmt yuv420p "$dir-1440/testcam/main.mp4" \
			>/dev/null 2>"$TMP/cameras-1440.log" ||
			fail "cameras: the 1440p main stream: $(tail -n 3 "$TMP/cameras-1440.log")"
		echo "$want" >"$stamp-1440"
	fi
	PORT=$(free_port)
	BROKER_HOME=$TMP
	BROKER_PERSIST=0 broker_start
	broker_device bench-cams
	TESTCAM_CODEC=h264 CAMERAS_MAIN="1920x1080 h264"
	for n in ${FL_BENCH_CAMERAS_N:-1 4 8 16}; do
		WORK=$dir cameras_run "$n" two >"$TMP/cameras-run"
		r=$(cat "$TMP/cameras-run")
		say "cameras: $r"
		runs="$runs${runs:+, }$r"
		if [ "$n" = 1 ]; then
			two1=$r
			CAMERAS_RSS1=$(field "$TMP/cameras-run" rss_mb)
		fi
		case $r in *'"realtime": true'*) [ "$n" -gt "$largest" ] && largest=$n ;; esac
	done
	WORK=$dir cameras_run 1 single >"$TMP/cameras-run"
	single=$(cat "$TMP/cameras-run")
	say "cameras: $single"
	TESTCAM_CODEC=h265 CAMERAS_MAIN="2560x1440 h265" CAMERAS_RSS1=
	for n in ${FL_BENCH_CAMERAS_1440_N:-4 8}; do
		WORK=$dir-1440 cameras_run "$n" two >"$TMP/cameras-run"
		r=$(cat "$TMP/cameras-run")
		say "cameras: $r"
		runs="$runs${runs:+, }$r"
	done
	broker_stop
	printf '"cameras": {"scene": "park_leave quick, main 1920x1080 H.264 (2560x1440 H.265 where a run says so) + sub 640x360 H.264, 25 fps, RTSP", "runs": [%s], "largest_realtime_n": %s, "single": %s, "cpu_ratio_single_to_two": %s}' \
		"$runs" "$largest" "$single" \
		"$(awk -v a="$(field <(echo "$single") cpu_pct)" -v b="$(field <(echo "${two1:-}") cpu_pct)" \
			'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "null" }')"
}

# ---- main --------------------------------------------------------------------

if [ "${FL_BENCH_ONLY:-}" = fleet ]; then
	fleet >"$TMP/m-fleet"
	echo "{$(cat "$TMP/m-fleet")}"
	exit 0
fi
if [ "${FL_BENCH_ONLY:-}" = plates ]; then
	plates >"$TMP/m-plates"
	echo "{$(cat "$TMP/m-plates")}"
	exit 0
fi
if [ "${FL_BENCH_ONLY:-}" = cameras ]; then
	cameras >"$TMP/m-cameras"
	echo "{$(cat "$TMP/m-cameras")}"
	exit 0
fi
if [ "${FL_BENCH_ONLY:-}" = suite_rtsp ]; then
	[ -x "$SCENE" ] && [ -x "$EVAL" ] || fail "suite_rtsp needs $SCENE and $EVAL (make build)"
	suite_rtsp >"$TMP/m-suite-rtsp"
	echo "{$(cat "$TMP/m-suite-rtsp")}"
	exit 0
fi
if [ "${FL_BENCH_ONLY:-}" = streams ]; then
	streams >"$TMP/m-streams"
	echo "{$(cat "$TMP/m-streams")}"
	exit 0
fi
say "one CPU: ${PIN[*]:-(taskset unavailable)}; $RUNS alternating runs each"
bench 1080p25 1920 1080 >"$TMP/m-1080"
bench 720p25 1280 720 >"$TMP/m-720"
out="{$(cat "$TMP/m-1080"), $(cat "$TMP/m-720")"
model=${FL_BENCH_MODEL:-}
if [ -z "$model" ] &&
	[ -f "$SRC/../shared/data/models/yolo-fastest-1.1/yolo-fastest-1.1-xl.cfg" ]; then
	model=$SRC/../shared/data/models/yolo-fastest-1.1/yolo-fastest-1.1-xl.cfg
fi
if [ -n "$model" ]; then
	[ -f "$model" ] || fail "model $model not found"
	detector "$model" >"$TMP/m-det"
	out="$out, $(cat "$TMP/m-det")"
fi
if [ "${FL_BENCH_SKIP_EVIDENCE:-0}" != 1 ]; then
	[ -x "$SCENE" ] || fail "evidence needs $SCENE (make build), or FL_BENCH_SKIP_EVIDENCE=1"
	evidence >"$TMP/m-evidence"
	out="$out, $(cat "$TMP/m-evidence")"
fi
if [ "${FL_BENCH_SKIP_STREAMS:-0}" != 1 ]; then
	[ -x "$SCENE" ] && [ -x "$BUILD/tests/test_clip" ] ||
		fail "streams needs $SCENE and tests/test_clip (make build), or FL_BENCH_SKIP_STREAMS=1"
	streams >"$TMP/m-streams"
	out="$out, $(cat "$TMP/m-streams")"
fi
if [ "${FL_BENCH_SKIP_MQTT:-0}" != 1 ]; then
	[ -x "$SCENE" ] || fail "mqtt needs $SCENE (make build), or FL_BENCH_SKIP_MQTT=1"
	mqtt >"$TMP/m-mqtt"
	out="$out, $(cat "$TMP/m-mqtt")"
fi
if [ "${FL_BENCH_SKIP_SIGN:-0}" != 1 ]; then
	[ -x "$BUILD/tests/test_msgsign" ] || fail "sign: $BUILD/tests/test_msgsign not built"
	say "sign: Ed25519 signing and verifying of messages"
	"$BUILD/tests/test_msgsign" --bench "${FL_BENCH_SIGN_N:-2000}" >"$TMP/m-sign" ||
		fail "sign: test_msgsign --bench failed"
	out="$out, \"sign\": $(cat "$TMP/m-sign")"
fi
if [ "${FL_BENCH_SKIP_STORE:-0}" != 1 ]; then
	store >"$TMP/m-store"
	out="$out, $(cat "$TMP/m-store")"
fi
if [ "${FL_BENCH_SKIP_EVIDENCE_CHECK:-0}" != 1 ]; then
	evidence_check >"$TMP/m-intact"
	out="$out, $(cat "$TMP/m-intact")"
fi
if [ "${FL_BENCH_SKIP_HUB:-0}" != 1 ]; then
	hub >"$TMP/m-hub"
	out="$out, $(cat "$TMP/m-hub")"
fi
if [ "${FL_BENCH_SKIP_FLEET:-0}" != 1 ]; then
	fleet >"$TMP/m-fleet"
	out="$out, $(cat "$TMP/m-fleet")"
fi
if [ "${FL_BENCH_SKIP_CAMERAS:-0}" != 1 ]; then
	cameras >"$TMP/m-cameras"
	out="$out, $(cat "$TMP/m-cameras")"
fi
if [ "${FL_BENCH_SKIP_PLATES:-0}" != 1 ]; then
	plates >"$TMP/m-plates"
	out="$out, $(cat "$TMP/m-plates")"
fi
if [ "${FL_BENCH_SKIP_LONG:-0}" != 1 ]; then
	[ -x "$SCENE" ] && [ -x "$EVAL" ] ||
		fail "long negatives need $SCENE and $EVAL (make build), or FL_BENCH_SKIP_LONG=1"
	if [ -n "$model" ] && [ "${FL_BENCH_LONG_MODEL:-1}" != 0 ]; then
		long_negatives "$model" >"$TMP/m-long"
	else
		long_negatives >"$TMP/m-long"
	fi
	out="$out, $(cat "$TMP/m-long")"
fi
if [ "${FL_BENCH_SKIP_SUITE:-0}" != 1 ]; then
	[ -x "$SCENE" ] && [ -x "$EVAL" ] ||
		fail "the synthetic suite needs $SCENE and $EVAL (make build), or FL_BENCH_SKIP_SUITE=1"
	suite >"$TMP/m-suite"
	out="$out, $(cat "$TMP/m-suite")"
fi
cpu=$(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo 2>/dev/null | head -n 1 |
	tr -d '"\\')
out="$out, \"machine\": {\"nproc\": $NPROC, \"cpu\": \"${cpu:-unknown}\"}}"
echo "$out"
