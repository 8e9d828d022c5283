import express, { Router } from 'express';
import type { EventRepo } from '../../store/events-repo.js';
import { requireRole } from '../auth.js';
import { notFound } from '../errors.js';
import type { Intake } from '../intake/intake.js';
import { SIGNATURE_HEADER } from '../intake/signature.js';

/** Event intake: authenticated by the tenant's signature (not an API key), so it is mounted before API-key auth. */
export function eventIntakeRoutes(deps: { intake: Intake; bodyLimit: string }): Router {
  const r = Router();
  // the raw bytes are what was signed: parse after verifying, never before
  const raw = express.raw({ type: () => true, limit: deps.bodyLimit });
  r.post(['/v1/events', '/internal/agent/events'], raw, async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    // ?wait=started: answer once the run has started (the synchronous answer of earlier versions)
    const wait = req.query.wait === 'started';
    const result = await deps.intake.submit(body, req.get(SIGNATURE_HEADER), 'http', { wait });
    res.status(202).json(result);
  });
  return r;
}

/** Stored events, for operators and `closeloop events replay`. */
export function eventReadRoutes(deps: { events: EventRepo }): Router {
  const r = Router();
  r.get('/v1/events/:id', requireRole('viewer'), async (req, res) => {
    const row = await deps.events.byId(req.principal!.tenant, String(req.params.id));
    if (!row) throw notFound(`event '${String(req.params.id)}'`);
    res.json({
      id: row.id,
      tenant: row.tenant,
      idempotency_key: row.idempotencyKey,
      type: row.type,
      transport: row.transport,
      status: row.status,
      strategy: row.strategyId ? `${row.strategyId}@${row.strategyVersion}` : null,
      execution_id: row.executionId,
      error: row.error,
      received_at: row.receivedAt,
      envelope: row.envelope,
    });
  });
  return r;
}
