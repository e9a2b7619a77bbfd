#!/usr/bin/env bash
# hub_csv.sh - formula injection in the CSV the hub writes (docs/security.md,
# "5. The web server under abuse"), against a real hub and mosquitto with
# curl. reports.csv is the hub's one CSV export:
#   - a site named like a formula (-2-1, enrolled as such) is written
#     '-2-1 and quoted in reports.csv, never as a bare formula; the day
#     rows (2026-...) stay as they are.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" mosquitto curl sqlite3 python3 jq
broker_start
web_hub_conf "$WORK/hub.yaml"
cli() { "$HUB" --config "$WORK/hub.yaml" "$@" >"$WORK/cli.log" 2>&1; }
echo 'pw-root' | cli --add-user root --role admin || fail "--add-user root: $(cat "$WORK/cli.log")"
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -v

TOK=$(web_login root pw-root)
as_root() { web_as root "$TOK" "$@"; } # METHOD PATH [BODY]

# ---- reports.csv: formulas neutralised -------------------------------------------
printf 'MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=' >"$WORK/pk.txt"
python3 - "$WORK/pk.txt" <<'EOP'
import base64, sys
# an Ed25519 public key: the last 32 bytes of that DER, base64
raw = base64.b64decode(open(sys.argv[1]).read())[-32:]
open(sys.argv[1], "w").write(base64.b64encode(raw).decode())
EOP
cli --enrol-device formula-edge --site=-2-1 --public-key "$WORK/pk.txt" || fail "enrol: $(cat "$WORK/cli.log")"
q "insert into incidents (incident_id, device, site, start) values ('formula-edge-1', 'formula-edge', '-2-1', strftime('%s', 'now'))"
[ "$(as_root GET '/api/reports.csv?site=-2-1&period=week')" = 200 ] || fail "reports.csv: $(cat "$WORK/out")"
grep -q '^site,"'"'"'-2-1"' "$WORK/out" || fail "the site is not neutralised: $(grep '^site' "$WORK/out")"
grep -qE '^site,-' "$WORK/out" && fail "a bare formula in the CSV"
grep -q '^day,incidents,alarms' "$WORK/out" || fail "the header row: $(head -n 2 "$WORK/out")"
grep -qE '^20[0-9]{2}-[0-9]{2}-[0-9]{2},1,' "$WORK/out" || fail "the day row: $(cat "$WORK/out")"
hub_stop
echo "$NAME: ok"
