#!/usr/bin/env python3
"""structure.py: the five structure rules of issue 10, checked in one run.
Called by scripts/check-structure.sh (its one entry point); nothing else.

  structure.py BUILDDIR [TOP]

BUILDDIR holds the built libnavette.a (or is the archive itself); TOP is the
source tree holding src/ and drivers/ (default: this checkout). The rules:

  calls       no cycle between the object files of libnavette.a, an edge being
              "A.o uses a global symbol that B.o defines" (nm)
  includes    no cycle of #include "..." between the modules of src/ and drivers/
  copies      no block of 10 or more lines and 80 or more tokens found twice
              (jscpd 5.3.2 with scripts/jscpd.json) in the C files of src/,
              drivers/ and tests/
  length      no .c/.h of src/ or drivers/ over 700 lines unless its first
              comment has a line " * Long because: <a reason of 3 words or more>"
  cli-header  nothing outside src/cli/ includes a header of src/cli/

Prints what each rule found; exits 0 when all hold, 1 on a violation, 2 when a
rule could not look (no archive, no jscpd, no python): a rule that did not look
has not passed.

A module is a path without its extension, and X_int.h (X's internal header,
what X's own files share) belongs to module X: src/util/log.c and src/util/log.h are
one node of the include graph, so a .c including its own .h is no cycle, while
A.c including B.h and B.c including A.h is one. The calls graph is over object
files, so there a module is its .c (a header defines no global symbol).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

SCANNED = ("src", "drivers")   # the folders whose files the rules govern
LONG_MARK = "Long because:"    # in a long file's first comment, with its reason
LONG_LIMIT = 700               # lines
HERE = os.path.dirname(os.path.abspath(__file__))
JSCPD = os.environ.get("JSCPD") or os.path.join(
    HERE, "..", "tests", "tools", "node_modules", ".bin", "jscpd")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]')


def rel(path, top):
    return os.path.relpath(path, top)


def sources(top):
    """Every .c and .h under TOP/src and TOP/drivers, sorted."""
    out = []
    for sub in SCANNED:
        for root, dirs, files in os.walk(os.path.join(top, sub)):
            dirs.sort()
            out += [os.path.join(root, f) for f in sorted(files)
                    if f.endswith((".c", ".h"))]
    return out


def includes_of(path):
    """(line number, '<' or '"', name) of each #include of a file."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = INCLUDE_RE.match(line)
            if m:
                yield n, m.group(1), m.group(2)


def resolve(top, path, name):
    """Where the compiler finds #include "name" written in path: the file's own
    folder first, then -I$(top_srcdir)/src (Makefile.am). None when neither
    holds it (nv_autoconf.h is generated in the build folder)."""
    for base in (os.path.dirname(path), os.path.join(top, "src")):
        cand = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(cand):
            return cand
    return None


