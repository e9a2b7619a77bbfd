#!/usr/bin/env bash
# packages.sh - the Debian packages of make deb, installed as an
# administrator would install them, into a fresh Debian 12 root, and their
# daemons started there as their units would start them (make
# test-packages, CI; docs/packaging.md, "The install test").
#
#   1. a fresh root: mmdebstrap, minbase plus systemd, from Debian's
#      archive; the packages installed in it with apt-get, which resolves
#      their Depends from the archive and runs dpkg -i (a missing library
#      in Depends shows as a daemon that cannot start below);
#   2. what the packages did: the firelane user (no login), the state
#      folders owned by it, the configs as conffiles readable by the group
#      only (the edge's owned by the user, in a folder it may write), both
#      units enabled (their wants links) and the man pages;
#   3. systemd-analyze verify and security (exposure at most 2.5 for
#      either) on the installed units;
#   4. each daemon started as its unit would start it. There is no systemd
#      as PID 1 here (nor in CI), so this script does its part: the unit's
#      ExecStart, User, Group, SupplementaryGroups, WorkingDirectory,
#      StateDirectory (created, owned, writable), ReadWritePaths, WatchdogSec
#      (WATCHDOG_USEC), NoNewPrivileges and CapabilityBoundingSet= (setpriv),
#      ProtectSystem=strict (the root read-only but for the state folders),
#      PrivateTmp and ProtectHome (empty tmpfs), a clean environment and
#      NOTIFY_SOCKET, an abstract socket this script listens on. Not
#      emulated: the seccomp filter, namespaces, device policy (docs).
#      The hub (on a broker on loopback) and the edge (on a generated
#      scene, enrolled with the hub as firelane-edge(8) says) must each say
#      READY=1, WATCHDOG=1 within WatchdogSec, carry an incident from the
#      edge into the hub's store; the edge's ExecReload (systemctl reload)
#      must bring RELOADING=1 and READY=1 again; a configuration the hub
#      applies (firelane-hub --command) must be written by the sandboxed
#      edge over /etc/firelane/edge.yaml; on SIGTERM each must say
#      STOPPING=1 and exit 0;
#   5. the packages installed again (dpkg -i) keep the edited
#      configurations, their modes and the keys; a purge of firelane-edge
#      removes its conffile and unit links and keeps /var/lib/firelane (the
#      evidence is proof).
#
# Needs root (chroot, mounts; all of them in private mount namespaces) and
# mmdebstrap; skipped with a message without them, or when Debian's
# archive cannot be reached. Downloaded packages are kept in
# FL_DEB_CACHE (default ~/.cache/firelane/debs) for the next run.
# Env: FL_BUILD_DIR (the build-deb folder: its *.deb and firelane-scene).
set -eu
. "$(dirname "$0")/../integration/lib/harness.sh"
[ "$(id -u)" = 0 ] || skip "needs root (chroot, mount namespaces)"
command -v mmdebstrap >/dev/null || skip "mmdebstrap not installed (scripts/deps.sh)"
need "$SCENE" mosquitto mosquitto_sub sqlite3 systemd-analyze setpriv unshare python3 curl
DEBS=$(ls "$BUILD"/firelane-edge_*.deb "$BUILD"/firelane-hub_*.deb 2>/dev/null) ||
	fail "no packages in $BUILD (make deb)"
CACHE=${FL_DEB_CACHE:-${HOME:-/root}/.cache/firelane/debs}
mkdir -p "$CACHE"
ROOT=$WORK/root

# ---- 1. a fresh root with the packages -------------------------------------

mkdir -p "$WORK/debs"
cp $DEBS "$WORK/debs/"
# Its own mount namespace: mmdebstrap's mounts (proc, sys, dev) go with it,
# whatever happens, and never outlive it under WORK.
if ! unshare --mount --fork -- mmdebstrap --variant=minbase --mode=root \
	--include=systemd --skip=download/empty --skip=essential/unlink \
	--setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
	--setup-hook="sync-in $CACHE /var/cache/apt/archives/" \
	--customize-hook="copy-in $WORK/debs /tmp" \
	--customize-hook='chroot "$1" sh -c "apt-get install -y --no-install-recommends /tmp/debs/*.deb"' \
	--customize-hook="sync-out /var/cache/apt/archives $CACHE" \
	bookworm "$ROOT" >"$WORK/mmdebstrap.log" 2>&1; then
	if grep -qE 'Could not resolve|Temporary failure|Failed to fetch|Unable to connect|Network is unreachable' \
		"$WORK/mmdebstrap.log"; then
		skip "Debian's archive cannot be reached: $(grep -m1 -E 'resolve|Temporary|fetch|connect|unreachable' "$WORK/mmdebstrap.log")"
	fi
	fail "mmdebstrap or the installation failed: $(tail -n 20 "$WORK/mmdebstrap.log")"
