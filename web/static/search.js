// search.js: the search box and its results. A result opens its room at
// the message, loaded with the history back to it and highlighted.
// Message texts are shown only as text nodes, the matched words in <mark>.

import { el, timeEl } from "./text.js";
import { $ } from "./ui.js";

export class Search {
  #chat = null;
  #req = null; // the last search, for "More"
  #cursor = "";

  constructor() {
    $("search-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const q = $("search-input").value.trim();
      if (q) this.#run({ type: "search", q }, false);
    });
    $("search-more").addEventListener("click", () => {
      if (this.#req && this.#cursor) this.#run({ ...this.#req, cursor: this.#cursor }, true);
    });
    $("search-close").addEventListener("click", () => this.#close());
    $("search-input").addEventListener("keydown", (e) => {
      if (e.key === "Escape") this.#close();
    });
  }

  // attach makes chat the one searches go through: a new one after each
  // sign-in.
  attach(chat) {
    this.#chat = chat;
    this.#close();
  }

  #close() {
    $("search-results").hidden = true;
    $("search-list").replaceChildren();
    this.#req = null;
    this.#cursor = "";
  }

  async #run(req, more) {
    if (!this.#chat) return;
    const status = $("search-status");
    $("search-results").hidden = false;
    if (!more) {
      $("search-list").replaceChildren();
      this.#req = { type: "search", q: req.q };
    }
    status.textContent = "Searching…";
    $("search-more").hidden = true;
    let ack;
    try {
      ack = await this.#chat.request(req);
    } catch (err) {
      status.textContent =
        {
          bad_request: "Search for words: letters or digits.",
          unavailable: "This server keeps no history to search.",
          rate_limited: "Too many searches; wait a moment.",
          disconnected: "Not connected.",
        }[err.code] ?? `Search failed: ${err.message}`;
      return;
    }
    const hits = ack.hits ?? [];
    for (const h of hits) $("search-list").append(this.#hitNode(h));
    this.#cursor = ack.more ? (ack.cursor ?? "") : "";
    $("search-more").hidden = !this.#cursor;
    const n = $("search-list").children.length;
    status.textContent = n ? `${n} found${this.#cursor ? ", more to see" : ""}` : "Nothing found.";
  }

  #hitNode(h) {
    const text = el("span", { className: "hit-text" }, ...marked(h.text, h.marks ?? []));
    const button = el(
      "button",
      { type: "button", className: "hit", "data-room": h.room, "data-seq": h.seq },
      el("span", { className: "hit-meta" }, "#" + h.room + " · " + h.from + " · ", timeEl(h.ts)),
      text,
    );
    button.addEventListener("click", () => this.#chat?.showMessage(h.room, h.seq));
    return el("li", {}, button);
  }
}

// marked splits text into text nodes and <mark>s at marks, [start, end)
// offsets in code points.
function marked(text, marks) {
  const cps = Array.from(text);
  const out = [];
  let at = 0;
  for (const [start, end] of marks) {
    if (start < at || end > cps.length || start > end) continue;
    if (start > at) out.push(cps.slice(at, start).join(""));
    out.push(el("mark", {}, cps.slice(start, end).join("")));
    at = end;
  }
  if (at < cps.length) out.push(cps.slice(at).join(""));
  return out;
}
