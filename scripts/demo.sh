#!/usr/bin/env bash
# demo.sh BUILD_DIR - make demo: the whole firelane chain on this machine.
#
# What runs (no root needed, nothing listens beyond 127.0.0.1):
#   - a private mosquitto on a free loopback port, its own config file, set
#     up as docs/security.md says: no anonymous clients, an account per
#     device and one for the hub (mosquitto_passwd; the demo's passwords
#     are "pw-<account>", loopback only), an ACL that keeps each device to
#     its own topics;
#   - firelane-hub with a SQLite store and an evidence folder, its web UI and
#     API on 127.0.0.1:8080 (or a free port when 8080 is taken);
#   - two edge devices on two sites, each enrolled with its own key
#     (firelane-edge --print-public-key, firelane-hub --enrol-device) and
#     given the hub's public key (firelane-hub --print-public-key: the
#     commands and receipts it takes must be signed by it), each
#     playing generated scenes live, paced like a camera, one after another
#     and round again:
#       edge-north (site north-gate): park_leave (alarm, then cleared),
#         short_stop (occupied, vacated before the dwell: no alarm),
#         two_in_turn (two incidents at one spot: cleared, then one left
#         open when the clip ends, closed as interrupted at the next start)
#       edge-south (site south-yard): boxes (alarm, never cleared: escalated
#         after 15 s, interrupted at the next start), park_leave
#   - two demo users with the fixed password "firelane-demo" (fixed for a
#     friendlier demo; the hub only listens on 127.0.0.1): "demo" (admin,
#     every site) and "manager" (property manager of north-gate only).
#
# The sites and lanes have Chinese names (device.site_name, the lane's
# name: on the evidence banner, in the alerts and the UI); the lines it
# prints are Chinese when the user's locale is (LC_ALL, LC_MESSAGES or LANG
# zh_*), else English; the UI picks its language from the browser.
#
# It prints the URL and the logins as soon as the hub answers, then a short
# log of what the hub stores (incident steps, verified evidence, alerts),
# and runs until Ctrl-C (or SIGTERM); then it stops the edges, the hub and
# the broker in that order and leaves nothing running.
#
# Files: everything of a run under FL_DEMO_DIR/run (default BUILD_DIR/demo/run,
# made afresh at each start: hub.yaml, hub.db, evidence/, the edges' configs,
# keys, spools and logs, the broker's accounts and ACL - run as root,
# mosquitto drops to its own user, which must be able to enter FL_DEMO_DIR
# to read them); the scenes are generated once into
# FL_DEMO_DIR/scenes (640x360; FL_DEMO_QUICK=1: 480x270 short variants into
# scenes-quick, which the integration test uses).
#
# Bounded mode, for tests and scripts: FL_DEMO_EXIT_AFTER=verified stops the
# demo once the hub has verified the evidence of a first incident, exit 0,
# or after FL_DEMO_TIMEOUT_S seconds (default 300) with exit 1 and the
# reason. FL_DEMO_THEN=COMMAND (bounded mode) runs COMMAND with bash while
# the chain is still up, with FL_DEMO_URL, FL_DEMO_USER, FL_DEMO_PASSWORD,
# FL_DEMO_PM_USER, FL_DEMO_PM_PASSWORD, FL_DEMO_PM_SITE, FL_DEMO_INCIDENT (the
# verified one), FL_DEMO_DB and FL_DEMO_RUN in its environment; its exit
# status becomes the demo's. FL_DEMO_HTTP_PORT chooses the web port.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: scripts/demo.sh BUILD_DIR" >&2; exit 2; }
NAME="firelane demo"
BUILD=$1
# free_port, port_open, broker_start, hub_start, fail: the tests' harness
. "$(dirname "$0")/../tests/integration/lib/harness.sh" lib
say() { echo "firelane demo: $*" >&2; }
DIR=${FL_DEMO_DIR:-$BUILD/demo}
RUN=$DIR/run
EXIT_AFTER=${FL_DEMO_EXIT_AFTER:-}
TIMEOUT_S=${FL_DEMO_TIMEOUT_S:-300}
PASSWORD=firelane-demo
# The user's language (LC_ALL, else LC_MESSAGES, else LANG): Chinese lines
# for zh_*, English otherwise.
case "${LC_ALL:-${LC_MESSAGES:-${LANG:-}}}" in
zh* | ZH*) ZH=1 ;;
*) ZH=0 ;;
esac
ADMIN=demo
PM=manager
PM_SITE=north-gate

