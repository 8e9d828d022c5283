import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { asc, inArray } from 'drizzle-orm';
import { auditCoverage, taskOfSummary, type AuditFact, type Coverage, type HistoryFact } from '../dsl/audit-coverage.js';
import type { Db } from '../store/db.js';
import { auditLog } from '../store/schema.js';

const text = (p: temporal.api.common.v1.IPayload | null | undefined): string | undefined => {
  if (!p?.data) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(p.data).toString('utf8'));
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
};

/** The auditable facts of one history (see dsl/audit-coverage.ts). */
function factsOf(source: 'run' | 'closure', events: temporal.api.history.v1.IHistoryEvent[]): HistoryFact[] {
  const out: HistoryFact[] = [];
  const scheduled = new Map<number, HistoryFact>();
  for (const e of events) {
    const id = Number(e.eventId ?? 0);
    const summary = text(e.userMetadata?.summary);
    if (e.workflowExecutionStartedEventAttributes) out.push({ source, event_id: id, kind: 'started' });
    else if (e.workflowExecutionCompletedEventAttributes || e.workflowExecutionFailedEventAttributes) out.push({ source, event_id: id, kind: 'ended' });
    else if (e.activityTaskScheduledEventAttributes) {
      const task = taskOfSummary(summary);
      const fact: HistoryFact = {
        source,
        event_id: id,
        kind: 'activity',
        name: e.activityTaskScheduledEventAttributes.activityType?.name ?? '',
        ...(task ? { task } : {}),
      };
      scheduled.set(id, fact);
      out.push(fact);
    } else if (e.activityTaskStartedEventAttributes) {
      const fact = scheduled.get(Number(e.activityTaskStartedEventAttributes.scheduledEventId ?? 0));
      if (fact) fact.attempt = e.activityTaskStartedEventAttributes.attempt ?? 1;
    } else if (e.startChildWorkflowExecutionInitiatedEventAttributes) {
      const a = e.startChildWorkflowExecutionInitiatedEventAttributes;
      const task = taskOfSummary(summary);
      out.push({ source, event_id: id, kind: 'child', name: a.workflowType?.name ?? '', ...(task ? { task } : {}) });
    } else if (e.workflowExecutionSignaledEventAttributes)
      out.push({ source, event_id: id, kind: 'signal', name: e.workflowExecutionSignaledEventAttributes.signalName ?? '' });
    else if (e.workflowExecutionUpdateAcceptedEventAttributes)
      out.push({ source, event_id: id, kind: 'update', name: e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest?.input?.name ?? '' });
  }
  return out;
}

/** Compares a finished run's (and its closure's) Temporal history with the audit log. */
export async function checkAuditCoverage(client: Client, db: Db, executionId: string): Promise<Coverage> {
  const closureId = `closure:${executionId}`;
  const facts = factsOf('run', (await client.workflow.getHandle(executionId).fetchHistory()).events ?? []);
  try {
    facts.push(...factsOf('closure', (await client.workflow.getHandle(closureId).fetchHistory()).events ?? []));
  } catch (err) {
    // no closure for this run (the history API answers gRPC NOT_FOUND = 5)
    if (!(err instanceof WorkflowNotFoundError) && (err as { code?: number }).code !== 5) throw err;
  }
  const rows = await db
    .select()
    .from(auditLog)
    .where(inArray(auditLog.executionId, [executionId, closureId]))
    .orderBy(asc(auditLog.seq));
  const audit: AuditFact[] = rows.map((r) => ({
    source: r.executionId === closureId ? 'closure' : 'run',
    kind: r.kind,
    task: r.task,
    detail: r.detail as Record<string, unknown>,
  }));
  return auditCoverage(facts, audit);
}
