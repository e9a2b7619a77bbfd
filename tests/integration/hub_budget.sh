#!/usr/bin/env bash
# hub_budget.sh - the hub's budgets (docs/hub.md, "Budgets") against a real
# mosquitto and the real hub:
#   - quarantine_max: 130 messages from a device that is not enrolled are
#     quarantined; the table keeps the newest 100 and the log counts the
#     removed ones;
#   - incoming_max_age_s: a bundle with one chunk of two and no list, and a
#     list whose files never came, are removed from .incoming after the
#     age, each with a warning naming the incident and what was missing;
#     a bundle still receiving is not touched;
#   - evidence_keep_days: a bundle older than the limit of a closed
#     incident (received through the broker in chunks, so the store has
#     its files' rows) is removed at start (audit row), and the API shows
#     it as removed: evidence_pruned in GET /api/incidents/ID with the file
#     rows kept, and the case package's verification.txt saying the files
#     were removed by retention on that date with their SHA-256 listed; an
#     old one of an incident still alarmed, a young one, and one the store
#     does not know are kept (evidence_pruned null); an alert sent before
#     the limit is removed with its body (it names the owner and the
#     phone), a young one and one still in the outbox are kept; with the
#     default (0) nothing is removed.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" mosquitto mosquitto_pub sqlite3 python3 curl jq
PORT=$(free_port)
WPORT=$(free_port)
BASE=http://127.0.0.1:$WPORT
broker_start
EV=$WORK/ev
conf() { # conf FILE EXTRA
	cat >"$1" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$NAME, keepalive_s: 5, $HUB_AUTH}
http: {listen: "127.0.0.1:$WPORT"}
store: {sqlite: $WORK/hub.db}
evidence_dir: $EV
alerts: {mqtt: false}
$2
EOC
}
conf "$WORK/keep.yaml" ""
conf "$WORK/hub.yaml" "quarantine_max: 100
incoming_max_age_s: 4
evidence_keep_days: 1"
"$HUB" --config "$WORK/keep.yaml" --check-config | grep -q "^evidence_keep_days: 0$" ||
	fail "evidence_keep_days does not default to 0"
"$HUB" --config "$WORK/keep.yaml" --check-config | grep -q "^quarantine_max: 10000$" ||
	fail "quarantine_max does not default to 10000"
device_key "$WORK/edge-b.key" >"$WORK/pk.txt"
broker_device edge-b ghost
"$HUB" --config "$WORK/hub.yaml" --enrol-device edge-b --site site-b \
	--public-key "$WORK/pk.txt" >"$WORK/admin.log" 2>&1 || fail "--enrol-device"
RUN=0
hub_run() { # hub_run CONFIG: a new hub process, until it is subscribed
	RUN=$((RUN + 1))
	hub_start "$1" "$WORK/hub$RUN.log" -vv
}
ROOT=firelane/site-b/edge-b/cam-1/lane-a
msg() { # msg ID SEQ TYPE [EXTRA]
	printf '{"incident_id": "%s", "seq": %s, "type": "%s", "site": "site-b", "device": "edge-b", "camera": "cam-1", "lane": "lane-a", "unix_time": %s%s}' \
		"$1" "$2" "$3" "$(date +%s)" "${4:-}"
}
# pub TOPIC MSG, pubf TOPIC FILE: edge-b says it (signed with its key)
pub() { printf '%s' "$2" | device_pub "$WORK/edge-b.key" edge-b "$1"; }
pubf() { device_pub "$WORK/edge-b.key" edge-b "$1" "$2"; }

# 1. evidence_keep_days: incidents in the store, bundles on disk
hub_run "$WORK/keep.yaml"
pub "$ROOT/incident" "$(msg edge-b-old-lane-a-1 1 occupied)"
pub "$ROOT/incident" "$(msg edge-b-old-lane-a-1 2 cleared)"
pub "$ROOT/incident" "$(msg edge-b-open-lane-a-1 1 alarm)"
pub "$ROOT/incident" "$(msg edge-b-young-lane-a-1 1 occupied)"
pub "$ROOT/incident" "$(msg edge-b-young-lane-a-1 2 cleared)"
for _ in $(seq 100); do
	[ "$(q "select count(*) from incident_events")" = 5 ] && break
	sleep 0.1
