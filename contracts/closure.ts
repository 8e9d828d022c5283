// The closure workflow's contract (interfaces.md: workflow type `closure`, id `closure:<run id>`).
import { defineSignal } from '@temporalio/workflow';
import type { ActionDef } from '../dsl/actions.js';
import type { ClosureRule } from '../dsl/closure-rules.js';
import type { ClosureCheck, Verdict } from '../dsl/closure-rules.js';
import type { TaskRecord } from './run.js';
import type { RunStatus, RunSummary } from './run.js';

export const CLOSURE = 'closure';
export const closureWorkflowId = (runId: string) => `closure:${runId}`;

/** How the closure can run a node of the run again (rebuild, resend). */
export interface ClosureNode {
  action: string;
  timeout?: number;
  /** the node's idempotency key in the run (plugin status polling) */
  idempotency_key: string;
}

export interface ClosureInput {
  run_id: string;
  tenant: string;
  rule: ClosureRule;
  workflow_ref: string;
  workflow_version: string;
  strategy?: string;
  trace_id?: string;
  permissions?: string[];
  run_status: RunStatus;
  graph_ended_at: string;
  /** the run summary when the graph ended (for the report) */
  run: RunSummary;
  /** the run's task records, with the input each node last ran with */
  tasks: Record<string, TaskRecord & { input?: unknown }>;
  parameters: Record<string, unknown>;
  vars: Record<string, unknown>;
  nodes: Record<string, ClosureNode>;
  actions?: Record<string, ActionDef>;
  pack_config?: Record<string, Record<string, unknown>>;
}

export interface ClosureVerdict {
  rule: string;
  verdict: Verdict;
  checks: ClosureCheck[];
}

/** Sent by the closure to its run once the verdict is known (the closure may go on supplementing the report). */
export const closureVerdictSignal = defineSignal<[ClosureVerdict]>('closure.verdict');
