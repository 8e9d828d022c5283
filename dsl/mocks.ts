import { render, renderDeep, truthy } from './expr/index.js';

export interface MockBehaviour {
  when?: string;
  result?: unknown;
  fail?: { message?: string; type?: string };
  /** Attempts (1-based) this behaviour applies to; others succeed with `result` or `{}`. */
  attempts?: number[];
  /** seconds */
  delay?: number;
}
export type Mocks = Record<string, MockBehaviour | MockBehaviour[]>;

export class MockError extends Error {
  override readonly name = 'MockError';
}

/** Checks the shape of a mocks file (action ref → behaviour or list of behaviours). */
export function parseMocks(value: unknown, file = 'mocks'): Mocks {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new MockError(`${file}: must be a map of action ref to behaviour`);
  const out: Mocks = {};
  for (const [ref, spec] of Object.entries(value as Record<string, unknown>)) {
    const list = Array.isArray(spec) ? spec : [spec];
    for (const [i, b] of list.entries()) {
      if (b === null || typeof b !== 'object' || Array.isArray(b))
        throw new MockError(`${file}: ${ref}${Array.isArray(spec) ? `[${i}]` : ''}: must be a map with result, fail, when, attempts or delay`);
      const unknown = Object.keys(b).filter((k) => !['when', 'result', 'fail', 'attempts', 'delay'].includes(k));
      if (unknown.length) throw new MockError(`${file}: ${ref}: unknown field(s) ${unknown.join(', ')}`);
    }
    out[ref] = spec as MockBehaviour | MockBehaviour[];
  }
  return out;
}

export type MockOutcome = { kind: 'result'; value: unknown; delay: number } | { kind: 'fail'; message: string; type: string; delay: number };

/** The behaviour of a mocked action for one call; null when the ref is not mocked. */
export function mockOutcome(mocks: Mocks, ref: string, scope: { input: unknown; attempt: number; item?: unknown }): MockOutcome | null {
  const spec = mocks[ref];
  if (spec === undefined) return null;
  const list = Array.isArray(spec) ? spec : [spec];
  const s = { input: scope.input, attempt: scope.attempt, item: scope.item ?? null };
  const chosen = list.find((b) => b.when === undefined || truthy(render(b.when, s)));
  if (!chosen) return { kind: 'result', value: {}, delay: 0 };
  const delay = chosen.delay ?? 0;
  const applies = !chosen.attempts || chosen.attempts.includes(scope.attempt);
  if (chosen.fail && applies) {
    return { kind: 'fail', message: String(render(chosen.fail.message ?? `mocked failure of ${ref}`, s)), type: chosen.fail.type ?? 'MockFailure', delay };
  }
  return { kind: 'result', value: renderDeep(chosen.result ?? {}, s), delay };
}
