#!/usr/bin/env bash
# Synthesis estimates of the emitted decoder for bigger FPGAs (docs/fpga.md,
# "Synthesis estimates for bigger parts"): yosys synth_ecp5 and synth_xilinx
# (full technology mapping: LUTs, FFs, block RAM, DSP are real cell counts) of
#
#   260k  the whole <prefix>_top, on-chip weight ROM (lg_wmem), --lanes 16
#   260k-axi  the whole <prefix>_top of --ext-weights 2: the weights read over
#         AXI4 (lg_axi_wreader, 256-bit bus), no weight ROM, --lanes 16
#   15m   <prefix>_decoder (the weight stream as ports), --lanes 16, synthetic
#         weights
#   110m  <prefix>_decoder, --lanes 16 --seq-len $SEQ_110M (default 64),
#         synthetic weights
#
# For 15m and 110m the weight stream memory (lg_wmem, not in the decoder) and
# the embedding ROM are stated separately (bits, block RAMs): the embedding
# module (<prefix>_embed) is read as a black box (read_verilog -lib), because
# yosys 0.23 spends minutes per opt pass on a memory with a 76 Mbit (15m) or
# 203 Mbit (110m) $readmemh image (EMB_BLACKBOX lists the designs treated so).
#
# then examples/fpga/estimates/summarize.py prints one table (LUT, FF, BRAM,
# DSP per design and family) and the memory check: every memory's mapping
# (block RAM, LUT RAM or logic) from yosys' memory_libmap, flagging any RAM
# (a memory with a write port) that did not become block RAM.
#
#   tools/synth_estimates.sh [-o DIR] [DESIGN...]     (default: 260k 260k-axi 15m 110m)
#
# Environment: LLAMAGEN (default build/llamagen), YOSYS (default yosys),
# FAMILIES (default "ecp5 xilinx"), JOBS (parallel yosys runs, default 2),
# SEQ_110M, EMB_BLACKBOX (default "15m 110m"). Per run DIR/<design>_<family>.{log,stat,mems,rams,time}; the emitted
# RTL in DIR/<design>/. Runs that already have a .stat are not redone
# (delete it, or use a fresh DIR). Takes well over 1 h on 2 cores (yosys 0.23;
# docs/fpga.md has the measured times).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=build/synth-estimates
if [ "${1:-}" = "-o" ]; then out=$2; shift 2; fi
designs=${*:-260k 260k-axi 15m 110m}
LLAMAGEN=${LLAMAGEN:-build/llamagen}
YOSYS=${YOSYS:-yosys}
FAMILIES=${FAMILIES:-ecp5 xilinx}
JOBS=${JOBS:-2}
SEQ_110M=${SEQ_110M:-64}
EMB_BLACKBOX=${EMB_BLACKBOX:-15m 110m}
mkdir -p "$out"
out=$(cd "$out" && pwd)
LLAMAGEN=$(cd "$(dirname "$LLAMAGEN")" && pwd)/$(basename "$LLAMAGEN")

# design -> llamagen arguments and the module synthesized
args_of() {
  case $1 in
    260k) echo "--config 260k --lanes 16" ;;
    260k-axi) echo "--config 260k --lanes 16 --ext-weights 2" ;;
    15m)  echo "--config 15m --lanes 16" ;;
    110m) echo "--config 110m --lanes 16 --seq-len $SEQ_110M" ;;
    *) echo "synth_estimates: unknown design $1" >&2; exit 2 ;;
  esac
}
unit_of() { case $1 in 260k*) echo top ;; *) echo decoder ;; esac; }

emit() {  # design: emit once per set of arguments
  local d=$1 dir=$out/$1 a
  a=$(args_of "$d")
  if [ -f "$dir/manifest.json" ] && [ "$(cat "$dir/.args" 2>/dev/null)" = "$a" ]; then return; fi
  echo "== emit $d: llamagen $a"
  local t0=$SECONDS
  # shellcheck disable=SC2086
  "$LLAMAGEN" $a -o "$dir"
  echo "$a" > "$dir/.args"
  echo "   $((SECONDS - t0)) s"
}

# one yosys run: design family. Splits the synth script before the RAM
# mapping to list every memory (and those with a write port) for the check.
synth() {
  local d=$1 fam=$2 dir=$out/$1 base=$out/$1_$2 prefix top cmd files ram end
  [ -f "$base.stat" ] && { echo "== $d $fam: done before ($base.stat)"; return 0; }
  prefix=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['prefix'])" "$dir/manifest.json")
  top=${prefix}_$(unit_of "$d")
  files=$(tr '\n' ' ' < "$dir/files.f")
  local lib="" bb=""
  # the decoder alone: not the weight ROM and top (reading them parses the image)
  [ "$(unit_of "$d")" = decoder ] && files=$(echo " $files " | sed "s| ${prefix}_wmem.v | |; s| ${prefix}_top.v | |")
  case " $EMB_BLACKBOX " in *" $d "*)
    bb=${prefix}_embed.v
    files=$(echo " $files " | sed "s| $bb | |")
    lib="read_verilog -lib $bb;" ;;
  esac
  case $fam in
    ecp5)   cmd="synth_ecp5 -top $top"; ram=map_ram; end=check ;;
    xilinx) cmd="synth_xilinx -flatten -top $top"; ram=map_memory; end=check ;;
  esac
  # the check label's autoname (ECP5) only renames cells, and takes most of
  # the time on a big netlist in yosys 0.23: stop before it, check by hand
  echo "== $d $fam: yosys $cmd (log $base.log)"
  local t0=$SECONDS
  # $readmemh images are found relative to the emitted directory
  (cd "$dir" && "$YOSYS" -q -l "$base.log" -p "$lib read_verilog $files; $cmd -run :$ram; \
     tee -q -o $base.mems select -list t:\$mem_v2; \
     tee -q -o $base.rams select -list r:WR_PORTS>0; \
     $cmd -run $ram:$end; hierarchy -check; tee -q -o $base.stat.tmp stat; check -noinit") \
     >/dev/null 2>"$base.err" || {
       echo "   FAILED after $((SECONDS - t0)) s: $(tail -n 3 "$base.err")"; return 1; }
  mv "$base.stat.tmp" "$base.stat"
  echo "${bb%.v}" > "$base.blackbox"
  echo "$((SECONDS - t0))" > "$base.time"
  echo "   $d $fam: $((SECONDS - t0)) s"
}

echo "synth_estimates: $designs; families $FAMILIES; $("$YOSYS" -V)"
for d in $designs; do emit "$d"; done
# run the (design, family) pairs JOBS at a time
pids=()
fail=0
for d in $designs; do
  for f in $FAMILIES; do
    synth "$d" "$f" &
    pids+=($!)
    if [ ${#pids[@]} -ge "$JOBS" ]; then wait "${pids[0]}" || fail=1; pids=("${pids[@]:1}"); fi
  done
done
for p in "${pids[@]}"; do wait "$p" || fail=1; done
python3 "$root/examples/fpga/estimates/summarize.py" "$out" $designs --families "$FAMILIES" \
  | tee "$out/summary.md"
exit $fail
