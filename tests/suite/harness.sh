#!/usr/bin/env bash
# suite/harness.sh - the integration harness (tests/integration/lib/
# harness.sh) keeps its promises: a suite that cleans up after itself only
# if the cleaning is itself tested.
#
# Small test scripts are written into the work folder and run as ctest runs
# a test (bash SCRIPT, from this process, in this process group). Each one
# sources the harness and misbehaves in one way; checked is its exit status,
# what it printed, and that nothing it started still runs:
#   - a process started and forgotten (a child, an orphan of a double fork,
#     one in a session of its own by setsid): the script passes its own
#     checks but fails, naming the process, which is killed;
#   - a tracked process still running at the end: killed, not blamed;
#   - its logs: printed when it fails, not when it passes or skips (77);
#   - FL_TEST_DEADLINE_S: a script stuck past it fails within seconds,
#     "timed out", its logs printed, its processes gone;
#   - its work folder is removed whatever the outcome.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/../integration/lib/harness.sh"
LIB=$SRC/tests/integration/lib/harness.sh

# child NAME BODY: a test script WORK/NAME.sh sourcing the harness, then
# BODY. It writes the pids it starts to WORK/NAME.pids and its WORK folder
# to WORK/NAME.work.
child() {
	cat >"$WORK/$1.sh" <<EOS
set -eu
. "$LIB"
echo "\$WORK" >"$WORK/$1.work"
echo "a line of $1's log" >"\$WORK/$1.log"
$2
EOS
}

# run NAME [ENV...]: run the script, its stderr to WORK/NAME.err; RC, SECS.
run() {
	local name=$1 t0
	shift
	t0=$(date +%s)
	RC=0
	env "$@" bash "$WORK/$name.sh" >"$WORK/$name.out" 2>"$WORK/$name.err" || RC=$?
	SECS=$(($(date +%s) - t0))
}

# expect NAME RC [PATTERN [NOT-PATTERN]]: its exit status, stderr (grep -E),
# no process of those it started still running, its folder gone.
expect() {
	local name=$1 p
	[ "$RC" = "$2" ] || fail "$name: exit status $RC, want $2: $(cat "$WORK/$name.err")"
	[ -z "${3:-}" ] || grep -qE "$3" "$WORK/$name.err" ||
		fail "$name: stderr lacks '$3': $(cat "$WORK/$name.err")"
	[ -z "${4:-}" ] || ! grep -qE "$4" "$WORK/$name.err" ||
		fail "$name: stderr has '$4': $(cat "$WORK/$name.err")"
	for p in $(cat "$WORK/$name.pids" 2>/dev/null); do
		wait_gone "$p" 5 || fail "$name: process $p still runs: $(ps -o args= -p "$p")"
	done
	[ -s "$WORK/$name.work" ] || fail "$name: did not start"
	[ ! -e "$(cat "$WORK/$name.work")" ] || fail "$name: its WORK folder stayed"
	echo "$NAME: $name: exit $RC as it should, in $SECS s"
}

child clean 'sleep 300 & track $!; echo $! >>'"$WORK/clean.pids"
run clean
expect clean 0 "" "left behind|a line of clean"

child forgot 'sleep 301 & echo $! >>'"$WORK/forgot.pids"
run forgot
expect forgot 1 "processes left behind"
grep -q "sleep 301" "$WORK/forgot.err" || fail "forgot: the process is not named"

child orphan '( sleep 302 & echo $! >>'"$WORK/orphan.pids"' )'
run orphan
expect orphan 1 "sleep 302"

child session 'setsid sleep 303 & echo $! >>'"$WORK/session.pids"
run session
expect session 1 "sleep 303"

child failing 'fail "on purpose"'
run failing
expect failing 1 "failing: FAIL: on purpose" "left behind"
grep -q "a line of failing's log" "$WORK/failing.err" || fail "failing: its log was not printed"

child skipping 'skip "nothing to do here"'
run skipping
expect skipping 77 "SKIPPED: nothing to do here" "a line of skipping"

child stuck 'sleep 304 & track $!; echo $! >>'"$WORK/stuck.pids"'
sleep 305'
run stuck FL_TEST_DEADLINE_S=2
expect stuck 1 "timed out" "left behind"
grep -q "a line of stuck's log" "$WORK/stuck.err" || fail "stuck: its log was not printed"
[ "$SECS" -le 60 ] || fail "stuck: ended after $SECS s, the deadline was 2 s"
echo "$NAME: ok"
