// conn.js: one chatd.v1 connection that survives its socket. It matches
// replies to requests by id, hands every other event to the app, and
// reconnects by itself with jittered exponential backoff.

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 20000;
const REQUEST_TIMEOUT_MS = 20000;

// CLOSE_UNAUTHORIZED is the close code of a token that is invalid,
// expired or revoked: reconnecting with it cannot help.
export const CLOSE_UNAUTHORIZED = 4001;

// RequestError is a refused request: code is the protocol's error code, or
// "disconnected" / "timeout" when no reply came.
export class RequestError extends Error {
  constructor(code, message, retryAfterMs = 0) {
    super(message || code);
    this.code = code;
    this.retryAfterMs = retryAfterMs; // rate_limited: when to send it again
  }
}

// Conn calls these handlers, all optional:
//   endpoint() -> {url, protocols}   read before every (re)connect
//   onWelcome(ev)                    a new socket is ready
//   onEvent(ev)                      any event that is not a reply
//   onState(state)                   "connecting" | "open" | "waiting" | "stopped"
//   onClose(code, reason, opened)    the socket ended; return false to stay down
export class Conn {
  #h;
  #ws = null;
  #ready = false;
  #nextId = 1;
  #pending = new Map();
  #attempt = 0;
  #timer = 0;
  #stopped = true;

  constructor(handlers) {
    this.#h = handlers;
    this.state = "stopped";
    this.retryAt = 0;
  }

  // ready reports whether requests can be sent now (welcome received).
  get ready() {
    return this.#ready;
  }

  start() {
    this.#stopped = false;
    this.#connect();
  }

  // stop closes the socket for good; pending requests fail.
  stop() {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const ws = this.#ws;
    this.#drop();
    if (ws) ws.close(1000);
    this.#setState("stopped");
  }

  // retryNow skips the rest of a backoff wait.
  retryNow() {
    if (this.state !== "waiting") return;
    clearTimeout(this.#timer);
    this.#connect();
  }

  // request sends msg with a fresh id and resolves with its ack, or rejects
  // with a RequestError.
  request(msg) {
    if (!this.#ready) {
      return Promise.reject(new RequestError("disconnected", "not connected"));
    }
    const id = String(this.#nextId++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new RequestError("timeout", "the server did not answer"));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      this.#ws.send(JSON.stringify({ ...msg, id }));
    });
  }

  // frameBytes is the size of msg as a request frame, to keep it under the
  // server's limit (the server closes a connection that passes it).
  static frameBytes(msg) {
    return new TextEncoder().encode(JSON.stringify({ ...msg, id: "000000" })).length;
  }

  #connect() {
    const { url, protocols } = this.#h.endpoint();
    this.#setState("connecting");
    let ws;
    try {
      ws = new WebSocket(url, protocols);
    } catch (err) {
      console.warn("chatd: cannot open", url, err);
      this.#schedule();
      return;
    }
    this.#ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
    };
    ws.onmessage = (e) => {
      if (this.#ws !== ws) return;
      let ev;
      try {
        ev = JSON.parse(e.data);
      } catch {
        console.warn("chatd: a frame that is not JSON", e.data);
        return;
      }
      if (ev === null || typeof ev !== "object") return;
      this.#dispatch(ev);
    };
    ws.onclose = (e) => {
      if (this.#ws !== ws) return;
      this.#drop();
      if (this.#stopped) return;
      const again = this.#h.onClose ? this.#h.onClose(e.code, e.reason, opened) : true;
      if (again === false) {
        this.#stopped = true;
        this.#setState("stopped");
        return;
      }
      this.#schedule();
    };
  }

  #dispatch(ev) {
    if ((ev.type === "ack" || ev.type === "error") && typeof ev.id === "string" && this.#pending.has(ev.id)) {
      const p = this.#pending.get(ev.id);
      this.#pending.delete(ev.id);
      clearTimeout(p.timer);
      if (ev.type === "ack") p.resolve(ev);
      else p.reject(new RequestError(ev.code, ev.message, Number(ev.retry_after_ms) || 0));
      return;
    }
    if (ev.type === "welcome") {
      this.#attempt = 0;
      this.#ready = true;
      this.#setState("open");
      this.#h.onWelcome?.(ev);
      return;
    }
    this.#h.onEvent?.(ev);
  }

  // drop forgets the socket and fails what waited on it; sends are
  // resent by the app after the next welcome, with their client_msg_id.
  #drop() {
    this.#ws = null;
    this.#ready = false;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new RequestError("disconnected", "the connection was lost"));
    }
    this.#pending.clear();
  }

  // schedule waits before the next attempt: exponential in the attempts
  // since the last welcome, capped, and jittered between half and all of
  // it so that clients cut off together do not come back together.
  #schedule() {
    const full = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.#attempt);
    const delay = Math.round(full / 2 + (Math.random() * full) / 2);
    this.#attempt = Math.min(this.#attempt + 1, 16);
    this.retryAt = Date.now() + delay;
    this.#setState("waiting");
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  #setState(state) {
    this.state = state;
    this.#h.onState?.(state);
  }
}
