#!/bin/sh
# test_chains_by_unit.sh OUTDIR: examples/fpga/icebreaker/chains_by_unit.py
# on a real nextpnr-ice40 placement of four small carry chains, one for each
# cell nextpnr adds to legalise a chain (docs/fpga.md, "Carry-chain
# legalisation"); the same hierarchy as the iCEBreaker system
# (u_core.u_dec.u_<unit>), so that the cells land in their units:
#   u_acc  the mat-vec's accumulator (first ? x : acc + x under an enable):
#          four connected LUT inputs a cell and a local enable, 33 local
#          inputs in a full tile: cut, "local inputs";
#   u_ce   one adder whose flip-flops change enable at bit 4, inside a
#          tile: cut, "enable or set/reset";
#   u_cin  a + b + ci, ci from logic: a feed-in cell;
#   u_lt   an adder's carry out read by two LUTs: a pass-out cell;
#   u_cnt  a counter stepped by 1 under an enable: yosys makes its bit 0's
#          carry a wire, so the chain's carry in is the counter's own bit 0
#          (a feed-in cell, counted as a counter's: its carry in is a
#          flip-flop that feeds its own LUT).
# nextpnr runs with --no-promote-globals: the decoder's build has all eight
# global nets taken, so its enables count as local inputs; here nextpnr
# would promote them.
set -eu
out=${1:?usage: test_chains_by_unit.sh OUTDIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
cbu="$here/examples/fpga/icebreaker/chains_by_unit.py"
mkdir -p "$out"
cat > "$out/cbu.v" <<'V'
module cbu_acc (input wire clk, input wire en, input wire first, input wire [23:0] x,
                output wire [23:0] q);
reg [23:0] acc;
always @(posedge clk) if (en) acc <= first ? x : acc + x;
assign q = acc;
endmodule
module cbu_ce (input wire clk, input wire en, input wire en2, input wire [15:0] a,
               input wire [15:0] b, output wire [15:0] q);
reg [15:0] c;
wire [15:0] s = a + b;
always @(posedge clk) begin
    if (en) c[3:0] <= s[3:0];
    if (en2) c[15:4] <= s[15:4];
end
assign q = c;
endmodule
module cbu_cin (input wire clk, input wire ci, input wire [11:0] a, input wire [11:0] b,
                output wire [11:0] q);
reg [11:0] y;
always @(posedge clk) y <= a + b + {11'd0, ci};
assign q = y;
endmodule
module cbu_lt (input wire clk, input wire e, input wire f, input wire [11:0] a,
               input wire [11:0] b, output wire q);
wire [12:0] s = {1'b0, a} + {1'b0, b};
reg y, z;
always @(posedge clk) begin
    y <= s[12] ^ e;
    z <= s[12] & f;
end
assign q = y ^ z;
endmodule
module cbu_cnt (input wire clk, input wire en, output wire [9:0] q);
reg [9:0] c;
always @(posedge clk) if (en) c <= c + 1'b1;
assign q = c;
endmodule
module cbu_dec (input wire clk, input wire d, input wire en, input wire en2, input wire first,
                output wire q);
reg [63:0] sr; // the operands: a shift register on one pin
always @(posedge clk) sr <= {sr[62:0], d};
wire [23:0] qa;
wire [15:0] qc;
wire [11:0] qi;
wire ql;
wire [9:0] qn;
cbu_acc u_acc (.clk(clk), .en(en ^ sr[5]), .first(first), .x(sr[23:0]), .q(qa));
cbu_ce u_ce (.clk(clk), .en(en ^ sr[6]), .en2(en2 ^ sr[7]), .a(sr[39:24]), .b(sr[55:40]),
             .q(qc));
cbu_cin u_cin (.clk(clk), .ci(sr[63]), .a(sr[11:0]), .b(sr[59:48]), .q(qi));
cbu_lt u_lt (.clk(clk), .e(sr[8]), .f(sr[9]), .a(sr[35:24]), .b(sr[47:36]), .q(ql));
cbu_cnt u_cnt (.clk(clk), .en(en ^ sr[10]), .q(qn));
assign q = ^{qa, qc, qi, ql, qn};
endmodule
module cbu_core (input wire clk, input wire d, input wire en, input wire en2, input wire first,
                 output wire q);
cbu_dec u_dec (.clk(clk), .d(d), .en(en), .en2(en2), .first(first), .q(q));
endmodule
module cbu_top (input wire clk, input wire d, input wire en, input wire en2, input wire first,
                output wire q);
cbu_core u_core (.clk(clk), .d(d), .en(en), .en2(en2), .first(first), .q(q));
endmodule
V
yosys -q -l "$out/cbu_yosys.log" -p "read_verilog $out/cbu.v; synth_ice40 -top cbu_top -json $out/cbu.json" \
  >/dev/null 2>&1 || { cat "$out/cbu_yosys.log"; echo "FAIL: yosys"; exit 1; }
nextpnr-ice40 --up5k --package sg48 --json "$out/cbu.json" --write "$out/cbu_routed.json" \
  --pcf-allow-unconstrained --no-promote-globals --seed 1 --log "$out/cbu_pnr.log" \
  >/dev/null 2>&1 || { tail -n 20 "$out/cbu_pnr.log"; echo "FAIL: nextpnr"; exit 1; }
python3 "$cbu" "$out/cbu_routed.json" >"$out/cbu.md"
cat "$out/cbu.md"
fail=0
# | unit | feed-in | pass-out | split | LCs |
col() { grep "^| $1 |" "$out/cbu.md" | awk -F'|' -v c="$2" '{gsub(/[ *]/,"",$c); print $c}'; }
check() { # unit column(3 feed-in, 4 pass-out, 5 split) expected
  got=$(col "$1" "$2")
  if [ "$got" != "$3" ]; then echo "FAIL: $1 column $2: '$got', expected $3"; fail=1; fi
}
check u_cin 3 1; check u_cin 4 0; check u_cin 5 0
check u_lt 3 0; check u_lt 4 1; check u_lt 5 0
check u_ce 3 0; check u_ce 4 0; check u_ce 5 2
check u_cnt 3 1; check u_cnt 4 0; check u_cnt 5 0
own=$(sed -n "s/^feed-ins whose carry in is a flip-flop that toggles itself.*: \([0-9]* of [0-9]*\)$/\1/p" "$out/cbu.md")
[ "$own" = "1 of 2" ] || { echo "FAIL: feed-ins from the same register '$own', expected 1 of 2 (u_cnt's)"; fail=1; }
splits=$(col u_acc 5)
[ "${splits:-0}" -ge 2 ] || { echo "FAIL: u_acc splits '$splits', expected at least one cut"; fail=1; }
grep -A1 '^  u_ce: flip-flop enable or set/reset changes' "$out/cbu.md" | grep -q 'u_ce\.' ||
  { echo "FAIL: u_ce's cut not put down to the enable change"; fail=1; }
grep -Eq '^  u_acc: 3[3-9] local inputs in a tile' "$out/cbu.md" ||
  { echo "FAIL: u_acc's cut not put down to local inputs"; fail=1; }
# the table accounts for every cell nextpnr added
added=$(python3 -c "import json,sys; m=list(json.load(open(sys.argv[1]))['modules'].values())[0]; \
print(sum(1 for n in m['cells'] if n.startswith('\$nextpnr_ICESTORM_LC')))" "$out/cbu_routed.json")
total=$(grep '^| \*\*total' "$out/cbu.md" | awk -F'|' '{gsub(/[ *]/,"",$6); print $6}')
[ "$total" = "$added" ] || { echo "FAIL: total $total, nextpnr added $added cells"; fail=1; }
# bad input: one line naming the problem, exit 1, no traceback
bad() { # what file expected-text
  if python3 "$cbu" "$2" >/dev/null 2>"$out/err.txt"; then echo "FAIL: $1 accepted"; fail=1; return; fi
  if [ "$(wc -l <"$out/err.txt")" -ne 1 ] || ! grep -q "$3" "$out/err.txt"; then
    echo "FAIL: $1: expected one line with '$3':"; cat "$out/err.txt"; fail=1; fi
}
bad "a missing file" "$out/none.json" "cannot read"
bad "yosys' netlist" "$out/cbu.json" "not a nextpnr"
printf 'not json' >"$out/junk.json"
bad "a file that is not JSON" "$out/junk.json" "cannot read"
[ $fail -eq 0 ] && echo "PASS: chains_by_unit.py"
exit $fail
