// A real pusher-js 8 client (the library the frontend's RealtimeContext uses),
// for the flip-under-traffic test: connects to Soketi, authorizes a private
// channel through cutover's POST /api/chat/realtime/auth with the user's
// session cookie (what the browser sends), and prints one JSON line per
// event: {"ready":true} once subscribed, then {"event","data"} per event.
//
// env: SOKETI_PORT, PUSHER_KEY, AUTH_URL, COOKIE, CHANNEL, EVENT
const Pusher = require('pusher-js');

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return v;
};

const port = Number(env('SOKETI_PORT'));
const pusher = new Pusher(env('PUSHER_KEY'), {
  cluster: 'mt1',
  wsHost: '127.0.0.1',
  wsPort: port,
  forceTLS: false,
  enabledTransports: ['ws'],
  disableStats: true,
  channelAuthorization: {
    customHandler: async ({ socketId, channelName }, callback) => {
      try {
        const res = await fetch(env('AUTH_URL'), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: env('COOKIE') },
          body: new URLSearchParams({ socket_id: socketId, channel_name: channelName }),
        });
        if (!res.ok) return callback(new Error(`auth answered ${res.status}`), null);
        callback(null, await res.json());
      } catch (e) {
        callback(e, null);
      }
    },
  },
});

const out = (v) => process.stdout.write(JSON.stringify(v) + '\n');
const channel = pusher.subscribe(env('CHANNEL'));
channel.bind('pusher:subscription_succeeded', () => out({ ready: true }));
channel.bind('pusher:subscription_error', (e) => {
  out({ error: String(e && (e.error || e.status || e)) });
  process.exit(1);
});
channel.bind(env('EVENT'), (data) => out({ event: env('EVENT'), data }));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
