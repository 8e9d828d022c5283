import type { Mocks } from '../dsl/mocks.js';
import type { Store } from '../store/db.js';
import { actionActivities } from './actions.js';
import { bookkeepingActivities } from './bookkeeping.js';
import { httpRequest } from './http.js';
import { pluginActivities, type SecretResolver } from './plugins.js';
import { kvActivities, resolvingSecrets, withSecrets } from './secrets.js';
import { reviewActivities, type Endpoints } from './reviews.js';
import type { Publisher } from './events-out.js';
import type { PluginDef } from '../contracts/config.js';
import type { CoreActivities, HttpResult } from './types.js';
import type { Client } from '@temporalio/client';
import { EMPTY_ESCALATION, routeFor, type EscalationConfig } from '../dsl/escalation.js';
import { notifyActivities } from './notify.js';
import { carryingAudit, retriedByTemporal, transportOf } from './attempts.js';
import type { ActionCall, HttpCall, PluginCall, TaskActivityInput, TaskMeta } from '../contracts/activities.js';
import { closureActivities } from './closure.js';
import { incidentActivities } from './incidents.js';
import { alertActivities } from './alerts.js';
import { withPermanentStorageErrors } from './storage-errors.js';

/** What a task's `call` may hold for core.http: the request, nothing else. */
export const HTTP_CALL_KEYS = ['method', 'url', 'headers', 'body', 'timeout', 'expected_status'] as const;

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
  // and resolves secret markers itself (only there, and only in what the task asked for)
  const task =
    <C, O>(callKeys: readonly string[], fn: (call: C, meta: TaskMeta) => Promise<O>) =>
    (raw: TaskActivityInput<C>): Promise<O> => {
      const { call, meta } = transportOf<C>(raw, callKeys);
      return carryingAudit(meta, books.recordAudit, () =>
        retriedByTemporal(meta, (m) => resolvingSecrets(deps.store, m.tenant, call, (resolved) => fn(resolved, m))),
      );
    };
  const keys = (m: TaskMeta) => ({ idempotencyKey: m.idempotencyKey, tenant: m.tenant, ...(m.traceId ? { traceId: m.traceId } : {}) });
  return {
    httpRequest: task<HttpCall, HttpResult>(HTTP_CALL_KEYS, (call, m) => httpRequest({ ...call, ...keys(m) })),
    runAction: task<ActionCall, unknown>(['ref', 'input'], (call, m) =>
      actions.runAction({
        ref: call.ref,
        input: call.input,
        attempt: m.attempt ?? 1,
        ...(m.item !== undefined ? { item: m.item, index: m.index } : {}),
        ...keys(m),
        executionId: m.executionId ?? '',
        task: m.task ?? '',
      }),
    ),
    callPlugin: task<PluginCall, unknown>(['plugin', 'operation', 'input', 'timeout', 'callback', 'output'], (call, m) =>
      plugins.callPlugin({ ...call, ...keys(m) }),
    ),
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
