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
#
# Then latency below saturation (goal 4): every target again at fixed rates
# (examples/load.rs rate=R,SECS, wrk2-style: latency from each request's
# scheduled time), interleaved over the same rounds. Two rates: RATE_PCT
# (default 70) % of nginx's max req/s from the first phase (the issue's
# example), and the same share of cutover-auth's max (below every proxy's
# saturation). "added p99" is a target's p99 minus the direct p99 at that
# rate; goal 4 is cutover's added p99 <= nginx's.
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
# Phase 2: fixed rates (goal 4).
RATE_PCT=${RATE_PCT:-70}
max_rps() { awk -v t="$1" '$1==t {s+=$2; n++} END {printf "%d", s/n}' "$WORK/results"; }
RATE_NGINX=$(( $(max_rps nginx) * RATE_PCT / 100 ))
RATE_AUTH=$(( $(max_rps cutover-auth) * RATE_PCT / 100 ))
at_rate() { # name rate url [header]
  local out
  out=$(taskset -c $LOAD_CORE "$LOAD_BIN" "$3" "$CONNS" "rate=$2,$SECS" ${4:+"$4"})
  local errs; errs=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$out")
  [ "$errs" = 0 ] || echo "warning: $1 at $2/s: $errs errors" >&2
  echo "$1 $2 $(sed -n 's/.*p50_ms=\([0-9.]*\) p99_ms=\([0-9.]*\).*/\1 \2/p' <<<"$out")" >> "$WORK/rates"
}
for r in $(seq "$ROUNDS"); do
  for rate in "$RATE_NGINX" "$RATE_AUTH"; do
    echo "fixed rate $rate/s, round $r/$ROUNDS" >&2
    at_rate direct "$rate" "http://127.0.0.1:$ORIGIN/plain"
    at_rate nginx "$rate" "http://127.0.0.1:$NGINX/plain"
    at_rate floor "$rate" "http://127.0.0.1:$FLOOR/plain"
    at_rate cutover "$rate" "http://127.0.0.1:$CUT/plain"
    at_rate cutover-auth "$rate" "http://127.0.0.1:$CUT/authed" "$COOKIE"
  done
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

echo
awk -v pct="$RATE_PCT" -v secs="$SECS" '
  { k=$1 SUBSEP $2; n[k]++; p50[k]+=$3; p99[k]+=$4
    if (!($1 in seen)) { seen[$1]=1; order[++t]=$1 } if (!($2 in rs)) { rs[$2]=1; rates[++m]=$2 } }
  END {
    for (j=1; j<=m; j++) { r=rates[j]
      printf "fixed rate %d req/s (%s%% of %s max), %ds per run (means over rounds)\n", r, pct, (j==1) ? "nginx" : "cutover-auth", secs
      printf "%-14s %9s %9s %14s\n", "target", "p50 ms", "p99 ms", "added p99 ms"
      d=p99["direct" SUBSEP r]/n["direct" SUBSEP r]
      for (i=1; i<=t; i++) { k=order[i] SUBSEP r; q=p99[k]/n[k]; add[order[i]]=q-d
        printf "%-14s %9.3f %9.3f %14s\n", order[i], p50[k]/n[k], q, (order[i]=="direct") ? "-" : sprintf("%.3f", q-d) }
      printf "goal 4  cutover added p99 %.3f ms vs nginx %.3f ms (%s)\n\n", add["cutover"], add["nginx"], (add["cutover"] <= add["nginx"]) ? "met" : "not met"
    }
  }' "$WORK/rates"
