import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TEST_DATABASE_URL } from './database-url.js';
import { compile, createHarness, resultOf, type Harness } from './helpers.js';
import { startHttpTarget } from './http-target.js';
import { SA, TASKFLOW } from '../contracts/definitions.js';
import { randomUUID } from 'node:crypto';
import { singleTenant, startApi } from './api-helpers.js';
import { withRuleDefaults } from '../dsl/closure-rules.js';
import type { TaskflowInput } from '../contracts/run.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => h?.close());

function startWorkerProcess(taskQueue: string, publicUrl?: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'support', 'crash-worker.ts')], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TASK_QUEUE: taskQueue,
      BUNDLE_PATH: inject('bundlePath'),
      DATABASE_URL: TEST_DATABASE_URL,
      ...(publicUrl ? { PUBLIC_URL: publicUrl } : {}),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('worker ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
  });
}

describe('crash safety', () => {
  it('a worker killed in the middle of a 20-task run is replaced and the run completes; each effect lands once per idempotency key', async () => {
    // the target applies an effect once per Idempotency-Key and answers slowly, so the kill lands mid-call
    const effects = new Map<string, number>();
    const target = await startHttpTarget((r) => {
      const key = String(r.headers['idempotency-key']);
      if (!effects.has(key)) effects.set(key, JSON.parse(r.body).step as number);
      return { delayMs: 150, body: { applied: key } };
    });
    const tasks = Array.from(
      { length: 20 },
      (_, i) => `
  - name: step${i + 1}
    action: core.http
    timeout: 5
    input: { method: POST, url: "{{ parameters.url }}", body: { step: ${i + 1} } }
    ${i < 19 ? `on_success: step${i + 2}` : ''}`,
    ).join('');
    const wf = compile(`ref: t.crash\nversion: 1.0.0\nparameters: { url: { type: string } }\ntasks:${tasks}\n`);
    const taskQueue = `crash-${randomUUID()}`;
    let worker = await startWorkerProcess(taskQueue);
    try {
      const handle = await h.client.workflow.start(TASKFLOW, {
        taskQueue,
        workflowId: `run:test:crash-${randomUUID()}`,
        args: [{ workflow: wf, parameters: { url: `${target.url}/effect` }, tenant: 'test' }],
        typedSearchAttributes: [{ key: SA.tenant, value: 'test' }],
      });
      while (target.received.length < 8) await new Promise((r) => setTimeout(r, 20));
      worker.kill('SIGKILL');
      await new Promise((r) => worker.once('exit', r));
      const seenAtKill = target.received.length;
      expect(seenAtKill).toBeLessThan(20);
      worker = await startWorkerProcess(taskQueue);
      const summary = await resultOf(handle);
      expect(summary.error).toBeNull();
      expect(summary.status).toBe('succeeded');
      expect(summary.tasks).toHaveLength(20);
      expect(summary.tasks.every((t) => t.status === 'succeeded' && t.runs === 1)).toBe(true);
      // 20 distinct keys, each effect applied once, in step order
      expect(effects.size).toBe(20);
      expect([...effects.values()]).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const perKey = new Map<string, number>();
      for (const r of target.received) perKey.set(String(r.headers['idempotency-key']), (perKey.get(String(r.headers['idempotency-key'])) ?? 0) + 1);
      // at most the call in flight at the kill was sent twice (same key); nothing else repeated
      expect([...perKey.values()].filter((n) => n > 1).length).toBeLessThanOrEqual(1);
    } finally {
      worker.kill('SIGKILL');
      await target.close();
    }
  }, 120_000);

  it('a worker killed while the closure waits for a receipt is replaced; the closure resumes and reaches its verdict without sending twice', async () => {
    const api = await startApi(h, singleTenant('test', 'k', 'k1', ['viewer']));
    const inbox = await startHttpTarget();
    const taskQueue = `crash-closure-${randomUUID()}`;
    let worker = await startWorkerProcess(taskQueue, api.base);
    try {
      const wf = compile(
        `ref: t.notify\nversion: 1.0.0\ntasks:\n  - name: notify_customer\n    action: core.notify\n    input: { channel: im, to: "${inbox.url}/hook", message: "your report" }\n`,
      );
      const rule = withRuleDefaults({
        id: 'crash.receipt',
        mandatory_nodes: ['notify_customer'],
        receipts: [{ node: 'notify_customer', timeout: 90 }],
        deadline: 120,
        report: { notify: [], audit: false },
      });
      const id = `run:test:crash-closure-${randomUUID()}`;
      const input: TaskflowInput = { workflow: wf, parameters: {}, tenant: 'test', closure: rule };
      const handle = await h.client.workflow.start(TASKFLOW, {
        taskQueue,
        workflowId: id,
        args: [input],
        typedSearchAttributes: [{ key: SA.tenant, value: 'test' }],
      });
      // wait until the closure is running and the message went out
      for (let i = 0; i < 200; i++) {
        const running = await h.client.workflow
          .getHandle(`closure:${id}`)
          .describe()
          .then(
            (d) => d.status.name === 'RUNNING',
            () => false,
          );
        if (running && inbox.received.length === 1) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 300)); // let the closure reach its receipt wait
      worker.kill('SIGKILL');
      await new Promise((r) => worker.once('exit', r));
      // the receipt arrives while no worker runs: stored and signalled to the closure
      const receiptUrl = (JSON.parse(inbox.received[0]!.body) as { receipt: { url: string } }).receipt.url;
      expect((await fetch(receiptUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"status":"delivered"}' })).status).toBe(202);
      worker = await startWorkerProcess(taskQueue, api.base);
      const summary = await resultOf(handle);
      expect(summary.closure).toMatchObject({
        verdict: 'closed',
        checks: [
          { kind: 'mandatory_nodes', passed: true },
          { kind: 'receipts', passed: true },
        ],
      });
      expect(inbox.received).toHaveLength(1);
    } finally {
      worker.kill('SIGKILL');
      api.close();
      await inbox.close();
    }
  }, 120_000);
});
