// `npm run bench:events`: a signed event stream against the real intake (API + strategy library of
// 1,000 strategies over 100 event types + Temporal + PostgreSQL + worker), 10% duplicates, at a fixed
// rate. Reports sustained events/s, ack latency, event → first task started, lost/duplicated runs,
// memory. Writes bench/results/events-latest.json. Flags: --duration=60 --rate=200.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import { like, sql } from 'drizzle-orm';
import { createActivities } from '../activities/index.js';
import { createApp } from '../api/app.js';
import { createIntake } from '../api/intake/index.js';
import { StrategyLibrary } from '../api/strategy-library.js';
import { validateWorkflow } from '../dsl/index.js';
import { withDefaults, type Strategy } from '../dsl/strategy.js';
import { migrate, openStore, rowsOf } from '../store/db.js';
import { strategies } from '../store/schema.js';
import { StrategyRepo } from '../store/strategies-repo.js';
import { WorkflowRepo } from '../store/workflows-repo.js';
import { TASK_QUEUE } from '../contracts/definitions.js';
import type { TenantConfig } from '../workers/config.js';
import { PROJECT_ROOT } from '../workers/settings.js';
import { findTemporalCli, startDevServer } from '../workers/temporal-cli.js';
import { limitWorkflowStacks, workflowBundle } from '../workers/worker.js';

Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const DURATION = arg('duration', 60);
const RATE = arg('rate', 200);
const TYPES = 100;
const STRATEGIES = 1000;
const DUP_SHARE = 0.1;
const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

const pct = (xs: number[], p: number) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!.toFixed(1);
};

/** 10 strategies per type: decreasing priority, conditions on the payload, a few wildcards; exactly one matches each event first. */
function library(run: string, tenant: string): Strategy[] {
  const out: Strategy[] = [];
  for (let i = 0; i < STRATEGIES; i++) {
    const type = i % TYPES;
    const rank = Math.floor(i / TYPES); // 0..9
    const wildcard = rank === 9;
    out.push(
      withDefaults({
        id: `bench-${run}.s${i}`,
        status: 'active',
        on: wildcard ? `bench.*.done` : `bench.type${type}.done`,
        tenants: [tenant, `${tenant}w`],
        // ranks 0..7 need amount above a threshold no event reaches, so matching walks past them
        when:
          rank < 8
            ? [`{{ event.payload.amount > ${100 + rank} }}`, "{{ event.payload.region in ['eu', 'us', 'ap'] }}"]
            : ["{{ event.payload.region in ['eu', 'us', 'ap'] }}"],
        priority: 100 - rank * 10,
        weight: 50,
        workflow: 'bench.on_event@1.0.0',
        parameters: { seq: '{{ event.payload.seq }}', region: '{{ event.payload.region }}' },
      }),
    );
  }
  return out;
}

/** Bare workflow starts (no intake, no worker), 32 at a time for `seconds`: the most this Temporal server sustains here. */
async function rawStarts(client: Client, seconds: number) {
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const lane = async () => {
    while (performance.now() < end) {
      const s = performance.now();
      await client.workflow.start('baselineNothing', { taskQueue: 'baseline-nobody', workflowId: `baseline-${randomUUID()}`, args: [] });
      lat.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: 32 }, lane));
  return { per_second: +((lat.length / (performance.now() - t0)) * 1000).toFixed(1), p50_ms: pct(lat, 50), p95_ms: pct(lat, 95) };
}

