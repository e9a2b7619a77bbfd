#!/bin/bash
# verify_cli.sh - firelane-verify as a person at the hub runs it: exit codes
# and messages on a good bundle, a pinned key given as base64 and as a file,
# a bundle from another device, tampered copies, and usage errors.
#
# The bundles come from the unit test binary's helper mode
# ($FL_BUILD_DIR/tests/test_bundle --make-bundle DIR), which seals a sample
# bundle with the library exactly as the edge does.
#
# Env: FL_BUILD_DIR (build dir holding firelane-verify and tests/test_bundle).
set -u
. "$(dirname "$0")/lib/harness.sh"
MAKE=$BUILD/tests/test_bundle
fails=0

# wrong MESSAGE: a check failed; the others still run.
wrong() {
	echo "$NAME: FAIL: $*" >&2
	fails=$((fails + 1))
}

# run WANT_RC WANT_PATTERN ARGS...: firelane-verify's exit code and output.
run() {
	local want_rc=$1 want=$2 out rc
	shift 2
	out=$("$VERIFY" "$@" 2>&1)
	rc=$?
	[ "$rc" = "$want_rc" ] || wrong "firelane-verify $*: exit $rc, want $want_rc ($out)"
	if ! printf '%s\n' "$out" | grep -qE -- "$want"; then
		wrong "firelane-verify $*: output '$out' does not match '$want'"
	fi
}

need "$VERIFY" "$MAKE" python3

mkdir -p "$WORK/a" "$WORK/b"
A=$("$MAKE" --make-bundle "$WORK/a") || fail "cannot make bundle a"
B=$("$MAKE" --make-bundle "$WORK/b") || fail "cannot make bundle b"
KEY_A=$(cat "$WORK/a/device.pub")
# the key as an extended regex ('+' and '/' occur in base64)
KEY_A_RE=$(printf '%s' "$KEY_A" | sed 's/[][\\.*^$+?(){}|]/\\&/g')
[ "$(stat -c %a "$WORK/a/device.key")" = 600 ] || wrong "device.key is not 0600"

# ---- intact -----------------------------------------------------------------
run 0 "^$A: ok \(4 files, key $KEY_A_RE, not pinned\)$" "$A"
run 0 "^$A: ok \(4 files, key $KEY_A_RE, pinned\)$" --public-key "$KEY_A" "$A"
run 0 "^$A: ok " --public-key "$WORK/a/device.pub" "$A"
run 0 "^$A: ok " --public-key="$KEY_A" "$A"
# the delivery marker is not part of the signed content
echo 1 >"$A/.delivered"
run 0 "^$A: ok " --public-key "$KEY_A" "$A"
rm "$A/.delivered"

# ---- another device ---------------------------------------------------------
run 0 "^$B: ok " "$B"
run 1 "^$B: FAIL: manifest.json: signed by another key" --public-key "$KEY_A" "$B"
run 1 "^$A: FAIL: manifest.json: signed by another key" --public-key "$WORK/b/device.pub" "$A"

# ---- tampered copies --------------------------------------------------------
fresh() { rm -rf "$WORK/c"; cp -a "$A" "$WORK/c"; }
flip() { # flip FILE OFFSET: xor one byte with 0x01
	python3 - "$1" "$2" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, 'rb').read())
b[off] ^= 1
open(p, 'wb').write(bytes(b))
PY
}
C=$WORK/c
for f in scene-1.jpg scene-2.jpg scene-3.jpg clip.mp4; do
	fresh
	flip "$C/$f" 5
	run 1 "^$C: FAIL: $f: sha256 mismatch$" --public-key "$KEY_A" "$C"
	fresh
	rm "$C/$f"
	run 1 "^$C: FAIL: $f: missing$" "$C"
done
fresh
flip "$C/manifest.sig" 10
run 1 "^$C: FAIL: manifest.sig: (signature does not verify|not a base64)" "$C"
fresh
flip "$C/manifest.json" 300
run 1 "^$C: FAIL: manifest.*" "$C"
fresh
: >"$C/extra.txt"
run 1 "^$C: FAIL: extra.txt: not in manifest$" "$C"
fresh
mkdir "$C/sub"
run 1 "^$C: FAIL: sub: not in manifest$" "$C"
fresh
printf '{"format": ' >"$C/manifest.json"
run 1 "^$C: FAIL: manifest.json: malformed JSON" "$C"
run 1 "^$WORK/nothing: FAIL: manifest.json: missing$" "$WORK/nothing"

# ---- usage ------------------------------------------------------------------
run 2 "usage: firelane-verify"
run 2 "unknown option --frobnicate" --frobnicate "$A"
run 2 "one bundle at a time" "$A" "$B"
run 2 "needs a value" --public-key
run 2 "neither a base64 key nor a readable file" --public-key nokey "$A"
echo "not a key" >"$WORK/bad.pub"
run 2 "holds no public key" --public-key "$WORK/bad.pub" "$A"
run 0 "usage: firelane-verify" --help

[ "$fails" = 0 ] || fail "$fails check(s) failed (above)"
echo "verify_cli: all checks passed"
