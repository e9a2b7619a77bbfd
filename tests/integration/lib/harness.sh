# lib/harness.sh - the integration tests' one harness (sourced, not a test);
# scripts/demo.sh and scripts/bench.sh use its functions too.
#
# A test sources it first thing, before it starts anything:
#
#     set -eu
#     . "$(dirname "$0")/lib/harness.sh"
#
# and gets NAME (the script's name, unless set before), WORK (a fresh
# folder), BUILD and SRC (absolute), the programs EDGE, HUB, SCENE, VERIFY,
# EVAL and HUBBENCH, and the functions below. Exit 0 passes, 77 is a skip
# (skip), anything else fails (fail).
#
# A note on cleaning up. A test starts brokers, hubs, edges, subscribers and
# HTTP receivers; whatever happens to it, none of them may outlive it (the
# next test would find a port taken or a broker answering for another), and
# a test that forgets one should fail rather than pass and leave it running.
# So the harness runs the test in its own process group, and every process
# it starts carries a mark (FL_TEST_WORK=$WORK in its environment, which
# setsid does not shed). At exit the harness kills what the test tracked
# (track, or the start functions below); anything else still in the group
# or carrying the mark has been left behind: it is listed, killed, and the
# test fails. The logs (every *.log under WORK, and LOG_GLOBS) are printed
# only when the test fails, then WORK goes.
#
# ctest's TIMEOUT kills a hung test without a word. FL_TEST_DEADLINE_S
# (ctest sets it a little under the TIMEOUT) is the harness's own deadline:
# past it the test's processes get SIGTERM and the test fails with its logs.
#
# FL_CPU_LOG=FILE: at exit each test appends "NAME CPU_S WALL_S", the CPU
# seconds of the test and of the processes it waited for, and its seconds:
# what tests/CMakeLists.txt's schedule ("Scheduling") is drawn from.
#
# Sourced as `. harness.sh lib` (scripts/demo.sh, scripts/bench.sh): the
# functions only; no folder, no process group, no traps. Their daemons go to
# BROKER_HOME and the LOG given to hub_start, and SPAWN (e.g. setsid) is put
# before each daemon's command line.

# ---- failing, skipping, requirements --------------------------------------

NAME=${NAME:-$(basename "$0" .sh)}

# fail MESSAGE: the test fails (exit 1) with MESSAGE.
fail() {
	echo "$NAME: FAIL: $*" >&2
	exit 1
}

# skip MESSAGE: the test cannot run here (exit 77, shown as skipped).
skip() {
	echo "$NAME: SKIPPED: $*" >&2
	exit 77
}

