// ui.js: rendering the model into the page. Every piece of user data goes
// through text.js's el and appendLinkified, so it is only ever text.

import { el, appendLinkified, inertBidi, timeEl } from "./text.js";
import { mentionsMe } from "./mention.js";

// $ finds the element with id, which index.html must have.
export const $ = (id) => document.getElementById(id);

// A message continues the one before (no author line) when the same user
// wrote it soon after.
const GROUP_MS = 5 * 60 * 1000;

const same = (a, b) => a.toLowerCase() === b.toLowerCase();

// messageNode renders one delivered message; prev is the one shown above
// it, if any. seq is null for direct messages.
// canModerate offers deleting other users' messages (a private room, where
// the owner may; the server refuses anyone else).
// find, if given, looks up a message of the same room by seq, for the
// quote of a reply.
export function messageNode(msg, prev, me, canModerate = false, find = null) {
  const mine = same(msg.from, me);
  const cont = prev && same(prev.from, msg.from) && msg.ts - prev.ts < GROUP_MS && msg.ts >= prev.ts;
  const li = el("li", {
    className: "msg" + (mine ? " mine" : "") + (cont ? " cont" : "") + (!mine && !msg.deleted && mentionsMe(msg.text, me) ? " mentioned" : ""),
    "data-seq": msg.seq ?? undefined,
    "data-from": msg.from,
  });
  li.append(
    el(
      "div",
      { className: "meta" },
      el("span", { className: "author" }, msg.from),
      mine ? el("span", { className: "you" }, "(you)") : null,
      timeEl(msg.ts),
    ),
  );
  if (msg.seq != null) {
    const ref = replyRef(msg, find);
    if (ref) li.append(ref);
  }
  const body = el("div", { className: "text" });
  if (msg.deleted) {
    li.classList.add("deleted");
    body.append(el("span", { className: "tombstone" }, "This message was deleted."));
  } else {
    appendLinkified(body, msg.text);
  }
  li.append(body);
  if (msg.edited && !msg.deleted) {
    li.append(el("span", { className: "edited", title: "edited " + new Date(msg.edited).toLocaleString() }, "(edited)"));
  }
  if (msg.seq != null && !msg.deleted && msg.reactions?.length) {
    // Each reaction with its count; pressed if it is the reader's, and a
    // click toggles it. The emoji is text, never markup.
    const row = el("div", { className: "reactions" });
    for (const r of msg.reactions) {
      const mine = r.users.some((u) => same(u, me));
      row.append(
        el(
          "button",
          {
            type: "button",
            className: "reaction" + (mine ? " mine" : ""),
            "data-action": "toggle-reaction",
            "data-emoji": r.emoji,
            "aria-pressed": mine ? "true" : "false",
            title: r.users.join(", ") + (r.count > r.users.length ? ` and ${r.count - r.users.length} more` : ""),
          },
          `${r.emoji} ${r.count}`,
        ),
      );
    }
    li.append(row);
  }
  if (msg.seq != null && msg.replies > 0) li.append(threadSummary(msg));
  if (msg.seq != null && !msg.deleted) {
    // Shown on hover and when focus is inside the message, so a keyboard
    // user reaches them with Tab.
    const actions = el("div", { className: "actions" });
    actions.append(el("button", { type: "button", "data-action": "react", "aria-label": "React to message" }, "React"));
    if (!msg.thread) {
      actions.append(el("button", { type: "button", "data-action": "thread", "aria-label": "Reply in thread" }, "Reply in thread"));
    }
    if (mine) actions.append(el("button", { type: "button", "data-action": "edit", "aria-label": "Edit message" }, "Edit"));
    if (mine || canModerate) {
      actions.append(el("button", { type: "button", "data-action": "delete", "aria-label": "Delete message" }, "Delete"));
    }
    li.append(actions);
  }
  return li;
}

// renderMessages replaces list's content with msgs; show, if given,
// picks those shown (a room shows no thread reply of a thread only).
export function renderMessages(list, msgs, me, canModerate = false, find = null, show = null) {
  const frag = document.createDocumentFragment();
  let prev = null;
  for (const m of msgs) {
    if (show && !show(m)) continue;
    frag.append(messageNode(m, prev, me, canModerate, find));
    prev = m;
  }
  list.replaceChildren(frag);
  // A search result shown in its room (list.dataset.found) stays marked.
  const found = list.dataset.found;
  if (found) list.querySelector(`li[data-seq="${found}"]`)?.classList.add("found");
}

// QUOTE_CHARS bounds the start of a message that a reply quotes.
const QUOTE_CHARS = 120;

