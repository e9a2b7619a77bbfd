#!/bin/sh
# format.sh [--check] [FILE...] - clang-format over the C and C++ sources
# (src/, tests/, firmware/; or the FILEs given), with the project's
# .clang-format. Without --check the files are rewritten (make format);
# with it nothing changes and the exit status is 1 when a file is not
# formatted, each difference shown (the style.format test of make test).
#
# Only clang-format 14 (Debian 12's; scripts/deps.sh installs it) is used:
# another version formats some constructs differently, so it would report
# differences that are not there. Without it --check exits 77 (skipped) and
# says so.
set -eu
cd "$(dirname "$0")/.."

check=0
if [ "${1:-}" = --check ]; then
	check=1
	shift
fi

CF=
for c in clang-format-14 clang-format; do
	if command -v "$c" >/dev/null 2>&1 &&
		"$c" --version | grep -q ' version 14\.'; then
		CF=$c
		break
	fi
done
if [ -z "$CF" ]; then
	echo "format: clang-format 14 not found (scripts/deps.sh installs it)" >&2
	[ "$check" = 1 ] && exit 77
	exit 1
fi

if [ $# = 0 ]; then
	set -- $(find src tests firmware -path tests/fuzz/corpus -prune -o \
		-type f \( -name '*.c' -o -name '*.h' -o -name '*.cpp' \) -print |
		LC_ALL=C sort)
fi
if [ "$check" = 0 ]; then
	exec "$CF" -i --style=file "$@"
fi
# --dry-run -Werror names each place; the diff shows what it wants instead.
if "$CF" --dry-run -Werror --style=file "$@" 2>"${TMPDIR:-/tmp}/format.$$"; then
	rm -f "${TMPDIR:-/tmp}/format.$$"
	echo "format: $# files formatted"
	exit 0
fi
n=$(grep -c ': error: code should be clang-formatted' "${TMPDIR:-/tmp}/format.$$" || true)
rm -f "${TMPDIR:-/tmp}/format.$$"
for f in "$@"; do
	"$CF" --style=file "$f" | diff -u "$f" - | sed "s|^--- $f|--- $f (as it is)|; s|^+++ -|+++ $f (formatted)|" || true
done | head -n 200
echo "format: $n places not formatted (make format applies .clang-format)" >&2
exit 1