need "$EDGE" "$HUB" "$SCENE" mosquitto python3 curl setsid flock
case "$EXIT_AFTER" in
"" | verified) ;;
*) fail "FL_DEMO_EXIT_AFTER: only 'verified' is known, not '$EXIT_AFTER'" ;;
esac
if [ -n "$EXIT_AFTER" ]; then
	need sqlite3
fi

# ---- scenes ------------------------------------------------------------------

# The demo's devices: name, site, the scenes it plays in turn.
DEVICES=(edge-north edge-south)
declare -A SITE_OF=([edge-north]=north-gate [edge-south]=south-yard)
# the names people read (the evidence banner, the alerts, the UI), in
# Chinese as a property company writes them
declare -A SITE_NAME_OF=([edge-north]="北门小区" [edge-south]="南苑小区 3 号楼")
declare -A LANE_NAME_OF=([edge-north]="北门消防通道" [edge-south]="3 号楼东侧消防通道")
declare -A SCENES_OF=([edge-north]="park_leave short_stop two_in_turn"
	[edge-south]="boxes park_leave")

mkdir -p "$DIR"
# One demo per folder: a second would remove the first one's files.
exec 9>"$DIR/demo.lock"
flock -n 9 || fail "another demo is running in $DIR (stop it, or set FL_DEMO_DIR)"

SCENES=$DIR/scenes
# the first generator's camera and lane: the demo shows the chain, it does
# not measure detection (docs/scenes.md)
GEN=(--classic)
if [ "${FL_DEMO_QUICK:-0}" = 1 ]; then
	SCENES=$DIR/scenes-quick
	GEN=(--quick --classic)
