import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { ATTEMPTS_KEY, readAttemptReport, type ReportedAttempt } from '../dsl/retry.js';

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
      const error = err instanceof ApplicationFailure ? { type: err.type ?? 'Error', message: err.message } : { type: 'Error', message: err instanceof Error ? err.message : String(err) };
      const failed: ReportedAttempt[] = [...before, { attempt, status: error.type === 'timeout' ? 'timed_out' : 'failed', error }];
      ctx.heartbeat({ [ATTEMPTS_KEY]: failed });
      throw ApplicationFailure.create({ type: error.type, message: error.message, nonRetryable: false, details: [{ [ATTEMPTS_KEY]: { attempt, failed } }] });
    }
  };
}
