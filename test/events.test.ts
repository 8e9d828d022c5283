import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { sign } from '../api/intake/signature.js';
import { events, manualReviews } from '../store/schema.js';
import { hashKey, type TenantConfig } from '../workers/config.js';
import { startApi } from './api-helpers.js';
import { createHarness, resultOf } from './helpers.js';
import { startHttpTarget } from './http-target.js';

const suffix = randomUUID().slice(0, 8);
const T = `shop${suffix}`;
const T2 = `rival${suffix}`;
const SLOW = `slow${suffix}`;
const SECRET = `whsec-${suffix}`;
const key = (n: string) => `${n}-${suffix}`;
const tenants: TenantConfig = {
  tenants: new Map([
    [T, { id: T, name: T, status: 'active', signingSecret: SECRET }],
    [T2, { id: T2, name: T2, status: 'active', signingSecret: 'other-secret' }],
    [SLOW, { id: SLOW, name: SLOW, status: 'active', signingSecret: SECRET, rateLimit: { rate: 0.01, burst: 2 } }],
    [`off${suffix}`, { id: `off${suffix}`, name: 'off', status: 'disabled', signingSecret: SECRET }],
  ]),
  keys: [
    { id: 'author', tenant: T, hash: hashKey(key('author')), roles: ['operator'] },
    { id: 'approver', tenant: T, hash: hashKey(key('approver')), roles: ['approver'] },
    { id: 'admin', tenant: T, hash: hashKey(key('admin')), roles: ['admin'] },
    { id: 'viewer', tenant: T, hash: hashKey(key('viewer')), roles: ['viewer'] },
    { id: 'rival', tenant: T2, hash: hashKey(key('rival')), roles: ['admin'] },
  ],
};

const WF = `w${suffix}.invoice`;
const workflowYaml = (version: string, note: string) => `
ref: ${WF}
version: ${version}
parameters:
  invoice_id: { type: string, required: true }
tasks:
  - name: close
    action: core.echo
    input: { message: "${note} {{ parameters.invoice_id }} {{ event.type }}" }
output_map:
  said: "{{ task.close.result.message }}"
`;
const strategyJson = (workflow: string, over: Record<string, unknown> = {}) => ({
  id: `s${suffix}.billing`,
  on: 'plugin.job.*',
  when: ["{{ event.payload.job_type == 'billing' }}"],
  priority: 10,
  workflow,
  parameters: { invoice_id: '{{ event.payload.invoice_id }}' },
  ...over,
});

function envelope(over: Record<string, unknown> = {}, payload: Record<string, unknown> = {}) {
  const id = `evt_${randomUUID()}`;
  return {
    id,
    type: 'plugin.job.completed',
    tenant: T,
    idempotency_key: `job-${id}`,
    payload: { job_type: 'billing', invoice_id: 'INV-1', ...payload },
    ...over,
  };
}

