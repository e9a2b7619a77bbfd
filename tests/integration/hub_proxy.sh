#!/usr/bin/env bash
# hub_proxy.sh - the login rate limit and the audit's login rows behind a
# reverse proxy (http.trusted_proxies, docs/hub.md) against a real hub and
# mosquitto, driven with curl; curl on 127.0.0.1 plays the proxy, sending
# the X-Forwarded-For header nginx or Caddy would add.
#   - the configuration: the key is dumped by --check-config (empty by
#     default); a bad address is refused with FILE:LINE;
#   - 127.0.0.1 trusted: 5 failed logins as root forwarded for 203.0.113.7
#     make root wait there (429 with Retry-After, its right password too,
#     and a forged left part "198.51.100.9, 203.0.113.7" does not get it
#     out), while root from the forwarded client 198.51.100.9 and from the
#     proxy itself still logs in; 20 failures under any names make the
#     address wait for every name; the audit's login rows name the
#     forwarded addresses; a malformed header counts against the proxy's
#     address and is logged (debug);
#   - nothing trusted (the default): the header is ignored, the same 5
#     failures count against (root, 127.0.0.1) and hold up root for every
#     forwarded client (after --unlock-user cleared the first part's).
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" mosquitto curl sqlite3 python3 mosquitto_pub
PORT=$(free_port)
WPORT=$(free_port)
BASE=http://127.0.0.1:$WPORT
broker_start
conf() { # conf FILE HTTP-EXTRA
	cat >"$1" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$NAME, keepalive_s: 5, $HUB_AUTH}
http: {listen: "127.0.0.1:$WPORT"$2}
store: {sqlite: $WORK/hub.db}
evidence_dir: $WORK/ev
alerts: {mqtt: false}
EOC
}
conf "$WORK/direct.yaml" ""
conf "$WORK/proxy.yaml" ", trusted_proxies: [127.0.0.1, \"::1\"]"
conf "$WORK/bad.yaml" ", trusted_proxies: [127.0.0.1, 10.0.0.300]"

# ---- configuration ---------------------------------------------------------
"$HUB" --config "$WORK/direct.yaml" --check-config >"$WORK/check.log" 2>&1 || fail "--check-config: $(cat "$WORK/check.log")"
grep -qx '  trusted_proxies: \[\]' "$WORK/check.log" || fail "default trusted_proxies: $(cat "$WORK/check.log")"
"$HUB" --config "$WORK/proxy.yaml" --check-config >"$WORK/check.log" 2>&1 || fail "--check-config: $(cat "$WORK/check.log")"
grep -qx '  trusted_proxies: \["127.0.0.1", "::1"\]' "$WORK/check.log" || fail "trusted_proxies dump: $(cat "$WORK/check.log")"
"$HUB" --config "$WORK/bad.yaml" --check-config >"$WORK/bad.log" 2>&1 && fail "a bad proxy address was accepted"
grep -qF "$WORK/bad.yaml:2: http.trusted_proxies: '10.0.0.300' is not an IPv4 or IPv6 address" "$WORK/bad.log" ||
	fail "bad address error: $(cat "$WORK/bad.log")"

echo 'pw-root' | "$HUB" --config "$WORK/direct.yaml" --add-user root --role admin >"$WORK/admin.log" 2>&1 ||
	fail "--add-user"

RUN=0
hub_run() { # hub_run CONFIG: a new hub process, until it serves
	RUN=$((RUN + 1))
	hub_start "$1" "$WORK/hub$RUN.log" -vv
	grep -q "http: listening on 127.0.0.1:$WPORT" "$WORK/hub$RUN.log" || fail "hub run $RUN: no HTTP server"
}
# try XFF USER PASSWORD: a login as the proxy forwarding for XFF ("" = no
# header); prints the status
try() {
	local h=()
	[ -n "$1" ] && h=(-H "X-Forwarded-For: $1")
	curl -s -o "$WORK/out" -D "$WORK/hdr" -w '%{http_code}' -X POST "${h[@]}" \
		-H 'Content-Type: application/json' \
		-d "{\"user\": \"$2\", \"password\": \"$3\"}" "$BASE/api/login" || true
}
expect() { # STATUS XFF USER PASSWORD
	local got
	got=$(try "$2" "$3" "$4")
	[ "$got" = "$1" ] || fail "login $3 for '$2' -> $got, expected $1: $(head -c 200 "$WORK/out")"
}

