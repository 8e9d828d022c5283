// `npm start`: the main job — Temporal (embedded dev server unless TEMPORAL_ADDRESS), database, migrations, worker and API in one process.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { Connection } from '@temporalio/client';
import { createApp } from '../api/app.js';
import { TASK_QUEUE } from '../workflows/definitions.js';
import { connectClient, ensureSearchAttributes, loadConfig, openDatabase } from './bootstrap.js';
import { readSettings } from './settings.js';
import { secretFromEnv } from './config.js';
import { findTemporalCli, startDevServer, temporalAnswers, type DevServer } from './temporal-cli.js';
import { createWorker, installWorkerRuntime } from './worker.js';
import { ensureAlertSchedule } from './schedules.js';
import { installMetrics } from './telemetry.js';
import { installTracing } from './tracing.js';
import { createIntake } from '../api/intake/index.js';
import { startEventBus } from '../api/intake/nats.js';
import { StrategyLibrary } from '../api/strategy-library.js';
import { StrategyRepo } from '../store/strategies-repo.js';
import { WorkflowRepo } from '../store/workflows-repo.js';

async function main(): Promise<void> {
  const settings = readSettings();
  // Runtime.install must come before any Temporal connection: it carries the worker's Prometheus endpoint
  const workerMetricsUrl = await installWorkerRuntime(settings.workerMetricsAddress);
  const metrics = installMetrics(workerMetricsUrl ? { workerMetricsUrl } : {});
  await mkdir(settings.dataDir, { recursive: true });
  let devServer: DevServer | undefined;
  let address = settings.temporalAddress;
  let uiUrl = 'your Temporal UI';
  if (!address) {
    address = '127.0.0.1:7233';
    if (await temporalAnswers(address)) {
      console.log(`closeloop: a Temporal server already answers on ${address}; using it`);
      uiUrl = 'http://127.0.0.1:8233';
    } else {
      console.log(`closeloop: starting the embedded Temporal dev server (data in ${join(settings.dataDir, 'temporal.db')})...`);
      devServer = await startDevServer({
        cli: findTemporalCli(settings.temporalCliPath),
        dbFile: join(settings.dataDir, 'temporal.db'),
        namespace: settings.namespace,
      });
      uiUrl = devServer.uiUrl;
    }
  }
  const store = await openDatabase(settings);
  const tracing = installTracing(settings.otlpEndpoint);
  const client = await connectClient(address, settings.namespace, tracing?.clientInterceptors);
  await ensureSearchAttributes(client.connection as Connection, settings.namespace);
  let config = await loadConfig(settings, store);

  // one intake and strategy library shared by HTTP and the event bus
  const launch = { repo: new WorkflowRepo(store.db), store, client, taskQueue: TASK_QUEUE, packs: () => config.packs, closureRules: () => config.closureRules };
  const library = new StrategyLibrary(new StrategyRepo(store.db));
  const intake = createIntake({ launch, library, tenants: () => config.tenants });
  const bus = settings.natsUrl ? await startEventBus({ url: settings.natsUrl, intake, trusted: settings.natsTrusted }) : undefined;
  const { worker, connection } = await createWorker({
    address,
    namespace: settings.namespace,
    deps: {
      store,
      plugins: () => config.plugins,
      pluginSecret: secretFromEnv(),
      publicUrl: settings.publicUrl,
      endpoints: () => config.endpoints,
      escalation: () => config.escalation,
      client,
      taskQueue: TASK_QUEUE,
      ...(bus ? { publish: bus.publish } : {}),
    },
    ...(tracing ? { tracing } : {}),
  });
  const workerDone = worker.run();
  await ensureAlertSchedule(client, TASK_QUEUE).catch((err: Error) => console.warn(`closeloop: the alert schedule could not be created: ${err.message}`));
  const app = createApp({
    store,
    client,
    tenants: () => config.tenants,
    packs: () => config.packs,
    taskQueue: TASK_QUEUE,
    metrics,
    intake,
    library,
    closureRules: () => config.closureRules,
  });
  const server: Server = await new Promise((res) => {
    const s = app.listen(settings.port, '0.0.0.0', () => res(s));
  });

  console.log(`
Closeloop is running.
  API         http://127.0.0.1:${settings.port}   (try: curl -H 'Authorization: Bearer ${settings.devApiKey}' http://127.0.0.1:${settings.port}/v1/workflows)
  Web UI      ${uiUrl}/namespaces/${settings.namespace}/workflows
  Temporal    ${address} (namespace ${settings.namespace}, task queue ${TASK_QUEUE})
  Event bus   ${bus ? `${settings.natsUrl} (JetStream: events.> → intake, dead letters on deadletter.>)` : 'off (set NATS_URL to take events from JetStream)'}
  Metrics     http://127.0.0.1:${settings.port}/metrics   (traces: ${tracing ? `OTLP to ${settings.otlpEndpoint}` : 'off, set OTEL_EXPORTER_OTLP_ENDPOINT'})
  Database    ${store.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${join(settings.dataDir, 'pglite')}`}
  Config      ${settings.configDir} (${config.packWorkflows} pack workflow(s) registered, ${config.strategies} strategies)
  Dev tenant  'default': API key '${settings.devApiKey}', signing secret '${settings.devSigningSecret}'
Press Ctrl-C to stop.`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\ncloseloop: ${signal} received, stopping...`);
    server.close();
    await bus?.stop();
    // the Temporal Runtime's own SIGINT handler may have begun the shutdown already
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await workerDone.catch(() => {});
    await connection.close();
    await client.connection.close();
    await store.close();
    await tracing?.shutdown();
    await devServer?.stop();
    console.log('closeloop: stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGHUP', () => {
    loadConfig(settings, store, console.log, config).then(
      (c) => {
        config = c;
        console.log('closeloop: configuration reloaded');
      },
      (err: Error) => console.error(`closeloop: configuration reload failed, previous configuration stays in force: ${err.message}`),
    );
  });
}

main().catch((err) => {
  console.error(`closeloop: failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
