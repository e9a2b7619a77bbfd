#!/usr/bin/env bash
# hub_slow_clients.sh - slow clients cannot take the web server away from
# everyone (docs/security.md, "5. The web server under abuse"), against a
# real hub (default http limits) with tests/integration/lib/slowloris.py
# and curl, each from its own loopback address:
#   - 320 slow connections (40 from each of 127.0.0.10-17) sending one
#     header line every 8 s, opened again whenever the hub closes one: a
#     client at 127.0.0.2 is answered all along (each request within 5 s);
#   - every slow connection is closed by the hub within the request
#     deadline (http.request_timeout_s, 15 s, plus the reaper's second)
#     without an answer; a slow body (headers complete, one byte every 2 s)
#     is closed the same way; the hub says so in its log;
#   - from one address at most http.max_per_address (32) are open: the
#     rest are refused at once, and the client at 127.0.0.2 is not;
#   - an answer still going out is not cut by the deadline: a client
#     reading a 24 MiB case package at 512 KiB/s (some 48 s) gets all of it.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" mosquitto curl python3 sqlite3 jq
LORIS=$SRC/tests/integration/lib/slowloris.py
broker_start
web_hub_conf "$WORK/hub.yaml"
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -v

# answered: GET /api/session from 127.0.0.2 answers 401 within 5 s
answered() {
	local code
	code=$(curl -s --interface 127.0.0.2 -o /dev/null -w '%{http_code}' --max-time 5 "$BASE/api/session" || true)
	[ "$code" = 401 ]
}
answered || fail "the hub does not answer before the attack"

# ---- 320 slow connections from 8 addresses --------------------------------------
SOURCES=$(seq -s, -f '127.0.0.%g' 10 17)
loris_start --port "$WPORT" --sources "$SOURCES" --per-source 40 --interval 8 --duration 40 --reconnect
ok=0
for i in $(seq 8); do # about 30 s of the attack
	answered || fail "request $i from 127.0.0.2 during the attack was not answered within 5 s ($(cat "$WORK/ready") slow connections)"
	ok=$((ok + 1))
	sleep 3
done
wait $LPID || fail "slowloris.py: $(cat "$WORK/loris.log")"
python3 - "$WORK/loris.json" <<'EOP' || fail "slow connections: $(cat "$WORK/loris.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["answered"] == 0, "a slow request got an answer"
# 32 per address held, the rest refused at once (closed at about 0 s)
held = [t for t in r["closed"] if t >= 1]
assert len(held) >= 8 * 32 - 8, "only %d slow connections held" % len(held)
late = [t for t in held if t > 15 + 3]
assert not late, "held past the deadline: %s" % sorted(late)[-5:]
refused = [t for t in r["closed"] if t < 1]
assert len(refused) >= 8 * 8 - 8, "only %d refused beyond 32 per address" % len(refused)
print("slow connections: %d opened, %d held (the longest %.1f s), %d refused"
      % (r["opened"], len(held), max(held), len(refused)))
EOP
grep -q 'no whole request within 15 s (http.request_timeout_s' "$WORK/hub.log" || fail "no deadline in the log"
grep -q 'connections open (http.max_per_address): refused' "$WORK/hub.log" || fail "no refusal in the log"

# ---- a slow body --------------------------------------------------------------------
python3 "$LORIS" --port "$WPORT" --sources 127.0.0.20 --per-source 4 --interval 2 \
	--duration 22 --body --path /api/login >"$WORK/body.json" 2>"$WORK/body.log" ||
	fail "slowloris.py --body: $(cat "$WORK/body.log")"
python3 - "$WORK/body.json" <<'EOP' || fail "slow bodies: $(cat "$WORK/body.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["answered"] == 0 and r["open_at_end"] == 0, r
assert len(r["closed"]) == 4 and max(r["closed"]) <= 15 + 3, r
EOP
answered || fail "not answered after the slow bodies"

# ---- a slow reader of a large answer is not cut ------------------------------------
# a case package of 24 MiB read at 512 KiB/s: about 48 s, far past the
# request deadline, and more than the sockets' buffers hold
echo 'pw-root' | "$HUB" --config "$WORK/hub.yaml" --add-user root --role admin >"$WORK/cli.log" 2>&1 ||
	fail "--add-user: $(cat "$WORK/cli.log")"
q "insert into incidents (incident_id, device, site) values ('slow-1', 'edge-x', 'site-x')"
mkdir -p "$WORK/ev/slow-1"
head -c $((24 << 20)) /dev/urandom >"$WORK/ev/slow-1/clip.mp4"
# only a file the store recorded (its bundle arrived) is packed
q "insert into evidence (incident_id, name, sha256, bytes, kind, verified) values ('slow-1', 'clip.mp4', '$(sha256sum "$WORK/ev/slow-1/clip.mp4" | cut -d' ' -f1)', $((24 << 20)), 'clip', 0)"
web_login root pw-root >/dev/null
t0=$(date +%s)
curl -s --interface 127.0.0.2 -b "$WORK/jar-root" --limit-rate 512k --max-time 300 \
	-o "$WORK/case.zip" "$BASE/api/incidents/slow-1/export" || true
t1=$(date +%s)
python3 - "$WORK/case.zip" "$WORK/ev/slow-1/clip.mp4" <<'EOP' || fail "the slow reader's case package is cut short ($((t1 - t0)) s)"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.read("evidence/clip.mp4") == open(sys.argv[2], "rb").read()
EOP
[ $((t1 - t0)) -gt 20 ] || fail "the case package went out in $((t1 - t0)) s: not slow enough to test the deadline"
answered || fail "not answered at the end"
hub_stop
echo "$NAME: ok ($ok requests answered during the attack)"
