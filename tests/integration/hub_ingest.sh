#!/usr/bin/env bash
# hub_ingest.sh - firelane-hub against a real mosquitto and the real edge
# (issue 5, points 1-3 and the ingest part of 9).
#
# A private mosquitto on a free loopback port; firelane-hub with SQLite, an
# evidence folder and alert routing for the scene's site to a local HTTP
# receiver (python3 http.server: /generic, /wecom, /dingtalk and /esc, each
# answering 500 to its first request); the edge's key enrolled with
# --enrol-device and a user added with --add-user; firelane-edge live on the
# synthetic park_leave scene (one car rests, alarms, leaves). Checks:
#   - the hub stores the incident once with every incident message the edge
#     sent (incident_events == the (incident_id, seq) pairs on the wire),
#     status cleared, and the evidence bundle reassembled from its chunks,
#     every file recorded and verified against the ENROLLED key, and the
#     stored bundle passes firelane-verify;
#   - the fleet: the device's status and heartbeat are recorded;
#   - alerts: generic, WeCom (a news card) and DingTalk (markdown) payloads,
#     each checked on arrival against its platform's documented schema
#     (lib/alert_receiver.py), in Chinese with the site's and the lane's
#     Chinese names (the edge's device.site_name and lane name), local time
#     with its offset (+08:00), how long blocked and the alarm still's
#     signed link, received exactly once per incident for the alarm and
#     once for the all-clear, after a 500 (the retry works); the escalation (escalate_s 3, no outcome) once on /esc
#     and on firelane/<site>/enforcement; alarm and all-clear on
#     firelane/<site>/alerts (MQTT);
#   - duplicates: the alarm and cleared messages republished with
#     mosquitto_pub (as on the wire, signed) are stored once and alert
#     nobody again;
#   - hostile input from a device gone wrong (signed with the enrolled key,
#     published with the account of the device its topic names: what the
#     signature cannot refuse, the checks after it must), each quarantined
#     with its reason, nothing stored as an incident, the hub still running: bad JSON, an oversized payload, a
#     device not enrolled, the enrolled device under another site's topic,
#     an incident id of another device, an SQL-looking incident id, path
#     traversal in an evidence chunk's file name and in the evidence list,
#     a chunk whose bytes do not match its hash; an SQL-looking class in a
#     valid message is stored verbatim and every table is intact;
#   - evidence forged after the fact: one altered byte (chunk and file
#     hashes recomputed) is reported as a sha256 mismatch, and the genuine
#     bundle replayed under another incident id does not verify either;
#   - the edge's own "escalated" step escalates at once (once);
#   - SIGTERM: clean exit 0; after a restart, replayed messages make no
#     alert again (the outbox on disk remembers).
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$HUB" "$EDGE" "$SCENE" "$VERIFY" mosquitto mosquitto_sub mosquitto_pub python3 sqlite3
SCENARIO=park_leave
PORT=$(free_port)
HPORT=$(free_port)
scene $SCENARIO
broker_start
subscribe "$WORK/all.txt" 'firelane/#'

# The webhook receiver (lib/alert_receiver.py): every POST checked against
# its platform's documented schema and kept as a JSON line; the first
# request to each path answers 500.
python3 "$FL_LIB/alert_receiver.py" "$HPORT" "$WORK/hooks.jsonl" --fail-first >"$WORK/receiver.log" 2>&1 &
track $!

EV=$WORK/hub-evidence
cat >"$WORK/hub.yaml" <<EOC
mqtt: {host: 127.0.0.1, port: $PORT, client_id: hub-$NAME, keepalive_s: 5, $HUB_AUTH}
http: {listen: ""}
store: {sqlite: $WORK/hub.db}
evidence_dir: $EV
public_url: https://hub.example.org
timezone: "+08:00"
alerts:
  retry_base_s: 0.3
  retry_cap_s: 2
  sites:
    - site: scene-site
      escalate_s: 3
      webhooks:
        - {url: "http://127.0.0.1:$HPORT/generic", format: generic}
        - {url: "http://127.0.0.1:$HPORT/wecom", format: wecom}
        - {url: "http://127.0.0.1:$HPORT/dingtalk", format: dingtalk}
      escalate:
        - {url: "http://127.0.0.1:$HPORT/esc"}
