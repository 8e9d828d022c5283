// Drives the pure conductor the way the taskflow driver does, with no server: each wave starts what
// the conductor staged (in task, route order), then ends each run with its mocked outcome.
import { Conductor, type JoinPolicy, type Outcome } from '../../conductor/conductor.js';
import type { RunContext } from '../../conductor/scope.js';
import { truthy } from '../../dsl/expr/index.js';
import { validateWorkflow } from '../../dsl/validate.js';
import type { CompiledWorkflow, Limits } from '../../dsl/types.js';
import type { RunEntry } from '../../contracts/run.js';
import type { TaskError } from '../../contracts/run.js';

export interface Mock {
  status?: 'succeeded' | 'failed' | 'timed_out';
  result?: unknown;
  error?: TaskError;
}
/** Outcomes by task name: one for every run, a list (run n takes entry n-1, the last repeats), or a function of the run number and route. */
export type Mocks = Record<string, Mock | Mock[] | ((runNo: number, route: number) => Mock)>;

export interface Conducted {
  /** `task@route` in the order runs began. */
  sequence: string[];
  status: 'succeeded' | 'failed';
  failure: { task: string; error: TaskError } | null;
  routes: string[][];
  audit: { kind: string; task: string | null; detail: Record<string, unknown> }[];
  vars: Record<string, unknown>;
  conductor: Conductor;
}

function mockFor(mocks: Mocks, task: string, runNo: number, route: number): Mock {
  const m = mocks[task];
  if (!m) return {};
  if (typeof m === 'function') return m(runNo, route);
  return Array.isArray(m) ? (m[Math.min(runNo, m.length) - 1] ?? {}) : m;
}

function outcomeOf(m: Mock): Outcome {
  const status = m.status ?? 'succeeded';
  return status === 'succeeded'
    ? { status, result: m.result ?? null, error: null, attempts: 1 }
    : { status, result: null, error: m.error ?? { type: 'MockFailure', message: `${status} (mocked)` }, attempts: 1 };
}

function withDefaults(schema: CompiledWorkflow['parameters'], given: Record<string, unknown>): Record<string, unknown> {
  const props = (schema as { properties?: Record<string, { default?: unknown }> }).properties ?? {};
  return { ...Object.fromEntries(Object.entries(props).flatMap(([k, p]) => (p.default !== undefined ? [[k, p.default]] : []))), ...given };
}

export function conduct(
  yaml: string,
  opts: { mocks?: Mocks; policy?: JoinPolicy; parameters?: Record<string, unknown>; limits?: Limits; maxWaves?: number } = {},
): Conducted {
  const v = validateWorkflow(yaml, { isKnownAction: () => true, dialect: { ref: 'test.dialect' }, ...(opts.limits ? { limits: opts.limits } : {}) });
  if (!v.workflow) throw new Error(`invalid test workflow:\n${v.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`).join('\n')}`);
  const wf = v.workflow;
  const ctx: RunContext = {
    // defaults applied as a start does (inputs Orquesta files declare with a default)
    parameters: withDefaults(wf.parameters, opts.parameters ?? {}),
    vars: structuredClone(wf.vars),
    task: {},
    system: { execution_id: 'run:test:1', workflow_ref: wf.ref, workflow_version: wf.version, tenant: 'test', attempt: 1, timestamp: 0 },
    event: null,
    pack: { config: {} },
    kv: new Map(),
  };
  const audit: Conducted['audit'] = [];
  const c = new Conductor(wf, ctx, { record: (kind, task, detail) => audit.push({ kind, task, detail }), now: () => Date.UTC(2026, 11, 1) });
  const sequence: string[] = [];
  const blocks: RunEntry[] = [];
  c.stage(wf.entry);
  for (let wave = 0; wave < (opts.maxWaves ?? 10_000); wave++) {
    const starts = c.takeStarts().sort((a, b) => (a.task < b.task ? -1 : a.task > b.task ? 1 : a.route - b.route));
    if (!starts.length) {
      const idle = blocks.find((b) => !c.busy(b.seq));
      if (idle) {
        if (!c.blockFailed(idle.seq) && c.settle(idle.seq, opts.policy ?? 'fail')) continue;
        blocks.splice(blocks.indexOf(idle), 1);
        c.complete(idle.seq, c.closeBlock(idle.seq));
        c.endBatch();
        continue;
      }
      if (!c.failure && c.settle(0, opts.policy ?? 'fail')) continue;
      break;
    }
    // every run of a wave begins before any ends: concurrent runs of one task overlap, as in a real run
    const begun: { run: RunEntry; runNo: number }[] = [];
    for (const run of starts) {
      const b = c.begin(run.seq);
      if (!b) {
        c.release(run.seq);
        continue;
      }
      sequence.push(`${run.task}@${run.route}`);
      begun.push({ run, runNo: b.runNo });
    }
    c.endBatch();
    for (const { run, runNo } of begun) {
      const task = wf.tasks[run.task]!;
      if (task.when !== undefined && !truthy(c.render(task, 'when', task.when))) {
        c.complete(run.seq, { status: 'skipped', result: null, error: null, attempts: 0 });
      } else if (task.type === 'parallel') {
        c.openBlock(run.seq);
        blocks.push(run);
        continue;
      } else c.complete(run.seq, outcomeOf(mockFor(opts.mocks ?? {}, run.task, runNo, run.route)));
    }
  }
  return { sequence, status: c.failure ? 'failed' : 'succeeded', failure: c.failure, routes: c.serialize().routes, audit, vars: ctx.vars, conductor: c };
}
