// The legacy frontend's RealtimeProvider, as /work/shared/reference/realtime-legacy.md
// describes it, run under node with pusher-js 8 (tests/realtime_legacy_client.rs):
//
// 1. GET CONFIG_URL with the identity (a NextAuth cookie, or the bearer header
//    of a chat token); only `success` and `config` are read: without
//    `success: true` realtime is off (printed as {"disabled": body}, exit 3).
// 2. new Pusher(config.key, {cluster: config.cluster ?? 'mt1', wsHost:
//    config.host, wsPort: config.port, forceTLS: config.useTLS, disableStats:
//    true, authorizer}); the authorizer POSTs JSON {socket_id, channel_name}
//    to AUTH_URL with the same identity, and on a non-2xx passes
//    `payload.error` on as the message.
// 3. Subscribes to every channel of CHANNELS (comma-separated) and binds the
//    three thread events on each.
//
// Prints one JSON line per fact: {"auth_error": {channel, status, error}},
// {"subscribed": channel, "members": {id: info}} (presence) or
// {"subscribed": channel}, {"subscription_error": channel, "status"},
// {"member_added": channel, id, info}, {"event", "channel", "data"}; and
// {"ready": true} once every channel succeeded or failed.
//
// env: CONFIG_URL, AUTH_URL, AUTH_HEADER (cookie | authorization),
//      AUTH_VALUE, CHANNELS
const Pusher = require('pusher-js');

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return v;
};

const out = (v) => process.stdout.write(JSON.stringify(v) + '\n');
const identity = { [env('AUTH_HEADER')]: env('AUTH_VALUE') };
const THREAD_EVENTS = ['tenant-user-message', 'tenant-user-message-read', 'tenant-user-message-delivered'];

const authorizer = (channel) => ({
  authorize: async (socketId, callback) => {
    try {
      const res = await fetch(env('AUTH_URL'), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...identity },
        body: JSON.stringify({ socket_id: socketId, channel_name: channel.name }),
      });
      const payload = await res.json().catch(() => ({}));
      if (!res.ok) {
        const error = typeof payload.error === 'string' ? payload.error : `HTTP ${res.status}`;
        out({ auth_error: { channel: channel.name, status: res.status, error } });
        return callback(new Error(error), null);
      }
      callback(null, payload);
    } catch (e) {
      callback(e, null);
    }
  },
});

async function main() {
  const res = await fetch(env('CONFIG_URL'), { headers: identity, cache: 'no-store' });
  const body = await res.json().catch(() => null);
  if (!body || body.success !== true || !body.config) {
    out({ disabled: body, status: res.status });
    process.exit(3);
  }
  const { config } = body;
  out({ config });
  const pusher = new Pusher(config.key, {
    cluster: config.cluster ?? 'mt1',
    wsHost: config.host,
    wsPort: config.port,
    forceTLS: config.useTLS,
    enabledTransports: ['ws'],
    disableStats: true,
    authorizer,
  });
  const names = env('CHANNELS').split(',');
  let pending = names.length;
  const settled = () => {
    pending -= 1;
    if (pending === 0) out({ ready: true });
  };
  for (const name of names) {
    const channel = pusher.subscribe(name);
    channel.bind('pusher:subscription_succeeded', (members) => {
      if (name.startsWith('presence-')) {
        const all = {};
        members.each((m) => { all[m.id] = m.info; });
        out({ subscribed: name, members: all, me: members.me && members.me.id });
      } else {
        out({ subscribed: name });
      }
      settled();
    });
    channel.bind('pusher:subscription_error', (e) => {
      out({ subscription_error: name, status: e && e.status });
      // The provider drops the channel so its hook can retry later.
      pusher.unsubscribe(name);
      settled();
    });
    channel.bind('pusher:member_added', (m) => out({ member_added: name, id: m.id, info: m.info }));
    for (const event of THREAD_EVENTS) {
      channel.bind(event, (data) => out({ event, channel: name, data }));
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
