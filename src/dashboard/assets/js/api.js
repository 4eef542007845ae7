// Every request the page makes, to its own member or to another one:
// with the user's Basic credentials when there are some, a deadline, and
// no redirect followed behind the page's back. Writes carry
// `X-Etcd-Dashboard: 1` (the server refuses writes from this page without
// it) and go to the leader the Cluster view knows: a 307 there means the
// leader changed, which the caller handles by asking again.
import { credentials, askCredentials, signedInUser } from './auth.js';

export const DASHBOARD_HEADER = 'X-Etcd-Dashboard';

export class ApiError extends Error {
  // kind: 'network' (no answer), 'timeout', 'redirect' (307: not the
  // leader), 'aborted' (the page stopped it), 'auth' (sign-in declined).
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

// request(url, {method, form, timeout, signal}) → {status, ok, headers, text, json}
// `timeout` (ms) covers the whole answer; 0 means none (watches).
export async function request(url, { method = 'GET', form = null, timeout = 4000, signal = null } = {}) {
  let hadCredentials = false;
  for (;;) {
    const headers = {};
    const auth = credentials();
    hadCredentials = hadCredentials || !!auth;
    if (auth) headers.Authorization = auth;
    if (method !== 'GET' && method !== 'HEAD') headers[DASHBOARD_HEADER] = '1';
    let body;
    if (form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const ctl = new AbortController();
    const onAbort = () => ctl.abort();
    if (signal) {
      if (signal.aborted) throw new ApiError('aborted', 'stopped');
      signal.addEventListener('abort', onAbort, { once: true });
    }
    let timedOut = false;
    const timer = timeout ? setTimeout(() => { timedOut = true; ctl.abort(); }, timeout) : null;
    let resp;
    let text;
    try {
      resp = await fetch(url, {
        method, headers, body,
        credentials: 'omit', redirect: 'manual', cache: 'no-store', signal: ctl.signal,
      });
      text = resp.type === 'opaqueredirect' ? '' : await resp.text();
    } catch (e) {
      if (timedOut) throw new ApiError('timeout', `no answer from ${where(url)} within ${timeout / 1000} s`);
      if (signal && signal.aborted) throw new ApiError('aborted', 'stopped');
      throw new ApiError('network', `no answer from ${where(url)}`);
    } finally {
      clearTimeout(timer);
      if (signal) signal.removeEventListener('abort', onAbort);
    }
    if (resp.type === 'opaqueredirect') throw new ApiError('redirect', `${where(url)} redirected: not the leader`);
    // HTTP 401 is authentication (etcd's errorCode 401, an old waitIndex, is HTTP 400).
    // With credentials that checked out but roles that do not allow this
    // request, the server says `X-Etcd-Auth-Refused: permission`: asking
    // for the password again would not help, so the caller shows it.
    const permission = auth && resp.headers.get('X-Etcd-Auth-Refused') === 'permission';
    if (resp.status === 401 && !permission) {
      try {
        await askCredentials(hadCredentials);
      } catch (e) {
        throw new ApiError('auth', 'sign in required');
      }
      continue;
    }
    let json = null;
    try { json = JSON.parse(text); } catch (e) { /* text answers: /metrics, /version */ }
    return { status: resp.status, ok: resp.ok, headers: resp.headers, text, json };
  }
}

function where(url) {
  return url.startsWith('/') ? location.host : url.replace(/^https?:\/\//, '').split('/')[0];
}

// `/v2/keys/a/b c` with every segment escaped; the root is `/v2/keys/`.
export function keyPath(key) {
  return '/v2/keys/' + key.split('/').filter(Boolean).map(encodeURIComponent).join('/');
}

// A directory's path, with its trailing slash: etcd 2.x auth checks the
// key as the URL names it, and a `/dir/*` grant covers `/dir/` only.
export function dirPath(key) {
  const p = keyPath(key);
  return p.endsWith('/') ? p : p + '/';
}

// A key as etcd writes it: leading slash, single slashes, no trailing one.
export function cleanKey(text) {
  return '/' + text.split('/').filter(Boolean).join('/');
}

// The message of an etcd error body, or the HTTP status.
export function describe(resp) {
  if (resp.status === 401) return `not allowed for ${signedInUser() || 'the guest'}`;
  const j = resp.json;
  if (j && j.message) return j.cause ? `${j.message} (${j.cause})` : j.message;
  return `HTTP ${resp.status}`;
}
