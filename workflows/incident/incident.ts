// The `incident` workflow (interfaces.md): a strict state machine driven by signals and updates, with
// SLA escalation on durable timers from the policy snapshot taken when it opened; feedback once resolved.
import { condition, continueAsNew, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { SA } from '../../contracts/definitions.js';
import type { IncidentInput, IncidentState } from '../../contracts/incident.js';
import { ackClock, pagingLoop, resolveClock } from './clocks.js';
import { IncidentBook, store } from './state.js';

export async function incident(input: IncidentInput): Promise<IncidentState> {
  const b = new IncidentBook(input);
  const s = b.s;
  b.listen();
  const ackSla = input.policy.ack_sla[s.severity] ?? 0;
  if (!input.resume) {
    upsertSearchAttributes([
      { key: SA.status, value: s.status },
      { key: SA.tenant, value: s.tenant },
    ]);
    b.log('opened', null, 'open', 'system', { severity: s.severity, source: s.source, source_id: s.source_id, ...(input.detail ?? {}) });
    s.alert_count = Math.max(s.alert_count, 1);
    b.persist();
    if (s.severity === 'critical' || ackSla === 0)
      b.apply('escalate', { by: 'system', reason: s.severity === 'critical' ? 'critical severity: escalated on open' : 'ack SLA is 0' });
  }
  setCurrentDetails(b.describe());
  void ackClock(b, ackSla);
  void resolveClock(b, input.policy.resolve_sla[s.severity]);
  void pagingLoop(b, input);

  // a long-lived incident (repeated alerts) continues as new when Temporal suggests it, once nothing is in flight
  await condition(() => s.status === 'resolved' || (workflowInfo().continueAsNewSuggested && b.pendingWrites === 0 && b.paging === 0));
  if (s.status !== 'resolved') {
    await continueAsNew<typeof incident>({
      ...input,
      resume: { state: { ...s, events: s.events.slice(-50) }, seq: b.seq, escalated_at: b.escalatedAt, resolve_breached: b.resolveBreached },
    });
  }
  await b.settled();
  await store.createFeedback({
    source_id: `${s.id}#${s.run_id}`,
    tenant: s.tenant,
    category: s.source === 'alert' && /slow|latency/.test(s.source_id) ? 'performance' : 'reliability',
    sentiment: 'negative',
    summary: `${s.title} — root cause: ${s.root_cause}`,
    attribution: { ...s.attribution, incident_id: s.id, incident_run_id: s.run_id, severity: s.severity },
  });
  return s;
}