# need PROGRAM...: each a path that must be built, or a command that must be
# installed (on PATH or in /usr/sbin).
need() {
	local p
	for p in "$@"; do
		case $p in
		*/*) [ -x "$p" ] || fail "$p not built" ;;
		*)
			command -v "$p" >/dev/null || [ -x "/usr/sbin/$p" ] ||
				fail "$p not installed (scripts/deps.sh)"
			;;
		esac
	done
}

BUILD=$(cd "${BUILD:-${FL_BUILD_DIR:-build}}" 2>/dev/null && pwd) ||
	fail "no build directory ${BUILD:-${FL_BUILD_DIR:-build}}"
SRC=$(cd "${SRC:-${FL_SOURCE_DIR:-$(dirname "${BASH_SOURCE[0]}")/../../..}}" && pwd)
# the tests' Python helpers (fl_sign.py, check_mqtt.py): sys.path for them
export FL_LIB=$SRC/tests/integration/lib
EDGE=$BUILD/firelane-edge
HUB=$BUILD/firelane-hub
SCENE=$BUILD/firelane-scene
VERIFY=$BUILD/firelane-verify
EVAL=$BUILD/firelane-eval
HUBBENCH=$BUILD/firelane-hubbench
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)

# ---- processes ---------------------------------------------------------------

PIDS=()      # what the test started and the harness kills at exit
BROKER_PID=
HUB_PID=
EDGE_PID=
SPAWN=${SPAWN:-}

# track PID...: processes the harness kills at exit (as the start functions
# below do for theirs).
track() {
	PIDS+=("$@")
}

# wait_gone PID SECONDS: 0 once PID has ended, 1 if it still runs after
# SECONDS.
wait_gone() {
	local i
	for i in $(seq $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	! kill -0 "$1" 2>/dev/null
}

# stop_ok WHAT PID [SECONDS]: SIGTERM; WHAT must end within SECONDS
# (default 30) with exit status 0.
stop_ok() {
	local rc=0
	kill -TERM "$2" 2>/dev/null || true
	wait_gone "$2" "${3:-30}" || fail "$1 did not stop within ${3:-30} s of SIGTERM"
	wait "$2" || rc=$?
	[ "$rc" = 0 ] || fail "$1 exit status $rc after SIGTERM"
}

# wait_for FILE PATTERN SECONDS: 0 once a line of FILE matches PATTERN
# (grep -E), 1 after SECONDS.
wait_for() {
	local i
	for i in $(seq $(($3 * 10))); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---- ports -------------------------------------------------------------------

# free_port: a TCP port on 127.0.0.1 that nothing listens on now and that no
# test of this machine was handed lately. The kernel may give the same free
# port to two binds in a row; before a daemon binds it, the next free_port of
# this test (or of a test running beside it) could get it again, so ports
# handed out are kept in a shared list, under a lock.
free_port() {
	python3 - "${TMPDIR:-/tmp}/firelane-test-ports.$(id -u)" <<'EOP'
import fcntl, socket, sys
with open(sys.argv[1], "a+") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    f.seek(0)
    recent = f.read().split()[-512:]
    for _ in range(100):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
        s.close()
        if port not in recent:
            break
    if len(recent) >= 512:
        f.truncate(0)
        f.write("".join(p + "\n" for p in recent[-256:]))
    f.write(port + "\n")
print(port)
EOP
}

# port_open PORT: 0 when something accepts connections on 127.0.0.1:PORT.
port_open() {
	python3 - "$1" <<'EOP'
import socket, sys
s = socket.socket()
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOP
}

# ---- the broker --------------------------------------------------------------

# A note on the broker's accounts (docs/security.md, "The broker"). The
# broker the tests and the demo start is set up as the documented one:
# no anonymous clients, a password per account (mosquitto_passwd) and an
# ACL (broker.acl, below) - the hub's account reads the fleet and writes
# commands, receipts and alerts; a device's account, named after its
# device id, writes only under its own firelane/<site>/<device>/ and reads
# only its own command and receipt topics (and Home Assistant's); the
# account "watch" reads everything and writes nothing (the tests'
# observer). Passwords here are "pw-<account>" (loopback only).
# broker_device ID adds a device's account; edge_config does it for the
# scene's device.

# broker_pw ACCOUNT: its password.
broker_pw() {
	echo "pw-$1"
}

# The hub's broker account as a YAML flow-map fragment, for hub.yaml's
# mqtt: {host: ..., $HUB_AUTH}.
HUB_AUTH="username: firelane-hub, password: $(broker_pw firelane-hub)"

# broker__acl FILE: the ACL every test broker runs with.
broker__acl() {
	cat >"$1" <<'EOA'
# the hub: reads the fleet; writes commands, delivery receipts and alerts
user firelane-hub
topic read firelane/#
topic write firelane/+/+/command/set
topic write firelane/+/+/receipt
topic write firelane/+/alerts
topic write firelane/+/enforcement

# the tests' observer: reads everything, writes nothing
user watch
topic read #

# Home Assistant: reads the devices' state, says when it (re)starts
user homeassistant
topic read firelane/#
topic read homeassistant/#
topic write homeassistant/status

# every device (its account is its device id): its own root only
pattern write firelane/+/%u/#
pattern read firelane/+/%u/command/set
pattern read firelane/+/%u/receipt
pattern write homeassistant/+/+/config
pattern read homeassistant/status
EOA
}

# broker_device ID...: broker accounts for devices (password broker_pw
# ID). Before broker_start they are in its first password file; after it,
# the broker reloads (SIGHUP) and this returns once the account is taken.
broker_device() {
	local home=${BROKER_HOME:-$WORK} d i
	for d in "$@"; do
		mosquitto_passwd -b "$home/broker.passwd" "$d" "$(broker_pw "$d")" ||
			fail "mosquitto_passwd $d"
	done
	# a broker of the test's own set-up (broker_start LISTENER) has its own
	[ -n "${BROKER_PID:-}" ] && [ "${BROKER_ACL:-0}" = 1 ] || return 0
	kill -HUP "$BROKER_PID"
	for d in "$@"; do
		for i in $(seq 100); do
			mosquitto_sub -h 127.0.0.1 -p "$PORT" -u "$d" -P "$(broker_pw "$d")" \
				-t "firelane/x/$d/receipt" -E -W 2 >/dev/null 2>&1 && continue 2
			sleep 0.1
		done
		fail "the broker does not take the account $d after a reload"
	done
}

# The account that manages the others through mosquitto's dynamic
# security plugin (BROKER_DYNSEC=1), as a YAML flow-map fragment for
# hub.yaml's enrol: {...} (docs/security.md, "Enrolment by code").
BROKER_ADMIN=firelane-broker-admin
BROKER_ADMIN_AUTH="admin_username: $BROKER_ADMIN, admin_password: $(broker_pw $BROKER_ADMIN)"
DYNSEC_PLUGIN=${DYNSEC_PLUGIN:-/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so}

# broker__dynsec HOME: the plugin's lines for mosquitto.conf, its state
# (dynsec.json, with the admin account only) made on first use.
broker__dynsec() {
	[ -f "$DYNSEC_PLUGIN" ] || skip "no dynamic security plugin at $DYNSEC_PLUGIN"
	mkdir -p "$1/dynsec"
	# mosquitto started as root drops to its own user: it saves here
	chmod 0777 "$1/dynsec"
	[ -f "$1/dynsec/dynsec.json" ] ||
		mosquitto_ctrl dynsec init "$1/dynsec/dynsec.json" "$BROKER_ADMIN" \
			"$(broker_pw $BROKER_ADMIN)" >"$1/dynsec/init.log" 2>&1 ||
		fail "mosquitto_ctrl dynsec init: $(cat "$1/dynsec/init.log")"
	chmod 0666 "$1/dynsec/dynsec.json"
	printf 'plugin %s\nplugin_opt_config_file %s\n' "$DYNSEC_PLUGIN" "$1/dynsec/dynsec.json"
}

# broker_start [LISTENER]: (re)start mosquitto on PORT (a free port when
# unset) with its config, log and database in BROKER_HOME (default WORK).
# The default listener is on 127.0.0.1 with the accounts and the ACL of the
# note above (broker.passwd, broker.acl in BROKER_HOME; BROKER_ACL=1).
# LISTENER replaces the listener and authentication lines, e.g. a TLS
# listener (BROKER_ACL=0: edge_config then adds no account, the test gives
# its own); a test that opens the broker to anonymous clients says why. BROKER_PERSIST=0: no
# database (default: a persistent one, so a subscriber's queued messages
# survive a restart); BROKER_EXTRA: more mosquitto.conf lines. It logs each
# subscription, which is how hub_start and subscribe know a client is
# subscribed. BROKER_DYNSEC=1: with the dynamic security plugin too, beside
# the password file and the ACL (its admin account: BROKER_ADMIN_AUTH), as
# a hub that enrols devices by code needs it.
broker_start() {
	local home=${BROKER_HOME:-$WORK}
	PORT=${PORT:-$(free_port)}
	BROKER_ACL=1
	[ -z "${1:-}" ] || BROKER_ACL=0
	local listen=${1:-"listener $PORT 127.0.0.1
allow_anonymous false
password_file $home/broker.passwd
acl_file $home/broker.acl"}
	[ -f "$home/broker.passwd" ] || : >"$home/broker.passwd"
	mosquitto_passwd -b "$home/broker.passwd" firelane-hub "$(broker_pw firelane-hub)" ||
		fail "mosquitto_passwd"
	mosquitto_passwd -b "$home/broker.passwd" watch "$(broker_pw watch)" ||
		fail "mosquitto_passwd"
	mosquitto_passwd -b "$home/broker.passwd" homeassistant "$(broker_pw homeassistant)" ||
		fail "mosquitto_passwd"
	broker__acl "$home/broker.acl"
	# mosquitto started as root drops to its own user: let it read them
	chmod 0644 "$home/broker.passwd" "$home/broker.acl"
	local persist="persistence false"
	if [ "${BROKER_PERSIST:-1}" = 1 ]; then
		persist="persistence true
persistence_location $home/broker/
autosave_interval 1"
		mkdir -p "$home/broker"
		chmod 0777 "$home/broker"
	fi
	# mosquitto started as root drops to its own user: let it reach its
	# files (and write its database)
	chmod 0755 "$home"
	BROKER_LOG=$home/mosquitto.log
	# stderr: unbuffered, so a subscription is in the log when it is made
	local dynsec=
	[ "${BROKER_DYNSEC:-0}" = 0 ] || dynsec=$(broker__dynsec "$home") || exit $?
	cat >"$home/mosquitto.conf" <<EOC
$listen
$persist
$dynsec
${BROKER_EXTRA:-}
log_dest stderr
log_type error
log_type warning
log_type notice
log_type subscribe
EOC
	$SPAWN "$MOSQUITTO" -c "$home/mosquitto.conf" >>"$BROKER_LOG" 2>&1 &
	BROKER_PID=$!
	local i
	for i in $(seq 100); do
		port_open "$PORT" && return 0
		kill -0 "$BROKER_PID" 2>/dev/null ||
			fail "mosquitto did not start: $(tail -n 5 "$BROKER_LOG")"
		sleep 0.1
	done
	fail "mosquitto does not answer on $PORT: $(tail -n 5 "$BROKER_LOG")"
}

# broker_stop: SIGTERM, and wait until it has gone.
broker_stop() {
	kill -TERM "$BROKER_PID" 2>/dev/null || true
	wait "$BROKER_PID" 2>/dev/null || true
	BROKER_PID=
}

# broker_subs CLIENT_ID: how many subscriptions the broker has logged for
# that client so far (mosquitto logs "<time>: <client id> <qos> <filter>").
broker_subs() {
	grep -cF ": $1 " "$BROKER_LOG" 2>/dev/null || true
}

# broker_wait_sub CLIENT_ID SINCE SECONDS PID: until the broker has logged
# more than SINCE subscriptions for CLIENT_ID; fails when PID ends first or
# after SECONDS.
broker_wait_sub() {
	local i
	for i in $(seq $(($3 * 10))); do
		[ "$(broker_subs "$1")" -gt "$2" ] && return 0
		kill -0 "$4" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# subscribe FILE TOPIC...: a persistent-session QoS 1 subscriber (client id
# sub-NAME-PID-N for the script's Nth, the account "watch"; payloads as hex, so binary evidence
# chunks survive) writing "topic hex" lines to FILE, with SUB_OPTS (an
# array, e.g. TLS options and another account, which wins) added; returns
# once the broker has its subscriptions. Signed payloads are as on the
# wire: lib/fl_sign.py unwraps them.
subscribe() {
	local out=$1 id args=() t n
	shift
	SUBSCRIBERS=$((${SUBSCRIBERS:-0} + 1))
	id="sub-$NAME-$$-$SUBSCRIBERS"
	for t in "$@"; do args+=(-t "$t"); done
	n=$(broker_subs "$id")
	mosquitto_sub -h 127.0.0.1 -p "$PORT" -q 1 -c -i "$id" -F '%t %x' \
		-u watch -P "$(broker_pw watch)" \
		"${SUB_OPTS[@]}" "${args[@]}" >"$out" 2>>"$WORK/sub.log" &
	track $!
	broker_wait_sub "$id" "$n" 20 $! || fail "the subscriber did not subscribe: $(tail -n 5 "$WORK/sub.log")"
}

# hex TEXT: the text as mosquitto_sub's %x prints it.
hex() {
	printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'
}

# status_re WORD: a pattern (grep -E) for a subscriber line of a signed
# status WORD (docs/mqtt.md, "Status": "fl-sig/1 KID SIG WORD EPOCH"),
# after the topic.
status_re() {
	echo " $(hex 'fl-sig/1 ')[0-9a-f]*$(hex " $1 ")[0-9a-f]*\$"
}

# ---- signed messages ------------------------------------------------------------

# signed KEYFILE TOPIC [hub]: stdin signed for TOPIC with the Ed25519 key in
# KEYFILE (a device's key_file, or the hub's key with "hub"), on stdout
# (lib/fl_sign.py: an independent implementation of docs/mqtt.md).
signed() {
	python3 "$FL_LIB/fl_sign.py" sign "$1" "$2" ${3:+--hub}
}

# device_pub KEYFILE DEVICE TOPIC [FILE]: FILE (default stdin) signed with
# KEYFILE and published at QoS 1 on TOPIC with DEVICE's broker account: what
# that device (or whoever holds its key) can say.
device_pub() {
	signed "$1" "$3" <"${4:-/dev/stdin}" >"$WORK/.device_pub" || fail "signing for $3"
	mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -u "$2" -P "$(broker_pw "$2")" \
		-t "$3" -f "$WORK/.device_pub"
}

# device_pub_lines KEYFILE DEVICE TOPIC: each line of stdin a message, signed
# with KEYFILE and published at QoS 1 on TOPIC with DEVICE's account, as it
# comes (mosquitto_pub -l).
device_pub_lines() {
	python3 "$FL_LIB/fl_sign.py" lines "$1" "$3" |
		mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -u "$2" -P "$(broker_pw "$2")" \
			-t "$3" -l
}

# device_key KEYFILE: a new device key in KEYFILE; its public half (base64,
# for --enrol-device --public-key) on stdout.
device_key() {
	python3 "$FL_LIB/fl_sign.py" keygen "$1" || fail "device_key $1"
}

# ---- systemd -----------------------------------------------------------------

# webhook_receiver PORT FILE [DELAY_S]: a local webhook receiver on
# 127.0.0.1:PORT that appends every POST to FILE as a JSON line {path,
# body} and answers 200 {"errcode": 0} after DELAY_S (0 when unset); tracked.
# The first POST to a path ending in /hold is never answered: its line
# says "held": true (a sender that dies mid-send).
webhook_receiver() {
	python3 - "$1" "$2" "${3:-0}" <<'EOP' >"$WORK/receiver.log" 2>&1 &
import http.server, json, sys, threading, time
port, out, delay = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
lock = threading.Lock()
held = set()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.endswith("/hold"):
            with lock:
                hold = self.path not in held
                held.add(self.path)
                if hold:
                    with open(out, "a") as f:
                        f.write(json.dumps({"path": self.path, "held": True,
                                            "body": json.loads(body)}) + "\n")
            while hold:
                time.sleep(3600)
        time.sleep(delay)
        with lock, open(out, "a") as f:
            f.write(json.dumps({"path": self.path,
                                "body": json.loads(body)}) + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"errcode": 0}')
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
EOP
	track $!
}

# wire_incidents FILE: the distinct (incident_id, seq) of the incident
# messages in FILE (subscribe's lines, signed envelopes unwrapped) as
# "incident_id|seq" lines, sorted - as pg_sql or q print those columns.
wire_incidents() {
	python3 - "$1" <<'EOP'
import json, os, sys
sys.path.insert(0, os.environ["FL_LIB"])
from fl_sign import unwrap
pairs = set()
for line in open(sys.argv[1], "rb"):
    t, _, hx = line.rstrip(b"\n").partition(b" ")
    if t.endswith(b"/incident"):
        j = json.loads(unwrap(bytes.fromhex(hx.decode())))
        pairs.add((j["incident_id"], j["seq"]))
print("".join("%s|%d\n" % p for p in sorted(pairs)), end="")
EOP
}

# notify_listen SOCKET FILE: systemd's side of sd_notify, a datagram socket
# at SOCKET (a path, or an abstract name after '@', as $NOTIFY_SOCKET has
# it) that appends each message it gets to FILE; tracked. Returns once it
# listens (FILE is created after the bind).
notify_listen() {
	rm -f "$2"
	python3 - "$1" "$2" <<'EOP' &
import socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + path[1:] if path.startswith("@") else path)
with open(out, "a") as f:
    while True:
        f.write(s.recv(4096).decode() + "\n")
        f.flush()
EOP
	track $!
	local i
	for i in $(seq 100); do
		[ -e "$2" ] && return 0
		sleep 0.1
	done
	fail "notify_listen: no socket $1"
}

# ---- the hub -----------------------------------------------------------------

# hub_start CONFIG [LOG [ARGS...]]: firelane-hub with CONFIG and ARGS (e.g.
# -v), its output appended to LOG (default WORK/hub.log); HUB_PID. Returns
# once the hub is ready: the broker has its subscription (by the client id
# of the effective configuration) and, when it serves HTTP, GET /api/session
# answers 401 (no session). Fails with the log when the hub stops first.
hub_start() {
	local conf=$1 log=${2:-$WORK/hub.log} id listen tls url n i code=000
	shift $(($# < 2 ? $# : 2))
	"$HUB" --config "$conf" --check-config >"$log.config" 2>&1 ||
		fail "the hub refuses $conf: $(tail -n 5 "$log.config")"
	# the effective configuration's mqtt.client_id and http.listen
	id=$(hub__key mqtt client_id <"$log.config")
	listen=$(hub__key http listen <"$log.config")
	tls=$(hub__key http tls_cert <"$log.config")
	url=http${tls:+s}://$listen/api/session
	rm -f "$log.config"
	[ -n "$id" ] || fail "no mqtt.client_id in the hub's --check-config"
	[ -n "${BROKER_LOG:-}" ] || fail "hub_start: no broker (broker_start)"
	n=$(broker_subs "$id")
	$SPAWN "$HUB" --config "$conf" "$@" >>"$log" 2>&1 &
	HUB_PID=$!
	track $HUB_PID
	broker_wait_sub "$id" "$n" "${HUB_START_S:-60}" $HUB_PID ||
		fail "the hub did not subscribe: $(tail -n 5 "$log")"
	[ -n "$listen" ] || return 0
	for i in $(seq $((${HUB_START_S:-60} * 10))); do
		code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
		[ "$code" = 401 ] && return 0
		kill -0 $HUB_PID 2>/dev/null || break
		sleep 0.1
	done
	fail "the hub does not answer $url with 401 (HTTP $code): $(tail -n 5 "$log")"
}

# hub__key SECTION KEY: the value of SECTION.KEY in a --check-config dump
# on stdin (quotes removed).
hub__key() {
	awk -v s="$1:" -v k="$2:" '
		/^[^ ]/ { in_s = ($1 == s) }
		in_s && $1 == k { v = $2; gsub(/"/, "", v); print v; exit }'
}

# hub_stop [SECONDS]: the hub (HUB_PID) must stop on SIGTERM within SECONDS
# (default 30) with exit status 0.
hub_stop() {
	stop_ok "the hub" "$HUB_PID" "${1:-30}"
	HUB_PID=
}

# q SQL: a query of the hub's store (DB, default WORK/hub.db).
q() {
	sqlite3 -cmd ".timeout 5000" "${DB:-$WORK/hub.db}" "$1"
}

# ---- a real browser -------------------------------------------------------------

# browser_setup SCRIPT...: headless Debian chromium with playwright-core,
# pinned by tests/browser/package-lock.json and installed with `npm ci`
# into $BUILD/browser-node (once, under a lock; reused while the lock file
# is unchanged), and each tests/browser/SCRIPT copied into NODE_DIR
# ($WORK/browser, with node_modules linked to the install): a script runs
# from that folder so that node resolves playwright-core (ES modules
# ignore NODE_PATH). Skips when chromium, node or npm is missing or the
# package cannot be installed (offline), saying so.
browser_setup() {
	local s shared
	[ -x /usr/bin/chromium ] || skip "/usr/bin/chromium missing (scripts/deps.sh installs Debian's chromium)"
	command -v node >/dev/null || skip "node missing (scripts/deps.sh installs nodejs)"
	command -v npm >/dev/null || skip "npm missing (scripts/deps.sh installs npm)"
	need flock
	shared=$(cd "$BUILD" && pwd)/browser-node
	# one install for every browser test, made by whichever comes first:
	# make test runs them in parallel, and two `npm ci` into one folder
	# break each other
	(
		flock 9
		if ! cmp -s "$SRC/tests/browser/package-lock.json" "$shared/package-lock.json" ||
			[ ! -f "$shared/node_modules/playwright-core/package.json" ]; then
			rm -rf "$shared"
			mkdir -p "$shared"
			cp "$SRC/tests/browser/package.json" "$SRC/tests/browser/package-lock.json" "$shared/"
			(cd "$shared" && npm ci --no-audit --no-fund --ignore-scripts) >"$WORK/npm.log" 2>&1 || {
				tail -n 20 "$WORK/npm.log" >&2
				rm -rf "$shared"
				exit 1
			}
		fi
	) 9>"$BUILD/browser-node.lock" || skip "npm ci of playwright-core failed (offline?)"
	# the test's scripts in a folder of its own, beside the shared packages
	NODE_DIR=$WORK/browser
	mkdir -p "$NODE_DIR"
	ln -sfn "$shared/node_modules" "$NODE_DIR/node_modules"
	for s in "$@"; do
		cp "$SRC/tests/browser/$s" "$NODE_DIR/$s"
	done
}

# ---- the hub's web API --------------------------------------------------------

# web_hub_conf FILE [LINES]: a hub configuration with the web server on a
# free loopback port (WPORT; BASE is its URL), the broker at PORT, the
# store (WORK/hub.db) and evidence in WORK, MQTT alerts off, and LINES
# (YAML) added.
web_hub_conf() {
	WPORT=${WPORT:-$(free_port)}
	BASE=${BASE:-http://127.0.0.1:$WPORT}
	cat >"$1" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$NAME, keepalive_s: 5, $HUB_AUTH}
http: {listen: "127.0.0.1:$WPORT"}
store: {sqlite: $WORK/hub.db}
evidence_dir: $WORK/ev
alerts: {mqtt: false}
${2:-}
EOC
}

# web_login_from FROM USER PASSWORD [CURL ARGS]: POST BASE/api/login with
# a JSON body from loopback address FROM (each address a client of its
# own); prints the status (000: no answer), the answer in WORK/out, its
# headers in WORK/hdr, the cookie in WORK/jar-USER.
web_login_from() {
	local from=$1 user=$2 pw=$3
	shift 3
	curl -sk --interface "$from" -c "$WORK/jar-$user" -o "$WORK/out" -D "$WORK/hdr" \
		-w '%{http_code}' --max-time 30 -X POST -H 'Content-Type: application/json' "$@" \
		-d "$(jq -cn --arg u "$user" --arg p "$pw" '{user: $u, password: $p}')" \
		"$BASE/api/login" || true
}

# web_login_expect STATUS FROM USER PASSWORD [CURL ARGS]: web_login_from
# must answer STATUS.
web_login_expect() {
	local want=$1 got
	shift
	got=$(web_login_from "$@")
	[ "$got" = "$want" ] || fail "login $2 from $1 -> $got, expected $want: $(head -c 200 "$WORK/out")"
}

# web_login USER PASSWORD: a login that must succeed; prints the session's
# CSRF token (the session in WORK/jar-USER).
web_login() {
	web_login_expect 200 127.0.0.1 "$1" "$2"
	jq -r .csrf "$WORK/out"
}

# web_as USER TOKEN METHOD PATH [BODY]: a request in USER's session with
# its CSRF token (and a JSON BODY); prints the status, the answer in
# WORK/out.
web_as() {
	curl -sk -b "$WORK/jar-$1" -o "$WORK/out" -w '%{http_code}' --max-time 30 -X "$3" \
		-H "X-CSRF-Token: $2" -H 'Content-Type: application/json' \
		${5:+--data-binary "$5"} "$BASE$4" || true
}

# loris_start ARGS...: tests/integration/lib/slowloris.py with ARGS (a
# slow-loris: --port, --sources, --per-source, ...) in the background,
# tracked (LPID), its JSON into WORK/loris.json; returns once all its
# connections are open.
loris_start() {
	rm -f "$WORK/ready"
	python3 "$SRC/tests/integration/lib/slowloris.py" "$@" --ready "$WORK/ready" \
		>"$WORK/loris.json" 2>"$WORK/loris.log" &
	LPID=$!
	track $LPID
	wait_for "$WORK/ready" . 20 || fail "the slow clients did not connect: $(tail -n 3 "$WORK/loris.log")"
}

# ---- nginx in front of the hub ------------------------------------------------

# nginx_start HUB_PORT [HUB_PORT...]: Debian's nginx on NPORT (a free port
# when unset) with the site file of docs/deploy-nginx.md (ports, certificate
# and paths replaced), HTTPS with a self-signed certificate for 127.0.0.1
# made here (WORK/tls/hub.crt: also its own CA, for clients that verify it),
# proxying to the hub's HTTP port HUB_PORT; with several ports, to an
# upstream of those hubs (round robin; a hub that refuses the connection is
# passed over). Tracked. Returns once nginx listens.
nginx_start() {
	local hport=$1 nginx user="" i p
	nginx=$(command -v nginx || echo /usr/sbin/nginx)
	[ -x "$nginx" ] || skip "nginx is not installed (scripts/deps.sh)"
	NPORT=${NPORT:-$(free_port)}
	mkdir -p "$WORK/tls" "$WORK/nginx"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 \
		-keyout "$WORK/tls/hub.key" -out "$WORK/tls/hub.crt" >"$WORK/openssl.log" 2>&1 ||
		fail "openssl: $(cat "$WORK/openssl.log")"
	python3 - "$SRC/docs/deploy-nginx.md" >"$WORK/site.conf" <<'EOP' || fail "no nginx block in docs/deploy-nginx.md"
import re, sys
blocks = re.findall(r"```nginx\n(.*?)```", open(sys.argv[1]).read(), re.S)
assert len(blocks) == 1, blocks
print(blocks[0])
EOP
	sed -i -e "s|listen 443 ssl;|listen 127.0.0.1:$NPORT ssl;|" \
		-e "s|/etc/ssl/firelane/|$WORK/tls/|" \
		-e "s|127.0.0.1:8080|127.0.0.1:$hport|" "$WORK/site.conf"
	grep -q "listen 127.0.0.1:$NPORT ssl;" "$WORK/site.conf" && grep -q "127.0.0.1:$hport;" "$WORK/site.conf" ||
		fail "the documented site file changed shape: $(cat "$WORK/site.conf")"
	if [ $# -gt 1 ]; then
		{
			echo "upstream firelane_hubs {"
			for p in "$@"; do echo "    server 127.0.0.1:$p max_fails=1 fail_timeout=5s;"; done
			echo "}"
		} >>"$WORK/site.conf"
		sed -i "s|proxy_pass http://127.0.0.1:$hport;|proxy_pass http://firelane_hubs;|" "$WORK/site.conf"
	fi
	# as root nginx's workers would drop to nobody, who cannot enter WORK
	[ "$(id -u)" = 0 ] && user="user root;"
	cat >"$WORK/nginx.conf" <<EOC
$user
daemon off;
master_process off; # one process: the harness tracks it
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx-error.log info;
events { worker_connections 1024; }
http {
    access_log $WORK/nginx-access.log;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    include $WORK/site.conf;
}
EOC
	"$nginx" -t -c "$WORK/nginx.conf" -p "$WORK/nginx" >"$WORK/nginx-t.log" 2>&1 || fail "nginx -t: $(cat "$WORK/nginx-t.log")"
	"$nginx" -c "$WORK/nginx.conf" -p "$WORK/nginx" >>"$WORK/nginx-error.log" 2>&1 &
	track $!
	for i in $(seq 100); do
		port_open "$NPORT" && return 0
		sleep 0.1
	done
	fail "nginx does not listen: $(tail -n 5 "$WORK/nginx-error.log")"
}

# ---- PostgreSQL ----------------------------------------------------------------

# A note on the tests' PostgreSQL. The store's tests run against a server they
# start themselves, like the broker: Debian's postgresql binaries
# (/usr/lib/postgresql/N/bin, the newest N), a cluster made by initdb in
# WORK/pg, the socket in that folder and TCP on 127.0.0.1 at a free port, a
# trust login for the superuser "fl" on loopback only. initdb and postgres
# refuse to run as root, so as root they run as an unprivileged user
# (PG_USER, default nobody; CI runs as root, so this is the path CI takes),
# with WORK opened for it to pass through (o+x, not readable) and WORK/pg its
# own. The server keeps its data durable (fsync on): the store's tests check
# what a commit promises. Where the server package is absent the test skips.

PG_PID=

# pg_bin PROGRAM: the path of a PostgreSQL server program, or nothing.
pg_bin() {
	ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1
}

# pg__as CMD...: CMD as the server's user (itself when not root). A daemon
# started in the background with "${PG_AS[@]}" CMD & is $! itself (setpriv
# and env exec it).
PG_AS=()
pg__as() {
	"${PG_AS[@]}" "$@"
}

# pg_start: a PostgreSQL server for this test, tracked (pg_stop or the end
# of the test stops it), with a database "firelane". Sets PGPORT, PGHOST
# (the socket's folder), PG_URL (postgresql://fl@127.0.0.1:PGPORT/firelane)
# and PG_SOCKET_URL (the same through the socket). Skips when the server
# package is not installed. Returns once the database accepts connections.
# PG_OPTS: more server options ("-c name=value ...", split on blanks).
pg_start() {
	local initdb postgres i
	initdb=$(pg_bin initdb)
	postgres=$(pg_bin postgres)
	[ -n "$initdb" ] && [ -n "$postgres" ] ||
		skip "the PostgreSQL server is not installed (scripts/deps.sh: postgresql)"
	command -v psql >/dev/null || skip "psql is not installed (scripts/deps.sh: postgresql)"
	PGHOST=$WORK/pg
	mkdir -p "$PGHOST"
	if [ "$(id -u)" = 0 ]; then
		id "${PG_USER:-nobody}" >/dev/null 2>&1 || fail "no user ${PG_USER:-nobody} to run PostgreSQL as"
		chmod o+x "$WORK"
		chown "${PG_USER:-nobody}:" "$PGHOST"
		# in WORK/pg: the caller's folder may be closed to that user
		PG_AS=(setpriv --reuid="${PG_USER:-nobody}" --regid="$(id -g "${PG_USER:-nobody}")"
			--clear-groups -- env -C "$PGHOST")
	fi
	chmod 700 "$PGHOST"
	pg__as "$initdb" -D "$PGHOST/data" -U fl --auth=trust -E UTF8 --locale=C.UTF-8 \
		>"$WORK/pg-initdb.log" 2>&1 || fail "initdb: $(tail -n 5 "$WORK/pg-initdb.log")"
	PGPORT=$(free_port)
	"${PG_AS[@]}" "$postgres" -D "$PGHOST/data" -p "$PGPORT" -k "$PGHOST" \
		-c listen_addresses=127.0.0.1 ${PG_OPTS:-} \
		>"$WORK/postgres.log" 2>&1 &
	PG_PID=$!
	track "$PG_PID"
	for i in $(seq 300); do
		kill -0 "$PG_PID" 2>/dev/null || fail "postgres ended: $(tail -n 5 "$WORK/postgres.log")"
		pg__as psql -h "$PGHOST" -p "$PGPORT" -U fl -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1 && break
		sleep 0.1
	done
	[ "$i" != 300 ] || fail "postgres does not answer: $(tail -n 5 "$WORK/postgres.log")"
	pg__as psql -h "$PGHOST" -p "$PGPORT" -U fl -d postgres -Atqc 'CREATE DATABASE firelane' \
		>>"$WORK/postgres.log" 2>&1 || fail "CREATE DATABASE: $(tail -n 5 "$WORK/postgres.log")"
	export PGHOST PGPORT
	PG_URL=postgresql://fl@127.0.0.1:$PGPORT/firelane
	PG_SOCKET_URL="postgresql://fl@/firelane?host=$PGHOST&port=$PGPORT"
}

# pg_sql SQL: runs SQL in the test's database (pg_start), prints the rows
# unaligned ("|" between columns).
pg_sql() {
	pg__as psql -h "$PGHOST" -p "$PGPORT" -U fl -d firelane -v ON_ERROR_STOP=1 -Atqc "$1"
}

# pg_wire_stored FILE: every incident message in FILE (subscribe's lines)
# is stored exactly once in the test's PostgreSQL store, no other is, and
# nothing was quarantined; fails saying what differs. SENT: how many.
pg_wire_stored() {
	wire_incidents "$1" >"$WORK/wire.txt" || fail "the wire (above)"
	pg_sql 'SELECT incident_id, seq FROM incident_events ORDER BY incident_id, seq' >"$WORK/stored.txt"
	SENT=$(wc -l <"$WORK/wire.txt")
	[ "$SENT" -ge 3 ] || fail "$SENT incident messages on the wire"
	diff "$WORK/wire.txt" "$WORK/stored.txt" >/dev/null ||
		fail "stored messages differ from the wire: $(diff "$WORK/wire.txt" "$WORK/stored.txt")"
	[ "$(pg_sql 'SELECT count(*) FROM quarantine')" = 0 ] ||
		fail "quarantined: $(pg_sql 'SELECT topic, reason FROM quarantine')"
}

# pg_stop: a fast shutdown of the test's server (pg_start); it must end
# within 30 s, its backends with it.
pg_stop() {
	[ -n "$PG_PID" ] || return 0
	kill -INT "$PG_PID" 2>/dev/null || true
	wait_gone "$PG_PID" 30 || fail "postgres did not stop within 30 s of SIGINT"
	wait "$PG_PID" 2>/dev/null || true
	PG_PID=
}

# ---- the edge ----------------------------------------------------------------

# scene NAME: the quick synthetic scene NAME into WORK/scene.
scene() {
	"$SCENE" --scenario "$1" --out "$WORK/scene" --quick --classic \
		>"$WORK/scene.log" 2>&1 || fail "firelane-scene $1"
}

# edge_config OUT [YAML]: the scene's config (SCENARIO) with an mqtt
# section for the broker on PORT - with the harness's broker (BROKER_ACL=1)
# the device's own account (made here: broker_device), with HUB_KEY set the
# hub's public key - then YAML.
edge_config() {
	local out=$1 dev
	shift
	dev=$(sed -n 's/^device: {id: \([^,}]*\).*/\1/p' "$WORK/scene/$SCENARIO.yaml")
	[ -n "$dev" ] || fail "edge_config: no device id in $SCENARIO.yaml"
	[ "${BROKER_ACL:-0}" = 0 ] || broker_device "$dev"
	{
		cat "$WORK/scene/$SCENARIO.yaml"
		printf 'mqtt:\n  host: 127.0.0.1\n  port: %s\n  heartbeat_s: 2\n  spool_dir: %s\n  keepalive_s: 5\n' \
			"$PORT" "$WORK/spool"
		[ "${BROKER_ACL:-0}" = 0 ] ||
			printf '  username: %s\n  password: %s\n' "$dev" "$(broker_pw "$dev")"
		[ -z "${HUB_KEY:-}" ] || printf '  hub_key: "%s"\n' "$HUB_KEY"
		printf '%s' "${1:-}"
	} >"$out"
}

