#!/usr/bin/env bash
# layout.sh - what cmake --install puts where (docs/packaging.md, "What is
# installed where"), into a DESTDIR under WORK, from this build's own
# prefix and unit folders (CMakeCache.txt; make install's, or /usr for the
# packages):
#   - exactly the files of the table: the programs, both configurations,
#     the units, the sysusers.d entries, the man pages; nothing else;
#   - the units start the installed programs with /etc/firelane's files;
#   - the installed configurations load (--check-config) with no relative
#     state path: the units keep /etc/firelane read-only;
#   - installing again keeps an edited configuration and puts the new one
#     beside it as .new (what make install does on an upgrade).
# The packages themselves: tests/install/packages.sh (make test-packages).
# Env: FL_BUILD_DIR.
set -eu
. "$(dirname "$0")/../integration/lib/harness.sh"
need "$EDGE" "$HUB" "$VERIFY"
cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }
P=$(cache CMAKE_INSTALL_PREFIX)
UNITS=$(cache FL_UNITDIR)
SYSUSERS=$(cache FL_SYSUSERSDIR)
[ -n "$P" ] && [ -n "$UNITS" ] && [ -n "$SYSUSERS" ] || fail "no prefix or unit folders in $BUILD/CMakeCache.txt"
D=$WORK/dest
DESTDIR=$D cmake --install "$BUILD" >"$WORK/install.log" 2>&1 || fail "cmake --install: $(tail -n 5 "$WORK/install.log")"

sort >"$WORK/want" <<EOL
$P/bin/firelane-backup
$P/bin/firelane-edge
$P/bin/firelane-hub
$P/bin/firelane-verify
$P/share/man/man8/firelane-edge.8.gz
$P/share/man/man8/firelane-hub.8.gz
$SYSUSERS/firelane-edge.conf
$SYSUSERS/firelane-hub.conf
$UNITS/firelane-edge.service
$UNITS/firelane-hub.service
/etc/firelane/edge.yaml
/etc/firelane/hub.yaml
EOL
(cd "$D" && find . -type f -o -type l) | sed 's|^\.||' | sort >"$WORK/got"
diff "$WORK/want" "$WORK/got" >"$WORK/diff.txt" || fail "installed files differ (- missing, + extra): $(cat "$WORK/diff.txt")"

[ -x "$D$P/bin/firelane-backup" ] || fail "firelane-backup is not executable"
for f in edge hub; do
	grep -qx "ExecStart=$P/bin/firelane-$f --config /etc/firelane/$f.yaml" "$D$UNITS/firelane-$f.service" ||
		fail "firelane-$f.service: $(grep ExecStart "$D$UNITS/firelane-$f.service") (the installed program expected)"
	[ "$(stat -c %a "$D/etc/firelane/$f.yaml")" = 640 ] || fail "/etc/firelane/$f.yaml: mode $(stat -c %a "$D/etc/firelane/$f.yaml")"
	zcat "$D$P/share/man/man8/firelane-$f.8.gz" | grep -q '^\.TH FIRELANE' || fail "firelane-$f(8) is no man page"
	if grep -nE '^ *[a-z_]*(dir|file): "[^/"]' "$D/etc/firelane/$f.yaml" >"$WORK/rel.txt"; then
		fail "/etc/firelane/$f.yaml: a relative state path: $(cat "$WORK/rel.txt")"
	fi
done
"$D$P/bin/firelane-edge" --config "$D/etc/firelane/edge.yaml" --check-config >/dev/null 2>"$WORK/check.log" ||
	fail "the installed edge.yaml is refused: $(cat "$WORK/check.log")"
"$D$P/bin/firelane-hub" --config "$D/etc/firelane/hub.yaml" --check-config >/dev/null 2>"$WORK/check.log" ||
	fail "the installed hub.yaml is refused: $(cat "$WORK/check.log")"

# an upgrade: the administrator's file stays, the new one beside it
echo "# the administrator's" >>"$D/etc/firelane/edge.yaml"
cp "$D/etc/firelane/edge.yaml" "$WORK/edited.yaml"
DESTDIR=$D cmake --install "$BUILD" >"$WORK/install.log" 2>&1 || fail "cmake --install (again): $(tail -n 5 "$WORK/install.log")"
cmp -s "$D/etc/firelane/edge.yaml" "$WORK/edited.yaml" || fail "a second install replaced the edited edge.yaml"
[ -f "$D/etc/firelane/edge.yaml.new" ] || fail "no edge.yaml.new beside the edited one"
grep -q "Kept: /etc/firelane/edge.yaml" "$WORK/install.log" || fail "cmake --install did not say it kept edge.yaml"
echo "layout: ok ($P, units in $UNITS)"
