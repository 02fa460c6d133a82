#!/usr/bin/env python3
"""Logic cells per unit of the flat iCEBreaker system (docs/fpga.md, "What
the full UP5K build needs"): the gap to the UP5K in LCs, unit by unit.

An iCE40 logic cell holds one LUT4, one flip-flop and one carry. nextpnr
packs a flip-flop into the cell of the LUT4 driving its D input only when
that LUT's output drives nothing else; every other flip-flop (loaded from
another flip-flop, a RAM or DSP output, a constant, a pin, or a LUT that
also feeds other logic) takes a cell of its own. So a unit's cells are its
SB_LUT4s plus its "FF-only" flip-flops. Carries ride in the cells of the
adder LUTs; the few carry-only and chain-legalising cells nextpnr adds are
not attributed (the total shows the difference to the packed count).

Cells are assigned to units by their hierarchical name in the flat yosys
JSON (hdlname / the flattened cell name): u_core.u_dec.u_<unit> is a
decoder unit, u_core.u_dec itself the controller, u_core.u_<unit> a board
unit, the rest the board shell. Yosys names a flat cell after a wire it
drives, so a cell at a unit's port may be counted with its neighbour; the
FF-only rule and the totals are exact (tests/hdl/test_lc_by_unit.sh).

  lc_by_unit.py FLAT.json [--packed N] [--top lg_fit_top]

Prints a markdown table (SB_LUT4, FF, FF-only, LC = SB_LUT4 + FF-only) and,
with --packed (nextpnr's ICESTORM_LC count), the unattributed remainder.
"""
import argparse
import collections
import json
import re
import sys

UP5K_LC = 5280


def unit_of(name):
    """Unit label of a flat cell name (instance path, '.'-separated)."""
    path = re.findall(r"\bu_[A-Za-z0-9_]+", name)
    if len(path) >= 3 and path[0] == "u_core" and path[1] == "u_dec":
        return path[2]
    if len(path) >= 2 and path[0] == "u_core" and path[1] == "u_dec":
        return "controller (u_dec)"
    if len(path) >= 2 and path[0] == "u_core":
        return path[1]
    return "board shell"


def read_json(path, who):
    """A JSON netlist, or exit with one line naming the file (who: the
    script's name)."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"{who}: cannot read {path}: {e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json", help="flat synth_ice40 JSON (yosys write_json / -json)")
    ap.add_argument("--packed", type=int, help="nextpnr's packed ICESTORM_LC count")
    ap.add_argument("--top", help="top module (default: the one marked top)")
    a = ap.parse_args()
    d = read_json(a.json, "lc_by_unit")
    mods = d.get("modules", {})
    if a.top:
        top = mods.get(a.top)
    else:
        tops = [m for m in mods.values() if m.get("attributes", {}).get("top")]
        top = tops[0] if len(tops) == 1 else None
    if top is None:
        sys.exit(f"lc_by_unit: no unique top module in {a.json}")

    cells = top.get("cells", {})
    driver = {}                     # net bit -> driving cell type
    loads = collections.Counter()   # net bit -> number of sinks
    for c in cells.values():
        dirs = c.get("port_directions", {})
        for port, bits in c.get("connections", {}).items():
            for b in bits:
                if not isinstance(b, int):
                    continue
                if dirs.get(port) == "output":
                    driver[b] = c["type"]
                else:
                    loads[b] += 1
    for p in top.get("ports", {}).values():
        if p.get("direction") == "output":
            for b in p.get("bits", []):
                if isinstance(b, int):
                    loads[b] += 1

    rows = collections.defaultdict(collections.Counter)
    for cname, c in cells.items():
        t = c["type"]
        name = c.get("attributes", {}).get("hdlname") or cname
        r = rows[unit_of(name.replace(" ", "."))]
        if t == "SB_LUT4":
            r["lut"] += 1
        elif t.startswith("SB_DFF"):
            r["ff"] += 1
            dbits = c.get("connections", {}).get("D", [None])
            b = dbits[0] if dbits else None
            if not (isinstance(b, int) and driver.get(b) == "SB_LUT4" and loads[b] == 1):
                r["ffonly"] += 1
        elif t == "SB_CARRY":
            r["carry"] += 1
        elif t == "SB_MAC16":
            r["dsp"] += 1
        elif t == "SB_RAM40_4K":
            r["ebr"] += 1

    def lc(r):
        return r["lut"] + r["ffonly"]

    order = sorted(rows, key=lambda u: (u == "board shell", -lc(rows[u])))
    print("| unit (flat) | SB_LUT4 | FF | FF-only | LC = SB_LUT4 + FF-only | share of the UP5K |")
    print("|---|---:|---:|---:|---:|---:|")
    tot = collections.Counter()
    for u in order:
        r = rows[u]
        tot.update(r)
        print(f"| {u} | {r['lut']:,} | {r['ff']:,} | {r['ffonly']:,} | {lc(r):,} | "
              f"{100.0 * lc(r) / UP5K_LC:.1f} % |")
    print(f"| **attributed** | **{tot['lut']:,}** | **{tot['ff']:,}** | **{tot['ffonly']:,}** | "
          f"**{lc(tot):,}** | **{100.0 * lc(tot) / UP5K_LC:.1f} %** |")
    if a.packed:
        rest = a.packed - lc(tot)
        print(f"| carry-only and chain cells (packed - attributed) | | | | {rest:,} | |")
        print(f"| **packed by nextpnr** | | | | **{a.packed:,}** | "
              f"**{100.0 * a.packed / UP5K_LC:.1f} %** |")
        over = a.packed - UP5K_LC
        if over > 0:
            print(f"\nOver the UP5K by {over:,} LC ({a.packed / UP5K_LC:.2f}x).")
        else:
            print(f"\nFits the UP5K's logic with {-over:,} LC to spare.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
