#!/usr/bin/env python3
"""promcheck.py -- a strict checker for the Prometheus text exposition format 0.0.4.

usage: promcheck.py [--prefix P] [FILE]    (stdin without FILE)

Stricter than the format demands, so that any scraper reads what passes:
  * every line is "# HELP", "# TYPE", or a sample; no blank or other lines;
  * metric names [a-zA-Z_:][a-zA-Z0-9_:]*, each starting with P when given;
  * per family: one HELP, then one TYPE (counter|gauge|untyped), then its
    samples, all together; HELP/TYPE never after a sample of the family, and
    a family never reappears once another began;
  * counters are named *_total and never negative;
  * labels {name="value",...}: names [a-zA-Z_][a-zA-Z0-9_]*, not "__*",
    no name twice; values only with the escapes \\\\ \\" \\n; no trailing comma;
  * values are floats as Go's ParseFloat reads them (or +Inf -Inf NaN), an
    optional integer timestamp after;
  * no series (name + label set) twice; the text ends with a newline.
Prints "ok families=F samples=S" and exits 0, or one line per problem, exit 1.
"""
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$|[+-]Inf$|NaN$")
TYPES = ("counter", "gauge", "untyped")


def parse_labels(s, i, errs, ln):
    """s[i] == '{'; returns (labels dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if i < len(s) and s[i] == "}":
            if labels and s[i - 1] == ",":
                errs.append("line %d: trailing comma in labels" % ln)
            return labels, i + 1
        m = LABEL.match(s, i)
        if not m:
            raise ValueError("bad label name at column %d" % (i + 1))
        name = m.group(0)
        if name.startswith("__"):
            raise ValueError("reserved label name %s" % name)
        if name in labels:
            raise ValueError("label %s twice" % name)
        i = m.end()
        if s[i:i + 2] != '="':
            raise ValueError('expected =" after label %s' % name)
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise ValueError("unterminated label value")
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise ValueError("bad escape \\%s in label %s" % (nxt, name))
                val.append({"n": "\n"}.get(nxt, nxt))
                i += 2
                continue
            if c == '"':
                i += 1
                break
            val.append(c)
            i += 1
        labels[name] = "".join(val)
        if i < len(s) and s[i] == ",":
            i += 1
        elif i < len(s) and s[i] != "}":
            raise ValueError("expected , or } after label %s" % name)


def check(text, prefix=""):
    errs = []
    fam = {}          # name -> {"help":, "type":, "samples": n, "closed": bool}
    order = []
    current = None
    series = set()
    nsamples = 0
    if text and not text.endswith("\n"):
        errs.append("the text does not end with a newline")
    for ln, line in enumerate(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"), 1):
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) < 3 or parts[0] != "#" or parts[1] not in ("HELP", "TYPE"):
                errs.append("line %d: a comment that is neither HELP nor TYPE: %r" % (ln, line))
                continue
            kind, name = parts[1], parts[2]
            if not NAME.fullmatch(name) or not name.startswith(prefix):
                errs.append("line %d: bad metric name %r" % (ln, name))
                continue
            f = fam.get(name)
            if f is None:
                if current is not None:
                    fam[current]["closed"] = True
                f = fam[name] = {"help": None, "type": None, "samples": 0, "closed": False}
                order.append(name)
                current = name
            elif f["closed"] or current != name:
                errs.append("line %d: family %s appears again after another began" % (ln, name))
                continue
            if f["samples"]:
                errs.append("line %d: %s after samples of %s" % (ln, kind, name))
            if kind == "HELP":
                if f["help"] is not None:
                    errs.append("line %d: second HELP for %s" % (ln, name))
                if f["type"] is not None:
                    errs.append("line %d: HELP after TYPE for %s" % (ln, name))
                if len(parts) < 4 or not parts[3].strip():
                    errs.append("line %d: empty HELP for %s" % (ln, name))
                f["help"] = parts[3] if len(parts) > 3 else ""
            else:
                if f["type"] is not None:
                    errs.append("line %d: second TYPE for %s" % (ln, name))
                t = parts[3] if len(parts) > 3 else ""
                if t not in TYPES:
                    errs.append("line %d: unknown type %r for %s" % (ln, t, name))
                if t == "counter" and not name.endswith("_total"):
                    errs.append("line %d: counter %s is not named *_total" % (ln, name))
                f["type"] = t
            continue
        if line == "":
            errs.append("line %d: blank line" % ln)
            continue
        m = NAME.match(line)
        if not m:
            errs.append("line %d: no metric name: %r" % (ln, line))
            continue
        name = m.group(0)
        i = m.end()
        labels = {}
        try:
            if i < len(line) and line[i] == "{":
                labels, i = parse_labels(line, i, errs, ln)
        except ValueError as e:
            errs.append("line %d: %s: %r" % (ln, e, line))
            continue
        rest = line[i:]
        if not rest.startswith(" "):
            errs.append("line %d: no space before the value: %r" % (ln, line))
            continue
        fields = rest[1:].split(" ")
        if len(fields) not in (1, 2) or not FLOAT.match(fields[0]):
            errs.append("line %d: bad value %r" % (ln, rest))
            continue
        if len(fields) == 2 and not re.fullmatch(r"-?[0-9]+", fields[1]):
            errs.append("line %d: bad timestamp %r" % (ln, fields[1]))
        f = fam.get(name)
        if f is None or f["type"] is None or f["help"] is None:
            errs.append("line %d: sample of %s without HELP and TYPE before it" % (ln, name))
            continue
        if current != name:
            errs.append("line %d: sample of %s outside its family's block" % (ln, name))
        if f["type"] == "counter" and fields[0].startswith("-"):
            errs.append("line %d: negative counter %s" % (ln, name))
        key = (name, tuple(sorted(labels.items())))
        if key in series:
            errs.append("line %d: series twice: %s%s" % (ln, name, dict(labels)))
        series.add(key)
        f["samples"] += 1
        nsamples += 1
    return errs, len(order), nsamples


def main():
    args = sys.argv[1:]
    prefix = ""
    if args[:1] == ["--prefix"]:
        prefix = args[1]
        args = args[2:]
    data = open(args[0], "rb").read() if args else sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        print("not UTF-8: %s" % e)
        return 1
    errs, nfam, nsamples = check(text, prefix)
    for e in errs:
        print(e)
    if errs:
        return 1
    print("ok families=%d samples=%d" % (nfam, nsamples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
