#!/usr/bin/env python3
"""Summary of tools/synth_estimates.sh runs (docs/fpga.md, "Synthesis
estimates for bigger parts").

    summarize.py DIR DESIGN... [--families "ecp5 xilinx"]

Reads DIR/<design>_<family>.{stat,log,mems,rams,time} (yosys stat, log,
every memory and the memories with a write port, listed before RAM mapping,
run seconds) and DIR/<design>/manifest.json, and prints Markdown:

1. one table: LUT, carry, LUT RAM, FF, block RAM, DSP per design and family;
2. the memory check: how yosys' memory_libmap mapped every memory (block RAM,
   LUT RAM, or logic = "FF mapping", which for a ROM folds into LUTs), with
   any RAM (a memory with a write port) that did not become block RAM
   flagged "CHECK";
3. for designs synthesized without the weight ROM (<prefix>_decoder): the
   weight stream memory's bits and the block RAMs it would take.

Exit status 1 when a run is missing or a RAM is flagged.
"""
import argparse
import json
import math
import os
import re
import sys

# cell -> (column, weight). Xilinx LUT RAM counted in LUTs it occupies.
CELLS = {
    "ecp5": {
        "LUT4": ("lut", 1), "CCU2C": ("carry", 1), "TRELLIS_DPR16X4": ("lutram", 1),
        "TRELLIS_FF": ("ff", 1), "DP16KD": ("bram", 1), "PDPW16KD": ("bram", 1),
        "MULT18X18D": ("dsp", 1), "ALU54B": ("dsp_alu", 1),
    },
    "xilinx": {
        "LUT1": ("lut", 1), "LUT2": ("lut", 1), "LUT3": ("lut", 1), "LUT4": ("lut", 1),
        "LUT5": ("lut", 1), "LUT6": ("lut", 1), "INV": ("lut", 1), "LUT6_2": ("lut", 1),
        "CARRY4": ("carry", 1),
        "RAM32M": ("lutram", 4), "RAM64M": ("lutram", 4), "RAM32X1D": ("lutram", 2),
        "RAM64X1D": ("lutram", 2), "RAM128X1D": ("lutram", 4), "RAM256X1S": ("lutram", 4),
        "RAM32X1S": ("lutram", 1), "RAM64X1S": ("lutram", 1), "RAM128X1S": ("lutram", 2),
        "SRL16E": ("lutram", 1), "SRLC32E": ("lutram", 1),
        "FDRE": ("ff", 1), "FDSE": ("ff", 1), "FDCE": ("ff", 1), "FDPE": ("ff", 1),
        "RAMB36E1": ("bram", 1), "RAMB18E1": ("bram18", 1),
        "DSP48E1": ("dsp", 1),
    },
}
FAMILY = {
    "ecp5": ("ECP5 (synth_ecp5)", "LUT4", "CCU2C", "TRELLIS_DPR16X4 cells", "DP16KD (18 kbit)",
             "MULT18X18D"),
    "xilinx": ("7-series (synth_xilinx)", "LUT1-6", "CARRY4", "LUTs as RAM/SRL",
               "RAMB36E1 (+ RAMB18E1 as 1/2)", "DSP48E1"),
}
# block RAM aspect ratios (depth, width) usable for a ROM / simple dual port
BRAM_SHAPES = {
    "ecp5": [(16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36)],
    "xilinx": [(32768, 1), (16384, 2), (8192, 4), (4096, 9), (2048, 18), (1024, 36), (512, 72)],
}


def brams(depth, width, fam):
    return min(math.ceil(depth / d) * math.ceil(width / w) for d, w in BRAM_SHAPES[fam])


def stat_cells(path):
    cells = {}
    text = open(path, errors="replace").read()
    # a flattened design has one module block; take the top's (last) block
    for m in re.finditer(r"^\s+(\S+)\s+(\d+)\s*$", text.split("Number of cells:")[-1], re.M):
        cells[m.group(1)] = cells.get(m.group(1), 0) + int(m.group(2))
    return cells


def columns(cells, fam):
    col = {}
    for name, n in cells.items():
        if name in CELLS[fam]:
            c, w = CELLS[fam][name]
            col[c] = col.get(c, 0) + n * w
    if fam == "xilinx":
        col["bram"] = col.get("bram", 0) + col.pop("bram18", 0) / 2
    return col


def norm(name):
    name = name.strip()
    name = name.replace("/", ".", 1) if "/" in name.split(".")[0] or "/" in name else name
    return name


def mem_map(log_path):
    """memory -> how memory_libmap mapped it; FF-mapped memories' sizes."""
    how, ffbits = {}, {}
    cur = None
    for line in open(log_path, errors="replace"):
        m = re.match(r"mapping memory (\S+) via (\S+)", line)
        if m:
            how[m.group(1)] = m.group(2)
            continue
        m = re.match(r"using FF mapping for memory (\S+)", line)
        if m:
            how[m.group(1)] = "FF"
            continue
        m = re.match(r"Mapping memory (\S+) in module \\?(\S+):", line)
        if m:
            cur = m.group(2) + "." + m.group(1).lstrip("\\")
            continue
        m = re.match(r"\s+created (\d+) \$dff cells and \d+ static cells of width (\d+)", line)
        if m and cur:
            ffbits[cur] = (int(m.group(1)), int(m.group(2)))
            cur = None
    return how, ffbits


def kind(via):
    if via == "FF":
        return "logic"
    if "LUTRAM" in via or "DPR16X4" in via:
        return "LUT RAM"
    return "block RAM"


