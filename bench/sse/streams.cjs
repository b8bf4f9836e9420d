// SSE clients for bench/sse.sh on the real chatbot stream route: opens one
// idle stream per line of a URL file (lines <from>..<from+count>), prints
// {"open":N,"failed":F,"status":{...},"backend":{...}} once all are open
// (backend: their x-cutover-backend), then reads every `message.created`
// event. Each event's message body is `bench <round> <t>`, t = the writer's
// CLOCK_MONOTONIC (process.hrtime) just before its POST, so latency =
// receive time − t (same clock, one machine). Prints {"round":k} when every
// open stream has round k's event. On stdin's end it writes the latencies
// (ms, one a line) to <out> and prints a summary:
// {"streams","events","dups","foreign","ended","perRound":[...]} (foreign:
// events of another conversation; ended: streams the server closed), then
// exits.
//   node streams.cjs <urls file> <from> <count> <out> [concurrency=100]
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const { readEvents } = require('./events.cjs');
const [file, fromArg, countArg, out, concArg] = process.argv.slice(2);
const urls = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)
  .slice(Number(fromArg), Number(fromArg) + Number(countArg));
const conc = Number(concArg || 100);
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const latencies = [];
const perRound = []; // perRound[k] = streams that got round k
const status = {};
const backend = {}; // x-cutover-backend of the open streams
let opened = 0;
let failed = 0;
let dups = 0;
let foreign = 0;
let ended = 0;

function onEvent(conv, seen, frame, now) {
  if (!/^event: message\.created$/m.test(frame)) return;
  const data = /^data: (.*)$/m.exec(frame);
  const event = data && JSON.parse(data[1]);
  const m = event && /^bench (\d+) (\d+)$/.exec(event.message.body);
  if (!m) return;
  if (event.conversationId !== conv) { foreign += 1; return; }
  const round = Number(m[1]);
  if (seen.has(round)) { dups += 1; return; }
  seen.add(round);
  latencies.push(Number(now - BigInt(m[2])) / 1e6);
  perRound[round] = (perRound[round] || 0) + 1;
  if (perRound[round] === opened) console.log(JSON.stringify({ round }));
}

function open(url) {
  const conv = /\/conversations\/([^/]+)\/stream/.exec(url)[1];
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers: { accept: 'text/event-stream' } }, (res) => {
      status[res.statusCode] = (status[res.statusCode] || 0) + 1;
      if (res.statusCode !== 200) { failed += 1; res.resume(); return resolve(); }
      const by = res.headers['x-cutover-backend'] || 'none';
      backend[by] = (backend[by] || 0) + 1;
      const seen = new Set();
      readEvents(
        res,
        () => { opened += 1; resolve(); },
        (ev, now) => onEvent(conv, seen, ev, now),
      );
      res.on('end', () => { ended += 1; });
      res.on('error', () => {});
    });
    req.on('error', () => { failed += 1; resolve(); });
  });
}

(async () => {
  let next = 0;
  const worker = async () => { while (next < urls.length) await open(urls[next++]); };
  await Promise.all(Array.from({ length: Math.min(conc, urls.length) }, worker));
  console.log(JSON.stringify({ open: opened, failed, status, backend }));
  process.stdin.resume();
  process.stdin.on('end', () => {
    fs.writeFileSync(out, latencies.map((l) => l.toFixed(3)).join('\n') + '\n');
    console.log(JSON.stringify({
      streams: opened, events: latencies.length, dups, foreign, ended, perRound: perRound.slice(1),
    }));
    process.exit(0);
  });
})();
