#!/usr/bin/env python3
"""check_mqtt.py - check what a subscriber saw (mosquitto_sub -F '%t %x').

Usage: check_mqtt.py FILE [--status S1,S2,..] [--incident T1,T2,..]...
                          [--lane-states S1,S2,..] [--evidence DIR]
                          [--min-heartbeats N]

Incident messages are grouped by incident_id in the order incidents first
appear. For each: a duplicate (same incident_id and seq) must be
byte-identical; first arrivals must come in seq order 1, 2, 3 ... without a
gap; the types (duplicates removed) must equal the matching --incident list.
--status: the status payloads seen, in order, consecutive repeats merged,
must end with this sequence. --lane-states: the same for lane state
messages. --evidence DIR: evidence chunks are reassembled into DIR/<id>/,
each chunk checked against its SHA-256, each file against its whole-file
hash and the 'evidence' message's list; DIR/<id>/ is then a bundle for
firelane-verify. Prints a one-line summary; exits 1 with the reason.

Every message the device publishes for the hub (status, heartbeat,
incident, evidence, camera event, command answer) must be signed
(docs/mqtt.md, "Signed messages": checked by its form here; the hub checks
the signature itself); the checks above read the bodies. Statuses are
"WORD EPOCH": --status compares the words, and the epochs must not go
down; every heartbeat carries one.
"""
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fl_sign import MAGIC, unwrap  # noqa: E402

# the device's topics (below firelane/<site>/<device>/) that are signed
SIGNED = ("/status", "/heartbeat", "/incident", "/evidence", "/event",
          "/command/state")


def fail(msg):
    print("check_mqtt: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def load(path):
    msgs = []
    with open(path, "rb") as f:
        for line in f:
            line = line.rstrip(b"\n")
            if not line:
                continue
            topic, _, hx = line.partition(b" ")
            try:
                payload = bytes.fromhex(hx.decode())
            except ValueError:
                fail("bad hex line: %r" % line[:80])
            t = topic.decode()
            if t.startswith("firelane/") and t.endswith(SIGNED) and \
               payload and not payload.startswith(MAGIC):
                fail("%s: an unsigned message: %r" % (t, payload[:60]))
            msgs.append((t, unwrap(payload), payload))
    return msgs


def squeeze(seq):
    out = []
    for s in seq:
        if not out or out[-1] != s:
            out.append(s)
    return out


def main(argv):
    path = argv[1]
    want_status = None
    want_lane = None
    want_inc = []
    evid_dir = None
    min_hb = 0
    i = 2
    while i < len(argv):
        a = argv[i]
        if a == "--status":
            want_status = argv[i + 1].split(",")
        elif a == "--lane-states":
            want_lane = argv[i + 1].split(",")
        elif a == "--incident":
            want_inc.append(argv[i + 1].split(","))
        elif a == "--evidence":
            evid_dir = argv[i + 1]
        elif a == "--min-heartbeats":
            min_hb = int(argv[i + 1])
        else:
            fail("unknown option " + a)
        i += 2
    msgs = load(path)

    status, epochs = [], []
    for t, p, _ in msgs:
        if t.endswith("/status") and t.startswith("firelane/") and p:
            word, _, epoch = p.decode().partition(" ")
            if not epoch.isdigit():
                fail("status without an epoch: %r" % p)
            status.append(word)
            epochs.append(int(epoch))
    if epochs != sorted(epochs):
        fail("status epochs went down: %s" % epochs)
    lanes = [p.decode() for t, p, _ in msgs if t.endswith("/state")
             and not t.endswith("command/state")]
    hbs = [p for t, p, _ in msgs if t.endswith("/heartbeat")]
    for h in hbs:
        j = json.loads(h)
        for k in ("time", "epoch", "uptime_s", "cameras", "spool",
                  "disk_free_mb", "clock"):
            if k not in j:
                fail("heartbeat without %s: %s" % (k, h))

    incidents = {}
    order = []
    for t, p, raw in msgs:
        if not t.endswith("/incident"):
            continue
        j = json.loads(p)
        iid, seq = j["incident_id"], j["seq"]
        inc = incidents.setdefault(iid, {"seen": {}, "types": []})
        if iid not in order:
            order.append(iid)
        if seq in inc["seen"]:
            if inc["seen"][seq] != raw:
                fail("%s seq %d: a duplicate with other bytes" % (iid, seq))
            continue
        expect = len(inc["seen"]) + 1
        if seq != expect:
            fail("%s: seq %d arrived where %d was due (types so far %s)"
                 % (iid, seq, expect, inc["types"]))
        inc["seen"][seq] = raw
        inc["types"].append(j["type"])
        inc.setdefault("msgs", {})[seq] = j

    got = [incidents[i]["types"] for i in order]
    if want_inc and got != want_inc:
        fail("incidents %s, expected %s" % (got, want_inc))
    if want_status is not None:
        s = squeeze(status)
        if s[-len(want_status):] != want_status:
            fail("status %s, expected to end with %s" % (s, want_status))
    if want_lane is not None:
        s = squeeze(lanes)
        if s[-len(want_lane):] != want_lane:
            fail("lane states %s, expected to end with %s" % (s, want_lane))
    if len(hbs) < min_hb:
        fail("%d heartbeats, expected at least %d" % (len(hbs), min_hb))

    nfiles = 0
    if evid_dir:
        files = {}
        for t, p, _ in msgs:
            if not t.endswith("/evidence"):
                continue
            head, _, data = p.partition(b"\n")
            h = json.loads(head)
            if hashlib.sha256(data).hexdigest() != h["chunk_sha256"]:
                fail("chunk %s/%s #%d: SHA-256 mismatch"
                     % (h["incident_id"], h["file"], h["index"]))
            key = (h["incident_id"], h["file"])
            f = files.setdefault(key, {"size": h["size"], "count": h["count"],
                                       "sha": h["file_sha256"], "parts": {}})
            old = f["parts"].get(h["index"])
            if old is not None and old != data:
                fail("chunk re-sent with other bytes")
            f["parts"][h["index"]] = data
        for iid in order:
            ev = [m for m in incidents[iid].get("msgs", {}).values()
                  if m["type"] == "evidence"]
            if not ev:
                continue
            os.makedirs(os.path.join(evid_dir, iid), exist_ok=True)
            for e in ev[0]["evidence"]:
                f = files.get((iid, e["name"]))
                if f is None:
                    fail("%s: no chunks of %s" % (iid, e["name"]))
                if len(f["parts"]) != f["count"]:
                    fail("%s/%s: %d of %d chunks" % (iid, e["name"],
                                                     len(f["parts"]),
                                                     f["count"]))
                data = b"".join(f["parts"][k] for k in range(f["count"]))
                sha = hashlib.sha256(data).hexdigest()
                if sha != f["sha"] or sha != e["sha256"] or \
                   len(data) != e["bytes"]:
                    fail("%s/%s: whole-file hash or size mismatch"
                         % (iid, e["name"]))
                with open(os.path.join(evid_dir, iid, e["name"]), "wb") as o:
                    o.write(data)
                nfiles += 1
        if nfiles == 0:
            fail("no evidence reassembled")

    print("check_mqtt: ok: %d messages, incidents %s, status %s, %d "
          "heartbeats, %d evidence files" % (len(msgs), got, squeeze(status),
                                             len(hbs), nfiles))


if __name__ == "__main__":
    main(sys.argv)
