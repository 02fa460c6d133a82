#!/usr/bin/env python3
"""Static timing of the placed and routed iCEBreaker system, endpoint by
endpoint (docs/fpga.md, "Timing with the DSP delays"): the Fmax gap to a target,
unit by unit.

nextpnr reports one critical path per clock. To know what stands between
the decoder and a clock target, every register and RAM input that misses
it is needed, with the unit it belongs to. This script reruns the static
timing analysis on the delays nextpnr itself wrote (its --sdf output:
every cell arc, setup time and routed net delay of the design), so it sees
what nextpnr sees, and lists all failing endpoints.

Model (nextpnr's, checked against its Fmax, see --pnr-log):
  * launch: a clock-to-out arc (CLK / RCLK / WCLK / CLOCK / INPUT_CLK ...)
    of a cell clocked by the main clock; arrival = that arc's delay;
  * propagation: routed interconnect delays and combinational cell arcs,
    longest path (max of the rise / fall and min:typ:max figures);
  * capture: a SETUP(HOLD) check against a pin clocked by the main clock;
    path delay = arrival + setup. The clock network is ideal (no skew), as
    in nextpnr.
The main clock is the net that drives the most clock pins; cells clocked
by anything else (the combinational SB_MAC16s, whose CLK is tied low) are
neither launch nor capture points in nextpnr's model.

SB_MAC16 (--design, --dsp-timing): nextpnr 0.4 models every DSP as fully
registered (100 ps clock-to-out and setup, clock pin tied low when the
multiplier is combinational), so paths through a combinational multiplier
are cut at it and its delay is counted nowhere. With the yosys netlist
(for each DSP's configuration) and icestorm's UP5K timing file (the
iCEcube2 delays per DSP mode and pin, slow corner: the column nextpnr uses
for the logic cells) every SB_MAC16 gets its real arcs:
  * outputs from the 16x16 multiplier (OUTPUT_SELECT 3): the
    MUL_{S,U}_16X16_BYPASS arcs, input pin to output pin;
  * outputs from the adder fed by the multiplier, unregistered
    (OUTPUT_SELECT 0): no iCEcube2 mode has this, so each input gets the
    MAC_U_16X16_BYPASS mode's worst arc from that input to the adder's carry
    out (CO / ACCUMCO: through the same multiplier and the whole adder) to
    every output;
  * the registered accumulator (OUTPUT_SELECT 1): MAC_U_16X16_BYPASS's
    setups (input through multiplier and adder into the register) and
    clock-to-out, the ALL_PIPELINE setups for inputs with their own
    register (A_REG ...);
  * a combinational output behind input registers (A_REG ... without the
    pipeline registers: no iCEcube2 mode) launches from the clock through
    the combinational arcs plus the registered mode's worst clock-to-out
    (an upper bound), the registered inputs with the ALL_PIPELINE setups.
Any other configuration is an error (the model would be guessed). The
block RAMs' setups (SB_RAM40_4K, SB_SPRAM256KA: 100 ps placeholders in
nextpnr's SDF) come from the same file; their clock-to-out figures in the
SDF are iCEcube2's already.

  paths_by_unit.py DESIGN.sdf [--mhz 30] [--pnr-log PNR.log]
                   [--design DESIGN.json [--dsp-timing timings_up5k.txt]]
                   [--paths K] [--trace N] [--flash-bytes B [--clk-per-byte C]]
                   [--check]

Prints the worst path in nextpnr's model (with --pnr-log, nextpnr's own
Fmax for the clock, which must agree) and, with --design, with the DSP
delays; then, for the more complete of the two, a markdown table of the
endpoints that miss the target period per unit (count, distinct
registers, worst delay, the worst path's start and logic levels), and the
K worst distinct registers. --trace N then prints the worst path of the N
worst registers pin by pin (arrival, increment, cell type, pin) and its
sum by kind: launch, LUTs, carry chain, DSP, RAM, routing, setup.
--flash-bytes B prints the flash-bound tokens/s at the DSP-aware Fmax (B
weight bytes a token, C clk a byte: 4 by default, 2 with the reader's
SCK_DDR; report.py's rate, whose own figure is at nextpnr's Fmax).
Exit 1 when the SDF cannot be read or the check against --pnr-log fails;
with --check, also when the worst path misses the --mhz period.
"""
import argparse
import collections
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lc_by_unit import unit_of  # noqa: E402  (the same unit names as the LC table)
from report import CLK_PER_BYTE, flash_tokens_per_s  # noqa: E402  (report.py's token rate)

