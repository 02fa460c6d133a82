#!/usr/bin/env python3
"""UP5K gap report of the iCEBreaker decoder system (docs/fpga.md, "What the
full UP5K build needs"), from the files decoder_report.sh leaves in DIR:

  stat.json   yosys `stat -json` after synth_ice40 -noflatten (cells per module)
  hier.json   yosys `json` of the hierarchical instances (instance names)
  mems.json   yosys `json` of the $mem_v2 cells before memory_libmap
  yosys.log   the run's log (memory_libmap's mapping of each memory)

Prints a markdown table: one row per decoder-level unit (its submodules
included; instances of one module type share a row), the decoder's own logic
(the controller), the board units, the total, the UP5K and the factor over
it; then the memories that did not map to EBR / SPRAM. Writes 1 (fits) or 0
to DIR/fits.

  decoder_report.py DIR --prefix PREFIX [--top icebreaker_decoder_core]
                    [--seconds S] [--lc-per-lut 1.05]
"""
import argparse
import json
import os
import re
import sys

UP5K = {"LC": 5280, "DSP": 8, "EBR": 30, "SPRAM": 4}
COLS = ("SB_LUT4", "SB_CARRY", "FF", "SB_MAC16", "SB_RAM40_4K", "SB_SPRAM256KA")
HEAD = ("SB_LUT4", "carry", "FF", "SB_MAC16", "EBR", "SPRAM")


def base_name(mtype):
    """'$paramod$hash\\name' or '$paramod\\name\\P=V' -> 'name'."""
    if mtype.startswith("$paramod"):
        parts = mtype.split("\\")
        return parts[1] if len(parts) > 1 else mtype
    return mtype.lstrip("\\")


def short(name, prefix):
    if name.startswith(prefix + "_"):
        return name[len(prefix) + 1:]
    if name.startswith("lg_"):
        return name[3:]
    return name


def kind(cell_type):
    return "FF" if cell_type.startswith("SB_DFF") else cell_type


def fmt(n):
    return f"{n:,}"


class Design:
    def __init__(self, stat, hier, prefix):
        self.mods = stat["modules"]
        self.prefix = prefix
        # instance names per parent module: {parent: [(inst, type)]}
        self.insts = {}
        for mname, m in hier.get("modules", {}).items():
            for cname, c in m.get("cells", {}).items():
                if c["type"] in self.mods:
                    self.insts.setdefault(mname, []).append((cname, c["type"]))
        self.memo = {}

    def own(self, mtype):
        """primitive cells of one module, not its submodules"""
        counts, other = {k: 0 for k in COLS}, {}
        for t, n in self.mods[mtype]["num_cells_by_type"].items():
            if t in self.mods:
                continue
            k = kind(t)
            if k in counts:
                counts[k] += n
            else:
                other[k] = other.get(k, 0) + n
        return counts, other

    def children(self, mtype):
        return [(t, n) for t, n in self.mods[mtype]["num_cells_by_type"].items()
                if t in self.mods]

    def total(self, mtype):
        """cells of a module with all its submodules"""
        if mtype in self.memo:
            return self.memo[mtype]
        counts, other = self.own(mtype)
        counts, other = dict(counts), dict(other)
        for t, n in self.children(mtype):
            c, o = self.total(t)
            for k in c:
                counts[k] += n * c[k]
            for k in o:
                other[k] = other.get(k, 0) + n * o[k]
        self.memo[mtype] = (counts, other)
        return counts, other

    def sub_units(self, mtype, mult=1, acc=None):
        """{short name: instances} of every module below mtype"""
        acc = {} if acc is None else acc
        for t, n in self.children(mtype):
            s = short(base_name(t), self.prefix)
            acc[s] = acc.get(s, 0) + n * mult
            self.sub_units(t, n * mult, acc)
        return acc

    def inst_names(self, parent, mtypes):
        return sorted(i for i, t in self.insts.get(parent, []) if t in mtypes)


def add(a, b, n=1):
    for k in b:
        a[k] = a.get(k, 0) + n * b[k]


