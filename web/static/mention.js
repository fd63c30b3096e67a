// mention.js: mentions of the reader (@name): which messages name them,
// the unread mentions of each room, the list of recent mentions, and the
// browser notifications for a mention or a direct message while the tab
// is hidden. The permission to notify is asked only from a click.

import { el, timeEl } from "./text.js";

// The server's rules (protocol.ParseMentions): '@', not after a name
// character, then a name; characters a name cannot end with are not part
// of it.
const NAME_CHAR = /[A-Za-z0-9._-]/;
const ALNUM = /[A-Za-z0-9]/;
const MAX_NAME = 32;
const MAX_MENTIONS = 20;

// mentionedNames returns the names text mentions, each once, in order.
export function mentionedNames(text) {
  const names = [];
  for (let i = 0; i < text.length && names.length < MAX_MENTIONS; i++) {
    if (text[i] !== "@" || (i > 0 && NAME_CHAR.test(text[i - 1]))) continue;
    let j = i + 1;
    while (j < text.length && NAME_CHAR.test(text[j])) j++;
    let end = j;
    while (end > i + 1 && !ALNUM.test(text[end - 1])) end--;
    const name = text.slice(i + 1, end);
    i = j - 1;
    if (name.length === 0 || name.length > MAX_NAME || !ALNUM.test(name[0])) continue;
    if (names.some((n) => n.toLowerCase() === name.toLowerCase())) continue;
    names.push(name);
  }
  return names;
}

// mentionsMe reports whether text mentions the user named me.
export function mentionsMe(text, me) {
  if (!me || typeof text !== "string" || !text.includes("@")) return false;
  const key = me.toLowerCase();
  return mentionedNames(text).some((n) => n.toLowerCase() === key);
}

// MentionCounts keeps, per room, the seqs of the mentions above the
// reader's read position there: the welcome's list, then mention events;
// a read position drops those at or below it, and an unmention event the
// one it names.
export class MentionCounts {
  #rooms = new Map(); // room -> Set of seqs

  // reset takes a welcome's unread_mentions.
  reset(unread) {
    this.#rooms.clear();
    for (const [room, seqs] of Object.entries(unread ?? {})) {
      if (!Array.isArray(seqs)) continue;
      for (const s of seqs) this.add(room, Number(s), 0);
    }
  }

  add(room, seq, read) {
    if (!Number.isSafeInteger(seq) || seq <= read) return;
    let set = this.#rooms.get(room);
    if (!set) this.#rooms.set(room, (set = new Set()));
    set.add(seq);
  }

  read(room, seq) {
    const set = this.#rooms.get(room);
    if (!set) return;
    for (const s of set) if (s <= seq) set.delete(s);
    if (set.size === 0) this.#rooms.delete(room);
  }

  // drop takes away the mention that seq told of: its message was
  // deleted, or edited not to name the reader (an unmention event).
  drop(room, seq) {
    const set = this.#rooms.get(room);
    if (!set) return;
    set.delete(seq);
    if (set.size === 0) this.#rooms.delete(room);
  }

  count(room) {
    return this.#rooms.get(room)?.size ?? 0;
  }
}

// Notifier shows a browser notification while the tab is hidden, once the
// reader allowed it with the button it manages (shown while the browser
// has not been asked yet).
export class Notifier {
  #button;

  constructor(button, signal) {
    this.#button = button;
    button.addEventListener("click", () => this.#ask(), { signal });
    this.render();
  }

  static get supported() {
    return typeof Notification === "function";
  }

  render() {
    this.#button.hidden = !Notifier.supported || Notification.permission !== "default";
  }

  async #ask() {
    if (!Notifier.supported) return;
    try {
      await Notification.requestPermission();
    } finally {
      this.render();
    }
  }

  // notify shows title and body if the tab is hidden and notifications
  // are allowed; a click on it brings the tab forward and runs onClick.
  notify(title, body, tag, onClick) {
    if (document.visibilityState !== "hidden" || !Notifier.supported || Notification.permission !== "granted") return;
    try {
      const n = new Notification(title, { body: body.slice(0, 200), tag });
      n.onclick = () => {
        window.focus();
        onClick?.();
        n.close();
      };
    } catch (err) {
      console.warn("chatd: notification", err);
    }
  }
}

// renderMentions lists the messages of a mentions reply, newest first;
// a click on one opens its room.
export function renderMentions(list, msgs, onOpen) {
  if (msgs.length === 0) {
    list.replaceChildren(el("li", { className: "hint" }, "No mentions yet."));
    return;
  }
  list.replaceChildren(
    ...msgs.map((m) =>
      el("li", {},
        el("button", { type: "button", className: "mention-item", "data-room": m.room, "data-seq": m.seq, onclick: () => onOpen(String(m.room)) },
          el("span", { className: "nav-name" }, "#" + m.room),
          el("span", { className: "author" }, String(m.from ?? "")),
          timeEl(Number(m.ts) || Date.now()),
          el("span", { className: "mention-text" }, m.deleted ? "(deleted)" : String(m.text ?? "").slice(0, 300)))),
    ),
  );
}
