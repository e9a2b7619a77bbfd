# lib/faults.sh - what the fault-injection tests (faults_*.sh) share:
# sourced after harness.sh.
#
#     set -eu
#     . "$(dirname "$0")/lib/harness.sh"
#     . "$(dirname "$0")/lib/faults.sh"
#
# A note on the suite (docs/hub.md, "Faults"). Each faults_*.sh injects one
# fault for real - a store on a small tmpfs that fills up, a database file
# made immutable, an evidence folder below its reserve, a spool the edge
# cannot write, a broker restarted, a hub or an edge killed with SIGKILL -
# while a flood of at least FLOOD_N incident messages is on its way, then
# removes the fault and counts the hub's rows against what was sent: every
# (incident_id, seq) sent is stored, none twice, nothing quarantined. The
# flood is three messages per incident (occupied, alarm, cleared: the
# alarm makes the alerts' records too), either from one enrolled device
# through mosquitto_pub (hub-side faults: the hub's acknowledgement is what
# is tested) or from firelane-flood, the edge's own publisher (edge-side
# faults: its spool, its back-log, its resends).
#
# The broker is the harness's (accounts and ACL): DEVICE publishes with
# its own account and signs every message with its key (FKEY, enrolled
# at the hub), as a real edge does; the hub's configuration carries the
# hub's account ($HUB_AUTH), and HUB_KEY (set by faults_hub_config) gives
# an edge of edge_config the hub's public key, for its receipts.
#
# The broker keeps the hub's back-log without a count limit
# (max_queued_messages 0): with mosquitto's default of 1000 a hub that
# stops taking messages would lose them at the broker, not at the hub
# (docs/hub.md, "The broker holds the backlog").

FLOOD_N=${FLOOD_N:-3334} # incidents: 3 x 3334 = 10,002 messages
DEVICE=edge-f
SITE=site-f
FLOOD=$BUILD/firelane-flood
FKEY=$WORK/device-f.key # DEVICE's key; its public half in WORK/pk.txt

# faults__key: DEVICE's key and broker account, made once.
faults__key() {
	[ -s "$FKEY" ] && return 0
	device_key "$FKEY" >"$WORK/pk.txt"
	broker_device "$DEVICE"
}

# faults_broker: a persistent mosquitto on PORT without a queue limit.
faults_broker() {
	BROKER_EXTRA="max_queued_messages 0" broker_start
}

# faults_hub_config STORE_SIZE EVIDENCE_DIR [YAML]: WORK/hub.yaml for the
# broker on PORT (the hub's account) with the store DB=WORK/store/hub.db on a tmpfs of
# STORE_SIZE (mount's size=; a commit is an fsync, and 10,000 of them on a
# shared disk take minutes), evidence in EVIDENCE_DIR, HTTP on HTTP_PORT
# (set here), and YAML (more root keys); enrols DEVICE (its key FKEY,
# WORK/pk.txt) for SITE and sets HUB_KEY (the hub key's public half). Needs
# root (skips otherwise). STORE_SIZE "disk": the store in WORK itself (a
# tmpfs ignores chattr +i on a file already open). FAULTS_ALERTS true: MQTT
# alerts on; FAULTS_ALERTS_MORE: more of the alerts' keys (", lease_s: 600").
faults_hub_config() {
	if [ "$1" = disk ]; then
		DB=$WORK/hub.db
	else
		tmpfs_mount "$WORK/store" "$1"
		DB=$WORK/store/hub.db
	fi
	HTTP_PORT=$(free_port)
	cat >"$WORK/hub.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-faults, keepalive_s: 5, $HUB_AUTH}
store: {sqlite: $DB}
evidence_dir: $2
http: {listen: "127.0.0.1:$HTTP_PORT"}
alerts: {mqtt: ${FAULTS_ALERTS:-false}${FAULTS_ALERTS_MORE:-}}
${3:-}
EOC
	faults__key
	"$HUB" --config "$WORK/hub.yaml" --enrol-device "$DEVICE" --site "$SITE" \
		--public-key "$WORK/pk.txt" >"$WORK/enrol.log" 2>&1 ||
		fail "--enrol-device: $(tail -n 3 "$WORK/enrol.log")"
	HUB_KEY=$(hub_key "$WORK/hub.yaml")
}

