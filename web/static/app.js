// app.js: the entry point. It decides between the sign-in screen and the
// chat, keeps an account's token fresh, and follows sign-ins and sign-outs
// made in other tabs.

import * as api from "./api.js";
import { Chat } from "./chat.js";
import { Search } from "./search.js";
import { $ } from "./ui.js";
import { nameProblem } from "./text.js";

// A token is refreshed after this share of its life, give or take a
// random tenth so that several tabs do not all refresh at once.
const REFRESH_AT = 0.8;
const REFRESH_RETRY_MS = 30000;
const VIEW_KEY = "chatd.view";

let config = { auth: "optional", registration: false, accounts: null };
let identity = null;
let chat = null;
let search = null;
let refreshTimer = 0;

const same = (a, b) => a.toLowerCase() === b.toLowerCase();

async function main() {
  config = await api.getConfig();
  bindLogin();
  api.onIdentityChange(onOtherTab);
  const stored = api.loadIdentity();
  if (stored && usable(stored)) {
    startChat(stored);
  } else {
    if (stored) api.clearIdentity();
    showLogin("", stored?.name);
  }
}

// usable reports whether a stored identity can sign in on this server.
function usable(id) {
  if (id.kind === "account") return config.accounts !== false && id.expires > Date.now();
  return config.auth !== "required";
}

// ---- sign-in screen ----

function showLogin(message = "", name = "") {
  $("chat").hidden = true;
  $("login").hidden = false;
  document.title = "chatd";
  const notice = $("login-notice");
  notice.textContent = message;
  notice.hidden = !message;
  $("guest-form").hidden = config.auth === "required";
  $("account-form").hidden = !config.accounts;
  $("register-button").hidden = !config.registration;
  $("account-title").textContent = config.registration ? "Log in or register" : "Log in";
  for (const id of ["guest-error", "account-error"]) $(id).hidden = true;
  if (name && !name.toLowerCase().startsWith("guest-")) {
    $("guest-name").value = name;
    $("account-name").value = name;
  }
  const first = config.auth === "required" ? $("account-name") : $("guest-name");
  first.focus();
}

function showError(id, text) {
  const p = $(id);
  p.textContent = text;
  p.hidden = !text;
}

function bindLogin() {
  $("guest-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const name = $("guest-name").value.trim();
    const problem = name ? nameProblem(name) : "";
    if (problem) {
      showError("guest-error", problem);
      return;
    }
    const id = { kind: "guest", name, session: "" };
    api.saveIdentity(id);
    startChat(id);
  });
  $("account-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = $("account-name").value.trim();
    const password = $("account-password").value;
    const problem = nameProblem(name);
    if (problem) {
      showError("account-error", problem);
      return;
    }
    if (!password) {
      showError("account-error", "Enter your password.");
      return;
    }
    const register = e.submitter?.value === "register";
    const buttons = [$("login-button"), $("register-button")];
    buttons.forEach((b) => (b.disabled = true));
    try {
      const id = await (register ? api.register(name, password) : api.login(name, password));
      $("account-password").value = "";
      api.saveIdentity(id);
      startChat(id);
    } catch (err) {
      showError("account-error", err.message);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });
}

// ---- chat ----

function startChat(id) {
  identity = id;
  $("login").hidden = true;
  $("chat").hidden = false;
  $("logout").textContent = id.kind === "guest" ? "Leave" : "Log out";
  chat = new Chat(id, {
    onIdentity: (next) => {
      identity = next;
      api.saveIdentity(next);
    },
    onUnauthorized,
    onFailedOpen,
    onLogout: logout,
  });
  chat.start();
  search ??= new Search();
  search.attach(chat);
  scheduleRefresh();
}

function stopChat() {
  clearTimeout(refreshTimer);
  chat?.stop();
  chat = null;
}

function signOut(message) {
  const name = identity?.name ?? "";
  stopChat();
  identity = null;
  api.clearIdentity();
  localStorage.removeItem(VIEW_KEY);
  showLogin(message, name);
}

async function logout() {
  const id = identity;
  signOut("");
  if (id?.kind === "account") {
    try {
      await api.logout(id.token);
    } catch {
      // The token is gone from this browser either way.
    }
  }
}

// onUnauthorized handles a close with 4001. Another tab may have replaced
// the token (refreshing revokes the old one): then reconnect with the new.
function onUnauthorized(reason) {
  const stored = api.loadIdentity();
  if (identity?.kind === "account" && stored?.kind === "account" && stored.token !== identity.token && same(stored.name, identity.name)) {
    adopt(stored);
    return true;
  }
  signOut(`Your session has ended (${reason}). Log in again.`);
  return false;
}

// onFailedOpen: the first connection did not open. A page cannot see the
// handshake's status, so ask the server what it would not say: whether
// the token is still good, or whether the server is up (then it refuses
// the guest's name, held by someone else or by an account).
async function onFailedOpen(attempts) {
  const id = identity;
  if (id?.kind === "account") {
    try {
      await api.me(id.token);
    } catch (err) {
      if (err.status === 401 && identity === id) signOut("Your session has ended. Log in again.");
    }
    return;
  }
  if (attempts < 3) return;
  let up = false;
  try {
    up = (await fetch("/healthz", { cache: "no-store" })).ok;
  } catch {
    // Down: keep trying.
  }
  if (up && identity === id && chat && !chat.welcomed) {
    signOut(`The server refused the name “${id.name || "guest"}”: someone else is using it, or it belongs to an account. Choose another.`);
  }
}

// ---- tokens ----

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  if (identity?.kind !== "account") return;
  const life = Math.max(0, identity.expires - identity.issued);
  const at = identity.issued + life * (REFRESH_AT + (Math.random() - 0.5) * 0.1);
  const delay = Math.min(Math.max(1000, at - Date.now()), 2 ** 31 - 1);
  refreshTimer = setTimeout(refreshToken, delay);
}

async function refreshToken() {
  if (identity?.kind !== "account") return;
  const stored = api.loadIdentity();
  if (stored?.kind === "account" && stored.token !== identity.token && same(stored.name, identity.name)) {
    adopt(stored); // another tab refreshed first
    return;
  }
  try {
    const next = await api.refresh(identity.token);
    api.saveIdentity(next);
    adopt(next);
  } catch (err) {
    if (err.status === 401) {
      const again = api.loadIdentity();
      if (again?.kind === "account" && again.token !== identity.token) adopt(again);
      else signOut("Your session has expired. Log in again.");
      return;
    }
    if (identity.expires > Date.now()) refreshTimer = setTimeout(refreshToken, REFRESH_RETRY_MS);
  }
}

// adopt switches to a fresh token: for the next connect, and on the open
// connection so that the server does not close it at the old expiry.
function adopt(next) {
  identity = next;
  chat?.setIdentity(next);
  chat?.presentToken(next.token);
  scheduleRefresh();
}

// onOtherTab follows sign-outs and token refreshes made in other tabs.
function onOtherTab(stored) {
  if (!chat) return;
  if (!stored) {
    signOut("You signed out in another tab.");
    return;
  }
  if (identity?.kind === "account" && stored.kind === "account" && same(stored.name, identity.name) && stored.token !== identity.token) {
    adopt(stored);
  }
}

main();
