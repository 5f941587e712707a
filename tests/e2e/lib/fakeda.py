#!/usr/bin/env python3
"""fakeda.py: a DirectAdmin-like HTTP server for zonedrop-reconcile tests.
Standard library only; binds 127.0.0.1 only; stops on SIGTERM.

  fakeda.py --domains FILE --port-file F [--user U --password-file P]
            [--mode json|legacy|lines|evo] [--control FILE] [--log FILE]
            [--max-ipp N] [--work-dir DIR]

FILE: one domain per line ('#' comments), re-read on every request.
--control FILE: its first word, re-read on every request, is the failure
mode (none when missing):
  down        close the connection without an answer
  hang        accept and never answer (until stopped)
  html        200 text/html login page
  500         HTTP 500
  garbage     200 text/plain random bytes
  truncated   the JSON page cut in half
  empty       a valid listing with no domains
  redirect    302 to the login page even with a session
  page-500    page 2 answers 500
  pages-change  total_pages grows by one after page 1 (the list moved)
  rows-lie    info.rows one more than the domains served
Modes: json (GET /CMD_DNS_ADMIN?json=yes&page=N&ipp=M, {"0":{"domain":..},..,
"info":{"current_page","ipp","total_pages","rows"}}), legacy
(list[]=a.com&list[]=b.com), lines (one domain per line), evo (json, but Basic
auth gets a 302; POST /CMD_LOGIN with username/password/referer sets a cookie).
Each request is logged as one JSON line to --log.
"""
import argparse
import base64
import http.server
import json
import os
import random
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.parse

LOGIN = (b"<!DOCTYPE html><html><head><title>DirectAdmin Login</title></head><body>"
         b"<form action=\"/CMD_LOGIN\" method=\"post\"></form></body></html>\n")


class S:
    a = None
    password = ""
    sessions = set()
    lock = threading.Lock()
    stop = threading.Event()


_cache = {"key": None, "doms": []}


def domains():
    st = os.stat(S.a.domains)
    key = (st.st_mtime_ns, st.st_size, st.st_ino)
    with S.lock:
        if _cache["key"] == key:
            return _cache["doms"]
    out = []
    with open(S.a.domains, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line.split()[0])
    with S.lock:
        _cache["key"], _cache["doms"] = key, out
    return out


def fail_mode():
    c = S.a.control
    if c and os.path.exists(c):
        with open(c) as f:
            w = f.read().split()
        return w[0] if w else "none"
    return "none"


class H(http.server.BaseHTTPRequestHandler):
    server_version = "DirectAdmin Daemon v1.fakeda"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def log(self, status, note=""):
        if not S.a.log:
            return
        u = urllib.parse.urlsplit(self.path)
        b = self.basic()
        e = {"t": round(time.time(), 3), "method": self.command, "path": u.path, "query": u.query,
             "basic": b[0] if b else None, "cookie": self.session() is not None,
             "status": status, "note": note}
        with S.lock, open(S.a.log, "a") as f:
            f.write(json.dumps(e) + "\n")

    def basic(self):
        h = self.headers.get("Authorization", "")
        if not h.lower().startswith("basic "):
            return None
        try:
            u, _, p = base64.b64decode(h[6:].strip(), validate=True).decode().partition(":")
            return (u, p)
        except Exception:
            return ("", "")

    def session(self):
        for part in self.headers.get("Cookie", "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == "session" and v in S.sessions:
                return v
        return None

    def send(self, status, body, ctype="text/plain", extra=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True
        self.log(status)

    def do_GET(self):
        self.dispatch(b"")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.dispatch(self.rfile.read(n) if n > 0 else b"")

    def dispatch(self, body):
        mode = fail_mode()
        if mode == "down":
            self.log(None, "down")
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.close_connection = True
            return
        if mode == "hang":
            self.log(None, "hang")
            S.stop.wait(300)
            self.close_connection = True
            return
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        if u.path == "/CMD_LOGIN" and self.command == "POST":
            f = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
            if (f.get("username"), f.get("password")) == (S.a.user, S.password):
                t = secrets.token_hex(16)
                S.sessions.add(t)
                return self.send(302, "", extra=[("Location", f.get("referer") or "/"),
                                                 ("Set-Cookie", "session=%s; path=/; HttpOnly" % t)])
            return self.send(200, LOGIN, "text/html; charset=utf-8")
        if u.path != "/CMD_DNS_ADMIN":
            return self.send(404, "error=1&text=Unknown command")
        if S.a.mode == "evo" and self.session() is None:
            return self.send(302, "", extra=[("Location", "/evo/login")])
        if S.a.mode != "evo" and self.basic() != (S.a.user, S.password):
            return self.send(401, "error=1&text=Invalid login")
        if mode == "redirect":
            return self.send(302, "", extra=[("Location", "/evo/login")])
        if mode == "html":
            return self.send(200, LOGIN, "text/html; charset=utf-8")
        if mode == "500":
            return self.send(500, "<html><body>Internal Server Error</body></html>", "text/html")
        if mode == "garbage":
            r = random.Random(7)
            return self.send(200, bytes(r.getrandbits(8) for _ in range(700)))
        doms = [] if mode == "empty" else domains()
        if S.a.mode == "legacy":
            return self.send(200, "&".join("list[]=" + urllib.parse.quote(d) for d in doms))
        if S.a.mode == "lines":
            return self.send(200, "".join(d + "\n" for d in doms))
        try:
            page = max(1, int(q.get("page", "1")))
            ipp = max(1, min(int(q.get("ipp", "50")), S.a.max_ipp))
        except ValueError:
            return self.send(200, "error=1&text=bad paging")
        if mode == "page-500" and page == 2:
            return self.send(500, "<html>500</html>", "text/html")
        pages = max(1, (len(doms) + ipp - 1) // ipp)
        obj = {}
        for i, d in enumerate(doms[(page - 1) * ipp: page * ipp]):
            obj[str(i)] = {"domain": d, "username": "admin", "suspended": "no"}
        total = pages + 1 if mode == "pages-change" and page > 1 else pages
        rows = len(doms) + 1 if mode == "rows-lie" else len(doms)
        # DirectAdmin sends numbers as strings
        obj["info"] = {"current_page": str(page), "ipp": str(ipp), "total_pages": str(total),
                       "rows": str(rows)}
        text = json.dumps(obj)
        if mode == "truncated":
            text = text[:len(text) // 2]
        return self.send(200, text, "application/json")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--domains", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--user", default="admin")
    ap.add_argument("--password-file")
    ap.add_argument("--mode", default="json", choices=["json", "legacy", "lines", "evo"])
    ap.add_argument("--control")
    ap.add_argument("--log")
    ap.add_argument("--max-ipp", type=int, default=1000)
    ap.add_argument("--work-dir", help="only so that the test harness knows the process is ours")
    S.a = ap.parse_args()
    if S.a.password_file:
        with open(S.a.password_file) as f:
            S.password = f.read().strip()
    srv = Server(("127.0.0.1", 0), H)

    def stop(*_):
        S.stop.set()
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    tmp = S.a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, S.a.port_file)
    srv.serve_forever(poll_interval=0.2)
    srv.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