CLOCK_PORTS = {"CLK", "RCLK", "WCLK", "CLOCK", "INPUT_CLK", "OUTPUT_CLK"}
TRIPLE = re.compile(r"\(([-0-9.]*):([-0-9.]*):([-0-9.]*)\)")


def unescape(s):
    return re.sub(r"\\(.)", r"\1", s)


def split_pin(s):
    inst, _, port = unescape(s).rpartition("/")
    return inst, port


def edge_port(tok):
    """'(posedge CLK)' or 'CLK' -> 'CLK'."""
    m = re.match(r"\((?:posedge|negedge)\s+(\S+)\)", tok)
    return m.group(1) if m else tok


def worst(text):
    vals = [float(v) for t in TRIPLE.findall(text) for v in t if v not in ("", "-")]
    return max(vals) if vals else 0.0


def least(text):
    vals = [float(v) for t in TRIPLE.findall(text) for v in t if v not in ("", "-")]
    return min(vals) if vals else 0.0


def read_sdf(path, pick=worst):
    """-> celltype{inst}, iopath[(inst, from, to, ps)], setup{(inst, port): (clkport, ps)},
    inter[(src_inst, src_port, dst_inst, dst_port, ps)], hold{(inst, port): (clkport, ps)};
    pick: which figure of a (min:typ:max) triple (worst: the largest; least)"""
    celltype, iopath, setup, inter, hold = {}, [], {}, [], {}
    inst = None
    pending_type = None
    with open(path) as f:
        for line in f:
            s = line.strip()
            if s.startswith("(CELLTYPE"):
                pending_type = s.split('"')[1]
            elif s.startswith("(INSTANCE"):
                inst = unescape(s[len("(INSTANCE"):].rstrip(")").strip())
                celltype[inst] = pending_type
            elif s.startswith("(INTERCONNECT"):
                toks = s.split()
                si, sp = split_pin(toks[1])
                di, dp = split_pin(toks[2])
                inter.append((si, sp, di, dp, pick(s)))
            elif s.startswith("(IOPATH"):
                m = re.match(r"\(IOPATH\s+(\([^)]*\)|\S+)\s+(\S+)\s+(.*)", s)
                iopath.append((inst, edge_port(m.group(1)), m.group(2), pick(m.group(3))))
            elif s.startswith("(SETUPHOLD") or s.startswith("(SETUP "):
                m = re.match(r"\(SETUP(?:HOLD)?\s+(\([^)]*\)|\S+)\s+(\([^)]*\)|\S+)\s+"
                             r"(\([-0-9.:]*\))(?:\s+(\([-0-9.:]*\)))?", s)
                port, clk = edge_port(m.group(1)), edge_port(m.group(2))
                val = worst(m.group(3))
                key = (inst, port)
                if key not in setup or setup[key][1] < val:
                    setup[key] = (clk, val)
                if s.startswith("(SETUPHOLD") and m.group(4):
                    hv = worst(m.group(4))     # a hold requirement: its largest figure
                    if key not in hold or hold[key][1] < hv:
                        hold[key] = (clk, hv)
            elif s.startswith("(HOLD "):
                m = re.match(r"\(HOLD\s+(\([^)]*\)|\S+)\s+(\([^)]*\)|\S+)\s+(\([-0-9.:]*\))", s)
                port, clk = edge_port(m.group(1)), edge_port(m.group(2))
                key, hv = (inst, port), worst(m.group(3))
                if key not in hold or hold[key][1] < hv:
                    hold[key] = (clk, hv)
    return celltype, iopath, setup, inter, hold


def read_timings(path):
    """icestorm's timings_<dev>.txt -> {cell: {"io": {(from, to): ps}, "setup": {pin: ps}}},
    pins as nextpnr's SDF names them (A[3] -> A_3), the worst of all figures."""
    cells, cur = {}, None
    with open(path) as f:
        for line in f:
            t = line.split()
            if not t:
                continue
            if t[0] == "CELL":
                cur = cells.setdefault(t[1], {"io": {}, "setup": {}, "hold": {}})
                continue
            if cur is None or t[0] not in ("IOPATH", "SETUP", "HOLD"):
                continue
            pin = [re.sub(r"\[(\d+)\]", r"_\1", x.split(":")[-1]) for x in t[1:3]]
            vals = [float(v) for x in t[3:] for v in x.split(":") if v not in ("*", "")]
            v = max(vals) if vals else 0.0
            if t[0] == "IOPATH":
                k = (pin[0], pin[1])
                cur["io"][k] = max(cur["io"].get(k, 0.0), v)
            else:
                kind = "setup" if t[0] == "SETUP" else "hold"
                cur[kind][pin[0]] = max(cur[kind].get(pin[0], 0.0), v)
    return cells


