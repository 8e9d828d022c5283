import { Router, type Request, type Response } from 'express';
import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../../store/db.js';
import { manualReviews } from '../../store/schema.js';
import { requireRole } from '../auth.js';
import { body } from '../body-schemas.js';
import { ApiError, notFound } from '../errors.js';

const REVIEW_STATUSES = ['open', 'resolved', 'dismissed'];
const iso = (t: string | null) => (t ? new Date(t).toISOString() : null);

/** The manual-review queue: events no strategy took (or whose run could not start), for a person to settle. */
export function reviewRoutes(deps: { db: Db }): Router {
  const r = Router();
  const view = (m: typeof manualReviews.$inferSelect) => ({
    id: m.id,
    reason: m.reason,
    event_key: m.eventKey,
    execution_id: m.executionId,
    detail: m.detail,
    status: m.status,
    created_at: iso(m.createdAt),
    resolved_at: iso(m.resolvedAt),
    resolved_by: m.resolvedBy,
  });

  r.get('/v1/reviews', requireRole('viewer'), async (req, res) => {
    const status = typeof req.query.status === 'string' ? req.query.status : undefined;
    if (status !== undefined && !REVIEW_STATUSES.includes(status))
      throw new ApiError(400, 'bad_request', `status must be one of ${REVIEW_STATUSES.join(', ')}`, [{ location: 'query.status' }]);
    const rows = await deps.db
      .select()
      .from(manualReviews)
      .where(and(eq(manualReviews.tenant, req.principal!.tenant), status ? eq(manualReviews.status, status) : undefined))
      .orderBy(desc(manualReviews.createdAt))
      .limit(200);
    res.json({ reviews: rows.map(view) });
  });

  /** `resolve` (handled, e.g. a run was started by hand) or `dismiss` (nothing to do); a note is kept in the detail. */
  const settle = (action: 'resolve' | 'dismiss') => async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const tenant = req.principal!.tenant;
    const [row] = await deps.db
      .select()
      .from(manualReviews)
      .where(and(eq(manualReviews.id, id), eq(manualReviews.tenant, tenant)));
    if (!row) throw notFound(`review '${id}'`);
    const note = (req.body as { note?: string } | undefined)?.note;
    const [updated] = await deps.db
      .update(manualReviews)
      .set({
        status: action === 'resolve' ? 'resolved' : 'dismissed',
        resolvedAt: new Date().toISOString(),
        resolvedBy: req.principal!.keyId,
        ...(note ? { detail: { ...(row.detail as object), note } } : {}),
      })
      .where(and(eq(manualReviews.id, id), eq(manualReviews.tenant, tenant), eq(manualReviews.status, 'open')))
      .returning();
    if (!updated) throw new ApiError(409, 'not_open', `review '${id}' is already ${row.status}`);
    res.json(view(updated));
  };
  r.post('/v1/reviews/:id/resolve', requireRole('operator'), body('ReviewAction'), settle('resolve'));
  r.post('/v1/reviews/:id/dismiss', requireRole('operator'), body('ReviewAction'), settle('dismiss'));
  return r;
}
