#!/bin/sh
# check-man.sh - the man pages (docs/man/*.8, roff; docs/packaging.md):
#   - groff -man -ww finds no undefined macro, bad escape or other fault
#     (it says so on stderr only; its status stays 0);
#   - every long option of a daemon's option table (src/edge/main.c,
#     src/hub/main.c: the `{ "name", ...` lines) is in its page, so a new
#     option cannot ship undocumented. --help is the exception.
# style.man in make test runs it; exit 77 (skipped) without groff.
set -eu
cd "$(dirname "$0")/.."
command -v groff >/dev/null || { echo "groff not installed (scripts/deps.sh)"; exit 77; }
rc=0
out=$(groff -man -ww -z docs/man/*.8 2>&1)
[ -z "$out" ] || { echo "$out"; rc=1; }
for pair in edge:src/edge/main.c hub:src/hub/main.c; do
	page=docs/man/firelane-${pair%%:*}.8
	for opt in $(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)",.*/\1/p' "${pair#*:}"); do
		[ "$opt" = help ] && continue
		# in roff a dash is written \-
		grep -qF -- "\\-\\-$opt" "$page" || {
			echo "$page: no --$opt (${pair#*:} has it)"
			rc=1
		}
	done
done
exit $rc
