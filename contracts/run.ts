// The run's public shapes: the taskflow input, the run summary (interfaces.md), task records.
export type RunStatus = 'running' | 'paused' | 'succeeded' | 'failed' | 'cancelled' | 'timed_out';
export type TaskStatus = 'running' | 'succeeded' | 'failed' | 'timed_out' | 'skipped' | 'cancelled';

export interface TaskError {
  message: string;
  type: string;
}

/** What templates see of a task (`task.<name>`): its latest run. */
export interface TaskRecord {
  status: TaskStatus;
  result: unknown;
  results?: unknown[];
  failed_items?: { index: number; item: unknown; error: TaskError }[];
  error: TaskError | null;
  attempts: number;
  started_at: string;
  ended_at: string | null;
  /** The input of the latest attempt, kept only when a closure rule may rebuild or resend the task. */
  input?: unknown;
}

export interface TaskSummary {
  name: string;
  status: TaskStatus;
  runs: number;
  attempts: number;
  items?: { total: number; succeeded: number; failed: number };
  result: unknown;
  error: TaskError | null;
}

/** The run summary of interfaces.md (`GET /v1/executions/{id}`, `closeloop run --wait --json`). */
export interface RunSummary {
  id: string;
  workflow: string;
  version: string;
  status: RunStatus;
  tenant: string;
  /** The strategy (`id@version`) whose event started the run. */
  strategy?: string;
  /** The run this one retries. */
  retry_of?: string;
  started_at: string;
  ended_at: string | null;
  output: unknown;
  error: TaskError | null;
  tasks: TaskSummary[];
  closure: null | { rule: string; verdict: string; checks: unknown[] };
}

/** Input of the `taskflow` workflow: everything a run needs (workflows read no config). */
export interface TaskflowInput {
  workflow: import('../dsl/types.js').CompiledWorkflow;
  parameters: Record<string, unknown>;
  tenant: string;
  traceId?: string;
  event?: unknown;
  strategy?: string;
  /** What a strategy-started run may call (`plugin:<id>`, `notify:<channel>`, `http:<host>`); absent = no limit. */
  permissions?: string[];
  startedBy?: string;
  /** The closure rule applied when the graph ends (a snapshot: later edits of the rule do not change it). */
  closure?: import('../dsl/closure-rules.js').ClosureRule;
  /** A slice of a large with_items task, run as a child shard of the run that owns the task. */
  shard?: { task: string; run: number; offset: number; total: number; items: unknown[] };
  /** Nesting level: 0 for a top-level run. */
  depth?: number;
  /** The interpreter changes this run was started with (contracts/features.ts); absent in older histories, which use patch markers. */
  features?: string[];
  /** A retry of a finished run: its variables and task records, and the tasks to start from. */
  resume?: {
    retry_of: string;
    from: string[];
    vars: Record<string, unknown>;
    task: Record<string, TaskRecord>;
    /**
     * Retry of only the failed items (`items: "failed"`): by with_items task, the earlier run's
     * results and the indexes that failed; the first run of that task re-runs only those items.
     */
    items?: Record<string, { results: unknown[]; failed: number[] }>;
    /** Set when the run continued as new: the state that carries over. */
    continued?: {
      started_at: string;
      /** The last audit sequence number written. */
      seq: number;
      paused: boolean;
      /** The conductor's state (routes, joins, runs held back, summaries). */
      conductor?: ConductorState;
      /** Runs that continued before the conductor: summaries and joins by task name. */
      summaries?: TaskSummary[];
      joins?: Record<string, string[]>;
    };
  };
}

/** Lists longer than this are shortened in summaries and stored context (never in workflow memory). */
export const MAX_INLINE_ITEMS = 1000;

/** Keeps payloads under Temporal's size limits: a huge list becomes `{ truncated, total, first }`. */
export function compact(v: unknown): unknown {
  return Array.isArray(v) && v.length > MAX_INLINE_ITEMS ? { truncated: true, total: v.length, first: v.slice(0, 100) } : v;
}

// The conductor's state as it crosses continue-as-new (conductor/conductor.ts). Plain JSON.

/** A task run the conductor knows of: staged (ready to start), parked (held for the next run) or running. */
export interface RunEntry {
  /** Unique within the run (and across its continuations). */
  seq: number;
  task: string;
  /** Index into `routes`. */
  route: number;
  /** The run of the parallel block this task belongs to (its seq), or 0 for the run's own graph. */
  group: number;
  phase: 'staged' | 'parked' | 'running';
  /** The upstream tasks whose transitions led here (for the audit). */
  via: string[];
  /** The nth run of this task, once it began (idempotency keys, child ids and inquiry ids use it). */
  runNo?: number;
}

/** A join some upstream task arrived at, waiting for the rest (reset when the join starts). */
export interface PendingJoin {
  task: string;
  route: number;
  group: number;
  arrived: string[];
}

export interface ConductorState {
  nextSeq: number;
  /** Route i is the list of transitions into split tasks that led to it (Orquesta's `task__t0`). */
  routes: string[][];
  runs: RunEntry[];
  joins: PendingJoin[];
  /** When each join last started (`task|route|group` → the next seq then): arrivals from runs begun before belong to that round. */
  joinsStarted: Record<string, number>;
  failure: { task: string; error: TaskError } | null;
  /** Unhandled failures inside parallel blocks, by the block run's seq. */
  blockFailures: Record<string, TaskError>;
  stopping: boolean;
  summaries: TaskSummary[];
}
