#!/usr/bin/env python3
"""Mutation check of the tests (make mutants): does each test catch the bug
it is there to catch?

Reads tests/mutants.txt (name | file | text | replacement | test program),
copies the committed tree (git archive HEAD) into DIR/src, builds and runs
every listed test program once unmutated (each must pass: otherwise a
"killed" mutant means nothing), then per mutant: replaces the text (which
must occur exactly once in the file), rebuilds what the test program needs
(make, incremental), runs it, and restores the file. A mutant is killed when
the build or the run fails; a build failure is reported as such (a mutant
the compiler or lint rejects is a weaker kill than a failing check).

usage: mutants.py [--dir DIR] [--only NAME[,NAME...]] [--jobs N]
Exit 1 when a mutant survives, a text is not found exactly once, or a test
fails unmutated.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time


def load(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.split(" | ")
            if len(parts) != 5:
                sys.exit("mutants: %s:%d: %d fields, want 5 (name | file | text | replacement | "
                         "test)" % (path, n, len(parts)))
            out.append(dict(zip(("name", "file", "find", "repl", "test"),
                                (p.strip() for p in parts))))
    return out


def sh(cmd, cwd, log):
    with open(log, "w") as f:
        return subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT).returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="build/mutants")
    ap.add_argument("--only", default="")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    root = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True,
                          text=True, check=True).stdout.strip()
    muts = load(os.path.join(root, "tests", "mutants.txt"))
    if a.only:
        keep = set(a.only.split(","))
        muts = [m for m in muts if m["name"] in keep]
    work = os.path.abspath(a.dir)
    src = os.path.join(work, "src")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(src)
    subprocess.run("git -C %s archive HEAD | tar -x -C %s" % (root, src), shell=True, check=True)
    # no model files: the synthetic weights (what CI runs)
    make = ["make", "-j%d" % a.jobs, "MODELS=/nonexistent"]

    bad = 0
    tests = sorted({m["test"] for m in muts})
    print("mutants: %d mutants, %d test programs; the tree of HEAD in %s" % (
        len(muts), len(tests), src))
    for t in tests:
        t0 = time.time()
        log = os.path.join(work, "baseline_%s.log" % t.replace("/", "_"))
        rc = sh(make + [t], src, log) or sh([os.path.join(src, t)], src, log + ".run")
        print("  baseline %-45s %s (%.0f s)" % (t, "passes" if rc == 0 else "FAILS", time.time() - t0))
        if rc:
            bad += 1
    if bad:
        print("mutants: a test fails unmutated: see %s" % work)
        return 1

    rows = []
    for m in muts:
        path = os.path.join(src, m["file"])
        with open(path, encoding="utf-8") as f:
            text = f.read()
        n = text.count(m["find"])
        if n != 1:
            rows.append((m["name"], "text found %d times" % n, 0))
            bad += 1
            continue
        t0 = time.time()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(m["find"], m["repl"]))
        log = os.path.join(work, "%s.log" % m["name"])
        try:
            if sh(make + [m["test"]], src, log + ".build"):
                verdict = "killed (build / lint fails)"
            elif sh([os.path.join(src, m["test"])], src, log):
                verdict = "killed"
            else:
                verdict = "SURVIVED"
                bad += 1
        finally:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            # the restored file is older than the mutant's build products
            os.utime(path, None)
        rows.append((m["name"], verdict + " by " + m["test"], time.time() - t0))
    for name, verdict, dt in rows:
        print("  %-18s %s (%.0f s)" % (name, verdict, dt))
    killed = sum(1 for r in rows if r[1].startswith("killed"))
    print("mutants: %d of %d killed%s" % (killed, len(rows),
                                         "" if bad == 0 else "; logs in %s" % work))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
