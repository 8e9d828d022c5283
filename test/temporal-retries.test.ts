import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../store/schema.js';
import { TASKFLOW } from '../contracts/definitions.js';
import { compile, createHarness, resultOf, type Harness } from './helpers.js';
import { startHttpTarget } from './http-target.js';
import type { TaskflowInput } from '../contracts/run.js';
import { attemptsUpTo, inputVariesByAttempt, nativeRetryPolicy } from '../dsl/retry.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => h?.close());

/** Runs a workflow and returns its summary, its history's event types and the attempt rows of its audit log. */
async function run(yaml: string, known: string[] = [], opts: Parameters<Harness['withWorker']>[1] = {}) {
  const workflow = compile(yaml, known);
  const id = `run:test:${randomUUID()}`;
  const input: TaskflowInput = { workflow, parameters: {}, tenant: 'test' };
  const summary = await h.withWorker(
    async () => resultOf(await h.client.workflow.start(TASKFLOW, { taskQueue: h.taskQueue, workflowId: id, args: [input] })),
    opts,
  );
  const history = await h.client.workflow.getHandle(id).fetchHistory();
  // the attribute each event carries names its type
  const events = (history.events ?? []).map((e) => Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k]) ?? '');
  const started = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
  const rows = await h.store.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.executionId, id), eq(auditLog.kind, 'task.attempt')))
    .orderBy(asc(auditLog.seq));
  return { summary, events, started, attempts: rows.map((r) => ({ ...(r.detail as Record<string, unknown>), task: r.task }) as Record<string, unknown>) };
}
const count = (events: string[], type: string) => events.filter((e) => e === type).length;

describe('DSL retries that Temporal runs (constant or exponential backoff, no on_error)', () => {
  it('an HTTP task failing twice then answering is one activity in history, three audited attempts', async () => {
    const at: number[] = [];
    const target = await startHttpTarget(() =>
      at.push(Date.now()) <= 2 ? { status: 503, body: { error: 'busy' } } : { status: 200, body: { ok: 'third time' } },
    );
    try {
      const r = await run(`
ref: t.native
version: 1.0.0
tasks:
  - name: call
    action: core.http
    input: { url: "${target.url}/flaky", method: POST }
    retry: { count: 3, delay: 1, backoff: exponential }
`);
      expect(r.summary.status).toBe('succeeded');
      expect(r.summary.tasks[0]).toMatchObject({ name: 'call', status: 'succeeded', attempts: 3 });
      expect(at).toHaveLength(3);
      // Temporal retried the activity: one scheduled, one started (the last attempt), no timers
      expect(count(r.events, 'activityTaskScheduledEventAttributes')).toBe(1);
      expect(r.started).toEqual([3]);
      expect(count(r.events, 'timerStartedEventAttributes')).toBe(0);
      expect(r.attempts.map((a) => [a.attempt, a.status])).toEqual([
        [1, 'failed'],
        [2, 'failed'],
        [3, 'succeeded'],
      ]);
      expect(r.attempts[0]!.error).toMatchObject({ type: 'HttpStatusError' });
      expect(String((r.attempts[0]!.error as { message: string }).message)).toContain('503');
      // exponential from 1 s: Temporal waited at least 1 s, then at least 2 s, between the calls
      expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(900);
      expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(1800);
      const idem = new Set(target.received.map((x) => x.headers['idempotency-key']));
      expect(idem.size).toBe(1);
    } finally {
      await target.close();
    }
  });

  it('exhausted retries fail the task with the last error; every attempt audited; on_failure fires', async () => {
    const r = await run(
      `
ref: t.native_exhausted
version: 1.0.0
tasks:
  - name: flaky
    action: shop.flaky
    retry: { count: 2, delay: 1 }
    on_failure: handled
  - name: handled
    action: core.noop
`,
      ['shop.flaky'],
      {
        mocks: {
          'shop.flaky': [{ when: '{{ attempt < 3 }}', fail: { message: 'try again', type: 'Transient' } }, { fail: { message: 'still down', type: 'Fatal' } }],
        },
      },
    );
    expect(r.summary.tasks[0]).toMatchObject({ name: 'flaky', status: 'failed', attempts: 3, error: { type: 'Fatal', message: 'still down' } });
    expect(r.summary.tasks[1]).toMatchObject({ name: 'handled', status: 'succeeded' });
    expect(count(r.events, 'activityTaskScheduledEventAttributes')).toBe(1);
    expect(r.started).toEqual([3]);
    expect(r.attempts.filter((a) => a.task === 'flaky').map((a) => [a.attempt, a.status, (a.error as { type?: string } | undefined)?.type])).toEqual([
      [1, 'failed', 'Transient'],
      [2, 'failed', 'Transient'],
      [3, 'failed', 'Fatal'],
    ]);
  });

  it('linear backoff, on_error and inputs that read system.* stay with the interpreter (a timer per retry)', async () => {
    const mocks = { 'shop.flaky': [{ when: '{{ attempt < 2 }}', fail: { message: 'once', type: 'Transient' } }, { result: { ok: true } }] };
    for (const retry of ['{ count: 1, delay: 1, backoff: linear }', `{ count: 1, delay: 1, on_error: "{{ error.type == 'Transient' }}" }`]) {
      const r = await run(`ref: t.interp\nversion: 1.0.0\ntasks:\n  - name: flaky\n    action: shop.flaky\n    retry: ${retry}\n`, ['shop.flaky'], { mocks });
      expect(r.summary.tasks[0]).toMatchObject({ status: 'succeeded', attempts: 2 });
      expect(count(r.events, 'activityTaskScheduledEventAttributes')).toBe(2);
      expect(count(r.events, 'timerStartedEventAttributes')).toBe(1);
      expect(r.attempts.map((a) => a.status)).toEqual(['failed', 'succeeded']);
    }
    const r = await run(
      `ref: t.interp2\nversion: 1.0.0\ntasks:\n  - name: flaky\n    action: shop.flaky\n    input: { try: "{{ system.attempt }}" }\n    retry: { count: 1, delay: 1 }\n`,
      ['shop.flaky'],
      { mocks },
    );
    expect(count(r.events, 'activityTaskScheduledEventAttributes')).toBe(2);
  });
});

