import { ApplicationFailure, CancelledFailure, Context, log } from '@temporalio/activity';
import { ATTEMPTS_KEY, readAttemptReport, type ReportedAttempt } from '../dsl/retry.js';
import { AUDIT_KEY } from '../dsl/audit-rides.js';
import type { AuditRow } from './types.js';
import type { TaskActivityInput, TaskMeta } from '../contracts/activities.js';
import { FAILURE } from '../contracts/failures.js';

/**
 * For a task whose DSL retry Temporal runs (dsl/retry.ts): every failure becomes retryable, and
 * the attempts travel with the activity so the workflow can still audit each one. Each failed
 * attempt adds itself to the activity's heartbeat details, which Temporal hands to the next
 * attempt; the answering attempt returns them with its result or in its failure details. `fn`
 * sees Temporal's attempt number (mocks and actions that read the attempt number see it too).
 */
export async function retriedByTemporal<O>(meta: TaskMeta, fn: (meta: TaskMeta) => Promise<O>): Promise<O> {
  if (!meta.retriedByTemporal) return reexecuted(fn(meta));
  const ctx = Context.current();
  const attempt = ctx.info.attempt;
  const before = readAttemptReport(ctx.info.heartbeatDetails)?.failed ?? [];
  try {
    const value = await fn({ ...meta, attempt });
    return { [ATTEMPTS_KEY]: { attempt, failed: before }, value } as O;
  } catch (err) {
    if (err instanceof CancelledFailure) throw err;
    const error =
      err instanceof ApplicationFailure
        ? { type: err.type ?? FAILURE.error, message: err.message }
        : { type: FAILURE.error, message: err instanceof Error ? err.message : String(err) };
    const failed: ReportedAttempt[] = [...before, { attempt, status: error.type === FAILURE.timeout ? 'timed_out' : 'failed', error }];
    ctx.heartbeat({ [ATTEMPTS_KEY]: failed });
    throw ApplicationFailure.create({ type: error.type, message: error.message, nonRetryable: false, details: [{ [ATTEMPTS_KEY]: { attempt, failed } }] });
  }
}

/**
 * Without a DSL retry, Temporal still runs an activity again when its worker was lost: an attempt
 * after the first says which one it is (result or failure details), so the audit records it.
 */
async function reexecuted<O>(work: Promise<O>): Promise<O> {
  const attempt = Context.current().info.attempt;
  if (attempt <= 1) return work;
  try {
    return { [ATTEMPTS_KEY]: { attempt, failed: [] }, value: await work } as O;
  } catch (err) {
    if (!(err instanceof ApplicationFailure) || err.details?.length) throw err;
    throw ApplicationFailure.create({
      type: err.type ?? FAILURE.error,
      message: err.message,
      nonRetryable: err.nonRetryable ?? false,
      details: [{ [ATTEMPTS_KEY]: { attempt, failed: [] } }],
    });
  }
}

/**
 * For a task activity that carries the run's pending audit rows (workflows/audit-buffer.ts): writes
 * them first, then acts. The result (or the failure's details) says the rows were written; without
 * that the workflow writes them itself, so a failed write, a lost worker or a cancellation loses
 * nothing. The action runs whether or not the write worked: audit bookkeeping never fails a task.
 */
export async function carryingAudit<O>(meta: TaskMeta, write: (rows: AuditRow[]) => Promise<void>, fn: () => Promise<O>): Promise<O> {
  if (!meta.audit?.length) return fn();
  const written = await write(meta.audit).then(
    () => true,
    (err: unknown) => {
      log.warn('audit rows carried by this activity were not written; the workflow writes them', { error: err instanceof Error ? err.message : String(err) });
      return false;
    },
  );
  try {
    const value = await fn();
    return (written ? { [AUDIT_KEY]: 'written', value } : value) as O;
  } catch (err) {
    if (!written || err instanceof CancelledFailure) throw err;
    const [first, ...more] = err instanceof ApplicationFailure ? (err.details ?? []) : [];
    const marked =
      first !== null && typeof first === 'object' && !Array.isArray(first)
        ? { ...first, [AUDIT_KEY]: 'written' }
        : { [AUDIT_KEY]: 'written', ...(first !== undefined ? { detail: first } : {}) };
    if (err instanceof ApplicationFailure)
      throw ApplicationFailure.create({
        type: err.type ?? FAILURE.error,
        message: err.message,
        nonRetryable: err.nonRetryable ?? false,
        details: [marked, ...more],
      });
    throw ApplicationFailure.create({ type: FAILURE.error, message: err instanceof Error ? err.message : String(err), nonRetryable: false, details: [marked] });
  }
}

/** The `{ call, meta }` of a task activity; an input in the flat shape of workers before it (runs in flight at an upgrade) is split the same way. */
export function transportOf<C>(raw: unknown, callKeys: readonly string[]): TaskActivityInput<C> {
  const r = (raw ?? {}) as Record<string, unknown>;
  if (r.call && typeof r.call === 'object' && r.meta && typeof r.meta === 'object') return r as unknown as TaskActivityInput<C>;
  const call = Object.fromEntries(callKeys.filter((k) => r[k] !== undefined).map((k) => [k, r[k]])) as C;
  const meta: TaskMeta = {
    idempotencyKey: String(r.idempotencyKey ?? ''),
    tenant: String(r.tenant ?? ''),
    ...(typeof r.executionId === 'string' ? { executionId: r.executionId } : {}),
    ...(typeof r.task === 'string' ? { task: r.task } : {}),
    ...(typeof r.traceId === 'string' ? { traceId: r.traceId } : {}),
    ...(typeof r.attempt === 'number' ? { attempt: r.attempt } : {}),
    ...(r.item !== undefined ? { item: r.item, index: r.index as number } : {}),
    ...(r.retried_by_temporal === true ? { retriedByTemporal: true } : {}),
    ...(Array.isArray(r.audit) ? { audit: r.audit as AuditRow[] } : {}),
  };
  return { call, meta };
}
