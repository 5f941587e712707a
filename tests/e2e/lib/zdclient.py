#!/usr/bin/env python3
"""zdclient: talk to zonedrop.cgi the way DirectAdmin does (raw HTTP/1.0 sockets).

Used by the end-to-end tests (tests/e2e) and bench/push-drain. Standard library only;
requests are written byte for byte (no Content-Type, no User-Agent, no keep-alive),
so what reaches the web server is what DirectAdmin sends.

Usage: zdclient.py [--base URL] [--user U] [--password P] [--timeout S] COMMAND ...
  (defaults from $ZD_URL, $ZD_USER, $ZD_PASS)

Single requests print one line "STATUS BODY" (STATUS 000 when there was no answer):
  login [--post] [--auth U:P|--no-auth]
  exists DOMAIN [--parent] [--post] [--auth U:P|--no-auth]
  push DOMAIN FILE [--hostname H] [--username U] [--named-reload] [--content-type CT]
                   [--auth U:P|--no-auth]
  delete DOMAIN... [--hostname H] [--username U] [--content-type CT]
                   (DirectAdmin's delete: action=delete&cluster=yes&hostname=H&select0=..)
  request METHOD PATH [--query Q] [--body-file F|--body S] [--header H]... [--auth U:P|--no-auth]
  raw FILE         send a file as the whole request ({auth} and {host} expand)
Batches:
  cases DIR|FILE... --spool DIR [--results F]   hostile .case files (see tests/fixtures/bad)
  zone DOMAIN SERIAL [--ip A] [--crlf]          print a zone in DirectAdmin's format
  push-many --prefix P --suffix S --count N [--clients C] [--procs] [--serial N]
            [--start K] [--stats] [--ok-file F]   N pushes by C concurrent clients
            (F: the domains accepted, one per line); --stats prints
            "pushes=N ok=N seconds=S rate=R p50_ms=X p99_ms=Y"
  served-many --prefix P --suffix S --count N --dns 127.0.0.1@PORT [--serial N]
            [--wait S] [--absent]   one dig -f batch (polled) for all N SOAs
  soa-wait (--names-file F | --prefix P --suffix S --count N) --dns 127.0.0.1@PORT
            [--serial N] [--wait S]   raw UDP, all queries in flight: seconds until
            every name answers (the bench's clock; tests use dig)
  expect FILE.expect... --dns 127.0.0.1@PORT [--wait S]
            answers as the corpus .expect files list them (polled)
Exit: 0 ok, 1 a check failed (batches) or no HTTP answer (single requests), 2 usage.
"""
import argparse
import base64
import os
import socket
import subprocess
import sys
import time
import urllib.parse


class Opts:
    base = "http://127.0.0.1:2222"
    user = ""
    password = ""
    timeout = 30.0


O = Opts()


def target():
    u = urllib.parse.urlsplit(O.base)
    return u.hostname or "127.0.0.1", u.port or 80


def host_header():
    h, p = target()
    return "%s:%d" % (h, p)


def b64(cred):
    return base64.b64encode(cred.encode("latin-1")).decode()


class Response:
    def __init__(self, status=None, body=b"", error=None):
        self.status = status
        self.body = body
        self.error = error

    def keys(self):
        text = self.body.decode("utf-8", "replace").strip()
        try:
            return dict(urllib.parse.parse_qsl(text, keep_blank_values=True))
        except ValueError:
            return {}

    def line(self):
        if self.status is None:
            return "000 " + (self.error or "no answer")
        body = self.body.decode("utf-8", "replace").strip().replace("\r", "\\r").replace("\n", "\\n")
        return "%03d %s" % (self.status, body)


def send_raw(data, timeout=None):
    timeout = timeout or O.timeout
    host, port = target()
    try:
        s = socket.create_connection((host, port), timeout=timeout)
    except OSError as e:
        return Response(error="connect: %s" % e)
    chunks = []
    try:
        try:
            s.sendall(data)
        except OSError:
            pass            # the server may answer (413, 400) before reading everything
        deadline = time.time() + timeout
        while True:
            s.settimeout(max(0.1, deadline - time.time()))
            c = s.recv(65536)
            if not c:
                break
            chunks.append(c)
    except socket.timeout:
        if not chunks:
            return Response(error="timeout after %.0fs" % timeout)
    except OSError as e:
        if not chunks:
            return Response(error=str(e))
    finally:
        s.close()
    return parse_response(b"".join(chunks))