EOC
"$HUB" --config "$WORK/hub.yaml" --check-config >"$WORK/check.log" 2>&1 ||
	fail "--check-config: $(cat "$WORK/check.log")"

edge_config "$WORK/scene/edge.yaml" "$(printf 'evidence:\n  dir: %s\n  pre_roll_s: 4\n  post_roll_s: 3\n' "$WORK/evidence")"
# the names people read, in Chinese, as an installer writes them
sed -i -e "s|^device: {id: scene-edge, site: scene-site}|device: {id: scene-edge, site: scene-site, site_name: \"城东小区 3 号楼\", key_file: $WORK/device.key}|" \
	-e 's|^\(      - id: lane-a\)$|\1\n        name: "消防通道 B"|' "$WORK/scene/edge.yaml"
grep -q '消防通道 B' "$WORK/scene/edge.yaml" || fail "no lane name in the edge's config"
"$EDGE" --config "$WORK/scene/edge.yaml" --print-public-key >"$WORK/pk.txt" 2>"$WORK/pk.log" ||
	fail "--print-public-key"
"$HUB" --config "$WORK/hub.yaml" --enrol-device scene-edge --site scene-site \
	--public-key "$WORK/pk.txt" >"$WORK/admin.log" 2>&1 || fail "--enrol-device"
echo 'pw-of-alice' | "$HUB" --config "$WORK/hub.yaml" --add-user alice \
	--role property --sites scene-site >>"$WORK/admin.log" 2>&1 || fail "--add-user"
echo 'x' | "$HUB" --config "$WORK/hub.yaml" --add-user bob --role king \
	>>"$WORK/admin.log" 2>&1 && fail "--add-user accepted role king"
# a second device, enrolled elsewhere: its topic is not scene-edge's
"$HUB" --config "$WORK/hub.yaml" --enrol-device other-edge --site other-site \
	--public-key "$WORK/pk.txt" >>"$WORK/admin.log" 2>&1 || fail "--enrol-device other"

hub_start "$WORK/hub.yaml" "$WORK/hub.log" -vv

edge_start "$WORK/events.jsonl" "$WORK/edge.log" --config "$WORK/scene/edge.yaml" -v
edge_wait 90

for _ in $(seq 300); do
	[ "$(q "select count(*) from incidents where verified = 1 and status = 'cleared'")" = 1 ] &&
		[ "$(q "select status from devices where device = 'scene-edge'")" = stopped ] && break
	sleep 0.1
done
IID=$(q "select incident_id from incidents")
[ "$(q "select count(*) from incidents")" = 1 ] || fail "expected one incident: $(q 'select incident_id from incidents')"
[ "$(q "select verified from incidents")" = 1 ] || fail "evidence not verified: $(q 'select verify_report from incidents')"
[ "$(q "select status from incidents")" = cleared ] || fail "status $(q 'select status from incidents')"
"$VERIFY" "$EV/$IID" >"$WORK/verify.log" 2>&1 || fail "the stored bundle does not verify"
for _ in $(seq 50); do [ -z "$(ls -A "$EV/.incoming" 2>/dev/null)" ] && break; sleep 0.1; done
[ -z "$(ls -A "$EV/.incoming" 2>/dev/null)" ] || fail "partial files left: $(ls -A "$EV/.incoming")"
[ "$(q "select status from devices where device = 'scene-edge'")" = stopped ] ||
	fail "device status $(q "select status from devices")"
[ -n "$(q "select heartbeat from devices where device = 'scene-edge'")" ] || fail "no heartbeat stored"

# Every incident message on the wire is stored, once.
python3 - "$WORK/all.txt" "$WORK/wire.txt" "$EV/$IID" <<'EOP' || fail "wire vs store (above)"
import json, os, sys
sys.path.insert(0, os.environ["FL_LIB"])
from fl_sign import unwrap
pairs, files = set(), None
for line in open(sys.argv[1], "rb"):
    t, _, hx = line.rstrip(b"\n").partition(b" ")
    if t.endswith(b"/incident"):
        j = json.loads(unwrap(bytes.fromhex(hx.decode())))
        pairs.add((j["incident_id"], j["seq"]))
        if j["type"] == "evidence":
            files = j["evidence"]