done
[ "$(q "select count(*) from incident_events")" = 5 ] || fail "incidents not stored"
# the old closed incident's bundle arrives through the broker: two files
# in one chunk each and the evidence list (not signed by the enrolled key,
# so it fails verification, but the store records its files)
python3 - "$WORK" <<'EOP'
import hashlib, json, os, sys
files = {"scene-1.jpg": os.urandom(3000), "manifest.json": b'{"old": true}\n'}
lst = []
for i, (name, data) in enumerate(files.items()):
    h = hashlib.sha256(data).hexdigest()
    hdr = {"incident_id": "edge-b-old-lane-a-1", "file": name, "index": 0, "count": 1,
           "offset": 0, "size": len(data), "chunk_sha256": h, "file_sha256": h}
    open("%s/old-chunk-%d.bin" % (sys.argv[1], i), "wb").write(json.dumps(hdr).encode() + b"\n" + data)
    lst.append({"name": name, "sha256": h, "bytes": len(data)})
open(sys.argv[1] + "/old-list.json", "w").write(json.dumps(lst))
EOP
pub "$ROOT/incident" "$(msg edge-b-old-lane-a-1 3 evidence ", \"evidence\": $(cat "$WORK/old-list.json")")"
for i in 0 1; do
	pubf "$ROOT/evidence" "$WORK/old-chunk-$i.bin" || fail "mosquitto_pub chunk"
done
for _ in $(seq 300); do
	[ "$(q "select count(*) from evidence where incident_id = 'edge-b-old-lane-a-1'")" = 2 ] &&
		[ ! -e "$EV/.incoming/edge-b-old-lane-a-1" ] && break
	sleep 0.1
done
[ "$(q "select count(*) from evidence where incident_id = 'edge-b-old-lane-a-1'")" = 2 ] ||
	fail "the old bundle's files are not in the store"
