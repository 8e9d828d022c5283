// `npm run worker`: only the worker, for scaling out. Needs TEMPORAL_ADDRESS (default 127.0.0.1:7233) and a shared DATABASE_URL.
import type { Connection } from '@temporalio/client';
import { connectClient, ensureSearchAttributes, openDatabase } from './bootstrap.js';
import { loadPlugins, secretFromEnv } from './config.js';
import { readSettings } from './settings.js';
import { loadEndpoints } from './agent-config.js';
import { createWorker } from './worker.js';

const settings = readSettings();
if (!settings.databaseUrl) console.warn('closeloop worker: DATABASE_URL is not set; using the embedded PGlite under .data/ (one process only)');
const address = settings.temporalAddress ?? '127.0.0.1:7233';
const store = await openDatabase(settings);
const client = await connectClient(address, settings.namespace);
await ensureSearchAttributes(client.connection as Connection, settings.namespace);
await client.connection.close();
let plugins = await loadPlugins(settings.configDir);
let endpoints = await loadEndpoints(settings.configDir);
process.on('SIGHUP', () => {
  void loadPlugins(settings.configDir).then((p) => (plugins = p));
  void loadEndpoints(settings.configDir).then((e) => (endpoints = e));
});
const { worker, connection } = await createWorker({ address, namespace: settings.namespace, deps: { store, plugins: () => plugins, pluginSecret: secretFromEnv(), publicUrl: settings.publicUrl, endpoints: () => endpoints } });
console.log(`closeloop worker: polling task queue 'closeloop' on ${address} (namespace ${settings.namespace})`);
const stop = () => worker.getState() === 'RUNNING' && worker.shutdown();
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
await worker.run();
await connection.close();
await store.close();
console.log('closeloop worker: stopped');
