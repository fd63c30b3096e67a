// model.js: what the client knows of its rooms and conversations, apart
// from the DOM. A room's messages are kept in seq order with no seq twice,
// whatever order or how often the server's replays deliver them.

// Room is one joined room.
export class Room {
  constructor(name) {
    this.name = name;
    this.private = false;
    this.messages = []; // in seq order
    this.seqs = new Set();
    this.last = 0; // newest seq known to exist: rejoins ask for what follows
    this.resumeAt = 0; // while a catch-up pages on: the seq it has all up to
    this.read = 0; // the user's read position
    this.synced = false; // joined on this page: rejoins recover with since
    this.members = new Set(); // users present now, or a sample of them in a large room
    this.users = 0; // how many users are present
    this.roster = null; // private rooms: every member, present or not
    this.typing = new Map(); // user -> until (ms)
    this.outbox = []; // sends not acknowledged yet
    this.olderDone = false; // nothing older to fetch
    this.loadingOlder = false;
  }

  get firstSeq() {
    return this.messages.length ? this.messages[0].seq : 0;
  }

  get lastSeq() {
    return this.messages.length ? this.messages[this.messages.length - 1].seq : 0;
  }

  get unread() {
    return Math.max(0, this.last - this.read);
  }

  // add inserts a message event and returns where it went: "append",
  // "insert" (anywhere else) or "" when its seq is already there. An edit
  // or a delete takes a seq too but is no message of its own: it changes
  // its target, if here ("change"), and is otherwise only counted (""),
  // as a message read from the server later comes in its current state.
  add(m) {
    if (!Number.isSafeInteger(m.seq) || m.seq <= 0 || this.seqs.has(m.seq)) return "";
    if (m.type === "reactions") return this.tally(m);
    if (m.type === "edit" || m.type === "delete" || m.type === "react" || m.type === "unreact") {
      this.seqs.add(m.seq);
      this.last = Math.max(this.last, m.seq);
      return this.change(m) ? "change" : "";
    }
    const msg = {
      seq: m.seq,
      from: String(m.from ?? ""),
      ts: Number(m.ts) || Date.now(),
      text: typeof m.text === "string" ? m.text : "",
      cmid: typeof m.client_msg_id === "string" ? m.client_msg_id : "",
      edited: Number(m.edited) || 0,
      deleted: m.deleted === true,
      reactions: readReactions(m.reactions),
      ...readThreadFields(m),
    };
    this.seqs.add(msg.seq);
    this.last = Math.max(this.last, msg.seq);
    if (msg.thread) this.countReply(msg);
    if (msg.seq > this.lastSeq) {
      this.messages.push(msg);
      return "append";
    }
    let lo = 0;
    let hi = this.messages.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.messages[mid].seq < msg.seq) lo = mid + 1;
      else hi = mid;
    }
    this.messages.splice(lo, 0, msg);
    return "insert";
  }

  // find returns the message with seq, or undefined.
  find(seq) {
    let lo = 0;
    let hi = this.messages.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.messages[mid].seq < seq) lo = mid + 1;
      else hi = mid;
    }
    const m = this.messages[lo];
    return m && m.seq === seq ? m : undefined;
  }

  // change applies an edit or delete event (or our own, acknowledged) to
  // its target; false if the target is not here. A deleted message stays
  // deleted, whatever order edits arrive in.
  change(ev) {
    const m = this.find(Number(ev.target));
    if (!m) return false;
    if (ev.type === "react" || ev.type === "unreact") {
      if (m.deleted || typeof ev.emoji !== "string") return false;
      react(m, ev.emoji, String(ev.from ?? ""), ev.type === "react");
      return true;
    }
    if (ev.type === "delete") {
      m.deleted = true;
      m.text = "";
      m.reactions = [];
    } else if (!m.deleted) {
      m.text = typeof ev.text === "string" ? ev.text : "";
      m.edited = Math.max(m.edited, Number(ev.ts) || Date.now());
    }
    return true;
  }

  // tally applies a reactions event: its target's reactions after the
  // reactions with seqs first to seq, which it stands for and which are
  // counted as seen, so that a page or replay holding them later changes
  // nothing. It returns "change" if the target is here, else "".
  tally(ev) {
    const first = Number(ev.first);
    if (!Number.isSafeInteger(first) || first <= 0 || first > ev.seq) return "";
    for (let s = first; s <= ev.seq; s++) this.seqs.add(s);
    this.last = Math.max(this.last, ev.seq);
    const m = this.find(Number(ev.target));
    if (!m || m.deleted) return "";
    m.reactions = readReactions(ev.reactions);
    return "change";
  }

  // countReply counts thread reply r on its root, if the root is here and
  // does not count it yet: a root read from the server counts every reply
  // up to its lastReplySeq, so a reply seen again is not counted twice.
  countReply(r) {
    const root = this.find(r.thread);
    if (!root || r.seq <= root.lastReplySeq) return false;
    root.replies++;
    root.lastReplySeq = r.seq;
    root.lastReplyTs = r.ts;
    return true;
  }

  // settle drops the outbox entry that a message of ours (by its
  // client_msg_id) shows was delivered: a replay after a reconnect can
  // bring it before the ack of the resend does.
  settle(cmid) {
    if (!cmid) return false;
    const i = this.outbox.findIndex((o) => o.cmid === cmid);
    if (i < 0) return false;
    this.outbox.splice(i, 1);
    return true;
  }
}

