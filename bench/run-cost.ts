// What a run costs the Temporal server and the worker without the intake: `nativeOnEvent` against
// `taskflow` started as the dispatcher starts it (`startRun`), on one worker like the bench's, at most
// 200 open, alternating; `native-eager` too (eager workflow start: the starter shares the worker's
// connection). Per phase, what each run cost the server by its own metrics: the requests each of its
// services served and the persistence operations it ran, where the kinds differ. Then the server CPU of
// a visibility count with and without a search-attribute filter. Figures in docs/bench.md.
// `npx tsx bench/run-cost.ts` (N=1200 runs per phase, ROUNDS=2);
// `node --require ./workers/workflow-thread-preload.cjs --import tsx bench/run-cost.ts` as the supervised worker runs.
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { startRun } from '../api/start-run.js';
import { validateWorkflow } from '../dsl/index.js';
import { openStore } from '../store/db.js';
import { ReportingWorker } from '../workers/reporting-worker.js';
import { PROJECT_ROOT } from '../workers/settings.js';
import { findTemporalCli, startDevServer } from '../workers/temporal-cli.js';
import { bundleOptions, limitWorkflowStacks } from '../workers/worker.js';
import { cpuMeter } from './events-support.js';

const N = Number(process.env.N ?? 1200);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const WORKFLOW = `ref: bench.on_event\nversion: 1.0.0\nparameters: { seq: { type: integer }, region: { type: string } }\ntasks:\n  - name: work\n    action: bench.work\n    input: { seq: "{{ parameters.seq }}" }\n    on_success: done\n  - name: done\n    action: core.noop\n`;

Runtime.install({ logger: new DefaultLogger('ERROR') });
limitWorkflowStacks();
ReportingWorker.unwatched = true; // as under the supervisor
const dir = await mkdtemp(join(tmpdir(), 'closeloop-run-cost-'));
const METRICS = 'http://127.0.0.1:17934/metrics';
const server = await startDevServer({
  cli: findTemporalCli(),
  port: 17933,
  uiPort: 18933,
  quiet: true,
  dbFile: join(dir, 'temporal.db'),
  extraArgs: ['--metrics-port', '17934'],
});
const store = await openStore({ databaseUrl: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test' });
const client = new Client({ connection: await Connection.connect({ address: server.address }) });
const codePath = join(dir, 'bundle.js');
writeFileSync(codePath, (await bundleWorkflowCode(bundleOptions(join(PROJECT_ROOT, 'bench', 'workflows.ts')))).code);
const connection = await NativeConnection.connect({ address: server.address });
const worker = await ReportingWorker.create({
  connection,
  taskQueue: 'run-cost',
  workflowBundle: { codePath },
  activities: createActivities({ store, mocks: { 'bench.work': { result: { ok: true } } } }),
  maxConcurrentActivityTaskExecutions: 200,
});
const running = worker.run();
const eagerClient = new Client({ connection });
const wf = validateWorkflow(WORKFLOW, { isKnownAction: (r) => r === 'bench.work' }).workflow!;
const tag = Date.now().toString(36);

type Kind = 'native' | 'native-eager' | 'taskflow';
let notEager = 0;

async function start(kind: Kind, round: number, i: number): Promise<string> {
  if (kind === 'native')
    return (await client.workflow.start('nativeOnEvent', { taskQueue: 'run-cost', workflowId: `n-${tag}-${round}-${i}`, args: [i] })).workflowId;
  if (kind === 'native-eager') {
    const opts = { taskQueue: 'run-cost', workflowId: `e-${tag}-${round}-${i}`, args: [i], requestEagerStart: true };
    const handle = await eagerClient.workflow.start('nativeOnEvent', opts);
    if (!handle.eagerlyStarted) notEager++;
    return handle.workflowId;
  }
  const event = { id: `e${i}`, type: 'bench.type1.done', tenant: `rc${tag}`, occurred_at: null, received_at: new Date().toISOString(), payload: { seq: i } };
  const opts = { workflow: wf, parameters: { seq: i, region: 'eu' }, tenant: `rc${tag}`, idempotencyKey: `k${round}-${i}`, taskQueue: 'run-cost' };
  return (await startRun(client, { ...opts, startedBy: 'strategy:s@1', strategy: 's@1', event, index: async () => {} })).execution_id;
}

/** The server's own request and persistence counters (`<metric> <service> <operation>`). */
async function serverCounters(): Promise<Map<string, number>> {
  const counters = new Map<string, number>();
  for (const line of (await (await fetch(METRICS)).text()).split('\n')) {
    const m = /^(service_requests|persistence_requests|visibility_persistence_requests)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const label = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(m[2]!)?.[1] ?? '';
    const key = `${m[1]} ${label('service_name')} ${label('operation')}`;
    counters.set(key, (counters.get(key) ?? 0) + Number(m[3]));
  }
  return counters;
}
const opsPerRun: Partial<Record<Kind, Map<string, number>>> = {};
// CPU by process from /proc: this one (worker and starter), the dev server, PostgreSQL
const meter = cpuMeter({ 'worker and starter': process.pid });

/** N runs, 16 starters, at most 200 open; runs/s, CPU ms per run of each process, and the server's counters per run. */
async function phase(kind: Kind, round: number) {
  const counters = await serverCounters();
  let started = 0;
  let done = 0;
  const t0 = performance.now();
  meter.start();
  const lane = async () => {
    while (started < N) {
      if (started - done >= 200) await new Promise((r) => setTimeout(r, 2));
      else
        void client.workflow
          .getHandle(await start(kind, round, started++))
          .result()
          .then(() => done++);
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
  while (done < N) await new Promise((r) => setTimeout(r, 20));
  const [rate, cpu] = [(N / (performance.now() - t0)) * 1000, meter.per(N)];
  await new Promise((r) => setTimeout(r, 1000)); // the server's last visibility and transfer tasks, for its counters
  const after = await serverCounters();
  opsPerRun[kind] = new Map([...after].map(([k, v]) => [k, (v - (counters.get(k) ?? 0)) / N]));
  if (kind === 'native-eager') console.log(`native-eager: ${N - notEager} of ${N} started eagerly`);
  notEager = 0;
  console.log(`${kind.padEnd(12)} round ${round}: ${rate.toFixed(1)} runs/s, CPU ms per run ${JSON.stringify(cpu)}`);
}

for (let round = 1; round <= ROUNDS; round++) for (const kind of ['native', 'native-eager', 'taskflow'] as const) await phase(kind, round);
console.log('per run (last round), where the kinds differ by 0.05 or more:        native  eager  taskflow');
for (const key of [...new Set(Object.values(opsPerRun).flatMap((m) => [...m.keys()]))].sort()) {
  const v = (['native', 'native-eager', 'taskflow'] as const).map((k) => opsPerRun[k]?.get(key) ?? 0);
  if (Math.max(...v) - Math.min(...v) >= 0.05) console.log(`  ${key.padEnd(68)} ${v.map((x) => x.toFixed(2).padStart(6)).join(' ')}`);
}
for (const query of [
  `WorkflowType = 'nativeOnEvent' AND ExecutionStatus = 'Completed'`,
  `WorkflowType = 'taskflow' AND CloseloopTenant = 'rc${tag}' AND ExecutionStatus = 'Completed'`,
]) {
  meter.start();
  for (let i = 0; i < 50; i++) await client.workflow.count(query);
  console.log(`count ${query}: server ${meter.per(50)['temporal server'] ?? 0} ms each`);
}
worker.shutdown();
await running;
await Promise.all([client.connection.close(), connection.close(), store.close()]);
await server.stop();
await rm(dir, { recursive: true, force: true });
