import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { connect, headers } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { eq } from 'drizzle-orm';
import { describe, expect, inject, it } from 'vitest';
import { createIntake } from '../api/intake/index.js';
import { startEventBus, type EventBus } from '../api/intake/nats.js';
import { sign } from '../api/intake/signature.js';
import type { Intake } from '../api/intake/intake.js';
import { StrategyLibrary } from '../api/strategy-library.js';
import { withDefaults } from '../dsl/strategy.js';
import { events, eventsOut } from '../store/schema.js';
import { StrategyRepo } from '../store/strategies-repo.js';
import { WorkflowRepo } from '../store/workflows-repo.js';
import type { TenantConfig } from '../workers/config.js';
import { compile, createHarness } from './helpers.js';

const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';
const suffix = randomUUID().slice(0, 8);
const T = `bus${suffix}`;
const SECRET = `bus-secret-${suffix}`;
const ROOT = `tev${suffix}`;
const DEAD = `tdl${suffix}`;
const tenants: TenantConfig = { tenants: new Map([[T, { id: T, name: T, status: 'active', signingSecret: SECRET }]]), keys: [] };

describe('NATS JetStream event bus (real nats-server)', async () => {
  const h = await createHarness();
  const nc = await connect({ servers: NATS_URL });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const library = new StrategyLibrary(new StrategyRepo(h.store.db), 0);
  const launch = {
    repo: new WorkflowRepo(h.store.db),
    store: h.store,
    client: h.client,
    taskQueue: h.taskQueue,
    packs: () => ({ actions: new Map(), config: new Map() }),
  };
  const intake = createIntake({ launch, library, tenants: () => tenants });
  const names = (tag: string) => ({
    stream: `EV_${suffix}_${tag}`,
    deadLetterStream: `DL_${suffix}_${tag}`,
    eventsRoot: `${ROOT}${tag}`,
    deadLetterRoot: `${DEAD}${tag}`,
    durable: `intake-${tag}`,
  });
  const bus = (tag: string, over: Partial<Parameters<typeof startEventBus>[0]> = {}) =>
    startEventBus({ url: NATS_URL, intake, ackWait: 2, maxDeliver: 3, log: () => {}, ...names(tag), ...over });
  const publish = async (tag: string, body: object, opts: { secret?: string } = {}) => {
    const raw = JSON.stringify(body);
    const h2 = headers();
    h2.set('X-Closeloop-Signature', sign(opts.secret ?? SECRET, raw));
    await js.publish(`${ROOT}${tag}.${(body as { type: string }).type}`, raw, { headers: h2 });
  };
  const envelope = (type = 'bus.job.done') => {
    const id = `evt_${randomUUID()}`;
    return { id, type, tenant: T, idempotency_key: `k-${id}`, payload: { n: 1 } };
  };
  const eventRow = async (key: string) => (await h.store.db.select().from(events).where(eq(events.idempotencyKey, key)))[0];
  const until = async <V>(fn: () => Promise<V | undefined | null | false>, ms = 20_000): Promise<V> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > end) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const deadLetters = async (tag: string) => {
    const info = await jsm.streams.info(names(tag).deadLetterStream);
    const out = [];
    for (let seq = info.state.first_seq; info.state.messages && seq <= info.state.last_seq; seq++)
      out.push(await jsm.streams.getMessage(names(tag).deadLetterStream, { seq }));
    return out;
  };

  // a strategy and its workflow for this tenant
  const wf = compile(`ref: b${suffix}.job\nversion: 1.0.0\ntasks:\n  - name: a\n    action: core.noop\n`);
  await launch.repo.register(T, wf, 'yaml', 'test');
  const strategies = new StrategyRepo(h.store.db);
  const draft = await strategies.createDraft(T, withDefaults({ id: `b${suffix}.on_done`, on: 'bus.job.*', workflow: wf.ref }), 'author');
  await strategies.approve(T, draft.id, draft.version, 'approver');
  await strategies.activate(T, draft.id, draft.version);

  it('a signed event on the bus starts its run; a duplicate does not start another', async () => {
    const b = await bus('a');
    try {
      const e = envelope();
      await publish('a', e);
      await publish('a', e);
      const row = await until(async () => (await eventRow(e.idempotency_key))?.status === 'started' && eventRow(e.idempotency_key));
      expect(row).toMatchObject({ transport: 'nats', executionId: `run:${T}:${e.idempotency_key}`, strategyId: `b${suffix}.on_done` });
      await until(
        async () =>
          (await jsm.consumers.info(names('a').stream, names('a').durable)).num_ack_pending === 0 &&
          (await jsm.consumers.info(names('a').stream, names('a').durable)).num_pending === 0,
      );
      const list = h.client.workflow.list({ query: `WorkflowId = 'run:${T}:${e.idempotency_key}'` });
      let n = 0;
      for await (const _ of list) n++;
      expect(n).toBe(1);
    } finally {
      await b.stop();
    }
  });

  it('events out are recorded in the database and published on the bus (subject = type)', async () => {
    const b = await bus('o');
    const seen: { subject: string; body: Record<string, any> }[] = [];
    const subs = ['agent.task.completed', 'plugin.workflow.completed'].map((s) =>
      nc.subscribe(s, { callback: (_err, m) => void seen.push({ subject: m.subject, body: m.json() }) }),
    );
    try {
      const e = envelope();
      await publish('o', e);
      const id = `run:${T}:${e.idempotency_key}`;
      await until(async () => (await eventRow(e.idempotency_key))?.status === 'started');
      await h.withWorker(() => h.client.workflow.getHandle(id).result(), { deps: { publish: b.publish } });
      const mine = await until(async () => {
        const m = seen.filter((x) => x.body.payload.execution_id === id);
        return m.length >= 2 && m;
      });
      expect(mine.map((m) => m.subject).sort()).toEqual(['agent.task.completed', 'plugin.workflow.completed']);
      expect(mine.find((m) => m.subject === 'plugin.workflow.completed')!.body).toMatchObject({
        type: 'plugin.workflow.completed',
        tenant: T,
        payload: { status: 'succeeded', workflow: `b${suffix}.job` },
      });
      const rows = await h.store.db.select().from(eventsOut).where(eq(eventsOut.tenant, T));
      expect(rows.filter((r) => (r.payload as { execution_id: string }).execution_id === id).every((r) => r.publishedAt !== null)).toBe(true);
    } finally {
      subs.forEach((s) => s.unsubscribe());
      await b.stop();
    }
  });

  it('a bad signature is dead-lettered at once with its envelope intact, and nothing is stored', async () => {
    const b = await bus('b');
    try {
      const e = envelope();
      await publish('b', e, { secret: 'forged' });
      const [dead] = await until(async () => ((await deadLetters('b')).length ? deadLetters('b') : undefined));
      expect(JSON.parse(new TextDecoder().decode(dead!.data))).toEqual(e);
      expect(dead!.subject).toBe(`${DEAD}b.${ROOT}b.bus.job.done`);
      expect(dead!.header.get('Closeloop-Dead-Reason')).toMatch(/^401 bad_signature/);
      expect(dead!.header.get('X-Closeloop-Signature')).toMatch(/^t=\d+,v1=/);
      expect(await eventRow(e.idempotency_key)).toBeUndefined();
    } finally {
      await b.stop();
    }
  });

  it('a consumer that crashes between receipt and start loses nothing: the event is redelivered and starts once', async () => {
    let received = 0;
    // the first consumer takes the message and dies before starting the run (its connection drops, no ack)
    const hanging = { submit: () => (received++, new Promise<never>(() => {})) } as unknown as Intake;
    const crashed: EventBus = await bus('c', { intake: hanging });
    const e = envelope();
    await publish('c', e);
    await until(async () => received > 0);
    await crashed.connection.close();
    expect(await eventRow(e.idempotency_key)).toBeUndefined();
    const b = await bus('c');
    try {
      const row = await until(async () => (await eventRow(e.idempotency_key))?.status === 'started' && eventRow(e.idempotency_key));
      expect(row!.executionId).toBe(`run:${T}:${e.idempotency_key}`);
    } finally {
      await b.stop();
    }
  });

  it('an event that keeps failing is retried, then dead-lettered after max deliveries', async () => {
    // Temporal unreachable: a client on a closed connection makes every start fail (503)
    const conn = await Connection.connect({ address: inject('temporalAddress') });
    const dead = new Client({ connection: conn });
    await conn.close();
    // without the inbox (every start before the ack): with it, the event would be acked once stored and started later
    const failing = createIntake({ launch: { ...launch, client: dead }, library, tenants: () => tenants, inbox: false });
    const b = await bus('d', { intake: failing });
    try {
      const e = envelope();
      await publish('d', e);
      const [msg] = await until(async () => ((await deadLetters('d')).length ? deadLetters('d') : undefined), 30_000);
      expect(msg!.header.get('Closeloop-Deliveries')).toBe('3');
      expect(msg!.header.get('Closeloop-Dead-Reason')).toMatch(/^failed 3 times/);
      expect(JSON.parse(new TextDecoder().decode(msg!.data))).toEqual(e);
      // stored on first receipt, marked failed: `closeloop events replay` can re-submit it
      expect(await eventRow(e.idempotency_key)).toMatchObject({ status: 'failed', transport: 'nats' });
    } finally {
      await b.stop();
    }
  }, 40_000);

  it('cleans up', async () => {
    for (const tag of ['a', 'o', 'b', 'c', 'd']) {
      await jsm.streams.delete(names(tag).stream).catch(() => {});
      await jsm.streams.delete(names(tag).deadLetterStream).catch(() => {});
    }
    await nc.drain();
    await h.close();
  });
});