def short(name):
    name = re.sub(r"\$paramod\$[0-9a-f]+\\", "", name)
    name = re.sub(r"\$paramod\\(\w+)\\\S*?\.", r"\1.", name)
    name = re.sub(r"g_bank\[\d+\]", "g_bank[*]", name)
    name = re.sub(r"g_cache\[\d+\]", "g_cache[*]", name)
    name = re.sub(r"do_switch\$\d+", "do_switch", name)
    name = re.sub(r"^lg_\w+?_[0-9a-f]{8}_(top|decoder)\.", "", name)
    name = re.sub(r"lg_\w+?_[0-9a-f]{8}_", "", name)
    return name


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("designs", nargs="+")
    ap.add_argument("--families", default="ecp5 xilinx")
    a = ap.parse_args()
    fams = a.families.split()
    ok = True

    print("| design (module synthesized) | family | LUT | carry | LUT RAM | FF | block RAM | DSP | yosys s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    notes = []
    for d in a.designs:
        man = json.load(open(os.path.join(a.dir, d, "manifest.json")))
        args = open(os.path.join(a.dir, d, ".args")).read().strip()
        unit = "top" if d.startswith("260k") else "decoder"
        for f in fams:
            base = os.path.join(a.dir, f"{d}_{f}")
            if not os.path.exists(base + ".stat"):
                print(f"| {d} ({unit}) | {f} | missing | | | | | | |")
                ok = False
                continue
            col = columns(stat_cells(base + ".stat"), f)
            t = open(base + ".time").read().strip() if os.path.exists(base + ".time") else "?"
            bram = col.get("bram", 0)
            bram = f"{bram:g}"
            dsp = col.get("dsp", 0)
            print(f"| {d} `{args}` ({unit}) | {f} | {col.get('lut', 0):,} | {col.get('carry', 0):,} "
                  f"| {col.get('lutram', 0):,} | {col.get('ff', 0):,} | {bram} | {dsp} | {t} |")
    print()
    for f in fams:
        fam, lut, carry, lutram, bram, dsp = FAMILY[f]
        print(f"{fam}: LUT = {lut}, carry = {carry}, LUT RAM = {lutram}, "
              f"block RAM = {bram}, DSP = {dsp}.")
    print()

    # memory check
    print("Memory mapping (memory_libmap; \"logic\" = FF mapping, which for a ROM becomes LUTs):")
    print()
    print("| design | family | memory | mapped to | note |")
    print("|---|---|---|---|---|")
    for d in a.designs:
        for f in fams:
            base = os.path.join(a.dir, f"{d}_{f}")
            if not os.path.exists(base + ".log"):
                continue
            how, ffbits = mem_map(base + ".log")
            rams = None
            if os.path.exists(base + ".rams"):
                rams = {norm(x) for x in open(base + ".rams") if x.strip()}
            groups = {}
            for mname, via in sorted(how.items()):
                k = kind(via)
                is_ram = None if rams is None else mname in rams
                key = (short(mname), k)
                g = groups.setdefault(key, [0, is_ram, None])
                g[0] += 1
                g[1] = g[1] or is_ram
                if mname in ffbits:
                    g[2] = ffbits[mname]
            for (mname, k), (n, is_ram, ff) in sorted(groups.items(), key=lambda x: (x[0][1], x[0][0])):
                if k == "block RAM":
                    continue
                note = "RAM or ROM: no .rams list" if is_ram is None else "RAM" if is_ram else "ROM"
                if ff:
                    note += f", {ff[0]} x {ff[1]} bit"
                if is_ram and k != "block RAM":
                    note += "; CHECK: a RAM not in block RAM"
                    if k == "logic":
                        ok = False
                cnt = f" (x{n})" if n > 1 else ""
                print(f"| {d} | {f} | `{mname}`{cnt} | {k} | {note} |")
            nb = sum(1 for v in how.values() if kind(v) == "block RAM")
            print(f"| {d} | {f} | {nb} other memories | block RAM | |")
    print()

    # memories not synthesized (decoder designs) and the big ones
    print("Weight stream memory (not in `<prefix>_decoder`) and the largest memories, from manifest.json:")
    print()
    print("| design | memory | depth x width (x count) | Mbit | DP16KD | RAMB36E1 |")
    print("|---|---|---|---:|---:|---:|")
    for d in a.designs:
        man = json.load(open(os.path.join(a.dir, d, "manifest.json")))
        bb = ""
        for f in fams:
            p = os.path.join(a.dir, f"{d}_{f}.blackbox")
            if os.path.exists(p):
                bb = bb or open(p).read().strip()
        for m in man["memories"]:
            bits = m["depth"] * m["width"] * m["count"]
            if bits < 1 << 20:
                continue
            e = brams(m["depth"], m["width"], "ecp5") * m["count"]
            x = brams(m["depth"], m["width"], "xilinx") * m["count"]
            where = ""
            if m["owner"] == "u_wmem" and not d.startswith("260k"):
                where = " (not in the decoder: not synthesized)"
            if m["owner"] == "external":
                where = " (outside the chip: weights.bin, read over AXI4)"
            if m["owner"].endswith("u_emb") and bb.endswith("_embed"):
                where = " (black box: not synthesized)"
            cnt = f" (x{m['count']})" if m["count"] > 1 else ""
            print(f"| {d} | {m['name']}{where} | {m['depth']:,} x {m['width']}{cnt} "
                  f"| {bits / 1e6:.1f} | {e:,} | {x:,} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
