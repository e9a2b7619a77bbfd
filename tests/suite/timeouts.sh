#!/usr/bin/env bash
# suite/timeouts.sh CTEST BUILD_DIR - every test ctest knows in BUILD_DIR has
# a TIMEOUT. ctest has no default: a test without one that hangs holds the
# whole suite (and CI) until someone notices.
#
# The check reads `ctest --show-only=json-v1`. It is first run on a small
# CMake project made here with one test lacking a timeout, which it must
# reject (so a broken check cannot pass the real suite).
set -eu
. "$(dirname "$0")/../integration/lib/harness.sh"
CTEST=$1
need "$CTEST" cmake python3

# untimed DIR: the tests of the build DIR without a TIMEOUT, one a line.
untimed() {
	(cd "$1" && "$CTEST" --show-only=json-v1) >"$WORK/tests.json" ||
		fail "ctest --show-only=json-v1 in $1"
	python3 - "$WORK/tests.json" <<'EOP'
import json, sys
tests = json.load(open(sys.argv[1]))["tests"]
if not tests:
    sys.exit("no tests listed")
for t in tests:
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    if not float(props.get("TIMEOUT", 0)) > 0:
        print(t["name"])
EOP
}

mkdir -p "$WORK/probe"
cat >"$WORK/probe/CMakeLists.txt" <<'EOC'
cmake_minimum_required(VERSION 3.18)
project(probe NONE)
enable_testing()
add_test(NAME timed COMMAND true)
set_tests_properties(timed PROPERTIES TIMEOUT 5)
add_test(NAME untimed COMMAND true)
EOC
cmake -S "$WORK/probe" -B "$WORK/probe/build" >"$WORK/probe.log" 2>&1 || fail "cmake of the probe project"
[ "$(untimed "$WORK/probe/build")" = untimed ] ||
	fail "the check does not see the probe's test without a timeout"

bad=$(untimed "$2")
[ -z "$bad" ] || fail "tests without a TIMEOUT: $(echo $bad)"
echo "$NAME: every test of $2 has a timeout"
