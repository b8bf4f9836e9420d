// The worker's HTTP client: service token on every request, retries on
// connection errors and 502/503/504 with the very same body (the batchId in
// it is what makes a retried POST idempotent), and a record of every final
// answer.
const RETRY_STATUSES = new Set([502, 503, 504]);
const MAX_ATTEMPTS = 20;
const TIMEOUT_MS = 15_000;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** 50, 100, 200, 200, ... ms. */
function backoff(attempt) {
  return Math.min(200, 50 * 2 ** (attempt - 1));
}

export class WorkerApi {
  constructor({ base, token, keepTranscript, log }) {
    this.base = base.replace(/\/+$/, "");
    this.token = token;
    this.keepTranscript = keepTranscript;
    this.log = log;
    this.transcript = [];
    this.failures = [];
    this.duplicates = 0;
  }

  /**
   * One logical request. `body` is a string (sent as is on every attempt) or
   * undefined. Returns {status, text, json}; status 0 means no HTTP answer
   * after all attempts (text then says why).
   */
  async call(label, method, path, body) {
    let status = 0;
    let text = "";
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      try {
        const res = await fetch(this.base + path, {
          method,
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body,
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        status = res.status;
        text = await res.text();
      } catch (err) {
        status = 0;
        text = `connection error: ${err.cause?.code ?? err.cause?.message ?? err.message}`;
      }
      if (status !== 0 && !RETRY_STATUSES.has(status)) break;
      if (attempt < MAX_ATTEMPTS) {
        this.log(`${label}: ${status || text}, retry ${attempt}`);
        await sleep(backoff(attempt));
      }
    }
    return this.#record(label, method, path, status, text);
  }

  #record(label, method, path, status, text) {
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON: kept as text only
    }
    if (json && json.duplicate === true) this.duplicates++;
    if (this.keepTranscript) this.transcript.push({ label, method, path, status, body: text });
    if (status < 200 || status > 299) {
      this.failures.push({ label, status, body: text });
      this.log(`${label}: FAILED ${status} ${text.slice(0, 200)}`);
    }
    return { status, text, json, ok: status >= 200 && status <= 299 };
  }
}
