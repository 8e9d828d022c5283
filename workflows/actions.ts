import { ActivityFailure, ApplicationFailure, TimeoutFailure, isCancellation, proxyActivities, sleep } from '@temporalio/workflow';
import { isHttpAction } from '../dsl/builtins.js';
import { deniedMessage, hostOf, permits } from '../dsl/permissions.js';
import type { CoreActivities, HttpRequestInput } from '../activities/types.js';
import type { TaskError } from './summary.js';

/** A task attempt that did not succeed; stays inside the interpreter (never fails the workflow task). */
export class TaskFailure extends Error {
  constructor(
    readonly error: TaskError,
    readonly timedOut = false,
  ) {
    super(error.message);
  }
}

export interface AttemptContext {
  task: string;
  label: string;
  ref: string;
  input: unknown;
  attempt: number;
  item?: unknown;
  index?: number;
  /** seconds, per attempt */
  timeout?: number;
  idempotencyKey: string;
  tenant: string;
  executionId: string;
  traceId?: string;
  /** From the starting strategy: what this run may call (absent = no limit). */
  permissions?: string[];
  strategy?: string;
}

/** Fails the attempt (without calling anything) when the run's permissions do not cover `need`. */
export function requirePermission(ctx: AttemptContext, need: string): void {
  if (permits(ctx.permissions, need)) return;
  throw new TaskFailure({ type: 'PermissionDenied', message: deniedMessage(ctx.task, need, ctx.permissions ?? [], ctx.strategy) });
}

const DEFAULT_ACTIVITY_TIMEOUT_S = 60;

function activities(ctx: AttemptContext): CoreActivities {
  // The activity enforces the DSL timeout itself; start-to-close (timeout + grace) only detects a lost
  // worker, whose attempts Temporal retries a bounded number of times. Business failures are non-retryable.
  const limit = ctx.timeout ?? DEFAULT_ACTIVITY_TIMEOUT_S;
  return proxyActivities<CoreActivities>({
    summary: ctx.label,
    startToCloseTimeout: `${limit + 5}s`,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
  });
}

export function asTaskFailure(err: unknown): TaskFailure {
  if (err instanceof TaskFailure) return err;
  if (isCancellation(err)) throw err;
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    if (cause instanceof TimeoutFailure) return new TaskFailure({ type: 'timeout', message: `timed out (${cause.timeoutType})` }, true);
    if (cause instanceof ApplicationFailure) return new TaskFailure({ type: cause.type ?? 'Error', message: cause.message }, cause.type === 'timeout');
    return new TaskFailure({ type: 'Error', message: cause?.message ?? err.message });
  }
  return new TaskFailure({ type: 'Error', message: err instanceof Error ? err.message : String(err) });
}

/** Runs one attempt of an action: built-ins in the workflow, everything with I/O in an activity. */
export async function runAttempt(ctx: AttemptContext): Promise<unknown> {
  const input = (ctx.input ?? {}) as Record<string, unknown>;
  try {
    switch (ctx.ref) {
      case 'core.noop':
        return {};
      case 'core.echo':
        return { message: input.message ?? null };
      case 'core.fail':
        throw new TaskFailure({ type: 'Fail', message: String(input.message ?? `task '${ctx.task}' failed (core.fail)`) });
      case 'core.sleep': {
        const seconds = Number(input.seconds ?? 0);
        if (!Number.isFinite(seconds) || seconds < 0) throw new TaskFailure({ type: 'InputError', message: `core.sleep: 'seconds' must be a number >= 0, got ${JSON.stringify(input.seconds)}` });
        if (ctx.timeout !== undefined && seconds > ctx.timeout) {
          await sleep(ctx.timeout * 1000, { summary: `${ctx.label} (timeout)` });
          throw new TaskFailure({ type: 'timeout', message: `timed out after ${ctx.timeout}s` }, true);
        }
        await sleep(seconds * 1000, { summary: ctx.label });
        return {};
      }
      default:
        break;
    }
    if (isHttpAction(ctx.ref)) {
      if (typeof input.url !== 'string' || !input.url) throw new TaskFailure({ type: 'InputError', message: `${ctx.ref}: input 'url' is required` });
      requirePermission(ctx, `http:${hostOf(input.url)}`);
      const req: HttpRequestInput = {
        ...(input as Partial<HttpRequestInput>),
        url: input.url,
        method: String(input.method ?? 'GET').toUpperCase(),
        idempotencyKey: ctx.idempotencyKey,
        tenant: ctx.tenant,
        ...(ctx.traceId ? { traceId: ctx.traceId } : {}),
        ...(ctx.timeout !== undefined && input.timeout === undefined ? { timeout: ctx.timeout } : {}),
      };
      // the activity's own deadline is the HTTP timeout; Temporal's start-to-close sits just above it
      return await activities({ ...ctx, timeout: Math.max(ctx.timeout ?? 0, Number(req.timeout ?? 30)) }).httpRequest(req);
    }
    return await activities(ctx).runAction({
      ref: ctx.ref,
      input: ctx.input,
      attempt: ctx.attempt,
      ...(ctx.item !== undefined ? { item: ctx.item, index: ctx.index } : {}),
      idempotencyKey: ctx.idempotencyKey,
      tenant: ctx.tenant,
      executionId: ctx.executionId,
      task: ctx.task,
    });
  } catch (err) {
    throw asTaskFailure(err);
  }
}