def parse_response(raw):
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    lines = head.decode("latin-1").splitlines()
    if not lines or not lines[0].startswith("HTTP/"):
        return Response(error="not an HTTP answer: %r" % raw[:80])
    try:
        status = int(lines[0].split(" ", 2)[1])
    except (IndexError, ValueError):
        return Response(error="bad status line %r" % lines[0])
    for l in lines[1:]:
        k, _, v = l.partition(":")
        if k.strip().lower() == "content-length" and v.strip().isdigit():
            body = body[:int(v.strip())]
    return Response(status, body)


def build(method, path, query=None, body=b"", headers=(), auth="default",
          version="HTTP/1.0", content_length="auto"):
    """A request as DirectAdmin writes it: Authorization, Host, Content-Length."""
    tgt = path + ("?" + query if query not in (None, "") else "")
    lines = ["%s %s %s" % (method, tgt, version)]
    if auth == "default":
        lines.append("Authorization: Basic " + b64("%s:%s" % (O.user, O.password)))
    elif auth not in (None, "none"):
        lines.append("Authorization: Basic " + b64(auth))
    lines.append("Host: " + host_header())
    lines += list(headers)
    if content_length == "auto":
        if method not in ("GET", "HEAD") or body:
            lines.append("Content-Length: %d" % len(body))
    elif content_length not in (None, "none"):
        lines.append("Content-Length: %s" % content_length)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def q(s):
    return urllib.parse.quote(s, safe=".-_")


def da_zone(domain, serial, ip="192.0.2.10", idx=0, crlf=False):
    """A zone as DirectAdmin pushes it: 13 leading newlines, $TTL, @ SOA in
    parentheses over six lines, apex absolute, other owners relative, no $ORIGIN."""
    d = domain + "."
    text = ("\n" * 13 + "$TTL 3600\n"
            "@\tIN\tSOA\tns1.e2e-dns.example.\thostmaster.%s (\n"
            "\t\t\t\t\t\t%d\n\t\t\t\t\t\t3600\n\t\t\t\t\t\t3600\n\t\t\t\t\t\t1209600\n"
            "\t\t\t\t\t\t86400 )\n\n"
            "%s\t3600\tIN\tNS\tns1.e2e-dns.example.\n"
            "%s\t3600\tIN\tNS\tns2.e2e-dns.example.\n\n"
            "%s\t3600\tIN\tA\t%s\n"
            "mail\t3600\tIN\tA\t%s\n"
            "www\t3600\tIN\tA\t%s\n\n"
            "%s\t3600\tIN\tMX\t10 mail\n\n"
            "%s\t3600\tIN\tTXT\t\"v=spf1 a mx ~all\"\n"
            "zone\t3600\tIN\tTXT\t\"zone number %d\"\n" % (d, serial, d, d, d, ip, ip, ip, d, d, idx)
            + "\n" * 7)
    if crlf:
        text = text.replace("\n", "\r\n")
    return text.encode()


def auth_of(a):
    if getattr(a, "no_auth", False):
        return "none"
    if getattr(a, "auth", None):
        return a.auth
    return "default"


def push_req(domain, body, hostname="da1.e2e.example", username="alice", named_reload=False,
             content_type=None, auth="default"):
    query = "action=rawsave&domain=" + q(domain)
    if named_reload:
        query += "&named_reload=yes"
    if username:
        query += "&username=" + q(username)
    query += "&hostname=" + q(hostname)
    headers = ["Content-Type: " + content_type] if content_type else []
    return build("POST", "/CMD_API_DNS_ADMIN", query, body, headers=headers, auth=auth)


def delete_req(domains, hostname="da1.e2e.example", username=None, content_type=None,
               auth="default"):
    body = "action=delete&cluster=yes&hostname=" + q(hostname)
    for i, d in enumerate(domains):
        body += "&select%d=%s" % (i, q(d))
    if username:
        body += "&username=" + q(username)
    headers = ["Content-Type: " + content_type] if content_type else []
    return build("POST", "/CMD_API_DNS_ADMIN", None, body.encode(), headers=headers, auth=auth)


