#!/usr/bin/env bash
# A chat's history (GET) and a send (POST) through cutover (release build),
# with the routes' flags on `next` (the legacy Next app, `next start`) and on
# `rust` (the embedded handlers): same database, same Soketi, same NextAuth
# session cookie, interleaved rounds (next, rust, next, rust, ...).
#
#   bench/messages.sh [rounds=3] [seconds=10] [connections=16] [domain=user-threads]
#
# SIDES="rust" (default "next rust") runs one side only, for iteration;
# CUTOVER_BIN=path runs that cutover binary instead of building one (A/B).
# Besides req/s and latency, each run prints the CPU time per request (µs) of
# cutover, of Soketi and of all PostgreSQL processes (utime+stime from /proc
# before and after the run), so a change shows where it moved the work.
#
# domain: `user-threads` (GET/POST /api/chat/user-threads/th1/messages) or
# `whatsapp` (GET /api/whatsapp/messages?sessionId=wa1&jid=…, POST
# /api/whatsapp/chat-messages: a send queued in the outbox).
#
# Needs: wrk, psql, PostgreSQL on 127.0.0.1:5432 (user postgres, trust), node
# + npm (Next, Soketi, token minting; `npm ci` / `next build` done here when
# missing). POST bodies get a unique clientMessageId per request (wrk Lua),
# so every POST inserts a row and broadcasts an event, like a real send.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}; SECS=${2:-10}; CONNS=${3:-16}; DOMAIN=${4:-user-threads}
SIDES=${SIDES:-next rust}
ROOT=$PWD
CUTOVER=${CUTOVER_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/cutover}
WORK=$(mktemp -d)
DB=cutover_bench_$$
PG="psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -q"
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  $PG -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
SOKETI=$(free_port); SOKETI_METRICS=$(free_port); NEXT=$(free_port); CUT=$(free_port); ADMIN=$(free_port)
export NEXT_TELEMETRY_DISABLED=1

[ -n "${CUTOVER_BIN:-}" ] || cargo build --release --quiet
for d in tests/legacy-next tests/realtime tests/tokens; do
  [ -d "$d/node_modules" ] || (cd "$d" && npm ci --no-audit --no-fund --silent)
done
[ -f tests/legacy-next/.next/BUILD_ID ] || (cd tests/legacy-next && node node_modules/next/dist/bin/next build >/dev/null)

# Database: migrated by cutover, seeded like the tests (tests/support/harness.rs)
# plus 200 older messages in th1 so a page is full.
$PG -d postgres -c "CREATE DATABASE $DB"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
"$CUTOVER" migrate >/dev/null
$PG -d "$DB" <<'SQL'
INSERT INTO "Tenant" ("id", "name", "chatbotEnabled") VALUES ('t1', 'Acme', true);
INSERT INTO "User" ("id", "email", "name", "role") VALUES
  ('u1', 'alice@example.com', 'Alice', 'USER'), ('u2', 'bob@example.com', 'Bob', 'USER');
INSERT INTO "Membership" ("userId", "tenantId") VALUES ('u1', 't1'), ('u2', 't1');
INSERT INTO "Thread" ("id", "tenantId", "title") VALUES ('th1', 't1', 'Alice & Bob');
INSERT INTO "ThreadParticipant" ("threadId", "userId") VALUES ('th1', 'u1'), ('th1', 'u2');
INSERT INTO "Message" ("threadId", "senderId", "body", "clientMessageId", "createdAt")
  SELECT 'th1', CASE WHEN i % 2 = 0 THEN 'u1' ELSE 'u2' END, 'seed message ' || i, 'seed-' || i,
         now() - interval '1 hour' + i * interval '1 second'
  FROM generate_series(1, 200) AS i;
INSERT INTO whatsapp_sessions ("sessionId", "tenantId", "name", "status") VALUES ('wa1', 't1', 'Support', 'CONNECTED');
INSERT INTO whatsapp_messages ("sessionId", "messageId", "remoteJid", "fromMe", "content", "status", "timestamp")
  SELECT 'wa1', 'SEED' || i, '4915111111@s.whatsapp.net', i % 2 = 0, 'seed message ' || i, 'DELIVERED',
         now() - interval '1 hour' + i * interval '1 second'
  FROM generate_series(1, 200) AS i;
