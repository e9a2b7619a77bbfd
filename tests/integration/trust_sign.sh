#!/usr/bin/env bash
# trust_sign.sh - only a device speaks for itself (docs/security.md): the
# attacks of a broker client on the hub and the edge, with a real
# mosquitto, the real hub and the real edge live on park_leave.
#
# Part 1, an OPEN broker (allow_anonymous, no ACL: on purpose, so that the
# signatures alone must hold). The edge scene-edge (site scene-site) and a
# second device north-edge (site north-site, its key never leaves the
# test) are enrolled; the hub alerts on firelane/<site>/alerts. While the
# edge runs, an anonymous client:
#   - publishes an alarm as north-edge (another site's device): unsigned,
#     and signed with a key of its own;
#   - sees the edge's first "occupied" and at once publishes seq 2-12 of
#     that incident as "vacated" (the pre-emption that made the hub drop
#     the real alarm as a duplicate), unsigned and self-signed;
#   - sends {"cmd": "disable"} for the edge's lane.
# And the hub sends a set_dwell (firelane-hub --command: answered ok), which
# the client captures and sends again (replayed), and one with a time 1000 s
# old (stale). Checks: every forgery quarantined with its reason (unsigned,
# another key), nothing stored or alerted for north-edge; the real alarm
# stored and alerted, the incident's stored messages exactly the edge's;
# the unsigned disable and the replayed and stale commands answered
# ok:false with the reason (signed by the edge), the lane never disabled.
# After the edge stopped:
#   - a signed message moved to another topic (the edge's alarm on another
#     lane, and on north-edge's topic) is quarantined ("does not verify",
#     "signed by key");
#   - the same (incident_id, seq) with other bytes, signed with the
#     device's own key (a device gone wrong), is quarantined and written to
#     the audit log; the stored message is unchanged;
#   - the edge's old signed "online" replayed leaves its status "stopped".
# Part 2, the same broker restarted with the ACL and accounts of the
# harness (the documented set-up): an anonymous client is refused at
# connect; north-edge's account can publish neither an alarm under
# scene-edge's topic nor a command to it (the broker drops them: the hub
# and an observer see nothing, while a message north-edge may send arrives),
# nor read scene-edge's commands and receipts (while it gets its own).
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" "$EDGE" "$SCENE" mosquitto mosquitto_sub mosquitto_pub mosquitto_passwd python3 sqlite3
SCENARIO=park_leave
PORT=$(free_port)
scene $SCENARIO
ROOT=firelane/scene-site/scene-edge
NORTH=firelane/north-site/north-edge

# Part 1: an open broker - on purpose: the signatures must hold alone.
broker_start "listener $PORT 127.0.0.1
allow_anonymous true"
subscribe "$WORK/all.txt" 'firelane/#'

cat >"$WORK/hub.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$NAME, keepalive_s: 5, $HUB_AUTH}
http: {listen: ""}
store: {sqlite: $WORK/hub.db}
evidence_dir: $WORK/hub-evidence
alerts:
  sites:
    - site: scene-site
    - site: north-site
EOC
HUB_KEY=$(hub_key "$WORK/hub.yaml")
edge_config "$WORK/scene/edge.yaml"
sed -i "s|^device: {id: scene-edge, site: scene-site}|device: {id: scene-edge, site: scene-site, key_file: $WORK/device.key}|" "$WORK/scene/edge.yaml"
grep -q "key_file: $WORK/device.key" "$WORK/scene/edge.yaml" || fail "the scene's device line changed"
"$EDGE" --config "$WORK/scene/edge.yaml" --print-public-key >"$WORK/pk.txt" 2>"$WORK/pk.log" ||
	fail "--print-public-key"
# north-edge's key: made here and kept from the attacker
sed "s|$WORK/device.key|$WORK/north.key|" "$WORK/scene/edge.yaml" >"$WORK/north.yaml"
"$EDGE" --config "$WORK/north.yaml" --print-public-key >"$WORK/north-pk.txt" 2>>"$WORK/pk.log" ||
	fail "--print-public-key north"
