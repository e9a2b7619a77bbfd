#!/usr/bin/env bash
# mqtt_tls.sh - the edge's TLS and password options against a real mosquitto.
#
# Throw-away certificates made with the openssl CLI in the test's folder: a
# CA, a server certificate for 127.0.0.1/localhost and a client certificate
# signed by it, and a second CA that signed nothing the broker uses. A
# private mosquitto on a free loopback port with only a TLS listener
# (require_certificate true, use_identity_as_username false) and password
# authentication (allow_anonymous false, a password_file made with
# mosquitto_passwd). Three edges play the quick park_leave scene live at the
# same time, each with its own spool and client id:
#   (a) the right username, password, CA, client certificate and key: it
#       connects over TLS (ssl://), publishes status online, the incident
#       (occupied, alarm, cleared) and stopped, which a subscriber on the
#       same TLS listener (mosquitto_sub --cafile/--cert/--key -u -P) gets;
#   (b) a wrong password: the connection is refused, the log names the
#       reason ("not authorized"), the edge keeps detecting (occupied on
#       stdout) and the incident is spooled on disk;
#   (c) a CA that did not sign the server's certificate: refused, the log
#       names the TLS failure ("certificate verify failed"), the edge keeps
#       detecting.
# Also: --check-config shows the password as "***", never in clear.
# Skipped (exit 77 with a message) without openssl or mosquitto_passwd.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
for c in openssl mosquitto_passwd; do
	command -v "$c" >/dev/null || skip "$c not installed"
done
need "$EDGE" "$SCENE" mosquitto mosquitto_sub mosquitto_pub python3
SCENARIO=park_leave
PORT=$(free_port)
USER_NAME=fl-edge
PASS='s3cret-pw-7f1c'
T=$WORK/tls
mkdir -p "$T"

# --- certificates ------------------------------------------------------
ossl() { openssl "$@" >>"$WORK/openssl.log" 2>&1 || fail "openssl $1 (openssl.log)"; }
newkey() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
for ca in ca other-ca; do
	newkey "$T/$ca.key"
	ossl req -x509 -new -key "$T/$ca.key" -out "$T/$ca.pem" -days 2 \
		-subj "/CN=firelane test $ca"
done
# sign NAME SUBJECT EXTENSIONS: NAME.key and NAME.pem signed by ca.pem
sign() {
	newkey "$T/$1.key"
	ossl req -new -key "$T/$1.key" -out "$T/$1.csr" -subj "$2"
	printf '%s\n' "$3" >"$T/$1.ext"
	ossl x509 -req -in "$T/$1.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
		-CAcreateserial -out "$T/$1.pem" -days 2 -extfile "$T/$1.ext"
}
sign server /CN=localhost \
	"subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
sign client /CN=firelane-edge "extendedKeyUsage=clientAuth"
mosquitto_passwd -b -c "$WORK/passwd" "$USER_NAME" "$PASS" ||
	fail "mosquitto_passwd"
