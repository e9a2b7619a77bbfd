#!/usr/bin/env bash
# hubbench.sh - firelane-hubbench, the tool behind make bench's "hub" member
# (issue 5, point 10), against a real hub, so a change of the API or the
# store that breaks the benchmark shows in make test, not on bench day.
#
#   - --populate makes the store it promises: N incidents over 50 sites x 4
#     lanes, one device per site, statuses cleared / vacated / alarm, 1 in 10
#     with an outcome (and amendments), every message in incident_events,
#     the admin user; a second --populate on the same file refuses (the
#     incidents exist) rather than mixing two runs;
#   - --url against firelane-hub serving that store (a real mosquitto too):
#     one JSON object with every endpoint timed (n >= 1, p50 <= p90 <= p99
#     <= max), the total the API reports, the page's script as the asset,
#     the concurrent list with 2 clients;
#   - a wrong password ends it with status 1 and the hub's answer (401);
#     bad options with status 2.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" "$HUBBENCH" mosquitto sqlite3 python3 curl
N=3000

"$HUBBENCH" --populate "$WORK/hub.db" --incidents $N --user admin --password 'pw of admin' \
	>"$WORK/populate.json" 2>"$WORK/populate.log" || fail "--populate"
python3 - "$WORK/populate.json" $N <<'EOP' || fail "--populate's summary (above)"
import json, sys
j = json.loads(open(sys.argv[1]).read())
n = int(sys.argv[2])
assert j["incidents"] == n and j["sites"] == 50 and j["lanes"] == 4, j
assert j["messages"] > 2 * n, j
EOP
[ "$(q "select count(*) from incidents")" = $N ] || fail "incidents: $(q "select count(*) from incidents")"
[ "$(q "select count(distinct site) from incidents")" = 50 ] || fail "sites"
[ "$(q "select count(distinct site || lane) from incidents")" = 200 ] || fail "lanes"
[ "$(q "select count(*) from devices")" = 50 ] || fail "devices"
[ "$(q "select count(*) from incident_events")" = "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["messages"])' "$WORK/populate.json")" ] ||
	fail "incident_events and the messages reported differ"
[ "$(q "select group_concat(status) from (select distinct status from incidents order by 1)")" = "alarm,cleared,vacated" ] ||
	fail "statuses: $(q "select distinct status from incidents")"
[ "$(q "select count(*) from incidents where outcome is not null")" -ge $((N / 12)) ] || fail "outcomes"
[ "$(q "select count(*) from outcomes")" -gt "$(q "select count(*) from incidents where outcome is not null")" ] ||
	fail "no amended outcomes"
# incidents spread over 60 days ending about now
python3 - "$(q "select min(start) || ' ' || max(start) from incidents")" <<'EOP' || fail "time span"
import sys, time
lo, hi = map(float, sys.argv[1].split())
assert 59 * 86400 < hi - lo < 61 * 86400, hi - lo
assert 0 < time.time() - hi < 2 * 3600, time.time() - hi
EOP
[ "$(q "select role from users where name = 'admin'")" = admin ] || fail "admin user"
"$HUBBENCH" --populate "$WORK/hub.db" --incidents 10 >"$WORK/again.out" 2>"$WORK/again.log" &&
	fail "a second --populate on the same store succeeded"
[ "$(q "select count(*) from incidents")" = $N ] || fail "a refused --populate changed the store"

PORT=$(free_port)
HPORT=$(free_port)
broker_start
cat >"$WORK/hub.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$NAME, $HUB_AUTH}
http: {listen: "127.0.0.1:$HPORT"}
store: {sqlite: $WORK/hub.db}
evidence_dir: $WORK/evidence
EOC
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -v

"$HUBBENCH" --url "http://127.0.0.1:$HPORT" --user admin --password 'pw of admin' \
	--requests 5 --warmup 1 --budget-s 2 >"$WORK/latency.json" 2>"$WORK/latency.log" ||
	fail "--url: $(tail -n 5 "$WORK/latency.log")"
python3 - "$WORK/latency.json" $N <<'EOP' || fail "--url's answer (above)"
import json, sys
text = open(sys.argv[1]).read()
assert text.count("\n") == 1, "one JSON line"
j = json.loads(text)
assert j["incidents"] == int(sys.argv[2]), j["incidents"]
assert j["asset"].startswith("/static/") and j["asset"].endswith(".js"), j["asset"]
want = ["list", "list_filtered", "list_deep", "incident", "report_week_site",
        "report_month_site", "report_week_all", "report_month_all", "page",
        "static_asset", "devices"]
assert sorted(j["ms"]) == sorted(want), sorted(j["ms"])
for k in want:
    s = j["ms"][k]
    assert 1 <= s["n"] <= 5, (k, s)
    assert 0 < s["p50"] <= s["p90"] <= s["p99"] <= s["max"], (k, s)
c = j["list_concurrent"]
assert c["clients"] == 2 and c["ms"]["n"] >= 2 and c["requests_per_s"] > 0, c
print("hubbench: %d endpoints timed, list p50 %.2f ms" % (len(want), j["ms"]["list"]["p50"]))
EOP

rc=0
"$HUBBENCH" --url "http://127.0.0.1:$HPORT" --user admin --password wrong \
	--requests 1 >"$WORK/wrong.out" 2>"$WORK/wrong.log" || rc=$?
[ "$rc" = 1 ] || fail "a wrong password: exit $rc"
grep -q "answered 401" "$WORK/wrong.log" || fail "a wrong password: $(cat "$WORK/wrong.log")"
[ ! -s "$WORK/wrong.out" ] || fail "a failed run printed JSON"
rc=0
"$HUBBENCH" --url "http://127.0.0.1:$HPORT" --requests 0 --user a --password b \
	>/dev/null 2>"$WORK/opt.log" || rc=$?
[ "$rc" = 2 ] || fail "--requests 0: exit $rc"
rc=0
"$HUBBENCH" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "no mode: exit $rc"
hub_stop
echo "$NAME: passed"
