import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../store/group-commit.js';

/** A writer whose statements finish when the test says so; records each statement's requests. */
function gatedWriter(fail?: (req: number) => boolean) {
  const statements: number[][] = [];
  const gates: (() => void)[] = [];
  const write = async (reqs: number[]) => {
    statements.push(reqs);
    await new Promise<void>((resolve) => gates.push(resolve));
    if (fail && reqs.some(fail)) throw new Error(`bad request in ${reqs.join(',')}`);
    return reqs.map((r) => r * 10);
  };
  const open = async () => {
    while (gates.length) gates.shift()!();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { statements, write, open };
}

describe('group commit', () => {
  it('writes at once when nothing is in flight, and gathers what arrives meanwhile into one statement', async () => {
    const w = gatedWriter();
    const g = new GroupCommit(w.write);
    const first = g.submit(1);
    const rest = [2, 3, 4].map((n) => g.submit(n));
    expect(w.statements).toEqual([[1]]);
    await w.open();
    expect(await first).toBe(10);
    expect(w.statements).toEqual([[1], [2, 3, 4]]);
    await w.open();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it('keeps at most `inFlight` statements going and at most `maxBatch` requests in one', async () => {
    const w = gatedWriter();
    const g = new GroupCommit(w.write, { inFlight: 2, maxBatch: 2 });
    const all = [1, 2, 3, 4, 5].map((n) => g.submit(n));
    expect(w.statements).toEqual([[1], [2]]);
    await w.open();
    expect(w.statements).toEqual([[1], [2], [3, 4], [5]]);
    await w.open();
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40, 50]);
  });

  it('a failing request fails alone: its batch is written again one request at a time', async () => {
    const w = gatedWriter((r) => r === 3);
    const g = new GroupCommit(w.write);
    const first = g.submit(1);
    const rest = [2, 3, 4].map((n) => g.submit(n).catch((e: Error) => e.message));
    await w.open();
    await first;
    await w.open(); // the batch fails; its requests go again, side by side
    expect(w.statements).toEqual([[1], [2, 3, 4], [2], [3], [4]]);
    await w.open();
    expect(await Promise.all(rest)).toEqual([20, 'bad request in 3', 40]);
  });
});
