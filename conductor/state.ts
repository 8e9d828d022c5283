// A new conductor's state, and what the driver hands a conductor.
import type { ConductorState } from '../contracts/run.js';
import type { Limits } from '../dsl/expr/index.js';
import type { Recorder } from './render.js';

export interface ConductorOptions {
  /** Writes an audit fact (the driver buffers and stores them). */
  record: Recorder;
  /** Epoch milliseconds: workflow time in a run, a fixed clock in tests. */
  now: () => number;
  /** The template limits every render uses (the driver's pacer meters them). */
  limits?: Limits;
}

export const emptyState = (): ConductorState => ({
  nextSeq: 1,
  routes: [[]],
  runs: [],
  joins: [],
  joinsStarted: {},
  failure: null,
  blockFailures: {},
  stopping: false,
  summaries: [],
});
