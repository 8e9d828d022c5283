// What a task's execution needs of the run that hosts it (workflows/driver.ts implements it). A
// separate interface, so attempts, shards and the closure start do not import the driver back.
import type { Conductor } from '../conductor/conductor.js';
import type { RunContext } from '../conductor/scope.js';
import type { AuditKind, AuditRow } from '../contracts/audit.js';
import type { TaskflowInput, TaskSummary } from '../contracts/run.js';
import type { CompiledTask, CompiledWorkflow } from '../dsl/types.js';
import type { InquiryBook } from './inquiries.js';
import type { Pacer } from './pacing.js';

export interface TaskHost {
  readonly wf: CompiledWorkflow;
  readonly ctx: RunContext;
  readonly input: TaskflowInput;
  readonly executionId: string;
  readonly conductor: Conductor;
  readonly pacer: Pacer;
  readonly inquiries: InquiryBook;
  readonly callbacks: Map<string, unknown>;
  readonly summaries: Map<string, TaskSummary>;
  readonly rides: boolean;
  record(kind: AuditKind, task: string | null, detail: Record<string, unknown>): void;
  renderField(task: CompiledTask, field: string, value: unknown, extra?: Parameters<Conductor['scope']>[0]): unknown;
  takeAudit(): AuditRow[];
  returnAudit(rows: AuditRow[], task: string): void;
  drainAudit(task: string): Promise<void>;
}
