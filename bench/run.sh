#!/usr/bin/env bash
# Proxy cost the way proxy engineers measure it: each proxy under test pinned
# to core 0, wrk and the origin (nginx, one worker) pinned to core 1, targets
# interleaved over rounds, and for each proxy its CPU µs per request
# (utime + stime from /proc/PID/stat before/after each run ÷ requests).
#
#   bench/run.sh [rounds=3] [seconds=10] [connections=50]
#
# Targets: the origin direct; nginx proxy_pass with upstream keepalive (one
# worker); the filter-less Pingora floor (examples/pingora_floor.rs, same
# vendored Pingora as cutover); cutover on unmatched pass-through; cutover on
# a route flagged `next` with auth = "required" and a real next-auth cookie.
# cutover runs as shipped: access log on at info (to a file). Needs nginx
# (apt-get install nginx-light), wrk, node (mints the cookie), 2 cores.
# For load-independent numbers use bench/callgrind.sh.
source "$(dirname "$0")/setup.sh"
ROUNDS=${1:-3}; SECS=${2:-10}; CONNS=${3:-50}
start_floor
start_cutover
NGINX_PID=$(nginx_worker)

run() { # name proxy-pid url [header]
  local name=$1 pid=$2 url=$3 out before after
  local hdr=(); [ -n "${4:-}" ] && hdr=(-H "$4")
  before=$([ "$pid" = - ] && echo 0 || cpu_us "$pid")
  out=$(taskset -c $LOAD_CORE wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "${hdr[@]}" "$url")
  after=$([ "$pid" = - ] && echo 0 || cpu_us "$pid")
  local reqs rps p50 p99 errs
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errs=$(awk '/Non-2xx|Socket errors/' <<<"$out")
  [ -z "$errs" ] || echo "warning: $name: $errs" >&2
  echo "$name $rps $(to_ms "$p50") $(to_ms "$p99") $(awk -v b="$before" -v a="$after" -v n="$reqs" 'BEGIN{print (a-b)/n}')" >> "$WORK/results"
}
to_ms() { awk -v v="$1" 'BEGIN{ if (v ~ /us$/) print (v+0) / 1000; else if (v ~ /ms$/) print v+0; else if (v ~ /s$/) print v*1000; else print v }'; }

for r in $(seq "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  run direct - "http://127.0.0.1:$ORIGIN/plain"
  run nginx "$NGINX_PID" "http://127.0.0.1:$NGINX/plain"
  run floor "$FLOOR_PID" "http://127.0.0.1:$FLOOR/plain"
  run cutover "$CUT_PID" "http://127.0.0.1:$CUT/plain"
  run cutover-auth "$CUT_PID" "http://127.0.0.1:$CUT/authed" "$COOKIE"
done
lines=$(grep -c 'cutover::access' "$WORK/cut.err" || true)
echo "cutover access log: $lines lines written (log on at info)"
echo
awk -v rounds="$ROUNDS" -v secs="$SECS" -v conns="$CONNS" '
  { n[$1]++; rps[$1]+=$2; p50[$1]+=$3; p99[$1]+=$4; cpu[$1]+=$5; if (!($1 in seen)) { seen[$1]=1; order[++k]=$1 } }
  END {
    printf "%d rounds x %ds, %d connections, proxy on core 0, wrk + origin on core 1 (means over rounds)\n", rounds, secs, conns
    printf "%-14s %10s %9s %9s %12s %9s %9s\n", "target", "req/s", "p50 ms", "p99 ms", "CPU us/req", "x nginx", "x floor"
    for (i=1; i<=k; i++) { t=order[i]; c=cpu[t]/n[t]; m[t]=c
      xn = (t=="direct") ? "-" : sprintf("%.2f", c/(cpu["nginx"]/n["nginx"]))
      xf = (t=="direct") ? "-" : sprintf("%.2f", c/(cpu["floor"]/n["floor"]))
      printf "%-14s %10.0f %9.3f %9.3f %12s %9s %9s\n", t, rps[t]/n[t], p50[t]/n[t], p99[t]/n[t], (t=="direct") ? "-" : sprintf("%.2f", c), xn, xf }
    printf "\ngoal 1  cutover / floor CPU        %.2f (<= 1.05)\n", m["cutover"]/m["floor"]
    printf "goal 2  floor / nginx CPU          %.2f (<= 1.3, standing 1.0)\n", m["floor"]/m["nginx"]
    printf "        cutover / nginx CPU        %.2f\n", m["cutover"]/m["nginx"]
    printf "goal 3  auth / pass-through CPU    %.2f (<= 1.1)\n", m["cutover-auth"]/m["cutover"]
    printf "        cutover / nginx req/s      %.2f\n", (rps["cutover"]/n["cutover"])/(rps["nginx"]/n["nginx"])
  }' "$WORK/results"