"$HUB" --config "$WORK/hub.yaml" --enrol-device scene-edge --site scene-site \
	--public-key "$WORK/pk.txt" >"$WORK/admin.log" 2>&1 || fail "--enrol-device"
"$HUB" --config "$WORK/hub.yaml" --enrol-device north-edge --site north-site \
	--public-key "$WORK/north-pk.txt" >>"$WORK/admin.log" 2>&1 || fail "--enrol-device north"
# the attacker's own key (its public half enrolled nowhere)
sed "s|$WORK/device.key|$WORK/mallory.key|" "$WORK/scene/edge.yaml" >"$WORK/mallory.yaml"
"$EDGE" --config "$WORK/mallory.yaml" --print-public-key >/dev/null 2>>"$WORK/pk.log" ||
	fail "--print-public-key mallory"

hub_start "$WORK/hub.yaml" "$WORK/hub.log" -vv

# anon TOPIC FILE: an anonymous client publishes FILE on TOPIC (QoS 1)
anon() { mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t "$1" -f "$2"; }
NOW=$(date +%s)
msg() { # device site iid seq type
	printf '{"incident_id": "%s", "seq": %s, "type": "%s", "site": "%s", "device": "%s", "camera": "cam-1", "lane": "lane-a", "unix_time": %s}' \
		"$3" "$4" "$5" "$2" "$1" "$NOW"
}

# An alarm as another site's device: unsigned, and with the attacker's key.
msg north-edge north-site north-edge-forged-lane-a-1 1 alarm >"$WORK/forged.json"
anon "$NORTH/cam-1/lane-a/incident" "$WORK/forged.json"
signed "$WORK/mallory.key" "$NORTH/cam-1/lane-a/incident" <"$WORK/forged.json" >"$WORK/forged.bin"
anon "$NORTH/cam-1/lane-a/incident" "$WORK/forged.bin"

edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$WORK/scene/edge.yaml" -v

# The pre-emption: as soon as the edge's "occupied" is out, seq 2..12 of its
# incident as "vacated", ahead of the real alarm.
wait_for "$WORK/all.txt" "^$ROOT/cam-1/lane-a/incident " 40 || fail "no incident message from the edge"
IID=$(python3 - "$WORK/all.txt" "$ROOT/cam-1/lane-a/incident" <<'EOP'
import json, os, sys
sys.path.insert(0, os.environ["FL_LIB"])
from fl_sign import unwrap
for line in open(sys.argv[1], "rb"):
    t, _, hx = line.rstrip(b"\n").partition(b" ")
    if t.decode() == sys.argv[2]:
        print(json.loads(unwrap(bytes.fromhex(hx.decode())))["incident_id"])
        break
EOP
)
[ -n "$IID" ] || fail "no incident id on the wire"
for seq in $(seq 2 12); do
	msg scene-edge scene-site "$IID" "$seq" vacated
	echo
done >"$WORK/pre.txt"
python3 "$FL_LIB/fl_sign.py" lines "$WORK/mallory.key" "$ROOT/cam-1/lane-a/incident" \
	<"$WORK/pre.txt" >"$WORK/pre-signed.txt"
mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t "$ROOT/cam-1/lane-a/incident" -l <"$WORK/pre.txt"
mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t "$ROOT/cam-1/lane-a/incident" -l <"$WORK/pre-signed.txt"

# Commands: an unsigned disable from anyone; the hub's own set_dwell (to the
# dwell the lane has), captured and replayed; a stale one.
printf '{"id": "evil-1", "cmd": "disable", "camera": "cam-1", "lane": "lane-a"}' >"$WORK/disable.json"
anon "$ROOT/command/set" "$WORK/disable.json"
"$HUB" --config "$WORK/hub.yaml" --command scene-edge \
	'{"id": "op-1", "cmd": "set_dwell", "camera": "cam-1", "lane": "lane-a", "dwell_s": 10}' \
	>"$WORK/cmd1.out" 2>"$WORK/cmd1.log" || fail "the hub's command was not taken: $(cat "$WORK/cmd1.out" "$WORK/cmd1.log")"
