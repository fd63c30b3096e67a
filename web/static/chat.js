// chat.js: a signed-in (or guest) chat session: the connection, the rooms
// and conversations, and the page's chat screen.

import { Conn, CLOSE_UNAUTHORIZED } from "./conn.js";
import { Room, Conversation, roomKey, dmKey, reacted, inRoom } from "./model.js";
import * as ui from "./ui.js";
import { Pane } from "./pane.js";
import { Pacer } from "./pace.js";
import { ThreadPanel } from "./thread.js";
import { nameProblem, randomId, roomProblem } from "./text.js";
import { MentionCounts, Notifier, renderMentions } from "./mention.js";

const $ = ui.$;
const VIEW_KEY = "chatd.view";
// Closer than this to the top, older history is fetched.
const OLDER_PX = 300;
const PAGE = 50;
// HISTORY_MAX is the most messages the server returns in a history page.
const HISTORY_MAX = 1000;
// Typing hints go out at most this often while the user types (the server
// forwards one per user and room every two seconds).
const TYPING_SEND_MS = 1000;
const TYPING_SHOW_MS = 4000;
// MEMBERS_SHOWN is as many names as a join's ack lists: a larger room's
// member list is a sample, with a count of the rest.
const MEMBERS_SHOWN = 100;

const same = (a, b) => a.toLowerCase() === b.toLowerCase();

