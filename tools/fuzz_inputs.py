#!/usr/bin/env python3
"""Mutation fuzzing of llamagen's file inputs (checkpoint, tokenizer).

Why: the brief's rule for bad input is a clear one-line error and a non-zero
exit, never a crash and never a half-written output directory. The unit and
CLI tests cover the failures someone thought of; this drives the CLI with
thousands of files nobody wrote by hand: a small valid checkpoint and
tokenizer (written here, seeded; no model files needed), then each case
mutates one or both (header fields set to edge values, truncations, appended
bytes, flipped bytes, NaN / Inf / huge floats, bad token lengths and scores)
and runs one command on them: `info`, `run` (integer model, and --float),
`eval`, or an emission with -o; or it sets a few hardware and shape overrides
of a tiny synthetic design to edge values (0, negative, huge, not numbers)
and runs `info` or an emission. Run it against a sanitizer build (`make fuzz` builds
`SAN=1`: ASan + UBSan with float-cast-overflow, aborting on the first
report).

Each case passes when:
  - the exit status is 0, 1 or 2 (no signal, no sanitizer abort, no timeout);
  - nothing on stderr comes from a sanitizer;
  - a failing run printed exactly one line on stderr, starting "llamagen: ";
  - a failing emission left no output directory (and no sibling temp dir);
  - a successful emission wrote manifest.json.

usage: fuzz_inputs.py LLAMAGEN [--cases N] [--seed S] [--dir D] [--verbose]
Exit 1 on the first failing case (its files kept in D, the command printed).
"""
import argparse
import os
import random
import shutil
import struct
import subprocess
import sys

# The base model: small enough that every command runs in well under a
# second under the sanitizers, large enough for GQA and two layers.
DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, VOCAB, SEQ = 16, 40, 2, 4, 2, 300, 24


