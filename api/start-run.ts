import { randomUUID } from 'node:crypto';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { randomBytes } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { ParameterError, validateParameters, type CompiledWorkflow } from '../dsl/index.js';
import { SA, TASKFLOW, TASK_QUEUE } from '../contracts/definitions.js';
import type { TaskflowInput } from '../contracts/run.js';
import type { RunIndexRow } from '../contracts/audit.js';
import { RUN_FEATURES, childFeatures } from '../contracts/features.js';
import { isSecretMarker, secretMarker } from '../dsl/secrets.js';
import { ApiError } from './errors.js';
import { requestHash } from './request-hash.js';
import { SAFE_KEY, SAFE_KEY_RULE, findTextProblem } from '../dsl/text.js';

export type SecretWriter = ((tenant: string, key: string, value: unknown) => Promise<void>) & { drop?: (tenant: string, key: string) => Promise<void> };

export interface StartedRun {
  execution_id: string;
  status: 'started' | 'duplicate';
  workflow: string;
  version: string;
}

/** Validates parameters (nothing starts on bad input) and starts `taskflow` as run:<tenant>:<key>. */
export async function startRun(
  client: Client,
  opts: {
    workflow: CompiledWorkflow;
    parameters: unknown;
    tenant: string;
    idempotencyKey?: string;
    taskQueue?: string;
    startedBy?: string;
    traceId?: string;
    resume?: TaskflowInput['resume'];
    storeSecret?: SecretWriter;
    /** Set when a strategy started the run: `id@version`, the triggering event, and what the run may call. */
    strategy?: string;
    event?: TaskflowInput['event'];
    permissions?: string[];
    /** The closure rule (a snapshot) applied when the graph ends. */
    closure?: TaskflowInput['closure'];
    /** The same idempotency key with another workflow or other parameters is a 409 (callers of the HTTP API). */
    refuseConflicts?: boolean;
    /** Writes the runs-index row once the run started, so its first workflow task writes nothing (contracts/features.ts). */
    index?: (row: RunIndexRow) => Promise<void>;
  },
): Promise<StartedRun> {
  const key = opts.idempotencyKey;
  const parameters = checkedParameters(opts.workflow, opts.parameters, key);
  const workflowId = `run:${opts.tenant}:${opts.idempotencyKey ?? randomUUID()}`;
  // what the key was used for (secret values left out of the digest, which is kept in the run's memo)
  const masked = Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, opts.workflow.secretParameters.includes(k) ? '<secret>' : v]));
  const hash = key !== undefined && opts.refuseConflicts ? requestHash({ workflow: opts.workflow.ref, parameters: masked }) : undefined;
  const stored = await storeSecrets(opts, parameters, workflowId);
  const input: TaskflowInput = {
    workflow: opts.workflow,
    parameters,
    tenant: opts.tenant,
    ...(opts.startedBy ? { startedBy: opts.startedBy } : {}),
    ...(opts.traceId ? { traceId: opts.traceId } : {}),
    ...(opts.resume ? { resume: opts.resume } : {}),
    ...(opts.strategy ? { strategy: opts.strategy } : {}),
    ...(opts.event ? { event: opts.event } : {}),
    ...(opts.permissions ? { permissions: opts.permissions } : {}),
    ...(opts.closure ? { closure: opts.closure } : {}),
    features: opts.index ? RUN_FEATURES : childFeatures(RUN_FEATURES),
  };
  const base = { execution_id: workflowId, workflow: opts.workflow.ref, version: opts.workflow.version };
  const parent = traceParent(opts.traceId);
  try {
    await context.with(parent, () =>
      client.workflow.start(TASKFLOW, {
        taskQueue: opts.taskQueue ?? TASK_QUEUE,
        workflowId,
        args: [input],
        // the same idempotency key never starts a second run, even after the first one closed
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [
          { key: SA.tenant, value: opts.tenant },
          { key: SA.workflow, value: opts.workflow.ref },
          { key: SA.status, value: 'running' },
          ...(opts.strategy ? [{ key: SA.strategy, value: opts.strategy }] : []),
        ],
        staticSummary: `${opts.workflow.ref}@${opts.workflow.version}`,
        ...(hash ? { memo: { request_hash: hash } } : {}),
      }),
    );
    await writeIndex(opts, workflowId);
    return { ...base, status: 'started' };
  } catch (err) {
    // nothing is left half-done: the secrets stored for a start that did not happen go again
    await Promise.all(stored.map((k) => opts.storeSecret?.drop?.(opts.tenant, k).catch(() => undefined)));
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    if (hash) await refuseConflict(client, workflowId, hash, key!);
    return { ...base, status: 'duplicate' };
  }
}

