import type { Server } from 'node:http';
import express, { type Express } from 'express';
import { sql } from 'drizzle-orm';
import type { Client } from '@temporalio/client';
import type { Store } from '../store/db.js';
import { RunRepo } from '../store/runs-repo.js';
import { WorkflowRepo } from '../store/workflows-repo.js';
import type { PackContents, TenantConfig } from '../contracts/config.js';
import { authenticate } from './auth.js';
import { ApiError, errorHandler } from './errors.js';
import { executionRoutes } from './routes/executions.js';
import { inquiryRoutes } from './routes/inquiries.js';
import { controlRoutes } from './routes/control.js';
import { kvRoutes } from './routes/kv.js';
import { callbackRoutes } from './routes/callbacks.js';
import { workflowRoutes } from './routes/workflows.js';
import { eventIntakeRoutes, eventReadRoutes } from './routes/events.js';
import { strategyRoutes } from './routes/strategies.js';
import { triggerRoutes } from './routes/trigger.js';
import { reportRoutes } from './routes/reports.js';
import { incidentRoutes } from './routes/incidents.js';
import { reviewRoutes } from './routes/reviews.js';
import { meRoutes } from './routes/me.js';
import { consoleRoutes } from './console.js';
import type { ClosureRule } from '../dsl/closure-rules.js';
import type { Limits } from '../dsl/types.js';
import { createIntake, type Intake } from './intake/index.js';
import { StrategyLibrary } from './strategy-library.js';
import { StrategyRepo } from '../store/strategies-repo.js';
import { EventRepo } from '../store/events-repo.js';
import type { LaunchDeps } from './launch.js';
import { methodNotAllowed, openApiDocument } from './openapi.js';
import { RETRY_AFTER_S, TEMPORAL_DEADLINE_MS, temporalDeadline } from './outages.js';
import { installMetrics, type MetricsHandler } from '../workers/telemetry.js';
import { observeAlertMeasures, observeIncidents, observeInbox } from './metrics.js';
import type { InboxLimits } from './intake/dispatcher.js';
import { alertMeasures } from '../store/alert-measures.js';
import { rowsOf } from '../store/db.js';

export interface ApiDeps {
  store: Store;
  client: Client;
  tenants: () => TenantConfig;
  taskQueue: string;
  packs?: () => PackContents;
  bodyLimit?: string;
  /** Largest accepted event body (413 above it). */
  eventBodyLimit?: string;
  /** Shared with the NATS consumer when one runs in the same process. */
  intake?: Intake;
  library?: StrategyLibrary;
  /** `GET /metrics` (Prometheus text); the process-wide handler by default. */
  metrics?: MetricsHandler;
  /** config/agent/closure_rules.yaml by id. */
  closureRules?: () => ReadonlyMap<string, ClosureRule>;
  /** config/limits.yaml: what workflows may ask for. */
  limits?: () => Limits;
  /** The event inbox's limits (false = every event's run starts before the answer). */
  inbox?: InboxLimits | false;
}

