// A real Socket.IO 4 server standing in for the legacy app's gateway at
// /socket.io/* (the `next` backend in tests/socketio.rs).
//
//   node server.cjs            prints {"port":N} once listening on 127.0.0.1:0
//
// Env: SIO_TOKEN (the token the handshake `auth` must carry, required),
// SIO_PING_INTERVAL_MS / SIO_PING_TIMEOUT_MS (Engine.IO heartbeat, default
// 1000 / 2000). Namespace /chat:
//   client -> server  "say" (text, ack)   acked with {echo, transport}
//   client -> server  "ask" (text)        server emits "question" (text, ack)
//                                         and reports the client's ack as
//                                         "answer-received" {answer}
// A bad token is refused in the handshake: connect_error "unauthorized".
'use strict';
const http = require('node:http');
const { Server } = require('socket.io');

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

const chat = io.of('/chat');
chat.use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === token) {
    next();
  } else {
    const err = new Error('unauthorized');
    err.data = { reason: 'bad_token' };
    next(err);
  }
});
chat.on('connection', (socket) => {
  const transport = () => socket.conn.transport.name;
  socket.on('say', (text, ack) => {
    if (typeof ack === 'function') ack({ echo: text, transport: transport() });
  });
  socket.on('ask', (text) => {
    socket.timeout(5000).emit('question', text, (err, answer) => {
      socket.emit('answer-received', err ? { error: String(err) } : { answer });
    });
  });
});

httpServer.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: httpServer.address().port }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
