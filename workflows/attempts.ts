import { sleep } from '@temporalio/workflow';
import { truthy } from '../dsl/expr/index.js';
import type { CompiledTask } from '../dsl/types.js';
import { askAsInquiry, isBuiltin, isHttpAction } from '../dsl/builtins.js';
import {
  attemptsUpTo,
  inputVariesByAttempt,
  nextRetry,
  nativeRetryPolicy,
  readAttemptReport,
  type NativeRetryPolicy,
  type ReportedAttempt,
} from '../dsl/retry.js';
import { TaskFailure } from './actions.js';
import { unwrapWritten } from '../dsl/audit-rides.js';
import type { AuditRow } from '../activities/types.js';
import type { TaskHost as Engine } from './host.js';
import { runNested } from './nested.js';
import { runAnyAction } from './pack-actions.js';
import { FEATURE } from '../contracts/features.js';
import { uses } from './features.js';

/** Patch id: DSL retries that Temporal's retry policy expresses exactly run as Temporal activity retries. */
export const TEMPORAL_RETRIES = FEATURE.temporalRetries;

interface TaskPlan {
  /** The action is one activity call whose result is the task's result (an HTTP call, a pack action, a synchronous plugin call, a mocked action). */
  oneActivity: boolean;
  /** Temporal's retry policy, when it runs the DSL retry exactly: one activity, a policy dsl/retry.ts can express, an input that does not change between attempts. */
  policy?: NativeRetryPolicy;
}
/** The worker's mocks answer for this task: its name or its action is mocked (built-ins and nested workflows too). */
const isMocked = (e: Engine, task: CompiledTask) => (e.wf.mocked?.tasks.includes(task.name) ?? false) || (e.wf.mocked?.refs.includes(task.action!) ?? false);

// what depends only on the compiled task is worked out once per task, not once per item and attempt
const plans = new WeakMap<CompiledTask, TaskPlan>();
function planOf(e: Engine, task: CompiledTask): TaskPlan {
  let plan = plans.get(task);
  if (!plan) {
    const ref = task.action!;
    const def = e.wf.actions?.[ref];
    const oneActivity = isMocked(e, task) || (def ? !(def.runner === 'plugin' && def.mode === 'async') : !isBuiltin(ref) || isHttpAction(ref));
    const policy = oneActivity && !inputVariesByAttempt(task.input) ? nativeRetryPolicy(task.retry) : undefined;
    plan = { oneActivity, ...(policy ? { policy } : {}) };
    plans.set(task, plan);
  }
  return plan;
}

/** Audits the attempts before `last` that Temporal ran (reported by the activity, or lost). */
function recordEarlier(e: Engine, task: CompiledTask, run: number, index: number | undefined, last: number, failed: ReportedAttempt[]): void {
  for (const a of attemptsUpTo(last - 1, failed))
    e.record('task.attempt', task.name, {
      run,
      attempt: a.attempt,
      status: a.status,
      error: a.error,
      retried_by: 'temporal',
      ...(index !== undefined ? { index } : {}),
    });
}

type Item = { item?: unknown; index?: number; total?: number };
/** What one attempt handed over, for its failure to be audited and its rows given back. */
interface AttemptState {
  temporalRetry?: NativeRetryPolicy;
  // the run's pending audit rows ride on this attempt's activity; unless it says it wrote them, they go back
  carried: AuditRow[];
}

/** One task run (or one item): attempts with the DSL retry policy; every attempt recorded. */
export async function runAttempts(e: Engine, task: CompiledTask, run: number, it: Item, seq?: number): Promise<{ result: unknown; attempts: number }> {
  const retry = task.retry;
  const itemLabel = it.index !== undefined ? ` [item ${it.index + 1}/${it.total}]` : '';
  for (let attempt = 1; ; attempt++) {
    const pause = e.pacer.step();
    if (pause) await pause;
    e.ctx.system.attempt = attempt;
    const extra = it.index !== undefined ? { item: it.item, index: it.index } : {};
    const state: AttemptState = { carried: [] };
    try {
      return await attemptOnce(e, task, run, it, seq, attempt, `${task.name}${itemLabel}${attempt > 1 ? ` (attempt ${attempt})` : ''}`, state);
    } catch (err) {
      if (!(err instanceof TaskFailure && err.auditWritten)) e.returnAudit(state.carried, task.name);
      if (!(err instanceof TaskFailure)) throw err;
      recordFailure(e, task, run, it, attempt, err, state.temporalRetry);
      // Temporal ran every retry; failures raised before the activity (no report) retry below
      if (err.report && state.temporalRetry) throw err;
      const delay = nextRetry(retry, attempt, err.error, () => truthy(e.renderField(task, 'retry.on_error', retry!.on_error, { ...extra, error: err.error })));
      if (delay === null) throw Object.assign(err, { attempts: attempt });
      if (delay > 0) await sleep(delay * 1000, { summary: `${task.name}${itemLabel} retry ${attempt}/${retry!.count} in ${delay}s` });
    }
  }
}

