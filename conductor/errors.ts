import type { TaskError } from '../contracts/run.js';
import type { AttemptReport } from '../dsl/retry.js';

/** A task attempt that did not succeed; stays inside the interpreter (never fails the workflow task). */
export class TaskFailure extends Error {
  /** Set when Temporal ran the retries: the attempts the activity reported. */
  report?: AttemptReport;
  /** The activity wrote the audit rows it carried. */
  auditWritten?: boolean;
  /** How many attempts the task made before this failure ended it. */
  attempts?: number;
  constructor(
    readonly error: TaskError,
    readonly timedOut = false,
  ) {
    super(error.message);
  }
}
