// `npm run api`: only the HTTP API, for scaling out. Needs TEMPORAL_ADDRESS (default 127.0.0.1:7233) and a shared DATABASE_URL.
import { connectClient, loadConfig, openDatabase } from '../workers/bootstrap.js';
import { readSettings } from '../workers/settings.js';
import { createApp } from './app.js';

const settings = readSettings();
const address = settings.temporalAddress ?? '127.0.0.1:7233';
const store = await openDatabase(settings);
const client = await connectClient(address, settings.namespace);
let config = await loadConfig(settings, store);
const app = createApp({
  store,
  client,
  tenants: () => config.tenants,
  packs: () => config.packs,
  taskQueue: settings.taskQueue,
  closureRules: () => config.closureRules,
  limits: () => config.limits,
  inbox: settings.inbox,
});
const server = app.listen(settings.port, '0.0.0.0', () => console.log(`closeloop api: http://127.0.0.1:${settings.port} (Temporal ${address})`));
process.on('SIGHUP', () => {
  loadConfig(settings, store, console.log, config).then(
    (c) => (config = c),
    (err: Error) => console.error(`closeloop api: configuration reload failed, previous configuration stays in force: ${err.message}`),
  );
});
const stop = () => {
  server.close();
  void client.connection
    .close()
    .then(() => store.close())
    .then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
