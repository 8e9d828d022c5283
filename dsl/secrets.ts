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

/** Replaces every occurrence of a secret value in text with '***' (error messages, results). */
export function scrub<T>(value: T, secrets: readonly string[], depth = 0): T {
  if (!secrets.length || depth > 100) return value;
  if (typeof value === 'string') return secrets.reduce((s, x) => (x.length >= 4 ? s.split(x).join('***') : s), value as string) as T;
  if (Array.isArray(value)) return value.map((v) => scrub(v, secrets, depth + 1)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, secrets, depth + 1)])) as T;
  return value;
}
