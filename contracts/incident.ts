// Incident signal, update and query names (interfaces.md): shared by workflows/, activities/ and api/.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { IncidentAction, IncidentStatus } from '../dsl/incident-machine.js';
import type { EscalationPolicy } from '../dsl/escalation.js';
import type { Severity } from '../dsl/closure-rules.js';

export const INCIDENT = 'incident';

export interface IncidentInput {
  tenant: string;
  source: string;
  source_id: string;
  severity: Severity;
  title: string;
  detail?: Record<string, unknown>;
  /** what produced the failure: carried into the feedback item */
  attribution: { execution_id?: string; workflow_ref?: string; workflow_version?: string; strategy?: string; task?: string; trace_id?: string };
  /** the escalation policy as it was when the incident opened (later edits do not change it) */
  policy: EscalationPolicy;
  /** Set when the incident continued as new (a long-lived, often repeated incident): what carries over. */
  resume?: { state: IncidentState; seq: number; escalated_at: string | null; resolve_breached: boolean };
}

export interface ActionPayload {
  by?: string;
  root_cause?: string;
  note?: string;
  reason?: string;
}
export interface AlertPayload {
  detail?: Record<string, unknown>;
  severity?: Severity;
  at?: string;
}

export interface IncidentState {
  id: string;
  run_id: string;
  tenant: string;
  source: string;
  source_id: string;
  severity: Severity;
  status: IncidentStatus;
  title: string;
  root_cause: string | null;
  escalation_level: number;
  alert_count: number;
  opened_at: string;
  acknowledged_at: string | null;
  resolved_at: string | null;
  attribution: IncidentInput['attribution'];
  events: {
    seq: number;
    kind: string;
    from: IncidentStatus | null;
    to: IncidentStatus | null;
    by: string | null;
    detail: Record<string, unknown>;
    at: string;
  }[];
}

export const incidentSignals = {
  acknowledge: defineSignal<[ActionPayload?]>('acknowledge'),
  investigate: defineSignal<[ActionPayload?]>('investigate'),
  mitigate: defineSignal<[ActionPayload?]>('mitigate'),
  escalate: defineSignal<[ActionPayload?]>('escalate'),
  resolve: defineSignal<[ActionPayload?]>('resolve'),
} satisfies Record<IncidentAction, unknown>;
/** The same actions as updates: refused with a clear error when the transition is invalid (used by the API). */
export const incidentUpdates = {
  acknowledge: defineUpdate<IncidentState, [ActionPayload]>('acknowledge'),
  investigate: defineUpdate<IncidentState, [ActionPayload]>('investigate'),
  mitigate: defineUpdate<IncidentState, [ActionPayload]>('mitigate'),
  escalate: defineUpdate<IncidentState, [ActionPayload]>('escalate'),
  resolve: defineUpdate<IncidentState, [ActionPayload]>('resolve'),
} satisfies Record<IncidentAction, unknown>;
export const noteSignal = defineSignal<[ActionPayload]>('note');
export const noteUpdate = defineUpdate<IncidentState, [ActionPayload]>('note');
export const alertSignal = defineSignal<[AlertPayload?]>('alert');
export const incidentStateQuery = defineQuery<IncidentState>('state');

export const incidentWorkflowId = (tenant: string, source: string, sourceId: string) => `incident:${tenant}:${source}:${sourceId}`;
