// Issue #16 items 1 and 2: events are acknowledged once stored and matched, runs start from the
// durable inbox, a full inbox answers 429 at once, and nothing accepted is lost when the process
// that accepted it cannot start it (Temporal away, or the process gone): another one does.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq } from 'drizzle-orm';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../api/app.js';
import { createIntake } from '../api/intake/index.js';
import { StrategyLibrary } from '../api/strategy-library.js';
import { validateWorkflow } from '../dsl/index.js';
import { WorkflowRepo } from '../store/workflows-repo.js';
import { sign } from '../api/intake/signature.js';
import { StrategyRepo } from '../store/strategies-repo.js';
import { parseStrategies } from '../dsl/strategy.js';
import { events } from '../store/schema.js';
import { hashKey, type TenantConfig } from '../workers/config.js';
import { createHarness, type Harness } from './helpers.js';

const suffix = randomUUID().slice(0, 8);
const T = `inbox${suffix}`;
const SECRET = `whsec-${suffix}`;
const KEY = `key-${suffix}`;
const tenants: TenantConfig = {
  tenants: new Map([[T, { id: T, name: T, status: 'active', signingSecret: SECRET }]]),
  keys: [{ id: 'admin', tenant: T, hash: hashKey(KEY), roles: ['admin'] }],
};
const WF = `i${suffix}.w`;
let h: Harness;
const servers: Server[] = [];
const stops: (() => Promise<void>)[] = [];

