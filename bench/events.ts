// `npm run bench:events`: the event pipeline as deployed, on one Temporal server and one PostgreSQL:
// an API process (intake, strategy library of 1,000 strategies over 100 event types, inbox,
// dispatcher), a worker process, and load generators in their own processes. In one run it measures,
// in two rounds in ABBA order (the machine's speed drifts by the minute; the ratio is of the sums):
//   - native: a hand-written workflow with the same single activity, started as fast as the server
//     takes them (at most 200 open), its sustained completed runs/s;
//   - Closeloop's sustained runs/s, signed event -> run completed, events sent as fast as they are
//     taken with at most 200 not yet completed (closed-loop, as the native starter);
//   - once: first task at half the native rate (signed event -> first task started, p50/p95);
// then acknowledgements at --rate events/s (10% duplicates) and 5 s of refusals past the inbox bound,
// with the CPU each process spent per run, and writes bench/results/events-latest.json.
// Flags: --duration=20 --rate=200 --dispatch=16 --max-queue=200 --inbox=10000 --worker-nice=0 --intake-nice=0.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { like, sql } from 'drizzle-orm';
import { validateWorkflow } from '../dsl/index.js';
import { migrate, openStore, rowsOf, type Store } from '../store/db.js';
import { strategies } from '../store/schema.js';
import { StrategyRepo } from '../store/strategies-repo.js';
import { WorkflowRepo } from '../store/workflows-repo.js';
import { TASK_QUEUE } from '../contracts/definitions.js';
import { PROJECT_ROOT } from '../workers/settings.js';
import { findTemporalCli, startDevServer } from '../workers/temporal-cli.js';
import { bundleOptions } from '../workers/worker.js';
import { WORKER_EXEC_ARGV } from '../workers/supervisor.js';
import {
  cpuMeter,
  generate,
  generators,
  library,
  pct,
  percentiles,
  runsCheck,
  sampleMemory,
  spawnTs,
  stop,
  STRATEGIES,
  TYPES,
  type LoadResult,
} from './events-support.js';

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const DURATION = arg('duration', 20);
const RATE = arg('rate', 200);
const WARM_S = Math.min(5, DURATION / 4); // the first seconds of a capacity phase are not counted
/** How often each side's starter learns how many runs completed (its window of 200 open). */
const COMPLETIONS_POLL_MS = 500;
const OVERFLOW_S = 5; // seconds of events sent past the inbox bound
const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => console.error(`bench:events: ${line}`);

const WORKFLOW = `ref: bench.on_event\nversion: 1.0.0\nparameters: { seq: { type: integer }, region: { type: string } }\ntasks:\n  - name: work\n    action: bench.work\n    input: { seq: "{{ parameters.seq }}" }\n    on_success: done\n  - name: done\n    action: core.noop\n`;

interface Ctx {
  client: Client;
  store: Store;
  base: string;
  secret: string;
}

const count = async (client: Client, query: string) => (await client.workflow.count(query)).count;
const waiting = async (store: Store, tenant: string) =>
  (await rowsOf<{ n: number }>(store, sql`SELECT count(*)::int AS n FROM events WHERE tenant = ${tenant} AND status = 'accepted'`))[0]?.n ?? 0;

/** Until the tenant's inbox is empty and none of its runs is open (at most 10 minutes). */
async function drain(c: Ctx, tenant: string): Promise<void> {
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline) {
    if ((await waiting(c.store, tenant)) === 0 && (await count(c.client, `CloseloopTenant = '${tenant}' AND ExecutionStatus = 'Running'`)) === 0) return;
    await sleep(500);
  }
  throw new Error(`tenant ${tenant} did not drain in 10 minutes`);
}

type Meter = ReturnType<typeof cpuMeter>;

/**
 * Completed runs per second between WARM_S and a second before the end of `seconds` (the load
 * generator still runs, so its CPU is counted), by Temporal's visibility, while `load` runs; and
 * the CPU each process spent per completed run in that window.
 */
