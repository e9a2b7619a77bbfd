#!/usr/bin/env bash
# hub_sealed.sh - verified evidence is immutable (docs/security.md, "2.
# Verified evidence is immutable"), against a real mosquitto, the real hub
# (SQLite, HTTP; the scrub off, then every 2 s) and the real edge live on the
# synthetic park_leave scene, which delivers one incident with a signed
# bundle that the hub verifies. Then, as an attacker on the broker and as
# someone with the hub's file system rights:
#   - the genuine list and a genuine chunk again (what an edge sends until
#     its receipt arrives): taken as repeats, the receipt sent again,
#     nothing quarantined or audited;
#   - a chunk of a planted file, then the genuine list again with the
#     planted file, under a new seq and under the list's own seq: each
#     refused (quarantined), audited ("evidence_refused"), the lists not
#     stored as messages; the verdict stays verified with its report, the
#     evidence rows and the bundle's files stay;
#   - chunks with another image's bytes for the verified composite.jpg:
#     refused, audited naming the device, the incident and the file, the
#     file on disk byte-identical and still served as it verified;
#   - every received file is read-only (0444);
#   - one byte flipped on disk in composite.jpg with its mtime put back,
#     after it was served once (so the check's cache holds it), the scrub
#     off: 410 to the admin and to enforcement, an audit row; then the hub
#     restarted with the scrub every 2 s: a byte flipped in a scene image
#     nobody asks for, and a file deleted, found by the scrub and audited;
#     composite.jpg still refused; tampered in the API (list, detail, the
#     files' rows);
#   - the case package: the tampered and missing files left out, the others
#     byte-identical, verification.txt TAMPERED naming them;
#   - the genuine composite.jpg written back: the scrub records it
#     restored and it is served again.
# Every check runs and the failures are listed together at the end, so a
# run against an older hub shows each finding that is still open.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" "$EDGE" "$SCENE" mosquitto mosquitto_sub mosquitto_pub python3 curl jq sqlite3
SCENARIO=park_leave
PORT=$(free_port)
WPORT=$(free_port)
BASE=http://127.0.0.1:$WPORT
scene $SCENARIO
broker_start
subscribe "$WORK/receipts.txt" 'firelane/scene-site/scene-edge/receipt'
subscribe "$WORK/sent.txt" 'firelane/scene-site/scene-edge/cam-1/lane-a/incident'

EV=$WORK/hub-evidence
cat >"$WORK/hub.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$NAME, keepalive_s: 5, $HUB_AUTH}
http: {listen: "127.0.0.1:$WPORT"}
store: {sqlite: $WORK/hub.db}
evidence_dir: $EV
public_url: $BASE
evidence_scrub_s: 0
EOC
"$HUB" --config "$WORK/hub.yaml" --check-config >"$WORK/check.log" 2>&1 ||
	fail "--check-config: $(cat "$WORK/check.log")"
grep -q '^evidence_scrub_s: 0$' "$WORK/check.log" || fail "evidence_scrub_s not in the dump: $(cat "$WORK/check.log")"
HUB_KEY=$(hub_key "$WORK/hub.yaml") # the edge takes only receipts it signed

edge_config "$WORK/scene/edge.yaml" "$(printf 'evidence:\n  dir: %s\n  pre_roll_s: 4\n  post_roll_s: 3\n' "$WORK/evidence")"
sed -i "s|^device: {id: scene-edge, site: scene-site}|device: {id: scene-edge, site: scene-site, key_file: $WORK/device.key}|" "$WORK/scene/edge.yaml"
"$EDGE" --config "$WORK/scene/edge.yaml" --print-public-key >"$WORK/pk.txt" 2>"$WORK/pk.log" ||
	fail "--print-public-key"
admin() { "$HUB" --config "$WORK/hub.yaml" "$@" >>"$WORK/admin.log" 2>&1 || fail "$*"; }
admin --enrol-device scene-edge --site scene-site --public-key "$WORK/pk.txt"
echo 'pw-root' | admin --add-user root --role admin
echo 'pw-enf' | admin --add-user enf --role enforcement

