#!/usr/bin/env python3
"""Host side of the llamagen UART token protocol (docs/fpga.md, "Host protocol").

    lgtok.py [--port DEV] [--baud N] [--timeout S] info
    lgtok.py [--port DEV] gen --ids 1,403,... [--n 64] [--temp 0.0] [--seed 42] [--tokens FILE]
    lgtok.py [--port DEV] probe EXPECT.txt        (icebreaker_probe bring-up check)

info prints the FPGA's 'I' record (protocol version, vocab, seq_len, the
largest prompt). gen sends a 'G' frame (inverse temperature 1/T in Q16, 0 =
greedy; the seed word from --seed as `llamagen run -s` derives it,
seed_state) and prints the generated ids as they arrive, or their text with
--tokens (the tokens.txt an emitted decoder ships: `id<TAB>piece` lines, C
escapes; decoded as the C model prints them), then a summary line. probe sends the activation vector of `mkflash probe`'s
EXPECT file to icebreaker_probe and compares the int32 results.

The port is opened through termios (raw 8N1 at --baud; Python's standard
library, no pyserial): the iCEBreaker's FTDI channel B, or the pseudo-
terminal of the co-simulated board (sim_decoder +pty=FILE; make test runs
this script against it: tests/hdl/test_lgtok.sh).

Exit status: 0 success; 1 a failure, one line "lgtok.py: ..." on stderr (the
port, a timeout, a record out of place, a run the FPGA ended with a status
bit set: a rejected frame, a prompt id >= vocab, the context full); 2 a
usage error (an option's value out of range, also one line).
"""
import argparse
import os
import re
import select
import sys
import time

PROG = "lgtok.py"


class LgError(Exception):
    """A failure reported as one line and exit status 1."""


class UsageError(LgError):
    """An argument out of range: one line and exit status 2."""


class Port:
    """A serial line (any tty) in raw mode: 8 data bits, no parity, one stop
    bit, no flow control, no echo or line editing."""

    def __init__(self, dev, baud, timeout):
        try:
            import termios
        except ImportError:
            raise LgError("needs a POSIX system (termios)")
        self.timeout = timeout
        speed = getattr(termios, f"B{baud}", None)
        if speed is None:
            raise UsageError(f"baud rate {baud} is not one termios knows")
        try:
            self.fd = os.open(dev, os.O_RDWR | os.O_NOCTTY)
        except OSError as e:
            raise LgError(f"cannot open {dev}: {e.strerror}")
        try:
            iflag, oflag, cflag, lflag, _, _, cc = termios.tcgetattr(self.fd)
        except termios.error:
            os.close(self.fd)
            raise LgError(f"{dev} is not a serial port (not a tty)")
        t = termios
        iflag &= ~(t.IGNBRK | t.BRKINT | t.PARMRK | t.ISTRIP | t.INLCR | t.IGNCR | t.ICRNL |
                   t.IXON | t.IXOFF | t.IXANY)
        oflag &= ~t.OPOST
        lflag &= ~(t.ECHO | t.ECHONL | t.ICANON | t.ISIG | t.IEXTEN)
        cflag &= ~(t.CSIZE | t.PARENB | t.CSTOPB | getattr(t, "CRTSCTS", 0))
        cflag |= t.CS8 | t.CREAD | t.CLOCAL
        cc[t.VMIN] = 0
        cc[t.VTIME] = 0
        t.tcsetattr(self.fd, t.TCSANOW, [iflag, oflag, cflag, lflag, speed, speed, cc])
        # bytes left from an earlier session are not this one's replies
        t.tcflush(self.fd, t.TCIFLUSH)

    def write(self, data):
        view = memoryview(data)
        while view:
            _, w, _ = select.select([], [self.fd], [], self.timeout)
            if not w:
                raise LgError(f"the port took no data for {self.timeout:g} s")
            view = view[os.write(self.fd, view):]

    def read(self, n):
        """n bytes, or fewer if the line stays quiet for the timeout."""
        out = bytearray()
        while len(out) < n:
            r, _, _ = select.select([self.fd], [], [], self.timeout)
            if not r:
                break
            b = os.read(self.fd, n - len(out))
            if not b:
                break
            out += b
        return bytes(out)


def u(v, n):
    return bytes((v >> (8 * k)) & 0xff for k in range(n))


