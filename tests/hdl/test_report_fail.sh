#!/bin/sh
# test_report_fail.sh BUILD_DIR: the UP5K checks' verdict (report.py, which
# up5k_decoder.sh and up5k_check.sh end with) on the complete decoder's real
# nextpnr report, as built by up5k_decoder.sh into BUILD_DIR. The report as
# it is must pass; the same report with its clock's target raised above the
# achieved Fmax must fail naming the clock; with one logic cell more used
# than the UP5K has, or a --limit below the count, it must fail naming the
# LCs. So the build check's failure path (a design that misses its clock or
# no longer fits) is exercised on nextpnr's own output, without a second
# place-and-route. And logs that are missing or not nextpnr's give one line,
# exit 1.
set -u
build=${1:?usage: test_report_fail.sh BUILD_DIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
report=$here/examples/fpga/icebreaker/report.py
py=${PYTHON:-python3}
# (the newest: the build directory may hold reports of other DEC_FREQs)
json=$(ls -t "$build"/decoder_f*_report.json 2>/dev/null | head -n 1)
if [ -z "$json" ]; then
  echo "FAIL test_report_fail: no decoder_f*_report.json in $build (up5k_decoder.sh runs first)"
  exit 1
fi
log=${json%_report.json}_pnr.log
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
bad=0

# expect RC PATTERN ARGS...: report.py's exit code and a line of its output
# (and no Python traceback)
expect() {
  want=$1; pat=$2; shift 2
  "$py" "$report" "$log" "$@" > "$tmp/out" 2>&1
  rc=$?
  if [ "$rc" -ne "$want" ] || ! grep -q -e "$pat" "$tmp/out" || grep -q Traceback "$tmp/out"; then
    echo "FAIL test_report_fail: report.py $* gave exit $rc (want $want) without '$pat':"
    cat "$tmp/out"
    bad=1
  else
    echo "ok - report.py $*: exit $rc, '$(grep -m 1 -e "$pat" "$tmp/out")'"
  fi
}

# the real report passes
expect 0 "^Fmax .*PASS" --json "$json"

# its clock's target 1 MHz above the achieved Fmax (the clock net's name
# depends on the PLL; nextpnr's own $-named nets are not clocks)
"$py" - "$json" "$tmp/slow.json" <<'PY' || exit 1
import json, sys
rep = json.load(open(sys.argv[1]))
clk = [k for k in rep["fmax"] if not k.startswith("$")]
assert len(clk) == 1, clk
rep["fmax"][clk[0]]["constraint"] = rep["fmax"][clk[0]]["achieved"] + 1.0
json.dump(rep, open(sys.argv[2], "w"))
PY
expect 1 "^FAIL clock .* MHz < target " --json "$tmp/slow.json"

# one logic cell more than the UP5K has
"$py" - "$json" "$tmp/big.json" <<'PY' || exit 1
import json, sys
rep = json.load(open(sys.argv[1]))
lc = rep["utilization"]["ICESTORM_LC"]
lc["used"] = lc["available"] + 1
json.dump(rep, open(sys.argv[2], "w"))
PY
expect 1 "^FAIL LC 5281 > 5280 available" --json "$tmp/big.json"

# a budget one cell below the count
used=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["utilization"]["ICESTORM_LC"]["used"])' "$json")
expect 1 "^FAIL LC $used > limit $((used - 1))" --json "$json" --limit LC=$((used - 1))

# the build's logs missing or not nextpnr's: one line, exit 1, no traceback
# (expect's log argument: the report's own log, then these)
log_real=$log
log=$tmp/none.log
expect 1 "^report: cannot read the build's logs: .*none.json" --json "$tmp/none.json"
printf 'not a nextpnr log\n' > "$tmp/other.log"
log=$tmp/other.log
expect 1 "^report: .*other.log: no device utilisation"
log=$log_real
expect 1 "^report: cannot read the build's logs: .*none.yosys" --json "$json" --yosys "$tmp/none.yosys"

[ $bad -eq 0 ] && echo "test_report_fail: PASS"
exit $bad
