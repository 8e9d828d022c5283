import type { Node } from './ast.js';
import { ExpressionError, lineColOf } from './errors.js';
import { DEFAULT_LIMITS, evaluateNode, type Limits, type Scope } from './evaluate.js';
import { parseExpression } from './parser.js';
import { toPlain, toText } from './values.js';

const MAX_TEMPLATE_LENGTH = 1_000_000;

type Part = { text: string } | { node: Node };

/** A parsed template: literal text and `{{ expr }}` parts. */
export interface Template {
  source: string;
  parts: Part[];
  /** True when the whole string is exactly one `{{ expr }}`: it yields a typed value. */
  single: boolean;
}

export function isTemplate(s: string): boolean {
  return s.includes('{{');
}

export function parseTemplate(source: string): Template {
  if (source.length > MAX_TEMPLATE_LENGTH) throw new ExpressionError(`template longer than ${MAX_TEMPLATE_LENGTH} characters`, 0);
  const parts: Part[] = [];
  let i = 0;
  while (i < source.length) {
    const open = source.indexOf('{{', i);
    if (open < 0) {
      parts.push({ text: source.slice(i) });
      break;
    }
    if (open > i) parts.push({ text: source.slice(i, open) });
    const close = findClose(source, open + 2);
    if (close < 0) throw new ExpressionError(`'{{' is not closed by '}}'`, open);
    const inner = source.slice(open + 2, close);
    if (inner.trim() === '') throw new ExpressionError('empty expression', open);
    parts.push({ node: parseExpression(inner, open + 2) });
    i = close + 2;
  }
  const trimmed = source.trim();
  const single =
    parts.filter((p) => 'node' in p).length === 1 &&
    trimmed.startsWith('{{') &&
    trimmed.endsWith('}}') &&
    parts.every((p) => 'node' in p || p.text.trim() === '');
  return { source, parts, single };
}

// the first `}}` outside a string literal
function findClose(s: string, from: number): number {
  let quote: string | null = null;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '}' && s[i + 1] === '}') return i;
  }
  return -1;
}

export function renderTemplate(t: Template, scope: Scope, limits: Limits = DEFAULT_LIMITS): unknown {
  if (t.single) {
    const part = t.parts.find((p) => 'node' in p) as { node: Node };
    return toPlain(evaluateNode(part.node, scope, limits));
  }
  let out = '';
  for (const p of t.parts) {
    out += 'text' in p ? p.text : toText(evaluateNode(p.node, scope, limits));
    if (out.length > limits.maxSize) throw new ExpressionError(`rendered text longer than ${limits.maxSize} characters`, 0);
  }
  return out;
}

const PARSED_MAX = 2000;
const parsed = new Map<string, Template>();
/**
 * Parsed templates by source: strategy conditions and task inputs are the same few strings rendered
 * for every event and task, and parsing was a third of the strategy match's time. A pure function of
 * the source, so deterministic in workflow code too; the oldest entry goes when full.
 */
function parsedTemplate(source: string): Template {
  let t = parsed.get(source);
  if (!t) {
    t = parseTemplate(source);
    if (parsed.size >= PARSED_MAX) parsed.delete(parsed.keys().next().value!);
    parsed.set(source, t);
  }
  return t;
}

/** Renders a string; returns it unchanged when it holds no `{{`. */
export function render(source: string, scope: Scope, limits?: Limits): unknown {
  if (!isTemplate(source)) return source;
  try {
    return renderTemplate(parsedTemplate(source), scope, limits);
  } catch (err) {
    if (err instanceof ExpressionError) err.source ??= source;
    throw err;
  }
}

/** Renders every string inside a YAML value (maps and lists walked). */
export function renderDeep(value: unknown, scope: Scope, limits?: Limits, depth = 0): unknown {
  if (depth > 100) throw new ExpressionError('value nested deeper than 100 levels', 0);
  if (typeof value === 'string') return render(value, scope, limits);
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, scope, limits, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderDeep(v, scope, limits, depth + 1);
    return out;
  }
  return value;
}

/** Formats an expression error as `line:col: message` relative to the template. */
export function describeError(err: ExpressionError, source: string): string {
  const { line, col } = lineColOf(source, err.offset);
  return `${line}:${col}: ${err.message}`;
}