# ---- 127.0.0.1 trusted ---------------------------------------------------------
hub_run "$WORK/proxy.yaml"
A=203.0.113.7
B=198.51.100.9
for i in 1 2 3 4 5; do
	expect 401 "$A" root "wrong$i"
done
expect 429 "$A" root wrong6
RA=$(grep -i '^Retry-After:' "$WORK/hdr" | cut -d' ' -f2 | tr -d '\r')
[ -n "$RA" ] && [ "$RA" -ge 1 ] && [ "$RA" -le 15 ] || fail "Retry-After '$RA'"
expect 429 "$A" root pw-root                  # the right password too
expect 429 "$B, $A" root pw-root              # a forged left part changes nothing
expect 429 "$A, 127.0.0.1" root pw-root       # the proxy itself is skipped
expect 401 "$B" b1 wrong                      # another client is not held up
expect 200 "$B" root pw-root                  # nor is root from elsewhere
expect 200 "" root pw-root                    # nor the proxy's own address
expect 429 "$B ,	$A ,::1, 127.0.0.1" root pw-root # spaces, tabs, trusted ones
# an address spraying names: 20 failures under any names hold it up
for i in $(seq 6 20); do
	expect 401 "$A" "a$i" wrong
done
expect 429 "$A" enf wrong
expect 401 "$B" enf wrong
[ "$(q "select count(*) from audit where action = 'login' and detail = 'failed' and object = '$A'")" = 20 ] ||
	fail "audit: failed logins of $A: $(q "select user, object, detail from audit where action = 'login'")"
[ "$(q "select count(*) from audit where action = 'login' and detail = 'ok' and user = 'root' and object = '$B'")" = 1 ] ||
	fail "audit: the login of root from $B: $(q "select user, object, detail from audit where action = 'login'")"
[ "$(q "select count(*) from audit where action = 'login' and object = '127.0.0.1'")" = 1 ] ||
	fail "audit: the proxy's own login: $(q "select user, object, detail from audit where action = 'login'")"
# malformed: the proxy's address, logged once at debug
for x in "$A:443" "unknown" "$A,,$B"; do
	expect 401 "$x" "m-$x" wrong
done
[ "$(q "select count(*) from audit where action = 'login' and detail = 'failed' and object = '127.0.0.1'")" = 3 ] ||
	fail "malformed headers did not count against the proxy: $(q "select user, object, detail from audit where action = 'login'")"
[ "$(grep -c 'X-Forwarded-For from the trusted proxy 127.0.0.1 is malformed' "$WORK/hub$RUN.log")" = 1 ] ||
	fail "the malformed header is not logged once: $(grep -i forwarded "$WORK/hub$RUN.log")"
hub_stop

# ---- nothing trusted: the header is ignored ----------------------------------------
q "delete from audit"
"$HUB" --config "$WORK/direct.yaml" --unlock-user root >>"$WORK/admin.log" 2>&1 || fail "--unlock-user"
hub_run "$WORK/direct.yaml"
for i in 1 2 3 4 5; do
	expect 401 "$A" root "c$i"
done
expect 429 "$B" root pw-root   # all of them came from 127.0.0.1
expect 429 "" root pw-root
expect 401 "$B" enf wrong      # another user is not held up
[ "$(q "select count(*) from audit where action = 'login' and object = '127.0.0.1'")" = 6 ] ||
	fail "audit without a trusted proxy: $(q "select user, object, detail from audit where action = 'login'")"
[ "$(q "select count(*) from audit where object = '$A'")" = 0 ] || fail "a forged address reached the audit"
hub_stop
echo "$NAME: ok"
