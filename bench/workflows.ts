// The bench bundle: the real interpreter plus hand-written native baselines doing the same work.
import { continueAsNew, executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { CoreActivities } from '../activities/types.js';

export { taskflow } from '../workflows/index.js';

const acts = proxyActivities<CoreActivities>({ startToCloseTimeout: '30s' });
const call = (i: number) =>
  acts.runAction({
    call: { ref: 'bench.work', input: { n: i } },
    meta: { attempt: 1, idempotencyKey: `k${i}`, tenant: 'bench', executionId: 'native', task: 'native' },
  });

/** N activities one after another. */
export async function nativeSequential(n: number): Promise<number> {
  for (let i = 0; i < n; i++) await call(i);
  return n;
}

/** `items` activities, `width` in flight, in child workflows of `shard` items (as taskflow shards). */
export async function nativeItems(items: number, width: number, shard: number): Promise<number> {
  let done = 0;
  for (let offset = 0; offset < items; offset += shard) done += await executeChild(nativeShard, { args: [offset, Math.min(shard, items - offset), width] });
  return done;
}

export async function nativeShard(offset: number, count: number, width: number): Promise<number> {
  const results: unknown[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await call(offset + i);
      }
    }),
  );
  return results.length;
}

/** A loop of `left` activities, continuing as new when Temporal suggests it (the native baseline of bench:loop). */
export async function nativeLoop(left: number, done: number): Promise<number> {
  while (left > 0) {
    await call(done);
    left--;
    done++;
    if (left > 0 && workflowInfo().continueAsNewSuggested) await continueAsNew<typeof nativeLoop>(left, done);
  }
  return done;
}

/** The hand-written equivalent of one event's run in bench:events: the same single activity, nothing else. */
export async function nativeOnEvent(seq: number): Promise<unknown> {
  return call(seq);
}
