#!/usr/bin/env bash
# Memory of idle client connections: proxy RSS per idle keep-alive
# connection (each has had one answered GET, then stays open) and per idle
# proxied WebSocket (upgraded through the proxy to an upstream that then
# sends nothing), for nginx (one worker), the filter-less Pingora floor and
# cutover (pass-through, as shipped). Issue 12, goal 5: ≤ 16 KiB each.
#
#   bench/idle.sh [connections=10000] [websockets=9000]
#
# A proxied WebSocket holds 2 fds in the proxy (client and upstream legs);
# this machine's hard `ulimit -n` is 20,000, hence 9,000 by default.
# Uses bench/setup.sh (origin, nginx, floor, cutover; CUTOVER_BIN/FLOOR_BIN
# compare saved builds, BENCH_NO_BUILD=1 skips the release build). RSS per
# connection = (RSS with the connections open − RSS before) / connections
# still open (counted by the client after the RSS is read), after one
# warm-up request. Not run in CI; ~2 min.
N=${1:-10000}
WS=${2:-9000}
export NGINX_CONNS=$(( (N > 2 * WS ? N : 2 * WS) + 512 ))
ulimit -n "$(ulimit -Hn)"
source "$(dirname "$0")/setup.sh"

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# hold <pid> <port> <name> <count> [ws]: open <count> idle connections (or
# WebSockets) to the proxy on <port>, print the row.
hold() {
  local pid=$1 port=$2 name=$3 count=$4 mode=${5:-keepalive} before after
  curl -sf -o /dev/null "http://127.0.0.1:$port/warm"
  before=$(rss_kib "$pid")
  coproc CONNS { taskset -c $LOAD_CORE node bench/idle/conns.cjs "127.0.0.1:$port" "$count" /idle "$mode"; }
  local line still
  read -r line <&"${CONNS[0]}"
  sleep 1
  after=$(rss_kib "$pid")
  echo >&"${CONNS[1]}"
  read -r still <&"${CONNS[0]}"
  if [ "$mode" = ws ]; then
    curl -sf -o /dev/null "http://127.0.0.1:$WSUP_PORT/reset"
    sleep 1
  fi
  eval "exec ${CONNS[1]}>&-"
  wait "$CONNS_PID" 2>/dev/null || true
  # Per connection the proxy actually holds (nginx refuses a few hundred
  # upgrades at this rate; those cost it nothing).
  awk -v n="$name" -v l="$line" -v s="$still" -v b="$before" -v a="$after" \
    'function num(t, k) { match(t, "\"" k "\": *[0-9]+"); t = substr(t, RSTART, RLENGTH); sub(/.*: */, "", t); return t }
     BEGIN { c = num(s, "still_open")
             printf "| %s | %d held (%d refused or failed) | %d → %d KiB | %.1f |\n",
               n, c, num(l, "failed") + num(l, "open") - c, b, a, (a - b) / c }'
}

# The silent WebSocket upstream, and nginx proxying upgrades to it.
taskset -c $LOAD_CORE node bench/idle/ws_upstream.cjs > "$WORK/wsup.out" &
PIDS+=("$!")
until [ -s "$WORK/wsup.out" ]; do sleep 0.1; done
WSUP_PORT=$(python3 -c 'import json,sys;print(json.load(sys.stdin)["port"])' < "$WORK/wsup.out")
NGINX_WS=$(free_port)
nginx_conf wsproxy $PROXY_CORE "server { listen 127.0.0.1:$NGINX_WS;
    location / { proxy_pass http://127.0.0.1:$WSUP_PORT; proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade; proxy_set_header Connection upgrade; } }"
trap 'nginx -p "$WORK/wsproxy" -c "$WORK/wsproxy/nginx.conf" -s stop 2>/dev/null || true; cleanup' EXIT
nginx_ws_worker() { pgrep -P "$(cat "$WORK/wsproxy/nginx.pid")" | head -1; }

# stop <pid>: SIGTERM, and SIGKILL if it is still draining after 5 s (the
# next proxy started binds the same port).
stop() {
  kill "$1"
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  { kill -KILL "$1" && wait "$1"; } 2>/dev/null || true
}

echo "| proxy | connections | RSS before → after | KiB / connection |"
echo "|---|---|---|---|"
hold "$(nginx_worker)" "$NGINX" "nginx, keep-alive" "$N"
start_floor; hold "$FLOOR_PID" "$FLOOR" "Pingora floor, keep-alive" "$N"; stop "$FLOOR_PID"
start_cutover; hold "$CUT_PID" "$CUT" "cutover, keep-alive" "$N"; stop "$CUT_PID"

hold "$(nginx_ws_worker)" "$NGINX_WS" "nginx, WebSocket" "$WS" ws
ORIGIN=$WSUP_PORT start_floor
hold "$FLOOR_PID" "$FLOOR" "Pingora floor, WebSocket" "$WS" ws; stop "$FLOOR_PID"
# cutover's next backend becomes the WebSocket upstream (pass-through route).
sed -i "s#^url = \"http://127.0.0.1:$ORIGIN\"#url = \"http://127.0.0.1:$WSUP_PORT\"#" "$WORK/cut/routes.toml"
start_cutover; hold "$CUT_PID" "$CUT" "cutover, WebSocket" "$WS" ws; stop "$CUT_PID"