fi
grep -q 'Setting up firelane-edge' "$WORK/mmdebstrap.log" || fail "firelane-edge was not set up"
grep -q 'Setting up firelane-hub' "$WORK/mmdebstrap.log" || fail "firelane-hub was not set up"

# in_root CMD...: CMD in the root as root, with /proc (a private mount).
in_root() {
	unshare --mount --fork -- sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$ROOT" "$@"
}

# ---- 2. what the packages did ------------------------------------------------

pw=$(in_root getent passwd firelane) || fail "no firelane user"
case $pw in
*:/var/lib/firelane:/usr/sbin/nologin) ;;
*) fail "firelane user: $pw (home /var/lib/firelane, no login expected)" ;;
esac
# owners by the root's names (stat in the root: its passwd, not ours)
owner() { in_root stat -c "${2:-%U:%G %a}" "$1"; }
for d in /var/lib/firelane /var/lib/firelane/edge; do
	[ "$(owner $d)" = "firelane:firelane 750" ] ||
		fail "$d: $(owner $d) (firelane:firelane 750 expected)"
done
# conf_owners WHEN: the configurations' owners and modes: the edge's is the
# firelane user's, in a folder it may write (docs/packaging.md, "Where the
# edge writes its configuration")
conf_owners() {
	[ "$(owner /etc/firelane/edge.yaml)" = "firelane:firelane 640" ] ||
		fail "/etc/firelane/edge.yaml$1: $(owner /etc/firelane/edge.yaml) (firelane:firelane 640 expected)"
	[ "$(owner /etc/firelane/hub.yaml)" = "root:firelane 640" ] ||
		fail "/etc/firelane/hub.yaml$1: $(owner /etc/firelane/hub.yaml) (root:firelane 640 expected)"
	[ "$(owner /etc/firelane)" = "root:firelane 770" ] ||
		fail "/etc/firelane$1: $(owner /etc/firelane) (root:firelane 770 expected)"
}
conf_owners ""
for f in edge hub; do
	in_root dpkg-query -W -f='${Conffiles}\n' "firelane-$f" | grep -q "/etc/firelane/$f.yaml" ||
		fail "/etc/firelane/$f.yaml is not a conffile of firelane-$f"
	[ -L "$ROOT/etc/systemd/system/multi-user.target.wants/firelane-$f.service" ] ||
		fail "firelane-$f.service not enabled"
	zcat "$ROOT/usr/share/man/man8/firelane-$f.8.gz" | grep -q '^\.TH FIRELANE' ||
		fail "no man page firelane-$f(8)"
done
# the installed configurations load as they are
in_root firelane-edge --config /etc/firelane/edge.yaml --check-config >/dev/null 2>"$WORK/check.log" ||
	fail "the installed edge.yaml is refused: $(cat "$WORK/check.log")"
in_root firelane-hub --config /etc/firelane/hub.yaml --check-config >/dev/null 2>"$WORK/check.log" ||
	fail "the installed hub.yaml is refused: $(cat "$WORK/check.log")"

# ---- 3. the units ------------------------------------------------------------

UNITS="firelane-edge.service firelane-hub.service"
systemd-analyze verify --man=no --root="$ROOT" $UNITS >"$WORK/verify.log" 2>&1 ||
	fail "systemd-analyze verify: $(cat "$WORK/verify.log")"
for u in $UNITS; do
	systemd-analyze security --offline=yes --root="$ROOT" --threshold=25 "$u" \
		>"$WORK/security-$u.log" 2>&1 ||
		fail "$u: exposure above 2.5: $(tail -n 1 "$WORK/security-$u.log")"
	echo "packages: $u: $(grep -o 'Overall exposure level.*' "$WORK/security-$u.log")"
