#!/usr/bin/env bash
# CLI tests: exit codes, one-line error messages and output of the llamagen
# binary. `make test` runs this with LG_CLI (absolute path of build/llamagen)
# and LG_MODELS_DIR (holding stories260K.bin and tok512.bin) set; checks that
# need the real model are skipped visibly when it is absent.
# Prints "ok - NAME" / "not ok - NAME" per check, "skip - NAME: why" for a
# skipped one, and ends with "cli: N passed, M failed"; exit 1 if any failed.
set -u
CLI=${LG_CLI:?set LG_CLI to the llamagen binary}
MODELS=${LG_MODELS_DIR:-../shared/models}
CKPT=$MODELS/stories260K.bin
TOK=$MODELS/tok512.bin
have_model=0
[ -r "$CKPT" ] && [ -r "$TOK" ] && have_model=1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lgcli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
rc=0

# ---- helpers ----

ok() { echo "ok - $1"; pass=$((pass + 1)); }
not_ok() {
  echo "not ok - $1"
  shift
  local l
  for l in "$@"; do echo "#   $l"; done
  fail=$((fail + 1))
}
skip() { echo "skip - $1: $2"; }

# run ARGS...: runs the CLI; sets rc, stdout in $tmp/out, stderr in $tmp/err.
run() {
  "$CLI" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
}

# expect_fail NAME RC NEEDLE...: the last run exited with RC, printed
# nothing on stdout and exactly one stderr line "llamagen: ..." that
# contains every NEEDLE (fixed strings).
expect_fail() {
  local name=$1 want=$2 needle
  shift 2
  if [ "$rc" -ne "$want" ]; then
    not_ok "$name" "exit status $rc, want $want" "stderr: $(head -c 300 "$tmp/err")"
    return
  fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q '^llamagen: ' "$tmp/err"; then
    not_ok "$name" "stderr is not one 'llamagen: ...' line:" "$(head -c 300 "$tmp/err")"
    return
  fi
  if [ -s "$tmp/out" ]; then
    not_ok "$name" "a failure wrote to stdout: $(head -c 200 "$tmp/out")"
    return
  fi
  for needle in "$@"; do
    if ! grep -qF -- "$needle" "$tmp/err"; then
      not_ok "$name" "stderr lacks '$needle':" "$(cat "$tmp/err")"
      return
    fi
  done
  ok "$name"
}

# expect_ok NAME NEEDLE...: the last run exited 0 and stdout contains every
# NEEDLE (fixed strings).
expect_ok() {
  local name=$1 needle
  shift
  if [ "$rc" -ne 0 ]; then
    not_ok "$name" "exit status $rc, want 0" "stderr: $(head -c 300 "$tmp/err")"
    return
  fi
  for needle in "$@"; do
    if ! grep -qF -- "$needle" "$tmp/out"; then
      not_ok "$name" "stdout lacks '$needle':" "$(head -c 300 "$tmp/out")"
      return
    fi
  done
  ok "$name"
}

# snapshot DIR: names, sizes and contents of everything under DIR.
snapshot() { (cd "$1" && find . -print0 | sort -z | xargs -0 ls -ld --time-style=+ && find . -type f -print0 | sort -z | xargs -0 -r cat | cksum); }

# no_leftovers DIR: no temporary llamagen directories remain in DIR.
no_leftovers() { ! ls -a "$1" | grep -q 'llamagen-\(tmp\|old\)'; }

# ---- help, version, list, info ----

run --help
expect_ok "--help exits 0 and shows the usage" "usage: llamagen"
missing=()
for opt in list info run --config --checkpoint --tokenizer --dim --hidden-dim --n-layers \
  --n-heads --n-kv-heads --vocab-size --seq-len --rope-theta --lanes --group-size --kv-bits \
  --kv-group --kv-ports --vec-lanes --embed-stream --mul-share --ext-weights -o --float -n -t -s -i --tokens --help --version; do
  grep -qE -- "(^|[ ,])$opt( |,|$)" "$tmp/out" || missing+=("$opt")
