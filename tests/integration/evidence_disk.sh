#!/usr/bin/env bash
# evidence_disk.sh - a full disk and a read-only evidence folder must not
# stop detection (issue 3).
#
# The synthetic park_leave scene (--quick) is replayed once without evidence
# (the reference events), then with --evidence-dir on:
#   full      a 300 KiB tmpfs (smaller than one bundle), evidence.min_free_mb
#             0 so the store does not refuse up front: the clip and images
#             hit ENOSPC while being written;
#   floor     the same tmpfs with the default free-space floor (256 MiB): the
#             store refuses the bundle before writing anything;
#   readonly  a tmpfs remounted read-only: the store cannot be opened.
# Each run must exit 0, write the same events as the reference (incident
# ids compared without their per-run prefix), leave nothing that looks like
# a bundle (a folder without manifest.sig) and log the problem clearly: the
# reason from the system ("No space left on device", "Read-only file
# system") and that detection goes on.
#
# The tmpfs mounts need a user and mount namespace (unshare --user
# --map-root-user --mount); where that is not allowed the test is skipped
# (exit 77) with a message.
#
# Env: FL_BUILD_DIR (build tree with the programs).
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$EDGE" "$SCENE" unshare

if ! unshare --user --map-root-user --mount sh -c \
	"mount -t tmpfs -o size=300k tmpfs '$WORK'" 2>"$WORK/unshare.err"; then
	skip "cannot mount a tmpfs in a user namespace here ($(head -n 1 "$WORK/unshare.err")); the full-disk and read-only checks did not run"
fi

"$SCENE" --scenario park_leave --quick --classic --seed 1 --out "$WORK/sc" 2>"$WORK/scene.log" ||
	fail "firelane-scene failed"
CFG=$WORK/sc/park_leave.yaml
{ cat "$CFG"; printf 'evidence:\n  pre_roll_s: 6\n  post_roll_s: 4\n'; } >"$WORK/default.yaml"
{ cat "$CFG"; printf 'evidence:\n  pre_roll_s: 6\n  post_roll_s: 4\n  min_free_mb: 0\n'; } >"$WORK/nofloor.yaml"
sed -i "s|source: |source: $WORK/sc/|" "$WORK/default.yaml" "$WORK/nofloor.yaml"

# Incident ids carry the run's start time: compare events without it.
norm() { sed -E 's/"incident_id":"([^"]*)-[0-9a-f]+-(lane-[^"]*)"/"incident_id":"\1-X-\2"/g' "$1"; }

edge_run /dev/null "$WORK/ref.log" --config "$WORK/default.yaml" --replay \
	--source "$WORK/sc/park_leave.mp4" --events-out "$WORK/ref.jsonl"
grep -q '"type":"alarm"' "$WORK/ref.jsonl" || fail "the reference run has no alarm"

# run NAME CONFIG SETUP: replay inside a namespace with a 300 KiB tmpfs at
# WORK/mnt-NAME; SETUP is shell run after the mount (e.g. remount ro).
run() {
	local name=$1 cfg=$2 setup=$3 mnt=$WORK/mnt-$1 rc=0
	mkdir -p "$mnt"
	unshare --user --map-root-user --mount sh -c "
		mount -t tmpfs -o size=300k tmpfs '$mnt' && mkdir '$mnt/ev' && $setup &&
		'$EDGE' --config '$cfg' --replay --source '$WORK/sc/park_leave.mp4' \
			--events-out '$WORK/$name.jsonl' --evidence-dir '$mnt/ev' \
			2>'$WORK/$name.log'
		rc=\$?
		ls -la '$mnt/ev' >'$WORK/$name.ls' 2>&1
		for d in '$mnt'/ev/*/; do
			[ -d \"\$d\" ] || continue
			[ -f \"\$d/manifest.sig\" ] || echo \"\$d\" >>'$WORK/$name.half'
		done
		exit \$rc" || rc=$?
	[ "$rc" = 0 ] || fail "$name: firelane-edge exited $rc"
	[ -s "$WORK/$name.jsonl" ] || fail "$name: no events written"
	if ! diff <(norm "$WORK/ref.jsonl") <(norm "$WORK/$name.jsonl") >"$WORK/$name.diff"; then
		fail "$name: events differ from the run without evidence: $(head -n 5 "$WORK/$name.diff")"
	fi
	[ ! -s "$WORK/$name.half" ] || fail "$name: a half bundle is visible: $(cat "$WORK/$name.half")"
	grep -q "detection goes on" "$WORK/$name.log" ||
		fail "$name: the log does not say that detection goes on"
}

run full "$WORK/nofloor.yaml" true
grep -q "No space left on device" "$WORK/full.log" ||
	fail "full: the log does not name the full disk"
echo "evidence_disk: full disk: $(grep -m1 'No space' "$WORK/full.log")"

run floor "$WORK/default.yaml" true
grep -Eq "evidence store full|less than|free" "$WORK/floor.log" ||
	fail "floor: the log does not say the store is full"
echo "evidence_disk: free-space floor: $(grep -m1 -E 'store full|free' "$WORK/floor.log")"

run readonly "$WORK/default.yaml" "mount -o remount,ro '$WORK/mnt-readonly'"
grep -q "Read-only file system" "$WORK/readonly.log" ||
	fail "readonly: the log does not name the read-only folder"
echo "evidence_disk: read-only: $(grep -m1 'Read-only' "$WORK/readonly.log")"
echo "evidence_disk: ok"
