import { alertFires, type EscalationConfig } from '../dsl/escalation.js';
import type { Store } from '../store/db.js';
import { alertMeasures } from '../store/alert-measures.js';
import type { FiringAlert } from './types.js';

/** Evaluates the alert rules of escalation.yaml over the database; returns the firing ones per tenant. */
export function alertActivities(deps: { store: Store; escalation: () => EscalationConfig }) {
  return {
    async evaluateAlerts(): Promise<FiringAlert[]> {
      const rules = deps.escalation().alerts;
      if (!rules.length) return [];
      const firing: FiringAlert[] = [];
      for (const [tenant, measures] of await alertMeasures(deps.store)) {
        for (const rule of rules) {
          const r = alertFires(rule.expr, measures);
          if (r.fires)
            firing.push({ tenant, alert: rule.id, expr: rule.expr, severity: rule.severity, value: r.value!, ...(rule.policy ? { policy: rule.policy } : {}) });
        }
      }
      return firing;
    },
  };
}
