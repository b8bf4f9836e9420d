// Seeded deterministic byte stream (HMAC-SHA-256 in counter mode). Everything
// the worker makes up (jids, key ids, media keys, file bytes) comes from one of
// these, so the same flags give byte-identical request bodies on every run.
import { createHash, createHmac } from "node:crypto";

export class Rng {
  constructor(label) {
    this.key = createHash("sha256").update(String(label)).digest();
    this.counter = 0;
    this.pool = Buffer.alloc(0);
  }

  /** An independent stream for one purpose, so adding draws to one part of
   *  the fixture does not shift the bytes of another. */
  fork(label) {
    return new Rng(`${this.key.toString("hex")}/${label}`);
  }

  bytes(n) {
    while (this.pool.length < n) {
      const block = createHmac("sha256", this.key).update(String(this.counter++)).digest();
      this.pool = Buffer.concat([this.pool, block]);
    }
    const out = Buffer.from(this.pool.subarray(0, n));
    this.pool = this.pool.subarray(n);
    return out;
  }

  /** Integer in [0, n). */
  int(n) {
    return this.bytes(4).readUInt32BE(0) % n;
  }

  chance(p) {
    return this.int(1_000_000) < p * 1_000_000;
  }

  pick(list) {
    return list[this.int(list.length)];
  }

  /** Picks a key of {name: weight}. */
  weighted(weights) {
    const total = Object.values(weights).reduce((a, b) => a + b, 0);
    let r = this.int(total);
    for (const [name, w] of Object.entries(weights)) {
      if (r < w) return name;
      r -= w;
    }
    throw new Error("unreachable");
  }

  hexUpper(nBytes) {
    return this.bytes(nBytes).toString("hex").toUpperCase();
  }

  digits(n) {
    let s = "";
    while (s.length < n) s += String(this.int(10));
    return s;
  }
}