def seed_state(seed):
    """A user's seed -> the frame's 32-bit seed word (the sampler's xorshift32
    state), as llamagen run -s and lg_seed_state (src/ref_sampler.c) derive
    it: the high half of splitmix64's output for state seed. A small seed
    used as the state draws small words first, i.e. the lowest ids."""
    m = (1 << 64) - 1
    z = (seed + 0x9e3779b97f4a7c15) & m
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & m
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & m
    return (z ^ (z >> 31)) >> 32


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
STATUS = ["err_pos (the context is full: seq_len reached)",
          "err_token (a prompt id >= vocab)", "bad checksum", "bad n_prompt (0 or above the "
          "largest prompt)", "busy (a run was on)", "timeout (the frame stalled)",
          "no matching weight image in flash (the reader's check: the flash at 1 MiB holds no "
          "marked image of this bitstream's weights; write it with make -C "
          "examples/fpga/icebreaker decoder-weights)"]


def records(port):
    """Yields (tag, payload bytes) as records arrive."""
    while True:
        t = port.read(1)
        if not t:
            raise LgError(f"no reply from the FPGA for {port.timeout:g} s")
        n = RECORD_LEN.get(t[0])
        if n is None:
            continue  # not a record start: resync
        body = port.read(n - 1)
        if len(body) != n - 1:
            raise LgError(f"a truncated '{chr(t[0])}' record")
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
        # (another record: a run in progress, whose records go on around ours)


def parse_ids(text):
    try:
        ids = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"--ids: not a comma separated list of integers: '{text}'")
    if not ids:
        raise UsageError("--ids: no prompt id (the prompt starts with BOS = 1)")
    if len(ids) > 0xffff:
        raise UsageError(f"--ids: {len(ids)} ids, the frame holds at most 65535")
    bad = [i for i in ids if not 0 <= i < 1 << 24]
    if bad:
        raise UsageError(f"--ids: id {bad[0]} does not fit the frame's 3 bytes")
    return ids


def unescape(b):
    r"""A tokens.txt piece's C escapes: \\, \n, \t, \xNN (ValueError if cut)."""
    out, i = bytearray(), 0
    while i < len(b):
        if b[i] != 0x5c:  # '\\'
            out.append(b[i])
            i += 1
            continue
        if i + 1 >= len(b):
            raise ValueError("a lone backslash")
        e = chr(b[i + 1])
        if e == "x":
            if i + 4 > len(b):
                raise ValueError("a cut \\x escape")
            out.append(int(b[i + 2:i + 4], 16))
            i += 4
        else:
            out += {"n": b"\n", "t": b"\t", "\\": b"\\"}[e]
            i += 2
    return bytes(out)


def read_pieces(path):
    """tokens.txt of an emitted decoder: one 'id<TAB>piece' line per id, the
    piece with C escapes (the emitter's write_tokens)."""
    pieces = {}
    try:
        with open(path, "rb") as f:
            for n, line in enumerate(f, 1):
                i, sep, esc = line.rstrip(b"\n").partition(b"\t")
                if not sep or not i.isdigit():
                    raise LgError(f"{path}:{n}: not an 'id<TAB>piece' line (the emitted "
                                  "decoder's tokens.txt)")
                pieces[int(i)] = unescape(esc)
    except OSError as e:
        raise LgError(f"cannot read {path}: {e.strerror}")
    except (ValueError, KeyError):
        raise LgError(f"{path}: a bad escape (the emitted decoder's tokens.txt)")
    return pieces


def piece_text(pieces, prev, tok):
    """The bytes a generated id prints as (the C model's lg_tokenizer_decode
    and lg_tokenizer_print_piece): after BOS (1) without the leading space, a
    byte-fallback piece <0xXX> as its byte, a lone unprintable byte not at
    all."""
    p = pieces.get(tok, b"")
    if prev == 1 and p.startswith(b" "):
        p = p[1:]
    m = re.match(rb"<0x([0-9A-Fa-f]{1,2})", p)
    if m:
        p = bytes([int(m.group(1), 16)])
    if len(p) == 1 and not (0x20 <= p[0] < 0x7f or p[0] in b" \t\n\v\f\r"):
        return b""
    return p


