// The signed-in token, shared by the inspector and GraphiQL (same origin,
// same tab): kept in sessionStorage only, never in a URL that reaches the
// server. The development start's link hands it over in the fragment
// (`#token=…`), which browsers do not send; it is read once and removed.

const KEY = 'botmem.token';

export function readToken() {
  try {
    return sessionStorage.getItem(KEY) || '';
  } catch {
    return '';
  }
}

export function storeToken(token) {
  sessionStorage.setItem(KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(KEY);
}

/// The fragment's `name=value` pairs, when it holds any (`#token=…`,
/// `#query=…&variables=…`); routes (`#/…`) are not parameters.
export function fragmentParams() {
  const hash = location.hash.slice(1);
  if (!hash || hash.startsWith('/')) return null;
  const params = new URLSearchParams(hash);
  return [...params.keys()].length ? params : null;
}

/// Takes a token handed over in the fragment into sessionStorage and
/// removes it from the address bar and the history, keeping `keep`
/// (another fragment, e.g. a route) if given.
export function takeTokenFromFragment(keep = '') {
  const params = fragmentParams();
  const token = params?.get('token');
  if (token) {
    storeToken(token.trim());
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + location.search + (rest ? '#' + rest : keep));
  }
  return token || null;
}

/// The payload of a JWT, decoded but not verified (the server verifies it).
export function decodeJwt(token) {
  try {
    const part = token.split('.')[1];
    const base64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

/// Whether a pasted text looks like a JWT (three base64url parts).
export function looksLikeJwt(token) {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}
