// Percentiles of the latency files bench/sse/streams.cjs wrote (ms, one a
// line): prints "<count> <p50> <p99> <max>".
//   node percentiles.cjs <file>...
'use strict';
const fs = require('node:fs');
const all = process.argv.slice(2)
  .flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map(Number))
  .sort((a, b) => a - b);
const q = (p) => (all.length ? all[Math.min(all.length - 1, Math.floor(p * all.length))] : NaN);
console.log([all.length, ...[q(0.5), q(0.99), all[all.length - 1]].map((v) => (+v).toFixed(1))].join(' '));