def gen_request(a):
    """The 'G' frame and the token pieces of gen's arguments (checked before
    the port is opened)."""
    ids = parse_ids(a.ids)
    if not 0 <= a.n <= 0xffff:
        raise UsageError(f"--n {a.n}: 0 .. 65535 tokens")
    if a.temp < 0:
        raise UsageError(f"--temp {a.temp:g}: must be >= 0 (0 = greedy)")
    pieces = read_pieces(a.tokens) if a.tokens else None
    inv_temp = 0 if a.temp == 0 else min(int(round(65536 / a.temp)), (1 << 24) - 1)
    if not 0 <= a.seed < 1 << 63:
        raise UsageError(f"--seed {a.seed}: 0 .. 2^63 - 1 (as llamagen run -s)")
    return frame(inv_temp, seed_state(a.seed), a.n, ids), pieces, ids[-1]


def cmd_gen(port, request):
    g_frame, pieces, prev = request
    port.write(g_frame)
    t0 = time.time()
    n, accepted = 0, False
    for tag, body in records(port):
        if tag == "A" and not accepted:
            accepted = True
        elif tag == "T" and accepted:
            tok = le(body)
            n += 1
            if pieces is not None:
                sys.stdout.flush()
                sys.stdout.buffer.write(piece_text(pieces, prev, tok))
                sys.stdout.buffer.flush()
            else:
                sys.stdout.write(f"{tok} ")
                sys.stdout.flush()
            prev = tok
        elif tag == "E" and accepted and body[0] & 0x10:
            continue  # busy: another host's frame rejected during our run
        elif tag == "I":
            continue  # an answer to another host's 'I' (not part of a run)
        elif tag == "E":
            status, count = body[0], le(body[1:3])
            dt = time.time() - t0
            print(f"\n[{count} tokens, {status_text(status)}, "
                  f"{n / dt if dt > 0 else 0:.1f} tok/s incl. the link]")
            if not accepted:
                raise LgError(f"the FPGA rejected the frame: {status_text(status)}")
            if count != n:
                raise LgError(f"the 'E' record counts {count} tokens, {n} 'T' records came")
            if status:
                raise LgError(f"the run ended with {status_text(status)}")
            return 0
        else:
            raise LgError(f"a '{tag}' record out of place")


def read_expect(path):
    fields = {}
    try:
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
    except OSError as e:
        raise LgError(f"cannot read {path}: {e.strerror}")
    except ValueError:
        raise LgError(f"{path}: not a mkflash probe expectation file (a field is not a number)")
    missing = [k for k in ("x", "y", "shift") if k not in fields]
    if missing:
        raise LgError(f"{path}: no '{missing[0]}' field (not a mkflash probe expectation file)")
    return fields["x"], fields["y"], fields["shift"]


def cmd_probe(port, expect):
    x, y, shift = expect
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
    if bad:
        raise LgError(f"{len(bad)} of {len(y)} results differ from the expectation (row "
                      f"{bad[0]} first)")
    return 0


def main():
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    ap.add_argument("--port", default="/dev/ttyUSB1", help="the serial device (FTDI channel B)")
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--timeout", type=float, default=5.0,
                    help="seconds of silence before giving up (default 5)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("info")
    g = sub.add_parser("gen")
    g.add_argument("--ids", default="1", help="prompt ids, comma separated (BOS = 1 first)")
    g.add_argument("--n", type=int, default=64, help="tokens to generate")
    g.add_argument("--temp", type=float, default=0.0, help="temperature (0 = greedy)")
    g.add_argument("--seed", type=int, default=42,
                   help="sampler seed (as llamagen run -s: the same seed, the same draws)")
    g.add_argument("--tokens", help="tokens.txt of the emitted decoder")
    p = sub.add_parser("probe")
    p.add_argument("expect")
    a = ap.parse_args()
    if a.timeout <= 0:
        ap.error(f"--timeout {a.timeout:g}: must be > 0")
    try:
        if a.cmd == "probe":
            request = read_expect(a.expect)
        elif a.cmd == "gen":
            request = gen_request(a)
        port = Port(a.port, a.baud, a.timeout)
        if a.cmd == "info":
            return cmd_info(port)
        if a.cmd == "gen":
            return cmd_gen(port, request)
        return cmd_probe(port, request)
    except LgError as e:
        sys.stdout.flush()
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2 if isinstance(e, UsageError) else 1
    except OSError as e:
        print(f"{PROG}: {a.port}: {e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
