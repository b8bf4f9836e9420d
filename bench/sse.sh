#!/usr/bin/env bash
# Idle SSE streams through cutover on the real chatbot stream route
# (`tenant-chatbot-stream`, GET /api/tenant-chatbot/conversations/{id}/stream,
# token in `?token=` as EventSource sends it): memory per open stream and
# write-to-client latency, with the route's flags on `rust` (embedded
# handlers) and on `next` (the legacy Next app, `next start`).
#
#   bench/sse.sh [streams=10000] [rounds=3] [per_conversation=5]
#
# Streams are spread over streams/per_conversation conversations, each owned
# by its own chatbot visitor (tokens minted by jsonwebtoken via
# tests/tokens/mint.mjs) who holds per_conversation streams of it (5 = the
# per-visitor cap: one send fans out to 5 streams). Each round, one real send
# per conversation through cutover (POST .../messages, same side,
# bench/sse/send.cjs, 4 in flight), its body stamped with CLOCK_MONOTONIC
# taken just before the POST; every stream client (bench/sse/streams.cjs,
# SSE_CLIENTS processes) records receive − stamp. Every stream must get every
# round's event exactly once. RSS per stream = (RSS with the streams open −
# before) / streams: cutover (release, access log at info to a file) on both
# sides, and the Next server on the next side.
#
# fds: cutover holds 1 per stream on rust (embedded) but 2 on next (client +
# upstream), so the next side opens as many as `ulimit -Hn` allows (rounded
# to whole conversations; 1,000 fds kept for the rest). Then bench/sse/standin.sh (the proxy alone, a
# stand-in upstream, and nginx) unless SSE_STANDIN=0.
#
# Needs: psql, PostgreSQL on 127.0.0.1:5432 (user postgres, trust), node + npm
# (Next, Soketi, token minting; `npm ci` / `next build` done here when missing
# or stale); both backends publish each send to a real Soketi, as in
# production. Not run in CI. 2–9 min on 2 shared cores, plus the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}; ROUNDS=${2:-3}; PER=${3:-5}
CLIENTS=${SSE_CLIENTS:-2}; SEND_CONC=${SSE_SEND_CONCURRENCY:-4}
HARD=$(ulimit -Hn); RESERVE=1000
fit() { # fds per stream in cutover -> streams that fit (whole conversations, <= N)
  local n=$N
  [ "$HARD" = unlimited ] || n=$(( (HARD - RESERVE) / $1 < N ? (HARD - RESERVE) / $1 : N ))
  echo $(( n / PER * PER ))
}
N_RUST=$(fit 1); N_NEXT=$(fit 2); CONVS=$((N_RUST / PER))
[ "$N_RUST" = "$N" ] || echo "ulimit -Hn is $HARD: rust side limited to $N_RUST streams" >&2
ulimit -n "$HARD"
WORK=$(mktemp -d)
DB=cutover_sse_bench_$$
PG="psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -q"
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  $PG -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_line() { # file pattern seconds
  for _ in $(seq $(( ${3:-10} * 10 ))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "no '$2' in $1 after ${3:-10} s" >&2; return 1
}
rss_kib() { # VmRSS of the pids and their children, summed
  local t=0 p
  for p in "$@" $(pgrep -P "$(echo "$@" | tr ' ' ,)" || true); do
    t=$((t + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status")))
  done
  echo "$t"
}
export NEXT_TELEMETRY_DISABLED=1

cargo build --release --quiet --bin cutover
for d in tests/legacy-next tests/realtime tests/tokens; do
  [ -d "$d/node_modules" ] || (cd "$d" && npm ci --no-audit --no-fund --silent)
done
# `next build` when missing or older than the app's sources (as tests/support/legacy_next.rs).
if [ ! -f tests/legacy-next/.next/BUILD_ID ] || \
   [ -n "$(find tests/legacy-next/app tests/legacy-next/lib tests/legacy-next/components -newer tests/legacy-next/.next/BUILD_ID -type f | head -1)" ]; then
  (cd tests/legacy-next && node node_modules/next/dist/bin/next build >/dev/null)
fi

# Database: migrated by cutover; tenant t1 and one conversation per visitor.
$PG -d postgres -c "CREATE DATABASE $DB"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
target/release/cutover migrate >/dev/null
$PG -d "$DB" <<SQL
INSERT INTO "Tenant" ("id", "name", "chatbotEnabled") VALUES ('t1', 'Acme', true);
INSERT INTO "ChatbotSession" ("id", "tenantId", "visitorId", "issuer")
  SELECT 'bc' || i, 't1', 'bv' || i, 'widget' FROM generate_series(0, $CONVS - 1) AS i;
SQL

export PUSHER_APP_ID=bench-app PUSHER_KEY=bench-key PUSHER_SECRET=bench-secret
SOKETI=$(free_port); SOKETI_METRICS=$(free_port); NEXT=$(free_port)
export PUSHER_HOST=127.0.0.1 PUSHER_PORT=$SOKETI
export NEXTAUTH_SECRET=bench-nextauth-secret-0123456789abcdef NEXTAUTH_URL=http://127.0.0.1
export CHATBOT_JWT_SECRET=bench-chatbot-secret-0123456789abcdef
export CUTOVER_IDENTITY_KEY=bench-identity-key-0123456789abcdef0123

# One HS256 bearer per visitor bv<i> (`iss` tenant-chatbot, claim tenantId),
# minted by jsonwebtoken: "<conversation> <token>" a line.
node -e 'const [n, key] = process.argv.slice(1); console.log(JSON.stringify(Array.from({ length: +n }, (_, i) => ({
  kind: "jwt", payload: { sub: `bv${i}`, tenantId: "t1" }, key,
  options: { algorithm: "HS256", issuer: "tenant-chatbot", expiresIn: 7200 } }))))' "$CONVS" "$CHATBOT_JWT_SECRET" \
  | (cd tests/tokens && node mint.mjs) \
  | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () =>
      JSON.parse(s).forEach((m, i) => console.log(`bc${i} ${m.token}`)))' > "$WORK/convs"

