#!/bin/sh
# test_lint_rtl.sh: the RTL lint (tools/lint_rtl.sh) on small modules whose
# verdict is known, so the check every emitted file goes through is itself
# tested: it must pass clean RTL and fail each kind of defect it claims to
# find. Run from the repository root (make test).
#   rom_odd    a 6 x 32 ROM whose words are all odd, registered read: clean.
#              yosys 0.23 drops the constant bit column and left the output
#              register's dead bits undriven in the coarse netlist, which
#              check -assert failed (random-config fuzz, a 6-entry koff ROM)
#   latch      an incomplete combinational assignment: a latch
#   undriven   a used wire nothing drives
#   realval    a `real` variable: float in the RTL
set -u
lint=$(pwd)/tools/lint_rtl.sh
dir=$(mktemp -d "${TMPDIR:-/tmp}/lglint.XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail=0

cat >"$dir/rom_odd.v" <<'EOF'
module rom_odd (
    input  wire        clk,
    input  wire [2:0]  a,
    output reg  [31:0] q
);
reg [31:0] m [0:5];
initial $readmemh("rom_odd.hex", m);
always @(posedge clk) q <= m[a];
endmodule
EOF
printf '%s\n' ffffe7cd 00000821 ffffd9e9 ffffe025 7fffffff 80000001 >"$dir/rom_odd.hex"

cat >"$dir/latch.v" <<'EOF'
module latch (
    input  wire en,
    input  wire d,
    output reg  q
);
always @(*) if (en) q = d;
endmodule
EOF

cat >"$dir/undriven.v" <<'EOF'
module undriven (
    input  wire clk,
    output reg  q
);
wire w;
always @(posedge clk) q <= w;
endmodule
EOF

cat >"$dir/realval.v" <<'EOF'
module realval (
    input  wire       clk,
    output reg  [7:0] q
);
real r;
always @(posedge clk) begin
    r = 1.5;
    q <= 8'd1;
end
endmodule
EOF

# expect NAME WANT(0 pass | 1 fail) [MODE]
expect() {
  (cd "$dir" && "$lint" ${3:-} "$1.v") >"$dir/$1.log" 2>&1
  got=$?
  [ $got -ne 0 ] && got=1
  if [ $got -eq "$2" ]; then
    echo "ok - lint_rtl ${3:-full} $1: $(tail -n 1 "$dir/$1.log")"
  else
    echo "not ok - lint_rtl ${3:-full} $1: exit $got, want $2"
    sed 's/^/#   /' "$dir/$1.log" | head -20
    fail=1
  fi
}

expect rom_odd 0 --coarse
expect rom_odd 0
expect latch 1 --coarse
expect undriven 1 --coarse
expect realval 1 --coarse
[ $fail -eq 0 ] && echo "test_lint_rtl: PASS" || echo "test_lint_rtl: FAIL"
exit $fail
