# Sourced by bench/run.sh and bench/callgrind.sh: ports, the origin, nginx as
# proxy, the filter-less Pingora floor, a next-auth cookie and cutover's
# config. Core 0 runs the proxy under test; core 1 the origin and the load
# generator. Everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for tool in nginx wrk taskset node python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install nginx-light wrk util-linux nodejs python3)" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "bench: needs 2 cores (proxy on core 0, load + origin on core 1)" >&2; exit 1; }
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for c in origin proxy; do nginx -p "$WORK/$c" -c "$WORK/$c/nginx.conf" -s stop 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
ORIGIN=$(free_port); NGINX=$(free_port); FLOOR=$(free_port); CUT=$(free_port); ADMIN=$(free_port)
PROXY_CORE=0; LOAD_CORE=1
# Binaries under test (override to compare builds, e.g. a saved "before").
CUTOVER_BIN=${CUTOVER_BIN:-target/release/cutover}
FLOOR_BIN=${FLOOR_BIN:-target/release/examples/pingora_floor}
LOAD_BIN=${LOAD_BIN:-target/release/examples/load}

[ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release --quiet --bin cutover --example pingora_floor --example load

nginx_conf() { # dir core server-block
  mkdir -p "$WORK/$1/logs"
  cat > "$WORK/$1/nginx.conf" <<NGX
worker_processes 1;
worker_cpu_affinity $( [ "$2" = 0 ] && echo 01 || echo 10 );
error_log $WORK/$1/logs/error.log;
pid $WORK/$1/nginx.pid;
worker_rlimit_nofile ${NGINX_CONNS:-4096};
events { worker_connections ${NGINX_CONNS:-4096}; }
http {
  access_log off;
  keepalive_requests 1000000;  # the load generators count a server-side close as an error
  $3
}
NGX
  taskset -c "$2" nginx -p "$WORK/$1" -c "$WORK/$1/nginx.conf"
}
nginx_conf origin $LOAD_CORE "server { listen 127.0.0.1:$ORIGIN; location / { return 200 \"0123456789abcdef0123456789abcdef\\n\"; } }"
nginx_conf proxy $PROXY_CORE "upstream origin { server 127.0.0.1:$ORIGIN; keepalive 128; }
  server { listen 127.0.0.1:$NGINX;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
# nginx's worker: the process that does the proxying (the master only waits).
nginx_worker() { pgrep -P "$(cat "$WORK/proxy/nginx.pid")" | head -1; }

SECRET=bench-nextauth-secret-0123456789abcdef
( cd tests/tokens && { [ -d node_modules ] || npm ci --no-audit --no-fund --silent; } )
TOKEN=$(cd tests/tokens && echo "[{\"kind\":\"nextauth_v4\",\"secret\":\"$SECRET\",\"claims\":{\"sub\":\"bench-user\"},\"maxAge\":86400}]" \
  | node mint.mjs | python3 -c 'import json,sys;print(json.load(sys.stdin)[0]["token"])')
COOKIE="Cookie: next-auth.session-token=$TOKEN"

mkdir -p "$WORK/cut/flags"
echo 'backend = "next"' > "$WORK/cut/flags/authed.toml"
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
id = "authed"
path = "/authed"
auth = "required"
TOML
export NEXTAUTH_SECRET=$SECRET CUTOVER_IDENTITY_KEY=bench-identity-key-0123456789abcdef0123
unset RUST_LOG # the access log is on, at info, as shipped

wait_up() { # url
  for _ in $(seq 600); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "bench: $1 did not answer; see $WORK/*.err" >&2; exit 1
}
# start_floor / start_cutover [wrapper...]: the proxy on core 0 (optionally
# under a wrapper such as valgrind); set FLOOR_PID / CUT_PID.
start_floor() {
  taskset -c $PROXY_CORE "$@" "$FLOOR_BIN" "127.0.0.1:$FLOOR" "127.0.0.1:$ORIGIN" \
    > "$WORK/floor.out" 2> "$WORK/floor.err" &
  FLOOR_PID=$!; PIDS+=("$FLOOR_PID")
  wait_up "http://127.0.0.1:$FLOOR/plain"
}
start_cutover() {
  # cutover's access log goes to a file, as a deployment's stderr would.
  taskset -c $PROXY_CORE "$@" "$CUTOVER_BIN" --config "$WORK/cut/routes.toml" serve \
    > "$WORK/cut.out" 2> "$WORK/cut.err" &
  CUT_PID=$!; PIDS+=("$CUT_PID")
  wait_up "http://127.0.0.1:$CUT/plain"
  curl -sf -o /dev/null -H "$COOKIE" "http://127.0.0.1:$CUT/authed" \
    || { echo "bench: cutover refused the bench cookie on /authed; see $WORK/cut.err" >&2; exit 1; }
}
# CPU time (µs, user + system) a process has used so far.
cpu_us() { awk -v t="$(getconf CLK_TCK)" '{print ($14 + $15) * 1000000 / t}' "/proc/$1/stat"; }
