// The /chat namespace both Socket.IO servers here serve (server.cjs, the
// stand-in gateway; next-server.cjs, the Next custom server):
//   client -> server  "say" (text, ack)   acked with {echo, transport}
//   client -> server  "ask" (text)        server emits "question" (text, ack)
//                                         and reports the client's ack as
//                                         "answer-received" {answer}
// A handshake whose `auth.token` is not `token` is refused: connect_error
// "unauthorized" with data {reason: "bad_token"}.
'use strict';

function attachChat(io, token) {
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
}

module.exports = { attachChat };
