/** The compiled, JSON-serialisable form of a workflow: the input of the `taskflow` workflow. */
export interface CompiledWorkflow {
  ref: string;
  version: string;
  label?: string;
  /** JSON Schema of the parameters (normalised from the StackStorm-style map). */
  parameters: JsonSchema;
  secretParameters: string[];
  output?: JsonSchema;
  vars: Record<string, unknown>;
  output_map?: unknown;
  timeout?: number;
  closure?: string;
  cancellation_policy: 'allow_finish' | 'cancel_running';
  limits: Limits;
  tasks: Record<string, CompiledTask>;
  /** Task names in file order (sub-tasks after their block). */
  order: string[];
  /** Top-level tasks no transition targets: they all start at once. */
  entry: string[];
  /** Workflows this one runs as nested runs (and theirs), pinned when the run starts; keyed by ref. */
  children?: Record<string, CompiledWorkflow>;
  /** Pack actions this run calls, pinned when it starts; keyed by ref. */
  actions?: Record<string, ActionDef>;
  /** Set by `closeloop run --mock` and `closeloop test`: refs and task names the worker's mocks answer for, built-ins included. */
  mocked?: { refs: string[]; tasks: string[] };
  /** `pack.config` of each pack the run's workflows belong to (secrets are never placed here). */
  pack_config?: Record<string, Record<string, unknown>>;
}

export type JsonSchema = Record<string, unknown>;

export interface Limits {
  max_tasks: number;
  max_depth: number;
  max_items: number;
  max_parallel: number;
  max_task_runs: number;
}
export const DEFAULT_WORKFLOW_LIMITS: Limits = { max_tasks: 1000, max_depth: 10, max_items: 10_000, max_parallel: 100, max_task_runs: 1000 };

export type TransitionOn = 'succeeded' | 'failed' | 'timed_out' | 'completed' | 'any';

export interface Transition {
  /** Outcome this transition listens to; `any` is a canonical `next` entry (its `when` decides). */
  on: TransitionOn;
  when?: string;
  publish: [string, unknown][];
  /** Target tasks, or the engine commands `fail`, `noop` and `continue`. */
  do: string[];
  /** Source position of the transition in the file. */
  line: number;
  col: number;
}

export interface DecisionBranch {
  when?: string;
  next: string;
}

export interface RetrySpec {
  count: number;
  delay: number;
  backoff: 'constant' | 'linear' | 'exponential';
  max_delay?: number;
  on_error?: string;
}

export interface CompiledTask {
  name: string;
  type: 'action' | 'parallel' | 'workflow';
  action?: string;
  input?: unknown;
  when?: string | boolean;
  with_items?: string | unknown[];
  /** Seconds to wait before the task runs (a durable timer). */
  delay?: number;
  batch_size?: number;
  concurrency?: number;
  tolerated_failures?: number | string;
  retry?: RetrySpec;
  timeout?: number;
  join?: 'all' | number;
  /** Task-level publish (legacy): applied on success before transitions. */
  publish: [string, unknown][];
  transitions: Transition[];
  decision?: DecisionBranch[];
  /** For `type: parallel`: the sub-task names, run concurrently. */
  subtasks?: string[];
  /** The parallel block this task belongs to. */
  parent?: string;
  /** Tasks that have a transition into this one (for joins). */
  inbound: string[];
  line: number;
  col: number;
}

export const ENGINE_COMMANDS = ['fail', 'noop', 'continue'] as const;

export interface Diagnostic {
  severity: 'error' | 'warning';
  line: number;
  col: number;
  message: string;
  /** JSON path in the file, e.g. `tasks[2].on_success`. */
  path: string;
}

/** A pack action (config/packs/<pack>/actions/*.yaml), pinned into a run's input when it starts. */
export interface ActionDef {
  ref: string;
  description?: string;
  runner: 'http' | 'plugin';
  plugin?: string;
  operation?: string;
  mode?: 'sync' | 'async';
  callback_timeout?: number;
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: unknown;
  expected_status?: number | number[];
  timeout?: number;
  parameters?: Record<string, unknown>;
  output?: Record<string, unknown>;
}
