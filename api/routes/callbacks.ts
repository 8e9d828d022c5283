import { Router } from 'express';
import { eq } from 'drizzle-orm';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Db } from '../../store/db.js';
import { callbacks } from '../../store/schema.js';
import { callbackSignal } from '../../workflows/definitions.js';
import { ApiError, notFound } from '../errors.js';

/**
 * `POST /v1/callbacks/{token}`: asynchronous plugin results and delivery receipts. The token (random,
 * handed to one plugin call) is the credential, so plugins need no API key. A token is used once.
 */
export function callbackRoutes(deps: { db: Db; client: Client }): Router {
  const r = Router();
  r.post('/v1/callbacks/:token', async (req, res) => {
    const token = String(req.params.token);
    if (!/^[0-9a-f-]{36}$/.test(token)) throw notFound('callback token');
    const [cb] = await deps.db.select().from(callbacks).where(eq(callbacks.token, token));
    if (!cb) throw notFound('callback token');
    if (cb.receivedAt) throw new ApiError(409, 'already_received', 'this callback was already delivered');
    try {
      await deps.client.workflow.getHandle(cb.executionId).signal(callbackSignal, { token, result: req.body ?? null });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new ApiError(410, 'run_closed', 'the run that waited for this callback has ended');
      throw err;
    }
    await deps.db.update(callbacks).set({ receivedAt: new Date().toISOString() }).where(eq(callbacks.token, token));
    res.status(202).json({ token, execution_id: cb.executionId, status: 'delivered' });
  });
  return r;
}
