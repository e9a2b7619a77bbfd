#!/usr/bin/env bash
# hub_systemd.sh - firelane-hub speaks sd_notify as its unit
# (systemd/firelane-hub.service, Type=notify, WatchdogSec) needs, on a
# NOTIFY_SOCKET the test listens on (an abstract socket, as systemd's):
#   - READY=1 once its store is open, its web server listens and its MQTT
#     client runs: there by the time hub_start sees it serve (the web API
#     answers, the broker has its subscription);
#   - WATCHDOG=1 every WATCHDOG_USEC/2 (2 s here: three within 20 s);
#   - none of it with WATCHDOG_PID naming another process;
#   - STOPPING=1 on SIGTERM, then exit 0.
# The installed unit itself is checked by tests/install/packages.sh.
# Env: FL_BUILD_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" mosquitto curl python3
broker_start
web_hub_conf "$WORK/hub.yaml"
SOCK=@fl-hub-systemd-$$
notify_listen "$SOCK" "$WORK/notify.txt"

NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=4000000 hub_start "$WORK/hub.yaml"
wait_for "$WORK/notify.txt" '^READY=1' 5 || fail "no READY=1 once the hub serves"
# every 2 s: the third within 20 s even on a loaded machine
for _ in $(seq 200); do
	[ "$(grep -c '^WATCHDOG=1' "$WORK/notify.txt" || true)" -ge 3 ] && break
	sleep 0.1
done
n=$(grep -c '^WATCHDOG=1' "$WORK/notify.txt" || true)
[ "$n" -ge 3 ] || fail "$n WATCHDOG=1 in 20 s with WATCHDOG_USEC 4 s (one every 2 s)"
grep -q '^STOPPING=1' "$WORK/notify.txt" && fail "STOPPING=1 before the hub was stopped"
hub_stop
wait_for "$WORK/notify.txt" '^STOPPING=1' 5 || fail "no STOPPING=1 on SIGTERM"

# The watchdog is the named process's alone: WATCHDOG_PID of another
# process means no WATCHDOG=1 from this one.
: >"$WORK/notify.txt"
NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=1000000 WATCHDOG_PID=1 hub_start "$WORK/hub.yaml"
wait_for "$WORK/notify.txt" '^READY=1' 5 || fail "no READY=1 (second start)"
wait_for "$WORK/notify.txt" '^WATCHDOG=1' 3 &&
	fail "WATCHDOG=1 though WATCHDOG_PID names another process"
hub_stop
echo "hub_systemd: ok"
