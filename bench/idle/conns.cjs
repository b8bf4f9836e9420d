// Hold idle client connections through a proxy. Each connection sends one
// request and reads its answer, then stays open and idle:
//   - keep-alive (default): `GET <path>`, the whole answer read;
//   - `ws`: a WebSocket upgrade of <path>, the 101 read; the tunnel then
//     carries nothing.
//
//   node bench/idle/conns.cjs <host:port> <n> [path=/] [ws]
//
// Prints {"open": n, "failed": f} once every connection has had its answer,
// then holds them until stdin closes (the caller measures the proxy's RSS).
// Each line read on stdin is answered with {"still_open": k}: how many of
// the held connections the proxy has not closed since.
'use strict';
const net = require('node:net');

const [hostport, nArg, path = '/', mode = 'keepalive'] = process.argv.slice(2);
const [host, port] = hostport.split(':');
const n = Number(nArg);
const ws = mode === 'ws';
const request = ws
  ? `GET ${path} HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
    + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'
  : `GET ${path} HTTP/1.1\r\nHost: bench\r\n\r\n`;
const sockets = [];
let open = 0;
let failed = 0;
let closed = 0;

// Whether `got` holds the whole answer this mode waits for.
function answered(got) {
  const end = got.indexOf('\r\n\r\n');
  if (end < 0) return false;
  if (ws) return got.startsWith('HTTP/1.1 101');
  const len = /content-length: *(\d+)/i.exec(got);
  return len !== null && got.length >= end + 4 + Number(len[1]);
}

function one() {
  return new Promise((resolve) => {
    const s = net.connect(Number(port), host, () => s.write(request));
    let got = '';
    let done = false;
    s.setEncoding('latin1');
    s.on('data', (d) => {
      got += d;
      if (!done && answered(got)) {
        done = true;
        open += 1;
        sockets.push(s);
        s.removeAllListeners('data');
        s.on('close', () => { closed += 1; });
        resolve();
      } else if (!done && got.indexOf('\r\n\r\n') >= 0 && ws) {
        done = true;
        failed += 1;
        s.destroy();
        resolve();
      }
    });
    const fail = () => { if (!done) { done = true; failed += 1; resolve(); } };
    s.on('error', fail);
    s.on('close', fail); // closed before its answer
  });
}

(async () => {
  let next = 0;
  const worker = async () => { while (next++ < n) await one(); };
  await Promise.all(Array.from({ length: 64 }, worker));
  process.stdout.write(JSON.stringify({ open, failed }) + '\n');
  process.stdin.on('data', () => {
    process.stdout.write(JSON.stringify({ still_open: open - closed }) + '\n');
  });
  // Reset rather than close: no TIME_WAIT left behind, so the next rows of
  // bench/idle.sh still find free ephemeral ports on 127.0.0.1.
  process.stdin.on('end', () => {
    for (const s of sockets) s.resetAndDestroy();
    setTimeout(() => process.exit(0), 100);
  });
})();
