#!/usr/bin/env python3
"""expect_multi: check corpus .expect files against several DNS servers at once.

Usage: expect_multi.py --dns NAME=127.0.0.1@PORT [--dns ...] [--wait S] FILE.expect...

.expect lines: "<name> <TYPE> <answer>" -- the answer as `dig +short` prints it
(every RR of the answer section, so a CNAME followed by its target's address
is two lines); lines sharing name and type are the whole answer set (order and
case ignored); "-" no data (the server is authoritative, answers nothing);
"#N" exactly N answers; "absent" nothing answered. "#" lines are comments,
"! ..." lines are push options for the test (ignored here).

One `dig -f` batch per server and round; failing groups are asked again every
0.3 s until --wait (default 20 s) passes. Prints "FAIL <server>: <why>" lines,
or "PASS <n> answer set(s) on <servers>". Exit 0 all held, 1 some did not, 2 usage.
"""
import argparse
import subprocess
import sys
import time


def read_groups(files):
    groups = {}
    for path in files:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line.strip() or line[0] in "#!":
                    continue
                name, rtype, ans = (line.split(None, 2) + ["", ""])[:3]
                ans = " ".join(ans.split())
                key = (name, rtype.upper())
                if ans not in groups.setdefault(key, []):
                    groups[key].append(ans)
    return groups


def ask(keys, dns):
    """{(name, TYPE): (rcode, aa, [rdata...])} for every key, one dig process."""
    addr, _, port = dns.partition("@")
    batch = "".join("%s %s\n" % k for k in keys)
    try:
        out = subprocess.run(["dig", "-p", port or "53", "@" + addr, "+norec", "+time=2",
                              "+tries=2", "+noall", "+comments", "+question", "+answer",
                              "-f", "-"], input=batch, capture_output=True, text=True,
                             timeout=300).stdout
    except (subprocess.TimeoutExpired, OSError):
        out = ""
    res, cur = {}, None
    rcode, aa, answers = None, False, []

    def flush():
        if cur is not None:
            res[cur] = (rcode, aa, answers)
    for line in out.splitlines():
        if line.startswith(";; ->>HEADER<<-"):
            flush()
            cur, rcode, aa, answers = None, None, False, []
            rcode = line.split("status:")[1].split(",")[0].strip()
        elif line.startswith(";; flags:"):
            aa = " aa" in line.split(";")[2]
        elif line.startswith(";") and not line.startswith(";;"):
            parts = line[1:].split()
            if len(parts) >= 3:
                cur = (parts[0], parts[2].upper())
        elif line and not line.startswith(";"):
            parts = line.split(None, 4)
            if len(parts) == 5:
                answers.append(" ".join(parts[4].split()))
    flush()
    return res


def judge(key, wanted, got):
    name, rtype = key
    if got is None:
        return "%s %s: no reply" % (name, rtype)
    rcode, aa, answers = got
    if wanted == ["absent"]:
        return "%s %s: still answered: %s" % (name, rtype, answers) if answers else None
    if not aa:
        return "%s %s: not authoritative (%s): zone not served?" % (name, rtype, rcode)
    if wanted == ["-"]:
        return "%s %s: expected no answer, got %s" % (name, rtype, answers) if answers else None
    if len(wanted) == 1 and wanted[0].startswith("#"):
        n = int(wanted[0][1:])
        return None if len(answers) == n else "%s %s: %d answers, wanted %d: %s" % (
            name, rtype, len(answers), n, answers)
    w = sorted(x.lower() for x in wanted)
    g = sorted(x.lower() for x in answers)
    return None if w == g else "%s %s: got %s, wanted %s" % (name, rtype, g, w)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dns", action="append", required=True, help="NAME=127.0.0.1@PORT")
    p.add_argument("--wait", type=float, default=20.0)
    p.add_argument("files", nargs="+")
    a = p.parse_args()
    servers = []
    for d in a.dns:
        name, _, addr = d.rpartition("=")
        servers.append((name or addr, addr))
    groups = read_groups(a.files)
    pending = {s: dict(groups) for s, _ in servers}
    problems = {}
    deadline = time.time() + a.wait
    while True:
        for s, addr in servers:
            if not pending[s]:
                continue
            got = ask(sorted(pending[s]), addr)
            still = {}
            for key, wanted in pending[s].items():
                why = judge(key, wanted, got.get(key))
                if why:
                    still[key] = wanted
                    problems[(s, key)] = why
                else:
                    problems.pop((s, key), None)
            pending[s] = still
        if not any(pending.values()) or time.time() >= deadline:
            break
        time.sleep(0.3)
    for (s, _), why in sorted(problems.items()):
        print("FAIL %s: %s" % (s, why))
    if problems:
        return 1
    print("PASS %d answer set(s) on %s" % (len(groups), " ".join(s for s, _ in servers)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
