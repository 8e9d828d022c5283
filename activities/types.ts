// Activity contracts: workflows import these *types* only.
import type { ClosureCheck, RemediationRecord, Verdict } from '../dsl/closure-rules.js';
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

export type { AuditKind, AuditRow, RunIndexRow } from '../contracts/audit.js';
import type { AuditRow, RunIndexRow } from '../contracts/audit.js';
import type { ActionCall, HttpCall, PluginCall, TaskActivityInput } from '../contracts/activities.js';

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
  output?: Record<string, unknown>;
}

export interface PluginPollInput {
  plugin: string;
  idempotencyKey: string;
  statusUrl?: string;
  tenant: string;
}

export interface NotifyInput {
  channel: 'email' | 'im' | 'webhook';
  /** addresses, URLs or role names (routed through config/agent/escalation.yaml) */
  to: string[];
  subject?: string;
  message: string;
  metadata?: Record<string, unknown>;
  tenant: string;
  executionId: string;
  task: string;
  /** Made in the workflow, so a retried attempt keeps its receipt id. */
  receiptToken: string;
  idempotencyKey: string;
  traceId?: string;
}
export interface NotifyResult {
  receipt: { id: string; channel: string; status: 'sent'; to: string[]; url: string | null; message_id?: string; status_url?: string };
}

export type { ClosureCheck, RemediationRecord, Verdict };

export interface ClosureRecord {
  execution_id: string;
  tenant: string;
  rule: string;
  verdict: Verdict;
  checks: ClosureCheck[];
  remediations: RemediationRecord[];
  graph_ended_at: string;
  verdict_at: string;
  /** the slowest failure-known → remediation-started latency, if any remediation ran */
  remediation_seconds: number | null;
  workflow_ref: string;
  workflow_version: string;
  strategy?: string;
  trace_id?: string;
}

export interface ReportRequest {
  closure: ClosureRecord;
  /** the run summary at the end of the graph (the runs index is written after the verdict) */
  run?: unknown;
  /** the verdict to print when the stored one is pending_supplement */
  final_verdict?: Verdict;
  audit: boolean;
  notify: string[];
  channel?: 'email' | 'im' | 'webhook';
}

export interface FeedbackInput {
  /** idempotency: one feedback item per source */
  source_id: string;
  tenant: string;
  category: 'reliability' | 'performance' | 'cost' | 'maintainability' | 'correctness';
  sentiment: 'negative' | 'neutral' | 'positive';
  summary: string;
  attribution: Record<string, unknown>;
}

/** Opens (or appends to) the incident of a source: signal-with-start, policy snapshot from the configuration. */
export interface OpenIncidentInput {
  tenant: string;
  source: string;
  source_id: string;
  severity: 'critical' | 'high' | 'warning' | 'info';
  title: string;
  detail?: Record<string, unknown>;
  attribution: Record<string, string | undefined>;
  policy?: string;
}

export interface FiringAlert {
  tenant: string;
  alert: string;
  expr: string;
  severity: 'critical' | 'high' | 'warning' | 'info';
  value: number;
  policy?: string;
}

export interface CoreActivities {
  pollReceipt(input: { url: string; tenant: string }): Promise<{ status: string }>;
  evaluateAlerts(): Promise<FiringAlert[]>;
  recordIncident(input: {
    state: Omit<import('../contracts/incident.js').IncidentState, 'events'>;
    events: import('../contracts/incident.js').IncidentState['events'];
    policy?: unknown;
  }): Promise<void>;
  createFeedback(input: FeedbackInput): Promise<{ created: boolean }>;
  openIncident(input: OpenIncidentInput): Promise<{ incident_id: string }>;
  receiptStatus(input: { tokens: string[] }): Promise<Record<string, { received_at: string; result: unknown } | null>>;
  recordClosure(rec: ClosureRecord): Promise<void>;
  writeReport(input: ReportRequest): Promise<{ stored: true; audit: 'sent' | 'not configured' | 'off'; notified: string[] }>;
  notify(input: NotifyInput): Promise<NotifyResult>;
  pollPlugin(input: PluginPollInput): Promise<{ status: 'succeeded' | 'failed' | 'running'; result?: unknown; error?: { message?: string; type?: string } }>;
  kvGet(input: { tenant: string; keys: string[] }): Promise<Record<string, unknown>>;
  callPlugin(input: TaskActivityInput<PluginCall>): Promise<unknown>;
  recordInquiry(row: InquiryRow): Promise<void>;
  resolveInquiry(input: { id: string; status: 'responded' | 'timed_out'; response?: unknown; by?: string | null }): Promise<void>;
  httpRequest(input: TaskActivityInput<HttpCall>): Promise<HttpResult>;
  runAction(input: TaskActivityInput<ActionCall>): Promise<unknown>;
  recordAudit(rows: AuditRow[]): Promise<void>;
  indexRun(row: RunIndexRow): Promise<void>;
  /** Audit rows and the runs-index row in one call (a local activity at run start and end). */
  recordRun(input: { rows: AuditRow[]; index: RunIndexRow }): Promise<void>;
  /** Checks a rendered output against the workflow's output schema; returns the problems. */
  checkOutput(input: { schema: Record<string, unknown>; output: unknown }): Promise<string[]>;
  deliverManualReview(input: ManualReviewInput): Promise<ManualReviewDelivery>;
}

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