describe('dsl/retry.ts: which DSL retries map onto a Temporal retry policy', () => {
  it('maps constant and exponential backoff exactly, with the largest DSL delay as the cap', () => {
    expect(nativeRetryPolicy({ count: 3, delay: 10, backoff: 'exponential' })).toEqual({
      initialInterval: '10s',
      backoffCoefficient: 2,
      maximumInterval: '40s',
      maximumAttempts: 4,
    });
    expect(nativeRetryPolicy({ count: 3, delay: 10, backoff: 'exponential', max_delay: 25 })).toEqual({
      initialInterval: '10s',
      backoffCoefficient: 2,
      maximumInterval: '25s',
      maximumAttempts: 4,
    });
    expect(nativeRetryPolicy({ count: 2, delay: 5, backoff: 'constant', max_delay: 60 })).toEqual({
      initialInterval: '5s',
      backoffCoefficient: 1,
      maximumInterval: '5s',
      maximumAttempts: 3,
    });
  });
  it('leaves to the interpreter what Temporal cannot express', () => {
    expect(nativeRetryPolicy(undefined)).toBeUndefined();
    expect(nativeRetryPolicy({ count: 2, delay: 5, backoff: 'linear' })).toBeUndefined();
    expect(nativeRetryPolicy({ count: 2, delay: 5, backoff: 'constant', on_error: '{{ true }}' })).toBeUndefined();
    expect(nativeRetryPolicy({ count: 2, delay: 0, backoff: 'constant' })).toBeUndefined();
    expect(nativeRetryPolicy({ count: 2, delay: 10, backoff: 'exponential', max_delay: 5 })).toBeUndefined();
    expect(inputVariesByAttempt({ n: '{{ system.attempt }}' })).toBe(true);
    expect(inputVariesByAttempt({ n: '{{ parameters.n }}' })).toBe(false);
  });
  it('fills attempts nobody reported (a lost worker) so every attempt has a row', () => {
    const reported = [{ attempt: 1, status: 'failed' as const, error: { type: 'X', message: 'x' } }];
    expect(attemptsUpTo(3, reported).map((a) => [a.attempt, a.error.type])).toEqual([
      [1, 'X'],
      [2, 'AttemptLost'],
      [3, 'AttemptLost'],
    ]);
    expect(attemptsUpTo(0, reported)).toEqual([]);
  });
});
