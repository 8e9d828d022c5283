import { ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import { policyFor, type EscalationConfig } from '../dsl/escalation.js';
import type { Store } from '../store/db.js';
import { feedback, incidentEvents, incidents } from '../store/schema.js';
import { SA, TASK_QUEUE } from '../contracts/definitions.js';
import { INCIDENT, alertSignal, incidentWorkflowId, type IncidentInput, type IncidentState } from '../contracts/incident.js';
import { emitEvents, type Publisher } from './events-out.js';
import { workerMetrics } from './metrics.js';
import type { FeedbackInput, OpenIncidentInput } from './types.js';
import { FAILURE } from '../contracts/failures.js';

export interface IncidentDeps {
  store: Store;
  publish?: Publisher;
  escalation: () => EscalationConfig;
  /** Starting incidents needs a Temporal client (workers/ wires it). */
  client?: Client;
  taskQueue?: string;
}

const OUT: Record<string, string> = { opened: 'incident.opened', escalate: 'incident.escalated', resolve: 'incident.resolved' };

export function incidentActivities(deps: IncidentDeps) {
  const { db } = deps.store;
  return {
    /** Upserts the incident row and appends its new events (idempotent on (run, seq)); emits opened/escalated/resolved. */
    async recordIncident(input: { state: Omit<IncidentState, 'events'>; events: IncidentState['events']; policy?: unknown }): Promise<void> {
      const s = input.state;
      const row = {
        runId: s.run_id,
        id: s.id,
        tenant: s.tenant,
        source: s.source,
        sourceId: s.source_id,
        severity: s.severity,
        status: s.status,
        title: s.title,
        rootCause: s.root_cause,
        escalationLevel: s.escalation_level,
        alertCount: s.alert_count,
        attribution: s.attribution,
        policy: input.policy ?? {},
        openedAt: s.opened_at,
        acknowledgedAt: s.acknowledged_at,
        resolvedAt: s.resolved_at,
      };
      await db
        .insert(incidents)
        .values(row)
        .onConflictDoUpdate({
          target: incidents.runId,
          set: {
            status: row.status,
            rootCause: row.rootCause,
            escalationLevel: row.escalationLevel,
            alertCount: row.alertCount,
            acknowledgedAt: row.acknowledgedAt,
            resolvedAt: row.resolvedAt,
            updatedAt: sql`now()`,
          },
        });
      if (!input.events.length) return;
      const fresh = await db
        .insert(incidentEvents)
        .values(
          input.events.map((e) => ({
            runId: s.run_id,
            seq: e.seq,
            tenant: s.tenant,
            kind: e.kind,
            fromStatus: e.from,
            toStatus: e.to,
            by: e.by,
            detail: e.detail,
            at: e.at,
          })),
        )
        .onConflictDoNothing()
        .returning({ seq: incidentEvents.seq });
      const seqs = new Set(fresh.map((f) => f.seq));
      const out = input.events
        .filter((e) => seqs.has(e.seq) && OUT[e.kind])
        .map((e) => ({
          key: `${s.run_id}#${e.seq}`,
          tenant: s.tenant,
          type: OUT[e.kind]!,
          payload: {
            incident_id: s.id,
            run_id: s.run_id,
            severity: s.severity,
            status: e.to,
            from: e.from,
            by: e.by,
            title: s.title,
            source: s.source,
            source_id: s.source_id,
            detail: e.detail,
            attribution: s.attribution,
          },
        }));
      for (const e of input.events)
        if (seqs.has(e.seq) && e.to) {
          workerMetrics().incidentTransitions.add(1, { tenant: s.tenant, to: e.to, severity: s.severity });
          if (e.to === 'acknowledged')
            workerMetrics().incidentAck.record(Math.max(0, Date.parse(e.at) - Date.parse(s.opened_at)) / 1000, { tenant: s.tenant, severity: s.severity });
        }
      await emitEvents(deps.store, deps.publish, out);
    },

    /** One feedback item per source id; a repeat creates nothing and emits nothing. */
    async createFeedback(input: FeedbackInput): Promise<{ created: boolean }> {
      const rows = await db
        .insert(feedback)
        .values({
          sourceId: input.source_id,
          tenant: input.tenant,
          category: input.category,
          sentiment: input.sentiment,
          summary: input.summary,
          attribution: input.attribution,
        })
        .onConflictDoNothing()
        .returning({ id: feedback.id });
      if (!rows.length) return { created: false };
      await emitEvents(deps.store, deps.publish, [
        {
          key: `feedback:${input.source_id}`,
          tenant: input.tenant,
          type: 'feedback.created',
          payload: {
            id: rows[0]!.id,
            source_id: input.source_id,
            category: input.category,
            sentiment: input.sentiment,
            summary: input.summary,
            attribution: input.attribution,
          },
        },
      ]);
      return { created: true };
    },

    /** Signal-with-start: the first alert opens the incident with a policy snapshot, repeats append to it. */
    async openIncident(input: OpenIncidentInput): Promise<{ incident_id: string }> {
      if (!deps.client)
        throw ApplicationFailure.create({
          type: FAILURE.incidentsUnavailable,
          message: 'this worker has no Temporal client to open incidents with',
          nonRetryable: true,
        });
      const workflowId = incidentWorkflowId(input.tenant, input.source, input.source_id);
      const args: IncidentInput = {
        tenant: input.tenant,
        source: input.source,
        source_id: input.source_id,
        severity: input.severity,
        title: input.title,
        ...(input.detail ? { detail: input.detail } : {}),
        attribution: input.attribution,
        policy: policyFor(deps.escalation(), input.tenant, input.policy),
      };
      await deps.client.workflow.signalWithStart(INCIDENT, {
        workflowId,
        taskQueue: deps.taskQueue ?? TASK_QUEUE,
        args: [args],
        signal: alertSignal,
        signalArgs: [{ ...(input.detail ? { detail: input.detail } : {}), severity: input.severity, at: new Date().toISOString() }],
        typedSearchAttributes: [
          { key: SA.tenant, value: input.tenant },
          { key: SA.status, value: 'open' },
        ],
        staticSummary: `${input.severity} incident: ${input.title}`,
      });
      return { incident_id: workflowId };
    },
  };
}
