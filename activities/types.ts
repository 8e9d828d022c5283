// Activity contracts: workflows import these *types* only.
export interface HttpRequestInput {
  method?: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** seconds */
  timeout?: number;
  expected_status?: number | number[];
  idempotencyKey: string;
  traceId?: string;
  /** Scopes secret lookups. */
  tenant?: string;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface ActionInput {
  ref: string;
  input: unknown;
  attempt: number;
  item?: unknown;
  index?: number;
  idempotencyKey: string;
  tenant: string;
  executionId: string;
  task: string;
}

export type AuditKind = 'run.started' | 'task.started' | 'task.attempt' | 'task.completed' | 'transition' | 'var.set' | 'inquiry.created' | 'inquiry.responded' | 'inquiry.rejected' | 'inquiry.timed_out' | 'run.completed';

export interface AuditRow {
  execution_id: string;
  tenant: string;
  /** Deterministic sequence number within the run: makes retried writes idempotent. */
  seq: number;
  kind: AuditKind;
  task: string | null;
  detail: Record<string, unknown>;
  at: string;
}

export interface RunIndexRow {
  execution_id: string;
  tenant: string;
  workflow_ref: string;
  workflow_version: string;
  status: string;
  started_at: string;
  ended_at: string | null;
  /** The full run summary when the run has ended. */
  summary: unknown;
  /** Variables and task records at the end, for retries from the failed tasks. */
  context?: unknown;
}

export interface InquiryRow {
  id: string;
  tenant: string;
  execution_id: string;
  task: string;
  prompt: string;
  schema: Record<string, unknown> | null;
  assigned_to: string | null;
  deadline: string | null;
}

export interface PluginCallInput {
  plugin: string;
  operation: string;
  input: unknown;
  idempotencyKey: string;
  tenant: string;
  traceId?: string;
  /** seconds */
  timeout?: number;
  /** Asynchronous calls: the token the plugin posts its result with, and where the run waits. */
  callback?: { token: string; executionId: string; task: string };
}

export interface PluginPollInput {
  plugin: string;
  idempotencyKey: string;
  statusUrl?: string;
  tenant: string;
}

export interface CoreActivities {
  pollPlugin(input: PluginPollInput): Promise<{ status: 'succeeded' | 'failed' | 'running'; result?: unknown; error?: { message?: string; type?: string } }>;
  kvGet(input: { tenant: string; keys: string[] }): Promise<Record<string, unknown>>;
  callPlugin(input: PluginCallInput): Promise<unknown>;
  recordInquiry(row: InquiryRow): Promise<void>;
  resolveInquiry(input: { id: string; status: 'responded' | 'timed_out'; response?: unknown; by?: string | null }): Promise<void>;
  httpRequest(input: HttpRequestInput): Promise<HttpResult>;
  runAction(input: ActionInput): Promise<unknown>;
  recordAudit(rows: AuditRow[]): Promise<void>;
  indexRun(row: RunIndexRow): Promise<void>;
  /** Audit rows and the runs-index row in one call (a local activity at run start and end). */
  recordRun(input: { rows: AuditRow[]; index: RunIndexRow }): Promise<void>;
  /** Checks a rendered output against the workflow's output schema; returns the problems. */
  checkOutput(input: { schema: Record<string, unknown>; output: unknown }): Promise<string[]>;
  deliverManualReview(input: ManualReviewInput): Promise<ManualReviewDelivery>;
}

/** Failure types activities throw; the interpreter maps them to task outcomes. */
export const ERROR_TYPES = {
  httpStatus: 'HttpStatusError',
  http: 'HttpError',
  unknownAction: 'UnknownActionError',
  mockFailure: 'MockFailure',
} as const;

/** A manual-review item on its way to the ops endpoint (`POST /ops/manual-review`). */
export interface ManualReviewInput {
  id: string;
  tenant: string;
  reason: string;
  detail: Record<string, unknown>;
}
export interface ManualReviewDelivery {
  delivered: boolean;
  status?: number;
  note?: string;
}