/** Audits a failed attempt (and, when Temporal ran the retries, the attempts before it). */
function recordFailure(
  e: Engine,
  task: CompiledTask,
  run: number,
  it: Item,
  attempt: number,
  err: TaskFailure,
  temporalRetry: NativeRetryPolicy | undefined,
): void {
  const status = err.timedOut ? 'timed_out' : 'failed';
  const index = it.index !== undefined ? { index: it.index } : {};
  if (err.report && temporalRetry) {
    const last = err.report.attempt ?? temporalRetry.maximumAttempts;
    recordEarlier(e, task, run, it.index, last, err.report.failed);
    e.record('task.attempt', task.name, { run, attempt: last, status, error: err.error, ...(last > 1 ? { retried_by: 'temporal' } : {}), ...index });
    err.attempts = last;
    return;
  }
  // Temporal ran the activity again after losing a worker: the audit says which attempt answered
  const again = err.report?.attempt !== undefined && err.report.attempt > 1 ? { temporal_attempt: err.report.attempt } : {};
  e.record('task.attempt', task.name, { run, attempt, status, error: err.error, ...again, ...index });
}

/** One attempt: an inquiry, a nested run, or the action (one activity, or a built-in run here). */
async function attemptOnce(e: Engine, task: CompiledTask, run: number, it: Item, seq: number | undefined, attempt: number, label: string, state: AttemptState) {
  const extra = it.index !== undefined ? { item: it.item, index: it.index } : {};
  const input = e.renderField(task, 'input', task.input ?? {}, extra);
  const own = seq !== undefined ? e.conductor.recordOf(seq) : e.ctx.task[task.name];
  if (e.input.closure && it.index === undefined && own) own.input = input;
  if (isMocked(e, task)) return viaAction(e, task, run, it, attempt, label, input, state);
  if (task.action === 'core.inquiry' || task.action === 'core.ask') {
    const ask = task.action === 'core.ask';
    const given = (input ?? {}) as Record<string, unknown>;
    const answer = await e.inquiries.ask({
      task: task.name,
      run,
      label,
      tenant: e.input.tenant,
      input: ask ? askAsInquiry(given) : given,
      ...(task.timeout !== undefined ? { timeout: task.timeout } : {}),
      record: (kind, detail) => e.record(kind, task.name, detail),
      flush: () => e.drainAudit(task.name),
    });
    e.record('task.attempt', task.name, { run, attempt, status: 'succeeded' });
    return { result: ask ? { response: answer } : answer, attempts: attempt };
  }
  const child = e.wf.children?.[task.action!];
  if (child) {
    const nested = { parent: e.input, child, input, task: task.name, run, attempt, label, ...(it.index !== undefined ? { index: it.index } : {}) };
    const output = await runNested(nested);
    e.record('task.attempt', task.name, { run, attempt, status: 'succeeded', nested: child.ref });
    return { result: output, attempts: attempt };
  }
  return viaAction(e, task, run, it, attempt, label, input, state);
}

async function viaAction(e: Engine, task: CompiledTask, run: number, it: Item, attempt: number, label: string, input: unknown, state: AttemptState) {
  const plan = planOf(e, task);
  state.temporalRetry = attempt === 1 && plan.policy && uses(e.input, TEMPORAL_RETRIES) ? plan.policy : undefined;
  state.carried = plan.oneActivity ? e.takeAudit() : [];
  const { temporalRetry, carried } = state;
  const attemptCtx = {
    task: task.name,
    label,
    ref: task.action!,
    input,
    attempt,
    ...(it.index !== undefined ? { item: it.item, index: it.index } : {}),
    ...(task.timeout !== undefined ? { timeout: task.timeout } : {}),
    idempotencyKey: `${e.executionId}:${task.name}:${run}${it.index !== undefined ? `:${it.index}` : ''}`,
    tenant: e.input.tenant,
    executionId: e.executionId,
    ...(e.input.traceId ? { traceId: e.input.traceId } : {}),
    ...(e.input.permissions ? { permissions: e.input.permissions } : {}),
    ...(e.input.strategy ? { strategy: e.input.strategy } : {}),
    ...(temporalRetry ? { temporalRetry } : {}),
    ...(carried.length ? { audit: carried } : {}),
    ...(isMocked(e, task) ? { mocked: true } : {}),
  };
  let result = await runAnyAction(attemptCtx, e.wf.actions, e.wf.pack_config, e.callbacks, e.input);
  const envelope = carried.length ? unwrapWritten(result) : undefined;
  if (envelope) result = envelope.value;
  else e.returnAudit(carried, task.name);
  state.carried = []; // handed over: written by the activity, or back to the workflow
  const index = it.index !== undefined ? { index: it.index } : {};
  if (temporalRetry) {
    const report = readAttemptReport(result);
    if (report) result = (result as { value: unknown }).value;
    const last = report?.attempt ?? 1;
    e.ctx.system.attempt = last;
    recordEarlier(e, task, run, it.index, last, report?.failed ?? []);
    e.record('task.attempt', task.name, { run, attempt: last, status: 'succeeded', ...(last > 1 ? { retried_by: 'temporal' } : {}), ...index });
    return { result, attempts: last };
  }
  const report = readAttemptReport(result);
  if (report) result = (result as { value: unknown }).value;
  const again = report?.attempt !== undefined && report.attempt > 1 ? { temporal_attempt: report.attempt } : {};
  e.record('task.attempt', task.name, { run, attempt, status: 'succeeded', ...again, ...index });
  return { result, attempts: attempt };
}
