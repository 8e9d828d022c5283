import type { Mocks } from '../dsl/mocks.js';
import type { Store } from '../store/db.js';
import { actionActivities } from './actions.js';
import { bookkeepingActivities } from './bookkeeping.js';
import { httpRequest } from './http.js';
import { pluginActivities, type SecretResolver } from './plugins.js';
import { kvActivities, withSecrets } from './secrets.js';
import { reviewActivities, type Endpoints } from './reviews.js';
import type { Publisher } from './events-out.js';
import type { PluginDef } from '../workers/config.js';
import type { AuditRow, CoreActivities } from './types.js';
import type { Client } from '@temporalio/client';
import { EMPTY_ESCALATION, routeFor, type EscalationConfig } from '../dsl/escalation.js';
import { notifyActivities } from './notify.js';
import { carryingAudit, retriedByTemporal } from './attempts.js';
import { closureActivities } from './closure.js';
import { incidentActivities } from './incidents.js';
import { alertActivities } from './alerts.js';
import { withPermanentStorageErrors } from './storage-errors.js';

export interface ActivityDeps {
  store: Store;
  mocks?: Mocks;
  /** The plugin registry (config/plugins.yaml), read at call time so a reload applies. */
  plugins?: () => ReadonlyMap<string, PluginDef>;
  /** Where plugins post asynchronous results (CLOSELOOP_PUBLIC_URL, e.g. http://closeloop:8080). */
  publicUrl?: string;
  /** Plugin secrets by name (workers/ wires the environment); none by default. */
  pluginSecret?: SecretResolver;
  /** Outward endpoints (config/agent/endpoints.yaml), read at call time. */
  endpoints?: () => Endpoints;
  /** The event bus publisher for events out (NATS); events are recorded in the database either way. */
  publish?: Publisher;
  /** Escalation policies, alert rules and routing (config/agent/escalation.yaml), read at call time. */
  escalation?: () => EscalationConfig;
  /** For activities that start workflows (incidents). */
  client?: Client;
  taskQueue?: string;
}

/** Builds the activities from their dependencies, so tests hand in real or fake ones. */
export function createActivities(deps: ActivityDeps): CoreActivities {
  return withPermanentStorageErrors(buildActivities(deps));
}

function buildActivities(deps: ActivityDeps): CoreActivities {
  const actions = actionActivities({ ...(deps.mocks ? { mocks: deps.mocks } : {}) });
  const plugins = pluginActivities({
    plugins: deps.plugins ?? (() => new Map()),
    secret: deps.pluginSecret ?? (() => undefined),
    store: deps.store,
    ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}),
  });
  const escalation = deps.escalation ?? (() => EMPTY_ESCALATION);
  const endpoints = deps.endpoints ?? (() => ({}));
  const { notify, pollReceipt } = notifyActivities({ store: deps.store, endpoints, escalation, ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}) });
  const books = bookkeepingActivities(deps.store, deps.publish);
  // a task's activity writes the audit rows it carries, has Temporal retry it when the DSL says so,
  // and resolves secret markers itself (only there)
  const task = <I extends { audit?: AuditRow[]; retried_by_temporal?: boolean; tenant?: string }, O>(fn: (input: I) => Promise<O>) =>
    carryingAudit<I, O>(books.recordAudit, retriedByTemporal<I, O>(withSecrets<I, O>(deps.store, fn)));
  return {
    httpRequest: task(httpRequest),
    runAction: task(actions.runAction),
    callPlugin: task(plugins.callPlugin),
    pollPlugin: plugins.pollPlugin,
    ...kvActivities(deps.store),
    ...books,
    ...reviewActivities(deps.store, endpoints),
    notify: withSecrets(deps.store, notify),
    pollReceipt,
    ...closureActivities({
      store: deps.store,
      endpoints,
      notify,
      channelsOf: (tenant, role) => (['im', 'webhook', 'email'] as const).filter((c) => routeFor(escalation(), tenant, role)?.[c]),
      ...(deps.publish ? { publish: deps.publish } : {}),
    }),
    ...alertActivities({ store: deps.store, escalation }),
    ...incidentActivities({
      store: deps.store,
      escalation,
      ...(deps.publish ? { publish: deps.publish } : {}),
      ...(deps.client ? { client: deps.client } : {}),
      ...(deps.taskQueue ? { taskQueue: deps.taskQueue } : {}),
    }),
  };
}