open(sys.argv[2], "w").write("".join("%s|%d\n" % p for p in sorted(pairs)))
assert files, "no evidence message on the wire"
got = sorted(os.listdir(sys.argv[3]))
assert got == sorted(f["name"] for f in files), (got, files)
print("%d incident messages, %d evidence files" % (len(pairs), len(files)))
EOP
q "select incident_id || '|' || seq from incident_events order by incident_id, seq" >"$WORK/stored.txt"
diff "$WORK/wire.txt" "$WORK/stored.txt" >/dev/null || fail "stored events differ from the wire: $(diff "$WORK/wire.txt" "$WORK/stored.txt")"
NFILES=$(ls "$EV/$IID" | wc -l)
[ "$(q "select count(*) from evidence where verified = 1")" = "$NFILES" ] || fail "evidence rows"

# Alerts: wait for the escalation and the retried deliveries.
wait_for "$WORK/hooks.jsonl" '"/esc", "code": 200' 20 || fail "no escalation delivered"
sleep 1

# Duplicates: the alarm and cleared messages again.
ROOT=firelane/scene-site/scene-edge
python3 - "$WORK/all.txt" "$WORK" <<'EOP'
import json, os, sys
sys.path.insert(0, os.environ["FL_LIB"])
from fl_sign import unwrap
for line in open(sys.argv[1], "rb"):
    t, _, hx = line.rstrip(b"\n").partition(b" ")
    if t.endswith(b"/incident"):
        p = bytes.fromhex(hx.decode())
        j = json.loads(unwrap(p))
        if j["type"] in ("alarm", "cleared"):
            open("%s/dup-%s.json" % (sys.argv[2], j["type"]), "wb").write(p)
EOP
# pubf TOPIC FILE, pubm TOPIC TEXT: signed with the edge's key, published
# with the account of the device TOPIC names; pubraw TOPIC FILE: as it is
broker_device intruder other-edge
dev_of() { echo "$1" | cut -d/ -f3; }
pubf() { device_pub "$WORK/device.key" "$(dev_of "$1")" "$1" "$2"; }
pubm() { printf '%s' "$2" | device_pub "$WORK/device.key" "$(dev_of "$1")" "$1"; }
pubraw() {
	mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -u scene-edge -P "$(broker_pw scene-edge)" \
		-t "$1" -f "$2"
}
pubraw "$ROOT/cam-1/lane-a/incident" "$WORK/dup-alarm.json"
pubraw "$ROOT/cam-1/lane-a/incident" "$WORK/dup-cleared.json"

# Hostile input.
NOW=$(date +%s)
msg() { # device site iid type [extra]
	printf '{"incident_id": "%s", "seq": 1, "type": "%s", "site": "%s", "device": "%s", "camera": "cam-1", "lane": "lane-a", "unix_time": %s%s}' \
		"$3" "$4" "$2" "$1" "$NOW" "${5:-}"
}
pubm "$ROOT/cam-1/lane-a/incident" '{"incident_id": "scene-edge-1", "seq": '
head -c 300000 /dev/zero | tr '\0' 'x' >"$WORK/big.bin"
pubf "$ROOT/cam-1/lane-a/incident" "$WORK/big.bin"
pubm firelane/scene-site/intruder/cam-1/lane-a/incident "$(msg intruder scene-site intruder-1-lane-a-1 alarm)"
pubm firelane/other-site/scene-edge/cam-1/lane-a/incident "$(msg scene-edge other-site scene-edge-x-lane-a-1 alarm)"
pubm firelane/scene-site/other-edge/cam-1/lane-a/incident "$(msg other-edge scene-site other-edge-y-lane-a-1 alarm)"
pubm "$ROOT/cam-1/lane-a/incident" "$(msg scene-edge scene-site other-edge-z-lane-a-1 alarm)"
pubm "$ROOT/cam-1/lane-a/incident" "$(msg scene-edge scene-site "scene-edge-1'); DROP TABLE incidents;--" alarm)"
pubm "$ROOT/cam-1/lane-a/incident" "$(msg scene-edge scene-site scene-edge-sql-lane-a-1 occupied ', "class": "x\u0027); DROP TABLE incidents;--"')"
chunk() { # file index-bytes chunk_sha
	local data=$1 name=$2 sha
	sha=$(printf '%s' "$data" | sha256sum | cut -d' ' -f1)
	printf '{"incident_id": "scene-edge-trav-lane-a-1", "file": "%s", "index": 0, "count": 1, "offset": 0, "size": %d, "chunk_sha256": "%s", "file_sha256": "%s"}\n%s' \
		"$name" "${#data}" "${3:-$sha}" "$sha" "$data" >"$WORK/chunk.bin"
	pubf "$ROOT/cam-1/lane-a/evidence" "$WORK/chunk.bin"
}
chunk pwned ../../pwned
chunk pwned ..
chunk pwned .pwned
chunk pwned 'a/../../pwned'
chunk pwned ok.jpg 0000000000000000000000000000000000000000000000000000000000000000
pubm "$ROOT/cam-1/lane-a/incident" "$(msg scene-edge scene-site scene-edge-trav-lane-a-1 evidence ', "evidence": [{"name": "../../pwned", "sha256": "0000000000000000000000000000000000000000000000000000000000000000", "bytes": 5}]')"
pubm "$ROOT/status" 'hacked'

