// Issue #12 item 2: text PostgreSQL cannot hold never leaves a run unending, and every run can be cancelled.
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { afterAll, describe, expect, it } from 'vitest';
import { failPermanentStorageErrors } from '../activities/storage-errors.js';
import { auditLog } from '../store/schema.js';
import { eq } from 'drizzle-orm';
import { SA, TASKFLOW } from '../contracts/definitions.js';
import type { TaskflowInput } from '../contracts/run.js';
import { singleTenant, useApi } from './api-helpers.js';
import { compile, type Harness } from './helpers.js';
import { startHttpTarget } from './http-target.js';

const suffix = randomUUID().slice(0, 8);
const T = `hostile${suffix}`;
const KEY = `key-${suffix}`;
let h: Harness;
let base: string;
useApi(singleTenant(T, KEY, 'admin', ['admin']), (harness, b) => {
  h = harness;
  base = b;
});
const target = startHttpTarget(() => ({ body: { name: 'nul\u0000here', half: 'x\ud800y', ['key\u0000']: 1 } }));
afterAll(async () => (await target).close());

async function call(method: string, path: string, json?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(json !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, any> };
}

describe('hostile text and unindexed runs', () => {
  it('a plugin answer carrying NUL and lone surrogates is stored with U+FFFD: the run ends and is indexed', async () => {
    const { url } = await target;
    const wf = compile(
      `ref: h${suffix}.echo\nversion: 1.0.0\ntasks:\n  - name: fetch\n    action: core.http\n    input: { url: "${url}/x" }\n    publish: [ { got: "{{ result().body }}" } ]\noutput_map: { name: "{{ vars.got.name }}" }\n`,
    );
    const id = `run:${T}:${randomUUID()}`;
    const input: TaskflowInput = { workflow: wf, parameters: {}, tenant: T };
    await h.withWorker(async () => {
      const handle = await h.client.workflow.start(TASKFLOW, {
        taskQueue: h.taskQueue,
        workflowId: id,
        args: [input],
        typedSearchAttributes: [{ key: SA.tenant, value: T }],
      });
      await handle.result();
    });
    const r = await call('GET', `/v1/executions/${id}`);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('succeeded');
    expect(r.body.output).toEqual({ name: 'nul\ufffdhere' });
    const ctx = await call('GET', `/v1/executions/${id}/context`);
    expect(ctx.body.vars.got).toEqual({ name: 'nul\ufffdhere', half: 'x\ufffdy', 'key\ufffd': 1 });
  });

  it("a task input's keys never reach the bookkeeping: an `audit` key forges no audit row, `retried_by_temporal` changes nothing", async () => {
    const { url } = await target;
    const forged = `run:victim${suffix}:x`;
    const row = {
      execution_id: forged,
      tenant: `victim${suffix}`,
      seq: 1,
      kind: 'run.started',
      task: null,
      detail: { forged: true },
      at: new Date().toISOString(),
    };
    const wf = compile(
      `ref: h${suffix}.forge\nversion: 1.0.0\ntasks:\n  - name: call\n    action: core.http\n    input: { url: "${url}/x", audit: ${JSON.stringify([row])}, retried_by_temporal: true, idempotencyKey: mine }\n`,
    );
    const id = `run:${T}:${randomUUID()}`;
    await h.withWorker(async () => {
      const handle = await h.client.workflow.start(TASKFLOW, {
        taskQueue: h.taskQueue,
        workflowId: id,
        args: [{ workflow: wf, parameters: {}, tenant: T }],
        typedSearchAttributes: [{ key: SA.tenant, value: T }],
      });
      await handle.result();
    });
    expect(await h.store.db.select().from(auditLog).where(eq(auditLog.executionId, forged))).toEqual([]);
    // the request went out with the run's own idempotency key, not the one in the input
    const sent = (await target).received.at(-1)!;
    expect(sent.headers['idempotency-key']).toBe(`${id}:call:1`);
  });

  it('a write the database refuses for good fails non-retryably, naming the activity and the SQLSTATE', async () => {
    const write = failPermanentStorageErrors('recordAudit', async () => {
      await h.store.db
        .insert(auditLog)
        .values({ executionId: `x-${suffix}`, tenant: T, seq: 1, kind: 'run.started', task: 'bad\u0000name', detail: {}, at: new Date().toISOString() });
    });
    const err = await write().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'StorageRejected', nonRetryable: true });
    expect((err as Error).message).toMatch(/^recordAudit: the database refused the write \(SQLSTATE 22021\)/);
    // anything else (a lost connection, a conflict) keeps its own meaning and retries
    const other = await failPermanentStorageErrors('x', async () => Promise.reject(Object.assign(new Error('gone'), { code: '08006' })))().catch(
      (e: unknown) => e,
    );
    expect(other).not.toBeInstanceOf(ApplicationFailure);
  });

  it("a run that was never indexed can still be cancelled (and is another tenant's 404)", async () => {
    // no worker polls this queue: the run never writes its index row
    const id = `run:${T}:${randomUUID()}`;
    const input: TaskflowInput = {
      workflow: compile(`ref: h${suffix}.idle\nversion: 1.0.0\ntasks:\n  - name: a\n    action: core.noop\n`),
      parameters: {},
      tenant: T,
    };
    const handle = await h.client.workflow.start(TASKFLOW, {
      taskQueue: `nobody-${suffix}`,
      workflowId: id,
      args: [input],
      typedSearchAttributes: [{ key: SA.tenant, value: T }],
    });
    // listed by what Temporal knows, within the query's second and a describe's second
    expect((await call('GET', `/v1/executions/${id}`)).body).toMatchObject({ id, status: 'running', tenant: T });
    const cancelled = await call('POST', `/v1/executions/${id}/cancel`);
    expect(cancelled.status).toBe(202);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.some((e) => e.workflowExecutionCancelRequestedEventAttributes)).toBe(true);
    expect((await call('POST', `/v1/executions/run:other:${randomUUID()}/cancel`)).status).toBe(404);
    await handle.terminate('test cleanup');
  });
});
