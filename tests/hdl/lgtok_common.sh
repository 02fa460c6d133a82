# lgtok_common.sh (sourced by test_lgtok.sh, test_lgtok_probe.sh, with
# $here the repository): lgtok.py's path and the Python to run it ($PYTHON,
# else python3), and pty_wait FILE PID, which waits up to 30 s for a harness
# started with +pty=FILE (process PID) to name its pseudo-terminal in FILE:
# 0 when it did, else 1 (the harness stopped or never wrote it; it is then
# killed).
lgtok=$here/examples/fpga/icebreaker/lgtok.py
py=${PYTHON:-python3}
pty_wait() {
  pw_i=0
  while [ ! -f "$1" ] && kill -0 "$2" 2>/dev/null && [ $pw_i -lt 300 ]; do
    sleep 0.1
    pw_i=$((pw_i + 1))
  done
  [ -f "$1" ] && return 0
  kill "$2" 2>/dev/null
  return 1
}
