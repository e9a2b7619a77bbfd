#!/usr/bin/env bash
# hub_login_csrf.sh - login CSRF (docs/security.md, "5. The web server
# under abuse"): no page of another site can log a browser into an account
# of its choosing. Against a real hub and mosquitto with curl sending what a
# browser would:
#   - the login a form on another site can send (text/plain, form-encoded
#     or multipart, the JSON in its body) answers 415 and sets no cookie;
#   - JSON with another site's Origin (also "null", or a look-alike host),
#     or with only its Referer, answers 403 and sets no cookie;
#   - the hub's own Origin or Referer (its address, or public_url) and no
#     Origin at all (a script) log in; the refusal is logged.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" mosquitto curl jq
ADMIN=127.0.0.2
broker_start
web_hub_conf "$WORK/hub.yaml" "public_url: https://hub.example.org"
admin() { "$HUB" --config "$WORK/hub.yaml" "$@" >>"$WORK/admin.log" 2>&1; }
echo 'pw-root' | admin --add-user root --role admin || fail "--add-user"
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -v

# ---- login CSRF ----------------------------------------------------------------
# what a form on another site sends: its body is ours to choose, but its
# type is text/plain, form-encoded or multipart, and Origin is that site
csrf() { # TYPE: a cross-site form's login as the attacker's own account
	curl -s --interface $ADMIN -o "$WORK/out" -D "$WORK/hdr" -w '%{http_code}' -X POST \
		-H "Content-Type: $1" -H 'Origin: http://evil.example' \
		--data-binary '{"user": "root", "password": "pw-root", "x": "="}' "$BASE/api/login" || true
}
for t in text/plain application/x-www-form-urlencoded 'multipart/form-data; boundary=x'; do
	got=$(csrf "$t")
	[ "$got" = 415 ] || fail "a cross-site form ($t) -> $got: $(head -c 200 "$WORK/out")"
	grep -qi '^Set-Cookie' "$WORK/hdr" && fail "a cross-site form ($t) got a cookie"
done
web_login_expect 403 $ADMIN root pw-root -H 'Origin: http://evil.example'
grep -qi '^Set-Cookie' "$WORK/hdr" && fail "another origin got a cookie"
web_login_expect 403 $ADMIN root pw-root -H 'Origin: null'
web_login_expect 403 $ADMIN root pw-root -H 'Referer: http://evil.example/login'
web_login_expect 403 $ADMIN root pw-root -H "Origin: http://127.0.0.1:$WPORT.evil.example"
web_login_expect 200 $ADMIN root pw-root -H "Origin: http://127.0.0.1:$WPORT"
web_login_expect 200 $ADMIN root pw-root -H "Referer: http://127.0.0.1:$WPORT/login?next=/incidents"
web_login_expect 200 $ADMIN root pw-root -H 'Origin: https://hub.example.org' # public_url
web_login_expect 200 $ADMIN root pw-root                                     # a script
grep -qi '^Set-Cookie: fl_session=' "$WORK/hdr" || fail "no cookie for a good login"
grep -q "login from another origin refused" "$WORK/hub.log" || fail "the refusal is not logged"
hub_stop
echo "$NAME: ok"
