// The worker process of `npm run bench:events`: the Closeloop worker (taskflow, the real activities
// with `bench.work` mocked) and the native baseline workflow, in one process on one task queue, as
// `npm run worker` runs it apart from the API. Env: TEMPORAL_ADDRESS, DATABASE_URL, BENCH_BUNDLE.
import { DefaultLogger, NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { ReportingWorker } from '../workers/reporting-worker.js';
import { createActivities } from '../activities/index.js';
import { TASK_QUEUE } from '../contracts/definitions.js';
import { openStore } from '../store/db.js';
import { limitWorkflowStacks } from '../workers/worker.js';

Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
limitWorkflowStacks();
// as under the supervisor of `npm start` and `npm run worker`: its workflow-task limit replaces the sandbox's per-call timeout
ReportingWorker.unwatched = true;
const store = await openStore({ databaseUrl: process.env.DATABASE_URL! });
const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
const worker = await ReportingWorker.create({
  connection,
  taskQueue: TASK_QUEUE,
  workflowBundle: { codePath: process.env.BENCH_BUNDLE! },
  activities: createActivities({ store, mocks: { 'bench.work': { result: { ok: true } } } }),
  maxConcurrentActivityTaskExecutions: 200,
});
process.once('SIGTERM', () => worker.shutdown());
console.log('ready');
await worker.run();
await connection.close();
await store.close();