[ -f "$EV/edge-b-old-lane-a-1/scene-1.jpg" ] || fail "the old bundle is not on disk"
for i in old open young unknown; do
	mkdir -p "$EV/edge-b-$i-lane-a-1"
	[ $i = old ] || echo "$i" >"$EV/edge-b-$i-lane-a-1/manifest.json"
	[ $i = young ] || touch -d '3 days ago' "$EV/edge-b-$i-lane-a-1" "$EV/edge-b-$i-lane-a-1"/*
done
# alerts: one sent 3 days ago (its body names the owner and the phone),
# one sent now, one still in the outbox since 3 days ago
AGO=$(($(date +%s) - 3 * 86400))
for j in "old-sent sent $AGO" "young-sent sent $(date +%s)" "old-outbox outbox NULL"; do
	set -- $j
	q "insert into alert_jobs (name, incident_id, kind, dest, mqtt, body, created, state, done)
	   values ('edge-b-$1.owner.sms', 'edge-b-$1', 'owner', 'http://127.0.0.1:9/sms', 0,
	   '{\"to\": \"13812341234\"}', $AGO, '$2', $3)"
done
hub_stop
# the default keeps everything
hub_run "$WORK/keep.yaml"
sleep 1
hub_stop
for i in old open young unknown; do
	[ -f "$EV/edge-b-$i-lane-a-1/manifest.json" ] || fail "evidence_keep_days 0 removed $i"
done
[ "$(q "select count(*) from alert_jobs where name like 'edge-b-%.owner.sms'")" = 3 ] ||
	fail "evidence_keep_days 0 removed an alert"
hub_run "$WORK/hub.yaml"
wait_for "$WORK/hub$RUN.log" "edge-b-old-lane-a-1: bundle removed" 20 || fail "the old closed bundle was not removed"
[ -e "$EV/edge-b-old-lane-a-1" ] && fail "the old closed bundle is still there"
for i in open young unknown; do
	[ -f "$EV/edge-b-$i-lane-a-1/manifest.json" ] || fail "the $i bundle was removed"
done
[ "$(q "select count(*) from audit where action = 'evidence_prune' and object = 'edge-b-old-lane-a-1'")" = 1 ] ||
	fail "no audit row for the removed bundle"
# the alert sent before the limit goes with it; the young one and the
# outbox stay
for _ in $(seq 100); do
	[ "$(q "select count(*) from alert_jobs where name like 'edge-b-%.owner.sms'")" = 2 ] && break
	sleep 0.1
done
[ "$(q "select group_concat(incident_id, ' ') from (select incident_id from alert_jobs where name like 'edge-b-%.owner.sms' order by 1)")" = "edge-b-old-outbox edge-b-young-sent" ] ||
	fail "alerts after retention: $(q "select name, state from alert_jobs")"
# the API and the case package show the files as removed, with their hashes
echo 'pw-root' | "$HUB" --config "$WORK/hub.yaml" --add-user root --role admin >>"$WORK/admin.log" 2>&1 ||
	fail "--add-user"
wait_for "$WORK/hub$RUN.log" "http: listening on 127.0.0.1:$WPORT" 10 || fail "no HTTP server"
curl -s -c "$WORK/jar" -o "$WORK/login.json" -X POST -H 'Content-Type: application/json' -d '{"user": "root", "password": "pw-root"}' "$BASE/api/login" ||
	fail "login"
curl -s -b "$WORK/jar" -o "$WORK/old.json" "$BASE/api/incidents/edge-b-old-lane-a-1" || fail "GET old"
PRUNED=$(jq -r .evidence_pruned "$WORK/old.json")
NOW=$(date +%s)
[ "$PRUNED" != null ] && [ "${PRUNED%.*}" -le "$NOW" ] && [ "${PRUNED%.*}" -ge $((NOW - 120)) ] ||
	fail "evidence_pruned of the removed bundle: $(head -c 400 "$WORK/old.json")"
[ "$(jq -r '[.evidence[] | .name + "=" + .sha256] | sort | join(",")' "$WORK/old.json")" = \
	"$(jq -r '[.[] | .name + "=" + .sha256] | sort | join(",")' "$WORK/old-list.json")" ] ||
	fail "the removed bundle's file rows: $(jq -c .evidence "$WORK/old.json")"
curl -s -b "$WORK/jar" -o "$WORK/young.json" "$BASE/api/incidents/edge-b-young-lane-a-1" || fail "GET young"
[ "$(jq -r .evidence_pruned "$WORK/young.json")" = null ] || fail "a kept bundle shows as removed: $(head -c 300 "$WORK/young.json")"
[ "$(curl -s -b "$WORK/jar" -o "$WORK/old.zip" -w '%{http_code}' "$BASE/api/incidents/edge-b-old-lane-a-1/export")" = 200 ] ||
	fail "export of the removed bundle: $(head -c 300 "$WORK/old.zip")"
python3 - "$WORK/old.zip" "$WORK/old-list.json" "$PRUNED" <<'EOP' || fail "the case package of a removed bundle (above)"
import json, sys, time, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
assert sorted(z.namelist()) == ["outcome.json", "verification.txt"], z.namelist()
v = z.read("verification.txt").decode()
day = time.strftime("%Y-%m-%d", time.gmtime(float(sys.argv[3])))
assert "result: EVIDENCE REMOVED" in v and "evidence_keep_days" in v, v
assert "removed on " + day in v, (day, v)
assert "NO EVIDENCE RECEIVED" not in v, v
assert "verified when received: no" in v, v
for f in json.load(open(sys.argv[2])):
    assert "%s  %d  evidence/%s" % (f["sha256"], f["bytes"], f["name"]) in v, (f, v)
assert abs(json.loads(z.read("outcome.json"))["evidence_pruned"] - float(sys.argv[3])) < 0.01
EOP

# 2. quarantine_max
python3 -c '
for i in range(130): print("{\"n\": %d}" % i)' >"$WORK/ghost.txt"
mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -u ghost -P "$(broker_pw ghost)" \
	-t firelane/site-b/ghost/heartbeat -l <"$WORK/ghost.txt" ||
	fail "mosquitto_pub"
for _ in $(seq 300); do
	[ "$(q "select count(*) from quarantine")" = 100 ] &&
		[ "$(q "select count(*) from quarantine where payload = cast('{\"n\": 129}' as blob)")" = 1 ] && break
	sleep 0.1
done
[ "$(q "select count(*) from quarantine")" = 100 ] || fail "quarantine holds $(q "select count(*) from quarantine") rows, expected 100"
[ "$(q "select count(*) from quarantine where payload = cast('{\"n\": 129}' as blob)")" = 1 ] || fail "the newest quarantined message is gone"
[ "$(q "select count(*) from quarantine where payload = cast('{\"n\": 29}' as blob)")" = 0 ] || fail "an old quarantined message was kept"
removed=$(sed -n 's/.*quarantine: \([0-9]*\) oldest messages removed.*/\1/p' "$WORK/hub$RUN.log" |
	awk '{ n += $1 } END { print n + 0 }')
