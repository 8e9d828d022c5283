import { randomUUID } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../activities/index.js';
import { auditLog } from '../store/schema.js';
import { TASKFLOW } from '../contracts/definitions.js';
import { RUN_FEATURES } from '../contracts/features.js';
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
async function run(n: number, activities: object, features?: string[]) {
  const id = `run:test:${randomUUID()}`;
  const input: TaskflowInput = { workflow: compile(chain(n), ['shop.work']), parameters: {}, tenant: 'test', ...(features ? { features } : {}) };
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
  const types = events.map((e) => String(proto.temporal.api.enums.v1.EventType[e.eventType!]).replace(/^EVENT_TYPE_/, ''));
  return { summary, events: events.length, types, markers, seqs: rows.map((r) => r.seq), kinds: rows.map((r) => r.kind) };
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

describe('runs started by current code carry their features in the input (contracts/features.ts)', () => {
  it('a one-task run is the hand-written history plus its final bookkeeping: no patch markers, no start write, every audit row written', async () => {
    const plain = await run(1, createActivities({ store: h.store, mocks }));
    const featured = await run(1, createActivities({ store: h.store, mocks }), RUN_FEATURES);
    expect(featured.summary.status).toBe('succeeded');
    // a hand-written workflow with one activity: started, workflow task, activity, workflow task, completed (11 events)
    const handWritten = [
      'WORKFLOW_EXECUTION_STARTED',
      ...['WORKFLOW_TASK_SCHEDULED', 'WORKFLOW_TASK_STARTED', 'WORKFLOW_TASK_COMPLETED'],
      ...['ACTIVITY_TASK_SCHEDULED', 'ACTIVITY_TASK_STARTED', 'ACTIVITY_TASK_COMPLETED'],
      ...['WORKFLOW_TASK_SCHEDULED', 'WORKFLOW_TASK_STARTED', 'WORKFLOW_TASK_COMPLETED'],
    ];
    // plus the final status search attribute and one local activity with the last audit rows and the runs index
    expect(featured.types).toEqual([...handWritten, 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', 'MARKER_RECORDED', 'WORKFLOW_EXECUTION_COMPLETED']);
    // the same run without the list (an older history's path): patch markers and the start write
    expect(plain.events).toBeGreaterThan(featured.events);
    expect(featured.kinds[0]).toBe('run.started');
    expect(featured.seqs).toEqual(Array.from({ length: featured.seqs.length }, (_, i) => i + 1));
    expect(featured.kinds.at(-1)).toBe('run.completed');
  });
});
