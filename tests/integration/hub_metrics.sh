#!/usr/bin/env bash
# hub_metrics.sh - GET /metrics of a real hub (docs/api.md, "Metrics"),
# against a real mosquitto, the real edge and a webhook receiver.
#
# The edge runs the synthetic park_leave scene (one car rests, alarms,
# leaves) and the hub alerts one webhook that answers 500 to its first
# request. Then /metrics, scraped with curl, must say what happened, by
# the store's and the receiver's count:
#   - messages ingested by kind: the incident messages the store holds,
#     the evidence chunks whose bytes add up to the stored bundle's files,
#     statuses and heartbeats; the ingest lag histogram has one
#     observation per stored incident message;
#   - alerts: the webhook's alarm and all-clear sent (2), its first
#     attempt failed (1), the MQTT alarm and all-clear sent (2), one
#     latency observation per alert sent; the outbox empty;
#   - the fleet: the device stopped; the hub not degraded;
#   - a malformed payload moves the quarantine counter by exactly 1 and
#     nothing else;
#   - an alarm stored and then held (its alert step cannot write: a
#     trigger in the store refuses it), offered again until the trigger
#     is dropped: held counted per offer, the message once as ingested and
#     never as a duplicate;
#   - the text is Prometheus text format 0.0.4 (a small parser below:
#     HELP and TYPE before each family's samples, counters end in _total,
#     histogram buckets rise and end in +Inf, which equals _count);
#   - access: without http.metrics_token only this machine may scrape (a
#     client named by the trusted proxy's X-Forwarded-For is refused,
#     403); with a token, a scrape without it or with another is refused
#     (401) and --check-config does not show it.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" "$EDGE" "$SCENE" mosquitto mosquitto_pub python3 sqlite3 curl
SCENARIO=park_leave
HPORT=$(free_port)
WPORT=$(free_port)
scene $SCENARIO
broker_start
python3 "$FL_LIB/alert_receiver.py" "$HPORT" "$WORK/hooks.jsonl" --fail-first >"$WORK/receiver.log" 2>&1 &
track $!

EV=$WORK/hub-evidence
TOKEN=metrics-token-of-this-test-0123
# hub_conf [TOKEN]: the hub's configuration, with http.metrics_token TOKEN
hub_conf() {
	cat >"$WORK/hub.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$NAME, keepalive_s: 5, $HUB_AUTH}
http: {listen: "127.0.0.1:$WPORT", trusted_proxies: [127.0.0.1], metrics_token: "${1:-}"}
store: {sqlite: $WORK/hub.db}
evidence_dir: $EV
public_url: https://hub.example.org
alerts:
  retry_base_s: 0.3
  retry_cap_s: 2
  sites:
    - site: scene-site
      webhooks:
        - {url: "http://127.0.0.1:$HPORT/generic", format: generic}
EOC
}
hub_conf

scene_enrolled "$WORK/hub.yaml"

# scrape OUT [CURL ARGS...]: GET /metrics into OUT; prints the HTTP status
scrape() {
	local out=$1
	shift
	curl -s -o "$out" -w '%{http_code}' --max-time 10 "$@" "http://127.0.0.1:$WPORT/metrics" || true
}
# m FILE SAMPLE: the value of SAMPLE (name and labels as written) in FILE
m() {
	awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print "missing" }' "$1"
}
# parse FILE: the Prometheus text format 0.0.4, checked
parse() {
	python3 - "$1" <<'EOP' || fail "$1 is not Prometheus text format (above)"
import re, sys
fam, typ, helped, buckets, errors = None, None, set(), {}, []
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")*)?\})? (\S+)$')
n = 0
text = open(sys.argv[1]).read()
if not text.endswith("\n"):
    errors.append("no newline at the end")
for line in text.splitlines():
    if line.startswith("# HELP "):
        fam = line.split(" ")[2]
        helped.add(fam)
        typ = None
        continue
    if line.startswith("# TYPE "):
        _, _, name, t = line.split(" ")
        if name != fam or t not in ("counter", "gauge", "histogram"):
            errors.append("TYPE without HELP or unknown: " + line)
        if t == "counter" and not name.endswith("_total"):
            errors.append("counter not ending in _total: " + name)
        typ = t
        continue
    mt = sample.match(line)
    if not mt:
        errors.append("not a sample: " + line)
        continue
    name, labels, value = mt.group(1), mt.group(3) or "", mt.group(5)
    v = float(value)
    n += 1
    if typ is None or not name.startswith(fam):
        errors.append("sample outside its family: " + line)
    if typ == "counter" and (name != fam or v < 0):
        errors.append("counter sample: " + line)
    if typ == "histogram":
        key = re.sub(r',?le="[^"]*"', "", labels)
        if name == fam + "_bucket":
            le = re.search(r'le="([^"]*)"', labels).group(1)
            b = buckets.setdefault((fam, key), [])
            if b and (v < b[-1][1] or float(le) <= b[-1][0]):
                errors.append("buckets do not rise: " + line)
            b.append((float(le), v))
        elif name == fam + "_count":
            b = buckets.get((fam, key))
            if not b or b[-1][0] != float("inf") or b[-1][1] != v:
                errors.append("_count is not the +Inf bucket: " + line)
        elif name != fam + "_sum":
            errors.append("histogram sample: " + line)
if n < 40:
    errors.append("only %d samples" % n)
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
EOP
}

