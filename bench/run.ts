// `npm run bench`: interpreter overhead against native Temporal workflows measured in the same run,
// 10,000-item iteration, and replay of a 1,000-task history. Writes bench/results/latest.json.
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode, makeTelemetryFilterString } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { validateWorkflow, type CompiledWorkflow } from '../dsl/index.js';
import { migrate, openStore } from '../store/db.js';
import { PROJECT_ROOT } from '../workers/settings.js';
import { findTemporalCli, startDevServer } from '../workers/temporal-cli.js';
import { limitWorkflowStacks } from '../workers/worker.js';
import { replayHistory } from '../workers/replay.js';

limitWorkflowStacks(); // as the product's worker runs
Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const SEQ = arg('sequential', 200);
const ITEMS = arg('items', 10_000);
const REPEAT = arg('repeat', 3);

const compile = (yaml: string): CompiledWorkflow => {
  const r = validateWorkflow(yaml, { isKnownAction: (ref) => ref === 'bench.work' });
  if (!r.workflow) throw new Error(JSON.stringify(r.diagnostics));
  return r.workflow;
};
const sequentialYaml = (n: number) =>
  `ref: bench.sequential\nversion: 1.0.0\ntasks:\n${Array.from({ length: n }, (_, i) => `  - name: t${i}\n    action: bench.work\n    input: { n: ${i} }\n${i < n - 1 ? `    on_success: t${i + 1}\n` : ''}`).join('')}`;
const itemsYaml = `ref: bench.items\nversion: 1.0.0\nparameters: { items: { type: array } }\ntasks:\n  - name: each\n    action: bench.work\n    with_items: "{{ parameters.items }}"\n    concurrency: 100\n    input: { n: "{{ item }}" }\n`;

async function main() {
  // one history for the 1,000-task replay: continue-as-new is not suggested below 100,000 events here
  const server = await startDevServer({ cli: findTemporalCli(), port: 17433, uiPort: 18433, quiet: true, extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=100000'] });
  const store = await openStore(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : { pgliteDir: 'memory://' });
  await migrate(store);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address: server.address });
  const taskQueue = `bench-${randomUUID()}`;
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: join(PROJECT_ROOT, 'bench', 'workflows.ts'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } });
  const worker = await Worker.create({ connection: native, taskQueue, workflowBundle, activities: createActivities({ store, mocks: { 'bench.work': { result: { n: '{{ input.n }}' } } } }), maxConcurrentActivityTaskExecutions: 200 });
  const rssBefore = process.memoryUsage().rss;
  const time = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const run = (type: string, args: unknown[]) => client.workflow.execute(type, { taskQueue, workflowId: `bench-${type}-${randomUUID()}`, args });
  const results = await worker.runUntil(async () => {
    const seqWf = compile(sequentialYaml(SEQ));
    const itemsWf = compile(itemsYaml);
    const itemList = Array.from({ length: ITEMS }, (_, i) => i);
    const seqNative: number[] = [];
    const seqTaskflow: number[] = [];
    for (let r = 0; r < REPEAT; r++) {
      seqNative.push(await time(() => run('nativeSequential', [SEQ])));
      seqTaskflow.push(await time(() => run('taskflow', [{ workflow: seqWf, parameters: {}, tenant: 'bench' }])));
    }
    const itemsNative = await time(() => run('nativeItems', [ITEMS, 100, 1000]));
    const itemsTaskflowId = `run:bench:items-${randomUUID()}`;
    const itemsTaskflow = await time(() => client.workflow.execute('taskflow', { taskQueue, workflowId: itemsTaskflowId, args: [{ workflow: itemsWf, parameters: { items: itemList }, tenant: 'bench' }] }));
    let maxEvents = 0;
    for await (const w of client.workflow.list({ query: `WorkflowId = '${itemsTaskflowId}' OR RootWorkflowId = '${itemsTaskflowId}'` })) maxEvents = Math.max(maxEvents, w.historyLength);
    // replay of a 1,000-task run (sequential tasks, each an activity)
    const replayWf = compile(sequentialYaml(1000));
    const replayId = `run:bench:replay-${randomUUID()}`;
    await client.workflow.execute('taskflow', { taskQueue, workflowId: replayId, args: [{ workflow: replayWf, parameters: {}, tenant: 'bench' }] });
    const history = await client.workflow.getHandle(replayId).fetchHistory();
    const replayMs = await time(() => replayHistory({ workflowBundle }, history, replayId));
    return { seqNative: median(seqNative), seqTaskflow: median(seqTaskflow), itemsNative, itemsTaskflow, maxEvents, replayMs, replayEvents: history.events?.length ?? 0 };
  });
  const report = {
    measured_at: new Date().toISOString(),
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    sequential: { tasks: SEQ, native_ms: Math.round(results.seqNative), taskflow_ms: Math.round(results.seqTaskflow), overhead_ratio: +(results.seqTaskflow / results.seqNative).toFixed(3), target: '<= 1.15' },
    items: { items: ITEMS, native_ms: Math.round(results.itemsNative), taskflow_ms: Math.round(results.itemsTaskflow), ratio: +(results.itemsTaskflow / results.itemsNative).toFixed(3), max_history_events: results.maxEvents, target: '<= 1.5, <= 10240 events' },
    replay: { tasks: 1000, history_events: results.replayEvents, replay_ms: Math.round(results.replayMs), target: '< 2000 ms' },
    memory: { rss_mb_before: Math.round(rssBefore / 2 ** 20), rss_mb_after: Math.round(process.memoryUsage().rss / 2 ** 20) },
  };
  await writeFile(join(PROJECT_ROOT, 'bench', 'results', 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
  await native.close();
  await connection.close();
  await store.close();
  await server.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
