// `npm run worker`: only the worker, for scaling out. Needs TEMPORAL_ADDRESS (default 127.0.0.1:7233) and a shared DATABASE_URL.
import type { Connection } from '@temporalio/client';
import { connectClient, ensureSearchAttributes, openDatabase } from './bootstrap.js';
import { loadPlugins, secretFromEnv } from './config.js';
import { readSettings } from './settings.js';
import { loadEndpoints, loadEscalation } from './agent-config.js';
import { TASK_QUEUE } from '../workflows/definitions.js';
import { ensureAlertSchedule } from './schedules.js';
import { createWorker } from './worker.js';

const settings = readSettings();
if (!settings.databaseUrl) console.warn('closeloop worker: DATABASE_URL is not set; using the embedded PGlite under .data/ (one process only)');
const address = settings.temporalAddress ?? '127.0.0.1:7233';
const store = await openDatabase(settings);
const client = await connectClient(address, settings.namespace);
await ensureSearchAttributes(client.connection as Connection, settings.namespace);
let plugins = await loadPlugins(settings.configDir);
let endpoints = await loadEndpoints(settings.configDir);
let escalation = await loadEscalation(settings.configDir);
process.on('SIGHUP', () => {
  void loadPlugins(settings.configDir).then((p) => (plugins = p));
  void loadEndpoints(settings.configDir).then((e) => (endpoints = e));
  void loadEscalation(settings.configDir, console.error, escalation).then((e) => (escalation = e));
});
const { worker, connection } = await createWorker({
  address,
  namespace: settings.namespace,
  deps: {
    store,
    plugins: () => plugins,
    pluginSecret: secretFromEnv(),
    publicUrl: settings.publicUrl,
    endpoints: () => endpoints,
    escalation: () => escalation,
    client,
    taskQueue: TASK_QUEUE,
  },
});
await ensureAlertSchedule(client, TASK_QUEUE).catch((err: Error) => console.warn(`closeloop worker: the alert schedule could not be created: ${err.message}`));
console.log(`closeloop worker: polling task queue 'closeloop' on ${address} (namespace ${settings.namespace})`);
const stop = () => worker.getState() === 'RUNNING' && worker.shutdown();
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
await worker.run();
await connection.close();
await client.connection.close();
await store.close();
console.log('closeloop worker: stopped');
