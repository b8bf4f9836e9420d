#!/usr/bin/env bash
# Syscalls per request, by name, for nginx, the Pingora floor and cutover
# (pass-through): each proxy's threads traced with `strace -c -f` while a
# fixed number of keep-alive requests goes through it (after a warm-up).
# Kernel time is what callgrind cannot see; this shows where it comes from.
#
#   bench/syscalls.sh [requests=20000] [connections=4]
#
# Needs strace, nginx, node (bench/setup.sh).
source "$(dirname "$0")/setup.sh"
command -v strace >/dev/null || { echo "bench: strace is missing (apt-get install strace)" >&2; exit 1; }
N=${1:-20000}; CONNS=${2:-4}
load() { taskset -c $LOAD_CORE "$LOAD_BIN" "$@"; }
trace() { # name pid url
  local name=$1 pid=$2 url=$3
  load "$url" "$CONNS" count=2000 >/dev/null
  strace -c -f -p "$pid" -o "$WORK/strace.$name" 2>/dev/null &
  local st=$!; sleep 1
  load "$url" "$CONNS" count="$N" >/dev/null
  sleep 0.5; kill -INT "$st"; wait "$st" 2>/dev/null || true
  echo "== $name: syscalls per request ($N requests, $CONNS connections)"
  # strace -c rows: % time, seconds, usecs/call, calls, [errors,] name.
  awk -v n="$N" '$1 ~ /^[0-9.]+$/ && NF >= 5 { printf "  %-16s %6.2f\n", ($NF == "total" ? "TOTAL" : $NF), $4 / n }' "$WORK/strace.$name" \
    | sort -k2 -nr | head -12
}
trace nginx "$(nginx_worker)" "http://127.0.0.1:$NGINX/plain"
start_floor
trace floor "$FLOOR_PID" "http://127.0.0.1:$FLOOR/plain"
kill "$FLOOR_PID"
start_cutover
trace cutover "$CUT_PID" "http://127.0.0.1:$CUT/plain"
