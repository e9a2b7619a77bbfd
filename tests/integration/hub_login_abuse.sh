#!/usr/bin/env bash
# hub_login_abuse.sh - the login under attack (docs/security.md, "5. The
# web server under abuse") against a real hub and mosquitto, with curl from
# several loopback addresses (127.0.0.2 the admin, 127.0.0.3 the attacker;
# the hub sees each as its own client):
#   - lock-out: five and then fifteen wrong passwords for root from the
#     attacker make root wait there (429, the right password too, the wait
#     doubling), while root logs in from 127.0.0.2 every time - the admin
#     cannot be locked out; after the wait the attacker may try once more
#     and waits twice as long; the counts are in the store, so a restarted
#     hub keeps them; firelane-hub --unlock-user root forgets them (the
#     attacker's next try is a 401 again), audited as cli/user_unlock, and
#     an unknown name is refused.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" mosquitto curl sqlite3 python3 jq
ADMIN=127.0.0.2
EVIL=127.0.0.3
broker_start
web_hub_conf "$WORK/hub.yaml"
admin() { "$HUB" --config "$WORK/hub.yaml" "$@" >>"$WORK/admin.log" 2>&1; }
echo 'pw-root' | admin --add-user root --role admin || fail "--add-user"
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -v

retry_after() {
	grep -i '^Retry-After:' "$WORK/hdr" | cut -d' ' -f2 | tr -d '\r'
}

# ---- lock-out: the attacker cannot lock the admin out ------------------------
for i in 1 2 3 4 5; do
	web_login_expect 401 $EVIL root "guess$i"
done
web_login_expect 200 $ADMIN root pw-root # the right password from elsewhere
web_login_expect 429 $EVIL root guess6
RA=$(retry_after)
[ "$RA" -ge 10 ] && [ "$RA" -le 15 ] || fail "first wait '$RA', expected 15 s"
web_login_expect 429 $EVIL root pw-root # the right password from there waits too
web_login_expect 200 $ADMIN root pw-root
# the wait is per (user, address): another address is not held up
for i in $(seq 10); do
	web_login_expect 429 $EVIL root "more$i"
	web_login_expect 200 $ADMIN root pw-root
done
# after the wait: one more try, then twice as long
sleep "$((RA + 1))"
web_login_expect 401 $EVIL root guess7
web_login_expect 429 $EVIL root guess8
RA2=$(retry_after)
[ "$RA2" -gt 15 ] && [ "$RA2" -le 30 ] || fail "second wait '$RA2', expected 30 s"
[ "$(q "select failures from login_failures where user = 'root' and addr = '$EVIL'")" = 6 ] ||
	fail "store: $(q "select * from login_failures")"

# the counts outlive the hub
hub_stop
hub_start "$WORK/hub.yaml" "$WORK/hub2.log" -v
web_login_expect 429 $EVIL root pw-root
web_login_expect 200 $ADMIN root pw-root

# --unlock-user forgets them, audited
admin --unlock-user nobody && fail "--unlock-user of an unknown user succeeded"
grep -q -- "--unlock-user nobody: no such user" "$WORK/admin.log" || fail "unknown user: $(tail -n 1 "$WORK/admin.log")"
admin --unlock-user root || fail "--unlock-user root: $(tail -n 1 "$WORK/admin.log")"
grep -q "user root unlocked (failed logins from 1 address forgotten)" "$WORK/admin.log" ||
	fail "--unlock-user said: $(tail -n 1 "$WORK/admin.log")"
web_login_expect 401 $EVIL root guess9
web_login_expect 200 $EVIL root pw-root
[ "$(q "select count(*) from audit where user = 'cli' and action = 'user_unlock' and object = 'root'")" = 1 ] ||
	fail "no audit row for the unlock: $(q "select user, action, object, detail from audit where user = 'cli'")"
hub_stop
echo "$NAME: ok"