async function completedRate(client: Client, query: string, seconds: number, load: Promise<unknown>, meter: Meter) {
  await sleep(WARM_S * 1000);
  const [a, ta] = [await count(client, query), performance.now()];
  meter.start();
  await sleep((seconds - WARM_S - 1) * 1000);
  const [b, tb] = [await count(client, query), performance.now()];
  const cpu = meter.per(b - a);
  await load;
  return { rate: +(((b - a) / (tb - ta)) * 1000).toFixed(1), cpu_ms_per_run: cpu };
}

/** The native baseline: `nativeOnEvent` started by 16 lanes as fast as the server takes them, at most 200 open. */
async function nativeCapacity(client: Client, run: string, meter: Meter, round: number) {
  let started = 0;
  let completed = 0;
  let stopping = false;
  const done = `WorkflowType = 'nativeOnEvent' AND ExecutionStatus = 'Completed'`;
  const before = await count(client, done); // the runs of earlier rounds
  // every 500 ms, as Closeloop's side: a count costs the server 4-15 ms of CPU (more as runs pile up),
  // which at 100 ms came to about 6 ms per native run in a late round
  const poll = setInterval(() => void count(client, done).then((n) => (completed = n - before)), COMPLETIONS_POLL_MS);
  const lane = async () => {
    while (!stopping) {
      if (started - completed >= 200) await sleep(5);
      else await client.workflow.start('nativeOnEvent', { taskQueue: TASK_QUEUE, workflowId: `native-${run}-${round}-${started}`, args: [started++] });
    }
  };
  const lanes = Promise.all(Array.from({ length: 16 }, lane));
  const rate = await completedRate(client, done, DURATION, sleep(0), meter);
  stopping = true;
  await lanes;
  clearInterval(poll);
  while ((await count(client, `WorkflowType = 'nativeOnEvent' AND ExecutionStatus = 'Running'`)) > 0) await sleep(500);
  return rate;
}

/** Closeloop's sustained runs/s: closed-loop, as the native starter (as fast as the pipeline takes them, at most 200 accepted and not completed). */
async function closeloopCapacity(c: Ctx, tenant: string, meter: Meter) {
  const done = `WorkflowType = 'taskflow' AND CloseloopTenant = '${tenant}' AND ExecutionStatus = 'Completed'`;
  let load: LoadResult | undefined;
  // completions for the window from the runs index (each run writes its row as it ends): polling
  // Temporal's visibility with a search-attribute filter would cost the server itself
  const ended = sql`SELECT count(*)::int AS n FROM runs WHERE tenant = ${tenant} AND ended_at IS NOT NULL`;
  const closed = { window: 200, everyMs: COMPLETIONS_POLL_MS, completed: async () => (await rowsOf<{ n: number }>(c.store, ended))[0]?.n ?? 0 };
  const capacity = await completedRate(
    c.client,
    done,
    DURATION,
    generate(c.base, tenant, c.secret, 0, DURATION, 0, closed).then((l) => (load = l)),
    meter,
  );
  return { capacity, load: load! };
}

/** The largest inbox backlog seen, read every second. */
function sampleBacklog(store: Store) {
  let max = 0;
  const read = () =>
    void rowsOf<{ n: number }>(store, sql`SELECT count(*)::int AS n FROM events WHERE status = 'accepted'`).then(([r]) => (max = Math.max(max, r?.n ?? 0)));
  const timer = setInterval(read, 1000);
  return { stop: () => (clearInterval(timer), max) };
}

async function firstTasks(store: Store, tenant: string): Promise<number[]> {
  const rows = await rowsOf<{ ms: number }>(
    store,
    sql`SELECT EXTRACT(EPOCH FROM (a.at - (a.detail->>'event_received_at')::timestamptz)) * 1000 AS ms FROM audit_log a WHERE a.tenant = ${tenant} AND a.kind = 'task.started' AND a.detail ? 'event_received_at'`,
  );
  return rows.map((r) => Number(r.ms));
}

