// The API as the console uses it: the sign-in token (kept in sessionStorage, so it ends with the
// tab), JSON requests with the Authorization header, and problem+json answers turned into errors.
const TOKEN_KEY = "gw.token";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

// The token's claims (role, subject, expiry) for the page's own display; the API checks them.
export function claims() {
  const value = token();
  if (!value) return null;
  try {
    const payload = value.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload));
  } catch {
    return null;
  }
}

export function authHeaders() {
  const value = token();
  return value ? { Authorization: `Bearer ${value}` } : {};
}

export async function signIn(username, password) {
  const response = await fetch("/api/v1/auth/token", {
    method: "POST", body: new URLSearchParams({ username, password }),
  });
  const body = await response.json();
  if (!response.ok) throw new ApiError(response.status, body);
  sessionStorage.setItem(TOKEN_KEY, body.access_token);
  return claims();
}

export async function signOut() {
  if (token()) await fetch("/api/v1/auth/sign-out", { method: "POST", headers: authHeaders() }).catch(() => null);
  sessionStorage.removeItem(TOKEN_KEY);
}

// `request("/network/trace", {method: "POST", json: {...}})` -> {data, response}. A 401 means the
// token expired or was revoked: the page goes back to the sign-in form.
export async function request(path, { method = "GET", json, headers = {} } = {}) {
  const init = { method, headers: { ...authHeaders(), ...headers } };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path.startsWith("/") && !path.startsWith("/api/") && !path.startsWith("/tiles/")
    ? `/api/v1${path}` : path, init);
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json() : null;
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    window.dispatchEvent(new CustomEvent("gw:signed-out"));
  }
  if (!response.ok) throw new ApiError(response.status, data || {});
  return { data, response };
}

export async function getJson(path) {
  return (await request(path)).data;
}
