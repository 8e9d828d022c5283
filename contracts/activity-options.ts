// Named activity-option profiles: one place for how long each kind of activity may take and how it retries.
import type { ActivityOptions } from '@temporalio/common';

type Profile = Pick<ActivityOptions, 'startToCloseTimeout' | 'retry'>;

/** Database bookkeeping (audit rows, the runs index, inquiries): retried until it works. */
export const BOOKKEEPING: Profile = { startToCloseTimeout: '30s', retry: { initialInterval: '1s', maximumInterval: '30s' } };
/** Reads that feed a task (kv values): a few quick retries, then the task fails. */
export const LOOKUP: Profile = { startToCloseTimeout: '30s', retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5 } };
/** The closure's own actions and incident calls: retried until they work, each within a minute. */
export const CLOSURE_ACTION: Profile = { startToCloseTimeout: '60s', retry: { initialInterval: '1s', maximumInterval: '30s' } };
/** The delivery report, first try: three attempts, then the verdict is pending_supplement. */
export const REPORT_ONCE: Profile = {
  startToCloseTimeout: '60s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '4s', maximumAttempts: 3 },
};
/** The delivery report, supplementing: retried until it is written and sent. */
export const REPORT_UNTIL_DONE: Profile = { startToCloseTimeout: '60s', retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5m' } };
/** A task's attempt when the DSL runs the retries: lost workers are retried a few times, business failures are not. */
export const taskAttempt = (timeoutSeconds: number): Profile => ({
  startToCloseTimeout: `${timeoutSeconds + 5}s`,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
});
