import type { Express } from 'express';
import eventSchema from '../schemas/event.schema.json' with { type: 'json' };
import strategySchema from '../schemas/strategy.schema.json' with { type: 'json' };

type Method = 'get' | 'post' | 'put' | 'delete';
interface Op {
  method: Method;
  path: string;
  summary: string;
  /** Minimum role; 'signature' = event signature, 'token' = callback token, 'none' = open. */
  auth: 'viewer' | 'operator' | 'approver' | 'admin' | 'signature' | 'token' | 'none';
  tag: string;
  body?: 'json' | 'yaml' | 'event' | 'strategy';
  ok?: number;
}

/** Every route the API serves; a test checks this table against the routes express actually has. */
export const OPERATIONS: Op[] = [
  {
    method: 'post',
    path: '/v1/events',
    summary: 'Event intake: signature, idempotency, strategy match, start a run',
    auth: 'signature',
    tag: 'events',
    body: 'event',
    ok: 202,
  },
  { method: 'post', path: '/internal/agent/events', summary: 'Alias of POST /v1/events', auth: 'signature', tag: 'events', body: 'event', ok: 202 },
  { method: 'get', path: '/v1/events/{id}', summary: 'A stored event and what became of it', auth: 'viewer', tag: 'events' },
  {
    method: 'post',
    path: '/internal/agent/workflow/trigger',
    summary: 'Start a workflow after a task, carrying its result',
    auth: 'operator',
    tag: 'events',
    body: 'json',
    ok: 202,
  },
  { method: 'get', path: '/v1/strategies', summary: 'The strategy library visible to this tenant', auth: 'viewer', tag: 'strategies' },
  { method: 'post', path: '/v1/strategies', summary: 'A new strategy version (a draft)', auth: 'operator', tag: 'strategies', body: 'strategy', ok: 201 },
  { method: 'get', path: '/v1/strategies/{id}', summary: 'Every version of a strategy', auth: 'viewer', tag: 'strategies' },
  { method: 'post', path: '/v1/strategies/{id}/approve', summary: 'Approve a draft (not by its author)', auth: 'approver', tag: 'strategies', body: 'json' },
  { method: 'post', path: '/v1/strategies/{id}/activate', summary: 'Activate an approved version', auth: 'approver', tag: 'strategies', body: 'json' },
  { method: 'post', path: '/v1/strategies/{id}/rollback', summary: 'Re-activate the version the active one replaced', auth: 'approver', tag: 'strategies' },
  { method: 'get', path: '/v1/workflows', summary: 'Workflows this tenant can run (latest versions)', auth: 'viewer', tag: 'workflows' },
  { method: 'post', path: '/v1/workflows', summary: 'Register a workflow version', auth: 'operator', tag: 'workflows', body: 'yaml', ok: 201 },
  { method: 'post', path: '/v1/workflows/validate', summary: 'Validate without registering', auth: 'viewer', tag: 'workflows', body: 'yaml' },
  { method: 'get', path: '/v1/workflows/{ref}', summary: 'Versions of a workflow', auth: 'viewer', tag: 'workflows' },
  { method: 'put', path: '/v1/workflows/{ref}', summary: 'Register a new version of a workflow', auth: 'operator', tag: 'workflows', body: 'yaml', ok: 201 },
  {
    method: 'delete',
    path: '/v1/workflows/{ref}',
    summary: 'Delete a workflow (running executions keep their pinned copy)',
    auth: 'operator',
    tag: 'workflows',
  },
  { method: 'post', path: '/v1/workflows/{ref}/validate', summary: 'Validate a version of this workflow', auth: 'viewer', tag: 'workflows', body: 'yaml' },
  { method: 'post', path: '/v1/workflows/{ref}/executions', summary: 'Run a workflow directly', auth: 'operator', tag: 'executions', body: 'json', ok: 202 },
  { method: 'get', path: '/v1/executions', summary: 'Runs, filtered by status and workflow, with a cursor', auth: 'viewer', tag: 'executions' },
  { method: 'get', path: '/v1/executions/{id}', summary: 'Run summary', auth: 'viewer', tag: 'executions' },
  { method: 'get', path: '/v1/executions/{id}/tasks', summary: 'Task runs', auth: 'viewer', tag: 'executions' },
  { method: 'get', path: '/v1/executions/{id}/graph', summary: 'Graph with statuses (?format=mermaid)', auth: 'viewer', tag: 'executions' },
  { method: 'get', path: '/v1/executions/{id}/context', summary: 'Variables (secrets masked)', auth: 'viewer', tag: 'executions' },
  { method: 'get', path: '/v1/executions/{id}/history', summary: 'Temporal history', auth: 'viewer', tag: 'executions' },
  { method: 'post', path: '/v1/executions/{id}/pause', summary: 'Pause: nothing new starts', auth: 'operator', tag: 'control' },
  { method: 'post', path: '/v1/executions/{id}/resume', summary: 'Resume a paused run', auth: 'operator', tag: 'control' },
  { method: 'post', path: '/v1/executions/{id}/cancel', summary: 'Cancel per cancellation_policy', auth: 'operator', tag: 'control' },
  {
    method: 'post',
    path: '/v1/executions/{id}/retry',
    summary: 'Re-run from the failed tasks on the pinned version',
    auth: 'operator',
    tag: 'control',
    body: 'json',
    ok: 202,
  },
  { method: 'get', path: '/v1/inquiries', summary: 'Human inquiries (?status=pending)', auth: 'viewer', tag: 'inquiries' },
  {
    method: 'post',
    path: '/v1/inquiries/{id}/respond',
    summary: 'Answer an inquiry (422 when the answer fails its schema)',
    auth: 'approver',
    tag: 'inquiries',
    body: 'json',
  },
  {
    method: 'post',
    path: '/v1/callbacks/{token}',
    summary: 'Plugin asynchronous results and delivery receipts',
    auth: 'token',
    tag: 'callbacks',
    body: 'json',
    ok: 202,
  },
  {
    method: 'get',
    path: '/v1/reports/{id}',
    summary: 'Delivery report of a run with a closure (JSON; Accept: text/markdown for Markdown; 202 while pending)',
    auth: 'viewer',
    tag: 'closure',
  },
  { method: 'get', path: '/v1/incidents', summary: 'Incidents (?status=&severity=)', auth: 'viewer', tag: 'incidents' },
  { method: 'get', path: '/v1/incidents/{id}', summary: 'An incident (the latest for its id) with its event log', auth: 'viewer', tag: 'incidents' },
  {
    method: 'post',
    path: '/v1/incidents/{id}/{action}',
    summary: 'acknowledge | investigate | mitigate | escalate | resolve {root_cause} | note {note}; 409 on an invalid transition',
    auth: 'operator',
    tag: 'incidents',
    body: 'json',
  },
  { method: 'get', path: '/v1/feedback', summary: 'Feedback items created from resolved incidents', auth: 'viewer', tag: 'incidents' },
  { method: 'get', path: '/v1/kv', summary: 'Key-value entries (secrets masked)', auth: 'viewer', tag: 'kv' },
  { method: 'put', path: '/v1/kv/{key}', summary: 'Set a key (optionally secret)', auth: 'admin', tag: 'kv', body: 'json' },
  { method: 'delete', path: '/v1/kv/{key}', summary: 'Delete a key', auth: 'admin', tag: 'kv' },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', auth: 'none', tag: 'operations' },
  { method: 'get', path: '/healthz', summary: 'Liveness', auth: 'none', tag: 'operations' },
  { method: 'get', path: '/readyz', summary: 'Readiness (database, Temporal)', auth: 'none', tag: 'operations' },
  { method: 'get', path: '/openapi.json', summary: 'This document', auth: 'none', tag: 'operations' },
];

