#!/usr/bin/env python3
"""Resource and Fmax report of an iCE40 build (examples/fpga/icebreaker).

    report.py PNR_LOG [--json NEXTPNR_REPORT.json] [--yosys YOSYS_LOG] [--md]
              [--limit LABEL=N ...]
              [--flash-bytes N [--flash-what TEXT] [--clk-per-byte C]]

Prints, for the placed-and-routed design, the iCE40 UP5K resources used out
of those available (logic cells, EBR = SB_RAM40_4K, SPRAM = SB_SPRAM256KA,
DSP = SB_MAC16, IO, PLL) and the achieved Fmax of every clock against its
constraint, from nextpnr-ice40's --report JSON when given (else from its
log). With --yosys it adds the synthesized cell counts (SB_LUT4, SB_CARRY,
flip-flops, SB_MAC16, SB_RAM40_4K, SB_SPRAM256KA) from yosys' last `stat`.
--md prints the tables as Markdown (for docs/fpga.md). --limit LABEL=N (LABEL
one of LC, EBR, SPRAM, DSP, IO, PLL; repeatable) caps a resource below what
the device offers (a budget). --flash-bytes N (the bytes of the weight image
one token reads from the QSPI flash) adds the decoder's token rate at each
clock's Fmax and target: the flash reader takes C clk per byte (--clk-per-byte,
4 by default: SCK = clk / 2, 4 bits per SCK; 2 with lg_qspi_stream's SCK_DDR,
SCK = clk, as the decoder build has it), so tokens/s <= f / (C N); the
simulated iCEBreaker system (sim_decoder.cpp, `make sim-icebreaker`) comes
within 3.1 % of that bound at C = 4 and 6.2 % at C = 2 at position 0 (the
rest of the decoder overlaps the stream, but for the mat-vec's row ends and
the non-mat-vec work between the streams, during which it waits; the lean
attention adds to that with the position). Exit status 1 when a clock misses its
constraint, a resource exceeds what the device offers, or a --limit is
exceeded; each failure is named on a line starting with "FAIL".
"""
import argparse
import json
import re
import sys

# the flash reader's clocks a weight byte by default (SCK = clk / 2, 4 bits per SCK)
CLK_PER_BYTE = 4


def flash_tokens_per_s(mhz, flash_bytes, clk_per_byte=CLK_PER_BYTE):
    """The flash-bound token rate at a clock of mhz MHz: tokens/s <= f / (C N)."""
    return mhz * 1e6 / (clk_per_byte * flash_bytes)

# nextpnr-ice40 cell type -> (row label, what it is)
RESOURCES = [
    ("ICESTORM_LC", "LC", "logic cells (LUT4 + DFF + carry)"),
    ("ICESTORM_RAM", "EBR", "SB_RAM40_4K, 4 kbit block RAM"),
    ("ICESTORM_SPRAM", "SPRAM", "SB_SPRAM256KA, 256 kbit single-port RAM"),
    ("ICESTORM_DSP", "DSP", "SB_MAC16, 16x16 multiply-accumulate"),
    ("SB_IO", "IO", "IO cells"),
    ("ICESTORM_PLL", "PLL", "SB_PLL40"),
]


def from_json(path):
    with open(path) as f:
        rep = json.load(f)
    util = {k: (v.get("used", 0), v.get("available", 0))
            for k, v in rep.get("utilization", {}).items()}
    fmax = {k: (v.get("achieved", 0.0), v.get("constraint", 0.0))
            for k, v in rep.get("fmax", {}).items()}
    return util, fmax


def from_log(path):
    util, fmax = {}, {}
    in_util = False
    with open(path, errors="replace") as f:
        for line in f:
            if "Device utilisation" in line or "Device utilization" in line:
                in_util = True
                util = {}
                continue
            m = re.search(r"^\s*Info:\s+(\w+):\s+(\d+)/\s*(\d+)", line)
            if in_util and m:
                util[m.group(1)] = (int(m.group(2)), int(m.group(3)))
                continue
            if in_util and line.strip() in ("", "Info:"):
                in_util = False
            m = re.search(r"Max frequency for clock\s+'([^']+)':\s+([\d.]+) MHz"
                          r"(?:\s+\((PASS|FAIL) at ([\d.]+) MHz\))?", line)
            if m:
                fmax[m.group(1)] = (float(m.group(2)),
                                    float(m.group(4)) if m.group(4) else 0.0)
    return util, fmax


