#!/usr/bin/env bash
# hub_backup.sh - scripts/firelane-backup: a backup taken while the hub
# runs, the store, evidence and key wiped, restored, and the incident and
# its case package as before (docs/deploy.md, "Backup and restore").
#
# The real edge runs the synthetic park_leave scene against a real
# mosquitto and hub, so the hub holds an incident with a verified evidence
# bundle; a property user records an outcome. Then:
#   - backup while the hub runs (SQLite's online backup, the evidence
#     folder, the hub key), with a second process writing to the store
#     meanwhile (an outcome recorded during the backup is in the store or
#     not, but the copy is consistent: its integrity check passes);
#   - the hub stopped; store (with its -wal), evidence folder and hub key
#     removed; a restore over a store that exists, and one from a backup
#     with a flipped byte, are refused and change nothing;
#   - restored, the hub started: the incident is listed with its outcome,
#     its evidence files are byte for byte the ones before, firelane-verify
#     accepts the bundle with the enrolled key, the case package
#     (GET /api/incidents/ID/export) says "result: VERIFIED" and holds the
#     same files, the hub key is the same (its public half), and the
#     alerts' records (sent jobs, steps made) came back, so a replayed
#     message alerts nobody again.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" "$EDGE" "$SCENE" "$VERIFY" mosquitto mosquitto_pub python3 sqlite3 curl jq tar sha256sum
BACKUP=$SRC/scripts/firelane-backup
export FIRELANE_HUB=$HUB
SCENARIO=park_leave
HPORT=$(free_port)
scene $SCENARIO
broker_start
python3 "$FL_LIB/alert_receiver.py" "$HPORT" "$WORK/hooks.jsonl" >"$WORK/receiver.log" 2>&1 &
track $!

web_hub_conf "$WORK/hub.yaml" "public_url: https://hub.example.org
alerts:
  mqtt: false
  sites:
    - site: scene-site
      webhooks:
        - {url: \"http://127.0.0.1:$HPORT/generic\"}"
# web_hub_conf writes "alerts: {mqtt: false}" before the lines: drop it
sed -i '/^alerts: {mqtt: false}$/d' "$WORK/hub.yaml"
EV=$WORK/ev

scene_enrolled "$WORK/hub.yaml"
echo 'pw-of-alice' | "$HUB" --config "$WORK/hub.yaml" --add-user alice \
	--role property --sites scene-site >>"$WORK/admin.log" 2>&1 || fail "--add-user"
PUB=$(hub_key "$WORK/hub.yaml")

hub_start "$WORK/hub.yaml" "$WORK/hub.log" -v
scene_incident "$WORK/hooks.jsonl"
CSRF=$(web_login alice pw-of-alice)
code=$(web_as alice "$CSRF" POST "/api/incidents/$IID/outcome" '{"outcome": "persuaded"}')
[ "$code" = 200 ] || fail "outcome: HTTP $code $(cat "$WORK/out")"
(cd "$EV/$IID" && sha256sum -- *) >"$WORK/files-before.txt"
EVENTS=$(q "select count(*) from incident_events")
SENT=$(q "select name from alert_jobs where state = 'sent' order by name")
MADE=$(q "select incident_id || '.' || step from alert_made order by 1")
[ -n "$SENT" ] && [ -n "$MADE" ] || fail "no alert records in the store"

# case_package OUT: the incident's export, checked: VERIFIED, and its
# evidence/ the files of files-before.txt
case_package() {
	local code
	code=$(curl -s -b "$WORK/jar-alice" -o "$1" -w '%{http_code}' --max-time 60 \
		"$BASE/api/incidents/$IID/export" || true)
	[ "$code" = 200 ] || fail "export: HTTP $code"
	python3 - "$1" "$WORK/files-before.txt" <<'EOP' || fail "case package $1 (above)"
import hashlib, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None, "bad CRC"
v = z.read("verification.txt").decode()
assert "result: VERIFIED" in v, v
want = {}
for line in open(sys.argv[2]):
    h, name = line.split(None, 1)
    want[name.strip()] = h
got = {n[len("evidence/"):]: hashlib.sha256(z.read(n)).hexdigest()
       for n in z.namelist() if n.startswith("evidence/")}
assert got == want, (got, want)
print("case package: VERIFIED, %d evidence files" % len(got))
EOP
}
case_package "$WORK/case-before.zip"

# The backup, while the hub runs and another process writes to the store.
python3 - "$WORK/hub.db" "$WORK/writing" <<'EOP' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=10)
open(sys.argv[2], "w").close()
while os.path.exists(sys.argv[2]):
    db.execute("insert into audit (user, action, object, detail, wall) values ('test', 'backup_load', 'x', 'y', ?)", (time.time(),))
    db.commit()
    time.sleep(0.01)