def rows_of(d, top):
    """[(label, counts)], decoder-level units first (by SB_LUT4), then board units"""
    dec = [t for t, _ in d.children(top) if base_name(t) == d.prefix + "_decoder"]
    if len(dec) != 1:
        sys.exit(f"decoder_report: no single {d.prefix}_decoder under {top}")
    dec = dec[0]
    rows, other = [], {}

    def group(parent):
        groups = {}
        for t, n in d.children(parent):
            s = short(base_name(t), d.prefix)
            groups.setdefault(s, []).append((t, n))
        out = []
        for s, lst in groups.items():
            counts, subs, ninst = {k: 0 for k in COLS}, {}, 0
            for t, n in lst:
                c, o = d.total(t)
                add(counts, c, n)
                add(other, o, n)
                add(subs, d.sub_units(t, n))
                ninst += n
            names = d.inst_names(parent, {t for t, _ in lst})
            inside = []
            if names:
                inside.append(", ".join(names))
            if subs:
                inside.append("+ " + ", ".join(
                    (f"{n} " if n > 1 else "") + k for k, n in sorted(subs.items())))
            label = s + (f" x{ninst}" if ninst > 1 else "")
            if inside:
                label += " (" + "; ".join(inside) + ")"
            out.append((label, counts))
        return out

    units = group(dec)
    own, o = d.own(dec)
    add(other, o)
    units.append(("controller (the decoder's own logic)", own))
    units.sort(key=lambda r: -r[1]["SB_LUT4"])
    rows += units
    board = [r for r in group(top) if not r[0].startswith("decoder")]
    uart = [r for r in board if r[0].startswith("uart_")]
    rest = [r for r in board if not r[0].startswith("uart_")]
    rows += rest
    if uart:
        c = {k: 0 for k in COLS}
        for _, rc in uart:
            add(c, rc)
        names = ", ".join(re.sub(r"^.*\((.*)\)$", r"\1", r[0]) for r in uart)
        rows.append((f"uart_rx + uart_tx + uart_tokens ({names})", c))
    topown, o = d.own(top)
    add(other, o)
    if any(topown.values()):
        rows.append(("system glue (" + top + ")", topown))
    return rows, other


def load_stat(path):
    """yosys 0.23's `stat -json` with a hierarchy prints the hierarchy tree as
    text inside the JSON, and names plain modules with a leading backslash:
    drop the text lines, strip the backslashes"""
    keep = []
    with open(path) as f:
        for line in f:
            t = line.strip()
            if '"' in t or t in ("{", "}", "},", "[", "]", "],", ""):
                keep.append(line)
    stat = json.loads("".join(keep))
    clean = lambda n: n[1:] if n.startswith("\\") else n
    mods = {}
    for name, m in stat["modules"].items():
        m = dict(m)
        m["num_cells_by_type"] = {clean(t): n for t, n in m["num_cells_by_type"].items()}
        mods[clean(name)] = m
    stat["modules"] = mods
    return stat


def mem_notes(dirname):
    """memories that memory_libmap did not put into EBR / SPRAM"""
    logf = os.path.join(dirname, "yosys.log")
    memsf = os.path.join(dirname, "mems.json")
    ff, mapped = [], {}
    with open(logf, errors="replace") as f:
        for line in f:
            m = re.match(r"using FF mapping for memory (\S+)", line)
            if m:
                ff.append(m.group(1))
            m = re.match(r"mapping memory (\S+) via (\S+)", line)
            if m:
                mapped[m.group(1)] = m.group(2)
    dims = {}
    if os.path.exists(memsf):
        with open(memsf) as f:
            mj = json.load(f)
        for mname, m in mj.get("modules", {}).items():
            for cname, c in m.get("cells", {}).items():
                p = c.get("parameters", {})
                iv = lambda k: int(p.get(k, "0"), 2) if p.get(k) else 0
                rd_clk = p.get("RD_CLK_ENABLE", "")
                conn = c.get("connections", {})
                dims[mname + "." + cname] = {
                    "size": iv("SIZE"), "width": iv("WIDTH"),
                    "rd": iv("RD_PORTS"), "wr": iv("WR_PORTS"),
                    "async": "0" in rd_clk,
                    # one address for read and write: the SPRAM's form
                    "shared": conn.get("RD_ADDR") is not None
                    and conn.get("RD_ADDR") == conn.get("WR_ADDR")}
    return ff, mapped, dims


