// Silent WebSocket upstream for bench/idle.sh: accepts every upgrade request
// with a 101 (RFC 6455 handshake, no frame library) and then sends nothing;
// `GET /reset` resets every held socket (RST: no TIME_WAIT left on the
// proxy's ephemeral ports, which the next rows of bench/idle.sh need); any
// other request gets a 32-byte 200 (warm-up and health probes).
//
//   node bench/idle/ws_upstream.cjs     prints {"port":N} once listening
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const held = new Set();
const server = http.createServer((req, res) => {
  if (req.url === '/reset') {
    const n = held.size;
    for (const s of held) s.resetAndDestroy();
    res.end(JSON.stringify({ reset: n }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' }).end('0123456789abcdef0123456789abcdef');
});
server.on('upgrade', (req, socket) => {
  const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + GUID).digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
    + `Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
  held.add(socket);
  socket.on('error', () => {});
  socket.on('close', () => held.delete(socket));
});
server.keepAliveTimeout = 0;
server.headersTimeout = 0;
server.requestTimeout = 0;
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
