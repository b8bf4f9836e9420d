// Long-lived real socket.io-clients for the soak (tests/soak/sockets.rs):
// each connects to <base>/chat (token in the handshake `auth`) on one
// transport, then sends "say" with an acknowledgement every <every-ms> while
// connected, checking each ack's echo. Reconnects on its own (socket.io's
// reconnection) when the server goes away. Runs until stdin closes, then
// waits for the acks in flight and prints each client's summary.
//
//   node soak-clients.cjs <base-url> <token> <websocket-n> <polling-n> <every-ms>
//
// One JSON object per line, `t` in Unix ms:
//   {"ev":"connect","c":i,"transport":"websocket","t":..}
//   {"ev":"disconnect","c":i,"reason":"transport close","t":..}
//   {"ev":"connect_error","c":i,"message":"...","t":..}
//   {"ev":"ack_failed","c":i,"seq":n,"sent":t0,"t":..,"why":"..."}
//   {"ev":"summary","c":i,"transport":..,"sent":n,"acked":n,"failed":n,
//    "connects":n,"connected":bool,"last_ack":t,"slowest_ack_ms":n}
//   {"ev":"done"}
'use strict';
const { io } = require('socket.io-client');

const [base, token, wsN, pollN, everyMs] = process.argv.slice(2);
const every = Number(everyMs || 250);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let stopping = false;

function client(c, transport) {
  const socket = io(`${base}/chat`, {
    auth: { token },
    transports: [transport],
    reconnectionDelay: 500,
    reconnectionDelayMax: 2000,
    timeout: 10000,
  });
  const s = { c, transport, sent: 0, acked: 0, failed: 0, connects: 0, last_ack: 0, slowest_ack_ms: 0 };
  socket.on('connect', () => {
    s.connects += 1;
    out({ ev: 'connect', c, transport: socket.io.engine.transport.name, t: Date.now() });
  });
  socket.on('disconnect', (reason) => {
    if (!stopping) out({ ev: 'disconnect', c, reason, t: Date.now() });
  });
  socket.on('connect_error', (err) => {
    out({ ev: 'connect_error', c, message: String(err && err.message), t: Date.now() });
  });
  const run = (async () => {
    let seq = 0;
    while (!stopping) {
      if (!socket.connected) {
        await sleep(50);
        continue;
      }
      seq += 1;
      s.sent += 1;
      const text = `c${c}-${seq}`;
      const sent = Date.now();
      try {
        const ack = await socket.timeout(5000).emitWithAck('say', text);
        if (!ack || ack.echo !== text) throw new Error(`echo ${JSON.stringify(ack)}`);
        s.acked += 1;
        s.last_ack = Date.now();
        s.slowest_ack_ms = Math.max(s.slowest_ack_ms, s.last_ack - sent);
      } catch (err) {
        s.failed += 1;
        out({ ev: 'ack_failed', c, seq, sent, t: Date.now(), why: String(err && err.message) });
      }
      await sleep(every);
    }
  })();
  return { socket, s, run };
}

const clients = [];
for (let i = 0; i < Number(wsN); i += 1) clients.push(client(clients.length, 'websocket'));
for (let i = 0; i < Number(pollN); i += 1) clients.push(client(clients.length, 'polling'));

process.stdin.resume();
process.stdin.on('end', async () => {
  stopping = true;
  await Promise.all(clients.map((k) => k.run));
  for (const k of clients) {
    out({ ev: 'summary', ...k.s, connected: k.socket.connected });
    k.socket.close();
  }
  out({ ev: 'done' });
  process.exit(0);
});