def fast_ratio(path):
    """The fast corner's delays over the slow corner's in icestorm's timing
    file (min:typ:max triples), the smallest ratio of any cell's figure: on
    the UP5K every figure but the fixed I/O pad ones has the same, 0.3712."""
    r = None
    with open(path) as f:
        for line in f:
            t = line.split()
            if not t or t[0] not in ("IOPATH", "SETUP", "HOLD"):
                continue
            for x in t[3:]:
                v = x.split(":")
                if len(v) == 3 and "*" not in v and float(v[2]) > 0:
                    q = float(v[0]) / float(v[2])
                    r = q if r is None else min(r, q)
    if r is None:
        raise ValueError(f"no min:typ:max figures in {path}")
    return r


def hard_model(design, timings):
    """The hard blocks' delays that nextpnr's SDF lacks: {"dsp": {placed
    SB_MAC16 (the yosys cell name + '_DSP'): {"arcs": {(in, out): ps},
    "setup": {in: ps}, "cq": {out: ps}, "mode": text}}, "ram": {cell type:
    {pin: setup ps}}}."""
    import json
    with open(design) as f:
        d = json.load(f)
    tm = read_timings(timings)
    # the block RAMs' setups (nextpnr writes 100 ps placeholders; its
    # clock-to-out figures are iCEcube2's already)
    ram = {"ICESTORM_RAM": tm["SB_RAM40_4K"]["setup"],
           "ICESTORM_SPRAM": tm["SB_SPRAM256KA"]["setup"]}
    model = {}
    for mod in d.get("modules", {}).values():
        for name, c in mod.get("cells", {}).items():
            if c.get("type") != "SB_MAC16":
                continue
            p = {k: int(v, 2) if isinstance(v, str) else int(v)
                 for k, v in c.get("parameters", {}).items()}
            sel = {p.get("TOPOUTPUT_SELECT", 0), p.get("BOTOUTPUT_SELECT", 0)}
            lower = {p.get("TOPADDSUB_LOWERINPUT", 0), p.get("BOTADDSUB_LOWERINPUT", 0)}
            inreg = [r for r in ("A_REG", "B_REG", "C_REG", "D_REG") if p.get(r)]
            pipe = [r for r in ("TOP_8x8_MULT_REG", "BOT_8x8_MULT_REG",
                                "PIPELINE_16x16_MULT_REG1", "PIPELINE_16x16_MULT_REG2")
                    if p.get(r)]
            sign = "S" if p.get("A_SIGNED") or p.get("B_SIGNED") else "U"
            if p.get("MODE_8x8") or pipe or len(sel) != 1 or (sel != {3} and lower != {2}):
                raise ValueError(f"SB_MAC16 {name}: configuration without a timing model "
                                 f"({ {k: v for k, v in p.items() if 'SELECT' in k or 'REG' in k} })")
            m = {"arcs": {}, "setup": {}, "cq": {}}
            sel = sel.pop()
            if sel == 2:
                raise ValueError(f"SB_MAC16 {name}: OUTPUT_SELECT 2 (8x8 product): "
                                 "no timing model")
            if sel == 3:
                mode = f"SB_MAC16_MUL_{sign}_16X16_BYPASS"
                arcs = {k: v for k, v in tm[mode]["io"].items() if k[1].startswith("O_")}
            elif sel == 0:
                mode = "SB_MAC16_MAC_U_16X16_BYPASS -> CO"
                io = tm["SB_MAC16_MAC_U_16X16_BYPASS"]["io"]
                worst_in = collections.defaultdict(float)
                for (a, b), v in io.items():
                    if b in ("CO", "ACCUMCO"):
                        worst_in[a] = max(worst_in[a], v)
                outs = {b for (_, b) in tm["SB_MAC16_MUL_U_16X16_BYPASS"]["io"] if b.startswith("O_")}
                arcs = {(a, o): v for a, v in worst_in.items() for o in outs}
            if sel in (0, 3):
                # an input with its own register (A_REG ...; no iCEcube2 mode has
                # these without the pipeline registers): its setup is the
                # ALL_PIPELINE mode's, and the outputs launch from the clock
                # through the combinational arcs, plus the registered mode's
                # worst clock-to-out as the register's own (an upper bound)
                own = {r[0] for r in inreg}
                pip = tm[f"SB_MAC16_MUL_{sign}_16X16_ALL_PIPELINE"]["setup"]
                cq_in = max(v for (a, b), v in tm["SB_MAC16_MAC_U_16X16_BYPASS"]["io"].items()
                            if a == "CLK" and b.startswith("O_"))
                for (a, o), v in arcs.items():
                    if a[:1] in own and a[1:2] == "_":
                        m["cq"][o] = max(m["cq"].get(o, 0.0), cq_in + v)
                        m["setup"][a] = pip.get(a, 0.0)
                    else:
                        m["arcs"][(a, o)] = v
                if inreg:
                    mode += " + " + ", ".join(inreg) + " (upper bound)"
            if sel == 1:
                mode = "SB_MAC16_MAC_U_16X16_BYPASS (registered output)"
                byp = tm["SB_MAC16_MAC_U_16X16_BYPASS"]
                pip = tm["SB_MAC16_MAC_U_16X16_ALL_PIPELINE"]
                for pin, v in byp["setup"].items():
                    own = pin[:1] + "_REG" in inreg
                    m["setup"][pin] = pip["setup"].get(pin, v) if own else v
                m["cq"] = {b: v for (a, b), v in byp["io"].items() if a == "CLK"}
                if inreg:
                    mode += " + " + ", ".join(inreg)
            m["mode"] = mode
            model[name + "_DSP"] = m
    return {"dsp": model, "ram": ram}


