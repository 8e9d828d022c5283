import { Router } from 'express';
import { and, eq } from 'drizzle-orm';
import type { Db } from '../../store/db.js';
import { closures, reports } from '../../store/schema.js';
import { requireRole } from '../auth.js';
import { notFound } from '../errors.js';

/** `GET /v1/reports/{execution_id}`: the delivery report (JSON, or Markdown with `Accept: text/markdown`). */
export function reportRoutes(deps: { db: Db }): Router {
  const r = Router();
  r.get('/v1/reports/:id', requireRole('viewer'), async (req, res) => {
    const id = String(req.params.id);
    const tenant = req.principal!.tenant;
    const [row] = await deps.db
      .select()
      .from(reports)
      .where(and(eq(reports.executionId, id), eq(reports.tenant, tenant)));
    if (!row) {
      // the verdict and the raw closure data exist before the report does (pending_supplement)
      const [c] = await deps.db
        .select()
        .from(closures)
        .where(and(eq(closures.executionId, id), eq(closures.tenant, tenant)));
      if (!c) throw notFound(`report for '${id}'`);
      res
        .status(202)
        .json({ execution_id: id, status: 'pending', closure: { rule: c.rule, verdict: c.verdict, checks: c.checks, remediations: c.remediations } });
      return;
    }
    if (req.accepts(['application/json', 'text/markdown']) === 'text/markdown') {
      res.type('text/markdown; charset=utf-8').send(row.markdown);
      return;
    }
    res.json({ ...(row.report as object), audit_sent_at: row.auditSentAt ? new Date(row.auditSentAt).toISOString() : null });
  });
  return r;
}
