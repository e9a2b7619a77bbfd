#!/usr/bin/env python3
"""alert_receiver.py - a webhook receiver that checks what the hub sends
against each platform's documented message schema (docs/hub.md, "Alerts",
cites the pages).

    alert_receiver.py PORT OUT [--fail-first]

Serves HTTP on 127.0.0.1:PORT. Every POST is checked by its path's
platform: /wecom* as a WeCom group robot message, /dingtalk* as a DingTalk
group robot message, /sms* not at all (an owner notification: the body is
the site's own owner_template, for the operator's SMS gateway), anything
else as firelane's generic alert. Each
request is appended to OUT as one JSON line: {"path", "code", "ctype",
"body", "errors"} (errors: what breaks the schema, [] when nothing does).
A message that breaks its schema is answered as the platform would: HTTP
200 with a non-zero errcode (the hub counts it as not delivered). With
--fail-first the first request to each path answers HTTP 500 (the retry
works).

As a module, check(path, body) returns the list of errors.
"""
import http.server
import json
import re
import sys
import threading

URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")


def _nbytes(s):
    return len(s.encode("utf-8"))


def _text(errs, obj, key, where, required=True, max_bytes=None):
    """obj[key] is a string (non-empty when required) of at most max_bytes."""
    if key not in obj:
        if required:
            errs.append("%s.%s: missing" % (where, key))
        return None
    v = obj[key]
    if not isinstance(v, str):
        errs.append("%s.%s: not a string" % (where, key))
        return None
    if required and not v.strip():
        errs.append("%s.%s: empty" % (where, key))
    if max_bytes is not None and _nbytes(v) > max_bytes:
        errs.append("%s.%s: %d bytes, at most %d" % (where, key, _nbytes(v), max_bytes))
    return v


def _only(errs, obj, keys, where):
    extra = set(obj) - set(keys)
    if extra:
        errs.append("%s: unknown fields %s" % (where, sorted(extra)))


def check_wecom(b):
    """A WeCom group robot message (text, markdown, image, news)."""
    errs = []
    t = b.get("msgtype")
    if t not in ("text", "markdown", "image", "news"):
        return ["msgtype: %r is not text, markdown, image or news" % t]
    _only(errs, b, ("msgtype", t), "message")
    m = b.get(t)
    if not isinstance(m, dict):
        return errs + ["%s: missing or not an object" % t]
    if t == "markdown":
        _only(errs, m, ("content",), "markdown")
        _text(errs, m, "content", "markdown", max_bytes=4096)
    elif t == "text":
        _text(errs, m, "content", "text", max_bytes=2048)
    elif t == "news":
        _only(errs, m, ("articles",), "news")
        a = m.get("articles")
        if not isinstance(a, list) or not 1 <= len(a) <= 8:
            return errs + ["news.articles: not a list of 1 to 8 articles"]
        for i, art in enumerate(a):
            w = "news.articles[%d]" % i
            if not isinstance(art, dict):
                errs.append(w + ": not an object")
                continue
            _only(errs, art, ("title", "description", "url", "picurl"), w)
            _text(errs, art, "title", w, max_bytes=128)
            _text(errs, art, "description", w, required=False, max_bytes=512)
            for k, req in (("url", True), ("picurl", False)):
                v = _text(errs, art, k, w, required=req)
                if v is not None and not URL.match(v):
                    errs.append("%s.%s: not an http(s) URL: %r" % (w, k, v))
    return errs


def check_dingtalk(b):
    """A DingTalk group robot message (text, link, markdown, actionCard,
    feedCard); markdown in full, the others by their type."""
    errs = []
    t = b.get("msgtype")
    if t not in ("text", "link", "markdown", "actionCard", "feedCard"):
        return ["msgtype: %r is not a DingTalk robot message type" % t]
    _only(errs, b, ("msgtype", t, "at"), "message")
    m = b.get(t)
    if not isinstance(m, dict):
        return errs + ["%s: missing or not an object" % t]
    if t == "markdown":
        _only(errs, m, ("title", "text"), "markdown")
        _text(errs, m, "title", "markdown")
        text = _text(errs, m, "text", "markdown") or ""
        for url in re.findall(r"!\[[^\]]*\]\(([^)]*)\)", text):
            if not URL.match(url):
                errs.append("markdown.text: image not an http(s) URL: %r" % url)
    return errs


GENERIC = {"type": str, "site": str, "device": str, "camera": str, "lane": str,
           "incident_id": str, "unix_time": (int, float), "time": str,
           "lang": str, "title": str, "text": str, "url": str}
GENERIC_NULL = {"site_name": str, "lane_name": str, "blocked_since": (int, float),
                "picture": str, "plate": str}


def check_generic(b):
    """firelane's own alert (docs/hub.md, "Alerts")."""
    errs = []
    for k, ty in GENERIC.items():
        if not isinstance(b.get(k), ty):
            errs.append("%s: missing or not %s" % (k, ty))
    for k, ty in GENERIC_NULL.items():
        if k not in b or not (b[k] is None or isinstance(b[k], ty)):
            errs.append("%s: missing or not %s/null" % (k, ty))
    if b.get("type") not in ("alarm", "cleared", "escalated"):
        errs.append("type: %r" % b.get("type"))
    if not re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d$", b.get("time", "")):
        errs.append("time: not local time with its offset: %r" % b.get("time"))
    _only(errs, b, list(GENERIC) + list(GENERIC_NULL), "alert")
    return errs


def check(path, body):
    if not isinstance(body, dict):
        return ["not a JSON object"]
    if path.startswith("/wecom"):
        return check_wecom(body)
    if path.startswith("/dingtalk"):
        return check_dingtalk(body)
    if path.startswith("/sms"):
        return []  # the operator's template: any JSON object
    return check_generic(body)


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    fail_first = "--fail-first" in sys.argv[3:]
    seen, lock = set(), threading.Lock()

    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(n)
            try:
                body = json.loads(raw.decode("utf-8"))
                errs = check(self.path, body)
            except (UnicodeDecodeError, ValueError) as e:
                body, errs = raw.decode("utf-8", "replace"), ["not JSON: %s" % e]
            with lock:
                first = self.path not in seen
                seen.add(self.path)
                code = 500 if first and fail_first else 200
                with open(out, "a") as f:
                    f.write(json.dumps({"path": self.path, "code": code,
                                        "ctype": self.headers.get("Content-Type"),
                                        "body": body, "errors": errs},
                                       ensure_ascii=False) + "\n")
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            if code != 200:
                self.wfile.write(b"{}")
            elif errs:  # as the platforms answer a message they refuse
                self.wfile.write(json.dumps({"errcode": 40008, "errmsg": "; ".join(errs)}).encode())
            else:
                self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

        def log_message(self, *a):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()


if __name__ == "__main__":
    main()
