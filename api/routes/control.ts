import { Router, type Request } from 'express';
import { and, asc, eq } from 'drizzle-orm';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { toMermaid } from '../../dsl/index.js';
import type { Db } from '../../store/db.js';
import type { RunRepo } from '../../store/runs-repo.js';
import { auditLog } from '../../store/schema.js';
import { SA, contextQuery, pauseSignal, resumeSignal } from '../../contracts/definitions.js';
import type { RunSummary, TaskflowInput } from '../../contracts/run.js';
import { requireRole } from '../auth.js';
import { body } from '../body-schemas.js';
import { ApiError, notFound } from '../errors.js';
import { retryRun } from './retry.js';

export interface ControlDeps {
  db: Db;
  runs: RunRepo;
  client: Client;
  taskQueue: string;
}

const SECRET_MASK = '***';

/** The run's own input (pinned graph and parameters), read from the first event of its history. */
async function originalInput(client: Client, executionId: string): Promise<TaskflowInput> {
  const history = await client.workflow.getHandle(executionId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new ApiError(409, 'no_input', `the history of '${executionId}' has no input`);
  return defaultPayloadConverter.fromPayload(payload) as TaskflowInput;
}

/** Pause, resume, cancel, retry; task runs, graph, context and history of one execution (tenant-scoped). */
export function controlRoutes(deps: ControlDeps): Router {
  const r = Router();
  const runOf = async (req: Request) => {
    const id = String(req.params.id);
    const row = await deps.runs.get(req.principal!.tenant, id);
    if (!row) throw notFound(`execution '${id}'`);
    return row;
  };
  /**
   * For control: the indexed run, or else a run Temporal knows that the index never saw (its first
   * bookkeeping write failed): every run can be paused, resumed and cancelled, indexed or not.
   */
  const controllable = async (req: Request): Promise<{ executionId: string; endedAt: string | null; status: string }> => {
    const id = String(req.params.id);
    const tenant = req.principal!.tenant;
    const row = await deps.runs.get(tenant, id);
    if (row) return { executionId: row.executionId, endedAt: row.endedAt, status: row.status };
    if (!id.startsWith(`run:${tenant}:`)) throw notFound(`execution '${id}'`);
    const described = await deps.client.workflow
      .getHandle(id)
      .describe()
      .catch((err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return null;
        throw err;
      });
    if (!described || described.typedSearchAttributes.get(SA.tenant) !== tenant) throw notFound(`execution '${id}'`);
    const running = described.status.name === 'RUNNING';
    return { executionId: id, endedAt: running ? null : (described.closeTime?.toISOString() ?? 'ended'), status: described.status.name.toLowerCase() };
  };
  const signal = (name: 'pause' | 'resume') => async (req: Request, res: import('express').Response) => {
    const row = await controllable(req);
    if (row.endedAt) throw new ApiError(409, 'not_running', `execution '${row.executionId}' has already ended (${row.status})`);
    await deps.client.workflow.getHandle(row.executionId).signal(name === 'pause' ? pauseSignal : resumeSignal);
    res.status(202).json({ execution_id: row.executionId, requested: name });
  };
  r.post('/v1/executions/:id/pause', requireRole('operator'), body('NoBody'), signal('pause'));
  r.post('/v1/executions/:id/resume', requireRole('operator'), body('NoBody'), signal('resume'));
  r.post('/v1/executions/:id/cancel', requireRole('operator'), body('NoBody'), async (req, res) => {
    const row = await controllable(req);
    if (row.endedAt) throw new ApiError(409, 'not_running', `execution '${row.executionId}' has already ended (${row.status})`);
    await deps.client.workflow.getHandle(row.executionId).cancel();
    res.status(202).json({ execution_id: row.executionId, requested: 'cancel' });
  });

  r.post('/v1/executions/:id/retry', requireRole('operator'), body('RetryRequest'), async (req, res) => {
    const row = await runOf(req);
    const input = (id: string) => originalInput(deps.client, id);
    res.status(202).json(await retryRun({ ...deps, index: (r) => deps.runs.started(r) }, req, row, input));
  });

  r.get('/v1/executions/:id/tasks', requireRole('viewer'), async (req, res) => {
    const row = await runOf(req);
    const rows = await deps.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.executionId, row.executionId), eq(auditLog.tenant, row.tenant)))
      .orderBy(asc(auditLog.seq));
    const runs = new Map<string, Record<string, unknown>>();
    for (const a of rows) {
      if (!a.task) continue;
      const d = a.detail as Record<string, unknown>;
      const key = `${a.task}#${String(d.run ?? '')}`;
      if (a.kind === 'task.started')
        runs.set(key, { task: a.task, run: d.run, action: d.action, status: 'running', attempts: [], started_at: a.at, ended_at: null, error: null });
      const entry = runs.get(key);
      if (!entry) continue;
      if (a.kind === 'task.attempt')
        (entry.attempts as unknown[]).push({
          attempt: d.attempt,
          status: d.status,
          ...(d.index !== undefined ? { index: d.index } : {}),
          ...(d.error ? { error: d.error } : {}),
          at: a.at,
        });
      if (a.kind === 'task.completed') Object.assign(entry, { status: d.status, ended_at: a.at, error: d.error ?? null });
    }
    res.json({ execution_id: row.executionId, task_runs: [...runs.values()] });
  });

  r.get('/v1/executions/:id/graph', requireRole('viewer'), async (req, res) => {
    const row = await runOf(req);
    const { workflow } = await originalInput(deps.client, row.executionId);
    const summary = row.summary as RunSummary | null;
    const status = Object.fromEntries((summary?.tasks ?? []).map((t) => [t.name, t.status]));
    if (req.query.format === 'mermaid') res.type('text/plain').send(toMermaid(workflow, status));
    else
      res.json({
        workflow: workflow.ref,
        version: workflow.version,
        entry: workflow.entry,
        tasks: Object.values(workflow.tasks).map((t) => ({
          name: t.name,
          action: t.action ?? t.type,
          status: status[t.name] ?? 'not_run',
          next: [...t.transitions.flatMap((x) => x.do), ...(t.decision ?? []).map((d) => d.next)],
        })),
      });
  });

  r.get('/v1/executions/:id/context', requireRole('viewer'), async (req, res) => {
    const row = await runOf(req);
    if (!row.endedAt) {
      try {
        res.json(await deps.client.workflow.getHandle(row.executionId).query(contextQuery));
        return;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError))
          throw new ApiError(503, 'unavailable', `the run's worker did not answer: ${(err as Error).message}`, [], 5);
      }
    }
    // an ended run's context is in the database, its secret parameters already masked: no Temporal call
    const ctx = (row.context ?? {}) as { vars?: unknown; parameters?: Record<string, unknown> };
    const secrets = row.endedAt ? [] : (await originalInput(deps.client, row.executionId)).workflow.secretParameters;
    res.json({
      vars: ctx.vars ?? {},
      parameters: Object.fromEntries(Object.entries(ctx.parameters ?? {}).map(([k, v]) => [k, secrets.includes(k) ? SECRET_MASK : v])),
    });
  });

  r.get('/v1/executions/:id/history', requireRole('viewer'), async (req, res) => {
    const row = await runOf(req);
    const history = await deps.client.workflow.getHandle(row.executionId).fetchHistory();
    res.type('application/json').send(historyToJSON(history));
  });
  return r;
}