# ---------------------------------------------------------------- single requests

def cmd_login(a):
    r = send_raw(build("POST" if a.post else "GET", "/CMD_API_LOGIN_TEST", auth=auth_of(a)))
    print(r.line())
    return 0 if r.status else 1


def cmd_exists(a):
    query = "action=exists&domain=" + q(a.domain)
    if a.parent:
        query += "&check_for_parent_domain=true"
    if a.post:
        req = build("POST", "/CMD_API_DNS_ADMIN", None, query.encode(), auth=auth_of(a))
    else:
        req = build("GET", "/CMD_API_DNS_ADMIN", query, auth=auth_of(a))
    r = send_raw(req)
    print(r.line())
    return 0 if r.status else 1


def cmd_push(a):
    with open(a.file, "rb") as f:
        body = f.read()
    r = send_raw(push_req(a.domain, body, a.hostname, a.username, a.named_reload,
                          a.content_type, auth_of(a)))
    print(r.line())
    return 0 if r.status else 1


def cmd_delete(a):
    r = send_raw(delete_req(a.domains, a.hostname, a.username, a.content_type, auth_of(a)))
    print(r.line())
    return 0 if r.status else 1


def cmd_request(a):
    body = b""
    if a.body_file:
        with open(a.body_file, "rb") as f:
            body = f.read()
    elif a.body is not None:
        body = a.body.encode("latin-1")
    r = send_raw(build(a.method, a.path, a.query, body, headers=a.header, auth=auth_of(a),
                       content_length=a.content_length))
    print(r.line())
    return 0 if r.status else 1


def cmd_raw(a):
    with open(a.file, "rb") as f:
        data = f.read()
    data = data.replace(b"{auth}", b64("%s:%s" % (O.user, O.password)).encode())
    data = data.replace(b"{host}", host_header().encode())
    r = send_raw(data)
    print(r.line())
    return 0 if r.status else 1


# ---------------------------------------------------------------- hostile cases

def fill(template):
    vals = {"user": O.user, "USER": O.user.upper(), "password": O.password,
            "password_prefix": O.password[:max(1, len(O.password) // 2)],
            "auth": b64("%s:%s" % (O.user, O.password)), "host": host_header()}
    for k, v in vals.items():
        template = template.replace("{" + k + "}", v)
    return template.replace("\\r", "\r").replace("\\n", "\n").replace("\\u0000", "\0")


def read_case(path):
    c = {"header": []}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            k, _, v = line.partition(":")
            v = v[1:] if v.startswith(" ") else v
            if k.strip() == "header":
                c["header"].append(v)
            else:
                c[k.strip()] = v
    return c


def spool_snapshot(spool):
    out = set()
    for sub in ("new", "tmp"):
        try:
            out |= {sub + "/" + n for n in os.listdir(os.path.join(spool, sub))}
        except FileNotFoundError:
            pass
    return out


def status_matches(expect, status):
    for alt in expect.split("|"):
        alt = alt.strip().lower()
        if alt == "none" and status is None:
            return True
        if status is None:
            continue
        if alt.endswith("xx") and str(status)[0] == alt[0]:
            return True
        if alt.isdigit() and int(alt) == status:
            return True
    return False


def run_case(path, spool):
    c = read_case(path)
    base = os.path.dirname(os.path.abspath(path))
    if c.get("raw"):
        with open(os.path.join(base, c["raw"]), "rb") as f:
            data = f.read()
        data = fill(data.decode("latin-1")).encode("latin-1")
    else:
        body = b""
        if c.get("body"):
            with open(os.path.join(base, c["body"]), "rb") as f:
                body = f.read()
        if c.get("body_pad_to"):
            filler = b"; padding to make the body larger than the receiver accepts ....\n"
            out = bytearray(body)
            while len(out) < int(c["body_pad_to"]):
                out += filler
            body = bytes(out[:int(c["body_pad_to"])])
        auth = c.get("auth", "kit")
        auth = "default" if auth == "kit" else ("none" if auth == "none" else fill(auth))
        data = build(c.get("method", "POST"), c.get("path", "/CMD_API_DNS_ADMIN"),
                     c.get("query"), body, headers=[fill(h) for h in c["header"]], auth=auth,
                     version=c.get("version", "HTTP/1.0"),
                     content_length=c.get("content_length", "auto"))
    before = spool_snapshot(spool)
    r = send_raw(data)
    problems = []
    exp = c.get("expect_status", "4xx")
    if not status_matches(exp, r.status):
        problems.append("status %s, wanted %s (%s)" % (r.status, exp, r.line()))
    experr = c.get("expect_error", "1")
    if r.status is not None and experr != "any":
        k = r.keys()
        if k.get("error") != experr:
            problems.append("body is not error=%s: %r" % (experr, r.body[:120]))
        elif experr == "1" and not k.get("text", "").strip():
            problems.append("error=1 without text=")
    # the CGI answers after its rename or unlink: anything new now stays new
    new = sorted(spool_snapshot(spool) - before)
    if c.get("expect_spool", "none") == "none" and new:
        problems.append("spooled although refused: %s" % " ".join(new))
    if c.get("expect_alive", "yes") == "yes":
        lr = send_raw(build("GET", "/CMD_API_LOGIN_TEST"))
        if lr.status != 200 or lr.keys().get("error") != "0":
            problems.append("receiver not answering a login test afterwards (%s)" % lr.line())
    return c.get("why", ""), problems


def cmd_cases(a):
    files = []
    for p in a.paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".case"))
        else:
            files.append(p)
    if not files:
        print("no .case files", file=sys.stderr)
        return 2
    fh = open(a.results, "w") if a.results else None
    bad = 0
    for f in files:
        name = os.path.basename(f)[:-len(".case")] if f.endswith(".case") else os.path.basename(f)
        why, problems = run_case(f, a.spool)
        verdict = "FAIL" if problems else "PASS"
        bad += 1 if problems else 0
        detail = "; ".join(problems).replace("\t", " ").replace("\n", "\\n")
        print("%s %s (%s)%s" % (verdict, name, why, ": " + detail if detail else ""))
        if fh:
            fh.write("%s\t%s\t%s\n" % (name, verdict, detail))
            fh.flush()
    return 1 if bad else 0