# flood_lines FILE TAG [N]: N (default FLOOD_N) incidents of DEVICE as
# mosquitto_pub -l lines (3 N messages), ids DEVICE-TAG-<n>.
flood_lines() {
	python3 - "$1" "$DEVICE-$2" "${3:-$FLOOD_N}" "$SITE" "$DEVICE" <<'EOP'
import json, sys, time
out, prefix, n, site, device = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
now = time.time() - 86400
with open(out, "w") as f:
    for k in range(n):
        for seq, ty in ((1, "occupied"), (2, "alarm"), (3, "cleared")):
            f.write(json.dumps({"incident_id": "%s-%05d" % (prefix, k),
                "seq": seq, "type": ty, "site": site, "device": device,
                "camera": "cam-1", "lane": "lane-a",
                "unix_time": now + k + 10 * seq}) + "\n")
EOP
}

FLOOD_TOPIC=firelane/$SITE/$DEVICE/cam-1/lane-a/incident

# flood_pub FILE [TOPIC]: publish FILE's lines at QoS 1 on TOPIC (default
# FLOOD_TOPIC) in the background, each signed with FKEY and sent with
# DEVICE's account (PUB_PID, tracked; log WORK/pub.log). mosquitto_pub
# ends once the broker has acknowledged every line.
flood_pub() {
	local topic=${2:-$FLOOD_TOPIC}
	faults__key
	python3 "$FL_LIB/fl_sign.py" lines "$FKEY" "$topic" <"$1" >"$1.signed" ||
		fail "signing $1"
	mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -i "pub-$NAME-$$" \
		-u "$DEVICE" -P "$(broker_pw "$DEVICE")" \
		-t "$topic" -l <"$1.signed" >>"$WORK/pub.log" 2>&1 &
	PUB_PID=$!
	track $PUB_PID
}

# flood_pub_wait [SECONDS]: mosquitto_pub (PUB_PID) must have published
# everything within SECONDS (default 120).
flood_pub_wait() {
	local rc=0
	wait_gone "$PUB_PID" "${1:-120}" || fail "mosquitto_pub still publishing after ${1:-120} s"
	wait "$PUB_PID" || rc=$?
	[ "$rc" = 0 ] || fail "mosquitto_pub exit status $rc: $(tail -n 3 "$WORK/pub.log")"
}

# stored TAG: incident messages of DEVICE-TAG-* in the store.
stored() {
	q "select count(*) from incident_events where incident_id like '$DEVICE-$1-%'"
}

# wait_stored TAG N [QUIET]: until N messages of TAG are stored, or the
# count has not moved for QUIET seconds (default 20: what is lost does not
# come), or the hub has ended. 0 when N are stored.
wait_stored() {
	local last=-1 now still=0
	while [ "$still" -lt $((${3:-20} * 5)) ]; do
		now=$(stored "$1" 2>/dev/null || echo "$last")
		[ "$now" -ge "$2" ] && return 0
		if [ "$now" = "$last" ]; then
			still=$((still + 1))
		else
			still=0
			last=$now
		fi
		[ -z "${HUB_PID:-}" ] || kill -0 "$HUB_PID" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

# wait_still TAG [SECONDS]: until the count of TAG has not moved for
# SECONDS (default 2); prints it.
wait_still() {
	local last=-1 now
	while :; do
		now=$(stored "$1")
		[ "$now" = "$last" ] && break
		last=$now
		sleep "${2:-2}"
	done
	echo "$now"
}

# healthz: the HTTP status of the hub's GET /healthz (000: no answer).
healthz() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 3 \
		"http://127.0.0.1:$HTTP_PORT/healthz" || true
}

# wait_health CODE SECONDS: until GET /healthz answers CODE.
wait_health() {
	local i
	for i in $(seq $(($2 * 5))); do
		[ "$(healthz)" = "$1" ] && return 0
		sleep 0.2
	done
	return 1
}

