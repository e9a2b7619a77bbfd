#!/bin/sh
# check-commits.sh [RANGE] - every commit subject in RANGE is at most 72
# characters (CONTRIBUTING.md). RANGE defaults to the commits of this branch
# that main does not have (origin/main, else main); run by .ci/run. Outside
# a git clone, or with no main to compare with, it says so and passes.
set -eu
cd "$(dirname "$0")/.."
if ! git rev-parse --git-dir >/dev/null 2>&1; then
	echo "check-commits: not a git clone: nothing to check"
	exit 0
fi
range=${1:-}
if [ -z "$range" ]; then
	for base in origin/main main; do
		if git rev-parse -q --verify "$base^{commit}" >/dev/null; then
			range=$base..HEAD
			break
		fi
	done
fi
if [ -z "$range" ]; then
	echo "check-commits: no main branch to compare with: nothing to check"
	exit 0
fi
long=$(git log --no-merges --format='%h %s' "$range" | awk '
	{ s = $0; sub(/^[^ ]+ /, "", s) }
	length(s) > 72 { printf "  %s (%d characters)\n", $0, length(s) }')
n=$(git rev-list --no-merges --count "$range")
if [ -n "$long" ]; then
	echo "check-commits: subjects longer than 72 characters in $range:" >&2
	echo "$long" >&2
	exit 1
fi
echo "check-commits: $n commit subjects in $range, none over 72 characters"