fi
mkdir -p "$SCENES"
# Each scene once, two at a time; firelane-scene writes the yaml last, so
# its presence means the scene is whole.
pids=()
for s in park_leave short_stop two_in_turn boxes; do
	[ -f "$SCENES/$s.yaml" ] && continue
	say "generating the scene $s (once; cached in $SCENES)"
	"$SCENE" --scenario "$s" --out "$SCENES" "${GEN[@]}" >"$SCENES/$s.log" 2>&1 &
	pids+=($!)
	if [ ${#pids[@]} -ge 2 ]; then
		wait "${pids[0]}" || fail "firelane-scene failed (see $SCENES/*.log)"
		pids=("${pids[@]:1}")
	fi
done
for p in "${pids[@]}"; do
	wait "$p" || fail "firelane-scene failed (see $SCENES/*.log)"
done

# ---- the run's folder, ports ---------------------------------------------------

rm -rf "$RUN"
mkdir -p "$RUN"

MQTT_PORT=$(free_port)
HTTP_PORT=${FL_DEMO_HTTP_PORT:-}
if [ -z "$HTTP_PORT" ]; then
	# 8080 when nothing answers there
	if port_open 8080; then HTTP_PORT=$(free_port); else HTTP_PORT=8080; fi
fi
URL=http://127.0.0.1:$HTTP_PORT/

# ---- stopping ---------------------------------------------------------------------

TAIL_PID=
LOOP_PIDS=()

# reap PID SECONDS: until the process is gone (SIGKILL after SECONDS); its
# exit status when it is ours.
reap() {
	if ! wait_gone "$1" "$2"; then
		say "process $1 did not stop in $2 s: killed"
		kill -KILL "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
}

# Edges first (they publish "stopped" through the broker; each loop sees the
# stop file and ends once its edge has), then the hub (it closes the store
# cleanly), then the broker, then the log follower.
stopping=0
cleanup() {
	set +e
	[ "$stopping" = 1 ] && return
	stopping=1
	: >"$RUN/stop"
	local p f
	for f in "$RUN"/*.pid; do
		[ -s "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null
	done
	for p in "${LOOP_PIDS[@]}"; do reap "$p" 20; done
	# An edge started just as the stop file appeared.
	for f in "$RUN"/*.pid; do
		[ -s "$f" ] || continue
		p=$(cat "$f")
		if kill -0 "$p" 2>/dev/null; then
			kill -TERM "$p" 2>/dev/null
			reap "$p" 10
		fi
	done
	# Let the hub store the edges' "stopped" (at most 3 s).
	if [ -n "$HUB_PID" ] && command -v sqlite3 >/dev/null; then
		for _ in $(seq 30); do
			[ "$(sqlite3 -cmd ".timeout 1000" "$RUN/hub.db" \
				"select count(*) from devices where status is not 'stopped'" 2>/dev/null)" = 0 ] && break
			sleep 0.1
		done
	fi
	if [ -n "$HUB_PID" ]; then
		kill -TERM "$HUB_PID" 2>/dev/null
		reap "$HUB_PID" 15
		p=$?
		[ "$p" = 0 ] || say "the hub exited with status $p (see $RUN/hub.log)"
	fi
	if [ -n "$BROKER_PID" ]; then kill -TERM "$BROKER_PID" 2>/dev/null; reap "$BROKER_PID" 10; fi
	if [ -n "$TAIL_PID" ]; then kill -TERM "$TAIL_PID" 2>/dev/null; wait "$TAIL_PID" 2>/dev/null; fi
	say "stopped (the run's files stay in $RUN)"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- broker, hub ---------------------------------------------------------------------

# setsid: the children are not in the terminal's process group, so Ctrl-C
# reaches only this script, which stops them in order.
SPAWN=setsid
# max_queued_messages 0: the broker holds the hub's backlog and must not
# drop it (docs/hub.md, Ingest).
BROKER_HOME=$RUN
PORT=$MQTT_PORT
BROKER_PERSIST=0 BROKER_EXTRA="max_queued_messages 0" broker_start

cat >"$RUN/hub.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $MQTT_PORT, client_id: firelane-demo-hub, $HUB_AUTH}
http: {listen: "127.0.0.1:$HTTP_PORT"}
store: {sqlite: $RUN/hub.db}
evidence_dir: $RUN/evidence
public_url: http://127.0.0.1:$HTTP_PORT
alerts:
  mqtt: true
  sites:
    - site: south-yard
      escalate_s: 15
EOC
"$HUB" --config "$RUN/hub.yaml" --check-config >"$RUN/check.log" 2>&1 ||
	fail "the hub refuses the demo's config: $(tail -n 5 "$RUN/check.log")"

# The devices' configs (one per scene), keys, broker accounts and enrolment.
HUB_KEY=$(hub_key "$RUN/hub.yaml")
for d in "${DEVICES[@]}"; do
	mkdir -p "$RUN/$d"
	broker_device "$d"
	for s in ${SCENES_OF[$d]}; do
		{
			sed -e "s|^device: .*|device: {id: $d, site: ${SITE_OF[$d]}, site_name: \"${SITE_NAME_OF[$d]}\", key_file: $RUN/$d/device.key}|" \
				-e "s|^\(      - id: .*\)$|\1\n        name: \"${LANE_NAME_OF[$d]}\"|" \
				-e "s|^\( *source: \)\(.*\)|\1$SCENES/\2|" \
				-e "s|^\( *reference: \)\(.*\)|\1$SCENES/\2|" "$SCENES/$s.yaml"
			cat <<EOC
mqtt:
  host: 127.0.0.1
  port: $MQTT_PORT
  heartbeat_s: 10
  spool_dir: $RUN/$d/spool
  username: $d
  password: $(broker_pw "$d")
  hub_key: "$HUB_KEY"
evidence:
  dir: $RUN/$d/evidence
  pre_roll_s: 4
  post_roll_s: 5
EOC
		} >"$RUN/$d-$s.yaml"
		"$EDGE" --config "$RUN/$d-$s.yaml" --check-config >"$RUN/check.log" 2>&1 ||
			fail "the edge refuses $RUN/$d-$s.yaml: $(tail -n 5 "$RUN/check.log")"
	done
	set -- ${SCENES_OF[$d]}
	"$EDGE" --config "$RUN/$d-$1.yaml" --print-public-key >"$RUN/$d/public.key" 2>"$RUN/check.log" ||
		fail "$d: --print-public-key: $(tail -n 5 "$RUN/check.log")"
	"$HUB" --config "$RUN/hub.yaml" --enrol-device "$d" --site "${SITE_OF[$d]}" \
		--public-key "$RUN/$d/public.key" >>"$RUN/admin.log" 2>&1 ||
		fail "$d: --enrol-device: $(tail -n 5 "$RUN/admin.log")"
done
printf '%s\n' "$PASSWORD" | "$HUB" --config "$RUN/hub.yaml" --add-user "$ADMIN" \
	--role admin >>"$RUN/admin.log" 2>&1 || fail "--add-user $ADMIN: $(tail -n 5 "$RUN/admin.log")"
printf '%s\n' "$PASSWORD" | "$HUB" --config "$RUN/hub.yaml" --add-user "$PM" \
	--role property --sites "$PM_SITE" >>"$RUN/admin.log" 2>&1 ||
	fail "--add-user $PM: $(tail -n 5 "$RUN/admin.log")"

# Ready: subscribed, and the web side answers.
hub_start "$RUN/hub.yaml" "$RUN/hub.log" -v
hub_alive() {
	kill -0 "$HUB_PID" 2>/dev/null ||
		fail "the hub stopped: $(tail -n 5 "$RUN/hub.log")"
}

if [ "$ZH" = 1 ]; then
	echo "firelane 演示：运行中（mosquitto 127.0.0.1:$MQTT_PORT，数据库 $RUN/hub.db）"
	echo "  网址：  $URL"
	echo "  登录：  $ADMIN / $PASSWORD（管理员：全部小区）"
	echo "  登录：  $PM / $PASSWORD（物业管理员：仅 ${SITE_NAME_OF[edge-north]}，$PM_SITE）"
	for d in "${DEVICES[@]}"; do
		echo "  设备：  $d 在 ${SITE_NAME_OF[$d]}（${SITE_OF[$d]}）· ${LANE_NAME_OF[$d]}，依次播放：${SCENES_OF[$d]}"
	done
	if [ -n "$EXIT_AFTER" ]; then
		echo "  限时：  任一事件的证据验证通过后停止（最多 ${TIMEOUT_S} 秒）"
	else
		echo "  按 Ctrl-C 停止全部。"
	fi
else
	echo "firelane demo: running (mosquitto 127.0.0.1:$MQTT_PORT, store $RUN/hub.db)"
	echo "  URL:    $URL"
	echo "  login:  $ADMIN / $PASSWORD (admin: every site)"
	echo "  login:  $PM / $PASSWORD (property manager: $PM_SITE only)"
	for d in "${DEVICES[@]}"; do
		echo "  edge:   $d at ${SITE_NAME_OF[$d]} (${SITE_OF[$d]}) · ${LANE_NAME_OF[$d]}, playing in turn: ${SCENES_OF[$d]}"
	done
	if [ -n "$EXIT_AFTER" ]; then
		echo "  bounded: stops once an incident's evidence is verified (at most ${TIMEOUT_S} s)"
	else
		echo "  Ctrl-C stops everything."
	fi
fi

# ---- the log -------------------------------------------------------------------------

# What the hub stores and sends, one line each, from its log. tail follows
# the log until it is killed in cleanup (or this script is gone).
show() {
	local line t
	while IFS= read -r line; do
		t=$(date +%H:%M:%S)
		case "$line" in
		*"ingest: "*" stored")
			line=${line#*ingest: }
			echo "$t  incident ${line% stored}"
			;;
		*"evidence: "*": bundle "*)
			line=${line#*evidence: }
			echo "$t  evidence ${line%%: bundle*}: ${line#*: bundle }" | cut -c1-160
			;;
		*"alerts: "*" for "*" -> "*)
			echo "$t  alert ${line#*alerts: }"
			;;
		*": error: "* | *": warn: "*)
			echo "$t  hub ${line#firelane-hub: }" | cut -c1-200
			;;
		esac
	done
}
tail --pid=$$ -n +1 -F "$RUN/hub.log" 2>/dev/null 9>&- > >(show) &
TAIL_PID=$!

# ---- the edges ----------------------------------------------------------------------

# edge_loop DEVICE: the device's scenes live, one after another, round again
# until the stop file exists. The running edge's pid is in RUN/DEVICE.pid:
# cleanup sends it SIGTERM, it publishes "stopped" and exits, and the loop
# ends. An edge stopped mid-incident closes it as "interrupted" at its next
# start. Ctrl-C is this script's to handle, not the loop's.
edge_loop() {
	local d=$1 s child= t0 rc
	set +e
	trap '' INT
	trap - TERM
	while [ ! -e "$RUN/stop" ]; do
		for s in ${SCENES_OF[$d]}; do
			[ -e "$RUN/stop" ] && break
			t0=$SECONDS
			setsid "$EDGE" --config "$RUN/$d-$s.yaml" >>"$RUN/$d/events.jsonl" 2>>"$RUN/$d/edge.log" 9>&- &
			child=$!
			echo "$child" >"$RUN/$d.pid"
			wait "$child"
			rc=$?
			: >"$RUN/$d.pid"
			child=
			[ -e "$RUN/stop" ] && break
			if [ "$rc" != 0 ] && [ $((SECONDS - t0)) -lt 5 ]; then
				echo "$(date +%H:%M:%S)  $d: the edge failed ($rc): $(tail -n 2 "$RUN/$d/edge.log")" >&2
				sleep 5
			fi
			sleep 1
		done
	done
}
for d in "${DEVICES[@]}"; do
	edge_loop "$d" &
	LOOP_PIDS+=($!)
done

# ---- run ----------------------------------------------------------------------------

t_start=$SECONDS
while :; do
	hub_alive
	if [ -n "$EXIT_AFTER" ]; then
		iid=$(sqlite3 -cmd ".timeout 2000" "$RUN/hub.db" \
			"select incident_id from incidents where verified = 1 order by start limit 1" 2>/dev/null || true)
		if [ -n "$iid" ]; then
			[ "$ZH" = 1 ] && echo "firelane 演示：事件 $iid 的证据已验证" ||
				echo "firelane demo: evidence of $iid verified"
			rc=0
			if [ -n "${FL_DEMO_THEN:-}" ]; then
				FL_DEMO_URL=$URL FL_DEMO_USER=$ADMIN FL_DEMO_PASSWORD=$PASSWORD \
					FL_DEMO_PM_USER=$PM FL_DEMO_PM_PASSWORD=$PASSWORD \
					FL_DEMO_PM_SITE=$PM_SITE FL_DEMO_INCIDENT=$iid \
					FL_DEMO_DB=$RUN/hub.db FL_DEMO_RUN=$RUN \
					bash -c "$FL_DEMO_THEN" || rc=$?
				[ "$rc" = 0 ] || say "FL_DEMO_THEN exited $rc"
			fi
			exit "$rc"
		fi
		if [ $((SECONDS - t_start)) -ge "$TIMEOUT_S" ]; then
			fail "no incident's evidence verified within $TIMEOUT_S s (logs in $RUN: hub.log, */edge.log)"
		fi
	fi
	sleep 1
done