-- Statistics, as a production table has them: without them the handlers'
-- prepared statements cache a generic plan for a 1-row thread, which sorts
-- the whole thread once the runs have grown it (seen: 360 GET/s instead of
-- 7,700 in the second round of SIDES=rust, PostgreSQL 5 ms CPU per GET).
ANALYZE;
SQL

export PUSHER_APP_ID=bench-app PUSHER_KEY=bench-key PUSHER_SECRET=bench-secret
export PUSHER_HOST=127.0.0.1 PUSHER_PORT=$SOKETI
export NEXTAUTH_SECRET=bench-nextauth-secret-0123456789abcdef NEXTAUTH_URL=http://127.0.0.1:$CUT
export CHATBOT_JWT_SECRET=bench-chatbot-secret-0123456789abcdef
export CUTOVER_IDENTITY_KEY=bench-identity-key-0123456789abcdef0123

(cd tests/realtime && SOKETI_DEFAULT_APP_ID=$PUSHER_APP_ID SOKETI_DEFAULT_APP_KEY=$PUSHER_KEY \
  SOKETI_DEFAULT_APP_SECRET=$PUSHER_SECRET SOKETI_HOST=127.0.0.1 SOKETI_PORT=$SOKETI \
  SOKETI_METRICS_SERVER_PORT=$SOKETI_METRICS exec node node_modules/@soketi/soketi/bin/server.js start) \
  > "$WORK/soketi.log" 2>&1 &
SOKETI_PID=$!
(cd tests/legacy-next && exec node node_modules/next/dist/bin/next start -p "$NEXT" -H 127.0.0.1) \
  > "$WORK/next.log" 2>&1 &

# cutover: the shipped [auth] and [[route]] tables, the bench's listeners and backends.
mkdir -p "$WORK/cut/flags"
{
  cat <<TOML
[server]
listen = "127.0.0.1:$CUT"
admin_listen = "127.0.0.1:$ADMIN"
upgrade_sock = "$WORK/cut/upgrade.sock"
pid_file = "$WORK/cut/cutover.pid"
reload_interval_ms = 50
[backends.next]
url = "http://127.0.0.1:$NEXT"
[backends.rust]
url = "embedded"
TOML
  sed -n '/^\[auth\]/,$p' routes.toml
} > "$WORK/cut/routes.toml"
case $DOMAIN in
  user-threads)
    ROUTES="user-thread-messages"
    GET_URL="http://127.0.0.1:$CUT/api/chat/user-threads/th1/messages?limit=20"
    POST_URL="http://127.0.0.1:$CUT/api/chat/user-threads/th1/messages"
    export BENCH_BODY='{"body":"bench message","clientMessageId":"%s-%d"}'
    ROWS_SQL="SELECT count(*), count(DISTINCT \"clientMessageId\") FROM \"Message\" WHERE \"threadId\" = 'th1' AND \"clientMessageId\" NOT LIKE 'seed-%'" ;;
  whatsapp)
    ROUTES="whatsapp-messages whatsapp-send"
    GET_URL="http://127.0.0.1:$CUT/api/whatsapp/messages?sessionId=wa1&jid=4915111111%40s.whatsapp.net&limit=20"
    POST_URL="http://127.0.0.1:$CUT/api/whatsapp/chat-messages"
    export BENCH_BODY='{"sessionId":"wa1","toJid":"4915111111@s.whatsapp.net","content":"bench message","clientMessageId":"%s-%d"}'
    ROWS_SQL="SELECT count(*), count(DISTINCT \"clientMessageId\") FROM whatsapp_outbox" ;;
  *) echo "domain must be user-threads or whatsapp" >&2; exit 64 ;;
esac
RUST_LOG=warn "$CUTOVER" serve --config "$WORK/cut/routes.toml" > "$WORK/cut.out" 2> "$WORK/cut.err" &
CUT_PID=$!

TOKEN=$(cd tests/tokens && echo "[{\"kind\":\"nextauth_v4\",\"secret\":\"$NEXTAUTH_SECRET\",\"claims\":{\"sub\":\"u1\",\"email\":\"alice@example.com\"},\"maxAge\":86400}]" \
  | node mint.mjs | python3 -c 'import json,sys;print(json.load(sys.stdin)[0]["token"])')
