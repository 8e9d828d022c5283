// Secrets travel through workflows as opaque markers; only the activity that uses one resolves it.
// A marker survives string concatenation ("Bearer " ~ marker), so templates can build headers freely.
const OPEN = '\u27EAsecret:';
const CLOSE = '\u27EB';
const MARKER = /\u27EAsecret:([^\u27EB]{1,300})\u27EB/g;

export const secretMarker = (key: string): string => `${OPEN}${key}${CLOSE}`;

const WHOLE = /^\u27EAsecret:([^\u27EB]{1,300})\u27EB$/;

/** True when a value is exactly one marker (already stored, nothing to store again). */
export const isSecretMarker = (v: unknown): boolean => typeof v === 'string' && WHOLE.test(v);

/** The secret keys referenced anywhere inside a value. */
export function secretKeys(value: unknown, out = new Set<string>(), depth = 0): Set<string> {
  if (depth > 100) return out;
  if (typeof value === 'string') for (const m of value.matchAll(MARKER)) out.add(m[1]!);
  else if (Array.isArray(value)) value.forEach((v) => secretKeys(v, out, depth + 1));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => secretKeys(v, out, depth + 1));
  return out;
}

/** Replaces markers with their values (a string that is exactly one marker becomes the value itself). */
export function resolveSecrets(value: unknown, values: ReadonlyMap<string, unknown>, depth = 0): unknown {
  if (depth > 100) return value;
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole && values.has(whole[1]!)) return values.get(whole[1]!);
    return value.replace(MARKER, (m, key: string) => (values.has(key) ? String(values.get(key)) : m));
  }
  if (Array.isArray(value)) return value.map((v) => resolveSecrets(v, values, depth + 1));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveSecrets(v, values, depth + 1)]));
  return value;
}

const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

/**
 * The forms a secret takes on its way back from a service: as it is, JSON-escaped, URL-encoded (with
 * `%20` or `+`), and base64 (standard and URL-safe) at each of the three byte alignments it can have
 * inside a longer encoded text. Forms shorter than 4 characters are left out (they would mask noise).
 */
export function secretForms(secret: string): string[] {
  if (secret.length < 4) return [];
  const forms = new Set<string>([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret), encodeURIComponent(secret).replace(/%20/g, '+')]);
  // as a URL parser writes it into a query or a path (only some characters escaped)
  if (typeof URL !== 'undefined') {
    const u = new URL('http://h/');
    u.search = secret;
    forms.add(u.search.slice(1));
    u.pathname = secret;
    forms.add(u.pathname.slice(1));
  }
  const bytes = new TextEncoder().encode(secret);
  for (let pad = 0; pad < 3; pad++) {
    const padded = new Uint8Array(pad + bytes.length);
    padded.set(bytes, pad);
    // the characters that depend on the secret's bytes only: not on the bytes before it, nor after it
    const core = base64(padded).slice(pad === 0 ? 0 : pad + 1, Math.floor((pad + bytes.length) / 3) * 4);
    forms.add(core);
    forms.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...forms].filter((f) => f.length >= 4).sort((a, b) => b.length - a.length);
}

/** Replaces every occurrence of a secret value, in any of its forms (secretForms), with '***' (error messages, results). */
export function scrub<T>(value: T, secrets: readonly string[], depth = 0): T {
  if (!secrets.length || depth > 100) return value;
  return scrubForms(value, secrets.filter((x) => x.length >= 4).flatMap(secretForms), depth);
}

function scrubForms<T>(value: T, forms: readonly string[], depth: number): T {
  if (!forms.length || depth > 100) return value;
  if (typeof value === 'string') return forms.reduce((s, x) => s.split(x).join('***'), value as string) as T;
  if (Array.isArray(value)) return value.map((v) => scrubForms(v, forms, depth + 1)) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrubForms(k, forms, depth + 1), scrubForms(v, forms, depth + 1)])) as T;
  return value;
}