for _ in $(seq 100); do
	[ "$(q "select count(*) from quarantine")" -ge 14 ] && break
	sleep 0.1
done
kill -0 $HUB_PID 2>/dev/null || fail "the hub died on hostile input"
q "select reason from quarantine" >"$WORK/reasons.txt"
for r in 'bad JSON' 'exceeds max_payload' 'device intruder is not enrolled' \
	"enrolled for site 'scene-site', not 'other-site'" \
	"enrolled for site 'other-site', not 'scene-site'" \
	'does not belong to device scene-edge' 'incident_id: missing or not an id' \
	'file is not a plain file name' 'chunk_sha256 mismatch' \
	'evidence\[0\]: expected' 'status: not online'; do
	grep -q "$r" "$WORK/reasons.txt" || fail "no quarantine for: $r (got: $(cat "$WORK/reasons.txt"))"
done
[ "$(grep -c 'file is not a plain file name' "$WORK/reasons.txt")" = 4 ] || fail "traversal chunks not all refused"
q "select topic from quarantine" | grep -qE '/(image|state|settings)$' && fail "the edge's direct topics were quarantined"
[ -z "$(find "$WORK" -name '*pwned*')" ] || fail "a traversal wrote a file: $(find "$WORK" -name '*pwned*')"
[ "$(q "select count(*) from incidents")" = 2 ] || fail "incidents: $(q 'select incident_id from incidents')"
[ "$(q "select class from incidents where incident_id = 'scene-edge-sql-lane-a-1'")" = "x'); DROP TABLE incidents;--" ] ||
	fail "SQL-looking class not stored verbatim"
[ "$(q "select count(*) from incident_events where incident_id = '$IID'")" = "$(wc -l <"$WORK/wire.txt")" ] ||
	fail "duplicates were stored"
[ "$(q "select count(*) from devices")" = 2 ] || fail "devices table changed"
grep -q "duplicate, ignored" "$WORK/hub.log" || fail "duplicates not logged"
grep -q "quarantined" "$WORK/hub.log" || fail "quarantine not logged"

# A bundle with one altered byte (chunk and file hashes recomputed, as an
# attacker would) and the genuine bundle replayed under another incident:
# both reassemble, neither verifies.
python3 - "$PORT" "$ROOT" "$EV/$IID" "$NOW" "$WORK/device.key" "$(broker_pw scene-edge)" \
	<<'EOP2' || fail "could not send the forged bundles"
import hashlib, json, os, subprocess, sys, tempfile
sys.path.insert(0, os.environ["FL_LIB"])
from fl_sign import load_key, sign
port, root, src, now, key, pw = sys.argv[1:7]
key = load_key(key)
def pub(topic, payload):
    with tempfile.NamedTemporaryFile() as f:
        f.write(sign(key, topic, payload))
        f.flush()
        subprocess.check_call(["mosquitto_pub", "-h", "127.0.0.1", "-p", port,
                               "-q", "1", "-u", "scene-edge", "-P", pw,
                               "-t", topic, "-f", f.name])
def msg(iid, seq, typ, extra=None):
    m = {"incident_id": iid, "seq": seq, "type": typ, "site": "scene-site",
         "device": "scene-edge", "camera": "cam-1", "lane": "lane-a",
         "unix_time": float(now)}
    m.update(extra or {})
    pub(root + "/cam-1/lane-a/incident", json.dumps(m).encode())
