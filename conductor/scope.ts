import { HostFunction, type Scope } from '../dsl/expr/index.js';
import { secretMarker } from '../dsl/secrets.js';
import type { TaskError, TaskRecord } from '../contracts/run.js';

export interface RunContext {
  parameters: Record<string, unknown>;
  vars: Record<string, unknown>;
  task: Record<string, TaskRecord>;
  system: Record<string, unknown>;
  event: unknown;
  pack: { config: Record<string, unknown> };
  /** Values read for `kv.get` when the current task started. */
  kv: Map<string, unknown>;
  /** Set when `task.<name>` of a task that has not run reads as a `not_run` record (contracts/features.ts notRunTasks). */
  notRun?: { placeholders: Record<string, unknown>; view?: Record<string, unknown> };
}

/** The `task` scope: the run's records, over `not_run` placeholders when the run reads unrun tasks that way. */
function taskScope(ctx: RunContext): Record<string, unknown> {
  const n = ctx.notRun;
  if (!n) return ctx.task;
  // rebuilt only after a run's record is set (conductor.begin drops it): records change in place otherwise
  n.view ??= { ...n.placeholders, ...ctx.task };
  return n.view;
}

/** `not_run` records for every task of a workflow (frozen: templates only read them). */
export function notRunRecords(names: string[]): Record<string, unknown> {
  const record = Object.freeze({ status: 'not_run', result: null, results: null, error: null, attempts: 0, started_at: null, ended_at: null });
  return Object.fromEntries(names.map((n) => [n, record]));
}

/** Template scope for a task; `current` binds succeeded()/failed()/result() to that task. */
export function scopeFor(ctx: RunContext, extra: { current?: TaskRecord; item?: unknown; index?: number; error?: TaskError } = {}): Scope {
  const cur = extra.current;
  return {
    parameters: ctx.parameters,
    vars: ctx.vars,
    // Attune's `workflow.<var>`: the same variables
    workflow: ctx.vars,
    task: taskScope(ctx),
    system: ctx.system,
    event: ctx.event ?? null,
    pack: ctx.pack,
    ...(extra.item !== undefined ? { item: extra.item, index: extra.index } : {}),
    ...(extra.error ? { error: extra.error } : {}),
    succeeded: new HostFunction('succeeded', () => cur?.status === 'succeeded'),
    failed: new HostFunction('failed', () => cur?.status === 'failed' || cur?.status === 'timed_out'),
    // Orquesta: the task ended, whatever the outcome (a skipped task did not run, so it is not completed)
    completed: new HostFunction('completed', () => cur !== undefined && cur.status !== 'running' && cur.status !== 'skipped'),
    timed_out: new HostFunction('timed_out', () => cur?.status === 'timed_out'),
    skipped: new HostFunction('skipped', () => cur?.status === 'skipped'),
    result: new HostFunction('result', () => cur?.result ?? null),
    // Orquesta's functions (dsl.md "Other dialects"): one context of inputs and variables, a variable wins
    ctx: new HostFunction('ctx', (args) => {
      if (!args.length) return { ...ctx.parameters, ...ctx.vars };
      const key = String(args[0]);
      return Object.prototype.hasOwnProperty.call(ctx.vars, key) ? ctx.vars[key] : (ctx.parameters[key] ?? null);
    }),
    // Math.random in a workflow is Temporal's seeded generator: the same number on every replay
    random: new HostFunction('random', (args) => {
      const [lo, hi] = args.length >= 2 ? [Number(args[0]), Number(args[1])] : [0, Number(args[0] ?? 1)];
      return Math.floor(lo + Math.random() * (hi - lo + 1));
    }),
    // Attune's: the workflow's clock and a v4 uuid from the same seeded generator (deterministic on replay)
    now: new HostFunction('now', () => new Date().toISOString()),
    uuid: new HostFunction('uuid', () =>
      'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (c) => {
        const r = Math.floor(Math.random() * 16);
        return (c === 'x' ? r : (r & 0x3) | 0x8).toString(16);
      }),
    ),
    task_status: new HostFunction('task_status', (args) => ctx.task[String(args[0])]?.status ?? null),
    json: new HostFunction('json', (args) => (typeof args[0] === 'string' ? JSON.parse(args[0]) : (args[0] ?? null))),
    zip: new HostFunction('zip', (args) => {
      const lists = args.map((a) => (Array.isArray(a) ? a : []));
      const n = lists.length ? Math.min(...lists.map((l) => l.length)) : 0;
      return Array.from({ length: n }, (_, i) => lists.map((l) => l[i]!));
    }),
    kv: {
      get: new HostFunction('kv.get', (args, kw) => {
        const key = String(args[0]);
        return ctx.kv.has(key) ? ctx.kv.get(key) : (kw.default ?? args[1] ?? null);
      }),
      // resolved only inside the activity that uses it
      get_secret: new HostFunction('kv.get_secret', (args) => secretMarker(String(args[0]))),
    },
  };
}
