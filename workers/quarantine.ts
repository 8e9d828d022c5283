import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { eq, sql } from 'drizzle-orm';
import type { Store } from '../store/db.js';
import { runs } from '../store/schema.js';
import { SA } from '../contracts/definitions.js';
import { FAILURE } from '../contracts/failures.js';

export interface Suspect {
  workflowId: string;
  runId: string;
  workflowType: string;
}

/**
 * Stops a run whose workflow task keeps crashing the worker process: Temporal terminates it (no
 * workflow code can run for it any more), and a `taskflow` run's index row says why, so the run is
 * listed as failed instead of staying `running` forever. Nothing else can end such a run: every
 * retry of its workflow task would crash the next worker too.
 */
export async function quarantineRun(deps: { client: Client; store?: Store }, s: Suspect, crashes: number): Promise<string> {
  const reason = `quarantined by Closeloop: its workflow task crashed the worker process ${crashes} times (docs/decisions.md "Isolation")`;
  const handle = deps.client.workflow.getHandle(s.workflowId, s.runId);
  let described;
  try {
    described = await handle.describe();
    if (described.status.name !== 'RUNNING') return `${s.workflowId} had already ended (${described.status.name})`;
    await handle.terminate(reason);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return `${s.workflowId} no longer exists`;
    throw err;
  }
  const tenant = described.typedSearchAttributes.get(SA.tenant);
  if (deps.store && s.workflowType === 'taskflow' && tenant) await indexQuarantined(deps.store, s, tenant, described, reason, crashes);
  return `${s.workflowId} (${s.workflowType}) terminated: ${reason}`;
}

/** The run's index row (created when its first bookkeeping write never happened) with a summary that says why it failed. */
async function indexQuarantined(
  store: Store,
  s: Suspect,
  tenant: string,
  described: WorkflowExecutionDescription,
  reason: string,
  crashes: number,
): Promise<void> {
  const [row] = await store.db.select().from(runs).where(eq(runs.executionId, s.workflowId));
  const now = new Date().toISOString();
  const summary = {
    id: s.workflowId,
    workflow: row?.workflowRef ?? described.typedSearchAttributes.get(SA.workflow) ?? 'unknown',
    version: row?.workflowVersion ?? '',
    status: 'failed',
    tenant,
    started_at: row?.startedAt ?? described.startTime.toISOString(),
    ended_at: now,
    output: null,
    error: { type: FAILURE.quarantined, message: reason },
    tasks: [],
    closure: null,
    quarantined: { crashes, run_id: s.runId },
  };
  await store.db
    .insert(runs)
    .values({
      executionId: s.workflowId,
      tenant,
      workflowRef: summary.workflow,
      workflowVersion: summary.version,
      status: 'failed',
      startedAt: summary.started_at,
      endedAt: now,
      summary,
    })
    .onConflictDoUpdate({ target: runs.executionId, set: { status: 'failed', endedAt: now, summary, updatedAt: sql`now()` } });
}
