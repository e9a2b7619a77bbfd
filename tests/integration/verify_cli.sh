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

BUILD=${FL_BUILD_DIR:?set FL_BUILD_DIR}
VERIFY=$BUILD/firelane-verify
MAKE=$BUILD/tests/test_bundle
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0

fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# run WANT_RC WANT_PATTERN ARGS...: firelane-verify's exit code and output.
run() {
	local want_rc=$1 want=$2 out rc
	shift 2
	out=$("$VERIFY" "$@" 2>&1)
	rc=$?
	[ "$rc" = "$want_rc" ] || fail "firelane-verify $*: exit $rc, want $want_rc ($out)"
	if ! printf '%s\n' "$out" | grep -qE -- "$want"; then
		fail "firelane-verify $*: output '$out' does not match '$want'"
	fi
}

[ -x "$VERIFY" ] || { echo "no $VERIFY" >&2; exit 1; }
[ -x "$MAKE" ] || { echo "no $MAKE" >&2; exit 1; }

mkdir -p "$TMP/a" "$TMP/b"
A=$("$MAKE" --make-bundle "$TMP/a") || { echo "cannot make bundle a" >&2; exit 1; }
B=$("$MAKE" --make-bundle "$TMP/b") || { echo "cannot make bundle b" >&2; exit 1; }
KEY_A=$(cat "$TMP/a/device.pub")
# the key as an extended regex ('+' and '/' occur in base64)
KEY_A_RE=$(printf '%s' "$KEY_A" | sed 's/[][\\.*^$+?(){}|]/\\&/g')
[ "$(stat -c %a "$TMP/a/device.key")" = 600 ] || fail "device.key is not 0600"

# ---- intact -----------------------------------------------------------------
run 0 "^$A: ok \(4 files, key $KEY_A_RE, not pinned\)$" "$A"
run 0 "^$A: ok \(4 files, key $KEY_A_RE, pinned\)$" --public-key "$KEY_A" "$A"
run 0 "^$A: ok " --public-key "$TMP/a/device.pub" "$A"
run 0 "^$A: ok " --public-key="$KEY_A" "$A"
# the delivery marker is not part of the signed content
echo 1 >"$A/.delivered"
run 0 "^$A: ok " --public-key "$KEY_A" "$A"
rm "$A/.delivered"

# ---- another device ---------------------------------------------------------
run 0 "^$B: ok " "$B"
run 1 "^$B: FAIL: manifest.json: signed by another key" --public-key "$KEY_A" "$B"
run 1 "^$A: FAIL: manifest.json: signed by another key" --public-key "$TMP/b/device.pub" "$A"

# ---- tampered copies --------------------------------------------------------
fresh() { rm -rf "$TMP/c"; cp -a "$A" "$TMP/c"; }
flip() { # flip FILE OFFSET: xor one byte with 0x01
	python3 - "$1" "$2" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, 'rb').read())
b[off] ^= 1
open(p, 'wb').write(bytes(b))
PY
}
C=$TMP/c
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
run 1 "^$TMP/nothing: FAIL: manifest.json: missing$" "$TMP/nothing"

# ---- usage ------------------------------------------------------------------
run 2 "usage: firelane-verify"
run 2 "unknown option --frobnicate" --frobnicate "$A"
run 2 "one bundle at a time" "$A" "$B"
run 2 "needs a value" --public-key
run 2 "neither a base64 key nor a readable file" --public-key nokey "$A"
echo "not a key" >"$TMP/bad.pub"
run 2 "holds no public key" --public-key "$TMP/bad.pub" "$A"
run 0 "usage: firelane-verify" --help

if [ "$fails" -gt 0 ]; then
	echo "verify_cli: $fails failure(s)" >&2
	exit 1
fi
echo "verify_cli: all checks passed"