/**
 * Acknowledgements at --rate (10% duplicates) on the main API; then, while that backlog stands, 5 s
 * at the same rate on the second API (`bounded`: an intake-only process whose inbox bound is 1).
 */
async function acksAndRefusals(c: Ctx, tenants: { acks: string; overflow: string }, bounded: string) {
  const acks = await generate(c.base, tenants.acks, c.secret, RATE, DURATION, 0.1);
  const backlog = await waiting(c.store, tenants.acks);
  const overflow = backlog > 0 ? await generate(bounded, tenants.overflow, c.secret, RATE, OVERFLOW_S, 0) : null;
  for (let s = 0; overflow && s < OVERFLOW_S; s++) {
    const inSecond = overflow.results.filter((r) => r.http === 429 && Math.floor(r.at / 1000) === s).map((r) => r.ms);
    log(`    refusals, second ${s + 1}: ${inSecond.length}, p50 ${pct(inSecond, 50)} ms, p95 ${pct(inSecond, 95)} ms, max ${pct(inSecond, 100)} ms`);
  }
  const ok = acks.results.filter((r) => r.http === 202);
  const refused = (overflow?.results ?? []).filter((r) => r.http === 429);
  return {
    acks,
    overflow,
    backlogAtOverflow: backlog,
    events_per_second: +(ok.length / (acks.done_ms / 1000)).toFixed(1),
    ack_ms: percentiles(
      ok.map((r) => r.ms),
      [50, 95, 99],
    ),
    refused_429: [...acks.results, ...(overflow?.results ?? [])].filter((r) => r.http === 429).length,
    refused_ms: percentiles(
      refused.map((r) => r.ms),
      [50, 95],
    ),
    timed_out: [...acks.results, ...(overflow?.results ?? [])].filter((r) => r.http === 0).length,
  };
}

/** The server, the database, the bench's tenants, strategies and workflow, and its processes. */
async function setup() {
  const run = randomUUID().slice(0, 8);
  const t = {
    warm: `bench${run}w`,
    native: '',
    half: `bench${run}h`,
    capacity: `bench${run}c`,
    capacity2: `bench${run}d`,
    acks: `bench${run}a`,
    overflow: `bench${run}o`,
  };
  const tenants = Object.values(t).filter(Boolean);
  const secret = `bench-secret-${run}`;
  const dir = await mkdtemp(join(tmpdir(), 'closeloop-bench-'));
  // file-backed like `npm start` (WAL, synchronous=OFF)
  const server = await startDevServer({ cli: findTemporalCli(), port: 17533, uiPort: 18533, quiet: true, dbFile: join(dir, 'temporal.db') });
  const store = await openStore({ databaseUrl: DATABASE_URL });
  await migrate(store);
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const wf = validateWorkflow(WORKFLOW, { isKnownAction: (r) => r === 'bench.work' }).workflow!;
  for (const tenant of tenants) await new WorkflowRepo(store.db).register(tenant, wf, 'bench', 'bench');
  await new StrategyRepo(store.db).syncFromConfig(library(run, tenants));
  const bundle = join(dir, 'bundle.js');
  await writeFile(bundle, (await bundleWorkflowCode(bundleOptions(join(PROJECT_ROOT, 'bench', 'workflows.ts')))).code);
  const env = { TEMPORAL_ADDRESS: server.address, DATABASE_URL, BENCH_BUNDLE: bundle, BENCH_TENANTS: JSON.stringify(tenants.map((id) => ({ id, secret }))) };
  const inbox = { maxBacklog: arg('inbox', 10_000), maxAgeSeconds: 600, concurrency: arg('dispatch', 16), maxQueue: arg('max-queue', 200) };
  // with the Node options the supervisor gives `npm run worker`'s worker process
  const worker = await spawnTs('events-worker.ts', env, /^ready$/, WORKER_EXEC_ARGV);
  // --worker-nice=N: the worker yields the CPU to the APIs (co-located deployments; docs/scaling.md)
  const nice = arg('worker-nice', 0);
  if (nice) setPriority(worker.child.pid!, nice);
  const api = await spawnTs('events-api.ts', { ...env, BENCH_INBOX: JSON.stringify(inbox) }, /^listening /);
  // a second API that only accepts (dispatch concurrency 0), its inbox bound 1: it refuses while any event waits
  const boundedInbox = { maxBacklog: 1, maxAgeSeconds: 600, concurrency: 0, maxQueue: 200 };
  const api2 = await spawnTs('events-api.ts', { ...env, BENCH_INBOX: JSON.stringify(boundedInbox) }, /^listening /);
  const bounded = `http://127.0.0.1:${api2.line.split(' ')[1]}`;
  // --intake-nice=N (negative: before everything else; needs root): the API processes and the load
  // generators get the CPU first, as an intake tier and producers on machines of their own would (docs/scaling.md)
  const intakeNice = arg('intake-nice', 0);
  if (intakeNice) for (const p of [api, api2]) setPriority(p.child.pid!, intakeNice);
  generators.nice = intakeNice;
  const c: Ctx = { client, store, secret, base: `http://127.0.0.1:${api.line.split(' ')[1]}` };
  return { run, t, secret, dir, server, store, client, inbox, nice, intakeNice, worker, api, api2, bounded, c };
}