# ---------------------------------------------------------------- batches

def cmd_zone(a):
    sys.stdout.buffer.write(da_zone(a.domain, a.serial, a.ip, 0, a.crlf))
    return 0


def many_names(a):
    return ["%s%05d.%s" % (a.prefix, i, a.suffix) for i in range(a.start, a.start + a.count)]


def _push_slice(args):
    """Push a list of (idx, domain) sequentially; returns [(ok, seconds, detail)]."""
    base, user, password, timeout, serial, items = args
    O.base, O.user, O.password, O.timeout = base, user, password, timeout
    out = []
    for idx, d in items:
        req = push_req(d, da_zone(d, serial, "198.51.100.%d" % (idx % 250 + 1), idx))
        t0 = time.perf_counter()
        r = send_raw(req)
        dt = time.perf_counter() - t0
        ok = r.status == 200 and r.keys().get("error") == "0"
        out.append((ok, dt, d if ok else "%s: %s" % (d, r.line())))
    return out


def cmd_push_many(a):
    names = list(enumerate(many_names(a), a.start))
    clients = max(1, min(a.clients, len(names)))
    slices = [names[i::clients] for i in range(clients)]
    jobs = [(O.base, O.user, O.password, O.timeout, a.serial, s) for s in slices]
    import concurrent.futures     # imported here: they cost ~50 ms at every start
    import multiprocessing
    t0 = time.perf_counter()
    if a.procs and clients > 1:
        with multiprocessing.Pool(clients) as pool:
            results = pool.map(_push_slice, jobs)
    else:
        with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as ex:
            results = list(ex.map(_push_slice, jobs))
    total = time.perf_counter() - t0
    flat = [x for r in results for x in r]
    fails = [d for ok, _, d in flat if not ok]
    if a.ok_file:
        with open(a.ok_file, "w") as f:
            f.write("".join(d + "\n" for ok, _, d in flat if ok))
    lat = sorted(dt for _, dt, _ in flat)

    def pct(p):
        return lat[min(len(lat) - 1, int(round(p / 100.0 * (len(lat) - 1))))] * 1000.0 if lat else 0.0
    if a.stats:
        print("pushes=%d ok=%d clients=%d seconds=%.3f rate=%.1f p50_ms=%.2f p99_ms=%.2f"
              % (len(flat), len(flat) - len(fails), clients, total,
                 len(flat) / total if total > 0 else 0.0, pct(50), pct(99)))
    else:
        print("pushed %d zones with %d clients in %.1fs, %d refused"
              % (len(flat), clients, total, len(fails)))
    for f in fails[:20]:
        print("  " + f)
    return 1 if fails else 0


