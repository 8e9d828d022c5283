// Text PostgreSQL and Temporal cannot hold, and nesting no recursive walk should meet (docs/security.md).

/** Deepest nesting accepted in any external input (event payloads, parameters, answers, plugin results). */
export const MAX_NESTING = 64;

// a NUL, or a UTF-16 surrogate without its partner
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export interface TextProblem {
  /** Where, as a JSON path below the input's own name: `items[2].name`, or '' for the value itself. */
  path: string;
  message: string;
}

function describe(s: string): string {
  const m = UNSTORABLE.exec(s)!;
  const code = m[0].charCodeAt(0);
  return code === 0 ? 'contains a NUL character (\\u0000)' : `contains a lone UTF-16 surrogate (\\u${code.toString(16)}) that is not valid Unicode`;
}

const escapeUnstorable = (s: string) => s.replace(new RegExp(UNSTORABLE.source, 'g'), (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const join = (base: string, key: string | number) => (typeof key === 'number' ? `${base}[${key}]` : base ? `${base}.${key}` : key);

/**
 * The first problem in a JSON-like value: text that PostgreSQL or Temporal cannot store, in a key
 * or a string, or nesting deeper than `maxDepth`. Iterative, so a hostile depth cannot overflow the stack.
 */
export function findTextProblem(value: unknown, maxDepth = MAX_NESTING): TextProblem | null {
  const stack: [unknown, string, number][] = [[value, '', 0]];
  while (stack.length) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v)) return { path, message: describe(v) };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) return { path, message: `nested deeper than ${maxDepth} levels` };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], join(path, i), depth + 1]);
      continue;
    }
    const entries = Object.entries(v as Record<string, unknown>);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, x] = entries[i]!;
      if (UNSTORABLE.test(k)) return { path: join(path, escapeUnstorable(k)), message: `has a key that ${describe(k)}` };
      stack.push([x, join(path, k), depth + 1]);
    }
  }
  return null;
}

/** The nesting depth of a JSON-like value, counted without recursion (stops counting at `cap`). */
export function nestingDepth(value: unknown, cap = MAX_NESTING + 1): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > deepest) deepest = depth + 1;
    if (deepest >= cap) return deepest;
    for (const x of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) stack.push([x, depth + 1]);
  }
  return deepest;
}

const REPLACEMENT = '\ufffd';
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

/**
 * A copy PostgreSQL can store: each NUL or lone surrogate becomes U+FFFD, and anything nested deeper
 * than `maxDepth` is replaced by a note. Used on what the product writes itself (audit rows, run
 * summaries), which may carry a plugin's answer that nobody checked for such text.
 */
export function toStorable(value: unknown, maxDepth = 256): unknown {
  const fix = (s: string) => (UNSTORABLE.test(s) ? s.replace(UNSTORABLE_ALL, REPLACEMENT) : s);
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return fix(v);
    if (v === null || typeof v !== 'object') return v;
    if (depth >= maxDepth) return `[nested deeper than ${maxDepth} levels]`;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[fix(k)] = walk(x, depth + 1);
    return out;
  };
  return walk(value, 0);
}

/** Idempotency keys and event ids become Temporal workflow ids and URL path segments: a plain character set only. */
export const SAFE_KEY = /^[A-Za-z0-9_.:-]{1,200}$/;
export const SAFE_KEY_RULE = '1 to 200 of the characters A-Z a-z 0-9 _ . : -';