(cd tests/realtime && SOKETI_DEFAULT_APP_ID=$PUSHER_APP_ID SOKETI_DEFAULT_APP_KEY=$PUSHER_KEY \
  SOKETI_DEFAULT_APP_SECRET=$PUSHER_SECRET SOKETI_HOST=127.0.0.1 SOKETI_PORT=$SOKETI \
  SOKETI_METRICS_SERVER_PORT=$SOKETI_METRICS exec node node_modules/@soketi/soketi/bin/server.js start) \
  > "$WORK/soketi.log" 2>&1 &
(cd tests/legacy-next && exec node node_modules/next/dist/bin/next start -p "$NEXT" -H 127.0.0.1) \
  > "$WORK/next.log" 2>&1 &
NEXT_PID=$!
for _ in $(seq 600); do curl -s -o /dev/null "http://127.0.0.1:$NEXT/login" && break; sleep 0.1; done

start_cutover() { # side: a fresh cutover, both chatbot routes' flags on <side>
  local dir=$WORK/cut-$1
  mkdir -p "$dir/flags"
  { cat <<TOML
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
upgrade_sock = "$dir/upgrade.sock"
pid_file = "$dir/cutover.pid"
[backends.next]
url = "http://127.0.0.1:$NEXT"
[backends.rust]
url = "embedded"
TOML
    sed -n '/^\[auth\]/,$p' routes.toml; } > "$dir/routes.toml"
  for route in tenant-chatbot tenant-chatbot-stream; do
    echo "backend = \"$1\"" > "$dir/flags/$route.toml"
  done
  RUST_LOG=info target/release/cutover serve --config "$dir/routes.toml" > "$dir/out" 2> "$dir/access.log" &
  CUT_PID=$!
  wait_line "$dir/out" proxy= 30
  CUT=$(grep -o 'proxy=[0-9.:]*' "$dir/out" | cut -d= -f2)
}

