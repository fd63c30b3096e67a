// thread.js: the thread panel. It shows one thread of a room, its root
// and its replies paged from the server (history with thread), follows
// the live events of the room, and sends thread replies from its own
// composer, to the room as well when "also send to the room" is checked.

import { Room } from "./model.js";
import * as ui from "./ui.js";
import { el, randomId } from "./text.js";

// PAGE is how many replies one history request asks for.
const PAGE = 50;

// ThreadPanel is the panel over the right of the messages. handlers:
//   request(req)      send a request and resolve with its ack
//   send(req)         the same for a send, paced by the send limits
//   me()              the user's name
//   onSent(room, ev)  a thread reply of ours was acknowledged: apply it
//                     to the room (the sender receives no event of it)
//   react(room, seq, emoji, m)  toggle the user's reaction emoji to
//                     message seq, m as the panel shows it; once
//                     acknowledged it comes back through onEvent
export class ThreadPanel {
  #h;
  #node = null;
  #room = null; // the room's model, which holds the root if loaded
  #root = 0;
  #rootHolder = null; // a Room of the root read from the server, when the room lacks it
  #replies = null; // a Room of the thread's replies only
  #more = false;
  #loading = false;
  #found = 0; // a reply opened from a search, highlighted

  constructor(handlers) {
    this.#h = handlers;
  }

  // showing reports whether the panel shows the thread of root in room.
  showing(room, root) {
    return this.#node !== null && !this.#node.hidden && this.#room === room && this.#root === root;
  }

