// Every route the API serves, with the role it needs, the schema of its body and its success status:
// the OpenAPI document (api/openapi.ts) and the 405 answers are made from this table.
import type { BodyName } from './body-schemas.js';

export type Method = 'get' | 'post' | 'put' | 'delete';
export interface Op {
  method: Method;
  path: string;
  summary: string;
  /** Minimum role; 'signature' = event signature, 'token' = callback token, 'none' = open. */
  auth: 'viewer' | 'operator' | 'approver' | 'admin' | 'signature' | 'token' | 'none';
  tag: string;
  /** The body's schema (api/body-schemas.ts); `yaml`: a workflow file, as YAML or `{ "yaml": ... }`. */
  body?: BodyName | 'yaml';
  ok?: number;
  /** Other success statuses, with what they mean (a duplicate start answers 200). */
  also?: Record<number, string>;
}

/** Every route the API serves; a test checks this table against the routes express actually has. */
export const OPERATIONS: Op[] = [
  {
    method: 'post',
    path: '/v1/events',
    summary: 'Event intake: signature, idempotency, strategy match, start a run',
    auth: 'signature',
    tag: 'events',
    body: 'EventEnvelope',
    ok: 202,
  },
  { method: 'post', path: '/internal/agent/events', summary: 'Alias of POST /v1/events', auth: 'signature', tag: 'events', body: 'EventEnvelope', ok: 202 },
  { method: 'get', path: '/v1/events', summary: 'Recent events, newest first, with the strategy decision (?status=&cursor=)', auth: 'viewer', tag: 'events' },
  { method: 'get', path: '/v1/events/{id}', summary: 'A stored event and what became of it', auth: 'viewer', tag: 'events' },
  { method: 'get', path: '/v1/reviews', summary: 'The manual-review queue (?status=open|resolved|dismissed)', auth: 'viewer', tag: 'events' },
  {
    method: 'post',
    path: '/v1/reviews/{id}/resolve',
    summary: 'Settle a manual-review item (handled)',
    auth: 'operator',
    tag: 'events',
    body: 'ReviewAction',
  },
  {
    method: 'post',
    path: '/v1/reviews/{id}/dismiss',
    summary: 'Settle a manual-review item (nothing to do)',
    auth: 'operator',
    tag: 'events',
    body: 'ReviewAction',
  },
  { method: 'get', path: '/v1/me', summary: "This API key's tenant, id and roles", auth: 'viewer', tag: 'auth' },
  {
    method: 'post',
    path: '/internal/agent/workflow/trigger',
    summary: 'Start a workflow after a task, carrying its result',
    auth: 'operator',
    tag: 'events',
    body: 'Trigger',
    ok: 202,
    also: { 200: 'duplicate: this idempotency key already started the run (same request)' },
  },
  { method: 'get', path: '/v1/strategies', summary: 'The strategy library visible to this tenant', auth: 'viewer', tag: 'strategies' },
  { method: 'post', path: '/v1/strategies', summary: 'A new strategy version (a draft)', auth: 'operator', tag: 'strategies', body: 'Strategy', ok: 201 },
  { method: 'get', path: '/v1/strategies/{id}', summary: 'Every version of a strategy', auth: 'viewer', tag: 'strategies' },
  {
    method: 'post',
    path: '/v1/strategies/{id}/approve',
    summary: 'Approve a draft (not by its author)',
    auth: 'approver',
    tag: 'strategies',
    body: 'StrategyVersion',
  },
  {
    method: 'post',
    path: '/v1/strategies/{id}/activate',
    summary: 'Activate an approved version',
    auth: 'approver',
    tag: 'strategies',
    body: 'StrategyVersion',
  },
  {
    method: 'post',
    path: '/v1/strategies/{id}/rollback',
    summary: 'Re-activate the version the active one replaced',
    auth: 'approver',
    tag: 'strategies',
    body: 'NoBody',
  },
  { method: 'get', path: '/v1/workflows', summary: 'Workflows this tenant can run (latest versions)', auth: 'viewer', tag: 'workflows' },
  {
    method: 'post',
    path: '/v1/workflows',
    summary: 'Register a workflow version (a file without a ref, like an Orquesta one: ?ref=<pack>.<name>)',
    auth: 'operator',
    tag: 'workflows',
    body: 'yaml',
    ok: 201,
  },
  {
    method: 'post',
    path: '/v1/workflows/validate',
    summary: 'Validate without registering (?ref= for a file without one)',
    auth: 'viewer',
    tag: 'workflows',
    body: 'yaml',
  },
  { method: 'get', path: '/v1/workflows/{ref}', summary: 'Versions of a workflow', auth: 'viewer', tag: 'workflows' },
  { method: 'put', path: '/v1/workflows/{ref}', summary: 'Register a new version of a workflow', auth: 'operator', tag: 'workflows', body: 'yaml', ok: 201 },
  {
    method: 'delete',
    path: '/v1/workflows/{ref}',
    summary: 'Delete a workflow (running executions keep their pinned copy)',
    auth: 'operator',
    tag: 'workflows',
    ok: 204,
  },
  { method: 'post', path: '/v1/workflows/{ref}/validate', summary: 'Validate a version of this workflow', auth: 'viewer', tag: 'workflows', body: 'yaml' },
  {
    method: 'post',
    path: '/v1/workflows/{ref}/executions',
    summary: 'Run a workflow directly',
    auth: 'operator',
    tag: 'executions',
    body: 'RunRequest',
    ok: 202,
    also: { 200: 'duplicate: this idempotency key already started the run (same request)' },
  },
  {
    method: 'get',
    path: '/v1/executions',
    summary: 'Runs, newest first (?status=&workflow=&strategy=&q=<part of the id>&cursor=)',
    auth: 'viewer',
    tag: 'executions',
  },
  { method: 'get', path: '/v1/executions/{id}', summary: 'Run summary', auth: 'viewer', tag: 'executions' },
  { method: 'get', path: '/v1/executions/{id}/tasks', summary: 'Task runs', auth: 'viewer', tag: 'executions' },
  { method: 'get', path: '/v1/executions/{id}/graph', summary: 'Graph with statuses (?format=mermaid)', auth: 'viewer', tag: 'executions' },
  { method: 'get', path: '/v1/executions/{id}/context', summary: 'Variables (secrets masked)', auth: 'viewer', tag: 'executions' },
  { method: 'get', path: '/v1/executions/{id}/history', summary: 'Temporal history', auth: 'viewer', tag: 'executions' },
  { method: 'post', path: '/v1/executions/{id}/pause', summary: 'Pause: nothing new starts', auth: 'operator', tag: 'control', body: 'NoBody', ok: 202 },
  { method: 'post', path: '/v1/executions/{id}/resume', summary: 'Resume a paused run', auth: 'operator', tag: 'control', body: 'NoBody', ok: 202 },
  { method: 'post', path: '/v1/executions/{id}/cancel', summary: 'Cancel per cancellation_policy', auth: 'operator', tag: 'control', body: 'NoBody', ok: 202 },
  {
    method: 'post',
    path: '/v1/executions/{id}/retry',
    summary: 'Re-run from the failed tasks on the pinned version',
    auth: 'operator',
    tag: 'control',
    body: 'RetryRequest',
    ok: 202,
  },
  { method: 'get', path: '/v1/inquiries', summary: 'Human inquiries (?status=pending)', auth: 'viewer', tag: 'inquiries' },
  {
    method: 'post',
    path: '/v1/inquiries/{id}/respond',
    summary: 'Answer an inquiry (422 when the answer fails its schema)',
    auth: 'approver',
    tag: 'inquiries',
    body: 'InquiryAnswer',
  },
  {
    method: 'post',
    path: '/v1/callbacks/{token}',
    summary: 'Plugin asynchronous results and delivery receipts',
    auth: 'token',
    tag: 'callbacks',
    body: 'Callback',
    ok: 202,
  },
  {
    method: 'get',
    path: '/v1/reports/{id}',
    summary: 'Delivery report of a run with a closure (JSON; Accept: text/markdown for Markdown; 202 while pending)',
    auth: 'viewer',
    tag: 'closure',
    also: { 202: 'the report is still being written' },
  },
  { method: 'get', path: '/v1/incidents', summary: 'Incidents (?status=&severity=)', auth: 'viewer', tag: 'incidents' },
  { method: 'get', path: '/v1/incidents/{id}', summary: 'An incident (the latest for its id) with its event log', auth: 'viewer', tag: 'incidents' },
  {
    method: 'post',
    path: '/v1/incidents/{id}/{action}',
    summary: 'acknowledge | investigate | mitigate | escalate | resolve {root_cause} | note {note}; 409 on an invalid transition',
    auth: 'operator',
    tag: 'incidents',
    body: 'IncidentAction',
  },
  { method: 'get', path: '/v1/feedback', summary: 'Feedback items created from resolved incidents', auth: 'viewer', tag: 'incidents' },
  { method: 'get', path: '/v1/kv', summary: 'Key-value entries (secrets masked)', auth: 'viewer', tag: 'kv' },
  { method: 'put', path: '/v1/kv/{key}', summary: 'Set a key (optionally secret)', auth: 'admin', tag: 'kv', body: 'KvValue', ok: 204 },
  { method: 'delete', path: '/v1/kv/{key}', summary: 'Delete a key', auth: 'admin', tag: 'kv', ok: 204 },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', auth: 'none', tag: 'operations' },
  { method: 'get', path: '/console/', summary: 'The ops console (HTML; signs in with an API key in the browser)', auth: 'none', tag: 'console' },
  { method: 'get', path: '/healthz', summary: 'Liveness', auth: 'none', tag: 'operations' },
  { method: 'get', path: '/readyz', summary: 'Readiness (database, Temporal)', auth: 'none', tag: 'operations' },
  { method: 'get', path: '/openapi.json', summary: 'This document', auth: 'none', tag: 'operations' },
];
