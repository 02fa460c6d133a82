#!/bin/sh
# test_qspi_params.sh RTL: lg_qspi_stream (RTL = its emitted file) rejects
# impossible parameter sets at elaboration with a one-line error naming
# them (Icarus runs the initial-block checks), and accepts the ones the
# benches and the iCEBreaker build use.
set -u
rtl="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
bad=0
# $1 = expect (ok | the error's text), the rest: module parameters NAME=V
check() {
    want="$1"; shift
    ps=""; for p in "$@"; do ps="$ps -Plg_qspi_stream.$p"; done
    n=$((n + 1))
    # shellcheck disable=SC2086
    if ! iverilog -g2005 -o "$tmp/q.vvp" $ps "$rtl" > "$tmp/c.log" 2>&1; then
        echo "not ok - $*: iverilog failed"; cat "$tmp/c.log"; bad=$((bad + 1)); return
    fi
    out=$(vvp -n "$tmp/q.vvp" 2>&1)
    if [ "$want" = ok ]; then
        if echo "$out" | grep -q "Error:"; then
            echo "not ok - $*: rejected: $out"; bad=$((bad + 1))
        else
            echo "ok - $*: accepted"
        fi
    elif echo "$out" | grep -q "Error: $want"; then
        echo "ok - $*: $(echo "$out" | sed -n 's/.*\(Error: .*\)/\1/p' | head -n 1)"
    else
        echo "not ok - $*: want 'Error: $want', got: $out"; bad=$((bad + 1))
    fi
}
check ok SCK_DDR=0 IN_LAT=0
check ok SCK_DDR=1 IN_LAT=1 LANES=64
check ok SCK_DDR=1 IN_LAT=2 LANES=2
check "SCK_DDR must be 0 or 1, and needs IN_LAT >= 1" SCK_DDR=1 IN_LAT=0
check "SCK_DDR must be 0 or 1, and needs IN_LAT >= 1" SCK_DDR=2 IN_LAT=2
check "IN_LAT must be 0..2" IN_LAT=3
check "LANES must be a power of two" LANES=3
check ok MARKS=1 SCK_DDR=1 IN_LAT=2 LANES=2
check "MARKS must be 0 or 1, and needs 2 <= LANES <= GROUP" MARKS=1 LANES=1
check "MARKS must be 0 or 1, and needs 2 <= LANES <= GROUP" MARKS=1 LANES=64
check "MARKS must be 0 or 1, and needs 2 <= LANES <= GROUP" MARKS=2 LANES=4
check ok MARKS=1 BOOT_CHECK=1 SCK_DDR=1 IN_LAT=2 LANES=2
check "BOOT_CHECK must be 0 or 1, and needs MARKS = 1" BOOT_CHECK=1 LANES=2
check "BOOT_CHECK must be 0 or 1, and needs MARKS = 1" MARKS=1 BOOT_CHECK=2 LANES=2
# MARKS_LEAD: beat 0's mark below the marks a token has room for (DEPTH 64,
# 16 beats a group at lanes 2: 4)
check ok MARKS=1 LANES=2 MARKS_LEAD=3
check "MARKS_LEAD must be 0, or with MARKS = 1 below DEPTH / (GROUP / LANES)" MARKS=1 LANES=2 MARKS_LEAD=4
check "MARKS_LEAD must be 0, or with MARKS = 1 below DEPTH / (GROUP / LANES)" LANES=2 MARKS_LEAD=1
check "MARKS_LEAD must be 0, or with MARKS = 1 below DEPTH / (GROUP / LANES)" MARKS=1 LANES=2 MARKS_LEAD=-1
if [ "$bad" -eq 0 ]; then
    echo "test_qspi_params: PASS ($n cases)"
else
    echo "test_qspi_params: FAIL ($bad of $n)"; exit 1
fi
