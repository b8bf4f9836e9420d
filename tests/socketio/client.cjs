// The real socket.io-client, driven through cutover by tests/socketio.rs.
// Prints one JSON object per line (what it saw), then exits 0; exits 1 after
// printing {"event":"error",...} when the scenario does not complete.
//
//   node client.cjs <scenario> <base-url> <token> [heartbeats]
//
// Scenarios (namespace /chat, token in the handshake `auth`):
//   upgrade    default transports: polling handshake, upgrade to WebSocket,
//              then "say" with an ack and a server "question" the client acks
//   polling    transports: ['polling'] only: stays connected across
//              <heartbeats> Engine.IO pings (held long-polls), then the same
//              messages both ways
//   badtoken   expects the handshake to be refused (connect_error)
'use strict';
const { io } = require('socket.io-client');

const [scenario, base, token, beats] = process.argv.slice(2);
const heartbeats = Number(beats || 4);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const fail = (why) => {
  out({ event: 'error', why });
  process.exit(1);
};
if (!scenario || !base || !token) fail('usage: client.cjs <scenario> <base-url> <token> [heartbeats]');
setTimeout(() => fail(`scenario ${scenario} did not finish within 30 s`), 30000).unref();

const opts = { auth: { token }, reconnection: false, timeout: 10000 };
if (scenario === 'polling') opts.transports = ['polling'];
const socket = io(`${base}/chat`, opts);
const engine = () => socket.io.engine;
// The transport the engine opened with (before any upgrade): by the time
// `connect` runs, a fast upgrade may already have happened.
let opened = null;
socket.io.on('open', () => {
  opened = engine().transport.name;
});

socket.on('connect_error', (err) => {
  out({ event: 'connect_error', message: err.message, data: err.data || null });
  if (scenario === 'badtoken') process.exit(0);
  fail(`connect_error: ${err.message}`);
});
socket.on('disconnect', (reason) => {
  out({ event: 'disconnect', reason });
  // Only our own close at the end is expected (e.g. not "transport error": a cut poll).
  if (reason !== 'io client disconnect') fail(`disconnected: ${reason}`);
});

// Both directions, each with an acknowledgement.
async function exchange() {
  const ack = await socket.timeout(5000).emitWithAck('say', `hello over ${engine().transport.name}`);
  out({ event: 'ack', ...ack });
  const answered = new Promise((resolve) => socket.once('answer-received', resolve));
  socket.emit('ask', 'ready?');
  out({ event: 'answer-received', ...(await answered) });
}

socket.on('question', (text, ack) => {
  out({ event: 'question', text });
  ack(`yes: ${text}`);
});

socket.on('connect', async () => {
  if (scenario === 'badtoken') fail('a bad token connected');
  out({ event: 'connect', transport: engine().transport.name, opened, id: socket.id });
  try {
    if (scenario === 'upgrade') {
      if (engine().transport.name !== 'websocket') {
        await new Promise((resolve) => engine().once('upgrade', resolve));
      }
      out({ event: 'upgrade', transport: engine().transport.name });
    } else if (scenario === 'polling') {
      let pings = 0;
      const started = Date.now();
      await new Promise((resolve) =>
        engine().on('ping', () => {
          pings += 1;
          out({ event: 'ping', n: pings, transport: engine().transport.name, ms: Date.now() - started });
          if (pings === heartbeats) resolve();
        }),
      );
    }
    await exchange();
    out({ event: 'done', transport: engine().transport.name, connected: socket.connected });
    socket.close();
    process.exit(0);
  } catch (err) {
    fail(String(err && err.message ? err.message : err));
  }
});
