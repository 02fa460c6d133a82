#!/bin/sh
# UP5K fit-and-timing check of the iCEBreaker probe (docs/fpga.md, "UP5K build
# in make test"): builds the probe bitstream with this directory's Makefile
# (gen_fpga_units, yosys synth_ice40 -dsp, nextpnr-ice40 --up5k at FREQ,
# icepack) and the 260k weight image (mkflash weights), prints report.py's report
# (resources, Fmax, the decoder's flash-bound tokens/s at it) and fails (exit 1) when a clock misses
# FREQ or a resource exceeds the UP5K (5,280 LC, 30 EBR, 4 SPRAM, 8 DSP) or the
# budget in LIMITS. Any yosys/nextpnr error fails it too (its log tail is shown).
#
#   up5k_check.sh BUILD_DIR LG_LIB
#
# Retarget through the environment (defaults = the Makefile's):
#   FREQ=30 LANES=1 SEED=2 up5k_check.sh ...
#   LIMITS="LC=4500 EBR=30 SPRAM=4 DSP=8" (report.py --limit; default the UP5K)
# make test runs it as build/hdl/fpga/up5k_probe.sh (tests/hdl/units_fpga.mk).
set -u
# a clean sub-make: no jobserver or command-line variables from a parent make
unset MAKEFLAGS MFLAGS MAKELEVEL
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: up5k_check.sh BUILD_DIR LG_LIB}
lib=${2:?usage: up5k_check.sh BUILD_DIR LG_LIB}
mkdir -p "$build" || exit 1
build=$(cd "$build" && pwd)
case $lib in /*) ;; *) lib=$(pwd)/$lib ;; esac
limits=${LIMITS:-LC=5280 EBR=30 SPRAM=4 DSP=8}

# FREQ, LANES, ROWS, COLS, SEED pass through to make when set
vars=""
for v in FREQ LANES ROWS COLS SEED; do
  eval "val=\${$v:-}"
  [ -n "$val" ] && vars="$vars $v=$val"
done
# the Makefile's values (its defaults when not overridden)
p=$(make -s -C "$here" --no-print-directory BUILD="$build" LG_LIB="$lib" $vars print-settings)
set -- $p
[ $# -eq 6 ] || { echo "up5k_check: cannot read the Makefile's settings"; exit 1; }
P=$1 F=$2 L=$3 R=$4 C=$5 W=$6

echo "up5k_check: probe lanes $L, $R x $C, target $F MHz, limits: $limits"
start=$(date +%s)
log=$build/up5k_check.log
# the Makefile's own report target (bitstream + weight image + report.py), as
# a user's `make -C examples/fpga/icebreaker probe` runs it; the check below adds
# the limits
if ! make -C "$here" --no-print-directory BUILD="$build" LG_LIB="$lib" $vars report \
     >"$log" 2>&1; then
  tail -n 30 "$log"
  echo "FAIL up5k_check: the probe build or its timing check with the DSP delays failed (yosys/nextpnr/icepack/paths_by_unit.py; full log $log)"
  exit 1
fi
echo "up5k_check: build $(( $(date +%s) - start )) s (0 when up to date)"
sed -n '/^== timing with the SB_MAC16/,$p' "$log" | grep -v '^make'

lim=""
for x in $limits; do lim="$lim --limit $x"; done
python3 "$here/report.py" "${P}_pnr.log" --json "${P}_report.json" --yosys "${P}_yosys.log" $lim \
  --flash-bytes "$(wc -c < "$W")" --flash-what "260k decoder weight image, lanes $L"
rc=$?
[ $rc -eq 0 ] && echo "up5k_check: PASS" || echo "up5k_check: FAIL"
exit $rc
