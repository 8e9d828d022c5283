import { sql } from 'drizzle-orm';
import { rowsOf, type Store } from '../store/db.js';
import { inquiries } from '../store/schema.js';
import { schemaProblems } from '../dsl/ajv.js';
import type { AuditRow, InquiryRow, RunIndexRow } from './types.js';
import { eq } from 'drizzle-orm';
import { toStorable } from '../dsl/text.js';
import { workerMetrics } from './metrics.js';
import { publishFresh, type OutEvent, type Publisher } from './events-out.js';
import { recordRunStatement } from './record-run.js';
import { GroupCommit } from '../store/group-commit.js';

/** Counts what the rows written now say (a retried write is not counted twice). */
function afterAudit(rows: AuditRow[], fresh: Set<number>): void {
  const now = Date.now();
  for (const r of rows) {
    if (!fresh.has(r.seq)) continue;
    workerMetrics().auditDelay.record(Math.max(0, now - Date.parse(r.at)) / 1000, { tenant: r.tenant });
    if (r.kind === 'task.completed') {
      const ok = r.detail.status === 'succeeded';
      (ok ? workerMetrics().nodeSuccess : workerMetrics().nodeFailure).add(1, { tenant: r.tenant, ...(ok ? {} : { status: String(r.detail.status) }) });
    } else if (r.kind === 'task.started' && typeof r.detail.event_received_at === 'string') {
      workerMetrics().latency.record(Math.max(0, Date.parse(r.at) - Date.parse(r.detail.event_received_at)) / 1000, { tenant: r.tenant });
    }
  }
}

/** `agent.task.completed` for each task.completed row; keyed by row, so writing them again adds nothing. */
const taskEvents = (rows: AuditRow[]): OutEvent[] =>
  rows
    .filter((r) => r.kind === 'task.completed')
    .map((r) => ({
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
    }));

/** `plugin.workflow.completed` for an ended run. */
function completionEvent(row: RunIndexRow): OutEvent {
  const s = row.summary as { status?: string; error?: unknown; output?: unknown } | null;
  return {
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
  };
}

type Write = { rows: AuditRow[]; run: RunIndexRow | null; outs: OutEvent[] };
type Written = { what: string; seq: number | null; id: number | string | null; key: string | null; created_at: string | null };

export function bookkeepingActivities(store: Store, publish?: Publisher) {
  /** The writes that meet go as one statement; each caller gets back which of its audit rows and events out were new. */
  const statements = new GroupCommit<Write, { fresh: Set<string>; out: Map<string, { id: number; createdAt: string }> }>(
    async (writes) => {
      const outs = writes.flatMap((w) => w.outs);
      const runs = writes.flatMap((w) => (w.run ? [w.run] : []));
      const written = await rowsOf<Written>(
        store,
        recordRunStatement(
          writes.flatMap((w) => w.rows),
          runs,
          outs,
        ),
      );
      const fresh = new Set(written.filter((w) => w.what === 'audit').map((w) => `${w.key}#${w.seq}`));
      const out = new Map(written.filter((w) => w.what === 'out').map((w) => [w.key!, { id: Number(w.id), createdAt: w.created_at! }]));
      return writes.map(() => ({ fresh, out }));
    },
    { inFlight: 2 },
  );
  /** Audit rows, with or without the run's index row, and their events out, in one statement; then metrics and the bus. */
  const write = async (rows: AuditRow[], run: RunIndexRow | null) => {
    const outs = [...taskEvents(rows), ...(run?.ended_at ? [completionEvent(run)] : [])];
    const { fresh, out } = await statements.submit({ rows, run, outs });
    afterAudit(rows, new Set(rows.filter((r) => fresh.has(`${r.execution_id}#${r.seq}`)).map((r) => r.seq)));
    const mine = outs.flatMap((e) => (out.has(e.key) ? [{ key: e.key, ...out.get(e.key)! }] : []));
    await publishFresh(store, publish, outs, mine);
    if (run?.ended_at) workerMetrics().runsCompleted.add(1, { tenant: run.tenant, workflow: run.workflow_ref, status: run.status });
  };
  const self = {
    /** Idempotent on (execution_id, seq): a retried write after a crash adds nothing twice. */
    async recordAudit(rows: AuditRow[]): Promise<void> {
      if (rows.length) await write(rows, null);
    },
    /** The run's index row (and, once it ended, its completion event out): the same statement with no audit rows. */
    async indexRun(row: RunIndexRow): Promise<void> {
      await write([], row);
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
    /**
     * A run's last rows, its index row and the events out they make, in one statement: the write a
     * run ends with costs one round trip to the database instead of four.
     */
    async recordRun(input: { rows: AuditRow[]; index: RunIndexRow }): Promise<void> {
      await write(input.rows, input.index);
    },
  };
  return self;
}
