// with_items scheduling (batches, a concurrency window, tolerated failures) and the retry policy, without a server.
import { describe, expect, it } from 'vitest';
import { runItems, tolerated } from '../../conductor/items.js';
import { TaskFailure } from '../../conductor/errors.js';
import { nextRetry } from '../../dsl/retry.js';
import type { CompiledTask, RetrySpec } from '../../dsl/types.js';

const task = (extra: Partial<CompiledTask> = {}): CompiledTask => ({
  name: 'each',
  type: 'action',
  action: 'x.do',
  publish: [],
  transitions: [],
  inbound: [],
  line: 1,
  col: 1,
  ...extra,
});

/** Runs items with a fake action that records how many run at once; `fails` lists the indexes that fail. */
async function items(n: number, t: CompiledTask, fails: number[] = [], maxParallel = 100) {
  let inFlight = 0;
  let peak = 0;
  const order: number[] = [];
  const outcome = await runItems(
    t,
    Array.from({ length: n }, (_, i) => `item${i}`),
    maxParallel,
    async (item, index) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      order.push(index);
      await new Promise((r) => setTimeout(r, 1 + ((index * 7) % 5)));
      inFlight--;
      if (fails.includes(index)) throw Object.assign(new TaskFailure({ type: 'X', message: `item ${index} broke` }), { attempts: 2 });
      return { result: `${item}!`, attempts: 1 };
    },
  );
  return { outcome, peak, order };
}

describe('with_items', () => {
  it('keeps results in item order whatever order items end in, and counts attempts', async () => {
    const { outcome, peak } = await items(10, task());
    expect(outcome.status).toBe('succeeded');
    expect(outcome.results).toEqual(Array.from({ length: 10 }, (_, i) => `item${i}!`));
    expect(outcome.items).toEqual({ total: 10, succeeded: 10, failed: 0 });
    expect(peak).toBe(10);
  });

  it('concurrency is a sliding window; max_parallel caps it', async () => {
    expect((await items(12, task({ concurrency: 3 }))).peak).toBe(3);
    expect((await items(12, task({ concurrency: 50 }), [], 4)).peak).toBe(4);
  });

  it('batch_size runs consecutive batches: a batch starts when the one before has ended', async () => {
    const { peak, order } = await items(7, task({ batch_size: 3 }));
    expect(peak).toBe(3);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('fails the task when more items fail than tolerated; failed_items name each, with its error', async () => {
    const failed = await items(10, task(), [2, 7]);
    expect(failed.outcome.status).toBe('failed');
    expect(failed.outcome.failed_items).toEqual([
      { index: 2, item: 'item2', error: { type: 'X', message: 'item 2 broke' } },
      { index: 7, item: 'item7', error: { type: 'X', message: 'item 7 broke' } },
    ]);
    expect(failed.outcome.error!.message).toBe('2 of 10 items failed; first: item 2 broke');
    expect(failed.outcome.attempts).toBe(8 + 2 * 2);
    expect((await items(10, task({ tolerated_failures: '20%' }), [2, 7])).outcome.status).toBe('succeeded');
    expect((await items(10, task({ tolerated_failures: 1 }), [2, 7])).outcome.status).toBe('failed');
    expect(tolerated('10%', 25)).toBe(2);
  });
});

describe('retry policy', () => {
  const spec = (r: Partial<RetrySpec>): RetrySpec => ({ count: 3, delay: 2, backoff: 'constant', ...r });
  const err = { type: 'HttpError' };

  it('constant, linear and exponential delays, capped by max_delay; nothing after count retries', () => {
    expect([1, 2, 3, 4].map((a) => nextRetry(spec({}), a, err, () => true))).toEqual([2, 2, 2, null]);
    expect([1, 2, 3].map((a) => nextRetry(spec({ backoff: 'linear' }), a, err, () => true))).toEqual([2, 4, 6]);
    expect([1, 2, 3].map((a) => nextRetry(spec({ backoff: 'exponential', max_delay: 5 }), a, err, () => true))).toEqual([2, 4, 5]);
  });

  it('on_error decides, with the error in scope; a template error is never retried; no policy, no retry', () => {
    let asked = 0;
    expect(nextRetry(spec({ on_error: '{{ error.type == "timeout" }}' }), 1, err, () => (asked++, false))).toBeNull();
    expect(asked).toBe(1);
    expect(nextRetry(spec({ on_error: 'x' }), 1, err, () => true)).toBe(2);
    expect(nextRetry(spec({}), 1, { type: 'TemplateError' }, () => true)).toBeNull();
    expect(nextRetry(undefined, 1, err, () => true)).toBeNull();
  });
});