/**
 * The new run's index row (`running`). A failed write loses nothing: the run writes its row itself
 * when it ends, and the execution is found through Temporal meanwhile; so it is reported, not thrown.
 */
async function writeIndex(opts: { index?: (row: RunIndexRow) => Promise<void>; tenant: string; workflow: CompiledWorkflow }, workflowId: string) {
  const row = {
    execution_id: workflowId,
    tenant: opts.tenant,
    workflow_ref: opts.workflow.ref,
    workflow_version: opts.workflow.version,
    status: 'running',
    started_at: new Date().toISOString(),
    ended_at: null,
    summary: null,
  };
  await opts.index?.(row).catch((err: Error) => console.warn(`closeloop: run ${workflowId} started; its index row waits for its end (${err.message})`));
}

/** A duplicate start whose first request differed (its memo's digest) is a conflict, not a duplicate. */
async function refuseConflict(client: Client, workflowId: string, hash: string, key: string): Promise<void> {
  const first = (await client.workflow.getHandle(workflowId).describe()).memo?.request_hash;
  if (typeof first === 'string' && first !== hash)
    throw new ApiError(
      409,
      'idempotency_conflict',
      `idempotency key '${key}' was first used with another workflow or other parameters (run '${workflowId}'); use a new key for a new request`,
      [{ location: 'body.idempotency_key' }],
    );
}

/** The idempotency key and parameters, checked before anything is stored or started (400 naming the field). */
function checkedParameters(workflow: CompiledWorkflow, raw: unknown, key: string | undefined): Record<string, unknown> {
  if (key !== undefined && !SAFE_KEY.test(key))
    throw new ApiError(400, 'invalid_idempotency_key', `the idempotency key ${JSON.stringify(key.slice(0, 80))} is not allowed: ${SAFE_KEY_RULE}`, [
      { location: 'idempotency_key' },
    ]);
  // before any recursive walk (schema validation): text the database cannot hold, and hostile nesting
  const problem = findTextProblem(raw);
  if (problem) {
    const location = `parameters${problem.path ? (problem.path.startsWith('[') ? '' : '.') + problem.path : ''}`;
    throw new ApiError(400, 'invalid_parameters', `${location}: ${problem.message}`, [{ location, message: problem.message }]);
  }
  try {
    return validateParameters(workflow.parameters, raw ?? {});
  } catch (err) {
    if (err instanceof ParameterError)
      throw new ApiError(
        400,
        'invalid_parameters',
        err.message,
        err.problems.map((p) => ({ location: `parameters.${p.field}`, message: p.message })),
      );
    throw err;
  }
}

/** The run's trace continues the event's trace id (Temporal's client interceptor, when tracing is on, starts its span under it). */
function traceParent(traceId: string | undefined) {
  if (!traceId || !/^[0-9a-f]{32}$/.test(traceId) || traceId === '0'.repeat(32)) return context.active();
  return trace.setSpanContext(context.active(), { traceId, spanId: randomBytes(8).toString('hex'), traceFlags: TraceFlags.SAMPLED, isRemote: true });
}

/** Secret parameters never enter workflow input or history: they are stored and replaced by markers (returns the keys stored). */
async function storeSecrets(
  opts: { workflow: CompiledWorkflow; tenant: string; storeSecret?: SecretWriter },
  parameters: Record<string, unknown>,
  workflowId: string,
): Promise<string[]> {
  const stored: string[] = [];
  for (const name of opts.workflow.secretParameters) {
    if (parameters[name] === undefined || isSecretMarker(parameters[name])) continue;
    if (!opts.storeSecret) throw new ApiError(400, 'secrets_unavailable', `parameter '${name}' is secret and this starter has no secret store`);
    // a key of this start's own: a duplicate request never overwrites the secret a running run reads
    const key = `param:${workflowId}:${name}:${randomUUID().slice(0, 8)}`;
    await opts.storeSecret(opts.tenant, key, parameters[name]);
    stored.push(key);
    parameters[name] = secretMarker(key);
  }
  return stored;
}