def clocks(inter, scale=1.0):
    """The main clock (the net driving the most clock pins) -> on_main(inst,
    port), and each clock pin's net delay (ps, times scale)."""
    dom, clkd = {}, {}
    for si, sp, di, dp, d in inter:
        if dp in CLOCK_PORTS:
            dom[(di, dp)] = (si, sp)
            clkd[(di, dp)] = d * scale
    count = collections.Counter(dom.values())
    if not count:
        raise ValueError("no clock pins in the SDF")
    main = count.most_common(1)[0][0]

    def on_main(inst, port):
        return dom.get((inst, port)) == main
    return on_main, clkd


def propagate(starts, succ, longest):
    """Arrival times from the launch points over the reachable graph, in Kahn
    order: the longest path (setup) or the shortest (hold). -> arr, pred."""
    reach, stack = set(starts), list(starts)
    while stack:
        n = stack.pop()
        for m, _ in succ.get(n, ()):
            if m not in reach:
                reach.add(m)
                stack.append(m)
    indeg = collections.Counter()
    for n in reach:
        for m, _ in succ.get(n, ()):
            indeg[m] += 1
    none = float("-inf") if longest else float("inf")
    arr, pred = dict(starts), {}
    queue = [n for n in reach if indeg[n] == 0]
    done = 0
    while queue:
        n = queue.pop()
        done += 1
        a = arr.get(n, none)
        for m, d in succ.get(n, ()):
            b = arr.get(m, none)
            if (a + d > b) if longest else (a + d < b):
                arr[m] = a + d
                pred[m] = n
            indeg[m] -= 1
            if indeg[m] == 0:
                queue.append(m)
    if done != len(reach):
        raise ValueError(f"combinational loop: {len(reach) - done} nodes not ordered")
    return arr, pred