done

# ---- 4. the daemons, started as their units would ------------------------------

# unit_key UNIT KEY: KEY's value in the installed UNIT (the last one).
unit_key() {
	sed -n "s/^$2=//p" "$ROOT/lib/systemd/system/$1" | tail -n 1
}

# unit_start UNIT LOG SOCKET: the unit's daemon in its emulated sandbox,
# stdout and stderr to LOG, sd_notify to SOCKET; UNIT_PID is unshare's,
# whose only child is the daemon (DAEMON_PID).
unit_start() {
	local u=$1 exec user group groups wd states rw wdog d
	exec=$(unit_key "$u" ExecStart)
	user=$(unit_key "$u" User)
	group=$(unit_key "$u" Group)
	groups=$(unit_key "$u" SupplementaryGroups)
	wd=$(unit_key "$u" WorkingDirectory)
	states=$(unit_key "$u" StateDirectory)
	rw=$(unit_key "$u" ReadWritePaths)
	wdog=$(unit_key "$u" WatchdogSec)
	case $exec in *[\"\'\$\\]* | [-@+!:]*) fail "$u: ExecStart=$exec: not a plain command line" ;; esac
	case $wdog in '' | *[!0-9]*) fail "$u: WatchdogSec=$wdog: not whole seconds" ;; esac
	[ -n "$user" ] && [ -n "$group" ] && [ -n "$states" ] || fail "$u: no User, Group or StateDirectory"
	[ "$(unit_key "$u" ProtectSystem)" = strict ] || fail "$u: ProtectSystem is not strict"
	[ "$(unit_key "$u" NoNewPrivileges)" = yes ] || fail "$u: NoNewPrivileges is not yes"
	[ -z "$(unit_key "$u" CapabilityBoundingSet)" ] || fail "$u: CapabilityBoundingSet is not empty"
	for d in $states; do # StateDirectory: created, owned by the user
		in_root install -d -o "$user" -g "$group" -m 0750 "/var/lib/$d"
	done
	WDOG_S=$wdog
	# shellcheck disable=SC2016,SC2086
	unshare --mount --fork --kill-child -- sh -c '
		set -e
		R=$1 user=$2 group=$3 groups=$4 wd=$5 states=$6 sock=$7 wdusec=$8 rw=$9
		shift 9
		mount --bind "$R" "$R"
		mount -t proc proc "$R/proc"
		for d in tmp var/tmp; do mount -t tmpfs -o mode=1777 tmpfs "$R/$d"; done
		for d in home root; do mount -t tmpfs -o mode=000 tmpfs "$R/$d"; done
		for d in $states; do mount --bind "$R/var/lib/$d" "$R/var/lib/$d"; done
		for d in $rw; do mount --bind "$R$d" "$R$d"; done
		mount -o remount,bind,ro "$R"
		if [ -n "$groups" ]; then g="--groups=$(echo $groups | tr " " ,)"; else g=--clear-groups; fi
		sd=""
		for d in $states; do sd="$sd${sd:+:}/var/lib/$d"; done
		exec chroot "$R" setpriv --reuid="$user" --regid="$group" "$g" \
			--no-new-privs --bounding-set=-all --inh-caps=-all \
			env -i -C "$wd" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
			HOME=/var/lib/firelane USER="$user" LOGNAME="$user" \
			STATE_DIRECTORY="$sd" CONFIGURATION_DIRECTORY=/etc/firelane \
			NOTIFY_SOCKET="$sock" WATCHDOG_USEC="$wdusec" "$@"
	' sh "$ROOT" "$user" "$group" "$groups" "$wd" "$states" "$3" \
		"$((wdog * 1000000))" "$rw" $exec >"$2" 2>&1 &
	UNIT_PID=$!
	track $UNIT_PID
	for d in $(seq 100); do
		DAEMON_PID=$(pgrep -P $UNIT_PID || true)
		[ -n "$DAEMON_PID" ] && return 0
		sleep 0.1
	done
	fail "$u did not start: $(tail -n 5 "$2")"
}