// replyRef shows what a message answers: a quote of the message it
// replies to (as text, never markup), and for a thread reply also in the
// room a link to its thread.
function replyRef(msg, find) {
  const parts = [];
  if (msg.thread) {
    parts.push(el("button", { type: "button", className: "link thread-ref", "data-action": "thread", "data-root": msg.thread }, "replied in a thread"));
  }
  if (msg.replyTo && msg.replyTo !== msg.thread) {
    const q = find?.(msg.replyTo);
    let quote;
    if (!q) quote = [el("span", { className: "hint" }, `a message (#${msg.replyTo})`)];
    else if (q.deleted) quote = [el("span", { className: "tombstone" }, "a deleted message")];
    else {
      const text = q.text.length > QUOTE_CHARS ? q.text.slice(0, QUOTE_CHARS) + "…" : q.text;
      quote = [el("span", { className: "author" }, q.from), " ", el("span", { className: "quote-text" }, inertBidi(text))];
    }
    parts.push(el("blockquote", { className: "quote", "data-reply-to": msg.replyTo }, ...quote));
  }
  return parts.length ? el("div", { className: "reply-ref" }, ...parts) : null;
}

// threadSummary shows a root's reply count and last reply time; a click
// opens the thread.
function threadSummary(msg) {
  const n = msg.replies;
  return el("button", { type: "button", className: "link thread-summary", "data-action": "thread" },
    n === 1 ? "1 reply" : `${n} replies`, " · last ", timeEl(msg.lastReplyTs));
}

// renderOutbox shows the sends not yet acknowledged, below the messages.
export function renderOutbox(list, outbox, me, { onRetry, onDiscard }) {
  list.replaceChildren(
    ...outbox.map((o) => {
      const failed = o.state === "failed";
      const li = el("li", { className: "msg mine pending" + (failed ? " failed" : ""), "data-cmid": o.cmid });
      li.append(el("div", { className: "meta" }, el("span", { className: "author" }, me), el("span", { className: "you" }, "(you)"),
        el("span", { className: "status" }, failed ? "not sent: " + o.error : "sending…")));
      const body = el("div", { className: "text" });
      appendLinkified(body, o.text);
      li.append(body);
      if (failed) {
        li.append(el("div", { className: "actions" },
          el("button", { type: "button", className: "link", onclick: () => onRetry(o) }, "Retry"),
          el("button", { type: "button", className: "link", onclick: () => onDiscard(o) }, "Discard")));
      }
      return li;
    }),
  );
}

function badge(n) {
  return n > 0 ? el("span", { className: "badge", "aria-label": `${n} unread` }, n > 999 ? "999+" : String(n)) : null;
}

function mentionBadge(n) {
  return n > 0 ? el("span", { className: "badge mention-badge", "aria-label": `${n} unread mentions` }, n > 99 ? "@99+" : "@" + n) : null;
}