/**
 * Two rounds, native then Closeloop and then Closeloop then native (the machine's speed drifts by the
 * minute and the dev server's database grows, so each side gets an early and a late slot and the ratio
 * is of sums over both); after the first native phase, the first-task latency at half its rate.
 */
async function capacityRounds(c: Ctx, run: string, t: Record<'half' | 'capacity' | 'capacity2', string>, meter: Meter) {
  const { client, store, secret } = c;
  const rounds: { native: number; closeloop: number; native_cpu_ms_per_run: object; closeloop_cpu_ms_per_run: object }[] = [];
  const loads: [string, LoadResult][] = [];
  let first: number[] = [];
  const native = async (round: number) => {
    log(`round ${round + 1}/2, native: nativeOnEvent as fast as the server takes them, ${DURATION} s`);
    const n = await nativeCapacity(client, run, meter, round + 1);
    log(`    ${n.rate} runs/s, CPU ms per run ${JSON.stringify(n.cpu_ms_per_run)}`);
    if (round === 0) {
      log(`first task at half that rate (${(n.rate / 2).toFixed(1)} events/s), ${DURATION} s`);
      loads.push([t.half, await generate(c.base, t.half, secret, n.rate / 2, DURATION, 0)]);
      await drain(c, t.half);
      first = await firstTasks(store, t.half);
    }
    return n;
  };
  const closeloop = async (round: number, tenant: string) => {
    log(`round ${round + 1}/2, Closeloop's sustained runs/s: events as fast as they are taken, at most 200 not completed, ${DURATION} s`);
    const { capacity, load } = await closeloopCapacity(c, tenant, meter);
    loads.push([tenant, load]);
    await drain(c, tenant);
    log(`    ${capacity.rate} runs/s, CPU ms per run ${JSON.stringify(capacity.cpu_ms_per_run)}`);
    return capacity;
  };
  for (const [round, tenant] of [t.capacity, t.capacity2].entries()) {
    // ABBA: native first in round 1, Closeloop first in round 2
    const n = round === 0 ? await native(round) : undefined;
    const cl = await closeloop(round, tenant);
    const late = n ?? (await native(round));
    rounds.push({ native: late.rate, closeloop: cl.rate, native_cpu_ms_per_run: late.cpu_ms_per_run, closeloop_cpu_ms_per_run: cl.cpu_ms_per_run });
  }
  const nativeRate = +(rounds.reduce((x, r) => x + r.native, 0) / rounds.length).toFixed(1);
  const runs = +(rounds.reduce((x, r) => x + r.closeloop, 0) / rounds.length).toFixed(1);
  return { rounds, loads, first, native: nativeRate, runs };
}

