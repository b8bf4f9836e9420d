#!/usr/bin/env bash
# Load-independent proxy cost: instructions (callgrind Ir) per request for
# the Pingora floor, cutover pass-through and cutover's auth route. Each
# proxy runs under callgrind on core 0; after a warm-up the counters are
# zeroed, examples/load.rs sends a fixed number of keep-alive requests, and
# the counters are dumped: Ir ÷ requests. Repeatable on a loaded machine,
# unlike req/s. The access log is on (info), as shipped.
#
#   bench/callgrind.sh [requests=20000] [connections=4] [keep-dir]
#
# With keep-dir, the dumps are kept there (callgrind_annotate FILE shows
# the top functions). Needs valgrind, nginx, node.
source "$(dirname "$0")/setup.sh"
N=${1:-20000}; CONNS=${2:-4}; KEEP=${3:-}
VG=(valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.%p")

load() { taskset -c $LOAD_CORE "$LOAD_BIN" "$@"; }
measure() { # name pid url [header]
  local name=$1 pid=$2 url=$3 out reqs ir
  load "$url" "$CONNS" count=2000 ${4:+"$4"} >/dev/null
  callgrind_control -z "$pid" >/dev/null 2>&1
  out=$(load "$url" "$CONNS" count="$N" ${4:+"$4"})
  callgrind_control --dump="$name" "$pid" >/dev/null 2>&1
  reqs=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$out")
  local dump; dump=$(ls -t "$WORK"/cg."$pid".* | head -1)
  ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$dump")
  printf '%-14s %10d requests %14d Ir %10.0f Ir/request\n' "$name" "$reqs" "$ir" "$(awk -v a="$ir" -v b="$reqs" 'BEGIN{print a/b}')"
  [ -z "$KEEP" ] || { mkdir -p "$KEEP"; cp "$dump" "$KEEP/$name.callgrind"; }
}
start_floor "${VG[@]}"
measure floor "$FLOOR_PID" "http://127.0.0.1:$FLOOR/plain"
kill "$FLOOR_PID"
start_cutover "${VG[@]}"
measure cutover "$CUT_PID" "http://127.0.0.1:$CUT/plain"
measure cutover-auth "$CUT_PID" "http://127.0.0.1:$CUT/authed" "$COOKIE"
