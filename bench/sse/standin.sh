#!/usr/bin/env bash
# Proxy-only figure for bench/sse.sh: idle SSE streams through a proxy to a
# stand-in node SSE upstream (bench/sse/upstream.cjs), so the proxy's own
# memory per stream and fan-out latency show without a backend's work.
#
#   bench/sse/standin.sh [streams=as many as `ulimit -Hn` allows, <= 10000] [rounds=5]
#
# bench/sse/clients.cjs opens <streams> idle streams through the proxy under
# test, then for each round the upstream writes one event to every stream,
# stamped with its CLOCK_MONOTONIC write time, and the clients report p50/p99
# of (receive − write). RSS per stream = (proxy RSS with the streams open −
# RSS before) / streams. Targets: direct (no proxy: the latency floor),
# cutover (release build, a `kind = "sse"` route on next, access log on at
# info to a file), nginx (proxy_buffering off, one worker) when installed.
# Not run in CI. Needs node. ~1 min.
set -euo pipefail
cd "$(dirname "$0")/../.."
# A proxy holds 2 fds per stream (client + upstream); raise the soft limit
# as far as the hard one allows (`ulimit -Hn`).
HARD=$(ulimit -Hn); FIT=10000
[ "$HARD" = unlimited ] || FIT=$(( (HARD - 2048) / 2 < 10000 ? (HARD - 2048) / 2 : 10000 ))
N=${1:-$FIT}; ROUNDS=${2:-5}
WANT=$((2 * N + 2048))
[ "$HARD" = unlimited ] || [ "$HARD" -ge "$WANT" ] || {
  echo "ulimit -Hn is $HARD: $N streams need $WANT fds; use at most $(((HARD - 2048) / 2)) streams" >&2; exit 1; }
ulimit -n "$WANT"
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

# bench/sse.sh has built it (SSE_BUILT=1): the same binary on every side.
[ -n "${SSE_BUILT:-}" ] || cargo build --quiet --release --bin cutover
rss_kib() { # sum of VmRSS of the given pids
  local t=0 p
  for p in "$@"; do t=$((t + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status"))); done
  echo "$t"
}
wait_line() { # file pattern
  for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "no '$2' in $1" >&2; return 1
}

node bench/sse/upstream.cjs > "$WORK/up.out" & PIDS+=($!)
wait_line "$WORK/up.out" port
UP=$(grep -o '[0-9]*' "$WORK/up.out" | head -1)

# cutover: a kind = "sse" route at /stream, flag default (next).
mkdir -p "$WORK/flags"
cat > "$WORK/routes.toml" <<EOF
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
upgrade_sock = "$WORK/upgrade.sock"
pid_file = "$WORK/cutover.pid"
[backends.next]
url = "http://127.0.0.1:$UP"
[backends.rust]
url = "http://127.0.0.1:1"
[[route]]
id = "sse-bench"
path = "/stream"
methods = ["GET"]
kind = "sse"
EOF
RUST_LOG=info target/release/cutover serve --config "$WORK/routes.toml" > "$WORK/cut.out" 2> "$WORK/cut.err" & PIDS+=($!)
CUT_PID=$!
wait_line "$WORK/cut.out" proxy=
CUT=$(grep -o 'proxy=[0-9.:]*' "$WORK/cut.out" | cut -d= -f2)

NGINX_PORT=""
if command -v nginx >/dev/null; then
  mkdir -p "$WORK/nginx"
  cat > "$WORK/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile $WANT;
pid $WORK/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections $((2 * N + 1024)); }
http {
  access_log off;
  client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx;
  upstream sse { server 127.0.0.1:$UP; }
  server {
    listen 127.0.0.1:0;
    location / {
      proxy_pass http://sse; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_buffering off; proxy_read_timeout 1d;
    }
  }
}
EOF
  # nginx cannot listen on port 0: pick a free port.
  NGINX_PORT=$(node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  sed -i "s/listen 127.0.0.1:0;/listen 127.0.0.1:$NGINX_PORT;/" "$WORK/nginx.conf"
  nginx -c "$WORK/nginx.conf" -p "$WORK/nginx"
  wait_line "$WORK/nginx.pid" '[0-9]'
  PIDS+=("$(cat "$WORK/nginx.pid")")
else
  echo "nginx not installed: skipping its column (apt-get install nginx-light)" >&2
fi

# run NAME URL PID...: open N streams, RSS delta, ROUNDS events; one result line.
run() {
  local name=$1 url=$2; shift 2
  local before after line
  before=$( [ $# -gt 0 ] && rss_kib "$@" || echo 0)
  coproc CL { exec node bench/sse/clients.cjs "$url" "$N"; }
  read -r line <&"${CL[0]}"
  local open; open=$(node -pe "JSON.parse(process.argv[1]).open" "$line")
  [ "$open" = "$N" ] || echo "warning: $name: $line" >&2
  sleep 1
  after=$( [ $# -gt 0 ] && rss_kib "$@" || echo 0)
  local p50s=() p99s=()
  for _ in $(seq "$ROUNDS"); do
    echo emit >&"${CL[1]}"
    curl -s -X POST "http://127.0.0.1:$UP/emit" > /dev/null
    read -r -t 30 line <&"${CL[0]}"
    p50s+=("$(node -pe "JSON.parse(process.argv[1]).p50_ms" "$line")")
    p99s+=("$(node -pe "JSON.parse(process.argv[1]).p99_ms" "$line")")
  done
  exec {CL[1]}>&-
  wait "$CL_PID" 2>/dev/null || true
  echo "$name $open $before $after ${p50s[*]} / ${p99s[*]}" >> "$WORK/results"
}

run direct "http://127.0.0.1:$UP/stream"
run cutover "http://$CUT/stream" "$CUT_PID"
if [ -n "$NGINX_PORT" ]; then
  run nginx "http://127.0.0.1:$NGINX_PORT/stream" $(pgrep -P "$(cat "$WORK/nginx.pid")") "$(cat "$WORK/nginx.pid")"
fi

echo "$N idle SSE streams per target, $ROUNDS events fanned out to all (medians over rounds)"
printf "%-8s %7s %12s %12s %12s %10s %10s\n" target open "RSS before" "RSS after" "KiB/stream" "p50 ms" "p99 ms"
awk -v n="$N" '{
  split($0, halves, " / "); split(halves[1], a, " "); split(halves[2], b, " ")
  k = 0; for (i = 5; i in a; i++) p50[++k] = a[i]; asort(p50); asort(b)
  m = int((k + 1) / 2)
  per = ($1 == "direct") ? "-" : sprintf("%.2f", ($4 - $3) / n)
  before = ($1 == "direct") ? "-" : $3 " KiB"; after = ($1 == "direct") ? "-" : $4 " KiB"
  printf "%-8s %7s %12s %12s %12s %10.2f %10.2f\n", $1, $2, before, after, per, p50[m], b[m]
  delete p50; delete b
}' "$WORK/results"
echo "(latency includes the node upstream's and clients' own time: compare with direct)"