hub_start "$WORK/hub.yaml" "$WORK/hub.log" -v

# Before anything: 200 from this machine, every counter at 0.
code=$(scrape "$WORK/m0.txt")
[ "$code" = 200 ] || fail "GET /metrics from loopback: HTTP $code"
parse "$WORK/m0.txt"
for s in 'firelane_hub_messages_ingested_total{kind="incident"}' \
	firelane_hub_messages_quarantined_total firelane_hub_ingest_lag_seconds_count \
	'firelane_hub_alerts_sent_total{channel="webhook"}' firelane_hub_degraded; do
	[ "$(m "$WORK/m0.txt" "$s")" = 0 ] || fail "$s is $(m "$WORK/m0.txt" "$s") at start"
done
[ "$(m "$WORK/m0.txt" 'firelane_hub_devices{status="unknown"}')" = 1 ] ||
	fail "the enrolled device not counted as unknown: $(grep devices "$WORK/m0.txt")"
# through the trusted proxy for a client elsewhere: refused
code=$(scrape "$WORK/m-far.txt" -H 'X-Forwarded-For: 203.0.113.9')
[ "$code" = 403 ] || fail "a scrape from 203.0.113.9 (via the proxy) without a token: HTTP $code"

# the incident, cleared and verified, the device stopped, the webhook's
# alarm and all-clear answered 200
scene_incident "$WORK/hooks.jsonl"
# the MQTT alerts' PUBACKs may come a moment after the webhook's answers,
# and the fleet by status is read from the store every 30 s at most
for _ in $(seq 900); do
	scrape "$WORK/m1.txt" >/dev/null
	[ "$(m "$WORK/m1.txt" 'firelane_hub_alerts_sent_total{channel="mqtt"}')" = 2 ] &&
		[ "$(m "$WORK/m1.txt" firelane_hub_alert_queue)" = 0 ] &&
		[ "$(m "$WORK/m1.txt" 'firelane_hub_devices{status="stopped"}')" = 1 ] && break
	sleep 0.1
done
parse "$WORK/m1.txt"

