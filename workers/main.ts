// `npm start`: the main job — Temporal (embedded dev server unless TEMPORAL_ADDRESS), database, migrations and
// the API in this process; the worker in a supervised child process (workers/supervisor.ts).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { Connection } from '@temporalio/client';
import { createApp } from '../api/app.js';
import { connectClient, ensureSearchAttributes, loadConfig, openDatabase, type LoadedConfig } from './bootstrap.js';
import { readSettings, type Settings } from './settings.js';
import { findTemporalCli, startDevServer, temporalAnswers, type DevServer } from './temporal-cli.js';
import { ensureAlertSchedule } from './schedules.js';
import { fetchedMetrics, installMetrics } from './telemetry.js';
import { installTracing } from './tracing.js';
import { createIntake } from '../api/intake/index.js';
import { startEventBus, type EventBus } from '../api/intake/nats.js';
import { StrategyLibrary } from '../api/strategy-library.js';
import { StrategyRepo } from '../store/strategies-repo.js';
import { WorkflowRepo } from '../store/workflows-repo.js';
import { startWorkerProcess } from './worker-host.js';

/** The Temporal server to use: TEMPORAL_ADDRESS, one already on 7233, or the embedded dev server (persistent under .data/). */
async function temporal(settings: Settings): Promise<{ address: string; uiUrl: string; devServer?: DevServer }> {
  if (settings.temporalAddress) return { address: settings.temporalAddress, uiUrl: 'your Temporal UI' };
  const address = '127.0.0.1:7233';
  if (await temporalAnswers(address)) {
    console.log(`closeloop: a Temporal server already answers on ${address}; using it`);
    return { address, uiUrl: 'http://127.0.0.1:8233' };
  }
  console.log(`closeloop: starting the embedded Temporal dev server (data in ${join(settings.dataDir, 'temporal.db')})...`);
  const devServer = await startDevServer({
    cli: findTemporalCli(settings.temporalCliPath),
    dbFile: join(settings.dataDir, 'temporal.db'),
    namespace: settings.namespace,
  });
  return { address, uiUrl: devServer.uiUrl, devServer };
}

function banner(s: Settings, t: { address: string; uiUrl: string }, config: LoadedConfig, extra: { bus: boolean; tracing: boolean; pglite: boolean }): string {
  return `
Closeloop is running.
  Console     http://127.0.0.1:${s.port}/console/   (sign in with an API key)
  API         http://127.0.0.1:${s.port}   (try: curl -H 'Authorization: Bearer ${s.devApiKey}' http://127.0.0.1:${s.port}/v1/workflows)
  Web UI      ${t.uiUrl}/namespaces/${s.namespace}/workflows
  Temporal    ${t.address} (namespace ${s.namespace}, task queue ${s.taskQueue})
  Worker      a supervised child process (restarted with backoff if it stops)
  Event bus   ${extra.bus ? `${s.natsUrl} (JetStream: events.> → intake, dead letters on deadletter.>)` : 'off (set NATS_URL to take events from JetStream)'}
  Metrics     http://127.0.0.1:${s.port}/metrics   (traces: ${extra.tracing ? `OTLP to ${s.otlpEndpoint}` : 'off, set OTEL_EXPORTER_OTLP_ENDPOINT'})
  Database    ${extra.pglite ? `embedded PGlite in ${join(s.dataDir, 'pglite')}` : 'PostgreSQL (DATABASE_URL)'}
  Config      ${s.configDir} (${config.packWorkflows} pack workflow(s) registered, ${config.strategies} strategies)
  Dev tenant  'default': API key '${s.devApiKey}', signing secret '${s.devSigningSecret}'
Press Ctrl-C to stop.`;
}

async function main(): Promise<void> {
  const settings = readSettings();
  await mkdir(settings.dataDir, { recursive: true });
  const t = await temporal(settings);
  const store = await openDatabase(settings);
  const tracing = installTracing(settings.otlpEndpoint);
  const client = await connectClient(t.address, settings.namespace, tracing?.clientInterceptors);
  await ensureSearchAttributes(client.connection as Connection, settings.namespace);
  let config = await loadConfig(settings, store);
  const worker = await startWorkerProcess(settings, { address: t.address, store, client });
  const metrics = installMetrics({
    sources: [
      { label: 'Closeloop worker process', text: () => worker.metrics() },
      ...(settings.workerMetricsAddress ? [fetchedMetrics('Temporal worker (Core SDK)', `http://${settings.workerMetricsAddress}/metrics`)] : []),
    ],
  });

  // one intake and strategy library shared by HTTP and the event bus
  const { taskQueue } = settings;
  const launch = {
    repo: new WorkflowRepo(store.db),
    store,
    client,
    taskQueue,
    packs: () => config.packs,
    closureRules: () => config.closureRules,
    limits: () => config.limits,
  };
  const library = new StrategyLibrary(new StrategyRepo(store.db));
  const intake = createIntake({ launch, library, tenants: () => config.tenants, inbox: settings.inbox });
  const bus: EventBus | undefined = settings.natsUrl ? await startEventBus({ url: settings.natsUrl, intake, trusted: settings.natsTrusted }) : undefined;
  await ensureAlertSchedule(client, taskQueue).catch((err: Error) => console.warn(`closeloop: the alert schedule could not be created: ${err.message}`));
  const app = createApp({ ...launch, tenants: () => config.tenants, metrics, intake, library });
  const server: Server = await new Promise((res) => {
    const s = app.listen(settings.port, '0.0.0.0', () => res(s));
  });
  console.log(banner(settings, t, config, { bus: Boolean(bus), tracing: Boolean(tracing), pglite: store.kind === 'pglite' }));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\ncloseloop: ${signal} received, stopping...`);
    // drain: in-flight requests finish (10 s at most); accepted events stay in the inbox
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    setTimeout(() => server.closeAllConnections(), 10_000).unref();
    await closed;
    await bus?.stop();
    await intake.dispatcher?.stop();
    await worker.stop();
    await client.connection.close();
    await store.close();
    await tracing?.shutdown();
    await t.devServer?.stop();
    console.log('closeloop: stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGHUP', () => {
    worker.reload();
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