# unit_stop UNIT NOTIFY: SIGTERM to the daemon (as systemctl stop); it
# must say STOPPING=1 and exit 0 within the unit's TimeoutStopSec.
unit_stop() {
	local t rc=0
	t=$(unit_key "$1" TimeoutStopSec)
	kill -TERM "$DAEMON_PID"
	wait_gone "$UNIT_PID" "$t" || fail "$1 did not stop within TimeoutStopSec=$t s"
	wait "$UNIT_PID" || rc=$?
	[ "$rc" = 0 ] || fail "$1: exit status $rc after SIGTERM"
	grep -q '^STOPPING=1' "$2" || fail "$1: no STOPPING=1"
}

# ready UNIT NOTIFY LOG: READY=1 within 60 s, then WATCHDOG=1 within the
# unit's WatchdogSec (systemd's deadline).
ready() {
	wait_for "$2" '^READY=1' 60 || fail "$1: no READY=1: $(tail -n 5 "$3")"
	wait_for "$2" '^WATCHDOG=1' "$WDOG_S" || fail "$1: no WATCHDOG=1 within WatchdogSec=$WDOG_S s"
}

broker_start # with accounts and the ACL (docs/security.md, "The broker")
broker_device edge-01
HTTP=$(free_port)
sed_conf() { # sed_conf FILE SED-EXPR PATTERN-THAT-MUST-THEN-MATCH
	sed -i "$2" "$ROOT$1"
	grep -qE "$3" "$ROOT$1" || fail "$1: could not set $3"
}
# The administrator's edits: the broker, the web port; the edge's camera.
sed_conf /etc/firelane/hub.yaml "s/^  port: 1883 /  port: $PORT /" "^  port: $PORT "
sed_conf /etc/firelane/hub.yaml "s/127.0.0.1:8080\"  # ADDR/127.0.0.1:$HTTP\"  # ADDR/" "127.0.0.1:$HTTP"
sed_conf /etc/firelane/hub.yaml "s/^  username: \"\"  # broker/  username: \"firelane-hub\"  # broker/" 'username: "firelane-hub"'
sed_conf /etc/firelane/hub.yaml "s/^  password: \"\"  # broker/  password: \"$(broker_pw firelane-hub)\"  # broker/" "password: \"$(broker_pw firelane-hub)\""
# the full scene (65 s, played in real time): the daemons are stopped long
# before its end
"$SCENE" --scenario park_leave --out "$WORK/scene" >"$WORK/scene.log" 2>&1 || fail "firelane-scene"
install -m 0644 "$WORK/scene/park_leave.mp4" "$ROOT/var/lib/firelane/edge/scene.mp4"
points=$(sed -n 's/^ *points: //p' "$WORK/scene/park_leave.yaml")
dwell=$(sed -n 's/^ *dwell_s: //p' "$WORK/scene/park_leave.yaml")
sed_conf /etc/firelane/edge.yaml "s|^  host: \"\"  # MQTT|  host: \"127.0.0.1\"  # MQTT|" 'host: "127.0.0.1"'
sed_conf /etc/firelane/edge.yaml "s|^  port: 0  # broker|  port: $PORT  # broker|" "port: $PORT "
sed_conf /etc/firelane/edge.yaml "s|^  username: \"\"  # user|  username: \"edge-01\"  # user|" 'username: "edge-01"'
sed_conf /etc/firelane/edge.yaml "s|^  password: \"\"  # password|  password: \"$(broker_pw edge-01)\"  # password|" "password: \"$(broker_pw edge-01)\""
sed_conf /etc/firelane/edge.yaml "s|^    source: \"rtsp://[^\"]*\"|    source: \"/var/lib/firelane/edge/scene.mp4\"|" 'scene.mp4"'
sed_conf /etc/firelane/edge.yaml "s|^        points: \[\[[^#]*#|        points: $points  #|" "points: \\[\\[[0-9]+, [0-9]+\\], \\[[0-9]"
sed_conf /etc/firelane/edge.yaml "s|^        dwell_s: 60 |        dwell_s: $dwell |" "dwell_s: $dwell "

# Enrolment, as firelane-edge(8) shows it: the key made as the user.
in_root runuser -u firelane -- firelane-edge --config /etc/firelane/edge.yaml \
	--print-public-key >"$WORK/edge.pub" 2>"$WORK/enrol.log" || fail "--print-public-key: $(cat "$WORK/enrol.log")"
