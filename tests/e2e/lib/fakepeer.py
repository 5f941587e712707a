#!/usr/bin/env python3
"""fakepeer: a zonedrop peer that says what the test wrote (tests/e2e/92-peers.bats).

Serve:  fakepeer.py --port P --log FILE --workdir DIR
  GET /<mode>/internal/zones            -> DIR/fake/<mode>/list as is (application/x-ndjson)
  GET /<mode>/internal/zones?domain=D   -> DIR/fake/<mode>/zones/D as is, else 404
  GET /<mode>/internal/zones?domains=D,E -> those files, one per line, then the trailer
  DIR/fake/<mode>/status (a number) and .../location replace the answer (redirects).
  Every request is logged as "<mode> <path?query> <basic-auth user or ->".
Build:  fakepeer.py entry DIR MODE DOMAIN SERIAL CHANGED [--zone FILE] [--deleted]
                     [--bad-sha] [--hostname H] [--username U]
        fakepeer.py trailer DIR MODE       (appends {"end":true,"count":N})
Standard library only.
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import sys
import urllib.parse


def cmd_entry(a):
    d = os.path.join(a.dir, "fake", a.mode)
    os.makedirs(os.path.join(d, "zones"), exist_ok=True)
    e = {"domain": a.domain, "state": "deleted" if a.deleted else "present",
         "serial": int(a.serial), "changed": a.changed}
    ans = dict(e)
    if not a.deleted:
        text = open(a.zone, "rb").read().decode("utf-8")
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if a.bad_sha:
            sha = hashlib.sha256(b"something else").hexdigest()
        e.update({"hostname": a.hostname, "username": a.username, "sha256": sha})
        ans = dict(e)
        ans["zone"] = text
    with open(os.path.join(d, "list"), "a") as f:
        f.write(json.dumps(e, separators=(",", ":")) + "\n")
    with open(os.path.join(d, "zones", a.domain), "w") as f:
        f.write(json.dumps(ans, separators=(",", ":")) + "\n")


def cmd_trailer(a):
    p = os.path.join(a.dir, "fake", a.mode, "list")
    n = sum(1 for _ in open(p)) if os.path.exists(p) else 0
    with open(p, "a") as f:
        f.write(json.dumps({"end": True, "count": n}, separators=(",", ":")) + "\n")


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body, ctype="text/plain", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        parts = u.path.split("/")
        mode = parts[1] if len(parts) > 1 else ""
        user = "-"
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            except Exception:
                user = "?"
        with open(self.server.logf, "a") as f:
            f.write("%s %s %s\n" % (mode, self.path, user))
        d = os.path.join(self.server.workdir, "fake", mode)
        if not mode or not os.path.isdir(d) or "/".join(parts[2:]) != "internal/zones":
            return self.send(404, b"error=1&text=not%20found")
        sp = os.path.join(d, "status")
        if os.path.exists(sp):
            code = int(open(sp).read().strip())
            loc = os.path.join(d, "location")
            extra = {"Location": open(loc).read().strip()} if os.path.exists(loc) else None
            return self.send(code, b"moved", extra=extra)
        q = urllib.parse.parse_qs(u.query)
        if "domain" in q:
            zp = os.path.join(d, "zones", os.path.basename(q["domain"][0]))
            if not os.path.exists(zp):
                return self.send(404, b"error=1&text=not%20found")
            return self.send(200, open(zp, "rb").read(), "application/json")
        if "domains" in q:
            out, n = b"", 0
            for dom in q["domains"][0].split(","):
                zp = os.path.join(d, "zones", os.path.basename(dom))
                if os.path.exists(zp):
                    out += open(zp, "rb").read()
                    n += 1
            out += json.dumps({"end": True, "count": n}, separators=(",", ":")).encode() + b"\n"
            return self.send(200, out, "application/x-ndjson")
        lp = os.path.join(d, "list")
        body = open(lp, "rb").read() if os.path.exists(lp) else b""
        return self.send(200, body, "application/x-ndjson")


def serve(a):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), H)
    srv.logf = a.log
    srv.workdir = a.workdir
    srv.serve_forever()


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("entry", "trailer"):
        p = argparse.ArgumentParser()
        sub = p.add_subparsers(dest="cmd")
        s = sub.add_parser("entry")
        for n in ("dir", "mode", "domain", "serial", "changed"):
            s.add_argument(n)
        s.add_argument("--zone")
        s.add_argument("--deleted", action="store_true")
        s.add_argument("--bad-sha", action="store_true")
        s.add_argument("--hostname", default="da9.e2e.example")
        s.add_argument("--username", default="mallory")
        s = sub.add_parser("trailer")
        s.add_argument("dir")
        s.add_argument("mode")
        a = p.parse_args()
        return cmd_entry(a) if a.cmd == "entry" else cmd_trailer(a)
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--workdir", required=True)
    serve(p.parse_args())


if __name__ == "__main__":
    main()
