import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import type { Client } from '@temporalio/client';
import type { Db } from '../../store/db.js';
import type { RunRepo } from '../../store/runs-repo.js';
import type { RunSummary, TaskRecord, TaskflowInput } from '../../contracts/run.js';
import { ApiError } from '../errors.js';
import { startRun, type StartedRun } from '../start-run.js';
import { secretWriter } from '../../store/kv-repo.js';

type RunRow = NonNullable<Awaited<ReturnType<RunRepo['get']>>>;
type Resume = NonNullable<TaskflowInput['resume']>;

export interface RetryBody {
  from?: string[];
  parameters?: Record<string, unknown>;
  items?: 'failed';
}

/**
 * A new run of a finished one on its pinned version: from the failed tasks (or `from`), with the
 * earlier variables and task records; `parameters` override the earlier ones (validated again);
 * `items: "failed"` keeps the results of the items that succeeded and re-runs the others.
 */
export async function retryRun(
  deps: { db: Db; client: Client; taskQueue: string; index: (row: import('../../contracts/audit.js').RunIndexRow) => Promise<void> },
  req: Request,
  row: RunRow,
  inputOf: (executionId: string) => Promise<TaskflowInput>,
): Promise<StartedRun & { retry_of: string; from: string[] }> {
  if (!row.endedAt || row.status === 'succeeded')
    throw new ApiError(409, 'not_retryable', `execution '${row.executionId}' is ${row.status}: only failed, timed out or cancelled runs can be retried`);
  const original = await inputOf(row.executionId);
  const summary = row.summary as RunSummary;
  const context = (row.context ?? { vars: {}, task: {} }) as { vars?: Record<string, unknown>; task?: Resume['task'] };
  const body = (req.body ?? {}) as RetryBody;
  const from = Array.isArray(body.from)
    ? body.from.map(String)
    : summary.tasks.filter((t) => ['failed', 'timed_out', 'cancelled'].includes(t.status)).map((t) => t.name);
  const unknown = from.filter((t) => !original.workflow.tasks[t]);
  if (unknown.length) throw new ApiError(400, 'bad_request', `unknown task(s) in 'from': ${unknown.join(', ')}`, [{ location: 'body.from' }]);
  if (!from.length) throw new ApiError(400, 'bad_request', "no failed task to retry from: pass 'from'", [{ location: 'body.from' }]);
  const items = body.items === 'failed' ? failedItems(from, context.task ?? {}) : undefined;
  const started = await startRun(deps.client, {
    workflow: original.workflow,
    parameters: body.parameters ? { ...original.parameters, ...body.parameters } : original.parameters,
    tenant: req.principal!.tenant,
    taskQueue: deps.taskQueue,
    startedBy: req.principal!.keyId,
    idempotencyKey: `${row.executionId.split(':').slice(2).join(':')}:retry-${randomUUID().slice(0, 8)}`,
    resume: { retry_of: row.executionId, from, vars: context.vars ?? {}, task: context.task ?? {}, ...(items ? { items } : {}) },
    storeSecret: secretWriter(deps.db),
    index: deps.index,
  });
  return { ...started, retry_of: row.executionId, from };
}

/** The earlier results and failed indexes of each with_items task in `from` that has failed items. */
function failedItems(from: string[], records: Record<string, TaskRecord>): NonNullable<Resume['items']> {
  const out: NonNullable<Resume['items']> = {};
  for (const name of from) {
    const r = records[name];
    if (!r?.failed_items?.length) continue;
    if (!Array.isArray(r.results) || !Array.isArray(r.failed_items))
      throw new ApiError(409, 'items_unavailable', `task '${name}' ran too many items for its results to be kept: retry the whole task instead`, [
        { location: 'body.items' },
      ]);
    out[name] = { results: r.results, failed: r.failed_items.map((f) => f.index) };
  }
  if (!Object.keys(out).length)
    throw new ApiError(400, 'bad_request', `no task in 'from' (${from.join(', ')}) has failed items: retry without 'items'`, [{ location: 'body.items' }]);
  return out;
}
