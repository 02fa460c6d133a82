#!/usr/bin/env bash
# Lints emitted RTL: every file must pass all of
#   1. a lexical check: no `real` (or any real-valued type or conversion),
#      and `/` or `%` only between constants (parameters in CAPS, literals,
#      $clog2 of those): the decoder is float-free and divider-free; Verilator
#      waivers only local (each lint_off MSG closed by a lint_on);
#   2. verilator --lint-only -Wall (waivers only as local unused_* signals);
#   3. iverilog -g2005 -Wall compiles it (Verilog-2005 subset);
#   4. yosys: read_verilog, synth -top <module>, check -assert; no latches;
#      memories stay memories (a RAM turned into flip-flops by mem2reg fails).
#
#   tools/lint_rtl.sh [--coarse] FILE.v...
#
# Each FILE.v holds one module named after the file; modules it instantiates
# are found in the same directory (<name>.v), and yosys runs there so that
# $readmemh images resolve. --coarse stops yosys after the coarse synth
# (where latches and memories are decided; about 10x faster than techmapping
# the multipliers to gates), as `make test` does; `make lint` runs the full
# flow: synth to gates except memory_map, so RAMs remain $mem cells (what a
# BRAM mapper would take) instead of being blown up into flip-flops.
# Env: VERILATOR, IVERILOG, YOSYS override the tools. Exit 0 when all pass.
set -u
VERILATOR=${VERILATOR:-verilator}
IVERILOG=${IVERILOG:-iverilog}
YOSYS=${YOSYS:-yosys}

coarse=0
if [ "${1:-}" = "--coarse" ]; then
  coarse=1
  shift
fi
if [ $# -eq 0 ]; then
  echo "usage: $0 [--coarse] FILE.v..." >&2
  exit 2
fi

# Lexical check on the text without comments, strings and directives.
# Prints offending lines as FILE:LINE: reason.
lex_check() {
  perl -e '
    my $f = shift; local $/; open(my $h, "<", $f) or die "$f: $!\n"; my $t = <$h>;
    my $bad = 0;
    # Waivers must be local: every lint_off names a message and is closed
    # by a lint_on of it later in the file.
    my %open;
    while ($t =~ /verilator\s+lint_(off|on)\b[ \t]*([A-Za-z0-9_-]*)/g) {
      my ($what, $msg) = ($1, $2);
      my $n = 1 + (substr($t, 0, pos($t)) =~ tr/\n//);
      if ($what eq "off") {
        if ($msg eq "") { print "$f:$n: lint_off without a message name\n"; $bad = 1; }
        $open{$msg} //= $n;
      } elsif ($msg eq "") { %open = (); } else { delete $open{$msg}; }
    }
    for my $msg (sort keys %open) {
      print "$f:$open{$msg}: lint_off $msg is never closed (file-wide waiver)\n"; $bad = 1;
    }
    # Blank out comments and strings but keep line numbers.
    $t =~ s{(/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\])*")}{ (my $x = $1) =~ s/[^\n]/ /g; $x }gse;
    my $n = 0;
    for my $line (split /\n/, $t, -1) {
      $n++;
      next if $line =~ /^\s*`/; # compiler directives (`timescale 1ns / 1ps)
      if ($line =~ /(\breal\b|\brealtime\b|\bshortreal\b|\$bitstoreal|\$realtobits|\$itor|\$rtoi|\$bitstoshortreal|\$shortrealtobits)/) {
        print "$f:$n: real-valued construct \"$1\"\n"; $bad = 1;
      }
      next unless $line =~ m{[/%]};
      my $s = $line;
      # Constants: sized/unsized literals, CAPS identifiers, $clog2(K).
      $s =~ s/\b\d+\s*\x27[sS]?[bBoOdDhH]\s*[0-9a-fA-F_xXzZ?]+/K/g;
      $s =~ s/\x27[sS]?[bBoOdDhH]\s*[0-9a-fA-F_xXzZ?]+/K/g;
      $s =~ s/\b\d[\d_]*\b/K/g;
      $s =~ s/\b[A-Z][A-Z0-9_]*\b/K/g;
      my $op = qr{(?:<<<|>>>|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^<>?:])};
      my $prev = "";
      while ($prev ne $s) {
        $prev = $s;
        $s =~ s/\$clog2\s*\(\s*K\s*\)/K/g;
        $s =~ s/\(\s*K(?:\s*$op\s*K)*\s*\)/K/g;
        $s =~ s/K\s*[*\/%]\s*K/K/g;
      }
      if ($s =~ m{[/%]}) {
        (my $src = $line) =~ s/^\s+//;
        print "$f:$n: / or % on a non-constant operand: $src\n"; $bad = 1;
      }
    }
    exit $bad;
  ' "$1"
}

