// pace.js: keeps a connection's sends within the limits its welcome
// announced, so that a burst of messages waits instead of being refused.
// The server's rate_limited, with its retry_after_ms, stays the authority
// when the two disagree.

// Bucket is a token bucket that lends: a take that finds too few tokens
// still takes them and says how long to wait, so takers queue in order.
class Bucket {
  constructor(rate, burst) {
    this.rate = rate; // tokens per second
    this.burst = burst;
    this.tokens = burst; // full, like the server's for a new connection
    this.at = performance.now();
  }

  // take removes n tokens and returns how many milliseconds to wait first.
  take(n) {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
    this.tokens -= Math.min(n, this.burst);
    return this.tokens >= 0 ? 0 : (-this.tokens / this.rate) * 1000;
  }
}

export class Pacer {
  #msgs = null;
  #bytes = null;

  // reset follows a welcome's limits. The buckets hold a little less than
  // the server's: sends spaced exactly by the rate may reach it closer
  // together than they left.
  reset(limits) {
    const rate = Number(limits?.send_rate) || 0;
    const byteRate = Number(limits?.send_byte_rate) || 0;
    this.#msgs = rate > 0 ? new Bucket(rate, Math.max((Number(limits.send_burst) || 0) - 1, 1)) : null;
    this.#bytes = byteRate > 0 ? new Bucket(byteRate, Math.max(Math.floor((Number(limits.send_byte_burst) || 0) * 0.9), 1)) : null;
  }

  // wait resolves once a message costing its recipients bytes may be sent.
  wait(bytes) {
    const ms = Math.max(this.#msgs?.take(1) ?? 0, this.#bytes?.take(bytes) ?? 0);
    return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
  }
}
