# lib/mqtt.sh - shared by tests/integration/mqtt_*.sh (sourced, not a test).
#
# A private mosquitto on a free loopback port with its own config file and
# persistence folder (so a subscriber's queued messages survive a broker
# restart), a persistent-session subscriber (mosquitto_sub -c, QoS 1, payloads
# as hex so binary evidence chunks survive), the synthetic scene, and a
# cleanup trap that kills everything the test started and dumps the logs only
# on failure. Needs: WORK set, NAME set (the test's name).
BUILD=${FL_BUILD_DIR:-build}
SRC=${FL_SOURCE_DIR:-.}
EDGE=$BUILD/firelane-edge
SCENE=$BUILD/firelane-scene
PIDS=()
BROKER_PID=
OK=0

cleanup() {
	local p
	for p in "${PIDS[@]}" $BROKER_PID; do
		kill -9 "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ "$OK" != 1 ]; then
		for f in "$WORK"/*.log; do
			[ -f "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
		done
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
	echo "$NAME: FAIL: $*" >&2
	exit 1
}

need() {
	for p in "$EDGE" "$SCENE"; do
		[ -x "$p" ] || fail "$p not built"
	done
	for c in mosquitto mosquitto_sub mosquitto_pub python3; do
		command -v "$c" >/dev/null || [ -x "/usr/sbin/$c" ] ||
			fail "$c not installed (scripts/deps.sh)"
	done
}

# The hub is built with everything else: missing, it is a failure, not a skip.
HUB=$BUILD/firelane-hub
need_hub() {
	[ -x "$HUB" ] || fail "$HUB not built"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)

# broker_start [LISTENER]: (re)start the broker on $PORT with persistence in
# $WORK/broker. LISTENER (optional) replaces the default listener and
# authentication lines ("listener $PORT 127.0.0.1" + "allow_anonymous true"),
# e.g. for a TLS listener with a password file (mqtt_tls.sh).
broker_start() {
	local listen=${1:-"listener $PORT 127.0.0.1
allow_anonymous true"}
	mkdir -p "$WORK/broker"
	# mosquitto started as root drops to its own user: let it reach and
	# write its database (else a restart forgets the subscriber's session)
	chmod 0755 "$WORK"
	chmod 0777 "$WORK/broker"
	cat >"$WORK/mosquitto.conf" <<EOC
$listen
persistence true
persistence_location $WORK/broker/
autosave_interval 1
log_dest stdout
log_type error
log_type warning
log_type notice
EOC
	"$MOSQUITTO" -c "$WORK/mosquitto.conf" >>"$WORK/mosquitto.log" 2>&1 &
	BROKER_PID=$!
	for _ in $(seq 50); do
		python3 - "$PORT" <<'EOP' && return 0
import socket, sys
s = socket.socket()
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOP
		sleep 0.1
	done
	fail "mosquitto did not start"
}

broker_stop() {
	kill -TERM "$BROKER_PID" 2>/dev/null || true
	wait "$BROKER_PID" 2>/dev/null || true
	BROKER_PID=
}

# subscribe FILE TOPIC...: a persistent QoS 1 subscriber writing "topic hex".
subscribe() {
	local out=$1
	shift
	local args=()
	for t in "$@"; do args+=(-t "$t"); done
	mosquitto_sub -h 127.0.0.1 -p "$PORT" -q 1 -c -i "sub-$NAME-$$" \
		-F '%t %x' "${args[@]}" >"$out" 2>>"$WORK/sub.log" &
	PIDS+=($!)
	sleep 0.5
}

# scene NAME: generate the quick synthetic scene into $WORK/scene.
scene() {
	"$SCENE" --scenario "$1" --out "$WORK/scene" --quick --classic \
		>"$WORK/scene.log" 2>&1 || fail "firelane-scene $1"
}

# edge_config OUT [extra yaml]: the scene's config plus an mqtt section.
edge_config() {
	local out=$1
	shift
	{
		cat "$WORK/scene/$SCENARIO.yaml"
		printf 'mqtt:\n  host: 127.0.0.1\n  port: %s\n  heartbeat_s: 2\n  spool_dir: %s\n  keepalive_s: 5\n' \
			"$PORT" "$WORK/spool"
		printf '%s' "${1:-}"
	} >"$out"
}

# wait_for FILE PATTERN SECONDS: until a line of FILE matches (grep -E).
wait_for() {
	local i
	for i in $(seq $(($3 * 10))); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# hex TEXT: the text as mosquitto_sub's %x prints it.
hex() {
	printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'
}
