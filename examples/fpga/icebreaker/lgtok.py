#!/usr/bin/env python3
"""Host side of the llamagen UART token protocol (docs/fpga.md, "Host protocol").

    lgtok.py [--port DEV] [--baud N] info
    lgtok.py [--port DEV] gen --ids 1,403,... [--n 64] [--temp 0.0] [--seed 42] [--tokens FILE]
    lgtok.py [--port DEV] probe EXPECT.txt        (icebreaker_probe bring-up check)

info prints the FPGA's 'I' record (protocol version, vocab, seq_len, the
largest prompt). gen sends a 'G' frame (inverse temperature 1/T in Q16, 0 =
greedy) and prints the generated ids as they arrive, or their text with
--tokens (the tokens.txt an emitted decoder ships: one piece per line).
probe sends the activation vector of `mkflash probe`'s EXPECT file to
icebreaker_probe and compares the int32 results. Needs pyserial.
"""
import argparse
import sys
import time


def open_port(dev, baud):
    try:
        import serial  # pyserial
    except ImportError:
        sys.exit("lgtok.py: needs pyserial (pip install pyserial)")
    return serial.Serial(dev, baud, timeout=5)


def u(v, n):
    return bytes((v >> (8 * k)) & 0xff for k in range(n))


def frame(inv_temp, seed, n_gen, ids):
    f = bytearray(b"G")
    f += u(inv_temp, 3) + u(seed, 4) + u(n_gen, 2) + u(len(ids), 2)
    for i in ids:
        f += u(i, 3)
    x = 0
    for b in f:
        x ^= b
    f.append(x)
    return bytes(f)


RECORD_LEN = {ord("I"): 9, ord("A"): 1, ord("T"): 4, ord("E"): 4}
STATUS = ["err_pos", "err_token", "bad checksum", "bad n_prompt", "busy", "timeout"]


def records(port):
    """Yields (tag, payload bytes) as records arrive."""
    while True:
        t = port.read(1)
        if not t:
            raise TimeoutError("no reply from the FPGA")
        n = RECORD_LEN.get(t[0])
        if n is None:
            continue  # not a record start: resync
        body = port.read(n - 1)
        if len(body) != n - 1:
            raise TimeoutError("truncated record")
        yield chr(t[0]), body


def le(b):
    return int.from_bytes(b, "little")


def status_text(s):
    return ", ".join(STATUS[k] for k in range(len(STATUS)) if s >> k & 1) or "ok"


def cmd_info(port):
    port.write(b"I")
    for tag, body in records(port):
        if tag == "I":
            print(f"protocol {body[0]}, vocab {le(body[1:4])}, seq_len {le(body[4:6])}, "
                  f"max prompt {le(body[6:8])}")
            return 0


def cmd_gen(port, a):
    ids = [int(x) for x in a.ids.split(",") if x]
    pieces = None
    if a.tokens:
        with open(a.tokens, encoding="utf-8", errors="replace") as f:
            pieces = [line.rstrip("\n") for line in f]
    inv_temp = 0 if a.temp <= 0 else min(int(round(65536 / a.temp)), (1 << 24) - 1)
    port.write(frame(inv_temp, a.seed & 0xffffffff, a.n, ids))
    t0 = time.time()
    n = 0
    for tag, body in records(port):
        if tag == "A":
            continue
        if tag == "T":
            tok = le(body)
            n += 1
            if pieces and tok < len(pieces):
                sys.stdout.write(pieces[tok])
            else:
                sys.stdout.write(f"{tok} ")
            sys.stdout.flush()
        elif tag == "E":
            dt = time.time() - t0
            print(f"\n[{le(body[1:3])} tokens, {status_text(body[0])}, "
                  f"{n / dt if dt > 0 else 0:.1f} tok/s incl. the link]")
            return 0 if body[0] & 0x3c == 0 else 1


def cmd_probe(port, path):
    fields = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            parts = line.split()
            if parts and parts[0] in ("x", "y"):
                fields[parts[0]] = [int(v) for v in parts[1:]]
            elif parts:
                kv = parts
                for k in range(0, len(kv) - 1, 2):
                    fields[kv[k]] = int(kv[k + 1])
    x, y, shift = fields["x"], fields["y"], fields["shift"]
    port.write(frame(shift & 0xff, 0, 0, [v & 0xffff for v in x]))
    got, half = [], None
    t0 = time.time()
    for tag, body in records(port):
        if tag == "T":
            v = le(body)
            if half is None:
                half = v
            else:
                r = half | (v << 16)
                got.append(r - (1 << 32) if r >= 1 << 31 else r)
                half = None
        elif tag == "E":
            break
    bad = [i for i in range(len(y)) if i >= len(got) or got[i] != y[i]]
    print(f"probe: {len(got)} results in {time.time() - t0:.2f} s, "
          f"{len(y) - len(bad)} of {len(y)} match")
    for i in bad[:10]:
        print(f"  row {i}: got {got[i] if i < len(got) else None}, expected {y[i]}")
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", default="/dev/ttyUSB1")
    ap.add_argument("--baud", type=int, default=115200)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("info")
    g = sub.add_parser("gen")
    g.add_argument("--ids", default="1", help="prompt ids, comma separated (BOS = 1 first)")
    g.add_argument("--n", type=int, default=64, help="tokens to generate")
    g.add_argument("--temp", type=float, default=0.0, help="temperature (0 = greedy)")
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--tokens", help="tokens.txt of the emitted decoder")
    p = sub.add_parser("probe")
    p.add_argument("expect")
    a = ap.parse_args()
    port = open_port(a.port, a.baud)
    if a.cmd == "info":
        return cmd_info(port)
    if a.cmd == "gen":
        return cmd_gen(port, a)
    return cmd_probe(port, a.expect)


if __name__ == "__main__":
    sys.exit(main())
