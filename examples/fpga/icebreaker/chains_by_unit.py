#!/usr/bin/env python3
"""The logic cells nextpnr-ice40 adds to legalise carry chains, unit by unit
(docs/fpga.md, "Carry-chain legalisation"): LCs the design pays for no
logic of its own, and a slower path through every chain it cuts.

An iCE40 carry chain runs up a column of logic tiles, 8 cells a tile, and a
chain's cells sit in consecutive cells of its tiles. nextpnr adds a cell
  * at a chain's start whose carry input comes from logic (a variable carry
    in, such as the 1 of a two's-complement subtraction chosen at run
    time): a feed-in cell routes it onto the chain (I1 -> COUT);
  * at a chain's end whose carry out is read by logic (a compare's result):
    a pass-out cell (CIN -> I3 -> O);
  * both, where it cuts one adder's chain in two (a cut): a tile's 8
    cells share one clock, clock enable and set/reset, and take at most 32
    local inputs (each cell's connected LUT inputs, plus the enable and the
    set/reset unless they are global nets). A chain whose flip-flops change
    enable or set/reset at a bit, or whose tile would need more than 32
    local inputs (8 four-input LUTs and a local enable), is cut there: the
    carry leaves through a pass-out cell and the logic fabric and comes
    back through a feed-in cell, about 3.5-4 ns on the UP5K (the two extra
    cells' LUT and carry delays and a routed net) on every path through it.

  chains_by_unit.py ROUTED.json [--list N]

ROUTED.json is nextpnr's --write output (the decoder build writes
decoder_f<MHz>_routed.json). Prints a markdown table per unit (feed-in,
pass-out, cut cells, and the cells in all) and the cuts with their
cause and the flip-flops on both sides. Units as in lc_by_unit.py, by the
most of a chain's cells (a decoder unit before the controller: yosys may
name a unit's output register after the controller's net).
"""
import argparse
import collections
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lc_by_unit import read_json, unit_of  # noqa: E402  (the LC table's unit names)

PASS_OUT_INIT = 0xFF00  # O = I3: nextpnr's pass-out cell


def lut_init(cell):
    v = str(cell.get("parameters", {}).get("LUT_INIT", "0"))
    if v and set(v) <= {"0", "1"} and len(v) > 1:
        return int(v, 2)
    try:
        return int(v, 0)
    except ValueError:
        return -1


def param_on(cell, name):
    v = str(cell.get("parameters", {}).get(name, "0"))
    return v.strip("0") != "" if set(v) <= {"0", "1"} else v not in ("", "0")