grep -q '"ok": true' "$WORK/cmd1.out" || fail "the hub's command: $(cat "$WORK/cmd1.out")"
python3 - "$WORK/all.txt" "$ROOT/command/set" "$WORK/captured.bin" <<'EOP' || fail "the hub's command was not on the wire"
import sys
for line in open(sys.argv[1], "rb"):
    t, _, hx = line.rstrip(b"\n").partition(b" ")
    if t.decode() == sys.argv[2] and b"op-1".hex().encode() in hx:
        open(sys.argv[3], "wb").write(bytes.fromhex(hx.decode()))
        sys.exit(0)
sys.exit(1)
EOP
anon "$ROOT/command/set" "$WORK/captured.bin"
rc=0
"$HUB" --config "$WORK/hub.yaml" --command scene-edge \
	"{\"id\": \"op-2\", \"cmd\": \"enable\", \"camera\": \"cam-1\", \"lane\": \"lane-a\", \"time\": $((NOW - 1000))}" \
	>"$WORK/cmd2.out" 2>"$WORK/cmd2.log" || rc=$?
[ "$rc" = 1 ] || fail "a stale command: exit $rc, expected 1 (refused): $(cat "$WORK/cmd2.out" "$WORK/cmd2.log")"

edge_wait 90
wait_for "$WORK/all.txt" "^$ROOT/status$(status_re stopped)" 10 || fail "no stopped status"
for _ in $(seq 100); do
	[ "$(q "select status from devices where device = 'scene-edge'")" = stopped ] && break
	sleep 0.1
done

# Signed messages moved, a duplicate seq with other bytes, an old online.
python3 - "$WORK/all.txt" "$ROOT" "$WORK" <<'EOP' || fail "could not take the edge's messages from the wire"
import json, os, sys
sys.path.insert(0, os.environ["FL_LIB"])
from fl_sign import unwrap
path, root, work = sys.argv[1:4]
for line in open(path, "rb"):
    t, _, hx = line.rstrip(b"\n").partition(b" ")
    t, p = t.decode(), bytes.fromhex(hx.decode())
    if t == root + "/cam-1/lane-a/incident":
        j = json.loads(unwrap(p))
        if j["type"] == "alarm":
            open(work + "/alarm.bin", "wb").write(p)
            open(work + "/alarm.json", "wb").write(unwrap(p))
    if t == root + "/status" and unwrap(p).startswith(b"online ") and \
       not os.path.exists(work + "/online.bin"):
        open(work + "/online.bin", "wb").write(p)
for f in ("alarm.bin", "online.bin"):
    assert os.path.exists(work + "/" + f), f
EOP
anon "$ROOT/cam-1/lane-b/incident" "$WORK/alarm.bin"
anon "$NORTH/cam-1/lane-a/incident" "$WORK/alarm.bin"
sed 's/"type": "alarm"/"type": "vacated"/' "$WORK/alarm.json" >"$WORK/other.json"
cmp -s "$WORK/alarm.json" "$WORK/other.json" && fail "could not change the alarm"
signed "$WORK/device.key" "$ROOT/cam-1/lane-a/incident" <"$WORK/other.json" >"$WORK/other.bin"
anon "$ROOT/cam-1/lane-a/incident" "$WORK/other.bin"
STALE=$(grep -c 'of epoch .* is older than the stored status' "$WORK/hub.log" || true)
anon "$ROOT/status" "$WORK/online.bin"
for _ in $(seq 100); do
	[ "$(q "select count(*) from quarantine where reason like '%other bytes%'")" = 1 ] &&
		[ "$(grep -c 'of epoch .* is older than the stored status' "$WORK/hub.log")" -gt "$STALE" ] && break
	sleep 0.1
done

# What the hub made of it all.
q "select reason from quarantine" >"$WORK/reasons.txt"
expect_q() { # COUNT PATTERN: at least COUNT quarantine reasons match
	[ "$(grep -cE "$2" "$WORK/reasons.txt")" -ge "$1" ] ||
		fail "expected $1 quarantined for '$2'; reasons: $(sort "$WORK/reasons.txt" | uniq -c)"
}
expect_q 12 "^unsigned: device (north|scene)-edge's messages must be signed"
expect_q 12 "^signature: signed by key [0-9a-f]{16}, not by the expected key"
expect_q 1 "^signature: the signature does not verify for this topic"
expect_q 1 "other bytes: not a redelivery"
[ "$(q "select count(*) from incidents where device = 'north-edge'")" = 0 ] ||
	fail "a forged incident of north-edge was stored"
