import { executeChild, setCurrentDetails } from '@temporalio/workflow';
import { childFeatures } from './features.js';
import type { CompiledTask } from '../dsl/types.js';
import { SA, TASKFLOW } from '../contracts/definitions.js';
import type { TaskHost as Engine } from './host.js';
import type { Outcome } from '../conductor/records.js';
import { tolerated } from '../conductor/items.js';
import type { RunSummary, TaskError, TaskflowInput } from '../contracts/run.js';
import { FAILURE } from '../contracts/failures.js';

/** Items per child shard: ~3 history events per item keeps each shard far below 10,240 events. */
export const SHARD_SIZE = 1000;

export interface ShardOutput {
  results: unknown[];
  failed_items: { index: number; item: unknown; error: TaskError }[];
  attempts: number;
}

/**
 * Runs a large with_items task as consecutive child `taskflow` shards of SHARD_SIZE items. Each shard
 * sees the same parameters, variables and task results; the in-flight limit (concurrency, batch_size,
 * max_parallel) holds inside each shard, so it holds for the whole task. Results keep item order.
 */
export async function runShards(e: Engine, task: CompiledTask, run: number, items: unknown[], size: number): Promise<Outcome> {
  const results: unknown[] = new Array(items.length).fill(null);
  const failed: ShardOutput['failed_items'] = [];
  let attempts = 0;
  const shardTask: CompiledTask = { ...task, transitions: [], publish: [], inbound: [] };
  delete shardTask.decision;
  delete shardTask.join;
  delete shardTask.when;
  const { output_map: _o, output: _s, timeout: _t, ...base } = e.wf;
  for (let offset = 0; offset < items.length; offset += size) {
    const slice = items.slice(offset, offset + size);
    const label = `${task.name} [items ${offset + 1}-${offset + slice.length}/${items.length}]`;
    setCurrentDetails(`with_items '${task.name}': shard ${label}`);
    const input: TaskflowInput = {
      workflow: { ...base, tasks: { [task.name]: shardTask }, order: [task.name], entry: [task.name] },
      parameters: e.input.parameters,
      tenant: e.input.tenant,
      ...(e.input.traceId ? { traceId: e.input.traceId } : {}),
      ...(e.input.permissions ? { permissions: e.input.permissions } : {}),
      ...(e.input.strategy ? { strategy: e.input.strategy } : {}),
      ...(e.input.depth ? { depth: e.input.depth } : {}),
      ...(e.input.features ? { features: childFeatures(e.input.features) } : {}),
      resume: { retry_of: e.executionId, from: [task.name], vars: e.ctx.vars, task: e.ctx.task },
      shard: { task: task.name, run, offset, total: items.length, items: slice },
    };
    const summary = (await executeChild(TASKFLOW, {
      workflowId: `${e.executionId}/${task.name}/${run}/items-${offset}`,
      args: [input],
      staticSummary: label,
      typedSearchAttributes: [
        { key: SA.tenant, value: e.input.tenant },
        { key: SA.workflow, value: e.wf.ref },
        { key: SA.status, value: 'running' },
      ],
    })) as RunSummary;
    const out = summary.output as ShardOutput;
    out.results.forEach((r, i) => (results[offset + i] = r));
    failed.push(...out.failed_items);
    attempts += out.attempts;
  }
  setCurrentDetails('');
  failed.sort((a, b) => a.index - b.index);
  const ok = failed.length <= tolerated(task.tolerated_failures, items.length);
  return {
    status: ok ? 'succeeded' : 'failed',
    result: results,
    results,
    failed_items: failed,
    items: { total: items.length, succeeded: items.length - failed.length, failed: failed.length },
    attempts,
    error: ok ? null : { type: FAILURE.itemsFailed, message: `${failed.length} of ${items.length} items failed; first: ${failed[0]?.error.message ?? ''}` },
  };
}