async function api(client: Client, inbox: { maxBacklog: number; maxAgeSeconds: number; concurrency: number }) {
  const library = new StrategyLibrary(new StrategyRepo(h.store.db), 0);
  const launch = {
    repo: new WorkflowRepo(h.store.db),
    store: h.store,
    client,
    taskQueue: h.taskQueue,
    packs: () => ({ actions: new Map(), config: new Map() }),
  };
  const intake = createIntake({ launch, library, tenants: () => tenants, inbox });
  const app = createApp({ store: h.store, client, tenants: () => tenants, taskQueue: h.taskQueue, intake, library });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  servers.push(server);
  const stop = async () => {
    server.close();
    await intake.dispatcher?.stop();
  };
  stops.push(stop);
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stop };
}
const send = async (base: string, n: number, query = '') => {
  const raw = JSON.stringify({ id: `evt_${suffix}_${n}`, type: `inbox${suffix}.done`, tenant: T, payload: { n } });
  const res = await fetch(`${base}/v1/events${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-closeloop-signature': sign(SECRET, raw) },
    body: raw,
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, any> };
};
const rowsByStatus = async () => {
  const rows = await h.store.db
    .select()
    .from(events)
    .where(and(eq(events.tenant, T)));
  return rows.reduce<Record<string, number>>((m, r) => ((m[r.status] = (m[r.status] ?? 0) + 1), m), {});
};

beforeAll(async () => {
  h = await createHarness();
  const yaml = `ref: ${WF}\nversion: 1.0.0\nparameters:\n  n: { type: integer }\ntasks:\n  - name: a\n    action: core.noop\n`;
  await new WorkflowRepo(h.store.db).register(T, validateWorkflow(yaml).workflow!, yaml, 'test');
  const repo = new StrategyRepo(h.store.db);
  const s = parseStrategies(`id: i${suffix}.s\non: inbox${suffix}.done\nworkflow: ${WF}\nparameters: { n: "{{ event.payload.n }}" }\n`, { single: true })
    .strategies[0]!;
  await repo.createDraft(T, s, 'alice');
  await repo.approve(T, s.id, 1, 'bob');
  await repo.activate(T, s.id, 1);
});
afterAll(async () => {
  for (const stop of stops) await stop();
  await h?.close();
});

describe('the durable inbox', () => {
  it('a burst past the bound gets 429 at once; everything accepted starts once Temporal is back, in another process', async () => {
    // a process whose Temporal is away: it stores and matches, but cannot start anything
    const conn = await Connection.connect({ address: inject('temporalAddress') });
    const dead = new Client({ connection: conn });
    await conn.close();
    const down = await api(dead, { maxBacklog: 20, maxAgeSeconds: 600, concurrency: 4 });
    const answers = [];
    for (let n = 0; n < 60; n++) answers.push(await send(down.base, n));
    const accepted = answers.filter((a) => a.status === 202);
    const refused = answers.filter((a) => a.status === 429);
    expect(accepted.length).toBeGreaterThanOrEqual(20);
    expect(refused.length).toBeGreaterThan(0);
    expect(accepted.length + refused.length).toBe(60);
    for (const a of accepted) expect(a.body).toMatchObject({ status: 'accepted', execution_id: expect.stringMatching(`^run:${T}:`) });
    expect(refused[0]!.body.error.code).toBe('inbox_full');
    expect(Number(refused[0]!.retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await rowsByStatus()).accepted).toBe(accepted.length);
    // the process dies; a healthy one (same database) starts every accepted event's run, once
    await down.stop();
    const up = await api(h.client, { maxBacklog: 1000, maxAgeSeconds: 600, concurrency: 8 });
    const end = Date.now() + 60_000;
    while ((await rowsByStatus()).accepted && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    expect(await rowsByStatus()).toEqual({ started: accepted.length });
    for (const a of accepted.slice(0, 5)) expect((await h.client.workflow.getHandle(a.body.execution_id).describe()).status.name).toBeDefined();
    // a late copy of an accepted event is a duplicate of the same run
    const again = await send(up.base, 0);
    expect(again.body).toMatchObject({ status: 'duplicate', execution_id: accepted[0]!.body.execution_id });
  }, 120_000);

  it('an event stored by a process that stopped before routing it is routed and started by another', async () => {
    const id = `evt_${suffix}_stale`;
    const envelope = { id, type: `inbox${suffix}.done`, tenant: T, payload: { n: 7 } };
    await h.store.db.insert(events).values({
      tenant: T,
      idempotencyKey: id,
      id,
      type: envelope.type,
      envelope,
      transport: 'http',
      status: 'received',
      receivedAt: new Date(Date.now() - 60_000).toISOString(),
    });
    await api(h.client, { maxBacklog: 1000, maxAgeSeconds: 600, concurrency: 8 });
    const row = async () =>
      (
        await h.store.db
          .select()
          .from(events)
          .where(and(eq(events.tenant, T), eq(events.idempotencyKey, id)))
      )[0]!;
    const end = Date.now() + 30_000;
    while ((await row()).status !== 'started' && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    expect(await row()).toMatchObject({ status: 'started', executionId: `run:${T}:${id}` });
    expect((await h.client.workflow.getHandle(`run:${T}:${id}`).describe()).workflowId).toBe(`run:${T}:${id}`);
  });

  it('100 concurrent copies of one event, split over two API instances, start one run', async () => {
    const a = await api(h.client, { maxBacklog: 1000, maxAgeSeconds: 600, concurrency: 8 });
    const b = await api(h.client, { maxBacklog: 1000, maxAgeSeconds: 600, concurrency: 8 });
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => send(i % 2 ? a.base : b.base, 2000)));
    expect(answers.map((x) => x.status)).toEqual(Array(100).fill(202));
    expect(answers.filter((x) => x.body.status === 'accepted')).toHaveLength(1);
    expect(answers.filter((x) => x.body.status === 'duplicate')).toHaveLength(99);
    const id = `run:${T}:evt_${suffix}_2000`;
    const row = async () =>
      (
        await h.store.db
          .select()
          .from(events)
          .where(and(eq(events.tenant, T), eq(events.idempotencyKey, `evt_${suffix}_2000`)))
      )[0]!;
    const end = Date.now() + 30_000;
    while ((await row()).status !== 'started' && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    // visibility may lag a start by a moment: count until it shows the run
    let runs = 0;
    for (let i = 0; i < 50 && runs === 0; i++) {
      for await (const _ of h.client.workflow.list({ query: `WorkflowId = '${id}'` })) runs++;
      if (runs === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(runs).toBe(1);
  });

  it('an old event of a tenant no process serves any more does not close the inbox to the others', async () => {
    const gone = `gone${suffix}`;
    const id = `evt_${suffix}_gone`;
    await h.store.db.insert(events).values({
      tenant: gone,
      idempotencyKey: id,
      id,
      type: `inbox${suffix}.done`,
      envelope: { id, type: `inbox${suffix}.done`, tenant: gone, payload: {} },
      transport: 'http',
      status: 'accepted',
      receivedAt: new Date(Date.now() - 1_200_000).toISOString(),
    });
    const up = await api(h.client, { maxBacklog: 1000, maxAgeSeconds: 600, concurrency: 8 });
    await new Promise((r) => setTimeout(r, 1200)); // past the dispatcher's first backlog reading
    const r = await send(up.base, 3000);
    expect(r.status).toBe(202);
    expect(r.body.status).toBe('accepted');
  });

  it('?wait=started answers once the run has started', async () => {
    const up = await api(h.client, { maxBacklog: 1000, maxAgeSeconds: 600, concurrency: 8 });
    const r = await send(up.base, 1000, '?wait=started');
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ status: 'started', execution_id: `run:${T}:evt_${suffix}_1000` });
    expect((await h.client.workflow.getHandle(r.body.execution_id).describe()).workflowId).toBe(r.body.execution_id);
  });

  it('exports the backlog as metrics', async () => {
    const up = await api(h.client, { maxBacklog: 1000, maxAgeSeconds: 600, concurrency: 8 });
    const text = await (await fetch(`${up.base}/metrics`)).text();
    expect(text).toMatch(/^closeloop_inbox_backlog \d+/m);
    expect(text).toMatch(/^closeloop_inbox_oldest_age_seconds [\d.]+/m);
  });
});

describe('the inbox under a burst', () => {
  it('events arriving together are stored together: each is accepted once, and its copy in the same burst is its duplicate', async () => {
    const a = await api(h.client, { maxBacklog: 1000, maxAgeSeconds: 600, concurrency: 8 });
    const ns = Array.from({ length: 60 }, (_, i) => 4000 + i);
    const answers = await Promise.all([...ns, ...ns].map((n) => send(a.base, n).then((r) => ({ n, ...r }))));
    expect(answers.map((x) => x.status)).toEqual(Array(120).fill(202));
    for (const n of ns) {
      const pair = answers.filter((x) => x.n === n);
      expect(pair.map((x) => x.body.status).sort()).toEqual(['accepted', 'duplicate']);
      expect(pair.map((x) => x.body.execution_id)).toEqual([`run:${T}:evt_${suffix}_${n}`, `run:${T}:evt_${suffix}_${n}`]);
    }
    const stored = await h.store.db.select().from(events).where(eq(events.tenant, T));
    expect(stored.filter((r) => ns.some((n) => r.idempotencyKey === `evt_${suffix}_${n}`))).toHaveLength(60);
  });
});
