#!/bin/sh
# test_decoder_args.sh OUTDIR LLAMAGEN: the iCEBreaker Makefile re-emits the
# decoder's RTL when its emission arguments change (DEC_ARGS, or the
# checkpoint coming or going with MODELS) and only then, through the
# decoder_args signature file. Emits into OUTDIR (the RTL target alone, about
# a second each): arguments A, A again (nothing to do), B (re-emitted, the
# manifest says B's seq_len), B again. The other signature files follow the
# same rule, rewritten when their setting changes and only then: the
# decoder's and the probe's synthesis options (DEC_SYNTH_OPTS, SYNTH_OPTS:
# the netlists depend on them) and the placer seed (SEED: the placements).
# And the library and the CLI the board build uses are the top Makefile's:
# made there under a BUILD of the board's own, and brought up to date at
# every run when they are the repository's. Plain make builds the decoder.
set -u
out=${1:?usage: test_decoder_args.sh OUTDIR LLAMAGEN}
llamagen=${2:?usage: test_decoder_args.sh OUTDIR LLAMAGEN}
here=$(cd "$(dirname "$0")/../.." && pwd)
unset MAKEFLAGS MFLAGS MAKELEVEL
rm -rf "$out" && mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)
case $llamagen in /*) ;; *) llamagen=$(pwd)/$llamagen ;; esac
bad=0
a="--config 260k --lanes 2 --seq-len 256"
b="--config 260k --lanes 2 --seq-len 128"

# emit ARGS WANT: make the RTL target; WANT 1 if llamagen must run, 0 if not
emit() {
  make -C "$here/examples/fpga/icebreaker" --no-print-directory BUILD="$out" \
    LLAMAGEN="$llamagen" MODELS=/nonexistent DEC_ARGS="$1" "$out/decoder_rtl/.stamp" \
    > "$out/make.log" 2>&1 || { echo "FAIL test_decoder_args: make failed:"; cat "$out/make.log"; exit 1; }
  ran=0
  grep -q "llamagen $1" "$out/make.log" && ran=1
  if [ "$ran" -ne "$2" ]; then
    echo "FAIL test_decoder_args: DEC_ARGS=\"$1\": llamagen ran $ran times, want $2"
    cat "$out/make.log"
    bad=1
  else
    echo "ok - DEC_ARGS=\"$1\": emitted $ran"
  fi
}

emit "$a" 1
emit "$a" 0
emit "$b" 1
grep -q '"seq_len": *128' "$out/decoder_rtl/manifest.json" || {
  echo "FAIL test_decoder_args: the manifest after B does not say seq_len 128"; bad=1; }
emit "$b" 0

# sig VAR VALUE FILE WANT: make the signature file FILE (in OUTDIR) with
# VAR=VALUE (the Makefile's default when VALUE is empty); WANT 1 if it must be
# rewritten (its time, set to 2000 before, moves), 0 if not. It must then
# hold VALUE.
sig() {
  f=$out/$3
  [ -f "$f" ] && touch -d '2000-01-01' "$f"
  make -C "$here/examples/fpga/icebreaker" --no-print-directory BUILD="$out" \
    ${2:+$1="$2"} "$f" > "$out/make.log" 2>&1 ||
    { echo "FAIL test_decoder_args: make $f failed:"; cat "$out/make.log"; exit 1; }
  moved=1
  [ "$(date -r "$f" +%Y)" = 2000 ] && moved=0
  if [ "$moved" -ne "$4" ] || { [ -n "$2" ] && [ "$(cat "$f")" != "$2" ]; }; then
    echo "FAIL test_decoder_args: $3 with $1=\"$2\": rewritten $moved, want $4; holds '$(cat "$f")'"
    bad=1
  else
    echo "ok - $3 with $1=\"${2:-(default)}\": rewritten $moved ('$(cat "$f")')"
  fi
}
for v in "DEC_SYNTH_OPTS decoder_synth_opts -abc9 -dff" "SYNTH_OPTS probe_synth_opts -abc9" \
         "SEED pnr_seed 2"; do
  set -- $v; var=$1 file=$2; shift 2
  sig "$var" "" "$file" 1
  sig "$var" "" "$file" 0
  sig "$var" "$*" "$file" 1
  sig "$var" "$*" "$file" 0
  sig "$var" "" "$file" 1
done
grep -q -- '-abc2' "$out/decoder_synth_opts" ||
  { echo "FAIL test_decoder_args: the decoder's default options lack -abc2"; bad=1; }
# and the outputs depend on them (make's database: the rules of the netlists
# and the placements)
db=$(make -C "$here/examples/fpga/icebreaker" --no-print-directory -pq BUILD="$out" \
     "$out/pnr_seed" 2>/dev/null)
for dep in "decoder_f[0-9.]*\.json decoder_synth_opts" "probe_l[0-9]*_f[0-9.]*\.json probe_synth_opts" \
           "decoder_f[0-9.]*\.asc pnr_seed" "probe_l[0-9]*_f[0-9.]*\.asc pnr_seed"; do
  set -- $dep
  if echo "$db" | grep -q "^$out/$1:.* $out/$2\( \|\$\)"; then
    echo "ok - $1 depends on $2"
  else
    echo "FAIL test_decoder_args: no rule makes $1 depend on $2"; bad=1
  fi
done
# A BUILD given to the board's Makefile must not reach the top Makefile's rules
# of the library and the CLI (they live in the repository's build/ unless
# LG_LIB / LLAMAGEN say otherwise; on a fresh checkout neither exists yet):
# make -nB walks both recipes, running only the recursive make, which fails
# with "No rule to make target" if it does, or makes another file. Paths that
# do not exist, so that the top Makefile cannot take an existing file for done.
for t in "$out/lib/libllamagen.a" "$out/bin/llamagen"; do
  v=LLAMAGEN; case $t in *.a) v=LG_LIB ;; esac
  if make -C "$here/examples/fpga/icebreaker" --no-print-directory -nB BUILD="$out" \
       "$v=$t" "$t" > "$out/make.log" 2>&1 && grep -q -- "-o $t\$\|rcs $t " "$out/make.log"; then
    echo "ok - $v=$t is made by the top Makefile with the board's BUILD=$out"
  else
    echo "FAIL test_decoder_args: $v=$t with BUILD=$out:"; tail -3 "$out/make.log"; bad=1
  fi
done
# The repository's own CLI and library are handed to the top Makefile at
# every run (FORCE: the RTL templates are compiled into them, and a stale CLI
# emits the old RTL); one given from outside is not (it is not the top
# Makefile's to build). make's database: the rule's prerequisites.
for v in "LLAMAGEN $here/build/llamagen 1" "LG_LIB $here/build/libllamagen.a 1" \
         "LLAMAGEN /opt/bin/llamagen 0" "LG_LIB /opt/lib/libllamagen.a 0"; do
  set -- $v
  got=0
  make -C "$here/examples/fpga/icebreaker" --no-print-directory -pq BUILD="$out" "$1=$2" \
    "$out/pnr_seed" 2>/dev/null | grep -q "^$2:.* FORCE\( \|\$\)" && got=1
  if [ "$got" -eq "$3" ]; then
    echo "ok - $1=$2: handed to the top Makefile at every run: $got"
  else
    echo "FAIL test_decoder_args: $1=$2: FORCE prerequisite $got, want $3"; bad=1
  fi
done
# Plain make (the issue's `make -C examples/fpga/icebreaker`) builds the
# complete decoder: its bitstream, its flash image and its report; `make
# probe` the probe's (make -n: the commands, nothing run but the recursive
# make).
plain=$(make -C "$here/examples/fpga/icebreaker" --no-print-directory -n BUILD="$out" \
        MODELS=/nonexistent 2>&1)
if echo "$plain" | grep -q "icepack .*decoder_f[0-9.]*\.asc" &&
   echo "$plain" | grep -q "mkflash weights .*decoder_weights_l2\.bin" &&
   echo "$plain" | grep -q "report\.py .*decoder_f"; then
  echo "ok - plain make: the decoder's bitstream, flash image and report"
else
  echo "FAIL test_decoder_args: plain make does not build the decoder:"; echo "$plain" | tail -5; bad=1
fi
# make prog-decoder programs the decoder's bitstream and its own weight
# image (lanes 2) at 1 MiB, where its reader looks (iceprog, dry run)
prog=$(make -C "$here/examples/fpga/icebreaker" --no-print-directory -n BUILD="$out" \
       MODELS=/nonexistent prog-decoder 2>&1 | grep "^iceprog")
if echo "$prog" | sed -n 1p | grep -qx "iceprog $out/decoder_f[0-9.]*\.bin" &&
   [ "$(echo "$prog" | sed -n 2p)" = "iceprog -o 1M $out/decoder_weights_l2.bin" ]; then
  echo "ok - make prog-decoder: the decoder's bitstream, its weight image at 1 MiB"
else
  echo "FAIL test_decoder_args: make prog-decoder runs: $prog"; bad=1
fi
if make -C "$here/examples/fpga/icebreaker" --no-print-directory -n BUILD="$out" probe 2>&1 |
   grep -q "icepack .*probe_l"; then
  echo "ok - make probe: the probe's bitstream"
else
  echo "FAIL test_decoder_args: make probe does not build the probe"; bad=1
fi
[ $bad -eq 0 ] && echo "test_decoder_args: PASS"
exit $bad