// Chat runs the chat screen for one identity. handlers:
//   onIdentity(id)          the server named a guest: store it
//   onUnauthorized(reason)  close 4001; return true to reconnect (a newer
//                           token is in place) or false to stop
//   onFailedOpen(n)         the n-th attempt in a row to open the first
//                           connection failed
//   onLogout()              the user asked to log out
export class Chat {
  #h;
  #id;
  #conn;
  #connToken = ""; // the token the connection signed in with
  #abort = new AbortController();
  #rooms = new Map();
  #dms = new Map();
  #active = "";
  #me = "";
  #limits = { max_message_bytes: 65536 };
  #pacer = new Pacer();
  #welcomed = false;
  #failedOpens = 0;
  #pane = new Pane();
  #lastTyping = { room: "", at: 0 };
  #readTimer = 0;
  #tick = 0;
  #mentions = new MentionCounts();
  #notifier = null;
  #thread = new ThreadPanel({
    request: (req) => this.#conn.request(req),
    send: (req) => this.#paced(req),
    me: () => this.#me,
    onSent: (room, ev) => this.#onMessage(ev),
    react: (room, seq, emoji, m) => this.#toggleReaction(room, seq, emoji, m),
  });

  constructor(identity, handlers) {
    this.#id = identity;
    this.#h = handlers;
    this.#me = identity.name || "";
  }

  start() {
    this.#loadView();
    this.#bind();
    this.#notifier = new Notifier($("notify-button"), this.#abort.signal);
    $("mentions").addEventListener("toggle", () => $("mentions").open && this.#listMentions(), { signal: this.#abort.signal });
    this.#conn = new Conn({
      endpoint: () => this.#endpoint(),
      onWelcome: (ev) => this.#onWelcome(ev),
      onEvent: (ev) => this.#onEvent(ev),
      onState: (s) => this.#onState(s),
      onClose: (code, reason, opened) => this.#onClose(code, reason, opened),
    });
    this.#tick = setInterval(() => {
      ui.renderTyping(this.#room(), this.#me);
      if (this.#conn.state === "waiting") ui.renderConn("waiting", this.#conn.retryAt);
    }, 1000);
    $("me-name").textContent = this.#me || "…";
    $("me-kind").textContent = this.#id.kind === "guest" ? "(guest)" : "";
    this.#renderAll();
    this.#conn.start();
  }

  stop() {
    this.#abort.abort();
    clearInterval(this.#tick);
    clearTimeout(this.#readTimer);
    this.#conn?.stop();
    $("notices").replaceChildren();
  }

  // welcomed reports whether a connection has been accepted.
  get welcomed() {
    return this.#welcomed;
  }

  // setIdentity takes a refreshed token for the next connect.
  setIdentity(id) {
    this.#id = id;
  }

  // presentToken hands a refreshed token to the open connection, so that
  // the server does not close it when the old token expires.
  presentToken(token) {
    if (!this.#conn.ready) return;
    this.#conn.request({ type: "auth", token }).then(
      () => (this.#connToken = token),
      (err) => console.warn("chatd: auth refused", err),
    );
  }

  #endpoint() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let url = `${scheme}//${location.host}/ws`;
    if (this.#id.kind === "account") {
      this.#connToken = this.#id.token;
      // A browser cannot set headers on a WebSocket; the token rides in the
      // subprotocol list, and the server selects chatd.v1.
      return { url, protocols: ["chatd.v1", "chatd.token." + this.#id.token] };
    }
    const q = new URLSearchParams();
    if (this.#id.name) q.set("name", this.#id.name);
    if (this.#id.session) q.set("session", this.#id.session);
    if (q.size) url += "?" + q;
    return { url, protocols: ["chatd.v1"] };
  }

  // ---- connection ----

  #onWelcome(ev) {
    this.#welcomed = true;
    this.#failedOpens = 0;
    const named = this.#me !== String(ev.name ?? this.#me);
    this.#me = String(ev.name ?? this.#me);
    if (ev.limits) this.#limits = ev.limits;
    this.#pacer.reset(this.#limits);
    if (this.#id.kind === "guest") {
      this.#id = { ...this.#id, name: this.#me, session: String(ev.session ?? "") };
      this.#h.onIdentity(this.#id);
    }
    $("me-name").textContent = this.#me;
    this.#mentions.reset(ev.unread_mentions);
    for (const [room, seq] of Object.entries(ev.reads ?? {})) {
      const r = this.#rooms.get(room);
      if (r) r.read = Math.max(r.read, Number(seq) || 0);
    }
    for (const room of this.#rooms.values()) this.#join(room);
    for (const conv of this.#dms.values()) conv.outbox.forEach((o) => this.#sendDM(conv, o));
    this.#listRooms();
    // A reconnect leaves the view where the reader had it; only a new
    // name changes which messages are marked as one's own.
    if (named) this.#renderAll();
    else this.#renderNav();
  }

  #onState(state) {
    if (state !== "open") for (const r of this.#rooms.values()) r.joined = false;
    ui.renderConn(state, this.#conn.retryAt);
    $("composer").classList.toggle("offline", state !== "open");
  }

  #onClose(code, reason, opened) {
    if (code === CLOSE_UNAUTHORIZED) {
      // The connection's own token ended; a newer one may be at hand.
      if (this.#id.kind === "account" && this.#id.token !== this.#connToken) return true;
      return this.#h.onUnauthorized(reason || "token refused");
    }
    // A refused handshake (a name in use, a revoked token) looks to a page
    // just like a server that is down; the app finds out which.
    if (!opened && !this.#welcomed) this.#h.onFailedOpen(++this.#failedOpens);
    return true;
  }

  // ---- rooms ----

  async #join(room) {
    const req = { type: "join", room: room.name };
    // A room seen on this page recovers exactly what it missed: from where
    // an interrupted catch-up had got to, if one was under way, since live
    // messages have moved room.last past what it had still to fetch.
    const since = room.synced ? room.resumeAt || room.last : undefined;
    if (since !== undefined) req.since = since;
    let ack;
    try {
      ack = await this.#conn.request(req);
    } catch (err) {
      if (err.code === "disconnected" || err.code === "timeout") return; // the next welcome rejoins
      this.#dropRoom(room.name);
      ui.notice(`Cannot join #${room.name}: ${err.message}`, { kind: "error" });
      return;
    }
    if (this.#rooms.get(room.name) !== room) return; // left meanwhile
    const first = !room.synced;
    room.synced = true;
    room.joined = true;
    room.members = new Set(ack.members ?? []);
    room.users = Number(ack.users) || room.members.size;
    room.last = Math.max(room.last, Number(ack.last) || 0);
    room.read = Math.max(room.read, Number(ack.read) || 0);
    if (first && room.firstSeq <= 1) room.olderDone = true;
    if (ack.more) await this.#catchUp(room, Number(ack.last) || 0, since);
    else room.resumeAt = 0;
    if (room.private) this.#fetchRoster(room);
    room.outbox.forEach((o) => this.#sendEntry(room, o));
    if (this.#isActive(room)) {
      ui.renderMembers(room, this.#me, this.#memberActions());
      if (first) this.#showView();
      this.#fillViewport();
    }
    this.#renderNav();
    this.#scheduleRead();
  }

  // appendLast shows box's newest message below the one before it.
  #appendLast(box) {
    if (box.messages.length === 1) this.#renderHistoryState();
    const last = box.messages.at(-1);
    if (box instanceof Room && !inRoom(last)) return; // in its thread only
    const prev = box.messages.findLast((m) => m !== last && (!(box instanceof Room) || inRoom(m)));
    this.#pane.append(last, prev, this.#me, !!box.private, box instanceof Room ? (s) => box.find(s) : null);
  }

  // rerenderKeepingPlace renders the active room's messages again without
  // moving what the reader sees.
  #rerenderKeepingPlace() {
    const room = this.#room();
    if (!room) return;
    this.#pane.keepPlace(() => {
      ui.renderMessages($("messages"), room.messages, this.#me, room.private, (s) => room.find(s), inRoom);
      this.#renderHistoryState();
    });
  }

  // catchUp pages forward after a recovery that stopped at the server's
  // replay limit, up to the room's last message at the join; later ones
  // come live. A recovery (since) goes on from the end of what the page
  // holds without a hole above since, whatever live messages it also has.
  // Until it is done, room.resumeAt holds the seq it has everything up to,
  // so that a rejoin after a lost connection goes on from there. Pages the
  // server paces with rate_limited are asked for again after its wait.
  async #catchUp(room, until, since) {
    let after = 0;
    if (since === undefined) {
      for (const m of room.messages) if (m.seq <= until) after = m.seq;
    } else {
      after = since;
      while (after < until && room.seqs.has(after + 1)) after++;
    }
    room.resumeAt = after;
    while (after < until) {
      let ack;
      try {
        ack = await this.#conn.request({ type: "history", room: room.name, after, limit: 1000 });
      } catch (err) {
        if (err.code !== "rate_limited") return; // a rejoin goes on from resumeAt
        await new Promise((resolve) => setTimeout(resolve, err.retryAfterMs || 1000));
        continue;
      }
      const msgs = ack.messages ?? [];
      for (const m of msgs) {
        room.add(m);
        // An open thread gets what it missed as it would have live.
        this.#thread.onEvent(m);
      }
      if (!ack.more || msgs.length === 0) break;
      after = msgs[msgs.length - 1].seq;
      room.resumeAt = after;
    }
    room.resumeAt = 0;
    if (this.#isActive(room)) this.#rerenderKeepingPlace();
  }

  async #fetchRoster(room) {
    try {
      const ack = await this.#conn.request({ type: "members", room: room.name });
      room.roster = ack.members ?? [];
    } catch {
      return;
    }
    if (this.#isActive(room)) ui.renderMembers(room, this.#me, this.#memberActions());
  }

  async #listRooms() {
    // A long list comes in pages, each within the server's reply limit.
    const entries = [];
    let cursor = "";
    for (;;) {
      let ack;
      try {
        ack = await this.#conn.request(cursor ? { type: "rooms", cursor } : { type: "rooms" });
      } catch {
        return;
      }
      if (Array.isArray(ack.rooms)) entries.push(...ack.rooms);
      const next = typeof ack.cursor === "string" ? ack.cursor : "";
      if (!ack.more || next <= cursor) break;
      cursor = next;
    }
    for (const e of entries) {
      const r = this.#rooms.get(e.room);
      if (r && e.private && !r.private) {
        r.private = true;
        this.#fetchRoster(r);
      }
    }
    ui.renderBrowse(entries, new Set(this.#rooms.keys()), (name) => this.#openRoom(name));
    this.#renderNav();
    if (this.#room()) this.#renderHeader();
  }

  // openRoom joins (if need be) and shows a room. With priv it first
  // creates the room as a private one.
  async #openRoom(name, priv = false) {
    name = name.trim().toLowerCase();
    const problem = roomProblem(name);
    if (problem) {
      ui.notice(problem, { kind: "error", ttl: 8000 });
      return false;
    }
    if (priv) {
      try {
        await this.#conn.request({ type: "create", room: name, private: true });
      } catch (err) {
        const why = {
          forbidden: "Guests cannot create private rooms; log in or register first.",
          unknown_type: "This server has no private rooms.",
          disconnected: "Not connected; try again once connected.",
        }[err.code];
        if (err.code !== "conflict") {
          ui.notice(why ?? `Cannot create #${name}: ${err.message}`, { kind: "error" });
          return false;
        }
        ui.notice(`#${name} exists already; joining it.`, { ttl: 6000 });
      }
    }
    let room = this.#rooms.get(name);
    if (!room) {
      room = new Room(name);
      room.private = priv;
      this.#rooms.set(name, room);
      // The rooms list says which rooms are private: an invitation's room
      // is, without saying so.
      if (this.#conn.ready) this.#join(room).then(() => this.#listRooms());
    }
    this.#select(roomKey(name));
    return true;
  }

  async #leaveRoom(room) {
    this.#dropRoom(room.name);
    try {
      await this.#conn.request({ type: "leave", room: room.name });
    } catch {
      // Not joined on this connection: nothing to leave.
    }
  }

  #dropRoom(name) {
    if (!this.#rooms.delete(name)) return;
    if (this.#active === roomKey(name)) {
      const next = [...this.#rooms.keys()].sort()[0];
      this.#active = next ? roomKey(next) : "";
      this.#showView();
    }
    this.#saveView();
    this.#renderNav();
  }

  // ---- events ----

  #onEvent(ev) {
    switch (ev.type) {
      case "message":
      case "edit":
      case "delete":
      case "react":
      case "unreact":
      case "reactions":
        return this.#onMessage(ev);
      case "presence_diff": {
        // A diff may repeat what the join's list showed: apply it as set
        // changes. In a large room the list is a sample of MEMBERS_SHOWN
        // names, and users counts everyone.
        const room = this.#rooms.get(ev.room);
        if (!room) return;
        for (const u of ev.leaves ?? []) room.members.delete(u);
        for (const u of ev.joins ?? []) if (room.members.size < MEMBERS_SHOWN) room.members.add(u);
        room.users = Number(ev.users) || room.members.size;
        if (this.#isActive(room)) ui.renderMembers(room, this.#me, this.#memberActions());
        return;
      }
      case "typing": {
        const room = this.#rooms.get(ev.room);
        if (!room || typeof ev.from !== "string") return;
        room.typing.set(ev.from, Date.now() + TYPING_SHOW_MS);
        if (this.#isActive(room)) ui.renderTyping(room, this.#me);
        return;
      }
      case "read": {
        this.#mentions.read(String(ev.room), Number(ev.seq) || 0);
        const room = this.#rooms.get(ev.room);
        if (!room) return;
        room.read = Math.max(room.read, Number(ev.seq) || 0);
        this.#renderNav();
        return;
      }
      case "dm":
        return this.#onDM(ev);
      case "mention":
        return this.#onMention(ev);
      case "unmention":
        // A message that mentioned the reader was deleted, or edited not
        // to: its mention no longer counts, nor is it listed.
        this.#mentions.drop(String(ev.room ?? ""), Number(ev.mention));
        this.#renderNav();
        if ($("mentions").open) this.#listMentions();
        return;
      case "invited":
        ui.notice(`${ev.from} invited you to the private room #${ev.room}.`, {
          actions: [{ label: "Join", run: () => this.#openRoom(String(ev.room)) }],
        });
        return;
      case "removed":
        this.#dropRoom(ev.room);
        ui.notice(`${ev.by} removed you from #${ev.room}.`, { kind: "error" });
        return;
      case "error":
        ui.notice(`The server refused a request: ${ev.message ?? ev.code}`, { kind: "error", ttl: 8000 });
        return;
      default:
      // Newer servers may send events this client does not know.
    }
  }

  #onMessage(ev) {
    const room = this.#rooms.get(ev.room);
    if (!room) return;
    const settled = same(String(ev.from ?? ""), this.#me) && room.settle(ev.client_msg_id);
    room.typing.delete(ev.from);
    const pos = room.add(ev);
    this.#thread.onEvent(ev);
    // A thread reply changes its root's summary, drawn above the newest.
    const threadReply = pos !== "" && ev.type === "message" && Number(ev.thread) > 0;
    if (threadReply) this.#thread.rootChanged(room);
    if (!this.#isActive(room)) {
      if (pos) this.#renderNav();
      return;
    }
    if (settled) this.#renderOutbox(room);
    if (pos === "append" && !threadReply) this.#appendLast(room);
    else if (pos === "insert" || pos === "change" || threadReply) this.#rerenderKeepingPlace();
    ui.renderTyping(room, this.#me);
    this.#renderNav();
    this.#scheduleRead();
  }

  // ---- editing and deleting a message ----

  // onMessageAction runs a message's Edit or Delete button.
  #onMessageAction(e) {
    const btn = e.target.closest("button[data-action]");
    const li = btn?.closest("li[data-seq]");
    const room = this.#room();
    if (!li || !room) return;
    const seq = Number(li.dataset.seq);
    if (btn.dataset.action === "edit") this.#startEdit(room, li, seq);
    else if (btn.dataset.action === "delete") this.#confirmDelete(room, btn, seq);
    else if (btn.dataset.action === "react") ui.togglePicker(li);
    else if (btn.dataset.action === "toggle-reaction") this.#toggleReaction(room, seq, btn.dataset.emoji);
    else if (btn.dataset.action === "thread") this.#thread.show(room, Number(btn.dataset.root) || seq);
  }

  // ---- reactions ----

  // toggleReaction gives the user's reaction emoji to message seq, m as
  // the view that asks shows it, or takes it back if given, and applies it
  // once acknowledged to the room and to the thread panel alike.
  #toggleReaction(room, seq, emoji, m = room.find(seq)) {
    if (!m || m.deleted || !emoji) return;
    const r = m.reactions.find((x) => x.emoji === emoji);
    const type = r && reacted(r, this.#me) ? "unreact" : "react";
    const req = { type, room: room.name, target: seq, emoji, client_msg_id: randomId() };
    this.#paced(req).then(
      (ack) => {
        const ev = { type, room: room.name, seq: ack.seq, target: seq, emoji, from: this.#me, ts: ack.ts };
        room.add(ev);
        this.#thread.onEvent(ev);
        this.#markRead(room, ack.seq);
        if (this.#isActive(room)) this.#rerenderKeepingPlace();
        this.#renderNav();
      },
      (err) => ui.notice(`Cannot react to the message: ${err.message}`, { kind: "error", ttl: 8000 }),
    );
  }

  // startEdit turns message seq's text into an editor: Enter saves,
  // Shift+Enter is a new line, Escape cancels.
  #startEdit(room, li, seq) {
    const m = room.find(seq);
    const body = li.querySelector(".text");
    if (!m || m.deleted || !body) return;
    const input = document.createElement("textarea");
    input.className = "edit-input";
    input.value = m.text;
    input.setAttribute("aria-label", "Edit message; Enter saves, Escape cancels");
    body.replaceChildren(input);
    input.focus();
    input.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        this.#rerenderKeepingPlace();
        $("input").focus();
      } else if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        const text = input.value;
        input.disabled = true;
        this.#change(room, { type: "edit", room: room.name, target: seq, text, client_msg_id: randomId() });
      }
    });
  }

  // confirmDelete asks once more, on the button itself, before deleting.
  #confirmDelete(room, btn, seq) {
    if (btn.dataset.confirm !== "1") {
      btn.dataset.confirm = "1";
      btn.textContent = "Really delete?";
      return;
    }
    this.#change(room, { type: "delete", room: room.name, target: seq, client_msg_id: randomId() });
  }

  // change sends an edit or a delete and applies it once acknowledged: the
  // connection that made a change does not receive its event.
  #change(room, req) {
    if (req.text !== undefined && Conn.frameBytes(req) > this.#limits.max_message_bytes) {
      ui.notice("The message is too long.", { kind: "error", ttl: 8000 });
      this.#rerenderKeepingPlace();
      return;
    }
    this.#paced(req).then(
      (ack) => {
        room.add({ type: req.type, seq: ack.seq, target: req.target, text: req.text, ts: ack.ts });
        this.#markRead(room, ack.seq);
        if (this.#isActive(room)) this.#rerenderKeepingPlace();
        this.#renderNav();
      },
      (err) => {
        const what = req.type === "edit" ? "edit" : "delete";
        ui.notice(`Cannot ${what} the message: ${err.message}`, { kind: "error", ttl: 8000 });
        if (this.#isActive(room)) this.#rerenderKeepingPlace();
      },
    );
  }

  // editLast opens the editor on the user's newest message in the room.
  #editLast() {
    const room = this.#room();
    if (!room) return false;
    const m = room.messages.findLast((x) => !x.deleted && same(x.from, this.#me) && inRoom(x));
    const li = m && $("messages").querySelector(`li[data-seq="${m.seq}"]`);
    if (!li) return false;
    this.#startEdit(room, li, m.seq);
    return true;
  }

  #onDM(ev) {
    if (typeof ev.from !== "string" || typeof ev.to !== "string") return;
    const peer = same(ev.from, this.#me) ? ev.to : ev.from;
    const conv = this.#conversation(peer);
    if (!conv.add(ev)) return;
    if (this.#active === dmKey(peer)) {
      this.#appendLast(conv);
    } else if (!same(ev.from, this.#me)) {
      conv.unread++;
    }
    if (!same(ev.from, this.#me)) {
      this.#notifier.notify(`${ev.from} sent you a message`, String(ev.text ?? ""), "dm:" + peer.toLowerCase(), () => this.#select(dmKey(peer)));
    }
    this.#renderNav();
  }

  // onMention counts a mention of the reader in its room, and tells the
  // reader: in a notification while the tab is hidden, and with a notice
  // for a room not open on this page.
  #onMention(ev) {
    const name = String(ev.room ?? "");
    const room = this.#rooms.get(name);
    this.#mentions.add(name, Number(ev.seq), room ? room.read : 0);
    this.#renderNav();
    const from = String(ev.from ?? "");
    this.#notifier.notify(`${from} mentioned you in #${name}`, String(ev.text ?? ""), "mention:" + name, () => this.#openRoom(name));
    if (!room) ui.notice(`${from} mentioned you in #${name}.`, { actions: [{ label: "Open", run: () => this.#openRoom(name) }] });
  }

  // listMentions shows the newest messages that mentioned the reader.
  async #listMentions() {
    let ack;
    try {
      ack = await this.#conn.request({ type: "mentions", limit: 20 });
    } catch (err) {
      ui.notice(`Cannot list mentions: ${err.message}`, { kind: "error", ttl: 6000 });
      return;
    }
    renderMentions($("mention-list"), ack.messages ?? [], (name) => this.#openRoom(name));
  }

  #conversation(peer) {
    let conv = this.#dms.get(peer.toLowerCase());
    if (!conv) {
      conv = new Conversation(peer);
      this.#dms.set(peer.toLowerCase(), conv);
    }
    return conv;
  }

  // ---- sending ----

  #submit() {
    const input = $("input");
    const text = input.value;
    if (text.trim() === "") return;
    const o = { cmid: randomId(), text, state: "pending", inflight: false, error: "" };
    const room = this.#room();
    const conv = this.#conv();
    if (room) {
      room.outbox.push(o);
      this.#renderOutbox(room);
      this.#sendEntry(room, o);
    } else if (conv) {
      conv.outbox.push(o);
      this.#renderOutbox(conv);
      this.#sendDM(conv, o);
    } else {
      return;
    }
    input.value = "";
    this.#pane.scrollToBottom();
  }

  // sendEntry sends (or resends, with the same client_msg_id, so that the
  // server delivers it once) an outbox entry once the room is joined.
  #sendEntry(room, o) {
    if (!room.joined || o.inflight || o.state === "failed") return;
    const req = { type: "send", room: room.name, text: o.text, client_msg_id: o.cmid };
    if (Conn.frameBytes(req) > this.#limits.max_message_bytes) {
      this.#fail(room, o, "the message is too long");
      return;
    }
    o.inflight = true;
    this.#paced(req).then(
      (ack) => {
        o.inflight = false;
        room.settle(o.cmid);
        const pos = room.add({ seq: ack.seq, from: this.#me, ts: ack.ts, text: o.text, client_msg_id: o.cmid });
        // Whoever writes has read the room up to there.
        this.#markRead(room, ack.seq);
        if (this.#isActive(room)) {
          this.#renderOutbox(room);
          if (pos === "append") this.#appendLast(room);
          else if (pos === "insert") this.#rerenderKeepingPlace();
        }
        this.#renderNav();
        this.#scheduleRead();
      },
      (err) => {
        o.inflight = false;
        if (err.code === "disconnected") return; // resent after the rejoin
        this.#fail(room, o, err.message);
      },
    );
  }

  #sendDM(conv, o) {
    if (!this.#conn.ready || o.inflight || o.state === "failed") return;
    const req = { type: "dm", to: conv.peer, text: o.text, client_msg_id: o.cmid };
    if (Conn.frameBytes(req) > this.#limits.max_message_bytes) {
      this.#fail(conv, o, "the message is too long");
      return;
    }
    o.inflight = true;
    this.#paced(req).then(
      (ack) => {
        o.inflight = false;
        conv.outbox = conv.outbox.filter((x) => x !== o);
        conv.add({ from: this.#me, to: conv.peer, ts: ack.ts, text: o.text, client_msg_id: o.cmid });
        if (this.#active === dmKey(conv.peer)) {
          this.#renderOutbox(conv);
          this.#appendLast(conv);
        }
      },
      (err) => {
        o.inflight = false;
        if (err.code === "disconnected") return;
        const why = { unknown_user: `${conv.peer} is not connected`, unreachable: `${conv.peer} cannot receive direct messages` }[err.code];
        this.#fail(conv, o, why ?? err.message);
      },
    );
  }

  // paced sends a send or dm request once the welcome's send limits allow
  // it, and again, with the same client_msg_id, after retry_after_ms while
  // the server answers rate_limited: being paced is not a failure.
  async #paced(req) {
    for (;;) {
      await this.#pacer.wait(Conn.frameBytes(req));
      try {
        return await this.#conn.request(req);
      } catch (err) {
        if (err.code !== "rate_limited") throw err;
        await new Promise((resolve) => setTimeout(resolve, err.retryAfterMs || 1000));
      }
    }
  }

  #fail(box, o, why) {
    o.state = "failed";
    o.error = why;
    if (this.#isActive(box)) this.#renderOutbox(box);
  }

  #retry(o) {
    o.state = "pending";
    const room = this.#room();
    const conv = this.#conv();
    if (room) this.#sendEntry(room, o);
    if (conv) this.#sendDM(conv, o);
    this.#renderOutbox(room ?? conv);
  }

  #discard(o) {
    const box = this.#room() ?? this.#conv();
    if (!box) return;
    box.outbox = box.outbox.filter((x) => x !== o);
    this.#renderOutbox(box);
  }

  #typing() {
    const room = this.#room();
    const now = Date.now();
    if (!room || !room.joined) return;
    if (this.#lastTyping.room === room.name && now - this.#lastTyping.at < TYPING_SEND_MS) return;
    this.#lastTyping = { room: room.name, at: now };
    this.#conn.request({ type: "typing", room: room.name }).catch(() => {});
  }

  // ---- reading ----

  // scheduleRead marks the active room read up to its newest message when
  // the user can see it: the page is visible and the view at the bottom.
  #scheduleRead() {
    clearTimeout(this.#readTimer);
    this.#readTimer = setTimeout(() => {
      const room = this.#room();
      if (room && document.visibilityState === "visible" && this.#pane.atBottom()) this.#markRead(room, room.last);
    }, 300);
  }

  // markRead moves the read position of room forward to seq.
  #markRead(room, seq) {
    if (!room.joined || seq <= room.read) return;
    room.read = seq;
    this.#mentions.read(room.name, seq);
    this.#conn.request({ type: "read", room: room.name, seq }).catch(() => {});
    this.#renderNav();
  }

  // ---- the view ----

  // request sends req on the connection, for the search panel.
  request(req) {
    return this.#conn.request(req);
  }

  // showMessage opens room at its message seq (a search hit): it loads the
  // history back to the message, in pages that reach it (the room's
  // messages stay contiguous), then scrolls to it and highlights it.
  async showMessage(name, seq) {
    if (!(await this.#openRoom(name))) return;
    const room = this.#rooms.get(name.toLowerCase());
    const deadline = Date.now() + 10000;
    const pause = () => new Promise((r) => setTimeout(r, 50));
    while (room && this.#isActive(room) && Date.now() < deadline) {
      const first = room.firstSeq;
      if (room.joined && !room.loadingOlder && ((first && first <= seq) || room.olderDone)) break;
      if (!room.joined || room.loadingOlder) {
        await pause();
        continue;
      }
      const before = first || room.last + 1;
      await this.#loadOlder(Math.min(HISTORY_MAX, Math.max(PAGE, before - seq + PAGE / 2)));
    }
    // A reply shown only in its thread is found in the thread's panel.
    const m = room?.find(seq);
    if (m && !inRoom(m) && this.#isActive(room)) {
      await this.#thread.show(room, m.thread, seq);
      return;
    }
    const li = $("messages").querySelector(`li[data-seq="${seq}"]`);
    if (!li) {
      ui.notice(`Message ${seq} of #${name} is no longer there.`, { ttl: 6000 });
      return;
    }
    li.scrollIntoView({ block: "center" });
    // renderMessages marks it again after a re-render; #select forgets it.
    $("messages").dataset.found = String(seq);
    li.classList.add("found");
  }

  #room() {
    return this.#active.startsWith("room:") ? (this.#rooms.get(this.#active.slice(5)) ?? null) : null;
  }

  #conv() {
    return this.#active.startsWith("dm:") ? (this.#dms.get(this.#active.slice(3)) ?? null) : null;
  }

  #isActive(box) {
    return box === this.#room() || box === this.#conv();
  }

  #select(key) {
    this.#active = key;
    delete $("messages").dataset.found;
    const conv = this.#conv();
    if (conv) conv.unread = 0;
    document.body.classList.remove("show-sidebar");
    $("toggle-sidebar").setAttribute("aria-expanded", "false");
    this.#saveView();
    this.#showView();
    this.#renderNav();
    this.#fillViewport();
    this.#scheduleRead();
    $("input").focus();
  }

  #renderAll() {
    this.#renderNav();
    this.#showView();
  }

  #renderNav() {
    ui.renderNav(this.#rooms, this.#dms, this.#active, (key) => this.#select(key), (name) => this.#mentions.count(name));
    let unread = 0;
    for (const r of this.#rooms.values()) unread += r.unread;
    for (const c of this.#dms.values()) unread += c.unread;
    document.title = unread ? `(${unread}) chatd` : "chatd";
  }

  #renderHeader() {
    const room = this.#room();
    const conv = this.#conv();
    $("view-title").textContent = room ? "#" + room.name : conv ? "@" + conv.peer : "chatd";
    $("view-private").hidden = !room?.private;
    $("input").placeholder = room ? `Message #${room.name}` : conv ? `Message ${conv.peer}` : "Join a room to chat";
    $("invite-form").hidden = !room?.private;
    $("leave-button").hidden = !room;
  }

  // showView renders the active room or conversation from scratch, at
  // its newest message.
  #showView() {
    const room = this.#room();
    const conv = this.#conv();
    this.#renderHeader();
    $("composer").classList.toggle("disabled", !room && !conv);
    if (room) ui.renderMembers(room, this.#me, this.#memberActions());
    else ui.renderMembers(null);
    ui.renderTyping(room, this.#me);
    this.#renderHistoryState();
    this.#renderOutbox(room ?? conv);
    this.#thread.closeUnless(room);
    this.#pane.show(room?.messages ?? conv?.messages ?? [], this.#me, !!room?.private, room ? (s) => room.find(s) : null, room ? inRoom : null);
  }

  #renderOutbox(box) {
    if (box && !this.#isActive(box)) return;
    ui.renderOutbox($("outbox"), box?.outbox ?? [], this.#me, { onRetry: (o) => this.#retry(o), onDiscard: (o) => this.#discard(o) });
  }

  // renderHistoryState says above the messages whether older ones are
  // loading or there are none. The line keeps its height either way, so
  // that its changes never move the messages.
  #renderHistoryState() {
    const p = $("history-state");
    const room = this.#room();
    if (room?.loadingOlder) {
      p.textContent = "Loading older messages…";
    } else if (room?.olderDone && room.synced) {
      p.textContent = room.messages.length ? `This is the beginning of #${room.name}.` : `No messages in #${room.name} yet.`;
    } else if (this.#conv()) {
      p.textContent = "Direct messages are not stored: you see those sent while you are here.";
    } else {
      p.textContent = "";
    }
  }

  #memberActions() {
    return {
      onDM: (user) => {
        this.#conversation(user);
        this.#select(dmKey(user));
      },
      onRemove: async (user) => {
        const room = this.#room();
        if (!room) return;
        try {
          await this.#conn.request({ type: "remove", room: room.name, to: user });
          ui.notice(`Removed ${user} from #${room.name}.`, { ttl: 6000 });
          this.#fetchRoster(room);
        } catch (err) {
          ui.notice(`Cannot remove ${user}: ${err.message}`, { kind: "error", ttl: 8000 });
        }
      },
    };
  }

  async #loadOlder(limit = PAGE) {
    const room = this.#room();
    if (!room || room.loadingOlder || room.olderDone || !room.joined) return;
    const before = room.firstSeq || room.last + 1;
    if (before <= 1) {
      room.olderDone = true;
      this.#renderHistoryState();
      return;
    }
    room.loadingOlder = true;
    this.#renderHistoryState();
    try {
      const ack = await this.#conn.request({ type: "history", room: room.name, before, limit });
      const msgs = ack.messages ?? [];
      for (const m of msgs) room.add(m);
      if (!ack.more || msgs.length === 0) room.olderDone = true;
    } catch (err) {
      if (err.code === "unavailable") room.olderDone = true;
    } finally {
      room.loadingOlder = false;
    }
    if (this.#isActive(room)) {
      this.#rerenderKeepingPlace();
      this.#fillViewport();
    }
  }

  // fillViewport fetches older messages while they do not fill the view,
  // since a view that cannot scroll cannot be scrolled to the top.
  #fillViewport() {
    const room = this.#room();
    if (room && room.joined && !room.olderDone && !room.loadingOlder && this.#pane.short(OLDER_PX)) {
      this.#loadOlder();
    }
  }

  #onScroll() {
    if (this.#pane.nearTop(OLDER_PX)) this.#loadOlder();
    if (this.#pane.atBottom()) {
      this.#pane.seen();
      this.#scheduleRead();
    }
  }

  // ---- persistence of the rooms and view ----

  #loadView() {
    let saved = null;
    try {
      saved = JSON.parse(localStorage.getItem(VIEW_KEY) ?? "null");
    } catch {
      // A damaged entry is as good as none.
    }
    const names = Array.isArray(saved?.rooms) ? saved.rooms.filter((r) => typeof r === "string" && !roomProblem(r)) : ["lobby"];
    for (const n of names) this.#rooms.set(n, new Room(n));
    const active = typeof saved?.active === "string" ? saved.active : "";
    this.#active = active.startsWith("room:") && this.#rooms.has(active.slice(5)) ? active : names.length ? roomKey(names[0]) : "";
  }

  #saveView() {
    const active = this.#active.startsWith("room:") ? this.#active : "";
    localStorage.setItem(VIEW_KEY, JSON.stringify({ rooms: [...this.#rooms.keys()], active }));
  }

  // ---- page events ----

  #bind() {
    const opts = { signal: this.#abort.signal };
    const on = (id, type, fn) => $(id).addEventListener(type, fn, opts);
    on("composer", "submit", (e) => {
      e.preventDefault();
      this.#submit();
    });
    on("input", "keydown", (e) => {
      // Enter sends, Shift+Enter is a new line; not while an input method
      // is composing a character.
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.#submit();
      }
      // Up in an empty composer edits one's last message, as in most chat
      // clients.
      if (e.key === "ArrowUp" && $("input").value === "" && this.#editLast()) e.preventDefault();
    });
    on("messages", "click", (e) => this.#onMessageAction(e));
    on("input", "input", () => this.#typing());
    on("scroller", "scroll", () => this.#onScroll());
    on("new-messages", "click", () => {
      this.#pane.scrollToBottom();
      this.#scheduleRead();
      $("input").focus();
    });
    on("join-form", "submit", async (e) => {
      e.preventDefault();
      const priv = $("join-private").checked;
      if (await this.#openRoom($("join-name").value, priv)) {
        $("join-name").value = "";
        $("join-private").checked = false;
      }
    });
    on("dm-form", "submit", (e) => {
      e.preventDefault();
      const name = $("dm-name").value.trim();
      const problem = nameProblem(name, { guest: true });
      if (problem) {
        ui.notice(problem, { kind: "error", ttl: 8000 });
        return;
      }
      $("dm-name").value = "";
      this.#conversation(name);
      this.#select(dmKey(name));
    });
    on("invite-form", "submit", async (e) => {
      e.preventDefault();
      const room = this.#room();
      const to = $("invite-name").value.trim();
      if (!room || !to) return;
      try {
        await this.#conn.request({ type: "invite", room: room.name, to });
        $("invite-name").value = "";
        ui.notice(`Invited ${to} to #${room.name}.`, { ttl: 6000 });
        this.#fetchRoster(room);
      } catch (err) {
        ui.notice(`Cannot invite ${to}: ${err.message}`, { kind: "error", ttl: 8000 });
      }
    });
    on("leave-button", "click", () => {
      const room = this.#room();
      if (room) this.#leaveRoom(room);
    });
    on("browse", "toggle", () => {
      if ($("browse").open) this.#listRooms();
    });
    on("conn-retry", "click", () => this.#conn.retryNow());
    on("logout", "click", () => this.#h.onLogout());
    on("toggle-sidebar", "click", () => toggle("show-sidebar", "toggle-sidebar"));
    on("toggle-members", "click", () => toggle("show-members", "toggle-members"));
    window.addEventListener("online", () => this.#conn.retryNow(), opts);
    document.addEventListener("visibilitychange", () => this.#scheduleRead(), opts);
    document.addEventListener(
      "keydown",
      (e) => {
        if (e.key === "Escape" && document.body.classList.contains("show-sidebar")) toggle("show-sidebar", "toggle-sidebar");
      },
      opts,
    );
  }
}

function toggle(cls, button) {
  const on = document.body.classList.toggle(cls);
  $(button).setAttribute("aria-expanded", String(on));
}
