/** The incident state machine (docs/incidents.md): only these transitions exist. */
export type IncidentStatus = 'open' | 'acknowledged' | 'investigating' | 'mitigated' | 'escalated' | 'resolved';
export type IncidentAction = 'acknowledge' | 'investigate' | 'mitigate' | 'escalate' | 'resolve';
export const INCIDENT_ACTIONS: readonly IncidentAction[] = ['acknowledge', 'investigate', 'mitigate', 'escalate', 'resolve'];

const TRANSITIONS: Record<IncidentStatus, Partial<Record<IncidentAction, IncidentStatus>>> = {
  open: { acknowledge: 'acknowledged', escalate: 'escalated', resolve: 'resolved' },
  acknowledged: { investigate: 'investigating' },
  investigating: { mitigate: 'mitigated', escalate: 'escalated', resolve: 'resolved' },
  escalated: { acknowledge: 'acknowledged', investigate: 'investigating' },
  mitigated: { resolve: 'resolved', investigate: 'investigating' },
  resolved: {},
};

/** Where `action` leads from `status`, or why it may not happen. */
export function nextStatus(
  status: IncidentStatus,
  action: IncidentAction,
  payload: { root_cause?: unknown } = {},
): { ok: true; to: IncidentStatus } | { ok: false; reason: string } {
  if (status === 'resolved') return { ok: false, reason: 'the incident is resolved: it is immutable except for appended notes' };
  const to = TRANSITIONS[status][action];
  if (!to) {
    const allowed = Object.keys(TRANSITIONS[status]);
    return { ok: false, reason: `cannot ${action} an incident that is ${status} (allowed: ${allowed.join(', ') || 'none'})` };
  }
  if (to === 'resolved' && (typeof payload.root_cause !== 'string' || !payload.root_cause.trim()))
    return { ok: false, reason: 'resolving needs a root cause: { "root_cause": "..." }' };
  return { ok: true, to };
}