def sccs(nodes, edges):
    """Strongly connected components (Tarjan, iterative) with more than one node."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter[0]; counter[0] += 1
        stack.append(root); on_stack.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]; counter[0] += 1
                    stack.append(w); on_stack.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop(); on_stack.discard(w); comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return sorted(out)


def report_cycles(kind, comps, edges, why):
    """Prints each cycle: its members, then every edge inside it with the first
    piece of evidence why[(a, b)] holds for it."""
    for i, comp in enumerate(comps, 1):
        members = set(comp)
        print(f"FAIL {kind} cycle {i}: {len(comp)} files: {' '.join(comp)}")
        for a in comp:
            for b in sorted(edges.get(a, ())):
                if b in members:
                    more = len(why[(a, b)]) - 1
                    print(f"    {a} -> {b}: {why[(a, b)][0]}"
                          + (f" (+{more} more)" if more else ""))
    if not comps:
        print(f"ok   {kind}: no cycle")
    return 1 if comps else 0


# ---- calls: "A.o uses a global symbol that B.o defines" ---------------------

NM_LINE = re.compile(r"^(.*)\[(.+)\]: (\S+) ([A-Za-z]) ")


def object_sources(builddir):
    """Member name -> source path, from where automake left each object."""
    out = {}
    for root, dirs, files in os.walk(builddir):
        dirs[:] = sorted(d for d in dirs if d not in ("tests", ".deps"))
        for f in files:
            if f.endswith(".o"):
                src = os.path.join(rel(root, builddir), re.sub(r"^lib\w+_a-", "", f))
                out.setdefault(f, os.path.normpath(src[:-2] + ".c"))
    return out


def cmd_calls(arg):
    archive = os.path.join(arg, "libnavette.a") if os.path.isdir(arg) else arg
    if not os.path.isfile(archive):
        print(f"ERROR calls: no archive {archive} (build first)")
        return 2
    try:
        nm = subprocess.run(["nm", "-A", "-P", archive], capture_output=True,
                            text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"ERROR calls: nm failed on {archive}: {e}")
        return 2
    names = object_sources(os.path.dirname(os.path.abspath(archive)))
    strong, weak, uses, members = {}, {}, {}, []
    for line in nm.splitlines():
        m = NM_LINE.match(line)
        if not m:
            continue
        obj, sym, t = names.get(m.group(2), m.group(2)), m.group(3), m.group(4)
        if obj not in uses:
            members.append(obj); uses[obj] = set()
        if t in "Uwv":
            uses[obj].add(sym)
        elif t in "WV":
            weak.setdefault(sym, obj)
        elif (t.isupper() and t not in "AN") or t in "ui":  # A: absolute, N: debug
            strong.setdefault(sym, obj)
    edges, why = {}, {}
    for a in members:
        for sym in sorted(uses[a]):
            b = strong.get(sym) or weak.get(sym)
            if b and b != a:
                edges.setdefault(a, set()).add(b)
                why.setdefault((a, b), []).append(f"uses {sym}")

    print(f"     calls: {len(members)} objects of {archive}, "
          f"{sum(len(v) for v in edges.values())} file-to-file uses")
    return report_cycles("calls", sccs(members, edges), edges, why)


# ---- includes: #include "..." between modules -------------------------------

def module(path, top):
    # X_int.h is X's internal header (what X's files share): part of module X.
    m = os.path.splitext(rel(path, top))[0]
    return m[:-4] if path.endswith("_int.h") else m


def cmd_includes(top):
    nodes, edges, why, unresolved = [], {}, {}, set()
    for path in sources(top):
        a = module(path, top)
        if a not in nodes:
            nodes.append(a)
        for n, kind, name in includes_of(path):
            if kind != '"':
                continue
            target = resolve(top, path, name)
            if target is None:
                unresolved.add(name)
                continue
            b = module(target, top)
            if b != a:
                edges.setdefault(a, set()).add(b)
                why.setdefault((a, b), []).append(f'{rel(path, top)}:{n} "{name}"')

    where = " and ".join(d + "/" for d in SCANNED)
    built = f"; not in the tree (made by the build): {' '.join(sorted(unresolved))}"
    print(f"     includes: {len(nodes)} modules under {where}" + (built if unresolved else ""))
    return report_cycles("includes", sccs(nodes, edges), edges, why)


# ---- length: a long file says why at its top --------------------------------

def first_comment(text):
    """The block comment the file opens with (blank lines may come first)."""
    body = text.lstrip()
    if not body.startswith("/*"):
        return ""
    end = body.find("*/")
    return body if end < 0 else body[:end]


def has_reason(text):
    for line in first_comment(text).splitlines():
        line = line.strip().lstrip("/*").strip()
        if line.startswith(LONG_MARK):
            return len(line[len(LONG_MARK):].split()) >= 3
    return False


def cmd_length(top, limit=700):
    bad, excused = 0, []
    for path in sources(top):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        n = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        if n <= limit:
            continue
        if has_reason(text):
            excused.append(f"{rel(path, top)} ({n})")
        else:
            bad += 1
            print(f"FAIL length: {rel(path, top)} has {n} lines (> {limit}) and its "
                  f"first comment gives no ' * {LONG_MARK} <reason>' line")
    if excused:
        print(f"     length: over {limit} lines with a written reason: "
              + ", ".join(excused))
    if not bad:
        print(f"ok   length: no file over {limit} lines without a reason")
    return 1 if bad else 0


# ---- cli-header: the CLI is the top layer; nothing below includes it -------

def cmd_cli_header(top):
    cli = os.path.join(top, "src", "cli") + os.sep
    bad = 0
    for path in sources(top):
        if path.startswith(cli):
            continue
        for n, kind, name in includes_of(path):
            target = resolve(top, path, name) if kind == '"' else None
            if (target and target.startswith(cli)) or os.path.basename(name) == "cli.h":
                bad += 1
                print(f"FAIL cli-header: {rel(path, top)}:{n} includes {kind}{name}"
                      f"{'>' if kind == '<' else kind} (only src/cli/ may)")
    if not bad:
        print("ok   cli-header: nothing outside src/cli/ includes a header of src/cli/")
    return 1 if bad else 0


# ---- copies: jscpd over the C files of src/, drivers/, tests/ --------------

def cmd_copies(top):
    if not os.access(JSCPD, os.X_OK):
        print(f"ERROR copies: no jscpd at {os.path.normpath(JSCPD)} "
              "(scripts/install-deps.sh --test installs it)")
        return 2
    dirs = [os.path.join(top, d) for d in ("src", "drivers", "tests")
            if os.path.isdir(os.path.join(top, d))]
    with tempfile.TemporaryDirectory() as out:
        # without --exit-code jscpd exits 0 whether it found clones or not: its
        # report decides, and no report means it did not run
        try:
            run = subprocess.run([JSCPD, "--config", os.path.join(HERE, "jscpd.json"),
                                  "--output", out] + dirs, capture_output=True, text=True)
        except OSError as e:
            print(f"ERROR copies: jscpd did not start: {e}")
            return 2
        try:
            with open(os.path.join(out, "jscpd-report.json"), encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            print(f"ERROR copies: jscpd wrote no report ({e}); it said:\n"
                  f"{run.stdout}{run.stderr}")
            return 2
    dups, stats = data.get("duplicates", []), data.get("statistics", {}).get("total", {})

    def where(side):
        return f"{rel(side['name'], top)}:{side['start']}-{side['end']}"

    for d in dups:
        print(f"FAIL copies: {where(d['firstFile'])} ~ {where(d['secondFile'])} "
              f"({d['lines']} lines, {d['tokens']} tokens)")
    print(f"     copies: {stats.get('sources', '?')} files long enough to hold a copy, "
          f"{stats.get('lines', '?')} lines")
    if not stats.get("sources"):
        print("ERROR copies: jscpd read no file")
        return 2
    if not dups:
        print("ok   copies: no copied block over the threshold")
    return 1 if dups else 0


def main(argv):
    if not 2 <= len(argv) <= 3:
        print("usage:" + __doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    build = argv[1]
    top = os.path.abspath(argv[2] if len(argv) == 3 else os.path.join(HERE, ".."))
    print(f"== structure checks of {top}")
    start, worst, failed = time.monotonic(), 0, []
    for name, check in (("calls", lambda: cmd_calls(build)),
                        ("includes", lambda: cmd_includes(top)),
                        ("copies", lambda: cmd_copies(top)),
                        ("length", lambda: cmd_length(top, LONG_LIMIT)),
                        ("cli-header", lambda: cmd_cli_header(top))):
        rc = check()
        if rc:
            failed.append(name)
            worst = max(worst, rc)
    took = f"{time.monotonic() - start:.1f} s"
    if failed:
        print(f"== structure checks: FAILED: {' '.join(failed)} ({took})")
    else:
        print(f"== structure checks: all 5 hold ({took})")
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv))
