#!/bin/sh
# UP5K gap report of the complete iCEBreaker decoder system (docs/fpga.md,
# "What the full UP5K build needs"): icebreaker_decoder_core.v = the emitted
# <prefix>_decoder (llamagen --config 260k --lanes 2 --seq-len 256
# --kv-ports 1 --vec-lanes 1 --embed-stream 1 --mul-share 1, or DEC_ARGS; the real stories260K weights when MODELS has
# them) + lg_qspi_stream + lg_uart_rx / lg_uart_tx / lg_uart_tokens, through
# yosys
#
#   synth_ice40 -dsp -spram -noflatten -top icebreaker_decoder_core
#
# then decoder_report.py prints the cells per decoder-level unit, the total,
# the UP5K and the factor over it, and the memories that stayed in logic.
# Then the design is synthesized flat (in a board shell on the 12 MHz clock
# pin, the co-simulation taps and cycle counters left open, so yosys removes
# them as a board build would) and packed and placed with nextpnr-ice40
# --up5k --package sg48: its "Device utilisation" is the measured LC count
# (the table's LC column is only an estimate); when the design exceeds the
# UP5K, placement fails after that print. lc_by_unit.py then splits the
# packed cells by unit from the flat netlist (SB_LUT4 + flip-flops that
# cannot share a LUT's cell). PNR=0 skips this step. The split is taken on
# yosys' default LUT mapping, whose cells keep the names of the wires inside
# their unit; the board build maps with SYNTH_OPTS (the Makefile's
# DEC_SYNTH_OPTS, which is also the default here when SYNTH_OPTS is unset), whose LUTs are named after the nets at the units' ports, so
# that netlist is only packed (nextpnr --pack-only) and its count printed
# after the split.
#
#   decoder_report.sh OUT LLAMAGEN GEN_FPGA_UNITS [MODELS]
#
# OUT gets rtl/ (the emission), board/ (gen_fpga_units board), synth.ys,
# yosys.log, stat.json / stat.txt, hier.json, mems.json, report.md.
# Environment: DEC_ARGS, SYNTH_OPTS, YOSYS, NEXTPNR, PYTHON, PNR. Exit 0 when the report is
# produced (it is a report, not a check), 1 when a step fails.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: decoder_report.sh OUT LLAMAGEN GEN_FPGA_UNITS [MODELS]}
llamagen=${2:?usage: decoder_report.sh OUT LLAMAGEN GEN_FPGA_UNITS [MODELS]}
gen=${3:?usage: decoder_report.sh OUT LLAMAGEN GEN_FPGA_UNITS [MODELS]}
models=${4:-}
YOSYS=${YOSYS:-yosys}
NEXTPNR=${NEXTPNR:-nextpnr-ice40}
PYTHON=${PYTHON:-python3}
PNR=${PNR:-1}
# (unset: the Makefile's DEC_SYNTH_OPTS, its one definition; set and empty:
# yosys' default mapping only)
if [ -z "${SYNTH_OPTS+set}" ]; then
  SYNTH_OPTS=$(unset MAKEFLAGS MFLAGS; make -s --no-print-directory -C "$here" print-dec-synth-opts) ||
    { echo "decoder_report: cannot read DEC_SYNTH_OPTS from $here/Makefile" >&2; exit 1; }
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

# ---- the decoder and the board units
# the system's emission (as tests/hdl/units_fpga.mk co-simulates it)
args=${DEC_ARGS:-"--config 260k --lanes 2 --seq-len 256 --kv-ports 1 --vec-lanes 1 --embed-stream 1 --mul-share 1"}
if [ -n "$models" ] && [ -f "$models/stories260K.bin" ] && [ -f "$models/tok512.bin" ]; then
  args="$args --checkpoint $models/stories260K.bin --tokenizer $models/tok512.bin"
  weights="stories260K weights"
else
  weights="synthetic weights"
fi
# shellcheck disable=SC2086
"$llamagen" $args -o "$out/rtl" >/dev/null
rm -rf "$out/board"
mkdir -p "$out/board"
"$gen" board "$out/board" 4 512 172 >/dev/null