# side streams: open <streams> streams (PER per conversation), ROUNDS sends
# per conversation, one result line in $WORK/results.
run_side() {
  local side=$1 n=$2 convs=$(($2 / PER)) i
  start_cutover "$side"
  head -n "$convs" "$WORK/convs" > "$WORK/convs-$side"
  while read -r id token; do
    for _ in $(seq "$PER"); do
      echo "http://$CUT/api/tenant-chatbot/conversations/$id/stream?token=$token"
    done
  done < "$WORK/convs-$side" > "$WORK/urls-$side"
  sleep 1
  local cut0 next0 cut1 next1 fds=() outs=() lats=()
  cut0=$(rss_kib "$CUT_PID"); next0=$(rss_kib "$NEXT_PID")
  for i in $(seq 0 $((CLIENTS - 1))); do
    local from=$((n * i / CLIENTS)) to=$((n * (i + 1) / CLIENTS)) fd
    mkfifo "$WORK/in-$side-$i"
    node bench/sse/streams.cjs "$WORK/urls-$side" "$from" $((to - from)) "$WORK/lat-$side-$i" \
      < "$WORK/in-$side-$i" > "$WORK/out-$side-$i" &
    exec {fd}> "$WORK/in-$side-$i"
    fds+=("$fd"); outs+=("$WORK/out-$side-$i"); lats+=("$WORK/lat-$side-$i")
  done
  for o in "${outs[@]}"; do wait_line "$o" '"open"' 300; done
  local open=0 o
  for o in "${outs[@]}"; do open=$((open + $(head -1 "$o" | node -pe 'JSON.parse(require("fs").readFileSync(0)).open'))); done
  echo "$side: $open of $n streams open ($(head -qn1 "${outs[@]}" | tr '\n' ' '))"
  for o in "${outs[@]}"; do
    head -1 "$o" | node -e 'const o = JSON.parse(require("fs").readFileSync(0));
      process.exit(o.backend[process.argv[1]] === o.open ? 0 : 1)' "$side" \
      || { echo "FAIL: a stream was not answered by $side (x-cutover-backend)" >&2; exit 1; }
  done
  sleep 2
  cut1=$(rss_kib "$CUT_PID"); next1=$(rss_kib "$NEXT_PID")
  for r in $(seq "$ROUNDS"); do
    echo "  round $r: send $(node bench/sse/send.cjs "http://$CUT" "$WORK/convs-$side" "$r" "$SEND_CONC")"
    for o in "${outs[@]}"; do wait_line "$o" "\"round\":$r}" 120 || true; done
  done
  for fd in "${fds[@]}"; do exec {fd}>&-; done
  for o in "${outs[@]}"; do wait_line "$o" '"streams"' 30; done
  # Summed over the client processes: events dups foreign ended.
  local events dups foreign ended
  read -r events dups foreign ended < <(tail -qn1 "${outs[@]}" | node -e 'const t = [0, 0, 0, 0];
    for (const l of require("fs").readFileSync(0, "utf8").trim().split("\n")) {
      const o = JSON.parse(l); [o.events, o.dups, o.foreign, o.ended].forEach((v, i) => (t[i] += v)); }
    console.log(t.join(" "))')
  echo "  $events events received (expected $((open * ROUNDS))), $dups twice, $foreign of another conversation, $ended streams ended by the server"
  kill "$CUT_PID"; wait "$CUT_PID" 2>/dev/null || true
  echo "$side $open $convs $cut0 $cut1 $next0 $next1 $events $((open * ROUNDS)) $((dups + foreign)) $ended $(node bench/sse/percentiles.cjs "${lats[@]}") $n" >> "$WORK/results"
}

echo "cutover release; $N_RUST streams on rust, $N_NEXT on next (ulimit -Hn $HARD), $PER per conversation, $ROUNDS rounds; $(nproc) CPUs"
run_side rust "$N_RUST"
run_side next "$N_NEXT"

echo
echo "tenant-chatbot-stream, $PER streams per conversation, $ROUNDS sends per conversation; latency = receive − just before the POST, over all streams × rounds"
printf "%-5s %7s %6s %22s %10s %14s %15s %5s %5s %8s %8s %8s\n" \
  side streams convs "cutover RSS (KiB)" "KiB/stream" "next KiB/strm" "events/expected" bad ended "p50 ms" "p99 ms" "max ms"
awk '{
  printf "%-5s %7d %6d %22s %10.1f %14s %15s %5d %5d %8.1f %8.1f %8.1f\n", $1, $2, $3, $4 " -> " $5,
    ($5 - $4) / $2, ($1 == "next") ? sprintf("%.1f", ($7 - $6) / $2) : "-", $8 "/" $9, $10, $11, $13, $14, $15
}' "$WORK/results"
awk '$2 != $16 || $8 != $9 || $10 != 0 || $11 != 0 { bad = 1 } END { exit bad }' "$WORK/results" \
  || { echo "FAIL: a stream did not open, missed an event, got one twice or another conversation's, or was ended" >&2; exit 1; }

if [ "${SSE_STANDIN:-1}" != 0 ]; then
  echo
  echo "proxy alone (bench/sse/standin.sh):"
  SSE_BUILT=1 bench/sse/standin.sh "" "$ROUNDS"
fi