def analyse(sdf, hard=None):
    """Longest register-to-register paths. hard: hard_model() or None for
    nextpnr's own model."""
    celltype, iopath, setup, inter, _ = read_sdf(sdf)
    on_main, _ = clocks(inter)

    dsp_insts = {i for i, t in celltype.items() if t == "ICESTORM_DSP"}
    if hard is not None:
        dsps = hard["dsp"]
        for (i, p), (clk, v) in list(setup.items()):
            ram = hard["ram"].get(celltype.get(i))
            if ram is not None and p in ram:
                setup[(i, p)] = (clk, max(v, ram[p]))
        missing = dsp_insts - set(dsps)
        if missing:
            raise ValueError(f"SB_MAC16 not in the netlist: {sorted(missing)[0]}")
        # the SDF's placeholder arcs of the DSPs give way to the model's
        iopath = [x for x in iopath if x[0] not in dsp_insts]
        setup = {k: v for k, v in setup.items() if k[0] not in dsp_insts}
        for i in dsp_insts:
            m = dsps[i]
            for (a, b), v in m["arcs"].items():
                iopath.append((i, a, b, v))
            for b, v in m["cq"].items():
                iopath.append((i, "CLK", b, v))
            for a, v in m["setup"].items():
                setup[(i, a)] = ("CLK", v)
    comb_dsp = {i for i in dsp_insts if not on_main(i, "CLK")}
    succ = collections.defaultdict(list)    # node -> [(node, ps)]
    starts = {}                              # node -> launch arrival (ps)
    for si, sp, di, dp, d in inter:
        if dp not in CLOCK_PORTS:
            succ[(si, sp)].append(((di, dp), d))
    for inst, fr, to, d in iopath:
        if fr in CLOCK_PORTS:
            if on_main(inst, fr):
                starts[(inst, to)] = max(starts.get((inst, to), 0.0), d)
        else:
            succ[(inst, fr)].append(((inst, to), d))

    arr, pred = propagate(starts, succ, longest=True)

    ends = []
    for (inst, port), (clk, su) in setup.items():
        if (inst, port) in arr and on_main(inst, clk):
            ends.append((arr[(inst, port)] + su, inst, port))
    ends.sort(reverse=True)
    return ends, pred, arr, celltype, comb_dsp


# icestorm's names of a logic cell's inputs (its LogicCell40 hold figures)
LC_PINS = {"I0": "in0", "I1": "in1", "I2": "in2", "I3": "in3", "CEN": "ce", "SR": "sr"}


def analyse_hold(sdf, timings):
    """Hold: the shortest path from every launch to every capture point at the
    fast corner, against the capture pin's hold requirement. Delays are the
    SDF's (nextpnr's slow corner) times fast_ratio(); the clock net delays to
    both ends count (nextpnr gives every logic, RAM, DSP and I/O clock pin the
    same; a pin it gives 0 ps, the SPRAMs' CLOCK, captures at the latest
    clock pin's delay and launches at 0). Every setup check is also a hold
    check (hold 0 unless the SDF or the timing file says more). Holds: the
    larger of the SDF's (nextpnr writes 0) and icestorm's worst figure for
    the pin (block RAM, SPRAM, any SB_MAC16 mode, logic cell). The DSPs are
    taken at their fastest conceivable: clock-to-out 0 and, for the
    combinational ones (clock tied low), every input reaching every output
    in 0 ps (nextpnr's SDF has no such arcs), so a path through a DSP is
    never longer here than on silicon.
    -> (slack ps, inst, port, arrival ps, required ps) sorted worst first,
    pred, ratio."""
    celltype, iopath, setup, inter, hold = read_sdf(sdf, pick=least)
    tm = read_timings(timings)
    k = fast_ratio(timings)
    on_main, clkd = clocks(inter, k)
    # every setup check is a hold check too (hold 0 where the SDF gives none)
    for key, (clk, _) in setup.items():
        hold.setdefault(key, (clk, 0.0))
    # a clock pin nextpnr gives 0 ps (the SPRAMs' CLOCK) while the others'
    # nets have a delay: its real delay is unknown, so it captures as late as
    # the latest clock pin (and launches at 0, the earliest)
    late = max((v for (i, p), v in clkd.items() if on_main(i, p)), default=0.0)

    dsp_hold = collections.defaultdict(float)
    for cell, c in tm.items():
        if cell.startswith("SB_MAC16"):
            for pin, v in c["hold"].items():
                dsp_hold[pin] = max(dsp_hold[pin], v)
    file_hold = {"ICESTORM_RAM": tm["SB_RAM40_4K"]["hold"],
                 "ICESTORM_SPRAM": tm["SB_SPRAM256KA"]["hold"],
                 "ICESTORM_DSP": dsp_hold,
                 "ICESTORM_LC": {p: tm["LogicCell40"]["hold"].get(q, 0.0)
                                 for p, q in LC_PINS.items()}}
    dsps = {i for i, t in celltype.items() if t == "ICESTORM_DSP"}
    succ = collections.defaultdict(list)
    starts = {}
    for si, sp, di, dp, d in inter:
        if dp not in CLOCK_PORTS:
            succ[(si, sp)].append(((di, dp), d * k))
    dsp_in, dsp_out = collections.defaultdict(set), collections.defaultdict(set)
    for (inst, port) in hold:
        if inst in dsps:
            dsp_in[inst].add(port)
    for inst, fr, to, d in iopath:
        if inst in dsps:
            dsp_out[inst].add(to)
            if fr in CLOCK_PORTS and on_main(inst, fr):
                starts[(inst, to)] = clkd[(inst, fr)]
            continue
        if fr in CLOCK_PORTS:
            if on_main(inst, fr):
                a = clkd[(inst, fr)] + d * k
                starts[(inst, to)] = min(starts.get((inst, to), a), a)
        else:
            succ[(inst, fr)].append(((inst, to), d * k))
    for inst in dsps:
        if on_main(inst, "CLK"):
            continue   # registered outputs (the hard model's OUTPUT_SELECT 1): clock-to-out only
        for a in dsp_in[inst]:
            for b in dsp_out[inst]:
                succ[(inst, a)].append(((inst, b), 0.0))

    arr, pred = propagate(starts, succ, longest=False)

    ends = []
    for (inst, port), (clk, h) in hold.items():
        if (inst, port) not in arr or not on_main(inst, clk):
            continue
        h = max(h, file_hold.get(celltype.get(inst), {}).get(port, 0.0))
        req = (clkd[(inst, clk)] or late) + h
        ends.append((arr[(inst, port)] - req, inst, port, arr[(inst, port)], req))
    ends.sort()
    return ends, pred, k


