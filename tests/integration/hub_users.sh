#!/usr/bin/env bash
# hub_users.sh - user names and removing users (docs/security.md, "5. The
# web server under abuse"), against a real hub and mosquitto with curl:
#   - the user name rule through the API and the CLI: '/', controls, a zero
#     width space, a right-to-left override, 65 characters refused with the
#     reason; Chinese and accented names taken; look-alikes of root (Root,
#     r00t, Cyrillic o, full width) refused, naming root;
#   - every user can be removed: one stored before the rule with a '/' in
#     its name (written into the store directly) through DELETE
#     /api/users?name= and another with --delete-user; a user removed with
#     --delete-user while the hub runs has no session row left in the store
#     and loses their session at the next request, and one removed and added again does not get the old session
#     back; each removal audited (user_delete, by the admin or cli).
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" mosquitto curl sqlite3 python3 jq
broker_start
web_hub_conf "$WORK/hub.yaml"
cli() { "$HUB" --config "$WORK/hub.yaml" "$@" >"$WORK/cli.log" 2>&1; }
echo 'pw-root' | cli --add-user root --role admin || fail "--add-user root: $(cat "$WORK/cli.log")"
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -v

TOK=$(web_login root pw-root)
as_root() { web_as root "$TOK" "$@"; } # METHOD PATH [BODY]
add() { # NAME: POST /api/users as root; prints the status
	as_root POST /api/users "$(jq -cn --arg n "$1" '{name: $n, password: "pw-x", role: "enforcement"}')"
}

# ---- the rule, through the API and the CLI ---------------------------------
refused() { # NAME REASON
	local got
	got=$(add "$1")
	[ "$got" = 400 ] || fail "API: '$1' -> $got $(cat "$WORK/out")"
	grep -qF "$2" "$WORK/out" || fail "API: '$1': $(cat "$WORK/out")"
	echo pw | cli --add-user "$1" --role enforcement && fail "CLI: '$1' was taken"
	grep -qF "$2" "$WORK/cli.log" || fail "CLI: '$1': $(cat "$WORK/cli.log")"
}
refused 'a/b' "no '/'"
refused "$(printf 'a\tb')" 'no control'
refused "$(printf 'ro\u200bot')" 'no control, format'
refused "$(printf 'adm\u202ein')" 'no control, format'
refused "$(printf 'a%.0s' $(seq 65))" 'more than 64 characters'
refused ' root' 'no space first'
refused 'Root' "looks like the existing user 'root'"
refused 'r00t' "looks like the existing user 'root'"
refused "$(printf 'r\u043e\u043et')" "looks like the existing user 'root'"
refused "$(printf '\uff52\uff4f\uff4f\uff54')" "looks like the existing user 'root'"
for n in 张伟 '王 小明' José.García 'o'"'"'brien'; do
	[ "$(add "$n")" = 200 ] || fail "API: '$n' refused: $(cat "$WORK/out")"
done
echo pw | cli --add-user 李娜 --role property --sites s1 || fail "CLI: 李娜 refused: $(cat "$WORK/cli.log")"
refused 张伟 "exists"

# ---- every user can be removed -----------------------------------------------
# a name stored before the rule: its '/' cannot be in a path
q "insert into users (name, hash, role, sites, created) values ('ops/night', 'x', 'admin', '', 1)"
q "insert into users (name, hash, role, sites, created) values ('bell$(printf '\a')', 'x', 'admin', '', 1)"
[ "$(as_root DELETE /api/users/ops%2Fnight)" = 404 ] || fail "a '/' in the path: $(cat "$WORK/out")"
[ "$(as_root DELETE '/api/users?name=ops%2Fnight')" = 200 ] || fail "DELETE ?name=: $(cat "$WORK/out")"
[ "$(q "select count(*) from users where name = 'ops/night'")" = 0 ] || fail "ops/night is still there"
[ "$(as_root DELETE '/api/users?name=ops%2Fnight')" = 404 ] || fail "removed twice: $(cat "$WORK/out")"
[ "$(as_root DELETE '/api/users')" = 400 ] || fail "DELETE /api/users without a name: $(cat "$WORK/out")"
cli --delete-user "bell$(printf '\a')" || fail "--delete-user of a name with a control: $(cat "$WORK/cli.log")"
cli --delete-user nobody && fail "--delete-user of an unknown user succeeded"
grep -q 'no such user' "$WORK/cli.log" || fail "unknown user: $(cat "$WORK/cli.log")"

# a user removed by the CLI while the hub runs loses their session
T2=$(web_login 张伟 pw-x)
code=$(curl -s -b "$WORK/jar-张伟" -o "$WORK/out" -w '%{http_code}' "$BASE/api/session")
[ "$code" = 200 ] || fail "张伟's session: $code"
cli --delete-user 张伟 || fail "--delete-user 张伟: $(cat "$WORK/cli.log")"
grep -q 'user 张伟 deleted' "$WORK/cli.log" || fail "--delete-user said: $(cat "$WORK/cli.log")"
# the session rows went with the user, before any request of theirs
[ "$(q "select count(*) from sessions where user = '张伟'")" = 0 ] ||
	fail "--delete-user left 张伟's sessions in the store: $(q "select count(*) from sessions where user = '张伟'")"
code=$(curl -s -b "$WORK/jar-张伟" -o "$WORK/out" -w '%{http_code}' "$BASE/api/session")
[ "$code" = 401 ] || fail "the deleted user's session still answers $code"
code=$(curl -s -b "$WORK/jar-张伟" -o "$WORK/out" -w '%{http_code}' -X POST -H "X-CSRF-Token: $T2" "$BASE/api/logout")
[ "$code" = 401 ] || fail "the deleted user's session still posts: $code"
# removed and added again: a new person, the old session stays dead
T3=$(web_login José.García pw-x)
[ "$(as_root DELETE '/api/users/Jos%C3%A9.Garc%C3%ADa')" = 200 ] || fail "API delete: $(cat "$WORK/out")"
[ "$(add José.García)" = 200 ] || fail "re-add: $(cat "$WORK/out")"
code=$(curl -s -b "$WORK/jar-José.García" -o "$WORK/out" -w '%{http_code}' "$BASE/api/session")
[ "$code" = 401 ] || fail "an old session of a re-added name answers $code"
[ "$(q "select count(*) from audit where action = 'user_delete' and user = 'cli'")" = 2 ] ||
	fail "CLI removals not audited: $(q "select user, action, object from audit where action = 'user_delete'")"
[ "$(q "select count(*) from audit where action = 'user_delete' and user = 'root'")" = 2 ] ||
	fail "API removals not audited: $(q "select user, action, object from audit where action = 'user_delete'")"

hub_stop
echo "$NAME: ok"