COOKIE="Cookie: next-auth.session-token=$TOKEN"

backend_of() { curl -s -o /dev/null -D - -H "$COOKIE" "$GET_URL" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-cutover-backend" {print $2}'; }
flip() { # side: flip the routes and wait until cutover answers from them
  for route in $ROUTES; do
    "$CUTOVER" flip "$route" "$1" --config "$WORK/cut/routes.toml" >/dev/null
  done
  for _ in $(seq 200); do [ "$(backend_of)" = "$1" ] && return 0; sleep 0.05; done
  echo "flip to $1 not applied" >&2; exit 1
}
for _ in $(seq 600); do [ "$(backend_of)" = next ] && break; sleep 0.1; done
[ "$(backend_of)" = next ] || { echo "cutover/next not up; see $WORK" >&2; cat "$WORK/cut.err" "$WORK/next.log" >&2; exit 1; }

cat > "$WORK/post.lua" <<'LUA'
local prefix = os.getenv("BENCH_PREFIX")
local body = os.getenv("BENCH_BODY")
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, string.format(body, prefix, n))
end
LUA

HZ=$(getconf CLK_TCK)
ticks() { # pid...: utime+stime of these processes, in clock ticks
  local t=0 pid f
  for pid in "$@"; do
    f=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    f=${f##*) }
    t=$((t + $(awk '{print $12 + $13}' <<<"$f")))
  done
  echo "$t"
}
cpu_now() { echo "$(ticks "$CUT_PID") $(ticks "$SOKETI_PID") $(ticks $(pgrep -x postgres))"; }

run() { # side op
  local out rps p50 p99 bad before after n cpu
  before=$(cpu_now)
  if [ "$2" = GET ]; then
    out=$(wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -H "$COOKIE" "$GET_URL")
  else
    out=$(BENCH_PREFIX="$1-$r" wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -H "$COOKIE" -s "$WORK/post.lua" "$POST_URL")
  fi
  after=$(cpu_now)
  n=$(awk '/requests in/ {print $1}' <<<"$out")
  cpu=$(awk -v b="$before" -v a="$after" -v n="$n" -v hz="$HZ" 'BEGIN {
    split(b, x, " "); split(a, y, " ");
    for (i = 1; i <= 3; i++) printf "%s%.0f", (i > 1 ? "/" : ""), (y[i] - x[i]) * 1e6 / hz / (n > 0 ? n : 1) }')
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  bad=$( (grep -E 'Non-2xx|Socket errors' <<<"$out" || true) | tr -s ' ' | paste -sd';' -)
  printf '%-6s %-5s %10s %10s %10s %16s  %s\n' "$1" "$2" "$rps" "$p50" "$p99" "$cpu" "${bad:-ok}"
  echo "$1 $2 $rps $(to_ms "$p99")" >> "$WORK/results"
}
to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) print v/1000; else if (v ~ /ms$/) print v+0; else if (v ~ /s$/) print v*1000; else print v }'; }

echo "$DOMAIN: cutover release; $ROUNDS rounds x ${SECS}s, $CONNS connections, wrk -t1; $(nproc) CPUs"
printf '%-6s %-5s %10s %10s %10s %16s  %s\n' side op req/s p50 p99 'cpu µs/req c/s/pg' errors
for r in $(seq "$ROUNDS"); do
  for side in $SIDES; do
    flip "$side"
    run "$side" GET
    run "$side" POST
  done
done
echo
awk '{k=$1" "$2; s[k]+=$3; p[k]+=$4; n[k]++} END {
  split("GET POST", ops, " ");
  for (i = 1; i <= 2; i++) { op = ops[i];
    if (!n["next " op] || !n["rust " op]) continue;
    nr = s["next " op]/n["next " op]; rr = s["rust " op]/n["rust " op];
    np = p["next " op]/n["next " op]; rp = p["rust " op]/n["rust " op];
    printf "%-4s messages: next %.0f req/s p99 %.1f ms | rust %.0f req/s p99 %.1f ms | rust/next throughput %.2fx, p99 %.2fx\n", op, nr, np, rr, rp, rr/nr, rp/np;
  }
}' "$WORK/results"
rows=$($PG -d "$DB" -tAc "$ROWS_SQL")
echo "POSTed rows (count, distinct clientMessageId): $rows"