def yosys_cells(path):
    cells = {}
    with open(path, errors="replace") as f:
        text = f.read()
    # the last statistics block of the top
    blocks = text.split("Printing statistics")
    if len(blocks) < 2:
        return cells
    last = blocks[-1]
    for m in re.finditer(r"^\s+(SB_\w+|\$\w+)\s+(\d+)\s*$", last, re.M):
        cells[m.group(1)] = cells.get(m.group(1), 0) + int(m.group(2))
    return cells


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log", help="nextpnr-ice40 log (--log)")
    ap.add_argument("--json", help="nextpnr-ice40 --report JSON")
    ap.add_argument("--yosys", help="yosys log (synth_ice40 ... ; stat)")
    ap.add_argument("--md", action="store_true", help="Markdown tables")
    ap.add_argument("--limit", action="append", default=[], metavar="LABEL=N",
                    help="fail when resource LABEL (LC, EBR, SPRAM, DSP, IO, PLL) uses more than N")
    ap.add_argument("--flash-bytes", type=int, metavar="N",
                    help="weight image bytes read from flash per token: print tokens/s")
    ap.add_argument("--clk-per-byte", type=int, default=CLK_PER_BYTE, choices=(2, 4),
                    help="the flash reader's clk cycles per byte: 4 (SCK = clk / 2, default) "
                         "or 2 (SCK_DDR, SCK = clk)")
    ap.add_argument("--flash-what", default="the weight image",
                    help="what --flash-bytes counts (printed)")
    a = ap.parse_args()
    labels = {label for _, label, _ in RESOURCES}
    limits = {}
    for item in a.limit:
        label, _, n = item.partition("=")
        if label not in labels or not n.isdigit():
            ap.error(f"bad --limit {item!r}: want LABEL=N with LABEL in {sorted(labels)}")
        limits[label] = int(n)

    try:
        util, fmax = from_json(a.json) if a.json else from_log(a.log)
        if not util:
            util, fmax2 = from_log(a.log)
            fmax = fmax or fmax2
        cells = yosys_cells(a.yosys) if a.yosys else None
    except (OSError, ValueError) as e:
        sys.exit(f"report: cannot read the build's logs: {e}")
    if not util:
        sys.exit(f"report: {a.log}: no device utilisation (not a nextpnr-ice40 log of a "
                 "placed design)")
    # nextpnr times its own constant nets as clocks when a flip-flop's clock
    # enable or reset is tied through them ($PACKER_GND_NET): not a clock
    fmax = {k: v for k, v in fmax.items() if not k.startswith("$")}

    rows = []
    for key, label, what in RESOURCES:
        used, avail = util.get(key, (0, 0))
        if key not in util and key != "ICESTORM_SPRAM":
            continue
        pct = 100.0 * used / avail if avail else 0.0
        rows.append((label, used, avail, pct, what))

    ok = True
    if a.md:
        print("| resource | used | available | % |")
        print("|---|---:|---:|---:|")
        for label, used, avail, pct, what in rows:
            print(f"| {label} ({what}) | {used} | {avail} | {pct:.1f} |")
        print()
        print("| clock | Fmax (MHz) | target (MHz) | |")
        print("|---|---:|---:|---|")
        for clk, (ach, con) in sorted(fmax.items()):
            st = "PASS" if ach >= con else "FAIL"
            ok = ok and ach >= con
            print(f"| {clk} | {ach:.2f} | {con:.2f} | {st} |")
    else:
        print(f"{'resource':<8} {'used':>6} {'avail':>6} {'%':>6}  what")
        for label, used, avail, pct, what in rows:
            print(f"{label:<8} {used:>6} {avail:>6} {pct:>5.1f}%  {what}")
        for clk, (ach, con) in sorted(fmax.items()):
            st = "PASS" if ach >= con else "FAIL"
            ok = ok and ach >= con
            print(f"Fmax {clk}: {ach:.2f} MHz (target {con:.2f} MHz, {st})")
    if a.flash_bytes:
        cpb = a.clk_per_byte
        cyc = cpb * a.flash_bytes
        print(f"\ntokens/s, flash-bound ({a.flash_what}: {a.flash_bytes} bytes per token, "
              f"{cpb} clk per byte = {cyc} cycles):")
        for clk, (ach, con) in sorted(fmax.items()):
            print(f"  {clk}: {flash_tokens_per_s(ach, a.flash_bytes, cpb):.1f} at Fmax "
                  f"{ach:.2f} MHz, {flash_tokens_per_s(con, a.flash_bytes, cpb):.1f} at the "
                  f"target {con:.2f} MHz")
    if cells is not None:
        keys = ["SB_LUT4", "SB_CARRY", "SB_MAC16", "SB_RAM40_4K", "SB_SPRAM256KA"]
        ffs = sum(v for k, v in cells.items() if k.startswith("SB_DFF"))
        parts = [f"{k} {cells.get(k, 0)}" for k in keys] + [f"SB_DFF* {ffs}"]
        print(("\nyosys cells: " if not a.md else "\nyosys cells: ") + ", ".join(parts))
    fails = []
    for label, used, avail, pct, what in rows:
        if avail and used > avail:
            fails.append(f"{label} {used} > {avail} available")
        if label in limits and used > limits[label]:
            fails.append(f"{label} {used} > limit {limits[label]}")
    for label in limits:
        if label not in {r[0] for r in rows}:
            fails.append(f"{label}: not in the report")
    if not fmax:
        fails.append("no Fmax in the report (nothing timed?)")
    for clk, (ach, con) in sorted(fmax.items()):
        if ach < con:
            fails.append(f"clock {clk}: {ach:.2f} MHz < target {con:.2f} MHz")
    for f in fails:
        print("FAIL " + f)
    return 0 if ok and not fails else 1


if __name__ == "__main__":
    sys.exit(main())