def base_checkpoint(rng):
    """A legacy (version 0) llama2.c checkpoint, shared classifier."""
    head = struct.pack("<7i", DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, VOCAB, SEQ)
    kv_dim = DIM * KV_HEADS // HEADS
    n = (VOCAB * DIM + LAYERS * DIM + LAYERS * DIM * DIM + 2 * LAYERS * kv_dim * DIM
         + LAYERS * DIM * DIM + LAYERS * DIM + 3 * LAYERS * HIDDEN * DIM + DIM
         + SEQ * (DIM // HEADS))  # and llama2.c's unused freq_cis_real / imag
    # rms gains near 1, the rest small
    vals = [rng.gauss(0.0, 0.08) for _ in range(n)]
    return bytearray(head + struct.pack("<%df" % n, *vals))


def base_tokenizer(rng):
    """3 specials, 256 byte tokens, then merges of letters (VOCAB in all)."""
    pieces = [b"<unk>", b"\n<s>\n", b"\n</s>\n"]
    pieces += [b"<0x%02X>" % b for b in range(256)]
    letters = b"abcdefghijklmnopqrstuvwxyz "
    seen = set(pieces)
    for ch in letters:
        p = bytes([ch])
        if p not in seen and len(pieces) < VOCAB:
            pieces.append(p)
            seen.add(p)
    while len(pieces) < VOCAB:
        p = bytes(rng.choice(letters) for _ in range(rng.randint(2, 5)))
        if p not in seen:
            pieces.append(p)
            seen.add(p)
    out = bytearray(struct.pack("<i", max(len(p) for p in pieces)))
    for i, p in enumerate(pieces):
        score = 0.0 if i < 259 else -float(i)
        out += struct.pack("<fi", score, len(p)) + p
    return out


EDGE_INTS = [0, 1, -1, 2, 3, 7, 64, 255, 256, 4096, 65535, 65536, 1 << 20,
             (1 << 31) - 1, -(1 << 31), 1 << 30, -VOCAB]
EDGE_FLOATS = [float("nan"), float("inf"), -float("inf"), 3.0e38, -3.0e38, 1e-45, 0.0,
               65504.0, 1e10]


def put_i32(buf, off, v):
    buf[off:off + 4] = struct.pack("<i", v)


def put_f32(buf, off, v):
    buf[off:off + 4] = struct.pack("<f", v)


def mutate_checkpoint(rng, c):
    kind = rng.randrange(7)
    if kind == 0:      # a header field at an edge value
        put_i32(c, 4 * rng.randrange(7), rng.choice(EDGE_INTS))
    elif kind == 1:    # two header fields
        for _ in range(2):
            put_i32(c, 4 * rng.randrange(7), rng.choice(EDGE_INTS + [rng.randint(-9, 99)]))
    elif kind == 2:    # truncated
        del c[rng.randrange(len(c)):]
    elif kind == 3:    # bytes appended
        c += bytes(rng.randrange(256) for _ in range(rng.choice([1, 3, 4, 8, 4 * DIM])))
    elif kind == 4:    # special floats in the weights
        for _ in range(rng.randint(1, 4)):
            put_f32(c, 28 + 4 * rng.randrange((len(c) - 28) // 4), rng.choice(EDGE_FLOATS))
    elif kind == 5:    # random bytes anywhere
        for _ in range(rng.randint(1, 16)):
            c[rng.randrange(len(c))] = rng.randrange(256)
    else:              # an ak42 header glued on / the magic alone
        hdr = bytearray(256)
        hdr[0:4] = struct.pack("<I", 0x616B3432)
        put_i32(hdr, 4, rng.choice([1, 2, 0, -1]))
        hdr[8:36] = c[0:28]
        hdr[36] = rng.choice([0, 1, 2, 255])
        c[0:28] = hdr
    return c


def mutate_tokenizer(rng, t):
    # record offsets of the base tokenizer (walk it)
    offs = []
    o = 4
    while o + 8 <= len(t):
        n = struct.unpack_from("<i", t, o + 4)[0]
        if n < 0 or o + 8 + n > len(t):
            break
        offs.append(o)
        o += 8 + n
    kind = rng.randrange(8)
    if kind == 7 and offs:     # a whole record dropped or repeated (the count off by one)
        o = rng.choice(offs)
        rec = t[o:o + 8 + struct.unpack_from("<i", t, o + 4)[0]]
        if rng.randrange(2):
            del t[o:o + len(rec)]
        else:
            t[o:o] = rec
    elif kind == 0:    # max_token_length at an edge
        put_i32(t, 0, rng.choice(EDGE_INTS))
    elif kind == 1 and offs:   # a record's length
        put_i32(t, rng.choice(offs) + 4, rng.choice(EDGE_INTS + [rng.randint(-3, 40)]))
    elif kind == 2 and offs:   # a score
        put_f32(t, rng.choice(offs), rng.choice(EDGE_FLOATS))
    elif kind == 3:    # truncated
        del t[rng.randrange(len(t)):]
    elif kind == 4:    # appended
        t += bytes(rng.randrange(256) for _ in range(rng.choice([1, 4, 9])))
    elif kind == 5 and offs:   # a piece's bytes: NUL, high bytes, a duplicate
        o = rng.choice(offs)
        n = struct.unpack_from("<i", t, o + 4)[0]
        if n > 0:
            t[o + 8 + rng.randrange(n)] = rng.choice([0, 0x80, 0xff, 0xc3, ord("a")])
    else:              # random bytes
        for _ in range(rng.randint(1, 8)):
            t[rng.randrange(len(t))] = rng.randrange(256)
    return t


SAN_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
             "runtime error:", "Segmentation fault", "core dumped")

# Overrides on a tiny synthetic design (no files): each case sets a few of
# them to values from these lists (in range, at the edges, past them, or not
# numbers at all).
TINY = {"--dim": "16", "--hidden-dim": "40", "--n-layers": "1", "--n-heads": "2",
        "--n-kv-heads": "1", "--vocab-size": "64", "--seq-len": "16", "--lanes": "4"}
OVERRIDE_KEYS = ["--dim", "--hidden-dim", "--n-layers", "--n-heads", "--n-kv-heads",
                 "--vocab-size", "--seq-len", "--rope-theta", "--lanes", "--group-size",
                 "--kv-bits", "--kv-group", "--kv-ports", "--vec-lanes", "--embed-stream",
                 "--mul-share", "--ext-weights"]
OVERRIDE_VALUES = ["0", "1", "2", "3", "4", "8", "12", "16", "24", "32", "64", "128", "256",
                   "-1", "-16", "65536", "2147483647", "2147483648", "99999999999999999999",
                   "", "abc", "16x", "0x10", " 8", "1e3", "4.5", "+8", "-0"]

PROMPTS = ["", "once upon a time", "a", "zz zz zz", "\u00e9t\u00e9 \u2603", "x" * 40]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("llamagen")
    ap.add_argument("--cases", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", default="build/fuzz")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()

    rng = random.Random(a.seed)
    shutil.rmtree(a.dir, ignore_errors=True)
    os.makedirs(a.dir)
    base_c = base_checkpoint(random.Random(1000 + a.seed))
    base_t = base_tokenizer(random.Random(2000 + a.seed))
    ckpt, tok = os.path.join(a.dir, "c.bin"), os.path.join(a.dir, "t.bin")

    # the base files must work, or every case would only test one error
    with open(ckpt, "wb") as f:
        f.write(base_c)
    with open(tok, "wb") as f:
        f.write(base_t)
    r = subprocess.run([a.llamagen, "run", "--checkpoint", ckpt, "--tokenizer", tok, "-n", "8",
                        "-t", "0", "-s", "1", "-i", "once upon"], capture_output=True,
                       timeout=60)
    if r.returncode != 0:
        print("fuzz_inputs: the base checkpoint / tokenizer fail: %s" % r.stderr.decode(
            "utf-8", "replace").strip())
        return 1

    stats = {"ok": 0, "failed cleanly": 0}
    for case in range(a.cases):
        c, t = bytearray(base_c), bytearray(base_t)
        what = rng.randrange(10)
        # 0-5 the checkpoint, 6-8 the tokenizer, 9 both (not used by the
        # override cases below)
        if what <= 5 or what == 9:
            c = mutate_checkpoint(rng, c)
        if what >= 6:
            t = mutate_tokenizer(rng, t)
        with open(ckpt, "wb") as f:
            f.write(c)
        with open(tok, "wb") as f:
            f.write(t)
        out = os.path.join(a.dir, "out")
        shutil.rmtree(out, ignore_errors=True)
        cmd_kind = rng.randrange(8)
        if cmd_kind >= 6:   # overrides on the tiny synthetic design: info or emission
            ov = dict(TINY)
            for k in rng.sample(OVERRIDE_KEYS, rng.randint(1, 3)):
                ov[k] = rng.choice(OVERRIDE_VALUES)
            cmd = [a.llamagen] + (["info"] if cmd_kind == 6 else []) + ["--config", "260k"]
            for k, v in ov.items():
                cmd += [k, v]
            if cmd_kind == 7:
                cmd += ["-o", out]
        elif cmd_kind == 0:
            cmd = [a.llamagen, "info", "--checkpoint", ckpt]
        elif cmd_kind <= 2:
            cmd = [a.llamagen, "run", "--checkpoint", ckpt, "--tokenizer", tok, "-n",
                   str(rng.choice([0, 4, 12, SEQ + 5])), "-t", rng.choice(["0", "0.8", "1"]),
                   "-s", "7", "-i", rng.choice(PROMPTS)]
            if cmd_kind == 2:
                cmd.insert(2, "--float")
        elif cmd_kind == 3:
            cmd = [a.llamagen, "eval", "--checkpoint", ckpt, "--steps", "6"]
        else:
            cmd = [a.llamagen, "--checkpoint", ckpt, "--tokenizer", tok, "--lanes", "4",
                   "-o", out]
        try:
            r = subprocess.run(cmd, capture_output=True, timeout=120)
        except subprocess.TimeoutExpired:
            return fail(a, case, cmd, "timed out after 120 s", "")
        err = r.stderr.decode("utf-8", "replace")
        lines = [ln for ln in err.splitlines() if not ln.startswith("achieved tok/s")]
        problem = None
        if r.returncode < 0 or r.returncode not in (0, 1, 2):
            problem = "exit status %d" % r.returncode
        elif any(m in err for m in SAN_MARKS):
            problem = "sanitizer report"
        elif r.returncode != 0 and (len(lines) != 1 or not lines[0].startswith("llamagen: ")):
            problem = "%d lines on stderr, not one 'llamagen: ...' line" % len(lines)
        elif "-o" in cmd and r.returncode != 0 and (
                os.path.exists(out) or any(n.startswith("out.") or n.startswith(".out")
                                           for n in os.listdir(a.dir))):
            problem = "a failed emission left output behind: %s" % sorted(os.listdir(a.dir))
        elif "-o" in cmd and r.returncode == 0 and not os.path.exists(
                os.path.join(out, "manifest.json")):
            problem = "an emission exited 0 without manifest.json"
        if problem:
            return fail(a, case, cmd, problem, err)
        stats["ok" if r.returncode == 0 else "failed cleanly"] += 1
        if a.verbose:
            print("case %d: rc %d %s" % (case, r.returncode, lines[0] if lines else ""))
    print("fuzz_inputs: %d cases (seed %d): %d ran, %d refused in one line; no crash, no "
          "sanitizer report, no output left by a failure" % (a.cases, a.seed, stats["ok"],
                                                               stats["failed cleanly"]))
    shutil.rmtree(a.dir, ignore_errors=True)
    return 0


def fail(a, case, cmd, problem, err):
    print("fuzz_inputs: FAIL case %d (seed %d): %s\n  command: %s\n  stderr:\n%s" % (
        case, a.seed, problem, " ".join(cmd), "\n".join("    " + x for x in err.splitlines()[:30])))
    print("  the files are kept in %s" % a.dir)
    return 1


if __name__ == "__main__":
    sys.exit(main())
