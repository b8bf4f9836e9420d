#!/usr/bin/env bash
# Memory of idle client connections: proxy RSS per idle keep-alive
# connection (each has had one answered GET, then stays open), for nginx
# (one worker), the filter-less Pingora floor and cutover (pass-through, as
# shipped). Issue 12, goal 5: ≤ 16 KiB per connection.
#
#   bench/idle.sh [connections=10000]
#
# Uses bench/setup.sh (origin, nginx, floor, cutover; CUTOVER_BIN/FLOOR_BIN
# compare saved builds, BENCH_NO_BUILD=1 skips the release build). RSS per
# connection = (RSS with the connections open − RSS before) / connections,
# after one warm-up request. Not run in CI; ~1 min.
N=${1:-10000}
export NGINX_CONNS=$((N + 512))
ulimit -n "$(ulimit -Hn)"
source "$(dirname "$0")/setup.sh"

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# hold <pid> <port> <name>: open N idle connections to the proxy on <port>,
# print the row.
hold() {
  local pid=$1 port=$2 name=$3 before after
  curl -sf -o /dev/null "http://127.0.0.1:$port/warm"
  before=$(rss_kib "$pid")
  coproc CONNS { taskset -c $LOAD_CORE node bench/idle/conns.cjs "127.0.0.1:$port" "$N" /idle; }
  local line
  read -r line <&"${CONNS[0]}"
  sleep 1
  after=$(rss_kib "$pid")
  eval "exec ${CONNS[1]}>&-"
  wait "$CONNS_PID" 2>/dev/null || true
  awk -v n="$name" -v l="$line" -v b="$before" -v a="$after" -v c="$N" \
    'BEGIN { printf "| %s | %s | %d → %d KiB | %.1f |\n", n, l, b, a, (a - b) / c }'
}

echo "| proxy | connections | RSS before → after | KiB / connection |"
echo "|---|---|---|---|"
hold "$(nginx_worker)" "$NGINX" nginx
start_floor; hold "$FLOOR_PID" "$FLOOR" "Pingora floor"; kill "$FLOOR_PID"
start_cutover; hold "$CUT_PID" "$CUT" cutover; kill "$CUT_PID"
