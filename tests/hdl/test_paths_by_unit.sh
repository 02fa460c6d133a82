#!/bin/sh
# test_paths_by_unit.sh BUILD_DIR: the static timing that `make decoder`
# ends with (examples/fpga/icebreaker/paths_by_unit.py), on the decoder
# build that up5k_decoder.sh left in BUILD_DIR and on a hand-made design.
#  1. nextpnr's model over nextpnr's own SDF must give nextpnr's Fmax
#     (--pnr-log: the analysis and the log agree to 0.01 MHz);
#  2. with the SB_MAC16 delays, --check must pass just below the Fmax it
#     prints and fail just above it, listing the endpoints that miss; the
#     flash-bound tokens/s (--flash-bytes) must be that Fmax's;
#  3. a two-register design with one combinational multiplier between
#     them: the worst path must be exactly clock-to-out + nets + setup +
#     the multiplier's A[0] -> O[0] arc, read here from icestorm's timing
#     file with awk (not with the script's parser); in nextpnr's model the
#     multiplier path is cut and only the direct path counts. The same with
#     the multiplier's A input registered in the DSP; an unmodelled
#     configuration must be refused.
#  4. hold (--hold) on a hand-made design, with and without clock skew, with
#     the hold on its own SDF line, and with a clock pin at 0 ps.
set -u
build=${1:?usage: test_paths_by_unit.sh BUILD_DIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
pbu=$here/examples/fpga/icebreaker/paths_by_unit.py
py=${PYTHON:-python3}
timings=/usr/share/fpga-icestorm/chipdb/timings_up5k.txt
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
bad=0
fail() { echo "FAIL test_paths_by_unit: $*"; bad=1; }

if [ ! -r "$timings" ]; then
  echo "FAIL test_paths_by_unit: no $timings (Debian package fpga-icestorm-chipdb; tools/deps.sh)"
  exit 1
fi
# (decoder_f<MHz>.sdf of `make decoder`, not another placement's)
sdf=$(ls -t "$build"/decoder_f*.sdf 2>/dev/null | grep -v '_seed' | head -n 1)
if [ -z "$sdf" ]; then
  echo "FAIL test_paths_by_unit: no decoder_f*.sdf in $build (up5k_decoder.sh runs first)"
  exit 1
fi
log=${sdf%.sdf}_pnr.log
json=${sdf%.sdf}.json

# 1. nextpnr's model = nextpnr's Fmax
if "$py" "$pbu" "$sdf" --pnr-log "$log" > "$tmp/a" 2>&1 && grep -q "Fmax: .* agrees" "$tmp/a"; then
  echo "ok - nextpnr's model: $(grep -m 1 'worst path' "$tmp/a" | sed 's/.*worst path/worst path/'), $(grep -m 1 'Fmax' "$tmp/a" | sed 's/^ *//')"
else
  cat "$tmp/a"; fail "the analysis does not reproduce nextpnr's Fmax"
fi

# 2. --check around the DSP-aware Fmax
"$py" "$pbu" "$sdf" --design "$json" > "$tmp/b" 2>&1 || { cat "$tmp/b"; fail "DSP-aware run"; }
f=$(sed -n 's/^with the SB_MAC16 delays.* = \([0-9.]*\) MHz$/\1/p' "$tmp/b")
if [ -z "$f" ]; then
  cat "$tmp/b"; fail "no DSP-aware Fmax printed"
else
  lo=$(awk -v f="$f" 'BEGIN { printf "%.2f", f - 0.02 }')
  hi=$(awk -v f="$f" 'BEGIN { printf "%.2f", f + 0.02 }')
  if "$py" "$pbu" "$sdf" --design "$json" --mhz "$lo" --check > "$tmp/c" 2>&1 &&
     grep -q "^PASS" "$tmp/c"; then
    echo "ok - --check passes at $lo MHz (DSP-aware Fmax $f MHz)"
  else
    cat "$tmp/c"; fail "--check at $lo MHz (below the Fmax $f) did not pass"
  fi
  if ! "$py" "$pbu" "$sdf" --design "$json" --mhz "$hi" --check > "$tmp/d" 2>&1 &&
     grep -q "^FAIL worst path" "$tmp/d" && grep -q "^endpoints over .*: [1-9]" "$tmp/d"; then
    echo "ok - --check fails at $hi MHz: $(grep -m 1 '^endpoints over' "$tmp/d")"
  else
    cat "$tmp/d"; fail "--check at $hi MHz (above the Fmax $f) did not fail"
  fi
  # --flash-bytes: the flash-bound tokens/s at that Fmax, 4 clk per byte by
  # default, 2 with --clk-per-byte 2 (the decoder's SCK = clk reader)
  for cpb in 4 2; do
    "$py" "$pbu" "$sdf" --design "$json" --flash-bytes 388992 --clk-per-byte $cpb > "$tmp/k" 2>&1
    got=$(sed -n "s/^  tokens\/s, flash-bound, at this Fmax.* $cpb clk per byte): \([0-9.]*\)\$/\1/p" "$tmp/k")
    want=$(awk -v f="$f" -v c=$cpb 'BEGIN { printf "%.1f", f * 1e6 / (c * 388992) }')
    if [ -n "$got" ] && [ "$got" = "$want" ]; then
      echo "ok - --flash-bytes 388992 --clk-per-byte $cpb: $got tokens/s at $f MHz"
    else
      cat "$tmp/k"; fail "--flash-bytes --clk-per-byte $cpb: got '$got' tokens/s, want $want"
    fi
  done
fi

# 3. a hand-made design (in nextpnr's SDF layout, one statement a line): r1 -> (1000 ps) -> multiplier A[0] -> O[0] -> (500 ps) -> r2.I0,
#    and r1 -> (200 ps) -> r2.I1; clock-to-out 1390, setups 1181
# sdf_head [R1CLK [R2CLK]]: the file's start, up to r1's and r2's clock nets
# (delays in ps, default 0; the top cell's interconnects follow)
sdf_head() {
  c=${1:-0} d=${2:-0}
  cat <<EOF
(DELAYFILE
  (SDFVERSION "3.0")
  (TIMESCALE 1ps)
  (CELL
    (CELLTYPE "top")
    (INSTANCE )
    (DELAY
      (ABSOLUTE
        (INTERCONNECT gb/GLOBAL_BUFFER_OUTPUT r1_LC/CLK ($c:$c:$c) ($c:$c:$c))
        (INTERCONNECT gb/GLOBAL_BUFFER_OUTPUT r2_LC/CLK ($d:$d:$d) ($d:$d:$d))
EOF
}
# sdf_r1: the launching flip-flop r1 (clock-to-out 1390 ps)
sdf_r1() {
  cat <<'EOF'
  (CELL
    (CELLTYPE "ICESTORM_LC")
    (INSTANCE r1_LC)
    (DELAY
      (ABSOLUTE
        (IOPATH CLK O (1390:1390:1390) (1390:1390:1390))
      )
    )
  )
EOF
}
# sdf_r2 PIN SETUP ...: the capturing flip-flop r2, a setup (ps, hold 0)
# on each PIN
sdf_r2() {
  cat <<'EOF'
  (CELL
    (CELLTYPE "ICESTORM_LC")
    (INSTANCE r2_LC)
    (DELAY
      (ABSOLUTE
        (IOPATH CLK O (1390:1390:1390) (1390:1390:1390))
      )
    )
    (TIMINGCHECK
EOF
  while [ $# -ge 2 ]; do
    echo "      (SETUPHOLD (posedge $1) (posedge CLK) ($2:$2:$2) (0:0:0))"
    shift 2
  done
  printf '    )\n  )\n'
}
{ sdf_head; cat <<'EOF'
        (INTERCONNECT r1_LC/O m_SB_MAC16_O_DSP/A_0 (1000:1000:1000) (1000:1000:1000))
        (INTERCONNECT m_SB_MAC16_O_DSP/O_0 r2_LC/I0 (500:500:500) (500:500:500))
        (INTERCONNECT r1_LC/O r2_LC/I1 (200:200:200) (200:200:200))
      )
    )
  )
EOF
sdf_r1; cat <<'EOF'
  (CELL
    (CELLTYPE "ICESTORM_DSP")
    (INSTANCE m_SB_MAC16_O_DSP)
    (DELAY
      (ABSOLUTE
        (IOPATH CLK O_0 (100:100:100) (100:100:100))
      )
    )
    (TIMINGCHECK
      (SETUPHOLD (posedge A_0) (posedge CLK) (100:100:100) (0:0:0))
    )
  )
EOF
sdf_r2 I0 1181 I1 1181; echo ")"
} > "$tmp/t.sdf"
cat > "$tmp/t.json" <<'EOF'
{"modules": {"top": {"attributes": {"top": "1"}, "cells": {
  "m_SB_MAC16_O": {"type": "SB_MAC16", "parameters": {
    "A_REG": "0", "B_REG": "0", "C_REG": "0", "D_REG": "0", "MODE_8x8": "0",
    "TOP_8x8_MULT_REG": "0", "BOT_8x8_MULT_REG": "0",
    "PIPELINE_16x16_MULT_REG1": "0", "PIPELINE_16x16_MULT_REG2": "0",
    "TOPOUTPUT_SELECT": "11", "BOTOUTPUT_SELECT": "11",
    "TOPADDSUB_LOWERINPUT": "10", "BOTADDSUB_LOWERINPUT": "10",
    "A_SIGNED": "0", "B_SIGNED": "0"}}}}}}
EOF
# iopath CELL FROM TO_REGEX: the largest figure of the cell's IOPATH lines
# from FROM to a pin matching TO_REGEX, straight from the timing file
iopath() {
  awk -v cell="$1" -v from="$2" -v to="$3" '$1 == "CELL" { sec = $2 }
    sec == cell && $1 == "IOPATH" && $2 == from && $3 ~ to {
      n = split($4 ":" $5, v, ":"); for (i = 1; i <= n; i++) if (v[i] + 0 > m) m = v[i] + 0 }
    END { print m }' "$timings"
}
arc=$(iopath SB_MAC16_MUL_U_16X16_BYPASS 'A[0]' '^O\\[0\\]$')
want=$(awk -v a="$arc" 'BEGIN { printf "%.2f", (1390 + 1000 + a + 500 + 1181) / 1000 }')
"$py" "$pbu" "$tmp/t.sdf" --design "$tmp/t.json" --mhz 1000 > "$tmp/e" 2>&1
got=$(sed -n 's/^with the SB_MAC16 delays.*worst path \([0-9.]*\) ns.*/\1/p' "$tmp/e")
cut=$(sed -n "s/^nextpnr's model.*worst path \([0-9.]*\) ns.*/\1/p" "$tmp/e")
if [ "$got" = "$want" ] && [ "$cut" = "2.77" ]; then
  echo "ok - hand-made design: $got ns through the multiplier (A[0] -> O[0] $arc ps), $cut ns in nextpnr's model"
else
  cat "$tmp/e"; fail "hand-made design: got '$got' ns (want $want) and '$cut' ns (want 2.77)"
fi
# --trace: the same path pin by pin (arrival, increment, cell type, pin)
"$py" "$pbu" "$tmp/t.sdf" --design "$tmp/t.json" --mhz 1000 --trace 1 > "$tmp/h" 2>&1
hops=$(awk '/^path to r2_LC.I0/ { on = 1; next } on && NF == 4 { print $3 "/" $4 }' "$tmp/h" | tr '\n' ' ')
inc=$(awk '$4 == "m_SB_MAC16_O_DSP.O_0" { print substr($2, 2) }' "$tmp/h")
want_inc=$(awk -v a="$arc" 'BEGIN { printf "%.2f", a / 1000 }')
# and its two routed nets, 1000 and 500 ps
nets=$(sed -n 's/^routed nets on these paths: \(.*\)$/\1/p' "$tmp/h")
if [ "$hops" = "LC/r1_LC.O DSP/m_SB_MAC16_O_DSP.A_0 DSP/m_SB_MAC16_O_DSP.O_0 LC/r2_LC.I0 " ] &&
   [ "$inc" = "$want_inc" ] && [ "$nets" = "2, mean 0.75 ns" ]; then
  echo "ok - --trace lists r1 -> A_0 -> O_0 (+$inc ns) -> r2; routed nets: $nets"
else
  cat "$tmp/h"; fail "--trace: hops '$hops', multiplier increment '$inc' (want $want_inc), nets '$nets'"
fi
# --trace through a chain cut (nextpnr's cells, as chains_by_unit.py counts
# them): r1 -> (300) pass-out I3 -> O (870) -> (1760) feed-in I1 -> COUT
# (680) -> (660) r2.I3: both cells tagged, and 3.61 ns put down to them
{ sdf_head; cat <<'EOF2'
        (INTERCONNECT r1_LC/O \$nextpnr_ICESTORM_LC_1/I3 (300:300:300) (300:300:300))
        (INTERCONNECT \$nextpnr_ICESTORM_LC_1/O \$nextpnr_ICESTORM_LC_2/I1 (1760:1760:1760) (1760:1760:1760))
        (INTERCONNECT \$nextpnr_ICESTORM_LC_2/COUT r2_LC/I3 (660:660:660) (660:660:660))
      )
    )
  )
EOF2
sdf_r1; cat <<'EOF2'
  (CELL
    (CELLTYPE "ICESTORM_LC")
    (INSTANCE \$nextpnr_ICESTORM_LC_1)
    (DELAY
      (ABSOLUTE
        (IOPATH I3 O (870:870:870) (870:870:870))
      )
    )
  )
  (CELL
    (CELLTYPE "ICESTORM_LC")
    (INSTANCE \$nextpnr_ICESTORM_LC_2)
    (DELAY
      (ABSOLUTE
        (IOPATH I1 COUT (680:680:680) (680:680:680))
      )
    )
  )
EOF2
sdf_r2 I3 821; echo ")"
} > "$tmp/x.sdf"
"$py" "$pbu" "$tmp/x.sdf" --mhz 1000 --trace 1 > "$tmp/xh" 2>&1
tags=$(grep -c 'nextpnr: carry \(pass-out\|feed-in\)' "$tmp/xh")
legal=$(sed -n 's/^  (of which \([0-9.]*\) ns into and through \([0-9]*\) cells nextpnr.*/\1 \2/p' "$tmp/xh")
if [ "$tags" = 4 ] && [ "$legal" = "3.61 2" ]; then
  echo "ok - --trace tags a chain cut's two cells and puts 3.61 ns down to them"
else
  cat "$tmp/xh"; fail "--trace through a chain cut: $tags tagged pins (want 4), '$legal' (want '3.61 2')"
fi
# the same multiplier with its own A register (A_REG, clocked by the main
# clock; no iCEcube2 mode): r1 -> A[0] setup (the ALL_PIPELINE figure), and
# the output launches at the registered mode's worst clock-to-out plus the
# A[0] -> O[0] arc: 1980 + arc + 500 + 1181 is the worst path
sed 's|(INTERCONNECT r1_LC/O r2_LC/I1|(INTERCONNECT gb/GLOBAL_BUFFER_OUTPUT m_SB_MAC16_O_DSP/CLK (0:0:0) (0:0:0))\n        (INTERCONNECT r1_LC/O r2_LC/I1|' \
  "$tmp/t.sdf" > "$tmp/r.sdf"
sed 's/"A_REG": "0"/"A_REG": "1"/' "$tmp/t.json" > "$tmp/r.json"
cq=$(iopath SB_MAC16_MAC_U_16X16_BYPASS posedge:CLK '^O\\[')
want=$(awk -v a="$arc" -v c="$cq" 'BEGIN { printf "%.2f", (c + a + 500 + 1181) / 1000 }')
"$py" "$pbu" "$tmp/r.sdf" --design "$tmp/r.json" --mhz 1000 > "$tmp/g" 2>&1
got=$(sed -n 's/^with the SB_MAC16 delays.*worst path \([0-9.]*\) ns.*/\1/p' "$tmp/g")
if [ "$got" = "$want" ] && grep -q "A_REG (upper bound)" "$tmp/g"; then
  echo "ok - with A_REG: $got ns (clock-to-out $cq ps + the arc + net + setup)"
else
  cat "$tmp/g"; fail "registered multiplier input: got '$got' ns (want $want)"
fi
# an SB_MAC16 configuration without a timing model is an error, not a guess
sed 's/"MODE_8x8": "0"/"MODE_8x8": "1"/' "$tmp/t.json" > "$tmp/u.json"
if ! "$py" "$pbu" "$tmp/t.sdf" --design "$tmp/u.json" > "$tmp/f" 2>&1 &&
   grep -q "configuration without a timing model" "$tmp/f"; then
  echo "ok - an 8x8 SB_MAC16 is refused: $(head -n 1 "$tmp/f")"
else
  cat "$tmp/f"; fail "an unmodelled SB_MAC16 configuration was accepted"
fi
# 4. hold (--hold): the shortest paths at the fast corner, i.e. the SDF's
#    delays times icestorm's fast / slow ratio (read here from the logic
#    cell's clock-to-out line with awk), against each pin's hold: r1 ->
#    (200 ps) -> r2.I1 (hold 0) and r1 -> (100 ps) -> a block RAM's WDATA_0
#    (the file's largest WDATA[0] hold), every clock pin 500 ps from the
#    buffer; then r2's clock 4,000 ps later (skew): that path must violate
#    and --check fail, also when the SDF gives r2's setup and hold on
#    separate SETUP / HOLD lines; and the RAM's clock at 0 ps (as nextpnr
#    writes the SPRAMs'): it must capture as late as the others (500)
k=$(awk '$1 == "CELL" { sec = $2 } sec == "LogicCell40" && $1 == "IOPATH" && $2 == "posedge:clk" {
  split($4, v, ":"); printf "%.6f", v[1] / v[3]; exit }' "$timings")
hw=$(awk '$1 == "CELL" { sec = $2 } sec == "SB_RAM40_4K" && $1 == "HOLD" && $2 ~ /:WDATA\[0\]$/ {
  n = split($4, v, ":"); for (i = 1; i <= n; i++) if (v[i] + 0 > m) m = v[i] + 0 } END { print m + 0 }' "$timings")
# sdf_hold R2CLK RAMCLK: the design, r1's clock net 500 ps, r2's R2CLK, the
# RAM's RAMCLK
sdf_hold() {
  sdf_head 500 "$1"; cat <<EOF3
        (INTERCONNECT gb/GLOBAL_BUFFER_OUTPUT m_RAM/WCLK ($2:$2:$2) ($2:$2:$2))
        (INTERCONNECT r1_LC/O r2_LC/I1 (200:200:200) (200:200:200))
        (INTERCONNECT r1_LC/O m_RAM/WDATA_0 (100:100:100) (100:100:100))
      )
    )
  )