# hub_key CONFIG: the hub key's public half (firelane-hub
# --print-public-key; the key is made on first use), for HUB_KEY.
hub_key() {
	local log
	log=$(dirname "$1")/hub_key.log
	"$HUB" --config "$1" --print-public-key 2>"$log" ||
		fail "--print-public-key: $(tail -n 3 "$log")"
}

# edge_start OUT ERR ARGS...: firelane-edge ARGS in the background, stdout
# to OUT (its events when live) and stderr to ERR; EDGE_PID.
edge_start() {
	local out=$1 err=$2
	shift 2
	"$EDGE" "$@" >"$out" 2>"$err" &
	EDGE_PID=$!
	track $EDGE_PID
}

# device_online DEVICE [SECONDS]: the hub's store must say DEVICE is online
# within SECONDS (default 30; its status message arrived), else the test
# fails with the edge's last log lines.
device_online() {
	local i
	for i in $(seq $((${2:-30} * 10))); do
		[ "$(q "select status from devices where device = '$1'")" = online ] && return 0
		sleep 0.1
	done
	fail "$1 is not online at the hub: $(tail -n 5 "$WORK/edge.log" 2>/dev/null)"
}

# edge_run OUT ERR ARGS...: firelane-edge ARGS to its end (OUT may be ERR);
# an exit status other than 0 fails the test.
edge_run() {
	local out=$1 err=$2 rc=0
	shift 2
	if [ "$out" = "$err" ]; then
		"$EDGE" "$@" >"$out" 2>&1 || rc=$?
	else
		"$EDGE" "$@" >"$out" 2>"$err" || rc=$?
	fi
	[ "$rc" = 0 ] || fail "firelane-edge $* exited $rc: $(tail -n 5 "$err")"
}

