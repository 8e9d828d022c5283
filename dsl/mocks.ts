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
/** Action ref → behaviour; the reserved key `tasks` maps task names → behaviour (and wins over the action's mock). */
export type Mocks = Record<string, MockBehaviour | MockBehaviour[]> & { tasks?: Record<string, MockBehaviour | MockBehaviour[]> };

export class MockError extends Error {
  override readonly name = 'MockError';
}

/** Checks the shape of a mocks file (action ref → behaviour or list of behaviours; `tasks:` task name → the same). */
export function parseMocks(value: unknown, file = 'mocks'): Mocks {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new MockError(`${file}: must be a map of action ref to behaviour`);
  const { tasks, ...refs } = value as Record<string, unknown>;
  const out: Mocks = parseBehaviours(refs, file, '');
  if (tasks !== undefined) {
    if (tasks === null || typeof tasks !== 'object' || Array.isArray(tasks)) throw new MockError(`${file}: tasks: must be a map of task name to behaviour`);
    out.tasks = parseBehaviours(tasks as Record<string, unknown>, file, 'tasks.');
  }
  return out;
}

function parseBehaviours(value: Record<string, unknown>, file: string, prefix: string): Record<string, MockBehaviour | MockBehaviour[]> {
  const out: Record<string, MockBehaviour | MockBehaviour[]> = {};
  for (const [key, spec] of Object.entries(value)) {
    const ref = `${prefix}${key}`;
    const list = Array.isArray(spec) ? spec : [spec];
    for (const [i, b] of list.entries()) {
      if (b === null || typeof b !== 'object' || Array.isArray(b))
        throw new MockError(`${file}: ${ref}${Array.isArray(spec) ? `[${i}]` : ''}: must be a map with result, fail, when, attempts or delay`);
      const unknown = Object.keys(b).filter((k) => !['when', 'result', 'fail', 'attempts', 'delay'].includes(k));
      if (unknown.length) throw new MockError(`${file}: ${ref}: unknown field(s) ${unknown.join(', ')}`);
    }
    out[key] = spec as MockBehaviour | MockBehaviour[];
  }
  return out;
}

/** What a run must hand to its worker's mocks instead of running: these action refs and these task names. */
export function mockedOf(mocks: Mocks | undefined): { refs: string[]; tasks: string[] } {
  const { tasks, ...refs } = mocks ?? {};
  return { refs: Object.keys(refs), tasks: Object.keys(tasks ?? {}) };
}

export type MockOutcome = { kind: 'result'; value: unknown; delay: number } | { kind: 'fail'; message: string; type: string; delay: number };

/** The behaviour of a mocked task or action for one call (a task-name mock wins); null when neither is mocked. */
export function mockOutcome(mocks: Mocks, ref: string, scope: { input: unknown; attempt: number; item?: unknown }, task?: string): MockOutcome | null {
  const spec =
    (task !== undefined ? mocks.tasks?.[task] : undefined) ?? (ref === 'tasks' ? undefined : (mocks[ref] as MockBehaviour | MockBehaviour[] | undefined));
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
