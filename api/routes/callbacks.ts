import { Router, type RequestHandler } from 'express';
import { body } from '../body-schemas.js';
import { and, eq, isNull } from 'drizzle-orm';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Db } from '../../store/db.js';
import { callbacks } from '../../store/schema.js';
import { callbackSignal } from '../../contracts/definitions.js';
import { closureWorkflowId } from '../../contracts/closure.js';
import { ApiError, notFound } from '../errors.js';
import { closureMetrics } from '../metrics.js';

/**
 * `POST /v1/callbacks/{token}`: asynchronous plugin results and delivery receipts. The token (random,
 * handed to one plugin call or notification) is the credential, so senders need no API key. A token is used once.
 * A plugin result goes to the waiting run; a delivery receipt is stored first (the closure reads it when it
 * starts or polls) and then signalled to the run's closure.
 */
export function callbackRoutes(deps: { db: Db; client: Client; parse: RequestHandler[] }): Router {
  const r = Router();
  /** The token is the credential: it is checked before the body is read. */
  const known: RequestHandler = async (req, res, next) => {
    const token = String(req.params.token);
    if (!/^[0-9a-f-]{36}$/.test(token)) throw notFound('callback token');
    const [cb] = await deps.db.select().from(callbacks).where(eq(callbacks.token, token));
    if (!cb) throw notFound('callback token');
    if (cb.receivedAt) throw new ApiError(409, 'already_received', 'this callback was already delivered');
    res.locals.callback = cb;
    next();
  };
  r.post('/v1/callbacks/:token', known, ...deps.parse, body('Callback'), async (req, res) => {
    const token = String(req.params.token);
    const cb = res.locals.callback as typeof callbacks.$inferSelect;
    const result = req.body ?? null;
    if (cb.kind === 'receipt') {
      const receivedAt = new Date();
      const [won] = await deps.db
        .update(callbacks)
        .set({ receivedAt: receivedAt.toISOString(), result })
        .where(and(eq(callbacks.token, token), isNull(callbacks.receivedAt)))
        .returning({ token: callbacks.token });
      if (!won) throw new ApiError(409, 'already_received', 'this callback was already delivered');
      closureMetrics.callbackLatency(cb.tenant, (receivedAt.getTime() - Date.parse(cb.createdAt)) / 1000);
      const closureId = cb.executionId.startsWith('closure:') ? cb.executionId : closureWorkflowId(cb.executionId);
      // no closure running (yet, or any more) is fine: the receipt is stored and read from the database
      await deps.client.workflow
        .getHandle(closureId)
        .signal(callbackSignal, { token, result })
        .catch((err: unknown) => {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        });
      res.status(202).json({ token, execution_id: cb.executionId, status: 'recorded' });
      return;
    }
    try {
      await deps.client.workflow.getHandle(cb.executionId).signal(callbackSignal, { token, result });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new ApiError(410, 'run_closed', 'the run that waited for this callback has ended');
      throw err;
    }
    await deps.db.update(callbacks).set({ receivedAt: new Date().toISOString(), result }).where(eq(callbacks.token, token));
    res.status(202).json({ token, execution_id: cb.executionId, status: 'delivered' });
  });
  return r;
}
