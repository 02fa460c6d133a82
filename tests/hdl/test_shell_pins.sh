#!/bin/sh
# test_shell_pins.sh OUTDIR: tests/hdl/tb_shell_pins.v, icebreaker_shell's
# flash pins through yosys' own SB_IO simulation model
# (share/yosys/ice40/cells_sim.v next to the yosys binary), in Icarus, at
# SCK = clk (SCK_DDR 1, the decoder build) and SCK = clk / 2 (0, the probe).
set -eu
out="$1"
here=$(cd "$(dirname "$0")/../.." && pwd)
ys=$(command -v yosys) || { echo "test_shell_pins: yosys not found (its ice40/cells_sim.v is the SB_IO model)"; exit 1; }
cells="$(dirname "$ys")/../share/yosys/ice40/cells_sim.v"
[ -f "$cells" ] || { echo "test_shell_pins: no $cells"; exit 1; }
mkdir -p "$out"
for ddr in 1 0; do
    # (Icarus has no default port values: NO_ICE40_DEFAULT_ASSIGNMENTS)
    iverilog -g2012 -DNO_PLL -DNO_ICE40_DEFAULT_ASSIGNMENTS -Ptb_shell_pins.SCK_DDR=$ddr \
        -o "$out/tb_shell_pins_$ddr.vvp" -s tb_shell_pins "$cells" \
        "$here/examples/fpga/icebreaker/icebreaker_shell.v" "$here/tests/hdl/tb_shell_pins.v" \
        > "$out/iverilog_$ddr.log" 2>&1 ||
        { cat "$out/iverilog_$ddr.log"; echo "test_shell_pins: iverilog failed (SCK_DDR $ddr)"; exit 1; }
    vvp -n "$out/tb_shell_pins_$ddr.vvp" > "$out/run_$ddr.log" 2>&1 || true
    tail -n 20 "$out/run_$ddr.log"
    grep -q "^tb_shell_pins: PASS" "$out/run_$ddr.log"
done