  // show opens the thread of message root of room, reading its newest
  // replies, and focuses its composer. With found, the seq of one of its
  // replies, it reads back to that reply, scrolls to it and highlights it.
  async show(room, root, found = 0) {
    if (!Number.isSafeInteger(root) || root <= 0) return;
    this.#build();
    this.#room = room;
    this.#root = root;
    this.#found = found;
    this.#rootHolder = null;
    this.#replies = new Room(room.name);
    this.#more = false;
    this.#node.hidden = false;
    this.#node.querySelector(".thread-title").textContent = `Thread in #${room.name}`;
    this.#render();
    this.#node.querySelector("textarea").focus();
    if (!room.find(root)) {
      try {
        const ack = await this.#h.request({ type: "history", room: room.name, before: root + 1, limit: 1 });
        const m = (ack.messages ?? []).find((x) => x.seq === root);
        if (m && this.showing(room, root)) {
          this.#rootHolder = new Room(room.name);
          this.#rootHolder.add(m);
        }
      } catch {
        // The replies still show, under a root that is not at hand.
      }
    }
    await this.#older();
    // Each page is older than the last, so this ends at the thread's start.
    while (found && this.showing(room, root) && !this.#replies.find(found) && this.#more) {
      if (!(await this.#older())) break;
    }
    if (found && this.showing(room, root)) {
      this.#node.querySelector(`.thread-replies li[data-seq="${found}"]`)?.scrollIntoView({ block: "center" });
    }
  }

  // closeUnless closes the panel if it shows a thread of another room than
  // room.
  closeUnless(room) {
    if (this.#room !== room) this.close();
  }

  close() {
    if (!this.#node || this.#node.hidden) return false;
    this.#node.hidden = true;
    this.#room = null;
    this.#root = 0;
    this.#found = 0;
    return true;
  }

  // onEvent takes an event of any room: a reply in this thread, or a
  // change to one of its messages.
  onEvent(ev) {
    if (!this.#room || ev.room !== this.#room.name) return;
    if (ev.type === "message" && Number(ev.thread) === this.#root) {
      this.#replies.add(ev);
      this.#render();
    } else if (ev.type !== "message") {
      const target = Number(ev.target);
      if (this.#replies.find(target)) this.#replies.add(ev);
      // A root the room holds changes with the room's model.
      if (target === this.#root && !this.#room.find(target)) this.#rootHolder?.add(ev);
      if (target === this.#root || this.#replies.find(target)) this.#render();
    }
  }

  // find returns the message with seq as the panel shows it: a reply or
  // the root.
  #find(seq) {
    if (seq === this.#root) return this.#room.find(seq) ?? this.#rootHolder?.find(seq);
    return this.#replies.find(seq);
  }

  // onAction runs a message's React button and its reactions, as in the
  // room's view.
  #onAction(e) {
    const btn = e.target.closest("button[data-action]");
    const li = btn?.closest("li[data-seq]");
    if (!li || !this.#room) return;
    const seq = Number(li.dataset.seq);
    if (btn.dataset.action === "react") ui.togglePicker(li);
    else if (btn.dataset.action === "toggle-reaction") this.#h.react(this.#room, seq, btn.dataset.emoji, this.#find(seq));
  }

  // rootChanged renders the root again after the room's model changed it.
  rootChanged(room) {
    if (this.#room === room) this.#render();
  }

  // older reads the page of replies before the oldest one shown; false if
  // it read none.
  async #older() {
    if (this.#loading) return false;
    const room = this.#room;
    const root = this.#root;
    const req = { type: "history", room: room.name, thread: root, limit: PAGE };
    if (this.#replies.firstSeq) req.before = this.#replies.firstSeq;
    this.#loading = true;
    try {
      const ack = await this.#h.request(req);
      if (!this.showing(room, root)) return false;
      for (const m of ack.messages ?? []) this.#replies.add(m);
      this.#more = ack.more === true;
    } catch (err) {
      ui.notice(`Cannot read the thread: ${err.message}`, { kind: "error", ttl: 8000 });
      return false;
    } finally {
      this.#loading = false;
    }
    this.#render();
    return true;
  }

  async #send() {
    const input = this.#node.querySelector("textarea");
    const also = this.#node.querySelector(".thread-also");
    const text = input.value;
    const room = this.#room;
    const root = this.#root;
    if (!room || text.trim() === "") return;
    const req = { type: "send", room: room.name, text, thread: root, client_msg_id: randomId() };
    if (also.checked) req.also_room = true;
    input.value = "";
    try {
      const ack = await this.#h.send(req);
      const ev = { type: "message", room: room.name, seq: ack.seq, ts: ack.ts, from: this.#h.me(), text, thread: root,
        also_room: req.also_room === true, client_msg_id: req.client_msg_id };
      if (this.showing(room, root)) this.#replies.add(ev);
      this.#h.onSent(room, ev);
      this.#render();
    } catch (err) {
      if (!input.value) input.value = text;
      ui.notice(`Cannot send to the thread: ${err.message}`, { kind: "error", ttl: 8000 });
    }
  }

  #render() {
    if (!this.#node || !this.#room) return;
    const me = this.#h.me();
    const root = this.#find(this.#root);
    const rootList = this.#node.querySelector(".thread-root");
    if (root) ui.renderMessages(rootList, [root], me, false, (s) => this.#room.find(s));
    else rootList.replaceChildren(el("li", { className: "hint" }, `Message #${this.#root}`));
    ui.renderMessages(this.#node.querySelector(".thread-replies"), this.#replies.messages, me, false,
      (s) => this.#replies.find(s) ?? this.#room.find(s) ?? (s === this.#root ? root : undefined));
    // The panel reads, replies and reacts; a message's other actions live
    // in the room's view.
    for (const n of this.#node.querySelectorAll(".actions button:not([data-action='react']), .thread-summary, .thread-ref")) n.remove();
    if (this.#found) this.#node.querySelector(`.thread-replies li[data-seq="${this.#found}"]`)?.classList.add("found");
    this.#node.querySelector(".thread-older").hidden = !this.#more;
  }

  #build() {
    if (this.#node) return;
    const input = el("textarea", { rows: 1, placeholder: "Reply in thread", autocomplete: "off", className: "thread-input", "aria-label": "Reply in thread" });
    const form = el("form", { className: "composer thread-composer" },
      input,
      el("label", { className: "check" }, el("input", { type: "checkbox", className: "thread-also" }), " also send to the room"),
      el("button", { type: "submit" }, "Reply"));
    this.#node = el("aside", { id: "thread-panel", className: "thread-panel", "aria-label": "Thread", hidden: true },
      el("header", { className: "thread-head" },
        el("h2", { className: "thread-title" }, "Thread"),
        el("button", { type: "button", className: "icon thread-close", "aria-label": "Close thread" }, "✕")),
      el("div", { className: "thread-scroll" },
        el("ol", { className: "messages thread-root" }),
        el("button", { type: "button", className: "link thread-older", hidden: true }, "Older replies"),
        el("ol", { className: "messages thread-replies", role: "log", "aria-live": "polite" })),
      form);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.#send();
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.#send();
      }
    });
    this.#node.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        this.close();
        ui.$("input").focus();
      }
    });
    this.#node.querySelector(".thread-close").addEventListener("click", () => {
      this.close();
      ui.$("input").focus();
    });
    this.#node.querySelector(".thread-older").addEventListener("click", () => this.#older());
    this.#node.querySelector(".thread-scroll").addEventListener("click", (e) => this.#onAction(e));
    ui.$("main").append(this.#node);
  }
}