[ "$removed" = 30 ] || fail "the log counts $removed removed, expected 30"

# 3. incoming_max_age_s
python3 - "$WORK" <<'EOP'
import hashlib, json, os, sys
data = os.urandom(65536)
whole = data + os.urandom(10)
hdr = {"incident_id": "edge-b-part-lane-a-1", "file": "scene-1.jpg", "index": 0,
       "count": 2, "offset": 0, "size": len(whole),
       "chunk_sha256": hashlib.sha256(data).hexdigest(),
       "file_sha256": hashlib.sha256(whole).hexdigest()}
open(sys.argv[1] + "/chunk.bin", "wb").write(json.dumps(hdr).encode() + b"\n" + data)
EOP
pubf "$ROOT/evidence" "$WORK/chunk.bin" || fail "mosquitto_pub chunk"
Z=0000000000000000000000000000000000000000000000000000000000000000
pub "$ROOT/incident" "$(msg edge-b-list-lane-a-1 1 evidence ", \"evidence\": [{\"name\": \"scene-1.jpg\", \"sha256\": \"$Z\", \"bytes\": 5}, {\"name\": \"manifest.json\", \"sha256\": \"$Z\", \"bytes\": 7}]")"
wait_for "$WORK/hub$RUN.log" "edge-b-part-lane-a-1: incomplete bundle dropped" 30 ||
	fail "the bundle with a missing chunk stayed in .incoming"
wait_for "$WORK/hub$RUN.log" "edge-b-list-lane-a-1: incomplete bundle dropped" 30 ||
	fail "the bundle with missing files stayed in .incoming"
grep -q "edge-b-part-lane-a-1: incomplete bundle dropped .*missing: the evidence list; partial: scene-1.jpg (chunk 0)" "$WORK/hub$RUN.log" ||
	fail "the warning does not say what was missing: $(grep part-lane "$WORK/hub$RUN.log")"
grep -q "edge-b-list-lane-a-1: incomplete bundle dropped .*missing: scene-1.jpg, manifest.json" "$WORK/hub$RUN.log" ||
	fail "the warning does not name the missing files: $(grep list-lane "$WORK/hub$RUN.log")"
[ -z "$(ls -A "$EV/.incoming")" ] || fail ".incoming not emptied: $(ls "$EV/.incoming")"
# a bundle still receiving (a chunk every second) is not touched
for i in 1 2 3 4 5 6; do
	pubf "$ROOT/evidence" "$WORK/chunk.bin"
	sleep 1
	[ -d "$EV/.incoming/edge-b-part-lane-a-1" ] || fail "a bundle still receiving was removed"
done
hub_stop
echo "$NAME: ok"
