// Read an SSE response as it arrives: `onFirst()` once at its first bytes,
// then `onEvent(text, receivedAt)` for every whole event (`\n\n`-ended),
// `receivedAt` the process.hrtime.bigint() when its last chunk arrived.
'use strict';

function readEvents(res, onFirst, onEvent) {
  let buf = '';
  let first = true;
  res.setEncoding('utf8');
  res.on('data', (chunk) => {
    const now = process.hrtime.bigint();
    if (first) { first = false; onFirst(); }
    buf += chunk;
    let at;
    while ((at = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, at);
      buf = buf.slice(at + 2);
      onEvent(ev, now);
    }
  });
}

module.exports = { readEvents };