[ "$(q "select count(*) from incidents")" = 1 ] || fail "incidents: $(q 'select incident_id from incidents')"
[ "$(q "select incident_id from incidents")" = "$IID" ] || fail "not the edge's incident"
[ "$(q "select type from incident_events where incident_id = '$IID' and seq = 2")" != vacated ] ||
	fail "the pre-emption was stored"
[ "$(q "select count(*) from incident_events where type = 'vacated'")" = 0 ] || fail "a forged vacated was stored"
q "select count(*) from audit where action = 'duplicate_conflict' and object = '$IID'" | grep -qx 1 ||
	fail "the duplicate with other bytes was not audited: $(q 'select * from audit')"
[ "$(q "select status from devices where device = 'scene-edge'")" = stopped ] ||
	fail "an old online rewrote the status: $(q "select status from devices where device = 'scene-edge'")"
kill -0 $HUB_PID 2>/dev/null || fail "the hub died"

python3 - "$WORK/all.txt" "$ROOT" "$IID" "$WORK/wire.txt" "$WORK/device.key" <<'EOP' || fail "alerts and answers (above)"
import json, os, sys
sys.path.insert(0, os.environ["FL_LIB"])
from fl_sign import unwrap, MAGIC, key_id, load_key
path, root, iid, out, key = sys.argv[1:6]
kid = key_id(load_key(key))
alerts, answers, edge = [], {}, {}
for line in open(path, "rb"):
    t, _, hx = line.rstrip(b"\n").partition(b" ")
    t, p = t.decode(), bytes.fromhex(hx.decode())
    if t == "firelane/scene-site/alerts" or t == "firelane/north-site/alerts":
        alerts.append(json.loads(p))
    if t == root + "/command/state":
        assert p.startswith(MAGIC), "an unsigned answer"
        a = json.loads(unwrap(p))
        answers.setdefault(a["id"], []).append(a)
    if t == root + "/cam-1/lane-a/incident" and p[9:25] == kid:
        j = json.loads(unwrap(p))
        if j["incident_id"] == iid:
            edge.setdefault(j["seq"], j["type"])
    if t == root + "/cam-1/lane-a/settings":
        assert json.loads(p)["enabled"] is True, "the lane was disabled"
kinds = [(a["incident_id"], a["type"]) for a in alerts]
assert (iid, "alarm") in kinds, "the real alarm was not alerted: %s" % kinds
assert all(k[0] == iid for k in kinds), "a forged alert: %s" % kinds
ev = answers.get("evil-1")
assert ev and not ev[0]["ok"] and "unsigned" in ev[0]["error"], ev
op1 = answers.get("op-1")
assert op1 and op1[0]["ok"] is True, op1
assert len(op1) == 2 and not op1[1]["ok"] and "replayed" in op1[1]["error"], op1
op2 = answers.get("op-2")
assert op2 and not op2[0]["ok"] and "stale" in op2[0]["error"], op2
# the edge's own messages of the incident: those its key signed (the
# duplicate with other bytes, signed with it at the end, comes later)
open(out, "w").write("".join("%d|%s\n" % (s, edge[s]) for s in sorted(edge)))
assert "alarm" in edge.values(), edge
print("alerts %s; answers %s" % (kinds, {k: [a["ok"] for a in v] for k, v in answers.items()}))
EOP
q "select seq || '|' || type from incident_events where incident_id = '$IID' order by seq" >"$WORK/stored.txt"
diff "$WORK/wire.txt" "$WORK/stored.txt" >"$WORK/diff.txt" ||
	fail "stored messages differ from the edge's: $(cat "$WORK/diff.txt")"
grep -q "command: rejected: refused: unsigned" "$WORK/edge.log" || fail "the edge did not log the unsigned command"

