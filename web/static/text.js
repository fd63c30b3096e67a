// text.js: turning untrusted text into DOM nodes, and small formatting
// helpers. Nothing here ever parses HTML: user text only ever becomes text
// nodes, and links only http(s) anchors.

// el creates an element. props are set as properties (className, href,
// hidden, ...) except data-* and aria-* keys, set as attributes; children
// are nodes or strings, and strings become text nodes.
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("data-") || k.startsWith("aria-") || k === "role") node.setAttribute(k, v === true ? "" : String(v));
    else node[k] = v;
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

// A URL runs to the next space or to a character that cannot end one.
const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
// Punctuation that ends a sentence is not part of a URL at its end.
const TRAILING = /[.,;:!?)\]}'"*_]+$/;

// Bidirectional formatting characters (embeddings, overrides, isolates,
// marks) make text display in another order than it was written, so that
// "\u202egnp.exe" reads "exe.png", and can reorder what surrounds them.
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

// inertBidi shows each bidirectional formatting character as its code,
// such as [U+202E], where it can do nothing.
export function inertBidi(text) {
  return text.replace(BIDI_CONTROLS, (c) => `[U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}]`);
}

// appendLinkified appends text to parent as text nodes, with http and https
// URLs as links that open in a new tab without telling the target where
// they came from. No other scheme (javascript:, data:) is ever a link.
// Bidirectional formatting characters are shown inert (inertBidi).
export function appendLinkified(parent, text) {
  text = inertBidi(text);
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    const raw = m[0].replace(TRAILING, "");
    const start = m.index;
    let url = null;
    try {
      url = new URL(raw);
    } catch {
      // Not a URL after all: it stays text.
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) continue;
    parent.append(text.slice(last, start));
    parent.append(el("a", { href: url.href, rel: "noopener noreferrer", target: "_blank" }, raw));
    last = start + raw.length;
  }
  parent.append(text.slice(last));
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });

// timeEl shows ms (epoch) as a time, with the date when it is not today.
export function timeEl(ms) {
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return el("time", { dateTime: d.toISOString(), title: fullFmt.format(d) }, (today ? timeFmt : dateFmt).format(d));
}

// randomId returns a random id for client_msg_id. crypto.randomUUID is
// missing outside secure contexts (plain http to a LAN address).
export function randomId() {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
const ROOM_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

// nameProblem explains why name is not a valid user name, or "". Only
// with guest may it be a server-given guest-N name (someone else's).
export function nameProblem(name, { guest = false } = {}) {
  if (!NAME_RE.test(name)) return "Names have 1–32 letters, digits, '-', '_' or '.', starting with a letter or digit.";
  if (!guest && name.toLowerCase().startsWith("guest-")) return "Names starting with guest- are given by the server.";
  return "";
}

// roomProblem explains why room is not a valid room name, or "".
export function roomProblem(room) {
  return ROOM_RE.test(room) ? "" : "Room names have 1–64 letters, digits, '-', '_' or '.', starting with a letter or digit.";
}
