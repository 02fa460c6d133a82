#!/bin/sh
# test_lgtok.sh OUTDIR TB PLUSARGS...: lgtok.py, the host side of the UART
# token protocol, against the co-simulated iCEBreaker system (TB: the
# sim_decoder harness of icebreaker_decoder_core, with the PLUSARGS of its
# configuration) over a pseudo-terminal, as a user runs it against the board:
#   info                               the 'I' record: seq_len 256
#   gen --ids 1,403 --n 3 --temp 0.8   exit 0; the harness decodes the frame
#     --seed 1234                      lgtok.py sent (inv_temp 81920 = 2^16 /
#                                      0.8, seed word 3138188827 = seed_state(1234),
#                                      n_gen 3, prompt 1 403),
#                                      checks every logit and id of the run
#                                      against the C model, and the ids
#                                      lgtok.py printed must be the run's
#   gen --ids 1 --n 3, another frame   the other frame is rejected as busy
#     written during the run           between the run's records; gen must
#                                      still end with its 3 tokens, exit 0
#   gen --ids 1,600 --n 2              a prompt id >= vocab: the core flags
#                                      err_token; exit 1 naming it
#   make host-gen HOST_N=6             (the board Makefile's target: gen
#                                      --ids 1 --n 6 --tokens F) greedy, as
#                                      text (the emitted decoder's
#                                      tokens.txt): the bytes it printed must
#                                      be those the C model's decoder prints
#                                      for the run's ids (with a tokenizer;
#                                      synthetic weights have none: skipped)
#   gen --ids 1 --n 2, the flash       (a second harness, +image=erased)
#     never written                    every frame rejected with status
#                                      bit 6: exit 1, one line naming it
# and, without the board: an option out of range (exit 2) and a port that
# never answers (exit 1 after --timeout), each one line on stderr. The
# harness's verdict (exit 0: everything bit-exact) is the last check.
set -u
out=${1:?usage: test_lgtok.sh OUTDIR TB PLUSARGS...}
shift
here=$(cd "$(dirname "$0")/../.." && pwd)
. "$here/tests/hdl/lgtok_common.sh"
rm -rf "$out" && mkdir -p "$out" || exit 1
bad=0
fail() { echo "FAIL test_lgtok: $*"; bad=1; }

# ---- without the board: usage and timeout errors
"$py" "$lgtok" --port /dev/null gen --ids 1,x > "$out/use.out" 2> "$out/use.err"
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l < "$out/use.err")" -eq 1 ] && grep -q "^lgtok.py: --ids" "$out/use.err"; then
  echo "ok - a bad --ids: exit 2, $(cat "$out/use.err")"
else
  fail "a bad --ids: exit $rc, stderr '$(cat "$out/use.err")'"
fi
"$py" - "$lgtok" "$out" <<'EOF'
import os, subprocess, sys
lgtok, out = sys.argv[1], sys.argv[2]
m, s = os.openpty()  # a port that never answers
r = subprocess.run([sys.executable, lgtok, "--port", os.ttyname(s), "--timeout", "0.5", "info"],
                   capture_output=True, text=True, timeout=30)
err = r.stderr.strip()
if r.returncode == 1 and err.count("\n") == 0 and "no reply from the FPGA" in err:
    print(f"ok - a silent port: exit 1, {err}")
else:
    print(f"FAIL test_lgtok: a silent port: exit {r.returncode}, stderr '{err}'")
    sys.exit(1)
EOF
[ $? -eq 0 ] || bad=1

# ---- against the co-simulated board
# the emitted decoder's directory (+dir=) and its tokens.txt
dir=
for a in "$@"; do case $a in +dir=*) dir=${a#+dir=} ;; esac; done
# (the 'E' records the harness serves: gen, the busy reject, its run, the bad
# id; a tokenizer adds the text run)
have_tok=0
[ -f "$dir/tokens.txt" ] && have_tok=1
runs=$((4 + have_tok))
"$@" +pty="$out/pty" +runs=$runs +idle=120 +quiet > "$out/sim.log" 2>&1 &
sim=$!
pty_wait "$out/pty" $sim ||
  { echo "FAIL test_lgtok: the harness named no port:"; cat "$out/sim.log"; exit 1; }
port=$(cat "$out/pty")
lg() { "$py" "$lgtok" --port "$port" --timeout 120 "$@"; }

lg info > "$out/info.out" 2> "$out/info.err"
rc=$?
if [ $rc -eq 0 ] && grep -q "seq_len 256," "$out/info.out"; then
  echo "ok - info: $(cat "$out/info.out")"
else
  fail "info: exit $rc: $(cat "$out/info.out" "$out/info.err")"
fi

lg gen --ids 1,403 --n 3 --temp 0.8 --seed 1234 > "$out/gen.out" 2> "$out/gen.err"
rc=$?
got=$(head -n 1 "$out/gen.out" | tr -s ' ' | sed 's/ $//')
[ $rc -eq 0 ] || fail "gen: exit $rc: $(cat "$out/gen.err")"

# a frame from another writer on the line during a run: the board rejects it
# as busy (its 'E' comes between the run's records); gen must go on to its
# own run's end (the writer only writes: one reader per port)
lg gen --ids 1 --n 3 > "$out/busy.out" 2> "$out/busy.err" &
gen=$!
sleep 1
"$py" - "$lgtok" "$port" <<'PY'
import os, sys
sys.path.insert(0, os.path.dirname(sys.argv[1]))
import lgtok
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_NOCTTY)
os.write(fd, lgtok.frame(0, 7, 2, [1, 403]))
os.close(fd)
PY
wait $gen
rc=$?
if [ $rc -eq 0 ] && grep -q "^\[3 tokens, ok" "$out/busy.out" &&
   grep -q "host frame rejected: status 0x10" "$out/sim.log"; then
  echo "ok - a busy reject during a run: gen exit 0, $(head -n 1 "$out/busy.out")"