export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  const workflows = new WorkflowRepo(deps.store.db);
  const strategies = new StrategyRepo(deps.store.db);
  const library = deps.library ?? new StrategyLibrary(strategies);
  const packs = deps.packs ?? (() => ({ actions: new Map(), config: new Map() }));
  const launch: LaunchDeps = {
    repo: workflows,
    store: deps.store,
    client: deps.client,
    taskQueue: deps.taskQueue,
    packs,
    ...(deps.closureRules ? { closureRules: deps.closureRules } : {}),
    ...(deps.limits ? { limits: deps.limits } : {}),
  };
  const intake = deps.intake ?? createIntake({ launch, library, tenants: deps.tenants, ...(deps.inbox !== undefined ? { inbox: deps.inbox } : {}) });
  // before the JSON parser: intake verifies the signature over the raw bytes
  app.use(eventIntakeRoutes({ intake, bodyLimit: deps.eventBodyLimit ?? '256kb' }));
  const limit = deps.bodyLimit ?? '1mb';
  // bodies are read only once the caller is known (an API key, or a callback's token)
  const parse = [
    express.json({ limit, type: ['application/json', 'application/*+json'] }),
    express.text({ limit, type: ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'text/plain'] }),
  ];

  const metricsHandler = deps.metrics ?? installMetrics();
  observeIncidents(async () =>
    (
      await rowsOf<{ tenant: string; status: string; severity: string; n: string }>(
        deps.store,
        sql`SELECT tenant, status, severity, count(*) AS n FROM (SELECT DISTINCT ON (id) tenant, status, severity FROM incidents ORDER BY id, opened_at DESC) i GROUP BY tenant, status, severity`,
      )
    ).map((r) => ({ ...r, n: Number(r.n) })),
  );
  observeAlertMeasures(() => alertMeasures(deps.store));
  if (intake.dispatcher) observeInbox(() => intake.dispatcher!.backlog());
  app.get('/metrics', (req, res, next) => void metricsHandler(req, res).catch(next));
  app.get('/openapi.json', (_req, res) => void res.json(openApiDocument()));
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    // both checks at once, each within two seconds: readiness answers in about two seconds whatever is down
    const within = (p: Promise<unknown>) =>
      Promise.race([
        p.then(() => 'ok'),
        new Promise<string>((r) => setTimeout(() => r(`no answer within ${TEMPORAL_DEADLINE_MS} ms`), TEMPORAL_DEADLINE_MS).unref()),
      ]).catch((e: Error) => e.message);
    const [database, temporal] = await Promise.all([
      within(deps.store.db.execute(sql`SELECT 1`)),
      within(deps.client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => deps.client.connection.workflowService.getSystemInfo({}))),
    ]);
    const ok = database === 'ok' && temporal === 'ok';
    if (!ok) res.setHeader('retry-after', String(RETRY_AFTER_S));
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not_ready', checks: { database, temporal } });
  });

  app.use(consoleRoutes());
  const v1 = express.Router();
  v1.use(callbackRoutes({ db: deps.store.db, client: deps.client, parse })); // token-authenticated, before API keys
  v1.use(['/v1', '/internal'], authenticate(deps.tenants), temporalDeadline(deps.client), ...parse);
  const runs = new RunRepo(deps.store.db);
  v1.use(workflowRoutes(launch));
  v1.use(triggerRoutes(launch));
  v1.use(strategyRoutes({ repo: strategies, library, events: new EventRepo(deps.store) }));
  v1.use(eventReadRoutes({ events: new EventRepo(deps.store), db: deps.store.db }));
  v1.use(reviewRoutes({ db: deps.store.db }), meRoutes());
  v1.use(controlRoutes({ db: deps.store.db, runs, client: deps.client, taskQueue: deps.taskQueue }));
  v1.use(executionRoutes({ runs, client: deps.client, db: deps.store.db }));
  v1.use(inquiryRoutes({ db: deps.store.db, client: deps.client }));
  v1.use(kvRoutes({ db: deps.store.db }));
  v1.use(reportRoutes({ db: deps.store.db }));
  v1.use(incidentRoutes({ db: deps.store.db, client: deps.client }));
  app.use(v1);
  app.use(methodNotAllowed);
  app.use((req, _res, next) => next(new ApiError(404, 'not_found', `no route for ${req.method} ${req.path}`)));
  app.use(errorHandler);
  if (!deps.intake) stopsWithServer(app, intake);
  return app;
}

/** An inbox dispatcher the app started itself stops with the server the app listens on. */
function stopsWithServer(app: Express, intake: Intake): void {
  if (!intake.dispatcher) return;
  const listen = app.listen.bind(app) as (...args: unknown[]) => Server;
  app.listen = ((...args: unknown[]) => listen(...args).once('close', () => void intake.dispatcher?.stop())) as Express['listen'];
}
