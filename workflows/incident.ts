import {
  ApplicationFailure,
  condition,
  continueAsNew,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { INCIDENT_ACTIONS, nextStatus, type IncidentAction, type IncidentStatus } from '../dsl/incident-machine.js';
import type { CoreActivities } from '../activities/types.js';
import { SA } from './definitions.js';
import {
  alertSignal,
  incidentSignals,
  incidentStateQuery,
  incidentUpdates,
  noteSignal,
  noteUpdate,
  type ActionPayload,
  type IncidentInput,
  type IncidentState,
} from './incident-defs.js';

const store = proxyActivities<CoreActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
  summary: 'incident record',
});
const pager = proxyActivities<CoreActivities>({ startToCloseTimeout: '60s', retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 3 } });

/**
 * One incident: a strict state machine driven by signals/updates, with SLA escalation on durable
 * timers from the policy snapshot taken when it opened. It ends when resolved (then feedback is created).
 */
export async function incident(input: IncidentInput): Promise<IncidentState> {
  const info = workflowInfo();
  const now = () => new Date().toISOString();
  const resumed = input.resume;
  const s: IncidentState = resumed
    ? resumed.state
    : {
        id: info.workflowId,
        run_id: info.runId,
        tenant: input.tenant,
        source: input.source,
        source_id: input.source_id,
        severity: input.severity,
        status: 'open',
        title: input.title,
        root_cause: null,
        escalation_level: 0,
        alert_count: 0,
        opened_at: now(),
        acknowledged_at: null,
        resolved_at: null,
        attribution: input.attribution,
        events: [],
      };
  // the incident keeps the run id it opened with (its row), and its event numbering, across continue-as-new
  let written = s.events.length;
  let seq = resumed?.seq ?? 0;
  let pendingWrites = 0;
  let paging = 0;
  let escalatedAt: string | null = resumed?.escalated_at ?? null;
  let resolveBreached = resumed?.resolve_breached ?? false;
  let writes: Promise<void> = Promise.resolve();
  /** Writes state and the new events in order (one activity at a time). */
  const persist = () => {
    pendingWrites++;
    writes = writes.then(async () => {
      const fresh = s.events.slice(written);
      written = s.events.length;
      const { events: _all, ...state } = s;
      await store.recordIncident({ state, events: fresh, ...(fresh.some((e) => e.kind === 'opened') ? { policy: input.policy } : {}) });
      pendingWrites--;
    });
  };
  const log = (kind: string, from: IncidentStatus | null, to: IncidentStatus | null, by: string | null, detail: Record<string, unknown> = {}) => {
    s.events.push({ seq: ++seq, kind, from, to, by, detail, at: now() });
  };
  const apply = (action: IncidentAction, p: ActionPayload = {}): IncidentState => {
    const next = nextStatus(s.status, action, p);
    if (!next.ok) throw ApplicationFailure.create({ type: 'InvalidTransition', message: next.reason, nonRetryable: true });
    const from = s.status;
    s.status = next.to;
    if (next.to === 'acknowledged') s.acknowledged_at ??= now();
    if (next.to === 'resolved') Object.assign(s, { root_cause: String(p.root_cause).trim(), resolved_at: now() });
    if (next.to === 'escalated') {
      s.escalation_level++;
      escalatedAt = now();
    }
    log(action, from, next.to, p.by ?? null, {
      ...(p.reason ? { reason: p.reason } : {}),
      ...(p.note ? { note: p.note } : {}),
      ...(p.root_cause ? { root_cause: p.root_cause } : {}),
    });
    upsertSearchAttributes([{ key: SA.status, value: s.status }]);
    setCurrentDetails(describe());
    persist();
    return s;
  };
  const describe = () => `${s.severity} incident ${s.status}${s.status === 'escalated' ? ` (level ${s.escalation_level})` : ''}: ${s.title}`;

  for (const a of INCIDENT_ACTIONS) {
    // a signal cannot be refused: an invalid one is recorded as refused; the update refuses it to the caller
    setHandler(incidentSignals[a], (p?: ActionPayload) => {
      try {
        apply(a, p ?? {});
      } catch (err) {
        log('refused', s.status, null, p?.by ?? null, { action: a, reason: (err as Error).message });
        persist();
      }
    });
    setHandler(incidentUpdates[a], (p?: ActionPayload) => apply(a, p ?? {}), {
      validator: (p?: ActionPayload) => {
        const next = nextStatus(s.status, a, p ?? {});
        if (!next.ok) throw ApplicationFailure.create({ type: 'InvalidTransition', message: next.reason, nonRetryable: true });
      },
    });
  }
  const noteProblem = (p: ActionPayload | undefined) => (!p || typeof p.note !== 'string' || !p.note.trim() ? 'a note needs { "note": "..." }' : null);
  const note = (p: ActionPayload) => {
    log('note', null, null, p.by ?? null, { note: p.note });
    persist();
    return s;
  };
  setHandler(noteSignal, (p) => {
    if (!noteProblem(p)) note(p);
  });
  setHandler(noteUpdate, note, {
    validator: (p) => {
      const problem = noteProblem(p);
      if (problem) throw ApplicationFailure.create({ type: 'InvalidNote', message: problem, nonRetryable: true });
    },
  });
  setHandler(alertSignal, (p) => {
    s.alert_count++;
    if (s.alert_count > 1) log('alert', null, null, 'system', { ...(p?.detail ?? {}), repeat: s.alert_count });
    persist();
  });
  setHandler(incidentStateQuery, () => s);

  const policy = input.policy;
  const ackSla = policy.ack_sla[s.severity] ?? 0;
  if (!resumed) {
    upsertSearchAttributes([
      { key: SA.status, value: s.status },
      { key: SA.tenant, value: s.tenant },
    ]);
    log('opened', null, 'open', 'system', { severity: s.severity, source: s.source, source_id: s.source_id, ...(input.detail ?? {}) });
    s.alert_count = Math.max(s.alert_count, 1);
    persist();
    if (s.severity === 'critical' || ackSla === 0)
      apply('escalate', { by: 'system', reason: s.severity === 'critical' ? 'critical severity: escalated on open' : 'ack SLA is 0' });
  }
  setCurrentDetails(describe());
  // SLA clocks run from the moment the incident opened, across continue-as-new
  const sinceOpened = () => Date.now() - Date.parse(s.opened_at);

  // acknowledge SLA: still open when it runs out → escalate
  void (async () => {
    if (s.status !== 'open') return;
    const acted = await condition(() => s.status !== 'open', Math.max(0, ackSla * 1000 - sinceOpened()), { summary: `ack SLA ${ackSla}s (${s.severity})` });
    if (!acted) apply('escalate', { by: 'system', reason: `not acknowledged within the ack SLA of ${ackSla}s` });
  })();
  // resolve SLA: an incident still investigating when it runs out escalates; a breach is recorded either way
  const resolveSla = policy.resolve_sla[s.severity];
  void (async () => {
    if (resolveSla === undefined || resolveBreached) return;
    const done = await condition(() => s.status === 'resolved', Math.max(0, resolveSla * 1000 - sinceOpened()), {
      summary: `resolve SLA ${resolveSla}s (${s.severity})`,
    });
    if (done) return;
    resolveBreached = true;
    log('sla_breached', null, null, 'system', { sla: 'resolve', seconds: resolveSla });
    if (s.status === 'investigating') apply('escalate', { by: 'system', reason: `not resolved within the resolve SLA of ${resolveSla}s` });
    else persist();
  })();
  // escalation steps: page while escalated; leaving `escalated` (acknowledge, investigate, resolve) cancels pending steps
  void (async () => {
    // a continued incident that is still escalated picks the steps up where the previous run left them
    // escalation_level counts escalations: each one starts a new paging epoch
    let handled = !resumed ? 0 : s.status === 'escalated' ? s.escalation_level - 1 : s.escalation_level;
    let resumeAt = resumed && s.status === 'escalated' && escalatedAt ? (Date.now() - Date.parse(escalatedAt)) / 1000 : -1;
    for (;;) {
      await condition(() => s.escalation_level > handled || s.status === 'resolved');
      if (s.status === 'resolved') return;
      handled = s.escalation_level;
      const epoch = handled;
      const stillPaging = () => s.status === 'escalated' && s.escalation_level === epoch;
      let elapsed = Math.max(0, resumeAt);
      const done = resumeAt; // steps due before the continue-as-new were paged by the previous run
      resumeAt = -1;
      for (let round = 0; round <= policy.repeat && stillPaging(); round++) {
        for (const step of policy.steps) {
          const at = round * policy.repeat_interval + step.after;
          if (at > elapsed) {
            const interrupted = await condition(() => !stillPaging(), (at - elapsed) * 1000, { summary: `escalation step in ${at - elapsed}s` });
            elapsed = at;
            if (interrupted) break;
          }
          if (!stillPaging()) break;
          if (at <= done) continue;
          for (const n of step.notify) {
            const message = `[${s.severity}] ${s.title} — incident ${s.id} is ${s.status} (escalation level ${s.escalation_level}${round ? `, repeat ${round}` : ''}). Acknowledge: POST /v1/incidents/${encodeURIComponent(s.id)}/acknowledge`;
            paging++;
            try {
              const r = await pager.notify({
                channel: n.channel,
                to: [n.role],
                subject: `Incident ${s.status}: ${s.title}`,
                message,
                tenant: s.tenant,
                executionId: s.id,
                task: 'escalation',
                receiptToken: `${s.run_id}-${epoch}-${round}-${n.role}`.slice(0, 200),
                idempotencyKey: `${s.id}:${s.run_id}:${epoch}:${round}:${step.after}:${n.role}`,
              });
              log('paged', null, null, 'system', { role: n.role, channel: n.channel, round, to: r.receipt.to });
            } catch (err) {
              log('page_failed', null, null, 'system', { role: n.role, channel: n.channel, round, error: (err as Error).message });
            } finally {
              paging--;
            }
            persist();
          }
        }
      }
    }
  })();

  // a long-lived incident (repeated alerts) continues as new when Temporal suggests it, once nothing is in flight
  await condition(() => s.status === 'resolved' || (workflowInfo().continueAsNewSuggested && pendingWrites === 0 && paging === 0));
  if (s.status !== 'resolved') {
    await continueAsNew<typeof incident>({
      ...input,
      resume: { state: { ...s, events: s.events.slice(-50) }, seq, escalated_at: escalatedAt, resolve_breached: resolveBreached },
    });
  }
  await writes;
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
