import { sql } from 'drizzle-orm';
import type { Store } from '../store/db.js';
import { auditLog, inquiries, runs } from '../store/schema.js';
import { schemaProblems } from '../dsl/ajv.js';
import type { AuditRow, InquiryRow, RunIndexRow } from './types.js';
import { eq } from 'drizzle-orm';
import { toStorable } from '../dsl/text.js';
import { runColumns } from '../store/runs-repo.js';
import { workerMetrics } from './metrics.js';
import { emitEvents, type OutEvent, type Publisher } from './events-out.js';

export function bookkeepingActivities(store: Store, publish?: Publisher) {
  const self = {
    /** Idempotent on (execution_id, seq): a retried write after a crash adds nothing twice. */
    async recordAudit(rows: AuditRow[]): Promise<void> {
      if (!rows.length) return;
      const written = await store.db
        .insert(auditLog)
        .values(
          rows.map((r) => ({
            executionId: r.execution_id,
            tenant: r.tenant,
            seq: r.seq,
            kind: r.kind,
            task: r.task,
            detail: toStorable(r.detail) as Record<string, unknown>,
            at: r.at,
          })),
        )
        .onConflictDoNothing()
        .returning({ seq: auditLog.seq });
      // metrics only for rows written now: a retried write is not counted twice
      const fresh = new Set(written.map((w) => w.seq));
      const out: OutEvent[] = [];
      const now = Date.now();
      for (const r of rows) {
        if (!fresh.has(r.seq)) continue;
        workerMetrics().auditDelay.record(Math.max(0, now - Date.parse(r.at)) / 1000, { tenant: r.tenant });
        if (r.kind === 'task.completed') {
          out.push({
            key: `${r.execution_id}#${r.seq}`,
            tenant: r.tenant,
            type: 'agent.task.completed',
            payload: {
              execution_id: r.execution_id,
              task: r.task,
              run: r.detail.run ?? null,
              status: r.detail.status,
              attempts: r.detail.attempts ?? null,
              error: r.detail.error ?? null,
            },
          });
          const ok = r.detail.status === 'succeeded';
          (ok ? workerMetrics().nodeSuccess : workerMetrics().nodeFailure).add(1, { tenant: r.tenant, ...(ok ? {} : { status: String(r.detail.status) }) });
        } else if (r.kind === 'task.started' && typeof r.detail.event_received_at === 'string') {
          workerMetrics().latency.record(Math.max(0, Date.parse(r.at) - Date.parse(r.detail.event_received_at)) / 1000, { tenant: r.tenant });
        }
      }
      await emitEvents(store, publish, out);
    },
    async indexRun(row: RunIndexRow): Promise<void> {
      const values = {
        ...runColumns(row),
        summary: toStorable(row.summary),
        context: toStorable(row.context ?? null),
      };
      await store.db
        .insert(runs)
        .values(values)
        .onConflictDoUpdate({
          target: runs.executionId,
          set: { status: values.status, endedAt: values.endedAt, summary: values.summary, context: values.context, updatedAt: sql`now()` },
        });
      if (row.ended_at) {
        workerMetrics().runsCompleted.add(1, { tenant: row.tenant, workflow: row.workflow_ref, status: row.status });
        const s = row.summary as { status?: string; error?: unknown; output?: unknown } | null;
        await emitEvents(store, publish, [
          {
            key: `${row.execution_id}#completed#${row.ended_at}`,
            tenant: row.tenant,
            type: 'plugin.workflow.completed',
            payload: {
              execution_id: row.execution_id,
              workflow: row.workflow_ref,
              version: row.workflow_version,
              status: row.status,
              started_at: row.started_at,
              ended_at: row.ended_at,
              error: s?.error ?? null,
            },
          },
        ]);
      }
    },
    async recordInquiry(row: InquiryRow): Promise<void> {
      await store.db
        .insert(inquiries)
        .values({
          id: row.id,
          tenant: row.tenant,
          executionId: row.execution_id,
          task: row.task,
          prompt: row.prompt,
          schema: row.schema,
          assignedTo: row.assigned_to,
          status: 'pending',
          deadline: row.deadline,
        })
        .onConflictDoNothing();
    },
    async resolveInquiry(input: { id: string; status: 'responded' | 'timed_out'; response?: unknown; by?: string | null }): Promise<void> {
      await store.db
        .update(inquiries)
        .set({ status: input.status, response: toStorable(input.response ?? null), respondedBy: input.by ?? null, updatedAt: sql`now()` })
        .where(eq(inquiries.id, input.id));
    },
    async checkOutput(input: { schema: Record<string, unknown>; output: unknown }): Promise<string[]> {
      // an optional output left null was not produced (a path that never made the value): as absent, not as a wrong type
      const required = new Set(Array.isArray(input.schema.required) ? (input.schema.required as string[]) : []);
      const o = input.output;
      const produced =
        o && typeof o === 'object' && !Array.isArray(o) ? Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== null || required.has(k))) : o;
      return schemaProblems(input.schema, produced, 'output');
    },
    async recordRun(input: { rows: AuditRow[]; index: RunIndexRow }): Promise<void> {
      await self.recordAudit(input.rows);
      await self.indexRun(input.index);
    },
  };
  return self;
}
