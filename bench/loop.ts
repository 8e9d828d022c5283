// `npm run bench:loop`: a 5,000-iteration polling loop (one activity per iteration) kept going by
// continue-as-new, against a native loop doing the same 5,000 activities in one run chain.
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode, makeTelemetryFilterString } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { DEFAULT_WORKFLOW_LIMITS, validateWorkflow } from '../dsl/index.js';
import { migrate, openStore } from '../store/db.js';
import { PROJECT_ROOT } from '../workers/settings.js';
import { findTemporalCli, startDevServer } from '../workers/temporal-cli.js';
import { bundleOptions, limitWorkflowStacks } from '../workers/worker.js';
import type { RunSummary } from '../contracts/run.js';

limitWorkflowStacks();
Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
const ITERATIONS = Number(process.argv.find((a) => a.startsWith('--iterations='))?.split('=')[1] ?? 5000);
const SUGGEST_AT = 4000; // events: continue-as-new is suggested here (Temporal's own default is larger)

async function main() {
  const server = await startDevServer({
    cli: findTemporalCli(),
    port: 17633,
    uiPort: 18633,
    quiet: true,
    extraArgs: ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${SUGGEST_AT}`],
  });
  const store = await openStore(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : { pgliteDir: 'memory://' });
  await migrate(store);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address: server.address });
  const taskQueue = `bench-loop-${randomUUID()}`;
  const workflowBundle = await bundleWorkflowCode(bundleOptions(join(PROJECT_ROOT, 'bench', 'workflows.ts')));
  const worker = await Worker.create({
    connection: native,
    taskQueue,
    workflowBundle,
    activities: createActivities({ store, mocks: { 'bench.work': { result: { n: '{{ input.n }}' } } } }),
  });
  const v = validateWorkflow(
    `ref: bench.loop\nversion: 1.0.0\nvars: { n: 0 }\nlimits: { max_task_runs: ${ITERATIONS + 10} }\ntasks:\n  - name: start\n    action: core.noop\n    on_success: poll\n  - name: poll\n    action: bench.work\n    input: { n: "{{ vars.n }}" }\n    next:\n      - when: "{{ vars.n < ${ITERATIONS - 1} }}"\n        publish: [ { n: "{{ vars.n + 1 }}" } ]\n        do: poll\n`,
    { isKnownAction: (r) => r === 'bench.work', limits: { ...DEFAULT_WORKFLOW_LIMITS, max_task_runs: ITERATIONS + 10 } }, // the bench is its own operator
  );
  if (!v.workflow) throw new Error(JSON.stringify(v.diagnostics));
  const chain = async (id: string) => {
    let runs = 0;
    let maxEvents = 0;
    for await (const w of client.workflow.list({ query: `WorkflowId = '${id}'` })) {
      runs++;
      maxEvents = Math.max(maxEvents, w.historyLength);
    }
    return { runs, maxEvents };
  };
  const results = await worker.runUntil(async () => {
    const nativeId = `bench-native-loop-${randomUUID()}`;
    let t0 = performance.now();
    await client.workflow.execute('nativeLoop', { taskQueue, workflowId: nativeId, args: [ITERATIONS, 0] });
    const nativeMs = performance.now() - t0;
    const id = `run:bench:loop-${randomUUID()}`;
    t0 = performance.now();
    const summary = (await client.workflow.execute('taskflow', {
      taskQueue,
      workflowId: id,
      args: [{ workflow: v.workflow, parameters: {}, tenant: 'bench' }],
    })) as RunSummary;
    const taskflowMs = performance.now() - t0;
    const poll = summary.tasks.find((t) => t.name === 'poll');
    if (summary.status !== 'succeeded' || poll?.runs !== ITERATIONS) throw new Error(`loop ended ${summary.status} after ${poll?.runs} iterations`);
    return { nativeMs, taskflowMs, native: await chain(nativeId), taskflow: await chain(id) };
  });
  const report = {
    measured_at: new Date().toISOString(),
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    loop: {
      iterations: ITERATIONS,
      suggest_continue_as_new_at_events: SUGGEST_AT,
      native_ms: Math.round(results.nativeMs),
      taskflow_ms: Math.round(results.taskflowMs),
      ratio: +(results.taskflowMs / results.nativeMs).toFixed(3),
      iterations_per_second: Math.round(ITERATIONS / (results.taskflowMs / 1000)),
      taskflow_runs_in_chain: results.taskflow.runs,
      taskflow_max_history_events: results.taskflow.maxEvents,
      native_runs_in_chain: results.native.runs,
      native_max_history_events: results.native.maxEvents,
    },
  };
  await mkdir(join(PROJECT_ROOT, 'bench', 'results'), { recursive: true });
  await writeFile(join(PROJECT_ROOT, 'bench', 'results', 'loop-latest.json'), JSON.stringify(report, null, 2) + '\n');
  console.log(JSON.stringify(report, null, 2));
  await native.close();
  await connection.close();
  await store.close();
  await server.stop();
}
await main();