EOF3
  sdf_r1; sdf_r2 I1 1181; cat <<'EOF3'
  (CELL
    (CELLTYPE "ICESTORM_RAM")
    (INSTANCE m_RAM)
    (TIMINGCHECK
      (SETUPHOLD (posedge WDATA_0) (posedge WCLK) (100:100:100) (0:0:0))
    )
  )
)
EOF3
}
sdf_hold 500 500 > "$tmp/h0.sdf"
sdf_hold 4500 500 > "$tmp/h1.sdf"
"$py" "$pbu" "$tmp/h0.sdf" --mhz 100 --hold 2 --check > "$tmp/i" 2>&1
rc=$?
got=$(sed -n 's/^hold (fast corner: the SDF.s delays x \([0-9.]*\),.*worst slack \([-+0-9.]*\) ns, \([0-9]*\) of 2 endpoints violate$/\1 \2 \3/p' "$tmp/i")
ram=$(awk -v k="$k" -v h="$hw" 'BEGIN { printf "%+.3f", (k * (1390 + 100) - h) / 1000 }')
lc=$(awk -v k="$k" 'BEGIN { printf "%+.3f", k * (1390 + 200) / 1000 }')
want=$(awk -v k="$k" -v r="$ram" 'BEGIN { printf "%.4f %s 0", k, r }')
if [ $rc -eq 0 ] && [ "$got" = "$want" ] && grep -q "^  *$lc ns  r2_LC.I1  <-  r1_LC.O" "$tmp/i" &&
   grep -q "^PASS hold: 0 violations" "$tmp/i"; then
  echo "ok - hold: worst slack $ram ns at the RAM's WDATA_0 (hold $hw ps), $lc ns at r2 (ratio $k)"
