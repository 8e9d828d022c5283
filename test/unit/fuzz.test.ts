// Issue #12 item 7: property-based fuzzing (fast-check) of the expression evaluator and the YAML
// loader. Every case must end (a value or a typed error), inside its time budget, with nothing
// leaking out: no other error class, no function or prototype in a result, no polluted Object.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExpressionError, FILTER_NAMES, render } from '../../dsl/expr/index.js';
import { validateWorkflow } from '../../dsl/index.js';

/** Per case: a generous ceiling for one answer on a shared machine (the cost budget ends hostile work long before). */
const CASE_BUDGET_MS = 1500;
const RUNS = Number(process.env.CLOSELOOP_FUZZ_RUNS ?? 300);

const scope = () => ({
  vars: { xs: [1, 2, 3], name: 'ada', nested: { a: { b: [{ c: 1 }] } }, big: 'x'.repeat(2000) },
  parameters: { n: 5, items: ['a', 'b', 'a'] },
  task: {},
  system: { execution_id: 'run:t:1', attempt: 1 },
});

/** Tokens of the expression language, so generated text is mostly near-valid and reaches the evaluator. */
const token = fc.oneof(
  fc.constantFrom('vars', 'parameters', 'task', 'system', 'item', 'xs', 'name', 'nested', 'big', 'a', 'b', 'c'),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', '__defineGetter__', 'process', 'globalThis', 'this'),
  fc.constantFrom(...FILTER_NAMES).map((f) => `| ${f}`),
  fc.constantFrom(
    '.',
    '[',
    ']',
    '(',
    ')',
    '{',
    '}',
    ',',
    ':',
    '+',
    '-',
    '*',
    '/',
    '%',
    '**',
    '~',
    '==',
    '!=',
    '<',
    '>=',
    'and',
    'or',
    'not',
    'in',
    'if',
    'else',
    '?',
  ),
  fc.constantFrom('range(', 'ctx(', 'result()', 'succeeded()', 'kv.get(', 'json(', 'zip('),
  fc.integer({ min: -1e6, max: 1e9 }).map(String),
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.constantFrom("'a' * 100000", 'range(100000) | list', '(range(1000) | list) * 1000', "'x' | replace('', 'yy')", 'vars.big | list | unique | length'),
);
const expression = fc.array(token, { minLength: 1, maxLength: 24 }).map((ts) => `{{ ${ts.join(' ')} }}`);

function isPlainJson(v: unknown, depth = 0): boolean {
  if (depth > 200) return false;
  if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) return true;
  if (v === undefined) return true;
  if (typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.every((x) => isPlainJson(x, depth + 1));
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(v as object).every((x) => isPlainJson(x, depth + 1));
}

function timed<T>(fn: () => T): { value?: T; error?: unknown; ms: number } {
  const start = performance.now();
  try {
    const value = fn();
    return { value, ms: performance.now() - start };
  } catch (error) {
    return { error, ms: performance.now() - start };
  }
}

describe('fuzzing the expression evaluator', () => {
  it('every expression ends in a plain value or an ExpressionError, within its budget, and nothing escapes', { timeout: 600_000 }, () => {
    let slowest = 0;
    let values = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          expression,
          fc.string({ maxLength: 80 }).map((s) => `{{ ${s} }}`),
        ),
        (source) => {
          const r = timed(() => render(source, scope()));
          slowest = Math.max(slowest, r.ms);
          expect(r.ms, `${source} took ${r.ms.toFixed(0)} ms`).toBeLessThan(CASE_BUDGET_MS);
          if (r.error !== undefined) expect(r.error, `${source}: ${String(r.error)}`).toBeInstanceOf(ExpressionError);
          else {
            values++;
            expect(isPlainJson(r.value), `${source} returned something that is not plain data`).toBe(true);
          }
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
          expect(Object.keys(Object.prototype)).toEqual([]);
        },
      ),
      {
        numRuns: RUNS,
        seed: Number(process.env.CLOSELOOP_FUZZ_SEED ?? 20261202),
        // the shapes that once took the process down, and near-valid ones, always among the cases
        examples: [
          [`{{ ('${'a'.repeat(12_000)}' | list | unique) | length }}`],
          ['{{ range(100000) | list | sort | unique | join(",") | length }}'],
          ['{{ vars.nested.a.b[0].c + parameters.n }}'],
          ['{{ vars.xs | map("string") | join("-") }}'],
        ],
      },
    );
    expect(slowest).toBeLessThan(CASE_BUDGET_MS);
    // the generator reaches the evaluator, not only the parser
    expect(values).toBeGreaterThan(RUNS / 50);
  });
});

/** YAML text near the workflow language: real keys, anchors and aliases (the billion-laughs shape), odd scalars. */
const yamlLine = fc.oneof(
  fc.constantFrom('ref: a.b', 'version: 1.0.0', 'tasks:', '  - name: t', '    action: core.noop', '    on_success: t', '    next:', '      - do: t'),
  fc.constantFrom(
    'a: &a [x, x, x, x, x, x, x, x, x]',
    'b: &b [*a, *a, *a, *a, *a, *a, *a, *a]',
    'c: &c [*b, *b, *b, *b, *b, *b, *b, *b]',
    'd: [*c, *c, *c, *c, *c, *c, *c, *c]',
  ),
  fc.constantFrom(
    'vars: {__proto__: {polluted: 1}}',
    '    publish: [{constructor: 1}]',
    '    input: {m: "{{ vars | merge({\'prototype\': 1}) }}"}',
    '<<: *a',
    '? [a]',
    '!!js/function "x"',
    '%YAML 1.2',
    '---',
    '...',
  ),
  fc.string({ maxLength: 40 }),
  fc.tuple(fc.nat({ max: 8 }), fc.string({ maxLength: 20 })).map(([n, s]) => `${' '.repeat(n)}${s}: ${s}`),
);
const yamlText = fc.array(yamlLine, { minLength: 1, maxLength: 30 }).map((ls) => ls.join('\n'));

describe('fuzzing the YAML loader and validator', () => {
  it('every file ends in a workflow or diagnostics with positions, within its budget, and nothing escapes', { timeout: 600_000 }, () => {
    fc.assert(
      fc.property(yamlText, (text) => {
        const r = timed(() => validateWorkflow(text));
        expect(r.error, `validateWorkflow threw on:\n${text}\n${String(r.error)}`).toBeUndefined();
        expect(r.ms, `took ${r.ms.toFixed(0)} ms on:\n${text}`).toBeLessThan(CASE_BUDGET_MS);
        const result = r.value!;
        if (!result.ok) for (const d of result.diagnostics) expect(d.line, d.message).toBeGreaterThanOrEqual(1);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: RUNS, seed: Number(process.env.CLOSELOOP_FUZZ_SEED ?? 20261202) },
    );
  });
});
