// Issue #12 item 2: every edge refuses text PostgreSQL or Temporal cannot hold, and hostile depth, with a 4xx
// naming the field, before anything is stored or started.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sign } from '../api/intake/signature.js';
import { hashKey, type TenantConfig } from '../workers/config.js';
import { TASKFLOW } from '../contracts/definitions.js';
import { useApi } from './api-helpers.js';
import { StrategyConflict, StrategyRepo, SHARED_OWNER } from '../store/strategies-repo.js';
import { parseStrategies } from '../dsl/strategy.js';
import { compile, type Harness } from './helpers.js';

const suffix = randomUUID().slice(0, 8);
const T = `edge${suffix}`;
const KEY = `key-${suffix}`;
const SECRET = `whsec-${suffix}`;
const tenants: TenantConfig = {
  tenants: new Map([[T, { id: T, name: T, status: 'active', signingSecret: SECRET }]]),
  keys: [{ id: 'admin', tenant: T, hash: hashKey(KEY), roles: ['admin'] }],
};
let h: Harness;
let base: string;
useApi(tenants, (harness, b) => {
  h = harness;
  base = b;
});

async function send(method: string, path: string, body?: string, type = 'application/json', extra: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(body !== undefined ? { 'content-type': type } : {}), ...extra },
    ...(body !== undefined ? { body } : {}),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, any> };
}