# expect SAMPLE VALUE [WHY]
expect() {
	local got
	got=$(m "$WORK/m1.txt" "$1")
	[ "$got" = "$2" ] || fail "$1 is $got, expected $2${3:+ ($3)}"
}
EVENTS=$(q "select count(*) from incident_events")
BYTES=$(cat "$EV/$IID"/* | wc -c)
CHUNKS=$(q "select count(*) from evidence")
[ "$EVENTS" -ge 3 ] || fail "only $EVENTS incident messages stored"
expect 'firelane_hub_messages_ingested_total{kind="incident"}' "$EVENTS" "the store's incident_events"
expect firelane_hub_ingest_lag_seconds_count "$EVENTS" "one lag per stored message"
expect firelane_hub_messages_duplicate_total 0
expect firelane_hub_evidence_received_bytes_total "$BYTES" "the stored bundle's bytes"
[ "$(m "$WORK/m1.txt" 'firelane_hub_messages_ingested_total{kind="evidence"}')" -ge "$CHUNKS" ] ||
	fail "fewer evidence chunks than the bundle's $CHUNKS files"
[ "$(m "$WORK/m1.txt" 'firelane_hub_messages_ingested_total{kind="status"}')" -ge 2 ] ||
	fail "statuses: online and stopped not both counted"
[ "$(m "$WORK/m1.txt" 'firelane_hub_messages_ingested_total{kind="heartbeat"}')" -ge 1 ] ||
	fail "no heartbeat counted"
expect firelane_hub_messages_quarantined_total 0
expect 'firelane_hub_alerts_sent_total{channel="webhook"}' 2 "alarm and all-clear"
expect 'firelane_hub_alerts_failed_total{channel="webhook"}' 1 "the receiver's first 500"
expect 'firelane_hub_alerts_given_up_total{channel="webhook"}' 0
expect 'firelane_hub_alerts_sent_total{channel="mqtt"}' 2 "alarm and all-clear on firelane/<site>/alerts"
expect 'firelane_hub_alert_latency_seconds_count{channel="webhook"}' 2
expect 'firelane_hub_alert_latency_seconds_count{channel="mqtt"}' 2
# the retried alarm waited retry_base_s (0.3 s) at least
awk '$1 == "firelane_hub_alert_latency_seconds_sum{channel=\"webhook\"}" { exit !($2 >= 0.3) }' "$WORK/m1.txt" ||
	fail "webhook latency sum $(m "$WORK/m1.txt" 'firelane_hub_alert_latency_seconds_sum{channel="webhook"}') below the retry's 0.3 s"
expect firelane_hub_alert_queue 0
expect 'firelane_hub_devices{status="stopped"}' 1
expect 'firelane_hub_devices{status="online"}' 0
expect firelane_hub_degraded 0
[ "$(m "$WORK/m1.txt" process_resident_memory_bytes)" -gt 1000000 ] || fail "RSS $(m "$WORK/m1.txt" process_resident_memory_bytes)"

# A malformed payload: quarantined, counted once, nothing else moves.
printf '{"incident_id": "scene-edge-1", "seq": ' >"$WORK/bad.json"
device_pub "$WORK/device.key" scene-edge firelane/scene-site/scene-edge/cam-1/lane-a/incident "$WORK/bad.json"
for _ in $(seq 300); do
	[ "$(q "select count(*) from quarantine")" = 1 ] && break
	sleep 0.1
done
[ "$(q "select count(*) from quarantine")" = 1 ] || fail "the malformed payload not quarantined"
kill -0 "$HUB_PID" 2>/dev/null || fail "the hub died on a malformed payload"
code=$(scrape "$WORK/m2.txt")
[ "$code" = 200 ] || fail "GET /metrics after the malformed payload: HTTP $code"
parse "$WORK/m2.txt"
[ "$(m "$WORK/m2.txt" firelane_hub_messages_quarantined_total)" = 1 ] ||
	fail "quarantined $(m "$WORK/m2.txt" firelane_hub_messages_quarantined_total), expected 1"
for s in 'firelane_hub_messages_ingested_total{kind="incident"}' \
	'firelane_hub_messages_ingested_total{kind="evidence"}' \
	firelane_hub_messages_duplicate_total firelane_hub_evidence_received_bytes_total \
	'firelane_hub_alerts_sent_total{channel="webhook"}' firelane_hub_messages_held_total; do
	[ "$(m "$WORK/m2.txt" "$s")" = "$(m "$WORK/m1.txt" "$s")" ] ||
		fail "$s moved on a malformed payload: $(m "$WORK/m1.txt" "$s") -> $(m "$WORK/m2.txt" "$s")"
done

# An alarm stored, then held because its alert step cannot write (the
# store refuses the step: a trigger on alert_made for that incident, as
# a failing disk would refuse it): offered again until the trigger is
# dropped. It counts once as ingested and never as a duplicate.
held_alarm() {
	HELD_IID=scene-edge-held-1
	printf '{"incident_id": "%s", "seq": 1, "type": "alarm", "site": "scene-site", "device": "scene-edge", "camera": "cam-1", "lane": "lane-a", "unix_time": %s, "class": "vehicle"}' \
		"$HELD_IID" "$(date +%s)" |
		device_pub "$WORK/device.key" scene-edge firelane/scene-site/scene-edge/cam-1/lane-a/incident
	for _ in $(seq 300); do
		scrape "$WORK/m4.txt" >/dev/null
		[ "$(m "$WORK/m4.txt" firelane_hub_messages_held_total)" -ge 3 ] && break
		sleep 0.1
	done
	[ "$(m "$WORK/m4.txt" firelane_hub_messages_held_total)" -ge 3 ] ||
		fail "the alarm whose alert cannot be written was not held: $(grep -E 'held|duplicate' "$WORK/m4.txt")"
	[ "$(q "select count(*) from incident_events where incident_id = '$HELD_IID'")" = 1 ] ||
		fail "the held alarm is not in the store"
	q "drop trigger hold_alert" >/dev/null || fail "dropping the trigger"
	made() { q "select count(*) from alert_made where incident_id = '$HELD_IID' and step = 'alarm'"; }
	for _ in $(seq 300); do
		[ "$(made)" = 1 ] && break
		sleep 0.1
	done
	[ "$(made)" = 1 ] || fail "the held alarm made no alert once the store took the step"
	scrape "$WORK/m5.txt" >/dev/null
	parse "$WORK/m5.txt"
	in1=$(m "$WORK/m2.txt" 'firelane_hub_messages_ingested_total{kind="incident"}')
	[ "$(m "$WORK/m5.txt" 'firelane_hub_messages_ingested_total{kind="incident"}')" = $((in1 + 1)) ] ||
		fail "the held alarm counted $(($(m "$WORK/m5.txt" 'firelane_hub_messages_ingested_total{kind="incident"}') - in1)) times as ingested"
	[ "$(m "$WORK/m5.txt" firelane_hub_messages_duplicate_total)" = "$(m "$WORK/m2.txt" firelane_hub_messages_duplicate_total)" ] ||
		fail "the held alarm offered again counted as a duplicate: $(m "$WORK/m5.txt" firelane_hub_messages_duplicate_total)"
	[ "$(m "$WORK/m5.txt" firelane_hub_ingest_lag_seconds_count)" = $((in1 + 1)) ] ||
		fail "ingest lag observations: $(m "$WORK/m5.txt" firelane_hub_ingest_lag_seconds_count), expected $((in1 + 1))"
}
q "create trigger hold_alert before insert on alert_made
	when new.incident_id = 'scene-edge-held-1'
	begin select raise(abort, 'held by hub_metrics.sh'); end" >/dev/null ||
	fail "creating the trigger that holds the alarm"
held_alarm

# With a token: the token or nothing, from anywhere; never shown.
hub_stop
hub_conf "$TOKEN"
"$HUB" --config "$WORK/hub.yaml" --check-config >"$WORK/check.txt" 2>&1 || fail "--check-config"
grep -q "$TOKEN" "$WORK/check.txt" && fail "--check-config shows the metrics token"
grep -q 'metrics_token: "\*\*\*"' "$WORK/check.txt" || fail "--check-config: $(grep metrics "$WORK/check.txt")"
hub_conf short-token
"$HUB" --config "$WORK/hub.yaml" --check-config >"$WORK/check.txt" 2>&1 &&
	fail "a 11-character metrics_token was taken"
grep -q 'http.metrics_token: 16 characters' "$WORK/check.txt" || fail "short token: $(cat "$WORK/check.txt")"
hub_conf "$TOKEN"
hub_start "$WORK/hub.yaml" "$WORK/hub2.log" -v
code=$(scrape "$WORK/m3.txt")
[ "$code" = 401 ] || fail "a scrape without the token: HTTP $code"
grep -q '"code":"not_logged_in"' "$WORK/m3.txt" || fail "401 without its code: $(cat "$WORK/m3.txt")"
code=$(scrape "$WORK/m3.txt" -H "Authorization: Bearer ${TOKEN}x")
[ "$code" = 401 ] || fail "a scrape with another token: HTTP $code"
code=$(scrape "$WORK/m3.txt" -H "Authorization: Basic $(printf 'x:%s' "$TOKEN" | base64 -w0)")
[ "$code" = 401 ] || fail "a scrape with Basic credentials: HTTP $code"
code=$(scrape "$WORK/m3.txt" -H "Authorization: Bearer $TOKEN" -H 'X-Forwarded-For: 203.0.113.9')
[ "$code" = 200 ] || fail "a scrape with the token from 203.0.113.9: HTTP $code"
parse "$WORK/m3.txt"
# a new process counts from 0
[ "$(m "$WORK/m3.txt" firelane_hub_messages_quarantined_total)" = 0 ] ||
	fail "counters survived a restart: $(m "$WORK/m3.txt" firelane_hub_messages_quarantined_total)"
hub_stop
echo "ok: $EVENTS incident messages, $BYTES evidence bytes, alerts and the quarantine counted"