const errorRef = { $ref: '#/components/schemas/Error' };
const errors = (codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: String(c), content: { 'application/json': { schema: errorRef } } }]));

function operation(op: Op) {
  const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  const body =
    op.body === 'event'
      ? { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/EventEnvelope' } } } }
      : op.body === 'strategy'
        ? {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Strategy' } }, 'application/yaml': { schema: { type: 'string' } } },
          }
        : op.body === 'yaml'
          ? {
              required: true,
              content: {
                'application/yaml': { schema: { type: 'string' } },
                'application/json': { schema: { type: 'object', properties: { yaml: { type: 'string' } } } },
              },
            }
          : op.body === 'json'
            ? { content: { 'application/json': { schema: { type: 'object' } } } }
            : undefined;
  const security = op.auth === 'signature' || op.auth === 'token' || op.auth === 'none' ? [] : [{ bearer: [] }];
  return {
    summary: op.summary,
    tags: [op.tag],
    ...(op.auth !== 'signature' && op.auth !== 'token' && op.auth !== 'none' ? { 'x-required-role': op.auth } : {}),
    ...(op.auth === 'signature'
      ? {
          parameters: [
            {
              name: 'X-Closeloop-Signature',
              in: 'header',
              required: true,
              schema: { type: 'string' },
              description: 't=<unix seconds>,v1=<hex HMAC-SHA256(tenant secret, "<t>.<raw body>")>',
            },
          ],
        }
      : params.length
        ? { parameters: params }
        : {}),
    ...(body ? { requestBody: body } : {}),
    security,
    responses: { [String(op.ok ?? 200)]: { description: 'OK' }, ...errors(op.auth === 'none' ? [] : [400, 401, 403, 404, 409, 413, 422, 429, 503]) },
  };
}

/** The table as `METHOD /path role` lines, in the form listRoutes gives. */
export const documentedRoutes = () =>
  OPERATIONS.map((o) => `${o.method.toUpperCase()} ${o.path} ${['signature', 'token', 'none'].includes(o.auth) ? '-' : o.auth}`).sort();

/** The OpenAPI 3.1 document served at /openapi.json. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operation(op);
  const { $schema: _s, $id: _i, ...envelope } = eventSchema;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Closeloop API',
      version: '0.1.0',
      description: 'Event intake, strategies, workflows, runs, human inquiries and callbacks. Errors: {"error": {"code", "message", "details"}}.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A tenant API key; roles viewer, operator, approver, admin' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'array' } },
            },
          },
        },
        EventEnvelope: envelope,
        Strategy: strategySchema.$defs.strategy,
      },
    },
  };
}

/** `METHOD /path/{param} role` for every route an express app serves (walks nested routers); role '-' when none is required. */
export function listRoutes(app: Express): string[] {
  const out = new Set<string>();
  type Layer = {
    route?: { path: string | string[]; methods: Record<string, boolean>; stack: { handle: { requiredRole?: string } }[] };
    handle?: { stack?: Layer[] };
  };
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const p of Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path]) {
          const role = layer.route.stack.map((h) => h.handle.requiredRole).find(Boolean) ?? '-';
          for (const m of Object.keys(layer.route.methods)) if (m !== '_all') out.add(`${m.toUpperCase()} ${p.replace(/:(\w+)/g, '{$1}')} ${role}`);
        }
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return [...out].sort();
}
