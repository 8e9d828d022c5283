import express, { Router } from 'express';
import { and, eq, inArray } from 'drizzle-orm';
import type { EventRepo, EventRow, InboxLaunch } from '../../store/events-repo.js';
import type { Db } from '../../store/db.js';
import { manualReviews } from '../../store/schema.js';
import { requireRole } from '../auth.js';
import { ApiError, notFound } from '../errors.js';
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
export function eventReadRoutes(deps: { events: EventRepo; db: Db }): Router {
  const r = Router();
  r.get('/v1/events', requireRole('viewer'), async (req, res) => {
    const q = req.query as Record<string, unknown>;
    const status = typeof q.status === 'string' ? q.status : undefined;
    if (status !== undefined && !EVENT_STATUSES.includes(status))
      throw new ApiError(400, 'bad_request', `status must be one of ${EVENT_STATUSES.join(', ')}`, [{ location: 'query.status' }]);
    const before = typeof q.cursor === 'string' ? Buffer.from(q.cursor, 'base64url').toString() : undefined;
    if (before !== undefined && !TIMESTAMP.test(before))
      throw new ApiError(400, 'bad_request', 'cursor is not one this API gave', [{ location: 'query.cursor' }]);
    const limit = 50;
    const rows = await deps.events.list(req.principal!.tenant, { ...(status ? { status } : {}), ...(before ? { before } : {}), limit });
    // an unmatched event's candidates are in its manual-review item
    const keys = rows.filter((e) => e.status === 'unmatched').map((e) => e.idempotencyKey);
    const reviews = keys.length
      ? await deps.db
          .select({ key: manualReviews.eventKey, id: manualReviews.id, reason: manualReviews.reason, detail: manualReviews.detail })
          .from(manualReviews)
          .where(and(eq(manualReviews.tenant, req.principal!.tenant), inArray(manualReviews.eventKey, keys)))
      : [];
    const reviewOf = new Map(reviews.map((m) => [m.key, m]));
    const last = rows.length === limit ? rows[rows.length - 1] : undefined;
    res.json({
      events: rows.map((e) => {
        const review = reviewOf.get(e.idempotencyKey);
        const candidates = (e.launch as InboxLaunch | null)?.candidates ?? (review?.detail as { candidates?: unknown[] } | undefined)?.candidates ?? null;
        return { ...eventView(e, false), candidates, review: review ? { id: review.id, reason: review.reason } : null };
      }),
      next_cursor: last ? Buffer.from(last.receivedAt).toString('base64url') : null,
    });
  });
  r.get('/v1/events/:id', requireRole('viewer'), async (req, res) => {
    const row = await deps.events.byId(req.principal!.tenant, String(req.params.id));
    if (!row) throw notFound(`event '${String(req.params.id)}'`);
    res.json(eventView(row, true));
  });
  return r;
}

// a received_at as PostgreSQL writes it (microseconds kept, so no event falls between two pages)
const TIMESTAMP = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d(:?\d\d)?)$/;
const EVENT_STATUSES = ['received', 'accepted', 'started', 'unmatched', 'failed'];

function eventView(row: EventRow, envelope: boolean) {
  return {
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
    ...(envelope ? { envelope: row.envelope } : {}),
  };
}
