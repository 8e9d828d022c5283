// StackStorm Orquesta's native workflow format, read unchanged and normalised into Closeloop's own
// shape (dsl.md "Other dialects"; docs/migrating.md): the rest of validation and the interpreter
// then treat it like any Closeloop file.
import { parse as parseYamlScalar } from 'yaml';
import type { PathPart } from '../source.js';
import { convertValue, DialectExpressionError, type ExprContext } from './orquesta-expr.js';

export interface DialectProblem {
  /** Where in the user's file (their keys, not Closeloop's). */
  path: PathPart[];
  message: string;
  severity: 'error' | 'warning';
  /** Offset inside the string value at `path`, when the problem is in an expression. */
  offset?: number;
  /** Point at the key itself (an unknown key), not its value. */
  key?: boolean;
}

export interface Normalised {
  value: Record<string, unknown>;
  /** A Closeloop path (tasks[3].next[0].do) as the user's file spells it (tasks.task4.next[0].do). */
  originalPath(path: PathPart[]): PathPart[];
  problems: DialectProblem[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An Orquesta file: `tasks` is a map of name to task (Closeloop's is a list). */
export function isOrquesta(doc: unknown): doc is Obj {
  return isObj(doc) && isObj(doc.tasks);
}

/** `key=value key2="a b" key3=<% expr %>` (inline action parameters, string publish), in order. */
export function parseAssignments(text: string): [string, unknown][] | null {
  const out: [string, unknown][] = [];
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (i >= text.length) break;
    const key = /^[A-Za-z_][A-Za-z0-9_.]*=/.exec(text.slice(i));
    if (!key) return null;
    i += key[0].length;
    const rest = text.slice(i);
    let raw: string;
    const open = ['<%', '{{'].find((o) => rest.startsWith(o));
    if (open) {
      const close = rest.indexOf(open === '<%' ? '%>' : '}}');
      if (close < 0) return null;
      raw = rest.slice(0, close + 2);
    } else if (rest[0] === '"' || rest[0] === "'") {
      const close = rest.indexOf(rest[0], 1);
      if (close < 0) return null;
      raw = rest.slice(0, close + 1);
    } else raw = /^\S*/.exec(rest)![0];
    i += raw.length;
    const value = open ? raw : raw[0] === '"' || raw[0] === "'" ? raw.slice(1, -1) : (parseYamlScalar(raw) as unknown);
    out.push([key[0].slice(0, -1), value]);
  }
  return out;
}

/** Orquesta's `input`, `vars` and `output` lists: names, or one-key maps name → value. */
function listOfPairs(v: unknown, path: PathPart[], problems: DialectProblem[]): [string, unknown, boolean][] {
  if (v === undefined) return [];
  if (isObj(v)) return Object.entries(v).map(([k, x]) => [k, x, true]);
  if (!Array.isArray(v)) {
    problems.push({ path, message: `${path.join('.')}: expected a list of names or one-key maps`, severity: 'error' });
    return [];
  }
  return v.flatMap((x, i): [string, unknown, boolean][] => {
    if (typeof x === 'string') return [[x, null, false]];
    if (isObj(x) && Object.keys(x).length === 1) return [[Object.keys(x)[0]!, Object.values(x)[0], true]];
    problems.push({ path: [...path, i], message: `${path.join('.')}[${i}]: expected a name or a one-key map (name: value)`, severity: 'error' });
    return [];
  });
}

class OrquestaReader {
  readonly problems: DialectProblem[] = [];
  /** Closeloop next index → the file's next index, per task (entries turned into `retry` are gone). */
  readonly nextIndex = new Map<string, number[]>();

  expr(v: unknown, path: PathPart[], ctx: ExprContext = {}): unknown {
    return convertValue(v, ctx, (p, err: DialectExpressionError) =>
      this.problems.push({ path: [...path, ...p], message: err.message, severity: 'error', offset: err.offset }),
    );
  }

  task(name: string, t: Obj): Obj {
    const at: PathPart[] = ['tasks', name];
    const out: Obj = { name };
    const withSpec = this.withItems(t.with, [...at, 'with'], out);
    const ctx: ExprContext = withSpec;
    let input: Obj = isObj(t.input) ? { ...t.input } : {};
    if (typeof t.action === 'string') {
      const [ref, ...params] = t.action.trim().split(/\s+/);
      out.action = ref;
      if (params.length) {
        const inline = parseAssignments(t.action.trim().slice(ref!.length));
        if (!inline)
          this.problems.push({
            path: [...at, 'action'],
            message: `tasks.${name}.action: cannot read the inline parameters of '${t.action}' (write key=value pairs)`,
            severity: 'error',
          });
        else input = { ...Object.fromEntries(inline), ...input };
      }
    } else if (t.action === undefined) out.action = 'core.noop'; // a routing-only task
    if (Object.keys(input).length) out.input = this.expr(input, [...at, t.input ? 'input' : 'action'], ctx);
    if (t.join !== undefined) out.join = t.join;
    for (const key of ['timeout', 'description']) if (t[key] !== undefined) out[key] = t[key];
    if (t.delay !== undefined) out.delay = t.delay;
    const next = Array.isArray(t.next) ? t.next : t.next === undefined ? [] : null;
    if (next === null) this.problems.push({ path: [...at, 'next'], message: `tasks.${name}.next: expected a list of {when, publish, do}`, severity: 'error' });
    const kept: Obj[] = [];
    const index: number[] = [];
    (next ?? []).forEach((n: unknown, j) => {
      if (!isObj(n)) return;
      const when = n.when === undefined ? undefined : this.expr(n.when, [...at, 'next', j, 'when'], ctx);
      const targets = typeof n.do === 'string' ? n.do.split(',').map((x) => x.trim()) : Array.isArray(n.do) ? n.do.map(String) : [];
      if (targets.length === 1 && targets[0] === 'retry') {
        // Orquesta reads `do: retry` as the task's retry, three more attempts unless `retry:` says otherwise
        out.retry = this.retry({ count: 3, ...(isObj(t.retry) ? t.retry : {}), when: n.when }, [...at, 'next', j]);
        return;
      }
      if (targets.includes('retry'))
        this.problems.push({
          path: [...at, 'next', j, 'do'],
          message: `tasks.${name}.next[${j}].do: 'retry' must be the only target of its entry`,
          severity: 'error',
        });
      const entry: Obj = {};
      if (when !== undefined) entry.when = when;
      if (n.publish !== undefined) entry.publish = this.publish(n.publish, [...at, 'next', j, 'publish'], ctx);
      if (n.do !== undefined) entry.do = targets;
      kept.push(entry);
      index.push(j);
    });
    if (kept.length) out.next = kept;
    this.nextIndex.set(name, index);
    if (isObj(t.retry) && !out.retry) out.retry = this.retry(t.retry, [...at, 'retry']);
    if (out.action === 'core.echo' && /result\(\)/.test(JSON.stringify(t.next ?? '')))
      this.problems.push({
        path: [...at, 'action'],
        message: `tasks.${name}.action: core.echo's result here is {message}; StackStorm's is {stdout, ...}: read result().message`,
        severity: 'warning',
      });
    for (const key of Object.keys(t))
      if (!['action', 'input', 'next', 'join', 'with', 'retry', 'delay', 'timeout', 'description'].includes(key))
        this.problems.push({ path: [...at, key], message: `tasks.${name}.${key}: not an Orquesta task key Closeloop reads`, severity: 'error', key: true });
    return out;
  }

  /** `with: <% xs %>`, `with: a, b in <% zip(...) %>`, `with: {items, concurrency}`: Closeloop's with_items. */
  withItems(spec: unknown, path: PathPart[], out: Obj): ExprContext {
    if (spec === undefined) return {};
    const s = isObj(spec) ? spec : { items: spec };
    if (s.concurrency !== undefined) out.concurrency = s.concurrency;
    if (typeof s.items !== 'string') {
      this.problems.push({ path, message: `${path.join('.')}: expected the items expression`, severity: 'error' });
      return {};
    }
    const named = /^\s*([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s+in\s+(.+)$/s.exec(s.items);
    const itemNames = named ? named[1]!.split(',').map((x) => x.trim()) : undefined;
    out.with_items = this.expr(named ? named[2]! : s.items, isObj(spec) ? [...path, 'items'] : path);
    return itemNames ? { itemNames } : {};
  }

  publish(p: unknown, path: PathPart[], ctx: ExprContext): unknown {
    if (typeof p === 'string') {
      const pairs = parseAssignments(p);
      if (!pairs) {
        this.problems.push({ path, message: `${path.join('.')}: cannot read '${p}' (write name=value pairs, or a list of one-key maps)`, severity: 'error' });
        return [];
      }
      return pairs.map(([k, v]) => ({ [k]: this.expr(v, path, ctx) }));
    }
    return this.expr(p, path, ctx);
  }

  /** Orquesta's `retry: {when, count, delay}`: retries after a failure; `when` other than failed() becomes `on_error`. */
  retry(r: Obj, path: PathPart[]): Obj {
    const out: Obj = { count: r.count ?? 3 };
    if (r.delay !== undefined) out.delay = r.delay;
    const when = typeof r.when === 'string' ? (this.expr(r.when, [...path, 'when']) as string) : undefined;
    if (when && /\bsucceeded\(\)/.test(when))
      this.problems.push({ path: [...path, 'when'], message: `${path.join('.')}.when: retrying a task that succeeded is not supported`, severity: 'error' });
    // Closeloop retries only after a failure, so failed() and completed() are true there
    const cond = when?.replace(/\b(failed|completed)\(\)/g, 'true');
    if (cond && !/^\{\{\s*true\s*\}\}$/.test(cond)) out.on_error = cond;
    return out;
  }
}

/** The Closeloop form of an Orquesta file; `ref` names it (`<pack>.<file stem>` unless given). */
export function fromOrquesta(doc: Obj, opts: { ref?: string; version?: string }): Normalised {
  const r = new OrquestaReader();
  const value: Obj = {};
  if (opts.ref) value.ref = opts.ref;
  else
    r.problems.push({
      path: [],
      message: 'an Orquesta file has no ref: register it through a pack (<pack>.<file name>) or give one (--ref)',
      severity: 'error',
    });
  value.version = opts.version ?? '1.0.0';
  if (doc.version !== undefined && String(doc.version) !== '1' && String(doc.version) !== '1.0')
    r.problems.push({ path: ['version'], message: `version ${String(doc.version)}: only Orquesta's language version 1.0 is read`, severity: 'error' });
  if (typeof doc.description === 'string') value.description = doc.description;
  const input = listOfPairs(doc.input, ['input'], r.problems);
  if (input.length) value.parameters = Object.fromEntries(input.map(([k, v, hasDefault]) => [k, hasDefault ? { default: v } : {}]));
  const vars = listOfPairs(doc.vars, ['vars'], r.problems);
  if (vars.length) value.vars = Object.fromEntries(vars.map(([k, v]) => [k, r.expr(v, ['vars', k])]));
  const output = listOfPairs(doc.output, ['output'], r.problems);
  if (output.length) value.output_map = Object.fromEntries(output.map(([k, v]) => [k, r.expr(v, ['output', k])]));
  const names = Object.keys(doc.tasks as Obj);
  value.tasks = names.map((n) => r.task(n, isObj((doc.tasks as Obj)[n]) ? ((doc.tasks as Obj)[n] as Obj) : {}));
  for (const key of Object.keys(doc))
    if (!['version', 'description', 'input', 'vars', 'output', 'tasks'].includes(key))
      r.problems.push({ path: [key], message: `${key}: not an Orquesta workflow key Closeloop reads`, severity: 'error', key: true });
  return {
    value,
    problems: r.problems,
    originalPath(path) {
      const [head, i, key, j, ...rest] = path;
      if (head === 'parameters') return ['input'];
      if (head === 'output_map') return ['output'];
      if (head === 'ref') return [];
      if (head !== 'tasks' || typeof i !== 'number' || names[i] === undefined) return path;
      const name = names[i];
      if (key === undefined) return ['tasks', name];
      if (key === 'name') return ['tasks', name];
      if (key === 'with_items' || key === 'concurrency') return ['tasks', name, 'with'];
      if (key === 'next' && typeof j === 'number') return ['tasks', name, 'next', r.nextIndex.get(name)?.[j] ?? j, ...rest];
      return ['tasks', name, key, ...(j === undefined ? [] : [j]), ...rest];
    },
  };
}