# edge_wait [SECONDS]: the edge (EDGE_PID) must end by itself (at the end of
# its input) within SECONDS (default 90), with exit status 0.
edge_wait() {
	local rc=0
	wait_gone "$EDGE_PID" "${1:-90}" || fail "the edge did not end with its input"
	wait "$EDGE_PID" || rc=$?
	[ "$rc" = 0 ] || fail "edge exit status $rc"
}

# scene_enrolled HUBCONF: the scene's edge configuration (SCENARIO) in
# WORK/scene/edge.yaml - its evidence in WORK/evidence, its key in
# WORK/device.key, whose public half goes to WORK/pk.txt - and the device
# enrolled with the hub of HUBCONF for its site.
scene_enrolled() {
	edge_config "$WORK/scene/edge.yaml" "$(printf 'evidence:\n  dir: %s\n  pre_roll_s: 4\n  post_roll_s: 3\n' "$WORK/evidence")"
	sed -i -e "s|^device: {id: \([^,]*\), site: \([^}]*\)}|device: {id: \1, site: \2, key_file: $WORK/device.key}|" \
		"$WORK/scene/edge.yaml"
	grep -q "key_file: $WORK/device.key" "$WORK/scene/edge.yaml" || fail "scene_enrolled: no device line"
	"$EDGE" --config "$WORK/scene/edge.yaml" --print-public-key >"$WORK/pk.txt" 2>"$WORK/pk.log" ||
		fail "--print-public-key: $(cat "$WORK/pk.log")"
	"$HUB" --config "$1" --enrol-device "$(sed -n 's/^device: {id: \([^,]*\),.*/\1/p' "$WORK/scene/edge.yaml")" \
		--site "$(sed -n 's/^device: {id: [^,]*, site: \([^,}]*\).*/\1/p' "$WORK/scene/edge.yaml")" \
		--public-key "$WORK/pk.txt" >>"$WORK/admin.log" 2>&1 || fail "--enrol-device: $(tail -n 3 "$WORK/admin.log")"
}

