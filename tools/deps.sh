#!/usr/bin/env bash
# Installs the Debian packages llamagen uses. As root: apt-get installs what
# is missing. Not root: prints the exact command and fails.
#   tools/deps.sh              install everything missing
#   tools/deps.sh --check-test install (when root) what `make test` needs
set -eu
# fpga-icestorm-chipdb: its timings_up5k.txt holds the SB_MAC16 delays that the
# decoder's timing check adds to nextpnr's (examples/fpga/icebreaker/paths_by_unit.py);
# python3 runs the FPGA reports and tools/fuzz_inputs.py
PKGS="gcc make libcmocka-dev verilator iverilog yosys nextpnr-ice40 fpga-icestorm fpga-icestorm-chipdb g++ python3"
missing=()
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "llamagen: missing Debian packages: ${missing[*]}" >&2
  echo "llamagen: run as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "llamagen: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