describe('event intake, strategies and manual review (real Temporal, PostgreSQL, HTTP)', async () => {
  const h = await createHarness();
  const ops = await startHttpTarget();
  let api = await startApi(h, tenants, {});
  const call = async (method: string, path: string, opts: { key?: string; json?: unknown } = {}) => {
    const res = await fetch(api.base + path, {
      method,
      headers: {
        ...(opts.key ? { authorization: `Bearer ${key(opts.key)}` } : {}),
        ...(opts.json !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(opts.json !== undefined ? { body: JSON.stringify(opts.json) } : {}),
    });
    return { status: res.status, headers: res.headers, body: (await res.json().catch(() => null)) as Record<string, any> };
  };
  const send = async (body: string | object, opts: { secret?: string; at?: number; signature?: string | null } = {}) => {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    const signature = opts.signature === null ? undefined : (opts.signature ?? sign(opts.secret ?? SECRET, raw, opts.at));
    const res = await fetch(`${api.base}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(signature ? { 'x-closeloop-signature': signature } : {}) },
      body: raw,
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const runExists = async (id: string) =>
    h.client.workflow
      .getHandle(id)
      .describe()
      .then(
        () => true,
        () => false,
      );
  /** The handle of a run an accepted event starts from the inbox, once it exists (the answer came before the start). */
  const startedRun = async (id: string) => {
    for (let i = 0; i < 100 && !(await runExists(id)); i++) await new Promise((res) => setTimeout(res, 100));
    return h.client.workflow.getHandle(id);
  };
  const worker = <T>(fn: () => Promise<T>) => h.withWorker(fn, { deps: { endpoints: () => ({ manualReview: `${ops.url}/ops/manual-review` }) } });

  const sid = `s${suffix}.billing`;
  it('publishes a strategy: draft, self-approval refused, approval by another identity, activation', async () => {
    expect((await call('POST', '/v1/workflows', { key: 'admin', json: { yaml: workflowYaml('1.0.0', 'v1') } })).status).toBe(201);
    expect((await call('POST', '/v1/strategies', { key: 'viewer', json: strategyJson(`${WF}@1.0.0`) })).status).toBe(403);
    const bad = await call('POST', '/v1/strategies', { key: 'author', json: { ...strategyJson(`${WF}@1.0.0`), weight: 300 } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details[0].location).toBe('weight');
    const draft = await call('POST', '/v1/strategies', { key: 'author', json: strategyJson(`${WF}@1.0.0`) });
    expect(draft.status).toBe(201);
    expect(draft.body).toMatchObject({ id: sid, version: 1, status: 'draft', tenants: [T] });
    // activating an unapproved draft, and approving one's own draft, are refused
    expect((await call('POST', `/v1/strategies/${sid}/activate`, { key: 'approver', json: { version: 1 } })).status).toBe(409);
    const self = await call('POST', '/v1/strategies', { key: 'admin', json: strategyJson(`${WF}@1.0.0`, { id: `s${suffix}.self` }) });
    const selfApprove = await call('POST', `/v1/strategies/s${suffix}.self/approve`, { key: 'admin', json: { version: self.body.version } });
    expect(selfApprove.status).toBe(403);
    expect(selfApprove.body.error.message).toMatch(/different identity/);
    expect((await call('POST', `/v1/strategies/${sid}/approve`, { key: 'author', json: { version: 1 } })).status).toBe(403); // operator lacks the role
    expect((await call('POST', `/v1/strategies/${sid}/approve`, { key: 'approver', json: { version: 1 } })).body).toMatchObject({
      status: 'approved',
      approved_by: 'approver',
    });
    expect((await call('POST', `/v1/strategies/${sid}/activate`, { key: 'approver', json: { version: 1 } })).body).toMatchObject({
      status: 'active',
      previous_active: null,
    });
    // another tenant neither sees nor can touch it
    expect((await call('GET', '/v1/strategies', { key: 'rival' })).body.strategies.map((s: { id: string }) => s.id)).not.toContain(sid);
    expect((await call('POST', `/v1/strategies/${sid}/rollback`, { key: 'rival' })).status).toBe(404);
  });

  let firstRun = '';
  it('a signed event starts the strategy’s workflow with rendered parameters', async () => {
    const e = envelope();
    const r = await send(e);
    expect(r.status).toBe(202);
    // acknowledged once stored and matched: the run starts from the inbox
    expect(r.body).toMatchObject({ event_id: e.id, status: 'accepted', strategy: `${sid}@1`, execution_id: `run:${T}:${e.idempotency_key}` });
    firstRun = r.body.execution_id;
    for (let i = 0; i < 100 && (await call('GET', `/v1/events/${e.id}`, { key: 'viewer' })).body.status !== 'started'; i++)
      await new Promise((res) => setTimeout(res, 100));
    const summary = await worker(() => resultOf(h.client.workflow.getHandle(firstRun)));
    expect(summary.status).toBe('succeeded');
    expect(summary.output).toEqual({ said: 'v1 INV-1 plugin.job.completed' });
    const desc = await h.client.workflow.getHandle(firstRun).describe();
    expect(desc.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value])).toContainEqual(['CloseloopStrategy', `${sid}@1`]);
    // runs filtered by strategy id and by a part of the run id
    const bySid = await call('GET', `/v1/executions?strategy=${sid}`, { key: 'viewer' });
    expect(bySid.body.executions.map((x: { id: string }) => x.id)).toContain(firstRun);
    expect(bySid.body.executions.every((x: { strategy: string }) => x.strategy.startsWith(`${sid}@`))).toBe(true);
    const byPart = await call('GET', `/v1/executions?q=${encodeURIComponent(e.idempotency_key.slice(-8))}`, { key: 'viewer' });
    expect(byPart.body.executions.map((x: { id: string }) => x.id)).toEqual([firstRun]);
    expect((await call('GET', '/v1/executions?strategy=nosuch', { key: 'viewer' })).body.executions).toEqual([]);
    const stored = await call('GET', `/v1/events/${e.id}`, { key: 'viewer' });
    expect(stored.body).toMatchObject({ status: 'started', execution_id: firstRun, envelope: e });
    expect((await call('GET', `/v1/events/${e.id}`, { key: 'rival' })).status).toBe(404);
    expect((await call('GET', `/v1/executions/${encodeURIComponent(firstRun)}`, { key: 'rival' })).status).toBe(404);
  });

  it('100 concurrent copies of one event start exactly one run', async () => {
    const e = envelope();
    const raw = JSON.stringify(e);
    const answers = await Promise.all(Array.from({ length: 100 }, () => send(raw)));
    expect(answers.map((a) => a.status)).toEqual(Array(100).fill(202));
    expect(answers.filter((a) => a.body.status === 'accepted')).toHaveLength(1);
    expect(answers.filter((a) => a.body.status === 'duplicate')).toHaveLength(99);
    expect(new Set(answers.map((a) => a.body.execution_id))).toEqual(new Set([`run:${T}:${e.idempotency_key}`]));
    const rows = await h.store.db.select().from(events).where(eq(events.idempotencyKey, e.idempotency_key));
    expect(rows).toHaveLength(1);
    const list = h.client.workflow.list({ query: `WorkflowId = 'run:${T}:${e.idempotency_key}'` });
    let n = 0;
    for await (const _ of list) n++;
    expect(n).toBe(1);
  });

  it('a replayed event after an API restart is a duplicate of the first run', async () => {
    const first = await call('GET', '/v1/events/' + (await h.store.db.select().from(events).where(eq(events.executionId, firstRun)))[0]!.id, { key: 'viewer' });
    api.close();
    api = await startApi(h, tenants, {});
    const again = await send(first.body.envelope);
    expect(again).toMatchObject({ status: 202, body: { status: 'duplicate', execution_id: firstRun, strategy: `${sid}@1` } });
  });

  it('refuses bad input with the right status and starts nothing', async () => {
    const cases: [string, Promise<{ status: number; body: Record<string, any> }>, number, string][] = [];
    const e1 = envelope();
    cases.push([e1.idempotency_key, send(e1, { secret: 'wrong' }), 401, 'bad_signature']);
    const e2 = envelope();
    cases.push([e2.idempotency_key, send(e2, { at: Math.floor(Date.now() / 1000) - 301 }), 401, 'bad_signature']);
    const e3 = envelope();
    cases.push([e3.idempotency_key, send(e3, { signature: null }), 401, 'bad_signature']);
    const e4 = envelope({ tenant: `nobody${suffix}` });
    cases.push([e4.idempotency_key, send(e4), 401, 'unknown_tenant']);
    const e5 = envelope({ tenant: `off${suffix}` });
    cases.push([e5.idempotency_key, send(e5), 403, 'tenant_disabled']);
    cases.push(['malformed', send('{"id": "x", '), 400, 'malformed_json']);
    const e6 = envelope({ type: 'has spaces' });
    cases.push([e6.idempotency_key, send(e6), 400, 'invalid_event']);
    const e7 = envelope({}, { blob: 'x'.repeat(300 * 1024) });
    cases.push([e7.idempotency_key, send(e7), 413, 'too_large']);
    for (const [k, pending, status, code] of cases) {
      const r = await pending;
      expect([k, r.status, r.body.error?.code]).toEqual([k, status, code]);
      expect(await h.store.db.select().from(events).where(eq(events.idempotencyKey, k))).toEqual([]);
      expect(await runExists(`run:${T}:${k}`)).toBe(false);
    }
    const invalid = await cases[6]![1];
    expect(invalid.body.error.details).toContainEqual(expect.objectContaining({ location: 'body.type' }));
  });

  it('rate-limits a tenant with 429 and Retry-After', async () => {
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await send(envelope({ tenant: SLOW, type: 'nothing.listens' })));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 429]);
    expect(answers[2]!.body.error.code).toBe('rate_limited');
  });

  it('an unmatched event opens a manual review delivered to the ops endpoint', async () => {
    const e = envelope({}, { job_type: 'payroll' });
    const r = await send(e);
    expect(r.body).toMatchObject({ status: 'unmatched', strategy: null, execution_id: null });
    const reviewId = `review:${T}:${e.idempotency_key}`;
    await worker(() => h.client.workflow.getHandle(reviewId).result());
    const posted = ops.received.find((x) => x.headers['idempotency-key'] === reviewId)!;
    expect(posted.path).toBe('/ops/manual-review');
    expect(JSON.parse(posted.body)).toMatchObject({ id: reviewId, tenant: T, reason: 'unmatched', detail: { event: { id: e.id, type: e.type } } });
    const [row] = await h.store.db.select().from(manualReviews).where(eq(manualReviews.id, reviewId));
    expect(row).toMatchObject({ status: 'open', reason: 'unmatched' });
    expect(row!.notifiedAt).not.toBeNull();
    expect((await send(e)).body.status).toBe('duplicate');

    // the console's views: the event with its decision, the queue, settling an item once
    const listed = await call('GET', '/v1/events?status=unmatched', { key: 'viewer' });
    const mine = listed.body.events.find((x: { id: string }) => x.id === e.id);
    expect(mine).toMatchObject({ status: 'unmatched', strategy: null, review: { id: reviewId, reason: 'unmatched' } });
    expect(mine.candidates).toEqual(expect.any(Array));
    expect(listed.body.events.every((x: { status: string }) => x.status === 'unmatched')).toBe(true);
    const started = await call('GET', '/v1/events?status=started', { key: 'viewer' });
    expect(started.body.events.find((x: { id: string }) => x.id)?.candidates?.[0]).toMatchObject({ id: sid, matched: true });
    expect((await call('GET', '/v1/events?status=nope', { key: 'viewer' })).status).toBe(400);
    expect((await call('GET', '/v1/events?cursor=abc', { key: 'viewer' })).status).toBe(400);
    const queue = await call('GET', '/v1/reviews?status=open', { key: 'viewer' });
    expect(queue.body.reviews.map((x: { id: string }) => x.id)).toContain(reviewId);
    expect((await call('POST', `/v1/reviews/${encodeURIComponent(reviewId)}/dismiss`, { key: 'viewer', json: {} })).status).toBe(403);
    const settled = await call('POST', `/v1/reviews/${encodeURIComponent(reviewId)}/dismiss`, { key: 'author', json: { note: 'a payroll test event' } });
    expect(settled.body).toMatchObject({ status: 'dismissed', resolved_by: 'author', detail: { note: 'a payroll test event' } });
    expect((await call('POST', `/v1/reviews/${encodeURIComponent(reviewId)}/resolve`, { key: 'author', json: {} })).status).toBe(409);
    expect((await call('GET', '/v1/me', { key: 'viewer' })).body).toEqual({ tenant: T, key_id: 'viewer', roles: ['viewer'] });
  });

  it('a new version takes over, runs keep theirs, and rollback restores the previous one in one call', async () => {
    expect((await call('POST', '/v1/workflows', { key: 'admin', json: { yaml: workflowYaml('2.0.0', 'v2') } })).status).toBe(201);
    const v2 = await call('POST', '/v1/strategies', { key: 'author', json: strategyJson(`${WF}@2.0.0`) });
    expect(v2.body.version).toBe(2);
    await call('POST', `/v1/strategies/${sid}/approve`, { key: 'approver', json: { version: 2 } });
    expect((await call('POST', `/v1/strategies/${sid}/activate`, { key: 'admin', json: { version: 2 } })).body).toMatchObject({
      status: 'active',
      previous_active: 1,
    });
    const onV2 = await send(envelope());
    expect(onV2.body.strategy).toBe(`${sid}@2`);
    const rb = await call('POST', `/v1/strategies/${sid}/rollback`, { key: 'approver' });
    expect(rb.body).toEqual({ id: sid, rolled_back_from: 2, active_version: 1 });
    const onV1 = await send(envelope());
    expect(onV1.body.strategy).toBe(`${sid}@1`);
    const [a, b] = await worker(async () =>
      Promise.all([resultOf(await startedRun(onV2.body.execution_id)), resultOf(await startedRun(onV1.body.execution_id))]),
    );
    expect(a.output).toEqual({ said: 'v2 INV-1 plugin.job.completed' });
    expect(b.output).toEqual({ said: 'v1 INV-1 plugin.job.completed' });
    expect(
      (await call('GET', `/v1/strategies/${sid}`, { key: 'viewer' })).body.versions.map((v: { version: number; status: string }) => `${v.version}:${v.status}`),
    ).toEqual(['2:disabled', '1:active']);
  });

  it('the direct trigger starts a workflow with the task result in scope', async () => {
    const r = await call('POST', '/internal/agent/workflow/trigger', {
      key: 'author',
      json: { workflow: `${WF}@1.0.0`, parameters: { invoice_id: 'INV-7' }, task_result: { ok: true }, idempotency_key: `trig-${suffix}` },
    });
    expect(r.status).toBe(202);
    const s = await worker(() => resultOf(h.client.workflow.getHandle(r.body.execution_id)));
    expect(s.output).toEqual({ said: 'v1 INV-7 agent.workflow.trigger' });
    expect(
      (await call('POST', '/internal/agent/workflow/trigger', { key: 'author', json: { workflow: WF, tenant: T2, parameters: { invoice_id: 'x' } } })).status,
    ).toBe(403);
    expect((await call('POST', '/internal/agent/workflow/trigger', { key: 'viewer', json: { workflow: WF, parameters: { invoice_id: 'x' } } })).status).toBe(
      403,
    );
    expect((await call('POST', '/internal/agent/workflow/trigger', { key: 'author', json: { workflow: WF, parameters: {} } })).status).toBe(400);
  });

  it('a run may call only what its strategy permits', async () => {
    const probe = await startHttpTarget();
    const ref = `w${suffix}.probe`;
    const yaml = `ref: ${ref}\nversion: 1.0.0\ntasks:\n  - name: call\n    action: core.http\n    input: { url: "${probe.url}/hit", method: POST }\n`;
    expect((await call('POST', '/v1/workflows', { key: 'admin', json: { yaml } })).status).toBe(201);
    for (const [id, permissions] of [
      [`p${suffix}.denied`, ['http:example.com', 'plugin:billing-svc']],
      [`p${suffix}.allowed`, ['http:127.0.0.*']],
    ] as const) {
      const d = await call('POST', '/v1/strategies', { key: 'author', json: { id, on: `probe.${id.split('.')[1]}`, workflow: ref, permissions } });
      await call('POST', `/v1/strategies/${id}/approve`, { key: 'approver', json: { version: d.body.version } });
      await call('POST', `/v1/strategies/${id}/activate`, { key: 'approver', json: { version: d.body.version } });
    }
    const denied = await send(envelope({ type: 'probe.denied' }));
    const allowed = await send(envelope({ type: 'probe.allowed' }));
    const [no, yes] = await worker(async () =>
      Promise.all([resultOf(await startedRun(denied.body.execution_id)), resultOf(await startedRun(allowed.body.execution_id))]),
    );
    expect(no.status).toBe('failed');
    expect(no.tasks[0]!.error).toEqual({
      type: 'PermissionDenied',
      message: `task 'call' needs 'http:127.0.0.1', which strategy 'p${suffix}.denied@1' does not permit (permissions: http:example.com, plugin:billing-svc)`,
    });
    expect(yes.status).toBe('succeeded');
    expect(probe.received).toHaveLength(1);
    await probe.close();
  });

  it('exports the intake and run metrics at /metrics in Prometheus text', async () => {
    const text = await (await fetch(`${api.base}/metrics`)).text();
    for (const name of [
      'events_ingested_total{status="accepted",tenant=',
      'events_ingested_total{status="duplicate",tenant=',
      'events_ingested_total{status="bad_signature"}',
      'agent_workflow_generated_total',
      'agent_manual_escalation_total',
      'agent_strategy_hit_rate',
      'agent_node_success_total',
      'agent_workflow_latency_seconds_bucket',
    ]) {
      expect(text, name).toContain(name);
    }
    const latency = /agent_workflow_latency_seconds_count\{[^}]*\} (\d+)/.exec(text);
    expect(Number(latency?.[1])).toBeGreaterThan(0);
  });

  it("a tenant's events page reads that tenant's events by time, not every tenant's", async () => {
    // the planner may scan a small table whole; with scans off it must still pick the tenant's index
    const plan = await h.store.db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL enable_seqscan = off`);
      return (await tx.execute(sql`EXPLAIN SELECT * FROM events WHERE tenant = ${T} ORDER BY received_at DESC LIMIT 50`)) as unknown as {
        'QUERY PLAN': string;
      }[];
    });
    expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Index Scan Backward using events_tenant_received/);
  });

  it('cleans up', async () => {
    api.close();
    await ops.close();
    await h.close();
  });
});
