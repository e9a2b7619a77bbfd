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
# The same on PostgreSQL (store.postgresql; skipped, saying so, where the
# server package is absent): a second hub on a server of the test's own
# (pg_start), password authentication on loopback, subscribed beside the
# first, so the one edge run gives it the same incident and bundle; two
# more incidents (alarms) and outcomes on two of the three. Then:
#   - backup while the hub runs and another client writes to the database
#     (pg_dump's snapshot), the URL's password handed to pg_dump in its
#     environment: not in its arguments (a pg_dump wrapper records them),
#     not in any output or file of the backup;
#   - refused: pg_dump missing (named), a wrong password (the server's
#     words, not the password), a restore into the database that still
#     has its tables, a backup with a flipped byte in its dump;
#   - the database dropped and made again empty, evidence and key removed;
#     restored with a URL without password and PGPASSFILE; the incidents,
#     their messages and outcomes are the rows before, the evidence the
#     same bytes, firelane-verify accepts the bundle, the hub starts on it
#     and its case package says VERIFIED with the same files.
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

# The PostgreSQL hub, started first (hub_start sets HUB_PID: kept apart).
PG_PASS=
if [ -n "$(pg_bin postgres)" ] && command -v psql >/dev/null && command -v pg_dump >/dev/null &&
	command -v pg_restore >/dev/null; then
	PG_PASS=1
	pg_start
	SECRET=pw-Zk81q
	# password authentication on loopback (the socket, pg_sql's, stays trust)
	pg_sql "ALTER ROLE fl PASSWORD '$SECRET'" >/dev/null
	pg__as sed -i 's/^\(host .*\)trust$/\1scram-sha-256/' "$PGHOST/data/pg_hba.conf"
	kill -HUP "$PG_PID"
	for _ in $(seq 100); do
		PGPASSWORD=wrong psql -h 127.0.0.1 -p "$PGPORT" -U fl -d firelane -Atqc 'SELECT 1' >/dev/null 2>&1 || break
		sleep 0.1
	done
	PG_WPORT=$(free_port)
	PGEV=$WORK/pgev
	# pgconf FILE URL: the PostgreSQL hub's configuration with store URL
	pgconf() {
		cat >"$1" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$NAME-pg, keepalive_s: 5, $HUB_AUTH}
http: {listen: "127.0.0.1:$PG_WPORT"}
store: {postgresql: "$2"}
evidence_dir: $PGEV
hub_key_file: $WORK/pg-hub.key
alerts: {mqtt: false}
EOC
	}
	pgconf "$WORK/hub-pg.yaml" "postgresql://fl:$SECRET@127.0.0.1:$PGPORT/firelane"
	"$HUB" --config "$WORK/hub-pg.yaml" --enrol-device scene-edge --site scene-site \
		--public-key "$WORK/pk.txt" >>"$WORK/admin.log" 2>&1 || fail "--enrol-device (PostgreSQL)"
	echo 'pw-of-alice' | "$HUB" --config "$WORK/hub-pg.yaml" --add-user alice \
		--role property --sites scene-site >>"$WORK/admin.log" 2>&1 || fail "--add-user (PostgreSQL)"
	PG_PUB=$(hub_key "$WORK/hub-pg.yaml")
	hub_start "$WORK/hub-pg.yaml" "$WORK/hub-pg.log" -v
	PGHUB_PID=$HUB_PID
else
	echo "$NAME: the PostgreSQL pass skipped: no PostgreSQL server or client (scripts/deps.sh)"
fi

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

