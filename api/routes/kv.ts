import { Router } from 'express';
import type { Db } from '../../store/db.js';
import { KvRepo } from '../../store/kv-repo.js';
import { requireRole } from '../auth.js';
import { body } from '../body-schemas.js';
import { ApiError, notFound } from '../errors.js';

const KEY = /^[A-Za-z0-9_.\-/]{1,200}$/;

/** Key-value store for `kv.get` and secrets for `kv.get_secret` (values of secrets are never returned). */
export function kvRoutes(deps: { db: Db }): Router {
  const r = Router();
  const repo = new KvRepo(deps.db);
  r.get('/v1/kv', requireRole('viewer'), async (req, res) => {
    res.json({ entries: await repo.list(req.principal!.tenant) });
  });
  r.put('/v1/kv/:key', requireRole('admin'), body('KvValue'), async (req, res) => {
    const key = String(req.params.key);
    if (!KEY.test(key))
      throw new ApiError(400, 'bad_request', "a key is 1-200 characters of letters, digits, '_', '.', '-' or '/'", [{ location: 'path.key' }]);
    const body = (req.body ?? {}) as { value?: unknown; secret?: unknown };
    if (!('value' in body)) throw new ApiError(400, 'bad_request', 'send { "value": ..., "secret": false }', [{ location: 'body.value' }]);
    await repo.put(req.principal!.tenant, key, body.value, body.secret === true);
    res.status(204).end();
  });
  r.delete('/v1/kv/:key', requireRole('admin'), async (req, res) => {
    if (!(await repo.remove(req.principal!.tenant, String(req.params.key)))) throw notFound(`kv key '${String(req.params.key)}'`);
    res.status(204).end();
  });
  return r;
}
