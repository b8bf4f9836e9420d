#!/usr/bin/env bash
# Soak with faults (issue 17): mixed traffic through cutover against the real
# stack (pages, API reads and sends, realtime auth storms, a Soketi subscriber,
# an SSE reader, 20 + 3 Socket.IO clients, 8-32 MiB uploads and downloads)
# while flags flip every 100 ms, broken edits land, SIGHUPs arrive and
# Next, PostgreSQL (a private cluster), Redis (private), Soketi are killed and
# restarted in turn; asserts what tests/soak.rs says and writes the figures.
#
#   bench/soak.sh --short   # CI: one fault cycle (~70 s of load), debug build
#   bench/soak.sh --long    # by hand: SOAK_SECS (default 1800 s), >= 10,000 flips
#
# Any SOAK_* variable already set wins (see tests/soak.rs). Needs what the
# parity suite needs (node + npm, tests/legacy-next built or buildable,
# tests/realtime and tests/socketio installed), postgresql (initdb/pg_ctl under
# /usr/lib/postgresql/*/bin; run as root it uses runuser -u postgres) and
# redis-server. Figures: target/soak/summary-<profile>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${1:---short}
case "$PROFILE" in
  --short)
    : "${SOAK_SECS:=70}" "${SOAK_RATE:=8}" "${SOAK_FLIPS_PER_TICK:=1}" ;;
  --long)
    # 2 flips per 100 ms tick: >= 10,000 flips in 1800 s (and in ~850 s).
    : "${SOAK_SECS:=1800}" "${SOAK_RATE:=8}" "${SOAK_FLIPS_PER_TICK:=2}" ;;
  *) echo "usage: bench/soak.sh [--short|--long]" >&2; exit 2 ;;
esac
: "${SOAK_FLIP_MS:=100}" "${SOAK_BROKEN_MS:=4000}" "${SOAK_SIGHUP_MS:=7000}" "${SOAK_STORM:=20}"
: "${SOAK_SIO_CLIENTS:=20}" "${SOAK_SIO_POLLING:=3}" "${SOAK_TRANSFER_MS:=3000}"
mkdir -p target/soak
: "${SOAK_SUMMARY:=$PWD/target/soak/summary-${PROFILE#--}.json}"
export SOAK_SECS SOAK_RATE SOAK_FLIPS_PER_TICK SOAK_FLIP_MS SOAK_BROKEN_MS SOAK_SIGHUP_MS SOAK_STORM \
  SOAK_SIO_CLIENTS SOAK_SIO_POLLING SOAK_TRANSFER_MS SOAK_SUMMARY
[ -d tests/realtime/node_modules/@soketi ] || (cd tests/realtime && npm ci --no-audit --no-fund --loglevel=error)
[ -d tests/socketio/node_modules/socket.io-client ] || (cd tests/socketio && npm ci --no-audit --no-fund --loglevel=error)
cargo test --test soak -- --ignored --nocapture --test-threads=1
echo "figures: $SOAK_SUMMARY"