cp "$WORK/edge.pub" "$ROOT/tmp/edge.pub"
in_root runuser -u firelane -- firelane-hub --config /etc/firelane/hub.yaml \
	--enrol-device edge-01 --site demo-site --public-key /tmp/edge.pub >>"$WORK/enrol.log" 2>&1 ||
	fail "--enrol-device: $(cat "$WORK/enrol.log")"
# and the hub's key, which signs commands and receipts, given to the edge
in_root runuser -u firelane -- firelane-hub --config /etc/firelane/hub.yaml \
	--print-public-key >"$WORK/hub.pub" 2>>"$WORK/enrol.log" || fail "hub --print-public-key: $(cat "$WORK/enrol.log")"
sed_conf /etc/firelane/edge.yaml "s|^  hub_key: \"\"  # the hub|  hub_key: \"$(cat "$WORK/hub.pub")\"  # the hub|" 'hub_key: "[A-Za-z0-9+/=]{40,}"'
[ "$(owner /var/lib/firelane/hub.key '%U %a')" = "firelane 600" ] ||
	fail "hub.key: $(owner /var/lib/firelane/hub.key '%U %a') (firelane 600 expected)"
[ "$(owner /var/lib/firelane/edge/device.key '%U %a')" = "firelane 600" ] ||
	fail "device.key: $(owner /var/lib/firelane/edge/device.key '%U %a') (firelane 600 expected)"

subscribe "$WORK/mqtt.txt" 'firelane/#'
notify_listen "@fl-packages-hub-$$" "$WORK/hub.notify"
unit_start firelane-hub.service "$WORK/hub.log" "@fl-packages-hub-$$"
HUB_UNIT=$UNIT_PID HUB_DAEMON=$DAEMON_PID
ready firelane-hub "$WORK/hub.notify" "$WORK/hub.log"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$HTTP/api/session" || true)
[ "$code" = 401 ] || fail "the hub's web API: HTTP $code for /api/session (401 expected)"

notify_listen "@fl-packages-edge-$$" "$WORK/edge.notify"
unit_start firelane-edge.service "$WORK/edge.log" "@fl-packages-edge-$$"
ready firelane-edge "$WORK/edge.notify" "$WORK/edge.log"
wait_for "$WORK/mqtt.txt" "^firelane/demo-site/edge-01/status$(status_re online)" 30 ||
	fail "the edge's status online did not reach the broker"
DB=$ROOT/var/lib/firelane/hub.db
for _ in $(seq 600); do
	[ "$(q "SELECT count(*) FROM incidents" 2>/dev/null || echo 0)" -ge 1 ] && break
	sleep 0.1