# scene_incident HOOKS: the enrolled scene's edge (scene_enrolled) run to
# the end of its input; then, within 60 s, the hub's store must hold one
# incident, verified and cleared, the device must be stopped and the
# webhook receiver's HOOKS (lib/alert_receiver.py) must have answered 200
# twice on /generic (alarm and all-clear). IID: the incident.
scene_incident() {
	local i dev
	dev=$(sed -n 's/^device: {id: \([^,]*\),.*/\1/p' "$WORK/scene/edge.yaml")
	edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$WORK/scene/edge.yaml" -v
	edge_wait 90
	for i in $(seq 600); do
		[ "$(q "select count(*) from incidents where verified = 1 and status = 'cleared'")" = 1 ] &&
			[ "$(q "select status from devices where device = '$dev'")" = stopped ] &&
			[ "$(grep -c '"/generic", "code": 200' "$1" 2>/dev/null)" = 2 ] && break
		sleep 0.1
	done
	[ "$(q "select count(*) from incidents where verified = 1 and status = 'cleared'")" = 1 ] ||
		fail "no verified, cleared incident: $(q 'select incident_id, status, verified from incidents')"
	[ "$(q "select status from devices where device = '$dev'")" = stopped ] ||
		fail "$dev: $(q "select status from devices where device = '$dev'"), not stopped"
	[ "$(grep -c '"/generic", "code": 200' "$1" 2>/dev/null)" = 2 ] ||
		fail "the webhook did not get alarm and all-clear: $(cat "$1" 2>/dev/null)"
	IID=$(q "select incident_id from incidents")
}

