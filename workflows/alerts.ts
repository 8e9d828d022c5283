import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { CoreActivities, FiringAlert } from '../activities/types.js';

export const ALERTS = 'alerts';
/** The Temporal Schedule that runs `alerts` every minute (created at start, see workers/schedules.ts). */
export const ALERTS_SCHEDULE_ID = 'closeloop-alerts';

const acts = proxyActivities<CoreActivities>({ startToCloseTimeout: '60s', retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 5 } });

/** One evaluation of the alert rules: every firing alert opens its incident or appends to the open one. */
export async function alerts(): Promise<{ firing: FiringAlert[] }> {
  const firing = await acts.evaluateAlerts();
  setCurrentDetails(firing.length ? `firing: ${firing.map((f) => `${f.tenant}/${f.alert}=${f.value}`).join(', ')}` : 'nothing firing');
  for (const f of firing) {
    await proxyActivities<CoreActivities>({
      startToCloseTimeout: '60s',
      retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 5 },
      summary: `alert ${f.alert} (${f.tenant})`,
    }).openIncident({
      tenant: f.tenant,
      source: 'alert',
      source_id: f.alert,
      severity: f.severity,
      title: `Alert ${f.alert}: ${f.expr} (now ${Number.isInteger(f.value) ? f.value : f.value.toFixed(3)})`,
      detail: { alert: f.alert, expr: f.expr, value: f.value },
      attribution: {},
      ...(f.policy ? { policy: f.policy } : {}),
    });
  }
  return { firing };
}
