#!/bin/sh
# test_lgtok_probe.sh OUTDIR MKFLASH TB: the iCEBreaker probe's bring-up
# (docs/fpga.md, "iCEBreaker build": make prog-probe host-probe) rehearsed
# on the co-simulated probe instead of the board: `mkflash probe` writes a
# random I8E matrix's flash image and its expectation file, the probe's
# harness (TB: sim_probe, icebreaker_probe_core in Verilator with the
# pin-level flash model) serves that image (+image) and a pseudo-terminal
# (+pty), and `lgtok.py probe` sends the vector and compares the 512 int32
# results: exit 0, all match. With one expected value changed, lgtok.py must
# exit 1 with one line naming the row. The harness must pass both times
# (UART stop bits, the flash model's protocol and timing). And mkflash's bad
# input: one line, exit 2 for a bad value, 1 and no file for an output it
# cannot write; the harness fails on an +image that is not there.
set -u
out=${1:?usage: test_lgtok_probe.sh OUTDIR MKFLASH TB}
mkflash=${2:?usage: test_lgtok_probe.sh OUTDIR MKFLASH TB}
tb=${3:?usage: test_lgtok_probe.sh OUTDIR MKFLASH TB}
here=$(cd "$(dirname "$0")/../.." && pwd)
. "$here/tests/hdl/lgtok_common.sh"
rm -rf "$out" && mkdir -p "$out" || exit 1
bad=0
fail() { echo "FAIL test_lgtok_probe: $*"; bad=1; }

"$mkflash" probe --lanes 4 --rows 512 --cols 172 --seed 7 -o "$out/probe.bin" \
  --expect "$out/good.txt" > "$out/mkflash.log" 2>&1 ||
  { echo "FAIL test_lgtok_probe: mkflash probe:"; cat "$out/mkflash.log"; exit 1; }
# mkflash's bad input: a value that is no number (exit 2), an expectation
# file it cannot write (exit 1, and no image left behind either), one line
"$mkflash" probe --lanes abc -o "$out/x.bin" --expect "$out/x.txt" > /dev/null 2> "$out/e1.err"
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l < "$out/e1.err")" -eq 1 ] && grep -q -- "--lanes: 'abc'" "$out/e1.err"; then
  echo "ok - mkflash probe --lanes abc: exit 2, $(cat "$out/e1.err")"
else
  fail "mkflash probe --lanes abc: exit $rc, '$(cat "$out/e1.err")'"
fi
# (and no size summary on stdout: it describes a file that was not written)
"$mkflash" probe -o "$out/x.bin" --expect "$out/nodir/x.txt" > "$out/e2.out" 2> "$out/e2.err"
rc=$?
if [ $rc -eq 1 ] && [ "$(wc -l < "$out/e2.err")" -eq 1 ] && [ ! -e "$out/x.bin" ] &&
   [ ! -e "$out/x.bin.tmp" ] && [ ! -s "$out/e2.out" ]; then
  echo "ok - mkflash probe, an expectation it cannot write: exit 1, no image left, $(cat "$out/e2.err")"
else
  fail "mkflash probe, unwritable expectation: exit $rc, '$(cat "$out/e2.err")', stdout '$(cat "$out/e2.out")', $(ls "$out" | tr '\n' ' ')"
fi

"$mkflash" weights --lanes abc -o "$out/w.bin" > /dev/null 2> "$out/e5.err"
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l < "$out/e5.err")" -eq 1 ] && grep -q -- "--lanes: 'abc'" "$out/e5.err" &&
   [ ! -e "$out/w.bin" ]; then
  echo "ok - mkflash weights --lanes abc: exit 2, $(cat "$out/e5.err")"
else
  fail "mkflash weights --lanes abc: exit $rc, '$(cat "$out/e5.err")'"
fi
"$mkflash" weights --lanes 4 -o "$out/nodir/w.bin" > "$out/e3.out" 2> "$out/e3.err"
rc=$?
if [ $rc -eq 1 ] && [ "$(wc -l < "$out/e3.err")" -eq 1 ] && [ ! -e "$out/nodir" ] &&
   [ ! -s "$out/e3.out" ]; then
  echo "ok - mkflash weights, an output it cannot write: exit 1, $(cat "$out/e3.err")"
else
  fail "mkflash weights, unwritable output: exit $rc, '$(cat "$out/e3.err")', stdout '$(cat "$out/e3.out")'"
