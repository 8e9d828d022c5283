import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../api/app.js';
import { hashKey, type TenantConfig } from '../workers/config.js';
import { createHarness, type Harness } from './helpers.js';
import { startHttpTarget } from './http-target.js';

let h: Harness;
let server: Server;
let base: string;
const suffix = randomUUID().slice(0, 8);
const A = `acme${suffix}`;
const B = `globex${suffix}`;
const keys = { a: `key-a-${suffix}`, b: `key-b-${suffix}`, viewer: `key-v-${suffix}` };
const tenants: TenantConfig = {
  tenants: new Map([
    [A, { id: A, name: A, status: 'active', signingSecret: null }],
    [B, { id: B, name: B, status: 'active', signingSecret: null }],
  ]),
  keys: [
    { id: 'a-admin', tenant: A, hash: hashKey(keys.a), roles: ['admin'] },
    { id: 'b-admin', tenant: B, hash: hashKey(keys.b), roles: ['admin'] },
    { id: 'a-viewer', tenant: A, hash: hashKey(keys.viewer), roles: ['viewer'] },
  ],
};
const example = readFileSync(join(import.meta.dirname, '..', 'config', 'packs', 'examples', 'workflows', 'order_fulfilment.yaml'), 'utf8').replace(
  'ref: examples.order_fulfilment',
  `ref: t${suffix}.order`,
);

async function call(method: string, path: string, opts: { key?: string; json?: unknown; yaml?: string } = {}) {
  const headers: Record<string, string> = {};
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  let body: string | undefined;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.yaml !== undefined) {
    headers['content-type'] = 'application/yaml';
    body = opts.yaml;
  }
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : null };
}

async function waitForEnd(id: string, key = keys.a) {
  // the workflow's own result comes after its last write (the runs index), so wait for it first
  await h.client.workflow
    .getHandle(id)
    .result()
    .catch(() => undefined);
  for (let i = 0; i < 100; i++) {
    const r = await call('GET', `/v1/executions/${id}`, { key });
    if (r.status === 200 && r.body?.ended_at) return r.body;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`run ${id} did not end`);
}

beforeAll(async () => {
  h = await createHarness();
  const app = createApp({ store: h.store, client: h.client, tenants: () => tenants, taskQueue: h.taskQueue, bodyLimit: '64kb' });
  server = app.listen(0, '127.0.0.1');
  await new Promise((res) => server.once('listening', res));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.close();
  await h?.close();
});

