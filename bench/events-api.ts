// The API process of `npm run bench:events`: the real intake, inbox and dispatcher behind the real
// HTTP app, as `npm run api` wires them, for the bench's tenants. Env: TEMPORAL_ADDRESS, DATABASE_URL,
// BENCH_TENANTS (JSON [{id, secret}]), BENCH_INBOX (JSON InboxLimits). Prints `listening <port>`.
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../api/app.js';
import { createIntake } from '../api/intake/index.js';
import type { InboxLimits } from '../api/intake/dispatcher.js';
import { StrategyLibrary } from '../api/strategy-library.js';
import { TASK_QUEUE } from '../contracts/definitions.js';
import { openStore } from '../store/db.js';
import { StrategyRepo } from '../store/strategies-repo.js';
import { WorkflowRepo } from '../store/workflows-repo.js';
import type { TenantConfig } from '../workers/config.js';

const store = await openStore({ databaseUrl: process.env.DATABASE_URL! });
const client = new Client({ connection: await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! }) });
const limits = { rate: 100_000, burst: 100_000 };
const list = JSON.parse(process.env.BENCH_TENANTS!) as { id: string; secret: string }[];
const tenants: TenantConfig = {
  tenants: new Map(list.map((t) => [t.id, { id: t.id, name: t.id, status: 'active' as const, signingSecret: t.secret, rateLimit: limits }])),
  keys: [],
};
const library = new StrategyLibrary(new StrategyRepo(store.db));
const intake = createIntake({
  launch: { repo: new WorkflowRepo(store.db), store, client, taskQueue: TASK_QUEUE, packs: () => ({ actions: new Map(), config: new Map() }) },
  library,
  tenants: () => tenants,
  inbox: JSON.parse(process.env.BENCH_INBOX!) as InboxLimits,
});
const app = createApp({ store, client, tenants: () => tenants, taskQueue: TASK_QUEUE, intake, library });
const http = app.listen(0, '127.0.0.1', () => console.log(`listening ${(http.address() as AddressInfo).port}`));
process.once('SIGTERM', () => {
  http.close();
  void intake.dispatcher
    ?.stop()
    .then(() => store.close())
    .then(() => process.exit(0));
});
