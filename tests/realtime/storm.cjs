// N real pusher-js 8 clients in one node process (CPU is shared), each
// holding one private channel whose authorization goes through cutover's
// POST /api/chat/realtime/auth. Driven by commands on stdin, one per line;
// answers one JSON line on stdout per command (and one at start):
//
//   (start)            subscribe all; {"phase":"subscribed","ok":k,"ms":t,...}
//   storm <ms> <every> for <ms>, every <every> ms each client drops its
//                      socket and reconnects (pusher-js re-authorizes every
//                      private channel on each reconnect); {"phase":"storm",...}
//   recover <ms>       stop storming, reconnect once, wait until every client
//                      is subscribed again (or <ms>); {"phase":"recovered",...}
//
// Like a naive app, a client whose authorization fails asks again after
// RETRY_MS (pusher-js itself does not retry) — except between the end of a
// storm and `recover`, so the storm's numbers are final when reported. Every auth call is counted by
// its answer: HTTP status, whether 429/503 carried Retry-After, and network
// errors (cutover not answering).
//
// env: SOKETI_PORT, PUSHER_KEY, AUTH_URL, CLIENTS, RETRY_MS
const Pusher = require('pusher-js');
const readline = require('readline');

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return v;
};

Pusher.log = () => {};
const port = Number(env('SOKETI_PORT'));
const authUrl = env('AUTH_URL');
const clients = Number(env('CLIENTS'));
const retryMs = Number(env('RETRY_MS'));

let tally;
const resetTally = () => {
  tally = { attempts: 0, status: {}, network_errors: 0, no_retry_after: 0 };
};
resetTally();

const authorize = async ({ socketId, channelName }, callback) => {
  tally.attempts += 1;
  let res;
  try {
    res = await fetch(authUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ socket_id: socketId, channel_name: channelName }),
    });
  } catch (e) {
    tally.network_errors += 1;
    return callback(e, null);
  }
  tally.status[res.status] = (tally.status[res.status] || 0) + 1;
  if ((res.status === 429 || res.status === 503) && !res.headers.get('retry-after')) {
    tally.no_retry_after += 1;
  }
  if (!res.ok) {
    await res.arrayBuffer().catch(() => {});
    return callback(new Error(`auth answered ${res.status}`), null);
  }
  try {
    callback(null, await res.json());
  } catch (e) {
    tally.network_errors += 1;
    callback(e, null);
  }
};

// Off between a storm and the recovery, so the backend's count is final.
let retrying = true;
// subscribedAt[i]: when client i last got pusher:subscription_succeeded.
const subscribedAt = new Array(clients).fill(0);
const pushers = [];
for (let i = 0; i < clients; i++) {
  const pusher = new Pusher(env('PUSHER_KEY'), {
    cluster: 'mt1',
    wsHost: '127.0.0.1',
    wsPort: port,
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: { customHandler: authorize },
  });
  const name = `private-storm-${i}`;
  const channel = pusher.subscribe(name);
  channel.bind('pusher:subscription_succeeded', () => {
    subscribedAt[i] = Date.now();
  });
  channel.bind('pusher:subscription_error', () => {
    setTimeout(() => {
      if (retrying && pusher.connection.state === 'connected') pusher.subscribe(name);
    }, retryMs);
  });
  pushers.push(pusher);
}

const out = (v) => process.stdout.write(JSON.stringify(v) + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Wait until every client subscribed after `since`, or `within` ms pass.
const waitSubscribed = async (since, within) => {
  const deadline = Date.now() + within;
  let ok = 0;
  while (Date.now() < deadline) {
    ok = subscribedAt.filter((t) => t > since).length;
    if (ok === clients) break;
    await sleep(50);
  }
  return { ok: subscribedAt.filter((t) => t > since).length, ms: Date.now() - since };
};

const commands = readline.createInterface({ input: process.stdin });
const queue = [];
let wake = null;
commands.on('line', (line) => {
  queue.push(line.trim().split(/\s+/));
  if (wake) wake();
});
commands.on('close', () => process.exit(0));
const nextCommand = async () => {
  while (queue.length === 0) await new Promise((r) => (wake = r));
  return queue.shift();
};

(async () => {
  const start = Date.now() - 1;
  out({ phase: 'subscribed', ...(await waitSubscribed(start, 20000)), ...tally });
  for (;;) {
    const [cmd, a, b] = await nextCommand();
    resetTally();
    if (cmd === 'storm') {
      const [ms, every] = [Number(a), Number(b)];
      const end = Date.now() + ms;
      while (Date.now() < end) {
        for (const p of pushers) {
          p.disconnect();
          p.connect();
        }
        await sleep(every);
      }
      retrying = false;
      await sleep(300);
      out({ phase: 'storm', ...tally });
    } else if (cmd === 'recover') {
      const since = Date.now();
      retrying = true;
      for (const p of pushers) {
        p.disconnect();
        p.connect();
      }
      out({ phase: 'recovered', ...(await waitSubscribed(since, Number(a))), ...tally });
    } else {
      console.error(`unknown command ${cmd}`);
      process.exit(2);
    }
  }
})();