p=$(sh "$here/decoder_params.sh" "$out/rtl" yosys)
define=${p%%;*}
chparam=${p#*;}
prefix=${define#-DLG_DECODER=}
prefix=${prefix%_decoder}
# the decoder's modules (files.f order), without the top and its weight ROM
files=$(grep -v -e '_top\.v$' -e '_wmem\.v$' "$out/rtl/files.f" | tr '\n' ' ')
board=""
for u in lg_qspi_stream lg_uart_rx lg_uart_tx lg_uart_tokens; do
  board="$board $out/board/$u.v"
done

# ---- yosys: split before the RAM mapping to list the memories
synth="synth_ice40 -dsp -spram -noflatten -top icebreaker_decoder_core"
cat > "$out/synth.ys" <<EOF
read_verilog $define $files $board $here/icebreaker_decoder_core.v
$chparam
$synth -run :map_ram
json -o $out/mems.json t:\$mem_v2
$synth -run map_ram:check
hierarchy -check
tee -q -o $out/stat.json stat -json
tee -q -o $out/stat.txt stat
json -o $out/hier.json t:\$paramod* t:lg_*
EOF
echo "decoder_report: $prefix (llamagen $args; $weights)"
echo "decoder_report: yosys $synth ($("$YOSYS" -V))"
rm -f "$out/stat.json" "$out/report.md" "$out/fits"
t0=$(date +%s)
# $readmemh images are found relative to the emitted directory
if ! (cd "$out/rtl" && "$YOSYS" -q -l "$out/yosys.log" -s "$out/synth.ys") \
     >"$out/yosys.err" 2>&1; then
  tail -n 20 "$out/yosys.err"
  echo "decoder_report: yosys failed (log $out/yosys.log)"
  exit 1
fi
secs=$(( $(date +%s) - t0 ))
echo "decoder_report: yosys $secs s; log $out/yosys.log"
echo
"$PYTHON" "$here/decoder_report.py" "$out" --prefix "$prefix" --seconds "$secs"

# ---- flat synthesis, pack, place and route (PNR=0: skipped)
if [ "$PNR" = 0 ]; then
  echo
  echo "decoder_report: no nextpnr run (PNR=0)"
  exit 0
fi
cat > "$out/fit_top.v" <<'EOF'
// generated by decoder_report.sh: icebreaker_decoder_core on the board's pins
// for a fit check (12 MHz pin clock, no PLL; co-simulation taps left open)
module lg_fit_top (
    input  wire CLK, input wire RX, output wire TX, input wire BTN_N,
    output wire LEDR_N, output wire LEDG_N, output wire FLASH_SCK, output wire FLASH_SSB,
    inout  wire FLASH_IO0, inout wire FLASH_IO1, inout wire FLASH_IO2, inout wire FLASH_IO3
);
reg [1:0] btn = 2'b00;
reg [7:0] por = 8'd0;
reg rst = 1'b1;
always @(posedge CLK) begin
    btn <= {btn[0], BTN_N};
    if (!btn[1]) por <= 8'd0; else if (por != 8'hff) por <= por + 8'd1;
    rst <= por != 8'hff;
end
wire cs_n, sck, st_loaded, st_active;
wire [3:0] io_o, io_oe, io_i;
wire [3:0] pins;
SB_IO #(.PIN_TYPE(6'b0101_01)) u_sck (.PACKAGE_PIN(FLASH_SCK), .OUTPUT_CLK(CLK),
    .CLOCK_ENABLE(1'b1), .D_OUT_0(sck));
SB_IO #(.PIN_TYPE(6'b0101_01)) u_ssb (.PACKAGE_PIN(FLASH_SSB), .OUTPUT_CLK(CLK),
    .CLOCK_ENABLE(1'b1), .D_OUT_0(cs_n));
SB_IO #(.PIN_TYPE(6'b1101_00), .PULLUP(1'b1)) u_io0 (.PACKAGE_PIN(FLASH_IO0), .OUTPUT_CLK(CLK),
    .INPUT_CLK(CLK), .CLOCK_ENABLE(1'b1), .OUTPUT_ENABLE(io_oe[0]), .D_OUT_0(io_o[0]), .D_IN_0(io_i[0]));
SB_IO #(.PIN_TYPE(6'b1101_00), .PULLUP(1'b1)) u_io1 (.PACKAGE_PIN(FLASH_IO1), .OUTPUT_CLK(CLK),
    .INPUT_CLK(CLK), .CLOCK_ENABLE(1'b1), .OUTPUT_ENABLE(io_oe[1]), .D_OUT_0(io_o[1]), .D_IN_0(io_i[1]));
SB_IO #(.PIN_TYPE(6'b1101_00), .PULLUP(1'b1)) u_io2 (.PACKAGE_PIN(FLASH_IO2), .OUTPUT_CLK(CLK),
    .INPUT_CLK(CLK), .CLOCK_ENABLE(1'b1), .OUTPUT_ENABLE(io_oe[2]), .D_OUT_0(io_o[2]), .D_IN_0(io_i[2]));
SB_IO #(.PIN_TYPE(6'b1101_00), .PULLUP(1'b1)) u_io3 (.PACKAGE_PIN(FLASH_IO3), .OUTPUT_CLK(CLK),
    .INPUT_CLK(CLK), .CLOCK_ENABLE(1'b1), .OUTPUT_ENABLE(io_oe[3]), .D_OUT_0(io_o[3]), .D_IN_0(io_i[3]));
icebreaker_decoder_core #(.CLK_HZ(12000000), .IN_LAT(2)) u_core (
    .clk(CLK), .rst(rst), .rxd(RX), .txd(TX),
    .spi_cs_n(cs_n), .spi_sck(sck), .spi_io_o(io_o), .spi_io_oe(io_oe), .spi_io_i(io_i),
    .st_loaded(st_loaded), .st_active(st_active),
    .st_pos(), .st_err_pos(), .st_err_token(), .m_logit_valid(), .m_logit_data(),
    .m_logit_last(), .cnt_total(), .cnt_matvec(), .cnt_attn(), .cnt_other());
assign LEDG_N = !st_loaded;
assign LEDR_N = !st_active;
endmodule
EOF
echo
echo "decoder_report: flat synth_ice40 -dsp -spram and nextpnr-ice40 --up5k --package sg48 (12 MHz)"
if ! (cd "$out/rtl" && "$YOSYS" -q -l "$out/fit_yosys.log" -p "read_verilog $define $files $board \
       $here/icebreaker_decoder_core.v $out/fit_top.v; $chparam; \
       synth_ice40 -dsp -spram -top lg_fit_top -json $out/fit.json") >"$out/fit_yosys.err" 2>&1; then
  tail -n 20 "$out/fit_yosys.err"
  echo "decoder_report: flat yosys failed (log $out/fit_yosys.log)"
  exit 0
fi
if "$NEXTPNR" --up5k --package sg48 --pcf "$here/icebreaker.pcf" --json "$out/fit.json" \
     --asc "$out/fit.asc" --freq 12 --log "$out/fit_pnr.log" --timing-allow-fail -q \
     >/dev/null 2>&1; then
  echo "decoder_report: nextpnr placed and routed it (log $out/fit_pnr.log)"
else
  echo "decoder_report: nextpnr failed (log $out/fit_pnr.log):"
fi
# the packer's utilisation (printed before placement, so also for a design
# that does not fit): logic cells, block RAM, DSPs, SPRAM
grep -E 'ICESTORM_(LC|RAM|DSP|SPRAM):' "$out/fit_pnr.log" | head -n 4 | sed 's/^Info: *//'
lc=$(sed -n 's/.*ICESTORM_LC: *\([0-9]*\)\/.*/\1/p' "$out/fit_pnr.log" | head -n 1)
if [ -n "$lc" ]; then
  echo "decoder_report: packed logic cells (measured): $lc of 5280 = $(awk "BEGIN{printf \"%.2f\", $lc/5280}")x the UP5K"
fi
# the same cells unit by unit (lc_by_unit.py: SB_LUT4 + the flip-flops that
# cannot share a LUT's cell), so the gap reads per unit
echo
"$PYTHON" "$here/lc_by_unit.py" "$out/fit.json" ${lc:+--packed "$lc"} || true
echo
grep -E 'ERROR|Max frequency' "$out/fit_pnr.log" | head -n 5 || true
# the board build's mapping (make decoder): the same system packed again
if [ -n "$SYNTH_OPTS" ]; then
  if (cd "$out/rtl" && "$YOSYS" -q -l "$out/fit_opts_yosys.log" -p "read_verilog $define $files $board \
       $here/icebreaker_decoder_core.v $out/fit_top.v; $chparam; \
       synth_ice40 -dsp -spram $SYNTH_OPTS -top lg_fit_top -json $out/fit_opts.json") \
       >"$out/fit_opts_yosys.err" 2>&1; then
    "$NEXTPNR" --up5k --package sg48 --pcf "$here/icebreaker.pcf" --json "$out/fit_opts.json" \
      --pack-only --log "$out/fit_opts_pnr.log" -q >/dev/null 2>&1 || true
    lo=$(sed -n 's/.*ICESTORM_LC: *\([0-9]*\)\/.*/\1/p' "$out/fit_opts_pnr.log" | head -n 1)
    echo
    echo "decoder_report: packed with synth_ice40 $SYNTH_OPTS (the board build's mapping): ${lo:-?} of 5280${lo:+ = $(awk "BEGIN{printf \"%.2f\", $lo/5280}")x the UP5K}"
  else
    echo "decoder_report: flat yosys with $SYNTH_OPTS failed (log $out/fit_opts_yosys.log)"
  fi
fi
exit 0
