// pane.js: the scrolling pane of messages. It keeps the view where the
// reader put it: new messages follow the bottom only when the reader is
// there, and older ones loaded above do not move what is on screen.

import * as ui from "./ui.js";

const $ = ui.$;
// Within this many pixels of the bottom the pane sticks to new messages.
const STICK_PX = 48;

const same = (a, b) => a.toLowerCase() === b.toLowerCase();

export class Pane {
  #newCount = 0;

  atBottom() {
    const sc = $("scroller");
    return sc.scrollHeight - sc.scrollTop - sc.clientHeight <= STICK_PX;
  }

  // nearTop reports whether the reader is within px of the oldest message.
  nearTop(px) {
    return $("scroller").scrollTop < px;
  }

  // short reports whether the messages leave less than px to scroll, so
  // that the reader could not scroll up to ask for older ones.
  short(px) {
    const sc = $("scroller");
    return sc.scrollHeight <= sc.clientHeight + px;
  }

  scrollToBottom() {
    const sc = $("scroller");
    sc.scrollTop = sc.scrollHeight;
    this.seen();
  }

  // seen hides the "new messages" button: the reader is at the bottom.
  seen() {
    this.#newCount = 0;
    $("new-messages").hidden = true;
  }

  // show renders msgs from scratch, at the newest.
  show(msgs, me, canModerate = false, find = null, filter = null) {
    ui.renderMessages($("messages"), msgs, me, canModerate, find, filter);
    this.scrollToBottom();
  }

  // append adds the newest message below prev. It follows it down when the
  // reader was at the bottom (or wrote it); otherwise the view stays and
  // the "new messages" button counts it.
  append(msg, prev, me, canModerate = false, find = null) {
    const follow = this.atBottom() || same(msg.from, me);
    $("messages").append(ui.messageNode(msg, prev ?? null, me, canModerate, find));
    if (follow) {
      this.scrollToBottom();
      return;
    }
    this.#newCount++;
    const b = $("new-messages");
    b.textContent = this.#newCount === 1 ? "1 new message ↓" : `${this.#newCount} new messages ↓`;
    b.hidden = false;
  }

  // keepPlace runs update, which changes what is above the view (older
  // messages came in, a gap was filled), and scrolls so that the message
  // at the top of the view stays exactly where it was on screen.
  keepPlace(update) {
    const sc = $("scroller");
    const list = $("messages");
    const bottom = this.atBottom();
    const top = sc.getBoundingClientRect().top;
    let anchor = null;
    let offset = 0;
    for (const li of list.children) {
      const r = li.getBoundingClientRect();
      if (r.bottom > top) {
        anchor = li.dataset.seq;
        offset = r.top - top;
        break;
      }
    }
    update();
    if (bottom) {
      this.scrollToBottom();
      return;
    }
    const li = anchor && list.querySelector(`li[data-seq="${anchor}"]`);
    if (li) sc.scrollTop += li.getBoundingClientRect().top - top - offset;
  }
}
