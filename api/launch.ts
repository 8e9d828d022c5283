import type { Client } from '@temporalio/client';
import { NestingError, pinActions, pinNested } from '../dsl/nested.js';
import type { Store } from '../store/db.js';
import { secretWriter } from '../store/kv-repo.js';
import type { WorkflowRepo } from '../store/workflows-repo.js';
import type { PackContents } from '../workers/config.js';
import { ApiError, notFound } from './errors.js';
import { startRun, type StartedRun } from './start-run.js';

export interface LaunchDeps {
  repo: WorkflowRepo;
  store: Store;
  client: Client;
  taskQueue: string;
  packs: () => PackContents;
}

export interface LaunchRequest {
  tenant: string;
  /** `pack.name` or `pack.name@version`. */
  workflow: string;
  parameters: unknown;
  idempotencyKey?: string;
  startedBy?: string;
  traceId?: string;
  strategy?: string;
  event?: unknown;
  permissions?: string[];
}

export function splitRef(ref: string): { ref: string; version?: string } {
  const [name, version] = ref.split('@');
  return version ? { ref: name!, version } : { ref: name! };
}

/** Resolves a workflow for a tenant, pins nested workflows and pack actions, and starts it. */
export async function launchWorkflow(deps: LaunchDeps, req: LaunchRequest): Promise<StartedRun> {
  const { ref, version } = splitRef(req.workflow);
  const wf = await deps.repo.get(req.tenant, ref, version);
  if (!wf) throw notFound(`workflow '${req.workflow}'`);
  let pinned;
  try {
    const { actions, config } = deps.packs();
    pinned = pinActions(await pinNested(wf.compiled, async (r) => (await deps.repo.get(req.tenant, r))?.compiled ?? null), actions, config);
  } catch (err) {
    if (err instanceof NestingError) throw new ApiError(422, 'invalid_nesting', err.message);
    throw err;
  }
  return startRun(deps.client, {
    workflow: pinned,
    parameters: req.parameters ?? {},
    tenant: req.tenant,
    taskQueue: deps.taskQueue,
    storeSecret: secretWriter(deps.store.db),
    ...(req.startedBy ? { startedBy: req.startedBy } : {}),
    ...(req.idempotencyKey ? { idempotencyKey: req.idempotencyKey } : {}),
    ...(req.traceId ? { traceId: req.traceId } : {}),
    ...(req.strategy ? { strategy: req.strategy } : {}),
    ...(req.event !== undefined ? { event: req.event } : {}),
    ...(req.permissions ? { permissions: req.permissions } : {}),
  });
}