names = sorted(n for n in os.listdir(src) if not n.startswith("manifest."))
names += ["manifest.json", "manifest.sig"]
victim = next(n for n in names if n.endswith(".jpg"))
for iid, tamper in (("scene-edge-tamper-lane-a-1", victim),
                    ("scene-edge-replay-lane-a-1", None)):
    msg(iid, 1, "occupied")
    listed = []
    for n in names:
        data = bytearray(open(os.path.join(src, n), "rb").read())
        if n == tamper:
            data[len(data) // 2] ^= 1
        fsha = hashlib.sha256(data).hexdigest()
        count = max(1, (len(data) + 65535) // 65536)
        for i in range(count):
            c = bytes(data[i * 65536:(i + 1) * 65536])
            h = {"incident_id": iid, "file": n, "index": i, "count": count,
                 "offset": i * 65536, "size": len(data),
                 "chunk_sha256": hashlib.sha256(c).hexdigest(),
                 "file_sha256": fsha}
            pub(root + "/cam-1/lane-a/evidence", json.dumps(h).encode() + b"\n" + c)
        listed.append({"name": n, "sha256": fsha, "bytes": len(data)})
    msg(iid, 2, "evidence", {"evidence": listed})
EOP2
for _ in $(seq 100); do
	[ "$(q "select count(*) from incidents where verified = 0")" = 2 ] && break
	sleep 0.1
done
q "select verify_report from incidents where incident_id = 'scene-edge-tamper-lane-a-1'" | grep -q 'sha256 mismatch' ||
	fail "altered byte not detected: $(q "select incident_id, verified, verify_report from incidents")"
q "select verify_report from incidents where incident_id = 'scene-edge-replay-lane-a-1'" | grep -q "made for incident $IID" ||
	fail "replayed bundle not detected: $(q "select incident_id, verified, verify_report from incidents")"
[ "$(q "select verified from incidents where incident_id = '$IID'")" = 1 ] || fail "the genuine bundle lost its verification"

# The edge's own "escalated" step escalates at once (the alarm's time is
# an hour ahead, so the hub's escalate_s timer cannot be the cause).
# Its alarm carries a plate read (docs/mqtt.md, "Plate"): one line of the
# alarm's alerts and of the escalation.
pubm "$ROOT/cam-1/lane-a/incident" "$(msg scene-edge scene-site scene-edge-esc-lane-a-1 alarm ', "plate": "粤B12345", "plate_confidence": 0.999' |
	sed "s/\"unix_time\": $NOW/\"unix_time\": $((NOW + 3600))/")"
pubm "$ROOT/cam-1/lane-a/incident" "$(msg scene-edge scene-site scene-edge-esc-lane-a-1 escalated | sed 's/"seq": 1/"seq": 2/')"
wait_for "$WORK/hooks.jsonl" '"/esc", "code": 200.*scene-edge-esc-lane-a-1' 10 || fail "the edge's escalated step did not escalate"

# SIGTERM: a clean exit; a restart replays nothing.
hub_stop 5
hub_start "$WORK/hub.yaml" "$WORK/hub.log" -vv
pubraw "$ROOT/cam-1/lane-a/incident" "$WORK/dup-alarm.json"
pubraw "$ROOT/cam-1/lane-a/incident" "$WORK/dup-cleared.json"
sleep 2

python3 - "$WORK/hooks.jsonl" "$WORK/all.txt" "$IID" <<'EOP' || fail "alerts (above)"
import datetime, json, re, sys
hooks = [json.loads(l) for l in open(sys.argv[1])]
iid = sys.argv[3]
bad = [(h["path"], h["errors"]) for h in hooks if h["errors"]]
assert not bad, "payloads off their platform's schema: %s" % bad
SITE, LANE = "城东小区 3 号楼", "消防通道 B"
# the alarm still's signed link (docs/hub.md, "Stills")
link = re.compile(r"^https://hub\.example\.org/pictures/%s/\d{10}-[0-9a-f]{32}\.jpg$" % re.escape(iid))
page = "https://hub.example.org/incidents/" + iid
ok = [h for h in hooks if h["code"] == 200 and
      (h["body"].get("incident_id") == iid or iid in json.dumps(h["body"]))]
esc2 = [h for h in hooks if h["code"] == 200 and h["path"] == "/esc" and
        h["body"]["incident_id"] == "scene-edge-esc-lane-a-1"]
assert len(esc2) == 1, esc2
assert esc2[0]["body"].get("plate") == "粤B12345", esc2
pl = [h["body"] for h in hooks if h["code"] == 200 and "scene-edge-esc-lane-a-1" in json.dumps(h["body"], ensure_ascii=False)]
assert any(b.get("plate") == "粤B12345" for b in pl if "type" in b), pl
# one line of every platform's text: DingTalk markdown, the WeCom card
assert any("车牌：粤B12345" in b["markdown"]["text"] for b in pl if "markdown" in b), pl
assert any("车牌：粤B12345" in b["news"]["articles"][0]["description"]
           for b in pl if "news" in b), pl
def kinds(path):
    return [h["body"] for h in ok if h["path"] == path]
for path in ("/generic", "/wecom", "/dingtalk", "/esc"):
    assert any(h["path"] == path and h["code"] == 500 for h in hooks), "no 500 first on " + path
    assert all(h["ctype"].startswith("application/json") for h in hooks)
g = kinds("/generic")
assert [b["type"] for b in g] == ["alarm", "cleared"], g
local = datetime.timezone(datetime.timedelta(hours=8))
def when(t):  # the hub's zone is +08:00
    return datetime.datetime.fromtimestamp(t, local).strftime("%Y-%m-%d %H:%M:%S +08:00")
for b in g:
    assert b["incident_id"] == iid and b["site"] == "scene-site" and b["site_name"] == SITE, b
    assert b["lane_name"] == LANE and b["lang"] == "zh-CN" and link.match(b["picture"]), b
    assert b["time"] == when(b["unix_time"]) and b["url"] == page, b
    assert "小区：" + SITE in b["text"] and "通道：%s (cam-1/lane-a)" % LANE in b["text"], b["text"]
assert g[0]["title"] == "消防通道被占用" and "报警时间：" + g[0]["time"] in g[0]["text"], g[0]
m = re.search(r"已占用：(\d+)秒", g[0]["text"])
assert m and 5 <= int(m.group(1)) <= 30, g[0]["text"]  # the lane's dwell_s is 10
assert g[1]["title"] == "消防通道已恢复畅通" and "占用时长：" in g[1]["text"], g[1]
w = kinds("/wecom")
assert len(w) == 2 and all(b["msgtype"] == "news" for b in w), w
a0, a1 = w[0]["news"]["articles"][0], w[1]["news"]["articles"][0]
assert a0["title"] == "消防通道被占用：" + SITE and a0["url"] == page and link.match(a0["picurl"]), a0
assert "通道：" + LANE in a0["description"] and "报警时间：" + g[0]["time"] in a0["description"], a0
assert "已占用：" in a0["description"], a0
assert a1["title"] == "消防通道已恢复畅通：" + SITE and "恢复时间：" + g[1]["time"] in a1["description"], a1
d = kinds("/dingtalk")
assert len(d) == 2 and all(b["msgtype"] == "markdown" for b in d), d
t0 = d[0]["markdown"]["text"]
assert d[0]["markdown"]["title"] == "消防通道被占用 " + SITE, d[0]
assert "- 通道：" + LANE in t0 and "- 报警时间：" + g[0]["time"] in t0, t0
img = re.search(r"!\[现场照片\]\(([^)]*)\)", t0)
assert img and link.match(img.group(1)) and "[查看事件](%s)" % page in t0, t0
e = kinds("/esc")
assert len(e) == 1 and e[0]["type"] == "escalated" and e[0]["incident_id"] == iid, e
assert e[0]["title"] == "消防通道占用未处理（已升级）" and e[0]["lane_name"] == LANE, e[0]
assert re.search(r"已占用：\d+", e[0]["text"]), e[0]["text"]
mq = {}
for line in open(sys.argv[2], "rb"):
    t, _, hx = line.rstrip(b"\n").partition(b" ")
    if t in (b"firelane/scene-site/alerts", b"firelane/scene-site/enforcement"):
        j = json.loads(bytes.fromhex(hx.decode()))
        if j["incident_id"] == iid:
            mq.setdefault(t.decode(), []).append(j["type"])
            assert j["site_name"] == SITE and link.match(j["picture"]), j
assert mq.get("firelane/scene-site/alerts") == ["alarm", "cleared"], mq
assert mq.get("firelane/scene-site/enforcement") == ["escalated"], mq
print("webhooks: %d requests, %d delivered, all on schema; mqtt %s" % (len(hooks), len(ok), mq))
EOP
hub_stop
echo "$NAME: ok"