// renderNav lists the joined rooms and the conversations; mentionsOf
// counts a room's unread mentions.
export function renderNav(rooms, dms, active, onSelect, mentionsOf = () => 0) {
  $("room-list").replaceChildren(
    ...[...rooms.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((r) => {
        const key = "room:" + r.name;
        return el("li", {},
          el("button", {
            type: "button",
            className: "nav-item" + (r.unread ? " has-unread" : ""),
            "data-room": r.name,
            "aria-current": key === active ? "page" : undefined,
            onclick: () => onSelect(key),
          },
          el("span", { className: "nav-name" }, "#" + r.name),
          r.private ? el("span", { className: "tag" }, "private") : null,
          mentionBadge(mentionsOf(r.name)),
          badge(r.unread)));
      }),
  );
  $("dm-list").replaceChildren(
    ...[...dms.values()].map((c) => {
      const key = "dm:" + c.peer.toLowerCase();
      return el("li", {},
        el("button", {
          type: "button",
          className: "nav-item" + (c.unread ? " has-unread" : ""),
          "data-dm": c.peer,
          "aria-current": key === active ? "page" : undefined,
          onclick: () => onSelect(key),
        },
        el("span", { className: "nav-name" }, "@" + c.peer),
        badge(c.unread)));
    }),
  );
}

// renderBrowse lists the server's rooms, from a rooms ack.
export function renderBrowse(entries, joined, onJoin) {
  const items = entries.map((e) =>
    el("li", {},
      el("button", { type: "button", className: "nav-item", "data-room": e.room, disabled: joined.has(e.room), onclick: () => onJoin(e.room) },
        el("span", { className: "nav-name" }, "#" + e.room),
        e.private ? el("span", { className: "tag" }, "private") : null,
        el("span", { className: "count", title: "members online" }, String(e.members)))));
  $("browse-list").replaceChildren(...(items.length ? items : [el("li", { className: "hint" }, "No rooms with anyone in them.")]));
}

// renderMembers lists who is in a room: present users, then (private rooms)
// members who are not connected.
export function renderMembers(room, me, { onDM, onRemove } = {}) {
  const list = $("member-list");
  if (!room) {
    list.replaceChildren();
    return;
  }
  const present = [...room.members];
  const presentKeys = new Set(present.map((u) => u.toLowerCase()));
  const away = (room.roster ?? []).filter((u) => !presentKeys.has(u.toLowerCase()));
  const row = (user, online) => {
    const mine = same(user, me);
    return el("li", { className: "member" + (online ? " online" : " away"), "data-user": user },
      el("span", { className: "dot", "aria-label": online ? "online" : "away" }),
      mine
        ? el("span", { className: "member-name" }, user, el("span", { className: "you" }, " (you)"))
        : el("button", { type: "button", className: "link member-name", title: "Send a direct message", onclick: () => onDM(user) }, user),
      room.private && !mine
        ? el("button", { type: "button", className: "link remove", "aria-label": `Remove ${user} from #${room.name}`, title: "Remove from room", onclick: () => onRemove(user) }, "✕")
        : null);
  };
  const byName = (a, b) => a.localeCompare(b, undefined, { sensitivity: "base" });
  const others = (room.users ?? 0) - present.length;
  list.replaceChildren(...present.sort(byName).map((u) => row(u, true)),
    ...(others > 0 ? [el("li", { className: "hint member-more" }, `and ${others} more online`)] : []),
    ...away.sort(byName).map((u) => row(u, false)));
}

// renderTyping says who is typing in room now.
export function renderTyping(room, me) {
  const now = Date.now();
  const users = room ? [...room.typing].filter(([u, until]) => until > now && !same(u, me)).map(([u]) => u) : [];
  let text = "";
  if (users.length === 1) text = `${users[0]} is typing…`;
  else if (users.length === 2) text = `${users[0]} and ${users[1]} are typing…`;
  else if (users.length > 2) text = "Several people are typing…";
  $("typing").textContent = text;
}

// notice shows a dismissible message above the messages, with optional
// action buttons [{label, run}]. It removes itself after ttl ms, if given.
export function notice(text, { actions = [], ttl = 0, kind = "info" } = {}) {
  const li = el("li", { className: "notice " + kind });
  const close = () => li.remove();
  li.append(
    el("span", {}, text),
    ...actions.map((a) => el("button", { type: "button", className: "link", onclick: () => { close(); a.run(); } }, a.label)),
    el("button", { type: "button", className: "link dismiss", "aria-label": "Dismiss", onclick: close }, "✕"),
  );
  $("notices").append(li);
  if (ttl > 0) setTimeout(close, ttl);
  return li;
}

// renderConn shows the connection state.
export function renderConn(state, retryAt) {
  document.body.dataset.conn = state;
  const text = $("conn-text");
  const retry = $("conn-retry");
  retry.hidden = state !== "waiting";
  switch (state) {
    case "open":
      text.textContent = "Connected";
      break;
    case "connecting":
      text.textContent = "Connecting…";
      break;
    case "waiting": {
      const s = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
      text.textContent = s > 0 ? `Offline: reconnecting in ${s} s` : "Offline: reconnecting…";
      break;
    }
    default:
      text.textContent = "Disconnected";
  }
}

// togglePicker shows, or hides again, the reactions to pick under message
// li, its first one focused for the keyboard.
export function togglePicker(li) {
  const open = li.querySelector(".reaction-picker");
  if (open) {
    open.remove();
    return;
  }
  const picker = reactionPicker();
  li.append(picker);
  picker.querySelector("button")?.focus();
}

// The reactions a message's React button offers.
export const REACTION_CHOICES = ["👍", "❤️", "😂", "🎉", "😮", "😢"];

// reactionPicker is the row of REACTION_CHOICES shown under a message.
export function reactionPicker() {
  const row = el("div", { className: "reaction-picker", role: "group", "aria-label": "Pick a reaction" });
  for (const emoji of REACTION_CHOICES) {
    row.append(
      el("button", { type: "button", "data-action": "toggle-reaction", "data-emoji": emoji, "aria-label": "React " + emoji }, emoji),
    );
  }
  return row;
}
