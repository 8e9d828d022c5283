// `npm run bench`: interpreter overhead against native Temporal workflows measured in the same run,
// with_items over 1,000 and 10,000 items, and replay of a 1,000-task history (with a native baseline).
// Writes bench/results/latest.json (--quick: smaller sizes, bench/results/quick.json).
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
import { bundleOptions, limitWorkflowStacks } from '../workers/worker.js';
import { replayHistory } from '../workers/replay.js';

limitWorkflowStacks(); // as the product's worker runs
Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const QUICK = process.argv.includes('--quick');
// the issue's sizes; --quick runs the same measurements smaller (under 5 minutes) and writes quick.json
const SEQ = arg('sequential', 50);
const ITEMS_SMALL = arg('items-small', 1_000);
const ITEMS = arg('items', QUICK ? 2_000 : 10_000);
const REPLAY_TASKS = arg('replay', QUICK ? 300 : 1_000);
const REPEAT = arg('repeat', QUICK ? 3 : 5);

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
  const server = await startDevServer({
    cli: findTemporalCli(),
    port: 17433,
    uiPort: 18433,
    quiet: true,
    extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=100000'],
  });
  const store = await openStore(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : { pgliteDir: 'memory://' });
  await migrate(store);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address: server.address });
  const taskQueue = `bench-${randomUUID()}`;
  const workflowBundle = await bundleWorkflowCode(bundleOptions(join(PROJECT_ROOT, 'bench', 'workflows.ts')));
  const worker = await Worker.create({
    connection: native,
    taskQueue,
    workflowBundle,
    activities: createActivities({ store, mocks: { 'bench.work': { result: { n: '{{ input.n }}' } } } }),
    maxConcurrentActivityTaskExecutions: 200,
  });
  const rssBefore = process.memoryUsage().rss;
  const time = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const run = (type: string, args: unknown[]) => client.workflow.execute(type, { taskQueue, workflowId: `bench-${type}-${randomUUID()}`, args });
  const items = async (n: number) => {
    const itemsWf = compile(itemsYaml);
    const nativeMs = await time(() => (n > 1000 ? run('nativeItems', [n, 100, 1000]) : run('nativeShard', [0, n, 100])));
    const id = `run:bench:items-${randomUUID()}`;
    const taskflowMs = await time(() =>
      client.workflow.execute('taskflow', {
        taskQueue,
        workflowId: id,
        args: [{ workflow: itemsWf, parameters: { items: Array.from({ length: n }, (_, i) => i) }, tenant: 'bench' }],
      }),
    );
    let maxEvents = 0;
    for await (const w of client.workflow.list({ query: `WorkflowId = '${id}' OR RootWorkflowId = '${id}'` })) maxEvents = Math.max(maxEvents, w.historyLength);
    return {
      id,
      items: n,
      concurrency: 100,
      native_ms: Math.round(nativeMs),
      taskflow_ms: Math.round(taskflowMs),
      ratio: +(taskflowMs / nativeMs).toFixed(3),
      items_per_second: Math.round(n / (taskflowMs / 1000)),
      native_items_per_second: Math.round(n / (nativeMs / 1000)),
      max_history_events: maxEvents,
    };
  };
  const results = await worker.runUntil(async () => {
    const seqWf = compile(sequentialYaml(SEQ));
    const seqNative: number[] = [];
    const seqTaskflow: number[] = [];
    // one untimed run of each first: the worker's first workflow of a type pays its sandbox set-up
    await run('nativeSequential', [SEQ]);
    await run('taskflow', [{ workflow: seqWf, parameters: {}, tenant: 'bench' }]);
    for (let r = 0; r < REPEAT; r++) {
      seqNative.push(await time(() => run('nativeSequential', [SEQ])));
      seqTaskflow.push(await time(() => run('taskflow', [{ workflow: seqWf, parameters: {}, tenant: 'bench' }])));
    }
    const { id: smallId, ...small } = await items(ITEMS_SMALL);
    const { id: _largeId, ...large } = await items(ITEMS);
    const itemsHistory = await client.workflow.getHandle(smallId).fetchHistory();
    // replay of a sequential run (each task an activity), and of the hand-written loop doing the same activities
    const replayId = `run:bench:replay-${randomUUID()}`;
    await client.workflow.execute('taskflow', {
      taskQueue,
      workflowId: replayId,
      args: [{ workflow: compile(sequentialYaml(REPLAY_TASKS)), parameters: {}, tenant: 'bench' }],
    });
    const history = await client.workflow.getHandle(replayId).fetchHistory();
    const nativeReplayId = `bench-nativeSequential-${randomUUID()}`;
    await client.workflow.execute('nativeSequential', { taskQueue, workflowId: nativeReplayId, args: [REPLAY_TASKS] });
    const nativeHistory = await client.workflow.getHandle(nativeReplayId).fetchHistory();
    return {
      seqNative: median(seqNative),
      seqTaskflow: median(seqTaskflow),
      small,
      large,
      history,
      replayId,
      nativeHistory,
      nativeReplayId,
      itemsHistory,
      itemsId: smallId,
    };
  });
  // replay needs no server: measured as `closeloop replay` runs, with the worker and the dev server
  // stopped; the two histories alternate (at least 3 times each) and each keeps its median
  await native.close();
  await connection.close();
  await store.close();
  await server.stop();
  const replays: { taskflow: number[]; native: number[]; items: number[] } = { taskflow: [], native: [], items: [] };
  for (let r = 0; r < Math.max(3, REPEAT); r++) {
    replays.taskflow.push(await time(() => replayHistory({ workflowBundle }, results.history, results.replayId)));
    replays.native.push(await time(() => replayHistory({ workflowBundle }, results.nativeHistory, results.nativeReplayId)));
    replays.items.push(await time(() => replayHistory({ workflowBundle }, results.itemsHistory, results.itemsId)));
  }
  const report = {
    measured_at: new Date().toISOString(),
    quick: QUICK,
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    sequential: {
      tasks: SEQ,
      repeat: REPEAT,
      native_ms: Math.round(results.seqNative),
      taskflow_ms: Math.round(results.seqTaskflow),
      ratio: +(results.seqTaskflow / results.seqNative).toFixed(3),
      target: '<= 1.15',
    },
    [`with_items_${ITEMS_SMALL}`]: { ...results.small, target: '<= 1.5' },
    [`with_items_${ITEMS}`]: { ...results.large, target: '<= 1.5, <= 10240 events per history' },
    [`replay_${REPLAY_TASKS}`]: {
      seconds: +(median(replays.taskflow) / 1000).toFixed(2),
      history_events: results.history.events?.length ?? 0,
      native_seconds: +(median(replays.native) / 1000).toFixed(2),
      native_history_events: results.nativeHistory.events?.length ?? 0,
      runs_ms: { taskflow: replays.taskflow.map(Math.round), native: replays.native.map(Math.round) },
      target: '< 2 s',
    },
    // beside the worst case above (one workflow task per task), the history of the with_items run
    [`replay_with_items_${ITEMS_SMALL}`]: { seconds: +(median(replays.items) / 1000).toFixed(2), history_events: results.itemsHistory.events?.length ?? 0 },
    memory: { rss_mb_before: Math.round(rssBefore / 2 ** 20), rss_mb_after: Math.round(process.memoryUsage().rss / 2 ** 20) },
  };
  await writeFile(join(PROJECT_ROOT, 'bench', 'results', QUICK ? 'quick.json' : 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