done
[ "$(q "SELECT count(*) FROM incidents")" -ge 1 ] || fail "no incident of the edge in the hub's store"
# systemctl reload: the unit's ExecReload, run in the root (its kill) with
# $MAINPID the daemon's; the edge re-reads its lanes and says so
reload=$(unit_key firelane-edge.service ExecReload)
case $reload in *'$MAINPID'*) ;; *) fail "firelane-edge.service: ExecReload=$reload (with \$MAINPID expected)" ;; esac
# shellcheck disable=SC2086
in_root ${reload//\$MAINPID/$DAEMON_PID} >"$WORK/reload.log" 2>&1 ||
	fail "ExecReload=$reload: $(cat "$WORK/reload.log")"
wait_for "$WORK/edge.notify" '^RELOADING=1' 10 || fail "firelane-edge: no RELOADING=1 after ExecReload"
for _ in $(seq 100); do
	[ "$(grep -c '^READY=1' "$WORK/edge.notify")" -ge 2 ] && break
	sleep 0.1
done
[ "$(grep -c '^READY=1' "$WORK/edge.notify")" -ge 2 ] || fail "firelane-edge: no READY=1 after its reload"
# A configuration the hub applies (docs/mqtt.md, "Remote configuration"):
# the device's own file as config_get sends it (the password masked) with
# another dwell, applied in place by the edge in its sandbox: written over
# /etc/firelane/edge.yaml with .good and .version beside it, the
# device's password kept.
hub_cmd() { # hub_cmd NAME JSON: firelane-hub --command edge-01 as the user
	printf '%s' "$2" >"$ROOT/tmp/$1.json"
	in_root runuser -u firelane -- sh -c 'firelane-hub --config /etc/firelane/hub.yaml \
		--command edge-01 "$(cat "$1")" --timeout 40' sh "/tmp/$1.json" \
		>"$WORK/$1.out" 2>"$WORK/$1.err" || fail "$1: $(cat "$WORK/$1.out" "$WORK/$1.err")"
}
hub_cmd get '{"cmd": "config_get"}'
python3 - "$WORK/get.out" "$WORK/apply.json" "$dwell" <<'EOP' || fail "config_get: $(cat "$WORK/get.out")"
import json, sys
y = json.load(open(sys.argv[1], encoding="utf-8"))["result"]["yaml"]
assert 'password: "***"' in y, "the password is not masked"
y = y.replace("dwell_s: %s " % sys.argv[3], "dwell_s: %d " % (int(sys.argv[3]) + 1), 1)
json.dump({"cmd": "config", "version": 7, "yaml": y}, open(sys.argv[2], "w"))
EOP
hub_cmd apply "$(cat "$WORK/apply.json")"
grep -q '"applied": "in place"' "$WORK/apply.out" || fail "the apply: $(cat "$WORK/apply.out")"
grep -q "dwell_s: $((dwell + 1)) " "$ROOT/etc/firelane/edge.yaml" || fail "edge.yaml was not written"
grep -q "dwell_s: $dwell " "$ROOT/etc/firelane/edge.yaml.good" || fail "no edge.yaml.good"
[ "$(cat "$ROOT/etc/firelane/edge.yaml.version")" = 7 ] || fail "edge.yaml.version: $(cat "$ROOT/etc/firelane/edge.yaml.version")"
grep -qF "$(broker_pw edge-01)" "$ROOT/etc/firelane/edge.yaml" || fail "the apply lost the device's password"
unit_stop firelane-edge.service "$WORK/edge.notify"
UNIT_PID=$HUB_UNIT DAEMON_PID=$HUB_DAEMON
unit_stop firelane-hub.service "$WORK/hub.notify"
[ "$(owner /var/lib/firelane/hub.db %U)" = firelane ] || fail "hub.db is not the firelane user's"
[ -d "$ROOT/var/lib/firelane/edge/spool" ] || fail "no spool in /var/lib/firelane/edge"

# ---- 5. reinstall, purge --------------------------------------------------------

# The packages again (dpkg -i, as an upgrade runs the maintainer scripts):
# the administrator's configurations, their modes and the state stay.
mkdir -p "$ROOT/tmp/again"
cp "$WORK"/debs/*.deb "$ROOT/tmp/again/"
in_root sh -c 'dpkg -i /tmp/again/*.deb' </dev/null >"$WORK/again.log" 2>&1 ||
	fail "dpkg -i of the packages again: $(tail -n 5 "$WORK/again.log")"
grep -q "^  port: $PORT " "$ROOT/etc/firelane/hub.yaml" || fail "reinstalling replaced the edited hub.yaml"
grep -q 'username: "edge-01"' "$ROOT/etc/firelane/edge.yaml" || fail "reinstalling replaced the edited edge.yaml"
conf_owners " after reinstalling"
[ "$(owner /var/lib/firelane/hub.key '%U %a')" = "firelane 600" ] || fail "reinstalling changed hub.key"


in_root dpkg --purge firelane-edge >"$WORK/purge.log" 2>&1 || fail "dpkg --purge: $(tail -n 5 "$WORK/purge.log")"
[ ! -e "$ROOT/etc/firelane/edge.yaml" ] || fail "purge left /etc/firelane/edge.yaml"
[ ! -e "$ROOT/etc/systemd/system/multi-user.target.wants/firelane-edge.service" ] ||
	fail "purge left the unit enabled"
[ -f "$ROOT/var/lib/firelane/edge/device.key" ] || fail "purge removed the state (the device key)"
[ -f "$ROOT/etc/firelane/hub.yaml" ] || fail "purging the edge removed the hub's config"
echo "packages: ok ($(basename -a $DEBS | tr '\n' ' '))"
