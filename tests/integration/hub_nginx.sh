#!/usr/bin/env bash
# hub_nginx.sh - the documented reverse-proxy set-up (docs/deploy-nginx.md)
# with Debian's nginx, started here on a free port with the site file taken
# from that page (ports, certificate and paths replaced), HTTPS with a
# self-signed certificate, a real hub and mosquitto; each client on its own
# loopback address, as nginx sees it:
#   - the UI and the API answer through nginx; a login sets a Secure cookie;
#   - X-Forwarded-For: five wrong passwords for root from 127.0.0.3 make
#     root wait there (429) while root logs in from 127.0.0.2 (without
#     trusted_proxies both would be 127.0.0.1); the audit names the
#     clients' addresses, a forged left part of the header is ignored;
#   - a slow-loris from one client (64 connections, one header line every
#     3 s) is closed by nginx's client_header_timeout and never reaches the
#     hub, while another client is answered all along;
#   - 48 logins at once from three clients (16 each, nginx's limit_conn) are
#     all answered: the hub holds more than 32 connections from nginx's one
#     address at once, which its per-address limit must not refuse for a
#     trusted proxy (before, the 33rd and later answered 502).
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" mosquitto curl python3 sqlite3 openssl jq
PORT=$(free_port)
WPORT=$(free_port)
NPORT=$(free_port)
BASE=https://127.0.0.1:$NPORT
broker_start
cat >"$WORK/hub.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$NAME, keepalive_s: 5, $HUB_AUTH}
http: {listen: "127.0.0.1:$WPORT", trusted_proxies: [127.0.0.1]}
store: {sqlite: $WORK/hub.db}
evidence_dir: $WORK/ev
public_url: https://127.0.0.1:$NPORT
alerts: {mqtt: false}
EOC
echo 'pw-root' | "$HUB" --config "$WORK/hub.yaml" --add-user root --role admin >"$WORK/cli.log" 2>&1 ||
	fail "--add-user: $(cat "$WORK/cli.log")"
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -v

# ---- nginx with the site file of docs/deploy-nginx.md ------------------------------
nginx_start "$WPORT"

# curl through nginx from address FROM; prints the status
through() {
	local from=$1
	shift
	curl -sk --interface "$from" -o "$WORK/out" -D "$WORK/hdr" -w '%{http_code}' --max-time 10 "$@" || true
}
login() { web_login_from "$@" -H "Origin: $BASE"; } # FROM USER PASSWORD [curl args]
[ "$(through 127.0.0.2 "$BASE/api/session")" = 401 ] || fail "GET /api/session through nginx: $(cat "$WORK/out")"
[ "$(through 127.0.0.2 "$BASE/login")" = 200 ] || fail "the UI through nginx"
[ "$(login 127.0.0.2 root pw-root)" = 200 ] || fail "login through nginx: $(cat "$WORK/out")"
grep -i '^Set-Cookie: fl_session=' "$WORK/hdr" | grep -q '; Secure' || fail "no Secure cookie: $(cat "$WORK/hdr")"

# ---- X-Forwarded-For: the login throttle per client ----------------------------------
for i in 1 2 3 4 5; do
	[ "$(login 127.0.0.3 root "guess$i" -H 'X-Forwarded-For: 127.0.0.2')" = 401 ] || fail "guess $i: $(cat "$WORK/out")"
done
[ "$(login 127.0.0.3 root pw-root)" = 429 ] || fail "the guesser is not held up: $(cat "$WORK/out")"
[ "$(login 127.0.0.2 root pw-root)" = 200 ] || fail "root is locked out behind nginx: $(cat "$WORK/out")"
[ "$(q "select count(*) from audit where action = 'login' and detail = 'failed' and object = '127.0.0.3'")" = 5 ] ||
	fail "audit: $(q "select user, object, detail from audit where action = 'login'")"
[ "$(q "select count(*) from audit where action = 'login' and object = '127.0.0.1'")" = 0 ] ||
	fail "the proxy's address reached the audit: $(q "select user, object, detail from audit where action = 'login'")"

# ---- a slow-loris against nginx ---------------------------------------------------------
loris_start --tls --port "$NPORT" --sources 127.0.0.4 --per-source 64 --interval 3 --duration 25
for i in $(seq 6); do
	[ "$(through 127.0.0.2 "$BASE/api/session")" = 401 ] || fail "request $i during the slow-loris: $(cat "$WORK/out")"
	sleep 2
done
wait $LPID || fail "slowloris.py: $(cat "$WORK/loris.log")"
python3 - "$WORK/loris.json" <<'EOP' || fail "slow connections: $(cat "$WORK/loris.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["opened"] == 64 and r["open_at_end"] == 0, r
assert max(r["closed"]) <= 10 + 4, "held past client_header_timeout: %s" % r["closed"]
EOP
grep -q 'no whole request within' "$WORK/hub.log" && fail "a slow request reached the hub through nginx"

# ---- many requests at once from nginx's one address ---------------------------------------
python3 - "$NPORT" "$BASE" >"$WORK/burst.log" 2>&1 <<'EOP' || fail "a burst through nginx: $(cat "$WORK/burst.log")"
import concurrent.futures, http.client, json, ssl, sys
port, base = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
body = json.dumps({"user": "root", "password": "pw-root"})
def one(src):
    c = http.client.HTTPSConnection("127.0.0.1", port, timeout=120, context=ctx, source_address=(src, 0))
    c.request("POST", "/api/login", body, {"Content-Type": "application/json", "Origin": base})
    return c.getresponse().status
srcs = ["127.0.0.%d" % (5 + i % 3) for i in range(48)]
with concurrent.futures.ThreadPoolExecutor(48) as ex:
    codes = list(ex.map(one, srcs))
print("statuses:", sorted(codes))
assert codes == [200] * 48, codes
EOP
grep -q 'statuses' "$WORK/burst.log" || fail "no burst"
[ "$(through 127.0.0.2 "$BASE/api/session")" = 401 ] || fail "not answered at the end"
hub_stop
echo "$NAME: ok"