# case_package OUT [SUMS]: the incident's export, checked: VERIFIED, and its
# evidence/ the files of SUMS (default files-before.txt)
case_package() {
	local code
	code=$(curl -s -b "$WORK/jar-alice" -o "$1" -w '%{http_code}' --max-time 60 \
		"$BASE/api/incidents/$IID/export" || true)
	[ "$code" = 200 ] || fail "export: HTTP $code"
	python3 - "$1" "${2:-$WORK/files-before.txt}" <<'EOP' || fail "case package $1 (above)"
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
[ -n "$PG_PASS" ] || exit 0

# ---- PostgreSQL -------------------------------------------------------------
BASE=http://127.0.0.1:$PG_WPORT
HUB_PID=$PGHUB_PID
for _ in $(seq 300); do
	[ "$(pg_sql "SELECT count(*) FROM incidents WHERE incident_id = '$IID' AND verified = 1 AND status = 'cleared'")" = 1 ] && break
	sleep 0.1
done
[ "$(pg_sql "SELECT count(*) FROM incidents WHERE incident_id = '$IID' AND verified = 1 AND status = 'cleared'")" = 1 ] ||
	fail "the PostgreSQL hub has no verified, cleared $IID: $(pg_sql 'SELECT incident_id, status, verified FROM incidents')"
# two more incidents: alarms, no evidence
for n in 1 2; do
	printf '{"incident_id": "scene-edge-pg-%s", "seq": 1, "type": "alarm", "site": "scene-site", "device": "scene-edge", "camera": "cam-1", "lane": "lane-a", "unix_time": %s, "class": "vehicle"}' \
		"$n" "$(date +%s)" |
		device_pub "$WORK/device.key" scene-edge firelane/scene-site/scene-edge/cam-1/lane-a/incident
done
for _ in $(seq 300); do
	[ "$(pg_sql 'SELECT count(*) FROM incidents')" = 3 ] && break
	sleep 0.1
done
[ "$(pg_sql 'SELECT count(*) FROM incidents')" = 3 ] || fail "PostgreSQL incidents: $(pg_sql 'SELECT incident_id FROM incidents')"
CSRF=$(web_login alice pw-of-alice)
for o in "$IID persuaded" "scene-edge-pg-1 false_alarm"; do
	code=$(web_as alice "$CSRF" POST "/api/incidents/${o% *}/outcome" "{\"outcome\": \"${o#* }\"}")
	[ "$code" = 200 ] || fail "outcome on PostgreSQL: HTTP $code $(cat "$WORK/out")"
done
# pg_rows: what must come back, row for row
pg_rows() {
	pg_sql 'SELECT * FROM incidents ORDER BY incident_id'
	pg_sql 'SELECT * FROM incident_events ORDER BY incident_id, seq'
	pg_sql 'SELECT * FROM outcomes ORDER BY id'
	pg_sql 'SELECT * FROM evidence ORDER BY id'
	pg_sql 'SELECT * FROM users ORDER BY name'
}
pg_rows >"$WORK/pg-rows-before.txt"
(cd "$PGEV/$IID" && sha256sum -- *) >"$WORK/pg-files-before.txt"
cmp -s "$WORK/pg-files-before.txt" "$WORK/files-before.txt" ||
	fail "the two hubs hold other bundles: $(diff "$WORK/files-before.txt" "$WORK/pg-files-before.txt")"
case_package "$WORK/pg-case-before.zip" "$WORK/pg-files-before.txt"

# refused: the client missing, a wrong password
PG_DUMP=$WORK/no-pg_dump "$BACKUP" backup --config "$WORK/hub-pg.yaml" "$WORK/pg-x" >"$WORK/pg-nodump.log" 2>&1 &&
	fail "a backup without pg_dump ran"
grep -q "no-pg_dump not found (apt install postgresql-client)" "$WORK/pg-nodump.log" ||
	fail "pg_dump missing: $(cat "$WORK/pg-nodump.log")"
pgconf "$WORK/hub-pg-wrong.yaml" "postgresql://fl:wrong-$SECRET@127.0.0.1:$PGPORT/firelane"
"$BACKUP" backup --config "$WORK/hub-pg-wrong.yaml" "$WORK/pg-x" >"$WORK/pg-wrong.log" 2>&1 &&
	fail "a backup with a wrong password ran"
grep -q 'cannot connect: .*password authentication failed' "$WORK/pg-wrong.log" ||
	fail "wrong password: $(cat "$WORK/pg-wrong.log")"
[ -z "$(ls -A "$WORK/pg-x" 2>/dev/null)" ] || fail "a refused backup left $(ls "$WORK/pg-x")"

# The backup, while the hub runs and another client writes; pg_dump's
# arguments recorded by a wrapper.
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >>%s\nexec pg_dump "$@"\n' "$WORK/pg_dump.args" >"$WORK/pg_dump"
chmod +x "$WORK/pg_dump"
touch "$WORK/pg-writing"
(
	while [ -e "$WORK/pg-writing" ]; do
		pg_sql "INSERT INTO audit (\"user\", action, object, detail, wall) VALUES ('test', 'backup_load', 'x', 'y', extract(epoch from now()))" >/dev/null
	done
) &
WRITER=$!
track $WRITER
PG_DUMP=$WORK/pg_dump "$BACKUP" backup --config "$WORK/hub-pg.yaml" "$WORK/pg-backup" >"$WORK/pg-backup.log" 2>&1 ||
	fail "PostgreSQL backup: $(cat "$WORK/pg-backup.log")"
rm -f "$WORK/pg-writing"
wait "$WRITER" || fail "the database writer failed"
[ "$(pg_sql "SELECT count(*) FROM audit WHERE action = 'backup_load'")" -gt 0 ] ||
	fail "the writer wrote nothing: the backup was not taken under load"
for f in firelane.pgdump evidence.tar hub.key SHA256SUMS backup.txt; do
	[ -s "$WORK/pg-backup/$f" ] || fail "PostgreSQL backup: no $f: $(ls -l "$WORK/pg-backup")"
done
grep -q '^incidents: 3$' "$WORK/pg-backup/backup.txt" || fail "backup.txt: $(cat "$WORK/pg-backup/backup.txt")"
grep -q "127.0.0.1:$PGPORT/firelane" "$WORK/pg_dump.args" || fail "pg_dump was not run: $(cat "$WORK/pg_dump.args" 2>&1)"
for f in "$WORK/pg_dump.args" "$WORK/pg-backup.log" "$WORK/pg-backup/backup.txt" \
	"$WORK/pg-wrong.log" "$WORK/pg-nodump.log"; do
	! grep -qF "$SECRET" "$f" || fail "$(basename "$f") has the store's password: $(grep -F "$SECRET" "$f")"
done
stop_ok "the PostgreSQL hub" "$PGHUB_PID"
HUB_PID=

# Refused: a restore into the database that has its tables.
"$BACKUP" restore --config "$WORK/hub-pg.yaml" "$WORK/pg-backup" >"$WORK/pg-restore-over.log" 2>&1 &&
	fail "a restore into a database with tables ran"
grep -q 'tables: restore into an empty database' "$WORK/pg-restore-over.log" ||
	fail "over: $(cat "$WORK/pg-restore-over.log")"

# Wiped: the database made again empty, evidence, key.
pg__as psql -h "$PGHOST" -p "$PGPORT" -U fl -d postgres -v ON_ERROR_STOP=1 -Atqc 'DROP DATABASE firelane' >/dev/null
pg__as psql -h "$PGHOST" -p "$PGPORT" -U fl -d postgres -v ON_ERROR_STOP=1 -Atqc 'CREATE DATABASE firelane' >/dev/null
rm -rf "$PGEV" "$WORK/pg-hub.key"

# Refused: a flipped byte in the dump; nothing restored.
cp -a "$WORK/pg-backup" "$WORK/pg-damaged"
python3 - "$WORK/pg-damaged/firelane.pgdump" <<'EOP'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 1
open(p, "wb").write(bytes(b))
EOP
"$BACKUP" restore --config "$WORK/hub-pg.yaml" "$WORK/pg-damaged" >"$WORK/pg-restore-bad.log" 2>&1 &&
	fail "a damaged PostgreSQL backup was restored"
grep -q 'do not match SHA256SUMS' "$WORK/pg-restore-bad.log" || fail "damaged: $(cat "$WORK/pg-restore-bad.log")"
[ "$(pg_sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ] && [ ! -e "$PGEV" ] ||
	fail "a refused restore left tables or evidence behind"

# Restored with a URL without password: PGPASSFILE says it.
pgconf "$WORK/hub-pg-nopw.yaml" "postgresql://fl@127.0.0.1:$PGPORT/firelane"
printf '127.0.0.1:%s:firelane:fl:%s\n' "$PGPORT" "$SECRET" >"$WORK/pgpass"
chmod 600 "$WORK/pgpass"
PGPASSFILE=$WORK/pgpass "$BACKUP" restore --config "$WORK/hub-pg-nopw.yaml" "$WORK/pg-backup" >"$WORK/pg-restore.log" 2>&1 ||
	fail "PostgreSQL restore: $(cat "$WORK/pg-restore.log")"
pg_rows >"$WORK/pg-rows-after.txt"
diff "$WORK/pg-rows-before.txt" "$WORK/pg-rows-after.txt" >/dev/null ||
	fail "the store differs after the restore: $(diff "$WORK/pg-rows-before.txt" "$WORK/pg-rows-after.txt" | head -n 20)"
(cd "$PGEV/$IID" && sha256sum -- *) >"$WORK/pg-files-after.txt"
diff "$WORK/pg-files-before.txt" "$WORK/pg-files-after.txt" >/dev/null ||
	fail "evidence files differ after the PostgreSQL restore"
"$VERIFY" --public-key "$(cat "$WORK/pk.txt")" "$PGEV/$IID" >"$WORK/pg-verify.log" 2>&1 ||
	fail "firelane-verify refuses the restored bundle: $(cat "$WORK/pg-verify.log")"
[ "$(hub_key "$WORK/hub-pg.yaml")" = "$PG_PUB" ] || fail "the PostgreSQL hub's key changed in the restore"
hub_start "$WORK/hub-pg.yaml" "$WORK/hub-pg2.log" -v
CSRF=$(web_login alice pw-of-alice)
code=$(web_as alice "$CSRF" GET "/api/incidents/$IID")
[ "$code" = 200 ] && [ "$(jq -r .outcome "$WORK/out")" = persuaded ] ||
	fail "the restored incident on PostgreSQL: HTTP $code $(head -c 400 "$WORK/out")"
case_package "$WORK/pg-case-after.zip" "$WORK/pg-files-before.txt"
hub_stop
for f in "$WORK/pg-restore.log" "$WORK/pg-restore-over.log" "$WORK/pg-restore-bad.log"; do
	! grep -qF "$SECRET" "$f" || fail "$(basename "$f") has the store's password"
done
echo "ok: PostgreSQL: backup under load, wipe, restore: 3 incidents, outcomes, evidence and case package as before"