def dig_soas(names, dns):
    """name -> serial (str) for every name answered with a SOA, one dig process."""
    addr, _, port = dns.partition("@")
    batch = "".join("%s SOA\n" % n for n in names)
    try:
        out = subprocess.run(["dig", "-p", port or "53", "@" + addr, "+norec", "+time=1",
                              "+tries=2", "+noall", "+answer", "-f", "-"], input=batch,
                             capture_output=True, text=True, timeout=900).stdout
    except subprocess.TimeoutExpired:
        out = ""
    got = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 7 and parts[3] == "SOA":
            got[parts[0].rstrip(".")] = parts[6]
    return got


def cmd_served_many(a):
    names = many_names(a)
    deadline = time.time() + a.wait
    left = set(names)
    while True:
        got = dig_soas(sorted(left), a.dns)
        for n in list(left):
            if a.absent:
                if n not in got:
                    left.discard(n)
            elif n in got and (a.serial is None or got[n] == str(a.serial)):
                left.discard(n)
        if not left or time.time() >= deadline:
            break
        time.sleep(0.5)
    if left:
        what = "still served" if a.absent else "not served" + (
            "" if a.serial is None else " with serial %d" % a.serial)
        print("FAIL %d of %d zones %s: %s" % (len(left), len(names), what,
                                             " ".join(sorted(left)[:10])))
        return 1
    print("PASS all %d zones %s" % (len(names), "absent" if a.absent else "served"))
    return 0


def _skip_name(buf, i):
    while i < len(buf):
        n = buf[i]
        if n & 0xC0 == 0xC0:
            return i + 2
        if n == 0:
            return i + 1
        i += n + 1
    raise ValueError("truncated name")


def soa_serials(names, dns, timeout=0.5):
    """SOA serial (int) per name that the server answers authoritatively, by raw
    UDP queries all in flight at once (for the bench: no process per query)."""
    import select
    import struct
    addr, _, port = dns.partition("@")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.connect((addr, int(port or 53)))
    s.setblocking(False)
    got, pending = {}, {"outstanding": 0}
    for i, n in enumerate(names):
        qid = i & 0xFFFF
        q = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0)
        q += b"".join(bytes([len(l)]) + l.encode() for l in n.rstrip(".").split(".")) + b"\0"
        q += struct.pack(">HH", 6, 1)
        pending["outstanding"] += 1
        while True:
            try:
                s.send(q)
                break
            except BlockingIOError:
                select.select([], [s], [], 0.1)
            except ConnectionRefusedError:      # nothing listens (yet): no answers
                s.close()
                return got
        if i % 256 == 255:           # drain replies now and then: no socket overflow
            _soa_read(s, pending, got, 0)
    _soa_read(s, pending, got, timeout)
    s.close()
    return got


def _soa_read(s, pending, got, timeout):
    import select
    import struct
    end = time.time() + timeout
    while pending["outstanding"] > 0:
        left = end - time.time()
        r, _, _ = select.select([s], [], [], max(0.0, left))
        if not r:
            return
        try:
            buf = s.recv(4096)
        except BlockingIOError:
            continue
        except ConnectionRefusedError:
            return
        if len(buf) < 12:
            continue
        pending["outstanding"] -= 1
        qid, flags, qd, an = struct.unpack(">HHHH", buf[:8])
        try:
            i = 12
            qname_end = _skip_name(buf, i)
            qname = []
            j = i
            while buf[j]:
                qname.append(buf[j + 1:j + 1 + buf[j]].decode("ascii", "replace"))
                j += buf[j] + 1
            name = ".".join(qname).lower()
            if flags & 0x000F != 0 or not flags & 0x0400 or an < 1:
                continue
            i = qname_end + 4
            i = _skip_name(buf, i)
            rtype, _, _, rdlen = struct.unpack(">HHIH", buf[i:i + 10])
            i += 10
            if rtype != 6:
                continue
            i = _skip_name(buf, i)
            i = _skip_name(buf, i)
            got[name] = struct.unpack(">I", buf[i:i + 4])[0]
        except (ValueError, struct.error, IndexError):
            continue


