// The writer for bench/sse.sh: one real chatbot send per conversation,
// `POST <base>/api/tenant-chatbot/conversations/<id>/messages` with the
// visitor's bearer token, body `bench <round> <t>` where t is CLOCK_MONOTONIC
// (process.hrtime, ns) taken just before the request is written, so a stream
// client computes write-to-client latency = its receive time − t.
// Prints {"sent":N,"failed":F,"status":{...},"ms":wall time of the round}.
//   node send.cjs <base url> <convs file: "<id> <token>" a line> <round> [concurrency=4]
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const [base, file, roundArg, concArg] = process.argv.slice(2);
const convs = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' '));
const round = Number(roundArg);
const conc = Number(concArg || 4);
const agent = new http.Agent({ keepAlive: true, maxSockets: conc });
const status = {};
let sent = 0;
let failed = 0;

function send([id, token]) {
  return new Promise((resolve) => {
    const t = process.hrtime.bigint();
    const body = JSON.stringify({ body: `bench ${round} ${t}`, clientMessageId: `bench-${round}-${t}` });
    const req = http.request(`${base}/api/tenant-chatbot/conversations/${id}/messages`, {
      method: 'POST',
      agent,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
    }, (res) => {
      status[res.statusCode] = (status[res.statusCode] || 0) + 1;
      if (res.statusCode === 201) sent += 1; else failed += 1;
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', () => { failed += 1; resolve(); });
    req.end(body);
  });
}

(async () => {
  const start = process.hrtime.bigint();
  let next = 0;
  const worker = async () => { while (next < convs.length) await send(convs[next++]); };
  await Promise.all(Array.from({ length: Math.min(conc, convs.length) }, worker));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(JSON.stringify({ sent, failed, status, ms: Math.round(ms) }));
  agent.destroy();
})();
