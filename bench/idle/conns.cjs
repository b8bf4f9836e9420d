// Hold idle keep-alive client connections through a proxy: each connection
// sends one `GET <path>`, reads its whole answer, then stays open and idle.
//
//   node bench/idle/conns.cjs <host:port> <n> [path=/]
//
// Prints {"open": n, "failed": f} once every connection has had its answer,
// then holds them until stdin closes (the caller measures the proxy's RSS).
'use strict';
const net = require('node:net');

const [hostport, nArg, path = '/'] = process.argv.slice(2);
const [host, port] = hostport.split(':');
const n = Number(nArg);
const sockets = [];
let open = 0;
let failed = 0;

function one() {
  return new Promise((resolve) => {
    const s = net.connect(Number(port), host, () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: bench\r\n\r\n`);
    });
    let got = '';
    s.setEncoding('latin1');
    s.on('data', (d) => {
      got += d;
      const end = got.indexOf('\r\n\r\n');
      const len = /content-length: *(\d+)/i.exec(got);
      if (end >= 0 && len && got.length >= end + 4 + Number(len[1])) {
        open += 1;
        sockets.push(s);
        s.removeAllListeners('data');
        resolve();
      }
    });
    s.on('error', () => { failed += 1; resolve(); });
  });
}

(async () => {
  let next = 0;
  const worker = async () => { while (next++ < n) await one(); };
  await Promise.all(Array.from({ length: 64 }, worker));
  process.stdout.write(JSON.stringify({ open, failed }) + '\n');
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
})();
