// The legacy Next app run the way teams that use Socket.IO with Next run it:
// a custom server (one node process) whose http server hands every request to
// Next's request handler, with a Socket.IO 4 gateway attached to the same
// server at /socket.io/ and an upload endpoint beside it. Used by the soak
// (tests/soak/stack.rs) as the `next` backend; everything else runs
// `next start`.
//
//   node next-server.cjs <port>   listens on 127.0.0.1:<port> once Next is ready
//
// Env: what the app needs (DATABASE_URL, PUSHER_*, NEXTAUTH_*, ...), plus
// SIO_TOKEN (the token the handshake `auth` must carry, required) and
// SIO_PING_INTERVAL_MS / SIO_PING_TIMEOUT_MS (Engine.IO heartbeat, default
// 25000 / 20000, socket.io's own defaults).
//
// Socket.IO namespace /chat: see chat.cjs (as tests/socketio/server.cjs).
//
// POST /uploads/<name>: the body is streamed through SHA-256 (never held) and
// answered with {"bytes": n, "sha256": hex}.
'use strict';
const crypto = require('node:crypto');
const http = require('node:http');
const path = require('node:path');
const { Server } = require('socket.io');
const { attachChat } = require('./chat.cjs');

const dir = path.resolve(__dirname, '../legacy-next');
// Next from the app's own node_modules, by absolute path (no second install).
const next = require(path.join(dir, 'node_modules/next'));

const port = Number(process.argv[2]);
const token = process.env.SIO_TOKEN;
if (!port || !token) {
  console.error('usage: SIO_TOKEN=... node next-server.cjs <port> (run from tests/legacy-next)');
  process.exit(2);
}
const pingInterval = Number(process.env.SIO_PING_INTERVAL_MS || 25000);
const pingTimeout = Number(process.env.SIO_PING_TIMEOUT_MS || 20000);

function upload(req, res) {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  req.on('data', (chunk) => {
    bytes += chunk.length;
    hash.update(chunk);
  });
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') }));
  });
  req.on('error', () => res.destroy());
}

async function main() {
  const app = next({ dev: false, dir, hostname: '127.0.0.1', port });
  const handle = app.getRequestHandler();
  await app.prepare();
  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url.startsWith('/uploads/')) return upload(req, res);
    handle(req, res);
  });
  attachChat(new Server(server, { path: '/socket.io/', pingInterval, pingTimeout }), token);
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port }) + '\n');
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
process.on('SIGTERM', () => process.exit(0));
