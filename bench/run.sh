#!/usr/bin/env bash
# Throughput and latency: origin direct vs nginx proxy_pass vs cutover, and
# cutover with auth = "required" (a real next-auth cookie) vs auth = "none".
# Interleaved rounds on the same machine, loopback only, bounded in time.
#
#   bench/run.sh [rounds=3] [seconds=10] [connections=50]
#
# Needs: nginx, wrk (apt-get install nginx-light wrk), node + npm (token), a
# release build (built here). Prints a table and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}; SECS=${2:-10}; CONNS=${3:-50}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; for c in origin proxy; do nginx -p "$WORK/$c" -c "$WORK/$c/nginx.conf" -s stop 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
ORIGIN=$(free_port); NGINX=$(free_port); CUT=$(free_port); ADMIN=$(free_port)

cargo build --release --quiet
# The origin and the nginx proxy are separate nginx processes (one worker
# each), so nginx-as-proxy and cutover each run beside the same origin process:
# wrk, origin and proxy are three processes on every proxied run.
nginx_conf() { # dir server-block
  mkdir -p "$WORK/$1/logs"
  cat > "$WORK/$1/nginx.conf" <<NGX
worker_processes 1;
error_log $WORK/$1/logs/error.log;
pid $WORK/$1/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  $2
}
NGX
  nginx -p "$WORK/$1" -c "$WORK/$1/nginx.conf"
}
nginx_conf origin "server { listen 127.0.0.1:$ORIGIN; location / { return 200 \"0123456789abcdef0123456789abcdef\\n\"; } }"
nginx_conf proxy "upstream origin { server 127.0.0.1:$ORIGIN; keepalive 128; }
  server { listen 127.0.0.1:$NGINX;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"

SECRET=bench-nextauth-secret-0123456789abcdef
( cd tests/tokens && [ -d node_modules ] || npm ci --no-audit --no-fund --silent )
TOKEN=$(cd tests/tokens && echo "[{\"kind\":\"nextauth_v4\",\"secret\":\"$SECRET\",\"claims\":{\"sub\":\"bench-user\"},\"maxAge\":86400}]" \
  | node mint.mjs | python3 -c 'import json,sys;print(json.load(sys.stdin)[0]["token"])')

mkdir -p "$WORK/cut/flags"
cat > "$WORK/cut/routes.toml" <<TOML
[server]
listen = "127.0.0.1:$CUT"
admin_listen = "127.0.0.1:$ADMIN"
threads = 1
upgrade_sock = "$WORK/cut/upgrade.sock"
pid_file = "$WORK/cut/cutover.pid"
[backends.next]
url = "http://127.0.0.1:$ORIGIN"
[backends.rust]
url = "embedded"
[auth]
identity_key_env = "CUTOVER_IDENTITY_KEY"
[auth.session]
flavor = "nextauth-v4"
secret_envs = ["NEXTAUTH_SECRET"]
[[route]]
id = "open"
path = "/open"
[[route]]
id = "authed"
path = "/authed"
auth = "required"
TOML
NEXTAUTH_SECRET=$SECRET CUTOVER_IDENTITY_KEY=bench-identity-key-0123456789abcdef0123 RUST_LOG=warn \
  target/release/cutover serve --config "$WORK/cut/routes.toml" > "$WORK/cut.out" 2> "$WORK/cut.err" &
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$CUT/open" >/dev/null && break; sleep 0.1; done

run() { # name url [header]
  local out
  if [ -n "${3:-}" ]; then out=$(wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -H "$3" "$2")
  else out=$(wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "$2"); fi
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  printf '%-16s %12s %10s %10s\n' "$1" "$rps" "$p50" "$p99"
  echo "$1 $rps" >> "$WORK/rps"
}
printf '%-16s %12s %10s %10s\n' target req/s p50 p99
for r in $(seq "$ROUNDS"); do
  run direct "http://127.0.0.1:$ORIGIN/open"
  run nginx "http://127.0.0.1:$NGINX/open"
  run cutover "http://127.0.0.1:$CUT/open"
  run cutover-auth "http://127.0.0.1:$CUT/authed" "Cookie: next-auth.session-token=$TOKEN"
done
echo
awk '{s[$1]+=$2; n[$1]++} END {
  for (k in s) m[k]=s[k]/n[k];
  printf "mean req/s: direct %.0f, nginx %.0f, cutover %.0f, cutover-auth %.0f\n", m["direct"], m["nginx"], m["cutover"], m["cutover-auth"];
  printf "cutover/nginx throughput ratio: %.2f\n", m["cutover"]/m["nginx"];
  printf "auth/no-auth throughput ratio: %.2f\n", m["cutover-auth"]/m["cutover"];
}' "$WORK/rps"