def cmd_soa_wait(a):
    """Poll until every name answers its SOA (with --serial: that serial); print seconds."""
    if a.names_file:
        with open(a.names_file) as f:
            names = [l.strip().rstrip(".").lower() for l in f if l.strip()]
    else:
        names = many_names(a)
    t0 = time.perf_counter()
    left = set(names)
    while left and time.perf_counter() - t0 < a.wait:
        got = soa_serials(sorted(left), a.dns)
        for n, ser in got.items():
            if a.serial is None or ser == a.serial:
                left.discard(n)
        if left:
            time.sleep(0.05)
    dt = time.perf_counter() - t0
    print("served=%d of %d seconds=%.2f" % (len(names) - len(left), len(names), dt))
    return 1 if left else 0


def dig_answers(name, rtype, dns):
    """(rcode, aa, [rdata]) for one query; rcode None when nothing answered."""
    addr, _, port = dns.partition("@")
    cmd = ["dig", "+norec", "+time=2", "+tries=2", "+nocmd", "+noall", "+comments", "+answer",
           "-p", port or "53", "@" + addr, name, rtype]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
    except (subprocess.TimeoutExpired, OSError):
        return None, False, []
    rcode, aa, answers = None, False, []
    for line in out.splitlines():
        if "status:" in line:
            rcode = line.split("status:")[1].split(",")[0].strip()
        if line.startswith(";; flags:"):
            aa = " aa" in line.split(";")[2]
        if line and not line.startswith(";"):
            parts = line.split(None, 4)
            if len(parts) == 5 and parts[3].upper() == rtype.upper():
                answers.append(" ".join(parts[4].split()))
    return rcode, aa, answers


def check_group(name, rtype, wanted, dns):
    rcode, aa, got = dig_answers(name, rtype, dns)
    if rcode is None:
        return "%s %s: no reply from %s" % (name, rtype, dns)
    if wanted == ["absent"]:
        return "%s %s: still answered: %s" % (name, rtype, got) if got else None
    if not aa:
        return "%s %s: not authoritative (%s): zone not served?" % (name, rtype, rcode)
    if wanted == ["-"]:
        return "%s %s: expected no answer, got %s" % (name, rtype, got) if got else None
    if len(wanted) == 1 and wanted[0].startswith("#"):
        n = int(wanted[0][1:])
        return None if len(got) == n else "%s %s: %d answers, wanted %d" % (name, rtype, len(got), n)
    w = sorted(" ".join(x.split()).lower() for x in wanted)
    g = sorted(x.lower() for x in got)
    return None if w == g else "%s %s: got %s, wanted %s" % (name, rtype, g, w)


def cmd_expect(a):
    """Check .expect files (lines "<name> <TYPE> <answer>", '-' no data, '#N', 'absent')."""
    groups = {}
    for path in a.files:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line.strip() or line[0] in "#!":
                    continue
                name, rtype, ans = (line.split(None, 2) + ["", ""])[:3]
                key = (name, rtype.upper())
                if ans.strip() not in groups.setdefault(key, []):
                    groups[key].append(ans.strip())
    deadline = time.time() + a.wait
    pending = list(groups.items())
    while True:
        problems, still = [], []
        for (name, rtype), wanted in pending:
            p = check_group(name, rtype, wanted, a.dns)
            if p:
                problems.append(p)
                still.append(((name, rtype), wanted))
        if not still or time.time() >= deadline:
            break
        pending = still
        time.sleep(0.3)
    for p in problems:
        print("FAIL " + p)
    if not problems:
        print("PASS %d answer set(s)" % len(groups))
    return 1 if problems else 0


