#!/usr/bin/env python3
"""fl_sign.py - firelane's signed messages, written from docs/mqtt.md
("Signed messages") with Python's cryptography, independently of the C code
(src/core/envelope.c, src/evidence/msgsign.c): the tests sign what a device
or the hub would say with it, and read what they saw on the wire.

    payload = "fl-sig/1 " KID " " SIG " " BODY
    KID = hex(SHA-256(public key))[:16]
    SIG = base64(Ed25519(DOMAIN "\\n" KID "\\n" TOPIC "\\n" BODY))

A key file is what firelane writes: 64 raw bytes, the 32-byte seed then the
public key (a device's key_file, the hub's hub.key).

    fl_sign.py sign KEYFILE TOPIC [--hub] < body > payload
    fl_sign.py lines KEYFILE TOPIC [--hub] < lines > payloads
        (each line a message, signed alone: for mosquitto_pub -l)
    fl_sign.py unwrap < payload > body
    fl_sign.py keygen KEYFILE > public key (base64)
        (a new key file as firelane writes one, for --enrol-device)

As a module (sys.path: tests/integration/lib): sign(), unwrap(), key_id().
"""
import base64
import hashlib
import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

MAGIC = b"fl-sig/1 "
HEADER = len(MAGIC) + 16 + 1 + 88 + 1
DEVICE = b"firelane-device/1"
HUB = b"firelane-hub/1"


def load_key(path):
    raw = open(path, "rb").read()
    if len(raw) != 64:
        raise SystemExit("%s: %d bytes, a key has 64" % (path, len(raw)))
    return Ed25519PrivateKey.from_private_bytes(raw[:32])


def key_id(key):
    pk = key.public_key().public_bytes(serialization.Encoding.Raw,
                                       serialization.PublicFormat.Raw)
    return hashlib.sha256(pk).hexdigest()[:16].encode()


def sign(key, topic, body, domain=DEVICE):
    """The signed payload of body (bytes) for topic (str or bytes)."""
    if isinstance(topic, str):
        topic = topic.encode()
    kid = key_id(key)
    sig = key.sign(domain + b"\n" + kid + b"\n" + topic + b"\n" + body)
    return MAGIC + kid + b" " + base64.b64encode(sig) + b" " + body


def unwrap(payload):
    """The body of a payload as seen on the wire (unsigned: itself)."""
    if payload.startswith(MAGIC) and len(payload) >= HEADER:
        return payload[HEADER:]
    return payload


def keygen(path):
    """A new key file at path (0600); the public key in base64."""
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(serialization.Encoding.Raw,
                             serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())
    pk = key.public_key().public_bytes(serialization.Encoding.Raw,
                                       serialization.PublicFormat.Raw)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(seed + pk)
    return base64.b64encode(pk).decode()


def main(argv):
    if len(argv) >= 2 and argv[1] == "unwrap":
        sys.stdout.buffer.write(unwrap(sys.stdin.buffer.read()))
        return 0
    if len(argv) == 3 and argv[1] == "keygen":
        print(keygen(argv[2]))
        return 0
    if len(argv) < 4 or argv[1] not in ("sign", "lines"):
        sys.stderr.write(__doc__)
        return 2
    key = load_key(argv[2])
    domain = HUB if "--hub" in argv[4:] else DEVICE
    if argv[1] == "sign":
        data = sys.stdin.buffer.read()
        sys.stdout.buffer.write(sign(key, argv[3], data, domain))
        return 0
    # line by line as they come: a slow stream stays one
    for line in sys.stdin.buffer:
        line = line.rstrip(b"\n")
        sys.stdout.buffer.write(sign(key, argv[3], line, domain) + b"\n")
        sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