def mem_label(full, prefix):
    mod, _, mem = full.partition(".")
    mem = re.sub(r"^\$auto\$proc_rom\.cc:\d+:do_switch\$\d+", "case ROM", mem)
    return short(base_name(mod), prefix) + "." + mem


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--top", default="icebreaker_decoder_core")
    ap.add_argument("--seconds", type=int)
    # packed LC per hierarchical SB_LUT4 of this system as nextpnr last
    # measured it (6,473 / 6,184); the flat nextpnr run that follows gives the
    # real count, this only estimates it when PNR=0
    ap.add_argument("--lc-per-lut", type=float, default=1.05)
    a = ap.parse_args()
    stat = load_stat(os.path.join(a.dir, "stat.json"))
    with open(os.path.join(a.dir, "hier.json")) as f:
        hier = json.load(f)
    d = Design(stat, hier, a.prefix)
    if a.top not in d.mods:
        sys.exit(f"decoder_report: no module {a.top} in stat.json")
    rows, other = rows_of(d, a.top)
    tot, tother = d.total(a.top)
    chk = {k: 0 for k in COLS}
    for _, c in rows:
        add(chk, c)
    if chk != tot:
        sys.exit(f"decoder_report: rows {chk} do not add up to the total {tot}")
    if "design" in stat:  # yosys' own hierarchy total
        yt = {k: 0 for k in COLS}
        for t, n in stat["design"].get("num_cells_by_type", {}).items():
            if kind(t) in yt:
                yt[kind(t)] += n
        if yt != tot:
            sys.exit(f"decoder_report: the total {tot} differs from yosys' {yt}")

    out = []
    p = out.append
    p(f"| unit (instances; + submodules) | {' | '.join(HEAD)} |")
    p("|---|" + "---:|" * len(HEAD))
    for label, c in rows:
        p(f"| {label} | " + " | ".join(fmt(c[k]) for k in COLS) + " |")
    p("| **total** | " + " | ".join(f"**{fmt(tot[k])}**" for k in COLS) + " |")
    p(f"| UP5K | {fmt(UP5K['LC'])} LC | | | {UP5K['DSP']} | {UP5K['EBR']} | {UP5K['SPRAM']} |")
    lc = round(tot["SB_LUT4"] * a.lc_per_lut)
    ff_n = tot["FF"]
    p("")
    p(f"Estimated LC: {fmt(lc)} ({a.lc_per_lut} x SB_LUT4, the system's last measured packing; "
      f"at least max(SB_LUT4, FF) = {fmt(max(tot['SB_LUT4'], ff_n))}).")
    fac = {"LC": lc / UP5K["LC"], "DSP": tot["SB_MAC16"] / UP5K["DSP"],
           "EBR": tot["SB_RAM40_4K"] / UP5K["EBR"], "SPRAM": tot["SB_SPRAM256KA"] / UP5K["SPRAM"]}
    p("Over the UP5K: " + ", ".join(
        f"{k} {v:.1f}x" if k != "SPRAM" else f"SPRAM {tot['SB_SPRAM256KA']} of {UP5K['SPRAM']}"
        for k, v in fac.items()) +
      f" (SB_LUT4 alone {tot['SB_LUT4'] / UP5K['LC']:.1f}x, FF {ff_n / UP5K['LC']:.1f}x).")
    fits = all(v <= 1.0 for v in fac.values()) and tot["SB_LUT4"] <= UP5K["LC"]
    if other or tother:
        p("Other cells: " + ", ".join(f"{k} {n}" for k, n in sorted(tother.items())))
    ff, mapped, dims = mem_notes(a.dir)
    nblk = {}
    for m, via in mapped.items():
        nblk[via] = nblk.get(via, 0) + 1
    p("")
    p(f"Memories: {len(mapped)} mapped to block RAM (" + ", ".join(
        f"{n} via {v.strip('$_')}" for v, n in sorted(nblk.items())) +
      f"), {len(ff)} left in logic (memory_libmap's FF mapping):")
    for m in ff:
        dm = dims.get(m)
        if dm:
            why = []
            if dm["async"]:
                why.append("asynchronous read")
            if dm["wr"] == 0:
                why.append("ROM")
            if dm["size"] * dm["width"] <= 1024 and not dm["async"]:
                why.append("small")
            desc = f"{dm['size']} x {dm['width']} bit, {dm['rd']} read / {dm['wr']} write port(s)"
            p(f"- {mem_label(m, a.prefix)}: {desc}" + (f"; {', '.join(why)}" if why else ""))
        else:
            p(f"- {mem_label(m, a.prefix)}")
    # big writable memories (>= 64 Kbit, a quarter SPRAM) that did not become SPRAM
    big = [m for m, v in mapped.items() if not v.startswith("$__ICE40_SPRAM")
           and dims.get(m, {}).get("wr", 0) > 0
           and dims[m]["size"] * dims[m]["width"] >= 65536]
    if big:
        p("Big RAMs (>= 64 Kbit, writable) not in SPRAM:")
    for m in big:
        dm = dims[m]
        why = ("one address for read and write, yet not SPRAM" if dm["shared"] else
               "separate read and write addresses (simple dual port), which "
               "SB_SPRAM256KA (single port) cannot do")
        p(f"- {mem_label(m, a.prefix)}: {dm['size']:,} x {dm['width']} bit in EBR: {why}")
    if a.seconds is not None:
        p("")
        p(f"yosys synth_ice40 wall time: {a.seconds} s")
    p("")
    p("Fits the UP5K: " + ("yes (by yosys counts; nextpnr decides)" if fits else "no"))
    text = "\n".join(out)
    print(text)
    with open(os.path.join(a.dir, "report.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(a.dir, "fits"), "w") as f:
        f.write("1\n" if fits else "0\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError) as e:  # (json's errors are ValueErrors)
        sys.exit(f"decoder_report: cannot read yosys' output: {e}")
