// `npm run worker`: only the worker, for scaling out, in a supervised child process as under `npm start`.
// Needs TEMPORAL_ADDRESS (default 127.0.0.1:7233) and a shared DATABASE_URL.
import { createServer } from 'node:http';
import type { Connection } from '@temporalio/client';
import { connectClient, ensureSearchAttributes, openDatabase } from './bootstrap.js';
import { readSettings } from './settings.js';
import { ensureAlertSchedule } from './schedules.js';
import { startWorkerProcess } from './worker-host.js';
import { fetchedMetrics, installMetrics } from './telemetry.js';

const settings = readSettings();
if (!settings.databaseUrl) console.warn('closeloop worker: DATABASE_URL is not set; using the embedded PGlite under .data/ (one process only)');
const address = settings.temporalAddress ?? '127.0.0.1:7233';
const store = await openDatabase(settings);
const client = await connectClient(address, settings.namespace);
await ensureSearchAttributes(client.connection as Connection, settings.namespace);
const worker = await startWorkerProcess(settings, { address, store, client });
await ensureAlertSchedule(client, settings.taskQueue).catch((err: Error) =>
  console.warn(`closeloop worker: the alert schedule could not be created: ${err.message}`),
);
// the worker's own instruments (closures, tasks, incidents) for Prometheus, on their own port
const metrics = installMetrics({
  sources: [
    { label: 'Closeloop worker process', text: () => worker.metrics() },
    ...(settings.workerMetricsAddress ? [fetchedMetrics('Temporal worker (Core SDK)', `http://${settings.workerMetricsAddress}/metrics`)] : []),
  ],
});
const metricsPort = Number(process.env.CLOSELOOP_WORKER_PORT || 9465);
const server = createServer((req, res) => {
  if (req.url?.split('?')[0] === '/metrics') void metrics(req, res).catch(() => res.writeHead(500).end());
  else res.writeHead(404).end();
}).listen(metricsPort, process.env.CLOSELOOP_WORKER_HOST || '0.0.0.0');
console.log(`closeloop worker: metrics on :${metricsPort}/metrics`);
console.log(`closeloop worker: polling task queue '${settings.taskQueue}' on ${address} (namespace ${settings.namespace})`);
process.on('SIGHUP', () => worker.reload());
const stop = async () => {
  server.close();
  await worker.stop();
  await client.connection.close();
  await store.close();
  console.log('closeloop worker: stopped');
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
