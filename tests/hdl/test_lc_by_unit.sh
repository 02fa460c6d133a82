#!/bin/sh
# test_lc_by_unit.sh OUTDIR: examples/fpga/icebreaker/lc_by_unit.py on a real
# synth_ice40 netlist whose cells it must attribute exactly. Hierarchy as the
# iCEBreaker system's: u_core.u_dec.u_shift (a 4-stage shift register: every
# flip-flop is loaded from a pin or another flip-flop, so none can share a
# LUT's cell: 4 FF-only), u_core.u_dec.u_cnt (a counter: each flip-flop is
# loaded from its own adder LUT, which drives nothing else: 0 FF-only),
# u_core.u_dec itself (the controller: a register of the XOR of two pins,
# one LUT feeding one FF: 0 FF-only) and u_core.u_link (a board unit: a flip-
# flop whose LUT also drives an output: 1 FF-only). In all 12 FFs, 5 FF-only.
set -eu
out=${1:?usage: test_lc_by_unit.sh OUTDIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
cat > "$out/lcu.v" <<'V'
module lcu_shift (input wire clk, input wire d, output wire q);
reg [3:0] s;
always @(posedge clk) s <= {s[2:0], d};
assign q = s[3];
endmodule
module lcu_cnt (input wire clk, input wire en, output wire [5:0] q);
reg [5:0] c;
always @(posedge clk) if (en) c <= c + 6'd1;
assign q = c;
endmodule
module lcu_dec (input wire clk, input wire a, input wire b, input wire en,
                output wire q, output wire [5:0] c, output wire x);
reg r;
always @(posedge clk) r <= a ^ b;
lcu_shift u_shift (.clk(clk), .d(a), .q(q));
lcu_cnt u_cnt (.clk(clk), .en(en), .q(c));
assign x = r;
endmodule
module lcu_link (input wire clk, input wire a, input wire b, input wire c,
                 output wire y, output wire z);
reg r;
wire f = a & b & c;
always @(posedge clk) r <= f;
assign y = r;
assign z = f;
endmodule
module lcu_core (input wire clk, input wire a, input wire b, input wire en,
                 output wire q, output wire [5:0] c, output wire x, output wire y,
                 output wire z);
lcu_dec u_dec (.clk(clk), .a(a), .b(b), .en(en), .q(q), .c(c), .x(x));
lcu_link u_link (.clk(clk), .a(a), .b(b), .c(en), .y(y), .z(z));
endmodule
module lg_fit_top (input wire clk, input wire a, input wire b, input wire en,
                   output wire q, output wire [5:0] c, output wire x, output wire y,
                   output wire z);
lcu_core u_core (.clk(clk), .a(a), .b(b), .en(en), .q(q), .c(c), .x(x), .y(y), .z(z));
endmodule
V
yosys -q -p "read_verilog $out/lcu.v; synth_ice40 -top lg_fit_top -json $out/lcu.json" \
  >"$out/lcu_yosys.log" 2>&1 || { cat "$out/lcu_yosys.log"; echo "FAIL: yosys"; exit 1; }
python3 "$here/examples/fpga/icebreaker/lc_by_unit.py" "$out/lcu.json" --packed 99 >"$out/lcu.md"
cat "$out/lcu.md"
# | unit | SB_LUT4 | FF | FF-only | LC | share |
row() { grep "^| $1 |" "$out/lcu.md" | awk -F'|' '{gsub(/ /,""); print $3, $4, $5, $6}'; }
fail=0
check() { # unit field(2=LUT 3=FF 4=FF-only) expected
  got=$(row "$1" | cut -d' ' -f$(( $2 - 1 )))
  if [ "$got" != "$3" ]; then echo "FAIL: $1 column $2: $got, expected $3"; fail=1; fi
}
# attribution follows yosys' flat cell names (taken from the wires the cells
# drive): cells inside a unit land in it, a cell at a unit's port may land in
# a neighbour (here the shift register's first stage, named after the pin it
# samples); the FF-only rule and the totals are exact
check u_cnt 3 6; check u_cnt 4 0; check u_cnt 2 6
check u_link 3 1; check u_link 4 1
sh_ff=$(row u_shift | cut -d' ' -f2)
[ "$sh_ff" -ge 3 ] || { echo "FAIL: u_shift has $sh_ff FFs"; fail=1; }
tot=$(grep '^| \*\*attributed' "$out/lcu.md" | awk -F'|' '{gsub(/[ *,]/,""); print $3, $4, $5}')
[ "$tot" = "8 12 5" ] || { echo "FAIL: totals (LUT FF FF-only) $tot, expected 8 12 5"; fail=1; }
# the remainder row: packed (99) minus what was attributed
attr=$(grep '^| \*\*attributed' "$out/lcu.md" | awk -F'|' '{gsub(/[ *,]/,""); print $6}')
rest=$(grep '^| carry-only' "$out/lcu.md" | awk -F'|' '{gsub(/[ ,]/,""); print $6}')
if [ $((attr + rest)) -ne 99 ]; then echo "FAIL: attributed $attr + rest $rest != 99"; fail=1; fi
# a missing netlist is one clear line and a non-zero exit
if python3 "$here/examples/fpga/icebreaker/lc_by_unit.py" "$out/none.json" 2>"$out/err.txt"; then
  echo "FAIL: missing netlist accepted"; fail=1
fi
grep -q "cannot read" "$out/err.txt" || { echo "FAIL: no error line"; fail=1; }
[ $fail -eq 0 ] && echo "test_lc_by_unit: PASS"
exit $fail