else
  cat "$tmp/i"; fail "hold: exit $rc, got '$got' (want '$want'), r2's slack $lc ns"
fi
"$py" "$pbu" "$tmp/h1.sdf" --mhz 100 --hold 2 --check > "$tmp/j" 2>&1
rc=$?
skew=$(awk -v k="$k" 'BEGIN { printf "%+.3f", k * (1390 + 200 - 4000) / 1000 }')
if [ $rc -eq 1 ] && grep -q "worst slack $skew ns, 1 of 2 endpoints violate" "$tmp/j" &&
   grep -q "^FAIL hold: 1 violations" "$tmp/j"; then
  echo "ok - hold with r2's clock 4 ns late: slack $skew ns, --check fails"
else
  cat "$tmp/j"; fail "hold with skew: exit $rc, want slack $skew ns and FAIL"
fi
sed 's/(SETUPHOLD (posedge I1) (posedge CLK) (1181:1181:1181) (0:0:0))/(SETUP (posedge I1) (posedge CLK) (1181:1181:1181))\n      (HOLD (posedge I1) (posedge CLK) (0:0:0))/' \
  "$tmp/h1.sdf" > "$tmp/h2.sdf"
"$py" "$pbu" "$tmp/h2.sdf" --mhz 100 --hold 2 --check > "$tmp/j2" 2>&1
rc=$?
if grep -q "(HOLD (posedge I1)" "$tmp/h2.sdf" && [ $rc -eq 1 ] &&
   grep -q "worst slack $skew ns, 1 of 2 endpoints violate" "$tmp/j2"; then
  echo "ok - the same with separate SETUP and HOLD lines: slack $skew ns, --check fails"
