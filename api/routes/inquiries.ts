import { Router } from 'express';
import { and, asc, eq } from 'drizzle-orm';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { createAjv } from '../../dsl/ajv.js';
import type { Db } from '../../store/db.js';
import { inquiries } from '../../store/schema.js';
import { inquiryRespondUpdate } from '../../contracts/definitions.js';
import { FAILURE } from '../../contracts/failures.js';
import { requireRole } from '../auth.js';
import { body } from '../body-schemas.js';
import { ApiError, notFound } from '../errors.js';

const ajv = createAjv();
const iso = (t: string | null) => (t ? new Date(t).toISOString() : null);

export function inquiryRoutes(deps: { db: Db; client: Client }): Router {
  const r = Router();

  r.get('/v1/inquiries', requireRole('viewer'), async (req, res) => {
    const status = typeof req.query.status === 'string' ? req.query.status : undefined;
    const rows = await deps.db
      .select()
      .from(inquiries)
      .where(and(eq(inquiries.tenant, req.principal!.tenant), status ? eq(inquiries.status, status) : undefined))
      .orderBy(asc(inquiries.createdAt))
      .limit(500);
    res.json({
      inquiries: rows.map((i) => ({
        id: i.id,
        execution_id: i.executionId,
        task: i.task,
        prompt: i.prompt,
        schema: i.schema,
        assigned_to: i.assignedTo,
        status: i.status,
        deadline: iso(i.deadline),
        response: i.response,
        responded_by: i.respondedBy,
        created_at: iso(i.createdAt),
      })),
    });
  });

  /** Validates against the inquiry's schema (422), then answers through the run's `inquiry.respond` update. */
  r.post('/v1/inquiries/:id/respond', requireRole('approver'), body('InquiryAnswer'), async (req, res) => {
    const id = String(req.params.id);
    const [inq] = await deps.db
      .select()
      .from(inquiries)
      .where(and(eq(inquiries.id, id), eq(inquiries.tenant, req.principal!.tenant)));
    if (!inq) throw notFound(`inquiry '${id}'`);
    if (inq.status !== 'pending') throw new ApiError(409, 'not_pending', `inquiry '${id}' is already ${inq.status}`);
    const body = (req.body ?? {}) as { response?: unknown };
    if (!('response' in body)) throw new ApiError(400, 'bad_request', 'send { "response": ... }', [{ location: 'body.response' }]);
    if (inq.schema) {
      const validate = ajv.compile(inq.schema as object);
      if (!validate(body.response)) {
        throw new ApiError(
          422,
          'invalid_response',
          'the response does not match the inquiry schema',
          (validate.errors ?? []).map((e) => {
            // a missing field is reported at the field, so a form can show it there
            const missing = e.keyword === 'required' ? `.${String((e.params as { missingProperty?: string }).missingProperty)}` : '';
            return { location: `response${e.instancePath.replace(/\//g, '.')}${missing}`, message: e.message };
          }),
        );
      }
    }
    try {
      const accepted = await deps.client.workflow
        .getHandle(inq.executionId)
        .executeUpdate(inquiryRespondUpdate, { args: [{ inquiry_id: id, response: body.response, by: req.principal!.keyId }] });
      res.json({ id, status: 'responded', response: accepted });
    } catch (err) {
      throw await refusedAnswer(deps.db, id, inq.executionId, err);
    }
  });
  return r;
}

/** What a failed `inquiry.respond` update means to the caller (409 or 422), or the error itself. */
async function refusedAnswer(db: Db, id: string, executionId: string, err: unknown): Promise<unknown> {
  if (err instanceof WorkflowUpdateFailedError) {
    if ((err.cause as { type?: string } | undefined)?.type === FAILURE.inquiryAnswered)
      return new ApiError(409, 'not_pending', err.cause?.message ?? `inquiry '${id}' is no longer pending`);
    return new ApiError(422, 'invalid_response', err.cause?.message ?? err.message);
  }
  if (!(err instanceof WorkflowNotFoundError)) return err;
  // the run has ended. If someone else's answer was taken meanwhile (on another API process) and the
  // run went on to its end, that answer stands: 'not_pending'. Otherwise the run ended before anyone
  // answered (cancelled, terminated, timed out): nothing will read the answer.
  const [expired] = await db
    .update(inquiries)
    .set({ status: 'expired' })
    .where(and(eq(inquiries.id, id), eq(inquiries.status, 'pending')))
    .returning({ id: inquiries.id });
  if (!expired) return new ApiError(409, 'not_pending', `inquiry '${id}' was answered meanwhile; run '${executionId}' has ended`);
  return new ApiError(409, 'run_ended', `run '${executionId}' has ended; inquiry '${id}' can no longer be answered`);
}
