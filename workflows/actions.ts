import { ActivityFailure, ApplicationFailure, TimeoutFailure, isCancellation, proxyActivities, sleep, uuid4 } from '@temporalio/workflow';
import { reconcile } from '../dsl/reconcile.js';
import { isHttpAction } from '../dsl/builtins.js';
import { deniedMessage, hostOf, permits } from '../dsl/permissions.js';
import type { AuditRow, CoreActivities } from '../activities/types.js';
import type { HttpCall, TaskMeta } from '../contracts/activities.js';
import { detailsSayWritten } from '../dsl/audit-rides.js';
import { readAttemptReport, type NativeRetryPolicy } from '../dsl/retry.js';
import { TaskFailure } from '../conductor/errors.js';
import { FAILURE } from '../contracts/failures.js';

export { TaskFailure };

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
  /** Temporal runs this task's DSL retries with this policy (dsl/retry.ts); the interpreter otherwise. */
  temporalRetry?: NativeRetryPolicy;
  /** The run's pending audit rows, written by the activity before it acts. */
  audit?: AuditRow[];
  idempotencyKey: string;
  tenant: string;
  executionId: string;
  traceId?: string;
  /** The worker's mocks answer for this task (closeloop test, closeloop run --mock): built-ins included. */
  mocked?: boolean;
  /** From the starting strategy: what this run may call (absent = no limit). */
  permissions?: string[];
  strategy?: string;
}

/** Fails the attempt (without calling anything) when the run's permissions do not cover `need`. */
export function requirePermission(ctx: AttemptContext, need: string): void {
  if (permits(ctx.permissions, need)) return;
  throw new TaskFailure({ type: FAILURE.permissionDenied, message: deniedMessage(ctx.task, need, ctx.permissions ?? [], ctx.strategy) });
}

const DEFAULT_ACTIVITY_TIMEOUT_S = 60;

function activities(ctx: AttemptContext): CoreActivities {
  // The activity enforces the DSL timeout itself; start-to-close (timeout + grace) only detects a lost
  // worker, whose attempts Temporal retries a bounded number of times. Business failures are non-retryable.
  const limit = ctx.timeout ?? DEFAULT_ACTIVITY_TIMEOUT_S;
  return proxyActivities<CoreActivities>({
    summary: ctx.label,
    startToCloseTimeout: `${limit + 5}s`,
    retry: ctx.temporalRetry ?? { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
  });
}

/** The transport of a task activity (contracts/activities.ts): everything the interpreter sends beside the call. */
export const taskMeta = (ctx: AttemptContext): TaskMeta => ({
  idempotencyKey: ctx.idempotencyKey,
  tenant: ctx.tenant,
  executionId: ctx.executionId,
  task: ctx.task,
  attempt: ctx.attempt,
  ...(ctx.item !== undefined ? { item: ctx.item, index: ctx.index } : {}),
  ...(ctx.traceId ? { traceId: ctx.traceId } : {}),
  ...(ctx.temporalRetry ? { retriedByTemporal: true } : {}),
  ...(ctx.audit?.length ? { audit: ctx.audit } : {}),
});

/** The HTTP request a task's input describes: only the request's own fields, checked (no other key reaches the activity). */
function httpCall(ref: string, input: Record<string, unknown>, timeout: number | undefined): HttpCall {
  const { url, method, headers, body, expected_status } = input;
  if (typeof url !== 'string' || !url) throw new TaskFailure({ type: FAILURE.input, message: `${ref}: input 'url' is required` });
  if (
    headers !== undefined &&
    (headers === null || typeof headers !== 'object' || Array.isArray(headers) || Object.values(headers).some((v) => v !== null && typeof v === 'object'))
  )
    throw new TaskFailure({ type: FAILURE.input, message: `${ref}: input 'headers' must be a map of header names to values` });
  const t = input.timeout ?? timeout;
  if (t !== undefined && !(Number(t) > 0))
    throw new TaskFailure({ type: FAILURE.input, message: `${ref}: input 'timeout' must be a number of seconds above 0` });
  const codes = expected_status === undefined ? undefined : Array.isArray(expected_status) ? expected_status : [expected_status];
  if (codes && !codes.every((c) => Number.isInteger(c)))
    throw new TaskFailure({ type: FAILURE.input, message: `${ref}: input 'expected_status' must be a status code or a list of them` });
  return {
    url,
    method: String(method ?? 'GET').toUpperCase(),
    ...(headers !== undefined ? { headers: Object.fromEntries(Object.entries(headers as Record<string, unknown>).map(([k, v]) => [k, String(v ?? '')])) } : {}),
    ...(body !== undefined ? { body } : {}),
    ...(t !== undefined ? { timeout: Number(t) } : {}),
    ...(expected_status !== undefined ? { expected_status: expected_status as number | number[] } : {}),
  };
}

export function asTaskFailure(err: unknown): TaskFailure {
  if (err instanceof TaskFailure) return err;
  if (isCancellation(err)) throw err;
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    if (cause instanceof TimeoutFailure)
      return withReport(new TaskFailure({ type: FAILURE.timeout, message: `timed out (${cause.timeoutType})` }, true), cause.lastHeartbeatDetails);
    if (cause instanceof ApplicationFailure) {
      const f = withReport(new TaskFailure({ type: cause.type ?? 'Error', message: cause.message }, cause.type === FAILURE.timeout), cause.details?.[0]);
      if (detailsSayWritten(cause.details?.[0])) f.auditWritten = true;
      return f;
    }
    return new TaskFailure({ type: FAILURE.error, message: cause?.message ?? err.message });
  }
  return new TaskFailure({ type: FAILURE.error, message: err instanceof Error ? err.message : String(err) });
}

