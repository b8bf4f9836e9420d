// Stand-in SSE upstream for bench/sse.sh: holds every `GET /stream` open
// (a comment, then nothing) and, on `POST /emit`, writes one event to every
// open stream carrying the monotonic time it was written (process.hrtime,
// CLOCK_MONOTONIC: comparable across processes on one machine).
//   node upstream.cjs     prints {"port":N}; GET /count -> open streams
'use strict';
const http = require('node:http');
const streams = new Set();
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/stream')) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(': open\n\n');
    streams.add(res);
    req.on('close', () => streams.delete(res));
  } else if (req.url === '/emit' && req.method === 'POST') {
    let n = 0;
    for (const s of streams) {
      s.write(`event: tick\ndata: ${process.hrtime.bigint()}\n\n`);
      n += 1;
    }
    res.end(JSON.stringify({ sent: n }));
  } else if (req.url === '/count') {
    res.end(JSON.stringify({ open: streams.size }));
  } else {
    res.writeHead(404).end();
  }
});
server.keepAliveTimeout = 0;
server.headersTimeout = 0;
server.requestTimeout = 0;
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
