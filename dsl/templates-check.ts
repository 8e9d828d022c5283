import { ExpressionError, lineColOf, parseTemplate } from './expr/index.js';
import { FORBIDDEN_KEYS } from './expr/values.js';
import { WORKFLOW_FUNCTIONS, WORKFLOW_SCOPES, namesUsed } from './expr/names.js';
import { formatPath, type PathPart, type YamlSource } from './source.js';
import type { Diagnostic } from './types.js';

/** Parses every template string under `value`, reporting syntax errors at their file position. */
export function checkTemplates(value: unknown, path: PathPart[], src: YamlSource, out: Diagnostic[], depth = 0): void {
  if (depth > 100) return;
  if (typeof value === 'string') {
    if (!value.includes('{{') && !value.includes('<%')) return;
    const report = (offset: number, message: string) => {
      const at = src.positionOf(path);
      // a value a dialect rewrote: offsets in it are not the file's, so the value itself is pointed at
      const inner = src.rewritten ? { line: 1, col: 1 } : lineColOf(value, offset);
      const quoted = src.isQuoted(path) ? 1 : 0;
      out.push({
        severity: 'error',
        line: at.line + inner.line - 1,
        col: inner.line === 1 ? at.col + quoted + inner.col - 1 : inner.col,
        message: `${formatPath(path)}: template error: ${message}`,
        path: formatPath(path),
      });
    };
    for (const y of yaqlOutsideTemplates(value))
      report(
        y.offset,
        `${y.text} is a YAQL expression, which is not evaluated here: it would be taken as plain text. Write it as a Jinja template, {{ ${y.inner} }}`,
      );
    if (!value.includes('{{')) return;
    try {
      for (const part of parseTemplate(value).parts)
        if ('node' in part) {
          for (const use of namesUsed(part.node)) checkName(use, report);
          for (const at of forbiddenMapKeys(part.node)) report(at.pos, `a map key named '${at.key}' is not allowed (it would reach the object's prototype)`);
        }
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      report(err.offset, err.message);
    }
    return;
  }
  if (Array.isArray(value)) value.forEach((v, i) => checkTemplates(v, [...path, i], src, out, depth + 1));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) checkTemplates(v, [...path, k], src, out, depth + 1);
}

const SCOPES = new Set<string>(WORKFLOW_SCOPES);
const FUNCTIONS = new Set<string>(WORKFLOW_FUNCTIONS);

/** A root name the run's scope does not have, or a function it does not offer, fails at run time: refuse it here. */
function checkName(use: { kind: 'scope' | 'function'; name: string; pos: number }, report: (offset: number, message: string) => void): void {
  if (use.kind === 'function') {
    if (FUNCTIONS.has(use.name)) return;
    const hint = SCOPES.has(use.name) ? `'${use.name}' is a scope, not a function` : `the functions are ${[...FUNCTIONS].map((f) => `${f}()`).join(', ')}`;
    report(use.pos, `unknown function '${use.name}' (${hint})`);
  } else if (!SCOPES.has(use.name)) {
    const hint = FUNCTIONS.has(use.name) ? `'${use.name}' is a function: call it, ${use.name}()` : `the scopes are ${[...SCOPES].join(', ')}`;
    report(use.pos, `unknown name '${use.name}' (${hint})`);
  }
}

/** Literal map keys in an expression tree that name a prototype property (iterative: no recursion on hostile depth). */
function forbiddenMapKeys(root: unknown): { key: string; pos: number }[] {
  const found: { key: string; pos: number }[] = [];
  const stack: unknown[] = [root];
  while (stack.length) {
    const n = stack.pop();
    if (n === null || typeof n !== 'object') continue;
    const node = n as { t?: string; entries?: [{ t?: string; v?: unknown; pos: number }, unknown][] };
    if (node.t === 'map')
      for (const [k] of node.entries ?? []) if (k.t === 'lit' && typeof k.v === 'string' && FORBIDDEN_KEYS.has(k.v)) found.push({ key: k.v, pos: k.pos });
    for (const v of Object.values(n)) if (v && typeof v === 'object') stack.push(v);
  }
  return found;
}

/**
 * `<% ... %>` outside `{{ }}`: YAQL, the other expression language of StackStorm Orquesta files.
 * Closeloop evaluates Jinja only, so such text would silently stay text (a `when` always true).
 */
function yaqlOutsideTemplates(value: string): { offset: number; text: string; inner: string }[] {
  const jinja = [...value.matchAll(/\{\{[\s\S]*?\}\}/g)].map((m) => [m.index, m.index + m[0].length] as const);
  const found: { offset: number; text: string; inner: string }[] = [];
  for (const m of value.matchAll(/<%([\s\S]*?)%>/g)) {
    if (jinja.some(([from, to]) => m.index >= from && m.index < to)) continue;
    found.push({ offset: m.index, text: m[0].length > 80 ? `${m[0].slice(0, 77)}...` : m[0], inner: m[1]!.trim().slice(0, 80) });
  }
  return found;
}
