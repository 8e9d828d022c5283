import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Db } from '../../store/db.js';
import { manualReviews } from '../../store/schema.js';
import { MANUAL_REVIEW, SA } from '../../contracts/definitions.js';
import { intakeMetrics } from '../metrics.js';

export interface ManualReviewRequest {
  tenant: string;
  /** Stable per cause (e.g. the event's idempotency key), so a repeat never opens a second item. */
  key: string;
  reason: 'unmatched' | 'strategy_error' | 'run_failing';
  detail: Record<string, unknown>;
  eventKey?: string;
  executionId?: string;
}

/** Stores a manual-review item and starts its delivery to the ops endpoint; returns false when it existed. */
export async function openManualReview(
  deps: { db: Db; client: Client; taskQueue: string },
  req: ManualReviewRequest,
): Promise<{ id: string; created: boolean }> {
  const id = `review:${req.tenant}:${req.key}`;
  const [row] = await deps.db
    .insert(manualReviews)
    .values({ id, tenant: req.tenant, reason: req.reason, detail: req.detail, eventKey: req.eventKey ?? null, executionId: req.executionId ?? null })
    .onConflictDoNothing()
    .returning({ id: manualReviews.id });
  if (row) intakeMetrics.manualEscalations.add(1, { tenant: req.tenant, reason: req.reason });
  // started even when the row existed: a crash between the insert and the start must not lose the delivery
  try {
    await deps.client.workflow.start(MANUAL_REVIEW, {
      taskQueue: deps.taskQueue,
      workflowId: id,
      args: [{ id, tenant: req.tenant, reason: req.reason, detail: req.detail }],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [{ key: SA.tenant, value: req.tenant }],
      staticSummary: `manual review: ${req.reason}`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return { id, created: Boolean(row) };
}
