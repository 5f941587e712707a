#!/usr/bin/env python3
"""spoolgen.py -- write N rawsave items straight into a spool, as zonedrop.cgi would.

usage: spoolgen.py SPOOL_DIR --count N [--prefix P] [--suffix S] [--start I]
                   [--serial N] [--hostname H] [--username U]

For tests and benchmarks that need 10,000 or 100,000 zones in the desired
state without 100,000 HTTP requests: each item is a DirectAdmin-shaped zone
(zdclient.da_zone) for P%05d.S, with the header the CGI writes (DESIGN.md
"Spool item format", Source: directadmin), written to tmp/ and renamed into
new/ under a unique Maildir name <sec>.<usec>.<pid>_<n>.<host>. No fsync:
this is test data, not a delivery promise. Prints "spooled N items in S s".
"""
import argparse
import datetime
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zdclient import da_zone  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("spool")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--prefix", default="gen")
    p.add_argument("--suffix", default="spoolgen.example")
    p.add_argument("--serial", type=int, default=2026010101)
    p.add_argument("--hostname", default="da1.e2e.example")
    p.add_argument("--username", default="alice")
    a = p.parse_args()
    host = "".join(c for c in socket.gethostname().split(".")[0] if c.isalnum() or c == "-") or "h"
    pid = os.getpid()
    tmp, new = os.path.join(a.spool, "tmp"), os.path.join(a.spool, "new")
    t0 = time.time()
    for n in range(a.start, a.start + a.count):
        domain = "%s%05d.%s" % (a.prefix, n, a.suffix)
        now = time.time()
        sec, usec = int(now), int((now % 1) * 1e6)
        received = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
        name = "%d.%06d.%d_%d.%s" % (sec, usec, pid, n, host)
        head = ("Action: rawsave\nDomain: %s\nHostname: %s\nUsername: %s\nSource: directadmin\n"
                "Client-Ip: 127.0.0.1\nReceived: %s\n\n"
                % (domain, a.hostname, a.username, received.strftime("%Y-%m-%dT%H:%M:%S.%fZ")))
        path = os.path.join(tmp, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        os.write(fd, head.encode() + da_zone(domain, a.serial, "198.51.100.%d" % (n % 250 + 1), n))
        os.close(fd)
        os.rename(path, os.path.join(new, name))
    print("spooled %d items in %.2f s" % (a.count, time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
