// The conductor's state as it crosses continue-as-new (conductor/conductor.ts). Plain JSON.
import type { TaskError, TaskSummary } from './run.js';

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