status=0
for f in "$@"; do
  name=$(basename "$f" .v)
  dir=$(cd "$(dirname "$f")" && pwd)
  ok=1
  log=$(mktemp)

  if ! lex_check "$f"; then
    ok=0
  fi

  if ! "$VERILATOR" --lint-only -Wall -y "$dir" --top-module "$name" "$f" >"$log" 2>&1; then
    sed 's/^/  /' "$log"
    echo "$f: verilator -Wall lint failed"
    ok=0
  fi

  if ! "$IVERILOG" -g2005 -Wall -y "$dir" -Y .v -s "$name" -o /dev/null "$f" >"$log" 2>&1; then
    sed 's/^/  /' "$log"
    echo "$f: iverilog -g2005 compile failed"
    ok=0
  elif [ -s "$log" ]; then
    sed 's/^/  iverilog: /' "$log"
  fi

  # No latch of any kind may survive; check -assert fails on multiple
  # drivers, undriven or looped logic. (opt_dff; opt_clean first: when
  # yosys 0.23's opt_mem drops a constant bit column of a ROM whose output
  # register memory_dff took into the read port, the coarse netlist keeps
  # that register's dead bits, their D inputs undriven, until a later pass
  # removes them: 31 "used but has no driver" for a 6-word koff ROM whose
  # words were all odd. The full synthesis of the same RTL is correct,
  # simulated against it.)
  nolatch='select -assert-none t:$dlatch t:$adlatch t:$dlatchsr t:$_DLATCH_* t:$_DLATCHSR_*'
  script="read_verilog $(basename "$f"); hierarchy -check -libdir . -top $name;"
  script="$script synth -top $name -run :fine; opt_dff; opt_clean; check -assert; $nolatch; stat;"
  if [ $coarse -eq 0 ]; then
    script="$script opt -fast -full; opt -full; techmap; opt -fast; abc -fast; opt -fast;"
    script="$script hierarchy -check; check -assert; $nolatch; stat;"
  fi
  if ! (cd "$dir" && "$YOSYS" -q -l "$log" -p "$script" >/dev/null 2>&1); then
    grep -E "ERROR|Warning|problem" "$log" | head -20 | sed 's/^/  /'
    echo "$f: yosys synth/check failed"
    ok=0
  else
    if grep -q "Latch inferred" "$log"; then
      grep "Latch inferred" "$log" | sed 's/^/  /'
      echo "$f: latch inferred"
      ok=0
    fi
    if grep -q "Replacing memory .* with list of registers" "$log"; then
      grep "Replacing memory .* with list of registers" "$log" | sed 's/^/  /'
      echo "$f: a memory became registers"
      ok=0
    fi
  fi
  if [ $ok -eq 1 ]; then
    mems=$(awk '/Printing statistics/ {n = 0} /\$mem_v2/ {n = $2} END {print n + 0}' "$log")
    cells=$(awk '/Number of cells:/ {n = $4} END {print n + 0}' "$log")
    echo "$f: ok (verilator -Wall, iverilog -g2005, yosys$([ $coarse -eq 1 ] && echo ' coarse'): $cells cells, $mems memories, no latches)"
  else
    echo "$f: FAIL"
    status=1
  fi
  rm -f "$log"
done
exit $status
