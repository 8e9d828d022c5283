import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import type { RunIndexRow } from '../contracts/audit.js';
import { runs } from './schema.js';

/** A runs-index row as its table's columns (the run's own writes and its starter's share it). */
export const runColumns = (row: RunIndexRow) => ({
  executionId: row.execution_id,
  tenant: row.tenant,
  workflowRef: row.workflow_ref,
  workflowVersion: row.workflow_version,
  status: row.status,
  startedAt: row.started_at,
  endedAt: row.ended_at,
});

export class RunRepo {
  constructor(private readonly db: Db) {}

  async get(tenant: string, executionId: string) {
    const [row] = await this.db
      .select()
      .from(runs)
      .where(and(eq(runs.tenant, tenant), eq(runs.executionId, executionId)));
    return row ?? null;
  }

  /** Newest first; `strategy` is the strategy id (any version), `search` a part of the execution id. */
  async list(tenant: string, filters: { status?: string; workflow?: string; strategy?: string; search?: string; before?: string; limit: number }) {
    return this.db
      .select({
        id: runs.executionId,
        workflow: runs.workflowRef,
        version: runs.workflowVersion,
        status: runs.status,
        started_at: runs.startedAt,
        ended_at: runs.endedAt,
        strategy: sql<string | null>`${runs.summary}->>'strategy'`,
      })
      .from(runs)
      .where(
        and(
          eq(runs.tenant, tenant),
          filters.status ? eq(runs.status, filters.status) : undefined,
          filters.workflow ? eq(runs.workflowRef, filters.workflow) : undefined,
          filters.strategy ? sql`split_part(${runs.summary}->>'strategy', '@', 1) = ${filters.strategy}` : undefined,
          filters.search ? sql`strpos(${runs.executionId}, ${filters.search}) > 0` : undefined,
          filters.before ? lt(runs.startedAt, filters.before) : undefined,
        ),
      )
      .orderBy(desc(runs.startedAt))
      .limit(filters.limit);
  }

  /** The rows of runs just started (`running`), in one statement; a row a run already wrote (it may have ended) stays as it is. */
  async started(...rows: RunIndexRow[]): Promise<void> {
    if (!rows.length) return;
    await this.db.insert(runs).values(rows.map(runColumns)).onConflictDoNothing();
  }
}
