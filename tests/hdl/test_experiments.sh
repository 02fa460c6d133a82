#!/bin/sh
# test_experiments.sh: every patch in examples/fpga/icebreaker/experiments/
# still applies to the sources as they are (git apply --check), so that the
# figures docs/fpga.md quotes for them can be measured again; a patch that no
# longer applies fails here, naming itself, and has to be refreshed or
# dropped together with its figures.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
n=0
for p in examples/fpga/icebreaker/experiments/*.patch; do
    [ -f "$p" ] || continue
    if ! err=$(git apply --check "$p" 2>&1); then
        echo "FAIL: $p no longer applies: $(echo "$err" | head -1)"
        exit 1
    fi
    n=$((n + 1))
    echo "ok - $p applies"
done
[ "$n" -gt 0 ] || { echo "FAIL: no patch in examples/fpga/icebreaker/experiments"; exit 1; }
echo "PASS: $n experiment patch(es) apply"
