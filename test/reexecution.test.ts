// Issue #12 item 6: an activity Temporal runs again (its worker was lost) is audited with Temporal's
// own attempt number, and the audit-coverage check asks for it.
import { randomUUID } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../activities/index.js';
import { checkAuditCoverage } from '../api/audit-check.js';
import { auditCoverage } from '../dsl/audit-coverage.js';
import { auditLog } from '../store/schema.js';
import { TASKFLOW } from '../contracts/definitions.js';
import type { TaskflowInput } from '../contracts/run.js';
import { compile, createHarness, resultOf, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => h?.close());

describe('re-executed activities', () => {
  it('audits the attempt Temporal ran (2 after a lost first one), and the coverage check counts it', async () => {
    const yaml = `ref: t.again\nversion: 1.0.0\ntasks:\n  - name: ship\n    action: shop.ship\n    on_success: tell\n  - name: tell\n    action: shop.ship\n`;
    const real = createActivities({ store: h.store, mocks: { 'shop.ship': { result: { ok: true } } } });
    let lost = 0;
    const activities = {
      ...real,
      // the first attempt of 'ship' dies the way a lost worker's does to Temporal: a retryable failure
      runAction: async (input: { meta?: { task?: string } }) => {
        if (input.meta?.task === 'ship' && lost++ === 0) throw new Error('worker lost');
        return real.runAction(input as never);
      },
    };
    const id = `run:test:${randomUUID()}`;
    const worker = await h.startWorker(activities);
    let summary;
    try {
      const args: [TaskflowInput] = [{ workflow: compile(yaml, ['shop.ship']), parameters: {}, tenant: 'test' }];
      summary = await resultOf(await h.client.workflow.start(TASKFLOW, { taskQueue: h.taskQueue, workflowId: id, args }));
    } finally {
      await worker.stop();
    }
    expect(summary.status).toBe('succeeded');
    const rows = await h.store.db.select().from(auditLog).where(eq(auditLog.executionId, id)).orderBy(asc(auditLog.seq));
    const attempts = rows.filter((r) => r.kind === 'task.attempt').map((r) => [r.task, r.detail]);
    expect(attempts).toEqual([
      ['ship', expect.objectContaining({ attempt: 1, status: 'succeeded', temporal_attempt: 2 })],
      ['tell', expect.not.objectContaining({ temporal_attempt: expect.anything() })],
    ]);
    const coverage = await checkAuditCoverage(h.client, h.store.db, id);
    expect(coverage).toMatchObject({ coverage: 1, missing: [] });
    expect(coverage.checked).toBeGreaterThanOrEqual(4);
  });

  it('a re-executed activity audited as a first attempt is a coverage gap', () => {
    const fact = { source: 'run' as const, event_id: 5, kind: 'activity' as const, name: 'runAction', task: 'ship', attempt: 2 };
    const row = (detail: Record<string, unknown>) => ({ source: 'run' as const, kind: 'task.attempt', task: 'ship', detail });
    expect(auditCoverage([fact], [row({ attempt: 1, status: 'succeeded', temporal_attempt: 2 })]).coverage).toBe(1);
    expect(auditCoverage([fact], [row({ attempt: 2, status: 'succeeded', retried_by: 'temporal' })]).coverage).toBe(1);
    const gap = auditCoverage([fact], [row({ attempt: 1, status: 'succeeded' })]);
    expect(gap.coverage).toBe(0);
    expect(gap.missing[0]?.expected).toBe("task.attempt for 'ship' at Temporal attempt 2");
  });
});
