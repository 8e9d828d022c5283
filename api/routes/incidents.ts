import { Router } from 'express';
import { and, desc, eq, max } from 'drizzle-orm';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Db } from '../../store/db.js';
import { feedback, incidentEvents, incidents } from '../../store/schema.js';
import { INCIDENT_ACTIONS, type IncidentAction } from '../../dsl/incident-machine.js';
import { incidentUpdates, noteUpdate } from '../../contracts/incident.js';
import { requireRole } from '../auth.js';
import { body } from '../body-schemas.js';
import { ApiError, notFound } from '../errors.js';

const iso = (t: string | null) => (t ? new Date(t).toISOString() : null);
type Row = typeof incidents.$inferSelect;
const view = (i: Row) => ({
  id: i.id,
  run_id: i.runId,
  tenant: i.tenant,
  source: i.source,
  source_id: i.sourceId,
  severity: i.severity,
  status: i.status,
  title: i.title,
  root_cause: i.rootCause,
  escalation_level: i.escalationLevel,
  alert_count: i.alertCount,
  attribution: i.attribution,
  opened_at: iso(i.openedAt),
  acknowledged_at: iso(i.acknowledgedAt),
  resolved_at: iso(i.resolvedAt),
  ...slaDue(i),
});

/** When the incident's policy (a snapshot taken when it opened) wants it acknowledged and resolved. */
function slaDue(i: Row): { ack_due_at: string | null; resolve_due_at: string | null } {
  const policy = i.policy as { ack_sla?: Record<string, number>; resolve_sla?: Record<string, number> };
  const due = (seconds: number | undefined) => (typeof seconds === 'number' ? new Date(new Date(i.openedAt).getTime() + seconds * 1000).toISOString() : null);
  return { ack_due_at: due(policy.ack_sla?.[i.severity]), resolve_due_at: due(policy.resolve_sla?.[i.severity]) };
}

/** Incidents (interfaces.md): list, one with its event log, and the state-machine actions (as Temporal updates). */
export function incidentRoutes(deps: { db: Db; client: Client }): Router {
  const r = Router();
  const latest = async (tenant: string, id: string) =>
    (
      await deps.db
        .select()
        .from(incidents)
        .where(and(eq(incidents.tenant, tenant), eq(incidents.id, id)))
        .orderBy(desc(incidents.openedAt))
        .limit(1)
    )[0];

  r.get('/v1/incidents', requireRole('viewer'), async (req, res) => {
    const q = req.query as Record<string, unknown>;
    const rows = await deps.db
      .select()
      .from(incidents)
      .where(
        and(
          eq(incidents.tenant, req.principal!.tenant),
          typeof q.status === 'string' ? eq(incidents.status, q.status) : undefined,
          typeof q.severity === 'string' ? eq(incidents.severity, q.severity) : undefined,
        ),
      )
      .orderBy(desc(incidents.openedAt))
      .limit(500);
    res.json({ incidents: rows.map(view) });
  });

  /** Feedback items: one per resolved incident, attributed to the workflow, strategy, task and trace. */
  r.get('/v1/feedback', requireRole('viewer'), async (req, res) => {
    const rows = await deps.db.select().from(feedback).where(eq(feedback.tenant, req.principal!.tenant)).orderBy(desc(feedback.createdAt)).limit(500);
    res.json({
      feedback: rows.map((f) => ({
        id: f.id,
        source_id: f.sourceId,
        category: f.category,
        sentiment: f.sentiment,
        summary: f.summary,
        attribution: f.attribution,
        created_at: iso(f.createdAt),
      })),
    });
  });

  r.get('/v1/incidents/:id', requireRole('viewer'), async (req, res) => {
    const row = await latest(req.principal!.tenant, String(req.params.id));
    if (!row) throw notFound(`incident '${req.params.id}'`);
    const events = await deps.db.select().from(incidentEvents).where(eq(incidentEvents.runId, row.runId)).orderBy(incidentEvents.seq);
    res.json({
      ...view(row),
      events: events.map((e) => ({ seq: e.seq, kind: e.kind, from: e.fromStatus, to: e.toStatus, by: e.by, detail: e.detail, at: iso(e.at) })),
    });
  });

  r.post('/v1/incidents/:id/:action', requireRole('operator'), body('IncidentAction'), async (req, res) => {
    const action = String(req.params.action);
    if (action !== 'note' && !(INCIDENT_ACTIONS as readonly string[]).includes(action)) throw notFound(`incident action '${action}'`);
    const row = await latest(req.principal!.tenant, String(req.params.id));
    if (!row) throw notFound(`incident '${req.params.id}'`);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const payload = {
      by: req.principal!.keyId,
      ...(typeof body.root_cause === 'string' ? { root_cause: body.root_cause } : {}),
      ...(typeof body.note === 'string' ? { note: body.note } : {}),
      ...(typeof body.reason === 'string' ? { reason: body.reason } : {}),
    };
    if (action === 'note' && !payload.note?.trim()) throw new ApiError(400, 'bad_request', 'send { "note": "..." }', [{ location: 'body.note' }]);
    if (row.status === 'resolved') {
      if (action !== 'note') throw new ApiError(409, 'incident_resolved', 'the incident is resolved: it is immutable except for appended notes');
      // post-mortem notes append to the closed incident's log
      const [{ last } = { last: 0 }] = await deps.db
        .select({ last: max(incidentEvents.seq) })
        .from(incidentEvents)
        .where(eq(incidentEvents.runId, row.runId));
      await deps.db.insert(incidentEvents).values({
        runId: row.runId,
        seq: (last ?? 0) + 1,
        tenant: row.tenant,
        kind: 'note',
        by: payload.by,
        detail: { note: payload.note, post_mortem: true },
        at: new Date().toISOString(),
      });
      res.json({ ...view(row), appended: 'note' });
      return;
    }
    const handle = deps.client.workflow.getHandle(row.id); // the running incident (it may have continued as new)
    try {
      const state =
        action === 'note'
          ? await handle.executeUpdate(noteUpdate, { args: [payload] })
          : await handle.executeUpdate(incidentUpdates[action as IncidentAction], { args: [payload] });
      const { events: _e, ...rest } = state;
      res.json(rest);
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        const message = err.cause?.message ?? err.message;
        throw /root cause/.test(message) ? new ApiError(422, 'root_cause_required', message) : new ApiError(409, 'invalid_transition', message);
      }
      if (err instanceof WorkflowNotFoundError) throw new ApiError(409, 'incident_closed', 'the incident has ended');
      throw err;
    }
  });
  return r;
}
