import { ApplicationFailure, CancelledFailure, Context, log } from '@temporalio/activity';
import { ATTEMPTS_KEY, readAttemptReport, type ReportedAttempt } from '../dsl/retry.js';
import { AUDIT_KEY } from '../dsl/audit-rides.js';
import type { AuditRow } from './types.js';

/**
 * For a task whose DSL retry Temporal runs (dsl/retry.ts): every failure becomes retryable, and
 * the attempts travel with the activity so the workflow can still audit each one. Each failed
 * attempt adds itself to the activity's heartbeat details, which Temporal hands to the next
 * attempt; the answering attempt returns them with its result or in its failure details.
 */
export function retriedByTemporal<I extends { retried_by_temporal?: boolean }, O>(fn: (input: I) => Promise<O>): (input: I) => Promise<O> {
  return async (input: I) => {
    if (!input.retried_by_temporal) return fn(input);
    const { retried_by_temporal: _, ...rest } = input;
    const ctx = Context.current();
    const attempt = ctx.info.attempt;
    const before = readAttemptReport(ctx.info.heartbeatDetails)?.failed ?? [];
    // mocks and actions that read the attempt number see Temporal's
    const call = ('attempt' in rest ? { ...rest, attempt } : rest) as I;
    try {
      const value = await fn(call);
      return { [ATTEMPTS_KEY]: { attempt, failed: before }, value } as O;
    } catch (err) {
      if (err instanceof CancelledFailure) throw err;
      const error =
        err instanceof ApplicationFailure
          ? { type: err.type ?? 'Error', message: err.message }
          : { type: 'Error', message: err instanceof Error ? err.message : String(err) };
      const failed: ReportedAttempt[] = [...before, { attempt, status: error.type === 'timeout' ? 'timed_out' : 'failed', error }];
      ctx.heartbeat({ [ATTEMPTS_KEY]: failed });
      throw ApplicationFailure.create({ type: error.type, message: error.message, nonRetryable: false, details: [{ [ATTEMPTS_KEY]: { attempt, failed } }] });
    }
  };
}

/**
 * For a task activity that carries the run's pending audit rows (workflows/engine.ts): writes them
 * first, then acts. The result (or the failure's details) says the rows were written; without that
 * the workflow writes them itself, so a failed write, a lost worker or a cancellation loses nothing.
 * The action runs whether or not the write worked: audit bookkeeping never fails a task.
 */
export function carryingAudit<I extends { audit?: AuditRow[] }, O>(
  write: (rows: AuditRow[]) => Promise<void>,
  fn: (input: I) => Promise<O>,
): (input: I) => Promise<O> {
  return async (input: I) => {
    if (!input.audit?.length) return fn(input);
    const { audit, ...rest } = input;
    const written = await write(audit).then(
      () => true,
      (err: unknown) => {
        log.warn('audit rows carried by this activity were not written; the workflow writes them', { error: err instanceof Error ? err.message : String(err) });
        return false;
      },
    );
    try {
      const value = await fn(rest as I);
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
          type: err.type ?? 'Error',
          message: err.message,
          nonRetryable: err.nonRetryable ?? false,
          details: [marked, ...more],
        });
      throw ApplicationFailure.create({ type: 'Error', message: err instanceof Error ? err.message : String(err), nonRetryable: false, details: [marked] });
    }
  };
}