describe('HTTP API', () => {
  it('answers health and readiness without a key', async () => {
    expect((await call('GET', '/healthz')).status).toBe(200);
    const ready = await call('GET', '/readyz');
    expect(ready.body).toEqual({ status: 'ready', checks: { database: 'ok', temporal: 'ok' } });
  });

  it('refuses missing or unknown keys with 401 and the error format', async () => {
    const r = await call('GET', '/v1/workflows');
    expect(r.status).toBe(401);
    expect(r.body?.error).toMatchObject({ code: 'unauthenticated' });
    expect((await call('GET', '/v1/workflows', { key: 'nope' })).status).toBe(401);
  });

  it('validates without registering: 422 with every problem located, 200 with warnings', async () => {
    const bad = await call('POST', '/v1/workflows/validate', {
      key: keys.a,
      yaml: 'ref: a.b\nversion: 1.0.0\ntasks:\n  - name: x\n    action: core.echo\n    on_success: y\n',
    });
    expect(bad.status).toBe(422);
    expect(bad.body?.error.details).toEqual([
      { severity: 'error', line: 6, col: 17, path: 'tasks[0]', message: "tasks[0]: task 'x' transitions to unknown task 'y'" },
    ]);
    const good = await call('POST', '/v1/workflows/validate', { key: keys.a, json: { yaml: example } });
    expect(good).toMatchObject({ status: 200, body: { valid: true } });
  });

  it('registers versions, lists, shows, refuses a changed same version (409), and enforces roles (403)', async () => {
    const created = await call('POST', '/v1/workflows', { key: keys.a, yaml: example });
    expect(created).toMatchObject({ status: 201, body: { ref: `t${suffix}.order`, version: '1.0.0', created: true } });
    expect((await call('POST', '/v1/workflows', { key: keys.a, yaml: example })).status).toBe(200);
    expect((await call('POST', '/v1/workflows', { key: keys.a, yaml: example.replace('Fulfil an order', 'Changed') })).status).toBe(409);
    expect((await call('POST', '/v1/workflows', { key: keys.a, yaml: example.replace('version: 1.0.0', 'version: 1.1.0') })).status).toBe(201);
    const shown = await call('GET', `/v1/workflows/t${suffix}.order`, { key: keys.a });
    expect(shown.body?.version).toBe('1.1.0');
    expect(shown.body?.versions.map((v: { version: string }) => v.version)).toEqual(['1.1.0', '1.0.0']);
    expect((await call('GET', `/v1/workflows/t${suffix}.order@1.0.0`, { key: keys.a })).body?.version).toBe('1.0.0');
    const list = await call('GET', '/v1/workflows', { key: keys.a });
    expect(list.body?.workflows).toContainEqual({ ref: `t${suffix}.order`, version: '1.1.0', label: 'Fulfil an order and confirm it', shared: false });
    expect((await call('POST', '/v1/workflows', { key: keys.viewer, yaml: example })).status).toBe(403);
  });

  it('keeps tenants apart: another tenant gets 404 for workflows and executions', async () => {
    expect((await call('GET', `/v1/workflows/t${suffix}.order`, { key: keys.b })).status).toBe(404);
    const started = await call('POST', `/v1/workflows/t${suffix}.order/executions`, { key: keys.a, json: { parameters: { order_id: 'iso' } } });
    expect(started.status).toBe(202);
    expect((await call('GET', `/v1/executions/${started.body?.execution_id}`, { key: keys.b })).status).toBe(404);
    expect((await call('POST', `/v1/workflows/t${suffix}.order/executions`, { key: keys.b, json: {} })).status).toBe(404);
    await h.withWorker(() => waitForEnd(started.body?.execution_id));
  });

  it('runs a workflow whose core.http task calls a real server, once per idempotency key', async () => {
    const target = await startHttpTarget();
    try {
      const params = { order_id: 'A-1', items: ['a', 'b'], confirm_url: `${target.url}/confirm` };
      const first = await call('POST', `/v1/workflows/t${suffix}.order/executions`, {
        key: keys.a,
        json: { parameters: params, idempotency_key: `order-${suffix}` },
      });
      expect(first).toMatchObject({ status: 202, body: { status: 'started', execution_id: `run:${A}:order-${suffix}` } });
      const again = await call('POST', `/v1/workflows/t${suffix}.order/executions`, {
        key: keys.a,
        json: { parameters: params, idempotency_key: `order-${suffix}` },
      });
      expect(again).toMatchObject({ status: 200, body: { status: 'duplicate', execution_id: `run:${A}:order-${suffix}` } });
      const summary = await h.withWorker(() => waitForEnd(first.body?.execution_id));
      expect(summary).toMatchObject({
        status: 'succeeded',
        workflow: `t${suffix}.order`,
        version: '1.1.0',
        tenant: A,
        output: { status: 'confirmed', order: 'A-1' },
      });
      expect(summary.tasks.map((t: { name: string; status: string }) => `${t.name}:${t.status}`)).toEqual([
        'validate_order:succeeded',
        'confirm:succeeded',
        'record:succeeded',
      ]);
      expect(target.received).toHaveLength(1);
      expect(JSON.parse(target.received[0]!.body)).toEqual({ order: 'A-1', items: ['a', 'b'] });
      expect(target.received[0]!.headers['idempotency-key']).toBe(`run:${A}:order-${suffix}:confirm:1`);
      // the runs index is written by the run's last activity, a moment after its state query reports the end
      let ids: string[] = [];
      for (let i = 0; i < 50 && !ids.includes(first.body?.execution_id); i++) {
        ids = (await call('GET', `/v1/executions?workflow=t${suffix}.order&status=succeeded`, { key: keys.a })).body?.executions.map(
          (e: { id: string }) => e.id,
        );
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(ids).toContain(first.body?.execution_id);
    } finally {
      await target.close();
    }
  });

  it('a failing confirmation is retried per the DSL, then handled by reject, which fails the run on purpose', async () => {
    const target = await startHttpTarget(() => ({ status: 503 }));
    try {
      const started = await call('POST', `/v1/workflows/t${suffix}.order/executions`, {
        key: keys.a,
        json: { parameters: { order_id: 'B-2', confirm_url: target.url } },
      });
      const summary = await h.withWorker(() => waitForEnd(started.body?.execution_id));
      expect(summary.status).toBe('failed');
      expect(summary.error.message).toMatch(/reject/);
      const confirm = summary.tasks.find((t: { name: string }) => t.name === 'confirm');
      expect(confirm).toMatchObject({ status: 'failed', attempts: 3, error: { type: 'HttpStatusError' } });
      expect(target.received).toHaveLength(3);
      expect(new Set(target.received.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    } finally {
      await target.close();
    }
  });

  it('refuses bad input with 400 (located), unknown refs with 404 and large bodies with 413', async () => {
    const bad = await call('POST', `/v1/workflows/t${suffix}.order/executions`, { key: keys.a, json: { parameters: { items: 'x' } } });
    expect(bad.status).toBe(400);
    expect(bad.body?.error.details).toEqual([
      { location: 'parameters.order_id', message: 'is required' },
      { location: 'parameters.items', message: 'must be array' },
    ]);
    expect((await call('POST', '/v1/workflows/nope.nope/executions', { key: keys.a, json: {} })).status).toBe(404);
    expect((await call('GET', '/v1/executions/run:x:y', { key: keys.a })).status).toBe(404);
    expect((await call('POST', '/v1/workflows', { key: keys.a, yaml: `# ${'x'.repeat(70_000)}\n${example}` })).status).toBe(413);
    const notJson = await fetch(`${base}/v1/workflows/validate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.a}`, 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(notJson.status).toBe(400);
  });
});