def report_hold(ends, pred, k, n):
    """The worst hold slacks, and how many endpoints violate."""
    bad = sum(1 for e in ends if e[0] < 0)
    if not ends:
        print("\nhold: no register-to-register path")
        return 0
    s, inst, port, a, req = ends[0]
    print(f"\nhold (fast corner: the SDF's delays x {k:.4f}, icestorm's holds; DSPs at 0 ps): "
          f"worst slack {s / 1000:+.3f} ns, {bad} of {len(ends)} endpoints violate")
    for s, inst, port, a, req in ends[:n]:
        path = trace(pred, (inst, port))
        print(f"  {s / 1000:+7.3f} ns  {short(inst, 60)}.{port}  <-  "
              f"{short(path[0][0], 50)}.{path[0][1]} ({len(path) - 1} hops, "
              f"arrival {a / 1000:.3f}, required {req / 1000:.3f})")
    return bad


def trace(pred, node):
    path = [node]
    while path[-1] in pred:
        path.append(pred[path[-1]])
    return path[::-1]


def levels(path, celltype):
    """LUTs passed (a node pair in one LC entered by I0..I3, leaving by O) and DSPs."""
    lut = dsp = 0
    for (ia, pa), (ib, pb) in zip(path, path[1:]):
        if ia == ib and pb == "O" and pa in ("I0", "I1", "I2", "I3"):
            lut += 1
        if ia == ib and celltype.get(ia) == "ICESTORM_DSP":
            dsp += 1
    return lut, dsp


def register_of(inst):
    """A register's name from a packed cell name: the flat name up to the
    flip-flop / RAM / DSP suffix, without the bit index."""
    base = re.sub(r"_SB_(DFF|LUT4|CARRY|MAC16|RAM40|SPRAM).*$", "", inst)
    base = re.sub(r"\.\d+\.\d+_RAM$", "", base)
    return base


def short(inst, n=70):
    return inst if len(inst) <= n else "..." + inst[-(n - 3):]


