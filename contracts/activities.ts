// Task activities take `{ call, meta }` (architecture.md "Transport is not data"): `call` is what
// the task asked for, built from its rendered input; `meta` is the interpreter's own transport.
// Nothing in `call` is ever read as bookkeeping, so no input key can forge an audit row.
import type { AuditRow } from './audit.js';

export interface TaskMeta {
  /** Stable across retries and worker restarts of one task run (or item): plugins drop duplicates by it. */
  idempotencyKey: string;
  tenant: string;
  executionId?: string;
  task?: string;
  traceId?: string;
  /** The attempt as the interpreter counts it (Temporal's own when it runs the retries). */
  attempt?: number;
  item?: unknown;
  index?: number;
  /** Temporal runs this task's DSL retries: every failure is retryable and reported (activities/attempts.ts). */
  retriedByTemporal?: boolean;
  /** The run's pending audit rows: the activity writes them before it acts. */
  audit?: AuditRow[];
}

export interface TaskActivityInput<C> {
  call: C;
  meta: TaskMeta;
}

/** core.http (and the http runner of pack actions). */
export interface HttpCall {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** seconds */
  timeout?: number;
  expected_status?: number | number[];
}

/** A mocked action, or a ref the worker runs itself. */
export interface ActionCall {
  ref: string;
  input: unknown;
}

/** A plugin operation (config/plugins.yaml); asynchronous ones carry their callback. */
export interface PluginCall {
  plugin: string;
  operation: string;
  input: unknown;
  /** seconds */
  timeout?: number;
  callback?: { token: string; executionId: string; task: string };
  /** The action's `output` schema: a synchronous answer's result must match it. */
  output?: Record<string, unknown>;
}