/** An activity's failure carries the attempts it reports (none when Temporal did not run retries). */
function withReport(f: TaskFailure, carrier: unknown): TaskFailure {
  f.report = readAttemptReport(carrier) ?? { failed: [] };
  return f;
}

/** Runs one attempt of an action: built-ins in the workflow, everything with I/O in an activity. */
export async function runAttempt(ctx: AttemptContext): Promise<unknown> {
  const input = (ctx.input ?? {}) as Record<string, unknown>;
  try {
    // a mock replaces whatever it names, a built-in too: no mock is silently ignored
    if (ctx.mocked) return await activities(ctx).runAction({ call: { ref: ctx.ref, input: ctx.input }, meta: taskMeta(ctx) });
    switch (ctx.ref) {
      case 'core.noop':
        return {};
      case 'core.echo':
        return { message: input.message ?? null };
      case 'core.fail':
        throw new TaskFailure({ type: FAILURE.fail, message: String(input.message ?? `task '${ctx.task}' failed (core.fail)`) });
      case 'core.sleep': {
        const seconds = Number(input.seconds ?? 0);
        if (!Number.isFinite(seconds) || seconds < 0)
          throw new TaskFailure({ type: FAILURE.input, message: `core.sleep: 'seconds' must be a number >= 0, got ${JSON.stringify(input.seconds)}` });
        if (ctx.timeout !== undefined && seconds > ctx.timeout) {
          await sleep(ctx.timeout * 1000, { summary: `${ctx.label} (timeout)` });
          throw new TaskFailure({ type: FAILURE.timeout, message: `timed out after ${ctx.timeout}s` }, true);
        }
        await sleep(seconds * 1000, { summary: ctx.label });
        return {};
      }
      case 'core.reconcile': {
        const tolerance = input.tolerance === undefined ? 0 : Number(input.tolerance);
        if (!Number.isFinite(tolerance) || tolerance < 0)
          throw new TaskFailure({ type: FAILURE.input, message: `core.reconcile: 'tolerance' must be a number >= 0, got ${JSON.stringify(input.tolerance)}` });
        return reconcile(input.expected, input.observed, tolerance);
      }
      case 'core.notify':
        return await notify(ctx, input);
      default:
        break;
    }
    if (isHttpAction(ctx.ref)) {
      const call = httpCall(ctx.ref, input, ctx.timeout);
      requirePermission(ctx, `http:${hostOf(call.url)}`);
      // the activity's own deadline is the HTTP timeout; Temporal's start-to-close sits just above it
      return await activities({ ...ctx, timeout: Math.max(ctx.timeout ?? 0, call.timeout ?? 30) }).httpRequest({ call, meta: taskMeta(ctx) });
    }
    return await activities(ctx).runAction({ call: { ref: ctx.ref, input: ctx.input }, meta: taskMeta(ctx) });
  } catch (err) {
    throw asTaskFailure(err);
  }
}

const CHANNELS = ['email', 'im', 'webhook'] as const;

/** core.notify: checks input and permission here, sends in the activity; the receipt id is made here (stable across retries). */
async function notify(ctx: AttemptContext, input: Record<string, unknown>): Promise<unknown> {
  const channel = input.channel as (typeof CHANNELS)[number];
  if (!CHANNELS.includes(channel))
    throw new TaskFailure({
      type: FAILURE.input,
      message: `core.notify: 'channel' must be one of ${CHANNELS.join(', ')}, got ${JSON.stringify(input.channel)}`,
    });
  const to = (Array.isArray(input.to) ? input.to : [input.to]).filter((x) => x !== undefined && x !== null && x !== '').map(String);
  if (!to.length) throw new TaskFailure({ type: FAILURE.input, message: "core.notify: 'to' is required (addresses, URLs or role names)" });
  if (input.message === undefined || input.message === null) throw new TaskFailure({ type: FAILURE.input, message: "core.notify: 'message' is required" });
  requirePermission(ctx, `notify:${channel}`);
  return activities(ctx).notify({
    channel,
    to,
    ...(input.subject !== undefined ? { subject: String(input.subject) } : {}),
    message: typeof input.message === 'string' ? input.message : JSON.stringify(input.message),
    ...(input.metadata && typeof input.metadata === 'object' ? { metadata: input.metadata as Record<string, unknown> } : {}),
    tenant: ctx.tenant,
    executionId: ctx.executionId,
    task: ctx.task,
    receiptToken: uuid4(),
    idempotencyKey: ctx.idempotencyKey,
    ...(ctx.traceId ? { traceId: ctx.traceId } : {}),
  });
}
