// Which DSL retries Temporal's own activity retry policy expresses exactly (dsl.md "Retry").
import type { RetrySpec } from './types.js';
import { FAILURE } from '../contracts/failures.js';

/** A Temporal RetryPolicy, in the units its options take (seconds as duration strings). */
export interface NativeRetryPolicy {
  initialInterval: string;
  backoffCoefficient: number;
  maximumInterval: string;
  maximumAttempts: number;
}

/**
 * The Temporal retry policy equal to a DSL retry, or undefined when there is none:
 * - `linear` backoff grows by a sum, Temporal's by a product;
 * - `on_error` needs the error in a template between attempts;
 * - `delay: 0` (Temporal's first interval must be positive), and `max_delay` below `delay`
 *   (Temporal refuses a maximum interval under the initial one).
 * Temporal's default maximum interval (100 x the first) is replaced by the largest DSL delay, so
 * no cap applies that the DSL would not apply.
 */
export function nativeRetryPolicy(retry: RetrySpec | undefined): NativeRetryPolicy | undefined {
  if (!retry || retry.count < 1 || retry.on_error !== undefined || retry.backoff === 'linear') return undefined;
  if (!(retry.delay > 0)) return undefined;
  if (retry.max_delay !== undefined && retry.max_delay < retry.delay) return undefined;
  const coefficient = retry.backoff === 'exponential' ? 2 : 1;
  const largest = retry.delay * coefficient ** (retry.count - 1);
  const cap = retry.max_delay !== undefined ? Math.min(retry.max_delay, largest) : largest;
  return {
    initialInterval: `${retry.delay}s`,
    backoffCoefficient: coefficient,
    maximumInterval: `${Math.max(cap, retry.delay)}s`,
    maximumAttempts: retry.count + 1,
  };
}

/**
 * After attempt `attempt` failed with `error`: the delay in seconds before the next attempt, or null
 * when the task fails now (no retry left, `on_error` says no, or a template error, which would fail
 * the same way again). `onError` evaluates the task's `on_error` template with `error` in scope.
 */
export function nextRetry(retry: RetrySpec | undefined, attempt: number, error: { type: string }, onError: () => boolean): number | null {
  if (!retry || error.type === FAILURE.template || attempt > retry.count) return null;
  if (retry.on_error !== undefined && !onError()) return null;
  const base = retry.backoff === 'linear' ? retry.delay * attempt : retry.backoff === 'exponential' ? retry.delay * 2 ** (attempt - 1) : retry.delay;
  return retry.max_delay !== undefined ? Math.min(base, retry.max_delay) : base;
}

/**
 * Inputs that read `system.*` are rendered again for each attempt (attempt number, timestamp), so the
 * interpreter runs those retries. Deliberately coarse: any mention of `system` counts.
 */
export function inputVariesByAttempt(input: unknown): boolean {
  return input !== undefined && JSON.stringify(input).includes('system');
}

/** Where an activity retried by Temporal reports its attempts: in its result, its failure details and its heartbeat. */
export const ATTEMPTS_KEY = 'closeloop_attempts';

export interface ReportedAttempt {
  attempt: number;
  status: 'failed' | 'timed_out';
  error: { type: string; message: string };
}
/** `attempt` is the attempt that answered (unknown when Temporal timed the last one out). */
export interface AttemptReport {
  attempt?: number;
  failed: ReportedAttempt[];
}

/** Reads a report from a result, failure details or heartbeat details; undefined when there is none. */
export function readAttemptReport(carrier: unknown): AttemptReport | undefined {
  if (carrier === null || typeof carrier !== 'object' || !(ATTEMPTS_KEY in carrier)) return undefined;
  const r = (carrier as Record<string, unknown>)[ATTEMPTS_KEY];
  if (Array.isArray(r)) return { failed: r as ReportedAttempt[] };
  if (r === null || typeof r !== 'object') return undefined;
  const { attempt, failed } = r as { attempt?: unknown; failed?: unknown };
  return { ...(typeof attempt === 'number' ? { attempt } : {}), failed: Array.isArray(failed) ? (failed as ReportedAttempt[]) : [] };
}

/**
 * Every attempt from 1 to `last`, in order: the reported failures, and for an attempt nothing
 * reported (its worker was lost, or its report did not arrive) a failure that says so.
 */
export function attemptsUpTo(last: number, failed: ReportedAttempt[]): ReportedAttempt[] {
  const byNumber = new Map(failed.map((f) => [f.attempt, f]));
  return Array.from(
    { length: Math.max(0, last) },
    (_, i) =>
      byNumber.get(i + 1) ?? {
        attempt: i + 1,
        status: 'failed' as const,
        error: { type: FAILURE.attemptLost, message: `attempt ${i + 1} reported no outcome (its worker stopped or timed out)` },
      },
  );
}
