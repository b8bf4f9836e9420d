// A real Socket.IO 4 server standing in for the legacy app's gateway at
// /socket.io/* (the `next` backend in tests/socketio.rs).
//
//   node server.cjs            prints {"port":N} once listening on 127.0.0.1:0
//
// Env: SIO_TOKEN (the token the handshake `auth` must carry, required),
// SIO_PING_INTERVAL_MS / SIO_PING_TIMEOUT_MS (Engine.IO heartbeat, default
// 1000 / 2000). Namespace /chat: see chat.cjs.
'use strict';
const http = require('node:http');
const { Server } = require('socket.io');
const { attachChat } = require('./chat.cjs');

const token = process.env.SIO_TOKEN;
if (!token) {
  console.error('SIO_TOKEN must be set: the token clients must send in the handshake auth');
  process.exit(2);
}
const pingInterval = Number(process.env.SIO_PING_INTERVAL_MS || 1000);
const pingTimeout = Number(process.env.SIO_PING_TIMEOUT_MS || 2000);

const httpServer = http.createServer((req, res) => {
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: 'not_found', path: req.url }));
});
const io = new Server(httpServer, { path: '/socket.io/', pingInterval, pingTimeout });

attachChat(io, token);

httpServer.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: httpServer.address().port }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