# edge_stop [SECONDS]: the edge (EDGE_PID) must stop on SIGTERM within
# SECONDS (default 10) with exit status 0.
edge_stop() {
	stop_ok "the edge" "$EDGE_PID" "${1:-10}"
}

# ---- the RTSP test camera -----------------------------------------------------

# A note on the test camera (docs/testcam.md). firelane-testcam serves two
# files as a live IP camera's two streams, TESTCAM_URL/main and
# TESTCAM_URL/sub, on a loopback port that stays the camera's across
# restarts. Its files are made from a rendered scene by testcam_media, as
# cameras encode: one keyframe a second, no B-frames.
TESTCAM=$SRC/src/tools/testcam/firelane-testcam
TESTCAM_PID=
TESTCAM_PORT=
TESTCAM_URL=
TESTCAM_EPOCH=

# testcam_media CLIP [h264|h265]: WORK/testcam/sub.mp4 (640x360 H.264) and
# WORK/testcam/main.mp4 (1920x1080, H.264 unless h265) from CLIP. Skips
# when the test camera cannot run here (GStreamer's RTSP server missing).
testcam_media() {
	local codec=${2:-h264} enc=libx264
	"$TESTCAM" --check 2>"$WORK/.testcam" ||
		skip "no RTSP test camera: $(cat "$WORK/.testcam")"
	[ "$codec" = h264 ] || enc=libx265
	mkdir -p "$WORK/testcam"
	ffmpeg -nostdin -v error -y -i "$1" -vf scale=640:360 -c:v libx264 -preset veryfast \
		-g 25 -bf 0 -pix_fmt yuv420p "$WORK/testcam/sub.mp4" 2>"$WORK/testcam-media.log" ||
		fail "testcam_media: the sub-stream: $(tail -n 3 "$WORK/testcam-media.log")"
	ffmpeg -nostdin -v error -y -i "$1" -vf scale=1920:1080 -c:v $enc -preset ultrafast \
		-g 25 -bf 0 -pix_fmt yuv420p "$WORK/testcam/main.mp4" 2>>"$WORK/testcam-media.log" ||
		fail "testcam_media: the main stream: $(tail -n 3 "$WORK/testcam-media.log")"
	TESTCAM_CODEC=$codec
}