# mosquitto started as root drops to its own user: it must read these
chmod 0755 "$WORK" "$T"
chmod 0644 "$T"/* "$WORK/passwd"

# --- broker: a TLS listener with client certificates and passwords ----
broker_start "listener $PORT 127.0.0.1
cafile $T/ca.pem
certfile $T/server.pem
keyfile $T/server.key
require_certificate true
use_identity_as_username false
allow_anonymous false
password_file $WORK/passwd"

SUB_OPTS=(--cafile "$T/ca.pem" --cert "$T/client.pem" --key "$T/client.key"
	-u "$USER_NAME" -P "$PASS")
subscribe "$WORK/all.txt" 'firelane/#'

scene $SCENARIO
# config NAME PASSWORD CA: $WORK/scene/NAME.yaml (next to the clip), with
# its own spool and client id
config() {
	edge_config "$WORK/scene/$1.yaml" "$(printf '  client_id: fl-%s\n  username: %s\n  password: "%s"\n  tls_ca: %s\n  tls_cert: %s\n  tls_key: %s\n' \
		"$1" "$USER_NAME" "$2" "$3" "$T/client.pem" "$T/client.key")"
	sed -i "s|^  spool_dir: .*|  spool_dir: $WORK/spool-$1|" "$WORK/scene/$1.yaml"
}
config good "$PASS" "$T/ca.pem"
config badpass "wrong-$PASS" "$T/ca.pem"
config badca "$PASS" "$T/other-ca.pem"

# The password is not printed by --check-config.
"$EDGE" --config "$WORK/scene/good.yaml" --check-config >"$WORK/check.txt" 2>&1 ||
	fail "--check-config: $(cat "$WORK/check.txt")"
grep -q "$PASS" "$WORK/check.txt" && fail "--check-config prints the password"
grep -q '^  password: "\*\*\*"$' "$WORK/check.txt" ||
	fail "--check-config does not show password: \"***\""

declare -A EP
for r in good badpass badca; do
	edge_start "$WORK/events-$r.jsonl" "$WORK/edge-$r.log" --config "$WORK/scene/$r.yaml" -v
	EP[$r]=$EDGE_PID
done
ROOT=firelane/scene-site/scene-edge

# (a) over TLS with a password: online first.
wait_for "$WORK/all.txt" "^$ROOT/status$(status_re online)" 20 ||
	fail "(a) no status online over TLS"
grep -q "connected to ssl://127.0.0.1:$PORT" "$WORK/edge-good.log" ||
	fail "(a) connection not logged as ssl://"

# (b) wrong password: refused with the reason, detection goes on, spooled.
wait_for "$WORK/edge-badpass.log" "cannot connect to ssl://.*[Nn]ot authori[sz]ed" 20 ||
	fail "(b) no 'not authorized' connection error in the log"
wait_for "$WORK/events-badpass.jsonl" '"type":"occupied"' 40 ||
	fail "(b) detection stopped: no occupied event"
wait_for "$WORK/events-badpass.jsonl" '"type":"alarm"' 40 ||
	fail "(b) detection stopped: no alarm event"
spooled=0
for _ in $(seq 50); do
	ls "$WORK"/spool-badpass/*.2.msg >/dev/null 2>&1 && { spooled=1; break; }
	sleep 0.1
done
[ "$spooled" = 1 ] || fail "(b) the incident was not spooled"
kill -0 "${EP[badpass]}" 2>/dev/null || fail "(b) the edge died"
grep -q "connected to" "$WORK/edge-badpass.log" && fail "(b) connected with a wrong password"

# (c) wrong CA: refused with the TLS reason, detection goes on.
# (the three edges run side by side, but not in step: wait for this one too)
wait_for "$WORK/edge-badca.log" "cannot connect to ssl://.*certificate verify failed" 20 ||
	fail "(c) no 'certificate verify failed' TLS error in the log"
wait_for "$WORK/events-badca.jsonl" '"type":"alarm"' 40 ||
	fail "(c) detection stopped: no alarm event"
kill -0 "${EP[badca]}" 2>/dev/null || fail "(c) the edge died"
grep -q "connected to" "$WORK/edge-badca.log" && fail "(c) connected with the wrong CA"
for r in badpass badca; do
	stop_ok "($r) the edge" "${EP[$r]}"
	grep -q "not connected at the exit: 'stopped' not sent" "$WORK/edge-$r.log" ||
		fail "($r) the exit does not say 'stopped' was not sent"
done
grep -q "$PASS" "$WORK"/edge-*.log && fail "a log shows the password"

# (a) runs to the end of its input and stops cleanly.
EDGE_PID=${EP[good]}
edge_wait 90
sleep 1
python3 "$(dirname "$0")/lib/check_mqtt.py" "$WORK/all.txt" \
	--status online,stopped \
	--incident occupied,alarm,cleared \
	--lane-states clear,occupied,blocked,clear || fail "(a) messages (above)"
ls "$WORK"/spool-good/*.msg >/dev/null 2>&1 && fail "(a) messages left in the spool"
echo "$NAME: ok"
