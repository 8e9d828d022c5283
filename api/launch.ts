import type { Client } from '@temporalio/client';
import type { ClosureRule } from '../dsl/closure-rules.js';
import { NestingError, pinActions, pinNested } from '../dsl/nested.js';
import { clampLimits } from '../dsl/limits.js';
import type { Limits } from '../dsl/types.js';
import type { Store } from '../store/db.js';
import { secretWriter } from '../store/kv-repo.js';
import { RunRepo } from '../store/runs-repo.js';
import type { RunIndexRow } from '../contracts/audit.js';
import type { WorkflowRepo } from '../store/workflows-repo.js';
import type { PackContents } from '../contracts/config.js';
import { ApiError, notFound } from './errors.js';
import { startRun, type StartedRun } from './start-run.js';

export interface LaunchDeps {
  repo: WorkflowRepo;
  store: Store;
  client: Client;
  taskQueue: string;
  packs: () => PackContents;
  /** config/agent/closure_rules.yaml by id (absent = no closure rules). */
  closureRules?: () => ReadonlyMap<string, ClosureRule>;
  /** config/limits.yaml (absent = the defaults of dsl.md). */
  limits?: () => Limits;
  /** Writes a started run's index row (default: at once; the inbox dispatcher writes a batch's rows together). */
  index?: (row: RunIndexRow) => Promise<void>;
}

const PINNED_MS = 2000;
const pinnedCache = new WeakMap<WorkflowRepo, Map<string, { at: number; wf: ReturnType<WorkflowRepo['get']> }>>();
/**
 * A workflow named with its version (as strategies name them), from memory for up to 2 s: versions
 * are immutable, so only a deletion is seen late, as strategy changes are. Without a version, always
 * the database (a version registered a moment ago must start).
 */
function workflowOf(repo: WorkflowRepo, tenant: string, ref: string, version?: string): ReturnType<WorkflowRepo['get']> {
  if (!version) return repo.get(tenant, ref);
  let byKey = pinnedCache.get(repo);
  if (!byKey) pinnedCache.set(repo, (byKey = new Map()));
  const key = `${tenant}\u0000${ref}\u0000${version}`;
  const hit = byKey.get(key);
  if (hit && performance.now() - hit.at < PINNED_MS) return hit.wf;
  const wf = repo.get(tenant, ref, version);
  byKey.set(key, { at: performance.now(), wf });
  wf.then(
    (found) => found || byKey.delete(key),
    () => byKey.delete(key),
  );
  if (byKey.size > 1000) byKey.delete(byKey.keys().next().value!);
  return wf;
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
  /** A strategy's closure rule id: overrides the workflow's own. */
  closure?: string;
  /** The same idempotency key with a different request is a 409 (see startRun). */
  refuseConflicts?: boolean;
}

export function splitRef(ref: string): { ref: string; version?: string } {
  const [name, version] = ref.split('@');
  return version ? { ref: name!, version } : { ref: name! };
}

/** Resolves a workflow for a tenant, pins nested workflows and pack actions, and starts it. */
export async function launchWorkflow(deps: LaunchDeps, req: LaunchRequest): Promise<StartedRun> {
  const { ref, version } = splitRef(req.workflow);
  const wf = await workflowOf(deps.repo, req.tenant, ref, version);
  if (!wf) throw notFound(`workflow '${req.workflow}'`);
  let pinned;
  try {
    const { actions, config } = deps.packs();
    pinned = pinActions(await pinNested(wf.compiled, async (r) => (await deps.repo.get(req.tenant, r))?.compiled ?? null), actions, config);
  } catch (err) {
    if (err instanceof NestingError) throw new ApiError(422, 'invalid_nesting', err.message);
    throw err;
  }
  const ruleId = req.closure ?? pinned.closure;
  let closure: ClosureRule | undefined;
  if (ruleId) {
    closure = deps.closureRules?.().get(ruleId);
    if (!closure)
      throw new ApiError(
        422,
        'unknown_closure_rule',
        `closure rule '${ruleId}' (of ${req.closure ? `strategy '${req.strategy}'` : `workflow '${pinned.ref}'`}) is not defined in config/agent/closure_rules.yaml`,
      );
    // the reconciliation action travels with the run like the workflow's own pack actions
    const recon = closure.reconciliation && deps.packs().actions.get(closure.reconciliation.action);
    if (recon) {
      const pack = recon.ref.split('.')[0]!;
      const cfg = deps.packs().config.get(pack);
      pinned = {
        ...pinned,
        actions: { ...(pinned.actions ?? {}), [recon.ref]: recon },
        ...(cfg ? { pack_config: { ...(pinned.pack_config ?? {}), [pack]: cfg } } : {}),
      };
    }
  }
  // a limit the operator lowered since the workflow was registered applies to this run
  if (deps.limits) pinned = { ...pinned, limits: clampLimits(pinned.limits, deps.limits()) };
  return startRun(deps.client, {
    ...(closure ? { closure } : {}),
    workflow: pinned,
    parameters: req.parameters ?? {},
    tenant: req.tenant,
    taskQueue: deps.taskQueue,
    storeSecret: secretWriter(deps.store.db),
    index: deps.index ?? ((row) => new RunRepo(deps.store.db).started(row)),
    ...(req.startedBy ? { startedBy: req.startedBy } : {}),
    ...(req.idempotencyKey ? { idempotencyKey: req.idempotencyKey } : {}),
    ...(req.traceId ? { traceId: req.traceId } : {}),
    ...(req.strategy ? { strategy: req.strategy } : {}),
    ...(req.event !== undefined ? { event: req.event } : {}),
    ...(req.permissions ? { permissions: req.permissions } : {}),
    ...(req.refuseConflicts ? { refuseConflicts: true } : {}),
  });
}