def report(ends, pred, celltype, mhz, npaths):
    period = 1e6 / mhz
    fail = [e for e in ends if e[0] > period]
    print(f"\nendpoints over {period / 1000:.2f} ns ({mhz:g} MHz): {len(fail)} of {len(ends)}")
    if not fail:
        return
    by = collections.defaultdict(list)
    for e in fail:
        by[unit_of(e[1])].append(e)
    print("\n| unit | endpoints | registers | worst ns | worst path from | LUT levels |")
    print("|---|---:|---:|---:|---|---:|")
    for u in sorted(by, key=lambda u: -by[u][0][0]):
        es = by[u]
        ps, inst, port = es[0]
        path = trace(pred, (inst, port))
        lut, dsp = levels(path, celltype)
        regs = {register_of(i) for _, i, _ in es}
        src = f"{unit_of(path[0][0])}: {short(register_of(path[0][0]), 48)}"
        print(f"| {u} | {len(es)} | {len(regs)} | {ps / 1000:.1f} | {src} | "
              f"{lut}{f' + {dsp} DSP' if dsp else ''} |")
    print(f"\nworst {npaths} registers (flat names) over {mhz:g} MHz, and where their worst "
          "path starts:")
    for ps, inst, port, r in worst_registers(fail, npaths):
        path = trace(pred, (inst, port))
        dsp = sorted({register_of(i) for i, _ in path if celltype.get(i) == "ICESTORM_DSP"})
        via = f"  via {', '.join(x.rsplit('.', 1)[-1] for x in dsp)}" if dsp else ""
        print(f"  {ps / 1000:6.1f} ns  {short(r)}  <-  {short(register_of(path[0][0]), 60)}{via}")


def worst_registers(ends, n):
    """(ps, inst, port, register) of the worst endpoint of each of the n worst
    distinct registers, worst first (ends sorted as analyse() returns them)."""
    seen = set()
    for ps, inst, port in ends:
        r = register_of(inst)
        if r in seen:
            continue
        seen.add(r)
        yield ps, inst, port, r
        if len(seen) >= n:
            return