# Part 2: the same broker with the harness's ACL and accounts.
broker_stop
N_SUB=$(broker_subs "hub-$NAME")
broker_start
broker_device north-edge
broker_wait_sub "hub-$NAME" "$N_SUB" 30 $HUB_PID || fail "the hub did not come back to the broker"
# an observer of everything (the account watch), as subscribe but anew and
# blind to retained messages (scene-edge's own "stopped" is one)
mosquitto_sub -h 127.0.0.1 -p "$PORT" -q 1 -R -i "acl-$NAME" -F '%t %x' -u watch \
	-P "$(broker_pw watch)" -t 'firelane/#' >"$WORK/acl.txt" 2>>"$WORK/sub.log" &
track $!
broker_wait_sub "acl-$NAME" 0 20 $! || fail "the observer did not subscribe"
Q0=$(q "select count(*) from quarantine")
if mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t "$ROOT/cam-1/lane-a/incident" \
	-f "$WORK/forged.json" 2>"$WORK/anon.log"; then
	fail "the broker took an anonymous client"
fi
grep -qi "not authori[sz]ed" "$WORK/anon.log" || fail "anonymous: $(cat "$WORK/anon.log")"
npub() { mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -u north-edge -P "$(broker_pw north-edge)" "$@"; }
msg scene-edge scene-site scene-edge-acl-lane-a-1 1 alarm >"$WORK/acl.json"
npub -t "$ROOT/cam-1/lane-a/incident" -f "$WORK/acl.json" || true
npub -t "$ROOT/command/set" -f "$WORK/disable.json" || true
# north-edge's own topic is its to write: this one arrives (and, unsigned,
# is quarantined), after the two above would have
npub -t "$NORTH/status" -m online || fail "north-edge cannot publish under its own root"
for _ in $(seq 100); do
	[ "$(q "select count(*) from quarantine")" -gt "$Q0" ] && break
	sleep 0.1
done
[ "$(q "select count(*) from quarantine")" = $((Q0 + 1)) ] ||
	fail "expected only north-edge's own message at the hub: $(q "select topic, reason from quarantine order by id desc limit 3")"
q "select topic from quarantine order by id desc limit 1" | grep -qx "$NORTH/status" ||
	fail "the last quarantined is not north-edge's own"
wait_for "$WORK/acl.txt" "^$NORTH/status " 10 || fail "the observer did not see north-edge's message"
grep -q "^$ROOT/" "$WORK/acl.txt" && fail "the broker let north-edge write under scene-edge's root: $(grep "^$ROOT/" "$WORK/acl.txt")"
[ "$(q "select count(*) from incidents")" = 1 ] || fail "an incident was added"
# ... and north-edge's account reads only its own commands and receipts: a
# spy with it on scene-edge's command and receipt topics and on its own
# command topic gets only its own when the hub's account sends to both
mosquitto_sub -h 127.0.0.1 -p "$PORT" -q 1 -i "spy-$NAME" -F '%t %x' -u north-edge \
	-P "$(broker_pw north-edge)" -t "$ROOT/command/set" -t "$ROOT/receipt" \
	-t "$NORTH/command/set" >"$WORK/spy.txt" 2>>"$WORK/sub.log" &
track $!
broker_wait_sub "spy-$NAME" 0 20 $! || fail "the spy did not subscribe"
hpub() { mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -u firelane-hub -P "$(broker_pw firelane-hub)" "$@"; }
hpub -t "$ROOT/command/set" -f "$WORK/captured.bin" || fail "the hub's account cannot command"
hpub -t "$ROOT/receipt" -m '{"incident_id": "x"}' || fail "the hub's account cannot send a receipt"
hpub -t "$NORTH/command/set" -m '{"id": "spy-check"}' || fail "the hub's account cannot command"
wait_for "$WORK/spy.txt" "^$NORTH/command/set " 10 || fail "north-edge did not get its own command"
grep -q "^$ROOT/" "$WORK/spy.txt" && fail "north-edge read scene-edge's: $(grep "^$ROOT/" "$WORK/spy.txt")"
hub_stop
echo "$NAME: ok"
