// api.js: the account API under /api/ and the identity kept in
// localStorage, so that a reload stays signed in.

const IDENTITY_KEY = "chatd.identity";

// ApiError is a refused API call, with the server's code and message.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// getConfig returns {auth: "optional"|"required", registration, accounts}.
// A server without the account API (404, or no JSON) takes guests only;
// when the server cannot be asked, accounts is null (unknown), so that a
// stored login is kept.
export async function getConfig() {
  const guestsOnly = { auth: "optional", registration: false, accounts: false };
  let r;
  try {
    r = await fetch("/api/config", { headers: { Accept: "application/json" } });
  } catch {
    return { ...guestsOnly, accounts: null };
  }
  try {
    if (!r.ok) return guestsOnly;
    const c = await r.json();
    return {
      auth: c.auth === "required" ? "required" : "optional",
      registration: c.registration === true,
      accounts: c.accounts !== false,
    };
  } catch {
    return guestsOnly;
  }
}

async function call(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = "Bearer " + token;
  let r;
  try {
    r = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    });
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached; try again.");
  }
  let data = null;
  try {
    data = await r.json();
  } catch {
    // Not every reply has a body (logout), and a proxy may answer in HTML.
  }
  if (r.ok) return data;
  const err = data?.error ?? {};
  let message = typeof err.message === "string" && err.message ? err.message : `The server answered ${r.status}.`;
  if (r.status === 429) {
    const wait = parseInt(r.headers.get("Retry-After") ?? "", 10);
    if (wait > 0) message += ` Try again in ${wait} s.`;
  }
  if (r.status === 404 && !err.code) message = "This server has no accounts.";
  throw new ApiError(r.status, err.code ?? "http_" + r.status, message);
}

// account turns a token reply into the identity kept in storage. issued
// is the local time the token was received, to refresh it at 80% of its
// life whatever the clocks say.
function account(reply) {
  if (!reply || typeof reply.token !== "string" || typeof reply.name !== "string") {
    throw new ApiError(0, "bad_reply", "The server's reply is not understood.");
  }
  const now = Date.now();
  const expires = Number(reply.expires) || now + 3600e3;
  return { kind: "account", name: reply.name, token: reply.token, expires, issued: now };
}

// Device tokens, one per account signed in on in this browser: presented
// at login, they let this browser in while the account's login attempts
// from unknown devices are used up by someone guessing its password. They
// are no credential, so logging out keeps them.
const DEVICES_KEY = "chatd.devices";

function devices() {
  try {
    const d = JSON.parse(localStorage.getItem(DEVICES_KEY) ?? "{}");
    return d && typeof d === "object" ? d : {};
  } catch {
    return {};
  }
}

function keepDevice(reply) {
  if (typeof reply?.device !== "string" || typeof reply?.name !== "string") return reply;
  const d = devices();
  d[reply.name.toLowerCase()] = reply.device;
  localStorage.setItem(DEVICES_KEY, JSON.stringify(d));
  return reply;
}

export const register = async (name, password) => account(keepDevice(await call("POST", "/api/register", { name, password })));
export const login = async (name, password) =>
  account(keepDevice(await call("POST", "/api/login", { name, password, device: devices()[name.toLowerCase()] ?? "" })));
export const refresh = async (token) => account(await call("POST", "/api/refresh", undefined, token));
export const logout = (token) => call("POST", "/api/logout", undefined, token);
// me answers whom token signs in, or fails with status 401 when the token
// is invalid, expired or revoked.
export const me = (token) => call("GET", "/api/me", undefined, token);

// loadIdentity returns the stored identity, or null:
//   {kind: "guest", name, session}                  name may be "" (any guest name)
//   {kind: "account", name, token, expires, issued}
export function loadIdentity() {
  let id;
  try {
    id = JSON.parse(localStorage.getItem(IDENTITY_KEY) ?? "null");
  } catch {
    return null;
  }
  if (!id || typeof id !== "object") return null;
  if (id.kind === "guest" && typeof id.name === "string") {
    return { kind: "guest", name: id.name, session: typeof id.session === "string" ? id.session : "" };
  }
  if (id.kind === "account" && typeof id.token === "string" && typeof id.name === "string") {
    return { kind: "account", name: id.name, token: id.token, expires: Number(id.expires) || 0, issued: Number(id.issued) || 0 };
  }
  return null;
}

export function saveIdentity(id) {
  localStorage.setItem(IDENTITY_KEY, JSON.stringify(id));
}

export function clearIdentity() {
  localStorage.removeItem(IDENTITY_KEY);
}

// onIdentityChange calls fn when another tab changes the stored identity.
export function onIdentityChange(fn) {
  window.addEventListener("storage", (e) => {
    if (e.key === IDENTITY_KEY || e.key === null) fn(loadIdentity());
  });
}