// Conversation is a direct-message conversation with one user. The server
// keeps no history of direct messages: they live as long as the page.
export class Conversation {
  constructor(peer) {
    this.peer = peer;
    this.messages = [];
    this.ids = new Set();
    this.unread = 0;
    this.outbox = [];
  }

  // add appends a dm event, or our own acknowledged message; false if it
  // is here already. A dm event has the server's id, and a message with a
  // client_msg_id is named by it and its sender too.
  add(m) {
    const keys = [];
    if (m.id !== undefined) keys.push("id:" + m.id);
    if (m.client_msg_id) keys.push("cmid:" + String(m.from).toLowerCase() + ":" + m.client_msg_id);
    if (keys.some((k) => this.ids.has(k))) return false;
    for (const k of keys) this.ids.add(k);
    this.messages.push({
      from: String(m.from ?? ""),
      ts: Number(m.ts) || Date.now(),
      text: typeof m.text === "string" ? m.text : "",
    });
    return true;
  }
}

// roomKey and dmKey name what the main pane shows: a room or a
// conversation.
export const roomKey = (name) => "room:" + name;
export const dmKey = (peer) => "dm:" + peer.toLowerCase();

// readReactions is a message's reactions as the server sent them:
// [{emoji, count, users}], users being the first ones only.
function readReactions(rs) {
  if (!Array.isArray(rs)) return [];
  return rs
    .filter((r) => r && typeof r.emoji === "string")
    .map((r) => {
      const users = Array.isArray(r.users) ? r.users.map(String) : [];
      return { emoji: r.emoji, users, count: Math.max(Number(r.count) || 0, users.length) };
    });
}

// react adds user's reaction emoji to m (add) or takes it back. Adding
// twice, or taking back one not given, changes nothing, as on the server.
function react(m, emoji, user, add) {
  let r = m.reactions.find((x) => x.emoji === emoji);
  const has = r ? r.users.some((u) => u.toLowerCase() === user.toLowerCase()) : false;
  if (add) {
    if (has) return;
    if (!r) {
      r = { emoji, users: [], count: 0 };
      m.reactions.push(r);
    }
    r.users.push(user);
    r.count++;
    return;
  }
  if (!r) return;
  if (has) {
    r.users = r.users.filter((u) => u.toLowerCase() !== user.toLowerCase());
    r.count--;
  } else if (r.count > r.users.length) {
    r.count--; // one of those the server did not list
  }
  if (r.count <= 0) m.reactions = m.reactions.filter((x) => x !== r);
}

// reacted reports whether user gave reaction r.
export function reacted(r, user) {
  return r.users.some((u) => u.toLowerCase() === user.toLowerCase());
}

// readThreadFields is what a message answers and, for a thread's root, the
// summary of its thread, as the server sent them.
function readThreadFields(m) {
  return {
    replyTo: Number(m.reply_to) || 0,
    thread: Number(m.thread) || 0,
    alsoRoom: m.also_room === true,
    replies: Number(m.replies) || 0,
    lastReplySeq: Number(m.last_reply_seq) || 0,
    lastReplyTs: Number(m.last_reply_ts) || 0,
  };
}

// inRoom reports whether message m is shown in its room: any but a thread
// reply not also sent to the room.
export const inRoom = (m) => !m.thread || m.alsoRoom;
