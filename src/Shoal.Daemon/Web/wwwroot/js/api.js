// The daemon's native API (docs/api.md): JSON under /api/v1, the CSRF token on every change, the login when asked.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let csrf = null;
let onUnauthorized = () => {};

/** Called when the daemon answers 401: the page shows its login form. */
export function setUnauthorizedHandler(handler) { onUnauthorized = handler; }

async function send(method, path, body, retried = false) {
  const headers = {};
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  if (method !== 'GET' && csrf) headers['X-Shoal-Csrf'] = csrf;
  let response;
  try {
    response = await fetch(`/api/v1/${path}`, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'the daemon cannot be reached');
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (response.ok) return data;
  const message = data?.error ?? `${response.status} ${response.statusText}`;
  if (response.status === 401 && !path.startsWith('auth/')) {
    onUnauthorized();
  } else if (response.status === 403 && !retried && method !== 'GET' && /CSRF/i.test(message)) {
    // The daemon restarted (a new token) or the login changed: fetch the token again and try once more.
    await session();
    return send(method, path, body, true);
  }
  throw new ApiError(response.status, message);
}

export const get = path => send('GET', path);
export const post = (path, body = {}) => send('POST', path, body);
export const patch = (path, body) => send('PATCH', path, body);
export const del = path => send('DELETE', path);

/** GET /api/v1/session: the CSRF token and whether a password is asked. */
export async function session() {
  const info = await get('session');
  csrf = info.csrf_token;
  return info;
}

export async function login(password) {
  const info = await send('POST', 'auth/login', { password });
  csrf = info.csrf_token;
  return info;
}

export async function logout() {
  await post('auth/logout');
  csrf = null;
}

/** Acts on torrents by id: pause, resume, force-start, recheck. */
export const act = (action, ids) => post(`torrents/${action}`, { ids: ids.map(String) });
