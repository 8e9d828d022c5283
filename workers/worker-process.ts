// The worker process: polls Temporal, runs workflows and activities. `npm start` and `npm run worker`
// start it and supervise it (workers/supervisor.ts); it reports which runs are on a workflow thread,
// answers for its metrics, and reaches the embedded database through its parent when there is no DATABASE_URL.
import { openStore, type Store } from '../store/db.js';
import { openIpcStore } from '../store/ipc-store.js';
import { loadEndpoints, loadEscalation } from './agent-config.js';
import { connectClient } from './bootstrap.js';
import { connectPublisher } from './bus-publisher.js';
import { loadPlugins, secretFromEnv } from './config.js';
import { ReportingWorker } from './reporting-worker.js';
import { readSettings } from './settings.js';
import { collectMetrics, installMetrics } from './telemetry.js';
import { installTracing } from './tracing.js';
import { createWorker, installWorkerRuntime } from './worker.js';

type ParentMessage = { type: 'metrics'; id: number } | { type: 'reload' } | { type: 'shutdown' };
const send = (m: unknown) => process.send?.(m, (err: Error | null) => void err);

const settings = readSettings();
await installWorkerRuntime(settings.workerMetricsAddress);
installMetrics();
ReportingWorker.report = (report) => send({ type: 'activation', report });

const address = settings.temporalAddress ?? '127.0.0.1:7233';
const store: Store = settings.databaseUrl ? await openStore({ databaseUrl: settings.databaseUrl }) : openIpcStore();
const tracing = installTracing(settings.otlpEndpoint);
const client = await connectClient(address, settings.namespace, tracing?.clientInterceptors);
const bus = settings.natsUrl ? await connectPublisher(settings.natsUrl) : undefined;
let plugins = await loadPlugins(settings.configDir);
let endpoints = await loadEndpoints(settings.configDir);
let escalation = await loadEscalation(settings.configDir);
const reload = async () => {
  plugins = await loadPlugins(settings.configDir);
  endpoints = await loadEndpoints(settings.configDir);
  escalation = await loadEscalation(settings.configDir, console.error, escalation);
};

const { worker, connection } = await createWorker({
  address,
  namespace: settings.namespace,
  taskQueue: settings.taskQueue,
  ...(settings.workflowBundle ? { bundlePath: settings.workflowBundle } : {}),
  ...(tracing ? { tracing } : {}),
  deps: {
    store,
    plugins: () => plugins,
    pluginSecret: secretFromEnv(),
    publicUrl: settings.publicUrl,
    endpoints: () => endpoints,
    escalation: () => escalation,
    client,
    taskQueue: settings.taskQueue,
    ...(bus ? { publish: bus.publish } : {}),
  },
});

const stop = () => worker.getState() === 'RUNNING' && worker.shutdown();
process.on('message', (m: ParentMessage) => {
  if (m.type === 'metrics') void collectMetrics({ targetInfo: false }).then((text) => send({ type: 'metrics:reply', id: m.id, text }));
  else if (m.type === 'reload') reload().catch((err: Error) => console.error(`closeloop worker: configuration reload failed: ${err.message}`));
  else if (m.type === 'shutdown') stop();
});
// an orphan (its parent died without stopping it) stops too
process.on('disconnect', stop);
process.once('SIGTERM', stop);

send({ type: 'ready' });
await worker.run();
await connection.close();
await client.connection.close();
await bus?.stop().catch(() => {});
await tracing?.shutdown();
await store.close();
process.exit(0);