# testcam_start [ARGS...]: the test camera on TESTCAM_PORT (a free port at
# the first start, the same one after) serving WORK/testcam/{main,sub}.mp4,
# with ARGS (--user U --password P, --loop); TESTCAM_PID, TESTCAM_URL
# (rtsp://127.0.0.1:PORT). A camera started again goes on where its clock
# is (--epoch of the first start). Fails unless it listens within 30 s.
testcam_start() {
	[ -n "$TESTCAM_PORT" ] || TESTCAM_PORT=$(free_port)
	[ -n "$TESTCAM_EPOCH" ] || TESTCAM_EPOCH=$(date +%s.%N)
	TESTCAM_URL=rtsp://127.0.0.1:$TESTCAM_PORT
	testcam_run "$TESTCAM_PORT" testcam "$@"
	TESTCAM_PID=$TESTCAM_RAN
}

# testcam_start2 [ARGS...]: a second test camera (TESTCAM2_PID,
# TESTCAM2_URL, its own port, kept across restarts) with the first one's
# files and epoch, so that both play one scene on one clock: a test that
# must stall or stop one stream of a camera and not the other serves each
# from its own. Its output goes to WORK/testcam2.{out,log}.
testcam_start2() {
	[ -n "$TESTCAM2_PORT" ] || TESTCAM2_PORT=$(free_port)
	[ -n "$TESTCAM_EPOCH" ] || TESTCAM_EPOCH=$(date +%s.%N)
	TESTCAM2_URL=rtsp://127.0.0.1:$TESTCAM2_PORT
	testcam_run "$TESTCAM2_PORT" testcam2 "$@"
	TESTCAM2_PID=$TESTCAM_RAN
}
TESTCAM2_PID=
TESTCAM2_PORT=
TESTCAM2_URL=

# testcam_run PORT NAME [ARGS...]: one test camera on PORT (output in
# WORK/NAME.{out,log}), listening when it returns; its pid in TESTCAM_RAN.
testcam_run() {
	local port=$1 name=$2 i
	shift 2
	: >"$WORK/$name.out"
	"$TESTCAM" --port "$port" --main "$WORK/testcam/main.mp4" \
		--main-codec "${TESTCAM_CODEC:-h264}" --sub "$WORK/testcam/sub.mp4" \
		--epoch "$TESTCAM_EPOCH" "$@" >"$WORK/$name.out" 2>>"$WORK/$name.log" &
	TESTCAM_RAN=$!
	track $TESTCAM_RAN
	for i in $(seq 300); do
		grep -q '^ready ' "$WORK/$name.out" && return 0
		kill -0 "$TESTCAM_RAN" 2>/dev/null ||
			fail "the test camera ($name) exited: $(tail -n 3 "$WORK/$name.log")"
		sleep 0.1
	done
	fail "the test camera ($name) does not listen on $port within 30 s"
}

# testcam_stop [PID]: the camera (default the first) ends (SIGTERM: its
# connections close), within 10 s.
testcam_stop() {
	stop_ok "the test camera" "${1:-$TESTCAM_PID}" 10
	[ -n "${1:-}" ] || TESTCAM_PID=
}

