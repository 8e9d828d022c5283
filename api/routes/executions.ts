import { Router } from 'express';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { RunRepo } from '../../store/runs-repo.js';
import { SA, stateQuery } from '../../contracts/definitions.js';
import type { RunSummary } from '../../contracts/run.js';
import { requireRole } from '../auth.js';
import { ApiError, notFound } from '../errors.js';
import { checkAuditCoverage } from '../audit-check.js';
import { asOutage } from '../outages.js';
import type { Db } from '../../store/db.js';
import type { Coverage } from '../../dsl/audit-coverage.js';

export function executionRoutes(deps: { runs: RunRepo; client: Client; db: Db }): Router {
  const r = Router();
  // an ended run's history and audit no longer change (except a closure still supplementing): cache by update time
  const coverage = new Map<string, { at: string; value: Coverage | null }>();
  const auditOf = async (id: string, updatedAt: string): Promise<Coverage | null> => {
    const hit = coverage.get(id);
    if (hit?.at === updatedAt) return hit.value;
    let value: Coverage | null;
    try {
      value = await checkAuditCoverage(deps.client, deps.db, id);
    } catch (err) {
      // Temporal down: the summary is still served from the database, the coverage is unknown this time
      if (asOutage(err)) return null;
      value = null; // history past retention: unknown for good
    }
    if (coverage.size > 1000) coverage.delete(coverage.keys().next().value!);
    coverage.set(id, { at: updatedAt, value });
    return value;
  };

  r.get('/v1/executions', requireRole('viewer'), async (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    if (q.tenant && q.tenant !== req.principal!.tenant) {
      res.json({ executions: [], next_cursor: null });
      return;
    }
    const limit = Math.min(Number(q.limit ?? 50) || 50, 500);
    const rows = await deps.runs.list(req.principal!.tenant, {
      ...(q.status ? { status: q.status } : {}),
      ...(q.workflow ? { workflow: q.workflow } : {}),
      ...(q.strategy ? { strategy: q.strategy } : {}),
      ...(q.q ? { search: q.q } : {}),
      ...(q.cursor ? { before: Buffer.from(q.cursor, 'base64url').toString() } : {}),
      limit,
    });
    const last = rows.length === limit ? rows.at(-1) : undefined;
    res.json({ executions: rows, next_cursor: last ? Buffer.from(String(last.started_at)).toString('base64url') : null });
  });

  /** Finished runs come from the runs index; running ones from the workflow's `state` query. */
  r.get('/v1/executions/:id', requireRole('viewer'), async (req, res) => {
    const tenant = req.principal!.tenant;
    const id = String(req.params.id);
    const row = await deps.runs.get(tenant, id);
    if (row?.summary) {
      // `audit`: the audit log checked against the Temporal history (coverage 1 = every fact has its row)
      res.json({ ...(row.summary as object), audit: req.query.audit === 'false' ? undefined : await auditOf(id, row.updatedAt) });
      return;
    }
    if (!row && !id.startsWith(`run:${tenant}:`)) throw notFound(`execution '${id}'`);
    try {
      // a query waits for a worker: without one it would hang, so it gets one second (then a describe gets its own)
      const summary = (await deps.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
        deps.client.workflow.getHandle(id).query(stateQuery),
      )) as RunSummary;
      if (summary.tenant !== tenant) throw notFound(`execution '${id}'`);
      res.json(summary);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (err instanceof WorkflowNotFoundError) throw notFound(`execution '${id}'`);
      // no worker answered: what the index, or else Temporal, knows of the run
      const basics = row
        ? { workflow: row.workflowRef, version: row.workflowVersion, status: row.status, started_at: row.startedAt, ended_at: row.endedAt }
        : await describedBasics(deps.client, id, tenant);
      if (!basics) throw notFound(`execution '${id}'`);
      res.json({ id, ...basics, tenant, output: null, error: null, tasks: [], closure: null });
    }
  });
  return r;
}

const QUERY_DEADLINE_MS = 1000;
const DESCRIBE_DEADLINE_MS = 1000;

/** A run the index never saw (its first write failed or no worker ever took it), as Temporal describes it. */
async function describedBasics(client: Client, id: string, tenant: string) {
  const d = await client
    .withDeadline(Date.now() + DESCRIBE_DEADLINE_MS, () => client.workflow.getHandle(id).describe())
    .catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err; // Temporal itself is down: a 503 from the error handler, not a 404
    });
  if (!d || d.typedSearchAttributes.get(SA.tenant) !== tenant) return null;
  return {
    workflow: d.typedSearchAttributes.get(SA.workflow) ?? null,
    version: null,
    status: d.status.name === 'RUNNING' ? 'running' : d.status.name.toLowerCase(),
    started_at: d.startTime.toISOString(),
    ended_at: d.closeTime?.toISOString() ?? null,
  };
}
