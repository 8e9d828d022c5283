// The audit log and the runs index, as the interpreter writes them and activities store them.
export type AuditKind =
  | 'closure.started'
  | 'closure.check'
  | 'closure.remediation'
  | 'closure.verdict'
  | 'closure.supplemented'
  | 'run.started'
  | 'task.started'
  | 'task.attempt'
  | 'task.completed'
  | 'transition'
  | 'var.set'
  | 'inquiry.created'
  | 'inquiry.responded'
  | 'inquiry.rejected'
  | 'inquiry.timed_out'
  | 'run.completed';

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
