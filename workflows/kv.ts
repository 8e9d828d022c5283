import { proxyActivities } from '@temporalio/workflow';
import { kvGetKeys } from '../dsl/expr/kv-keys.js';
import type { CompiledTask } from '../dsl/types.js';
import type { CoreActivities } from '../activities/types.js';

const kvStore = (task: string) =>
  proxyActivities<CoreActivities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5 },
    summary: `kv: ${task}`,
  });

/** `kv.get` values are read through an activity when the task that needs them starts (keys found once per task). */
export async function readKv(values: Map<string, unknown>, keysByTask: Map<string, string[]>, task: CompiledTask, tenant: string): Promise<void> {
  let keys = keysByTask.get(task.name);
  if (!keys) {
    keys = [...kvGetKeys([task.input, task.when, task.with_items, task.publish, task.transitions.map((t) => [t.when, t.publish]), task.retry?.on_error])];
    keysByTask.set(task.name, keys);
  }
  if (!keys.length) return;
  const read = await kvStore(task.name).kvGet({ tenant, keys });
  for (const k of keys) {
    if (k in read) values.set(k, read[k]);
    else values.delete(k);
  }
}
