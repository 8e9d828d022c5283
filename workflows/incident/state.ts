// An incident's state and its changes: the state machine applied, every change logged as an event
// and written in order, the signal, update and query handlers (interfaces.md).
import { ApplicationFailure, proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { INCIDENT_ACTIONS, nextStatus, type IncidentAction, type IncidentStatus } from '../../dsl/incident-machine.js';
import type { CoreActivities } from '../../activities/types.js';
import { BOOKKEEPING } from '../../contracts/activity-options.js';
import { SA } from '../../contracts/definitions.js';
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
} from '../../contracts/incident.js';
import { FAILURE } from '../../contracts/failures.js';

export const store = proxyActivities<CoreActivities>({ ...BOOKKEEPING, summary: 'incident record' });
const now = () => new Date().toISOString();

function opened(input: IncidentInput): IncidentState {
  const info = workflowInfo();
  return {
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
}

export class IncidentBook {
  readonly s: IncidentState;
  // the incident keeps the run id it opened with (its row), and its event numbering, across continue-as-new
  private written: number;
  seq: number;
  pendingWrites = 0;
  paging = 0;
  escalatedAt: string | null;
  resolveBreached: boolean;
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly input: IncidentInput) {
    const resumed = input.resume;
    this.s = resumed ? resumed.state : opened(input);
    this.written = this.s.events.length;
    this.seq = resumed?.seq ?? 0;
    this.escalatedAt = resumed?.escalated_at ?? null;
    this.resolveBreached = resumed?.resolve_breached ?? false;
  }

  /** Writes state and the new events in order (one activity at a time). */
  persist(): void {
    this.pendingWrites++;
    this.writes = this.writes.then(async () => {
      const fresh = this.s.events.slice(this.written);
      this.written = this.s.events.length;
      const { events: _all, ...state } = this.s;
      await store.recordIncident({ state, events: fresh, ...(fresh.some((e) => e.kind === 'opened') ? { policy: this.input.policy } : {}) });
      this.pendingWrites--;
    });
  }

  /** Every write so far has completed. */
  settled(): Promise<void> {
    return this.writes;
  }

  log(kind: string, from: IncidentStatus | null, to: IncidentStatus | null, by: string | null, detail: Record<string, unknown> = {}): void {
    this.s.events.push({ seq: ++this.seq, kind, from, to, by, detail, at: now() });
  }

  describe(): string {
    const s = this.s;
    return `${s.severity} incident ${s.status}${s.status === 'escalated' ? ` (level ${s.escalation_level})` : ''}: ${s.title}`;
  }

  apply(action: IncidentAction, p: ActionPayload = {}): IncidentState {
    const s = this.s;
    const next = nextStatus(s.status, action, p);
    if (!next.ok) throw ApplicationFailure.create({ type: FAILURE.invalidTransition, message: next.reason, nonRetryable: true });
    const from = s.status;
    s.status = next.to;
    if (next.to === 'acknowledged') s.acknowledged_at ??= now();
    if (next.to === 'resolved') Object.assign(s, { root_cause: String(p.root_cause).trim(), resolved_at: now() });
    if (next.to === 'escalated') {
      s.escalation_level++;
      this.escalatedAt = now();
    }
    this.log(action, from, next.to, p.by ?? null, {
      ...(p.reason ? { reason: p.reason } : {}),
      ...(p.note ? { note: p.note } : {}),
      ...(p.root_cause ? { root_cause: p.root_cause } : {}),
    });
    upsertSearchAttributes([{ key: SA.status, value: s.status }]);
    setCurrentDetails(this.describe());
    this.persist();
    return s;
  }

  /** The actions as signals (an invalid one is recorded as refused) and updates (refused to the caller), notes, repeated alerts, the state query. */
  listen(): void {
    for (const a of INCIDENT_ACTIONS) {
      setHandler(incidentSignals[a], (p?: ActionPayload) => {
        try {
          this.apply(a, p ?? {});
        } catch (err) {
          this.log('refused', this.s.status, null, p?.by ?? null, { action: a, reason: (err as Error).message });
          this.persist();
        }
      });
      setHandler(incidentUpdates[a], (p?: ActionPayload) => this.apply(a, p ?? {}), {
        validator: (p?: ActionPayload) => {
          const next = nextStatus(this.s.status, a, p ?? {});
          if (!next.ok) throw ApplicationFailure.create({ type: FAILURE.invalidTransition, message: next.reason, nonRetryable: true });
        },
      });
    }
    const noteProblem = (p: ActionPayload | undefined) => (!p || typeof p.note !== 'string' || !p.note.trim() ? 'a note needs { "note": "..." }' : null);
    const note = (p: ActionPayload) => {
      this.log('note', null, null, p.by ?? null, { note: p.note });
      this.persist();
      return this.s;
    };
    setHandler(noteSignal, (p) => {
      if (!noteProblem(p)) note(p);
    });
    setHandler(noteUpdate, note, {
      validator: (p) => {
        const problem = noteProblem(p);
        if (problem) throw ApplicationFailure.create({ type: FAILURE.invalidNote, message: problem, nonRetryable: true });
      },
    });
    setHandler(alertSignal, (p) => {
      this.s.alert_count++;
      if (this.s.alert_count > 1) this.log('alert', null, null, 'system', { ...(p?.detail ?? {}), repeat: this.s.alert_count });
      this.persist();
    });
    setHandler(incidentStateQuery, () => this.s);
  }
}