else
  fail "a busy reject during a run: exit $rc: $(cat "$out/busy.out" "$out/busy.err")"
fi

lg gen --ids 1,600 --n 2 > "$out/bad.out" 2> "$out/bad.err"
rc=$?
if [ $rc -eq 1 ] && [ "$(wc -l < "$out/bad.err")" -eq 1 ] && grep -q "err_token" "$out/bad.err"; then
  echo "ok - a prompt id >= vocab: exit 1, $(cat "$out/bad.err")"
else
  fail "a prompt id >= vocab: exit $rc, stderr '$(cat "$out/bad.err")'"
fi

if [ $have_tok -eq 1 ]; then
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory \
    -C "$here/examples/fpga/icebreaker" host-gen PORT="$port" HOST_N=6 HOST_TIMEOUT=120 \
    DEC_RTL="$dir" PYTHON="$py" > "$out/text.out" 2> "$out/text.err"
  rc=$?
  [ $rc -eq 0 ] || fail "make host-gen: exit $rc: $(cat "$out/text.err")"
fi

# (the harness ends after the last run's 'E' record; the 'I' exchange is no
# run)
wait $sim
simrc=$?
frame=$(grep "^host frame:" "$out/sim.log" | head -n 1)
# (seed word 3138188827: --seed 1234 through seed_state, the high half of
# splitmix64's output, as lg_seed_state; test_ref_units checks the C twin)
want="host frame: inv_temp 81920 seed 3138188827 n_gen 3 prompt 1 403"
if [ "$frame" = "$want" ]; then
  echo "ok - lgtok.py sent what it was asked: $frame"
else
  fail "the frame lgtok.py sent decodes as '$frame', want '$want'"
fi
ids=$(grep "^host ids:" "$out/sim.log" | head -n 1 | sed 's/^host ids: *//')
if [ -n "$got" ] && [ "$got" = "$ids" ] && [ "$(echo "$ids" | wc -w)" -eq 3 ]; then
  echo "ok - gen printed the run's ids: $got"
else
  fail "gen printed '$got', the run's 'T' records were '$ids'"
fi
if [ $have_tok -eq 1 ]; then
  # lgtok.py's text (all it printed before the summary line "\n[...]") and
  # the harness's, hex
  txt=$(grep "^host text:" "$out/sim.log" | tail -n 1 | sed 's/^host text://')
  mine=$("$py" -c 'import sys; b = open(sys.argv[1], "rb").read(); print(b[:b.rindex(b"\n[")].hex())' \
         "$out/text.out")
  if [ -n "$txt" ] && [ "$txt" = "$mine" ]; then
    echo "ok - make host-gen printed the run's text as the C model decodes it: '$(cat "$out/text.out" | head -c 60 | tr '\n' ' ')'"
  else
    fail "make host-gen printed bytes $mine, the C model's decode of the run is $txt"
  fi
else
  echo "ok - (no tokens.txt: synthetic weights, no tokenizer) the text check is skipped"
fi
if [ $simrc -eq 0 ]; then
  echo "ok - the co-simulation: every logit, id and status bit-exact ($(tail -n 1 "$out/sim.log"))"
else
  fail "the co-simulation failed (exit $simrc):"; cat "$out/sim.log"
fi
# ---- the harness's +image=FILE (make test serves mkflash's file with it): a
# file that is not the decoder's image fails it, naming the first difference
printf 'not an image' > "$out/bad.bin"
"$@" +image="$out/bad.bin" +n=1 +quiet > "$out/img.sim" 2>&1
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l < "$out/img.sim")" -eq 1 ] &&
   grep -q "+image=.*bad.bin: 12 bytes, the harness's image [0-9]*; first difference at byte 0" "$out/img.sim"; then
  echo "ok - the harness with an image file that is not the decoder's: exit 2, $(cat "$out/img.sim")"
else
  fail "the harness with a wrong +image file: exit $rc: $(head -c 600 "$out/img.sim")"
fi

# ---- a board whose flash holds no image: the reader's boot check
"$@" +pty="$out/pty2" +runs=1 +idle=60 +quiet +image=erased > "$out/sim2.log" 2>&1 &
sim=$!
if pty_wait "$out/pty2" $sim; then
  "$py" "$lgtok" --port "$(cat "$out/pty2")" --timeout 60 gen --ids 1 --n 2 \
    > "$out/img.out" 2> "$out/img.err"
  rc=$?
  if [ $rc -eq 1 ] && [ "$(wc -l < "$out/img.err")" -eq 1 ] &&
     grep -q "rejected the frame: no matching weight image in flash" "$out/img.err"; then
    echo "ok - no image in flash: exit 1, $(cat "$out/img.err")"
  else
    fail "no image in flash: exit $rc, stderr '$(cat "$out/img.err")'"
  fi
  wait $sim
  simrc=$?
  if [ $simrc -eq 0 ] && grep -q "host frame rejected: status 0x40" "$out/sim2.log"; then
    echo "ok - the co-simulation with the flash erased: the frame rejected (0x40)"
  else
    fail "the co-simulation with the flash erased (exit $simrc):"; cat "$out/sim2.log"
  fi
else
  fail "the second harness named no port:"; cat "$out/sim2.log"
fi

[ $bad -eq 0 ] && echo "test_lgtok: PASS"
exit $bad