async function main() {
  const run = randomUUID().slice(0, 8);
  const tenant = `bench${run}`;
  const secret = `bench-secret-${run}`;
  const dir = await mkdtemp(join(tmpdir(), 'closeloop-bench-'));
  // file-backed like `npm start` (WAL, synchronous=OFF)
  const server = await startDevServer({ cli: findTemporalCli(), port: 17533, uiPort: 18533, quiet: true, dbFile: join(dir, 'temporal.db') });
  const store = await openStore({ databaseUrl: DATABASE_URL });
  await migrate(store);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address: server.address });

  const wf = validateWorkflow(
    `ref: bench.on_event\nversion: 1.0.0\nparameters: { seq: { type: integer }, region: { type: string } }\ntasks:\n  - name: work\n    action: bench.work\n    input: { seq: "{{ parameters.seq }}" }\n    on_success: done\n  - name: done\n    action: core.noop\n`,
    { isKnownAction: (r) => r === 'bench.work' },
  ).workflow!;
  await new WorkflowRepo(store.db).register(tenant, wf, 'bench', 'bench');
  await new StrategyRepo(store.db).syncFromConfig(library(run, tenant));
  const limits = { rate: 100_000, burst: 100_000 };
  // `<tenant>w` takes the warm-up traffic (JIT, connection pools), kept out of the figures
  const tenants: TenantConfig = {
    tenants: new Map([
      [tenant, { id: tenant, name: tenant, status: 'active', signingSecret: secret, rateLimit: limits }],
      [`${tenant}w`, { id: `${tenant}w`, name: 'warm-up', status: 'active', signingSecret: secret, rateLimit: limits }],
    ]),
    keys: [],
  };
  await new WorkflowRepo(store.db).register(`${tenant}w`, wf, 'bench', 'bench');
  limitWorkflowStacks();
  const worker = await Worker.create({
    connection: native,
    taskQueue: TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ store, mocks: { 'bench.work': { result: { ok: true } } } }),
    maxConcurrentActivityTaskExecutions: 200,
  });
  const strategyLibrary = new StrategyLibrary(new StrategyRepo(store.db));
  const intake = createIntake({
    launch: { repo: new WorkflowRepo(store.db), store, client, taskQueue: TASK_QUEUE, packs: () => ({ actions: new Map(), config: new Map() }) },
    library: strategyLibrary,
    tenants: () => tenants,
    inbox: { maxBacklog: arg('inbox', 10_000), maxAgeSeconds: 120, concurrency: arg('dispatch', 16), maxQueue: arg('max-queue', 200) },
  });
  const app = createApp({ store, client, tenants: () => tenants, taskQueue: TASK_QUEUE, intake, library: strategyLibrary });
  const http = app.listen(0, '127.0.0.1');
  await new Promise((r) => http.once('listening', r));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  // same-run baseline: the platform ceiling, i.e. how fast this Temporal server accepts bare workflow starts at most
  const baseline = await rawStarts(client, 10);
  console.error(`bench:events: baseline: the Temporal server took ${baseline.per_second} bare starts/s (p95 ${baseline.p95_ms} ms)`);
  let rssMax = 0;
  let backlogMax = 0;
  const sampler = setInterval(() => {
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
    backlogMax = Math.max(backlogMax, intake.dispatcher?.backlog().count ?? 0);
  }, 250);
  const rssBefore = process.memoryUsage().rss;
  const NO_WORKER = process.argv.includes('--no-worker'); // diagnosis: intake alone
  const measure = async () => {
    console.error(`bench:events: ${RATE} events/s for ${DURATION} s (10% duplicates), ${STRATEGIES} strategies over ${TYPES} types, tenant ${tenant}`);
    const generate = (t: string, seconds: number) =>
      promisify(execFile)(
        process.execPath,
        [join(PROJECT_ROOT, 'bench', 'load-generator.mjs'), base, t, secret, String(RATE), String(seconds), String(TYPES), String(DUP_SHARE)],
        { maxBuffer: 1 << 28 },
      );
    await generate(`${tenant}w`, 3);
    const { stdout } = await generate(tenant, DURATION);
    const load = JSON.parse(stdout) as {
      sent: number;
      unique: number;
      send_window_ms: number;
      done_ms: number;
      results: { at: number; ms: number; http: number; status: string; dup: boolean; key: string }[];
    };
    // every unique event's run must reach its first task; wait (bounded) for stragglers
    const firstTasks = async () =>
      rowsOf<{ ms: number }>(
        store,
        sql`SELECT EXTRACT(EPOCH FROM (a.at - (a.detail->>'event_received_at')::timestamptz)) * 1000 AS ms FROM audit_log a WHERE a.tenant = ${tenant} AND a.kind = 'task.started' AND a.detail ? 'event_received_at'`,
      );
    const deadline = Date.now() + (NO_WORKER ? 0 : 300_000);
    let first = await firstTasks();
    const startedCount = async () =>
      (await rowsOf<{ n: number }>(store, sql`SELECT count(*)::int AS n FROM events WHERE tenant = ${tenant} AND status = 'started'`))[0]?.n ?? 0;
    // the inbox drains after the load: wait for every accepted event's run, then for its first task
    const waiting = async () =>
      (await rowsOf<{ n: number }>(store, sql`SELECT count(*)::int AS n FROM events WHERE tenant = ${tenant} AND status = 'accepted'`))[0]?.n ?? 0;
    while ((await waiting()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
    while (first.length < (await startedCount()) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      first = await firstTasks();
    }
    let workflows = 0;
    let historyEvents = 0;
    const runIds = new Map<string, number>();
    for await (const w of client.workflow.list({ query: `CloseloopTenant = '${tenant}'` })) {
      workflows++;
      historyEvents = Math.max(historyEvents, w.historyLength);
      runIds.set(w.workflowId, (runIds.get(w.workflowId) ?? 0) + 1);
    }
    // lost: acknowledged as started or duplicate, yet no run exists for the key; duplicated: a key with more than one run
    const ackedKeys = new Set(load.results.filter((r) => r.http === 202 && r.status !== 'unmatched').map((r) => r.key));
    const lost = [...ackedKeys].filter((k) => !runIds.has(`run:${tenant}:${k}`)).length;
    const duplicated = [...runIds.values()].filter((n) => n > 1).length;
    const unacknowledged = new Set(load.results.filter((r) => r.http !== 202).map((r) => r.key)).size;
    const [{ started } = { started: 0 }] = await rowsOf<{ started: number }>(
      store,
      sql`SELECT count(*)::int AS started FROM events WHERE tenant = ${tenant} AND status = 'started'`,
    );
    const acked = load.results.filter((r) => r.http === 202);
    if (process.argv.includes('--by-second')) {
      const bySecond = new Map<number, number[]>();
      for (const r of acked) bySecond.set(Math.floor(r.at / 1000), [...(bySecond.get(Math.floor(r.at / 1000)) ?? []), r.ms]);
      for (const [sec, xs] of [...bySecond].sort((a, b) => a[0] - b[0]))
        console.error(`  second ${sec}: n=${xs.length} p50=${pct(xs, 50)} p95=${pct(xs, 95)} max=${pct(xs, 100)}`);
    }
    const statuses: Record<string, number> = {};
    for (const r of load.results) statuses[`${r.http} ${r.status}`] = (statuses[`${r.http} ${r.status}`] ?? 0) + 1;
    return {
      measured_at: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version, database: 'PostgreSQL', temporal: 'dev server (SQLite file, WAL)' },
      config: { rate: RATE, duration_s: DURATION, strategies: STRATEGIES, event_types: TYPES, duplicate_share: DUP_SHARE },
      events_per_second: +(acked.length / (load.done_ms / 1000)).toFixed(1),
      sent: load.sent,
      unique_events: load.unique,
      responses: statuses,
      ack_ms: {
        p50: pct(
          acked.map((r) => r.ms),
          50,
        ),
        p95: pct(
          acked.map((r) => r.ms),
          95,
        ),
        p99: pct(
          acked.map((r) => r.ms),
          99,
        ),
      },
      first_task_ms: {
        p50: pct(
          first.map((r) => Number(r.ms)),
          50,
        ),
        p95: pct(
          first.map((r) => Number(r.ms)),
          95,
        ),
      },
      runs_started: started,
      history_events_per_run: historyEvents,
      temporal_runs: workflows,
      acknowledged_events: ackedKeys.size,
      unacknowledged_events: unacknowledged,
      lost,
      duplicated,
      backlog_max: backlogMax,
      refused_429: load.results.filter((r) => r.http === 429).length,
      memory: { rss_mb_before: Math.round(rssBefore / 2 ** 20), rss_mb_max: Math.round(rssMax / 2 ** 20) },
      platform_baseline: { ...baseline, note: 'bare client.workflow.start, 32 concurrent, same server, measured first; no intake, no worker' },
      ratio_to_baseline: +(acked.length / (load.done_ms / 1000) / baseline.per_second).toFixed(3),
      targets: { events_per_second: '>= 200', ack_p95_ms: '<= 50', first_task_p95_ms: '<= 1000', lost: 0, duplicated: 0 },
    };
  };
  const report = NO_WORKER ? await measure() : await worker.runUntil(measure);
  clearInterval(sampler);
  await writeFile(join(PROJECT_ROOT, 'bench', 'results', 'events-latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
  http.close();
  await intake.dispatcher?.stop();
  await store.db.delete(strategies).where(like(strategies.id, `bench-${run}.%`));
  await native.close();
  await connection.close();
  await store.close();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
