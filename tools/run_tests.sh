#!/usr/bin/env bash
# Runs each test program given as an argument, shows its output, and ends
# with one summary line "tests: N passed, M failed" (exit 1 if any failed).
set -u
pass=0; fail=0; failed=()
for t in "$@"; do
  echo "=== $t"
  if "$t"; then pass=$((pass+1)); else fail=$((fail+1)); failed+=("$t"); fi
done
echo
[ $fail -gt 0 ] && echo "failed programs: ${failed[*]}"
echo "tests: $pass passed, $fail failed"
[ $fail -eq 0 ]
