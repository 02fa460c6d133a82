#!/bin/sh
# UP5K fit-and-timing check of the complete decoder system (docs/fpga.md,
# "The complete decoder on the UP5K"): `make decoder` in this directory (the
# 260k decoder emitted with DEC_ARGS + QSPI reader + UART link in
# icebreaker_decoder.v, yosys synth_ice40 -dsp -spram DEC_SYNTH_OPTS,
# nextpnr-ice40 --up5k at DEC_FREQ, icepack), then report.py's report.
# Fails (exit 1) when the design no longer places on the UP5K (nextpnr
# names the logic cells), when its clock misses DEC_FREQ, or when any tool
# fails; the log tail is shown.
#
#   up5k_decoder.sh BUILD_DIR LLAMAGEN LG_LIB [MODELS]
#
# MODELS: the directory with stories260K.bin + tok512.bin (synthetic weights
# when absent: the ebase constants, and so the logic, differ slightly).
# DEC_FREQ / SEED / SYNTH_OPTS / DEC_SYNTH_OPTS in the environment retarget the build.
# make test runs it as build/hdl/fpga/up5k_decoder.sh (tests/hdl/units_fpga.mk).
set -u
# a clean sub-make: no jobserver or command-line variables from a parent make
unset MAKEFLAGS MFLAGS MAKELEVEL
here=$(cd "$(dirname "$0")" && pwd)
usage="usage: up5k_decoder.sh BUILD_DIR LLAMAGEN LG_LIB [MODELS]"
build=${1:?$usage}
llamagen=${2:?$usage}
lib=${3:?$usage}
models=${4:-/nonexistent}
mkdir -p "$build" || exit 1
build=$(cd "$build" && pwd)
vars=""
for v in DEC_FREQ SEED SYNTH_OPTS DEC_SYNTH_OPTS; do
  eval "val=\${$v:-}"
  [ -n "$val" ] && vars="$vars $v=\"$val\""
done
log=$build/up5k_decoder.log
start=$(date +%s)
# board_make ARGS...: the board Makefile on this build (ARGS: plain words)
board_make() {
  eval make -C "\"$here\"" --no-print-directory BUILD="\"$build\"" LLAMAGEN="\"$llamagen\"" \
    LG_LIB="\"$lib\"" MODELS="\"$models\"" $vars "$@"
}
if ! board_make decoder >"$log" 2>&1; then
  tail -n 25 "$log"
  echo "FAIL up5k_decoder: the complete decoder does not build for the UP5K at its clock (full log $log)"
  exit 1
fi
sed -n '/^== icebreaker_decoder/,$p' "$log" | grep -v '^make'
# the cells nextpnr added to legalise carry chains, from the same build (the
# Makefile names its placed netlist; up to date, so nothing is rebuilt)
echo "== carry-chain legalisation (chains_by_unit.py; the cuts: make decoder-chains)"
if ! board_make -s CHAINS_LIST=0 decoder-chains >"$log.chains" 2>&1; then
  tail -n 5 "$log.chains"
  echo "FAIL up5k_decoder: no carry-chain report from the build's placed netlist"
  exit 1
fi
grep -v '^make' "$log.chains"
# nextpnr under PNR_TIMEOUT: a run that does not finish is a one-line
# failure, not a hang (a seed's run stopped after 1 s; the build's own
# placement is left alone)
if board_make -s SEEDS=1 PNR_TIMEOUT=1 decoder-seeds >"$log.timeout" 2>&1 &&
   grep -q "^seed 1: nextpnr did not finish within 1 s" "$log.timeout"; then
  echo "ok - nextpnr stopped after PNR_TIMEOUT: $(grep -m 1 '^seed 1' "$log.timeout")"
else
  cat "$log.timeout"
  echo "FAIL up5k_decoder: PNR_TIMEOUT=1 did not stop nextpnr with its one-line report"
  exit 1
fi
echo "up5k_decoder: build $(( $(date +%s) - start )) s (a few s when up to date)"
echo "up5k_decoder: PASS"
