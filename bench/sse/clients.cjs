// SSE clients for bench/sse.sh: opens N idle streams to URL, prints
// {"open":N} once all are open, then waits for "emit <k>" lines on stdin;
// after each, prints when every stream has received the k-th event:
// {"round":k,"received":N,"p50_ms":..,"p99_ms":..} where latency = receive
// time − the upstream's write time (both CLOCK_MONOTONIC).
//   node clients.cjs <url> <n> [concurrency]
'use strict';
const http = require('node:http');
const { readEvents } = require('./events.cjs');
const readline = require('node:readline');
const [url, nArg, concArg] = process.argv.slice(2);
const n = Number(nArg || 1000);
const conc = Number(concArg || 200);
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
let opened = 0;
let failed = 0;
let round = [];
let expect = 0;

function open(i) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) { failed += 1; res.resume(); return resolve(); }
      readEvents(
        res,
        () => { opened += 1; resolve(); },
        (ev, now) => {
          const m = /^data: (\d+)$/m.exec(ev);
          if (m) {
            round.push(Number(now - BigInt(m[1])) / 1e6);
            if (round.length === expect) report();
          }
        },
      );
      res.on('error', () => {});
    });
    req.on('error', () => { failed += 1; resolve(); });
  });
}

let k = 0;
function report() {
  const s = round.slice().sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  console.log(JSON.stringify({ round: k, received: s.length, p50_ms: +q(0.5).toFixed(3), p99_ms: +q(0.99).toFixed(3) }));
}

(async () => {
  for (let i = 0; i < n; i += conc) {
    await Promise.all(Array.from({ length: Math.min(conc, n - i) }, (_, j) => open(i + j)));
  }
  console.log(JSON.stringify({ open: opened, failed }));
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.startsWith('emit')) { k += 1; round = []; expect = opened; }
  }).on('close', () => process.exit(0));
})();