# count_check TAG N: the verdict of the suite: of the N incidents of TAG
# (3 N messages) every (incident_id, seq) is stored exactly once, every
# incident is closed, and nothing of DEVICE was quarantined.
count_check() {
	local want=$(($2 * 3)) got distinct incidents open quarantined
	got=$(stored "$1")
	distinct=$(q "select count(*) from (select distinct incident_id, seq from incident_events where incident_id like '$DEVICE-$1-%')")
	incidents=$(q "select count(*) from incidents where incident_id like '$DEVICE-$1-%'")
	quarantined=$(q "select count(*) from quarantine where topic like 'firelane/$SITE/$DEVICE/%'")
	echo "$NAME: sent $want messages ($2 incidents); stored $got ($distinct distinct), $incidents incidents, $quarantined quarantined"
	[ "$got" = "$want" ] && [ "$distinct" = "$want" ] ||
		fail "$((want - distinct)) lost, $((got - distinct)) duplicated"
	[ "$incidents" = "$2" ] || fail "$incidents incidents stored, $2 sent"
	[ "$quarantined" = 0 ] || fail "$quarantined messages quarantined: $(q "select reason from quarantine limit 3")"
}

# edge_flood_config OUT: an edge configuration for firelane-flood: DEVICE
# at SITE (its key FKEY, its broker account), one camera with one lane, the broker on PORT, its spool in
# WORK/spool (SPOOL) on a tmpfs of its own: 10,000 spooled messages are
# 10,000 fsyncs, two minutes on a shared disk, and a process killed loses
# nothing of the page cache anyway. Needs root (skips otherwise).
edge_flood_config() {
	SPOOL=$WORK/spool
	faults__key
	tmpfs_mount "$SPOOL" 256m
	cat >"$1" <<EOC
device: {id: $DEVICE, site: $SITE, key_file: $FKEY}
cameras:
  - id: cam-1
    source: none.mp4
    lanes:
      - id: lane-a
        points: [[10, 10], [100, 10], [100, 100], [10, 100]]
mqtt:
  host: 127.0.0.1
  port: $PORT
  spool_dir: $SPOOL
  keepalive_s: 5
  heartbeat_s: 2
  username: $DEVICE
  password: $(broker_pw "$DEVICE")
EOC
	[ -z "${HUB_KEY:-}" ] || printf '  hub_key: "%s"\n' "$HUB_KEY" >>"$1"
}

# flood_start TAG [ARGS...]: firelane-flood with WORK/edge.yaml, N incidents
# (FLOOD_N) of TAG, in the background (FLOOD_PID, tracked; log
# WORK/flood.log).
flood_start() {
	local tag=$1
	shift
	"$FLOOD" --config "$WORK/edge.yaml" --incidents "$FLOOD_N" --tag "$tag" \
		"$@" >>"$WORK/flood.log" 2>&1 &
	FLOOD_PID=$!
	track $FLOOD_PID
}

# flood_wait [SECONDS]: firelane-flood (FLOOD_PID) must end within SECONDS
# (default 300) with everything delivered (exit 0).
flood_wait() {
	local rc=0
	wait_gone "$FLOOD_PID" "${1:-300}" || fail "firelane-flood still running after ${1:-300} s: $(tail -n 3 "$WORK/flood.log")"
	wait "$FLOOD_PID" || rc=$?
	[ "$rc" = 0 ] || fail "firelane-flood exit status $rc: $(tail -n 3 "$WORK/flood.log")"
}

# edge_evidence_setup: the scene's edge (SCENARIO, in WORK/scene) with
# evidence on (WORK/evidence) and a device key, its configuration
# WORK/scene/edge.yaml for the broker on PORT, enrolled at the hub of
# WORK/hub.yaml as scene-edge of scene-site.
edge_evidence_setup() {
	edge_config "$WORK/scene/edge.yaml" "$(printf 'evidence:\n  dir: %s\n  pre_roll_s: 4\n  post_roll_s: 3\n' "$WORK/evidence")"
	sed -i "s|^device: {id: scene-edge, site: scene-site}|device: {id: scene-edge, site: scene-site, key_file: $WORK/device.key}|" "$WORK/scene/edge.yaml"
	grep -q "key_file: $WORK/device.key" "$WORK/scene/edge.yaml" || fail "the scene's device line changed"
	"$EDGE" --config "$WORK/scene/edge.yaml" --print-public-key >"$WORK/edge-pk.txt" 2>"$WORK/pk.log" ||
		fail "--print-public-key"
	"$HUB" --config "$WORK/hub.yaml" --enrol-device scene-edge --site scene-site \
		--public-key "$WORK/edge-pk.txt" >>"$WORK/enrol.log" 2>&1 || fail "--enrol-device scene-edge"
}
