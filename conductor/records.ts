// A task run's record (what `task.<name>` shows templates) and the task's summary (the run summary's `tasks`).
import type { TaskError, TaskRecord, TaskStatus, TaskSummary } from '../contracts/run.js';

/** How a task run ended, as the driver reports it. */
export interface Outcome {
  status: TaskStatus;
  result: unknown;
  error: TaskError | null;
  attempts: number;
  results?: unknown[];
  failed_items?: TaskRecord['failed_items'];
  items?: TaskSummary['items'];
}

export const startRecord = (nowMs: number): TaskRecord => ({
  status: 'running',
  result: null,
  error: null,
  attempts: 0,
  started_at: new Date(nowMs).toISOString(),
  ended_at: null,
});

export function applyOutcome(record: TaskRecord, summary: TaskSummary, o: Outcome, nowMs: number): void {
  Object.assign(record, { status: o.status, result: o.result, error: o.error, attempts: o.attempts, ended_at: new Date(nowMs).toISOString() });
  if (o.results) Object.assign(record, { results: o.results, failed_items: o.failed_items });
  Object.assign(summary, { status: o.status, result: o.result, error: o.error });
  summary.attempts += o.attempts;
  if (o.items) summary.items = o.items;
}
