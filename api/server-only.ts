// `npm run api`: only the HTTP API, for scaling out. Needs TEMPORAL_ADDRESS (default 127.0.0.1:7233)
// and a shared DATABASE_URL; wires what `npm start` wires for its API: the event bus (NATS_URL),
// traces (OTEL_EXPORTER_OTLP_ENDPOINT), the event inbox and its dispatcher (docs/scaling.md).
import type { Connection } from '@temporalio/client';
import { connectClient, ensureSearchAttributes, loadConfig, openDatabase } from '../workers/bootstrap.js';
import { readSettings } from '../workers/settings.js';
import { installTracing } from '../workers/tracing.js';
import { StrategyRepo } from '../store/strategies-repo.js';
import { WorkflowRepo } from '../store/workflows-repo.js';
import { createApp } from './app.js';
import { createIntake } from './intake/index.js';
import { startEventBus } from './intake/nats.js';
import { StrategyLibrary } from './strategy-library.js';

const settings = readSettings();
const address = settings.temporalAddress ?? '127.0.0.1:7233';
const store = await openDatabase(settings);
const tracing = installTracing(settings.otlpEndpoint);
const client = await connectClient(address, settings.namespace, tracing?.clientInterceptors);
// an API that starts before any worker, on a fresh cluster, must be able to start runs
await ensureSearchAttributes(client.connection as Connection, settings.namespace);
let config = await loadConfig(settings, store);
const launch = {
  repo: new WorkflowRepo(store.db),
  store,
  client,
  taskQueue: settings.taskQueue,
  packs: () => config.packs,
  closureRules: () => config.closureRules,
  limits: () => config.limits,
};
const library = new StrategyLibrary(new StrategyRepo(store.db));
const intake = createIntake({ launch, library, tenants: () => config.tenants, inbox: settings.inbox });
const bus = settings.natsUrl ? await startEventBus({ url: settings.natsUrl, intake, trusted: settings.natsTrusted }) : undefined;
const app = createApp({ ...launch, tenants: () => config.tenants, intake, library });
const server = app.listen(settings.port, '0.0.0.0', () =>
  console.log(
    `closeloop api: http://127.0.0.1:${settings.port} (Temporal ${address}; event bus ${bus ? settings.natsUrl : 'off'}; traces ${tracing ? settings.otlpEndpoint : 'off'})`,
  ),
);
process.on('SIGHUP', () => {
  loadConfig(settings, store, console.log, config).then(
    (c) => {
      config = c;
      console.log('closeloop api: configuration reloaded');
    },
    (err: Error) => console.error(`closeloop api: configuration reload failed, previous configuration stays in force: ${err.message}`),
  );
});
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  // drain: no new connections, in-flight requests finish; accepted events stay in the inbox for the others
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  setTimeout(() => server.closeAllConnections(), 10_000).unref();
  await closed;
  await bus?.stop();
  await intake.dispatcher?.stop();
  await client.connection.close();
  await store.close();
  await tracing?.shutdown();
  console.log('closeloop api: stopped');
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
