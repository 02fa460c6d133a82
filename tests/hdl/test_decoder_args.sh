#!/bin/sh
# test_decoder_args.sh OUTDIR LLAMAGEN: the iCEBreaker Makefile re-emits the
# decoder's RTL when its emission arguments change (DEC_ARGS, or the
# checkpoint coming or going with MODELS) and only then, through the
# decoder_args signature file. Emits into OUTDIR (the RTL target alone, about
# a second each): arguments A, A again (nothing to do), B (re-emitted, the
# manifest says B's seq_len), B again.
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
[ $bad -eq 0 ] && echo "test_decoder_args: PASS"
exit $bad