def main():
    p = argparse.ArgumentParser(prog="zdclient.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", default=os.environ.get("ZD_URL", O.base))
    p.add_argument("--user", default=os.environ.get("ZD_USER", ""))
    p.add_argument("--password", default=os.environ.get("ZD_PASS", ""))
    p.add_argument("--timeout", type=float, default=30.0)
    sub = p.add_subparsers(dest="cmd", required=True)

    def with_auth(sp):
        sp.add_argument("--auth", help="USER:PASSWORD instead of the default credentials")
        sp.add_argument("--no-auth", action="store_true")
        return sp

    s = with_auth(sub.add_parser("login"))
    s.add_argument("--post", action="store_true")
    s.set_defaults(fn=cmd_login)

    s = with_auth(sub.add_parser("exists"))
    s.add_argument("domain")
    s.add_argument("--parent", action="store_true")
    s.add_argument("--post", action="store_true")
    s.set_defaults(fn=cmd_exists)

    s = with_auth(sub.add_parser("push"))
    s.add_argument("domain")
    s.add_argument("file")
    s.add_argument("--hostname", default="da1.e2e.example")
    s.add_argument("--username", default="alice")
    s.add_argument("--named-reload", action="store_true")
    s.add_argument("--content-type")
    s.set_defaults(fn=cmd_push)

    s = with_auth(sub.add_parser("delete"))
    s.add_argument("domains", nargs="+")
    s.add_argument("--hostname", default="da1.e2e.example")
    s.add_argument("--username")
    s.add_argument("--content-type")
    s.set_defaults(fn=cmd_delete)

    s = with_auth(sub.add_parser("request"))
    s.add_argument("method")
    s.add_argument("path")
    s.add_argument("--query")
    s.add_argument("--body-file")
    s.add_argument("--body")
    s.add_argument("--header", action="append", default=[])
    s.add_argument("--content-length", default="auto")
    s.set_defaults(fn=cmd_request)

    s = sub.add_parser("raw")
    s.add_argument("file")
    s.set_defaults(fn=cmd_raw)

    s = sub.add_parser("cases")
    s.add_argument("paths", nargs="+")
    s.add_argument("--spool", required=True)
    s.add_argument("--results")
    s.set_defaults(fn=cmd_cases)

    s = sub.add_parser("zone")
    s.add_argument("domain")
    s.add_argument("serial", type=int)
    s.add_argument("--ip", default="192.0.2.10")
    s.add_argument("--crlf", action="store_true")
    s.set_defaults(fn=cmd_zone)

    for name, fn in (("push-many", cmd_push_many), ("served-many", cmd_served_many)):
        s = sub.add_parser(name)
        s.add_argument("--prefix", required=True)
        s.add_argument("--suffix", required=True)
        s.add_argument("--count", type=int, required=True)
        s.add_argument("--start", type=int, default=0)
        s.add_argument("--serial", type=int)
        s.set_defaults(fn=fn)
        if name == "push-many":
            s.add_argument("--clients", type=int, default=1)
            s.add_argument("--procs", action="store_true", help="processes instead of threads")
            s.add_argument("--stats", action="store_true")
            s.add_argument("--ok-file", help="write the domains pushed with error=0 here")
        else:
            s.add_argument("--dns", required=True, help="127.0.0.1@PORT")
            s.add_argument("--wait", type=float, default=30.0)
            s.add_argument("--absent", action="store_true")

    s = sub.add_parser("soa-wait")
    s.add_argument("--names-file")
    s.add_argument("--prefix", default="")
    s.add_argument("--suffix", default="")
    s.add_argument("--count", type=int, default=0)
    s.add_argument("--start", type=int, default=0)
    s.add_argument("--serial", type=int)
    s.add_argument("--dns", required=True)
    s.add_argument("--wait", type=float, default=600.0)
    s.set_defaults(fn=cmd_soa_wait)

    s = sub.add_parser("expect")
    s.add_argument("files", nargs="+")
    s.add_argument("--dns", required=True, help="127.0.0.1@PORT")
    s.add_argument("--wait", type=float, default=20.0)
    s.set_defaults(fn=cmd_expect)

    a = p.parse_args()
    O.base, O.user, O.password, O.timeout = a.base, a.user, a.password, a.timeout
    if a.cmd == "push-many" and a.serial is None:
        a.serial = 2026010101
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