EOP
WRITER=$!
track $WRITER
for _ in $(seq 100); do [ -e "$WORK/writing" ] && break; sleep 0.1; done
"$BACKUP" backup --config "$WORK/hub.yaml" "$WORK/backup" >"$WORK/backup.log" 2>&1 ||
	fail "backup: $(cat "$WORK/backup.log")"
rm -f "$WORK/writing"
wait "$WRITER" || fail "the store writer failed"
[ "$(q "select count(*) from audit where action = 'backup_load'")" -gt 0 ] ||
	fail "the writer wrote nothing: the backup was not taken under load"
for f in hub.db evidence.tar hub.key SHA256SUMS backup.txt; do
	[ -s "$WORK/backup/$f" ] || fail "backup: no $f: $(ls -l "$WORK/backup")"
done
"$BACKUP" backup --config "$WORK/hub.yaml" "$WORK/backup" >"$WORK/backup2.log" 2>&1 &&
	fail "a backup into a folder that is not empty was taken"
hub_stop

# Wiped: store, its WAL, evidence, the key.
rm -rf "$WORK/hub.db" "$WORK/hub.db-wal" "$WORK/hub.db-shm" "$EV" "$WORK/hub.key"

# Refused: a damaged backup, and a restore over a store that exists.
cp -a "$WORK/backup" "$WORK/damaged"
python3 - "$WORK/damaged/evidence.tar" <<'EOP'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 1
open(p, "wb").write(bytes(b))
EOP
"$BACKUP" restore --config "$WORK/hub.yaml" "$WORK/damaged" >"$WORK/restore-bad.log" 2>&1 &&
	fail "a damaged backup was restored"
grep -q 'do not match SHA256SUMS' "$WORK/restore-bad.log" || fail "damaged: $(cat "$WORK/restore-bad.log")"
[ ! -e "$WORK/hub.db" ] && [ ! -e "$EV" ] || fail "a refused restore left files behind"
echo > "$WORK/hub.db"
"$BACKUP" restore --config "$WORK/hub.yaml" "$WORK/backup" >"$WORK/restore-over.log" 2>&1 &&
	fail "a restore over an existing store ran"
grep -q 'exists: stop the hub' "$WORK/restore-over.log" || fail "over: $(cat "$WORK/restore-over.log")"
rm -f "$WORK/hub.db"

"$BACKUP" restore --config "$WORK/hub.yaml" "$WORK/backup" >"$WORK/restore.log" 2>&1 ||
	fail "restore: $(cat "$WORK/restore.log")"
[ "$(hub_key "$WORK/hub.yaml")" = "$PUB" ] || fail "the hub key changed in the restore"
(cd "$EV/$IID" && sha256sum -- *) >"$WORK/files-after.txt"
diff "$WORK/files-before.txt" "$WORK/files-after.txt" >/dev/null ||
	fail "evidence files differ after the restore: $(diff "$WORK/files-before.txt" "$WORK/files-after.txt")"
"$VERIFY" --public-key "$(cat "$WORK/pk.txt")" "$EV/$IID" >"$WORK/verify.log" 2>&1 ||
	fail "firelane-verify refuses the restored bundle: $(cat "$WORK/verify.log")"

hub_start "$WORK/hub.yaml" "$WORK/hub2.log" -v
[ "$(q "select count(*) from incident_events")" = "$EVENTS" ] || fail "incident messages: $(q "select count(*) from incident_events"), expected $EVENTS"
CSRF=$(web_login alice pw-of-alice)
code=$(web_as alice "$CSRF" GET "/api/incidents/$IID")
[ "$code" = 200 ] || fail "the restored incident: HTTP $code"
[ "$(jq -r '.outcome // .incident.outcome' "$WORK/out")" = persuaded ] ||
	fail "the outcome did not come back: $(head -c 400 "$WORK/out")"
[ "$(jq -r '.verified // .incident.verified' "$WORK/out")" = 1 ] ||
	[ "$(jq -r '.verified // .incident.verified' "$WORK/out")" = true ] ||
	fail "the restored incident is not verified: $(head -c 400 "$WORK/out")"
case_package "$WORK/case-after.zip"
# the alerts' records are back: a replay of the incident makes no alert
[ "$(q "select name from alert_jobs where state = 'sent' order by name")" = "$SENT" ] &&
	[ "$(q "select incident_id || '.' || step from alert_made order by 1")" = "$MADE" ] ||
	fail "the alerts' records differ after the restore: $(q "select name, state from alert_jobs")"
hub_stop
echo "ok: backup under load, wipe, restore: incident $IID, outcome, evidence and case package as before"
