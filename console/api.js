// The console's only way to the server: the public HTTP API with the signed-in key as a bearer token.
// The key lives in this tab's sessionStorage (it ends with the tab, and never appears in a URL).

const KEY = 'closeloop.apiKey';

export const session = {
  key: () => sessionStorage.getItem(KEY),
  signIn: (key) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

/** An API error with the server's code, message and details (each detail has a location). */
export class ApiError extends Error {
  constructor(status, body) {
    const e = body?.error ?? {};
    super(e.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = e.code ?? 'error';
    this.details = e.details ?? [];
  }
}

const listeners = new Set();
/** Called with every 401: the session is over. */
export const onUnauthenticated = (fn) => listeners.add(fn);

export async function api(method, path, body, opts = {}) {
  const headers = { authorization: `Bearer ${opts.key ?? session.key() ?? ''}`, accept: opts.accept ?? 'application/json' };
  // a string body goes as it is (YAML), anything else as JSON
  if (body !== undefined) headers['content-type'] = typeof body === 'string' ? 'application/yaml' : 'application/json';
  const res = await fetch(path, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  const data = type.includes('json') && text ? JSON.parse(text) : text;
  if (res.status === 401 && !opts.key) for (const l of listeners) l();
  if (!res.ok) throw new ApiError(res.status, typeof data === 'object' ? data : null);
  return { status: res.status, data };
}

export const get = async (path, opts) => (await api('GET', path, undefined, opts)).data;
export const post = async (path, body = {}) => (await api('POST', path, body)).data;
export const enc = encodeURIComponent;