/** BENCH_HISTORIES=<dir>: one Closeloop run's and one native run's history, as JSON, to compare what each costs the server. */
async function dumpHistories(client: Client, tenant: string, run: string, out: string) {
  for await (const w of client.workflow.list({ query: `CloseloopTenant = '${tenant}'`, pageSize: 1 })) {
    await writeFile(join(out, 'taskflow.json'), JSON.stringify(await client.workflow.getHandle(w.workflowId).fetchHistory(), null, 1));
    break;
  }
  await writeFile(join(out, 'native.json'), JSON.stringify(await client.workflow.getHandle(`native-${run}-1-1`).fetchHistory(), null, 1));
}

async function main() {
  const { run, t, secret, dir, server, store, client, inbox, nice, intakeNice, worker, api, api2, bounded, c } = await setup();
  const memory = sampleMemory({ api: api.child.pid!, worker: worker.child.pid! });
  const backlogs = sampleBacklog(store);

  log('warm-up (JIT, connection pools): 3 s at 50 events/s on each API, not counted');
  await Promise.all([generate(c.base, t.warm, secret, 50, 3, 0), generate(bounded, t.warm, secret, 50, 3, 0)]);
  await drain(c, t.warm);
  const meter = cpuMeter({ 'api (dispatching)': api.child.pid!, 'api (intake only)': api2.child.pid!, worker: worker.child.pid!, bench: process.pid });
  const { rounds, loads, first, native, runs } = await capacityRounds(c, run, t, meter);
  log(`acknowledgements at ${RATE} events/s (10% duplicates), then past the inbox bound`);
  const a = await acksAndRefusals(c, t, bounded);
  await drain(c, t.acks);
  await drain(c, t.overflow);
  const mem = memory.stop();
  const backlogMax = backlogs.stop();
  const checks = await Promise.all([
    ...loads.map(([tenant, load]) => runsCheck(client, tenant, load)),
    runsCheck(client, t.acks, a.acks),
    ...(a.overflow ? [runsCheck(client, t.overflow, a.overflow)] : []),
  ]);
  const report = {
    measured_at: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, database: 'PostgreSQL', temporal: 'dev server (SQLite file, WAL)' },
    config: {
      worker_nice: nice,
      intake_nice: intakeNice,
      rate: RATE,
      duration_s: DURATION,
      strategies: STRATEGIES,
      event_types: TYPES,
      duplicate_share: 0.1,
      inbox,
    },
    events_per_second: a.events_per_second,
    ack_ms: a.ack_ms,
    lost: checks.reduce((s, x) => s + x.lost, 0),
    duplicated: checks.reduce((s, x) => s + x.duplicated, 0),
    native: { runs_per_second: native },
    runs_per_second: runs,
    ratio_to_native: +(runs / native).toFixed(3),
    rounds,
    first_task_ms_at_half_capacity: { rate: +(native / 2).toFixed(1), ...percentiles(first, [50, 95]), runs: first.length },
    backlog_max: Math.max(backlogMax, a.backlogAtOverflow),
    refused_429: a.refused_429,
    refused_ms: a.refused_ms,
    timed_out: a.timed_out,
    memory: { rss_mb_max: mem.api ?? null, worker_rss_mb_max: mem.worker ?? null },
    acknowledged_events: checks.reduce((s, x) => s + x.acknowledged, 0),
    history_events_per_run: Math.max(...checks.map((x) => x.historyEvents)),
    targets: { events_per_second: '>= 195', ack_p95_ms: '<= 50', refused_p95_ms: '< 10', ratio_to_native: '>= 0.9', first_task_p95_ms: '<= 1000' },
  };
  await writeFile(join(PROJECT_ROOT, 'bench', 'results', 'events-latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (process.env.BENCH_HISTORIES) await dumpHistories(client, t.half, run, process.env.BENCH_HISTORIES);
  console.log(JSON.stringify(report, null, 2));
  await Promise.all([stop(api.child), stop(api2.child), stop(worker.child)]);
  await store.db.delete(strategies).where(like(strategies.id, `bench-${run}.%`));
  await client.connection.close();
  await store.close();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
