import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { ALERTS, ALERTS_SCHEDULE_ID } from '../workflows/alerts.js';

/** Creates the alert-evaluation Schedule (every minute) unless it exists; idempotent across restarts. */
export async function ensureAlertSchedule(client: Client, taskQueue: string, every = '1m'): Promise<'created' | 'exists'> {
  try {
    await client.schedule.create({
      scheduleId: ALERTS_SCHEDULE_ID,
      spec: { intervals: [{ every }] },
      action: {
        type: 'startWorkflow',
        workflowType: ALERTS,
        taskQueue,
        args: [],
        workflowId: 'alerts:evaluation',
        staticSummary: 'Evaluate the alert rules of config/agent/escalation.yaml',
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m' },
      memo: { description: 'Closeloop alert rules: a firing alert opens or updates an incident' },
    });
    return 'created';
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return 'exists';
    throw err;
  }
}