# testcam_stall [PID]: the camera (default the first) stops sending, its
# connections stay open; the next call resumes (SIGUSR1).
testcam_stall() {
	kill -USR1 "${1:-$TESTCAM_PID}" || fail "no test camera to stall"
}

# testcam_drop: the camera ends every client's session and goes on serving
# (SIGHUP): clients see their stream end and reconnect.
testcam_drop() {
	kill -HUP "$TESTCAM_PID" || fail "no test camera to drop its clients"
}

# ---- file systems ------------------------------------------------------------

MOUNTS=() # what the test mounted; unmounted at exit, after its processes

# tmpfs_mount DIR SIZE: a tmpfs of SIZE (mount's size=, e.g. 4m) on DIR
# (made), unmounted at exit. Needs root: skips (with a message) otherwise.
# `mount -o remount,size=... DIR` grows or shrinks it while in use.
tmpfs_mount() {
	[ "$(id -u)" = 0 ] || skip "mounting a tmpfs needs root"
	mkdir -p "$1"
	mount -t tmpfs -o "size=$2,mode=0755" tmpfs "$1" 2>"$WORK/.mount" ||
		skip "cannot mount a tmpfs: $(cat "$WORK/.mount")"
	MOUNTS+=("$1")
}

IMMUTABLE=() # what the test made immutable; made writable again at exit

# immutable PATH...: chattr +i: no process, root's included, may write to
# (or, for a folder, create or remove in) PATH any more - also through a file
# already open (ext4 refuses the write with EPERM). Skips when the file
# system has no such flag. Undone by writable, or at exit.
immutable() {
	chattr +i "$@" 2>"$WORK/.chattr" ||
		skip "chattr +i: $(cat "$WORK/.chattr") (the file system has no immutable flag)"
	IMMUTABLE+=("$@")
}

# writable PATH...: chattr -i.
writable() {
	chattr -i "$@"
}

# ---- a test's life -------------------------------------------------------------

# kill_tracked: SIGKILL to what the test tracked and the broker, reaped.
kill_tracked() {
	local p
	for p in "${PIDS[@]}" $BROKER_PID; do
		kill -9 "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}" $BROKER_PID; do
		wait "$p" 2>/dev/null || true
	done
	PIDS=()
	BROKER_PID=
}

# leftovers: the test's processes still running that it does not track, as
# "PID COMMAND" lines: this process group's and any carrying the mark.
leftovers() {
	local p pids=() skip=" $$ $BASHPID ${HARNESS_WATCHDOG:-} ${PIDS[*]} $BROKER_PID "
	pgrep -g $$ >"$WORK/.group" 2>/dev/null || true
	# env -u: grep itself must not carry the mark
	env -u FL_TEST_WORK grep -lsFxz "FL_TEST_WORK=$WORK" /proc/[0-9]*/environ \
		>"$WORK/.marked" 2>/dev/null || true
	for p in $(cat "$WORK/.group") $(sed 's|/proc/\([0-9]*\)/environ|\1|' "$WORK/.marked"); do
		case $skip in *" $p "*) continue ;; esac
		pids+=("$p")
		skip="$skip$p "
	done
	[ ${#pids[@]} = 0 ] && return 0
	# zombies have ended already
	ps -o pid=,stat=,args= -p "$(
		IFS=,
		echo "${pids[*]}"
	)" 2>/dev/null | awk '$2 !~ /^Z/ { $2 = ""; print }' || true
}

harness__exit() {
	local rc=$? left f
	set +e
	trap - TERM INT HUP
	[ -n "${HARNESS_WATCHDOG:-}" ] && kill -9 "$HARNESS_WATCHDOG" 2>/dev/null &&
		wait "$HARNESS_WATCHDOG" 2>/dev/null
	HARNESS_WATCHDOG=
	# a fast shutdown: SIGKILL would leave its backends behind a moment
	[ -n "$PG_PID" ] && (pg_stop)
	kill_tracked
	[ ${#IMMUTABLE[@]} = 0 ] || chattr -i "${IMMUTABLE[@]}" 2>/dev/null
	for f in "${MOUNTS[@]}"; do
		umount -l "$f" 2>/dev/null
	done
	left=$(leftovers)
	if [ -n "$left" ]; then
		echo "$NAME: FAIL: processes left behind (killed now):" >&2
		echo "$left" >&2
		left=$(echo "$left" | awk '{ print $1 }')
		kill -9 $left 2>/dev/null
		wait $left 2>/dev/null
		[ "$rc" = 0 ] || [ "$rc" = 77 ] && rc=1
	fi
	if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		local f
		for f in $(find "$WORK" -name '*.log' | sort) \
			$(cd "$WORK" && [ -n "${LOG_GLOBS:-}" ] && ls -d $LOG_GLOBS 2>/dev/null | sed "s|^|$WORK/|"); do
			[ -f "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
		done
	fi
	rm -rf "$WORK"
	if [ -n "${FL_CPU_LOG:-}" ]; then
		# utime, stime, and those of the children waited for, in ticks
		local st
		read -ra st </proc/$$/stat
		echo "$NAME $(((st[13] + st[14] + st[15] + st[16]) / 100)) $SECONDS" >>"$FL_CPU_LOG"
	fi
	exit "$rc"
}

harness__signal() {
	[ -e "$WORK/.deadline" ] && fail "timed out: FL_TEST_DEADLINE_S=$FL_TEST_DEADLINE_S passed"
	fail "stopped by a signal"
}

if [ "${1:-}" != lib ]; then
	# Our own process group: re-run this script as its leader (same pid,
	# same arguments), unless it leads one already (started from a shell).
	if [ "$(ps -o pgid= -p $$ | tr -d ' ')" != $$ ] && [ -z "${FL_HARNESS_REGROUPED:-}" ]; then
		export FL_HARNESS_REGROUPED=1
		case $- in *x*) set -- -x "$0" "$@" ;; *) set -- "$0" "$@" ;; esac
		exec python3 -c 'import os, sys; os.setpgid(0, 0); os.execvp(sys.argv[1], sys.argv[1:])' \
			bash "$@"
	fi
	unset FL_HARNESS_REGROUPED
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/fl-$NAME.XXXXXX")
	export FL_TEST_WORK=$WORK
	HARNESS_WATCHDOG=
	trap harness__exit EXIT
	trap harness__signal TERM INT HUP
	if [ -n "${FL_TEST_DEADLINE_S:-}" ]; then
		# After the deadline: a mark for harness__signal, SIGTERM to the
		# group, and SIGKILL 10 s later to whatever ignored it but this
		# shell (which then cleans up).
		python3 - "$$" "$FL_TEST_DEADLINE_S" "$WORK/.deadline" <<'EOP' &
import os, signal, sys, time
pg, secs, mark = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
signal.signal(signal.SIGTERM, signal.SIG_IGN)
time.sleep(secs)
open(mark, "w").close()
os.killpg(pg, signal.SIGTERM)
time.sleep(10)
for p in os.listdir("/proc"):
    if p.isdigit() and int(p) not in (pg, os.getpid()):
        try:
            if int(open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()[2]) == pg:
                os.kill(int(p), signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            pass
EOP
		HARNESS_WATCHDOG=$!
	fi
fi