done
if [ ${#missing[@]} -eq 0 ]; then ok "--help lists every command and option"; else
  not_ok "--help lists every command and option" "missing: ${missing[*]}"; fi
run -h
expect_ok "-h is --help" "usage: llamagen"
run info --config 260k --help
expect_ok "--help after other arguments" "usage: llamagen"

run --version
if [ "$rc" -eq 0 ] && grep -qE '^llamagen [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out"; then
  ok "--version prints 'llamagen X.Y.Z'"
else not_ok "--version prints 'llamagen X.Y.Z'" "rc $rc: $(cat "$tmp/out" "$tmp/err")"; fi

run list
expect_ok "list shows the presets" 260k 15m 42m 110m tinyllama-1.1b llama2-7b llama3-8b
if grep -qE '^llama3-8b +4096 +14336 +32 +32 +8 +128256 +8192 ' "$tmp/out" &&
  grep -qE '^260k +64 +172 +5 +8 +4 +512 +512 ' "$tmp/out"; then
  ok "list shows each preset's shape"
else not_ok "list shows each preset's shape" "$(cat "$tmp/out")"; fi

run info --config 260k
expect_ok "info --config 260k" "parameters:" "260032" "head_size:" "kv_dim:" "weight bytes:" \
  "kv bytes per position:" "weight MACs per token:" "attn MACs at pos 0:" "attn MACs at pos 511:" \
  "lanes:" "group_size:" "kv_bits:" "kv_group:" "kv_ports:                2"
run info --config 260k --kv-ports 1
expect_ok "info --kv-ports 1 (single-port K/V RAM)" "kv_ports:                1"
run info --config 260k --lanes 4
expect_ok "info: vec_lanes follows lanes by default" "vec_lanes:               4"
run info --config 260k --lanes 4 --vec-lanes 1
expect_ok "info --vec-lanes 1" "vec_lanes:               1"
run info --config 260k --embed-stream 1
expect_ok "info --embed-stream 1" "embed_stream:            1"
run info --config 260k --mul-share 1
expect_ok "info --mul-share 1" "mul_share:               1"
run info --config 260k --mul-share 2
expect_fail "--mul-share 2 is refused" 1 "mul-share" "not 0 or 1"
run info --config 260k --ext-weights 1
expect_ok "info --ext-weights 1" "ext_weights:             1"
run info --config 260k --ext-weights 3
expect_fail "--ext-weights 3 is refused" 1 "ext-weights" "not 0, 1 or 2"
run info --config llama3-8b
expect_ok "info --config llama3-8b counts 8030261248 parameters" "8030261248" "rope_theta:              500000" \
  "not emitted: past the generator's 2.15 G weight limit"
run info --config 260k --lanes 8 --seq-len=1024 --kv-group 4
expect_ok "info applies overrides" "lanes:                   8" "seq_len:                 1024" \
  "kv_group:                4" "attn MACs at pos 1023:"
run info --config 260k --kv-group 4 --n-heads 4
expect_ok "an explicit --kv-group wins whatever the order" "kv_group:                4"

# ---- usage errors (exit 2) ----

run
expect_fail "no arguments" 2 "nothing to do"
run --foo
expect_fail "unknown option" 2 "unknown option '--foo' (see llamagen --help)"
run info --config 260k --bogus=3
expect_fail "unknown option with =value" 2 "unknown option '--bogus'"
run frobnicate
expect_fail "unknown command" 2 "unknown command 'frobnicate'"
run info --config
expect_fail "missing option value" 2 "option '--config' needs a value"
run --config 260k --dim -o "$tmp/novalue"
expect_fail "an option where a value belongs" 2 "option '--dim' needs a value (found option '-o')"
[ ! -e "$tmp/novalue" ] || not_ok "an option where a value belongs: wrote $tmp/novalue"
run info --config 260k --lanes --seq-len=8
expect_fail "an option=value where a value belongs" 2 \
  "option '--lanes' needs a value (found option '--seq-len=8')"
run info --config 260k --dim -5
expect_fail "a negative number is a value, not an option" 1 "--dim: '-5' is not an integer"
if [ $have_model -eq 1 ]; then
  run run --checkpoint "$CKPT" --tokenizer "$TOK" -n 3 -t 0 -i --float
  [ $rc -eq 0 ] && ok "a prompt that looks like an option is still a prompt" ||
    not_ok "a prompt that looks like an option is still a prompt" "rc $rc: $(cat "$tmp/err")"
fi
run list --dim 4
expect_fail "option that does not apply to the command" 2 "'--dim' does not apply to 'list'"
run info
expect_fail "info without a config" 2 "info needs --config NAME or --checkpoint F"
run info --config 260k stray
expect_fail "stray argument" 2 "unexpected argument 'stray'"
run run --tokenizer y.bin
expect_fail "run without --checkpoint" 2 "run needs --checkpoint F"
run eval
expect_fail "eval without --checkpoint" 2 "eval needs --checkpoint F"
run eval --checkpoint x.bin --steps 5 --tokens t.txt
expect_fail "eval with both --steps and --tokens" 2 "not both"
run eval --checkpoint x.bin --steps 0
expect_fail "eval --steps 0" 2 "option '--steps': '0'"
run run --float --checkpoint x.bin
expect_fail "run without --tokenizer" 2 "run needs --tokenizer T"
run run --float --checkpoint x.bin --tokenizer y.bin -t hot
expect_fail "bad temperature" 2 "option '-t': 'hot'"
# the integer model reads -t digit by digit: an exponent or hex form meant
# another temperature to it than to the float model (1e-3: T 1, not 0.001)
for t in 1e-3 0x10 " 1" 1.2.3 . inf; do
  run run --checkpoint x.bin --tokenizer y.bin -t "$t"
  expect_fail "-t '$t' is not a plain decimal" 2 "option '-t': '$t' is not a temperature"
done
run run --float --checkpoint x.bin --tokenizer y.bin -n -5
expect_fail "negative steps" 2 "option '-n': '-5'"
run run --float=yes --checkpoint x.bin --tokenizer y.bin
expect_fail "flag given a value" 2 "option '--float' takes no value"
run --config 260k -o ""
expect_fail "-o with an empty name: a usage error, as --config ''" 2 "option '-o' needs a value, not an empty string"
run --help=1
expect_fail "--help given a value" 2 "option '--help' takes no value"
# an option given twice: which one wins is not guessed
run --config 260k --config 15m -o "$tmp/twice"
expect_fail "--config given twice" 2 "option '--config' given twice"
run --config 260k -o "$tmp/twice_a" -o "$tmp/twice_b"
expect_fail "-o given twice" 2 "option '-o' given twice"
run info --config 260k --lanes 4 --lanes=8
expect_fail "an override given twice" 2 "option '--lanes' given twice"
[ ! -e "$tmp/twice" ] && [ ! -e "$tmp/twice_a" ] && [ ! -e "$tmp/twice_b" ] &&
  ok "options given twice write nothing" || not_ok "options given twice write nothing" "$(ls "$tmp")"
run --config 260k
expect_fail "emit form without -o" 2 "the emit form needs -o DIR"
for opt in --checkpoint --config; do
  run info "$opt" ""
  expect_fail "empty $opt value" 2 "option '$opt' needs a value, not an empty string"
done
run run --checkpoint x.bin --tokenizer=
expect_fail "empty --tokenizer value" 2 "option '--tokenizer' needs a value, not an empty string"
run -o "$tmp/x"
expect_fail "emit form without a config" 2 "nothing to emit"

# ---- runtime errors (exit 1) ----

run info --config nope
expect_fail "unknown config" 1 "unknown config 'nope'"
run info --config 260k --lanes 65
expect_fail "invalid config" 1 "lanes = 65 must be"
run info --config 260k --kv-ports 3
expect_fail "--kv-ports 3" 1 "kv_ports = 3 must be 1 (single-port K/V RAM) or 2"
run info --config 260k --lanes 4 --vec-lanes 8
expect_fail "--vec-lanes above lanes" 1 "vec_lanes = 8 must be a power of two <= min(lanes, 16) = 4"
run info --config 260k --embed-stream yes
expect_fail "--embed-stream takes 0 or 1" 1 "--embed-stream: 'yes' is not 0 or 1"
run info --config 260k --vocab-size 1
expect_fail "a one-token vocabulary (no BOS) is refused" 1 "vocab_size = 1 must be at least 2"
run info --config 260k --lanes " 4"
expect_fail "leading white space in an override value" 1 "--lanes: ' 4' is not an integer"
run info --config 260k --dim 99999999999
expect_fail "overflowing override" 1 "--dim: '99999999999' is not an integer"
run info --checkpoint "$tmp/absent.bin"
expect_fail "missing checkpoint file" 1 "$tmp/absent.bin"
run run --float --checkpoint "$tmp/absent.bin" --tokenizer "$tmp/absent.tok"
expect_fail "run with a missing checkpoint file" 1 "$tmp/absent.bin"

# A checkpoint whose header is consistent with its (sparse, 4 GiB) size but
# over the config's limits (vocab 2^24) is refused from its header, before
# any weight is allocated or read (it took 42 s and 4.2 GB before): info,
# eval and emission, each under a 1 GiB address-space limit (not under the
# sanitizers, which reserve more).
vlimit=1048576 # KiB of address space (the sanitizers reserve more)
ldd "$CLI" 2>/dev/null | grep -q 'libasan' && vlimit=unlimited
printf '\x40\0\0\0\x02\0\0\0\x01\0\0\0\x02\0\0\0\x02\0\0\0\0\0\0\x01\x01\0\0\0' >"$tmp/huge.bin"
run info --checkpoint "$tmp/huge.bin"
huge_bytes=$(sed -n 's/.*header implies \([0-9]*\) bytes.*/\1/p' "$tmp/err")
if [ -n "$huge_bytes" ] && truncate -s "$huge_bytes" "$tmp/huge.bin" 2>/dev/null; then
  for cmd in "info" "eval" "emit"; do
    if [ "$cmd" = emit ]; then set -- -o "$tmp/huge_out"; else set -- "$cmd"; fi
    (ulimit -v $vlimit && exec "$CLI" "$@" --checkpoint "$tmp/huge.bin") >"$tmp/out" 2>"$tmp/err"
    rc=$?
    expect_fail "$cmd: an over-limit checkpoint refused from its header" 1 \
      "vocab_size = 16777216 exceeds the limit"
  done
  [ ! -e "$tmp/huge_out" ] || not_ok "emit: an over-limit checkpoint wrote $tmp/huge_out"
  rm -f "$tmp/huge.bin"
else
  not_ok "the over-limit checkpoint fixture: no size in '$(cat "$tmp/err")'"
fi

# a model whose in-memory quantization would not fit the memory the process
# may use (here a 1 GiB address-space limit; TinyLlama needs ~7 GB) is
# refused in one line before anything is allocated or written
if [ "$vlimit" != unlimited ]; then
  (ulimit -v $vlimit && exec "$CLI" --config tinyllama-1.1b -o "$tmp/tl_out") >"$tmp/out" 2>"$tmp/err"
  rc=$?
  expect_fail "tinyllama-1.1b under a 1 GiB address-space limit: refused" 1 \
    "tinyllama-1.1b needs ~7.1 GB of memory" "address-space limit, 1.1 GB"
  [ ! -e "$tmp/tl_out" ] || not_ok "the refused tinyllama emission wrote $tmp/tl_out"
fi

# emission refuses a K/V cache past its on-chip limit (1 GiB), before
# calibrating (whose float caches once took seq_len positions: 38 GiB)
run --config 15m --seq-len 1048576 -o "$tmp/kv_out"
expect_fail "a K/V cache past the on-chip limit" 1 "has a 3.45 GiB K/V cache" "up to 1 GiB"
[ ! -e "$tmp/kv_out" ] || not_ok "a K/V cache past the limit: wrote $tmp/kv_out"
run info --config 15m --seq-len 1048576
expect_ok "info says a K/V cache past the limit is not emitted" "not emitted: past the on-chip K/V limit"
# under it, a long context costs calibration only the positions it runs: 260k
# at seq_len 2^20 (a 1.3 GiB float K/V cache once) within 1 GiB of address space
(ulimit -v $vlimit && exec "$CLI" --config 260k --seq-len 1048576 -o "$tmp/long_ctx") \
  >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && [ -s "$tmp/long_ctx/manifest.json" ] &&
  ok "a 2^20 context emits within 1 GiB of address space" ||
  not_ok "a 2^20 context emits within 1 GiB of address space" "rc $rc: $(cat "$tmp/err")"
rm -rf "$tmp/long_ctx"

if [ $have_model -eq 1 ]; then
  head -c 1000 "$CKPT" >"$tmp/trunc.bin"
  run info --checkpoint "$tmp/trunc.bin"
  expect_fail "truncated checkpoint" 1 "$tmp/trunc.bin"
  head -c 20 "$CKPT" >"$tmp/trunc20.bin"
  run run --float --checkpoint "$tmp/trunc20.bin" --tokenizer "$TOK"
  expect_fail "checkpoint cut inside its header" 1 "$tmp/trunc20.bin" "truncated"
  run info --config 15m --checkpoint "$CKPT"
  expect_fail "checkpoint disagreeing with --config" 1 "dim = 64 but config '15m' has dim = 288"
  run info --checkpoint "$CKPT" --n-kv-heads 8
  expect_fail "override disagreeing with the checkpoint" 1 "--n-kv-heads 8 disagrees with checkpoint"
  run info --config 260k --checkpoint "$CKPT" --seq-len 256
  expect_ok "checkpoint with its preset and a shorter context" "seq_len:                 256" "260032"
  # a well-formed tokenizer.bin with 3 tokens (max_len 1; score 0.0, len 1, byte)
  printf '\x01\x00\x00\x00' >"$tmp/tok3.bin"
  for c in a b c; do printf '\x00\x00\x00\x00\x01\x00\x00\x00%s' "$c" >>"$tmp/tok3.bin"; done
  run run --float --checkpoint "$CKPT" --tokenizer "$tmp/tok3.bin"
  expect_fail "tokenizer with the wrong vocabulary size" 1 "$tmp/tok3.bin" "3 tokens" "512"
  run run --float --checkpoint "$CKPT" --tokenizer "$tmp/absent.tok"
  expect_fail "missing tokenizer file" 1 "$tmp/absent.tok"
else
  for n in "truncated checkpoint" "checkpoint disagreeing with --config" \
    "tokenizer with the wrong vocabulary size" "missing tokenizer file"; do
    skip "$n" "$CKPT or $TOK absent (there is no synthetic checkpoint writer in the CLI)"
  done
fi

# ---- output directory rules (emit form) ----

echo "a file" >"$tmp/plainfile"
run --config 260k -o "$tmp/plainfile/out"
expect_fail "unwritable output dir (under a regular file)" 1 "$tmp/plainfile/out" "Not a directory"
run --config 260k -o "$tmp/plainfile"
expect_fail "output path is a regular file" 1 "$tmp/plainfile" "not a directory"

mkdir -p "$tmp/other/sub" && echo keep >"$tmp/other/notes.txt" && echo deeper >"$tmp/other/sub/x"
before=$(snapshot "$tmp/other")
run --config 260k -o "$tmp/other"
expect_fail "output dir holding other files is refused" 1 \
  "output directory $tmp/other holds other files; refusing to overwrite"
if [ "$before" = "$(snapshot "$tmp/other")" ]; then ok "refused output dir is untouched"; else
  not_ok "refused output dir is untouched"; fi

mkdir -p "$tmp/wrongmanifest" && echo '{"generator": "someone-else"}' >"$tmp/wrongmanifest/manifest.json"
run --config 260k -o "$tmp/wrongmanifest"
expect_fail "a foreign manifest.json is refused" 1 "holds other files"

# An acceptable DIR gets the whole decoder, written beside DIR and renamed.
run --config 260k -o "$tmp/new/deeper/out"
if [ $rc -eq 0 ] && [ -s "$tmp/new/deeper/out/manifest.json" ] && [ -s "$tmp/new/deeper/out/files.f" ] &&
  no_leftovers "$tmp/new/deeper"; then ok "emit into a new nested dir"; else
  not_ok "emit into a new nested dir" "rc $rc: $(cat "$tmp/err")" "$(ls -a "$tmp/new/deeper" 2>&1)"; fi
missing=0
while read -r f; do [ -s "$tmp/new/deeper/out/$f" ] || missing=$((missing + 1)); done <"$tmp/new/deeper/out/files.f"
nfiles=$(wc -l <"$tmp/new/deeper/out/files.f")
if [ "$missing" -eq 0 ] && [ "$nfiles" -ge 10 ]; then ok "files.f lists $nfiles emitted modules, all present"; else
  not_ok "files.f lists emitted modules, all present" "$missing of $nfiles missing"; fi
if grep -q '"name": "260k"' "$tmp/new/deeper/out/manifest.json" &&
  ! grep -qE '^\s*(real|realtime|shortreal)\s|\$(bitstoreal|realtobits|itor|rtoi)' "$tmp/new/deeper/out"/*.v; then
  ok "manifest names the config; no real in the RTL"
else not_ok "manifest names the config; no real in the RTL"; fi
# info prints the emitted decoder's cycle model: the manifest's figures
c0=$(sed -n 's/.*"expected_cycles_per_token": {"pos0": \([0-9]*\), "last_pos": \([0-9]*\).*/\1 \2/p' \
  "$tmp/new/deeper/out/manifest.json")
run info --config 260k
got=$(sed -n 's/^cycles per token: *\([0-9]*\) at pos 0, \([0-9]*\) at pos 511 .*/\1 \2/p' "$tmp/out")
if [ $rc -eq 0 ] && [ -n "$c0" ] && [ "$got" = "$c0" ] && grep -q "^lane utilization: *0\.9" "$tmp/out" &&
  ! grep -q "not emitted" "$tmp/out"; then
  ok "info prints the manifest's cycles per token ($got) and the lane utilization"
else not_ok "info's cycles per token" "info '$got', manifest '$c0'"; fi
first=$(snapshot "$tmp/new/deeper/out")
run --config 260k -o "$tmp/new/deeper/out"
if [ $rc -eq 0 ] && [ "$first" = "$(snapshot "$tmp/new/deeper/out")" ]; then
  ok "re-emitting replaces the output byte for byte"
else not_ok "re-emitting replaces the output byte for byte" "rc $rc"; fi

mkdir "$tmp/empty"
run --config 260k --lanes 4 -o "$tmp/empty/"
if [ $rc -eq 0 ] && [ -s "$tmp/empty/manifest.json" ] && no_leftovers "$tmp"; then
  ok "an empty output dir is filled"
else not_ok "an empty output dir is filled" "rc $rc: $(cat "$tmp/err")"; fi
if ! cmp -s "$tmp/empty/manifest.json" "$tmp/new/deeper/out/manifest.json"; then
  ok "--lanes changes the output"
else not_ok "--lanes changes the output"; fi
run --config 260k --lanes 4 --embed-stream 1 --kv-ports 1 --vec-lanes 1 -o "$tmp/small"
if [ $rc -eq 0 ] && ! ls "$tmp/small"/*_emb.hex >/dev/null 2>&1 &&
  grep -q "lg_embstream.v" "$tmp/small"/*_embed.v && grep -q '"embed_stream": true' "$tmp/small/manifest.json" &&
  grep -q '"kv_ports": 1' "$tmp/small/manifest.json" && grep -q '"vec_lanes": 1' "$tmp/small/manifest.json" &&
  ls "$tmp/small"/*_emb.hex 2>/dev/null | wc -l | grep -q '^0$'; then
  ok "--embed-stream 1: no embedding ROM image, lg_embstream, manifest says so"
else not_ok "--embed-stream 1 emission" "rc $rc: $(cat "$tmp/err")" "$(ls "$tmp/small" 2>&1 | head)"; fi
run --config 260k --lanes 4 --seq-len 256 --kv-ports 1 --vec-lanes 1 --embed-stream 1 --mul-share 1 -o "$tmp/lean"
if [ $rc -eq 0 ] && grep -q '"mul_share": true' "$tmp/lean/manifest.json" &&
  grep -q "K and V exponents (all layers; in the mantissa RAMs' spare words)" "$tmp/lean/manifest.json" &&
  grep -q "lean form" "$tmp/lean"/*_attention.v && ! ls "$tmp/lean"/*_rsqrt.v >/dev/null 2>&1 &&
  ! ls "$tmp/lean"/*_recip.v >/dev/null 2>&1 && ! ls "$tmp/lean"/*[0-9a-f]_exp2.v >/dev/null 2>&1 &&
  [ "$(grep -c . "$tmp/lean/files.f")" -eq "$(ls "$tmp/lean"/*.v | wc -l)" ] &&
  ! ls "$tmp/lean"/lg_*_lut.hex >/dev/null 2>&1 &&
  lean_imgs=$(sed -n 's/.*\$readmemh(\([A-Z_]*\).*/\1/p' "$tmp/lean"/*.v | sort -u) &&
  [ -n "$lean_imgs" ] &&
  [ -z "$(for f in $lean_imgs; do
    img=$(sed -n "s/.*parameter $f = \"\([^\"]*\)\".*/\1/p" "$tmp/lean"/*.v | head -1)
    [ -n "$img" ] && [ -f "$tmp/lean/$img" ] || echo "$f=$img"; done | tee "$tmp/err")" ]; then
  ok "--mul-share 1: lean units, K/V exponents in the SPRAM spare words, no unused rsqrt / reciprocal / exp2 module or table image, every \$readmemh image present, files.f lists every module"
else not_ok "--mul-share 1 emission" "rc $rc: $(cat "$tmp/err")" "$(ls "$tmp/lean" 2>&1 | head -40)"; fi
# --ext-weights 1: the top brings the weight stream out; the image is
# weights.bin (beats of ceil(WL_DW / 8) bytes, least significant first), the
# same beats as the on-chip form's weights.hex, and no weight memory
run --config 260k --lanes 4 -o "$tmp/rom4"
run --config 260k --lanes 4 --ext-weights 1 -o "$tmp/ext4"
if [ $rc -eq 0 ] && grep -q '"ext_weights": 1' "$tmp/ext4/manifest.json" &&
  ! ls "$tmp/ext4"/*_wmem.v "$tmp/ext4"/*_weights.hex >/dev/null 2>&1 &&
  grep -q 'm_wreq_valid' "$tmp/ext4"/*_top.v && ! grep -q 'wl_we' "$tmp/ext4"/*_top.v &&
  grep -q '"name": "s_w_data", "dir": "input", "width": 36' "$tmp/ext4/manifest.json" &&
  [ "$(grep -c . "$tmp/ext4/files.f")" -eq "$(ls "$tmp/ext4"/*.v | wc -l)" ] &&
  python3 - "$tmp/rom4" "$tmp/ext4" >"$tmp/err" 2>&1 <<'PY'
import glob, json, sys
rom, ext = sys.argv[1], sys.argv[2]
man = json.load(open(ext + "/manifest.json"))
hw = man["hardware"]
nb, bb, bits = hw["weight_beats_per_token"], hw["weight_beat_bytes"], hw["weight_beat_bits"]
data = open(glob.glob(ext + "/*_weights.bin")[0], "rb").read()
assert len(data) == nb * bb == hw["weight_bytes_per_token"], (len(data), nb, bb)
lines = [l for l in open(glob.glob(rom + "/*_weights.hex")[0]) if not l.startswith("//")]
assert len(lines) == nb, (len(lines), nb)
for b, l in enumerate(lines):
    v = int.from_bytes(data[b * bb:(b + 1) * bb], "little")
    assert v == int(l, 16) and v >> bits == 0, ("beat", b)
mem = [m for m in man["memories"] if m["owner"] == "external"]
assert len(mem) == 1 and mem[0]["depth"] == nb and mem[0]["image"].endswith("_weights.bin")
PY
then
  ok "--ext-weights 1: weights.bin holds the on-chip form's beats ($(stat -c %s "$tmp/ext4"/*_weights.bin) bytes), no weight memory, the top's w_* ports in the manifest"
else not_ok "--ext-weights 1 emission" "rc $rc: $(cat "$tmp/err")" "$(ls "$tmp/ext4" 2>&1 | head)"; fi
# the regenerate command in the banners is this command line, a path with a
# space or a quote quoted for the shell (it runs as written: same manifest)
mkdir -p "$tmp/sp ace"
run --config 260k --lanes 4 --ext-weights 1 -o "$tmp/sp ace/it's"
if [ $rc -eq 0 ] && regen=$(sed -n 5p "$tmp/sp ace/it's/README.md") &&
  [ "${regen#*--lanes 4 --ext-weights 1 -o }" != "$regen" ] &&
  (eval "${regen/-o*/-o \"\$tmp/regen\"}" >/dev/null 2>&1) &&
  python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); sys.exit(m["command"] != sys.argv[2].strip())' \
    "$tmp/sp ace/it's/manifest.json" "$regen" &&
  cmp -s "$tmp/sp ace/it's"/*_weights.bin "$tmp/regen"/*_weights.bin; then
  ok "the banners' regenerate command is the command line, quoted for the shell"
else not_ok "regenerate command" "rc $rc: $(cat "$tmp/err")" "${regen:-}"; fi
# --ext-weights 2: the same image, and the AXI4 reader in the top (files.f
# lists it before the top), its AXI ports in the manifest at the default
# width (the 36-bit beat's power of two: 64)
run --config 260k --lanes 4 --ext-weights 2 -o "$tmp/axi4"
if [ $rc -eq 0 ] && grep -q '"ext_weights": 2' "$tmp/axi4/manifest.json" &&
  cmp -s "$tmp/ext4"/*_weights.bin "$tmp/axi4"/*_weights.bin &&
  ! ls "$tmp/axi4"/*_wmem.v "$tmp/axi4"/*_weights.hex >/dev/null 2>&1 &&
  [ "$(tail -n 2 "$tmp/axi4/files.f" | sed 's/.*_//' | tr '\n' ' ')" = "wreader.v top.v " ] &&
  grep -q '"name": "m_axi_rdata", "dir": "input", "width": 64' "$tmp/axi4/manifest.json" &&
  grep -q 'parameter AXI_DW = 64' "$tmp/axi4"/*_top.v && grep -q 'AXI4' "$tmp/axi4/README.md" &&
  python3 - "$tmp/axi4" >"$tmp/err" 2>&1 <<'PY'
import glob, json, re, sys
d = sys.argv[1]
hw = json.load(open(d + "/manifest.json"))["hardware"]
axi, n = hw["axi"], hw["weight_bytes_per_token"]
assert axi["data_width"] == 64 and axi["image_words_per_token"] == -(-n // 8), axi
# the defaults the manifest states are the ones in the top and the reader,
# and the ones the emitted README gives
pv = (("AXI_AW", axi["addr_width"]), ("AXI_DW", axi["data_width"]),
      ("MAX_BURST", axi["max_burst"]), ("MAX_OUTSTANDING", axi["max_outstanding"]))
for f in glob.glob(d + "/*_top.v") + glob.glob(d + "/*_axi_wreader.v"):
    t = open(f).read()
    for k, v in pv:
        assert re.search(r"parameter %s = %d\b" % (k, v), t), (f, k)
readme = open(d + "/README.md").read()
for k, v in pv:
    assert "%s (%d)" % (k, v) in readme, ("README", k)
PY
then
  ok "--ext-weights 2: the same weights.bin, the AXI4 reader before the top, 64-bit AXI by default"
else not_ok "--ext-weights 2 emission" "rc $rc: $(cat "$tmp/err")" "$(cat "$tmp/axi4/files.f" 2>&1 | tail -3)"; fi
# the lean sampler sums p in 32 bits: vocab above 32768 is refused up front
run --config 260k --mul-share 1 --vocab-size 40000 -o "$tmp/lean40k"
expect_fail "--mul-share 1 with vocab 40000 is refused" 1 "vocab = 40000" "32768"
if [ -e "$tmp/lean40k" ]; then not_ok "refused lean emission left $tmp/lean40k"; fi
# one exponent per element: the lean cache keeps exponent RAMs of its own
run --config 260k --mul-share 1 --kv-ports 1 --kv-group 1 --seq-len 32 -o "$tmp/lean1"
if [ $rc -eq 0 ] && grep -q '"K and V exponent RAMs (all layers)"' "$tmp/lean1/manifest.json"; then
  ok "--mul-share 1 --kv-group 1: the manifest lists exponent RAMs of their own"
else not_ok "--mul-share 1 --kv-group 1 manifest" "rc $rc: $(cat "$tmp/err")"; fi
# the mat-vec's serial output stage (--mul-share) needs the dim and hidden
# rows to share its step count (48 up to 1024 inputs): 64 and 172 do (the
# iCEBreaker build), 64 and 1100 do not, and there the engine keeps its
# one-cycle shifter
run --config 260k --lanes 2 --mul-share 1 -o "$tmp/ser"
run_ser=$rc
run --config 260k --lanes 2 --hidden-dim 1100 --mul-share 1 -o "$tmp/par"
if [ $run_ser -eq 0 ] && [ $rc -eq 0 ] &&
  grep -q "parameter OUT_SERIAL = 1" "$tmp/ser"/*_matvec.v &&
  grep -q "parameter OUT_SERIAL = 0" "$tmp/par"/*_matvec.v; then
  ok "--mul-share 1: serial mat-vec output stage when both row lengths allow it, else the barrel shifter"
else not_ok "--mul-share 1 mat-vec output stage" "rc $run_ser/$rc: $(cat "$tmp/err")"; fi
# mk_tiny FILE KIND: a tiny v0 checkpoint (dim 8, hidden 16, 1 layer, 2
# heads, vocab 10, seq_len 4), every weight 0.01, except by KIND: unshared
# (its own classifier, negative vocab_size), tinyw (Wq all 1e-41), huge (w1
# and w3 all 3.4e38), ok (none)
mk_tiny() {
  python3 -c "
import struct, sys
d, h, L, H, K, V, S = 8, 16, 1, 2, 2, 10, 4
hs, kind = d // H, sys.argv[2]
n = V*d + L*d + L*d*d + 2*L*d*K*hs + L*d*d + L*d + 3*L*d*h + d + S*hs + (V*d if kind == 'unshared' else 0)
w = [0.01] * n
if kind == 'tinyw':
    w[V*d + L*d:V*d + L*d + d*d] = [1e-41] * (d*d)
if kind == 'huge':
    o = V*d + L*d + L*d*d + 2*L*d*K*hs + L*d*d + L*d  # w1, then w2, w3
    w[o:o + L*d*h] = [3.4e38] * (L*d*h)
    o += 2*L*d*h
    w[o:o + L*d*h] = [3.4e38] * (L*d*h)
open(sys.argv[1], 'wb').write(struct.pack('7i', d, h, L, H, K, -V if kind == 'unshared' else V, S) + struct.pack('%df' % n, *w))
" "$1" "$2"
}

# the unshared classifier: the embedding rows are not in the weight stream,
# so --embed-stream is refused
mk_tiny "$tmp/unshared.bin" unshared
run --checkpoint "$tmp/unshared.bin" --embed-stream 1 -o "$tmp/unsh"
if [ $rc -eq 1 ] && grep -q "embed_stream needs a shared classifier" "$tmp/err" && [ ! -e "$tmp/unsh" ]; then
  ok "--embed-stream with an unshared classifier: one-line error, no output"
else not_ok "--embed-stream with an unshared classifier" "rc $rc: $(cat "$tmp/err")"; fi

# a checkpoint whose Wq weights are all 1e-41: the mat-vec's 8-bit shift
# cannot reach them; eval (the integer model) and the emitter refuse it in
# the same words (quantize), and nothing is written
mk_tiny "$tmp/tinyw.bin" tinyw
run eval --checkpoint "$tmp/tinyw.bin" --steps 2
expect_fail "eval of weights below the mat-vec's reach is refused" 1 \
  "quantize: wq[0]: its weights are too small" "exponent base -157 must be -127..111"
run --checkpoint "$tmp/tinyw.bin" -o "$tmp/tinyw"
expect_fail "emission of the same weights is refused alike" 1 \
  "quantize: wq[0]: its weights are too small" "exponent base -157 must be -127..111"
[ ! -e "$tmp/tinyw" ] && no_leftovers "$tmp" && ok "the refused emission leaves nothing" ||
  not_ok "the refused emission leaves nothing" "$(ls -a "$tmp")"

# the tiny checkpoint as it is, then with w1 and w3 weights of 3.4e38:
# finite in the file, their products overflow float32, so the float model's
# logits are NaN from position 0; eval, run --float and the K
# calibration (run, emit) refuse it in one line instead of taking the argmax
# of NaN (eval printed "mean |logit error|: nan" and exit 0)
mk_tiny "$tmp/tiny.bin" ok
mk_tiny "$tmp/huge.bin" huge
run eval --checkpoint "$tmp/huge.bin" --steps 2
expect_fail "eval: float logits that overflow are refused" 1 "the float model's logit 0 is not finite at position 0"
run --checkpoint "$tmp/huge.bin" -o "$tmp/huge"
expect_fail "emission: the K calibration's overflow is refused" 1 "K calibration: the float model's logit"
[ ! -e "$tmp/huge" ] && no_leftovers "$tmp" && ok "the refused emission of overflowing weights leaves nothing" ||
  not_ok "the refused emission of overflowing weights leaves nothing" "$(ls -a "$tmp")"
if [ $have_model -eq 1 ]; then
  # the tiny model's vocabulary is 10: a tokenizer of 10 pieces
  python3 -c "
import struct, sys
out = struct.pack('i', 4)
for i in range(10):
    p = b'<unk>' if i == 0 else (b'<s>' if i == 1 else bytes([96 + i]))
    out += struct.pack('fi', 0.0, len(p)) + p
open(sys.argv[1], 'wb').write(out)
" "$tmp/tok10.bin"
  run run --float --checkpoint "$tmp/huge.bin" --tokenizer "$tmp/tok10.bin" -t 0 -n 3
  expect_fail "run --float: float logits that overflow are refused, nothing on stdout" 1 "is not finite at position 0"
fi

# eval --tokens FILE on the tiny model (vocab 10): a regular file of whole
# words, each an id in 0..9 (a FIFO blocked in open() for ever; a
# 31-character scanf split a longer word into two ids; fscanf's %lld was
# undefined past LLONG_MAX)
mkfifo "$tmp/fifo"
run_t() { timeout 20 "$CLI" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
run_t eval --checkpoint "$tmp/tiny.bin" --tokens "$tmp/fifo"
expect_fail "eval --tokens FIFO: refused, not blocked" 1 "not a regular file"
while IFS='|' read -r name text needle; do
  # shellcheck disable=SC2059
  printf "$text" >"$tmp/toks.txt"
  run_t eval --checkpoint "$tmp/tiny.bin" --tokens "$tmp/toks.txt"
  expect_fail "eval --tokens: $name" 1 "$needle"
done <<'TOKS'
a 38-character word is one (bad) word|1 00000000000000000000000000000000000005\n|is not a token id
a NUL byte in a word is refused|1 2\0003\n|a NUL byte
an out-of-range id|1 2 3\n4 99999\n|token id 99999 outside 0..9
an id past LLONG_MAX|1 2 99999999999999999999\n|token id 99999999999999999999 outside 0..9
a word for an id|1 2 4x\n|'4x' is not a token id
one id only|1\n|needs at least two token ids
a sequence without BOS first|2 3 4\n|starts with token 2, not BOS (1)
TOKS
printf '1 2 3\n' >"$tmp/toks.txt"
run_t eval --checkpoint "$tmp/tiny.bin" --tokens "$tmp/toks.txt"
expect_ok "eval --tokens of a tiny model's ids" "steps:               2"

# stdout that cannot be written (a full disk): exit 1 and one line, for
# every command that prints there, not 0 with the output cut short (eval's
# timing line may come first)
for c in "list" "info --config 260k" "--help" "--version" "eval --checkpoint $tmp/tiny.bin --steps 2"; do
  # shellcheck disable=SC2086
  "$CLI" $c >/dev/full 2>"$tmp/err"
  rc=$?
  if [ $rc -eq 1 ] && [ "$(grep -vc '^eval took' "$tmp/err")" -eq 1 ] &&
    tail -n 1 "$tmp/err" | grep -q "^llamagen: writing the output"; then
    ok "$c to a full disk: exit 1, one line"
  else not_ok "$c to a full disk" "rc $rc: $(head -c 300 "$tmp/err")"; fi
done

# an output name near NAME_MAX (the temporary sibling's name is longer
# than the name: it is cut to fit)
long=$(printf 'd%.0s' $(seq 240))
run --config 260k --n-layers 1 --dim 16 --hidden-dim 32 --n-heads 2 --n-kv-heads 2 --vocab-size 32 \
  --seq-len 8 --lanes 2 -o "$tmp/$long"
if [ $rc -eq 0 ] && [ -s "$tmp/$long/manifest.json" ] && no_leftovers "$tmp"; then
  ok "a 240-character output name is written"
  run --config 260k --n-layers 1 --dim 16 --hidden-dim 32 --n-heads 2 --n-kv-heads 2 --vocab-size 32 \
    --seq-len 8 --lanes 2 -o "$tmp/$long"
  [ $rc -eq 0 ] && no_leftovers "$tmp" && ok "and replaced" || not_ok "a 240-character output name replaced" "rc $rc: $(cat "$tmp/err")"
  rm -rf "${tmp:?}/$long"
else not_ok "a 240-character output name is written" "rc $rc: $(cat "$tmp/err")"; fi

mkdir -p "$tmp/prev/rtl" && printf '{\n  "generator": "llamagen",\n  "config": "260k"\n}\n' \
  >"$tmp/prev/manifest.json" && echo "module x; endmodule" >"$tmp/prev/rtl/x.v"
run --config 260k -o "$tmp/prev"
if [ $rc -eq 0 ] && [ ! -e "$tmp/prev/rtl" ] && [ -s "$tmp/prev/files.f" ] && no_leftovers "$tmp"; then
  ok "previous llamagen output is replaced as a whole"
else not_ok "previous llamagen output is replaced as a whole" "rc $rc: $(cat "$tmp/err")"; fi

# A previous output this user cannot empty (a read-only DIR) is refused
# before anything is written; once it was replaced and its old files left
# beside it under a hidden name, with exit 0. Needs a user without root's
# override: run as nobody when root has setpriv.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
  ro=$(mktemp -d "${TMPDIR:-/tmp}/lgro.XXXXXX") && chmod 755 "$ro" && chown nobody "$ro"
  nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
  if nobody "$CLI" --config 260k -o "$ro/x" >/dev/null 2>&1; then
    # an empty read-only subdirectory goes with its parent's permission
    mkdir "$ro/x/empty" && chown nobody "$ro/x/empty" && chmod 555 "$ro/x/empty"
    nobody "$CLI" --config 260k -o "$ro/x" >"$tmp/out" 2>"$tmp/err" &&
      [ "$(ls -A "$ro")" = x ] && ok "an old output with an empty read-only subdirectory is replaced" ||
      not_ok "an old output with an empty read-only subdirectory is replaced" "$(cat "$tmp/err")"
    chmod 555 "$ro/x"
    nobody "$CLI" --config 260k -o "$ro/x" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    expect_fail "a read-only previous output is refused" 1 \
      "cannot replace output directory $ro/x: $ro/x is not writable"
    [ "$(ls -A "$ro")" = x ] && ok "the refused replacement leaves the old output alone" ||
      not_ok "the refused replacement leaves the old output alone" "$(ls -a "$ro")"
    chmod 755 "$ro/x"
  else
    echo "# skip: nobody cannot run $CLI here (read-only output test)"
  fi
  rm -rf "$ro"
fi

# A 7B model cannot be emitted with on-chip weights: refused up front, with
# no attempt to allocate its weights.
run --config llama2-7b -o "$tmp/big"
expect_fail "llama2-7b emission is refused" 1 "llama2-7b has 6.74 G weights" "quantizes a model in memory, up to 2.15 G weights"
[ ! -e "$tmp/big" ] && no_leftovers "$tmp" && ok "refused 7B emission leaves nothing" ||
  not_ok "refused 7B emission leaves nothing"

# A config the generator refuses must fail before anything is written.
run --config 260k --seq-len 0 -o "$tmp/never"
if [ $rc -ne 0 ] && [ ! -e "$tmp/never" ] && no_leftovers "$tmp"; then
  ok "a refused config leaves no output dir"
else not_ok "a refused config leaves no output dir" "rc $rc"; fi

run --config 260k -o .
expect_fail "-o . is refused" 1 "cannot be replaced"

# An emission stopped by a signal (SIGTERM here; SIGINT and SIGHUP alike)
# removes its temporary directory before it dies: the 15m decoder writes for
# seconds, and the signal comes once its first .hex file is there.
mkdir -p "$tmp/sig"
"$CLI" --config 15m -o "$tmp/sig/out" >/dev/null 2>&1 &
sig_pid=$!
for _ in $(seq 1 600); do
  [ -n "$(find "$tmp/sig" -name '*.hex' 2>/dev/null | head -n 1)" ] && break
  sleep 0.1
done
started=$(find "$tmp/sig" -name '*.hex' 2>/dev/null | head -n 1)
kill -TERM $sig_pid 2>/dev/null
wait $sig_pid
sig_rc=$?
if [ -n "$started" ] && [ $sig_rc -eq 143 ] && [ ! -e "$tmp/sig/out" ] && no_leftovers "$tmp/sig"; then
  ok "an emission stopped by SIGTERM leaves nothing (exit 143)"
else
  not_ok "an emission stopped by SIGTERM leaves nothing" "rc $sig_rc, started '$started'" "$(ls -a "$tmp/sig")"
fi

# A shape the C models take but the RTL templates cannot elaborate (hidden_dim
# 1: a 0-bit hidden buffer address): refused before anything is written,
# naming the field.
small="--hidden-dim 8 --vocab-size 16 --seq-len 8 --n-layers 1"
run --config 260k --hidden-dim 1 -o "$tmp/badshape"
expect_fail "emission refuses --hidden-dim 1" 1 "invalid config for emission" \
  "hidden_dim = 1 must be at least 2"
[ ! -e "$tmp/badshape" ] && no_leftovers "$tmp" && ok "refused shape leaves nothing" ||
  not_ok "refused shape leaves nothing"
# Shapes that were refused once and that the templates take now (their RTL
# lints clean and co-simulates bit-exactly): short vectors with many vector
# lanes (the RMSNorm's sum of squares narrower than a beat of VL squares),
# and heads wider than 8192 bits of attention output (head 256, seq_len 8).
for c in "--dim 16 --n-heads 8 --n-kv-heads 1 $small --vec-lanes 8" \
  "--dim 16 --n-heads 8 --n-kv-heads 1 $small --vec-lanes 4" \
  "--dim 4 --n-heads 2 --n-kv-heads 1 $small --lanes 1" \
  "--dim 4 --n-heads 2 --n-kv-heads 1 $small --lanes 1 --mul-share 1" \
  "--dim 512 --n-heads 2 --n-kv-heads 2 $small"; do
  rm -rf "$tmp/shape"
  run --config 260k $c -o "$tmp/shape"
  if [ $rc -eq 0 ] && ls "$tmp/shape"/*_top.v >/dev/null 2>&1 && [ -s "$tmp/shape/files.f" ]; then
    ok "shape emits: $c"
  else not_ok "shape emits: $c" "rc $rc: $(head -c 300 "$tmp/err")"; fi
done
rm -rf "$tmp/shape"

# ---- run --float with the real model ----

if [ $have_model -eq 1 ]; then
  run run --float --checkpoint "$CKPT" --tokenizer "$TOK" -t 0 -n 40
  if [ $rc -eq 0 ] && head -c 16 "$tmp/out" | grep -qx "Once upon a time"; then
    ok "run --float -t 0 tells the known story"
  else not_ok "run --float -t 0 tells the known story" "rc $rc: $(head -c 200 "$tmp/out" "$tmp/err")"; fi
  if grep -qE '^achieved tok/s: [0-9.]+$' "$tmp/err"; then ok "run reports tok/s on stderr"; else
    not_ok "run reports tok/s on stderr" "$(cat "$tmp/err")"; fi
  text40=$(cat "$tmp/out")

  run run --float --checkpoint "$CKPT" --tokenizer "$TOK" -t 0 -n 40 --tokens
  if [ $rc -eq 0 ] && grep -qE '^403 407 261 378 432 383 286 261 376 298 315 421 395 317 426 338( [0-9]+)*$' "$tmp/out" &&
    [ "$(wc -w <"$tmp/out")" -eq 40 ]; then
    ok "run --tokens -n 40 prints the 40 ids after BOS"
  else not_ok "run --tokens -n 40 prints the 40 ids after BOS" "rc $rc: $(head -c 300 "$tmp/out" "$tmp/err")"; fi

  run run --float --checkpoint "$CKPT" --tokenizer "$TOK" -t 0 -n 20 -i "Once upon a time"
  if [ $rc -eq 0 ] && [ "${text40:0:40}" = "$(head -c 40 "$tmp/out")" ]; then
    ok "a prompt continues the same greedy story"
  else not_ok "a prompt continues the same greedy story" "$(head -c 200 "$tmp/out" "$tmp/err")"; fi

  run run --float --checkpoint "$CKPT" --tokenizer "$TOK" -t 1.0 -s 42 -n 60
  first=$(cat "$tmp/out")
  run run --float --checkpoint "$CKPT" --tokenizer "$TOK" -t 1.0 -s 42 -n 60
  if [ $rc -eq 0 ] && [ -n "$first" ] && [ "$first" = "$(cat "$tmp/out")" ]; then
    ok "sampling with a seed is reproducible"
  else not_ok "sampling with a seed is reproducible"; fi

  run run --float --checkpoint "$CKPT" --tokenizer "$TOK" -t 0 -n 100000 --tokens
  if [ $rc -eq 0 ] && [ "$(wc -w <"$tmp/out")" -le 512 ]; then ok "-n is capped at seq_len"; else
    not_ok "-n is capped at seq_len" "rc $rc, $(wc -w <"$tmp/out") ids"; fi

  # ---- the integer model (default) and eval ----
  run run --checkpoint "$CKPT" --tokenizer "$TOK" -t 0 -n 60 --tokens
  if [ $rc -eq 0 ] && grep -qE '^403 407 261 378 432 383 286 261 376 298 315 421 395 317 426 338( [0-9]+)*$' "$tmp/out"; then
    ok "integer run -t 0 starts with the float model's greedy ids"
  else not_ok "integer run -t 0 starts with the float model's greedy ids" "rc $rc: $(head -c 300 "$tmp/out" "$tmp/err")"; fi
  run run --checkpoint "$CKPT" --tokenizer "$TOK" -t 0.8 -s 7 -n 50 --tokens
  first=$(cat "$tmp/out")
  run run --checkpoint "$CKPT" --tokenizer "$TOK" -t 0.8 -s 7 -n 50 --tokens
  if [ $rc -eq 0 ] && [ -n "$first" ] && [ "$first" = "$(cat "$tmp/out")" ]; then
    ok "integer sampling with a seed is reproducible"
  else not_ok "integer sampling with a seed is reproducible"; fi
  # small seeds start mixed (lg_seed_state): with the seed as the xorshift32
  # state itself, seeds 1 and 2 drew BOS first (no text) and every seed to
  # 30 an id below 280 (never "Once", 403, the float model's usual start);
  # now none of the eight runs is empty and "Once" comes first in some
  firsts=""
  for sd in 1 2 3 4 5 6 7 8; do
    run run --checkpoint "$CKPT" --tokenizer "$TOK" -t 1.0 -s $sd -n 1 --tokens
    firsts="$firsts $(tr -d '\n' <"$tmp/out")"
  done
  if [ "$(echo $firsts | wc -w)" -eq 8 ] && printf '%s\n' $firsts | grep -qx 403; then
    ok "seeds 1 - 8 at T 1 each start a text (first ids:$firsts)"
  else not_ok "seeds 1 - 8 at T 1 each start a text" "first ids:$firsts"; fi
  run eval --checkpoint "$CKPT" --steps 64 --print
  if [ $rc -eq 0 ] && grep -qE '^top-1 agreement: +[0-9]+/64' "$tmp/out" && [ "$(grep -cE '^ +[0-9]+ ' "$tmp/out")" -eq 64 ]; then
    ok "eval --steps 64 --print reports agreement and 64 positions"
  else not_ok "eval --steps 64 --print" "rc $rc: $(head -c 300 "$tmp/out" "$tmp/err")"; fi
  printf '1 403 407 261 378\n' >"$tmp/toks.txt"
  run eval --checkpoint "$CKPT" --tokens "$tmp/toks.txt"
  if [ $rc -eq 0 ] && grep -qE '^steps: +4$' "$tmp/out"; then ok "eval --tokens FILE"; else
    not_ok "eval --tokens FILE" "rc $rc: $(cat "$tmp/out" "$tmp/err")"; fi
else
  skip "run with the real model" "$CKPT or $TOK absent"
fi

echo "cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