/** The pending inquiry of a run, once its workflow has opened it (up to 10 s). */
async function pendingInquiryOf(executionId: string): Promise<{ id: string } | undefined> {
  for (let i = 0; i < 100; i++) {
    const found = (await send('GET', '/v1/inquiries?status=pending')).body.inquiries.find((q: { execution_id: string }) => q.execution_id === executionId);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

const signed = (raw: string) => send('POST', '/v1/events', raw, 'application/json', { 'x-closeloop-signature': sign(SECRET, raw) });
const event = (over: Record<string, unknown>) => JSON.stringify({ id: `evt_${randomUUID()}`, type: 'job.done', tenant: T, payload: {}, ...over });

describe('text and depth at every edge', () => {
  it('signed events: NUL, lone surrogates, unsafe ids and 5,000 levels are 400s naming the field', async () => {
    const nul = await signed(event({ payload: { note: 'a\u0000b' } }));
    expect(nul.status).toBe(400);
    expect(JSON.stringify(nul.body.error)).toMatch(/payload\.note.*NUL/);
    const half = await signed(event({ type: 'job.\ud800' }));
    expect(half.status).toBe(400);
    expect(JSON.stringify(half.body.error)).toMatch(/surrogate/);
    const rtl = await signed(event({ idempotency_key: 'abc\u202edef' }));
    expect(rtl.status).toBe(400);
    expect(JSON.stringify(rtl.body.error)).toMatch(/idempotency_key/);
    const deep = `{"id":"evt_deep${suffix}","type":"job.done","tenant":"${T}","payload":${'{"d":'.repeat(5000)}1${'}'.repeat(5000)}}`;
    const d = await signed(deep);
    expect(d.status).toBe(400);
    expect(d.body.error.message).toMatch(/nested deeper than 64 levels/);
    expect((await send('GET', `/v1/events/evt_deep${suffix}`)).status).toBe(404);
  });

  it('strategies, kv, workflow YAML, run parameters and callbacks refuse such text too', async () => {
    const strategy = await send('POST', '/v1/strategies', JSON.stringify({ id: `s${suffix}.x`, on: 'job.*', workflow: 'a.b', parameters: { ['k\u0000']: 1 } }));
    expect(strategy.status).toBe(400);
    expect(JSON.stringify(strategy.body.error)).toMatch(/NUL/);
    const kv = await send('PUT', `/v1/kv/k${suffix}`, JSON.stringify({ value: 'x\udc00' }));
    expect(kv.status).toBe(400);
    expect(JSON.stringify(kv.body.error)).toMatch(/value/);
    expect((await send('PUT', `/v1/kv/k${suffix}`, 'plain', 'text/plain')).status).toBe(415);
    const badKey = await send('PUT', `/v1/kv/${encodeURIComponent('a\u202eb')}`, JSON.stringify({ value: 1 }));
    expect(badKey.status).toBe(400);
    const yaml = await send(
      'POST',
      '/v1/workflows',
      `ref: e${suffix}.w\nversion: 1.0.0\ntasks:\n  - name: a\n    action: core.echo\n    input: { message: "x\u0000" }\n`,
      'application/yaml',
    );
    expect(yaml.status).toBe(400);
    expect(JSON.stringify(yaml.body.error)).toMatch(/NUL/);
    const yamlJson = await send('POST', '/v1/workflows/validate', JSON.stringify({ yaml: 'ref: a.b\u0000' }));
    expect(yamlJson.status).toBe(400);
    const cb = await fetch(`${base}/v1/callbacks/${randomUUID()}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":"\\u0000"}',
    });
    expect([400, 404]).toContain(cb.status);
  });

  it('an inquiry answered after its run ended is a 409, not a 500', async () => {
    const wf = compile(
      `ref: e${suffix}.ask\nversion: 1.0.0\ntasks:\n  - name: ask\n    action: core.inquiry\n    input: { prompt: "ok?", schema: { type: object } }\n    timeout: 3600\n`,
    );
    const id = `run:${T}:${randomUUID()}`;
    await h.withWorker(async () => {
      const handle = await h.client.workflow.start(TASKFLOW, { taskQueue: h.taskQueue, workflowId: id, args: [{ workflow: wf, parameters: {}, tenant: T }] });
      const inquiry = await pendingInquiryOf(id);
      expect(inquiry).toBeDefined();
      await handle.terminate('ended from outside');
      const late = await send('POST', `/v1/inquiries/${inquiry!.id}/respond`, JSON.stringify({ response: {} }));
      expect(late.status).toBe(409);
      expect(late.body.error.code).toBe('run_ended');
      // and it leaves the pending list
      const pending = (await send('GET', '/v1/inquiries?status=pending')).body.inquiries as { id: string }[];
      expect(pending.some((q) => q.id === inquiry!.id)).toBe(false);
    });
  });

  it('concurrent answers to one inquiry: one wins, the others get 409 not_pending', async () => {
    const wf = compile(
      `ref: e${suffix}.race\nversion: 1.0.0\ntasks:\n  - name: ask\n    action: core.inquiry\n    input: { prompt: "ok?", schema: { type: object } }\n`,
    );
    const id = `run:${T}:${randomUUID()}`;
    await h.withWorker(async () => {
      const handle = await h.client.workflow.start(TASKFLOW, { taskQueue: h.taskQueue, workflowId: id, args: [{ workflow: wf, parameters: {}, tenant: T }] });
      const inquiry = await pendingInquiryOf(id);
      const answers = await Promise.all(
        Array.from({ length: 5 }, (_, n) => send('POST', `/v1/inquiries/${inquiry!.id}/respond`, JSON.stringify({ response: { n } }))),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409, 409, 409]);
      for (const a of answers.filter((x) => x.status === 409)) expect(a.body.error.code).toBe('not_pending');
      await handle.result();
    });
  });

  it('the same idempotency key with a different request is 409 idempotency_conflict; the same request stays a duplicate', async () => {
    const id = `evt_idem${suffix}`;
    const first = await signed(event({ id, payload: { n: 1 }, trace_id: 'a'.repeat(32) }));
    expect(first.status).toBeLessThan(300);
    // a retry with a renewed trace id is the same event
    const again = await signed(event({ id, payload: { n: 1 }, trace_id: 'b'.repeat(32) }));
    expect(again.body.status).toBe('duplicate');
    const other = await signed(event({ id, payload: { n: 2 } }));
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_conflict');
    expect(other.body.error.details[0].location).toBe('body.id');

    const yaml = `ref: e${suffix}.idem\nversion: 1.0.0\nparameters:\n  n: { type: integer }\ntasks:\n  - name: a\n    action: core.noop\n`;
    expect((await send('POST', '/v1/workflows', yaml, 'application/yaml')).status).toBe(201);
    const run = (n: number) => send('POST', `/v1/workflows/e${suffix}.idem/executions`, JSON.stringify({ parameters: { n }, idempotency_key: `k${suffix}` }));
    expect((await run(1)).status).toBe(202);
    const dup = await run(1);
    expect(dup.status).toBe(200);
    expect(dup.body.status).toBe('duplicate');
    const conflict = await run(2);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('idempotency_conflict');
    await h.client.workflow.getHandle(`run:${T}:k${suffix}`).terminate('test cleanup');
  });

  it("strategy ids are per tenant: another tenant's id is neither taken nor visible; a shared id is refused", async () => {
    const repo = new StrategyRepo(h.store.db);
    const id = `scoped${suffix}.s`;
    const strategy = parseStrategies(`id: ${id}\non: edge.s${suffix}\nworkflow: a.b\n`, { single: true }).strategies[0]!;
    const a = await repo.createDraft(`a${suffix}`, strategy, 'alice');
    const b = await repo.createDraft(`b${suffix}`, strategy, 'bob');
    expect([a.version, b.version]).toEqual([1, 1]);
    expect((await repo.list(`a${suffix}`)).filter((r) => r.id === id).map((r) => r.owner)).toEqual([`a${suffix}`]);
    // each tenant's lifecycle touches only its own rows
    await repo.approve(`a${suffix}`, id, 1, 'carol');
    await repo.activate(`a${suffix}`, id, 1);
    expect((await repo.get(`b${suffix}`, id))?.status).toBe('draft');
    const shared = `shared${suffix}.s`;
    await repo.syncFromConfig([{ ...strategy, id: shared, status: 'active' }]);
    expect((await repo.get(`a${suffix}`, shared))?.owner).toBe(SHARED_OWNER);
    // an unchanged config strategy is unchanged on the next start, whatever order jsonb keeps its keys in
    expect((await repo.syncFromConfig([{ ...strategy, id: shared, status: 'active', parameters: { zz: 1, a: { y: 2, b: 3 } } }])).changed).toEqual([
      `${shared}@1`,
    ]);
    const other = `shared2${suffix}.s`;
    await repo.syncFromConfig([{ ...strategy, id: other, status: 'active', parameters: { zz: 1, a: { y: 2, b: 3 } } }]);
    expect(await repo.syncFromConfig([{ ...strategy, id: other, status: 'active', parameters: { zz: 1, a: { y: 2, b: 3 } } }])).toEqual({
      inserted: 0,
      changed: [],
    });
    const taken = await repo.createDraft(`a${suffix}`, { ...strategy, id: shared }, 'alice').catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(StrategyConflict);
    expect((taken as Error).message).toMatch(/shared strategy from config/);
  });
});
