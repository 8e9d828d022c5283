// Issue #16 item 6 on the topology a user scaling out runs: two `npm run api` and two `npm run worker`
// as separate OS processes, one Temporal server, one fresh PostgreSQL database, one task queue.
import { createHmac, randomUUID } from 'node:crypto';
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { connect, headers } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TEST_DATABASE_URL } from './database-url.js';
import { freePort, startNode, type Proc } from './support/stack.js';

const KEYS = { a: 'topo-key-a', b: 'topo-key-b' };
const SECRET = 'topo-signing-secret';
const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const chain = (ref: string, first: string) =>
  `ref: ${ref}\nversion: 1.0.0\ntasks:\n  - name: first\n    ${first}\n    on_success: second\n  - name: second\n    action: core.echo\n    input: { message: done }\n`;

let dbName: string;
let db: postgres.Sql;
let client: Client;
const procs: Proc[] = [];
const apis: string[] = [];
let workers: { proc: Proc; metrics: string }[] = [];
let baseEnv: NodeJS.ProcessEnv;

async function startApi(extra: NodeJS.ProcessEnv = {}): Promise<{ proc: Proc; base: string }> {
  const port = await freePort();
  const proc = await startNode(join('api', 'server-only.ts'), { env: { ...baseEnv, PORT: String(port), ...extra }, ready: /closeloop api: http/ });
  procs.push(proc);
  return { proc, base: `http://127.0.0.1:${port}` };
}

async function startWorker(): Promise<{ proc: Proc; metrics: string }> {
  const port = await freePort();
  // detached: its own process group, so a kill takes the supervisor and its worker process together
  const proc = await startNode(join('workers', 'worker-only.ts'), {
    env: { ...baseEnv, CLOSELOOP_WORKER_PORT: String(port), CLOSELOOP_WORKER_HOST: '127.0.0.1' },
    ready: /closeloop worker: polling/,
    detached: true,
  });
  procs.push(proc);
  return { proc, metrics: `http://127.0.0.1:${port}/metrics` };
}

async function call(base: string, method: string, path: string, body?: unknown, key = KEYS.a) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, any> };
}

const sign = (raw: string) => {
  const t = Math.floor(Date.now() / 1000);
  return `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${raw}`).digest('hex')}`;
};

async function sendEvent(base: string, type: string, key: string, payload: Record<string, unknown> = {}) {
  const raw = JSON.stringify({ id: `evt-${key}`, type, tenant: 'default', idempotency_key: key, payload });
  const signature = sign(raw);
  const res = await fetch(`${base}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-closeloop-signature': signature },
    body: raw,
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function ended(base: string, id: string, timeoutMs = 60_000) {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(300)) {
    const r = await call(base, 'GET', `/v1/executions/${encodeURIComponent(id)}`);
    if (r.status === 200 && !['running', 'paused'].includes(r.body.status)) return r.body;
  }
  throw new Error(`${id} did not end within ${timeoutMs} ms`);
}

const succeededTasks = async (url: string) =>
  [...(await (await fetch(url)).text()).matchAll(/^agent_node_success_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);

beforeAll(async () => {
  dbName = `topo_${randomUUID().slice(0, 8)}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${dbName}`;
  db = postgres(url.toString(), { max: 2, onnotice: () => {} });
  // the repository's configuration with two admin keys (a strategy is approved by someone other than its author)
  const config = await mkdtemp(join(tmpdir(), 'closeloop-topo-'));
  await cp(join(import.meta.dirname, '..', 'config'), config, { recursive: true });
  const keys = Object.entries(KEYS).map(([id, key]) => `      - id: admin-${id}\n        key: { env: TOPO_UNSET, default: ${key} }\n        roles: [admin]\n`);
  await writeFile(
    join(config, 'tenants.yaml'),
    `tenants:\n  - id: default\n    name: Default\n    status: active\n    signing_secret: { env: TOPO_UNSET, default: ${SECRET} }\n    api_keys:\n${keys.join('')}`,
  );
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
  baseEnv = {
    ...env,
    DATABASE_URL: url.toString(),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    CLOSELOOP_TASK_QUEUE: `topo-${randomUUID()}`,
    CLOSELOOP_CONFIG: config,
    CLOSELOOP_DATA_DIR: config,
    CLOSELOOP_SECRET_KEY: 'a'.repeat(64),
    CLOSELOOP_WORKER_METRICS_ADDRESS: '',
    CLOSELOOP_WORKFLOW_BUNDLE: inject('bundlePath'),
    // `npm run api` wires the event bus as `npm start` does: both APIs share its durable consumer
    NATS_URL,
  };
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
  // an API first, before any worker (it must be able to start runs on its own), then the rest at once
  apis.push((await startApi()).base);
  const [w1, w2, api2] = await Promise.all([startWorker(), startWorker(), startApi()]);
  workers = [w1, w2];
  apis.push(api2.base);
  for (const [ref, first] of [
    ['topo.chain', 'action: core.echo\n    input: { message: hello }'],
    ['topo.slow', 'action: core.sleep\n    input: { seconds: 3 }'],
    ['topo.ask', 'action: core.inquiry\n    input: { prompt: Go?, schema: { type: object, properties: { go: { type: boolean } } } }'],
  ])
    expect((await call(apis[0]!, 'POST', '/v1/workflows', { yaml: chain(ref!, first!) })).status).toBe(201);
}, 240_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  await client?.connection.close();
  await db?.end();
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
});

