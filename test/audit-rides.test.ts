import { randomUUID } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../activities/index.js';
import { auditLog } from '../store/schema.js';
import { TASKFLOW } from '../contracts/definitions.js';
import type { TaskflowInput } from '../contracts/run.js';
import type { ActionCall, TaskActivityInput } from '../contracts/activities.js';
import { compile, createHarness, resultOf, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => h?.close());

const chain = (n: number) =>
  `ref: t.rides\nversion: 1.0.0\ntasks:\n${Array.from({ length: n }, (_, i) => `  - name: t${i}\n    action: shop.work\n    input: { n: ${i} }\n${i < n - 1 ? `    on_success: t${i + 1}\n` : ''}`).join('')}`;
const mocks = { 'shop.work': { result: { ok: '{{ input.n }}' } } };

/** Runs `chain(n)` on a worker with these activities; returns the history's local-activity markers and the audit log's sequence numbers. */
async function run(n: number, activities: object) {
  const id = `run:test:${randomUUID()}`;
  const input: TaskflowInput = { workflow: compile(chain(n), ['shop.work']), parameters: {}, tenant: 'test' };
  const worker = await h.startWorker(activities);
  let summary;
  try {
    summary = await resultOf(await h.client.workflow.start(TASKFLOW, { taskQueue: h.taskQueue, workflowId: id, args: [input] }));
  } finally {
    await worker.stop();
  }
  const events = (await h.client.workflow.getHandle(id).fetchHistory()).events ?? [];
  const markers = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length;
  const rows = await h.store.db.select().from(auditLog).where(eq(auditLog.executionId, id)).orderBy(asc(auditLog.seq));
  return { summary, events: events.length, markers, seqs: rows.map((r) => r.seq), kinds: rows.map((r) => r.kind) };
}

describe('audit rows ride on the next task activity (closeloop.audit-rides)', () => {
  it('a 10-task chain writes its audit through its own activities: no local activity per task, every row written', async () => {
    const r = await run(10, createActivities({ store: h.store, mocks }));
    expect(r.summary.status).toBe('succeeded');
    // the run's start and end bookkeeping and the last task's rows (it was one local activity per task)
    expect(r.markers).toBeLessThanOrEqual(3);
    expect(r.seqs).toEqual(Array.from({ length: r.seqs.length }, (_, i) => i + 1));
    expect(r.kinds.filter((k) => k === 'task.attempt')).toHaveLength(10);
    expect(r.kinds.at(-1)).toBe('run.completed');
  });

  it('rows an activity did not confirm writing (a failed write, a lost worker) are written by the workflow itself', async () => {
    const acts = createActivities({ store: h.store, mocks });
    // an activity that drops what it carries and answers without the "written" envelope
    const forgetful = {
      ...acts,
      runAction: (input: TaskActivityInput<ActionCall>) => acts.runAction({ call: input.call, meta: { ...input.meta, audit: [] } }),
    };
    const r = await run(6, forgetful);
    expect(r.summary.status).toBe('succeeded');
    expect(r.markers).toBeGreaterThan(3);
    expect(r.seqs).toEqual(Array.from({ length: r.seqs.length }, (_, i) => i + 1));
    expect(r.kinds.filter((k) => k === 'task.attempt')).toHaveLength(6);
  });
});