fi
# the marked layout where it cannot be: 64 lanes carry two dexps a beat
"$mkflash" weights --lanes 64 --marks -o "$out/m.bin" > "$out/e6.out" 2> "$out/e6.err"
rc=$?
if [ $rc -eq 1 ] && [ "$(wc -l < "$out/e6.err")" -eq 1 ] && grep -q "marked flash layout" "$out/e6.err" &&
   [ ! -e "$out/m.bin" ] && [ ! -e "$out/m.bin.tmp" ] && [ ! -s "$out/e6.out" ]; then
  echo "ok - mkflash weights --lanes 64 --marks: exit 1, $(cat "$out/e6.err")"
else
  fail "mkflash weights --lanes 64 --marks: exit $rc, '$(cat "$out/e6.err")', stdout '$(cat "$out/e6.out")'"
fi
# an image whose tag is not the bitstream's (the decoder's seq_len left out:
# other K smoothing, other weights): exit 1, one line, nothing written; a tag
# that is no hex number: exit 2
"$mkflash" weights --config 260k --lanes 2 --marks --expect-tag \
  "$("$mkflash" weights --config 260k --lanes 2 --seq-len 256 --marks -o "$out/t.bin" |
     sed -n 's/.*; tag \([0-9a-f]*\),.*/\1/p')" -o "$out/t2.bin" > "$out/e7.out" 2> "$out/e7.err"
rc=$?
if [ $rc -eq 1 ] && [ "$(wc -l < "$out/e7.err")" -eq 1 ] && grep -q "is not the expected" "$out/e7.err" &&
   [ -s "$out/t.bin" ] && [ ! -e "$out/t2.bin" ] && [ ! -e "$out/t2.bin.tmp" ] && [ ! -s "$out/e7.out" ]; then
  echo "ok - mkflash weights --expect-tag of another seq_len's image: exit 1, $(cat "$out/e7.err")"
else
  fail "mkflash weights --expect-tag mismatch: exit $rc, '$(cat "$out/e7.err")', stdout '$(cat "$out/e7.out")'"
fi
"$mkflash" weights --expect-tag 12345 -o "$out/t3.bin" > /dev/null 2> "$out/e8.err"
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l < "$out/e8.err")" -eq 1 ] && [ ! -e "$out/t3.bin" ]; then
  echo "ok - mkflash weights --expect-tag 12345: exit 2, $(cat "$out/e8.err")"
else
  fail "mkflash weights --expect-tag 12345: exit $rc, '$(cat "$out/e8.err")'"
fi
# the harness with an image that is not there: it fails, naming it
"$tb" +image="$out/none.bin" +pty="$out/none.pty" > "$out/e4.sim" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q "+image=.*none.bin: cannot open it" "$out/e4.sim" && [ ! -e "$out/none.pty" ]; then
  echo "ok - tb_probe +image of a missing file: exit $rc, $(grep "+image=" "$out/e4.sim")"
else
  fail "tb_probe +image of a missing file: exit $rc: $(cat "$out/e4.sim")"
fi

# the same expectation with row 5's result off by one
awk '$1 == "y" { $7 = $7 + 1 } { print }' "$out/good.txt" > "$out/bad.txt"

# session NAME EXPECT WANT: the harness and lgtok.py probe; WANT lgtok.py's exit
session() {
  rm -f "$out/$1.pty"
  "$tb" +image="$out/probe.bin" +pty="$out/$1.pty" +idle=60 > "$out/$1.sim" 2>&1 &
  sim=$!
  pty_wait "$out/$1.pty" $sim ||
    { fail "$1: the harness named no port:"; cat "$out/$1.sim"; return; }
  "$py" "$lgtok" --port "$(cat "$out/$1.pty")" --timeout 60 probe "$2" > "$out/$1.out" 2> "$out/$1.err"
  rc=$?
  wait $sim
  simrc=$?
  [ $simrc -eq 0 ] || { fail "$1: the harness failed (exit $simrc):"; cat "$out/$1.sim"; }
  if [ $rc -ne "$3" ]; then
    fail "$1: lgtok.py probe exit $rc, want $3: $(cat "$out/$1.out" "$out/$1.err")"
  elif [ "$3" -eq 0 ]; then
    if grep -q "512 of 512 match" "$out/$1.out"; then
      echo "ok - $1: $(head -n 1 "$out/$1.out")"
    else
      fail "$1: $(cat "$out/$1.out")"
    fi
  elif [ "$(wc -l < "$out/$1.err")" -eq 1 ] && grep -q "1 of 512 results differ.*row 5 " "$out/$1.err" &&
       grep -q "row 5: got" "$out/$1.out"; then
    echo "ok - $1: exit 1, $(cat "$out/$1.err")"
  else
    fail "$1: stderr '$(cat "$out/$1.err")', stdout '$(cat "$out/$1.out")'"
  fi
}
session good "$out/good.txt" 0
session bad "$out/bad.txt" 1
[ $bad -eq 0 ] && echo "test_lgtok_probe: PASS"
exit $bad