def bel_of(cell):
    m = re.match(r"X(\d+)/Y(\d+)/lc(\d+)", cell.get("attributes", {}).get("NEXTPNR_BEL", ""))
    return tuple(int(g) for g in m.groups()) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json", help="nextpnr-ice40 --write JSON (placed or routed)")
    ap.add_argument("--list", type=int, default=20, metavar="N",
                    help="cuts to list (default 20; 0: the counts only)")
    a = ap.parse_args()
    d = read_json(a.json, "chains_by_unit")
    mods = list(d.get("modules", {}).values()) if isinstance(d, dict) else []
    if len(mods) != 1:
        sys.exit(f"chains_by_unit: {a.json} is not a nextpnr --write netlist (one module expected)")
    cells = mods[0].get("cells", {})
    if not any(c.get("type") == "ICESTORM_LC" for c in cells.values()):
        sys.exit(f"chains_by_unit: {a.json} has no ICESTORM_LC cells (not nextpnr-ice40's --write output?)")

    drv = {}                                # net bit -> (cell, port)
    users = collections.defaultdict(list)   # net bit -> [(cell, port)]
    for n, c in cells.items():
        dirs = c.get("port_directions", {})
        for p, bits in c.get("connections", {}).items():
            for b in bits:
                if not isinstance(b, int):
                    continue
                if dirs.get(p) == "output":
                    drv[b] = (n, p)
                else:
                    users[b].append((n, p))

    def net(n, p):
        bits = cells[n].get("connections", {}).get(p, [])
        return bits[0] if bits and isinstance(bits[0], int) else None

    def is_global(b):
        return b is not None and b in drv and cells[drv[b][0]].get("type") == "SB_GB"

    def inputs(n):
        return sum(1 for p in ("I0", "I1", "I2", "I3") if net(n, p) is not None)

    def ctl(n):
        if not param_on(cells[n], "DFF_ENABLE"):
            return None
        return (net(n, "CLK"), net(n, "CEN"), net(n, "SR"), param_on(cells[n], "NEG_CLK"))

    def added(n):
        return n.startswith("$nextpnr_ICESTORM_LC")

    def kind(n):
        c = cells[n]
        if param_on(c, "CIN_CONST") and net(n, "I1") is not None and net(n, "COUT") is not None:
            return "feed-in"
        if lut_init(c) == PASS_OUT_INIT and net(n, "I3") is not None:
            return "pass-out"
        return None

    def chain_cell(n, port):
        """The design's chain cell beside an added cell (its CIN source or
        its COUT user)."""
        if port == "in":   # pass-out: I3 <- COUT of the chain's last cell
            src = drv.get(net(n, "I3"))
            return src[0] if src else None
        for u, p in users.get(net(n, "COUT"), []):  # feed-in: COUT -> CIN
            if p == "CIN":
                return u
        return None

    def toggles(n):
        """A logic cell holding a flip-flop whose output is one of its own
        LUT inputs (a counter's low bit)."""
        c = cells[n]
        o = net(n, "O")
        return c.get("type") == "ICESTORM_LC" and param_on(c, "DFF_ENABLE") and o is not None \
            and o in (net(n, p) for p in ("I0", "I1", "I2", "I3"))

    def reg_of(n):
        """The register whose flip-flop yosys named a cell after: (name,
        flip-flop type, Q index), or None."""
        m = re.match(r"(.*?)_(SB_DFF[A-Z]*)_Q(?:_(\d+))?_", n or "")
        return (m.group(1), m.group(2), m.group(3) or "0") if m else None

    def ff_name(n):
        """A readable name for a chain cell: its register, else the cell."""
        r = reg_of(n)
        return f"{r[0]} ({r[1]} Q_{r[2]})" if r else (n or "?")

    def chain_unit(n):
        """The unit most of a chain's cells belong to (yosys may name a cell
        after a net of the next unit: a register at a port), walking the
        carries both ways, across the cells nextpnr added."""
        seen, todo, names = set(), [n], []
        while todo:
            x = todo.pop()
            if x is None or x in seen:
                continue
            seen.add(x)
            if not added(x):
                names.append(x)
            src = drv.get(net(x, "CIN"))
            todo.append(src[0] if src else None)
            src = drv.get(net(x, "I1")) if added(x) and kind(x) == "feed-in" else None
            todo.append(src[0] if src else None)
            src = drv.get(net(x, "I3")) if added(x) and kind(x) == "pass-out" else None
            todo.append(src[0] if src else None)
            for u, p in users.get(net(x, "COUT"), []):
                if p == "CIN" or (added(u) and p == "I3"):
                    todo.append(u)
            if added(x) and kind(x) == "pass-out":
                for u, p in users.get(net(x, "O"), []):
                    if added(u) and p == "I1":
                        todo.append(u)
        votes = collections.Counter(unit_of(x) for x in names)
        # a unit's register at its output port may be named after the
        # outer net (the controller's): the inner unit wins if present
        inner = collections.Counter({u: k for u, k in votes.items()
                                     if u not in ("controller (u_dec)", "board shell")})
        best = (inner or votes).most_common(1)
        return best[0][0] if best else unit_of(n)

    counts = collections.defaultdict(collections.Counter)
    cuts = []
    own_carry = 0    # feed-ins from a counter's bit 0
    for n in sorted((x for x in cells if added(x)), key=lambda s: int(re.sub(r"\D", "", s) or 0)):
        k = kind(n)
        if k is None:
            continue
        if k == "feed-in":
            src = drv.get(net(n, "I1"))
            if src and added(src[0]) and kind(src[0]) == "pass-out":
                # the second half of a cut (counted with its pass-out)
                continue
            nxt = chain_cell(n, "out")
            counts[chain_unit(nxt or n)]["feed-in"] += 1
            # a carry in straight from a toggling flip-flop (one whose output
            # feeds its own LUT): a counter's bit 0, whose carry yosys made
            # a wire (a constant step)
            own_carry += bool(src and src[1] == "O" and toggles(src[0]))
            continue
        # pass-out: a cut when its output feeds a feed-in cell
        prev = chain_cell(n, "in")
        outs = users.get(net(n, "O"), [])
        fins = [u for u, p in outs if added(u) and p == "I1" and kind(u) == "feed-in"]
        if not fins:
            counts[chain_unit(prev or n)]["pass-out"] += 1
            continue
        nxt = chain_cell(fins[0], "out")
        unit = chain_unit(prev or nxt or n)
        counts[unit]["cut"] += 2
        # the cause, as nextpnr decided it: the chain's cells in the tile of
        # the cell before the cut (from the chain's start in that tile) and
        # the cell after it
        tile = []
        cur = prev
        while cur is not None and bel_of(cells[cur]) and prev and \
                bel_of(cells[cur])[:2] == bel_of(cells[prev])[:2]:
            tile.append(cur)
            src = drv.get(net(cur, "CIN"))
            cur = src[0] if src and src[1] == "COUT" else None
        group = tile + ([nxt] if nxt else [])
        ctls = {ctl(x) for x in group if ctl(x) is not None}
        if len(ctls) > 1:
            cause = "flip-flop enable or set/reset changes"
        else:
            loc = sum(inputs(x) for x in group)
            if ctls:
                clk, cen, sr, _neg = next(iter(ctls))
                loc += sum(1 for b in (clk, cen, sr) if b is not None and not is_global(b))
            cause = f"{loc} local inputs in a tile (at most 32)" if loc > 32 else \
                "chain longer than a column or another nextpnr rule"
        cuts.append((unit, cause, ff_name(prev), ff_name(nxt)))

    units = sorted(counts, key=lambda u: (-sum(counts[u].values()), u))
    total = collections.Counter()
    print("| unit | feed-in | pass-out | cut (2 cells each) | LCs |")
    print("|---|---:|---:|---:|---:|")
    for u in units:
        c = counts[u]
        total.update(c)
        print(f"| {u} | {c['feed-in']} | {c['pass-out']} | {c['cut']} | {sum(c.values())} |")
    print(f"| **total** | {total['feed-in']} | {total['pass-out']} | {total['cut']} | "
          f"**{sum(total.values())}** |")
    print()
    print(f"feed-ins whose carry in is a flip-flop that toggles itself (a counter's bit 0, "
          f"stepped by a constant): {own_carry} of {total['feed-in']}")
    print(f"cuts: {len(cuts)} (each one adder's chain cut in two)")
    by_cause = collections.Counter(re.sub(r"^\d+ ", "N ", s[1]) for s in cuts)
    for cause, k in sorted(by_cause.items()):
        print(f"  {k} x {cause}")
    for u, cause, before, after in cuts[:a.list]:
        print(f"  {u}: {cause}")
        print(f"      before the cut: {before}")
        print(f"      after the cut:  {after}")
    if 0 < a.list < len(cuts):
        print(f"  ... {len(cuts) - a.list} more (--list)")


if __name__ == "__main__":
    main()
