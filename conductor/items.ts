import type { CompiledTask } from '../dsl/types.js';
import { TaskFailure } from './errors.js';
import type { Outcome } from './records.js';
import type { TaskError } from '../contracts/run.js';
import { FAILURE } from '../contracts/failures.js';

type RunOne = (item: unknown, index: number) => Promise<{ result: unknown; attempts: number }>;

export function tolerated(spec: number | string | undefined, total: number): number {
  if (spec === undefined) return 0;
  if (typeof spec === 'number') return spec;
  return Math.floor((Number.parseFloat(spec) / 100) * total);
}

/** with_items: consecutive batches, or a sliding window of `concurrency`; results stay in item order. */
export async function runItems(
  task: CompiledTask,
  items: unknown[],
  maxParallel: number,
  runOne: RunOne,
  opts: { tolerateAll?: boolean } = {},
): Promise<Outcome> {
  const results: unknown[] = new Array(items.length).fill(null);
  const failed: { index: number; item: unknown; error: TaskError }[] = [];
  let attempts = 0;
  const one = async (index: number) => {
    try {
      const r = await runOne(items[index], index);
      results[index] = r.result;
      attempts += r.attempts;
    } catch (err) {
      if (!(err instanceof TaskFailure)) throw err;
      failed.push({ index, item: items[index], error: err.error });
      attempts += (err as TaskFailure & { attempts?: number }).attempts ?? 1;
    }
  };
  if (task.batch_size) {
    for (let start = 0; start < items.length; start += task.batch_size) {
      const batch = items.slice(start, start + task.batch_size).map((_, i) => start + i);
      await Promise.all(batch.map(one));
    }
  } else {
    const width = Math.max(1, Math.min(task.concurrency ?? maxParallel, maxParallel, items.length));
    let next = 0;
    await Promise.all(
      Array.from({ length: width }, async () => {
        while (next < items.length) await one(next++);
      }),
    );
  }
  failed.sort((a, b) => a.index - b.index);
  const counts = { total: items.length, succeeded: items.length - failed.length, failed: failed.length };
  const ok = opts.tolerateAll || failed.length <= tolerated(task.tolerated_failures, items.length);
  return {
    status: ok ? 'succeeded' : 'failed',
    result: results,
    results,
    failed_items: failed,
    items: counts,
    attempts,
    error: ok ? null : { type: FAILURE.itemsFailed, message: `${failed.length} of ${items.length} items failed; first: ${failed[0]?.error.message ?? ''}` },
  };
}