else
  cat "$tmp/j2"; fail "separate SETUP / HOLD lines: exit $rc, want slack $skew ns and FAIL"
fi
sdf_hold 500 0 > "$tmp/h3.sdf"
"$py" "$pbu" "$tmp/h3.sdf" --mhz 100 --hold 2 > "$tmp/j3" 2>&1
if grep -q "worst slack $ram ns, 0 of 2 endpoints violate" "$tmp/j3" &&
   grep -q "m_RAM.WDATA_0 .* required $(awk -v k="$k" -v h="$hw" 'BEGIN { printf "%.3f", (k * 500 + h) / 1000 }')" "$tmp/j3"; then
  echo "ok - a RAM clock pin at 0 ps captures at the latest clock pin's delay: slack $ram ns"
else
  cat "$tmp/j3"; fail "RAM clock at 0 ps: want slack $ram ns"
fi

# missing inputs: one line, exit 1, no traceback
for args in "$tmp/none.sdf" "$tmp/t.sdf --pnr-log $tmp/none.log" "$tmp/t.sdf --design $tmp/none.json"; do
  # shellcheck disable=SC2086
  "$py" "$pbu" $args > "$tmp/f" 2>&1
  rc=$?
  if [ $rc -eq 1 ] && [ "$(wc -l < "$tmp/f")" -eq 1 ] && grep -q "^paths_by_unit: cannot" "$tmp/f"; then
    echo "ok - paths_by_unit.py $args: exit 1, $(cat "$tmp/f")"
  else
    cat "$tmp/f"; fail "paths_by_unit.py $args: exit $rc"
  fi
done

[ $bad -eq 0 ] && echo "test_paths_by_unit: PASS"
exit $bad