def show_trace(ends, pred, arr, celltype, n):
    """The worst path of each of the n worst distinct registers, hop by hop
    (arrival at each pin in ns, the increment, the cell type, the pin), and
    where its time goes: launch (clock-to-out), LUTs, carry chain, DSP,
    routing, setup; then the count and mean delay of the routed nets on
    those paths."""
    nets = []                                 # routed (non-carry) net delays, ps
    for ps, inst, port, _ in worst_registers(ends, n):
        print(f"\npath to {inst}.{port}: {ps / 1000:.2f} ns with the setup")
        path = trace(pred, (inst, port))
        part = collections.Counter()
        last, prev = 0.0, None
        legal, legal_cells = 0.0, set()       # time in nextpnr's carry-chain cells
        for node in path:
            a = arr.get(node, 0.0)
            t = celltype.get(node[0], "?").replace("ICESTORM_", "")
            # a cell nextpnr added to legalise a carry chain (chains_by_unit.py):
            # I3 -> O passes a carry out to logic, I1 -> COUT feeds one in
            tag = ""
            if node[0].startswith("$nextpnr_ICESTORM_LC"):
                tag = ("  (nextpnr: carry pass-out)" if node[1] in ("I3", "O") else
                       "  (nextpnr: carry feed-in)" if node[1] in ("I1", "COUT") else "")
                legal += a - last
                legal_cells.add(node[0])
            print(f"  {a / 1000:7.2f} {(a - last) / 1000:+6.2f}  {t:8s} {short(node[0], 84)}.{node[1]}{tag}")
            if prev is None:
                part["launch"] += a
            elif prev[0] == node[0]:
                part["DSP" if t == "DSP" else "carry" if node[1] == "COUT" else
                     "RAM" if t == "RAM" else "LUT"] += a - last
            else:
                part["carry" if node[1] == "CIN" else "routing"] += a - last
                if node[1] != "CIN":
                    nets.append(a - last)
            last, prev = a, node
        part["setup"] = ps - last
        print("  = " + ", ".join(f"{k} {part[k] / 1000:.2f}" for k in
                                 ("launch", "LUT", "carry", "DSP", "RAM", "routing", "setup")
                                 if part[k]))
        if legal_cells:
            print(f"  (of which {legal / 1000:.2f} ns into and through {len(legal_cells)} cells "
                  f"nextpnr added to legalise carry chains: make decoder-chains)")
    if nets:
        print(f"\nrouted nets on these paths: {len(nets)}, mean {sum(nets) / len(nets) / 1000:.2f} ns")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sdf", help="nextpnr --sdf output of the routed design")
    ap.add_argument("--mhz", type=float, default=30.0, help="clock target (default 30)")
    ap.add_argument("--pnr-log", help="nextpnr log: its Fmax must match nextpnr's model here")
    ap.add_argument("--design", help="the yosys netlist (JSON) nextpnr placed: DSP configurations")
    ap.add_argument("--dsp-timing", default="/usr/share/fpga-icestorm/chipdb/timings_up5k.txt",
                    help="icestorm's UP5K timing file (default: fpga-icestorm-chipdb's)")
    ap.add_argument("--paths", type=int, default=12, help="worst distinct registers listed")
    ap.add_argument("--flash-bytes", type=int, default=0,
                    help="weight image bytes a token: also print the flash-bound tokens/s at "
                         "the DSP-aware Fmax (report.py's rate)")
    ap.add_argument("--clk-per-byte", type=int, default=CLK_PER_BYTE, choices=(2, 4),
                    help="the flash reader's clk cycles a byte (4: SCK = clk / 2; 2: SCK_DDR)")
    ap.add_argument("--trace", type=int, default=0,
                    help="print the worst path of the N worst registers pin by pin")
    ap.add_argument("--hold", type=int, default=-1, metavar="K",
                    help="also analyse hold at the fast corner (icestorm's timing file) and "
                         "list the K worst slacks; with --check, a violation fails")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 when the worst path (with --design: the DSP-aware one) "
                         "misses --mhz")
    a = ap.parse_args()
    fm = None  # nextpnr's own Fmax (--pnr-log)
    if a.pnr_log:
        try:
            with open(a.pnr_log, errors="replace") as f:
                for line in f:
                    m = re.search(r"Max frequency for clock\s+'([^$'][^']*)': ([0-9.]+) MHz",
                                  line)
                    if m:
                        fm = float(m.group(2))
        except OSError as e:
            sys.exit(f"paths_by_unit: cannot read the nextpnr log: {e}")
    try:
        ends, pred, arr, celltype, comb = analyse(a.sdf)
        hard = hard_model(a.design, a.dsp_timing) if a.design else None
        if hard is not None:
            ends2, pred2, arr2, _, _ = analyse(a.sdf, hard)
        hold = analyse_hold(a.sdf, a.dsp_timing) if a.hold >= 0 else None
    except (OSError, ValueError, KeyError, AttributeError, IndexError) as e:
        sys.exit(f"paths_by_unit: cannot analyse {a.sdf}: {e}")
    if not ends:
        sys.exit(f"paths_by_unit: no register-to-register path in {a.sdf}")
    rc = 0
    top = ends[0][0]
    print(f"nextpnr's model (SB_MAC16 registered, {len(comb)} with their clock tied low): "
          f"worst path {top / 1000:.2f} ns = {1e6 / top:.2f} MHz")
    if a.pnr_log:
        if fm is None:
            print(f"FAIL no Fmax in {a.pnr_log}")
            rc = 1
        else:
            ok = abs(1e6 / top - fm) <= 0.01 + 1e-4 * fm
            print(f"  nextpnr's own Fmax: {fm:.2f} MHz: {'agrees' if ok else 'DISAGREES'}")
            rc |= 0 if ok else 1
    if hard is not None:
        for i, m in sorted(hard["dsp"].items()):
            print(f"  {i[:-4]}: {m['mode']}")  # (the placed cell: name + _DSP)
        top = ends2[0][0]
        print(f"with the SB_MAC16 delays and RAM setups (icestorm's UP5K timing, slow corner): "
              f"worst path {top / 1000:.2f} ns = {1e6 / top:.2f} MHz")
        if a.flash_bytes > 0:
            # report.py's figure uses nextpnr's Fmax, which leaves the DSP delays out
            fm = round(1e6 / top, 2)
            print(f"  tokens/s, flash-bound, at this Fmax ({a.flash_bytes} bytes a token, "
                  f"{a.clk_per_byte} clk per byte): "
                  f"{flash_tokens_per_s(fm, a.flash_bytes, a.clk_per_byte):.1f}")
        ends, pred, arr = ends2, pred2, arr2
    report(ends, pred, celltype, a.mhz, a.paths)
    if a.trace:
        show_trace(ends, pred, arr, celltype, a.trace)
    nhold = report_hold(*hold, a.hold) if hold is not None else 0
    if a.check:
        if hold is not None:
            print(f"{'PASS' if nhold == 0 else 'FAIL'} hold: {nhold} violations")
            rc |= 0 if nhold == 0 else 1
        ok = ends[0][0] <= 1e6 / a.mhz
        print(f"{'PASS' if ok else 'FAIL'} worst path {ends[0][0] / 1000:.2f} ns "
              f"{'<=' if ok else '>'} {1e3 / a.mhz:.2f} ns ({a.mhz:g} MHz)")
        rc |= 0 if ok else 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