hub_start "$WORK/hub.yaml" "$WORK/hub.log" -vv
edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$WORK/scene/edge.yaml" -v
edge_wait 120
for _ in $(seq 300); do
	[ "$(q "select count(*) from incidents where verified = 1 and status = 'cleared'")" = 1 ] && break
	sleep 0.1
done
IID=$(q "select incident_id from incidents where verified = 1")
[ -n "$IID" ] || fail "no verified incident: $(q 'select incident_id, verified, verify_report from incidents')"
wait_for "$WORK/receipts.txt" . 20 || fail "no receipt for the verified bundle"

# ---- helpers ------------------------------------------------------------------
MISSED=()
miss() { # WHAT: a failed check, listed at the end
	echo "$NAME: MISSED: $*" >&2
	MISSED+=("$*")
}
hc() { # NAME [curl args]: body to WORK/out; prints the status
	local who=$1
	shift
	curl -s -o "$WORK/out" -D "$WORK/hdr" -w '%{http_code}' \
		-b "$WORK/jar.$who" -c "$WORK/jar.$who" "$@"
}
login() { # NAME PASSWORD
	[ "$(hc "$1" -X POST -H 'Content-Type: application/json' -H "Origin: $BASE" \
		-d "{\"user\": \"$1\", \"password\": \"$2\"}" "$BASE/api/login")" = 200 ] ||
		fail "login $1: $(cat "$WORK/out")"
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
quarantined() { q "select count(*) from quarantine"; }
refused() { q "select count(*) from audit where action = 'evidence_refused' and object = '$IID'"; }
# until SQL answers WANT (10 s), else miss WHAT
until_q() { # SQL WANT WHAT
	local i
	for i in $(seq 100); do
		[ "$(q "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	miss "$3 (got: $(q "$1"))"
}
ROOT=firelane/scene-site/scene-edge
# chunks.py: the chunks of a file as the edge cuts them, each payload
# written to a file of its own (their paths on stdout); the header's hashes
# are computed as an attacker would, so only the hub's rules can refuse them.
cat >"$WORK/chunks.py" <<'EOP'
import hashlib, json, os, sys
out, iid, name, src = sys.argv[1:5]
only = int(sys.argv[5]) if len(sys.argv) > 5 else None
data = open(src, "rb").read()
count = max(1, (len(data) + 65535) // 65536)
for i in range(count):
    if only is not None and i != only:
        continue
    c = data[i * 65536:(i + 1) * 65536]
    h = {"incident_id": iid, "file": name, "index": i, "count": count,
         "offset": i * 65536, "size": len(data),
         "chunk_sha256": hashlib.sha256(c).hexdigest(),
         "file_sha256": hashlib.sha256(data).hexdigest()}
    p = os.path.join(out, "%s.%d" % (name, i))
    with open(p, "wb") as f:
        f.write(json.dumps(h).encode() + b"\n" + c)
    print(p)
EOP
# pub TOPIC FILE: one message on the device's topic, signed with its key and
# sent with its broker account by a client that is not the edge: what a
# stolen key or a misbehaving device can say (the seal must hold even then)
pub() { device_pub "$WORK/device.key" scene-edge "$1" "$2" || fail "device_pub $1"; }
chunks() { # FILE-NAME SOURCE-PATH [INDEX]: its chunks (or one)
	local p
	mkdir -p "$WORK/chunks"
	for p in $(python3 "$WORK/chunks.py" "$WORK/chunks" "$IID" "$@"); do
		pub "$ROOT/cam-1/lane-a/evidence" "$p"
	done
}
message() { pub "$ROOT/cam-1/lane-a/incident" "$1"; } # JSON-FILE: as it is

login root pw-root
login enf pw-enf
mkdir "$WORK/genuine"
cp -p "$EV/$IID"/* "$WORK/genuine/"
GOOD=$(sha "$EV/$IID/composite.jpg")
SCENE1=$(cd "$EV/$IID" && ls scene-*.jpg | sed -n 1p)
REPORT=$(q "select verify_report from incidents where incident_id = '$IID'")
NEVENTS=$(q "select count(*) from incident_events where incident_id = '$IID'")
NROWS=$(q "select count(*) from evidence where incident_id = '$IID'")
# the genuine evidence message: as the edge sent it (signed, byte for byte,
# for the repeat) and as stored (the body, for the forged lists below)
q "select json from incident_events where incident_id = '$IID' and type = 'evidence'" >"$WORK/list.json"
[ -s "$WORK/list.json" ] || fail "no evidence message stored"
python3 - "$FL_LIB" "$WORK/sent.txt" "$WORK/list.signed" <<'EOP' || fail "the edge's evidence message was not seen on the broker"
import json, sys
sys.path.insert(0, sys.argv[1])
from fl_sign import unwrap
for line in open(sys.argv[2]):
    raw = bytes.fromhex(line.split()[1])
    if json.loads(unwrap(raw)).get("type") == "evidence":
        open(sys.argv[3], "wb").write(raw)
        break
else:
    sys.exit(1)
EOP

# ---- repeats: the genuine list and a genuine chunk again ----------------------------
R0=$(wc -l <"$WORK/receipts.txt")
Q0=$(quarantined)
mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -u scene-edge -P "$(broker_pw scene-edge)" \
	-t "$ROOT/cam-1/lane-a/incident" -f "$WORK/list.signed" || fail "mosquitto_pub the genuine list"
chunks "$SCENE1" "$WORK/genuine/$SCENE1" 0
for _ in $(seq 100); do [ "$(wc -l <"$WORK/receipts.txt")" -gt "$R0" ] && break; sleep 0.1; done
[ "$(wc -l <"$WORK/receipts.txt")" -gt "$R0" ] || miss "the genuine list again: no receipt again"
tail -n 1 "$WORK/receipts.txt" | grep -q "$(hex "{\"incident_id\": \"$IID\", \"verified\": true")" ||
	miss "the receipt again does not say verified: $(tail -n 1 "$WORK/receipts.txt")"
[ "$(quarantined)" = "$Q0" ] || miss "a genuine repeat was quarantined: $(q 'select reason from quarantine')"
[ "$(refused)" = 0 ] || miss "a genuine repeat was audited as refused"

# ---- a planted file, and the genuine list again with it ----------------------------------
head -c 3000 /dev/urandom >"$WORK/planted.bin"
chunks planted.jpg "$WORK/planted.bin"
until_q "select count(*) from quarantine where reason like '%planted.jpg%its files never change%'" 1 \
	"the planted file's chunk not quarantined"
[ -e "$EV/$IID/planted.jpg" ] && miss "planted.jpg was written into the bundle"
LASTSEQ=$(q "select max(seq) from incident_events where incident_id = '$IID'")
PSHA=$(sha "$WORK/planted.bin")
for seq in $((LASTSEQ + 1)) same; do
	jq -c --arg sha "$PSHA" --argjson bytes 3000 --arg seq "$seq" \
		'(if $seq == "same" then . else .seq = ($seq | tonumber) end)
		 | .evidence += [{"name": "planted.jpg", "sha256": $sha, "bytes": $bytes}]' \
		"$WORK/list.json" >"$WORK/planted-list.json"
	B=$(refused)
	message "$WORK/planted-list.json"
	until_q "select count(*) from audit where action = 'evidence_refused' and object = '$IID'" $((B + 1)) \
		"the list with a planted file (seq $seq) not refused"
done
until_q "select count(*) from quarantine where reason like '%evidence list%planted.jpg%'" 2 \
	"the lists with a planted file not quarantined"
[ "$(q "select verified from incidents where incident_id = '$IID'")" = 1 ] ||
	miss "the verdict changed: $(q "select verified, verify_report from incidents where incident_id = '$IID'")"
[ "$(q "select verify_report from incidents where incident_id = '$IID'")" = "$REPORT" ] || miss "the verify report changed"
[ "$(q "select count(*) from incident_events where incident_id = '$IID'")" = "$NEVENTS" ] ||
	miss "a refused list was stored as a message"
[ "$(q "select count(*) from evidence where incident_id = '$IID'")" = "$NROWS" ] ||
	miss "evidence rows changed: $(q "select name from evidence where incident_id = '$IID'")"
[ "$(hc root "$BASE/api/incidents/$IID")" = 200 ] && [ "$(jq -r .verified "$WORK/out")" = 1 ] ||
	miss "the API no longer says verified"
(cd "$EV/$IID" && ls) >"$WORK/files.txt"
(cd "$WORK/genuine" && ls) | diff - "$WORK/files.txt" >/dev/null || miss "the bundle's files changed: $(cat "$WORK/files.txt")"

# ---- new content for a verified file ------------------------------------------------------------
chunks composite.jpg "$WORK/genuine/$SCENE1"
until_q "select count(*) > 0 from quarantine where reason like '%composite.jpg%its files never change%'" 1 \
	"chunks with new content for composite.jpg not quarantined"
[ "$(q "select count(*) from audit where action = 'evidence_refused' and object = '$IID' and detail like 'device scene-edge sent chunk 0 of composite.jpg%'")" = 1 ] ||
	miss "no audit row naming the device, the incident and composite.jpg: $(q "select action, detail from audit where object = '$IID'")"
[ "$(sha "$EV/$IID/composite.jpg")" = "$GOOD" ] || miss "composite.jpg changed on disk"
[ "$(hc root "$BASE/evidence/$IID/composite.jpg")" = 200 ] && [ "$(sha "$WORK/out")" = "$GOOD" ] ||
	miss "composite.jpg not served as it verified ($(sha "$WORK/out"))"
[ "$(q "select sha256 from evidence where incident_id = '$IID' and name = 'composite.jpg'")" = "$GOOD" ] ||
	miss "the recorded SHA-256 of composite.jpg changed"

# ---- read-only files ---------------------------------------------------------------------------
for f in "$EV/$IID"/*; do
	[ "$(stat -c %a "$f")" = 444 ] || miss "$(basename "$f") is mode $(stat -c %a "$f"), not 444"
done

# ---- tampering on disk ---------------------------------------------------------------------------
SCENE2=$(cd "$EV/$IID" && ls scene-*.jpg | sed -n 2p)
GONE=$(cd "$EV/$IID" && ls scene-*.jpg | sed -n 3p)
[ -n "$SCENE2" ] && [ -n "$GONE" ] || fail "the bundle has fewer than 3 scene images: $(ls "$EV/$IID")"
flip() { # FILE...: one byte flipped in place, the modification time put back
	python3 - "$@" <<'EOP'
import os, sys
for p in sys.argv[1:]:
    st = os.stat(p)
    with open(p, "r+b") as f:
        f.seek(st.st_size // 2)
        b = f.read(1)
        f.seek(st.st_size // 2)
        f.write(bytes([b[0] ^ 0x20]))
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
EOP
}
sleep 2.5 # the files are older than the check cache's racy window now
[ "$(hc root "$BASE/evidence/$IID/composite.jpg")" = 200 ] || miss "composite.jpg not served before tampering"
flip "$EV/$IID/composite.jpg" # the cache must see the new version by its ctime
for who in root enf; do
	code=$(hc $who "$BASE/evidence/$IID/composite.jpg")
	[ "$code" = 410 ] && jq -r .error "$WORK/out" | grep -q tampered ||
		miss "the tampered composite.jpg answered $code to $who: $(head -c 200 "$WORK/out")"
done
until_q "select count(*) from audit where action = 'evidence_tampered' and object = '$IID' and detail like 'composite.jpg: recorded sha256 $GOOD%while serving it to root'" 1 \
	"no audit row for the tampered composite.jpg"

# the scrub on: it finds what nobody asks for
hub_stop 10
sed -i 's/^evidence_scrub_s: 0$/evidence_scrub_s: 2/' "$WORK/hub.yaml"
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -vv
login root pw-root
login enf pw-enf
flip "$EV/$IID/$SCENE2"
rm -f "$EV/$IID/$GONE"
until_q "select count(*) from evidence where incident_id = '$IID' and tampered is not null and name in ('$SCENE2', '$GONE')" 2 \
	"the scrub did not find $SCENE2 changed and $GONE gone"
[ "$(q "select count(*) from audit where action = 'evidence_tampered' and detail like '$SCENE2: recorded sha256%, by the scrub'")" = 1 ] ||
	miss "no audit row for the changed $SCENE2: $(q "select detail from audit where action = 'evidence_tampered'")"
[ "$(q "select count(*) from audit where action = 'evidence_tampered' and detail like '$GONE:%found missing, by the scrub'")" = 1 ] ||
	miss "no audit row for the missing $GONE: $(q "select detail from audit where action = 'evidence_tampered'")"
[ "$(hc root "$BASE/evidence/$IID/composite.jpg")" = 410 ] || miss "composite.jpg served again after a restart"
[ "$(hc root "$BASE/evidence/$IID/$SCENE2")" = 410 ] || miss "the changed $SCENE2 is served"
[ "$(q "select count(*) from audit where action = 'evidence_tampered' and object = '$IID'")" = 3 ] ||
	miss "tampering not audited once per file: $(q "select detail from audit where action = 'evidence_tampered'")"
[ "$(hc enf "$BASE/api/incidents/$IID")" = 200 ] || miss "detail after tampering"
jq -e --arg a "$SCENE2" --arg b "$GONE" \
	'.tampered != null and .verified == 1 and ([.evidence[] | select(.tampered != null) | .name] | sort) == ([$a, $b, "composite.jpg"] | sort)' \
	"$WORK/out" >/dev/null || miss "the detail does not show the tampered files: $(jq -c '[.tampered, [.evidence[] | {name, tampered}]]' "$WORK/out")"
[ "$(hc enf "$BASE/api/incidents")" = 200 ] &&
	jq -e --arg i "$IID" '.incidents[] | select(.incident_id == $i) | .tampered != null' "$WORK/out" >/dev/null ||
	miss "the list does not show the incident tampered"
[ "$(hc root "$BASE/evidence/$IID/$SCENE1")" = 200 ] && [ "$(sha "$WORK/out")" = "$(sha "$WORK/genuine/$SCENE1")" ] ||
	miss "an untouched file is not served any more"

# ---- the case package ------------------------------------------------------------------------
[ "$(hc enf "$BASE/api/incidents/$IID/export")" = 200 ] || miss "export: $(head -c 300 "$WORK/out")"
python3 - "$WORK/out" "$WORK/genuine" "$SCENE2" "$GONE" <<'EOP' || miss "the case package of a tampered bundle (above)"
import os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
genuine, bad = sys.argv[2], {"composite.jpg", sys.argv[3], sys.argv[4]}
assert z.testzip() is None, "bad CRC"
names = set(z.namelist())
want = {"evidence/" + n for n in os.listdir(genuine) if n not in bad} | {"outcome.json", "verification.txt"}
assert names == want, sorted(names ^ want)
for n in want:
    if n.startswith("evidence/"):
        assert z.read(n) == open(os.path.join(genuine, n[9:]), "rb").read(), n
v = z.read("verification.txt").decode()
assert "result: TAMPERED: 3 of the bundle's" in v, v
for n in bad:
    assert ("  evidence/%s  NOT IN THIS PACKAGE" % n) in v, (n, v)
print("case package: %d entries, tampered files left out" % len(names))
EOP

# ---- the genuine file back -------------------------------------------------------------------------
cp "$WORK/genuine/composite.jpg" "$EV/$IID/composite.jpg"
until_q "select count(*) from audit where action = 'evidence_restored' and object = '$IID' and detail like 'composite.jpg:%by the scrub'" 1 \
	"the restored composite.jpg not recorded"
[ "$(hc root "$BASE/evidence/$IID/composite.jpg")" = 200 ] && [ "$(sha "$WORK/out")" = "$GOOD" ] ||
	miss "the restored composite.jpg is not served"
kill -0 $HUB_PID 2>/dev/null || fail "the hub died"
hub_stop 10

[ ${#MISSED[@]} = 0 ] || fail "${#MISSED[@]} checks failed: $(printf '\n  - %s' "${MISSED[@]}")"
echo "$NAME: ok"