describe('two APIs and two workers as separate processes', () => {
  it('runs started on either API spread over both workers', async () => {
    const ids = await Promise.all(
      Array.from(
        { length: 16 },
        async (_, i) => (await call(apis[i % 2]!, 'POST', '/v1/workflows/topo.chain/executions', { parameters: {} })).body.execution_id as string,
      ),
    );
    for (const id of ids) expect((await ended(apis[0]!, id)).status).toBe('succeeded');
    const counts = await Promise.all(workers.map((w) => succeededTasks(w.metrics)));
    expect(counts.reduce((a, b) => a + b)).toBeGreaterThanOrEqual(32);
    for (const n of counts) expect(n, `tasks per worker: ${counts.join(', ')}`).toBeGreaterThan(0);
  });

  it('both APIs start with the event bus wired (NATS_URL) and warn of no strategy "changed on disk"; a bus event runs once', async () => {
    for (const p of procs.slice(0, 2)) {
      expect(p.output()).toMatch(new RegExp(`event bus ${NATS_URL.replace(/[.:/]/g, '\\$&')}`));
      expect(p.output()).not.toMatch(/changed on disk/);
    }
    // an event published on the bus is taken by one of the two APIs and runs once
    const nc = await connect({ servers: NATS_URL });
    try {
      const key = `bus-${randomUUID()}`;
      const raw = JSON.stringify({
        id: `evt-${key}`,
        type: 'shop.order.paid',
        tenant: 'default',
        idempotency_key: key,
        payload: { order_id: 'N-1', amount: 2 },
      });
      const h = headers();
      h.set('X-Closeloop-Signature', sign(raw));
      await jetstream(nc).publish('events.shop.order.paid', raw, { headers: h });
      expect((await ended(apis[0]!, `run:default:${key}`)).status).toBe('succeeded');
    } finally {
      await nc.close();
    }
  });

  it('100 concurrent copies of one event over both APIs start one run', async () => {
    const key = `dup-${randomUUID()}`;
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => sendEvent(apis[i % 2]!, 'shop.order.paid', key, { order_id: 'A-1', amount: 5 })));
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([202]));
    expect(new Set(answers.map((a) => a.body.execution_id))).toEqual(new Set([`run:default:${key}`]));
    expect((await ended(apis[1]!, `run:default:${key}`)).status).toBe('succeeded');
    expect((await client.workflow.count(`WorkflowId = 'run:default:${key}'`)).count).toBe(1);
  });

  it('a strategy activated through one API routes events on the other within 2 s', async () => {
    const id = `topo.route${randomUUID().slice(0, 6)}`;
    const draft = await call(apis[0]!, 'POST', '/v1/strategies', { id, on: 'topo.ping', tenants: ['default'], workflow: 'topo.chain@1.0.0' }, KEYS.a);
    expect(draft.status, JSON.stringify(draft.body)).toBe(201);
    expect((await call(apis[0]!, 'POST', `/v1/strategies/${id}/approve`, { version: 1 }, KEYS.b)).status).toBe(200);
    expect((await call(apis[0]!, 'POST', `/v1/strategies/${id}/activate`, { version: 1 }, KEYS.b)).status).toBe(200);
    const t0 = Date.now();
    let answer;
    do answer = await sendEvent(apis[1]!, 'topo.ping', `ping-${randomUUID()}`);
    while (answer.body.status === 'unmatched' && Date.now() - t0 < 5000 && (await sleep(100), true));
    expect(answer.body.status).toBe('accepted');
    expect(Date.now() - t0).toBeLessThan(2600);
  });

  it('an API stopped (SIGTERM) or killed (SIGKILL) after accepting leaves nothing unstarted: the other APIs start it', async () => {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      // accepts only, so every run it acknowledged must be started by another process
      const intake = await startApi({ CLOSELOOP_DISPATCH_CONCURRENCY: '0' });
      const prefix = `gone-${signal}-${randomUUID().slice(0, 6)}`;
      const send = (i: number) => sendEvent(intake.base, 'shop.order.paid', `${prefix}-${i}`, { order_id: `B-${i}`, amount: 3 });
      // 20 acknowledged before the stop (none started: this process does not dispatch), 20 in flight at it
      const before = await Promise.all(Array.from({ length: 20 }, (_, i) => send(i)));
      const during = Promise.allSettled(Array.from({ length: 20 }, (_, i) => send(20 + i)));
      await sleep(20);
      const code = intake.proc.stop(signal);
      // requests after the stop are refused or reset: the sender retries those; what got 202 was promised
      const answers = [...before, ...(await during).flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))].filter((a) => a.status === 202);
      await code;
      expect(answers.length, signal).toBeGreaterThanOrEqual(20);
      const accepted = answers.map((a) => a.body.execution_id as string);
      for (const id of accepted) expect((await ended(apis[0]!, id, 90_000)).status, id).toBe('succeeded');
      const waiting = await db`SELECT count(*)::int AS n FROM events WHERE idempotency_key LIKE ${prefix + '%'} AND status = 'accepted'`;
      expect(waiting[0]!.n).toBe(0);
    }
  });

  it("a killed worker's runs are finished by the other", async () => {
    // 12 runs of a 3 s timer then a task: with two workers polling, some are on the one that is killed
    const ids = await Promise.all(
      Array.from(
        { length: 12 },
        async () => (await call(apis[0]!, 'POST', '/v1/workflows/topo.slow/executions', { parameters: {} })).body.execution_id as string,
      ),
    );
    await sleep(1000);
    await workers[0]!.proc.stop('SIGKILL');
    const runs = [];
    for (const id of ids) runs.push(await ended(apis[1]!, id, 90_000));
    for (const r of runs) expect(r.status).toBe('succeeded');
    // those that were on the killed worker waited for Temporal to move them (its workflow task timeout)
    const seconds = runs.map((r) => (Date.parse(r.ended_at) - Date.parse(r.started_at)) / 1000);
    expect(Math.max(...seconds), seconds.join(', ')).toBeGreaterThan(6);
  });

  it('SIGHUP reloads an API process configuration and says so', async () => {
    const api = procs[0]!;
    api.child.kill('SIGHUP');
    await api.waitFor('closeloop api: configuration reloaded', 15_000);
  });

  it('two answers to one inquiry on two APIs at once: one is taken, the other gets 409 not_pending, even once the run has ended', async () => {
    const id = (await call(apis[0]!, 'POST', '/v1/workflows/topo.ask/executions', { parameters: {} })).body.execution_id as string;
    let inquiry: { id: string } | undefined;
    for (const end = Date.now() + 30_000; !inquiry && Date.now() < end; await sleep(300))
      inquiry = (await call(apis[1]!, 'GET', '/v1/inquiries?status=pending')).body.inquiries.find((i: { execution_id: string }) => i.execution_id === id);
    expect(inquiry).toBeDefined();
    const path = `/v1/inquiries/${encodeURIComponent(inquiry!.id)}/respond`;
    const answers = await Promise.all(apis.map((base) => call(base, 'POST', path, { response: { go: true } })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect(answers.find((a) => a.status === 409)!.body.error.code).toBe('not_pending');
    expect((await ended(apis[0]!, id)).status).toBe('succeeded');
    // the loser may reach the run after it ended: the answer taken stays recorded, never turned 'expired'
    const listed = (await call(apis[1]!, 'GET', '/v1/inquiries')).body.inquiries.find((i: { id: string }) => i.id === inquiry!.id);
    expect(listed.status).toBe('responded');
  });
});
