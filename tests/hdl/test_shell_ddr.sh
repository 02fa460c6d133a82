#!/bin/sh
# test_shell_ddr.sh OUTDIR: tests/hdl/tb_shell_ddr.v, icebreaker_shell's
# SCK = clk pins through yosys' own SB_IO simulation model
# (share/yosys/ice40/cells_sim.v next to the yosys binary), in Icarus.
set -eu
out="$1"
here=$(cd "$(dirname "$0")/../.." && pwd)
ys=$(command -v yosys) || { echo "test_shell_ddr: yosys not found (its ice40/cells_sim.v is the SB_IO model)"; exit 1; }
cells="$(dirname "$ys")/../share/yosys/ice40/cells_sim.v"
[ -f "$cells" ] || { echo "test_shell_ddr: no $cells"; exit 1; }
mkdir -p "$out"
# (Icarus has no default port values: NO_ICE40_DEFAULT_ASSIGNMENTS)
iverilog -g2012 -DNO_PLL -DNO_ICE40_DEFAULT_ASSIGNMENTS -o "$out/tb_shell_ddr.vvp" -s tb_shell_ddr \
    "$cells" "$here/examples/fpga/icebreaker/icebreaker_shell.v" "$here/tests/hdl/tb_shell_ddr.v" \
    > "$out/iverilog.log" 2>&1 || { cat "$out/iverilog.log"; echo "test_shell_ddr: iverilog failed"; exit 1; }
vvp -n "$out/tb_shell_ddr.vvp" > "$out/run.log" 2>&1 || true
tail -n 20 "$out/run.log"
grep -q "^tb_shell_ddr: PASS" "$out/run.log"
