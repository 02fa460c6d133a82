#!/usr/bin/env bash
# sweep_configs.sh: random small configurations through the whole chain, to
# find shapes the fixed test designs miss (make sweep-configs; long, not in
# make test).
#   tools/sweep_configs.sh N SEED NSIM OUT
# Draws N configurations (--config 260k plus random shape and hardware
# overrides, seeded by SEED) and for each:
#   - emits it with build/llamagen into OUT/cI: a refusal must be one line
#     "llamagen: ..." with exit 1 (head size 3, say) and leave no OUT/cI;
#   - lints every emitted file (tools/lint_rtl.sh --coarse);
# then co-simulates the first NSIM accepted ones (make's SIM_SYN machinery:
# build/dec/s_swI/tb) for 2 tokens at T 0.8 with the error sequences
# (bit-exact) and teacher-forced to seq_len against the cycle model
# (reported, not judged: the lean terms are up to 0.9 % off on dim 2 - 4).
# Prints one line per configuration and a summary; exit 1 if any
# configuration failed. Found so far: a backwards K/V bank address at 2
# mantissa words (da4334a), a yosys coarse-netlist artifact (cd979f6).
set -u
n=${1:-20}
seed=${2:-1}
nsim=${3:-4}
out=${4:-build/sweep}
cli=${LLAMAGEN:-build/llamagen}
mkdir -p "$out"
fails=0
accepted=()

mapfile -t cfgs < <(python3 - "$seed" "$n" <<'PY'
import random, sys
rng = random.Random(int(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    while True:
        nh = rng.choice([1, 2, 3, 4, 5, 6, 8, 16])
        hs = rng.choice([2, 2, 3, 4, 4, 6, 8, 10, 12, 16, 32])  # 3: refused (RoPE pairs)
        if 4 <= nh * hs <= 128:
            break
    dim = nh * hs
    lanes = rng.choice([1, 2, 4, 8, 16, 32, 64])
    c = {
        "dim": dim,
        "hidden-dim": rng.choice([rng.randint(2, 300), rng.randint(dim, 3 * dim), 2 * dim + 3]),
        "n-layers": rng.choice([1, 2]),
        "n-heads": nh,
        "n-kv-heads": rng.choice([d for d in range(1, nh + 1) if nh % d == 0]),
        "vocab-size": rng.choice([3, rng.randint(3, 60), rng.randint(3, 300)]),
        "seq-len": rng.randint(2, 40),
        "lanes": lanes,
        "vec-lanes": rng.choice([v for v in (1, 2, 4, 8, 16) if v <= min(lanes, 16)]),
        "group-size": rng.choice([4, 8, 16, 32, 64, 128, 256]),
        "kv-bits": rng.choice([4, 5, 8, 11, 16]),
        "kv-group": rng.choice([d for d in range(1, hs + 1) if hs % d == 0]),
        "kv-ports": rng.choice([1, 2]),
        "embed-stream": rng.choice([0, 1]),
        "mul-share": rng.choice([0, 1]),
        "ext-weights": rng.choice([0, 1, 2]),
    }
    print(" ".join(f"{k}={v}" for k, v in c.items()))
PY
)

opts() { local a r=""; for a in $1; do r="$r --${a%%=*} ${a#*=}"; done; echo "$r"; }
plus() { local a r=""; for a in $1; do r="$r +$a"; done; echo "$r"; }

for i in "${!cfgs[@]}"; do
  c=${cfgs[$i]}
  d=$out/c$i
  rm -rf "$d"
  # shellcheck disable=SC2046
  "$cli" --config 260k $(opts "$c") -o "$d" >/dev/null 2>"$out/c$i.err"
  rc=$?
  if [ $rc -ne 0 ]; then
    if [ $rc -eq 1 ] && [ "$(wc -l <"$out/c$i.err")" -eq 1 ] && grep -q '^llamagen: ' "$out/c$i.err" &&
      [ ! -e "$d" ]; then
      echo "c$i refused: $(cut -c 11- "$out/c$i.err")  [$c]"
    else
      echo "c$i FAIL: emission exit $rc: $(head -c 300 "$out/c$i.err")  [$c]"
      fails=$((fails + 1))
    fi
    continue
  fi
  # shellcheck disable=SC2046
  if (cd "$d" && "$OLDPWD/tools/lint_rtl.sh" --coarse $(cat files.f)) >"$out/c$i.lint" 2>&1; then
    echo "c$i lint ok  [$c]"
    accepted+=("$i")
  else
    echo "c$i FAIL: lint: $(grep -m 3 -E 'FAIL|rror' "$out/c$i.lint" | tr '\n' ' ')  [$c]"
    fails=$((fails + 1))
  fi
done

sims=("${accepted[@]:0:$nsim}")
for i in "${sims[@]}"; do
  c=${cfgs[$i]}
  tb=build/dec/s_sw$i/tb
  if ! make -s SIM_SYN="sw$i" SIM_sw$i="$c" "$tb" >"$out/c$i.build" 2>&1; then
    echo "c$i FAIL: the co-simulation did not build: $(tail -n 3 "$out/c$i.build" | tr '\n' ' ')"
    fails=$((fails + 1))
    continue
  fi
  p="+dir=$(pwd)/build/dec/s_sw$i/rtl +config=260k $(plus "$c")"
  # shellcheck disable=SC2086
  if $tb $p +n=2 +temp=0.8 +seed=5 +errtest +quiet >"$out/c$i.sim" 2>&1; then
    # shellcheck disable=SC2086
    $tb $p +teacher=1000000 +n=0 +stall=0 +quiet +model=100 >"$out/c$i.model" 2>&1
    echo "c$i co-simulation bit-exact; $(grep -m 1 'cycle model' "$out/c$i.model" || echo 'cycle model: (one position)')"
  else
    echo "c$i FAIL: co-simulation: $(grep -m 3 -iE 'mismatch|FAIL|error' "$out/c$i.sim" | tr '\n' ' ')"
    fails=$((fails + 1))
  fi
done

echo "sweep-configs: $n drawn (seed $seed), ${#accepted[@]} emitted and lint-clean, ${#sims[@]} co-simulated, $fails failed"
[ $fails -eq 0 ]
